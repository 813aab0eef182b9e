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


# -- codes: what the training stores beside the English (model.phrases) --------------------------------
def _gates_and_comparisons():
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.4
    forest = np.clip(y * 0.5 + rng.random(300) * 0.5, 0, 1)
    rival = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    groups = np.arange(300)
    comps = [
        gates.compare(
            y, groups, (forest, forest >= 0.5), {"logistic_regression": (rival, rival >= 0.5)}, 30, 0
        ),
        gates.compare(
            y, groups, (rival, rival >= 0.5), {"gradient_boosting": (forest, forest >= 0.5)}, 30, 0
        ),
    ]
    out = []
    for comp in comps:
        out.append(
            gates.quality_gate(
                {"roc_auc": 0.81, "balanced_accuracy": 0.7}, {"roc_auc": (0.75, 0.86)}, comp, 0.9, 0.8
            )
        )
        out.append(
            gates.quality_gate(
                {"roc_auc": 0.52, "balanced_accuracy": 0.5}, {"roc_auc": (0.45, 0.6)}, comp, 0.5
            )
        )
    return comps, out


def test_the_training_stores_a_code_for_every_sentence_a_reader_is_shown():
    """The gate's checks, the verdict and each threshold policy carry codes the catalogs know; they survive
    JSON (that is how metrics.json keeps them) and are worded from the code, not from the English."""
    import json

    from atauly.model.wording import CODED

    comps, gate_list = _gates_and_comparisons()
    stored = [json.loads(json.dumps(g)) for g in gate_list] + [json.loads(json.dumps(c)) for c in comps]
    for record in stored:
        key = "reason" if "reason" in record else "verdict"
        code = record[key + "_code"]
        assert code, record
        for item in code if isinstance(code, list) else [code]:
            assert item["code"] in CODED
        for w in (RU, KK):
            said = w.said(record, key)
            assert said and not _english_left(said), said
            # the English is not what was read: a reader given nonsense English still says the same
            assert w.said({**record, key: "nonsense"}, key) == said
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.3
    prob = np.clip(y * 0.4 + rng.random(200) * 0.6, 0, 1)
    for policy, value in (
        ("fixed", None),
        ("exclusion", 0.1),
        ("coverage", None),
        ("budget", 40),
        ("balanced", None),
    ):
        _t, text, _details = threshold.choose(y, prob, policy, value)
        from atauly.model.phrases import record as record_of

        code = json.loads(json.dumps(record_of(text)))
        assert code["code"] == "policy." + ("base_rate" if policy == "coverage" else policy)
        for w in (RU, KK, EN):
            # the same words as from the English of old (a share without a trailing zero: 10%, not 10,0%)
            assert w.stored("", code) == re.sub(r"[.,]0%", "%", w.stored(text))


def test_coded_figures_are_formatted_for_the_language():
    code = [
        {"code": "gate.better_than_chance", "auc": 0.8123, "lo": 0.7501, "hi": 0.86},
        {"code": "gate.auc_floor_met", "floor": 0.6},
    ]
    assert RU.stored("", code) == RU.t(
        "better than chance (ROC-AUC {auc}, 95% interval [{lo}; {hi}])", auc="0,812", lo="0,750", hi="0,860"
    ) + "; " + RU.t("ROC-AUC of at least {floor}", floor="0,6")
    assert "0.812" in EN.stored("", code) and "0,812" in KK.stored("", code)
    # a difference is signed, a missing one is "n/a", and the interval is left out when there is none
    said = RU.stored("", {"code": "truth.equal_coverage", "where": "synthetic", "value": None, "lo": None})
    assert "[" not in said and RU.t("n/a") in said and not _english_left(said)
    said = KK.stored(
        "", {"code": "truth.equal_coverage", "where": "verification", "value": 0.02, "lo": -0.01, "hi": 0.05}
    )
    assert "+0,020 [−0,010; +0,050]" in said
    # a period in words, a share as a percentage
    assert RU.period("2026Q4") in RU.stored(
        "", {"code": "split.time_grouped", "test": "2026Q4", "share": 0.2}
    )
    assert "20%" in KK.stored("", {"code": "split.random", "share": 0.2})


@given(
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
)
def test_a_coded_gate_reason_reads_back_its_own_figures(auc, lo, hi):
    """Whatever the figures, ru and kk say them with a decimal comma, to three places, in the stored order."""
    code = {"code": "gate.better_than_chance", "auc": auc, "lo": lo, "hi": hi}
    for w in (RU, KK):
        said = w.stored("", code)
        figures = re.findall(r"\d+,\d{3}", said)
        assert len(figures) == 3
        # to three places (a tie such as 0.0005 may round either way: Babel rounds the decimal text half-even)
        assert all(abs(_back(f) - v) <= 0.0005 + 1e-9 for f, v in zip(figures, (auc, lo, hi), strict=True))


def test_records_of_older_models_are_still_said_from_their_english():
    """A model stored before the codes (no ``*_code`` key) or with a code this version does not know is said
    from its English as before."""
    old = {"reason": "ROC-AUC interval [0.450, 0.600] includes chance (0.5); ROC-AUC 0.520 < 0.6"}
    for w in (RU, KK):
        said = w.said(old, "reason")
        assert "0,450" in said and "0,6" in said and not _english_left(said)
    newer = {
        "policy": "fixed threshold on the calibrated probability",
        "policy_code": {"code": "policy.future"},
    }
    assert RU.said(newer, "policy") == RU.stored(newer["policy"]) != newer["policy"]
    assert RU.said({}, "calibration", "on held-out families") == RU.t("on held-out families")
