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
    """Forecasts over the offered families, from their population-calibrated probabilities p and the
    amounts a they would truly receive if entitled, each with a 95% interval: **truly entitled found**
    (Σ p), **take-up** (families who consent and are entitled: each with probability c·p, c the consent
    rate) and the **additional monthly budget** (Σ a over them).

    The interval's variance has two parts. Who turns out entitled and who consents: families independent,
    Σ q(1 − q) and Σ a²·q(1 − q) with q = c·p. The calibration's own error (the map from the forest's
    score to p is fitted on a sample): the variance of the forecast over the map's bootstrap replicates
    (the summary's ``calibration_entitled`` and ``calibration_amount``, summed over districts replicate
    by replicate — one map serves every district, so their errors add up, not cancel), when the scan
    wrote them; for the budget each replicate also refits the amounts of the families whose amount
    rests on the sample's gap bins (``amount_basis`` ``gap_bin``; a family an earlier visit found
    entitled has that visit's verified amount). A normal interval, clipped at 0; ``calibration_sd`` is
    the second part alone. The consent rate, an assumption, is not in the interval."""
    c = float(consent_rate)
    sums = {k: float(summary[k].sum()) if k in summary else 0.0 for k in _SUMS}
    cal_p, cal_a = (
        _replicate_totals(summary, "calibration_entitled"),
        _replicate_totals(summary, "calibration_amount"),
    )

    def figure(mean: float, var: float, replicates: np.ndarray | None, scale: float) -> dict:
        cal_sd = float(scale * replicates.std(ddof=1)) if replicates is not None else 0.0
        sd = float(np.sqrt(max(var, 0.0) + cal_sd**2))
        return {
            "mean": mean,
            "low": max(mean - z * sd, 0.0),
            "high": mean + z * sd,
            "calibration_sd": cal_sd,
        }

    found, amount = sums["expected_entitled"], sums["expected_amount"]
    return {
        "offered": int(summary["offered"].sum()) if "offered" in summary else 0,
        "consent_rate": c,
        "calibration_replicates": 0 if cal_p is None else len(cal_p),
        "entitled_found": figure(found, found - sums["sum_p2"], cal_p, 1.0),
        "take_up": figure(c * found, c * found - c**2 * sums["sum_p2"], cal_p, c),
        "monthly_budget": figure(c * amount, c * sums["sum_a2p"] - c**2 * sums["sum_a2p2"], cal_a, c),
    }


def _replicate_totals(summary: pd.DataFrame, column: str) -> np.ndarray | None:
    """Per replicate, the sum over districts of a list column of the summary (None when absent or
    empty, or with fewer than 2 replicates)."""
    if column not in summary or summary.empty:
        return None
    rows = [np.asarray(v, dtype=float) for v in summary[column] if v is not None]
    lengths = {len(r) for r in rows}
    if not rows or len(lengths) != 1 or lengths.pop() < 2:
        return None
    return np.sum(rows, axis=0)


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
