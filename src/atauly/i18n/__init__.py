"""Message catalogs (gettext .po files read with Babel) and locale-aware formatting for kk, ru and en.

Russian is the default locale. Messages are looked up by their English text (the msgid); a message
missing from a catalog falls back to English, so a missing translation never hides information.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("ru", "kk", "en")
DEFAULT_LANGUAGE = "ru"
LOCALE_DIR = Path(__file__).parent / "locale"
_BABEL_LOCALES = {"ru": "ru_RU", "kk": "kk_KZ", "en": "en_US"}


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogs without translating it yet."""
    return message


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return lang


@cache
def catalog(lang: str) -> dict[str, str]:
    check_language(lang)
    # One catalog per room (atauly.po for the core, others for the service's pages and documents),
    # merged; atauly.po first, so a room's catalog cannot change a core message.
    messages: dict[str, str] = {}
    paths = sorted(
        (LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"), key=lambda p: (p.name != "atauly.po", p.name)
    )
    for path in paths:
        with open(path, "rb") as fh:
            po = read_po(fh, locale=_BABEL_LOCALES[lang])
        for m in po:
            if m.id and m.string and not m.fuzzy and isinstance(m.id, str):
                messages.setdefault(m.id, m.string)
    return messages


class Translator:
    """``t = Translator('kk'); t('Entitled')``, with ``str.format`` fields: ``t('{n} members', n=3)``."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = check_language(lang)
        self._messages = catalog(lang)
        self.locale = Locale.parse(_BABEL_LOCALES[lang])

    def __call__(self, message: str, **fields: object) -> str:
        text = self._messages.get(message, message)
        return text.format(**fields) if fields else text

    def money(self, amount: float, decimals: int = 0) -> str:
        """An amount in tenge, e.g. ``28 400 ₸`` (ru/kk) or ``28,400 ₸`` (en); tiyn shown only when present."""
        # The one rounding rule (atauly.law.money): half up, on the amount as printed (repr), not Babel's
        # half-even: 0.125 ₸ → 0.13 ₸, 2.5 ₸ → 3 ₸.
        value = Decimal(repr(float(amount))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if decimals and value == value.to_integral_value():
            decimals = 0
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
        return f"{format_decimal(value, format=fmt, locale=self.locale)} ₸"

    def date(self, value) -> str:
        """A date as people write it: ``08.07.2025`` (ru/kk), ``8 Jul 2025`` (en); ISO text or date objects."""
        import datetime as _dt

        day = _dt.date.fromisoformat(str(value)[:10])
        return format_date(day, "d MMM yyyy" if self.lang == "en" else "dd.MM.yyyy", locale=self.locale)

    def number(self, value: float, decimals: int = 0) -> str:
        fmt = "#,##0" + ("." + "#" * decimals if decimals else "")
        return format_decimal(value, format=fmt, locale=self.locale)

    def percent(self, share: float) -> str:
        return f"{format_decimal(share * 100, format='#,##0.#', locale=self.locale)}%"
