"""The page of an application and the forms that decide it (decision, blind-mode assessment, correction
request), and its printable notice.

Every read and write goes through :mod:`atauly.service.casework`, which checks scope and audits; a refused
form comes back as the same page with the problem next to its field."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from atauly.i18n import N_
from atauly.registry.labels import CORRECTABLE_FIELDS, INCOME_SOURCES, OVERRIDE_REASONS

from .. import casework, deciding
from ..casework import ServiceError
from ..models import OUTCOMES
from ..schemas import CorrectionIn, DecisionIn
from .application import OUTCOME_CHOICES, application_view, law_sources, source_rows
from .kit import Page, Posted, SignedIn, redirect, render

router = APIRouter(include_in_schema=False)


#: Where each form's problems are shown: the field's id (radios: the first choice), else the section.
ANCHORS = {
    "decision": {
        "outcome": "#outcome-approve",
        "reason_code": "#reason_code",
        "comment": "#comment",
        "form": "#decision-title",
    },
    "assessment": {"outcome": "#assess-outcome-approve", "form": "#assess-title"},
    "correction": {"fields": "#fields-family", "description": "#description", "form": "#correction-title"},
    "verification": {
        "kind": "#verify-kind-income",
        "person": "#verify-person",
        "month": "#verify-month",
        "source": "#verify-source",
        "amount": "#verify-amount",
        "note": "#verify-note",
        "form": "#verify-title",
    },
}


def _blank_form(**values) -> dict:
    return {"values": values, "errors": {}}


def application_response(
    page: Page,
    app_id: int,
    status: int = 200,
    decision: dict | None = None,
    assessment: dict | None = None,
    correction: dict | None = None,
    verification: dict | None = None,
) -> HTMLResponse:
    app = casework.load(page.db, page.user, app_id)
    view = application_view(page, app)
    decision = decision or _blank_form(outcome="", reason_code="", comment="")
    assessment = assessment or _blank_form(outcome="")
    correction = correction or _blank_form(fields=[], description="")
    verification = verification or _blank_form(
        kind="income", person="", month="", source="", amount="", note=""
    )
    forms = (
        ("decision", decision),
        ("assessment", assessment),
        ("correction", correction),
        ("verification", verification),
    )
    # Every problem also at the top of the page, linked to its field (the forms are further down).
    problems = [
        (ANCHORS[name].get(field, ANCHORS[name]["form"]), message)
        for name, form in forms
        for field, message in form["errors"].items()
    ]
    return render(
        page,
        "application.html",
        status,
        canonical=f"/applications/{app_id}",
        app=view,
        reason_codes=list(OVERRIDE_REASONS.items()),
        outcomes=list(OUTCOME_CHOICES.items()),
        correctable=list(CORRECTABLE_FIELDS.items()),
        decision=decision,
        assessment=assessment,
        correction=correction,
        verification=verification,
        income_sources=list(INCOME_SOURCES.items()),
        problems=problems,
    )


@router.get("/applications/{app_id}")
def application_page(app_id: int, page: SignedIn):
    return application_response(page, app_id)


@router.get("/applications/{app_id}/sources")
def sources_page(app_id: int, page: SignedIn):
    """Where the law's figures for this application come from: the parameters, their legal references and
    the project's notes on each source — kept off the case page, one link away for an officer who asks."""
    app = casework.load(page.db, page.user, app_id)
    if app.recommendation is None or not casework.shown(page.db, page.user, app):
        raise ServiceError(404, "no law result is shown for this application")
    sources = law_sources(page, app)
    return render(
        page,
        "sources.html",
        canonical=f"/applications/{app_id}/sources",
        app_id=app_id,
        heading=sources[0]["text"] if sources else "",
        rows=source_rows([item["text"] for item in sources[1:]], page.t),
    )


@router.post("/applications/{app_id}/language")
def language_submit(app_id: int, page: Posted, language: Annotated[str, Form()] = ""):
    """The family's language, the notice's (a value outside ru/kk/en is refused with 422)."""
    from ..notice.language import set_language

    set_language(page.db, page.user, app_id, language)
    return redirect(page, f"/applications/{app_id}", "language")


@router.get("/applications/{app_id}/notice")
def notice_page(app_id: int, page: SignedIn, lang: str | None = None, format: str = "html"):  # noqa: A002
    """The printable decision notice for the family (HTML or PDF), in the family's language recorded on the
    application unless ``lang`` asks for another (or ``both``)."""
    from ..notice import notice_response

    return notice_response(page.db, page.user, app_id, lang or None, format)


def _decision_problem(exc: ServiceError) -> tuple[str, str]:
    """The core's refusal of a decision as (field, message id): the field the message belongs next to."""
    m = exc.message
    if m.startswith("outcome: the law finds no entitlement"):
        return "outcome", N_(
            "The law finds no entitlement on this data, so an approval would have no amount nor period. Record "
            "the verified data (the law is recomputed on it) or send the application for a home visit."
        )
    if m.startswith("reason_code: required"):
        return "reason_code", N_(
            "Your decision departs from the recommendation or from the law's result: choose the reason."
        )
    if m.startswith("reason_code"):
        return "reason_code", N_("Choose a reason from the list.")
    if m.startswith("comment"):
        return "comment", N_(
            "Your decision departs from the recommendation or from the law's result: explain it for the family "
            "in the comment (the notice quotes it)."
        )
    if m.startswith("assessment"):
        return "form", N_("Independent assessment mode: record your own assessment before deciding.")
    if "already decided" in m:
        return "form", N_("The application is already decided. The page shows it as it is now.")
    if m.startswith("version") or "changed by someone else" in m:
        return "form", N_(
            "The application changed since you opened it. The page shows it as it is now: check it and decide again."
        )
    if m.startswith("recommendation: recomputed"):
        return "form", N_(
            "The recommendation was computed again on the confirmed facts and its result changed. "
            "The page shows the new result: look at it and decide again."
        )
    if m.startswith("recommendation"):
        return "form", N_(
            "The confirmed facts changed since the recommendation was computed. Save the inspection act "
            "again to compute it anew, then decide."
        )
    return "form", N_("The decision could not be recorded.")


def _form_problems(exc: ValidationError, messages: dict[str, str]) -> dict[str, str]:
    out = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "form"
        out.setdefault(field, messages.get(field, N_("Check this field.")))
    return out


def _form(values: dict, errors: dict[str, str], page: Page) -> dict:
    return {"values": values, "errors": {k: page.tr(v) for k, v in errors.items()}}


@router.post("/applications/{app_id}/decision")
def decision_submit(
    app_id: int,
    page: Posted,
    outcome: Annotated[str, Form()] = "",
    reason_code: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    then: Annotated[str, Form()] = "",
):
    values = {"outcome": outcome, "reason_code": reason_code, "comment": comment}
    try:
        body = DecisionIn(
            outcome=outcome or None,
            reason_code=reason_code or None,
            comment=comment,
            # a form without its version is treated as stale (409: open the application again)
            version=int(version) if version.isdigit() and len(version) < 10 else 0,
        )
    except ValidationError as exc:
        errors = _form_problems(
            exc,
            {
                "outcome": N_("Choose the decision."),
                "reason_code": N_("Choose a reason from the list."),
                "comment": N_("The comment is too long: at most 2,000 characters."),
            },
        )
        return application_response(page, app_id, 422, decision=_form(values, errors, page))
    try:
        deciding.decide(page.db, page.user, app_id, body, engine=page.request.app.state.engine)
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        page.db.rollback()
        field, message = _decision_problem(exc)
        return application_response(page, app_id, exc.status, decision=_form(values, {field: message}, page))
    if then == "next":  # record and open the next case of the officer's queue
        following = casework.next_case(page.db, page.user, app_id)
        page.db.rollback()
        if following is None:
            return redirect(page, "/queue", "decided_last")
        flash = "home_visit_next" if outcome == "home_visit" else "decided_next"
        return redirect(page, f"/applications/{following}", flash)
    return redirect(page, f"/applications/{app_id}", "home_visit" if outcome == "home_visit" else "decided")


@router.post("/applications/{app_id}/assessment")
def assessment_submit(app_id: int, page: Posted, outcome: Annotated[str, Form()] = ""):
    if outcome not in OUTCOMES:
        errors = {"outcome": N_("Choose your assessment.")}
        return application_response(page, app_id, 422, assessment=_form({"outcome": outcome}, errors, page))
    try:
        deciding.assess(page.db, page.user, app_id, outcome)
    except ServiceError as exc:
        if exc.status != 409:
            raise
        page.db.rollback()
        errors = {"form": N_("The application is already decided. The page shows it as it is now.")}
        # A decided application shows no assessment form: the message goes to the decision's section.
        return application_response(page, app_id, 409, decision=_form({"outcome": ""}, errors, page))
    return redirect(page, f"/applications/{app_id}", "assessed")


@router.post("/applications/{app_id}/correction")
def correction_submit(
    app_id: int,
    page: Posted,
    fields: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form()] = "",
):
    values = {"fields": fields or [], "description": description}
    try:
        body = CorrectionIn(fields=fields or [], description=description.strip())
    except ValidationError as exc:
        errors = _form_problems(
            exc,
            {
                "fields": N_("Choose what the family asks to correct."),
                "description": N_("Describe the correction the family asks for (at most 2,000 characters)."),
            },
        )
        return application_response(page, app_id, 422, correction=_form(values, errors, page))
    try:
        deciding.request_correction(page.db, page.user, app_id, body)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        page.db.rollback()
        errors = {"fields": N_("Choose what the family asks to correct.")}
        return application_response(page, app_id, 422, correction=_form(values, errors, page))
    return redirect(page, f"/applications/{app_id}", "correction")


@router.post("/applications/{app_id}/assign")
def assign_submit(app_id: int, page: Posted, officer: Annotated[str, Form()] = ""):
    """A supervisor assigns the application to an officer of its district (empty: nobody)."""
    officer_id = int(officer) if officer.isdigit() and len(officer) < 10 else None
    if officer and officer_id is None:
        raise ServiceError(422, "officer: not an active officer of the application's district")
    casework.assign(page.db, page.user, app_id, officer_id)
    return redirect(page, f"/applications/{app_id}", "assigned")


def _amount(text: str) -> float | None:
    """An amount as people type it: «63 121,51», "63121.51" (None: not an amount)."""
    raw = "".join(text.split()).replace("\u00a0", "").replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 <= value <= 1e10 and value == value else None


@router.post("/applications/{app_id}/verification")
def verification_submit(
    app_id: int,
    page: Posted,
    kind: Annotated[str, Form()] = "",
    person: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    """Record a verified value (a member's income for a month, or a member who left): the law is recomputed
    on the family's data with it; the declared value is kept and both are shown."""
    values = {
        "kind": kind,
        "person": person,
        "month": month,
        "source": source,
        "amount": amount,
        "note": note,
    }
    errors: dict[str, str] = {}
    if kind not in ("income", "member_left"):
        errors["kind"] = N_("Choose what was verified.")
    if not person:
        errors["person"] = N_("Choose the member.")
    value = _amount(amount) if kind == "income" else 0.0
    if kind == "income":
        if not month:
            errors["month"] = N_("Choose the month.")
        if source not in INCOME_SOURCES:
            errors["source"] = N_("Choose the source of income.")
        if value is None:
            errors["amount"] = N_("Enter the verified amount in tenge, for example 85 000.")
    if not note.strip() or len(note) > 2000:
        errors["note"] = N_(
            "Say how the value was verified (a certificate, a visit), in words the family understands: the "
            "notice quotes it (at most 2,000 characters)."
        )
    if errors:
        return application_response(page, app_id, 422, verification=_form(values, errors, page))
    change = (
        deciding.VerifiedIncome(person, month, source, value)
        if kind == "income"
        else deciding.MemberLeft(person)
    )
    try:
        deciding.verify(page.db, page.request.app.state.engine, page.user, app_id, change, note)
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        page.db.rollback()
        field = exc.message.split(":", 1)[0]
        message = {
            "person_id": N_("Choose a member of the family (the applicant cannot leave the household)."),
            "month": N_("Choose one of the months whose income the law counts."),
            "source": N_("Choose the source of income."),
            "amount": N_("Enter the verified amount in tenge, for example 85 000."),
        }.get(
            field, N_("The verified value could not be recorded: the application may have changed. Check it.")
        )
        key = {"person_id": "person"}.get(field, field if field in ANCHORS["verification"] else "form")
        return application_response(
            page, app_id, exc.status, verification=_form(values, {key: message}, page)
        )
    return redirect(page, f"/applications/{app_id}", "verified")
