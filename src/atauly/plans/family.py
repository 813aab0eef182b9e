"""One family's plan: for each member who can take part, the eligible measures with their expected effect,
uncertainty and cost, the recommended one; month-by-month steps, conditions, monitoring dates, the
expected per-capita income after the plan against the poverty line, and the exit criteria.

The recommendation is the family's row of a national/district plan when one is given (places and budgets
respected); otherwise, for each member, the eligible measure of highest value (probability of exit plus
progress towards the line), the cheaper one on a tie, with the family's members not given two measures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atauly.i18n import N_
from atauly.registry import Registry

from .calendar import add_months, months_between
from .catalog import Catalog
from .eligibility import family_exit_probability, pairs
from .people import build_population


class FamilyNotPlannable(ValueError):
    """The family is not in the registry, or not entitled to conditional ASP: no social contract."""


@dataclass
class MemberOption:
    measure: str
    label: str
    expected_gain_kzt: float
    gain_sd_kzt: float
    cost_mrp: float
    cost_kzt: float
    exit_probability_alone: float
    months: int
    funding_source: str
    responsible_body: str
    reference: str
    status: str


@dataclass
class Member:
    person_id: str
    role: str
    sex: str
    age: int
    iin_masked: str
    employment_status: str
    education: str
    able_bodied: bool
    carer: bool
    options: list[MemberOption] = field(default_factory=list)
    recommended: MemberOption | None = None
    start_month: str | None = None


@dataclass
class Step:
    month: str
    what: str  # a message id (English) formatted with ``fields``
    fields: dict
    responsible: str = ""


@dataclass
class FamilyPlan:
    family_id: str
    quarter: str
    region_kato: str
    district: str
    members_count: int
    per_capita_income: float
    poverty_line: float
    asp_monthly_amount: float
    members: list[Member]
    steps: list[Step]
    monitoring: list[str]
    expected_gain_kzt: float
    expected_per_capita_after: float
    exit_probability: float
    plan_months: int
    mrp: float
    drafted_on: str
    source: str  # "district plan" or "family recommendation"
    specialist: str = ""

    @property
    def assigned(self) -> list[Member]:
        return [m for m in self.members if m.recommended is not None]


def _mask_iin(iin: str) -> str:
    iin = str(iin)
    return "•" * 8 + iin[-4:] if len(iin) >= 4 else "•" * len(iin)


def family_plan(
    registry: Registry,
    quarter,
    family_id: str,
    catalog: Catalog,
    assignments: pd.DataFrame | None = None,
    specialist: str = "",
    today: dt.date | None = None,
) -> FamilyPlan:
    """The plan of ``family_id``; ``assignments`` (a national plan's table) gives the placed measures."""
    from atauly.law.simulation import Quarter

    q = Quarter.parse(str(quarter))
    family_id = str(family_id)
    one, law = _conditional_family(registry, q, family_id)
    row = law.iloc[0]
    pop = build_population(one, law, catalog.planning.equity_min_children)
    fam = pop.families.iloc[0]
    options = _member_options(pairs(pop, catalog), catalog)
    members = _members(pop.persons, options, one.persons["iin"].astype(str).to_numpy())
    source = _recommend(members, assignments, family_id, q.first_month)
    chosen = [m for m in members if m.recommended is not None]
    mu = np.array([m.recommended.expected_gain_kzt for m in chosen])
    sd = np.array([m.recommended.gain_sd_kzt for m in chosen])
    need = np.array([float(fam["need_kzt"])])
    p_exit = (
        float(family_exit_probability(need, np.zeros(len(chosen), dtype=np.int64), mu, sd, 1)[0])
        if chosen
        else 0.0
    )
    gain = float(mu.sum()) if chosen else 0.0
    horizon = catalog.planning.horizon_months
    steps, monitoring = plan_steps(q.first_month, chosen, horizon)
    return FamilyPlan(
        family_id=family_id,
        quarter=str(q),
        region_kato=str(fam["region_kato"]),
        district=str(fam["district"]),
        members_count=int(fam["members"]),
        per_capita_income=float(fam["per_capita_income"]),
        poverty_line=float(fam["poverty_line"]),
        asp_monthly_amount=float(row["asp_monthly_amount"]),
        members=members,
        steps=steps,
        monitoring=monitoring,
        expected_gain_kzt=round(gain, 2),
        expected_per_capita_after=round(float(fam["per_capita_income"]) + gain / int(fam["members"]), 2),
        exit_probability=round(p_exit, 4),
        plan_months=horizon,
        mrp=catalog.mrp,
        drafted_on=(today or dt.date.today()).isoformat(),
        source=source,
        specialist=specialist,
    )


def _conditional_family(registry: Registry, q, family_id: str) -> tuple[Registry, pd.DataFrame]:
    """The family alone and the law's result for it; :class:`FamilyNotPlannable` unless it is entitled to
    conditional ASP for ``q``."""
    from atauly.law.compute import compute

    mask = (registry.families["family_id"].astype(str) == family_id).to_numpy(dtype=bool)
    if not mask.any():
        raise FamilyNotPlannable(f"family {family_id} is not in the registry")
    one = registry.take(mask)
    law = compute(one, q)
    row = law.iloc[0]
    if not (bool(row["eligible"]) and str(row["asp_type"]) == "conditional"):
        kind = "not entitled to ASP" if not bool(row["eligible"]) else f"entitled to {row['asp_type']} ASP"
        raise FamilyNotPlannable(
            f"family {family_id} is {kind} for {q} by the law: an individual assistance plan and a social "
            "contract are for families on conditional ASP (Social Code Art. 122)"
        )
    return one, law


def _member_options(pr: pd.DataFrame, catalog: Catalog) -> dict[int, list[tuple[float, MemberOption]]]:
    """Each member's eligible measures (by row in the population's persons), with their values."""
    options: dict[int, list[tuple[float, MemberOption]]] = {}
    for r in pr.itertuples(index=False):
        m = catalog.measures[int(r.measure)]
        opt = MemberOption(
            measure=m.key,
            label=m.label,
            expected_gain_kzt=float(r.mu_kzt),
            gain_sd_kzt=float(r.sd_kzt),
            cost_mrp=float(r.cost_mrp),
            cost_kzt=round(float(r.cost_mrp) * catalog.mrp, 2),
            exit_probability_alone=float(r.p_exit),
            months=m.months,
            funding_source=m.funding_source,
            responsible_body=m.responsible_body,
            reference=m.reference,
            status=m.status,
        )
        options.setdefault(int(r.person), []).append((float(r.value), opt))
    return options


def _members(per: pd.DataFrame, options: dict, iins) -> list[Member]:
    """The members aged 16 or more who have a measure or can work, their options best first (the cheaper
    on a tie)."""
    members: list[Member] = []
    for i, p in enumerate(per.itertuples(index=False)):
        if not p.born or p.age < 16:
            continue
        ranked = [o for _, o in sorted(options.get(i, []), key=lambda vo: (-vo[0], vo[1].cost_mrp))]
        if not ranked and not p.able_bodied:
            continue
        members.append(
            Member(
                person_id=p.person_id,
                role=p.role,
                sex=p.sex,
                age=int(p.age),
                iin_masked=_mask_iin(iins[i]),
                employment_status=p.employment_status,
                education=p.education,
                able_bodied=bool(p.able_bodied),
                carer=bool(p.carer),
                options=ranked,
            )
        )
    return members


def _recommend(
    members: list[Member], assignments: pd.DataFrame | None, family_id: str, first_month: str
) -> str:
    """Set each member's recommended measure and start: the district plan's when it placed the family,
    else each member's best option from ``first_month``. Returns the plan's source."""
    if assignments is not None and len(assignments):
        mine = assignments[assignments["family_id"].astype(str) == family_id]
        if len(mine):
            for m in members:
                hit = mine[mine["person_id"].astype(str) == m.person_id]
                if len(hit):
                    key = str(hit["measure"].iloc[0])
                    m.recommended = next((o for o in m.options if o.measure == key), None)
                    m.start_month = str(hit["start_month"].iloc[0])
            return "district plan"
    for m in members:
        if m.options:
            m.recommended = m.options[0]
            m.start_month = first_month
    return "family recommendation"


def plan_steps(first_month: str, chosen: list[Member], horizon: int) -> tuple[list[Step], list[str]]:
    steps = [
        Step(first_month, N_("Sign the social contract and this plan with the specialist"), {}),
        Step(first_month, N_("Register with the career centre; agree the first appointments"), {}),
    ]
    for m in chosen:
        o = m.recommended
        start = m.start_month or first_month
        offset = months_between(first_month, start)
        steps.append(
            Step(
                start,
                N_("{member}: start {measure} ({months} months)"),
                {"member": m.role, "measure": o.label, "months": o.months},
                o.responsible_body,
            )
        )
        end = add_months(first_month, offset + o.months - 1)
        steps.append(
            Step(
                end,
                N_("{member}: complete {measure}; report the result"),
                {"member": m.role, "measure": o.label},
            )
        )
    monitoring = [add_months(first_month, k) for k in range(2, horizon + 1, 3)]
    for month in monitoring:
        steps.append(Step(month, N_("Monitoring visit: steps done, income, difficulties"), {}))
    steps.append(
        Step(
            add_months(first_month, horizon - 1),
            N_("Exit review: per-capita income against the poverty line; the contract ends or is renewed"),
            {},
        )
    )
    steps.sort(key=lambda s: s.month)
    return steps, monitoring


def plan_as_dict(plan: FamilyPlan) -> dict:
    """The plan as plain data (JSON): what the service stores and the family's version shows."""
    from dataclasses import asdict

    data = asdict(plan)
    data["assigned"] = [m.person_id for m in plan.assigned]
    return data
