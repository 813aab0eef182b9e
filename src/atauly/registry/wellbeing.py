"""Digital Family Map well-being levels A–E by an Alkire–Foster multidimensional score.

The DFM segments families into A «благополучный», B «удовлетворительный», C «неудовлетворительный»,
D «кризисный», E «экстренный» over five domains — economic, social, housing, health, education — with a
score built by the Ministry and UNDP on the Alkire–Foster model (fact sheet §3; order 267 of 29 Jun 2023).
The indicators, weights and cut-offs are not public: here they are documented parameters (``DEFAULT``),
each indicator a yes/no deprivation, each domain weighing 1/5 shared equally by its indicators. The score
is the weighted share of deprivations (0 = none, 1 = all); the level comes from the cut-offs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LEVELS = ("A", "B", "C", "D", "E")


@dataclass(frozen=True)
class WellbeingParams:
    """Indicators by domain and level cut-offs — assumptions (order 267's content was not retrieved)."""

    domains: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "economic": ("income_below_subsistence", "no_earner", "non_mortgage_debt"),
            "social": ("high_dependency", "single_parent"),
            "housing": ("no_own_dwelling",),
            "health": ("severe_disability", "long_term_illness"),
            "education": ("adult_low_education",),
        }
    )
    subsistence_minimum: float = 56_208.0  # national BNS Q2 2025 (fact sheet §1.4)
    cutoffs: tuple[float, float, float, float] = (
        0.10,
        0.25,
        0.40,
        0.60,
    )  # A < 0.10 ≤ B < 0.25 ≤ C < 0.40 ≤ D < 0.60 ≤ E
    reference_date: str = "2025-07-01"


DEFAULT = WellbeingParams()


def indicators(
    families: pd.DataFrame,
    persons: pd.DataFrame,
    incomes: pd.DataFrame,
    p: WellbeingParams = DEFAULT,
    positions: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per family, one boolean column per deprivation indicator (data-contract tables in).
    ``positions`` — a validated registry's (person → family row, income → person row) — spares
    looking the identifiers up again."""
    if positions is not None:
        fam_pos, person_of_income = positions
    else:
        fam_pos = pd.Index(families["family_id"]).get_indexer(persons["family_id"])
        person_of_income = None
    n = len(families)
    size = np.bincount(fam_pos, minlength=n)
    ref = pd.Timestamp(p.reference_date)
    age = ((ref - pd.to_datetime(persons["birth_date"])).dt.days / 365.25).to_numpy()
    months = sorted(incomes["month"].unique())[-3:] if len(incomes) else []
    keep = (incomes["month"].isin(months) & (incomes["source"] != "loans")).to_numpy(dtype=bool)
    amount = incomes["amount_kzt"].to_numpy(dtype=float)[keep]  # not a copy of the whole table
    if person_of_income is not None:
        inc_pos = fam_pos[np.asarray(person_of_income)[keep]]
    else:
        inc_pos = fam_pos[pd.Index(persons["person_id"]).get_indexer(incomes["person_id"][keep])]
    per_capita = np.bincount(inc_pos, weights=amount, minlength=n) / max(len(months), 1) / np.maximum(size, 1)
    # Missing codes (NA) count as "not this": pandas comparisons, not numpy ones, handle them.
    earner = (
        persons["employment_status"].isin(["employee", "self_employed"]).to_numpy(dtype=bool, na_value=False)
    )
    working_age = (age >= 18) & (age < 63)
    dependants = np.bincount(fam_pos, weights=(age < 18) | (age >= 63), minlength=n)
    workers = np.bincount(fam_pos, weights=working_age, minlength=n)
    spouses = np.bincount(
        fam_pos, weights=(persons["role"] == "spouse").to_numpy(dtype=bool, na_value=False), minlength=n
    )
    minors = np.bincount(fam_pos, weights=age < 18, minlength=n)
    group = persons["disability_group"].to_numpy()
    low_edu = (
        (age >= 25)
        & (age < 63)
        & persons["education"]
        .isin(["none", "primary", "basic_secondary"])
        .to_numpy(dtype=bool, na_value=False)
    )
    return pd.DataFrame(
        {
            "family_id": _column(families["family_id"]),
            "income_below_subsistence": per_capita < p.subsistence_minimum,
            "no_earner": np.bincount(fam_pos, weights=earner, minlength=n) == 0,
            "non_mortgage_debt": families["nonmortgage_loan_balance"].to_numpy(dtype=float) > 0,
            "high_dependency": dependants > 2 * np.maximum(workers, 0.5),
            "single_parent": (spouses == 0) & (minors > 0),
            "no_own_dwelling": families["dwellings_owned"].to_numpy() == 0,
            "severe_disability": np.bincount(fam_pos, weights=np.isin(group, [1, 2]), minlength=n) > 0,
            "long_term_illness": np.bincount(
                fam_pos, weights=persons["long_term_illness"].to_numpy(dtype=bool), minlength=n
            )
            > 0,
            "adult_low_education": np.bincount(fam_pos, weights=low_edu, minlength=n) > 0,
        }
    )


def _column(values: pd.Series):
    """A text column for a result frame: Arrow-backed text as it is (no array of Python strings built
    and converted back), anything else as the frame would infer it from the values."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return values.astype("str").array  # the text dtype a frame infers from Python strings
    return values.to_numpy()


def score(ind: pd.DataFrame, p: WellbeingParams = DEFAULT) -> np.ndarray:
    """Alkire–Foster weighted deprivation score in [0, 1]."""
    total = np.zeros(len(ind))
    for names in p.domains.values():
        for name in names:
            total += ind[name].to_numpy(dtype=float) / len(p.domains) / len(names)
    return total


def levels(
    families: pd.DataFrame,
    persons: pd.DataFrame,
    incomes: pd.DataFrame,
    p: WellbeingParams = DEFAULT,
    positions: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """family_id, region_kato, score and level (A–E) for every family."""
    ind = indicators(families, persons, incomes, p, positions)
    s = score(ind, p)
    level = np.array(LEVELS)[np.searchsorted(np.array(p.cutoffs), s, side="right")]
    return pd.DataFrame(
        {
            "family_id": ind["family_id"],
            "region_kato": _column(families["region_kato"]),
            "wellbeing_score": np.round(s, 4),
            "wellbeing_level": level,
        }
    )
