"""One data contract (atauly.registry.schema): the service's JSON and the law's inputs agree with it.

The API's pydantic models (atauly.service.schemas) and the law's input map (what
``atauly.law.simulation.build_simulation`` reads from the registry's tables into OpenFisca variables)
each name registry columns; a column renamed, retyped or given other codes in one place and not the
others fails here, not in production.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import typing

import pytest

from atauly.registry import codes
from atauly.registry.schema import FAMILIES, INCOMES, PERSONS, TABLES

# --- the service's JSON ----------------------------------------------------------------------------

_JSON_KIND = {str: "str", int: "int", float: "float", bool: "bool", dt.date: "date"}


def _field_kind(annotation) -> tuple[str, tuple | None]:
    """The registry kind of a pydantic field's type, and its codes when it is a Literal."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return "category", tuple(typing.get_args(annotation))
    if args and typing.get_origin(annotation) is not typing.Literal:  # Optional[X] / X | None
        return _field_kind(args[0])
    return _JSON_KIND[annotation], None


def _schema_pairs():
    from atauly.service import schemas

    return [(schemas.FamilyIn, FAMILIES), (schemas.PersonIn, PERSONS), (schemas.IncomeIn, INCOMES)]


@pytest.mark.parametrize("pair", range(3), ids=["families", "persons", "incomes"])
def test_service_schemas_follow_the_registry_schema(pair):
    model, table = _schema_pairs()[pair]
    columns = {c.name: c for c in table.columns}
    # The JSON of one table lacks only the reference the request's nesting gives (a person's family).
    implied = {"family_id"} if table is PERSONS else set()
    assert set(model.model_fields) == set(columns) - implied, (
        f"{model.__name__} and the {table.name} table list different columns"
    )
    for name, info in model.model_fields.items():
        column = columns[name]
        kind, allowed = _field_kind(info.annotation)
        expected = "str" if column.kind in ("month",) else column.kind
        if column.kind == "category" and column.allowed == tuple(r.kato for r in codes.REGIONS):
            expected = "str"  # region_kato: a 9-digit pattern in the JSON, the region list in the validator
        assert kind == expected, f"{model.__name__}.{name}: {kind} in the JSON, {column.kind} in the contract"
        if allowed is not None:
            assert set(allowed) == set(column.allowed), (
                f"{model.__name__}.{name}: other codes than the contract"
            )
        if column.required and column.name not in implied:
            assert info.is_required(), (
                f"{model.__name__}.{name}: required by the contract, optional in the JSON"
            )


# --- the law's input map ----------------------------------------------------------------------------

_TABLE_OF = {"fam": FAMILIES, "per": PERSONS, "inc": INCOMES}
_LAW_KIND = {"date": dt.date, "bool": bool, "int": int, "float": float}


def law_input_map() -> dict[str, tuple[str, str]]:
    """Law variable → (registry table, column), read from the source of the law's table-to-simulation
    adapter: the dict of per-entity inputs it sets, each value reading ``fam[...]`` or ``per[...]``."""
    from atauly.law import simulation

    tree = ast.parse(inspect.getsource(simulation.build_simulation))
    assigned = {  # `regions = code_indices(fam["region_kato"], …)`: a name read by the map
        node.targets[0].id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    }

    def reads(expr) -> list[tuple[str, str]]:
        out = []
        for sub in ast.walk(expr):
            if (
                isinstance(sub, ast.Subscript)
                and isinstance(sub.value, ast.Name)
                and sub.value.id in _TABLE_OF
                and isinstance(sub.slice, ast.Constant)
            ):
                out.append((sub.value.id, sub.slice.value))
            elif isinstance(sub, ast.Name) and sub.id in assigned and sub.id not in _TABLE_OF:
                out.extend(reads(assigned[sub.id]))
        return out

    found: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and (columns := reads(value)):
                frame, column = columns[0]
                found[key.value] = (_TABLE_OF[frame].name, column)
    return found


def test_the_law_input_map_is_read():
    found = law_input_map()
    assert len(found) >= 10, found  # the adapter's map was found, not some other dict
    assert found["birth_date"] == ("persons", "birth_date")
    assert found["region"] == ("families", "region_kato")


def test_the_law_reads_registry_columns_of_its_entity_and_type():
    from atauly.law.system import tax_benefit_system

    tbs = tax_benefit_system()
    entity_table = {"family": "families", "person": "persons"}
    for variable, (table, column) in law_input_map().items():
        assert variable in tbs.variables, f"{variable}: not a variable of the law"
        var = tbs.variables[variable]
        assert entity_table[var.entity.key] == table, (
            f"{variable}: a {var.entity.key} variable fed from {table}"
        )
        col = TABLES[table].column(column)  # KeyError: the law reads a column the contract does not have
        if col.kind == "category":
            # Enums are passed as indices into the contract's code list: the same number of codes.
            assert var.possible_values is not None, f"{variable}: not an enumeration, {column} is a code"
            assert len(var.possible_values) == len(col.allowed or ()), (
                f"{variable}: codes differ from {column}"
            )
        else:
            assert var.value_type is _LAW_KIND[col.kind], (
                f"{variable}: {var.value_type} vs {col.kind} {column}"
            )


def test_income_sources_are_the_same_everywhere():
    from atauly.law.variables.inputs import INCOME_VARIABLES

    assert tuple(INCOME_VARIABLES) == codes.INCOME_SOURCES == INCOMES.column("source").allowed
