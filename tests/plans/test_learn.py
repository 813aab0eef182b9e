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


def _heterogeneous_world(catalog, n: int = 4000, seed: int = 3):
    """A lottery for job placement whose true effect falls with age (+10, +3, −5 MRP a month for 18–29,
    30–49, 50+), is larger in rural areas (+4) and does not depend on sex."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 63, n)
    sex = rng.choice(["M", "F"], n)
    rural = rng.random(n) < 0.5
    true = np.select([age < 30, age < 50], [10.0, 3.0], default=-5.0) + 4.0 * rural
    selected = rng.random(n) < 0.5
    before = rng.uniform(150_000, 250_000, n)
    after = before + catalog.mrp * (true * selected + rng.normal(0, 6, n))
    ids = [f"P{i}" for i in range(n)]
    outcomes = pd.DataFrame(
        {
            "person_id": ids, "family_id": ids, "measure": "job_placement", "assigned": selected,
            "started": selected, "completed": selected, "employed": after > before,
            "income_before": before, "income_after": after, "age": age, "sex": sex,
            "settlement_type": np.where(rural, "rural", "urban"), "education": "general_secondary",
            "disability_group": 0,
        }
    )  # fmt: skip
    lottery = pd.DataFrame(
        {"district": "D", "measure": "job_placement", "person_id": ids, "family_id": ids,
         "selected": selected, "chance": 0.5, "assigned_other": False}
    )  # fmt: skip
    return outcomes, lottery


def test_subgroup_effects_recover_the_order_and_sign_of_true_effects(catalog):
    from atauly.plans.learn import estimate_subgroup_effects

    outcomes, lottery = _heterogeneous_world(catalog)
    table = estimate_subgroup_effects(outcomes, catalog, lottery)
    jp = table[table["measure"] == "job_placement"].set_index(["dimension", "subgroup"])
    assert set(jp.loc["age_band"].index) == {"18-29", "30-49", "50+"}
    young, mid, old = (jp.loc[("age_band", g)] for g in ("18-29", "30-49", "50+"))
    assert young["lo_mrp"] > mid["hi_mrp"] and mid["lo_mrp"] > old["hi_mrp"]  # the order, clearly separated
    assert young["lo_mrp"] > 0 and old["hi_mrp"] < 0  # the signs
    assert jp.loc[("settlement", "rural"), "lo_mrp"] > jp.loc[("settlement", "urban"), "hi_mrp"] - 1.0
    men, women = jp.loc[("sex", "M")], jp.loc[("sex", "F")]
    assert men["lo_mrp"] < women["hi_mrp"] and women["lo_mrp"] < men["hi_mrp"]  # no difference by sex
    assert (jp["method"].str.startswith("lottery")).all()
    assert set(jp.loc["education"].index) == {"secondary"} and set(jp.loc["disability"].index) == {
        "not disabled"
    }
    # the true effects lie in (nearly) every interval: a 95% interval, a few subgroups
    assert young["lo_mrp"] < 10 + 2 < young["hi_mrp"] + 2
    assert old["lo_mrp"] - 2 < -5 + 2 < old["hi_mrp"]


def test_subgroup_effects_are_written_and_read_back(catalog, tmp_path):
    from atauly.plans.learn import estimate_subgroup_effects, read_subgroup_effects

    outcomes, lottery = _heterogeneous_world(catalog, n=600)
    sub = estimate_subgroup_effects(outcomes, catalog, lottery)
    path = write_effects(estimate_effects(outcomes, catalog, lottery), tmp_path / "e.json", sub)
    back = read_subgroup_effects(path)
    pd.testing.assert_frame_equal(back, sub, check_dtype=False)
    assert read_effects(path)["job_placement"][1] > 0  # the effects for --effects still read
    plain = write_effects(estimate_effects(outcomes, catalog, lottery), tmp_path / "p.json")
    assert read_subgroup_effects(plain) is None


def test_without_subgroup_columns_there_are_no_subgroup_rows(catalog):
    from atauly.plans.learn import estimate_subgroup_effects

    outcomes, lottery = _lottery_outcomes(catalog, 2.0, n=300)
    assert estimate_subgroup_effects(outcomes, catalog, lottery).empty


def test_learn_command_and_the_akimat_report_show_subgroup_effects(catalog, tmp_path):
    import io
    import json

    from typer.testing import CliRunner

    from atauly.cli.main import app
    from atauly.plans.learn import read_subgroup_effects
    from atauly.plans.national import plan_and_write

    outcomes, lottery = _heterogeneous_world(catalog, n=800)
    outcomes.to_parquet(tmp_path / "o.parquet")
    lottery.to_parquet(tmp_path / "l.parquet")
    r = CliRunner().invoke(
        app,
        ["plans", "learn", "--outcomes", str(tmp_path / "o.parquet"), "--lottery", str(tmp_path / "l.parquet"),
         "--out", str(tmp_path / "effects.json")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    sub = read_subgroup_effects(tmp_path / "effects.json")
    assert sub is not None and {"age_band", "sex", "settlement"} <= set(sub["dimension"])
    pop = make_population(120, 2)
    plan, _ = plan_and_write(None, "2025Q3", tmp_path / "plan", catalog=catalog, pop=pop, subgroups=sub)
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert len(summary["effects_by_subgroup"]) == len(sub) and summary["recipients_only"] is False
    sheets = pd.read_excel(io.BytesIO((tmp_path / "plan" / "plan.xlsx").read_bytes()), sheet_name=None)
    shown = sheets["effects by subgroup"]
    assert len(shown) == len(sub) and "Возрастная группа: 18-29" in set(shown["Подгруппа"])
    assert (tmp_path / "plan" / "plan.pdf").read_bytes().startswith(b"%PDF")
