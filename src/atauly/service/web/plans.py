"""Exit plans (Stage 3): a family's plan (drafted by the system, edited and approved by a named specialist;
its documents in kk/ru are the family's version), and the plans page — steps due and overdue, exits by
measure, the published district plans (aggregates for analysts)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from atauly.i18n import N_

from .. import plans as svc
from ..casework import ServiceError
from ..security import sees_personal_data
from .kit import Page, Posted, SignedIn, district_label, finish, redirect, render

router = APIRouter(include_in_schema=False)

STATUS = {"draft": N_("Draft, not yet approved"), "approved": N_("Approved by the specialist")}
#: Labels the templates pass to ``t`` from tuples (marked here for the catalogs).
LABELS = (
    N_("Started"),
    N_("Completed"),
    N_("Employed"),
    N_("Steps due: should have started, no outcome recorded"),
    N_("Steps overdue: past their end, completion not recorded"),
    N_("Individual assistance plan"),
    N_("Social contract"),
)


@router.get("/applications/{app_id}/plan")
def plan_page(page: SignedIn, app_id: int):
    row = svc.get_plan(page.db, page.user, app_id)
    plan = row.plan
    steps = {(s.person_id, s.measure): s for s in row.steps}
    members = []
    for m in plan["members"]:
        rec = m.get("recommended")
        step = steps.get((m["person_id"], rec["measure"])) if rec else None
        members.append({**m, "chosen": rec["measure"] if rec else "", "step": step})
    steps = [
        (
            s["month"],
            page.t(s["what"], **{k: page.t(v) if isinstance(v, str) else v for k, v in s["fields"].items()}),
        )
        for s in plan["steps"]
    ]
    return render(
        page,
        "plans_family.html",
        steps=steps,
        row=row,
        plan=plan,
        members=members,
        status_label=STATUS[row.status],
        district=district_label(row.district_kato, page.lang),
    )


@router.post("/applications/{app_id}/plan")
async def plan_submit(page: Posted, app_id: int, request: Request):
    form = await request.form()
    # the database work in a worker thread, never on the event loop (every request waits while it is held)
    return await run_in_threadpool(_plan_approved, page, app_id, form)


def _plan_approved(page: Page, app_id: int, form):
    specialist = str(form.get("specialist", ""))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        version = None
    choices = [
        svc.Choice(
            key.removeprefix("measure:"),
            str(value),
            str(form.get("start:" + key.removeprefix("measure:"), "")) or None,
        )
        for key, value in form.multi_items()
        if key.startswith("measure:")
    ]
    svc.approve(page.db, page.user, app_id, specialist, choices, version)
    return redirect(page, f"/applications/{app_id}/plan", "plan_approved")


@router.get("/applications/{app_id}/plan/document")
def plan_document(page: SignedIn, app_id: int, kind: str = "plan", format: str = "pdf", doc_lang: str = ""):
    body, media, name = svc.document(page.db, page.user, app_id, kind, doc_lang or page.lang, format)
    response = Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
    return finish(page, response)


@router.post("/plans/steps/{step_id}")
async def outcome_submit(page: Posted, step_id: int, request: Request):
    form = await request.form()
    return await run_in_threadpool(_outcome_recorded, page, step_id, form)  # not on the event loop


def _outcome_recorded(page: Page, step_id: int, form):
    def flag(name: str) -> bool | None:
        value = str(form.get(name, ""))
        return {"yes": True, "no": False}.get(value)

    income = str(form.get("income_after", "")).replace(" ", "").replace(",", ".")
    try:
        income_value = float(income) if income else None
    except ValueError:
        raise ServiceError(422, "income_after: a number of tenge, e.g. 180000") from None
    step = svc.record_outcome(
        page.db, page.user, step_id, flag("started"), flag("completed"), flag("employed"), income_value
    )
    back = str(form.get("back", ""))
    target = back if back.startswith("/applications/") and "//" not in back else "/plans"
    del step
    return redirect(page, target, "outcome_saved")


@router.get("/plans")
def plans_page(page: SignedIn, month: str = ""):
    month = month if len(month) == 7 and month[4] == "-" and (month[:4] + month[5:]).isdigit() else ""
    monitoring = svc.monitoring(page.db, page.user, month or None) if sees_personal_data(page.user) else None
    exits = svc.exits_by_measure(page.db, page.user).to_dict(orient="records")
    districts = svc.district_plans(page.db, page.user)
    rows = []
    if len(districts):
        for r in districts.itertuples(index=False):
            rows.append({**r._asdict(), "name": district_label(r.district_kato, page.lang)})
    return render(page, "plans_overview.html", monitoring=monitoring, exits=exits, districts=rows)
