"""``atauly serve``, ``atauly users`` and ``atauly audit``: the casework service and its administration."""

from __future__ import annotations

from typing import Annotated

import typer

from atauly.settings import get_settings

from .common import console, fail

users_app = typer.Typer(help="Users of the casework service.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail of the casework service.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Run the casework service (web pages and the API under /api/v1) on the configured database."""
    import uvicorn

    from atauly.service.app import create_app

    settings = get_settings()
    console.print(f"Database: {_safe_url(settings.database)}")
    console.print(f"Serving on http://{host}:{port}  (API documentation: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sessions():
    from atauly.service.db import make_engine, migrate, session_factory

    engine = make_engine(get_settings().database)
    migrate(engine)
    return session_factory(engine)


def create_user(db, username: str, password: str, role: str, district: str | None, region: str | None):
    """Create (or fail clearly) a user; shared by the CLI and the demo. Returns the user."""
    from sqlalchemy import select

    from atauly.service import audit
    from atauly.service.casework import ServiceError, district_catalogue
    from atauly.service.models import User
    from atauly.service.security import check_role, hash_password

    check_role(role)
    if len(password) < 8:
        raise ServiceError(422, "--password: at least 8 characters")
    catalogue = district_catalogue()
    if role == "officer":
        if not district:
            raise ServiceError(422, "--district: an officer works in one district (KATO code)")
        if district not in catalogue:
            raise ServiceError(422, f"--district: unknown district {district}")
        region = catalogue[district]
    elif role == "supervisor":
        if not region:
            raise ServiceError(422, "--region: a supervisor oversees one region (KATO code)")
        if region not in set(catalogue.values()):
            raise ServiceError(422, f"--region: unknown region {region}")
        district = None
    elif district or region:
        raise ServiceError(422, f"a {role} is not bound to a district or region")
    if db.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise ServiceError(409, f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        region_kato=region,
        district_kato=district,
        active=True,
        created_at=audit.utcnow(),
    )
    db.add(user)
    db.flush()
    audit.append(
        db,
        "user.create",
        actor="cli",
        role="admin",
        object_type="user",
        object_id=username,
        region_kato=region,
        detail={"role": role},
    )
    db.commit()
    return user


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option("--username", help="Login name.")],
    password: Annotated[str, typer.Option("--password", help="Password (at least 8 characters).")],
    role: Annotated[str, typer.Option("--role", help="officer, supervisor, analyst or admin.")],
    district: Annotated[
        str | None, typer.Option("--district", help="KATO code: an officer's district.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="KATO code: a supervisor's region.")] = None,
) -> None:
    """Create a user. Officers work in one district, supervisors oversee one region."""
    from atauly.service.casework import ServiceError

    try:
        with _sessions()() as db:
            user = create_user(db, username, password, role, district, region)
    except (ServiceError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))
    console.print(
        f"Created {user.role} {user.username!r} ({user.district_kato or user.region_kato or 'national'})"
    )


@users_app.command("list")
def users_list() -> None:
    """Users, their roles and scopes (no passwords)."""
    import pandas as pd
    from sqlalchemy import select

    from atauly.service.models import User

    from .common import rich_table

    with _sessions()() as db:
        rows = [
            {
                "username": u.username,
                "role": u.role,
                "district": u.district_kato or "",
                "region": u.region_kato or "",
                "active": u.active,
            }
            for u in db.execute(select(User).order_by(User.id)).scalars()
        ]
    console.print(
        rich_table(pd.DataFrame(rows, columns=["username", "role", "district", "region", "active"]))
    )


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain; names the first event that was edited or deleted."""
    from atauly.service.audit import verify

    with _sessions()() as db:
        result = verify(db)
    if result.ok:
        console.print(f"Audit trail intact: {result.checked:,} events checked.")
        return
    fail(
        f"Audit trail broken at event {result.first_bad}: {result.problem} "
        f"({result.checked:,} events before it check out)",
        code=1,
    )
