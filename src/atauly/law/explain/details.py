"""The details under an explanation's steps: one line per member, who and when behind a refusal, and the
values that stand in for the ones a rule names."""

from __future__ import annotations

import numpy as np
import pandas as pd
from openfisca_core.periods import period

from atauly.registry.codes import REGIONS, region_name
from atauly.registry.labels import label_in_sentence

from .case import Case, day, in_force_since

REGION_BY_KEY = {r.key: r for r in REGIONS}


def member_lines(case: Case) -> list[str]:
    """One line per person: role, age, status, and what the law makes of them on the reference date."""
    t, at = case.t, case.at
    born, age, able = case.array("is_born"), case.array("age"), case.array("is_able_bodied")
    carer, cared = case.array("is_qualifying_carer"), case.array("is_disabled_for_care")
    retired = case.array("is_of_retirement_age")
    lo, hi = int(at.child_supplement.min_age), int(at.child_supplement.max_age)
    lines = []
    for k, p in enumerate(case.one.persons.itertuples(index=False)):
        role = label_in_sentence("member_role", p.role, t.lang)
        if not born[k]:
            lines.append(
                t(
                    "{role}, born {born}: not yet born on {date}, not a member",
                    role=role,
                    born=t.date(day(p.birth_date)),
                    date=t.date(case.reference_date),
                )
            )
            continue
        facts = [t("{n} years", n=int(age[k]))]
        minor = int(age[k]) < int(at.work_ability.min_age)
        if not minor or p.employment_status not in ("not_working", None):
            facts.append(label_in_sentence("employment", p.employment_status or "not_working", t.lang))
        if int(p.disability_group):
            facts.append(t("disability group {g}", g=int(p.disability_group)))
        if minor:
            pass  # a child: neither able-bodied nor not, for the law's purposes
        elif able[k] and carer[k]:
            facts.append(t("able-bodied, exempt as a carer"))
        elif able[k]:
            facts.append(t("able-bodied"))
        elif retired[k]:
            facts.append(t("of retirement age"))
        else:
            facts.append(t("not able-bodied"))
        if cared[k]:
            facts.append(t("needs care"))
        if lo <= int(age[k]) <= hi:
            facts.append(t("earns the child supplement (aged {lo}–{hi})", lo=lo, hi=hi))
        lines.append(f"{role}: " + ", ".join(facts))
    return lines


def refusal_details(case: Case, reason: str) -> list[str]:
    """Who and when: the person and the dates behind a refusal, the counts behind an asset rule."""
    t, at = case.t, case.at
    months = int(at.sanctions.months)

    def until(start) -> tuple[str, str]:
        begin = pd.Timestamp(np.datetime64(start, "D"))
        end = begin + pd.DateOffset(months=months) - pd.Timedelta(days=1)
        return t.date(begin.date().isoformat()), t.date(end.date().isoformat())

    fam = case.one.families.iloc[0]
    if reason == "refused_employment_measures":
        sanctioned = case.array("is_sanctioned_for_refusing_employment")
        age = case.array("age")
        dates = case.array("employment_measures_refusal_date")
        out = []
        for k in np.flatnonzero(sanctioned):
            start, end = until(dates[k])
            out.append(
                t(
                    "The {role} ({n} years) refused employment measures on {start}: no ASP from {start} to {end}; "
                    "a new application can be made from the day after",
                    role=label_in_sentence("member_role", case.one.persons["role"].iloc[k], t.lang),
                    n=int(age[k]),
                    start=start,
                    end=end,
                )
            )
        return out
    if reason == "social_contract_breach":
        start, end = until(case.value("social_contract_breach_date"))
        return [
            t(
                "The social contract was terminated through the recipient's fault on {start}: no ASP from {start} "
                "to {end}",
                start=start,
                end=end,
            )
        ]
    if reason == "too_many_dwellings":
        return [
            t(
                "Dwellings owned: {k}; allowed: {n}",
                k=int(fam["dwellings_owned"]),
                n=int(at.assets.max_dwellings),
            )
        ]
    if reason == "owns_vehicle":
        return [t("Motor vehicles owned: {k}", k=int(fam["vehicles_owned"]))]
    return []


def stale_inputs(case: Case, src: str, share_med: float, median: float) -> list[str]:
    """Flags for values that stand in for the ones the rule names: a national or older value, a fallback."""
    t, params, prev_q = case.t, case.params, case.previous_quarter
    out = []
    used = case.value("parameter_region")
    own = case.value("region")
    if used != own:
        out.append(
            "  – "
            + t(
                "note: {region} was created on 8 June 2022; before that the values of {parent} apply",
                region=region_name(case.region_kato, t.lang),
                parent=region_name(REGION_BY_KEY[used].kato, t.lang),
            )
        )
    if src == "national_bns":
        out.append(
            "  – "
            + t(
                "note: the national subsistence minimum stands in for the regional one, not published for {quarter}",
                quarter=prev_q,
            )
        )
    elif src == "budget":
        at_application = bool(case.at.subsistence_minimum.budget_value_at_application)
        instant = period(case.month).start if at_application else case.previous_quarter_instant
        out.append(
            "  – "
            + t(
                "fallback: no BNS subsistence minimum is published for {quarter}; the budget-law value in force "
                "since {since} is used",
                quarter=prev_q,
                since=t.date(in_force_since(params.subsistence_minimum.budget, instant)),
            )
        )
    if share_med > 0 and case.regional_median() <= 0:
        out.append(
            "  – "
            + t(
                "note: the national median income {median} (value of {since}) stands in for the regional "
                "median for {quarter}, which is not published",
                median=t.money(median, 2),
                since=t.date(in_force_since(params.median_income.national, case.previous_quarter_instant)),
                quarter=prev_q,
            )
        )
    return out
