"""Validation of registry tables against the data contract.

Every problem is reported — table, row id, family, column, value, rule and a message — not just the first,
and the checks are vectorised so that a whole national registry is validated in seconds. Sensitive values
(IINs, incomes) are never shown in clear: the report says what is wrong with them instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .codes import REGION_BY_KATO
from .iin import IIN_RULES, check_iins, mask_iin
from .schema import FAMILIES, INCOMES, PERSONS, TABLES, Column, Table

PROBLEM_COLUMNS = ["table", "row_id", "family_id", "column", "value", "rule", "message"]

RULE_MESSAGES = {
    "missing_column": "required column is missing",
    "required": "value is required",
    "type_int": "must be a whole number",
    "type_float": "must be a number",
    "type_bool": "must be true/false (1/0)",
    "type_date": "must be a date YYYY-MM-DD",
    "type_month": "must be a month YYYY-MM",
    "unknown_code": "value is not one of the allowed codes",
    "unknown_region": "not a KATO code of one of the 20 regions",
    "negative": "must not be negative",
    "duplicate_id": "identifier appears more than once",
    "duplicate_iin": "IIN appears more than once",
    "unknown_family": "person belongs to no family in the families table",
    "unknown_person": "income belongs to no person in the persons table",
    "empty_family": "family has no members in the persons table",
    "applicant_count": "family must have exactly one applicant",
    "child_older_than_parent": "a child must be younger than the applicant and the spouse",
    "birth_date_future": "date of birth is in the future",
    "district_format": "district KATO code must be 9 digits",
    "district_region_mismatch": "district KATO code does not start with its region's prefix",
    "disability_group": "disability group must be 0, 1, 2 or 3",
    **IIN_RULES,
}


class RegistryValidationError(ValueError):
    """Raised when a registry has problems; carries the full report."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.summary())


@dataclass
class ValidationReport:
    problems: pd.DataFrame

    @property
    def ok(self) -> bool:
        return self.problems.empty

    def invalid_family_ids(self) -> set[str]:
        return set(self.problems["family_id"].dropna().astype(str))

    def summary(self, limit: int = 20) -> str:
        if self.ok:
            return "registry is valid"
        lines = [f"{len(self.problems)} problem(s) in the registry:"]
        for row in self.problems.head(limit).itertuples(index=False):
            lines.append(
                f"  {row.table} {row.row_id} [{row.column}] value={row.value!s}: {row.rule} — {row.message}"
            )
        if len(self.problems) > limit:
            lines.append(f"  … and {len(self.problems) - limit} more (see the rejects file)")
        return "\n".join(lines)

    def raise_if_invalid(self) -> None:
        if not self.ok:
            raise RegistryValidationError(self)


class _Collector:
    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def add(self, table: Table, df: pd.DataFrame, mask, column: str, rule: str, values=None, family=None):
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        sub = df.loc[mask]
        if values is None:
            values = sub[column] if column in sub.columns else pd.Series([""] * len(sub), index=sub.index)
        else:
            values = pd.Series(np.asarray(values, dtype=object)[mask], index=sub.index)
        col = table.column(column) if column in table.names else None
        shown = values.map(mask_iin) if column == "iin" else values.map(_display)
        if col is not None and col.sensitive and column != "iin" and rule not in ("negative",):
            shown = values.map(lambda _: "<hidden>")
        if family is None:
            fam = (
                sub["family_id"]
                if "family_id" in sub.columns
                else pd.Series([None] * len(sub), index=sub.index)
            )
        else:
            fam = pd.Series(np.asarray(family, dtype=object)[mask], index=sub.index)
        self.frames.append(
            pd.DataFrame(
                {
                    "table": table.name,
                    "row_id": _row_ids(table, sub),
                    "family_id": fam.astype(object).where(fam.notna(), None).values,
                    "column": column,
                    "value": shown.values,
                    "rule": rule,
                    "message": RULE_MESSAGES.get(rule, rule),
                }
            )
        )

    def result(self) -> ValidationReport:
        if not self.frames:
            return ValidationReport(pd.DataFrame(columns=PROBLEM_COLUMNS))
        return ValidationReport(pd.concat(self.frames, ignore_index=True)[PROBLEM_COLUMNS])


def _display(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def _row_ids(table: Table, sub: pd.DataFrame) -> list[str]:
    if table.name == "incomes":
        return [f"row {i + 1}" for i in sub.index]
    key = table.key[0]
    if key in sub.columns:
        return [
            f"{key}={v}" if _display(v) else f"row {i + 1}" for i, v in zip(sub.index, sub[key], strict=True)
        ]
    return [f"row {i + 1}" for i in sub.index]


def _is_blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | s.astype(str).str.strip().isin(["", "nan", "NaT", "None", "<NA>"])).to_numpy()


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


def _coerce(col: Column, s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert a raw column to its contract type. Returns (converted, mask of unparseable values)."""
    blank = _is_blank(s)
    if col.kind in ("str", "category"):
        out = s.astype(object).where(~blank, None)
        out = out.map(lambda v: v if v is None else str(v).strip())
        return out, np.zeros(len(s), dtype=bool)
    if col.kind in ("int", "float"):
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna().to_numpy() & ~blank
        if col.kind == "int":
            bad |= (num.notna() & (num % 1 != 0)).to_numpy()
        return num.astype("float64"), bad
    if col.kind == "bool":
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


def _check_table(table: Table, raw: pd.DataFrame, out: _Collector, family_of=None) -> pd.DataFrame:
    df = raw.reset_index(drop=True).copy()
    fam = family_of(df) if family_of is not None else None
    for col in table.columns:
        if col.name not in df.columns:
            if col.required:
                out.frames.append(
                    pd.DataFrame(
                        [
                            {
                                "table": table.name,
                                "row_id": "(all rows)",
                                "family_id": None,
                                "column": col.name,
                                "value": "",
                                "rule": "missing_column",
                                "message": RULE_MESSAGES["missing_column"],
                            }
                        ]
                    )
                )
                df[col.name] = None
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
            out.add(table, df, bad, col.name, kind_rule, values=raw_values.to_numpy(dtype=object), family=fam)
        blank = converted.isna().to_numpy() & ~bad
        if not col.nullable and col.default is None and col.name in raw.columns:
            out.add(table, df, blank, col.name, "required", family=fam)
        if col.default is not None:
            converted = converted.where(~blank, col.default)
        if col.allowed is not None:
            unknown = converted.notna().to_numpy() & ~converted.isin(col.allowed).to_numpy()
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
    out = _Collector()
    fam = _check_table(FAMILIES, families, out)
    per = _check_table(PERSONS, persons, out)
    person_family = dict(zip(per["person_id"], per["family_id"], strict=True))
    inc = _check_table(
        INCOMES, incomes, out, family_of=lambda d: d["person_id"].map(person_family).to_numpy()
    )

    # Keys and references.
    out.add(
        FAMILIES,
        fam,
        fam["family_id"].notna() & fam["family_id"].duplicated(keep=False),
        "family_id",
        "duplicate_id",
    )
    out.add(
        PERSONS,
        per,
        per["person_id"].notna() & per["person_id"].duplicated(keep=False),
        "person_id",
        "duplicate_id",
    )
    known_families = set(fam["family_id"].dropna())
    out.add(
        PERSONS,
        per,
        per["family_id"].notna() & ~per["family_id"].isin(known_families),
        "family_id",
        "unknown_family",
    )
    with_members = set(per["family_id"].dropna())
    out.add(
        FAMILIES,
        fam,
        fam["family_id"].notna() & ~fam["family_id"].isin(with_members),
        "family_id",
        "empty_family",
    )
    inc_family = inc["person_id"].map(person_family).to_numpy()
    out.add(
        INCOMES,
        inc,
        inc["person_id"].notna() & ~inc["person_id"].isin(set(per["person_id"].dropna())),
        "person_id",
        "unknown_person",
        family=inc_family,
    )

    # Families: district code structure and exactly one applicant.
    d = fam["district_kato"]
    has_d = d.notna().to_numpy()
    fmt_ok = d.astype(str).str.fullmatch(r"\d{9}").fillna(False).to_numpy()
    out.add(FAMILIES, fam, has_d & ~fmt_ok, "district_kato", "district_format")
    region_prefix = fam["region_kato"].astype(str).str[:2]
    mismatch = (
        has_d & fmt_ok & ((d.astype(str).str[:2] != region_prefix) | (d == fam["region_kato"])).to_numpy()
    )
    mismatch &= fam["region_kato"].isin(list(REGION_BY_KATO)).to_numpy()
    out.add(FAMILIES, fam, mismatch, "district_kato", "district_region_mismatch")
    applicants = per.loc[per["role"] == "applicant"].groupby("family_id").size()
    n_app = fam["family_id"].map(applicants).fillna(0).to_numpy()
    out.add(
        FAMILIES,
        fam,
        fam["family_id"].isin(with_members).to_numpy() & (n_app != 1),
        "family_id",
        "applicant_count",
        values=n_app.astype(int).astype(str),
    )

    # Persons: IIN, birth dates, disability group, child older than parent.
    ids = check_iins(
        per["iin"].to_numpy(),
        per["birth_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"),
        per["sex"].to_numpy(),
    )
    for rule in IIN_RULES:
        out.add(PERSONS, per, (ids == rule) & per["iin"].notna().to_numpy(), "iin", rule)
    out.add(PERSONS, per, per["iin"].notna() & per["iin"].duplicated(keep=False), "iin", "duplicate_iin")
    today = pd.Timestamp(today if today is not None else pd.Timestamp.today().normalize())
    out.add(
        PERSONS, per, (per["birth_date"] > today).fillna(False).to_numpy(), "birth_date", "birth_date_future"
    )
    out.add(
        PERSONS,
        per,
        ~per["disability_group"].isin([0, 1, 2, 3]).to_numpy() & per["disability_group"].notna().to_numpy(),
        "disability_group",
        "disability_group",
    )
    parents = per.loc[per["role"].isin(["applicant", "spouse"])].groupby("family_id")["birth_date"].max()
    youngest_parent = per["family_id"].map(parents)
    older = (per["role"] == "child") & youngest_parent.notna() & (per["birth_date"] <= youngest_parent)
    out.add(PERSONS, per, older.fillna(False).to_numpy(), "birth_date", "child_older_than_parent")

    # Final types for the law.
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
    return fam, per, inc, out.result()


def drop_families(families, persons, incomes, bad_family_ids: set[str]):
    """Remove whole families (and their persons and incomes) that have any problem."""
    fam = families.loc[~families["family_id"].isin(bad_family_ids) & families["family_id"].notna()]
    good = set(fam["family_id"])
    per = persons.loc[persons["family_id"].isin(good)]
    inc = incomes.loc[incomes["person_id"].isin(set(per["person_id"]))]
    return fam.reset_index(drop=True), per.reset_index(drop=True), inc.reset_index(drop=True)


__all__ = ["TABLES", "ValidationReport", "RegistryValidationError", "validate", "drop_families"]
