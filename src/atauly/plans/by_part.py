"""The national plan's population without a law result at hand: the law applied region part by region part.

``atauly plans national`` without ``--law`` used to read, validate and put the whole registry through the law
at once: ~6 million families, ~20 million persons and their incomes in memory together (≈18 GB at full
scale). A plan needs only the families the law finds entitled to conditional ASP (about one in seven) and
the number of all families by district. Here each region's part (``families/``, ``persons/``, ``incomes/``
written by ``atauly registry generate``, one file per region) is read, validated by the registry's own
validator, put through the law, and only its conditional families (with their members) are
kept; the part is then freed (``WORKERS`` parts at a time, in threads; Arrow reads each part's files in
threads of its own).

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
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atauly.registry import Registry, resolve_view
from atauly.registry.arrow import arrow_text
from atauly.registry.io import _find, parquet_files, read_parquet

from .people import Population, build_population, conditional_mask, district_of

__all__ = ["PartsResult", "population_by_parts"]

#: Parts processed at once (each holds one region's tables; the largest is ~1/10 of the country). One: at
#: full scale two threads ended sooner (398 s against 432 s wall, at load 6-10) but peaked at 5.1 GB
#: against 4.1 GB (the C heap keeps what each thread's parts freed), over the plan's 4 GB.
WORKERS = 1
#: Parts run together only while their files add up to at most this many times the largest part's: the
#: largest runs with small ones only (peak memory ~1.5 largest parts, not 2).
BUDGET = 1.5


class _Budget:
    """Bytes of parts in flight: a part waits while others are in flight and it would exceed the limit."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self.cond = threading.Condition()

    @contextmanager
    def hold(self, size: int):
        with self.cond:
            self.cond.wait_for(lambda: self.used == 0 or self.used + size <= self.limit)
            self.used += size
        try:
            yield
        finally:
            with self.cond:
                self.used -= size
                self.cond.notify_all()


@dataclass
class PartsResult:
    population: Population | None  # None: no family of the region asked for
    coverage: object  # atauly.law.compute.IncomeCoverage over all parts (the whole registry's)


@dataclass
class _Part:
    sub: Registry | None  # the part's conditional families (in scope), their members and incomes
    law: pd.DataFrame | None  # the law's rows for them
    coverage: object
    districts: pd.Series  # all families of the part (of the region in scope) by district
    regions: pd.Series
    ranges: tuple[tuple, tuple]  # (min, max) of the family ids and of the person ids: apart across parts
    iins: pa.Array  # compared across parts value by value
    ok: bool


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
) -> PartsResult | None:
    """The population :func:`atauly.plans.national.population` gives for the whole registry (of ``region``
    when given; only ``families`` among the conditional ones when given) and the income coverage
    :func:`atauly.law.compute.income_coverage` gives for it — computed part by part. ``None`` when the
    registry is not split in region parts, or when any part has a data problem or shares an identifier
    with another: then read the registry whole (its validation reports the problems)."""
    from atauly.law.compute import compute, income_coverage
    from atauly.law.simulation import Quarter
    from atauly.law.system import tax_benefit_system
    from atauly.registry.validate import validate

    parts = _parts(directory, view)
    if parts is None:
        return None
    q = Quarter.parse(str(quarter))
    tbs = tax_benefit_system()
    wanted = (
        None if families is None else pa.array(sorted({str(f) for f in families}), type=pa.large_string())
    )
    stop = threading.Event()
    law_lock = threading.Lock()  # one OpenFisca simulation at a time (reads and checks run in parallel)

    sizes = [sum(p.stat().st_size for p in paths) for paths in parts]
    budget = _Budget(int(BUDGET * max(sizes)))

    def one(k: int) -> _Part | None:
        with budget.hold(sizes[k]):
            return None if stop.is_set() else _one(parts[k])

    def _one(paths) -> _Part | None:
        fam, per, inc, report = validate(*(read_parquet(p) for p in paths))
        ranges = (_range(fam["family_id"]), _range(per["person_id"]))
        iins = _iins(per["iin"])
        if not report.ok:
            stop.set()
            return _Part(None, None, None, pd.Series(), pd.Series(), ranges, iins, False)
        reg = Registry(fam, per, inc, report.person_family, report.income_person)
        coverage = income_coverage(reg, q)
        if region is not None:
            here = (fam["region_kato"].astype(str) == str(region)).to_numpy(dtype=bool)
            reg = reg if here.all() else reg.take(here)
        districts = district_of(reg.families).value_counts()
        regions = reg.families["region_kato"].astype(str).value_counts()
        sub = law = None
        if len(reg.families):
            with law_lock:
                law = compute(reg, q, tbs)
            mask = conditional_mask(law)
            if wanted is not None:
                mask &= pc.is_in(arrow_text(reg.families["family_id"]), value_set=wanted).to_numpy(
                    zero_copy_only=False
                )
            sub = _without_incomes(reg, mask)
            law = law.loc[mask].reset_index(drop=True)
        del fam, per, inc, reg, report
        _give_back_memory()
        return _Part(sub, law, coverage, districts, regions, ranges, iins, True)

    n = max(1, min(workers or WORKERS, os.cpu_count() or 1, len(parts)))
    order = sorted(range(len(parts)), key=lambda k: -sizes[k])  # the largest first, the small ones fill in
    with ThreadPoolExecutor(max_workers=n) as pool:
        found = dict(zip(order, pool.map(one, order), strict=True))
    done = [found[k] for k in range(len(parts))]  # back in the files' order: the whole read's order
    del found
    if any(d is None or not d.ok for d in done) or _repeated_across(done):
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


def _without_incomes(reg: Registry, mask: np.ndarray) -> Registry:
    """The conditional families (``mask``) and their members without their income rows: the law's result
    holds what a plan needs of incomes (per-capita income, poverty line), as with ``--law``
    (:mod:`atauly.plans.read`). ``reg.take(mask)`` less its incomes, without copying them first."""
    person_family, _ = reg.positions()
    person_mask = mask[person_family]
    new_family = np.cumsum(mask) - 1
    return Registry(
        reg.families.loc[mask].reset_index(drop=True),
        reg.persons.loc[person_mask].reset_index(drop=True),
        _empty_like(reg.incomes),
        new_family[person_family[person_mask]],
        np.zeros(0, dtype=np.int64),
    )


def _empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    """No rows, ``frame``'s columns and types. Built anew: an empty slice (even copied: Arrow arrays are
    immutable, so pandas copies only their wrapper) would keep the part's income buffers in memory."""
    return pd.DataFrame({c: pd.Series(pd.array([], dtype=frame[c].dtype)) for c in frame.columns})


def _give_back_memory() -> None:
    """Return a finished part's memory to the system: Arrow's pool and the C heap keep freed blocks, which
    part after part would add up to the whole registry's size in resident memory."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _iins(values: pd.Series) -> pa.Array:
    """A part's IINs to compare across parts: blank ones left out (the validator does not compare them),
    as 64-bit integers when all are 12 digits (a third of the memory of the text)."""
    text = arrow_text(values)
    text = text.filter(pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False))
    if (
        len(text)
        and pc.all(pc.utf8_is_digit(text)).as_py()
        and pc.all(pc.equal(pc.utf8_length(text), 12)).as_py()
    ):
        return pc.cast(text, pa.int64())
    return text


def _range(values: pd.Series) -> tuple:
    found = pc.min_max(arrow_text(values))
    return found["min"].as_py(), found["max"].as_py()


def _repeated_across(done: list[_Part]) -> bool:
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
