"""Properties of the law that must hold for every family (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atauly.law.compute import compute
from atauly.law.system import tax_benefit_system
from atauly.registry import Registry
from factories import family, person, registry

QUARTER = "2025Q3"
MONTHS = ("2025-04", "2025-05", "2025-06")
COUNTED = ("wages", "pension", "alimony", "self_employment", "informal")
# Sources excluded in every month of the quarter (loans start to count in September 2025).
_EXCL = [
    tax_benefit_system().parameters(m).income.excluded for m in ("2025-07-01", "2025-08-01", "2025-09-01")
]
EXCLUDED = [s for s in _EXCL[0]._children if all(e[s] for e in _EXCL)]

amounts = st.integers(min_value=0, max_value=400_000)


@st.composite
def families(draw, fid="F"):
    n_adults = draw(st.integers(1, 3))
    n_children = draw(st.integers(0, 4))
    people = []
    for k in range(n_adults):
        role = "applicant" if k == 0 else ("spouse" if k == 1 else "other")
        year = draw(st.integers(1950, 2000))
        status = draw(
            st.sampled_from(
                [
                    "employee",
                    "not_working",
                    "pensioner",
                    "caring_child_under_3",
                    "registered_unemployed",
                    "self_employed",
                ]
            )
        )
        incomes = {(draw(st.sampled_from(COUNTED)), m): draw(amounts) for m in MONTHS if draw(st.booleans())}
        people.append(
            person(
                role,
                draw(st.sampled_from("MF")),
                f"{year}-0{draw(st.integers(1, 9))}-15",
                status,
                draw(st.sampled_from([0, 0, 0, 1, 2, 3])),
                incomes,
            )
        )
    for _ in range(n_children):
        year = draw(st.integers(2008, 2025))
        people.append(person("child", draw(st.sampled_from("MF")), f"{year}-0{draw(st.integers(1, 5))}-10"))
    applied = draw(st.sampled_from(["", "2025-07-05", "2025-08-20", "2025-09-30"]))
    return family(
        fid,
        people,
        region=draw(st.sampled_from(["610000000", "750000000", "350000000"])),
        applied=applied,
        vehicles_owned=draw(st.sampled_from([0, 0, 0, 1])),
    )


def run(fams) -> pd.DataFrame:
    return compute(registry(fams), QUARTER)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(families())
def test_amounts_are_consistent_with_eligibility(f):
    r = run([f]).iloc[0]
    assert r.asp_monthly_amount >= 0 and r.child_supplement_monthly >= 0
    if not r.eligible:
        assert r.asp_monthly_amount == 0 and r.child_supplement_monthly == 0 and r.refusal_reason != ""
    else:
        assert r.refusal_reason == "" and r.asp_type in ("conditional", "unconditional")
        # Amount 0 while entitled only at the boundary: per-capita income at the poverty line.
        if r.asp_monthly_amount == 0:
            assert abs(r.per_capita_income - r.poverty_line) < 0.01


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(families(), st.integers(1, 300_000), st.sampled_from(COUNTED))
def test_more_counted_income_never_helps(f, extra, source):
    before = run([f]).iloc[0]
    richer = dict(f, people=[dict(p) for p in f["people"]])
    richer["people"][0] = dict(richer["people"][0], incomes={**richer["people"][0]["incomes"]})
    key = (source, "2025-05")
    richer["people"][0]["incomes"][key] = richer["people"][0]["incomes"].get(key, 0) + extra
    after = run([richer]).iloc[0]
    assert after.asp_monthly_amount <= before.asp_monthly_amount
    assert not (after.eligible and not before.eligible)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(families(), st.integers(1, 500_000), st.sampled_from(EXCLUDED))
def test_excluded_income_changes_nothing(f, extra, source):
    before = run([f]).iloc[0]
    g = dict(f, people=[dict(p) for p in f["people"]])
    g["people"][0] = dict(g["people"][0], incomes={**g["people"][0]["incomes"], (source, "2025-06"): extra})
    after = run([g]).iloc[0]
    pd.testing.assert_series_equal(before, after, check_names=False)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=25)
@given(st.lists(families(), min_size=2, max_size=5), st.randoms(use_true_random=False))
def test_result_independent_of_row_order_and_other_families(fams, rnd):
    fams = [dict(f, family_id=f"F{i}") for i, f in enumerate(fams)]
    reg = registry(fams)
    together = compute(reg, QUARTER).set_index("family_id").sort_index()
    shuffled = Registry(
        reg.families.sample(frac=1, random_state=rnd.randint(0, 999)),
        reg.persons.sample(frac=1, random_state=rnd.randint(0, 999)),
        reg.incomes.sample(frac=1, random_state=rnd.randint(0, 999)),
    )
    again = compute(shuffled, QUARTER).set_index("family_id").sort_index()
    pd.testing.assert_frame_equal(together, again)
    for f in fams:
        alone = run([f]).set_index("family_id").loc[f["family_id"]]
        pd.testing.assert_series_equal(alone, together.loc[f["family_id"]], check_names=False)


def test_amount_formula_matches_the_law_on_random_batch():
    rng = np.random.default_rng(7)
    fams = [
        family(
            f"F{i}",
            [
                person(incomes={("wages", m): float(rng.integers(0, 90_000)) for m in MONTHS}),
                person("child", born="2015-01-01"),
            ],
        )
        for i in range(50)
    ]
    r = run(fams)
    expected = np.where(
        r["per_capita_income"] <= r["poverty_line"],
        (r["poverty_line"] - r["per_capita_income"]) * r["members"],
        0,
    )
    assert np.allclose(r["asp_monthly_amount"], expected, atol=0.02)


# Days from 1600-01-01 to 2400-12-31 (whole 400-year cycles, leap days and the 1970 epoch on both sides).
_day_numbers = st.integers(min_value=-135_140, max_value=157_071)


@st.composite
def _date_arrays(draw):
    """Dates around a random day: mostly within the span the lookup table serves, sometimes wider."""
    base = draw(_day_numbers)
    width = draw(st.sampled_from([40, 5_000, 146_400, 300_000]))
    offsets = draw(st.lists(st.integers(0, width), min_size=1, max_size=40))
    return np.array([base + o for o in offsets], dtype="datetime64[D]")


@settings(max_examples=300, deadline=None)
@given(_date_arrays(), _date_arrays())
def test_calendar_lookup_equals_numpys_calendar(earlier, later):
    """Ages and sanction periods use a per-day lookup of calendar fields; it must equal numpy's
    datetime64 calendar (the definition) for every date, month ends and 29 February included."""
    from atauly.law.calendar import calendar_fields as _calendar
    from atauly.law.calendar import calendar_reference as _calendar_reference
    from atauly.law.calendar import months_between

    n = min(len(earlier), len(later))
    earlier, later = earlier[:n], later[:n]
    for dates in (earlier, later):
        for fast, slow in zip(_calendar(dates), _calendar_reference(dates), strict=True):
            np.testing.assert_array_equal(fast, slow)
    ref = [_calendar_reference(d) for d in (earlier, later)]
    expected = ref[1][0] - ref[0][0] - ((ref[1][1] < ref[0][1]) & ~ref[1][2])
    np.testing.assert_array_equal(months_between(earlier, later), expected)


def test_calendar_edges():
    from atauly.law.calendar import calendar_fields as _calendar
    from atauly.law.calendar import calendar_reference as _calendar_reference
    from atauly.law.calendar import calendar_table as _calendar_table

    edges = np.array(
        ["1900-02-28", "1900-03-01", "2000-02-29", "2024-02-29", "2025-02-28", "1969-12-31", "1970-01-01",
         "2025-12-31", "1600-03-01", "2400-02-29", "NaT"],
        dtype="datetime64[D]",
    )  # fmt: skip
    for fast, slow in zip(_calendar(edges), _calendar_reference(edges), strict=True):
        np.testing.assert_array_equal(fast, slow)
    # Without NaT, dates of a usual span take the lookup table; 1600 to 2400 is wider (the reference).
    _calendar_table.cache_clear()
    for fast, slow in zip(_calendar(edges[:8]), _calendar_reference(edges[:8]), strict=True):
        np.testing.assert_array_equal(fast, slow)
    assert _calendar_table.cache_info().misses == 1
    for fast, slow in zip(_calendar(edges[:-1]), _calendar_reference(edges[:-1]), strict=True):
        np.testing.assert_array_equal(fast, slow)
    # Nanosecond timestamps (how pandas hands dates over, 1678–2261) give the same fields as days.
    in_ns_range = edges[:8]
    for fast, slow in zip(
        _calendar(in_ns_range.astype("datetime64[ns]")), _calendar_reference(in_ns_range), strict=True
    ):
        np.testing.assert_array_equal(fast, slow)
