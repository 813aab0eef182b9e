"""The fairness part of the model report and card (issue 20): charts that show data, small groups flagged
with a caveat in every language."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from atauly.model.card import _card_fairness
from atauly.model.report import MIN_GROUP_FAMILIES, fairness_chart, group_name, small_group, small_note
from atauly.model.wording import Words


def _row(group, families, exclusion, inclusion=0.1):
    return {
        "group": group,
        "families": families,
        "accuracy": 0.9,
        "exclusion_error": exclusion,
        "exclusion_error_lo": None if exclusion is None else max(exclusion - 0.1, 0),
        "exclusion_error_hi": None if exclusion is None else min(exclusion + 0.1, 1),
        "inclusion_error": inclusion,
        "selection_rate": 0.2,
    }


AUDIT = {
    "region": [_row("790000000", 500, 0.2)],
    "family_size": [_row("1-2", 4, None, None), _row("3-4", 300, 0.3), _row("7+", 40, 0.0, 0.0)],
}


def test_the_chart_shows_columns_with_two_groups_and_a_figure_and_none_without():
    png = fairness_chart(AUDIT, "true need", Words("kk"))
    assert png is not None and base64.b64decode(png).startswith(b"\x89PNG")
    assert fairness_chart({"region": AUDIT["region"]}, "labels") is None  # one group compares nothing
    assert fairness_chart({}, "labels") is None
    # Two groups without a single figure would be an empty plot: not drawn.
    assert fairness_chart({"size": [_row("a", 3, None, None), _row("b", 2, None, None)]}, "labels") is None


def test_small_groups_are_marked_with_a_caveat_in_the_card_in_each_language():
    notes = {lang: small_note(Words(lang)) for lang in ("ru", "kk", "en")}
    assert len(set(notes.values())) == 3 and all(str(MIN_GROUP_FAMILIES) in n for n in notes.values())
    for lang, note in notes.items():
        w = Words(lang)
        lines = "\n".join(_card_fairness({"vs_truth": AUDIT}, w))
        assert "| 1-2 † | 4 |" in lines and "| 3-4 | 300 |" in lines
        assert note in lines and w.t("One group only: nothing to compare.") in lines
        big = "\n".join(_card_fairness({"vs_truth": {"size": [_row("a", 100, 0.1), _row("b", 90, 0.2)]}}, w))
        assert note not in big
    kk = "\n".join(_card_fairness({"vs_truth": AUDIT}, Words("kk")))
    assert "Шымкент қаласы" in kk and "790000000" not in kk  # a region by its name, not its KATO code
    assert "топта 30 отбасыдан аз" in kk


@given(st.integers(min_value=0, max_value=10_000))
def test_a_group_is_small_exactly_below_the_minimum(n):
    row = _row("g", n, 0.1)
    assert small_group(row) is (n < MIN_GROUP_FAMILIES)
    assert group_name(row).endswith("†") is (n < MIN_GROUP_FAMILIES)


def test_the_card_html_says_its_language_and_its_tables_scroll_in_their_own_box():
    from atauly.model.card import model_card_html

    page = model_card_html("| a | b |\n|---|---|\n| 1 | 2 |\n", "t", "kk")
    assert '<html lang="kk">' in page and "<div class='scroll' tabindex='0'><table>" in page
    assert page.count("<div class='scroll'") == page.count("<table>") == 1
