"""What every API route shares: the documented error answers and the end of a request's database work."""

from __future__ import annotations

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
