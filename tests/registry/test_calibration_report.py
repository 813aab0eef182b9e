"""The calibration report in Kazakh, Russian and English with numbers formatted for the language
(issue 20)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from atauly.i18n import Translator
from atauly.registry.codes import REGIONS, region_name
from atauly.registry.synthetic.calibration_report import FIGURES, calibration_html, figure_label
from atauly.registry.wellbeing import LEVELS

REGION = REGIONS[0]


def _table() -> pd.DataFrame:
    rows = [
        ("national", "population", 19_876_543.0, 20_000_000.0, -0.0062, 0.05, True, True, "BNS 2025"),
        ("regional", f"poverty rate {REGION.key}", 0.0521, 0.05, 0.042, 0.25, True, True, "BNS"),
        ("regional", f"recipient share {REGION.name_en}", 0.031, 0.02, 0.55, 0.3, False, False, "MLSP"),
    ]
    cols = ["scope", "name", "generated", "target", "deviation", "tolerance", "headline", "ok", "source"]
    return pd.DataFrame(rows, columns=cols)


def _html(lang: str) -> str:
    wellbeing = pd.DataFrame([[0.2] * len(LEVELS)], columns=list(LEVELS), index=[REGION.kato])
    gaps = {"truly_entitled_families": 1234, "missed_by_recorded": 56}
    result = {"registry": "var/reg", "scale": 0.02, "quarter": "2025Q3", "headline_ok": True}
    return calibration_html(_table(), gaps, wellbeing, result, lang)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_report_is_in_one_language_with_formatted_numbers(lang):
    t = Translator(lang)
    page = _html(lang)
    assert f'<html lang="{lang}">' in page
    assert t("Synthetic registry calibration") in page
    assert t.number(19_876_543) in page and t.number(0.0521, 3) in page  # e.g. «19 876 543», «0,052»
    assert figure_label(f"poverty rate {REGION.key}", t) == t(
        "Poverty rate: {region}", region=region_name(REGION.kato, lang)
    )
    assert region_name(REGION.kato, lang) in page
    assert page.count("<img") == 2
    if lang != "en":
        for english in (
            "population",
            "poverty rate",
            "recipient share",
            "truly_entitled_families",
            "headline",
        ):
            assert not re.search(rf">{english}\b", page), english


def test_every_known_figure_has_a_translation():
    for lang in ("ru", "kk"):
        t = Translator(lang)
        for message in FIGURES.values():
            assert t(message) != message, (lang, message)
    assert figure_label("something new", Translator("ru")) == "something new"


def _sources() -> set[str]:
    """Every source note the calibration writes: the targets' (targets.yaml) and the regions' figures."""
    from pathlib import Path

    import yaml

    from atauly.registry.synthetic import geography

    found = {s for r in geography.REGION_STATS for s in (r.population_source, r.poverty_source)}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                found.add(value) if key == "source" and isinstance(value, str) else walk(value)

    walk(yaml.safe_load((Path(geography.__file__).parent / "targets.yaml").read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_source_note_is_translated(lang):
    t = Translator(lang)
    sources = _sources()
    assert len(sources) > 20
    untranslated = sorted(s for s in sources if t(s) == s)
    assert not untranslated, untranslated


@pytest.mark.parametrize(("lang", "period"), [("ru", "III квартал 2025 г."), ("kk", "2025 ж. III тоқсан")])
def test_period_zero_and_tables_read_well(lang, period):
    page = _html(lang)
    assert period in page and "2025Q3" not in page
    assert Translator(lang)("BNS 2025") in page  # a note the catalogs do not know is shown as it is
    zero = _table().assign(deviation=[-0.0004, 0.042, 0.55])
    wellbeing = pd.DataFrame([[0.2] * len(LEVELS)], columns=list(LEVELS), index=[REGION.kato])
    result = {"registry": "r", "scale": 0.02, "quarter": "2025Q3", "headline_ok": True}
    out = calibration_html(zero, {}, wellbeing, result, lang)
    assert "-0%" not in out and "−0%" not in out and ">0%<" in out
    assert out.count("<div class=scroll tabindex=0 role=region") == 2
