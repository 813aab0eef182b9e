"""Input variables: facts about families and persons taken from the registry (data contract)."""

from datetime import date

from openfisca_core.holders import set_input_dispatch_by_period
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import ETERNITY, MONTH
from openfisca_core.variables import Variable

from atauly.registry.codes import EMPLOYMENT_STATUSES, INCOME_SOURCES, REGIONS

from ..entities import Family, Person
from ..money import Money

NO_DATE = date(1900, 1, 1)  # "no such event" for optional dates

Region = Enum("Region", {r.key: r.name_en for r in REGIONS})
Region.__doc__ = (
    "The 20 regions (17 oblasts and 3 cities of republican significance); see atauly.registry.codes."
)
Sex = Enum("Sex", {"male": "Male", "female": "Female"})
EmploymentStatus = Enum("EmploymentStatus", {s: s.replace("_", " ") for s in EMPLOYMENT_STATUSES})


class region(Variable):
    value_type = Enum
    possible_values = Region
    default_value = Region.astana
    entity = Family
    definition_period = ETERNITY
    label = "Region of residence (KATO region)"
    reference = (
        "Social Code Art. 120 p.4 (poverty line set per oblast, city of republican significance, capital)"
    )


class application_date(Variable):
    value_type = date
    default_value = NO_DATE
    entity = Family
    definition_period = ETERNITY
    label = "Date of the ASP application (1900-01-01 when the family has not applied)"
    reference = "Gov. services standard 'Назначение государственной адресной социальной помощи' (egov.kz pass166_mtszn)"


class dwellings_owned(Variable):
    value_type = int
    entity = Family
    definition_period = ETERNITY
    label = "Dwellings owned by family members"
    reference = "Fact sheet §2.5 (astanatimes.com 2020-01-09)"


class vehicles_owned(Variable):
    value_type = int
    entity = Family
    definition_period = ETERNITY
    label = "Motor vehicles owned by family members"
    reference = "Fact sheet §2.5 (astanatimes.com 2020-01-09)"


class refused_commission_survey(Variable):
    value_type = bool
    entity = Family
    definition_period = ETERNITY
    label = "The applicant refused the participation commission's survey of material situation"
    reference = "Social Code Art. 128 p.2"


class commission_found_no_need(Variable):
    value_type = bool
    entity = Family
    definition_period = ETERNITY
    label = "The participation commission concluded that the family is not in need"
    reference = "Social Code Art. 128 p.3"


class social_contract_breach_date(Variable):
    value_type = date
    default_value = NO_DATE
    entity = Family
    definition_period = ETERNITY
    label = "Date a social contract was terminated, or its obligations not fulfilled, through the recipient's fault"
    reference = "Social Code Art. 128 p.5"


class false_information(Variable):
    value_type = bool
    entity = Family
    definition_period = ETERNITY
    label = "The applicant knowingly gave false information or unreliable documents"
    reference = "Social Code Art. 128 p.6"


class birth_date(Variable):
    value_type = date
    default_value = date(1970, 1, 1)
    entity = Person
    definition_period = ETERNITY
    label = "Date of birth"
    reference = "Data contract, persons.birth_date"


class sex(Variable):
    value_type = Enum
    possible_values = Sex
    default_value = Sex.female
    entity = Person
    definition_period = ETERNITY
    label = "Sex"
    reference = "Data contract, persons.sex (used where the law uses it: retirement age)"


class disability_group(Variable):
    value_type = int
    entity = Person
    definition_period = ETERNITY
    label = "Disability group (1, 2 or 3; 0 for none)"
    reference = "Social Code Art. 122 (groups I and II limit the ability to work)"


class employment_status(Variable):
    value_type = Enum
    possible_values = EmploymentStatus
    default_value = EmploymentStatus.not_working
    entity = Person
    definition_period = ETERNITY
    label = "Main employment status"
    reference = "Data contract, persons.employment_status"


class long_term_illness(Variable):
    value_type = bool
    entity = Person
    definition_period = ETERNITY
    label = "Illness with expected temporary incapacity over two months"
    reference = "Fact sheet §2.3 (egov.kz social_help): unconditional assistance"


class employment_measures_refusal_date(Variable):
    value_type = date
    default_value = NO_DATE
    entity = Person
    definition_period = ETERNITY
    label = "Date the person refused employment-promotion measures"
    reference = "Social Code Art. 128 p.4"


def _income_variable(source: str) -> type[Variable]:
    return type(
        f"income_{source}",
        (Money,),
        {
            "value_type": float,
            "entity": Person,
            "definition_period": MONTH,
            "label": f"Income received in the month: {source.replace('_', ' ')} (KZT)",
            "unit": "currency-KZT",
            "reference": "Social Code Art. 127; data contract, incomes.source",
            # A value given for several months (e.g. "month:2025-04:3") is the amount of each month.
            "set_input": set_input_dispatch_by_period,
            "__module__": __name__,
        },
    )


INCOME_VARIABLES = {source: _income_variable(source) for source in INCOME_SOURCES}
globals().update({cls.__name__: cls for cls in INCOME_VARIABLES.values()})
