"""``/applications``: intake, the queue, one application, the officer's assessment, verified values (the
law recomputed on them), a supervisor's assignment, the decision and the family's correction request;
``/reason-codes``.

The queue answers what the queue page shows: an open application's law result and recommendation are not in
it (anti-anchoring: the officer meets them on the application, beside the family's data); a decided one's
are, for review."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from atauly.i18n import LANGUAGES
from atauly.model.explain import coded_reasons, restates_law
from atauly.registry.labels import OVERRIDE_REASONS, label

from ... import casework, deciding, intake
from ...casework import FAMILY_SIZE_MAX, QueueFilter
from ...deps import DBDep, EngineDep, ReadsDep, TokenDep, UserDep, api_user
from ...models import OPEN_STATES, Application, User
from ...schemas import (
    ApplicationIn,
    ApplicationOut,
    AssessmentIn,
    AssignmentIn,
    CorrectionIn,
    DecisionIn,
    DecisionOut,
    RecommendationOut,
    VerificationIn,
    VerifiedValueOut,
)
from ..common import ERRORS, json_answer, released

router = APIRouter(tags=["applications"])


def recommendation_out(app: Application, lang: str = "ru", hidden: bool = False) -> RecommendationOut | None:
    rec = app.recommendation
    if rec is None or hidden:
        return None
    return RecommendationOut(
        mode=rec.mode,
        eligible_by_law=rec.eligible_by_law,
        amount_monthly=rec.amount_monthly,
        law=rec.law,
        model_version=rec.model_version,
        probability=rec.probability,
        threshold=rec.threshold,
        recommended_decision="approve" if rec.recommended else "reject",
        reasons=[
            {**r, "restates_law": restates_law(str(r.get("feature", "")))}
            for r in coded_reasons(rec.reasons, lang)
        ],
        input_hash=rec.input_hash,
        created_at=rec.created_at,
        facts=rec.facts or {},
    )


def application_out(
    app: Application, lang: str = "ru", hidden: bool = False, assignee: str | None = None
) -> ApplicationOut:
    return ApplicationOut(
        id=app.id,
        family_id=app.family_id,
        region_kato=app.region_kato,
        district_kato=app.district_kato,
        quarter=app.quarter,
        status=app.status,
        received_on=app.received_on,
        deadline=app.deadline,
        version=app.version,
        language=app.language or "ru",
        recommendation=recommendation_out(app, lang, hidden),
        decisions=[
            DecisionOut(
                outcome=d.outcome,
                reason_code=d.reason_code,
                comment=d.comment,
                override=d.override,
                against_law=d.against_law,
                blind=d.blind,
                amount_monthly=d.amount_monthly,
                period=d.period,
                officer=d.officer.username,
                decided_at=d.decided_at,
            )
            for d in app.decisions
        ],
        snapshot=app.snapshot,
        assigned_to=assignee,
        verified=[
            VerifiedValueOut(**{k: v[k] for k in VerifiedValueOut.model_fields})
            for v in deciding.verified_values(app)
        ],
    )


def _assignee(db, app: Application) -> str | None:
    if app.assigned_to is None:
        return None
    user = db.get(User, app.assigned_to)
    return user.username if user is not None else None


@router.post(
    "/applications",
    response_model=ApplicationOut,
    status_code=201,
    responses={200: {"model": ApplicationOut, "description": "already submitted"}, **ERRORS},
)
async def create_application(
    request: Request,
    payload: ApplicationIn,
    db: DBDep,
    engine: EngineDep,
    token: TokenDep,
    reads: ReadsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
    lang: str = "ru",
) -> Response:
    """Submit an application: the law and the model run at once and the recommendation comes back."""
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    # The sign-in check, the checks and the look-ups in one trip to a worker thread (the bearer token is
    # checked there, as UserDep would in a trip of its own), the record in a second; the law and the model
    # awaited on the event loop in between, so that no thread waits for the batch (intake.recommend_async).
    user, started = await run_in_threadpool(
        _begin, request, token, db, engine, payload, idempotency_key=idempotency_key, reads=reads
    )
    if isinstance(started, intake.Intake):  # a repeat: the application already recorded under its key
        return await run_in_threadpool(_submitted, db, user, started, lang)
    out = await intake.recommend_async(engine, started)
    # recorded in one transaction with the submissions that arrived while the last group was written
    # (recorder.GroupRecorder: under load, mostly those of the same batch)
    made = await request.app.state.recorder.finish(user, started, out)
    if made.created:  # a new one: everything its answer shows is loaded, so it is written here
        return _answer_new(db, made, lang)
    return await run_in_threadpool(_repeated, db, user, made, lang)


def _begin(request: Request, token: str | None, db, engine, payload: ApplicationIn, **options):
    user = api_user(request, db, token)
    return user, intake.begin(db, engine, user, payload, source="api", **options)


def _answer_new(db, made: intake.Intake, lang: str) -> Response:
    """A new application's answer, written on the event loop: it asks the database nothing (its
    recommendation is loaded, it has no decision, no assignee and no verified value yet, and whether its
    recommendation is hidden was known at intake), and a trip to a worker thread would cost more than the
    writing itself. The request's session holds no connection (:func:`.intake.begin` ended its look-ups'
    transaction with a rollback), so closing it sends nothing."""
    return released(db, json_answer(application_out(made.application, lang, bool(made.hidden)), 201))


def _repeated(db, user: User, made: intake.Intake, lang: str) -> Response:
    """An application recorded earlier under the key (found by the writer): read again in the request's own
    session, whose answer may read more of it (its decisions, its assignee, whether it is shown)."""
    return _submitted(db, user, intake.Intake(db.get(Application, made.application.id), False), lang)


def _submitted(db, user: User, made: intake.Intake, lang: str) -> Response:
    app = made.application
    hidden = made.hidden if made.hidden is not None else not casework.shown(db, user, app)
    out = application_out(app, lang, hidden, _assignee(db, app))
    return released(db, json_answer(out, 201 if made.created else 200))


class QueueItem(BaseModel):
    id: int
    family_id: str
    district_kato: str
    quarter: str
    family_size: int | None = Field(description="Members as declared (as verified once a member left).")
    status: str
    received_on: date
    deadline: date
    version: int
    assigned_to: str | None = Field(description="Username of the officer it is assigned to; null: nobody.")
    eligible_by_law: bool | None = Field(
        description="The law's result, for a decided application only: null for an open one (it is on "
        "GET /applications/{id}, beside the family's data: the queue does not anchor the officer), and "
        "before your assessment in a blind-mode district."
    )
    recommended_decision: Literal["approve", "reject"] | None = Field(
        description="The recommendation, for a decided application only (null as for eligible_by_law)."
    )
    decision: str | None = Field(description="The latest decision's outcome; null before one.")


@router.get("/applications", response_model=list[QueueItem], responses=ERRORS)
def list_applications(
    db: DBDep,
    user: UserDep,
    status: Literal["open", "decided"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    quarter: Annotated[str | None, Query(pattern=r"^[0-9]{4}Q[1-4]$")] = None,
    district: Annotated[str | None, Query(pattern=r"^[0-9]{9}$")] = None,
    family_size: Annotated[
        int | None, Query(ge=1, le=FAMILY_SIZE_MAX, description=f"{FAMILY_SIZE_MAX}: that many or more.")
    ] = None,
    assigned: Annotated[Literal["me", "none"] | None, Query(description="me, or none (nobody yet).")] = None,
) -> list[QueueItem]:
    """The queue: open applications in your district or region, the nearest deadline first
    (``status=decided``: the latest decided), narrowed by facts of the case — never by the law's result or
    the recommendation. An open application's law result and recommendation are not listed."""
    f = QueueFilter(
        status=status, quarter=quarter, district=district, family_size=family_size, assigned=assigned
    )
    # an open application shows none of its recommendation, assessments nor decisions here: not loaded
    apps = casework.queue(db, user, limit=limit, offset=offset, filters=f, relations=status != "open")
    ids = {a.assigned_to for a in apps if a.assigned_to is not None}
    names = {}
    if ids:  # most pages assign nobody: no query (on PostgreSQL a new transaction: three round trips)
        rows = db.execute(select(User.id, User.username).where(User.id.in_(ids)))
        names = {row[0]: row[1] for row in rows}
    items = []
    for a in apps:
        is_open = a.status in OPEN_STATES
        rec = None if is_open else a.recommendation
        # anti-anchoring: an open application's result stays on its own endpoint; blind mode hides it too
        shown = rec is not None and not casework.recommendation_hidden(db, user, a)
        final = (
            None if is_open else next((d for d in reversed(a.decisions) if d.outcome != "home_visit"), None)
        )
        items.append(
            QueueItem(
                id=a.id,
                family_id=a.family_id,
                district_kato=a.district_kato,
                quarter=a.quarter,
                family_size=a.family_size,
                status=a.status,
                received_on=a.received_on,
                deadline=a.deadline,
                version=a.version,
                assigned_to=names.get(a.assigned_to),
                eligible_by_law=rec.eligible_by_law if shown else None,
                recommended_decision=("approve" if rec.recommended else "reject") if shown else None,
                # a reopened case's earlier decision would anchor as its recommendation would
                decision=final.outcome if final else None,
            )
        )
    return released(db, items)


@router.get("/applications/{app_id}", response_model=ApplicationOut, responses=ERRORS)
def get_application(app_id: int, db: DBDep, user: UserDep, lang: str = "ru") -> ApplicationOut:
    app = casework.load(db, user, app_id)
    return _shown(db, user, app, lang)


def _shown(db, user: User, app: Application, lang: str) -> ApplicationOut:
    """The application as this user may see it: in blind mode an officer who has not recorded an
    assessment gets no recommendation, whichever endpoint answers."""
    hidden = not casework.shown(db, user, app)
    out = application_out(app, lang if lang in LANGUAGES else "ru", hidden, _assignee(db, app))
    return released(db, out)


@router.post(
    "/applications/{app_id}/assessment",
    response_model=ApplicationOut,
    responses=ERRORS,
)
def post_assessment(
    app_id: int, body: AssessmentIn, db: DBDep, user: UserDep, lang: str = "ru"
) -> ApplicationOut:
    """Blind mode: record the officer's own assessment; the recommendation is shown afterwards."""
    app = deciding.assess(db, user, app_id, body.outcome)
    return _shown(db, user, app, lang)


@router.post("/applications/{app_id}/decision", response_model=ApplicationOut, responses=ERRORS)
def post_decision(
    app_id: int, body: DecisionIn, db: DBDep, user: UserDep, engine: EngineDep, lang: str = "ru"
) -> ApplicationOut:
    """The officer's decision. Departing from the recommendation needs a ``reason_code``."""
    app = deciding.decide(db, user, app_id, body, engine=engine)
    return _shown(db, user, app, lang)


@router.post(
    "/applications/{app_id}/corrections",
    response_model=ApplicationOut,
    responses=ERRORS,
)
def post_correction(
    app_id: int, body: CorrectionIn, db: DBDep, user: UserDep, lang: str = "ru"
) -> ApplicationOut:
    """Record the family's request to correct its data; the application is reopened."""
    app = deciding.request_correction(db, user, app_id, body)
    return _shown(db, user, app, lang)


@router.post(
    "/applications/{app_id}/verifications",
    response_model=ApplicationOut,
    responses=ERRORS,
)
def post_verification(
    app_id: int, body: VerificationIn, db: DBDep, user: UserDep, engine: EngineDep, lang: str = "ru"
) -> ApplicationOut:
    """Record a value an officer verified (a member's income for a counted month, or a member who left):
    the law and the model are recomputed on the family's data with it and the answer carries the new
    recommendation; the declared value is kept and listed beside the verified one (``verified``). Only an
    open application (409 once decided); ``version`` as for a decision (409 when stale). The note is quoted
    in the family's notice."""
    change = (
        deciding.VerifiedIncome(
            body.person_id, body.month or "", body.source or "", float(body.amount_kzt or 0)
        )
        if body.kind == "income"
        else deciding.MemberLeft(body.person_id)
    )
    app = deciding.verify(db, engine, user, app_id, change, body.note, version=body.version)
    return _shown(db, user, app, lang)


class OfficerOut(BaseModel):
    username: str
    full_name: str | None = None


@router.get("/applications/{app_id}/officers", response_model=list[OfficerOut], responses=ERRORS)
def assignable_officers(app_id: int, db: DBDep, user: UserDep) -> list[OfficerOut]:
    """The active officers of the application's district: whom a supervisor can assign it to (as the case
    page's choice). Supervisors and admins, in scope."""
    app = casework.load_to_assign(db, user, app_id)
    officers = [
        OfficerOut(username=u.username, full_name=u.full_name or None)
        for u in casework.officers_for(db, app.district_kato)
    ]
    return released(db, officers)


@router.put(
    "/applications/{app_id}/assignment",
    response_model=ApplicationOut,
    responses=ERRORS,
)
def put_assignment(
    app_id: int, body: AssignmentIn, db: DBDep, user: UserDep, lang: str = "ru"
) -> ApplicationOut:
    """A supervisor (or an admin) assigns the application to an active officer of its district by username,
    or takes the assignment back (``officer: null``); audited. The application's version is unchanged."""
    officer_id = None
    if body.officer is not None:
        found = db.execute(select(User.id).where(User.username == body.officer)).scalar_one_or_none()
        db.rollback()
        # an unknown username gets the answer an officer of another district gets (no row 0): who exists
        # is not told, and the role and scope checks come first
        officer_id = found if found is not None else 0
    app = casework.assign(db, user, app_id, officer_id)
    return _shown(db, user, app, lang)


@router.get("/reason-codes")
def reason_codes(lang: str = "ru") -> dict[str, str]:
    """The fixed list of reasons for departing from a recommendation."""
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    return {code: label("override_reason", code, lang) for code in OVERRIDE_REASONS}
