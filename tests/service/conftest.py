"""Service fixtures: a generated region with a trained model, and the app on SQLite and on PostgreSQL.

PostgreSQL listens on 127.0.0.1:5432 here and in CI (trust auth); each test session creates a database of
its own and drops it at the end. ``ATAULY_TEST_PG`` overrides the server URL.
"""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient

from atauly.law.compute import compute
from atauly.model import ModelStore, TrainConfig, load_applications, train_and_store
from atauly.registry.synthetic import generate
from atauly.service.app import create_app
from atauly.service.db import make_engine, migrate, session_factory
from atauly.service.engine import RecommendationEngine
from atauly.service.seed import payloads
from atauly.settings import Settings

PG_SERVER = os.environ.get("ATAULY_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
REGION = "790000000"  # Shymkent
DISTRICT = "790100000"
OTHER_DISTRICT = "790200000"
PASSWORD = "correct-horse-1"


@pytest.fixture(scope="session")
def svc_home(tmp_path_factory):
    """ATAULY_HOME with a generated Shymkent (2%) and a quick model named asp-demo as champion."""
    home = tmp_path_factory.mktemp("svc-home")
    reg = home / "registry"
    generate(0.02, 1, reg, regions=[REGION], law=compute)
    ds = load_applications(reg)
    config = TrainConfig(trees=(20,), depths=(8,), search_rows=4000, n_boot=20, fairness_boot=10, n_jobs=1)
    train_and_store(ds, ModelStore(home / "models"), "asp-demo", str(reg), config)
    return home


@pytest.fixture(scope="session")
def svc_payloads(svc_home):
    return payloads(svc_home / "registry")


@pytest.fixture(scope="session")
def svc_engine(svc_home):
    from atauly.service.app import load_recommender

    return RecommendationEngine(load_recommender(Settings(home=svc_home)))


def _pg_database():
    import psycopg

    name = f"atauly_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'atauly.db'}"
        return
    name = _pg_database()
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        _pg_drop(name)


@pytest.fixture
def settings(svc_home, database_url):
    return Settings(home=svc_home, database_url=database_url)


@pytest.fixture
def app(settings, svc_engine):
    application = create_app(settings, engine=svc_engine)
    yield application
    application.state.db_engine.dispose()
    application.state.read_engine.dispose()


@pytest.fixture
def db(app):
    with app.state.sessions() as session:
        yield session


@pytest.fixture
def users(db):
    """One user of each role (officer in DISTRICT, a second officer in OTHER_DISTRICT)."""
    from atauly.service.users import create_user

    made = {}
    for name, role, district, region in (
        ("officer", "officer", DISTRICT, None),
        ("officer2", "officer", OTHER_DISTRICT, None),
        ("supervisor", "supervisor", None, REGION),
        ("analyst", "analyst", None, None),
        ("admin", "admin", None, None),
    ):
        made[name] = create_user(db, name, PASSWORD, role, district, region)
    return made


@pytest.fixture
def client(app, users):
    return TestClient(app)


def token_headers(client: TestClient, username: str) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def as_officer(client):
    return token_headers(client, "officer")


def in_district(payloads: list[dict], district: str = DISTRICT) -> list[dict]:
    return [p for p in payloads if p["family"]["district_kato"] == district]


__all__ = ["migrate", "make_engine", "session_factory"]
