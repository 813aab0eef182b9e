"""The catalogue of active measures and the planning rules: dated YAML parameters with their sources.

Values are read at a date (a plan's first month), like the law's parameters: each field takes the value of
the latest date not after it. Nothing about a measure is in Python; the YAML says where each value comes
from and whether it is confirmed or still to verify.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

PARAMETERS = Path(__file__).parent / "parameters"
MEASURES_FILE = PARAMETERS / "measures.yaml"
PLANNING_FILE = PARAMETERS / "planning.yaml"

FUNDING_SOURCES = ("republican_budget", "local_budget")


class CatalogError(ValueError):
    """A measures or planning file that cannot be used, with the field and the rule."""


@dataclass(frozen=True)
class Eligibility:
    min_age: int = 18
    max_age: int = 62
    education: tuple[str, ...] = ()  # empty: any
    statuses: tuple[str, ...] = ()  # empty: any
    needs_able_bodied: bool = True
    needs_health_condition: bool = False
    regions: tuple[str, ...] = ()  # empty: any
    settlement: tuple[str, ...] = ()  # empty: any


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    funding_source: str
    responsible_body: str
    reference: str
    status: str
    effect_reference: str
    eligibility: Eligibility
    amount_mrp_month: float
    months: int
    once_mrp: float
    per_member_mrp: float
    places_per_10k: float
    effect_mean_mrp: float
    effect_sd_mrp: float
    max_months: int | None = None
    modifiers: dict[str, dict[str, float]] = field(default_factory=dict)

    def cost_mrp(self, members) -> object:
        """Cost to the budget in MRP for one participant in a family of ``members`` (array or number)."""
        return self.amount_mrp_month * self.months + self.once_mrp + self.per_member_mrp * members


@dataclass(frozen=True)
class Planning:
    horizon_months: int
    start_spread_months: int
    budget_mrp_per_10k: dict[str, float]
    equity_min_children: int
    equity_floor_factor: float
    progress_weight: float
    candidate_multiple: float
    tie_band: float


@dataclass(frozen=True)
class SubgroupEffect:
    """A measure's effect in one subgroup, re-estimated from outcomes (``atauly plans learn``): MRP a month,
    with its standard error and the numbers compared. ``dimension`` is one of age_band, sex, education,
    disability, settlement (see :func:`atauly.plans.learn.subgroup_labels`)."""

    measure: str
    dimension: str
    subgroup: str
    estimate_mrp: float
    se_mrp: float
    treated: int
    controls: int


@dataclass(frozen=True)
class Catalog:
    date: dt.date
    mrp: float  # tenge, from the law's parameters (general.mrp)
    measures: tuple[Measure, ...]
    planning: Planning
    #: Effects by subgroup learned from outcomes: each member's expected gain is the measure's mean moved by
    #: the (shrunk) differences of the member's subgroups (:mod:`.eligibility`); empty: the mean alone.
    subgroups: tuple[SubgroupEffect, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.measures]

    def measure(self, key: str) -> Measure:
        for m in self.measures:
            if m.key == key:
                return m
        raise KeyError(f"unknown measure {key!r}: one of {', '.join(self.keys)}")

    def with_effects(self, effects: dict[str, tuple[float, float]]) -> Catalog:
        """The same catalogue with effects (mean, sd in MRP a month) replaced, e.g. re-estimated ones."""
        from dataclasses import replace

        measures = tuple(
            replace(m, effect_mean_mrp=effects[m.key][0], effect_sd_mrp=effects[m.key][1])
            if m.key in effects
            else m
            for m in self.measures
        )
        return replace(self, measures=measures)

    def with_subgroups(self, table) -> Catalog:
        """The same catalogue planning with effects by subgroup (a table of
        :data:`atauly.plans.learn.SUBGROUP_EFFECT_COLUMNS`, e.g. from ``effects.json``); rows of measures
        it does not hold, or without a finite estimate and a positive standard error, are left out."""
        from dataclasses import replace

        rows = []
        keys = set(self.keys)
        for r in [] if table is None else table.to_dict(orient="records"):
            est, se = float(r["estimate_mrp"]), float(r["se_mrp"])
            if str(r["measure"]) not in keys or not (est == est and abs(est) < float("inf")) or not se > 0:
                continue
            rows.append(
                SubgroupEffect(
                    str(r["measure"]), str(r["dimension"]), str(r["subgroup"]), est, se,
                    int(r["treated"]), int(r["controls"]),
                )
            )  # fmt: skip
        return replace(self, subgroups=tuple(rows))


def _at(values: dict, date: dt.date, where: str):
    """The value of a dated mapping at ``date``: the latest key not after it."""
    if not isinstance(values, dict) or not values:
        raise CatalogError(f"{where}: expected dated values (a mapping of dates to values)")
    dated = sorted((dt.date.fromisoformat(str(k)), v) for k, v in values.items())
    chosen = [v for d, v in dated if d <= date]
    if not chosen:
        raise CatalogError(f"{where}: no value in force on {date} (first value from {dated[0][0]})")
    return chosen[-1]


def _measure(key: str, spec: dict, date: dt.date) -> Measure:
    where = f"measures.{key}"
    for name in ("label", "funding_source", "responsible_body", "reference", "status", "values"):
        if name not in spec:
            raise CatalogError(f"{where}: field '{name}' is required")
    if spec["funding_source"] not in FUNDING_SOURCES:
        raise CatalogError(
            f"{where}.funding_source: {spec['funding_source']!r} is not one of {', '.join(FUNDING_SOURCES)}"
        )
    if spec["status"] not in ("confirmed", "to_verify"):
        raise CatalogError(f"{where}.status: must be confirmed or to_verify, got {spec['status']!r}")
    v = _at(spec["values"], date, f"{where}.values")
    el = spec.get("eligibility") or {}
    eligibility = Eligibility(
        min_age=int(el.get("min_age", 18)),
        max_age=int(el.get("max_age", 62)),
        education=tuple(el.get("education", ())),
        statuses=tuple(el.get("statuses", ())),
        needs_able_bodied=bool(el.get("needs_able_bodied", True)),
        needs_health_condition=bool(el.get("needs_health_condition", False)),
        regions=tuple(str(r) for r in el.get("regions", ())),
        settlement=tuple(el.get("settlement", ())),
    )
    effect = v.get("effect_mrp_month") or {}
    if "mean" not in effect or "sd" not in effect:
        raise CatalogError(f"{where}.values.effect_mrp_month: needs mean and sd (MRP a month)")
    numbers = {
        "amount_mrp_month": float(v.get("amount_mrp_month", 0)),
        "months": int(v.get("months", 1)),
        "once_mrp": float(v.get("once_mrp", 0)),
        "per_member_mrp": float(v.get("per_member_mrp", 0)),
        "places_per_10k": float(v.get("places_per_10k", 0)),
    }
    for name, value in numbers.items():
        if value < 0:
            raise CatalogError(f"{where}.values.{name}: must be ≥ 0, got {value}")
    if float(effect["sd"]) <= 0:
        raise CatalogError(f"{where}.values.effect_mrp_month.sd: must be > 0, got {effect['sd']}")
    return Measure(
        key=key,
        label=str(spec["label"]),
        funding_source=spec["funding_source"],
        responsible_body=str(spec["responsible_body"]),
        reference=str(spec["reference"]),
        status=spec["status"],
        effect_reference=str(spec.get("effect_reference", "")),
        eligibility=eligibility,
        effect_mean_mrp=float(effect["mean"]),
        effect_sd_mrp=float(effect["sd"]),
        max_months=v.get("max_months"),
        modifiers={k: {kk: float(vv) for kk, vv in d.items()} for k, d in (v.get("modifiers") or {}).items()},
        **numbers,
    )


@cache
def _yaml(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        # libyaml's safe loader when PyYAML has it (the same documents, several times faster)
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def _mrp(date: dt.date) -> float:
    from atauly.law.system import tax_benefit_system

    return float(tax_benefit_system().parameters(date.isoformat()).general.mrp)


def load_catalog(
    date: dt.date | str,
    measures_file: Path | str | None = None,
    planning_file: Path | str | None = None,
    only: list[str] | None = None,
) -> Catalog:
    """The measures and planning rules in force on ``date``; ``only`` keeps some measures."""
    date = dt.date.fromisoformat(str(date)[:10]) if not isinstance(date, dt.date) else date
    spec = _yaml(str(measures_file or MEASURES_FILE))
    if not isinstance(spec, dict) or not isinstance(spec.get("measures"), dict) or not spec["measures"]:
        raise CatalogError(f"{measures_file or MEASURES_FILE}: expected a non-empty mapping 'measures'")
    measures = tuple(_measure(k, v, date) for k, v in spec["measures"].items())
    if only:
        unknown = sorted(set(only) - {m.key for m in measures})
        if unknown:
            raise CatalogError(f"unknown measure(s) {', '.join(unknown)}")
        measures = tuple(m for m in measures if m.key in only)
    p = _yaml(str(planning_file or PLANNING_FILE))
    equity = _at(p["equity"]["values"], date, "equity")
    budget = _at(p["budget_mrp_per_10k_families"]["values"], date, "budget_mrp_per_10k_families")
    planning = Planning(
        horizon_months=int(_at(p["horizon_months"]["values"], date, "horizon_months")),
        start_spread_months=int(_at(p["start_spread_months"]["values"], date, "start_spread_months")),
        budget_mrp_per_10k={s: float(budget.get(s, 0)) for s in FUNDING_SOURCES},
        equity_min_children=int(equity["min_children"]),
        equity_floor_factor=float(equity["floor_factor"]),
        progress_weight=float(_at(p["progress_weight"]["values"], date, "progress_weight")),
        candidate_multiple=float(_at(p["candidate_multiple"]["values"], date, "candidate_multiple")),
        tie_band=float(_at(p["tie_band"]["values"], date, "tie_band")),
    )
    return Catalog(date=date, mrp=_mrp(date), measures=measures, planning=planning)


def plan_catalog(quarter, measures_file=None, effects: dict | None = None) -> Catalog:
    """The catalogue in force on the first day of ``quarter``, with ``effects`` (re-estimated ones) when
    given. Here, not in :mod:`.national`, so that one family's plan does not import the optimiser."""
    from atauly.law.simulation import Quarter

    q = Quarter.parse(str(quarter))
    catalog = load_catalog(f"{q.first_month}-01", measures_file)
    return catalog.with_effects(effects) if effects else catalog
