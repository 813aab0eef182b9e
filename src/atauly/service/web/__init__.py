"""The server-rendered pages of the casework service: the page kit (:mod:`.kit`), then one module per page
group — sign-in (:mod:`.auth`), the queue, an application and its forms (:mod:`.cases`), statistics, the
model card, the audit trail and the safeguards. :func:`mount` adds them to the app."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from ..casework import ServiceError
from ..errors import multipart_refusal
from . import (
    audit,
    auth,
    cases,
    inspection,
    model_card,
    oversight,
    photos,
    plans,
    proactive,
    queue,
    safeguards,
    statistics,
)
from .kit import STATIC, LoginRequired, error_page, language, path_error, safe_next

#: The page groups, in the order their routes are added.
PAGES = (
    auth,
    queue,
    cases,
    photos,
    inspection,
    statistics,
    oversight,
    proactive,
    plans,
    model_card,
    audit,
    safeguards,
)


def mount(app: FastAPI) -> None:
    """Add the pages and their static files to the service (called by ``create_app``)."""
    for pages in PAGES:
        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    def _to_login(request: Request, exc: LoginRequired):
        target = safe_next(exc.target)
        url = "/login" + (f"?next={quote(target)}" if target != "/" else "")
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        wants_html = "text/html" in request.headers.get("accept", "")
        refusal = multipart_refusal(exc.detail, language(request)) if exc.status_code == 400 else None
        if refusal is not None:  # the form could not be read (too many files…): in the user's language
            if wants_html and not request.url.path.startswith("/api/"):
                return error_page(request, ServiceError(400, refusal["message"]))
            return JSONResponse({"detail": [refusal]}, status_code=400)
        if exc.status_code in (404, 405) and wants_html and not request.url.path.startswith("/api/"):
            return error_page(request, ServiceError(exc.status_code, str(exc.detail)))
        return await http_exception_handler(request, exc)


__all__ = ["error_page", "mount", "path_error"]
