"""Reading and writing registries: a directory with the tables ``families``, ``persons``, ``incomes``.

Each table is ``NAME.parquet`` (a file, or a directory of a partitioned Parquet dataset), ``NAME.csv`` or
``NAME.xlsx`` (the first sheet). A registry directory may hold views in sub-directories (``truth/``,
``recorded/``); see :func:`resolve_view`.

CSV files are read as people have them: UTF-8 (with or without a byte-order mark), UTF-16 with a mark
(Excel's "Unicode text"), or Windows-1251 (Russian-locale Excel); separated by commas, semicolons
(Russian-locale Excel, where a decimal comma in a number column is read as a point) or tabs. A file that
is empty, or in none of these, is refused with a message naming the file and what to do.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .arrow import Keys, rewrap_arrow
from .schema import TABLES
from .validate import RegistryValidationError, ValidationReport, drop_families, validate

TABLE_NAMES = ("families", "persons", "incomes")


class RegistryNotFoundError(FileNotFoundError):
    pass


class RegistryFileError(RegistryNotFoundError):
    """A table file exists but cannot be read as a table (empty, an unknown encoding, not a spreadsheet).

    A kind of :class:`RegistryNotFoundError`, so that every caller that reports a missing table clearly
    reports this too: one message naming the file and what to do, and nothing computed or written.
    """


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
        if family_mask.all() and _linked(person_family) and _linked(income_person):
            # every family: the same rows and positions, without copying every column
            return Registry(
                self.families.reset_index(drop=True),
                self.persons.reset_index(drop=True),
                self.incomes.reset_index(drop=True),
                person_family,
                income_person,
            )
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

    def shifted(self, months: int) -> Registry:
        """The same records moved ``months`` calendar months in time (negative: back): every date of
        ``families`` and ``persons`` (birth dates, application and sanction dates) and every income
        row's ``month``. Ages, incomes and every duration stay as recorded, so the law for another
        quarter can be applied to the records as they are, with that quarter's parameters (the
        proactive scan's verification sample of past quarters, issue 15). Positions are kept."""
        if not months:
            return self
        offset = pd.DateOffset(months=months)

        def move(frame: pd.DataFrame) -> pd.DataFrame:
            frame = frame.copy()
            for col in frame.columns:
                if pd.api.types.is_datetime64_any_dtype(frame[col]):
                    frame[col] = frame[col] + offset
            return frame

        incomes = self.incomes.copy()
        if "month" in incomes and len(incomes):
            period = pd.PeriodIndex(incomes["month"].astype(str), freq="M") + months
            incomes["month"] = pd.array(period.strftime("%Y-%m"), dtype=self.incomes["month"].dtype)
        return Registry(
            move(self.families), move(self.persons), incomes, self.person_family, self.income_person
        )

    def subset(self, family_ids) -> Registry:
        return self.take(
            self.families["family_id"].isin(list(family_ids)).to_numpy(dtype=bool, na_value=False)
        )


def _linked(positions: np.ndarray) -> bool:
    """Every row points at a row of the table above it (no -1)."""
    return len(positions) == 0 or positions.min() >= 0


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
    for candidate in (
        directory / f"{name}.parquet",
        directory / name,
        directory / f"{name}.csv",
        directory / f"{name}.xlsx",
    ):
        if candidate.exists():
            return candidate
    return None


def _read_table(directory: Path, name: str) -> pd.DataFrame:
    path = _find(directory, name)
    if path is None:
        raise RegistryNotFoundError(
            f"table '{name}' not found in {directory} (expected {name}.parquet, {name}.csv or {name}.xlsx)"
        )
    if path.suffix == ".csv":
        return read_csv_table(path, name)
    if path.suffix == ".xlsx":
        return read_xlsx_table(path, name)
    return read_parquet(path)


_ENCODINGS = (("utf-8", "UTF-8"), ("cp1251", "Windows-1251"))
_DELIMITERS = (",", ";", "\t")


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding, _ in _ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Windows-1251 decodes almost any bytes: accept it only for text without control characters.
        if encoding == "utf-8" or not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text):
            return text
    raise RegistryFileError(
        f"{path}: the file is neither UTF-8 nor Windows-1251 text. Save it from Excel as "
        '"CSV UTF-8 (comma delimited)" (or as .xlsx) and try again.'
    )


def _delimiter(header: str, name: str) -> str:
    """The separator under which the header line names the most columns of the table (comma on a tie)."""
    known = set(TABLES[name].names)

    def score(sep: str) -> tuple[int, int]:
        fields = [f.strip().strip('"').strip() for f in next(csv.reader([header], delimiter=sep), [])]
        return (len(known.intersection(fields)), len(fields))

    return max(_DELIMITERS, key=score)


_DECIMAL_COMMA = re.compile(r"^\s*-?\d[\d\s\u00a0]*,\d+\s*$")


def _frame(path: Path, name: str, df: pd.DataFrame, decimal_comma: bool) -> pd.DataFrame:
    df.columns = [str(c).strip() for c in df.columns]
    if len(df.columns) == 0:
        raise RegistryFileError(
            f"{path}: no header row. The first line must name the columns "
            f"({', '.join(TABLES[name].names[:4])}, …); see docs/data-contract.md."
        )
    if decimal_comma:
        # Russian-locale Excel writes 90 000,50 in number columns of a semicolon file.
        for col in TABLES[name].columns:
            if col.kind in ("float", "int") and col.name in df.columns:
                values = df[col.name]
                match = values.str.match(_DECIMAL_COMMA.pattern, na=False)
                if match.any():
                    fixed = values[match].str.replace(r"[\s\u00a0]", "", regex=True).str.replace(",", ".")
                    df[col.name] = values.where(~match, fixed)
    return df


def read_csv_table(path: Path | str, name: str) -> pd.DataFrame:
    """One table from a CSV file, its encoding and separator detected (see the module's documentation)."""
    path = Path(path)
    data = path.read_bytes()
    if not data.strip():
        raise RegistryFileError(
            f"{path}: the file is empty. Export the {name} table again with its header row "
            f"({', '.join(TABLES[name].names[:4])}, …), or remove the file"
            + (" (a registry without incomes may leave incomes out)." if name == "incomes" else ".")
        )
    text = _decode(path, data)
    sep = _delimiter(text.splitlines()[0] if text else "", name)
    try:
        # Identifiers and codes stay text (leading zeros in IINs and KATO codes matter).
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RegistryFileError(
            f"{path}: not a readable table ({first}). Check that every row has as many fields as the "
            "header, and that text with separators in it is quoted."
        ) from None
    return _frame(path, name, df, decimal_comma=sep == ";")


def read_xlsx_table(path: Path | str, name: str) -> pd.DataFrame:
    """One table from the first sheet of an Excel workbook, every cell as text (as from a CSV)."""
    path = Path(path)
    try:
        raw = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False, na_values=[""])
    except ImportError:
        raise RegistryFileError(
            f"{path}: reading .xlsx needs the openpyxl package (pip install openpyxl); or save it as CSV."
        ) from None
    except Exception as exc:  # openpyxl/zipfile raise many kinds for a file that is not a workbook
        raise RegistryFileError(
            f"{path}: not a readable Excel workbook ({type(exc).__name__}). Save it again as .xlsx or CSV."
        ) from None
    # Excel keeps dates and whole numbers typed: give them back as a CSV export would write them.
    for col in raw.columns:
        raw[col] = raw[col].map(_excel_text, na_action="ignore")
    return _frame(path, name, raw, decimal_comma=False)


def _excel_text(value):
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", text):
        return text[:10]
    if re.fullmatch(r"-?\d+\.0", text):
        return text[:-2]
    return text


def read_parquet(path: Path | str, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file or partitioned directory, with plain values where a partitioned dataset would turn
    its partition column into a category."""
    return _plain(pd.read_parquet(path, columns=columns))


#: Rows per Parquet row group: a reader that wants one family decodes one group of this many rows, not the
#: whole region (about a million persons at full scale).
ROW_GROUP_ROWS = 65_536
#: The column the registry's Parquet tables are sorted by, the first a table has: row groups then hold
#: disjoint ranges of it, so their min/max statistics tell which one holds a family.
SORT_KEYS = ("family_id", "person_id")


def sort_key(columns) -> str | None:
    """The column a table with ``columns`` is sorted by when written (None: kept in its order)."""
    return next((k for k in SORT_KEYS if k in columns), None)


def write_parquet(
    df: pd.DataFrame | pa.Table, path: Path | str, *, dictionary: bool | list[str] = True
) -> Path:
    """A table as one Parquet file the way the registry writes them: rows stably sorted by ``family_id``
    (``person_id`` when the table has no ``family_id``; the order inside a family is kept), in row groups of
    ``ROW_GROUP_ROWS`` rows with min/max statistics, so that :func:`read_parquet_where` reads one family's
    rows by decoding only the row group that holds them. ``dictionary``: the columns to dictionary-encode
    (True: all)."""
    path = Path(path)
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    key = sort_key(table.column_names)
    if key is not None and table.num_rows > 1:
        ids = table[key]
        if pa.types.is_dictionary(ids.type):  # a categorical id column: sort on its values
            ids = ids.cast(ids.type.value_type)
        order = pc.array_sort_indices(ids, order="ascending", null_placement="at_end")  # stable
        table = table.take(order)
    pq.write_table(
        table, path, row_group_size=ROW_GROUP_ROWS, use_dictionary=dictionary, write_statistics=True
    )
    return path


def parquet_files(path: Path | str) -> list[Path] | None:
    """The Parquet files of a table: ``[path]`` for a file, its parts for a directory of plain part files
    (as the registry writes them); None for anything else (e.g. a hive-partitioned dataset)."""
    path = Path(path)
    if path.is_file():
        return [path] if path.suffix == ".parquet" else None
    if not path.is_dir():
        return None
    files = sorted(f for f in path.iterdir() if not f.name.startswith((".", "_")))
    if not files or not all(f.is_file() and f.suffix == ".parquet" for f in files):
        return None
    return files


def read_parquet_where(
    path: Path | str, column: str, values, columns: list[str] | None = None
) -> pd.DataFrame:
    """The rows of a Parquet table (a file or a directory of part files) whose ``column`` is one of
    ``values``, decoding only the row groups whose min/max statistics can hold them (one row group per
    file for one family of a table written by :func:`write_parquet`); rows in the files' order, partition
    columns as plain values (as :func:`read_parquet`). Other layouts are read through a dataset filter."""
    values = sorted({str(v) for v in values})
    files = parquet_files(path)
    if files is None:
        return read_parquet_filtered(path, column, values, columns)
    lo, hi = (values[0], values[-1]) if values else ("", "")
    wanted = pa.array(values, type=pa.large_string())
    parts: list[pa.Table] = []
    schema = None
    for f in files:
        pf = pq.ParquetFile(f)
        meta = pf.metadata
        if column not in meta.schema.names:
            return read_parquet_filtered(path, column, values, columns)
        schema = schema or pf.schema_arrow
        kind = pf.schema_arrow.field(column).type
        if not values:
            groups = []
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            groups = row_groups_holding(meta, column, lo, hi)
        else:  # text order of numbers is not their order: statistics cannot tell, decode every group
            groups = list(range(meta.num_row_groups))
        if not groups:
            continue
        read = None if columns is None else [*columns, *([column] if column not in columns else [])]
        table = pf.read_row_groups(groups, columns=read)
        keep = pc.fill_null(pc.is_in(pc.cast(table[column], pa.large_string()), value_set=wanted), False)
        table = table.filter(keep)
        parts.append(table if columns is None else table.select(columns))
    if parts:
        table = pa.concat_tables(parts)
    else:
        table = schema.empty_table()
        if columns is not None:
            table = table.select(columns)
    return _plain(table.to_pandas())


def row_groups_holding(meta: pq.FileMetaData, column: str, lo: str, hi: str) -> list[int]:
    """The row groups of a Parquet file whose min/max statistics of the text ``column`` overlap
    ``[lo, hi]`` (a group without statistics may hold anything)."""
    k = meta.schema.names.index(column)
    groups = []
    for g in range(meta.num_row_groups):
        st = meta.row_group(g).column(k).statistics
        if st is None or not st.has_min_max or (str(st.min) <= hi and str(st.max) >= lo):
            groups.append(g)
    return groups


def read_parquet_filtered(
    path: Path | str, column: str, values, columns: list[str] | None = None
) -> pd.DataFrame:
    """The rows whose ``column`` is one of ``values``, read through a Parquet dataset filter."""
    wanted = pa.array([str(v) for v in values], type=pa.large_string())
    df = pd.read_parquet(path, columns=columns, filters=pc.field(column).cast(pa.large_string()).isin(wanted))
    return _plain(df)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Partition columns as plain values, and every Arrow text column in one chunk: Parquet gives one
    chunk per row group, and each later look at a column's buffers (validation's checks, hashing the ids,
    the law's code lookups) would concatenate them again. A column at a time, so that the chunks of one
    are freed before the next is joined."""
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(str)
        values = df[col].array
        chunks = getattr(values, "_pa_array", None)
        if (
            isinstance(chunks, pa.ChunkedArray)
            and chunks.num_chunks > 1
            and pa.types.is_large_string(chunks.type)
        ):
            joined = rewrap_arrow(values, pa.chunked_array([chunks.combine_chunks()]))
            if joined is not None:
                df[col] = pd.Series(joined, index=df.index, name=col)
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
            write_parquet(df, directory / f"{name}.parquet")
        else:
            raise ValueError(f"unknown format {fmt!r}: use parquet or csv")
    return directory


__all__ = [
    "Registry",
    "RegistryFileError",
    "RegistryNotFoundError",
    "RegistryValidationError",
    "load_registry",
    "read_parquet_where",
    "read_raw",
    "resolve_view",
    "write_parquet",
    "write_registry",
]
