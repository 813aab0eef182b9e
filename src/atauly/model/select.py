"""Honest model selection for the Random Forest and cross-fitted calibration (issue 16).

Selection happens on the training part of a split only (the test part is held out): candidates from a
search space of class weighting (none, balanced, balanced per bootstrap sample), leaf size and feature
sampling are scored by grouped, stratified K-fold ROC-AUC — a family is in one fold only. The
candidate with the best mean ROC-AUC wins; a candidate equal to scikit-learn's balanced forest is
always in the sample (first), and another candidate replaces it only when its paired gain is clear: more
than ``MIN_GAIN`` and than a one-sided 5% bound, Bonferroni-corrected for the challengers, in standard
errors of the paired fold differences (on small data the best of several noisy scores is often luck).

The chosen forest is then fitted with more trees on every training row. Its calibration is
**cross-fitted**: the calibration map (isotonic from 2,000 rows, else Platt's sigmoid) is fitted on the
out-of-fold probabilities of the chosen candidate from the same folds, so no training row is set aside
for calibration (small data is not starved). Those out-of-fold forests have the search's number of trees
(``search_trees``), not the final forest's: an approximation, as a forest of more trees gives scores of
slightly less spread, so the map can be a little off at the extremes (the reliability curve in the report
shows how much); refitting the folds with the final number of trees would cost K more full fits. The out-of-fold probabilities, calibrated, are also where
the threshold policy is chosen. The same cross-fitting serves the baselines.
"""

from __future__ import annotations

import itertools
import time
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold

from .estimators import forest

if TYPE_CHECKING:
    from .data import Dataset
    from .train import TrainConfig

#: The search space (docs/model.md). Depth is left free: leaf size and feature sampling regularise.
CLASS_WEIGHTS = (None, "balanced", "balanced_subsample")
LEAF_SIZES = (1, 3, 5, 10, 20)
MAX_FEATURES = ("sqrt", 0.33, 0.5)
#: A candidate replaces the reference only when better in CV ROC-AUC by more than this (and one s.e.):
#: smaller gains, measured with 100-tree forests on 4 folds, did not survive refitting (benchmarks).
MIN_GAIN = 0.002
#: One-sided level of the test that a challenger beats the reference (Bonferroni over the challengers).
CLEAR_LEVEL = 0.05


def z_clear(challengers: int) -> float:
    """The normal quantile a challenger's paired gain must exceed, in standard errors."""
    from scipy.stats import norm

    return float(norm.ppf(1 - CLEAR_LEVEL / max(challengers, 1)))


#: Always among the candidates: scikit-learn's forest with balanced class weights.
REFERENCE = {"class_weight": "balanced", "min_samples_leaf": 1, "max_features": "sqrt"}


def candidates(n: int, seed: int) -> list[dict]:
    """``n`` points of the search space at random, the reference first."""
    space = [
        {"class_weight": w, "min_samples_leaf": leaf, "max_features": f}
        for w, leaf, f in itertools.product(CLASS_WEIGHTS, LEAF_SIZES, MAX_FEATURES)
    ]
    rest = [c for c in space if c != REFERENCE]
    rng = np.random.default_rng(seed)
    picked = [rest[i] for i in rng.permutation(len(rest))[: max(n - 1, 0)]]
    return [dict(REFERENCE), *picked]


def folds(y, groups, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped, stratified folds (a family in one fold only; each fold with both classes when possible)."""
    codes = pd.factorize(np.asarray(groups))[0]
    k = max(2, min(k, len(np.unique(codes)), int(np.bincount(np.asarray(y, dtype=int)).min())))
    # Every row its own group (a table without --group): plain stratified folds are the same thing, and
    # StratifiedGroupKFold's greedy pass over the groups cost 0.6 CPU s on 5,000 rows.
    singletons = len(np.unique(codes)) == len(codes)
    cv = (StratifiedKFold if singletons else StratifiedGroupKFold)(
        n_splits=k, shuffle=True, random_state=seed
    )
    return list(cv.split(np.zeros(len(y)), np.asarray(y, dtype=int), groups=None if singletons else codes))


def response(model, X: pd.DataFrame) -> np.ndarray:
    """What ``CalibratedClassifierCV`` calibrates: the decision function when the model has one (the
    logistic regression's log-odds), else the probability of the positive class (the forest's)."""
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X), dtype=float)
    return model.predict_proba(X)[:, 1]


def out_of_fold(make, X: pd.DataFrame, y, cv, n_jobs: int = 1) -> np.ndarray:
    """Out-of-fold :func:`response` of a fresh model from ``make()`` on each fold (the folds in
    ``n_jobs`` threads)."""
    return _fits(make, X, y, cv, n_jobs, full=False)[0]


def _fits(make, X: pd.DataFrame, y, cv, n_jobs: int, full: bool):
    """(out-of-fold responses, the model fitted on every row when ``full`` else None). With ``n_jobs``
    > 1 the fits run in threads (scikit-learn's compiled fitting releases the GIL): the wall time of a
    baseline's five fits on two cores is about halved."""

    threaded = n_jobs > 1 and len(cv) + full > 1

    def fit(rows):
        if not threaded:
            return make().fit(X.iloc[rows], y[rows])
        # One OpenMP thread per worker: a new thread does not inherit the caller's limit, and gradient
        # boosting's idle OpenMP threads spin (measured: 3.8 CPU s for its five fits instead of 1.0).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return make().fit(X.iloc[rows], y[rows])

    def fold(train, test):
        return test, response(fit(train), X.iloc[test])

    tasks = [(fold, (train, test)) for train, test in cv]
    if full:
        tasks.append((fit, (np.arange(len(y)),)))
    with warnings.catch_warnings():  # once around the threads: catch_warnings is not thread-safe
        warnings.simplefilter("ignore")
        if threaded:
            from sklearn.utils.parallel import Parallel, delayed

            done = Parallel(n_jobs=min(n_jobs, len(tasks)), prefer="threads")(
                delayed(f)(*a) for f, a in tasks
            )
        else:
            done = [f(*a) for f, a in tasks]
    oof = np.full(len(y), np.nan)
    for test, values in done[: len(cv)]:
        oof[test] = values
    return oof, (done[-1] if full else None)


def _auc(y, p) -> float:
    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def paired_gain(aucs, reference) -> tuple[float, float]:
    """Mean paired fold difference ``aucs`` − ``reference`` and its standard error."""
    d = np.asarray(aucs, dtype=float) - np.asarray(reference, dtype=float)
    n_ok = int(np.isfinite(d).sum())
    gain = float(np.nanmean(d)) if n_ok else float("nan")
    return gain, (float(np.nanstd(d, ddof=1) / np.sqrt(n_ok)) if n_ok > 1 else 0.0)


def pick(fold_aucs: list[np.ndarray], screened: int | None = None) -> tuple[int, list[float], list[float]]:
    """The chosen candidate from each candidate's per-fold ROC-AUCs (the reference first), with each
    one's mean paired gain over the reference and its standard error.

    The reference (first) is replaced only by a candidate whose paired gain over it is clear after
    the search: larger than MIN_GAIN and than z_clear() standard errors of the paired fold differences
    (a one-sided 5% bound, Bonferroni-corrected for the challengers compared). The best of several
    noisy CV scores is often luck (the winner's curse): at one standard error, on the cancer table a
    challenger won the search by 0.0031 ± 0.0030 (z ≈ 1.03; 2.45 needed for 7 challengers) and then
    missed one more malignant biopsy than the reference on the held-out fold (benchmarks/bench_byod.py);
    the reference is a well-known default. On the survey, leaf 10 wins by 0.068 ± 0.0026 (z ≈ 26).
    ``screened``: the challengers the search looked at (default: those given) — after successive
    halving only the best is compared here, but it was the best of all of them.
    """
    gains, ses = zip(*(paired_gain(aucs, fold_aucs[0]) for aucs in fold_aucs), strict=True)
    best = int(np.nanargmax([np.nanmean(a) for a in fold_aucs]))
    z = z_clear(len(fold_aucs) - 1 if screened is None else screened)
    if best != 0 and not gains[best] > max(z * ses[best], MIN_GAIN):
        best = 0
    return best, list(gains), list(ses)


def rungs(n_candidates: int, trees: int) -> list[tuple[int, int]]:
    """The search's successive-halving schedule: (candidates, trees) of each rung. Every candidate is
    scored with an eighth of the trees, the reference and the two best challengers with a third, the
    reference and the best challenger with all ``trees`` (each rung grows the forests of the one before:
    warm start, so a forest of N trees is the same whether grown in steps or at once)."""
    sizes = (n_candidates, min(n_candidates, 3), min(n_candidates, 2))
    counts = (max(trees // 8, MIN_RUNG_TREES), max(trees // 3, MIN_RUNG_TREES), trees)
    out: list[tuple[int, int]] = []
    for size, count in zip(sizes, counts, strict=True):
        count = min(count, trees)
        if out and out[-1][0] == size:
            out[-1] = (size, count)  # the same candidates: only more trees
        elif not out or count > out[-1][1]:
            out.append((size, count))
    return out


#: The fewest trees a rung scores a candidate with.
MIN_RUNG_TREES = 8


def _survivors(fold_aucs: dict[int, np.ndarray], keep: int) -> list[int]:
    """The reference (0) and the ``keep`` − 1 challengers of best mean fold ROC-AUC, in candidate order."""
    challengers = sorted(
        (i for i in fold_aucs if i != 0),
        key=lambda i: (-np.nan_to_num(np.nanmean(fold_aucs[i]), nan=-1.0), i),
    )
    return sorted([0, *challengers[: max(keep - 1, 0)]])


def _leads(fold_aucs: dict[int, np.ndarray], alive: list[int]) -> bool:
    """Whether the reference (0) has the best mean fold ROC-AUC of the ``alive`` candidates."""
    means = {i: np.nan_to_num(np.nanmean(fold_aucs[i]), nan=-1.0) for i in alive}
    return all(means[0] >= m for m in means.values())


def search(
    make_forest, X: pd.DataFrame, y, cv, n_candidates: int, seed: int, trees: int = 100, progress=None
):
    """Score the candidates by grouped CV ROC-AUC with successive halving (:func:`rungs`): every candidate
    with few trees, the survivors grown to ``trees`` on the same folds. The reference is never dropped
    before the last rung, where :func:`pick` compares it with the best challenger, corrected for every
    challenger screened (when the reference already leads before the last rung, only it is grown; when a
    challenger has already won by :func:`decided`'s margin, only that challenger is). ``make_forest(params, trees)`` gives an unfitted (preprocessor, forest) pipeline;
    the preprocessor is fitted once per fold. ``progress(label)`` hears each rung start.
    Returns (chosen params, table, chosen's out-of-fold probabilities)."""
    params_of = candidates(n_candidates, seed)
    schedule = rungs(len(params_of), trees)
    folds_X = []
    for train, test in cv:
        prep = make_forest(params_of[0], 1)[:-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            folds_X.append((prep.fit_transform(X.iloc[train], y[train]), prep.transform(X.iloc[test])))
    forests: dict[int, list] = {}
    rows = {
        i: {
            **{k: (v if v is not None else "none") for k, v in p.items()},
            "fit_seconds": 0.0,
        }
        for i, p in enumerate(params_of)
    }
    alive = list(range(len(params_of)))
    oofs: dict[int, np.ndarray] = {}
    fold_aucs: dict[int, np.ndarray] = {}  # at the last rung each candidate reached
    at_rung: dict[tuple[int, int], np.ndarray] = {}
    for rung, (size, count) in enumerate(schedule):
        if rung:
            alive = _survivors({i: fold_aucs[i] for i in alive}, size)
        if rung and rung == len(schedule) - 1 and _leads(fold_aucs, alive):
            # The reference ranks best with fewer trees. A cost trade-off, not a guarantee: a challenger
            # behind it now is not grown to full size, so the search errs towards the reference (the
            # default the Ministry's forest is compared with; a challenger must be clearly better to
            # replace it anyway). Only the reference is grown (its out-of-fold probabilities calibrate
            # the final forest).
            alive = [0]
        elif rung and rung == len(schedule) - 1 and DECIDE_EARLY:
            # The other way round: a challenger already so far ahead that the reference's own climb could
            # not close the gap is grown alone (see :func:`decided`).
            winner = decided(at_rung, alive, rung - 1, len(params_of) - 1)
            if winner is not None:
                alive = [winner]
        if progress:
            # The planned rung's name (as :func:`atauly.model.train.train_steps` lists it), also when
            # the reference is grown alone.
            progress(rung_label(rung, len(schedule), size, count))
        for i in alive:
            t0 = time.perf_counter()
            oof = np.full(len(y), np.nan)
            for f, ((train, test), (X_fit, X_test)) in enumerate(zip(cv, folds_X, strict=True)):
                if i not in forests:
                    forests[i] = [None] * len(cv)
                model = forests[i][f]
                if model is None:
                    model = make_forest(params_of[i], count)[-1].set_params(warm_start=True)
                    forests[i][f] = model
                model.set_params(n_estimators=count)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_fit, y[train])
                oof[test] = model.predict_proba(X_test)[:, 1]
            rows[i]["fit_seconds"] += (time.perf_counter() - t0) / len(cv)
            per_fold = np.asarray([_auc(y[test], oof[test]) for _, test in cv], dtype=float)
            oofs[i], fold_aucs[i] = oof, per_fold
            at_rung[i, rung] = per_fold
            rows[i] |= {
                "rung": rung + 1,
                "rung_trees": count,
                "cv_roc_auc": float(np.nanmean(per_fold)),
                "cv_roc_auc_se": float(np.nanstd(per_fold) / np.sqrt(len(per_fold))),
                "oof_roc_auc": _auc(y, oof),
            }
        for i in list(forests):
            if i not in alive:
                del forests[i]  # dropped: free its trees
    finalists = sorted(alive)
    best_of, _gains, _ses = pick([fold_aucs[i] for i in finalists], screened=len(params_of) - 1)
    best = finalists[best_of]
    for i, r in rows.items():
        # each candidate beside the reference at the last rung both reached (paired: the same folds, trees)
        both = min(r["rung"], rows[0]["rung"]) - 1
        r["vs_reference"], r["vs_reference_se"] = paired_gain(at_rung[i, both], at_rung[0, both])
        r["chosen"] = i == best
    chosen = {k: (None if v == "none" else v) for k, v in rows[best].items() if k in REFERENCE}
    return chosen, [rows[i] for i in range(len(params_of))], oofs[best]


#: Whether a challenger that is decisively better before the last rung is grown alone (:func:`decided`).
DECIDE_EARLY = True


def decided(at_rung: dict, alive: list[int], rung: int, screened: int) -> int | None:
    """The challenger among ``alive`` (the reference, 0, and one challenger) that has already won, at
    ``rung`` (the one before the last), else None. It wins when its paired gain over the reference, less
    how much the reference itself gained from the rung before (its forest roughly tripled: 12 to 33
    trees), is still clear by :func:`pick`'s rule (more than ``MIN_GAIN`` and ``z_clear(screened)``
    standard errors). The reference's next climb (33 to 100 trees) is smaller than that last one (the
    trees' variance term falls as 1/trees: by 0.053 from 12 to 33, by 0.020 from 33 to 100), and the
    challenger is taken to gain nothing more, so the last rung could not have reversed the choice; it is
    not paid for (the reference's forest of full size is the dearest to grow: leaves of one row).
    On the 6,366-row survey, leaf 10 leads the reference by 0.07 ROC-AUC at 33 trees (z ≈ 26)."""
    challengers = [i for i in alive if i != 0]
    if 0 not in alive or len(challengers) != 1 or rung < 1 or (0, rung - 1) not in at_rung:
        return None
    best = challengers[0]
    gain, se = paired_gain(at_rung[best, rung], at_rung[0, rung])
    climb = float(np.nanmean(at_rung[0, rung]) - np.nanmean(at_rung[0, rung - 1]))
    margin = gain - max(climb, 0.0)
    return best if np.isfinite(margin) and margin > max(z_clear(screened) * se, MIN_GAIN) else None


def rung_label(rung: int, n_rungs: int, size: int, trees: int) -> str:
    """What the progress bar says while a rung of the search runs."""
    return f"rung {rung + 1}/{n_rungs}: {size} candidate{'s' if size != 1 else ''} × {trees} trees"


def calibrator(oof, y):
    """The calibration map fitted on out-of-fold probabilities: centred isotonic from 2,000 rows, else
    sigmoid."""
    if len(y) >= 2000:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(oof, y)
        return "isotonic", centred(iso, oof, y)
    return "sigmoid", _SigmoidCalibration().fit(oof, y)


def centred(iso: IsotonicRegression, x_fit=None, y_fit=None) -> IsotonicRegression:
    """Centred isotonic regression (Oron & Flournoy 2017), strictly increasing over the whole range of
    forest probabilities [0, 1], so calibrating never ties families the forest ranks apart (ties cost
    ranking: ROC-AUC and who is in the top N).

    Each flat block of the fitted step function is replaced by one point at its centre and the map
    interpolates linearly between them. Plain isotonic regression also puts the blocks at the ends at
    exactly 0 and 1 (a block of only negatives or only positives) and is flat beyond the data's range;
    both tied whole blocks of families (measured: on the synthetic registry the calibrated forest ranked
    below its own raw probabilities). So the end blocks at 0 or 1 take the smoothed share
    (positives + ½) / (rows + 1) of their rows (kept strictly between their neighbours), and the map is
    extended linearly from the first and last centres to raw probabilities 0 and 1 (within [0, 1])."""
    x, y = np.asarray(iso.X_thresholds_, dtype=float), np.asarray(iso.y_thresholds_, dtype=float)
    if len(x) < 2:
        return iso
    block = np.r_[0, np.cumsum(y[1:] != y[:-1])]
    centres = pd.Series(x).groupby(block).mean().to_numpy()
    values = pd.Series(y).groupby(block).first().to_numpy().copy()
    if len(centres) < 2:
        return iso
    if x_fit is not None and y_fit is not None:
        xf, yf = np.asarray(x_fit, dtype=float), np.asarray(y_fit, dtype=float)
        first_end = x[block == 0].max()
        last_start = x[block == block[-1]].min()
        if values[0] <= 0.0:
            rows = xf <= first_end
            smoothed = (yf[rows].sum() + 0.5) / (rows.sum() + 1)
            values[0] = min(smoothed, values[1] / 2)
        if values[-1] >= 1.0:
            rows = xf >= last_start
            smoothed = (yf[rows].sum() + 0.5) / (rows.sum() + 1)
            values[-1] = max(smoothed, (values[-2] + 1.0) / 2)
    lo = values[0] - (values[1] - values[0]) * centres[0] / max(centres[1] - centres[0], 1e-12)
    hi = values[-1] + (values[-1] - values[-2]) * (1.0 - centres[-1]) / max(centres[-1] - centres[-2], 1e-12)
    lo, hi = max(lo, 0.0), min(hi, 1.0)
    new_x = np.r_[min(0.0, x[0]), centres, max(1.0, x[-1])]
    new_y = np.r_[lo, values, hi]
    keep = np.r_[True, np.diff(new_x) > 0]
    new_x, new_y = new_x[keep], new_y[keep]
    iso.X_thresholds_, iso.y_thresholds_ = new_x, new_y
    iso.X_min_, iso.X_max_ = float(new_x[0]), float(new_x[-1])
    iso._build_f(new_x, new_y)  # what unpickling (and skops) does with the thresholds
    return iso


def cross_fitted(model, X: pd.DataFrame, y, oof) -> CalibratedClassifierCV:
    """A fitted model, calibrated by the map fitted on its out-of-fold probabilities: a scikit-learn
    ``CalibratedClassifierCV(FrozenEstimator(model))`` whose single calibrator is that map (so that
    scoring, explanations and the store treat it as any calibrated forest)."""
    method, mapping = calibrator(oof, y)
    take = np.r_[np.flatnonzero(y)[:5], np.flatnonzero(~np.asarray(y, dtype=bool))[:5]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calibrated = CalibratedClassifierCV(FrozenEstimator(model), method=method).fit(X.iloc[take], y[take])
    calibrated.calibrated_classifiers_[0].calibrators = [mapping]
    return calibrated


def apply_map(calibrated: CalibratedClassifierCV, raw) -> np.ndarray:
    """The calibration map of :func:`cross_fitted` applied to raw probabilities (out-of-fold ones)."""
    return np.clip(calibrated.calibrated_classifiers_[0].calibrators[0].predict(np.asarray(raw)), 0, 1)


def fit_crossfitted(make, X: pd.DataFrame, y, cv, oof=None, n_jobs: int = 1):
    """Fit ``make()`` on all rows, calibrate it on its out-of-fold probabilities (computed here unless
    given; the fold fits and the full fit in ``n_jobs`` threads). Returns (calibrated model, calibrated
    out-of-fold probabilities)."""
    if oof is None:
        oof, model = _fits(make, X, y, cv, n_jobs, full=True)
    else:
        model = _fits(make, X, y, [], 1, full=True)[1]
    calibrated = cross_fitted(model, X, y, oof)
    return calibrated, apply_map(calibrated, oof)


def clone_factory(estimator):
    return lambda: clone(estimator)


def grid_search(ds: Dataset, config: TrainConfig, progress=None) -> tuple[dict, list[dict]]:
    """Trees × depth by group-aware CV ROC-AUC on a subsample; returns (chosen, table)."""
    rng = np.random.default_rng(config.seed)
    idx = np.arange(len(ds))
    if len(ds) > config.search_rows:
        codes, uniques = pd.factorize(ds.groups)
        keep_groups = rng.permutation(len(uniques))[
            : max(int(len(uniques) * config.search_rows / len(ds)), 1)
        ]
        idx = np.flatnonzero(np.isin(codes, keep_groups))
    sub = ds.take(idx)
    folds = min(config.cv_folds, len(np.unique(sub.groups)))
    cv = list(GroupKFold(n_splits=folds).split(sub.X, sub.y, groups=sub.groups))
    table = []
    for trees in config.trees:
        for depth in config.depths:
            scores, fit_s, rate = [], [], []
            for train, test in cv:
                model = forest(ds.numeric, ds.categorical, trees, depth, config)
                t0 = time.perf_counter()
                model.fit(sub.X.iloc[train], sub.y[train])
                fit_s.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                prob = model.predict_proba(sub.X.iloc[test])[:, 1]
                rate.append(len(test) / max(time.perf_counter() - t0, 1e-9))
                y_test = sub.y[test]
                scores.append(roc_auc_score(y_test, prob) if len(np.unique(y_test)) == 2 else np.nan)
            table.append(
                {
                    "trees": trees,
                    "max_depth": depth,
                    "cv_roc_auc": float(np.nanmean(scores)),
                    "cv_roc_auc_se": float(np.nanstd(scores) / np.sqrt(len(scores))),
                    "fit_seconds": float(np.mean(fit_s)),
                    "rows_per_second": float(np.mean(rate)),
                    "cost": trees * depth,
                }
            )
            if progress:
                progress(1)
    best = max(table, key=lambda r: r["cv_roc_auc"])
    good = [r for r in table if r["cv_roc_auc"] >= best["cv_roc_auc"] - best["cv_roc_auc_se"]]
    chosen = min(good, key=lambda r: (r["cost"], -r["cv_roc_auc"]))
    for r in table:
        r["chosen"] = r is chosen
    return {"trees": chosen["trees"], "max_depth": chosen["max_depth"]}, table
