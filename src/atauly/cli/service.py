"""``atauly serve``, ``atauly users`` and ``atauly audit``: the casework service and its administration."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import console, fail, get_settings

users_app = typer.Typer(help="Users of the casework service.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail of the casework service.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes (each with its own connections; the law and the model in one engine "
            "process they share); more than one needs PostgreSQL (SQLite has one writer at a time).",
        ),
    ] = 1,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Take the client's address from X-Forwarded-For (only behind your own reverse proxy).",
        ),
    ] = False,
) -> None:
    """Run the casework service (web pages and the API under /api/v1) on the configured database."""
    import uvicorn

    from atauly.service.app import create_app

    settings = get_settings()
    if workers > 1 and settings.database.startswith("sqlite"):
        fail("--workers above 1 needs PostgreSQL (ATAULY_DATABASE_URL): SQLite has one writer at a time")
    console.print(f"Database: {_safe_url(settings.database)}")
    console.print(f"Serving on http://{host}:{port}  (OpenAPI document: http://{host}:{port}/openapi.json)")
    common = {"host": host, "port": port, "log_level": "warning", "proxy_headers": proxy_headers}
    if workers > 1:  # each worker process builds its own app (settings from the environment)
        from atauly.service.audit import AuditKeys
        from atauly.service.db import make_engine, migrate

        AuditKeys.load(settings)  # the key file, created once, before the workers read it
        engine = make_engine(settings.database)
        migrate(engine)  # once, before the workers start
        engine.dispose()
        shared = None
        if settings.service_engine_shared:  # one engine process for every worker: full batches
            import os

            from atauly.service.engine_shared import SharedEngine

            shared = SharedEngine(settings.home.resolve(), settings.service_model).start()
            os.environ["ATAULY_SERVICE_ENGINE_SOCKET"] = shared.path  # the workers read it at start
        try:
            uvicorn.run("atauly.service.app:create_served_app", factory=True, workers=workers, **common)
        finally:
            if shared is not None:
                shared.stop()
    else:
        from atauly.service import heap

        served = create_app(settings)
        heap.settle()  # what the app, its libraries and its sessions built lives to the end: frozen
        uvicorn.run(served, **common)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sessions():
    from atauly.service.audit import AuditKeys
    from atauly.service.db import make_engine, migrate, session_factory

    settings = get_settings()
    engine = make_engine(settings.database)
    migrate(engine)
    return session_factory(engine, AuditKeys.load(settings))


def _password(given: str | None, stdin: bool, confirm: bool = True) -> str:
    """The password from the terminal (not echoed) or one line of standard input; a password given on
    the command line still works but is warned about (other users see it in ``ps``)."""
    import getpass
    import sys

    if given is not None:
        console.print(
            "[yellow]Warning: a password given on the command line is visible to other users of this "
            "machine (ps, shell history). Leave out --password to be asked for it, or use --password-stdin."
        )
        return given
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password again: ") != first:
        fail("the two passwords differ")
    return first


def _operator() -> str:
    """Who ran the command, for the audit trail (the operating-system account)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # noqa: BLE001 — no such account name (containers)
        return "cli"


def _run_admin(operation, username: str, done: str) -> None:
    """Run one of :mod:`atauly.service.users`' changes on ``username`` as the operator, then say ``done``."""
    from atauly.service.casework import ServiceError

    try:
        with _sessions()() as db:
            operation(db, username, actor=_operator())
    except (ServiceError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))
    console.print(done)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option("--username", help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="officer, supervisor, analyst or admin.")],
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            help="Password (at least 8 characters). Better left out: you are asked for it (argv shows in ps).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    district: Annotated[
        str | None, typer.Option("--district", help="KATO code: an officer's district.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="KATO code: a supervisor's region.")] = None,
    full_name: Annotated[
        str | None, typer.Option("--full-name", help="Full name, as the family's notice names who decided.")
    ] = None,
    position: Annotated[
        str | None, typer.Option("--position", help="Position, as the family's notice states it.")
    ] = None,
) -> None:
    """Create a user. Officers work in one district, supervisors oversee one region."""
    from atauly.service.casework import ServiceError
    from atauly.service.users import create_user

    secret = _password(password, password_stdin)
    try:
        with _sessions()() as db:
            user = create_user(
                db,
                username,
                secret,
                role,
                district,
                region,
                actor=_operator(),
                full_name=full_name,
                position=position,
            )
    except (ServiceError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))
    console.print(
        f"Created {user.role} {user.username!r} ({user.district_kato or user.region_kato or 'national'})"
    )


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Option("--username", help="Login name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from the first line of stdin.")
    ] = False,
) -> None:
    """Set a new password (asked for, never on the command line); ends the user's sessions and tokens
    and lifts a lock-out."""
    from atauly.service.users import MIN_PASSWORD, reset_password

    secret = _password(None, password_stdin)
    if len(secret) < MIN_PASSWORD:
        fail(f"the password needs at least {MIN_PASSWORD} characters")
    _run_admin(
        lambda db, name, actor: reset_password(db, name, secret, actor),
        username,
        f"New password set for {username!r}; their sessions and tokens are ended.",
    )


@users_app.command("deactivate")
def users_deactivate(username: Annotated[str, typer.Option("--username", help="Login name.")]) -> None:
    """Deactivate a user: no sign-in, every session and token ended at once (the records stay)."""
    from atauly.service.users import deactivate

    _run_admin(deactivate, username, f"Deactivated {username!r}; their sessions are ended.")


@users_app.command("activate")
def users_activate(username: Annotated[str, typer.Option("--username", help="Login name.")]) -> None:
    """Let a deactivated user sign in again."""
    from atauly.service.users import activate

    _run_admin(activate, username, f"Activated {username!r}.")


@users_app.command("unlock")
def users_unlock(username: Annotated[str, typer.Option("--username", help="Login name.")]) -> None:
    """Lift a lock-out after failed sign-ins (it also ends on its own after the lock-out time)."""
    from atauly.service.users import unlock

    _run_admin(unlock, username, f"Unlocked {username!r}.")


@users_app.command("revoke-tokens")
def users_revoke_tokens(username: Annotated[str, typer.Option("--username", help="Login name.")]) -> None:
    """End every web session, API token and refresh token of a user (they must sign in again)."""
    from atauly.service.users import revoke_tokens

    _run_admin(revoke_tokens, username, f"Ended every session and token of {username!r}.")


@users_app.command("list")
def users_list() -> None:
    """Users, their roles and scopes (no passwords)."""
    import pandas as pd

    from atauly.service.users import USER_COLUMNS, list_users

    from .common import rich_table

    with _sessions()() as db:
        rows = list_users(db)
    console.print(rich_table(pd.DataFrame(rows, columns=USER_COLUMNS)))


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail: every event's keyed hash and link, the head, and the checkpoints that
    anchor it; names the first event that was edited or deleted, or a cut tail."""
    from atauly.service.audit import verify

    with _sessions()() as db:
        result = verify(db)
    if result.ok:
        console.print(
            f"Audit trail intact: {result.checked:,} events checked ({result.keyed:,} keyed), "
            f"{result.anchors:,} checkpoints agree."
        )
        for note in result.notes:
            console.print(f"[yellow]Note: {note}")
        return
    fail(
        f"Audit trail broken at event {result.first_bad}: {result.problem} "
        f"({result.checked:,} events before it check out)",
        code=1,
    )


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Anchor the chain's head now (the running service does so every minute); for cron or before a
    backup. Copy the checkpoint file off the machine to make it harder still to rewrite."""
    from atauly.service.audit import checkpoint, checkpoint_file

    with _sessions()() as db:
        line = checkpoint(db)
        path = checkpoint_file(db)
    if line is None:
        console.print(f"Head unchanged since the last checkpoint ({path}).")
    else:
        console.print(f"Anchored event {line['last_id']:,} in {path}.")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """Add a new audit key to the key file; new events are keyed with it once the service restarts. The
    old keys stay in the file: events keyed with them still verify."""
    from pathlib import Path

    from atauly.service.audit import add_key_file, checkpoint

    settings = get_settings()
    if settings.audit_key:
        fail("the keys come from ATAULY_AUDIT_KEY: append `,ID:HEX` to it (keep the old ones) and restart")
    with _sessions()() as db:
        checkpoint(db)  # the head before the rotation, anchored with the old key
    path = Path(settings.audit_key_file or settings.home / "audit.key")
    kid = add_key_file(path)
    with _sessions()() as db:
        admin = _operator()
        from atauly.service import audit

        audit.append(db, "audit.rotate_key", actor=admin, role="admin", object_type="key", object_id=kid)
        db.commit()
    console.print(f"New audit key {kid} added to {path}; restart the service to sign with it.")
