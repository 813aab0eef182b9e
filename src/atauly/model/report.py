"""The training report (self-contained HTML with charts), and the tables and texts it shares with the
model card (:mod:`atauly.model.card`).

The card follows the spirit of the EU AI Act's technical documentation for high-risk systems (Annex IV):
intended purpose and its limits, data, metrics with intervals, fairness, human oversight, known failure
modes. It is generated from the stored metadata, so it always matches the artifact it describes.
"""

from __future__ import annotations

import base64
import html
import io
import math

from atauly.registry.codes import REGION_BY_KATO

from . import sections
from .metrics import METRIC_NAMES
from .population import POPULATION_HEADER, population_rows, population_text

STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;color:#1b1f23;line-height:1.45}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f5f7}caption{text-align:left;font-weight:600;padding:.3rem 0}img{max-width:100%}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}code{background:#f3f5f7;padding:0 .2rem}"""

LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced acc.",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "brier": "Brier",
    "exclusion_error": "exclusion err.",
    "inclusion_error": "inclusion err.",
    "selection_rate": "selected",
    "coverage_poorest_quintile": "poorest 20% covered",
    "cgh_poorest_quintile": "CGH (poorest 20%)",
}


#: A group with fewer families than this is flagged in the fairness tables and charts: its error rates rest
#: on a handful of entitled families (the exclusion error's denominator) and cannot be compared with others.
MIN_GROUP_FAMILIES = 30
SMALL_MARK = "†"
SMALL_NOTE = (
    f"{SMALL_MARK} fewer than {MIN_GROUP_FAMILIES} families in the group: its figures rest on too few cases to "
    "compare with other groups (see the 95% intervals)."
)


def small_group(row: dict) -> bool:
    """Whether a fairness row's group is below :data:`MIN_GROUP_FAMILIES`."""
    return int(row.get("families") or 0) < MIN_GROUP_FAMILIES


def group_name(row: dict, column: str = "") -> str:
    """The group as the tables show it, marked when small."""
    name = _group_label(column, row["group"]) if column else str(row["group"])
    return f"{name} {SMALL_MARK}" if small_group(row) else name


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}"


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def metrics_rows(split: dict, reference: str) -> list[list[str]]:
    """One row per model: its metrics vs ``reference`` ('labels' or 'truth'), the primary model with CIs."""
    rows = []
    for name, result in split["models"].items():
        values = result.get(f"vs_{reference}")
        if values is None:
            continue
        ci = result.get(f"vs_{reference}_ci", {})
        cells = [name]
        for metric in METRIC_NAMES:
            text = fmt(values[metric])
            if metric in ci and not math.isnan(ci[metric][0]):
                text += f" [{fmt(ci[metric][0])}, {fmt(ci[metric][1])}]"
            cells.append(text)
        rows.append(cells)
    return rows


def _html_table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _group_label(column: str, group) -> str:
    """Region KATO codes are shown by their short English key on charts."""
    if column == "region":
        region = REGION_BY_KATO.get(str(group))
        return region.key if region else str(group)
    return str(group)


def charts(metrics: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    primary = metrics["splits"][metrics["primary_split"]]
    names = [n for n, m in primary["models"].items() if "vs_labels" in m]  # failed baselines left out
    has_truth = "vs_truth" in primary["models"][names[0]]
    ref = "truth" if has_truth else "labels"
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.27
    for k, metric in enumerate(("accuracy", "exclusion_error", "inclusion_error")):
        values = [primary["models"][n][f"vs_{ref}"][metric] for n in names]
        ax.bar([i + (k - 1) * width for i in range(len(names))], values, width, label=LABELS[metric])
    ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=15)
    ax.set_ylim(0, 1)
    ax.legend()
    ax.set_title(
        f"Models on the {metrics['primary_split']} split, vs {'true need' if has_truth else 'labels'}"
    )
    out.append(("Models compared", _png(fig)))

    curve = metrics["calibration_curve"]
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="perfect")
    ax.plot(curve["mean_predicted"], curve["fraction_positive"], marker="o", label="model")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed share of positives")
    ax.legend()
    ax.set_title("Calibration (test set, deciles)")
    out.append(("Calibration curve", _png(fig)))

    table = [r for r in metrics["search"] if "trees" in r]  # the grid search's accuracy vs speed
    fig, ax = plt.subplots(figsize=(5.5, 3.6)) if table else (None, None)
    for r in table:
        ax.scatter(
            r["rows_per_second"], r["cv_roc_auc"], s=20 + r["trees"], color="C3" if r["chosen"] else "C0"
        )
        ax.annotate(f"{r['trees']}×{r['max_depth']}", (r["rows_per_second"], r["cv_roc_auc"]), fontsize=7)
    if table:
        ax.set_xlabel("scoring rows per second (CV folds)")
        ax.set_ylabel("CV ROC-AUC")
        ax.set_title("Accuracy vs speed: trees × depth (red: chosen)")
        out.append(("Accuracy versus speed", _png(fig)))

    audit = metrics.get("fairness", {}).get(f"vs_{ref}") or metrics.get("fairness", {}).get("vs_labels")
    chart = fairness_chart(audit or {}, "true need" if has_truth else "labels")
    if chart is not None:
        out.append(("Fairness: exclusion and inclusion error by group", chart))
    return out


def fairness_chart(audit: dict, reference: str) -> str | None:
    """Exclusion and inclusion error by group, one panel per audited column that has at least two groups
    (a single group compares nothing); a group without entitled families shows "n/a" instead of an empty
    bar; small groups are hatched and pale. None when no column has two groups."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c, rows in audit.items() if len(rows) >= 2]
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(3.6 * len(cols), 3.8), squeeze=False)
    width = 0.38
    top = 0.0
    for ax, col in zip(axes[0], cols, strict=True):
        rows = audit[col]
        for k, (metric, color) in enumerate((("exclusion_error", "C0"), ("inclusion_error", "C1"))):
            for i, r in enumerate(rows):
                x = i + (k - 0.5) * width
                value = _number(r.get(metric))
                if value is None:
                    ax.text(x, 0.005, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
                    continue
                top = max(top, value)
                lo, hi = _number(r.get(f"{metric}_lo")), _number(r.get(f"{metric}_hi"))
                err = (
                    [[max(value - lo, 0)], [max(hi - value, 0)]]
                    if lo is not None and hi is not None
                    else None
                )
                ax.bar(
                    x,
                    value,
                    width,
                    yerr=err,
                    capsize=2,
                    color=color,
                    alpha=0.35 if small_group(r) else 1.0,
                    hatch="//" if small_group(r) else None,
                    edgecolor=color,
                )
                top = max(top, hi or 0)
        labels = [f"{group_name(r, col)}\nn={int(r.get('families') or 0):,}" for r in rows]
        ax.set_xticks(range(len(rows)), labels, fontsize=8)
        ax.set_title(col.replace("_", " "), fontsize=10)
    for ax in axes[0]:
        ax.set_ylim(0, min(1.0, max(top * 1.15, 0.05)))
    axes[0][0].set_ylabel("share of families")
    from matplotlib.patches import Patch

    handles = [
        Patch(color="C0", label="exclusion error"),
        Patch(color="C1", label="inclusion error"),
        Patch(facecolor="white", edgecolor="grey", hatch="//", label=f"n < {MIN_GROUP_FAMILIES}"),
    ]
    axes[0][0].legend(handles=handles, fontsize=8, loc="upper left")
    fig.suptitle(
        f"Error by group (vs {reference}; 95% intervals). Hatched: fewer than {MIN_GROUP_FAMILIES} families",
        fontsize=10,
    )
    fig.tight_layout()
    return _png(fig)


def report_html(meta: dict) -> str:
    metrics = meta["metrics"]
    header = ["model", *(LABELS[m] for m in METRIC_NAMES)]
    parts = [f"<h1>Atauly model report: {html.escape(meta['name'])}@{html.escape(meta['version'])}</h1>"]
    gate = metrics["quality_gate"]
    parts.append(
        f"<p>Trained {html.escape(meta['created'])} on {meta['training']['rows']:,} rows "
        f"({html.escape(meta['training']['source'])}); target <code>{html.escape(meta['target'])}</code>. "
        f"Threshold {metrics['threshold']['value']:.3f} ({html.escape(metrics['threshold']['policy'])}). "
        f"Quality gate: <span class='{'pass' if gate['passed'] else 'fail'}'>"
        f"{'passed' if gate['passed'] else 'failed'}</span> — {html.escape(gate['reason'])}.</p>"
    )
    for split_name, split in metrics["splits"].items():
        parts.append(
            f"<h2>{html.escape(split_name.title())} split</h2><p>{html.escape(split['description'])}: "
            f"{split['train_rows']:,} training rows, {split['test_rows']:,} test rows.</p>"
        )
        parts.append(_html_table(header, metrics_rows(split, "labels"), "vs the labels (officer decisions)"))
        truth_rows = metrics_rows(split, "truth")
        if truth_rows:
            parts.append(_html_table(header, truth_rows, "vs true need (synthetic truth)"))
        if new_families_text(split):
            parts.append(f"<p>{html.escape(new_families_text(split))}</p>")
    if matched_text(metrics):
        parts.append(f"<h2>Against the law on recorded data</h2><p>{html.escape(matched_text(metrics))}</p>")
    if metrics.get("population"):
        parts.append("<h2>Over the whole population</h2>")
        parts += [f"<p>{html.escape(t)}</p>" for t in population_text(metrics["population"])]
        parts.append(_html_table(POPULATION_HEADER, population_rows(metrics["population"])))
    if meta.get("retrain"):
        parts.append(retrain_html(meta))
    search_rows = [
        [
            r["trees"],
            r["max_depth"],
            fmt(r["cv_roc_auc"]),
            fmt(r["cv_roc_auc_se"]),
            f"{r['fit_seconds']:.2f}",
            f"{r['rows_per_second']:,.0f}",
            "✓" if r["chosen"] else "",
        ]
        for r in metrics["search"]
        if "trees" in r
    ]
    if search_rows:
        parts.append("<h2>Model choice: accuracy versus speed</h2>")
        parts.append(
            _html_table(
                ["trees", "max depth", "CV ROC-AUC", "s.e.", "fit s", "rows/s", "chosen"], search_rows
            )
        )
    parts.append(sections.report_html(metrics))
    for title, png in charts(metrics):
        parts.append(
            f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{png}'>"
        )
    for ref, audit in metrics.get("fairness", {}).items():
        for col, rows in audit.items():
            table_rows = [
                [
                    group_name(r),
                    f"{int(r['families']):,}",
                    fmt(r["accuracy"]),
                    fmt(r["exclusion_error"]),
                    fmt(r["inclusion_error"]),
                    fmt(r["selection_rate"]),
                ]
                for r in rows
            ]
            parts.append(
                _html_table(
                    ["group", "families", "accuracy", "exclusion err.", "inclusion err.", "selected"],
                    table_rows,
                    f"Fairness by {col} ({ref.replace('_', ' ')})",
                )
            )
            if any(small_group(r) for r in rows):
                parts.append(f"<p class='note'>{html.escape(SMALL_NOTE)}</p>")
            if len(rows) < 2:
                parts.append("<p class='note'>One group only: nothing to compare.</p>")
    body = "\n".join(parts)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Atauly model report {html.escape(meta["name"])}@{html.escape(meta["version"])}</title><style>{STYLE}</style></head>
<body>{body}</body></html>"""


def new_families_text(split: dict) -> str:
    """The time split's test quarter restricted to families that never applied before."""
    new = split["models"].get("random_forest", {}).get("new_families")
    if not new:
        return ""
    text = (
        f"On the {new['rows']:,} test families that never applied before the test quarter (new to the "
        "programme, never seen in training), "
        f"accuracy vs the labels is {fmt(new['vs_labels']['accuracy'])}, exclusion error "
        f"{fmt(new['vs_labels']['exclusion_error'])}, inclusion error {fmt(new['vs_labels']['inclusion_error'])}"
    )
    if "vs_truth" in new:
        text += (
            f"; vs true need: exclusion {fmt(new['vs_truth']['exclusion_error'])}, inclusion "
            f"{fmt(new['vs_truth']['inclusion_error'])}"
        )
    return text + "."


def matched_text(metrics: dict) -> str:
    m = metrics.get("matched_operating_point")
    if not m:
        return ""
    return (
        f"Against true need, at the threshold ({fmt(m['threshold'])}) where the model's inclusion error matches "
        f"the law on recorded data alone ({fmt(m['law_on_recorded_inclusion_error'])}; chosen on the calibration "
        f"families): exclusion error {fmt(m['model_exclusion_error'])} for the model vs "
        f"{fmt(m['law_on_recorded_exclusion_error'])} for the rule, inclusion {fmt(m['model_inclusion_error'])} — a "
        f"relative reduction of exclusion error of "
        f"{'n/a' if m['relative_exclusion_reduction'] != m['relative_exclusion_reduction'] else format(m['relative_exclusion_reduction'], '.1%')} "
        f"(issue 4's target: ≥ 30% at "
        f"equal or lower inclusion; {'met' if m['met'] else 'not met'}). This threshold uses true need, which is "
        "unknown in real use: it is an evaluation device, never the model's threshold."
    )


def _ci_text(entry: dict | None, signed: bool = False) -> str:
    if not entry or entry.get("value") is None:
        return "–"
    value = entry["value"] + 0.0  # no "-0.000"
    lo, hi = entry.get("ci") or (None, None)
    text = f"{value:+.3f}" if signed else fmt(value)
    if lo is not None and hi is not None:
        text += f" [{lo + 0.0:+.3f}, {hi + 0.0:+.3f}]" if signed else f" [{fmt(lo)}, {fmt(hi)}]"
    return text


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def retrain_rows(meta: dict) -> tuple[list[str], list[list[str]]]:
    """The held-out comparison of a retrained challenger: header and rows (metric, champion, challenger,
    difference, the recommendations as shown)."""
    r = meta["retrain"]
    c = r["comparison"]
    this = f"{meta['name']}@{meta['version']} (challenger)"
    header = ["on the same held-out decisions", r["champion"] or "no champion", this, "challenger − champion"]
    header.append("as shown to officers")
    rows = []
    for key, label in c["labels"].items():
        m = c["metrics"][key]
        rows.append(
            [
                label,
                _ci_text(m["champion"]),
                _ci_text(m["challenger"]),
                _ci_text(m["difference"], signed=True),
                _ci_text(m["shown"]),
            ]
        )
    return header, rows


def retrain_text(meta: dict) -> dict[str, list[str]]:
    """Sentences about a retrained challenger: how it was trained and compared, and its measured selection
    bias. Empty for a model not retrained from the casework database."""
    r = meta.get("retrain")
    if not r:
        return {}
    c, s = r["comparison"], r["selection"]
    champion = r["champion"]
    how = [
        f"Trained on {c['training_cases']:,} decided applications of the casework database "
        f"({'blind-mode decisions only' if s.get('blind_only') else 'all decided cases'}; decided "
        f"{c['training_decided'][0][:16]} – {c['training_decided'][1][:16]}). Label: the officer's final "
        "decision (approve = 1, reject = 0); home visits are not labels; reopened cases wait until decided again.",
        f"Held out: the most recent {c['holdout_share']:.0%} by decision time — {c['held_out']:,} decisions of "
        f"{c['held_out_families']:,} families ({c['held_out_decided'][0][:16]} – {c['held_out_decided'][1][:16]}), "
        f"never used for training; {c['held_out_families_also_in_training']:,} of these families also have a "
        "decision in the training part.",
        (
            f"The champion {champion} and this challenger were scored on exactly these cases; 95% intervals and the "
            f"paired difference from the same {c['n_boot']} bootstrap draws, families resampled together."
            if champion
            else f"{meta['name']} had no champion: this challenger is compared only with the recommendations "
            "that were shown."
        ),
        "**Not promoted.** A retrained challenger becomes champion only by "
        f"`atauly model promote --model {meta['name']} --version {meta['version']}`.",
    ]
    if c.get("held_out_shown_by_champion") is not None:
        how.append(
            f"{_pct(c['held_out_shown_by_champion'])} of the held-out decisions were made with {champion}'s own "
            "recommendation in view, which favours it in this comparison."
        )
    blind_flip = (
        f"; in {s['blind_assessment_disagreed']:,} blind-mode cases the officer's own assessment disagreed "
        f"with the recommendation shown afterwards, and in {s['blind_then_followed_recommendation']:,} of them "
        "the final decision followed the recommendation"
        if s["blind_assessment_disagreed"]
        else ""
    )
    measured = [
        f"{_pct(s['labels_follow_shown_recommendation'])} of the training labels follow the recommendation that "
        f"was shown ({_pct(s['labels_follow_shown_recommendation_blind'])} of blind-mode decisions, "
        f"{_pct(s['labels_follow_shown_recommendation_not_blind'])} of the others); "
        f"{_pct(s['labels_agree_with_law'])} agree with the law's result.",
        f"{s['overrides']:,} overrides ({_pct(s['override_share'])}), the informative corrections; by reason: "
        + (", ".join(f"{k} {v}" for k, v in s["overrides_by_reason"].items()) or "none")
        + ".",
        f"{_pct(s['blind_share'])} of the decisions were made in blind mode{blind_flip}; "
        f"{_pct(s['law_only_share'])} with the model switched off (the law alone recommended).",
        "Recommendations shown came from: "
        + ", ".join(f"{k} ({v:,})" for k, v in s["shown_by"].items())
        + ".",
        f"Districts: {len(s['districts'])} of {s['districts_in_country']} in {len(s['regions'])} of "
        f"{s['regions_in_country']} regions ("
        + ", ".join(f"{k}: {v:,}" for k, v in s["districts"].items())
        + ").",
    ]
    if s.get("excluded"):
        measured.append("Left out: " + ", ".join(f"{v:,} {k}" for k, v in s["excluded"].items()) + ".")
    return {"how": how, "bias": list(r["selection_bias"]), "measured": measured, "notes": list(r["notes"])}


def retrain_markdown(meta: dict) -> list[str]:
    text = retrain_text(meta)
    if not text:
        return []
    header, rows = retrain_rows(meta)
    lines = ["## Learning from officers' corrections", ""]
    lines += [f"- {t}" for t in text["how"]] + [""]
    lines += [md_table(header, rows), ""]
    lines += ["### Selection bias", ""]
    lines += [f"- {t}" for t in text["bias"]] + ["", "Measured on the training data:", ""]
    lines += [f"- {t}" for t in text["measured"] + text["notes"]] + [""]
    return lines


def retrain_html(meta: dict) -> str:
    text = retrain_text(meta)
    if not text:
        return ""
    header, rows = retrain_rows(meta)

    def items(lines):
        return "<ul>" + "".join(f"<li>{html.escape(t.replace('**', ''))}</li>" for t in lines) + "</ul>"

    return (
        "<h2>Learning from officers' corrections</h2>"
        + items(text["how"])
        + _html_table(header, rows, "Champion and challenger on the same held-out decisions (95% intervals)")
        + "<h3>Selection bias</h3>"
        + items(text["bias"])
        + "<p>Measured on the training data:</p>"
        + items(text["measured"] + text["notes"])
    )
