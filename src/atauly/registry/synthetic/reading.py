"""Reading a generated registry's region back, typed as validation types it, without re-running every check.

``registry calibrate`` reads each region twice (truth and recorded view). Full validation
(:func:`atauly.registry.validate.validate`) was half of its time, re-checking IINs, birth dates and
district codes of tables the generator wrote itself (its tests validate them: ``test_layout_and_contract``).
:func:`region_registry` converts the columns to their contract types the way validation would and
computes the row positions with the same key matching; it checks what the conversion and the figures rely
on (types, codes, minimums, required values, unique and resolvable keys, no family without members, one
applicant a family, disability groups, districts inside their region, no birth date in the future) and
hands any table that is not as the generator writes it to full validation instead — which reports its
problems. Not checked here (``atauly registry validate`` checks them; no figure reads them): IIN checksums
and duplicates, a child older than a parent. Both routes give the same frames (``tests/registry/test_calibrate_reading.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..arrow import Keys, arrow_text
from ..io import Registry
from ..schema import FAMILIES, INCOMES, PERSONS, Column, Table
from ..validate import validate


class _Untyped(Exception):
    """A column not as the generator writes it: full validation decides."""


def region_registry(registry_dir: Path | str, layer: str, kato: str) -> Registry:
    """One region's part of a layer (``truth``, ``recorded``) as a :class:`Registry` with contract types
    and row positions — equal to what validating it gives; an invalid part raises
    :class:`~atauly.registry.problems.RegistryValidationError` (from full validation)."""
    registry_dir = Path(registry_dir)
    # As pandas.read_parquet reads them (the same frames), at about half its cost.
    tables = [
        pq.read_table(registry_dir / layer / name / f"part-{kato}.parquet").to_pandas()
        for name in ("families", "persons", "incomes")
    ]
    try:
        return typed_registry(*tables)
    except _Untyped:
        fam, per, inc, report = validate(*tables)
        report.raise_if_invalid()
        return Registry(fam, per, inc, report.person_family, report.income_person)


def typed_registry(families: pd.DataFrame, persons: pd.DataFrame, incomes: pd.DataFrame) -> Registry:
    """The three tables with contract types and positions, as :func:`validate` gives them for a clean
    registry; raises ``_Untyped`` when a column or key is not clean (then validation must decide)."""
    if not len(families) or not len(persons):
        raise _Untyped
    fam = _typed(FAMILIES, families)
    per = _typed(PERSONS, persons)
    inc = _typed(INCOMES, incomes)
    # The keys as validation matches them (Arrow hashing): persons to families, incomes to persons.
    person_keys = Keys(per["person_id"], inc["person_id"])
    family_keys = Keys(fam["family_id"])
    if family_keys.duplicated().any() or person_keys.duplicated().any():
        raise _Untyped
    income_person = person_keys.positions()
    person_family = family_keys.positions_of(per["family_id"])
    if (income_person < 0).any() or (person_family < 0).any():
        raise _Untyped
    if (np.bincount(person_family, minlength=len(fam)) == 0).any():
        raise _Untyped
    _check_figures_inputs(fam, per, person_family)
    return Registry(fam, per, inc, person_family, income_person)


def _check_figures_inputs(fam: pd.DataFrame, per: pd.DataFrame, person_family: np.ndarray) -> None:
    """The cross-table rules the law's result and the tallies read (cheap, vectorised): exactly one
    applicant a family, a disability group of 0–3, a district inside its region, no birth date in the
    future. Any breach hands the tables to full validation, which reports it. Left to ``atauly registry
    validate``: IIN checksums and duplicates, a child older than a parent (they do not change a figure)."""
    applicant = (per["role"] == "applicant").to_numpy(dtype=bool, na_value=False)
    if (np.bincount(person_family[applicant], minlength=len(fam)) != 1).any():
        raise _Untyped
    group = per["disability_group"]
    if (group.notna().to_numpy() & ~group.isin([0, 1, 2, 3]).to_numpy()).any():
        raise _Untyped
    district, region = fam["district_kato"].astype("string"), fam["region_kato"].astype("string")
    outside = (district.str[:2] != region.str[:2]) | (district == region)
    if outside.to_numpy(dtype=bool, na_value=False).any():
        raise _Untyped
    if (per["birth_date"] > pd.Timestamp.today().normalize()).to_numpy(dtype=bool, na_value=False).any():
        raise _Untyped


def _typed(table: Table, raw: pd.DataFrame) -> pd.DataFrame:
    df = raw.reset_index(drop=True)
    for col in table.columns:
        if col.name not in df.columns:
            if col.required or col.default is not None or col.kind not in ("str", "category"):
                raise _Untyped
            df[col.name] = pd.Series(pd.NA, index=df.index, dtype="string")
            continue
        df[col.name] = _column(col, df[col.name])
    return df


def _column(col: Column, s: pd.Series) -> pd.Series:
    missing = s.isna().to_numpy()
    if missing.any() and (col.default is not None or not col.nullable):
        raise _Untyped  # validation fills a default or reports a required value
    if col.kind in ("str", "category", "month"):
        if s.dtype == object and missing.all():  # an all-null column (Arrow type null)
            return s.astype("string")
        if not isinstance(s.dtype, pd.StringDtype) or s.dtype.storage != "pyarrow":
            raise _Untyped
        arr = arrow_text(s)
        # Nothing validation would strip or blank out: no empty values, no spaces around any.
        if _blank_or_padded(arr):
            raise _Untyped
        if col.kind == "month":
            if missing.any() or not _months(arr):
                raise _Untyped
            return s.astype(str)
        if col.allowed is not None and pc.all(
            pc.or_kleene(pc.is_null(arr), pc.is_in(arr, value_set=pa.array(col.allowed, pa.large_string())))
        ).as_py() not in (True, None):
            raise _Untyped
        return s.astype("string")
    if col.kind == "bool":
        if s.dtype != bool:
            raise _Untyped
        return s
    if col.kind == "date":
        if not pd.api.types.is_datetime64_dtype(s.dtype):
            raise _Untyped
        return s
    if col.kind in ("int", "float"):
        if not (pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_float_dtype(s.dtype)):
            raise _Untyped
        if pd.api.types.is_bool_dtype(s.dtype):
            raise _Untyped
        values = s.to_numpy(dtype="float64")
        if not np.isfinite(values[~missing]).all():
            raise _Untyped
        if col.minimum is not None and (values[~missing] < col.minimum).any():
            raise _Untyped
        if col.kind == "int":
            if (values[~missing] % 1 != 0).any():
                raise _Untyped
            return pd.Series(values, index=s.index).fillna(0).astype("int64")
        return pd.Series(values, index=s.index)
    raise _Untyped


def _blank_or_padded(arr: pa.Array) -> bool:
    """Whether a value is empty or may begin or end with whitespace (a first or last byte that is not
    printable ASCII), read off the Arrow buffers: what validation would blank out or strip."""
    if len(arr) == 0:
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    lengths = np.diff(offsets)
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if (lengths[valid] == 0).any():
        return True
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else None
    filled = lengths > 0
    if data is None or not filled.any():
        return False
    first, last = data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]
    return bool(((first <= 0x20) | (first >= 0x7F)).any() or ((last <= 0x20) | (last >= 0x7F)).any())


def _months(arr: pa.Array) -> bool:
    """Every value a month YYYY-MM (01–12), read off the Arrow buffers (no regex over millions)."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    if not len(arr) or (np.diff(offsets) != 7).any():
        return not len(arr)
    b = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 7)
    digits = b[:, [0, 1, 2, 3, 5, 6]]
    if ((digits < 48) | (digits > 57)).any() or (b[:, 4] != ord("-")).any():
        return False
    month = (b[:, 5].astype(np.int16) - 48) * 10 + b[:, 6] - 48
    return bool(((month >= 1) & (month <= 12)).all())
