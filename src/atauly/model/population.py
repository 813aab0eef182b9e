"""Figures over the whole population, not only over applicants (issue 14; DESIGN.md principle 3).

Most truly entitled families never apply, so an exclusion error measured among applicants says little
about the programme. For a registry with a truth layer (the synthetic one) this module gives, for the
evaluated quarter:

* **coverage of the truly entitled** (1 − system exclusion error) and **leakage** (inclusion error: the
  share of selected families not entitled) over *all* families, nationally and by region, urban/rural and
  sex of the head, each with a Wilson 95% interval (honest for small groups and for groups without
  errors, where a percentile bootstrap collapses to zero width); groups with fewer than
  :data:`SMALL_GROUP` entitled or selected families are flagged;
* the **model against the law on the same data at equal coverage**: the model selects as many families
  as the law does (its top scores), and both are compared with the truth, with paired intervals from a
  family bootstrap (the same resampled families for both);
* the same comparison on the **verification sample** (a random ~1% of all families with verified true
  welfare, ``verification/``): the only ground a ministry would have, and the one the quality gate uses.

Selections are sets of family ids; a family that did not apply is not selected by any path that works on
applications. Entitlement is the law on the full true information (``truth/``) of the quarter.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.i18n import N_
from atauly.registry.intervals import wilson_interval

from .phrases import Phrase, record
from .wording import Words

#: Groups with fewer entitled (or selected) families than this are flagged as too small to read.
SMALL_GROUP = 30
GROUP_COLUMNS = ("region", "settlement", "sex_of_head")


def population_frame(directory: Path | str, quarter: str) -> pd.DataFrame | None:
    """One row per family of the registry for ``quarter``: its groups, whether it is truly entitled (the
    law on ``truth/``; only for the registry's own quarter), whether it applied and what the officer and
    the law on the application decided, and the verification sample's finding where it was verified.
    None when the registry has no truth layer."""
    from atauly.law.compute import compute
    from atauly.registry import load_registry

    directory = Path(directory)
    manifest = directory / "manifest.json"
    if not (directory / "truth").is_dir() or not manifest.exists():
        return None
    if json.loads(manifest.read_text(encoding="utf-8")).get("quarter") != quarter:
        return None  # truth/ holds one quarter; other quarters only have the verification sample
    truth, _ = load_registry(directory, "truth")
    law = compute(truth, quarter)
    fam = truth.families
    heads = truth.persons.loc[truth.persons["role"] == "applicant", ["family_id", "sex"]]
    out = pd.DataFrame(
        {
            "family_id": fam["family_id"].astype(str).to_numpy(),
            "region": fam["region_kato"].astype(str).to_numpy(),
            "settlement": fam["settlement_type"].astype(str).to_numpy(),
            "entitled": law["eligible"].to_numpy(dtype=bool),
        }
    )
    out["sex_of_head"] = out["family_id"].map(heads.set_index("family_id")["sex"].astype(str)).fillna("?")
    if "consumption_poor" in fam:
        out["consumption_poor"] = fam["consumption_poor"].to_numpy(dtype=bool)
    dec_dir = directory / "decisions"
    if dec_dir.exists():
        dec = pd.read_parquet(dec_dir, columns=["family_id", "quarter", "officer_approved", "law_eligible"])
        dec = (
            dec.loc[dec["quarter"].astype(str) == quarter].drop_duplicates("family_id").set_index("family_id")
        )
        out["applied"] = out["family_id"].isin(dec.index)
        out["officer_approved"] = out["family_id"].map(dec["officer_approved"]).fillna(False).astype(bool)
        out["law_on_application"] = out["family_id"].map(dec["law_eligible"]).fillna(False).astype(bool)
    ver_dir = directory / "verification"
    out["verified"] = False
    if ver_dir.exists():
        ver = pd.read_parquet(ver_dir)
        ver = ver.loc[ver["quarter"].astype(str) == quarter]
        if "random_sample" in ver:
            # The stratified part oversamples families whose records look poor: population figures read
            # the simple random part alone, a sample of the whole population.
            ver = ver.loc[ver["random_sample"].astype(bool)]
        ver = ver.set_index("family_id")
        out["verified"] = out["family_id"].isin(ver.index)
        out["verified_entitled"] = out["family_id"].map(ver["true_eligible"]).fillna(False).astype(bool)
    return out


def rates(entitled: np.ndarray, selected: np.ndarray) -> dict:
    """Coverage of the entitled, exclusion and inclusion (leakage) errors with Wilson 95% intervals."""
    entitled, selected = np.asarray(entitled, dtype=bool), np.asarray(selected, dtype=bool)
    n_e, n_s = int(entitled.sum()), int(selected.sum())
    covered, leaked = int((entitled & selected).sum()), int((selected & ~entitled).sum())
    cov_lo, cov_hi = wilson_interval(covered, n_e)
    inc_lo, inc_hi = wilson_interval(leaked, n_s)

    def share(k: int, n: int) -> float | None:
        return k / n if n else None

    def bound(x) -> float | None:
        return None if np.isnan(x) else float(x)

    return {
        "families": int(len(entitled)),
        "entitled": n_e,
        "selected": n_s,
        "coverage": share(covered, n_e),
        "coverage_ci": [bound(cov_lo), bound(cov_hi)],
        "exclusion_error": None if not n_e else 1 - covered / n_e,
        "exclusion_error_ci": [bound(1 - cov_hi), bound(1 - cov_lo)],
        "inclusion_error": share(leaked, n_s),
        "inclusion_error_ci": [bound(inc_lo), bound(inc_hi)],
        "small_group": n_e < SMALL_GROUP or n_s < SMALL_GROUP,
    }


def by_group(pop: pd.DataFrame, selected: np.ndarray, truth: str = "entitled") -> list[dict]:
    """:func:`rates` nationally and for each region, settlement type and sex of the head."""
    entitled = pop[truth].to_numpy(dtype=bool)
    rows = [{"group": "all", "value": "all", **rates(entitled, selected)}]
    for column in GROUP_COLUMNS:
        if column not in pop:
            continue
        values = pop[column].to_numpy()
        for value in sorted(pd.unique(values)):
            here = values == value
            rows.append({"group": column, "value": str(value), **rates(entitled[here], selected[here])})
    return rows


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` highest scores (ties broken by position, so the choice is reproducible)."""
    scores = np.asarray(scores, dtype=float)
    chosen = np.zeros(len(scores), dtype=bool)
    if k > 0:
        order = np.lexsort((np.arange(len(scores)), -np.nan_to_num(scores, nan=-np.inf)))
        chosen[order[:k]] = True
    return chosen


def equal_coverage(
    entitled: np.ndarray,
    model_score: np.ndarray,
    eligible_pool: np.ndarray,
    law_selected: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
) -> dict:
    """The model vs the law on the same data at equal coverage: the model selects, among the families in
    ``eligible_pool`` (those it can score: the applicants, say), as many as the law selects. Both are
    compared with ``entitled`` over all rows (families outside the pool count as not selected). Paired
    intervals from a family bootstrap (Poisson weights: every family resampled with the same weight for
    both selections). A positive difference means the model errs more."""
    entitled = np.asarray(entitled, dtype=bool)
    law_selected = np.asarray(law_selected, dtype=bool)
    pool = np.asarray(eligible_pool, dtype=bool)
    k = int(law_selected.sum())
    score = np.where(pool, np.asarray(model_score, dtype=float), -np.inf)
    model_selected = top_k(score, min(k, int(pool.sum())))
    model, law = rates(entitled, model_selected), rates(entitled, law_selected)
    out = {
        "selected": k,
        "model": model,
        "law": law,
        "difference": {},
        "boot": int(n_boot),
    }

    def errors(w: np.ndarray, sel: np.ndarray) -> tuple[float, float]:
        n_e, n_s = (w * entitled).sum(), (w * sel).sum()
        exc = (w * (entitled & ~sel)).sum() / n_e if n_e else np.nan
        inc = (w * (sel & ~entitled)).sum() / n_s if n_s else np.nan
        return exc, inc

    ones = np.ones(len(entitled))
    point = [a - b for a, b in zip(errors(ones, model_selected), errors(ones, law_selected), strict=True)]
    draws = []
    if n_boot and len(entitled):
        rng = np.random.default_rng(seed)
        # Only rows that matter (entitled or selected by either) change a figure: weights for them alone.
        relevant = np.flatnonzero(entitled | model_selected | law_selected)
        e, m, lsel = entitled[relevant], model_selected[relevant], law_selected[relevant]
        for _ in range(n_boot):
            w = rng.poisson(1.0, len(relevant)).astype(float)
            n_e = (w * e).sum()
            me = (w * (e & ~m)).sum() / n_e if n_e else np.nan
            le = (w * (e & ~lsel)).sum() / n_e if n_e else np.nan
            nm, nl = (w * m).sum(), (w * lsel).sum()
            mi = (w * (m & ~e)).sum() / nm if nm else np.nan
            li = (w * (lsel & ~e)).sum() / nl if nl else np.nan
            draws.append((me - le, mi - li))
    draws = np.asarray(draws, dtype=float).reshape(-1, 2)
    for i, name in enumerate(("exclusion_error", "inclusion_error")):
        ci = [None, None]
        finite = draws[:, i][np.isfinite(draws[:, i])] if len(draws) else np.array([])
        if len(finite):
            ci = [float(np.quantile(finite, 0.025)), float(np.quantile(finite, 0.975))]
        value = point[i]
        out["difference"][name] = {"value": None if np.isnan(value) else float(value), "ci": ci}
    return out


def evaluate_population(
    pop: pd.DataFrame,
    app_family: np.ndarray,
    prob: np.ndarray,
    recommended: np.ndarray,
    law_rule: np.ndarray,
    law_name: str,
    n_boot: int = 200,
    seed: int = 0,
) -> dict:
    """Population-level figures of one quarter's applications: the officer (the system as it is), the
    law on the same data as the model, the model at its threshold, and the model vs the law at equal
    coverage — over all families (truth) and on the verification sample. ``app_family``, ``prob``,
    ``recommended`` and ``law_rule`` are per application of that quarter."""
    fam_index = pd.Index(pop["family_id"])
    pos = fam_index.get_indexer(pd.Series(app_family).astype(str))
    ok = pos >= 0
    pos, prob, recommended, law_rule = pos[ok], prob[ok], recommended[ok], law_rule[ok]
    n = len(pop)

    def at_family(values, fill, dtype):
        arr = np.full(n, fill, dtype=dtype)
        arr[pos] = values
        return arr

    model_sel = at_family(recommended, False, bool)
    law_sel = at_family(law_rule, False, bool)
    score = at_family(prob, -np.inf, float)
    pool = at_family(True, False, bool)
    paths = {"model": model_sel, law_name: law_sel}
    if "officer_approved" in pop:
        paths = {"officer (system)": pop["officer_approved"].to_numpy(dtype=bool), **paths}
    out = {
        "families": int(n),
        "entitled": int(pop["entitled"].sum()),
        "applications": int(len(pos)),
        "takeup_among_entitled": float(pop.loc[pop["entitled"], "applied"].mean())
        if "applied" in pop and pop["entitled"].any()
        else None,
        "law_name": law_name,
        "paths": {name: by_group(pop, sel) for name, sel in paths.items()},
        "equal_coverage": equal_coverage(pop["entitled"].to_numpy(), score, pool, law_sel, n_boot, seed),
    }
    if "consumption_poor" in pop:
        out["vs_consumption_poverty"] = {
            name: rates(pop["consumption_poor"].to_numpy(dtype=bool), sel) for name, sel in paths.items()
        }
    verified = pop["verified"].to_numpy(dtype=bool) if "verified" in pop else np.zeros(n, dtype=bool)
    if verified.any():
        v_truth = pop["verified_entitled"].to_numpy(dtype=bool)[verified]
        out["verification_sample"] = {
            "families": int(verified.sum()),
            "entitled": int(v_truth.sum()),
            "equal_coverage": equal_coverage(
                v_truth, score[verified], pool[verified], law_sel[verified], n_boot, seed
            ),
        }
    return out


def gate_check(population: dict | None, min_entitled: int = 20) -> dict:
    """The quality gate's test against the truth: the model at equal coverage must do at least as well as
    the law on the same data — it fails when it is worse with confidence (the paired 95% interval of its
    exclusion error minus the law's lies above 0). On the verification sample when it holds at least
    ``min_entitled`` truly entitled families (the ground a ministry would have), otherwise on every
    family (synthetic truth); not assessed without a truth layer."""
    if not population:
        return {
            "assessed": False,
            "passed": True,
            "reason": "no truth layer: not assessed",
            "reason_code": {"code": "truth.not_assessed"},
        }
    ver = population.get("verification_sample")
    if ver and ver["entitled"] >= min_entitled:
        ground, comp = "the verification sample", ver["equal_coverage"]
    else:
        ground, comp = "all families (synthetic truth)", population["equal_coverage"]
    diff = comp["difference"]["exclusion_error"]
    lo = diff["ci"][0]
    worse = lo is not None and lo > 0
    value = diff["value"]
    text = Phrase(
        "truth.equal_coverage",
        f"at equal coverage on {ground}, the model's exclusion error minus the law's is "
        f"{'n/a' if value is None else format(value, '+.3f')}"
        + (f" [{diff['ci'][0]:+.3f}, {diff['ci'][1]:+.3f}]" if diff["ci"][0] is not None else ""),
        where="verification" if ver and ver["entitled"] >= min_entitled else "synthetic",
        value=value,
        lo=diff["ci"][0],
        hi=diff["ci"][1],
    )
    return {
        "assessed": True,
        "passed": not worse,
        "ground": ground,
        "reason": str(text),
        "reason_code": record(text),
    }


# -- text and tables for the report and the model card ----------------------------------------------
#: The population table's columns (English; :func:`population_header` says them in a language).
POPULATION_HEADER = [
    N_("path"),
    N_("group"),
    N_("entitled"),
    N_("selected"),
    N_("coverage of the entitled [95% CI]"),
    N_("inclusion error [95% CI]"),
    "",
]


def population_header(w=None) -> list[str]:
    w = w or Words()
    return [w.t(h) if h else "" for h in POPULATION_HEADER]


def population_rows(population: dict, w=None) -> list[list[str]]:
    """One row per path (officer, law, model) and group: coverage and leakage with Wilson intervals."""
    w = w or Words()
    rows = []
    for path, groups in population["paths"].items():
        for g in groups:
            label = (
                w.t("all families")
                if g["group"] == "all"
                else f"{w.column(g['group'])}: {w.group(g['group'], g['value'])}"
            )
            rows.append(
                [
                    w.model(path),
                    label,
                    w.n(g["entitled"]),
                    w.n(g["selected"]),
                    w.ci(g["coverage"], *g["coverage_ci"]),
                    w.ci(g["inclusion_error"], *g["inclusion_error_ci"]),
                    w.t("small group") if g["small_group"] else "",
                ]
            )
    return rows


def _diff(d: dict, w) -> str:
    if d["value"] is None:
        return w.t("n/a")
    return w.ci(d["value"], *(d["ci"] or (None, None)), signed=True)


def population_text(population: dict | None, w=None) -> list[str]:
    """Paragraphs for the report and the card: who is covered over the whole population, and the model
    vs the law on the same data at equal coverage (all families and the verification sample)."""
    w = w or Words()
    if not population:
        return []
    takeup = population.get("takeup_among_entitled")
    out = [
        w.t(
            "Over all {families} families of {quarter} (not only the {applications} applications), {entitled} are "
            "truly entitled (the law on the full true information)",
            families=w.n(population["families"]),
            quarter=w.period(population["quarter"]),
            applications=w.n(population["applications"]),
            entitled=w.n(population["entitled"]),
        )
        + (w.t("; {share} of them applied", share=w.pct(takeup)) if takeup is not None else "")
        + w.t(
            ". Coverage is the share of them selected (1 − exclusion error); a family that did not apply is "
            "selected by no path that works on applications. Intervals: Wilson 95%."
        )
    ]
    ec = population["equal_coverage"]
    out.append(
        w.t(
            "Model against the {law} on the same data, at equal coverage (both select {selected} families): "
            "exclusion error {model} (model) against {law_error} (law), difference {difference}; inclusion error "
            "difference {inclusion} (paired family bootstrap, {draws} draws; positive: the model errs more).",
            law=w.model(population["law_name"]),
            selected=w.n(ec["selected"]),
            model=w.ci(ec["model"]["exclusion_error"], *ec["model"]["exclusion_error_ci"]),
            law_error=w.ci(ec["law"]["exclusion_error"], *ec["law"]["exclusion_error_ci"]),
            difference=_diff(ec["difference"]["exclusion_error"], w),
            inclusion=_diff(ec["difference"]["inclusion_error"], w),
            draws=w.n(ec["boot"]),
        )
    )
    ver = population.get("verification_sample")
    if ver:
        d = ver["equal_coverage"]["difference"]
        out.append(
            w.t(
                "On the verification sample ({families} families with verified welfare, {entitled} entitled): "
                "exclusion error difference {exclusion}, inclusion {inclusion}",
                families=w.n(ver["families"]),
                entitled=w.n(ver["entitled"]),
                exclusion=_diff(d["exclusion_error"], w),
                inclusion=_diff(d["inclusion_error"], w),
            )
            + (w.t(" — too few entitled families to judge.") if ver["entitled"] < 20 else ".")
        )
    return out
