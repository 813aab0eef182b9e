"""Fast paths for clean columns (millions of registry rows) must give exactly what the general checks
give: IINs read as a block of digits, and months read off the byte buffer."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.registry.iin import IIN_CODES, check_iin_codes, check_iins, make_iins
from atauly.registry.schema import INCOMES
from factories import family, person, quarter_incomes, tables

validate_module = importlib.import_module("atauly.registry.validate")  # (the package exports a function)

_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(_digits, min_size=1, max_size=40), st.data())
def test_iin_block_path_equals_the_checked_path(iins, data):
    """All values 12 digits → the block path; one odd value added → the regex path for all. The codes of
    the shared values must agree, with birth dates and sexes too."""
    born = np.array(
        data.draw(st.lists(st.integers(-50_000, 40_000), min_size=len(iins), max_size=len(iins))),
        dtype="datetime64[D]",
    )
    sexes = pd.Series(
        data.draw(st.lists(st.sampled_from(["M", "F"]), min_size=len(iins), max_size=len(iins)))
    )
    clean = check_iin_codes(pd.Series(iins, dtype="str"), born, sexes.astype("str"))
    mixed = check_iin_codes(
        pd.Series([*iins, "12345"], dtype="str"),
        np.append(born, np.datetime64("2000-01-01")),
        pd.Series([*sexes, "M"], dtype="str"),
    )
    np.testing.assert_array_equal(clean, mixed[:-1])
    assert IIN_CODES[mixed[-1]] == "iin_format"
    # Object arrays (not Arrow text) take the element-wise route for sexes: the same answer.
    np.testing.assert_array_equal(clean, check_iin_codes(list(iins), born, sexes.to_numpy(dtype=object)))


def test_generated_iins_are_valid_and_mismatches_are_found():
    born = np.array(["1950-03-01", "2000-02-29", "2024-12-31"], dtype="datetime64[D]")
    sexes = np.array(["M", "F", "M"])
    iins = make_iins(born, sexes, np.array([1, 2, 3]))
    assert list(check_iins(pd.Series(iins, dtype="str"), born, pd.Series(sexes, dtype="str"))) == [""] * 3
    other = pd.Series(["F", "M", "M"], dtype="str")
    assert list(check_iins(pd.Series(iins, dtype="str"), born, other)) == [
        "iin_sex_mismatch",
        "iin_sex_mismatch",
        "",
    ]
    shifted = born + np.timedelta64(1, "D")
    assert list(check_iins(pd.Series(iins, dtype="str"), shifted, None))[1] == "iin_birth_date_mismatch"


_month_like = st.one_of(
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 19)),
    st.text(alphabet="0123456789-/ ", min_size=0, max_size=9),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_month_like, min_size=1, max_size=30))
def test_month_buffer_path_equals_the_pattern(values):
    column = INCOMES.column("month")
    series = pd.Series(values, dtype="str")
    converted, bad = validate_module._coerce(column, series)
    pattern = series.str.strip().str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").to_numpy(dtype=bool)
    blank = (series.str.strip() == "").to_numpy(dtype=bool)
    np.testing.assert_array_equal(bad, ~pattern & ~blank)
    np.testing.assert_array_equal(converted.notna().to_numpy(), pattern)
    if pattern.all():
        assert validate_module._all_months(series) == (series.str.len() == 7).all()


def test_a_registry_with_a_bad_month_and_a_duplicate_iin_is_reported():
    """The clean registry takes the fast paths and is valid; one bad month and one repeated IIN are
    each reported (the general checks take over)."""
    fams = [
        family(
            "A",
            [
                person("applicant", incomes=quarter_incomes("wages", 50000)),
                person("child", born="2015-05-05"),
            ],
        ),
        family("B", [person("applicant", incomes=quarter_incomes("pension", 40000))]),
    ]
    fam, per, inc = tables(fams)
    per, inc = per.astype({"iin": "str"}), inc.astype({"month": "str"})
    assert validate_module.validate(fam, per, inc)[3].ok
    inc.loc[3, "month"] = "2025-13"
    per.loc[2, "iin"] = per.loc[0, "iin"]
    problems = validate_module.validate(fam, per, inc)[3].problems
    assert set(problems["rule"]) >= {"type_month", "duplicate_iin"}
    assert (problems.loc[problems["rule"] == "type_month", "row_id"] == "row 4").all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1800, 2099), st.integers(1, 12), st.integers(1, 31)), min_size=1))
def test_iin_dates_in_integers_equal_numpys_calendar(dates):
    """The IIN's date of birth as days since 1970 by integer arithmetic equals numpy's month-to-day casts
    (a day past the month's end runs on into the next month in both)."""
    from atauly.registry.iin import _days_since_epoch

    year, month, day = (np.array(v, dtype=np.int64) for v in zip(*dates, strict=True))
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]").astype("datetime64[D]")
    expected = (first + (day - 1).astype("timedelta64[D]")).view(np.int64)
    got = _days_since_epoch(year, month.astype(np.int16), day.astype(np.int16))
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["M", "F", "X", "", "MM", " M"]), st.none()), min_size=1))
def test_sex_masks_read_off_the_bytes_equal_the_comparison(values):
    """One-byte values are read off the buffer; any other column is compared as text: the same masks."""
    from atauly.registry.iin import _sex_masks

    series = pd.Series(values, dtype="str")
    male, female = _sex_masks(series)
    objects = np.array([None if pd.isna(v) else v for v in series], dtype=object)
    np.testing.assert_array_equal(male, objects == "M")
    np.testing.assert_array_equal(female, objects == "F")


def test_parquet_text_columns_are_read_in_one_chunk(tmp_path):
    """A table written in several row groups is read with each text column in one Arrow chunk (later
    checks then do not join the chunks again), values and types unchanged."""
    import pyarrow.parquet as pq

    from atauly.registry.io import read_parquet

    frame = pd.DataFrame({"person_id": [f"P{i:05d}" for i in range(1000)], "n": np.arange(1000)})
    frame["person_id"] = frame["person_id"].astype("str")
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "t.parquet", row_group_size=100
    )
    read = read_parquet(tmp_path / "t.parquet")
    assert pq.ParquetFile(tmp_path / "t.parquet").metadata.num_row_groups == 10
    assert read["person_id"].array._pa_array.num_chunks == 1
    pd.testing.assert_frame_equal(read, pd.read_parquet(tmp_path / "t.parquet"), check_exact=True)


def test_arrow_dtype_text_in_several_row_groups_reads_as_pandas_does(tmp_path):
    """A registry file written from Arrow-backed columns (``large_string[pyarrow]``, as ``to_parquet`` of a
    pipeline with ``dtype_backend="pyarrow"`` records them) in several row groups reads, is joined and
    validates' helper keeps it as pandas reads it (the join once raised TypeError on this dtype)."""
    import pyarrow.parquet as pq

    from atauly.registry.io import read_parquet
    from atauly.registry.validate import _one_chunk

    frame = pd.DataFrame(
        {
            "person_id": pd.array(["P1", "P2", None, "P4"], dtype=pd.ArrowDtype(pa.large_string())),
            "n": np.arange(4),
        }
    )
    frame.to_parquet(tmp_path / "a.parquet", row_group_size=2)
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 2
    expected = pd.read_parquet(tmp_path / "a.parquet")
    read = read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(read, expected, check_exact=True)
    assert read["person_id"].array._pa_array.num_chunks == 1
    kept, arr = _one_chunk(expected["person_id"])
    pd.testing.assert_series_equal(kept, expected["person_id"], check_exact=True)


def test_keys_give_the_positions_and_duplicates_of_the_values():
    """Ids hashed together (references with missing values and unknown ids too) give the positions and
    duplicates the values give."""
    from atauly.registry.arrow import Keys

    ref = pd.Series(["a", "b", "c", "b", None], dtype="str")
    query = pd.Series(["c", "x", None, "a", "a", "b"], dtype="str")
    keys = Keys(ref, query)
    np.testing.assert_array_equal(keys.positions(), [2, -1, -1, 0, 0, 1])
    np.testing.assert_array_equal(keys.duplicated(), [False, True, False, True, False])
    empty = Keys(pd.Series([], dtype="str"), pd.Series(["a"], dtype="str"))
    np.testing.assert_array_equal(empty.positions(), [-1])
