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
    """The messages of ``lang``: every catalog of the language merged (msgid → translation).

    Parsing the .po files with Babel takes ~50 ms a language; a fresh process (``atauly plans family``, a
    command that prints in one language) pays it every time. The merged messages are therefore kept as
    JSON in the user's cache directory (``$XDG_CACHE_HOME/atauly/i18n``), keyed by the language, the
    SHA-256 of the .po files' bytes and Babel's version, so that an edited catalog is parsed again; a
    cache that cannot be read or written is skipped (the .po files are parsed, as before)."""
    check_language(lang)
    # One catalog per room (atauly.po for the core, others for the service's pages and documents),
    # merged; atauly.po first, so a room's catalog cannot change a core message.
    paths = sorted(
        (LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"), key=lambda p: (p.name != "atauly.po", p.name)
    )
    sources = [(path, path.read_bytes()) for path in paths]
    cached = _cache_file(lang, sources)
    messages = None if cached is None else _read_cached(cached)
    if messages is None:
        messages = _parse(lang, sources)
        if cached is not None:
            _write_cached(cached, messages)
    return messages


_CACHE_VERSION = "1"


def _parse(lang: str, sources: list[tuple[Path, bytes]]) -> dict[str, str]:
    import io

    from babel.messages.pofile import read_po  # only when the cache misses (its import costs ~15 ms)

    messages: dict[str, str] = {}
    for _path, data in sources:
        po = read_po(io.BytesIO(data), locale=_BABEL_LOCALES[lang])
        for m in po:
            if m.id and m.string and not m.fuzzy and isinstance(m.id, str):
                messages.setdefault(m.id, m.string)
    return messages


def _cache_file(lang: str, sources: list[tuple[Path, bytes]]) -> Path | None:
    """The cache file for these sources, or None when there is no cache directory (no ``XDG_CACHE_HOME``
    and no home: a container's arbitrary user, ``env -i``)."""
    import hashlib
    import os

    import babel

    digest = hashlib.sha256(f"{_CACHE_VERSION}|{babel.__version__}|{lang}".encode())
    for path, data in sources:
        digest.update(f"|{path.name}|{len(data)}|".encode())
        digest.update(data)
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except (RuntimeError, KeyError):  # Path.home() without HOME and without a passwd entry
        return None
    return Path(base) / "atauly" / "i18n" / f"{lang}-{digest.hexdigest()[:20]}.json"


def _read_cached(path: Path) -> dict[str, str] | None:
    """The cached messages, or None when missing, empty or not a mapping of texts (a damaged file)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or not data
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())
    ):
        return None
    return data


def _write_cached(path: Path, messages: dict[str, str]) -> None:
    import json
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(messages, fh, ensure_ascii=False)
            os.replace(tmp, path)  # atomic: a concurrent process reads the whole file or none
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass  # no cache (read-only home, disk full): the .po files are parsed next time too


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
