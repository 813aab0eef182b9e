"""``/applications/{id}/plan``, ``/plan-steps``, ``/plans``: exit plans (Stage 3) — a family's plan drafted by
the system and approved by a specialist, outcomes per step, monitoring, district plans, exits by measure."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ... import plans as svc
from ...deps import DBDep, UserDep
from ...schemas import Strict, Text
from ..common import ERRORS, released

router = APIRouter(tags=["plans"])

AppId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class StepOut(BaseModel):
    id: int
    person_id: str
    measure: str
    start_month: str
    end_month: str
    expected_gain: float
    started: bool | None
    completed: bool | None
    employed: bool | None
    income_after: float | None


class PlanOut(BaseModel):
    id: int
    application_id: int
    family_id: str
    quarter: str
    status: Literal["draft", "approved"]
    specialist_name: str | None
    version: int
    plan: dict = Field(description="The plan as drafted (and edited): members, options, steps, expectations.")
    steps: list[StepOut]


class ChoiceIn(Strict):
    person_id: Text = Field(min_length=1, max_length=64)
    measure: Text = Field(
        default="", max_length=32, description="A measure the member is eligible for; empty: none."
    )
    start_month: Month | None = None


class ApproveIn(Strict):
    specialist: Text = Field(min_length=2, max_length=128, description="Name of the approving specialist.")
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=20)
    version: int | None = Field(default=None, ge=0, le=2**31 - 1)


class OutcomeIn(Strict):
    started: bool | None = None
    completed: bool | None = None
    employed: bool | None = None
    income_after: float | None = Field(
        default=None, ge=0, lt=1e10, description="The family's monthly income, KZT."
    )


class MonitoringOut(BaseModel):
    month: str
    due: list[dict]
    overdue: list[dict]
    approved_plans: int
    exited: int


def _out(row) -> PlanOut:
    return PlanOut(
        id=row.id,
        application_id=row.application_id,
        family_id=row.family_id,
        quarter=row.quarter,
        status=row.status,
        specialist_name=row.specialist_name,
        version=row.version,
        plan=row.plan,
        steps=[
            StepOut(
                id=s.id,
                person_id=s.person_id,
                measure=s.measure,
                start_month=s.start_month,
                end_month=s.end_month,
                expected_gain=s.expected_gain,
                started=s.started,
                completed=s.completed,
                employed=s.employed,
                income_after=s.income_after,
            )  # fmt: skip
            for s in row.steps
        ],
    )


@router.get("/applications/{app_id}/plan", response_model=PlanOut, responses=ERRORS)
def get_plan(app_id: AppId, db: DBDep, user: UserDep) -> PlanOut:
    """The family's individual assistance plan: drafted by the system on first request (approved
    applications on conditional ASP), then as edited and approved."""
    return released(db, _out(svc.get_plan(db, user, app_id)))


@router.post("/applications/{app_id}/plan/approve", response_model=PlanOut, responses=ERRORS)
def approve_plan(app_id: AppId, body: ApproveIn, db: DBDep, user: UserDep) -> PlanOut:
    """The specialist's choices (one eligible measure per member, or none) and approval, with their name."""
    choices = [svc.Choice(c.person_id, c.measure, c.start_month) for c in body.choices]
    return released(db, _out(svc.approve(db, user, app_id, body.specialist, choices, body.version)))


@router.get(
    "/applications/{app_id}/plan/document",
    response_class=Response,
    responses={
        **ERRORS,
        200: {
            "content": {
                "application/pdf": {},
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
            }
        },
    },
)
def plan_document(
    app_id: AppId,
    db: DBDep,
    user: UserDep,
    kind: Literal["plan", "contract"] = "plan",
    lang: Literal["kk", "ru", "en"] = "ru",
    fmt: Annotated[Literal["pdf", "docx"], Query(alias="format")] = "pdf",
) -> Response:
    """The individual assistance plan or the social contract as PDF or editable DOCX (the family's version)."""
    body, media, name = svc.document(db, user, app_id, kind, lang, fmt)
    db.close()
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.post("/plan-steps/{step_id}/outcome", response_model=StepOut, responses=ERRORS)
def post_outcome(step_id: AppId, body: OutcomeIn, db: DBDep, user: UserDep) -> StepOut:
    """Record what happened: started, completed, employed, and the family's monthly income after."""
    s = svc.record_outcome(db, user, step_id, body.started, body.completed, body.employed, body.income_after)
    out = StepOut(
        id=s.id, person_id=s.person_id, measure=s.measure, start_month=s.start_month, end_month=s.end_month,
        expected_gain=s.expected_gain, started=s.started, completed=s.completed, employed=s.employed,
        income_after=s.income_after,
    )  # fmt: skip
    return released(db, out)


@router.get("/plans/monitoring", response_model=MonitoringOut, responses=ERRORS)
def get_monitoring(
    db: DBDep, user: UserDep, month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None
) -> MonitoringOut:
    """Steps due (should have started) and overdue (past their end, not completed) in your scope; exits."""
    m = svc.monitoring(db, user, month)
    return released(
        db,
        MonitoringOut(
            month=m.month, due=m.due, overdue=m.overdue, approved_plans=m.approved, exited=m.exited
        ),
    )


@router.get("/plans/exits", responses=ERRORS)
def get_exits(db: DBDep, user: UserDep) -> list[dict]:
    """Exits by measure in your scope: steps, started, completed, employed, families above the line after."""
    return released(db, svc.exits_by_measure(db, user).to_dict(orient="records"))


@router.get("/plans/districts", responses=ERRORS)
def get_district_plans(
    db: DBDep, user: UserDep, quarter: Annotated[str | None, Query(pattern=r"^\d{4}Q[1-4]$")] = None
) -> list[dict]:
    """The published district plans in your scope (aggregates: families, measures, budget, expected exits)."""
    return released(db, svc.district_plans(db, user, quarter).to_dict(orient="records"))
