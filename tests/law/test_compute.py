import re
from pathlib import Path

import pandas as pd
import pytest

from atauly.law.compute import RESULT_COLUMNS, MissingIncomeError, check_income_coverage, compute
from atauly.law.simulation import Quarter
from atauly.registry import load_registry

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "atauly" / "registry" / "sample"


@pytest.fixture(scope="module")
def result():
    reg, report = load_registry(SAMPLE)
    assert report.ok
    return compute(reg, "2025Q3").set_index("family_id")


def test_rows_keep_the_registry_order():
    reg, _ = load_registry(SAMPLE)
    res = compute(reg, "2025Q3")  # three application months: three simulations, merged back
    assert res["application_month"].nunique() == 3
    assert list(res["family_id"]) == list(reg.families["family_id"])


def test_contract_columns(result):
    required = [
        "members",
        "counted_income_quarter",
        "per_capita_income",
        "poverty_line",
        "eligible",
        "asp_type",
        "asp_monthly_amount",
        "child_supplement_monthly",
        "refusal_reason",
    ]
    assert set(required) <= set(result.columns)
    assert list(result.reset_index().columns) == RESULT_COLUMNS


def test_sample_cases(result):
    f01 = result.loc["F01"]
    assert (f01.members, f01.per_capita_income, f01.poverty_line) == (5, 18000, 39346)
    assert f01.asp_monthly_amount == (39346 - 18000) * 5
    assert f01.child_supplement_monthly == 2 * 1.5 * 3932
    assert f01.asp_type == "conditional" and f01.refusal_reason == ""
    assert result.loc["F03", "asp_type"] == "unconditional"
    assert result.loc["F04", "assignment_period"] == "2025-08/2025-09"
    assert result.loc["F04", "assignment_months"] == 2
    expected_refusals = {
        "F02": "income_above_poverty_line",
        "F06": "too_many_dwellings",
        "F07": "owns_vehicle",
        "F09": "refused_employment_measures",
        "F11": "commission_found_no_need",
        "F12": "refused_commission_survey",
        "F13": "false_information",
        "F14": "income_above_poverty_line",
    }
    for fid, reason in expected_refusals.items():
        assert result.loc[fid, "refusal_reason"] == reason, fid
        assert not result.loc[fid, "eligible"]
    assert result.loc["F08", "eligible"]  # car, but a disabled child
    assert result.loc["F14", "application_month"] == "2025-09"  # loan counted from September
    assert result.loc["F18", "counted_income_quarter"] == 120000  # scholarship excluded


def test_quarter_parsing():
    assert Quarter.parse("2025Q3").months == ["2025-07", "2025-08", "2025-09"]
    assert str(Quarter.parse("2024-q1")) == "2024Q1"
    # The registry's Quarter (atauly.registry.quarter): its errors are ValueErrors naming the bad text.
    for bad in ("2025Q5", "2025-07", "Q3"):
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            Quarter.parse(bad)


def test_other_quarter_uses_other_incomes(result):
    reg, _ = load_registry(SAMPLE)
    q4 = compute(reg, "2025Q4")
    # The sample holds incomes for 2025Q2 only: in Q4 everyone's counted income is zero.
    assert (q4["counted_income_quarter"] == 0).all()
    assert (q4["poverty_line"] == 42615).all()
    assert isinstance(q4, pd.DataFrame) and len(q4) == len(result)


def test_income_coverage_check():
    reg, _ = load_registry(SAMPLE)
    # 2025Q3 counts 2025Q2, which the sample holds: no error.
    assert not any("every family" in w for w in check_income_coverage(reg, "2025Q3", recorded=False))
    # 2025Q4 counts 2025Q3, which it does not: an error, or with allow_missing the first warning.
    with pytest.raises(MissingIncomeError, match="2025-07 to 2025-09"):
        check_income_coverage(reg, "2025Q4", recorded=False)
    warnings = check_income_coverage(reg, "2025Q4", recorded=False, allow_missing=True)
    assert warnings and "no income row for 2025-07 to 2025-09" in warnings[0]


def test_the_law_reads_only_its_columns_and_months_are_grouped_on_them():
    """``law_inputs`` keeps the columns the simulation reads (no copy): the law of every application month
    computed on them equals the law computed on the whole registry, family by family."""
    from atauly.law.simulation import LAW_COLUMNS, law_inputs
    from factories import family, person, quarter_incomes, registry

    reg = registry(
        [
            family(
                f"F{i}",
                [person(incomes=quarter_incomes("wages", 20_000 * i)), person("child", born="2015-03-01")],
                applied=f"2025-0{7 + i % 3}-1{i}",
            )
            for i in range(9)
        ]
    )
    narrow = law_inputs(reg)
    assert set(narrow.families.columns) <= set(LAW_COLUMNS["families"])
    assert set(narrow.persons.columns) <= set(LAW_COLUMNS["persons"])
    whole = compute(reg, "2025Q3")
    assert whole["application_month"].nunique() == 3
    pd.testing.assert_frame_equal(compute(narrow, "2025Q3"), whole, check_exact=True)
