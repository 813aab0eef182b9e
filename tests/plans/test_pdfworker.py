"""The PDFs' process of ``atauly plans family`` (:mod:`atauly.plans.pdfworker`): the same PDFs as written in
the process, a clear error and no file of the run left when it fails, never a zombie.

The fork needs a process with no other thread, which pytest's is not always (a test elsewhere may leave a
thread running; pandas' native threads count too): the tests of the worker's path run their case in a fresh
interpreter (:func:`_in_a_fresh_process`), where the command itself forks, so they never depend on which
tests ran before in the same process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from atauly.plans import pdfworker, writers
from atauly.plans.writers import Block, Document, Section, to_docx, to_pdf


def _doc(name: str) -> Document:
    return Document(
        name,
        "Әлеуметтік келісімшарт",
        "kk",
        [("Отбасы", "R61F1"), ("Мүшелер", 4)],  # a number: the PDF writer prints str() of it
        [
            Section("Тараптар", [Block("p", "Қазақ тілі, русский язык ₸ " * 30)]),
            Section("Шаралар", [Block("table", columns=["A", "B"], rows=[["1", 2.5], ["ә", None]])]),
            Section("Тізім", [Block("list", rows=["бір", "екі"]), Block("sign", rows=[("Қолы", "____")])]),
        ],
        "Жүйе жобасы",
    )


def _same_pdf(a: bytes, b: bytes) -> bool:
    strip = re.compile(rb"/CreationDate \(D:\d+Z?\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]")  # the time and its hash
    return strip.sub(b"", a) == strip.sub(b"", b)


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:  # the parts, not the archive's times
        return {name: z.read(name) for name in z.namelist()}


def _started() -> pdfworker.PdfWorker:
    worker = pdfworker.start()
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else "?"
    assert worker is not None, f"fork refused or threads running ({threads} threads): the path is not tested"
    return worker


_RUN_CASE = """
import runpy, sys
cases = runpy.run_path(sys.argv[1])
cases[sys.argv[2]](*sys.argv[3:])
"""


def _in_a_fresh_process(case, *args) -> None:
    """``case(*args)`` (a function of this module; its arguments as strings) run in a fresh interpreter
    with this process's code: nothing imported there but pytest, the PDFs' process and the writers."""
    import atauly

    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_CASE, __file__, case.__name__, *map(str, args)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _gone(pid: int) -> bool:
    """The child was waited for: no zombie left."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True


def test_the_worker_writes_the_same_pdfs_and_docx(tmp_path):
    _in_a_fresh_process(_writes_the_same_pdfs_and_docx, tmp_path)


def _writes_the_same_pdfs_and_docx(tmp: str) -> None:
    tmp_path = Path(tmp)
    docs = [_doc("a"), _doc("b")]
    worker = _started()
    pid = worker.pid
    paths = worker.write(docs, tmp_path / "out", to_docx)
    assert [p.name for p in paths] == ["a.pdf", "a.docx", "b.pdf", "b.docx"]
    for d in docs:
        assert _same_pdf((tmp_path / "out" / f"{d.name}.pdf").read_bytes(), to_pdf(d))
    to_docx(docs[0], tmp_path / "ref.docx")
    assert _parts(tmp_path / "out" / "a.docx") == _parts(tmp_path / "ref.docx")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.docx", "a.pdf", "b.docx", "b.pdf"]
    assert _gone(pid)


def test_the_document_survives_json_as_the_pdf_writer_reads_it():
    doc = _doc("a")
    again = pdfworker.document_from_json(pdfworker.document_as_json(doc))
    assert _same_pdf(to_pdf(again, compress=False), to_pdf(doc, compress=False))


def _failing(how):
    """The child's ``to_pdf`` fails on the second document (patched before the fork: the child has it; in
    a fresh process, so nothing to put back)."""
    real = writers.to_pdf
    calls = []

    def to_pdf_then_fail(doc, *a, **k):
        calls.append(doc.name)
        if len(calls) == 2:
            how()
        return real(doc, *a, **k)

    writers.to_pdf = to_pdf_then_fail


def _boom():
    raise ValueError("the font is broken")


def _killed():
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("how", ["_boom", "_killed"])
def test_a_failed_child_is_a_clear_error_and_leaves_no_file_of_the_run(tmp_path, how):
    _in_a_fresh_process(_a_failed_child, tmp_path, how)


def _a_failed_child(tmp: str, how: str) -> None:
    says = {"_boom": "ValueError: the font is broken", "_killed": "SIGKILL"}[how]
    out = Path(tmp) / "out"
    out.mkdir()
    (out / "a.pdf").write_bytes(b"an earlier run's document")
    _failing(globals()[how])
    worker = _started()
    pid = worker.pid
    with pytest.raises(pdfworker.PdfWorkerError, match=re.escape(says)) as err:
        worker.write([_doc("a"), _doc("b")], out, to_docx)
    assert f"(pid {pid}) failed" in str(err.value) and "no document was written" in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["a.pdf"]  # no new file, no half file, no temporary
    assert (out / "a.pdf").read_bytes() == b"an earlier run's document"
    assert _gone(pid)


def test_a_failed_docx_leaves_no_file_of_the_run_and_no_zombie(tmp_path):
    _in_a_fresh_process(_a_failed_docx, tmp_path)


def _a_failed_docx(tmp: str) -> None:
    tmp_path = Path(tmp)

    def docx_fails(doc, path):
        raise OSError("disk full")

    worker = _started()
    pid = worker.pid
    with pytest.raises(OSError, match="disk full"):
        worker.write([_doc("a")], tmp_path / "out", docx_fails)
    assert list((tmp_path / "out").iterdir()) == []
    assert _gone(pid)


def test_a_worker_given_nothing_is_ended_and_waited_for():
    _in_a_fresh_process(_given_nothing)


def _given_nothing() -> None:
    worker = _started()
    pid = worker.pid
    worker.close()
    assert _gone(pid)
    worker.close()  # twice: nothing left to do


def test_no_fork_while_other_threads_run():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert pdfworker.start() is None  # a fork would copy the thread's locks in whatever state
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="native threads are counted on Linux")
def test_no_fork_while_a_native_thread_runs():
    _in_a_fresh_process(_native_thread)


def _native_thread() -> None:
    """A thread that ``threading`` does not know (as Arrow's and OpenBLAS's are not) refuses the fork too."""
    import _thread

    lock = _thread.allocate_lock()
    lock.acquire()
    _thread.start_new_thread(lock.acquire, ())  # waits until released below
    for _ in range(500):
        if len(os.listdir("/proc/self/task")) == 2:
            break
        time.sleep(0.01)
    assert len(os.listdir("/proc/self/task")) == 2 and threading.active_count() == 1
    try:
        assert pdfworker.start() is None
    finally:
        lock.release()


def test_a_killed_runs_temporary_files_are_removed_by_the_next(tmp_path):
    """The hidden ``.NAME.PID.part`` files of a process no longer alive go; a live process's stay."""
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = out / f".plan-F1-ru.pdf.{dead.pid}.part"
        live = out / f".plan-F2-ru.pdf.{alive.pid}.part"
        for path in (stale, live, out / "a.pdf"):
            path.write_bytes(b"personal data")
        pdfworker.remove_stale_parts(out)
        assert not stale.exists() and live.exists() and (out / "a.pdf").exists()
    finally:
        alive.kill()
        alive.wait()
