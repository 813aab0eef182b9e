"""Database engine, sessions and migrations.

SQLite file under ``ATAULY_HOME`` by default; PostgreSQL when ``ATAULY_DATABASE_URL`` is set. Other
databases are refused when the engine is made: the sign-in limits and the statistics use SQLite's and
PostgreSQL's own SQL (upserts, indexes). The schema is Alembic's: :func:`migrate` brings a database to the latest
revision, and the service runs it at start-up.
"""

from __future__ import annotations

import select
import time
from pathlib import Path

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


#: The databases the service runs on (SQLAlchemy backend names).
BACKENDS = ("sqlite", "postgresql")


#: SQLite's page cache of the one write connection, in KiB (SQLite's default is 2,000: 2 MB). With 200,000
#: applications the indexes a submission inserts into no longer fit in 2 MB, and every insert read their
#: pages again from the operating system; 64 MiB (with 64 MiB for the readers too) gave 6–15 % more
#: submissions a second at 20 clients (three alternating pairs of runs, issue 17).
SQLITE_CACHE_KIB = 65536
#: The same for each connection of the read pool (up to 2 + 10 overflow a process): smaller, so that a
#: busy process with a large database stays within 64 + 12 × 16 = 256 MiB of page caches.
SQLITE_READ_CACHE_KIB = 16384


def make_engine(url: str) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend not in BACKENDS:
        raise ValueError(f"the service runs on SQLite or PostgreSQL, not {backend} (ATAULY_DATABASE_URL)")
    if url.startswith("sqlite"):
        path = make_url(url).database
        pool = {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Every transaction holds SQLite's one write lock (BEGIN IMMEDIATE, below), so one connection
            # serves as well as many, and waiting for it in the pool's queue is first come, first served.
            # With several connections the waiters polled the lock in SQLite's busy handler (sleeps of up to
            # 100 ms): slow under load, and some starved past the timeout ("database is locked").
            pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # WAL: readers never wait for the writer
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            # Every transaction takes SQLite's write lock at BEGIN: nearly all of them write (an audit event
            # for each read of personal data), and a deferred transaction that read first could not later
            # upgrade to a write once another connection had committed (SQLITE_BUSY_SNAPSHOT).
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = create_engine(url, pool_size=20, max_overflow=20)
    _ping_when_needed(engine)
    return engine


#: A pooled PostgreSQL connection idle at least this long is pinged before it is handed out.
PING_AFTER_IDLE_S = 10.0


def _ping_when_needed(engine: Engine) -> None:
    """Ping a pooled connection before use only when it may be dead: it has been idle a while, or its socket
    has something to read. SQLAlchemy's ``pool_pre_ping`` sent a ``SELECT 1`` on every checkout (a round
    trip, ≈ 9 % of a worker's CPU under load, several checkouts a request). A connection that sits in the
    pool between transactions is sent nothing by PostgreSQL unless it is being closed: a terminated backend
    (``pg_terminate_backend``, a restart, a crash) writes its FATAL error and closes the socket, which then
    polls readable at once — so a database restart still costs no failed request. A failed ping replaces
    the connection and invalidates the pool's older ones, as the pre-ping did (the pool tries again). A
    connection closed in the instant between this check and its first statement fails that request, as
    one closed between the pre-ping and the statement did."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:  # a new connection: just made
            return
        if time.monotonic() - idle_since < PING_AFTER_IDLE_S and not _has_input(dbapi_connection):
            return
        if not engine.dialect._do_ping_w_event(dbapi_connection):
            raise exc.InvalidatePoolError()


def _has_input(dbapi_connection) -> bool:
    """Whether an idle connection's socket is readable (a notice, or the server's close), without waiting;
    True when it cannot be asked (then the ping decides)."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 — a closed or broken connection: let the ping find out
        return True


def make_read_engine(url: str, engine: Engine) -> Engine:
    """Connections for long reads (statistics). On SQLite, a pool of its own whose transactions do not
    take the write lock (WAL: they read a snapshot while the one writer goes on), read-only; elsewhere the
    service's own engine."""
    if not url.startswith("sqlite") or make_url(url).database in (None, "", ":memory:"):
        return engine
    reader = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=2)

    @event.listens_for(reader, "connect")
    def _pragmas(dbapi_connection, _record):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA query_only=1")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_READ_CACHE_KIB}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return reader


def session_factory(engine: Engine, audit_keys=None) -> sessionmaker:
    """Sessions on ``engine``; ``audit_keys`` (:class:`.audit.AuditKeys`) key the audit chain's hashes
    (without them, the settings' keys are loaded when the first event is written)."""
    info = {"audit_keys": audit_keys} if audit_keys is not None else {}
    return sessionmaker(engine, expire_on_commit=False, info=info)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine_or_url: Engine | str) -> None:
    """Upgrade the database to the latest migration (creating it when empty)."""
    from alembic import command

    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
