"""What a request costs in the server's process, pinned where a benchmark cannot: no trip to a worker thread
for the session and the engine dependencies, no BaseHTTPMiddleware (a task and memory streams per request)
— and the security headers still on every answer."""

from __future__ import annotations

import inspect

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.middleware.base import BaseHTTPMiddleware

from atauly.service import deps
from atauly.service.app import SecurityHeaders, create_app
from atauly.service.models import User
from atauly.settings import Settings

from .conftest import held_engine, in_district, statements


def test_session_and_engine_dependencies_run_on_the_event_loop():
    assert inspect.isasyncgenfunction(deps.get_db)
    assert inspect.iscoroutinefunction(deps.get_engine)


def test_headers_come_from_plain_asgi_middleware(tmp_path):
    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}"), engine=object())
    classes = [m.cls for m in app.user_middleware]
    assert SecurityHeaders in classes and BaseHTTPMiddleware not in classes
    r = TestClient(app).get("/api/v1/applications")  # refused (no token): headers all the same
    assert r.status_code == 401
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


_statements = statements


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_token_is_checked_on_the_read_pool_and_a_revoked_one_is_refused_at_once(client, app, as_officer):
    """SQLite: the sign-in check takes no turn on the one write connection (a WAL reader instead); what the
    writer commits (a revocation) is seen by the next request."""
    writes = _statements(app.state.db_engine, lambda: client.get("/api/v1/applications", headers=as_officer))
    reads = _statements(app.state.read_engine, lambda: client.get("/api/v1/applications", headers=as_officer))
    assert app.state.read_engine is not app.state.db_engine
    assert not any("FROM sessions" in s for s in writes) and any("FROM sessions" in s for s in reads)
    from atauly.service.security import revoke_sessions

    with app.state.sessions() as db:
        uid = db.execute(select(User.id).where(User.username == "officer")).scalar_one()
        revoke_sessions(db, uid)
        db.commit()
    assert client.get("/api/v1/applications", headers=as_officer).status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_opening_or_deciding_a_case_reads_the_application_once(client, app, as_officer, svc_payloads):
    """The blind-mode bookkeeping (``casework.mark_shown``) ends its read without expiring the case: the
    answer is built from the case as loaded, not read again with its tables and relations."""
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    url = f"/api/v1/applications/{created['id']}"
    client.get(url, headers=as_officer)  # the first view is recorded

    def reads_of_applications(run) -> int:
        return sum("FROM applications" in s for s in _statements(app.state.db_engine, run))

    opened = []
    assert reads_of_applications(lambda: opened.append(client.get(url, headers=as_officer))) == 1
    rec = opened[0].json()["recommendation"]
    body = {"outcome": rec["recommended_decision"], "version": opened[0].json()["version"]}
    if body["outcome"] == "approve" and not rec["eligible_by_law"]:
        body["outcome"] = "home_visit"
    decided = []
    n = reads_of_applications(
        lambda: decided.append(client.post(f"{url}/decision", json=body, headers=as_officer))
    )
    assert decided[0].status_code == 200, decided[0].text
    assert decided[0].json()["decisions"][-1]["outcome"] == body["outcome"]
    assert n == 1, n


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_decision_finds_when_its_officer_opened_the_case_through_the_audit_object_index(
    client, app, as_officer, svc_payloads
):
    """The first ``read`` event of the case by its officer (the decision's ``opened_at``) is looked up
    through ``ix_audit_events_object`` (0013_audit_object_idx), not by walking the trail from its start."""
    from sqlalchemy import event

    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    url = f"/api/v1/applications/{created['id']}"
    case = client.get(url, headers=as_officer).json()
    rec = case["recommendation"]
    outcome = rec["recommended_decision"]
    if outcome == "approve" and not rec["eligible_by_law"]:
        outcome = "home_visit"
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM audit_events" in statement:
            seen.append((statement, parameters))

    event.listen(app.state.db_engine, "before_cursor_execute", before)
    try:
        r = client.post(
            f"{url}/decision", json={"outcome": outcome, "version": case["version"]}, headers=as_officer
        )
    finally:
        event.remove(app.state.db_engine, "before_cursor_execute", before)
    assert r.status_code == 200, r.text
    assert r.json()["decisions"][-1]["outcome"] == outcome
    opened = [(sql, p) for sql, p in seen if "LIKE" in sql]
    assert len(opened) == 1, seen
    with app.state.db_engine.connect() as conn:
        plan = " ".join(
            row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + opened[0][0], opened[0][1])
        )
        conn.rollback()
    assert "ix_audit_events_object" in plan, plan


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_open_queue_reads_no_recommendation_decision_nor_assessment(
    client, app, as_officer, svc_payloads
):
    """The open queue shows none of them (anti-anchoring): they are not read; the decided queue still shows
    a decided case's result and decision."""
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    client.post("/api/v1/applications", json=in_district(svc_payloads)[1], headers=as_officer)
    answers = []
    sql = _statements(
        app.state.db_engine, lambda: answers.append(client.get("/api/v1/applications", headers=as_officer))
    )
    assert answers[0].status_code == 200 and len(answers[0].json()) == 2
    assert all(i["eligible_by_law"] is None and i["decision"] is None for i in answers[0].json())
    assert not any(f"FROM {t}" in s for s in sql for t in ("recommendations", "decisions", "assessments")), (
        sql
    )
    rec = created["recommendation"]
    outcome = rec["recommended_decision"]
    outcome = "home_visit" if outcome == "approve" and not rec["eligible_by_law"] else outcome
    url = f"/api/v1/applications/{created['id']}"
    client.get(url, headers=as_officer)
    client.post(
        f"{url}/decision", json={"outcome": outcome, "version": created["version"]}, headers=as_officer
    )
    decided = client.get("/api/v1/applications", params={"status": "decided"}, headers=as_officer).json()
    if outcome != "home_visit":
        assert [(i["id"], i["decision"], i["eligible_by_law"]) for i in decided] == [
            (created["id"], outcome, rec["eligible_by_law"])
        ]
    opened = client.get("/api/v1/applications", headers=as_officer).json()
    assert all(i["decision"] is None for i in opened)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_opening_a_case_takes_three_queries_of_the_case(client, app, as_officer, svc_payloads):
    """Issue 17 (officers' pages): the case and its recommendations in one query, its decisions with their
    officers and its verifications in one each; the assessments and the correction requests are read only
    by what needs them (blind mode, deciding, the case page, the notice)."""
    created = client.post(
        "/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer
    ).json()
    url = f"/api/v1/applications/{created['id']}"
    client.get(url, headers=as_officer)
    opened = []
    seen = _statements(app.state.db_engine, lambda: opened.append(client.get(url, headers=as_officer)))
    assert opened[0].status_code == 200 and opened[0].json()["recommendation"]["reasons"]
    tables = ("recommendations", "decisions", "assessments", "correction_requests", "verifications")
    reads = [s for s in seen if s.lstrip().startswith("SELECT") and any(f"FROM {x}" in s for x in tables)]
    assert not any("FROM assessments" in s or "FROM correction_requests" in s for s in reads), reads
    assert sum("FROM applications" in s for s in seen) == 1
    assert len(reads) == 2, reads  # decisions, verifications (the recommendations came with the case)


def test_a_submission_reads_nothing_after_it_is_written(client, app, as_officer, svc_payloads):
    """Issue 17 (submissions): the answer to a new application is built from what was written — its
    decisions, assessments, corrections and verifications are known to be none — so no query (and on
    PostgreSQL no connection checkout with its ping) follows the commit."""
    answers = []
    seen = _statements(
        app.state.db_engine,
        lambda: answers.append(
            client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
        ),
    )
    assert answers[0].status_code == 201, answers[0].text
    assert answers[0].json()["verified"] == [] and answers[0].json()["decisions"] == []
    last_write = max(i for i, s in enumerate(seen) if not s.lstrip().upper().startswith("SELECT"))
    assert not seen[last_write + 1 :], seen[last_write + 1 :]


def test_a_queue_page_that_assigns_nobody_asks_nothing_after_its_audit_commit(
    client, app, as_officer, svc_payloads
):
    """Issue 17 (officers' pages): the assignees' names are read only when a listed case is assigned —
    on PostgreSQL an empty ``IN`` was a new transaction after the audit's commit (three round trips)."""
    client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
    answers = []
    seen = _statements(
        app.state.db_engine, lambda: answers.append(client.get("/api/v1/applications", headers=as_officer))
    )
    assert answers[0].status_code == 200 and answers[0].json()[0]["assigned_to"] is None
    assert not any("FROM users" in s for s in seen), seen


def test_a_submissions_answer_is_written_once_in_the_endpoints_thread(
    client, as_officer, svc_payloads, monkeypatch
):
    """No second validation of the answer against ``response_model`` (FastAPI's ``serialize_response``,
    for a sync route in another trip to a worker thread): the endpoint writes the model's JSON itself. The
    answer is the schema's all the same: 201, then 200 for the same submission again."""
    import fastapi.routing

    from atauly.service.schemas import ApplicationOut

    calls: list[str] = []
    real = fastapi.routing.serialize_response

    async def counted(**kwargs):
        calls.append("serialize")
        return await real(**kwargs)

    monkeypatch.setattr(fastapi.routing, "serialize_response", counted)
    payload = in_district(svc_payloads)[0]
    first = client.post("/api/v1/applications", json=payload, headers=as_officer)
    again = client.post("/api/v1/applications", json=payload, headers=as_officer)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.headers["content-type"] == "application/json"
    assert first.headers["cache-control"] == "no-store"
    for r in (first, again):
        assert ApplicationOut.model_validate(r.json()).model_dump(mode="json") == r.json()
    assert first.json()["recommendation"]["recommended_decision"] in ("approve", "reject")
    assert calls == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_token_is_checked_on_the_requests_own_connection(
    client, app, as_officer, svc_payloads
):
    """No connection checked out (and its transaction rolled back) for the token alone: a queue read
    (nothing assigned) takes one connection, a submission two (its reads, then its write once the law
    and the model have run). A revoked token is still refused at once, and an unknown one is refused."""
    from sqlalchemy import event

    checkouts: list[int] = []

    def count(*_args):
        checkouts.append(1)

    event.listen(app.state.db_engine, "checkout", count)
    try:
        assert client.get("/api/v1/applications", headers=as_officer).status_code == 200
        assert len(checkouts) == 1
        checkouts.clear()
        r = client.post("/api/v1/applications", json=in_district(svc_payloads)[0], headers=as_officer)
        assert r.status_code == 201 and len(checkouts) == 2
    finally:
        event.remove(app.state.db_engine, "checkout", count)
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/applications", headers=bad).status_code == 401
    from atauly.service.security import revoke_sessions

    with app.state.sessions() as db:
        uid = db.execute(select(User.id).where(User.username == "officer")).scalar_one()
        revoke_sessions(db, uid)
        db.commit()
    assert client.get("/api/v1/applications", headers=as_officer).status_code == 401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_submission_looks_up_on_the_read_pool_and_takes_the_write_lock_once(
    client, app, as_officer, svc_payloads
):
    """Issue 17 (submissions): the idempotency key and the district's settings are read through the read
    pool (WAL readers), so a new application holds SQLite's one write connection for one transaction, its
    insert and audit event, not two. A repeat is still found — and answered from the write connection, where
    its audit event goes — and so is a key taken in the instant after the read pool's look-up."""
    from atauly.service import intake

    payload = in_district(svc_payloads)[0]
    answers = []
    writes = _statements(
        app.state.db_engine,
        lambda: answers.append(client.post("/api/v1/applications", json=payload, headers=as_officer)),
    )
    assert answers[0].status_code == 201, answers[0].text
    assert sum(s.startswith("BEGIN") for s in writes) == 1, writes
    assert not any("FROM district_settings" in s for s in writes), writes
    assert sum("FROM applications" in s for s in writes) == 0, writes
    reads = _statements(
        app.state.read_engine,
        lambda: answers.append(client.post("/api/v1/applications", json=payload, headers=as_officer)),
    )
    assert answers[1].status_code == 200 and answers[1].json()["id"] == answers[0].json()["id"]
    assert any("FROM applications" in s for s in reads) and any("FROM district_settings" in s for s in reads)

    # the same key recorded between the read pool's look-up and the insert: the unique index finds it
    second = in_district(svc_payloads)[1]
    real = intake._by_key
    raced = {"done": False}

    def unseen_once(db, key):
        if not raced["done"] and db.get_bind() is app.state.read_engine:
            raced["done"] = True
            first = client.post("/api/v1/applications", json=second, headers=as_officer)
            assert first.status_code == 201
            return None  # as if read just before that submission committed
        return real(db, key)

    import unittest.mock

    with unittest.mock.patch.object(intake, "_by_key", unseen_once):
        late = client.post("/api/v1/applications", json=second, headers=as_officer)
    assert raced["done"] and late.status_code == 200, late.text
    with app.state.sessions() as db:
        from sqlalchemy import func

        from atauly.service.models import Application

        assert db.scalar(select(func.count()).select_from(Application)) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_submissions_wait_for_the_engine_without_holding_a_thread(settings, svc_engine, svc_payloads):
    """Issue 17: the service bounds the threads doing requests' work (``service_threads`` plus the web
    sign-ins' hash places), and a submission awaits its batch on the event loop: with 7 threads, 16
    submissions arriving while the engine is busy all join its next batch (held threads would have let at
    most 7 through)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from anyio import to_thread

    from atauly.service.users import create_user

    from .conftest import PASSWORD

    settings = settings.model_copy(
        update={"service_threads": 1, "login_hash_slots": 2, "login_hash_queue": 4}
    )
    engine, go, sizes = held_engine(svc_engine)
    app = create_app(settings, engine=engine)
    payloads = in_district(svc_payloads)[:17]
    assert len(payloads) == 17
    try:
        with app.state.sessions() as db:
            create_user(db, "officer", PASSWORD, "officer", payloads[0]["family"]["district_kato"], None)
        with TestClient(app) as client:
            assert client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens) == 7
            headers = {"Authorization": f"Bearer {_token(client)}"}
            with ThreadPoolExecutor(17) as pool:
                first = pool.submit(client.post, "/api/v1/applications", json=payloads[0], headers=headers)
                for _ in range(600):  # the first batch (this one application) holds the engine
                    if sizes:
                        break
                    threading.Event().wait(0.05)
                rest = [
                    pool.submit(client.post, "/api/v1/applications", json=p, headers=headers)
                    for p in payloads[1:]
                ]
                for _ in range(600):  # all 16 queued for the next batch, or the test fails below
                    if engine._queue.qsize() >= 16:
                        break
                    threading.Event().wait(0.05)
                queued = engine._queue.qsize()
                go.set()
                codes = [f.result(timeout=120).status_code for f in [first, *rest]]
    finally:
        go.set()
        app.state.db_engine.dispose()
        app.state.read_engine.dispose()
    assert codes == [201] * 17
    assert queued == 16 and sizes[:2] == [1, 16], (queued, sizes)


def _token(client) -> str:
    from .conftest import PASSWORD

    r = client.post("/api/v1/auth/token", data={"username": "officer", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_a_pending_submission_holds_no_transaction_while_it_waits_for_its_batch(
    app, db, users, svc_engine, svc_payloads
):
    """Issue 17 (review): a district with its own settings row (blind mode, the model switched off). The
    look-ups' rollback expires that row; the pending application carries the settings as values, so that
    nothing reads the row again — which would open a transaction (on SQLite the write lock; on PostgreSQL
    a pooled connection idle in transaction) for as long as the application waits for the engine."""
    from atauly.service import intake
    from atauly.service.models import DistrictSetting
    from atauly.service.schemas import ApplicationIn

    payload = in_district(svc_payloads)[0]
    db.add(
        DistrictSetting(
            district_kato=payload["family"]["district_kato"], blind_mode=True, model_enabled=False
        )
    )
    db.commit()
    seen = []
    with app.state.sessions() as session:
        started = intake.begin(session, svc_engine, users["officer"], ApplicationIn.model_validate(payload))
        assert isinstance(started, intake.Pending)
        seen = _statements(app.state.db_engine, lambda: (started.use_model, started.blind_mode))
        assert (started.use_model, started.blind_mode) == (False, True)
        assert not session.in_transaction() and seen == []
