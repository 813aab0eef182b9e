"""Reading only what a national plan needs when the law's result is already at hand.

A national registry holds ~6 million families and ~20 million persons; a plan needs the families on
conditional ASP (about one in seven of them on a recorded view) and their members, plus the number of
families per district (for places and budgets). With ``atauly law compute``'s result given, the tables
are read with Parquet filters on ``family_id`` (so the other rows are never built in memory) and the
subset is validated by the registry's own validator — the same rules, on fewer rows. Incomes are not
read: the law's result already holds the per-capita income and the poverty line.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from atauly.registry import Registry, RegistryValidationError, resolve_view, validate
from atauly.registry.io import _find, read_parquet_where, read_raw
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


def read_law(path: Path | str, conditional_only: bool = False) -> pd.DataFrame:
    """``atauly law compute``'s result (the columns a plan needs). ``conditional_only``: only the families
    entitled to conditional ASP, filtered in Arrow before any pandas frame is built (a national result
    holds ~6 million rows, a plan needs about one in seven)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"law result not found: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        table = pq.read_table(path, columns=LAW_COLUMNS)
        if conditional_only:
            table = table.filter(_conditional_expression(table))
        law = table.to_pandas()
    else:
        law = pd.read_csv(path, dtype={"family_id": str, "region_kato": str}, usecols=LAW_COLUMNS)
        if conditional_only:
            law = law[conditional_mask(law)].reset_index(drop=True)
    law["family_id"] = law["family_id"].astype(str)
    return law


def _conditional_expression(table: pa.Table) -> pa.Array:
    """:func:`conditional_mask` on an Arrow table: eligible and of type conditional."""
    eligible = pc.fill_null(pc.cast(table["eligible"], pa.bool_()), False)
    kind = pc.fill_null(pc.equal(pc.cast(table["asp_type"], pa.large_string()), "conditional"), False)
    return pc.and_(eligible, kind)


def conditional_registry(
    directory: Path | str, view: str | None, law: pd.DataFrame, region: str | None = None
) -> tuple[Registry, pd.DataFrame, pd.Series, pd.Series]:
    """The validated registry of the law's conditional families (of ``region`` when given), the law's rows
    for them, and the number of all families by district and by region.

    ``law`` may hold every family or only the conditional ones (:func:`read_law` with ``conditional_only``).
    Raises :class:`RegistryValidationError` when the subset breaks a rule of the data contract.
    """
    base = resolve_view(directory, view)
    mask = conditional_mask(law)
    if region is not None:
        mask = mask & (law["region_kato"].astype(str) == str(region)).to_numpy(dtype=bool)
    wanted = law.loc[mask, ["family_id", "region_kato"]]
    fam_path, per_path = _find(base, "families"), _find(base, "persons")
    parts = _partitions(fam_path, per_path)
    if parts is not None:
        fam, per, district_families, region_families = _read_partitions(parts, wanted, region)
    else:  # CSV or Excel registries are small: read them whole
        fam_all, per_all, _ = read_raw(directory, view)
        counts_frame = fam_all
        ids = set(wanted["family_id"].astype(str))
        keep = fam_all["family_id"].astype(str).isin(ids)
        fam = fam_all[keep].reset_index(drop=True)
        per = per_all[per_all["family_id"].astype(str).isin(ids)].reset_index(drop=True)
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


def _partitions(fam_path: Path | None, per_path: Path | None) -> list[tuple[Path, Path]] | None:
    """Pairs of Parquet files (families, persons) read together, in the order a dataset reads them: one
    pair for single files, one per part for tables partitioned the same way (by region, as ``atauly
    registry generate`` writes them); None when the tables are not Parquet or partitioned otherwise."""
    if fam_path is None or per_path is None:
        return None
    if fam_path.is_file() and per_path.is_file():
        if fam_path.suffix == ".parquet" and per_path.suffix == ".parquet":
            return [(fam_path, per_path)]
        return None
    if not (fam_path.is_dir() and per_path.is_dir()):
        return None
    fams = sorted(p for p in fam_path.iterdir() if not p.name.startswith((".", "_")))
    pers = sorted(p for p in per_path.iterdir() if not p.name.startswith((".", "_")))
    names = [p.name for p in fams]
    if (
        not fams
        or names != [p.name for p in pers]
        or not all(p.is_file() and p.suffix == ".parquet" for p in fams + pers)
    ):
        return None
    return list(zip(fams, pers, strict=True))


def _read_partitions(
    parts: list[tuple[Path, Path]], wanted: pd.DataFrame, region: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """The families in ``wanted`` and their members, read part by part (only the data contract's columns;
    rows chosen by an Arrow hash lookup before any pandas frame is built; parts in parallel threads), and
    the number of all families by district and region."""
    ids_by_region = {
        str(k): pa.array(v.astype(str).tolist(), type=pa.large_string())
        for k, v in wanted.groupby(wanted["region_kato"].astype(str), sort=False)["family_id"]
    }
    fam_columns = _columns(parts[0][0], TABLES["families"].names)
    per_columns = _columns(parts[0][1], TABLES["persons"].names)

    def read(pair: tuple[Path, Path]):
        fam = pq.read_table(pair[0], columns=fam_columns)
        regions = pc.cast(fam["region_kato"], pa.large_string())
        district = regions
        if "district_kato" in fam.column_names:
            d = pc.cast(fam["district_kato"], pa.large_string())
            district = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(d), 0), False), d, regions)
        if region is not None:
            here = pc.fill_null(pc.equal(regions, str(region)), False)
            regions, district = regions.filter(here), district.filter(here)
        counts = (_counts(district), _counts(regions))
        present = [str(r) for r in pc.unique(regions).to_pylist() if str(r) in ids_by_region]
        if not present:
            return None, None, counts
        value_set = pa.concat_arrays([ids_by_region[r] for r in present])
        fam = fam.filter(
            pc.fill_null(pc.is_in(pc.cast(fam["family_id"], pa.large_string()), value_set), False)
        )
        per = pq.read_table(pair[1], columns=per_columns)
        kept = pc.cast(fam["family_id"], pa.large_string())
        per = per.filter(pc.fill_null(pc.is_in(pc.cast(per["family_id"], pa.large_string()), kept), False))
        return fam, per, counts

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        results = list(pool.map(read, parts))
    fams = [f for f, _, _ in results if f is not None]
    pers = [p for _, p, _ in results if p is not None]
    fam = _frame(pa.concat_tables(fams) if fams else None, fam_columns, parts[0][0])
    per = _frame(pa.concat_tables(pers) if pers else None, per_columns, parts[0][1])
    if len(fam) != len(wanted):
        raise ValueError(
            f"the law's result lists {len(wanted) - len(fam):,} conditional famil(ies) that the registry does "
            "not hold in their region: compute it on this registry"
        )
    district_families = _sum_counts([c[0] for _, _, c in results])
    region_families = _sum_counts([c[1] for _, _, c in results])
    return fam, per, district_families, region_families


def _columns(path: Path, contract: list[str]) -> list[str]:
    names = set(pq.read_schema(path).names)
    return [c for c in contract if c in names]


def _counts(values: pa.Array) -> dict[str, int]:
    vc = pc.value_counts(values)
    return dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))


def _sum_counts(parts: list[dict[str, int]]) -> pd.Series:
    total: dict[str, int] = {}
    for part in parts:
        for k, v in part.items():
            total[str(k)] = total.get(str(k), 0) + v
    return pd.Series(total, dtype="int64").sort_values(ascending=False, kind="stable")


def _frame(table: pa.Table | None, columns: list[str], path: Path) -> pd.DataFrame:
    if table is None:
        table = pq.read_schema(path).empty_table().select(columns)
    df = table.to_pandas()
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(str)
    return df


def family_registry(directory: Path | str, view: str | None, family_id: str) -> Registry:
    """One family's tables (families, persons, incomes), read with Parquet filters and validated: a family's
    plan at national scale without reading the country."""
    base = resolve_view(directory, view)
    paths = {name: _find(base, name) for name in ("families", "persons", "incomes")}
    if all(p is None or p.suffix not in (".csv", ".xlsx") for p in paths.values()) and paths["families"]:
        # Only the row groups whose statistics can hold the family are decoded (the registry's tables are
        # sorted by family and written in row groups: atauly.registry.io.write_parquet).
        fid = str(family_id)
        fam = read_parquet_where(paths["families"], "family_id", [fid])
        per = read_parquet_where(paths["persons"], "family_id", [fid])
        if paths["incomes"] is not None and len(per):
            inc = read_parquet_where(paths["incomes"], "person_id", per["person_id"].astype(str).tolist())
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


def recipients(directory: Path | str, quarter) -> set[str]:
    """Families receiving ASP in ``quarter``: an approved decision of that quarter in the registry's
    ``decisions`` table (as the proactive scan counts them, ``receiving``)."""
    directory = Path(directory)
    path = _find(directory, "decisions")
    if path is None or path.suffix in (".csv", ".xlsx"):
        raise FileNotFoundError(
            f"no decisions table (decisions/ or decisions.parquet) in {directory}: the current recipients "
            "are known from the decisions"
        )
    dec = pd.read_parquet(
        path, columns=["family_id", "quarter", "officer_approved"], filters=[("quarter", "==", str(quarter))]
    )
    if dec["officer_approved"].isna().any():
        raise ValueError(f"{path}: officer_approved is missing in some decisions (true or false expected)")
    return set(dec.loc[dec["officer_approved"].astype(bool), "family_id"].astype(str))
