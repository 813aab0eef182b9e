"""The recommendation engine in a child process (what ``atauly serve`` runs) gives what it gives in a thread."""

from __future__ import annotations

import copy
import gc
from concurrent.futures import ThreadPoolExecutor

import pytest

from atauly.service import heap
from atauly.service.app import load_recommender
from atauly.service.casework import quarter_of
from atauly.service.engine import EngineUnavailable, InvalidApplication, RecommendationEngine
from atauly.service.intake import snapshot_of
from atauly.service.schemas import ApplicationIn
from atauly.settings import Settings


def _inputs(payload: dict) -> tuple[dict, str]:
    app = ApplicationIn.model_validate(payload)
    return snapshot_of(app), quarter_of(app.family.application_date)


def test_the_child_process_gives_the_threads_outcomes_and_errors(svc_home, svc_engine, svc_payloads):
    engine = RecommendationEngine(load_recommender(Settings(home=svc_home)), process=True)
    try:
        inputs = [_inputs(p) for p in svc_payloads[:6]]
        bad = copy.deepcopy(svc_payloads[6])
        iin = bad["persons"][0]["iin"]
        bad["persons"][0]["iin"] = iin[:-1] + str((int(iin[-1]) + 1) % 10)  # checksum fails
        with ThreadPoolExecutor(len(inputs) + 1) as pool:  # concurrent: batched together in the child
            got = [pool.submit(engine.recommend, s, q) for s, q in inputs]
            refused = pool.submit(engine.recommend, *_inputs(bad))
            outcomes = [f.result(timeout=120) for f in got]
            with pytest.raises(InvalidApplication) as exc:
                refused.result(timeout=120)
        assert exc.value.problems[0]["loc"] == ["body", "persons", 0, "iin"]
        for (snapshot, quarter), outcome in zip(inputs, outcomes, strict=True):
            assert outcome == svc_engine.recommend(snapshot, quarter)
        assert outcomes[0].mode == "model" and outcomes[0].reasons["codes"]
        # the child set its heap (the law, the forest) aside from the cyclic collector once loaded
        assert engine._pool.submit(gc.get_freeze_count).result(timeout=60) > 1000
        young = engine._pool.submit(gc.get_threshold).result(timeout=60)[0]
        assert young == heap.YOUNG_THRESHOLD
    finally:
        engine.close()
    assert not engine._pool._processes  # the child has ended


def test_a_submission_given_up_on_leaves_its_job_to_its_batch():
    """The API awaits an application's batch (intake.recommend_async): past the timeout the answer is 503
    with Retry-After, and the job is not cancelled — the batch still sets its outcome (setting one on a
    cancelled future would raise in the engine's batching thread and fail the batch's other requests)."""
    import asyncio
    from concurrent.futures import Future

    from atauly.service import intake
    from atauly.service.casework import ServiceError

    class Busy:
        def enqueue(self, snapshot, quarter, use_model):
            self.job = Future()
            return self.job

    busy = Busy()
    pending = intake.Pending(None, {}, "h", "k", "2025Q3", True, False, "api")
    with pytest.raises(ServiceError) as refused:
        asyncio.run(intake.recommend_async(busy, pending, timeout=0.05))
    assert refused.value.status == 503 and refused.value.headers["Retry-After"]
    assert not busy.job.cancelled()
    busy.job.set_result("computed with its batch")  # no InvalidStateError


def test_an_overloaded_engine_refuses_new_applications_at_once(svc_engine, svc_payloads):
    """Past ``max_waiting`` applications waiting for a batch, a new one is refused (503 for the submitter)
    rather than queued behind work that would finish after its request gave up."""
    import threading

    engine = RecommendationEngine(svc_engine.recommender)
    engine.max_waiting = 2
    go, started = threading.Event(), threading.Event()
    real = engine.run_batch

    def held(jobs):
        started.set()
        go.wait(60)
        real(jobs)

    engine.run_batch = held
    inputs = [_inputs(p) for p in svc_payloads[:4]]
    try:
        first = engine.enqueue(*inputs[0])
        assert started.wait(60)  # the first batch holds the engine
        waiting = [engine.enqueue(*inputs[1]), engine.enqueue(*inputs[2])]
        with pytest.raises(EngineUnavailable):
            engine.enqueue(*inputs[3])
    finally:
        go.set()
    for job in [first, *waiting]:
        assert job.result(timeout=120).mode == "model"
