"""The pilot as ``make demo`` shows it: users of each role and a district queue of applications.

Applications come from the generated region's latest quarter (what families declared), moved to recent
working days so that deadlines lie ahead; a third of them are already decided (a few against the
recommendation, with a reason) so that the statistics page has something to show. Everything is
idempotent: a second run finds the same users and the same applications.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from sqlalchemy import select

from atauly.registry.quarter import Quarter

from .casework import ServiceError
from .deciding import decide
from .intake import submit
from .models import User
from .schemas import ApplicationIn, DecisionIn
from .seed import payloads, shift_to
from .users import create_user

DEMO_USERS = (  # username, role, district, region
    ("officer", "officer", "790100000", None),
    ("officer2", "officer", "790200000", None),
    ("supervisor", "supervisor", None, "790000000"),
    ("analyst", "analyst", None, None),
    ("admin", "admin", None, None),
)


@dataclass
class DemoUser:
    username: str
    password: str
    role: str
    scope: str


def credentials(path: Path) -> dict[str, str]:
    """Demo passwords, generated once and kept (mode 600) beside the database so reruns can print them."""
    if path.exists():
        return dict(line.split(" ", 1) for line in path.read_text().splitlines() if " " in line)
    passwords = {name: secrets.token_urlsafe(9) for name, *_ in DEMO_USERS}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(f"{k} {v}\n" for k, v in passwords.items()))
    return passwords


def seed_users(db, passwords: dict[str, str]) -> list[DemoUser]:
    out = []
    for name, role, district, region in DEMO_USERS:
        if db.execute(select(User).where(User.username == name)).scalar_one_or_none() is None:
            create_user(db, name, passwords[name], role, district, region)
        out.append(DemoUser(name, passwords[name], role, district or region or "national"))
    return out


def recent_working_days(today: date, n: int, span: int = 18) -> list[date]:
    """``n`` application dates spread over the last ``span`` working days before ``today`` (a few
    applications a day, a few of them already past the 15-day deadline), none before today's quarter."""
    start = Quarter.of(today).start
    days = []
    for k in range(n):
        back = 1 + (k * span) // max(n, 1)
        day = np.busday_offset(np.datetime64(today), -back, roll="backward").astype(object)
        days.append(max(day, start))
    return days


def seed_queue(db, engine, registry: Path, n: int = 36, today: date | None = None) -> tuple[int, int]:
    """Submit ``n`` applications of the demo region's districts and decide about a third. Returns
    (applications, decisions) made in this call (0, 0 on a rerun)."""
    today = today or date.today()
    admin = db.execute(select(User).where(User.username == "admin")).scalar_one()
    officers = {u.district_kato: u for u in db.execute(select(User).where(User.role == "officer")).scalars()}
    chosen = [p for p in payloads(registry) if p["family"]["district_kato"] in officers][:n]
    made = decided = 0
    for k, (payload, day) in enumerate(zip(chosen, recent_working_days(today, len(chosen)), strict=True)):
        body = ApplicationIn.model_validate(shift_to(payload, day))
        intake = submit(db, engine, admin, body, source="web", today=today)
        made += intake.created
        app = intake.application
        if not intake.created or k % 3:
            continue
        rec = app.recommendation
        recommended = "approve" if rec.recommended else "reject"
        if k % 9 == 0:  # the officer departs from the recommendation, with a reason
            outcome = "reject" if recommended == "approve" else "approve"
            decision = DecisionIn(
                outcome=outcome,
                reason_code="income_differs" if outcome == "reject" else "hardship_not_captured",
                # every departure carries an explanation the family reads in the notice
                comment=(
                    "Подтверждённый доход выше учтённого в базах."
                    if outcome == "reject"
                    else "Нужда подтверждена обследованием, в базах её не видно."
                ),
                version=app.version,
            )
        elif (recommended == "approve") != rec.eligible_by_law:  # following the model, against the law
            decision = DecisionIn(
                outcome=recommended,
                reason_code="records_outdated",
                comment="Сведения в базах устарели; решение принято по актуальным документам семьи.",
                version=app.version,
            )
        else:
            decision = DecisionIn(outcome=recommended, version=app.version)
        try:
            decide(db, officers[app.district_kato], app.id, decision)
            decided += 1
        except ServiceError:
            db.rollback()
    return made, decided
