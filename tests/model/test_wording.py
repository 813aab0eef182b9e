"""The model report's language (issue 20): numbers per locale, and the English the training stores (the
threshold policy, the quality gate's reasons, the comparison's verdict) said again in ru and kk."""

from __future__ import annotations

import re

import numpy as np
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from atauly.model import gate as gates
from atauly.model import threshold
from atauly.model.wording import Words

RU, KK, EN = Words("ru"), Words("kk"), Words("en")
#: English words the stored texts are made of: none may be left once they are said in ru or kk.
ENGLISH = re.compile(r"[A-Za-z]{3,}")
ALLOWED = {"ROC", "AUC", "isotonic", "sigmoid"}  # names, not words to translate


def _english_left(text: str) -> set[str]:
    return set(ENGLISH.findall(text)) - ALLOWED


def _back(text: str) -> float:
    """A figure as ru/kk print it, read back as a number."""
    return float(text.replace("\xa0", "").replace(" ", "").replace("−", "-").replace(",", "."))


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_a_figure_in_ru_and_kk_reads_back_as_the_same_number(value):
    for w in (RU, KK):
        text = w.x(value)
        assert "." not in text  # the decimal sign is a comma
        assert abs(_back(text) - round(value, 3)) < 1e-6
    assert abs(float(EN.x(value).replace(",", "")) - round(value, 3)) < 1e-6


@given(st.integers(min_value=0, max_value=10**9))
def test_counts_are_grouped_as_the_locale_groups_them(n):
    assert RU.n(n) == format_decimal(n, format="#,##0", locale="ru_RU")
    assert KK.n(n) == format_decimal(n, format="#,##0", locale="kk_KZ")
    assert EN.n(n) == f"{n:,}"


def test_intervals_keep_their_ends_apart_in_comma_languages():
    assert RU.ci(0.5, 0.25, 0.75) == "0,500 [0,250; 0,750]"
    assert EN.ci(0.5, 0.25, 0.75) == "0.500 [0.250, 0.750]"
    assert RU.pct(-0.5) == "−50%" and KK.pct(0.125) == "12,5%"


def test_periods_are_written_in_words():
    assert KK.period("2026Q4") == "2026 ж. IV тоқсан" and RU.period("2026Q4") == "IV квартал 2026 г."


def test_every_threshold_policy_is_said_in_ru_and_kk():
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.3
    prob = np.clip(y * 0.4 + rng.random(200) * 0.6, 0, 1)
    for policy, value in (
        ("fixed", None),
        ("exclusion", 0.1),
        ("coverage", None),
        ("coverage", 0.2),
        ("budget", 40),
        ("balanced", None),
    ):
        _t, text, _details = threshold.choose(y, prob, policy, value)
        for w in (RU, KK):
            said = w.stored(text)
            assert said != text and not _english_left(said), (policy, said)
        assert EN.stored(text)  # English is said in the report's own words too


def test_the_quality_gate_and_the_verdict_are_said_in_ru_and_kk():
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.4
    forest = np.clip(y * 0.5 + rng.random(300) * 0.5, 0, 1)
    rival = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    groups = np.arange(300)
    comparison = gates.compare(
        y, groups, (forest, forest >= 0.5), {"logistic_regression": (rival, rival >= 0.5)}, 30, 0
    )
    reversed_ = gates.compare(
        y, groups, (rival, rival >= 0.5), {"gradient_boosting": (forest, forest >= 0.5)}, 30, 0
    )
    for comp in (comparison, reversed_):
        for gate in (
            gates.quality_gate(
                {"roc_auc": 0.81, "balanced_accuracy": 0.7}, {"roc_auc": (0.75, 0.86)}, comp, 0.9, 0.8
            ),
            gates.quality_gate(
                {"roc_auc": 0.52, "balanced_accuracy": 0.5}, {"roc_auc": (0.45, 0.6)}, comp, 0.5
            ),
        ):
            for w in (RU, KK):
                said = w.stored(gate["reason"])
                assert not _english_left(said), said
                assert not re.search(r"\d\.\d", said), said  # decimal commas
        for w in (RU, KK):
            assert not _english_left(w.stored(comp["verdict"]))
