"""One family's PDFs written by a second process (issue 19: ``atauly plans family`` in ≤ 1 s).

A fresh ``atauly plans family`` is bound by its imports, and they run on one core: pandas, pyarrow and
OpenFisca for the plan, fpdf2 (with PIL, fontTools and cryptography) for the PDFs. :func:`start` forks a
child at the start of the command; the child imports fpdf2 and parses the fonts while the parent imports
the rest and drafts the plan; the parent then sends the documents' model (:class:`~.writers.Document`, as
JSON: no pickle) through a pipe, the child writes the PDFs while the parent writes the DOCX files, and the
parent waits for it (:meth:`PdfWorker.write`).

Every file is written under a temporary name in the output directory (``.NAME.PID.part``) and renamed
only when all of them are written: a child that fails (an exception, a signal) gives
:class:`PdfWorkerError` naming what went wrong, its files and the parent's are removed, and the documents
already there are left as they were. The child is always waited for (no zombie) and killed when the parent
gives up before sending anything. The renames are file by file: a parent killed while renaming leaves
some documents of the run beside earlier ones, and a parent killed (SIGKILL, a crash) while the files are
written leaves its hidden ``.part`` files; the next run into the same directory removes those of processes
no longer alive (:func:`remove_stale_parts`).

Where ``os.fork`` is missing, or other threads are running (a fork would copy their locks in whatever
state they are) — Python's and, on Linux, native ones (Arrow's pool, OpenBLAS's) — :func:`start` returns
None and the PDFs are written in the process, as the casework service (a warm process: ~0.2 s a family)
always does.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import asdict
from pathlib import Path

from .writers import Block, Document, Section


class PdfWorkerError(RuntimeError):
    """The process writing the PDFs failed; no document of this run was left in the output directory."""


def start() -> PdfWorker | None:
    """A child process that prepares fpdf2 and the fonts and waits for the documents; None where it cannot
    be forked safely (no ``os.fork``, other threads running, the fork refused)."""
    if not hasattr(os, "fork") or not _single_threaded():
        return None
    jobs_r, jobs_w = os.pipe()
    done_r, done_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        for fd in (jobs_r, jobs_w, done_r, done_w):
            os.close(fd)
        return None
    if pid == 0:  # the child: never returns into the parent's code
        code = 1
        try:
            os.close(jobs_w)
            os.close(done_r)
            code = _child(jobs_r, done_w)
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    os.close(jobs_r)
    os.close(done_w)
    return PdfWorker(pid, jobs_w, done_r)


def _single_threaded() -> bool:
    """No other thread in this process: none of Python's, and on Linux none at all (native threads, such as
    Arrow's pool or OpenBLAS's, are not ``threading``'s; the command forks before pandas starts them)."""
    if threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: Python's threads are all that can be counted
        return True


def _child(jobs: int, done: int) -> int:
    """Prepare, read one job (EOF: nothing to do), write its PDFs under temporary names, report."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the process group: end at once
    ready: BaseException | None = None
    try:
        _prepare()
    except Exception as exc:  # noqa: BLE001 — reported with the job, where the parent can say it
        ready = exc
    with os.fdopen(jobs, "rb") as fh:
        data = fh.read()
    if not data:
        return 0
    report: dict = {"ok": False}
    try:
        if ready is not None:
            raise ready
        job = json.loads(data)
        from .writers import to_pdf

        for doc, target in zip(job["documents"], job["targets"], strict=True):
            body = to_pdf(document_from_json(doc))
            with open(target, "wb") as out:
                out.write(body)
        report["ok"] = True
    except Exception as exc:  # noqa: BLE001 — every failure goes back to the parent, which raises it
        report["error"] = f"{type(exc).__name__}: {exc}"
    with os.fdopen(done, "wb") as fh:
        fh.write(json.dumps(report).encode("utf-8"))
    return 0 if report["ok"] else 1


def _prepare() -> None:
    """fpdf2's imports and the fonts' parsing, done while the parent drafts the plan."""
    from . import pdfsetup

    for style in pdfsetup.FONT_FILES:
        pdfsetup._parsed_font(style, True)
    pdfsetup._pdf_class()


class PdfWorker:
    """The parent's side of the child started by :func:`start`: :meth:`write` once, or :meth:`close`."""

    def __init__(self, pid: int, jobs: int, done: int) -> None:
        self.pid, self._jobs, self._done = pid, jobs, done

    def write(self, documents: list[Document], out: Path, docx) -> list[Path]:
        """The documents' PDFs (by the child) and DOCX files (``docx(document, path)``, here) in ``out``,
        all renamed into place only when every one is written; returns the paths, PDF then DOCX per
        document (as :func:`~.documents.write_family_documents`)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(out)
        final = [(out / f"{d.name}.pdf", out / f"{d.name}.docx") for d in documents]
        temp = [(_temp(pdf), _temp(docx_path)) for pdf, docx_path in final]
        job = {"documents": [document_as_json(d) for d in documents], "targets": [str(p) for p, _ in temp]}
        try:
            self._send(json.dumps(job, ensure_ascii=False).encode("utf-8"))
            for d, (_, docx_path) in zip(documents, temp, strict=True):
                docx(d, docx_path)
            self._wait()
            for pair_temp, pair_final in zip(temp, final, strict=True):
                for src, dst in zip(pair_temp, pair_final, strict=True):
                    os.replace(src, dst)
        finally:
            self.close()
            for pair in temp:
                for p in pair:
                    p.unlink(missing_ok=True)
        return [p for pair in final for p in pair]

    def _send(self, data: bytes) -> None:
        try:
            with os.fdopen(self._jobs, "wb") as fh:
                self._jobs = None
                fh.write(data)
        except BrokenPipeError:
            pass  # the child is gone: _wait says why

    def _wait(self) -> None:
        with os.fdopen(self._done, "rb") as fh:
            self._done = None
            data = fh.read()
        pid = self.pid
        status = self._reap()
        report = json.loads(data) if data else {}
        if report.get("ok") and status == 0:
            return
        if "error" in report:
            why = report["error"]
        elif status is not None and os.WIFSIGNALED(status):
            why = f"it ended with signal {signal.Signals(os.WTERMSIG(status)).name}"
        else:
            why = f"it ended with status {os.waitstatus_to_exitcode(status) if status is not None else '?'}"
        raise PdfWorkerError(
            f"the process writing the PDFs (pid {pid}) failed: {why}; no document was written"
        )

    def _reap(self) -> int | None:
        if self.pid is None:
            return None
        pid, self.pid = self.pid, None
        while True:
            try:
                return os.waitpid(pid, 0)[1]
            except InterruptedError:
                continue
            except ChildProcessError:
                return None

    def close(self) -> None:
        """End the child if it has not been given its job (it has written nothing), and wait for it."""
        if self._jobs is not None:
            os.close(self._jobs)
            self._jobs = None
            if self.pid is not None:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._done is not None:
            os.close(self._done)
            self._done = None
        self._reap()

    def __enter__(self) -> PdfWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _temp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def remove_stale_parts(out: Path) -> None:
    """Remove the temporary files (``.NAME.PID.part``) that a run killed before it could remove them left
    in ``out``: those of processes no longer alive (the files hold a family's personal data)."""
    for path in Path(out).glob(".*.part"):
        pid = path.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) not in (0, os.getpid()) and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def document_as_json(doc: Document) -> dict:
    """The document as JSON values; every text as the PDF writer reads it (``str`` of each value)."""

    def text(value) -> str:
        return str(value)

    def rows(values: list) -> list:
        return [[text(v) for v in r] if isinstance(r, (list, tuple)) else text(r) for r in values]

    d = asdict(doc)
    return {
        "name": text(d["name"]),
        "title": text(d["title"]),
        "lang": text(d["lang"]),
        "footer": text(d["footer"]),
        "header": rows(d["header"]),
        "sections": [
            {
                "heading": text(s["heading"]),
                "blocks": [
                    {
                        "kind": b["kind"],
                        "text": text(b["text"]),
                        "rows": rows(b["rows"]),
                        "columns": [text(c) for c in b["columns"]],
                    }  # fmt: skip
                    for b in s["blocks"]
                ],
            }
            for s in d["sections"]
        ],
    }


def document_from_json(d: dict) -> Document:
    return Document(
        name=d["name"],
        title=d["title"],
        lang=d["lang"],
        header=[tuple(r) for r in d["header"]],
        sections=[Section(s["heading"], [Block(**b) for b in s["blocks"]]) for s in d["sections"]],
        footer=d["footer"],
    )
