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
