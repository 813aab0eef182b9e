"""Reading and writing registries: a directory with the tables ``families``, ``persons``, ``incomes``.

Each table is ``NAME.parquet`` (a file, or a directory of a partitioned Parquet dataset) or ``NAME.csv``.
A registry directory may hold views in sub-directories (``truth/``, ``recorded/``); see :func:`resolve_view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import TABLES
from .validate import Keys, RegistryValidationError, ValidationReport, drop_families, validate

TABLE_NAMES = ("families", "persons", "incomes")


class RegistryNotFoundError(FileNotFoundError):
    pass


@dataclass
class Registry:
    """A validated registry: the three tables, plus the row positions that link them.

    ``person_family[i]`` is the row in ``families`` of person ``i``; ``income_person[j]`` the row in
    ``persons`` of income row ``j``. They are computed once (by validation, or on first use).
    """

    families: pd.DataFrame
    persons: pd.DataFrame
    incomes: pd.DataFrame
    person_family: np.ndarray | None = field(default=None, repr=False)
    income_person: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.families)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        if self.person_family is None or len(self.person_family) != len(self.persons):
            self.person_family = Keys(self.families["family_id"], self.persons["family_id"]).positions()
        if self.income_person is None or len(self.income_person) != len(self.incomes):
            self.income_person = Keys(self.persons["person_id"], self.incomes["person_id"]).positions()
        return self.person_family, self.income_person

    def take(self, family_mask: np.ndarray) -> Registry:
        """The families where ``family_mask`` is true, with their persons and incomes (positions kept)."""
        person_family, income_person = self.positions()
        family_mask = np.asarray(family_mask, dtype=bool)
        person_mask = family_mask[person_family]
        income_mask = person_mask[income_person]
        new_family = np.cumsum(family_mask) - 1
        new_person = np.cumsum(person_mask) - 1
        return Registry(
            self.families.loc[family_mask].reset_index(drop=True),
            self.persons.loc[person_mask].reset_index(drop=True),
            self.incomes.loc[income_mask].reset_index(drop=True),
            new_family[person_family[person_mask]],
            new_person[income_person[income_mask]],
        )

    def subset(self, family_ids) -> Registry:
        return self.take(
            self.families["family_id"].isin(list(family_ids)).to_numpy(dtype=bool, na_value=False)
        )


def resolve_view(directory: Path | str, view: str | None) -> Path:
    """The directory holding the tables for a view.

    ``DIR/VIEW`` when it exists; otherwise ``DIR`` itself when it holds the tables directly (a registry
    with a single view). An explicitly requested view that does not exist is an error.
    """
    directory = Path(directory)
    if not directory.exists():
        raise RegistryNotFoundError(f"registry directory not found: {directory}")
    if view and (directory / view).is_dir():
        return directory / view
    if _find(directory, "families") is not None:
        return directory
    views = sorted(p.name for p in directory.iterdir() if p.is_dir() and _find(p, "families") is not None)
    raise RegistryNotFoundError(
        f"no '{view}' view and no tables in {directory}"
        + (f"; views found: {', '.join(views)}" if views else "")
    )


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.parquet", directory / name, directory / f"{name}.csv"):
        if candidate.exists():
            return candidate
    return None


def _read_table(directory: Path, name: str) -> pd.DataFrame:
    path = _find(directory, name)
    if path is None:
        raise RegistryNotFoundError(
            f"table '{name}' not found in {directory} (expected {name}.parquet or {name}.csv)"
        )
    if path.suffix == ".csv":
        # Identifiers and codes stay text (leading zeros in IINs and KATO codes matter).
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return read_parquet(path)


def read_parquet(path: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file or partitioned directory, with plain values where a partitioned dataset would turn
    its partition column into a category."""
    df = pd.read_parquet(path, columns=columns)
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(str)
    return df


def read_raw(
    directory: Path | str, view: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    base = resolve_view(directory, view)
    tables = []
    for name in TABLE_NAMES:
        if name == "incomes" and _find(base, name) is None:
            tables.append(pd.DataFrame(columns=TABLES["incomes"].names))  # no income at all
        else:
            tables.append(_read_table(base, name))
    return tables[0], tables[1], tables[2]


def load_registry(
    directory: Path | str, view: str | None = None, *, skip_invalid: bool = False, today=None
) -> tuple[Registry, ValidationReport]:
    """Read and validate a registry.

    Raises :class:`RegistryValidationError` (with every problem) when the registry is invalid, unless
    ``skip_invalid``: then families with any problem are dropped and the report lists why.
    """
    fam, per, inc = read_raw(directory, view)
    fam, per, inc, report = validate(fam, per, inc, today=today)
    if not report.ok:
        if not skip_invalid or report.fatal:
            raise RegistryValidationError(report)
        fam, per, inc = drop_families(fam, per, inc, report.invalid_family_ids())
        return Registry(fam, per, inc), report
    return Registry(fam, per, inc, report.person_family, report.income_person), report


def write_registry(registry: Registry, directory: Path | str, fmt: str = "parquet") -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        df = getattr(registry, name)
        if fmt == "csv":
            out = df.copy()
            for col in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = out[col].dt.strftime("%Y-%m-%d")
            out.to_csv(directory / f"{name}.csv", index=False)
        elif fmt == "parquet":
            df.to_parquet(directory / f"{name}.parquet", index=False)
        else:
            raise ValueError(f"unknown format {fmt!r}: use parquet or csv")
    return directory


__all__ = [
    "Registry",
    "RegistryNotFoundError",
    "RegistryValidationError",
    "load_registry",
    "read_raw",
    "resolve_view",
    "write_registry",
]
