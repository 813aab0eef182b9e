"""The packed sample scores (issue 15) are looked up by pandas' ``hash_array`` of the family id: a model
stores the hash of a fixed probe at training and the scan checks it, so that a pandas that hashes
differently stops the scan with a clear error (retrain) instead of reading every score for the wrong family;
a model trained before the probe still scans, with a warning."""

from __future__ import annotations

import numpy as np
import pytest

from atauly.model import verified
from atauly.model.verified import (
    HASH_PROBE_IDS,
    SampleHashError,
    SampleHashWarning,
    check_sample_hash,
    hash_probe,
    sample_scores,
    scan_raw,
)

FAMILIES = [f"R79F{i}" for i in range(40)]


def _calibration() -> dict:
    ids = [f"{f}:2025Q{1 + i % 2}" for i, f in enumerate(FAMILIES[:30])]
    return {"sample_scores": sample_scores(ids, np.linspace(0.1, 0.9, len(ids)))}


def test_the_probe_is_stored_and_the_scores_read_back():
    cal = _calibration()
    stored = cal["sample_scores"]
    assert stored["probe"] == hash_probe() and len(stored["probe"].split(",")) == len(HASH_PROBE_IDS)
    assert check_sample_hash(cal, "m@v1", "en") is True
    scores, known = scan_raw(cal, FAMILIES, np.full(len(FAMILIES), -1.0))
    assert known.tolist() == [True] * 30 + [False] * 10
    assert scores[:30] == pytest.approx(np.linspace(0.1, 0.9, 30), abs=1e-6)


def test_a_model_trained_under_another_hash_is_refused_in_every_language(monkeypatch):
    cal = _calibration()  # trained with this pandas' hash
    from pandas.util import hash_array

    monkeypatch.setattr(
        "pandas.util.hash_array",
        lambda values, hash_key=None, categorize=True, encoding="utf8": hash_array(
            values, hash_key="0123456789abcdef", categorize=categorize, encoding=encoding
        ),
    )
    assert hash_probe() != cal["sample_scores"]["probe"]
    with pytest.raises(SampleHashError, match="Переобучите модель") as ru:
        scan_raw(cal, FAMILIES, np.zeros(len(FAMILIES)))  # the settings' language: Russian by default
    assert "pandas" in str(ru.value)
    with pytest.raises(SampleHashError, match="Модельді қайта оқытыңыз"):
        check_sample_hash(cal, "m@v1", "kk")
    with pytest.raises(SampleHashError, match=r"^The model m@v1 .*Retrain the model") as en:
        check_sample_hash(cal, "m@v1", "en")
    assert cal["sample_scores"]["pandas"] in str(en.value)


def test_an_older_model_without_a_probe_still_scans_with_a_warning():
    cal = _calibration()
    del cal["sample_scores"]["probe"], cal["sample_scores"]["pandas"]
    with pytest.warns(SampleHashWarning, match="trained before its sample scores' hashes were checked"):
        assert check_sample_hash(cal, "old@v1", "en") is False
    scores, known = scan_raw(cal, FAMILIES, np.full(len(FAMILIES), -1.0))
    assert known.sum() == 30
    # the plain lists the oldest models stored are not hashed: nothing to check, nothing to warn
    plain = {"sample_scores": {"family_id": FAMILIES[:2], "raw": [0.1, 0.2]}}
    assert check_sample_hash(plain, "oldest@v1", "en") is True
    assert verified.scan_raw(plain, FAMILIES[:3], np.zeros(3))[1].tolist() == [True, True, False]
