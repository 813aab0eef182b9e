"""The region whose poverty-line values apply, and the lookup of a parameter value per region."""

from datetime import date

import numpy as np
from openfisca_core.indexed_enums import Enum
from openfisca_core.periods import MONTH
from openfisca_core.variables import Variable

from ..entities import Family
from .inputs import Region


def by_region(node, region):
    """``node[region]`` for a vector of regions: one parameter value per region, picked by enum index.

    Same result as OpenFisca's vectorial node indexing, without its per-element Python loop.
    """
    values = np.array([node[name] for name in region.possible_values.names], dtype=np.float64)
    return values[np.asarray(region)]


#: Oblasts created by decree of 4 May 2022, in force 8 Jun 2022 (fact sheet §5), and the oblast their
#: territory belonged to before (Abai from East Kazakhstan, Zhetisu from Almaty region, Ulytau from
#: Karaganda).
REGIONS_CREATED = {"abai": "east_kazakhstan", "zhetisu": "almaty_region", "ulytau": "karaganda"}
REGIONS_CREATED_ON = date(2022, 6, 8)


def _parents() -> np.ndarray:
    """For each region (by enum index) the region whose values applied before 8 Jun 2022."""
    names = list(Region.names)
    parent = np.arange(len(names))
    for new, old in REGIONS_CREATED.items():
        parent[names.index(new)] = names.index(old)
    return parent


PARENT_REGION = _parents()


class parameter_region(Variable):
    value_type = Enum
    possible_values = Region
    default_value = Region.astana
    entity = Family
    definition_period = MONTH
    label = (
        "Region whose poverty-line values apply: the region of residence, or, before 8 Jun 2022, the oblast "
        "that a region created then (Abai, Zhetisu, Ulytau) was part of"
    )
    reference = "Decree of 4 May 2022 (in force 8 Jun 2022), fact sheet §5; Social Code Art. 120 p.4"

    def formula(family, period, parameters):
        """Before June 2022: a region created on 8 Jun 2022 takes the values of the oblast it was part of."""
        return PARENT_REGION[np.asarray(family("region", period))]

    def formula_2022_06(family, period, parameters):
        """June 2022: the oblast it was part of before the 8th (by the reference date), itself from then."""
        region = np.asarray(family("region", period))
        before = family("reference_date", period) < np.datetime64(REGIONS_CREATED_ON.isoformat(), "D")
        return np.where(before, PARENT_REGION[region], region)

    def formula_2022_07(family, period, parameters):
        """From July 2022: the region of residence."""
        return np.asarray(family("region", period))
