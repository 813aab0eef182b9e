"""Readable explanations of the law's result for one family, in ru, kk and en.

The explanation reads the values OpenFisca computed (no rule is recomputed here; income lines are the
inputs summed by source) plus the parameters and legal references used, so it always agrees with
``atauly law compute``. One function per step (:mod:`.steps`), the details under them (:mod:`.details`),
the messages (:mod:`.messages`).
"""

from __future__ import annotations

import sys

from atauly.i18n import Translator
from atauly.registry import Registry
from atauly.registry.quarter import Quarter

from ..system import tax_benefit_system
from . import steps
from .case import Case, Explanation, one_family, parameter_reference
from .messages import (
    ASSET_BASIS,
    LEGAL_NOTES,
    SM_SOURCE_TEXT,
    TYPE_TEXT,
)

__all__ = [
    "ASSET_BASIS",
    "LEGAL_NOTES",
    "SM_SOURCE_TEXT",
    "TYPE_TEXT",
    "Explanation",
    "explain",
    "openfisca_trace",
    "parameter_reference",
]


def explain(
    registry: Registry, family_id: str, quarter: Quarter | str, lang: str = "ru", tbs=None
) -> Explanation:
    """Explain the result of the law for one family of a (validated) registry."""
    quarter = Quarter.parse(quarter)
    tbs = tbs or tax_benefit_system()
    one, month, sim = one_family(registry, family_id, quarter, tbs)
    case = Case(one, family_id, quarter, month, sim, tbs, Translator(lang))
    steps.family_and_members(case)
    steps.counted_income(case)
    steps.per_capita_income(case)
    steps.poverty_line(case)
    steps.income_test(case)
    reason = case.value("refusal_reason")
    if reason and reason != "none":
        steps.refusal(case, reason)
    else:
        steps.assistance_type(case)
        steps.asp_amount(case)
        steps.child_supplement(case)
        steps.assignment(case)
    return case.explanation


def openfisca_trace(registry: Registry, family_id: str, quarter: Quarter | str, tbs=None) -> list[str]:
    """OpenFisca's own computation log for one family (every variable and its value)."""
    quarter = Quarter.parse(quarter)
    _, month, sim = one_family(registry, family_id, quarter, tbs or tax_benefit_system())
    sim.trace = True
    for name in ("asp_quarter_total", "asp_type"):
        sim.calculate(name, month)
    return sim.tracer.computation_log.lines(aggregate=False, max_depth=sys.maxsize)
