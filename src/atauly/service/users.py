"""Users of the casework service: create, reset a password, deactivate and activate, unlock, end sessions,
list. Shared by the ``atauly users`` command and the demo; every change is audited under the ``actor``
who made it. The refusals name the field (``password``, ``district``…), not a command-line option, so any
caller can show them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from . import audit
from .casework import ServiceError, district_catalogue
from .limits import lift, locked_users
from .models import User
from .security import check_role, hash_password, revoke_sessions

#: The shortest password accepted.
MIN_PASSWORD = 8
#: The columns of :func:`list_users`.
USER_COLUMNS = ["username", "role", "district", "region", "active", "locked"]


def check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(422, f"password: at least {MIN_PASSWORD} characters")


def _scope(role: str, district: str | None, region: str | None) -> tuple[str | None, str | None]:
    """The (district, region) a user of ``role`` is bound to, checked against the district catalogue."""
    catalogue = district_catalogue()
    if role == "officer":
        if not district:
            raise ServiceError(422, "district: an officer works in one district (KATO code)")
        if district not in catalogue:
            raise ServiceError(422, f"district: unknown district {district}")
        return district, catalogue[district]
    if role == "supervisor":
        if not region:
            raise ServiceError(422, "region: a supervisor oversees one region (KATO code)")
        if region not in set(catalogue.values()):
            raise ServiceError(422, f"region: unknown region {region}")
        return None, region
    if district or region:
        raise ServiceError(422, f"a {role} is not bound to a district or region")
    return None, None


def create_user(
    db: DB,
    username: str,
    password: str,
    role: str,
    district: str | None,
    region: str | None,
    actor: str = "cli",
    full_name: str | None = None,
    position: str | None = None,
) -> User:
    """Create (or fail clearly) a user; returns the user. Officers work in one district, supervisors
    oversee one region, analysts and admins are national. ``full_name`` and ``position`` are how the
    family's notice names the officer who decided (the username and a generic position when unset)."""
    check_role(role)
    check_password_length(password)
    district, region = _scope(role, district, region)
    if db.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise ServiceError(409, f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        region_kato=region,
        district_kato=district,
        full_name=(full_name or "").strip()[:128] or None,
        position=(position or "").strip()[:128] or None,
        active=True,
        created_at=audit.utcnow(),
    )
    db.add(user)
    db.flush()
    audit.append(
        db,
        "user.create",
        actor=actor,
        role="admin",
        object_type="user",
        object_id=username,
        region_kato=region,
        detail={"role": role},
    )
    db.commit()
    return user


def admin_action(
    db: DB,
    username: str,
    action: str,
    change: Callable[[User], dict | None],
    actor: str,
    detail: dict | None = None,
) -> User:
    """Apply ``change(user)`` to an existing user and audit it as ``actor``; returns the user."""
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise ServiceError(404, f"no user {username!r}")
    extra = change(user) or {}
    audit.append(
        db,
        action,
        actor=actor,
        role="admin",
        object_type="user",
        object_id=username,
        region_kato=user.region_kato,
        detail={**(detail or {}), **extra},
    )
    db.commit()
    return user


def reset_password(db: DB, username: str, password: str, actor: str) -> User:
    """Set a new password; ends the user's sessions and tokens and lifts a lock-out."""
    check_password_length(password)

    def change(user: User) -> dict:
        user.password_hash = hash_password(password)
        lift(db, user.id)
        return {"sessions_ended": revoke_sessions(db, user.id)}

    return admin_action(db, username, "user.reset_password", change, actor)


def deactivate(db: DB, username: str, actor: str) -> User:
    """No sign-in any more; every session and token ended at once (the records stay)."""

    def change(user: User) -> dict:
        user.active = False
        return {"sessions_ended": revoke_sessions(db, user.id)}

    return admin_action(db, username, "user.deactivate", change, actor)


def activate(db: DB, username: str, actor: str) -> User:
    """Let a deactivated user sign in again."""

    def change(user: User) -> None:
        user.active = True

    return admin_action(db, username, "user.activate", change, actor)


def unlock(db: DB, username: str, actor: str) -> User:
    """Lift a lock-out after failed sign-ins (it also ends on its own after the lock-out time)."""

    def change(user: User) -> dict:
        return {"locks_lifted": lift(db, user.id)}

    return admin_action(db, username, "user.unlock", change, actor)


def revoke_tokens(db: DB, username: str, actor: str) -> User:
    """End every web session, API token and refresh token of a user (they must sign in again)."""
    return admin_action(
        db,
        username,
        "user.revoke_tokens",
        lambda user: {"sessions_ended": revoke_sessions(db, user.id)},
        actor,
    )


def list_users(db: DB) -> list[dict]:
    """Users, their roles and scopes (no passwords), as rows with :data:`USER_COLUMNS`."""
    locked = locked_users(db)
    return [
        {
            "username": u.username,
            "role": u.role,
            "district": u.district_kato or "",
            "region": u.region_kato or "",
            "active": u.active,
            "locked": u.id in locked,
        }
        for u in db.execute(select(User).order_by(User.id)).scalars()
    ]
