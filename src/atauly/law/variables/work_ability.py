"""Ability to work: retirement age, disability, able-bodied members and the carers exempt from work."""

import numpy as np
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..entities import Family, Person
from .inputs import EmploymentStatus, Sex


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


class able_bodied_members(Variable):
    value_type = int
    entity = Family
    definition_period = MONTH
    label = "Number of able-bodied members"
    reference = "Social Code Art. 122"

    def formula(family, period, parameters):
        return family.sum(family.members("is_able_bodied", period))
