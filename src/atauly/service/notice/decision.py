"""The notice's first section: the decision (or why there is none yet), the amount and the period."""

from __future__ import annotations

from atauly.registry.labels import REFUSAL_REASONS_PLAIN, label

from .. import casework
from .blocks import kv, long_date, months_span, para, section
from .facts import Facts


def decision_section(f: Facts) -> dict:
    write = {"approved": _approved, "rejected": _rejected, "home_visit": _home_visit, "reopened": _reopened}
    blocks = write.get(f.state, _pending)(f)
    return section("decision", f.t("Decision"), blocks)


def officer_reason(f: Facts) -> list[dict]:
    """The officer's reason for departing from the recommendation, and their explanation."""
    t, decision = f.t, f.decision
    if decision is None or not decision.reason_code:
        return []
    out = [
        para(
            t("The officer's reason: {reason}", reason=label("override_reason", decision.reason_code, t.lang))
        )
    ]
    if (decision.comment or "").strip():
        out.append(para(t("The officer's explanation: {comment}", comment=decision.comment.strip())))
    return out


def _approved(f: Facts) -> list[dict]:
    t, law, decision = f.t, f.law, f.decision
    blocks = [para(t("Targeted social assistance is assigned."), headline=True)]
    rows = [(t("Date of the decision"), long_date(decision.decided_at, t))]
    if not law.get("eligible"):  # approved although the law found no entitlement: the law gives no amount
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
        return blocks + officer_reason(f)
    blocks.append(kv(rows + _amount_rows(f)))
    blocks.append(
        para(
            t(
                "Assistance is assigned for the quarter of the application, from the month of application, "
                "and paid monthly."
            )
        )
    )
    if law.get("asp_type") == "conditional":
        blocks.append(
            para(
                t(
                    "The assistance is conditional: members of the family who are able to work take part in "
                    "employment measures under a social contract concluded for the whole period "
                    "(Social Code Art. 122). Refusing employment measures bars assistance for {months} "
                    "months (Art. 128 p.4).",
                    months=int(f.at.sanctions.months),
                )
            )
        )
    return blocks


def _amount_rows(f: Facts) -> list[tuple[str, str]]:
    """The type, the law's amounts, the period and the total of assigned assistance."""
    t, law, decision, at = f.t, f.law, f.decision, f.at
    rows = []
    kind = law.get("asp_type")
    if kind:
        conditional = kind == "conditional"
        rows.append(
            (
                t("Type of assistance"),
                t("conditional (with a social contract)") if conditional else t("unconditional"),
            )
        )
    rows.append((t("Assistance by law, a month"), t.money(f.figure("asp_monthly_amount"), 2)))
    if f.figure("child_supplement_monthly") > 0:
        supplement = t(
            "Supplement for children aged {lo}–{hi}, a month",
            lo=int(at.child_supplement.min_age),
            hi=int(at.child_supplement.max_age),
        )
        rows.append((supplement, t.money(f.figure("child_supplement_monthly"), 2)))
    rows.append((t("In all, a month"), t.money(float(decision.amount_monthly), 2)))
    period = decision.period or str(law.get("assignment_period") or "")
    if "/" in period:
        first, last = period.split("/", 1)
        rows.append((t("Period of assignment"), months_span(first, last, t)))
    if law.get("quarter_total") is not None:
        rows.append((t("In all for the period"), t.money(f.figure("quarter_total"), 2)))
    rows.append((t("Payment"), t("monthly")))
    return rows


def _rejected(f: Facts) -> list[dict]:
    t, law = f.t, f.law
    blocks = [para(t("Targeted social assistance is refused."), headline=True)]
    decided_on = (t("Date of the decision"), long_date(f.decision.decided_at, t))
    ground = "" if law.get("eligible") else f.refusal_text(REFUSAL_REASONS_PLAIN)
    blocks.append(
        kv([decided_on, (t("Ground for refusal under the law"), ground)] if ground else [decided_on])
    )
    if law.get("eligible"):
        blocks.append(
            para(
                t(
                    "By the law's calculation on the data below the family would be entitled to {amount} a "
                    "month; the officer refused the application for the reason stated below.",
                    # the law's monthly amount with the child supplement, as the recommendation holds it
                    amount=t.money(float(f.rec.amount_monthly), 2),
                )
            )
        )
    return blocks + officer_reason(f)


def _home_visit(f: Facts) -> list[dict]:
    t = f.t
    return [
        para(t("No decision yet: a survey of the family's living conditions is requested."), headline=True),
        kv([(t("Decision due by"), long_date(f.app.deadline, t))]),
        para(
            t(
                "Before deciding, the officer asked the district commission to survey your family's living "
                "conditions (a home visit). Refusing the survey is a ground for refusal (Social Code Art. 128 p.2)."
            )
        ),
    ]


def _reopened(f: Facts) -> list[dict]:
    t = f.t
    corr = f.app.corrections[-1] if f.app.corrections else None
    return [
        para(t("No decision yet: your application is being considered again."), headline=True),
        para(
            t(
                "A request to correct the data was recorded on {date}; the application was reopened and will be "
                "decided again on the corrected data.",
                date=long_date(corr.created_at if corr else None, t),
            )
        ),
    ]


def _pending(f: Facts) -> list[dict]:
    t = f.t
    return [
        para(t("No decision yet: your application is being considered."), headline=True),
        kv([(t("Decision due by"), long_date(f.app.deadline, t))]),
        para(
            t(
                "The akimat decides within {n} working days of the application.",
                n=casework.DEADLINE_WORKING_DAYS,
            )
        ),
    ]
