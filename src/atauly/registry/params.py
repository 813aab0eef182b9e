"""Parameter constraints, declared once and checked the same way wherever a parameter arrives.

In the manner of scikit-learn's parameter constraints (``sklearn.utils._param_validation``): each
parameter lists what it accepts — an :class:`Interval`, :class:`Options`, or ``None`` for "may be left
out" — and :func:`validate_params` checks them all, raising :class:`ParamError` with a message that names
the parameter as its caller spells it (``--holdout`` on the command line, ``holdout`` in Python).

>>> validate_params({"holdout": 0.2}, {"holdout": [Interval(float, 0, 1, "neither")]})
>>> validate_params({"holdout": 1.5}, {"holdout": [Interval(float, 0, 1, "neither")]}, flag="--{}")
Traceback (most recent call last):
...
atauly.registry.params.ParamError: --holdout must be between 0 and 1 (got 1.5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real


class ParamError(ValueError):
    """A parameter outside what it accepts; the message names it, the rule and the value."""


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``int`` or ``float``; a float interval accepts whole numbers too) between
    ``left`` and ``right`` (``None``: unbounded), ``closed`` on "both", "left", "right" or "neither" side."""

    kind: type
    left: float | None = None
    right: float | None = None
    closed: str = "both"

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, Integral if self.kind is int else Real):
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        left_ok = (
            self.left is None or value > self.left or (value == self.left and self.closed in ("both", "left"))
        )
        right_ok = (
            self.right is None
            or value < self.right
            or (value == self.right and self.closed in ("both", "right"))
        )
        return left_ok and right_ok

    def describe(self) -> str:
        lo, hi = self.left, self.right
        if lo is not None and hi is not None:
            if self.closed == "neither":
                return f"between {_fmt(lo)} and {_fmt(hi)}"
            opening = "[" if self.closed in ("both", "left") else "("
            closing = "]" if self.closed in ("both", "right") else ")"
            return f"in {opening}{_fmt(lo)}, {_fmt(hi)}{closing}"
        if lo is not None:
            return f"at least {_fmt(lo)}" if self.closed in ("both", "left") else f"greater than {_fmt(lo)}"
        if hi is not None:
            return f"at most {_fmt(hi)}" if self.closed in ("both", "right") else f"less than {_fmt(hi)}"
        return "a whole number" if self.kind is int else "a number"


@dataclass(frozen=True)
class Options:
    """One of a few values."""

    values: tuple

    def accepts(self, value) -> bool:
        return value in self.values

    def describe(self) -> str:
        names = [str(v) for v in self.values]
        return " or ".join(names) if len(names) <= 2 else "one of " + ", ".join(names)


Constraint = Interval | Options | None


def describe(constraints: list[Constraint]) -> str:
    return " or ".join(c.describe() for c in constraints if c is not None)


def validate_params(
    values: dict,
    constraints: dict[str, list[Constraint]],
    *,
    flag: str = "{}",
    messages: dict[str, str] | None = None,
) -> None:
    """Check every parameter of ``values`` that ``constraints`` names; the first that fails raises.

    ``flag`` spells a parameter's name for the message (``"--{}"`` turns ``min_cases`` into ``--min-cases``);
    ``messages`` replaces the whole message for a parameter (``{value}`` is filled in).
    """
    for name, allowed in constraints.items():
        if name not in values:
            continue
        value = values[name]
        if any(value is None if c is None else c.accepts(value) for c in allowed):
            continue
        if messages and name in messages:
            raise ParamError(messages[name].format(value=value))
        shown = flag.format(name.replace("_", "-") if flag.startswith("--") else name)
        raise ParamError(f"{shown} must be {describe(allowed)} (got {value!r})")
