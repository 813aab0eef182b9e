"""Income: counted income of the preceding quarter and per-capita income (Social Code Art. 127 p.2)."""

import numpy as np
from openfisca_core.periods import MONTH

from atauly.registry.codes import INCOME_SOURCES

from ..calendar import (
    previous_quarter_months,
)
from ..entities import Family
from ..money import Money, divide_half_up, to_kzt, to_tiyn


class counted_income_quarter(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency-KZT"
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


class per_capita_income(Money):
    value_type = float
    entity = Family
    definition_period = MONTH
    unit = "currency-KZT"
    label = "Average monthly per-capita income: counted income ÷ members ÷ 3, rounded half up to the tiyn"
    reference = "Social Code Art. 127 p.2; rounding: docs/law.md (one rule, half up to the tiyn)"

    def formula(family, period, parameters):
        n = np.maximum(family("members", period), 1).astype(np.int64)
        return to_kzt(divide_half_up(to_tiyn(family("counted_income_quarter", period)), 3 * n))
