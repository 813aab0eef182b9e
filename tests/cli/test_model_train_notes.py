"""The scan's training notes (atauly.model.verified) are said in the user's language on the console."""

from __future__ import annotations

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
