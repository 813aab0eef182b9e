"""Code labels (atauly.registry.labels): one label for every code the contract, the law and the casework
use — no more, no fewer — each translated into Russian and Kazakh."""

from __future__ import annotations

import pytest

from atauly.i18n import catalog
from atauly.registry import codes, labels, wellbeing
from atauly.service import casework, models


def test_every_code_of_the_data_contract_has_exactly_one_label():
    pairs = [
        (codes.ROLES, labels.MEMBER_ROLES),
        (codes.SEXES, labels.SEXES),
        (codes.SETTLEMENT_TYPES, labels.SETTLEMENT_TYPES),
        (codes.EMPLOYMENT_STATUSES, labels.EMPLOYMENT_STATUSES),
        (codes.EDUCATION_LEVELS, labels.EDUCATION_LEVELS),
        (codes.INCOME_SOURCES, labels.INCOME_SOURCES),
    ]
    for contract, labelled in pairs:
        assert list(labelled) == list(contract)
    assert tuple(labels.WELLBEING_LEVELS) == wellbeing.LEVELS


def test_every_code_of_the_casework_has_exactly_one_label():
    assert list(labels.USER_ROLES) == list(models.ROLES)
    assert set(labels.APPLICATION_STATUSES) == set(models.OPEN_STATES) | set(models.DECIDED_STATES)
    assert list(labels.OUTCOMES) == list(models.OUTCOMES)
    assert tuple(labels.CORRECTABLE_FIELDS) == casework.CORRECTABLE


def test_every_ground_for_refusal_of_the_law_has_a_label_and_a_plain_sentence():
    from atauly.law.system import tax_benefit_system

    grounds = {v.name for v in tax_benefit_system().variables["refusal_reason"].possible_values} - {"none"}
    assert set(labels.REFUSAL_REASONS) == grounds
    assert set(labels.REFUSAL_REASONS_PLAIN) == grounds
    assert set(labels.REFUSAL_REASONS_SHORT) == grounds


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_label_is_translated(lang):
    messages = catalog(lang)
    missing = [
        (kind, code) for kind, table in labels.KINDS.items() for code, m in table.items() if m not in messages
    ]
    assert not missing


def test_label_translates_fills_and_never_hides_an_unknown_code():
    assert labels.label("employment", "pensioner", "ru") == catalog("ru")["Pensioner"]
    assert (
        labels.label("override_reason", "assets_found", "en") == "Assets found that the records do not show"
    )
    text = labels.label("refusal_plain", "refused_employment_measures", "en", months=6)
    assert "less than 6 months ago" in text
    assert labels.label("employment", "astronaut", "kk") == "astronaut"  # shown as it is, not dropped
    assert labels.label("status", None, "ru") == ""
    with pytest.raises(KeyError):
        labels.label("no such kind", "x")


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_a_label_inside_a_sentence_changes_case_only(lang):
    for kind in ("member_role", "employment"):
        for code in labels.KINDS[kind]:
            alone, inside = labels.label(kind, code, lang), labels.label_in_sentence(kind, code, lang)
            assert inside.lower() == alone.lower()
            assert inside[:1] == inside[:1].lower()
    assert labels.label_in_sentence("member_role", "other", "en") == "other relative"
