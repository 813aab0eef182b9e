from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from atauly.i18n import Translator, catalog
from atauly.law.explain import explain, openfisca_trace
from atauly.registry import load_registry
from factories import family, person, quarter_incomes, registry

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "atauly" / "registry" / "sample"


def test_issue_example_in_english():
    reg = registry(
        [
            family(
                "X",
                [
                    person(
                        "applicant",
                        "M",
                        "1990-01-01",
                        "employee",
                        incomes=quarter_incomes("wages", 85200, ("2025-10", "2025-11", "2025-12")),
                    ),
                    person("spouse", "F", "1992-01-01"),
                    person("child", born="2012-01-01"),
                ],
                region="110000000",
            )
        ]
    )
    # The issue's example line 32,360 is 70% of the 2025 budget SM (a YAML case reproduces it); in 2026Q1
    # the law uses the Q4 2025 BNS value instead: 41,169.
    text = explain(reg, "X", "2026Q1", "en").text()
    assert "Per-capita income 28,400 ₸ = 255,600 ₸ ÷ 3 members ÷ 3 months" in text
    assert "≤ poverty line 41,169 ₸ → the income test is met" in text
    assert "(41,169 ₸ − 28,400 ₸) × 3 = 38,307 ₸ a month" in text


@pytest.mark.parametrize(
    "lang,words",
    [
        ("ru", ["Среднедушевой доход", "Черта бедности", "Обусловленная"]),
        ("kk", ["Жан басына", "Кедейлік шегі", "Шартты көмек"]),
        ("en", ["Per-capita income", "Poverty line", "Conditional assistance"]),
    ],
)
def test_three_languages(lang, words):
    reg, _ = load_registry(SAMPLE)
    text = explain(reg, "F01", "2025Q3", lang).text()
    for w in words:
        assert w in text
    assert "106" in text and "730" in text  # the amount, whatever the digit grouping
    assert "Order MLSP" in text  # legal references listed


def test_refusal_is_explained_with_its_rule():
    reg, _ = load_registry(SAMPLE)
    text = explain(reg, "F09", "2025Q3", "en").text()
    assert "refused employment measures less than 6 months ago (Art. 128 p.4)" in text
    assert "sanctions.months = 6" in text


def test_catalogs_translate_every_message_in_the_code():
    src = Path(__file__).resolve().parents[2] / "src" / "atauly"
    found = {
        message
        for _, _, message, *_ in extract_from_dir(
            src, [("**.py", "python")], keywords={"t": None, "N_": None}
        )
    }
    assert len(found) > 40
    for lang in ("ru", "kk"):
        missing = found - set(catalog(lang))
        assert not missing, (lang, sorted(missing)[:5])


def test_formatting_by_locale():
    assert Translator("en").money(28400) == "28,400 ₸"
    assert Translator("en").money(28400.0, 2) == "28,400 ₸"
    assert Translator("en").money(20923.666, 2) == "20,923.67 ₸"
    assert Translator("ru").money(28400).replace("\xa0", " ") == "28 400 ₸"


def test_unknown_family_and_language():
    reg, _ = load_registry(SAMPLE)
    with pytest.raises(KeyError):
        explain(reg, "NOPE", "2025Q3")
    with pytest.raises(ValueError):
        Translator("de")


def test_openfisca_trace_lists_variables():
    reg, _ = load_registry(SAMPLE)
    lines = openfisca_trace(reg, "F01", "2025Q3")
    assert any(line.strip().startswith("poverty_line<2025-07>") for line in lines)
