"""The sources of the law's figures as the sources page shows them (issue 20): each parameter in words with its
code beside it, yes/no values in words, periods apart, nothing of a line lost."""

from __future__ import annotations

import pytest

from atauly.i18n import Translator
from atauly.registry.labels import INCOME_SOURCES
from atauly.service.web.application import PARAMETERS, source_rows


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_parameters_and_their_values_are_said_in_words(lang):
    tr = Translator(lang)
    lines = [
        "poverty_line.share_of_subsistence_minimum = 70% — Fact sheet §1.2",
        "income.excluded.scholarship = true — enbek.gov.kz 362357",
        "subsistence_minimum.budget_value_at_application = false — order 160",
        "median_income.national (2025Q2) = 63 000 ₸ — National Bank",
        "something the law wrote otherwise",
    ]
    rows = source_rows(lines, tr)
    assert [r["code"] for r in rows[:4]] == [
        "poverty_line.share_of_subsistence_minimum",
        "income.excluded.scholarship",
        "subsistence_minimum.budget_value_at_application",
        "median_income.national",
    ]
    assert rows[0]["name"] == tr(PARAMETERS["poverty_line.share_of_subsistence_minimum"])
    assert tr(INCOME_SOURCES["scholarship"]) in rows[1]["name"]
    assert (rows[1]["value"], rows[2]["value"]) == (tr("Yes"), tr("No"))
    assert rows[3]["period"] == "2025Q2" and rows[3]["value"] == "63 000 ₸"
    assert rows[0]["ref"] == "Fact sheet §1.2"
    assert rows[4]["ref"] == "something the law wrote otherwise" and not rows[4]["code"]
    if lang != "en":  # every name has a translation
        for message in PARAMETERS.values():
            assert tr(message) != message, message


def test_every_parameter_the_law_cites_has_a_name_in_words():
    """The names law.explain passes to ``case.use`` (read from its source) are all in PARAMETERS (or are
    the excluded incomes, named by their source)."""
    import re
    from pathlib import Path

    import atauly.law.explain as explain

    text = "".join(p.read_text() for p in Path(explain.__file__).parent.glob("*.py"))
    names = set(re.findall(r'case\.use\(\s*f?"([a-z_]+\.[a-z_.]+)', text))
    names |= {f"subsistence_minimum.{n}" for n in ("bns_national", "bns_regional", "budget")}
    names |= {f"median_income.{n}" for n in ("national", "regional")}
    assert names and all(n in PARAMETERS or n.startswith("income.excluded.") for n in names), names - set(
        PARAMETERS
    )
