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


def _sample_text(family_id: str, lang: str = "en") -> str:
    reg, _ = load_registry(SAMPLE)
    return explain(reg, family_id, "2025Q3", lang).text()


def _main(text: str) -> str:
    return text.split("\n\n", 1)[0]


def test_members_with_role_age_status_and_supplement():
    main = _main(_sample_text("F01"))
    assert "Members on 8 Jul 2025: 5" in main
    assert "– applicant: 35 years, employee, able-bodied" in main
    assert "– spouse: 32 years, caring for a child under 3, able-bodied, exempt as a carer" in main
    assert main.count("earns the child supplement (aged 1–6)") == 2
    # The exempt carer is not counted among those taking part in employment measures.
    assert "Conditional assistance: 1 able-bodied member(s) take part" in main and "1 carer(s) exempt" in main


def test_refusal_names_the_person_and_the_dates():
    main = _main(_sample_text("F09"))
    assert "The applicant (33 years) refused employment measures on 20 May 2025" in main
    assert "no ASP from 20 May 2025 to 19 Nov 2025" in main


def test_asset_rule_says_what_it_rests_on_and_sources_come_last():
    text = _sample_text("F07")
    main, rest = text.split("\n\n", 1)
    assert "Motor vehicles owned: 1" in main
    legal, sources = rest.split("\n\n", 1)
    assert legal.startswith("Legal basis:") and "official statement" in legal
    assert sources.startswith("Sources, for checking")
    # Research provenance never in the main text or the legal basis.
    for marker in ("Fact sheet", "to be verified", "assets.vehicle_disqualifies", "[D]"):
        assert marker not in main and marker not in legal
    assert "assets.vehicle_disqualifies" in sources


def test_stale_inputs_and_zero_amount_at_the_line_are_explained():
    main = _main(_sample_text("F15"))
    assert "national subsistence minimum stands in for the regional one" in main
    assert "national median income 63,000 ₸ (value of 1 Jan 2022) stands in" in main
    assert "exactly at the poverty line: the family is entitled" in main


def test_unborn_person_is_listed_as_not_a_member_and_missing_income_flagged():
    reg = registry(
        [
            family(
                "U",
                [
                    person("applicant", "F", "1990-01-01", "caring_disabled"),
                    person("child", "M", "2025-08-15", disability=1),
                ],
                applied="2025-07-10",
            )
        ]
    )
    main = _main(explain(reg, "U", "2025Q3", "en").text())
    assert "Members on 10 Jul 2025: 1" in main
    assert "child, born 15 Aug 2025: not yet born on 10 Jul 2025, not a member" in main
    assert "no income record for this family in 2025-04…2025-06" in main
    assert "exempt as a carer" not in main


def test_budget_fallback_and_new_region_before_2022_are_flagged():
    reg = registry([family("A", [person()], region="100000000", applied="2021-02-03")])
    main = _main(explain(reg, "A", "2021Q1", "en").text())
    assert (
        "Abai Region was created on 8 June 2022; before that the values of East Kazakhstan Region apply"
        in main
    )
    assert "the budget-law value in force since 1 Jan 2021 is used" in main
