"""The one Quarter type: parsing with clear errors, the calendar, ordering, labels and the adapters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from atauly.registry.quarter import Quarter, QuarterError

quarters = st.builds(Quarter, st.integers(1900, 2200), st.integers(1, 4))
days = st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31))


@pytest.mark.parametrize(
    "text", ["2025Q3", "2025q3", "2025-Q3", "2025 Q3", " 2025Q3 ", "Q3 2025", "q3-2025", "2025/Q3", "2025Q03"]
)
def test_parse_accepts_the_usual_spellings(text):
    assert Quarter.parse(text) == Quarter(2025, 3)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2025Q5", "1, 2, 3 or 4"),
        ("2025Q0", "1, 2, 3 or 4"),
        ("2025", "look like 2025Q3"),
        ("25Q3", "look like 2025Q3"),
        ("", "look like 2025Q3"),
        ("2025-07", "look like 2025Q3"),
        ("0000Q1", "year"),
    ],
)
def test_parse_refuses_with_a_message_that_names_the_value(text, says):
    with pytest.raises(QuarterError, match=says) as err:
        Quarter.parse(text)
    assert repr(text) in str(err.value) or says == "year"
    assert isinstance(err.value, ValueError)  # callers that catch ValueError keep working


def test_constructor_and_parse_refuse_wrong_types():
    with pytest.raises(QuarterError, match="1, 2, 3 or 4"):
        Quarter(2025, 5)
    with pytest.raises(QuarterError, match="year"):
        Quarter("2025", 1)  # type: ignore[arg-type]
    with pytest.raises(QuarterError, match="text like 2025Q3"):
        Quarter.parse(20253)  # type: ignore[arg-type]
    with pytest.raises(QuarterError, match="2025-13"):
        Quarter.of("2025-13")
    with pytest.raises(QuarterError, match="cannot tell"):
        Quarter.of(3.5)


def test_known_values():
    q = Quarter.parse("2025Q3")
    assert str(q) == "2025Q3"
    assert q.months == ["2025-07", "2025-08", "2025-09"]
    assert (q.first_month, q.last_month) == ("2025-07", "2025-09")
    assert q.reference_months == ["2025-04", "2025-05", "2025-06"]
    assert (q.start, q.end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    assert str(Quarter(2025, 1).previous()) == "2024Q4" and str(Quarter(2024, 4).next()) == "2025Q1"
    assert Quarter(2024, 1).end == dt.date(2024, 3, 31) and Quarter(2024, 4).end == dt.date(2024, 12, 31)
    assert [str(x) for x in q.trailing(3)] == ["2025Q1", "2025Q2", "2025Q3"]
    assert Quarter.parse(q) is q


def test_labels_in_each_language():
    q = Quarter(2025, 3)
    assert q.label("ru") == "III квартал 2025 г."
    assert q.label("kk") == "2025 ж. III тоқсан"
    assert q.label("en") == "Q3 2025"
    assert Quarter(2024, 4).label("ru") == "IV квартал 2024 г."
    with pytest.raises(QuarterError, match="'de'"):
        q.label("de")


def test_of_accepts_dates_timestamps_datetime64_and_iso_text():
    expected = Quarter(2025, 3)
    for day in (
        dt.date(2025, 8, 14),
        dt.datetime(2025, 9, 30, 23, 59),
        pd.Timestamp("2025-07-01"),
        np.datetime64("2025-08-14"),
        np.datetime64("2025-08-14T10:00:00", "ns"),
        "2025-08-14",
        "2025-08",
        "2025-09-30T12:00:00",
    ):
        assert Quarter.of(day) == expected, day
    assert "2025-08-02" in expected and dt.date(2025, 10, 1) not in expected


def test_openfisca_adapters():
    from openfisca_core.periods import period

    q = Quarter(2025, 3)
    assert q.openfisca_period() == "month:2025-07:3"
    p = period(q.openfisca_period())
    assert [str(m) for m in p.get_subperiods("month")] == q.months
    assert Quarter.of_openfisca(p) == q
    assert Quarter.of_openfisca(period("2025-08")) == q
    assert Quarter.of_openfisca(period("2025-08").start) == q  # an Instant
    assert Quarter.of_openfisca("month:2025-07:3") == q and Quarter.of_openfisca("2025-09") == q
    with pytest.raises(QuarterError, match="OpenFisca"):
        Quarter.of_openfisca(object())


def test_pandas_adapters():
    q = Quarter(2025, 3)
    assert q.to_period() == pd.Period("2025Q3", freq="Q")
    assert q.start_time == pd.Period("2025Q3", freq="Q").start_time
    assert Quarter.of_period(pd.Period("2025Q3", freq="Q")) == q
    assert Quarter.of_period(pd.Period("2025-08", freq="M")) == q


@given(quarters)
def test_text_round_trips(q):
    assert Quarter.parse(str(q)) == q
    assert Quarter.parse(f"Q{q.q} {q.year}") == q
    assert Quarter.of_period(q.to_period()) == q
    assert str(q.to_period()) == str(q)


@given(quarters)
def test_calendar_is_consistent(q):
    assert Quarter.of(q.start) == q and Quarter.of(q.end) == q
    assert Quarter.of(q.end + dt.timedelta(days=1)) == q.next()
    assert Quarter.of(q.start - dt.timedelta(days=1)) == q.previous()
    assert [Quarter.of(m) for m in q.months] == [q, q, q]
    assert q.months[0] == q.start.isoformat()[:7] and q.months[-1] == q.end.isoformat()[:7]
    assert 90 <= (q.end - q.start).days + 1 <= 92
    assert q.reference_months == q.previous().months
    assert q.start_time == pd.Timestamp(q.start)


@given(days)
def test_every_day_falls_in_exactly_its_quarter(day):
    q = Quarter.of(day)
    assert q.start <= day <= q.end
    assert day.isoformat()[:7] in q.months
    assert Quarter.of(day.isoformat()) == q == Quarter.of(np.datetime64(day)) == Quarter.of(pd.Timestamp(day))


@given(quarters, st.integers(-400, 400))
def test_arithmetic(q, n):
    assert (q + n) - n == q
    assert (q + n) - q == n
    assert q.next(n) == q + n and q.previous(n) == q - n
    assert q.next().previous() == q
    assert (q + n > q) == (n > 0) and (q + n == q) == (n == 0)


@given(quarters, quarters)
def test_ordering_follows_time(a, b):
    assert (a < b) == (a.start < b.start)
    assert (a == b) == (a.start == b.start)
    assert sorted([a, b]) == sorted([a, b], key=lambda x: x.start)
    if a == b:
        assert hash(a) == hash(b)


@given(quarters, st.integers(1, 12))
def test_trailing(q, n):
    window = q.trailing(n)
    assert len(window) == n and window[-1] == q
    assert all(later - earlier == 1 for earlier, later in zip(window, window[1:], strict=False))


@given(quarters, st.sampled_from(["ru", "kk", "en"]))
def test_label_names_the_year_and_the_quarter(q, lang):
    label, roman = q.label(lang), ["I", "II", "III", "IV"][q.q - 1]
    expected = {
        "ru": f"{roman} квартал {q.year} г.",
        "kk": f"{q.year} ж. {roman} тоқсан",
        "en": f"Q{q.q} {q.year}",
    }
    assert label == expected[lang]


# --- months and period codes in text, as pages write them ------------------------------------------------


def test_month_labels_in_each_language():
    from atauly.registry.quarter import month_label

    assert month_label("2026-07", "ru") == "июль 2026 г."
    assert month_label("2026-07", "kk") == "2026 ж. шілде"
    assert month_label("2026-07", "en") == "July 2026"
    assert month_label(dt.date(2026, 12, 31), "kk") == "2026 ж. желтоқсан"
    with pytest.raises(QuarterError, match="2026-13"):
        month_label("2026-13", "ru")
    with pytest.raises(QuarterError, match="unknown language"):
        month_label("2026-07", "de")


def test_plain_periods_rewrites_codes_and_leaves_dates():
    from atauly.registry.quarter import plain_periods

    text = "income for 2026-07…2026-09 (2026Q3), decided 2026-10-15"
    assert plain_periods(text, "ru") == (
        "income for июль–сентябрь 2026 г. (III квартал 2026 г.), decided 2026-10-15"
    )
    assert plain_periods("2026Q4", "kk") == "2026 ж. IV тоқсан"
    assert plain_periods("тоқсан 2026Q4, есеп", "kk") == "2026 ж. IV тоқсан, есеп"  # the word once
    assert plain_periods("семья; квартал 2026Q4", "ru") == "семья; IV квартал 2026 г."
    assert plain_periods("2026Q4 2026-11", "en") == "Q4 2026 November 2026"
    assert plain_periods("2026-11/2026-12", "kk") == "2026 ж. қараша–желтоқсан"
    assert plain_periods("2026-12…2027-02", "en") == "December 2026 – February 2027"
    assert plain_periods("no period here 12026Q3", "en") == "no period here 12026Q3"


@given(st.integers(1000, 9999), st.integers(1, 4), st.sampled_from(["ru", "kk", "en"]))
def test_plain_periods_leaves_no_code_behind(year, q, lang):
    import re

    from atauly.registry.quarter import plain_periods

    quarter = Quarter(year, q)
    text = plain_periods(f"{quarter} {' '.join(quarter.months)}", lang)
    assert not re.search(r"\d{4}Q[1-4]|\d{4}-\d{2}", text)
    assert quarter.label(lang) in text
