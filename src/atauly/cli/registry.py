"""``atauly registry``: check registries against the data contract; write the sample registry."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from .common import console, err_console, fail, fatal_text, write_rejects

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
    from atauly.registry.io import read_raw
    from atauly.registry.validate import validate

    try:
        fam, per, inc = read_raw(registry, view or "recorded")
    except FileNotFoundError as exc:
        fail(str(exc))
    _, _, _, report = validate(fam, per, inc)
    if report.fatal:
        fail(
            f"{registry}: "
            + "; ".join(fatal_text(p) for p in report.fatal_problems())
            + ". Nothing was written: fix the file and run again.",
            code=1,
        )
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


@app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Option("--out", help="New (empty) directory for the registry.")],
    scale: Annotated[
        float, typer.Option("--scale", help="1.0 = the whole country (≈20.3M persons in ≈6.2M families).")
    ] = 0.01,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same data.")] = 1,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="KATO code of a region to generate (repeatable; default all 20)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Parallel processes (default: CPU count, ≤4).")
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history/--no-history", help="Also generate 8 quarters of applications and decisions."
        ),
    ] = True,
    quarter: Annotated[
        str,
        typer.Option(
            "--quarter",
            help="The current quarter (its truth; the history is the 8 quarters up to it). A later quarter "
            "with a fresh --seed gives a future quarter to evaluate a model on.",
        ),
    ] = "2025Q3",
    informal_share: Annotated[
        float | None,
        typer.Option(
            "--informal-share",
            help="Informal jobs as a share of all jobs (default 0.128, BNS 2023; 0.33 for the "
            "high-informality sensitivity, ILO-based estimates).",
            min=0.0,
            max=0.6,
        ),
    ] = None,
) -> None:
    """Generate a synthetic registry: truth/, recorded/, applications/, decisions/, verification/ (Parquet,
    by region)."""
    from atauly.law.compute import compute
    from atauly.registry.codes import REGION_BY_KATO
    from atauly.registry.synthetic import generate_registry, summary_totals

    from .common import progress_bar

    try:
        with progress_bar() as progress:
            # Counted in regions (the exact number of persons is known only once a region is drawn).
            task = progress.add_task("Generating regions", total=len(region or REGION_BY_KATO))
            persons = [0]

            def advance(kato: str, n: int) -> None:
                persons[0] += n
                progress.update(task, description=f"Generating regions ({persons[0]:,} persons so far)")
                progress.advance(task, 1)

            summary = generate_registry(
                out,
                scale=scale,
                seed=seed,
                regions=region,
                quarter=quarter,
                informal_share=informal_share,
                workers=workers,
                law=compute if history else None,
                progress=advance,
            )
    except (ValueError, FileExistsError) as exc:
        fail(str(exc))
    n = summary_totals(summary)
    console.print(
        f"Wrote {n['families']:,} families, {n['persons']:,} persons and {n['applications']:,} applications to {out}"
    )


@app.command("calibrate")
def calibrate_cmd(
    registry: Annotated[Path, typer.Option("--registry", help="A generated registry directory.")],
    out: Annotated[
        Path, typer.Option("--out", help="Report directory (calibration.json, calibration.html).")
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Processes tallying regions (default: CPU count, ≤2; the figures are the same).",
            min=1,
        ),
    ] = None,
) -> None:
    """Compare a generated registry with the published figures; exit 1 when a headline target is off."""
    import pandas as pd

    from atauly.law.compute import compute
    from atauly.registry.synthetic.calibrate import calibrate

    from .common import rich_table

    if not (registry / "manifest.json").exists():
        fail(f"{registry} is not a generated registry (no manifest.json)")
    with err_console.status("Calibrating (the law on the truth and on the recorded view)…"):
        result = calibrate(registry, out, compute, workers=workers)
    from atauly.i18n import Translator
    from atauly.registry.synthetic.calibration_report import GAPS, SCOPES, figure_label, figure_value
    from atauly.settings import get_settings

    t = Translator(get_settings().lang)
    table = pd.DataFrame(result["targets"])
    shown = pd.DataFrame(
        {
            t("scope"): [t(SCOPES.get(s, s)) for s in table["scope"]],
            t("figure"): [figure_label(n, t) for n in table["name"]],
            t("generated"): [figure_value(v, t) for v in table["generated"]],
            t("published"): [figure_value(v, t) for v in table["target"]],
            t("deviation"): ["—" if v != v else f"{t.number(v * 100, 1)}%" for v in table["deviation"]],
            t("tolerance"): [f"±{t.percent(v)}" for v in table["tolerance"]],
            t("headline"): [t("yes") if v else "" for v in table["headline"]],
            t("within tolerance"): [t("yes") if v else t("no") for v in table["ok"]],
        }
    )
    console.print(rich_table(shown, title=t("Deviation from the published figures")))
    gaps = pd.DataFrame(
        {
            t("figure"): [figure_label(k, t) for k in result["layer_gaps"]],
            t("value"): [figure_value(v, t) for v in result["layer_gaps"].values()],
        }
    )
    console.print(rich_table(gaps, title=t(GAPS)))
    console.print(t("Report: {path}", path=out / "calibration.html"))
    if not result["headline_ok"]:
        err_console.print("[bold red]Some headline targets are out of tolerance.[/]")
        raise typer.Exit(1)
