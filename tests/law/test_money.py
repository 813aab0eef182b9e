"""Money to the tiyn (hypothesis): the boundary, large incomes, many members, and amounts that reproduce from
the printed figures with exact decimal arithmetic (one rule: half up to the tiyn; the line to the tenge)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atauly.law.compute import compute
from atauly.law.money import divide_half_up, round_half_up, share_tiyn, to_tiyn
from factories import family, person, registry

from .test_properties import families

QUARTER = "2025Q3"
MONTHS = ("2025-04", "2025-05", "2025-06")
LINE = 39346  # Q3 2025: 70% × the national BNS SM of Q2 2025 (56,208), half up to the tenge
TIYN = Decimal("0.01")


def _split(total_tiyn: int, parts: int, draw) -> list[int]:
    """``total_tiyn`` cut into ``parts`` non-negative whole-tiyn pieces at drawn points."""
    cuts = sorted(draw(st.lists(st.integers(0, total_tiyn), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, total_tiyn]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


@st.composite
def boundary_families(draw):
    """A family whose per-capita income is the line + ``offset`` tiyn, its income spread over members and
    months in whole tiyn."""
    n = draw(st.integers(1, 14))
    offset = draw(st.sampled_from([-1, 0, 1]))
    total = (LINE * 100 + offset) * 3 * n
    earners = draw(st.integers(1, min(n, 3)))
    pieces = _split(total, earners * 3, draw)
    people = []
    for k in range(n):
        # Adults born in 1970 (not of retirement age), no children in the 1–6 supplement range.
        role = "applicant" if k == 0 else ("spouse" if k == 1 else "other")
        incomes = {}
        if k < earners:
            incomes = {("wages", m): pieces[3 * k + j] / 100 for j, m in enumerate(MONTHS)}
        people.append(person(role, "F", "1970-03-01", "employee", incomes=incomes))
    return family("B", people, region="470000000"), n, offset


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60, deadline=None)
@given(boundary_families())
def test_line_plus_or_minus_one_tiyn(case):
    fam, n, offset = case
    r = compute(registry([fam]), QUARTER).iloc[0]
    assert r.poverty_line == LINE and r.members == n
    assert Decimal(f"{r.per_capita_income:.2f}") == Decimal(LINE) + offset * TIYN
    if offset > 0:
        assert not r.eligible and r.refusal_reason == "income_above_poverty_line"
        assert r.asp_monthly_amount == 0 and r.child_supplement_monthly == 0
    else:
        assert r.eligible
        assert Decimal(f"{r.asp_monthly_amount:.2f}") == -offset * TIYN * n


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 10**11), min_size=1, max_size=12),  # tiyn: up to 10^9 ₸ a month each
    st.integers(0, 10),
)
def test_large_incomes_are_exact(monthly_tiyn, children):
    people = [
        person(
            "applicant" if k == 0 else "other",
            "M",
            "1975-01-01",
            "employee",
            incomes={("wages", m): v / 100 for m in MONTHS},
        )
        for k, v in enumerate(monthly_tiyn)
    ]
    people += [person("child", "F", "2012-05-01") for _ in range(children)]
    r = compute(registry([family("L", people)]), QUARTER).iloc[0]
    total = sum(Decimal(v) for v in monthly_tiyn) * 3 * TIYN
    n = len(people)
    assert Decimal(f"{r.counted_income_quarter:.2f}") == total
    pci = (total / (3 * n)).quantize(TIYN, rounding=ROUND_HALF_UP)
    assert Decimal(f"{r.per_capita_income:.2f}") == pci
    assert r.eligible == (pci <= Decimal(int(r.poverty_line)))


def test_fifty_million_and_one_is_not_fifty_million():
    fam = family("M", [person(incomes={("wages", "2025-04"): 50_000_001})])
    r = compute(registry([fam]), QUARTER).iloc[0]
    assert r.counted_income_quarter == 50_000_001
    assert r.per_capita_income == 16_666_667


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60, deadline=None)
@given(families())
def test_amounts_reproduce_from_the_printed_figures(f):
    r = compute(registry([f]), QUARTER).iloc[0]

    def printed(x) -> Decimal:  # what a CSV or a page shows: two decimals
        return Decimal(f"{x:.2f}")

    counted, pci, line = (
        printed(r.counted_income_quarter),
        printed(r.per_capita_income),
        printed(r.poverty_line),
    )
    assert pci == (counted / (3 * r.members)).quantize(TIYN, rounding=ROUND_HALF_UP)
    assert line == line.to_integral_value()
    assert r.eligible == (pci <= line) or r.refusal_reason not in ("", "income_above_poverty_line")
    if r.eligible:
        assert printed(r.asp_monthly_amount) == (line - pci) * r.members
    total = (printed(r.asp_monthly_amount) + printed(r.child_supplement_monthly)) * r.assignment_months
    assert printed(r.quarter_total) == total


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=0, max_value=2, places=2),
    st.integers(0, 10**12),
    st.sampled_from([1, 100]),
)
def test_shares_round_half_up_exactly(share, amount_tiyn, unit):
    exact = share * Decimal(amount_tiyn) / unit
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * unit
    assert int(share_tiyn(float(share), np.array([amount_tiyn]), unit=unit)[0]) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**13), st.integers(1, 200))
def test_division_rounds_half_up(numerator, denominator):
    expected = (Decimal(numerator) / denominator).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert int(divide_half_up(np.array([numerator]), np.array([denominator]))[0]) == int(expected)


def test_printed_half_tiyn_rounds_up():
    assert list(to_tiyn([0.005, 1.005, 2.675, 39345.995])) == [1, 101, 268, 3934600]
    assert list(round_half_up([20786.5, 0.5, 1.49], 0)) == [20787, 1, 1]
