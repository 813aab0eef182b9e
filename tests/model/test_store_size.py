"""A calibrated forest is stored once, not twice (issue 16: storing took 2 CPU s of a few seconds'
training), and loads as it was trained; models stored the old way still load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from atauly.model import ModelStore, TrainConfig
from atauly.model import store as store_module
from atauly.model.estimators import forest


def _calibrated():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400), "c": rng.choice(["x", "y"], 400)})
    y = (X["a"] + rng.normal(scale=0.5, size=400) > 0).to_numpy()
    pipe = forest(["a", "b"], ["c"], 20, None, TrainConfig(n_jobs=1)).fit(X, y)
    return CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid").fit(X, y), X


@pytest.mark.parametrize("old_format", [False, True])
def test_a_calibrated_forest_is_written_once_and_loads_as_trained(tmp_path, monkeypatch, old_format):
    model, X = _calibrated()
    expected = model.predict_proba(X)
    if old_format:  # as models were stored before: the forest twice
        monkeypatch.setattr(store_module, "_without_duplicate", lambda estimator: estimator)
    store = ModelStore(tmp_path / "models")
    stored = store.save("m", model, {"quality_gate": {"passed": True}})
    assert model.estimator is model.calibrated_classifiers_[0].estimator  # the caller's model untouched
    loaded = store.load("m@v1").estimator
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.estimator is not None
    np.testing.assert_array_equal(loaded.estimator.predict_proba(X), model.estimator.predict_proba(X))
    size = (stored.path / "model.skops").stat().st_size
    if not old_format:
        assert loaded.estimator is loaded.calibrated_classifiers_[0].estimator
        monkeypatch.setattr(store_module, "_without_duplicate", lambda estimator: estimator)
        twice = store.save("m", model, {"quality_gate": {"passed": True}})
        assert size < 0.6 * (twice.path / "model.skops").stat().st_size
