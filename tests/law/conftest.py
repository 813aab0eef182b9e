"""Collect the OpenFisca YAML test cases under tests/law/yaml/ as pytest items, one per case.

OpenFisca's own collector names every case of a file alike; here each item is named after its case
(``poverty_line.yaml::03 Q2 2018, Karaganda …``) so failures and ``-k`` selections are readable.

OpenFisca's runner compares every number in float32, which cannot tell 39,346.01 from 39,346.00 nor
50,000,001 from 50,000,000; money (float64 :class:`atauly.law.money.Money` variables) is compared here in
float64 instead, so that a case can pin an amount to the tiyn.
"""

import numpy as np
from openfisca_core.tools.test_runner import Loader, YamlFile, YamlItem, yaml

from atauly.law.system import tax_benefit_system


class ExactYamlItem(YamlItem):
    def check_variable(self, variable_name, expected_value, period, entity_index=None):
        variable = self.tax_benefit_system.get_variable(variable_name)
        if (
            isinstance(expected_value, dict)
            or self.should_ignore_variable(variable_name)
            or variable is None
            or variable.dtype != np.float64
        ):
            return super().check_variable(variable_name, expected_value, period, entity_index)
        actual = self.simulation.calculate(variable_name, period)
        if entity_index is not None:
            actual = actual[entity_index]
        margin = self.test.absolute_error_margin[variable_name] or 0
        diff = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(expected_value, dtype=np.float64))
        # Half a tiyn of slack is the binary representation of decimal amounts, never a tiyn's difference.
        assert (diff <= margin + 0.004).all(), (
            f"{variable_name}@{period}: {actual} differs from {expected_value} by {diff} > {margin}"
        )
        return None


class NamedYamlFile(YamlFile):
    def collect(self):
        with open(self.path, encoding="utf-8") as fh:
            tests = yaml.load(fh, Loader=Loader)
        for k, test in enumerate(tests if isinstance(tests, list) else [tests], start=1):
            yield ExactYamlItem.from_parent(
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
