"""The family: its members on the reference date, and the facts about them the rules read."""

from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..entities import Family


class members(Variable):
    value_type = int
    entity = Family
    definition_period = MONTH
    label = "Number of family members (born by the reference date)"
    reference = "Social Code Art. 127 p.2"

    def formula(family, period, parameters):
        return family.sum(family.members("is_born", period))


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
