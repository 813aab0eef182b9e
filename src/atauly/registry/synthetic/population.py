"""Families, persons, truth incomes and assets of one region, vectorised (no per-person Python loops)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..codes import REGION_BY_KEY, districts
from ..iin import make_iins
from ..quarter import Quarter
from ..schema import FAMILIES, PERSONS, with_defaults
from .geography import RegionStats
from .params import SyntheticParams

DAYS_PER_YEAR = 365.25
SERIAL_BLOCK = 500  # IIN serial numbers per region, birth date and sex (20 regions × 500 = 10,000)


@dataclass
class RegionData:
    families: pd.DataFrame
    persons: pd.DataFrame
    incomes: pd.DataFrame  # long format (person_id, month, source, amount_kzt)
    person_family: np.ndarray | None = None  # row in families of each person
    income_person: np.ndarray | None = None  # row in persons of each income row

    def registry(self):
        """The same tables as a :class:`~atauly.registry.io.Registry`, with the row positions kept."""
        from ..io import Registry

        return Registry(self.families, self.persons, self.incomes, self.person_family, self.income_person)


def size_distribution(stats: RegionStats, p: SyntheticParams) -> tuple[np.ndarray, np.ndarray]:
    """Shares of households of size 1, 2, 3… in the region's towns and villages (the tables of the
    parameters, tilted towards larger households in the regions listed in ``large_family_regions``)."""
    tilt = p.large_family_tilt if stats.key in p.large_family_regions else 1.0
    out = []
    for table in (p.household_size_urban, p.household_size_rural):
        share = np.asarray(table, dtype=float) * tilt ** np.arange(len(table))
        out.append(share / share.sum())
    return out[0], out[1]


def _sizes(rng, n_target_people: int, stats: RegionStats, p: SyntheticParams):
    """Household sizes until the region's population is reached."""
    urban_p, rural_p = size_distribution(stats, p)
    mean = [float(np.dot(np.arange(1, len(q) + 1), q)) for q in (urban_p, rural_p)]
    mean_size = stats.urban_share * mean[0] + (1 - stats.urban_share) * mean[1]
    n_fam = max(1, int(round(n_target_people / mean_size)))
    is_urban = rng.random(n_fam) < stats.urban_share
    u = rng.random(n_fam)
    sizes = np.where(
        is_urban,
        1 + np.minimum(np.searchsorted(np.cumsum(urban_p), u, side="right"), len(urban_p) - 1),
        1 + np.minimum(np.searchsorted(np.cumsum(rural_p), u, side="right"), len(rural_p) - 1),
    )
    return sizes.astype(np.int64), is_urban


def generate_region(stats: RegionStats, scale: float, seed: int, p: SyntheticParams) -> RegionData:
    rng = np.random.default_rng([seed, REGION_INDEX[stats.key]])
    region = REGION_BY_KEY[stats.key]
    sizes, is_urban = _sizes(rng, int(round(stats.population * scale)), stats, p)
    n_fam = len(sizes)
    ref = np.datetime64(Quarter.parse(p.quarter).start)

    # Family ids and districts (drawn uniformly among the region's districts).
    fam_ids = np.char.add(f"R{region.prefix}F", np.arange(n_fam).astype(str))
    dist = [d.kato for d in districts() if d.region_kato == region.kato]
    district = np.array(dist)[rng.integers(0, len(dist), n_fam)]

    # Persons: position 0 is the applicant (head), 1 the spouse when present, then children/others.
    n = int(sizes.sum())
    fam_of = np.repeat(np.arange(n_fam), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    pos = np.arange(n) - np.repeat(first, sizes)
    has_spouse = (sizes >= 2) & (
        rng.random(n_fam) < np.where(sizes == 2, p.spouse_share * 0.8, p.spouse_share)
    )
    is_head = pos == 0
    is_spouse = (pos == 1) & has_spouse[fam_of]
    rest = ~is_head & ~is_spouse
    is_other = rest & (rng.random(n) < 0.12)
    is_child = rest & ~is_other
    role = np.select([is_head, is_spouse, is_child], ["applicant", "spouse", "child"], "other")

    # Ages in years (float). Single persons are older on average; heads of large families younger.
    single = sizes == 1
    head_age = np.where(single, rng.uniform(20, 88, n_fam) ** 1.0, rng.uniform(22, 62, n_fam))
    head_age = np.where(single & (rng.random(n_fam) < 0.45), rng.uniform(61, 90, n_fam), head_age)
    age = np.empty(n)
    age[is_head] = head_age
    drawn = head_age[fam_of[is_spouse]] + rng.normal(-2, 3, is_spouse.sum())
    # Spread, not clip, at the bounds: a clip would give many people the same birth date.
    age[is_spouse] = np.where(drawn < 18, 18 + rng.uniform(0, 3, is_spouse.sum()), np.minimum(drawn, 95))
    parent_age = head_age[fam_of[is_child]]
    if is_spouse.any():
        spouse_age = np.full(n_fam, np.inf)
        spouse_age[fam_of[is_spouse]] = age[is_spouse]
        parent_age = np.minimum(parent_age, spouse_age[fam_of[is_child]])
    max_child = np.clip(parent_age - 17.5, 0.05, 24)
    # Births are spread evenly over the years (a skewed draw would crowd hundreds of children onto the
    # same birth dates); most children are minors, some adult children still live with their parents.
    n_child = is_child.sum()
    minor_span = np.minimum(max_child, 18)
    adult_child = (max_child > 18) & (rng.random(n_child) < p.adult_child_share)
    age[is_child] = np.where(
        adult_child, rng.uniform(18, np.maximum(max_child, 18.01)), rng.uniform(0, 1, n_child) * minor_span
    )
    age[is_other] = np.where(
        rng.random(is_other.sum()) < 0.6,
        rng.uniform(60, 92, is_other.sum()),
        rng.uniform(18, 40, is_other.sum()),
    )
    days = np.floor(age * DAYS_PER_YEAR).astype(np.int64) + 1
    birth = ref - days.astype("timedelta64[D]")

    head_male = rng.random(n_fam) < np.where(has_spouse, 0.85, 0.4)
    sex = np.where(rng.random(n) < 0.5, "M", "F")
    sex[is_head] = np.where(head_male, "M", "F")
    sex[is_spouse] = np.where(head_male[fam_of[is_spouse]], "F", "M")

    # Disability.
    years = np.floor(age)
    p_dis = np.where(
        years < 18, p.disability_child, np.where(years < 63, p.disability_adult, p.disability_elderly)
    )
    disabled = rng.random(n) < p_dis
    group = np.where(disabled, rng.choice([1, 2, 3], n, p=list(p.disability_groups)), 0)

    # Employment status.
    urban_p = is_urban[fam_of]
    retire = np.where(sex == "M", 63, 61)
    status = np.full(n, "not_working", dtype=object)
    adult = years >= 18
    u = rng.random(n)
    # Heads of families work more often than other adults (assumption; see params).
    role_boost = np.where(is_head, p.head_employment_boost, np.where(is_spouse, 0.85, 0.9))
    p_emp = np.where(urban_p, p.employee_urban, p.employee_rural) * role_boost
    p_self = np.where(urban_p, p.self_employed_urban, p.self_employed_rural) * role_boost
    status[adult & (u < p_emp)] = "employee"
    status[adult & (u >= p_emp) & (u < p_emp + p_self)] = "self_employed"
    status[adult & (u >= p_emp + p_self) & (u < p_emp + p_self + p.registered_unemployed)] = (
        "registered_unemployed"
    )
    student = adult & (years <= 22) & (rng.random(n) < p.student_18_22)
    status[student] = "student_full_time"
    status[np.isin(group, [1, 2]) & adult] = "not_working"
    status[years >= retire] = "pensioner"
    youngest = np.full(n_fam, 99.0)
    np.minimum.at(youngest, fam_of[is_child], age[is_child])
    mother = (sex == "F") & (is_head | is_spouse) & (years < retire)
    care_child = mother & (youngest[fam_of] < 3) & (rng.random(n) < 0.65)
    status[care_child] = np.where(youngest[fam_of[care_child]] < 1, "maternity_leave", "caring_child_under_3")
    fam_has_severe = np.zeros(n_fam, dtype=bool)
    fam_has_severe[fam_of[np.isin(group, [1, 2])]] = True
    carer = (
        (is_spouse | is_head)
        & adult
        & (years < retire)
        & fam_has_severe[fam_of]
        & (group == 0)
        & (rng.random(n) < 0.4)
    )
    status[carer & (status != "pensioner")] = "caring_disabled"

    education = np.where(
        ~adult,
        np.where(years < 7, "none", np.where(years < 11, "primary", "basic_secondary")),
        rng.choice(
            ["basic_secondary", "general_secondary", "technical_vocational", "higher"],
            n,
            p=[0.05, 0.38, 0.32, 0.25],
        ),
    )
    education = np.where(
        adult & ~urban_p & (education == "higher") & (rng.random(n) < 0.45), "general_secondary", education
    )

    pid = np.char.add(np.char.add(fam_ids[fam_of], "-"), (pos + 1).astype(str))
    # IIN serials: each region has its own block of SERIAL_BLOCK numbers per (birth date, sex), so IINs
    # are unique across regions by construction; within a block people are numbered in order.
    block = REGION_INDEX[stats.key] * SERIAL_BLOCK
    rank = _rank_within(birth.astype(np.int64) * 2 + (sex == "F"))
    iins = _dedupe_iins(make_iins(birth, sex, block + rank % SERIAL_BLOCK), birth, sex, rng, block)
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "family_id": fam_ids[fam_of],
            "iin": iins,
            "role": role,
            "sex": sex,
            "birth_date": birth,
            "disability_group": group.astype(np.int64),
            "employment_status": status.astype(str),
            "education": education,
            "long_term_illness": rng.random(n) < 0.004,
        }
    )

    # Assets.
    vehicle_propensity = rng.random(n_fam)  # vehicles are drawn independently of income (a simplification)
    families = pd.DataFrame(
        {
            "family_id": fam_ids,
            "region_kato": region.kato,
            "district_kato": district,
            "settlement_type": np.where(is_urban, "urban", "rural"),
            "dwellings_owned": (rng.random(n_fam) < p.own_dwelling).astype(np.int64)
            + (rng.random(n_fam) < p.second_dwelling).astype(np.int64),
            "vehicles_owned": (rng.random(n_fam) < p.vehicle_base * (0.5 + vehicle_propensity)).astype(
                np.int64
            ),
            "land_ha": np.where(
                ~is_urban & (rng.random(n_fam) < 0.4), np.round(rng.gamma(1.5, 0.3, n_fam), 2), 0.0
            ),
            "livestock_heads": np.where(
                ~is_urban & (rng.random(n_fam) < p.livestock_share_rural), rng.poisson(4, n_fam), 0
            ).astype(np.int64),
            "nonmortgage_loan_balance": 0.0,
        }
    )
    incomes, income_person = _truth_incomes(rng, families, persons, pid, fam_of, years, sizes, stats, p, age)
    return RegionData(
        with_defaults(FAMILIES, families), with_defaults(PERSONS, persons), incomes, fam_of, income_person
    )


#: Columns of the truth that state databases do not have (dropped from the recorded view).
TRUTH_ONLY_PERSONS = ("informal_job", "envelope_wage", "alimony_unpaid", "income_shock", "informal_lift")
TRUTH_ONLY_FAMILIES = ("consumption_per_ae", "consumption_poor")
#: Columns used to build the recorded view, in neither layer.
GENERATION_ONLY_PERSONS = ("absent", "recorded_alimony")


def without_absent(full: RegionData) -> RegionData:
    """The truth: the generated population less the members who left (the records still count them)."""
    absent = full.persons["absent"].to_numpy(dtype=bool)
    keep_income = ~absent[full.income_person]
    new_pos = np.cumsum(~absent) - 1
    persons = full.persons.loc[~absent].drop(columns=list(GENERATION_ONLY_PERSONS)).reset_index(drop=True)
    return RegionData(
        full.families,
        persons,
        full.incomes.loc[keep_income].reset_index(drop=True),
        full.person_family[~absent],
        new_pos[full.income_person[keep_income]],
    )


def _rank_within(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2… numbering of the rows that share a key, in row order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - group_start
    return rank


def _iin_keys(iins: np.ndarray) -> np.ndarray:
    """IINs as integers (12 digits fit in int64), for fast duplicate checks."""
    digits = np.asarray(iins, dtype="U12").view(np.uint32).reshape(-1, 12).astype(np.int64) - 48
    return digits @ (10 ** np.arange(11, -1, -1, dtype=np.int64))


def _dedupe_iins(iins: np.ndarray, birth, sex, rng, block: int) -> np.ndarray:
    """Rare collisions (an unusable serial moved onto the next one, possibly out of the region's block):
    draw again inside the block until every IIN is unique and inside it — so regions never collide."""
    for _ in range(100):
        keys = _iin_keys(iins)
        serial = keys // 10 % 10000
        order = np.argsort(keys, kind="stable")
        dup_sorted = np.r_[False, keys[order][1:] == keys[order][:-1]]
        outside = (serial < block) | (serial >= block + SERIAL_BLOCK)
        idx = np.union1d(order[dup_sorted], np.flatnonzero(outside))
        if len(idx) == 0:
            return iins
        iins[idx] = make_iins(birth[idx], sex[idx], block + rng.integers(0, SERIAL_BLOCK, len(idx)))
    raise RuntimeError(
        f"more than {SERIAL_BLOCK} people of one region share a birth date and sex: IINs cannot be unique"
    )


def _truth_incomes(
    rng, families, persons, pid, fam_of, years, sizes, stats, p: SyntheticParams, age
) -> pd.DataFrame:
    """Monthly incomes by source; poor families are lifted so that the region's poverty rate matches its
    target. Also marks, in place, what the records will miss (``persons``: ``informal_job``,
    ``envelope_wage``, ``alimony_unpaid``, ``absent``) and adds the family's consumption (``families``:
    ``consumption_per_ae``, ``consumption_poor``). See docs/synthetic-data.md, "Hidden need"."""
    n = len(persons)
    n_fam = len(families)
    status = persons["employment_status"].to_numpy()
    group = persons["disability_group"].to_numpy()
    role = persons["role"].to_numpy()
    education = persons["education"].to_numpy()
    level = p.region_wage_level.get(stats.key, 1.0)
    rural = (families["settlement_type"].to_numpy() == "rural")[fam_of]
    head = role == "applicant"
    adult = years >= 18
    retire = np.where(persons["sex"].to_numpy() == "M", 63, 61)

    # Absent members still registered: adult children and others aged 18–40 who left (work elsewhere).
    # They are dropped from the truth; the records still count them (views.py).
    absent = (
        np.isin(role, ["child", "other"]) & adult & (years <= 40) & (rng.random(n) < p.absent_member_share)
    )
    present = ~absent
    true_sizes = np.bincount(fam_of[present], minlength=n_fam)

    # Who works informally: a logit weight on proxies the records partly show; the base rate is solved so
    # that informal jobs are ``informal_employment_share`` of all jobs (params.py).
    low_edu = np.isin(education, ["none", "primary", "basic_secondary"])
    logit_w = (
        p.informal_weight_rural * rural
        + p.informal_weight_low_education * low_edu
        + p.informal_weight_higher_education * (education == "higher")
        + p.informal_weight_young * (years < 30)
        + p.informal_weight_self_employed * (status == "self_employed")
        - 0.3 * np.log(level)
    )
    w = np.exp(logit_w)
    employed = np.isin(status, ["employee", "self_employed"]) & present
    able_idle = (
        np.isin(status, ["not_working", "registered_unemployed"])
        & adult
        & (years < retire)
        & ~np.isin(group, [1, 2])
        & present
    )
    # Heads of families where nobody has a job mostly earn informally (``informal_share_idle_families``):
    # they are part of the informal jobs drawn from people without a recorded job.
    has_job = np.bincount(fam_of[employed], minlength=n_fam) > 0
    idle_head = head & able_idle & ~has_job[fam_of] & (rng.random(n) < p.informal_share_idle_families)
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

    # Hidden income also depends on what the records partly show (education, a vehicle, the region), and
    # on much they do not (``hidden_income_sigma``).
    vehicle = (families["vehicles_owned"].to_numpy() > 0)[fam_of]
    hidden_level = (
        level
        * np.exp(0.25 * (education == "higher") - 0.15 * low_edu + 0.2 * vehicle - 0.1 * rural)
        * rng.lognormal(-(p.hidden_income_sigma**2) / 2, p.hidden_income_sigma, n)
    )
    # The quarter's transitory shock on informal and self-employment income (removed by smoothing).
    shock = rng.lognormal(-(p.informal_shock_sigma**2) / 2, p.informal_shock_sigma, n)

    wage = np.maximum(p.wage_median * level * rng.lognormal(0, p.wage_sigma, n), p.minimum_wage * 0.5)
    self_income = p.self_employment_median * level * rng.lognormal(0, 0.8, n) * shock
    is_emp, is_self = status == "employee", status == "self_employed"
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
    single_parent = np.isin(np.bincount(fam_of[role == "spouse"], minlength=n_fam), [0])[fam_of]
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
    # The money of absent members is not the family's: they are left out of the poverty calibration.
    money_rows = {k: np.where(present, v, 0.0) for k, v in {**earn, **other}.items()}
    lift = _lift_to_poverty_rate(rng, money_rows, {}, fam_of, true_sizes, head, stats.poverty_rate, p)
    # In about half of the lifted families the lift is recorded income: a head who works formally gets it
    # as wages (a better job); otherwise it stays informal (help, odd jobs) and the records miss it.
    works = (is_emp & ~informal_job) | is_self
    formal = (rng.random(n_fam)[fam_of] < p.lift_formal_share) & works
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

    months = Quarter.parse(p.quarter).reference_months
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
    take = np.flatnonzero(head & (rng.random(n) < p.loan_share))
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

    # Consumption per adult equivalent: smoothed earnings (the transitory shock removed) + transfers and
    # remittances − debt service, times a household shock.
    smooth = np.where(informal_job | is_self, 1 / shock, 1.0)
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
    return pd.concat(frames, ignore_index=True), np.concatenate(positions)


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


REGION_INDEX = {
    key: i
    for i, key in enumerate(
        [
            "abai",
            "akmola",
            "aktobe",
            "almaty_region",
            "atyrau",
            "west_kazakhstan",
            "zhambyl",
            "zhetisu",
            "karaganda",
            "kostanay",
            "kyzylorda",
            "mangystau",
            "pavlodar",
            "north_kazakhstan",
            "turkestan",
            "ulytau",
            "east_kazakhstan",
            "astana",
            "almaty",
            "shymkent",
        ]
    )
}
