"""Behaviour of the synthetic world (issue 14): automation bias once recommendations are shown, the
take-up function, record ages and assets drawn forwards in time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from atauly.law.compute import compute
from atauly.registry.quarter import Quarter
from atauly.registry.synthetic.dynamics import asset_paths, draw_lives, record_ages, recorded_snapshot
from atauly.registry.synthetic.geography import REGION_STATS
from atauly.registry.synthetic.history import make_history
from atauly.registry.synthetic.params import SyntheticParams
from atauly.registry.synthetic.population import generate_region, without_absent
from atauly.registry.synthetic.takeup import need_gap, takeup_probability
from atauly.registry.synthetic.views import recorded_view

SHYMKENT = "790000000"
SHORT = SyntheticParams(history_quarters=4)  # a shorter history keeps the tests quick


@pytest.fixture(scope="module")
def region():
    p = SyntheticParams()
    stats = next(s for s in REGION_STATS if s.key == "shymkent")
    generated = generate_region(stats, 0.01, 6, p)
    return without_absent(generated), recorded_view(generated, 6, p)


def _decisions(region, p: SyntheticParams) -> pd.DataFrame:
    truth, recorded = region
    return make_history(truth, recorded, compute, 6, SHYMKENT, p)[3]


@pytest.fixture(scope="module")
def history(region):
    truth, recorded = region
    return make_history(truth, recorded, compute, 6, SHYMKENT, SHORT)


def test_automation_bias_pins_officers_to_wrong_recommendations(region, history):
    base = SHORT
    off = history[3]
    shown_from = "2025Q1"
    on = _decisions(region, replace(base, recommendations_from=shown_from, automation_bias=0.3))
    # Before recommendations are shown nothing changes; without them no row says one was shown.
    assert not off["recommendation_shown"].any()
    assert on.loc[on["quarter"] < shown_from].equals(off.loc[off["quarter"] < shown_from])
    shown = on.loc[on["quarter"] >= shown_from]
    assert shown["recommendation_shown"].all()
    # Where the recommendation (the law on the records alone) contradicts the law on the snapshot, the
    # officer follows it far more often than officers override the law when nothing is shown.
    wrong = shown.loc[shown["recommended_eligible"] != shown["law_eligible"]]
    assert len(wrong) > 30, len(wrong)
    followed = (wrong["officer_approved"] == wrong["recommended_eligible"]).mean()
    baseline_error = off.loc[off["quarter"] >= shown_from, "officer_overrode_law"].mean()
    assert baseline_error < 0.1
    assert followed > baseline_error + 0.15
    # With a bias of zero the recommendation is shown but officers decide as before: unchanged.
    zero = _decisions(region, replace(base, recommendations_from=shown_from, automation_bias=0.0))
    cols = [c for c in off.columns if c not in ("recommendation_shown", "recommended_eligible")]
    assert zero[cols].equals(off[cols])


def test_takeup_is_a_smooth_logistic_in_need():
    p = SyntheticParams()
    need = need_gap(np.array([0.0, 20_000.0, 39_346.0, 60_000.0, 200_000.0]), 39_346.0)
    assert need[0] == 1 and need[2] == pytest.approx(0, abs=1e-4) and need[-1] == -1
    prob = takeup_probability(need, 5, False, False, params=p)
    assert np.all(np.diff(prob) < 0) and np.all((prob > 0) & (prob < 1))
    # Larger families apply more, villages and the two cities less; a family's propensity shifts it.
    at_line = takeup_probability(0.0, np.array([2, 6]), False, False, params=p)
    assert at_line[1] > at_line[0]
    assert takeup_probability(0.5, 5, True, False, params=p) < takeup_probability(
        0.5, 5, False, False, params=p
    )
    assert takeup_probability(0.5, 5, False, True, params=p) < takeup_probability(
        0.5, 5, False, False, params=p
    )
    assert takeup_probability(0.5, 5, False, False, propensity=1.0, params=p) > takeup_probability(
        0.5, 5, False, False, params=p
    )


def test_record_ages_are_drawn_forwards():
    p = SyntheticParams()
    ages = record_ages(200_000, 8, 3, SHYMKENT, p)
    stale = (ages > 0).mean(axis=1)
    assert np.all(np.abs(stale - p.stale_share) < 0.01)  # the stationary share in every quarter
    assert ages.max() == 4
    # A record either is updated (age 0) or grows exactly one quarter older: never younger by more.
    step = ages[1:].astype(int) - ages[:-1].astype(int)
    assert np.all((ages[1:] == 0) | (step == 1))
    # A stale record mostly stays stale the next quarter (the same figures), not redrawn at random.
    was_stale = ages[:-1] > 0
    assert (ages[1:][was_stale] > 0).mean() > 0.5


def test_past_snapshots_show_that_quarters_records_and_assets(region):
    truth, recorded = region
    p = SyntheticParams()
    quarters = [str(q) for q in Quarter.parse(p.quarter).trailing(p.history_quarters)]
    lives = draw_lives(truth, recorded, quarters, 6, SHYMKENT, p)
    everyone = np.ones(len(truth.families), dtype=bool)
    rng = np.random.default_rng(0)
    # Today's records are recorded/'s: the same record ages and assets.
    now = recorded_snapshot(truth, recorded, lives, 7, everyone, rng, p)
    assert (now.persons["record_age_quarters"].to_numpy() == recorded.persons["record_age_quarters"]).all()
    assert (now.families["vehicles_owned"].to_numpy() == recorded.families["vehicles_owned"]).all()
    # Two years back some families had another car or herd; the records of then show then's.
    then = recorded_snapshot(truth, recorded, lives, 0, everyone, rng, p)
    paths = asset_paths(truth.families, recorded.families, 8, 6, SHYMKENT, p)
    assert (then.families["vehicles_owned"].to_numpy() == paths["recorded_vehicles"][0]).all()
    changed = (paths["vehicles"][0] != paths["vehicles"][7]).mean()
    assert 0.03 < changed < 0.2  # 1.5% a quarter over 7 quarters
    assert (paths["recorded_vehicles"] <= paths["vehicles"]).all()


def test_records_only_view_of_an_application_keeps_that_quarters_assets(history, tmp_path):
    from atauly.model.data import recorded_only
    from atauly.registry.io import Registry

    families, persons, incomes, decisions, _ = history
    assert {"recorded_vehicles_owned", "recorded_livestock_heads"} <= set(families.columns)
    pf = pd.Index(families["application_id"]).get_indexer(persons["application_id"])
    key = persons["application_id"] + "|" + persons["person_id"]
    ip = pd.Index(key).get_indexer(incomes["application_id"] + "|" + incomes["person_id"])
    only = recorded_only(Registry(families, persons, incomes, pf, ip), tmp_path)
    for col in ("vehicles_owned", "livestock_heads", "land_ha", "dwellings_owned"):
        assert (only.families[col].to_numpy() == families["recorded_" + col].to_numpy()).all()
    # The visit found assets the records missed for some families: the snapshot shows them, the records not.
    assert (families["vehicles_owned"] > families["recorded_vehicles_owned"]).any()
    assert not (only.incomes["source"] == "informal").any()
