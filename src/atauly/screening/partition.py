"""One partition of the proactive scan: validate, apply the law, score, find and rank the candidates,
offer visits within each district's capacity, and write ``candidates/`` and ``summary/`` atomically.

Every partition is computed the same way wherever it runs (this process, a local Dask cluster or a remote
one), and ranks are computed within a partition (districts never span regions).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atauly.registry.arrow import arrow_text, code_indices
from atauly.registry.quarter import Quarter

from .columns import (
    CANDIDATE_COLUMNS,
    DISTRICT_SUMMARY_COLUMNS,
    EXTRA_COLUMNS,
    POPULATION_TARGET,
    SUMMARY_COLUMNS,
)

#: Refusal grounds that are sanctions (Art. 128 p.4–6): such families are not offered assistance.
SANCTIONS = ("refused_employment_measures", "social_contract_breach", "false_information")
LEVEL_ORDER = {"E": 0, "D": 1, "C": 2, "B": 3, "A": 4}  # most in need first


class ScanError(RuntimeError):
    """A scan that cannot start or resume; the message says why."""


@dataclass(frozen=True)
class ScanJob:
    """Everything one partition needs (small and picklable, so it travels to any Dask worker)."""

    registry: str
    partition: str  # the part file's stem ("part-KATO") or "all" for an unpartitioned registry
    quarter: str
    store: str
    model: str  # NAME@vN, resolved once before the scan
    out: str
    capacity_per_1000: float = 4.0  # offers (home visits) per district and quarter per 1,000 families
    capacity: int | None = None  # or a fixed number per district (overrides the rate)
    min_probability: float = 0.5  # no offer below this population-calibrated probability


def district_capacity(families: np.ndarray, per_1000: float, fixed: int | None = None) -> np.ndarray:
    """Offers a district can make this quarter: ``fixed`` each, or ⌈families × per_1000 / 1000⌉ (a
    district with families gets at least one visit)."""
    families = np.asarray(families, dtype=np.int64)
    if fixed is not None:
        return np.full(len(families), int(fixed), dtype=np.int64)
    return np.ceil(families * float(per_1000) / 1000.0 - 1e-9).astype(np.int64)


def scan_amounts(recommender) -> dict:
    """The verification sample's true vs recorded monthly amounts of its entitled families, overall and
    by the records' gap to the line (``training.scan_amounts``; empty when unknown): the budget
    forecast's correction for the income the records do not show (:func:`expected_true_amount`)."""
    found = recommender.stored.metadata.get("training", {}).get("scan_amounts") or {}
    ratio = found.get("ratio")
    if not (ratio and np.isfinite(ratio) and ratio > 0):
        return {}
    return found


def scan_calibration(recommender) -> dict | None:
    """The model's population calibration for the scan (``metrics.scan_calibration``, models trained
    on the verification sample since issue 15's forecast fix), or None."""
    return recommender.stored.metadata.get("metrics", {}).get("scan_calibration")


def population_calibrated(recommender) -> bool:
    """Whether the model's probability is the population's probability of true entitlement (trained and
    calibrated on the verification sample), not the chance that an applicant is approved."""
    return recommender.stored.metadata.get("target") == POPULATION_TARGET


def read_partition(registry: Path, partition: str):
    """The partition's tables, validated against the data contract (invalid families are left out and
    counted)."""
    from atauly.registry import load_registry
    from atauly.registry.validate import drop_families, validate

    if partition == "all":
        reg, report = load_registry(registry, "recorded", skip_invalid=True)
        return reg, int(report.problems["family_id"].nunique()) if not report.ok else 0
    from atauly.registry import Registry
    from atauly.registry.io import read_parquet

    base = registry / "recorded"
    tables = [
        read_parquet(base / name / f"{partition}.parquet") for name in ("families", "persons", "incomes")
    ]
    fam, per, inc, report = validate(*tables)
    if report.fatal:
        raise ScanError(f"{partition}: {report.summary(limit=5)}")
    if not report.ok:
        bad = report.invalid_family_ids()
        fam, per, inc = drop_families(fam, per, inc, bad)
        return Registry(fam, per, inc), len(bad)
    return Registry(fam, per, inc, report.person_family, report.income_person), 0


def partition_size(registry: Path, partition: str) -> int:
    """Bytes of a partition's recorded tables: a measure of its work, known without reading it."""
    base = registry / "recorded"
    files = [base / name / f"{partition}.parquet" for name in ("families", "persons", "incomes")]
    return sum(f.stat().st_size for f in files if f.is_file())


def _partition_table(registry: Path, name: str, partition: str) -> Path:
    """A registry table's part file for the partition (the whole folder for an unpartitioned one)."""
    return registry / name if partition == "all" else registry / name / f"{partition}.parquet"


def _decisions(registry: Path, partition: str) -> pd.DataFrame | None:
    """The partition's decided applications (family, quarter, the officer's decision), None without."""
    path = _partition_table(registry, "decisions", partition)
    if not path.exists():
        return None
    return pd.read_parquet(path, columns=["family_id", "quarter", "officer_approved"])


def _visit_history(registry: Path, partition: str, quarter: str, family_ids, dec) -> pd.DataFrame | None:
    """What the akimat's verification visits of quarters **before** the scan's quarter found about each
    family (:func:`atauly.model.verified.visit_history`); None without a verification sample. The scan's
    own quarter's visits are left out: the scan runs as the quarter opens, before they are made (and a
    visit's finding is the truth the scan is judged by)."""
    from atauly.model.verified import visit_history

    path = _partition_table(registry, "verification", partition)
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    # The last two are optional (a sample may carry only who was visited, when and the finding: training
    # asks for no more, and visit_history does without them).
    wanted = ["family_id", "quarter", "true_eligible", "true_per_capita_income", "poverty_line"]
    first = next(iter(sorted(path.glob("*.parquet"))), None) if path.is_dir() else path
    if first is None:
        return None
    present = set(pq.read_schema(first).names)
    ver = pd.read_parquet(path, columns=[c for c in wanted if c in present])
    ver = ver.loc[ver["quarter"].astype(str) < quarter]
    return visit_history(ver, dec, family_ids, np.full(len(family_ids), quarter))


def _status(dec: pd.DataFrame | None, quarter: str, family_ids: pd.Series) -> pd.DataFrame:
    """ASP status of each family from ``decisions``: receiving (approved this quarter), applied this
    quarter, refused this or the previous quarter, sanctioned."""
    n = len(family_ids)
    out = pd.DataFrame(
        {"receiving": np.zeros(n, bool), "applied": np.zeros(n, bool), "recently_refused": np.zeros(n, bool)}
    )
    if dec is None:
        return out
    q = Quarter.parse(quarter)
    quarters = dec["quarter"].astype(str)
    recent = quarters.isin([str(q), str(q.previous())]).to_numpy()
    now = (quarters == str(q)).to_numpy()
    if dec["officer_approved"].isna().any():
        raise ScanError("decisions: officer_approved is missing in some decisions (true or false expected)")
    approved = dec["officer_approved"].to_numpy(dtype=bool)
    ids = arrow_text(family_ids)
    decided = arrow_text(dec["family_id"])

    def among(rows: np.ndarray) -> np.ndarray:  # an Arrow hash lookup, not pandas' isin over Python str
        value_set = decided.filter(pa.array(rows))
        return pc.fill_null(pc.is_in(ids, value_set=value_set), False).to_numpy(zero_copy_only=False)

    out["receiving"] = among(now & approved)
    out["applied"] = among(now)
    out["recently_refused"] = among(recent & ~approved)
    return out


@lru_cache(maxsize=4)
def cached_recommender(store: str, model: str):
    """One model per worker process (loaded and checked once, then reused for every partition)."""
    from atauly.model import ModelStore, Recommender

    rec = Recommender.load(ModelStore(store), model)
    rec.set_jobs(1)  # one thread per Dask worker; parallelism comes from the partitions
    return rec


def scan_partition(job: ScanJob, recommender=None) -> dict:
    """Scan one partition and write ``candidates/`` and ``summary/`` for it. Returns its counts.

    ``recommender``: the model ``job.model`` already loaded (the scan loads and checks it once and sends
    it to its Dask workers); when None it is loaded from ``job.store`` once per process."""
    started = time.time()
    registry, out = Path(job.registry), Path(job.out)
    reg, invalid = read_partition(registry, job.partition)
    rec = recommender if recommender is not None else cached_recommender(job.store, job.model)
    found = _assess(registry, job, reg, rec)
    fam = reg.families
    district_all = (
        arrow_text(fam["district_kato"])
        if "district_kato" in fam
        else pa.array(np.full(len(fam), ""), type=pa.large_string())
    )
    region_all = arrow_text(fam["region_kato"])
    calibrated = population_calibrated(rec)
    amounts = scan_amounts(rec) if calibrated else {}
    frame = _candidate_frame(fam, found, district_all, region_all, calibrated, amounts)
    # Capacity per district from its number of families (all families of the partition, not candidates).
    counts = pc.value_counts(district_all)
    n_by_district = dict(
        zip(
            counts.field("values").to_pylist(),
            counts.field("counts").to_numpy(zero_copy_only=False),
            strict=True,
        )
    )
    frame = _rank_and_offer(frame, n_by_district, job, calibrated)
    summary = _district_summary(found, district_all, region_all)
    calibration = scan_calibration(rec) if calibrated else None
    summary = summary.join(_offer_sums(frame, n_by_district, job, amounts, calibration), on="district")
    summary = summary.sort_values(["region", "district"], kind="mergesort", ignore_index=True)[
        SUMMARY_COLUMNS
    ]
    _write_atomically(summary, out / "summary" / f"{job.partition}.parquet")
    _write_atomically(frame, out / "candidates" / f"{job.partition}.parquet")  # last: marks it done
    return {
        "partition": job.partition,
        "families": len(fam),
        "invalid_families": invalid,
        "candidates": int(found.candidate.sum()),
        "started": started,
        "seconds": time.time() - started,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


@dataclass(frozen=True)
class _Assessment:
    """One partition's families as the scan sees them: the law, the model, the well-being level, the ASP
    status, and who is a candidate."""

    law: pd.DataFrame
    eligible: np.ndarray
    prob: np.ndarray
    entitled: np.ndarray  # the population-calibrated probability of true entitlement
    level: np.ndarray
    status: pd.DataFrame
    candidate: np.ndarray
    line: np.ndarray  # poverty line (at least 1 ₸)
    pci: np.ndarray  # per-capita income
    gap: np.ndarray  # 1 - pci / line
    amount: np.ndarray  # ASP + child supplement, per month
    raw: np.ndarray  # the score the scan's map reads (the forest's, or a sample family's out-of-fold one)
    history: pd.DataFrame | None = (
        None  # earlier quarters' verification visits (model.verified.visit_history)
    )


def _assess(registry: Path, job: ScanJob, reg, rec) -> _Assessment:
    from atauly.law.compute import compute
    from atauly.model.verified import apply_scan_calibration, history_matrix, scan_raw
    from atauly.registry.wellbeing import levels

    fam = reg.families
    law = compute(reg, job.quarter)
    start = Quarter.parse(job.quarter).start_time
    raw, prob = rec.raw_and_probability(rec.features_of(reg, law, start))
    calibration = scan_calibration(rec) if population_calibrated(rec) else None
    dec = _decisions(registry, job.partition)
    history = None
    if calibration:
        # The families the final forest was fitted on are mapped by their out-of-fold score, the score
        # the map was fitted on (their in-sample score is not); every other family by the forest's.
        raw, _ = scan_raw(calibration, fam["family_id"], raw)
        if calibration.get("history"):
            history = _visit_history(registry, job.partition, job.quarter, fam["family_id"], dec)
    # The population's probability of true entitlement: the scan's own map of the forest's score (and of
    # the family's earlier visits) when the model has one, else the model's calibrated probability.
    entitled = (
        apply_scan_calibration(calibration, raw, history_matrix(history, len(fam))) if calibration else prob
    )
    level = levels(fam, reg.persons, reg.incomes, positions=reg.positions())["wellbeing_level"].to_numpy()
    status = _status(dec, job.quarter, fam["family_id"])
    eligible = law["eligible"].to_numpy(dtype=bool)
    likely = prob >= rec.threshold
    if history is not None:  # a family an earlier visit found entitled (not applied since) is a candidate too
        likely |= history["visit_found_entitled"].to_numpy(dtype=bool)
    sanctioned = code_indices(law["refusal_reason"], SANCTIONS) >= 0
    candidate = (
        (eligible | likely)
        & ~sanctioned
        & ~status["receiving"].to_numpy()
        & ~status["applied"].to_numpy()
        & ~status["recently_refused"].to_numpy()
    )
    line = np.maximum(law["poverty_line"].to_numpy(dtype=float), 1.0)
    pci = law["per_capita_income"].to_numpy(dtype=float)
    amount = law["asp_monthly_amount"].to_numpy(dtype=float) + law["child_supplement_monthly"].to_numpy(
        dtype=float
    )
    return _Assessment(
        law,
        eligible,
        prob,
        entitled,
        level,
        status,
        candidate,
        line,
        pci,
        1 - pci / line,
        amount,
        raw,
        history,
    )


def _candidate_frame(
    fam, a: _Assessment, district_all, region_all, calibrated: bool, amounts: dict | None = None
) -> pd.DataFrame:
    """The candidates' rows (a tenth of the families or fewer): text columns stay Arrow strings, taken
    by row; reasons are built for them only. ``amounts``: the model's amounts (:func:`scan_amounts`),
    from which each candidate's amount if entitled (``amount_if_entitled``) is forecast."""
    rows = np.flatnonzero(a.candidate)
    take = pa.array(rows)
    frame = pd.DataFrame(
        {
            "family_id": _strings(arrow_text(fam["family_id"]).take(take)),
            "district": _strings(district_all.take(take)),
            "region": _strings(region_all.take(take)),
            "eligible_by_law": a.eligible[rows],
            "probability": a.prob[rows],
            "wellbeing_level": a.level[rows],
            "members": a.law["members"].to_numpy()[rows],
            "per_capita_income": a.pci[rows],
            "poverty_line": a.line[rows],
            "monthly_amount": a.amount[rows],
            "need_gap": a.gap[rows],
            "_level": pd.Series(a.level[rows]).map(LEVEL_ORDER).to_numpy(),
        }
    )
    refusal = a.law["refusal_reason"].iloc[rows].fillna("").astype(str).to_numpy()
    visit = np.full(len(rows), "", dtype=object)
    if a.history is not None:
        found = a.history["visit_found_entitled"].to_numpy(dtype=bool)[rows]
        visit[found] = a.history["visit_quarter"].to_numpy(dtype=object)[rows][found]
    frame.insert(6, "reason", _reasons(a.eligible[rows], a.prob[rows], a.gap[rows], refusal, visit))
    # The codes the reason is made of, beside the English (screening.wording words them in kk/ru/en).
    frame["reason_code"] = np.where(
        a.eligible[rows], "by_law", np.where(visit.astype(str) != "", "visit", "by_model")
    )
    frame["refusal_reason"] = refusal.astype(str)
    frame["probability_entitled"] = a.entitled[rows] if calibrated else np.nan
    frame["scan_score"] = a.raw[rows]
    frame["visit_entitled_quarter"] = visit.astype(str)
    frame["amount_if_entitled"], frame["amount_basis"] = _amounts_if_entitled(a, rows, visit, amounts)
    return frame


def _amounts_if_entitled(a: _Assessment, rows, visit, amounts: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's monthly amount if truly entitled, the forecast's a, and what it rests on
    (``amount_basis``): ``visit`` — an earlier visit found the family entitled: what that visit verified,
    its per-capita income, under today's line (:func:`atauly.model.verified.visit_amount`); ``gap_bin`` —
    the records' amount × the sample's ratio for the family's gap bin (:func:`expected_true_amount`);
    ``records`` — the law's amount on records (a model without the sample's amounts)."""
    from atauly.model.verified import expected_true_amount, visit_amount

    amount, gap = a.amount[rows], a.gap[rows]
    if not amounts:
        return amount, np.full(len(rows), "records", dtype=object)
    by_visit = np.full(len(rows), np.nan)
    if a.history is not None and "visit_per_capita_income" in a.history:
        income = a.history["visit_per_capita_income"].to_numpy(dtype=float)[rows]
        seen = (visit.astype(str) != "") & np.isfinite(income)
        by_visit[seen] = visit_amount(
            a.law["members"].to_numpy(dtype=float)[rows],
            a.line[rows],
            income,
            a.law["child_supplement_monthly"].to_numpy(dtype=float)[rows],
        )[seen]
    basis = np.where(np.isfinite(by_visit), "visit", "gap_bin").astype(object)
    return np.round(expected_true_amount(amounts, amount, gap, by_visit), 2), basis


def _rank_and_offer(frame: pd.DataFrame, n_by_district: dict, job: ScanJob, calibrated: bool) -> pd.DataFrame:
    """Rank the candidates within their district and offer visits up to the district's capacity."""
    if calibrated:
        # Issue 15: the most probably entitled first (every visit costs the same: this finds the most
        # entitled families per visit), then the forest's own score (a map with steps — isotonic — gives
        # many families one probability: the score still orders them), then the larger expected amount,
        # then the gap, then the id.
        frame["_expected"] = frame["probability_entitled"] * frame["monthly_amount"]
        keys, ascending = (
            ["district", "probability_entitled", "scan_score", "_expected", "need_gap", "family_id"],
            [True, False, False, False, False, True],
        )
    else:
        # A model that is not population-calibrated: most in need first (well-being level, then the gap
        # to the poverty line, then the model, then id) — issue 6's order.
        keys, ascending = (
            ["district", "_level", "need_gap", "probability", "family_id"],
            [True, True, False, False, True],
        )
    frame = frame.sort_values(keys, ascending=ascending, kind="mergesort")
    frame.insert(3, "rank", frame.groupby("district", sort=False).cumcount().to_numpy() + 1)
    families_here = frame["district"].map(n_by_district).fillna(0).to_numpy(dtype=np.int64)
    frame["capacity"] = district_capacity(families_here, job.capacity_per_1000, job.capacity)
    within = frame["rank"].to_numpy() <= frame["capacity"].to_numpy()
    if calibrated:
        sure = frame["probability_entitled"].to_numpy() >= job.min_probability
    else:
        sure = np.ones(len(frame), dtype=bool)  # no calibrated probability: capacity alone decides
    frame["offered"] = within & sure
    frame["offer_reason"] = _offer_reasons(frame, within, sure, calibrated, job.min_probability)
    frame["offer_code"] = (
        np.where(within & sure, "offered", np.where(~sure, "below_minimum", "beyond_capacity"))
        if calibrated
        else np.where(within, "within_capacity", "outside_capacity")
    )
    return frame[CANDIDATE_COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


def _district_summary(a: _Assessment, district_all, region_all) -> pd.DataFrame:
    """Per district: region and district codes factorised once (Arrow), sums by integer code. Families
    without a district are left out of the district summaries, as pandas' groupby leaves out missing
    keys (a known gap: generated and recorded registries always have one)."""
    keyed = ~(
        pc.is_null(district_all).to_numpy(zero_copy_only=False)
        | pc.is_null(region_all).to_numpy(zero_copy_only=False)
    )
    region_dict, district_dict = region_all.dictionary_encode(), district_all.dictionary_encode()
    pair = pc.fill_null(region_dict.indices, 0).to_numpy(zero_copy_only=False).astype(np.int64) * len(
        district_dict.dictionary
    ) + pc.fill_null(district_dict.indices, 0).to_numpy(zero_copy_only=False)
    rows_keyed = np.flatnonzero(keyed)
    pairs, code = np.unique(pair[rows_keyed], return_inverse=True)
    k = len(pairs)
    first = np.zeros(k, dtype=np.int64)
    first[code[::-1]] = rows_keyed[::-1]  # a family of each (region, district)
    take_first = pa.array(first)

    def total(values) -> np.ndarray:
        return np.bincount(code, weights=np.asarray(values)[rows_keyed], minlength=k)

    candidate, eligible = a.candidate, a.eligible
    summary = pd.DataFrame(
        {
            "region": _strings(region_all.take(take_first)),
            "district": _strings(district_all.take(take_first)),
            "families": np.bincount(code, minlength=k),  # families with a district
            "entitled_by_law": total(eligible).astype(np.int64),
            "receiving": total(a.status["receiving"].to_numpy()).astype(np.int64),
            "applied": total(a.status["applied"].to_numpy()).astype(np.int64),
            "candidates": total(candidate).astype(np.int64),
            # Rounded to the tiyn: the sum of amounts in 0.01 ₸ must not depend on the summation order.
            "candidates_monthly_amount": np.round(total(np.where(candidate & eligible, a.amount, 0.0)), 2),
        }
    )
    return summary[DISTRICT_SUMMARY_COLUMNS]


def _offer_sums(
    frame: pd.DataFrame,
    n_by_district: dict,
    job: ScanJob,
    amounts: dict | None = None,
    calibration: dict | None = None,
) -> pd.DataFrame:
    """Per district: capacity, offers and the forecast's sums over the offered families (issue 15). The
    forecast's amount is what each would truly receive if entitled, from the law's amount on records and
    the verification sample's amounts (:func:`atauly.model.verified.expected_true_amount`; the amount on
    records when there are none). With a map stored with its bootstrap replicates, also each replicate's
    Σ p and Σ p·a over the district's offered (``calibration_entitled``, ``calibration_amount``: lists),
    from which the report's intervals take the calibration's own error."""
    from atauly.model.verified import (
        amount_replicate_count,
        expected_true_amount,
        scan_calibration_replicates,
    )

    districts = sorted(str(d) for d in n_by_district if d is not None)
    capacity = district_capacity([n_by_district[d] for d in districts], job.capacity_per_1000, job.capacity)
    off = frame.loc[frame["offered"].to_numpy(dtype=bool)]
    p = off["probability_entitled"].fillna(0.0).to_numpy(dtype=float)
    amount = off["monthly_amount"].to_numpy(dtype=float)
    # The amount if entitled (the candidates' column: an earlier visit's verified income, else the gap
    # bin's ratio; the amount on records for a model without the sample's amounts).
    expected = (
        off["amount_if_entitled"].to_numpy(dtype=float)
        if "amount_if_entitled" in off
        else expected_true_amount(amounts, amount, off["need_gap"].to_numpy(dtype=float))
        if amounts
        else amount
    )
    parts = pd.DataFrame(
        {
            "district": off["district"].to_numpy(),
            "offered": 1,
            "offered_monthly_amount": amount,
            "expected_entitled": p,
            "sum_p2": p**2,
            "expected_amount": p * expected,
            "sum_a2p": expected**2 * p,
            "sum_a2p2": expected**2 * p**2,
        }
    )
    sums = parts.groupby("district", sort=True).sum()
    out = pd.DataFrame({"capacity": capacity}, index=pd.Index(districts, name="district"))
    out = out.join(sums).fillna(0.0)
    out["offered"] = out["offered"].astype(np.int64)
    # Rounded so that the figures do not depend on the summation order (identical with any workers).
    for col in ("offered_monthly_amount", "expected_amount", "sum_a2p", "sum_a2p2"):
        out[col] = np.round(out[col].to_numpy(), 2)
    for col in ("expected_entitled", "sum_p2"):
        out[col] = np.round(out[col].to_numpy(), 9)
    reps = (
        scan_calibration_replicates(
            calibration,
            off["scan_score"].to_numpy(dtype=float),
            _history_inputs(off),
        )
        if calibration
        else None
    )
    if reps is None:
        reps = np.zeros((0, len(off)))
    code = out.index.get_indexer(off["district"].to_numpy())
    by_rep_p = np.zeros((len(out), len(reps)))
    by_rep_a = np.zeros((len(out), len(reps)))
    # The amounts' own error: replicate b of the map goes with replicate b of the gap bins' amounts (the
    # sample's families resampled), for the families whose amount rests on the bins.
    n_amounts = amount_replicate_count(amounts or {})
    by_bin = (
        off["amount_basis"].to_numpy(dtype=str) == "gap_bin"
        if "amount_basis" in off
        else np.ones(len(off), dtype=bool)
    )
    gap = off["need_gap"].to_numpy(dtype=float)
    for b, rep in enumerate(reps):
        a_b = expected
        if n_amounts and by_bin.any():
            a_b = expected.copy()
            a_b[by_bin] = expected_true_amount(amounts, amount[by_bin], gap[by_bin], replicate=b % n_amounts)
        by_rep_p[:, b] = np.bincount(code, weights=rep, minlength=len(out))
        by_rep_a[:, b] = np.bincount(code, weights=rep * a_b, minlength=len(out))
    out["calibration_entitled"] = list(np.round(by_rep_p, 9))
    out["calibration_amount"] = list(np.round(by_rep_a, 2))
    return out


def _offer_reasons(frame: pd.DataFrame, within, sure, calibrated: bool, min_probability: float) -> np.ndarray:
    """Why each candidate was (or was not) chosen for an offer, for the officer: the probability of
    entitlement and its rank against the district's capacity, then what the records show."""
    rank = frame["rank"].to_numpy().astype(str)
    cap = frame["capacity"].to_numpy().astype(str)
    place = np.char.add(np.char.add(np.char.add(" (rank ", rank), " of capacity "), cap)
    place = np.char.add(place, ")")
    if calibrated:
        p = np.char.mod("%.2f", frame["probability_entitled"].to_numpy(dtype=float))
        head = np.where(
            within & sure,
            np.char.add("offered: probability truly entitled ", p),
            np.where(
                ~sure,
                np.char.add(
                    np.char.add("not offered: probability truly entitled ", p),
                    f" below the minimum {min_probability:.2f}",
                ),
                np.char.add("not offered: beyond the district's capacity, probability truly entitled ", p),
            ),
        )
    else:
        head = np.where(
            within, "offered: within the district's capacity", "not offered: beyond the district's capacity"
        )
    out = np.char.add(head, place)
    # The akimat's own earlier finding, when it is one of the grounds (the map's history term).
    visit = frame["visit_entitled_quarter"].to_numpy(dtype=str)
    seen = visit != ""
    if seen.any():
        out = out.astype(object)
        out[seen] = [f"{o}; entitled at the {v} visit" for o, v in zip(out[seen], visit[seen], strict=True)]
    return out


def _history_inputs(frame: pd.DataFrame) -> np.ndarray:
    """The map's history inputs of candidates (:data:`atauly.model.verified.HISTORY_INPUTS`: the one,
    an earlier visit found the family entitled and it has not applied since) from their column."""
    return (frame["visit_entitled_quarter"].to_numpy(dtype=str) != "").astype(float)[:, None]


def _strings(arr: pa.Array) -> pd.Series:
    """An Arrow text array as the pandas text column the rest of the code expects."""
    return arr.to_pandas()


def _reasons(eligible, prob, gap, refusal, visit=None) -> np.ndarray:
    """A short reason per family in English (lists, logs; the codes beside it, ``reason_code`` and
    ``refusal_reason``, are worded in the officer's language by :mod:`atauly.screening.wording`).
    ``visit``: the quarter of an earlier verification visit that found the family entitled ("" none)."""
    pct = np.round(np.abs(gap) * 100).astype(int).astype(str)
    by_law = np.char.add(np.char.add("entitled by law: per-capita income ", pct), "% below the poverty line")
    by_model = np.char.add(
        np.char.add("likely entitled (model ", np.char.mod("%.2f", prob)),
        np.char.add("); on records the law refuses: ", refusal.astype(str)),
    )
    out = np.where(eligible, by_law, by_model)
    if visit is not None:
        visit = np.asarray(visit, dtype=str)
        seen = (visit != "") & ~np.asarray(eligible, dtype=bool)
        if seen.any():
            out = out.astype(object)
            out[seen] = [
                f"entitled at the {v} visit, not applied since; law on records refuses: {r}"
                for v, r in zip(visit[seen], np.asarray(refusal, dtype=str)[seen], strict=True)
            ]
    return out


def _write_atomically(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
