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
from ..io import Registry
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
        del truth
        recorded = _region_tables(registry_dir, "recorded", kato)
        r_ok = law(recorded, quarter)["eligible"].to_numpy(dtype=bool)  # same families, same order
        gaps["truly_entitled_families"] += int(t_ok.sum())
        gaps["recorded_entitled_families"] += int(r_ok.sum())
        gaps["missed_by_recorded"] += int((t_ok & ~r_ok).sum())
        gaps["wrongly_needy_in_recorded"] += int((~t_ok & r_ok).sum())
        wellbeing_rows.append(
            levels(recorded.families, recorded.persons, recorded.incomes)[["region_kato", "wellbeing_level"]]
        )
        del recorded

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
        q2 = approved.loc[approved["quarter"] == f"{quarter[:4]}Q2"]
        year = approved.loc[approved["quarter"].str.startswith(quarter[:4])]
        measured["asp_families_stock"] = len(q2) / scale
        measured["asp_persons_stock"] = q2["members"].sum() / scale
        measured["asp_families_year"] = year["family_id"].nunique() / scale
        measured["asp_persons_year"] = year.drop_duplicates("family_id")["members"].sum() / scale
        recent = approved.loc[approved["quarter"] >= f"{int(quarter[:4]) - 2}Q1"]
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
        "wellbeing_levels_by_region": {k: v for k, v in wellbeing.to_dict(orient="index").items()},
        "wellbeing_levels_national": wb["wellbeing_level"].value_counts(normalize=True).round(4).to_dict(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "calibration.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1, default=float), encoding="utf-8"
    )
    (out_dir / "calibration.html").write_text(_html(table, gaps, wellbeing, result), encoding="utf-8")
    return result


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
