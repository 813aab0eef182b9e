"""Applications and historical decisions over past quarters (the labels a model will learn from).

For each of the last ``p.history_quarters`` quarters, oldest first, families apply — take-up rises with
need and family size and falls in rural districts; last quarter's recipients still in need re-apply;
some who are not entitled apply too — and declare part of their informal income. The commission's home visit can reveal unrecorded assets and find no need; the
law (passed in by the caller: ``atauly.law``) decides on the declared and verified data; the officer
then errs at a rate that varies by district. Each application keeps the snapshot it was decided on,
in the data contract (``applications/{families,persons,incomes}`` with an ``application_id``), and
``decisions/`` holds the law's result on the snapshot, the officer's decision and the true need (the
law on the truth of that quarter).

Each quarter's truth and records come from per-person events lived forwards (dynamics.py): job loss and
finding, transitory income shocks, births, disability onset, records' ages and assets (vehicles, livestock)
as a state of each quarter drawn forwards. Each application keeps the records' assets of its quarter
(``recorded_*`` columns) beside what the home visit verified. Simplification (documented): dwellings, land
and household composition (but births) stay as in the current quarter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io import Registry
from ..quarter import Quarter
from .dynamics import Lives, draw_lives, earnings_at, recorded_snapshot, truth_snapshot
from .params import SyntheticParams
from .population import RegionData
from .takeup import need_gap, reapply_probability, takeup_probability

EARNINGS = ("wages", "self_employment", "informal")
#: Assets the records show; each application keeps their recorded values of its quarter as
#: ``recorded_<column>`` (the snapshot's own columns are what the visit verified).
RECORDED_ASSETS = ("dwellings_owned", "vehicles_owned", "land_ha", "livestock_heads")
LawFn = Callable[[Registry, str], pd.DataFrame]


@dataclass
class _Region:
    """What stays the same over the history window of one region: its families' composition and money
    in the current quarter, districts' leniency, and each family's persistent draws (take-up propensity,
    declaration and visit habits)."""

    fam: pd.DataFrame
    person_family: np.ndarray
    born_ns: np.ndarray
    earn: np.ndarray  # monthly earnings of the current quarter's truth
    other: np.ndarray  # monthly income other than earnings and loans
    line: float  # a family's own sense of "below the line" for take-up
    district_of: np.ndarray
    leniency: np.ndarray  # per district
    rural: np.ndarray
    propensity: np.ndarray
    region_shift: float
    self_employed: np.ndarray
    consumption: np.ndarray
    u_family: np.ndarray
    habits: dict
    records_low: np.ndarray  # records show income per member below the line: the sample's stratum
    u_officer: np.ndarray  # the family's persistent draw of officer error

    @property
    def n_fam(self) -> int:
        return len(self.fam)


def _region(truth: RegionData, recorded: RegionData, seed: int, kato: str, p: SyntheticParams) -> _Region:
    fam = truth.families
    n_fam = len(fam)
    person_family = truth.person_family
    t_src = truth.incomes["source"].to_numpy(dtype=object)
    t_fam = person_family[truth.income_person]
    amount = truth.incomes["amount_kzt"].to_numpy()
    earning_rows = np.isin(t_src, EARNINGS)
    earn = np.bincount(t_fam, weights=amount * earning_rows, minlength=n_fam) / 3
    other = np.bincount(t_fam, weights=amount * (~earning_rows & (t_src != "loans")), minlength=n_fam) / 3
    district_codes, district_of = np.unique(fam["district_kato"].to_numpy(dtype=str), return_inverse=True)
    rng_d = np.random.default_rng([seed, int(kato), 17])
    leniency = rng_d.uniform(*p.officer_error_range, len(district_codes))
    propensity = rng_d.normal(0, p.family_takeup_sigma, n_fam)  # persistent: who applies keeps applying
    # Officer error depends on the case: self-employed members (recorded), a village, a large family.
    rec_status = recorded.persons["employment_status"].to_numpy(dtype=object)
    self_employed = (
        np.bincount(recorded.person_family, weights=rec_status == "self_employed", minlength=n_fam) > 0
    )
    consumption = (
        fam["consumption_per_ae"].to_numpy(dtype=float)
        if "consumption_per_ae" in fam
        else np.full(n_fam, np.nan)
    )
    # A family's draw is mostly the same every quarter: a family that applies keeps applying while its need
    # lasts (recipients re-apply each quarter; low turnover, fact sheet §5.1).
    u_family = rng_d.random(n_fam)
    u_officer = np.random.default_rng([seed, int(kato), 19]).random(n_fam)
    # What a family declares, how it perceives its need and what the commission's visit sees of it are the
    # same from quarter to quarter too (the same habits, the same home): drawn once per family, not once per
    # application, so eligibility does not flicker between quarters when nothing has changed.
    # The verification sample's stratum: families whose records (today's recorded incomes, loans aside)
    # show a monthly income per member below the line — where a ministry would verify more often.
    r_src = recorded.incomes["source"].to_numpy(dtype=object)
    r_fam = recorded.person_family[recorded.income_person]
    r_money = np.bincount(
        r_fam, weights=recorded.incomes["amount_kzt"].to_numpy() * (r_src != "loans"), minlength=n_fam
    )
    r_size = np.maximum(np.bincount(recorded.person_family, minlength=n_fam), 1)
    records_low = r_money / 3 / r_size < p.poverty_subsistence_minimum * 0.7
    habits = {
        "declared_informal_share": rng_d.uniform(0, p.declared_informal_max, n_fam),
        "visit_reveals": rng_d.random(n_fam) < p.visit_reveals_assets,
        "visit_error": rng_d.normal(0, p.visit_sigma, n_fam),
        "perceived_error": rng_d.normal(0, p.perceived_need_sigma, n_fam),
    }
    return _Region(
        fam,
        person_family,
        truth.persons["birth_date"].to_numpy(dtype="datetime64[ns]"),
        earn,
        other,
        p.poverty_subsistence_minimum * 0.7,
        district_of,
        leniency,
        (fam["settlement_type"] == "rural").to_numpy(),
        propensity,
        p.takeup_region_shift.get(kato, 0.0),
        self_employed,
        consumption,
        u_family,
        habits,
        records_low,
        u_officer,
    )


def make_history(
    truth: RegionData, recorded: RegionData, law: LawFn, seed: int, kato: str, p: SyntheticParams
):
    """Applications (snapshots), decisions and the verification sample of one region. Returns
    (app_families, app_persons, app_incomes, decisions, verification)."""
    r = _region(truth, recorded, seed, kato, p)
    out = {"families": [], "persons": [], "incomes": [], "decisions": [], "verification": []}
    # Each quarter of the window has its own truth and records, from per-person events lived forwards
    # (dynamics.py): job loss and finding, transitory shocks, disability onset, records redrawn each quarter.
    quarters = [str(q) for q in Quarter.parse(p.quarter).trailing(p.history_quarters)]  # oldest first
    lives = draw_lives(truth, recorded, quarters, seed, kato, p)
    # The quarters are lived forwards, so that last quarter's recipients are known: ASP is assigned
    # for a quarter, and a recipient still in need re-applies for the next one (fact sheet §5.1: 54.4k
    # families over 2025 for 45.2k on 1 Jun, few leave during the year).
    approved_last = np.zeros(r.n_fam, dtype=bool)
    for qi, quarter in enumerate(quarters):
        rng = np.random.default_rng([seed, int(kato), 101 + len(quarters) - 1 - qi])
        chosen, sample, cons_q = _who_applies(rng, r, lives, qi, quarter, approved_last, kato, p)
        random_part = sample.copy()
        sample = sample | _oversample(r, p, seed, kato, qi)
        apply = np.flatnonzero(chosen)
        approved_last = np.zeros(r.n_fam, dtype=bool)
        if len(apply) == 0 and not sample.any():
            continue
        union = chosen | sample
        snap_true, snap_decl, snap_rec = _snapshots(
            truth,
            recorded,
            lives,
            qi,
            chosen,
            union,
            rng,
            p,
            r.habits,
            cons_q,
            r.line,
            recommendations=_shows_recommendations(p, quarter),
        )
        law_decl, law_union = _apply_law_to_both(law, snap_decl, snap_true, quarter)
        union_idx = np.flatnonzero(union)
        approved, recommended = _officer_decisions(rng, r, law_decl, apply, snap_rec, law, quarter, p)
        approved_last[apply[approved]] = True
        if len(apply):
            truth_of_applicants = law_union.loc[np.isin(union_idx, apply)].reset_index(drop=True)
            out["decisions"].append(
                _decision_rows(
                    r,
                    law_decl,
                    truth_of_applicants,
                    snap_decl,
                    apply,
                    (approved, recommended),
                    cons_q,
                    quarter,
                    kato,
                    p,
                )
            )
            for name in ("families", "persons", "incomes"):
                out[name].append(getattr(snap_decl, name))
        if sample.any():
            verified = law_union.loc[np.isin(union_idx, np.flatnonzero(sample))].reset_index(drop=True)
            out["verification"].append(
                _verification_rows(
                    r, verified, sample, random_part, chosen, apply[approved], cons_q, quarter, kato, p
                )
            )
    return tuple(pd.concat(v, ignore_index=True) if v else pd.DataFrame() for v in out.values())


def _who_applies(rng, r: _Region, lives: Lives, qi: int, quarter: str, approved_last, kato: str, p):
    """(applies this quarter, in the verification sample, consumption per adult equivalent) per family."""
    n_fam = r.n_fam
    # Members born by the start of that quarter (composition is otherwise held fixed).
    q_start = np.datetime64(Quarter.parse(quarter).start)
    size = np.maximum(
        np.bincount(r.person_family, weights=r.born_ns <= q_start.astype("datetime64[ns]"), minlength=n_fam),
        1,
    )
    earned = sum(earnings_at(lives, qi, r.person_family).values())
    money = np.bincount(r.person_family, weights=earned, minlength=n_fam) + r.other
    true_pc = money / size
    # Consumption follows smoothed income (jobs found and lost, drift), not the quarter's transitory shock.
    cons_q = (
        r.consumption
        * _smooth_money(r, lives, qi)
        / np.maximum(_smooth_money(r, lives, len(lives.quarters) - 1), 1.0)
    )
    # Take-up (takeup.py): a smooth logistic in perceived need (true need plus a persistent family error)
    # — no cut at the true line: families just above it apply too, some far below it never do.
    perceived = need_gap(true_pc, r.line) + r.habits["perceived_error"]
    p_apply = takeup_probability(perceived, size, r.rural, kato in p.cities, r.region_shift, r.propensity, p)
    fresh = rng.random(n_fam) < p.takeup_fresh_draw
    chosen = np.where(fresh, rng.random(n_fam), r.u_family) < p_apply
    # Recipients re-apply while they feel in need (smoothly, not at the true line).
    keep_on = reapply_probability(perceived, p)
    chosen |= approved_last & (rng.random(n_fam) < keep_on)
    sample = rng.random(n_fam) < p.verification_share
    return chosen, sample, cons_q


def _smooth_money(r: _Region, lives: Lives, qi: int) -> np.ndarray:
    """Each family's monthly money of quarter index ``qi`` without the transitory shocks."""
    earned = sum(earnings_at(lives, qi, r.person_family, smooth=True).values())
    return np.bincount(r.person_family, weights=earned, minlength=r.n_fam) + r.other


def _oversample(r: _Region, p: SyntheticParams, seed: int, kato: str, qi: int) -> np.ndarray:
    """The verification sample's second part: families of the records-low stratum drawn at
    ``verification_oversample_share`` (a stratified design, as household surveys oversample the poor).
    Its own random stream, so the rest of the world does not depend on it."""
    if p.verification_oversample_share <= 0:
        return np.zeros(r.n_fam, dtype=bool)
    u = np.random.default_rng([seed, int(kato), 303, qi]).random(r.n_fam)
    return r.records_low & (u < p.verification_oversample_share)


def _officer_decisions(rng, r: _Region, d: pd.DataFrame, apply, snap_rec, law: LawFn, quarter: str, p):
    """Each application's decision: the law on the declared data, with officers' errors (lenient near the
    line, more in some cases and districts) and, when recommendations are shown, automation bias."""
    law_ok = d["eligible"].to_numpy(dtype=bool)
    near = (
        ~law_ok
        & (d["refusal_reason"].to_numpy() == "income_above_poverty_line")
        & (d["per_capita_income"].to_numpy() < 1.15 * d["poverty_line"].to_numpy())
    )
    case = np.exp(
        p.officer_error_self_employed * r.self_employed[apply]
        + p.officer_error_rural * r.rural[apply]
        + p.officer_error_large_family * (d["members"].to_numpy() >= 5)
    )
    err = np.minimum(r.leniency[r.district_of[apply]] * case, 0.5)
    # An officer's reading of a family is mostly the same from quarter to quarter (the same social worker,
    # the same file): the error draw is the family's, renewed at ``officer_error_fresh`` a quarter.
    fresh = rng.random(len(apply)) < p.officer_error_fresh
    flip = np.where(fresh, rng.random(len(apply)), r.u_officer[apply]) < err
    approved = np.where(law_ok, ~flip, near & flip)
    recommended = None
    if snap_rec is not None and len(apply):
        # Automation bias: the officer follows the shown recommendation (the law on the records
        # alone) against their own reading with probability ``automation_bias``.
        recommended = law(snap_rec, quarter)["eligible"].to_numpy(dtype=bool)
        follow = rng.random(len(apply)) < p.automation_bias
        approved = np.where(follow, recommended, approved)
    return approved, recommended


def _decision_rows(r: _Region, d, tr, snap_decl, apply, decided, cons_q, quarter, kato, p) -> pd.DataFrame:
    """One row per application; ``decided`` is (the officer's approvals, the recommendation shown or
    None when none was)."""
    approved, recommended = decided
    law_ok = d["eligible"].to_numpy(dtype=bool)
    paid = d["asp_monthly_amount"].to_numpy() + d["child_supplement_monthly"].to_numpy()
    paid_wrongly = np.round(0.05 * d["poverty_line"].to_numpy() * d["members"].to_numpy())
    visit_no_need = snap_decl.families["commission_found_no_need"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "application_id": snap_decl.families["application_id"].to_numpy(),
            "family_id": d["family_id"].to_numpy(),
            "region_kato": kato,
            "district_kato": r.fam["district_kato"].to_numpy()[apply],
            "quarter": quarter,
            "application_date": snap_decl.families["application_date"].to_numpy(),
            "members": d["members"].to_numpy(),
            "declared_per_capita_income": d["per_capita_income"].to_numpy(),
            "poverty_line": d["poverty_line"].to_numpy(),
            "law_eligible": law_ok,
            "law_refusal_reason": d["refusal_reason"].to_numpy(),
            "law_asp_type": d["asp_type"].to_numpy(),
            "law_asp_monthly": d["asp_monthly_amount"].to_numpy(),
            "law_monthly_amount": paid,
            "officer_approved": approved,
            "officer_monthly_amount": np.where(approved, np.where(law_ok, paid, paid_wrongly), 0.0),
            "officer_overrode_law": approved != law_ok,
            # The recommendation the officer saw (the law on the records alone), when one was shown.
            "recommendation_shown": recommended is not None,
            "recommended_eligible": np.zeros(len(apply), dtype=bool) if recommended is None else recommended,
            "true_eligible": tr["eligible"].to_numpy(dtype=bool),
            "true_per_capita_income": tr["per_capita_income"].to_numpy(),
            "true_monthly_amount": tr["asp_monthly_amount"].to_numpy()
            + tr["child_supplement_monthly"].to_numpy(),
            "true_consumption_per_ae": np.round(cons_q[apply]),
            "true_consumption_poor": cons_q[apply] < p.consumption_line_sm * p.poverty_subsistence_minimum,
            "visit_correct": visit_no_need == (cons_q[apply] > p.commission_no_need_above * r.line),
        }
    )


def _verification_rows(
    r: _Region, v, sample, random_part, chosen, approved_ids, cons_q, quarter, kato, p
) -> pd.DataFrame:
    s_idx = np.flatnonzero(sample)
    base = p.verification_share
    stratum = r.records_low[s_idx]
    over = p.verification_oversample_share
    probability = np.where(stratum, 1 - (1 - base) * (1 - over), base)
    approved_now = np.zeros(r.n_fam, dtype=bool)
    approved_now[approved_ids] = True
    fam = r.fam
    return pd.DataFrame(
        {
            "family_id": fam["family_id"].to_numpy()[s_idx],
            "region_kato": kato,
            "district_kato": fam["district_kato"].to_numpy()[s_idx],
            "settlement_type": fam["settlement_type"].to_numpy()[s_idx],
            "quarter": quarter,
            "members": v["members"].to_numpy(),
            "true_per_capita_income": v["per_capita_income"].to_numpy(),
            "poverty_line": v["poverty_line"].to_numpy(),
            "true_eligible": v["eligible"].to_numpy(dtype=bool),
            "true_monthly_amount": v["asp_monthly_amount"].to_numpy()
            + v["child_supplement_monthly"].to_numpy(),
            "true_consumption_per_ae": np.round(cons_q[s_idx]),
            "true_consumption_poor": cons_q[s_idx] < p.consumption_line_sm * p.poverty_subsistence_minimum,
            "applied": chosen[s_idx],
            "officer_approved": approved_now[s_idx],
            # The design: the simple random part (population figures use it alone), the stratum and each
            # family's chance of being drawn (weights 1 / probability for population totals).
            "random_sample": random_part[s_idx],
            "records_low_stratum": stratum,
            "sampling_probability": probability,
        }
    )


def _shows_recommendations(p: SyntheticParams, quarter: str) -> bool:
    return p.recommendations_from is not None and quarter >= p.recommendations_from


def _apply_law_to_both(law: LawFn, declared: Registry, true: Registry, quarter: str):
    """One call of the law for both snapshots (concatenated; rows come back in order), split after. Only
    the columns both have are passed (the truth has columns the records lack)."""
    n_fam, n_per = len(declared.families), len(declared.persons)
    f_cols = [c for c in declared.families.columns if c in true.families.columns]
    p_cols = [c for c in true.persons.columns if c in declared.persons.columns]
    i_cols = [c for c in true.incomes.columns if c in declared.incomes.columns]
    both = Registry(
        pd.concat([declared.families[f_cols], true.families[f_cols]], ignore_index=True),
        pd.concat([declared.persons[p_cols], true.persons[p_cols]], ignore_index=True),
        pd.concat([declared.incomes[i_cols], true.incomes[i_cols]], ignore_index=True),
        np.concatenate([declared.person_family, true.person_family + n_fam]),
        np.concatenate([declared.income_person, true.income_person + n_per]),
    )
    result = law(both, quarter)
    return result.iloc[:n_fam].reset_index(drop=True), result.iloc[n_fam:].reset_index(drop=True)


def _snapshots(
    truth: RegionData,
    recorded: RegionData,
    lives: Lives,
    qi: int,
    chosen,
    union,
    rng,
    p: SyntheticParams,
    habits: dict[str, np.ndarray],
    consumption,
    line: float,
    recommendations: bool = False,
):
    """Registry slices of quarter index ``qi``: the truth for the applying families and the verification
    sample (``union``), what the applicants declared and the visit verified (that quarter's records +
    declared informal income + assets found by the home visit + the visit's finding), and — when
    recommendations are shown — the records alone. ``habits`` are the per-family draws that stay the same
    from quarter to quarter."""
    quarter = lives.quarters[qi]
    apply = np.flatnonzero(chosen)
    union_idx = np.flatnonzero(union)
    start = Quarter.parse(quarter).start
    month = rng.integers(0, 3, len(apply))
    day = rng.integers(1, 29, len(apply))
    app_dates = pd.to_datetime(
        pd.DataFrame({"year": np.full(len(apply), start.year), "month": start.month + month, "day": day})
    ).to_numpy()
    app_ids = (truth.families["family_id"].iloc[apply].reset_index(drop=True) + "-" + quarter).to_numpy()
    snap_true = truth_snapshot(truth, lives, qi, union, p)
    in_apply = np.isin(union_idx, apply)
    # Families of the verification sample that did not apply: verified on the first day of the quarter.
    app_date_of = np.full(len(union_idx), np.datetime64(start), dtype="datetime64[ns]")
    app_date_of[in_apply] = app_dates
    snap_true.families = snap_true.families.assign(application_date=app_date_of)

    # Declared: that quarter's records, plus a share of the true informal income (the rest stays hidden).
    snap_decl = recorded_snapshot(truth, recorded, lives, qi, chosen, rng, p)
    snap_rec = None
    if recommendations:
        snap_rec = Registry(
            snap_decl.families.copy(),
            snap_decl.persons,
            snap_decl.incomes.copy(),
            snap_decl.person_family,
            snap_decl.income_person,
        )
    t_inc = snap_true.incomes
    is_informal = (t_inc["source"].to_numpy() == "informal") & in_apply[
        snap_true.person_family[snap_true.income_person]
    ]
    informal = t_inc.loc[is_informal]
    informal_pos = snap_true.income_person[is_informal]
    family_rank = np.cumsum(in_apply) - 1  # union row -> applicant row
    share = habits["declared_informal_share"][apply[family_rank[snap_true.person_family[informal_pos]]]]
    declared_informal = informal.assign(amount_kzt=np.round(informal["amount_kzt"].to_numpy() * share))
    # The same person in the declared snapshot (the records may count members the truth does not).
    to_decl = pd.Index(snap_decl.persons["person_id"]).get_indexer(
        snap_true.persons["person_id"].to_numpy()[informal_pos]
    )
    keep = (declared_informal["amount_kzt"].to_numpy() > 0) & (to_decl >= 0)
    snap_decl.incomes = pd.concat([snap_decl.incomes, declared_informal.loc[keep]], ignore_index=True)
    snap_decl.income_person = np.concatenate([snap_decl.income_person, to_decl[keep]])

    fam_true = snap_true.families.loc[in_apply].reset_index(drop=True)  # that quarter's true assets
    declared = snap_decl.families.assign(application_date=app_dates, application_id=app_ids)
    # What the records alone showed that quarter (before the visit), kept with the application: a model of
    # the records-only view reads them, not today's records (the assets changed since).
    for col in RECORDED_ASSETS:
        declared["recorded_" + col] = declared[col].to_numpy()
    visit_reveals = habits["visit_reveals"][apply]
    for col in ("vehicles_owned", "livestock_heads", "land_ha"):
        declared[col] = np.where(visit_reveals, fam_true[col].to_numpy(), declared[col].to_numpy())
    # The commission's home visit sees a noisy signal of consumption (the same home each quarter) and finds
    # no need above ``commission_no_need_above`` lines per adult equivalent (Art. 128 p.3).
    signal = np.log(np.maximum(consumption[apply], 1.0)) + habits["visit_error"][apply]
    declared["commission_found_no_need"] = signal > np.log(p.commission_no_need_above * line)
    snap_decl.families = declared
    app_of_person = app_ids[snap_decl.person_family]
    snap_decl.persons = snap_decl.persons.copy()
    snap_decl.persons.insert(0, "application_id", app_of_person)
    snap_decl.incomes.insert(0, "application_id", app_of_person[snap_decl.income_person])
    if snap_rec is not None:
        snap_rec.families = snap_rec.families.assign(application_date=app_dates)
    return snap_true, snap_decl, snap_rec
