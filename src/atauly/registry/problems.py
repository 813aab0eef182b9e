"""The problems validation finds, reported as a table (table, row id, family, column, value, rule,
message) with sensitive values never shown in clear; and the error raised for an invalid registry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .iin import IIN_RULES, mask_iin
from .schema import Table

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
    "no_rows": "the table has a header but no rows",
    "applicant_count": "family must have exactly one applicant",
    "child_older_than_parent": "a child must be younger than the applicant and the spouse",
    "birth_date_future": "date of birth is in the future",
    "district_format": "district KATO code must be 9 digits",
    "district_region_mismatch": "district KATO code does not start with its region's prefix",
    "disability_group": "disability group must be 0, 1, 2 or 3",
    **IIN_RULES,
}


#: Rules that no family can be blamed for: skipping families cannot fix them.
FATAL_RULES = ("missing_column", "no_rows")


class RegistryValidationError(ValueError):
    """Raised when a registry has problems; carries the full report."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.summary())


@dataclass
class ValidationReport:
    problems: pd.DataFrame
    #: Positions computed while validating, reused by the law: each person's family row, each income's
    #: person row (-1 when unknown). Valid only for the tables as returned by ``validate``.
    person_family: np.ndarray | None = None
    income_person: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return self.problems.empty

    @property
    def fatal(self) -> bool:
        """Problems no family can be blamed for (a whole column missing, a table without rows): skipping
        families cannot help."""
        return bool(self.problems["rule"].isin(FATAL_RULES).any())

    def fatal_problems(self) -> list[str]:
        """The fatal problems in a few words each: ``incomes.amount_kzt (missing_column)``."""
        rows = self.problems[self.problems["rule"].isin(FATAL_RULES)]
        return [
            f"{r.table}.{r.column} ({r.rule})" if r.column else f"{r.table} ({r.rule})"
            for r in rows.itertuples(index=False)
        ]

    def invalid_family_ids(self) -> set[str]:
        return set(self.problems["family_id"].dropna().astype(str))

    def summary(self, limit: int = 20) -> str:
        if self.ok:
            return "registry is valid"
        lines = [f"{len(self.problems)} problem(s) in the registry:"]
        # Whole-table problems (a missing column: named) first, whatever the number of row problems.
        first = self.problems["rule"].isin(FATAL_RULES).to_numpy()
        ordered = pd.concat([self.problems[first], self.problems[~first]])
        for row in ordered.head(limit).itertuples(index=False):
            lines.append(
                f"  {row.table} {row.row_id} [{row.column}] value={row.value!s}: {row.rule} — {row.message}"
            )
        if len(self.problems) > limit:
            lines.append(f"  … and {len(self.problems) - limit} more (see the rejects file)")
        return "\n".join(lines)

    def raise_if_invalid(self) -> None:
        if not self.ok:
            raise RegistryValidationError(self)


class Collector:
    def __init__(self) -> None:
        self.frames: list[pd.DataFrame] = []

    def add(self, table: Table, df: pd.DataFrame, mask, column: str, rule: str, values=None, family=None):
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if callable(values):
            values = values()
        if callable(family):
            family = family()
        sub = df.loc[mask]
        if values is None:
            values = sub[column] if column in sub.columns else pd.Series([""] * len(sub), index=sub.index)
        else:
            values = pd.Series(np.asarray(values, dtype=object)[mask], index=sub.index)
        col = table.column(column) if column in table.names else None
        # Personal data (IINs, dates of birth, money) is never shown: the rule says what is wrong.
        if column == "iin":
            shown = values.map(mask_iin)
        elif col is not None and col.sensitive:
            shown = values.map(lambda v: "" if _display(v) == "" else "<hidden>")
        else:
            shown = values.map(_display)
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
