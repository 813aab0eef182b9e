"""The registry's parts read, validated and put through the law in worker processes (``plans national``
without ``--law``, :mod:`atauly.plans.by_part`).

In one process the parts' work holds the GIL (the validator, the law, the id hashing): a second thread
gained nothing, and one core stayed idle. Here ``n`` worker processes (``python -m
atauly.plans.part_worker``: fresh interpreters, nothing of this process copied into them, and no
re-running of the caller's main script as ``multiprocessing``'s spawn would) each take one part at a time
and run :func:`atauly.plans.part_work.part_result` on it, exactly as this process would. They talk over
their standard input and output, one JSON line per message (no pickles): the worker's settings, then a part
to do, then its result. A worker hands back only what the plan keeps of a part — its conditional families
and members, their law rows and the IINs compared across parts, as Arrow IPC files in a temporary folder
(deleted as they are read back) and, in the JSON line, the counts by district and region, the id
ranges and the income coverage — so this process never holds a whole part. The files are read once every
part is done and the workers have ended: the workers' memory and the results' are never resident together.

The files hold personal data (persons with their IINs and names, the law's rows with incomes): they go in
a hidden folder ``.atauly-parts-PID-…`` under ``scratch`` (``atauly plans national`` passes its ``--out``;
the system's temporary folder by default), removed in every case this process can see: its end, an
exception, Ctrl-C, SIGTERM (the command turns it into an exit). A worker ends when told; if its input ends
without that word, or its answer cannot be sent, or (on Linux, ``PR_SET_PDEATHSIG``) the kernel sends it
SIGTERM while it works a part, this process has died: it removes the files it wrote and ends. What a
process killed at once leaves (the folder, the ``--recipients-only`` ids it wrote) is removed by the next
run over the same ``scratch`` (the folders of processes no longer alive). On a tmpfs the files are memory
(about 1.2 GiB at full scale), counted in no process's RSS.

Results do not depend on the order in which parts finish: each is stored under its index and the caller
assembles them in the files' order. Parts run together only while their files add up to at most
:data:`BUDGET` times the largest part's (the largest beside small ones only). A part with a data problem
stops the workers (the parts not finished are not read) and the caller reads the whole registry, as in one
process; an exception in a worker (a file that cannot be read) is raised here with its type and message
(when this process knows the type; :class:`PartWorkerError` otherwise), the worker's traceback added as a
note; a worker that ends without an answer (killed, out of memory, failed at its start) raises
:class:`PartWorkerError` with its exit status (its own error message, if any, went to standard error).
Workers ignore Ctrl-C (it reaches the whole process group): this process stops them.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from atauly.registry import Registry

from .part_work import Part, part_result

__all__ = ["BUDGET", "PartWorkerError", "in_processes"]

#: Parts run together only while their files add up to at most this many times the largest part's.
BUDGET = 1.5


class PartWorkerError(RuntimeError):
    """A worker process ended without a result (killed: out of memory, a signal), or failed with an
    exception this process cannot rebuild."""


def in_processes(
    parts,
    sizes,
    n: int,
    quarter: str,
    region: str | None,
    wanted: pa.Array | None,
    scratch: Path | None = None,
) -> list[Part] | None:
    """Every part's result in the files' order, computed in ``n`` worker processes; None when a part has a
    data problem. The files between them go in a hidden folder under ``scratch`` (default: the system's
    temporary folder)."""
    order = sorted(range(len(parts)), key=lambda k: -sizes[k])  # the largest first, the small ones fill in
    limit = BUDGET * max(sizes)
    found: list = [None] * len(parts)
    problem = False
    scratch = Path(tempfile.gettempdir() if scratch is None else scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    remove_stale_folders(scratch)
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER}{os.getpid()}-", dir=scratch) as tmp:
        wanted_path = None
        if wanted is not None:
            wanted_path = str(Path(tmp) / "wanted.arrow")
            _write_table(pa.table({"family_id": wanted}), wanted_path)
        config = {"quarter": quarter, "region": region, "wanted": wanted_path, "folder": tmp}
        workers: list[_Worker] = []
        finished = False
        try:
            for _ in range(n):  # one at a time: those started are closed below if the next one fails
                workers.append(_Worker(config))
            idle, busy, used, pending = list(workers), {}, 0, list(order)
            with selectors.DefaultSelector() as ready:
                while (busy or pending) and not problem:
                    while idle and pending and not problem:
                        k = next((k for k in pending if not busy or used + sizes[k] <= limit), None)
                        if k is None:
                            break
                        pending.remove(k)
                        worker = idle.pop()
                        worker.send({"part": k, "paths": [str(p) for p in parts[k]]})
                        busy[worker], used = k, used + sizes[k]
                        ready.register(worker.proc.stdout, selectors.EVENT_READ, worker)
                    for key, _ in sorted(ready.select(), key=lambda e: busy[e[0].data]):
                        worker = key.data
                        ready.unregister(key.fileobj)
                        k = busy.pop(worker)
                        used -= sizes[k]
                        idle.append(worker)
                        found[k] = worker.receive(Path(parts[k][0]).name)
                        problem = problem or not found[k]["ok"]
            finished = not problem
        finally:  # after a problem the whole registry is read: the parts still running are not waited for
            for worker in workers:
                worker.close(stop=not finished)
        if problem:
            return None
        # Read once the workers have ended and handed their memory back: the parts' peak and the results'
        # are not added up.
        return [_read_part(f) for f in found]


#: The name of the folders of the files between this process and its workers (then its pid).
FOLDER = ".atauly-parts-"


def remove_stale_folders(scratch: Path) -> None:
    """Remove the folders (and the personal data in them) that runs killed at once left in ``scratch``:
    those of processes no longer alive."""
    for path in Path(scratch).glob(f"{FOLDER}*"):
        pid = path.name[len(FOLDER) :].split("-", 1)[0]
        if path.is_dir() and pid.isdigit() and int(pid) not in (0, os.getpid()) and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _command() -> tuple[list[str], dict[str, str]]:
    """The worker's command line and environment: this interpreter with its flags (``-X``, ``-W``, ``-O``,
    ``-I``…, as ``multiprocessing`` passes them on), and this package's folder added to ``PYTHONPATH`` only
    where a fresh interpreter would not find it on its own (a source checkout imported through a
    changed ``sys.path``; never a site-packages folder, which must not come before the standard library)."""
    import site

    import atauly

    env = dict(os.environ)
    src = str(Path(atauly.__file__).resolve().parent.parent)
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    found = {
        str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages(), *inherited]
    }
    if src not in found:
        env["PYTHONPATH"] = os.pathsep.join([src, *inherited])
    flags = subprocess._args_from_interpreter_flags()  # what multiprocessing's spawn passes on too
    return [sys.executable, *flags, "-m", "atauly.plans.part_worker"], env


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self, config: dict) -> None:
        import atauly

        command, env = _command()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        try:  # the worker checks that it runs this process's code, and watches this process
            self.send({**config, "parent": os.getpid(), "package": str(Path(atauly.__file__).resolve())})
        except BaseException:
            self.close(stop=True)
            raise

    def send(self, message: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:  # the worker has ended
            raise PartWorkerError(self._ended("its start")) from None

    def receive(self, name: str) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise PartWorkerError(self._ended(f"part {name}"))
        found = json.loads(line)
        if "error" in found:
            _raise(found["error"], name)
        return found

    def _ended(self, what: str) -> str:
        """What to say of a worker that has ended without an answer, by its exit status."""
        code = self.proc.wait()
        if code < 0:
            name = signal.Signals(-code).name
            why = f"killed by {name}" + (", perhaps out of memory" if name == "SIGKILL" else "")
        else:
            why = f"exit status {code}; its error, if any, is on standard error above"
        return f"the worker process for {what} ended without a result ({why}): run again with --workers 1"

    def close(self, stop: bool) -> None:
        """Tell the worker to end (its files are kept for this process), or stop it at once (``stop``), and
        wait for it."""
        if stop:
            self.proc.kill()
        else:
            try:
                self.send({"end": True})
            except PartWorkerError:  # it has ended already
                pass
        try:
            self.proc.stdin.close()
        except OSError:  # a worker that has died: its pipe is broken
            pass
        self.proc.wait()
        self.proc.stdout.close()


def _raise(error: dict, name: str) -> None:
    """Raise the worker's exception here: its type when this process has it loaded, else PartWorkerError."""
    module = sys.modules.get(error["module"])
    cls = getattr(module, error["name"], None) if module is not None else None
    exc = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(*error["args"])
        except Exception:  # noqa: BLE001 - a constructor that wants other arguments: said below instead
            exc = None
        if exc is not None and str(exc) != error["message"]:
            exc = None
    if exc is None:
        exc = PartWorkerError(f"{error['name']}: {error['message']}")
    exc.add_note(f"Raised in the worker process for part {name}:\n{error['traceback']}")
    raise exc


# --- in the worker process ---------------------------------------------------------------------------


#: The files this worker has written and its parent has not read yet: removed if the parent dies.
_WRITTEN: list[str] = []


class _ParentGone(BaseException):
    """The parent process has died: this worker's files are removed and it ends (not an ``Exception``:
    nothing on the way may take it for a part's error)."""


def main() -> None:
    """The worker's loop: its settings on the first line of its input, then one part per line, each
    answered by one line on its output; it ends when told (``{"end": true}``). If the parent dies (its input
    ends without that word, its answers cannot be sent, or SIGTERM comes from the kernel while it works a
    part, :func:`_die_with_parent`) the files it wrote are removed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops its workers on Ctrl-C
    signal.signal(signal.SIGTERM, _parent_gone)
    _die_with_parent()
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printed goes to standard error, not into the answers
    try:
        line = sys.stdin.readline()
        if not line:
            return  # the parent ended before it sent anything
        config = json.loads(line)
        if os.getppid() != config["parent"]:
            raise _ParentGone  # it died before this process asked to be told
        _same_code(config["package"])
        state = _start(config)
        for line in sys.stdin:
            task = json.loads(line)
            if task.get("end"):
                return  # the parent reads the files now
            try:
                found = _work(task["part"], task["paths"], state)
            except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
                found = {"error": _error(exc)}
            try:
                answers.write(json.dumps(found, default=_plain) + "\n")
                answers.flush()
            except BrokenPipeError:
                raise _ParentGone from None
        raise _ParentGone  # the input ended without the parent's word: it has died
    except _ParentGone:
        for path in _WRITTEN:
            Path(path).unlink(missing_ok=True)
        os._exit(1)  # nothing left to flush to a parent that is gone


def _parent_gone(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the files are being removed
    raise _ParentGone


def _die_with_parent() -> None:
    """On Linux, ask the kernel for SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no libc to ask: the broken pipe tells instead
        pass


def _same_code(package: str) -> None:
    """Refuse to run other code than the parent's (another copy of the package found first)."""
    import atauly

    here = str(Path(atauly.__file__).resolve())
    if here != package:
        raise RuntimeError(f"the worker imported {here}, not the parent's {package}")


def _start(config: dict) -> dict:
    """The imports and the law's tax-benefit system once, not per part."""
    from atauly.law.simulation import Quarter
    from atauly.law.system import tax_benefit_system

    wanted = None
    if config["wanted"] is not None:
        wanted = _read_table(config["wanted"], delete=False)["family_id"].combine_chunks()
    return {
        "quarter": Quarter.parse(config["quarter"]),
        "region": config["region"],
        "wanted": wanted,
        "tbs": tax_benefit_system(),
        "folder": config["folder"],
    }


def _work(k: int, paths: list[str], state: dict) -> dict:
    """Part ``k``: its tables written to IPC files, the rest as plain values."""
    part = part_result(
        [Path(p) for p in paths], state["quarter"], state["region"], state["wanted"], state["tbs"]
    )
    stem = str(Path(state["folder"]) / f"part-{k}")
    found = {
        "ok": part.ok,
        "ranges": [list(r) for r in part.ranges],
        "iins": _write_own(pa.table({"iin": part.iins}), f"{stem}-iins.arrow"),
        "districts": [[str(d), int(v)] for d, v in part.districts.items()],
        "regions": [[str(r), int(v)] for r, v in part.regions.items()],
        "coverage": None if part.coverage is None else asdict(part.coverage),
        "tables": None,
    }
    if part.sub is not None:
        sub = part.sub
        if len(sub.incomes) or len(sub.income_person):  # a part keeps no income rows (_without_incomes)
            raise ValueError("a part's conditional families were kept with income rows")
        found["tables"] = {
            "families": _write_frame(sub.families, f"{stem}-families.arrow"),
            "persons": _write_frame(sub.persons, f"{stem}-persons.arrow"),
            "incomes": _write_frame(sub.incomes, f"{stem}-incomes.arrow"),
            "law": _write_frame(part.law, f"{stem}-law.arrow"),
            "positions": _write_own(
                pa.table({"person_family": sub.person_family}), f"{stem}-positions.arrow"
            ),
        }
    return found


def _error(exc: Exception) -> dict:
    args = list(exc.args)
    if isinstance(exc, OSError) and exc.filename is not None and len(args) == 2:
        args.append(exc.filename)  # str() of an OSError names its file
    try:
        json.dumps(args)
    except (TypeError, ValueError):
        args = [str(exc)]
    return {
        "module": type(exc).__module__,
        "name": type(exc).__qualname__,
        "args": args,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(type(value))


# --- the files between them ---------------------------------------------------------------------------


def _read_part(found: dict) -> Part:
    """The :class:`Part` a worker wrote; its files are deleted once read."""
    from atauly.law.compute import IncomeCoverage

    iins = _read_table(found["iins"])["iin"].combine_chunks()
    sub = law = None
    if found["tables"] is not None:
        files = found["tables"]
        families, persons, incomes, law = (
            _read_table(files[name]).to_pandas() for name in ("families", "persons", "incomes", "law")
        )
        person_family = _read_table(files["positions"])["person_family"].to_numpy()
        sub = Registry(families, persons, incomes, person_family, np.zeros(0, dtype=np.int64))
    coverage = None
    if found["coverage"] is not None:
        c = found["coverage"]
        coverage = IncomeCoverage(
            **{**c, "months": tuple(c["months"]), "months_held": tuple(c["months_held"])}
        )
    return Part(
        sub,
        law,
        coverage,
        _series(found["districts"]),
        _series(found["regions"]),
        tuple(tuple(r) for r in found["ranges"]),
        iins,
        found["ok"],
    )


def _series(pairs: list[list]) -> pd.Series:
    return pd.Series([v for _, v in pairs], index=[k for k, _ in pairs], dtype="int64")


def _write_frame(frame: pd.DataFrame, path: str) -> str:
    return _write_own(pa.Table.from_pandas(frame, preserve_index=False), path)


def _write_own(table: pa.Table, path: str) -> str:
    """A worker's file, noted first: removed if the parent dies before it reads it."""
    _WRITTEN.append(path)
    return _write_table(table, path)


def _write_table(table: pa.Table, path: str) -> str:
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def _read_table(path: str, delete: bool = True) -> pa.Table:
    """A table read into memory (its file deleted)."""
    with pa.OSFile(path) as source:
        table = pa.ipc.open_file(source).read_all()
    if delete:
        Path(path).unlink()
    return table


if __name__ == "__main__":
    main()
