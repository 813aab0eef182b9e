"""The notice as an HTTP response, and its API route ``GET /api/v1/applications/{id}/notice``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session as DB

from .. import casework
from ..deps import DBDep, UserDep
from ..models import User
from .blocks import LANGS
from .context import BOTH, notice_context, notice_languages
from .html import html_from_contexts
from .language import set_language
from .pdf import pdf_from_contexts

Lang = Literal["ru", "kk", "en", "both"]
Format = Literal["html", "pdf"]


def notice_response(db: DB, user: User, app_id: int, lang: str | None = None, fmt: str = "html") -> Response:
    """The notice of one application as an HTTP response (scoped and audited by ``casework.load``): in
    ``lang``, or without it in the family's language recorded on the application; ``lang=both``: in the
    family's language and the other language of the state, one after the other."""
    if lang and lang not in (*LANGS, BOTH):
        raise casework.ServiceError(422, f"lang: use one of {', '.join(LANGS)} or {BOTH}")
    if fmt not in ("html", "pdf"):
        raise casework.ServiceError(422, "format: use html or pdf")
    app = casework.load(db, user, app_id, action="notice.read")
    if casework.recommendation_hidden(db, user, app):  # blind mode: the notice states the law's result
        raise casework.ServiceError(
            409, "assessment: blind mode — record your own assessment before opening the notice"
        )
    casework.mark_shown(db, user, app)
    langs = notice_languages(app, lang)
    contexts = [notice_context(app, one) for one in langs]
    tag = "-".join(langs)
    headers = {
        "Cache-Control": "no-store",
        "Content-Language": ", ".join(langs),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # no script, no external resource; the print CSS is inline
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    }
    if fmt == "pdf":
        headers["Content-Disposition"] = f'inline; filename="notice-{app.id}-{tag}.pdf"'
        return Response(pdf_from_contexts(contexts), media_type="application/pdf", headers=headers)
    return HTMLResponse(html_from_contexts(contexts), headers=headers)


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
    lang: Annotated[
        Lang | None,
        Query(
            description="ru, kk or en; both: the family's language and the other language of the state. "
            "Not given: the family's language recorded on the application."
        ),
    ] = None,
    fmt: Annotated[Format, Query(alias="format")] = "html",
) -> Response:
    """The printable decision notice for the family: the decision, the amount and the period, what happens
    next, the law's reasons, the model's role, the data used, how to appeal or ask for a correction, and the
    akimat's contacts."""
    return notice_response(db, user, app_id, lang, fmt)


class LanguageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["ru", "kk", "en"]


class LanguageOut(BaseModel):
    id: int
    language: str


@router.put(
    "/applications/{app_id}/language",
    tags=["applications"],
    responses={
        401: {"description": "not authenticated"},
        403: {"description": "outside your district or region, or a role that cannot change applications"},
        404: {"description": "no such application"},
    },
)
def put_language(app_id: int, body: LanguageIn, db: DBDep, user: UserDep) -> LanguageOut:
    """Record the family's language (ru, kk or en): the notice is written in it unless another is asked for."""
    app = set_language(db, user, app_id, body.language)
    return LanguageOut(id=app.id, language=app.language)
