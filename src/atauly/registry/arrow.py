"""Text columns as Arrow arrays: code lookups and key matching for millions of rows.

The registry's validator, its readers and the scan use these; they hash identifiers with Arrow rather than
factorising them in pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Keys", "arrow_text", "code_indices"]


def arrow_text(values: pd.Series | pa.Array) -> pa.Array:
    """A column as one Arrow ``large_string`` array (no copy for Arrow-backed text; ``None`` for missing)."""
    if isinstance(values, pa.Array) and pa.types.is_large_string(values.type):
        return values
    try:
        arr = pa.array(values) if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype) else None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        text = pd.Series(values).astype("string")
        arr = pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.cast(pa.large_string())


def code_indices(values: pd.Series, codes) -> np.ndarray:
    """Each value's index in the list ``codes`` (-1 when missing or not in it), as
    ``pd.Categorical(values, categories=codes).codes`` gives it — by an Arrow hash lookup for text
    columns (no factorisation of millions of values)."""
    codes = list(codes)
    if isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype) and all(isinstance(c, str) for c in codes):
        try:
            arr = arrow_text(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
        if arr is not None:
            found = pc.index_in(arr, value_set=pa.array(codes, type=pa.large_string()))
            return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.asarray(pd.Categorical(values, categories=codes).codes, dtype=np.int64)


class Keys:
    """Identifiers of a table and references to them, factorised together once (Arrow hashing).

    ``Keys(families.family_id, persons.family_id)`` gives, for each person, the position of its family
    (-1 when none), and tells which family ids are duplicated — for millions of rows in seconds.
    """

    def __init__(self, ref: pd.Series, *queries: pd.Series):
        texts = [arrow_text(p) for p in (ref, *queries)]
        # A query that repeats each value in runs (incomes person by person, month by month) is hashed
        # one value a run; its codes are spread back over the runs.
        runs = [None] + [_run_starts(q) for q in texts[1:]]
        parts = [q if r is None else q.take(pa.array(r)) for q, r in zip(texts, runs, strict=True)]
        encoded = pa.chunked_array(parts, type=pa.large_string()).combine_chunks().dictionary_encode()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        splits = np.cumsum([len(p) for p in parts])[:-1]
        self.ref_codes, *query_codes = np.split(codes, splits)
        self.query_codes = [
            c if r is None else np.repeat(c, np.diff(np.append(r, len(q))))
            for c, r, q in zip(query_codes, runs[1:], texts[1:], strict=True)
        ]
        self._ref = parts[0]
        n = max(len(encoded.dictionary), 1)  # at least one slot: every id may be missing (all -1)
        valid = np.flatnonzero(self.ref_codes >= 0)
        self.count = np.bincount(self.ref_codes[valid], minlength=n)
        self.first = np.full(n, -1, dtype=np.int64)
        self.first[self.ref_codes[valid[::-1]]] = valid[::-1]  # the first occurrence is written last

    def duplicated(self) -> np.ndarray:
        rc = self.ref_codes
        return (rc >= 0) & (self.count[np.maximum(rc, 0)] > 1)

    def positions(self, k: int = 0) -> np.ndarray:
        q = self.query_codes[k]
        return np.where(q >= 0, self.first[np.maximum(q, 0)], -1)

    def positions_of(self, query: pd.Series) -> np.ndarray:
        """Like ``Keys(ref, query).positions()``, without hashing ``query`` when it lists the reference's
        values in runs, in the reference's order (persons family by family, in the families' order)."""
        runs = _positions_in_runs(self._ref, arrow_text(query)) if not self.duplicated().any() else None
        return runs if runs is not None else Keys(self._ref, query).positions()


def _run_starts(values: pa.Array) -> np.ndarray | None:
    """Where each run of equal values begins, when the runs are at most two thirds of the values (else,
    or with missing values, None: hashing every value costs about as much)."""
    n = len(values)
    if n < 2 or values.null_count:
        return None
    change = pc.not_equal(values.slice(1), values.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate([[True], change]))
    return starts if 3 * len(starts) <= 2 * n else None


def _positions_in_runs(ref: pa.Array, query: pa.Array) -> np.ndarray | None:
    """For ``ref`` without duplicates or missing values: when ``query`` is ``ref[0]`` repeated, then
    ``ref[1]`` repeated, … (each at least once), each query value's position in ``ref``; else None."""
    n = len(query)
    if n == 0 or len(ref) == 0 or ref.null_count or query.null_count:
        return None
    change = pc.not_equal(query.slice(1), query.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate([[True], change]))
    if len(starts) != len(ref) or not pc.all(pc.equal(query.take(pa.array(starts)), ref)).as_py():
        return None
    return np.repeat(np.arange(len(ref), dtype=np.int64), np.diff(np.append(starts, n)))


def rewrap_arrow(values, chunks: pa.ChunkedArray):
    """``values`` (a pandas Arrow-backed array) over other chunks of the same values and dtype, or None when
    this pandas cannot build one so (then the caller keeps ``values``: slower later, never other values).
    Pandas' string arrays take the dtype (``string`` keeps its missing-value marker); ``ArrowDtype``
    columns (``large_string[pyarrow]``) take their type from the chunks."""
    try:
        if isinstance(values.dtype, pd.StringDtype):
            return type(values)(chunks, dtype=values.dtype)
        out = type(values)(chunks)
        return out if out.dtype == values.dtype else None
    except (TypeError, ValueError):
        return None
