"""``atauly model retrain``: a challenger trained on officers' decisions, compared with the champion."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import check_lang, console, err_console, fail, get_settings, progress_bar, rich_table
from .model_store import store
from .model_train import N_, _frame, _note, step_words

_FromDbOpt = Annotated[
    bool,
    typer.Option(
        "--from-db",
        help="Learn from the decided cases of the casework database (ATAULY_DATABASE_URL, or the "
        "SQLite file under ATAULY_HOME).",
    ),
]
_NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Model name: the challenger becomes its next version (default: the service's model).",
    ),
]
_HoldoutOpt = Annotated[
    float,
    typer.Option(
        "--holdout",
        help="Share of the most recent decisions (by decision time) held out: never trained on, used "
        "to compare the champion and the challenger.",
    ),
]
_MinCasesOpt = Annotated[
    int, typer.Option("--min-cases", help="Refuse to train on fewer decided cases than this.")
]
_BlindOnlyOpt = Annotated[
    bool,
    typer.Option(
        "--blind-only",
        help="Only decisions made in blind mode (the officer's own assessment came before the "
        "recommendation): fewer labels, less of the model's own influence in them.",
    ),
]
_SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (training and bootstrap).")]


#: ``--lang`` of ``atauly model retrain``: the console's language as well as the report's and the card's.
_LangOpt = Annotated[
    str,
    typer.Option("--lang", help="Language of the output, the report and the model card: ru, kk or en."),
]


def retrain_cmd(
    from_db: _FromDbOpt = False,
    name: _NameOpt = None,
    holdout: _HoldoutOpt = 0.2,
    min_cases: _MinCasesOpt = 100,
    blind_only: _BlindOnlyOpt = False,
    seed: _SeedOpt = 0,
    lang: _LangOpt = "ru",
) -> None:
    """Train a challenger on officers' decisions and compare it with the champion on the same held-out
    decisions. It is stored as a new version and never promoted: `atauly model promote` does that."""
    from atauly.model.wording import Words
    from atauly.service.retrain import RetrainError, check_retrain_options, retrain_from_database

    w = Words(check_lang(lang))
    if not from_db:
        fail("give --from-db (the casework database is the only source of corrections for now)")
    try:
        check_retrain_options(holdout=holdout, min_cases=min_cases)
    except RetrainError as exc:
        fail(str(exc))
    settings = get_settings()
    try:
        with progress_bar() as progress:
            task = progress.add_task(w.t("Retraining"), total=1)

            def step(label: str, done: int, total: int) -> None:
                progress.update(task, description=retrain_step_words(label, w), completed=done, total=total)

            out = retrain_from_database(
                settings.database,
                store(),
                name or settings.service_model.partition("@")[0],
                connected=lambda shown: err_console.print(
                    w.t("Database: {database}", database=shown), markup=False, highlight=False
                ),
                holdout=holdout,
                min_cases=min_cases,
                seed=seed,
                blind_only=blind_only,
                n_jobs=settings.workers,
                progress=step,
                actor=_actor(),
                lang=w.lang,
            )
    except RetrainError as exc:
        fail(str(exc))
    for note in out.notes:
        _note(note, w)
    _print_retrain(out, w)
    gate = out.stored.metadata["quality_gate"]
    if not gate["passed"]:
        from atauly.model.report import gate_words

        err_console.print(
            w.t(
                "Quality gate failed: {reason}. {model} is stored but cannot be champion.",
                reason=gate_words(gate, w)[1],
                model=out.ref,
            ),
            style="bold red",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(1)


#: The steps of retraining (:mod:`atauly.service.retrain`, :mod:`atauly.service.decided_cases`) as the
#: progress bar says them.
RETRAIN_STEPS = {
    "Reading decided cases": N_("Reading decided cases"),
    "The law and features, as at intake": N_("The law and features, as at intake"),
    "Scoring the champion and the challenger on the held-out decisions": N_(
        "Scoring the champion and the challenger on the held-out decisions"
    ),
    "Comparing (family bootstrap)": N_("Comparing (families resampled together)"),
    "Storing the challenger (not promoted)": N_("Storing the challenger (not promoted)"),
    "Done": N_("Done"),
}


def retrain_step_words(label: str, w) -> str:
    """A retraining step's name in ``w``'s language (a training step inside it as ``atauly model train``
    says it); an unknown name as it is."""
    what, sep, inner = label.partition(": ")
    if sep and what == "Training the challenger":
        return w.t("Training the challenger: {step}", step=step_words(inner, w))
    return w.t(RETRAIN_STEPS[label]) if label in RETRAIN_STEPS else label


def _actor() -> str:
    """Who retrains, for the audit chain: ``cli:USER``."""
    try:
        import getpass

        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError, ImportError):
        return "cli"


def _print_retrain(out, w) -> None:
    """The challenger beside the champion on the held-out decisions, how it was trained, its measured
    selection bias and how to promote it: the sentences of the report's section, in ``w``'s language."""
    from atauly.model.report import SELECTION_BIAS, retrain_rows, retrain_text

    meta = out.stored.metadata
    c = out.comparison
    header, rows = retrain_rows(meta, w)
    console.print(
        rich_table(
            _frame(header, rows),
            title=w.t(
                "{challenger} (challenger) and {champion} on {decisions} held-out decisions of {families} "
                "families, decided {start} – {end}; 95% intervals, families resampled ({draws} draws)",
                challenger=out.ref,
                champion=out.champion or w.t("no champion"),
                decisions=w.n(c["held_out"]),
                families=w.n(c["held_out_families"]),
                start=_when(c["held_out_decided"][0], w),
                end=_when(c["held_out_decided"][1], w),
                draws=w.n(c["n_boot"]),
            ),
        )
    )
    text = retrain_text(meta, w)
    # The "not promoted" line is said at the end, with the command to run.
    how = [line for line in text["how"] if "atauly model promote" not in line]
    for line in how + text["measured"]:
        console.print("• " + _plain(line), markup=False, highlight=False)
    console.print(w.t(SELECTION_BIAS) + ":", markup=False, highlight=False)
    for line in text["bias"]:
        console.print("  • " + _plain(line), markup=False, highlight=False)
    console.print(
        w.t("Stored the challenger {model}: not promoted.", model=out.ref)
        + ("" if out.champion else " " + w.t("{name} has no champion yet.", name=out.stored.name)),
        markup=False,
        highlight=False,
    )
    for line in (
        w.t("Report: {path}", path=out.stored.path / "report.html"),
        w.t("Model card: {path}", path=out.stored.path / "model_card.md"),
        w.t("To make it the champion: {command}", command=out.promote_command),
    ):
        console.print(line, markup=False, highlight=False)


def _plain(line: str) -> str:
    """A sentence of the report's Markdown as console text (no emphasis marks)."""
    return line.replace("**", "").replace("`", "")


def _when(text: str, w) -> str:
    """A stored ISO time (``2026-05-12T09:30…``) as a date and time of the language."""
    return f"{w.t.date(text[:10])} {text[11:16]}".strip()
