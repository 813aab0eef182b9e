"""Reasons stored as codes (issue 17): the casework engine stores each reason's feature, value and
contribution and words them when shown; the words are those the engine wrote before in every language, and
a recommendation stored as sentences per language still reads as it was stored."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from atauly.i18n import LANGUAGES
from atauly.model.explain import chosen_reasons, coded_reasons, plain_value, top_reasons
from atauly.model.features import FEATURE_NAMES, FEATURES

NAMES = list(FEATURE_NAMES)


def _row() -> pd.Series:
    values = {f.name: (2.0 if f.kind == "numeric" else "none") for f in FEATURES}
    values["settlement_type"] = "rural"
    values["income_to_line"] = 0.625
    values["children"] = np.int64(3)
    values["single_parent"] = np.nan  # not known
    return pd.Series(values, dtype=object)


def test_coded_reasons_are_worded_as_the_engine_worded_them():
    contributions = np.linspace(-0.05, 0.05, len(NAMES))
    for k, name in enumerate(("income_to_line", "children", "single_parent", "settlement_type")):
        contributions[NAMES.index(name)] = 0.3 - 0.05 * k * (-1) ** k
    row = _row()
    chosen = chosen_reasons(contributions, NAMES, 5, True, 3)
    stored = {
        "contract": True,
        "codes": [
            {
                "feature": NAMES[j],
                "value": plain_value(row[NAMES[j]]),
                "contribution": float(contributions[j]),
            }
            for j in chosen
        ],
    }
    stored = json.loads(json.dumps(stored))  # as the database gives it back
    for lang in LANGUAGES:
        before = top_reasons(row, contributions, NAMES, lang, 5, True, 3)
        shown = coded_reasons(stored, lang)
        assert [r["text"] for r in shown] == [r.line for r in before]
        assert [r["feature"] for r in shown] == [r.feature for r in before]
        assert [r["contribution"] for r in shown] == [r.contribution for r in before]
    assert coded_reasons(stored, "de") == []


def test_reasons_stored_as_sentences_read_as_stored():
    old = {lang: [{"feature": "children", "contribution": 0.1, "text": f"+ {lang}"}] for lang in LANGUAGES}
    assert coded_reasons(old, "kk") == old["kk"]
    assert coded_reasons(old, "de") == []
    assert coded_reasons({}, "ru") == [] and coded_reasons(None, "ru") == []
