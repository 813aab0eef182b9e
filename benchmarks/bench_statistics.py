"""Benchmark: one national statistics request (an analyst's, all of Kazakhstan) over many applications.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_statistics.py [--applications 100000]
        [--database-url URL] [--repeat 3] [--out result.json]

Fills a database (SQLite under a temporary directory by default; kept and reused with ``--database-url``
when it already holds the applications) with ``--applications`` applications spread over every district,
each with a recommendation, two thirds decided (some after a home visit, a fifth of them overriding the
recommendation), then times :func:`atauly.service.statistics.compute` for an analyst on the read-only
pool, as the service calls it. Prints the machine's load (``/proc/loadavg``) before and after, and the
time of a baseline query in the same run (one ``COUNT(*)`` of the applications), so that a figure
measured on a busy machine can be compared as a ratio. Run it with another checkout's ``src`` on
``PYTHONPATH`` (same ``--database-url``) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def fill(sessions, n: int, seed: int = 1, exclude_region: str | None = None) -> None:
    """``n`` applications (synthetic snapshots of a real one's size) in every district, or every district
    outside ``exclude_region`` (where a benchmark's officers open real cases)."""
    from atauly.service.casework import district_catalogue
    from atauly.service.models import Application, Decision, Recommendation, User

    rng = random.Random(seed)
    districts = sorted((d, r) for d, r in district_catalogue().items() if r != exclude_region)
    today = date.today()
    with sessions() as db:
        uid = db.execute(select(User.id).where(User.username == "bench-officer")).scalar_one_or_none()
        if uid is None:
            u = User(
                username="bench-officer",
                password_hash="x",
                role="officer",
                active=True,
                created_at=datetime.now(),
            )
            db.add(u)
            db.flush()
            uid = u.id
        start = db.execute(select(func.coalesce(func.max(Application.id), 0))).scalar_one()
        db.commit()
    models = ["asp-demo@1", "asp-demo@2", None]
    reasons = ["income_not_verified", "household_changed", "field_visit", "other"]
    batch = 5000
    for lo in range(0, n, batch):
        apps, recs, decs = [], [], []
        for k in range(lo, min(n, lo + batch)):
            aid = start + k + 1
            district, region = districts[rng.randrange(len(districts))]
            received = today - timedelta(days=rng.randrange(1, 200))
            deadline = received + timedelta(days=14)
            decided = rng.random() < 0.66
            outcome = rng.choice(["approve", "reject"]) if decided else None
            status = {"approve": "approved", "reject": "rejected", None: rng.choice(["new", "home_visit"])}[
                outcome
            ]
            apps.append(
                {
                    "id": aid,
                    "idempotency_key": f"bench-{aid}",
                    "family_id": f"F{aid}",
                    "region_kato": region,
                    "district_kato": district,
                    "quarter": "2026Q4",
                    "snapshot": _snapshot(rng, aid),
                    "input_hash": "0" * 64,
                    "status": status,
                    "source": "api",
                    "received_on": received,
                    "deadline": deadline,
                    "created_at": datetime.combine(received, datetime.min.time()),
                    "decided_at": None,
                    "version": 1,
                }
            )
            model = models[rng.randrange(3)]
            recommended = rng.random() < 0.5
            recs.append(
                {
                    "id": aid,
                    "application_id": aid,
                    "created_at": datetime.combine(received, datetime.min.time()),
                    "input_hash": "0" * 64,
                    "law": {f"variable_{j}": rng.random() * 1e5 for j in range(40)},
                    "law_version": "bench",
                    "eligible_by_law": recommended,
                    "amount_monthly": 30000.0 if recommended else 0.0,
                    "mode": "model" if model else "law",
                    "model_version": model,
                    "probability": 0.5 if model else None,
                    "threshold": 0.5 if model else None,
                    "recommended": recommended,
                    "reasons": {},
                    "trace": {},
                }
            )
            at = datetime.combine(received + timedelta(days=rng.randrange(0, 25)), datetime.min.time())
            at = min(at, datetime.combine(today, datetime.min.time()))
            if status == "home_visit" or (decided and rng.random() < 0.1):
                decs.append(_decision(aid, uid, "home_visit", None, False, at))
            if decided:
                override = (outcome == "approve") != recommended
                decs.append(
                    _decision(
                        aid,
                        uid,
                        outcome,
                        rng.choice(reasons) if override else None,
                        override,
                        at + timedelta(hours=1),
                    )
                )
                apps[-1]["decided_at"] = at
        with sessions() as db:
            db.execute(insert(Application), apps)
            db.execute(insert(Recommendation), recs)
            if decs:
                db.execute(insert(Decision), decs)
            db.commit()
    with sessions() as db:  # PostgreSQL: the ids were given, so the sequences must move past them
        if db.get_bind().dialect.name == "postgresql":
            for table in ("applications", "recommendations", "decisions"):
                db.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                )
            db.commit()
    if n:  # PostgreSQL: the planner's statistics of the bulk-loaded tables, as autovacuum would gather
        _analyze(sessions)


def _analyze(sessions) -> None:
    """``ANALYZE`` the tables a bulk load filled (PostgreSQL). Autovacuum does it in production, later (and
    not at all where it is off, as on this machine's server): without it, the planner estimated a hundred
    thousand decisions for a queue page's fifty cases and scanned the whole table in parallel (130 ms a
    page at 200k applications, against 4 ms after)."""
    with sessions() as db:
        if db.get_bind().dialect.name != "postgresql":
            return
        for table in ("applications", "recommendations", "decisions", "audit_events", "users"):
            db.execute(text(f"ANALYZE {table}"))
        db.commit()


def _snapshot(rng, aid: int) -> dict:
    """About the size of a real family's snapshot (one family, five persons, their incomes): ~3 KB."""
    persons = [
        {f"field_{j}": rng.choice(["a", "bb", "ccc"]) * rng.randrange(1, 6) for j in range(15)}
        | {"person": p}
        for p in range(5)
    ]
    incomes = [
        {"person": p, "kind": "wage", "amount": rng.randrange(0, 300_000)} for p in range(5) for _ in range(3)
    ]
    return {"families": [{"family_id": f"F{aid}", "members": 5}], "persons": persons, "incomes": incomes}


def _decision(aid, uid, outcome, reason, override, at) -> dict:
    return {
        "application_id": aid,
        "recommendation_id": aid,
        "officer_id": uid,
        "outcome": outcome,
        "reason_code": reason,
        "comment": "",
        "override": override,
        "against_law": False,
        "blind": False,
        "amount_monthly": 30000.0 if outcome == "approve" else 0.0,
        "period": "",
        "opened_at": at,
        "decided_at": at,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--applications", type=int, default=100_000)
    ap.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temporary directory).")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--dump", type=Path, help="Write the statistics themselves here (to compare two checkouts)."
    )
    args = ap.parse_args()

    from atauly.service import statistics
    from atauly.service.db import make_engine, make_read_engine, migrate, session_factory
    from atauly.service.models import Application, User

    tmp = None
    url = args.database_url
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="atauly-bench-stats-")
        url = f"sqlite:///{tmp.name}/atauly.db"
    engine = make_engine(url)
    migrate(engine)  # this checkout's schema (its indexes): a database filled by another checkout is upgraded
    with engine.connect() as c:
        have = c.execute(select(func.count()).select_from(Application)).scalar_one()
    sessions = session_factory(engine)
    if have < args.applications:
        t0 = time.perf_counter()
        fill(sessions, args.applications - have)
        print(f"filled {args.applications - have:,} applications in {time.perf_counter() - t0:.1f} s")
    reads = session_factory(make_read_engine(url, engine))
    analyst = User(id=None, username="bench-analyst", role="analyst", region_kato=None, district_kato=None)

    def baseline() -> float:
        t0 = time.perf_counter()
        with reads() as r:
            r.execute(select(func.count()).select_from(Application)).scalar_one()
        return time.perf_counter() - t0

    class NoAudit:  # the analyst is not in this database: the request's audit event is left out of the timing
        def rollback(self):
            pass

        def commit(self):
            pass

    statistics.record = lambda *a, **k: None  # noqa: E731 — the audit row is not what is measured
    load_before = loadavg()
    base = [baseline() for _ in range(args.repeat)]
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = statistics.compute(NoAudit(), analyst, read=reads(), min_cell=10)
        times.append(time.perf_counter() - t0)
    summary = {
        "database": url.split(":", 1)[0],
        "applications": args.applications,
        "national_statistics_s": sorted(times),
        "median_s": sorted(times)[len(times) // 2],
        "baseline_count_s": sorted(base)[len(base) // 2],
        "ratio_to_baseline": sorted(times)[len(times) // 2] / max(sorted(base)[len(base) // 2], 1e-9),
        "rows": {k: len(out[k]) for k in ("by_region", "by_district", "by_model", "overrides_by_reason")},
        "totals_applications": out["totals"]["applications"],
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    if args.dump:
        args.dump.write_text(json.dumps(out, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
