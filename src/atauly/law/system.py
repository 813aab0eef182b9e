"""The ASP tax-benefit system: entities, parameters (YAML) and variables, as in openfisca/country-template."""

from __future__ import annotations

import inspect
from functools import lru_cache
from pathlib import Path

from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from . import entities
from .variables import asp, inputs

PARAMETERS_DIR = Path(__file__).parent / "parameters"


class AspTaxBenefitSystem(TaxBenefitSystem):
    """Kazakhstan's targeted social assistance (ASP / АӘК) as rules-as-code."""

    CURRENCY = "₸"

    def __init__(self) -> None:
        super().__init__(entities.entities)
        for module in (inputs, asp):
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, Variable) and obj is not Variable and obj.__module__ == module.__name__:
                    self.add_variable(obj)
        self.load_parameters(str(PARAMETERS_DIR))


@lru_cache(maxsize=1)
def tax_benefit_system() -> AspTaxBenefitSystem:
    """The baseline system (built once; treat as read-only and apply reforms to derive others)."""
    return AspTaxBenefitSystem()
