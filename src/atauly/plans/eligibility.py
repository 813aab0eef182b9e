"""Which member may take which measure, with its cost and the expected effect on the family's income.

One row per (person, eligible measure), computed measure by measure over arrays (no loop over people).
The expected effect is the measure's prior (or re-estimated) mean gain in the family's monthly income at
the plan's end, times the person's modifiers; the family exits when its per-capita income rises above the
poverty line. With gains normal, a family's probability of exit is Φ((Σμ − need) / √Σσ²).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import Catalog, Measure, SubgroupEffect
from .normal import ndtr
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


class _Columns:
    """The text columns eligibility reads, factorised once into integer codes (a 3M-member population
    would otherwise be converted from Arrow strings for every measure)."""

    def __init__(self, pop: Population):
        p, f = pop.persons, pop.families
        self.fam = p["fam"].to_numpy()
        self.age = p["age"].to_numpy()
        self.born = p["born"].to_numpy(dtype=bool)
        self.able = p["able_bodied"].to_numpy(dtype=bool)
        self.group = p["disability_group"].to_numpy()
        self.ill = p["long_term_illness"].to_numpy(dtype=bool)
        self.codes: dict[str, tuple[np.ndarray, pd.Index]] = {}
        for name, column, per_family in (
            ("education", p["education"], False),
            ("status", p["employment_status"], False),
            ("sex", p["sex"], False),
            ("region", f["region_kato"], True),
            ("settlement", f["settlement_type"], True),
            ("district", f["district"], True),
        ):
            codes, uniques = pd.factorize(column, use_na_sentinel=True)
            codes = codes[self.fam] if per_family else codes
            self.codes[name] = (codes, pd.Index(uniques.astype(str)))
        self._pop = pop
        self._subgroups: dict[str, tuple[np.ndarray, pd.Index]] | None = None

    def subgroup(self, dimension: str) -> tuple[np.ndarray, pd.Index]:
        """Each member's subgroup on ``dimension`` (codes, -1 for none; and the subgroups' names), as
        :func:`atauly.plans.learn.subgroup_labels` labels outcomes: the planner and the estimator agree."""
        if self._subgroups is None:
            from .learn import subgroup_labels

            p, f = self._pop.persons, self._pop.families
            frame = pd.DataFrame(
                {
                    "age": p["age"].to_numpy(),
                    "sex": p["sex"].to_numpy(),
                    "education": p["education"].to_numpy(),
                    "disability_group": p["disability_group"].to_numpy(),
                    "settlement_type": f["settlement_type"].to_numpy()[self.fam],
                }
            )
            self._subgroups = {}
            for name, labels in subgroup_labels(frame).items():
                codes, uniques = pd.factorize(labels.where(labels != ""), use_na_sentinel=True)
                self._subgroups[name] = (codes, pd.Index(uniques.astype(str)))
        return self._subgroups.get(dimension, (np.full(len(self.fam), -1), pd.Index([])))

    def isin(self, name: str, values) -> np.ndarray:
        codes, uniques = self.codes[name]
        wanted = uniques.get_indexer(list(values))
        return np.isin(codes, wanted[wanted >= 0])

    def equals(self, name: str, value: str, rows: np.ndarray) -> np.ndarray:
        codes, uniques = self.codes[name]
        k = uniques.get_indexer([value])[0]
        return codes[rows] == k if k >= 0 else np.zeros(len(rows), dtype=bool)


def eligible(measure: Measure, pop: Population, cols: _Columns | None = None) -> np.ndarray:
    """Members who may take ``measure`` (its eligibility rules, on the law's ages and ability to work)."""
    c = cols or _Columns(pop)
    e = measure.eligibility
    ok = c.born & (c.age >= e.min_age) & (c.age <= e.max_age)
    if e.needs_able_bodied:
        ok &= c.able
    if e.needs_health_condition:
        ok &= (c.group == 3) | c.ill
        ok &= ~c.isin("status", ["student_full_time"])
    if e.education:
        ok &= c.isin("education", e.education)
    if e.statuses:
        ok &= c.isin("status", e.statuses)
    if e.regions:
        ok &= c.isin("region", e.regions)
    if e.settlement:
        ok &= c.isin("settlement", e.settlement)
    return ok


def modifier(
    measure: Measure, pop: Population, rows: np.ndarray, cols: _Columns | None = None, skip=()
) -> np.ndarray:
    """Multiplier of the mean effect for the members at ``rows`` (the catalogue's modifiers, but those in
    ``skip``: dimensions whose effects were learned from outcomes)."""
    c = cols or _Columns(pop)
    out = np.ones(len(rows))
    for name, table in measure.modifiers.items():
        if name not in ("education", "sex", "settlement") or name in skip:
            continue
        for level, factor in table.items():
            out[c.equals(name, level, rows)] *= factor
    return out


def subgroup_shift(
    measure: Measure, effects: list[SubgroupEffect], rows: np.ndarray, cols: _Columns
) -> np.ndarray:
    """What the effects by subgroup add to ``measure``'s mean for the members at ``rows``, MRP a month.

    On each dimension estimated (age band, sex, education, disability, settlement) the member's subgroup
    differs from the dimension's average (its subgroups' estimates weighted by the members treated) by
    ``estimate − average``; that difference is shrunk towards 0 by ``τ² / (τ² + se²)``, with τ half the spread
    of individual effects (the same assumption as the learning of the mean, :mod:`.learn`), so a noisy
    subgroup moves little. The dimensions' differences add up (main effects, no interactions). A member
    whose subgroup has no estimate (too few treated or controls) keeps the measure's mean on that
    dimension: the prior, or the re-estimated pooled effect."""
    out = np.zeros(len(rows))
    tau2 = (measure.effect_sd_mrp / 2) ** 2
    by_dimension: dict[str, list[SubgroupEffect]] = {}
    for e in effects:
        by_dimension.setdefault(e.dimension, []).append(e)
    for dimension, group in by_dimension.items():
        codes, names = cols.subgroup(dimension)
        est = np.array([e.estimate_mrp for e in group])
        se = np.array([e.se_mrp for e in group])
        weight = np.array([max(e.treated, 1) for e in group], dtype=float)
        shift = (est - np.average(est, weights=weight)) * tau2 / (tau2 + se**2)
        table = np.zeros(len(names) + 1)  # the last entry: members without a subgroup (code -1)
        where = names.get_indexer([e.subgroup for e in group])
        table[where[where >= 0]] = shift[where >= 0]
        out += table[np.where(codes[rows] >= 0, codes[rows], len(names))]
    return out


def pairs(
    pop: Population,
    catalog: Catalog,
    places: pd.DataFrame | None = None,
    multiple: float | None = None,
) -> pd.DataFrame:
    """Every (member, eligible measure) with expected gain, cost, probability of exit and value.

    With ``places`` (the capacity table) pairs in a district without a place for the measure are left
    out; with ``multiple`` too, only the best ``multiple`` × places pairs of each district and measure by
    value are kept (the others could not win a place). ``attrs["eligible_pairs"]`` counts all pairs.
    """
    f = pop.families
    members = f["members"].to_numpy()
    need = f["need_kzt"].to_numpy()
    cols = _Columns(pop)
    weight = catalog.planning.progress_weight
    district_codes, district_names = cols.codes["district"]
    subgroups: dict[str, list[SubgroupEffect]] = {}
    for e in catalog.subgroups:
        subgroups.setdefault(e.measure, []).append(e)
    frames = []
    total = 0
    for k, m in enumerate(catalog.measures):
        rows = np.flatnonzero(eligible(m, pop, cols))
        total += len(rows)
        if places is not None and len(rows):
            cap = places.loc[places["measure"] == m.key].set_index("district")["places"]
            per_district = cap.reindex(district_names).fillna(0).to_numpy(dtype=np.int64)
            limit = per_district[district_codes[rows]]
            rows = rows[limit > 0]
        if not len(rows):
            continue
        fam = cols.fam[rows]
        learned = subgroups.get(m.key, [])
        skip = {e.dimension for e in learned}
        mu = m.effect_mean_mrp * catalog.mrp * modifier(m, pop, rows, cols, skip)
        if learned:
            mu = mu + catalog.mrp * subgroup_shift(m, learned, rows, cols)
        sd = np.full(len(rows), m.effect_sd_mrp * catalog.mrp)
        p_exit = ndtr((mu - need[fam]) / sd)
        value = p_exit + weight * np.clip(mu / need[fam], 0, 1)
        if places is not None and multiple is not None:
            d = district_codes[rows]
            order = np.lexsort((rows, -value, d))  # by district, best value first
            d_sorted = d[order]
            first = np.searchsorted(d_sorted, d_sorted, side="left")
            rank = np.arange(len(order)) - first
            keep = np.zeros(len(rows), dtype=bool)
            keep[order] = rank < np.ceil(multiple * per_district[d_sorted])
            rows, fam, mu, sd, p_exit, value = (a[keep] for a in (rows, fam, mu, sd, p_exit, value))
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
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype=float) for c in PAIR_COLUMNS})
    )
    out.attrs["eligible_pairs"] = total
    return out


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
