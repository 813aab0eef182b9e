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
4. **Precision–coverage curve**: the model's national ranking (probability of entitlement) against the
   law-only ranking, at 100, 200, 500, 1,000, 2,000 and 5,000 offers (coverage: share of the truly
   entitled candidates' families found).
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
        return [float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]

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
        "precision_coverage": curve,
        "bootstrap": {"draws": args.boot, "unit": "district", "paired": True},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
