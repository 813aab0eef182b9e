"""Type of assistance: unconditional, or conditional with a social contract (Social Code Art. 122)."""

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..entities import Family


class AspType(Enum):
    none = "Not entitled"
    unconditional = "Unconditional assistance"
    conditional = "Conditional assistance (social contract)"


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
