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

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from .catalog import FUNDING_SOURCES, Catalog
from .eligibility import family_exit_probability, pairs
from .people import Population

#: Up to this many pairs the exact MILP is tried (with a time limit), above it LP + rounding + repair.
MILP_MAX_PAIRS = 800
#: A MILP that has not proved optimality by then is dropped for LP + rounding (a time-limited incumbent
#: would depend on the machine's speed; the plan must be reproducible from its inputs and seed).
MILP_TIME_LIMIT_S = 3.0


class PlanInfeasibleError(ValueError):
    """The inputs admit no plan (no places, no eligible member, contradictory quotas): ``reasons`` say why."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("no plan can be made: " + "; ".join(reasons))


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


def capacity_table(
    pop: Population,
    catalog: Catalog,
    places_scale: float = 1.0,
    places: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Places per district and measure for the plan's year: ``places_per_10k`` × the district's families
    (all families of the registry) ÷ 10,000, rounded half up; ``places`` (district, measure, places)
    overrides cells, ``places_scale`` scales all (what-if)."""
    districts = pd.Index(sorted(pd.unique(pop.families["district"])))
    region = pop.families.drop_duplicates("district").set_index("district")["region_kato"].reindex(districts)
    n = pop.district_families.reindex(districts).fillna(0).to_numpy(dtype=float)
    rows = []
    for m in catalog.measures:
        value = np.floor(m.places_per_10k * n / 10_000 * places_scale + 0.5).astype(np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "district": districts,
                    "region_kato": region.to_numpy(),
                    "measure": m.key,
                    "funding_source": m.funding_source,
                    "places": value,
                }
            )
        )
    cap = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if places is not None and len(places):
        over = places.assign(district=places["district"].astype(str)).set_index(["district", "measure"])
        key = pd.MultiIndex.from_frame(cap[["district", "measure"]])
        found = over.index.isin(key)
        if not found.all():
            unknown = over.index[~found][:3].tolist()
            raise ValueError(f"places given for unknown district/measure pairs, e.g. {unknown}")
        hit = key.get_indexer(over.index)
        values = cap["places"].to_numpy().copy()
        values[hit] = np.floor(over["places"].to_numpy(dtype=float) * places_scale + 0.5).astype(np.int64)
        cap["places"] = values
    return cap


def budget_table(pop: Population, catalog: Catalog, budget_scale: float = 1.0) -> pd.DataFrame:
    """Budget per region and funding source for the plan's year, MRP (pooled by region)."""
    regions = sorted(pd.unique(pop.families["region_kato"]))
    n = pop.region_families.reindex(regions).fillna(0).to_numpy(dtype=float)
    rows = []
    for s in FUNDING_SOURCES:
        rows.append(
            pd.DataFrame(
                {
                    "region_kato": regions,
                    "funding_source": s,
                    "budget_mrp": catalog.planning.budget_mrp_per_10k[s] * n / 10_000 * budget_scale,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _explain_empty(pop: Population, catalog: Catalog, cap: pd.DataFrame, pr: pd.DataFrame) -> list[str]:
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


def _check_quotas(quotas: dict[str, int], catalog: Catalog, cap: pd.DataFrame, pr: pd.DataFrame, bud) -> None:
    reasons = []
    for key, q in quotas.items():
        k = catalog.keys.index(key)
        places = int(cap.loc[cap["measure"] == key, "places"].sum())
        people = int(pr.loc[pr["measure"] == k, "person"].nunique())
        if q > places:
            reasons.append(f"the quota of {q:,} starts of {key} exceeds its {places:,} places")
        if q > people:
            reasons.append(
                f"the quota of {q:,} starts of {key} exceeds the {people:,} members eligible for it"
            )
        if people and q <= min(places, people):
            m = catalog.measure(key)
            cheapest = pr.loc[pr["measure"] == k, "cost_mrp"].nsmallest(q).sum()
            total = bud.loc[bud["funding_source"] == m.funding_source, "budget_mrp"].sum()
            if cheapest > total:
                reasons.append(
                    f"the quota of {q:,} starts of {key} costs at least {cheapest:,.0f} MRP, more than the "
                    f"{total:,.0f} MRP of the {m.funding_source} budget"
                )
    total_quota = sum(quotas.values())
    persons = int(pr["person"].nunique())
    if total_quota > persons:
        reasons.append(f"the quotas add up to {total_quota:,} starts for {persons:,} eligible members")
    if reasons:
        raise PlanInfeasibleError(reasons)


def _tie_bins(value: np.ndarray, band: float) -> np.ndarray:
    """Bands of near-equal values: equal bin ⇔ values within a factor (1 + band) (on a log grid)."""
    if band <= 0:
        return -np.arange(len(value), dtype=np.int64)  # no ties: value order
    return np.floor(np.log(np.maximum(value, 1e-12)) / math.log1p(band)).astype(np.int64)


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
        coef = priority.astype(float) - floor_share[region_idx]
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
    lo, hi = np.concatenate(lb), np.concatenate(ub)
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


def _repair(pr, x, order_key, cap_index, cap_places, bud_index, bud_budget, n_persons):
    """Round the LP solution: accept pairs in order (LP value, then tie band and lottery), while the member
    is free and places and budget remain; then a fill pass over the pairs left, in value order."""
    n = len(pr)
    person = pr["person"].to_numpy()
    cost = pr["cost_mrp"].to_numpy()
    taken = np.zeros(n_persons, dtype=bool)
    places = cap_places.astype(np.int64).copy()
    budget = bud_budget.astype(float).copy()
    chosen = np.zeros(n, dtype=bool)
    xr = np.round(x, 6)
    first = np.lexsort((order_key[1], -order_key[0], -xr))  # LP value desc, tie band desc, lottery
    fill = np.lexsort((order_key[1], -order_key[0]))
    for idx_order, min_x in ((first, 1e-6), (fill, -1.0)):
        for i in idx_order:
            if xr[i] < min_x:
                break
            p = person[i]
            if taken[p]:
                continue
            c, b = cap_index[i], bud_index[i]
            if places[c] <= 0 or budget[b] < cost[i] - 1e-9:
                continue
            taken[p] = True
            places[c] -= 1
            budget[b] -= cost[i]
            chosen[i] = True
    return chosen


def _month(first_month: str, offset: int) -> str:
    y, m = map(int, first_month.split("-"))
    m0 = (m - 1) + offset
    return f"{y + m0 // 12}-{m0 % 12 + 1:02d}"


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
    quotas = {k: int(v) for k, v in (quotas or {}).items() if int(v) > 0}
    for key in quotas:
        catalog.measure(key)  # unknown measure → KeyError with the list
    notes: list[str] = []
    fam = pop.families
    cap = capacity_table(pop, catalog, places_scale, places)
    bud = budget_table(pop, catalog, budget_scale)
    if prune is None:
        prune = len(pop.persons) * len(catalog.measures) > 300_000  # national scale
    pr = pairs(pop, catalog, cap, catalog.planning.candidate_multiple if prune else None)
    n_pairs_all = int(pr.attrs.get("eligible_pairs", len(pr)))
    keys = np.array(catalog.keys)
    if len(pr) == 0:
        every = pairs(pop, catalog)
        if quotas:
            _check_quotas(quotas, catalog, cap, every, bud)
        raise PlanInfeasibleError(_explain_empty(pop, catalog, cap, every))
    district = fam["district"].to_numpy()[pr["fam"].to_numpy()]
    cell = pd.MultiIndex.from_arrays([district, keys[pr["measure"].to_numpy()]])
    pr["cell"] = pd.MultiIndex.from_frame(cap[["district", "measure"]]).get_indexer(cell)
    if quotas:
        _check_quotas(quotas, catalog, cap, pairs(pop, catalog, cap) if prune else pr, bud)
    # tie bands and lottery numbers (drawn for every pair, so the order is reproducible from the seed)
    pr["bin"] = _tie_bins(pr["value"].to_numpy(), catalog.planning.tie_band if lottery else 0.0)
    pr["draw"] = rng.random(len(pr))
    region = fam["region_kato"].to_numpy()[pr["fam"].to_numpy()]
    sources = np.array([m.funding_source for m in catalog.measures])[pr["measure"].to_numpy()]
    bud_key = pd.MultiIndex.from_frame(bud[["region_kato", "funding_source"]])
    bud_index = bud_key.get_indexer(pd.MultiIndex.from_arrays([region, sources]))
    priority = fam["priority"].to_numpy()[pr["fam"].to_numpy()]
    floor_share = None
    regions_u, region_idx = np.unique(region, return_inverse=True)
    if equity and catalog.planning.equity_floor_factor > 0:
        # share of priority members among the region's candidate members
        people = pr.drop_duplicates("person")
        preg = np.unique(fam["region_kato"].to_numpy()[people["fam"].to_numpy()], return_inverse=True)[1]
        share = np.bincount(preg, weights=fam["priority"].to_numpy()[people["fam"].to_numpy()]) / np.bincount(
            preg
        )
        floor_share = np.minimum(1.0, catalog.planning.equity_floor_factor * share)[region_idx]
    if quotas or len(regions_u) == 1:
        x, method = _solve(
            pr, pr["cell"].to_numpy(), cap["places"].to_numpy(), bud_index, bud["budget_mrp"].to_numpy(),
            priority, floor_share, region_idx, quotas, catalog,
        )  # fmt: skip
    else:
        x, method = _solve_by_region(pr, cap, bud_index, bud, priority, floor_share, region_idx, catalog)
    if x is None and floor_share is not None:
        notes.append(
            "The equity floor could not be met together with the quotas within places and budgets; the plan "
            "was made without it."
        )
        x, method = _solve(
            pr, pr["cell"].to_numpy(), cap["places"].to_numpy(), bud_index, bud["budget_mrp"].to_numpy(),
            priority, None, region_idx, quotas, catalog,
        )  # fmt: skip
    if x is None:
        raise PlanInfeasibleError(
            ["the quotas cannot be met together within the places and budgets (each one alone can)"]
        )
    chosen = _repair(
        pr, x, (pr["bin"].to_numpy(), pr["draw"].to_numpy()), pr["cell"].to_numpy(),
        cap["places"].to_numpy(), bud_index, bud["budget_mrp"].to_numpy(), len(pop.persons),
    )  # fmt: skip
    if not chosen.any():
        cheapest = pr.groupby(bud_index)["cost_mrp"].min()
        have = bud["budget_mrp"].to_numpy()
        short = [
            f"{bud['funding_source'].iat[b]} of region {bud['region_kato'].iat[b]}: {have[b]:,.1f} MRP, the "
            f"cheapest measure it pays costs {c:,.1f} MRP"
            for b, c in cheapest.items()
            if have[b] < c
        ]
        raise PlanInfeasibleError(
            ["the budgets cannot pay for a single measure (" + "; ".join(short[:5]) + ")"]
            if short
            else ["no measure could be placed within the places and budgets"]
        )
    if quotas:
        got = pd.Series(keys[pr["measure"].to_numpy()[chosen]]).value_counts()
        for key, q in quotas.items():
            if int(got.get(key, 0)) < q:
                notes.append(
                    f"Rounding left {int(got.get(key, 0)):,} starts of {key}, below its quota of {q:,}."
                )
    solve_s = time.perf_counter() - t0
    return _assemble(
        pop,
        catalog,
        pr,
        chosen,
        cap,
        bud,
        first_month,
        notes,
        method,
        solve_s,
        n_pairs_all,
        floor_share,
        region_idx,
    )


def _assemble(
    pop,
    catalog,
    pr,
    chosen,
    cap,
    bud,
    first_month,
    notes,
    method,
    solve_s,
    n_pairs_all,
    floor_share,
    region_idx,
):
    fam = pop.families
    per = pop.persons
    keys = np.array(catalog.keys)
    sel = pr[chosen].copy()
    sel["measure_key"] = keys[sel["measure"].to_numpy()]
    # start months: within each district and measure, best first, spread over the first months
    sel = sel.sort_values(["cell", "bin", "draw"], ascending=[True, False, True], kind="stable")
    rank = sel.groupby("cell", sort=False).cumcount().to_numpy()
    size = sel.groupby("cell", sort=False)["cell"].transform("size").to_numpy()
    spread = max(1, catalog.planning.start_spread_months)
    offset = np.minimum(spread - 1, (rank * spread) // np.maximum(size, 1))
    months = np.array([catalog.measures[k].months for k in sel["measure"].to_numpy()], dtype=np.int64)
    fams = sel["fam"].to_numpy()
    p_family = family_exit_probability(
        fam["need_kzt"].to_numpy(), fams, sel["mu_kzt"].to_numpy(), sel["sd_kzt"].to_numpy(), len(fam)
    )
    source = np.array([m.funding_source for m in catalog.measures])[sel["measure"].to_numpy()]
    body = np.array([m.responsible_body for m in catalog.measures])[sel["measure"].to_numpy()]
    month_names = np.array([_month(first_month, k) for k in range(spread + 24)])
    a = pd.DataFrame(
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

    used = a.groupby(["district", "measure"]).size().rename("used")
    capacity = cap.merge(used, left_on=["district", "measure"], right_index=True, how="left")
    capacity["used"] = capacity["used"].fillna(0).astype(np.int64)

    lottery = _lottery(pop, catalog, pr, chosen)
    a["lottery"] = (
        pd.MultiIndex.from_frame(a[["person_id", "measure"]]).isin(
            pd.MultiIndex.from_frame(lottery.loc[lottery["selected"], ["person_id", "measure"]])
        )
        if len(lottery)
        else False
    )

    # per district
    fam_exit = pd.Series(p_family, index=fam["district"].to_numpy())
    planned = np.bincount(fams, minlength=len(fam)) > 0
    d = pd.DataFrame(
        {
            "district": fam["district"].to_numpy(),
            "region_kato": fam["region_kato"].to_numpy(),
            "planned": planned,
            "priority": fam["priority"].to_numpy(),
            "p_exit": fam_exit.to_numpy(),
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
    districts["cost_per_exit_kzt"] = np.where(
        districts["expected_exits"] > 0,
        (districts["budget_kzt"] / districts["expected_exits"]).round(0),
        np.nan,
    )
    regions = (
        districts.groupby("region_kato")[
            ["conditional_families", "families_planned", "priority_families", "persons_planned",
             "priority_persons_planned", "budget_mrp", "budget_kzt", "expected_exits"]
        ].sum().reset_index()
    )  # fmt: skip
    regions["cost_per_exit_kzt"] = np.where(
        regions["expected_exits"] > 0, (regions["budget_kzt"] / regions["expected_exits"]).round(0), np.nan
    )
    spent = a.groupby(["region_kato", "funding_source"])["cost_mrp"].sum().rename("used_mrp")
    budget = bud.merge(spent, left_on=["region_kato", "funding_source"], right_index=True, how="left")
    budget["used_mrp"] = budget["used_mrp"].fillna(0.0).round(2)
    budget["budget_mrp"] = budget["budget_mrp"].round(2)
    budget["budget_kzt"] = (budget["budget_mrp"] * catalog.mrp).round(0)
    budget["used_kzt"] = (budget["used_mrp"] * catalog.mrp).round(0)
    targets = (
        a.groupby(["region_kato", "district", "measure", "start_month"]).size().rename("starts").reset_index()
    )
    total_budget = float(a["cost_kzt"].sum())
    exits = float(p_family.sum())
    summary = {
        "families_in_scope": int(len(fam)),
        "members_in_scope": int(len(per)),
        "eligible_pairs": int(n_pairs_all),
        "pairs_optimised": int(len(pr)),
        "families_planned": int(planned.sum()),
        "persons_planned": int(len(a)),
        "places": int(cap["places"].sum()),
        "budget_available_kzt": float(budget["budget_kzt"].sum()),
        "budget_planned_kzt": round(total_budget, 2),
        "expected_exits": round(exits, 3),
        "cost_per_exit_kzt": round(total_budget / exits, 0) if exits > 0 else None,
        "priority_share_planned": round(float(a["priority_family"].mean()), 4) if len(a) else 0.0,
        "priority_share_families": round(float(fam["priority"].mean()), 4) if len(fam) else 0.0,
        "equity_rule": floor_share is not None,
        "method": method,
        "seconds_optimisation": round(solve_s, 3),
        "mrp_kzt": catalog.mrp,
        "first_month": first_month,
        "lottery_pairs": int(len(lottery)),
    }
    return Plan(a, capacity, districts, regions, budget, targets, lottery, summary, notes)


def _lottery(pop, catalog, pr, chosen) -> pd.DataFrame:
    """Candidates in the tie band at the margin of an oversubscribed district and measure: winners and
    losers drawn by lottery, with their chances — the honest comparison for learning effects."""
    if not len(pr):
        return pd.DataFrame(columns=["district", "measure", "person_id", "family_id", "selected", "chance"])
    df = pr[["cell", "bin", "person", "fam", "measure"]].assign(selected=chosen)
    # a cell is oversubscribed at a band when that band has both winners and losers
    g = df.groupby(["cell", "bin"])["selected"].agg(["sum", "size"])
    mixed = g[(g["sum"] > 0) & (g["sum"] < g["size"])]
    if mixed.empty:
        return pd.DataFrame(columns=["district", "measure", "person_id", "family_id", "selected", "chance"])
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
