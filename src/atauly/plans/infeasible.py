"""Why no plan can be made: the error and the reasons it gives, in words a planner can act on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import Catalog
from .people import Population


class PlanInfeasibleError(ValueError):
    """The inputs admit no plan (no places, no eligible member, contradictory quotas): ``reasons`` say why."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("no plan can be made: " + "; ".join(reasons))


def explain_empty(pop: Population, catalog: Catalog, cap: pd.DataFrame, pr: pd.DataFrame) -> list[str]:
    """Why no (member, measure) pair can enter the plan; ``pr`` are all the eligible pairs."""
    reasons = []
    if len(pop.families) == 0:
        return ["no family in scope is entitled to conditional ASP by the law (nothing to plan)"]
    if len(pr) == 0:
        return [
            f"none of the {len(pop.persons):,} members of the {len(pop.families):,} conditional families is "
            "eligible for any measure (check ages, ability to work and the measures' eligibility)"
        ]
    if int(cap["places"].sum()) == 0:
        reasons.append(
            "there are no places at all for any measure in the districts planned (places_per_10k or the places "
            "file give 0 everywhere)"
        )
    else:
        with_places = set(cap.loc[cap["places"] > 0, "measure"])
        wanted = {catalog.measures[k].key for k in pd.unique(pr["measure"])}
        reasons.append(
            "the eligible members want measures "
            + ", ".join(sorted(wanted))
            + " but the districts where they live have no places for them (places exist only for "
            + (", ".join(sorted(with_places)) or "nothing")
            + ")"
        )
    return reasons


def check_quotas(quotas: dict[str, int], catalog: Catalog, cap: pd.DataFrame, pr: pd.DataFrame, bud) -> None:
    """Raise :class:`PlanInfeasibleError` when a quota (or their sum) cannot be met on its own."""
    reasons = []
    for key, q in quotas.items():
        reasons.extend(_quota_reasons(key, q, catalog, cap, pr, bud))
    total_quota = sum(quotas.values())
    persons = int(pr["person"].nunique())
    if total_quota > persons:
        reasons.append(f"the quotas add up to {total_quota:,} starts for {persons:,} eligible members")
    if reasons:
        raise PlanInfeasibleError(reasons)


def _quota_reasons(key: str, q: int, catalog: Catalog, cap: pd.DataFrame, pr: pd.DataFrame, bud) -> list[str]:
    reasons = []
    k = catalog.keys.index(key)
    places = int(cap.loc[cap["measure"] == key, "places"].sum())
    people = int(pr.loc[pr["measure"] == k, "person"].nunique())
    if q > places:
        reasons.append(f"the quota of {q:,} starts of {key} exceeds its {places:,} places")
    if q > people:
        reasons.append(f"the quota of {q:,} starts of {key} exceeds the {people:,} members eligible for it")
    if people and q <= min(places, people):
        m = catalog.measure(key)
        cheapest = pr.loc[pr["measure"] == k, "cost_mrp"].nsmallest(q).sum()
        total = bud.loc[bud["funding_source"] == m.funding_source, "budget_mrp"].sum()
        if cheapest > total:
            reasons.append(
                f"the quota of {q:,} starts of {key} costs at least {cheapest:,.0f} MRP, more than the "
                f"{total:,.0f} MRP of the {m.funding_source} budget"
            )
    return reasons


def nothing_placed(pr: pd.DataFrame, bud: pd.DataFrame, bud_index: np.ndarray) -> PlanInfeasibleError:
    """The error when rounding placed no measure at all: the budgets too small for the cheapest measure."""
    cheapest = pr.groupby(bud_index)["cost_mrp"].min()
    have = bud["budget_mrp"].to_numpy()
    short = [
        f"{bud['funding_source'].iat[b]} of region {bud['region_kato'].iat[b]}: {have[b]:,.1f} MRP, the "
        f"cheapest measure it pays costs {c:,.1f} MRP"
        for b, c in cheapest.items()
        if have[b] < c
    ]
    return PlanInfeasibleError(
        ["the budgets cannot pay for a single measure (" + "; ".join(short[:5]) + ")"]
        if short
        else ["no measure could be placed within the places and budgets"]
    )
