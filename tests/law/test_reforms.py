from pathlib import Path

import pytest

from atauly.law.compute import compute
from atauly.law.reforms import (
    ReformError,
    compare,
    load_reform_file,
    normalise_overrides,
    reform_from,
    reformed_system,
)
from atauly.registry import load_registry

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "atauly" / "registry" / "sample"


@pytest.fixture(scope="module")
def reg():
    return load_registry(SAMPLE)[0]


def test_higher_poverty_line_share(reg):
    table = compare(reg, "2025Q3", {"poverty_line.share_of_subsistence_minimum": 0.8})
    total = table.set_index("region").loc["Kazakhstan (total)"]
    assert total.reform_families >= total.baseline_families
    assert total.reform_budget_monthly > total.baseline_budget_monthly
    # F01: (0.8 × 56,208 = 44,966 − 18,000) × 5 + supplement 11,796
    turkestan = table.set_index("region_kato").loc["610000000"]
    assert turkestan.reform_budget_monthly == (44966 - 18000) * 5 + 11796
    assert set(table.columns) >= {
        "region_kato",
        "region",
        "baseline_families",
        "reform_families",
        "delta_families",
        "baseline_budget_monthly",
        "reform_budget_monthly",
        "delta_budget_monthly",
    }


def test_reform_does_not_touch_the_baseline(reg):
    before = compute(reg, "2025Q3")
    compute(reg, "2025Q3", tbs=reformed_system({"assets.vehicle_disqualifies": False}))
    after = compute(reg, "2025Q3")
    assert before.equals(after)


def test_switching_off_the_car_rule(reg):
    res = compute(reg, "2025Q3", tbs=reformed_system({"assets.vehicle_disqualifies": False})).set_index(
        "family_id"
    )
    assert res.loc["F07", "eligible"]


def test_dated_overrides_and_errors(tmp_path):
    assert normalise_overrides({"income.excluded.loans": {"2025-01-01": False}}) == {
        "income.excluded.loans": {"2025-01-01": False}
    }
    with pytest.raises(ReformError, match="did you mean poverty_line.share_of_subsistence_minimum"):
        normalise_overrides({"poverty_line.share_of_subsistance_minimum": 0.8})
    with pytest.raises(ReformError, match="group of parameters"):
        normalise_overrides({"poverty_line": 0.8})
    with pytest.raises(ReformError, match="must be a number"):
        normalise_overrides({"general.mrp": "a lot"})
    with pytest.raises(ReformError, match="must be true or false"):
        normalise_overrides({"assets.vehicle_disqualifies": 0.5})
    with pytest.raises(ReformError, match="must be a number"):
        normalise_overrides({"poverty_line.share_of_subsistence_minimum": True})
    f = tmp_path / "r.yaml"
    f.write_text("name: Test\nparameters:\n  general.mrp: 5000\n")
    assert load_reform_file(f) == ("Test", {"general.mrp": 5000})
    f.write_text("general.mrp: 5000\n")
    with pytest.raises(ReformError, match="parameters"):
        load_reform_file(f)


def test_budget_value_switch_gives_the_previous_years_value_for_q1():
    # The documented alternative: the budget SM of the preceding quarter (2024's 43,407 for a 2025Q1
    # application) instead of the one in force at the application (2025's 46,228).
    from factories import family, person, quarter_incomes, registry

    reg = registry(
        [family("Q", [person(incomes=quarter_incomes("wages", 1000, ("2024-10", "2024-11", "2024-12")))])]
    )
    published = compute(reg, "2025Q1").iloc[0]
    previous = compute(
        reg, "2025Q1", tbs=reformed_system({"subsistence_minimum.budget_value_at_application": False})
    ).iloc[0]
    assert (published.subsistence_minimum, published.poverty_line) == (46228, 32360)
    assert (previous.subsistence_minimum, previous.poverty_line) == (43407, 30385)


def test_reform_from_a_file_and_the_shortcut(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("name: Cars allowed\nparameters:\n  assets.vehicle_disqualifies: false\n")
    assert reform_from(f) == ("Cars allowed", {"assets.vehicle_disqualifies": False})
    name, overrides = reform_from(poverty_line_share=0.8)
    assert name == "poverty line 0.8 × subsistence minimum"
    assert overrides == {"poverty_line.share_of_subsistence_minimum": 0.8}
    # Both: the file's name, the shortcut added to (and overriding) the file's overrides.
    name, overrides = reform_from(f, 0.75)
    assert name == "Cars allowed" and overrides["poverty_line.share_of_subsistence_minimum"] == 0.75
    for bad in (0, -0.1, 5.01):
        with pytest.raises(ReformError, match="share"):
            reform_from(poverty_line_share=bad)
    with pytest.raises(ReformError):
        reform_from()
    f.write_text("parameters:\n  poverty_line.nope: 1\n")
    with pytest.raises(ReformError, match="unknown parameter"):
        reform_from(f)
