"""Benchmark: what confirmed photo facts add to Stage 1 and to the law, against the hidden truth of the
synthetic world, at equal coverage (issue 18).

    .venv/bin/python benchmarks/bench_photo_value.py [--scale 0.01] [--regions 610000000,790000000]
        [--seed 1] [--sensitivity 0.8] [--false-positive 0.05] [--officer-catch 0.9] [--photo-share 1.0]
        [--boot 500] [--out FILE.json]

The synthetic world hides assets from the application's tables: a vehicle or livestock the records miss
and the home visit did not find (``registry/synthetic``: ``vehicle_unrecorded``, ``livestock_unrecorded``,
``visit_reveals_assets``). Photo evidence is modelled as a noisy observation of the true assets, with the
detector's accuracy a stated assumption (no real consented photos exist yet to measure it):

- a family attaches photos with probability ``--photo-share``;
- the inventory model flags an asset that is there with probability ``--sensitivity``, and one that is not
  with probability ``--false-positive``;
- the officer looks at each flag: a true one is confirmed, a false one dismissed with probability
  ``--officer-catch`` (else wrongly confirmed);
- a confirmed asset becomes a fact as the service makes it (``service/photos.facts``): its column at least
  1, never lowered.

Both arms go through the same functions as the service: the law (``atauly.law``) on the tables with and
without the facts, then Stage 1's features (``model/features.py``), a forest trained on officers' decisions
in each arm (the same 3 folds by family, same seed), every application scored out of fold. Equal coverage: both models recommend the
same number of applications (as many as the baseline model recommends at 0.5; the law's arms are not
at equal coverage: a confirmed asset can only refuse). Reported against
the truth (``true_eligible``): precision and recall of the recommended, and the law's exclusion and
inclusion errors, each arm and the difference with a paired family-bootstrap 95% interval. Numbers are
reported whatever they are, a nil gain included.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.law.compute import compute
from atauly.model.data import _law_by_quarter, application_registry, prepare, read_registry_table
from atauly.model.estimators import forest
from atauly.model.features import CATEGORICAL, FEATURE_NAMES, family_features
from atauly.model.train import TrainConfig
from atauly.registry import Registry
from atauly.registry.quarter import Quarter
from atauly.registry.synthetic import generate

FOLDS = 3
ASSETS = ("vehicles_owned", "livestock_heads")  # what the inventory can see (vehicle, tractor; livestock)


@dataclass(frozen=True)
class Assumptions:
    photo_share: float = 1.0
    sensitivity: float = 0.8
    false_positive: float = 0.05
    officer_catch: float = 0.9


def photo_facts(app_fam: pd.DataFrame, true_fam: pd.DataFrame, a: Assumptions, seed: int) -> pd.DataFrame:
    """The application families with the confirmed photo facts applied (as ``service/photos.facts``)."""
    rng = np.random.default_rng(seed)
    truth = true_fam.set_index("family_id").reindex(app_fam["family_id"])
    out = app_fam.copy()
    n = len(out)
    with_photos = rng.random(n) < a.photo_share
    for column in ASSETS:
        present = truth[column].fillna(0).to_numpy() > 0
        flagged = with_photos & np.where(
            present, rng.random(n) < a.sensitivity, rng.random(n) < a.false_positive
        )
        confirmed = flagged & (present | (rng.random(n) >= a.officer_catch))
        declared = out[column].fillna(0).to_numpy().astype(np.int64)
        out[column] = np.where(confirmed, np.maximum(declared, 1), declared)
    return out


def _features(reg: Registry, quarters: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    law = _law_by_quarter(reg, quarters)
    start = min(Quarter.parse(str(q)) for q in quarters).start_time
    numeric = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    X = prepare(family_features(reg, law, start), numeric, list(CATEGORICAL))
    return X, law["eligible"].to_numpy(dtype=bool)


def _metrics(sel: np.ndarray, truth: np.ndarray, idx: np.ndarray) -> dict[str, float]:
    s, t = sel[idx], truth[idx]
    return {
        "precision": float(t[s].mean()) if s.any() else float("nan"),
        "recall": float(s[t].mean()) if t.any() else float("nan"),
        "exclusion": float((~s[t]).mean()) if t.any() else float("nan"),
        "inclusion": float((~t[s]).mean()) if s.any() else float("nan"),
    }


def paired(sel_a, sel_b, truth, families, boot: int, seed: int) -> dict:
    """Each arm's metrics and the difference b − a with a paired family-bootstrap 95% interval."""
    rng = np.random.default_rng(seed)
    everyone = np.arange(len(truth))
    a, b = _metrics(sel_a, truth, everyone), _metrics(sel_b, truth, everyone)
    codes, uniq = pd.factorize(families)
    rows_of = [np.flatnonzero(codes == k) for k in range(len(uniq))]
    diffs = {k: [] for k in a}
    for _ in range(boot):
        pick = rng.integers(0, len(uniq), len(uniq))
        idx = np.concatenate([rows_of[k] for k in pick])
        ma, mb = _metrics(sel_a, truth, idx), _metrics(sel_b, truth, idx)
        for k in a:
            diffs[k].append(mb[k] - ma[k])
    out = {}
    for k in a:
        d = np.array(diffs[k], dtype=float)
        d = d[np.isfinite(d)]
        lo, hi = np.percentile(d, [2.5, 97.5]) if len(d) else (np.nan, np.nan)
        out[k] = {"base": a[k], "photos": b[k], "diff": b[k] - a[k], "ci": [float(lo), float(hi)]}
    return out


def run(directory: Path, a: Assumptions, seed: int, boot: int) -> dict:
    snapshots, dec = application_registry(directory)
    true_fam = read_registry_table(directory / "truth", "families")
    quarters = dec["quarter"].astype(str).to_numpy()
    fam_photo = photo_facts(snapshots.families, true_fam, a, seed)
    changed = np.zeros(len(fam_photo), dtype=bool)
    for column in ASSETS:
        changed |= fam_photo[column].to_numpy() != snapshots.families[column].fillna(0).to_numpy()
    with_photos = Registry(
        fam_photo, snapshots.persons, snapshots.incomes, snapshots.person_family, snapshots.income_person
    )
    t0 = time.perf_counter()
    X_base, law_base = _features(snapshots, quarters)
    X_photo, law_photo = _features(with_photos, quarters)
    law_s = time.perf_counter() - t0
    y = dec["officer_approved"].to_numpy(dtype=bool)
    truth = dec["true_eligible"].to_numpy(dtype=bool)
    families = dec["family_id"].astype(str).to_numpy()

    # out-of-fold scores: K folds by family, the same folds for both arms (every application is scored by a
    # model that never saw its family, so the few families whose facts change are all evaluated)
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(families)
    fold = rng.integers(0, FOLDS, len(uniq))[codes]
    numeric = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    config = TrainConfig(n_jobs=min(2, os.cpu_count() or 1), seed=seed)
    probs = {arm: np.zeros(len(y)) for arm in ("base", "photos")}
    t0 = time.perf_counter()
    for arm, X in (("base", X_base), ("photos", X_photo)):
        for k in range(FOLDS):
            held = fold == k
            model = forest(numeric, list(CATEGORICAL), 200, 12, config)
            model.fit(X[~held], y[~held])
            probs[arm][held] = model.predict_proba(X[held])[:, 1]
    fit_s = time.perf_counter() - t0
    test = np.ones(len(y), dtype=bool)
    k = int((probs["base"] >= 0.5).sum())  # equal coverage: the baseline's own count

    def top(p):
        sel = np.zeros(len(p), dtype=bool)
        sel[np.argsort(-p, kind="stable")[:k]] = True
        return sel

    sel_base, sel_photo = top(probs["base"]), top(probs["photos"])
    model = paired(sel_base, sel_photo, truth[test], families[test], boot, seed)
    law = paired(law_base[test], law_photo[test], truth[test], families[test], boot, seed)
    hidden = np.zeros(len(dec), dtype=bool)
    truth_fam = true_fam.set_index("family_id").reindex(snapshots.families["family_id"])
    for column in ASSETS:
        hidden |= (truth_fam[column].fillna(0).to_numpy() > 0) & (
            snapshots.families[column].fillna(0).to_numpy() == 0
        )
    return {
        "applications": int(len(dec)),
        "scored_out_of_fold": int(test.sum()),
        "coverage": k,
        "recommended_differently": int((sel_base != sel_photo).sum()),
        "changed_in_test": int(changed[test].sum()),
        "truly_entitled_in_test": int(truth[test].sum()),
        "assets_hidden_from_the_tables": float(hidden.mean()),
        "facts_changed_by_photos": float(changed.mean()),
        "law_outcome_changed": float((law_base != law_photo).mean()),
        "model": model,
        "law": law,
        "seconds": {"law_and_features": law_s, "fit": fit_s},
    }


def _line(name: str, m: dict) -> str:
    lo, hi = m["ci"]
    return f"  {name:<10} {m['base']:.4f} → {m['photos']:.4f}  diff {m['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--regions", default="610000000,790000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--photo-share", type=float, default=1.0)
    parser.add_argument("--sensitivity", type=float, default=0.8)
    parser.add_argument("--false-positive", type=float, default=0.05)
    parser.add_argument("--officer-catch", type=float, default=0.9)
    parser.add_argument("--boot", type=int, default=500)
    parser.add_argument("--registry", type=Path, default=None, help="use this generated registry")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    a = Assumptions(args.photo_share, args.sensitivity, args.false_positive, args.officer_catch)
    la = os.getloadavg()
    print(f"load average {la[0]:.1f} on {os.cpu_count()} CPUs; assumptions {a}")
    directory = args.registry
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="atauly-photo-value-"))
        t0 = time.perf_counter()
        generate(args.scale, args.seed, directory, regions=args.regions.split(","), law=compute, workers=1)
        print(f"generated scale {args.scale} regions {args.regions} in {time.perf_counter() - t0:.1f} s")
    res = run(directory, a, args.seed, args.boot)
    print(
        f"applications {res['applications']} (each scored out of fold, truly entitled "
        f"{res['truly_entitled_in_test']}); an asset hidden from the tables in "
        f"{res['assets_hidden_from_the_tables']:.1%}; photos changed a fact in "
        f"{res['facts_changed_by_photos']:.1%}; the law's outcome changed in {res['law_outcome_changed']:.1%}"
    )
    print(
        f"Stage 1 at equal coverage ({res['coverage']} recommended; {res['recommended_differently']} "
        f"recommended differently, {res['changed_in_test']} with a fact changed), base → with "
        "photo facts vs truth:"
    )
    for name, m in res["model"].items():
        print(_line(name, m))
    print("The law on the tables, base → with photo facts vs truth:")
    for name, m in res["law"].items():
        print(_line(name, m))
    if args.out:
        args.out.write_text(json.dumps({"assumptions": a.__dict__, **res}, indent=2))


if __name__ == "__main__":
    main()
