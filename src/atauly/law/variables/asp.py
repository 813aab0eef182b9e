"""The ASP law: counted income, per-capita income, poverty line, eligibility, type and amounts.

Convention on periods: every formula runs for the **month of application** (for a proactive scan of
families that have not applied, the first month of the quarter). Income is counted for the calendar
quarter before the quarter of that month (Social Code Art. 127 p.2); the poverty line uses the
subsistence minimum and median income of that preceding quarter (Order MLSP No. 160 as amended by
No. 473).
"""

from datetime import date

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from atauly.registry.codes import INCOME_SOURCES

from ..calendar import (
    month_index,
    months_between,
    months_left_in_quarter,
    previous_quarter_instant,
    previous_quarter_months,
)
from ..entities import Family, Person
from ..money import Money, divide_half_up, share_tiyn, to_kzt, to_tiyn
from .inputs import EmploymentStatus, Region, Sex


def by_region(node, region):
    """``node[region]`` for a vector of regions: one parameter value per region, picked by enum index.

    Same result as OpenFisca's vectorial node indexing, without its per-element Python loop.
    """
    values = np.array([node[name] for name in region.possible_values.names], dtype=np.float64)
    return values[np.asarray(region)]


# --- dates and ages -----------------------------------------------------------------------------------


class reference_date(Variable):
    value_type = date
    entity = Family
    definition_period = MONTH
    label = "Date at which ages and sanctions are assessed: the application date in this month, else the 1st"
    reference = "Assigned from the month of application regardless of the day (mgorod.kz 2019-05-03)"

    def formula(family, period, parameters):
        applied = family("application_date", period)
        first = np.datetime64(period.start.date.isoformat(), "D")
        in_month = month_index(applied) == month_index(np.array([first]))[0]
        return np.where(in_month, applied, first)


class is_born(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Born by the family's reference date (a child born later is not yet a member)"
    reference = "Social Code Art. 127 p.2 (members of the family at the time of application)"

    def formula(person, period, parameters):
        return person("age_in_months", period) >= 0


class is_of_retirement_age(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Has reached retirement age"
    reference = "Fact sheet §2.3 (limited ability to work because of retirement age); parameters work_ability.retirement_age"

    def formula(person, period, parameters):
        p = parameters(period).work_ability.retirement_age
        is_male = person("sex", period) == Sex.male
        return person("age_in_months", period) >= np.where(is_male, p.men, p.women) * 12


class is_disabled_for_care(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Needs care because of disability: group I or II, or a child with any disability group"
    reference = "Fact sheet §2.3 (carer of a disabled child or of a disabled person of group I/II)"

    def formula(person, period, parameters):
        majority = parameters(period).work_ability.min_age
        group = person("disability_group", period)
        born = person("is_born", period)
        child = born & (person("age", period) < majority)
        # A person not yet born on the reference date is no one's cared-for person, whatever the record says.
        return born & (np.isin(group, [1, 2]) | (child & (group > 0)))


class age(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Age in full years at the family's reference date"
    reference = "Data contract, persons.birth_date"

    def formula(person, period, parameters):
        return person("age_in_months", period) // 12


class age_in_months(Variable):
    value_type = int
    entity = Person
    definition_period = MONTH
    label = "Age in full months at the family's reference date"
    reference = "Data contract, persons.birth_date"

    def formula(person, period, parameters):
        born = person("birth_date", period)
        ref = person.family("reference_date", period)
        return months_between(born, ref)


# --- region ----------------------------------------------------------------------------------------------

#: Oblasts created by decree of 4 May 2022, in force 8 Jun 2022 (fact sheet §5), and the oblast their
#: territory belonged to before (Abai from East Kazakhstan, Zhetisu from Almaty region, Ulytau from
#: Karaganda).
REGIONS_CREATED = {"abai": "east_kazakhstan", "zhetisu": "almaty_region", "ulytau": "karaganda"}
REGIONS_CREATED_ON = date(2022, 6, 8)


class parameter_region(Variable):
    value_type = Enum
    possible_values = Region
    default_value = Region.astana
    entity = Family
    definition_period = MONTH
    label = (
        "Region whose poverty-line values apply: the region of residence, or, before 8 Jun 2022, the oblast "
        "that a region created then (Abai, Zhetisu, Ulytau) was part of"
    )
    reference = "Decree of 4 May 2022 (in force 8 Jun 2022), fact sheet §5; Social Code Art. 120 p.4"

    def formula(family, period, parameters):
        region = np.asarray(family("region", period))
        before = family("reference_date", period) < np.datetime64(REGIONS_CREATED_ON.isoformat(), "D")
        names = list(Region.names)
        parent = np.arange(len(names))
        for new, old in REGIONS_CREATED.items():
            parent[names.index(new)] = names.index(old)
        return np.where(before, parent[region], region)


# --- persons: ability to work, carers, sanctions -------------------------------------------------------


class is_able_bodied(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = (
        "Able-bodied: of working age, not disabled (group I/II), not a full-time student, not long-term ill"
    )
    reference = "Social Code Art. 122; fact sheet §2.3 (egov.kz social_help; kontrast.enbek.gov.kz 357878)"

    def formula(person, period, parameters):
        p = parameters(period).work_ability
        months = person("age_in_months", period)
        group = person("disability_group", period)
        status = person("employment_status", period)
        return (
            (months >= p.min_age * 12)
            & ~person("is_of_retirement_age", period)
            & ~np.isin(group, [1, 2])
            & (status != EmploymentStatus.student_full_time)
            & ~person("long_term_illness", period)
        )


class is_qualifying_carer(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Cares for a young child, a disabled person (group I/II or a disabled child) or an elderly person"
    reference = "Social Code Art. 122 p.4; fact sheet §2.3 (egov.kz social_help)"

    def formula(person, period, parameters):
        limit = parameters(period).work_ability.carer_child_age_limit
        status = person("employment_status", period)
        # The person cared for must be in the family: a young child, a disabled member, an elderly member.
        has_young_child = person.family.any(person("is_born", period) & (person("age", period) < limit))
        has_disabled = person.family.any(person("is_disabled_for_care", period))
        has_elderly = person.family.any(person("is_of_retirement_age", period))
        caring_child = np.isin(
            status, [EmploymentStatus.caring_child_under_3.index, EmploymentStatus.maternity_leave.index]
        )
        return (
            (caring_child & has_young_child)
            | ((status == EmploymentStatus.caring_disabled) & has_disabled)
            | ((status == EmploymentStatus.caring_elderly) & has_elderly)
        )


class is_sanctioned_for_refusing_employment(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "An able-bodied member refused employment measures within the sanction period"
    reference = "Social Code Art. 128 p.4 (no ASP for 6 months from the refusal)"

    def formula(person, period, parameters):
        months = parameters(period).sanctions.months
        refused = person("employment_measures_refusal_date", period)
        ref = person.family("reference_date", period)
        elapsed = months_between(refused, ref)
        exempt = person("is_qualifying_carer", period)
        return person("is_able_bodied", period) & ~exempt & (refused <= ref) & (elapsed < months)


# --- income -------------------------------------------------------------------------------------------


class counted_income_quarter(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = "Counted income of all members in the quarter before the application quarter (KZT)"
    reference = "Social Code Art. 127 p.2; Order MLSP 26 May 2023 No. 181 (excluded sources: parameters income.excluded)"

    def formula(family, period, parameters):
        excluded = parameters(period).income.excluded
        total = np.zeros(family.count, dtype=np.float64)
        persons = family.members
        for source in INCOME_SOURCES:
            if excluded[source]:
                continue
            holder = persons.get_holder(f"income_{source}")
            for month in previous_quarter_months(period):
                # An income no one has in a month adds 0: skip it rather than sum an array of zeros.
                if holder.get_array(month) is not None:
                    total += family.sum(persons(f"income_{source}", month))
        # float64 sums of tiyn amounts are within far less than half a tiyn of the exact sum: to the tiyn.
        return to_kzt(to_tiyn(total))


class members(Variable):
    value_type = int
    entity = Family
    definition_period = MONTH
    label = "Number of family members (born by the reference date)"
    reference = "Social Code Art. 127 p.2"

    def formula(family, period, parameters):
        return family.sum(family.members("is_born", period))


class per_capita_income(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = "Average monthly per-capita income: counted income ÷ members ÷ 3, rounded half up to the tiyn"
    reference = "Social Code Art. 127 p.2; rounding: docs/law.md (one rule, half up to the tiyn)"

    def formula(family, period, parameters):
        n = np.maximum(family("members", period), 1).astype(np.int64)
        return to_kzt(divide_half_up(to_tiyn(family("counted_income_quarter", period)), 3 * n))


# --- poverty line ----------------------------------------------------------------------------------------


class SubsistenceMinimumSource(Enum):
    regional_bns = "Regional quarterly BNS value"
    national_bns = "National quarterly BNS value (regional value not published)"
    budget = "Budget-law value (no quarterly BNS value published)"


class subsistence_minimum_source(Variable):
    value_type = Enum
    possible_values = SubsistenceMinimumSource
    default_value = SubsistenceMinimumSource.budget
    entity = Family
    definition_period = MONTH
    label = "Which subsistence minimum the poverty line uses (documented fallback)"
    reference = "Fact sheet §1.2–1.4; docs/law.md (fallback rule)"

    def formula(family, period, parameters):
        sm = parameters(previous_quarter_instant(period)).subsistence_minimum
        regional = by_region(sm.bns_regional, family("parameter_region", period))
        return np.select(
            [regional > 0, np.full(family.count, sm.bns_national > 0)],
            [SubsistenceMinimumSource.regional_bns.index, SubsistenceMinimumSource.national_bns.index],
            SubsistenceMinimumSource.budget.index,
        )


class subsistence_minimum_reference(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = "Subsistence minimum of the family's region for the quarter preceding the application quarter"
    reference = (
        "Order MLSP 19 May 2023 No. 160 p.1; fact sheet §1.2 (the PL is regional and quarterly in practice)"
    )

    def formula(family, period, parameters):
        sm = parameters(previous_quarter_instant(period)).subsistence_minimum
        regional = by_region(sm.bns_regional, family("parameter_region", period))
        source = family("subsistence_minimum_source", period)
        # Indices follow SubsistenceMinimumSource: regional_bns, national_bns, budget.
        return np.choose(
            np.asarray(source),
            [
                regional,
                np.full(family.count, sm.bns_national),
                np.full(family.count, budget_value(period, parameters)),
            ],
        )


def budget_value(period, parameters):
    """The budget-law subsistence minimum the fallback uses: by default the value in force in the month of
    application (published practice: 14,849 ₸ = 50% × 29,698 in early 2019; "from 1 January 2023 …
    28,397" = 70% × 40,567), else, with ``subsistence_minimum.budget_value_at_application`` false, the
    value of the preceding quarter (the previous year's value for a Q1 application)."""
    at_application = parameters(period).subsistence_minimum.budget_value_at_application
    instant = period.start if at_application else previous_quarter_instant(period)
    return parameters(instant).subsistence_minimum.budget


class median_income_reference(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = (
        "Median per-capita income of the family's region for the quarter preceding the application quarter"
    )
    reference = "Order MLSP 20 Dec 2024 No. 473; regional values not published (national fallback)"

    def formula(family, period, parameters):
        med = parameters(previous_quarter_instant(period)).median_income
        regional = by_region(med.regional, family("parameter_region", period))
        return np.where(regional > 0, regional, med.national)


class poverty_line(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = (
        "Poverty line: max(share × median income, share × subsistence minimum), half up to the whole tenge"
    )
    reference = (
        "Social Code Art. 120 p.3–4; Order MLSP No. 160 (70% of SM from 1 Jul 2023) as amended by No. 473 "
        "(from 1 Jan 2025: 35% of median, not less than 70% of SM); earlier shares 40% and 50% (fact sheet §1.2)"
    )

    def formula(family, period, parameters):
        p = parameters(period).poverty_line
        sm = to_tiyn(family("subsistence_minimum_reference", period))
        median = to_tiyn(family("median_income_reference", period))
        # Exact products rounded half up to the tenge (0.7 × 29,695 = 20,786.5 → 20,787).
        by_sm = share_tiyn(p.share_of_subsistence_minimum, sm, unit=100)
        by_median = share_tiyn(p.share_of_median_income, median, unit=100)
        return to_kzt(np.maximum(by_sm, by_median))


# --- eligibility ---------------------------------------------------------------------------------------


class RefusalReason(Enum):
    none = "Entitled"
    income_above_poverty_line = "Per-capita income above the poverty line (Art. 128 p.1)"
    refused_commission_survey = "Refused the commission's survey (Art. 128 p.2)"
    commission_found_no_need = "The commission found no need (Art. 128 p.3)"
    refused_employment_measures = "An able-bodied member refused employment measures (Art. 128 p.4)"
    social_contract_breach = "Social contract terminated through the recipient's fault (Art. 128 p.5)"
    false_information = "False information or documents (Art. 128 p.6)"
    too_many_dwellings = "Owns more dwellings than allowed (asset rule)"
    owns_vehicle = "Owns a motor vehicle (asset rule)"


class refusal_reason(Variable):
    value_type = Enum
    possible_values = RefusalReason
    default_value = RefusalReason.none
    entity = Family
    definition_period = MONTH
    label = "First ground for refusing ASP, in the order of Art. 128, then asset rules; 'none' when entitled"
    reference = "Social Code Art. 128; fact sheet §2.5–2.6"

    def formula(family, period, parameters):
        p = parameters(period)
        ref = family("reference_date", period)
        breach = family("social_contract_breach_date", period)
        breach_recent = (breach <= ref) & (months_between(breach, ref) < p.sanctions.months)
        vehicle_rule = p.assets.vehicle_disqualifies & ~family("has_disabled_child", period)
        conditions = [
            # In integer tiyn: one tiyn above the line is above it (float32 could not tell).
            to_tiyn(family("per_capita_income", period)) > to_tiyn(family("poverty_line", period)),
            family("refused_commission_survey", period),
            family("commission_found_no_need", period),
            family.any(family.members("is_sanctioned_for_refusing_employment", period)),
            breach_recent,
            family("false_information", period),
            family("dwellings_owned", period) > p.assets.max_dwellings,
            vehicle_rule & (family("vehicles_owned", period) > 0),
        ]
        reasons = [
            RefusalReason.income_above_poverty_line,
            RefusalReason.refused_commission_survey,
            RefusalReason.commission_found_no_need,
            RefusalReason.refused_employment_measures,
            RefusalReason.social_contract_breach,
            RefusalReason.false_information,
            RefusalReason.too_many_dwellings,
            RefusalReason.owns_vehicle,
        ]
        return np.select(conditions, [r.index for r in reasons], RefusalReason.none.index)


class has_disabled_child(Variable):
    value_type = bool
    entity = Family
    definition_period = MONTH
    label = "The family has a child (under 18) with a disability"
    reference = "Fact sheet §2.5 (vehicle rule does not apply to families with disabled children)"

    def formula(family, period, parameters):
        majority = parameters(period).work_ability.min_age
        person = family.members
        born = person("is_born", period)
        return family.any(
            born & (person("age", period) < majority) & (person("disability_group", period) > 0)
        )


class asp_eligible(Variable):
    value_type = bool
    entity = Family
    definition_period = MONTH
    label = "Entitled to targeted social assistance"
    reference = "Social Code Art. 120 p.4, Art. 128"

    def formula(family, period, parameters):
        return family("refusal_reason", period) == RefusalReason.none


# --- type ----------------------------------------------------------------------------------------------


class AspType(Enum):
    none = "Not entitled"
    unconditional = "Unconditional assistance"
    conditional = "Conditional assistance (social contract)"


class able_bodied_members(Variable):
    value_type = int
    entity = Family
    definition_period = MONTH
    label = "Number of able-bodied members"
    reference = "Social Code Art. 122"

    def formula(family, period, parameters):
        return family.sum(family.members("is_able_bodied", period))


class asp_type(Variable):
    value_type = Enum
    possible_values = AspType
    default_value = AspType.none
    entity = Family
    definition_period = MONTH
    label = "Type of assistance: unconditional, or conditional with a social contract"
    reference = (
        "Social Code Art. 122 (conditional assistance, social contract); unconditional cases: no able-bodied "
        "member, or the only one cares for a child/disabled/elderly person (egov.kz social_help)"
    )

    def formula(family, period, parameters):
        able = family("able_bodied_members", period)
        carers = family.sum(
            family.members("is_able_bodied", period) & family.members("is_qualifying_carer", period)
        )
        unconditional = (able == 0) | ((able == 1) & (carers == 1))
        kind = np.where(unconditional, AspType.unconditional.index, AspType.conditional.index)
        return np.where(family("asp_eligible", period), kind, AspType.none.index)


# --- amounts -------------------------------------------------------------------------------------------


class is_guaranteed_child(Variable):
    value_type = bool
    entity = Person
    definition_period = MONTH
    label = "Child counted for the 2019 per-child guarantee (under 18, or under 23 in full-time study)"
    reference = "Fact sheet §2.7 (mgorod.kz 2019-03-05; enbek.gov.kz 362357)"

    def formula(person, period, parameters):
        p = parameters(period).child_guarantee
        years = person("age", period)
        student = person("employment_status", period) == EmploymentStatus.student_full_time
        # A child of the family: neither the applicant nor the spouse.
        dependant = ~person.has_role(Family.APPLICANT) & ~person.has_role(Family.SPOUSE)
        young = (years < p.max_age) | (student & (years < p.student_max_age))
        return dependant & person("is_born", period) & young


class asp_gap_per_member(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = "Poverty line minus per-capita income, not below zero"
    reference = "Fact sheet §2.1 (social-balkhash id=838; mgorod.kz 2025-08-18)"

    def formula(family, period, parameters):
        gap = to_tiyn(family("poverty_line", period)) - to_tiyn(family("per_capita_income", period))
        return to_kzt(np.maximum(gap, 0))


class asp_monthly_amount(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = (
        "Monthly ASP: (poverty line − per-capita income) × members (in 2019, children guaranteed 70% of SM)"
    )
    reference = (
        "Fact sheet §2.1 — social-balkhash id=838; kontrast.enbek.gov.kz 357934; mgorod.kz 2025-08-18; "
        "2019 child guarantee: enbek.gov.kz/en/node/362357"
    )

    def formula(family, period, parameters):
        share = parameters(period).child_guarantee.share_of_subsistence_minimum
        gap = to_tiyn(family("asp_gap_per_member", period))
        # 70% of SM, half up to the tenge, like the line (20,789 ₸ in 2019).
        guarantee = share_tiyn(share, to_tiyn(family("subsistence_minimum_reference", period)), unit=100)
        n = family("members", period).astype(np.int64)
        n_children = (
            family.sum(family.members("is_guaranteed_child", period)).astype(np.int64) if share > 0 else 0
        )
        amount = gap * (n - n_children) + np.maximum(gap, guarantee) * n_children
        return to_kzt(np.where(family("asp_eligible", period), amount, 0))


class child_supplement_monthly(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = "Monthly supplement for children aged 1–6 of an entitled family: 1.5 MRP per child"
    reference = "Fact sheet §2.7 (monetised GSP from 2023: aqparat.info 2022-12-29; nur.kz 2258904)"

    def formula(family, period, parameters):
        p = parameters(period)
        # Per child, half up to the tiyn (1.5 × 4,325 = 6,487.50 ₸), then × children, in integer tiyn.
        per_child = share_tiyn(p.child_supplement.mrp_per_child, to_tiyn(p.general.mrp))
        amount = family("children_aged_for_supplement", period).astype(np.int64) * per_child
        return to_kzt(np.where(family("asp_eligible", period), amount, 0))


class children_aged_for_supplement(Variable):
    value_type = int
    entity = Family
    definition_period = MONTH
    label = "Members aged 1 to 6 inclusive (the child supplement's age range)"
    reference = "Fact sheet §2.7 (aqparat.info 2022-12-29)"

    def formula(family, period, parameters):
        p = parameters(period).child_supplement
        years = family.members("age", period)
        return family.sum((years >= p.min_age) & (years <= p.max_age))


class asp_assignment_months(Variable):
    value_type = int
    entity = Family
    definition_period = MONTH
    label = "Months assigned: from the month of application to the end of its quarter (0 when not entitled)"
    reference = (
        "Assigned for the current quarter from the month of application, paid monthly (gov.kz/situations/11)"
    )

    def formula(family, period, parameters):
        left = months_left_in_quarter(period)
        return np.where(family("asp_eligible", period), left, 0)


class asp_quarter_total(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency"
    label = "Total paid for the assignment period: (ASP + child supplement) × months assigned"
    reference = "gov.kz/situations/11 (quarterly assignment, monthly payment)"

    def formula(family, period, parameters):
        monthly = to_tiyn(family("asp_monthly_amount", period)) + to_tiyn(
            family("child_supplement_monthly", period)
        )
        return to_kzt(monthly * family("asp_assignment_months", period).astype(np.int64))
