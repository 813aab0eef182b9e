"""The casework workflow: intake → law and model → the district's queue → the officer's decision.

Functions here take a database session and the acting user, check scope, write the change together with
its audit event in one transaction, and raise :class:`ServiceError` (with an HTTP status) for anything
refused. A refused access is audited too, in a transaction of its own, so the refusal survives the
rollback of the request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.orm.exc import StaleDataError

from atauly.i18n import N_, Translator

from . import audit
from .engine import LAW_VERSION, EngineUnavailable, InvalidApplication, RecommendationEngine, canonical_hash
from .models import (
    DECIDED_STATES,
    OPEN_STATES,
    Application,
    Assessment,
    CorrectionRequest,
    Decision,
    DistrictSetting,
    Recommendation,
    RecommendationView,
    User,
)
from .schemas import ApplicationIn, CorrectionIn, DecisionIn
from .security import in_scope, sees_personal_data

#: Statutory processing time: the akimat decides within 15 working days of the application.
DEADLINE_WORKING_DAYS = 15

#: Why an officer departs from the recommendation (a fixed list, so that overrides can be counted).
REASON_CODES: dict[str, str] = {
    "income_differs": N_("Verified income differs from the records"),
    "household_differs": N_("Household composition differs from the records"),
    "assets_found": N_("Assets found that the records do not show"),
    "home_visit_findings": N_("Findings of the home visit"),
    "commission_finding": N_("Conclusion of the district commission"),
    "documents_incomplete": N_("Documents incomplete or inconsistent"),
    "hardship_not_captured": N_("Hardship the data does not capture"),
    "records_outdated": N_("Records outdated or wrong"),
    "law_criteria": N_("Statutory criteria (the law's result)"),
    "other": N_("Other (explained in the comment)"),
}
#: The largest id a row can have: ids are SQL INTEGER columns, 32-bit on PostgreSQL. A larger id names
#: nothing, and the databases refuse to even compare with it (PostgreSQL: integer out of range; SQLite past
#: 64 bits: OverflowError), so it is answered 404 before any query.
MAX_ROW_ID = 2**31 - 1
#: The largest OFFSET both databases take (a signed 64-bit integer); past any row either way.
MAX_OFFSET = 2**63 - 1
#: Fields of a family's data a correction request can name.
CORRECTABLE = ("family", "persons", "incomes", "assets", "disability", "employment", "other")


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


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


# --- districts -----------------------------------------------------------------------------------------


@cache
def district_catalogue() -> dict[str, str]:
    """District KATO code → its region's code. The synthetic registry's catalogue (real district codes
    were not retrieved; see docs/synthetic-data.md)."""
    from atauly.registry.synthetic.geography import districts

    return {d.kato: d.region_kato for d in districts()}


@cache
def _district_names() -> dict[str, tuple[str, str, str]]:
    from atauly.registry.synthetic.geography import districts

    return {d.kato: (d.name_ru, d.name_kk, d.name_en) for d in districts()}


def district_name(kato: str, lang: str = "ru") -> str:
    names = _district_names().get(kato)
    if names is None:
        return kato
    return {"kk": names[1], "en": names[2]}.get(lang, names[0])


# --- audit helpers ---------------------------------------------------------------------------------


def record(db: DB, user: User | None, action: str, obj: Application | None = None, **kw) -> None:
    audit.append(
        db,
        action,
        actor=user.username if user else kw.pop("actor", "anonymous"),
        role=user.role if user else "anonymous",
        object_type=kw.pop("object_type", "application" if obj is not None else ""),
        object_id=kw.pop("object_id", obj.id if obj is not None else ""),
        region_kato=kw.pop("region_kato", obj.region_kato if obj is not None else None),
        **kw,
    )


def deny(db: DB, user: User | None, action: str, status: int, message: str, **kw) -> ServiceError:
    """Roll back the request's work, audit the refusal in its own transaction, return the error."""
    db.rollback()
    record(db, user, action, outcome="denied", detail={"status": status, "why": message}, **kw)
    db.commit()
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


# --- intake --------------------------------------------------------------------------------------


def snapshot_of(payload: ApplicationIn) -> dict:
    fam = payload.family.model_dump(mode="json")
    fid = fam["family_id"]
    return {
        "families": [fam],
        "persons": [{"family_id": fid, **p.model_dump(mode="json")} for p in payload.persons],
        "incomes": [i.model_dump(mode="json") for i in payload.incomes],
    }


@dataclass
class Intake:
    application: Application
    created: bool
    #: Whether ``recommendation_hidden`` holds for the acting user (known at intake for a new application:
    #: its district's blind mode, read with the model switch; None for a repeat, which must ask).
    hidden: bool | None = None


def submit(
    db: DB,
    engine: RecommendationEngine,
    user: User,
    payload: ApplicationIn,
    *,
    idempotency_key: str | None = None,
    source: str = "api",
    today: date | None = None,
) -> Intake:
    """Record an application with its recommendation, or return the one already recorded under its key."""
    fam = payload.family
    catalogue = district_catalogue()
    if fam.district_kato not in catalogue:
        raise ServiceError(422, f"family.district_kato: unknown district {fam.district_kato}")
    if catalogue[fam.district_kato] != fam.region_kato:
        raise ServiceError(
            422, f"family.district_kato: district {fam.district_kato} is not in region {fam.region_kato}"
        )
    if user.role == "analyst" or not in_scope(user, fam.district_kato, fam.region_kato):
        raise deny(
            db,
            user,
            "application.create",
            403,
            f"no right to submit applications in district {fam.district_kato}",
            object_type="district",
            object_id=fam.district_kato,
            region_kato=fam.region_kato,
        )
    if payload.idempotency_key and idempotency_key and payload.idempotency_key != idempotency_key:
        raise ServiceError(422, "idempotency_key: differs from the Idempotency-Key header")
    today = today or date.today()
    if fam.application_date is None:
        payload.family.application_date = today
    elif fam.application_date > today:
        raise ServiceError(422, "family.application_date: is in the future")
    elif fam.application_date < engine.earliest_application:
        raise ServiceError(
            422,
            f"family.application_date: {fam.application_date} is before {engine.earliest_application}, "
            "the first date the law's rules cover (income is counted for the quarter before it)",
        )
    snapshot = snapshot_of(payload)
    input_hash = canonical_hash(snapshot)
    key = payload.idempotency_key or idempotency_key or f"sha256:{input_hash}"

    existing = _by_key(db, key)
    if existing is not None:
        return _repeat(db, user, existing, input_hash)

    received = payload.family.application_date
    quarter = quarter_of(received)
    setting = district_setting(db, fam.district_kato)
    use_model, blind = setting.model_enabled, setting.blind_mode
    db.rollback()  # nothing is held (SQLite's write lock) while the law and the model run
    try:
        out = engine.recommend(snapshot, quarter, use_model=use_model)
    except InvalidApplication as exc:
        raise ServiceError(422, str(exc), problems=exc.problems) from None
    except (EngineUnavailable, FutureTimeout):  # the engine's process died or is overloaded: nothing kept
        raise ServiceError(
            503, "the law and the model are restarting: submit again shortly", headers={"Retry-After": "5"}
        ) from None

    now = audit.utcnow()
    app = Application(
        idempotency_key=key,
        family_id=fam.family_id,
        region_kato=fam.region_kato,
        district_kato=fam.district_kato,
        quarter=quarter,
        snapshot=snapshot,
        input_hash=input_hash,
        status="new",
        source=source,
        received_on=received,
        deadline=add_working_days(received, DEADLINE_WORKING_DAYS),
        created_at=now,
        created_by=user.id,
        # a new application has none: set, so that reading them after the commit asks the database nothing
        decisions=[],
        assessments=[],
        corrections=[],
    )
    rec = Recommendation(
        created_at=now,
        input_hash=input_hash,
        law=out.law,
        law_version=LAW_VERSION,
        eligible_by_law=out.eligible,
        amount_monthly=out.amount_monthly,
        mode=out.mode,
        model_version=out.model_version,
        probability=out.probability,
        threshold=out.threshold,
        recommended=out.recommended,
        reasons=out.reasons,
        trace={},
    )
    app.recommendations.append(rec)
    db.add(app)
    hidden = user.role == "officer" and blind  # recommendation_hidden for a new application
    try:
        db.flush()
        if not hidden:  # the response shows the recommendation to the submitter
            db.add(RecommendationView(application_id=app.id, user_id=user.id, at=now))
        record(
            db,
            user,
            "application.create",
            app,
            detail={"mode": out.mode, "model": out.model_version, "source": source},
        )
        db.commit()
    except IntegrityError:  # the same key won a race with this request
        db.rollback()
        existing = _by_key(db, key)
        if existing is None:
            raise
        return _repeat(db, user, existing, input_hash)
    return Intake(app, True, hidden=hidden)


def _by_key(db: DB, key: str) -> Application | None:
    return db.execute(select(Application).where(Application.idempotency_key == key)).scalar_one_or_none()


def _repeat(db: DB, user: User, existing: Application, input_hash: str) -> Intake:
    if existing.input_hash != input_hash:
        raise ServiceError(409, "idempotency_key: already used for a different application")
    if not in_scope(user, existing.district_kato, existing.region_kato):
        raise deny(
            db,
            user,
            "application.create",
            403,
            "no right to this application",
            object_type="application",
            object_id=existing.id,
            region_kato=existing.region_kato,
        )
    record(db, user, "application.read", existing, detail={"repeated_submission": True})
    db.commit()
    return Intake(existing, False)


# --- reading ---------------------------------------------------------------------------------------


def load(db: DB, user: User, app_id: int, action: str = "application.read") -> Application:
    """An application the user may see; the read is audited (personal data)."""
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
    app = db.execute(
        select(Application)
        .where(Application.id == app_id)
        .options(
            selectinload(Application.recommendations),
            selectinload(Application.decisions),
            selectinload(Application.assessments),
            selectinload(Application.corrections),
        )
    ).scalar_one_or_none()
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
    record(db, user, action, app)
    db.commit()
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
        db.rollback()


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
    key = (app.input_hash, app.family_id, app.quarter, lang, LAW_VERSION)
    with _TRACES_LOCK:
        if key in _TRACES:
            _TRACES.move_to_end(key)
            return list(_TRACES[key])
    lines = tuple(_compute_trace(app.snapshot, app.family_id, app.quarter, lang))
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


def queue(db: DB, user: User, limit: int = 200, offset: int = 0, status: str = "open") -> list[Application]:
    """Open applications in the user's scope, the nearest deadline first."""
    if not sees_personal_data(user):
        raise deny(db, user, "queue.read", 403, "your role sees aggregates only")
    q = select(Application).options(
        # a list shows none of the family's tables, the law's result or the reasons: not read (nor parsed
        # from JSON) for every row; they load if something asks
        defer(Application.snapshot),
        selectinload(Application.recommendations).defer(Recommendation.law).defer(Recommendation.reasons),
        selectinload(Application.assessments),  # blind mode, per row, without a query per row
        selectinload(Application.decisions),
    )
    q = q.where(Application.status.in_(OPEN_STATES if status == "open" else DECIDED_STATES))
    if user.role == "officer":
        q = q.where(Application.district_kato == user.district_kato)
    elif user.role == "supervisor":
        q = q.where(Application.region_kato == user.region_kato)
    order = (Application.deadline, Application.id) if status == "open" else (Application.decided_at.desc(),)
    offset = min(offset, MAX_OFFSET)
    apps = list(db.execute(q.order_by(*order).limit(limit).offset(offset)).scalars())
    record(
        db,
        user,
        "queue.read",
        object_type="queue",
        object_id=user.district_kato or user.region_kato or "*",
        region_kato=user.region_kato,
        detail={"status": status, "shown": len(apps)},
    )
    db.commit()
    return apps


# --- deciding --------------------------------------------------------------------------------------


def _may_decide(db: DB, user: User, app_id: int, action: str) -> Application:
    if user.role not in ("officer", "supervisor", "admin"):
        raise deny(
            db,
            user,
            action,
            403,
            "your role cannot decide applications",
            object_type="application",
            object_id=app_id,
        )
    return load(db, user, app_id, action=action + ".open")


def assess(db: DB, user: User, app_id: int, outcome: str) -> Application:
    """Blind mode: the officer's own assessment, recorded before the recommendation is shown."""
    app = _may_decide(db, user, app_id, "assessment.create")
    if app.status in DECIDED_STATES:
        raise ServiceError(409, f"application {app_id} is already decided")
    # Blind only if the recommendation is hidden from this officer now (blind mode, no assessment yet)
    # and they were not shown it — nor the law's result — before (blind mode switched on since).
    seen = db.execute(
        select(RecommendationView.id).where(
            RecommendationView.application_id == app.id, RecommendationView.user_id == user.id
        )
    ).first()
    blind = recommendation_hidden(db, user, app) and seen is None
    app.assessments.append(
        Assessment(
            application_id=app.id, officer_id=user.id, outcome=outcome, created_at=audit.utcnow(), blind=blind
        )
    )
    record(db, user, "assessment.create", app, detail={"outcome": outcome, "blind": blind})
    db.commit()
    return app


def decide(db: DB, user: User, app_id: int, body: DecisionIn) -> Application:
    app = _may_decide(db, user, app_id, "decision.create")
    if app.status in DECIDED_STATES:
        raise ServiceError(409, f"application {app_id} is already decided (status {app.status}); reload it")
    if body.version != app.version:
        raise ServiceError(
            409, f"version: the application changed since the form was opened (now {app.version}); reload it"
        )
    if recommendation_hidden(db, user, app):
        raise ServiceError(409, "assessment: blind mode — record your own assessment before deciding")
    rec = app.recommendation
    recommended = "approve" if rec.recommended else "reject"
    override = body.outcome in ("approve", "reject") and body.outcome != recommended
    against_law = body.outcome in ("approve", "reject") and (body.outcome == "approve") != rec.eligible_by_law
    if body.reason_code is not None and body.reason_code not in REASON_CODES:
        raise ServiceError(
            422, f"reason_code: unknown code {body.reason_code!r}; use one of {', '.join(REASON_CODES)}"
        )
    if (override or against_law) and not body.reason_code:
        raise ServiceError(422, "reason_code: required when the decision departs from the recommendation")
    if body.reason_code == "other" and not body.comment.strip():
        raise ServiceError(422, "comment: required with reason code 'other'")
    now = audit.utcnow()
    approve = body.outcome == "approve"
    opened = db.execute(
        select(audit.AuditEvent.at)
        .where(
            audit.AuditEvent.object_type == "application",
            audit.AuditEvent.object_id == str(app.id),
            audit.AuditEvent.actor == user.username,
            audit.AuditEvent.action.like("%read%"),
        )
        .order_by(audit.AuditEvent.id)
        .limit(1)
    ).scalar_one_or_none()
    decision = Decision(
        application_id=app.id,
        recommendation_id=rec.id,
        officer_id=user.id,
        outcome=body.outcome,
        reason_code=body.reason_code,
        comment=body.comment.strip(),
        override=override,
        against_law=against_law,
        # blind: this officer's assessment came before they saw the recommendation or the law's result
        blind=any(a.officer_id == user.id and a.blind for a in app.assessments),
        amount_monthly=rec.amount_monthly if approve else 0.0,
        period=str(rec.law.get("assignment_period", "")) if approve else "",
        opened_at=opened,
        decided_at=now,
    )
    app.decisions.append(decision)
    if body.outcome == "home_visit":
        app.status = "home_visit"
    else:
        app.status = "approved" if approve else "rejected"
        app.decided_at = now
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise ServiceError(409, f"application {app_id} was changed by someone else; reload it") from None
    record(
        db,
        user,
        "decision.create",
        app,
        detail={
            "outcome": body.outcome,
            "override": override,
            "reason_code": body.reason_code,
            "model": rec.model_version,
        },
    )
    db.commit()
    if app.status in ("approved", "rejected"):  # final: the photos' retention period starts
        from .photos import apply_retention

        apply_retention(db, app, now.date())
    return app


def request_correction(db: DB, user: User, app_id: int, body: CorrectionIn) -> Application:
    """The family asks to correct the data used about it: recorded, and the case is reopened."""
    app = _may_decide(db, user, app_id, "correction.create")
    unknown = [f for f in body.fields if f not in CORRECTABLE]
    if unknown:
        raise ServiceError(422, f"fields: unknown {', '.join(unknown)}; use {', '.join(CORRECTABLE)}")
    app.corrections.append(
        CorrectionRequest(
            application_id=app.id,
            fields=list(body.fields),
            description=body.description.strip(),
            recorded_by=user.id,
            created_at=audit.utcnow(),
        )
    )
    app.status = "reopened"
    app.decided_at = None
    # The corrected case is decided within a new statutory period, counted from the request.
    app.deadline = add_working_days(date.today(), DEADLINE_WORKING_DAYS)
    db.flush()
    record(db, user, "correction.create", app, detail={"fields": list(body.fields)})
    db.commit()
    return app


def reason_label(code: str | None, lang: str) -> str:
    return Translator(lang)(REASON_CODES[code]) if code in REASON_CODES else (code or "")


def now() -> datetime:
    return audit.utcnow()
