"""The notice as an HTTP response, and its API route ``GET /api/v1/applications/{id}/notice``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session as DB

from .. import casework
from ..deps import DBDep, UserDep
from ..models import User
from .blocks import LANGS
from .context import notice_context
from .html import html_from_context
from .pdf import pdf_from_context

Lang = Literal["ru", "kk", "en"]
Format = Literal["html", "pdf"]


def notice_response(db: DB, user: User, app_id: int, lang: str = "ru", fmt: str = "html") -> Response:
    """The notice of one application as an HTTP response (scoped and audited by ``casework.load``)."""
    if lang not in LANGS:
        raise casework.ServiceError(422, f"lang: use one of {', '.join(LANGS)}")
    if fmt not in ("html", "pdf"):
        raise casework.ServiceError(422, "format: use html or pdf")
    app = casework.load(db, user, app_id, action="notice.read")
    if casework.recommendation_hidden(db, user, app):  # blind mode: the notice states the law's result
        raise casework.ServiceError(
            409, "assessment: blind mode — record your own assessment before opening the notice"
        )
    casework.mark_shown(db, user, app)
    ctx = notice_context(app, lang)
    headers = {
        "Cache-Control": "no-store",
        "Content-Language": lang,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # no script, no external resource; the print CSS is inline
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    }
    if fmt == "pdf":
        headers["Content-Disposition"] = f'inline; filename="notice-{app.id}-{lang}.pdf"'
        return Response(pdf_from_context(ctx), media_type="application/pdf", headers=headers)
    return HTMLResponse(html_from_context(ctx), headers=headers)


router = APIRouter(prefix="/api/v1")


@router.get(
    "/applications/{app_id}/notice",
    tags=["applications"],
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The decision notice for the family (HTML page or PDF).",
        },
        401: {"description": "not authenticated"},
        403: {"description": "outside your district or region, or an aggregates-only role"},
        404: {"description": "no such application"},
    },
)
def get_notice(
    app_id: int,
    db: DBDep,
    user: UserDep,
    lang: Lang = "ru",
    fmt: Annotated[Format, Query(alias="format")] = "html",
) -> Response:
    """The printable decision notice for the family: the decision, the amount and the period, the law's
    reasons, the model's role, the data used, and how to appeal or ask for a correction."""
    return notice_response(db, user, app_id, lang, fmt)
