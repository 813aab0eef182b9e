"""National, region and district plans from a registry: read, apply the law, plan, write.

``atauly plans national`` calls :func:`national_plan` then :func:`write_plan`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.registry import Registry

from .catalog import Catalog, plan_catalog
from .optimise import Plan, make_plan
from .people import Population, build_population

__all__ = [
    "national_plan",
    "plan_and_write",
    "plan_catalog",
    "population",
    "population_from_files",
    "what_if",
]


def population(
    registry: Registry,
    quarter,
    catalog: Catalog,
    law: pd.DataFrame | None = None,
    region: str | None = None,
    families: list[str] | None = None,
) -> Population:
    """The conditional families of ``registry`` (of ``region`` when given) by the law for ``quarter``."""
    from atauly.law.compute import compute

    if region is not None:
        mask = (registry.families["region_kato"].astype(str) == str(region)).to_numpy(dtype=bool)
        if not mask.any():
            raise ValueError(f"no family of region {region} in the registry")
        registry = registry.take(mask)
    if law is None:
        law = compute(registry, quarter)
    return build_population(registry, law, catalog.planning.equity_min_children, families)


def national_plan(
    registry: Registry | None,
    quarter,
    *,
    region: str | None = None,
    budget_scale: float = 1.0,
    places_scale: float = 1.0,
    law: pd.DataFrame | None = None,
    catalog: Catalog | None = None,
    quotas: dict[str, int] | None = None,
    equity: bool = True,
    seed: int = 0,
    families: list[str] | None = None,
    pop: Population | None = None,
) -> tuple[Plan, Population, Catalog]:
    from atauly.law.simulation import Quarter

    q = Quarter.parse(str(quarter))
    catalog = catalog or plan_catalog(q)
    if registry is None:  # the fast path: only the conditional families were read (atauly.plans.read)
        if pop is None:
            raise ValueError("national_plan needs a registry or a population")
    else:
        pop = population(registry, q, catalog, law=law, region=region, families=families)
    plan = make_plan(
        pop,
        catalog,
        first_month=q.first_month,
        budget_scale=budget_scale,
        places_scale=places_scale,
        quotas=quotas,
        equity=equity,
        seed=seed,
    )
    plan.summary.update(
        {
            "quarter": str(q),
            "region": region,
            "budget_scale": budget_scale,
            "places_scale": places_scale,
            # effects by subgroup the expected gains used (0: each measure's mean, with the prior's modifiers)
            "subgroup_effects_used": len(catalog.subgroups),
        }
    )
    return plan, pop, catalog


def plan_and_write(
    registry: Registry | None,
    quarter,
    out: Path,
    *,
    catalog: Catalog,
    pop: Population | None = None,
    what_if_scales: list[float] | None = None,
    recipients_only: bool = False,
    subgroups: pd.DataFrame | None = None,
    **options,
) -> tuple[Plan, pd.DataFrame | None]:
    """What ``atauly plans national`` does: :func:`national_plan` (``options`` are its keywords), the
    what-if table under ``what_if_scales`` (budget scales) when given, then the tables (:func:`write_plan`)
    and the akimat's report (Russian) in ``out``. ``recipients_only`` is recorded in the summary (the
    families were restricted by the caller: ``families`` or the population it read). ``subgroups``: effects
    by subgroup learned from outcomes (``effects.json``), put in the summary and the report."""
    from .report import write_akimat_report

    plan, pop, catalog = national_plan(registry, quarter, catalog=catalog, pop=pop, **options)
    plan.summary["recipients_only"] = bool(recipients_only)
    if subgroups is not None:
        plan.summary["effects_by_subgroup"] = [
            {k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in subgroups.to_dict(orient="records")
        ]
    whatif = None
    if what_if_scales is not None:
        first_month = plan.summary["first_month"]
        whatif = what_if(pop, catalog, first_month, budget_scales=what_if_scales, seed=options.get("seed", 0))
    write_plan(plan, out, whatif)
    write_akimat_report(plan, catalog, out, lang="ru", subgroups=subgroups)
    return plan, whatif


def population_from_files(
    directory,
    view: str | None,
    law: pd.DataFrame,
    catalog: Catalog,
    region: str | None = None,
    families=None,
) -> Population:
    """The population read with Parquet filters: only the law's conditional families and their members
    (only those in ``families`` when given, e.g. the quarter's recipients). Places and budgets still scale
    on all the registry's families."""
    from .read import conditional_registry

    if families is not None:
        wanted = {str(f) for f in families}
        law = law[law["family_id"].astype(str).isin(wanted).to_numpy(dtype=bool)].reset_index(drop=True)

    reg, law_sub, by_district, by_region = conditional_registry(directory, view, law, region)
    return build_population(
        reg,
        law_sub,
        catalog.planning.equity_min_children,
        district_families=by_district,
        region_families=by_region,
    )


def what_if(
    pop: Population,
    catalog: Catalog,
    first_month: str,
    budget_scales=(0.5, 1.0, 1.5, 2.0),
    places_scales=(1.0,),
    seed: int = 0,
) -> pd.DataFrame:
    """Expected exits, families planned and cost per exit under other budgets and places."""
    rows = []
    for b in budget_scales:
        for p in places_scales:
            plan = make_plan(pop, catalog, first_month=first_month, budget_scale=b, places_scale=p, seed=seed)
            s = plan.summary
            rows.append(
                {
                    "budget_scale": b,
                    "places_scale": p,
                    "budget_available_kzt": s["budget_available_kzt"],
                    "budget_planned_kzt": s["budget_planned_kzt"],
                    "persons_planned": s["persons_planned"],
                    "families_planned": s["families_planned"],
                    "expected_exits": s["expected_exits"],
                    "cost_per_exit_kzt": s["cost_per_exit_kzt"],
                }
            )
    return pd.DataFrame(rows)


def write_plan(plan: Plan, out: Path, whatif: pd.DataFrame | None = None) -> list[Path]:
    """Parquet tables, summary.json, and the spreadsheet for the akimat (plan.xlsx)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {
        "assignments": plan.assignments,
        "capacity": plan.capacity,
        "districts": plan.districts,
        "regions": plan.regions,
        "budget": plan.budget,
        "targets": plan.targets,
        "lottery": plan.lottery,
    }
    if whatif is not None:
        tables["whatif"] = whatif
    for name, df in tables.items():
        path = out / f"{name}.parquet"
        df.to_parquet(path, index=False)
        written.append(path)
    summary = {**plan.summary, "notes": plan.notes}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=_json))
    written.append(out / "summary.json")
    return written


def _json(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(type(value))
