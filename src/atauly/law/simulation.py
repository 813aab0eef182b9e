"""Turn registry tables (the data contract) into an OpenFisca simulation, vectorised.

A single application and the national registry go through the same function: there is no second,
single-row implementation of any rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openfisca_core.periods import period as make_period
from openfisca_core.simulation_builder import SimulationBuilder
from openfisca_core.simulations import Simulation

from atauly.registry import REGION_BY_KATO, Registry, code_indices
from atauly.registry.codes import EMPLOYMENT_STATUSES, INCOME_SOURCES, ROLES
from atauly.registry.quarter import Quarter

from .system import tax_benefit_system
from .variables.inputs import NO_DATE

__all__ = ["Quarter", "build_simulation"]  # Quarter: the registry's, re-exported for existing imports


#: The days a nanosecond date can hold (pandas refuses to convert dates outside them).
_NS_DAYS = (np.datetime64("1678-01-01"), np.datetime64("2262-04-11"))


def _dates(series: pd.Series) -> np.ndarray:
    values = None
    if isinstance(series.dtype, np.dtype) and series.dtype.kind == "M":
        # Already dates (a validated registry): the same days without pandas' parsing, where its
        # conversion through nanoseconds could not fail.
        raw = series.to_numpy()
        known = raw[~np.isnat(raw)]
        if not len(known) or (known.min() >= _NS_DAYS[0] and known.max() <= _NS_DAYS[1]):
            values = raw.astype("datetime64[D]")
    if values is None:
        values = (
            pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        )
    return np.where(np.isnat(values), np.datetime64(NO_DATE.isoformat(), "D"), values)


def _entities(tbs, n_families: int, person_family: np.ndarray, roles: np.ndarray) -> Simulation:
    """The persons and families of a simulation, identified by their row positions.

    What ``SimulationBuilder.declare_person_entity``, ``declare_entity`` and ``join_with_persons`` do, for
    the case the registry guarantees — every family has a member, persons point at family rows — without
    their copies through Python lists of millions of ids and role objects. Any other case goes through
    the builder.
    """
    builder = SimulationBuilder()
    builder.create_entities(tbs)
    persons, families = builder.populations["person"], builder.populations["family"]
    flattened = families.entity.flattened_roles
    has_members = len(person_family) == 0 or (
        person_family.min() >= 0 and np.bincount(person_family, minlength=n_families).min() > 0
    )
    if has_members and len(person_family) and person_family.max() < n_families:
        persons.ids, persons.count = np.arange(len(person_family)), len(person_family)
        families.ids, families.count = np.arange(n_families), n_families
        families.members_entity_id = np.asarray(person_family, dtype=np.int64)
        # OpenFisca's setter lists the roles first; the array it would build is this one.
        families._members_role = np.array(flattened, dtype=object)[roles]
    else:
        builder.declare_person_entity("person", range(len(person_family)))
        builder.declare_entity("family", range(n_families))
        builder.join_with_persons(families, person_family, roles)
    return builder.build(tbs)


#: The registry's columns that :func:`build_simulation` reads (and the families' ids and regions, which the
#: law's result carries); :func:`law_inputs` keeps only these.
LAW_COLUMNS = {
    "families": (
        "family_id", "region_kato", "application_date", "dwellings_owned", "vehicles_owned",
        "refused_commission_survey", "commission_found_no_need", "social_contract_breach_date",
        "false_information",
    ),
    "persons": (
        "role", "birth_date", "sex", "disability_group", "employment_status", "long_term_illness",
        "employment_measures_refusal_date",
    ),
    "incomes": ("month", "source", "amount_kzt"),
}  # fmt: skip


def law_inputs(registry: Registry) -> Registry:
    """``registry`` with only the columns the law reads (:data:`LAW_COLUMNS`; no copy), positions kept:
    what the law computes from it is what it computes from the whole registry, and a copy of part of
    the families (by application month) copies far less."""

    def narrow(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        return frame[[c for c in frame.columns if c in LAW_COLUMNS[name]]]

    person_family, income_person = registry.positions()
    return Registry(
        narrow(registry.families, "families"),
        narrow(registry.persons, "persons"),
        narrow(registry.incomes, "incomes"),
        person_family,
        income_person,
    )


def build_simulation(registry: Registry, month: str, tbs=None) -> Simulation:
    """An OpenFisca simulation of ``registry`` for the application ``month`` (YYYY-MM).

    The registry must be validated (see :func:`atauly.registry.load_registry`). Incomes are taken for the
    three months of the quarter before ``month``'s quarter; other months are ignored.
    """
    tbs = tbs or tax_benefit_system()
    fam, per, inc = registry.families, registry.persons, registry.incomes
    person_family, income_person = registry.positions()
    roles = code_indices(per["role"], ROLES)
    sim = _entities(tbs, len(fam), person_family, roles)

    # Enums are passed as indices (the order of the registry's code lists), which is fast and exact.
    regions = code_indices(fam["region_kato"], REGION_BY_KATO)
    if (regions < 0).any():
        raise ValueError(
            "region_kato: not a KATO code of one of the 20 regions (validate the registry first)"
        )
    statuses = code_indices(per["employment_status"].fillna("not_working"), EMPLOYMENT_STATUSES)
    eternal = {
        "region": regions,
        "application_date": _dates(fam["application_date"]),
        "dwellings_owned": fam["dwellings_owned"].to_numpy(dtype=np.int64),
        "vehicles_owned": fam["vehicles_owned"].to_numpy(dtype=np.int64),
        "refused_commission_survey": fam["refused_commission_survey"].to_numpy(dtype=bool),
        "commission_found_no_need": fam["commission_found_no_need"].to_numpy(dtype=bool),
        "social_contract_breach_date": _dates(fam["social_contract_breach_date"]),
        "false_information": fam["false_information"].to_numpy(dtype=bool),
        "birth_date": _dates(per["birth_date"]),
        "sex": np.where((per["sex"] == "M").to_numpy(dtype=bool, na_value=False), 0, 1),
        "disability_group": per["disability_group"].to_numpy(dtype=np.int64),
        "employment_status": statuses,
        "long_term_illness": per["long_term_illness"].to_numpy(dtype=bool),
        "employment_measures_refusal_date": _dates(per["employment_measures_refusal_date"]),
    }
    eternity = make_period("eternity")  # parsed once, not by every set_input
    for name, values in eternal.items():
        sim.set_input(name, eternity, values)

    months = Quarter.of(month).reference_months
    keep = (inc["month"].isin(months) & (inc["amount_kzt"] > 0)).to_numpy(dtype=bool, na_value=False)
    relevant = inc.loc[keep]
    if not relevant.empty:
        position = income_person[keep]
        amount = relevant["amount_kzt"].to_numpy(dtype=np.float64)
        n = len(per)
        # One sum per (source, month): integer codes, not a groupby over millions of strings. The rows are
        # ordered by that key once (a radix sort of small integers), then each run is summed.
        source = code_indices(relevant["source"], INCOME_SOURCES)
        in_month = code_indices(relevant["month"], months)
        key = np.where(source >= 0, source * len(months) + in_month, -1).astype(np.int16)
        order = np.argsort(key, kind="stable")
        bounds = np.searchsorted(key[order], np.arange(-1, len(INCOME_SOURCES) * len(months) + 1))
        for k in range(len(INCOME_SOURCES) * len(months)):
            rows = order[bounds[k + 1] : bounds[k + 2]]
            if len(rows):
                values = np.bincount(position[rows], weights=amount[rows], minlength=n)
                sim.set_input(
                    f"income_{INCOME_SOURCES[k // len(months)]}", make_period(months[k % len(months)]), values
                )
    return sim
