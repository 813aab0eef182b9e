"""Stage 3: plans that bring families out of hardship — for each family, district and region (issue 19).

- :mod:`.catalog` the measures and planning rules as dated YAML parameters with sources;
- :mod:`.people` the conditional families by the law and their members;
- :mod:`.eligibility` who may take which measure, costs and expected effects;
- :mod:`.optimise` district and region plans (HiGHS: MILP when small, LP + rounding + repair at scale);
- :mod:`.national` the national/region plan from a registry, what-if budgets, output tables;
- :mod:`.family` one family's plan; :mod:`.documents` its individual assistance plan and social contract;
- :mod:`.learn` outcomes and effects re-estimated from them (with lottery tie-breaking).
"""

#: Each name is imported from its module when first used: the catalogue and the population need pandas and
#: the registry's reader, the optimiser scipy.optimize; ``atauly plans family`` starts its PDF writer
#: (:mod:`.pdfworker`) before pandas is imported, and one family's plan never needs the optimiser.
_LAZY = {
    "Catalog": "catalog",
    "CatalogError": "catalog",
    "Measure": "catalog",
    "load_catalog": "catalog",
    "Population": "people",
    "build_population": "people",
    "Plan": "optimise",
    "PlanInfeasibleError": "optimise",
    "make_plan": "optimise",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
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
