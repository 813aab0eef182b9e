"""PostgreSQL's pool pings a connection only when it may be dead (idle a while, or its socket readable), not
on every checkout — and a connection the database closed still costs no failed request."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from atauly.service import db as service_db
from atauly.service.db import make_engine

from .conftest import PG_SERVER, in_district

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _terminate_backends(url: str) -> int:
    """End every server process of the database ``url`` names, as a restart or an administrator would."""
    name = url.rsplit("/", 1)[1]
    others = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as conn:
        rows = conn.execute(f"SELECT pg_terminate_backend(pid) {others}", (name,)).fetchall()
        for _ in range(500):  # the signal is sent; each backend ends (and closes its socket) soon after
            if conn.execute(f"SELECT count(*) {others}", (name,)).fetchone()[0] == 0:
                break
            time.sleep(0.01)
    return len(rows)


def _pings(monkeypatch, engine) -> list[int]:
    seen: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection):
        seen.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def test_a_busy_connection_is_not_pinged_on_each_checkout(database_url, monkeypatch):
    engine = make_engine(database_url)
    try:
        pings = _pings(monkeypatch, engine)
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert pings == []
        monkeypatch.setattr(service_db, "PING_AFTER_IDLE_S", 0.0)  # idle "a while": pinged again
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert pings == [1]
    finally:
        engine.dispose()


def test_connections_the_database_closed_are_replaced_before_use(database_url, monkeypatch):
    engine = make_engine(database_url)
    try:
        conns = [engine.connect() for _ in range(3)]  # three pooled connections
        for conn in conns:
            conn.execute(text("SELECT 1"))
            conn.close()
        pings = _pings(monkeypatch, engine)
        assert _terminate_backends(database_url) >= 3
        for _ in range(3):  # none of them fails, though each was idle far less than PING_AFTER_IDLE_S
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert pings  # found by the socket's state, then the ping
    finally:
        engine.dispose()


def test_submissions_go_on_after_the_database_closed_the_services_connections(
    client, app, svc_payloads, as_officer
):
    """The whole request (token check, intake, audit) right after every backend was terminated: no 500."""
    mine = in_district(svc_payloads)
    assert client.post("/api/v1/applications", json=mine[0], headers=as_officer).status_code == 201
    url = app.state.db_engine.url.render_as_string(hide_password=False)
    for payload in mine[1:4]:
        assert _terminate_backends(url) >= 1
        r = client.post("/api/v1/applications", json=payload, headers=as_officer)
        assert r.status_code == 201, r.text
