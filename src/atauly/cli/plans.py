"""``atauly plans``: exit plans for families on conditional ASP — national/region/district and one family."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .common import console, err_console, exit_fast_when_done, fail, load, rich_table

app = typer.Typer(
    help="Stage 3: plans that bring families out of hardship (measures, district and region plans, documents).",
    no_args_is_help=True,
)

RegistryOpt = Annotated[
    Path, typer.Option("--registry", help="Registry directory (families, persons, incomes).")
]
QuarterOpt = Annotated[str, typer.Option("--quarter", help="Quarter of assistance, e.g. 2025Q3.")]
ViewOpt = Annotated[
    str | None,
    typer.Option("--view", help="Registry view: truth or recorded (default: recorded when present)."),
]
MeasuresOpt = Annotated[
    Path | None,
    typer.Option("--measures", help="Another measures file (YAML, same layout as the built-in one)."),
]
EffectsOpt = Annotated[
    Path | None,
    typer.Option(
        "--effects", help="Effects re-estimated from outcomes (effects.json from `atauly plans learn`)."
    ),
]


def _quarter(text: str):
    # the registry's Quarter (atauly.law.simulation re-exports it, but importing that loads OpenFisca)
    from atauly.registry.quarter import Quarter

    try:
        return Quarter.parse(text)
    except ValueError as exc:
        fail(str(exc))


def _view(view: str | None, registry: Path) -> str:
    if view is not None and view not in ("truth", "recorded"):
        fail(f"--view must be truth or recorded, got {view!r}")
    return view or "recorded"


def _catalog(q, measures: Path | None, effects: Path | None):
    from atauly.plans.catalog import CatalogError, plan_catalog

    try:
        eff = sub = None
        if effects is not None:
            from atauly.plans.learn import read_effects, read_subgroup_effects

            eff, sub = read_effects(effects), read_subgroup_effects(effects)
        catalog = plan_catalog(q, measures, eff)
        # each member's expected gain by their subgroups, where outcomes estimated them (else the mean)
        return catalog.with_subgroups(sub) if sub is not None else catalog
    except (CatalogError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))


def _quotas(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            fail(f"--quota must look like MEASURE=N (a whole number of starts), got {item!r}")
        out[key.strip()] = int(value)
    return out


@app.command("national")
def national_cmd(
    registry: RegistryOpt,
    quarter: QuarterOpt,
    out: Annotated[Path, typer.Option("--out", help="Output directory for the plan's tables.")],
    region: Annotated[str | None, typer.Option("--region", help="Plan one region only (KATO code).")] = None,
    budget_scale: Annotated[
        float, typer.Option("--budget-scale", help="Multiply every budget (what-if), e.g. 0.5 or 2.")
    ] = 1.0,
    places_scale: Annotated[
        float, typer.Option("--places-scale", help="Multiply every district's places (what-if).")
    ] = 1.0,
    view: ViewOpt = None,
    law: Annotated[
        Path | None,
        typer.Option("--law", help="Reuse an `atauly law compute` result for this registry and quarter."),
    ] = None,
    quota: Annotated[
        list[str] | None,
        typer.Option("--quota", help="Minimum starts of a measure in the scope, MEASURE=N (repeatable)."),
    ] = None,
    what_if: Annotated[
        str | None,
        typer.Option("--what-if", help="Also plan under these budget scales, e.g. 0.5,1,2 (whatif.parquet)."),
    ] = None,
    no_equity: Annotated[bool, typer.Option("--no-equity", help="Plan without the equity floor.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the lottery among near-equal candidates.")] = 0,
    measures: MeasuresOpt = None,
    effects: EffectsOpt = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Leave out families with data problems instead of stopping."),
    ] = False,
    recipients_only: Annotated[
        bool,
        typer.Option(
            "--recipients-only",
            help="Plan only for the quarter's current recipients (an approved decision in decisions/); "
            "places and budgets still scale on all families.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Without --law: processes that read, check and put the registry's region parts through the "
            "law (default: 2, at most the cores; 1 = all in this process).",
        ),
    ] = None,
) -> None:
    """Allocate measures to members of conditional-ASP families to maximise expected exits from poverty,
    within places per district, budgets per region and source, one measure per member and the equity rule.
    Writes assignments, capacity, districts, regions, budget, targets, lottery (.parquet), summary.json,
    and plan.xlsx / plan.pdf for the akimat."""
    from atauly.plans import PlanInfeasibleError
    from atauly.plans.national import plan_and_write

    if budget_scale < 0 or places_scale < 0:
        fail("--budget-scale and --places-scale must be ≥ 0")
    q = _quarter(quarter)
    catalog = _catalog(q, measures, effects)
    view = _view(view, registry)
    quotas = _quotas(quota or [])
    scales = _scales(what_if)
    families = _recipients(registry, q) if recipients_only else None
    subgroups = _subgroups(effects)
    try:
        with _sigterm_exits():  # the worker processes stopped, their files of persons and incomes removed
            reg, pop = _national_input(
                registry, view, law, q, catalog, region, skip_invalid, families, workers, out
            )
        with err_console.status("Planning…"):
            plan, whatif = plan_and_write(
                reg, q, out, catalog=catalog, pop=pop, what_if_scales=scales, region=region,
                budget_scale=budget_scale, places_scale=places_scale, quotas=quotas, equity=not no_equity,
                seed=seed, families=None if reg is None else families, recipients_only=recipients_only,
                subgroups=subgroups,
            )  # fmt: skip
    except PlanInfeasibleError as exc:
        err_console.print("[bold red]No plan can be made:[/]")
        for reason in exc.reasons:
            err_console.print(f"  • {reason}")
        err_console.print("Change the places (--places-scale, the measures file), the budgets or the quotas.")
        raise typer.Exit(1) from None
    except (KeyError, ValueError, FileNotFoundError) as exc:
        fail(str(exc.args[0] if exc.args else exc))
    _print_national(plan, whatif, q)
    err_console.print(f"Wrote the plan to {out}")


@contextmanager
def _sigterm_exits():
    """SIGTERM (``kill``, a service manager's stop) ends the command as an exception would, with status
    143: the ``finally`` blocks run, so worker processes are stopped and temporary files of personal data
    removed (the default action ends the process at once). A second SIGTERM is ignored while they run.
    Only in the main thread (where Python runs signal handlers); the previous handler is put back after."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:  # None: a handler not set from Python (the default here)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _scales(what_if: str | None) -> list[float] | None:
    if not what_if:
        return None
    try:
        return [float(s) for s in what_if.split(",") if s.strip()]
    except ValueError:
        fail(f"--what-if must be numbers separated by commas, got {what_if!r}")


def _subgroups(effects: Path | None):
    """Effects by subgroup from ``--effects`` (None without it or when it holds none)."""
    if effects is None:
        return None
    from atauly.plans.learn import read_subgroup_effects

    return read_subgroup_effects(effects)


def _recipients(registry: Path, q) -> set[str]:
    from atauly.plans.read import recipients

    try:
        found = recipients(registry, q)
    except (FileNotFoundError, ValueError) as exc:
        fail(f"--recipients-only: {exc}")
    if not found:
        fail(f"--recipients-only: no family has an approved decision for {q} in {registry}/decisions", code=1)
    return found


def _national_input(
    registry: Path,
    view: str,
    law: Path | None,
    q,
    catalog,
    region,
    skip_invalid: bool,
    families=None,
    workers=None,
    out=None,
):
    """(registry, None) read whole and checked, or (None, population) read from ``--law``'s conditional
    families only (Parquet filters; only ``families`` when given). The worker processes' files go under
    ``out`` (:mod:`atauly.plans.part_worker`)."""
    if law is None:
        from atauly.law.compute import MissingIncomeError, check_income_coverage

        parts = _by_parts(registry, view, q, catalog, region, families, workers, out)
        if parts is not None:
            return None, parts
        reg = load(registry, view, skip_invalid)
        try:
            warnings = check_income_coverage(reg, q, recorded=False)
        except MissingIncomeError as exc:
            fail(f"{exc} Nothing was written.", code=1)
        for warning in warnings:
            err_console.print(f"[bold yellow]Warning:[/] {warning}")
        return reg, None
    from atauly.plans.national import population_from_files
    from atauly.plans.read import read_law
    from atauly.registry import RegistryNotFoundError, RegistryValidationError

    law_df = read_law(law, conditional_only=True)  # a plan needs only the conditional families
    if len(law_df) and str(law_df["quarter"].iloc[0]) != str(q):
        fail(f"--law {law} was computed for {law_df['quarter'].iloc[0]}, not {q}")
    try:
        with err_console.status("Reading the conditional families…"):
            return None, population_from_files(registry, view, law_df, catalog, region, families)
    except RegistryNotFoundError as exc:
        fail(str(exc))
    except RegistryValidationError as exc:
        fail(f"{registry}: the registry is invalid: {exc.report.summary(limit=10)}", code=1)


def _by_parts(registry: Path, view: str, q, catalog, region, families, workers=None, out=None):
    """The population from a registry split in region parts, the law applied part by part (bounded memory;
    :mod:`atauly.plans.by_part`); None when the registry is not so split or a part has a problem: then it
    is read whole, and its validation reports the problems as before."""
    from atauly.law.compute import MissingIncomeError, coverage_warnings
    from atauly.plans.by_part import population_by_parts
    from atauly.plans.part_worker import PartWorkerError
    from atauly.registry import RegistryNotFoundError

    try:
        with err_console.status("Reading, checking and applying the law region by region…"):
            parts = population_by_parts(registry, view, q, catalog, region, families, workers, out)
    except RegistryNotFoundError:
        return None  # the whole read names what is missing
    except PartWorkerError as exc:
        fail(f"{exc} Nothing was written.", code=1)
    if parts is None:
        return None
    try:
        warnings = coverage_warnings(parts.coverage, recorded=False)
    except MissingIncomeError as exc:
        fail(f"{exc} Nothing was written.", code=1)
    for warning in warnings:
        err_console.print(f"[bold yellow]Warning:[/] {warning}")
    if parts.population is None:
        raise ValueError(f"no family of region {region} in the registry")
    return parts.population


def _print_national(plan, whatif, q) -> None:
    s = plan.summary
    for note in plan.notes:
        err_console.print(f"[bold yellow]Note:[/] {note}")
    by_measure = (
        plan.capacity.groupby("measure")[["places", "used"]].sum().reset_index()
        .merge(plan.assignments.groupby("measure")["cost_kzt"].sum().rename("budget_kzt").reset_index(), how="left")
        .fillna({"budget_kzt": 0.0})
    )  # fmt: skip
    console.print(rich_table(by_measure, title=f"Plan {q}: places and use by measure", money=("budget_kzt",)))
    if whatif is not None:
        console.print(
            rich_table(
                whatif,
                title="What if the budget were different",
                money=("budget_available_kzt", "budget_planned_kzt", "cost_per_exit_kzt"),
            )
        )
    console.print(
        f"Families in scope {s['families_in_scope']:,}; planned {s['families_planned']:,} families, "
        f"{s['persons_planned']:,} members; expected exits {s['expected_exits']:,.1f}; budget "
        f"{s['budget_planned_kzt']:,.0f} ₸ of {s['budget_available_kzt']:,.0f} ₸; cost per exit "
        f"{(s['cost_per_exit_kzt'] or 0):,.0f} ₸ ({s['method']}, {s['seconds_optimisation']:.1f} s)."
    )


@app.command("family")
def family_cmd(
    registry: RegistryOpt,
    quarter: QuarterOpt,
    family: Annotated[str, typer.Option("--family", help="family_id of the family.")],
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the documents: kk or ru (en for review).")
    ] = "ru",
    out: Annotated[Path, typer.Option("--out", help="Output directory for the documents.")] = Path("."),
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="A national plan's directory: use its places for this family."),
    ] = None,
    specialist: Annotated[
        str,
        typer.Option("--specialist", help="Name of the specialist who approves (printed on the documents)."),
    ] = "",
    view: ViewOpt = None,
    measures: MeasuresOpt = None,
    effects: EffectsOpt = None,
) -> None:
    """The family's individual assistance plan and social contract (PDF and editable DOCX), drafted by the
    system for a specialist to check and approve, with plan.json (the same plan as data)."""
    if lang not in ("kk", "ru", "en"):
        fail(f"--lang must be kk, ru or en, got {lang!r}")
    import gc

    from atauly.plans import pdfworker

    # No cyclic garbage collection while one family is drafted: it leaves almost no cyclic garbage (5
    # objects found at the end, peak RSS unchanged at ~0.26 GB), and the collector's ~200 passes over the
    # ~100,000 objects that pandas, pyarrow and OpenFisca create as they are imported cost ~0.09 s of CPU
    # in a fresh process (issue 19). Both processes below run without it.
    collecting = gc.isenabled()
    worker = None
    try:
        gc.disable()
        # First, before pandas: a second process imports fpdf2 and parses the fonts while this one drafts
        # the plan, then writes the PDFs (issue 19: a fresh process is bound by its imports, on one core).
        worker = pdfworker.start()
        with _sigterm_exits():  # the temporary files of the documents removed
            fp, paths = _draft_family(
                registry, quarter, family, lang, out, plan, specialist, view, measures, effects, worker
            )
    finally:
        if worker is not None:
            worker.close()
        if collecting:
            gc.enable()
    _print_family(fp, paths)
    exit_fast_when_done()  # every file is written and closed, the PDFs' processes waited for


def _draft_family(registry, quarter, family, lang, out, plan, specialist, view, measures, effects, worker):
    import pandas as pd

    from atauly.plans.documents import draft_for_family
    from atauly.plans.family import FamilyNotPlannable
    from atauly.plans.pdfworker import PdfWorkerError
    from atauly.registry import RegistryNotFoundError, RegistryValidationError

    q = _quarter(quarter)
    catalog = _catalog(q, measures, effects)
    view = _view(view, registry)
    assignments = None
    if plan is not None:
        path = plan / "assignments.parquet"
        if not path.exists():
            fail(f"--plan {plan}: no assignments.parquet there (run `atauly plans national` first)")
        assignments = pd.read_parquet(path)
    try:
        return draft_for_family(
            registry, view, q, family, catalog, lang, out, assignments, specialist, worker=worker
        )
    except RegistryNotFoundError as exc:
        fail(str(exc))
    except RegistryValidationError as exc:
        fail(f"family {family}: its data are invalid: {exc.report.summary(limit=10)}", code=1)
    except FamilyNotPlannable as exc:
        fail(str(exc), code=1)
    except PdfWorkerError as exc:
        fail(f"family {family}: {exc}", code=1)


def _print_family(fp, paths) -> None:
    import pandas as pd

    rows = [
        {
            "role": m.role,
            "age": m.age,
            "measure": m.recommended.measure if m.recommended else "—",
            "expected_gain": m.recommended.expected_gain_kzt if m.recommended else 0.0,
            "options": len(m.options),
        }
        for m in fp.members
    ]
    console.print(
        rich_table(
            pd.DataFrame(rows), title=f"Family {fp.family_id}: plan ({fp.source})", money=("expected_gain",)
        )
    )
    console.print(
        f"Per-capita income {fp.per_capita_income:,.2f} ₸ → expected {fp.expected_per_capita_after:,.2f} ₸ "
        f"(poverty line {fp.poverty_line:,.0f} ₸); probability of exit {fp.exit_probability:.0%}."
    )
    for p in paths:
        err_console.print(f"Wrote {p}")


@app.command("measures")
def measures_cmd(
    quarter: QuarterOpt = "2025Q3",
    measures: MeasuresOpt = None,
) -> None:
    """The catalogue of measures in force in a quarter: amounts, places, effects and their sources."""
    import pandas as pd

    q = _quarter(quarter)
    cat = _catalog(q, measures, None)
    rows = [
        {
            "measure": m.key,
            "source": m.funding_source,
            "mrp_month": m.amount_mrp_month,
            "months": m.months,
            "once_mrp": m.once_mrp + m.per_member_mrp,
            "places_per_10k": m.places_per_10k,
            "effect_mrp": f"{m.effect_mean_mrp:g} ± {m.effect_sd_mrp:g}",
            "status": m.status,
        }
        for m in cat.measures
    ]
    console.print(
        rich_table(pd.DataFrame(rows), title=f"Measures in force on {cat.date} (MRP {cat.mrp:,.0f} ₸)")
    )


@app.command("learn")
def learn_cmd(
    outcomes: Annotated[
        Path, typer.Option("--outcomes", help="Outcomes table (.parquet or .csv), one row per step.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write effects.json.")],
    quarter: QuarterOpt = "2025Q3",
    lottery: Annotated[
        Path | None,
        typer.Option("--lottery", help="The plan's lottery.parquet: compare winners and losers only."),
    ] = None,
    measures: MeasuresOpt = None,
) -> None:
    """Re-estimate the measures' effects from recorded outcomes (prior + data), for --effects next time."""
    import pandas as pd

    from atauly.plans.learn import estimate_effects, estimate_subgroup_effects, read_outcomes, write_effects

    q = _quarter(quarter)
    cat = _catalog(q, measures, None)
    try:
        data = read_outcomes(outcomes)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    lot = pd.read_parquet(lottery) if lottery is not None else None
    table = estimate_effects(data, cat, lot)
    subgroups = estimate_subgroup_effects(data, cat, lot)
    write_effects(table, out, subgroups if len(subgroups) else None)
    console.print(rich_table(table.round(2), title="Effects re-estimated (MRP a month)"))
    if len(subgroups):
        console.print(rich_table(subgroups.round(2), title="Effects by subgroup (MRP a month, 95% interval)"))
    err_console.print(f"Wrote {out}")


@app.command("publish")
def publish_cmd(
    plan: Annotated[
        Path, typer.Option("--plan", help="A national plan's directory (atauly plans national --out).")
    ],
) -> None:
    """Load a national plan's district table into the casework service (district and region plan pages)."""
    from atauly.service.db import make_engine, migrate, session_factory
    from atauly.service.plans import publish_district_plans
    from atauly.settings import get_settings

    if not (plan / "districts.parquet").exists() or not (plan / "summary.json").exists():
        fail(
            f"--plan {plan}: no districts.parquet and summary.json there (run `atauly plans national` first)"
        )
    engine = make_engine(get_settings().database)
    migrate(engine)
    with session_factory(engine)() as db:
        quarter, n = publish_district_plans(db, plan)
    engine.dispose()
    console.print(f"Published the plan of {quarter}: {n:,} districts.")
