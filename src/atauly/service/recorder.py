"""Group commit of new applications: the submissions whose batch the engine finished together are
recorded together, in one transaction by one worker thread (:func:`.intake.finish_many`).

Under load the engine returns a batch of applications at once, and each of their requests then queued for
the one write connection (SQLite) or the audit head's row lock (PostgreSQL) to write three rows and commit:
issue 17's probe found a submission waiting for it longer than for its batch. Here the first request to
arrive starts a writer; every request that arrives while it writes waits for the next trip and is recorded
with the others then. A request is answered only after the transaction holding its application
committed, as before: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from . import intake
from .engine import Outcome
from .models import User


class GroupRecorder:
    """Records pending applications (:meth:`finish`) in groups, one transaction a group.

    ``sessions`` makes the writer's database sessions; ``limit`` caps a group's size (a larger queue is
    written in several transactions, so that no lock is held for long). Each event loop (the server has
    one; tests may run several) has its own queue and writer, used from that loop only, without locks."""

    def __init__(self, sessions, limit: int = 64):
        self.sessions = sessions
        self.limit = limit
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    async def finish(self, user: User, pending: intake.Pending, out: Outcome) -> intake.Intake:
        """The application recorded with its outcome and audit event (as :func:`.intake.finish`), once the
        group it was written with committed; the error it alone would have raised."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        done = loop.create_future()
        done.add_done_callback(_retrieved)
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
                try:
                    results = await run_in_threadpool(self._record, [item for item, _ in group])
                except BaseException as exc:  # the thread trip itself failed: each request hears it
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, done), result in zip(group, results, strict=True):
                    if done.done():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            queue.writer = None

    def _record(self, items: list[tuple[User, intake.Pending, Outcome]]) -> list[intake.Intake | Exception]:
        with self.sessions() as db:
            return intake.finish_many(db, items)


@dataclass
class _Queue:
    """One event loop's submissions waiting to be recorded, and its writer while one runs."""

    waiting: list[tuple[tuple[User, intake.Pending, Outcome], asyncio.Future]] = field(default_factory=list)
    writer: asyncio.Task | None = None


def _retrieved(done: asyncio.Future) -> None:
    """Mark an error as seen: a request given up on does not await it, and asyncio would log it."""
    if not done.cancelled():
        done.exception()
