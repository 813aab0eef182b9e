"""The recorded view: what state databases would show of the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..quarter import Quarter
from .dynamics import record_ages
from .params import SyntheticParams
from .population import (
    GENERATION_ONLY_PERSONS,
    TRUTH_ONLY_FAMILIES,
    TRUTH_ONLY_PERSONS,
    RegionData,
)

#: Sources that state databases do not see: informal earnings (informal jobs, envelope top-ups, unreported
#: self-employment income), income from a personal farm, and remittances (source "other").
UNRECORDED_SOURCES = ("informal", "livestock_land", "other")
#: Formal sources whose records can be stale (an older quarter's amount or situation).
STALE_SOURCES = ("wages", "self_employment")


def recorded_view(truth: RegionData, seed: int, p: SyntheticParams) -> RegionData:
    """What state databases show of the generated population (``truth`` here still holds the members who
    left: the records count them). Records lag both ways: stale amounts, jobs taken or lost since, alimony
    awarded but unpaid, absent members still registered; informal jobs do not exist for them."""
    region = int(truth.families["region_kato"].iloc[0]) if len(truth.families) else 0
    rng = np.random.default_rng([seed, 7919, region])
    persons = truth.persons.copy()
    n = len(persons)
    # The records' ages of today: the last quarter of the chain the history lives forwards (dynamics.py).
    stale = record_ages(n, max(p.history_quarters, 1), seed, str(region), p)[-1].astype(np.int64)
    changed = (stale > 0) & (rng.random(n) < p.stale_job_change)
    persons["record_age_quarters"] = stale.astype(np.int64)

    seen = ~truth.incomes["source"].isin(UNRECORDED_SOURCES).to_numpy()
    inc = truth.incomes.loc[seen].copy()
    pos = truth.income_person[seen]
    formal = inc["source"].isin(STALE_SOURCES).to_numpy()
    k = stale[pos]
    # Unchanged but stale: the amount of k quarters ago (about 2% growth a quarter).
    inc.loc[formal & (k > 0), "amount_kzt"] = np.round(
        inc.loc[formal & (k > 0), "amount_kzt"] / 1.02 ** k[formal & (k > 0)]
    )
    # Changed since the record: a job taken since is not yet recorded…
    still = ~(formal & changed[pos])
    inc, pos = inc.loc[still], pos[still]
    # …and a job lost since still shows its old wage.
    has_formal = np.zeros(n, dtype=bool)
    has_formal[truth.income_person[truth.incomes["source"].isin(STALE_SOURCES).to_numpy()]] = True
    adult_born = pd.Timestamp(Quarter.parse(p.quarter).start) - pd.DateOffset(years=18)
    adult = (persons["birth_date"] <= adult_born).to_numpy()
    lost = (
        changed
        & ~has_formal
        & adult
        & persons["employment_status"].isin(["not_working", "registered_unemployed"]).to_numpy()
    )
    idx = np.flatnonzero(lost)
    months = sorted(truth.incomes["month"].unique())
    if len(idx):
        old = np.round(p.wage_median * rng.lognormal(-0.3, p.wage_sigma, len(idx)))
        inc, pos = _with_monthly(inc, pos, persons, idx, months, "wages", old)
    persons["record_job_changed"] = changed
    _recorded_status(persons, changed & has_formal, lost)
    # Alimony awarded but unpaid: the records show the award.
    if "recorded_alimony" in persons:
        owed = np.flatnonzero(persons["recorded_alimony"].to_numpy() > 0)
        if len(owed):
            amounts = persons["recorded_alimony"].to_numpy()[owed]
            inc, pos = _with_monthly(inc, pos, persons, owed, months, "alimony", amounts)
    persons = persons.drop(
        columns=[c for c in (*TRUTH_ONLY_PERSONS, *GENERATION_ONLY_PERSONS) if c in persons]
    )

    fam = truth.families.drop(columns=[c for c in TRUTH_ONLY_FAMILIES if c in truth.families])
    m = len(fam)
    fam["vehicles_owned"] = np.where(rng.random(m) < p.vehicle_unrecorded, 0, fam["vehicles_owned"])
    fam["livestock_heads"] = np.where(rng.random(m) < p.livestock_unrecorded, 0, fam["livestock_heads"])
    fam["land_ha"] = np.where(rng.random(m) < p.land_unrecorded, 0.0, fam["land_ha"])
    return RegionData(fam, persons, inc.reset_index(drop=True), truth.person_family, pos)


def _with_monthly(
    inc: pd.DataFrame, pos: np.ndarray, persons: pd.DataFrame, idx, months, source: str, amounts
):
    """The incomes with ``source`` added for the persons at ``idx``, the same amount each month."""
    added = pd.DataFrame(
        {
            "person_id": np.tile(persons["person_id"].to_numpy(dtype=object)[idx], len(months)),
            "month": np.repeat(months, len(idx)),
            "source": source,
            "amount_kzt": np.tile(amounts, len(months)),
        }
    )
    return pd.concat([inc, added], ignore_index=True), np.concatenate([pos, np.tile(idx, len(months))])


def _recorded_status(persons: pd.DataFrame, taken: np.ndarray, lost: np.ndarray) -> None:
    """The recorded employment status follows the (old) record: a job taken since is not yet known, a job
    lost since still shows as employment, and an informal job is no job in the records."""
    persons.loc[taken, "employment_status"] = "not_working"
    persons.loc[lost, "employment_status"] = "employee"
    if "informal_job" in persons:
        informal = (
            persons["informal_job"].to_numpy(dtype=bool)
            & persons["employment_status"].isin(["employee", "self_employed"]).to_numpy()
        )
        persons.loc[informal, "employment_status"] = "not_working"
