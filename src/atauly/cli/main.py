"""Entry point of the ``atauly`` command."""

from __future__ import annotations

import importlib
import threading
from contextlib import contextmanager
from typing import Annotated

import typer
from typer.core import TyperGroup
from typer.models import TyperInfo

from atauly import __version__
from atauly.i18n import N_

from . import service
from .common import EXIT_FAST, console, err_console, get_settings

#: The command groups: name → (module of ``atauly.cli``, its Typer). Each is imported, and turned into
#: click's commands, only when it is run or a help lists it: ``atauly plans family`` pays for the plans'
#: options, not for the model's, the law's or the scan's (issue 19: ~50 ms of every fresh process).
GROUPS = {
    "law": ("law", "app"),
    "registry": ("registry", "app"),
    "model": ("model", "app"),
    "screen": ("screen", "app"),
    "vision": ("vision", "app"),
    "plans": ("plans", "app"),
    "users": ("service", "users_app"),
    "audit": ("service", "audit_app"),
}


class LazyGroups(TyperGroup):
    """The top-level group: the groups of :data:`GROUPS` are loaded when asked for, listed in that order
    after the commands defined here (as typer lists them)."""

    def list_commands(self, ctx) -> list[str]:
        return [*(name for name in super().list_commands(ctx) if name not in GROUPS), *GROUPS]

    def get_command(self, ctx, cmd_name: str):
        if cmd_name in GROUPS and cmd_name not in self.commands:
            module, attr = GROUPS[cmd_name]
            sub = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
            # as ``app.add_typer(sub, name=cmd_name)`` would build it (no completion options of its own)
            group = typer.main.get_group_from_info(
                TyperInfo(sub, name=cmd_name),
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
                suggest_commands=app.suggest_commands,
            )
            self.add_command(group, cmd_name)
        return super().get_command(ctx, cmd_name)


class Atauly(typer.Typer):
    """The ``atauly`` application. Called as the command runs it (the console script, ``python -m
    atauly.cli.main``), a successful command that asked for it (:func:`.common.exit_fast_when_done`) ends the
    process once the exit handlers have run and the output is flushed, skipping the interpreter's teardown;
    not while other threads run (a normal exit would wait for them)."""

    def __call__(self, *args, **kwargs):
        EXIT_FAST.clear()
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as exc:
            if EXIT_FAST and exc.code in (0, None) and threading.active_count() == 1:
                _end_now()
            raise


def _end_now() -> None:
    import atexit
    import os
    import sys

    atexit._run_exitfuncs()  # what a normal exit runs first (logging's handlers, temporary files…)
    code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            code = 120  # as a normal exit says an output it could not flush (a closed pipe, a full disk)
        except ValueError:  # closed: a normal exit skips it too
            pass
    os._exit(code)


app = Atauly(
    help="Atauly: targeted social assistance (ASP) for Kazakhstan — the law as code and its tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print data (IINs, incomes) in a traceback
    cls=LazyGroups,
)
app.command("serve")(service.serve)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


#: The demo's output fits this many columns (issue 20: a first run reads in an ordinary terminal).
DEMO_WIDTH = 100


@app.command()
def demo(
    quarter: Annotated[str, typer.Option("--quarter", help="Quarter to compute.")] = "2025Q3",
    family: Annotated[str, typer.Option("--family", help="Family whose trace is printed.")] = "F01",
    lang: Annotated[str, typer.Option("--lang", help="Language of the output: ru, kk or en.")] = "",
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the casework pilot at the end (Ctrl+C stops it)."),
    ] = True,
    port: Annotated[int, typer.Option("--port", help="Port of the casework pilot.")] = 8000,
) -> None:
    """The whole pipeline on local files and SQLite (in $ATAULY_HOME): the law on the sample registry, a
    generated region, the recommender, the proactive scan, then the casework pilot with users and a queue.

    The output is in one language (``--lang``, else the locale setting ATAULY_LANG, Russian by default),
    fits 100 columns, and ends with where to click. The steps' own detailed output is not repeated: each
    step is summed up in a few lines (the commands named give the details)."""
    from atauly.i18n import Translator, check_language

    settings = get_settings()
    t = Translator(check_language(lang or settings.lang))
    width = console.width
    console.width = min(width, DEMO_WIDTH)
    try:
        _demo(settings, t, quarter, family, serve, port)
    finally:
        console.width = width


@contextmanager
def _quiet():
    """A step's own output (tables, progress bars, warnings in English) kept off the demo's screen."""
    with console.capture(), err_console.capture():
        yield


def _demo(settings, t, quarter: str, family: str, serve: bool, port: int) -> None:
    import pandas as pd

    from atauly.registry.quarter import Quarter

    from . import law, registry

    sample = settings.sample_registry_dir
    out = settings.results_dir / f"asp-{quarter}.parquet"
    period = Quarter.parse(quarter).label(t.lang)
    console.rule("[bold]" + t("1. The ASP law on the sample registry"))
    with _quiet():
        registry.sample_cmd(out=sample)
        law.compute_cmd(
            registry=sample, quarter=quarter, out=out, view=None, skip_invalid=False, rejects=None
        )
    result = pd.read_parquet(out)
    console.print(_law_table(result, t, period))
    entitled = int(result["eligible"].sum())
    console.print(
        t("Entitled: {n} of {total} families. Details: atauly law compute.", n=entitled, total=len(result))
    )
    synthetic = settings.home / "registry" / "synthetic-shymkent"
    _demo_synthetic(settings, quarter, t)
    console.rule("[bold]" + t("5. How the law decided for family {family}", family=family))
    _demo_trace(sample, family, quarter, t)
    _demo_service(settings, synthetic, serve, port, t)


def _demo_trace(sample, family: str, quarter: str, t) -> None:
    """The law's step-by-step explanation and its legal basis; the sources (parameter names and research
    notes, in English) are left to ``atauly law explain``."""
    from atauly.law.explain import explain
    from atauly.law.explain.messages import LEGAL_HEADING
    from atauly.registry.quarter import plain_periods

    from . import law

    with _quiet():
        reg = law.load(sample, None, False)
    ex = explain(reg, family, law._quarter(quarter), t.lang)
    lines = list(ex.lines)
    if ex.legal:
        lines += ["", t(LEGAL_HEADING), *(f"  • {note}" for note in dict.fromkeys(ex.legal))]
    # periods in words of the demo's language (III квартал 2025 г., апрель–июнь 2025 г.), not codes
    console.print(plain_periods("\n".join(lines), t.lang), highlight=False, markup=False)
    console.print(t("Sources of each figure: atauly law explain --family {family}.", family=family))


def _law_table(result, t, period: str):
    """The sample families' result in a table that fits the demo's width, in ``t``'s language."""
    from rich.table import Table

    table = Table(title=t("Families of the sample registry, {period}", period=period), expand=False)
    for heading in (t("Family"), t("Members"), t("Income per person"), t("Poverty line"), t("Entitled")):
        table.add_column(heading, justify="left" if heading == t("Family") else "right")
    table.add_column(t("ASP a month"), justify="right")
    for row in result.itertuples(index=False):
        table.add_row(
            str(row.family_id),
            t.number(int(row.members)),
            t.money(float(row.per_capita_income)),
            t.money(float(row.poverty_line)),
            t("yes") if bool(row.eligible) else t("no"),
            t.money(float(row.asp_monthly_amount) + float(row.child_supplement_monthly or 0))
            if bool(row.eligible)
            else "—",
        )
    return table


def _demo_service(settings, synthetic, serve: bool, port: int, t) -> None:
    """Stage 1 as a pilot: the casework service with demo users and a district queue, then served."""
    from rich.table import Table

    from atauly.registry.labels import label
    from atauly.service.app import load_recommender
    from atauly.service.db import make_engine, migrate, session_factory
    from atauly.service.demo import credentials, seed_queue, seed_users
    from atauly.service.engine import RecommendationEngine

    console.rule("[bold]" + t("6. The casework pilot: users, a queue of applications, the web pages"))
    engine = make_engine(settings.database)
    migrate(engine)
    passwords = credentials(settings.home / "demo-credentials.txt")
    with session_factory(engine)() as db:
        users = seed_users(db, passwords)
        recommender = RecommendationEngine(load_recommender(settings))
        made, decided = seed_queue(db, recommender, synthetic)
    engine.dispose()
    console.print(
        t(
            "Applications submitted now: {made}, decided now: {decided} (a rerun adds none).",
            made=made,
            decided=decided,
        )
    )
    table = Table(
        title=t("Demo users (passwords kept in {path})", path=settings.home / "demo-credentials.txt")
    )
    for heading in (t("User"), t("User role"), t("Password")):
        table.add_column(heading)
    for u in users:
        row = u.__dict__
        table.add_row(
            str(row.get("username")),
            label("user_role", str(row.get("role")), t.lang),
            str(row.get("password")),
        )
    console.print(table)
    base = f"http://127.0.0.1:{port}"
    login, queue, stats, board, card, api = (
        base + path for path in ("/login", "/queue", "/statistics", "/dashboard", "/model", "/openapi.json")
    )
    console.rule("[bold]" + t("Where to click"))
    for line in (
        t("Open {url} and sign in with a user and password from the table above.", url=login),
        t(
            "officer: the queue ({url}) → an application → the decision → the notice for the family.",
            url=queue,
        ),
        t("supervisor: statistics and trends ({url}).", url=stats),
        t(
            "analyst: the national dashboard ({url}); the model card: {card}.",
            url=board,
            card=card,
        ),
        t("The API is described at {url}.", url=api),
    ):
        console.print(line, soft_wrap=False, highlight=False)
    if serve:
        from .service import serve as serve_cmd

        console.print(t("The pilot is starting; Ctrl+C stops it."))
        serve_cmd(host="127.0.0.1", port=port)
    else:
        console.print(t("Start it with: atauly serve (or make demo)."))


def _demo_synthetic(settings, quarter: str, t) -> None:
    """A generated region (Shymkent, 2% scale): the law on the truth and on the recorded view."""
    import shutil

    import pandas as pd

    from . import law, registry

    region = "790000000"
    synthetic = settings.home / "registry" / "synthetic-shymkent"
    console.rule("[bold]" + t("2. A generated region: the law on what is true and on what databases record"))
    with _quiet():
        if not (synthetic / "manifest.json").exists():
            shutil.rmtree(synthetic, ignore_errors=True)  # an interrupted earlier demo
            registry.generate_cmd(
                out=synthetic, scale=0.02, seed=1, region=[region], workers=None, history=True
            )
        for view in ("truth", "recorded"):
            out = settings.results_dir / f"shymkent-{view}-{quarter}.parquet"
            law.compute_cmd(
                registry=synthetic, quarter=quarter, out=out, view=view, skip_invalid=False, rejects=None
            )
    counts = {}
    for view in ("truth", "recorded"):
        res = pd.read_parquet(
            settings.results_dir / f"shymkent-{view}-{quarter}.parquet", columns=["eligible"]
        )
        counts[view] = (int(res["eligible"].sum()), len(res))
    console.print(
        t(
            "Shymkent at 2% scale: {total} families; entitled by the law on what is true: {truth}, on what "
            "the databases record: {recorded}. Details: atauly registry generate, atauly law compute --view.",
            total=t.number(counts["truth"][1]),
            truth=t.number(counts["truth"][0]),
            recorded=t.number(counts["recorded"][0]),
        )
    )
    _demo_model(settings, synthetic, t)


def _demo_model(settings, synthetic, t) -> None:
    """Stage 1: a Random Forest trained on the region's past decisions (reused when already trained),
    and its recommendation with reasons for a family that applied in the latest quarter."""
    import pandas as pd

    from atauly.model import ModelStore

    from . import model

    name = "asp-demo"
    console.rule("[bold]" + t("3. The recommender, trained on the region's past decisions"))
    store = ModelStore(settings.models_dir)
    reused = bool(store.versions(name) and store.aliases(name)["champion"])
    if not reused:
        with _quiet():
            model.train_cmd(registry=synthetic, name=name)
    champion = store.aliases(name)["champion"]
    console.print(
        t(
            "Model {name}@{version}: reused from {path}.",
            name=name,
            version=champion,
            path=settings.models_dir,
        )
        if reused
        else t(
            "Model {name}@{version}: trained; its card: atauly model card --model {name}.",
            name=name,
            version=champion,
        )
    )
    decisions = pd.read_parquet(synthetic / "decisions")
    latest = decisions[(decisions["quarter"] == decisions["quarter"].max()) & decisions["officer_approved"]]
    if latest.empty:  # no approval in the latest quarter: any application will do
        latest = decisions
    family = str(latest.sort_values("application_id")["family_id"].iloc[0])
    _demo_recommend(name, synthetic, family, t)
    _demo_scan(settings, synthetic, store, t)


def _demo_recommend(name: str, synthetic, family: str, t) -> None:
    """The model's recommendation for one family: probability, the recommendation and its main reasons
    (the law's own explanation for it: ``atauly model recommend``)."""
    from atauly.model.pipeline import manifest_quarter, recommend_family

    from . import model

    with _quiet():
        rec = model.load_model(name)
        reg = model.load(synthetic, "recorded")
    one = recommend_family(rec, reg, family, manifest_quarter(synthetic), t.lang, 3)
    console.print(
        t(
            "Family {family}: probability of entitlement {p}, {verdict} (threshold {value}).",
            family=family,
            p=t.percent(one.probability),
            verdict=t("recommended") if one.recommended else t("not recommended"),
            value=t.percent(one.threshold),
        ),
        highlight=False,
    )
    console.print(t("Main reasons:"), highlight=False)
    for reason in one.reasons:
        console.print(f"  {reason.line}", highlight=False, markup=False)
    console.print(t("The recommendation is advisory: the officer decides."), highlight=False)


UNCALIBRATED_SCAN = N_(
    "This scan model has too few verified families for a probability over the whole population: the list is "
    "ordered by need (well-being level, then the gap to the poverty line)."
)


def _demo_scan(settings, synthetic, store, t) -> None:
    """The proactive scan of the region with a model trained on recorded data; one district's list,
    with why each family was chosen."""
    import json
    import shutil

    from rich.table import Table

    from atauly.registry.codes import district_name
    from atauly.screening import read_candidates

    from . import model, screen

    name = "asp-demo-scan"
    console.rule("[bold]" + t("4. Proactive scan: entitled families who have not applied, ranked by need"))
    with _quiet():
        if not (store.versions(name) and store.aliases(name)["champion"]):
            model.train_cmd(registry=synthetic, name=name, view="recorded", baselines=False)
        out = settings.results_dir / "scan-shymkent"
        shutil.rmtree(out, ignore_errors=True)
        screen.run_scan(synthetic, "2025Q3", out, 1, None, name)
    candidates = read_candidates(out)
    if candidates.empty:
        console.print(t("No candidates in this region."))
        return
    district = candidates["district"].value_counts().index[0]
    top = candidates[candidates["district"] == district].head(5)
    table = Table(
        title=t(
            "{district}: the 5 best-ranked of {n} candidates",
            district=district_name(str(district), t.lang),
            n=t.number(int((candidates["district"] == district).sum())),
        )
    )
    # Issue 15: the population-calibrated probability and whether the family is offered (within capacity).
    # A scan model without a population calibration (too few verified labels) gives no such probability;
    # its own probability is then not shown either: calibrated on applicants, it is not the chance that a
    # family who has not applied is entitled (the list is ordered by need instead, and says so).
    scan_columns = {"probability_entitled", "offered"} <= set(top.columns) and bool(
        top["probability_entitled"].notna().any()
    )
    headings = [t("Rank"), t("Family"), t("Members"), t("Entitled")]
    if scan_columns:
        headings.append(t("Probability"))
    for heading in headings:
        table.add_column(heading, justify="left" if heading == t("Family") else "right")
    table.add_column(t("ASP a month"), justify="right")
    if scan_columns:
        table.add_column(t("Entitled, scan"), justify="right")
        table.add_column(t("Offered"), justify="left")
    for row in top.itertuples(index=False):
        cells = [
            t.number(int(row.rank)),
            str(row.family_id),
            t.number(int(row.members)),
            t("yes") if bool(row.eligible_by_law) else t("no"),
            *([t.percent(float(row.probability))] if scan_columns else []),
            t.money(float(row.monthly_amount)),
        ]
        if scan_columns:
            p = float(row.probability_entitled)
            cells += [t.percent(p) if p == p else "—", t("yes") if bool(row.offered) else t("no")]
        table.add_row(*cells)
    console.print(table)
    if not scan_columns:
        console.print(t(UNCALIBRATED_SCAN), highlight=False)
    # Why each was chosen, in the officer's language (the codes candidates/ keeps beside the English).
    from atauly.screening.wording import offer_reason_text, reason_text

    offers = json.loads((out / "scan.json").read_text(encoding="utf-8")).get("offers") or {}
    minimum = float(offers.get("min_probability", 0.5))
    console.print(t("Why:"), highlight=False)
    for row in top.to_dict("records"):
        why = reason_text(row, t.lang)
        if "offer_code" in row:
            why = f"{why}; {offer_reason_text(row, t.lang, minimum)}"
        console.print(f"  {t.number(int(row['rank']))}. {why}", highlight=False, markup=False)
    console.print(t("Details: atauly screen (the full list and the offers), atauly screen report."))


if __name__ == "__main__":
    app()
