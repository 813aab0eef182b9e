"""Issue 17 (officers on PostgreSQL): a decision takes the audit head's lock once. The case's opening
(``decision.create.open``) is recorded with the decision, in its transaction, and alone when the decision is
refused or fails — the trail shows every read of the family's data as before. SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from atauly.service import audit
from atauly.service.models import AuditEvent, Decision, User

from .conftest import in_district


@contextmanager
def head_locks(engine):
    """The transactions (on ``engine``) that locked the audit head while in the block: each append starts
    with ``UPDATE audit_head … RETURNING``; the first in a transaction waits for the lock, later ones in the
    same transaction hold it already. Yields a list filled with one entry per such transaction."""
    locked: list[int] = []
    open_tx: dict[int, int] = {}  # connection -> number of its current transaction
    count = [0]

    def begin(conn):
        count[0] += 1
        open_tx[id(conn)] = count[0]

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("UPDATE audit_head") and "RETURNING" in statement:
            tx = open_tx.get(id(conn))
            if tx not in locked:
                locked.append(tx)

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield locked
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "begin", begin)


def _last_id(db) -> int:
    last = db.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()
    db.rollback()  # SQLite: the service's one connection (and its write lock) back to the service
    return last


def _since(db, first: int) -> list[tuple[int, str, str]]:
    rows = [
        tuple(r)
        for r in db.execute(
            select(AuditEvent.id, AuditEvent.action, AuditEvent.outcome)
            .where(AuditEvent.id > first)
            .order_by(AuditEvent.id)
        )
    ]
    db.rollback()
    return rows


def _case(client, as_officer, svc_payloads) -> tuple[str, dict, str]:
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    url = f"/api/v1/applications/{created['id']}"
    case = client.get(url, headers=as_officer).json()
    rec = case["recommendation"]
    outcome = rec["recommended_decision"]
    outcome = "home_visit" if outcome == "approve" and not rec["eligible_by_law"] else outcome
    return url, case, outcome


def test_a_decision_records_its_opening_and_itself_under_one_lock_of_the_head(
    client, app, as_officer, svc_payloads, db
):
    url, case, outcome = _case(client, as_officer, svc_payloads)
    first = _last_id(db)
    with head_locks(app.state.db_engine) as locked:
        r = client.post(
            f"{url}/decision", json={"outcome": outcome, "version": case["version"]}, headers=as_officer
        )
    assert r.status_code == 200, r.text
    events = _since(db, first)
    assert [(a, o) for _, a, o in events] == [("decision.create.open", "ok"), ("decision.create", "ok")]
    assert events[1][0] == events[0][0] + 1  # consecutive: nothing between the opening and the decision
    assert len(locked) == 1, locked  # one transaction took the head's lock for both
    assert audit.verify(db).ok


def test_a_refused_decision_records_its_opening_alone(client, app, as_officer, svc_payloads, db):
    """A stale form (409) and a departure without its reason (422): refused, nothing written but the read
    of the case, as before the decision was tried; the chain verifies."""
    url, case, outcome = _case(client, as_officer, svc_payloads)
    opposite = "reject" if case["recommendation"]["recommended_decision"] == "approve" else "approve"
    for body, status in (
        ({"outcome": outcome, "version": case["version"] + 1}, 409),
        ({"outcome": opposite, "version": case["version"]}, 422),
    ):
        first = _last_id(db)
        r = client.post(f"{url}/decision", json=body, headers=as_officer)
        assert r.status_code == status, r.text
        assert [(a, o) for _, a, o in _since(db, first)] == [("decision.create.open", "ok")]
    assert db.execute(select(func.count()).select_from(Decision)).scalar_one() == 0
    db.rollback()
    assert audit.verify(db).ok


def test_a_decision_failing_after_its_opening_was_appended_records_the_opening_alone(
    client, app, as_officer, svc_payloads, db, monkeypatch
):
    """The decision's own event fails (the opening already appended in its transaction): all of it is
    rolled back, the opening is recorded alone and the error goes on to the caller."""
    from atauly.service import deciding
    from atauly.service.schemas import DecisionIn

    url, case, outcome = _case(client, as_officer, svc_payloads)
    real = audit.append

    def append(db, action, **kw):
        if action == "decision.create":
            raise RuntimeError("the decision's event could not be written")
        return real(db, action, **kw)

    monkeypatch.setattr(audit, "append", append)
    first = _last_id(db)
    with app.state.sessions() as session:
        officer = session.execute(select(User).where(User.username == "officer")).scalar_one()
        with pytest.raises(RuntimeError, match="could not be written"):
            deciding.decide(
                session, officer, case["id"], DecisionIn(outcome=outcome, version=case["version"])
            )
    assert [(a, o) for _, a, o in _since(db, first)] == [("decision.create.open", "ok")]
    assert db.execute(select(func.count()).select_from(Decision)).scalar_one() == 0
    db.rollback()
    assert audit.verify(db).ok


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_decision_that_recomputes_first_records_its_opening_before_the_recompute(
    client, as_officer, svc_payloads, db
):
    """The recompute commits its own work and events: the opening read before it is recorded first, as
    ever; the case loaded again after it is opened again, recorded with the decision (or alone if refused)."""
    from .test_photo_facts import _eligible_application, _stale_by_act

    recomputed = ["inspection.read", "recommendation.recompute.open", "recommendation.recompute"]
    for facts, status, last in (
        ({"livestock_heads": None}, 200, ["decision.create.open", "decision.create"]),
        ({"commission_found_no_need": True}, 409, ["decision.create.open"]),
    ):
        body = _eligible_application(client, as_officer, svc_payloads)
        if facts == {"livestock_heads": None}:  # the same facts as submitted: the same result, decided
            facts = {"livestock_heads": int(body["snapshot"]["families"][0].get("livestock_heads") or 0)}
        _stale_by_act(db, body["id"], {"dwelling_type": "house", **facts})
        first = _last_id(db)
        r = client.post(
            f"/api/v1/applications/{body['id']}/decision",
            json={"outcome": "approve", "version": body["version"]},
            headers=as_officer,
        )
        assert r.status_code == status, r.text
        assert [a for _, a, _ in _since(db, first)] == ["decision.create.open", *recomputed, *last]
    assert audit.verify(db).ok
