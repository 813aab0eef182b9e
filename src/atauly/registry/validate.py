"""Validation of registry tables against the data contract.

Every problem is reported — table, row id, family, column, value, rule and a message — not just the first,
and the checks are vectorised so that a whole national registry is validated in seconds. Sensitive values
(IINs, incomes) are never shown in clear: the report says what is wrong with them instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import Keys, arrow_text, code_indices, rewrap_arrow
from .codes import REGION_BY_KATO
from .iin import IIN_CODES, check_iin_codes, fixed_width_bytes
from .problems import (
    FATAL_RULES,
    RULE_MESSAGES,
    Collector,
    RegistryValidationError,
    ValidationReport,
)
from .schema import FAMILIES, INCOMES, PERSONS, TABLES, Column, Table


def _is_blank(s: pd.Series) -> np.ndarray:
    if (
        pd.api.types.is_numeric_dtype(s)
        or pd.api.types.is_datetime64_any_dtype(s)
        or pd.api.types.is_bool_dtype(s)
    ):
        return s.isna().to_numpy()
    text = s.astype("string")
    return (text.isna() | (text.str.strip() == "")).to_numpy(dtype=bool, na_value=True)


def _may_need_strip(text: pd.Series | pa.Array) -> bool:
    """False when no value can begin or end with whitespace: every first and last byte is a printable
    ASCII character (whitespace, including Unicode's, always starts or ends with another byte). Stripping
    millions of identifiers that have nothing to strip is then skipped."""
    try:
        arr = arrow_text(text)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return True
    if len(arr) == 0:
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = (
        np.frombuffer(arr.buffers()[2], dtype=np.uint8)
        if arr.buffers()[2] is not None
        else np.zeros(0, np.uint8)
    )
    filled = offsets[1:] > offsets[:-1]  # missing values and empty strings have no bytes
    first, last = data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]
    return bool(((first <= 0x20) | (first >= 0x7F)).any() or ((last <= 0x20) | (last >= 0x7F)).any())


def _one_chunk(text: pd.Series) -> tuple[pd.Series, pa.Array | None]:
    """A text column (pandas' ``string``) with its values in one Arrow array, and that array (None when it
    is not Arrow text). A column read from Parquet comes in one chunk per row group; every later look at
    its buffers (whitespace, blanks, code lookups, hashing, the law's inputs) would concatenate them again.
    The values, dtype and index are unchanged."""
    try:
        arr = arrow_text(text)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return text, None
    chunks = getattr(text.array, "_pa_array", None)
    if isinstance(chunks, pa.ChunkedArray) and chunks.num_chunks != 1 and chunks.type == arr.type:
        one = rewrap_arrow(text.array, pa.chunked_array([arr]))
        if one is not None:
            text = pd.Series(one, index=text.index, name=text.name)
    return text, arr


def _stripped(values: pd.Series) -> pd.Series:
    """``values.astype("string").str.strip()``, without stripping values that have nothing to strip."""
    text, arr = _one_chunk(values.astype("string"))
    return text.str.strip() if arr is None or _may_need_strip(arr) else text


def _blank_text(text: pd.Series, arr: pa.Array | None) -> np.ndarray:
    """Missing or empty values of a text column, read off its Arrow offsets when ``arr`` holds them."""
    if arr is None:
        return (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    blank = offsets[1:] == offsets[:-1]
    if arr.null_count:
        blank |= arr.is_null().to_numpy(zero_copy_only=False)
    return blank


def _in(values: pd.Series, allowed) -> np.ndarray:
    """values ∈ allowed (a short list of codes): an Arrow lookup for text, else factorise once and test
    the few distinct values."""
    if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype) and all(isinstance(a, str) for a in allowed):
        return code_indices(values, allowed) >= 0
    codes, uniques = pd.factorize(values)
    ok = np.isin(np.asarray(uniques, dtype=object), list(allowed))
    return (codes >= 0) & ok[np.maximum(codes, 0)] if len(ok) else np.zeros(len(codes), dtype=bool)


def _duplicated_iins(iins: pd.Series, twelve_digits: np.ndarray) -> np.ndarray:
    """Which IINs appear more than once. Those of 12 digits are compared as integers (hashed as int64,
    not as text); the few others as text (they cannot equal a 12-digit one)."""
    dup = np.zeros(len(iins), dtype=bool)
    if twelve_digits.any():
        arr = arrow_text(iins).filter(pa.array(twelve_digits))
        numbers = pc.cast(arr, pa.int64()).to_numpy()
        ordered = np.sort(numbers)  # a sort finds that none repeats (the usual case) ten times faster
        if (ordered[1:] == ordered[:-1]).any():
            dup[np.flatnonzero(twelve_digits)] = pd.Series(numbers).duplicated(keep=False).to_numpy()
    rest = np.flatnonzero(~twelve_digits & iins.notna().to_numpy())
    if len(rest) > 1:
        dup[rest] = Keys(iins.iloc[rest]).duplicated()
    return dup


_BOOL_MAP = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "1.0": True,
    "0.0": False,
}


def _all_months(s: pd.Series) -> bool:
    """True when every value is present and a month YYYY-MM (01–12), read off the Arrow buffer: all
    values 7 bytes long, 4 digits, a hyphen, a month number. False means: check value by value."""
    if not isinstance(s.dtype, pd.StringDtype | pd.ArrowDtype) or s.hasnans or len(s) == 0:
        return False
    try:
        arr = arrow_text(s)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    b = fixed_width_bytes(arr, 7)
    if b is None:
        return False
    digits = b[:, [0, 1, 2, 3, 5, 6]]
    if ((digits < 48) | (digits > 57)).any() or (b[:, 4] != ord("-")).any():
        return False
    month = (b[:, 5].astype(np.int16) - 48) * 10 + b[:, 6] - 48
    return bool(((month >= 1) & (month <= 12)).all())


def _coerce(col: Column, s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert a raw column to its contract type. Returns (converted, mask of unparseable values)."""
    if col.kind in ("str", "category"):  # stripped once; blank = missing or only spaces
        if s.dtype == object and s.isna().all():  # an all-null column (Arrow type null): no text to convert
            return pd.Series(pd.NA, index=s.index, dtype="string"), np.zeros(len(s), dtype=bool)
        text, arr = _one_chunk(s.astype("string"))
        if arr is None or _may_need_strip(arr):
            text = text.str.strip()
            arr = None
        blank = _blank_text(text, arr)
        return text.mask(pd.Series(blank, index=s.index)), np.zeros(len(s), dtype=bool)
    if col.kind == "month" and _all_months(s):  # a clean column: no regex over millions of values
        return _one_chunk(s.astype(str))[0], np.zeros(len(s), dtype=bool)
    blank = _is_blank(s)
    if col.kind in ("int", "float"):
        num = pd.to_numeric(s, errors="coerce")
        if col.kind == "int":  # an infinite count is no whole number (and could not be typed as one)
            num = num.where(~np.isinf(num.to_numpy(dtype="float64", na_value=np.nan)), np.nan)
        bad = num.isna().to_numpy() & ~blank
        if col.kind == "int":
            bad |= (num.notna() & (num % 1 != 0)).to_numpy()
        return num.astype("float64"), bad
    if col.kind == "bool":
        if s.dtype == bool:  # nothing to convert, nothing missing
            return s, np.zeros(len(s), dtype=bool)
        if pd.api.types.is_bool_dtype(s):
            return s.astype(object), np.zeros(len(s), dtype=bool)
        mapped = s.astype(str).str.strip().str.lower().map(_BOOL_MAP)
        bad = mapped.isna().to_numpy() & ~blank
        return mapped.astype(object), bad
    if col.kind == "date":
        out = pd.to_datetime(s.where(~blank, None), errors="coerce", format="mixed")
        bad = out.isna().to_numpy() & ~blank
        return out, bad
    if col.kind == "month":
        txt = s.astype(str).str.strip()
        good = txt.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False).to_numpy()
        return txt.where(good, None), ~good & ~blank
    raise ValueError(f"unknown column kind {col.kind}")


def _whole_table_problem(table: Table, column: str, rule: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "table": table.name,
                "row_id": "(all rows)",
                "family_id": None,
                "column": column,
                "value": "",
                "rule": rule,
                "message": RULE_MESSAGES[rule],
            }
        ]
    )


def _check_table(table: Table, raw: pd.DataFrame, out: Collector, family_of=None) -> pd.DataFrame:
    df = raw.reset_index(drop=True)  # copy-on-write: converting columns never touches ``raw``
    fam = (lambda: family_of(df)) if family_of is not None else None  # only needed to report a problem
    for col in table.columns:
        if col.name not in df.columns:
            if col.required:
                out.frames.append(_whole_table_problem(table, col.name, "missing_column"))
                df[col.name] = None
            elif col.default is None and col.kind in ("str", "category"):
                # an absent optional text column is all missing: what the conversion below would give, at
                # no cost (the home-inspection act's six dwelling columns are absent from most registries)
                df[col.name] = pd.Series(pd.NA, index=df.index, dtype="string")
                continue
            else:
                df[col.name] = col.default
        raw_values = df[col.name]
        converted, bad = _coerce(col, raw_values)
        kind_rule = {
            "int": "type_int",
            "float": "type_float",
            "bool": "type_bool",
            "date": "type_date",
            "month": "type_month",
        }.get(col.kind)
        if kind_rule:
            out.add(
                table,
                df,
                bad,
                col.name,
                kind_rule,
                values=lambda rv=raw_values: rv.to_numpy(dtype=object),
                family=fam,
            )
        blank = converted.isna().to_numpy() & ~bad
        if not col.nullable and col.default is None and col.name in raw.columns:
            out.add(table, df, blank, col.name, "required", family=fam)
        if col.default is not None:
            converted = converted.where(~blank, col.default)
        if col.allowed is not None:
            unknown = converted.notna().to_numpy() & ~_in(converted, col.allowed)
            rule = "unknown_region" if col.name == "region_kato" else "unknown_code"
            out.add(table, df, unknown, col.name, rule, family=fam)
        if col.minimum is not None:
            below = (converted.notna() & (converted.astype("float64") < col.minimum)).to_numpy()
            out.add(table, df, below, col.name, "negative", family=fam)
        df[col.name] = converted
    return df


def validate(families: pd.DataFrame, persons: pd.DataFrame, incomes: pd.DataFrame, today=None):
    """Validate the three tables. Returns ``(families, persons, incomes, report)`` with contract types.

    The returned tables are converted to their contract types (dates as datetime64, flags as bool,
    counts as int); rows with problems are still present — the caller decides (see ``drop_families``).
    """
    out = Collector()
    fam = _check_table(FAMILIES, families, out)
    per = _check_table(PERSONS, persons, out)
    for table, raw in ((FAMILIES, families), (PERSONS, persons)):
        if len(raw) == 0:
            out.frames.append(_whole_table_problem(table, "", "no_rows"))
    if any(f["rule"].isin(FATAL_RULES).any() for f in out.frames):
        # A missing column or an empty table: the checks across tables would only add noise (every family
        # "without members"); stop here with the problems that say what to fix.
        inc = _check_table(INCOMES, incomes, out)
        return fam, per, inc, out.result()
    income_ids = (
        _stripped(incomes["person_id"])
        if "person_id" in incomes.columns
        else pd.Series([None] * len(incomes), dtype="string")
    )
    person_keys = Keys(per["person_id"], income_ids)
    income_person = person_keys.positions()

    inc = _check_table(INCOMES, incomes, out, family_of=_income_families(per, income_person))
    family_keys = Keys(fam["family_id"])
    person_family = family_keys.positions_of(per["family_id"])

    members, has_id = _check_keys(out, fam, per, inc, family_keys, person_keys, person_family, income_person)
    _check_families(out, fam, per, person_family, members, has_id)
    _check_persons(out, fam, per, person_family, today)
    _final_types(fam, per, inc)
    report = out.result()
    report.person_family = person_family
    report.income_person = income_person
    return fam, per, inc, report


def _income_families(per: pd.DataFrame, income_person: np.ndarray):
    """The family of each income row, computed only to report a problem."""

    def income_families(_df=None):
        families_of_persons = per["family_id"].to_numpy(dtype=object, na_value=None)
        return np.where(income_person >= 0, families_of_persons[np.maximum(income_person, 0)], None)

    return income_families


def _check_keys(out, fam, per, inc, family_keys, person_keys, person_family, income_person):
    """Duplicated ids, references to no family or person, families without members. Returns each
    family's number of members and whether it has an id."""
    out.add(FAMILIES, fam, family_keys.duplicated(), "family_id", "duplicate_id")
    out.add(PERSONS, per, person_keys.duplicated(), "person_id", "duplicate_id")
    out.add(
        PERSONS, per, per["family_id"].notna().to_numpy() & (person_family < 0), "family_id", "unknown_family"
    )
    members = np.bincount(person_family[person_family >= 0], minlength=len(fam))
    has_id = fam["family_id"].notna().to_numpy()
    # A duplicated id's members are counted on its first row: its repeats are reported as duplicates only.
    first_of_id = ~family_keys.duplicated() | (
        family_keys.first[np.maximum(family_keys.ref_codes, 0)] == np.arange(len(fam))
    )
    out.add(FAMILIES, fam, has_id & first_of_id & (members == 0), "family_id", "empty_family")
    out.add(
        INCOMES,
        inc,
        inc["person_id"].notna().to_numpy() & (income_person < 0),
        "person_id",
        "unknown_person",
        family=_income_families(per, income_person),
    )
    return members, has_id


def _check_families(out, fam, per, person_family, members, has_id) -> None:
    """District code structure and exactly one applicant."""
    d = fam["district_kato"].astype("string")
    has_d = d.notna().to_numpy()
    fmt_ok = d.str.fullmatch(r"\d{9}").to_numpy(dtype=bool, na_value=False)
    out.add(FAMILIES, fam, has_d & ~fmt_ok, "district_kato", "district_format")
    region = fam["region_kato"].astype("string")
    other_prefix = (d.str[:2] != region.str[:2]) | (d == region)
    mismatch = (
        has_d & fmt_ok & other_prefix.to_numpy(dtype=bool, na_value=False) & _in(region, list(REGION_BY_KATO))
    )
    out.add(FAMILIES, fam, mismatch, "district_kato", "district_region_mismatch")
    is_applicant = (per["role"] == "applicant").to_numpy(dtype=bool, na_value=False) & (person_family >= 0)
    n_app = np.bincount(person_family[is_applicant], minlength=len(fam))
    out.add(
        FAMILIES,
        fam,
        has_id & (members > 0) & (n_app != 1),
        "family_id",
        "applicant_count",
        values=lambda: n_app.astype(str),
    )


def _check_persons(out, fam, per, person_family, today) -> None:
    """IIN, birth dates, disability group, child older than parent."""
    ids = check_iin_codes(
        per["iin"], per["birth_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"), per["sex"]
    )
    has_iin = per["iin"].notna().to_numpy()
    for code, rule in enumerate(IIN_CODES):
        if rule:
            out.add(PERSONS, per, (ids == code) & has_iin, "iin", rule)
    twelve_digits = ids != IIN_CODES.tolist().index("iin_format")
    out.add(PERSONS, per, has_iin & _duplicated_iins(per["iin"], twelve_digits), "iin", "duplicate_iin")
    today = pd.Timestamp(today if today is not None else pd.Timestamp.today().normalize())
    out.add(
        PERSONS,
        per,
        (per["birth_date"] > today).to_numpy(dtype=bool, na_value=False),
        "birth_date",
        "birth_date_future",
    )
    group = per["disability_group"]
    out.add(
        PERSONS,
        per,
        group.notna().to_numpy() & ~group.isin([0, 1, 2, 3]).to_numpy(),
        "disability_group",
        "disability_group",
    )
    born = per["birth_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    known_born = ~np.isnat(per["birth_date"].to_numpy(dtype="datetime64[ns]"))
    is_parent = per["role"].isin(["applicant", "spouse"]).to_numpy(dtype=bool, na_value=False)
    sel = is_parent & known_born & (person_family >= 0)
    youngest = np.full(len(fam), np.iinfo(np.int64).min)
    np.maximum.at(youngest, person_family[sel], born[sel])
    is_child = (
        (per["role"] == "child").to_numpy(dtype=bool, na_value=False) & known_born & (person_family >= 0)
    )
    older = is_child & (born <= youngest[np.maximum(person_family, 0)])
    out.add(PERSONS, per, older, "birth_date", "child_older_than_parent")


def _final_types(fam, per, inc) -> None:
    """The contract's types for the law: counts as int, flags as bool, amounts as float."""
    for table, df in ((FAMILIES, fam), (PERSONS, per), (INCOMES, inc)):
        for col in table.columns:
            if col.kind == "int":
                df[col.name] = (
                    df[col.name].fillna(col.default if col.default is not None else 0).astype("int64")
                )
            elif col.kind == "bool":
                df[col.name] = df[col.name].fillna(False).astype(bool)
            elif col.kind == "float":
                df[col.name] = df[col.name].astype("float64")


def drop_families(families, persons, incomes, bad_family_ids: set[str]):
    """Remove whole families (and their persons and incomes) that have any problem."""
    bad = families["family_id"].isin(list(bad_family_ids)).to_numpy(dtype=bool, na_value=True)
    fam = families.loc[~bad & families["family_id"].notna().to_numpy()]
    per = persons.loc[Keys(fam["family_id"], persons["family_id"]).positions() >= 0]
    inc = incomes.loc[Keys(per["person_id"], incomes["person_id"]).positions() >= 0]
    return fam.reset_index(drop=True), per.reset_index(drop=True), inc.reset_index(drop=True)


__all__ = [
    "TABLES",
    "ValidationReport",
    "RegistryValidationError",
    "validate",
    "drop_families",
]
