"""Issue 15: the scan's model learns the scan's question from the verification sample (selection of
applicants handled), offers stay within each district's capacity, and the forecasts' intervals are
calibrated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atauly.law.compute import compute
from atauly.model import ModelStore, train_and_store
from atauly.model.verified import load_verified, verified_entitled
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
        ds, store, "scan", "test", quick_config(baselines=False, random_split=False)
    )
    return registry, store, ds, f"scan@{stored.version}"


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
        # Ranked by the population-calibrated probability.
        assert (np.diff(group["probability_entitled"].to_numpy()) <= 1e-12).all()
    off = cand[cand["offered"]]
    assert (off["probability_entitled"] >= min_probability).all()
    assert off["offer_reason"].str.startswith("offered: probability truly entitled").all()
    assert cand.loc[~cand["offered"], "offer_reason"].str.startswith("not offered").all()
    # The issue-6 reason (what the records show) is kept as it was, short enough for the service.
    assert cand["reason"].str.startswith(("entitled by law", "likely entitled")).all()


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
    expected = 0.5 * (off["probability_entitled"] * off["monthly_amount"]).sum()
    assert fc["monthly_budget"]["mean"] == pytest.approx(expected, rel=1e-6, abs=0.05)
    region, district = tables(tmp_path / "s", 0.5)
    assert district["offered"].sum() == len(off)
    assert region["offered_per_1000"].between(0, 1000).all()


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
