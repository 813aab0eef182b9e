"""The notice's section on what the akimat verified: each verified value beside what the family declared,
how it was verified, and that the law's result was computed on the verified data."""

from __future__ import annotations

from atauly.registry.labels import INCOME_SOURCES, MEMBER_ROLES

from ..deciding import verified_values
from .blocks import month_label, para, section, table
from .facts import Facts


def verified_section(f: Facts) -> dict | None:
    """None when nothing was verified on the application."""
    app, t = f.app, f.t
    if not app.verifications:
        return None
    rows = []
    for r in verified_values(app):
        member = f"{r['n']}. {t(MEMBER_ROLES[r['role']]) if r['role'] in MEMBER_ROLES else r['role']}"
        if r["kind"] == "income":
            source = t(INCOME_SOURCES[r["source"]]) if r["source"] in INCOME_SOURCES else r["source"]
            what = f"{source}, {month_label(r['month'], t)}"
            rows.append([member, what, t.money(r["declared"], 2), t.money(r["verified"], 2)])
        else:
            rows.append([member, t("no longer lives in the household: not counted"), "—", "—"])
    blocks = [
        para(
            t(
                "The akimat checked some of the data you declared. The law's result in this notice is computed "
                "on the verified data below; what you declared is kept in the records."
            )
        ),
        table(
            t("Verified data"),
            [t("Member"), t("What was verified"), t("You declared"), t("Verified")],
            rows,
            numeric=(2, 3),
            widths=(22, 38, 20, 20),
        ),
    ]
    for v in app.verifications:
        blocks.append(para(t("How it was verified: {note}", note=v.note)))
    return section("verified", t("What the akimat verified"), blocks)
