"""Who a plan is for: the families the law finds entitled to conditional ASP and their working-age members.

The law decides (``atauly.law.compute``): conditional type, per-capita income and poverty line. Members'
ages and ability to work come from the same OpenFisca simulation (``is_able_bodied``, ``age``,
``is_qualifying_carer``), so a plan never uses a second reading of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atauly.registry import Registry

#: Members of working age without ability to work whom rehabilitation can help (needs_health_condition).
TIYN = 0.01


@dataclass
class Population:
    """The conditional families (one row each) and their members who could take part in a measure."""

    families: pd.DataFrame  # family_id, region_kato, district, settlement_type, members, per_capita_income,
    #                         poverty_line, need_kzt, children, disabled_member, priority, application_month
    persons: pd.DataFrame  # person_id, family_id, fam (row in families), role, sex, age, education,
    #                        employment_status, disability_group, long_term_illness, able_bodied, carer
    district_families: pd.Series  # all families of the registry by district (places and budgets scale on it)
    region_families: pd.Series

    def __len__(self) -> int:
        return len(self.families)


def conditional_mask(law: pd.DataFrame) -> np.ndarray:
    """Families entitled to conditional ASP by the law's result."""
    kind = law["asp_type"].astype(str)
    # a writable copy (an Arrow-backed column gives a read-only view, and callers narrow the mask in place)
    return np.array((law["eligible"].astype(bool) & (kind == "conditional")).to_numpy(dtype=bool), dtype=bool)


def district_of(families: pd.DataFrame) -> pd.Series:
    """A family's district KATO code; the region's code when the registry has no district."""
    region = families["region_kato"].astype(str)
    if "district_kato" not in families:
        return region
    district = families["district_kato"].astype("string")
    return district.where(district.notna() & (district.str.len() > 0), region).astype(str)


def build_population(
    registry: Registry,
    law: pd.DataFrame,
    min_children_priority: int = 4,
    families: list[str] | None = None,
    district_families: pd.Series | None = None,
    region_families: pd.Series | None = None,
) -> Population:
    """The conditional families of ``registry`` (by ``law``, its ``atauly law compute`` result) and members.

    ``families`` restricts the plan to some families (e.g. the quarter's recipients). Places and budgets
    scale on the number of all families by district and region: counted on ``registry`` unless given
    (when ``registry`` holds only the conditional families, see :mod:`atauly.plans.read`).
    """
    fam_all = registry.families
    ids = fam_all["family_id"].astype(str)
    law = _law_in_registry_order(law, ids)
    mask = conditional_mask(law)
    if families is not None:
        mask &= ids.isin([str(f) for f in families]).to_numpy(dtype=bool)
    districts_all = district_of(fam_all)
    if district_families is None:
        district_families = districts_all.value_counts()
    if region_families is None:
        region_families = fam_all["region_kato"].astype(str).value_counts()
    sub = registry.take(mask)
    out = _family_frame(sub.families, law.loc[mask].reset_index(drop=True), districts_all[mask])
    person_family, _ = sub.positions()
    persons = _person_frame(sub, out, person_family)
    born, age = persons["born"].to_numpy(), persons["age"].to_numpy()
    children = np.bincount(person_family[born & (age < 18)], minlength=len(out))
    disabled = np.bincount(
        person_family[born & (persons["disability_group"].to_numpy() > 0)], minlength=len(out)
    )
    out["children"] = children
    out["disabled_member"] = disabled > 0
    out["priority"] = out["disabled_member"] | (out["children"] >= min_children_priority)
    return Population(out, persons, district_families, region_families)


def _law_in_registry_order(law: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """The law's rows in the registry's family order; every family of the registry must have one."""
    law = law.assign(family_id=law["family_id"].astype(str))
    law_rows = pd.Index(law["family_id"]).get_indexer(ids)
    if (law_rows < 0).any():
        missing = int((law_rows < 0).sum())
        raise ValueError(
            f"the law's result lacks {missing:,} famil(ies) of the registry: compute it on the same registry"
        )
    return law.iloc[law_rows].reset_index(drop=True)


def _family_frame(fam: pd.DataFrame, law_sub: pd.DataFrame, district: pd.Series) -> pd.DataFrame:
    # Text columns stay Arrow-backed (no round trip through millions of Python objects).
    out = pd.DataFrame(
        {
            "family_id": _text(fam["family_id"]),
            "region_kato": _text(fam["region_kato"]),
            "district": _text(district),
            "settlement_type": (
                _text(fam["settlement_type"].astype("string").fillna("urban"))
                if "settlement_type" in fam
                else "urban"
            ),
            "members": law_sub["members"].to_numpy(dtype=np.int64),
            "per_capita_income": law_sub["per_capita_income"].to_numpy(dtype=float),
            "poverty_line": law_sub["poverty_line"].to_numpy(dtype=float),
            "application_month": _text(law_sub["application_month"]),
        }
    )
    # Exit: per-capita income above the line (Art. 128 p.1: above it by a tiyn is no longer entitled).
    gap = (out["poverty_line"] - out["per_capita_income"]).clip(lower=0) * out["members"]
    out["need_kzt"] = gap + TIYN * out["members"]
    return out


def _simulated(sub: Registry, months: np.ndarray, person_family: np.ndarray) -> dict[str, np.ndarray]:
    """Ability to work, care, age and birth of each member from the law's simulation, month by month of
    application."""
    from atauly.law.simulation import build_simulation, law_inputs

    n = len(sub.persons)
    out = {
        "is_able_bodied": np.zeros(n, dtype=bool),
        "is_qualifying_carer": np.zeros(n, dtype=bool),
        "age": np.zeros(n, dtype=np.int64),
        "is_born": np.zeros(n, dtype=bool),
    }
    groups = pd.unique(months)
    inputs = law_inputs(sub)  # a copy of part of the families (by month) copies only what the law reads
    for month in groups:
        fmask = months == month
        part = sub if fmask.all() else inputs.take(fmask)
        sim = build_simulation(part, str(month))
        pmask = fmask[person_family]
        for name, values in out.items():
            values[pmask] = np.asarray(sim.calculate(name, str(month)), dtype=values.dtype)
    return out


def _person_frame(sub: Registry, out: pd.DataFrame, person_family: np.ndarray) -> pd.DataFrame:
    per = sub.persons
    sim = _simulated(sub, out["application_month"].to_numpy(), person_family)
    return pd.DataFrame(
        {
            "person_id": _text(per["person_id"]),
            "family_id": _text(out["family_id"].take(person_family)),
            "fam": person_family.astype(np.int64),
            "role": _text(per["role"]),
            "sex": _text(per["sex"]),
            "age": sim["age"],
            "education": _text(per["education"].astype("string").fillna("")) if "education" in per else "",
            "employment_status": _text(per["employment_status"].astype("string").fillna("not_working")),
            "disability_group": per["disability_group"].to_numpy(dtype=np.int64),
            "long_term_illness": per["long_term_illness"].to_numpy(dtype=bool),
            "able_bodied": sim["is_able_bodied"],
            "carer": sim["is_qualifying_carer"],
            "born": sim["is_born"],
        }
    )


def _text(values: pd.Series) -> pd.Series:
    """A column as text (pandas' ``str``, Arrow-backed) with a fresh 0..n-1 index, built without converting
    its values to Python objects."""
    return values.astype(str).reset_index(drop=True)
