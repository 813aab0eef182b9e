"""Law and model for applications as they arrive: the same functions as the national batch, in micro-batches.

One family costs about as much as forty in the law (OpenFisca) and the forest: their cost is mostly fixed
per call. So concurrent submissions are queued and a single worker thread takes everything waiting,
validates it together, runs the law and the model once, and hands each request its own result. Under no
load a batch is one application; under load, latency stays near one batch's time. A batch is validated
with the contract validator's small-table path (:func:`atauly.registry.validate_small.validate_rows`: the
same rules, without the vectorised validator's fixed cost per column, which was half of one application's
CPU); any problem is still found and worded by the full validator.

With ``process=True`` (what ``atauly serve`` uses) the batches are computed in a child process: that work
is CPU-bound Python and pandas, and in the server's own process it competed for the interpreter lock with
the threads handling requests, so under load both slowed down. The batching stays in the server; the child
gets each batch whole and returns every application's outcome or error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from atauly import __version__
from atauly.law.compute import compute
from atauly.law.system import tax_benefit_system
from atauly.registry import Registry
from atauly.registry.quarter import Quarter
from atauly.registry.validate_small import frames_of, validate_rows

log = logging.getLogger(__name__)

#: The law's code version: a recommendation can be recomputed with the same rules.
LAW_VERSION = __version__
TOP_REASONS = 5
#: Reasons kept beyond the top ones: the largest that do not restate the law (the law's own features fill
#: the top; the case page shows what the model adds beyond the law's verdict first).
BEYOND_LAW_REASONS = 3


class EngineUnavailable(RuntimeError):
    """The law and the model could not be computed now (their process died and is being restarted):
    answered 503, try again."""

    def __reduce__(self):
        return (EngineUnavailable, self.args)


class InvalidApplication(ValueError):
    """The contract's validator found problems; ``problems`` name the field of each."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__("; ".join(p["msg"] for p in problems))

    def __reduce__(self):  # sent back from the engine's child process
        return (InvalidApplication, (self.problems,))


def law_start(tbs) -> date:
    """The first day on which every parameter of the law has a value: before it the law cannot be applied
    (OpenFisca raises ParameterNotFoundError)."""
    from openfisca_core.parameters import Parameter

    firsts = [
        min(v.instant_str for v in p.values_list)
        for p in tbs.parameters.get_descendants()
        if isinstance(p, Parameter) and p.values_list
    ]
    return date.fromisoformat(max(firsts))


def earliest_application(law_from: date) -> date:
    """The first application date the law can be applied to: income is counted for the quarter before the
    application's, so that whole quarter must lie on or after ``law_from``."""
    first_income = Quarter.of(law_from)
    if law_from != first_income.start:
        first_income = first_income.next()  # not covered from its first day: the next one is the first
    return first_income.next().start  # the application's own quarter


def canonical_hash(snapshot: dict) -> str:
    raw = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Outcome:
    law: dict
    eligible: bool
    amount_monthly: float
    mode: str
    model_version: str | None = None
    probability: float | None = None
    threshold: float | None = None
    recommended: bool = False
    reasons: dict = field(default_factory=dict)


@dataclass
class Job:
    snapshot: dict  # {"families": [row], "persons": [...], "incomes": [...]}
    quarter: str
    use_model: bool
    future: Future = field(default_factory=Future)


def rows(jobs: list[Job]) -> tuple[list[dict], list[dict], list[dict]]:
    """The jobs' rows stacked, with ids prefixed by the job's position so that two applications with
    the same family or person ids never meet."""
    fam, per, inc = [], [], []
    for k, job in enumerate(jobs):
        s = job.snapshot
        for row in s["families"]:
            fam.append({**row, "family_id": f"{k}~{row['family_id']}"})
        for row in s["persons"]:
            per.append(
                {**row, "family_id": f"{k}~{row['family_id']}", "person_id": f"{k}~{row['person_id']}"}
            )
        for row in s["incomes"]:
            inc.append({**row, "person_id": f"{k}~{row['person_id']}"})
    return fam, per, inc


def frames(jobs: list[Job]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The jobs' tables stacked (:func:`rows` as data frames)."""
    return frames_of(*rows(jobs))


def _rounds(jobs: list[Job]) -> list[list[Job]]:
    """The jobs split so that no IIN appears in two jobs of one round. The contract's validator refuses an
    IIN repeated in its tables, which is right within one application but not between two that happen to
    be batched together (a family applying again with new data, a person in two applications): each is
    validated as if it had come alone."""
    rounds: list[tuple[list[Job], set]] = []
    for job in jobs:
        iins = {p.get("iin") for p in job.snapshot["persons"]} - {None, ""}
        for members, seen in rounds:
            if not iins & seen:
                members.append(job)
                seen |= iins
                break
        else:
            rounds.append(([job], set(iins)))
    return [members for members, _ in rounds]


def _problems_by_job(
    problems: pd.DataFrame, jobs: list[Job], inc_offsets: np.ndarray
) -> dict[int, list[dict]]:
    """The validator's problems, per job, each with a JSON path to the field."""
    out: dict[int, list[dict]] = {}
    for p in problems.itertuples(index=False):
        job = None
        if isinstance(p.family_id, str) and "~" in p.family_id:
            job = int(p.family_id.split("~", 1)[0])
        loc: list = ["body"]
        row_id = str(p.row_id)
        if p.table == "families":
            loc += ["family", p.column]
        elif p.table == "persons" and "~" in row_id:
            k, pid = row_id.split("~", 1)
            job = int(k) if job is None else job
            ids = [r["person_id"] for r in jobs[job].snapshot["persons"]]
            loc += ["persons", ids.index(pid) if pid in ids else pid, p.column]
        elif p.table == "incomes" and row_id.startswith("row "):
            i = int(row_id[4:]) - 1
            k = int(np.searchsorted(inc_offsets, i, side="right") - 1)
            job = k if job is None else job
            loc += ["incomes", i - int(inc_offsets[k]), p.column]
        else:
            loc += [p.table, p.column]
        if job is None:  # a problem no family can be blamed for: every job gets it
            for k in range(len(jobs)):
                out.setdefault(k, []).append(_problem(loc, p))
        else:
            out.setdefault(job, []).append(_problem(loc, p))
    return out


def _key(jobs: list[Job], k: int) -> str:
    """The family id of job ``k`` inside a batch."""
    return f"{k}~{jobs[k].snapshot['families'][0]['family_id']}"


#: Columns whose values never appear in an error message, even masked (personal data).
PRIVATE_COLUMNS = {"iin", "birth_date", "amount_kzt", "nonmortgage_loan_balance"}


def _problem(loc: list, p) -> dict:
    private = p.column in PRIVATE_COLUMNS
    shown = f" (value {p.value})" if p.value not in ("", None) and not private else ""
    return {"loc": loc, "type": p.rule, "msg": f"{'.'.join(str(x) for x in loc[1:])}: {p.message}{shown}"}


class RecommendationEngine:
    """Validates applications, applies the law and the model, and explains the model's recommendation."""

    def __init__(self, recommender=None, max_batch: int = 64, process: bool = False, remote=None) -> None:
        self.recommender = recommender
        self.max_batch = max_batch
        #: Applications waiting for a batch beyond which new ones are refused (503): eight full batches,
        #: about a second of the engine's work under load on this 2-core machine.
        self.max_waiting = 8 * max_batch
        self.tbs = tax_benefit_system()
        #: Applications dated earlier are refused: the law's parameters do not reach back that far.
        self.earliest_application = earliest_application(law_start(self.tbs))
        self._queue: queue.Queue[Job] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        if recommender is not None:
            recommender.set_jobs(1)
        #: The shared engine process (``atauly serve --workers N``; an ``engine_shared.RemoteEngine``):
        #: batches are computed there.
        self.remote = remote
        if remote is not None:
            process = False
        self.process = process
        self._pool: ProcessPoolExecutor | None = None
        if process:
            self._start_pool()

    @property
    def model_version(self) -> str | None:
        return self.recommender.name if self.recommender is not None else None

    # --- public --------------------------------------------------------------------------------------

    def recommend(self, snapshot: dict, quarter: str, use_model: bool = True, timeout: float = 60) -> Outcome:
        """Validate, apply the law and the model to one application (batched with concurrent ones)."""
        return self.enqueue(snapshot, quarter, use_model).result(timeout=timeout)

    def enqueue(self, snapshot: dict, quarter: str, use_model: bool = True) -> Future:
        """The application queued for the next batch: a future of its Outcome (or InvalidApplication), for
        a caller that waits without holding a thread (``asyncio.wrap_future``). EngineUnavailable at once
        when :attr:`max_waiting` are already waiting: submissions awaited on the event loop are not bounded
        by threads, and a job given up on is still computed, so an overload would otherwise only grow."""
        if self._queue.qsize() >= self.max_waiting:
            raise EngineUnavailable("the law and the model are busy: try again shortly")
        job = Job(snapshot, quarter, use_model)
        self._ensure_worker()
        self._queue.put(job)
        return job.future

    def run_batch(self, jobs: list[Job]) -> None:
        """Process jobs together; each job's future gets its Outcome or its InvalidApplication."""
        try:
            self._run(jobs)
        except Exception as exc:  # noqa: BLE001 — an unexpected failure must reach the waiting request
            if len(jobs) > 1:
                # One application the law or the model cannot handle must not fail its neighbours in the
                # batch: the unfinished ones are retried alone, and only the culprit gets the error.
                log.warning(  # the type only: an exception's text may carry a family's values
                    "recommendation batch of %d failed (%s): retrying one by one",
                    len(jobs),
                    type(exc).__name__,
                )
                for job in jobs:
                    if not job.future.done():
                        self.run_batch([job])
                return
            log.error("recommendation failed (%s)", type(exc).__name__)
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)

    # --- internals -----------------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._work, name="atauly-recommend", daemon=True)
                    self._thread.start()

    def _work(self) -> None:
        while True:
            jobs = [self._queue.get()]
            while len(jobs) < self.max_batch:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self.remote is not None:
                self.remote.run(jobs)
            elif self.process:
                self._run_in_child(jobs)
            else:
                self.run_batch(jobs)

    def _start_pool(self) -> None:
        # spawn, not fork: the server's process has threads (a fork copies their held locks).
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_start,
            initargs=(self.recommender, os.getpid()),
        )
        self._pool.submit(_child_ready)  # starts the child now: it imports and loads while the server starts

    def _run_in_child(self, jobs: list[Job]) -> None:
        items = [(job.snapshot, job.quarter, job.use_model) for job in jobs]
        try:
            results = self._pool.submit(_child_batch, items).result()
        except BrokenProcessPool as exc:  # the child died (killed, out of memory): a new one for what follows
            log.error("the recommendation process died (%r): starting a new one", exc)
            self._start_pool()
            results = [(False, EngineUnavailable("the recommendation process died; try again"))] * len(jobs)
        except Exception as exc:  # noqa: BLE001 — e.g. a batch that could not be sent: every request hears
            log.error(
                "recommendation batch could not be computed in the child process (%s)", type(exc).__name__
            )
            results = [(False, exc)] * len(jobs)
        for job, (ok, value) in zip(jobs, results, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def close(self) -> None:
        """Stop the child process, if any (it also ends with the server's process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.remote is not None:
            self.remote.close()

    def _run(self, jobs: list[Job]) -> None:
        for members in _rounds(jobs):
            self._run_round(members)

    def _run_round(self, jobs: list[Job]) -> None:
        inc_offsets = np.cumsum([0] + [len(j.snapshot["incomes"]) for j in jobs])
        # A batch of a few applications: the validator's small-table path (the same rules and errors)
        fam, per, inc, report = validate_rows(*rows(jobs))
        bad = _problems_by_job(report.problems, jobs, inc_offsets) if not report.ok else {}
        for k, problems in bad.items():
            jobs[k].future.set_exception(InvalidApplication(problems))
        good = [k for k in range(len(jobs)) if k not in bad]
        if not good:
            return
        reg = Registry(fam, per, inc, report.person_family, report.income_person)
        if bad:
            keep = ~fam["family_id"].str.split("~", n=1).str[0].astype(int).isin(list(bad)).to_numpy()
            reg = reg.take(keep)
        # Applications of different quarters are computed quarter by quarter.
        quarters = np.array([jobs[k].quarter for k in good])
        for quarter in np.unique(quarters):
            members = [k for k, q in zip(good, quarters, strict=True) if q == quarter]
            part = reg if len(members) == len(good) else reg.subset([_key(jobs, k) for k in members])
            self._run_quarter(jobs, members, part, str(quarter))

    def _run_quarter(self, jobs: list[Job], members: list[int], reg: Registry, quarter: str) -> None:
        law = compute(reg, quarter, self.tbs)
        position = {fid: i for i, fid in enumerate(law["family_id"])}
        model_rows = [k for k in members if jobs[k].use_model] if self.recommender is not None else []
        scored: dict[int, tuple[float, bool, dict]] = {}
        if model_rows:
            # The features' columns, not their frame: a few rows are scored from the arrays.
            columns = self.recommender.feature_columns_of(reg, law, Quarter.parse(quarter).start_time)
            by_family = {fid: i for i, fid in enumerate(reg.families["family_id"])}
            idx = [by_family[_key(jobs, k)] for k in model_rows]
            scored = self._score(columns, idx, model_rows)
        # Each family's row from the columns' arrays (what law.iloc[i].to_dict() holds, without a Series per row).
        law_columns = {column: law[column].to_numpy() for column in law.columns}
        for k in members:
            fid = _key(jobs, k)
            i = position[fid]
            row = {column: values[i] for column, values in law_columns.items()}
            row["family_id"] = fid.split("~", 1)[1]
            row = {key: (v.item() if hasattr(v, "item") else v) for key, v in row.items()}
            eligible = bool(row["eligible"])
            amount = float(row["asp_monthly_amount"]) + float(row.get("child_supplement_monthly", 0.0))
            out = Outcome(law=row, eligible=eligible, amount_monthly=amount if eligible else 0.0, mode="law")
            out.recommended = eligible
            if k in scored:
                prob, recommended, reasons = scored[k]
                out.mode = "model"
                out.model_version = self.recommender.name
                out.probability = prob
                out.threshold = float(self.recommender.threshold)
                out.recommended = recommended
                out.reasons = reasons
            jobs[k].future.set_result(out)

    def _score(
        self, columns: dict[str, np.ndarray], idx: list[int], rows: list[int]
    ) -> dict[int, tuple[float, bool, dict]]:
        # The reasons are stored as features, values and contributions, and worded in the reader's language
        # when shown (atauly.model.explain.coded_reasons): wording them in three languages here was a third
        # of a batch's CPU.
        scores, reasons = self.recommender.score_columns_with_codes(
            columns, idx, TOP_REASONS, beyond_law=BEYOND_LAW_REASONS
        )
        probability = scores["probability"].to_numpy()
        recommended = scores["recommended"].to_numpy()
        return {k: (float(probability[i]), bool(recommended[i]), reasons[i]) for i, k in enumerate(rows)}


def load_recommender(settings):
    """The configured model, or None (then the law alone recommends; the service says so)."""
    from atauly.model.recommender import Recommender

    return configured_model(settings, Recommender.load)


def configured_model(settings, open_model):
    """``open_model(store, ref)`` for the configured model (loaded, or only described by a worker of the
    shared engine), or None — and why, logged — where the engine scores with the law alone: no such model,
    a model the store refuses, or one not trained on the data contract. Loading and describing go through
    here so that a worker's pages never claim a model the engine does not score with."""
    from atauly.model.store import ModelStore, ModelStoreError

    try:
        model = open_model(ModelStore(settings.models_dir), settings.service_model)
    except (ModelStoreError, FileNotFoundError, KeyError, ValueError) as exc:
        log.warning("no model %r (%s): recommendations come from the law alone", settings.service_model, exc)
        return None
    if model.kind != "registry":
        log.warning("model %s was not trained on the data contract: the law alone recommends", model.name)
        return None
    return model


# --- the child process (process=True) ------------------------------------------------------------------

_child: RecommendationEngine | None = None


def _child_start(recommender, parent: int) -> None:
    global _child
    from . import heap

    _child = RecommendationEngine(recommender)
    heap.settle()  # the law and the forest live as long as this process
    threading.Thread(target=exit_with, args=(parent,), name="atauly-orphan-watch", daemon=True).start()


def exit_with(parent: int) -> None:
    """End the child when the server's process is gone: a server stopped by a signal exits without the
    pool's clean shutdown, and the child would wait for work forever."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _child_ready() -> bool:
    return _child is not None


def _child_batch(items: list[tuple[dict, str, bool]]) -> list[tuple[bool, object]]:
    """One batch, computed as in the server's process; each application's Outcome or error."""
    jobs = [Job(snapshot, quarter, use_model) for snapshot, quarter, use_model in items]
    _child.run_batch(jobs)
    out = []
    for job in jobs:
        exc = job.future.exception()
        if exc is None:
            out.append((True, job.future.result()))
        elif isinstance(exc, InvalidApplication):
            out.append((False, exc))
        else:  # not every library's exception can be sent back: its type and message are (logged above)
            out.append((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    return out
