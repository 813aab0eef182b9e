"""A plan's tables from the chosen (member, measure) pairs: assignments with start months, use of places,
district and region figures, budget use, monthly targets, the lottery's candidates and the summary."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .calendar import add_months
from .catalog import Catalog
from .eligibility import family_exit_probability
from .people import Population

LOTTERY_COLUMNS = ["district", "measure", "person_id", "family_id", "selected", "chance"]
REGION_SUMS = [
    "conditional_families", "families_planned", "priority_families", "persons_planned",
    "priority_persons_planned", "budget_mrp", "budget_kzt", "expected_exits",
]  # fmt: skip


@dataclass
class Plan:
    assignments: pd.DataFrame
    capacity: pd.DataFrame
    districts: pd.DataFrame
    regions: pd.DataFrame
    budget: pd.DataFrame
    targets: pd.DataFrame
    lottery: pd.DataFrame
    summary: dict
    notes: list[str] = field(default_factory=list)


@dataclass
class Solution:
    """What the optimiser found, as the tables need it."""

    pr: pd.DataFrame  # the pairs optimised (person, fam, measure, cell, bin, draw, value, costs, effects)
    chosen: np.ndarray  # bool per pair
    cap: pd.DataFrame
    bud: pd.DataFrame
    method: str
    solve_s: float
    n_pairs_all: int
    equity_rule: bool
    notes: list[str]


def assemble(pop: Population, catalog: Catalog, sol: Solution, first_month: str) -> Plan:
    fam = pop.families
    sel = sol.pr[sol.chosen].copy()
    sel["measure_key"] = np.array(catalog.keys)[sel["measure"].to_numpy()]
    # start months: within each district and measure, best first, spread over the first months
    sel = sel.sort_values(["cell", "bin", "draw"], ascending=[True, False, True], kind="stable")
    fams = sel["fam"].to_numpy()
    p_family = family_exit_probability(
        fam["need_kzt"].to_numpy(), fams, sel["mu_kzt"].to_numpy(), sel["sd_kzt"].to_numpy(), len(fam)
    )
    a = _assignments(pop, catalog, sel, p_family, first_month)
    capacity = _capacity_use(sol.cap, a)
    lottery = lottery_table(pop, catalog, sol.pr, sol.chosen)
    a["lottery"] = (
        pd.MultiIndex.from_frame(a[["person_id", "measure"]]).isin(
            pd.MultiIndex.from_frame(lottery.loc[lottery["selected"], ["person_id", "measure"]])
        )
        if len(lottery)
        else False
    )
    planned = np.bincount(fams, minlength=len(fam)) > 0
    districts = _district_table(fam, planned, p_family, a)
    regions = _region_table(districts)
    budget = _budget_use(sol.bud, a, catalog.mrp)
    targets = (
        a.groupby(["region_kato", "district", "measure", "start_month"]).size().rename("starts").reset_index()
    )
    summary = _summary(pop, catalog, sol, a, planned, p_family, budget, first_month, len(lottery))
    return Plan(a, capacity, districts, regions, budget, targets, lottery, summary, sol.notes)


def _start_offsets(sel: pd.DataFrame, spread: int) -> np.ndarray:
    """Month offsets of the starts: within each cell (in ``sel``'s order) spread evenly over ``spread``."""
    rank = sel.groupby("cell", sort=False).cumcount().to_numpy()
    size = sel.groupby("cell", sort=False)["cell"].transform("size").to_numpy()
    return np.minimum(spread - 1, (rank * spread) // np.maximum(size, 1))


def _assignments(pop, catalog: Catalog, sel: pd.DataFrame, p_family, first_month: str) -> pd.DataFrame:
    fam, per = pop.families, pop.persons
    spread = max(1, catalog.planning.start_spread_months)
    offset = _start_offsets(sel, spread)
    measure = sel["measure"].to_numpy()
    months = np.array([catalog.measures[k].months for k in measure], dtype=np.int64)
    fams = sel["fam"].to_numpy()
    source = np.array([m.funding_source for m in catalog.measures])[measure]
    body = np.array([m.responsible_body for m in catalog.measures])[measure]
    month_names = np.array([add_months(first_month, k) for k in range(spread + 24)])
    return pd.DataFrame(
        {
            "family_id": fam["family_id"].to_numpy()[fams],
            "person_id": per["person_id"].to_numpy()[sel["person"].to_numpy()],
            "district": fam["district"].to_numpy()[fams],
            "region_kato": fam["region_kato"].to_numpy()[fams],
            "measure": sel["measure_key"].to_numpy(),
            "start_month": month_names[offset],
            "months": months,
            "end_month": month_names[offset + months - 1],
            "cost_mrp": sel["cost_mrp"].to_numpy(),
            "cost_kzt": np.round(sel["cost_mrp"].to_numpy() * catalog.mrp, 2),
            "funding_source": source,
            "responsible_body": body,
            "expected_income_gain": np.round(sel["mu_kzt"].to_numpy(), 2),
            "income_gain_sd": np.round(sel["sd_kzt"].to_numpy(), 2),
            "family_exit_probability": np.round(p_family[fams], 4),
            "priority_family": fam["priority"].to_numpy()[fams],
            "value": np.round(sel["value"].to_numpy(), 6),
            "tie_band": sel["bin"].to_numpy(),
        }
    ).sort_values(["region_kato", "district", "family_id", "person_id"], kind="stable", ignore_index=True)


def _capacity_use(cap: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    used = a.groupby(["district", "measure"]).size().rename("used")
    capacity = cap.merge(used, left_on=["district", "measure"], right_index=True, how="left")
    capacity["used"] = capacity["used"].fillna(0).astype(np.int64)
    return capacity


def _cost_per_exit(budget_kzt: pd.Series, exits: pd.Series) -> np.ndarray:
    return np.where(exits > 0, (budget_kzt / exits).round(0), np.nan)


def _district_table(fam: pd.DataFrame, planned, p_family, a: pd.DataFrame) -> pd.DataFrame:
    d = pd.DataFrame(
        {
            "district": fam["district"].to_numpy(),
            "region_kato": fam["region_kato"].to_numpy(),
            "planned": planned,
            "priority": fam["priority"].to_numpy(),
            "p_exit": pd.Series(p_family, index=fam["district"].to_numpy()).to_numpy(),
        }
    )
    districts = d.groupby(["district", "region_kato"], sort=True).agg(
        conditional_families=("planned", "size"),
        families_planned=("planned", "sum"),
        priority_families=("priority", "sum"),
        expected_exits=("p_exit", "sum"),
    )
    g = a.groupby("district")
    districts = districts.join(
        pd.DataFrame(
            {
                "persons_planned": g.size(),
                "measures": g["measure"].nunique(),
                "budget_mrp": g["cost_mrp"].sum(),
                "budget_kzt": g["cost_kzt"].sum(),
                "priority_persons_planned": g["priority_family"].sum(),
            }
        ),
        on="district",
    ).reset_index()
    for col in ("persons_planned", "measures", "priority_persons_planned"):
        districts[col] = districts[col].fillna(0).astype(np.int64)
    for col in ("budget_mrp", "budget_kzt"):
        districts[col] = districts[col].fillna(0.0).round(2)
    districts["expected_exits"] = districts["expected_exits"].round(3)
    districts["cost_per_exit_kzt"] = _cost_per_exit(districts["budget_kzt"], districts["expected_exits"])
    return districts


def _region_table(districts: pd.DataFrame) -> pd.DataFrame:
    regions = districts.groupby("region_kato")[REGION_SUMS].sum().reset_index()
    regions["cost_per_exit_kzt"] = _cost_per_exit(regions["budget_kzt"], regions["expected_exits"])
    return regions


def _budget_use(bud: pd.DataFrame, a: pd.DataFrame, mrp: float) -> pd.DataFrame:
    spent = a.groupby(["region_kato", "funding_source"])["cost_mrp"].sum().rename("used_mrp")
    budget = bud.merge(spent, left_on=["region_kato", "funding_source"], right_index=True, how="left")
    budget["used_mrp"] = budget["used_mrp"].fillna(0.0).round(2)
    budget["budget_mrp"] = budget["budget_mrp"].round(2)
    budget["budget_kzt"] = (budget["budget_mrp"] * mrp).round(0)
    budget["used_kzt"] = (budget["used_mrp"] * mrp).round(0)
    return budget


def _summary(pop, catalog, sol: Solution, a, planned, p_family, budget, first_month, n_lottery) -> dict:
    fam = pop.families
    total_budget = float(a["cost_kzt"].sum())
    exits = float(p_family.sum())
    return {
        "families_in_scope": int(len(fam)),
        "members_in_scope": int(len(pop.persons)),
        "eligible_pairs": int(sol.n_pairs_all),
        "pairs_optimised": int(len(sol.pr)),
        "families_planned": int(planned.sum()),
        "persons_planned": int(len(a)),
        "places": int(sol.cap["places"].sum()),
        "budget_available_kzt": float(budget["budget_kzt"].sum()),
        "budget_planned_kzt": round(total_budget, 2),
        "expected_exits": round(exits, 3),
        "cost_per_exit_kzt": round(total_budget / exits, 0) if exits > 0 else None,
        "priority_share_planned": round(float(a["priority_family"].mean()), 4) if len(a) else 0.0,
        "priority_share_families": round(float(fam["priority"].mean()), 4) if len(fam) else 0.0,
        "equity_rule": sol.equity_rule,
        "method": sol.method,
        "seconds_optimisation": round(sol.solve_s, 3),
        "mrp_kzt": catalog.mrp,
        "first_month": first_month,
        "lottery_pairs": int(n_lottery),
    }


def lottery_table(pop, catalog, pr, chosen) -> pd.DataFrame:
    """Candidates in the tie band at the margin of an oversubscribed district and measure: winners and
    losers drawn by lottery, with their chances — the honest comparison for learning effects."""
    if not len(pr):
        return pd.DataFrame(columns=LOTTERY_COLUMNS)
    df = pr[["cell", "bin", "person", "fam", "measure"]].assign(selected=chosen)
    # a cell is oversubscribed at a band when that band has both winners and losers
    g = df.groupby(["cell", "bin"])["selected"].agg(["sum", "size"])
    mixed = g[(g["sum"] > 0) & (g["sum"] < g["size"])]
    if mixed.empty:
        return pd.DataFrame(columns=LOTTERY_COLUMNS)
    key = pd.MultiIndex.from_frame(df[["cell", "bin"]])
    inside = key.isin(mixed.index)
    out = df[inside].copy()
    chance = (mixed["sum"] / mixed["size"]).reindex(pd.MultiIndex.from_frame(out[["cell", "bin"]])).to_numpy()
    fam = pop.families
    # losers who got another measure are marked: not a clean comparison for this measure
    other = np.zeros(len(pop.persons), dtype=bool)
    other[pr["person"].to_numpy()[chosen]] = True
    return pd.DataFrame(
        {
            "district": fam["district"].to_numpy()[out["fam"].to_numpy()],
            "measure": np.array(catalog.keys)[out["measure"].to_numpy()],
            "person_id": pop.persons["person_id"].to_numpy()[out["person"].to_numpy()],
            "family_id": fam["family_id"].to_numpy()[out["fam"].to_numpy()],
            "selected": out["selected"].to_numpy(),
            "chance": np.round(chance, 4),
            "assigned_other": other[out["person"].to_numpy()] & ~out["selected"].to_numpy(),
        }
    ).reset_index(drop=True)
