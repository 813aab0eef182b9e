"""The notice's building blocks: paragraphs, key–value lists, tables and bulleted lists (what both formats
lay out), and the formatting of dates, months and masked identifiers in the notice's language."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date

from atauly.i18n import Translator
from atauly.registry.quarter import month_label as _month_label
from atauly.registry.quarter import plain_periods

LANGS = ("ru", "kk", "en")


def long_date(d: date | datetime | None, t: Translator) -> str:
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = d.date()
    return format_date(d, "long", locale=t.locale)


def month_label(ym: str, t: Translator) -> str:
    """'2025-09' → «сентябрь 2025 г.» / «2025 ж. қыркүйек» / "September 2025": the one month vocabulary of
    every page (:func:`atauly.registry.quarter.month_label`)."""
    return _month_label(ym, t.lang)


def months_span(first: str, last: str, t: Translator) -> str:
    """'2025-04', '2025-06' → «апрель–июнь 2025 г.» / «2025 ж. сәуір–маусым» / "April–June 2025": the range
    as the law's calculation and every page write it (the year once), not «2025 ж. сәуір – 2025 ж. маусым»."""
    return month_label(first, t) if first == last else plain_periods(f"{first}…{last}", t.lang)


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


def section(key: str, heading: str, blocks: list[dict]) -> dict:
    """One numbered section of the notice: its id (an anchor), its heading and its blocks."""
    return {"id": key, "heading": heading, "blocks": blocks}
