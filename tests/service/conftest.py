"""Service fixtures: a generated region with a trained model, and the app on SQLite and on PostgreSQL.

PostgreSQL listens on 127.0.0.1:5432 here and in CI (trust auth); each test creates a database of its own
and drops it at the end. ``ATAULY_TEST_PG`` overrides the server URL.

Two things keep the hundreds of service tests quick without changing what they test:
- each test's database is a copy of one migrated per session (a file copy on SQLite, ``CREATE DATABASE …
  TEMPLATE`` on PostgreSQL); the app still runs the migrations at start, which finds them applied. A test that
  needs an empty database (the migrations' own test) is marked ``empty_database``;
- passwords are hashed by argon2 with its smallest cost instead of production's 64 MiB and four lanes
  (every test creates five users and signs in). Only the cost differs: hashing, verification and the
  throttles run the same code. ``test_production_passwords_use_the_full_argon2_cost`` pins production's.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from argon2 import PasswordHasher
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
    """The registry's latest applications as API payloads, those the law finds entitled on their declared
    data first (stably): a test that takes a district's first application may decide it either way (an
    approval where the law finds no entitlement is refused by design, issue 20), whatever order the
    registry's files keep (they are sorted by family)."""
    import pandas as pd

    decided = pd.read_parquet(svc_home / "registry" / "decisions", columns=["application_id", "law_eligible"])
    entitled = {f"seed-{a}" for a in decided.loc[decided["law_eligible"].astype(bool), "application_id"]}
    return sorted(payloads(svc_home / "registry"), key=lambda p: p["idempotency_key"] not in entitled)


@pytest.fixture(scope="session")
def svc_engine(svc_home):
    from atauly.service.app import load_recommender

    return RecommendationEngine(load_recommender(Settings(home=svc_home)))


#: Production's hasher, kept for the test that pins its cost.
PRODUCTION_HASHER = None


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashes():
    global PRODUCTION_HASHER
    from atauly.service import security

    PRODUCTION_HASHER = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    security._hasher = PRODUCTION_HASHER


def _pg_database(template: str | None = None):
    import psycopg

    name = f"atauly_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrated(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()  # SQLite: the last connection's close folds the WAL into the file; PostgreSQL: no
    # session may stay on a template database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "atauly.db"
    _migrated(f"sqlite:///{path}")
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def pg_template():
    name = _pg_database()
    try:
        _migrated(f"{PG_SERVER}/{name}")
        yield name
    finally:
        _pg_drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        path = tmp_path / "atauly.db"
        if not empty:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    name = _pg_database(None if empty else request.getfixturevalue("pg_template"))
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


# --- the browser tests' one server (issue 20) ------------------------------------------------------------


class BrowserSite:
    """The service on a real port, shared by the browser test modules: ``base`` URL and the applications
    submitted at the start (``apps``, as the API answered)."""

    def __init__(self, base: str, apps: list[dict], app) -> None:
        self.base, self.apps, self.app = base, apps, app


@pytest.fixture(scope="session")
def browser_site(svc_home, svc_engine, svc_payloads, tmp_path_factory):
    """One service for every browser test module (SQLite, served by uvicorn in a thread): an officer of
    DISTRICT, a supervisor of REGION, an analyst and an admin; eight applications in the officer's queue; and
    the oversight pages' decided cases in every region (``test_browser_oversight._fill``). Each module used
    to build its own; the tests that change cases choose open ones, so they do not depend on the order."""
    import socket
    import threading
    import time

    import uvicorn

    from atauly.service.users import create_user

    from .test_browser_oversight import _fill

    settings = Settings(
        home=svc_home, database_url=f"sqlite:///{tmp_path_factory.mktemp('browser') / 'a.db'}"
    )
    application = create_app(settings, engine=svc_engine)
    with application.state.sessions() as db:
        create_user(db, "officer", PASSWORD, "officer", DISTRICT, None)
        create_user(db, "supervisor", PASSWORD, "supervisor", None, REGION)
        create_user(db, "analyst", PASSWORD, "analyst", None, None)
        create_user(db, "admin", PASSWORD, "admin", None, None)
        _fill(db)
    client = TestClient(application)
    headers = token_headers(client, "officer")
    apps = []
    for p in in_district(svc_payloads)[:8]:
        r = client.post("/api/v1/applications", json=p, headers=headers)
        assert r.status_code == 201, r.text
        apps.append(r.json())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield BrowserSite(f"http://127.0.0.1:{port}", apps, application)
    server.should_exit = True
    thread.join(10)
    application.state.db_engine.dispose()
    application.state.read_engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright: one browser per test module (each test opens contexts)."""
    import shutil

    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert os.path.exists(path), "Debian's chromium is missing: run `make test` (it installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def statements(engine, run, when=None) -> list[str]:
    """The SQL statements ``run()`` sends through ``engine`` (those for which ``when()`` holds, if given)."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if when is None or when():
            seen.append(statement)

    _listening(engine, "before_cursor_execute", before, run)
    return seen


def transactions(engine, run) -> int:
    """How many transactions ``run()`` begins on ``engine``'s connections."""
    began: list = []
    _listening(engine, "begin", began.append, run)
    return len(began)


def _listening(engine, name: str, listener, run) -> None:
    from sqlalchemy import event

    event.listen(engine, name, listener)
    try:
        run()
    finally:
        event.remove(engine, name, listener)


def held_engine(svc_engine):
    """A recommendation engine on the session's model whose batches wait for ``go`` (a threading.Event) before
    they compute, and ``sizes``, each batch's size as it arrived: (engine, go, sizes)."""
    import threading

    from atauly.service.engine import RecommendationEngine

    engine = RecommendationEngine(svc_engine.recommender)
    real, go, sizes = engine.run_batch, threading.Event(), []

    def gated(jobs):
        sizes.append(len(jobs))
        go.wait(60)
        real(jobs)

    engine.run_batch = gated
    return engine, go, sizes


def _in_event_loop_thread() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a worker thread
        return False
    return True


def on_the_event_loop(engine, run) -> list[str]:
    """The SQL statements ``run()`` sends through ``engine`` from a thread running an event loop (a route's
    blocking database work done on the loop stalls every request of the process)."""
    return statements(engine, run, when=_in_event_loop_thread)
