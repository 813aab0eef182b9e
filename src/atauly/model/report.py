"""The training report (self-contained HTML with charts), and the tables and texts it shares with the
model card (:mod:`atauly.model.card`), in Kazakh, Russian or English (:mod:`atauly.model.wording`).

The card follows the spirit of the EU AI Act's technical documentation for high-risk systems (Annex IV):
intended purpose and its limits, data, metrics with intervals, fairness, human oversight, known failure
modes. It is generated from the stored metadata, so it always matches the artifact it describes.
"""

from __future__ import annotations

import base64
import html
import io
import math

from atauly.i18n import N_
from atauly.registry.codes import district_name
from atauly.registry.labels import OVERRIDE_REASONS

from . import sections
from .metrics import METRIC_NAMES
from .population import population_header, population_rows, population_text
from .wording import COMPARED, EXCLUDED, METRICS, Words

STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;color:#1b1f23;line-height:1.45}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f3f5f7}caption{text-align:left;font-weight:600;padding:.3rem 0}img{max-width:100%}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}code{background:#f3f5f7;padding:0 .2rem}
.note{color:#57606a}td{white-space:pre-line}.scroll{overflow-x:auto;max-width:100%}
p,li,h1,h2,h3{overflow-wrap:anywhere}"""

#: The metrics' short names in English (kept for callers; the report says them through wording.METRICS).
LABELS = dict(METRICS)


#: A group with fewer families than this is flagged in the fairness tables and charts: its error rates rest
#: on a handful of entitled families (the exclusion error's denominator) and cannot be compared with others.
MIN_GROUP_FAMILIES = 30
SMALL_MARK = "†"
#: The caveat under a fairness table with a small group (``{mark}`` and ``{n}`` filled in).
SMALL_NOTE = N_(
    "{mark} fewer than {n} families in the group: its figures rest on too few cases to compare with other "
    "groups (see the 95% intervals)."
)
ONE_GROUP = N_("One group only: nothing to compare.")
#: Headings and labels said inside f-strings (Babel does not extract calls there).
QUALITY_GATE = N_("Quality gate")
AGAINST_LAW = N_("Against the law on recorded data")
POPULATION_TITLE = N_("Over the whole population")
MODEL_CHOICE = N_("Model choice: accuracy against speed")
MEASURED = N_("Measured on the training data:")


def small_note(w: Words | None = None) -> str:
    """The small-group caveat in ``w``'s language."""
    w = w or Words()
    return w.t(SMALL_NOTE, mark=SMALL_MARK, n=w.n(MIN_GROUP_FAMILIES))


def small_group(row: dict) -> bool:
    """Whether a fairness row's group is below :data:`MIN_GROUP_FAMILIES`."""
    return int(row.get("families") or 0) < MIN_GROUP_FAMILIES


def group_name(row: dict, column: str = "", w: Words | None = None) -> str:
    """The group as the tables show it (a region by its name, codes in words), marked when small."""
    name = (w or Words("en")).group(column, row["group"])
    return f"{name} {SMALL_MARK}" if small_group(row) else name


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def fmt(value) -> str:
    """A figure to three places in English (the command line's tables; the report uses :class:`Words`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.3f}"


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _ticks(ax, w: Words, x: str | None = None, y: str | None = None) -> None:
    """The axes' numbers as the language writes them: ``pct`` (0,2 → 20%), ``count`` (12 345) or ``ratio``
    (0,25)."""
    from matplotlib.ticker import FuncFormatter

    say = {
        "pct": lambda v, _pos: w.pct(v, 0),
        "count": lambda v, _pos: w.n(v),
        "ratio": lambda v, _pos: w.t.number(v, 4),
    }
    if x:
        ax.xaxis.set_major_formatter(FuncFormatter(say[x]))
    if y:
        ax.yaxis.set_major_formatter(FuncFormatter(say[y]))


def metrics_header(w: Words) -> list[str]:
    return [w.t("model"), *(w.metric(m) for m in METRIC_NAMES)]


def metrics_rows(split: dict, reference: str, w: Words | None = None) -> list[list[str]]:
    """One row per model: its metrics vs ``reference`` ('labels' or 'truth'), the primary model with CIs."""
    w = w or Words()
    rows = []
    for name, result in split["models"].items():
        values = result.get(f"vs_{reference}")
        if values is None:
            continue
        ci = result.get(f"vs_{reference}_ci", {})
        cells = [w.model(name)]
        for metric in METRIC_NAMES:
            lo, hi = ci.get(metric, (None, None))
            cells.append(w.ci(values[metric], _number(lo), _number(hi)))
        rows.append(cells)
    return rows


def _html_table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    return sections._html(header, rows, caption)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _reference_words(has_truth: bool, w: Words) -> str:
    return w.t("true need") if has_truth else w.t("the labels")


def charts(metrics: dict, w: Words | None = None) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = w or Words()
    out = []
    primary = metrics["splits"][metrics["primary_split"]]
    names = [n for n, m in primary["models"].items() if "vs_labels" in m]  # failed baselines left out
    has_truth = "vs_truth" in primary["models"][names[0]]
    ref = "truth" if has_truth else "labels"
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.27
    for k, metric in enumerate(("accuracy", "exclusion_error", "inclusion_error")):
        values = [primary["models"][n][f"vs_{ref}"][metric] for n in names]
        ax.bar([i + (k - 1) * width for i in range(len(names))], values, width, label=w.metric(metric))
    ax.set_xticks(range(len(names)), [w.model(n) for n in names], rotation=15)
    ax.set_ylim(0, 1)
    _ticks(ax, w, y="pct")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(
        w.t(
            "{split} on the test rows, against {reference}",
            split=w.split(metrics["primary_split"]),
            reference=_reference_words(has_truth, w),
        )
    )
    out.append((w.t("Models compared"), _png(fig)))

    curve = metrics["calibration_curve"]
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label=w.t("perfect calibration"))
    ax.plot(curve["mean_predicted"], curve["fraction_positive"], marker="o", label=w.t("model"))
    _ticks(ax, w, x="ratio", y="pct")
    ax.set_xlabel(w.t("predicted probability"))
    ax.set_ylabel(w.t("observed share of positives"))
    ax.legend()
    ax.set_title(w.t("Calibration (test rows, deciles)"))
    out.append((w.t("Calibration curve"), _png(fig)))

    table = [r for r in metrics["search"] if "trees" in r]  # the grid search's accuracy vs speed
    if table:
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        for r in table:
            ax.scatter(
                r["rows_per_second"], r["cv_roc_auc"], s=20 + r["trees"], color="C3" if r["chosen"] else "C0"
            )
            ax.annotate(f"{r['trees']}×{r['max_depth']}", (r["rows_per_second"], r["cv_roc_auc"]), fontsize=7)
        _ticks(ax, w, x="count", y="ratio")
        ax.set_xlabel(w.t("rows scored per second (cross-validation folds)"))
        ax.set_ylabel(w.t("ROC-AUC in cross-validation"))
        ax.set_title(w.t("Accuracy against speed: trees × depth (red: chosen)"))
        out.append((w.t("Accuracy against speed"), _png(fig)))

    audit = metrics.get("fairness", {}).get(f"vs_{ref}") or metrics.get("fairness", {}).get("vs_labels")
    chart = fairness_chart(audit or {}, _reference_words(has_truth, w), w)
    if chart is not None:
        out.append((w.t("Fairness: exclusion and inclusion errors by group"), chart))
    return out


def _comparable(rows: list[dict]) -> bool:
    """A column is drawn when it has at least two groups and some figure to draw."""
    drawn = [
        r for r in rows if any(_number(r.get(m)) is not None for m in ("exclusion_error", "inclusion_error"))
    ]
    return len(rows) >= 2 and len(drawn) >= 1


def fairness_chart(audit: dict, reference: str, w: Words | None = None) -> str | None:
    """Exclusion and inclusion error by group, one panel per audited column that has at least two groups
    and a figure to draw (a single group compares nothing; a column without any figure would be an empty
    plot); a group without entitled families shows "n/a" instead of an empty bar; small groups are hatched
    and pale, and said so in the legend and the title. None when no column qualifies."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    w = w or Words()
    cols = [c for c, rows in audit.items() if _comparable(rows)]
    if not cols:
        return None
    panel = [max(3.6, 0.55 * len(audit[c]) + 1.2) for c in cols]
    fig, axes = plt.subplots(
        1, len(cols), figsize=(sum(panel), 4.4), squeeze=False, gridspec_kw={"width_ratios": panel}
    )
    width = 0.38
    top = 0.0
    na = w.t("n/a")
    for ax, col in zip(axes[0], cols, strict=True):
        rows = audit[col]
        for k, (metric, color) in enumerate((("exclusion_error", "C0"), ("inclusion_error", "C1"))):
            for i, r in enumerate(rows):
                x = i + (k - 0.5) * width
                value = _number(r.get(metric))
                if value is None:
                    ax.text(x, 0.005, na, ha="center", va="bottom", fontsize=7, rotation=90)
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
                    max(value, 0.002),  # a zero error is drawn as a hairline, not as nothing
                    width,
                    yerr=err,
                    capsize=2,
                    color=color,
                    alpha=0.35 if small_group(r) else 1.0,
                    hatch="//" if small_group(r) else None,
                    edgecolor=color,
                )
                top = max(top, hi or 0)
        labels = [f"{group_name(r, col, w)}\nn={w.n(r.get('families') or 0)}" for r in rows]
        many = len(rows) > 5
        ax.set_xticks(
            range(len(rows)),
            labels,
            fontsize=7 if many else 8,
            rotation=60 if many else 0,
            ha="right" if many else "center",
        )
        ax.set_title(w.column(col), fontsize=10)
    for ax in axes[0]:
        ax.set_ylim(0, min(1.0, max(top * 1.15, 0.05)))
        _ticks(ax, w, y="pct")
    axes[0][0].set_ylabel(w.t("share of families"))
    handles = [
        Patch(color="C0", label=w.t("exclusion error")),
        Patch(color="C1", label=w.t("inclusion error")),
        Patch(
            facecolor="white",
            edgecolor="grey",
            hatch="//",
            label=w.t("{mark} fewer than {n} families", mark=SMALL_MARK, n=w.n(MIN_GROUP_FAMILIES)),
        ),
    ]
    axes[0][0].legend(handles=handles, fontsize=8, loc="upper left")
    fig.suptitle(
        w.t(
            "Errors by group against {reference} (95% intervals); hatched: fewer than {n} families",
            reference=reference,
            n=w.n(MIN_GROUP_FAMILIES),
        ),
        fontsize=10,
    )
    fig.tight_layout()
    return _png(fig)


def fairness_header(w: Words, intervals: bool = False) -> list[str]:
    return [
        w.t("group"),
        w.t("families"),
        w.metric("accuracy"),
        w.t("exclusion err. [95%]") if intervals else w.metric("exclusion_error"),
        w.metric("inclusion_error"),
        w.metric("selection_rate"),
    ]


def fairness_rows(col: str, rows: list[dict], w: Words, intervals: bool = False) -> list[list[str]]:
    return [
        [
            group_name(r, col, w),
            w.n(r["families"]),
            w.x(r["accuracy"]),
            w.ci(
                r["exclusion_error"],
                _number(r.get("exclusion_error_lo")),
                _number(r.get("exclusion_error_hi")),
            )
            if intervals
            else w.x(r["exclusion_error"]),
            w.x(r["inclusion_error"]),
            w.x(r["selection_rate"]),
        ]
        for r in rows
    ]


def fairness_caption(col: str, ref: str, w: Words) -> str:
    return w.t("Fairness by {column}, {reference}", column=w.column(col), reference=w.reference(ref))


def gate_words(gate: dict, w: Words) -> tuple[str, str]:
    """(passed/failed, the reason) of the quality gate in ``w``'s language."""
    return (w.t("passed") if gate["passed"] else w.t("failed")), w.said(gate, "reason")


def report_html(meta: dict, lang: str | None = None) -> str:
    w = Words(lang)
    metrics = meta["metrics"]
    header = metrics_header(w)
    title = w.t("Atauly model report: {model}", model=meta["name"] + "@" + meta["version"])
    parts = [f"<h1>{html.escape(title)}</h1>"]
    gate = metrics["quality_gate"]
    verdict, reason = gate_words(gate, w)
    intro = w.t(
        "Trained {created} on {rows} rows ({source}); target {target}. Threshold {threshold} ({policy}).",
        created=w.t.date(meta["created"]),
        rows=w.n(meta["training"]["rows"]),
        source=w.said(meta["training"], "source"),
        target=w.target(meta["target"]),
        threshold=w.x(metrics["threshold"]["value"]),
        policy=w.said(metrics["threshold"], "policy"),
    )
    parts.append(
        f"<p>{html.escape(intro)} {html.escape(w.t(QUALITY_GATE))}: "
        f"<span class='{'pass' if gate['passed'] else 'fail'}'>{html.escape(verdict)}</span>"
        f" — {html.escape(reason)}.</p>"
    )
    for split_name, split in metrics["splits"].items():
        rows_text = w.t(
            "{description}: {train} training rows, {test} test rows.",
            description=w.said(split, "description"),
            train=w.n(split["train_rows"]),
            test=w.n(split["test_rows"]),
        )
        parts.append(f"<h2>{html.escape(w.split(split_name))}</h2><p>{html.escape(rows_text)}</p>")
        parts.append(_html_table(header, metrics_rows(split, "labels", w), w.reference("vs_labels")))
        truth_rows = metrics_rows(split, "truth", w)
        if truth_rows:
            parts.append(_html_table(header, truth_rows, w.reference("vs_truth")))
        if new_families_text(split, w):
            parts.append(f"<p>{html.escape(new_families_text(split, w))}</p>")
    if matched_text(metrics, w):
        parts.append(
            f"<h2>{html.escape(w.t(AGAINST_LAW))}</h2><p>{html.escape(matched_text(metrics, w))}</p>"
        )
    if metrics.get("population"):
        parts.append(f"<h2>{html.escape(w.t(POPULATION_TITLE))}</h2>")
        parts += [f"<p>{html.escape(text)}</p>" for text in population_text(metrics["population"], w)]
        parts.append(_html_table(population_header(w), population_rows(metrics["population"], w)))
    if meta.get("retrain"):
        parts.append(retrain_html(meta, w))
    search_rows = [
        [
            w.n(r["trees"]),
            w.n(r["max_depth"]) if r["max_depth"] is not None else "–",
            w.x(r["cv_roc_auc"]),
            w.x(r["cv_roc_auc_se"]),
            w.x(r["fit_seconds"], 2),
            w.n(r["rows_per_second"]),
            "✓" if r["chosen"] else "",
        ]
        for r in metrics["search"]
        if "trees" in r
    ]
    if search_rows:
        parts.append(f"<h2>{html.escape(w.t(MODEL_CHOICE))}</h2>")
        parts.append(
            _html_table(
                [
                    w.t("trees"),
                    w.t("max depth"),
                    w.t("CV ROC-AUC"),
                    w.t("s.e."),
                    w.t("fit, s"),
                    w.t("rows/s"),
                    w.t("chosen"),
                ],
                search_rows,
            )
        )
    parts.append(sections.report_html(metrics, w))
    for chart_title, png in charts(metrics, w):
        parts.append(
            f"<h2>{html.escape(chart_title)}</h2>"
            f"<img alt='{html.escape(chart_title)}' src='data:image/png;base64,{png}'>"
        )
    for ref, audit in metrics.get("fairness", {}).items():
        for col, rows in audit.items():
            parts.append(
                _html_table(fairness_header(w), fairness_rows(col, rows, w), fairness_caption(col, ref, w))
            )
            if any(small_group(r) for r in rows):
                parts.append(f"<p class='note'>{html.escape(small_note(w))}</p>")
            if len(rows) < 2:
                parts.append(f"<p class='note'>{html.escape(w.t(ONE_GROUP))}</p>")
    body = "\n".join(parts)
    return f"""<!doctype html><html lang="{w.lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>{body}</body></html>"""


def new_families_text(split: dict, w: Words | None = None) -> str:
    """The time split's test quarter restricted to families that never applied before."""
    w = w or Words()
    new = split["models"].get("random_forest", {}).get("new_families")
    if not new:
        return ""
    labels = new["vs_labels"]
    text = w.t(
        "Most test families also applied in training quarters; on the {rows} that never did, accuracy against the "
        "labels is {accuracy}, exclusion error {exclusion}, inclusion error {inclusion}",
        rows=w.n(new["rows"]),
        accuracy=w.x(labels["accuracy"]),
        exclusion=w.x(labels["exclusion_error"]),
        inclusion=w.x(labels["inclusion_error"]),
    )
    if "vs_truth" in new:
        text += w.t(
            "; against true need: exclusion {exclusion}, inclusion {inclusion}",
            exclusion=w.x(new["vs_truth"]["exclusion_error"]),
            inclusion=w.x(new["vs_truth"]["inclusion_error"]),
        )
    return text + "."


def matched_text(metrics: dict, w: Words | None = None) -> str:
    w = w or Words()
    m = metrics.get("matched_operating_point")
    if not m:
        return ""
    reduction = m["relative_exclusion_reduction"]
    return w.t(
        "Against true need, at the threshold ({threshold}) where the model's inclusion error matches the law on "
        "recorded data alone ({law_inclusion}; chosen on the calibration families): exclusion error {model} for "
        "the model against {law} for the rule, inclusion {model_inclusion} — a relative reduction of exclusion "
        "error of {reduction} (issue 4's target: at least 30% at equal or lower inclusion; {met}). This threshold "
        "uses true need, which is unknown in real use: it is an evaluation device, never the model's threshold.",
        threshold=w.x(m["threshold"]),
        law_inclusion=w.x(m["law_on_recorded_inclusion_error"]),
        model=w.x(m["model_exclusion_error"]),
        law=w.x(m["law_on_recorded_exclusion_error"]),
        model_inclusion=w.x(m["model_inclusion_error"]),
        reduction=w.t("n/a") if reduction != reduction else w.pct(reduction),
        met=w.t("met") if m["met"] else w.t("not met"),
    )


def _ci_text(entry: dict | None, w: Words, signed: bool = False) -> str:
    if not entry or entry.get("value") is None:
        return "–"
    lo, hi = entry.get("ci") or (None, None)
    return w.ci(entry["value"], lo, hi, signed=signed)


def retrain_rows(meta: dict, w: Words | None = None) -> tuple[list[str], list[list[str]]]:
    """The held-out comparison of a retrained challenger: header and rows (metric, champion, challenger,
    difference, the recommendations as shown)."""
    w = w or Words()
    r = meta["retrain"]
    c = r["comparison"]
    this = w.t("{model} (challenger)", model=meta["name"] + "@" + meta["version"])
    header = [
        w.t("on the same held-out decisions"),
        r["champion"] or w.t("no champion"),
        this,
        w.t("challenger − champion"),
        w.t("as shown to officers"),
    ]
    rows = []
    for key, label in c["labels"].items():
        m = c["metrics"][key]
        rows.append(
            [
                w.t(COMPARED.get(key, label)),
                _ci_text(m["champion"], w),
                _ci_text(m["challenger"], w),
                _ci_text(m["difference"], w, signed=True),
                _ci_text(m["shown"], w),
            ]
        )
    return header, rows


def _when(text: str, w: Words) -> str:
    """A stored ISO time (``2026-05-12T09:30…``) as a date and time."""
    return f"{w.t.date(text[:10])} {text[11:16]}".strip()


def retrain_text(meta: dict, w: Words | None = None) -> dict[str, list[str]]:
    """Sentences about a retrained challenger: how it was trained and compared, and its measured selection
    bias. Empty for a model not retrained from the casework database."""
    w = w or Words()
    r = meta.get("retrain")
    if not r:
        return {}
    c, s = r["comparison"], r["selection"]
    champion = r["champion"]
    how = [
        w.t(
            "Trained on {cases} decided applications of the casework database ({which}; decided {start} – {end}). "
            "Label: the officer's final decision (approve = 1, reject = 0); home visits are not labels; reopened "
            "cases wait until decided again.",
            cases=w.n(c["training_cases"]),
            which=w.t("blind-mode decisions only") if s.get("blind_only") else w.t("all decided cases"),
            start=_when(c["training_decided"][0], w),
            end=_when(c["training_decided"][1], w),
        ),
        w.t(
            "Held out: the most recent {share} by decision time — {decisions} decisions of {families} families "
            "({start} – {end}), never used for training; {both} of these families also have a decision in the "
            "training part.",
            share=w.pct(c["holdout_share"], 0),
            decisions=w.n(c["held_out"]),
            families=w.n(c["held_out_families"]),
            start=_when(c["held_out_decided"][0], w),
            end=_when(c["held_out_decided"][1], w),
            both=w.n(c["held_out_families_also_in_training"]),
        ),
        w.t(
            "The champion {champion} and this challenger were scored on exactly these cases; 95% intervals and the "
            "paired difference from the same {draws} bootstrap draws, families resampled together.",
            champion=champion,
            draws=w.n(c["n_boot"]),
        )
        if champion
        else w.t(
            "{name} had no champion: this challenger is compared only with the recommendations that were shown.",
            name=meta["name"],
        ),
        "**"
        + w.t("Not promoted.")
        + "** "
        + w.t(
            "A retrained challenger becomes champion only by {command}.",
            command="`atauly model promote --model {} --version {}`".format(meta["name"], meta["version"]),
        ),
    ]
    if c.get("held_out_shown_by_champion") is not None:
        how.append(
            w.t(
                "{share} of the held-out decisions were made with {champion}'s own recommendation in view, which "
                "favours it in this comparison.",
                share=w.pct(c["held_out_shown_by_champion"]),
                champion=champion,
            )
        )
    blind_flip = (
        w.t(
            "; in {cases} blind-mode cases the officer's own assessment disagreed with the recommendation shown "
            "afterwards, and in {followed} of them the final decision followed the recommendation",
            cases=w.n(s["blind_assessment_disagreed"]),
            followed=w.n(s["blind_then_followed_recommendation"]),
        )
        if s["blind_assessment_disagreed"]
        else ""
    )
    reasons = ", ".join(
        f"{w.t(OVERRIDE_REASONS.get(k, k))}: {w.n(v)}" for k, v in s["overrides_by_reason"].items()
    ) or w.t("none")
    measured = [
        w.t(
            "{share} of the training labels follow the recommendation that was shown ({blind} of blind-mode "
            "decisions, {other} of the others); {law} agree with the law's result.",
            share=w.pct(s["labels_follow_shown_recommendation"]),
            blind=w.pct(s["labels_follow_shown_recommendation_blind"]),
            other=w.pct(s["labels_follow_shown_recommendation_not_blind"]),
            law=w.pct(s["labels_agree_with_law"]),
        ),
        w.t(
            "{overrides} overrides ({share}), the informative corrections; by reason: {reasons}.",
            overrides=w.n(s["overrides"]),
            share=w.pct(s["override_share"]),
            reasons=reasons,
        ),
        w.t(
            "{blind} of the decisions were made in blind mode{flip}; {law} with the model switched off (the law "
            "alone recommended).",
            blind=w.pct(s["blind_share"]),
            flip=blind_flip,
            law=w.pct(s["law_only_share"]),
        ),
        w.t(
            "Recommendations shown came from: {sources}.",
            sources=", ".join(f"{w.model(k)} ({w.n(v)})" for k, v in s["shown_by"].items()),
        ),
        w.t(
            "Districts: {districts} of {all_districts} in {regions} of {all_regions} regions ({each}).",
            districts=w.n(len(s["districts"])),
            all_districts=w.n(s["districts_in_country"]),
            regions=w.n(len(s["regions"])),
            all_regions=w.n(s["regions_in_country"]),
            each=", ".join(f"{district_name(k, w.lang)}: {w.n(v)}" for k, v in s["districts"].items()),
        ),
    ]
    if s.get("excluded"):
        measured.append(
            w.t(
                "Left out: {what}.",
                what=", ".join(f"{w.n(v)} {w.t(EXCLUDED.get(k, k))}" for k, v in s["excluded"].items()),
            )
        )
    return {
        "how": how,
        "bias": [w.t(line) for line in r["selection_bias"]],
        "measured": measured,
        "notes": [w.stored(line) for line in r["notes"]],
    }


def retrain_markdown(meta: dict, w: Words | None = None) -> list[str]:
    w = w or Words()
    text = retrain_text(meta, w)
    if not text:
        return []
    header, rows = retrain_rows(meta, w)
    lines = [f"## {w.t(CORRECTIONS)}", ""]
    lines += [f"- {line}" for line in text["how"]] + [""]
    lines += [md_table(header, rows), ""]
    lines += [f"### {w.t(SELECTION_BIAS)}", ""]
    lines += [f"- {line}" for line in text["bias"]] + ["", w.t(MEASURED), ""]
    lines += [f"- {line}" for line in text["measured"] + text["notes"]] + [""]
    return lines


CORRECTIONS = N_("Learning from officers' corrections")
SELECTION_BIAS = N_("Selection bias")


def retrain_html(meta: dict, w: Words | None = None) -> str:
    w = w or Words()
    text = retrain_text(meta, w)
    if not text:
        return ""
    header, rows = retrain_rows(meta, w)

    def items(lines):
        return "<ul>" + "".join(f"<li>{html.escape(line.replace('**', ''))}</li>" for line in lines) + "</ul>"

    caption = w.t("Champion and challenger on the same held-out decisions (95% intervals)")
    return (
        f"<h2>{html.escape(w.t(CORRECTIONS))}</h2>"
        + items(text["how"])
        + _html_table(header, rows, caption)
        + f"<h3>{html.escape(w.t(SELECTION_BIAS))}</h3>"
        + items(text["bias"])
        + f"<p>{html.escape(w.t(MEASURED))}</p>"
        + items(text["measured"] + text["notes"])
    )
