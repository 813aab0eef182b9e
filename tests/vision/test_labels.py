"""ImageNet class names shown to officers are in their language: curated for the classes the inventory
shows, a generic localized label for any other (never an English class name in ru or kk)."""

import re

import pytest

from atauly.i18n import catalog
from atauly.vision.inventory import SHOWN_CLASSES, class_names, label_text

LATIN = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_class_the_inventory_shows_has_a_curated_name(lang):
    assert len(SHOWN_CLASSES) > 60 and SHOWN_CLASSES <= set(class_names())
    for name in SHOWN_CLASSES:
        assert f"imagenet|{name}" in catalog(lang), (lang, name)
        text = label_text(name, lang)
        if lang == "en":
            assert text == name
        else:  # no English word left (brand names of two letters, like CD, are kept)
            assert not LATIN.search(text.replace("iPod", "")), (lang, name, text)


def test_a_class_without_a_curated_name_gets_a_generic_label():
    other = next(n for n in class_names() if n not in SHOWN_CLASSES)
    assert label_text(other, "ru") == "предмет, распознанный моделью"
    assert label_text(other, "kk") == "модель таныған зат"
    assert label_text(other, "en") == other
    assert label_text("pickup truck", "ru") == "пикап" and label_text("yurt", "kk") == "киіз үй"
