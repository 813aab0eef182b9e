"""Registry.shifted: the records moved in time (the scan's verification sample of past quarters, issue 15)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.registry.io import Registry


def _registry() -> Registry:
    families = pd.DataFrame(
        {
            "family_id": ["F1", "F2"],
            "application_date": pd.to_datetime(["2025-07-15", None]),
            "social_contract_breach_date": pd.to_datetime([None, "2024-12-31"]),
        }
    )
    persons = pd.DataFrame(
        {
            "person_id": ["F1-1", "F1-2", "F2-1"],
            "family_id": ["F1", "F1", "F2"],
            "birth_date": pd.to_datetime(["1980-02-29", "2010-06-30", "1975-01-31"]).astype("datetime64[ms]"),
        }
    )
    incomes = pd.DataFrame(
        {
            "person_id": ["F1-1", "F1-1", "F2-1"],
            "month": pd.array(["2025-04", "2025-05", "2025-06"], dtype="string"),
            "amount_kzt": [100.0, 110.0, 90.0],
        }
    )
    return Registry(families, persons, incomes)


def test_shifted_moves_dates_and_income_months_and_keeps_the_rest():
    reg = _registry()
    back = reg.shifted(-21)  # 2025Q3 -> 2023Q4
    assert back.incomes["month"].tolist() == ["2023-07", "2023-08", "2023-09"]
    assert back.incomes["month"].dtype == reg.incomes["month"].dtype
    assert back.families["application_date"].iloc[0] == pd.Timestamp("2023-10-15")
    assert pd.isna(back.families["application_date"].iloc[1])
    assert back.families["social_contract_breach_date"].iloc[1] == pd.Timestamp("2023-03-31")
    assert back.persons["birth_date"].tolist()[:2] == [pd.Timestamp("1978-05-29"), pd.Timestamp("2008-09-30")]
    assert back.persons["birth_date"].dtype == reg.persons["birth_date"].dtype
    pd.testing.assert_series_equal(back.incomes["amount_kzt"], reg.incomes["amount_kzt"])
    pd.testing.assert_series_equal(back.persons["person_id"], reg.persons["person_id"])
    # The original is untouched.
    assert reg.incomes["month"].tolist() == ["2025-04", "2025-05", "2025-06"]
    assert reg.shifted(0) is reg


@settings(max_examples=30, deadline=None)
@given(st.integers(-60, 60))
def test_shifted_keeps_income_months_in_step_with_dates(months):
    reg = _registry()
    moved = reg.shifted(months)
    # Every income month moves by exactly ``months``; an age in whole months at any moved date is kept
    # (a birth date on the 29th-31st can only move to an earlier day of a shorter month).
    before = pd.PeriodIndex(reg.incomes["month"].astype(str), freq="M")
    after = pd.PeriodIndex(moved.incomes["month"].astype(str), freq="M")
    assert ((after - before).map(lambda d: d.n) == months).all()
    born = reg.persons["birth_date"].dt.to_period("M")
    moved_born = moved.persons["birth_date"].dt.to_period("M")
    assert ((moved_born - born).map(lambda d: d.n) == months).all()
