"""Collect the OpenFisca YAML test cases under tests/law/yaml/ as pytest items."""

from openfisca_core.tools.test_runner import YamlFile

from atauly.law.system import tax_benefit_system


def pytest_collect_file(parent, file_path):
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "yaml":
        return YamlFile.from_parent(
            parent, path=file_path, tax_benefit_system=tax_benefit_system(), options={}
        )
    return None
