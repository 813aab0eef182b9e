"""Threshold policies: the rule that turns a calibrated probability into a recommendation, chosen on
out-of-fold predictions of the training rows (never on the test set) and stored with the model.

- ``fixed``: a given threshold (default 0.5);
- ``exclusion``: the highest threshold whose exclusion error vs the labels is at most a target;
- ``coverage``: recommend a given share of the families (default: the base rate — as many as the
  labels say are entitled);
- ``budget``: recommend N families of a population the size of the training rows (at scoring time
  ``--budget N`` picks the N most probable of the scored families instead);
- ``balanced``: the threshold of maximum balanced accuracy (Youden's J).
"""

from __future__ import annotations

import math

import numpy as np

from .metrics import threshold_for_budget, threshold_for_exclusion
from .phrases import Phrase

POLICIES = ("fixed", "exclusion", "coverage", "budget", "balanced")


def check(policy: str, value: float | None) -> None:
    """Raise ValueError for a policy or value that cannot be used."""
    if policy not in POLICIES:
        raise ValueError(f"unknown threshold policy {policy!r}: use one of {', '.join(POLICIES)}")
    if policy == "fixed" and value is not None and not 0 < value < 1:
        raise ValueError("a fixed threshold must be between 0 and 1")
    if policy == "exclusion" and (value is None or not 0 <= value < 1):
        raise ValueError("the exclusion policy needs a target exclusion error in [0, 1)")
    if policy == "coverage" and value is not None and not 0 < value <= 1:
        raise ValueError("the coverage policy needs a share in (0, 1]")
    if policy == "budget" and (value is None or value < 1):
        raise ValueError("the budget policy needs a number of families ≥ 1")


def max_balanced_accuracy(y, prob) -> float:
    """The threshold (one of the scores) that maximises TPR + TNR on these labels."""
    y = np.asarray(y, dtype=bool)
    p = np.asarray(prob, dtype=float)
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    tp, fp = np.cumsum(ys), np.cumsum(~ys)
    pos, neg = max(int(ys.sum()), 1), max(int((~ys).sum()), 1)
    boundary = np.r_[ps[1:] != ps[:-1], True]  # cut only between distinct scores
    score = np.where(boundary, tp / pos - fp / neg, -np.inf)
    return float(ps[int(np.argmax(score))])


def choose(y, prob, policy: str, value: float | None = None) -> tuple[float, str, dict]:
    """(threshold, description, details) for ``policy`` on out-of-fold labels and probabilities."""
    check(policy, value)
    y = np.asarray(y, dtype=bool)
    prob = np.asarray(prob, dtype=float)
    if policy == "fixed":
        t = 0.5 if value is None else float(value)
        return (
            t,
            Phrase("policy.fixed", "fixed threshold on the calibrated probability", value=t),
            {"value": t},
        )
    if policy == "exclusion":
        t = threshold_for_exclusion(y, prob, value)
        return (
            t,
            Phrase(
                "policy.exclusion",
                f"highest threshold with exclusion error ≤ {value:.1%} on out-of-fold predictions",
                share=value,
                where="oof",
            ),
            {"target_exclusion": value},
        )
    if policy == "coverage":
        share = float(y.mean()) if value is None else float(value)
        t = threshold_for_budget(prob, max(math.ceil(share * len(prob)), 1))
        what = "the base rate" if value is None else "a given share"
        return (
            t,
            Phrase(
                "policy.base_rate" if value is None else "policy.coverage",
                f"recommends {share:.1%} of the families ({what}) on out-of-fold predictions",
                share=share,
                where="oof",
            ),
            {"coverage": share},
        )
    if policy == "budget":
        n = int(value)
        t = threshold_for_budget(prob, n)
        return (
            t,
            Phrase(
                "policy.budget",
                f"recommends {n:,} of {len(prob):,} families (a budget) on out-of-fold predictions",
                n=n,
                total=len(prob),
                where="oof",
            ),
            {"budget": n, "population": len(prob)},
        )
    t = max_balanced_accuracy(y, prob)
    return (
        t,
        Phrase("policy.balanced", "maximum balanced accuracy on out-of-fold predictions", where="oof"),
        {},
    )
