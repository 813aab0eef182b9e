"""Stage 3: plans that bring families out of hardship — for each family, district and region (issue 19).

- :mod:`.catalog` the measures and planning rules as dated YAML parameters with sources;
- :mod:`.people` the conditional families by the law and their members;
- :mod:`.eligibility` who may take which measure, costs and expected effects;
- :mod:`.optimise` district and region plans (HiGHS: MILP when small, LP + rounding + repair at scale);
- :mod:`.national` the national/region plan from a registry, what-if budgets, output tables;
- :mod:`.family` one family's plan; :mod:`.documents` its individual assistance plan and social contract;
- :mod:`.learn` outcomes and effects re-estimated from them (with lottery tie-breaking).
"""

from .catalog import Catalog, CatalogError, Measure, load_catalog
from .people import Population, build_population

#: Imported when first used: the optimiser needs scipy.optimize, which one family's plan does not.
_FROM_OPTIMISE = ("Plan", "PlanInfeasibleError", "make_plan")


def __getattr__(name: str):
    if name in _FROM_OPTIMISE:
        from . import optimise

        return getattr(optimise, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Catalog",
    "CatalogError",
    "Measure",
    "Plan",
    "PlanInfeasibleError",
    "Population",
    "build_population",
    "load_catalog",
    "make_plan",
]
