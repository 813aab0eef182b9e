"""The query plans of an officer's pages at scale: does each query of the queue, the case and the decision use
an index, and how long does it take, with N applications in the database?

    PYTHONPATH=src .venv/bin/python benchmarks/explain_service.py [--database-url URL [--create-database]]
        [--prefill 200000] [--keep DB_FILE]

Fills the database with ``--prefill`` applications in every district (``bench_statistics.fill``: two thirds
decided, snapshots of a real one's size), then, as an officer of one district and a supervisor of its
region, runs the real service functions behind the pages — the queue (first page and a deep page), the
queue's quarters, opening a case, the next case — capturing every SQL statement they send. Each statement
is then explained (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN (ANALYZE, BUFFERS)``) and timed;
a full scan of ``applications`` (``SCAN applications`` / ``Seq Scan on applications``) is flagged.
Prints a JSON report; exit 1 when a statement scans the applications table in full.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DISTRICT = "790100000"  # Shymkent, a district of the benchmark's region
REGION = "790000000"


def capture(engine, run) -> list[tuple[str, object]]:
    """The statements (SQL, parameters) ``run()`` sends through ``engine``."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def explain(engine, statement: str, parameters) -> dict:
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        t0 = time.perf_counter()
        cur.execute(statement, parameters)
        cur.fetchall()
        ms = (time.perf_counter() - t0) * 1000
        prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
        cur.execute(prefix + statement, parameters)
        rows = cur.fetchall()
        plan = [r[-1] for r in rows] if sqlite else [r[0] for r in rows]
        conn.rollback()
    full = [
        line
        for line in plan
        if re.search(r"\bSCAN applications\b(?! USING)", line) or "Seq Scan on applications" in line
    ]
    return {"ms": round(ms, 2), "plan": plan, "full_scan_of_applications": bool(full)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url")
    ap.add_argument("--create-database", action="store_true")
    ap.add_argument("--prefill", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, help="SQLite: use (and keep) this file; filled only when new.")
    args = ap.parse_args()

    from bench_service import _pg
    from bench_statistics import fill

    from atauly.service import casework
    from atauly.service.audit import AuditKeys
    from atauly.service.db import make_engine, migrate, session_factory
    from atauly.service.models import Application, User
    from atauly.service.users import create_user
    from atauly.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="atauly-explain-"))
    path = args.keep or home / "explain.db"
    url = args.database_url or f"sqlite:///{path}"
    fresh = args.database_url is None and not Path(path).exists()
    if args.create_database:
        _pg("CREATE", url)
    try:
        engine = make_engine(url)
        migrate(engine)
        sessions = session_factory(engine, AuditKeys.load(Settings(home=home, database_url=url)))
        report: dict = {"database": engine.dialect.name, "loadavg": os.getloadavg()}
        with sessions() as db:
            have = db.query(Application).count()
        if fresh or args.create_database or have < args.prefill:
            t0 = time.perf_counter()
            fill(sessions, args.prefill - have)
            report["prefill_s"] = round(time.perf_counter() - t0, 1)
        with sessions() as db:
            report["applications"] = db.query(Application).count()
            users = {}
            for name, role, district, region in (
                ("explain-officer", "officer", DISTRICT, None),
                ("explain-supervisor", "supervisor", None, REGION),
            ):
                u = db.query(User).filter(User.username == name).one_or_none()
                users[name] = u or create_user(db, name, "explain-pass-1", role, district, region)
            case = db.query(Application.id).filter(Application.district_kato == DISTRICT).first()[0]
        pages = {
            "queue, first page (officer)": lambda db, u: casework.queue(db, u, limit=50),
            "queue, page 20 (officer)": lambda db, u: casework.queue(db, u, limit=50, offset=1000),
            "queue, decided (officer)": lambda db, u: casework.queue(db, u, limit=50, status="decided"),
            "queue quarters (officer)": lambda db, u: casework.queue_quarters(db, u),
            "open a case (officer)": lambda db, u: casework.load(db, u, case),
            "next case (officer)": lambda db, u: casework.next_case(db, u, case),
        }
        out = {}
        for who in users:
            for label, page in pages.items():
                if "officer" in label and who != "explain-officer":
                    label = label.replace("(officer)", "(supervisor)")

                def run(page=page, who=who):
                    with sessions() as db:
                        page(db, db.merge(users[who]))

                statements = capture(engine, run)
                out[label] = [
                    {"sql": " ".join(s.split())[:300], **explain(engine, s, p)} for s, p in statements
                ]
        report["pages"] = out
        flagged = [k for k, v in out.items() if any(s["full_scan_of_applications"] for s in v)]
        report["full_scans"] = flagged
        engine.dispose()
        print(json.dumps(report, indent=2, default=str))
        return 1 if flagged else 0
    finally:
        if args.create_database:
            _pg("DROP", url)


if __name__ == "__main__":
    sys.exit(main())
