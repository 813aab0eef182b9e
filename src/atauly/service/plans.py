"""Stage 3 in the service: family plans drafted from an application's snapshot, edited and approved by a named
specialist, monitored step by step; published district plans; exits by measure.

The plan itself comes from ``atauly.plans`` on the application's one-family slice of the data contract
(the same functions as the national batch). Who may do what: officers in their district and supervisors in
their region draft, approve and record outcomes; analysts see aggregates only (district plans, exits by
measure). Every read of a family's plan and every change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import selectinload

from . import casework
from .casework import ServiceError, deny
from .models import Application, DistrictPlan, FamilyPlan, PlanStep, User
from .security import in_scope, sees_personal_data


def _registry(snapshot: dict):
    from atauly.registry import Registry
    from atauly.registry.validate import validate

    fam, per, inc, report = validate(
        pd.DataFrame(snapshot["families"]),
        pd.DataFrame(snapshot["persons"]),
        pd.DataFrame(snapshot["incomes"], columns=["person_id", "month", "source", "amount_kzt"]),
    )
    return Registry(fam, per, inc, report.person_family, report.income_person)


def _catalog(quarter: str):
    from atauly.plans.national import plan_catalog

    return plan_catalog(quarter)


def _may_plan(db: DB, user: User, action: str, app: Application | None = None) -> None:
    if user.role not in ("officer", "supervisor", "admin"):
        raise deny(
            db, user, action, 403, "only officers, supervisors and administrators work on family plans"
        )


def get_plan(db: DB, user: User, app_id: int, create: bool = True) -> FamilyPlan:
    """The application's plan; drafted by the system the first time (approved conditional-ASP families only)."""
    _may_plan(db, user, "plan.read")
    app = casework.load(db, user, app_id, action="plan.read")
    existing = db.execute(
        select(FamilyPlan)
        .where(FamilyPlan.application_id == app.id)
        .options(selectinload(FamilyPlan.steps))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if existing is not None or not create:
        if existing is None:
            raise ServiceError(404, f"application {app_id} has no plan yet")
        return existing
    if app.status != "approved":
        raise ServiceError(409, "plan: a plan is drafted once the application is approved")
    from atauly.plans.family import FamilyNotPlannable, family_plan, plan_as_dict

    try:
        fp = family_plan(_registry(app.snapshot), app.quarter, app.family_id, _catalog(app.quarter))
    except FamilyNotPlannable as exc:
        raise ServiceError(409, f"plan: {exc}") from None
    row = FamilyPlan(
        application_id=app.id,
        family_id=app.family_id,
        region_kato=app.region_kato,
        district_kato=app.district_kato,
        quarter=app.quarter,
        status="draft",
        plan={**plan_as_dict(fp), "quarter_first_month": _first_month(app.quarter)},
        members=fp.members_count,
        poverty_line=fp.poverty_line,
        per_capita_income=fp.per_capita_income,
        created_at=casework.now(),
        created_by=user.id,
    )
    db.add(row)
    db.flush()
    casework.record(db, user, "plan.draft", app, detail={"plan_id": row.id})
    db.commit()
    return get_plan(db, user, app_id, create=False)


def _first_month(quarter: str) -> str:
    from atauly.law.simulation import Quarter

    return Quarter.parse(quarter).first_month


def family_plan_object(row: FamilyPlan):
    """The stored plan as ``atauly.plans.family.FamilyPlan`` (for the documents)."""
    return _plan_from_dict(row.plan, row.specialist_name or "")


def _plan_from_dict(d: dict, specialist: str):
    from atauly.plans.family import FamilyPlan as FP
    from atauly.plans.family import Member, MemberOption, Step

    members = []
    for m in d["members"]:
        options = [MemberOption(**o) for o in m["options"]]
        rec = m.get("recommended")
        chosen = next((o for o in options if rec and o.measure == rec["measure"]), None)
        members.append(Member(**{**m, "options": options, "recommended": chosen}))
    steps = [Step(**s) for s in d["steps"]]
    fields = {k: v for k, v in d.items() if k not in ("members", "steps", "assigned", "quarter_first_month")}
    fields["specialist"] = specialist
    return FP(members=members, steps=steps, **fields)


@dataclass
class Choice:
    person_id: str
    measure: str  # "" for none
    start_month: str | None = None


def approve(
    db: DB, user: User, app_id: int, specialist: str, choices: list[Choice], version: int | None = None
) -> FamilyPlan:
    """The specialist's edits (one measure per member, among the member's eligible ones) and approval."""
    _may_plan(db, user, "plan.approve")
    row = get_plan(db, user, app_id)
    specialist = " ".join(specialist.split())
    if not 2 <= len(specialist) <= 128:
        raise ServiceError(
            422, "specialist: the approving specialist's name (2 to 128 characters) is required"
        )
    if row.status == "approved":
        raise ServiceError(409, "plan: already approved; a changed plan is a new plan")
    if version is not None and version != row.version:
        raise ServiceError(409, "plan: changed since the form was opened; reload it")
    plan = dict(row.plan)
    members = {m["person_id"]: m for m in plan["members"]}
    for c in choices:
        m = members.get(c.person_id)
        if m is None:
            raise ServiceError(422, f"person_id: {c.person_id!r} is not a member in this plan")
        if c.measure == "":
            m["recommended"], m["start_month"] = None, None
            continue
        option = next((o for o in m["options"] if o["measure"] == c.measure), None)
        if option is None:
            raise ServiceError(422, f"measure: {c.measure!r} is not one {c.person_id} is eligible for")
        m["recommended"] = option
        start = c.start_month or m.get("start_month") or plan["quarter_first_month"]
        if len(start) != 7 or start[4] != "-" or not (start[:4] + start[5:]).isdigit():
            raise ServiceError(422, f"start_month: expected YYYY-MM, got {start!r}")
        m["start_month"] = start
    from atauly.plans.family import plan_as_dict
    from atauly.plans.family import plan_steps as _steps

    fp = _plan_from_dict(plan, specialist)
    fp.steps, fp.monitoring = _steps(plan["quarter_first_month"], fp.assigned, fp.plan_months)
    _recompute(fp)
    row.plan = {**plan_as_dict(fp), "quarter_first_month": plan["quarter_first_month"]}
    row.status = "approved"
    row.specialist_name = specialist
    row.approved_at = casework.now()
    row.approved_by = user.id
    for m in fp.assigned:
        end = _add_months(m.start_month, m.recommended.months - 1)
        db.add(
            PlanStep(
                plan_id=row.id,
                person_id=m.person_id,
                measure=m.recommended.measure,
                start_month=m.start_month,
                end_month=end,
                expected_gain=m.recommended.expected_gain_kzt,
            )
        )
    casework.record(
        db,
        user,
        "plan.approve",
        object_type="family_plan",
        object_id=row.id,
        region_kato=row.region_kato,
        detail={"measures": [m.recommended.measure for m in fp.assigned]},
    )
    db.commit()
    return get_plan(db, user, app_id, create=False)


def _recompute(fp) -> None:
    import numpy as np

    from atauly.plans.eligibility import family_exit_probability

    chosen = fp.assigned
    mu = np.array([m.recommended.expected_gain_kzt for m in chosen])
    sd = np.array([m.recommended.gain_sd_kzt for m in chosen])
    need = (fp.poverty_line - fp.per_capita_income) * fp.members_count + 0.01 * fp.members_count
    fp.expected_gain_kzt = round(float(mu.sum()), 2) if len(mu) else 0.0
    fp.expected_per_capita_after = round(fp.per_capita_income + fp.expected_gain_kzt / fp.members_count, 2)
    fp.exit_probability = (
        round(float(family_exit_probability(np.array([need]), np.zeros(len(mu), dtype=int), mu, sd, 1)[0]), 4)
        if len(mu)
        else 0.0
    )


def _add_months(month: str, k: int) -> str:
    y, m = map(int, month.split("-"))
    m0 = m - 1 + k
    return f"{y + m0 // 12}-{m0 % 12 + 1:02d}"


def record_outcome(
    db: DB,
    user: User,
    step_id: int,
    started: bool | None,
    completed: bool | None,
    employed: bool | None,
    income_after: float | None,
) -> PlanStep:
    """A step's outcome as it becomes known (started, completed, employed, the family's income after)."""
    _may_plan(db, user, "plan.outcome")
    step = db.get(PlanStep, step_id) if 0 < step_id <= casework.MAX_ROW_ID else None
    if step is None:
        raise ServiceError(404, f"plan step {step_id} not found")
    plan = step.family_plan
    if not in_scope(user, plan.district_kato, plan.region_kato):
        raise deny(db, user, "plan.outcome", 403, f"plan step {step_id} is outside your district or region")
    if income_after is not None and not (0 <= income_after < 1e10):
        raise ServiceError(422, "income_after: a monthly income in KZT, 0 or more")
    for name, value in (("started", started), ("completed", completed), ("employed", employed)):
        if value is not None:
            setattr(step, name, value)
    if income_after is not None:
        step.income_after = float(income_after)
    step.recorded_at, step.recorded_by = casework.now(), user.id
    casework.record(
        db, user, "plan.outcome", object_type="plan_step", object_id=step.id, region_kato=plan.region_kato
    )
    db.commit()
    return step


def _scope(query, model, user: User):
    if user.role == "officer":
        return query.where(model.district_kato == user.district_kato)
    if user.role == "supervisor":
        return query.where(model.region_kato == user.region_kato)
    return query  # admin, analyst (aggregates only)


@dataclass
class Monitoring:
    month: str
    due: list[dict]  # steps that should have started and have no outcome
    overdue: list[dict]  # steps past their end without completion recorded
    exited: int  # approved plans whose family income after is above the line
    approved: int


def monitoring(db: DB, user: User, month: str | None = None) -> Monitoring:
    """Steps due and overdue in the user's scope, and exits so far (case workers only)."""
    if not sees_personal_data(user):
        raise deny(db, user, "plan.monitoring", 403, "your role sees aggregates only")
    month = month or dt.date.today().strftime("%Y-%m")
    q = _scope(
        select(PlanStep, FamilyPlan).join(FamilyPlan, PlanStep.plan_id == FamilyPlan.id),
        FamilyPlan,
        user,
    ).where(FamilyPlan.status == "approved")
    due, overdue = [], []
    exited_plans: set[int] = set()
    approved = set()
    for step, plan in db.execute(q).all():
        approved.add(plan.id)
        row = {
            "step_id": step.id,
            "application_id": plan.application_id,
            "family_id": plan.family_id,
            "district": plan.district_kato,
            "measure": step.measure,
            "start_month": step.start_month,
            "end_month": step.end_month,
        }
        if step.income_after is not None and step.income_after / plan.members > plan.poverty_line:
            exited_plans.add(plan.id)
        if step.started is None and step.start_month <= month:
            due.append(row)
        elif step.completed is None and step.end_month < month:
            overdue.append(row)
    db.rollback()
    return Monitoring(month, due, overdue, len(exited_plans), len(approved))


def exits_by_measure(db: DB, user: User) -> pd.DataFrame:
    """Per measure: steps approved, started, completed, employed, and families whose income after the step
    is above the poverty line (aggregates; every role in its scope)."""
    q = _scope(
        select(
            PlanStep.measure,
            PlanStep.started,
            PlanStep.completed,
            PlanStep.employed,
            PlanStep.income_after,
            FamilyPlan.members,
            FamilyPlan.poverty_line,
        ).join(FamilyPlan, PlanStep.plan_id == FamilyPlan.id),
        FamilyPlan,
        user,
    )
    rows = pd.DataFrame(
        db.execute(q).all(),
        columns=["measure", "started", "completed", "employed", "income_after", "members", "poverty_line"],
    )
    db.rollback()
    if rows.empty:
        return pd.DataFrame(columns=["measure", "steps", "started", "completed", "employed", "exited"])
    rows["exited"] = (rows["income_after"] / rows["members"]) > rows["poverty_line"]
    out = rows.groupby("measure").agg(
        steps=("measure", "size"),
        started=("started", lambda s: int((s == True).sum())),  # noqa: E712  (None is unknown)
        completed=("completed", lambda s: int((s == True).sum())),  # noqa: E712
        employed=("employed", lambda s: int((s == True).sum())),  # noqa: E712
        exited=("exited", "sum"),
    )
    return out.reset_index().astype({"exited": int})


def publish_district_plans(db: DB, plan_dir: Path | str) -> tuple[str, int]:
    """Load a national plan's district table (``atauly plans national``'s output) for the district and region
    pages; a republished quarter replaces its rows."""
    plan_dir = Path(plan_dir)
    import json

    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    quarter = str(summary.get("quarter") or "")
    if not quarter:
        raise ValueError(f"{plan_dir}/summary.json names no quarter")
    districts = pd.read_parquet(plan_dir / "districts.parquet")
    cap = pd.read_parquet(plan_dir / "capacity.parquet")
    by_district = {
        d: {r.measure: {"places": int(r.places), "used": int(r.used)} for r in g.itertuples()}
        for d, g in cap.groupby("district")
    }
    old = db.execute(select(DistrictPlan).where(DistrictPlan.quarter == quarter)).scalars().all()
    for row in old:
        db.delete(row)
    db.flush()
    now = casework.now()
    for r in districts.itertuples(index=False):
        db.add(
            DistrictPlan(
                quarter=quarter,
                region_kato=str(r.region_kato),
                district_kato=str(r.district),
                conditional_families=int(r.conditional_families),
                families_planned=int(r.families_planned),
                persons_planned=int(r.persons_planned),
                budget_kzt=float(r.budget_kzt),
                expected_exits=float(r.expected_exits),
                measures=by_district.get(str(r.district), {}),
                loaded_at=now,
            )
        )
    db.commit()
    return quarter, len(districts)


def district_plans(db: DB, user: User, quarter: str | None = None) -> pd.DataFrame:
    """The latest (or ``quarter``'s) published district plans in the user's scope (aggregates)."""
    if quarter is None:
        quarter = db.execute(select(func.max(DistrictPlan.quarter))).scalar_one_or_none()
    if quarter is None:
        db.rollback()
        return pd.DataFrame()
    q = _scope(select(DistrictPlan).where(DistrictPlan.quarter == quarter), DistrictPlan, user)
    rows = [
        {
            "quarter": r.quarter,
            "region_kato": r.region_kato,
            "district_kato": r.district_kato,
            "conditional_families": r.conditional_families,
            "families_planned": r.families_planned,
            "persons_planned": r.persons_planned,
            "budget_kzt": r.budget_kzt,
            "expected_exits": r.expected_exits,
            "measures": r.measures,
        }
        for r in db.execute(q.order_by(DistrictPlan.district_kato)).scalars()
    ]
    db.rollback()
    return pd.DataFrame(rows)


DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def document(db: DB, user: User, app_id: int, kind: str, lang: str, fmt: str) -> tuple[bytes, str, str]:
    """The plan or the social contract as PDF or DOCX: (bytes, media type, file name). A draft is marked as
    such by its empty approval line; the audit records who downloaded it."""
    import tempfile

    from atauly.plans.documents import assistance_plan, social_contract, to_docx, to_pdf

    if kind not in ("plan", "contract") or lang not in ("kk", "ru", "en") or fmt not in ("pdf", "docx"):
        raise ServiceError(422, "kind: plan or contract; lang: kk, ru or en; format: pdf or docx")
    row = get_plan(db, user, app_id)
    fp = family_plan_object(row)
    doc = (assistance_plan if kind == "plan" else social_contract)(fp, lang)
    casework.record(
        db, user, "plan.document", object_type="family_plan", object_id=row.id, region_kato=row.region_kato
    )
    db.commit()
    if fmt == "pdf":
        return to_pdf(doc), "application/pdf", f"{doc.name}.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        path = to_docx(doc, Path(tmp) / f"{doc.name}.docx")
        return path.read_bytes(), DOCX_MEDIA, path.name
