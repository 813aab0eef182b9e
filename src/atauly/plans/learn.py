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
#: Optional outcome columns that define subgroups for heterogeneous effects (the member's attributes at
#: the plan's start, as the plan's population holds them).
SUBGROUP_COLUMNS = ("age", "sex", "education", "disability_group", "settlement_type")
SUBGROUP_EFFECT_COLUMNS = [
    "measure",
    "dimension",
    "subgroup",
    "treated",
    "controls",
    "estimate_mrp",
    "se_mrp",
    "lo_mrp",
    "hi_mrp",
    "method",
]
Z95 = 1.959963984540054


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


def subgroup_labels(outcomes: pd.DataFrame) -> dict[str, pd.Series]:
    """The subgroups each outcome row belongs to, by dimension, for the subgroup columns the outcomes hold:
    age band (18–29, 30–49, 50+), sex, education (low: none to basic secondary; general secondary;
    vocational; higher), disability (any group) and settlement (urban, rural)."""
    out: dict[str, pd.Series] = {}
    if "age" in outcomes:
        age = pd.to_numeric(outcomes["age"], errors="coerce")
        band = np.select([age < 30, age < 50, age >= 50], ["18-29", "30-49", "50+"], default="")
        out["age_band"] = pd.Series(band, index=outcomes.index)
    if "sex" in outcomes:
        out["sex"] = outcomes["sex"].astype("string").fillna("").astype(str)
    if "education" in outcomes:
        edu = outcomes["education"].astype("string").fillna("").astype(str)
        groups = {"none": "low", "primary": "low", "basic_secondary": "low", "general_secondary": "secondary",
                  "technical_vocational": "vocational", "higher": "higher"}  # fmt: skip
        out["education"] = edu.map(groups).fillna("")
    if "disability_group" in outcomes:
        group = pd.to_numeric(outcomes["disability_group"], errors="coerce").fillna(0)
        out["disability"] = pd.Series(np.where(group > 0, "disabled", "not disabled"), index=outcomes.index)
    if "settlement_type" in outcomes:
        out["settlement"] = outcomes["settlement_type"].astype("string").fillna("").astype(str)
    return out


def _comparison(
    outcomes: pd.DataFrame, key: str, lottery: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The rows compared for a measure, as :func:`estimate_effects` compares them: the lottery's winners and
    losers when both groups are large enough, else participants and members given no measure."""
    if lottery is not None and len(lottery):
        lot = lottery[(lottery["measure"] == key) & ~lottery["assigned_other"].astype(bool)]
        o = outcomes[outcomes["measure"] == key].merge(
            lot[["person_id", "selected"]].astype({"person_id": str}), on="person_id"
        )
        won, lost = o[o["selected"].astype(bool)], o[~o["selected"].astype(bool)]
        if len(won) >= MIN_GROUP and len(lost) >= MIN_GROUP:
            return won, lost, "lottery (intention to treat)"
    treated = outcomes[(outcomes["measure"] == key) & outcomes["assigned"]]
    assigned_any = set(outcomes.loc[outcomes["assigned"], "person_id"])
    control = outcomes[~outcomes["person_id"].isin(assigned_any)].drop_duplicates("person_id")
    return treated, control, "observational (biased: participants vs members without a measure)"


def estimate_subgroup_effects(
    outcomes: pd.DataFrame, catalog: Catalog, lottery: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Heterogeneous effects: per measure and subgroup (:func:`subgroup_labels`), the difference of mean
    income change (MRP a month) between the compared groups inside the subgroup, with its standard error
    and 95% interval (Welch). Only subgroups with at least ``MIN_GROUP`` treated and controls get a row.
    Subgroups are many: some intervals will miss their true value by chance, so read the order and the
    sign of clearly separated intervals, not every difference."""
    outcomes = validate_outcomes(outcomes)
    outcomes = outcomes.assign(gain=(outcomes["income_after"] - outcomes["income_before"]) / catalog.mrp)
    labels = subgroup_labels(outcomes)
    first = ~outcomes["person_id"].duplicated().to_numpy()  # a member's attributes: from their first row
    by_person = {
        d: pd.Series(v.to_numpy()[first], index=outcomes["person_id"].to_numpy()[first])
        for d, v in labels.items()
    }
    rows = []
    for m in catalog.measures:
        treated, control, method = _comparison(outcomes, m.key, lottery)
        if len(treated) < MIN_GROUP or len(control) < MIN_GROUP:
            continue
        for dimension, label in by_person.items():
            lt = label.reindex(treated["person_id"].to_numpy()).to_numpy()
            lc = label.reindex(control["person_id"].to_numpy()).to_numpy()
            for level in sorted({str(v) for v in lt if isinstance(v, str) and v}):
                a, b = treated["gain"].to_numpy()[lt == level], control["gain"].to_numpy()[lc == level]
                if len(a) < MIN_GROUP or len(b) < MIN_GROUP:
                    continue
                est, se = _welch(a, b)
                rows.append(
                    {
                        "measure": m.key, "dimension": dimension, "subgroup": level, "treated": len(a),
                        "controls": len(b), "estimate_mrp": est, "se_mrp": se, "lo_mrp": est - Z95 * se,
                        "hi_mrp": est + Z95 * se, "method": method,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows, columns=SUBGROUP_EFFECT_COLUMNS)


def write_effects(table: pd.DataFrame, path: Path | str, subgroups: pd.DataFrame | None = None) -> Path:
    """``effects.json``: the effects by measure for ``--effects``, and the effects by subgroup when given
    (shown in the national plan's summary and report)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "effects": {
            r.measure: {"mean_mrp": r.posterior_mean_mrp, "sd_mrp": r.effect_sd_mrp, "method": r.method,
                        "treated": int(r.treated), "controls": int(r.controls)}
            for r in table.itertuples(index=False)
        }
    }  # fmt: skip
    if subgroups is not None:
        data["subgroups"] = [
            {k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in subgroups[SUBGROUP_EFFECT_COLUMNS].to_dict(orient="records")
        ]
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


def read_subgroup_effects(path: Path | str) -> pd.DataFrame | None:
    """The effects by subgroup an ``effects.json`` holds (None when it holds none)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = data.get("subgroups") if isinstance(data, dict) else None
    if not rows:
        return None
    return pd.DataFrame(rows).reindex(columns=SUBGROUP_EFFECT_COLUMNS)
