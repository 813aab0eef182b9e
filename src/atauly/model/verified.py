"""The verification sample as training data for the proactive scan (issue 15): families that did not
apply, verified at random, with features from what state databases show."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.registry.quarter import Quarter

from .data import DataError, Dataset, has_table, prepare, read_registry_table
from .features import audit_groups, family_features, feature_columns
from .population import population_frame


def has_verification(directory: Path | str) -> bool:
    """Whether a registry holds a verification sample (``verification/``) and a recorded view."""
    directory = Path(directory)
    return has_table(directory, "verification") and (directory / "recorded").is_dir()


#: Entitled families that did not apply needed in the verification sample to train the scan's model on it
#: (below, the sample cannot rank or calibrate: `--view recorded` falls back to officers' decisions).
MIN_VERIFIED_ENTITLED = 30


def verified_entitled(directory: Path | str) -> int:
    """Entitled families in the verification sample that did not apply that quarter (every quarter)."""
    ver = read_registry_table(Path(directory), "verification")
    if "true_eligible" not in ver:
        return 0
    entitled = ver["true_eligible"].fillna(False).to_numpy(dtype=bool)
    if "applied" in ver:
        entitled = entitled & ~ver["applied"].fillna(False).to_numpy(dtype=bool)
    return int(entitled.sum())


def load_verified(directory: Path | str, progress=None) -> Dataset:
    """The proactive scan's question as training data (issue 15): "is this family truly entitled now,
    given only what state databases show?".

    Rows are the families of the **verification sample** (``verification/``: a random ~1% of all
    families each quarter plus a stratified part where the records show income below the line, with
    verified welfare) that did not apply that quarter, every quarter pooled; the label is
    the verified entitlement (``true_eligible``); features are computed from the **recorded view** alone
    (what state databases show), with the law on it for the registry's quarter. Because the sample is
    drawn from the whole population at chances that depend on the records alone, a model of P(entitled |
    records) trained and calibrated on it answers for the population the scan looks at, not for the self-selected applicants — a forest trained on applicants'
    decisions ranks non-applicants badly (docs/screening.md). The recorded view is one snapshot: the
    sample of earlier quarters is described by today's records (entitlement persists; the time split's
    test quarter is the registry's own quarter). The group is the family (a family verified in several
    quarters stays on one side of every split)."""
    from atauly.law.compute import compute
    from atauly.registry import load_registry

    directory = Path(directory)
    ver, quarter = _verification(directory)
    reg, _report = load_registry(directory, "recorded", skip_invalid=True)
    fam_ids = reg.families["family_id"].astype(str)
    wanted = fam_ids.isin(set(ver["family_id"].astype(str))).to_numpy()
    sub = reg.take(wanted)
    law = compute(sub, quarter)
    if progress:
        progress(int(wanted.sum()), int(wanted.sum()))
    start = Quarter.parse(quarter).start_time
    features = family_features(sub, law, start)
    numeric, categorical = feature_columns(features)  # the dwelling's columns only where present
    X_fam = prepare(features, numeric, categorical)
    pos = pd.Index(sub.families["family_id"].astype(str)).get_indexer(ver["family_id"].astype(str))
    ver, pos, notes = _non_applicants(ver, pos)
    audit = audit_groups(sub, law["members"].to_numpy()).iloc[pos].reset_index(drop=True)
    income = None
    if "true_per_capita_income" in ver and "poverty_line" in ver:
        income = ver["true_per_capita_income"].to_numpy(dtype=float) / np.maximum(
            ver["poverty_line"].to_numpy(dtype=float), 1.0
        )
    y = ver["true_eligible"].to_numpy(dtype=bool)
    return Dataset(
        X=X_fam.iloc[pos].reset_index(drop=True),
        y=y,
        ids=(ver["family_id"].astype(str) + ":" + ver["quarter"].astype(str)).to_numpy(),
        groups=ver["family_id"].astype(str).to_numpy(),
        audit=audit,
        kind="registry",
        target="verified_entitled",
        numeric=numeric,
        categorical=categorical,
        period=ver["quarter"].astype(str).to_numpy(),
        truth=y.copy(),
        income=income,
        rules={"law_on_recorded_data": law["eligible"].to_numpy(dtype=bool)[pos]},
        notes=notes,
        view="recorded",
        population=population_frame(directory, quarter),
        scan_amounts=_scan_amounts(law, ver, pos, y),
    )


def _verification(directory: Path) -> tuple[pd.DataFrame, str]:
    """The verification sample and the registry's quarter (its manifest's, else the sample's latest)."""
    import json

    if not has_verification(directory):
        raise DataError(f"{directory} has no verification/ sample and recorded/ view")
    ver = read_registry_table(directory, "verification")
    for col in ("family_id", "quarter", "true_eligible"):
        if col not in ver:
            raise DataError(f"verification lacks the column {col}")
    manifest = directory / "manifest.json"
    quarter = None
    if manifest.exists():
        quarter = json.loads(manifest.read_text(encoding="utf-8")).get("quarter")
    return ver, str(quarter or max(ver["quarter"].astype(str)))


def _non_applicants(ver: pd.DataFrame, pos: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The sample's rows with a valid family in the recorded view that did not apply that quarter."""
    notes = []
    missing = int((pos < 0).sum())
    if missing:
        notes.append(
            f"{missing} verified rows have no valid family in recorded/ (absent or failing the data contract): left out"
        )
    keep = pos >= 0
    if "applied" in ver:
        # The scan's question is about families that did not apply (it never offers to applicants): the
        # sample's applicants, far more often entitled, would raise every non-applicant's probability.
        applied = ver["applied"].fillna(False).to_numpy(dtype=bool)
        notes.append(f"{int((keep & applied).sum()):,} verified families that applied that quarter left out")
        keep &= ~applied
    ver = ver.loc[keep].reset_index(drop=True)
    pos = pos[keep]
    notes.append(
        f"labels: the verification sample ({len(ver):,} verified family-quarters, {ver['quarter'].nunique()} quarters, "
        f"{int(ver['true_eligible'].sum()):,} entitled), features from today's recorded view"
    )
    if "random_sample" in ver:
        notes.append(
            f"sample design: {int(ver['random_sample'].sum()):,} drawn at random, the rest from the stratum where "
            "records show income below the line (drawn on records alone: P(entitled | records) stays unbiased)"
        )
    return ver, pos, notes


def _scan_amounts(law: pd.DataFrame, ver: pd.DataFrame, pos: np.ndarray, y: np.ndarray) -> dict | None:
    """What an entitled family truly receives vs the law's amount on its records: the records miss
    informal income, so the records' amount overstates; the scan's budget forecast is scaled by it."""
    if "true_monthly_amount" not in ver:
        return None
    on_records = (
        law["asp_monthly_amount"].to_numpy(float) + law["child_supplement_monthly"].to_numpy(float)
    )[pos]
    true_amount = ver["true_monthly_amount"].fillna(0).to_numpy(dtype=float)
    # A stratified sample: each family counts 1 / its chance of being drawn (population totals).
    weight = (
        1 / ver["sampling_probability"].to_numpy(float) if "sampling_probability" in ver else np.ones(len(y))
    )
    gap = (
        1 - law["per_capita_income"].to_numpy(float) / np.maximum(law["poverty_line"].to_numpy(float), 1.0)
    )[pos]
    raw_true, raw_records = true_amount, on_records
    true_amount, on_records = true_amount * weight, on_records * weight
    records_sum = float(on_records[y].sum())
    overall = float(true_amount[y].sum() / records_sum) if records_sum > 0 else 1.0
    return {
        "entitled": int(y.sum()),
        "true_monthly_amount": float(true_amount[y].sum()),
        "records_monthly_amount": records_sum,
        "ratio": overall,
        "by_gap": _amount_bins(raw_true, raw_records, weight, gap, y, overall),
    }


def _amount_bins(true_amount, on_records, weight, gap, y, overall: float) -> list[dict]:
    """Per bin of the records' gap (:data:`AMOUNT_GAP_EDGES`), over the sample's entitled families
    (weighted by 1 / their chance of being drawn): the ratio of true to recorded monthly amount and the
    mean true amount. The records miss informal income, and the more so the poorer they look: at scale
    0.05 the ratio was 0.63 for gaps up to a quarter and 0.34 beyond three quarters, where the scan's
    offers are; one ratio for all overstated the offers' budget by 57%. A bin with fewer than
    :data:`MIN_AMOUNT_BIN` entitled families takes the overall ratio (and the overall mean)."""
    index = gap_bin(gap)
    mean_all = float(np.average(true_amount[y], weights=weight[y])) if y.any() else 0.0
    bins = []
    for k in range(len(AMOUNT_GAP_EDGES) + 1):
        here = y & (index == k)
        n = int(here.sum())
        w = weight[here]
        records = float((on_records[here] * w).sum())
        enough = n >= MIN_AMOUNT_BIN
        bins.append(
            {
                "upper": AMOUNT_GAP_EDGES[k] if k < len(AMOUNT_GAP_EDGES) else None,
                "entitled": n,
                "ratio": float((true_amount[here] * w).sum() / records)
                if enough and records > 0
                else overall,
                "mean_true_amount": float(np.average(true_amount[here], weights=w)) if enough else mean_all,
            }
        )
    return bins


#: The records' gap to the poverty line (1 − per-capita income ÷ line) that bounds the bins of the
#: budget forecast's amounts (:func:`_scan_amounts`): a family with no income on record has gap 1.
AMOUNT_GAP_EDGES = (0.0, 0.25, 0.5, 0.75, 0.9)
#: Entitled families of the sample a gap bin needs for its own ratio (below: the ratio over every
#: family with a positive amount on records).
MIN_AMOUNT_BIN = 20


def log_odds(p, floor: float = 1e-6) -> np.ndarray:
    """log(p / (1 − p)), with p kept within [floor, 1 − floor]."""
    p = np.clip(np.asarray(p, dtype=float), floor, 1 - floor)
    return np.log(p / (1 - p))


def score_floor(trees: int | None) -> float:
    """The smallest forest score the scan's map tells apart: half of one tree's vote, 1 / (2·trees).
    A forest's score of 0 means "no tree voted", not a log-odds of −∞: left at 1e-6, the many families
    no tree voted for (a fifth of the sample at scale 0.005) sit at log-odds −13.8, and Platt's slope
    bends to reach them and flattens the map at the top (a = −0.45 at scale 0.005 seed 9; −1.09 with
    this floor)."""
    return 0.5 / trees if trees else 1e-6


def scan_calibration(raw, y, floor: float = 1e-6) -> dict | None:
    """The scan's population calibration (issue 15): Platt's logistic map on the **log-odds** of the
    forest's raw score, fitted on the same held-out rows as the model's own calibration, as
    ``{"method": "platt_log_odds", "a", "b", "rows", "positive"}`` with p = 1 / (1 + exp(a·logit(raw) + b))
    (scikit-learn's sign convention). The model's own map (Platt on the raw score, with a few dozen
    entitled families) extrapolates the forest's thin tail to p ≈ 1: at scale 0.05 the 162 families
    it gave 0.996 were 66% entitled and the forecast of entitled found overstated by 46%. On the log-odds
    scale the forest's scores, crowded near 0, spread out and two parameters fit the tail (Kull et al.
    2017, beta calibration with equal shape parameters). None without both classes."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return None
    a, b = platt(log_odds(raw, floor), y)
    if a >= 0:  # a map that falls with the score: the sample cannot rank; the base rate for everyone
        a, b = 0.0, float(-log_odds(y.mean()))
    return {
        "method": "platt_log_odds",
        "a": a,
        "b": b,
        "floor": float(floor),
        "rows": len(y),
        "positive": int(y.sum()),
    }


def platt(x, y) -> tuple[float, float]:
    """Platt's sigmoid fit (Platt 1999, as scikit-learn's ``CalibratedClassifierCV(method="sigmoid")``):
    ``(a, b)`` of p = 1 / (1 + exp(a·x + b)) minimising the log loss against Platt's smoothed targets
    (N₊+1)/(N₊+2) and 1/(N₋+2), by L-BFGS with the exact gradient; scikit-learn's fitting class is
    private, so the same objective is written here on SciPy's public functions."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=bool)
    pos = int(y.sum())
    neg = len(y) - pos
    target = np.where(y, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))

    def loss(ab):
        z = ab[0] * x + ab[1]
        value = -(target * log_expit(-z) + (1 - target) * log_expit(z)).sum()
        d = target - expit(-z)  # ∂loss/∂z
        return value, np.array([(d * x).sum(), d.sum()])

    start = np.array([0.0, math.log((neg + 1.0) / (pos + 1.0))])
    fit = minimize(loss, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "maxiter": 1000})
    return float(fit.x[0]), float(fit.x[1])


def apply_scan_calibration(calibration: dict, raw) -> np.ndarray:
    """The probability of :func:`scan_calibration`'s map for raw forest scores."""
    z = calibration["a"] * log_odds(raw, calibration.get("floor", 1e-6)) + calibration["b"]
    return 1.0 / (1.0 + np.exp(np.clip(z, -700, 700)))


def gap_bin(gap) -> np.ndarray:
    """The index of each gap's bin: 0 for gap ≤ 0 (the records show no entitlement), then by
    :data:`AMOUNT_GAP_EDGES`."""
    return np.searchsorted(np.asarray(AMOUNT_GAP_EDGES), np.asarray(gap, dtype=float), side="left")


def expected_true_amount(amounts: dict, records_amount, gap) -> np.ndarray:
    """The monthly amount a family would truly receive if it is truly entitled, from what its records
    show: the law's amount on records × the sample's ratio of true to recorded amount among the entitled
    of its gap bin (:func:`_scan_amounts`); for a family the records find not entitled (amount 0), the
    mean true amount of the sample's entitled in that bin. Older models (one ratio) scale by it."""
    records_amount = np.asarray(records_amount, dtype=float)
    bins = amounts.get("by_gap")
    ratio = float(amounts.get("ratio") or 1.0)
    if not bins:
        return records_amount * ratio
    index = gap_bin(gap)
    ratios = np.array([b["ratio"] for b in bins], dtype=float)
    means = np.array([b["mean_true_amount"] for b in bins], dtype=float)
    return np.where(records_amount > 0, records_amount * ratios[index], means[index])
