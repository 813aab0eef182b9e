"""The national plan's population without a law result at hand: the law applied region part by region part.

``atauly plans national`` without ``--law`` used to read, validate and put the whole registry through the law
at once: ~6 million families, ~20 million persons and their incomes in memory together (≈18 GB at full
scale). A plan needs only the families the law finds entitled to conditional ASP (about one in seven) and
the number of all families by district. Here each region's part (``families/``, ``persons/``, ``incomes/``
written by ``atauly registry generate``, one file per region) is read, validated by the registry's own
validator, put through the law, and only its conditional families (with their members) are
kept (:func:`atauly.plans.part_work.part_result`); the part is then freed. ``WORKERS`` worker processes
work the parts, one part each at a time (:mod:`atauly.plans.part_worker`); with one, every part is worked
in this process, one after the other.

The result is the one the whole registry gives (``tests/plans/test_by_part.py``): the same validator on the
same rows, the same law on the same families (the law is computed family by family), the same population
built from the conditional families (as with ``--law``, :mod:`atauly.plans.read`). What a part cannot see
alone is checked across parts: IINs repeated in two parts, and family and person ids whose ranges overlap
from part to part (ids that begin with the region never do). Anything unusual — tables that are not
Parquet parts paired by name, a problem in any part, an IIN in two parts, overlapping id ranges — returns
``None`` and the caller reads the whole registry as before, so problems are reported (or skipped with
``--skip-invalid``) exactly as before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atauly.registry import Registry, resolve_view
from atauly.registry.io import _find, parquet_files

from .part_work import Part, _give_back_memory, part_result
from .people import Population, build_population

__all__ = ["PartsResult", "population_by_parts"]

#: Worker processes that read, validate and put parts through the law, each one part at a time
#: (:mod:`atauly.plans.part_worker`); 1: every part in this process, one after the other. Bounded by
#: the cores and the parts. Threads gained nothing here (the validator, the law and the id hashing hold the
#: GIL) and two parts' C heaps in one process went over 4 GB; worker processes hand every part's memory
#: back to the system when they end.
WORKERS = 2


@dataclass
class PartsResult:
    population: Population | None  # None: no family of the region asked for
    coverage: object  # atauly.law.compute.IncomeCoverage over all parts (the whole registry's)


def _parts(directory, view) -> list[tuple[Path, Path, Path]] | None:
    """(families, persons, incomes) part files of the same name; None unless every table is so split."""
    base = resolve_view(directory, view)
    files = [parquet_files(p) if (p := _find(base, name)) is not None else None for name in TABLES]
    if any(f is None for f in files):
        return None
    names = [[p.name for p in f] for f in files]
    if not (names[0] == names[1] == names[2]) or len(files[0]) < 2:
        return None  # one file per table: the whole path reads it as cheaply
    return list(zip(*files, strict=True))


TABLES = ("families", "persons", "incomes")


def population_by_parts(
    directory,
    view: str | None,
    quarter,
    catalog,
    region: str | None = None,
    families=None,
    workers: int | None = None,
    scratch: Path | None = None,
) -> PartsResult | None:
    """The population :func:`atauly.plans.national.population` gives for the whole registry (of ``region``
    when given; only ``families`` among the conditional ones when given) and the income coverage
    :func:`atauly.law.compute.income_coverage` gives for it — computed part by part. ``None`` when the
    registry is not split in region parts, or when any part has a data problem or shares an identifier
    with another: then read the registry whole (its validation reports the problems). ``scratch``: where the
    worker processes' files go (:func:`atauly.plans.part_worker.in_processes`)."""
    from atauly.law.simulation import Quarter

    parts = _parts(directory, view)
    if parts is None:
        return None
    q = Quarter.parse(str(quarter))
    wanted = (
        None if families is None else pa.array(sorted({str(f) for f in families}), type=pa.large_string())
    )
    sizes = [sum(p.stat().st_size for p in paths) for paths in parts]
    n = max(1, min(WORKERS if workers is None else workers, os.cpu_count() or 1, len(parts)))
    if n > 1:
        from .part_worker import in_processes

        done = in_processes(parts, sizes, n, str(q), region, wanted, scratch)
    else:
        done = _in_this_process(parts, q, region, wanted)
    if done is None or _repeated_across(done):
        return None
    for d in done:
        d.iins = None
    _give_back_memory()
    district_families = _sum([d.districts for d in done])
    region_families = _sum([d.regions for d in done])
    coverage = _merge_coverage([d.coverage for d in done])
    if region is not None and not len(region_families):
        return PartsResult(None, coverage)  # the caller says so, after the incomes' check (as before)
    subs = [d for d in done if d.sub is not None and len(d.sub.families)]
    if not subs:  # no conditional family in scope: the whole path says what then
        return None
    reg = _concat([d.sub for d in subs])
    law = pd.concat([d.law for d in subs], ignore_index=True)
    del done, subs
    pop = build_population(
        reg,
        law,
        catalog.planning.equity_min_children,
        district_families=district_families,
        region_families=region_families,
    )
    return PartsResult(pop, coverage)


def _in_this_process(parts, q, region: str | None, wanted: pa.Array | None) -> list[Part] | None:
    """Every part's :class:`Part`, in the files' order, one part at a time in this process; None as soon
    as a part has a problem (the parts after it are not read)."""
    from atauly.law.system import tax_benefit_system

    tbs = tax_benefit_system()
    done = []
    for paths in parts:
        done.append(part_result(paths, q, region, wanted, tbs))
        if not done[-1].ok:
            return None
    return done


def _repeated_across(done: list[Part]) -> bool:
    """Perhaps an identifier in two parts (each part's own repeats were found by its validation). Family and
    person ids: the parts' ranges must be apart (a registry's ids begin with the region, as the generator
    writes them); ranges that overlap count as a repeat, and the whole read decides. IINs, which begin with
    the birth date, are compared value by value (as 64-bit numbers, sorted, when all are 12 digits)."""
    for k in range(2):
        bounds = sorted(d.ranges[k] for d in done if d.ranges[k][0] is not None)
        if any(prev[1] >= nxt[0] for prev, nxt in zip(bounds, bounds[1:], strict=False)):
            return True
    arrays = [d.iins for d in done if len(d.iins)]
    if len({a.type for a in arrays}) > 1:  # numbers in some parts, text in others
        arrays = [
            a if pa.types.is_large_string(a.type) else pc.utf8_lpad(a.cast(pa.large_string()), 12, "0")
            for a in arrays
        ]
    if len(arrays) < 2:
        return False
    if pa.types.is_integer(arrays[0].type):
        values = np.sort(np.concatenate([a.to_numpy(zero_copy_only=False) for a in arrays]))
        return bool((values[1:] == values[:-1]).any())
    return pc.count_distinct(pa.chunked_array(arrays), mode="all").as_py() != sum(len(a) for a in arrays)


def _concat(regs: list[Registry]) -> Registry | None:
    if not regs:
        return None
    if len(regs) == 1:
        return regs[0]
    person_family, income_person = [], []
    n_fam = n_per = 0
    for r in regs:
        pf, ip = r.positions()
        person_family.append(pf + n_fam)
        income_person.append(ip + n_per)
        n_fam += len(r.families)
        n_per += len(r.persons)
    return Registry(
        pd.concat([r.families for r in regs], ignore_index=True),
        pd.concat([r.persons for r in regs], ignore_index=True),
        pd.concat([r.incomes for r in regs], ignore_index=True),
        np.concatenate(person_family),
        np.concatenate(income_person),
    )


def _sum(parts: list[pd.Series]) -> pd.Series:
    total: dict[str, int] = {}
    for part in parts:
        for k, v in part.items():
            total[str(k)] = total.get(str(k), 0) + int(v)
    return pd.Series(total, dtype="int64").sort_values(ascending=False, kind="stable")


def _merge_coverage(parts):
    from dataclasses import replace

    first = parts[0]
    return replace(
        first,
        families=sum(p.families for p in parts),
        rows=sum(p.rows for p in parts),
        families_without_income=sum(p.families_without_income for p in parts),
        months_held=tuple(sorted({m for p in parts for m in p.months_held})),
        informal_rows=sum(p.informal_rows for p in parts),
    )
