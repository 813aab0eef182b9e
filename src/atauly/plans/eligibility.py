"""Which member may take which measure, with its cost and the expected effect on the family's income.

One row per (person, eligible measure), computed measure by measure over arrays (no loop over people).
The expected effect is the measure's prior (or re-estimated) mean gain in the family's monthly income at
the plan's end, times the person's modifiers; the family exits when its per-capita income rises above the
poverty line. With gains normal, a family's probability of exit is Φ((Σμ − need) / √Σσ²).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .catalog import Catalog, Measure
from .people import Population

PAIR_COLUMNS = [
    "person",  # row in Population.persons
    "fam",  # row in Population.families
    "measure",  # index in Catalog.measures
    "mu_kzt",  # expected gain in the family's monthly income, KZT
    "sd_kzt",
    "cost_mrp",
    "p_exit",  # probability that this measure alone lifts the family above the line
    "value",  # p_exit + progress_weight × share of the gap closed (capped at 1)
]


def eligible(measure: Measure, pop: Population) -> np.ndarray:
    """Members who may take ``measure`` (its eligibility rules, on the law's ages and ability to work)."""
    p, f = pop.persons, pop.families
    e = measure.eligibility
    age = p["age"].to_numpy()
    ok = p["born"].to_numpy() & (age >= e.min_age) & (age <= e.max_age)
    if e.needs_able_bodied:
        ok &= p["able_bodied"].to_numpy()
    if e.needs_health_condition:
        ok &= (p["disability_group"].to_numpy() == 3) | p["long_term_illness"].to_numpy()
        ok &= p["employment_status"].to_numpy() != "student_full_time"
    if e.education:
        ok &= np.isin(p["education"].to_numpy(dtype=str), e.education)
    if e.statuses:
        ok &= np.isin(p["employment_status"].to_numpy(dtype=str), e.statuses)
    fam = p["fam"].to_numpy()
    if e.regions:
        ok &= np.isin(f["region_kato"].to_numpy(dtype=str), e.regions)[fam]
    if e.settlement:
        ok &= np.isin(f["settlement_type"].to_numpy(dtype=str), e.settlement)[fam]
    return ok


def modifier(measure: Measure, pop: Population, rows: np.ndarray) -> np.ndarray:
    """Multiplier of the mean effect for the members at ``rows``."""
    p, f = pop.persons, pop.families
    out = np.ones(len(rows))
    sources = {
        "education": p["education"].to_numpy(dtype=str)[rows],
        "sex": p["sex"].to_numpy(dtype=str)[rows],
        "settlement": f["settlement_type"].to_numpy(dtype=str)[p["fam"].to_numpy()[rows]],
    }
    for name, table in measure.modifiers.items():
        if name not in sources:
            continue
        values = sources[name]
        for level, factor in table.items():
            out[values == level] *= factor
    return out


def pairs(pop: Population, catalog: Catalog) -> pd.DataFrame:
    """Every (member, eligible measure) with expected gain, cost, probability of exit and value."""
    f = pop.families
    members = f["members"].to_numpy()
    need = f["need_kzt"].to_numpy()
    fam_of = pop.persons["fam"].to_numpy()
    weight = catalog.planning.progress_weight
    frames = []
    for k, m in enumerate(catalog.measures):
        rows = np.flatnonzero(eligible(m, pop))
        if not len(rows):
            continue
        fam = fam_of[rows]
        mu = m.effect_mean_mrp * catalog.mrp * modifier(m, pop, rows)
        sd = np.full(len(rows), m.effect_sd_mrp * catalog.mrp)
        p_exit = ndtr((mu - need[fam]) / sd)
        value = p_exit + weight * np.clip(mu / need[fam], 0, 1)
        frames.append(
            pd.DataFrame(
                {
                    "person": rows.astype(np.int64),
                    "fam": fam.astype(np.int64),
                    "measure": np.full(len(rows), k, dtype=np.int64),
                    "mu_kzt": mu,
                    "sd_kzt": sd,
                    "cost_mrp": np.asarray(m.cost_mrp(members[fam]), dtype=float),
                    "p_exit": p_exit,
                    "value": value,
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in PAIR_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def family_exit_probability(
    need: np.ndarray, fam: np.ndarray, mu: np.ndarray, sd: np.ndarray, n_families: int
) -> np.ndarray:
    """P(the family's total gain > its need) for the pairs assigned (normal gains, independent)."""
    total = np.bincount(fam, weights=mu, minlength=n_families)
    var = np.bincount(fam, weights=sd**2, minlength=n_families)
    has = np.bincount(fam, minlength=n_families) > 0
    p = np.zeros(n_families)
    p[has] = ndtr((total[has] - need[has]) / np.sqrt(var[has]))
    return p
