"""Benchmark: bring-your-own-data on real tables that ship inside installed packages, and on the
synthetic registry (issue 16). Nothing is downloaded.

    .venv/bin/python benchmarks/bench_byod.py [--folds 5] [--scale 0.01] [--only fair,cancer,registry]
        [--out FILE.json]

Data sets (real, bundled with the packages):

- ``fair``: statsmodels' Fair (1978) extramarital-affairs survey of 6,366 women (Redbook magazine, 1974):
  target "any affair" (32% positive), 8 survey answers. Written as a Ministry export would be: a
  Windows-1251 CSV with ';', the target as да/нет, a row number, an all-empty column and the occupation
  codes as text.
- ``cancer``: scikit-learn's Wisconsin breast cancer table (569 biopsies, 30 measurements; target
  malignant, 37%), written as ``.xlsx`` with a constant column and a yes/no column.
- ``registry``: the historical applications of a synthetic registry (``atauly registry generate``),
  officer decisions as the label, families as groups.

Each table is read by ``load_table`` exactly as ``atauly model train --data`` reads it (no hand edits).
Then, on the same ``--folds`` grouped, stratified folds, three learners are trained on each fold's
training part and scored on its test part:

- the stored model's procedure (``train._fit_split`` of ``atauly model train --data``: the forest search,
  500 trees, cross-fitted calibration);
- its baselines (logistic regression, gradient boosting), fitted and calibrated the same way;
- the reference: scikit-learn's forest of 500 trees with balanced class weights, default otherwise.

Reported per data set: mean ROC-AUC over folds (and pooled), exclusion error when as many families are
recommended as the base rate (per fold), and the time of the whole training as ``atauly model train``
does it after reading the table (search, fit, baselines, bootstrap intervals, gate, report, card and
the stored model), wall and CPU, step by step, with the load average.
Targets: stored ROC-AUC ≥ best baseline − 0.005 and ≥ the reference forest; exclusion error at the base
rate ≤ the reference's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from atauly.model import ModelStore, TrainConfig, load_applications, load_table, train_and_store
from atauly.model.estimators import tree_preprocessor
from atauly.model.select import folds
from atauly.model.train import _baselines, _fit_split


def cpu_seconds() -> float:
    """CPU seconds of this process (all threads) and of any worker processes it waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class StepClock:
    """A progress callback that keeps each step's wall and CPU seconds."""

    def __init__(self) -> None:
        self.table: list[tuple[str, float, float]] = []
        self._open: tuple[str, float, float] | None = None

    def __call__(self, label: str) -> None:
        now, cpu = time.perf_counter(), cpu_seconds()
        if self._open:
            name, t0, c0 = self._open
            self.table.append((name, now - t0, cpu - c0))
        self._open = (label, now, cpu)


def fair_table(directory: Path) -> tuple[Path, dict]:
    import statsmodels.api as sm

    d = sm.datasets.fair.load_pandas().data
    occupations = {1: "студентка", 2: "рабочая", 3: "служащая", 4: "учитель", 5: "менеджер", 6: "специалист"}
    frame = pd.DataFrame(
        {
            "№": np.arange(1, len(d) + 1),
            "оценка_брака": d["rate_marriage"].astype(int),
            "возраст": d["age"].map(lambda v: f"{v:g}".replace(".", ",")),
            "лет_в_браке": d["yrs_married"].map(lambda v: f"{v:g}".replace(".", ",")),
            "дети": d["children"].map(lambda v: f"{v:g}".replace(".", ",")),
            "религиозность": d["religious"].astype(int),
            "образование": d["educ"].astype(int),
            "профессия": d["occupation"].astype(int).map(occupations),
            "профессия_мужа": d["occupation_husb"].astype(int).map(occupations),
            "примечание": "",
            "связь": np.where(d["affairs"] > 0, "да", "нет"),
        }
    )
    path = directory / "fair.csv"
    frame.to_csv(path, index=False, sep=";", encoding="cp1251")
    return path, {"target": "связь"}


def cancer_table(directory: Path) -> tuple[Path, dict]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame.insert(0, "biopsy_id", [f"B{i:05d}" for i in range(len(frame))])
    frame["lab"] = "Wisconsin"  # constant
    frame["large_radius"] = np.where(frame["mean radius"] > 15, "yes", "no")
    frame["malignant"] = np.where(data.target == 0, "yes", "no")
    path = directory / "cancer.xlsx"
    frame.to_excel(path, index=False)
    return path, {"target": "malignant"}


def reference_forest(ds, seed: int, n_jobs: int) -> Pipeline:
    return Pipeline(
        [
            ("prep", tree_preprocessor(ds.numeric, ds.categorical)),
            (
                "forest",
                RandomForestClassifier(
                    n_estimators=500, class_weight="balanced", random_state=seed, n_jobs=n_jobs
                ),
            ),
        ]
    )


def exclusion_at_base_rate(y, prob) -> float:
    """Share of positives not among the ceil(base rate × n) highest scores."""
    y = np.asarray(y, dtype=bool)
    k = max(math.ceil(y.mean() * len(y)), 1)
    top = np.argsort(-np.asarray(prob), kind="stable")[:k]
    chosen = np.zeros(len(y), dtype=bool)
    chosen[top] = True
    return float((y & ~chosen).sum() / max(y.sum(), 1))


def compare_on_folds(ds, k: int, config: TrainConfig) -> dict:
    cv = folds(ds.y, ds.groups, k, config.seed)
    pooled = {"stored": np.full(len(ds), np.nan), "reference": np.full(len(ds), np.nan)}
    per_fold: dict[str, list] = {}
    seconds = {"stored": 0.0, "reference": 0.0}
    for i, (tr, te) in enumerate(cv):
        test = ds.take(te)
        t0 = time.perf_counter()
        model, _thr, _pol, held, _table, fitted, _s = _fit_split(
            ds, tr, None, config, lambda _s: None, f"f{i}"
        )
        seconds["stored"] += time.perf_counter() - t0
        probs = {"stored": model.predict_proba(test.X)[:, 1]}
        _results, base = _baselines(ds, held, test, config)
        probs |= {name: p for name, (p, _rec) in base.items()}
        t0 = time.perf_counter()
        ref = reference_forest(ds, config.seed, config.n_jobs).fit(ds.X.iloc[tr], ds.y[tr])
        seconds["reference"] += time.perf_counter() - t0
        probs["reference"] = ref.predict_proba(test.X)[:, 1]
        for name, p in probs.items():
            entry = per_fold.setdefault(name, [])
            entry.append(
                {"roc_auc": roc_auc_score(test.y, p), "excl_at_base_rate": exclusion_at_base_rate(test.y, p)}
            )
            pooled.setdefault(name, np.full(len(ds), np.nan))[te] = p
        print(
            f"  fold {i + 1}/{len(cv)}: "
            + ", ".join(f"{n} {v[-1]['roc_auc']:.4f}" for n, v in per_fold.items())
            + f"  (chosen: {fitted.get('class_weight')}, leaf {fitted.get('min_samples_leaf')}, "
            f"features {fitted.get('max_features')})",
            flush=True,
        )
    out = {}
    for name, rows in per_fold.items():
        out[name] = {
            "roc_auc_mean": float(np.mean([r["roc_auc"] for r in rows])),
            "roc_auc_pooled": float(roc_auc_score(ds.y, pooled[name])),
            "excl_at_base_rate_mean": float(np.mean([r["excl_at_base_rate"] for r in rows])),
            "folds": rows,
        }
    baselines = [n for n in out if n not in ("stored", "reference")]
    best = max(baselines, key=lambda n: out[n]["roc_auc_mean"]) if baselines else None
    s, r = out["stored"], out["reference"]
    paired = {}
    for rival in [n for n in ("reference", best) if n]:
        for metric in ("roc_auc", "excl_at_base_rate"):
            d = np.array(
                [a[metric] - b[metric] for a, b in zip(s["folds"], out[rival]["folds"], strict=True)]
            )
            half = (
                float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
            )
            paired[f"stored_minus_{rival}_{metric}"] = {
                "mean": float(d.mean()),
                "ci95_over_folds": [float(d.mean() - half), float(d.mean() + half)],
            }
    targets = {
        "auc_vs_best_baseline": (best is None) or s["roc_auc_mean"] >= out[best]["roc_auc_mean"] - 0.005,
        "auc_vs_reference": s["roc_auc_mean"] >= r["roc_auc_mean"],
        "excl_vs_reference": s["excl_at_base_rate_mean"] <= r["excl_at_base_rate_mean"],
    }
    return {
        "folds": len(cv),
        "learners": out,
        "best_baseline": best,
        "fit_seconds": seconds,
        "paired_over_folds": paired,
        "targets": {k: bool(v) for k, v in targets.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=0.01, help="synthetic registry scale")
    parser.add_argument("--only", default="fair,cancer,registry")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = TrainConfig(search_mode="forest", policy="coverage", min_roc_auc=None, n_jobs=args.jobs)
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sets = {}
        for name in args.only.split(","):
            if name == "fair":
                path, opts = fair_table(tmp)
                sets[name] = lambda p=path, o=opts: load_table(p, o["target"])
            elif name == "cancer":
                path, opts = cancer_table(tmp)
                sets[name] = lambda p=path, o=opts: load_table(p, o["target"])
            elif name == "registry":
                from atauly.law.compute import compute
                from atauly.registry.synthetic import generate

                generate(args.scale, 5, tmp / "registry", law=compute)
                sets[name] = lambda: load_applications(tmp / "registry")
        for name, load in sets.items():
            print(f"{name}:", flush=True)
            ds = load()
            dropped = [r for r in ds.ingestion if r["action"] == "dropped"]
            converted = [r for r in ds.ingestion if r["action"] == "converted"]
            print(
                f"  {len(ds):,} rows, {ds.y.mean():.1%} positive, {len(ds.numeric)} numeric + "
                f"{len(ds.categorical)} categorical features; dropped: "
                + ("; ".join(f"{r['column']} ({r['reason']})" for r in dropped) or "none")
                + f"; converted: {len(converted)}",
                flush=True,
            )
            load_before = os.getloadavg()[0]
            steps = StepClock()
            t0, c0 = time.perf_counter(), cpu_seconds()
            with tempfile.TemporaryDirectory() as models:
                # What `atauly model train --data` does after reading the table: train, then store the
                # model with its report and card.
                _stored, result, _ = train_and_store(ds, ModelStore(Path(models)), "b", name, config, steps)
            steps("done")
            train_seconds = time.perf_counter() - t0
            train_cpu = cpu_seconds() - c0
            gate = result.metrics["quality_gate"]
            print(
                f"  whole training and storing {train_seconds:.1f} s ({train_cpu:.1f} CPU s, load "
                f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after); gate "
                f"{'passed' if gate['passed'] else 'FAILED'}: {gate['reason']}"
            )
            for label, wall, cpu in steps.table:
                print(f"    {label:<58} {wall:6.2f} s  {cpu:6.2f} CPU s")
            cmp = compare_on_folds(ds, args.folds, config)
            s, r = cmp["learners"]["stored"], cmp["learners"]["reference"]
            b = cmp["learners"].get(cmp["best_baseline"], {})
            print(
                f"  ROC-AUC (mean of {cmp['folds']} folds): stored {s['roc_auc_mean']:.4f}, reference forest "
                f"{r['roc_auc_mean']:.4f} (ratio {s['roc_auc_mean'] / r['roc_auc_mean']:.4f}), best baseline "
                f"{cmp['best_baseline']} {b.get('roc_auc_mean', float('nan')):.4f}"
            )
            for key, v in cmp["paired_over_folds"].items():
                print(
                    f"  {key}: {v['mean']:+.4f} [{v['ci95_over_folds'][0]:+.4f}, {v['ci95_over_folds'][1]:+.4f}]"
                )
            print(
                f"  exclusion error at the base rate: stored {s['excl_at_base_rate_mean']:.4f}, reference "
                f"{r['excl_at_base_rate_mean']:.4f}; targets: {cmp['targets']}",
                flush=True,
            )
            summary[name] = {
                "rows": len(ds),
                "positive_share": float(ds.y.mean()),
                "dropped_columns": dropped,
                "train_seconds": train_seconds,
                "train_cpu_seconds": train_cpu,
                "train_steps": steps.table,
                "load_average": [load_before, os.getloadavg()[0]],
                "comparison_in_train": result.metrics["comparison"],
                "quality_gate": gate,
                "threshold": result.metrics["threshold"],
                **cmp,
            }
    text = json.dumps(summary, indent=2, default=str, ensure_ascii=False)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(
        json.dumps(
            {
                k: {
                    "targets": v["targets"],
                    "train_seconds": round(v["train_seconds"], 1),
                    "train_cpu_seconds": round(v["train_cpu_seconds"], 1),
                }
                for k, v in summary.items()
            }
        )
    )


if __name__ == "__main__":
    main()
