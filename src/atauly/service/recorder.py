"""Group commit of new applications: the API's submissions that arrive while one group is being written are
recorded together next, in one transaction by one worker thread (:func:`.intake.finish_many`).

Under load the engine returns a batch of applications at once, and each of their requests then queued for
the one write connection (SQLite) or the audit head's row lock (PostgreSQL) to write three rows and commit:
issue 17's probe found a submission waiting for it longer than for its batch. Here the first request to
arrive when nothing is being written starts a writer (and is written alone, or with whoever joined it before
the writer's thread started); every request that arrives while a group is written waits for the next trip
and is recorded with the others then. A request is answered only after the transaction holding its
application committed, as before: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from . import intake
from .casework import ServiceError
from .engine import Outcome
from .models import User

log = logging.getLogger(__name__)

#: Failures of the database itself (locked past its timeout, unreachable, no pooled connection in time):
#: answered 503 — the same idempotency key submitted again returns the application if it was recorded.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


class GroupRecorder:
    """Records pending applications (:meth:`finish`) in groups, one transaction a group.

    ``sessions`` makes the writer's database sessions; ``limit`` caps a group's size (a larger queue is
    written in several transactions, so that no lock is held for long). Each event loop (the server has
    one; tests may run several, each in its own thread) has its own queue and writer, used only from that
    loop; the mapping from loops to queues is shared by their threads (one lookup or insertion at a time
    under the interpreter lock)."""

    def __init__(self, sessions, limit: int = 64):
        self.sessions = sessions
        self.limit = limit
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    async def finish(self, user: User, pending: intake.Pending, out: Outcome) -> intake.Intake:
        """The application recorded with its outcome and audit event (as :func:`.intake.finish`), once the
        group it was written with committed; the error it alone would have raised, or 503 when the
        database failed the whole group or the server is stopping."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        done = loop.create_future()
        queue.waiting.append(((user, pending, out), done))
        if queue.writer is None:
            queue.writer = loop.create_task(self._write(queue))
        # shielded: a request given up on (its client gone) leaves its application to be recorded with the
        # group, as a thread's work would be; the request itself is not answered then
        return await asyncio.shield(done)

    async def _write(self, queue: _Queue) -> None:
        try:
            while queue.waiting:
                group, queue.waiting = queue.waiting[: self.limit], queue.waiting[self.limit :]
                trip = asyncio.ensure_future(run_in_threadpool(self._record, [item for item, _ in group]))
                # the group hears its outcome from the trip itself: a writer cancelled meanwhile (the server
                # stopping) leaves the thread to finish, and the answers still say what it did
                trip.add_done_callback(partial(_deliver, [done for _, done in group]))
                await asyncio.wait([trip])
        finally:
            queue.writer = None
            # left only when the writer was cancelled: never sent to a thread, so not recorded
            for _, done in queue.waiting:
                if not done.done():
                    done.set_exception(_stopping())
            queue.waiting = []

    def _record(self, items: list[tuple[User, intake.Pending, Outcome]]) -> list[intake.Intake | Exception]:
        with self.sessions() as db:
            return intake.finish_many(db, items)


@dataclass
class _Queue:
    """One event loop's submissions waiting to be recorded, and its writer while one runs."""

    waiting: list[tuple[tuple[User, intake.Pending, Outcome], asyncio.Future]] = field(default_factory=list)
    writer: asyncio.Task | None = None


def _deliver(dones: list[asyncio.Future], trip: asyncio.Future) -> None:
    """Each request of a group its own outcome: its :class:`.intake.Intake` or its own error; a failure of
    the whole group as a separate error for each request (one exception object raised by several requests
    would mix their tracebacks)."""
    if trip.cancelled():
        results = [_stopping() for _ in dones]
    elif trip.exception() is not None:
        failure = trip.exception()
        log.error("recording %d applications failed: %s", len(dones), type(failure).__name__)
        results = [_group_failed(failure) for _ in dones]
    else:
        results = [_refusal(r) if isinstance(r, Exception) else r for r in trip.result()]
    for done, result in zip(dones, results, strict=True):
        if done.done():
            continue
        if isinstance(result, Exception):
            done.set_exception(result)
        else:
            done.set_result(result)


def _refusal(exc: Exception) -> Exception:
    """What one request raises for its failed record: the database's unavailability as 503, else the error."""
    if not isinstance(exc, UNAVAILABLE):
        return exc
    err = ServiceError(
        503,
        "the database is busy or unreachable: submit again shortly with the same idempotency key",
        headers={"Retry-After": "5"},
    )
    err.__cause__ = exc
    return err


def _group_failed(exc: BaseException) -> Exception:
    if isinstance(exc, Exception) and isinstance(exc, UNAVAILABLE):
        return _refusal(exc)
    err = RuntimeError("recording the application failed")
    err.__cause__ = exc
    return err


def _stopping() -> ServiceError:
    return ServiceError(503, "the service is stopping: submit again shortly", headers={"Retry-After": "5"})
