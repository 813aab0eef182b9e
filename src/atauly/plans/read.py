"""Reading only what a national plan needs when the law's result is already at hand.

A national registry holds ~6 million families and ~20 million persons; a plan needs the families on
conditional ASP (about one in seven of them on a recorded view) and their members, plus the number of
families per district (for places and budgets). With ``atauly law compute``'s result given, the tables
are read with Parquet filters on ``family_id`` (so the other rows are never built in memory) and the
subset is validated by the registry's own validator — the same rules, on fewer rows. Incomes are not
read: the law's result already holds the per-capita income and the poverty line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atauly.registry import Registry, RegistryValidationError, resolve_view, validate
from atauly.registry.io import _find, read_raw
from atauly.registry.schema import TABLES

from .people import conditional_mask, district_of

LAW_COLUMNS = [
    "family_id",
    "region_kato",
    "quarter",
    "application_month",
    "members",
    "per_capita_income",
    "poverty_line",
    "eligible",
    "asp_type",
    "asp_monthly_amount",
]


def read_law(path: Path | str) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"law result not found: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        law = pd.read_parquet(path, columns=LAW_COLUMNS)
    else:
        law = pd.read_csv(path, dtype={"family_id": str, "region_kato": str}, usecols=LAW_COLUMNS)
    law["family_id"] = law["family_id"].astype(str)
    return law


def _read(path: Path, columns=None, filters=None) -> pd.DataFrame:
    df = pd.read_parquet(path, columns=columns, filters=filters)
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(str)
    return df


def conditional_registry(
    directory: Path | str, view: str | None, law: pd.DataFrame, region: str | None = None
) -> tuple[Registry, pd.DataFrame, pd.Series, pd.Series]:
    """The validated registry of the law's conditional families (of ``region`` when given), the law's rows
    for them, and the number of all families by district and by region.

    Raises :class:`RegistryValidationError` when the subset breaks a rule of the data contract.
    """
    base = resolve_view(directory, view)
    mask = conditional_mask(law)
    if region is not None:
        mask &= (law["region_kato"].astype(str) == str(region)).to_numpy()
    ids = law.loc[mask, "family_id"].astype(str)
    fam_path, per_path = _find(base, "families"), _find(base, "persons")
    parquet = all(p is not None and p.suffix not in (".csv", ".xlsx") for p in (fam_path, per_path))
    if parquet:
        counts_frame = _read(
            fam_path,
            columns=[
                c for c in ("family_id", "region_kato", "district_kato") if c in _schema_names(fam_path)
            ],
        )
        wanted = [("family_id", "in", ids.tolist())]
        fam = _read(fam_path, filters=wanted)
        per = _read(per_path, filters=wanted)
    else:  # CSV or Excel registries are small: read them whole
        fam_all, per_all, _ = read_raw(directory, view)
        counts_frame = fam_all
        keep = fam_all["family_id"].astype(str).isin(set(ids))
        fam = fam_all[keep].reset_index(drop=True)
        per = per_all[per_all["family_id"].astype(str).isin(set(ids))].reset_index(drop=True)
    if region is not None:
        counts_frame = counts_frame[counts_frame["region_kato"].astype(str) == str(region)]
    district_families = district_of(counts_frame).value_counts()
    region_families = counts_frame["region_kato"].astype(str).value_counts()
    incomes = pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES["incomes"].names})
    fam, per, inc, report = validate(fam, per, incomes)
    if not report.ok:
        raise RegistryValidationError(report)
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    order = pd.Index(law["family_id"]).get_indexer(reg.families["family_id"].astype(str))
    if (order < 0).any():
        raise ValueError("the registry holds families the law's result does not: compute it on this registry")
    return reg, law.iloc[order].reset_index(drop=True), district_families, region_families


def _schema_names(path: Path) -> set[str]:
    import pyarrow.dataset as ds

    return set(ds.dataset(str(path)).schema.names)


def family_registry(directory: Path | str, view: str | None, family_id: str) -> Registry:
    """One family's tables (families, persons, incomes), read with Parquet filters and validated: a family's
    plan at national scale without reading the country."""
    base = resolve_view(directory, view)
    paths = {name: _find(base, name) for name in ("families", "persons", "incomes")}
    if all(p is None or p.suffix not in (".csv", ".xlsx") for p in paths.values()) and paths["families"]:
        wanted = [("family_id", "==", str(family_id))]
        fam = _read(paths["families"], filters=wanted)
        per = _read(paths["persons"], filters=wanted)
        if paths["incomes"] is not None and len(per):
            inc = _read(
                paths["incomes"], filters=[("person_id", "in", per["person_id"].astype(str).tolist())]
            )
        else:
            inc = pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES["incomes"].names})
    else:
        fam_all, per_all, inc_all = read_raw(directory, view)
        fam = fam_all[fam_all["family_id"].astype(str) == str(family_id)].reset_index(drop=True)
        per = per_all[per_all["family_id"].astype(str) == str(family_id)].reset_index(drop=True)
        inc = inc_all[inc_all["person_id"].astype(str).isin(set(per["person_id"].astype(str)))].reset_index(
            drop=True
        )
    if fam.empty:
        from .family import FamilyNotPlannable

        raise FamilyNotPlannable(f"family {family_id} is not in the registry")
    fam, per, inc, report = validate(fam, per, inc)
    if not report.ok:
        raise RegistryValidationError(report)
    return Registry(fam, per, inc, report.person_family, report.income_person)
