"""Add translated messages to a catalog: ``python tools/po_add.py FILE.json`` where the JSON maps
``{"catalog": "atauly", "messages": {msgid: {"ru": ..., "kk": ..., "en": ...}}}`` (en defaults to msgid).

Used when adding user-facing text: entries are appended (or updated) in each language's catalog with
Babel, keeping the files' order and header.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parents[1] / "src" / "atauly" / "i18n" / "locale"


def add(catalog_name: str, messages: dict[str, dict[str, str]]) -> None:
    for lang in ("ru", "kk", "en"):
        path = LOCALE / lang / "LC_MESSAGES" / f"{catalog_name}.po"
        if path.exists():
            with open(path, "rb") as fh:
                po = read_po(fh, locale={"ru": "ru_RU", "kk": "kk_KZ", "en": "en_US"}[lang])
        else:
            from babel.messages.catalog import Catalog

            po = Catalog(locale={"ru": "ru_RU", "kk": "kk_KZ", "en": "en_US"}[lang], project="atauly")
        for msgid, tr in messages.items():
            text = tr.get(lang) or (msgid if lang == "en" else None)
            if text is None:
                raise SystemExit(f"{msgid!r} has no {lang} translation")
            if msgid in po:
                po[msgid].string = text
            else:
                po.add(msgid, text)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            write_po(fh, po, omit_header=False, width=110)


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    add(spec.get("catalog", "atauly"), spec["messages"])
