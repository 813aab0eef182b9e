"""Learning what works: outcomes recorded per step, and the measures' effects re-estimated from them.

Outcomes (one row per member and measure offered): ``person_id``, ``family_id``, ``measure``, ``assigned``
(got the measure), ``started``, ``completed``, ``employed``, ``income_before`` and ``income_after`` (the
family's monthly income, KZT, at the plan's start and end).

Honest comparison: inside an oversubscribed district and measure the plan breaks near-ties by lottery
(``lottery.parquet``); the members who lost that lottery are like those who won it except for chance,
so the difference of their income changes estimates the measure's effect without the selection bias of
comparing participants with everybody else (intention to treat; losers who got another measure are left
out). Without a lottery the estimate compares participants with members given no measure and is marked
``observational`` (biased: the planner chose whom to treat). Estimates are combined with the prior
(normal–normal, the prior's uncertainty about the mean taken as half the spread of individual effects:
an assumption) and written as ``effects.json`` for ``--effects``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import Catalog

OUTCOME_COLUMNS = (
    "person_id",
    "family_id",
    "measure",
    "assigned",
    "started",
    "completed",
    "employed",
    "income_before",
    "income_after",
)
MIN_GROUP = 10  # fewer treated or controls: the prior is kept


def read_outcomes(path: Path | str) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"outcomes file not found: {path}")
    df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    return validate_outcomes(df)


def validate_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in OUTCOME_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"outcomes lack the column(s) {', '.join(missing)} (expected {', '.join(OUTCOME_COLUMNS)})"
        )
    df = df.copy()
    for c in ("assigned", "started", "completed", "employed"):
        df[c] = df[c].astype(bool)
    for c in ("income_before", "income_after"):
        df[c] = pd.to_numeric(df[c], errors="raise").astype(float)
        if (df[c] < 0).any():
            raise ValueError(f"outcomes.{c}: income cannot be negative")
    df["person_id"] = df["person_id"].astype(str)
    df["measure"] = df["measure"].astype(str)
    return df


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    diff = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    return diff, max(se, 1e-9)


def estimate_effects(
    outcomes: pd.DataFrame, catalog: Catalog, lottery: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per measure: prior, estimate (MRP a month) with its standard error and method, posterior."""
    outcomes = validate_outcomes(outcomes)
    gain = (outcomes["income_after"] - outcomes["income_before"]) / catalog.mrp
    outcomes = outcomes.assign(gain=gain)
    rows = []
    for m in catalog.measures:
        prior_mean, spread = m.effect_mean_mrp, m.effect_sd_mrp
        tau = spread / 2
        est = se = np.nan
        n_t = n_c = 0
        method = "prior only"
        if lottery is not None and len(lottery):
            lot = lottery[(lottery["measure"] == m.key) & ~lottery["assigned_other"].astype(bool)]
            o = outcomes[outcomes["measure"] == m.key].merge(
                lot[["person_id", "selected"]].astype({"person_id": str}), on="person_id"
            )
            t, c = o.loc[o["selected"], "gain"].to_numpy(), o.loc[~o["selected"], "gain"].to_numpy()
            if len(t) >= MIN_GROUP and len(c) >= MIN_GROUP:
                est, se = _welch(t, c)
                n_t, n_c, method = len(t), len(c), "lottery (intention to treat)"
        if method == "prior only":
            t = outcomes.loc[(outcomes["measure"] == m.key) & outcomes["assigned"], "gain"].to_numpy()
            assigned_any = set(outcomes.loc[outcomes["assigned"], "person_id"])
            c = outcomes.loc[~outcomes["person_id"].isin(assigned_any), "gain"].drop_duplicates().to_numpy()
            if len(t) >= MIN_GROUP and len(c) >= MIN_GROUP:
                est, se = _welch(t, c)
                n_t, n_c, method = (
                    len(t),
                    len(c),
                    "observational (biased: participants vs members without a measure)",
                )
        if np.isfinite(est):
            w0, w1 = 1 / tau**2, 1 / se**2
            post_mean = (prior_mean * w0 + est * w1) / (w0 + w1)
            post_se = float(np.sqrt(1 / (w0 + w1)))
        else:
            post_mean, post_se = prior_mean, tau
        rows.append(
            {
                "measure": m.key,
                "prior_mean_mrp": prior_mean,
                "prior_sd_mrp": spread,
                "treated": n_t,
                "controls": n_c,
                "estimate_mrp": est,
                "se_mrp": se,
                "method": method,
                "posterior_mean_mrp": float(post_mean),
                "posterior_se_mrp": post_se,
                # the spread of individual effects the planner uses: the prior's, widened by what is unknown
                "effect_sd_mrp": float(np.sqrt(spread**2 + post_se**2)),
            }
        )
    return pd.DataFrame(rows)


def write_effects(table: pd.DataFrame, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "effects": {
            r.measure: {"mean_mrp": r.posterior_mean_mrp, "sd_mrp": r.effect_sd_mrp, "method": r.method,
                        "treated": int(r.treated), "controls": int(r.controls)}
            for r in table.itertuples(index=False)
        }
    }  # fmt: skip
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def read_effects(path: Path | str) -> dict[str, tuple[float, float]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("effects"), dict):
        raise ValueError(f"{path}: expected {{'effects': {{measure: {{mean_mrp, sd_mrp}}}}}}")
    out = {}
    for key, v in data["effects"].items():
        mean, sd = float(v["mean_mrp"]), float(v["sd_mrp"])
        if not np.isfinite(mean) or not np.isfinite(sd) or sd <= 0:
            raise ValueError(f"{path}: effect of {key} must have a finite mean and a positive sd")
        out[key] = (mean, sd)
    return out
