"""Sections of the report and the model card for issue 16: the ingestion report of a user's table, the
forest's search, the forest beside the best rival with the paired interval, failed baselines and the
threshold policy. Each returns Markdown lines (the card) or HTML (the report), from stored metrics."""

from __future__ import annotations

import html
import math


def _f(value, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _md(header, rows) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return out


def _html(header, rows, caption="") -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- content --------------------------------------------------------------------------------------
def ingestion_rows(metrics: dict) -> tuple[list[str], list[list], str]:
    ing = metrics.get("ingestion")
    if not ing:
        return [], [], ""
    fmt = ing.get("format", {})
    text = ", ".join(f"{k} {v!r}" if k == "delimiter" else f"{k} {v}" for k, v in fmt.items() if k != "sheet")
    rows = [
        [c["column"], c["action"], c["kind"] or "–", c["reason"], f"{c['missing_share']:.0%}", c["distinct"]]
        for c in ing["columns"]
    ]
    return ["column", "action", "as", "why", "missing", "distinct"], rows, text


def search_rows(metrics: dict) -> tuple[list[str], list[list]]:
    table = metrics.get("search") or []
    if not table or "class_weight" not in table[0]:
        return [], []
    rows = [
        [
            r["class_weight"],
            r["min_samples_leaf"],
            r["max_features"],
            f"{_f(r['cv_roc_auc'])} ± {_f(r['cv_roc_auc_se'])}",
            r.get("rung_trees", "–"),
            _f(r.get("vs_reference"), True),
            f"{r['fit_seconds']:.2f}",
            "✓" if r["chosen"] else "",
        ]
        for r in table
    ]
    header = [
        "class weight",
        "min leaf",
        "max features",
        "CV ROC-AUC ± s.e.",
        "trees (rung)",
        "vs first",
        "fit s/fold",
        "chosen",
    ]
    return header, rows


def comparison_lines(metrics: dict) -> list[str]:
    c = metrics.get("comparison")
    out = []
    if c:
        lo, hi = c["difference_ci"]["roc_auc"]
        kind = "rule" if c["rival_is_rule"] else "baseline"
        out.append(
            f"Forest vs the best {kind}, **{c['best_rival']}**, on the same test rows (paired bootstrap, families "
            f"resampled together): ROC-AUC {_f(c['forest']['roc_auc'])} vs {_f(c['rival']['roc_auc'])}; "
            f"difference {kind} − forest {_f(c['difference']['roc_auc'], True)} [95%: {_f(lo, True)}, {_f(hi, True)}]; "
            f"exclusion error {_f(c['forest']['exclusion_error'])} vs {_f(c['rival']['exclusion_error'])} at their "
            "own thresholds."
        )
        if c["rival_clearly_better"]:
            out.append(f"**A baseline is better: {c['verdict']}.** The forest should not be used as it is.")
        else:
            out.append(f"Verdict: {c['verdict']}.")
    for split_name, split in metrics.get("splits", {}).items():
        for name, reason in split.get("failed_baselines", {}).items():
            out.append(f"Baseline {name} **failed** on the {split_name} split (not used): {reason}.")
    return out


def threshold_lines(metrics: dict) -> list[str]:
    t = metrics.get("threshold", {})
    if "rule" not in t:
        return []
    return [
        f"Threshold policy `{t['rule']}`"
        + (f" ({t['rule_value']})" if t.get("rule_value") is not None else "")
        + f": {t['policy']} → threshold {t['value']:.3f}; it recommends {t['recommended_share_on_test']:.1%} "
        "of the test rows."
    ]


# -- renderers ------------------------------------------------------------------------------------
def markdown(metrics: dict) -> list[str]:
    lines: list[str] = []
    comparison = comparison_lines(metrics)
    if comparison or threshold_lines(metrics):
        lines += ["## Forest, baselines and threshold", ""]
        for line in comparison + threshold_lines(metrics):
            lines += [f"- {line}"]
        lines.append("")
    header, rows = search_rows(metrics)
    if rows:
        lines += [
            "### Model selection",
            "",
            "Candidates scored by grouped, stratified cross-validation on the training part only (the test "
            "rows are held out), by successive halving: every candidate with a few trees, the best ones grown "
            "with more trees on the same folds ('trees (rung)': the trees of the last rung a candidate "
            "reached; 'vs first' is paired at that rung). The first is scikit-learn's balanced forest and is "
            "never dropped; the best challenger of the last rung replaces it "
            "only when clearly better: by more than 0.002 and than a one-sided 5% bound, Bonferroni-corrected for "
            "every challenger screened, in standard errors of the paired fold differences. The "
            "chosen one is refitted with more trees and calibrated on its out-of-fold probabilities "
            "(cross-fitted: no training row is set aside for calibration).",
            "",
            *_md(header, rows),
            "",
        ]
    header, rows, fmt = ingestion_rows(metrics)
    if rows:
        lines += [f"### Columns of the table ({fmt})", "", *_md(header, rows), ""]
    return lines


def report_html(metrics: dict) -> str:
    parts = []
    comparison = comparison_lines(metrics) + threshold_lines(metrics)
    if comparison:
        parts.append("<h2>Forest, baselines and threshold</h2><ul>")
        parts += [f"<li>{html.escape(line.replace('**', ''))}</li>" for line in comparison]
        parts.append("</ul>")
    header, rows = search_rows(metrics)
    if rows:
        parts.append("<h2>Model selection (grouped cross-validation on the training part)</h2>")
        parts.append(_html(header, rows))
    header, rows, fmt = ingestion_rows(metrics)
    if rows:
        parts.append(f"<h2>Columns of the table</h2><p>{html.escape(fmt)}</p>")
        parts.append(_html(header, rows))
    return "\n".join(parts)
