"""Sections of the report and the model card for issue 16: the ingestion report of a user's table, the
forest's search, the forest beside the best rival with the paired interval, failed baselines and the
threshold policy. Each returns Markdown lines (the card) or HTML (the report), from stored metrics."""

from __future__ import annotations

import html
import math
import re

from atauly.i18n import N_

from .wording import Words


def _f(value, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _md(header, rows) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return out


def _cell(value) -> str:
    """A cell's text; a figure's interval goes under it (``0,988`` / ``[0,977; 0,996]``)."""
    text = re.sub(r"\[([^\]]*?); ([^\]]*?)\]", "[\\1;\u00a0\\2]", str(value))  # an interval on one line
    return html.escape(text).replace(" [", "\n[")


def _html(header, rows, caption="") -> str:
    """A table that scrolls sideways on a narrow screen (a focusable region, named by its caption)."""
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    named = f" role='region' aria-label='{html.escape(caption)}'" if caption else ""
    return (
        f"<div class='scroll' tabindex='0'{named}>"
        f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


# -- content --------------------------------------------------------------------------------------
INGESTION_ACTIONS = {
    "kept": N_("kept"),
    "converted": N_("converted"),
    "dropped": N_("dropped"),
    "not a feature": N_("not a feature"),
}
INGESTION_KINDS = {"numeric": N_("numeric"), "categorical": N_("categorical")}
FORMAT_KEYS = {"format": N_("format"), "encoding": N_("encoding"), "delimiter": N_("delimiter")}


def ingestion_rows(metrics: dict, w: Words | None = None) -> tuple[list[str], list[list], str]:
    w = w or Words()
    ing = metrics.get("ingestion")
    if not ing:
        return [], [], ""
    fmt = ing.get("format", {})
    text = ", ".join(
        f"{w.t(FORMAT_KEYS.get(k, k))} {v!r}" if k == "delimiter" else f"{w.t(FORMAT_KEYS.get(k, k))} {v}"
        for k, v in fmt.items()
        if k != "sheet"
    )
    rows = [
        [
            c["column"],
            w.t(INGESTION_ACTIONS.get(c["action"], c["action"])),
            w.t(INGESTION_KINDS.get(c["kind"], c["kind"])) if c["kind"] else "–",
            w.stored(c["reason"]),
            w.pct(c["missing_share"], 0),
            w.n(c["distinct"]),
        ]
        for c in ing["columns"]
    ]
    header = [w.t("column"), w.t("action"), w.t("as"), w.t("why"), w.t("missing"), w.t("distinct")]
    return header, rows, text


def search_rows(metrics: dict, w: Words | None = None) -> tuple[list[str], list[list]]:
    w = w or Words()
    table = metrics.get("search") or []
    if not table or "class_weight" not in table[0]:
        return [], []
    rows = [
        [
            str(r["class_weight"]) if r["class_weight"] is not None else w.t("none"),
            w.n(r["min_samples_leaf"]),
            w.x(r["max_features"], 2) if isinstance(r["max_features"], float) else str(r["max_features"]),
            f"{w.x(r['cv_roc_auc'])} ± {w.x(r['cv_roc_auc_se'])}",
            w.n(r["rung_trees"]) if r.get("rung_trees") is not None else "–",
            w.x(r.get("vs_reference"), signed=True),
            w.x(r["fit_seconds"], 2),
            "✓" if r["chosen"] else "",
        ]
        for r in table
    ]
    header = [
        w.t("class weight"),
        w.t("min leaf"),
        w.t("max features"),
        w.t("CV ROC-AUC ± s.e."),
        w.t("trees (rung)"),
        w.t("against the first"),
        w.t("fit, s per fold"),
        w.t("chosen"),
    ]
    return header, rows


def comparison_lines(metrics: dict, w: Words | None = None) -> list[str]:
    w = w or Words()
    c = metrics.get("comparison")
    out = []
    if c:
        lo, hi = c["difference_ci"]["roc_auc"]
        kind = w.t("rule") if c["rival_is_rule"] else w.t("baseline")
        out.append(
            w.t(
                "Forest against the best {kind}, {rival}, on the same test rows (paired bootstrap, families "
                "resampled together): ROC-AUC {forest} against {other}; difference rival − forest {difference} "
                "[95%: {lo}; {hi}]; exclusion error {forest_exclusion} against {other_exclusion} at their own "
                "thresholds.",
                kind=kind,
                rival="**" + w.model(c["best_rival"]) + "**",
                forest=w.x(c["forest"]["roc_auc"]),
                other=w.x(c["rival"]["roc_auc"]),
                difference=w.x(c["difference"]["roc_auc"], signed=True),
                lo=w.x(lo, signed=True),
                hi=w.x(hi, signed=True),
                forest_exclusion=w.x(c["forest"]["exclusion_error"]),
                other_exclusion=w.x(c["rival"]["exclusion_error"]),
            )
        )
        if c["rival_clearly_better"]:
            out.append(
                "**"
                + w.t("A baseline is better: {verdict}.", verdict=w.said(c, "verdict"))
                + "** "
                + w.t("The forest should not be used as it is.")
            )
        else:
            out.append(w.t("Verdict: {verdict}.", verdict=w.said(c, "verdict")))
    for split_name, split in metrics.get("splits", {}).items():
        for name, reason in split.get("failed_baselines", {}).items():
            out.append(
                w.t(
                    "Baseline {name} **failed** on the {split} (not used): {reason}.",
                    name=w.model(name),
                    split=w.split(split_name).lower(),
                    reason=reason,
                )
            )
    return out


def threshold_lines(metrics: dict, w: Words | None = None) -> list[str]:
    w = w or Words()
    t_ = metrics.get("threshold", {})
    if "rule" not in t_:
        return []
    rule = f"`{t_['rule']}`" + (
        f" ({w.numbers_in(str(t_['rule_value']))})" if t_.get("rule_value") is not None else ""
    )
    return [
        w.t(
            "Threshold policy {rule}: {policy} → threshold {value}; it recommends {share} of the test rows.",
            rule=rule,
            policy=w.said(t_, "policy"),
            value=w.x(t_["value"]),
            share=w.pct(t_["recommended_share_on_test"]),
        )
    ]


SELECTION = N_(
    "Candidates scored by grouped, stratified cross-validation on the training part only (the test rows are held "
    "out), by successive halving: every candidate with a few trees, the best ones grown with more trees on the "
    "same folds ('trees (rung)': the trees of the last rung a candidate reached; 'against the first' is paired "
    "at that rung). The first is scikit-learn's balanced forest and is never dropped; the best challenger of the "
    "last rung replaces it only when clearly better: by more than {margin} and than a one-sided {level} bound, "
    "Bonferroni-corrected for every challenger screened, in standard errors of the paired fold differences. The "
    "chosen one is refitted with more trees and calibrated on its out-of-fold probabilities (cross-fitted: no "
    "training row is set aside for calibration)."
)
FOREST = N_("Forest, baselines and threshold")


def _selection_text(w: Words) -> str:
    return w.t(SELECTION, margin=w.x(0.002), level=w.pct(0.05))


MODEL_SELECTION = N_("Model selection")
COLUMNS_FORMAT = N_("Columns of the table ({format})")
COLUMNS = N_("Columns of the table")


# -- renderers ------------------------------------------------------------------------------------
def markdown(metrics: dict, w: Words | None = None) -> list[str]:
    w = w or Words()
    lines: list[str] = []
    comparison = comparison_lines(metrics, w)
    if comparison or threshold_lines(metrics, w):
        lines += [f"## {w.t(FOREST)}", ""]
        for line in comparison + threshold_lines(metrics, w):
            lines += [f"- {line}"]
        lines.append("")
    header, rows = search_rows(metrics, w)
    if rows:
        lines += [f"### {w.t(MODEL_SELECTION)}", "", _selection_text(w), "", *_md(header, rows), ""]
    header, rows, fmt = ingestion_rows(metrics, w)
    if rows:
        lines += [f"### {w.t(COLUMNS_FORMAT, format=fmt)}", "", *_md(header, rows), ""]
    return lines


def report_html(metrics: dict, w: Words | None = None) -> str:
    w = w or Words()
    parts = []
    comparison = comparison_lines(metrics, w) + threshold_lines(metrics, w)
    if comparison:
        parts.append(f"<h2>{html.escape(w.t(FOREST))}</h2><ul>")
        parts += [f"<li>{html.escape(line.replace('**', ''))}</li>" for line in comparison]
        parts.append("</ul>")
    header, rows = search_rows(metrics, w)
    if rows:
        title = w.t("Model selection (grouped cross-validation on the training part)")
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(f"<p>{html.escape(_selection_text(w))}</p>")
        parts.append(_html(header, rows))
    header, rows, fmt = ingestion_rows(metrics, w)
    if rows:
        parts.append(f"<h2>{html.escape(w.t(COLUMNS))}</h2><p>{html.escape(fmt)}</p>")
        parts.append(_html(header, rows))
    return "\n".join(parts)
