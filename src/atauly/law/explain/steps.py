"""The steps of an explanation, one function each, in the order the law decides: the family, its counted
income, per-capita income and the poverty line, the income test, then a refusal or the assistance (type,
amount, child supplement, assignment). Each step writes its lines, legal notes and parameters used."""

from __future__ import annotations

from atauly.registry.codes import INCOME_SOURCES, region_name
from atauly.registry.labels import label

from .case import Case
from .details import member_lines, refusal_details, stale_inputs
from .messages import (
    ASSET_BASIS,
    CONDITIONAL_WITH_CARER,
    LEGAL_NOTES,
    SM_SOURCE_TEXT,
    TYPE_TEXT,
)

#: The subsistence-minimum parameter behind each source of ``subsistence_minimum_source``.
SM_PARAMETER = {"regional_bns": "bns_regional", "national_bns": "bns_national", "budget": "budget"}


def family_and_members(case: Case) -> None:
    t = case.t
    case.lines.append(
        t(
            "Family {family}, {region}; quarter {quarter}, computed for {month}",
            family=case.family_id,
            region=region_name(case.region_kato, t.lang),
            quarter=str(case.quarter),
            month=case.month,
        )
    )
    case.lines.append(
        t("Members on {date}: {n}", date=t.date(case.reference_date), n=int(case.value("members")))
    )
    case.lines.extend(f"  – {line}" for line in member_lines(case))


def counted_income(case: Case) -> None:
    """Income of the preceding quarter by source, counted or excluded, then the total."""
    t, months = case.t, case.counted_months
    span = f"{months[0]}…{months[-1]}"
    case.lines.append(
        t(
            "Income of all members in {months} (the quarter before the application quarter, Art. 127):",
            months=span,
        )
    )
    for source in INCOME_SOURCES:
        total = sum(float(case.sim.calculate(f"income_{source}", m).sum()) for m in months)
        if total <= 0:
            continue
        excluded = bool(case.at.income.excluded[source])
        shown = label("income_source", source, t.lang)
        status = t("excluded") if excluded else t("counted")
        case.lines.append(f"  – {shown}: {t.money(total, 2)} ({status})")
        if excluded:
            case.note(t(LEGAL_NOTES["income.excluded"], source=shown))
            case.use(f"income.excluded.{source}", "true", case.params.income.excluded.children[source])
    if not case.one.incomes["month"].isin(months).any():
        case.lines.append(
            "  – "
            + t(
                "no income record for this family in {months}: its income counts as 0 ₸ (check that it was not missed)",
                months=span,
            )
        )
    case.lines.append(
        t("Counted income: {amount}", amount=t.money(float(case.value("counted_income_quarter")), 2))
    )


def per_capita_income(case: Case) -> None:
    t = case.t
    members = int(case.value("members"))
    counted = float(case.value("counted_income_quarter"))
    pci = float(case.value("per_capita_income"))
    case.lines.append(
        t(
            "Per-capita income {pci} = {counted} ÷ {n} members ÷ 3 months",
            pci=t.money(pci, 2),
            counted=t.money(counted, 2),
            n=members,
        )
        + (t(" (rounded half up to the tiyn)") if round(pci * 3 * members, 2) != round(counted, 2) else "")
    )


def poverty_line(case: Case) -> None:
    """The line as the larger of its terms (or the one term before 2025), and where each value comes from."""
    t, at = case.t, case.at
    share_sm = float(at.poverty_line.share_of_subsistence_minimum)
    share_med = float(at.poverty_line.share_of_median_income)
    src = case.value("subsistence_minimum_source")
    pl = float(case.value("poverty_line"))
    sm = float(case.value("subsistence_minimum_reference"))
    median = float(case.value("median_income_reference"))
    sm_text = t(SM_SOURCE_TEXT[src], quarter=case.previous_quarter)
    if share_med > 0:
        case.lines.append(
            t(
                "Poverty line {pl} = max({share_med} × median income {median}; {share_sm} × subsistence minimum {sm} ({source}))",
                pl=t.money(pl),
                share_med=t.percent(share_med),
                median=t.money(median, 2),
                share_sm=t.percent(share_sm),
                sm=t.money(sm, 2),
                source=sm_text,
            )
        )
    else:
        case.lines.append(
            t(
                "Poverty line {pl} = {share_sm} × subsistence minimum {sm} ({source})",
                pl=t.money(pl),
                share_sm=t.percent(share_sm),
                sm=t.money(sm, 2),
                source=sm_text,
            )
        )
    case.lines.extend(stale_inputs(case, src, share_med, median))
    poverty_line_sources(case, src, share_sm, share_med, sm, median)


def poverty_line_sources(
    case: Case, src: str, share_sm: float, share_med: float, sm: float, median: float
) -> None:
    """The legal notes and parameters behind the poverty line."""
    t, params, prev_q = case.t, case.params, case.previous_quarter
    case.note(t(LEGAL_NOTES["poverty_line.share_of_subsistence_minimum"], value=t.percent(share_sm)))
    case.note(t(LEGAL_NOTES["subsistence_minimum"]))
    case.use(
        "poverty_line.share_of_subsistence_minimum",
        t.percent(share_sm),
        params.poverty_line.share_of_subsistence_minimum,
    )
    if share_med > 0:
        case.note(t(LEGAL_NOTES["poverty_line.share_of_median_income"], value=t.percent(share_med)))
        case.use(
            "poverty_line.share_of_median_income",
            t.percent(share_med),
            params.poverty_line.share_of_median_income,
        )
        med_name = "regional" if case.regional_median() > 0 else "national"
        case.use(
            f"median_income.{med_name} ({prev_q})",
            t.money(median, 2),
            params.median_income.children[med_name],
        )
    sm_name = SM_PARAMETER[src]
    case.use(
        f"subsistence_minimum.{sm_name} ({prev_q})",
        t.money(sm, 2),
        params.subsistence_minimum.children[sm_name],
    )
    if src == "budget":
        case.use(
            "subsistence_minimum.budget_value_at_application",
            str(bool(case.at.subsistence_minimum.budget_value_at_application)).lower(),
            params.subsistence_minimum.budget_value_at_application,
        )


def income_test(case: Case) -> None:
    t = case.t
    pci = t.money(float(case.value("per_capita_income")), 2)
    pl = t.money(float(case.value("poverty_line")))
    if float(case.value("per_capita_income")) <= float(case.value("poverty_line")):
        case.lines.append(t("{pci} ≤ poverty line {pl} → the income test is met", pci=pci, pl=pl))
    else:
        case.lines.append(t("{pci} > poverty line {pl} → the income test is not met", pci=pci, pl=pl))


def refusal(case: Case, reason: str) -> None:
    """The ground for refusal, who and when behind it, and the rule's parameters."""
    t, at, params = case.t, case.at, case.params
    months, dwellings = int(at.sanctions.months), int(at.assets.max_dwellings)
    case.lines.append(
        t("Not entitled: {reason}", reason=label("refusal", reason, t.lang, months=months, n=dwellings))
    )
    case.lines.extend(f"  – {line}" for line in refusal_details(case, reason))
    if reason in ("refused_employment_measures", "social_contract_breach"):
        case.note(t(LEGAL_NOTES["sanctions.months"], value=months))
        case.use("sanctions.months", str(months), params.sanctions.months)
    if reason == "too_many_dwellings":
        case.note(t(LEGAL_NOTES["assets.max_dwellings"], value=dwellings))
        case.note(t(ASSET_BASIS))
        case.use("assets.max_dwellings", str(dwellings), params.assets.max_dwellings)
    if reason == "owns_vehicle":
        case.note(t(LEGAL_NOTES["assets.vehicle_disqualifies"]))
        case.note(t(ASSET_BASIS))
        case.use("assets.vehicle_disqualifies", "true", params.assets.vehicle_disqualifies)


def assistance_type(case: Case) -> None:
    t = case.t
    kind = case.value("asp_type")
    able = int(case.value("able_bodied_members"))
    exempt = int((case.array("is_able_bodied") & case.array("is_qualifying_carer")).sum())
    if kind == "conditional" and exempt:
        type_text = t(CONDITIONAL_WITH_CARER, n=able - exempt, carers=exempt)
    else:
        type_text = t(TYPE_TEXT[kind], n=able - exempt)
    case.lines.append(t("Entitled. {type}", type=type_text))


def asp_amount(case: Case) -> None:
    """The monthly amount: the gap times the members, or the 2019 rule with its per-child guarantee."""
    t = case.t
    amount = float(case.value("asp_monthly_amount"))
    guarantee_share = float(case.at.child_guarantee.share_of_subsistence_minimum)
    if guarantee_share > 0:
        case.lines.append(
            t(
                "ASP {amount} a month (2019 rule: each child guaranteed {share} of the subsistence minimum)",
                amount=t.money(amount, 2),
                share=t.percent(guarantee_share),
            )
        )
        case.note(
            t(LEGAL_NOTES["child_guarantee.share_of_subsistence_minimum"], value=t.percent(guarantee_share))
        )
        case.use(
            "child_guarantee.share_of_subsistence_minimum",
            t.percent(guarantee_share),
            case.params.child_guarantee.share_of_subsistence_minimum,
        )
        return
    case.lines.append(
        t(
            "ASP ({pl} − {pci}) × {n} = {amount} a month",
            pl=t.money(float(case.value("poverty_line"))),
            pci=t.money(float(case.value("per_capita_income")), 2),
            n=int(case.value("members")),
            amount=t.money(amount, 2),
        )
    )
    if amount == 0:
        case.lines.append(
            t(
                "Per-capita income is exactly at the poverty line: the family is entitled (income not above the "
                "line, Art. 120), but the difference is 0 ₸, so the ASP amount is 0 ₸; the status still brings "
                "the child supplement and, for conditional assistance, the social contract"
            )
        )


def child_supplement(case: Case) -> None:
    t, at = case.t, case.at
    supplement = float(case.value("child_supplement_monthly"))
    if supplement <= 0:
        return
    mrp_share = t.number(float(at.child_supplement.mrp_per_child), 1)
    mrp = t.money(float(at.general.mrp))
    case.lines.append(
        t(
            "Child supplement {n} × {mrp_share} MRP × {mrp} = {amount} a month (children aged {lo}–{hi})",
            n=int(case.value("children_aged_for_supplement")),
            mrp_share=mrp_share,
            mrp=mrp,
            amount=t.money(supplement, 2),
            lo=int(at.child_supplement.min_age),
            hi=int(at.child_supplement.max_age),
        )
    )
    case.note(t(LEGAL_NOTES["child_supplement.mrp_per_child"], value=mrp_share))
    case.note(t(LEGAL_NOTES["general.mrp"], value=mrp))
    case.use("child_supplement.mrp_per_child", mrp_share, case.params.child_supplement.mrp_per_child)
    case.use("general.mrp", mrp, case.params.general.mrp)


def assignment(case: Case) -> None:
    t = case.t
    case.lines.append(
        t(
            "Assigned from {start} to {end} ({n} month(s)), paid monthly: {total} in all",
            start=case.month,
            end=case.quarter.last_month,
            n=int(case.value("asp_assignment_months")),
            total=t.money(float(case.value("asp_quarter_total")), 2),
        )
    )
