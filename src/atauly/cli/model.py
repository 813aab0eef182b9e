"""``atauly model``: train, score, evaluate and manage the eligibility recommender (Stage 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import console, err_console, fail, get_settings, load, progress_bar, rich_table
from .model_retrain import retrain_cmd
from .model_store import ModelOpt, card_cmd, list_cmd, load_model, promote_cmd, report_cmd, rollback_cmd
from .model_train import print_population, train_cmd

app = typer.Typer(
    help="The Random Forest recommender: train, retrain, score, evaluate, list, promote, rollback.",
    no_args_is_help=True,
)

app.command("train")(train_cmd)


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
    rec = load_model(model)
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
    rec = load_model(model)
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
    print_population(result.get("population"))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        console.print(f"Wrote {out / 'evaluation.json'}")


app.command("retrain")(retrain_cmd)
app.command("list")(list_cmd)
app.command("promote")(promote_cmd)
app.command("rollback")(rollback_cmd)
app.command("card")(card_cmd)
app.command("report")(report_cmd)


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
    rec = load_model(model)
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
