"""Applications and historical decisions over past quarters (the labels a model will learn from).

For each of the last ``p.history_quarters`` quarters, families apply — take-up rises with need and
family size and falls in rural districts; some who are not entitled apply too — and declare part of
their informal income. The commission's home visit can reveal unrecorded assets and find no need; the
law (passed in by the caller: ``atauly.law``) decides on the declared and verified data; the officer
then errs at a rate that varies by district. Each application keeps the snapshot it was decided on,
in the data contract (``applications/{families,persons,incomes}`` with an ``application_id``), and
``decisions/`` holds the law's result on the snapshot, the officer's decision and the true need (the
law on the truth of that quarter).

Simplification (documented): household composition and assets stay as in the current quarter; incomes
of earlier quarters are the current ones scaled by a family-level drift.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..io import Registry
from .params import SyntheticParams
from .population import RegionData, reference_months

EARNINGS = ("wages", "self_employment", "informal")
LawFn = Callable[[Registry, str], pd.DataFrame]


def past_quarters(quarter: str, n: int) -> list[str]:
    year, q = int(quarter[:4]), int(quarter[-1])
    index = year * 4 + q - 1
    return [f"{i // 4}Q{i % 4 + 1}" for i in range(index - n + 1, index + 1)]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def make_history(
    truth: RegionData, recorded: RegionData, law: LawFn, seed: int, kato: str, p: SyntheticParams
):
    """Applications (snapshots) and decisions of one region. Returns (app_families, app_persons,
    app_incomes, decisions)."""
    fam, per = truth.families, truth.persons
    n_fam = len(fam)
    fam_index = pd.Index(fam["family_id"])
    person_family = fam_index.get_indexer(per["family_id"])
    size = np.bincount(person_family, minlength=n_fam)
    t_inc = truth.incomes.loc[truth.incomes["source"] != "loans"]
    t_fam = person_family[pd.Index(per["person_id"]).get_indexer(t_inc["person_id"])]
    earn = (
        np.bincount(t_fam, weights=t_inc["amount_kzt"] * t_inc["source"].isin(EARNINGS), minlength=n_fam) / 3
    )
    other = (
        np.bincount(t_fam, weights=t_inc["amount_kzt"] * ~t_inc["source"].isin(EARNINGS), minlength=n_fam) / 3
    )
    r_inc = recorded.incomes.loc[recorded.incomes["source"] != "loans"]
    r_fam = person_family[pd.Index(per["person_id"]).get_indexer(r_inc["person_id"])]
    rec_money = np.bincount(r_fam, weights=r_inc["amount_kzt"], minlength=n_fam) / 3
    line = p.poverty_subsistence_minimum * 0.7  # a family's own sense of "below the line" for take-up
    district_codes, district_of = np.unique(
        fam["district_kato"].to_numpy(dtype=object).astype(str), return_inverse=True
    )
    rng_d = np.random.default_rng([seed, int(kato), 17])
    officer_error = rng_d.uniform(*p.officer_error_range, len(district_codes))
    rural = (fam["settlement_type"] == "rural").to_numpy()

    out = {"families": [], "persons": [], "incomes": [], "decisions": []}
    propensity = rng_d.normal(0, p.family_takeup_sigma, n_fam)  # persistent: who applies keeps applying
    region_shift = p.takeup_region_shift.get(kato, 0.0)
    log_drift = np.zeros(n_fam)
    for k, quarter in enumerate(reversed(past_quarters(p.quarter, p.history_quarters))):
        rng = np.random.default_rng([seed, int(kato), 101 + k])
        if k:  # a random walk back in time: each quarter differs a little from the next one
            log_drift += rng.normal(0, p.income_drift_sigma, n_fam)
        drift = np.exp(log_drift) / p.quarterly_growth**k
        true_pc = (earn * drift + other) / size
        rec_pc = rec_money / size
        need = np.clip(1 - true_pc / line, -1, 1)
        p_apply = np.where(
            true_pc < line,
            _sigmoid(
                p.takeup_intercept
                + p.takeup_need * need
                + p.takeup_size * (size - 3)
                - p.takeup_rural * rural
                - p.takeup_city * (kato in p.cities)
                + region_shift
                + propensity
            ),
            p.takeup_not_entitled * (rec_pc < line),
        )
        apply = np.flatnonzero(rng.random(n_fam) < p_apply)
        if len(apply) == 0:
            continue
        snap_true, snap_decl, app_ids, app_dates = _snapshots(
            truth, recorded, apply, person_family, drift, quarter, rng, p, true_pc, line
        )
        law_decl, law_true = _apply_law_to_both(law, snap_decl, snap_true, quarter)
        ids = fam["family_id"].to_numpy()[apply]
        d = law_decl.loc[ids]
        tr = law_true.loc[ids]
        err = officer_error[district_of[apply]]
        law_ok = d["eligible"].to_numpy(dtype=bool)
        near = (
            ~law_ok
            & (d["refusal_reason"].to_numpy() == "income_above_poverty_line")
            & (d["per_capita_income"].to_numpy() < 1.15 * d["poverty_line"].to_numpy())
        )
        flip = rng.random(len(apply)) < err
        approved = np.where(law_ok, ~flip, near & flip)
        paid = d["asp_monthly_amount"].to_numpy() + d["child_supplement_monthly"].to_numpy()
        paid_wrongly = np.round(0.05 * d["poverty_line"].to_numpy() * d["members"].to_numpy())
        out["decisions"].append(
            pd.DataFrame(
                {
                    "application_id": app_ids,
                    "family_id": ids,
                    "region_kato": kato,
                    "district_kato": fam["district_kato"].to_numpy()[apply],
                    "quarter": quarter,
                    "application_date": app_dates,
                    "members": d["members"].to_numpy(),
                    "declared_per_capita_income": d["per_capita_income"].to_numpy(),
                    "poverty_line": d["poverty_line"].to_numpy(),
                    "law_eligible": law_ok,
                    "law_refusal_reason": d["refusal_reason"].to_numpy(),
                    "law_asp_type": d["asp_type"].to_numpy(),
                    "law_monthly_amount": paid,
                    "officer_approved": approved,
                    "officer_monthly_amount": np.where(approved, np.where(law_ok, paid, paid_wrongly), 0.0),
                    "officer_overrode_law": approved != law_ok,
                    "true_eligible": tr["eligible"].to_numpy(dtype=bool),
                    "true_per_capita_income": tr["per_capita_income"].to_numpy(),
                    "true_monthly_amount": tr["asp_monthly_amount"].to_numpy()
                    + tr["child_supplement_monthly"].to_numpy(),
                }
            )
        )
        for name in ("families", "persons", "incomes"):
            table = getattr(snap_decl, name)
            out[name].append(table)
    return tuple(pd.concat(v, ignore_index=True) if v else pd.DataFrame() for v in out.values())


def _apply_law_to_both(law: LawFn, declared: Registry, true: Registry, quarter: str):
    """One call of the law for both snapshots (ids of the truth copy suffixed), split afterwards."""
    suffix = "#truth"
    t_fam = true.families.assign(family_id=true.families["family_id"] + suffix)
    t_per = true.persons.assign(
        family_id=true.persons["family_id"] + suffix, person_id=true.persons["person_id"] + suffix
    )
    t_inc = true.incomes.assign(person_id=true.incomes["person_id"] + suffix)
    d_per = declared.persons.drop(
        columns=["application_id", "record_age_quarters", "record_job_changed"], errors="ignore"
    )
    d_inc = declared.incomes.drop(columns=["application_id"], errors="ignore")
    both = Registry(
        pd.concat([declared.families, t_fam], ignore_index=True),
        pd.concat([d_per, t_per[d_per.columns]], ignore_index=True),
        pd.concat([d_inc, t_inc[d_inc.columns]], ignore_index=True),
    )
    result = law(both, quarter).set_index("family_id")
    is_true = result.index.str.endswith(suffix)
    law_true = result.loc[is_true]
    law_true.index = law_true.index.str[: -len(suffix)]
    return result.loc[~is_true], law_true


def _snapshots(truth, recorded, apply, person_family, drift, quarter, rng, p: SyntheticParams, true_pc, line):
    """Registry slices for the applying families: the truth of that quarter, and what was declared and
    verified (recorded data + declared informal income + assets found by the home visit)."""
    fam = truth.families.iloc[apply].reset_index(drop=True)
    mask = np.zeros(len(truth.families), dtype=bool)
    mask[apply] = True
    pmask = mask[person_family]
    months_now = reference_months(p.quarter)
    months_then = dict(zip(months_now, reference_months(quarter), strict=True))
    year, q = int(quarter[:4]), int(quarter[-1])
    month = rng.integers(0, 3, len(apply))
    day = rng.integers(1, 29, len(apply))
    app_dates = pd.to_datetime(
        pd.DataFrame({"year": np.full(len(apply), year), "month": 3 * (q - 1) + 1 + month, "day": day})
    )
    app_ids = np.char.add(np.char.add(fam["family_id"].to_numpy(dtype=str), "-"), quarter)
    drift_of_person = pd.Series(drift[person_family], index=truth.persons["person_id"])

    def incomes(source_table: pd.DataFrame) -> pd.DataFrame:
        inc = source_table.loc[source_table["person_id"].isin(truth.persons["person_id"][pmask])].copy()
        earning = inc["source"].isin(EARNINGS).to_numpy()
        inc.loc[earning, "amount_kzt"] = np.round(
            inc.loc[earning, "amount_kzt"].to_numpy()
            * drift_of_person.reindex(inc.loc[earning, "person_id"]).to_numpy()
        )
        inc["month"] = inc["month"].map(months_then)
        return inc.reset_index(drop=True)

    base = fam.assign(application_date=app_dates.to_numpy(), application_id=app_ids)
    app_of_family = pd.Series(app_ids, index=fam["family_id"].to_numpy())
    persons_true = truth.persons.loc[pmask].reset_index(drop=True)
    app_of_person = pd.Series(
        app_of_family.reindex(persons_true["family_id"]).to_numpy(),
        index=persons_true["person_id"].to_numpy(),
    )
    snap_true = Registry(base.copy(), persons_true, incomes(truth.incomes))

    # Declared: recorded incomes, plus a share of the true informal income (the rest stays hidden).
    declared_inc = incomes(recorded.incomes)
    informal = incomes(truth.incomes.loc[truth.incomes["source"] == "informal"])
    share = rng.uniform(0, p.declared_informal_max, len(informal))
    informal["amount_kzt"] = np.round(informal["amount_kzt"] * share)
    declared_inc = pd.concat([declared_inc, informal.loc[informal["amount_kzt"] > 0]], ignore_index=True)
    rec_fam = recorded.families.iloc[apply].reset_index(drop=True)
    visit_reveals = rng.random(len(apply)) < p.visit_reveals_assets
    declared = base.copy()
    for col in ("vehicles_owned", "livestock_heads", "land_ha"):
        declared[col] = np.where(visit_reveals, fam[col], rec_fam[col])
    # The commission sees the home: a family well above the line is found not in need (Art. 128 p.3).
    declared["commission_found_no_need"] = (true_pc[apply] > p.commission_no_need_above * line) & (
        rng.random(len(apply)) < p.commission_detects
    )
    persons_decl = recorded.persons.loc[pmask].reset_index(drop=True)
    persons_decl.insert(0, "application_id", app_of_person.reindex(persons_decl["person_id"]).to_numpy())
    declared_inc.insert(0, "application_id", app_of_person.reindex(declared_inc["person_id"]).to_numpy())
    snap_decl = Registry(declared, persons_decl, declared_inc)
    return snap_true, snap_decl, app_ids, app_dates.to_numpy()
