"""Entry point of the ``atauly`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from atauly import __version__
from atauly.settings import get_settings

from . import law, model, plans, registry, screen, service, vision
from .common import console

app = typer.Typer(
    help="Atauly: targeted social assistance (ASP) for Kazakhstan — the law as code and its tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # never print data (IINs, incomes) in a traceback
)
app.add_typer(law.app, name="law")
app.add_typer(registry.app, name="registry")
app.add_typer(model.app, name="model")
app.add_typer(screen.app, name="screen")
app.add_typer(vision.app, name="vision")
app.add_typer(plans.app, name="plans")
app.add_typer(service.users_app, name="users")
app.add_typer(service.audit_app, name="audit")
app.command("serve")(service.serve)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def demo(
    quarter: Annotated[str, typer.Option("--quarter", help="Quarter to compute.")] = "2025Q3",
    family: Annotated[str, typer.Option("--family", help="Family whose trace is printed.")] = "F01",
    lang: Annotated[str, typer.Option("--lang", help="Language of the trace: ru, kk or en.")] = "",
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the casework pilot at the end (Ctrl+C stops it)."),
    ] = True,
    port: Annotated[int, typer.Option("--port", help="Port of the casework pilot.")] = 8000,
) -> None:
    """The whole pipeline on local files and SQLite (in $ATAULY_HOME): the law on the sample registry, a
    generated region, the recommender, the proactive scan, then the casework pilot with users and a queue."""
    settings = get_settings()
    sample = settings.sample_registry_dir
    out = settings.results_dir / f"asp-{quarter}.parquet"
    console.rule("[bold]Atauly demo: the ASP law on the sample registry")
    registry.sample_cmd(out=sample)
    law.compute_cmd(registry=sample, quarter=quarter, out=out, view=None, skip_invalid=False, rejects=None)
    import pandas as pd

    from .common import rich_table

    result = pd.read_parquet(out)
    cols = [
        "family_id",
        "members",
        "per_capita_income",
        "poverty_line",
        "eligible",
        "refusal_reason",
        "asp_type",
        "asp_monthly_amount",
        "child_supplement_monthly",
        "assignment_period",
    ]
    console.print(
        rich_table(
            result[cols],
            title=f"Families, {quarter}",
            money=("per_capita_income", "poverty_line", "asp_monthly_amount", "child_supplement_monthly"),
        )
    )
    _demo_synthetic(settings, quarter)
    console.rule(f"[bold]Trace for family {family}")
    law.explain_cmd(
        registry=sample,
        family=family,
        quarter=quarter,
        lang=lang,
        view=None,
        openfisca_trace=False,
        skip_invalid=False,
    )
    _demo_service(settings, settings.home / "registry" / "synthetic-shymkent", serve, port)


def _demo_service(settings, synthetic, serve: bool, port: int) -> None:
    """Stage 1 as a pilot: the casework service with demo users and a district queue, then served."""
    import pandas as pd

    from atauly.service.app import load_recommender
    from atauly.service.db import make_engine, migrate, session_factory
    from atauly.service.demo import credentials, seed_queue, seed_users
    from atauly.service.engine import RecommendationEngine

    from .common import rich_table

    console.rule("[bold]The casework pilot: users, a queue of applications, the web interface")
    engine = make_engine(settings.database)
    migrate(engine)
    passwords = credentials(settings.home / "demo-credentials.txt")
    with session_factory(engine)() as db:
        users = seed_users(db, passwords)
        recommender = RecommendationEngine(load_recommender(settings))
        made, decided = seed_queue(db, recommender, synthetic)
    engine.dispose()
    console.print(f"Applications submitted now: {made}, decided now: {decided} (a rerun adds none).")
    console.print(
        rich_table(
            pd.DataFrame([u.__dict__ for u in users]),
            title=f"Demo users (passwords kept in {settings.home / 'demo-credentials.txt'})",
        )
    )
    if serve:
        from .service import serve as serve_cmd

        serve_cmd(host="127.0.0.1", port=port)


def _demo_synthetic(settings, quarter: str) -> None:
    """A generated region (Shymkent, 2% scale): the law on the truth and on the recorded view."""
    import shutil

    region = "790000000"
    synthetic = settings.home / "registry" / "synthetic-shymkent"
    console.rule("[bold]A generated region: the law on what is true vs what the databases record")
    if not (synthetic / "manifest.json").exists():
        shutil.rmtree(synthetic, ignore_errors=True)  # an interrupted earlier demo
        registry.generate_cmd(out=synthetic, scale=0.02, seed=1, region=[region], workers=None, history=True)
    for view in ("truth", "recorded"):
        out = settings.results_dir / f"shymkent-{view}-{quarter}.parquet"
        law.compute_cmd(
            registry=synthetic, quarter=quarter, out=out, view=view, skip_invalid=False, rejects=None
        )
    _demo_model(settings, synthetic)


def _demo_model(settings, synthetic) -> None:
    """Stage 1: a Random Forest trained on the region's past decisions (reused when already trained),
    and its recommendation with reasons for a family that applied in the latest quarter."""
    import pandas as pd

    from atauly.model import ModelStore

    name = "asp-demo"
    console.rule("[bold]Stage 1: the recommender, trained on the region's past decisions")
    store = ModelStore(settings.models_dir)
    if store.versions(name) and store.aliases(name)["champion"]:
        console.print(f"Reusing {name}@{store.aliases(name)['champion']} from {settings.models_dir}")
    else:
        model.train_cmd(registry=synthetic, name=name)
    decisions = pd.read_parquet(synthetic / "decisions")
    latest = decisions[(decisions["quarter"] == decisions["quarter"].max()) & decisions["officer_approved"]]
    if latest.empty:  # no approval in the latest quarter: any application will do
        latest = decisions
    family = str(latest.sort_values("application_id")["family_id"].iloc[0])
    console.rule(f"[bold]Recommendation for family {family} (recorded data), beside the law")
    model.recommend_cmd(model=name, registry=synthetic, family=family, lang=settings.lang)
    _demo_scan(settings, synthetic, store)


def _demo_scan(settings, synthetic, store) -> None:
    """The proactive scan of the region with a model trained on recorded data; one district's list."""
    import shutil

    from atauly.screening import read_candidates

    from .common import rich_table

    name = "asp-demo-scan"
    console.rule("[bold]Proactive scan: entitled families who have not applied, ranked by need")
    if not (store.versions(name) and store.aliases(name)["champion"]):
        model.train_cmd(registry=synthetic, name=name, view="recorded", baselines=False)
    out = settings.results_dir / "scan-shymkent"
    shutil.rmtree(out, ignore_errors=True)
    screen.run_scan(synthetic, "2025Q3", out, 1, None, name)
    candidates = read_candidates(out)
    if candidates.empty:
        console.print("No candidates in this region.")
        return
    district = candidates["district"].value_counts().index[0]
    top = candidates[candidates["district"] == district].head(10)
    cols = [
        "rank",
        "family_id",
        "members",
        "eligible_by_law",
        "probability",
        "wellbeing_level",
        "monthly_amount",
    ]
    # Issue 15: the population-calibrated probability, the offers and why.
    cols += [c for c in ("probability_entitled", "offered", "offer_reason") if c in top]
    console.print(
        rich_table(
            top[cols].round({"probability": 3, "probability_entitled": 3}),
            title=f"District {district}: the 10 best-ranked families among {int((candidates['district'] == district).sum()):,} candidates",
            money=("monthly_amount",),
        )
    )


if __name__ == "__main__":
    app()
