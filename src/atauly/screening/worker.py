"""Preloaded into the scan's local Dask workers (``LocalCluster(preload=[...])``): the imports and the
law's tax-benefit system are made while the cluster starts — in parallel with the scan's own checks —
rather than at the start of each worker's first partition. Workers started by hand may preload it too:
``dask worker tcp://HOST:PORT --nthreads 1 --preload atauly.screening.worker``."""

from __future__ import annotations


def dask_setup(worker) -> None:  # noqa: ARG001 - the hook Dask calls with the starting worker
    import atauly.law.compute  # noqa: F401
    import atauly.model  # noqa: F401
    import atauly.registry.wellbeing  # noqa: F401
    import atauly.screening.scan  # noqa: F401
    from atauly.law.system import tax_benefit_system

    tax_benefit_system()
