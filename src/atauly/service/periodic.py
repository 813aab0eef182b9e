"""Background work the service repeats while it runs (anchoring the audit chain's head, purging photos past
their retention date): one stoppable daemon thread per job, with the same loop, stop and failure rules."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``job()`` every ``seconds`` on a daemon thread between :meth:`start` and :meth:`stop`.

    ``at_start`` runs a first round as soon as the thread starts (otherwise the first round comes after
    ``seconds``). ``seconds <= 0`` switches the job off: :meth:`start` starts nothing. A round that raises is
    logged under ``what`` with the exception's type only (its message may hold data that must not reach
    the log) and the next round tries again. :meth:`stop` wakes the thread at once and waits for a round
    in progress (up to ``join_seconds``). ``rounds`` counts the rounds done, failed ones included;
    :meth:`run_once` runs one round in the caller's thread, unguarded, and returns the job's result.
    """

    def __init__(
        self,
        job: Callable[[], object],
        seconds: float,
        *,
        name: str,
        what: str,
        at_start: bool = False,
        join_seconds: float = 5,
    ):
        self.job, self.seconds, self.what, self.at_start = job, seconds, what, at_start
        self.join_seconds = join_seconds
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def run_once(self):
        return self.job()

    def start(self) -> None:
        if self.seconds > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.join_seconds)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        if not self.at_start and self._stop.wait(self.seconds):
            return
        while True:
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 — the service goes on; the next round tries again
                log.error("%s failed (%s)", self.what, type(exc).__name__)
            self.rounds += 1
            if self._stop.wait(self.seconds):
                return
