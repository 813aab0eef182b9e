"""Complementary suppression of analysts' statistics: no hidden count comes back as a shown total minus
its other shown parts, whatever the mix of regions, districts, model versions and override reasons."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.service.statistics import COUNTS, _aggregate, suppress_all

TODAY = date(2026, 3, 2)
DISTRICTS = {
    "111111111": "110000000",
    "111112222": "110000000",
    "221111111": "220000000",
    "331111111": "330000000",
}

case = st.fixed_dictionaries(
    {
        "district": st.sampled_from(sorted(DISTRICTS)),
        "model_version": st.sampled_from(["m1", "m2", "— (law only)"]),
        "state": st.sampled_from(["new", "home_visit", "approve", "reject"]),
        "recommended": st.booleans(),
        "reason_code": st.sampled_from(["R1", "R2", "R3"]),
        "late": st.booleans(),
        "visits": st.integers(0, 1),
    }
)


def _frame(cases: list[dict]) -> pd.DataFrame:
    rows = []
    for i, c in enumerate(cases):
        decided = c["state"] in ("approve", "reject")
        rows.append(
            {
                "id": i,
                "region": DISTRICTS[c["district"]],
                "district": c["district"],
                "status": {"approve": "approved", "reject": "rejected"}.get(c["state"], c["state"]),
                "received_on": date(2026, 2, 2),
                "deadline": date(2026, 2, 20) if c["late"] else date(2026, 3, 20),
                "model_version": c["model_version"],
                "recommended": c["recommended"],
                "outcome": c["state"] if decided else None,
                "reason_code": c["reason_code"] if decided else None,
                "override": (c["state"] == "approve") != c["recommended"] if decided else None,
                "amount": 20000.0 if c["state"] == "approve" else None,
                "decided_at": datetime(2026, 2, 25) if decided else None,
                "home_visits": c["visits"],
            }
        )
    return pd.DataFrame(rows)


def _sums(out: dict) -> list[tuple[tuple, list[tuple]]]:
    """The published sums, listed here independently of the module: (total cell, part cells)."""
    cell = {"totals": [out["totals"]], **{k: out[k] for k in ("by_region", "by_district", "by_model")}}
    obr = out["overrides_by_reason"]
    sums = []
    for col in COUNTS:
        sums.append((("totals", 0, col), [("by_region", i, col) for i in range(len(out["by_region"]))]))
        sums.append((("totals", 0, col), [("by_model", i, col) for i in range(len(out["by_model"]))]))
        for j, reg in enumerate(out["by_region"]):
            kids = [i for i, d in enumerate(out["by_district"]) if d["region"] == reg["region"]]
            sums.append((("by_region", j, col), [("by_district", i, col) for i in kids]))
    sums.append((("totals", 0, "overrides"), [("overrides_by_reason", i, "count") for i in range(len(obr))]))
    for table, key in (("by_district", "district"), ("by_model", "model_version")):
        for j, row in enumerate(out[table]):
            kids = [i for i, r in enumerate(obr) if r[key] == row[key]]
            sums.append(((table, j, "overrides"), [("overrides_by_reason", i, "count") for i in kids]))
    for table, rows in cell.items():
        for i in range(len(rows)):
            sums.append(((table, i, "decided"), [(table, i, "approved"), (table, i, "rejected")]))
            sums.append(((table, i, "applications"), [(table, i, "open"), (table, i, "decided")]))
    return sums


def _get(out: dict, c: tuple):
    t, i, col = c
    return (out["totals"] if t == "totals" else out[t][i])[col]


@settings(max_examples=60, deadline=None)
@given(st.lists(case, min_size=1, max_size=80))
def test_no_suppressed_count_is_recovered_by_subtraction(cases):
    exact = _aggregate(_frame(cases), TODAY)
    shown = suppress_all(exact, 10)
    hidden_any = False
    for total, parts in _sums(exact):
        assert _get(exact, total) == sum(_get(exact, p) for p in parts)  # the sum is really published
        cells = [total, *parts]
        secret = [c for c in cells if isinstance(_get(shown, c), str)]
        hidden_any |= bool(secret)
        # exactly one hidden cell in a sum would be the total minus (or plus) the others shown
        assert len(secret) != 1, (secret, [_get(shown, c) for c in cells])
    for t in ("by_region", "by_district", "by_model", "overrides_by_reason"):
        for row_exact, row in zip(exact[t], shown[t], strict=True):
            for k, v in row.items():
                if isinstance(v, int) and k in [*COUNTS, "count"]:
                    assert v == row_exact[k]  # what is shown is exact
                if v == "<10":
                    assert 0 < row_exact[k] < 10
    for row in [shown["totals"], *shown["by_region"], *shown["by_district"], *shown["by_model"]]:
        if isinstance(row["overrides"], str):  # rate × decided would give the hidden overrides back
            assert row["agreement"] is None and row["override_rate"] is None
        if isinstance(row["decided"], str):
            assert row["on_time_share"] is None and row["amount_monthly_approved"] is None


def test_a_small_region_is_covered_by_the_smallest_wide_enough_sibling():
    cases = (
        [{"district": "111111111", "state": "approve"}] * 3
        + [{"district": "221111111", "state": "approve"}] * 12
        + [{"district": "331111111", "state": "approve"}] * 40
    )
    full = [
        {"model_version": "m1", "recommended": True, "reason_code": "R1", "late": False, "visits": 0, **c}
        for c in cases
    ]
    shown = suppress_all(_aggregate(_frame(full), TODAY), 10)
    approved = {r["region"]: r["approved"] for r in shown["by_region"]}
    # 3 alone would be 55 - 12 - 40. Hidden with the 12, the pair's sum 15 minus a cover known to be >= 10
    # would bound it to 1..5; hidden with the 40 (the smallest of 19 or more), it stays anywhere in 1..9
    assert approved == {"110000000": "<10", "220000000": 12, "330000000": "x"}
    assert shown["totals"]["approved"] == 55
