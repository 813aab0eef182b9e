"""``atauly model train``: a calibrated Random Forest trained, evaluated and stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import check_lang, console, err_console, fail, get_settings, progress_bar, rich_table
from .model_store import store


def N_(message: str) -> str:
    """A message marked for the catalogs (as :func:`atauly.i18n.N_`; Babel extracts ``N_(…)``), defined here
    so that the command line starts without importing Babel."""
    return message


NameOpt = Annotated[str, typer.Option("--name", help="Name to store the model under.")]


def _list(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


_RegistryOpt = Annotated[
    Path | None,
    typer.Option("--registry", help="Registry with applications/ and decisions/ (synthetic or ministry)."),
]
_DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Bring your own data: a .csv or .parquet table.")
]
_TargetOpt = Annotated[str | None, typer.Option("--target", help="Target column (0/1, true/false, yes/no).")]
_GroupOpt = Annotated[
    str | None, typer.Option("--group", help="Household/group column: a group never straddles folds.")
]
_IdColumnOpt = Annotated[str | None, typer.Option("--id", help="Row id column (not a feature).")]
_DropOpt = Annotated[str | None, typer.Option("--drop", help="Columns to leave out, comma-separated.")]
_AuditOpt = Annotated[
    str | None,
    typer.Option("--audit", help="Columns for the fairness audit only (never features), comma-separated."),
]
_ThresholdOpt = Annotated[
    float | None,
    typer.Option("--threshold", help="Fixed threshold on the calibrated probability (default 0.5)."),
]
_TargetExclusionOpt = Annotated[
    float | None,
    typer.Option(
        "--target-exclusion",
        help="Instead: the highest threshold whose exclusion error vs the labels (officer decisions) on "
        "the calibration families is at most this, e.g. 0.02.",
    ),
]
_BaselinesOpt = Annotated[
    bool, typer.Option("--baselines/--no-baselines", help="Train and report the baselines.")
]
_MinRocAucOpt = Annotated[
    float | None,
    typer.Option(
        "--min-roc-auc",
        help="Quality gate floor: minimum ROC-AUC on the test set (default 0.75 for --registry; none for "
        "--data, where the gate is relative: better than chance, not clearly worse than the baselines).",
    ),
]
_PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="Threshold policy, chosen on out-of-fold predictions: fixed, exclusion, coverage (default for "
        "--data: recommend the base rate's share), budget, balanced (maximum balanced accuracy).",
    ),
]
_CoverageOpt = Annotated[
    float | None,
    typer.Option("--coverage", help="With --policy coverage: the share of families to recommend."),
]
_BudgetOpt = Annotated[
    int | None,
    typer.Option(
        "--budget",
        help="With --policy budget: recommend N families of a population the size of the data.",
    ),
]
_SearchOpt = Annotated[
    str | None,
    typer.Option(
        "--search",
        help="Model selection: 'forest' (class weights, leaf size, feature sampling; cross-fitted "
        "calibration — default for --data) or 'grid' (trees × depth — default for --registry).",
    ),
]
_ViewOpt = Annotated[
    str,
    typer.Option(
        "--view",
        help="Registry features: 'application' (the snapshot decided on: records, declaration, home "
        "visit) or 'recorded' (state databases alone — for the proactive scan).",
    ),
]
_LabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="With --view recorded: 'verified' (the verification sample: is the family truly entitled, "
        "given only what state databases show — the scan's question; default when the registry has "
        "verification/) or 'decisions' (officers' decisions on applications).",
    ),
]


#: ``--lang`` of ``atauly model train``: the console's language as well as the report's and the card's.
_LangOpt = Annotated[
    str,
    typer.Option("--lang", help="Language of the output, the report and the model card: ru, kk or en."),
]


def train_cmd(
    registry: _RegistryOpt = None,
    data: _DataOpt = None,
    target: _TargetOpt = None,
    group: _GroupOpt = None,
    id_column: _IdColumnOpt = None,
    drop: _DropOpt = None,
    audit: _AuditOpt = None,
    name: NameOpt = "asp",
    threshold: _ThresholdOpt = None,
    target_exclusion: _TargetExclusionOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    baselines: _BaselinesOpt = True,
    min_roc_auc: _MinRocAucOpt = None,
    policy: _PolicyOpt = None,
    coverage: _CoverageOpt = None,
    budget: _BudgetOpt = None,
    search: _SearchOpt = None,
    view: _ViewOpt = "application",
    labels: _LabelsOpt = None,
    lang: _LangOpt = "ru",
) -> None:
    """Train a calibrated Random Forest, evaluate it against baselines, store it with its report and card."""
    from atauly.model import DataError, ModelStoreError
    from atauly.model.pipeline import TrainHooks, TrainRequest, train_request
    from atauly.model.wording import Words

    w = Words(check_lang(lang))
    request = TrainRequest(
        registry, data, target, group, id_column, _list(drop), _list(audit), name, threshold,
        target_exclusion, seed, baselines, min_roc_auc, policy, coverage, budget, search, view, labels,
        get_settings().workers, w.lang,
    )  # fmt: skip
    try:
        with progress_bar() as progress:
            loading = progress.add_task(
                w.t("Applications: the law on recorded data alone"), total=0, visible=registry is not None
            )
            training = {"task": None, "steps": 0, "started": False}

            def load_step(n: int, total: int) -> None:
                progress.update(loading, total=total)
                progress.advance(loading, n)

            def loaded(ds, n_steps: int) -> None:
                _print_dataset(ds, data, w)
                training.update(task=progress.add_task(w.t("Training"), total=n_steps), steps=n_steps)

            def step(label: str) -> None:  # called as each step starts: the previous one is done
                if training["started"]:
                    progress.advance(training["task"], 1)
                training["started"] = True
                progress.update(
                    training["task"], description=w.t("Training: {step}", step=step_words(label, w))
                )

            def note(text: str) -> None:
                _note(text, w)

            out = train_request(request, store(), TrainHooks(load_step, loaded, step, note))
            progress.update(
                training["task"],
                completed=training["steps"],
                description=w.t("Training: {step}", step=w.t("done")),
            )
    except (DataError, ModelStoreError, ValueError) as exc:
        fail(str(exc))
    _print_training(out, w)


def _note(text: str, w) -> None:
    """Something the user should know, in ``w``'s language (the library says it in English: the notes
    known here are said again with their figures, others through the catalogs as they are)."""
    err_console.print(f"[yellow]{w.t('Note:')}[/] ", end="")
    err_console.print(note_words(text, w), markup=False, highlight=False)


#: The note of a user's table whose columns were dropped (atauly.model.data): said from the ingestion report.
DROPPED = r"(?P<n>\d+) column\(s\) dropped: (?P<which>.*)"


def note_words(text: str, w) -> str:
    """A note of the data or the training in ``w``'s language: the model room words it (the report written
    at training says the same notes, :data:`atauly.model.wording._STORED`)."""
    return w.stored(text)


def dropped_words(ingestion: list[dict], w) -> str:
    """The columns of a user's table that were dropped, and why, in ``w``'s language."""
    dropped = [r for r in ingestion if r["action"] == "dropped"]
    return w.t(
        "Columns dropped ({n}): {columns}",
        n=w.n(len(dropped)),
        columns="; ".join(f"«{r['column']}» ({w.stored(r['reason'])})" for r in dropped),
    )


#: The training's step names (:func:`atauly.model.train.train_steps`, ``atauly.model.STORE_STEPS``) as the
#: progress bar says them; ``{split}`` is the split's name in words.
STEP_WORDS = {
    "search": N_("choosing the forest"),
    "fit": N_("fitting the forest, {split}"),
    "evaluate": N_("evaluating on the test rows, {split}"),
    "baselines": N_("baselines, {split}"),
    "compare": N_("comparing with the rivals"),
    "fairness": N_("fairness"),
    "population": N_("figures over the whole population"),
    "store the model": N_("storing the model"),
    "report and card": N_("writing the report and the model card"),
}
RUNG = N_("choosing the forest, {split}: round {rung} of {rungs}, {candidates} × {trees} trees")


def step_words(label: str, w) -> str:
    """A training step's name (``search random: rung 1/3: 8 candidates × 12 trees``, ``fit time``, …)
    in ``w``'s language; an unknown name as it is."""
    import re

    rung = re.fullmatch(r"search (\w+): rung (\d+)/(\d+): (\d+) candidates? × (\d+) trees", label)
    if rung:
        split, number, rungs, size, trees = rung.groups()
        return w.t(
            RUNG,
            split=w.split(split).lower(),
            rung=number,
            rungs=rungs,
            candidates=w.n(int(size)),
            trees=w.n(int(trees)),
        )
    what, _, split = label.partition(" ")
    if split in ("time", "random") and what in STEP_WORDS:
        return w.t(STEP_WORDS[what], split=w.split(split).lower())
    return w.t(STEP_WORDS[label]) if label in STEP_WORDS else label


def _print_dataset(ds, data: Path | None, w) -> None:
    from atauly.model.sections import COLUMNS_FORMAT, ingestion_rows

    if ds.ingestion:
        header, rows, how = ingestion_rows(
            {"ingestion": {"columns": ds.ingestion, "format": ds.file_format}}, w
        )
        console.print(
            rich_table(_frame(header, rows), title=w.t(COLUMNS_FORMAT, format=how) + f": {data.name}")
        )
    import re

    for note in ds.notes:
        if ds.ingestion and re.fullmatch(DROPPED, note):
            err_console.print(f"[yellow]{w.t('Note:')}[/] ", end="")
            err_console.print(dropped_words(ds.ingestion, w), markup=False, highlight=False)
        else:
            _note(note, w)
    err_console.print(
        w.t(
            "{rows} rows, {numeric} numeric and {categorical} categorical features, {share} positive",
            rows=w.n(len(ds)),
            numeric=w.n(len(ds.numeric)),
            categorical=w.n(len(ds.categorical)),
            share=w.pct(float(ds.y.mean())),
        ),
        highlight=False,
    )


def _frame(header: list[str], rows: list[list]):
    import pandas as pd

    return pd.DataFrame([[str(c) for c in r] for r in rows], columns=header)


#: The figures of the training's summary table (the report has them all, with intervals).
SHOWN = (
    "accuracy",
    "balanced_accuracy",
    "roc_auc",
    "brier",
    "exclusion_error",
    "inclusion_error",
    "coverage_poorest_quintile",
)
#: What a row of the summary table is measured against.
AGAINST = {
    "labels": N_("labels"),
    "decisions": N_("officers' decisions"),
    "truth": N_("true need (synthetic)"),
}


def metrics_summary(metrics: dict, kind: str, w) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the primary split's test-set figures of every model, against the labels and the
    truth, in ``w``'s language."""
    primary = metrics["splits"][metrics["primary_split"]]
    rows = []
    for name, result in primary["models"].items():
        for ref in ("labels", "truth"):
            m = result.get(f"vs_{ref}")
            if m is None:
                continue
            against = "decisions" if ref == "labels" and kind == "registry" else ref
            rows.append([w.model(name), w.t(AGAINST[against]), *(w.x(m.get(k)) for k in SHOWN)])
    return [w.t("model"), w.t("compared with"), *(w.metric(k) for k in SHOWN)], rows


def _print_training(out, w) -> None:
    from atauly.model.report import gate_words, matched_text

    stored, result = out.stored, out.result
    ref = f"{stored.name}@{stored.version}"
    header, rows = metrics_summary(result.metrics, out.dataset.kind, w)
    title = w.t(
        "{model}: {split}, test rows", model=ref, split=w.split(result.metrics["primary_split"]).lower()
    )
    console.print(rich_table(_frame(header, rows), title=title))
    matched = matched_text(result.metrics, w)
    if matched:
        console.print(matched, markup=False, highlight=False)
    comparison = result.metrics.get("comparison")
    if comparison:
        console.print(
            w.t("Forest against the best rival: {verdict}", verdict=w.stored(comparison["verdict"])),
            style="bold yellow" if comparison["rival_clearly_better"] else None,
            markup=False,
            highlight=False,
        )
    for split_name, split in result.metrics["splits"].items():
        for base, reason in split.get("failed_baselines", {}).items():
            err_console.print(
                w.t(
                    "Baseline {name} failed ({split}): {reason}",
                    name=w.model(base),
                    split=w.split(split_name).lower(),
                    reason=reason,
                ),
                style="yellow",
                markup=False,
                highlight=False,
            )
    print_population(result.metrics.get("population"), w.lang)
    gate = result.metrics["quality_gate"]
    console.print(
        w.t(
            "Threshold {value} ({policy})",
            value=w.x(result.threshold),
            policy=w.stored(result.metrics["threshold"]["policy"]),
        ),
        markup=False,
        highlight=False,
    )
    for line in (
        w.t("Report: {path}", path=stored.path / "report.html"),
        w.t("Model card: {path}", path=stored.path / "model_card.md"),
    ):
        console.print(line, markup=False, highlight=False)
    _verdict, reason = gate_words(gate, w)
    if not gate["passed"]:
        err_console.print(
            w.t(
                "Quality gate failed: {reason}. The model is stored but cannot be champion.",
                reason=reason,
            ),
            style="bold red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1)
    promote = f"atauly model promote --model {stored.name} --version {stored.version}"
    console.print(
        w.t("Quality gate passed.")
        + " "
        + (
            w.t("{model} is the champion.", model=ref)
            if out.promoted
            else w.t("Promote with: {command}", command=promote)
        ),
        style="green",
        markup=False,
        highlight=False,
    )


def print_population(population: dict | None, lang: str = "ru") -> None:
    """Figures over every family of the quarter (atauly.model.population), beside the applicant-level ones:
    the country and urban/rural here, by region in the report (in ``lang``)."""
    import pandas as pd

    from atauly.model.population import population_header, population_rows, population_text
    from atauly.model.wording import Words

    if not population:
        return
    w = Words(lang)
    for text in population_text(population, w):
        console.print(text, markup=False)
    shown = {
        **population,
        "paths": {
            path: [g for g in groups if g["group"] in ("all", "settlement")]
            for path, groups in population["paths"].items()
        },
    }
    header = population_header(w)
    console.print(
        rich_table(
            pd.DataFrame(population_rows(shown, w), columns=header),
            title=w.t("Over the whole population (by region: in the report)"),
        )
    )
