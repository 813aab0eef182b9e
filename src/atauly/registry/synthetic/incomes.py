"""Incomes of the truth, person by person: informal work and envelope wages, earnings, pensions and
benefits, the lift that meets the region's poverty rate, the incomes table and each family's consumption.

The draws come from the region's generator in a fixed order (the same seed gives the same registry); see
docs/synthetic-data.md, "Hidden need".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..quarter import Quarter
from .params import SyntheticParams


@dataclass
class _People:
    """What the income draws read of each person (and of their family)."""

    status: np.ndarray
    group: np.ndarray
    role: np.ndarray
    education: np.ndarray
    level: float  # the region's wage level
    rural: np.ndarray
    head: np.ndarray
    adult: np.ndarray
    retire: np.ndarray
    years: np.ndarray
    fam_of: np.ndarray
    n_fam: int

    @classmethod
    def of(cls, families, persons, fam_of, years, stats, p: SyntheticParams) -> _People:
        role = persons["role"].to_numpy()
        return cls(
            persons["employment_status"].to_numpy(),
            persons["disability_group"].to_numpy(),
            role,
            persons["education"].to_numpy(),
            p.region_wage_level.get(stats.key, 1.0),
            (families["settlement_type"].to_numpy() == "rural")[fam_of],
            role == "applicant",
            years >= 18,
            np.where(persons["sex"].to_numpy() == "M", 63, 61),
            years,
            fam_of,
            len(families),
        )


def truth_incomes(
    rng, families, persons, pid, fam_of, years, sizes, stats, p: SyntheticParams, age
) -> pd.DataFrame:
    """Monthly incomes by source; poor families are lifted so that the region's poverty rate matches its
    target. Also marks, in place, what the records will miss (``persons``: ``informal_job``,
    ``envelope_wage``, ``alimony_unpaid``, ``absent``) and adds the family's consumption (``families``:
    ``consumption_per_ae``, ``consumption_poor``). See docs/synthetic-data.md, "Hidden need"."""
    n = len(persons)
    people = _People.of(families, persons, fam_of, years, stats, p)
    # Absent members still registered: adult children and others aged 18–40 who left (work elsewhere).
    # They are dropped from the truth; the records still count them (views.py).
    absent = (
        np.isin(people.role, ["child", "other"])
        & people.adult
        & (years <= 40)
        & (rng.random(n) < p.absent_member_share)
    )
    present = ~absent
    true_sizes = np.bincount(fam_of[present], minlength=people.n_fam)
    informal_job, envelope = _informal_work(rng, people, present, p)
    earn, shock = _earnings(rng, people, families, informal_job, envelope, p)
    other, alimony, alimony_unpaid = _other_incomes(rng, people, families, age, stats, p)
    # The money of absent members is not the family's: they are left out of the poverty calibration.
    money_rows = {k: np.where(present, v, 0.0) for k, v in {**earn, **other}.items()}
    lift = _lift_to_poverty_rate(rng, money_rows, {}, fam_of, true_sizes, people.head, stats.poverty_rate, p)
    # In about half of the lifted families the lift is recorded income: a head who works formally gets it
    # as wages (a better job); otherwise it stays informal (help, odd jobs) and the records miss it.
    is_emp, is_self = people.status == "employee", people.status == "self_employed"
    works = (is_emp & ~informal_job) | is_self
    formal = (rng.random(people.n_fam)[fam_of] < p.lift_formal_share) & works
    earn["wages"] = earn["wages"] + np.where(formal, lift, 0.0)
    earn["informal"] = earn["informal"] + np.where(formal, 0.0, lift)

    persons["informal_job"] = informal_job
    persons["income_shock"] = np.where(informal_job | is_self, shock, 1.0)  # this quarter's (dynamics.py)
    # The lift of the poverty calibration is lasting income (help, a steady side job): no transitory shock.
    persons["informal_lift"] = np.round(np.where(formal, 0.0, lift))
    persons["envelope_wage"] = envelope
    persons["alimony_unpaid"] = alimony_unpaid
    persons["absent"] = absent
    persons["recorded_alimony"] = np.where(alimony_unpaid, np.round(alimony), 0.0)

    incomes, positions = _income_rows(rng, earn, other, pid, people, families, p)
    smooth = np.where(informal_job | is_self, 1 / shock, 1.0)
    _consumption(rng, families, people, earn, other, smooth, present, true_sizes, p)
    return incomes, positions


def _informal_work(rng, people: _People, present, p: SyntheticParams) -> tuple[np.ndarray, np.ndarray]:
    """(works informally, paid partly in an envelope) of each person.

    Who works informally: a logit weight on proxies the records partly show; the base rate is solved so
    that informal jobs are ``informal_employment_share`` of all jobs (params.py)."""
    n, fam_of, status, education, years = (
        len(people.status),
        people.fam_of,
        people.status,
        people.education,
        people.years,
    )
    low_edu = np.isin(education, ["none", "primary", "basic_secondary"])
    logit_w = (
        p.informal_weight_rural * people.rural
        + p.informal_weight_low_education * low_edu
        + p.informal_weight_higher_education * (education == "higher")
        + p.informal_weight_young * (years < 30)
        + p.informal_weight_self_employed * (status == "self_employed")
        - 0.3 * np.log(people.level)
    )
    w = np.exp(logit_w)
    employed = np.isin(status, ["employee", "self_employed"]) & present
    able_idle = (
        np.isin(status, ["not_working", "registered_unemployed"])
        & people.adult
        & (years < people.retire)
        & ~np.isin(people.group, [1, 2])
        & present
    )
    # Heads of families where nobody has a job mostly earn informally (``informal_share_idle_families``):
    # they are part of the informal jobs drawn from people without a recorded job.
    has_job = np.bincount(fam_of[employed], minlength=people.n_fam) > 0
    idle_head = people.head & able_idle & ~has_job[fam_of] & (rng.random(n) < p.informal_share_idle_families)
    t, f = p.informal_employment_share, p.informal_from_not_working
    informal_total = t * employed.sum() / max(1 - t * f, 1e-9)
    pool = able_idle & ~idle_head
    from_idle = max(f * informal_total - idle_head.sum(), 0.0)
    p_inf = np.zeros(n)
    if employed.any():
        p_inf[employed] = (1 - f) * informal_total * w[employed] / w[employed].sum()
    if pool.any():
        p_inf[pool] = from_idle * w[pool] / w[pool].sum()
    informal_job = (rng.random(n) < np.minimum(p_inf, 0.95)) | idle_head
    envelope = (
        (status == "employee")
        & ~informal_job
        & present
        & (
            rng.random(n)
            < np.minimum(p.envelope_share * w / max(w[employed].mean() if employed.any() else 1, 1e-9), 0.9)
        )
    )
    return informal_job, envelope


def _earnings(rng, people: _People, families, informal_job, envelope, p: SyntheticParams):
    """(earnings by source before the regional calibration, the quarter's transitory shock)."""
    n, fam_of, education, level = len(people.status), people.fam_of, people.education, people.level
    low_edu = np.isin(education, ["none", "primary", "basic_secondary"])
    # Hidden income also depends on what the records partly show (education, a vehicle, the region), and
    # on much they do not (``hidden_income_sigma``).
    vehicle = (families["vehicles_owned"].to_numpy() > 0)[fam_of]
    hidden_level = (
        level
        * np.exp(0.25 * (education == "higher") - 0.15 * low_edu + 0.2 * vehicle - 0.1 * people.rural)
        * rng.lognormal(-(p.hidden_income_sigma**2) / 2, p.hidden_income_sigma, n)
    )
    # The quarter's transitory shock on informal and self-employment income (removed by smoothing).
    shock = rng.lognormal(-(p.informal_shock_sigma**2) / 2, p.informal_shock_sigma, n)

    wage = np.maximum(p.wage_median * level * rng.lognormal(0, p.wage_sigma, n), p.minimum_wage * 0.5)
    self_income = p.self_employment_median * level * rng.lognormal(0, 0.8, n) * shock
    is_emp, is_self = people.status == "employee", people.status == "self_employed"
    recorded_wage = np.where(
        envelope, np.minimum(wage, p.minimum_wage * rng.uniform(1.0, p.envelope_recorded_max, n)), wage
    )
    reported = rng.uniform(p.self_employment_reported_min, 1.0, n)
    informal_amount = np.select(
        [is_emp & informal_job, is_self & informal_job, informal_job],
        [
            0.7 * wage * hidden_level / level,
            self_income * hidden_level / level,
            p.informal_median * hidden_level * shock,
        ],
        0.0,
    )
    informal_amount = informal_amount + np.where(envelope, wage - recorded_wage, 0.0)
    informal_amount = informal_amount + np.where(is_self & ~informal_job, (1 - reported) * self_income, 0.0)
    earn = {  # before the regional calibration factor
        "wages": np.where(is_emp & ~informal_job, recorded_wage, 0.0),
        "self_employment": np.where(is_self & ~informal_job, reported * self_income, 0.0),
        "informal": informal_amount,
    }
    return earn, shock


def _other_incomes(rng, people: _People, families, age, stats, p: SyntheticParams):
    """(pensions, benefits, alimony, scholarships, farming and remittances by source; each person's
    alimony awarded; whether it goes unpaid while the records show it)."""
    n, fam_of, status, group, years, head = (
        len(people.status), people.fam_of, people.status, people.group, people.years, people.head,
    )  # fmt: skip
    n_fam, rural = people.n_fam, people.rural
    other = {
        "pension": np.where(
            status == "pensioner", p.min_pension + p.pension_extra_median * rng.lognormal(0, 0.6, n), 0
        ),
        "disability_benefit": np.where(
            (years >= 18) & (group > 0) & (status != "pensioner"),
            np.array([0, *p.disability_benefit])[group],
            0,
        ),
        "child_disability_benefit": np.where((years < 18) & (group > 0), p.child_disability_benefit, 0),
    }
    # Family-level benefits paid to the applicant: large-family benefit by number of minors.
    minors = np.bincount(fam_of[years < 18], minlength=n_fam)
    lfb = np.where(
        minors >= 8,
        minors * p.large_family_per_child_8plus,
        np.array([0, 0, 0, 0, *p.large_family_benefit, 0, 0, 0, 0, 0, 0])[np.minimum(minors, 12)],
    )
    other["large_family_benefit"] = np.where(head, lfb[fam_of], 0)
    infants = np.bincount(fam_of[age < 1.5], minlength=n_fam)
    mothers = np.isin(status, ["maternity_leave", "caring_child_under_3"])
    other["childcare_benefit"] = np.where(mothers & (infants[fam_of] > 0), p.childcare_benefit, 0)
    single_parent = np.isin(np.bincount(fam_of[people.role == "spouse"], minlength=n_fam), [0])[fam_of]
    alimony_order = head & single_parent & (minors[fam_of] > 0)
    gets_alimony = alimony_order & (rng.random(n) < p.alimony_share)
    alimony = p.alimony_median * rng.lognormal(0, 0.4, n)
    other["alimony"] = np.where(gets_alimony, alimony, 0)
    # Awarded but unpaid: the records show alimony the family does not receive (views.py).
    alimony_unpaid = alimony_order & ~gets_alimony & (rng.random(n) < p.alimony_unpaid_share)
    other["scholarship"] = np.where(
        (status == "student_full_time") & (rng.random(n) < p.scholarship_share), p.scholarship, 0
    )
    heads_of_livestock = families["livestock_heads"].to_numpy()[fam_of]
    other["livestock_land"] = np.where(
        head & rural & (heads_of_livestock > 0),
        p.livestock_income_per_head * heads_of_livestock * rng.lognormal(0, 0.5, n),
        0,
    )
    # Remittances (source "other"): more often in villages and in the south (assumption).
    south = stats.key in p.large_family_regions
    p_remit = p.remittance_share * np.where(rural, 1.4, 0.7) * (1.3 if south else 1.0)
    other["other"] = np.where(
        head & (rng.random(n) < p_remit), p.remittance_median * rng.lognormal(0, 0.7, n), 0
    )
    return other, alimony, alimony_unpaid


def _income_rows(rng, earn, other, pid, people: _People, families, p: SyntheticParams):
    """The incomes table (three months of each income; a loan in one month) and each row's person."""
    months = Quarter.parse(p.quarter).reference_months
    fam_of, n = people.fam_of, len(people.status)
    frames, positions = [], []
    for source, values in [*earn.items(), *other.items()]:
        idx = np.flatnonzero(values > 0)
        if len(idx) == 0:
            continue
        positions.append(np.tile(idx, 3))
        amount = np.round(values[idx], 0)
        frames.append(
            pd.DataFrame(
                {
                    "person_id": np.tile(pid[idx], 3),
                    "month": np.repeat(months, len(idx)),
                    "source": source,
                    "amount_kzt": np.tile(amount, 3),
                }
            )
        )
    # Loans: one non-mortgage loan received in one month of the quarter by a few families (the applicant).
    take = np.flatnonzero(people.head & (rng.random(n) < p.loan_share))
    if len(take):
        positions.append(take)
        frames.append(
            pd.DataFrame(
                {
                    "person_id": pid[take],
                    "month": np.array(months)[rng.integers(0, 3, len(take))],
                    "source": "loans",
                    "amount_kzt": np.round(p.loan_median * rng.lognormal(0, 0.6, len(take)), -3),
                }
            )
        )
        families.loc[fam_of[take], "nonmortgage_loan_balance"] = np.round(
            p.loan_median * rng.lognormal(0, 0.6, len(take)), -3
        )
    return pd.concat(frames, ignore_index=True), np.concatenate(positions)


def _consumption(rng, families, people: _People, earn, other, smooth, present, true_sizes, p) -> None:
    """Consumption per adult equivalent (``families``: ``consumption_per_ae``, ``consumption_poor``):
    smoothed earnings (the transitory shock removed) + transfers and remittances − debt service, times a
    household shock."""
    fam_of, n_fam, years = people.fam_of, people.n_fam, people.years
    earned = earn["wages"] + (earn["self_employment"] + earn["informal"]) * smooth
    money = np.bincount(fam_of[present], weights=(earned + sum(other.values()))[present], minlength=n_fam)
    debt = families["nonmortgage_loan_balance"].to_numpy() * p.debt_service_share
    aged14 = np.bincount(fam_of[present & (years >= 14)], minlength=n_fam)
    kids = true_sizes - aged14
    ae = 1 + 0.5 * np.maximum(aged14 - 1, 0) + 0.3 * kids
    hh_shock = rng.lognormal(-(p.consumption_shock_sigma**2) / 2, p.consumption_shock_sigma, n_fam)
    consumption = np.maximum(money - debt, 0.3 * money) * hh_shock / np.maximum(ae, 1.0)
    families["consumption_per_ae"] = np.round(consumption)
    families["consumption_poor"] = consumption < p.consumption_line_sm * p.poverty_subsistence_minimum


def _lift_to_poverty_rate(
    rng, earn, other, fam_of, sizes, head, target: float, p: SyntheticParams
) -> np.ndarray:
    """Informal earnings that lift randomly chosen poor families above the subsistence minimum, so that
    the share of people below it equals the region's published poverty rate.

    Formal earnings alone leave too many families poor (one wage, many children); in reality informal
    work and help fill part of the gap — and state databases do not see it, which is the gap between the
    truth and the recorded view. The lifted family's head receives the amount (per-capita income ends
    between 1.0 and 1.6 subsistence minima).
    """
    sm = p.poverty_subsistence_minimum
    money = np.bincount(fam_of, weights=sum(earn.values()) + sum(other.values()), minlength=len(sizes))
    pc = money / sizes
    poor = np.flatnonzero(pc < sm)
    excess = sizes[poor].sum() - target * sizes.sum()
    extra_family = np.zeros(len(sizes))
    if excess > 0:
        # Small families are lifted first more often: poverty that remains is concentrated in large
        # families, as the recipients' profile shows (≈5.3 members, 61% children; fact sheet §5.1–5.2).
        weight = sizes[poor].astype(float) ** -p.lift_size_exponent
        order = poor[np.argsort(-(rng.random(len(poor)) ** (1 / weight)))]
        lifted = order[: np.searchsorted(np.cumsum(sizes[order]), excess) + 1]
        goal = sm * rng.uniform(1.0, 1.6, len(lifted))
        extra_family[lifted] = np.ceil((goal - pc[lifted]) * sizes[lifted])
    return np.where(head, extra_family[fam_of], 0.0)
