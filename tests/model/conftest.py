"""Shared fixtures: a small generated registry with history, a quick training configuration, and a
bring-your-own-data table with categorical and missing values and households."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atauly.law.compute import compute
from atauly.model import ModelStore, TrainConfig, load_applications
from atauly.registry.synthetic import generate


def quick_config(**changes) -> TrainConfig:
    base = dict(trees=(10, 20), depths=(6, 10), search_rows=4000, n_boot=30, fairness_boot=20, n_jobs=1)
    return TrainConfig(**(base | changes))


@pytest.fixture(scope="session")
def small_registry(tmp_path_factory):
    out = tmp_path_factory.mktemp("model-registry") / "registry"
    generate(0.01, 5, out, law=compute)
    return out


@pytest.fixture(scope="session")
def applications(small_registry):
    return load_applications(small_registry)


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models")


def byod_frame(n_households: int = 900, seed: int = 3) -> pd.DataFrame:
    """Households of 1–4 rows (a loan-default-like table): numbers, categories, missing values, 20% positive."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, n_households)
    hh = np.repeat(np.arange(n_households), sizes)
    n = len(hh)
    income = rng.lognormal(10, 0.6, n)
    region = rng.choice(["north", "south", "east", "west"], n)
    job = rng.choice(["farmer", "teacher", "driver", "none", None], n, p=[0.25, 0.2, 0.2, 0.25, 0.1])
    hh_effect = rng.normal(0, 0.5, n_households)[hh]
    logit = -1.5 - 4.0 * (np.log(income) - 10) + 2.5 * (job == "none") + 1.0 * (region == "south") + hh_effect
    target = rng.random(n) < 1 / (1 + np.exp(-logit))
    income[rng.random(n) < 0.1] = np.nan  # missing values
    return pd.DataFrame(
        {
            "row_id": [f"r{i}" for i in range(n)],
            "household": [f"h{h}" for h in hh],
            "income": income,
            "region": region,
            "job": job,
            "children": rng.poisson(1.5, n),
            "sex": rng.choice(["M", "F"], n),
            "leak": target.astype(int),  # the answer itself: must be dropped with --drop
            "needy": np.where(target, "yes", "no"),
        }
    )
