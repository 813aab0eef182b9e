"""Eligibility: the grounds for refusal (Social Code Art. 128, asset rules), sanctions, entitlement."""

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..calendar import (
    months_between,
)
from ..entities import Family, Person
from ..money import to_tiyn


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


class asp_eligible(Variable):
    value_type = bool
    entity = Family
    definition_period = MONTH
    label = "Entitled to targeted social assistance"
    reference = "Social Code Art. 120 p.4, Art. 128"

    def formula(family, period, parameters):
        return family("refusal_reason", period) == RefusalReason.none
