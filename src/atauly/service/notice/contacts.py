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
from functools import cache
from pathlib import Path

from atauly.i18n import N_, Translator

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


@cache
def _load(path: str) -> dict[str, dict]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object of district KATO codes")
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
