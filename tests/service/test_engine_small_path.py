"""The engine's small-batch path (issue 17) gives what the plain computation gives, to the bit.

A batch of a few applications takes shortcuts around pandas and scikit-learn's per-call overheads: the
law's result frame built from numpy arrays (``atauly.law.compute.SMALL_FRAME``), the features scored from
their arrays, the forest's rows and decision paths built directly. Here every outcome of batches of
varied applications (several quarters and months, families with and without incomes, invalid ones, one
without the model) is compared with the same application computed the plain way: ``compute`` through its
frame path, ``features_of``'s frame, and ``score_with_codes`` through the pipeline's preprocessor and the
trees' ``decision_path``.
"""

from __future__ import annotations

import copy
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

import atauly.law.compute as law_compute
from atauly.registry import Registry
from atauly.registry.quarter import Quarter
from atauly.registry.validate_small import validate_rows
from atauly.service.app import load_recommender
from atauly.service.casework import quarter_of
from atauly.service.engine import (
    BEYOND_LAW_REASONS,
    TOP_REASONS,
    InvalidApplication,
    Job,
    RecommendationEngine,
    rows,
)
from atauly.service.intake import snapshot_of
from atauly.service.schemas import ApplicationIn
from atauly.service.seed import shift_to
from atauly.settings import Settings


def _varied(payloads: list[dict]) -> list[dict]:
    """Applications of several quarters and months, some without any income, two invalid."""
    out = []
    days = [
        None,
        date(2025, 2, 14),
        date(2025, 3, 3),
        date(2025, 8, 20),
        date(2026, 1, 9),
        date(2026, 11, 30),
    ]
    for i, payload in enumerate(payloads[:36]):
        p = copy.deepcopy(payload)
        day = days[i % len(days)]
        if day is not None:
            p = shift_to(p, day)
        if i % 5 == 2:
            p["incomes"] = []  # no income at all: counted as 0
        out.append(p)
    bad = copy.deepcopy(payloads[36])
    iin = bad["persons"][0]["iin"]
    bad["persons"][0]["iin"] = iin[:-1] + str((int(iin[-1]) + 1) % 10)  # the checksum fails
    out.insert(4, bad)
    other = copy.deepcopy(payloads[37])
    iin = other["persons"][-1]["iin"]
    other["persons"][-1]["iin"] = iin[:-1] + str((int(iin[-1]) + 3) % 10)
    out.insert(17, other)
    return out


def _inputs(payload: dict) -> tuple[dict, str]:
    app = ApplicationIn.model_validate(payload)
    return snapshot_of(app), quarter_of(app.family.application_date)


def _plain(engine: RecommendationEngine, plain_model, snapshot: dict, quarter: str, use_model: bool):
    """One application the plain way: (law row, probability, recommended, reasons), or its problems."""
    job = Job(snapshot, quarter, use_model)
    fam, per, inc, report = validate_rows(*rows([job]))
    if not report.ok:
        return None
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    law = law_compute.compute(reg, quarter, engine.tbs)
    row = law.iloc[0].to_dict()
    row["family_id"] = row["family_id"].split("~", 1)[1]
    row = {key: (v.item() if hasattr(v, "item") else v) for key, v in row.items()}
    if not use_model:
        return row, None, bool(row["eligible"]), {}
    features = plain_model.features_of(reg, law, Quarter.parse(quarter).start_time)
    scores, reasons = plain_model.score_with_codes(features, TOP_REASONS, beyond_law=BEYOND_LAW_REASONS)
    return row, float(scores["probability"].iloc[0]), bool(scores["recommended"].iloc[0]), reasons[0]


def _same(a, b) -> bool:
    """Equal values of equal types (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_small_batches_give_the_plain_computations_outcomes(svc_home, svc_payloads, monkeypatch):
    settings = Settings(home=svc_home)
    engine = RecommendationEngine(load_recommender(settings))
    plain_model = load_recommender(settings)
    plain_model._small_contributions = lambda frame: None  # the preprocessor and decision_path
    assert engine.recommender._small_layout() is not None  # the shortcut is taken

    inputs = [_inputs(p) for p in _varied(svc_payloads)]
    assert len({q for _, q in inputs}) >= 4
    use_model = [k % 11 != 6 for k in range(len(inputs))]
    with monkeypatch.context() as m:
        m.setattr(law_compute, "SMALL_FRAME", 0)  # the law's frame path
        expected = [_plain(engine, plain_model, s, q, u) for (s, q), u in zip(inputs, use_model, strict=True)]
    assert sum(e is None for e in expected) == 2
    assert any(e is not None and e[0]["counted_income_quarter"] == 0 for e in expected)
    assert any(e is not None and e[0]["eligible"] for e in expected)
    assert any(e is not None and not e[0]["eligible"] for e in expected)

    jobs = [Job(s, q, u) for (s, q), u in zip(inputs, use_model, strict=True)]
    start = 0
    for size in (1, 2, 5, 8, 3, 13, 1, 7):  # batches of several quarters and months, with invalid ones
        engine.run_batch(jobs[start : start + size])
        start += size
    assert start >= len(jobs)

    for job, want in zip(jobs, expected, strict=True):
        if want is None:
            with pytest.raises(InvalidApplication):
                job.future.result(timeout=0)
            continue
        got = job.future.result(timeout=0)
        row, probability, recommended, reasons = want
        assert _same(got.law, row), (got.law, row)
        assert got.recommended is recommended
        if probability is None:
            assert got.mode == "law" and got.probability is None and got.reasons == {}
            continue
        assert got.mode == "model"
        assert got.probability == probability  # to the bit
        assert _same(got.reasons, reasons), (got.reasons, reasons)
        assert got.reasons["codes"]


def test_the_laws_small_frame_is_its_frame(svc_payloads, svc_engine, monkeypatch):
    """``compute``'s result for a few families (several application months, no incomes for some) is the
    same frame, to the dtypes, whether built from numpy arrays or through pandas."""
    inputs = [_inputs(p) for p in _varied(svc_payloads)]
    jobs = [Job(s, q, True) for s, q in inputs]
    fam, per, inc, report = validate_rows(*rows(jobs))
    keep = report.problems["family_id"].dropna().unique() if not report.ok else []
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    reg = reg.take(~fam["family_id"].isin(list(keep)).to_numpy())
    assert 30 < len(reg.families) <= law_compute.SMALL_FRAME
    for quarter in sorted({q for _, q in inputs}):
        small = law_compute.compute(reg, quarter, svc_engine.tbs)
        with monkeypatch.context() as m:
            m.setattr(law_compute, "SMALL_FRAME", 0)
            plain = law_compute.compute(reg, quarter, svc_engine.tbs)
        pd.testing.assert_frame_equal(small, plain, check_exact=True)
        assert [repr(d) for d in small.dtypes] == [repr(d) for d in plain.dtypes]
        assert repr(small.columns) == repr(plain.columns) and repr(small.index) == repr(plain.index)
        assert np.array_equal(small["eligible"].to_numpy(), plain["eligible"].to_numpy())
