"""The scan's reasons for the officer in kk, ru and en, from the codes candidates/ keeps beside the English."""

from __future__ import annotations

import pytest

from atauly.screening.wording import OFFER_REASONS, REASONS, offer_reason_text, reason_text

ROW = {
    "reason": "entitled by law: per-capita income 34% below the poverty line",
    "reason_code": "by_law",
    "refusal_reason": "",
    "need_gap": 0.34,
    "probability": 0.12,
    "probability_entitled": 0.55,
    "rank": 1,
    "capacity": 4,
    "offer_code": "offered",
    "offer_reason": "offered: probability truly entitled 0.55 (rank 1 of capacity 4)",
    "visit_entitled_quarter": "",
}


def test_the_english_wording_is_the_stored_english():
    """The codes and figures reproduce the English the scan stores (partition._reasons/_offer_reasons)."""
    assert reason_text(ROW, "en") == ROW["reason"]
    assert offer_reason_text(ROW, "en") == ROW["offer_reason"]
    low = {**ROW, "offer_code": "below_minimum", "probability_entitled": 0.3}
    assert offer_reason_text(low, "en", 0.5).startswith(
        "not offered: probability truly entitled 0.30 below the minimum 0.50"
    )


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_reason_is_translated(lang):
    visited = {
        **ROW,
        "reason_code": "visit",
        "refusal_reason": "income_above_poverty_line",
        "visit_entitled_quarter": "2025Q1",
        "offer_code": "below_minimum",
    }
    for code in REASONS:
        row = {**visited, "reason_code": code}
        text = reason_text(row, lang)
        assert text != reason_text(row, "en") and "{" not in text
    for code in OFFER_REASONS:
        text = offer_reason_text({**visited, "offer_code": code}, lang, 0.5)
        assert text != offer_reason_text({**visited, "offer_code": code}, "en", 0.5) and "{" not in text
        # the earlier visit's quarter is said in words, as every page writes periods
        assert "2025Q1" not in text and (
            "I квартал 2025 г." in text if lang == "ru" else "2025 ж. I тоқсан" in text
        )
    assert "34%" in reason_text(ROW, lang)
    assert "кедейлік" in reason_text(ROW, "kk") and "черты бедности" in reason_text(ROW, "ru")
    refused = reason_text({**visited, "reason_code": "by_model"}, lang)
    assert (
        "0,12" in refused and "income" not in refused
    )  # the law's ground in the language, the decimal comma


def test_a_row_without_codes_keeps_its_english():
    old = {"reason": "entitled by law: …", "offer_reason": "offered: …"}
    assert reason_text(old, "kk") == "entitled by law: …" and offer_reason_text(old, "ru") == "offered: …"
