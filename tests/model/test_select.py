"""The forest search by successive halving (issue 16: "training a few thousand rows takes seconds"):
the schedule, warm-started growth equal to fitting at once, the reference never dropped before the last
rung, the chosen candidate's out-of-fold probabilities those of a fresh forest, and threaded
cross-fitting equal to sequential."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from atauly.model import TrainConfig
from atauly.model.estimators import forest
from atauly.model.select import candidates, fit_crossfitted, folds, out_of_fold, rung_label, rungs, search


def _table(n: int = 400, seed: int = 0, signal: float = 2.0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "c": rng.choice(["x", "y", "z"], n),
        }
    )
    logit = signal * (X["a"] * X["b"] > 0) + signal * (X["c"] == "x") - signal
    y = rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))
    return X, y


def test_the_schedule_halves_candidates_and_ends_with_all_the_trees():
    assert rungs(8, 100) == [(8, 12), (3, 33), (2, 100)]
    assert rungs(3, 30) == [(3, 10), (2, 30)]  # three candidates: no middle rung of the same three
    assert rungs(2, 100) == [(2, 100)] and rungs(1, 50) == [(1, 50)]
    for n in range(1, 12):
        for trees in (8, 9, 30, 100, 500):
            schedule = rungs(n, trees)
            sizes, counts = [s for s, _ in schedule], [c for _, c in schedule]
            assert sizes[0] == n and counts[-1] == trees
            assert sizes == sorted(sizes, reverse=True) and counts == sorted(set(counts))


@pytest.mark.filterwarnings("ignore::UserWarning")  # balanced weights with warm start: the same rows here
def test_a_forest_grown_in_steps_is_the_forest_fitted_at_once():
    """What lets each rung grow the survivors' forests instead of refitting them."""
    X, y = _table(300)
    Xn = pd.get_dummies(X).to_numpy(dtype=float)
    grown = RandomForestClassifier(12, class_weight="balanced", random_state=3, warm_start=True).fit(Xn, y)
    for trees in (33, 100):
        grown.set_params(n_estimators=trees).fit(Xn, y)
    once = RandomForestClassifier(100, class_weight="balanced", random_state=3).fit(Xn, y)
    np.testing.assert_array_equal(grown.predict_proba(Xn), once.predict_proba(Xn))


@pytest.mark.parametrize("signal", [0.0, 3.0])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_search_keeps_the_reference_to_the_end_and_returns_a_fresh_forests_oof(signal):
    X, y = _table(240, seed=4, signal=signal)
    config = TrainConfig(n_jobs=1, seed=0)
    numeric, categorical = ["a", "b", "noise"], ["c"]

    def make(params, trees):
        return forest(numeric, categorical, trees, None, config, **params)

    groups = np.arange(len(y)) // 2  # pairs of rows: a family in one fold only
    cv = folds(y, groups, 4, 0)
    for train, test in cv:
        assert not set(groups[train]) & set(groups[test])
    labels: list[str] = []
    chosen, table, oof = search(make, X, y, cv, 5, 0, trees=16, progress=labels.append)
    schedule = rungs(5, 16)
    assert schedule == [(5, 8), (2, 16)] and len(labels) == 2 and labels[0].startswith("rung 1/2: 5 ")
    assert table[0]["rung"] == 2  # the reference (first) reaches the last rung
    finalists = [r for r in table if r["rung"] == 2]
    assert 1 <= len(finalists) <= 2 and all(r["rung_trees"] == 8 for r in table if r["rung"] == 1)
    # The progress bar names the planned rungs (as train_steps lists them), also when the reference led
    # after the first rung and was grown alone.
    assert labels == [rung_label(i, len(schedule), *rung) for i, rung in enumerate(schedule)]
    assert sum(r["chosen"] for r in table) == 1
    winner = next(r for r in table if r["chosen"])
    assert winner["rung"] == 2 and winner["rung_trees"] == 16
    assert chosen == {k: (None if v == "none" else v) for k, v in winner.items() if k in candidates(1, 0)[0]}
    # The chosen candidate's out-of-fold probabilities are those of fresh 16-tree forests on the folds.
    fresh = out_of_fold(lambda: make(chosen, 16), X, y, cv)
    np.testing.assert_allclose(oof, fresh, rtol=0, atol=1e-12)


def test_threaded_cross_fitting_equals_sequential():
    X, y = _table(300, seed=2)
    Xn = pd.get_dummies(X).astype(float)
    cv = folds(y, np.arange(len(y)), 4, 1)
    one, oof_one = fit_crossfitted(lambda: LogisticRegression(max_iter=300), Xn, y, cv, n_jobs=1)
    two, oof_two = fit_crossfitted(lambda: LogisticRegression(max_iter=300), Xn, y, cv, n_jobs=2)
    np.testing.assert_allclose(oof_one, oof_two, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one.predict_proba(Xn), two.predict_proba(Xn), rtol=0, atol=1e-12)


def test_singleton_groups_get_stratified_folds():
    rng = np.random.default_rng(0)
    y = rng.random(1000) < 0.2
    cv = folds(y, np.arange(1000).astype(str), 4, 0)
    assert sorted(np.concatenate([test for _, test in cv]).tolist()) == list(range(1000))
    for _, test in cv:
        assert abs(y[test].mean() - y.mean()) < 0.01


def test_a_challenger_decisively_ahead_is_grown_alone():
    """Before the last rung, a challenger whose paired lead over the reference, less the reference's own
    climb from the rung before, is still clear wins without the reference's full-size forests."""
    from atauly.model.select import decided

    folds4 = np.array([0.70, 0.72, 0.71, 0.69])
    at_rung = {(0, 0): folds4 - 0.02, (0, 1): folds4, (5, 0): folds4 + 0.03, (5, 1): folds4 + 0.07}
    at_rung[5, 1] = at_rung[5, 1] + np.array([0.001, -0.001, 0.0, 0.0])  # some spread
    assert decided(at_rung, [0, 5], 1, 7) == 5  # lead 0.07, climb 0.02: clear
    climbing = at_rung | {(0, 0): folds4 - 0.069}  # the reference climbed by as much as the lead
    assert decided(climbing, [0, 5], 1, 7) is None
    noisy = at_rung | {(5, 1): folds4 + np.array([0.2, -0.1, 0.15, -0.05])}  # a lead within the noise
    assert decided(noisy, [0, 5], 1, 7) is None
    assert decided(at_rung, [5], 1, 7) is None and decided(at_rung, [0, 5], 0, 7) is None


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_deciding_early_chooses_what_the_last_rung_would(monkeypatch):
    """A smooth signal in noisy labels: forests of larger leaves win by far, decided before the last rung;
    the choice and its out-of-fold probabilities are those of growing the reference to the end too."""
    from atauly.model import select

    rng = np.random.default_rng(7)
    n = 1000
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    y = rng.random(n) < 1 / (1 + np.exp(-1.5 * X["x0"].to_numpy()))
    config = TrainConfig(n_jobs=1, seed=0)

    def make(params, trees):
        return forest(list(X.columns), [], trees, None, config, **params)

    cv = folds(y, np.arange(n), 4, 0)
    early, table, oof = search(make, X, y, cv, 8, 0, trees=48)
    monkeypatch.setattr(select, "DECIDE_EARLY", False)
    late, late_table, late_oof = search(make, X, y, cv, 8, 0, trees=48)
    assert rungs(8, 48) == [(8, 8), (3, 16), (2, 48)]
    assert table[0]["rung"] == 2 and late_table[0]["rung"] == 3  # the reference stopped at 16 trees
    assert early == late and early["min_samples_leaf"] > 1
    np.testing.assert_allclose(oof, late_oof, rtol=0, atol=1e-12)
    winner = next(r for r in table if r["chosen"])
    assert winner["rung"] == 3 and winner["rung_trees"] == 48 and winner["vs_reference"] > 0.02
