"""The one loop behind the service's background jobs (the audit anchor and the photo purge)."""

from __future__ import annotations

import logging
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.service.audit import CheckpointThread
from atauly.service.periodic import Periodic
from atauly.service.photos import PurgeThread


def wait_for(cond, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


def test_a_first_round_at_start_then_one_every_interval_until_stopped():
    calls = []
    job = Periodic(
        lambda: calls.append(time.monotonic()), 0.05, name="t-at-start", what="a job", at_start=True
    )
    t0 = time.monotonic()
    job.start()
    assert wait_for(lambda: job.rounds >= 3)
    job.stop()
    assert not job.running
    assert (
        calls[0] - t0 < 0.05 + 1
    )  # the first round did not wait for the interval (1 s slack: a busy machine)
    assert all(b - a >= 0.04 for a, b in zip(calls, calls[1:], strict=False))  # then one per interval
    done = job.rounds
    time.sleep(0.15)
    assert job.rounds == done == len(calls)  # nothing after stop


def test_without_at_start_the_first_round_waits_and_a_stop_before_it_runs_nothing():
    calls = []
    job = Periodic(lambda: calls.append(1), 3600, name="t-later", what="a job")
    job.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    job.stop()  # wakes the hour-long wait at once
    assert time.monotonic() - t0 < 2 and not job.running
    assert calls == [] and job.rounds == 0


@given(seconds=st.one_of(st.just(0.0), st.floats(max_value=0, allow_nan=False, allow_infinity=False)))
@settings(max_examples=20, deadline=None)
def test_a_zero_or_negative_interval_switches_the_job_off(seconds):
    job = Periodic(lambda: 1 / 0, seconds, name="t-off", what="a job", at_start=True)
    job.start()
    assert not job.running and job.rounds == 0
    job.stop()  # stopping a job never started is harmless


def test_a_failed_round_is_logged_by_its_type_only_and_the_next_round_runs(caplog):
    outcomes = iter([ValueError("IIN 900101300123 of Aigerim"), None, None])

    def job():
        exc = next(outcomes, None)
        if exc:
            raise exc

    with caplog.at_level(logging.ERROR, logger="atauly.service.periodic"):
        p = Periodic(job, 0.02, name="t-fail", what="a test job", at_start=True)
        p.start()
        assert wait_for(lambda: p.rounds >= 3)
        p.stop()
    assert "a test job failed (ValueError)" in caplog.text
    assert "900101300123" not in caplog.text and "Aigerim" not in caplog.text


def test_run_once_runs_in_the_callers_thread_unguarded():
    seen = []
    job = Periodic(lambda: seen.append(threading.current_thread().name) or 7, 10, name="t-once", what="a job")
    assert job.run_once() == 7 and seen == [threading.current_thread().name] and job.rounds == 0
    failing = Periodic(lambda: 1 / 0, 10, name="t-once-fail", what="a job")
    try:
        failing.run_once()
    except ZeroDivisionError:
        pass
    else:  # pragma: no cover
        raise AssertionError("run_once must not swallow the job's error")


def test_the_audit_anchor_waits_an_interval_first_and_survives_a_database_failure(caplog):
    class Broken:
        def __call__(self):
            raise RuntimeError("connection to db.internal refused for atauly:secret")

    anchor = CheckpointThread(Broken(), 0.02)
    assert (
        isinstance(anchor, Periodic) and not anchor.at_start and anchor._thread.name == "atauly-audit-anchor"
    )
    with caplog.at_level(logging.ERROR, logger="atauly.service.periodic"):
        anchor.start()
        assert wait_for(lambda: anchor.rounds >= 2)
        anchor.stop()
    assert "anchoring the audit chain's head failed (RuntimeError)" in caplog.text
    assert "secret" not in caplog.text


def test_the_photo_purge_runs_at_start_and_is_the_same_loop(tmp_path):
    purge = PurgeThread(tmp_path, 0.5 / 3600)
    assert isinstance(purge, Periodic) and purge.at_start and purge.seconds == 0.5
    assert purge._thread.name == "atauly-photo-purge"
    assert PurgeThread(tmp_path, 0).seconds == 0  # 0 hours: off
