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
from .incomes import truth_incomes
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

    m = _members(rng, sizes, p)
    age = _ages(rng, m, p)
    days = np.floor(age * DAYS_PER_YEAR).astype(np.int64) + 1
    birth = ref - days.astype("timedelta64[D]")
    head_male = rng.random(n_fam) < np.where(m.has_spouse, 0.85, 0.4)
    sex = np.where(rng.random(len(age)) < 0.5, "M", "F")
    sex[m.is_head] = np.where(head_male, "M", "F")
    sex[m.is_spouse] = np.where(head_male[m.fam_of[m.is_spouse]], "F", "M")
    years = np.floor(age)
    group, status = _disability_and_work(rng, m, age, years, sex, is_urban[m.fam_of], p)
    education = _education(rng, years, is_urban[m.fam_of])

    pid = np.char.add(np.char.add(fam_ids[m.fam_of], "-"), (m.pos + 1).astype(str))
    # IIN serials: each region has its own block of SERIAL_BLOCK numbers per (birth date, sex), so IINs
    # are unique across regions by construction; within a block people are numbered in order.
    block = REGION_INDEX[stats.key] * SERIAL_BLOCK
    rank = _rank_within(birth.astype(np.int64) * 2 + (sex == "F"))
    iins = _dedupe_iins(make_iins(birth, sex, block + rank % SERIAL_BLOCK), birth, sex, rng, block)
    persons = pd.DataFrame(
        {
            "person_id": pid,
            "family_id": fam_ids[m.fam_of],
            "iin": iins,
            "role": m.role,
            "sex": sex,
            "birth_date": birth,
            "disability_group": group.astype(np.int64),
            "employment_status": status.astype(str),
            "education": education,
            "long_term_illness": rng.random(len(age)) < 0.004,
        }
    )
    families = _families_frame(rng, fam_ids, region.kato, district, is_urban, p)
    incomes, income_person = truth_incomes(rng, families, persons, pid, m.fam_of, years, sizes, stats, p, age)
    return RegionData(
        with_defaults(FAMILIES, families), with_defaults(PERSONS, persons), incomes, m.fam_of, income_person
    )


@dataclass
class _Members:
    """Each person's family row and place in it: position 0 is the applicant (head), 1 the spouse when
    present, then children and others."""

    fam_of: np.ndarray
    pos: np.ndarray
    has_spouse: np.ndarray  # per family
    is_head: np.ndarray
    is_spouse: np.ndarray
    is_child: np.ndarray
    is_other: np.ndarray
    role: np.ndarray
    sizes: np.ndarray


def _members(rng, sizes: np.ndarray, p: SyntheticParams) -> _Members:
    n_fam, n = len(sizes), int(sizes.sum())
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
    return _Members(fam_of, pos, has_spouse, is_head, is_spouse, is_child, is_other, role, sizes)


def _ages(rng, m: _Members, p: SyntheticParams) -> np.ndarray:
    """Ages in years (float). Single persons are older on average; heads of large families younger."""
    n_fam, fam_of, is_spouse, is_child, is_other = len(m.sizes), m.fam_of, m.is_spouse, m.is_child, m.is_other
    single = m.sizes == 1
    head_age = np.where(single, rng.uniform(20, 88, n_fam) ** 1.0, rng.uniform(22, 62, n_fam))
    head_age = np.where(single & (rng.random(n_fam) < 0.45), rng.uniform(61, 90, n_fam), head_age)
    age = np.empty(len(fam_of))
    age[m.is_head] = head_age
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
    return age


def _disability_and_work(rng, m: _Members, age, years, sex, urban_p, p: SyntheticParams):
    """(disability group, employment status) of each person."""
    n, n_fam, fam_of, is_head, is_spouse, is_child = (
        len(age), len(m.sizes), m.fam_of, m.is_head, m.is_spouse, m.is_child,
    )  # fmt: skip
    p_dis = np.where(
        years < 18, p.disability_child, np.where(years < 63, p.disability_adult, p.disability_elderly)
    )
    disabled = rng.random(n) < p_dis
    group = np.where(disabled, rng.choice([1, 2, 3], n, p=list(p.disability_groups)), 0)

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
    return group, status


def _education(rng, years, urban_p) -> np.ndarray:
    n, adult = len(years), years >= 18
    education = np.where(
        ~adult,
        np.where(years < 7, "none", np.where(years < 11, "primary", "basic_secondary")),
        rng.choice(
            ["basic_secondary", "general_secondary", "technical_vocational", "higher"],
            n,
            p=[0.05, 0.38, 0.32, 0.25],
        ),
    )
    return np.where(
        adult & ~urban_p & (education == "higher") & (rng.random(n) < 0.45), "general_secondary", education
    )


def _families_frame(rng, fam_ids, region_kato: str, district, is_urban, p: SyntheticParams) -> pd.DataFrame:
    """The families table: codes, settlement and assets."""
    n_fam = len(fam_ids)
    vehicle_propensity = rng.random(n_fam)  # vehicles are drawn independently of income (a simplification)
    return pd.DataFrame(
        {
            "family_id": fam_ids,
            "region_kato": region_kato,
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
