"""The synthetic registry: structure, the gap between truth and records, determinism, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atauly.law.compute import compute
from atauly.registry import load_registry
from atauly.registry.synthetic import generate
from atauly.registry.synthetic.calibrate import calibrate
from atauly.registry.synthetic.history import past_quarters
from atauly.registry.wellbeing import LEVELS, levels

ULYTAU, SHYMKENT = "620000000", "790000000"


@pytest.fixture(scope="module")
def country(tmp_path_factory):
    out = tmp_path_factory.mktemp("country") / "registry"
    generate(0.01, 11, out, law=compute)
    return out


def test_layout_and_contract(country):
    for layer in ("truth", "recorded", "applications"):
        for table in ("families", "persons", "incomes"):
            parts = list((country / layer / table).glob("part-*.parquet"))
            assert len(parts) == 20, (layer, table)
    assert len(list((country / "decisions").glob("part-*.parquet"))) == 20
    for view in ("truth", "recorded"):
        reg, report = load_registry(country, view)  # every person in one family, IINs valid and unique…
        assert report.ok, report.summary()
        assert reg.persons["iin"].is_unique


def test_ages_consistent_with_roles(country):
    reg, _ = load_registry(country, "truth")
    ref = pd.Timestamp("2025-07-01")
    age = (ref - reg.persons["birth_date"]).dt.days / 365.25
    adults = reg.persons["role"].isin(["applicant", "spouse"])
    assert (age[adults] >= 18).all()
    assert (age >= 0).all()


def test_recorded_view_differs_only_where_documented(country):
    truth, _ = load_registry(country, "truth")
    rec, _ = load_registry(country, "recorded")
    assert not rec.incomes["source"].isin(["informal", "livestock_land"]).any()
    assert truth.incomes["source"].eq("informal").any()
    formal = ["wages", "self_employment", "pension", "disability_benefit"]
    t = truth.incomes.loc[truth.incomes["source"].isin(formal)]
    r = rec.incomes.loc[rec.incomes["source"].isin(formal)]
    both = t.merge(r, on=["person_id", "month", "source"], how="outer", suffixes=("_t", "_r"))
    fresh = rec.persons.loc[
        (rec.persons["record_age_quarters"] == 0) & ~rec.persons["record_job_changed"], "person_id"
    ]
    current = both.loc[both["person_id"].isin(set(fresh))]
    assert len(current) > 1000
    assert (current["amount_kzt_t"] == current["amount_kzt_r"]).all()
    stale = both.loc[~both["person_id"].isin(set(fresh))]
    assert (stale["amount_kzt_t"] != stale["amount_kzt_r"]).mean() > 0.5


def test_decisions_keep_their_snapshot(country):
    d = pd.read_parquet(country / "decisions")
    assert set(d["quarter"]) == set(past_quarters("2025Q3", 8))
    fam = pd.read_parquet(country / "applications" / "families")
    assert set(d["application_id"]) == set(fam["application_id"])
    # The law on a stored snapshot reproduces the stored decision of the law.
    q = "2024Q2"
    ids = set(d.loc[d["quarter"] == q, "application_id"])
    per = pd.read_parquet(country / "applications" / "persons")
    inc = pd.read_parquet(country / "applications" / "incomes")
    from atauly.registry import Registry

    snap = Registry(
        fam.loc[fam["application_id"].isin(ids)].reset_index(drop=True),
        per.loc[per["application_id"].isin(ids)].reset_index(drop=True),
        inc.loc[inc["application_id"].isin(ids)].reset_index(drop=True),
    )
    again = compute(snap, q).set_index("family_id")["eligible"]
    stored = d.loc[d["quarter"] == q].set_index("family_id")["law_eligible"]
    assert (again.reindex(stored.index) == stored).all()


def test_truth_recorded_and_officers_disagree(country):
    d = pd.read_parquet(country / "decisions")
    assert 0.5 < (d["officer_approved"] == d["true_eligible"]).mean() < 0.99
    assert d["officer_overrode_law"].any()


def test_same_seed_same_data(tmp_path):
    a = generate(0.02, 5, tmp_path / "a", regions=[ULYTAU], law=compute, workers=1)
    b = generate(0.02, 5, tmp_path / "b", regions=[ULYTAU], law=compute, workers=1)
    generate(0.02, 6, tmp_path / "c", regions=[ULYTAU], workers=1)
    assert a["regions"] == b["regions"]
    for rel in ("truth/persons", "truth/incomes", "recorded/incomes", "decisions"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "a" / rel), pd.read_parquet(tmp_path / "b" / rel)
        )
    assert not pd.read_parquet(tmp_path / "c" / "truth/persons")["iin"].equals(
        pd.read_parquet(tmp_path / "a" / "truth/persons")["iin"]
    )


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        generate(0, 1, tmp_path / "x")
    with pytest.raises(ValueError, match="unknown region"):
        generate(0.01, 1, tmp_path / "y", regions=["123"])
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "f").write_text("x")
    with pytest.raises(FileExistsError):
        generate(0.01, 1, tmp_path / "z", regions=[ULYTAU])


def test_calibration_passes_its_headline_tolerances(country, tmp_path):
    result = calibrate(country, tmp_path, compute)
    bad = [r for r in result["targets"] if r["headline"] and not r["ok"]]
    assert not bad, bad
    assert (tmp_path / "calibration.json").exists() and "<img" in (tmp_path / "calibration.html").read_text()
    gaps = result["layer_gaps"]
    assert gaps["recorded_entitled_families"] > gaps["truly_entitled_families"]  # informal income unseen


def test_wellbeing_levels(country):
    reg, _ = load_registry(country, "recorded")
    wb = levels(reg.families, reg.persons, reg.incomes)
    assert len(wb) == len(reg.families) and set(wb["wellbeing_level"]) <= set(LEVELS)
    order = (
        wb.groupby("wellbeing_level")["wellbeing_score"].agg(["min", "max"]).reindex(list(LEVELS)).dropna()
    )
    assert (np.diff(order["min"].to_numpy()) > 0).all()
