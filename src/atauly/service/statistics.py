"""Statistics for the pilot: how often officers agree with the recommendation, why they override it, how
fast cases are decided against the statutory deadline, approvals and amounts — by district, region and
model version. Aggregates only: no family is identifiable from them, so analysts may see them.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from .casework import (
    DECIDED_STATES,
    OPEN_STATES,
    ServiceError,
    deny,
    district_catalogue,
    record,
    working_days_between,
)
from .models import Application, Decision, Recommendation, User

COLUMNS = [
    "applications",
    "open",
    "decided",
    "approved",
    "rejected",
    "home_visits",
    "agreement",
    "overrides",
    "override_rate",
    "on_time_share",
    "median_working_days",
    "overdue_open",
    "amount_monthly_approved",
]

#: The tables :func:`to_csv` exports, with their columns (the header of an empty table).
TABLES = {
    "by_district": ["district", "region", *COLUMNS],
    "by_region": ["region", *COLUMNS],
    "by_model": ["model_version", *COLUMNS],
    "overrides_by_reason": ["reason_code", "district", "model_version", "count"],
}


def _frame(db: DB, region: str | None, district: str | None) -> pd.DataFrame:
    q = select(
        Application.id,
        Application.region_kato,
        Application.district_kato,
        Application.status,
        Application.received_on,
        Application.deadline,
        Recommendation.id.label("rec_id"),
        Recommendation.mode,
        Recommendation.model_version,
        Recommendation.recommended,
        Recommendation.eligible_by_law,
    ).join(Recommendation, Recommendation.application_id == Application.id)
    if region:
        q = q.where(Application.region_kato == region)
    if district:
        q = q.where(Application.district_kato == district)
    apps = pd.DataFrame(
        db.execute(q).all(),
        columns=[
            "id",
            "region",
            "district",
            "status",
            "received_on",
            "deadline",
            "rec_id",
            "mode",
            "model_version",
            "recommended",
            "eligible_by_law",
        ],
    )
    apps = apps.sort_values("rec_id").drop_duplicates("id", keep="last")  # the latest recommendation
    dq = select(
        Decision.application_id,
        Decision.id,
        Decision.outcome,
        Decision.reason_code,
        Decision.override,
        Decision.amount_monthly,
        Decision.decided_at,
    )
    if len(apps) < 5000:
        dq = dq.where(Decision.application_id.in_(apps["id"].tolist()))
    dec = pd.DataFrame(
        db.execute(dq).all(),
        columns=["id", "decision_id", "outcome", "reason_code", "override", "amount", "decided_at"],
    )
    visits = dec[dec["outcome"] == "home_visit"].groupby("id").size().rename("home_visits")
    final = dec[dec["outcome"] != "home_visit"].sort_values("decision_id").drop_duplicates("id", keep="last")
    df = apps.merge(final, on="id", how="left").merge(visits, on="id", how="left")
    df["home_visits"] = df["home_visits"].fillna(0).astype(int)
    df["model_version"] = df["model_version"].fillna("— (law only)")
    return df


def _summary(df: pd.DataFrame, today: date) -> dict:
    decided = df[df["status"].isin(DECIDED_STATES) & df["outcome"].notna()]
    recommended = decided["recommended"].map({True: "approve", False: "reject"})
    agree = (decided["outcome"] == recommended) if len(decided) else pd.Series(dtype=bool)
    days = [
        working_days_between(r, d.date())
        for r, d in zip(decided["received_on"], decided["decided_at"], strict=True)
    ]
    on_time = [d.date() <= dl for d, dl in zip(decided["decided_at"], decided["deadline"], strict=True)]
    open_ = df[df["status"].isin(OPEN_STATES)]
    approved = decided[decided["outcome"] == "approve"]
    return {
        "applications": int(len(df)),
        "open": int(len(open_)),
        "decided": int(len(decided)),
        "approved": int(len(approved)),
        "rejected": int((decided["outcome"] == "reject").sum()),
        "home_visits": int(df["home_visits"].sum()),
        "agreement": float(agree.mean()) if len(agree) else None,
        "overrides": int(decided["override"].fillna(False).astype(bool).sum()),
        "override_rate": float(decided["override"].astype(bool).mean()) if len(decided) else None,
        "on_time_share": float(sum(on_time) / len(on_time)) if on_time else None,
        "median_working_days": float(pd.Series(days).median()) if days else None,
        "overdue_open": int((open_["deadline"] < today).sum()),
        "amount_monthly_approved": float(approved["amount"].sum()),
    }


#: Counts that describe families (a small cell could single one out); rates derived from a small cell too.
COUNTS = [
    "applications",
    "open",
    "decided",
    "approved",
    "rejected",
    "home_visits",
    "overrides",
    "overdue_open",
]
DERIVED = ["agreement", "override_rate", "on_time_share", "median_working_days", "amount_monthly_approved"]


def suppress(row: dict, min_cell: int) -> dict:
    """Small-cell suppression: a count from 1 to ``min_cell - 1`` is shown as ``"<min_cell"``, and the
    rates and amounts of a group with fewer than ``min_cell`` decided cases are withheld (null)."""
    label = f"<{min_cell}"
    out = dict(row)
    small = False
    for key in [*COUNTS, "count"]:
        v = out.get(key)
        if isinstance(v, int) and 0 < v < min_cell:
            out[key], small = label, True
    decided = row.get("decided")
    if isinstance(decided, int) and decided < min_cell:
        for key in DERIVED:
            if key in out:
                out[key] = None
    if small or (isinstance(decided, int) and decided < min_cell):
        out["suppressed"] = True
    return out


#: How a complementary-suppressed count shows: a count of ``min_cell`` or more hidden only so that a small
#: sibling cannot be recovered by subtraction (the statistical offices' "x").
HIDDEN = "x"


def _equations(out: dict) -> list[tuple[tuple, list[tuple]]]:
    """Every published "total = sum of parts" among the counts, as cells ``(table, row index, column)``:
    regions under the totals, districts under their region, model versions under the totals, overrides by
    reason under their district's, their model version's and the total overrides, and within a row
    ``decided = approved + rejected`` and ``applications = open + decided``."""
    eqs: list[tuple[tuple, list[tuple]]] = []

    def under(table: str, key: str, parent: str, parent_key: str | None, cols: list[str], child: str) -> None:
        for j, prow in enumerate(out[parent] if parent != "totals" else [out["totals"]]):
            kids = [i for i, r in enumerate(out[table]) if parent_key is None or r[key] == prow[parent_key]]
            for col in cols:
                eqs.append(((parent, j, col), [(table, i, child or col) for i in kids]))

    under("by_region", "region", "totals", None, COUNTS, "")
    under("by_district", "region", "by_region", "region", COUNTS, "")
    under("by_model", "model_version", "totals", None, COUNTS, "")
    under("overrides_by_reason", "district", "by_district", "district", ["overrides"], "count")
    under("overrides_by_reason", "model_version", "by_model", "model_version", ["overrides"], "count")
    under("overrides_by_reason", "", "totals", None, ["overrides"], "count")
    for table in ("totals", "by_region", "by_district", "by_model"):
        for i in range(len(out[table]) if table != "totals" else 1):
            eqs.append(((table, i, "decided"), [(table, i, "approved"), (table, i, "rejected")]))
            eqs.append(((table, i, "applications"), [(table, i, "open"), (table, i, "decided")]))
    return eqs


def suppress_all(out: dict, min_cell: int) -> dict:
    """Primary suppression of every row (:func:`suppress`), then **complementary suppression**: wherever a
    published total and its parts (:func:`_equations`) have exactly one hidden count — which the others
    would give away by subtraction — the smallest shown part of at least ``2 * min_cell - 1`` is hidden
    too (as :data:`HIDDEN`; else the largest shown non-zero part, else the total); repeated until no such
    sum is left, since one hidden cell may open another sum. A row with a hidden ``overrides`` withholds its agreement and override rate (the rates
    times ``decided`` give the count back); one with a hidden ``decided`` all its rates and amount."""
    exact = {"totals": [out["totals"]], **{k: out[k] for k in TABLES}}
    shown = {k: [suppress(r, min_cell) for r in rows] for k, rows in exact.items()}
    eqs = _equations(out)

    def hidden(cell: tuple) -> bool:
        t, i, c = cell
        return isinstance(shown[t][i][c], str)

    def value(cell: tuple) -> int:
        t, i, c = cell
        return exact[t][i][c]

    changed = True
    while changed:
        changed = False
        for total, parts in eqs:
            cells = [total, *parts]
            secret = [c for c in cells if hidden(c)]
            if len(secret) != 1:
                continue
            spare = [p for p in parts if p != secret[0] and not hidden(p) and value(p) > 0]
            # a cover of 2·min_cell − 1 or more keeps the whole 1..min_cell − 1 open for the small cell
            # (the pair's sum minus a cover known to be ≥ min_cell bounds it); else the largest there is
            wide = [p for p in spare if value(p) >= 2 * min_cell - 1]
            cover = min(wide, key=value) if wide else max(spare, key=value) if spare else total
            if cover == secret[0]:  # a total hidden with every part 0: nothing to protect
                continue
            t, i, c = cover
            shown[t][i][c] = HIDDEN
            shown[t][i]["suppressed"] = True
            changed = True
    for rows in shown.values():
        for row in rows:
            if isinstance(row.get("overrides"), str):
                row["agreement"] = row["override_rate"] = None
            if isinstance(row.get("decided"), str):
                for key in DERIVED:
                    row[key] = None
    return {**out, "totals": shown["totals"][0], **{k: shown[k] for k in TABLES}}


def _aggregate(df: pd.DataFrame, today: date) -> dict:
    """The totals and the tables of one scope's cases (exact figures)."""
    out = {
        "totals": _summary(df, today),
        "by_region": [{"region": k, **_summary(g, today)} for k, g in df.groupby("region", sort=True)],
        "by_district": [
            {"district": k[1], "region": k[0], **_summary(g, today)}
            for k, g in df.groupby(["region", "district"], sort=True)
        ],
        "by_model": [
            {"model_version": k, **_summary(g, today)} for k, g in df.groupby("model_version", sort=True)
        ],
        "overrides_by_reason": [],
    }
    decided = df[df["status"].isin(DECIDED_STATES) & df["outcome"].notna()]
    over = decided[decided["override"].astype(bool)]
    if len(over):
        counts = over.groupby(["reason_code", "district", "model_version"], dropna=False).size()
        out["overrides_by_reason"] = [
            {"reason_code": r, "district": d, "model_version": m, "count": int(n)}
            for (r, d, m), n in counts.items()
        ]
    return out


def compute(
    db: DB,
    user: User,
    region: str | None = None,
    district: str | None = None,
    today: date | None = None,
    min_cell: int = 10,
    read: DB | None = None,
) -> dict:
    """The statistics a user may see: officers their district, supervisors their region, analysts and
    admins the country (or the ``region``/``district`` asked for).

    Analysts see aggregates only, with small-cell suppression (:func:`suppress`, ``min_cell``, default
    10) and complementary suppression (:func:`suppress_all`). Only decided cases contribute the recommendation and the law's result (agreement, overrides), so
    nothing here shows an open case's result before a blind-mode assessment.

    ``read``: a session for the long read (the service's read-only pool on SQLite), so that the one
    write connection is held only for the audit event, not while every application is read."""
    if user.role == "officer":
        if district not in (None, user.district_kato) or region not in (None, user.region_kato):
            raise deny(db, user, "statistics.read", 403, "officers see their own district's statistics")
        district = user.district_kato
    elif user.role == "supervisor":
        if region not in (None, user.region_kato) or (
            district and district_catalogue().get(district) != user.region_kato
        ):
            raise deny(db, user, "statistics.read", 403, "supervisors see their own region's statistics")
        region = user.region_kato
    for name, value in (("region", region), ("district", district)):
        if value is not None and not (len(value) == 9 and value.isdigit()):
            raise ServiceError(422, f"{name}: must be a 9-digit KATO code")
    today = today or date.today()
    db.rollback()  # nothing held on the write connection while reading
    if read is None:
        df = _frame(db, region, district)
        db.rollback()
    else:
        with read:
            df = _frame(read, region, district)
    out = {"scope": {"region": region, "district": district}, **_aggregate(df, today)}
    if user.role == "analyst" and min_cell > 1:
        out = suppress_all(out, min_cell)
        out["min_cell"] = min_cell
    record(
        db,
        user,
        "statistics.read",
        object_type="statistics",
        object_id=district or region or "*",
        region_kato=region,
    )
    db.commit()
    return out


def to_csv(stats: dict, table: str = "by_district") -> str:
    """One table of the statistics as CSV (comma-separated, UTF-8, header row)."""
    if table not in TABLES:
        raise ServiceError(422, f"table: unknown table {table!r}; use one of {', '.join(TABLES)}")
    rows = stats[table]
    buf = io.StringIO()
    keys = list(rows[0].keys()) if rows else TABLES[table]
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()
