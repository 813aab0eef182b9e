"""Calendar helpers of the law: the quarters of OpenFisca periods (adapters to the registry's one
:class:`~atauly.registry.quarter.Quarter` type), and vectorised date arithmetic.

Ages, sanction periods and reference dates are computed for every person of a registry (20 million at
national scale), so the date fields are not taken through numpy's calendar conversions for every
element: :func:`calendar_fields` looks them up in a cached table of the calendar days the dates span.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from openfisca_core.periods import instant as make_instant
from openfisca_core.periods import period as make_period

from atauly.registry.quarter import Quarter

# --- quarters of OpenFisca periods (adapters to the registry's Quarter) --------------------------------


@lru_cache(maxsize=256)
def previous_quarter_months(period) -> tuple:
    """The three months (OpenFisca periods) of the calendar quarter before the one ``period`` starts in:
    the months whose income counts (Social Code Art. 127 p.2). Cached (periods are immutable): a
    simulation asks for them once per income source, and parsing them was a tenth of a small batch's
    law."""
    return tuple(make_period(month) for month in Quarter.of_openfisca(period).reference_months)


@lru_cache(maxsize=256)
def previous_quarter_instant(period):
    """The first day (an OpenFisca instant) of the calendar quarter before the one ``period`` starts in
    (cached, as :func:`previous_quarter_months`)."""
    return make_instant(Quarter.of_openfisca(period).previous().start)


def months_left_in_quarter(period) -> int:
    """Months from ``period``'s month to the end of its quarter, both included (1 to 3)."""
    months = Quarter.of_openfisca(period).months
    return len(months) - months.index(str(period.first_month))


# --- vectorised date arithmetic -----------------------------------------------------------------------


def month_index(dates) -> np.ndarray:
    """Months since 1970-01 of datetime64 dates."""
    return calendar_fields(dates)[0]


def calendar_fields(dates):
    """(months since 1970-01, day of the month, is the month's last day) of datetime64 dates.

    The same values as numpy's ``astype("datetime64[M]")`` conversions (``calendar_reference``, which
    this is property-tested against) at a fraction of their cost, which matters for the ages of 20
    million persons: the fields are computed once per calendar day of the span the dates cover (a few
    tens of thousands of days: births since 1900, the "no date" of 1900-01-01) and looked up. Arrays with
    NaT, or spanning more than ``TABLE_SPAN`` days, go through the reference.
    """
    days = np.asarray(dates).astype("datetime64[D]")
    if days.size == 0 or np.isnat(days).any():
        return calendar_reference(days)
    number = days.astype(np.int64)
    lo, hi = int(number.min()), int(number.max())
    if hi - lo > TABLE_SPAN:
        return calendar_reference(days)
    table = calendar_table(lo - lo % TABLE_STEP, hi - hi % TABLE_STEP + TABLE_STEP)
    index = number - (lo - lo % TABLE_STEP)
    return tuple(column[index] for column in table)


TABLE_SPAN = 400 * 366  # days; wider spans (odd data) go through the reference
TABLE_STEP = 4096  # table bounds are rounded to this, so that nearby spans share a cached table


@lru_cache(maxsize=8)
def calendar_table(lo: int, hi: int):
    """The fields of every day from ``lo`` to ``hi`` (days since 1970-01-01), read-only and cached."""
    fields = calendar_reference(np.arange(lo, hi, dtype=np.int64).astype("datetime64[D]"))
    for column in fields:
        column.setflags(write=False)
    return fields


def calendar_reference(dates):
    """The same fields by numpy's calendar conversions (slow; the definition ``calendar_fields`` is
    tested against, and its path for NaT)."""
    d = np.asarray(dates).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day = (d - month.astype("datetime64[D]")).astype(np.int64) + 1
    last = (d + np.timedelta64(1, "D")).astype("datetime64[M]") != month
    return month.astype(np.int64), day, last


def months_between(earlier, later):
    """Whole months from ``earlier`` to ``later`` (negative when ``later`` comes first).

    A month is complete on the same day of a later month, or on its last day when that month is shorter
    (31 Aug → 28 Feb is six months; born 29 Feb → a year older on 28 Feb).
    """
    later_month, later_day, later_last = calendar_fields(later)
    earlier_month, earlier_day, _ = calendar_fields(earlier)
    short = (later_day < earlier_day) & ~later_last
    return later_month - earlier_month - short
