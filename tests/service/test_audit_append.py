"""Appending to the audit chain with plain SQL statements (no ORM unit of work): concurrent appends stay
linear, a head read earlier in the session is not stale, a rolled-back append leaves nothing."""

from __future__ import annotations

import threading

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
