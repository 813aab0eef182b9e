"""Complementary suppression of analysts' statistics: no hidden count comes back as a shown total minus
its other shown parts, whatever the mix of regions, districts, model versions and override reasons."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from atauly.service.casework import working_days_between
from atauly.service.models import Application, Base, Decision, Recommendation
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


@pytest.fixture(scope="module")
def memory_db():
    """An in-memory SQLite database with the service's tables: the statistics are aggregated in SQL."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        yield db
    engine.dispose()


def _exact(db, cases: list[dict]) -> dict:
    """The exact statistics (no suppression) of ``cases``, stored as applications and aggregated by the
    module's SQL."""
    for model in (Decision, Recommendation, Application):
        db.execute(delete(model))
    at = datetime(2026, 2, 2)
    for i, c in enumerate(cases, start=1):
        decided = c["state"] in ("approve", "reject")
        db.add(
            Application(
                id=i,
                idempotency_key=f"k{i}",
                family_id=f"F{i}",
                region_kato=DISTRICTS[c["district"]],
                district_kato=c["district"],
                quarter="2026Q1",
                snapshot={},
                input_hash="0" * 64,
                status={"approve": "approved", "reject": "rejected"}.get(c["state"], c["state"]),
                source="api",
                received_on=date(2026, 2, 2),
                deadline=date(2026, 2, 20) if c["late"] else date(2026, 3, 20),
                created_at=at,
                version=1,
            )
        )
        model = None if c["model_version"].startswith("—") else c["model_version"]
        db.add(
            Recommendation(
                id=i,
                application_id=i,
                created_at=at,
                input_hash="0" * 64,
                law={},
                law_version="t",
                eligible_by_law=c["recommended"],
                amount_monthly=0.0,
                mode="model" if model else "law",
                model_version=model,
                recommended=c["recommended"],
                reasons={},
                trace={},
            )
        )
        outcomes = ["home_visit"] * c["visits"] + ([c["state"]] if decided else [])
        for outcome in outcomes:
            final = outcome != "home_visit"
            db.add(
                Decision(
                    application_id=i,
                    recommendation_id=i,
                    officer_id=1,
                    outcome=outcome,
                    reason_code=c["reason_code"] if final else None,
                    comment="",
                    override=final and (outcome == "approve") != c["recommended"],
                    against_law=False,
                    blind=False,
                    amount_monthly=20000.0 if outcome == "approve" else 0.0,
                    period="",
                    decided_at=datetime(2026, 2, 25),
                )
            )
    db.flush()
    return _aggregate(db, None, None, TODAY)


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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(case, min_size=1, max_size=80))
def test_no_suppressed_count_is_recovered_by_subtraction(memory_db, cases):
    exact = _exact(memory_db, cases)
    # the aggregates in SQL are the cases' own counts
    t, decided = exact["totals"], [c for c in cases if c["state"] in ("approve", "reject")]
    assert t["applications"] == len(cases) and t["decided"] == len(decided)
    assert t["approved"] == sum(c["state"] == "approve" for c in decided)
    assert t["home_visits"] == sum(c["visits"] for c in cases)
    overrides = [c for c in decided if (c["state"] == "approve") != c["recommended"]]
    assert t["overrides"] == len(overrides) == sum(r["count"] for r in exact["overrides_by_reason"])
    assert t["overdue_open"] == sum(c["state"] in ("new", "home_visit") and c["late"] for c in cases)
    if decided:
        assert t["on_time_share"] == pytest.approx(sum(not c["late"] for c in decided) / len(decided))
        assert t["median_working_days"] == working_days_between(date(2026, 2, 2), date(2026, 2, 25))
        assert t["agreement"] == pytest.approx(1 - len(overrides) / len(decided))
        assert t["amount_monthly_approved"] == 20000.0 * t["approved"]
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


def test_a_small_region_is_covered_by_the_smallest_wide_enough_sibling(memory_db):
    cases = (
        [{"district": "111111111", "state": "approve"}] * 3
        + [{"district": "221111111", "state": "approve"}] * 12
        + [{"district": "331111111", "state": "approve"}] * 40
    )
    full = [
        {"model_version": "m1", "recommended": True, "reason_code": "R1", "late": False, "visits": 0, **c}
        for c in cases
    ]
    shown = suppress_all(_exact(memory_db, full), 10)
    approved = {r["region"]: r["approved"] for r in shown["by_region"]}
    # 3 alone would be 55 - 12 - 40. Hidden with the 12, the pair's sum 15 minus a cover known to be >= 10
    # would bound it to 1..5; hidden with the 40 (the smallest of 19 or more), it stays anywhere in 1..9
    assert approved == {"110000000": "<10", "220000000": 12, "330000000": "x"}
    assert shown["totals"]["approved"] == 55
