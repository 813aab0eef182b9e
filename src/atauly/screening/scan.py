"""The proactive scan: every family of the recorded view, partition by partition, on Dask.

For each partition (a region: ``recorded/families/part-KATO.parquet``) the scan validates the data, applies
the law (``atauly.law``), scores the families with a stored model (``atauly.model``), computes their
well-being level (``atauly.registry.wellbeing``), reads their ASP status from ``decisions/``, and selects
**candidates**: entitled by law or likely entitled by the model, not receiving ASP, not applying this
quarter, not refused in this or the previous quarter. Candidates are ranked by need within their
district. Each partition's result is written atomically (a temporary file renamed into place), so a
scan killed mid-way resumes from the partitions it finished, losing and duplicating nothing.

Results do not depend on how the work is spread: every partition is computed the same way whether it
runs in this process (``workers=1``), on a local Dask cluster or on a remote one, and ranks are computed
within a partition (districts never span regions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from atauly.registry.quarter import Quarter

from .columns import CANDIDATE_COLUMNS, EXTRA_COLUMNS
from .partition import (
    ScanError,
    ScanJob,
    cached_recommender,
    partition_size,
    population_calibrated,
    scan_partition,
)

#: Allocator settings for the scan's worker processes. A partition allocates and frees a few GB of
#: arrays; by default glibc returns freed memory to the kernel at once (Dask's nanny even sets a 64 KiB
#: trim threshold) and mimalloc (Arrow's pool) purges it after 10 ms, so the next partition faults every
#: page back in and the kernel zeroes it again: a third of the scan's CPU went to the kernel. Keeping the
#: freed memory for reuse costs some resident memory (a worker's peak stays at its largest partition).
#: Set in a process's environment before it starts: in LocalCluster workers (below) and, for workers
#: started by hand, with ``env $(atauly screen worker-env) dask worker …`` (see docs/screening.md).
WORKER_ENV = {
    "MALLOC_TRIM_THRESHOLD_": str(1 << 36),  # never trim the heap's top
    "MALLOC_TOP_PAD_": str(256 << 20),  # grow the heap in steps of 256 MiB
    "MALLOC_MMAP_THRESHOLD_": str(1 << 32),  # large arrays from the (reused) heap, not fresh mmaps
    "MIMALLOC_PURGE_DELAY": "-1",  # Arrow's mimalloc keeps freed pages
}


def partitions(registry: Path) -> list[str]:
    """Partition names of the recorded view: one per ``part-*.parquet`` of ``families``."""
    fam = registry / "recorded" / "families"
    if fam.is_dir():
        parts = sorted(p.stem for p in fam.glob("part-*.parquet"))
        if parts:
            return parts
    from atauly.registry.io import resolve_view

    resolve_view(registry, "recorded")  # raises a clear error when there is no registry here
    return ["all"]


def scan_with_settings(
    registry: Path | str,
    quarter: str,
    out: Path | str,
    model: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[dict], None] | None = None,
    capacity: int | None = None,
    capacity_per_1000: float | None = None,
    min_probability: float | None = None,
    settings=None,
) -> dict:
    """:func:`scan` with what is not given taken from the settings (``ATAULY_WORKERS``, the model store,
    ``ATAULY_SCAN_CAPACITY``, ``ATAULY_SCAN_CAPACITY_PER_1000``, ``ATAULY_SCAN_MIN_PROBABILITY``)."""
    from atauly.settings import get_settings

    settings = settings or get_settings()
    workers = settings.workers if workers is None else workers
    if workers < 1:
        raise ScanError("--workers must be at least 1")
    return scan(
        registry,
        quarter,
        out,
        settings.models_dir,
        model,
        workers,
        scheduler,
        progress,
        capacity_per_1000=settings.scan_capacity_per_1000 if capacity_per_1000 is None else capacity_per_1000,
        capacity=settings.scan_capacity if capacity is None else capacity,
        min_probability=settings.scan_min_probability if min_probability is None else min_probability,
    )


def scan(
    registry: Path | str,
    quarter: str,
    out: Path | str,
    store: Path | str,
    model: str,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[dict], None] | None = None,
    capacity_per_1000: float = 4.0,
    capacity: int | None = None,
    min_probability: float = 0.5,
) -> dict:
    """Scan every partition not already done in ``out``; returns the run's manifest.

    ``workers=1`` without a scheduler runs in this process; otherwise a Dask ``LocalCluster`` of
    ``workers`` single-threaded processes, or the cluster at ``scheduler`` (``tcp://host:port``).
    Offers: each district's ``capacity`` (or ⌈families × ``capacity_per_1000`` / 1000⌉) best-ranked
    candidates whose population-calibrated probability is at least ``min_probability``.
    """
    if capacity is not None and capacity < 0 or capacity_per_1000 < 0:
        raise ScanError("the capacity must not be negative")
    if not 0 <= min_probability <= 1:
        raise ScanError("the minimum probability must be between 0 and 1")
    offers = {
        "capacity_per_1000": float(capacity_per_1000),
        "capacity": capacity,
        "min_probability": float(min_probability),
    }
    registry, out, store = Path(registry).resolve(), Path(out).resolve(), Path(store).resolve()
    quarter = str(Quarter.parse(quarter))
    parts = partitions(registry)
    # A local cluster takes seconds to start (processes, imports, the law's parameters): it starts in
    # the background while this process checks the model and the output directory.
    starting = _ClusterStart(workers) if workers > 1 and scheduler is None else None
    try:
        return _scan(
            registry, quarter, out, store, model, parts, workers, scheduler, progress, starting, offers
        )
    finally:
        if starting is not None:
            starting.close()


def _scan(
    registry, quarter, out, store, model, parts, workers, scheduler, progress, starting, offers
) -> dict:
    from atauly.model import ModelStore

    name, version = ModelStore(store).resolve(model)
    # Loaded (and checked) once here: a tampered model stops the scan. In-process runs reuse it; Dask
    # workers receive it instead of each reading and auditing the skops file.
    recommender = cached_recommender(str(store), f"{name}@{version}")
    if population_calibrated(recommender):
        # A model whose sample scores this pandas hashes differently stops here, before any partition;
        # one trained before the probe was stored is scanned with a warning.
        from atauly.model.verified import check_sample_hash

        from .partition import scan_calibration

        check_sample_hash(scan_calibration(recommender), f"{name}@{version}")
    manifest = {
        "registry": str(registry),
        "quarter": quarter,
        "model": f"{name}@{version}",
        "partitions": parts,
        "offers": offers,
        "population_calibrated": population_calibrated(recommender),
    }
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "scan.json"
    if manifest_path.exists():
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        for key in ("registry", "quarter", "model", "offers"):
            if previous.get(key) != manifest[key]:
                raise ScanError(
                    f"{out} holds a scan of another {key} ({previous.get(key)} ≠ {manifest[key]}); "
                    "use a new --out directory"
                )
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    done = (
        {p.stem for p in (out / "candidates").glob("*.parquet")} if (out / "candidates").is_dir() else set()
    )
    # Largest partitions first: a large region started last would leave the other workers idle.
    todo = sorted((p for p in parts if p not in done), key=lambda p: -partition_size(registry, p))
    jobs = [
        ScanJob(str(registry), p, quarter, str(store), f"{name}@{version}", str(out), **offers) for p in todo
    ]
    for stale in (*out.glob("candidates/.*.tmp"), *out.glob("summary/.*.tmp")):
        stale.unlink()  # a partition file half-written by a killed run (never renamed into place)
    results = []
    if jobs and workers <= 1 and scheduler is None:
        for job in jobs:
            results.append(scan_partition(job, recommender))
            if progress:
                progress(results[-1])
    elif jobs:
        results = _on_dask(jobs, starting, scheduler, progress, recommender)
    manifest |= {"resumed_from": len(done), "scanned_now": [r["partition"] for r in results]}
    return manifest


class _ClusterStart:
    """A Dask ``LocalCluster`` of single-threaded worker processes, started in a background thread.
    Its workers get the allocator settings (:data:`WORKER_ENV`) and preload :mod:`atauly.screening.worker`
    (imports and the law's parameters) while they start."""

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="atauly-cluster")
        self._future = self._pool.submit(self._start, workers)

    @staticmethod
    def _start(workers: int):
        import dask
        from distributed import LocalCluster

        env = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENV}
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            return LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # No dashboard, and the scheduler's small HTTP server on a free port (not 8787, which
                # another scan or cluster on the machine may hold).
                scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
                silence_logs=40,
                preload=["atauly.screening.worker"],
            )

    def cluster(self):
        return self._future.result()

    def close(self) -> None:
        """Stop the cluster (once it has started; a failed start has nothing to stop)."""
        try:
            cluster = self._future.result()
        except Exception:  # noqa: BLE001 - the start's own error was raised by cluster() already
            cluster = None
        try:
            if cluster is not None:
                cluster.close()
        finally:
            self._pool.shutdown()


def _on_dask(jobs: list[ScanJob], starting, scheduler: str | None, progress, recommender) -> list[dict]:
    from distributed import Client, as_completed

    client = Client(starting.cluster()) if scheduler is None else Client(scheduler, timeout=30)
    try:
        model = client.scatter(recommender, broadcast=True, hash=False)
        futures = client.map(scan_partition, jobs, recommender=model, pure=False)
        results = []
        for future in as_completed(futures):
            results.append(future.result())
            if progress:
                progress(results[-1])
        return results
    finally:
        client.close()


def read_candidates(out: Path | str) -> pd.DataFrame:
    """All partitions of a scan's ``candidates/``, in a stable order (region, district, rank)."""
    path = Path(out) / "candidates"
    if not path.is_dir():
        raise ScanError(f"no candidates/ in {out}: run `atauly screen` first")
    frames = [pd.read_parquet(p) for p in sorted(path.glob("*.parquet"))]
    if not frames:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS + EXTRA_COLUMNS)
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["region", "district", "rank"], kind="mergesort").reset_index(drop=True)
