"""`make i18n` updates each catalog from its own Babel configuration and drops what it no longer extracts:
every message a configuration extracts must be translated in that same catalog, or the update would lose
its translation (tools/po_own.py copies translations to where they belong)."""

from __future__ import annotations

import io

import pytest

from atauly.i18n.catalogs import CATALOGS, extracted, owned
from atauly.i18n.extract import extract_yaml_labels


@pytest.mark.parametrize("name", list(CATALOGS))
def test_each_catalog_translates_what_its_configuration_extracts(name):
    found = extracted(name)
    assert found, f"{CATALOGS[name]} extracts nothing"
    for lang in ("ru", "kk"):
        missing = sorted(found - owned(name, lang))
        assert not missing, (name, lang, missing[:10], "run tools/po_own.py, then translate what it lists")


def test_the_rooms_catalogs_hold_their_own_texts():
    assert "What happens next" in extracted("notice") and "What happens next" not in extracted("atauly")
    assert "Youth practice" in extracted("plans")  # a measure's name, from plans/parameters/measures.yaml
    assert "dwelling_yurt" in extracted("vision")  # a code the photos page translates
    # the calibration report's source notes: from targets.yaml (keys = source) and the regions' figures,
    # a name bound to a text and a sum of texts followed
    core = extracted("atauly")
    assert "BNS, 1 Jan 2025 (turantimes.kz 57276)" in core and "1 Dec 2025 (tengrinews 589638)" in core
    assert "estimate: share of the national remainder (not published in the fact sheet)" in core
    assert any(m.endswith("≈689.6k at 1 Sep 2025 [L]") for m in core)
    assert "BNS, 1 Jan 2025 (turantimes.kz 57276)" not in extracted("plans")


def test_the_yaml_extractor_reads_labels_and_bodies_only():
    text = (
        b"a:\n  label: First\n  reference: not this\n  b:\n    - responsible_body: Second\n      label: ''\n"
    )
    out = list(extract_yaml_labels(io.BytesIO(text), None, None, {}))
    assert [(line, msg) for line, _f, msg, _c in out] == [(2, "First"), (5, "Second")]
