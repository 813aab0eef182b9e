"""What every API route shares: the documented error answers and the end of a request's database work."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from ..schemas import Problem

ERRORS = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    404: {"model": Problem},
    409: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}


def released(db, out):
    """End the request's database work before the response goes out. FastAPI validates a sync endpoint's
    response in a worker thread; a transaction still open then (a lazy load after the commit) would keep
    the pool's connection — SQLite's only one — while waiting for that thread, and under load every
    thread was waiting for the connection (30 s, then 500)."""
    db.close()
    return out


def json_answer(model: BaseModel, status_code: int = 200) -> Response:
    """A response model's JSON, written in the endpoint's own thread. Returned as a model, FastAPI would
    validate it again against the route's ``response_model`` (for a sync endpoint in a second trip to a
    worker thread, which under load also waits for the interpreter lock), turn it into Python objects and
    encode those (≈ 0.08 ms against 0.01 ms for a submission's answer of 3 KB, measured alone). The route
    keeps ``response_model`` for its schema."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
