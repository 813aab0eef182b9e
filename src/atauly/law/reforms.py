"""Parametric reforms: a YAML file of parameter overrides (or CLI shortcuts) applied as an OpenFisca Reform.

File format::

    name: Poverty line at 80% of the subsistence minimum      # optional
    parameters:
      poverty_line.share_of_subsistence_minimum: 0.8          # this value at every date
      assets.vehicle_disqualifies: false
      income.excluded.large_family_benefit:                   # or dated values
        2020-01-01: true
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd
import yaml
from openfisca_core.parameters import Parameter, ParameterNode
from openfisca_core.periods import instant
from openfisca_core.reforms import Reform

from atauly.registry import Registry

from .compute import by_region, compute
from .system import tax_benefit_system

EVERY_DATE = "2000-01-01"


class ReformError(ValueError):
    pass


def _leaf_names(node: ParameterNode, prefix: str = "") -> list[str]:
    names = []
    for key, child in node.children.items():
        name = f"{prefix}{key}"
        if isinstance(child, ParameterNode):
            names += _leaf_names(child, name + ".")
        else:
            names.append(name)
    return names


def _find(root: ParameterNode, path: str) -> Parameter:
    node = root
    for part in path.split("."):
        children = getattr(node, "children", {})
        if part not in children:
            close = difflib.get_close_matches(path, _leaf_names(root), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ReformError(f"unknown parameter '{path}'{hint}")
        node = children[part]
    if not isinstance(node, Parameter):
        raise ReformError(f"'{path}' is a group of parameters; name one of its leaves")
    return node


def _check_value(path: str, parameter: Parameter, value: object) -> float | bool:
    is_switch = isinstance(parameter.values_list[0].value, bool)
    if is_switch and isinstance(value, bool):
        return value
    if not is_switch and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    expected = "true or false" if is_switch else "a number"
    raise ReformError(f"value of '{path}' must be {expected}, got {value!r}")


def normalise_overrides(overrides: dict) -> dict[str, dict[str, float | bool]]:
    """{path: value | {date: value}} → {path: {date: value}}, checked against the parameter tree."""
    if not isinstance(overrides, dict) or not overrides:
        raise ReformError("a reform needs at least one parameter override")
    root = tax_benefit_system().parameters
    out: dict[str, dict[str, float | bool]] = {}
    for path, spec in overrides.items():
        parameter = _find(root, str(path))
        if isinstance(spec, dict):
            dated = {}
            for date, value in spec.items():
                try:
                    instant(str(date))
                except (ValueError, TypeError) as exc:
                    raise ReformError(f"'{path}': {date!r} is not a date YYYY-MM-DD") from exc
                dated[str(date)] = _check_value(path, parameter, value)
            out[str(path)] = dated
        else:
            out[str(path)] = {EVERY_DATE: _check_value(path, parameter, spec)}
    return out


def load_reform_file(path: Path | str) -> tuple[str, dict]:
    path = Path(path)
    if not path.exists():
        raise ReformError(f"reform file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReformError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or "parameters" not in data:
        raise ReformError(f"{path} must be a mapping with a 'parameters' key (see atauly.law.reforms)")
    return str(data.get("name") or path.stem), data["parameters"]


class ParameterOverrides(Reform):
    """A reform that replaces parameter values from the given dates on."""

    name = "Parameter overrides"

    def __init__(self, baseline, overrides: dict):
        self.overrides = normalise_overrides(overrides)
        super().__init__(baseline)

    def apply(self) -> None:
        def modify(parameters: ParameterNode) -> ParameterNode:
            for path, dated in self.overrides.items():
                parameter = _find(parameters, path)
                for date, value in sorted(dated.items()):
                    parameter.update(start=instant(date), value=value)
            return parameters

        self.modify_parameters(modifier_function=modify)


#: The bounds of the poverty-line shortcut (a share of the subsistence minimum): above 0, at most 5.
POVERTY_LINE_SHARE_MAX = 5.0
#: The comparison's columns a reader sees first (the CSV has them all).
SUMMARY_COLUMNS = [
    "region",
    "baseline_families",
    "reform_families",
    "delta_families",
    "baseline_budget_monthly",
    "reform_budget_monthly",
    "delta_budget_monthly",
]
MONEY_COLUMNS = ("baseline_budget_monthly", "reform_budget_monthly", "delta_budget_monthly")


def reform_from(
    set_file: Path | str | None = None, poverty_line_share: float | None = None
) -> tuple[str, dict]:
    """A reform's name and overrides from a YAML file of overrides, the poverty-line shortcut (the
    subsistence-minimum share of the line, which then overrides the file's), or both; checked against
    the parameter tree (:class:`ReformError` otherwise)."""
    if set_file is None and poverty_line_share is None:
        raise ReformError("a reform needs a file of parameter overrides or a poverty-line share")
    overrides: dict = {}
    name = "reform"
    if set_file is not None:
        name, overrides = load_reform_file(set_file)
        overrides = dict(overrides)
    if poverty_line_share is not None:
        if not 0 < poverty_line_share <= POVERTY_LINE_SHARE_MAX:
            raise ReformError(
                f"the poverty-line share must be in (0, {POVERTY_LINE_SHARE_MAX:g}], got {poverty_line_share}"
            )
        overrides["poverty_line.share_of_subsistence_minimum"] = poverty_line_share
        name = name if set_file is not None else f"poverty line {poverty_line_share:g} × subsistence minimum"
    normalise_overrides(overrides)
    return name, overrides


def reformed_system(overrides: dict):
    return ParameterOverrides(tax_benefit_system(), overrides)


def compare(registry: Registry, quarter: str, overrides: dict) -> pd.DataFrame:
    """Recipients and monthly budget by region, baseline vs reform (with a national total row)."""
    base = compute(registry, quarter)
    reform = compute(registry, quarter, tbs=reformed_system(overrides))
    return summarise(base, reform)


def summarise(base: pd.DataFrame, reform: pd.DataFrame) -> pd.DataFrame:
    """Families and persons entitled and monthly budget by region: baseline, reform and delta."""
    b, r = by_region(base).set_index("region_kato"), by_region(reform).set_index("region_kato")
    index = [k for k in [*b.index, *r.index] if k != "total"]
    index = sorted(set(index), key=index.index) + ["total"]
    table = pd.DataFrame(index=pd.Index(index, name="region_kato"))
    table["region"] = b["region"].combine_first(r["region"]).reindex(index)
    for name, col in (
        ("families", "entitled"),
        ("persons", "persons_entitled"),
        ("budget_monthly", "monthly_budget"),
    ):
        table[f"baseline_{name}"] = b[col].reindex(index).fillna(0)
        table[f"reform_{name}"] = r[col].reindex(index).fillna(0)
        table[f"delta_{name}"] = table[f"reform_{name}"] - table[f"baseline_{name}"]
    for col in table.columns:
        if col.endswith(("families", "persons")):
            table[col] = table[col].astype(int)
        elif col.endswith("budget_monthly"):
            table[col] = table[col].astype(float).round(2)
    return table.reset_index()
