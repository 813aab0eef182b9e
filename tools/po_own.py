"""Copy each message's translation into the catalog that owns it (the one whose Babel configuration extracts
it: babel.cfg → atauly.po, babel-web.cfg → web.po, babel-notice.cfg → notice.po, …), from whichever catalog
holds it now, so that `make i18n` (one update per catalog, obsolete entries dropped) loses no translation.
Run ``PYTHONPATH=src .venv/bin/python tools/po_own.py`` after moving code between rooms or merging branches;
tests/test_i18n_catalogs.py fails until it is done."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from po_add import add  # noqa: E402

from atauly.i18n import catalog  # noqa: E402
from atauly.i18n.catalogs import CATALOGS, extracted, owned  # noqa: E402


def main() -> None:
    for name in CATALOGS:
        have = {lang: owned(name, lang) for lang in ("ru", "kk")}
        need = sorted(m for m in extracted(name) if any(m not in have[lang] for lang in have))
        messages = {}
        for m in need:
            tr = {lang: catalog(lang).get(m) for lang in ("ru", "kk", "en")}
            if tr["ru"] and tr["kk"]:
                messages[m] = {k: v for k, v in tr.items() if v}
            else:
                print(f"{name}: no translation anywhere yet: {m!r}")
        if messages:
            print(f"{name}: {len(messages)} translations copied in")
            add(name, messages)


if __name__ == "__main__":
    main()
