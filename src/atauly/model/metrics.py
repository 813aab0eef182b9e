"""Targeting metrics, bootstrap intervals, thresholds and the fairness audit.

Definitions (docs/model.md; shared/domain/targeting-and-governance.md):

- exclusion error = entitled families not recommended / entitled families  (= 1 − recall)
- inclusion error = recommended families not entitled / recommended families  (= 1 − precision)
- coverage of the poorest quintile = share of the 20% of families with the lowest true per-capita income
  (among those scored — applicants, not the whole population) that are recommended
- CGH indicator = the poorest quintile's share of the recommended families ÷ 0.2 (Coady, Grosh and
  Hoddinott 2004; 1 = no better than random, higher = better targeted)

"Entitled" is whatever reference the caller passes: officer decisions (the labels) or true need.
Every metric accepts sample weights so that the bootstrap can resample whole families (clusters).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

METRIC_NAMES = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "brier",
    "exclusion_error",
    "inclusion_error",
    "selection_rate",
    "coverage_poorest_quintile",
    "cgh_poorest_quintile",
)


def _w(y, w):
    return np.ones(len(y)) if w is None else np.asarray(w, dtype=float)


def exclusion_error(y_true, y_pred, sample_weight=None) -> float:
    y, p, w = np.asarray(y_true, bool), np.asarray(y_pred, bool), _w(y_true, sample_weight)
    entitled = w[y].sum()
    return float(w[y & ~p].sum() / entitled) if entitled else float("nan")


def inclusion_error(y_true, y_pred, sample_weight=None) -> float:
    y, p, w = np.asarray(y_true, bool), np.asarray(y_pred, bool), _w(y_true, sample_weight)
    chosen = w[p].sum()
    return float(w[p & ~y].sum() / chosen) if chosen else float("nan")


def selection_rate(y_true, y_pred, sample_weight=None) -> float:
    p, w = np.asarray(y_pred, bool), _w(y_pred, sample_weight)
    return float(w[p].sum() / w.sum()) if w.sum() else float("nan")


def poorest_quintile(income) -> np.ndarray:
    """True where a family is among the 20% with the lowest income (ties broken by order)."""
    income = np.asarray(income, dtype=float)
    rank = np.argsort(np.argsort(income, kind="stable"), kind="stable")
    return rank < max(int(round(0.2 * len(income))), 1)


class _Scorer:
    """Metrics for one (labels, score, decisions) triple under any row weights — the score order is
    computed once, so each bootstrap replicate costs O(n) numpy work (no sklearn call per replicate)."""

    def __init__(self, y_true, prob, y_pred, poorest=None) -> None:
        self.y = np.asarray(y_true, dtype=bool)
        self.yp = np.asarray(y_pred, dtype=bool)
        self.has_prob = prob is not None
        score = self.yp.astype(float) if prob is None else np.asarray(prob, dtype=float)
        self.score = score
        # Distinct scores, highest first; each row's position among them.
        uniq, inverse = np.unique(-score, return_inverse=True)
        self.level, self.n_levels = inverse, len(uniq)
        self.poor = None if poorest is None else np.asarray(poorest, dtype=bool)

    def __call__(self, w=None) -> dict[str, float]:
        y, yp = self.y, self.yp
        w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
        tp, fp = w[y & yp].sum(), w[~y & yp].sum()
        fn, tn = w[y & ~yp].sum(), w[~y & ~yp].sum()
        pos, neg, total = tp + fn, fp + tn, tp + fp + fn + tn

        def ratio(a, b):
            return a / b if b > 0 else np.nan

        recall, precision = ratio(tp, pos), ratio(tp, tp + fp)
        out = {
            "accuracy": ratio(tp + tn, total),
            "balanced_accuracy": (recall + ratio(tn, neg)) / 2 if pos > 0 and neg > 0 else np.nan,
            "precision": precision,
            "recall": recall,
            "f1": ratio(2 * tp, 2 * tp + fp + fn),
            "exclusion_error": ratio(fn, pos),
            "inclusion_error": ratio(fp, tp + fp),
            "selection_rate": ratio(tp + fp, total),
        }
        if pos > 0 and neg > 0:
            tp_l = np.bincount(self.level, weights=w * y, minlength=self.n_levels)
            fp_l = np.bincount(self.level, weights=w * ~y, minlength=self.n_levels)
            ctp, cfp = np.cumsum(tp_l), np.cumsum(fp_l)
            # ROC-AUC: each negative scores against the positives above it (ties count half).
            out["roc_auc"] = float(np.sum(fp_l * (ctp - tp_l / 2)) / (pos * neg))
            # Average precision (sklearn's definition: precision at each threshold × recall gained there).
            with np.errstate(invalid="ignore", divide="ignore"):
                prec = np.where(ctp + cfp > 0, ctp / (ctp + cfp), 0.0)
            out["pr_auc"] = float(np.sum(tp_l / pos * prec))
        else:
            out["roc_auc"] = out["pr_auc"] = np.nan
        out["brier"] = float(np.sum(w * (self.score - y) ** 2) / total) if self.has_prob and total else np.nan
        if self.poor is not None:
            chosen_poor = w[self.poor & yp].sum()
            out["coverage_poorest_quintile"] = ratio(chosen_poor, w[self.poor].sum())
            # Coady–Grosh–Hoddinott: the poorest 20%'s share of those recommended, ÷ 0.2 (1 = neutral).
            out["cgh_poorest_quintile"] = ratio(chosen_poor, tp + fp) / 0.2
        else:
            out["coverage_poorest_quintile"] = out["cgh_poorest_quintile"] = np.nan
        return {k: float(out[k]) for k in METRIC_NAMES}


def binary_metrics(y_true, prob, y_pred, poorest=None, sample_weight=None) -> dict[str, float]:
    """All of :data:`METRIC_NAMES` for one reference. ``prob`` may be None (a rule without a score:
    the decisions themselves are the score, so ROC-AUC is the balanced accuracy)."""
    return _Scorer(y_true, prob, y_pred, poorest)(sample_weight)


def percentile_interval(draws) -> tuple[float, float]:
    """The 95% percentile interval of bootstrap draws (non-finite draws left out; NaNs when none is left)."""
    v = np.asarray(draws, dtype=float)
    finite = v[np.isfinite(v)]
    if not len(finite):
        return (np.nan, np.nan)
    return (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5)))


def resample_weights(n: int, groups=None, n_boot: int = 200, seed: int = 0) -> Iterator[np.ndarray]:
    """``n_boot`` bootstrap resamples of ``n`` rows as weights (how many times each row is drawn); with
    ``groups`` (e.g. family ids) whole groups are drawn together. The same arguments give the same draws."""
    rng = np.random.default_rng(seed)
    if groups is None:
        codes, n_units = np.arange(n), n
    else:
        codes, uniques = pd.factorize(np.asarray(groups))
        n_units = len(uniques)
    for _ in range(n_boot):
        yield np.bincount(rng.integers(0, n_units, n_units), minlength=n_units)[codes]


def bootstrap_intervals(
    y_true, prob, y_pred, poorest=None, groups=None, n_boot: int = 200, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals. With ``groups`` (family ids) whole groups are resampled together."""
    scorer = _Scorer(y_true, prob, y_pred, poorest)
    draws = {k: [] for k in METRIC_NAMES}
    for weights in resample_weights(len(y_true), groups, n_boot, seed):
        for k, v in scorer(weights).items():
            draws[k].append(v)
    out = {k: percentile_interval(v) for k, v in draws.items()}
    return out


def paired_bootstrap(
    y_true, first, second, groups=None, n_boot: int = 200, seed: int = 0, subset=None
) -> dict[str, dict]:
    """Two models scored on the same rows: each one's metrics, and the paired difference second − first,
    with 95% percentile intervals from the **same** resamples (whole groups — families — together).

    ``first`` and ``second`` are ``(prob, y_pred)`` (``prob`` may be None). ``subset`` (a boolean mask)
    restricts every figure to those rows, resampled with the rest, e.g. the cases officers overrode.
    Returns ``{"first", "second", "difference"}`` → metric → value and ``…_ci`` → metric → (lo, hi).
    With the same ``groups``, ``n_boot`` and ``seed`` two calls draw the same resamples."""
    n = len(y_true)
    keep = np.ones(n) if subset is None else np.asarray(subset, dtype=bool).astype(float)
    scorers = [_Scorer(y_true, prob, pred) for prob, pred in (first, second)]
    points = [scorer(keep) for scorer in scorers]
    out = {
        "first": points[0],
        "second": points[1],
        "difference": {k: points[1][k] - points[0][k] for k in METRIC_NAMES},
    }
    draws = {part: {k: [] for k in METRIC_NAMES} for part in out}
    for weights in resample_weights(n, groups, n_boot, seed):
        w = weights * keep
        a, b = (scorer(w) for scorer in scorers)
        for k in METRIC_NAMES:
            draws["first"][k].append(a[k])
            draws["second"][k].append(b[k])
            draws["difference"][k].append(b[k] - a[k])
    for part, by_metric in draws.items():
        ci = {k: percentile_interval(v) for k, v in by_metric.items()}
        out[f"{part}_ci"] = ci
    return out


def threshold_for_exclusion(y_true, prob, target: float) -> float:
    """The highest threshold whose exclusion error (on these labels) is at most ``target``."""
    if not 0 <= target < 1:
        raise ValueError("the target exclusion error must be in [0, 1)")
    y = np.asarray(y_true, dtype=bool)
    p = np.sort(np.asarray(prob, dtype=float)[y])
    if len(p) == 0:
        raise ValueError("no positive labels to set an exclusion-error threshold on")
    # Recommending p >= t misses the positives below t; allow floor(target * n) of them.
    k = int(np.floor(target * len(p)))
    return float(p[k])


def threshold_at_inclusion(y_true, prob, max_inclusion: float) -> float:
    """The lowest threshold whose inclusion error (on these labels) is at most ``max_inclusion``: the
    operating point that recommends the most families without more leakage than a given rule."""
    y = np.asarray(y_true, dtype=bool)
    p = np.asarray(prob, dtype=float)
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    cum_fp = np.cumsum(~ys)
    chosen = np.arange(1, len(ps) + 1)
    boundary = np.r_[ps[1:] != ps[:-1], True]  # cut only between distinct scores
    ok = boundary & (cum_fp / chosen <= max_inclusion)
    if not ok.any():
        return float("inf")
    return float(ps[np.flatnonzero(ok)[-1]])


def threshold_for_budget(prob, families: int) -> float:
    """The threshold that recommends the ``families`` highest probabilities (ties may add a few)."""
    prob = np.sort(np.asarray(prob, dtype=float))[::-1]
    if families <= 0:
        return float("inf")
    if families >= len(prob):
        return float(prob[-1]) if len(prob) else 0.0
    return float(prob[families - 1])


def fairness(
    y_true,
    y_pred,
    groups: pd.DataFrame,
    n_boot: int = 100,
    seed: int = 0,
    clusters=None,
    prob=None,
    poorest=None,
) -> dict[str, pd.DataFrame]:
    """Every metric of :data:`METRIC_NAMES` by group, for each sensitive column, with 95% intervals.

    fairlearn's ``MetricFrame`` forms the groups and gives the decision metrics (families, accuracy,
    exclusion and inclusion error, selection rate); the other metrics come from the same per-group scorer
    that draws the bootstrap — one pass per group, where a ``MetricFrame`` metric per column costs ≈ 0.4 s
    of its own overhead (thirteen of them took 35 s on 125,000 rows). The intervals resample whole
    families (``clusters``); fairlearn's own bootstrap resamples rows.
    """
    from fairlearn.metrics import MetricFrame, count

    y = np.asarray(y_true, dtype=bool)
    yp = np.asarray(y_pred, dtype=bool)
    n = len(y)
    p = None if prob is None else np.asarray(prob, dtype=float)
    poor = None if poorest is None else np.asarray(poorest, dtype=bool)
    decision_metrics = {
        "accuracy": lambda t, q: float(np.mean(np.asarray(t) == np.asarray(q))) if len(t) else float("nan"),
        "exclusion_error": exclusion_error,
        "inclusion_error": inclusion_error,
        "selection_rate": selection_rate,
    }
    weights = list(resample_weights(n, clusters, n_boot, seed))
    out = {}
    for column in groups.columns:
        sensitive = pd.Series(groups[column].astype(str).to_numpy(), name=column)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = MetricFrame(
                metrics={**decision_metrics, "families": count},
                y_true=y,
                y_pred=yp,
                sensitive_features=sensitive,
            )
        table = frame.by_group.copy()
        table["families"] = table["families"].astype(int)
        labels = sensitive.to_numpy()
        rows_of = {label: np.flatnonzero(labels == str(label)) for label in table.index}
        scorers = {
            label: _Scorer(y[r], None if p is None else p[r], yp[r], None if poor is None else poor[r])
            for label, r in rows_of.items()
        }
        for name in METRIC_NAMES:
            if name not in decision_metrics:
                table[name] = [scorers[label]()[name] for label in table.index]
        table = table[["families", *METRIC_NAMES]]
        if n_boot:
            for label, rows in rows_of.items():
                draws = np.array([list(scorers[label](w[rows]).values()) for w in weights], dtype=float)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lo = np.nanpercentile(draws, 2.5, axis=0)
                    hi = np.nanpercentile(draws, 97.5, axis=0)
                for k, name in enumerate(METRIC_NAMES):
                    table.loc[label, f"{name}_lo"] = lo[k]
                    table.loc[label, f"{name}_hi"] = hi[k]
        out[column] = table.reset_index().rename(columns={column: "group"})
    return out
