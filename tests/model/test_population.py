"""Population-level figures: coverage and leakage over all families with Wilson intervals, and the model
vs the law on the same data at equal coverage with paired family-bootstrap intervals (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.model.population import by_group, equal_coverage, gate_check, population_text, rates, top_k
from atauly.model.wording import Words


def test_rates_count_every_family_and_never_give_zero_width_intervals():
    entitled = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    selected = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    r = rates(entitled, selected)
    assert r["entitled"] == 4 and r["selected"] == 3
    assert r["coverage"] == 0.5 and r["exclusion_error"] == 0.5
    assert abs(r["inclusion_error"] - 1 / 3) < 1e-12
    assert r["coverage_ci"][0] < 0.5 < r["coverage_ci"][1] and r["small_group"]
    perfect = rates(entitled, entitled)  # no errors at all: the interval still has width
    assert perfect["coverage"] == 1.0 and perfect["coverage_ci"][0] < 1.0
    assert perfect["inclusion_error"] == 0.0 and perfect["inclusion_error_ci"][1] > 0.0


def test_groups_partition_the_population():
    rng = np.random.default_rng(1)
    n = 2000
    pop = pd.DataFrame(
        {
            "family_id": [f"f{i}" for i in range(n)],
            "region": rng.choice(["a", "b", "c"], n),
            "settlement": rng.choice(["urban", "rural"], n),
            "sex_of_head": rng.choice(["M", "F"], n),
            "entitled": rng.random(n) < 0.1,
        }
    )
    selected = rng.random(n) < 0.08
    rows = by_group(pop, selected)
    national = rows[0]
    for group in ("region", "settlement", "sex_of_head"):
        part = [r for r in rows if r["group"] == group]
        assert sum(r["entitled"] for r in part) == national["entitled"]
        assert sum(r["selected"] for r in part) == national["selected"]


def test_top_k_is_reproducible_with_ties():
    assert top_k(np.array([0.5, 0.9, 0.5, 0.5]), 2).tolist() == [True, True, False, False]
    assert top_k(np.array([np.nan, 0.1]), 1).tolist() == [False, True]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_equal_coverage_selects_as_many_and_pairs_the_bootstrap(seed):
    rng = np.random.default_rng(seed)
    n = 400
    entitled = rng.random(n) < 0.2
    pool = rng.random(n) < 0.5
    law = pool & (rng.random(n) < 0.3)
    score = rng.random(n)
    out = equal_coverage(entitled, score, pool, law, n_boot=50, seed=seed)
    assert out["model"]["selected"] == min(out["selected"], int(pool.sum())) == int(law.sum())
    for name in ("exclusion_error", "inclusion_error"):
        d = out["difference"][name]
        if d["value"] is not None and d["ci"][0] is not None:
            assert d["ci"][0] <= d["ci"][1]
    # The same selection on both sides: every paired draw is exactly zero.
    same = equal_coverage(entitled, law.astype(float), pool, law, n_boot=50, seed=seed)
    assert same["difference"]["exclusion_error"]["value"] == 0.0
    assert same["difference"]["exclusion_error"]["ci"] in ([0.0, 0.0], [None, None])


def test_an_oracle_beats_the_law_and_a_worse_model_fails_the_truth_check():
    rng = np.random.default_rng(0)
    n = 5000
    entitled = rng.random(n) < 0.1
    pool = np.ones(n, dtype=bool)
    law = np.where(rng.random(n) < 0.8, entitled, ~entitled) & (rng.random(n) < 0.5)
    oracle = equal_coverage(entitled, entitled + rng.random(n) * 0.1, pool, law, n_boot=100)
    assert oracle["difference"]["exclusion_error"]["ci"][1] < 0  # better with confidence
    noise = equal_coverage(entitled, rng.random(n), pool, law, n_boot=100)
    assert noise["difference"]["exclusion_error"]["ci"][0] > 0  # worse with confidence
    population = {"equal_coverage": noise}
    check = gate_check(population)
    assert check["assessed"] and not check["passed"] and "all families" in check["reason"]
    assert gate_check({"equal_coverage": oracle})["passed"]
    assert gate_check(None) == {
        "assessed": False,
        "passed": True,
        "reason": "no truth layer: not assessed",
        "reason_code": {"code": "truth.not_assessed"},
    }


def test_population_text_names_the_figures():
    rng = np.random.default_rng(2)
    n = 300
    entitled = rng.random(n) < 0.2
    ec = equal_coverage(entitled, rng.random(n), np.ones(n, dtype=bool), entitled & (rng.random(n) < 0.5), 20)
    population = {
        "families": n,
        "quarter": "2025Q3",
        "applications": 50,
        "entitled": int(entitled.sum()),
        "takeup_among_entitled": 0.625,
        "law_name": "law_as_applied",
        "equal_coverage": ec,
    }
    text = " ".join(population_text(population, Words("en")))
    assert "equal coverage" in text and "Wilson" in text and "62.5%" in text and "Q3 2025" in text
    kk = " ".join(population_text(population, Words("kk")))  # issue 20: the report's language
    assert "бірдей қамту" in kk and "Уилсон" in kk and "62,5%" in kk and "2025 ж. III тоқсан" in kk
    assert "2025Q3" not in kk and "equal coverage" not in kk
