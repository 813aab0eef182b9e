"""The world where need is hidden (issue 14): its figures for the default world and the high-informality
sensitivity, side by side, in the same run.

For each world (informal jobs 12.8% of all jobs, BNS 2023; and 33%, ILO-based estimates) it generates a
registry, calibrates it and trains the recommender on the application view and on the records-only view,
then prints: the R² of log true consumption on record-based proxies, the take-up among the truly
entitled, the home visit's accuracy, the system's exclusion and inclusion errors over the whole
population by region (Wilson 95% intervals), and the model vs the law on the same data at equal coverage
(paired family-bootstrap intervals) — on the test quarter (families held out of training; the new
families, never seen before that quarter, separately) and on a future quarter (2025Q4) of a world drawn
with a fresh seed (every family new to the model). The default world is the baseline of the ratios.
Numbers are reported whatever they are: the world is tuned to published magnitudes, not to the model.

    .venv/bin/python benchmarks/bench_world.py [--scale 0.05] [--seed 1] [--out DIR] [--no-future]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from atauly.law.compute import compute
from atauly.model import TrainConfig, load_applications
from atauly.model.evaluation import evaluate_model
from atauly.model.train import train
from atauly.registry.synthetic import SyntheticParams, generate
from atauly.registry.synthetic.calibrate import calibrate

WORLDS = {"default (12.8%)": 0.128, "high informality (33%)": 0.33}


def _ci(row: dict, name: str) -> str:
    value = row[name]
    if value is None or value != value or row[name + "_low"] is None:  # no family to count
        return "–"
    return f"{value:.2f} [{row[name + '_low']:.2f}, {row[name + '_high']:.2f}]"


def _share(value) -> str:
    return "–" if value is None or value != value else f"{value:.2f}"


def _diff(d: dict) -> str:
    if d["value"] is None:
        return "n/a"
    lo, hi = d["ci"]
    return f"{d['value']:+.4f}" + (f" [{lo:+.4f}, {hi:+.4f}]" if lo is not None else "")


FUTURE_QUARTER = "2025Q4"


def _equal_coverage(pop: dict) -> str:
    ec = pop["equal_coverage"]
    return (
        f"model vs {pop['law_name']} at equal coverage ({ec['selected']} selected): exclusion "
        f"{ec['model']['exclusion_error']:.3f} vs {ec['law']['exclusion_error']:.3f}, difference "
        f"{_diff(ec['difference']['exclusion_error'])}; inclusion {ec['model']['inclusion_error']:.3f} vs "
        f"{ec['law']['inclusion_error']:.3f}, difference {_diff(ec['difference']['inclusion_error'])}"
    )


def run_world(out: Path, scale: float, seed: int, share: float, future: bool = True) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    params = SyntheticParams(informal_employment_share=share)
    generate(scale, seed, out, params=params, law=compute, workers=2)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cal = calibrate(out, out.parent / (out.name + "-cal"), compute)
    cal_s = time.perf_counter() - t0
    future_dir = out.parent / (out.name + "-future")
    if future:  # a later quarter of a world drawn with a fresh seed: every family new to the model
        future_params = SyntheticParams(informal_employment_share=share, quarter=FUTURE_QUARTER)
        generate(scale, seed + 1000, future_dir, params=future_params, law=compute, workers=2)
    config = TrainConfig(
        trees=(40, 80),
        depths=(8, 12, 16),
        search_rows=30_000,
        n_boot=200,
        fairness_boot=20,
        grouped_time_split=True,
    )
    models = {}
    for view in ("application", "recorded"):
        result = train(load_applications(out, view=view), config)
        primary = result.metrics["splits"][result.metrics["primary_split"]]
        models[view] = {
            "population": result.metrics["population"],
            "gate": result.metrics["quality_gate"],
            "test_rows_of_families_seen_in_training": primary.get("test_rows_of_families_seen_in_training"),
            "new_families": primary["models"]["random_forest"].get("new_families"),
        }
        if future:
            ds = load_applications(future_dir, view=view)
            ds = ds.take(np.flatnonzero(ds.period == FUTURE_QUARTER))
            models[view]["future"] = evaluate_model(result.model, result.threshold, ds, n_boot=200).get(
                "population"
            )
    return {
        "generate_s": gen_s,
        "calibrate_s": cal_s,
        "cpu_s_main_process": time.process_time() - c0,
        "calibration": cal,
        "models": models,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="keep the registries and a JSON summary here")
    parser.add_argument("--no-future", action="store_true", help="skip the future quarter of a fresh world")
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="atauly-world-"))
    base.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, share in WORLDS.items():
        results[name] = run_world(base / f"world-{share}", args.scale, args.seed, share, not args.no_future)
    baseline = next(iter(results.values()))["calibration"]["layer_gaps"]
    for name, res in results.items():
        cal = res["calibration"]
        g = cal["layer_gaps"]
        print(
            f"\n== {name}: scale {args.scale}, seed {args.seed}; generate {res['generate_s']:.0f} s, "
            f"calibrate {res['calibrate_s']:.0f} s; headline targets {'ok' if cal['headline_ok'] else 'OFF'}"
        )
        print(
            f"informal share {g['informal_employment_share']:.3f}; proxy R² {g['proxy_r2_log_consumption']:.3f} "
            f"(× {g['proxy_r2_log_consumption'] / baseline['proxy_r2_log_consumption']:.2f} of the default); "
            f"take-up among the entitled {g['takeup_among_entitled']:.3f}; home visit right "
            f"{g['home_visit_correct_share']:.3f}; system exclusion {g['system_exclusion_error']:.3f}, "
            f"inclusion {g['system_inclusion_error']:.3f}"
        )
        print("| group | entitled | take-up | exclusion [95% CI] | inclusion [95% CI] |")
        for row in cal["population"]:
            flag = " (small)" if row["small_group"] else ""
            print(
                f"| {row['group']}{flag} | {row['entitled']} | {_share(row['takeup_among_entitled'])} | "
                f"{_ci(row, 'exclusion_error')} | {_ci(row, 'inclusion_error')} |"
            )
        for view, m in res["models"].items():
            pop = m["population"]
            print(f"{view} view, test quarter {pop['quarter']}: {_equal_coverage(pop)}")
            if pop.get("scored"):
                print(f"  scored: {pop['scored']}")
            new = m.get("new_families")
            if new and "vs_truth" in new:
                print(
                    f"  test rows of families seen in training: {m['test_rows_of_families_seen_in_training']}; "
                    f"new families ({new['rows']} applications, first in the test quarter): model vs truth "
                    f"exclusion {new['vs_truth']['exclusion_error']:.3f}, inclusion "
                    f"{new['vs_truth']['inclusion_error']:.3f}"
                )
            future = m.get("future")
            if future:
                print(f"  future quarter {future['quarter']}, fresh seed: {_equal_coverage(future)}")
            ver = pop.get("verification_sample")
            if ver:
                print(
                    f"  verification sample ({ver['families']} families, {ver['entitled']} entitled): exclusion "
                    f"difference {_diff(ver['equal_coverage']['difference']['exclusion_error'])}"
                )
            print(f"  quality gate: {'passed' if m['gate']['passed'] else 'failed'} — {m['gate']['reason']}")
    (base / "world.json").write_text(json.dumps(results, default=float, indent=1), encoding="utf-8")
    print(f"\nWrote {base / 'world.json'}")


if __name__ == "__main__":
    main()
