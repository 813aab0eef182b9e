"""``/auth``: the OAuth2 password flow (access and refresh tokens) and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import delete
from starlette.concurrency import run_in_threadpool

from ...auth import client_address, login_async
from ...casework import ServiceError, record
from ...deps import DBDep, UserDep, oauth2
from ...models import Session, User
from ...schemas import Token
from ...security import find_session, open_session, token_hash
from ..common import ERRORS, released

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=Token, responses=ERRORS)
async def token(request: Request, db: DBDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a short-lived bearer token for the other endpoints (``expires_in`` seconds)
    and a refresh token for ``POST /auth/refresh``."""
    access, user = await login_async(db, request, form.username, form.password, "api")
    return await run_in_threadpool(lambda: released(db, _token_pair(db, request, user, access)))


def _token_pair(db, request: Request, user: User, access: str) -> Token:
    settings = request.app.state.settings
    refresh, _ = open_session(db, user, "refresh", settings.session_hours)
    db.commit()
    return Token(
        access_token=access,
        expires_in=int(settings.token_minutes * 60),
        refresh_token=refresh,
    )


@router.post("/auth/refresh", response_model=Token, responses=ERRORS)
def refresh(request: Request, db: DBDep, refresh_token: Annotated[str, Form(max_length=200)]) -> Token:
    """A new access token (and a new refresh token: each is used once) for a valid refresh token."""
    session = find_session(db, refresh_token, "refresh")
    if session is None:
        db.rollback()
        request.app.state.refusals.add(
            "auth.refresh", "unknown or expired refresh token", "", client_address(request)
        )
        request.app.state.refusals.flush(db)
        raise ServiceError(
            401,
            "refresh token unknown, used or expired: sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = session.user
    # Each refresh token is used once: of two concurrent uses only the one whose delete removes the row wins.
    if db.execute(delete(Session).where(Session.id == session.id)).rowcount != 1:
        db.rollback()
        raise ServiceError(
            401,
            "refresh token unknown, used or expired: sign in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access, _ = open_session(db, user, "api", request.app.state.settings.token_minutes / 60)
    record(
        db, user, "auth.refresh", object_type="user", object_id=user.username, region_kato=user.region_kato
    )
    db.flush()
    return released(db, _token_pair(db, request, user, access))


@router.post("/auth/logout", status_code=204, responses=ERRORS)
def logout(
    db: DBDep,
    user: UserDep,
    token: Annotated[str | None, Depends(oauth2)],
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """End this access token (and the refresh token, when sent): neither works afterwards."""
    hashes = [token_hash(t) for t in (token, refresh_token) if t]
    db.execute(
        delete(Session).where(
            Session.user_id == user.id, Session.kind.in_(("api", "refresh")), Session.token_hash.in_(hashes)
        )
    )
    record(db, user, "auth.logout", object_type="user", object_id=user.username, region_kato=user.region_kato)
    db.commit()
    db.close()
    return Response(status_code=204)
