"""The scan's report: by region and by district, with a map of Kazakhstan's regions.

Figures per region and district: families, entitled by law (on the records), receiving ASP, applied this
quarter, candidates, **expected take-up** and the **additional monthly budget**. Expected take-up is the
sum over candidates of (the model's probability that a verified review finds them entitled) × (the share
of families who agree when offered, ``consent_rate``: no published figure — an assumption, a parameter);
the budget is the same sum over the law's monthly amounts (ASP + child supplement).

The page (kk, ru or en) has the dashboard's tile map of the 20 regions, labelled, by rate per 1,000
families, and each region's districts by name (:func:`report_page`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.registry.codes import REGION_BY_KATO

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
    from atauly.service.web.kit import TEMPLATES, Fmt, district_label, templates
    from atauly.service.web.oversight import region_map

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
    style = Markup((TEMPLATES.parent / "static" / "oversight.css").read_text(encoding="utf-8"))
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
