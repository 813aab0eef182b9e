"""The queue's queries read a district's (region's) applications in deadline order from an index, so a page
reads its own rows only, whatever the number of applications (0012_service_idx; the plans and timings at
200k applications: benchmarks/explain_service.py). SQLite plans without statistics, as at any size."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from atauly.service import casework
from atauly.service.audit import AuditKeys
from atauly.service.db import make_engine, session_factory
from atauly.service.users import create_user
from atauly.settings import Settings

from .conftest import DISTRICT, REGION


def _plans(engine, run) -> list[tuple[str, list[str]]]:
    """(SQL, EXPLAIN QUERY PLAN) of each SELECT on applications that ``run()`` sends."""
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM applications" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    out = []
    with engine.connect() as conn:
        for statement, parameters in seen:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            out.append((statement, [r[-1] for r in rows]))
        conn.rollback()
    return out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_queue_next_case_and_quarters_use_the_queue_indexes(database_url, tmp_path):
    engine = make_engine(database_url)
    sessions = session_factory(engine, AuditKeys.load(Settings(home=tmp_path, database_url=database_url)))
    with sessions() as db:
        officer = create_user(db, "q-officer", "q-pass-123", "officer", DISTRICT, None)
        supervisor = create_user(db, "q-supervisor", "q-pass-123", "supervisor", None, REGION)
    for user, index in (
        (officer, "ix_applications_queue_district"),
        (supervisor, "ix_applications_queue_region"),
    ):

        def run(user=user):
            with sessions() as db:
                casework.queue(db, user, limit=50, offset=100)
                casework.next_case(db, user, 0)
                casework.queue_quarters(db, user)

        plans = _plans(engine, run)
        assert len(plans) == 3
        for statement, plan in plans:
            assert any(index in line for line in plan), (statement, plan)
        queue_plan = plans[0][1]
        assert not any("TEMP B-TREE FOR ORDER BY" in line for line in queue_plan), queue_plan
        assert all("COVERING INDEX" in " ".join(plan) for _, plan in plans[1:])  # no row is read
    engine.dispose()
