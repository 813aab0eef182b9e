"""Reading and writing registries: a directory with the tables ``families``, ``persons``, ``incomes``.

Each table is ``NAME.parquet`` (a file, or a directory of a partitioned Parquet dataset) or ``NAME.csv``.
A registry directory may hold views in sub-directories (``truth/``, ``recorded/``); see :func:`resolve_view`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .schema import TABLES
from .validate import RegistryValidationError, ValidationReport, drop_families, validate

TABLE_NAMES = ("families", "persons", "incomes")


class RegistryNotFoundError(FileNotFoundError):
    pass


@dataclass
class Registry:
    families: pd.DataFrame
    persons: pd.DataFrame
    incomes: pd.DataFrame

    def __len__(self) -> int:
        return len(self.families)

    def subset(self, family_ids) -> Registry:
        ids = set(family_ids)
        fam = self.families.loc[self.families["family_id"].isin(ids)]
        per = self.persons.loc[self.persons["family_id"].isin(ids)]
        inc = self.incomes.loc[self.incomes["person_id"].isin(set(per["person_id"]))]
        return Registry(fam.reset_index(drop=True), per.reset_index(drop=True), inc.reset_index(drop=True))


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
    df = pd.read_parquet(path)
    # A partitioned dataset turns its partition column into a category; keep plain values.
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
        if not skip_invalid:
            raise RegistryValidationError(report)
        fam, per, inc = drop_families(fam, per, inc, report.invalid_family_ids())
    return Registry(fam, per, inc), report


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
