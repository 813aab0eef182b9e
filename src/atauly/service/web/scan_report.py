"""The scan report's page (``atauly screen report``): the screening room's tables and forecast
(:mod:`atauly.screening.report`) rendered with the service's templates, tile map and number formats.

It lives in the service room because it draws on the service's pages; the screening room below computes
what it shows and imports nothing from here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from atauly.screening.report import DEFAULT_CONSENT_RATE, forecast, tables


def report_page(
    region: pd.DataFrame,
    district: pd.DataFrame,
    summary: pd.DataFrame,
    manifest: dict,
    consent_rate: float = DEFAULT_CONSENT_RATE,
    lang: str = "ru",
) -> str:
    """The report's page in ``lang`` (kk, ru or en, through the message catalogs; numbers in the
    language's format): totals, the offers' forecasts with their intervals, the tile map of the 20
    regions (the dashboard's, :func:`atauly.service.web.oversight.region_map`) by rate per 1,000
    families, the regions' table and each region's districts by name."""
    from markupsafe import Markup

    from atauly.i18n import N_, Translator
    from atauly.registry.quarter import Quarter

    from .kit import TEMPLATES, Fmt, district_label, templates
    from .oversight import region_map

    t = Translator(lang)
    f = Fmt(t)
    offers = "offered_per_1000" in region
    calibrated = offers and bool(manifest.get("population_calibrated"))
    region = region.copy()
    region["candidates_per_1000"] = region["candidates"] * 1000.0 / region["families"].clip(lower=1)
    key = "expected_found_per_1000" if calibrated else "candidates_per_1000"
    title = (
        N_("Truly entitled families expected among the offers, per 1,000 families, by region")
        if calibrated
        else N_("Candidates per 1,000 families, by region")
    )
    label = (
        N_("{region}: {value} truly entitled expected among the offers per 1,000 families")
        if calibrated
        else N_("{region}: {value} candidates per 1,000 families")
    )
    rows = [{"area": r["region"], key: float(r[key])} for _, r in region.iterrows()]
    tiles = region_map(rows, lang, f, t, key=key, label=label, decimals=2)
    district = district.copy()
    district["candidates_per_1000"] = district["candidates"] * 1000.0 / district["families"].clip(lower=1)
    from atauly.registry import codes

    regions = []
    for _, r in region.sort_values("region").iterrows():
        here = district[district["region"] == r["region"]].copy()
        here["name"] = [district_label(str(k), lang) for k in here["district"]]
        regions.append(
            {
                **r.to_dict(),
                "name": codes.region_name(r["region"], lang),
                "budget": r["offers_monthly_budget"] if calibrated else r["additional_monthly_budget"],
                "districts": here.sort_values("name").to_dict("records"),
            }
        )
    regions.sort(key=lambda x: x["name"])
    fc = forecast(summary, consent_rate) if calibrated else None
    total = region.drop(columns=["region", "name"]).sum()
    # The pages' colours and type (atauly.css's :root) before the tile map's own rules: without them the map's
    # names fell back to a wider font and overflowed their tiles, and its colours to black.
    static = TEMPLATES.parent / "static"
    root = re.search(r":root\s*\{[^}]*\}", (static / "atauly.css").read_text(encoding="utf-8"))
    style = Markup(
        (root.group(0) + "\n" if root else "") + (static / "oversight.css").read_text(encoding="utf-8")
    )
    quarter = str(manifest.get("quarter", ""))
    return (
        templates()
        .get_template("scan_report.html")
        .render(
            t=t,
            lang=lang,
            fmt=f,
            style=style,
            quarter_label=Quarter.parse(quarter).label(lang) if quarter else "—",
            model=str(manifest.get("model", "")),
            total=total.to_dict(),
            fc=fc,
            offered=int(summary["offered"].sum()) if "offered" in summary else None,
            offers=offers,
            capacity=int(summary["capacity"].sum()) if "capacity" in summary else 0,
            min_probability=float(manifest.get("offers", {}).get("min_probability", 0.5)),
            consent_rate=consent_rate,
            map=tiles,
            map_title=t(title),
            regions=regions,
        )
    )


def write_report(
    scan_dir: Path | str, out_dir: Path | str, consent_rate: float = DEFAULT_CONSENT_RATE, lang: str = "ru"
) -> tuple[Path, pd.DataFrame]:
    """``report.html`` (in ``lang``: the map and the tables), ``by_region.csv``, ``by_district.csv`` and,
    for a scan with population-calibrated offers, ``forecast.json`` in ``out_dir``. Returns the page's
    path and the table by region."""
    scan_dir, out_dir = Path(scan_dir), Path(out_dir)
    region, district = tables(scan_dir, consent_rate)
    manifest = (
        json.loads((scan_dir / "scan.json").read_text(encoding="utf-8"))
        if (scan_dir / "scan.json").exists()
        else {}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = pd.read_parquet(scan_dir / "summary")
    if "offered" in summary and manifest.get("population_calibrated"):
        fc = forecast(summary, consent_rate)
        (out_dir / "forecast.json").write_text(json.dumps(fc, indent=2), encoding="utf-8")
    region.to_csv(out_dir / "by_region.csv", index=False)
    district.to_csv(out_dir / "by_district.csv", index=False)
    path = out_dir / "report.html"
    path.write_text(report_page(region, district, summary, manifest, consent_rate, lang), encoding="utf-8")
    return path, region
