"""The poverty line: subsistence minimum and median income of the preceding quarter, and the line itself
(Social Code Art. 120; Order MLSP No. 160 as amended by No. 473)."""

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..calendar import (
    previous_quarter_instant,
)
from ..entities import Family
from ..money import Money, share_tiyn, to_kzt, to_tiyn
from .region import by_region


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
    unit = "currency-KZT"
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
    unit = "currency-KZT"
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
    unit = "currency-KZT"
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
