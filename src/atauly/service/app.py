"""The casework service: ``create_app()`` builds the FastAPI application (API, pages, database, model)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from atauly import __version__
from atauly.settings import Settings, get_settings

from .casework import ServiceError
from .db import make_engine, migrate, session_factory
from .engine import RecommendationEngine

log = logging.getLogger(__name__)


def load_recommender(settings: Settings):
    """The configured model, or None (then the law alone recommends; the service says so)."""
    from atauly.model.recommender import Recommender
    from atauly.model.store import ModelStore, ModelStoreError

    try:
        rec = Recommender.load(ModelStore(settings.models_dir), settings.service_model)
    except (ModelStoreError, FileNotFoundError, KeyError, ValueError) as exc:
        log.warning("no model %r (%s): recommendations come from the law alone", settings.service_model, exc)
        return None
    if rec.kind != "registry":
        log.warning("model %s was not trained on the data contract: the law alone recommends", rec.name)
        return None
    return rec


def create_app(settings: Settings | None = None, engine: RecommendationEngine | None = None) -> FastAPI:
    settings = settings or get_settings()
    db_engine = make_engine(settings.database)
    migrate(db_engine)
    made = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if made:  # the engine this app started (its child process, if any) ends with it
            app.state.engine.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Atauly casework service",
        version=__version__,
        description="Targeted social assistance (ASP): applications, the law's result, the model's advisory "
        "recommendation, the officer's decision, statistics and the audit trail.",
    )
    app.state.settings = settings
    app.state.db_engine = db_engine
    app.state.sessions = session_factory(db_engine)
    app.state.engine = engine or RecommendationEngine(
        load_recommender(settings), process=settings.service_engine_process
    )

    @app.exception_handler(ServiceError)
    def _service_error(request: Request, exc: ServiceError):
        body = {"detail": exc.message}
        if exc.problems:
            body["detail"] = exc.problems
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if getattr(request.state, "page", False):
            from .web import error_page

            return error_page(request, exc)
        return JSONResponse(body, status_code=exc.status, headers=headers)

    from .api import router

    app.include_router(router)
    from .notice import router as notice_router

    app.include_router(notice_router)
    try:
        from .web import mount as mount_pages
    except ImportError:  # pages not built into this checkout
        mount_pages = None
    if mount_pages is not None:
        mount_pages(app)
    return app
