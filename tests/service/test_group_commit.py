"""Issue 17: new applications whose batch the engine finished together are recorded together — one
transaction, one statement a table, the audit events one after another in the chain — and one item's
failure stays its own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from atauly.service import audit, intake
from atauly.service.casework import ServiceError
from atauly.service.models import Application, AuditEvent, RecommendationView
from atauly.service.recorder import GroupRecorder
from atauly.service.schemas import ApplicationIn

from .conftest import held_engine, in_district, on_the_event_loop, statements, transactions


def _pending(app, svc_engine, user, payloads):
    """Each payload begun (checked, looked up) and computed: (user, pending, outcome) triples."""
    items = []
    with app.state.sessions() as db:
        for payload in payloads:
            started = intake.begin(db, svc_engine, user, ApplicationIn.model_validate(payload))
            assert isinstance(started, intake.Pending)
            out = intake.recommend(svc_engine, started.snapshot, started.quarter, started.use_model)
            items.append((user, started, out))
    return items


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_group_is_one_transaction_and_the_chain_stays_intact(app, db, users, svc_engine, svc_payloads):
    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:5])
    made: list = []
    with app.state.sessions() as writer:
        seen = statements(
            app.state.db_engine,
            lambda: made.append(
                transactions(app.state.db_engine, lambda: made.extend(intake.finish_many(writer, items)))
            ),
        )
    began, made = made[-1], made[:-1]
    assert began == 1
    # the audit head's lock taken once for the five events (audit.append_many)
    assert sum(s.startswith("UPDATE audit_head") and "RETURNING" in s for s in seen) == 1, seen
    assert [type(m) for m in made] == [intake.Intake] * 5 and all(m.created for m in made)
    assert [m.application.family_id for m in made] == [p.payload.family.family_id for _, p, _ in items]
    assert len({m.application.id for m in made}) == 5
    assert _count(db, Application) == 5 and _count(db, RecommendationView) == 5
    creates = db.scalars(select(AuditEvent).where(AuditEvent.action == "application.create")).all()
    assert sorted(int(e.object_id) for e in creates) == sorted(m.application.id for m in made)
    assert audit.verify(db).ok


def test_one_item_failing_leaves_the_others_recorded_as_alone(app, db, users, svc_engine, svc_payloads):
    """A key recorded meanwhile (the same application: a repeat; a different one: 409) makes the group's
    transaction fail; each is then recorded on its own, with its own outcome."""
    payloads = in_district(svc_payloads)[:5]
    items = _pending(app, svc_engine, users["officer"], payloads)
    # recorded by another request after these were looked up: item 1's application under its own key,
    # and another application under item 3's key
    with app.state.sessions() as other:
        first = intake.finish(other, *items[1])
        taken = intake.finish_many(other, [items[3]])[0]
    user, pending, out = items[3]
    items[3] = (user, intake.Pending(**{**pending.__dict__, "input_hash": "0" * 64}), out)
    with app.state.sessions() as writer:
        made = intake.finish_many(writer, items)
    assert [m.created for m in (made[0], made[2], made[4])] == [True] * 3
    # recorded before item 3's rollback, read after the writer's session closed: loaded, not expired
    assert made[0].application.recommendations[0].input_hash == items[0][1].input_hash
    assert made[0].application.deadline is not None and made[2].application.id is not None
    assert made[1].created is False and made[1].application.id == first.application.id
    assert isinstance(made[3], ServiceError) and made[3].status == 409
    assert _count(db, Application) == 5  # three new, two from the other request
    assert taken.application.idempotency_key == pending.key
    assert audit.verify(db).ok


def test_the_recorder_writes_what_arrives_together_in_one_trip(app, db, users, svc_engine, svc_payloads):
    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:10])
    recorder = GroupRecorder(app.state.sessions)

    async def all_at_once():
        return await asyncio.gather(*(recorder.finish(*item) for item in items))

    made: list = []
    assert transactions(app.state.db_engine, lambda: made.extend(asyncio.run(all_at_once()))) == 1
    assert [m.application.family_id for m in made] == [p.payload.family.family_id for _, p, _ in items]
    assert all(m.created for m in made) and _count(db, Application) == 10


def test_the_recorder_hands_a_failed_trip_to_each_request_and_goes_on(
    app, db, users, svc_engine, svc_payloads
):
    """The database unreachable for a group: each of its requests gets its own 503 (not one exception
    object shared), and the next group on the same loop is recorded."""
    from sqlalchemy.exc import OperationalError

    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:4])
    broken = {"now": True}

    def sessions():
        if broken["now"]:
            raise OperationalError("connect", {}, ConnectionError("database unreachable"))
        return app.state.sessions()

    recorder = GroupRecorder(sessions)

    async def run():
        failed = await asyncio.gather(*(recorder.finish(*item) for item in items[:2]), return_exceptions=True)
        broken["now"] = False
        made = await asyncio.gather(*(recorder.finish(*item) for item in items[2:]))
        return failed, made

    failed, made = asyncio.run(run())
    assert [(type(f), f.status) for f in failed] == [(ServiceError, 503)] * 2
    assert failed[0] is not failed[1] and "Retry-After" in failed[0].headers
    assert all(isinstance(m, intake.Intake) and m.created for m in made)
    assert _count(db, Application) == 2


def test_a_database_failure_is_not_retried_item_by_item(app, db, users, svc_engine, svc_payloads):
    """Review: only a key found taken sends the group's items one by one; a locked or lost database fails the
    group once (retried alone, each would wait for the lock again, and after a lost connection a retry
    could find its own committed key and answer "already submitted")."""
    from sqlalchemy.exc import OperationalError

    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:3])
    calls = []

    def locked(db, *args, **kwargs):
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with pytest.MonkeyPatch.context() as mp, app.state.sessions() as writer:
        mp.setattr(audit, "append_many", locked)
        with pytest.raises(OperationalError):
            intake.finish_many(writer, items)
    assert len(calls) == 1 and _count(db, Application) == 0


def test_the_same_key_twice_in_a_group(app, db, users, svc_engine, svc_payloads):
    """Review: a client's retry arriving with its first try lands in the same group; the first is recorded
    with the group, the second is its repeat — the others are not sent one by one."""
    payloads = in_district(svc_payloads)[:3]
    items = _pending(app, svc_engine, users["officer"], [*payloads, payloads[1]])
    made: list = []
    with app.state.sessions() as writer:
        began = transactions(app.state.db_engine, lambda: made.extend(intake.finish_many(writer, items)))
    assert [m.created for m in made] == [True, True, True, False]
    assert made[3].application.id == made[1].application.id
    assert began <= 3  # the group's one; the repeat's look-up and its audit event (one each at most)
    assert _count(db, Application) == 3 and audit.verify(db).ok


def test_a_writer_cancelled_mid_trip_still_answers_its_group_and_refuses_the_rest(
    app, db, users, svc_engine, svc_payloads
):
    """Review: the server stopping cancels the writer while its thread records a group. That group's
    requests hear what the thread did (recorded); those queued behind it get 503 at once — none hangs."""
    import threading

    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:3])
    recorder = GroupRecorder(app.state.sessions)
    gate, entered = threading.Event(), threading.Event()
    real = recorder._record

    def held(some):
        entered.set()
        gate.wait(30)
        return real(some)

    recorder._record = held

    async def run():
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(recorder.finish(*items[0]))
        await loop.run_in_executor(None, entered.wait, 30)  # the first group is in its thread
        rest = [asyncio.ensure_future(recorder.finish(*item)) for item in items[1:]]
        await asyncio.sleep(0)
        recorder._queues[loop].writer.cancel()
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.wait_for(asyncio.gather(first, *rest, return_exceptions=True), 30)

    results = asyncio.run(run())
    assert isinstance(results[0], intake.Intake) and results[0].created
    assert [(type(r), r.status) for r in results[1:]] == [(ServiceError, 503)] * 2
    assert _count(db, Application) == 1


def test_a_group_is_capped(app, db, users, svc_engine, svc_payloads):
    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:5])
    recorder = GroupRecorder(app.state.sessions, limit=2)
    sizes = []
    real = intake.finish_many

    def counted(db, some):
        sizes.append(len(some))
        return real(db, some)

    async def all_at_once():
        return await asyncio.gather(*(recorder.finish(*item) for item in items))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(intake, "finish_many", counted)
        made = asyncio.run(all_at_once())
    assert sizes == [2, 2, 1] and all(m.created for m in made)


def test_submissions_finished_together_sharetransactions(settings, svc_engine, svc_payloads):
    """Over HTTP: 16 submissions waiting for one batch are recorded in a few transactions, not 16 (each of
    which queued for the one write connection on SQLite)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from atauly.service.app import create_app
    from atauly.service.users import create_user

    from .conftest import PASSWORD

    engine, go, sizes = held_engine(svc_engine)
    app = create_app(settings, engine=engine)
    payloads = in_district(svc_payloads)[:16]
    try:
        with app.state.sessions() as db:
            create_user(db, "officer", PASSWORD, "officer", payloads[0]["family"]["district_kato"], None)
        with TestClient(app) as client:
            r = client.post("/api/v1/auth/token", data={"username": "officer", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            with ThreadPoolExecutor(16) as pool:
                sent = [
                    pool.submit(client.post, "/api/v1/applications", json=p, headers=headers)
                    for p in payloads
                ]
                for _ in range(600):  # all 16 in the engine: one held in a batch, the rest queued
                    if sizes and sizes[0] + engine._queue.qsize() >= 16:
                        break
                    threading.Event().wait(0.05)
                answers = []
                began = transactions(
                    app.state.db_engine,
                    lambda: (go.set(), answers.extend(f.result(timeout=120) for f in sent)),
                )
        with app.state.sessions() as db:
            assert audit.verify(db).ok and _count(db, Application) == 16
    finally:
        go.set()
        app.state.db_engine.dispose()
        app.state.read_engine.dispose()
    assert [a.status_code for a in answers] == [201] * 16
    assert len({a.json()["id"] for a in answers}) == 16
    assert began <= 8, (began, sizes)


def test_several_event_loops_each_have_their_own_writer(app, db, users, svc_engine, svc_payloads):
    """A test client without ``with`` runs each request in an event loop of its own, in its own thread: a
    request must never wait for a writer of another loop (which could not wake it: asyncio's futures belong
    to one loop and are not thread-safe)."""
    import threading

    items = _pending(app, svc_engine, users["officer"], in_district(svc_payloads)[:8])
    recorder = GroupRecorder(app.state.sessions)
    start, made, errors = threading.Barrier(len(items)), [], []

    def one(item):
        async def record():
            start.wait(10)  # every loop records at once
            return await recorder.finish(*item)

        try:
            made.append(asyncio.run(asyncio.wait_for(record(), 30)))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(made) == 8 and all(m.created for m in made)
    assert _count(db, Application) == 8 and audit.verify(db).ok


def test_a_submission_asks_the_database_nothing_on_the_event_loop(app, client, as_officer, svc_payloads):
    """The new application's answer is written on the event loop (no third trip to a thread): it must not
    ask the database anything there — neither it nor the group's record, which runs in a worker thread.
    Also in blind mode, where the answer leaves the recommendation out."""
    from atauly.service.casework import set_district_settings
    from atauly.service.models import User

    first, second = in_district(svc_payloads)[:2]
    answers, on_loop = [], []

    def submit(payload):
        post = lambda: answers.append(  # noqa: E731
            client.post("/api/v1/applications", json=payload, headers=as_officer)
        )
        on_loop.extend(on_the_event_loop(app.state.read_engine, post))

    on_loop.extend(on_the_event_loop(app.state.db_engine, lambda: submit(first)))
    with app.state.sessions() as db:  # the second one's district in blind mode
        boss = db.execute(select(User).where(User.username == "supervisor")).scalar_one()
        set_district_settings(db, boss, [second["family"]["district_kato"]], blind_mode=True)
    on_loop.extend(on_the_event_loop(app.state.db_engine, lambda: submit(second)))
    assert on_loop == []
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["recommendation"]["recommended_decision"] in ("approve", "reject")
    assert answers[1].json()["recommendation"] is None and answers[1].json()["decisions"] == []
