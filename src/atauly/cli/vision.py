"""``atauly vision``: check photos and videos, and score the checks against inspectors' checklists."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from .common import console, get_settings

app = typer.Typer(
    help="Stage 2: photo and video evidence (quality, authenticity, privacy, inventory).",
    no_args_is_help=True,
)


@app.command("check")
def check_cmd(
    photos: Annotated[
        Path, typer.Option("--photos", help="Folder of photos and videos (checked by content, not by name).")
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV written: one row per image or video keyframe.")],
    index: Annotated[
        Path | None,
        typer.Option(
            "--index", help="Reuse index folder (created when missing); every photo is registered in it."
        ),
    ] = None,
    application: Annotated[
        str,
        typer.Option("--application", help="Application the photos belong to (default: the folder's name)."),
    ] = "",
    window_from: Annotated[
        str | None, typer.Option("--from", help="Application window start, YYYY-MM-DD (EXIF time check).")
    ] = None,
    window_to: Annotated[str | None, typer.Option("--to", help="Application window end, YYYY-MM-DD.")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Declared region, 9-digit KATO code (GPS check).")
    ] = None,
    derivatives: Annotated[
        Path | None,
        typer.Option(
            "--derivatives", help="Write the redacted, re-encoded JPEGs (faces blurred) to this folder."
        ),
    ] = None,
    store: Annotated[
        bool,
        typer.Option(
            "--store/--no-store",
            help="Keep the originals encrypted (and the redacted copies) in ATAULY_HOME/vision/store.",
        ),
    ] = False,
    max_files: Annotated[
        int, typer.Option("--max-files", help="Files checked at most; the rest get a row saying so.")
    ] = 10_000,
    inventory: Annotated[
        bool, typer.Option("--inventory/--no-inventory", help="Run the ImageNet inventory model.")
    ] = True,
    lang: Annotated[str, typer.Option("--lang", help="Language of the flags: ru, kk or en.")] = "",
) -> None:
    """Check every image and video in a folder: type, size, faces blurred, quality, EXIF window and region, reuse, inventory."""
    from rich.progress import Progress

    from atauly.vision import models_dir
    from atauly.vision.check import Context, check_folder

    start, end = _check_options(photos, region, window_from, window_to)
    ctx = Context(
        group=application or photos.resolve().name,
        window_start=start,
        window_end=end,
        region=region,
        lang=lang or get_settings().lang,
        derivatives=derivatives,
    )
    if store:
        from atauly.vision.store import PhotoStore

        ctx.store = PhotoStore.open(actor="cli")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Checking", total=None)
        rows = check_folder(
            photos,
            out,
            models_dir(),
            index_dir=index,
            ctx=ctx,
            max_files=max_files,
            inventory=inventory,
            progress=lambda i, n: progress.update(task, completed=i, total=n),
        )
    console.print(_summary(rows))
    console.print(f"Written {out}")


def _check_options(photos: Path, region: str | None, window_from: str | None, window_to: str | None):
    """The window's dates, or exit 2 with the option named."""
    from atauly.vision.check import parse_date

    if not photos.is_dir():
        console.print(f"[red]--photos {photos}: not a folder")
        raise typer.Exit(2)
    if region is not None and (len(region) != 9 or not region.isdigit()):
        console.print(f"[red]--region {region!r}: a 9-digit KATO code is expected")
        raise typer.Exit(2)
    try:
        return parse_date(window_from), parse_date(window_to)
    except ValueError as exc:
        console.print(f"[red]--from/--to: {exc} (YYYY-MM-DD expected)")
        raise typer.Exit(2) from None


def _summary(rows: list[dict]) -> str:
    counts = Counter()
    for r in rows:
        counts["rows"] += 1
        counts["rejected"] += r["status"] == "rejected"
        for c in ("blurred", "dark", "screen_photo"):
            counts[c] += r[c] is True
        counts["with faces"] += bool(r["faces"])
        counts["reused"] += bool(r["duplicate_of"])
        counts["with inventory"] += bool(r["inventory"])
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


@app.command("evaluate")
def evaluate_cmd(
    labels: Annotated[
        Path,
        typer.Option(
            "--labels", help="Inspectors' checklist CSV: file and the true values (see docs/vision.md)."
        ),
    ],
    checks: Annotated[
        Path | None,
        typer.Option("--checks", help="CSV written by `vision check`; default: run the check on --photos."),
    ] = None,
    photos: Annotated[
        Path | None, typer.Option("--photos", help="Folder of the photos, when --checks is not given.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the scores as CSV too.")] = None,
) -> None:
    """Score the inventory and the flags against inspectors' checklists (precision, recall, Wilson intervals)."""
    from atauly.vision.evaluate import evaluate, read_labels

    if checks is None:
        if photos is None:
            console.print("[red]give --checks FILE.csv or --photos DIR")
            raise typer.Exit(2)
        from atauly.vision import models_dir
        from atauly.vision.check import check_folder

        checks = (out or labels).with_suffix(".checks.csv")
        check_folder(photos, checks, models_dir())
    try:
        lab = read_labels(labels)
    except ValueError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    import pandas as pd

    table = evaluate(pd.read_csv(checks, dtype=str, keep_default_na=False), lab)
    from .common import rich_table

    console.print(rich_table(table, title="Photo checks against inspectors' checklists"))
    if out is not None:
        table.to_csv(out, index=False)
        console.print(f"Written {out}")


@app.command("purge")
def purge_cmd(
    today: Annotated[
        str | None,
        typer.Option(
            "--today", help="Delete what is past its retention date on this day, YYYY-MM-DD (default: today)."
        ),
    ] = None,
) -> None:
    """Delete the photo originals (and their redacted copies) whose retention period has ended: the date is
    set when the application's final decision is recorded (settings: photo_retention_days). Each deletion is
    written to ATAULY_HOME/vision/audit.log; the photo records stay, without their images."""
    from atauly.vision.check import parse_date
    from atauly.vision.store import PhotoStore

    try:
        day = parse_date(today)
    except ValueError:
        console.print("[red]--today: YYYY-MM-DD expected")
        raise typer.Exit(2) from None
    gone = PhotoStore.open(actor="purge").purge(day)
    console.print(f"Purged {len(gone)} photo original(s) past their retention date")
