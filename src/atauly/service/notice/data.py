"""The notice's sections on the family's data: what the law and the officer used (members, incomes of the
counted months, property, other facts on record), and how to ask for a correction of it."""

from __future__ import annotations

from datetime import date

from atauly.registry.codes import INCOME_SOURCES
from atauly.registry.labels import (
    CORRECTABLE_FIELDS,
    DISABILITY_GROUPS,
    EMPLOYMENT_STATUSES,
    MEMBER_ROLES,
    SETTLEMENT_TYPES,
    SEXES,
)
from atauly.registry.labels import INCOME_SOURCES as SOURCE_LABELS

from ..display import age_on
from .blocks import bullets, kv, long_date, months_span, para, section, table
from .facts import Facts
from .texts import CORRECTION_EFFECT, CORRECTION_TEXT, SOURCES_TEXT

#: Below this age the notice shows no occupation (the data contract gives children "not_working").
WORKING_AGE_FROM = 16


def data_section(f: Facts) -> dict:
    t = f.t
    blocks = [para(t("The law and the officer used the following data about your family."))]
    blocks.append(_members(f))
    blocks.append(_incomes(f))
    blocks.append(kv(_property(f), caption=t("Property and loans")))
    other = _other_facts(f)
    if other:
        blocks.append(bullets(other, caption=t("Other facts on record")))
    blocks.append(para(t(SOURCES_TEXT), note=True))
    return section("data", t("The data used about your family"), blocks)


def _tr(t, labels: dict, code) -> str:
    message = labels.get(code)
    return t(message) if message else str(code or "")


def _members(f: Facts) -> dict:
    t, on = f.t, f.app.received_on
    rows = []
    for k, p in enumerate(f.persons, 1):
        age = age_on(p["birth_date"], on)
        group = int(p.get("disability_group") or 0)
        occupation = p.get("employment_status")
        rows.append(
            [
                str(k),
                _tr(t, MEMBER_ROLES, p.get("role")),
                _tr(t, SEXES, p.get("sex")),
                str(age),
                t(DISABILITY_GROUPS[group]) if group in DISABILITY_GROUPS else "—",
                t(EMPLOYMENT_STATUSES[occupation])
                if occupation in EMPLOYMENT_STATUSES and age >= WORKING_AGE_FROM
                else "—",
            ]
        )
    return table(
        t("Members of the family"),
        [t("No."), t("Role in the family"), t("Sex"), t("Age, years"), t("Disability"), t("Occupation")],
        rows,
        numeric=(0, 3),
        widths=(6, 22, 13, 11, 16, 32),
    )


def _incomes(f: Facts) -> dict:
    """The family's incomes in the counted months by source, each marked counted or not as the law's
    parameters say, and the law's counted income in all."""
    t = f.t
    months = f.income_months
    rows = []
    for source in INCOME_SOURCES:
        total = f.income_of(source)
        if total <= 0:
            continue
        counted = t("not counted") if bool(f.at.income.excluded[source]) else t("counted")
        rows.append([t(SOURCE_LABELS[source]), t.money(total, 2), counted])
    caption = t("Incomes of all members in {months}", months=months_span(months[0], months[-1], t))
    if not rows:
        return para(caption + ": " + t("no incomes on record."))
    if f.law:
        rows.append([t("Counted income, in all"), t.money(f.figure("counted_income_quarter"), 2), ""])
    return table(
        caption, [t("Source"), t("Amount"), t("In the calculation")], rows, numeric=(1,), widths=(50, 22, 28)
    )


def _property(f: Facts) -> list[tuple[str, str]]:
    t, family = f.t, f.family
    rows = [
        (t("Dwellings owned"), f.mark("dwellings_owned", t.number(int(family.get("dwellings_owned") or 0)))),
        (t("Motor vehicles"), f.mark("vehicles_owned", t.number(int(family.get("vehicles_owned") or 0)))),
        (t("Land, hectares"), t.number(float(family.get("land_ha") or 0), 2)),
        (t("Livestock, heads"), f.mark("livestock_heads", t.number(int(family.get("livestock_heads") or 0)))),
        (t("Non-mortgage loans outstanding"), t.money(float(family.get("nonmortgage_loan_balance") or 0), 2)),
    ]
    settlement = family.get("settlement_type")
    if settlement in SETTLEMENT_TYPES:
        rows.append((t("Place of residence"), t(SETTLEMENT_TYPES[settlement])))
    return rows


def _on(value) -> date:
    return date.fromisoformat(str(value)[:10])


def _other_facts(f: Facts) -> list[str]:
    t, family = f.t, f.family
    other = []
    if family.get("refused_commission_survey"):
        other.append(t("The survey of living conditions by the district commission was refused."))
    if family.get("commission_found_no_need"):
        other.append(
            f.mark(
                "commission_found_no_need",
                t("The district commission concluded that the family is not in need."),
            )
        )
    if family.get("false_information"):
        other.append(t("Knowingly false information or unreliable documents are on record."))
    if family.get("social_contract_breach_date"):
        breach = long_date(_on(family["social_contract_breach_date"]), t)
        other.append(
            t("A social contract was terminated through the recipient's fault on {date}.", date=breach)
        )
    for k, p in enumerate(f.persons, 1):
        if p.get("employment_measures_refusal_date"):
            refused = long_date(_on(p["employment_measures_refusal_date"]), t)
            other.append(t("Member No. {k} refused employment measures on {date}.", k=k, date=refused))
    return other


def correction_section(f: Facts) -> dict:
    t, app = f.t, f.app
    blocks = [para(t(CORRECTION_TEXT, id=app.id)), para(t(CORRECTION_EFFECT))]
    if app.corrections:
        items = [
            t(
                "{date}: {fields}",
                date=long_date(c.created_at, t),
                fields=", ".join(_tr(t, CORRECTABLE_FIELDS, code) for code in c.fields),
            )
            for c in app.corrections
        ]
        blocks.append(bullets(items, caption=t("Requests to correct the data already recorded:")))
    return section("correction", t("How to ask for a correction of the data"), blocks)
