"""The district akimat's contacts on the notice, from the file named by ``ATAULY_AKIMAT_CONTACTS``.

The project holds no real addresses or telephone numbers of akimats (the district catalogue has codes and
names only), and none is invented. The file, kept by the operator, maps a district's KATO code to
``{"address": ..., "phone": ..., "email": ..., "hours": ...}``, each a text or ``{"ru": ..., "kk": ...,
"en": ...}``. Without it, or for a district it lacks, the notice names the akimat and gives the public,
national contact lines instead: the e-government contact centre 1414 (public services, free of charge
from landlines in Kazakhstan) and the portal egov.kz.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from atauly.i18n import N_, Translator

log = logging.getLogger(__name__)

FIELDS = {
    "address": N_("Address"),
    "phone": N_("Telephone"),
    "email": N_("E-mail"),
    "hours": N_("Reception hours"),
}
#: The national contact lines shown when the district's own contacts are not on file.
PUBLIC_LINES = N_(
    "The contact centre for public services 1414 (free of charge from landlines) and the portal egov.kz "
    "give the akimat's address and reception hours."
)


def _load(path: str) -> dict[str, dict]:
    """The file's districts, read again when the file changes (its modification time); ``{}`` with a
    warning when it cannot be read or is not an object of districts (the notice then gives the public
    lines: one bad edit must not stop every notice)."""
    try:
        return _parse(path, Path(path).stat().st_mtime_ns)
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        # the error's kind and place only: never the file's text
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        log.warning("akimat contacts %s unusable: %s%s; public lines shown", path, type(exc).__name__, where)
        return {}


@lru_cache(maxsize=4)
def _parse(path: str, mtime_ns: int) -> dict[str, dict]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("expected an object of district KATO codes")
    return data


def district_contacts(district_kato: str, lang: str, path: Path | str | None = None) -> dict[str, str]:
    """The akimat's contacts in ``lang`` ({field: text}, only the fields on file; {} when none)."""
    if path is None:
        from atauly.settings import get_settings

        path = get_settings().akimat_contacts
    if not path:
        return {}
    entry = _load(str(path)).get(district_kato) or {}
    out = {}
    for field in FIELDS:
        value = entry.get(field)
        if isinstance(value, dict):
            value = value.get(lang) or value.get("ru")
        if isinstance(value, str) and value.strip():
            out[field] = value.strip()
    return out


def contact_rows(district_kato: str, t: Translator, path: Path | str | None = None) -> list[tuple[str, str]]:
    """The contacts as (label, value) rows; empty when the district's are not on file."""
    found = district_contacts(district_kato, t.lang, path)
    return [(t(FIELDS[k]), v) for k, v in found.items()]
