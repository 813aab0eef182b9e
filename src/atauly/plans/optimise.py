"""District and region plans: allocate measures to members so as to maximise expected exits from poverty.

The problem (one LP for the whole scope; regions are coupled only through nothing, so it splits cleanly):

    maximise   Σ value[p] · x[p]                      p = an eligible (member, measure) pair
    subject to Σ_{p of a member} x[p] ≤ 1              one measure per member
               Σ_{p in district d, measure m} x ≤ places[d, m]
               Σ_{p in region r, source s} cost · x ≤ budget[r, s]     (budgets are pooled by region)
               Σ_{p in r, priority} x ≥ floor · share_r · Σ_{p in r} x   (equity rule, planning.yaml)
               Σ_{p of measure m} x ≥ quota[m]           (optional minimum starts)
               0 ≤ x ≤ 1

``value`` is the probability that the measure alone lifts the family above the poverty line plus a small
weight on the share of its gap it closes. Small problems are solved as a MILP (HiGHS branch and bound through
``scipy.optimize.milp``); large ones as the LP relaxation (HiGHS), then rounded and repaired: pairs are taken
in the order of their LP values and accepted while the member is free and places and budget remain; a fill
pass then gives leftover places to the best remaining pairs. Inside a band of near-equal values the order is
drawn by lottery (``tie_band``), so that in oversubscribed places winners and losers are comparable and the
effects can be learned (``lottery`` in the output; see docs/plans.md for the caveat).

At national scale a pair enters only if it ranks within ``candidate_multiple`` × places of its district and
measure by its own value: the others could not win a place.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .capacity import budget_table, capacity_table
from .catalog import Catalog
from .eligibility import pairs
from .infeasible import PlanInfeasibleError, check_quotas, explain_empty, nothing_placed
from .people import Population
from .result import Plan, Solution, assemble
from .rounding import repair, tie_bins

__all__ = ["MILP_MAX_PAIRS", "MILP_TIME_LIMIT_S", "Plan", "PlanInfeasibleError", "budget_table",
           "capacity_table", "make_plan"]  # fmt: skip

#: Up to this many pairs the exact MILP is tried (with a time limit), above it LP + rounding + repair.
MILP_MAX_PAIRS = 800
#: A MILP that has not proved optimality by then is dropped for LP + rounding (a time-limited incumbent
#: would depend on the machine's speed; the plan must be reproducible from its inputs and seed).
MILP_TIME_LIMIT_S = 3.0


def _solve(
    pr,
    cap_index,
    cap_places,
    bud_index,
    bud_budget,
    priority,
    floor_share,
    region_idx,
    quotas,
    catalog,
    exact=True,
):
    """LP (or MILP when small) over the pairs; returns x in [0, 1]."""
    n = len(pr)
    A, lo, hi = _constraints(
        pr, cap_index, cap_places, bud_index, bud_budget, priority, floor_share, region_idx, quotas, catalog
    )
    c = -pr["value"].to_numpy()
    if exact and n <= MILP_MAX_PAIRS:
        res = milp(
            c,
            constraints=LinearConstraint(A, lo, hi),
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
            options={"time_limit": MILP_TIME_LIMIT_S, "disp": False},
        )
        if res.x is not None and res.status == 0:
            return np.asarray(res.x), "milp"
        if res.status == 2:
            return None, "infeasible"
    # LP relaxation: express lo ≤ Ax ≤ hi as two one-sided blocks
    finite_hi, finite_lo = np.isfinite(hi), np.isfinite(lo)
    A_ub = sparse.vstack([A[finite_hi], -A[finite_lo]], format="csr")
    b_ub = np.concatenate([hi[finite_hi], -lo[finite_lo]])
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    if res.status == 2:
        return None, "infeasible"
    if res.x is None:
        raise RuntimeError(f"the LP solver stopped without a solution: {res.message}")
    return np.asarray(res.x), "lp relaxation + rounding and repair"


def _constraints(
    pr, cap_index, cap_places, bud_index, bud_budget, priority, floor_share, region_idx, quotas, catalog
):
    """The constraints lo ≤ A·x ≤ hi of the module's docstring, one block of rows each."""
    n = len(pr)
    person = pr["person"].to_numpy()
    pu, pinv = np.unique(person, return_inverse=True)
    rows = []
    ub = []
    lb = []
    cols = np.arange(n)
    # one measure per member
    rows.append(sparse.csr_matrix((np.ones(n), (pinv, cols)), shape=(len(pu), n)))
    ub.append(np.ones(len(pu)))
    lb.append(np.full(len(pu), -np.inf))
    # places
    rows.append(sparse.csr_matrix((np.ones(n), (cap_index, cols)), shape=(len(cap_places), n)))
    ub.append(cap_places.astype(float))
    lb.append(np.full(len(cap_places), -np.inf))
    # budgets
    cost = pr["cost_mrp"].to_numpy()
    rows.append(sparse.csr_matrix((cost, (bud_index, cols)), shape=(len(bud_budget), n)))
    ub.append(bud_budget.astype(float))
    lb.append(np.full(len(bud_budget), -np.inf))
    # equity floor per region: Σ_P x − share·floor·Σ x ≥ 0
    if floor_share is not None:
        regions = np.unique(region_idx)
        coef = priority.astype(float) - floor_share  # floor_share is already one value per pair
        rmap = np.searchsorted(regions, region_idx)
        rows.append(sparse.csr_matrix((coef, (rmap, cols)), shape=(len(regions), n)))
        lb.append(np.zeros(len(regions)))
        ub.append(np.full(len(regions), np.inf))
    # quotas
    if quotas:
        mk = pr["measure"].to_numpy()
        for key, q in quotas.items():
            k = catalog.keys.index(key)
            rows.append(sparse.csr_matrix((mk == k).astype(float)[None, :]))
            lb.append(np.array([float(q)]))
            ub.append(np.array([np.inf]))
    A = sparse.vstack(rows, format="csr")
    return A, np.concatenate(lb), np.concatenate(ub)


def _solve_by_region(pr, cap, bud_index, bud, priority, floor_share, region_idx, catalog):
    """Without national quotas nothing couples regions (places are per district, budgets per region, the
    equity floor per region): one LP per region gives the same optimum, faster than one large LP."""
    x = np.zeros(len(pr))
    methods = set()
    for r in np.unique(region_idx):
        rows = np.flatnonzero(region_idx == r)
        xr, method = _solve(
            pr.iloc[rows], pr["cell"].to_numpy()[rows], cap["places"].to_numpy(), bud_index[rows],
            bud["budget_mrp"].to_numpy(), priority[rows], None if floor_share is None else floor_share[rows],
            region_idx[rows], None, catalog, exact=False,
        )  # fmt: skip
        if xr is None:
            return None, "infeasible"
        x[rows] = xr
        methods.add(method)
    return x, " / ".join(sorted(methods)) + " (by region)"


def make_plan(
    pop: Population,
    catalog: Catalog,
    *,
    first_month: str,
    budget_scale: float = 1.0,
    places_scale: float = 1.0,
    places: pd.DataFrame | None = None,
    quotas: dict[str, int] | None = None,
    equity: bool = True,
    seed: int = 0,
    prune: bool | None = None,
    lottery: bool = True,
) -> Plan:
    """Plan the measures for the families of ``pop`` (see the module's docstring)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    quotas = _valid_quotas(quotas, catalog)
    cap = capacity_table(pop, catalog, places_scale, places)
    bud = budget_table(pop, catalog, budget_scale)
    if prune is None:
        prune = len(pop.persons) * len(catalog.measures) > 300_000  # national scale
    pr = pairs(pop, catalog, cap, catalog.planning.candidate_multiple if prune else None)
    n_pairs_all = int(pr.attrs.get("eligible_pairs", len(pr)))
    if len(pr) == 0:
        every = pairs(pop, catalog)
        if quotas:
            check_quotas(quotas, catalog, cap, every, bud)
        raise PlanInfeasibleError(explain_empty(pop, catalog, cap, every))
    pr["cell"] = _cells(pop, catalog, pr, cap)
    if quotas:
        check_quotas(quotas, catalog, cap, pairs(pop, catalog, cap) if prune else pr, bud)
    # tie bands and lottery numbers (drawn for every pair, so the order is reproducible from the seed)
    pr["bin"] = tie_bins(pr["value"].to_numpy(), catalog.planning.tie_band if lottery else 0.0)
    pr["draw"] = rng.random(len(pr))
    fam = pop.families
    region = fam["region_kato"].to_numpy()[pr["fam"].to_numpy()]
    sources = np.array([m.funding_source for m in catalog.measures])[pr["measure"].to_numpy()]
    bud_key = pd.MultiIndex.from_frame(bud[["region_kato", "funding_source"]])
    bud_index = bud_key.get_indexer(pd.MultiIndex.from_arrays([region, sources]))
    priority = fam["priority"].to_numpy()[pr["fam"].to_numpy()]
    regions_u, region_idx = np.unique(region, return_inverse=True)
    floor_share = None
    if equity and catalog.planning.equity_floor_factor > 0:
        floor_share = _equity_floor_share(pop, catalog, pr, region_idx)
    notes: list[str] = []
    x, method = _solve_all(
        pr, cap, bud_index, bud, priority, floor_share, region_idx, quotas, catalog, len(regions_u), notes
    )
    chosen = repair(
        pr, x, (pr["bin"].to_numpy(), pr["draw"].to_numpy()), pr["cell"].to_numpy(),
        cap["places"].to_numpy(), bud_index, bud["budget_mrp"].to_numpy(), len(pop.persons),
    )  # fmt: skip
    if not chosen.any():
        raise nothing_placed(pr, bud, bud_index)
    notes.extend(_quota_notes(quotas, catalog, pr, chosen))
    solution = Solution(
        pr, chosen, cap, bud, method, time.perf_counter() - t0, n_pairs_all, floor_share is not None, notes
    )
    return assemble(pop, catalog, solution, first_month)


def _valid_quotas(quotas: dict[str, int] | None, catalog: Catalog) -> dict[str, int]:
    """The positive quotas as whole numbers; an unknown measure is a KeyError naming the known ones."""
    quotas = {k: int(v) for k, v in (quotas or {}).items() if int(v) > 0}
    for key in quotas:
        catalog.measure(key)
    return quotas


def _cells(pop: Population, catalog: Catalog, pr: pd.DataFrame, cap: pd.DataFrame) -> np.ndarray:
    """Each pair's row in the capacity table (its district and measure)."""
    keys = np.array(catalog.keys)
    district = pop.families["district"].to_numpy()[pr["fam"].to_numpy()]
    cell = pd.MultiIndex.from_arrays([district, keys[pr["measure"].to_numpy()]])
    return pd.MultiIndex.from_frame(cap[["district", "measure"]]).get_indexer(cell)


def _equity_floor_share(pop: Population, catalog: Catalog, pr: pd.DataFrame, region_idx) -> np.ndarray:
    """Per pair, the floor on its region's priority share: the factor × the share of priority members
    among the region's candidate members (at most 1)."""
    fam = pop.families
    people = pr.drop_duplicates("person")
    preg = np.unique(fam["region_kato"].to_numpy()[people["fam"].to_numpy()], return_inverse=True)[1]
    weights = fam["priority"].to_numpy()[people["fam"].to_numpy()]
    share = np.bincount(preg, weights=weights) / np.bincount(preg)
    return np.minimum(1.0, catalog.planning.equity_floor_factor * share)[region_idx]


def _solve_all(pr, cap, bud_index, bud, priority, floor_share, region_idx, quotas, catalog, n_regions, notes):
    """Solve the whole scope (by region when nothing couples regions); when quotas and the equity floor
    cannot be met together, again without the floor (said in ``notes``)."""

    def whole(floor):
        return _solve(
            pr, pr["cell"].to_numpy(), cap["places"].to_numpy(), bud_index, bud["budget_mrp"].to_numpy(),
            priority, floor, region_idx, quotas, catalog,
        )  # fmt: skip

    if quotas or n_regions == 1:
        x, method = whole(floor_share)
    else:
        x, method = _solve_by_region(pr, cap, bud_index, bud, priority, floor_share, region_idx, catalog)
    if x is None and floor_share is not None:
        notes.append(
            "The equity floor could not be met together with the quotas within places and budgets; the plan "
            "was made without it."
        )
        x, method = whole(None)
    if x is None:
        raise PlanInfeasibleError(
            ["the quotas cannot be met together within the places and budgets (each one alone can)"]
        )
    return x, method


def _quota_notes(quotas: dict[str, int], catalog: Catalog, pr: pd.DataFrame, chosen) -> list[str]:
    """A note for each quota that rounding left unmet."""
    if not quotas:
        return []
    got = pd.Series(np.array(catalog.keys)[pr["measure"].to_numpy()[chosen]]).value_counts()
    return [
        f"Rounding left {int(got.get(key, 0)):,} starts of {key}, below its quota of {q:,}."
        for key, q in quotas.items()
        if int(got.get(key, 0)) < q
    ]
