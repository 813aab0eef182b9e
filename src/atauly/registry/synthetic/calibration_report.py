"""The calibration report as HTML: generated against published figures, the gaps between the layers,
well-being levels, with charts."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from ..codes import REGION_BY_KATO
from ..wellbeing import LEVELS


def _chart_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def calibration_html(table: pd.DataFrame, gaps: dict, wellbeing: pd.DataFrame, result: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = []
    if len(table):
        fig, ax = plt.subplots(figsize=(9, max(3, 0.28 * len(table))))
        y = np.arange(len(table))
        ax.barh(y, table["deviation"] * 100, color=np.where(table["ok"], "#2a9d8f", "#e76f51"))
        ax.set_yticks(y, table["name"], fontsize=7)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("generated vs target, %")
        ax.invert_yaxis()
        charts.append(("Deviation from the published figures", _chart_png(fig)))
        plt.close(fig)
    if len(wellbeing):
        fig, ax = plt.subplots(figsize=(9, 4))
        bottom = np.zeros(len(wellbeing))
        for level, color in zip(LEVELS, ["#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261", "#e76f51"], strict=True):
            ax.bar(range(len(wellbeing)), wellbeing[level], bottom=bottom, label=level, color=color)
            bottom += wellbeing[level].to_numpy()
        ax.set_xticks(
            range(len(wellbeing)), [REGION_BY_KATO[k].key for k in wellbeing.index], rotation=70, fontsize=7
        )
        ax.set_ylabel("share of families")
        ax.legend(title="level", fontsize=7)
        charts.append(("Well-being levels A–E by region (recorded view)", _chart_png(fig)))
        plt.close(fig)
    rows = "".join(
        f"<tr class={'ok' if r.ok else 'bad'}><td>{html.escape(r.scope)}</td><td>{html.escape(r.name)}</td>"
        f"<td>{r.generated:,.4g}</td><td>{r.target:,.4g}</td><td>{r.deviation:+.1%}</td><td>±{r.tolerance:.0%}</td>"
        f"<td>{'headline' if r.headline else ''}</td><td>{'✓' if r.ok else '✗'}</td><td>{html.escape(r.source)}</td></tr>"
        for r in table.itertuples()
    )
    gap_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:,.4g}</td></tr>" for k, v in gaps.items())
    imgs = "".join(
        f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>"
        for t, b in charts
    )
    status = (
        "all headline targets within tolerance"
        if result["headline_ok"]
        else "some headline targets out of tolerance"
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atauly synthetic registry calibration</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px}}tr.bad{{background:#fde2dc}}tr.ok{{background:#e6f4f1}}</style></head>
<body><h1>Synthetic registry calibration</h1><p>Registry {html.escape(result["registry"])}, scale {result["scale"]},
quarter {html.escape(result["quarter"])}: <strong>{status}</strong>.</p>
<h2>Generated vs published</h2><table><tr><th>scope</th><th>figure</th><th>generated</th><th>target</th>
<th>deviation</th><th>tolerance</th><th></th><th>ok</th><th>source</th></tr>{rows}</table>
<h2>Gaps between the layers (families, at this scale)</h2><table>{gap_rows}</table>{imgs}</body></html>"""
