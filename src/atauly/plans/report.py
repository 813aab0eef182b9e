"""The plan for the akimat: a spreadsheet (plan.xlsx) and a PDF (plan.pdf) of targets by measure and month,
budget by source, expected exits, cost per exit and responsible bodies, by region and district.

Aggregates only: no person or family identifier leaves in these files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atauly.i18n import N_, Translator
from atauly.registry.codes import region_name

from .catalog import Catalog
from .documents import SOURCE_LABELS, STATUS_LABELS
from .optimise import Plan


def measures_table(plan: Plan, catalog: Catalog, t: Translator) -> pd.DataFrame:
    cap = plan.capacity.groupby("measure")[["places", "used"]].sum()
    cost = plan.assignments.groupby("measure")["cost_kzt"].sum()
    rows = []
    for m in catalog.measures:
        rows.append(
            {
                t("Support measure"): t(m.label),
                t("Funding source"): t(SOURCE_LABELS[m.funding_source]),
                t("Responsible body"): t(m.responsible_body),
                t("Places"): int(cap["places"].get(m.key, 0)),
                t("Planned starts"): int(cap["used"].get(m.key, 0)),
                t("Budget, ₸"): round(float(cost.get(m.key, 0.0)), 0),
                t("Legal reference"): m.reference,
                t("Parameters"): t(STATUS_LABELS[m.status]),
            }
        )
    return pd.DataFrame(rows)


DIMENSIONS = {
    "age_band": N_("Age band"),
    "sex": N_("Sex"),
    "education": N_("Education"),
    "disability": N_("Disability"),
    "settlement": N_("Settlement"),
}


def subgroup_table(subgroups: pd.DataFrame, catalog: Catalog, t: Translator) -> pd.DataFrame:
    """Effects by subgroup (``atauly plans learn``) with the measures' and dimensions' names."""
    labels = {m.key: t(m.label) for m in catalog.measures}
    return pd.DataFrame(
        {
            t("Support measure"): subgroups["measure"].map(labels).fillna(subgroups["measure"]),
            t("Subgroup"): [
                f"{t(DIMENSIONS.get(d, d))}: {g}"
                for d, g in zip(subgroups["dimension"], subgroups["subgroup"], strict=True)
            ],
            t("Estimate, MRP a month"): subgroups["estimate_mrp"].astype(float).round(2),
            t("95% interval"): [
                f"[{lo:.1f}; {hi:.1f}]"
                for lo, hi in zip(subgroups["lo_mrp"], subgroups["hi_mrp"], strict=True)
            ],
            t("Treated / controls"): [
                f"{int(a)} / {int(b)}"
                for a, b in zip(subgroups["treated"], subgroups["controls"], strict=True)
            ],
        }
    )


def write_akimat_report(
    plan: Plan, catalog: Catalog, out: Path, lang: str = "ru", subgroups: pd.DataFrame | None = None
) -> list[Path]:
    """plan.xlsx and plan.pdf; with ``subgroups`` (effects by subgroup from outcomes) a sheet and a section
    of them."""
    t = Translator(lang)
    out = Path(out)
    s = plan.summary
    summary = pd.DataFrame(
        [
            (t("Quarter"), s.get("quarter", "")),
            (t("Families on conditional ASP in scope"), s["families_in_scope"]),
            (t("Families planned"), s["families_planned"]),
            (t("Members planned"), s["persons_planned"]),
            (t("Expected exits from poverty"), s["expected_exits"]),
            (t("Budget available, ₸"), s["budget_available_kzt"]),
            (t("Budget planned, ₸"), s["budget_planned_kzt"]),
            (t("Cost per exit, ₸"), s["cost_per_exit_kzt"]),
            (t("Share of priority families among members planned"), s["priority_share_planned"]),
            (t("Method"), s["method"]),
        ],
        columns=[t("Indicator"), t("Value")],
    )
    regions = plan.regions.assign(region=[region_name(k, lang) for k in plan.regions["region_kato"]])
    targets = plan.targets.pivot_table(
        index=["region_kato", "district", "measure"], columns="start_month", values="starts", fill_value=0
    ).reset_index()
    xlsx = out / "plan.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as xw:
        summary.to_excel(xw, sheet_name="summary", index=False)
        measures_table(plan, catalog, t).to_excel(xw, sheet_name="measures", index=False)
        regions.to_excel(xw, sheet_name="regions", index=False)
        plan.districts.to_excel(xw, sheet_name="districts", index=False)
        targets.to_excel(xw, sheet_name="targets by month", index=False)
        plan.budget.to_excel(xw, sheet_name="budget by source", index=False)
        plan.capacity.to_excel(xw, sheet_name="places", index=False)
        sub = subgroup_table(subgroups, catalog, t) if subgroups is not None and len(subgroups) else None
        if sub is not None:
            sub.to_excel(xw, sheet_name="effects by subgroup", index=False)
    pdf = out / "plan.pdf"
    pdf.write_bytes(_pdf(plan, catalog, t, summary, regions, sub))
    return [xlsx, pdf]


def _pdf(
    plan: Plan,
    catalog: Catalog,
    t: Translator,
    summary: pd.DataFrame,
    regions: pd.DataFrame,
    subgroups: pd.DataFrame | None = None,
) -> bytes:
    from .writers import Block, Document, Section, to_pdf

    mt = measures_table(plan, catalog, t)
    mcols = [t("Support measure"), t("Funding source"), t("Places"), t("Planned starts"), t("Budget, ₸")]
    region_rows = [
        [
            r.region,
            t.number(r.conditional_families),
            t.number(r.families_planned),
            t.number(r.expected_exits, 1),
            t.money(r.budget_kzt),
            t.money(r.cost_per_exit_kzt) if pd.notna(r.cost_per_exit_kzt) else "—",
        ]
        for r in regions.itertuples(index=False)
    ]
    doc = Document(
        name="plan",
        title=t("Plan of measures for families on conditional ASP"),
        lang=t.lang,
        header=[(str(a), str(b)) for a, b in summary.itertuples(index=False)],
        sections=[
            Section(
                t("Measures: places, starts and budget"),
                [
                    Block(
                        "table",
                        columns=mcols,
                        rows=[
                            [str(r[c]) if c != t("Budget, ₸") else t.money(r[c]) for c in mcols]
                            for _, r in mt.iterrows()
                        ],
                    )
                ],
            ),
            Section(
                t("Regions"),
                [
                    Block(
                        "table",
                        columns=[
                            t("Region"),
                            t("Families in scope"),
                            t("Families planned"),
                            t("Expected exits"),
                            t("Budget"),
                            t("Cost per exit"),
                        ],
                        rows=region_rows,
                    )
                ],
            ),
            *(
                [
                    Section(
                        t("Effects by subgroup"),
                        [
                            Block(
                                "p",
                                t(
                                    "Effects were re-estimated from recorded outcomes for each subgroup (winners against "
                                    "losers of the lottery where there was one, otherwise participants against members "
                                    "without a measure, which is biased). Subgroups are many: some intervals miss the "
                                    "true effect by chance; rely on clearly separated intervals."
                                ),
                            ),
                            Block(
                                "table",
                                columns=list(subgroups.columns),
                                rows=[[str(v) for v in r] for r in subgroups.itertuples(index=False)],
                            ),
                        ],
                    )
                ]
                if subgroups is not None
                else []
            ),
            Section(
                t("How the plan was made"),
                [
                    Block(
                        "p",
                        t(
                            "Measures were allocated to maximise the expected number of families leaving poverty, within "
                            "the places of each district, the budgets of each region and source, one measure per member, "
                            "and a floor for families with a disabled member or many children. Effects are estimates and "
                            "are re-estimated from recorded outcomes."
                        ),
                    )
                ]
                + [Block("p", n) for n in plan.notes],
            ),
        ],
        footer=t(
            "Drafted by the system; valid when approved by a specialist. Atauly {version}.",
            version=_version(),
        ),
    )
    return to_pdf(doc)


def _version() -> str:
    from atauly import __version__

    return __version__
