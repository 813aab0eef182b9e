"""Profile: where the CPU of one submit-and-recommend goes, in-process, stage by stage.

    PYTHONPATH=src .venv/bin/python benchmarks/profile_service.py --home DIR [--n 200]
        [--batches 1,10,20] [--database-url URL] [--top 30] [--prof FILE]

``--home`` is a bench home (``benchmarks/bench_service.py --home DIR`` makes one: a generated Shymkent and
the model asp-demo). Two parts, both on the real code and the real model:

1. **The engine** (validation, the law, the features, the forest) on batches of ``--batches`` applications,
   as the service's batching worker would get them under load: CPU ms per application for each batch size,
   and the share of each stage (``registry.validate``, ``law.compute``, ``features_of``, scoring).
2. **The whole request**: ``POST /api/v1/applications`` through the ASGI app in this process (no sockets),
   ``--n`` times one after another, with FastAPI's worker threads run inline in this thread so that one
   profiler sees the request's work; the engine computes in its own thread, as in the service (there in a
   child process): CPU ms per request in all and outside the engine (this thread's ``thread_time``), and
   the cumulative CPU of the stages (parsing, sign-in check, the audit event, the commit, the response).
   ``--prof`` keeps the cProfile file for ``pstats``.
3. **An officer's pages** (``--officer N``): ``--prefill`` applications in every district
   (``bench_statistics.fill``), then one officer ``N`` times lists the queue (the API's 50 a page), opens
   the first case and decides it, through the ASGI app in this thread (worker threads inline, as in 2):
   CPU ms per request of each step and the top functions of the profiled half.

CPU figures are ``time.process_time`` (user + system of this process): less sensitive than wall time to a
shared machine's load, which is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Stages reported from the profile: label -> (file suffix, function name), cumulative CPU per request.
STAGES = {
    "parse body (pydantic)": ("pydantic/main.py", "model_validate_json"),
    "find_session (token)": ("service/security.py", "find_session"),
    "intake.submit (all)": ("service/intake.py", "submit"),
    "  _check": ("service/intake.py", "_check"),
    "  canonical_hash": ("service/engine.py", "canonical_hash"),
    "  _by_key (idempotency)": ("service/intake.py", "_by_key"),
    "  district_setting": ("service/casework.py", "district_setting"),
    "  engine.run_batch": ("service/engine.py", "run_batch"),
    "    registry.validate_rows": ("registry/validate_small.py", "validate_rows"),
    "    frames": ("service/engine.py", "frames"),
    "    law.compute": ("law/compute.py", "compute"),
    "    features_of": ("model/recommender.py", "features_of"),
    "    score_in_languages": ("model/recommender.py", "score_in_languages"),
    "  audit.append": ("service/audit.py", "append"),
    "  session.flush": ("orm/session.py", "flush"),
    "  session.commit": ("orm/session.py", "commit"),
    "application_out": ("routes/applications.py", "application_out"),
    "serialize response": ("fastapi/routing.py", "serialize_response"),
}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Cumulative seconds of the function(s) ``name`` in a file ending with ``suffix`` (recursion counted
    once: pstats' cumulative time already excludes re-entries)."""
    total = 0.0
    for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        if func == name and filename.replace(os.sep, "/").endswith(suffix):
            total += ct
    return total


def stage_table(stats: pstats.Stats, per: int, wanted: dict) -> dict[str, str]:
    """Each stage's profiled CPU ms per item and its share of the profiled total (the profiler's overhead
    inflates the milliseconds, the shares less so)."""
    total = stats.total_tt or 1.0
    return {
        label: f"{cumulative(stats, *where) * 1000 / per:.2f} ms ({cumulative(stats, *where) / total:.0%})"
        for label, where in wanted.items()
    }


def engine_part(engine, bodies: list[bytes], sizes: list[int], rounds: int) -> dict:
    """CPU ms per application of the engine on batches of each size, with the stages' shares."""
    from atauly.registry.quarter import Quarter
    from atauly.service.engine import Job
    from atauly.service.intake import snapshot_of
    from atauly.service.schemas import ApplicationIn

    payloads = [ApplicationIn.model_validate_json(b) for b in bodies]
    items = [(snapshot_of(p), str(Quarter.of(p.family.application_date))) for p in payloads]
    out = {}
    engine_stages = {k.strip(): v for k, v in STAGES.items() if k.startswith("    ")}
    for size in sizes:
        batches = [items[i : i + size] for i in range(0, min(len(items), size * rounds), size)]
        batches = [b for b in batches if len(b) == size]
        engine.run_batch([Job(s, q, True) for s, q in batches[0]])  # warm

        def run_all(batches=batches):
            for batch in batches:
                jobs = [Job(s, q, True) for s, q in batch]
                engine.run_batch(jobs)
                for j in jobs:
                    j.future.result(timeout=0)

        c0, w0 = time.process_time(), time.perf_counter()
        run_all()  # timed without the profiler (its overhead is large on Python-heavy code)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        run_all()  # profiled: the stages' shares
        prof.disable()
        n = sum(len(b) for b in batches)
        stats = pstats.Stats(prof)
        out[size] = {
            "applications": n,
            "cpu_ms_per_application": cpu * 1000 / n,
            "wall_ms_per_application": wall * 1000 / n,
            "stages_ms_per_application (profiled)": stage_table(stats, n, engine_stages),
        }
    return out


def timer_points() -> list[tuple[object, str, str]]:
    """(owner, attribute, label): functions of the request path wrapped with a thread-CPU timer, patched
    where the caller looks them up."""
    from sqlalchemy.orm import Session

    from atauly.service import audit, deps, intake
    from atauly.service.api.routes import applications

    return [
        (deps, "find_session", "find_session (token)"),
        (deps, "api_user", "api_user (dependency)"),
        (intake, "submit", "intake.submit (without the engine)"),
        (intake, "_check", "  _check"),
        (intake, "canonical_hash", "  canonical_hash"),
        (intake, "_by_key", "  _by_key (idempotency)"),
        (intake, "district_setting", "  district_setting"),
        (intake, "_application", "  _application (ORM objects)"),
        (intake, "record", "  record -> audit.append"),
        (audit, "event_hash", "    event_hash (HMAC)"),
        (Session, "flush", "  Session.flush (all)"),
        (Session, "commit", "  Session.commit (all)"),
        (applications, "application_out", "application_out"),
    ]


class Timers:
    """Inclusive thread-CPU milliseconds of wrapped functions (nested calls of one label counted once)."""

    def __init__(self, points):
        self.cpu: dict[str, float] = {}
        self.depth: dict[str, int] = {}
        self.saved = []
        for owner, name, label in points:
            original = getattr(owner, name)
            self.saved.append((owner, name, original))
            setattr(owner, name, self._wrap(original, label))
        self.paused = True

    def _wrap(self, func, label):
        import functools

        @functools.wraps(func)
        def timed(*args, **kw):
            if self.paused or self.depth.get(label):
                return func(*args, **kw)
            self.depth[label] = 1
            t0 = time.thread_time()
            try:
                return func(*args, **kw)
            finally:
                self.cpu[label] = self.cpu.get(label, 0.0) + time.thread_time() - t0
                self.depth[label] = 0

        return timed

    def restore(self) -> None:
        for owner, name, original in self.saved:
            setattr(owner, name, original)


async def request_part(app, token: str, bodies: list[bytes], prof: cProfile.Profile) -> dict:
    """The first half of ``bodies`` timed without the profiler (and each stage with a thread-CPU timer),
    the second half profiled."""
    import anyio.to_thread
    import httpx

    async def inline(func, *args, **_kw):  # FastAPI's worker threads, run in this thread
        return func(*args)

    anyio.to_thread.run_sync = inline
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    codes: dict[int, int] = {}
    half = (len(bodies) - 5) // 2
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:

        async def send(some: list[bytes]) -> None:
            for body in some:
                r = await client.post("/api/v1/applications", content=body, headers=headers)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1

        await send(bodies[:5])  # warm-up: imports, caches
        timers = Timers(timer_points())
        timers.paused = False
        c0, t0, w0 = time.process_time(), time.thread_time(), time.perf_counter()
        await send(bodies[5 : 5 + half])
        cpu, own, wall = time.process_time() - c0, time.thread_time() - t0, time.perf_counter() - w0
        timers.restore()
        prof.enable()
        await send(bodies[5 + half : 5 + 2 * half])
        prof.disable()
    return {
        "requests": half,
        "codes": codes,
        "cpu_ms_per_request": cpu * 1000 / half,
        # this thread: everything but the engine's batch (its own thread here, its child process under
        # `atauly serve`)
        "cpu_ms_per_request_outside_engine": own * 1000 / half,
        "wall_ms_per_request": wall * 1000 / half,
        "stages_thread_cpu_ms_per_request": {k: round(v * 1000 / half, 3) for k, v in timers.cpu.items()},
    }


# --- the real server, profiled in every thread, under concurrent clients --------------------------------


def server_part(settings, home: Path, clients: int, seconds: float, profile: bool, top: int) -> dict:
    """The real app (engine in its child process) under uvicorn in this process, driven by ``clients``
    submitting clients from another process for ``seconds``. CPU of this process (the server) and of its
    child per request; with ``profile``, every thread's cProfile (thread CPU time) merged."""
    import socket
    import subprocess
    import threading

    import uvicorn
    from bench_service import tree_cpu

    from atauly.service.app import create_app

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def hook(_frame, _event, _arg):  # the first event of each new thread: a profiler of its own
        prof = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(prof)
        prof.enable()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    cmd = [sys.executable, __file__, "--home", str(home), "--client", f"http://127.0.0.1:{port}"]
    cmd += ["--clients", str(clients), "--seconds", str(seconds)]
    result: dict = {}

    def drive() -> None:
        time.sleep(3)  # the server starts
        warm = subprocess.run([*cmd[:-1], "3"], capture_output=True, text=True)
        if warm.returncode:
            result["error"] = warm.stderr[-2000:]
        else:
            result["warm_up_requests"] = json.loads(warm.stdout).get("requests", 0)
            c0 = tree_cpu(os.getpid())
            run = subprocess.run(cmd, capture_output=True, text=True)
            c1 = tree_cpu(os.getpid())
            result.update(json.loads(run.stdout) if run.returncode == 0 else {"error": run.stderr[-2000:]})
            n = max(result.get("requests", 0), 1)
            result["server_cpu_ms_per_request"] = (c1[0] - c0[0]) * 1000 / n
            result["engine_child_cpu_ms_per_request"] = (c1[1] - c0[1]) * 1000 / n
        server.should_exit = True

    if profile:  # every thread from the start (the warm-up is profiled too: counted below)
        threading.setprofile(hook)
        main_prof = cProfile.Profile(time.thread_time)
        profiles.append(main_prof)
    threading.Thread(target=drive, daemon=True).start()
    if profile:
        main_prof.enable()
    server.run()
    if profile:
        main_prof.disable()
    app.state.engine.close()
    if profile and profiles:
        stats = pstats.Stats(profiles[0])
        for prof in profiles[1:]:
            stats.add(prof)
        n = max(result.get("requests", 0) + result.get("warm_up_requests", 0), 1)
        result["stages_ms_per_request (profiled)"] = stage_table(stats, n, STAGES)
        if top:
            stats.sort_stats("cumulative").print_stats(top)
    return result


OFFICER_DISTRICT = "790100000"  # a district of the benchmark's region (bench_statistics fills it too)


def officer_part(settings, rounds: int, prefill_n: int, top: int, prof_path: Path | None) -> dict:
    """``rounds`` times: the queue's first page, the first case opened, decided (see the top)."""
    import anyio.to_thread
    import httpx
    from bench_service import PASSWORD, decision_for, prefill_all

    from atauly.service.app import create_app
    from atauly.service.audit import AuditKeys
    from atauly.service.db import make_engine, migrate, session_factory
    from atauly.service.users import create_user

    engine = make_engine(settings.database)
    migrate(engine)
    with session_factory(engine, AuditKeys.load(settings))() as db:
        create_user(db, "officer-profile", PASSWORD, "officer", OFFICER_DISTRICT, None)
    engine.dispose()
    prefill_all(settings, prefill_n)
    app = create_app(settings)

    async def inline(func, *args, **_kw):  # FastAPI's worker threads, run in this thread
        return func(*args)

    anyio.to_thread.run_sync = inline
    cpu: dict[str, float] = {"queue": 0.0, "open": 0.0, "decide": 0.0}
    codes: dict[str, dict[int, int]] = {k: {} for k in cpu}
    prof = cProfile.Profile(time.thread_time)

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.post("/api/v1/auth/token", data={"username": "officer-profile", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

            async def step(name: str, send):
                t0 = time.thread_time()
                r = await send
                if measured:
                    cpu[name] += time.thread_time() - t0
                codes[name][r.status_code] = codes[name].get(r.status_code, 0) + 1
                return r

            measured = False
            for n in range(2 * rounds + 3):
                measured = 3 <= n < 3 + rounds  # three to warm up, then timed, then profiled
                if n == 3 + rounds:
                    prof.enable()
                page = (await step("queue", c.get("/api/v1/applications", headers=headers))).json()
                if not page:
                    break
                case = (
                    await step("open", c.get(f"/api/v1/applications/{page[0]['id']}", headers=headers))
                ).json()
                body = decision_for(case, flip=n % 5 == 4)
                url = f"/api/v1/applications/{case['id']}/decision"
                await step("decide", c.post(url, json=body, headers=headers))
            prof.disable()

    asyncio.run(run())
    app.state.engine.close()
    stats = pstats.Stats(prof)
    if prof_path:
        prof.dump_stats(str(prof_path))
    if top:
        stats.sort_stats("cumulative").print_stats(top)
    return {
        "rounds": rounds,
        "prefill": prefill_n,
        "codes": codes,
        "cpu_ms_per_request": {k: round(v * 1000 / rounds, 2) for k, v in cpu.items()},
    }


def client_main(base: str, home: Path, clients: int, seconds: float) -> int:
    """``--client``: ``clients`` intake officers submitting for ``seconds`` (bench_service's clients)."""
    from bench_service import application_stream, district_codes, submitters

    districts = district_codes()
    streams = application_stream(home, uuid.uuid4().hex[:8])
    users = [f"intake-{i}" for i in range(clients)]
    print(json.dumps(asyncio.run(submitters(base, users, streams, districts, seconds))))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--n", type=int, default=200, help="Requests in the whole-request part.")
    ap.add_argument("--batches", default="1,10,20", help="Engine batch sizes.")
    ap.add_argument("--rounds", type=int, default=10, help="Batches of each size.")
    ap.add_argument("--database-url")
    ap.add_argument("--top", type=int, default=0, help="Also print the top N functions by own time.")
    ap.add_argument("--prof", type=Path, help="Write the whole-request profile here.")
    ap.add_argument("--server", action="store_true", help="Profile the real server under --clients clients.")
    ap.add_argument("--no-profile", action="store_true", help="--server: CPU figures only, no profiler.")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--officer", type=int, default=0, help="Profile N rounds of an officer's pages instead.")
    ap.add_argument("--prefill", type=int, default=20000, help="--officer: applications written first.")
    args = ap.parse_args()
    if args.client:
        return client_main(args.client, args.home.resolve(), args.clients, args.seconds)

    from bench_service import PASSWORD, application_stream, create_users, district_codes, prepare_home

    from atauly.service.app import create_app, load_recommender
    from atauly.service.engine import RecommendationEngine
    from atauly.settings import Settings

    home = args.home.resolve()
    prepare_home(home)
    tmp = Path(tempfile.mkdtemp(prefix="atauly-profile-"))
    db_url = args.database_url or f"sqlite:///{tmp / 'profile.db'}"
    settings = Settings(home=home, database_url=db_url)
    users = create_users(settings, max(args.clients, 1) if args.server else 1, 0)
    if args.officer:
        report = {"loadavg_before": loadavg(), "database": db_url.split(":", 1)[0]}
        report["officer"] = officer_part(settings, args.officer, args.prefill, args.top, args.prof)
        report["loadavg_after"] = loadavg()
        print(json.dumps(report, indent=2))
        return 0
    if args.server:
        report = {"loadavg_before": loadavg()}
        report["server"] = server_part(
            settings, home, args.clients, args.seconds, not args.no_profile, args.top
        )
        report["loadavg_after"] = loadavg()
        print(json.dumps(report, indent=2))
        return 0
    district = district_codes()[0]
    stream = application_stream(home, uuid.uuid4().hex[:8])[district]
    sizes = [int(s) for s in args.batches.split(",") if s]
    need = max(args.n + 5, max(sizes) * (args.rounds + 1))
    bodies = [next(stream) for _ in range(need)]

    report: dict = {"loadavg_before": loadavg(), "database": db_url.split(":", 1)[0]}
    real = RecommendationEngine(load_recommender(settings))
    report["engine"] = engine_part(real, bodies, sizes, args.rounds)

    app = create_app(settings, engine=real)  # its batches in its own thread (not profiled)

    async def sign_in() -> str:
        import httpx

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.post(
                "/api/v1/auth/token", data={"username": users["intake"][0], "password": PASSWORD}
            )
            return r.json()["access_token"]

    token = asyncio.run(sign_in())
    prof = cProfile.Profile(time.thread_time)  # this thread's CPU: the engine's thread is not counted
    other = [next(stream) for _ in range(2 * args.n + 5)]  # not the engine part's: every one is new
    report["request"] = asyncio.run(request_part(app, token, other, prof))
    stats = pstats.Stats(prof)
    report["request"]["stages_ms_per_request (profiled)"] = stage_table(
        stats, report["request"]["requests"], STAGES
    )
    report["loadavg_after"] = loadavg()
    print(json.dumps(report, indent=2))
    if args.prof:
        prof.dump_stats(str(args.prof))
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
