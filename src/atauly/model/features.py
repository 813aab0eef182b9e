"""Features of a family for the recommender, built from the data contract and the law's result.

One function, :func:`family_features`, turns any registry (a national view, a region, the snapshots of
historical applications, or a single application) plus the law's result on it into one row per family.
Training, batch scoring, the national scan and the casework service all call it, so there is no second
implementation of a feature (DESIGN.md: no training/serving skew).

Every feature is listed in :data:`FEATURES` with the reason it is there. Protected attributes and their
proxies are not features: no sex, no exact age of the head, no region or district (location would let the
model learn district-to-district differences in officers' practice and regional composition rather than
need), no IIN, no names. Sex of the head, region, settlement type, disability and family size are kept
apart, in :func:`audit_groups`, for the fairness audit only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atauly.i18n import N_
from atauly.registry import Registry


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "numeric" or "categorical"
    reason: str  # English, marked for the catalogs: the model card says it in its language


FEATURES: tuple[Feature, ...] = (
    # The law's result on the data in hand: the statutory test itself is the strongest evidence.
    Feature(
        "law_eligible", "numeric", N_("The law (atauly.law) on the same data finds the family entitled.")
    ),
    Feature("law_refusal_reason", "categorical", N_("Which statutory ground refuses the family, if any.")),
    Feature(
        "income_to_line",
        "numeric",
        N_("Per-capita income divided by the poverty line: how far below or above the line the family is."),
    ),
    Feature("law_amount_per_member", "numeric", N_("The law's monthly ASP + child supplement per member.")),
    # Composition: who the family must feed and who can earn.
    Feature("members", "numeric", N_("Members counted by the law (born by the reference date).")),
    Feature("children", "numeric", N_("Children under 18: more dependants per earner.")),
    Feature(
        "children_1_6", "numeric", N_("Children aged 1–6 (the child supplement; a parent often at home).")
    ),
    Feature("elderly", "numeric", N_("Members of pension age (63+): pensions are recorded income.")),
    Feature("working_age", "numeric", N_("Members aged 18–62: the family's earning capacity.")),
    Feature("disabled", "numeric", N_("Members with a disability (any group).")),
    Feature("disabled_severe", "numeric", N_("Members with disability group I or II (care needs).")),
    Feature("long_term_ill", "numeric", N_("Members with a long-term illness.")),
    Feature("single_parent", "numeric", N_("Children and no spouse: one earner at most.")),
    # Work: recorded status of working-age members.
    Feature("employees", "numeric", N_("Members in formal employment.")),
    Feature("self_employed", "numeric", N_("Self-employed members (irregular, partly unrecorded income).")),
    Feature("registered_unemployed", "numeric", N_("Members registered as unemployed.")),
    Feature("not_working", "numeric", N_("Working-age members neither working nor studying nor caring.")),
    Feature("carers", "numeric", N_("Members caring for a young child, a disabled or an elderly member.")),
    Feature("students", "numeric", N_("Full-time students.")),
    Feature("adults_low_education", "numeric", N_("Adults with at most basic secondary education.")),
    Feature("adults_higher_education", "numeric", N_("Adults with higher education.")),
    # Money per member per month, by kind (KZT): what the records and the declaration show.
    Feature("wages_pc", "numeric", N_("Formal wages per member a month.")),
    Feature("self_employment_pc", "numeric", N_("Self-employment income per member a month.")),
    Feature(
        "informal_pc", "numeric", N_("Declared informal earnings per member a month (0 in state records).")
    ),
    Feature("pension_pc", "numeric", N_("Pensions per member a month.")),
    Feature(
        "child_benefits_pc", "numeric", N_("Large-family, childcare, birth and awarded-mother benefits.")
    ),
    Feature("disability_benefits_pc", "numeric", N_("Disability, child-disability and survivor benefits.")),
    Feature("alimony_pc", "numeric", N_("Alimony per member a month.")),
    Feature("farm_pc", "numeric", N_("Income from livestock and land per member a month.")),
    Feature("other_income_pc", "numeric", N_("Scholarships, other benefits and other income per member.")),
    Feature("loans_pc", "numeric", N_("Non-mortgage loans received per member a month.")),
    # Assets and the commission's findings.
    Feature("dwellings_owned", "numeric", N_("Dwellings owned (an asset rule of the law).")),
    Feature("vehicles_owned", "numeric", N_("Motor vehicles owned (an asset rule of the law).")),
    Feature("land_ha", "numeric", N_("Land owned or used, hectares.")),
    Feature("livestock_heads", "numeric", N_("Livestock heads.")),
    Feature("loan_balance_pc", "numeric", N_("Outstanding non-mortgage loans per member.")),
    Feature(
        "commission_found_no_need", "numeric", N_("The commission's visit found no need (Art. 128 p.3).")
    ),
    # Data quality: stale records are where the recorded view and the truth part ways.
    Feature(
        "record_age_quarters", "numeric", N_("Age of the oldest member's record, quarters (0 = current).")
    ),
    Feature("settlement_type", "categorical", N_("Urban or rural: prices, farm income and distance differ.")),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
CATEGORICAL: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind == "categorical")
#: The dwelling as a home-inspection act records it (the data contract's optional family columns of the same
#: names, ``registry.codes.DWELLING_CODES``; missing = not inspected, unknown). Features only where present:
#: :func:`family_features` adds them when some family of the registry has one (or when asked, for a model
#: trained with them), and :func:`feature_columns` trains on them only then. A model trained without them
#: scores as before (it reads its own columns); one trained with them reads a missing value as unknown.
DWELLING_FEATURES: tuple[Feature, ...] = (
    Feature("dwelling_type", "categorical", N_("Dwelling type found at the home inspection (yurt, house…).")),
    Feature("wall_material", "categorical", N_("Walls of the dwelling found at the home inspection.")),
    Feature("floor_material", "categorical", N_("Floor of the dwelling (an earth floor: a sign of need).")),
    Feature(
        "heating", "categorical", N_("Heating found at the home inspection (coal or dung stove, none…).")
    ),
    Feature("water", "categorical", N_("Water supply found at the home inspection (delivered, none…).")),
    Feature("sanitation", "categorical", N_("Toilet found at the home inspection (outdoors, none…).")),
)
DWELLING_NAMES: tuple[str, ...] = tuple(f.name for f in DWELLING_FEATURES)


def feature_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) features to train on from a :func:`family_features` frame: every feature of
    :data:`FEATURES`, and the dwelling features that at least one row of the frame has."""
    numeric = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    dwelling = [c for c in DWELLING_NAMES if c in frame.columns and frame[c].notna().any()]
    return numeric, [*CATEGORICAL, *dwelling]


_MONEY_GROUPS = {
    "wages_pc": ("wages",),
    "self_employment_pc": ("self_employment",),
    "informal_pc": ("informal",),
    "pension_pc": ("pension",),
    "child_benefits_pc": (
        "large_family_benefit",
        "childcare_benefit",
        "birth_benefit",
        "awarded_mother_benefit",
    ),
    "disability_benefits_pc": ("disability_benefit", "child_disability_benefit", "survivor_benefit"),
    "alimony_pc": ("alimony",),
    "farm_pc": ("livestock_land",),
    "other_income_pc": ("scholarship", "other_benefit", "other"),
    "loans_pc": ("loans",),
}
MONTHS = 3  # the law counts the income of the quarter before the application quarter (Art. 127)
_CARE = ("caring_child_under_3", "caring_disabled", "caring_elderly", "maternity_leave")
_LOW_EDUCATION = ("none", "primary", "basic_secondary")
#: Columns of the law's result the features need (``atauly.law.compute`` output).
LAW_COLUMNS = (
    "members",
    "per_capita_income",
    "poverty_line",
    "eligible",
    "refusal_reason",
    "asp_monthly_amount",
    "child_supplement_monthly",
)


def _reference_dates(families: pd.DataFrame, default: pd.Timestamp) -> np.ndarray:
    if "application_date" in families:
        dates = pd.to_datetime(families["application_date"], errors="coerce").fillna(default)
    else:
        dates = pd.Series(default, index=families.index)
    return dates.to_numpy(dtype="datetime64[ns]")


class _codes:
    """A text column factorised once: equality and membership tests on small integers instead of
    millions of Python strings. Missing values (and the text ``"None"``/``"nan"`` that ``astype(str)``
    used to give them) equal no code."""

    def __init__(self, values: pd.Series) -> None:
        self.codes, uniques = pd.factorize(values, use_na_sentinel=True)
        self.index = {str(u): i for i, u in enumerate(uniques) if isinstance(u, str)}

    def isin(self, names) -> np.ndarray:
        wanted = [self.index[x] for x in names if x in self.index]
        if not wanted:
            return np.zeros(len(self.codes), dtype=bool)
        table = np.zeros(len(self.index) + 1, dtype=bool)
        table[wanted] = True
        return table[self.codes]  # code -1 (missing) reads the last slot: False

    def equal(self, name: str) -> np.ndarray:
        return self.isin((name,))


def _max_by_family(values: np.ndarray, person_family: np.ndarray, n: int) -> np.ndarray:
    """Each family's largest value (0 for a family without persons), as ``groupby().max()`` gives it."""
    if np.isnan(values).any():
        return pd.Series(values).groupby(person_family).max().reindex(range(n), fill_value=0.0).to_numpy()
    out = np.full(n, -np.inf)
    np.maximum.at(out, person_family, values)
    out[np.bincount(person_family, minlength=n) == 0] = 0.0
    return out


def family_features(
    registry: Registry, law: pd.DataFrame, reference_date, include: tuple[str, ...] | list[str] = ()
) -> pd.DataFrame:
    """One row per family of ``registry`` (same order) with the columns of :data:`FEATURE_NAMES`, then the
    dwelling features (:data:`DWELLING_NAMES`) that some family has a value of, or that ``include`` names
    (a model's own columns: missing values are None, unknown).

    ``law`` is the law's result on the same registry, row for row (:data:`LAW_COLUMNS`).
    ``reference_date`` is used for ages where a family has no application date. Incomes are those of
    the law's reference quarter (the incomes table holds its three months), so money features are the
    quarter's total ÷ 3 — the same for one family, a batch or a table with many applications' quarters.
    """
    return feature_frame(family_feature_columns(registry, law, reference_date, include))


def feature_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The frame of :func:`family_features` from its columns (:func:`family_feature_columns`)."""
    frame = pd.DataFrame({name: columns[name] for name in FEATURE_NAMES})
    frame["settlement_type"] = frame["settlement_type"].astype(object)
    frame["law_refusal_reason"] = frame["law_refusal_reason"].astype(object)
    for name in DWELLING_NAMES:
        if name in columns:
            frame[name] = pd.Series(
                columns[name], index=frame.index, dtype=object
            )  # codes, as settlement_type
    return frame


def family_feature_columns(
    registry: Registry, law: pd.DataFrame, reference_date, include: tuple[str, ...] | list[str] = ()
) -> dict[str, np.ndarray]:
    """:func:`family_features`' columns as arrays, before they become a frame (:func:`feature_frame`): the
    columns of :data:`FEATURE_NAMES` in that order, then the dwelling features it adds (object arrays,
    None where unknown). The casework engine scores a few families from these without the frames."""
    fam, per, inc = registry.families, registry.persons, registry.incomes
    if len(law) != len(fam):
        raise ValueError(f"the law's result has {len(law)} rows for {len(fam)} families")
    missing = [c for c in LAW_COLUMNS if c not in law]
    if missing:
        raise ValueError(f"the law's result lacks the columns {', '.join(missing)}")
    person_family, income_person = registry.positions()
    n = len(fam)
    ref = _reference_dates(fam, pd.Timestamp(reference_date))
    born = pd.to_datetime(per["birth_date"]).to_numpy(dtype="datetime64[ns]")
    age = (ref[person_family] - born).astype("timedelta64[D]").astype(np.int64) / 365.25
    alive = age >= 0  # born by the reference date (the law counts them the same way)

    def count(mask) -> np.ndarray:
        return np.bincount(person_family, weights=(np.asarray(mask) & alive), minlength=n)

    members = law["members"].to_numpy(dtype=float)
    members_safe = np.maximum(members, 1)
    out = _law_features(law, members_safe)
    out |= _people_features(per, age, count, members, n)
    source = _codes(inc["source"])
    amount = inc["amount_kzt"].to_numpy(dtype=float)
    inc_family = person_family[income_person] if len(inc) else np.zeros(0, dtype=np.int64)
    for name, sources in _MONEY_GROUPS.items():
        total = np.bincount(inc_family, weights=amount * source.isin(sources), minlength=n)
        out[name] = total / MONTHS / members_safe
    out |= _family_features(fam, per, person_family, members_safe)
    columns = {name: out[name] for name in FEATURE_NAMES}
    for name in DWELLING_NAMES:
        values = fam[name] if name in fam else None
        if name in include or (values is not None and values.notna().any()):
            codes = np.full(n, None, dtype=object)
            if values is not None:
                known = values.notna().to_numpy()
                codes[known] = values.to_numpy(dtype=object)[known]
            columns[name] = codes
    return columns


def _law_features(law: pd.DataFrame, members_safe: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "law_eligible": law["eligible"].to_numpy(dtype=float),
        "law_refusal_reason": law["refusal_reason"].fillna("").astype(str).replace("", "none").to_numpy(),
        "income_to_line": law["per_capita_income"].to_numpy(dtype=float)
        / np.maximum(law["poverty_line"].to_numpy(dtype=float), 1.0),
        "law_amount_per_member": (
            law["asp_monthly_amount"].to_numpy(dtype=float)
            + law["child_supplement_monthly"].to_numpy(dtype=float)
        )
        / members_safe,
    }


def _people_features(per: pd.DataFrame, age: np.ndarray, count, members, n: int) -> dict[str, np.ndarray]:
    """Composition, disability, work and education: counts of the family's members born by the reference
    date (``count``)."""
    disability = (
        per["disability_group"].fillna(0).to_numpy() if "disability_group" in per else np.zeros(len(per))
    )
    adult = age >= 18
    working_age = adult & (age < 63)
    children = count(age < 18)
    out = {
        "members": members,
        "children": children,
        "children_1_6": count((age >= 1) & (age < 7)),
        "elderly": count(age >= 63),
        "working_age": count(working_age),
        "disabled": count(disability > 0),
        "disabled_severe": count((disability > 0) & (disability <= 2)),
        "long_term_ill": count(per["long_term_illness"].fillna(False).to_numpy(dtype=bool))
        if "long_term_illness" in per
        else np.zeros(n),
        "single_parent": ((children > 0) & (count(_codes(per["role"]).equal("spouse")) == 0)).astype(float),
    }
    if "employment_status" in per:
        status = _codes(per["employment_status"])
    else:
        status = _codes(pd.Series("not_working", index=per.index, dtype=object))
    out |= {
        "employees": count(status.equal("employee")),
        "self_employed": count(status.equal("self_employed")),
        "registered_unemployed": count(status.equal("registered_unemployed")),
        "not_working": count(status.equal("not_working") & working_age),
        "carers": count(status.isin(_CARE)),
        "students": count(status.equal("student_full_time")),
    }
    if "education" in per:
        edu = _codes(per["education"])
        out["adults_low_education"] = count(adult & edu.isin(_LOW_EDUCATION))
        out["adults_higher_education"] = count(adult & edu.equal("higher"))
    else:
        out["adults_low_education"] = out["adults_higher_education"] = np.full(n, np.nan)
    return out


def _family_features(
    fam: pd.DataFrame, per: pd.DataFrame, person_family, members_safe
) -> dict[str, np.ndarray]:
    """Assets, the commission's finding, the records' age and the settlement."""
    n = len(fam)

    def fam_col(column, default=0.0) -> np.ndarray:
        if column not in fam:
            return np.full(n, default, dtype=float)
        values = fam[column]
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":  # already numbers: no parsing
            values = values.to_numpy(dtype=float)
            return np.where(np.isnan(values), default, values)
        return pd.to_numeric(values, errors="coerce").astype(float).fillna(default).to_numpy()

    out = {
        "dwellings_owned": fam_col("dwellings_owned"),
        "vehicles_owned": fam_col("vehicles_owned"),
        "land_ha": fam_col("land_ha"),
        "livestock_heads": fam_col("livestock_heads"),
        "loan_balance_pc": fam_col("nonmortgage_loan_balance") / members_safe,
        "commission_found_no_need": fam_col("commission_found_no_need"),
    }
    if "record_age_quarters" in per:
        out["record_age_quarters"] = _max_by_family(
            per["record_age_quarters"].to_numpy(dtype=float), person_family, n
        )
    else:
        out["record_age_quarters"] = np.zeros(n)
    settlement = fam["settlement_type"] if "settlement_type" in fam else pd.Series(pd.NA, index=fam.index)
    out["settlement_type"] = settlement.astype(object).where(settlement.notna(), None).to_numpy()
    return out


def size_band(members) -> np.ndarray:
    m = np.asarray(members, dtype=float)
    return np.select([m <= 2, m <= 4, m <= 6], ["1-2", "3-4", "5-6"], "7+")


def audit_groups(registry: Registry, members) -> pd.DataFrame:
    """Groups for the fairness audit (never features): region, settlement, sex of the head (the
    applicant), a disabled member, and family-size band."""
    fam, per = registry.families, registry.persons
    person_family, _ = registry.positions()
    n = len(fam)
    head = np.full(n, "unknown", dtype=object)
    is_head = (per["role"].astype(str) == "applicant").to_numpy()
    head[person_family[is_head]] = per["sex"].astype(str).to_numpy()[is_head]
    disabled = np.zeros(n, dtype=bool)
    if "disability_group" in per:
        disabled[person_family[(per["disability_group"].fillna(0).to_numpy() > 0)]] = True
    settlement = (
        fam["settlement_type"].astype(object)
        if "settlement_type" in fam
        else pd.Series("unknown", index=fam.index)
    )
    return pd.DataFrame(
        {
            "region": fam["region_kato"].astype(str).to_numpy(),
            "settlement": settlement.fillna("unknown").to_numpy(),
            "sex_of_head": head,
            "disability_in_family": np.where(disabled, "yes", "no"),
            "family_size": size_band(members),
        }
    )
