"""``atauly screen``: the proactive national scan for families entitled to ASP who have not applied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, err_console, fail, get_settings, progress_bar, rich_table

app = typer.Typer(
    help="The proactive scan: `atauly screen --registry DIR --quarter Q --out DIR`, then `atauly screen report`.",
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def screen_cmd(
    ctx: typer.Context,
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Registry with a recorded/ view (and decisions/).")
    ] = None,
    quarter: Annotated[str | None, typer.Option("--quarter", help="Quarter to scan, e.g. 2025Q3.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Scan directory: candidates/ and summary/, partitioned.")
    ] = None,
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
    capacity: Annotated[
        int | None,
        typer.Option(
            "--capacity",
            help="Offers (home visits) per district this quarter (default: ATAULY_SCAN_CAPACITY, else "
            "ATAULY_SCAN_CAPACITY_PER_1000 per 1,000 families, 4 by default).",
        ),
    ] = None,
    capacity_per_1000: Annotated[
        float | None,
        typer.Option("--capacity-per-1000", help="Offers per district and quarter per 1,000 families."),
    ] = None,
    min_probability: Annotated[
        float | None,
        typer.Option(
            "--min-probability",
            help="No offer below this population-calibrated probability of entitlement (default 0.5).",
        ),
    ] = None,
) -> None:
    """Scan every family of the recorded view: the law, the model, the well-being level and the ASP status;
    candidates ranked by need within each district. A killed scan resumes where it stopped."""
    if ctx.invoked_subcommand is not None:
        return
    if registry is None or quarter is None or out is None:
        fail("--registry, --quarter and --out are needed (or: atauly screen report --scan DIR --out DIR)")
    run_scan(registry, quarter, out, workers, scheduler, model, capacity, capacity_per_1000, min_probability)


@app.command("worker-env")
def worker_env_cmd() -> None:
    """Print the allocator settings the scan gives its local Dask workers, as NAME=VALUE lines, for workers
    started by hand: `env $(atauly screen worker-env) dask worker tcp://HOST:PORT --nthreads 1`."""
    from atauly.screening.scan import WORKER_ENV

    for name, value in WORKER_ENV.items():
        typer.echo(f"{name}={value}")


def run_scan(
    registry: Path,
    quarter: str,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    model: str,
    capacity: int | None = None,
    capacity_per_1000: float | None = None,
    min_probability: float | None = None,
) -> None:
    from atauly.model import ModelStoreError
    from atauly.registry import RegistryNotFoundError
    from atauly.screening import ScanError, partitions
    from atauly.screening.scan import scan_with_settings

    settings = get_settings()
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

            manifest = scan_with_settings(
                registry,
                quarter,
                out,
                model,
                workers=workers,
                scheduler=scheduler,
                progress=advance,
                capacity=capacity,
                capacity_per_1000=capacity_per_1000,
                min_probability=min_probability,
                settings=settings,
            )
            progress.update(task, completed=total)
    except (ScanError, ModelStoreError, ValueError) as exc:
        fail(str(exc))
    if manifest["resumed_from"]:
        err_console.print(f"Resumed: {manifest['resumed_from']} partition(s) were already done")
    console.print(f"Scan of {manifest['quarter']} with {manifest['model']} written to {out}")
    if not manifest.get("population_calibrated"):
        err_console.print(
            "[yellow]Note:[/] the model was not trained on the verification sample: its probability is not the "
            "population's probability of entitlement, offers follow the need ranking within capacity "
            "(train with `atauly model train --registry DIR --view recorded`)"
        )
    if settings.database_url:  # a service database is configured: the candidate lists go into it too
        from atauly.service.offers import load_scan

        with _service_db()() as db:
            _, n = load_scan(db, out)
        console.print(f"{n:,} candidates loaded into the service database")


@app.command("report")
def report_cmd(
    scan_dir: Annotated[Path, typer.Option("--scan", help="A scan directory written by `atauly screen`.")],
    out: Annotated[
        Path, typer.Option("--out", help="Report directory: report.html, by_region.csv, by_district.csv.")
    ],
    consent_rate: Annotated[
        float,
        typer.Option(
            "--consent-rate", help="Share of offered families who agree (assumption; no published figure)."
        ),
    ] = 0.5,
    lang: Annotated[str, typer.Option("--lang", help="The page's language: kk, ru or en.")] = "ru",
) -> None:
    """By region and district: entitled by law, receiving, applied, candidates, expected take-up and the
    additional monthly budget, with a labelled map of Kazakhstan's regions (rates per 1,000 families)."""
    from atauly.screening import ScanError
    from atauly.service.web.scan_report import write_report

    try:
        if lang not in ("kk", "ru", "en"):
            raise ValueError("--lang must be kk, ru or en")
        path, region = write_report(scan_dir, out, consent_rate, lang)
    except (ScanError, ValueError) as exc:
        fail(str(exc))
    console.print(
        rich_table(
            region.round({"expected_take_up": 0, "additional_monthly_budget": 0}),
            title="Proactive scan by region",
            money=("additional_monthly_budget",),
        )
    )
    console.print(f"Report: {path}")


def _service_db():
    from atauly.service.db import make_engine, migrate, session_factory

    engine = make_engine(get_settings().database)
    migrate(engine)
    return session_factory(engine)


@app.command("offers")
def offers_cmd(
    scan_dir: Annotated[Path, typer.Option("--scan", help="Scan directory written by `atauly screen`.")],
    per_district: Annotated[
        int | None,
        typer.Option(
            "--per-district",
            help="Offer only the N best-ranked families per district (among those the scan offered, when it made offers within capacity).",
        ),
    ] = None,
    district: Annotated[
        list[str] | None, typer.Option("--district", help="Only this district (KATO; repeatable).")
    ] = None,
    gateway: Annotated[
        str, typer.Option("--gateway", help="file (default: $ATAULY_HOME/outbox) or http.")
    ] = "file",
    gateway_url: Annotated[str | None, typer.Option("--gateway-url", help="The HTTP gateway's URL.")] = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Send the queued offers now.")] = True,
) -> None:
    """Offers with consent: load the scan's candidates into the service database, queue one offer per
    family and quarter (a rerun offers nobody twice) and send them through the gateway."""
    from atauly.service.casework import ServiceError
    from atauly.service.offers import FileGateway, HttpGateway, create_offers, load_scan, send_queued

    if gateway not in ("file", "http"):
        fail("--gateway must be file or http")
    if gateway == "http" and not gateway_url:
        fail("--gateway-url is needed with --gateway http")
    settings = get_settings()
    gw = FileGateway(settings.home / "outbox") if gateway == "file" else HttpGateway(gateway_url)
    try:
        with _service_db()() as db:
            quarter, n = load_scan(db, scan_dir)
            created = create_offers(db, scan_dir, per_district, district)
            sent = send_queued(db, gw) if send else 0
    except ServiceError as exc:
        fail(exc.message)
    console.print(f"{quarter}: {n:,} candidates loaded; {created:,} new offers queued; {sent:,} sent")
    if gateway == "file" and sent:
        console.print(f"Outbox: {settings.home / 'outbox'}")


@app.command("reply")
def reply_cmd(
    text: Annotated[
        str, typer.Argument(help='The family\'s reply as received, e.g. "1 K7M2QX" or "0 K7M2QX".')
    ],
) -> None:
    """Record a family's reply to an offer; consent puts an application in the district's queue."""
    from atauly.service.app import load_recommender
    from atauly.service.casework import ServiceError
    from atauly.service.engine import RecommendationEngine
    from atauly.service.offers import parse_reply, reply

    try:
        answer, code = parse_reply(text)
        with _service_db()() as db:
            offer = reply(db, RecommendationEngine(load_recommender(get_settings())), code, answer)
    except ServiceError as exc:
        fail(exc.message)
    if offer.application_id:
        console.print(
            f"Offer {offer.code}: consent recorded; application {offer.application_id} is in the queue"
        )
    else:
        console.print(f"Offer {offer.code}: {offer.status}")
