"""Statistics for the pilot: how often officers agree with the recommendation, why they override it, how
fast cases are decided against the statutory deadline, approvals and amounts — by district, region and
model version. Aggregates only: no family is identifiable from them, so analysts may see them.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Date, String, and_, case, exists, func, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from .casework import (
    DECIDED_STATES,
    OPEN_STATES,
    ServiceError,
    deny,
    district_catalogue,
    record,
    working_days_many,
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


LAW_ONLY = "— (law only)"  # the model version of recommendations the law alone made


class day_of(FunctionElement):  # noqa: N801 — an SQL function
    """A timestamp's date (SQLite's text dates compare as the stored dates do)."""

    type = Date()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of)
def _day_of_default(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


def final_decisions():
    """Each application's final decision: its latest decision that is not a home visit."""
    return (
        select(Decision.application_id, func.max(Decision.id).label("decision_id"))
        .where(Decision.outcome != "home_visit")
        .group_by(Decision.application_id)
        .subquery("final")
    )


def _cases(region: str | None, district: str | None, *columns):
    """``columns`` over one row per application with a recommendation: its latest recommendation, its
    final decision (if any) and its number of home visits.

    "Latest" is "no later one" (NOT EXISTS), so that the database walks the applications' covering index
    and seeks each one's recommendation and decisions by index, never reading a wide row (the snapshot,
    the law's JSON)."""
    later_rec = aliased(Recommendation)
    later_dec = aliased(Decision)
    visits = (
        select(Decision.application_id, func.count().label("n"))
        .where(Decision.outcome == "home_visit")
        .group_by(Decision.application_id)
        .subquery("visits")
    )
    q = (
        select(*columns)
        .select_from(Application)
        .join(Recommendation, Recommendation.application_id == Application.id)
        .outerjoin(
            Decision,
            and_(
                Decision.application_id == Application.id,
                Decision.outcome != "home_visit",
                ~exists().where(
                    later_dec.application_id == Application.id,
                    later_dec.outcome != "home_visit",
                    later_dec.id > Decision.id,
                ),
            ),
        )
        .outerjoin(visits, visits.c.application_id == Application.id)
        .where(~exists().where(later_rec.application_id == Application.id, later_rec.id > Recommendation.id))
    )
    if region:
        q = q.where(Application.region_kato == region)
    if district:
        q = q.where(Application.district_kato == district)
    return q, visits


KEYS = ("region", "district", "model_version")


def _cells(db: DB, region: str | None, district: str | None, today: date) -> tuple[list[dict], pd.DataFrame]:
    """The finest cells, (region, district, model version), with every count as an SQL aggregate, and the
    decided cases' (received, decided) dates counted per cell (for the median of working days)."""
    decided = and_(Application.status.in_(DECIDED_STATES), Decision.id.is_not(None))
    open_ = Application.status.in_(OPEN_STATES)
    approve, reject = Decision.outcome == "approve", Decision.outcome == "reject"
    agree = or_(
        and_(approve, Recommendation.recommended.is_(True)),
        and_(reject, Recommendation.recommended.is_(False)),
    )

    def n(*cond):
        return func.coalesce(func.sum(case((and_(*cond), 1), else_=0)), 0)

    keys = (Application.region_kato, Application.district_kato, Recommendation.model_version)
    q, visits = _cases(region, district, *keys)
    q = q.add_columns(
        func.count().label("applications"),
        n(open_).label("open"),
        n(decided).label("decided"),
        n(decided, approve).label("approved"),
        n(decided, reject).label("rejected"),
        func.coalesce(func.sum(visits.c.n), 0).label("home_visits"),
        n(decided, agree).label("agree"),
        n(decided, Decision.override.is_(True)).label("overrides"),
        n(decided, day_of(Decision.decided_at) <= Application.deadline).label("on_time"),
        n(open_, Application.deadline < today).label("overdue_open"),
        func.sum(case((and_(decided, approve), Decision.amount_monthly), else_=0.0)).label("amount"),
    ).group_by(*keys)
    cells = [dict(r._mapping) for r in db.execute(q)]
    for c in cells:
        c["region"], c["district"] = c.pop("region_kato"), c.pop("district_kato")
        c["model_version"] = c["model_version"] or LAW_ONLY
    # the dates as the database gives them (SQLite: ISO text), parsed at once by numpy, not row by row
    received, on = (
        type_coerce(Application.received_on, String),
        type_coerce(day_of(Decision.decided_at), String),
    )
    dq, _ = _cases(region, district, *keys, received, on)
    dq = dq.add_columns(func.count().label("n")).where(decided)
    dq = dq.group_by(*keys, Application.received_on, day_of(Decision.decided_at))
    names = [*KEYS, "received_on", "on", "n"]
    columns = list(zip(*db.execute(dq).all(), strict=True)) or [()] * len(names)
    days = pd.DataFrame({k: list(v) for k, v in zip(names, columns, strict=True)})  # by column: quick
    days["model_version"] = days["model_version"].fillna(LAW_ONLY)
    days["days"] = working_days_many(
        np.asarray(columns[3], "datetime64[D]"), np.asarray(columns[4], "datetime64[D]")
    )
    return cells, days


def _roll_up(cells: list[dict], days: pd.DataFrame, by: tuple[str, ...]) -> dict[tuple, dict]:
    """The cells summed over everything but ``by``, with the rates and the median working days."""
    sums: dict[tuple, dict] = {}
    for c in cells:
        key = tuple(c[k] for k in by)
        into = sums.setdefault(key, dict.fromkeys(_SUMMED, 0))
        for col in _SUMMED:
            into[col] += c[col] or 0
    medians: dict[tuple, float] = {}
    if len(days):
        many = days.loc[days.index.repeat(days["n"])]
        if by:
            grouped = many.groupby(list(by))["days"].median()
            medians = {(k if isinstance(k, tuple) else (k,)): float(v) for k, v in grouped.items()}
        else:
            medians = {(): float(many["days"].median())}
    out = {}
    for key in sorted(sums):
        cell = sums[key]  # not `t`: Babel's extractor reads t[...] as a message
        d = cell["decided"]
        out[key] = {
            "applications": int(cell["applications"]),
            "open": int(cell["open"]),
            "decided": int(d),
            "approved": int(cell["approved"]),
            "rejected": int(cell["rejected"]),
            "home_visits": int(cell["home_visits"]),
            "agreement": cell["agree"] / d if d else None,
            "overrides": int(cell["overrides"]),
            "override_rate": cell["overrides"] / d if d else None,
            "on_time_share": cell["on_time"] / d if d else None,
            "median_working_days": medians.get(key),
            "overdue_open": int(cell["overdue_open"]),
            "amount_monthly_approved": float(cell["amount"] or 0.0),
        }
    return out


_SUMMED = (
    "applications",
    "open",
    "decided",
    "approved",
    "rejected",
    "home_visits",
    "agree",
    "overrides",
    "on_time",
    "overdue_open",
    "amount",
)


def _overrides(db: DB, region: str | None, district: str | None) -> list[dict]:
    decided = and_(Application.status.in_(DECIDED_STATES), Decision.id.is_not(None))
    keys = (Decision.reason_code, Application.district_kato, Recommendation.model_version)
    q, _ = _cases(region, district, *keys, func.count().label("count"))
    q = q.where(decided, Decision.override.is_(True)).group_by(*keys)
    rows = [
        {"reason_code": r, "district": d, "model_version": m or LAW_ONLY, "count": int(c)}
        for r, d, m, c in db.execute(q).all()
    ]
    return sorted(
        rows,
        key=lambda x: (x["reason_code"] is None, x["reason_code"] or "", x["district"], x["model_version"]),
    )


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


def _aggregate(db: DB, region: str | None, district: str | None, today: date) -> dict:
    """The totals and the tables of one scope's cases (exact figures), aggregated in the database: one
    GROUP BY over (region, district, model version) summed up here, the decided cases' dates counted per
    cell for the medians, and the overrides by reason."""
    cells, days = _cells(db, region, district, today)
    empty = {c: (0 if c in COUNTS else None) for c in COLUMNS} | {"amount_monthly_approved": 0.0}
    return {
        "totals": _roll_up(cells, days, ()).get((), empty),
        "by_region": [{"region": k[0], **v} for k, v in _roll_up(cells, days, ("region",)).items()],
        "by_district": [
            {"district": k[1], "region": k[0], **v}
            for k, v in _roll_up(cells, days, ("region", "district")).items()
        ],
        "by_model": [
            {"model_version": k[0], **v} for k, v in _roll_up(cells, days, ("model_version",)).items()
        ],
        "overrides_by_reason": _overrides(db, region, district),
    }


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
        tables = _aggregate(db, region, district, today)
        db.rollback()
    else:
        with read:
            tables = _aggregate(read, region, district, today)
    out = {"scope": {"region": region, "district": district}, **tables}
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
