"""Dates and ages: the reference date of a family and the ages of its members on that date."""

from datetime import date

import numpy as np
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..calendar import (
    month_index,
    months_between,
)
from ..entities import Family, Person


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
