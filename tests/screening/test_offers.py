"""Issue 15: the scan's model learns the scan's question from the verification sample (selection of
applicants handled), offers stay within each district's capacity, and the forecasts' intervals are
calibrated."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.law.compute import compute
from atauly.model import ModelStore, train_and_store
from atauly.model.estimators import forest_of
from atauly.model.verified import (
    SCAN_MAPS,
    _amount_bins,
    apply_scan_calibration,
    expected_true_amount,
    gap_bin,
    load_verified,
    log_odds,
    platt,
    scan_calibration,
    scan_calibration_replicates,
    scan_raw,
    score_floor,
    verified_entitled,
    visit_amount,
)
from atauly.registry import load_registry
from atauly.registry.synthetic import generate
from atauly.screening import read_candidates, scan
from atauly.screening.columns import POPULATION_TARGET
from atauly.screening.partition import district_capacity
from atauly.screening.report import forecast, tables

from ..model.conftest import quick_config

REGIONS = ["790000000", "350000000"]  # Shymkent, Karaganda


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("offers")
    registry = root / "registry"
    generate(0.02, 4, registry, REGIONS, law=compute)
    store = ModelStore(root / "models")
    ds = load_verified(registry)
    stored, _, _ = train_and_store(
        ds,
        store,
        "scan",
        "test",
        quick_config(baselines=False, random_split=False),
        extra={"scan_amounts": ds.scan_amounts},  # as `atauly model train` stores them
    )
    return registry, store, ds, f"scan@{stored.version}"


def test_loading_the_verification_sample_reports_progress_in_steps_that_add_up(setup):
    """``progress(n, total)`` advances by ``n`` (the CLI's bar adds them): the steps sum to the total, never
    past it (the bar read 24,535/5,411 when each call passed the running sum)."""
    calls = []
    load_verified(setup[0], progress=lambda n, total: calls.append((n, total)))
    assert calls and all(total == calls[0][1] for _, total in calls)
    assert sum(n for n, _ in calls) == calls[0][1]


def test_the_scan_model_learns_from_verified_non_applicants(setup):
    registry, _, ds, _ = setup
    ver = pd.read_parquet(registry / "verification")
    non = ver[~ver["applied"].astype(bool)]
    # Selection handled: the sample's applicants are left out, every row is a verified non-applicant.
    assert len(ds) == len(non) and ds.target == POPULATION_TARGET and ds.view == "recorded"
    keys = set(non["family_id"].astype(str) + ":" + non["quarter"].astype(str))
    assert set(ds.ids) == keys
    labels = dict(
        zip(
            non["family_id"].astype(str) + ":" + non["quarter"].astype(str), non["true_eligible"], strict=True
        )
    )
    assert all(bool(labels[i]) == bool(y) for i, y in zip(ds.ids, ds.y, strict=True))
    assert int(ds.y.sum()) == verified_entitled(registry)
    # Records only: no declaration, no home visit among the features.
    assert (ds.X["informal_pc"].fillna(0) == 0).all() and not ds.X["commission_found_no_need"].any()
    # A family verified in several quarters is one group.
    assert len(set(ds.groups)) == non["family_id"].nunique()


def test_each_verified_quarter_gets_its_own_law_on_the_records(setup):
    """Features and label refer to the same quarter: a row verified in an earlier quarter is described
    by the records as they are, moved to that quarter, under that quarter's law (its poverty line, its
    amounts), not under the registry's quarter's law."""
    from atauly.registry import load_registry
    from atauly.registry.quarter import Quarter

    registry, _, ds, _ = setup
    reg, _ = load_registry(registry, "recorded", skip_invalid=True)
    current = Quarter.parse(max(ds.period))
    past = min(ds.period)
    assert past != str(current)
    rows = ds.period == past
    fams = [i.split(":")[0] for i in ds.ids[rows]]
    shift = -3 * (current - Quarter.parse(past))
    sub = reg.take(reg.families["family_id"].astype(str).isin(set(fams)).to_numpy())
    own = compute(sub.shifted(shift), past).set_index("family_id")
    today = compute(sub, current).set_index("family_id")
    assert (own["poverty_line"] != today["poverty_line"]).all()  # the law differs between the quarters
    np.testing.assert_array_equal(
        ds.rules["law_on_recorded_data"][rows], own.loc[fams, "eligible"].to_numpy()
    )
    np.testing.assert_allclose(
        ds.X.loc[rows, "income_to_line"].to_numpy(),
        (own.loc[fams, "per_capita_income"] / own.loc[fams, "poverty_line"]).to_numpy(),
    )


def test_capacity_from_families():
    assert district_capacity([0, 1, 250, 251, 1000], 4.0).tolist() == [0, 1, 1, 2, 4]
    assert district_capacity([10, 5000], 4.0, fixed=3).tolist() == [3, 3]


def _check_offers(cand: pd.DataFrame, min_probability: float) -> None:
    for _, group in cand.groupby("district"):
        group = group.sort_values("rank")
        offered = group["offered"].to_numpy()
        assert offered.sum() <= group["capacity"].iloc[0]
        # Offers are the best-ranked candidates: a prefix of the district's ranking.
        assert not (np.diff(offered.astype(int)) > 0).any()
        # Ranked by the population-calibrated probability, then (within a step of the map) the score.
        p, score = group["probability_entitled"].to_numpy(), group["scan_score"].to_numpy()
        assert (np.diff(p) <= 1e-12).all()
        assert (np.diff(score)[np.diff(p) == 0] <= 0).all()
    off = cand[cand["offered"]]
    assert (off["probability_entitled"] >= min_probability).all()
    assert off["offer_reason"].str.startswith("offered: probability truly entitled").all()
    assert cand.loc[~cand["offered"], "offer_reason"].str.startswith("not offered").all()
    # The issue-6 reason (what the records show) is kept as it was, short enough for the service.
    assert cand["reason"].str.startswith(("entitled by law", "likely entitled", "entitled at the")).all()


def test_offers_stay_within_capacity_and_above_the_minimum(setup, tmp_path):
    registry, store, _, model = setup
    scan(registry, "2025Q3", tmp_path / "a", store.root, model, capacity_per_1000=4.0, min_probability=0.0)
    cand = read_candidates(tmp_path / "a")
    assert cand["offered"].dtype == bool and cand["probability_entitled"].between(0, 1).all()
    summary = pd.read_parquet(tmp_path / "a" / "summary")
    assert (summary["capacity"] == district_capacity(summary["families"], 4.0)).all()
    assert summary["offered"].sum() == cand["offered"].sum() > 0
    _check_offers(cand, 0.0)
    # A fixed capacity of one visit a district, and a minimum probability that leaves some out.
    p = float(cand["probability_entitled"].median())
    scan(registry, "2025Q3", tmp_path / "b", store.root, model, capacity=1, min_probability=p)
    one = read_candidates(tmp_path / "b")
    assert one.groupby("district")["offered"].sum().max() <= 1
    _check_offers(one, p)
    # A rerun with other offer settings into the same directory is refused.
    with pytest.raises(Exception, match="another offers"):
        scan(registry, "2025Q3", tmp_path / "b", store.root, model, capacity=2, min_probability=p)


def test_the_forecast_is_the_sum_over_the_offered(setup, tmp_path):
    registry, store, _, model = setup
    scan(registry, "2025Q3", tmp_path / "s", store.root, model, capacity_per_1000=10.0, min_probability=0.0)
    cand = read_candidates(tmp_path / "s")
    summary = pd.read_parquet(tmp_path / "s" / "summary")
    off = cand[cand["offered"]]
    fc = forecast(summary, 0.5)
    assert fc["offered"] == len(off)
    assert fc["entitled_found"]["mean"] == pytest.approx(off["probability_entitled"].sum(), rel=1e-6)
    assert fc["take_up"]["mean"] == pytest.approx(0.5 * off["probability_entitled"].sum(), rel=1e-6)
    amounts = store.load(model).metadata["training"]["scan_amounts"]
    # The amount if entitled: the records' amount scaled by its gap bin's ratio (or the bin's mean) —
    # except for a family an earlier visit found entitled: what that visit verified, under today's line.
    by_bin = cand["amount_basis"].to_numpy(dtype=str) == "gap_bin"
    a = expected_true_amount(amounts, cand["monthly_amount"], cand["need_gap"])
    assert cand["amount_if_entitled"].to_numpy()[by_bin] == pytest.approx(a[by_bin], abs=0.01)
    on_records = cand["monthly_amount"].to_numpy() > 0
    assert (a <= cand["monthly_amount"].to_numpy() + 1e-9)[on_records].all()
    visited = cand["visit_entitled_quarter"].to_numpy(dtype=str) != ""
    assert ((cand["amount_basis"] == "visit").to_numpy() == visited).all() and visited.any()
    ver = pd.read_parquet(registry / "verification")
    last = ver[ver["quarter"] < "2025Q3"].sort_values("quarter").drop_duplicates("family_id", keep="last")
    income = cand.loc[visited, "family_id"].map(last.set_index("family_id")["true_per_capita_income"])
    law = compute(load_registry(registry, "recorded")[0], "2025Q3").set_index("family_id")
    fam = cand.loc[visited, "family_id"]
    direct = visit_amount(
        fam.map(law["members"]),
        fam.map(law["poverty_line"]),
        income,
        fam.map(law["child_supplement_monthly"]),
    )
    assert cand.loc[visited, "amount_if_entitled"].to_numpy() == pytest.approx(np.asarray(direct), abs=0.01)
    expected = 0.5 * (off["probability_entitled"] * off["amount_if_entitled"]).sum()
    assert fc["monthly_budget"]["mean"] == pytest.approx(expected, rel=1e-6, abs=0.05)
    # The map's bootstrap replicates, summed over each district's offers and then over the districts
    # replicate by replicate, give the forecast's calibration error.
    cal = store.load(model).metadata["metrics"]["scan_calibration"]
    reps = scan_calibration_replicates(cal, off["scan_score"].to_numpy(), _visited(off))
    assert reps.shape == (len(cal["replicates"]), len(off)) and len(cal["replicates"]) >= 150
    totals = np.sum(np.vstack(summary["calibration_entitled"].to_list()), axis=0)
    assert totals == pytest.approx(reps.sum(axis=1), abs=1e-6)
    assert totals.std(ddof=1) > 0
    assert fc["entitled_found"]["calibration_sd"] == pytest.approx(totals.std(ddof=1))
    assert fc["take_up"]["calibration_sd"] == pytest.approx(0.5 * totals.std(ddof=1))
    region, district = tables(tmp_path / "s", 0.5)
    assert district["offered"].sum() == len(off)
    assert region["offered_per_1000"].between(0, 1000).all()
    # The report says what its intervals cover: with the map's refits, the calibration error too, and for
    # the budget the refitted amounts.
    from atauly.service.web.scan_report import write_report

    page = write_report(tmp_path / "s", tmp_path / "r", consent_rate=0.5, lang="en")[0].read_text()
    assert "refits of its map and, for the budget, of the expected amounts on resampled families" in page
    assert "not the model's own calibration error" not in page
    ru = write_report(tmp_path / "s", tmp_path / "ru", consent_rate=0.5, lang="ru")[0].read_text()
    assert "погрешность калибровки самой модели" in ru and "а для бюджета — и ожидаемых сумм" in ru


def test_the_scans_probability_is_its_own_map_of_the_forests_score(setup, tmp_path):
    """The population calibration: probability_entitled is the scan's own map of the forest's raw score
    (``scan_score``), chosen among the candidate maps and fitted on the model's calibration rows (stored
    with the model), not the model's own map."""
    registry, store, _, model = setup
    stored = store.load(model)
    cal = stored.metadata["metrics"]["scan_calibration"]
    assert cal["method"] in SCAN_MAPS and cal["positive"] > 0
    # The rule: the lowest cross-validated log loss among the candidates.
    sel = cal["selection"]
    # Isotonic is a candidate only with at least 100 entitled families (this small sample has fewer).
    assert set(sel) == (set(SCAN_MAPS) if cal["positive"] >= 100 else {"platt_log_odds"})
    assert cal["method"] == min(sel, key=lambda m: (sel[m]["top"], sel[m]["all"], SCAN_MAPS.index(m)))
    assert set(cal["alternatives"]) == set(SCAN_MAPS) - {cal["method"]}
    # Fitted on the out-of-fold scores of every training row, not only the held-out calibration slice.
    metrics = stored.metadata["metrics"]
    assert cal["rows"] == metrics["splits"][metrics["primary_split"]]["train_rows"]
    trees = len(forest_of(stored.estimator)[-1].estimators_)
    assert cal["floor"] == score_floor(trees) == 0.5 / trees
    scan(registry, "2025Q3", tmp_path / "p", store.root, model, capacity_per_1000=10.0, min_probability=0.0)
    cand = read_candidates(tmp_path / "p")
    raw = cand["scan_score"].to_numpy()
    assert cand["probability_entitled"].to_numpy() == pytest.approx(
        apply_scan_calibration(cal, raw, _visited(cand)), abs=1e-12
    )
    # The model's own map of that same raw score is the model's probability: both come from one score
    # (for the families the final forest was not fitted on; those are mapped by their out-of-fold score).
    fitted_on = scan_raw(cal, cand["family_id"], raw)[1]
    assert (~fitted_on).any()
    own = np.mean(
        [cc.calibrators[0].predict(raw[~fitted_on]) for cc in stored.estimator.calibrated_classifiers_],
        axis=0,
    )
    assert own == pytest.approx(cand["probability"].to_numpy()[~fitted_on], abs=1e-6)
    assert not np.allclose(cand["probability_entitled"], cand["probability"], atol=1e-3)


def _visited(cand: pd.DataFrame) -> np.ndarray:
    """The map's history input of candidates: an earlier visit found the family entitled."""
    return (cand["visit_entitled_quarter"].to_numpy(dtype=str) != "").astype(float)[:, None]


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-8, -0.1),
    st.floats(-6, 6),
    st.lists(st.floats(0, 1), min_size=2, max_size=50),
)
def test_the_scan_calibration_is_increasing_and_within_0_and_1(a, b, raw):
    p = apply_scan_calibration({"a": a, "b": b}, np.sort(np.asarray(raw)))
    assert ((p >= 0) & (p <= 1)).all() and (np.diff(p) >= -1e-15).all()


def test_the_scan_calibration_recovers_a_log_odds_map():
    rng = np.random.default_rng(3)
    raw = rng.beta(0.3, 20, 40_000)  # forest scores crowded near 0 with a thin tail
    truth = 1 / (1 + np.exp(-(1.3 * log_odds(raw) + 2.0)))
    y = rng.random(len(raw)) < truth
    cal = scan_calibration(raw, y)
    linear = _platt_of(cal)
    assert linear["a"] == pytest.approx(-1.3, abs=0.15) and linear["b"] == pytest.approx(-2.0, abs=0.5)
    top = raw >= np.quantile(raw, 0.995)
    assert apply_scan_calibration(cal, raw[top]).sum() == pytest.approx(y[top].sum(), rel=0.2)
    assert scan_calibration(raw[:10], np.zeros(10, bool)) is None


def test_the_score_floor_keeps_unvoted_families_from_flattening_the_map():
    """Issue 15 (scale 0.005): families no tree voted for (score 0) must not sit at log-odds −13.8; with
    the floor of half a vote the map keeps its slope and the top of the ranking its probability."""
    rng = np.random.default_rng(5)
    trees = 40
    votes = rng.binomial(trees, rng.beta(0.25, 12, 6_000)) / trees  # a forest's vote shares, many 0
    assert (votes == 0).mean() > 0.2
    truth = 1 / (1 + np.exp(-(1.2 * log_odds(votes, 0.5 / trees) + 0.6)))
    y = rng.random(len(votes)) < truth
    plain, floored = scan_calibration(votes, y), scan_calibration(votes, y, score_floor(trees))
    assert floored["floor"] == 0.5 / trees and plain["floor"] == 1e-6
    assert _platt_of(floored)["a"] < _platt_of(plain)["a"] < 0  # steeper with the floor
    top = np.argsort(-votes, kind="stable")[:100]
    realised = y[top].sum()
    linear_floored = {**_platt_of(floored), "floor": floored["floor"]}
    linear_plain = {**_platt_of(plain), "floor": plain["floor"]}
    assert apply_scan_calibration(floored, votes[top]).sum() == pytest.approx(realised, rel=0.2)
    assert apply_scan_calibration(linear_floored, votes[top]).sum() == pytest.approx(realised, rel=0.2)
    assert (
        apply_scan_calibration(linear_plain, votes[top]).sum()
        < apply_scan_calibration(linear_floored, votes[top]).sum()
    )
    assert score_floor(None) == 1e-6 and score_floor(0) == 1e-6
    falling = scan_calibration(votes, votes < 0.05)  # a sample where the score ranks backwards
    assert _platt_of(falling)["a"] == 0 and apply_scan_calibration(falling, votes) == pytest.approx(
        (votes < 0.05).mean(), rel=0.05
    )
    # Older stored maps (Platt's, no method's name, no floor) apply as before.
    linear = {**_platt_of(plain), "floor": plain["floor"]}
    old = {k: v for k, v in linear.items() if k not in ("floor", "method")}
    assert apply_scan_calibration(old, votes) == pytest.approx(apply_scan_calibration(linear, votes))


def _platt_of(cal: dict) -> dict:
    """The two-parameter map of a scan calibration, chosen or among its alternatives."""
    return cal if cal["method"] == "platt_log_odds" else cal["alternatives"]["platt_log_odds"]


def test_the_amount_if_entitled_follows_the_records_gap():
    bins = [
        {"upper": u, "entitled": 30, "ratio": r, "mean_true_amount": m}
        for u, r, m in ((0.0, 0.9, 17_000.0), (0.25, 0.6, 0), (0.5, 0.5, 0), (0.75, 0.45, 0), (0.9, 0.35, 0))
    ] + [{"upper": None, "entitled": 30, "ratio": 0.3, "mean_true_amount": 0}]
    amounts = {"ratio": 0.5, "by_gap": bins}
    records = np.array([0.0, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000])
    gap = np.array([-0.2, 0.1, 0.3, 0.6, 0.8, 0.95, 1.0])
    got = expected_true_amount(amounts, records, gap)
    assert got.tolist() == pytest.approx([17_000, 6_000, 5_000, 4_500, 3_500, 3_000, 3_000])
    # A model stored before the bins: one ratio.
    assert expected_true_amount({"ratio": 0.5}, records, gap).tolist() == pytest.approx(
        (records * 0.5).tolist()
    )


def test_amount_bins_with_few_entitled_take_the_overall_ratio():
    rng = np.random.default_rng(1)
    n = 2000
    gap = rng.uniform(-0.5, 1.0, n)
    y = rng.random(n) < 0.5
    y[(gap > 0.5) & (gap <= 0.75)] = False  # one bin without entitled families
    records = np.where(gap > 0, 10_000 * gap, 0.0)
    true = np.where(y, 0.5 * records + 1_000, 0.0)
    bins = _amount_bins(true, records, np.ones(n), gap, y, overall=0.42)
    empty = bins[int(gap_bin([0.6])[0])]
    assert empty["entitled"] == 0 and empty["ratio"] == 0.42
    full = bins[int(gap_bin([0.95])[0])]
    here = y & (gap > 0.9)
    assert full["ratio"] == pytest.approx(true[here].sum() / records[here].sum())
    assert bins[0]["mean_true_amount"] == pytest.approx(true[y & (gap <= 0)].mean())


def test_forecast_intervals_cover_what_happens():
    """Forecast calibration: with calibrated probabilities, the 95% intervals of entitled found, take-up
    and budget hold the simulated outcome about 95% of the time, and the means are unbiased."""
    rng = np.random.default_rng(0)
    n = 400
    p = rng.beta(2, 3, n)
    a = rng.uniform(20_000, 120_000, n)
    summary = pd.DataFrame(
        {
            "offered": [n],
            "expected_entitled": [p.sum()],
            "sum_p2": [(p**2).sum()],
            "expected_amount": [(p * a).sum()],
            "sum_a2p": [(a**2 * p).sum()],
            "sum_a2p2": [(a**2 * p**2).sum()],
        }
    )
    fc = forecast(summary, 0.6)
    hits = {"entitled_found": 0, "take_up": 0, "monthly_budget": 0}
    draws = 2000
    totals = []
    for _ in range(draws):
        entitled = rng.random(n) < p
        consent = rng.random(n) < 0.6
        outcome = {
            "entitled_found": entitled.sum(),
            "take_up": (entitled & consent).sum(),
            "monthly_budget": a[entitled & consent].sum(),
        }
        totals.append(outcome["take_up"])
        for k, v in outcome.items():
            hits[k] += fc[k]["low"] <= v <= fc[k]["high"]
    for k, h in hits.items():
        assert 0.92 <= h / draws <= 0.98, (k, h / draws)
    assert np.mean(totals) == pytest.approx(fc["take_up"]["mean"], rel=0.02)


def test_platts_fit_on_public_functions_matches_the_known_map():
    # Platt's fit with smoothed targets on a small fixed set (scikit-learn 1.9's _SigmoidCalibration gave these)
    x = np.array([-2, -1, 0, 1, 2, 3.0])
    y = np.array([0, 0, 1, 0, 1, 1], dtype=bool)
    a, b = platt(x, y)
    assert a == pytest.approx(-0.5355096311540318, abs=1e-6) and b == pytest.approx(
        0.2677548155234845, abs=1e-6
    )
    # a large sample drawn from p = 1 / (1 + exp(-1.5 x + 0.7)) gives that map back
    rng = np.random.default_rng(0)
    x = rng.normal(size=20_000) * 2
    y = rng.random(x.size) < 1 / (1 + np.exp(-1.5 * x + 0.7))
    a, b = platt(x, y)
    assert a == pytest.approx(-1.5, abs=0.06) and b == pytest.approx(0.7, abs=0.06)
    # the fit is the optimum: the log loss's gradient against the smoothed targets vanishes there
    pos, neg = int(y.sum()), int((~y).sum())
    target = np.where(y, (pos + 1) / (pos + 2), 1 / (neg + 2))
    residual = target - 1 / (1 + np.exp(a * x + b))
    assert abs(residual.sum()) < 1e-3 and abs((residual * x).sum()) < 1e-3


def test_each_rows_visit_history_is_of_earlier_quarters_only(setup):
    """The history input of a training row uses visits of quarters before the row's own (its own quarter's
    visit is its label)."""
    _, _, ds, _ = setup
    h = ds.scan_history
    assert h is not None and len(h) == len(ds)
    seen = h["visit_quarter"].to_numpy(dtype=str) != ""
    assert seen.any()
    assert (h["visit_quarter"].to_numpy(dtype=str)[seen] < ds.period[seen].astype(str)).all()
    assert (h["quarters_since_visit"].to_numpy()[seen] >= 1).all()


def test_the_final_forests_training_families_are_scanned_by_their_out_of_fold_score(setup, tmp_path):
    """Families the final forest was fitted on are mapped by their stored out-of-fold score (the score the
    map was fitted on); the registry's own quarter (the time split's test) is not among them."""
    registry, store, ds, model = setup
    cal = store.load(model).metadata["metrics"]["scan_calibration"]
    test_quarter = max(ds.period.astype(str))
    families = sorted({i.rsplit(":", 1)[0] for i in ds.ids})
    trained = {
        i.rsplit(":", 1)[0] for i, q in zip(ds.ids, ds.period.astype(str), strict=True) if q < test_quarter
    }
    # Stored without family ids in clear (salted hashes): every stored family is a training family.
    # Every family, not a few: no id in the calibration's text, and the packed data holds 12 bytes a family
    # (its 64-bit hash and float32 score), so no id in clear fits there either.
    stored_scores = cal["sample_scores"]
    assert "family_id" not in stored_scores
    text = json.dumps({**cal, "sample_scores": {k: v for k, v in stored_scores.items() if k != "data"}})
    assert not set(re.findall(r"[A-Za-z0-9]+", text)) & set(families)
    assert len(base64.b64decode(stored_scores["data"])) == 12 * stored_scores["families"]
    scores, known = scan_raw(cal, families, np.full(len(families), -1.0))
    assert known.sum() == cal["sample_scores"]["families"] > 0
    assert {f for f, k in zip(families, known, strict=True) if k} <= trained
    stored = dict(zip(np.asarray(families)[known], scores[known], strict=True))
    scan(registry, "2025Q3", tmp_path / "o", store.root, model, capacity_per_1000=10.0, min_probability=0.0)
    cand = read_candidates(tmp_path / "o")
    here = cand["family_id"].isin(stored).to_numpy()
    assert here.any()
    assert cand.loc[here, "scan_score"].to_numpy() == pytest.approx(cand.loc[here, "family_id"].map(stored))
    # The officer sees the earlier visit among the grounds.
    seen = cand["visit_entitled_quarter"].to_numpy(dtype=str) != ""
    for row in cand[seen].itertuples():
        assert row.offer_reason.endswith(f"; entitled at the {row.visit_entitled_quarter} visit")
        assert row.eligible_by_law or row.reason.startswith(
            f"entitled at the {row.visit_entitled_quarter} visit"
        )


def test_a_scan_with_a_model_hashed_otherwise_stops_before_any_partition(setup, tmp_path, monkeypatch):
    """A pandas that hashes family ids otherwise than at training would read the stored sample scores for
    the wrong families: the scan stops at once, telling to retrain, and writes no candidate."""
    from pandas.util import hash_array

    from atauly.model.verified import SampleHashError

    registry, store, _, model = setup
    monkeypatch.setattr(
        "pandas.util.hash_array",
        lambda values, hash_key=None, categorize=True, encoding="utf8": hash_array(
            values, hash_key="0123456789abcdef", categorize=categorize, encoding=encoding
        ),
    )
    with pytest.raises(SampleHashError, match=rf"^Модель {re.escape(model)} .*Переобучите модель"):
        scan(registry, "2025Q3", tmp_path / "o", store.root, model, min_probability=0.0)
    assert not list((tmp_path / "o").glob("candidates/*.parquet"))
