"""The national plan without ``--law``, the law applied region part by region part, gives the population and
the plan of the whole registry read, validated and put through the law — and hands anything unusual (a
problem in a part, an identifier in two parts) back to the whole read, which reports it as before."""

from __future__ import annotations

import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atauly.law.compute import compute, income_coverage
from atauly.plans.by_part import population_by_parts
from atauly.plans.national import national_plan, population, population_from_files
from atauly.plans.read import read_law
from atauly.registry import load_registry
from atauly.registry.synthetic import generate

Q = "2025Q3"
REGIONS = ["610000000", "110000000", "750000000"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg") / "reg"
    generate(0.002, 7, out, regions=REGIONS, workers=1)
    reg, _ = load_registry(out, "recorded")
    return out, reg


def _same(a, b):
    pd.testing.assert_frame_equal(a.families, b.families)
    pd.testing.assert_frame_equal(a.persons, b.persons)
    for name in ("district_families", "region_families"):
        assert getattr(a, name).sort_index().to_dict() == getattr(b, name).sort_index().to_dict()


@pytest.mark.parametrize("region", [None, "610000000"])
@pytest.mark.parametrize("workers", [1, 2])
def test_by_part_gives_the_whole_registrys_population_and_plan(world, catalog, region, workers):
    out, reg = world
    parts = population_by_parts(out, "recorded", Q, catalog, region=region, workers=workers)
    assert parts is not None
    assert parts.coverage == income_coverage(reg, Q)  # the whole registry's, wherever the region
    whole = population(reg, Q, catalog, region=region)
    assert len(whole) > 10
    _same(whole, parts.population)
    a, _, _ = national_plan(None, Q, pop=whole, region=region, catalog=catalog, places_scale=50)
    b, _, _ = national_plan(None, Q, pop=parts.population, region=region, catalog=catalog, places_scale=50)
    assert len(a.assignments) > 0
    for name in ("assignments", "capacity", "districts", "regions", "budget", "targets"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_by_part_with_and_without_a_law_result_and_for_recipients(world, catalog, tmp_path):
    """The same population as ``--law`` gives, and the same restricted to some families."""
    out, reg = world
    law_path = tmp_path / "law.parquet"
    compute(reg, Q).to_parquet(law_path, index=False)
    parts = population_by_parts(out, "recorded", Q, catalog)
    _same(population_from_files(out, "recorded", read_law(law_path, True), catalog), parts.population)
    some = set(parts.population.families["family_id"].astype(str).iloc[::3])
    mine = population_by_parts(out, "recorded", Q, catalog, families=some)
    _same(population(reg, Q, catalog, families=some), mine.population)
    assert set(mine.population.families["family_id"].astype(str)) == some


def test_a_region_without_families_is_told_after_the_incomes_check(world, catalog):
    out, _ = world
    parts = population_by_parts(out, "recorded", Q, catalog, region="999")
    assert parts is not None and parts.population is None and parts.coverage.rows > 0


def _copy(world, tmp_path):
    out, _ = world
    dst = tmp_path / "reg"
    shutil.copytree(out, dst)
    return dst


def test_a_problem_in_a_part_hands_over_to_the_whole_read(world, catalog, tmp_path):
    dst = _copy(world, tmp_path)
    path = sorted((dst / "recorded" / "persons").iterdir())[0]
    table = pq.read_table(path)
    sex = table["sex"].to_pylist()
    sex[0] = "unknown"
    pq.write_table(table.set_column(table.schema.get_field_index("sex"), "sex", pa.array(sex)), path)
    assert population_by_parts(dst, "recorded", Q, catalog) is None


def test_an_id_in_two_parts_hands_over_to_the_whole_read(world, catalog, tmp_path):
    """Each part alone is valid; the whole registry is not (a person id, or an IIN, in two regions)."""
    dst = _copy(world, tmp_path)
    files = sorted((dst / "recorded" / "persons").iterdir())
    first = pq.read_table(files[0])
    for column in ("iin", "person_id"):
        path = files[1]
        saved = pq.read_table(path)
        values = saved[column].to_pylist()
        values[0] = first[column][0].as_py()
        patched = saved.set_column(saved.schema.get_field_index(column), column, pa.array(values))
        if column == "person_id":  # its incomes follow it, so that the part alone stays valid
            inc_path = dst / "recorded" / "incomes" / path.name
            inc = pq.read_table(inc_path)
            ids = [
                first[column][0].as_py() if v == saved[column][0].as_py() else v
                for v in inc[column].to_pylist()
            ]
            pq.write_table(
                inc.set_column(inc.schema.get_field_index(column), column, pa.array(ids)), inc_path
            )
        pq.write_table(patched, path)
        with pytest.raises(Exception):  # noqa: B017 - the whole read refuses it (which problem: its report)
            load_registry(dst, "recorded")
        assert population_by_parts(dst, "recorded", Q, catalog) is None
        pq.write_table(saved, path)


def test_a_parts_conditional_families_keep_none_of_its_incomes(world):
    """What a part keeps (its conditional families and members, no income rows) is ``take`` less the
    incomes, and holds no buffer of the part's incomes (an empty slice of them would keep them all in
    memory until the plan is done)."""
    from atauly.plans.by_part import _without_incomes

    _, reg = world
    mask = (pd.Series(range(len(reg.families))) % 3 == 0).to_numpy()
    kept, taken = _without_incomes(reg, mask), reg.take(mask)
    pd.testing.assert_frame_equal(kept.families, taken.families, check_exact=True)
    pd.testing.assert_frame_equal(kept.persons, taken.persons, check_exact=True)
    pd.testing.assert_frame_equal(kept.incomes, taken.incomes.iloc[:0].reset_index(drop=True))
    assert (kept.person_family == taken.person_family).all() and len(kept.income_person) == 0

    def held(frame):  # bytes of the Arrow buffers its columns reference (a slice references them all)
        return sum(pa.array(frame[c]).get_total_buffer_size() for c in frame.columns)

    assert held(reg.incomes.iloc[:0]) > 10_000  # what an empty slice would have kept
    assert held(kept.incomes) < 1_000
