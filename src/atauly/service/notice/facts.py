"""What a notice is written from: the application, its state, the officer's decision, and the law's result
for it with the law's parameters at the application month. Every legal figure the notice states (members,
counted income, income per person, poverty line, amounts, period, total) is read from the law's result as
stored with the recommendation (:func:`atauly.law.compute.compute`, one row); the notice computes none."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from atauly.i18n import Translator
from atauly.registry.quarter import Quarter

from ..facts import with_facts
from ..models import Application, Decision, Recommendation

#: The notice's state for each application status (any other status: still pending).
STATES = {"approved": "approved", "rejected": "rejected", "home_visit": "home_visit", "reopened": "reopened"}


def law_parameters(month: str):
    """The law's parameters in force on the first day of ``month`` ('YYYY-MM')."""
    from atauly.law.system import tax_benefit_system

    return tax_benefit_system().parameters(f"{month}-01")


@dataclass
class Facts:
    app: Application
    t: Translator

    @property
    def rec(self) -> Recommendation | None:
        """The recommendation the decision used (the latest one before a decision)."""
        d = self.app.decision
        if self.decided and d is not None and d.recommendation is not None:
            return d.recommendation
        return self.app.recommendation

    @property
    def confirmed(self) -> dict:
        """The confirmed facts the law and the model used (``{}`` when none)."""
        return dict(self.rec.facts or {}) if self.rec is not None else {}

    @cached_property
    def tables(self) -> dict:
        """The application's tables as the law and the model saw them: the confirmed facts applied."""
        return with_facts(self.app.snapshot, self.confirmed)

    @property
    def fingerprint(self) -> str:
        """The hash of the data the result was computed on (the recommendation's when facts were applied)."""
        if self.confirmed and self.rec is not None:
            return self.rec.input_hash or ""
        return self.app.input_hash or ""

    def mark(self, column: str, text: str) -> str:
        """``text`` with a note when ``column``'s value is a confirmed fact."""
        if column in self.confirmed:
            return f"{text} ({self.t('confirmed at the inspection')})"
        return text

    @property
    def decision(self) -> Decision | None:
        return self.app.decision

    @cached_property
    def law(self) -> dict:
        """The law's result for this application (empty before there is a recommendation)."""
        return dict(self.rec.law) if self.rec is not None else {}

    @property
    def state(self) -> str:
        return STATES.get(self.app.status, "pending")

    @property
    def decided(self) -> bool:
        return self.state in ("approved", "rejected")

    @property
    def month(self) -> str:
        """The application month the law used ('YYYY-MM'); the day of receipt's before any result."""
        return str(self.law.get("application_month") or f"{self.app.received_on:%Y-%m}")

    @cached_property
    def at(self):
        """The law's parameters at the application month (the ban's length, dwellings allowed, ages…)."""
        return law_parameters(self.month)

    @property
    def income_months(self) -> list[str]:
        """The months whose income the law counts: the quarter before the application's (Art. 127 p.2)."""
        return Quarter.of(self.month).reference_months

    def figure(self, name: str) -> float:
        """A money figure of the law's result (0 when the law gives none)."""
        return float(self.law.get(name) or 0)

    @property
    def family(self) -> dict:
        return self.tables["families"][0]

    @property
    def persons(self) -> list[dict]:
        return self.tables["persons"]

    def refusal_text(self, plain: dict) -> str:
        """The law's ground for refusal in plain words ('' when entitled or the ground has no text)."""
        reason = self.law.get("refusal_reason") or ""
        if reason not in plain:
            return ""
        return self.t(
            plain[reason], months=int(self.at.sanctions.months), n=int(self.at.assets.max_dwellings)
        )

    def income_of(self, source: str) -> float:
        """What the family's data shows of ``source`` in the counted months (shown beside the law's total)."""
        months = set(self.income_months)
        return sum(
            float(i["amount_kzt"])
            for i in self.tables.get("incomes", [])
            if i["source"] == source and i["month"] in months
        )
