"""The casework service: ``create_app()`` builds the FastAPI application (API, pages, database, model)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders

from atauly import __version__
from atauly.model.store import ModelIdentity
from atauly.settings import Settings, get_settings

from .audit import AuditKeys, CheckpointThread, checkpoint
from .casework import ServiceError
from .db import make_engine, make_read_engine, migrate, session_factory
from .engine import RecommendationEngine, configured_model, load_recommender  # noqa: F401 — load_recommender: imported from here too
from .errors import HTML_CSP, safe_errors, safe_json, too_large_refusal
from .limits import LoginLimits
from .photos import PurgeThread
from .recorder import GroupRecorder
from .throttle import LoginGate, RefusalTally

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, engine: RecommendationEngine | None = None) -> FastAPI:
    settings = settings or get_settings()
    db_engine = make_engine(settings.database)
    migrate(db_engine)
    app = FastAPI(
        lifespan=_lifespan(settings, made_engine=engine is None),
        # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN, without integrity checks, on a
        # site that holds personal data. The OpenAPI document stays at /openapi.json for any local viewer.
        docs_url=None,
        redoc_url=None,
        title="Atauly casework service",
        version=__version__,
        description="Targeted social assistance (ASP): applications, the law's result, the model's advisory "
        "recommendation, the officer's decision, statistics and the audit trail.",
    )
    _set_state(app, settings, db_engine, engine)
    _add_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    _add_routes(app)
    return app


def create_served_app() -> FastAPI:
    """The app of one worker of ``atauly serve --workers N`` (uvicorn's factory): :func:`create_app`, then
    the process's heap set aside from the cyclic collector (:func:`atauly.service.heap.settle`)."""
    from . import heap

    app = create_app()
    heap.settle()
    return app


def _lifespan(settings: Settings, made_engine: bool):
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        anchor = CheckpointThread(app.state.sessions, settings.audit_checkpoint_seconds)
        anchor.start()
        purge = PurgeThread(settings.home, settings.photo_purge_hours)  # photos past their retention date
        purge.start()
        to_thread.current_default_thread_limiter().total_tokens = request_threads(settings)
        yield
        purge.stop()
        anchor.stop()
        try:
            with app.state.sessions() as db:  # refusals counted since the last summary are not lost
                app.state.refusals.flush(db, force=True)
                checkpoint(db)
        except Exception as exc:  # noqa: BLE001 — shutting down: say so, and end the engine all the same
            log.error("could not write the last audit summary or checkpoint (%s)", type(exc).__name__)
        if made_engine:  # the engine this app started (its child process, if any) ends with it
            app.state.engine.close()

    return lifespan


def request_threads(settings: Settings) -> int:
    """Threads for the requests' synchronous work (anyio's default limiter, 40 unless set). Under load the
    extra threads only took turns at the interpreter lock, each database round trip of a request waiting
    for it again: 50 officers back to back had p95 pages of 550–630 ms with 40 threads and 320–400 ms with
    8 (the same machine, minutes apart). Web sign-ins waiting for a hash hold a thread each: their places
    come on top, so that a flood of them leaves the officers ``service_threads``."""
    return settings.service_threads + max(0, settings.login_hash_slots) + max(0, settings.login_hash_queue)


def _set_state(app: FastAPI, settings: Settings, db_engine, engine: RecommendationEngine | None) -> None:
    """Settings, database sessions (write and read), the sign-in gate, the refusal tally, the engine."""
    keys = AuditKeys.load(settings)
    app.state.settings = settings
    app.state.db_engine = db_engine
    app.state.sessions = session_factory(db_engine, keys)
    app.state.read_engine = make_read_engine(settings.database, db_engine)
    app.state.read_sessions = session_factory(app.state.read_engine, keys)
    app.state.recorder = GroupRecorder(app.state.sessions)
    app.state.login_limits = LoginLimits.from_settings(settings)
    app.state.login_gate = LoginGate(
        slots=settings.login_hash_slots,
        queue=settings.login_hash_queue,
        async_queue=settings.login_hash_queue_api,
    )
    app.state.refusals = RefusalTally(settings.audit_summary_seconds)
    remote = None
    if settings.service_engine_socket:  # atauly serve --workers N: the one shared engine process
        from .engine_shared import RemoteEngine

        remote = RemoteEngine(settings.service_engine_socket)
    # With the shared engine the worker scores nothing: its pages need the model's name and metadata only
    model = (described_model if remote is not None else load_recommender)(settings)
    app.state.engine = engine or RecommendationEngine(
        model, process=settings.service_engine_process, remote=remote
    )


class DescribedModel(ModelIdentity):
    """The model as a worker of ``atauly serve --workers N`` knows it: the shared engine process scores
    with it; the worker's pages show its name and metadata (the model page, the settings' "model
    available"). Its metadata only: the forest is not loaded in every worker (≈ 25 MB each, issue 17)."""

    def __init__(self, stored) -> None:
        self.stored = stored
        self.threshold = stored.threshold

    def set_jobs(self, n_jobs: int) -> None:
        """Nothing to set: there is no forest here (the engine asks every recommender)."""


def described_model(settings: Settings) -> DescribedModel | None:
    """The configured model's description, or None where :func:`load_recommender` gives None (no such model,
    one whose files fail the store's hashes, or not trained on the data contract): what the shared engine
    process scores with."""
    return configured_model(settings, lambda store, ref: DescribedModel(store.describe(ref)))


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    def _service_error(request: Request, exc: ServiceError):
        body = {"detail": exc.message}
        if exc.problems:
            body["detail"] = exc.problems
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        headers.update(exc.headers or {})
        if getattr(request.state, "page", False):
            from .web import error_page

            return error_page(request, exc)
        return JSONResponse(safe_json(body), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        """422 with the field, the rule and the error type; never the value sent (it may be an IIN, or a
        NaN or a lone surrogate that JSON cannot even encode)."""
        if getattr(request.state, "page", False):
            from .web import error_page, path_error

            status = 404 if path_error(exc) else 422
            return error_page(request, ServiceError(status, str(safe_errors(exc.errors())[:1])))
        return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)


class SecurityHeaders:
    """Headers on every response, as plain ASGI middleware.

    Nearly every response carries personal data or a credential: never kept by a cache, never sniffed,
    never framed; HTML gets the pages' CSP. A 413 in plain text (the body-size limit's own answer) is
    replaced by the service's refusal in the user's language. Plain ASGI rather than
    ``@app.middleware("http")``: that wrapper runs every request through an extra task and memory streams,
    a cost paid on every submission.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_secured(message):
            nonlocal replaced
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] == 413 and headers.get("content-type", "").startswith("text/plain"):
                    replaced = True  # the limit's plain English answer, put in words (its body is dropped)
                    await _too_large(Request(scope))(scope, receive, _secured(send))
                    return
                _secure(headers)
            elif replaced:
                return
            await send(message)

        await self.app(scope, receive, send_secured)


def _secured(send):
    async def sender(message):
        if message["type"] == "http.response.start":
            _secure(MutableHeaders(scope=message))
        await send(message)

    return sender


def _secure(h: MutableHeaders) -> None:
    h.setdefault("Cache-Control", "no-store")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    if h.get("content-type", "").startswith("text/html"):
        h.setdefault("Content-Security-Policy", HTML_CSP)
    else:
        h.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")


def _too_large(request: Request):
    """An upload refused while it streamed in (larger than ``MAX_REQUEST_BYTES``), in the user's language,
    written like the upload's other refusals."""
    from .photos import MAX_REQUEST_BYTES
    from .web.kit import error_page, language

    refusal = too_large_refusal(language(request), MAX_REQUEST_BYTES // 2**20)
    wants_html = "text/html" in request.headers.get("accept", "")
    if wants_html and not request.url.path.startswith("/api/"):
        return error_page(request, ServiceError(413, refusal["message"]))
    return JSONResponse({"detail": [refusal]}, status_code=413)


def _add_routes(app: FastAPI) -> None:
    """The API, the notice's API route, then the pages (when built into this checkout)."""
    from .api import router
    from .notice import router as notice_router

    app.include_router(router)
    app.include_router(notice_router)
    try:
        from .web import mount as mount_pages
    except ImportError:  # pages not built into this checkout
        mount_pages = None
    if mount_pages is not None:
        mount_pages(app)
