"""The home-inspection act's dwelling columns (data contract, optional) as Stage 1 features only where
present: a registry without them gives the same features as before, one with them adds them, a model
trained without them reads its own columns, one trained with them reads a missing value as unknown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

import atauly.registry
from atauly.law.compute import compute
from atauly.model.data import prepare
from atauly.model.estimators import tree_preprocessor
from atauly.model.features import (
    CATEGORICAL,
    DWELLING_NAMES,
    FEATURE_NAMES,
    family_features,
    feature_columns,
)
from atauly.registry import load_registry
from atauly.registry.codes import DWELLING_CODES
from atauly.registry.validate import validate

SAMPLE = Path(atauly.registry.__file__).parent / "sample"
Q = "2025Q3"


@pytest.fixture(scope="module")
def sample():
    reg, _ = load_registry(SAMPLE)
    return reg, compute(reg, Q)


def _with_dwelling(reg, **columns):
    """The same registry with dwelling columns in the families table, validated again (the contract)."""
    fam = reg.families.copy()
    for name, values in columns.items():
        fam[name] = values
    families, persons, incomes, report = validate(fam, reg.persons, reg.incomes)
    assert report.ok, report.problems
    return atauly.registry.Registry(families, persons, incomes)


def test_the_contract_has_the_acts_dwelling_columns_optional_and_coded(sample):
    from atauly.registry.schema import FAMILIES
    from atauly.service.inspection import ITEMS

    for name, codes in DWELLING_CODES.items():
        column = FAMILIES.column(name)
        assert not column.required and column.nullable and column.allowed == codes
        assert set(ITEMS[name][1]) == set(codes), f"the act's {name} answers and the contract's codes differ"
    reg, _ = sample
    n = len(reg.families)
    bad = reg.families.assign(heating=["nuclear"] + [None] * (n - 1))
    problems = validate(bad, reg.persons, reg.incomes)[3].problems
    assert problems[["column", "rule"]].values.tolist() == [["heating", "unknown_code"]]


def test_dwelling_features_only_where_present(sample):
    reg, law = sample
    start = pd.Timestamp("2025-07-01")
    plain = family_features(reg, law, start)
    assert list(plain.columns) == list(FEATURE_NAMES)  # validated: the columns exist, all empty
    assert feature_columns(plain)[1] == list(CATEGORICAL)
    n = len(reg.families)
    heating = ["stove_coal", "central"] + [None] * (n - 2)
    seen = family_features(_with_dwelling(reg, heating=heating), law, start)
    assert [c for c in seen.columns if c in DWELLING_NAMES] == ["heating"]
    assert list(seen["heating"][:2]) == ["stove_coal", "central"] and pd.isna(seen["heating"][2:]).all()
    numeric, categorical = feature_columns(seen)
    assert categorical == [*CATEGORICAL, "heating"] and "heating" not in numeric
    pd.testing.assert_frame_equal(seen[list(FEATURE_NAMES)], plain)  # nothing else changes
    asked = family_features(reg, law, start, include=["water", "settlement_type"])
    assert asked["water"].isna().all() and "heating" not in asked


def test_models_with_and_without_dwelling_features_score_both_kinds_of_data(sample):
    reg, law = sample
    start = pd.Timestamp("2025-07-01")
    n = len(reg.families)
    rng = np.random.default_rng(0)
    water = rng.choice(["piped_inside", "well", "delivered"], n).tolist()
    with_act = family_features(_with_dwelling(reg, water=water), law, start)
    without = family_features(reg, law, start)
    y = np.arange(n) % 2 == 0

    def fit(frame):
        numeric, categorical = feature_columns(frame)
        model = Pipeline(
            [
                ("prep", tree_preprocessor(numeric, categorical)),
                ("forest", RandomForestClassifier(n_estimators=5, random_state=0)),
            ]
        ).fit(prepare(frame, numeric, categorical), y)
        return model, numeric, categorical

    old, old_num, old_cat = fit(without)  # trained before any act: its own columns only
    assert "water" not in old_cat
    p = old.predict_proba(prepare(with_act, old_num, old_cat))[:, 1]
    assert np.array_equal(p, old.predict_proba(prepare(without, old_num, old_cat))[:, 1])

    new, new_num, new_cat = fit(with_act)
    assert "water" in new_cat
    unknown = family_features(reg, law, start, include=new_cat)  # no family inspected: water unknown
    assert unknown["water"].isna().all()
    q = new.predict_proba(prepare(unknown, new_num, new_cat))[:, 1]
    assert q.shape == (n,) and np.isfinite(q).all()


def test_a_dwelling_reason_is_said_in_words_in_each_language():
    from atauly.i18n import Translator
    from atauly.model.explain import reason_text

    assert reason_text("heating", "stove_coal", Translator("en")) == "Heating: stove, coal"
    ru = reason_text("heating", "stove_coal", Translator("ru"))
    kk = reason_text("sanitation", "outdoor", Translator("kk"))
    for text in (ru, kk):
        assert "stove_coal" not in text and "outdoor" not in text and "Heating" not in text
    # an unexpected code is shown as itself, never hidden
    assert reason_text("water", "canal", Translator("en")) == "Water: canal"
