"""``/applications``: intake, the queue, one application, the officer's assessment, decision and the
family's correction request; ``/reason-codes``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from atauly.i18n import LANGUAGES
from atauly.registry.labels import OVERRIDE_REASONS, label

from ... import casework, deciding, intake
from ...deps import DBDep, EngineDep, UserDep
from ...models import Application, User
from ...schemas import (
    ApplicationIn,
    ApplicationOut,
    AssessmentIn,
    CorrectionIn,
    DecisionIn,
    DecisionOut,
    RecommendationOut,
)
from ..common import ERRORS, released

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
        reasons=(rec.reasons or {}).get(lang, []),
        input_hash=rec.input_hash,
        created_at=rec.created_at,
        facts=rec.facts or {},
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
    )


@router.post(
    "/applications",
    response_model=ApplicationOut,
    status_code=201,
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
    made = intake.submit(db, engine, user, payload, idempotency_key=idempotency_key, source="api")
    if not made.created:
        response.status_code = 200
    app = made.application
    hidden = made.hidden if made.hidden is not None else not casework.shown(db, user, app)
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


@router.get("/applications", response_model=list[QueueItem], responses=ERRORS)
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


@router.get("/applications/{app_id}", response_model=ApplicationOut, responses=ERRORS)
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


@router.get("/reason-codes")
def reason_codes(lang: str = "ru") -> dict[str, str]:
    """The fixed list of reasons for departing from a recommendation."""
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    return {code: label("override_reason", code, lang) for code in OVERRIDE_REASONS}
