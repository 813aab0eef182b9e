"""The notice's sections on why: the law's reasons (its figures, then its explanation step by step) and
the role the computer model played."""

from __future__ import annotations

from atauly.model.explain import coded_reasons
from atauly.registry.codes import INCOME_SOURCES
from atauly.registry.labels import INCOME_SOURCES as SOURCE_LABELS
from atauly.registry.labels import REFUSAL_REASONS_PLAIN, label
from atauly.registry.quarter import plain_periods

from .. import casework
from ..engine import TOP_REASONS
from .blocks import bullets, months_span, para, section
from .facts import Facts


def reasons_section(f: Facts) -> dict:
    t = f.t
    if not f.law:
        return section("reasons", t("Why: the law's reasons"), [])
    blocks = []
    if not f.decided:
        blocks.append(
            para(t("This calculation is preliminary: it uses the data on record and is not a decision."))
        )
    blocks.append(bullets(_income_test(f) + _grounds_and_amounts(f)))
    blocks.append(bullets(plain_lines(f), caption=t("The calculation step by step"), note=True))
    heading = t("Why: the law's reasons") if f.decided else t("The law's calculation")
    return section("reasons", heading, blocks)


def plain_lines(f: Facts) -> list[str]:
    """The law's explanation (atauly.law.explain) for this application, without the parameter names and
    references that follow it and without its first line (the family and quarter, already in the header)."""
    lines = casework.law_trace(f.app, f.t.lang)
    if "" in lines:
        lines = lines[: lines.index("")]
    # Its quarter and month codes (2026Q3, 2026-07) as the notice writes periods.
    return [plain_periods(line.strip(), f.t.lang) for line in lines[1:]]


def _income_test(f: Facts) -> list[str]:
    """Members, counted income, income per person against the poverty line: the law's figures."""
    t, law = f.t, f.law
    months = f.income_months
    pci, pl = f.figure("per_capita_income"), f.figure("poverty_line")
    lines = [
        t("Members of the family counted: {n}.", n=int(law["members"])),
        t(
            "The family's counted income in {months} (the quarter before the quarter of application) was {income}, "
            "that is {pci} a month per person (Social Code Art. 127).",
            months=months_span(months[0], months[-1], t),
            income=t.money(f.figure("counted_income_quarter"), 2),
            pci=t.money(pci, 2),
        ),
    ]
    if law.get("refusal_reason") != "income_above_poverty_line":
        lines.append(
            t(
                "This is not above the poverty line for your region, {pl} a month per person, so the income test "
                "is met (Social Code Art. 120).",
                pl=t.money(pl, 2),
            )
        )
    else:
        lines.append(
            t(
                "This is above the poverty line for your region, {pl} a month per person, so the income test is "
                "not met (Social Code Art. 128 p.1).",
                pl=t.money(pl, 2),
            )
        )
    excluded = [
        t(SOURCE_LABELS[s]) for s in INCOME_SOURCES if bool(f.at.income.excluded[s]) and f.income_of(s) > 0
    ]
    if excluded:
        lines.append(t("Not counted, as the law provides: {sources}.", sources=", ".join(excluded)))
    return lines


def _grounds_and_amounts(f: Facts) -> list[str]:
    """Any other ground for refusal, else the law's amounts."""
    t, law, at = f.t, f.law, f.at
    lines = []
    if law.get("refusal_reason") != "income_above_poverty_line" and (
        ground := f.refusal_text(REFUSAL_REASONS_PLAIN)
    ):
        lines.append(ground)
    if not law.get("eligible"):
        return lines
    if float(at.child_guarantee.share_of_subsistence_minimum) == 0:  # the gap rule (not the 2019 guarantee)
        lines.append(
            t(
                "The monthly assistance is the gap between the poverty line and the income per person, times the "
                "number of members: ({pl} − {pci}) × {n} = {amount}.",
                pl=t.money(f.figure("poverty_line"), 2),
                pci=t.money(f.figure("per_capita_income"), 2),
                n=int(law["members"]),
                amount=t.money(f.figure("asp_monthly_amount"), 2),
            )
        )
    if f.figure("child_supplement_monthly") > 0:
        lines.append(
            t(
                "Children aged {lo} to {hi} receive a supplement of {share} monthly calculation indices (MRP) "
                "each: {amount} a month.",
                lo=int(at.child_supplement.min_age),
                hi=int(at.child_supplement.max_age),
                share=t.number(float(at.child_supplement.mrp_per_child), 1),
                amount=t.money(f.figure("child_supplement_monthly"), 2),
            )
        )
    return lines


def model_section(f: Facts) -> dict:
    t = f.t
    blocks = _model_decided(f) if f.decided else _model_pending(f)
    return section("model", t("The role of the computer model"), blocks)


def _uses_model(f: Facts) -> bool:
    return f.rec is not None and f.rec.mode == "model"


def _model_pending(f: Facts) -> list[dict]:
    """Before a decision the notice states no recommendation (it cannot anchor nor read as a verdict)."""
    t = f.t
    if _uses_model(f):
        first = t(
            "A statistical model (version {version}) gives the officer an advisory recommendation; it is "
            "stated on the notice once the application is decided.",
            version=f.rec.model_version,
        )
    else:
        first = t(
            "The model is not used for this application (it is switched off for the district or not "
            "available): the recommendation comes from the law's calculation alone."
        )
    last = t(
        "An officer decides. The model's recommendation is advisory only and is never evidence against "
        "your family."
    )
    return [para(first), para(last)]


def _model_decided(f: Facts) -> list[dict]:
    t, rec, decision = f.t, f.rec, f.decision
    recommended = t("to assign assistance") if rec.recommended else t("not to assign assistance")
    if _uses_model(f):
        blocks = _model_estimate(f, recommended)
    else:
        blocks = [
            para(
                t(
                    "The model was not used for this application (it was switched off for the district or not "
                    "available): the recommendation came from the law's calculation alone: {recommended}.",
                    recommended=recommended,
                )
            )
        ]
    blocks.append(para(t("The recommendation was advisory; the decision was made by an officer.")))
    if decision is not None and decision.override:
        text = t("The officer departed from the recommendation.")
        if decision.reason_code:
            reason = label("override_reason", decision.reason_code, t.lang)
            text += " " + t("The officer's reason: {reason}", reason=reason)
        blocks.append(para(text))
    elif decision is not None:
        blocks.append(para(t("The officer followed the recommendation.")))
    return blocks


def _model_estimate(f: Facts, recommended: str) -> list[dict]:
    """The model's recommendation, its estimate and what it rested on most."""
    t, rec = f.t, f.rec
    blocks = [
        para(
            t(
                "A statistical model (version {version}) gave the officer an advisory recommendation: {recommended}.",
                version=rec.model_version,
                recommended=recommended,
            )
        )
    ]
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
    # the engine's top reasons (the largest); the ones kept beyond the law for the case page follow them and
    # are not what the estimate "rested on most"
    reasons = coded_reasons(rec.reasons, t.lang)[:TOP_REASONS]
    if reasons:
        towards = {True: t("speaks for entitlement"), False: t("speaks against entitlement")}
        # The stored sentence starts with its sign ("+ " / "− "); the notice says the direction in words.
        items = [f"{r['text'].lstrip('+−- ')} ({towards[r['contribution'] > 0]})" for r in reasons]
        blocks.append(bullets(items, caption=t("What the model's estimate rested on most:")))
    return blocks
