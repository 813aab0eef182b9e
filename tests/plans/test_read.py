"""The national plan's fast reader (only the law's conditional families, part by part) gives the same
population and the same plan as the whole registry read, validated and put through the law."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atauly.law.compute import compute
from atauly.plans.family import FamilyNotPlannable
from atauly.plans.national import national_plan, population, population_from_files
from atauly.plans.read import family_registry, read_law
from atauly.registry import io as registry_io
from atauly.registry import load_registry
from atauly.registry.synthetic import generate

Q = "2025Q3"
REGIONS = ["610000000", "110000000"]  # Turkistan (many conditional families) and Akmola


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg") / "reg"
    generate(0.002, 5, out, regions=REGIONS, workers=1)
    reg, _ = load_registry(out, "recorded")
    law = compute(reg, Q)
    law_path = out.parent / "law.parquet"
    law.to_parquet(law_path, index=False)
    return out, reg, law, law_path


def _same(a, b):
    pd.testing.assert_frame_equal(a.families.reset_index(drop=True), b.families.reset_index(drop=True))
    pd.testing.assert_frame_equal(a.persons.reset_index(drop=True), b.persons.reset_index(drop=True))
    for name in ("district_families", "region_families"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.sort_index().to_dict() == y.sort_index().to_dict()


@pytest.mark.parametrize("region", [None, "610000000"])
def test_fast_reader_gives_the_same_population_and_plan(world, catalog, region):
    out, reg, law, law_path = world
    slow = population(reg, Q, catalog, law=law, region=region)
    assert len(slow) > 10  # the world has conditional families to plan
    fast = population_from_files(out, "recorded", read_law(law_path, conditional_only=True), catalog, region)
    _same(slow, fast)
    whole_law = population_from_files(out, "recorded", read_law(law_path), catalog, region)
    _same(slow, whole_law)
    plan_slow, _, _ = national_plan(reg, Q, law=law, region=region, catalog=catalog, places_scale=50)
    plan_fast, _, _ = national_plan(None, Q, pop=fast, region=region, catalog=catalog, places_scale=50)
    assert len(plan_slow.assignments) > 0
    pd.testing.assert_frame_equal(plan_slow.assignments, plan_fast.assignments)
    pd.testing.assert_frame_equal(plan_slow.capacity, plan_fast.capacity)


def test_conditional_only_law_keeps_exactly_the_conditional_rows(world):
    _, _, law, law_path = world
    sub = read_law(law_path, conditional_only=True)
    expected = law[law["eligible"].astype(bool) & (law["asp_type"] == "conditional")]
    assert sub["family_id"].tolist() == expected["family_id"].astype(str).tolist()


def test_a_law_of_another_registry_is_refused(world, catalog, tmp_path):
    out, _, law, _ = world
    law = law.copy()
    cond = law["eligible"].astype(bool) & (law["asp_type"] == "conditional")
    law.loc[cond.idxmax(), "family_id"] = "NOT-IN-THE-REGISTRY"
    with pytest.raises(ValueError, match="does not hold"):
        population_from_files(out, "recorded", law, catalog)


def test_recipients_only_plans_only_the_quarters_recipients(world, tmp_path):
    from typer.testing import CliRunner

    from atauly.cli.main import app

    out, _, law, law_path = world
    cond = law.loc[law["eligible"].astype(bool) & (law["asp_type"] == "conditional"), "family_id"].astype(str)
    receiving = set(cond.iloc[::2])  # half of the conditional families receive ASP this quarter
    decisions = pd.DataFrame(
        {
            "family_id": list(receiving) + list(cond.iloc[1::2]) + list(receiving),
            "quarter": [Q] * len(receiving) + [Q] * len(cond.iloc[1::2]) + ["2025Q2"] * len(receiving),
            "officer_approved": [True] * len(receiving)
            + [False] * len(cond.iloc[1::2])
            + [True] * len(receiving),
        }
    )
    runner = CliRunner()
    base = ["plans", "national", "--registry", str(out), "--quarter", Q, "--places-scale", "50"]
    r = runner.invoke(app, [*base, "--out", str(tmp_path / "x"), "--law", str(law_path), "--recipients-only"])
    assert r.exit_code != 0 and "decisions" in r.output  # no decisions table yet: a clear refusal
    (out / "decisions").mkdir(exist_ok=True)
    decisions.to_parquet(out / "decisions" / "part-test.parquet", index=False)
    try:
        plans = {}
        for name, extra in (("fast", ["--law", str(law_path)]), ("slow", [])):
            r = runner.invoke(app, [*base, "--out", str(tmp_path / name), *extra, "--recipients-only"])
            assert r.exit_code == 0, r.output
            plans[name] = pd.read_parquet(tmp_path / name / "assignments.parquet")
        assert len(plans["fast"]) > 0 and set(plans["fast"]["family_id"]) <= receiving
        pd.testing.assert_frame_equal(plans["fast"], plans["slow"])
        assert pd.read_json(tmp_path / "fast" / "summary.json", typ="series")["recipients_only"]
    finally:
        import shutil

        shutil.rmtree(out / "decisions")


# --- the registry's Parquet layout: one family is read by decoding one row group ------------------------------


@pytest.fixture(scope="module")
def shuffled_persons():
    rng = np.random.default_rng(3)
    fams = rng.permutation([f"R61F{i}" for i in range(700)])
    sizes = rng.integers(1, 6, len(fams))
    family = np.repeat(fams, sizes)
    rank = np.concatenate([np.arange(s) for s in sizes])
    return pd.DataFrame(
        {
            "person_id": [f"{f}-{k + 1}" for f, k in zip(family, rank, strict=True)],
            "family_id": family,
            "rank": rank,  # the order of the members inside their family
            "income": rng.uniform(0, 1e5, len(family)),
        }
    )


def test_registry_parquet_is_sorted_by_family_in_row_groups(shuffled_persons, tmp_path, monkeypatch):
    monkeypatch.setattr(registry_io, "ROW_GROUP_ROWS", 256)
    path = registry_io.write_parquet(shuffled_persons, tmp_path / "persons.parquet")
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == -(-len(shuffled_persons) // 256)
    back = pd.read_parquet(path)
    assert back["family_id"].is_monotonic_increasing
    assert (back.groupby("family_id", sort=False)["rank"].diff().dropna() == 1).all()  # members' order kept
    pd.testing.assert_frame_equal(
        back.sort_values("person_id").reset_index(drop=True),
        shuffled_persons.sort_values("person_id").reset_index(drop=True),
    )
    # one family sits in one row group (or two, where it straddles a boundary)
    for fid in ("R61F1", "R61F350", "R61F699"):
        groups = registry_io.row_groups_holding(meta, "family_id", fid, fid)
        assert 1 <= len(groups) <= 2
        assert set(back.index[back["family_id"] == fid] // 256) == set(groups)
    # a table without family_id is sorted by person_id
    incomes = shuffled_persons.drop(columns="family_id")
    back = pd.read_parquet(registry_io.write_parquet(incomes, tmp_path / "incomes.parquet"))
    assert back["person_id"].is_monotonic_increasing


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 720), max_size=6))
def test_reading_some_families_gives_their_rows_and_only_theirs(
    shuffled_persons, tmp_path, monkeypatch, picks
):
    monkeypatch.setattr(registry_io, "ROW_GROUP_ROWS", 200)
    directory = tmp_path / "persons"
    directory.mkdir(exist_ok=True)
    half = shuffled_persons["family_id"].str[4:].astype(int) < 350
    registry_io.write_parquet(shuffled_persons[half], directory / "part-1.parquet")
    registry_io.write_parquet(shuffled_persons[~half], directory / "part-2.parquet")
    wanted = [f"R61F{i}" for i in picks]  # ids above 699 are in no file
    got = registry_io.read_parquet_where(directory, "family_id", wanted)
    expected = pd.read_parquet(directory)
    expected = expected[expected["family_id"].isin(wanted)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_one_familys_registry_is_read_from_its_row_groups(world):
    out, reg, law, _ = world
    fid = str(law.loc[law["eligible"].astype(bool), "family_id"].iloc[3])
    one = family_registry(out, "recorded", fid)
    whole = reg.subset([fid])
    for name in ("families", "persons", "incomes"):
        a = getattr(one, name).reset_index(drop=True)
        b = getattr(whole, name)
        b = b.sort_values([c for c in ("person_id", "month", "source") if c in b]).reset_index(drop=True)
        a = a.sort_values([c for c in ("person_id", "month", "source") if c in a]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    with pytest.raises(FamilyNotPlannable, match="not in the registry"):
        family_registry(out, "recorded", "R61F-none")


def test_numeric_family_ids_are_found_whatever_their_text_order(tmp_path, monkeypatch):
    monkeypatch.setattr(registry_io, "ROW_GROUP_ROWS", 50)
    df = pd.DataFrame({"family_id": np.arange(41, 1041), "x": np.arange(1000) * 2})
    path = registry_io.write_parquet(df, tmp_path / "families.parquet")
    # 100 is in the group 91..140, whose bounds as text ("91", "140") would seem not to hold "100"
    got = registry_io.read_parquet_where(path, "family_id", ["100"])
    assert got["family_id"].tolist() == [100] and got["x"].tolist() == [118]
