"""The JSON API under /api/v1 (OAuth2 password flow → bearer token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Header, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from starlette.concurrency import run_in_threadpool

from atauly.i18n import LANGUAGES

from . import casework, statistics
from .casework import ServiceError, record
from .deps import DBDep, EngineDep, UserDep, oauth2
from .models import Application, Session, User
from .schemas import (
    ApplicationIn,
    ApplicationOut,
    AssessmentIn,
    CorrectionIn,
    DecisionIn,
    DecisionOut,
    Problem,
    RecommendationOut,
    Token,
)
from .security import (
    check_password,
    clear_failures,
    count_failure,
    find_session,
    locked_for,
    open_session,
    token_hash,
)
from .throttle import Throttled

router = APIRouter(prefix="/api/v1")

ERRORS = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    404: {"model": Problem},
    409: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login(db, request: Request, username: str, password: str, kind: str) -> tuple[str, User]:
    """Check a password and open a session (see :mod:`.throttle` for what comes before the hash).

    In order: the client address's failures (429, nothing hashed), the account's lock-out (429, nothing
    hashed), a place in the bounded queue for the hash (429 when full), the hash itself outside any
    transaction (on SQLite a transaction holds the write lock), then the outcome in one transaction. Only a
    wrong password for an existing account counts towards its lock-out and is audited on its own; the
    other refusals are tallied (:class:`.throttle.RefusalTally`). The lock-out ends on time and an admin
    can lift it (``atauly users unlock``).

    This blocking form (the web's sign-in form) waits for the hash in a request thread, so its queue is
    short; ``POST /auth/token`` waits without a thread (:func:`login_async`) in a longer one.
    """
    attempt = _before_hash(db, request, username)
    try:
        correct = request.app.state.login_gate.check(check_password, attempt.user, password)
    except Throttled as exc:
        raise _throttled(db, request, attempt, exc) from None
    return _after_hash(db, request, attempt, correct, kind)


async def login_async(db, request: Request, username: str, password: str, kind: str) -> tuple[str, User]:
    """:func:`login` for an async endpoint: the database work in a worker thread, the wait for a hash slot
    on the event loop (no thread held while waiting)."""
    attempt = await run_in_threadpool(_before_hash, db, request, username)
    try:
        correct = await request.app.state.login_gate.check_async(check_password, attempt.user, password)
    except Throttled as exc:
        raise await run_in_threadpool(_throttled, db, request, attempt, exc) from None
    return await run_in_threadpool(_after_hash, db, request, attempt, correct, kind)


@dataclass
class _Attempt:
    username: str
    address: str
    user: User | None


def _throttled(db, request: Request, attempt: _Attempt, exc: Throttled) -> ServiceError:
    tally = request.app.state.refusals
    tally.add("auth.login", exc.why, attempt.username, attempt.address)
    tally.flush(db)
    return ServiceError(
        429, f"{exc.why}: try again in {exc.retry_after} s", headers={"Retry-After": str(exc.retry_after)}
    )


def _before_hash(db, request: Request, username: str) -> _Attempt:
    # NUL cannot be stored (PostgreSQL) nor be part of a username: replaced, so the attempt fails as unknown
    attempt = _Attempt(username.strip()[:64].replace("\x00", "\ufffd"), client_address(request), None)
    try:
        request.app.state.login_gate.check_address(attempt.address)
        user = db.execute(select(User).where(User.username == attempt.username)).scalar_one_or_none()
        if user is not None:
            db.expunge(user)
        db.rollback()
        if user is not None and user.active and (left := locked_for(user)):
            raise Throttled(left, "account locked after failed sign-ins")
    except Throttled as exc:
        raise _throttled(db, request, attempt, exc) from None
    attempt.user = user
    return attempt


def _after_hash(db, request: Request, attempt: _Attempt, correct: bool, kind: str) -> tuple[str, User]:
    settings = request.app.state.settings
    user, username = attempt.user, attempt.username
    if not correct:
        request.app.state.login_gate.failed(attempt.address)
        if user is None or not user.active:
            tally = request.app.state.refusals
            tally.add("auth.login", "unknown or inactive username", username, attempt.address)
            tally.flush(db)
            raise ServiceError(401, "wrong username or password")
        row = db.execute(select(User).where(User.id == user.id).with_for_update()).scalar_one()
        if left := locked_for(row):  # locked meanwhile: refused exactly as a right password would be
            db.rollback()
            raise _throttled(db, request, attempt, Throttled(left, "account locked after failed sign-ins"))
        window = timedelta(minutes=settings.login_lockout_minutes)
        locked = count_failure(row, settings.login_max_failures, window)
        record(
            db,
            None,
            "auth.login",
            actor=username,
            outcome="denied",
            object_type="user",
            object_id=username,
            region_kato=row.region_kato,
            detail={"status": 401, "locked": locked},
        )
        db.commit()
        raise ServiceError(401, "wrong username or password")
    row = db.execute(select(User).where(User.id == user.id).with_for_update()).scalar_one()
    if left := locked_for(row):  # locked meanwhile by concurrent wrong passwords
        db.rollback()
        raise _throttled(db, request, attempt, Throttled(left, "account locked after failed sign-ins"))
    clear_failures(row)
    hours = settings.session_hours if kind == "web" else settings.token_minutes / 60
    token, _ = open_session(db, row, kind, hours)
    record(db, row, "auth.login", object_type="user", object_id=row.username, region_kato=row.region_kato)
    db.commit()
    db.expunge(row)
    return token, row


@router.post("/auth/token", response_model=Token, tags=["auth"], responses=ERRORS)
async def token(request: Request, db: DBDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a short-lived bearer token for the other endpoints (``expires_in`` seconds)
    and a refresh token for ``POST /auth/refresh``."""
    access, user = await login_async(db, request, form.username, form.password, "api")
    return await run_in_threadpool(lambda: released(db, _token_pair(db, request, user, access)))


def _token_pair(db, request: Request, user: User, access: str) -> Token:
    settings = request.app.state.settings
    refresh, _ = open_session(db, user, "refresh", settings.session_hours)
    db.commit()
    return Token(
        access_token=access,
        expires_in=int(settings.token_minutes * 60),
        refresh_token=refresh,
    )


@router.post("/auth/refresh", response_model=Token, tags=["auth"], responses=ERRORS)
def refresh(request: Request, db: DBDep, refresh_token: Annotated[str, Form(max_length=200)]) -> Token:
    """A new access token (and a new refresh token: each is used once) for a valid refresh token."""
    session = find_session(db, refresh_token, "refresh")
    if session is None:
        db.rollback()
        request.app.state.refusals.add(
            "auth.refresh", "unknown or expired refresh token", "", client_address(request)
        )
        request.app.state.refusals.flush(db)
        raise ServiceError(
            401,
            "refresh token unknown, used or expired: sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = session.user
    # Each refresh token is used once: of two concurrent uses only the one whose delete removes the row wins.
    if db.execute(delete(Session).where(Session.id == session.id)).rowcount != 1:
        db.rollback()
        raise ServiceError(
            401,
            "refresh token unknown, used or expired: sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access, _ = open_session(db, user, "api", request.app.state.settings.token_minutes / 60)
    record(
        db, user, "auth.refresh", object_type="user", object_id=user.username, region_kato=user.region_kato
    )
    db.flush()
    return released(db, _token_pair(db, request, user, access))


@router.post("/auth/logout", status_code=204, tags=["auth"], responses=ERRORS)
def logout(
    db: DBDep,
    user: UserDep,
    token: Annotated[str | None, Depends(oauth2)],
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """End this access token (and the refresh token, when sent): neither works afterwards."""
    hashes = [token_hash(t) for t in (token, refresh_token) if t]
    db.execute(
        delete(Session).where(
            Session.user_id == user.id, Session.kind.in_(("api", "refresh")), Session.token_hash.in_(hashes)
        )
    )
    record(db, user, "auth.logout", object_type="user", object_id=user.username, region_kato=user.region_kato)
    db.commit()
    db.close()
    return Response(status_code=204)


def released(db, out):
    """End the request's database work before the response goes out. FastAPI validates a sync endpoint's
    response in a worker thread; a transaction still open then (a lazy load after the commit) would keep
    the pool's connection — SQLite's only one — while waiting for that thread, and under load every
    thread was waiting for the connection (30 s, then 500)."""
    db.close()
    return out


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
        reasons=(rec.reasons or {}).get(lang, []),
        input_hash=rec.input_hash,
        created_at=rec.created_at,
    )


def application_out(app: Application, lang: str = "ru", hidden: bool = False) -> ApplicationOut:
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
    )


@router.post(
    "/applications",
    response_model=ApplicationOut,
    status_code=201,
    tags=["applications"],
    responses={200: {"model": ApplicationOut, "description": "already submitted"}, **ERRORS},
)
def create_application(
    payload: ApplicationIn,
    response: Response,
    db: DBDep,
    engine: EngineDep,
    user: UserDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
    lang: str = "ru",
) -> ApplicationOut:
    """Submit an application: the law and the model run at once and the recommendation comes back."""
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    intake = casework.submit(db, engine, user, payload, idempotency_key=idempotency_key, source="api")
    if not intake.created:
        response.status_code = 200
    app = intake.application
    hidden = intake.hidden if intake.hidden is not None else not casework.shown(db, user, app)
    return released(db, application_out(app, lang, hidden))


class QueueItem(BaseModel):
    id: int
    family_id: str
    district_kato: str
    status: str
    received_on: date
    deadline: date
    version: int
    eligible_by_law: bool | None = Field(
        description="The law's result; null before your assessment in a blind-mode district."
    )


@router.get("/applications", response_model=list[QueueItem], tags=["applications"], responses=ERRORS)
def list_applications(
    db: DBDep,
    user: UserDep,
    status: Literal["open", "decided"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[QueueItem]:
    """The queue: open applications in your district or region, the nearest deadline first
    (``status=decided``: the latest decided)."""
    apps = casework.queue(db, user, limit=limit, offset=offset, status=status)
    return released(
        db,
        [
            QueueItem(
                id=a.id,
                family_id=a.family_id,
                district_kato=a.district_kato,
                status=a.status,
                received_on=a.received_on,
                deadline=a.deadline,
                version=a.version,
                # blind mode: the law's result is hidden from an officer until their assessment
                eligible_by_law=a.recommendation.eligible_by_law
                if a.recommendation and not casework.recommendation_hidden(db, user, a)
                else None,
            )
            for a in apps
        ],
    )


@router.get("/applications/{app_id}", response_model=ApplicationOut, tags=["applications"], responses=ERRORS)
def get_application(app_id: int, db: DBDep, user: UserDep, lang: str = "ru") -> ApplicationOut:
    app = casework.load(db, user, app_id)
    return _shown(db, user, app, lang)


def _shown(db, user: User, app: Application, lang: str) -> ApplicationOut:
    """The application as this user may see it: in blind mode an officer who has not recorded an
    assessment gets no recommendation, whichever endpoint answers."""
    hidden = not casework.shown(db, user, app)
    return released(db, application_out(app, lang if lang in LANGUAGES else "ru", hidden))


@router.post(
    "/applications/{app_id}/assessment",
    response_model=ApplicationOut,
    tags=["applications"],
    responses=ERRORS,
)
def post_assessment(
    app_id: int, body: AssessmentIn, db: DBDep, user: UserDep, lang: str = "ru"
) -> ApplicationOut:
    """Blind mode: record the officer's own assessment; the recommendation is shown afterwards."""
    app = casework.assess(db, user, app_id, body.outcome)
    return _shown(db, user, app, lang)


@router.post(
    "/applications/{app_id}/decision", response_model=ApplicationOut, tags=["applications"], responses=ERRORS
)
def post_decision(
    app_id: int, body: DecisionIn, db: DBDep, user: UserDep, lang: str = "ru"
) -> ApplicationOut:
    """The officer's decision. Departing from the recommendation needs a ``reason_code``."""
    app = casework.decide(db, user, app_id, body)
    return _shown(db, user, app, lang)


@router.post(
    "/applications/{app_id}/corrections",
    response_model=ApplicationOut,
    tags=["applications"],
    responses=ERRORS,
)
def post_correction(
    app_id: int, body: CorrectionIn, db: DBDep, user: UserDep, lang: str = "ru"
) -> ApplicationOut:
    """Record the family's request to correct its data; the application is reopened."""
    app = casework.request_correction(db, user, app_id, body)
    return _shown(db, user, app, lang)


@router.get("/reason-codes", tags=["applications"])
def reason_codes(lang: str = "ru") -> dict[str, str]:
    """The fixed list of reasons for departing from a recommendation."""
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    return {code: casework.reason_label(code, lang) for code in casework.REASON_CODES}


@router.get("/statistics", tags=["statistics"], responses=ERRORS)
def get_statistics(
    request: Request, db: DBDep, user: UserDep, region: str | None = None, district: str | None = None
) -> dict:
    """Agreement, overrides, processing time, approvals and amounts, by district, region and model.
    For analysts, counts from 1 to 9 show as ``"<10"`` and the rates of such small groups are null."""
    min_cell = request.app.state.settings.statistics_min_cell
    read = request.app.state.read_sessions()
    out = statistics.compute(db, user, region=region, district=district, min_cell=min_cell, read=read)
    return released(db, out)


class ReplyIn(BaseModel):
    text: str = Field(
        min_length=1, max_length=160, description="The family's reply as received: «1 CODE» or «0 CODE»."
    )


class OfferOut(BaseModel):
    code: str
    status: str
    application_id: int | None


@router.post("/offers/replies", response_model=OfferOut, tags=["offers"], responses=ERRORS)
def post_offer_reply(body: ReplyIn, db: DBDep, engine: EngineDep, user: UserDep) -> OfferOut:
    """The SMS gateway's webhook (an admin account): a family's reply to an offer. Consent creates the
    application; repeats change nothing."""
    if user.role != "admin":
        raise casework.deny(db, user, "offer.reply", 403, "only the gateway's (admin) account posts replies")
    from .offers import parse_reply, reply

    answer, code = parse_reply(body.text)
    offer = reply(db, engine, code, answer)
    return released(db, OfferOut(code=offer.code, status=offer.status, application_id=offer.application_id))


@router.get("/screening", tags=["screening"], responses=ERRORS)
def get_screening(
    db: DBDep,
    user: UserDep,
    quarter: Annotated[str | None, Query(pattern=r"^[0-9]{4}Q[1-4]$")] = None,
    consent_rate: Annotated[float, Query(ge=0, le=1)] = 0.5,
) -> dict:
    """The proactive scan's figures for your scope: by region and district, entitled by law, receiving,
    applied, candidates, expected take-up, additional monthly budget, and offers sent, agreed, refused."""
    from .dashboard import scan_dashboard

    return released(db, scan_dashboard(db, user, quarter, consent_rate))
