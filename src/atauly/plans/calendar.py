"""Month arithmetic on ``YYYY-MM`` strings, shared by the plans (start months, steps, monitoring dates)."""

from __future__ import annotations


def add_months(first_month: str, offset: int) -> str:
    """The month ``offset`` months after ``first_month`` (both ``YYYY-MM``)."""
    y, m = map(int, first_month.split("-"))
    m0 = (m - 1) + offset
    return f"{y + m0 // 12}-{m0 % 12 + 1:02d}"


def months_between(first_month: str, month: str) -> int:
    """How many months ``month`` comes after ``first_month`` (both ``YYYY-MM``)."""
    y, mo = map(int, month.split("-"))
    y0, m0 = map(int, first_month.split("-"))
    return (y - y0) * 12 + (mo - m0)
