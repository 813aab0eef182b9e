"""Readable explanations of the law's result for one family, in ru, kk and en.

The explanation reads the values OpenFisca computed (no rule is recomputed here; income lines are the
inputs summed by source) plus the parameters and legal references used, so it always agrees with
``atauly law compute``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from openfisca_core.periods import period

from atauly.i18n import N_, Translator
from atauly.registry import Registry
from atauly.registry.codes import INCOME_SOURCES, REGIONS, region_name

from .calendar import previous_quarter_instant, previous_quarter_months, quarter_label
from .compute import application_months
from .simulation import Quarter, build_simulation
from .system import tax_benefit_system
from .variables.region import by_region

REFUSAL_TEXT = {
    "income_above_poverty_line": N_("Per-capita income above the poverty line (Social Code Art. 128 p.1)"),
    "refused_commission_survey": N_("The applicant refused the commission's survey (Art. 128 p.2)"),
    "commission_found_no_need": N_("The commission found no need (Art. 128 p.3)"),
    "refused_employment_measures": N_(
        "An able-bodied member refused employment measures less than {months} months ago (Art. 128 p.4)"
    ),
    "social_contract_breach": N_(
        "A social contract was terminated through the recipient's fault less than {months} months ago (Art. 128 p.5)"
    ),
    "false_information": N_("Knowingly false information or documents (Art. 128 p.6)"),
    "too_many_dwellings": N_("The family owns more than {n} dwelling(s) (asset rule)"),
    "owns_vehicle": N_("The family owns a motor vehicle and has no disabled child (asset rule)"),
}
#: What the asset rules rest on: no legal act was found, only an official's public statement.
ASSET_BASIS = N_(
    "No legal act setting this asset rule was found: it rests on an official statement (Astana city "
    "administration, January 2020) and is kept as a parameter a lawyer can change"
)
ROLE_TEXT = {
    "applicant": N_("applicant"),
    "spouse": N_("spouse"),
    "child": N_("child"),
    "other": N_("other relative"),
}
STATUS_TEXT = {
    "employee": N_("employee"),
    "self_employed": N_("self-employed"),
    "registered_unemployed": N_("registered unemployed"),
    "not_working": N_("not working"),
    "student_full_time": N_("full-time student"),
    "pensioner": N_("pensioner"),
    "caring_child_under_3": N_("caring for a child under 3"),
    "caring_disabled": N_("caring for a disabled person"),
    "caring_elderly": N_("caring for an elderly person"),
    "maternity_leave": N_("maternity leave"),
}
#: Plain-language notes on the parameters used, citing the legal act (the research trail is in "sources").
LEGAL_NOTES = {
    "poverty_line.share_of_subsistence_minimum": N_(
        "The poverty line is a share of the subsistence minimum: {value} (Social Code Art. 120; Order of the "
        "Minister of Labour No. 160 of 19 May 2023, amended by No. 473 of 20 Dec 2024; before July 2023, "
        "Law No. 246 of 17 Jul 2001 and the orders of the time)"
    ),
    "poverty_line.share_of_median_income": N_(
        "Since 1 January 2025 the line is at least {value} of the median income (Order No. 473 of 20 Dec 2024)"
    ),
    "subsistence_minimum": N_(
        "The subsistence minimum is the one computed by the Bureau of National Statistics for the quarter "
        "before the application; where it is not published, the value of the law on the republican budget "
        "(Order No. 160 p.1)"
    ),
    "income.excluded": N_(
        "Income not counted: {source} (rules for calculating total income, Order No. 181 of 26 May 2023)"
    ),
    "sanctions.months": N_("The ban lasts {value} months (Social Code Art. 128 p.4–5)"),
    "assets.max_dwellings": N_("Dwellings allowed: {value}"),
    "assets.vehicle_disqualifies": N_("A motor vehicle bars ASP unless the family has a disabled child"),
    "child_guarantee.share_of_subsistence_minimum": N_(
        "In 2019 every child was guaranteed {value} of the subsistence minimum (the 2019 reform)"
    ),
    "child_supplement.mrp_per_child": N_(
        "Supplement for each child aged 1–6: {value} MRP a month (monetised social package, from 2023)"
    ),
    "general.mrp": N_("The monthly calculation index (MRP) is {value} (law on the republican budget)"),
}
LEGAL_HEADING = N_("Legal basis:")
SOURCES_HEADING = N_("Sources, for checking (parameters and research notes):")
SOURCE_LABELS = {
    "wages": N_("wages"),
    "self_employment": N_("self-employment"),
    "informal": N_("informal earnings"),
    "pension": N_("pension"),
    "large_family_benefit": N_("large-family benefit"),
    "awarded_mother_benefit": N_("benefit to awarded mothers"),
    "disability_benefit": N_("disability benefit"),
    "child_disability_benefit": N_("child disability benefit"),
    "survivor_benefit": N_("survivor benefit"),
    "childcare_benefit": N_("childcare benefit"),
    "birth_benefit": N_("birth benefit"),
    "other_benefit": N_("other benefit"),
    "alimony": N_("alimony"),
    "scholarship": N_("scholarship"),
    "livestock_land": N_("livestock and land"),
    "loans": N_("non-mortgage loans"),
    "other": N_("other income"),
}
SM_SOURCE_TEXT = {
    "regional_bns": N_("regional BNS value for {quarter}"),
    "national_bns": N_("national BNS value for {quarter}: the regional value is not published"),
    "budget": N_("budget-law value: no BNS value is published for {quarter}"),
}
TYPE_TEXT = {
    "unconditional": N_(
        "Unconditional assistance: no able-bodied member, or the only one cares for a child, a disabled or an elderly person (Art. 122)"
    ),
    "conditional": N_(
        "Conditional assistance: {n} able-bodied member(s) take part in employment measures under a social contract (Art. 122)"
    ),
}
CONDITIONAL_WITH_CARER = N_(
    "Conditional assistance: {n} able-bodied member(s) take part in employment measures under a social "
    "contract; {carers} carer(s) exempt (Art. 122)"
)


REGION_BY_KEY = {r.key: r for r in REGIONS}


@dataclass
class Explanation:
    family_id: str
    lang: str
    lines: list[str] = field(default_factory=list)
    parameters: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, reference)
    #: plain-language notes in the reader's language, citing the legal acts
    legal: list[str] = field(default_factory=list)
    eligible: bool = False

    def text(self) -> str:
        """The explanation; then the legal basis in plain words; then, last, the sources (parameter names,
        values and the research notes they come from), which pages show collapsed."""
        t = Translator(self.lang)
        out = list(self.lines)
        if self.legal:
            out.append("")
            out.append(t(LEGAL_HEADING))
            out.extend(f"  • {note}" for note in dict.fromkeys(self.legal))
        out.append("")
        out.append(t(SOURCES_HEADING))
        for name, value, ref in self.parameters:
            out.append(f"  • {name} = {value} — {ref}")
        return "\n".join(out)


def _ref(parameter) -> str:
    ref = parameter.metadata.get("reference") if hasattr(parameter, "metadata") else None
    if isinstance(ref, list):
        return "; ".join(r.get("title", str(r)) if isinstance(r, dict) else str(r) for r in ref)
    return str(ref or parameter.description or "")


def explain(
    registry: Registry, family_id: str, quarter: Quarter | str, lang: str = "ru", tbs=None
) -> Explanation:
    """Explain the result of the law for one family of a (validated) registry."""
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    tbs = tbs or tax_benefit_system()
    one, month, sim = _one_family(registry, family_id, quarter, tbs)
    t = Translator(lang)

    def v(name):
        value = sim.calculate(name, month)
        return value.decode_to_str()[0] if hasattr(value, "decode_to_str") else value[0]

    def per_person(name):
        value = sim.calculate(name, month)
        return value.decode_to_str() if hasattr(value, "decode_to_str") else np.asarray(value)

    params = tbs.parameters
    at = tbs.parameters(month)
    prev_instant = previous_quarter_instant(period(month))
    prev_q = quarter_label(prev_instant)
    months = [str(m) for m in previous_quarter_months(period(month))]
    members = int(v("members"))
    counted = float(v("counted_income_quarter"))
    pci = float(v("per_capita_income"))
    pl = float(v("poverty_line"))
    sm = float(v("subsistence_minimum_reference"))
    median = float(v("median_income_reference"))
    reason = v("refusal_reason")
    eligible = bool(v("asp_eligible"))
    region = one.families["region_kato"].iloc[0]
    ref_date = _day(v("reference_date"))

    ex = Explanation(family_id, lang, eligible=eligible)
    L = ex.lines
    L.append(
        t(
            "Family {family}, {region}; quarter {quarter}, computed for {month}",
            family=family_id,
            region=region_name(region, lang),
            quarter=str(quarter),
            month=month,
        )
    )
    L.append(t("Members on {date}: {n}", date=t.date(ref_date), n=members))
    L.extend(f"  – {line}" for line in _member_lines(one, sim, month, at, t, ref_date))

    # Counted income by source.
    span = f"{months[0]}…{months[-1]}"
    L.append(
        t(
            "Income of all members in {months} (the quarter before the application quarter, Art. 127):",
            months=span,
        )
    )
    for source in INCOME_SOURCES:
        total = sum(float(sim.calculate(f"income_{source}", m).sum()) for m in months)
        if total <= 0:
            continue
        excluded = bool(at.income.excluded[source])
        label = t(SOURCE_LABELS[source])
        status = t("excluded") if excluded else t("counted")
        L.append(f"  – {label}: {t.money(total, 2)} ({status})")
        if excluded:
            ex.legal.append(t(LEGAL_NOTES["income.excluded"], source=label))
            ex.parameters.append(
                (f"income.excluded.{source}", "true", _ref(params.income.excluded.children[source]))
            )
    if not one.incomes["month"].isin(months).any():
        L.append(
            "  – "
            + t(
                "no income record for this family in {months}: its income counts as 0 ₸ (check that it was not missed)",
                months=span,
            )
        )
    L.append(t("Counted income: {amount}", amount=t.money(counted, 2)))

    # Per-capita income and the poverty line.
    share_sm = float(at.poverty_line.share_of_subsistence_minimum)
    share_med = float(at.poverty_line.share_of_median_income)
    src = v("subsistence_minimum_source")
    L.append(
        t(
            "Per-capita income {pci} = {counted} ÷ {n} members ÷ 3 months",
            pci=t.money(pci, 2),
            counted=t.money(counted, 2),
            n=members,
        )
        + (t(" (rounded half up to the tiyn)") if round(pci * 3 * members, 2) != round(counted, 2) else "")
    )
    sm_text = t(SM_SOURCE_TEXT[src], quarter=prev_q)
    if share_med > 0:
        L.append(
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
        L.append(
            t(
                "Poverty line {pl} = {share_sm} × subsistence minimum {sm} ({source})",
                pl=t.money(pl),
                share_sm=t.percent(share_sm),
                sm=t.money(sm, 2),
                source=sm_text,
            )
        )
    L.extend(_stale_inputs(one, sim, month, src, share_med, median, tbs, t, prev_q))
    ex.legal.append(t(LEGAL_NOTES["poverty_line.share_of_subsistence_minimum"], value=t.percent(share_sm)))
    ex.legal.append(t(LEGAL_NOTES["subsistence_minimum"]))
    ex.parameters.append(
        (
            "poverty_line.share_of_subsistence_minimum",
            t.percent(share_sm),
            _ref(params.poverty_line.share_of_subsistence_minimum),
        )
    )
    if share_med > 0:
        ex.legal.append(t(LEGAL_NOTES["poverty_line.share_of_median_income"], value=t.percent(share_med)))
        ex.parameters.append(
            (
                "poverty_line.share_of_median_income",
                t.percent(share_med),
                _ref(params.poverty_line.share_of_median_income),
            )
        )
        med_name = (
            "median_income.regional" if _regional_median(sim, month, tbs) > 0 else "median_income.national"
        )
        ex.parameters.append(
            (
                f"{med_name} ({prev_q})",
                t.money(median, 2),
                _ref(params.median_income.children[med_name.split(".")[1]]),
            )
        )
    sm_param = {
        "regional_bns": params.subsistence_minimum.bns_regional,
        "national_bns": params.subsistence_minimum.bns_national,
        "budget": params.subsistence_minimum.budget,
    }[src]
    sm_name = {"regional_bns": "bns_regional", "national_bns": "bns_national", "budget": "budget"}[src]
    ex.parameters.append((f"subsistence_minimum.{sm_name} ({prev_q})", t.money(sm, 2), _ref(sm_param)))
    if src == "budget":
        ex.parameters.append(
            (
                "subsistence_minimum.budget_value_at_application",
                str(bool(at.subsistence_minimum.budget_value_at_application)).lower(),
                _ref(params.subsistence_minimum.budget_value_at_application),
            )
        )

    if pci <= pl:
        L.append(t("{pci} ≤ poverty line {pl} → the income test is met", pci=t.money(pci, 2), pl=t.money(pl)))
    else:
        L.append(
            t("{pci} > poverty line {pl} → the income test is not met", pci=t.money(pci, 2), pl=t.money(pl))
        )

    if reason and reason != "none":
        fields = {"months": int(at.sanctions.months), "n": int(at.assets.max_dwellings)}
        L.append(t("Not entitled: {reason}", reason=t(REFUSAL_TEXT[reason], **fields)))
        L.extend(f"  – {line}" for line in _refusal_details(reason, one, sim, month, at, t))
        if reason in ("refused_employment_measures", "social_contract_breach"):
            ex.legal.append(t(LEGAL_NOTES["sanctions.months"], value=int(at.sanctions.months)))
            ex.parameters.append(
                ("sanctions.months", str(int(at.sanctions.months)), _ref(params.sanctions.months))
            )
        if reason == "too_many_dwellings":
            ex.legal.append(t(LEGAL_NOTES["assets.max_dwellings"], value=int(at.assets.max_dwellings)))
            ex.legal.append(t(ASSET_BASIS))
            ex.parameters.append(
                ("assets.max_dwellings", str(int(at.assets.max_dwellings)), _ref(params.assets.max_dwellings))
            )
        if reason == "owns_vehicle":
            ex.legal.append(t(LEGAL_NOTES["assets.vehicle_disqualifies"]))
            ex.legal.append(t(ASSET_BASIS))
            ex.parameters.append(
                ("assets.vehicle_disqualifies", "true", _ref(params.assets.vehicle_disqualifies))
            )
        return ex

    # Entitled: type, amount, supplement, assignment.
    kind = v("asp_type")
    able = int(v("able_bodied_members"))
    exempt = int((per_person("is_able_bodied") & per_person("is_qualifying_carer")).sum())
    if kind == "conditional" and exempt:
        type_text = t(CONDITIONAL_WITH_CARER, n=able - exempt, carers=exempt)
    else:
        type_text = t(TYPE_TEXT[kind], n=able - exempt)
    L.append(t("Entitled. {type}", type=type_text))
    amount = float(v("asp_monthly_amount"))
    guarantee_share = float(at.child_guarantee.share_of_subsistence_minimum)
    if guarantee_share > 0:
        L.append(
            t(
                "ASP {amount} a month (2019 rule: each child guaranteed {share} of the subsistence minimum)",
                amount=t.money(amount, 2),
                share=t.percent(guarantee_share),
            )
        )
        ex.legal.append(
            t(LEGAL_NOTES["child_guarantee.share_of_subsistence_minimum"], value=t.percent(guarantee_share))
        )
        ex.parameters.append(
            (
                "child_guarantee.share_of_subsistence_minimum",
                t.percent(guarantee_share),
                _ref(params.child_guarantee.share_of_subsistence_minimum),
            )
        )
    else:
        L.append(
            t(
                "ASP ({pl} − {pci}) × {n} = {amount} a month",
                pl=t.money(pl),
                pci=t.money(pci, 2),
                n=members,
                amount=t.money(amount, 2),
            )
        )
        if amount == 0:
            L.append(
                t(
                    "Per-capita income is exactly at the poverty line: the family is entitled (income not above the "
                    "line, Art. 120), but the difference is 0 ₸, so the ASP amount is 0 ₸; the status still brings "
                    "the child supplement and, for conditional assistance, the social contract"
                )
            )
    supplement = float(v("child_supplement_monthly"))
    if supplement > 0:
        n_children = int(v("children_aged_for_supplement"))
        L.append(
            t(
                "Child supplement {n} × {mrp_share} MRP × {mrp} = {amount} a month (children aged {lo}–{hi})",
                n=n_children,
                mrp_share=t.number(float(at.child_supplement.mrp_per_child), 1),
                mrp=t.money(float(at.general.mrp)),
                amount=t.money(supplement, 2),
                lo=int(at.child_supplement.min_age),
                hi=int(at.child_supplement.max_age),
            )
        )
        ex.legal.append(
            t(
                LEGAL_NOTES["child_supplement.mrp_per_child"],
                value=t.number(float(at.child_supplement.mrp_per_child), 1),
            )
        )
        ex.legal.append(t(LEGAL_NOTES["general.mrp"], value=t.money(float(at.general.mrp))))
        ex.parameters.append(
            (
                "child_supplement.mrp_per_child",
                t.number(float(at.child_supplement.mrp_per_child), 1),
                _ref(params.child_supplement.mrp_per_child),
            )
        )
        ex.parameters.append(("general.mrp", t.money(float(at.general.mrp)), _ref(params.general.mrp)))
    n_months = int(v("asp_assignment_months"))
    L.append(
        t(
            "Assigned from {start} to {end} ({n} month(s)), paid monthly: {total} in all",
            start=month,
            end=quarter.months[-1],
            n=n_months,
            total=t.money(float(v("asp_quarter_total")), 2),
        )
    )
    return ex


def _day(value) -> str:
    return str(np.datetime64(value, "D"))


def _member_lines(one: Registry, sim, month: str, at, t: Translator, ref_date: str) -> list[str]:
    """One line per person: role, age, status, and what the law makes of them on the reference date."""
    per = one.persons

    def arr(name):
        value = sim.calculate(name, month)
        return value.decode_to_str() if hasattr(value, "decode_to_str") else np.asarray(value)

    born, age, able = arr("is_born"), arr("age"), arr("is_able_bodied")
    carer, cared = arr("is_qualifying_carer"), arr("is_disabled_for_care")
    retired = arr("is_of_retirement_age")
    lo, hi = int(at.child_supplement.min_age), int(at.child_supplement.max_age)
    lines = []
    for k, p in enumerate(per.itertuples(index=False)):
        role = t(ROLE_TEXT.get(p.role, "other"))
        if not born[k]:
            lines.append(
                t(
                    "{role}, born {born}: not yet born on {date}, not a member",
                    role=role,
                    born=t.date(_day(p.birth_date)),
                    date=t.date(ref_date),
                )
            )
            continue
        facts = [t("{n} years", n=int(age[k]))]
        minor = int(age[k]) < int(at.work_ability.min_age)
        if not minor or p.employment_status not in ("not_working", None):
            facts.append(t(STATUS_TEXT.get(p.employment_status, "not working")))
        if int(p.disability_group):
            facts.append(t("disability group {g}", g=int(p.disability_group)))
        if minor:
            pass  # a child: neither able-bodied nor not, for the law's purposes
        elif able[k] and carer[k]:
            facts.append(t("able-bodied, exempt as a carer"))
        elif able[k]:
            facts.append(t("able-bodied"))
        elif retired[k]:
            facts.append(t("of retirement age"))
        else:
            facts.append(t("not able-bodied"))
        if cared[k]:
            facts.append(t("needs care"))
        if lo <= int(age[k]) <= hi:
            facts.append(t("earns the child supplement (aged {lo}–{hi})", lo=lo, hi=hi))
        lines.append(f"{role}: " + ", ".join(facts))
    return lines


def _refusal_details(reason: str, one: Registry, sim, month: str, at, t: Translator) -> list[str]:
    """Who and when: the person and the dates behind a refusal, the counts behind an asset rule."""
    months = int(at.sanctions.months)

    def until(start) -> tuple[str, str]:
        begin = pd.Timestamp(np.datetime64(start, "D"))
        end = begin + pd.DateOffset(months=months) - pd.Timedelta(days=1)
        return t.date(begin.date().isoformat()), t.date(end.date().isoformat())

    fam = one.families.iloc[0]
    if reason == "refused_employment_measures":
        sanctioned = np.asarray(sim.calculate("is_sanctioned_for_refusing_employment", month))
        age = np.asarray(sim.calculate("age", month))
        dates = np.asarray(sim.calculate("employment_measures_refusal_date", month))
        out = []
        for k in np.flatnonzero(sanctioned):
            start, end = until(dates[k])
            out.append(
                t(
                    "The {role} ({n} years) refused employment measures on {start}: no ASP from {start} to {end}; "
                    "a new application can be made from the day after",
                    role=t(ROLE_TEXT.get(one.persons["role"].iloc[k], "other")),
                    n=int(age[k]),
                    start=start,
                    end=end,
                )
            )
        return out
    if reason == "social_contract_breach":
        start, end = until(sim.calculate("social_contract_breach_date", month)[0])
        return [
            t(
                "The social contract was terminated through the recipient's fault on {start}: no ASP from {start} "
                "to {end}",
                start=start,
                end=end,
            )
        ]
    if reason == "too_many_dwellings":
        return [
            t(
                "Dwellings owned: {k}; allowed: {n}",
                k=int(fam["dwellings_owned"]),
                n=int(at.assets.max_dwellings),
            )
        ]
    if reason == "owns_vehicle":
        return [t("Motor vehicles owned: {k}", k=int(fam["vehicles_owned"]))]
    return []


def _regional_median(sim, month: str, tbs) -> float:
    med = tbs.parameters(previous_quarter_instant(period(month))).median_income
    region = sim.calculate("parameter_region", month)
    return float(by_region(med.regional, region)[0])


def _in_force_since(parameter, instant) -> str:
    """The date from which the value of ``parameter`` in force at ``instant`` applies."""
    for value in parameter.values_list:  # newest first
        if value.instant_str <= str(instant):
            return value.instant_str
    return ""


def _stale_inputs(one, sim, month, src, share_med, median, tbs, t: Translator, prev_q: str) -> list[str]:
    """Flags for values that stand in for the ones the rule names: a national or older value, a fallback."""
    out = []
    params = tbs.parameters
    region = one.families["region_kato"].iloc[0]
    used = sim.calculate("parameter_region", month).decode_to_str()[0]
    own = sim.calculate("region", month).decode_to_str()[0]
    if used != own:
        out.append(
            "  – "
            + t(
                "note: {region} was created on 8 June 2022; before that the values of {parent} apply",
                region=region_name(region, t.lang),
                parent=region_name(REGION_BY_KEY[used].kato, t.lang),
            )
        )
    if src == "national_bns":
        out.append(
            "  – "
            + t(
                "note: the national subsistence minimum stands in for the regional one, not published for {quarter}",
                quarter=prev_q,
            )
        )
    elif src == "budget":
        at_application = bool(tbs.parameters(month).subsistence_minimum.budget_value_at_application)
        instant = period(month).start if at_application else previous_quarter_instant(period(month))
        out.append(
            "  – "
            + t(
                "fallback: no BNS subsistence minimum is published for {quarter}; the budget-law value in force "
                "since {since} is used",
                quarter=prev_q,
                since=t.date(_in_force_since(params.subsistence_minimum.budget, instant)),
            )
        )
    if share_med > 0 and _regional_median(sim, month, tbs) <= 0:
        instant = previous_quarter_instant(period(month))
        out.append(
            "  – "
            + t(
                "note: the national median income {median} (value of {since}) stands in for the regional "
                "median for {quarter}, which is not published",
                median=t.money(median, 2),
                since=t.date(_in_force_since(params.median_income.national, instant)),
                quarter=prev_q,
            )
        )
    return out


def _one_family(registry: Registry, family_id: str, quarter: Quarter, tbs):
    """The family's slice of the registry, the month it is computed for, and its simulation."""
    if family_id not in set(registry.families["family_id"]):
        raise KeyError(f"family {family_id!r} is not in the registry")
    one = registry.subset([family_id])
    month = application_months(one.families, quarter).iloc[0]
    return one, month, build_simulation(one, month, tbs)


def openfisca_trace(registry: Registry, family_id: str, quarter: Quarter | str, tbs=None) -> list[str]:
    """OpenFisca's own computation log for one family (every variable and its value)."""
    quarter = Quarter.parse(quarter) if isinstance(quarter, str) else quarter
    _, month, sim = _one_family(registry, family_id, quarter, tbs or tax_benefit_system())
    sim.trace = True
    for name in ("asp_quarter_total", "asp_type"):
        sim.calculate(name, month)
    return sim.tracer.computation_log.lines(aggregate=False, max_depth=sys.maxsize)
