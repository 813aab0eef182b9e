"""``atauly model train``: a calibrated Random Forest trained, evaluated and stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import LangOpt, check_lang, console, err_console, fail, get_settings, progress_bar, rich_table
from .model_store import store

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
    lang: LangOpt = "ru",
) -> None:
    """Train a calibrated Random Forest, evaluate it against baselines, store it with its report and card."""
    from atauly.model import DataError, ModelStoreError
    from atauly.model.pipeline import TrainHooks, TrainRequest, train_request

    request = TrainRequest(
        registry, data, target, group, id_column, _list(drop), _list(audit), name, threshold,
        target_exclusion, seed, baselines, min_roc_auc, policy, coverage, budget, search, view, labels,
        get_settings().workers, check_lang(lang),
    )  # fmt: skip
    try:
        with progress_bar() as progress:
            loading = progress.add_task(
                "Applications: the law on recorded data alone", total=0, visible=registry is not None
            )
            training = {"task": None, "steps": 0, "started": False}

            def load_step(n: int, total: int) -> None:
                progress.update(loading, total=total)
                progress.advance(loading, n)

            def loaded(ds, n_steps: int) -> None:
                _print_dataset(ds, data)
                training.update(task=progress.add_task("Training", total=n_steps), steps=n_steps)

            def step(label: str) -> None:  # called as each step starts: the previous one is done
                if training["started"]:
                    progress.advance(training["task"], 1)
                training["started"] = True
                progress.update(training["task"], description=f"Training: {label}")

            def note(text: str) -> None:
                err_console.print(f"[yellow]Note:[/] {text}")

            out = train_request(request, store(), TrainHooks(load_step, loaded, step, note))
            progress.update(training["task"], completed=training["steps"], description="Training: done")
    except (DataError, ModelStoreError, ValueError) as exc:
        fail(str(exc))
    _print_training(out, lang)


def _print_dataset(ds, data: Path | None) -> None:
    from atauly.model.tables import format_text, ingestion_table

    if ds.ingestion:
        console.print(
            rich_table(
                ingestion_table(ds.ingestion), title=f"Columns of {data.name}: {format_text(ds.file_format)}"
            )
        )
    for note in ds.notes:
        err_console.print(f"[yellow]Note:[/] {note}")
    err_console.print(
        f"{len(ds):,} rows, {len(ds.numeric)} numeric and {len(ds.categorical)} categorical features, "
        f"{ds.y.mean():.1%} positive"
    )


def _print_training(out, lang: str = "ru") -> None:
    from atauly.model.tables import metrics_table, share_text

    stored, result = out.stored, out.result
    metrics = dict(result.metrics, kind=out.dataset.kind)
    console.print(
        rich_table(
            metrics_table(metrics),
            title=f"{stored.name}@{stored.version}: {metrics['primary_split']} split, test set",
        )
    )
    matched = result.metrics.get("matched_operating_point")
    if matched:
        console.print(
            f"vs true need, at the inclusion error of the law on recorded data alone "
            f"({matched['law_on_recorded_inclusion_error']:.3f}): exclusion error "
            f"{matched['model_exclusion_error']:.3f} (model) vs {matched['law_on_recorded_exclusion_error']:.3f} "
            f"(law on recorded data), a relative reduction of {share_text(matched['relative_exclusion_reduction'])} "
            f"(target ≥ 30%: {'met' if matched['met'] else 'not met'})"
        )
    comparison = result.metrics.get("comparison")
    if comparison:
        console.print(
            ("[bold yellow]" if comparison["rival_clearly_better"] else "")
            + "Forest vs the best rival: "
            + comparison["verdict"]
        )
    for split_name, split in result.metrics["splits"].items():
        for base, reason in split.get("failed_baselines", {}).items():
            err_console.print(f"[yellow]Baseline {base} failed ({split_name} split):[/] {reason}")
    print_population(result.metrics.get("population"), lang)
    gate = result.metrics["quality_gate"]
    console.print(f"Threshold {result.threshold:.3f} ({result.metrics['threshold']['policy']})")
    console.print(f"Report: {stored.path / 'report.html'}\nModel card: {stored.path / 'model_card.md'}")
    if not gate["passed"]:
        err_console.print(
            f"[bold red]Quality gate failed:[/] {gate['reason']}. The model is stored but cannot be champion."
        )
        raise typer.Exit(1)
    console.print(
        "[green]Quality gate passed.[/] "
        + (
            f"{stored.name}@{stored.version} is the champion."
            if out.promoted
            else f"Promote with: atauly model promote --model {stored.name} --version {stored.version}"
        )
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
