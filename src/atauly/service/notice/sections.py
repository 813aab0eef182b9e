"""The notice's sections: the decision, the law's reasons, the model's role, the data used, and how to
ask for a correction."""

from __future__ import annotations

from datetime import date

from atauly.law.explain import SOURCE_LABELS
from atauly.registry.codes import INCOME_SOURCES

from .. import casework
from .blocks import (
    WORKING_AGE_FROM,
    age_on,
    bullets,
    kv,
    long_date,
    months_span,
    para,
    plain_lines,
    previous_quarter_months,
    table,
)
from .texts import (
    CORRECTABLE_LABELS,
    CORRECTION_EFFECT,
    CORRECTION_TEXT,
    EMPLOYMENT_LABELS,
    REFUSAL_PLAIN,
    ROLE_LABELS,
    SEX_LABELS,
    SOURCES_TEXT,
)


def decision_section(app, state, decision, law, at, t) -> dict:
    blocks: list[dict] = []
    months = int(at.sanctions.months)
    due = [(t("Decision due by"), long_date(app.deadline, t))]
    if state == "approved":
        blocks.append(para(t("Targeted social assistance is assigned."), headline=True))
        rows = [(t("Date of the decision"), long_date(decision.decided_at, t))]
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
                rows.append((t("Period of assignment"), months_span(first, last, t)))
            if law.get("quarter_total") is not None:
                rows.append((t("In all for the period"), t.money(float(law["quarter_total"]), 2)))
            rows.append((t("Payment"), t("monthly")))
            blocks.append(kv(rows))
            blocks.append(
                para(
                    t(
                        "Assistance is assigned for the quarter of the application, from the month of application, "
                        "and paid monthly."
                    )
                )
            )
            if kind == "conditional":
                blocks.append(
                    para(
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
            blocks.append(kv(rows))
            blocks.append(
                para(
                    t(
                        "The law's calculation on the data below did not find the family entitled, so it gives no "
                        "amount; the officer approved the application for the reason stated below. Ask the akimat "
                        "for the amount and the period."
                    )
                )
            )
            blocks += officer_reason(decision, t)
    elif state == "rejected":
        blocks.append(para(t("Targeted social assistance is refused."), headline=True))
        decided_on = (t("Date of the decision"), long_date(decision.decided_at, t))
        reason = law.get("refusal_reason") or ""
        if not law.get("eligible") and reason in REFUSAL_PLAIN:
            text = t(REFUSAL_PLAIN[reason], months=months, n=int(at.assets.max_dwellings))
            blocks.append(kv([decided_on, (t("Ground for refusal under the law"), text)]))
        else:
            blocks.append(kv([decided_on]))
        if law.get("eligible"):
            blocks.append(
                para(
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
        blocks += officer_reason(decision, t)
    elif state == "home_visit":
        blocks.append(
            para(
                t("No decision yet: a survey of the family's living conditions is requested."), headline=True
            )
        )
        blocks.append(kv(due))
        blocks.append(
            para(
                t(
                    "Before deciding, the officer asked the district commission to survey your family's living "
                    "conditions (a home visit). Refusing the survey is a ground for refusal (Social Code Art. 128 p.2)."
                )
            )
        )
    elif state == "reopened":
        blocks.append(para(t("No decision yet: your application is being considered again."), headline=True))
        corr = app.corrections[-1] if app.corrections else None
        blocks.append(
            para(
                t(
                    "A request to correct the data was recorded on {date}; the application was reopened and will be "
                    "decided again on the corrected data.",
                    date=long_date(corr.created_at if corr else None, t),
                )
            )
        )
    else:
        blocks.append(para(t("No decision yet: your application is being considered."), headline=True))
        blocks.append(kv(due))
        blocks.append(
            para(
                t(
                    "The akimat decides within {n} working days of the application.",
                    n=casework.DEADLINE_WORKING_DAYS,
                )
            )
        )
    return {"id": "decision", "heading": t("Decision"), "blocks": blocks}


def officer_reason(decision, t) -> list[dict]:
    out = []
    if decision is not None and decision.reason_code:
        out.append(
            para(
                t(
                    "The officer's reason: {reason}",
                    reason=casework.reason_label(decision.reason_code, t.lang),
                )
            )
        )
    if decision is not None and decision.reason_code and (decision.comment or "").strip():
        out.append(para(t("The officer's explanation: {comment}", comment=decision.comment.strip())))
    return out


def reasons_section(app, state, law, at, t) -> dict:
    blocks: list[dict] = []
    if not law:
        return {"id": "reasons", "heading": t("Why: the law's reasons"), "blocks": blocks}
    prev = previous_quarter_months(str(law["application_month"]))
    span = months_span(prev[0], prev[-1], t)
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
        if bool(at.income.excluded[s]) and income_sum(app.snapshot, s, prev) > 0
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
            para(t("This calculation is preliminary: it uses the data on record and is not a decision."))
        )
    blocks.append(bullets(summary))
    blocks.append(bullets(plain_lines(app, t.lang), caption=t("The calculation step by step"), note=True))
    heading = t("Why: the law's reasons") if state in ("approved", "rejected") else t("The law's calculation")
    return {"id": "reasons", "heading": heading, "blocks": blocks}


def model_section(app, state, decision, t) -> dict:
    rec = app.recommendation
    blocks: list[dict] = []
    uses_model = rec is not None and rec.mode == "model"
    if state not in ("approved", "rejected"):
        if uses_model:
            blocks.append(
                para(
                    t(
                        "A statistical model (version {version}) gives the officer an advisory recommendation; it is "
                        "stated on the notice once the application is decided.",
                        version=rec.model_version,
                    )
                )
            )
        else:
            blocks.append(
                para(
                    t(
                        "The model is not used for this application (it is switched off for the district or not "
                        "available): the recommendation comes from the law's calculation alone."
                    )
                )
            )
        blocks.append(
            para(
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
            para(
                t(
                    "A statistical model (version {version}) gave the officer an advisory recommendation: {recommended}.",
                    version=rec.model_version,
                    recommended=recommended,
                )
            )
        )
        if rec.probability is not None:
            blocks.append(
                para(
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
            blocks.append(bullets(items, caption=t("What the model's estimate rested on most:")))
    else:
        blocks.append(
            para(
                t(
                    "The model was not used for this application (it was switched off for the district or not "
                    "available): the recommendation came from the law's calculation alone: {recommended}.",
                    recommended=recommended,
                )
            )
        )
    blocks.append(para(t("The recommendation was advisory; the decision was made by an officer.")))
    if decision is not None and decision.override:
        text = t("The officer departed from the recommendation.")
        if decision.reason_code:
            text += " " + t(
                "The officer's reason: {reason}", reason=casework.reason_label(decision.reason_code, t.lang)
            )
        blocks.append(para(text))
    elif decision is not None:
        blocks.append(para(t("The officer followed the recommendation.")))
    return {"id": "model", "heading": t("The role of the computer model"), "blocks": blocks}


def income_sum(snapshot: dict, source: str, months: list[str]) -> float:
    return sum(
        float(i["amount_kzt"])
        for i in snapshot.get("incomes", [])
        if i["source"] == source and i["month"] in months
    )


def data_section(app, family, persons, law, month, at, t) -> dict:
    blocks: list[dict] = [para(t("The law and the officer used the following data about your family."))]
    on = app.received_on
    rows = []
    for k, p in enumerate(persons, 1):
        group = int(p.get("disability_group") or 0)
        rows.append(
            [
                str(k),
                t(ROLE_LABELS.get(p.get("role"), p.get("role") or "")),
                t(SEX_LABELS.get(p.get("sex"), p.get("sex") or "")),
                str(age_on(p["birth_date"], on)),
                t("group {n}", n=group) if group else "—",
                t(EMPLOYMENT_LABELS[p["employment_status"]])
                if p.get("employment_status") in EMPLOYMENT_LABELS
                and age_on(p["birth_date"], on) >= WORKING_AGE_FROM
                else "—",
            ]
        )
    blocks.append(
        table(
            t("Members of the family"),
            [t("No."), t("Role in the family"), t("Sex"), t("Age, years"), t("Disability"), t("Occupation")],
            rows,
            numeric=(0, 3),
            widths=(6, 22, 13, 11, 16, 32),
        )
    )

    prev = previous_quarter_months(str(law.get("application_month") or month))
    span = months_span(prev[0], prev[-1], t)
    income_rows = []
    counted_total = 0.0
    for source in INCOME_SOURCES:
        total = income_sum(app.snapshot, source, prev)
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
            table(
                caption,
                [t("Source"), t("Amount"), t("In the calculation")],
                income_rows,
                numeric=(1,),
                widths=(50, 22, 28),
            )
        )
    else:
        blocks.append(para(caption + ": " + t("no incomes on record.")))

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
    blocks.append(kv(assets, caption=t("Property and loans")))

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
                date=long_date(date.fromisoformat(str(family["social_contract_breach_date"])[:10]), t),
            )
        )
    for k, p in enumerate(persons, 1):
        if p.get("employment_measures_refusal_date"):
            other.append(
                t(
                    "Member No. {k} refused employment measures on {date}.",
                    k=k,
                    date=long_date(date.fromisoformat(str(p["employment_measures_refusal_date"])[:10]), t),
                )
            )
    if other:
        blocks.append(bullets(other, caption=t("Other facts on record")))
    blocks.append(para(t(SOURCES_TEXT), note=True))
    return {"id": "data", "heading": t("The data used about your family"), "blocks": blocks}


def correction_section(app, t) -> dict:
    blocks = [para(t(CORRECTION_TEXT, id=app.id)), para(t(CORRECTION_EFFECT))]
    if app.corrections:
        items = [
            t(
                "{date}: {fields}",
                date=long_date(c.created_at, t),
                fields=", ".join(t(CORRECTABLE_LABELS.get(f, f)) for f in c.fields),
            )
            for c in app.corrections
        ]
        blocks.append(bullets(items, caption=t("Requests to correct the data already recorded:")))
    return {"id": "correction", "heading": t("How to ask for a correction of the data"), "blocks": blocks}
