"""The planner uses the effects by subgroup learned from outcomes: each member's expected gain is the
measure's mean moved by their subgroups' (shrunk) differences, the measure's mean where a subgroup has too
few data; on a world whose effects differ by subgroup, this brings more families out than pooled effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atauly.plans.catalog import load_catalog
from atauly.plans.eligibility import family_exit_probability, pairs
from atauly.plans.learn import SUBGROUP_EFFECT_COLUMNS, estimate_effects, estimate_subgroup_effects
from atauly.plans.optimise import make_plan

from .conftest import make_population

MEASURES = ["job_placement", "vocational_training", "public_works"]
#: True mean effects (MRP a month) by settlement; the planner does not see them.
TRUE = {
    "job_placement": {"urban": 16.0, "rural": 2.0},
    "vocational_training": {"urban": 0.0, "rural": 14.0},
    "public_works": {"urban": 2.0, "rural": 2.0},
}
NOISE_MRP = 4.0


@pytest.fixture(scope="module")
def world():
    catalog = load_catalog("2025-07-01", only=MEASURES)
    pop = make_population(n_families=500, seed=11, districts=3)
    pr = pairs(pop, catalog)
    keys = np.array(catalog.keys)[pr["measure"].to_numpy()]
    settlement = pop.families["settlement_type"].to_numpy()[pr["fam"].to_numpy()]
    true_mean = np.array([TRUE[k][s] for k, s in zip(keys, settlement, strict=True)])
    return catalog, pop, pr, true_mean


def _outcomes(catalog, pop, pr, true_mean, seed=0) -> pd.DataFrame:
    """A randomised pilot: half of the members, at random, get one of their eligible measures at random."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pr))
    first = pd.Series(order).groupby(pr["person"].to_numpy()[order]).first().to_numpy()  # a pair per member
    treated = np.zeros(len(pr), dtype=bool)
    treated[first[rng.random(len(first)) < 0.5]] = True
    per, fam = pop.persons, pop.families
    person = pr["person"].to_numpy()
    controls = np.setdiff1d(np.arange(len(per)), person[treated])
    rows_p = np.concatenate([person[treated], controls])
    gain = np.concatenate([true_mean[treated], np.zeros(len(controls))]) + rng.normal(
        0, NOISE_MRP, len(rows_p)
    )
    f = per["fam"].to_numpy()[rows_p]
    before = (fam["per_capita_income"] * fam["members"]).to_numpy()[f]
    return pd.DataFrame(
        {
            "person_id": per["person_id"].to_numpy()[rows_p],
            "family_id": per["family_id"].to_numpy()[rows_p],
            "measure": np.concatenate([np.array(catalog.keys)[pr["measure"].to_numpy()[treated]], ["none"] * len(controls)]),
            "assigned": np.arange(len(rows_p)) < treated.sum(),
            "started": np.arange(len(rows_p)) < treated.sum(),
            "completed": np.arange(len(rows_p)) < treated.sum(),
            "employed": gain > 0,
            "income_before": before,
            "income_after": np.maximum(0, before + gain * catalog.mrp),
            "age": per["age"].to_numpy()[rows_p],
            "sex": per["sex"].to_numpy()[rows_p],
            "education": per["education"].to_numpy()[rows_p],
            "disability_group": per["disability_group"].to_numpy()[rows_p],
            "settlement_type": fam["settlement_type"].to_numpy()[f],
        }
    )  # fmt: skip


def _true_exits(plan, catalog, pop, pr, true_mean) -> float:
    key = pd.MultiIndex.from_arrays(
        [pop.persons["person_id"].to_numpy()[pr["person"].to_numpy()], np.array(catalog.keys)[pr["measure"]]]
    )
    chosen = key.isin(pd.MultiIndex.from_frame(plan.assignments[["person_id", "measure"]]))
    sd = np.array([catalog.measures[k].effect_sd_mrp for k in pr["measure"]]) * catalog.mrp
    p = family_exit_probability(
        pop.families["need_kzt"].to_numpy(),
        pr["fam"].to_numpy()[chosen],
        true_mean[chosen] * catalog.mrp,
        sd[chosen],
        len(pop.families),
    )
    return float(p.sum())


def test_subgroup_effects_bring_more_families_out_than_pooled_ones(world):
    catalog, pop, pr, true_mean = world
    outcomes = _outcomes(catalog, pop, pr, true_mean)
    pooled = estimate_effects(outcomes, catalog)
    assert (pooled["treated"] >= 10).all()
    learned = catalog.with_effects(
        {r.measure: (r.posterior_mean_mrp, r.effect_sd_mrp) for r in pooled.itertuples()}
    )
    table = estimate_subgroup_effects(outcomes, catalog)
    with_subgroups = learned.with_subgroups(table)
    assert {e.dimension for e in with_subgroups.subgroups} >= {"settlement", "education", "sex"}
    plan_pooled = make_plan(pop, learned, first_month="2025-07", seed=1)
    plan_sub = make_plan(pop, with_subgroups, first_month="2025-07", seed=1)
    exits_pooled = _true_exits(plan_pooled, catalog, pop, pr, true_mean)
    exits_sub = _true_exits(plan_sub, catalog, pop, pr, true_mean)
    assert exits_sub > exits_pooled + 5, (exits_sub, exits_pooled)
    # the planner sent rural members to training and urban ones to job placement
    a = plan_sub.assignments.merge(pop.families[["family_id", "settlement_type"]], on="family_id")
    share_rural = a.groupby("measure")["settlement_type"].apply(lambda s: (s == "rural").mean())
    assert share_rural["vocational_training"] > 0.8 and share_rural["job_placement"] < 0.2


def test_a_subgroup_without_enough_data_keeps_the_measures_mean(world):
    catalog, pop, pr, _ = world
    base = pairs(pop, catalog)
    pd.testing.assert_frame_equal(
        pairs(pop, catalog.with_subgroups(pd.DataFrame(columns=SUBGROUP_EFFECT_COLUMNS))), base
    )
    # settlement estimated for public works only in urban and rural; age band only for 18-29 and 30-49:
    rows = [
        ("public_works", "settlement", "urban", 6.0, 0.5),
        ("public_works", "settlement", "rural", -2.0, 0.5),
        ("public_works", "age_band", "18-29", 3.0, 0.5),
        ("public_works", "age_band", "30-49", 1.0, 0.5),
    ]
    table = pd.DataFrame(
        [{"measure": m, "dimension": d, "subgroup": g, "treated": 50, "controls": 50, "estimate_mrp": e,
          "se_mrp": se, "lo_mrp": e - 2 * se, "hi_mrp": e + 2 * se, "method": "lottery"} for m, d, g, e, se in rows]
    )  # fmt: skip
    got = pairs(pop, catalog.with_subgroups(table))
    k = catalog.keys.index("public_works")
    pw = (got["measure"] == k).to_numpy()
    assert (got.loc[~pw, "mu_kzt"].to_numpy() == base.loc[~pw, "mu_kzt"].to_numpy()).all()  # other measures
    shift = (got["mu_kzt"] - base["mu_kzt"]).to_numpy()[pw] / catalog.mrp
    person = got["person"].to_numpy()[pw]
    rural = pop.families["settlement_type"].to_numpy()[pop.persons["fam"].to_numpy()[person]] == "rural"
    age = pop.persons["age"].to_numpy()[person]
    tau2 = (catalog.measure("public_works").effect_sd_mrp / 2) ** 2
    w = tau2 / (tau2 + 0.25)
    expected = np.where(rural, -4.0, 4.0) * w + np.select([age < 30, age < 50], [1.0, -1.0], 0.0) * w
    np.testing.assert_allclose(shift, expected)  # 50+ has no estimate: no shift on age
    # a very uncertain subgroup barely moves the mean
    noisy = table.assign(se_mrp=1e3)
    moved = pairs(pop, catalog.with_subgroups(noisy))["mu_kzt"].to_numpy()[pw] - base["mu_kzt"].to_numpy()[pw]
    assert np.abs(moved).max() < 1e-4 * catalog.mrp


def test_effects_file_gives_the_cli_catalogue_its_subgroups(world, tmp_path):
    from atauly.cli.plans import _catalog
    from atauly.law.simulation import Quarter
    from atauly.plans.learn import write_effects
    from atauly.plans.national import national_plan

    catalog, pop, pr, true_mean = world
    outcomes = _outcomes(catalog, pop, pr, true_mean, seed=2)
    table = estimate_subgroup_effects(outcomes, catalog)
    write_effects(estimate_effects(outcomes, catalog), tmp_path / "effects.json", table)
    q = Quarter.parse("2025Q3")
    plain = _catalog(q, None, None)
    learned = _catalog(q, None, tmp_path / "effects.json")
    assert plain.subgroups == () and len(learned.subgroups) == len(table) > 0
    write_effects(estimate_effects(outcomes, catalog), tmp_path / "pooled.json")  # no subgroups in it
    assert _catalog(q, None, tmp_path / "pooled.json").subgroups == ()
    sub = learned.with_subgroups(table)
    plan, _, _ = national_plan(None, "2025Q3", pop=pop, catalog=sub)
    assert plan.summary["subgroup_effects_used"] == len(table)
