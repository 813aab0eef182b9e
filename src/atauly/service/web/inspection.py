"""The home-inspection act's page (акт обследования материально-бытовых условий): printable, in the
reader's language — the checklist's answers, the photos attached (faces and people blurred) with their
flags and what the officer confirmed or dismissed, and the confirmed facts beside the values as submitted.
Officers fill in or correct the act with the form on the same page (hidden when printed); a saved act's
facts go to the law and the model at once (:func:`atauly.service.photos.recompute`)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from atauly.i18n import N_

from .. import inspection
from .. import photos as service_photos
from ..casework import ServiceError
from .kit import FLASH, Fmt, Page, Posted, SignedIn, district_label, finish, redirect, render, usernames

router = APIRouter(include_in_schema=False)
FLASH.setdefault("act_saved", N_("The inspection act is saved; the recommendation uses its confirmed facts."))
NUMBERS = {"rooms": 50, "vehicles_owned": 50, "livestock_heads": 100_000, "dwellings_owned": 50}


def _context(page: Page, app_id: int) -> dict:
    """The act's plain values, for the page and the PDF."""
    from atauly.vision.check import flag_text
    from atauly.vision.inventory import label_text

    app, act = service_photos.act_of(page.db, page.user, app_id)
    _, photos = service_photos.photos_of(page.db, page.user, app_id)
    numbers = {p.id: n for n, p in enumerate(photos, start=1)}
    facts = service_photos.facts(page.db, app, act)
    rec = app.recommendation
    t = page.t
    status = {"confirmed": N_("confirmed"), "dismissed": N_("dismissed"), "pending": N_("not yet checked")}
    items = [
        {
            "number": numbers[p.id],
            "id": p.id,
            "kind": p.kind,
            "flags": [flag_text(f, page.lang) for f in p.flags or []],
            "findings": [
                {
                    "asset": t(f.asset),
                    "label": label_text(f.label, page.lang),
                    "confidence": f.confidence,
                    "status": f.status,
                    "status_text": t(status.get(f.status, f.status)),
                }
                for f in p.findings
            ],
        }
        for p in photos
    ]
    by_item = []
    if act is not None:
        for item, ids in (act.photos or {}).items():
            shown = [numbers[i] for i in ids if i in numbers]
            if shown:
                by_item.append({"item": t(inspection.PHOTO_ITEMS.get(item, item)), "photos": shown})
    officer = usernames(page.db, {act.officer_id}).get(act.officer_id, "") if act is not None else ""
    district = district_label(app.district_kato, page.lang)
    summary = [
        (t(N_("Application")), f"№ {app_id}"),
        (t(N_("Family")), app.family_id),
        (t(N_("District")), district),
    ]
    if act is not None:
        summary += [
            (t(N_("Inspected on")), Fmt(t).date(act.inspected_on)),
            (t(N_("Officer")), officer),
            (t(N_("Version")), t.number(act.version)),
        ]
    return {
        "t": t,
        "app_id": app_id,
        "family_id": app.family_id,
        "district": district,
        "summary": summary,
        "act": act,
        "officer": officer,
        "checklist": dict(act.checklist) if act is not None else {},
        "answers": inspection.answers(dict(act.checklist) if act is not None else {}, t),
        "by_item": by_item,
        "photos": items,
        "facts": inspection.fact_lines(app.snapshot, facts, t),
        "applied": bool(rec is not None and (rec.facts or {}) == facts and facts),
    }


def _view(page: Page, app_id: int, status: int = 200, problems: list[str] | None = None, form=None):
    ctx = _context(page, app_id)
    act = ctx["act"]
    return render(
        page,
        "inspection_act.html",
        status,
        canonical=f"/applications/{app_id}/inspection-act",
        app_id=app_id,
        family_id=ctx["family_id"],
        district=ctx["district"],
        act=act,
        officer=ctx["officer"],
        answers=ctx["answers"],
        by_item=ctx["by_item"],
        photos=ctx["photos"],
        facts=ctx["facts"],
        applied=ctx["applied"],
        may_edit=page.user.role in ("officer", "supervisor"),
        items=inspection.ITEMS,
        numbers=NUMBERS,
        form={
            **dict.fromkeys(inspection.ITEMS),
            **(form if form is not None else ctx["checklist"]),
            "inspected_on": (form or {}).get("inspected_on") or (act.inspected_on if act else ""),
        },
        problems=problems or [],
    )


@router.get("/applications/{app_id}/inspection-act.pdf")
def act_pdf(app_id: int, page: SignedIn):
    """The act as a PDF, with the redacted photos (each read audited, as on the page)."""
    ctx = _context(page, app_id)
    images = {}
    for p in ctx["photos"]:
        if p["kind"] == "image":
            try:
                images[p["id"]] = service_photos.image(page.db, page.user, app_id, p["id"])
            except ServiceError:  # purged: the act lists it without its image
                pass
    data = inspection.pdf(ctx, images)
    headers = {"Content-Disposition": f'inline; filename="inspection-act-{app_id}-{page.lang}.pdf"'}
    return finish(page, Response(data, media_type="application/pdf", headers=headers))


@router.get("/applications/{app_id}/inspection-act")
def act_page(app_id: int, page: SignedIn):
    return _view(page, app_id)


@router.post("/applications/{app_id}/inspection-act")
async def act_submit(app_id: int, page: Posted):
    form = await page.request.form()
    # The checks, the database and the law (the facts recomputed) in a worker thread, never on the event
    # loop: every request of this process, and every submission awaiting its batch, waits while it is held.
    return await run_in_threadpool(_act_submitted, app_id, page, form)


def _act_submitted(app_id: int, page: Page, form):
    checklist, problems = _checklist(form, page)
    raw = {k: form.get(k, "") for k in inspection.ITEMS if k != "appliances"}
    raw["appliances"] = form.getlist("appliances")
    raw["inspected_on"] = form.get("inspected_on", "")
    try:
        inspected_on = date.fromisoformat(str(form.get("inspected_on", "")))
    except ValueError:
        inspected_on = None
        problems.append(page.t(N_("Give the date of the inspection.")))
    if inspected_on is not None and inspected_on > date.today():
        problems.append(page.t(N_("The date of the inspection is in the future.")))
    if problems:
        return _view(page, app_id, 422, problems, raw)
    _, act = service_photos.act_of(page.db, page.user, app_id)
    photos = dict(act.photos) if act is not None else {}
    try:
        service_photos.save_act(
            page.db,
            page.user,
            app_id,
            checklist,
            photos,
            inspected_on,
            engine=page.request.app.state.engine,
        )
    except ServiceError as exc:
        if exc.status != 409:
            raise
        return _view(page, app_id, 409, [page.t(exc.message)], raw)
    return redirect(page, f"/applications/{app_id}/inspection-act", "act_saved")


def _checklist(form, page: Page) -> tuple[dict, list[str]]:
    """The form's answers checked against the act's codes; problems in words."""
    out: dict = {}
    problems: list[str] = []
    t = page.t
    for item, (question, codes) in inspection.ITEMS.items():
        if item == "appliances":
            chosen = form.getlist("appliances")
            unknown = [c for c in chosen if c not in codes]
            if unknown:
                problems.append(t(N_("{item}: choose from the list."), item=t(question)))
            out["appliances"] = [c for c in codes if c in chosen]
            continue
        value = str(form.get(item, "")).strip()
        if item == "notes":
            out["notes"] = value[:2000]
        elif item in NUMBERS:
            if value == "":
                out[item] = None
            elif value.isdigit() and int(value) <= NUMBERS[item]:
                out[item] = int(value)
            else:
                problems.append(
                    t(N_("{item}: a whole number from 0 to {n}."), item=t(question), n=NUMBERS[item])
                )
        elif item == "commission_found_no_need":
            out[item] = {"": None, "true": True, "false": False}.get(value)
            if value not in ("", "true", "false"):
                problems.append(t(N_("{item}: choose from the list."), item=t(question)))
        elif value == "":
            out[item] = None
        elif value in codes:
            out[item] = value
        else:
            problems.append(t(N_("{item}: choose from the list."), item=t(question)))
    if not out.get("dwelling_type"):
        problems.append(t(N_("{item}: choose from the list."), item=t(inspection.ITEMS["dwelling_type"][0])))
    return out, problems
