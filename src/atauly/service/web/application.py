"""An application as its page shows it: the family, its incomes, the law's result with its explanation, the
recommendation and the history of the case. Read-only view building; the routes are in :mod:`.cases`."""

from __future__ import annotations

import re
from datetime import date

from atauly.i18n import N_, Translator
from atauly.law.explain import SOURCE_LABELS
from atauly.registry import codes
from atauly.registry.iin import mask_iin

from .. import casework
from ..casework import REASON_CODES
from ..models import DECIDED_STATES, OPEN_STATES, Application
from .kit import Page, district_label, usernames

#: The choices of the decision and assessment forms.
OUTCOME_CHOICES = {
    "approve": N_("Approve: assign assistance"),
    "reject": N_("Reject"),
    "home_visit": N_("Send for a home visit first"),
}
MEMBER_ROLES = {
    "applicant": N_("Applicant"),
    "spouse": N_("Spouse"),
    "child": N_("Child"),
    "other": N_("Other relative"),
}
SEXES = {"M": N_("Male"), "F": N_("Female")}
SETTLEMENTS = {"urban": N_("Town or city"), "rural": N_("Rural area")}
EMPLOYMENT = {
    "employee": N_("Employee"),
    "self_employed": N_("Self-employed"),
    "registered_unemployed": N_("Registered unemployed"),
    "not_working": N_("Not working"),
    "student_full_time": N_("Full-time student"),
    "pensioner": N_("Pensioner"),
    "caring_child_under_3": N_("Caring for a child under 3"),
    "caring_disabled": N_("Caring for a disabled person"),
    "caring_elderly": N_("Caring for an elderly person"),
    "maternity_leave": N_("Maternity leave"),
}
EDUCATION = {
    "none": N_("No education"),
    "primary": N_("Primary"),
    "basic_secondary": N_("Basic secondary"),
    "general_secondary": N_("General secondary"),
    "technical_vocational": N_("Technical and vocational"),
    "higher": N_("Higher"),
}
DISABILITY = {1: N_("Group I"), 2: N_("Group II"), 3: N_("Group III")}
CORRECTABLE_LABELS = {
    "family": N_("Family details"),
    "persons": N_("Members of the family"),
    "incomes": N_("Incomes"),
    "assets": N_("Assets"),
    "disability": N_("Disability"),
    "employment": N_("Employment"),
    "other": N_("Other"),
}


def _age(born: str | None, on: date) -> int | None:
    if not born:
        return None
    b = date.fromisoformat(born)
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


_MASK = re.compile(r"^<(\d+) chars hidden>$")


def _masked_iin(value: object, t: Translator) -> str:
    """The registry's mask (the IIN is never shown), in the page's language."""
    masked = mask_iin(value)
    found = _MASK.match(masked)
    return t("hidden ({n} digits)", n=found.group(1)) if found else masked


def _trace_items(lines: list[str]) -> list[dict]:
    """The law's explanation as items: a blank line starts a section whose first line is its heading (the
    parameters and references); before it, indented lines belong to the item above them."""
    items: list[dict] = []
    heading_next = in_section = False
    for line in lines:
        if not line.strip():
            heading_next = True
            continue
        text = re.sub(r"^[•–-]\s+", "", line.strip())  # the explanation's bullets, not a minus sign
        if heading_next:
            # The explanation's last section is its sources (parameter names, research notes): collapsed.
            for item in items:
                item.setdefault("collapsed", False)
            items.append({"text": text, "heading": True, "children": [], "collapsed": False})
            heading_next, in_section = False, True
        elif line.startswith((" ", "\t")) and items and not in_section:
            items[-1]["children"].append(text)
        else:
            items.append({"text": text, "heading": False, "children": []})
    headings = [i for i in items if i["heading"]]
    if len(headings) > 1:
        headings[-1]["collapsed"] = True
    return items


def _verdict(page: Page, trace: list[dict], eligible: bool) -> str:
    """The explanation's own verdict line (the ground for refusal, or the type of assistance)."""
    # The explanation's own messages (atauly.po, from atauly.law.explain), looked up, not extracted again here.
    template = page.tr("Entitled. {type}") if eligible else page.tr("Not entitled: {reason}")
    prefix = template.split("{", 1)[0]
    found = next((i["text"] for i in trace if prefix and i["text"].startswith(prefix)), "")
    return found


def _reasons(rec, lang: str) -> list[dict]:
    out = []
    for r in (rec.reasons or {}).get(lang, []):
        text = str(r.get("text", "")).strip()
        text = re.sub(r"^[+\-−]\s*", "", text)
        out.append({"text": text, "up": float(r.get("contribution", 0)) >= 0})
    return out


def _history(page: Page, app: Application) -> list[dict]:
    db = page.db
    names = usernames(db, {a.officer_id for a in app.assessments} | {c.recorded_by for c in app.corrections})
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
                "reason": REASON_CODES.get(d.reason_code or ""),
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
                "fields": [CORRECTABLE_LABELS.get(f, f) for f in c.fields],
                "comment": c.description,
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
                "source": SOURCE_LABELS.get(inc["source"], inc["source"]),
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
    t = page.t
    snap = app.snapshot
    fam = snap["families"][0]
    members = []
    for k, p in enumerate(snap["persons"], start=1):
        members.append(
            {
                "n": k,
                "person_id": p["person_id"],
                "role": MEMBER_ROLES.get(p["role"], p["role"]),
                "sex": SEXES.get(p["sex"], p["sex"]),
                "age": _age(p.get("birth_date"), app.received_on),
                "disability": DISABILITY.get(int(p.get("disability_group") or 0)),
                "ill": bool(p.get("long_term_illness")),
                "employment": EMPLOYMENT.get(p.get("employment_status") or "", ""),
                "education": EDUCATION.get(p.get("education") or "", ""),
                "iin": _masked_iin(p.get("iin"), t),
                "refused_measures": p.get("employment_measures_refusal_date"),
            }
        )
    rec = app.recommendation
    hidden = not casework.shown(page.db, page.user, app)
    law = None
    model = None
    if rec is not None and not hidden:
        row = rec.law or {}
        trace = _trace_items(casework.law_trace(app, page.lang))
        law = {
            "eligible": rec.eligible_by_law,
            "amount": rec.amount_monthly,
            "verdict": _verdict(page, trace, rec.eligible_by_law),
            "members": row.get("members"),
            "per_capita_income": row.get("per_capita_income"),
            "poverty_line": row.get("poverty_line"),
            "period": row.get("assignment_period"),
            "trace": trace,
        }
        model = {
            "mode": rec.mode,
            "version": rec.model_version,
            "probability": rec.probability,
            "threshold": rec.threshold,
            "recommended": "approve" if rec.recommended else "reject",
            "reasons": _reasons(rec, page.lang),
            "created_at": rec.created_at,
            "input_hash": rec.input_hash,
            "switched_off_since": (
                rec.mode == "model"
                and not casework.district_setting(page.db, app.district_kato).model_enabled
            ),
        }
    may_decide = page.user.role in ("officer", "supervisor", "admin")
    return {
        "id": app.id,
        "family_id": app.family_id,
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
        "family": {
            "settlement": SETTLEMENTS.get(fam.get("settlement_type") or ""),
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
        "members": members,
        "incomes": _incomes(snap, members),
        "hidden": hidden,
        "law": law,
        "model": model,
        "history": _history(page, app),
        "may_decide": may_decide and app.status in OPEN_STATES and not hidden and rec is not None,
        "may_assess": may_decide and hidden,
        "may_correct": may_decide,
    }
