"""Signing in: the password check behind ``POST /api/v1/auth/token`` and the web's sign-in form.

One implementation for both doors: the sign-in limits (:mod:`.limits`, in the database: the address's
failures, the account's lock-out for this source), a place in the bounded queue for the hash
(:mod:`.throttle`), the hash itself outside any transaction, then the outcome in one transaction, audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from .casework import ServiceError, record
from .limits import DEVICE_COOKIE, Source
from .models import User
from .security import check_password, open_session
from .throttle import Throttled


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login(db, request: Request, username: str, password: str, kind: str) -> tuple[str, User]:
    """Check a password and open a session.

    In order: the sign-in limits (:mod:`.limits`: the client address's failures, this source's lock-out
    for the user, and the user's lock-out for unrecognised sources; 429, nothing hashed), a place in the
    bounded queue for the hash (:mod:`.throttle`; 429 when full), the hash itself outside any transaction
    (on SQLite a transaction holds the write lock), then the outcome in one transaction. Only a wrong
    password for an existing account is audited on its own; the other refusals are tallied
    (:class:`.throttle.RefusalTally`). A lock-out ends on time and an admin can lift it
    (``atauly users unlock``). A web sign-in without a device cookie gets one
    (``request.state.new_device``, for the page to set).

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
    source: Source | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None and self.user.active else None


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
    limits = request.app.state.login_limits
    try:
        user = db.execute(select(User).where(User.username == attempt.username)).scalar_one_or_none()
        if user is not None:
            db.expunge(user)
        attempt.user = user
        device = request.cookies.get(DEVICE_COOKIE) if hasattr(request, "cookies") else None
        attempt.source = limits.source(db, attempt.user_id, attempt.address, device)
        limits.check(db, attempt.user_id, attempt.source)
    except Throttled as exc:
        db.rollback()
        raise _throttled(db, request, attempt, exc) from None
    db.rollback()
    return attempt


def _after_hash(db, request: Request, attempt: _Attempt, correct: bool, kind: str) -> tuple[str, User]:
    limits = request.app.state.login_limits
    username, uid = attempt.username, attempt.user_id
    if uid is not None:  # one outcome at a time per user (PostgreSQL: the row's lock; SQLite: the write lock)
        row = db.execute(select(User).where(User.id == uid).with_for_update()).scalar_one()
    try:  # locked meanwhile (by concurrent wrong passwords): refused alike, right password or wrong
        limits.check(db, uid, attempt.source)
    except Throttled as exc:
        db.rollback()
        raise _throttled(db, request, attempt, exc) from None
    if not correct:
        locked = limits.failed(db, uid, attempt.source)
        if uid is None:
            db.commit()
            tally = request.app.state.refusals
            tally.add("auth.login", "unknown or inactive username", username, attempt.address)
            tally.flush(db)
            raise ServiceError(401, "wrong username or password")
        record(
            db,
            None,
            "auth.login",
            actor=username,
            outcome="denied",
            object_type="user",
            object_id=username,
            region_kato=row.region_kato,
            detail={"status": 401, "locked": locked, "recognised_source": attempt.source.trusted},
        )
        db.commit()
        raise ServiceError(401, "wrong username or password")
    new_device = secrets.token_urlsafe(32) if kind == "web" and attempt.source.device is None else None
    limits.succeeded(db, row.id, attempt.source, new_device)
    settings = request.app.state.settings
    hours = settings.session_hours if kind == "web" else settings.token_minutes / 60
    token, _ = open_session(db, row, kind, hours)
    record(db, row, "auth.login", object_type="user", object_id=row.username, region_kato=row.region_kato)
    db.commit()
    db.expunge(row)
    if new_device is not None:
        request.state.new_device = new_device
    return token, row
