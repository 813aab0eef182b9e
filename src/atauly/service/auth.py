"""Signing in: the password check behind ``POST /api/v1/auth/token`` and the web's sign-in form.

One implementation for both doors (see :mod:`.throttle` for what comes before the hash): the address's
failures, the account's lock-out, a place in the bounded queue for the hash, the hash itself outside any
transaction, then the outcome in one transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from .casework import ServiceError, record
from .models import User
from .security import check_password, clear_failures, count_failure, locked_for, open_session
from .throttle import Throttled


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login(db, request: Request, username: str, password: str, kind: str) -> tuple[str, User]:
    """Check a password and open a session (see :mod:`.throttle` for what comes before the hash).

    In order: the client address's failures (429, nothing hashed), the account's lock-out (429, nothing
    hashed), a place in the bounded queue for the hash (429 when full), the hash itself outside any
    transaction (on SQLite a transaction holds the write lock), then the outcome in one transaction. Only a
    wrong password for an existing account counts towards its lock-out and is audited on its own; the
    other refusals are tallied (:class:`.throttle.RefusalTally`). The lock-out ends on time and an admin
    can lift it (``atauly users unlock``).

    This blocking form (the web's sign-in form) waits for the hash in a request thread, so its queue is
    short; ``POST /auth/token`` waits without a thread (:func:`login_async`) in a longer one.
    """
    attempt = _before_hash(db, request, username)
    try:
        correct = request.app.state.login_gate.check(check_password, attempt.user, password)
    except Throttled as exc:
        raise _throttled(db, request, attempt, exc) from None
    return _after_hash(db, request, attempt, correct, kind)


async def login_async(db, request: Request, username: str, password: str, kind: str) -> tuple[str, User]:
    """:func:`login` for an async endpoint: the database work in a worker thread, the wait for a hash slot
    on the event loop (no thread held while waiting)."""
    attempt = await run_in_threadpool(_before_hash, db, request, username)
    try:
        correct = await request.app.state.login_gate.check_async(check_password, attempt.user, password)
    except Throttled as exc:
        raise await run_in_threadpool(_throttled, db, request, attempt, exc) from None
    return await run_in_threadpool(_after_hash, db, request, attempt, correct, kind)


@dataclass
class _Attempt:
    username: str
    address: str
    user: User | None


def _throttled(db, request: Request, attempt: _Attempt, exc: Throttled) -> ServiceError:
    tally = request.app.state.refusals
    tally.add("auth.login", exc.why, attempt.username, attempt.address)
    tally.flush(db)
    return ServiceError(
        429, f"{exc.why}: try again in {exc.retry_after} s", headers={"Retry-After": str(exc.retry_after)}
    )


def _before_hash(db, request: Request, username: str) -> _Attempt:
    # NUL cannot be stored (PostgreSQL) nor be part of a username: replaced, so the attempt fails as unknown
    attempt = _Attempt(username.strip()[:64].replace("\x00", "\ufffd"), client_address(request), None)
    try:
        request.app.state.login_gate.check_address(attempt.address)
        user = db.execute(select(User).where(User.username == attempt.username)).scalar_one_or_none()
        if user is not None:
            db.expunge(user)
        db.rollback()
        if user is not None and user.active and (left := locked_for(user)):
            raise Throttled(left, "account locked after failed sign-ins")
    except Throttled as exc:
        raise _throttled(db, request, attempt, exc) from None
    attempt.user = user
    return attempt


def _after_hash(db, request: Request, attempt: _Attempt, correct: bool, kind: str) -> tuple[str, User]:
    settings = request.app.state.settings
    user, username = attempt.user, attempt.username
    if not correct:
        request.app.state.login_gate.failed(attempt.address)
        if user is None or not user.active:
            tally = request.app.state.refusals
            tally.add("auth.login", "unknown or inactive username", username, attempt.address)
            tally.flush(db)
            raise ServiceError(401, "wrong username or password")
        row = db.execute(select(User).where(User.id == user.id).with_for_update()).scalar_one()
        if left := locked_for(row):  # locked meanwhile: refused exactly as a right password would be
            db.rollback()
            raise _throttled(db, request, attempt, Throttled(left, "account locked after failed sign-ins"))
        window = timedelta(minutes=settings.login_lockout_minutes)
        locked = count_failure(row, settings.login_max_failures, window)
        record(
            db,
            None,
            "auth.login",
            actor=username,
            outcome="denied",
            object_type="user",
            object_id=username,
            region_kato=row.region_kato,
            detail={"status": 401, "locked": locked},
        )
        db.commit()
        raise ServiceError(401, "wrong username or password")
    row = db.execute(select(User).where(User.id == user.id).with_for_update()).scalar_one()
    if left := locked_for(row):  # locked meanwhile by concurrent wrong passwords
        db.rollback()
        raise _throttled(db, request, attempt, Throttled(left, "account locked after failed sign-ins"))
    clear_failures(row)
    hours = settings.session_hours if kind == "web" else settings.token_minutes / 60
    token, _ = open_session(db, row, kind, hours)
    record(db, row, "auth.login", object_type="user", object_id=row.username, region_kato=row.region_kato)
    db.commit()
    db.expunge(row)
    return token, row
