"""The data contract: families, persons and incomes; codes; IIN checks; validation; readers and writers.

This room imports nothing else of Atauly's.
"""

from .arrow import code_indices
from .codes import INCOME_SOURCES, REGION_BY_KATO, REGION_BY_KEY, REGIONS
from .io import (
    Registry,
    RegistryFileError,
    RegistryNotFoundError,
    load_registry,
    read_raw,
    resolve_view,
    write_registry,
)
from .validate import RegistryValidationError, ValidationReport, validate

__all__ = [
    "INCOME_SOURCES",
    "REGIONS",
    "REGION_BY_KATO",
    "REGION_BY_KEY",
    "Registry",
    "RegistryFileError",
    "RegistryNotFoundError",
    "RegistryValidationError",
    "ValidationReport",
    "code_indices",
    "load_registry",
    "read_raw",
    "resolve_view",
    "validate",
    "write_registry",
]
