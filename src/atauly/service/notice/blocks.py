"""The notice's building blocks: paragraphs, key–value lists, tables and bulleted lists (what both formats
lay out), and the formatting of dates, months and masked identifiers in the notice's language."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date

from atauly.i18n import Translator

from .. import casework
from ..models import Application

LANGS = ("ru", "kk", "en")
#: Below this age the notice shows no occupation (the data contract gives children "not_working").
WORKING_AGE_FROM = 16


def long_date(d: date | datetime | None, t: Translator) -> str:
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = d.date()
    return format_date(d, "long", locale=t.locale)


_MONTH_FORMAT = {"ru": "LLLL y", "kk": "y 'ж'. MMMM", "en": "MMMM y"}


def month_label(ym: str, t: Translator) -> str:
    """'2025-09' → 'сентябрь 2025' / '2025 ж. қыркүйек' / 'September 2025'."""
    y, m = (int(x) for x in ym.split("-"))
    return format_date(date(y, m, 1), _MONTH_FORMAT[t.lang], locale=t.locale)


def months_span(first: str, last: str, t: Translator) -> str:
    return month_label(first, t) if first == last else f"{month_label(first, t)} – {month_label(last, t)}"


def previous_quarter_months(month: str) -> list[str]:
    """The three months of the quarter before the quarter of ``month`` ('YYYY-MM'), as in the law."""
    y, m = (int(x) for x in month.split("-"))
    start = (y * 12 + (m - 1) // 3 * 3) - 3  # months since year 0 of the previous quarter's first month
    return [f"{(start + k) // 12:04d}-{(start + k) % 12 + 1:02d}" for k in range(3)]


def age_on(birth: str, on: date) -> int:
    b = date.fromisoformat(str(birth)[:10])
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def masked_iin(iin: str | None, t: Translator) -> str:
    """The rule of atauly.registry.iin.mask_iin (only the length is kept), said in the notice's language."""
    return t("hidden ({n} digits)", n=len(str(iin or "")))


def law_parameters(month: str):
    from atauly.law.system import tax_benefit_system

    return tax_benefit_system().parameters(f"{month}-01")


def plain_lines(app: Application, lang: str) -> list[str]:
    """The law's explanation (atauly.law.explain) for this application, without the parameter names and
    references that follow it and without its first line (the family and quarter, already in the header)."""
    lines = casework.law_trace(app, lang)
    if "" in lines:
        lines = lines[: lines.index("")]
    return [
        ("– " + line.strip()[2:]) if line.strip().startswith("– ") else line.strip() for line in lines[1:]
    ]


def para(text: str, **kw) -> dict:
    return {"kind": "p", "text": text, **kw}


def kv(rows: list[tuple[str, str]], caption: str = "") -> dict:
    return {"kind": "kv", "rows": rows, "caption": caption}


def table(
    caption: str,
    columns: list[str],
    rows: list[list[str]],
    numeric: tuple[int, ...] = (),
    widths: tuple[int, ...] | None = None,
) -> dict:
    """A table with column headings; ``numeric`` columns are right-aligned, ``widths`` are relative (PDF)."""
    return {
        "kind": "table",
        "caption": caption,
        "columns": columns,
        "rows": rows,
        "numeric": list(numeric),
        "widths": list(widths) if widths else None,
    }


def bullets(items: list[str], caption: str = "", note: bool = False) -> dict:
    """A bulleted list; an item starting with "– " is a sub-item of the one before it."""
    return {"kind": "list", "items": items, "caption": caption, "note": note}
