"""Compare a generated registry with the published figures it is calibrated to, and measure the gaps
between its layers (truth, recorded view, officer decisions). Writes ``calibration.json`` and an HTML
report with charts."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..codes import REGION_BY_KATO
from ..intervals import wilson_interval
from ..io import Registry
from ..quarter import Quarter
from ..validate import validate
from ..wellbeing import LEVELS, levels
from .geography import REGION_STATS
from .history import LawFn

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


def _region_tables(registry_dir: Path, layer: str, kato: str) -> Registry:
    """One region's part of a layer, validated (types and row positions) — a region at a time keeps a
    national registry within memory."""
    tables = [
        pd.read_parquet(registry_dir / layer / name / f"part-{kato}.parquet")
        for name in ("families", "persons", "incomes")
    ]
    fam, per, inc, report = validate(*tables)
    report.raise_if_invalid()
    return Registry(fam, per, inc, report.person_family, report.income_person)


#: Record-based proxies of a family's welfare (what a proxy-means test could use): the recorded view only.
PROXY_STATUSES = ("employee", "self_employed", "not_working", "registered_unemployed", "pensioner")


def record_proxies(reg: Registry, quarter: str) -> pd.DataFrame:
    """One row per family of the recorded view: log recorded income per member, composition, recorded
    work, education, assets and settlement — the regressors of the proxy R² (issue 14)."""
    n_fam = len(reg.families)
    pf = reg.person_family
    per = reg.persons
    ref = pd.Timestamp(Quarter.parse(quarter).start)
    age = (ref - pd.to_datetime(per["birth_date"])).dt.days.to_numpy() / 365.25
    size = np.maximum(np.bincount(pf, minlength=n_fam), 1)
    src = reg.incomes["source"].to_numpy(dtype=object)
    money = (
        np.bincount(
            pf[reg.income_person],
            weights=reg.incomes["amount_kzt"].to_numpy(dtype=float) * (src != "loans"),
            minlength=n_fam,
        )
        / 3
    )

    def count(mask) -> np.ndarray:
        return np.bincount(pf, weights=np.asarray(mask, dtype=float), minlength=n_fam)

    status = per["employment_status"].to_numpy(dtype=object)
    edu = per["education"].to_numpy(dtype=object)
    fam = reg.families
    pc = money / size
    out = {
        # Log income per member, floored (5,000 ₸), with an indicator for families the records show
        # without income: log(0) is not a number a regression can use.
        "log_income_pc": np.log(np.maximum(pc, 5_000.0)),
        "no_recorded_income": (pc < 5_000.0).astype(float),
        "members": size,
        "children": count(age < 18),
        "elderly": count(age >= 63),
        "disabled": count(per["disability_group"].to_numpy() > 0),
        "low_education": count((age >= 18) & np.isin(edu, ["none", "primary", "basic_secondary"])),
        "higher_education": count((age >= 18) & (edu == "higher")),
        **{f"n_{s}": count(status == s) for s in PROXY_STATUSES},
        "dwellings": fam["dwellings_owned"].to_numpy(dtype=float),
        "vehicles": fam["vehicles_owned"].to_numpy(dtype=float),
        "land_ha": fam["land_ha"].to_numpy(dtype=float),
        "livestock": np.log1p(fam["livestock_heads"].to_numpy(dtype=float)),
        "urban": (fam["settlement_type"].to_numpy() == "urban").astype(float),
    }
    return pd.DataFrame(out)


def proxy_r2(X: pd.DataFrame, y: np.ndarray, region: np.ndarray) -> float:
    """R² of an OLS of ``y`` on the proxies and region dummies (a proxy-means-test regression)."""
    dummies = pd.get_dummies(pd.Series(region), drop_first=True).to_numpy(dtype=float)
    A = np.column_stack([np.ones(len(y)), X.to_numpy(dtype=float), dummies])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    return float(1 - resid.var() / y.var())


def calibrate(registry_dir: Path | str, out_dir: Path | str, law: LawFn) -> dict:
    registry_dir, out_dir = Path(registry_dir), Path(out_dir)
    manifest = json.loads((registry_dir / "manifest.json").read_text(encoding="utf-8"))
    scale, quarter = manifest["scale"], manifest["quarter"]
    regions = list(manifest["regions"])
    targets = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    all_regions = len(regions) == len(REGION_STATS)
    sm = 56_208.0

    # Region by region: people, poverty, the law on the truth and on the recorded view, well-being.
    acc = {"persons": 0, "families": 0, "poor": 0, "in5plus": 0, "disabled": 0}
    acc |= {"urban_persons": 0, "urban_families": 0, "rural_persons": 0, "rural_families": 0}
    gaps = {
        "truly_entitled_families": 0,
        "recorded_entitled_families": 0,
        "missed_by_recorded": 0,
        "wrongly_needy_in_recorded": 0,
    }
    rows, regional_rows, wellbeing_rows = [], [], []
    hidden = {"informal_jobs": 0, "jobs": 0, "consumption_poor_persons": 0, "visits": 0, "visits_right": 0}
    proxy_parts, population_rows = [], []
    rng = np.random.default_rng(0)
    decisions_dir = registry_dir / "decisions"
    stats_by_kato = {next(k for k, r in REGION_BY_KATO.items() if r.key == st.key): st for st in REGION_STATS}
    for kato in regions:
        truth = _region_tables(registry_dir, "truth", kato)
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
        acc["poor"] += int(size[pc < sm].sum())
        acc["in5plus"] += int(size[size >= 5].sum())
        acc["disabled"] += int((truth.persons["disability_group"] > 0).sum())
        for settlement in ("urban", "rural"):
            here = truth.families["settlement_type"].to_numpy() == settlement
            acc[f"{settlement}_persons"] += int(size[here].sum())
            acc[f"{settlement}_families"] += int(here.sum())
        st = stats_by_kato[kato]
        rows.append(
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
        rows.append(
            _row(
                f"poverty rate {st.key}",
                size[pc < sm].sum() / size.sum(),
                st.poverty_rate,
                0.25,
                True,
                st.poverty_source,
                "regional",
            )
        )
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
            hidden["informal_jobs"] += int(informal.sum())
            hidden["jobs"] += int((np.isin(status, ["employee", "self_employed"]) | informal).sum())
            poor = truth.families["consumption_poor"].to_numpy(dtype=bool)
            hidden["consumption_poor_persons"] += int(size[poor].sum())
        del truth
        recorded = _region_tables(registry_dir, "recorded", kato)
        r_ok = law(recorded, quarter)["eligible"].to_numpy(dtype=bool)  # same families, same order
        if consumption is not None:
            keep = rng.random(len(consumption)) < min(1.0, 50_000 / max(len(consumption), 1))
            X = record_proxies(recorded, quarter).loc[keep].reset_index(drop=True)
            proxy_parts.append(
                (X, np.log(np.maximum(consumption[keep], 1.0)), np.full(int(keep.sum()), kato))
            )
        part = decisions_dir / f"part-{kato}.parquet"
        if part.exists():
            dq = pd.read_parquet(
                part,
                columns=["family_id", "quarter", "officer_approved", "visit_correct"]
                if "visit_correct" in pq_columns(part)
                else ["family_id", "quarter", "officer_approved"],
            )
            if "visit_correct" in dq:
                hidden["visits"] += len(dq)
                hidden["visits_right"] += int(dq["visit_correct"].sum())
            dq = dq.loc[dq["quarter"] == quarter]
            applied = np.isin(fam_ids, dq["family_id"].to_numpy(dtype=str))
            approved = np.isin(fam_ids, dq.loc[dq["officer_approved"], "family_id"].to_numpy(dtype=str))
            for name, where in (
                ("all", np.ones(len(fam_ids), dtype=bool)),
                *((s_, settlement == s_) for s_ in ("urban", "rural")),
            ):
                population_rows.append(
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
        gaps["truly_entitled_families"] += int(t_ok.sum())
        gaps["recorded_entitled_families"] += int(r_ok.sum())
        gaps["missed_by_recorded"] += int((t_ok & ~r_ok).sum())
        gaps["wrongly_needy_in_recorded"] += int((~t_ok & r_ok).sum())
        wellbeing_rows.append(
            levels(recorded.families, recorded.persons, recorded.incomes)[["region_kato", "wellbeing_level"]]
        )
        del recorded

    if hidden["jobs"]:
        measured_hidden = {"informal_employment_share": hidden["informal_jobs"] / hidden["jobs"]}
        gaps["informal_employment_share"] = measured_hidden["informal_employment_share"]
        gaps["consumption_poverty_rate"] = hidden["consumption_poor_persons"] / max(acc["persons"], 1)
    else:
        measured_hidden = {}
    if hidden["visits"]:
        gaps["home_visit_correct_share"] = hidden["visits_right"] / hidden["visits"]
    if proxy_parts:
        X = pd.concat([x for x, _, _ in proxy_parts], ignore_index=True)
        y = np.concatenate([v for _, v, _ in proxy_parts])
        measured_hidden["proxy_r2_log_consumption"] = proxy_r2(
            X, y, np.concatenate([r for _, _, r in proxy_parts])
        )
        gaps["proxy_r2_log_consumption"] = measured_hidden["proxy_r2_log_consumption"]
    population = _population_table(population_rows)
    if population is not None:
        national = population.loc[population["scope"] == "national"].iloc[0]
        measured_hidden["takeup_among_entitled"] = national["takeup_among_entitled"]
        gaps["takeup_among_entitled"] = national["takeup_among_entitled"]
        gaps["system_exclusion_error"] = national["exclusion_error"]
        gaps["system_inclusion_error"] = national["inclusion_error"]
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
    decisions = pd.read_parquet(registry_dir / "decisions") if (registry_dir / "decisions").exists() else None
    if decisions is not None and len(decisions):
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
        ap = pd.read_parquet(
            registry_dir / "applications" / "persons", columns=["application_id", "birth_date"]
        )
        ap = ap.loc[ap["application_id"].isin(set(recent["application_id"]))]
        applied = (
            recent.set_index("application_id")["application_date"].reindex(ap["application_id"]).to_numpy()
        )
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
            share = approved.loc[approved["quarter"].str.startswith("2023"), "region_kato"].value_counts(
                normalize=True
            )
            rt = targets["regional_recipient_shares"]
            if all_regions:
                for kato, value in rt["values"].items():
                    regional_rows.append(
                        _row(
                            f"recipient share {REGION_BY_KATO[kato].name_en}",
                            share.get(kato, 0.0),
                            value,
                            rt["tolerance"],
                            rt["headline"],
                            rt["source"],
                            "regional",
                        )
                    )
        d = decisions
        gaps.update(
            {
                "applications": int(len(d)),
                "officer_approved_not_truly_entitled": int(
                    (d["officer_approved"] & ~d["true_eligible"]).sum()
                ),
                "truly_entitled_refused": int((~d["officer_approved"] & d["true_eligible"]).sum()),
                "officer_overrode_law": int(d["officer_overrode_law"].sum()),
                "agreement_officer_truth": float((d["officer_approved"] == d["true_eligible"]).mean()),
            }
        )
    national_rows = []
    for name, spec in targets["national"].items():
        if not all_regions:
            continue  # national figures only make sense for the whole country; regional rows remain
        if name not in measured:  # e.g. no decisions generated: a missing headline figure fails
            national_rows.append(
                {
                    **_row(
                        name, float("nan"), spec["value"], spec["tolerance"], spec["headline"], spec["source"]
                    ),
                    "ok": False,
                }
            )
            continue
        national_rows.append(
            _row(name, measured[name], spec["value"], spec["tolerance"], spec["headline"], spec["source"])
        )
    for name, spec in targets.get("hidden_need", {}).items():
        if name in measured_hidden:
            value = spec["value"]
            if name == "informal_employment_share":  # the world's own setting (a sensitivity changes it)
                value = manifest.get("params", {}).get(name, value)
            national_rows.append(
                _row(name, measured_hidden[name], value, spec["tolerance"], spec["headline"], spec["source"])
            )
    rows = national_rows + rows + regional_rows
    gaps["scale"] = scale
    wb = pd.concat(wellbeing_rows, ignore_index=True)
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
        "layer_gaps": gaps,
        "population": [] if population is None else population.replace({np.nan: None}).to_dict("records"),
        "wellbeing_levels_by_region": {k: v for k, v in wellbeing.to_dict(orient="index").items()},
        "wellbeing_levels_national": wb["wellbeing_level"].value_counts(normalize=True).round(4).to_dict(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "calibration.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=float), encoding="utf-8"
    )
    (out_dir / "calibration.html").write_text(_html(table, gaps, wellbeing, result), encoding="utf-8")
    return result


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


def _chart_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _html(table: pd.DataFrame, gaps: dict, wellbeing: pd.DataFrame, result: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = []
    if len(table):
        fig, ax = plt.subplots(figsize=(9, max(3, 0.28 * len(table))))
        y = np.arange(len(table))
        ax.barh(y, table["deviation"] * 100, color=np.where(table["ok"], "#2a9d8f", "#e76f51"))
        ax.set_yticks(y, table["name"], fontsize=7)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("generated vs target, %")
        ax.invert_yaxis()
        charts.append(("Deviation from the published figures", _chart_png(fig)))
        plt.close(fig)
    if len(wellbeing):
        fig, ax = plt.subplots(figsize=(9, 4))
        bottom = np.zeros(len(wellbeing))
        for level, color in zip(LEVELS, ["#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261", "#e76f51"], strict=True):
            ax.bar(range(len(wellbeing)), wellbeing[level], bottom=bottom, label=level, color=color)
            bottom += wellbeing[level].to_numpy()
        ax.set_xticks(
            range(len(wellbeing)), [REGION_BY_KATO[k].key for k in wellbeing.index], rotation=70, fontsize=7
        )
        ax.set_ylabel("share of families")
        ax.legend(title="level", fontsize=7)
        charts.append(("Well-being levels A–E by region (recorded view)", _chart_png(fig)))
        plt.close(fig)
    rows = "".join(
        f"<tr class={'ok' if r.ok else 'bad'}><td>{html.escape(r.scope)}</td><td>{html.escape(r.name)}</td>"
        f"<td>{r.generated:,.4g}</td><td>{r.target:,.4g}</td><td>{r.deviation:+.1%}</td><td>±{r.tolerance:.0%}</td>"
        f"<td>{'headline' if r.headline else ''}</td><td>{'✓' if r.ok else '✗'}</td><td>{html.escape(r.source)}</td></tr>"
        for r in table.itertuples()
    )
    gap_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:,.4g}</td></tr>" for k, v in gaps.items())
    imgs = "".join(
        f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>"
        for t, b in charts
    )
    status = (
        "all headline targets within tolerance"
        if result["headline_ok"]
        else "some headline targets out of tolerance"
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Atauly synthetic registry calibration</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px}}tr.bad{{background:#fde2dc}}tr.ok{{background:#e6f4f1}}</style></head>
<body><h1>Synthetic registry calibration</h1><p>Registry {html.escape(result["registry"])}, scale {result["scale"]},
quarter {html.escape(result["quarter"])}: <strong>{status}</strong>.</p>
<h2>Generated vs published</h2><table><tr><th>scope</th><th>figure</th><th>generated</th><th>target</th>
<th>deviation</th><th>tolerance</th><th></th><th>ok</th><th>source</th></tr>{rows}</table>
<h2>Gaps between the layers (families, at this scale)</h2><table>{gap_rows}</table>{imgs}</body></html>"""
