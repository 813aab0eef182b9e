"""Appending to the audit chain with plain SQL statements (no ORM unit of work): concurrent appends stay
linear, a head read earlier in the session is not stale, a rolled-back append leaves nothing."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from atauly.service import audit
from atauly.service.audit import AuditKeys
from atauly.service.db import make_engine, session_factory
from atauly.service.models import AuditEvent, AuditHead
from atauly.settings import Settings


@pytest.fixture
def sessions(database_url, tmp_path):
    engine = make_engine(database_url)
    yield session_factory(engine, AuditKeys.load(Settings(home=tmp_path, database_url=database_url)))
    engine.dispose()


def test_concurrent_appends_keep_one_linear_verified_chain(sessions):
    def writer(k: int) -> None:
        for i in range(8):
            with sessions() as db:
                audit.append(db, "test.event", actor=f"writer-{k}", detail={"i": i})
                db.commit()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sessions() as db:
        ids = list(db.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
        assert ids == list(range(1, 49))
        head = db.execute(select(AuditHead)).scalar_one()
        last = db.get(AuditEvent, 48)
        assert (head.last_id, head.hash) == (48, last.hash)
        assert audit.verify(db).ok


def test_a_head_read_earlier_in_the_session_is_refreshed_and_a_rollback_leaves_nothing(sessions):
    with sessions() as db:
        before = db.execute(select(AuditHead)).scalar_one()  # now in the session's identity map
        first = audit.append(db, "test.one")
        again = db.execute(select(AuditHead)).scalar_one()
        assert again is before and (again.last_id, again.hash) == (first.id, first.hash)
        second = audit.append(db, "test.two")
        assert second.prev_hash == first.hash and second.id == first.id + 1
        db.commit()
        audit.append(db, "test.rolled-back")
        db.rollback()
        assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 2
        assert db.execute(select(AuditHead.last_id)).scalar_one() == second.id
        assert audit.verify(db).ok


def test_on_postgresql_the_event_and_the_head_are_written_in_one_statement(sessions):
    """Issue 17 (submissions): the head's row lock is held from the ``UPDATE … RETURNING`` to the commit;
    on PostgreSQL the event and the new head go in one round trip (SQLite: two statements)."""
    from sqlalchemy import event

    with sessions() as db:
        bind = db.get_bind()
        seen: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(" ".join(statement.split()))

        event.listen(bind, "before_cursor_execute", before)
        try:
            ev = audit.append(db, "test.event", actor="one", detail={"k": 1})
            db.commit()
        finally:
            event.remove(bind, "before_cursor_execute", before)
        writes = [s for s in seen if s.startswith(("INSERT", "UPDATE", "WITH"))]
        if bind.dialect.name == "postgresql":
            assert len(writes) == 2, writes  # the head locked and read; the event with the new head
            assert writes[1].startswith("WITH") and "INSERT INTO audit_events" in writes[1]
        else:
            assert len(writes) == 3, writes
        stored = db.get(AuditEvent, ev.id)
        assert stored.hash == ev.hash and stored.prev_hash == ev.prev_hash
        assert db.get(AuditHead, 1).hash == ev.hash and db.get(AuditHead, 1).last_id == ev.id
        assert audit.verify(db).ok


def test_with_commit_the_event_the_head_and_the_commit_leave_in_one_round_trip(sessions, tmp_path):
    """Issue 17 (officers on PostgreSQL): ``append(commit=True)`` sends the COMMIT before the server has
    answered the event's statement (libpq's trace: no backend message between them), so the head's row lock
    is released without waiting for this thread to come back. SQLite: the append commits."""
    with sessions() as db:
        db.execute(select(AuditHead.last_id))  # a transaction under way, as a request's is
        if db.get_bind().dialect.name != "postgresql":
            ev = audit.append(db, "test.event", actor="one", detail={"k": 1}, commit=True)
            assert not db.in_transaction()
        else:
            from psycopg.pq import Trace

            raw = db.connection().connection.dbapi_connection
            trace = tmp_path / "libpq.trace"
            with open(trace, "w") as f:
                raw.pgconn.trace(f.fileno())
                raw.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
                try:
                    ev = audit.append(db, "test.event", actor="one", detail={"k": 1}, commit=True)
                finally:
                    raw.pgconn.untrace()
            lines = trace.read_text().splitlines()
            sent = next(k for k, line in enumerate(lines) if line.startswith("F") and "WITH event" in line)
            commit = next(k for k, line in enumerate(lines) if line.startswith("F") and "COMMIT" in line)
            assert sent < commit
            assert not any(line.startswith("B") for line in lines[sent:commit]), lines[sent : commit + 1]
            assert raw.info.transaction_status.name == "IDLE"
    with sessions() as other:  # committed: another session sees the event and the head
        stored = other.get(AuditEvent, ev.id)
        assert stored is not None and stored.hash == ev.hash and stored.detail == {"k": 1}
        assert other.execute(select(AuditHead.last_id, AuditHead.hash)).one() == (ev.id, ev.hash)
        assert audit.verify(other).ok


def test_a_failed_append_with_commit_commits_nothing_and_raises_sqlalchemys_error(sessions):
    """An event that cannot be written (here its id taken behind the head's back) fails the whole
    transaction: the change before it is not committed, and the error is SQLAlchemy's (callers catch it)."""
    from sqlalchemy.exc import IntegrityError

    from atauly.service.models import DistrictSetting

    with sessions() as db:
        first = audit.append(db, "test.one", commit=True)
        db.execute(  # an event id the head does not know yet: the next append collides with it
            AuditEvent.__table__.insert().values(
                id=first.id + 1,
                at=first.at,
                actor="x",
                role="x",
                action="x",
                object_type="",
                object_id="",
                outcome="ok",
                detail={},
                prev_hash="",
                hash="",
            )
        )
        db.commit()
        db.add(DistrictSetting(district_kato="999999999", blind_mode=True, model_enabled=True))
        with pytest.raises(IntegrityError):
            audit.append(db, "test.two", commit=True)
        db.rollback()
        assert db.get(DistrictSetting, "999999999") is None
        assert db.execute(select(AuditHead.last_id)).scalar_one() == first.id


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_officers_pages_end_their_transaction_with_the_audit_event(
    client, app, as_officer, svc_payloads, monkeypatch
):
    """Issue 17: the queue, the case and the decision each end with their audit event, written with the
    COMMIT in one round trip (``append(commit=True)``): nothing of theirs follows it under the head's lock.
    The decision's opening is appended in the decision's transaction, just before the decision's event
    (one acquisition of the head's lock for both)."""
    from .conftest import in_district

    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    pipelined: list[str] = []
    write = audit._write_and_commit
    monkeypatch.setattr(
        audit,
        "_write_and_commit",
        lambda db, events: (pipelined.extend(ev.action for ev in events), write(db, events)),
    )
    plain: list[str] = []
    real_append = audit.append

    def append(db, action, **kw):
        if not kw.get("commit"):
            plain.append(action)
        return real_append(db, action, **kw)

    monkeypatch.setattr(audit, "append", append)
    url = f"/api/v1/applications/{created['id']}"
    assert client.get("/api/v1/applications", headers=as_officer).status_code == 200
    case = client.get(url, headers=as_officer).json()
    rec = case["recommendation"]
    outcome = rec["recommended_decision"]
    outcome = "home_visit" if outcome == "approve" and not rec["eligible_by_law"] else outcome
    r = client.post(
        f"{url}/decision", json={"outcome": outcome, "version": case["version"]}, headers=as_officer
    )
    assert r.status_code == 200, r.text
    assert pipelined == ["queue.read", "application.read", "decision.create"]
    assert plain == ["decision.create.open"]
    with app.state.sessions() as db:
        assert audit.verify(db).ok


def test_append_with_commit_inside_a_savepoint_commits_as_the_session_does(sessions):
    """Inside ``begin_nested()`` the append commits through the session, as ``db.commit()`` does (the
    savepoint released, the outer transaction committed) — on PostgreSQL not a COMMIT sent behind the
    session's back, which would leave it releasing a savepoint the server has forgotten."""
    from atauly.service.models import DistrictSetting

    with sessions() as db:
        db.add(DistrictSetting(district_kato="999999998", blind_mode=True, model_enabled=True))
        db.flush()
        db.begin_nested()
        ev = audit.append(db, "test.nested", commit=True)
        assert not db.in_transaction()
        assert db.execute(select(AuditHead.last_id)).scalar_one() == ev.id  # the session is usable
        db.rollback()
    with sessions() as other:
        assert other.get(DistrictSetting, "999999998") is not None
        assert other.get(AuditEvent, ev.id).hash == ev.hash
        assert audit.verify(other).ok


def test_append_with_commit_leaves_a_callers_own_transaction_to_its_caller(sessions):
    """A session joined to a transaction its caller began on a connection does not commit that
    transaction, and neither does the append: the caller's rollback leaves nothing of it."""
    engine = sessions.kw["bind"]
    with engine.connect() as conn:
        outer = conn.begin()
        with sessions(bind=conn) as db:
            audit.append(db, "test.joined", commit=True)
        outer.rollback()
    with sessions() as other:
        assert other.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0
        assert other.execute(select(AuditHead.last_id)).scalar_one() == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_lost_during_the_pipelined_commit_is_invalidated(sessions, monkeypatch):
    """The server ends the connection between the head's lock and the pipelined event and COMMIT: the
    error is SQLAlchemy's, marked a disconnect, the connection invalidated — so the caller's rollback
    raises no second error hiding the first, and the next transaction gets a live connection."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    from .conftest import PG_SERVER

    real_sql = audit._pg_append_sql

    def terminated_first() -> str:  # called in the pipelined path only, after the head's UPDATE
        with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(500):  # the signal is sent; the backend ends (and closes its socket) soon after
                if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                    break
                time.sleep(0.01)
        return real_sql()

    with sessions() as db:
        first = audit.append(db, "test.before", commit=True)
        pid = db.connection().connection.dbapi_connection.info.backend_pid
        monkeypatch.setattr(audit, "_pg_append_sql", terminated_first)
        with pytest.raises(OperationalError) as raised:
            audit.append(db, "test.lost", commit=True)
        assert raised.value.connection_invalidated
        db.rollback()  # no second error
        monkeypatch.setattr(audit, "_pg_append_sql", real_sql)
        after = audit.append(db, "test.after", commit=True)  # a new connection from the pool
        assert db.connection().connection.dbapi_connection.info.backend_pid != pid
    with sessions() as other:
        actions = list(other.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
        assert actions == ["test.before", "test.after"] and after.prev_hash == first.hash
        assert audit.verify(other).ok
