"""The family's side: a printable decision notice (HTML and PDF) in Kazakh, Russian or English.

The notice states the decision, the amount and the period, the law's reasons in plain words, what role
the model played, the data used about the family, and how to appeal or ask for a correction of that data.
:mod:`.context` computes everything the notice states once, as translated text (from its :mod:`.sections`,
built of :mod:`.blocks`, in the fixed words of :mod:`.texts`); :mod:`.html` (``templates/notice.html``) and
:mod:`.pdf` only lay it out, so the two formats always say the same thing; :mod:`.routes` serves it.
"""

from __future__ import annotations

from .context import notice_context
from .html import html_from_context, html_from_contexts, render_html
from .pdf import pdf_from_context, pdf_from_contexts, render_pdf
from .routes import notice_response, router

__all__ = [
    "html_from_context",
    "html_from_contexts",
    "notice_context",
    "notice_response",
    "pdf_from_context",
    "pdf_from_contexts",
    "render_html",
    "render_pdf",
    "router",
]
