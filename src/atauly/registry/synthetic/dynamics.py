"""Quarter-by-quarter lives of one region's families over the history window (issue 14, dynamics).

Each quarter of the window has its own truth and its own records, built from per-person events drawn
once and lived forwards, oldest quarter first:

* **jobs**: a job is lost with ``job_loss_rate`` a quarter (issue 14: 2–3%). People without a job now
  may have lost one in the window (before the loss they earned a formal wage); people with a job now may
  have found it in the window (before, it did not exist). Flows in and out balance (a stationary labour
  market), so the rate at which the jobless of today lost a job is ``job_loss_rate × employed / jobless``.
* **shocks**: informal and self-employment income has a transitory shock each quarter (log σ
  ``informal_shock_sigma``, an AR(1) with ``informal_shock_persistence`` from quarter to quarter); formal earnings follow a slow family drift (``income_drift_sigma``) and
  nominal growth (``quarterly_growth``).
* **births** (members born after a quarter began are not in it) and **onset of disability** (a disabled
  member became so at a quarter of the window with ``disability_onset_rate`` a quarter; before it, no
  disability and no disability benefit).
* **records that lag, a state of each quarter drawn forwards** (:func:`record_ages`): the oldest
  quarter starts from the stationary distribution; each quarter a current record goes stale with a small
  chance, a stale one grows one quarter older (its formal earnings and job status stay those of the
  quarter it was last updated — a job lost since still shows its wage, a job found since is missing) or
  is updated, and none is older than 4 quarters. ``stale_share`` of records are stale in every quarter,
  and the last quarter's ages are ``recorded/``'s. Awarded but unpaid alimony and members who left
  but are still registered stay in the records every quarter.
* **assets** (:func:`asset_paths`): a vehicle bought or sold within the window (``vehicle_change_rate``
  a quarter) and livestock herds that grow and shrink (``livestock_sigma`` a quarter); a vehicle or herd
  the records miss today was missed in every quarter. Each quarter's truth and records show that
  quarter's assets; each application keeps the records' assets of its quarter (``recorded_*`` columns).

The current quarter is the last of the window: its truth is ``truth/`` exactly and its records are
``recorded/``'s record ages and assets. Household composition (other than births and the members who left
before the window), dwellings and land are held fixed — a documented simplification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io import Registry
from ..quarter import Quarter
from .params import SyntheticParams
from .population import RegionData

EARNINGS = ("wages", "self_employment", "informal")
FORMAL_EARNINGS = ("wages", "self_employment")
DISABILITY_SOURCES = ("disability_benefit", "child_disability_benefit")
NO_EVENT = -1  # no event in the window: the state of today holds in every quarter of it


@dataclass
class Lives:
    """Per-person events and amounts of a region over the window (quarter indices 0 = oldest)."""

    quarters: list[str]
    wages: np.ndarray  # monthly formal wages now (truth persons)
    self_emp: np.ndarray  # monthly recorded self-employment income now
    informal: np.ndarray  # monthly informal income now
    found_at: np.ndarray  # quarter index the current job was found (NO_EVENT: before the window)
    lost_at: np.ndarray  # quarter index a job was lost (NO_EVENT: none in the window)
    old_wage: np.ndarray  # the wage of the job lost
    onset_at: np.ndarray  # quarter index of disability onset (NO_EVENT: before the window)
    # An event at index t changes the state from quarter t on: "x_at > q" means "not yet in quarter q".
    shock: np.ndarray  # (quarters, persons): informal/self-employment multiplier relative to now
    drift: np.ndarray  # (quarters, families): formal earnings relative to now
    truth_to_rec: np.ndarray  # row in recorded persons of each truth person
    rec_absent: np.ndarray  # recorded persons not in the truth (members who left)
    pre_job_share: float = 0.5
    lift: np.ndarray | None = None  # lasting informal income (the poverty calibration's lift): no shock
    rec_lag: np.ndarray | None = None  # (quarters, recorded persons): age of each record, quarters
    today_shock: np.ndarray | None = None  # today's transitory multiplier (``truth/``'s income_shock)
    assets: dict | None = None  # asset_paths(): truth and records, (quarters, families) each


def record_ages(n: int, k: int, seed: int, kato: str, p: SyntheticParams) -> np.ndarray:
    """(k, n) age in quarters of each person's record in each quarter of the window, oldest first, drawn
    forwards: a Markov chain whose stationary share of stale records is ``stale_share``.

    A current record goes stale with chance ``a`` a quarter; a stale record grows one quarter older with
    chance ``stale_persistence`` (else it is updated: age 0), and one 4 quarters old is updated. The first
    quarter starts from the stationary distribution, so every quarter has ``stale_share`` stale records,
    and a stale record keeps the figures of the quarter it was last updated."""
    rng = np.random.default_rng([seed, int(kato), 41])
    c = p.stale_persistence
    stay = np.array([1.0, c, c**2, c**3])  # relative mass of ages 1..4 (given the rate of going stale)
    a = p.stale_share / ((1 - p.stale_share) * stay.sum())
    stationary = np.r_[1 - p.stale_share, p.stale_share * stay / stay.sum()]
    ages = np.empty((k, n), dtype=np.int8)
    if k == 0:
        return ages
    ages[0] = rng.choice(5, n, p=stationary)
    for q in range(1, k):
        prev, u = ages[q - 1], rng.random(n)
        ages[q] = np.where(prev == 0, (u < a).astype(np.int8), np.where((prev < 4) & (u < c), prev + 1, 0))
    return ages


def asset_paths(
    truth_fam: pd.DataFrame, recorded_fam: pd.DataFrame, k: int, seed: int, kato: str, p: SyntheticParams
) -> dict[str, np.ndarray]:
    """Vehicles and livestock of each family in each quarter of the window (oldest first), in the truth
    and in the records: ``{"vehicles", "livestock", "recorded_vehicles", "recorded_livestock"}``, each
    (k, families). The last quarter is today's (``truth/`` and ``recorded/``).

    A family that owns a vehicle today bought it within the window, or one that owns none sold its car,
    with ``vehicle_change_rate`` a quarter; a herd changes by a log step of σ ``livestock_sigma`` a quarter.
    What the records miss today (an unregistered car or herd) they missed in every quarter; for a family
    without one today, the records would miss it with the same chances as ``recorded_view``."""
    rng = np.random.default_rng([seed, int(kato), 43])
    n = len(truth_fam)
    now = k - 1
    v_now = truth_fam["vehicles_owned"].to_numpy(dtype=np.int64)
    h_now = truth_fam["livestock_heads"].to_numpy(dtype=np.int64)
    change_at = np.full(n, NO_EVENT)
    undecided = np.ones(n, dtype=bool)
    for q in range(now, 0, -1):
        hit = undecided & (rng.random(n) < p.vehicle_change_rate)
        change_at[hit] = q
        undecided &= ~hit
    quarters = np.arange(k)[:, None]
    before = change_at[None, :] > quarters
    vehicles = np.where(before, (v_now == 0).astype(np.int32)[None, :], v_now[None, :]).astype(np.int32)
    steps = rng.normal(0, p.livestock_sigma, (k, n))
    steps[now] = 0.0
    log_level = np.cumsum(steps[::-1], axis=0)[::-1]  # the herd of quarter q relative to today's
    livestock = np.where(h_now > 0, np.maximum(np.round(h_now * np.exp(log_level)), 1), 0).astype(np.int32)
    rec_v = recorded_fam["vehicles_owned"].to_numpy(dtype=np.int64)
    rec_h = recorded_fam["livestock_heads"].to_numpy(dtype=np.int64)
    missed_v = np.where(v_now > 0, rec_v == 0, rng.random(n) < p.vehicle_unrecorded)
    missed_h = np.where(h_now > 0, rec_h == 0, rng.random(n) < p.livestock_unrecorded)
    return {
        "vehicles": vehicles,
        "livestock": livestock,
        "recorded_vehicles": np.where(missed_v[None, :], 0, vehicles),
        "recorded_livestock": np.where(missed_h[None, :], 0, livestock),
    }


def draw_lives(
    truth: RegionData, recorded: RegionData, quarters: list[str], seed: int, kato: str, p: SyntheticParams
) -> Lives:
    rng = np.random.default_rng([seed, int(kato), 31])
    n = len(truth.persons)
    n_fam = len(truth.families)
    k = len(quarters)
    now = k - 1
    src = truth.incomes["source"].to_numpy(dtype=object)
    amount = truth.incomes["amount_kzt"].to_numpy(dtype=float)
    pos = truth.income_person

    def monthly(source: str) -> np.ndarray:
        return np.bincount(pos, weights=amount * (src == source), minlength=n) / 3

    wages, self_emp, informal = monthly("wages"), monthly("self_employment"), monthly("informal")
    earning = (wages + self_emp + informal) > 0
    status = truth.persons["employment_status"].to_numpy(dtype=object)
    age_ok = truth.persons["birth_date"].to_numpy(dtype="datetime64[D]") <= np.datetime64(
        f"{Quarter.parse(p.quarter).year - 20}-01-01"
    )
    jobless = np.isin(status, ["not_working", "registered_unemployed"]) & ~earning & age_ok
    h = p.job_loss_rate
    # Stationary flows: as many jobs found as lost each quarter.
    h_jobless = min(h * earning.sum() / max(jobless.sum(), 1), 0.3)

    def event_quarter(mask: np.ndarray, rate: float) -> np.ndarray:
        """Going back from now, the first quarter index at which the event happened (or NO_EVENT)."""
        out = np.full(n, NO_EVENT)
        undecided = mask.copy()
        for q in range(now, 0, -1):
            hit = undecided & (rng.random(n) < rate)
            out[hit] = q
            undecided &= ~hit
        return out

    found_at = event_quarter(earning & np.isin(status, ["employee", "self_employed"]), h)
    lost_at = event_quarter(jobless, h_jobless)
    level = np.median(wages[wages > 0]) if (wages > 0).any() else p.wage_median
    old_wage = np.where(lost_at > NO_EVENT, level * rng.lognormal(-0.3, p.wage_sigma, n), 0.0)
    disabled = truth.persons["disability_group"].to_numpy() > 0
    onset_at = event_quarter(disabled, p.disability_onset_rate)
    # Each quarter its own transitory shock, relative to the one of today (in ``truth/``), so that every
    # quarter has the same distribution of income as today.
    sigma = p.informal_shock_sigma
    today = (
        truth.persons["income_shock"].to_numpy(dtype=float)
        if "income_shock" in truth.persons
        else rng.lognormal(-(sigma**2) / 2, sigma, n)
    )
    # A stationary AR(1) in logs (``informal_shock_persistence`` a quarter; mean −σ²/2, σ each quarter),
    # time-reversible, so the quarters before today follow from today's shock.
    rho = p.informal_shock_persistence
    log_s = np.empty((k, n))
    log_s[now] = np.log(today)
    mean = -(sigma**2) / 2
    for q in range(now - 1, -1, -1):
        log_s[q] = mean + rho * (log_s[q + 1] - mean) + np.sqrt(1 - rho**2) * sigma * rng.standard_normal(n)
    shock = np.exp(log_s) / today
    shock[now] = 1.0
    log_drift = np.zeros((k, n_fam))
    for q in range(now - 1, -1, -1):
        log_drift[q] = log_drift[q + 1] + rng.normal(0, p.income_drift_sigma, n_fam)
    drift = np.exp(log_drift) / p.quarterly_growth ** (now - np.arange(k))[:, None]
    lift = (
        np.minimum(truth.persons["informal_lift"].to_numpy(dtype=float), informal)
        if "informal_lift" in truth.persons
        else np.zeros(n)
    )
    rec_ids = pd.Index(recorded.persons["person_id"])
    truth_to_rec = rec_ids.get_indexer(truth.persons["person_id"])
    rec_absent = np.ones(len(rec_ids), dtype=bool)
    rec_absent[truth_to_rec] = False
    rec_lag = record_ages(len(rec_ids), k, seed, kato, p)
    assets = asset_paths(truth.families, recorded.families, k, seed, kato, p)
    return Lives(
        quarters,
        wages,
        self_emp,
        informal,
        found_at,
        lost_at,
        old_wage,
        onset_at,
        shock,
        drift,
        truth_to_rec,
        rec_absent,
        pre_job_share=p.pre_job_informal_share,
        lift=lift,
        rec_lag=rec_lag,
        assets=assets,
        today_shock=today,
    )


def earnings_at(lives: Lives, q: int, family_of: np.ndarray, smooth: bool = False) -> dict[str, np.ndarray]:
    """Monthly earnings of every truth person in quarter index ``q`` (before the window: its start);
    ``smooth``: without the quarter's transitory shock (what consumption follows)."""
    q = max(q, 0)
    has_job = lives.found_at <= q
    d = lives.drift[q][family_of]
    s = 1 / lives.today_shock if smooth and lives.today_shock is not None else lives.shock[q]
    lost_later = lives.lost_at > q
    # Before finding their job, people got by on informal work at ``pre_job_informal_share`` of their pay.
    lift = lives.lift
    before = (lives.wages + lives.self_emp + lives.informal - lift) * lives.pre_job_share * s
    return {
        "wages": np.where(has_job, lives.wages, 0.0) * d + np.where(lost_later, lives.old_wage, 0.0) * d,
        "self_employment": np.where(has_job, lives.self_emp * s, 0.0) * d,
        "informal": (np.where(has_job, (lives.informal - lift) * s, before) + lift) * d,
    }


def _rows(
    person_rows: np.ndarray,
    new_pos: np.ndarray,
    values: dict[str, np.ndarray],
    months: list[str],
    person_ids: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    frames, positions = [], []
    for source, v in values.items():
        sel = person_rows[v[person_rows] > 0]
        if len(sel) == 0:
            continue
        frames.append(
            pd.DataFrame(
                {
                    "person_id": np.tile(person_ids[sel], len(months)),
                    "month": np.repeat(months, len(sel)),
                    "source": source,
                    "amount_kzt": np.tile(np.round(v[sel]), len(months)),
                }
            )
        )
        positions.append(np.tile(new_pos[sel], len(months)))
    if not frames:
        return pd.DataFrame(columns=["person_id", "month", "source", "amount_kzt"]), np.zeros(
            0, dtype=np.int64
        )
    return pd.concat(frames, ignore_index=True), np.concatenate(positions)


def _other_rows(
    reg: RegionData,
    person_mask: np.ndarray,
    new_pos: np.ndarray,
    keep_row: np.ndarray,
    months_then: dict[str, str],
) -> tuple[pd.DataFrame, np.ndarray]:
    rows = keep_row & person_mask[reg.income_person]
    inc = reg.incomes.loc[rows].copy()
    inc["month"] = inc["month"].map(months_then)
    return inc.reset_index(drop=True), new_pos[reg.income_person[rows]]


def truth_snapshot(truth: RegionData, lives: Lives, q: int, mask: np.ndarray, p: SyntheticParams) -> Registry:
    """The truth of quarter index ``q`` for the families in ``mask``."""
    quarter = lives.quarters[q]
    months_then = dict(
        zip(Quarter.parse(p.quarter).reference_months, Quarter.parse(quarter).reference_months, strict=True)
    )
    pf = truth.person_family
    pmask = mask[pf]
    new_pos = np.cumsum(pmask) - 1
    rows = np.flatnonzero(pmask)
    persons = truth.persons.loc[pmask].reset_index(drop=True)
    status = persons["employment_status"].to_numpy(dtype=object).copy()
    status[lives.found_at[rows] > q] = "not_working"  # the job was found later
    status[lives.lost_at[rows] > q] = "employee"  # the job was lost later
    group = persons["disability_group"].to_numpy().copy()
    group[lives.onset_at[rows] > q] = 0
    persons = persons.assign(employment_status=status, disability_group=group)
    src = truth.incomes["source"].to_numpy(dtype=object)
    not_yet_disabled = np.isin(src, DISABILITY_SOURCES) & (lives.onset_at[truth.income_person] > q)
    other, other_pos = _other_rows(
        truth, pmask, new_pos, ~np.isin(src, EARNINGS) & ~not_yet_disabled, months_then
    )
    earned, earned_pos = _rows(
        rows,
        new_pos,
        earnings_at(lives, q, pf),
        Quarter.parse(quarter).reference_months,
        truth.persons["person_id"].to_numpy(dtype=object),
    )
    families = _with_assets(truth.families.loc[mask], lives, q, mask, "")
    return _snapshot(truth, mask, persons, (earned, earned_pos), (other, other_pos), families)


def _with_assets(families: pd.DataFrame, lives: Lives, q: int, mask: np.ndarray, prefix: str) -> pd.DataFrame:
    """The families of ``mask`` with the vehicles and livestock of quarter index ``q`` (``prefix``:
    "" for the truth, "recorded_" for the records)."""
    families = families.reset_index(drop=True)
    if lives.assets is None:
        return families
    return families.assign(
        vehicles_owned=lives.assets[prefix + "vehicles"][q][mask].astype(np.int64),
        livestock_heads=lives.assets[prefix + "livestock"][q][mask].astype(np.int64),
    )


def recorded_snapshot(
    truth: RegionData,
    recorded: RegionData,
    lives: Lives,
    q: int,
    mask: np.ndarray,
    rng: np.random.Generator,
    p: SyntheticParams,
) -> Registry:
    """What the state databases showed in quarter index ``q`` for the families in ``mask``: that quarter's
    records' ages (:func:`record_ages`: formal earnings and job status of the quarter each stale record
    was last updated), its assets (:func:`asset_paths`), no informal jobs, the unpaid alimony and the
    absent members of ``recorded/``. ``rng`` is used only without drawn record ages."""
    quarter = lives.quarters[q]
    months_then = dict(
        zip(Quarter.parse(p.quarter).reference_months, Quarter.parse(quarter).reference_months, strict=True)
    )
    n_rec = len(recorded.persons)
    if lives.rec_lag is not None:
        lag = lives.rec_lag[q].astype(np.int64)
    else:
        lag = np.where(rng.random(n_rec) < p.stale_share, rng.integers(1, 5, n_rec), 0)
    rpf = recorded.person_family
    pmask = mask[rpf]
    new_pos = np.cumsum(pmask) - 1
    rec_wages, rec_self = _lagged_earnings(truth, lives, q, lag, n_rec)
    rsrc = recorded.incomes["source"].to_numpy(dtype=object)
    rec_onset = np.full(n_rec, -1)
    rec_onset[lives.truth_to_rec] = lives.onset_at
    # Members who left keep their recorded earnings of ``recorded/``; disability benefits start at onset.
    absent_rows = lives.rec_absent[recorded.income_person] & np.isin(rsrc, FORMAL_EARNINGS)
    not_yet = np.isin(rsrc, DISABILITY_SOURCES) & (rec_onset[recorded.income_person] > q)
    keep = (~np.isin(rsrc, FORMAL_EARNINGS) | absent_rows) & ~not_yet
    other, other_pos = _other_rows(recorded, pmask, new_pos, keep, months_then)
    rows = np.flatnonzero(pmask & ~lives.rec_absent)
    earned, earned_pos = _rows(
        rows,
        new_pos,
        {"wages": rec_wages, "self_employment": rec_self},
        Quarter.parse(quarter).reference_months,
        recorded.persons["person_id"].to_numpy(dtype=object),
    )
    persons = _recorded_persons(truth, recorded, lives, q, pmask, lag, rec_onset)
    families = _with_assets(recorded.families.loc[mask], lives, q, mask, "recorded_")
    return _snapshot(recorded, mask, persons, (earned, earned_pos), (other, other_pos), families)


def _lagged_earnings(truth: RegionData, lives: Lives, q: int, lag: np.ndarray, n_rec: int):
    """Formal earnings (wages, self-employment) of present members as of their record's quarter, by row
    of the recorded persons."""
    t2r = lives.truth_to_rec
    t_lag = lag[t2r]
    wages = np.zeros(len(truth.persons))
    self_emp = np.zeros(len(truth.persons))
    for L in np.unique(t_lag):
        here = t_lag == L
        e = earnings_at(lives, q - int(L), truth.person_family)
        wages[here] = e["wages"][here]  # the drift holds the ≈2% a quarter of nominal growth
        self_emp[here] = e["self_employment"][here]
    rec_wages = np.zeros(n_rec)
    rec_self = np.zeros(n_rec)
    rec_wages[t2r] = wages
    rec_self[t2r] = self_emp
    return rec_wages, rec_self


def _recorded_persons(truth: RegionData, recorded: RegionData, lives: Lives, q: int, pmask, lag, rec_onset):
    """The recorded persons of the families in the snapshot: job status as of their record's quarter (no
    informal jobs), disability from its onset, the record's age and whether the job changed since."""
    t2r, n_rec = lives.truth_to_rec, len(recorded.persons)
    informal_job = (
        truth.persons["informal_job"].to_numpy(dtype=bool) if "informal_job" in truth.persons else None
    )
    persons = recorded.persons.loc[pmask].reset_index(drop=True)
    status = persons["employment_status"].to_numpy(dtype=object).copy()
    sub_rows = np.flatnonzero(pmask)
    present = ~lives.rec_absent[sub_rows]
    truth_row = np.full(n_rec, -1)
    truth_row[t2r] = np.arange(len(t2r))
    tr = truth_row[sub_rows[present]]
    then = q - lag[sub_rows[present]]
    true_status = truth.persons["employment_status"].to_numpy(dtype=object)[tr].copy()
    true_status[lives.found_at[tr] > then] = "not_working"
    true_status[lives.lost_at[tr] > then] = "employee"
    if informal_job is not None:
        true_status[informal_job[tr] & np.isin(true_status, ["employee", "self_employed"])] = "not_working"
    status[present] = true_status
    changed = np.zeros(len(sub_rows), dtype=bool)
    changed[present] = ((lives.found_at[tr] > then) & (lives.found_at[tr] <= q)) | (
        (lives.lost_at[tr] > then) & (lives.lost_at[tr] <= q)
    )
    group = persons["disability_group"].to_numpy().copy()
    group[rec_onset[sub_rows] > q] = 0
    return persons.assign(
        employment_status=status,
        disability_group=group,
        record_age_quarters=lag[sub_rows].astype(np.int64),
        record_job_changed=changed,
    )


def _snapshot(
    layer: RegionData, mask: np.ndarray, persons: pd.DataFrame, earned, other, families: pd.DataFrame
) -> Registry:
    """The families in ``mask`` of a layer (truth or recorded) as they were (``families``), with their
    persons as they were and their incomes: earnings of that quarter, then the other incomes (each with
    its rows' persons)."""
    pf = layer.person_family
    pmask = mask[pf]
    return Registry(
        families,
        persons,
        pd.concat([earned[0], other[0]], ignore_index=True),
        (np.cumsum(mask) - 1)[pf[pmask]],
        np.concatenate([earned[1], other[1]]).astype(np.int64),
    )
