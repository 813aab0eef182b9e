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


def html_from_context(ctx: dict) -> str:
    return _jinja().get_template("notice.html").render(n=ctx)


def render_html(app: Application, lang: str) -> str:
    """The notice as a standalone, printable HTML page (A4, inline print CSS)."""
    return html_from_context(notice_context(app, lang))
