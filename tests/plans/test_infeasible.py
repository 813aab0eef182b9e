"""Inputs that admit no plan give the reasons a planner can act on, never an empty plan."""

from __future__ import annotations

import pytest

from atauly.plans.capacity import budget_table, capacity_table
from atauly.plans.catalog import load_catalog
from atauly.plans.eligibility import pairs
from atauly.plans.optimise import PlanInfeasibleError, make_plan
from atauly.plans.people import Population

from .conftest import make_population


def _plan(pop, catalog, **kw):
    return make_plan(pop, catalog, first_month="2025-07", **kw)


def test_places_only_for_measures_nobody_may_take(catalog):
    pop = make_population(30, 2)
    cap = capacity_table(pop, catalog)
    # places only for rehabilitation, for which no member of this population qualifies (no health condition)
    pop.persons["disability_group"] = 0
    places = cap.assign(places=(cap["measure"] == "rehabilitation") * 50)
    with pytest.raises(PlanInfeasibleError) as err:
        _plan(pop, catalog, places=places)
    (reason,) = err.value.reasons
    assert "have no places for them" in reason and "places exist only for rehabilitation" in reason


def test_nobody_to_plan_for(catalog):
    pop = make_population(20, 4)
    empty = Population(
        pop.families.iloc[:0], pop.persons.iloc[:0], pop.district_families, pop.region_families
    )
    with pytest.raises(PlanInfeasibleError, match="no family in scope is entitled to conditional ASP"):
        _plan(empty, catalog)
    pop.persons["able_bodied"] = False
    pop.persons["disability_group"] = 0
    with pytest.raises(PlanInfeasibleError, match="is eligible for any measure"):
        _plan(pop, catalog)


def test_quotas_that_contradict_each_other_or_the_budget(catalog):
    pop = make_population(30, 2)
    members = pop.persons["person_id"].nunique()
    quotas = {"public_works": members, "job_placement": members}
    with pytest.raises(PlanInfeasibleError, match=f"quotas add up to {2 * members:,} starts"):
        _plan(pop, catalog, quotas=quotas, places_scale=100)
    with pytest.raises(PlanInfeasibleError, match="costs at least .* more than the .* budget"):
        _plan(pop, catalog, quotas={"public_works": 5}, budget_scale=0.001, places_scale=10)
    # each quota alone fits its budget, together they do not (both are paid from the local budget)
    assert catalog.measure("public_works").funding_source == catalog.measure("job_placement").funding_source
    pr = pairs(pop, catalog)
    q = 3
    cost = {
        key: pr.loc[pr["measure"] == catalog.keys.index(key), "cost_mrp"].nsmallest(q).sum()
        for key in ("public_works", "job_placement")
    }
    source = catalog.measure("public_works").funding_source
    bud = budget_table(pop, catalog)
    have = bud.loc[bud["funding_source"] == source, "budget_mrp"].sum()
    scale = (max(cost.values()) + 0.25 * min(cost.values())) / have  # enough for either quota, not for both
    with pytest.raises(PlanInfeasibleError) as err:
        _plan(pop, catalog, quotas=dict.fromkeys(cost, q), places_scale=100, budget_scale=scale, equity=False)
    assert err.value.reasons == [
        "the quotas cannot be met together within the places and budgets (each one alone can)"
    ]


def test_a_single_measure_catalogue_without_places_says_so():
    catalog = load_catalog("2025-07-01", only=["public_works"])
    pop = make_population(25, 3)
    with pytest.raises(PlanInfeasibleError, match="no places at all"):
        _plan(pop, catalog, places_scale=0)
