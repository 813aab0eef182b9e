"""The notice as a standalone, printable HTML page (A4, inline print CSS)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..models import Application
from .context import notice_context

TEMPLATES = Path(__file__).parents[1] / "templates"


@cache
def _jinja():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_from_contexts(contexts: list[dict]) -> str:
    """One page with the notice in each language given (each part marked with its ``lang``)."""
    return _jinja().get_template("notice.html").render(n=contexts[0], parts=contexts)


def html_from_context(ctx: dict) -> str:
    return html_from_contexts([ctx])


def render_html(app: Application, lang: str) -> str:
    """The notice as a standalone, printable HTML page (A4, inline print CSS)."""
    return html_from_context(notice_context(app, lang))
