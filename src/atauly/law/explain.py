"""Readable explanations of the law's result for one family, in ru, kk and en.

The explanation reads the values OpenFisca computed (no rule is recomputed here; income lines are the
inputs summed by source) plus the parameters and legal references used, so it always agrees with
``atauly law compute``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from openfisca_core.periods import period

from atauly.i18n import N_, Translator
from atauly.registry import Registry
from atauly.registry.codes import INCOME_SOURCES, region_name

from .compute import application_months
from .simulation import Quarter, build_simulation
from .system import tax_benefit_system
from .variables.asp import previous_quarter_instant, previous_quarter_months

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


@dataclass
class Explanation:
    family_id: str
    lang: str
    lines: list[str] = field(default_factory=list)
    parameters: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, reference)
    eligible: bool = False

    def text(self) -> str:
        t = Translator(self.lang)
        out = list(self.lines)
        out.append("")
        out.append(t("Parameters and legal references used:"))
        for name, value, ref in self.parameters:
            out.append(f"  • {name} = {value} — {ref}")
        return "\n".join(out)


def _ref(parameter) -> str:
    ref = parameter.metadata.get("reference") if hasattr(parameter, "metadata") else None
    if isinstance(ref, list):
        return "; ".join(r.get("title", str(r)) if isinstance(r, dict) else str(r) for r in ref)
    return str(ref or parameter.description or "")


def _quarter_label(instant) -> str:
    return f"{instant.year}Q{(instant.month - 1) // 3 + 1}"


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

    params = tbs.parameters
    at = tbs.parameters(month)
    prev_instant = previous_quarter_instant(period(month))
    prev_q = _quarter_label(prev_instant)
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
    L.append(t("Members: {n}", n=members))

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
        L.append(f"  – {label}: {t.money(total)} ({status})")
        if excluded:
            ex.parameters.append(
                (f"income.excluded.{source}", "true", _ref(params.income.excluded.children[source]))
            )
    L.append(t("Counted income: {amount}", amount=t.money(counted)))

    # Per-capita income and the poverty line.
    share_sm = float(at.poverty_line.share_of_subsistence_minimum)
    share_med = float(at.poverty_line.share_of_median_income)
    src = v("subsistence_minimum_source")
    L.append(
        t(
            "Per-capita income {pci} = {counted} ÷ {n} members ÷ 3 months",
            pci=t.money(pci, 2),
            counted=t.money(counted),
            n=members,
        )
    )
    sm_text = t(SM_SOURCE_TEXT[src], quarter=prev_q)
    if share_med > 0:
        L.append(
            t(
                "Poverty line {pl} = max({share_med} × median income {median}; {share_sm} × subsistence minimum {sm} ({source}))",
                pl=t.money(pl),
                share_med=t.percent(share_med),
                median=t.money(median),
                share_sm=t.percent(share_sm),
                sm=t.money(sm),
                source=sm_text,
            )
        )
    else:
        L.append(
            t(
                "Poverty line {pl} = {share_sm} × subsistence minimum {sm} ({source})",
                pl=t.money(pl),
                share_sm=t.percent(share_sm),
                sm=t.money(sm),
                source=sm_text,
            )
        )
    ex.parameters.append(
        (
            "poverty_line.share_of_subsistence_minimum",
            t.percent(share_sm),
            _ref(params.poverty_line.share_of_subsistence_minimum),
        )
    )
    if share_med > 0:
        ex.parameters.append(
            (
                "poverty_line.share_of_median_income",
                t.percent(share_med),
                _ref(params.poverty_line.share_of_median_income),
            )
        )
    sm_param = {
        "regional_bns": params.subsistence_minimum.bns_regional,
        "national_bns": params.subsistence_minimum.bns_national,
        "budget": params.subsistence_minimum.budget,
    }[src]
    ex.parameters.append(
        (
            f"subsistence_minimum.{src.replace('regional_bns', 'bns_regional').replace('national_bns', 'bns_national')} ({prev_q})",
            t.money(sm),
            _ref(sm_param),
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
        if reason in ("refused_employment_measures", "social_contract_breach"):
            ex.parameters.append(
                ("sanctions.months", str(int(at.sanctions.months)), _ref(params.sanctions.months))
            )
        if reason == "too_many_dwellings":
            ex.parameters.append(
                ("assets.max_dwellings", str(int(at.assets.max_dwellings)), _ref(params.assets.max_dwellings))
            )
        if reason == "owns_vehicle":
            ex.parameters.append(
                ("assets.vehicle_disqualifies", "true", _ref(params.assets.vehicle_disqualifies))
            )
        return ex

    # Entitled: type, amount, supplement, assignment.
    kind = v("asp_type")
    L.append(t("Entitled. {type}", type=t(TYPE_TEXT[kind], n=int(v("able_bodied_members")))))
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
