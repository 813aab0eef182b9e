"""What a plan may spend: places per district and measure, budgets per region and funding source."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .catalog import FUNDING_SOURCES, Catalog
from .people import Population


def capacity_table(
    pop: Population,
    catalog: Catalog,
    places_scale: float = 1.0,
    places: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Places per district and measure for the plan's year: ``places_per_10k`` × the district's families
    (all families of the registry) ÷ 10,000, rounded half up; ``places`` (district, measure, places)
    overrides cells, ``places_scale`` scales all (what-if)."""
    districts = pd.Index(sorted(pd.unique(pop.families["district"])))
    region = pop.families.drop_duplicates("district").set_index("district")["region_kato"].reindex(districts)
    n = pop.district_families.reindex(districts).fillna(0).to_numpy(dtype=float)
    rows = []
    for m in catalog.measures:
        value = np.floor(m.places_per_10k * n / 10_000 * places_scale + 0.5).astype(np.int64)
        rows.append(
            pd.DataFrame(
                {
                    "district": districts,
                    "region_kato": region.to_numpy(),
                    "measure": m.key,
                    "funding_source": m.funding_source,
                    "places": value,
                }
            )
        )
    cap = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if places is not None and len(places):
        _override_places(cap, places, places_scale)
    return cap


def _override_places(cap: pd.DataFrame, places: pd.DataFrame, places_scale: float) -> None:
    """Put the given places (district, measure, places) into ``cap``, scaled; unknown cells are an error."""
    over = places.assign(district=places["district"].astype(str)).set_index(["district", "measure"])
    key = pd.MultiIndex.from_frame(cap[["district", "measure"]])
    found = over.index.isin(key)
    if not found.all():
        unknown = over.index[~found][:3].tolist()
        raise ValueError(f"places given for unknown district/measure pairs, e.g. {unknown}")
    hit = key.get_indexer(over.index)
    values = cap["places"].to_numpy().copy()
    values[hit] = np.floor(over["places"].to_numpy(dtype=float) * places_scale + 0.5).astype(np.int64)
    cap["places"] = values


def budget_table(pop: Population, catalog: Catalog, budget_scale: float = 1.0) -> pd.DataFrame:
    """Budget per region and funding source for the plan's year, MRP (pooled by region)."""
    regions = sorted(pd.unique(pop.families["region_kato"]))
    n = pop.region_families.reindex(regions).fillna(0).to_numpy(dtype=float)
    rows = []
    for s in FUNDING_SOURCES:
        rows.append(
            pd.DataFrame(
                {
                    "region_kato": regions,
                    "funding_source": s,
                    "budget_mrp": catalog.planning.budget_mrp_per_10k[s] * n / 10_000 * budget_scale,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
