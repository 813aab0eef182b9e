"""What the pages and the decision notice show alike about a family's members: a person's age on a day and
the IIN as it may be shown (never in clear)."""

from __future__ import annotations

import re
from datetime import date

from atauly.i18n import Translator
from atauly.registry.iin import mask_iin

_MASK = re.compile(r"^<(\d+) chars hidden>$")


def age_on(born: object, on: date) -> int | None:
    """Full years on ``on`` of a person born on ``born`` (a date or ISO text); None when not known."""
    if not born:
        return None
    b = date.fromisoformat(str(born)[:10])
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def masked_iin(value: object, t: Translator) -> str:
    """The registry's mask (:func:`atauly.registry.iin.mask_iin`: only the length is kept), in ``t``'s
    language."""
    masked = mask_iin(value)
    found = _MASK.match(masked)
    return t("hidden ({n} digits)", n=found.group(1)) if found else masked
