"""Amounts: monthly ASP, the 2019 child guarantee, the child supplement and the assignment period."""

import numpy as np
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..calendar import (
    months_left_in_quarter,
)
from ..entities import Family, Person
from ..money import Money, share_tiyn, to_kzt, to_tiyn
from .inputs import EmploymentStatus


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
    unit = "currency-KZT"
    label = "Poverty line minus per-capita income, not below zero"
    reference = "Fact sheet §2.1 (social-balkhash id=838; mgorod.kz 2025-08-18)"

    def formula(family, period, parameters):
        gap = to_tiyn(family("poverty_line", period)) - to_tiyn(family("per_capita_income", period))
        return to_kzt(np.maximum(gap, 0))


class asp_monthly_amount(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency-KZT"
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
    unit = "currency-KZT"
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
    unit = "currency-KZT"
    label = "Total paid for the assignment period: (ASP + child supplement) × months assigned"
    reference = "gov.kz/situations/11 (quarterly assignment, monthly payment)"

    def formula(family, period, parameters):
        monthly = to_tiyn(family("asp_monthly_amount", period)) + to_tiyn(
            family("child_supplement_monthly", period)
        )
        return to_kzt(monthly * family("asp_assignment_months", period).astype(np.int64))
