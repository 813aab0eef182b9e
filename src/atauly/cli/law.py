"""``atauly law``: apply the ASP law to a registry, explain one family, compare reforms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, err_console, fail, get_settings, load, progress_bar, rich_table, write_table

app = typer.Typer(help="The ASP law as code (OpenFisca): compute, explain, reform.", no_args_is_help=True)

RegistryOpt = Annotated[
    Path, typer.Option("--registry", help="Registry directory (families, persons, incomes).")
]
QuarterOpt = Annotated[str, typer.Option("--quarter", help="Application quarter, e.g. 2025Q3.")]
ViewOpt = Annotated[
    str | None,
    typer.Option(
        "--view",
        help="Registry view sub-directory: truth or recorded (default: recorded when present, "
        "else the directory itself).",
    ),
]

RejectsOpt = Annotated[
    Path | None,
    typer.Option("--rejects", help="Where to write data problems (default: next to --out, *.rejects.csv)."),
]
AllowMissingIncomesOpt = Annotated[
    bool,
    typer.Option(
        "--allow-missing-incomes",
        help="Compute even when the registry holds no income row for the quarter the law counts "
        "(every income then counts as 0).",
    ),
]


def _quarter(text: str):
    from atauly.registry.quarter import Quarter, QuarterError

    try:
        return Quarter.parse(text)
    except QuarterError as exc:
        fail(f"--quarter: {exc} (a quarter looks like 2025Q3)")


def _view(view: str | None, registry: Path) -> str | None:
    if view is not None and view not in ("truth", "recorded"):
        fail(f"--view must be truth or recorded, got {view!r}")
    if view is not None and not (registry / view).is_dir():
        fail(f"view '{view}' not found: {registry / view} does not exist")
    return view or "recorded"


@app.command("compute")
def compute_cmd(
    registry: RegistryOpt,
    quarter: QuarterOpt,
    out: Annotated[Path, typer.Option("--out", help="Result file, one row per family (.parquet or .csv).")],
    view: ViewOpt = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Leave out families with data problems (listed in the rejects file) instead of stopping.",
        ),
    ] = False,
    rejects: RejectsOpt = None,
    allow_missing_incomes: AllowMissingIncomesOpt = False,
) -> None:
    """Apply the law to every family: eligibility, type, amount, child supplement, refusal reason."""
    from atauly.law.compute import by_region, compute

    q = _quarter(quarter)
    view = _view(view, registry)
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        fail(f"--out must end in .parquet or .csv, got {out.name}")
    label = f", {view} view" if (registry / view).is_dir() else ""
    reg = _load_checked(
        registry, view, q, skip_invalid, rejects or _rejects_next_to(out), allow_missing_incomes
    )
    with progress_bar() as progress:
        task = progress.add_task(f"Applying the law for {q}", total=len(reg.families))
        result = compute(reg, q, progress=lambda n: progress.advance(task, n))
    write_table(result, out)
    console.print(
        rich_table(
            by_region(result),
            title=f"ASP {q}{label}: families entitled and monthly budget (₸)",
            money=("monthly_budget",),
        )
    )
    err_console.print(f"Wrote {len(result):,} rows to {out}")


def _rejects_next_to(out: Path) -> Path:
    return out.with_name(out.stem + ".rejects.csv")


def _load_checked(registry: Path, view: str, q, skip_invalid: bool, rejects: Path, allow_missing: bool):
    """The registry, validated, after the check of the incomes the law counts: none at all stops (unless
    allowed); families without any, or informal earnings in a recorded view, are warned about."""
    from atauly.law.compute import MissingIncomeError, check_income_coverage

    reg = load(registry, view, skip_invalid, rejects)
    recorded = view == "recorded" and (registry / view).is_dir()
    try:
        warnings = check_income_coverage(reg, q, recorded=recorded, allow_missing=allow_missing)
    except MissingIncomeError as exc:
        fail(f"{exc} (--allow-missing-incomes computes anyway.) Nothing was written.", code=1)
    for warning in warnings:
        err_console.print(f"[bold yellow]Warning:[/] {warning}")
    return reg


@app.command("explain")
def explain_cmd(
    registry: RegistryOpt,
    family: Annotated[str, typer.Option("--family", help="family_id to explain.")],
    quarter: QuarterOpt,
    lang: Annotated[str, typer.Option("--lang", help="Language: ru, kk or en.")] = "",
    view: ViewOpt = None,
    openfisca_trace: Annotated[
        bool,
        typer.Option(
            "--openfisca-trace",
            help="Also print OpenFisca's full computation log (every variable and value).",
        ),
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Explain even if other families of the registry have data problems."
        ),
    ] = False,
) -> None:
    """Explain the result for one family, step by step, with the parameters and articles used."""
    from atauly.i18n import LANGUAGES
    from atauly.law.explain import explain
    from atauly.law.explain import openfisca_trace as of_trace
    from atauly.registry.quarter import plain_periods

    lang = lang or get_settings().lang
    if lang not in LANGUAGES:
        fail(f"--lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    q = _quarter(quarter)
    reg = load(registry, _view(view, registry), skip_invalid)
    try:
        ex = explain(reg, family, q, lang)
    except KeyError as exc:
        fail(str(exc.args[0]) + (" (or it was left out for data problems)" if skip_invalid else ""))
    # periods as people write them in the language (IV квартал 2026 г., 2026 ж. шілде), not 2026Q4 / 2026-07;
    # OpenFisca's own log keeps its period codes
    console.print(plain_periods(ex.text(), lang), highlight=False, markup=False)
    if openfisca_trace:
        console.print("\n".join(of_trace(reg, family, q)), highlight=False, markup=False)


@app.command("reform")
def reform_cmd(
    registry: RegistryOpt,
    quarter: QuarterOpt,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="YAML file of parameter overrides (see docs/law.md#reforms).")
    ] = None,
    poverty_line_share: Annotated[
        float | None,
        typer.Option(
            "--poverty-line-share",
            help="Shortcut: the subsistence-minimum share of the poverty line (baseline 0.7). Since 2025 the "
            "line is the larger of this and 35% of median income, so a share that lowers it below the "
            "median term changes nothing.",
        ),
    ] = None,
    view: ViewOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="CSV of the comparison by region (default: $ATAULY_HOME/results/reform-QUARTER.csv).",
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Leave out families with data problems (see --rejects).")
    ] = False,
    rejects: RejectsOpt = None,
    allow_missing_incomes: AllowMissingIncomesOpt = False,
) -> None:
    """Compare recipients and monthly budget by region: baseline vs a parametric reform."""
    from atauly.law.reforms import MONEY_COLUMNS, SUMMARY_COLUMNS, ReformError, compare, reform_from

    q = _quarter(quarter)
    if set_file is None and poverty_line_share is None:
        fail("give --set FILE.yaml or --poverty-line-share X")
    try:
        name, overrides = reform_from(set_file, poverty_line_share)
    except ReformError as exc:
        fail(str(exc))
    out = out or get_settings().results_dir / f"reform-{q}.csv"
    view = _view(view, registry)
    reg = _load_checked(
        registry, view, q, skip_invalid, rejects or _rejects_next_to(out), allow_missing_incomes
    )
    with err_console.status(f"Computing baseline and reform for {q}…"):
        table = compare(reg, str(q), overrides)
    write_table(table, out)
    title = f"{name}: {q}, baseline vs reform (families entitled, ₸ a month)"
    console.print(rich_table(table[SUMMARY_COLUMNS], title=title, money=MONEY_COLUMNS))
    err_console.print(f"Wrote {out}")
