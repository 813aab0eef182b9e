"""The calibration report as HTML: generated against published figures, the gaps between the layers,
well-being levels, with charts — in Kazakh, Russian or English (the locale setting by default), through
the message catalogs, with numbers formatted for the language."""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np
import pandas as pd

from atauly.i18n import N_, Translator

from ..codes import REGION_BY_KATO, REGION_BY_KEY, REGIONS, region_name
from ..quarter import Quarter
from ..wellbeing import LEVELS

#: The report's section headings (constants: Babel does not extract calls inside an f-string).
PUBLISHED = N_("Generated against published")
GAPS = N_("Gaps between the layers (families, at this scale)")

#: The published figures (targets.yaml) and the layers' gaps, as readers call them.
FIGURES = {
    "population": N_("Population"),
    "families": N_("Families"),
    "poverty_rate": N_("Poverty rate (below the subsistence minimum)"),
    "people_in_households_5plus": N_("People in households of 5 or more"),
    "household_size_urban": N_("Household size, urban"),
    "household_size_rural": N_("Household size, rural"),
    "disability_recipients": N_("Recipients of disability benefits"),
    "asp_families_stock": N_("ASP families at a time"),
    "asp_persons_stock": N_("ASP recipients at a time"),
    "asp_families_year": N_("ASP families in a year"),
    "asp_persons_year": N_("ASP recipients in a year"),
    "recipient_family_size": N_("Members of a recipient family"),
    "recipient_child_share": N_("Children among recipients"),
    "asp_per_member_2023": N_("ASP per member a month, 2023"),
    "informal_employment_share": N_("Informal employment share"),
    "takeup_among_entitled": N_("Take-up among the entitled"),
    "proxy_r2_log_consumption": N_("Proxy means test, R² of log consumption"),
    "scale": N_("Scale of the registry"),
    "truly_entitled_families": N_("Families entitled on what is true"),
    "recorded_entitled_families": N_("Families entitled on what databases record"),
    "missed_by_recorded": N_("Entitled, missed on recorded data"),
    "wrongly_needy_in_recorded": N_("Not entitled, needy on recorded data"),
    "consumption_poverty_rate": N_("Consumption poverty rate"),
    "home_visit_correct_share": N_("Home visits that decide right"),
    "system_exclusion_error": N_("Exclusion error of the system"),
    "system_inclusion_error": N_("Inclusion error of the system"),
    "applications": N_("Applications decided"),
    "officer_approved_not_truly_entitled": N_("Approved by officers, not entitled on what is true"),
    "truly_entitled_refused": N_("Entitled on what is true, refused"),
    "officer_overrode_law": N_("Officers departed from the law's result"),
    "officer_override_law": N_("Officers departed from the law's result"),
    "agreement_officer_truth": N_("Officers' decisions agreeing with the truth"),
}
_PER_REGION = {
    "population ": N_("Population: {region}"),
    "poverty rate ": N_("Poverty rate: {region}"),
    "recipient share ": N_("Share of ASP recipients: {region}"),
}
SCOPES = {"national": N_("national"), "regional": N_("regional"), "hidden": N_("hidden need")}


def figure_label(name: str, t: Translator) -> str:
    """A figure's name in ``t``'s language (a name this report does not know is shown as it is)."""
    if name in FIGURES:
        return t(FIGURES[name])
    for prefix, message in _PER_REGION.items():
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            region = REGION_BY_KEY.get(rest) or next((r for r in REGIONS if r.name_en == rest), None)
            return t(message, region=region_name(region.kato, t.lang) if region else rest)
    return name


def figure_value(value: float, t: Translator) -> str:
    """A figure as people read it: shares as percentages, counts with grouping, other ratios to 3 places."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if 0 <= abs(value) < 1:
        return t.number(value, 3)
    return t.number(value, 0 if abs(value) >= 100 else 2)


def deviation_text(deviation: float, t: Translator) -> str:
    """A deviation in percent to one place; one that rounds to zero is 0%, never «-0%»."""
    if deviation != deviation:
        return "—"
    text = t.number(deviation * 100, 1)
    return ("0" if float(round(deviation * 100, 1)) == 0 else text) + "%"


def _table(head: str, body: str, caption: str) -> str:
    """A table that scrolls sideways in its own focusable box on a narrow screen (named after its heading)."""
    label = html.escape(caption)
    return f"<div class=scroll tabindex=0 role=region aria-label='{label}'><table>{head}{body}</table></div>"


def _chart_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def calibration_html(
    table: pd.DataFrame, gaps: dict, wellbeing: pd.DataFrame, result: dict, lang: str | None = None
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if lang is None:
        from atauly.settings import get_settings

        lang = get_settings().lang
    t = Translator(lang)
    charts = []
    if len(table):
        fig, ax = plt.subplots(figsize=(9, max(3, 0.3 * len(table))))
        y = np.arange(len(table))
        ax.barh(y, table["deviation"] * 100, color=np.where(table["ok"], "#2a9d8f", "#e76f51"))
        ax.set_yticks(y, [figure_label(n, t) for n in table["name"]], fontsize=8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(t("generated against the published figure, %"))
        ax.invert_yaxis()
        charts.append((t("Deviation from the published figures"), _chart_png(fig)))
        plt.close(fig)
    if len(wellbeing):
        fig, ax = plt.subplots(figsize=(9, 4.5))
        bottom = np.zeros(len(wellbeing))
        for level, color in zip(LEVELS, ["#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261", "#e76f51"], strict=True):
            ax.bar(range(len(wellbeing)), wellbeing[level], bottom=bottom, label=level, color=color)
            bottom += wellbeing[level].to_numpy()
        ax.set_xticks(
            range(len(wellbeing)),
            [region_name(REGION_BY_KATO[k].kato, t.lang) for k in wellbeing.index],
            rotation=70,
            fontsize=8,
        )
        ax.set_ylabel(t("share of families"))
        ax.legend(title=t("level"), fontsize=8)
        charts.append((t("Well-being levels A–E by region (recorded view)"), _chart_png(fig)))
        plt.close(fig)
    rows = "".join(
        f"<tr class={'ok' if r.ok else 'bad'}><td>{html.escape(t(SCOPES.get(r.scope, r.scope)))}</td>"
        f"<td>{html.escape(figure_label(r.name, t))}</td>"
        f"<td class=n>{figure_value(r.generated, t)}</td><td class=n>{figure_value(r.target, t)}</td>"
        f"<td class=n>{deviation_text(r.deviation, t)}</td><td class=n>±{t.percent(r.tolerance)}</td>"
        f"<td>{html.escape(t('headline')) if r.headline else ''}</td>"
        f"<td>{html.escape(t('yes') if r.ok else t('no'))}</td>"
        f"<td class=src>{html.escape(t(r.source) if r.source else '')}</td></tr>"
        for r in table.itertuples()
    )
    gap_rows = "".join(
        f"<tr><th scope=row>{html.escape(figure_label(k, t))}</th><td class=n>{figure_value(v, t)}</td></tr>"
        for k, v in gaps.items()
    )
    imgs = "".join(
        f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{b}'>"
        for title, b in charts
    )
    status = (
        t("all headline targets within tolerance")
        if result["headline_ok"]
        else t("some headline targets out of tolerance")
    )
    heading = t("Synthetic registry calibration")
    intro = t(
        "Registry {registry}, scale {scale}, {period}:",
        registry=result["registry"],
        scale=t.number(float(result["scale"]), 3),
        period=Quarter.parse(result["quarter"]).label(t.lang),
    )
    head = "".join(
        f"<th scope=col>{html.escape(t(h))}</th>"
        for h in (
            N_("scope"),
            N_("figure"),
            N_("generated"),
            N_("published"),
            N_("deviation"),
            N_("tolerance"),
            N_("headline"),
            N_("within tolerance"),
            N_("source"),
        )
    )
    return f"""<!doctype html><html lang="{t.lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(heading)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px}}td.n{{text-align:right;white-space:nowrap}}tr.bad{{background:#fde2dc}}
tr.ok{{background:#e6f4f1}}img{{max-width:100%}}.scroll{{overflow-x:auto;max-width:100%;margin-bottom:1em}}
.scroll:focus{{outline:2px solid #1d70b8}}td.src{{min-width:16em}}p,h1,h2{{overflow-wrap:anywhere}}@media (max-width:40em){{body{{margin:1em}}}}</style></head>
<body><h1>{html.escape(heading)}</h1><p>{html.escape(intro)} <strong>{html.escape(status)}</strong>.</p>
<h2>{html.escape(t(PUBLISHED))}</h2>{_table(f"<thead><tr>{head}</tr></thead>", f"<tbody>{rows}</tbody>", t(PUBLISHED))}
<h2>{html.escape(t(GAPS))}</h2>{_table("", f"<tbody>{gap_rows}</tbody>", t(GAPS))}{imgs}</body></html>"""
