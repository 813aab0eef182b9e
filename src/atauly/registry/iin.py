"""Kazakhstan individual identification numbers (IIN / ЖСН), checked fully and vectorised.

Structure (Gov. decree No. 565 of 11 Jun 2003; fact sheet §6): YYMMDD + C + NNNN + K, where C gives the
century of birth and the sex (1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd = male, even = female) and K is a
check digit: the weighted sum of the first 11 digits with weights 1..11 mod 11; if that is 10, the
weights 3..11,1,2; if that is 10 again the number is never issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

W1 = np.arange(1, 12)
W2 = np.array([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])
CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def check_digit(first11: str) -> int | None:
    """The check digit for an 11-digit prefix, or None when such a prefix is never issued."""
    digits = np.array([int(c) for c in first11])
    s = int(digits @ W1) % 11
    if s == 10:
        s = int(digits @ W2) % 11
        if s == 10:
            return None
    return s


def make_iin(birth_date: dt.date, sex: str, serial: int) -> str:
    """A valid IIN for a birth date, sex ('M'/'F') and serial (0..9999), skipping unusable serials.

    Used to build synthetic people; raises ValueError when no serial at or after ``serial`` works.
    """
    base = (birth_date.year // 100 - 18) * 2 + 1 + (1 if sex == "F" else 0)
    if base not in CENTURY:
        raise ValueError(f"birth year {birth_date.year} outside the IIN centuries 1800-2099")
    for n in range(serial, 10000):
        first11 = f"{birth_date:%y%m%d}{base}{n:04d}"
        k = check_digit(first11)
        if k is not None:
            return first11 + str(k)
    raise ValueError("no usable serial left")


#: Problem codes returned by :func:`check_iins`, in the order they are tested.
IIN_RULES = {
    "iin_format": "must be exactly 12 digits",
    "iin_date": "first six digits must be a valid date of birth YYMMDD",
    "iin_century_sex": "7th digit must be 1-6 (century and sex)",
    "iin_check_digit": "check digit (12th) does not match the two-weight algorithm",
    "iin_birth_date_mismatch": "date of birth in the IIN differs from birth_date",
    "iin_sex_mismatch": "sex in the IIN (7th digit) differs from sex",
}


def check_iins(
    iins: Iterable[object],
    birth_dates: Iterable[object] | None = None,
    sexes: Iterable[object] | None = None,
) -> np.ndarray:
    """Check many IINs at once (Arrow strings, no Python objects per IIN). Returns an array of problem codes ('' when the IIN is valid).

    ``birth_dates`` (datetime-like) and ``sexes`` ('M'/'F'), when given, must agree with the IIN.
    The first failing rule is reported for each IIN.
    """
    return IIN_CODES[check_iin_codes(iins, birth_dates, sexes)]


#: ``check_iin_codes`` returns indices into this array: 0 (valid, '') or a rule of :data:`IIN_RULES`.
IIN_CODES = np.array(["", *IIN_RULES], dtype=object)
_CODE = {rule: i for i, rule in enumerate(IIN_CODES) if rule}


def check_iin_codes(
    iins: Iterable[object],
    birth_dates: Iterable[object] | None = None,
    sexes: Iterable[object] | None = None,
) -> np.ndarray:
    """:func:`check_iins` as small integers (indices into :data:`IIN_CODES`): what a registry of millions
    of persons is checked with, without an array of Python strings."""
    strings = _arrow_strings(iins)
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    strings = strings.cast(pa.large_string())
    n = len(strings)
    result = np.zeros(n, dtype=np.int8)
    if n == 0:
        return result
    block = _twelve_digit_block(strings)
    if block is not None:  # every value is 12 ASCII digits (a clean registry): no regex, no filter
        ok_format = np.ones(n, dtype=bool)
        digits = block
    else:
        matched = pc.fill_null(pc.match_substring_regex(strings, r"^[0-9]{12}$"), False)
        ok_format = np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)
        result[~ok_format] = _CODE["iin_format"]
        if not ok_format.any():
            return result
        # The remaining values are 12 ASCII digits: their UTF-8 bytes form one contiguous (n, 12) block.
        digits = _twelve_digit_block(pc.filter(strings, pa.array(ok_format)))
    idx = np.flatnonzero(ok_format)
    digits = digits.astype(np.int16) - 48
    c = digits[:, 6]
    ok_c = (c >= 1) & (c <= 6)
    century = np.where(ok_c, (np.clip(c, 1, 6) - 1) // 2 * 100 + 1800, 1900)
    year = century + digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    day = digits[:, 4] * 10 + digits[:, 5]
    # A valid calendar date: the day within the month's length (leap years by the Gregorian rule).
    month_ok = (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + (leap & (month == 2))
    date_ok = month_ok & (day >= 1) & (day <= days_in_month)
    first11 = digits[:, :11].astype(np.int32)
    s1 = (first11 @ W1.astype(np.int32)) % 11
    s2 = (first11 @ W2.astype(np.int32)) % 11
    k = np.where(s1 == 10, s2, s1)
    check_ok = (k != 10) & (k == digits[:, 11])
    sub = np.zeros(len(idx), dtype=np.int8)
    sub[~check_ok] = _CODE["iin_check_digit"]
    sub[~ok_c] = _CODE["iin_century_sex"]
    sub[~date_ok] = _CODE["iin_date"]
    if birth_dates is not None:
        born = _days_since_epoch(year, np.clip(month, 1, 12), np.clip(day, 1, 31))
        bd = _array(birth_dates, "datetime64[D]")[idx]
        mism = (sub == 0) & ~np.isnat(bd) & (bd.view(np.int64) != born)
        sub[mism] = _CODE["iin_birth_date_mismatch"]
    if sexes is not None:
        male, female = _sex_masks(sexes)
        iin_male = c % 2 == 1
        mism = (sub == 0) & ((male[idx] & ~iin_male) | (female[idx] & iin_male))
        sub[mism] = _CODE["iin_sex_mismatch"]
    result[idx] = sub
    return result


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 to year-month-day (proleptic Gregorian, as numpy's datetime64[D]; a day past
    the month's end runs on into the next month), in integer arithmetic: numpy's month-to-day casts of
    millions of dates cost more than the rest of the IIN checks."""
    y = year.astype(np.int64) - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month.astype(np.int64) + 9) % 12) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def fixed_width_bytes(strings: pa.Array, width: int) -> np.ndarray | None:
    """The (n, width) bytes of an Arrow ``large_string`` array when every value is present and exactly
    ``width`` bytes long (a view of its buffer, no copy), else None."""
    if strings.null_count or len(strings) == 0:
        return None
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    if offsets[-1] - offsets[0] != width * len(strings) or not (np.diff(offsets) == width).all():
        return None
    return np.frombuffer(strings.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, width)


def _twelve_digit_block(strings: pa.Array) -> np.ndarray | None:
    """The (n, 12) bytes of ``strings`` when every value is present and exactly 12 ASCII digits, else
    None."""
    data = fixed_width_bytes(strings, 12)
    if data is None or ((data < 48) | (data > 57)).any():
        return None
    return data


def _sex_masks(sexes: Iterable[object]) -> tuple[np.ndarray, np.ndarray]:
    """(is 'M', is 'F') for every value: by Arrow for text columns, else element by element."""
    if isinstance(sexes, pd.Series) and isinstance(sexes.dtype, pd.StringDtype | pd.ArrowDtype):
        try:
            arr = pa.array(sexes)
            if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 1:
                arr = arr.chunk(0)
            if isinstance(arr, pa.Array) and pa.types.is_large_string(arr.type):
                one = fixed_width_bytes(arr, 1)  # every value present and one byte: read the bytes
                if one is not None:
                    return one[:, 0] == ord("M"), one[:, 0] == ord("F")
            return tuple(
                pc.fill_null(pc.equal(arr, v), False).to_numpy(zero_copy_only=False) for v in ("M", "F")
            )
        except pa.ArrowException:  # any Arrow failure: compare element by element
            pass
    sx = _array(sexes, object)
    return sx == "M", sx == "F"


def _arrow_strings(values: Iterable[object]) -> pa.Array | pa.ChunkedArray:
    """``values`` as one Arrow string array (zero-copy for Arrow-backed pandas strings)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype | pd.ArrowDtype):
        try:
            arr = pa.array(values)
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                return arr
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    series = pd.Series(values if isinstance(values, pd.Series) else list(values), dtype="string")
    return pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.large_string())


def _array(values: Iterable[object], dtype) -> np.ndarray:
    if isinstance(values, np.ndarray | pd.Series | pd.Index):
        return np.asarray(values, dtype=dtype)
    return np.asarray(list(values), dtype=dtype)


def is_valid_iin(iin: str, birth_date: dt.date | None = None, sex: str | None = None) -> bool:
    return (
        check_iins(
            [iin],
            None if birth_date is None else [np.datetime64(birth_date, "D")],
            None if sex is None else [sex],
        )[0]
        == ""
    )


def mask_iin(value: object) -> str:
    """Never show an IIN in clear: keep only its length."""
    s = "" if value is None else str(value)
    return f"<{len(s)} chars hidden>"


def make_iins(birth_dates: np.ndarray, sexes: np.ndarray, serials: np.ndarray) -> np.ndarray:
    """Vectorised :func:`make_iin` for synthetic populations: valid IINs for many people at once.

    ``birth_dates`` are datetime64, ``sexes`` 'M'/'F', ``serials`` integers 0..9999. A serial whose
    prefix is never issued is moved to the next usable one (mod 10000); uniqueness is the caller's job.
    """
    born = np.asarray(birth_dates, dtype="datetime64[D]")
    years = born.astype("datetime64[Y]").astype(np.int64) + 1970
    months = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (born - born.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    c = (years // 100 - 18) * 2 + 1 + (np.asarray(sexes) == "F")
    if ((c < 1) | (c > 6)).any():
        raise ValueError("birth years must lie in 1800-2099")
    serial = np.asarray(serials, dtype=np.int64) % 10000
    digits = np.empty((len(born), 12), dtype=np.int64)
    yy = years % 100
    digits[:, 0], digits[:, 1] = yy // 10, yy % 10
    digits[:, 2], digits[:, 3] = months // 10, months % 10
    digits[:, 4], digits[:, 5] = days // 10, days % 10
    digits[:, 6] = c
    todo = np.ones(len(born), dtype=bool)
    for _ in range(20):
        s = serial[todo]
        for k, p in enumerate((1000, 100, 10, 1)):
            digits[todo, 7 + k] = s // p % 10
        d = digits[todo, :11]
        s1 = (d * W1).sum(axis=1) % 11
        s2 = (d * W2).sum(axis=1) % 11
        k = np.where(s1 == 10, s2, s1)
        usable = k != 10
        idx = np.flatnonzero(todo)
        digits[idx[usable], 11] = k[usable]
        serial[idx[~usable]] = (serial[idx[~usable]] + 1) % 10000
        todo[idx[usable]] = False
        if not todo.any():
            break
    chars = (digits + 48).astype(np.uint8)
    return chars.view("S12").ravel().astype(str)
