"""The family's side: a printable decision notice (HTML and PDF) in Kazakh, Russian or English.

The notice states the decision, the amount and the period, the law's reasons in plain words, what role
the model played, the data used about the family, and how to appeal or ask for a correction of that data.
:func:`notice_context` computes everything the notice states once, as translated text; the HTML template
(``templates/notice.html``) and the PDF writer (fpdf2, with the DejaVu Sans fonts shipped with matplotlib,
which have the Kazakh letters) only lay it out, so the two formats always say the same thing.

Before a decision the notice shows no recommendation of the model (so it cannot anchor a blind assessment
nor be read as a verdict); the law's calculation is shown as preliminary.

The appeal text is deliberately general: the project's sources do not give the appeal procedure for ASP
(articles, deadlines, the body to address). **To be confirmed by the Ministry's lawyers** (see
``APPEAL_TEXT`` and docs/service.md).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from babel.dates import format_date
from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session as DB

from atauly.i18n import N_, Translator
from atauly.law.explain import SOURCE_LABELS
from atauly.registry.codes import INCOME_SOURCES, region_name

from . import casework
from .deps import DBDep, UserDep
from .models import Application, User

TEMPLATES = Path(__file__).parent / "templates"
LANGS = ("ru", "kk", "en")
#: Below this age the notice shows no occupation (the data contract gives children "not_working").
WORKING_AGE_FROM = 16
Lang = Literal["ru", "kk", "en"]
Format = Literal["html", "pdf"]

# --- labels ------------------------------------------------------------------------------------------

ROLE_LABELS = {
    "applicant": N_("applicant"),
    "spouse": N_("spouse"),
    "child": N_("child"),
    "other": N_("other family member"),
}
SEX_LABELS = {"M": N_("male"), "F": N_("female")}
EMPLOYMENT_LABELS = {
    "employee": N_("employee"),
    "self_employed": N_("self-employed or entrepreneur"),
    "registered_unemployed": N_("registered as unemployed"),
    "not_working": N_("not working"),
    "student_full_time": N_("full-time student"),
    "pensioner": N_("pensioner"),
    "caring_child_under_3": N_("caring for a child under 3"),
    "caring_disabled": N_("caring for a person with a disability"),
    "caring_elderly": N_("caring for an elderly person"),
    "maternity_leave": N_("maternity leave"),
}
CORRECTABLE_LABELS = {
    "family": N_("family details"),
    "persons": N_("members of the family"),
    "incomes": N_("incomes"),
    "assets": N_("property"),
    "disability": N_("disability"),
    "employment": N_("employment"),
    "other": N_("other"),
}
#: The law's grounds for refusal (atauly.law, refusal_reason), said to the family in plain words.
REFUSAL_PLAIN = {
    "income_above_poverty_line": N_(
        "The family's income per person is above the poverty line (Social Code Art. 128 p.1)."
    ),
    "refused_commission_survey": N_(
        "The survey of the family's living conditions by the district commission was refused "
        "(Social Code Art. 128 p.2)."
    ),
    "commission_found_no_need": N_(
        "After its survey the district commission concluded that the family is not in need "
        "(Social Code Art. 128 p.3)."
    ),
    "refused_employment_measures": N_(
        "A member of the family who is able to work refused employment measures less than {months} months "
        "ago (Social Code Art. 128 p.4)."
    ),
    "social_contract_breach": N_(
        "A social contract was terminated, or not fulfilled, through the recipient's fault less than "
        "{months} months ago (Social Code Art. 128 p.5)."
    ),
    "false_information": N_(
        "Knowingly false information or unreliable documents were submitted (Social Code Art. 128 p.6)."
    ),
    "too_many_dwellings": N_("The family owns more than {n} dwelling(s) (property rule)."),
    "owns_vehicle": N_("The family owns a motor vehicle and has no child with a disability (property rule)."),
}

# Appeal: the sources in this project (docs/shared domain notes, the law parameters' references) do not
# state the appeal procedure for ASP decisions. The text names the general routes only — a complaint to the
# higher administrative body or official, or the court, under the Administrative Procedural Code — with no
# article numbers or deadlines. TO BE CONFIRMED BY THE MINISTRY'S LAWYERS before the notice is used.
APPEAL_TEXT = N_(
    "If you disagree with a decision on your application, you may appeal against it: file a complaint with "
    "the higher administrative body (the higher official), or go to court, in the manner set by the "
    "Administrative Procedural Code of the Republic of Kazakhstan."
)
APPEAL_HOW = N_(
    "Ask the akimat where you applied where to send the complaint and the time limit for it. Quote application "
    "No. {id} and attach this notice."
)
# Corrections: the district akimat (the authorised body for ASP, Social Code) through its department of
# employment and social programmes, or the employment centre where the application was made (egov.kz
# pass166_mtszn). Recording the request reopens the case (casework.request_correction). Online correction
# through eGov is not sourced, so it is not offered here.
CORRECTION_TEXT = N_(
    "If any information about your family in this notice is wrong, incomplete or out of date, you may ask "
    "for it to be corrected. Apply to the akimat of the district (its department of employment and social "
    "programmes) or to the employment centre where you applied, quote application No. {id}, and bring "
    "documents that show the correct information."
)
CORRECTION_EFFECT = N_(
    "Your request is recorded against this application and the application is reopened: it is considered "
    "again on the corrected data and decided anew."
)
SOURCES_TEXT = N_(
    "Where the data comes from: what you stated in the application, and records of state databases received "
    "through the e-government gateway (identity documents, registration, births, marriages, disability and "
    "others) and the Digital Family Map. Incomes are determined from the application, the Digital Family Map "
    "and organisations (Social Code Art. 127)."
)


# --- helpers -------------------------------------------------------------------------------------------


def _date(d: date | datetime | None, t: Translator) -> str:
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = d.date()
    return format_date(d, "long", locale=t.locale)


_MONTH_FORMAT = {"ru": "LLLL y", "kk": "y 'ж'. MMMM", "en": "MMMM y"}


def _month(ym: str, t: Translator) -> str:
    """'2025-09' → 'сентябрь 2025' / '2025 ж. қыркүйек' / 'September 2025'."""
    y, m = (int(x) for x in ym.split("-"))
    return format_date(date(y, m, 1), _MONTH_FORMAT[t.lang], locale=t.locale)


def _months_span(first: str, last: str, t: Translator) -> str:
    return _month(first, t) if first == last else f"{_month(first, t)} – {_month(last, t)}"


def _previous_quarter_months(month: str) -> list[str]:
    """The three months of the quarter before the quarter of ``month`` ('YYYY-MM'), as in the law."""
    y, m = (int(x) for x in month.split("-"))
    start = (y * 12 + (m - 1) // 3 * 3) - 3  # months since year 0 of the previous quarter's first month
    return [f"{(start + k) // 12:04d}-{(start + k) % 12 + 1:02d}" for k in range(3)]


def _age(birth: str, on: date) -> int:
    b = date.fromisoformat(str(birth)[:10])
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def _masked_iin(iin: str | None, t: Translator) -> str:
    """The rule of atauly.registry.iin.mask_iin (only the length is kept), said in the notice's language."""
    return t("hidden ({n} digits)", n=len(str(iin or "")))


def _law_parameters(month: str):
    from atauly.law.system import tax_benefit_system

    return tax_benefit_system().parameters(f"{month}-01")


def _plain_lines(app: Application, lang: str) -> list[str]:
    """The law's explanation (atauly.law.explain) for this application, without the parameter names and
    references that follow it and without its first line (the family and quarter, already in the header)."""
    lines = casework.law_trace(app, lang)
    if "" in lines:
        lines = lines[: lines.index("")]
    return [
        ("– " + line.strip()[2:]) if line.strip().startswith("– ") else line.strip() for line in lines[1:]
    ]


def _p(text: str, **kw) -> dict:
    return {"kind": "p", "text": text, **kw}


def _kv(rows: list[tuple[str, str]], caption: str = "") -> dict:
    return {"kind": "kv", "rows": rows, "caption": caption}


def _table(
    caption: str,
    columns: list[str],
    rows: list[list[str]],
    numeric: tuple[int, ...] = (),
    widths: tuple[int, ...] | None = None,
) -> dict:
    """A table with column headings; ``numeric`` columns are right-aligned, ``widths`` are relative (PDF)."""
    return {
        "kind": "table",
        "caption": caption,
        "columns": columns,
        "rows": rows,
        "numeric": list(numeric),
        "widths": list(widths) if widths else None,
    }


def _list(items: list[str], caption: str = "", note: bool = False) -> dict:
    """A bulleted list; an item starting with "– " is a sub-item of the one before it."""
    return {"kind": "list", "items": items, "caption": caption, "note": note}


# --- the context -----------------------------------------------------------------------------------------


def notice_context(app: Application, lang: str, today: date | None = None) -> dict:
    """Everything the notice states, as text in ``lang`` (computed once; both formats render it)."""
    if lang not in LANGS:
        raise ValueError(f"lang: use one of {', '.join(LANGS)}")
    t = Translator(lang)
    today = today or date.today()
    rec = app.recommendation
    law = dict(rec.law) if rec is not None else {}
    decision = app.decision
    status = {
        "approved": "approved",
        "rejected": "rejected",
        "home_visit": "home_visit",
        "reopened": "reopened",
    }
    state = status.get(app.status, "pending")
    decided = state in ("approved", "rejected")
    snapshot = app.snapshot
    family = snapshot["families"][0]
    persons = snapshot["persons"]
    applicant = next((p for p in persons if p.get("role") == "applicant"), persons[0] if persons else {})
    month = str(law.get("application_month") or f"{app.received_on:%Y-%m}")
    at = _law_parameters(month)
    district = casework.district_name(app.district_kato, lang)
    region = region_name(app.region_kato, lang)

    header = [
        (t("Application No."), str(app.id)),
        (t("Date of application"), _date(app.received_on, t)),
        (t("Family ID"), app.family_id),
        (t("Applicant's IIN"), _masked_iin(applicant.get("iin"), t)),
        (t("Notice issued on"), _date(today, t)),
    ]

    sections = [
        _decision_section(app, state, decision, law, at, t),
        _reasons_section(app, state, law, at, t),
        _model_section(app, state, decision, t),
        _data_section(app, family, persons, law, month, at, t),
        {
            "id": "appeal",
            "heading": t("How to appeal"),
            "blocks": [_p(t(APPEAL_TEXT)), _p(t(APPEAL_HOW, id=app.id))],
        },
        _correction_section(app, t),
    ]
    amount = float(decision.amount_monthly) if decided and decision is not None else None
    return {
        "lang": lang,
        "title": t("Decision notice: targeted social assistance"),
        "authority": t("Akimat of the district: {district}", district=district),
        "department": t("Department of employment and social programmes"),
        "region": region,
        "district": district,
        "app_id": app.id,
        "status": state,
        "decided": decided,
        "amount_monthly": amount,
        "amount_text": t.money(amount, 2) if amount is not None else "",
        "period": law.get("assignment_period", "") if state == "approved" else "",
        "header": header,
        "header_caption": t("Application"),
        "sections": sections,
        "footer": t(
            "Generated by the Atauly casework system on {date} from the records of application No. {id} "
            "(data fingerprint {hash}).",
            date=_date(today, t),
            id=app.id,
            hash=(app.input_hash or "")[:12],
        ),
        "page_label": t("Page"),
    }


def _decision_section(app, state, decision, law, at, t) -> dict:
    blocks: list[dict] = []
    months = int(at.sanctions.months)
    due = [(t("Decision due by"), _date(app.deadline, t))]
    if state == "approved":
        blocks.append(_p(t("Targeted social assistance is assigned."), headline=True))
        rows = [(t("Date of the decision"), _date(decision.decided_at, t))]
        if law.get("eligible"):
            kind = law.get("asp_type")
            if kind:
                rows.append(
                    (
                        t("Type of assistance"),
                        t("conditional (with a social contract)")
                        if kind == "conditional"
                        else t("unconditional"),
                    )
                )
            rows.append((t("Assistance by law, a month"), t.money(float(law["asp_monthly_amount"]), 2)))
            if float(law.get("child_supplement_monthly") or 0) > 0:
                rows.append(
                    (
                        t(
                            "Supplement for children aged {lo}–{hi}, a month",
                            lo=int(at.child_supplement.min_age),
                            hi=int(at.child_supplement.max_age),
                        ),
                        t.money(float(law["child_supplement_monthly"]), 2),
                    )
                )
            rows.append((t("In all, a month"), t.money(float(decision.amount_monthly), 2)))
            period = decision.period or str(law.get("assignment_period") or "")
            if "/" in period:
                first, last = period.split("/", 1)
                rows.append((t("Period of assignment"), _months_span(first, last, t)))
            if law.get("quarter_total") is not None:
                rows.append((t("In all for the period"), t.money(float(law["quarter_total"]), 2)))
            rows.append((t("Payment"), t("monthly")))
            blocks.append(_kv(rows))
            blocks.append(
                _p(
                    t(
                        "Assistance is assigned for the quarter of the application, from the month of application, "
                        "and paid monthly."
                    )
                )
            )
            if kind == "conditional":
                blocks.append(
                    _p(
                        t(
                            "The assistance is conditional: members of the family who are able to work take part in "
                            "employment measures under a social contract concluded for the whole period "
                            "(Social Code Art. 122). Refusing employment measures bars assistance for {months} "
                            "months (Art. 128 p.4).",
                            months=months,
                        )
                    )
                )
        else:  # approved although the law found no entitlement: the law gives no amount
            rows.append((t("In all, a month"), t.money(float(decision.amount_monthly), 2)))
            blocks.append(_kv(rows))
            blocks.append(
                _p(
                    t(
                        "The law's calculation on the data below did not find the family entitled, so it gives no "
                        "amount; the officer approved the application for the reason stated below. Ask the akimat "
                        "for the amount and the period."
                    )
                )
            )
            blocks += _officer_reason(decision, t)
    elif state == "rejected":
        blocks.append(_p(t("Targeted social assistance is refused."), headline=True))
        decided_on = (t("Date of the decision"), _date(decision.decided_at, t))
        reason = law.get("refusal_reason") or ""
        if not law.get("eligible") and reason in REFUSAL_PLAIN:
            text = t(REFUSAL_PLAIN[reason], months=months, n=int(at.assets.max_dwellings))
            blocks.append(_kv([decided_on, (t("Ground for refusal under the law"), text)]))
        else:
            blocks.append(_kv([decided_on]))
        if law.get("eligible"):
            blocks.append(
                _p(
                    t(
                        "By the law's calculation on the data below the family would be entitled to {amount} a "
                        "month; the officer refused the application for the reason stated below.",
                        amount=t.money(
                            float(law["asp_monthly_amount"])
                            + float(law.get("child_supplement_monthly") or 0),
                            2,
                        ),
                    )
                )
            )
        blocks += _officer_reason(decision, t)
    elif state == "home_visit":
        blocks.append(
            _p(t("No decision yet: a survey of the family's living conditions is requested."), headline=True)
        )
        blocks.append(_kv(due))
        blocks.append(
            _p(
                t(
                    "Before deciding, the officer asked the district commission to survey your family's living "
                    "conditions (a home visit). Refusing the survey is a ground for refusal (Social Code Art. 128 p.2)."
                )
            )
        )
    elif state == "reopened":
        blocks.append(_p(t("No decision yet: your application is being considered again."), headline=True))
        corr = app.corrections[-1] if app.corrections else None
        blocks.append(
            _p(
                t(
                    "A request to correct the data was recorded on {date}; the application was reopened and will be "
                    "decided again on the corrected data.",
                    date=_date(corr.created_at if corr else None, t),
                )
            )
        )
    else:
        blocks.append(_p(t("No decision yet: your application is being considered."), headline=True))
        blocks.append(_kv(due))
        blocks.append(
            _p(
                t(
                    "The akimat decides within {n} working days of the application.",
                    n=casework.DEADLINE_WORKING_DAYS,
                )
            )
        )
    return {"id": "decision", "heading": t("Decision"), "blocks": blocks}


def _officer_reason(decision, t) -> list[dict]:
    out = []
    if decision is not None and decision.reason_code:
        out.append(
            _p(
                t(
                    "The officer's reason: {reason}",
                    reason=casework.reason_label(decision.reason_code, t.lang),
                )
            )
        )
    if decision is not None and decision.reason_code and (decision.comment or "").strip():
        out.append(_p(t("The officer's explanation: {comment}", comment=decision.comment.strip())))
    return out


def _reasons_section(app, state, law, at, t) -> dict:
    blocks: list[dict] = []
    if not law:
        return {"id": "reasons", "heading": t("Why: the law's reasons"), "blocks": blocks}
    prev = _previous_quarter_months(str(law["application_month"]))
    span = _months_span(prev[0], prev[-1], t)
    pci, pl = float(law["per_capita_income"]), float(law["poverty_line"])
    summary = [
        t("Members of the family counted: {n}.", n=int(law["members"])),
        t(
            "The family's counted income in {months} (the quarter before the quarter of application) was {income}, "
            "that is {pci} a month per person (Social Code Art. 127).",
            months=span,
            income=t.money(float(law["counted_income_quarter"]), 2),
            pci=t.money(pci, 2),
        ),
    ]
    if pci <= pl:
        summary.append(
            t(
                "This is not above the poverty line for your region, {pl} a month per person, so the income test "
                "is met (Social Code Art. 120).",
                pl=t.money(pl, 2),
            )
        )
    else:
        summary.append(
            t(
                "This is above the poverty line for your region, {pl} a month per person, so the income test is "
                "not met (Social Code Art. 128 p.1).",
                pl=t.money(pl, 2),
            )
        )
    excluded = [
        t(SOURCE_LABELS[s])
        for s in INCOME_SOURCES
        if bool(at.income.excluded[s]) and _income_sum(app.snapshot, s, prev) > 0
    ]
    if excluded:
        summary.append(t("Not counted, as the law provides: {sources}.", sources=", ".join(excluded)))
    reason = law.get("refusal_reason") or ""
    if reason and reason != "income_above_poverty_line" and reason in REFUSAL_PLAIN:
        summary.append(
            t(REFUSAL_PLAIN[reason], months=int(at.sanctions.months), n=int(at.assets.max_dwellings))
        )
    if law.get("eligible"):
        summary.append(
            t(
                "The monthly assistance is the gap between the poverty line and the income per person, times the "
                "number of members: ({pl} − {pci}) × {n} = {amount}.",
                pl=t.money(pl, 2),
                pci=t.money(pci, 2),
                n=int(law["members"]),
                amount=t.money(float(law["asp_monthly_amount"]), 2),
            )
        )
        if float(law.get("child_supplement_monthly") or 0) > 0:
            summary.append(
                t(
                    "Children aged {lo} to {hi} receive a supplement of {share} monthly calculation indices (MRP) "
                    "each: {amount} a month.",
                    lo=int(at.child_supplement.min_age),
                    hi=int(at.child_supplement.max_age),
                    share=t.number(float(at.child_supplement.mrp_per_child), 1),
                    amount=t.money(float(law["child_supplement_monthly"]), 2),
                )
            )
    if app.status not in ("approved", "rejected"):
        blocks.append(
            _p(t("This calculation is preliminary: it uses the data on record and is not a decision."))
        )
    blocks.append(_list(summary))
    blocks.append(_list(_plain_lines(app, t.lang), caption=t("The calculation step by step"), note=True))
    heading = t("Why: the law's reasons") if state in ("approved", "rejected") else t("The law's calculation")
    return {"id": "reasons", "heading": heading, "blocks": blocks}


def _model_section(app, state, decision, t) -> dict:
    rec = app.recommendation
    blocks: list[dict] = []
    uses_model = rec is not None and rec.mode == "model"
    if state not in ("approved", "rejected"):
        if uses_model:
            blocks.append(
                _p(
                    t(
                        "A statistical model (version {version}) gives the officer an advisory recommendation; it is "
                        "stated on the notice once the application is decided.",
                        version=rec.model_version,
                    )
                )
            )
        else:
            blocks.append(
                _p(
                    t(
                        "The model is not used for this application (it is switched off for the district or not "
                        "available): the recommendation comes from the law's calculation alone."
                    )
                )
            )
        blocks.append(
            _p(
                t(
                    "An officer decides. The model's recommendation is advisory only and is never evidence against "
                    "your family."
                )
            )
        )
        return {"id": "model", "heading": t("The role of the computer model"), "blocks": blocks}

    recommended = t("to assign assistance") if rec.recommended else t("not to assign assistance")
    if uses_model:
        blocks.append(
            _p(
                t(
                    "A statistical model (version {version}) gave the officer an advisory recommendation: {recommended}.",
                    version=rec.model_version,
                    recommended=recommended,
                )
            )
        )
        if rec.probability is not None:
            blocks.append(
                _p(
                    t(
                        "It estimated at {p} the likelihood that a full check would confirm the family's entitlement. "
                        "This estimate is not evidence against your family: entitlement and amount are set by the law "
                        "on the data below, and the decision was made by an officer.",
                        p=t.percent(rec.probability),
                    )
                )
            )
        reasons = (rec.reasons or {}).get(t.lang) or []
        if reasons:
            towards = {True: t("speaks for entitlement"), False: t("speaks against entitlement")}
            # The stored sentence starts with its sign ("+ " / "− "); the notice says the direction in words.
            items = [f"{r['text'].lstrip('+−- ')} ({towards[r['contribution'] > 0]})" for r in reasons]
            blocks.append(_list(items, caption=t("What the model's estimate rested on most:")))
    else:
        blocks.append(
            _p(
                t(
                    "The model was not used for this application (it was switched off for the district or not "
                    "available): the recommendation came from the law's calculation alone: {recommended}.",
                    recommended=recommended,
                )
            )
        )
    blocks.append(_p(t("The recommendation was advisory; the decision was made by an officer.")))
    if decision is not None and decision.override:
        text = t("The officer departed from the recommendation.")
        if decision.reason_code:
            text += " " + t(
                "The officer's reason: {reason}", reason=casework.reason_label(decision.reason_code, t.lang)
            )
        blocks.append(_p(text))
    elif decision is not None:
        blocks.append(_p(t("The officer followed the recommendation.")))
    return {"id": "model", "heading": t("The role of the computer model"), "blocks": blocks}


def _income_sum(snapshot: dict, source: str, months: list[str]) -> float:
    return sum(
        float(i["amount_kzt"])
        for i in snapshot.get("incomes", [])
        if i["source"] == source and i["month"] in months
    )


def _data_section(app, family, persons, law, month, at, t) -> dict:
    blocks: list[dict] = [_p(t("The law and the officer used the following data about your family."))]
    on = app.received_on
    rows = []
    for k, p in enumerate(persons, 1):
        group = int(p.get("disability_group") or 0)
        rows.append(
            [
                str(k),
                t(ROLE_LABELS.get(p.get("role"), p.get("role") or "")),
                t(SEX_LABELS.get(p.get("sex"), p.get("sex") or "")),
                str(_age(p["birth_date"], on)),
                t("group {n}", n=group) if group else "—",
                t(EMPLOYMENT_LABELS[p["employment_status"]])
                if p.get("employment_status") in EMPLOYMENT_LABELS
                and _age(p["birth_date"], on) >= WORKING_AGE_FROM
                else "—",
            ]
        )
    blocks.append(
        _table(
            t("Members of the family"),
            [t("No."), t("Role in the family"), t("Sex"), t("Age, years"), t("Disability"), t("Occupation")],
            rows,
            numeric=(0, 3),
            widths=(6, 22, 13, 11, 16, 32),
        )
    )

    prev = _previous_quarter_months(str(law.get("application_month") or month))
    span = _months_span(prev[0], prev[-1], t)
    income_rows = []
    counted_total = 0.0
    for source in INCOME_SOURCES:
        total = _income_sum(app.snapshot, source, prev)
        if total <= 0:
            continue
        excluded = bool(at.income.excluded[source])
        counted_total += 0.0 if excluded else total
        income_rows.append(
            [t(SOURCE_LABELS[source]), t.money(total, 2), t("not counted") if excluded else t("counted")]
        )
    caption = t("Incomes of all members in {months}", months=span)
    if income_rows:
        income_rows.append([t("Counted income, in all"), t.money(counted_total, 2), ""])
        blocks.append(
            _table(
                caption,
                [t("Source"), t("Amount"), t("In the calculation")],
                income_rows,
                numeric=(1,),
                widths=(50, 22, 28),
            )
        )
    else:
        blocks.append(_p(caption + ": " + t("no incomes on record.")))

    assets = [
        (t("Dwellings owned"), t.number(int(family.get("dwellings_owned") or 0))),
        (t("Motor vehicles"), t.number(int(family.get("vehicles_owned") or 0))),
        (t("Land, hectares"), t.number(float(family.get("land_ha") or 0), 2)),
        (t("Livestock, heads"), t.number(int(family.get("livestock_heads") or 0))),
        (t("Non-mortgage loans outstanding"), t.money(float(family.get("nonmortgage_loan_balance") or 0), 2)),
    ]
    settlement = family.get("settlement_type")
    if settlement in ("urban", "rural"):
        assets.append(
            (t("Place of residence"), t("town or city") if settlement == "urban" else t("rural area"))
        )
    blocks.append(_kv(assets, caption=t("Property and loans")))

    other = []
    if family.get("refused_commission_survey"):
        other.append(t("The survey of living conditions by the district commission was refused."))
    if family.get("commission_found_no_need"):
        other.append(t("The district commission concluded that the family is not in need."))
    if family.get("false_information"):
        other.append(t("Knowingly false information or unreliable documents are on record."))
    if family.get("social_contract_breach_date"):
        other.append(
            t(
                "A social contract was terminated through the recipient's fault on {date}.",
                date=_date(date.fromisoformat(str(family["social_contract_breach_date"])[:10]), t),
            )
        )
    for k, p in enumerate(persons, 1):
        if p.get("employment_measures_refusal_date"):
            other.append(
                t(
                    "Member No. {k} refused employment measures on {date}.",
                    k=k,
                    date=_date(date.fromisoformat(str(p["employment_measures_refusal_date"])[:10]), t),
                )
            )
    if other:
        blocks.append(_list(other, caption=t("Other facts on record")))
    blocks.append(_p(t(SOURCES_TEXT), note=True))
    return {"id": "data", "heading": t("The data used about your family"), "blocks": blocks}


def _correction_section(app, t) -> dict:
    blocks = [_p(t(CORRECTION_TEXT, id=app.id)), _p(t(CORRECTION_EFFECT))]
    if app.corrections:
        items = [
            t(
                "{date}: {fields}",
                date=_date(c.created_at, t),
                fields=", ".join(t(CORRECTABLE_LABELS.get(f, f)) for f in c.fields),
            )
            for c in app.corrections
        ]
        blocks.append(_list(items, caption=t("Requests to correct the data already recorded:")))
    return {"id": "correction", "heading": t("How to ask for a correction of the data"), "blocks": blocks}


# --- HTML ------------------------------------------------------------------------------------------------


@cache
def _jinja():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_from_context(ctx: dict) -> str:
    return _jinja().get_template("notice.html").render(n=ctx)


def render_html(app: Application, lang: str) -> str:
    """The notice as a standalone, printable HTML page (A4, inline print CSS)."""
    return html_from_context(notice_context(app, lang))


# --- PDF -------------------------------------------------------------------------------------------------


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def pdf_from_context(ctx: dict, compress: bool = True) -> bytes:
    """The notice as an A4 PDF (fpdf2). ``compress=False`` leaves the page streams readable (tests)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    fonts = _font_dir()

    class NoticePDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(90)
            self.cell(
                0,
                5,
                f"{ctx['title']} · № {ctx['app_id']} · {ctx['page_label']} {self.page_no()}/{{nb}}",
                align="C",
            )

    pdf = NoticePDF(format="A4", unit="mm")
    pdf.set_compression(compress)
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(ctx["title"])
    pdf.set_lang(ctx["lang"])
    pdf.set_creator("Atauly")
    pdf.set_subject(f"{ctx['authority']}; № {ctx['app_id']}")
    pdf.add_page()
    width = pdf.epw

    def text(s: str, size: float = 9.5, bold: bool = False, h: float = 4.8, indent: float = 0.0) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, h, s, new_x="LMARGIN", new_y="NEXT", align="L")

    def kv(rows, caption="") -> None:
        if caption:
            text(caption, 9.5, bold=True)
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(
            col_widths=(45, 55),
            first_row_as_headings=False,
            line_height=5,
            borders_layout="HORIZONTAL_LINES",
            padding=1,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(emphasis="BOLD"))
                row.cell(value)
        pdf.ln(1.5)

    def grid(block) -> None:
        text(block["caption"], 9.5, bold=True)
        pdf.set_font("DejaVu", "", 8.5)
        n = len(block["columns"])
        aligns = ["RIGHT" if i in block["numeric"] else "LEFT" for i in range(n)]
        with pdf.table(
            col_widths=tuple(block["widths"]) if block.get("widths") else None,
            line_height=4.6,
            text_align=tuple(aligns),
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
            borders_layout="SINGLE_TOP_LINE",
            padding=1,
        ) as table:
            head = table.row()
            for c in block["columns"]:
                head.cell(c)
            for r in block["rows"]:
                row = table.row()
                for c in r:
                    row.cell(c)
        pdf.ln(1.5)

    # Header
    text(ctx["authority"], 10, bold=True)
    text(f"{ctx['department']} · {ctx['region']}", 9)
    pdf.ln(2)
    text(ctx["title"], 14, bold=True, h=6.5)
    pdf.ln(1)
    kv(ctx["header"])

    for number, section in enumerate(ctx["sections"], 1):
        pdf.ln(1)
        if pdf.will_page_break(20):
            pdf.add_page()
        text(f"{number}. {section['heading']}", 12, bold=True, h=6)
        pdf.ln(0.5)
        for block in section["blocks"]:
            kind = block["kind"]
            if kind == "p":
                if block.get("headline"):
                    text(block["text"], 11.5, bold=True, h=6)
                else:
                    text(block["text"], 8.5 if block.get("note") else 9.5)
                pdf.ln(1)
            elif kind == "kv":
                kv(block["rows"], block.get("caption", ""))
            elif kind == "table":
                grid(block)
            elif kind == "list":
                if block.get("caption"):
                    text(block["caption"], 9.5, bold=True)
                size, h = (8.5, 4.3) if block.get("note") else (9.5, 4.8)
                for item in block["items"]:
                    pdf.set_font("DejaVu", "", size)
                    if item.startswith("– "):  # a sub-item: indented, its own dash
                        pdf.set_x(pdf.l_margin + 8)
                        pdf.multi_cell(width - 8, h, item, new_x="LMARGIN", new_y="NEXT", align="L")
                        continue
                    pdf.set_x(pdf.l_margin + 2)
                    pdf.cell(4, h, "•")
                    pdf.multi_cell(width - 6, h, item, new_x="LMARGIN", new_y="NEXT", align="L")
                pdf.ln(1)
    pdf.ln(3)
    pdf.set_text_color(90)
    text(ctx["footer"], 8)
    return bytes(pdf.output())


def render_pdf(app: Application, lang: str) -> bytes:
    """The notice as an A4 PDF with embedded DejaVu Sans (Kazakh letters included); nothing is downloaded."""
    return pdf_from_context(notice_context(app, lang))


# --- routes ----------------------------------------------------------------------------------------------


def notice_response(db: DB, user: User, app_id: int, lang: str = "ru", fmt: str = "html") -> Response:
    """The notice of one application as an HTTP response (scoped and audited by ``casework.load``)."""
    if lang not in LANGS:
        raise casework.ServiceError(422, f"lang: use one of {', '.join(LANGS)}")
    if fmt not in ("html", "pdf"):
        raise casework.ServiceError(422, "format: use html or pdf")
    app = casework.load(db, user, app_id, action="notice.read")
    if casework.recommendation_hidden(db, user, app):  # blind mode: the notice states the law's result
        raise casework.ServiceError(
            409, "assessment: blind mode — record your own assessment before opening the notice"
        )
    casework.mark_shown(db, user, app)
    ctx = notice_context(app, lang)
    headers = {
        "Cache-Control": "no-store",
        "Content-Language": lang,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # no script, no external resource; the print CSS is inline
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    }
    if fmt == "pdf":
        headers["Content-Disposition"] = f'inline; filename="notice-{app.id}-{lang}.pdf"'
        return Response(pdf_from_context(ctx), media_type="application/pdf", headers=headers)
    return HTMLResponse(html_from_context(ctx), headers=headers)


router = APIRouter(prefix="/api/v1")


@router.get(
    "/applications/{app_id}/notice",
    tags=["applications"],
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The decision notice for the family (HTML page or PDF).",
        },
        401: {"description": "not authenticated"},
        403: {"description": "outside your district or region, or an aggregates-only role"},
        404: {"description": "no such application"},
    },
)
def get_notice(
    app_id: int,
    db: DBDep,
    user: UserDep,
    lang: Lang = "ru",
    fmt: Annotated[Format, Query(alias="format")] = "html",
) -> Response:
    """The printable decision notice for the family: the decision, the amount and the period, the law's
    reasons, the model's role, the data used, and how to appeal or ask for a correction."""
    return notice_response(db, user, app_id, lang, fmt)


__all__ = ["notice_context", "render_html", "render_pdf", "notice_response", "router"]
