"""Shared helpers for the CLI: console, progress bars, loading registries with clear errors.

The CLI's modules import only typer, rich's console and the standard library at their top: pandas, the
registry, the law (OpenFisca), the models and the service are imported inside the commands that use them,
so that ``atauly --help`` and a command that needs little start quickly (issue 19;
``tests/cli/test_cli_imports.py`` checks it).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from atauly.registry import Registry


def _console(stderr: bool = False) -> Console:
    # Outside a terminal (CI logs, pipes) Rich would wrap tables at 80 columns; give them room.
    probe = Console(stderr=stderr)
    return Console(stderr=stderr, width=None if probe.is_terminal else 160)


console = _console()
err_console = _console(stderr=True)

#: Holds True once a command has asked to end its process without the interpreter's teardown
#: (:func:`exit_fast_when_done`); read by ``atauly.cli.main.Atauly`` when the command has ended.
EXIT_FAST: list[bool] = []


def exit_fast_when_done() -> None:
    """Ask that the ``atauly`` process, when this command ends successfully, end without the interpreter's
    teardown: the exit handlers run and the output is flushed, then the process exits, without freeing
    every object and module one by one (~0.2–0.3 s of CPU once pandas, pyarrow and OpenFisca are loaded:
    issue 19, one family's documents in ≤ 1 s). Only for a command that has written and closed all it
    makes. Tests run commands through click (``CliRunner``), never through ``Atauly.__call__``: nothing
    changes there."""
    EXIT_FAST.append(True)


@contextmanager
def progress_bar():
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        yield progress


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def write_rejects(report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    report.problems.to_csv(path, index=False)


def load(
    registry: Path, view: str | None, skip_invalid: bool = False, rejects: Path | None = None
) -> Registry:
    """Load and validate a registry; print every problem and exit 1 when it is invalid."""
    from atauly.registry import RegistryNotFoundError, RegistryValidationError, load_registry

    with err_console.status(f"Reading and validating {registry}…"):
        try:
            reg, report = load_registry(registry, view, skip_invalid=skip_invalid)
        except RegistryNotFoundError as exc:
            fail(str(exc))
        except RegistryValidationError as exc:
            if exc.report.fatal:
                # One message naming what is missing; no rejects file (no row is to blame).
                fail(
                    f"{registry}: "
                    + "; ".join(fatal_text(p) for p in exc.report.fatal_problems())
                    + ". Nothing was computed and nothing written: fix the file and run again.",
                    code=1,
                )
            if rejects is not None:
                write_rejects(exc.report, rejects)
            err_console.print(f"[bold red]The registry is invalid:[/] {exc.report.summary(limit=30)}")
            if rejects is not None:
                err_console.print(f"All problems written to {rejects}")
            err_console.print(
                "Nothing was computed. Fix the data, or pass --skip-invalid to leave out the "
                "families with problems."
            )
            raise typer.Exit(1) from None
    if not report.ok:
        n_bad = len(report.invalid_family_ids())
        if rejects is not None:
            write_rejects(report, rejects)
        err_console.print(
            f"[yellow]Skipped {n_bad} famil(ies) with {len(report.problems)} problem(s)"
            + (f"; reasons in {rejects}[/]" if rejects is not None else "[/]")
        )
    return reg


def fatal_text(problem: str) -> str:
    """``incomes.amount_kzt (missing_column)`` as a sentence naming the column or the table."""
    what, _, rule = problem.partition(" (")
    if rule.startswith("missing_column"):
        return f"the column {what} is missing"
    return f"the table {what} has a header but no rows"


def write_table(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        df.to_csv(path, index=False)
    elif path.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(path, index=False)
    else:
        fail(f"--out must end in .parquet or .csv, got {path.name}")


def rich_table(df: pd.DataFrame, title: str | None = None, money: tuple[str, ...] = ()) -> Table:
    import pandas as pd
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, row, strict=True):
            if isinstance(value, float):
                cells.append(f"{value:,.0f}" if col in money or abs(value) >= 1000 else f"{value:,.2f}")
            elif isinstance(value, bool):
                cells.append("✓" if value else "—")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table


#: ``--lang`` of the commands that write the model report and card (ru by default).
LangOpt = Annotated[
    str, typer.Option("--lang", help="Language of the report and the model card: ru, kk or en.")
]


def check_lang(lang: str) -> str:
    """``--lang`` checked: ru, kk or en (else the command fails with the choices)."""
    from atauly.i18n import LANGUAGES

    if lang not in LANGUAGES:
        fail(f"--lang must be one of {', '.join(LANGUAGES)} (got {lang!r})")
    return lang


def get_settings():
    """The project's settings (:func:`atauly.settings.get_settings`), imported on first use: pydantic-settings
    costs a noticeable part of a second at start, and most commands' ``--help`` never needs it."""
    from atauly.settings import get_settings as settings

    return settings()
