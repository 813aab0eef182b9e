import datetime as dt

import pytest
import yaml

from atauly.plans.catalog import MEASURES_FILE, CatalogError, load_catalog

ISSUE_MEASURES = {
    "job_placement", "vocational_training", "youth_practice", "public_works", "social_jobs", "silver_age",
    "business_training", "business_grant", "microcredit", "relocation", "childcare_place", "rehabilitation",
}  # fmt: skip


def test_every_measure_of_the_issue_with_source_and_status(catalog):
    assert set(catalog.keys) >= ISSUE_MEASURES
    for m in catalog.measures:
        assert m.reference and m.responsible_body and m.status in ("confirmed", "to_verify")
        assert m.effect_sd_mrp > 0


def test_confirmed_values_from_the_fact_sheet(catalog):
    youth = catalog.measure("youth_practice")
    assert youth.amount_mrp_month <= 30 and youth.months <= 12 and youth.eligibility.max_age == 35
    assert catalog.measure("public_works").amount_mrp_month >= 20
    grant = catalog.measure("business_grant")
    assert grant.once_mrp >= 400 and grant.status == "confirmed"
    assert catalog.measure("relocation").per_member_mrp == 70
    assert catalog.measure("relocation").cost_mrp(4) == 20 * 12 + 70 * 4


def test_mrp_comes_from_the_law():
    assert load_catalog("2025-07-01").mrp == 3932
    assert load_catalog("2026-02-01").mrp == 4325


def _write(tmp_path, change):
    spec = yaml.safe_load(MEASURES_FILE.read_text())
    change(spec)
    path = tmp_path / "measures.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


def test_dated_values_apply_from_their_date(tmp_path):
    def later(spec):
        values = spec["measures"]["public_works"]["values"]
        first = dict(next(iter(values.values())))
        values["2026-01-01"] = {**first, "amount_mrp_month": 25}

    path = _write(tmp_path, later)
    assert load_catalog("2025-12-01", path).measure("public_works").amount_mrp_month == 20
    assert load_catalog(dt.date(2026, 1, 1), path).measure("public_works").amount_mrp_month == 25
    with pytest.raises(CatalogError, match="no value in force"):
        load_catalog("2020-01-01", path)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda s: s["measures"]["public_works"].update(status="maybe"), "status"),
        (lambda s: s["measures"]["public_works"].update(funding_source="oil_fund"), "funding_source"),
        (lambda s: s["measures"]["public_works"].pop("reference"), "reference"),
        (
            lambda s: next(iter(s["measures"]["public_works"]["values"].values())).update(places_per_10k=-1),
            "≥ 0",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_field(tmp_path, change, match):
    with pytest.raises(CatalogError, match=match):
        load_catalog("2025-07-01", _write(tmp_path, change))
