"""One engine process shared by every worker of ``atauly serve --workers N``.

The law (OpenFisca) and the forest cost mostly a fixed amount per batch: one application alone costs about
as much as twenty together. With a child process per worker, N workers split the concurrent submissions
into N streams of batches N times smaller, and each pays the fixed cost: two workers on PostgreSQL cost
about twice the CPU a submission of SQLite's one process. So ``atauly serve`` starts one engine process,
:class:`SharedEngine`, and every worker sends its batches there (:class:`RemoteEngine`); the engine
process merges what the workers sent while it was busy into one batch.

The wire is a Unix socket in a directory only the service's account can open (mode 700) carrying
length-prefixed JSON (no pickles: a connection gets only data, never code). The engine process checks
the same parent-death condition as the per-worker child and ends with the server; when it dies, the
serving process starts a new one, and meanwhile submissions are answered 503 with ``Retry-After``
(:class:`~atauly.service.engine.EngineUnavailable`), never 500.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

from .engine import EngineUnavailable, InvalidApplication, Job, Outcome, RecommendationEngine, exit_with

log = logging.getLogger(__name__)

#: The largest message either side accepts (a batch of 64 applications is well under 1 MB).
MAX_MESSAGE = 64 * 2**20
_HEADER = struct.Struct(">I")
#: Seconds a worker waits for its batch's answer (a request itself waits at most 60 s).
REPLY_TIMEOUT = 120.0


# --- the wire ------------------------------------------------------------------------------------------


def send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise ValueError("message too large")
    sock.sendall(_HEADER.pack(len(data)) + data)


def receive(sock: socket.socket) -> dict:
    (size,) = _HEADER.unpack(_exactly(sock, _HEADER.size))
    if size > MAX_MESSAGE:
        raise ConnectionError("message too large")
    message = json.loads(_exactly(sock, size))
    if not isinstance(message, dict):
        raise ConnectionError("not a message")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        part = sock.recv(min(left, 1 << 20))
        if not part:
            raise ConnectionError("connection closed")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def result_of(job: Job) -> dict:
    """A computed job's outcome or error as JSON."""
    if not job.future.done():  # never left waiting: the batch's code sets every job's result
        return {"ok": False, "error": "not computed"}
    exc = job.future.exception()
    if exc is None:
        return {"ok": True, "outcome": dataclasses.asdict(job.future.result())}
    if isinstance(exc, InvalidApplication):
        return {"ok": False, "invalid": exc.problems}
    return {"ok": False, "error": type(exc).__name__}  # the type only: a message may carry a family's values


def set_result(job: Job, result: dict) -> None:
    if result.get("ok"):
        job.future.set_result(Outcome(**result["outcome"]))
    elif "invalid" in result:
        job.future.set_exception(InvalidApplication(result["invalid"]))
    else:
        job.future.set_exception(RuntimeError(f"recommendation failed ({result.get('error')})"))


# --- the engine process ----------------------------------------------------------------------------------


class EngineServer:
    """Listens on a Unix socket; merges the batches the workers send while it computes into one batch."""

    def __init__(self, engine: RecommendationEngine, path: str, max_batch: int = 64) -> None:
        self.engine = engine
        self.path = path
        self.max_batch = max_batch
        self._waiting: queue.Queue = queue.Queue()

    def serve_forever(self, ready: threading.Event | None = None) -> None:
        listener = self.listen()
        if ready is not None:
            ready.set()
        self.accept(listener)

    def listen(self) -> socket.socket:
        Path(self.path).unlink(missing_ok=True)  # a dead predecessor's socket
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        os.chmod(self.path, 0o600)
        listener.listen(128)
        threading.Thread(target=self._compute, name="atauly-engine-batches", daemon=True).start()
        return listener

    def accept(self, listener: socket.socket) -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=self._read, args=(conn,), name="atauly-engine-conn", daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        lock = threading.Lock()  # this thread answers pings; the batches' thread answers batches
        try:
            while True:
                message = receive(conn)
                if message.get("ping"):  # readiness: the law and the model are loaded, batches are taken
                    with lock:
                        send(conn, {"id": message.get("id"), "pong": True})
                    continue
                items = message.get("items")
                if not isinstance(items, list) or not items:
                    raise ConnectionError("no items")
                self._waiting.put((conn, lock, message.get("id"), items))
        except (OSError, ConnectionError, ValueError):  # the worker went away, or sent what is not a batch
            conn.close()

    def _compute(self) -> None:
        while True:
            requests = [self._waiting.get()]
            size = len(requests[0][3])
            while size < self.max_batch:
                try:
                    requests.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
                size += len(requests[-1][3])
            self._answer(requests)

    def _answer(self, requests: list) -> None:
        batches: list[list[Job]] = []
        for _conn, _lock, _id, items in requests:
            try:
                batches.append([Job(snapshot, str(quarter), bool(use)) for snapshot, quarter, use in items])
            except (TypeError, ValueError):
                batches.append([])  # not a list of [snapshot, quarter, use_model]: answered as an error
        jobs = [job for batch in batches for job in batch]
        if jobs:
            self.engine.run_batch(jobs)
        for (conn, lock, request_id, items), batch in zip(requests, batches, strict=True):
            results = (
                [result_of(job) for job in batch] if batch else [{"ok": False, "error": "bad"}] * len(items)
            )
            try:
                with lock:
                    send(conn, {"id": request_id, "results": results})
            except (OSError, ValueError, TypeError):  # that worker is gone; the others still get theirs
                conn.close()


def engine_main(path: str, parent: int, home: str, model: str) -> None:
    """The engine process (started with ``spawn``): load the law and the model, then serve."""
    from atauly.settings import Settings

    from . import heap
    from .engine import load_recommender

    logging.basicConfig(level=logging.WARNING)
    # Ctrl-C reaches the whole process group: the serving process stops this one when it has drained
    # (SharedEngine.stop), so that submissions still in flight get their recommendation, not a 503.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = Settings(home=Path(home), service_model=model)
    engine = RecommendationEngine(load_recommender(settings))
    heap.settle()  # the law and the forest live as long as this process
    threading.Thread(target=exit_with, args=(parent,), name="atauly-orphan-watch", daemon=True).start()
    EngineServer(engine, path).serve_forever()


#: An engine that ran at least this long before it ended is started again at once (killed or crashed once).
QUICK_END_S = 30.0
#: The longest wait between starts of an engine that keeps ending soon after its start.
RESTART_DELAY_MAX_S = 60.0


def restart_delay(previous: float, lived: float) -> float:
    """Seconds to wait before starting the engine again: none after an engine that ran a while; after one
    that ended within :data:`QUICK_END_S` of its start (it cannot load: a broken model, memory), 0.5 s
    doubled at each such end up to :data:`RESTART_DELAY_MAX_S`, so it is not started twice a second forever
    (submissions are answered 503 meanwhile, as during any restart)."""
    if lived >= QUICK_END_S:
        return 0.0
    return min(RESTART_DELAY_MAX_S, max(0.5, 2 * previous))


#: The directories of the engine's socket: ``PREFIX`` and a random part, under the temporary directory.
PREFIX = "atauly-engine-"
#: The file in such a directory naming the serving process that made it; that process holds an exclusive
#: ``flock`` on it for as long as it serves (:func:`clean_stale`).
OWNER = "owner.pid"
#: A Unix socket's path holds at most 107 bytes (``sun_path`` is 108 with its terminating NUL, on Linux).
MAX_SOCKET_PATH = 107
#: Where the socket goes when the temporary directory's path is too long for one.
SHORT_DIRECTORY = "/tmp"


def socket_directory() -> tuple[str, str, int]:
    """A new private directory (mode 700) for the engine's socket, the socket's path in it, and the open
    owner file naming this process, locked (:func:`clean_stale`): keep the descriptor open while serving.
    Under the temporary directory (``$TMPDIR``); under :data:`SHORT_DIRECTORY` when that path would make
    the socket's too long; an error saying so when neither will do."""
    for parent in (None, SHORT_DIRECTORY):
        base = tempfile.gettempdir() if parent is None else parent
        probe = os.path.join(base, PREFIX + "x" * 8, "engine.sock")
        if len(os.fsencode(probe)) > MAX_SOCKET_PATH or not os.path.isdir(base):
            continue
        clean_stale(base)
        directory = tempfile.mkdtemp(prefix=PREFIX, dir=base)
        try:
            owner = _own(directory)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)  # no owner file: no start would ever remove it
            raise
        return directory, os.path.join(directory, "engine.sock"), owner
    raise RuntimeError(
        f"no directory for the engine's socket: {tempfile.gettempdir()} is too long a path for a Unix "
        f"socket ({MAX_SOCKET_PATH} bytes at most) and {SHORT_DIRECTORY} cannot be used; set TMPDIR to a "
        "shorter directory"
    )


def _own(directory: str) -> int:
    """The owner file of ``directory``, written and locked under another name first and then renamed
    (the lock stays with the file): no other process ever sees it unlocked while this one lives."""
    draft = os.path.join(directory, OWNER + ".new")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # not inherited by children
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
        os.rename(draft, os.path.join(directory, OWNER))
    except BaseException:
        os.close(fd)
        raise
    return fd


def clean_stale(base: str) -> list[str]:
    """Remove the socket directories under ``base`` left by a serving process that is gone (killed with
    SIGKILL, it could not remove its own); only this account's, and only when nothing holds the lock on
    its owner file — a lock the kernel drops when its process ends, in whatever PID namespace it ran (a
    container sharing ``/tmp``, where ``kill(pid, 0)`` cannot see its process) — and when the process
    it names does not exist here either (a server of a version before the lock holds none). Never one
    whose owner is unknown. Returns those removed."""
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        try:
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            fd = os.open(os.path.join(entry.path, OWNER), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # not ours, or no owner named (yet): left alone
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: its server is serving
                continue
            owner = int(os.read(fd, 32).decode().strip())
            if owner > 0 and not _alive(owner):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
        except (OSError, ValueError):  # unreadable or no process named: left alone
            continue
        finally:
            os.close(fd)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: alive
        return True
    return True


class SharedEngine:
    """Starts the engine process in a private directory, restarts it when it dies, and stops it."""

    def __init__(self, home: Path | str, model: str) -> None:
        self.home = str(home)
        self.model = model
        # mode 700: only this account; the owner file stays locked while this object serves
        self.directory, self.path, self._owner = socket_directory()
        self._process: multiprocessing.Process | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self.restarts = 0
        self._started = 0.0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 300) -> SharedEngine:
        self._process = self._spawn()
        self.wait_ready(timeout)
        self._watcher = threading.Thread(target=self._watch, name="atauly-engine-watch", daemon=True)
        self._watcher.start()
        return self

    def _spawn(self) -> multiprocessing.Process:
        # spawn, not fork: the serving process has threads (a fork copies their held locks)
        process = multiprocessing.get_context("spawn").Process(
            target=engine_main,
            args=(self.path, os.getpid(), self.home, self.model),
            name="atauly-engine",
            daemon=True,
        )
        process.start()
        self._started = time.monotonic()
        return process

    def wait_ready(self, timeout: float = 300) -> None:
        """Until the engine process answers (it listens once the law and the model are loaded); a restart
        under way is waited for."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            process = self._process
            if self._watcher is None and process is not None and not process.is_alive():
                raise RuntimeError(f"the engine process ended at start (exit code {process.exitcode})")
            if ping(self.path):
                return
            time.sleep(0.1)
        raise TimeoutError("the engine process did not start in time")

    def _watch(self) -> None:
        delay = 0.0
        while not self._stopping.is_set():
            self._process.join(0.5)
            if self._process.is_alive() or self._stopping.is_set():
                continue
            delay = restart_delay(delay, time.monotonic() - self._started)
            log.error(
                "the shared recommendation process ended (exit code %s): starting a new one in %.1f s",
                self._process.exitcode,
                delay,
            )
            if delay and self._stopping.wait(delay):
                break
            self.restarts += 1
            self._process = self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(5)
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
        if self._owner >= 0:
            os.close(self._owner)  # the lock goes with it (after the directory: never seen stale)
            self._owner = -1


def ping(path: str, timeout: float = 5.0) -> bool:
    """Whether an engine process answers on ``path``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(timeout)
            probe.connect(path)
            send(probe, {"id": 0, "ping": True})
            return receive(probe).get("pong") is True
    except (OSError, ConnectionError, ValueError):
        return False


# --- a worker's side ---------------------------------------------------------------------------------------


class RemoteEngine:
    """A worker's connection to the shared engine process: one batch at a time (the worker's batching
    thread is its only user)."""

    def __init__(self, path: str, timeout: float = REPLY_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._sent = 0

    def run(self, jobs: list[Job]) -> None:
        """Each job's future gets its outcome or error; an unreachable engine gives EngineUnavailable (503)."""
        self._sent += 1
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.settimeout(self.timeout)
                self._sock.connect(self.path)
            send(
                self._sock, {"id": self._sent, "items": [[j.snapshot, j.quarter, j.use_model] for j in jobs]}
            )
            reply = receive(self._sock)
            results = reply.get("results")
            if reply.get("id") != self._sent or not isinstance(results, list) or len(results) != len(jobs):
                raise ConnectionError("an answer that is not this batch's")
        except (OSError, ConnectionError, ValueError) as exc:  # dead, restarting, or out of step
            log.error("the shared recommendation process cannot be reached (%s)", type(exc).__name__)
            self.close()
            for job in jobs:
                job.future.set_exception(
                    EngineUnavailable("the recommendation process is restarting; try again")
                )
            return
        except Exception as exc:  # noqa: BLE001 — e.g. a snapshot JSON cannot carry: every request hears
            log.error("recommendation batch could not be sent to the engine process (%s)", type(exc).__name__)
            for job in jobs:
                job.future.set_exception(exc)
            return
        for job, result in zip(jobs, results, strict=True):
            try:
                set_result(job, result)
            except (TypeError, KeyError, AttributeError) as exc:  # an answer of another shape
                log.error(
                    "the shared recommendation process answered what is not an outcome (%s)",
                    type(exc).__name__,
                )
                job.future.set_exception(EngineUnavailable("the recommendation process answered wrongly"))

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
