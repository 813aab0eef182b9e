"""Which catalog owns which message: each catalog's Babel configuration (the files `make i18n` extracts it
from), read here so that a test and tools/po_own.py see exactly what `make i18n` does."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from . import _BABEL_LOCALES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[3]
SRC = Path(__file__).resolve().parents[1]
#: Catalog → its Babel configuration (in the repository's root), in the Makefile's order.
CATALOGS = {
    "atauly": "babel.cfg",
    "web": "babel-web.cfg",
    "notice": "babel-notice.cfg",
    "vision": "babel-vision.cfg",
    "plans": "babel-plans.cfg",
    "dashboard": "babel-dashboard.cfg",
}


@cache
def extracted(name: str) -> frozenset[str]:
    """The msgids `make i18n` extracts for catalog ``name`` (with the Makefile's keywords t and N_)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / CATALOGS[name], encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = extract_from_dir(SRC, method_map, options_map, keywords={"t": None, "N_": None})
    return frozenset(message for _file, _line, message, *_ in found if isinstance(message, str) and message)


def owned(name: str, lang: str) -> set[str]:
    """The msgids translated (not fuzzy) in catalog ``name`` for ``lang``."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{name}.po"
    with open(path, "rb") as fh:
        po = read_po(fh, locale=_BABEL_LOCALES[lang])
    return {m.id for m in po if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}
