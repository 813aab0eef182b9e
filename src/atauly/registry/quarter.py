"""The calendar quarter: the one type every room uses for "2025Q3".

ASP is assigned for a quarter and counts the income of the quarter before it (Social Code Art. 127), so
the quarter is everywhere: registry partitions, the law's periods, the model's snapshots, the scan, the
service's pages. This module is its one home: parsing with clear errors, the quarter of a date, its
months, the previous and next quarters, its first and last days, ordering, a label in each language,
and thin adapters for OpenFisca periods and pandas.

>>> q = Quarter.parse("2025Q3")
>>> q.months, str(q.previous()), q.label("ru")
(['2025-07', '2025-08', '2025-09'], '2025Q2', 'III квартал 2025 г.')
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Quarter", "QuarterError", "month_label", "plain_periods"]

_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/ ]?\s*[Qq]\s*(\d+)$")  # 2025Q3, 2025-Q3, 2025 q3
_QUARTER_FIRST = re.compile(r"^[Qq]\s*(\d+)\s*[-/ ]?\s*(\d{4})$")  # Q3 2025, Q3-2025
_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")  # 2025-08 or 2025-08-14 (a time may follow)
_ROMAN = ("I", "II", "III", "IV")
# How people write a quarter in each language (a date format, like Babel's locale patterns, not a message):
# ru «III квартал 2025 г.», kk «2025 ж. III тоқсан», en "Q3 2025".
_LABELS = {"ru": "{roman} квартал {year} г.", "kk": "{year} ж. {roman} тоқсан", "en": "Q{q} {year}"}
# A month likewise: ru «июль 2026 г.», kk «2026 ж. шілде», en "July 2026" (the standalone month names).
_MONTH_LABELS = {"ru": "{name} {year} г.", "kk": "{year} ж. {name}", "en": "{name} {year}"}
_MONTH_NAMES = {
    "ru": (
        "январь", "февраль", "март", "апрель", "май", "июнь",
        "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
    ),
    "kk": (
        "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
        "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
# Period codes inside a text: a quarter (2026Q3), a month (2026-07, never the start of a date 2026-07-15).
# A quarter's label carries its own word: "квартал 2026Q4" becomes «IV квартал 2026 г.», not «квартал IV…».
_CODE_IN_TEXT = re.compile(
    r"(?:\b(?:квартал|тоқсан|quarter)\s+)?\b(\d{4})Q([1-4])\b|\b(\d{4})-(0[1-9]|1[0-2])\b(?!-\d)",
    re.IGNORECASE,
)


class QuarterError(ValueError):
    """A text or value that is not a calendar quarter; the message names the value and the rule."""


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter: ``year`` and ``q`` (1–4). Ordered in time; ``str()`` gives ``2025Q3``."""

    year: int
    q: int

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not 1 <= self.year <= 9999:
            raise QuarterError(f"quarter year must be a whole number from 1 to 9999, got {self.year!r}")
        if isinstance(self.q, bool) or not isinstance(self.q, int) or not 1 <= self.q <= 4:
            raise QuarterError(f"quarter number must be 1, 2, 3 or 4, got {self.q!r}")

    # --- making one ------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        """``2025Q3`` and its variants (``2025-Q3``, ``2025 q3``, ``Q3 2025``); a Quarter is returned as is."""
        if isinstance(text, Quarter):
            return text
        if not isinstance(text, str):
            raise QuarterError(f"quarter must be text like 2025Q3, got {type(text).__name__} {text!r}")
        s = text.strip()
        if m := _YEAR_FIRST.match(s):
            year, number = m.group(1), m.group(2)
        elif m := _QUARTER_FIRST.match(s):
            number, year = m.group(1), m.group(2)
        else:
            raise QuarterError(f"quarter must look like 2025Q3 (year, Q, 1-4), got {text!r}")
        if not 1 <= int(number) <= 4:
            raise QuarterError(f"quarter number must be 1, 2, 3 or 4, got {text!r}")
        if int(year) == 0:
            raise QuarterError(f"quarter year must be from 1 to 9999, got {text!r}")
        return cls(int(year), int(number))

    @classmethod
    def of(cls, day: Any) -> Quarter:
        """The quarter a day (or month) falls in: a ``date``/``datetime``, a pandas ``Timestamp``, a numpy
        ``datetime64``, or ISO text (``2025-08-14``, ``2025-08``)."""
        if isinstance(day, _dt.date):  # datetime and pandas.Timestamp are dates too
            return cls(day.year, (day.month - 1) // 3 + 1)
        if type(day).__name__ == "datetime64":  # numpy, without importing it here
            day = str(day.astype("datetime64[D]"))
        if isinstance(day, str):
            m = _MONTH.match(day.strip())
            if not m or not 1 <= int(m.group(2)) <= 12:
                raise QuarterError(f"a day must look like 2025-08-14 or a month like 2025-08, got {day!r}")
            return cls(int(m.group(1)), (int(m.group(2)) - 1) // 3 + 1)
        raise QuarterError(f"cannot tell the quarter of {type(day).__name__} {day!r}")

    @classmethod
    def today(cls) -> Quarter:
        return cls.of(_dt.date.today())

    # --- arithmetic and calendar ----------------------------------------------------------------------

    @property
    def index(self) -> int:
        """Quarters since the start of year 0 (``year * 4 + q - 1``): consecutive quarters differ by one."""
        return self.year * 4 + self.q - 1

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    def __add__(self, quarters: int) -> Quarter:
        if isinstance(quarters, bool) or not isinstance(quarters, int):
            return NotImplemented
        return Quarter.from_index(self.index + quarters)

    def __sub__(self, other: int | Quarter) -> Any:
        """``q - 2`` is two quarters earlier; ``q - p`` is the number of quarters from ``p`` to ``q``."""
        if isinstance(other, Quarter):
            return self.index - other.index
        if isinstance(other, bool) or not isinstance(other, int):
            return NotImplemented
        return Quarter.from_index(self.index - other)

    def previous(self, n: int = 1) -> Quarter:
        return self - n

    def next(self, n: int = 1) -> Quarter:
        return self + n

    def trailing(self, n: int) -> list[Quarter]:
        """The ``n`` quarters that end with this one, oldest first."""
        return [self - k for k in range(n - 1, -1, -1)]

    @property
    def months(self) -> list[str]:
        """Its three months as ``YYYY-MM`` text."""
        return [f"{self.year:04d}-{3 * (self.q - 1) + k:02d}" for k in (1, 2, 3)]

    @property
    def first_month(self) -> str:
        return self.months[0]

    @property
    def last_month(self) -> str:
        return self.months[-1]

    @property
    def reference_months(self) -> list[str]:
        """The months whose income ASP counts for an application in this quarter: the previous quarter's
        (Social Code Art. 127 p.2)."""
        return self.previous().months

    @property
    def start(self) -> _dt.date:
        """Its first day."""
        return _dt.date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def end(self) -> _dt.date:
        """Its last day."""
        if self.q == 4:
            return _dt.date(self.year, 12, 31)
        return _dt.date(self.year, 3 * self.q + 1, 1) - _dt.timedelta(days=1)

    def __contains__(self, day: Any) -> bool:
        return Quarter.of(day) == self

    # --- text -----------------------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    def label(self, lang: str = "ru") -> str:
        """As people write it: ru «III квартал 2025 г.», kk «2025 ж. III тоқсан», en "Q3 2025"."""
        if lang not in _LABELS:
            raise QuarterError(f"unknown language {lang!r}: use one of {', '.join(_LABELS)}")
        return _LABELS[lang].format(roman=_ROMAN[self.q - 1], year=self.year, q=self.q)

    def months_label(self, lang: str = "ru") -> list[str]:
        """Its three months as people write them (see :func:`month_label`)."""
        return [month_label(m, lang) for m in self.months]

    # --- adapters -------------------------------------------------------------------------------------

    def openfisca_period(self) -> str:
        """The OpenFisca period string of the quarter: three months from its first (``month:2025-07:3``)."""
        return f"month:{self.first_month}:3"

    @classmethod
    def of_openfisca(cls, value: Any) -> Quarter:
        """The quarter an OpenFisca period or instant (or its text: ``2025-07``, ``month:2025-07:3``) starts in."""
        if isinstance(value, str):
            text = value.strip()
            return cls.of(text.split(":")[1] if text.startswith(("month:", "year:", "day:")) else text)
        instant = getattr(value, "start", value)  # a Period has a start Instant; an Instant has year/month
        try:
            return cls(int(instant.year), (int(instant.month) - 1) // 3 + 1)
        except AttributeError:
            raise QuarterError(f"not an OpenFisca period or instant: {value!r}") from None

    def to_period(self) -> pd.Period:
        """The same quarter as a pandas ``Period`` (frequency ``Q-DEC``)."""
        import pandas as pd

        return pd.Period(year=self.year, quarter=self.q, freq="Q")

    @classmethod
    def of_period(cls, period: pd.Period) -> Quarter:
        """A pandas quarterly ``Period`` as a Quarter (any other frequency: the quarter it starts in)."""
        if getattr(period, "freqstr", None) == "Q-DEC":
            return cls(int(period.year), int(period.quarter))
        return cls.of(period.start_time)

    @property
    def start_time(self) -> pd.Timestamp:
        """Its first instant as a pandas ``Timestamp`` (what ``pd.Period(q, freq="Q").start_time`` gives)."""
        return self.to_period().start_time


def month_label(month: Any, lang: str = "ru") -> str:
    """A month (``2026-07``, a date, a datetime) as people write it: ru «июль 2026 г.», kk «2026 ж. шілде»,
    en "July 2026"."""
    if lang not in _MONTH_LABELS:
        raise QuarterError(f"unknown language {lang!r}: use one of {', '.join(_MONTH_LABELS)}")
    if isinstance(month, _dt.date):
        year, number = month.year, month.month
    else:
        m = _MONTH.match(str(month).strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise QuarterError(f"a month must look like 2025-08, got {month!r}")
        year, number = int(m.group(1)), int(m.group(2))
    return _MONTH_LABELS[lang].format(name=_MONTH_NAMES[lang][number - 1], year=year)


_MONTH_RANGE = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])\s*(?:…|\.\.\.|/|–)\s*(\d{4})-(0[1-9]|1[0-2])\b(?!-\d)")


def _month_range(m: re.Match, lang: str) -> str:
    """``2026-07…2026-09`` in words: one year written once (ru «июль–сентябрь 2026 г.»), else both months."""
    y1, m1, y2, m2 = (int(g) for g in m.groups())
    if y1 != y2:
        return f"{month_label(f'{y1:04d}-{m1:02d}', lang)} – {month_label(f'{y2:04d}-{m2:02d}', lang)}"
    names = _MONTH_NAMES[lang]
    return _MONTH_LABELS[lang].format(name=f"{names[m1 - 1]}–{names[m2 - 1]}", year=y1)


def plain_periods(text: str, lang: str = "ru") -> str:
    """``text`` with every quarter code (``2026Q3``) and month code (``2026-07``) in it written as people
    write them in ``lang`` (dates such as ``2026-07-15`` are left alone).

    >>> plain_periods("income for 2026-07…2026-09 (2026Q3)", "en")
    'income for July–September 2026 (Q3 2026)'
    """

    def one(m: re.Match) -> str:
        if m.group(1):
            return Quarter(int(m.group(1)), int(m.group(2))).label(lang)
        return month_label(f"{m.group(3)}-{m.group(4)}", lang)

    if lang not in _MONTH_LABELS:
        raise QuarterError(f"unknown language {lang!r}: use one of {', '.join(_MONTH_LABELS)}")
    text = _MONTH_RANGE.sub(lambda m: _month_range(m, lang), text)
    return _CODE_IN_TEXT.sub(one, text)
