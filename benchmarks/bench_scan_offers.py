"""Benchmark (issue 15): does the scan's offers find need? Measured against the synthetic truth.

    .venv/bin/python benchmarks/bench_scan_offers.py --scan SCAN_DIR --truth TRUTH.parquet [--boot 1000]

``SCAN_DIR``: a finished `atauly screen` run (with a model trained by `atauly model train --view recorded`
on the verification sample); ``TRUTH.parquet``: `atauly law compute --view truth` of the same quarter
(evaluation only: the truth is never an input of the scan).

1. **Offers**: how many, and the share that go to truly entitled families (target ≥ 50%).
2. **Model vs the law-only ranking at an equal number of offers** (the scan's offers; and, in
   ``at_full_capacity``, every district's capacity filled by each ranking whatever the minimum
   probability): in every district the law-only
   ranking (issue 6's order among the families the law on records finds entitled: well-being level, then
   the gap to the poverty line) makes as many offers as the model did; truly entitled found by each, the
   ratio (target ≥ 2×) and the difference, with a **paired bootstrap** over districts (the same resampled
   districts for both rankings; 95% percentile intervals).
3. **Forecast vs what happens**: the forecast of truly entitled found (Σ p) and of the monthly budget
   (Σ p × the law's amount on records) against the realised count and the truly entitled families' true
   amount (the consent rate multiplies both sides, so it cancels in the ratio; target within ±20%).
4. **After a quarter** (``--registry``: the generated registry the scan read): each offered family
   replies with the world's probability of applying (:mod:`atauly.screening.replies`), the law on its
   true data decides; take-up and budget realised (one simulated quarter, and the mean of ``--draws``)
   against the report's forecast at ``--consent-rate`` (an assumption) and at the reply rate the
   simulated quarter showed (what the next quarter's forecast can use).
5. **Each candidate map** (``--store``: the model store; the map's alternatives kept with the model):
   the offers each would make (the same ranking, its own minimum-probability cut) and its forecast of
   entitled found against the realised.
6. **Precision–coverage curve**: the model's national ranking (probability of entitlement) against the
   law-only ranking, at 100, 200, 500, 1,000, 2,000 and 5,000 offers (coverage: share of the truly
   entitled candidates' families found).
7. **Earlier visits** (``earlier_visit``): offers and candidates with and without an earlier verification
   visit that found the family entitled (the map's history input), truly entitled and forecast.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd

from atauly.screening import read_candidates
from atauly.screening.report import forecast

LEVEL = {"E": 0, "D": 1, "C": 2, "B": 3, "A": 4}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scan", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--registry", help="the generated registry: simulate replies to the offers")
    ap.add_argument("--consent-rate", type=float, default=0.5)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--store", help="the model store: compare the scan map's alternatives")
    args = ap.parse_args(argv)

    cand = read_candidates(args.scan)
    summary = pd.read_parquet(f"{args.scan}/summary")
    truth = pd.read_parquet(args.truth)
    truth["true_amount"] = truth["asp_monthly_amount"].fillna(0) + truth["child_supplement_monthly"].fillna(0)
    truth = truth.set_index(truth["family_id"].astype(str))
    cand["truly"] = cand["family_id"].map(truth["eligible"]).fillna(False).astype(bool).to_numpy()
    cand["true_amount"] = cand["family_id"].map(truth["true_amount"]).fillna(0.0).to_numpy()

    # The law-only ranking: entitled by law on records, most in need first (issue 6's order).
    law = cand[cand["eligible_by_law"]].copy()
    law["_level"] = law["wellbeing_level"].map(LEVEL)
    law = law.sort_values(
        ["district", "_level", "need_gap", "family_id"], ascending=[True, True, False, True], kind="mergesort"
    )
    law["law_rank"] = law.groupby("district").cumcount() + 1
    n_offers = cand.groupby("district")["offered"].sum()
    districts = sorted(cand["district"].unique())

    def ci(values) -> list[float]:
        # No interpolation between draws: a draw with no law-only find has an infinite ratio, and
        # interpolating towards it gave NaN for the upper bound.
        return [float(np.quantile(values, q, method="inverted_cdf")) for q in (0.025, 0.975)]

    def paired(model_pick: pd.Series, per_district: pd.Series) -> tuple[np.ndarray, np.ndarray, dict]:
        """Truly entitled found by the model's pick and by the law-only ranking's first
        ``per_district`` families of each district, with a paired bootstrap over districts."""
        law_pick = law[law["law_rank"] <= law["district"].map(per_district).fillna(0).to_numpy()]
        m = (
            cand[model_pick]
            .groupby("district")["truly"]
            .sum()
            .reindex(districts, fill_value=0)
            .to_numpy(float)
        )
        lw = law_pick.groupby("district")["truly"].sum().reindex(districts, fill_value=0).to_numpy(float)
        rng = np.random.default_rng(args.seed)
        ratios, diffs = [], []
        for _ in range(args.boot):
            idx = rng.integers(0, len(districts), len(districts))
            ms, ls = m[idx].sum(), lw[idx].sum()
            diffs.append(ms - ls)
            ratios.append(ms / ls if ls else np.inf)
        o = float(cand[model_pick].shape[0])
        return (
            m,
            lw,
            {
                "offers": int(o),
                "model_truly_entitled": int(m.sum()),
                "law_only_truly_entitled": int(lw.sum()),
                "model_precision": float(m.sum() / max(o, 1)),
                "law_only_precision": float(lw.sum() / max(o, 1)),
                "ratio": float(m.sum() / lw.sum()) if lw.sum() else None,
                "ratio_ci": ci(ratios),
                "difference": float(m.sum() - lw.sum()),
                "difference_ci": ci(diffs),
            },
        )

    m, lw, ratios_diffs = paired(cand["offered"].to_numpy(dtype=bool), n_offers)
    o = n_offers.reindex(districts, fill_value=0).to_numpy(float)
    # Every visit used: each district's capacity best-ranked by the model vs by the law (whatever the
    # minimum probability), the comparison at an equal number of offers that does not depend on it.
    capacity = cand.groupby("district")["capacity"].first()
    at_capacity = paired((cand["rank"] <= cand["capacity"]).to_numpy(), capacity)[2]

    off = cand[cand["offered"]]
    fc = forecast(summary, 1.0)
    fc90 = forecast(summary, 1.0, z=1.645)
    realised_budget = float(off.loc[off["truly"], "true_amount"].sum())
    pool_truly = int(cand["truly"].sum())
    curve = []
    by_model = cand.sort_values(["probability_entitled", "family_id"], ascending=[False, True])
    by_law = law.sort_values(["_level", "need_gap", "family_id"], ascending=[True, False, True])
    for k in (100, 200, 500, 1000, 2000, 5000):
        if k > len(cand):
            break
        mk, lk = int(by_model["truly"].head(k).sum()), int(by_law["truly"].head(k).sum())
        curve.append(
            {
                "offers": k,
                "model_precision": mk / k,
                "model_coverage": mk / max(pool_truly, 1),
                "law_precision": lk / k,
                "law_coverage": lk / max(pool_truly, 1),
            }
        )
    result = {
        "candidates": len(cand),
        "truly_entitled_candidates": pool_truly,
        "capacity": int(summary["capacity"].sum()),
        "offers": int(o.sum()),
        "offers_truly_entitled": int(m.sum()),
        "offers_precision": float(m.sum() / max(o.sum(), 1)),
        "law_only_same_offers_truly_entitled": int(lw.sum()),
        "law_only_precision": float(lw.sum() / max(o.sum(), 1)),
        "ratio_model_to_law": float(m.sum() / lw.sum()) if lw.sum() else None,
        "ratio_ci": ratios_diffs["ratio_ci"],
        "difference": float(m.sum() - lw.sum()),
        "difference_ci": ratios_diffs["difference_ci"],
        "at_full_capacity": at_capacity,
        "forecast_entitled_found": fc["entitled_found"],
        "realised_entitled_found": int(m.sum()),
        "forecast_budget_at_full_consent": fc["monthly_budget"],
        "realised_budget_at_full_consent": realised_budget,
        "budget_forecast_to_realised": fc["monthly_budget"]["mean"] / realised_budget
        if realised_budget
        else None,
        "found_forecast_to_realised": fc["entitled_found"]["mean"] / m.sum() if m.sum() else None,
        "forecast_calibration_replicates": fc.get("calibration_replicates", 0),
        "found_within_interval": bool(fc["entitled_found"]["low"] <= m.sum() <= fc["entitled_found"]["high"]),
        "budget_within_interval": bool(
            fc["monthly_budget"]["low"] <= realised_budget <= fc["monthly_budget"]["high"]
        ),
        # The 90% intervals (z = 1.645) and the noise the counts alone carry (the binomial sd of who
        # turns out entitled, relative to the forecast): at scale 0.005 the offers are 15–40 families.
        "found_within_90": bool(fc90["entitled_found"]["low"] <= m.sum() <= fc90["entitled_found"]["high"]),
        "budget_within_90": bool(
            fc90["monthly_budget"]["low"] <= realised_budget <= fc90["monthly_budget"]["high"]
        ),
        "forecast_entitled_found_90": fc90["entitled_found"],
        "forecast_budget_90": fc90["monthly_budget"],
        "found_binomial_relative_sd": float(
            np.sqrt(max(fc["entitled_found"]["mean"] - summary["sum_p2"].sum(), 0))
        )
        / max(fc["entitled_found"]["mean"], 1e-9),
        "amounts": amounts_check(off),
        "precision_coverage": curve,
        "earlier_visit": visit_split(cand),
        "bootstrap": {"draws": args.boot, "unit": "district", "paired": True},
    }
    if args.registry:
        result["after_a_quarter"] = after_a_quarter(args, off, summary, truth)
    if args.store:
        result["maps"] = maps(args, cand)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return result


def amounts_check(off: pd.DataFrame) -> dict:
    """The amounts alone: over the offered families that turn out truly entitled, the forecast's amount
    if entitled (``amount_if_entitled``; the law's amount on records for a scan without it) against
    their true amount, overall and by what the amount rests on (``amount_basis``)."""
    truly = off[off["truly"]]
    a = truly["amount_if_entitled"] if "amount_if_entitled" in truly else truly["monthly_amount"]
    basis = truly["amount_basis"] if "amount_basis" in truly else pd.Series("records", index=truly.index)
    out = {}
    for name, rows in [("all", np.ones(len(truly), dtype=bool))] + [
        (b, (basis == b).to_numpy()) for b in sorted(basis.unique())
    ]:
        real = float(truly["true_amount"].to_numpy()[rows].sum())
        fore = float(a.to_numpy()[rows].sum())
        out[name] = {
            "families": int(rows.sum()),
            "forecast": fore,
            "true": real,
            "forecast_to_true": fore / real if real else None,
        }
    return out


def visit_split(cand: pd.DataFrame) -> dict:
    """Offers and candidates with and without an earlier visit that found the family entitled (the map's
    history input): how many, how many truly entitled, and the forecast Σ p."""
    seen = cand["visit_entitled_quarter"].to_numpy(dtype=str) != ""
    out = {}
    for name, rows in (("with_visit", seen), ("without_visit", ~seen)):
        for part, mask in (("candidates", rows), ("offers", rows & cand["offered"].to_numpy(dtype=bool))):
            out[f"{name}_{part}"] = {
                "n": int(mask.sum()),
                "truly_entitled": int(cand["truly"].to_numpy()[mask].sum()),
                "sum_p": float(cand["probability_entitled"].to_numpy()[mask].sum()),
            }
    return out


def after_a_quarter(args, off: pd.DataFrame, summary: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Replies simulated with the world's take-up model; the forecast at the assumed consent rate and at
    the reply rate of one simulated quarter, against that quarter and the mean over ``--draws``."""
    from atauly.screening.replies import simulate_replies, take_up_probability

    regions = sorted(off["region"].astype(str).unique())
    q = take_up_probability(args.registry, regions).set_index("family_id")["reply_probability"]
    one = simulate_replies(off, q, truth.reset_index(drop=True), seed=args.seed, draws=1).iloc[0]
    many = simulate_replies(off, q, truth.reset_index(drop=True), seed=args.seed + 1, draws=args.draws)
    observed_rate = float(one["replied"] / max(len(off), 1))

    def versus(c: float) -> dict:
        fc = forecast(summary, c)
        out = {"consent_rate": c}
        for key, real in (("take_up", "took_up"), ("monthly_budget", "monthly_budget")):
            f = fc[key]
            out[key] = {
                "forecast": f,
                "realised_one_quarter": float(one[real]),
                "realised_mean": float(many[real].mean()),
                "forecast_to_realised_mean": f["mean"] / float(many[real].mean())
                if many[real].mean()
                else None,
                "one_quarter_within_interval": bool(f["low"] <= one[real] <= f["high"]),
            }
        return out

    return {
        "offers": len(off),
        "reply_rate_one_quarter": observed_rate,
        "reply_rate_expected": float(off["family_id"].astype(str).map(q).mean()),
        "at_assumed_consent": versus(args.consent_rate),
        "at_observed_reply_rate": versus(observed_rate),
        "draws": args.draws,
    }


def maps(args, cand: pd.DataFrame) -> dict:
    """Each candidate map of the model's scan calibration: its offers (the same order, its own cut at the
    scan's minimum probability) and their forecast of truly entitled found against the realised."""
    from atauly.model import ModelStore
    from atauly.model.verified import apply_scan_calibration

    manifest = json.loads(open(f"{args.scan}/scan.json", encoding="utf-8").read())
    meta = ModelStore(args.store).load(manifest["model"]).metadata
    cal = meta["metrics"]["scan_calibration"]
    minimum = float(manifest.get("offers", {}).get("min_probability", 0.5))
    chosen = {k: v for k, v in cal.items() if k not in ("alternatives", "replicates", "grid")}
    out = {"chosen": cal["method"], "selection_log_loss": cal.get("selection")}
    within = (cand["rank"] <= cand["capacity"]).to_numpy()
    score = cand["scan_score"].to_numpy(dtype=float)
    # The history term (earlier visits) as fitted with the chosen map, on every map alike.
    visited = (cand["visit_entitled_quarter"].to_numpy(dtype=str) != "").astype(float)[:, None]
    for name, fitted in {cal["method"]: chosen, **cal.get("alternatives", {})}.items():
        extra = {"floor": cal.get("floor", 1e-6), "rows": cal.get("rows"), "history": cal.get("history")}
        p = apply_scan_calibration({**fitted, **extra}, score, visited)
        offered = within & (p >= minimum)
        found = float(p[offered].sum())
        real = int(cand["truly"].to_numpy()[offered].sum())
        top = np.argsort(-score, kind="stable")[:200]
        out[name] = {
            "offers": int(offered.sum()),
            "truly_entitled": real,
            "forecast_found": found,
            "forecast_to_realised": found / real if real else None,
            "top200_sum_p": float(p[top].sum()),
            "top200_truly": int(cand["truly"].to_numpy()[top].sum()),
        }
    return out


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
