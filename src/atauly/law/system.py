"""The ASP tax-benefit system: entities, parameters (YAML) and variables, as in openfisca/country-template."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from . import entities, variables

PARAMETERS_DIR = Path(__file__).parent / "parameters"


class AspTaxBenefitSystem(TaxBenefitSystem):
    """Kazakhstan's targeted social assistance (ASP / АӘК) as rules-as-code."""

    CURRENCY = "₸"

    def __init__(self) -> None:
        super().__init__(entities.entities)
        self.add_variables_from_package(variables)
        self.load_parameters(str(PARAMETERS_DIR))

    def add_variables_from_package(self, package: ModuleType) -> None:
        """Add the variables defined in every module of ``package`` (the variables directory).

        What OpenFisca's ``add_variables_from_directory`` does for country-template, by importing the
        modules as the package's own: OpenFisca's loader executes each file again under a generated
        module name, which would make a second copy of every enum and helper (and forbid relative imports).
        """
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, Variable) and obj is not Variable and obj.__module__ == module.__name__:
                    self.add_variable(obj)


@lru_cache(maxsize=1)
def tax_benefit_system() -> AspTaxBenefitSystem:
    """The baseline system (built once; treat as read-only and apply reforms to derive others)."""
    return AspTaxBenefitSystem()
