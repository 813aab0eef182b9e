"""Result tables as the command line shows them: training metrics, evaluations, a table's columns."""

from __future__ import annotations

import pandas as pd

#: Figures of an evaluation, in the order they are shown.
EVALUATION_FIGURES = (
    "accuracy",
    "balanced_accuracy",
    "roc_auc",
    "brier",
    "exclusion_error",
    "inclusion_error",
)


def evaluation_table(result: dict, model_name: str) -> pd.DataFrame:
    """An evaluation's figures: the stored model (named ``model_name``) and the rules beside it."""
    rows = []
    for name, res in result.items():
        if not isinstance(res, dict) or name == "fairness":
            continue
        for ref in ("labels", "truth"):
            m = res.get(f"vs_{ref}")
            if m:
                rows.append(
                    {
                        "model": model_name if name == "model" else name,
                        "vs": ref,
                        **{k: f"{m[k]:.3f}" for k in EVALUATION_FIGURES},
                    }
                )
    return pd.DataFrame(rows)


def ingestion_table(ingestion) -> pd.DataFrame:
    """Every column of a user's table: kept, converted or dropped, and why."""
    from .ingest import report_frame

    table = report_frame(ingestion)
    table["missing_share"] = table["missing_share"].map(lambda v: f"{v:.0%}")
    return pd.DataFrame(table).rename(columns={"missing_share": "missing"})


def format_text(file_format: dict) -> str:
    """``csv, encoding cp1251, delimiter ';'``: how a user's file was read."""
    parts = [file_format.get("format", "")]
    if file_format.get("encoding"):
        parts.append(f"encoding {file_format['encoding']}")
    if file_format.get("delimiter"):
        parts.append(f"delimiter {file_format['delimiter']!r}")
    return ", ".join(p for p in parts if p)


def share_text(value: float) -> str:
    return "n/a (the rule misses no entitled family)" if value != value else f"{value:.1%}"
