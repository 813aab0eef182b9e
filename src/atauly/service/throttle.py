"""Login throttling before any password hashing, and refusals counted instead of written one by one.

A password check costs argon2's 64 MiB and four threads for about a tenth of a second; a flood of
sign-in attempts with random usernames once took the server from 420 MB to 2.9 GB and an officer's
request to 17 s. So, before any hash:

- **by client address and by account**: the failed sign-ins counted in the database, shared by every
  worker process (:mod:`.limits`).
- **globally, in each process**: at most ``slots`` password hashes run at once, in threads of their own at
  a lower CPU priority, and a bounded number more wait for one: ``queue`` for the web's sign-in form (it
  waits in a request thread), ``async_queue`` for ``POST /api/v1/auth/token`` (it waits on the event loop,
  holding no thread); any attempt beyond is refused at once (429, ``Retry-After``). This bound is per
  process on purpose: it bounds the process's memory (``slots`` × 64 MiB) and keeps its request threads
  free for officers already signed in.

:class:`RefusalTally` counts refusals that an attacker can produce at will (unknown usernames, throttled
attempts, attempts on a locked account, bad tokens and session cookies) and writes them as one audit
event per interval — with the number of attempts, of distinct usernames and addresses — instead of one
row each, so that a flood cannot fill the database. Wrong passwords for an existing account are still
audited one by one (the lock-outs bound them).

Attempts in progress are not counted against the address's limit (an office signing in at nine behind
one address would be refused): a burst from one address can have up to ``slots + async_queue`` attempts
hashed before their failures count. Against one account this yields no more answers: an attempt whose
hash ends after the account was locked is refused (429) whether its password was right or wrong, so the
burst learns nothing past the lock-out's threshold.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout


class Throttled(Exception):
    def __init__(self, retry_after: float, why: str):
        self.retry_after = max(1, math.ceil(retry_after))
        self.why = why
        super().__init__(why)


class LoginGate:
    def __init__(
        self,
        slots: int = 2,
        queue: int = 4,
        async_queue: int = 64,
    ):
        self.slots, self.queue, self.async_queue = slots, queue, max(queue, async_queue)
        self._lock = threading.Lock()
        self._admitted = 0  # hashing or waiting to hash
        self._pool: ThreadPoolExecutor | None = None

    # --- globally: a bounded queue for the password hash ---------------------------------------------

    async def check_async(self, fn, *args, wait: float = 30.0):
        """:meth:`check` for the event loop: waiting for a slot holds no thread, so this queue may be
        longer (``async_queue``)."""
        import asyncio

        with self._lock:
            if self._admitted >= self.slots + self.async_queue:
                raise Throttled(1, "too many sign-ins at once")
            self._admitted += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.slots, thread_name_prefix="atauly-hash", initializer=_lower_priority
                )
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._pool.submit(fn, *args)), wait)
        except TimeoutError:
            raise Throttled(1, "too many sign-ins at once") from None
        finally:
            with self._lock:
                self._admitted -= 1

    def check(self, fn, *args, wait: float = 30.0):
        """``fn(*args)`` (the password check) in one of the ``slots`` hashing threads; refused at once
        (:class:`Throttled`) when ``slots + queue`` checks are already running or waiting.

        The hashing threads run at a lower CPU priority (nice +10; argon2's lanes are threads they
        start, which inherit it), so that a flood of sign-ins yields the cores to the requests of officers
        already signed in."""
        with self._lock:
            if self._admitted >= self.slots + self.queue:
                raise Throttled(1, "too many sign-ins at once")
            self._admitted += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.slots, thread_name_prefix="atauly-hash", initializer=_lower_priority
                )
        future = self._pool.submit(fn, *args)
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            future.cancel()  # still queued: it will not run (a running hash finishes, its result unused)
            raise Throttled(1, "too many sign-ins at once") from None
        finally:
            with self._lock:
                self._admitted -= 1


def _lower_priority() -> None:
    try:  # Linux: the nice value is per thread (0 names the calling thread)
        os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10))
    except (AttributeError, OSError):  # elsewhere: the same priority as the requests
        pass


class RefusalTally:
    """Refusals an attacker can repeat at will, counted in memory and written as one audit event per
    ``interval`` seconds (see the module's text)."""

    MAX_DISTINCT = 10_000  # distinct usernames/addresses remembered per interval (then counted as "more")

    def __init__(self, interval: float = 60.0, clock=time.monotonic):
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._reset(clock())

    def _reset(self, now: float) -> None:
        self._since = now
        self._counts: dict[tuple[str, str], int] = {}
        self._names: set[str] = set()
        self._addresses: set[str] = set()

    def add(self, action: str, why: str, username: str = "", address: str = "") -> None:
        with self._lock:
            key = (action, why)
            self._counts[key] = self._counts.get(key, 0) + 1
            if username and len(self._names) < self.MAX_DISTINCT:
                self._names.add(username)
            if address and len(self._addresses) < self.MAX_DISTINCT:
                self._addresses.add(address)

    def due(self) -> bool:
        return bool(self._counts) and self._clock() - self._since >= self.interval

    def take(self) -> list[dict]:
        """The counts since the last take, one detail object per action (and the tally starts again)."""
        with self._lock:
            counts, names, addresses = self._counts, len(self._names), len(self._addresses)
            seconds = round(self._clock() - self._since, 1)
            self._reset(self._clock())
        by_action: dict[str, dict] = {}
        for (action, why), n in sorted(counts.items()):
            d = by_action.setdefault(action, {"attempts": 0, "why": {}, "seconds": seconds})
            d["attempts"] += n
            d["why"][why] = n
        for d in by_action.values():
            d["distinct_usernames"], d["distinct_addresses"] = names, addresses
        return [{"action": a, **d} for a, d in by_action.items()]

    def flush(self, db, force: bool = False) -> None:
        """Write the tally as audit events (one per action) in ``db``'s own transaction, when due."""
        if not (force and self._counts) and not self.due():
            return
        from .audit import append

        rows = self.take()
        if not rows:
            return
        db.rollback()
        for row in rows:
            action = row.pop("action")
            append(
                db,
                action,
                actor="anonymous",
                role="anonymous",
                outcome="denied",
                object_type="summary",
                object_id=f"{row['attempts']} attempts",
                detail=row,
            )
        db.commit()
