"""Issue 15: the scan's map is chosen by a fixed rule and bends at the top of the ranking; the forecasts'
intervals include the map's own error; the world's families reply to offers (evaluation)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from atauly.law.compute import compute
from atauly.model.verified import (
    SCAN_MAPS,
    apply_scan_calibration,
    log_odds,
    scan_calibration,
    scan_calibration_replicates,
)
from atauly.registry.synthetic import generate
from atauly.screening.replies import WorldMismatch, simulate_replies, take_up_probability
from atauly.screening.report import forecast


def _bent(n: int, seed: int):
    """Forest-like scores whose truth is linear in the log-odds but saturates at 0.4 at the top."""
    rng = np.random.default_rng(seed)
    raw = rng.beta(0.3, 20, n)
    truth = np.minimum(1 / (1 + np.exp(-(1.4 * log_odds(raw) + 3.0))), 0.4)
    return raw, truth, rng.random(n) < truth


def test_the_map_is_chosen_by_cross_validated_log_loss_and_bends_at_the_top():
    raw, truth, y = _bent(20_000, 1)
    cal = scan_calibration(raw, y, groups=np.arange(len(y)) // 2, n_replicates=2)
    assert set(cal["selection"]) == set(SCAN_MAPS)
    sel = cal["selection"]
    # The rule: the lowest held-out log loss at the top of the ranking (all rows' breaks a tie).
    assert cal["method"] == min(SCAN_MAPS, key=lambda m: (sel[m]["top"], sel[m]["all"]))
    top = np.argsort(-raw)[:150]
    platt = {**cal["alternatives"].get("platt_log_odds", cal), "floor": cal["floor"]}
    # Where the truth bends, the two-parameter map overshoots the top; the chosen one does not.
    assert apply_scan_calibration(platt, raw[top]).sum() > 1.25 * truth[top].sum()
    assert cal["method"] != "platt_log_odds"
    assert apply_scan_calibration(cal, raw[top]).sum() == pytest.approx(truth[top].sum(), rel=0.2)
    # Every candidate map is increasing in the score.
    order = np.sort(raw)
    for fitted in (cal, *cal["alternatives"].values()):
        p = apply_scan_calibration({**fitted, "floor": cal["floor"]}, order)
        assert (np.diff(p) >= -1e-12).all() and ((p >= 0) & (p <= 1)).all()


def test_the_bootstrap_replicates_measure_the_maps_error():
    """The replicates' spread of a top-of-ranking forecast is the map's sampling error: it shrinks with
    more labelled families, and the truth's Σ lies within the replicates' range."""
    spreads = []
    for n in (4_000, 32_000):
        raw, truth, y = _bent(n, 2)
        cal = scan_calibration(raw, y, n_replicates=60)
        assert len(cal["replicates"]) >= 55 and len(cal["grid"]) == len(cal["replicates"][0])
        offers = np.linspace(0.05, 0.25, 100)  # the same offered scores for both samples
        sums = scan_calibration_replicates(cal, offers).sum(axis=1)
        assert sums.min() < apply_scan_calibration(cal, offers).sum() < sums.max()
        spreads.append(sums.std())
    assert spreads[1] < 0.7 * spreads[0]
    assert scan_calibration_replicates({"a": -1.0, "b": 0.0}, offers) is None  # an older map


def test_the_forecast_interval_adds_the_maps_error():
    """Each replicate's sums, added over districts replicate by replicate (one map for all districts:
    the errors add up), give the calibration's variance, added to the outcome's."""
    rng = np.random.default_rng(4)
    reps = rng.normal(10.0, 2.0, (2, 50))
    amounts = reps * 1000
    summary = pd.DataFrame(
        {
            "offered": [30, 20],
            "expected_entitled": [12.0, 8.0],
            "sum_p2": [6.0, 4.0],
            "expected_amount": [12e3, 8e3],
            "sum_a2p": [1.2e7, 0.8e7],
            "sum_a2p2": [0.6e7, 0.4e7],
            "calibration_entitled": list(reps),
            "calibration_amount": list(amounts),
        }
    )
    fc = forecast(summary, 0.5)
    total = reps.sum(axis=0)
    assert fc["calibration_replicates"] == 50
    assert fc["entitled_found"]["calibration_sd"] == pytest.approx(total.std(ddof=1))
    sd = np.sqrt(20.0 - 10.0 + total.std(ddof=1) ** 2)
    assert fc["entitled_found"]["high"] == pytest.approx(20.0 + 1.96 * sd)
    assert fc["take_up"]["calibration_sd"] == pytest.approx(0.5 * total.std(ddof=1))
    assert fc["monthly_budget"]["calibration_sd"] == pytest.approx(0.5 * amounts.sum(axis=0).std(ddof=1))
    plain = forecast(summary.drop(columns=["calibration_entitled", "calibration_amount"]), 0.5)
    assert plain["entitled_found"]["calibration_sd"] == 0.0
    assert plain["entitled_found"]["high"] < fc["entitled_found"]["high"]
    assert plain["entitled_found"]["mean"] == fc["entitled_found"]["mean"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    registry = tmp_path_factory.mktemp("replies") / "registry"
    generate(0.01, 6, registry, ["790000000"], law=compute)  # Shymkent
    return registry


def test_families_reply_with_the_worlds_take_up(world):
    """The reply probability is the world's own probability of applying: it predicts who applied this
    quarter in the generated history."""
    q = take_up_probability(world).set_index("family_id")["reply_probability"]
    truth = pd.read_parquet(world / "truth" / "families")
    assert len(q) == len(truth) and q.between(0, 1).all()
    dec = pd.read_parquet(world / "decisions")
    now = dec.loc[dec["quarter"].astype(str) == "2025Q3", "family_id"].astype(str)
    assert q.reindex(now).mean() > 5 * q.mean()
    # The expected number of applicants is the world's (re-applications of recipients aside: ±20%).
    assert q.sum() == pytest.approx(len(now), rel=0.2)


def test_a_registry_of_another_world_is_refused(world, tmp_path):
    other = tmp_path / "other"
    for table in ("families", "persons"):
        (other / "truth" / table).mkdir(parents=True)
        src = world / "truth" / table / "part-790000000.parquet"
        (other / "truth" / table / src.name).write_bytes(src.read_bytes())
    manifest = json.loads((world / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "seed": manifest["seed"] + 1}))
    with pytest.raises(WorldMismatch):
        take_up_probability(other)


def test_simulated_replies_take_up_only_the_truly_entitled():
    offers = pd.DataFrame({"family_id": ["a", "b", "c", "d"]})
    q = pd.Series({"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.5})
    truth = pd.DataFrame(
        {
            "family_id": ["a", "b", "c", "d"],
            "eligible": [True, False, True, True],
            "asp_monthly_amount": [100.0, 0.0, 50.0, 10.0],
            "child_supplement_monthly": [1.0, 0.0, 0.0, 0.0],
        }
    )
    out = simulate_replies(offers, q, truth, seed=3, draws=4000)
    assert (out["took_up"] <= out["replied"]).all()
    assert out["replied"].mean() == pytest.approx(2.5, abs=0.05)
    assert out["took_up"].mean() == pytest.approx(1.5, abs=0.05)
    assert out["monthly_budget"].mean() == pytest.approx(101 + 0.5 * 10, abs=0.5)
    assert set(out["monthly_budget"]) <= {101.0, 111.0}
    with pytest.raises(WorldMismatch):
        simulate_replies(pd.DataFrame({"family_id": ["z"]}), q, truth)
