"""Compare a generated registry with the published figures it is calibrated to, and measure the gaps
between its layers (truth, recorded view, officer decisions). Writes ``calibration.json`` and an HTML
report with charts."""

from __future__ import annotations

import gc
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..codes import REGION_BY_KATO
from ..intervals import wilson_interval
from ..io import Registry
from ..quarter import Quarter
from ..wellbeing import LEVELS, levels
from .calibration_report import calibration_html
from .geography import REGION_STATS
from .history import LawFn
from .proxies import proxy_r2, record_proxies
from .reading import region_registry

TARGETS = Path(__file__).with_name("targets.yaml")


def _row(name, value, target, tolerance, headline, source, scope="national"):
    deviation = (value - target) / target if target else float("nan")
    return {
        "scope": scope,
        "name": name,
        "generated": float(value),
        "target": float(target),
        "deviation": float(deviation),
        "tolerance": tolerance,
        "ok": bool(abs(deviation) <= tolerance),
        "headline": headline,
        "source": source,
    }


#: Record-based proxies of a family's welfare (what a proxy-means test could use): the recorded view only.
SUBSISTENCE_MINIMUM = 56_208.0  # the poverty rate's line, KZT per person a month


@dataclass
class _Tally:
    """What the region-by-region pass adds up."""

    acc: dict = field(
        default_factory=lambda: {
            "persons": 0,
            "families": 0,
            "poor": 0,
            "in5plus": 0,
            "disabled": 0,
            "urban_persons": 0,
            "urban_families": 0,
            "rural_persons": 0,
            "rural_families": 0,
        }
    )
    gaps: dict = field(
        default_factory=lambda: {
            "truly_entitled_families": 0,
            "recorded_entitled_families": 0,
            "missed_by_recorded": 0,
            "wrongly_needy_in_recorded": 0,
        }
    )
    hidden: dict = field(
        default_factory=lambda: {
            "informal_jobs": 0,
            "jobs": 0,
            "consumption_poor_persons": 0,
            "visits": 0,
            "visits_right": 0,
        }
    )
    rows: list = field(default_factory=list)
    wellbeing_rows: list = field(default_factory=list)
    proxy_parts: list = field(default_factory=list)
    population_rows: list = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        """Another region's tally after this one's (counts summed, rows in region order)."""
        for mine, theirs in ((self.acc, other.acc), (self.gaps, other.gaps), (self.hidden, other.hidden)):
            for key, value in theirs.items():
                mine[key] += value
        for name in ("rows", "wellbeing_rows", "proxy_parts", "population_rows"):
            getattr(self, name).extend(getattr(other, name))


def calibrate(registry_dir: Path | str, out_dir: Path | str, law: LawFn, workers: int | None = 1) -> dict:
    """The generated registry against the published figures (``calibration.json``, ``calibration.html``).
    Regions are tallied in ``workers`` processes (None: the CPU count, at most 2 — each holds a region in
    memory); the figures are the same for any number."""
    registry_dir, out_dir = Path(registry_dir), Path(out_dir)
    manifest = json.loads((registry_dir / "manifest.json").read_text(encoding="utf-8"))
    scale, quarter = manifest["scale"], manifest["quarter"]
    regions = list(manifest["regions"])
    targets = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    all_regions = len(regions) == len(REGION_STATS)

    # Region by region: people, poverty, the law on the truth and on the recorded view, well-being.
    t = _Tally()
    stats_by_kato = {next(k for k, r in REGION_BY_KATO.items() if r.key == st.key): st for st in REGION_STATS}
    samples = _proxy_samples(registry_dir, regions)
    jobs = [(registry_dir, kato, stats_by_kato[kato], scale, quarter, law, samples[kato]) for kato in regions]
    workers = workers or min(2, os.cpu_count() or 1)
    # Each region's collection (``_region_tally``) need not walk what exists already (modules, caches).
    gc.freeze()
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                t.add(_region_tally(job))
        else:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
                for part in pool.map(_region_tally, jobs):  # in region order
                    t.add(part)
    finally:
        gc.unfreeze()
    measured_hidden, population = _hidden_need(t)
    measured = _measured(t.acc, scale)
    regional_rows: list = []
    decisions = pd.read_parquet(registry_dir / "decisions") if (registry_dir / "decisions").exists() else None
    if decisions is not None and len(decisions):
        _measure_decisions(registry_dir, decisions, quarter, scale, measured, t.gaps)
        if all_regions:
            regional_rows = _recipient_share_rows(decisions, targets["regional_recipient_shares"])
    national_rows = _national_rows(targets, measured) if all_regions else []
    national_rows += _hidden_rows(targets, measured_hidden, manifest)
    rows = national_rows + t.rows + regional_rows
    t.gaps["scale"] = scale
    wb = pd.concat(t.wellbeing_rows, ignore_index=True)
    wellbeing = (
        wb.groupby("region_kato")["wellbeing_level"]
        .value_counts(normalize=True)
        .unstack(fill_value=0)
        .reindex(columns=list(LEVELS), fill_value=0)
        .round(4)
    )
    table = pd.DataFrame(rows)
    headline_ok = bool(table.loc[table["headline"], "ok"].all()) if len(table) else True
    result = {
        "registry": str(registry_dir),
        "scale": scale,
        "quarter": quarter,
        "regions": regions,
        "headline_ok": headline_ok,
        "targets": rows,
        "layer_gaps": t.gaps,
        "population": [] if population is None else population.replace({np.nan: None}).to_dict("records"),
        "wellbeing_levels_by_region": {k: v for k, v in wellbeing.to_dict(orient="index").items()},
        "wellbeing_levels_national": wb["wellbeing_level"].value_counts(normalize=True).round(4).to_dict(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "calibration.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=float), encoding="utf-8"
    )
    (out_dir / "calibration.html").write_text(
        calibration_html(table, t.gaps, wellbeing, result), encoding="utf-8"
    )
    return result


def _proxy_samples(registry_dir: Path, regions: list[str]) -> dict[str, np.ndarray | None]:
    """Each region's families in the sample of the proxy regression (at most about 50,000 a region),
    drawn region after region from one stream: the same sample whichever process tallies a region."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    samples: dict[str, np.ndarray | None] = {}
    for kato in regions:
        part = registry_dir / "truth" / "families" / f"part-{kato}.parquet"
        meta = pq.read_metadata(part)
        if "consumption_per_ae" not in meta.schema.names:  # a world without hidden need: no draw
            samples[kato] = None
            continue
        n = meta.num_rows
        samples[kato] = rng.random(n) < min(1.0, 50_000 / max(n, 1))
    return samples


def _region_tally(job: tuple) -> _Tally:
    t = _Tally()
    _tally_region(t, *job)
    gc.collect()  # the region's tables are in reference cycles: freed now, not regions later
    return t


def _tally_region(t: _Tally, registry_dir: Path, kato: str, st, scale: float, quarter: str, law: LawFn, keep):
    """One region: its truth (people, poverty, hidden need), then its recorded view (the law on it, the
    proxies of consumption, well-being levels) and its decisions of the current quarter. ``keep``: the
    families in the proxy regression's sample."""
    truth = region_registry(registry_dir, "truth", kato)
    size = _tally_truth(t, truth, st, scale)
    t_ok = law(truth, quarter)["eligible"].to_numpy(dtype=bool)
    fam_ids = truth.families["family_id"].to_numpy(dtype=str)
    settlement = truth.families["settlement_type"].to_numpy(dtype=str)
    consumption = (
        truth.families["consumption_per_ae"].to_numpy(dtype=float)
        if "consumption_per_ae" in truth.families
        else None
    )
    if "informal_job" in truth.persons:
        status = truth.persons["employment_status"].to_numpy(dtype=object)
        informal = truth.persons["informal_job"].to_numpy(dtype=bool)
        t.hidden["informal_jobs"] += int(informal.sum())
        t.hidden["jobs"] += int((np.isin(status, ["employee", "self_employed"]) | informal).sum())
        poor = truth.families["consumption_poor"].to_numpy(dtype=bool)
        t.hidden["consumption_poor_persons"] += int(size[poor].sum())
    del truth
    gc.collect()  # the truth's tables (in reference cycles) freed before the recorded view is read
    recorded = region_registry(registry_dir, "recorded", kato)
    r_ok = law(recorded, quarter)["eligible"].to_numpy(dtype=bool)  # same families, same order
    if consumption is not None:
        # The proxies of the sampled families only (a family's figures are its own members' sums).
        X = record_proxies(recorded if keep.all() else recorded.take(keep), quarter)
        t.proxy_parts.append((X, np.log(np.maximum(consumption[keep], 1.0)), np.full(int(keep.sum()), kato)))
    part = registry_dir / "decisions" / f"part-{kato}.parquet"
    if part.exists():
        _tally_decisions(t, part, quarter, kato, fam_ids, settlement, t_ok)
    t.gaps["truly_entitled_families"] += int(t_ok.sum())
    t.gaps["recorded_entitled_families"] += int(r_ok.sum())
    t.gaps["missed_by_recorded"] += int((t_ok & ~r_ok).sum())
    t.gaps["wrongly_needy_in_recorded"] += int((~t_ok & r_ok).sum())
    t.wellbeing_rows.append(
        levels(recorded.families, recorded.persons, recorded.incomes, positions=recorded.positions())[
            ["region_kato", "wellbeing_level"]
        ]
    )


def _tally_truth(t: _Tally, truth: Registry, st, scale: float) -> np.ndarray:
    """People, poverty and households of a region's truth (and its population and poverty rows);
    returns each family's size."""
    acc = t.acc
    size = np.bincount(truth.person_family, minlength=len(truth.families))
    loans = truth.incomes["source"].to_numpy() == "loans"
    money = np.bincount(
        truth.person_family[truth.income_person[~loans]],
        weights=truth.incomes["amount_kzt"].to_numpy()[~loans],
        minlength=len(size),
    )
    pc = money / 3 / np.maximum(size, 1)
    acc["persons"] += int(size.sum())
    acc["families"] += len(size)
    acc["poor"] += int(size[pc < SUBSISTENCE_MINIMUM].sum())
    acc["in5plus"] += int(size[size >= 5].sum())
    acc["disabled"] += int((truth.persons["disability_group"] > 0).sum())
    for settlement in ("urban", "rural"):
        here = truth.families["settlement_type"].to_numpy() == settlement
        acc[f"{settlement}_persons"] += int(size[here].sum())
        acc[f"{settlement}_families"] += int(here.sum())
    t.rows.append(
        _row(
            f"population {st.key}",
            size.sum() / scale,
            st.population,
            0.10,
            False,
            st.population_source,
            "regional",
        )
    )
    t.rows.append(
        _row(
            f"poverty rate {st.key}",
            size[pc < SUBSISTENCE_MINIMUM].sum() / size.sum(),
            st.poverty_rate,
            0.25,
            True,
            st.poverty_source,
            "regional",
        )
    )
    return size


def _tally_decisions(t: _Tally, part: Path, quarter: str, kato: str, fam_ids, settlement, t_ok) -> None:
    """Home visits' accuracy over the window, and who applied and was approved in the current quarter."""
    dq = pd.read_parquet(
        part,
        columns=["family_id", "quarter", "officer_approved", "visit_correct"]
        if "visit_correct" in pq_columns(part)
        else ["family_id", "quarter", "officer_approved"],
    )
    if "visit_correct" in dq:
        t.hidden["visits"] += len(dq)
        t.hidden["visits_right"] += int(dq["visit_correct"].sum())
    dq = dq.loc[dq["quarter"] == quarter]
    applied = np.isin(fam_ids, dq["family_id"].to_numpy(dtype=str))
    approved = np.isin(fam_ids, dq.loc[dq["officer_approved"], "family_id"].to_numpy(dtype=str))
    for name, where in (
        ("all", np.ones(len(fam_ids), dtype=bool)),
        *((s_, settlement == s_) for s_ in ("urban", "rural")),
    ):
        t.population_rows.append(
            {
                "region_kato": kato,
                "settlement": name,
                "entitled": int((t_ok & where).sum()),
                "entitled_applied": int((t_ok & applied & where).sum()),
                "entitled_approved": int((t_ok & approved & where).sum()),
                "approved": int((approved & where).sum()),
                "approved_not_entitled": int((approved & ~t_ok & where).sum()),
            }
        )


def _hidden_need(t: _Tally) -> tuple[dict, pd.DataFrame | None]:
    """The hidden-need figures measured (informal jobs, the proxies' R², take-up) and the population table;
    the same figures go into the layer gaps."""
    hidden, gaps = t.hidden, t.gaps
    if hidden["jobs"]:
        measured_hidden = {"informal_employment_share": hidden["informal_jobs"] / hidden["jobs"]}
        gaps["informal_employment_share"] = measured_hidden["informal_employment_share"]
        gaps["consumption_poverty_rate"] = hidden["consumption_poor_persons"] / max(t.acc["persons"], 1)
    else:
        measured_hidden = {}
    if hidden["visits"]:
        gaps["home_visit_correct_share"] = hidden["visits_right"] / hidden["visits"]
    if t.proxy_parts:
        X = pd.concat([x for x, _, _ in t.proxy_parts], ignore_index=True)
        y = np.concatenate([v for _, v, _ in t.proxy_parts])
        measured_hidden["proxy_r2_log_consumption"] = proxy_r2(
            X, y, np.concatenate([r for _, _, r in t.proxy_parts])
        )
        gaps["proxy_r2_log_consumption"] = measured_hidden["proxy_r2_log_consumption"]
    population = _population_table(t.population_rows)
    if population is not None:
        national = population.loc[population["scope"] == "national"].iloc[0]
        measured_hidden["takeup_among_entitled"] = national["takeup_among_entitled"]
        gaps["takeup_among_entitled"] = national["takeup_among_entitled"]
        gaps["system_exclusion_error"] = national["exclusion_error"]
        gaps["system_inclusion_error"] = national["inclusion_error"]
    return measured_hidden, population


def _measured(acc: dict, scale: float) -> dict[str, float]:
    measured: dict[str, float] = {
        "population": acc["persons"] / scale,
        "families": acc["families"] / scale,
        "poverty_rate": acc["poor"] / acc["persons"],
        "people_in_households_5plus": acc["in5plus"] / acc["persons"],
        "disability_recipients": acc["disabled"] / scale,
    }
    for settlement in ("urban", "rural"):
        if acc[f"{settlement}_families"]:
            measured[f"household_size_{settlement}"] = (
                acc[f"{settlement}_persons"] / acc[f"{settlement}_families"]
            )
    return measured


def _measure_decisions(registry_dir: Path, decisions, quarter: str, scale: float, measured: dict, gaps: dict):
    """The recipients' stock and flow, family size and children, and the officers' agreement with the truth."""
    approved = decisions.loc[decisions["officer_approved"]]
    current = Quarter.parse(quarter)
    q2 = approved.loc[approved["quarter"] == str(Quarter(current.year, 2))]
    year = approved.loc[approved["quarter"].str.startswith(str(current.year))]
    measured["asp_families_stock"] = len(q2) / scale
    measured["asp_persons_stock"] = q2["members"].sum() / scale
    measured["asp_families_year"] = year["family_id"].nunique() / scale
    measured["asp_persons_year"] = year.drop_duplicates("family_id")["members"].sum() / scale
    recent = approved.loc[approved["quarter"] >= str(Quarter(current.year - 2, 1))]
    measured["recipient_family_size"] = recent["members"].mean()
    ap = pd.read_parquet(registry_dir / "applications" / "persons", columns=["application_id", "birth_date"])
    ap = ap.loc[ap["application_id"].isin(set(recent["application_id"]))]
    applied = recent.set_index("application_id")["application_date"].reindex(ap["application_id"]).to_numpy()
    age_days = (pd.to_datetime(applied) - pd.to_datetime(ap["birth_date"]).to_numpy()).days
    born = age_days >= 0  # members born by the application date
    measured["recipient_child_share"] = float((age_days[born] < 18 * 365.25).mean())
    paid_2023 = decisions.loc[
        decisions["officer_approved"]
        & decisions["law_eligible"]
        & decisions["quarter"].str.startswith("2023")
    ]
    if len(paid_2023):
        measured["asp_per_member_2023"] = paid_2023["law_asp_monthly"].sum() / paid_2023["members"].sum()
    d = decisions
    gaps.update(
        {
            "applications": int(len(d)),
            "officer_approved_not_truly_entitled": int((d["officer_approved"] & ~d["true_eligible"]).sum()),
            "truly_entitled_refused": int((~d["officer_approved"] & d["true_eligible"]).sum()),
            "officer_overrode_law": int(d["officer_overrode_law"].sum()),
            "agreement_officer_truth": float((d["officer_approved"] == d["true_eligible"]).mean()),
        }
    )


def _recipient_share_rows(decisions, rt: dict) -> list[dict]:
    """Each region's share of the 2023 recipients against the published shares."""
    approved = decisions.loc[decisions["officer_approved"]]
    paid_2023 = decisions.loc[
        decisions["officer_approved"]
        & decisions["law_eligible"]
        & decisions["quarter"].str.startswith("2023")
    ]
    if not len(paid_2023):
        return []
    share = approved.loc[approved["quarter"].str.startswith("2023"), "region_kato"].value_counts(
        normalize=True
    )
    return [
        _row(
            f"recipient share {REGION_BY_KATO[kato].name_en}",
            share.get(kato, 0.0),
            value,
            rt["tolerance"],
            rt["headline"],
            rt["source"],
            "regional",
        )
        for kato, value in rt["values"].items()
    ]


def _national_rows(targets: dict, measured: dict) -> list[dict]:
    """National figures against their targets (a missing headline figure fails)."""
    rows = []
    for name, spec in targets["national"].items():
        if name not in measured:  # e.g. no decisions generated
            nan_row = _row(
                name, float("nan"), spec["value"], spec["tolerance"], spec["headline"], spec["source"]
            )
            rows.append({**nan_row, "ok": False})
            continue
        rows.append(
            _row(name, measured[name], spec["value"], spec["tolerance"], spec["headline"], spec["source"])
        )
    return rows


def _hidden_rows(targets: dict, measured_hidden: dict, manifest: dict) -> list[dict]:
    rows = []
    for name, spec in targets.get("hidden_need", {}).items():
        if name in measured_hidden:
            value = spec["value"]
            if name == "informal_employment_share":  # the world's own setting (a sensitivity changes it)
                value = manifest.get("params", {}).get(name, value)
            rows.append(
                _row(name, measured_hidden[name], value, spec["tolerance"], spec["headline"], spec["source"])
            )
    return rows


def pq_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_schema(path).names


def _population_table(rows: list[dict]) -> pd.DataFrame | None:
    """The system over the whole population, the current quarter: take-up among the truly entitled,
    exclusion (entitled, not approved) and inclusion (approved, not entitled) errors, nationally, by
    urban/rural and by region, each with a Wilson 95% interval; groups of fewer than 30 flagged."""
    if not rows:
        return None
    df = pd.DataFrame(rows)
    counts = ["entitled", "entitled_applied", "entitled_approved", "approved", "approved_not_entitled"]
    parts = [
        df.loc[df["settlement"] == "all"]
        .groupby("region_kato")[counts]
        .sum()
        .reset_index()
        .assign(scope="region"),
        df.loc[df["settlement"] != "all"]
        .groupby("settlement")[counts]
        .sum()
        .reset_index()
        .assign(scope="settlement"),
        df.loc[df["settlement"] == "all", counts].sum().to_frame().T.assign(scope="national"),
    ]
    out = pd.concat(parts, ignore_index=True)
    out["group"] = np.select(
        [out["scope"] == "region", out["scope"] == "settlement"],
        [
            out["region_kato"].map(lambda k: REGION_BY_KATO[k].name_en if isinstance(k, str) else ""),
            out["settlement"],
        ],
        "national",
    )
    e, a = out["entitled"].to_numpy(float), out["approved"].to_numpy(float)
    for name, k, n in (
        ("takeup_among_entitled", out["entitled_applied"], e),
        ("exclusion_error", e - out["entitled_approved"], e),
        ("inclusion_error", out["approved_not_entitled"], a),
    ):
        k = np.asarray(k, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(n > 0, k / n, np.nan)
        out[f"{name}_low"], out[f"{name}_high"] = wilson_interval(k, n)
    out["small_group"] = (e < 30) | (a < 30)
    keep = ["scope", "group", *counts]
    rest = [c for c in out.columns if c not in keep and c not in ("region_kato", "settlement")]
    return out[keep + rest]
