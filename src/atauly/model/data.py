"""Training data: historical applications of a registry, or any table a user brings.

A :class:`Dataset` holds the feature frame, the labels, the family (group) of each row — members of one
group never straddle folds —, the groups of the fairness audit and, for synthetic registries, the true
need and rule-based baselines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.i18n import N_
from atauly.registry import Registry
from atauly.registry.arrow import Keys
from atauly.registry.io import read_parquet
from atauly.registry.quarter import Quarter

from .features import audit_groups, family_features, feature_columns
from .ingest import PARSE_SHARE, IngestError, ingest, numeric_from_text, read_any

TRUE_VALUES = {"1", "1.0", "true", "t", "yes", "y", "да", "иә"}
FALSE_VALUES = {"0", "0.0", "false", "f", "no", "n", "нет", "жоқ"}


class DataError(ValueError):
    """Input data the model cannot use; the message names the column, the value and what was expected."""


@dataclass
class Dataset:
    X: pd.DataFrame
    y: np.ndarray
    ids: np.ndarray
    groups: np.ndarray
    audit: pd.DataFrame
    kind: str  # "registry" or "table"
    target: str
    numeric: list[str]
    categorical: list[str]
    period: np.ndarray | None = None  # quarter of each application (time split)
    truth: np.ndarray | None = None  # true need (synthetic registries only)
    income: np.ndarray | None = None  # true per-capita income (the poorest quintile)
    rules: dict[str, np.ndarray] = field(default_factory=dict)  # rule baselines: name -> recommended
    notes: list[str] = field(default_factory=list)
    view: str = "table"  # "application" or "recorded" for registries
    ingestion: list[dict] = field(default_factory=list)  # a table's columns: kept, converted, dropped, why
    file_format: dict = field(default_factory=dict)  # a table's format, encoding and delimiter
    population: pd.DataFrame | None = None  # every family of the last quarter, with its truth (population.py)
    scan_amounts: dict | None = None  # verification sample: true vs records amount of the entitled (issue 15)
    scan_history: pd.DataFrame | None = None  # earlier visits to each row's family (issue 15, verified.py)

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx) -> Dataset:
        def cut(a):
            return None if a is None else a[idx]

        return replace(
            self,
            X=self.X.iloc[idx].reset_index(drop=True),
            y=self.y[idx],
            ids=self.ids[idx],
            groups=self.groups[idx],
            audit=self.audit.iloc[idx].reset_index(drop=True),
            period=cut(self.period),
            truth=cut(self.truth),
            income=cut(self.income),
            rules={k: v[idx] for k, v in self.rules.items()},
            scan_history=None
            if self.scan_history is None
            else self.scan_history.iloc[idx].reset_index(drop=True),
        )

    def fingerprint(self) -> str:
        """SHA-256 of the features and labels (the training-data hash in the model's metadata)."""
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(self.X, index=False).to_numpy().tobytes())
        digest.update(np.asarray(self.y, dtype=np.uint8).tobytes())
        return digest.hexdigest()


# -- features as the model sees them ---------------------------------------------------------------
def _positions(mask, limit: int = 5) -> str:
    """Row numbers (1-based, as in a spreadsheet without its header) — never the values, which may be
    personal data."""
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = ", ".join(str(r + 1) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


#: Column names that suggest a protected attribute or an identifier (DESIGN.md principle 4).
SUSPECT_COLUMNS = (
    "sex",
    "gender",
    "nationality",
    "ethnic",
    "language",
    "religion",
    "race",
    "iin",
    "name",
    "surname",
    "birth",
)


def prepare(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Check and coerce a feature frame to the model's schema: numbers as float, categories as text
    (missing stays missing). Raises :class:`DataError` naming missing columns or non-numeric values.

    Columns that already have the right type take a fast path (one row costs well under a millisecond;
    six million rows about a second)."""
    out = prepared_columns(X, numeric, categorical)
    return pd.DataFrame(out, index=X.index)[list(numeric) + list(categorical)]


def prepared_columns(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict[str, np.ndarray]:
    """What :func:`prepare` checks and returns, as one array per column (no frame is built)."""
    missing = [c for c in (*numeric, *categorical) if c not in X.columns]
    if missing:
        raise DataError(f"missing feature columns: {', '.join(missing)}")
    out = {}
    for col in numeric:
        s = X[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.to_numpy(dtype=float, na_value=np.nan)
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = (s - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float, na_value=np.nan)
        else:
            out[col] = _numbers_from_text(s, col)
    for col in categorical:
        out[col] = _as_categories(X[col])
    return out


def _numbers_from_text(s: pd.Series, col: str) -> np.ndarray:
    """A numeric feature given as text, converted as ingestion converts it at training
    (:mod:`atauly.model.ingest`): numbers (decimal comma, spaces between thousands), yes/no (also
    да/нет, иә/жоқ) as 1/0, dates as days since 1970-01-01, missing tokens as missing; a few other
    codes (at most 5% of the values, as at training) as missing. More than that is an error."""
    values, odd = numeric_from_text(s)
    if odd.any() and odd.sum() > (1 - PARSE_SHARE) * max(int(pd.notna(values).sum() + odd.sum()), 1):
        raise DataError(f"column {col!r}: {int(odd.sum())} values are not numbers (rows {_positions(odd)})")
    return values


def _as_categories(s: pd.Series) -> np.ndarray:
    """Text values, stripped; missing and empty as None. Factorised first, so each distinct value is
    cleaned once however many rows there are."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    cleaned = []
    for value in uniques:
        text = str(value).strip()
        cleaned.append(text if text else None)
    return np.array([*cleaned, None], dtype=object)[codes]


def parse_target(values: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray]:
    """0/1, true/false, yes/no (also да/нет, иә/жоқ) → (labels, known mask). Raises on other values."""
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=bool), np.ones(len(values), dtype=bool)
    text = values.astype("string").str.strip().str.lower()
    known = text.notna() & (text != "")
    is_true = text.isin(TRUE_VALUES).to_numpy(dtype=bool, na_value=False)
    is_false = text.isin(FALSE_VALUES).to_numpy(dtype=bool, na_value=False)
    unknown = known.to_numpy(dtype=bool, na_value=False) & ~is_true & ~is_false
    if unknown.any():
        raise DataError(
            f"target column {column!r} must be 0/1, true/false or yes/no; {int(unknown.sum())} values are not "
            f"(rows {_positions(unknown)})"
        )
    return is_true, known.to_numpy(dtype=bool, na_value=False)


# -- bring your own data ---------------------------------------------------------------------------
def read_table(path: Path | str) -> pd.DataFrame:
    """A .csv (delimiter and encoding found: UTF-8, BOM, Windows-1251), .xlsx or .parquet table."""
    return read_table_with_format(path)[0]


def read_table_with_format(path: Path | str) -> tuple[pd.DataFrame, dict]:
    try:
        return read_any(path)
    except IngestError as exc:
        raise DataError(str(exc)) from exc


def _column_notes(report: list[dict], numeric: list[str], categorical: list[str]) -> list[str]:
    """What the user should know of the columns: none left, some dropped, some suspect."""
    if not numeric and not categorical:
        raise DataError(
            "no feature columns left after removing the target, id, group, drop and audit columns and the "
            "columns ingestion dropped: "
            + "; ".join(f"{r['column']}: {r['reason']}" for r in report if r["action"] == "dropped")
        )
    notes = []
    dropped = [r for r in report if r["action"] == "dropped"]
    if dropped:
        notes.append(
            f"{len(dropped)} column(s) dropped: "
            + "; ".join(f"{r['column']!r} ({r['reason']})" for r in dropped[:10])
            + (f" and {len(dropped) - 10} more (see the ingestion report)" if len(dropped) > 10 else "")
        )
    for col in (*numeric, *categorical):
        lowered = str(col).lower()
        if any(word in lowered for word in SUSPECT_COLUMNS):
            notes.append(
                f"column {col!r} looks like a protected attribute or an identifier and is used as a feature; "
                "pass it to --audit (fairness only) or --drop"
            )
    return notes


def load_table(
    path: Path | str,
    target: str,
    group: str | None = None,
    id_column: str | None = None,
    drop: list[str] | None = None,
    audit: list[str] | None = None,
) -> Dataset:
    """A tabular dataset: every column except target, id, group, dropped and audit ones is a feature."""
    frame, file_format = read_table_with_format(path)
    drop = [c for c in (drop or []) if c]
    audit = [c for c in (audit or []) if c]
    named = {"target": [target], "group": [group] if group else [], "id": [id_column] if id_column else []}
    named |= {"drop": drop, "audit": audit}
    for role, cols in named.items():
        absent = [c for c in cols if c not in frame.columns]
        if absent:
            raise DataError(
                f"{role} column(s) {', '.join(map(repr, absent))} not in {Path(path).name} "
                f"(columns: {', '.join(map(str, frame.columns[:30]))})"
            )
    labels, known = parse_target(frame[target], target)
    notes = []
    if not known.all():
        notes.append(f"{int((~known).sum())} rows without a target value were left out of training")
        frame, labels = frame.loc[known].reset_index(drop=True), labels[known]
    if len(np.unique(labels)) < 2:
        raise DataError(f"target column {target!r} has a single class; a classifier needs both")
    roles = {target: "target"} | {c: role for role, cols in named.items() if role != "target" for c in cols}
    features = frame[[c for c in frame.columns if c not in roles]]
    # Every column decided and reported: kept, converted or dropped, and why (on the rows with a target).
    ingested = ingest(features, file_format)
    report = [
        {
            "column": str(c),
            "action": "not a feature",
            "kind": "",
            "reason": f"--{role}" if role != "target" else "target",
            "missing_share": float(frame[c].isna().mean()),
            "distinct": int(frame[c].nunique()),
        }
        for c, role in roles.items()
    ] + [line.as_dict() for line in ingested.report]
    numeric, categorical = ingested.numeric, ingested.categorical
    notes += _column_notes(report, numeric, categorical)
    X = prepare(ingested.frame, numeric, categorical)
    ids = frame[id_column].astype(str).to_numpy() if id_column else np.arange(len(frame)).astype(str)
    groups = frame[group].astype(str).to_numpy() if group else ids
    audit_frame = (
        frame[audit].astype(str).reset_index(drop=True) if audit else pd.DataFrame(index=range(len(frame)))
    )
    return Dataset(
        X,
        labels,
        ids,
        groups,
        audit_frame,
        "table",
        target,
        numeric,
        categorical,
        notes=notes,
        ingestion=report,
        file_format=file_format,
    )


# -- historical applications of a registry ---------------------------------------------------------
#: Columns every decisions table needs; the law's columns are used when present (else the law is run).
DECISION_COLUMNS = ("application_id", "family_id", "quarter", "officer_approved")
LAW_DECISION_COLUMNS = (
    "members",
    "declared_per_capita_income",
    "poverty_line",
    "law_eligible",
    "law_refusal_reason",
    "law_asp_monthly",
    "law_monthly_amount",
)
VIEWS = ("application", "recorded")


def has_table(directory: Path, name: str) -> bool:
    return any((directory / n).exists() for n in (name, f"{name}.parquet"))


def read_registry_table(directory: Path, name: str) -> pd.DataFrame:
    path = directory / name
    if not path.exists() and (directory / f"{name}.parquet").exists():
        path = directory / f"{name}.parquet"
    if not path.exists():
        raise DataError(f"{path} not found")
    return read_parquet(path)


def application_registry(directory: Path) -> tuple[Registry, pd.DataFrame]:
    """The application snapshots as one registry (a row per application) and their decisions, aligned."""
    directory = Path(directory)
    apps = directory / "applications"
    if not apps.is_dir() or not has_table(directory, "decisions"):
        raise DataError(
            f"{directory} has no applications/ and decisions/ (a registry written by "
            "`atauly registry generate`, or a ministry export in the same layout, is needed)"
        )
    fam = read_registry_table(apps, "families")
    per = read_registry_table(apps, "persons")
    inc = (
        read_registry_table(apps, "incomes")
        if has_table(apps, "incomes")
        else pd.DataFrame(columns=["application_id", "person_id", "month", "source", "amount_kzt"])
    )
    dec = read_registry_table(directory, "decisions")
    for table, frame, needed in (
        ("decisions", dec, DECISION_COLUMNS),
        ("applications/families", fam, ("application_id", "family_id", "region_kato")),
        ("applications/persons", per, ("application_id", "person_id", "role", "sex", "birth_date")),
        ("applications/incomes", inc, ("application_id", "person_id", "month", "source", "amount_kzt")),
    ):
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise DataError(f"{table} lacks the column(s) {', '.join(absent)}")
    if fam["application_id"].duplicated().any():
        raise DataError("applications/families has duplicate application_id values")
    order = Keys(dec["application_id"], fam["application_id"]).positions()
    if (order < 0).any():
        raise DataError(f"{int((order < 0).sum())} applications have no decision in decisions/")
    dec = dec.iloc[order].reset_index(drop=True)
    person_family = Keys(fam["application_id"], per["application_id"]).positions()
    per_key = per["application_id"].astype(str) + "|" + per["person_id"].astype(str)
    inc_key = inc["application_id"].astype(str) + "|" + inc["person_id"].astype(str)
    income_person = Keys(per_key, inc_key).positions()
    if (person_family < 0).any() or (income_person < 0).any():
        raise DataError("application persons or incomes refer to applications or persons that do not exist")
    return Registry(fam, per, inc, person_family, income_person), dec


def law_from_decisions(dec: pd.DataFrame) -> pd.DataFrame:
    """The law's result on each snapshot, as recorded with the decision (same columns as law.compute)."""
    return pd.DataFrame(
        {
            "members": dec["members"].to_numpy(),
            "per_capita_income": dec["declared_per_capita_income"].to_numpy(),
            "poverty_line": dec["poverty_line"].to_numpy(),
            "eligible": dec["law_eligible"].to_numpy(dtype=bool),
            "refusal_reason": dec["law_refusal_reason"].fillna("").to_numpy(),
            "asp_monthly_amount": dec["law_asp_monthly"].to_numpy(),
            "child_supplement_monthly": (dec["law_monthly_amount"] - dec["law_asp_monthly"]).to_numpy(),
        }
    )


#: Assets the records show and the home visit may correct.
ASSET_COLUMNS = ("dwellings_owned", "vehicles_owned", "land_ha", "livestock_heads")


def recorded_only(snapshots: Registry, directory: Path) -> Registry:
    """What state databases alone show for each application: no declared informal income, no home
    visit, no commission finding. Assets: as the records showed them in the application's quarter
    (``recorded_<column>`` of the snapshot, written by the synthetic history); without those columns,
    as the registry's recorded view shows them today."""
    fam = snapshots.families.copy()
    recorded = Path(directory) / "recorded"
    then = [c for c in ASSET_COLUMNS if "recorded_" + c in fam and c in fam]
    for col in then:
        fam[col] = fam["recorded_" + col].to_numpy()
    if not then and has_table(recorded, "families"):
        rec = read_registry_table(recorded, "families")
        cols = [c for c in ASSET_COLUMNS if c in rec and c in fam]
        pos = Keys(rec["family_id"], fam["family_id"]).positions()
        for col in cols:
            fam[col] = np.where(pos >= 0, rec[col].to_numpy()[np.maximum(pos, 0)], fam[col].to_numpy())
    fam["commission_found_no_need"] = False
    fam["family_id"] = fam["application_id"]  # one row per application
    keep = snapshots.incomes["source"].astype(str).to_numpy() != "informal"
    return Registry(
        fam,
        snapshots.persons,
        snapshots.incomes.loc[keep].reset_index(drop=True),
        snapshots.person_family,
        snapshots.income_person[keep],
    )


def _law_by_quarter(reg: Registry, quarters: np.ndarray, progress=None) -> pd.DataFrame:
    """The law (atauly.law) on each application, quarter by quarter; rows in registry order."""
    from atauly.law.compute import compute
    from atauly.law.system import tax_benefit_system

    tbs = tax_benefit_system()
    parts, index = [], []
    for quarter in np.unique(quarters):
        mask = quarters == quarter
        parts.append(compute(reg.take(mask), str(quarter), tbs))
        index.append(np.flatnonzero(mask))
        if progress:
            progress(int(mask.sum()), len(quarters))
    result = pd.concat(parts, ignore_index=True)
    return result.iloc[np.argsort(np.concatenate(index), kind="stable")].reset_index(drop=True)


def load_applications(
    directory: Path | str, view: str = "application", law_on_recorded: bool = True, progress=None
) -> Dataset:
    """Historical applications of a registry: features, the officer's decision as the label, the family
    as the group, the quarter for the time split, true need (synthetic registries only) and rule
    baselines.

    ``view="application"``: the snapshot each decision was made on (records + declaration + home visit).
    ``view="recorded"``: what state databases alone showed (no declaration, no visit) — the data the
    proactive scan has, so a model for the scan is trained on it. ``progress(done, total)`` is called
    as the law runs.
    """
    if view not in VIEWS:
        raise DataError(f"unknown view {view!r}: use {' or '.join(VIEWS)}")
    directory = Path(directory)
    snapshots, dec = application_registry(directory)
    quarters = dec["quarter"].astype(str).to_numpy()
    notes = []
    has_law = all(c in dec.columns for c in LAW_DECISION_COLUMNS)
    if has_law:
        law_applied = law_from_decisions(dec)
    else:
        notes.append(N_("decisions/ has no law columns: the law was run on each application snapshot"))
        law_applied = _law_by_quarter(snapshots, quarters)
    rules = {"law_as_applied": law_applied["eligible"].to_numpy(dtype=bool)}
    law_recorded = None
    if law_on_recorded or view == "recorded":
        recorded_reg = recorded_only(snapshots, directory)
        law_recorded = _law_by_quarter(recorded_reg, quarters, progress)
        rules["law_on_recorded_data"] = law_recorded["eligible"].to_numpy(dtype=bool)
    if view == "recorded":
        source, law = recorded_reg, law_recorded
    else:
        source, law = snapshots, law_applied
    start = min(Quarter.parse(str(q)) for q in quarters).start_time
    truth = income = None
    if "true_eligible" in dec:
        truth = dec["true_eligible"].to_numpy(dtype=bool)
    else:
        notes.append(N_("decisions/ has no true_eligible column: metrics are against the decisions only"))
    if "true_per_capita_income" in dec:
        line = np.maximum(law_applied["poverty_line"].to_numpy(dtype=float), 1.0)
        income = dec["true_per_capita_income"].to_numpy(dtype=float) / line
    from .population import population_frame

    features = family_features(source, law, start)
    numeric, categorical = feature_columns(features)  # the dwelling's columns only where present
    return Dataset(
        X=prepare(features, numeric, categorical),
        y=dec["officer_approved"].to_numpy(dtype=bool),
        ids=dec["application_id"].astype(str).to_numpy(),
        groups=dec["family_id"].astype(str).to_numpy(),
        audit=audit_groups(snapshots, law_applied["members"].to_numpy()),
        kind="registry",
        target="officer_approved",
        numeric=numeric,
        categorical=categorical,
        period=quarters,
        truth=truth,
        income=income,
        rules=rules,
        notes=notes,
        view=view,
        population=population_frame(directory, str(max(quarters))) if len(quarters) else None,
    )
