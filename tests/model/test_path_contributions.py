"""Path contributions of a few rows from each tree's leaf (``PathContributions.of_float32``) are those of
the trees' stacked ``decision_path`` to the bit, on deep unbalanced trees too, and with the paths left out
(``PATHS_LIMIT``) the decision paths are asked for."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import atauly.model.explain as explain


@pytest.mark.parametrize("depth", [None, 3])
def test_leaf_paths_give_the_decision_paths_contributions(depth, monkeypatch):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(600, 6))
    X[:, 2] = rng.integers(-1, 4, 600)  # ordinal codes, with -1 for missing
    y = (X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.8, size=600) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=12, max_depth=depth, min_samples_leaf=1, random_state=0)
    forest.fit(X.astype(np.float32), y)
    rows = np.ascontiguousarray(rng.normal(size=(9, 6)), dtype=np.float32)
    rows[:, 2] = rng.integers(-1, 4, 9)

    contributions = explain.PathContributions(forest, X.shape[1])
    plain = contributions(rows.astype(np.float64))  # each tree's decision_path, stacked
    fast = contributions.of_float32(rows)
    assert fast.dtype == plain.dtype and np.array_equal(fast, plain)
    assert np.array_equal(contributions.of_float32(rows[:1]), plain[:1])
    raw = contributions.bias + fast.sum(axis=1)
    assert np.allclose(raw, forest.predict_proba(rows)[:, 1], atol=1e-12)

    monkeypatch.setattr(explain, "PATHS_LIMIT", 0)
    limited = explain.PathContributions(forest, X.shape[1])
    assert limited._leaf_paths() is None
    assert np.array_equal(limited.of_float32(rows), plain)
