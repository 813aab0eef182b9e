"""Supervisors' and analysts' views (atauly.service.trends) against hand-built casework with known answers,
on SQLite and PostgreSQL: weekly and quarterly trends, per-officer workload and median days, the national
figures per 1,000 families, small-cell suppression for analysts, and who may see what."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest

from atauly.service import trends
from atauly.service.casework import ServiceError
from atauly.service.models import Application, Decision, Recommendation, ScanSummary

from .conftest import DISTRICT, OTHER_DISTRICT, REGION

ALMATY, ALMATY_DISTRICT = "750000000", "750100000"
_ids = count(1)


def _case(db, district, received, status, decisions=(), region=None, recommended=True):
    """An application with one recommendation (approve unless ``recommended`` is false) and its decisions
    ``(officer, outcome, override, amount, decided_at)``; an override gives the reason "income differs"."""
    n = next(_ids)
    app = Application(
        idempotency_key=f"k{n}-{district}-{received}",
        family_id=f"F{n}",
        region_kato=region or district[:2] + "0000000",
        district_kato=district,
        quarter="2026Q4",
        snapshot={},
        input_hash="h",
        status=status,
        source="api",
        received_on=received,
        deadline=received + timedelta(days=21),
        created_at=datetime(2026, 1, 1),
    )
    db.add(app)
    db.flush()
    rec = Recommendation(
        application_id=app.id,
        created_at=datetime(2026, 1, 1),
        input_hash="h",
        law={},
        law_version="1",
        eligible_by_law=True,
        amount_monthly=1.0,
        mode="model",
        recommended=recommended,
        reasons={},
        trace={},
    )
    db.add(rec)
    db.flush()
    for officer, outcome, override, amount, at in decisions:
        db.add(
            Decision(
                application_id=app.id,
                recommendation_id=rec.id,
                officer_id=officer.id,
                outcome=outcome,
                reason_code="income_differs" if override else None,
                override=override,
                against_law=False,
                blind=False,
                amount_monthly=amount,
                decided_at=at,
            )
        )
    db.flush()
    return app


@pytest.fixture
def casework(db, users):
    from atauly.service.users import create_user

    o, o2 = users["officer"], users["officer2"]
    o3 = create_user(db, "officer3", "correct-horse-1", "officer", ALMATY_DISTRICT, None)
    _case(
        db,
        DISTRICT,
        date(2026, 11, 2),
        "approved",
        [(o, "approve", False, 20000.0, datetime(2026, 11, 5, 9))],
    )
    _case(db, DISTRICT, date(2026, 11, 3), "rejected", [(o, "reject", True, 0.0, datetime(2026, 11, 10, 9))])
    _case(
        db, DISTRICT, date(2026, 11, 4), "home_visit", [(o, "home_visit", False, 0.0, datetime(2026, 11, 6))]
    )
    _case(
        db,
        OTHER_DISTRICT,
        date(2026, 10, 1),
        "approved",
        [(o2, "approve", True, 30000.0, datetime(2026, 10, 2))],
    )
    _case(
        db,
        ALMATY_DISTRICT,
        date(2026, 11, 3),
        "approved",
        [(o3, "approve", False, 15000.0, datetime(2026, 11, 4))],
    )
    _case(  # rejected, then approved: the final decision counts, in the week it was recorded
        db,
        DISTRICT,
        date(2026, 11, 2),
        "approved",
        [
            (o, "reject", False, 0.0, datetime(2026, 11, 6)),
            (o, "approve", False, 25000.0, datetime(2026, 11, 12)),
        ],
    )
    _case(
        db,
        DISTRICT,
        date(2026, 9, 20),
        "approved",
        [(o, "approve", False, 10000.0, datetime(2026, 9, 30, 10))],
    )
    for quarter, fams in (("2026Q3", 99), ("2026Q4", None)):
        for district, n in ((DISTRICT, 1000), (OTHER_DISTRICT, 1000), (ALMATY_DISTRICT, 250)):
            db.add(
                ScanSummary(
                    quarter=quarter,
                    region_kato=district[:2] + "0000000",
                    district_kato=district,
                    families=fams or n,
                    entitled_by_law=0,
                    receiving=0,
                    applied=0,
                    candidates=0,
                    candidates_monthly_amount=0.0,
                )
            )
    db.commit()
    return users


def _by(rows, key):
    return {r[key]: r for r in rows}


def test_weekly_trend_of_a_region(db, casework):
    out = trends.trends(db, casework["supervisor"], "week")
    rows = _by(out["rows"], "period")
    assert list(rows) == ["2026-09-14", "2026-09-28", "2026-11-02", "2026-11-09"]
    pick = lambda r: (r["applications"], r["decided"], r["approved"], r["rejected"], r["overrides"])  # noqa: E731
    assert pick(rows["2026-09-14"]) == (1, 0, 0, 0, 0)
    assert pick(rows["2026-09-28"]) == (1, 2, 2, 0, 1)
    assert pick(rows["2026-11-02"]) == (4, 1, 1, 0, 0)
    assert pick(rows["2026-11-09"]) == (0, 2, 1, 1, 1)
    assert rows["2026-09-28"]["agreement"] == pytest.approx(0.5)
    assert rows["2026-11-02"]["agreement"] == pytest.approx(1.0)
    assert rows["2026-09-14"]["agreement"] is None
    assert pick(out["totals"]) == (6, 5, 4, 1, 2)


def test_quarterly_trend_and_a_district(db, casework):
    out = trends.trends(db, casework["supervisor"], "quarter")
    rows = _by(out["rows"], "period")
    assert list(rows) == ["2026Q3", "2026Q4"]
    assert (rows["2026Q3"]["applications"], rows["2026Q3"]["decided"]) == (1, 1)
    assert (rows["2026Q4"]["applications"], rows["2026Q4"]["decided"], rows["2026Q4"]["overrides"]) == (
        5,
        4,
        2,
    )
    one = trends.trends(db, casework["supervisor"], "quarter", district=OTHER_DISTRICT)
    assert [(r["period"], r["applications"], r["decided"]) for r in one["rows"]] == [("2026Q4", 1, 1)]


def test_officers_workload_and_median_days(db, casework):
    out = trends.officers(db, casework["supervisor"])
    rows = _by(out["rows"], "officer")
    assert set(rows) == {"officer", "officer2"}  # not officer3: another region
    me = rows["officer"]
    # decided 3, 7, 10 and 10 days after receipt (the final decision of the reconsidered case)
    assert (me["decided"], me["approved"], me["rejected"], me["overrides"]) == (4, 3, 1, 1)
    assert me["median_days"] == pytest.approx(8.5)
    assert me["departure_share"] == pytest.approx(0.25)
    assert rows["officer2"]["median_days"] == pytest.approx(1.0)
    assert rows["officer2"]["departure_share"] == pytest.approx(1.0)
    assert out["totals"]["decided"] == 5


def test_analysts_see_pseudonyms_and_the_country(db, casework):
    out = trends.officers(db, casework["analyst"], min_cell=1)
    assert sorted(r["officer"] for r in out["rows"]) == ["#1", "#2", "#3"]
    assert out["rows"][0]["decided"] == 4  # ordered by cases decided


def test_national_rates_per_thousand_families(db, casework):
    out = trends.national(db, casework["analyst"], min_cell=1)
    assert out["level"] == "region" and out["families_quarter"] == "2026Q4"
    rows = _by(out["rows"], "area")
    shym, alm = rows[REGION], rows[ALMATY]
    assert (shym["applications"], shym["decided"], shym["approved"], shym["families"]) == (6, 5, 4, 2000)
    assert shym["amount_monthly_approved"] == pytest.approx(85000.0)
    assert shym["recipients_per_1000"] == pytest.approx(2.0)
    assert shym["per_1000"] == pytest.approx(3.0)
    assert alm["recipients_per_1000"] == pytest.approx(4.0)
    assert alm["budget_per_1000"] == pytest.approx(60000.0)
    assert out["totals"]["approved"] == 5 and out["totals"]["families"] == 2250
    drill = trends.national(db, casework["analyst"], region=REGION, min_cell=1)
    assert drill["level"] == "district"
    d = _by(drill["rows"], "area")
    assert (d[DISTRICT]["approved"], d[DISTRICT]["recipients_per_1000"]) == (3, 3.0)
    assert (d[OTHER_DISTRICT]["approved"], d[OTHER_DISTRICT]["recipients_per_1000"]) == (1, 1.0)


def test_small_cells_are_suppressed_for_analysts(db, casework):
    o = casework["officer"]
    for k in range(12):
        _case(
            db,
            DISTRICT,
            date(2026, 11, 16),
            "approved",
            [(o, "approve", k < 2, 1000.0, datetime(2026, 11, 17))],
        )
    db.commit()
    out = trends.national(db, casework["analyst"], min_cell=10)
    rows = _by(out["rows"], "area")
    alm = rows[ALMATY]
    assert alm["approved"] == "<10" and alm["recipients_per_1000"] is None and alm["agreement"] is None
    assert alm["per_1000"] is None and alm["amount_monthly_approved"] is None
    # Shymkent's 16 approvals and the total 17 cannot both be shown: Almaty's 1 would follow
    assert isinstance(rows[REGION]["approved"], str) or isinstance(out["totals"]["approved"], str)
    week = _by(trends.trends(db, casework["analyst"], "week", min_cell=10)["rows"], "period")
    assert week["2026-11-16"]["applications"] == 12 and week["2026-11-16"]["approved"] == 12
    assert week["2026-11-16"]["overrides"] == "<10" and week["2026-11-16"]["agreement"] is None
    assert week["2026-11-02"]["applications"] in ("<10", "x")
    officers = trends.officers(db, casework["analyst"], min_cell=10)["rows"]
    assert all(isinstance(r["decided"], int) or r["median_days"] is None for r in officers)
    # a supervisor sees exact figures
    assert (
        _by(trends.trends(db, casework["supervisor"], "week")["rows"], "period")["2026-11-02"]["applications"]
        == 4
    )


def test_scope_is_enforced(db, casework):
    with pytest.raises(ServiceError) as e:
        trends.trends(db, casework["officer"], "week", region=ALMATY)
    assert e.value.status == 403
    with pytest.raises(ServiceError) as e:
        trends.trends(db, casework["officer"], "week", district=OTHER_DISTRICT)
    assert e.value.status == 403
    with pytest.raises(ServiceError) as e:
        trends.officers(db, casework["officer"])
    assert e.value.status == 403
    with pytest.raises(ServiceError) as e:
        trends.national(db, casework["supervisor"], region=ALMATY)
    assert e.value.status == 403
    mine = trends.trends(db, casework["officer"], "quarter")
    assert mine["scope"] == {"region": REGION, "district": DISTRICT}
    assert sum(r["applications"] for r in mine["rows"]) == 5
    sup = trends.national(db, casework["supervisor"])
    assert sup["level"] == "district" and {r["area"] for r in sup["rows"]} == {DISTRICT, OTHER_DISTRICT}
    # an officer's dashboard: their district's row only, never the neighbouring district's
    own = trends.national(db, casework["officer"], min_cell=1)
    assert own["scope"] == {"region": REGION, "district": DISTRICT}
    assert [r["area"] for r in own["rows"]] == [DISTRICT] and own["totals"]["applications"] == 5
    with pytest.raises(ServiceError) as e:
        trends.national(db, casework["officer"], region=ALMATY)
    assert e.value.status == 403
    with pytest.raises(ServiceError) as e:
        trends.trends(db, casework["analyst"], "month")
    assert e.value.status == 422
