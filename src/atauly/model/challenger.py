"""A challenger against the champion on the same held-out decisions: the time split, the paired family
bootstrap of the figures officers care about, and the training configuration they share.

Used by retraining on officers' corrections (:mod:`atauly.service.retrain`); nothing here reads the
casework database.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import paired_bootstrap
from .store import StoredModel
from .train import TrainConfig

#: Figures of the held-out comparison, in the order they are shown.
COMPARED = (
    ("agreement", "agreement with officers (accuracy)"),
    ("balanced_accuracy", "balanced accuracy"),
    ("roc_auc", "ROC-AUC"),
    ("override_rate", "override rate it would have caused"),
    ("agreement_on_corrections", "agreement on the officers' corrections (overridden cases)"),
    ("exclusion_error", "exclusion error (vs decisions)"),
    ("inclusion_error", "inclusion error (vs decisions)"),
    ("brier", "Brier score"),
)


def time_split(cases: pd.DataFrame, holdout: float) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): the most recent ``holdout`` share of cases by decision time is held
    out (ties broken by application id)."""
    order = np.lexsort((cases["application_id"].to_numpy(), pd.to_datetime(cases["decided_at"]).to_numpy()))
    n_hold = min(max(int(round(holdout * len(cases))), 1), len(cases) - 1)
    return np.sort(order[: len(cases) - n_hold]), np.sort(order[len(cases) - n_hold :])


def _figures(paired: dict, part: str, corrections: dict) -> dict:
    """Point values and intervals of :data:`COMPARED` for ``part`` (first, second or difference)."""
    point, ci = paired[part], paired[f"{part}_ci"]
    sign = -1.0 if part == "difference" else None  # override rate = 1 − accuracy; its difference = −Δacc

    def override(v):
        return sign * v if sign else 1.0 - v

    lo, hi = ci["accuracy"]
    out = {
        "agreement": (point["accuracy"], ci["accuracy"]),
        "balanced_accuracy": (point["balanced_accuracy"], ci["balanced_accuracy"]),
        "roc_auc": (point["roc_auc"], ci["roc_auc"]),
        "override_rate": (override(point["accuracy"]), (override(hi), override(lo))),
        "agreement_on_corrections": (corrections[part]["accuracy"], corrections[f"{part}_ci"]["accuracy"]),
        "exclusion_error": (point["exclusion_error"], ci["exclusion_error"]),
        "inclusion_error": (point["inclusion_error"], ci["inclusion_error"]),
        "brier": (point["brier"], ci["brier"]),
    }
    return {k: {"value": _num(v), "ci": [_num(c[0]), _num(c[1])]} for k, (v, c) in out.items()}


def _num(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def compare(
    y, groups, overridden, first: tuple, second: tuple, n_boot: int = 200, seed: int = 0
) -> dict[str, dict]:
    """``first`` and ``second`` ((prob, recommended)) on the same cases, with family-bootstrap 95% intervals
    and the paired difference second − first."""
    paired = paired_bootstrap(y, first, second, groups, n_boot, seed)
    corrections = paired_bootstrap(y, first, second, groups, n_boot, seed, subset=overridden)
    return {part: _figures(paired, part, corrections) for part in ("first", "second", "difference")}


def config_for(champion: StoredModel | None, **changes) -> TrainConfig:
    """The training configuration: the champion's threshold policy and quality-gate minimums (so the two
    are compared at the same kind of operating point), else the defaults."""
    params = champion.metadata.get("params", {}) if champion is not None else {}
    keep = ("threshold", "target_exclusion", "min_roc_auc", "min_balanced_accuracy", "policy", "policy_value")
    return TrainConfig(**{k: params[k] for k in keep if k in params}, **changes)
