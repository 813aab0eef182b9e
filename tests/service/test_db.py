"""The ORM models and the Alembic migrations describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from atauly.service.db import make_engine, migrate
from atauly.service.models import Base


@pytest.mark.empty_database
def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second run is a no-op
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], diff


def test_production_passwords_use_the_full_argon2_cost():
    """The service's tests hash with argon2's smallest cost (conftest); production keeps 64 MiB and 4 lanes."""
    from . import conftest

    assert conftest.PRODUCTION_HASHER is not None
    assert conftest.PRODUCTION_HASHER.memory_cost >= 65536
    assert conftest.PRODUCTION_HASHER.parallelism >= 4
    assert conftest.PRODUCTION_HASHER.time_cost >= 3


@pytest.mark.empty_database
def test_the_sign_in_limits_migration_upgrades_a_database_with_users_and_their_sessions(database_url):
    """0010 drops the users' old lock-out columns: on SQLite a batch copy of ``users`` would drop the table,
    which the sessions' foreign key refuses once a user has signed in."""
    from datetime import datetime

    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect, text

    from atauly.service.db import alembic_config

    engine = make_engine(database_url)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    before = ScriptDirectory.from_config(cfg).get_revision("0010_service").down_revision
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, before)  # the schema just before 0010, whatever it follows
    now = datetime(2026, 12, 4)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO users (id, username, password_hash, role, active, created_at, failed_logins) "
                "VALUES (1, 'officer', 'x', 'officer', true, :now, 3)"
            ),
            {"now": now},
        )
        c.execute(
            text(
                "INSERT INTO sessions (token_hash, user_id, kind, csrf_token, created_at, expires_at) "
                "VALUES ('h', 1, 'web', 'c', :now, :now)"
            ),
            {"now": now},
        )
    migrate(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 1
    engine.dispose()
    assert "failed_logins" not in columns and "username" in columns


def test_a_database_other_than_sqlite_or_postgresql_is_refused_when_the_engine_is_made():
    with pytest.raises(ValueError, match="SQLite or PostgreSQL, not mysql"):
        make_engine("mysql://someone:secret@127.0.0.1/atauly")


def test_sqlite_connections_keep_a_page_cache_for_a_large_database(tmp_path):
    """Issue 17: the writer and the readers keep a larger page cache than SQLite's default 2 MB, which made
    every insert into a 200k-application database read its index pages again."""
    from sqlalchemy import text

    from atauly.service.db import SQLITE_CACHE_KIB, SQLITE_READ_CACHE_KIB, make_engine, make_read_engine

    url = f"sqlite:///{tmp_path / 'a.db'}"
    writer = make_engine(url)
    reader = make_read_engine(url, writer)
    try:
        for engine, kib in ((writer, SQLITE_CACHE_KIB), (reader, SQLITE_READ_CACHE_KIB)):
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA cache_size")).scalar() == -kib
    finally:
        writer.dispose()
        reader.dispose()
