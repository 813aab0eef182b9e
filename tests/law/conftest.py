"""Collect the OpenFisca YAML test cases under tests/law/yaml/ as pytest items, one per case.

OpenFisca's own collector names every case of a file alike; here each item is named after its case
(``poverty_line.yaml::03 Q2 2018, Karaganda …``) so failures and ``-k`` selections are readable.
"""

from openfisca_core.tools.test_runner import Loader, YamlFile, YamlItem, yaml

from atauly.law.system import tax_benefit_system


class NamedYamlFile(YamlFile):
    def collect(self):
        with open(self.path, encoding="utf-8") as fh:
            tests = yaml.load(fh, Loader=Loader)
        for k, test in enumerate(tests if isinstance(tests, list) else [tests], start=1):
            yield YamlItem.from_parent(
                self,
                name=f"{k:02d} {test.get('name', '')}",
                baseline_tax_benefit_system=self.tax_benefit_system,
                test=test,
                options=self.options,
            )


def pytest_collect_file(parent, file_path):
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "yaml":
        return NamedYamlFile.from_parent(
            parent, path=file_path, tax_benefit_system=tax_benefit_system(), options={}
        )
    return None
