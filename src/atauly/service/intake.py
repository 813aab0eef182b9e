"""Intake: an application is checked (district, scope, idempotency key, date), the law and the model run on
it at once, and it is recorded with its recommendation and an audit event in one transaction. A repeated
submission under the same key returns the application already recorded (never a second one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB

from . import audit
from .casework import (
    DEADLINE_WORKING_DAYS,
    ServiceError,
    add_working_days,
    audit_entry,
    deny,
    district_catalogue,
    district_setting,
    quarter_of,
    record,
)
from .engine import (
    LAW_VERSION,
    EngineUnavailable,
    InvalidApplication,
    Outcome,
    RecommendationEngine,
    canonical_hash,
)
from .facts import with_facts
from .models import Application, DistrictSetting, Recommendation, RecommendationView, User
from .schemas import ApplicationIn
from .security import in_scope

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
    reads: Callable[[], DB] | None = None,
) -> Intake:
    """Record an application with its recommendation, or return the one already recorded under its key:
    :func:`begin`, the law and the model, :func:`finish`. (The API awaits the law and the model between
    the two without holding a thread: :func:`recommend_async`.)"""
    started = begin(
        db, engine, user, payload, idempotency_key=idempotency_key, source=source, today=today, reads=reads
    )
    if isinstance(started, Intake):
        return started
    return finish(db, user, started, recommend(engine, started.snapshot, started.quarter, started.use_model))


@dataclass
class Pending:
    """A new application checked and looked up (:func:`begin`), waiting for the law and the model."""

    payload: ApplicationIn
    snapshot: dict
    input_hash: str
    key: str
    quarter: str
    #: The district's settings as read in :func:`begin`, as values: an ORM row's attributes are expired by
    #: the rollback that follows the look-ups, and reading one again would open a transaction (on SQLite the
    #: write lock) for as long as the application waits for its batch.
    use_model: bool
    blind_mode: bool
    source: str


def begin(
    db: DB,
    engine: RecommendationEngine,
    user: User,
    payload: ApplicationIn,
    *,
    idempotency_key: str | None = None,
    source: str = "api",
    today: date | None = None,
    reads: Callable[[], DB] | None = None,
) -> Intake | Pending:
    """A submission's checks (district, scope, key, date) and look-ups, before the law runs: the application
    already recorded under its key (an :class:`Intake`, its audit event written), or a :class:`Pending` one,
    with no transaction left open. ``reads`` makes sessions for the look-ups (the key, the district's
    settings): on SQLite the read pool's (:func:`.db.make_read_engine`), which take no write lock, so that
    a submission holds the one write connection only for its insert and audit event; None: in ``db``."""
    _check(db, engine, user, payload, idempotency_key, today or date.today())
    snapshot = snapshot_of(payload)
    input_hash = canonical_hash(snapshot)
    key = payload.idempotency_key or idempotency_key or f"sha256:{input_hash}"
    fam = payload.family
    existing, setting = _look_up(db, reads, key, fam.district_kato)
    if existing is not None:
        return _repeat(db, user, existing, input_hash)
    use_model, blind_mode = bool(setting.model_enabled), bool(setting.blind_mode)  # before the rollback
    db.rollback()  # nothing is held (SQLite's write lock) while the law and the model run
    quarter = quarter_of(fam.application_date)
    return Pending(payload, snapshot, input_hash, key, quarter, use_model, blind_mode, source)


def finish(db: DB, user: User, pending: Pending, out: Outcome) -> Intake:
    """Record the pending application with the engine's outcome and its audit event, in one transaction;
    the one recorded meanwhile under the same key when this one loses the race."""
    key, input_hash = pending.key, pending.input_hash
    app = _application(
        pending.payload, pending.snapshot, input_hash, key, pending.quarter, out, user, pending.source
    )
    db.add(app)
    hidden = user.role == "officer" and pending.blind_mode  # recommendation_hidden for a new one
    try:
        db.flush()
        if not hidden:  # the response shows the recommendation to the submitter
            db.add(RecommendationView(application_id=app.id, user_id=user.id, at=app.created_at))
        detail = {"mode": out.mode, "model": out.model_version, "source": pending.source}
        record(db, user, "application.create", app, detail=detail, commit=True)
    except IntegrityError:  # the same key won a race with this request
        db.rollback()
        existing = _by_key(db, key)
        if existing is None:
            raise
        return _repeat(db, user, existing, input_hash)
    return Intake(app, True, hidden=hidden)


def finish_many(db: DB, items: list[tuple[User, Pending, Outcome]]) -> list[Intake | Exception]:
    """Record several pending applications (each with its submitter and the engine's outcome) in one
    transaction: one write lock (SQLite) or head-row lock (PostgreSQL) and one commit for all, the audit
    events one after another in the chain. The result for each item, in order: its :class:`Intake`, or the
    exception :func:`finish` would have raised for it.

    A key the group's insert finds taken (another request recorded it meanwhile) fails the transaction: it
    is rolled back and each item is recorded alone (:func:`finish`: a repeat, a 409, or recorded), so that
    one item's outcome stays its own. Items sharing a key are never in one insert: the first goes with the
    group, the others alone after it (as repeats of it). Any other failure (the database locked, unreachable)
    is raised for the whole group and nothing is tried again: it would fail each item alone too, and after
    a lost connection the commit's outcome is unknown — a retry would find its own key and answer "already
    submitted" for an application it never recorded."""
    results: list[Intake | Exception | None] = [None] * len(items)
    group, later, keys = [], [], set()
    for k, (_, pending, _) in enumerate(items):
        (later if pending.key in keys else group).append(k)
        keys.add(pending.key)
    if len(group) == 1:
        results[group[0]] = _alone(db, items[group[0]])
    else:
        try:
            made = _record_group(db, [items[k] for k in group])
        except IntegrityError:
            db.rollback()
            for k in group:
                results[k] = _alone(db, items[k])
        else:
            db.expunge_all()  # loaded as they are: a later item's rollback would expire them
            for k, intake in zip(group, made, strict=True):
                results[k] = intake
    for k in later:
        results[k] = _alone(db, items[k])
    return results  # type: ignore[return-value]  # every slot filled above


def _record_group(db: DB, items: list[tuple[User, Pending, Outcome]]) -> list[Intake]:
    made = []
    for user, pending, out in items:
        app = _application(
            pending.payload,
            pending.snapshot,
            pending.input_hash,
            pending.key,
            pending.quarter,
            out,
            user,
            pending.source,
        )
        db.add(app)
        made.append((app, user.role == "officer" and pending.blind_mode))
    db.flush()
    for (app, hidden), (user, _, _) in zip(made, items, strict=True):
        if not hidden:  # as in finish: the response shows the recommendation to the submitter
            db.add(RecommendationView(application_id=app.id, user_id=user.id, at=app.created_at))
    events = [
        audit_entry(
            user,
            "application.create",
            app,
            detail={"mode": out.mode, "model": out.model_version, "source": pending.source},
        )
        for (app, _), (user, pending, out) in zip(made, items, strict=True)
    ]
    audit.append_many(db, events, commit=True)  # the head's lock taken once for the group
    return [Intake(app, True, hidden=hidden) for app, hidden in made]


def _alone(db: DB, item: tuple[User, Pending, Outcome]) -> Intake | Exception:
    """:func:`finish` on one item, its exception returned (the session rolled back for the next). What it
    loaded is detached from the session, loaded as it is: a later item's rollback would expire it."""
    try:
        return finish(db, *item)
    except Exception as exc:  # noqa: BLE001 — handed to the item's request, which raises it
        try:
            db.rollback()
        except Exception:  # noqa: BLE001, S110 — a broken connection: the next item's own statement says so
            pass
        return exc
    finally:
        db.expunge_all()


def _check(
    db: DB,
    engine: RecommendationEngine,
    user: User,
    payload: ApplicationIn,
    idempotency_key: str | None,
    today: date,
) -> None:
    """Refuse what cannot be recorded (district, scope, key, date); an application without a date is dated
    ``today``."""
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


def recommend(engine: RecommendationEngine, snapshot: dict, quarter: str, use_model: bool) -> Outcome:
    """The law and the model on the application; a refusal or an engine restart as a ServiceError."""
    try:
        return engine.recommend(snapshot, quarter, use_model=use_model)
    except InvalidApplication as exc:
        raise ServiceError(422, str(exc), problems=exc.problems) from None
    except (EngineUnavailable, FutureTimeout):  # the engine's process died or is overloaded: nothing kept
        raise ServiceError(
            503,
            "the law and the model are busy or restarting: submit again shortly",
            headers={"Retry-After": "5"},
        ) from None


async def recommend_async(engine: RecommendationEngine, pending: Pending, timeout: float = 60) -> Outcome:
    """:func:`recommend` awaited on the event loop: no thread is held while the application waits for its
    batch (under load most of a submission's time), so the threads that do the requests' database work
    are free for other requests. The job is shielded: a request given up on (the timeout) leaves it to be
    computed with its batch, as :func:`recommend`'s does."""
    try:
        job = engine.enqueue(pending.snapshot, pending.quarter, pending.use_model)
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job)), timeout)
    except InvalidApplication as exc:
        raise ServiceError(422, str(exc), problems=exc.problems) from None
    except (EngineUnavailable, TimeoutError):  # the engine's process died or is overloaded: nothing kept
        raise ServiceError(
            503,
            "the law and the model are busy or restarting: submit again shortly",
            headers={"Retry-After": "5"},
        ) from None


def _application(
    payload: ApplicationIn,
    snapshot: dict,
    input_hash: str,
    key: str,
    quarter: str,
    out: Outcome,
    user: User,
    source: str,
) -> Application:
    """The new application with its recommendation (not yet added to a session)."""
    fam = payload.family
    received = fam.application_date
    now = audit.utcnow()
    app = Application(
        idempotency_key=key,
        family_id=fam.family_id,
        region_kato=fam.region_kato,
        district_kato=fam.district_kato,
        quarter=quarter,
        snapshot=snapshot,
        input_hash=input_hash,
        family_size=len(snapshot["persons"]),
        status="new",
        source=source,
        language=payload.language,
        received_on=received,
        deadline=add_working_days(received, DEADLINE_WORKING_DAYS),
        created_at=now,
        created_by=user.id,
        # a new application has none: set, so that reading them after the commit asks the database nothing
        decisions=[],
        assessments=[],
        corrections=[],
        verifications=[],
    )
    app.recommendations.append(recommendation_of(out, input_hash, now))
    return app


def recommendation_of(out: Outcome, input_hash: str, now) -> Recommendation:
    """A recommendation record of the engine's outcome on tables whose hash is ``input_hash``."""
    return Recommendation(
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


def recommendation_on(
    engine: RecommendationEngine, snapshot: dict, quarter: str, use_model: bool, facts: dict | None
) -> Recommendation:
    """The law and the model again on an application's tables with its confirmed facts applied
    (:func:`atauly.service.facts.with_facts`). The one recompute: after the confirmed facts change
    (:func:`atauly.service.photos.recompute`) and after a verified value (:func:`atauly.service.deciding.verify`),
    so a verification never drops a confirmed fact nor a fact a verified value. The record names the facts it
    used and the hash of the tables it was computed on. Runs the engine: call it holding no database lock."""
    tables = with_facts(snapshot, facts)
    out = recommend(engine, tables, quarter, use_model)
    rec = recommendation_of(out, canonical_hash(tables), audit.utcnow())
    rec.facts = dict(facts) if facts else None
    return rec


def _look_up(
    db: DB, reads: Callable[[], DB] | None, key: str, district: str
) -> tuple[Application | None, DistrictSetting | None]:
    """The application already recorded under ``key`` (in ``db``), or None and the district's settings.
    Through a session of ``reads`` when given: an application seen there is read again in ``db`` (a repeat
    is rare; its audit event is written there). One recorded after the read pool's snapshot is found when
    the insert hits the key's unique index, as in a race between two submissions (:func:`finish`)."""
    if reads is None:
        existing = _by_key(db, key)
        return existing, (None if existing is not None else district_setting(db, district))
    with reads() as read:  # closed, not rolled back: the settings read stay loaded, detached
        seen = _by_key(read, key) is not None
        setting = district_setting(read, district)
    return (_by_key(db, key) if seen else None), setting


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
    record(db, user, "application.read", existing, detail={"repeated_submission": True}, commit=True)
    return Intake(existing, False)
