"""Metric definitions checked on hand-computed cases and against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from atauly.model.metrics import (
    binary_metrics,
    bootstrap_intervals,
    exclusion_error,
    fairness,
    inclusion_error,
    paired_bootstrap,
    poorest_quintile,
    threshold_at_inclusion,
    threshold_for_budget,
    threshold_for_exclusion,
)

# Ten families: 4 entitled (E), the model recommends 5 (R).
Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
R = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0], dtype=bool)


def test_hand_computed_targeting_errors():
    # Entitled but not recommended: 1 of 4 → exclusion 25%. Recommended but not entitled: 2 of 5 → 40%.
    m = binary_metrics(Y, None, R)
    assert m["exclusion_error"] == pytest.approx(0.25)
    assert m["inclusion_error"] == pytest.approx(0.40)
    assert m["accuracy"] == pytest.approx(0.7)  # 3 TP + 4 TN of 10
    assert m["recall"] == pytest.approx(0.75)
    assert m["precision"] == pytest.approx(0.6)
    assert m["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert m["balanced_accuracy"] == pytest.approx((0.75 + 4 / 6) / 2)
    assert m["selection_rate"] == pytest.approx(0.5)
    assert math.isnan(m["brier"])  # a rule has no probability


def test_poorest_quintile_coverage():
    income = np.array([5, 1, 9, 2, 8, 7, 6, 4, 3, 10], dtype=float)  # poorest 2: rows 1 and 3
    assert poorest_quintile(income).nonzero()[0].tolist() == [1, 3]
    m = binary_metrics(Y, None, R, poorest=poorest_quintile(income))
    assert m["coverage_poorest_quintile"] == pytest.approx(0.5)  # row 1 recommended, row 3 not


def test_probability_metrics_by_hand():
    y = np.array([0, 0, 1, 1], dtype=bool)
    p = np.array([0.1, 0.4, 0.35, 0.8])
    m = binary_metrics(y, p, p >= 0.5)
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 positive–negative pairs ordered right
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert m["pr_auc"] == pytest.approx(0.5 * 1 + 0.5 * (2 / 3))


@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 10), st.integers(0, 3)), min_size=4, max_size=60),
)
def test_fast_metrics_equal_sklearn(rows):
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] / 10 for r in rows])  # many ties
    w = np.array([r[2] for r in rows], dtype=float)
    if len(np.unique(y[w > 0])) < 2:
        return
    m = binary_metrics(y, p, p >= 0.5, sample_weight=w)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, p, sample_weight=w))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p, sample_weight=w))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, p >= 0.5, sample_weight=w))


def test_error_functions_with_weights():
    w = np.array([2, 1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=float)
    assert exclusion_error(Y, R, w) == pytest.approx(1 / 5)
    assert inclusion_error(Y, R, w) == pytest.approx(2 / 6)


def test_thresholds():
    prob = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.55, 0.2, 0.1, 0.05, 0.0])
    # Exclusion at most 25% of 4 entitled → one may fall below: the threshold is the 2nd lowest, 0.6.
    assert threshold_for_exclusion(Y, prob, 0.25) == pytest.approx(0.6)
    assert threshold_for_exclusion(Y, prob, 0.0) == pytest.approx(0.3)
    assert threshold_for_budget(prob, 3) == pytest.approx(0.7)
    assert (prob >= threshold_for_budget(prob, 3)).sum() == 3
    with pytest.raises(ValueError):
        threshold_for_exclusion(Y, prob, 1.5)


def test_bootstrap_intervals_cover_the_estimate_and_keep_families_together():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.4
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    families = np.repeat(np.arange(100), 4)
    ci = bootstrap_intervals(y, p, p >= 0.5, groups=families, n_boot=100, seed=1)
    point = binary_metrics(y, p, p >= 0.5)
    for name in ("accuracy", "roc_auc", "exclusion_error"):
        lo, hi = ci[name]
        assert lo <= point[name] <= hi
        assert hi - lo > 0


def test_fairness_tables_by_group():
    groups = pd.DataFrame({"sex_of_head": ["F"] * 5 + ["M"] * 5})
    tables = fairness(Y, R, groups, n_boot=50, seed=0)
    table = tables["sex_of_head"].set_index("group")
    # F: rows 0–4 → entitled 4, recommended 4 (rows 0,1,2,4), missed row 3.
    assert table.loc["F", "families"] == 5
    assert table.loc["F", "exclusion_error"] == pytest.approx(0.25)
    assert table.loc["F", "inclusion_error"] == pytest.approx(0.25)
    # M: nobody entitled; row 5 recommended.
    assert table.loc["M", "selection_rate"] == pytest.approx(0.2)
    assert {"exclusion_error_lo", "exclusion_error_hi"} <= set(table.columns)


def test_threshold_at_inclusion():
    prob = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.55, 0.2, 0.1, 0.05, 0.0])
    # Sorted: 0.9 E, 0.8 E, 0.7 n, 0.6 E, 0.55 n, 0.3 E, ... Inclusion ≤ 25%: cut after 0.6 (1 of 4).
    assert threshold_at_inclusion(Y, prob, 0.25) == pytest.approx(0.6)
    assert threshold_at_inclusion(Y, prob, 0.0) == pytest.approx(0.8)
    assert threshold_at_inclusion(Y, prob, 1.0) == pytest.approx(0.0)
    assert threshold_at_inclusion(~Y & False, prob, 0.0) == float("inf")  # nothing can be recommended


def test_paired_bootstrap_uses_the_same_draws_for_both_models_and_their_difference():
    rng = np.random.default_rng(5)
    n = 300
    y = rng.random(n) < 0.4
    families = rng.integers(0, 120, n)
    good = np.clip(y * 0.6 + rng.random(n) * 0.5, 0, 1)  # informative scores
    noise = rng.random(n)  # uninformative scores
    first, second = (noise, noise >= 0.5), (good, good >= 0.5)
    out = paired_bootstrap(y, first, second, families, n_boot=150, seed=3)
    # Each model's figures are those of bootstrap_intervals with the same seed and families (same draws).
    alone = bootstrap_intervals(y, good, good >= 0.5, None, families, 150, 3)
    assert out["second"] == binary_metrics(y, good, good >= 0.5)
    assert out["second_ci"]["roc_auc"] == pytest.approx(alone["roc_auc"])
    diff = out["difference"]["roc_auc"]
    assert diff == pytest.approx(out["second"]["roc_auc"] - out["first"]["roc_auc"]) and diff > 0.2
    lo, hi = out["difference_ci"]["roc_auc"]
    assert 0 < lo <= diff <= hi
    # A model against itself differs by exactly nothing, on every draw.
    same = paired_bootstrap(y, second, second, families, n_boot=50, seed=3)
    assert same["difference_ci"]["accuracy"] == (0.0, 0.0)
    # A subset restricts every figure to its rows; an empty one gives no figure at all.
    subset = np.arange(n) < 100
    part = paired_bootstrap(y, first, second, families, n_boot=20, seed=3, subset=subset)
    assert part["second"]["accuracy"] == pytest.approx(np.mean((good >= 0.5)[:100] == y[:100]))
    empty = paired_bootstrap(y, first, second, families, n_boot=20, seed=3, subset=np.zeros(n, bool))
    assert math.isnan(empty["second"]["accuracy"]) and all(
        map(math.isnan, empty["difference_ci"]["accuracy"])
    )
