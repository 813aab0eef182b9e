"""The parameter tree's layout (as openfisca/country-template): every folder described by an index.yaml,
every value with a description, a reference and a unit, money in ``currency-KZT``."""

from pathlib import Path

import pytest
from openfisca_core.parameters import Parameter, ParameterNode

from atauly.law.system import PARAMETERS_DIR, tax_benefit_system


def _nodes(node: ParameterNode):
    yield node
    for child in node.children.values():
        if isinstance(child, ParameterNode):
            yield from _nodes(child)


def _leaves(node: ParameterNode):
    for child in node.children.values():
        if isinstance(child, ParameterNode):
            yield from _leaves(child)
        else:
            yield child


@pytest.mark.parametrize(
    "folder", sorted(p for p in PARAMETERS_DIR.rglob("*") if p.is_dir()) + [PARAMETERS_DIR]
)
def test_every_parameter_folder_has_an_index(folder: Path):
    assert (folder / "index.yaml").is_file(), f"{folder.relative_to(PARAMETERS_DIR.parent)} has no index.yaml"


def test_every_folder_is_described_with_a_reference():
    for node in _nodes(tax_benefit_system().parameters):
        if node.file_path and Path(node.file_path).is_dir():
            assert node.description, node.name or "parameters"
            assert node.metadata.get("reference"), node.name or "parameters"


def test_every_value_has_a_description_and_a_unit():
    leaves = list(_leaves(tax_benefit_system().parameters))
    assert len(leaves) > 50
    for leaf in leaves:
        assert isinstance(leaf, Parameter)
        assert leaf.description, leaf.name
        assert leaf.metadata.get("unit"), leaf.name
        assert leaf.metadata.get("unit") != "currency", f"{leaf.name}: write currency-KZT"


def test_money_parameters_are_in_kzt():
    units = {leaf.name: leaf.metadata.get("unit") for leaf in _leaves(tax_benefit_system().parameters)}
    for name in ("general.mrp", "subsistence_minimum.budget", "median_income.national"):
        assert units[name] == "currency-KZT"
