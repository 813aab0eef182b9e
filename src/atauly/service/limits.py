"""Failed sign-ins counted in the database, so that every worker process applies the same limits, and a
lock-out that a stranger who knows a username cannot use to keep its owner out.

A lock-out counted per username alone is a denial of service: anyone who knows a username can keep it
locked by sending five wrong passwords every fifteen minutes. So failures are counted three ways:

- **per client address** (``per_address`` in ``address_window``): the address is refused for
  ``address_window``, for any username. Against guessing many usernames from one place.
- **per (user, source)** (``per_source`` in ``lockout``): that source is refused for that user for
  ``lockout``. The *source* is the browser's device cookie when it carries one this user signed in with,
  otherwise the client address. An attacker elsewhere locks only their own sources.
- **per user, from unrecognised sources** (``untrusted`` in ``lockout``): against guessing one password
  from many addresses. Once reached, the user can still sign in from a *recognised* source — a device
  cookie or a client address from which this user has signed in successfully within ``trust_days`` — and
  from nowhere else, until ``lockout`` has passed (or an admin lifts it: ``atauly users unlock``).

Refusals never count (they are refused before any hash), so a lock-out ends on time. The counts are rows
of ``login_limits`` keyed by a hash (no address is stored in clear), updated by one upsert per failure
(SQLite and PostgreSQL); a successful sign-in records its sources in ``login_trust``. Rows that no longer
count are purged as failures come in.

Known limit: someone behind the same address as an officer who has no device cookie (a shared office
NAT, API clients) can lock that (officer, address) pair; the browser's device cookie is the remedy.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session as DB

from .audit import utcnow
from .models import LoginLimit, LoginTrust
from .throttle import Throttled

DEVICE_COOKIE = "atauly_device"

WHY = {
    "address": "too many failed sign-ins from this address",
    "source": "account locked after failed sign-ins",
    "untrusted": "account locked for unrecognised devices after failed sign-ins",
}


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Source:
    """Where an attempt comes from, as the limits see it."""

    address: str  # the hashed client address
    key: str  # the hashed source the (user, source) count uses: the device, or else the address
    trusted: bool  # the user has signed in successfully from it within trust_days
    device: str | None  # the hashed device cookie, when one was sent


@dataclass
class LoginLimits:
    per_address: int = 20
    address_window: float = 300.0
    per_source: int = 5
    untrusted: int = 20
    lockout: float = 900.0
    trust_days: float = 90.0
    purge_every: float = 60.0

    def __post_init__(self):
        self._purged = 0.0

    @classmethod
    def from_settings(cls, settings) -> LoginLimits:
        return cls(
            per_address=settings.login_per_address,
            per_source=settings.login_max_failures,
            untrusted=settings.login_max_failures_untrusted,
            lockout=settings.login_lockout_minutes * 60,
            trust_days=settings.login_trust_days,
        )

    # --- who is asking ------------------------------------------------------------------------------

    def source(self, db: DB, user_id: int | None, address: str, device: str | None) -> Source:
        addr = _hash("address", address)
        dev = _hash("device", device) if device and len(device) <= 200 else None
        if user_id is None:
            return Source(addr, addr, False, dev)
        cutoff = utcnow() - timedelta(days=self.trust_days)
        known = set(
            db.execute(
                select(LoginTrust.source).where(
                    LoginTrust.user_id == user_id,
                    LoginTrust.source.in_([s for s in (addr, dev) if s]),
                    LoginTrust.last_success >= cutoff,
                )
            ).scalars()
        )
        if dev is not None and dev in known:
            return Source(addr, dev, True, dev)
        return Source(addr, addr, addr in known, dev)

    def _keys(self, user_id: int | None, src: Source) -> dict[str, str]:
        keys = {"address": _hash("address-limit", src.address)}
        if user_id is not None:
            keys["source"] = _hash("source-limit", str(user_id), src.key)
            if not src.trusted:
                keys["untrusted"] = _hash("untrusted-limit", str(user_id))
        return keys

    # --- before the hash, and again after it ---------------------------------------------------------

    def check(self, db: DB, user_id: int | None, src: Source, now: datetime | None = None) -> None:
        """Raise :class:`.throttle.Throttled` when the address, the (user, source) pair or — from an
        unrecognised source — the user is locked."""
        now = now or utcnow()
        keys = self._keys(user_id, src)
        rows = db.execute(
            select(LoginLimit.scope, LoginLimit.until).where(
                LoginLimit.key.in_(list(keys.values())), LoginLimit.until > now
            )
        ).all()
        if rows:
            scope, until = max(rows, key=lambda r: r.until)
            raise Throttled((until - now).total_seconds(), WHY[scope])

    # --- outcomes ------------------------------------------------------------------------------------

    def failed(self, db: DB, user_id: int | None, src: Source, now: datetime | None = None) -> list[str]:
        """Count a wrong password (in the caller's transaction); returns the scopes it locked."""
        now = now or utcnow()
        keys = self._keys(user_id, src)
        rules = {
            "address": (self.per_address, self.address_window),
            "source": (self.per_source, self.lockout),
            "untrusted": (self.untrusted, self.lockout),
        }
        locked = []
        for scope, key in keys.items():
            limit, window = rules[scope]
            if self._count(db, key, scope, None if scope == "address" else user_id, limit, window, now):
                locked.append(scope)
        self._purge(db, now)
        return locked

    def succeeded(self, db: DB, user_id: int, src: Source, new_device: str | None) -> None:
        """A right password: the (user, source) count starts again, and the address and device (the one
        sent, or ``new_device`` just issued) are recognised sources from now on."""
        now = utcnow()
        db.execute(delete(LoginLimit).where(LoginLimit.key == self._keys(user_id, src)["source"]))
        sources = {src.address, src.device, _hash("device", new_device) if new_device else None} - {None}
        for s in sources:
            _upsert(
                db,
                LoginTrust,
                {"user_id": user_id, "source": s, "last_success": now},
                ["user_id", "source"],
                {"last_success": now},
            )
        cutoff = now - timedelta(days=self.trust_days)
        db.execute(delete(LoginTrust).where(LoginTrust.user_id == user_id, LoginTrust.last_success < cutoff))

    def _count(self, db: DB, key: str, scope: str, user_id, limit: int, window: float, now) -> bool:
        stale = LoginLimit.since <= now - timedelta(seconds=window)
        _upsert(
            db,
            LoginLimit,
            {"key": key, "scope": scope, "user_id": user_id, "failures": 1, "since": now, "until": None},
            ["key"],
            {
                "failures": case((stale, 1), else_=LoginLimit.failures + 1),
                "since": case((stale, now), else_=LoginLimit.since),
            },
        )
        hit = db.execute(
            update(LoginLimit)
            .where(LoginLimit.key == key, LoginLimit.failures >= limit)
            .values(until=now + timedelta(seconds=window), failures=0, since=now)
        )
        return bool(hit.rowcount)

    def _purge(self, db: DB, now: datetime) -> None:
        if time.monotonic() - self._purged < self.purge_every:
            return
        self._purged = time.monotonic()
        old = now - timedelta(seconds=max(self.address_window, self.lockout))
        db.execute(
            delete(LoginLimit).where(
                LoginLimit.since < old, or_(LoginLimit.until.is_(None), LoginLimit.until < now)
            )
        )


def lift(db: DB, user_id: int) -> int:
    """Lift every lock-out of a user (the caller commits); returns how many were in force."""
    now = utcnow()
    active = db.execute(
        select(func.count())
        .select_from(LoginLimit)
        .where(LoginLimit.user_id == user_id, LoginLimit.until > now)
    ).scalar_one()
    db.execute(delete(LoginLimit).where(LoginLimit.user_id == user_id))
    return active


def locked_users(db: DB) -> set[int]:
    """The users locked out from some source now."""
    rows = db.execute(
        select(LoginLimit.user_id).where(LoginLimit.user_id.is_not(None), LoginLimit.until > utcnow())
    ).scalars()
    return set(rows)


def _upsert(db: DB, model, values: dict, conflict: list[str], set_: dict) -> None:
    """INSERT … ON CONFLICT DO UPDATE, atomic under concurrent workers (SQLite and PostgreSQL)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # SQLite: db.make_engine refuses any other database
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(model).values(**values)
    db.execute(stmt.on_conflict_do_update(index_elements=conflict, set_=set_))
