"""FastAPI dependencies: the database session, the recommendation engine and the current user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from .engine import RecommendationEngine
from .models import User
from .security import find_session

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_db(request: Request) -> AsyncIterator[DB]:
    """The request's database session. Async on purpose: FastAPI runs a sync dependency in a worker
    thread, twice for a generator (open, close), and each trip to a thread costs CPU and a wait for the
    interpreter lock under load. Making a session connects nothing, and by the time it is closed every
    route has ended its transaction (``api.common.released``), so closing here does not block the loop."""
    db = request.app.state.sessions()
    try:
        yield db
    finally:
        db.close()


async def get_engine(request: Request) -> RecommendationEngine:
    return request.app.state.engine  # async: no trip to a worker thread for an attribute


async def get_reads(request: Request) -> sessionmaker | None:
    """Sessions for a write request's look-ups that need no write lock: SQLite's read pool (WAL readers,
    :func:`.db.make_read_engine`); None where the read pool is the service's own engine (PostgreSQL: row
    locks, no database-wide write lock to spare)."""
    state = request.app.state
    return None if state.read_engine is state.db_engine else state.read_sessions


DBDep = Annotated[DB, Depends(get_db)]
ReadsDep = Annotated[sessionmaker | None, Depends(get_reads)]
EngineDep = Annotated[RecommendationEngine, Depends(get_engine)]


#: The bearer token as sent (the OpenAPI document's security scheme), for a route that checks it itself.
TokenDep = Annotated[str | None, Depends(oauth2)]


def api_user(request: Request, db: DBDep, token: TokenDep) -> User:
    """The bearer token's user. On SQLite the token is looked up through the read pool
    (:func:`.db.make_read_engine`): a WAL reader that takes no write lock, so signing every request in does
    not queue for the one write connection. On PostgreSQL (where the read pool is the same engine) it is
    looked up in the request's own session: the request's reads go on in that transaction, with no
    connection checked out and rolled back for the token alone. A refusal is tallied through ``db``."""
    user = _token_user(request, token, db)
    if user is None:
        if token:  # a token was presented and refused: tallied, written as one audit event a minute
            tally = request.app.state.refusals
            client = request.client.host if request.client else "unknown"
            tally.add("auth.token", "unknown or expired bearer token", "", client)
            tally.flush(db)
        raise HTTPException(
            401,
            "not authenticated: send a bearer token from POST /api/v1/auth/token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def _token_user(request: Request, token: str | None, db: DB) -> User | None:
    """The active user of a valid API token, detached from the session that read it; None otherwise."""
    if not token:
        return None
    state = request.app.state
    if state.read_engine is state.db_engine:  # PostgreSQL: no second connection for the token
        session = find_session(db, token, "api")
        if session is None:
            return None
        user = session.user
        db.expunge(session)
        db.expunge(user)  # detached as the read pool's: a rollback of the request expires nothing of it
        return user
    with state.read_sessions() as read:
        session = find_session(read, token, "api")
        user = session.user if session is not None else None
        if user is not None:
            read.expunge(user)
        read.rollback()  # end the read transaction before the request's own work
    return user


UserDep = Annotated[User, Depends(api_user)]
