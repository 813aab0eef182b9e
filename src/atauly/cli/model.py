"""``atauly model``: train, score, evaluate and manage the eligibility recommender (Stage 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from atauly.settings import get_settings

from .common import console, err_console, fail, load, progress_bar, rich_table

app = typer.Typer(
    help="The Random Forest recommender: train, retrain, score, evaluate, list, promote, rollback.",
    no_args_is_help=True,
)

ModelOpt = Annotated[str, typer.Option("--model", help="Model NAME (its champion) or NAME@vN.")]
NameOpt = Annotated[str, typer.Option("--name", help="Name to store the model under.")]


def _store():
    from atauly.model import ModelStore

    return ModelStore(get_settings().models_dir)


def _list(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _load_model(ref: str):
    from atauly.model import ModelStoreError, Recommender

    try:
        return Recommender.load(_store(), ref)
    except ModelStoreError as exc:
        fail(str(exc))


@app.command("train")
def train_cmd(
    registry: Annotated[
        Path | None,
        typer.Option(
            "--registry", help="Registry with applications/ and decisions/ (synthetic or ministry)."
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Bring your own data: a .csv or .parquet table.")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Target column (0/1, true/false, yes/no).")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Household/group column: a group never straddles folds.")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Row id column (not a feature).")] = None,
    drop: Annotated[str | None, typer.Option("--drop", help="Columns to leave out, comma-separated.")] = None,
    audit: Annotated[
        str | None,
        typer.Option(
            "--audit", help="Columns for the fairness audit only (never features), comma-separated."
        ),
    ] = None,
    name: NameOpt = "asp",
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", help="Fixed threshold on the calibrated probability (default 0.5)."),
    ] = None,
    target_exclusion: Annotated[
        float | None,
        typer.Option(
            "--target-exclusion",
            help="Instead: the highest threshold whose exclusion error vs the labels (officer decisions) on "
            "the calibration families is at most this, e.g. 0.02.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    baselines: Annotated[
        bool, typer.Option("--baselines/--no-baselines", help="Train and report the baselines.")
    ] = True,
    min_roc_auc: Annotated[
        float | None,
        typer.Option(
            "--min-roc-auc",
            help="Quality gate floor: minimum ROC-AUC on the test set (default 0.75 for --registry; none for "
            "--data, where the gate is relative: better than chance, not clearly worse than the baselines).",
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Threshold policy, chosen on out-of-fold predictions: fixed, exclusion, coverage (default for "
            "--data: recommend the base rate's share), budget, balanced (maximum balanced accuracy).",
        ),
    ] = None,
    coverage: Annotated[
        float | None,
        typer.Option("--coverage", help="With --policy coverage: the share of families to recommend."),
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget",
            help="With --policy budget: recommend N families of a population the size of the data.",
        ),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            help="Model selection: 'forest' (class weights, leaf size, feature sampling; cross-fitted "
            "calibration — default for --data) or 'grid' (trees × depth — default for --registry).",
        ),
    ] = None,
    view: Annotated[
        str,
        typer.Option(
            "--view",
            help="Registry features: 'application' (the snapshot decided on: records, declaration, home "
            "visit) or 'recorded' (state databases alone — for the proactive scan).",
        ),
    ] = "application",
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help="With --view recorded: 'verified' (the verification sample: is the family truly entitled, "
            "given only what state databases show — the scan's question; default when the registry has "
            "verification/) or 'decisions' (officers' decisions on applications).",
        ),
    ] = None,
) -> None:
    """Train a calibrated Random Forest, evaluate it against baselines, store it with its report and card."""
    from atauly.model import DataError, ModelStoreError
    from atauly.model.pipeline import TrainHooks, TrainRequest, train_request

    request = TrainRequest(
        registry, data, target, group, id_column, _list(drop), _list(audit), name, threshold,
        target_exclusion, seed, baselines, min_roc_auc, policy, coverage, budget, search, view, labels,
        get_settings().workers,
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

            out = train_request(request, _store(), TrainHooks(load_step, loaded, step, note))
            progress.update(training["task"], completed=training["steps"], description="Training: done")
    except (DataError, ModelStoreError, ValueError) as exc:
        fail(str(exc))
    _print_training(out)


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


def _print_training(out) -> None:
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
    _print_population(result.metrics.get("population"))
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


def _print_population(population: dict | None) -> None:
    """Figures over every family of the quarter (atauly.model.population), beside the applicant-level ones."""
    import pandas as pd

    from atauly.model.population import POPULATION_HEADER, population_rows, population_text

    if not population:
        return
    for text in population_text(population):
        console.print(text)
    rows = [r for r in population_rows(population) if r[1] == "all families" or r[1].startswith("settlement")]
    console.print(
        rich_table(
            pd.DataFrame(rows, columns=POPULATION_HEADER),
            title="Over the whole population (by region: report)",
        )
    )


def _is_registry(path: Path) -> bool:
    """A registry directory (tables, or truth/recorded views), as opposed to a table file."""
    if not path.is_dir():
        return False
    if any((path / v).is_dir() for v in ("recorded", "truth")):
        return True
    return any((path / f).exists() for f in ("families", "families.parquet", "families.csv"))


def _registry_frame(rec, data: Path, quarter: str | None, view: str | None):
    """Features of every family of a registry directory (the law is computed first)."""
    from atauly.model.pipeline import manifest_quarter, registry_features

    quarter = quarter or manifest_quarter(data)
    if quarter is None:
        fail("--quarter is needed to score a registry (no manifest.json to read it from)")
    reg = load(data, view or ("recorded" if (data / "recorded").is_dir() else None))
    with progress_bar() as progress:
        task = progress.add_task(f"Applying the law for {quarter}", total=len(reg.families))
        law, frame = registry_features(rec, reg, quarter, progress=lambda n: progress.advance(task, n))
    return reg, law, frame


@app.command("score")
def score_cmd(
    model: ModelOpt,
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="Table to score (.csv/.parquet), or a registry directory for registry models."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output CSV: id, probability, recommended.")],
    id_column: Annotated[
        str | None, typer.Option("--id", help="Id column copied to the output (family_id for a registry).")
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option("--budget", help="Recommend the N highest probabilities instead of the threshold."),
    ] = None,
    reasons: Annotated[
        int, typer.Option("--reasons", help="Add this many reasons per row (reason_1…) in --lang.")
    ] = 0,
    lang: Annotated[str, typer.Option("--lang", help="Language of the reasons: ru, kk or en.")] = "",
    quarter: Annotated[
        str | None,
        typer.Option("--quarter", help="Quarter when --data is a registry (default: its manifest)."),
    ] = None,
    view: Annotated[str | None, typer.Option("--view", help="Registry view (default: recorded).")] = None,
) -> None:
    """Score a table or a registry: writes the id column, probability and recommended (0/1)."""
    from atauly.model import DataError
    from atauly.model.pipeline import check_score_options, score_rows

    lang = lang or get_settings().lang
    try:
        check_score_options(lang=lang, budget=budget, reasons=reasons)
    except ValueError as exc:
        fail(str(exc))
    rec = _load_model(model)
    try:
        if _is_registry(data):
            reg, _law, frame = _registry_frame(rec, data, quarter, view)
            if rec.stored.metadata.get("view", "application") == "application":
                err_console.print(
                    f"[yellow]Note:[/] {rec.name} learned from application snapshots (declaration, home visit); "
                    "this registry view has neither, so its probabilities are not calibrated here. "
                    "For the proactive scan, train with --view recorded."
                )
            id_column = id_column or "family_id"
            if id_column not in reg.families:
                fail(f"--id {id_column!r} is not a column of families")
            ids = reg.families[id_column].to_numpy()
        else:
            from atauly.model.data import read_table

            frame = read_table(data)
            if not id_column:
                fail("--id COLUMN is needed to score a table")
            if id_column not in frame:
                fail(f"--id column {id_column!r} not in {data.name}")
            ids = frame[id_column].to_numpy()
        rec.set_jobs(get_settings().workers)
        scored = score_rows(rec, frame, ids, id_column, budget, reasons, lang)
    except (DataError, ValueError) as exc:
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    scored.to_csv(out, index=False)
    console.print(
        f"Scored {len(scored):,} rows with {rec.name}: {int(scored['recommended'].sum()):,} recommended "
        f"({'budget ' + format(budget, ',') if budget is not None else f'threshold {rec.threshold:.3f}'}). Wrote {out}"
    )


@app.command("evaluate")
def evaluate_cmd(
    model: ModelOpt,
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Registry with applications/ and decisions/.")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="A labelled table (.csv/.parquet).")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Target column of --data.")] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Household/group column of --data (resampled together).")
    ] = None,
    quarter: Annotated[
        str | None,
        typer.Option(
            "--quarter",
            help="Only applications of this quarter (registry). Default: the quarters the model was not trained on.",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for evaluation.json.")] = None,
) -> None:
    """Metrics of a stored model on labelled data it was not trained on (intervals, fairness audit)."""
    from atauly.model import DataError
    from atauly.model.pipeline import evaluate_stored
    from atauly.model.tables import evaluation_table

    if (registry is None) == (data is None):
        fail("give either --registry DIR or --data FILE --target COLUMN")
    rec = _load_model(model)
    try:
        result, ds, chosen = evaluate_stored(
            rec,
            registry,
            data,
            target,
            group,
            quarter,
            lambda text: err_console.print(f"[yellow]Note:[/] {text}"),
        )
    except (DataError, ValueError) as exc:
        fail(str(exc))
    if chosen is not None:
        err_console.print(f"Evaluated on {', '.join(chosen)}: {len(ds):,} applications")
    console.print(rich_table(evaluation_table(result, rec.name), title=f"{rec.name} on {len(ds):,} rows"))
    _print_population(result.get("population"))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        console.print(f"Wrote {out / 'evaluation.json'}")


@app.command("retrain")
def retrain_cmd(
    from_db: Annotated[
        bool,
        typer.Option(
            "--from-db",
            help="Learn from the decided cases of the casework database (ATAULY_DATABASE_URL, or the "
            "SQLite file under ATAULY_HOME).",
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Model name: the challenger becomes its next version (default: the service's model).",
        ),
    ] = None,
    holdout: Annotated[
        float,
        typer.Option(
            "--holdout",
            help="Share of the most recent decisions (by decision time) held out: never trained on, used "
            "to compare the champion and the challenger.",
        ),
    ] = 0.2,
    min_cases: Annotated[
        int, typer.Option("--min-cases", help="Refuse to train on fewer decided cases than this.")
    ] = 100,
    blind_only: Annotated[
        bool,
        typer.Option(
            "--blind-only",
            help="Only decisions made in blind mode (the officer's own assessment came before the "
            "recommendation): fewer labels, less of the model's own influence in them.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (training and bootstrap).")] = 0,
) -> None:
    """Train a challenger on officers' decisions and compare it with the champion on the same held-out
    decisions. It is stored as a new version and never promoted: `atauly model promote` does that."""
    from atauly.service.retrain import (
        SELECTION_BIAS,
        RetrainError,
        check_retrain_options,
        retrain_from_database,
    )

    if not from_db:
        fail("give --from-db (the casework database is the only source of corrections for now)")
    try:
        check_retrain_options(holdout=holdout, min_cases=min_cases)
    except RetrainError as exc:
        fail(str(exc))
    settings = get_settings()
    try:
        with progress_bar() as progress:
            task = progress.add_task("Retraining", total=1)

            def step(label: str, done: int, total: int) -> None:
                progress.update(task, description=label, completed=done, total=total)

            out = retrain_from_database(
                settings.database,
                _store(),
                name or settings.service_model.partition("@")[0],
                connected=lambda shown: err_console.print(f"Database: {shown}"),
                holdout=holdout,
                min_cases=min_cases,
                seed=seed,
                blind_only=blind_only,
                n_jobs=settings.workers,
                progress=step,
                actor=_actor(),
            )
    except RetrainError as exc:
        fail(str(exc))
    for note in out.notes:
        err_console.print(f"[yellow]Note:[/] {note}")
    _print_retrain(out, SELECTION_BIAS)
    gate = out.stored.metadata["quality_gate"]
    if not gate["passed"]:
        err_console.print(
            f"[bold red]Quality gate failed:[/] {gate['reason']}. {out.ref} is stored but cannot be champion."
        )
        raise typer.Exit(1)


def _actor() -> str:
    """Who retrains, for the audit chain: ``cli:USER``."""
    try:
        import getpass

        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError, ImportError):
        return "cli"


def _print_retrain(out, selection_bias) -> None:
    import pandas as pd

    from atauly.model.report import retrain_rows

    c, s = out.comparison, out.selection
    champion = out.champion or "no champion"
    header, rows = retrain_rows(out.stored.metadata)
    console.print(
        rich_table(
            pd.DataFrame(rows, columns=header),
            title=f"{out.ref} (challenger) vs {champion}: {c['held_out']} held-out decisions of "
            f"{c['held_out_families']} families, decided {c['held_out_decided'][0][:16]} – "
            f"{c['held_out_decided'][1][:16]}; 95% intervals, families resampled ({c['n_boot']} draws)",
        )
    )
    if c["held_out_shown_by_champion"] is not None:
        console.print(
            f"{c['held_out_shown_by_champion']:.0%} of the held-out decisions were made with {champion}'s own "
            "recommendation in view: agreement with them favours it."
        )

    def pct(v):
        return "–" if v is None else f"{v:.1%}"

    console.print(
        f"Training data: {c['training_cases']} decided cases; {pct(s['labels_follow_shown_recommendation'])} "
        f"of the labels follow the recommendation that was shown ({pct(s['labels_follow_shown_recommendation_blind'])} "
        f"in blind mode, {pct(s['labels_follow_shown_recommendation_not_blind'])} otherwise); "
        f"{s['overrides']} overrides ({pct(s['override_share'])}); {pct(s['blind_share'])} decided in blind "
        f"mode"
        + (
            f" (the officer's own assessment disagreed with the recommendation {s['blind_assessment_disagreed']} "
            f"times; the decision then followed the recommendation {s['blind_then_followed_recommendation']} times)"
            if s["blind_assessment_disagreed"]
            else ""
        )
        + f"; {len(s['districts'])} of {s['districts_in_country']} districts, {len(s['regions'])} of "
        f"{s['regions_in_country']} regions."
        + (f" Left out: {', '.join(f'{n} {k}' for k, n in s['excluded'].items())}." if s["excluded"] else "")
    )
    console.print("Selection bias (also in the model card):")
    for line in selection_bias:
        console.print(f"  • {line}", highlight=False)
    console.print(
        f"Stored the challenger [bold]{out.ref}[/] — not promoted"
        + ("" if out.champion else f" ({out.stored.name} has no champion yet; still not promoted)")
        + f".\nReport: {out.stored.path / 'report.html'}\nModel card: {out.stored.path / 'model_card.md'}"
    )
    console.print(f"To make it the champion: [bold]{out.promote_command}[/]")


@app.command("list")
def list_cmd() -> None:
    """Stored models and versions; the champion of each name is marked."""
    import pandas as pd

    rows = _store().listing()
    if not rows:
        console.print(
            f"No models in {get_settings().models_dir}. Train one with: atauly model train --registry DIR"
        )
        return
    df = pd.DataFrame(rows)
    df["champion"] = df["champion"].map({True: "★", False: ""})
    console.print(rich_table(df.round(4), title=f"Models in {get_settings().models_dir}"))


@app.command("promote")
def promote_cmd(
    model: Annotated[str, typer.Option("--model", help="Model NAME.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Version to promote, e.g. v2 (default: the latest).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if it failed the quality gate.")
    ] = False,
) -> None:
    """Make a version the champion (the one `--model NAME` uses); the previous one can be rolled back to."""
    from atauly.model import ModelStoreError

    try:
        v = _store().promote(model, version, force)
    except ModelStoreError as exc:
        fail(str(exc))
    console.print(f"{model.partition('@')[0]}@{v} is the champion.")  # --model may be NAME@vN


@app.command("rollback")
def rollback_cmd(model: Annotated[str, typer.Option("--model", help="Model NAME.")]) -> None:
    """Return the champion to the previous one."""
    from atauly.model import ModelStoreError

    try:
        v = _store().rollback(model)
    except ModelStoreError as exc:
        fail(str(exc))
    console.print(f"Rolled back: {model}@{v} is the champion again.")


@app.command("card")
def card_cmd(
    model: ModelOpt,
    html: Annotated[
        bool, typer.Option("--html", help="Print the path of the HTML card instead of the Markdown.")
    ] = False,
) -> None:
    """Print a model's card (Markdown) or the path of its HTML version."""
    from atauly.model import ModelStoreError

    try:
        name, version = _store().resolve(model)
    except ModelStoreError as exc:
        fail(str(exc))
    path = _store().root / name / version / ("model_card.html" if html else "model_card.md")
    if not path.exists():
        fail(f"{name}@{version} has no model card")
    console.print(str(path) if html else path.read_text(encoding="utf-8"), markup=False, highlight=False)


@app.command("recommend")
def recommend_cmd(
    model: ModelOpt,
    registry: Annotated[Path, typer.Option("--registry", help="Registry directory.")],
    family: Annotated[str, typer.Option("--family", help="family_id to recommend on.")],
    quarter: Annotated[
        str | None, typer.Option("--quarter", help="Quarter (default: the registry's manifest).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language: ru, kk or en.")] = "",
    view: Annotated[str | None, typer.Option("--view", help="Registry view (default: recorded).")] = None,
    reasons: Annotated[int, typer.Option("--reasons", help="How many reasons to show.")] = 5,
) -> None:
    """One family: the law's result and the model's recommendation with its reasons, side by side."""
    from atauly.i18n import Translator
    from atauly.model.pipeline import check_score_options, manifest_quarter, recommend_family

    lang = lang or get_settings().lang
    try:
        check_score_options(lang=lang)
    except ValueError as exc:
        fail(str(exc))
    rec = _load_model(model)
    if rec.kind != "registry":
        fail(f"{rec.name} was trained on a table, not on the data contract")
    quarter = quarter or manifest_quarter(registry)
    if quarter is None:
        fail("--quarter is needed (no manifest.json to read it from)")
    reg = load(registry, view or ("recorded" if (registry / "recorded").is_dir() else None))
    try:
        one = recommend_family(rec, reg, family, quarter, lang, reasons)
    except ValueError as exc:
        fail(str(exc))
    t = Translator(lang)
    console.print(one.explanation, highlight=False, markup=False)
    console.rule(t("Model recommendation ({model})", model=rec.name))
    console.print(
        t("Probability of entitlement: {p}", p=t.percent(one.probability))
        + " — "
        + (t("recommended") if one.recommended else t("not recommended"))
        + " "
        + t("(threshold {value})", value=t.percent(one.threshold)),
        highlight=False,
    )
    console.print(t("Main reasons:"), highlight=False)
    for reason in one.reasons:
        console.print(f"  {reason.line}", highlight=False, markup=False)
    console.print(t("The recommendation is advisory: the officer decides."), highlight=False)
