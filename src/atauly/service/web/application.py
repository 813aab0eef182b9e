"""An application as its page shows it: the family, its incomes, the law's result with its explanation, the
recommendation and the history of the case. Read-only view building; the routes are in :mod:`.cases`."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from atauly.i18n import N_
from atauly.model.explain import coded_reasons, restates_law
from atauly.registry import codes
from atauly.registry.labels import (
    CORRECTABLE_FIELDS,
    DISABILITY_GROUPS,
    EDUCATION_LEVELS,
    EMPLOYMENT_STATUSES,
    INCOME_SOURCES,
    MEMBER_ROLES,
    OVERRIDE_REASONS,
    SETTLEMENT_TYPES,
    SEXES,
)
from atauly.registry.quarter import Quarter

from .. import casework, deciding
from ..display import age_on, masked_iin
from ..inspection import fact_lines
from ..models import DECIDED_STATES, OPEN_STATES, Application, Offer, ScanCandidate
from .kit import Page, district_label, usernames

#: The choices of the decision and assessment forms.
OUTCOME_CHOICES = {
    "approve": N_("Approve: assign assistance"),
    "reject": N_("Reject"),
    "home_visit": N_("Send for a home visit first"),
}


def _trace_items(lines: list[str]) -> list[dict]:
    """The law's explanation as items: a blank line starts a section whose first line is its heading; before
    it, indented lines belong to the item above them. The explanation's last section (when there is more than
    one) is its sources — parameter names, references and research notes — which the case page does not
    show: :func:`split_sources` takes it apart for the sources page."""
    items: list[dict] = []
    heading_next = in_section = False
    for line in lines:
        if not line.strip():
            heading_next = True
            continue
        text = re.sub(r"^[•–-]\s+", "", line.strip())  # the explanation's bullets, not a minus sign
        if heading_next:
            for item in items:
                item.setdefault("sources", False)
            items.append({"text": text, "heading": True, "children": [], "sources": False})
            heading_next, in_section = False, True
        elif line.startswith((" ", "\t")) and items and not in_section:
            items[-1]["children"].append(text)
        else:
            items.append({"text": text, "heading": False, "children": []})
    headings = [i for i in items if i["heading"]]
    if len(headings) > 1:
        headings[-1]["sources"] = True
    return items


def split_sources(items: list[dict]) -> tuple[list[dict], list[dict]]:
    """The explanation's items before its sources section, and that section (heading first; [] if none)."""
    for n, item in enumerate(items):
        if item.get("sources"):
            return items[:n], items[n:]
    return items, []


#: The law's parameters the sources list names (law.explain's ``case.use``), in words; the name stays beside
#: them as the code a reader checks the parameter files with.
PARAMETERS = {
    "poverty_line.share_of_subsistence_minimum": N_("Poverty line: share of the subsistence minimum"),
    "poverty_line.share_of_median_income": N_("Poverty line: at least this share of the median income"),
    "median_income.national": N_("Median income, national value"),
    "median_income.regional": N_("Median income, regional value"),
    "subsistence_minimum.bns_national": N_(
        "Subsistence minimum, national value of the Bureau of National Statistics"
    ),
    "subsistence_minimum.bns_regional": N_(
        "Subsistence minimum, regional value of the Bureau of National Statistics"
    ),
    "subsistence_minimum.budget": N_("Subsistence minimum of the law on the republican budget"),
    "subsistence_minimum.budget_value_at_application": N_(
        "The budget law's subsistence minimum is the one in force in the month of application"
    ),
    "child_guarantee.share_of_subsistence_minimum": N_(
        "Guarantee per child (2019): share of the subsistence minimum"
    ),
    "child_supplement.mrp_per_child": N_("Supplement per child aged 1–6, MRP a month"),
    "general.mrp": N_("Monthly calculation index (MRP)"),
    "sanctions.months": N_("Months without assistance after a breach"),
    "assets.max_dwellings": N_("Dwellings a family may own"),
    "assets.vehicle_disqualifies": N_("A motor vehicle rules assistance out"),
}
EXCLUDED_INCOME = N_("Income not counted: {source}")
#: A parameter's value as the law's explanation writes a yes/no one.
YES_NO = {"true": N_("Yes"), "false": N_("No")}
_SOURCE_LINE = re.compile(
    r"^(?P<name>[a-z_.]+)(?: \((?P<period>[^)]+)\))? = (?P<value>.*?)(?: — (?P<ref>.*))?$"
)


def source_rows(lines: list[str], tr) -> list[dict]:
    """The sources list (``name (period) = value — references``) as table rows in the reader's language: the
    parameter in words with its code beside it, its value in words (yes/no, not true/false; figures are
    already written for the language by the law's explanation), the quarter it is of, and the references. A
    line of another shape is kept whole as the reference (nothing is lost)."""
    rows = []
    for line in lines:
        m = _SOURCE_LINE.match(line)
        if not m:
            rows.append({"name": "", "code": "", "period": "", "value": "", "ref": line})
            continue
        code, value = m["name"], m["value"]
        if code.startswith("income.excluded."):
            source = code.removeprefix("income.excluded.")
            name = tr(
                EXCLUDED_INCOME, source=tr(INCOME_SOURCES[source]) if source in INCOME_SOURCES else source
            )
        else:
            name = tr(PARAMETERS[code]) if code in PARAMETERS else code
        rows.append(
            {
                "name": name,
                "code": code,
                "period": m["period"] or "",
                "value": tr(YES_NO[value]) if value in YES_NO else value,
                "ref": m["ref"] or "",
            }
        )
    return rows


def law_sources(page: Page, app: Application) -> list[dict]:
    """The sources section of the law's explanation for ``app`` (heading first), for the sources page."""
    return split_sources(_trace_items(casework.law_trace(app, page.lang)))[1]


def _verdict(page: Page, trace: list[dict], eligible: bool) -> str:
    """The explanation's own verdict line (the ground for refusal, or the type of assistance)."""
    # The explanation's own messages (atauly.po, from atauly.law.explain), looked up, not extracted again here.
    template = page.tr("Entitled. {type}") if eligible else page.tr("Not entitled: {reason}")
    prefix = template.split("{", 1)[0]
    found = next((i["text"] for i in trace if prefix and i["text"].startswith(prefix)), "")
    return found


def _reasons(rec, lang: str) -> list[dict]:
    """The model's reasons, the largest first: each with its direction and whether it restates the law
    (:func:`atauly.model.explain.restates_law`: the law's result, or an input its test reads one for one)."""
    out = []
    for r in coded_reasons(rec.reasons, lang):
        text = str(r.get("text", "")).strip()
        text = re.sub(r"^[+\-−]\s*", "", text)
        contribution = float(r.get("contribution", 0))
        out.append(
            {
                "text": text,
                "up": contribution >= 0,
                "size": abs(contribution),
                "law": restates_law(str(r.get("feature", ""))),
            }
        )
    return sorted(out, key=lambda r: -r["size"])


def _history(page: Page, app: Application) -> list[dict]:
    db = page.db
    names = usernames(
        db,
        {a.officer_id for a in app.assessments}
        | {c.recorded_by for c in app.corrections}
        | {v.recorded_by for v in app.verifications},
    )
    if app.created_by is not None:
        names |= usernames(db, {app.created_by})
    events = [
        {
            "at": app.created_at,
            "kind": "received",
            "who": names.get(app.created_by, ""),
            "title": N_("Application received"),
        }
    ]
    for a in app.assessments:
        events.append(
            {
                "at": a.created_at,
                "kind": "assessment",
                "who": names.get(a.officer_id, ""),
                "title": N_("Independent assessment recorded"),
                "outcome": a.outcome,
            }
        )
    for d in app.decisions:
        events.append(
            {
                "at": d.decided_at,
                "kind": "decision",
                "who": d.officer.username,
                "title": N_("Decision"),
                "outcome": d.outcome,
                "reason": OVERRIDE_REASONS.get(d.reason_code or ""),
                "comment": d.comment,
                "override": d.override,
                "against_law": d.against_law,
                "blind": d.blind,
                "amount": d.amount_monthly if d.outcome == "approve" else None,
                "period": d.period,
            }
        )
    for c in app.corrections:
        events.append(
            {
                "at": c.created_at,
                "kind": "correction",
                "who": names.get(c.recorded_by, ""),
                "title": N_("Correction requested by the family"),
                "fields": [CORRECTABLE_FIELDS.get(f, f) for f in c.fields],
                "comment": c.description,
            }
        )
    for v in app.verifications:
        events.append(
            {
                "at": v.created_at,
                "kind": "verification",
                "who": names.get(v.recorded_by, ""),
                "title": N_("Verified data recorded; the law recomputed"),
                "comment": v.note,
            }
        )
    events.sort(key=lambda e: e["at"])
    return events


def _incomes(snapshot: dict, members: list[dict]) -> dict:
    """Incomes as a table: one row per person and source, one column per month, with totals."""
    number = {m["person_id"]: m for m in members}
    months = sorted({i["month"] for i in snapshot.get("incomes", [])})
    rows: dict[tuple, dict] = {}
    for inc in snapshot.get("incomes", []):
        key = (inc["person_id"], inc["source"])
        row = rows.setdefault(
            key,
            {
                "person": number.get(inc["person_id"]),
                "source": INCOME_SOURCES.get(inc["source"], inc["source"]),
                "amounts": dict.fromkeys(months, 0.0),
            },
        )
        row["amounts"][inc["month"]] += float(inc["amount_kzt"])
    order = {pid: k for k, pid in enumerate(number)}
    table = sorted(
        rows.values(), key=lambda r: order.get(r["person"]["person_id"], 99) if r["person"] else 99
    )
    for r in table:
        r["total"] = sum(r["amounts"].values())
    totals = {m: sum(r["amounts"][m] for r in table) for m in months}
    return {"months": months, "rows": table, "totals": totals, "total": sum(totals.values())}


def application_view(page: Page, app: Application) -> dict:
    """Everything the application's page shows, as plain values (the recommendation only if this user may
    see it now: blind mode)."""
    snap = app.snapshot
    members = _members(page, app)
    rec = app.recommendation
    hidden = not casework.shown(page.db, page.user, app)
    shown = rec is not None and not hidden
    may_decide = page.user.role in ("officer", "supervisor", "admin")
    assignee = usernames(page.db, {app.assigned_to}).get(app.assigned_to, "") if app.assigned_to else ""
    return {
        "id": app.id,
        "family_id": app.family_id,
        "assigned": assignee,
        "assigned_to_me": app.assigned_to == page.user.id,
        "assigned_id": app.assigned_to,
        "officers": (
            [(u.id, u.username) for u in casework.officers_for(page.db, app.district_kato)]
            if page.user.role in ("supervisor", "admin") and app.status in OPEN_STATES
            else []
        ),
        "verified": _verified(page, app),
        "may_verify": may_decide and app.status in OPEN_STATES,
        "verify_months": Quarter.parse(app.quarter).reference_months,
        "facts": _facts(app) if hidden and rec is not None else None,
        "district": district_label(app.district_kato, page.lang),
        "region": codes.region_name(app.region_kato, page.lang),
        "quarter": app.quarter,
        "status": app.status,
        "open": app.status in OPEN_STATES,
        "decided": app.status in DECIDED_STATES,
        "received": app.received_on,
        "deadline": app.deadline,
        "days_left": casework.working_days_between(date.today(), app.deadline),
        "overdue": app.status in OPEN_STATES and app.deadline < date.today(),
        "version": app.version,
        "source": app.source,
        # Why the proactive search offered the family a visit (one line): like the law's result, not before
        # the officer's own assessment in blind mode.
        "offered_why": _offered_why(page, app) if app.source == "offer" and not hidden else "",
        "language": app.language or "ru",
        **_family(snap["families"][0]),
        "members": members,
        "incomes": _incomes(snap, members),
        "hidden": hidden,
        "law": _law(page, app) if shown else None,
        "model": _model(page, app) if shown else None,
        "history": _history(page, app),
        "may_decide": may_decide and app.status in OPEN_STATES and not hidden and rec is not None,
        "may_assess": may_decide and hidden,
        "may_correct": may_decide,
    }


def _offered_why(page: Page, app: Application) -> str:
    """The scan's reason for the offer this application answered, in the page's language ("" if none)."""
    from .proactive import why_offered

    offer = page.db.execute(select(Offer).where(Offer.application_id == app.id)).scalars().first()
    if offer is None:
        return ""
    c = page.db.execute(
        select(ScanCandidate).where(
            ScanCandidate.quarter == offer.quarter, ScanCandidate.family_id == offer.family_id
        )
    ).scalar_one_or_none()
    return why_offered(c, page.lang)[0] if c is not None else ""


def _members(page: Page, app: Application) -> list[dict]:
    return [
        {
            "n": k,
            "person_id": p["person_id"],
            "role": MEMBER_ROLES.get(p["role"], p["role"]),
            "sex": SEXES.get(p["sex"], p["sex"]),
            "age": age_on(p.get("birth_date"), app.received_on),
            "disability": DISABILITY_GROUPS.get(int(p.get("disability_group") or 0)),
            "ill": bool(p.get("long_term_illness")),
            "employment": EMPLOYMENT_STATUSES.get(p.get("employment_status") or "", ""),
            "education": EDUCATION_LEVELS.get(p.get("education") or "", ""),
            "iin": masked_iin(p.get("iin"), page.t),
            "refused_measures": p.get("employment_measures_refusal_date"),
        }
        for k, p in enumerate(app.snapshot["persons"], start=1)
    ]


def _family(fam: dict) -> dict:
    return {
        "family": {
            "settlement": SETTLEMENT_TYPES.get(fam.get("settlement_type") or ""),
            "application_date": fam.get("application_date"),
            "refused_survey": bool(fam.get("refused_commission_survey")),
            "no_need": bool(fam.get("commission_found_no_need")),
            "breach_date": fam.get("social_contract_breach_date"),
            "false_information": bool(fam.get("false_information")),
        },
        "assets": {
            "dwellings": fam.get("dwellings_owned", 0),
            "vehicles": fam.get("vehicles_owned", 0),
            "land_ha": fam.get("land_ha", 0.0),
            "livestock": fam.get("livestock_heads", 0),
            "loans": fam.get("nonmortgage_loan_balance", 0.0),
        },
    }


def _law(page: Page, app: Application) -> dict:
    """The law's result (its figures as the law gave them) and its explanation."""
    rec = app.recommendation
    row = rec.law or {}
    trace, sources = split_sources(_trace_items(casework.law_trace(app, page.lang)))
    return {
        "eligible": rec.eligible_by_law,
        "amount": rec.amount_monthly,
        "verdict": _verdict(page, trace, rec.eligible_by_law),
        "members": row.get("members"),
        "per_capita_income": row.get("per_capita_income"),
        "poverty_line": row.get("poverty_line"),
        "period": row.get("assignment_period"),
        "trace": trace,
        "has_sources": bool(sources),
        # confirmed facts (inspection act, photo findings) the law and the model were computed with
        "facts": fact_lines(app.snapshot, rec.facts, page.t) if rec.facts else [],
    }


def _model(page: Page, app: Application) -> dict:
    rec = app.recommendation
    return {
        "mode": rec.mode,
        "version": rec.model_version,
        "probability": rec.probability,
        "threshold": rec.threshold,
        "recommended": "approve" if rec.recommended else "reject",
        "reasons": (reasons := _reasons(rec, page.lang)),
        # what the model adds beyond the law's verdict is shown first; what restates the law after, marked
        "beyond": [r for r in reasons if not r["law"]],
        "restating": [r for r in reasons if r["law"]],
        "created_at": rec.created_at,
        "input_hash": rec.input_hash,
        "switched_off_since": (
            rec.mode == "model" and not casework.district_setting(page.db, app.district_kato).model_enabled
        ),
    }


def _facts(app: Application) -> dict:
    """Blind mode hides verdicts, not facts: the figures an officer assesses with (members counted, the
    counted income per member, the poverty line and the months counted), without eligibility or amount."""
    row = app.recommendation.law or {}
    return {
        "members": row.get("members"),
        "per_capita_income": row.get("per_capita_income"),
        "poverty_line": row.get("poverty_line"),
        "months": Quarter.parse(app.quarter).reference_months,
    }


def _verified(page: Page, app: Application) -> dict | None:
    """Values an officer verified: declared beside verified, and each verification's note."""
    if not app.verifications:
        return None
    names = usernames(page.db, {v.recorded_by for v in app.verifications})
    rows = [
        {
            **r,
            "role": MEMBER_ROLES.get(r["role"], r["role"]),
            "source": INCOME_SOURCES.get(r["source"], r["source"]),
        }
        for r in deciding.verified_values(app)
    ]
    notes = [
        {"at": v.created_at, "who": names.get(v.recorded_by, ""), "note": v.note} for v in app.verifications
    ]
    return {"rows": rows, "notes": notes}
