"""The validator's small-table path (what the service's engine validates each batch of applications with)
gives exactly what the vectorised validator gives: the same typed tables for valid rows, and for rows with
any problem the vectorised validator's own report (the fast path never words an error)."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atauly.registry.io import load_registry
from atauly.registry.validate_small import fast_validate, frames_of, validate_rows
from atauly.service.engine import Job, rows
from atauly.service.intake import snapshot_of
from atauly.service.schemas import ApplicationIn
from atauly.service.seed import registry_payloads

validate_module = importlib.import_module("atauly.registry.validate")  # (the package exports a function)
SAMPLE = Path(__file__).resolve().parents[2] / "src" / "atauly" / "registry" / "sample"
TODAY = "2026-06-30"


@pytest.fixture(scope="module")
def snapshots() -> list[dict]:
    """The sample registry's 20 families as the service receives them (pydantic, then JSON values)."""
    reg, _ = load_registry(SAMPLE)
    out = []
    for p in registry_payloads(reg, range(len(reg.families))):
        p["family"].setdefault("district_kato", _district(p["family"]["region_kato"]))
        out.append(snapshot_of(ApplicationIn.model_validate(p)))
    return out


def _district(region: str) -> str:
    from atauly.registry.codes import districts

    return next(d.kato for d in districts() if d.region_kato == region)


def assert_same(got, want) -> None:
    for a, b in zip(got[:3], want[:3], strict=True):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(got[3].problems, want[3].problems)
    if want[3].ok:
        np.testing.assert_array_equal(got[3].person_family, want[3].person_family)
        np.testing.assert_array_equal(got[3].income_person, want[3].income_person)


def full(tables):
    return validate_module.validate(*frames_of(*tables), today=TODAY)


def test_valid_batches_take_the_fast_path_and_equal_the_full_one(snapshots):
    for size in (1, 3, 20):
        tables = rows([Job(s, "2026Q2", True) for s in snapshots[:size]])
        fast = fast_validate(*tables, today=TODAY)
        assert fast is not None, "valid rows must not fall back to the vectorised validator"
        assert fast[3].ok
        assert_same(fast, full(tables))
    # an application without income: the empty incomes table is typed as validate types it
    tables = rows([Job({**snapshots[0], "incomes": []}, "2026Q2", True)])
    assert fast_validate(*tables, today=TODAY) is not None
    assert_same(validate_rows(*tables, today=TODAY), full(tables))


#: Values that break a rule or are not what the service's JSON holds (each must send the rows to the full
#: validator, which reports it), and some that are fine.
ODD = [
    None,
    "",
    " padded ",
    "x",
    "abc",
    "99",
    "790000000",
    "7901000001",
    "2020-13-01",
    "2020-02-30",
    "1850-01-01",
    "2099-01-01",
    "2026-07-01",
    "2020-01",
    "2020-00",
    -1,
    0,
    1,
    3,
    4,
    1.5,
    2.0,
    1e300,
    float("nan"),
    float("inf"),
    True,
    False,
    "applicant",
    "child",
    "spouse",
    "M",
    "F",
    "urban",
    "alimony",
    "not_working",
]


@st.composite
def mutated(draw, snapshots):
    size = draw(st.integers(1, 4))
    picked = [
        copy.deepcopy(snapshots[i]) for i in draw(st.lists(st.integers(0, 19), min_size=size, max_size=size))
    ]
    fam, per, inc = rows([Job(s, "2026Q2", True) for s in picked])
    tables = {"families": fam, "persons": per, "incomes": inc}
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["families", "persons", "incomes"]))
        table = tables[name]
        if not table:
            continue
        row = table[draw(st.integers(0, len(table) - 1))]
        action = draw(st.sampled_from(["set", "set", "set", "copy", "drop", "extra", "remove_row"]))
        column = draw(st.sampled_from(sorted(row)))
        if action == "set":
            row[column] = draw(st.sampled_from(ODD))
        elif (
            action == "copy"
        ):  # a value of another row of the table (duplicated ids and IINs, other families)
            other = table[draw(st.integers(0, len(table) - 1))]
            row[column] = other.get(column)
        elif action == "drop":
            del row[column]
        elif action == "extra":
            row["unexpected"] = 1
        elif len(table) > 0:
            table.remove(row)
    return fam, per, inc


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_and_full_paths_agree_on_valid_and_invalid_rows(snapshots, data):
    tables = data.draw(mutated(snapshots))
    want = full(tables)
    fast = fast_validate(*tables, today=TODAY)
    if fast is not None:  # the fast path may only ever say "valid", and only when the full path agrees
        assert want[3].ok, want[3].problems.to_dict("records")
        assert_same(fast, want)
    assert_same(validate_rows(*tables, today=TODAY), want)


def test_a_problem_is_reported_by_the_full_validator(snapshots):
    tables = rows([Job(s, "2026Q2", True) for s in snapshots[:2]])
    tables[1][0]["iin"] = "000000000000"
    assert fast_validate(*tables, today=TODAY) is None
    report = validate_rows(*tables, today=TODAY)[3]
    assert not report.ok and set(report.problems["column"]) == {"iin"}
    assert "000000000000" not in report.problems.to_string()  # masked, as the full validator does


def test_an_infinite_count_is_a_type_error_not_a_crash(snapshots):
    """Found by the agreement test: the full validator crashed on 'inf' in a whole-number column (a CSV
    can hold it) instead of reporting it."""
    tables = rows([Job(snapshots[0], "2026Q2", True)])
    tables[0][0]["dwellings_owned"] = float("inf")
    problems = full(tables)[3].problems
    assert problems[["column", "rule"]].values.tolist() == [["dwellings_owned", "type_int"]]
