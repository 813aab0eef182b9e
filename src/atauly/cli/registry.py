"""``atauly registry``: check registries against the data contract; write the sample registry."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from atauly.registry.io import read_raw
from atauly.registry.validate import validate

from .common import console, err_console, fail, write_rejects

app = typer.Typer(help="Registries: the data contract (families, persons, incomes).", no_args_is_help=True)

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "registry" / "sample"


@app.command("validate")
def validate_cmd(
    registry: Annotated[Path, typer.Option("--registry", help="Registry directory.")],
    view: Annotated[str | None, typer.Option("--view", help="truth or recorded sub-directory.")] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Write every problem to this CSV.")
    ] = None,
) -> None:
    """Check a registry and report every problem (row, column, value, rule). Exit 1 when invalid."""
    try:
        fam, per, inc = read_raw(registry, view or "recorded")
    except FileNotFoundError as exc:
        fail(str(exc))
    _, _, _, report = validate(fam, per, inc)
    if rejects is not None:
        write_rejects(report, rejects)
    if report.ok:
        console.print(
            f"[green]Valid:[/] {len(fam):,} families, {len(per):,} persons, {len(inc):,} income rows"
        )
        return
    err_console.print(report.summary(limit=50))
    raise typer.Exit(1)


@app.command("sample")
def sample_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the sample registry to.")],
) -> None:
    """Write the hand-written sample registry (20 fictitious families covering the law's cases) as CSV."""
    if not SAMPLE_DIR.is_dir():
        fail(f"sample registry missing from the package: {SAMPLE_DIR}")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("families", "persons", "incomes"):
        shutil.copyfile(SAMPLE_DIR / f"{name}.csv", out / f"{name}.csv")
    console.print(f"Wrote the sample registry to {out}")
