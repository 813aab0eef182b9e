"""Error bodies that are safe to send: no value from the request (it may be an IIN), nothing JSON cannot
encode (NaN, Infinity, a lone surrogate), nothing long."""

from __future__ import annotations

import math
import re

#: The pages' and the notice's Content-Security-Policy (no script at all; the notice's print CSS is inline).
HTML_CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

#: A run of 12 or more digits (an IIN, or something like one) is never echoed.
_DIGITS = re.compile(r"\d{12,}")


def safe_text(value: str, limit: int = 200) -> str:
    # masked before it is cut, so that an IIN across the cut is not half shown
    text = _DIGITS.sub(lambda m: f"<{len(m.group())} digits hidden>", value)[:limit]
    # lone surrogates (from "\ud800" in JSON) cannot be encoded as UTF-8: shown as their escape
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_json(value):
    """``value`` with every string made safe and every non-finite number replaced by its name."""
    if isinstance(value, str):
        return safe_text(value, 2000)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**15 else safe_text(str(value))
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {safe_text(str(k)): safe_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_json(v) for v in value]
    return safe_text(str(value))


def safe_errors(errors) -> list[dict]:
    """pydantic's errors without the ``input`` (and without context objects): where, what rule, which type."""
    out = []
    for err in errors:
        item = {
            "loc": [x if isinstance(x, int) else safe_text(str(x), 64) for x in err.get("loc", ())],
            "msg": safe_text(str(err.get("msg", "")), 300),
            "type": str(err.get("type", "")),
        }
        ctx = err.get("ctx")
        if isinstance(ctx, dict):
            kept = {
                k: v for k, v in ctx.items() if isinstance(v, str | int | float) and not isinstance(v, bool)
            }
            if kept:
                item["ctx"] = safe_json(kept)
        out.append(item)
    return out


#: Refusals of the multipart parser (Starlette, while the form is read: before any route runs), in words
#: for people: pattern of its English message → (reason code, message for the catalogs).
_MULTIPART = (
    (re.compile(r"Too many files\. Maximum number of files is (?P<n>\d+)\."), "too_many_files"),
    (re.compile(r"Too many fields\. Maximum number of fields is (?P<n>\d+)\."), "too_many_fields"),
    (re.compile(r"(?:Part|Field) exceeded maximum size of (?P<kb>\d+)KB\."), "field_too_large"),
    (
        re.compile(r"Missing boundary in multipart\.|Invalid multipart data\.|Content-Disposition header"),
        "malformed_form",
    ),
)


def multipart_refusal(detail: str, lang: str) -> dict | None:
    """A problem (``file``, ``reason``, ``message`` in ``lang``) for a refusal of the multipart parser, as
    the upload's other refusals are written; None for any other error."""
    from atauly.i18n import N_, Translator

    messages = {
        "too_many_files": N_("Too many files in one upload: at most {n} at a time. Nothing was attached."),
        "too_many_fields": N_("Too many form fields: at most {n}. Nothing was attached."),
        "field_too_large": N_("A form field is larger than {kb} KB. Nothing was attached."),
        "malformed_form": N_(
            "The upload could not be read (the form data is malformed). Nothing was attached."
        ),
    }
    for pattern, reason in _MULTIPART:
        m = pattern.search(str(detail))
        if m:
            return {
                "file": "",
                "reason": reason,
                "message": Translator(lang)(messages[reason], **m.groupdict()),
            }
    return None


def too_large_refusal(lang: str, mb: int) -> dict:
    """The refusal of an upload larger than ``mb`` MB in all, as a problem in ``lang``."""
    from atauly.i18n import N_, Translator

    message = N_("The upload is larger than {mb} MB in all. Nothing was attached.")
    return {"file": "", "reason": "too_large", "message": Translator(lang)(message, mb=mb)}
