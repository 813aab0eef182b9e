"""``atauly model retrain``: a challenger trained on officers' decisions, compared with the champion."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import LangOpt, check_lang, console, err_console, fail, get_settings, progress_bar, rich_table
from .model_store import store

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


def retrain_cmd(
    from_db: _FromDbOpt = False,
    name: _NameOpt = None,
    holdout: _HoldoutOpt = 0.2,
    min_cases: _MinCasesOpt = 100,
    blind_only: _BlindOnlyOpt = False,
    seed: _SeedOpt = 0,
    lang: LangOpt = "ru",
) -> None:
    """Train a challenger on officers' decisions and compare it with the champion on the same held-out
    decisions. It is stored as a new version and never promoted: `atauly model promote` does that."""
    from atauly.service.retrain import (
        SELECTION_BIAS,
        RetrainError,
        check_retrain_options,
        retrain_from_database,
    )

    check_lang(lang)
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
                store(),
                name or settings.service_model.partition("@")[0],
                connected=lambda shown: err_console.print(f"Database: {shown}"),
                holdout=holdout,
                min_cases=min_cases,
                seed=seed,
                blind_only=blind_only,
                n_jobs=settings.workers,
                progress=step,
                actor=_actor(),
                lang=lang,
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
    from atauly.model.wording import Words

    c, s = out.comparison, out.selection
    champion = out.champion or "no champion"
    # The console's summary is in English (as the rest of this command prints); --lang is the report's
    # and the card's language.
    header, rows = retrain_rows(out.stored.metadata, Words("en"))
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
