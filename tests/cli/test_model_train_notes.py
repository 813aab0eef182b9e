"""The scan's training notes (atauly.model.verified) are said in the user's language on the console."""

from __future__ import annotations

import re

import pytest

from atauly.cli.model_train import note_words
from atauly.model.wording import Words

NOTES = [
    "305 verified families that applied that quarter left out",
    "labels: the verification sample (5,106 verified family-quarters, 8 quarters, 54 entitled), features from "
    "today's recorded view under each row's quarter's law",
    "sample design: 2,334 drawn at random, the rest from the stratum where records show income below the line "
    "(drawn on records alone: P(entitled | records) stays unbiased)",
]


WORDS = {"ru": ("провер", "провер", "выборк"), "kk": ("тексер", "тексер", "іріктеме")}


@pytest.mark.parametrize("k", range(len(NOTES)))
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_scan_training_notes_are_translated_with_their_numbers(k, lang):
    note, word = NOTES[k], WORDS[lang][k]
    said = note_words(note, Words(lang))
    assert word in said.lower() and "verified" not in said and "drawn at random" not in said
    assert "5,106" not in said and "2,334" not in said  # numbers written for the language


def test_the_notes_stay_english_in_english():
    assert note_words(NOTES[0], Words("en")) == NOTES[0]


#: Notes of a user's table and of the scan's training data that hold "; " (matched whole, not split).
WHOLE = [
    "column 'ethnicity' looks like a protected attribute or an identifier and is used as a feature; pass it to "
    "--audit (fairness only) or --drop",
    "the verification sample holds 8 entitled families that did not apply (fewer than 30): too few to train the "
    "scan's model on it; trained on officers' decisions instead (not calibrated on the population; --labels "
    "verified forces it)",
    "12 rows without a target value were left out of training",
]


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_report_says_the_notes_as_the_console_does(lang):
    """The notes are stored with the metrics and the model's report says them (Words.stored): in the language,
    whole, with the console's words (they were English in a Russian or Kazakh report)."""
    w = Words(lang)
    for note in NOTES + WHOLE:
        said = w.stored(note)
        assert said == note_words(note, w)
        assert not re.search(r"\b(rows|families|column|verification|sample|drawn)\b", said), said
    assert "'ethnicity'" in w.stored(WHOLE[0]) and "--audit" in w.stored(WHOLE[0])
