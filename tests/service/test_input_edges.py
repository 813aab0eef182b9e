"""Edge inputs that once made the service answer 500 (found by the schemathesis run), on both databases."""

from __future__ import annotations

from .conftest import in_district


def test_ids_and_offsets_beyond_any_row_are_404_and_an_empty_page(client, as_officer, svc_payloads):
    created = client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    assert created.status_code == 201
    for app_id in (2**31, 2**63 - 1, 2**63, 10**30, 0, -1):
        r = client.get(f"/api/v1/applications/{app_id}", headers=as_officer)
        assert r.status_code == 404, (app_id, r.text)
        r = client.post(
            f"/api/v1/applications/{app_id}/decision",
            json={"outcome": "approve", "version": 1},
            headers=as_officer,
        )
        assert r.status_code == 404, (app_id, r.text)
    for offset in (2**63 - 1, 2**63, 10**30):
        r = client.get(f"/api/v1/applications?offset={offset}", headers=as_officer)
        assert r.status_code == 200 and r.json() == [], (offset, r.text)


def test_an_application_dated_before_the_law_is_refused_with_422(client, as_officer, svc_payloads):
    from datetime import date

    from atauly.service.seed import shift_to

    payload = in_district(svc_payloads)[1]
    for day in ("0001-01-03", "1900-01-02", "2016-07-01", "2018-03-30"):
        old = {**payload, "idempotency_key": None, "family": {**payload["family"], "application_date": day}}
        r = client.post("/api/v1/applications", json=old, headers=as_officer)
        assert r.status_code == 422 and "application_date" in r.json()["detail"], (day, r.text)
    first = shift_to(payload, date(2018, 4, 2))
    assert client.post("/api/v1/applications", json=first, headers=as_officer).status_code == 201


def test_nul_characters_are_refused_with_422_not_stored(client, as_officer, svc_payloads):
    """PostgreSQL's text cannot hold NUL (it answered 500); refused the same way on both databases."""
    payload = in_district(svc_payloads)[2]
    r = client.post("/api/v1/applications", json={**payload, "idempotency_key": "k\x00"}, headers=as_officer)
    assert r.status_code == 422 and "idempotency_key" in str(r.json()["detail"][0]["loc"])
    app_id = client.post("/api/v1/applications", json=payload, headers=as_officer).json()["id"]
    r = client.post(
        f"/api/v1/applications/{app_id}/decision",
        json={"outcome": "approve", "reason_code": "other", "comment": "a\x00b", "version": 1},
        headers=as_officer,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "comment"
    r = client.post(
        f"/api/v1/applications/{app_id}/corrections",
        json={"fields": ["incomes"], "description": "\x00"},
        headers=as_officer,
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "description"
    r = client.post("/api/v1/auth/token", data={"username": "officer\x00", "password": "whatever-1"})
    assert r.status_code == 401


def _job(payload: dict, quarter: str | None = None):
    from atauly.service.casework import quarter_of
    from atauly.service.engine import Job
    from atauly.service.intake import snapshot_of
    from atauly.service.schemas import ApplicationIn

    app = ApplicationIn.model_validate(payload)
    return Job(snapshot_of(app), quarter or quarter_of(app.family.application_date), True)


def test_one_application_the_law_cannot_handle_does_not_fail_its_batch(svc_engine, svc_payloads):
    import pytest

    ok = _job(svc_payloads[0])
    broken = _job(svc_payloads[1], "1Q1")  # no law for that quarter: the batch raises
    svc_engine.run_batch([broken, ok])
    assert ok.future.result(timeout=0).eligible in (True, False)
    with pytest.raises(ValueError):
        broken.future.result(timeout=0)


def test_the_same_person_in_two_batched_applications_is_no_duplicate(svc_engine, svc_payloads):
    alone = _job(svc_payloads[0])
    svc_engine.run_batch([alone])
    first, again, other = _job(svc_payloads[0]), _job(svc_payloads[0]), _job(svc_payloads[1])
    svc_engine.run_batch([first, other, again])
    for job in (first, again):
        assert job.future.result(timeout=0) == alone.future.result(timeout=0)
    assert other.future.result(timeout=0).law["family_id"] == svc_payloads[1]["family"]["family_id"]
