"""A realistic synthetic registry of Kazakhstan: truth, recorded view, applications and decisions.

The layers are kept apart on disk (``truth/``, ``recorded/``, ``applications/``, ``decisions/``), each
table a directory of Parquet parts, one per region. ``truth`` and ``recorded`` follow the data contract,
so ``atauly law compute --view truth|recorded`` works on either. See docs/synthetic-data.md.

This module imports nothing outside ``atauly.registry``; the law used for historical decisions is passed
in by the caller (the CLI passes ``atauly.law``), so the arrows of the design stay one-way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from ..codes import REGION_BY_KATO, REGION_BY_KEY, districts
from ..io import write_parquet
from ..params import ParamError
from ..quarter import Quarter
from .geography import REGION_STATS
from .history import LawFn, make_history
from .params import SyntheticParams
from .population import RegionData, generate_region, without_absent
from .takeup import need_gap, reapply_probability, takeup_probability
from .views import recorded_view

__all__ = [
    "SyntheticParams",
    "districts_table",
    "generate",
    "generate_registry",
    "need_gap",
    "reapply_probability",
    "summary_totals",
    "takeup_probability",
]


def districts_table() -> pd.DataFrame:
    return pd.DataFrame([asdict(d) for d in districts()])


def write_part(df: pd.DataFrame, directory: Path, kato: str) -> None:
    """One region's part of a table: ``directory/part-KATO.parquet`` (identifiers not dictionary-encoded;
    sorted by family and in row groups, see :func:`atauly.registry.io.write_parquet`)."""
    directory.mkdir(parents=True, exist_ok=True)
    low_cardinality = [c for c in df.columns if c not in _HIGH_CARDINALITY]
    write_parquet(df, directory / f"part-{kato}.parquet", dictionary=low_cardinality)


_HIGH_CARDINALITY = {"family_id", "person_id", "iin", "application_id", "amount_kzt", "birth_date"}


def _write(data: RegionData, base: Path, layer: str, kato: str) -> None:
    for name in ("families", "persons", "incomes"):
        write_part(getattr(data, name), base / layer / name, kato)


def _region_job(args) -> dict:
    stats, scale, seed, p, out, law = args
    kato = REGION_BY_KEY[stats.key].kato
    generated = generate_region(stats, scale, seed, p)
    recorded = recorded_view(generated, seed, p)  # the records still count members who left
    truth = without_absent(generated)
    _write(truth, out, "truth", kato)
    _write(recorded, out, "recorded", kato)
    summary = {"families": len(truth.families), "persons": len(truth.persons)}
    if law is not None:
        families, persons, incomes, decisions, verification = make_history(
            truth, recorded, law, seed, kato, p
        )
        if len(decisions):
            for name, df in (("families", families), ("persons", persons), ("incomes", incomes)):
                write_part(df, out / "applications" / name, kato)
            write_part(decisions, out / "decisions", kato)
        if len(verification):
            write_part(verification, out / "verification", kato)
        summary["applications"] = len(decisions)
        summary["verified"] = len(verification)
    return summary


def generate(
    scale: float,
    seed: int,
    out: Path | str,
    regions: list[str] | None = None,
    params: SyntheticParams | None = None,
    progress: Callable[[str, int], None] | None = None,
    law: LawFn | None = None,
    workers: int | None = None,
) -> dict:
    """Generate the registry into ``out``; returns a summary (also written as ``out/manifest.json``).

    ``regions`` are KATO codes (default: all 20). ``law(registry, quarter)`` is the law used for the
    historical decisions (``atauly.law.compute.compute``); without it no applications or decisions are
    made. Regions are generated in parallel (``workers``, default: the CPU count, at most 4), each region
    deterministic for its seed whatever the order. ``progress(region, persons)`` follows each region.
    """
    if not 0 < scale <= 1.5:
        raise ValueError(f"scale must be in (0, 1.5], got {scale}")
    p = params or SyntheticParams()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new directory")
    out.mkdir(parents=True, exist_ok=True)
    wanted = regions or [REGION_BY_KEY[s.key].kato for s in REGION_STATS]
    unknown = [k for k in wanted if k not in REGION_BY_KATO]
    if unknown:
        raise ValueError(f"unknown region KATO code(s): {', '.join(unknown)}")
    jobs = [(s, scale, seed, p, out, law) for s in REGION_STATS if REGION_BY_KEY[s.key].kato in wanted]
    jobs.sort(key=lambda j: -j[0].population)  # largest first: better packing on few cores
    summary = {"scale": scale, "seed": seed, "quarter": p.quarter, "regions": {}}
    workers = workers or min(4, os.cpu_count() or 1)
    if workers <= 1 or len(jobs) == 1:
        results = ((job, _region_job(job)) for job in jobs)
        for job, res in results:
            _done(summary, job, res, progress)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            futures = {pool.submit(_region_job, job): job for job in jobs}
            for future in as_completed(futures):
                _done(summary, futures[future], future.result(), progress)
    summary["regions"] = dict(sorted(summary["regions"].items()))
    districts_table().to_parquet(out / "districts.parquet", index=False)
    summary["params"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items()}
    (out / "manifest.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary


def generate_registry(
    out: Path | str,
    *,
    scale: float = 0.01,
    seed: int = 1,
    regions: list[str] | None = None,
    quarter: str = "2025Q3",
    informal_share: float | None = None,
    workers: int | None = None,
    law: LawFn | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict:
    """:func:`generate` from the options of ``atauly registry generate``, checked first (nothing is
    written for a bad one): region KATO codes, the current quarter (its truth; the history is the quarters
    up to it), the informal share of jobs (default: the parameters')."""
    bad = [r for r in regions or () if r not in REGION_BY_KATO]
    if bad:
        raise ParamError(f"unknown region KATO code(s): {', '.join(bad)}; see docs/data-contract.md")
    try:
        parsed = Quarter.parse(quarter)
    except ValueError as exc:
        raise ParamError(f"--quarter {quarter!r}: expected a quarter like 2025Q3 ({exc})") from None
    if not 2000 <= parsed.year <= 2099:
        raise ParamError(f"--quarter {quarter!r}: expected a quarter like 2025Q3")
    params = SyntheticParams(quarter=str(parsed))
    if informal_share is not None:
        params = SyntheticParams(quarter=str(parsed), informal_employment_share=informal_share)
    return generate(scale, seed, out, regions, params=params, progress=progress, law=law, workers=workers)


def summary_totals(summary: dict) -> dict[str, int]:
    """Families, persons and applications over the regions of a :func:`generate` summary."""
    regions = summary["regions"].values()
    return {
        "families": sum(r["families"] for r in regions),
        "persons": sum(r["persons"] for r in regions),
        "applications": sum(r.get("applications", 0) for r in regions),
    }


def _done(summary: dict, job, result: dict, progress) -> None:
    kato = REGION_BY_KEY[job[0].key].kato
    summary["regions"][kato] = result
    if progress:
        progress(kato, result["persons"])
