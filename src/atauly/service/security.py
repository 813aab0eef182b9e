"""Passwords (argon2), sessions and API tokens, and who may see what (the lock-out: :mod:`.limits`).

Tokens are random (256 bits) and only their SHA-256 is stored, so a copy of the database holds no usable
credential. One table serves the web session (cookie + CSRF token) and the API's bearer token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DB

from .audit import utcnow
from .models import ROLES, Session, User

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    if user is None or not user.active:
        _hasher.hash(password)  # the same work either way: timing does not reveal which usernames exist
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: DB, user: User, kind: str, hours: float) -> tuple[str, Session]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = Session(
        token_hash=token_hash(token),
        user_id=user.id,
        kind=kind,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    db.add(row)
    db.flush()
    return token, row


def find_session(db: DB, token: str | None, kind: str) -> Session | None:
    if not token or len(token) > 200:
        return None
    row = db.execute(
        select(Session).where(Session.token_hash == token_hash(token), Session.kind == kind)
    ).scalar_one_or_none()
    if row is None or row.expires_at < utcnow() or not row.user.active:
        return None
    return row


def revoke_sessions(db: DB, user_id: int) -> int:
    """End every web session, access token and refresh token of a user (the caller commits)."""
    return db.execute(delete(Session).where(Session.user_id == user_id)).rowcount or 0


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


# --- Scope: which applications a user may see -------------------------------------------------------


def sees_personal_data(user: User) -> bool:
    return user.role != "analyst"


def in_scope(user: User, district_kato: str, region_kato: str) -> bool:
    """Officers see their district, supervisors their region, admins everything, analysts no case."""
    if user.role == "admin":
        return True
    if user.role == "supervisor":
        return user.region_kato == region_kato
    if user.role == "officer":
        return user.district_kato == district_kato
    return False


def scope_label(user: User) -> str:
    return user.district_kato or user.region_kato or "*"
