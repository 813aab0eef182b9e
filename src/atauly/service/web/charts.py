"""Charts drawn as inline SVG (no script), legible at phone width.

A horizontal bar chart puts each label on a line of its own above its bar (long labels wrap onto a second
line rather than being cut), in a 360-unit-wide drawing: on a 390-pixel phone the drawing is about 320
pixels wide, so the 14-unit labels are still at least 12 pixels; on a desktop it is not drawn wider than
36rem (see ``atauly.css``). Every value is also in the description and in a table on the same page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WIDTH = 360  # the drawing's width, in SVG units
BAR_W = 230  # the longest bar; the value is written after it
LINE_H = 18  # one line of a label
BAR_H = 14
GAP = 8
WRAP = 42  # characters per label line (14-unit type: about 7.5 units per character)


@dataclass
class Bar:
    label: str
    value: float
    text: str


def wrap(label: str, width: int = WRAP, lines: int = 2) -> list[str]:
    """``label`` in at most ``lines`` lines of about ``width`` characters, broken between words or after a
    hyphen (Восточно-|Казахстанская); what does not fit ends with "…" (the full label is in the bar's
    tooltip and the description)."""
    pieces: list[tuple[str, str]] = []  # (text, what joins it to the next piece)
    for word in label.split():
        parts = re.split(r"(?<=-)(?=\w)", word)
        pieces += [(p, "") for p in parts[:-1]] + [(parts[-1], " ")]
    out: list[str] = []
    line = ""
    while pieces:
        text, joiner = pieces[0]
        if not line or len(line + text) <= width:
            line += text + joiner
            pieces.pop(0)
            continue
        out.append(line.strip())
        line = ""
        if len(out) == lines:
            break
    if line.strip() and len(out) < lines:
        out.append(line.strip())
    if pieces:
        last = out[-1]
        out[-1] = (last if len(last) < width else last[: width - 1]) + "…"
    return [s if len(s) <= width + 1 else s[: width - 1] + "…" for s in out]


def bar_chart(key: str, title: str, bars: list[Bar], maximum: float | None = None) -> dict:
    """A horizontal bar chart: each bar under its label, the value after the bar."""
    top = max([maximum or 0.0, *(b.value for b in bars)]) or 1.0
    # the longest bar leaves room for the longest value after it (bold 14-unit type: ≤ 8.2 units a character)
    bar_w = max(120, min(BAR_W, int(WIDTH - 6 - 8.2 * max((len(b.text) for b in bars), default=0))))
    rows, y = [], 0
    for b in bars:
        lines = wrap(b.label)
        width = round(max(0.0, b.value) / top * bar_w, 1)
        bar_y = y + len(lines) * LINE_H + 4
        rows.append(
            {
                "lines": [{"y": y + (k + 1) * LINE_H - 4, "text": s} for k, s in enumerate(lines)],
                "full": b.label,
                "bar_y": bar_y,
                "width": width,
                "text": b.text,
                "text_x": width + 6,
                "text_y": bar_y + BAR_H - 2,
            }
        )
        y = bar_y + BAR_H + GAP
    return {
        "id": key,
        "title": title,
        "rows": rows,
        "bar_w": bar_w,
        "bar_h": BAR_H,
        "width": WIDTH,
        "height": max(1, y - GAP + 2),
        "desc": "; ".join(f"{b.label}: {b.text}" for b in bars),
    }
