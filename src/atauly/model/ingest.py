"""Ingestion of a user's table as real exports come: CSV with any usual delimiter and encoding (UTF-8,
UTF-8 with a byte-order mark, Windows-1251), Excel ``.xlsx`` and Parquet; and a report of every column —
kept, converted or dropped, and why (docs/model.md, "Bring your own data").

What is converted: yes/no strings (also да/нет, иә/жоқ) to 1/0, including when they are mixed into a
column of numbers; numbers written with a decimal comma or spaces between thousands; a few non-numeric
codes in a numeric column ("refused", "-") to missing; dates to days since 1970-01-01; categories with
many levels to their most frequent levels plus "(other)".

What is dropped: columns without any observed value (in the rows that have a target), constant columns,
identifier-like columns (a distinct value in (nearly) every row: row numbers, codes, names).

The report never shows a cell's value except short codes that recur (≥ 1% of the rows), which cannot be
a person's name or identifier.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TRUE_TOKENS = {"true", "t", "yes", "y", "да", "д", "иә", "ия", "иа"}
FALSE_TOKENS = {"false", "f", "no", "n", "нет", "н", "жоқ", "жок"}
#: Text that means "no value" in exports (besides empty cells).
MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "-", "--", ".", "?", "#н/д", "н/д", "нд"}
#: A text category with more levels than this keeps its most frequent ones and "(other)".
MAX_LEVELS = 50
#: Share of the non-missing values that must parse for a column to count as numbers or dates.
PARSE_SHARE = 0.95
#: The level that stands for the rare levels of a high-cardinality category (and, at scoring, unseen ones).
OTHER = "(other)"
ID_NAME = re.compile(r"(^|[_\s-])(id|uid|uuid|iin|иин|bin|бин|key|code|код|номер|no|nr|number)$", re.I)
DELIMITERS = [",", ";", "\t", "|"]


class IngestError(ValueError):
    """A file that cannot be read as a table."""


@dataclass
class ColumnReport:
    column: str
    action: str  # kept | converted | dropped
    kind: str  # numeric | categorical | "" (dropped)
    reason: str
    missing_share: float
    distinct: int

    def as_dict(self) -> dict:
        return asdict(self)


# -- reading ---------------------------------------------------------------------------------------
def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without a BOM, else Windows-1251 (Russian and Kazakh Excel exports)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1251"), "cp1251"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields most often."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        pass
    best, best_score = ",", -1
    for d in DELIMITERS:
        counts = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=d)]
        if not counts or max(counts) < 2:
            continue
        score = max(counts.count(c) for c in set(counts))
        if score > best_score:
            best, best_score = d, score
    return best


def read_any(path: Path | str) -> tuple[pd.DataFrame, dict]:
    """Read a table; returns (frame, format) where format names the encoding and delimiter found.
    CSV cells are read as text (types are decided per column by :func:`ingest`)."""
    path = Path(path)
    if not path.exists():
        raise IngestError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        text, encoding = decode(path.read_bytes())
        delimiter = sniff_delimiter(text)
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=True
        )
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame, {"format": "csv", "encoding": encoding, "delimiter": delimiter}
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, sheet_name=0, engine="openpyxl")
        except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
            raise IngestError("reading .xlsx needs openpyxl (pip install openpyxl)") from exc
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame, {"format": "xlsx", "sheet": 0}
    if suffix in (".parquet", ".pq") or path.is_dir():
        return pd.read_parquet(path), {"format": "parquet"}
    raise IngestError(f"unsupported data file {path.name}: use .csv, .xlsx or .parquet")


# -- one column ------------------------------------------------------------------------------------
def _text(s: pd.Series) -> pd.Series:
    """Stripped text, missing tokens as NA."""
    t = s.astype("string").str.strip()
    return t.mask(t.str.lower().isin(MISSING_TOKENS))


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


_THOUSANDS_COMMAS = r"^[+-]?\d{1,3}(,\d{3}){2,}(\.\d*)?$"  # 1,234,567 (two or more groups) or 1,234.5
_THOUSANDS_POINTS = r"^[+-]?\d{1,3}(\.\d{3}){2,}(,\d*)?$"  # 1.234.567 or 1.234,5


def _to_number(t: pd.Series) -> pd.Series:
    """Numbers from text, each value on its own (so that scoring reads a value as training did, whatever
    else is in the batch): spaces (also non-breaking) between thousands removed; a value holding both a
    comma and a point takes the last of them as its decimal separator (1,234.5 and 1.234,5); commas in two
    or more groups of three are thousands (1,234,567); otherwise a comma is a decimal comma, as in a
    Russian- or Kazakh-locale export (12,5 and 12,500 both read as twelve and a half)."""
    cleaned = t.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    comma, point = cleaned.str.rfind(","), cleaned.str.rfind(".")
    both = (comma >= 0) & (point >= 0)
    comma_last = both & (comma > point)
    thousands_commas = cleaned.str.match(_THOUSANDS_COMMAS, na=False) | (both & ~comma_last)
    thousands_points = cleaned.str.match(_THOUSANDS_POINTS, na=False) | comma_last
    cleaned = cleaned.mask(thousands_commas, cleaned.str.replace(",", "", regex=False))
    cleaned = cleaned.mask(thousands_points, cleaned.str.replace(".", "", regex=False))
    cleaned = cleaned.str.replace(",", ".", regex=False)
    ok = cleaned.str.match(_NUMBER.pattern, na=False)
    return pd.to_numeric(cleaned.where(ok), errors="coerce")


def numeric_from_text(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values, odd): a column meant to be numeric, as training converts it — numbers, yes/no as 1/0,
    dates as days (when the column is dates), missing tokens as missing; ``odd`` marks the other
    non-missing values (left missing)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(s):
        return _days(s).to_numpy(dtype=float, na_value=np.nan), np.zeros(len(s), dtype=bool)
    t = _text(s)
    observed = t.notna()
    lower = t.str.lower()
    numbers = _to_number(t)
    numbers[lower.isin(TRUE_TOKENS)] = 1.0
    numbers[lower.isin(FALSE_TOKENS)] = 0.0
    odd = (observed & numbers.isna()).to_numpy(dtype=bool, na_value=False)
    if odd.any():
        dates = _parse_dates(t[observed])
        if dates is not None:
            values = pd.Series(np.nan, index=s.index)
            values[observed] = _days(dates).to_numpy()
            return values.to_numpy(dtype=float), (observed & values.isna()).to_numpy(dtype=bool)
    return numbers.to_numpy(dtype=float, na_value=np.nan), odd


def _codes_shown(values: pd.Series, n_rows: int) -> str:
    """Recurring short codes (each ≥ 1% of rows) — never one-off values, which may be personal data."""
    counts = values.value_counts()
    shown = [str(v) for v, c in counts.items() if c >= max(0.01 * n_rows, 3) and len(str(v)) <= 20][:4]
    return f" ({', '.join(map(repr, shown))})" if shown else ""


def _column(name: str, s: pd.Series, n_rows: int) -> tuple[pd.Series | None, ColumnReport]:
    """Decide one column: (converted values or None when dropped, its report line)."""

    def report(action, kind, reason, values):
        missing = float(values.isna().mean()) if values is not None else float(s.isna().mean())
        distinct = int(values.nunique()) if values is not None else int(s.nunique())
        return ColumnReport(name, action, kind, reason, missing, distinct)

    if pd.api.types.is_bool_dtype(s):
        values = s.astype("float")
        return values, report("converted", "numeric", "true/false as 1/0", values)
    if pd.api.types.is_datetime64_any_dtype(s):
        values = _days(s)
        return values, report("converted", "numeric", "dates as days since 1970-01-01", values)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float), report("kept", "numeric", "numbers", s)

    t = _text(s)
    observed = t.notna()
    n_obs = int(observed.sum())
    if n_obs == 0:
        return None, report("dropped", "", "no observed value", t)
    lower = t.str.lower()
    is_true, is_false = lower.isin(TRUE_TOKENS), lower.isin(FALSE_TOKENS)
    yes_no = is_true | is_false
    numbers = _to_number(t)
    is_number = numbers.notna()
    if (yes_no | is_number)[observed].all() and yes_no.any():
        values = numbers.copy()
        values[is_true] = 1.0
        values[is_false] = 0.0
        what = "yes/no as 1/0" if not is_number.any() else "yes/no strings mixed into numbers as 1/0"
        return values, report("converted", "numeric", what, values)
    parsed_share = (is_number | yes_no)[observed].mean()
    if parsed_share >= PARSE_SHARE:
        values = numbers.copy()
        values[is_true] = 1.0
        values[is_false] = 0.0
        odd = observed & ~is_number & ~yes_no
        notes = []
        if yes_no.any():
            notes.append(f"{int(yes_no.sum())} yes/no values as 1/0")
        if odd.any():
            notes.append(
                f"{int(odd.sum())} non-numeric values{_codes_shown(t[odd], n_rows)} treated as missing"
            )
        if t[is_number].str.contains(",", regex=False).any():
            notes.append("commas read as decimal commas, or as thousands in 1,234,567 and 1,234.5")
        if notes:
            return values, report("converted", "numeric", "numbers; " + "; ".join(notes), values)
        return values, report("kept", "numeric", "numbers (read from text)", values)
    dates = _parse_dates(t[observed])
    if dates is not None:
        values = pd.Series(np.nan, index=s.index)
        values[observed] = _days(dates).to_numpy()
        return values, report("converted", "numeric", "dates as days since 1970-01-01", values)
    return t, report("kept", "categorical", "text categories", t)


def _days(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert(None)
    return ((s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).astype(float)


_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")


def _parse_dates(t: pd.Series) -> pd.Series | None:
    """Dates when (nearly) every value looks like one: ISO (2024-03-31) or day first (31.03.2024)."""
    if not len(t) or t.str.match(_DATE_LIKE.pattern).mean() < PARSE_SHARE:
        return None
    iso = t.str.match(r"^\d{4}").mean() >= 0.5
    with np.errstate(all="ignore"):
        parsed = pd.to_datetime(t, errors="coerce", dayfirst=not iso, format="mixed")
    return parsed if parsed.notna().mean() >= PARSE_SHARE else None


def _id_like(name: str, values: pd.Series, kind: str) -> str | None:
    observed = values.dropna()
    n = len(observed)
    if n < 20:
        return None
    distinct = observed.nunique()
    if kind == "categorical":
        if distinct >= 0.9 * n:
            return f"identifier-like: {distinct:,} distinct values in {n:,} rows"
        return None
    if distinct < n:
        return None
    is_int = bool(np.all(np.mod(observed.to_numpy(dtype=float), 1) == 0))
    if not is_int:
        return None
    if observed.is_monotonic_increasing or observed.is_monotonic_decreasing:
        return "identifier-like: a distinct, ordered whole number in every row (a row number)"
    if ID_NAME.search(name):
        return "identifier-like: a distinct whole number in every row and an identifier's name"
    return None


def _lump(t: pd.Series, max_levels: int = MAX_LEVELS) -> tuple[pd.Series, int]:
    counts = t.value_counts()
    keep = set(counts.index[:max_levels])
    return t.where(t.isna() | t.isin(keep), OTHER), len(counts)


@dataclass
class Ingested:
    frame: pd.DataFrame  # features, numbers as float, categories as text (missing as NA)
    numeric: list[str]
    categorical: list[str]
    report: list[ColumnReport]
    format: dict


def ingest(features: pd.DataFrame, file_format: dict | None = None) -> Ingested:
    """Decide every feature column of a table (rows already restricted to those with a target)."""
    n = len(features)
    out, numeric, categorical, lines = {}, [], [], []
    for col in features.columns:
        name = str(col)
        values, line = _column(name, features[col], n)
        if values is not None:
            observed = values.dropna()
            if observed.empty:
                values, line = None, ColumnReport(name, "dropped", "", "no observed value", 1.0, 0)
            elif observed.nunique() <= 1 and not values.isna().any():
                values = None
                line = ColumnReport(name, "dropped", "", "constant: a single value in every row", 0.0, 1)
            elif observed.nunique() <= 1:
                line.reason += "; a single value besides missing (only its missingness informs)"
        if values is not None:
            reason = _id_like(name, values, line.kind)
            if reason:
                values = None
                line = ColumnReport(name, "dropped", "", reason, line.missing_share, line.distinct)
        if values is not None and line.kind == "categorical" and values.nunique() > MAX_LEVELS:
            values, levels = _lump(values)
            line.action = "converted"
            line.reason = f"high-cardinality category: {levels:,} levels, the {MAX_LEVELS} most frequent kept, the rest as '(other)'"
        lines.append(line)
        if values is None:
            continue
        out[name] = values.to_numpy(dtype=float, na_value=np.nan) if line.kind == "numeric" else values
        (numeric if line.kind == "numeric" else categorical).append(name)
    frame = pd.DataFrame(out, index=features.index)
    for col in categorical:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return Ingested(frame, numeric, categorical, lines, file_format or {})


def report_frame(report: list[ColumnReport] | list[dict]) -> pd.DataFrame:
    rows = [r.as_dict() if isinstance(r, ColumnReport) else r for r in report]
    return pd.DataFrame(rows, columns=["column", "action", "kind", "reason", "missing_share", "distinct"])
