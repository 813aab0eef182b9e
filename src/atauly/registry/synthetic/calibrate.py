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
from ..io import load_registry
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


def calibrate(registry_dir: Path | str, out_dir: Path | str, law: LawFn) -> dict:
    registry_dir, out_dir = Path(registry_dir), Path(out_dir)
    manifest = json.loads((registry_dir / "manifest.json").read_text(encoding="utf-8"))
    scale, quarter = manifest["scale"], manifest["quarter"]
    regions = list(manifest["regions"])
    targets = yaml.safe_load(TARGETS.read_text(encoding="utf-8"))
    truth, _ = load_registry(registry_dir, "truth")
    recorded, _ = load_registry(registry_dir, "recorded")
    decisions = pd.read_parquet(registry_dir / "decisions") if (registry_dir / "decisions").exists() else None
    app_persons = (
        pd.read_parquet(registry_dir / "applications" / "persons")
        if (registry_dir / "applications" / "persons").exists()
        else None
    )

    per, fam, inc = truth.persons, truth.families, truth.incomes
    fam_pos = pd.Index(fam["family_id"]).get_indexer(per["family_id"])
    size = np.bincount(fam_pos, minlength=len(fam))
    money = inc.loc[inc["source"] != "loans"]
    money_fam = fam_pos[pd.Index(per["person_id"]).get_indexer(money["person_id"])]
    pc = np.bincount(money_fam, weights=money["amount_kzt"], minlength=len(fam)) / 3 / np.maximum(size, 1)
    sm = 56_208.0
    region = fam["region_kato"].to_numpy()

    measured: dict[str, float] = {
        "population": len(per) / scale,
        "families": len(fam) / scale,
        "poverty_rate": size[pc < sm].sum() / size.sum(),
        "people_in_households_5plus": size[size >= 5].sum() / size.sum(),
        "disability_recipients": (per["disability_group"] > 0).sum() / scale,
    }
    rows = []
    regional_rows = []
    all_regions = len(regions) == len(REGION_STATS)
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
        if app_persons is not None:
            ap = app_persons.loc[app_persons["application_id"].isin(set(recent["application_id"]))]
            qstart = pd.to_datetime(ap["application_id"].str[-6:].str[:4] + "-01-01")
            measured["recipient_child_share"] = float(
                ((qstart - ap["birth_date"]).dt.days < 18 * 365.25).mean()
            )
        y2023 = decisions.loc[decisions["officer_approved"] & decisions["quarter"].str.startswith("2023")]
        if len(y2023):
            measured["asp_per_member_2023"] = y2023["law_monthly_amount"].sum() / y2023["members"].sum()
            share = y2023["region_kato"].value_counts(normalize=True)
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
    for name, spec in targets["national"].items():
        if name not in measured:
            continue
        if not all_regions and name in (
            "population",
            "disability_recipients",
            "asp_families_stock",
            "asp_persons_stock",
            "asp_families_year",
            "asp_persons_year",
        ):
            continue  # national counts only make sense for the whole country
        rows.append(
            _row(name, measured[name], spec["value"], spec["tolerance"], spec["headline"], spec["source"])
        )
    for stats in REGION_STATS:
        kato = next(k for k, r in REGION_BY_KATO.items() if r.key == stats.key)
        if kato not in regions:
            continue
        m = region == kato
        rows.append(
            _row(
                f"population {stats.key}",
                size[m].sum() / scale,
                stats.population,
                0.10,
                False,
                stats.population_source,
                "regional",
            )
        )
        rows.append(
            _row(
                f"poverty rate {stats.key}",
                size[m & (pc < sm)].sum() / size[m].sum(),
                stats.poverty_rate,
                0.25,
                True,
                stats.poverty_source,
                "regional",
            )
        )
    rows += regional_rows

    # Gaps between the layers, for the current quarter: the law on the truth and on the recorded view.
    t_res = law(truth, quarter).set_index("family_id")["eligible"]
    r_res = law(recorded, quarter).set_index("family_id")["eligible"].reindex(t_res.index)
    gaps = {
        "truly_entitled_families": int(t_res.sum() / 1),
        "recorded_entitled_families": int(r_res.sum()),
        "missed_by_recorded": int((t_res & ~r_res).sum()),
        "wrongly_needy_in_recorded": int((~t_res & r_res).sum()),
        "scale": scale,
    }
    if decisions is not None and len(decisions):
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
    wb = levels(recorded.families, recorded.persons, recorded.incomes)
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
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
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
