"""The casework workflow: intake → law and model → the district's queue → the officer's decision.

Functions here take a database session and the acting user, check scope, write the change together with
its audit event in one transaction, and raise :class:`ServiceError` (with an HTTP status) for anything
refused. A refused access is audited too, in a transaction of its own, so the refusal survives the
rollback of the request.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

import numpy as np
from sqlalchemy import Text, case, cast, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import defer, joinedload, raiseload, selectinload

from atauly.registry.labels import CORRECTABLE_FIELDS
from atauly.registry.quarter import Quarter

from . import audit
from .engine import LAW_VERSION
from .facts import with_facts
from .models import (
    DECIDED_STATES,
    OPEN_STATES,
    Application,
    Decision,
    DistrictSetting,
    Recommendation,
    RecommendationView,
    User,
)
from .security import in_scope, sees_personal_data

#: Statutory processing time: the akimat decides within 15 working days of the application.
DEADLINE_WORKING_DAYS = 15

#: The largest id a row can have: ids are SQL INTEGER columns, 32-bit on PostgreSQL. A larger id names
#: nothing, and the databases refuse to even compare with it (PostgreSQL: integer out of range; SQLite past
#: 64 bits: OverflowError), so it is answered 404 before any query.
MAX_ROW_ID = 2**31 - 1
#: The largest OFFSET both databases take (a signed 64-bit integer); past any row either way.
MAX_OFFSET = 2**63 - 1
#: Fields of a family's data a correction request can name.
CORRECTABLE = tuple(CORRECTABLE_FIELDS)


class ServiceError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        problems: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status = status
        self.message = message
        self.problems = problems
        self.headers = headers
        super().__init__(message)


# --- calendar ----------------------------------------------------------------------------------------


@cache
def _holidays(year: int) -> tuple[np.datetime64, ...]:
    import holidays

    return tuple(np.datetime64(d) for d in holidays.country_holidays("KZ", years=[year, year + 1]))


def add_working_days(start: date, days: int) -> date:
    """``days`` working days after ``start`` (weekends and Kazakhstan's public holidays skipped)."""
    result = np.busday_offset(
        np.datetime64(start), days, roll="forward", holidays=list(_holidays(start.year))
    )
    return result.astype(object)


def working_days_between(start: date, end: date) -> int:
    return int(
        np.busday_count(np.datetime64(start), np.datetime64(end), holidays=list(_holidays(start.year)))
    )


def working_days_many(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """:func:`working_days_between` of many pairs at once (``datetime64[D]`` arrays)."""
    starts, ends = np.asarray(starts, "datetime64[D]"), np.asarray(ends, "datetime64[D]")
    out = np.zeros(len(starts), dtype=np.int64)
    years = starts.astype("datetime64[Y]").astype(int) + 1970
    for year in np.unique(years):
        at = years == year
        out[at] = np.busday_count(starts[at], ends[at], holidays=list(_holidays(int(year))))
    return out


def quarter_of(day: date) -> str:
    """The application quarter of a day, as stored (``2025Q3``)."""
    return str(Quarter.of(day))


# --- districts -----------------------------------------------------------------------------------------


@cache
def district_catalogue() -> dict[str, str]:
    """District KATO code → its region's code. The synthetic registry's catalogue (real district codes
    were not retrieved; see docs/synthetic-data.md)."""
    from atauly.registry.codes import districts

    return {d.kato: d.region_kato for d in districts()}


@cache
def _district_names() -> dict[str, tuple[str, str, str]]:
    from atauly.registry.codes import districts

    return {d.kato: (d.name_ru, d.name_kk, d.name_en) for d in districts()}


def district_name(kato: str, lang: str = "ru") -> str:
    names = _district_names().get(kato)
    if names is None:
        return kato
    return {"kk": names[1], "en": names[2]}.get(lang, names[0])


# --- audit helpers ---------------------------------------------------------------------------------


def record(db: DB, user: User | None, action: str, obj: Application | None = None, **kw) -> None:
    commit = kw.pop("commit", False)
    audit.append(db, **audit_entry(user, action, obj, **kw), commit=commit)


def audit_entry(user: User | None, action: str, obj: Application | None = None, **kw) -> dict:
    """The audit event of ``user``'s ``action`` (on ``obj``), as :func:`.audit.append`'s keywords."""
    return {
        "action": action,
        "actor": user.username if user else kw.pop("actor", "anonymous"),
        "role": user.role if user else "anonymous",
        "object_type": kw.pop("object_type", "application" if obj is not None else ""),
        "object_id": kw.pop("object_id", obj.id if obj is not None else ""),
        "region_kato": kw.pop("region_kato", obj.region_kato if obj is not None else None),
        **kw,
    }


def deny(db: DB, user: User | None, action: str, status: int, message: str, **kw) -> ServiceError:
    """Roll back the request's work, audit the refusal in its own transaction, return the error."""
    db.rollback()
    record(db, user, action, outcome="denied", detail={"status": status, "why": message}, **kw, commit=True)
    return ServiceError(status, message)


# --- settings --------------------------------------------------------------------------------------


def district_setting(db: DB, district: str) -> DistrictSetting:
    row = db.get(DistrictSetting, district)
    return row or DistrictSetting(district_kato=district, blind_mode=False, model_enabled=True)


def set_district_settings(
    db: DB,
    user: User,
    districts: list[str],
    blind_mode: bool | None = None,
    model_enabled: bool | None = None,
) -> list[DistrictSetting]:
    catalogue = district_catalogue()
    for d in districts:
        if d not in catalogue:
            raise ServiceError(422, f"district_kato: unknown district {d}")
        if user.role not in ("supervisor", "admin") or not in_scope(user, d, catalogue[d]):
            raise deny(
                db,
                user,
                "settings.update",
                403,
                f"no right to change the settings of district {d}",
                object_type="district",
                object_id=d,
                region_kato=catalogue[d],
            )
    rows = []
    for d in districts:
        row = db.get(DistrictSetting, d) or DistrictSetting(
            district_kato=d, blind_mode=False, model_enabled=True
        )
        if blind_mode is not None:
            row.blind_mode = blind_mode
        if model_enabled is not None:
            row.model_enabled = model_enabled
        row.updated_by, row.updated_at = user.id, audit.utcnow()
        db.add(row)
        record(
            db,
            user,
            "settings.update",
            object_type="district",
            object_id=d,
            region_kato=catalogue[d],
            detail={"blind_mode": row.blind_mode, "model_enabled": row.model_enabled},
        )
        rows.append(row)
    db.commit()
    return rows


# --- reading ---------------------------------------------------------------------------------------


def load(
    db: DB, user: User, app_id: int, action: str = "application.read", *, audited: bool = True
) -> Application:
    """An application the user may see; the read is audited (personal data), in a transaction of its own.

    ``audited=False``: the read is not recorded here, and the transaction stays open; the caller records
    ``action`` itself, on every path (``deciding.decide`` writes it with the decision, in one transaction,
    or alone when the decision is refused). Refusals of the access itself (403) are recorded here as ever."""
    if not sees_personal_data(user):
        raise deny(
            db,
            user,
            action,
            403,
            "your role sees aggregates only",
            object_type="application",
            object_id=app_id,
        )
    if not 0 < app_id <= MAX_ROW_ID:
        raise ServiceError(404, f"application {app_id} not found")
    # Three queries, not six (issue 17: 50 officers' pages): the recommendations (one or a few rows) come
    # joined to the application; the decisions with their officers, and the verifications (the case page,
    # the API and the notice read them all), in one query each. Assessments and correction requests load
    # when read: the API's case and a decision without blind mode never read the corrections, and the
    # assessments only in blind mode or when deciding.
    app = (
        db.execute(
            select(Application)
            .where(Application.id == app_id)
            .options(
                joinedload(Application.recommendations),
                selectinload(Application.decisions).joinedload(Decision.officer),
                selectinload(Application.verifications),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if app is None:
        raise ServiceError(404, f"application {app_id} not found")
    if not in_scope(user, app.district_kato, app.region_kato):
        raise deny(
            db,
            user,
            action,
            403,
            f"application {app_id} is outside your district or region",
            object_type="application",
            object_id=app_id,
            region_kato=app.region_kato,
        )
    if audited:
        record(db, user, action, app, commit=True)
    return app


def recommendation_hidden(db: DB, user: User, app: Application) -> bool:
    """Blind mode: an officer sees the recommendation only after recording an assessment."""
    if user.role != "officer" or app.status in DECIDED_STATES:
        return False
    if not district_setting(db, app.district_kato).blind_mode:
        return False
    return not any(a.officer_id == user.id for a in app.assessments)


def mark_shown(db: DB, user: User, app: Application) -> None:
    """Record that ``user`` has now been shown the application's recommendation or the law's result (the
    first time only): an assessment recorded afterwards is not blind."""
    if app.recommendation is None:
        return
    seen = db.execute(
        select(RecommendationView.id).where(
            RecommendationView.application_id == app.id, RecommendationView.user_id == user.id
        )
    ).first()
    if seen is None:
        db.add(RecommendationView(application_id=app.id, user_id=user.id, at=audit.utcnow()))
        try:
            db.commit()
        except IntegrityError:  # the same user's concurrent request recorded it first
            db.rollback()
    else:
        # Ends the read (SQLite's write lock) without expiring what was loaded: a rollback would, and the
        # response then read the whole application again, its tables and relations included.
        db.commit()


def shown(db: DB, user: User, app: Application) -> bool:
    """Whether this user may see the recommendation now (blind mode) — and if so, that they saw it."""
    hidden = recommendation_hidden(db, user, app)
    if not hidden:
        mark_shown(db, user, app)
    return not hidden


#: Law traces already computed: (input hash, family, quarter, language, law version) → lines, newest last.
_TRACES: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()
_TRACES_MAX = 512
_TRACES_LOCK = threading.Lock()


def law_trace(app: Application, lang: str) -> list[str]:
    """The law's reasoning for this application in ``lang``, computed from the stored snapshot once and
    then kept (the same snapshot, quarter and law version always give the same trace)."""
    rec = app.recommendation
    facts = rec.facts if rec is not None else None  # confirmed facts the current recommendation used
    key = (rec.input_hash if facts else app.input_hash, app.family_id, app.quarter, lang, LAW_VERSION)
    with _TRACES_LOCK:
        if key in _TRACES:
            _TRACES.move_to_end(key)
            return list(_TRACES[key])
    lines = tuple(_compute_trace(with_facts(app.snapshot, facts), app.family_id, app.quarter, lang))
    with _TRACES_LOCK:
        _TRACES[key] = lines
        while len(_TRACES) > _TRACES_MAX:
            _TRACES.popitem(last=False)
    return list(lines)


def _compute_trace(s: dict, family_id: str, quarter: str, lang: str) -> list[str]:
    import pandas as pd

    from atauly.law.explain import explain
    from atauly.registry import Registry
    from atauly.registry.validate import validate

    fam, per, inc, report = validate(
        pd.DataFrame(s["families"]),
        pd.DataFrame(s["persons"]),
        pd.DataFrame(s["incomes"], columns=["person_id", "month", "source", "amount_kzt"]),
    )
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    return explain(reg, family_id, quarter, lang).text().splitlines()


@dataclass
class QueueFilter:
    """What the queue is narrowed to: facts of the case only, never the law's result nor the recommendation
    (the officer meets those on the case page, not while choosing what to open)."""

    status: str = "open"  # "open", "decided" or "all" (a search)
    state: str | None = None  # one of OPEN_STATES / DECIDED_STATES
    quarter: str | None = None
    district: str | None = None
    family_size: int | None = None  # members as declared; 6 means six or more
    assigned: str | None = None  # "me", "none" (nobody yet) or None
    app_id: int | None = None
    iin: str | None = field(default=None, repr=False)  # compared exactly; never written anywhere

    def audit_detail(self) -> dict:
        """The filter as the audit trail records it: which filters, never the IIN searched for."""
        detail = {"status": self.status}
        for name in ("state", "quarter", "district", "family_size", "assigned", "app_id"):
            if getattr(self, name) is not None:
                detail[name] = getattr(self, name)
        if self.iin is not None:
            detail["search"] = "iin"
        return detail


#: Family sizes the filter offers; the last one means "this many or more".
FAMILY_SIZE_MAX = 6


def _scoped(q, user: User):
    if user.role == "officer":
        return q.where(Application.district_kato == user.district_kato)
    if user.role == "supervisor":
        return q.where(Application.region_kato == user.region_kato)
    return q


def _filtered(q, user: User, f: QueueFilter):
    states = {"open": OPEN_STATES, "decided": DECIDED_STATES}.get(f.status, OPEN_STATES + DECIDED_STATES)
    q = q.where(Application.status.in_([f.state] if f.state in states else states))
    if f.quarter:
        q = q.where(Application.quarter == f.quarter)
    if f.district:
        q = q.where(Application.district_kato == f.district)
    if f.family_size is not None:
        q = q.where(
            Application.family_size >= FAMILY_SIZE_MAX
            if f.family_size >= FAMILY_SIZE_MAX
            else Application.family_size == f.family_size
        )
    if f.assigned == "me":
        q = q.where(Application.assigned_to == user.id)
    elif f.assigned == "none":
        q = q.where(Application.assigned_to.is_(None))
    if f.app_id is not None:
        q = q.where(Application.id == f.app_id)
    if f.iin is not None:
        # narrowed in the database by the digits anywhere in the family's data, then compared exactly
        q = q.where(cast(Application.snapshot, Text).contains(f.iin))
    return q


def _holds_iin(db: DB, app_ids: list[int], iin: str) -> set[int]:
    """The applications among ``app_ids`` with a member whose IIN is exactly ``iin``."""
    if not app_ids:
        return set()
    rows = db.execute(select(Application.id, Application.snapshot).where(Application.id.in_(app_ids)))
    return {
        app_id
        for app_id, snap in rows
        if any(secrets.compare_digest(str(p.get("iin", "")), iin) for p in (snap or {}).get("persons", []))
    }


def queue(
    db: DB,
    user: User,
    limit: int = 200,
    offset: int = 0,
    status: str = "open",
    filters: QueueFilter | None = None,
    relations: bool = True,
) -> list[Application]:
    """Applications in the user's scope (open ones the nearest deadline first, decided ones the latest first),
    narrowed by ``filters``; the read is audited with the filters used (never an IIN searched for).
    ``relations=False``: the recommendations, assessments and decisions are not loaded (three queries fewer)
    and reading one raises — for a caller that shows none of them (the API's open queue)."""
    f = filters or QueueFilter(status=status)
    if not sees_personal_data(user):
        raise deny(db, user, "queue.read", 403, "your role sees aggregates only")
    if f.app_id is not None and not 0 < f.app_id <= MAX_ROW_ID:
        f.app_id = 0  # names nothing; the databases refuse to compare with it
    related = (Application.recommendations, Application.assessments, Application.decisions)
    q = select(Application).options(
        # a list shows none of the family's tables, the law's result or the reasons: not read (nor parsed
        # from JSON) for every row; they load if something asks
        defer(Application.snapshot),
        defer(Application.declared),
        *(
            (
                selectinload(Application.recommendations)
                .defer(Recommendation.law)
                .defer(Recommendation.reasons),
                selectinload(Application.assessments),  # blind mode, per row, without a query per row
                selectinload(Application.decisions),
            )
            if relations
            else (raiseload(r) for r in related)
        ),
    )
    q = _filtered(_scoped(q, user), user, f)
    order = (
        (Application.decided_at.desc(),) if f.status == "decided" else (Application.deadline, Application.id)
    )
    offset = min(offset, MAX_OFFSET)
    if f.iin is not None:
        found = list(db.execute(q.order_by(*order)).scalars())
        exact = _holds_iin(db, [a.id for a in found], f.iin)
        apps = [a for a in found if a.id in exact][offset : offset + limit]
    else:
        apps = list(db.execute(q.order_by(*order).limit(limit).offset(offset)).scalars())
    record(
        db,
        user,
        "queue.read",
        object_type="queue",
        object_id=user.district_kato or user.region_kato or "*",
        region_kato=user.region_kato,
        detail={**f.audit_detail(), "shown": len(apps)},
        commit=True,
    )
    return apps


def queue_quarters(db: DB, user: User) -> list[str]:
    """The quarters of the applications in the user's scope, the latest first (the quarter filter's list)."""
    q = _scoped(select(Application.quarter).distinct(), user)
    return sorted((row for row in db.execute(q).scalars() if row), reverse=True)


def next_case(db: DB, user: User, after: int) -> int | None:
    """The application the user opens next: the open ones of their scope except ``after`` and those assigned
    to someone else, the ones assigned to them first, then the nearest deadline."""
    mine = case((Application.assigned_to == user.id, 0), else_=1)
    q = _scoped(select(Application.id), user).where(
        Application.status.in_(OPEN_STATES),
        Application.id != after,
        or_(Application.assigned_to.is_(None), Application.assigned_to == user.id),
    )
    return db.execute(q.order_by(mine, Application.deadline, Application.id).limit(1)).scalar_one_or_none()


def officers_for(db: DB, district: str) -> list[User]:
    """The active officers of a district (whom a supervisor can assign its cases to)."""
    q = select(User).where(User.role == "officer", User.district_kato == district, User.active.is_(True))
    return list(db.execute(q.order_by(User.username)).scalars())


def load_to_assign(db: DB, user: User, app_id: int) -> Application:
    """The application a supervisor (or an admin) may assign, in their scope; anyone else is refused
    (403, audited) before the application is read."""
    if user.role not in ("supervisor", "admin"):
        raise deny(
            db,
            user,
            "application.assign",
            403,
            "only a supervisor assigns applications",
            object_type="application",
            object_id=app_id,
        )
    return load(db, user, app_id, action="application.assign.open")


def assign(db: DB, user: User, app_id: int, officer_id: int | None) -> Application:
    """A supervisor (or an admin) assigns an application to an officer of its district, or takes the
    assignment back (``None``); audited. The application's version is left as it is: an officer's open
    decision form stays valid."""
    app = load_to_assign(db, user, app_id)
    officer = None
    if officer_id is not None:
        officer = db.get(User, officer_id) if 0 < officer_id <= MAX_ROW_ID else None
        if officer is None or officer not in officers_for(db, app.district_kato):
            raise ServiceError(422, "officer: not an active officer of the application's district")
    db.execute(
        update(Application)
        .where(Application.id == app.id)
        .values(assigned_to=officer_id)
        .execution_options(synchronize_session=False)
    )
    record(
        db, user, "application.assign", app, detail={"to": officer.username if officer else None}, commit=True
    )
    db.refresh(app)
    return app


def now() -> datetime:
    return audit.utcnow()
