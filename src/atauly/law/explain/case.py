"""What an explanation is made of: the family's simulation and the values OpenFisca computed for it, and
the explanation being written (lines, legal notes, parameters used)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from openfisca_core.periods import period

from atauly.i18n import Translator
from atauly.registry import Registry
from atauly.registry.quarter import Quarter

from ..calendar import previous_quarter_instant
from ..compute import application_months
from ..simulation import build_simulation
from ..variables.region import by_region
from .messages import LEGAL_HEADING, SOURCES_HEADING


@dataclass
class Explanation:
    family_id: str
    lang: str
    lines: list[str] = field(default_factory=list)
    parameters: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, reference)
    #: plain-language notes in the reader's language, citing the legal acts
    legal: list[str] = field(default_factory=list)
    eligible: bool = False

    def text(self) -> str:
        """The explanation; then the legal basis in plain words; then, last, the sources (parameter names,
        values and the research notes they come from), which pages show collapsed."""
        t = Translator(self.lang)
        out = list(self.lines)
        if self.legal:
            out.append("")
            out.append(t(LEGAL_HEADING))
            out.extend(f"  • {note}" for note in dict.fromkeys(self.legal))
        out.append("")
        out.append(t(SOURCES_HEADING))
        for name, value, ref in self.parameters:
            out.append(f"  • {name} = {value} — {ref}")
        return "\n".join(out)


def parameter_reference(parameter) -> str:
    """The references of a parameter (or its description when it has none), as one line."""
    ref = parameter.metadata.get("reference") if hasattr(parameter, "metadata") else None
    if isinstance(ref, list):
        return "; ".join(r.get("title", str(r)) if isinstance(r, dict) else str(r) for r in ref)
    return str(ref or parameter.description or "")


def day(value) -> str:
    """A datetime64 (or date) as YYYY-MM-DD."""
    return str(np.datetime64(value, "D"))


def in_force_since(parameter, instant) -> str:
    """The date from which the value of ``parameter`` in force at ``instant`` applies."""
    for value in parameter.values_list:  # newest first
        if value.instant_str <= str(instant):
            return value.instant_str
    return ""


def one_family(registry: Registry, family_id: str, quarter: Quarter, tbs):
    """The family's slice of the registry, the month it is computed for, and its simulation."""
    if family_id not in set(registry.families["family_id"]):
        raise KeyError(f"family {family_id!r} is not in the registry")
    one = registry.subset([family_id])
    month = application_months(one.families, quarter).iloc[0]
    return one, month, build_simulation(one, month, tbs)


@dataclass
class Case:
    """One family's simulation for its application month, read by the explanation's steps."""

    one: Registry
    family_id: str
    quarter: Quarter
    month: str
    sim: object
    tbs: object
    t: Translator

    def value(self, name: str):
        """The family's (or the first person's) value of a variable, enums as their names."""
        value = self.sim.calculate(name, self.month)
        return value.decode_to_str()[0] if hasattr(value, "decode_to_str") else value[0]

    def array(self, name: str) -> np.ndarray:
        """Every person's (or family's) value of a variable, enums as their names."""
        value = self.sim.calculate(name, self.month)
        return value.decode_to_str() if hasattr(value, "decode_to_str") else np.asarray(value)

    @property
    def params(self):
        """The parameter tree (for names and references)."""
        return self.tbs.parameters

    @cached_property
    def at(self):
        """The parameters in force in the application month."""
        return self.tbs.parameters(self.month)

    @cached_property
    def previous_quarter_instant(self):
        return previous_quarter_instant(period(self.month))

    @cached_property
    def previous_quarter(self) -> str:
        """The quarter whose incomes count and whose subsistence minimum and median the line uses."""
        return str(Quarter.of(self.month).previous())

    @cached_property
    def counted_months(self) -> list[str]:
        return Quarter.of(self.month).reference_months

    @cached_property
    def region_kato(self) -> str:
        return self.one.families["region_kato"].iloc[0]

    @cached_property
    def reference_date(self) -> str:
        return day(self.value("reference_date"))

    def regional_median(self) -> float:
        """The regional median of the preceding quarter (0 when not published)."""
        med = self.tbs.parameters(self.previous_quarter_instant).median_income
        return float(by_region(med.regional, self.sim.calculate("parameter_region", self.month))[0])

    def use(self, name: str, value: str, parameter) -> None:
        """Record a parameter used (its name, value and reference) for the sources list."""
        self.explanation.parameters.append((name, value, parameter_reference(parameter)))

    def note(self, text: str) -> None:
        """Record a plain-language legal note."""
        self.explanation.legal.append(text)

    @cached_property
    def explanation(self) -> Explanation:
        return Explanation(self.family_id, self.t.lang, eligible=bool(self.value("asp_eligible")))

    @property
    def lines(self) -> list[str]:
        return self.explanation.lines
