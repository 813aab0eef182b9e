"""Study: how many trees the stored forest needs (issue 16: training in seconds without losing accuracy).

    .venv/bin/python benchmarks/study_final_trees.py [--folds 5] [--trees 100,200,300,500] [--pool 1500]
        [--only fair,cancer,registry] [--scale 0.01] [--out FILE.json]

On bench_byod's data sets and folds: on each fold's training part the forest is chosen as ``atauly model
train --data`` chooses it (``train._fit_split``: the search, then the chosen forest fitted), but with
``--pool`` trees. Disjoint slices of that pool are forests of N trees (trees of one forest are independent
draws, so the slices [0, N), [N, 2N), … are independent N-tree forests of the chosen settings); each is
scored on the fold's test part: ROC-AUC and the exclusion error at the base rate. Per fold, the mean over
the slices of N trees minus the mean over the slices of the largest N is a paired difference; its mean
and a 95% t interval over folds are printed, with the spread (s.d.) of one N-tree forest's ROC-AUC —
a stored model is one such draw.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

from atauly.model import TrainConfig, load_applications, load_table
from atauly.model.estimators import forest_of
from atauly.model.select import folds
from atauly.model.train import _fit_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_byod import cancer_table, exclusion_at_base_rate, fair_table  # noqa: E402


def sliced(pipeline, start: int, stop: int):
    """The pipeline with the forest's trees [start, stop) only."""
    out = copy.copy(pipeline)
    rf = copy.copy(pipeline[-1])
    rf.estimators_ = pipeline[-1].estimators_[start:stop]
    rf.n_estimators = stop - start
    out.steps = [*pipeline.steps[:-1], (pipeline.steps[-1][0], rf)]
    return out


def study(ds, k: int, sizes: list[int], pool: int, config: TrainConfig) -> dict:
    config = replace(config, final_trees=pool)
    cv = folds(ds.y, ds.groups, k, config.seed)
    per_fold = {n: {"roc_auc": [], "excl": [], "roc_auc_sd": []} for n in sizes}
    for i, (tr, te) in enumerate(cv):
        model, *_ = _fit_split(ds, tr, None, config, lambda _s: None, f"f{i}")
        pipe = forest_of(model)
        test = ds.take(te)
        for n in sizes:
            aucs, excls = [], []
            for start in range(0, pool - n + 1, n):
                p = sliced(pipe, start, start + n).predict_proba(test.X)[:, 1]
                aucs.append(roc_auc_score(test.y, p))
                excls.append(exclusion_at_base_rate(test.y, p))
            per_fold[n]["roc_auc"].append(float(np.mean(aucs)))
            per_fold[n]["excl"].append(float(np.mean(excls)))
            per_fold[n]["roc_auc_sd"].append(float(np.std(aucs, ddof=1)) if len(aucs) > 1 else float("nan"))
        print(
            f"  fold {i + 1}/{len(cv)}: "
            + ", ".join(f"{n} trees {per_fold[n]['roc_auc'][-1]:.4f}" for n in sizes),
            flush=True,
        )
    top = max(sizes)
    out = {}
    for n in sizes:
        row = {"roc_auc_mean": float(np.mean(per_fold[n]["roc_auc"]))}
        for metric in ("roc_auc", "excl"):
            d = np.asarray(per_fold[n][metric]) - np.asarray(per_fold[top][metric])
            half = (
                float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
            )
            row[f"{metric}_minus_{top}"] = [float(d.mean()), float(d.mean() - half), float(d.mean() + half)]
        row["one_forest_roc_auc_sd"] = float(np.nanmean(per_fold[n]["roc_auc_sd"]))
        row["folds"] = per_fold[n]
        out[n] = row
        print(
            f"  {n:>4} trees: ROC-AUC {row['roc_auc_mean']:.4f}, minus {top} trees "
            f"{row[f'roc_auc_minus_{top}'][0]:+.4f} [{row[f'roc_auc_minus_{top}'][1]:+.4f}, "
            f"{row[f'roc_auc_minus_{top}'][2]:+.4f}]; exclusion at the base rate minus {top} trees "
            f"{row[f'excl_minus_{top}'][0]:+.4f} [{row[f'excl_minus_{top}'][1]:+.4f}, "
            f"{row[f'excl_minus_{top}'][2]:+.4f}]; s.d. of one forest's ROC-AUC {row['one_forest_roc_auc_sd']:.4f}",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--trees", default="100,200,300,500")
    parser.add_argument("--pool", type=int, default=1500)
    parser.add_argument("--only", default="fair,cancer,registry")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sizes = sorted(int(v) for v in args.trees.split(","))
    config = TrainConfig(search_mode="forest", policy="coverage", min_roc_auc=None, n_jobs=args.jobs)
    summary = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.only.split(","):
            print(f"{name}:", flush=True)
            if name == "fair":
                path, opts = fair_table(tmp)
                ds = load_table(path, opts["target"])
            elif name == "cancer":
                path, opts = cancer_table(tmp)
                ds = load_table(path, opts["target"])
            else:
                from atauly.law.compute import compute
                from atauly.registry.synthetic import generate

                generate(args.scale, 5, tmp / "registry", law=compute)
                ds = load_applications(tmp / "registry")
            summary[name] = study(ds, args.folds, sizes, args.pool, config)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
