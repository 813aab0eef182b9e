"""Supervisors' and analysts' views, aggregated in the database (SQLAlchemy aggregate queries that run the
same on SQLite and PostgreSQL; no application row is brought into Python):

- :func:`trends`: applications, decisions, approvals, overrides and agreement with the recommendation by
  week (Monday to Sunday) or by quarter;
- :func:`officers`: each officer's workload and agreement (cases decided, median calendar days from
  receipt to decision, share departing from the recommendation);
- :func:`national`: by region (or by district within a region) the recipients, the approved monthly
  budget, agreement and overrides, with rates per 1,000 families of the registry.

A case counts as decided, as in :mod:`.statistics`, when the application is approved or rejected and has
a final decision (the latest one that is not a home visit). Applications count in the period they were
received, decisions in the period they were recorded. Analysts get the small-cell suppression of
:func:`.statistics.suppress` on every row.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, Integer, and_, case, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session as DB
from sqlalchemy.sql.functions import FunctionElement

from .casework import DECIDED_STATES, ServiceError, deny, district_catalogue, record
from .models import Application, Decision, ScanSummary, User
from .statistics import COUNTS, final_decisions, suppress_all

PERIODS = ("week", "quarter")
#: The counts of a trend's row (and of an officer's, less ``applications``).
COLUMNS = ("applications", "decided", "approved", "rejected", "overrides")
#: Rates of a group that :func:`.statistics.suppress` does not know but withholds the same way.
EXTRA_DERIVED = ("median_days", "departure_share", "budget_per_1000")


# --- portable SQL: the start of an ISO week, a quarter's label, days between two dates --------------------


class week_start(FunctionElement):  # noqa: N801 — an SQL function
    """The Monday on or before a date (or timestamp), as a date."""

    type = Date()
    inherit_cache = True


@compiles(week_start, "sqlite")
def _week_start_sqlite(element, compiler, **kw):
    (arg,) = element.clauses
    return f"date({compiler.process(arg, **kw)}, '-6 days', 'weekday 1')"


@compiles(week_start)
def _week_start_default(element, compiler, **kw):
    (arg,) = element.clauses
    return f"CAST(date_trunc('week', {compiler.process(arg, **kw)}) AS DATE)"


class quarter_key(FunctionElement):  # noqa: N801
    """``year * 10 + quarter`` of a date (20264 for the fourth quarter of 2026): sortable, no strings."""

    type = Integer()
    inherit_cache = True


@compiles(quarter_key, "sqlite")
def _quarter_sqlite(element, compiler, **kw):
    (arg,) = element.clauses
    a = compiler.process(arg, **kw)
    return f"(CAST(strftime('%Y', {a}) AS INTEGER) * 10 + (CAST(strftime('%m', {a}) AS INTEGER) + 2) / 3)"


@compiles(quarter_key)
def _quarter_default(element, compiler, **kw):
    (arg,) = element.clauses
    a = compiler.process(arg, **kw)
    return f"(CAST(EXTRACT(YEAR FROM {a}) AS INTEGER) * 10 + CAST(EXTRACT(QUARTER FROM {a}) AS INTEGER))"


class days_between(FunctionElement):  # noqa: N801
    """Whole calendar days from a date to a timestamp's date."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday(date({end})) - julianday(date({start})) AS INTEGER)"


@compiles(days_between)
def _days_default(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({end} AS DATE) - CAST({start} AS DATE))"


# --- scope ---------------------------------------------------------------------------------------------


def scope(db: DB, user: User, region: str | None, district: str | None, action: str) -> tuple:
    """The ``(region, district)`` a user may see, as :func:`.statistics.compute` allows: officers their
    district, supervisors their region, analysts and admins the country. Asking for more is refused (403,
    audited)."""
    for name, value in (("region", region), ("district", district)):
        if value is not None and not (len(value) == 9 and value.isdigit()):
            raise ServiceError(422, f"{name}: must be a 9-digit KATO code")
    if district is not None and region is not None and district_catalogue().get(district) != region:
        raise ServiceError(422, "district: not in the region asked for")
    if user.role == "officer":
        if district not in (None, user.district_kato) or region not in (None, user.region_kato):
            raise deny(db, user, action, 403, "officers see their own district's figures")
        return user.region_kato, user.district_kato
    if user.role == "supervisor":
        if region not in (None, user.region_kato) or (
            district and district_catalogue().get(district) != user.region_kato
        ):
            raise deny(db, user, action, 403, "supervisors see their own region's figures")
        return user.region_kato, district
    if user.role in ("analyst", "admin"):
        return region, district
    raise deny(db, user, action, 403, "unknown role")  # pragma: no cover - roles are checked on creation


def _where(q, region: str | None, district: str | None):
    if region:
        q = q.where(Application.region_kato == region)
    if district:
        q = q.where(Application.district_kato == district)
    return q


def _decided_query(*group_cols):
    """Decided cases, grouped: decided, approved, rejected, overrides, the approved monthly amount."""
    final = final_decisions()
    approve = Decision.outcome == "approve"
    return (
        select(
            *group_cols,
            func.count().label("decided"),
            func.sum(case((approve, 1), else_=0)).label("approved"),
            func.sum(case((Decision.outcome == "reject", 1), else_=0)).label("rejected"),
            func.sum(case((Decision.override.is_(True), 1), else_=0)).label("overrides"),
            func.sum(case((approve, Decision.amount_monthly), else_=0.0)).label("amount"),
        )
        .select_from(Application)
        .join(final, final.c.application_id == Application.id)
        .join(Decision, Decision.id == final.c.decision_id)
        .where(Application.status.in_(DECIDED_STATES))
    )


def _rates(row: dict) -> dict:
    decided, overrides = row.get("decided") or 0, row.get("overrides") or 0
    row["agreement"] = (decided - overrides) / decided if decided else None
    row["override_rate"] = overrides / decided if decided else None
    return row


def _protect(totals: dict, rows: list[dict], min_cell: int | None, open_: bool = False) -> tuple:
    """An analyst's figures: the rows and their total through :func:`.statistics.suppress_all` (primary and
    complementary suppression: the rows are published parts of the total, which the statistics page also
    shows), as its ``by_region`` table. Counts this module does not publish enter as 0, except ``open`` =
    applications − decided where ``open_`` (then the sum holds). This module's rates are withheld with the
    count they would give back."""
    if not min_cell:
        return totals, rows

    def full(row: dict) -> dict:
        out = {c: 0 for c in COUNTS} | row
        if open_:
            out["open"] = row["applications"] - row["decided"]
        return out | {"region": "*"}

    shown = suppress_all(
        {
            "totals": full(totals),
            "by_region": [full(r) for r in rows],
            "by_district": [],
            "by_model": [],
            "overrides_by_reason": [],
        },
        min_cell,
    )

    def back(exact: dict, row: dict) -> dict:
        out = {k: row[k] for k in exact}
        if isinstance(out.get("decided"), str) or (exact.get("decided") or 0) < min_cell:
            for key in EXTRA_DERIVED:
                if key in out:
                    out[key] = None
        if isinstance(out.get("overrides"), str):
            for key in ("agreement", "override_rate", "departure_share"):
                if key in out:
                    out[key] = None
        if "per_1000" in out and isinstance(out.get("applications"), str):
            out["per_1000"] = None
        if "recipients_per_1000" in out and isinstance(out.get("approved"), str):
            out["recipients_per_1000"] = None
        if row.get("suppressed"):
            out["suppressed"] = True
        return out

    return back(totals, shown["totals"]), [back(e, r) for e, r in zip(rows, shown["by_region"], strict=True)]


def _min_cell(user: User, min_cell: int) -> int | None:
    return min_cell if user.role == "analyst" and min_cell > 1 else None


# --- trends ------------------------------------------------------------------------------------------------


def _period(column, period: str):
    return week_start(column) if period == "week" else quarter_key(column)


def _key(value, period: str) -> str:
    """A period's key: the Monday's ISO date (``2026-11-30``) or the quarter (``2026Q4``)."""
    if period == "week":
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    value = int(value)
    return f"{value // 10}Q{value % 10}"


def trends(
    db: DB,
    user: User,
    period: str = "week",
    region: str | None = None,
    district: str | None = None,
    min_cell: int = 10,
) -> dict:
    """Applications received and cases decided, approved, rejected and overridden per week or quarter,
    with agreement with the recommendation, oldest period first."""
    if period not in PERIODS:
        raise ServiceError(422, f"period: use one of {', '.join(PERIODS)}")
    region, district = scope(db, user, region, district, "trends.read")
    received = _period(Application.received_on, period).label("period")
    apps = dict(db.execute(_where(select(received, func.count()).group_by(received), region, district)).all())
    decided_at = _period(Decision.decided_at, period).label("period")
    decided = {
        r["period"]: dict(r)
        for r in db.execute(
            _where(_decided_query(decided_at).group_by(decided_at), region, district)
        ).mappings()
    }
    rows = []
    for value in sorted(set(apps) | set(decided), key=lambda v: _key(v, period)):
        d = decided.get(value, {})
        row = {
            "period": _key(value, period),
            "applications": int(apps.get(value, 0)),
            "decided": int(d.get("decided") or 0),
            "approved": int(d.get("approved") or 0),
            "rejected": int(d.get("rejected") or 0),
            "overrides": int(d.get("overrides") or 0),
        }
        rows.append(_rates(row))
    totals = _rates({c: sum(r[c] for r in rows) for c in COLUMNS})
    totals, rows = _protect(totals, rows, _min_cell(user, min_cell))
    _audit(db, user, "trends.read", region, district)
    return {
        "period": period,
        "scope": {"region": region, "district": district},
        "rows": rows,
        "totals": totals,
        "min_cell": _min_cell(user, min_cell),
    }


# --- officers ----------------------------------------------------------------------------------------------


def officers(
    db: DB, user: User, region: str | None = None, district: str | None = None, min_cell: int = 10
) -> dict:
    """Per officer who decided a case in scope: cases decided, approved, overrides, the share departing from
    the recommendation and the median calendar days from receipt to decision (the median computed in SQL
    with window functions). Supervisors and admins see usernames; analysts see pseudonyms (``#1``, …, by
    cases decided), since the figures are about a person's work, not about families."""
    if user.role == "officer":
        raise deny(db, user, "officers.read", 403, "officers do not see other officers' workload")
    region, district = scope(db, user, region, district, "officers.read")
    final = final_decisions()
    days = days_between(Application.received_on, Decision.decided_at)
    base = _where(
        select(
            Decision.officer_id.label("officer_id"),
            days.label("days"),
            func.row_number().over(partition_by=Decision.officer_id, order_by=days).label("rn"),
            func.count().over(partition_by=Decision.officer_id).label("n"),
        )
        .select_from(Application)
        .join(final, final.c.application_id == Application.id)
        .join(Decision, Decision.id == final.c.decision_id)
        .where(Application.status.in_(DECIDED_STATES)),
        region,
        district,
    ).subquery("ranked")
    middle = and_(base.c.rn >= (base.c.n + 1) // 2, base.c.rn <= (base.c.n + 2) // 2)  # the middle one or two
    medians = dict(
        db.execute(
            select(base.c.officer_id, func.avg(cast(base.c.days, Float)))
            .where(middle)
            .group_by(base.c.officer_id)
        ).all()
    )
    counts = db.execute(
        _where(_decided_query(Decision.officer_id.label("officer_id")), region, district).group_by(
            Decision.officer_id
        )
    ).mappings()
    rows = []
    for r in counts:
        row = {
            "officer_id": r["officer_id"],
            "decided": int(r["decided"]),
            "approved": int(r["approved"] or 0),
            "rejected": int(r["rejected"] or 0),
            "overrides": int(r["overrides"] or 0),
            "median_days": float(medians[r["officer_id"]]) if r["officer_id"] in medians else None,
        }
        row = _rates(row)
        row["departure_share"] = row["override_rate"]
        rows.append(row)
    rows.sort(key=lambda r: (-r["decided"], r["officer_id"]))
    if user.role == "analyst":
        names = {r["officer_id"]: f"#{k + 1}" for k, r in enumerate(rows)}
    else:
        ids = [r["officer_id"] for r in rows]
        names = dict(db.execute(select(User.id, User.username).where(User.id.in_(ids))).all()) if ids else {}
    for r in rows:
        r["officer"] = names.get(r["officer_id"], f"#{r['officer_id']}")
        del r["officer_id"]
    totals = _rates({c: sum(r[c] for r in rows) for c in COLUMNS[1:]})
    totals["departure_share"] = totals["override_rate"]
    totals, rows = _protect(totals, rows, _min_cell(user, min_cell))
    for r in rows:
        r.setdefault("officer", "")
    _audit(db, user, "officers.read", region, district)
    return {
        "scope": {"region": region, "district": district},
        "rows": rows,
        "totals": totals,
        "min_cell": _min_cell(user, min_cell),
    }


# --- the national dashboard --------------------------------------------------------------------------------


def national(db: DB, user: User, region: str | None = None, min_cell: int = 10) -> dict:
    """By region (or, for ``region``, by its districts): applications, recipients (approved decided cases),
    the approved monthly budget, agreement and overrides, and per 1,000 families of the registry (the
    latest loaded scan's family counts; ``None`` where none is loaded). An officer sees the row of their own
    district only (its region's level, as :func:`scope` allows), never the other districts'."""
    region, district = scope(db, user, region, None, "dashboard.read")
    key = Application.district_kato if region else Application.region_kato
    apps = dict(db.execute(_where(select(key, func.count()).group_by(key), region, district)).all())
    decided = {
        r["area"]: dict(r)
        for r in db.execute(
            _where(_decided_query(key.label("area")).group_by(key), region, district)
        ).mappings()
    }
    latest = db.execute(select(func.max(ScanSummary.quarter))).scalar()
    families: dict[str, int] = {}
    if latest:
        fkey = ScanSummary.district_kato if region else ScanSummary.region_kato
        fq = select(fkey, func.sum(ScanSummary.families)).where(ScanSummary.quarter == latest)
        if region:
            fq = fq.where(ScanSummary.region_kato == region)
        if district:
            fq = fq.where(ScanSummary.district_kato == district)
        families = {k: int(v) for k, v in db.execute(fq.group_by(fkey)).all()}
    rows = []
    for area in sorted(set(apps) | set(decided) | set(families)):
        d = decided.get(area, {})
        row = {
            "area": area,
            "applications": int(apps.get(area, 0)),
            "decided": int(d.get("decided") or 0),
            "approved": int(d.get("approved") or 0),
            "rejected": int(d.get("rejected") or 0),
            "overrides": int(d.get("overrides") or 0),
            "amount_monthly_approved": float(d.get("amount") or 0.0),
            "families": families.get(area),
        }
        _rates(row)
        n = row["families"]
        row["recipients_per_1000"] = row["approved"] / n * 1000 if n else None
        row["per_1000"] = row["applications"] / n * 1000 if n else None
        row["budget_per_1000"] = row["amount_monthly_approved"] / n * 1000 if n else None
        rows.append(row)
    totals = {
        c: sum(r[c] for r in rows)
        for c in ("applications", "decided", "approved", "rejected", "overrides", "amount_monthly_approved")
    }
    fam = [r["families"] for r in rows if r["families"]]
    totals["families"] = sum(fam) if fam else None
    _rates(totals)
    n = totals["families"]
    totals["recipients_per_1000"] = totals["approved"] / n * 1000 if n else None
    mc = _min_cell(user, min_cell)
    totals, rows = _protect(totals, rows, mc, open_=True)
    _audit(db, user, "dashboard.read", region, district)
    return {
        "scope": {"region": region, "district": district},
        "level": "district" if region else "region",
        "families_quarter": latest,
        "rows": rows,
        "totals": totals,
        "min_cell": mc,
    }


def _audit(db: DB, user: User, action: str, region: str | None, district: str | None) -> None:
    record(
        db, user, action, object_type="statistics", object_id=district or region or "*", region_kato=region
    )
    db.commit()
