"""``atauly screen``: the proactive national scan for families entitled to ASP who have not applied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from atauly.settings import get_settings

from .common import console, err_console, fail, progress_bar


def screen_cmd(
    registry: Annotated[
        Path, typer.Option("--registry", help="Registry with a recorded/ view (and decisions/).")
    ],
    quarter: Annotated[str, typer.Option("--quarter", help="Quarter to scan, e.g. 2025Q3.")],
    out: Annotated[
        Path, typer.Option("--out", help="Scan directory: candidates/ and summary/, partitioned.")
    ],
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Dask workers on this machine (default: cores; 1 = in process)."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="An existing Dask scheduler, tcp://HOST:PORT.")
    ] = None,
    model: Annotated[
        str,
        typer.Option("--model", help="Model NAME or NAME@vN (train one with --view recorded for the scan)."),
    ] = "asp-scan",
) -> None:
    """Scan every family of the recorded view: the law, the model, the well-being level and the ASP status;
    candidates ranked by need within each district. A killed scan resumes where it stopped."""
    from atauly.model import ModelStoreError
    from atauly.registry import RegistryNotFoundError
    from atauly.screening import ScanError, partitions, scan

    settings = get_settings()
    workers = workers or settings.workers
    if workers < 1:
        fail("--workers must be at least 1")
    try:
        total = len(partitions(registry))
    except RegistryNotFoundError as exc:
        fail(str(exc))
    try:
        with progress_bar() as progress:
            task = progress.add_task("Scanning partitions", total=total)
            found = [0]

            def advance(result: dict) -> None:
                found[0] += result["candidates"]
                progress.update(task, description=f"Scanning partitions ({found[0]:,} candidates)")
                progress.advance(task, 1)

            manifest = scan(registry, quarter, out, settings.models_dir, model, workers, scheduler, advance)
            progress.update(task, completed=total)
    except (ScanError, ModelStoreError, ValueError) as exc:
        fail(str(exc))
    if manifest["resumed_from"]:
        err_console.print(f"Resumed: {manifest['resumed_from']} partition(s) were already done")
    console.print(f"Scan of {manifest['quarter']} with {manifest['model']} written to {out}")
