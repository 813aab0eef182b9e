"""Validation of a few rows already typed (the service's applications): the same contract as
:func:`atauly.registry.validate.validate`, without its fixed cost per column.

``validate`` converts and checks a registry column by column with pandas and Arrow: well under a second for
millions of rows, but a few hundred microseconds per column however few the rows, so one application of
four persons cost the casework service about 30 ms of CPU — half of its law and model together.

:func:`validate_rows` takes the tables as rows (dicts, as the service's JSON gives them). It checks every
rule on every value in plain Python first; when all pass it builds the contract-typed tables itself, equal
to those ``validate`` returns (column order, dtypes and values; the dtypes are read off ``validate``'s own
conversion of a one-value sample, once). At the first doubt — a problem, a value of an unexpected type, a
column outside the contract, whitespace to strip — it hands the rows to ``validate``: every problem is
always found and reported by ``validate`` itself, with its rules and messages. The fast path can only say
"valid", never invent or word an error (``tests/service/test_validate_small.py`` checks both paths agree
on valid and invalid rows).
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import cache

import numpy as np
import pandas as pd

from .codes import REGION_BY_KATO
from .iin import check_iin_codes
from .problems import PROBLEM_COLUMNS, ValidationReport
from .schema import FAMILIES, INCOMES, PERSONS, Column, Table
from .validate import _coerce, validate

#: Rows per table above which the vectorised validator is the faster one.
SMALL = 2000

#: The columns of an empty incomes table (how the service builds it when an application has no income).
INCOME_COLUMNS = [c.name for c in INCOMES.columns]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_KATO = re.compile(r"[0-9]{9}")


class _Doubt(Exception):
    """Not certainly valid: the full validator decides."""


def frames_of(
    families: list[dict], persons: list[dict], incomes: list[dict]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The tables as ``validate`` receives them from rows (the shape the fast path reproduces)."""
    return (
        pd.DataFrame(families),
        pd.DataFrame(persons),
        pd.DataFrame(incomes, columns=INCOME_COLUMNS if not incomes else None),
    )


def validate_rows(families: list[dict], persons: list[dict], incomes: list[dict], today=None):
    """``validate(*frames_of(families, persons, incomes), today)``, the same result, for a few rows often
    much faster. Returns ``(families, persons, incomes, report)``."""
    if max(len(families), len(persons), len(incomes)) <= SMALL:
        fast = fast_validate(families, persons, incomes, today)
        if fast is not None:
            return fast
    return validate(*frames_of(families, persons, incomes), today=today)


def fast_validate(families: list[dict], persons: list[dict], incomes: list[dict], today=None):
    """The validated tables when every row is certainly valid, else None (then only ``validate`` can say
    what is wrong)."""
    try:
        return _fast(families, persons, incomes, today)
    except _Doubt:
        return None


# --- values ----------------------------------------------------------------------------------------------


def _value(col: Column, v):
    """A raw value as the contract type's Python value (None for empty), or _Doubt."""
    if v is None:
        if col.default is not None:
            return col.default
        if not col.nullable:
            raise _Doubt  # "required" (or a required column missing): validate words it
        return None
    kind = col.kind
    if kind in ("str", "category"):
        if type(v) is not str or not v or v != v.strip():
            raise _Doubt  # blank or to be stripped: validate's rules apply
        if col.allowed is not None and v not in col.allowed:
            raise _Doubt
        return v
    if kind in ("int", "float"):
        if type(v) is int:
            x = float(v)
        elif type(v) is float and math.isfinite(v):
            x = v
        else:
            raise _Doubt
        if abs(x) >= 2**53 or (kind == "int" and not x.is_integer()):
            raise _Doubt
        if col.minimum is not None and x < col.minimum:
            raise _Doubt
        return x
    if kind == "bool":
        if type(v) is not bool:
            raise _Doubt
        return v
    if kind == "date":
        if type(v) is not str or len(v) != 10 or not _DATE.fullmatch(v):
            raise _Doubt
        try:
            d = date.fromisoformat(v)
        except ValueError:
            raise _Doubt from None
        if not 1900 <= d.year <= 2200:
            raise _Doubt
        return d
    if kind == "month":
        if type(v) is not str or not _MONTH.fullmatch(v):
            raise _Doubt
        return v
    raise _Doubt


@cache
def _dtype(table: str, name: str, has_value: bool, has_null: bool):
    """The dtype ``validate`` gives a column whose raw values are a value and/or None: its own conversion
    of a sample, so this module follows it (and the pandas version) without restating it."""
    col = {"families": FAMILIES, "persons": PERSONS, "incomes": INCOMES}[table].column(name)
    sample = {
        "str": "x",
        "category": col.allowed[0] if col.allowed else "x",
        "int": 0,
        "float": 0.5,
        "bool": False,
        "date": "2020-01-01",
        "month": "2020-01",
    }[col.kind]
    raw = [sample] * has_value + [None] * has_null
    # as frames_of makes it: from rows, or an empty table with its columns named
    s = pd.DataFrame([{name: v} for v in raw])[name] if raw else pd.DataFrame([], columns=[name])[name]
    converted, _bad = _coerce(col, s)
    blank = converted.isna().to_numpy()
    if col.default is not None:
        converted = converted.where(~blank, col.default)
    if col.kind == "int":
        converted = converted.fillna(col.default if col.default is not None else 0).astype("int64")
    elif col.kind == "bool":
        converted = converted.fillna(False).astype(bool)
    elif col.kind == "float":
        converted = converted.astype("float64")
    return converted.dtype


def _table(table: Table, rows: list[dict]) -> tuple[pd.DataFrame, dict[str, list]]:
    """The contract-typed table of ``rows`` and its columns' Python values; _Doubt on any doubt."""
    keys = list(rows[0]) if rows else table.names  # an empty table comes with its columns (frames_of)
    names = set(table.names)
    first = set(keys)
    if not first <= names or any(r.keys() != first for r in rows) or (not rows and table is not INCOMES):
        raise _Doubt  # columns outside the contract, or rows with different columns
    order = keys + [c.name for c in table.columns if c.name not in first]
    by_name = {c.name: c for c in table.columns}
    values: dict[str, list] = {}
    data = {}
    for name in order:
        col = by_name[name]
        if name not in first and col.required:
            raise _Doubt  # a required column is missing
        raw = [r[name] for r in rows] if name in first else [None] * len(rows)
        has_null = any(v is None for v in raw)
        vals = [_value(col, v) for v in raw]
        values[name] = vals
        dtype = _dtype(table.name, name, any(v is not None for v in raw), has_null)
        data[name] = _array(col, vals, dtype)
    return pd.DataFrame(data, columns=order), values


def _array(col: Column, vals: list, dtype):
    kind = col.kind
    if kind == "date":
        arr = np.array([np.datetime64(v) if v is not None else np.datetime64("NaT") for v in vals], "M8[D]")
        out = arr.astype(dtype)
    elif kind == "int":
        out = np.array(vals, dtype="float64").astype(dtype)
    elif kind == "float":
        out = np.array(vals, dtype=dtype)
    elif kind == "bool":
        out = np.array(vals, dtype=bool)
    else:
        out = pd.array(vals, dtype=dtype)
    if out.dtype != dtype:
        raise _Doubt  # built differently from validate's own conversion: let it convert
    return out


@cache
def _no_problems() -> pd.DataFrame:
    """An empty problems table (copied for each report: building one was a tenth of a batch's checks)."""
    return pd.DataFrame(columns=PROBLEM_COLUMNS)


# --- the rules across rows and tables ---------------------------------------------------------------------


def _fast(families: list[dict], persons: list[dict], incomes: list[dict], today):
    if not families or not persons:
        raise _Doubt  # "no_rows"
    fam, fv = _table(FAMILIES, families)
    per, pv = _table(PERSONS, persons)
    inc, iv = _table(INCOMES, incomes)

    family_ids = fv["family_id"]
    family_pos = {fid: i for i, fid in enumerate(family_ids)}
    person_ids = pv["person_id"]
    person_pos = {pid: i for i, pid in enumerate(person_ids)}
    if len(family_pos) != len(family_ids) or len(person_pos) != len(person_ids):
        raise _Doubt  # duplicate_id
    person_family = np.array([family_pos.get(f, -1) for f in pv["family_id"]], dtype=np.int64)
    income_person = np.array([person_pos.get(p, -1) for p in iv["person_id"]], dtype=np.int64)
    if (person_family < 0).any() or (income_person < 0).any():
        raise _Doubt  # unknown_family, unknown_person

    # Families: members, one applicant, district code and region prefix.
    members = np.bincount(person_family, minlength=len(fam))
    is_applicant = np.array([r == "applicant" for r in pv["role"]], dtype=bool)
    applicants = np.bincount(person_family[is_applicant], minlength=len(fam))
    if (members == 0).any() or (applicants != 1).any():
        raise _Doubt  # empty_family, applicant_count
    for d, region in zip(fv["district_kato"], fv["region_kato"], strict=True):
        if d is None:
            continue
        if not _KATO.fullmatch(d) or not d.isascii():
            raise _Doubt  # district_format
        if region in REGION_BY_KATO and (d[:2] != region[:2] or d == region):
            raise _Doubt  # district_region_mismatch

    # Persons: IINs (validate's own check), unique IINs, birth dates, disability group, children.
    born = per["birth_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    codes = check_iin_codes(per["iin"], born, per["sex"])
    if (codes != 0).any():
        raise _Doubt
    if len(set(pv["iin"])) != len(pv["iin"]):
        raise _Doubt  # duplicate_iin
    limit = pd.Timestamp(today if today is not None else pd.Timestamp.today().normalize()).date()
    if any(b > limit for b in pv["birth_date"]):
        raise _Doubt  # birth_date_future
    if any(g not in (0, 1, 2, 3) for g in pv["disability_group"]):
        raise _Doubt
    youngest: dict[int, date] = {}
    for f, role, b in zip(person_family.tolist(), pv["role"], pv["birth_date"], strict=True):
        if role in ("applicant", "spouse") and (f not in youngest or b > youngest[f]):
            youngest[f] = b
    for f, role, b in zip(person_family.tolist(), pv["role"], pv["birth_date"], strict=True):
        if role == "child" and f in youngest and b <= youngest[f]:
            raise _Doubt  # child_older_than_parent

    report = ValidationReport(_no_problems().copy())
    report.person_family = person_family
    report.income_person = income_person
    return fam, per, inc, report


__all__ = ["INCOME_COLUMNS", "SMALL", "fast_validate", "frames_of", "validate_rows"]
