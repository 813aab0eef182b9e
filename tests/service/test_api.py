"""The casework API on SQLite and PostgreSQL: intake, recommendation, decisions, scope, bad input, audit."""

from __future__ import annotations

import copy

from sqlalchemy import func, select, update

from atauly.service import audit
from atauly.service.models import Application, AuditEvent, Decision

from .conftest import DISTRICT, OTHER_DISTRICT, PASSWORD, in_district, token_headers


def _count(db, model) -> int:
    db.rollback()
    n = db.execute(select(func.count()).select_from(model)).scalar_one()
    db.rollback()
    return n


def _denied(db, action: str) -> list[AuditEvent]:
    db.rollback()
    rows = (
        db.execute(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == "denied"))
        .scalars()
        .all()
    )
    db.rollback()
    return list(rows)


def test_submit_returns_the_recommendation_and_a_repeat_returns_the_same_application(
    client, as_officer, svc_payloads, db
):
    payload = in_district(svc_payloads)[0]
    r = client.post("/api/v1/applications", json=payload, headers=as_officer)
    assert r.status_code == 201, r.text
    body = r.json()
    rec = body["recommendation"]
    assert rec["mode"] == "model" and rec["model_version"].startswith("asp-demo@v")
    assert 0 <= rec["probability"] <= 1
    assert rec["recommended_decision"] in ("approve", "reject")
    assert rec["law"]["family_id"] == payload["family"]["family_id"]
    assert len(rec["reasons"]) >= 1 and rec["reasons"][0]["text"]
    assert len(rec["input_hash"]) == 64
    assert body["status"] == "new" and body["deadline"] > body["received_on"]

    again = client.post("/api/v1/applications", json=payload, headers=as_officer)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert _count(db, Application) == 1

    changed = copy.deepcopy(payload)
    changed["family"]["vehicles_owned"] = 1
    clash = client.post("/api/v1/applications", json=changed, headers=as_officer)
    assert clash.status_code == 409 and "idempotency_key" in clash.json()["detail"]
    assert _count(db, Application) == 1

    got = client.get(f"/api/v1/applications/{body['id']}?lang=kk", headers=as_officer)
    assert got.status_code == 200
    assert got.json()["recommendation"]["reasons"][0]["text"] != rec["reasons"][0]["text"]  # Kazakh


def test_content_is_the_key_when_no_key_is_given(client, as_officer, svc_payloads, db):
    payload = {k: v for k, v in in_district(svc_payloads)[1].items() if k != "idempotency_key"}
    first = client.post("/api/v1/applications", json=payload, headers=as_officer)
    second = client.post("/api/v1/applications", json=payload, headers=as_officer)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


def test_bad_input_gets_a_4xx_naming_the_problem_and_writes_nothing(client, as_officer, svc_payloads, db):
    payload = in_district(svc_payloads)[0]
    before = _count(db, Application)

    bad_iin = copy.deepcopy(payload)
    iin = bad_iin["persons"][0]["iin"]
    bad_iin["persons"][0]["iin"] = iin[:-1] + str((int(iin[-1]) + 1) % 10)
    r = client.post("/api/v1/applications", json=bad_iin, headers=as_officer)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "persons", 0, "iin"]
    assert iin not in r.text  # the IIN is never echoed

    unknown = copy.deepcopy(payload)
    unknown["family"]["district_kato"] = "799900000"
    r = client.post("/api/v1/applications", json=unknown, headers=as_officer)
    assert r.status_code == 422 and "unknown district" in r.json()["detail"]

    wrong_type = copy.deepcopy(payload)
    wrong_type["persons"][0]["birth_date"] = "yesterday"
    r = client.post("/api/v1/applications", json=wrong_type, headers=as_officer)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "birth_date"

    r = client.post(
        "/api/v1/applications",
        content=b'{"family": ',
        headers={**as_officer, "content-type": "application/json"},
    )
    assert r.status_code == 422 and "JSON" in r.text

    two_applicants = copy.deepcopy(payload)
    for p in two_applicants["persons"]:
        p["role"] = "applicant"
    if len(two_applicants["persons"]) > 1:
        r = client.post("/api/v1/applications", json=two_applicants, headers=as_officer)
        assert r.status_code == 422 and "applicant" in r.text

    other = copy.deepcopy(in_district(svc_payloads, OTHER_DISTRICT)[0])
    r = client.post("/api/v1/applications", json=other, headers=as_officer)
    assert r.status_code == 403
    assert _denied(db, "application.create")
    assert _count(db, Application) == before


def test_decisions_override_reason_stale_forms_and_scope(client, as_officer, svc_payloads, db):
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    app_id, version = created["id"], created["version"]
    recommended = created["recommendation"]["recommended_decision"]
    opposite = "reject" if recommended == "approve" else "approve"

    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": opposite, "version": version},
        headers=as_officer,
    )
    assert r.status_code == 422 and "reason_code" in r.json()["detail"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": opposite, "reason_code": "no_such_code", "version": version},
        headers=as_officer,
    )
    assert r.status_code == 422
    assert _count(db, Decision) == 0

    other_officer = token_headers(client, "officer2")
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": recommended, "version": version},
        headers=other_officer,
    )
    assert r.status_code == 403
    assert r.status_code == 403 and _denied(db, "decision.create.open")
    assert client.get(f"/api/v1/applications/{app_id}", headers=other_officer).status_code == 403
    assert _denied(db, "application.read")

    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={
            "outcome": opposite,
            "reason_code": "home_visit_findings",
            "comment": "visit",
            "version": version,
        },
        headers=as_officer,
    )
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == ("approved" if opposite == "approve" else "rejected")
    assert decided["decisions"][0]["override"] is True
    assert decided["version"] == version + 1

    stale = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": recommended, "version": version},
        headers=as_officer,
    )
    assert stale.status_code == 409 and "already decided" in stale.json()["detail"]
    assert _count(db, Decision) == 1


def test_home_visit_keeps_the_case_open_and_a_correction_reopens_it(client, as_officer, svc_payloads):
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[2], headers=as_officer
    ).json()
    app_id = created["id"]
    visit = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "home_visit", "version": created["version"]},
        headers=as_officer,
    )
    assert visit.json()["status"] == "home_visit"
    queue = client.get("/api/v1/applications", headers=as_officer).json()
    assert app_id in [a["id"] for a in queue]
    recommended = created["recommendation"]["recommended_decision"]
    done = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": recommended, "version": visit.json()["version"]},
        headers=as_officer,
    )
    assert done.status_code == 200 and done.json()["status"] in ("approved", "rejected")
    corr = client.post(
        f"/api/v1/applications/{app_id}/corrections",
        json={"fields": ["incomes"], "description": "Wages in May were lower"},
        headers=as_officer,
    )
    assert corr.status_code == 200 and corr.json()["status"] == "reopened"
    bad = client.post(
        f"/api/v1/applications/{app_id}/corrections",
        json={"fields": ["shoe_size"], "description": "x"},
        headers=as_officer,
    )
    assert bad.status_code == 422


def test_blind_mode_and_the_model_switch(client, as_officer, svc_payloads, db, app):
    from atauly.service.casework import set_district_settings
    from atauly.service.models import User

    sup = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
    set_district_settings(db, sup, [DISTRICT], blind_mode=True)
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[3], headers=as_officer
    ).json()
    assert created["recommendation"] is None  # hidden until the officer's own assessment
    app_id = created["id"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "approve", "version": created["version"]},
        headers=as_officer,
    )
    assert r.status_code == 409 and "assessment" in r.json()["detail"]
    # Answers of the other endpoints keep it hidden too.
    corr = client.post(
        f"/api/v1/applications/{app_id}/corrections",
        json={"fields": ["incomes"], "description": "x"},
        headers=as_officer,
    )
    assert corr.status_code == 200 and corr.json()["recommendation"] is None
    client.post(f"/api/v1/applications/{app_id}/assessment", json={"outcome": "approve"}, headers=as_officer)
    shown = client.get(f"/api/v1/applications/{app_id}", headers=as_officer).json()
    assert shown["recommendation"] is not None
    officer = db.execute(select(User).where(User.username == "officer")).scalar_one()
    try:
        set_district_settings(db, officer, [DISTRICT], model_enabled=False)
        raise AssertionError("an officer must not change the settings")
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "status", None) == 403

    set_district_settings(db, sup, [DISTRICT], blind_mode=False, model_enabled=False)
    law_only = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[4], headers=as_officer
    ).json()
    rec = law_only["recommendation"]
    assert rec["mode"] == "law" and rec["probability"] is None and rec["model_version"] is None
    assert rec["recommended_decision"] == ("approve" if rec["eligible_by_law"] else "reject")


def test_roles_analyst_sees_aggregates_only(client, svc_payloads, as_officer, db):
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    analyst = token_headers(client, "analyst")
    assert client.get(f"/api/v1/applications/{created['id']}", headers=analyst).status_code == 403
    assert client.get("/api/v1/applications", headers=analyst).status_code == 403
    stats = client.get("/api/v1/statistics", headers=analyst)
    assert stats.status_code == 200 and stats.json()["totals"]["applications"] == "<10"  # a small cell
    assert "snapshot" not in stats.text and created["family_id"] not in stats.text
    assert client.get("/api/v1/statistics", headers={"Authorization": "Bearer nope"}).status_code == 401
    client.app.state.refusals.flush(db, force=True)  # bad tokens are tallied, written once a minute
    assert _denied(db, "auth.token")


def test_statistics_count_agreement_overrides_and_amounts(client, as_officer, svc_payloads):
    apps = [
        client.post("/api/v1/applications", json=p, headers=as_officer).json()
        for p in in_district(svc_payloads)[:4]
    ]
    outcomes = []
    for k, a in enumerate(apps):
        rec = a["recommendation"]["recommended_decision"]
        flip = k == 0
        outcome = ("reject" if rec == "approve" else "approve") if flip else rec
        body = {"outcome": outcome, "version": a["version"]}
        if flip:
            body |= {"reason_code": "income_differs", "comment": "Справка о доходах"}
        assert (
            client.post(f"/api/v1/applications/{a['id']}/decision", json=body, headers=as_officer).status_code
            == 200
        )
        outcomes.append(outcome)
    s = client.get("/api/v1/statistics", headers=as_officer).json()
    t = s["totals"]
    assert t["decided"] == 4 and t["overrides"] == 1 and t["agreement"] == 0.75
    assert t["approved"] == outcomes.count("approve")
    assert s["overrides_by_reason"][0]["reason_code"] == "income_differs"
    assert s["by_district"][0]["district"] == DISTRICT
    assert s["by_model"][0]["model_version"].startswith("asp-demo@")
    other = client.get(f"/api/v1/statistics?district={OTHER_DISTRICT}", headers=as_officer)
    assert other.status_code == 403


def test_login_is_rate_limited_and_audited(client, db):
    for _ in range(5):
        r = client.post("/api/v1/auth/token", data={"username": "officer", "password": "wrong-password"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "officer", "password": PASSWORD})
    assert r.status_code == 429
    # the wrong passwords one by one; the refusal during the lock-out is tallied (one summary a minute)
    assert len(_denied(db, "auth.login")) == 5
    client.app.state.refusals.flush(db, force=True)
    assert len(_denied(db, "auth.login")) == 6


def test_the_audit_chain_names_the_first_edited_or_deleted_event(client, as_officer, svc_payloads, db):
    for p in in_district(svc_payloads)[:3]:
        client.post("/api/v1/applications", json=p, headers=as_officer)
    db.rollback()
    result = audit.verify(db)
    assert result.ok and result.checked >= 8
    db.rollback()

    original = db.get(AuditEvent, 4).actor
    db.rollback()
    db.execute(update(AuditEvent).where(AuditEvent.id == 4).values(actor="someone-else"))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.first_bad == 4 and "edited" in result.problem
    db.rollback()
    db.execute(update(AuditEvent).where(AuditEvent.id == 4).values(actor=original))
    db.commit()

    ev6 = db.get(AuditEvent, 6)
    db.delete(ev6)
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.first_bad == 6 and "deleted" in result.problem
