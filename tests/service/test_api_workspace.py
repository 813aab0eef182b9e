"""The officer's workspace through the API (issue 20): the queue does not anchor (no law result nor
recommendation for an open application, both for a decided one), its filters, verified values that recompute
the law, and a supervisor's assignment — with the scope, role, version and token rules of the other routes."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from atauly.registry.quarter import Quarter
from atauly.service.models import AuditEvent

from .conftest import OTHER_DISTRICT, in_district, token_headers


def _submit(client, headers, payload) -> dict:
    r = client.post("/api/v1/applications", json=payload, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _decide(client, headers, app: dict, version: int) -> dict:
    """Decide as the law says (with a reason when that departs from the recommendation)."""
    rec = app["recommendation"]
    outcome = "approve" if rec["eligible_by_law"] else "reject"
    body = {"outcome": outcome, "version": version}
    if rec["recommended_decision"] != outcome:
        body["reason_code"] = "law_criteria"
    r = client.post(f"/api/v1/applications/{app['id']}/decision", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _queue(client, headers, **params) -> dict[int, dict]:
    r = client.get("/api/v1/applications", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return {item["id"]: item for item in r.json()}


def test_the_queue_hides_an_open_result_and_shows_a_decided_one(client, as_officer, svc_payloads):
    first, second = (_submit(client, as_officer, p) for p in in_district(svc_payloads)[:2])
    for item in _queue(client, as_officer).values():
        assert item["eligible_by_law"] is None and item["recommended_decision"] is None
        assert item["decision"] is None and item["quarter"] and item["family_size"] >= 1
    # the application's own endpoint has them
    assert client.get(f"/api/v1/applications/{first['id']}", headers=as_officer).json()["recommendation"]

    rec = first["recommendation"]
    outcome = _decide(client, as_officer, first, first["version"])["decisions"][-1]["outcome"]
    decided = _queue(client, as_officer, status="decided")
    assert list(decided) == [first["id"]]
    item = decided[first["id"]]
    assert item["eligible_by_law"] == rec["eligible_by_law"]
    assert item["recommended_decision"] == rec["recommended_decision"] and item["decision"] == outcome
    assert list(_queue(client, as_officer)) == [second["id"]]
    # reopened by the family's correction: open again, so its earlier decision is hidden like the rest
    corr = client.post(
        f"/api/v1/applications/{first['id']}/corrections",
        json={"fields": ["incomes"], "description": "Wages in May were lower"},
        headers=as_officer,
    )
    assert corr.status_code == 200 and corr.json()["status"] == "reopened"
    reopened = _queue(client, as_officer)[first["id"]]
    assert reopened["decision"] is None and reopened["recommended_decision"] is None

    size = second["snapshot"]["persons"].__len__()
    assert second["id"] in _queue(client, as_officer, family_size=min(size, 6))
    other_size = 1 if size != 1 else 2
    assert second["id"] not in _queue(client, as_officer, family_size=other_size)
    assert second["id"] in _queue(client, as_officer, quarter=second["quarter"])
    assert _queue(client, as_officer, quarter="2001Q1") == {}
    for bad in ({"quarter": "2025-07"}, {"family_size": 0}, {"assigned": "someone"}, {"district": "x"}):
        r = client.get("/api/v1/applications", params=bad, headers=as_officer)
        assert r.status_code == 422, bad


def _income_change(app: dict) -> dict:
    """A verified income that differs from the declared one: the applicant's first counted month, wages,
    40 000 ₸ more than declared."""
    months = Quarter.parse(app["quarter"]).reference_months
    applicant = next(p for p in app["snapshot"]["persons"] if p["role"] == "applicant")
    declared = sum(
        i["amount_kzt"]
        for i in app["snapshot"]["incomes"]
        if (i["person_id"], i["month"], i["source"]) == (applicant["person_id"], months[0], "wages")
    )
    return {
        "kind": "income",
        "person_id": applicant["person_id"],
        "month": months[0],
        "source": "wages",
        "amount_kzt": declared + 40000,
        "note": "Справка с места работы",
        "declared": declared,
    }


def test_verified_income_recomputes_the_law_through_the_api(client, as_officer, svc_payloads, db):
    app = _submit(client, as_officer, in_district(svc_payloads)[2])
    change = _income_change(app)
    declared = change.pop("declared")
    url = f"/api/v1/applications/{app['id']}/verifications"

    stale = client.post(url, json={**change, "version": app["version"] + 1}, headers=as_officer)
    assert stale.status_code == 409
    r = client.post(url, json={**change, "version": app["version"]}, headers=as_officer)
    assert r.status_code == 200, r.text
    out = r.json()
    before, after = app["recommendation"]["law"], out["recommendation"]["law"]
    members = before["members"]
    # the law counted the verified 40 000 ₸ more: per member, a month (3 months counted)
    assert after["per_capita_income"] == pytest.approx(
        before["per_capita_income"] + 40000 / members / 3, abs=0.01
    )
    assert out["recommendation"]["input_hash"] != app["recommendation"]["input_hash"]
    [value] = out["verified"]
    assert value["kind"] == "income" and value["declared"] == pytest.approx(declared)
    assert value["verified"] == pytest.approx(declared + 40000) and value["month"] == change["month"]
    assert client.get(f"/api/v1/applications/{app['id']}", headers=as_officer).json()["verified"] == [value]
    db.rollback()
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "verification.create")).scalars().all()
    assert [e.outcome for e in events][-1] == "ok"
    assert str(change["amount_kzt"]) not in str([e.detail for e in events])  # no amount in the trail
    db.rollback()

    version = out["version"]
    bad = [
        {**change, "amount_kzt": None},  # an income needs its amount
        {**change, "kind": "member_left"},  # a member who left takes no month, source or amount
        {**change, "note": "  "},
        {**change, "source": "lottery"},
        {**change, "amount_kzt": -1},
    ]
    for body in bad:
        assert client.post(url, json={**body, "version": version}, headers=as_officer).status_code == 422, (
            body
        )
    left = {"kind": "member_left", "person_id": change["person_id"], "note": "Акт обследования"}
    r = client.post(url, json={**left, "version": version}, headers=as_officer)
    assert r.status_code == 422 and "applicant" in r.json()["detail"]  # the applicant cannot leave
    wrong_month = {**change, "month": "2001-01", "version": version}
    assert client.post(url, json=wrong_month, headers=as_officer).status_code == 422

    # roles, scope and the token
    analyst = token_headers(client, "analyst")
    assert client.post(url, json={**change, "version": version}, headers=analyst).status_code == 403
    other = token_headers(client, "officer2")
    assert client.post(url, json={**change, "version": version}, headers=other).status_code in (403, 404)
    assert client.post(url, json={**change, "version": version}).status_code == 401

    # decided: verified values change nothing
    decided = _decide(client, as_officer, out, version)
    again = client.post(url, json={**change, "version": decided["version"]}, headers=as_officer)
    assert again.status_code == 409


def test_a_member_who_left_is_recomputed_and_the_size_follows(client, as_officer, svc_payloads):
    payload = next(p for p in in_district(svc_payloads) if len(p["persons"]) >= 3)
    app = _submit(client, as_officer, copy.deepcopy(payload))
    member = next(p for p in app["snapshot"]["persons"] if p["role"] != "applicant")
    body = {"kind": "member_left", "person_id": member["person_id"], "note": "Акт", "version": app["version"]}
    r = client.post(f"/api/v1/applications/{app['id']}/verifications", json=body, headers=as_officer)
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["snapshot"]["persons"]) == len(app["snapshot"]["persons"]) - 1
    assert out["verified"][0]["kind"] == "member_left" and out["verified"][0]["declared"] is None
    assert _queue(client, as_officer)[app["id"]]["family_size"] == len(out["snapshot"]["persons"])


def test_a_supervisor_assigns_through_the_api(client, as_officer, svc_payloads, db):
    app = _submit(client, as_officer, in_district(svc_payloads)[0])
    url = f"/api/v1/applications/{app['id']}/assignment"
    supervisor = token_headers(client, "supervisor")

    assert client.put(url, json={"officer": "officer"}, headers=as_officer).status_code == 403
    officers = client.get(f"/api/v1/applications/{app['id']}/officers", headers=supervisor)
    assert officers.status_code == 200 and [o["username"] for o in officers.json()] == ["officer"]
    assert client.get(f"/api/v1/applications/{app['id']}/officers", headers=as_officer).status_code == 403
    for who in ("officer2", "nobody-such", "analyst"):  # another district, unknown, not an officer
        r = client.put(url, json={"officer": who}, headers=supervisor)
        assert r.status_code == 422 and r.json()["detail"].startswith("officer:"), who
    assert client.put(url, json={"officer": "officer"}).status_code == 401
    assert client.put(url, json={"officer": "officer", "extra": 1}, headers=supervisor).status_code == 422

    r = client.put(url, json={"officer": "officer"}, headers=supervisor)
    assert r.status_code == 200, r.text
    assert r.json()["assigned_to"] == "officer" and r.json()["version"] == app["version"]
    assert _queue(client, as_officer, assigned="me")[app["id"]]["assigned_to"] == "officer"
    assert app["id"] not in _queue(client, as_officer, assigned="none")
    got = client.get(f"/api/v1/applications/{app['id']}", headers=as_officer).json()
    assert got["assigned_to"] == "officer"

    r = client.put(url, json={"officer": None}, headers=supervisor)
    assert r.status_code == 200 and r.json()["assigned_to"] is None
    assert app["id"] in _queue(client, as_officer, assigned="none")
    db.rollback()
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "application.assign")).scalars().all()
    assert [e.detail["to"] for e in events if e.outcome == "ok"] == ["officer", None]
    assert [e.outcome for e in events if e.outcome != "ok"] == ["denied"] * 2  # the officer: assign, list
    db.rollback()


def test_another_districts_officer_cannot_reach_the_queue_items(client, as_officer, svc_payloads):
    other = in_district(svc_payloads, OTHER_DISTRICT)[0]
    officer2 = token_headers(client, "officer2")
    made = _submit(client, officer2, other)
    assert made["id"] not in _queue(client, as_officer)
    assert made["id"] not in _queue(client, as_officer, district=OTHER_DISTRICT)


def test_a_supervisor_of_another_region_can_neither_list_nor_assign(client, as_officer, svc_payloads, db):
    """The scope check comes with the role check (found missing in review): a supervisor of another
    region sees neither the case's officers nor can assign it, and nothing changes."""
    from atauly.service.users import create_user

    from .conftest import PASSWORD

    create_user(db, "supervisor_almaty", PASSWORD, "supervisor", None, "750000000")
    app = _submit(client, as_officer, in_district(svc_payloads)[0])
    other = token_headers(client, "supervisor_almaty")
    listed = client.get(f"/api/v1/applications/{app['id']}/officers", headers=other)
    assigned = client.put(
        f"/api/v1/applications/{app['id']}/assignment", json={"officer": "officer"}, headers=other
    )
    assert listed.status_code in (403, 404) and assigned.status_code in (403, 404)
    assert "officer" not in listed.text  # no officer's name leaks to another region
    got = client.get(f"/api/v1/applications/{app['id']}", headers=as_officer).json()
    assert got["assigned_to"] is None
