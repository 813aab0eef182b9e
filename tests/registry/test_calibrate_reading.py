"""``registry calibrate`` reads a generated region typed as validation types it, without every check
(issue 14: calibration at scale 1.0 within 3 minutes): the frames and positions must be exactly
validation's, and anything not as the generator writes it must go to full validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from atauly.registry.problems import RegistryValidationError
from atauly.registry.synthetic import generate
from atauly.registry.synthetic.reading import _Untyped, region_registry, typed_registry
from atauly.registry.validate import validate

ULYTAU, SHYMKENT = "620000000", "790000000"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("reading") / "registry"
    generate(0.005, 3, out, regions=[ULYTAU, SHYMKENT], workers=1)
    return out


def _tables(directory, layer, kato):
    return [
        pd.read_parquet(directory / layer / name / f"part-{kato}.parquet")
        for name in ("families", "persons", "incomes")
    ]


@pytest.mark.parametrize("layer", ["truth", "recorded"])
@pytest.mark.parametrize("kato", [ULYTAU, SHYMKENT])
def test_typed_reading_equals_validation(small, layer, kato):
    fam, per, inc, report = validate(*_tables(small, layer, kato))
    assert report.ok
    reg = region_registry(small, layer, kato)
    for checked, typed in ((fam, reg.families), (per, reg.persons), (inc, reg.incomes)):
        pd.testing.assert_frame_equal(checked, typed, check_exact=True)
    np.testing.assert_array_equal(report.person_family, reg.person_family)
    np.testing.assert_array_equal(report.income_person, reg.income_person)


def test_what_validation_would_change_or_refuse_goes_to_validation(small, tmp_path):
    fam, per, inc = _tables(small, "truth", ULYTAU)
    padded = per.copy()
    padded.loc[0, "role"] = " applicant"  # validation strips it: the typed route must not guess
    bad_code = inc.copy()
    bad_code.loc[0, "source"] = "lottery"
    orphan = per.copy()
    orphan.loc[0, "family_id"] = "nobody"
    dup = fam.copy()
    dup.loc[1, "family_id"] = dup.loc[0, "family_id"]
    negative = fam.copy()
    negative.loc[0, "land_ha"] = -1.0
    blank = fam.copy()
    blank.loc[0, "settlement_type"] = ""
    two_applicants = per.copy()
    other = per.index[(per["family_id"] == per.loc[0, "family_id"]) & (per["role"] != "applicant")]
    two_applicants.loc[other[:1], "role"] = "applicant"  # (the review found these went through)
    group = per.copy()
    group.loc[0, "disability_group"] = 7
    elsewhere = fam.copy()
    elsewhere.loc[0, "district_kato"] = (
        "791010000" if not str(fam.loc[0, "district_kato"]).startswith("79") else "621010000"
    )
    future = per.copy()
    future.loc[0, "birth_date"] = pd.Timestamp("2099-01-01")
    for tables in (
        (fam, two_applicants, inc),
        (fam, group, inc),
        (elsewhere, per, inc),
        (fam, future, inc),
        (fam, padded, inc),
        (fam, per, bad_code),
        (fam, orphan, inc),
        (dup, per, inc),
        (negative, per, inc),
        (blank, per, inc),
    ):
        with pytest.raises(_Untyped):
            typed_registry(*tables)
    # Through the file route an invalid part is reported by full validation.
    part = tmp_path / "truth"
    for name, df in zip(("families", "persons", "incomes"), (fam, orphan, inc), strict=True):
        (part / name).mkdir(parents=True)
        df.to_parquet(part / name / f"part-{ULYTAU}.parquet")
    with pytest.raises(RegistryValidationError):
        region_registry(tmp_path, "truth", ULYTAU)


def test_calibration_is_the_same_in_one_process_or_two(small, tmp_path):
    """Regions tallied in parallel, their proxy sample drawn beforehand in region order: the same figures."""
    from atauly.law.compute import compute
    from atauly.registry.synthetic.calibrate import calibrate

    one = calibrate(small, tmp_path / "one", compute, workers=1)
    two = calibrate(small, tmp_path / "two", compute, workers=2)
    one.pop("registry"), two.pop("registry")
    assert json.dumps(one, default=float) == json.dumps(two, default=float)
    assert one["layer_gaps"]["proxy_r2_log_consumption"] > 0
