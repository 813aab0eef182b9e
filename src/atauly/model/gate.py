"""The quality gate and the forest-versus-rival comparison (issue 16).

The gate is **relative**, on the primary test set vs the labels:

1. clearly better than chance: the lower end of the 95% interval of ROC-AUC (families resampled
   together) is above 0.5;
2. not clearly worse than the best rival measured on the same rows in the same run — the best baseline
   model (logistic regression, gradient boosting) or rule (the law) by ROC-AUC: the forest fails when
   the rival's ROC-AUC is higher by more than ``margin`` *and* the 95% interval of the paired difference
   (the same family resamples for both) lies above zero;
3. an optional floor on ROC-AUC (``--min-roc-auc``) and, only when asked for, on balanced accuracy at
   the stored threshold.

A model trained on shuffled labels fails (1) (tested). A test set with fewer than
:data:`MIN_TEST_CLASS` rows of either class cannot judge ranking at all (one positive family gives a
ROC-AUC of its rank alone, and a bootstrap over rows keeps that family's rank, so its interval is
narrow and meaningless): the gate then fails with that reason alone, not with a verdict on the model.
"""

from __future__ import annotations

import numpy as np

from .metrics import paired_bootstrap
from .phrases import Phrase, joined, record, records

#: A rival better by less than this ROC-AUC is "not clearly better" whatever the interval says.
MARGIN = 0.01

#: Fewest rows of each class in the test set for the gate to judge the model's ranking.
MIN_TEST_CLASS = 5


def compare(test_y, groups, forest: tuple, rivals: dict[str, tuple], n_boot: int, seed: int) -> dict | None:
    """The forest beside the best rival (by ROC-AUC on the test set), with the paired difference
    rival − forest and its interval. ``forest`` and each rival are ``(prob or None, recommended)``."""
    if not rivals or not n_boot:
        return None
    y = np.asarray(test_y, dtype=bool)
    out = {}
    for name, (prob, rec) in rivals.items():
        out[name] = paired_bootstrap(y, forest, (prob, rec), groups, n_boot, seed)
    best = max(out, key=lambda k: np.nan_to_num(out[k]["second"]["roc_auc"], nan=-1.0))
    res = out[best]
    diff, ci = res["difference"], res["difference_ci"]
    d_auc, lo, hi = diff["roc_auc"], *ci["roc_auc"]
    clearly_better = bool(lo > 0 and d_auc > MARGIN)
    if clearly_better:
        verdict = Phrase(
            "compare.rival_better",
            f"{best} is better than the forest: ROC-AUC {res['second']['roc_auc']:.3f} vs "
            f"{res['first']['roc_auc']:.3f} (difference {d_auc:+.3f}, 95% interval [{lo:+.3f}, {hi:+.3f}])",
            name=best,
            a=res["second"]["roc_auc"],
            b=res["first"]["roc_auc"],
            d=d_auc,
            lo=lo,
            hi=hi,
        )
    elif d_auc > 0:
        verdict = Phrase(
            "compare.rival_slightly_better",
            f"{best} ranks slightly better than the forest (ROC-AUC {d_auc:+.3f}, 95% interval "
            f"[{lo:+.3f}, {hi:+.3f}]): not clearly better",
            name=best,
            d=d_auc,
            lo=lo,
            hi=hi,
        )
    else:
        verdict = Phrase(
            "compare.forest_as_good",
            f"the forest ranks at least as well as the best rival, {best} (ROC-AUC difference rival − forest "
            f"{d_auc:+.3f}, 95% interval [{lo:+.3f}, {hi:+.3f}])",
            name=best,
            d=d_auc,
            lo=lo,
            hi=hi,
        )
    return {
        "best_rival": best,
        "rival_is_rule": rivals[best][0] is None,
        "forest": res["first"],
        "rival": res["second"],
        "difference": diff,  # rival − forest
        "difference_ci": ci,
        "rival_clearly_better": clearly_better,
        "margin": MARGIN,
        "verdict": str(verdict),
        "verdict_code": record(verdict),
        "all_rivals": {
            k: {
                "roc_auc": v["second"]["roc_auc"],
                "difference": v["difference"]["roc_auc"],
                "difference_ci": v["difference_ci"]["roc_auc"],
            }
            for k, v in out.items()
        },
    }


def quality_gate(
    headline: dict,
    ci: dict | None,
    comparison: dict | None,
    min_roc_auc: float | None = None,
    min_balanced_accuracy: float | None = None,
    test_y=None,
) -> dict:
    auc, bal = headline["roc_auc"], headline["balanced_accuracy"]
    failures, passed_checks = [], []
    if test_y is not None:
        y = np.asarray(test_y, dtype=bool)
        fewest = int(min(y.sum(), (~y).sum()))
        if fewest < MIN_TEST_CLASS:
            failures.append(
                Phrase(
                    "gate.too_few_in_test",
                    f"too few rows of one class in the test set ({fewest} < {MIN_TEST_CLASS}) to judge the "
                    "model's ranking",
                    n=fewest,
                    floor=MIN_TEST_CLASS,
                )
            )
            return _gate(failures, min_roc_auc, min_balanced_accuracy)
    if ci is not None:
        lo, hi = ci["roc_auc"]
        if not lo > 0.5:
            failures.append(
                Phrase(
                    "gate.chance_not_excluded",
                    f"ROC-AUC interval [{lo:.3f}, {hi:.3f}] includes chance (0.5)",
                    lo=lo,
                    hi=hi,
                )
            )
        else:
            passed_checks.append(
                Phrase(
                    "gate.better_than_chance",
                    f"better than chance (ROC-AUC {auc:.3f}, 95% interval [{lo:.3f}, {hi:.3f}])",
                    auc=auc,
                    lo=lo,
                    hi=hi,
                )
            )
    elif not auc > 0.5:
        failures.append(
            Phrase("gate.not_above_chance", f"ROC-AUC {auc:.3f} is not above chance (0.5)", auc=auc)
        )
    if comparison is not None:
        if comparison["rival_clearly_better"]:
            verdict = comparison.get("verdict_code")
            failures.append(
                Phrase(
                    "gate.worse_than_rival",
                    "clearly worse than a rival on the same data: " + comparison["verdict"],
                    **({"verdict": verdict} if verdict else {"verdict_text": comparison["verdict"]}),
                )
            )
        else:
            passed_checks.append(
                Phrase(
                    "gate.not_worse_than_rival",
                    f"not clearly worse than the best rival, {comparison['best_rival']}",
                    name=comparison["best_rival"],
                )
            )
    if min_roc_auc is not None:
        if not auc >= min_roc_auc:
            failures.append(
                Phrase(
                    "gate.auc_below_floor", f"ROC-AUC {auc:.3f} < {min_roc_auc}", auc=auc, floor=min_roc_auc
                )
            )
        else:
            passed_checks.append(Phrase("gate.auc_floor_met", f"ROC-AUC ≥ {min_roc_auc}", floor=min_roc_auc))
    if min_balanced_accuracy is not None and not bal >= min_balanced_accuracy:
        failures.append(
            Phrase(
                "gate.balanced_below_floor",
                f"balanced accuracy {bal:.3f} < {min_balanced_accuracy}",
                value=bal,
                floor=min_balanced_accuracy,
            )
        )
    return _gate(failures or passed_checks, min_roc_auc, min_balanced_accuracy, passed=not failures)


def _gate(checks: list, min_roc_auc, min_balanced_accuracy, passed: bool = False) -> dict:
    return {
        "passed": passed,
        "reason": joined(checks),
        "reason_code": records(checks),
        "min_roc_auc": min_roc_auc,
        "min_balanced_accuracy": min_balanced_accuracy,
        "rule": "ROC-AUC interval above 0.5; not clearly worse than the best baseline or rule on the same rows"
        + (f"; ROC-AUC ≥ {min_roc_auc}" if min_roc_auc is not None else ""),
    }
