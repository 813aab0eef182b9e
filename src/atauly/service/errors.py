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
