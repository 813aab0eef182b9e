"""Figures of a model on a test set: accuracy and targeting with intervals, fairness by group, the
comparison with the law on recorded data at the same inclusion error, and the whole population's figures.
Used by training (:mod:`atauly.model.train`) and by the evaluation of a stored model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data import Dataset
from .metrics import (
    binary_metrics,
    bootstrap_intervals,
    fairness,
    inclusion_error,
    poorest_quintile,
    threshold_at_inclusion,
)
from .population import evaluate_population


def evaluate_predictions(ds: Dataset, prob, recommended, n_boot: int, seed: int) -> dict:
    """Metrics vs the labels (and vs true need when known), with bootstrap intervals when n_boot."""
    poorest = poorest_quintile(ds.income) if ds.income is not None else None
    out = {"vs_labels": binary_metrics(ds.y, prob, recommended, poorest)}
    if n_boot:
        out["vs_labels_ci"] = bootstrap_intervals(ds.y, prob, recommended, poorest, ds.groups, n_boot, seed)
    if ds.truth is not None:
        out["vs_truth"] = binary_metrics(ds.truth, prob, recommended, poorest)
        if n_boot:
            out["vs_truth_ci"] = bootstrap_intervals(
                ds.truth, prob, recommended, poorest, ds.groups, n_boot, seed
            )
    return out


def fairness_audit(test: Dataset, prob, recommended, n_boot: int, seed: int) -> dict:
    """Figures by group against the labels and, where known, the truth."""
    poorest = poorest_quintile(test.income) if test.income is not None else None
    audit = {}
    if not test.audit.shape[1]:
        return audit
    for key, reference in (("vs_labels", test.y), ("vs_truth", test.truth)):
        if reference is None:
            continue
        audit[key] = records_of(
            fairness(
                reference,
                recommended,
                test.audit,
                n_boot,
                seed,
                test.groups,
                prob,
                poorest,
            )
        )
    return audit


def matched_to_law_on_recorded(cal: Dataset, prob_cal, test: Dataset, prob) -> dict | None:
    """Issue 4's comparison vs true need: the model at the threshold where its inclusion error equals
    that of the law on recorded data alone (chosen on the calibration families, applied to the test
    set), and the relative reduction of exclusion error. None without true need or that baseline."""
    rule = "law_on_recorded_data"
    if test.truth is None or rule not in test.rules or cal.truth is None:
        return None
    target = inclusion_error(cal.truth, cal.rules[rule])
    thr = threshold_at_inclusion(cal.truth, prob_cal, target)
    model = binary_metrics(test.truth, prob, prob >= thr)
    base = binary_metrics(test.truth, None, test.rules[rule])
    reduction = (
        1 - model["exclusion_error"] / base["exclusion_error"]
        if base["exclusion_error"] > 0
        else float("nan")
    )
    return {
        "threshold": thr,
        "model_exclusion_error": model["exclusion_error"],
        "model_inclusion_error": model["inclusion_error"],
        "law_on_recorded_exclusion_error": base["exclusion_error"],
        "law_on_recorded_inclusion_error": base["inclusion_error"],
        "relative_exclusion_reduction": reduction,
        "target_reduction": 0.30,
        "met": bool(reduction >= 0.30 and model["inclusion_error"] <= base["inclusion_error"]),
    }


def same_data_rule(view: str) -> str:
    """The rule that sees the same data as the model: the law on recorded data for a model trained on the
    recorded view, the law as applied (declared and verified snapshot) for one trained on applications. The
    gate compares the model with that rule only: a rule that sees more than the model (the law as applied,
    for a records-only model) is reported but is no fair rival."""
    return "law_on_recorded_data" if view == "recorded" else "law_as_applied"


def population_figures(ds: Dataset, test: Dataset, prob, recommended, n_boot: int, seed: int) -> dict | None:
    """Figures over every family of the population's quarter (population.py): the applications of that
    quarter among ``test``, the model vs the law on the same data (``ds.view``) at equal coverage."""
    pop = ds.population
    rule = same_data_rule(ds.view)
    if pop is None or test.period is None or rule not in test.rules:
        return None
    quarter = max(test.period)
    rows = np.flatnonzero(test.period == quarter)
    if len(rows) != int((ds.period == quarter).sum()):
        return None  # only part of that quarter's applications is scored (a random split)
    out = evaluate_population(
        pop, test.groups[rows], prob[rows], recommended[rows], test.rules[rule][rows], rule, n_boot, seed
    )
    return {"quarter": str(quarter), **out}


def with_truth_check(gate: dict, check: dict) -> dict:
    """The gate also requires the model to do at least as well as the law on the same data against the
    truth (population.gate_check)."""
    out = {**gate, "truth_check": check}
    if check.get("assessed") and not check["passed"]:
        out["passed"] = False
        out["reason"] = (
            gate["reason"] + "; worse than the law on the same data against the truth: " + check["reason"]
        )
        if gate.get("reason_code") is not None and check.get("reason_code") is not None:
            out["reason_code"] = [
                *gate["reason_code"],
                {"code": "gate.worse_than_law", "why": check["reason_code"]},
            ]
        else:
            out.pop("reason_code", None)  # the English alone says it
    return out


def records_of(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    return {k: v.replace({np.nan: None}).to_dict(orient="records") for k, v in tables.items()}


def evaluate_model(model, threshold: float, ds: Dataset, n_boot: int = 200, seed: int = 0) -> dict:
    """Metrics of a stored model on a dataset (all rows), with intervals and the fairness audit."""
    prob = model.predict_proba(ds.X)[:, 1]
    recommended = prob >= threshold
    poorest = poorest_quintile(ds.income) if ds.income is not None else None
    out = {
        "rows": len(ds),
        "threshold": threshold,
        "model": evaluate_predictions(ds, prob, recommended, n_boot, seed),
    }
    for name, rule in ds.rules.items():
        out[name] = evaluate_predictions(ds, None, rule, n_boot, seed)
    population = population_figures(ds, ds, prob, recommended, n_boot, seed)
    if population is not None:
        out["population"] = population
    if ds.audit.shape[1]:
        out["fairness"] = {
            "vs_labels": records_of(
                fairness(ds.y, recommended, ds.audit, min(n_boot, 100), seed, ds.groups, prob, poorest)
            )
        }
        if ds.truth is not None:
            out["fairness"]["vs_truth"] = records_of(
                fairness(ds.truth, recommended, ds.audit, min(n_boot, 100), seed, ds.groups, prob, poorest)
            )
    return out
