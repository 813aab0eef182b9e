"""One part of a registry split in region parts, read, validated and put through the law: what the national plan
keeps of it (:mod:`atauly.plans.by_part`). The same function runs in this process or in a worker process
(:mod:`atauly.plans.part_worker`), so both give the same result."""

from __future__ import annotations

import gc
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atauly.registry import Registry
from atauly.registry.arrow import arrow_text
from atauly.registry.io import read_parquet

from .people import conditional_mask, district_of

__all__ = ["Part", "part_result"]


@dataclass
class Part:
    sub: Registry | None  # the part's conditional families (in scope), their members and incomes
    law: pd.DataFrame | None  # the law's rows for them
    coverage: object
    districts: pd.Series  # all families of the part (of the region in scope) by district
    regions: pd.Series
    ranges: tuple[tuple, tuple]  # (min, max) of the family ids and of the person ids: apart across parts
    iins: pa.Array  # compared across parts value by value
    ok: bool


def part_result(paths, q, region: str | None, wanted: pa.Array | None, tbs) -> Part:
    """One part read, validated and put through the law: its conditional families in scope (of ``region``;
    among ``wanted`` when given), their law rows, the counts by district and region, the income coverage,
    and what is compared across parts (id ranges, IINs). ``ok`` false: the part has a data problem (nothing
    else is kept then). The part's own tables are freed before it returns."""
    from atauly.law.compute import compute, income_coverage
    from atauly.registry.validate import validate

    fam, per, inc, report = validate(*(read_parquet(p) for p in paths))
    ranges = (_range(fam["family_id"]), _range(per["person_id"]))
    iins = _iins(per["iin"])
    if not report.ok:
        return Part(None, None, None, pd.Series(), pd.Series(), ranges, iins, False)
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    coverage = income_coverage(reg, q)
    if region is not None:
        here = (fam["region_kato"].astype(str) == str(region)).to_numpy(dtype=bool)
        reg = reg if here.all() else reg.take(here)
    districts = district_of(reg.families).value_counts()
    regions = reg.families["region_kato"].astype(str).value_counts()
    sub = law = None
    if len(reg.families):
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
    return Part(sub, law, coverage, districts, regions, ranges, iins, True)


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
    part after part would add up to the whole registry's size in resident memory. The law's simulation is
    a web of objects that refer to each other: only the cycle collector frees it (and the arrays it holds),
    which otherwise runs when it will — measured on a mid-size part at full scale: 0.54 GiB resident after
    the part without the collection, 0.27 GiB with it."""
    gc.collect()
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
