import numpy as np
import pandas as pd
import pytest

from atauly.plans.learn import estimate_effects, read_effects, validate_outcomes, write_effects
from atauly.plans.optimise import make_plan

from .conftest import make_population


def _lottery_outcomes(
    catalog, true_effect_mrp: float, n: int = 400, selection_bias: float = 0.0, seed: int = 0
):
    """Winners and losers of a lottery for public works, with a true effect; losers who were better off
    are not more likely to lose (it is a lottery) — unless ``selection_bias`` mimics a planner's choice."""
    rng = np.random.default_rng(seed)
    ability = rng.normal(0, 1, n)
    selected = rng.random(n) < 0.5 + selection_bias * np.tanh(ability)
    before = rng.uniform(50_000, 120_000, n)
    after = before + catalog.mrp * (true_effect_mrp * selected + 3 * ability + rng.normal(0, 2, n))
    ids = [f"P{i}" for i in range(n)]
    outcomes = pd.DataFrame(
        {
            "person_id": ids, "family_id": ids, "measure": "public_works", "assigned": selected,
            "started": selected, "completed": selected, "employed": after > before,
            "income_before": before, "income_after": after,
        }
    )  # fmt: skip
    lottery = pd.DataFrame(
        {"district": "D", "measure": "public_works", "person_id": ids, "family_id": ids,
         "selected": selected, "chance": 0.5, "assigned_other": False}
    )  # fmt: skip
    return outcomes, lottery


def test_lottery_recovers_the_effect_and_moves_the_prior(catalog):
    outcomes, lottery = _lottery_outcomes(catalog, true_effect_mrp=-4.0, n=2000)
    table = estimate_effects(outcomes, catalog, lottery).set_index("measure")
    row = table.loc["public_works"]
    assert row["method"].startswith("lottery")
    assert abs(row["estimate_mrp"] - (-4.0)) < 3 * row["se_mrp"]
    prior = catalog.measure("public_works").effect_mean_mrp
    assert row["estimate_mrp"] < row["posterior_mean_mrp"] < prior  # pulled from the prior towards the data
    assert table.loc["job_placement", "method"] == "prior only"
    assert (
        table.loc["job_placement", "posterior_mean_mrp"] == catalog.measure("job_placement").effect_mean_mrp
    )


def test_without_lottery_the_estimate_is_flagged_observational(catalog):
    outcomes, _ = _lottery_outcomes(catalog, 2.0, n=600, selection_bias=0.4)
    extra = outcomes.assign(measure="none", assigned=False, person_id=outcomes["person_id"] + "x")
    table = estimate_effects(pd.concat([outcomes, extra]), catalog).set_index("measure")
    assert table.loc["public_works", "method"].startswith("observational")


def test_effects_file_round_trip_changes_the_plan(catalog, tmp_path):
    outcomes, lottery = _lottery_outcomes(catalog, true_effect_mrp=25.0, n=1000)
    path = write_effects(estimate_effects(outcomes, catalog, lottery), tmp_path / "effects.json")
    effects = read_effects(path)
    assert effects["public_works"][0] > catalog.measure("public_works").effect_mean_mrp
    pop = make_population(200, 1)
    before = make_plan(pop, catalog, first_month="2025-07")
    after = make_plan(pop, catalog.with_effects(effects), first_month="2025-07")
    share = lambda p: (p.assignments["measure"] == "public_works").mean()  # noqa: E731
    assert share(after) > share(before)


def test_bad_outcomes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="income_after"):
        validate_outcomes(pd.DataFrame({"person_id": ["a"]}))
    bad = pd.DataFrame(
        {
            c: [1]
            for c in [
                "person_id",
                "family_id",
                "measure",
                "assigned",
                "started",
                "completed",
                "employed",
                "income_before",
            ]
        }
    )
    bad["income_after"] = -5
    with pytest.raises(ValueError, match="negative"):
        validate_outcomes(bad)
    (tmp_path / "e.json").write_text('{"effects": {"x": {"mean_mrp": 1, "sd_mrp": 0}}}')
    with pytest.raises(ValueError, match="positive sd"):
        read_effects(tmp_path / "e.json")
