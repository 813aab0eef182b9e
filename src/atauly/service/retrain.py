"""Learning from officers' corrections: a training set from the decided cases of the casework database, a
challenger trained on it, and a comparison with the champion on the same held-out decisions.

Nothing here promotes a model: the challenger is stored as the next version of the champion's name, with
the comparison and the measured selection bias in its metadata, report and card, and waits for an explicit
``atauly model promote``.

The training table is built exactly as the service builds a recommendation at intake
(:mod:`atauly.service.engine`): the stored snapshot of each application becomes a one-family slice of the
data contract (ids made unique per application the same way), is validated by the contract's validator,
the law (:func:`atauly.law.compute.compute`) runs for the application's quarter, and
:func:`atauly.model.features.family_features` builds the features with the quarter's first day as the
reference date. There is no second implementation of a feature, so no training/serving skew.

Selection bias (docs/model.md, "Learning from officers' corrections"): only families who applied are in
the data; labels are officers' decisions, not true need, made after seeing the model's recommendation
(except in blind mode), so a model trained on them partly learns its own past output back; overrides are
the informative corrections; the pilot's districts are not the country. :func:`selection_report` measures
what can be measured of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import selectinload

from atauly.law.compute import compute
from atauly.law.system import tax_benefit_system
from atauly.model import ModelStore, ModelStoreError, StoredModel, TrainConfig, TrainResult, store_trained
from atauly.model.data import DataError, Dataset, prepare
from atauly.model.features import CATEGORICAL, FEATURE_NAMES, audit_groups, family_features
from atauly.model.metrics import paired_bootstrap
from atauly.model.train import splits, train
from atauly.registry import Registry
from atauly.registry.quarter import Quarter
from atauly.registry.validate import validate

from . import audit
from .engine import Job, _frames
from .models import DECIDED_STATES, Application

#: The label: the officer's final decision (approve = 1, reject = 0).
TARGET = "officer_approved"
SOURCE = "casework database: decided applications"
#: Fewest approvals and fewest rejections the training part needs: below this the grid search's folds or
#: the calibration set can hold a single outcome, and training fails.
MIN_PER_OUTCOME = 10

#: Figures of the held-out comparison, in the order they are shown.
COMPARED = (
    ("agreement", "agreement with officers (accuracy)"),
    ("balanced_accuracy", "balanced accuracy"),
    ("roc_auc", "ROC-AUC"),
    ("override_rate", "override rate it would have caused"),
    ("agreement_on_corrections", "agreement on the officers' corrections (overridden cases)"),
    ("exclusion_error", "exclusion error (vs decisions)"),
    ("inclusion_error", "inclusion error (vs decisions)"),
    ("brier", "Brier score"),
)

#: What the training data is and is not (stored in the challenger's metadata; the card prints it).
SELECTION_BIAS = (
    "Only families who applied are in the data. Families who never applied — the ones the proactive scan "
    "looks for — are absent, so the model learns nothing about them.",
    "Labels are officers' decisions, not true need: their errors and the law's blind spots (undeclared "
    "income, stale records) are in the labels.",
    "Decisions were made after seeing the model's recommendation (except in blind mode). A model trained on "
    "decisions it influenced learns its own past output back, errors included (automation bias, feedback "
    "loop). The higher the share of labels that simply follow the recommendation shown, the more the "
    "challenger imitates the model that made it. Blind-mode decisions are less contaminated "
    "(--blind-only trains on them alone).",
    "On held-out decisions the champion has a built-in advantage when officers followed its own "
    "recommendations: agreement with them partly measures that officers agreed with the champion.",
    "Overrides are the informative corrections, but a case is only corrected if an officer looked at it "
    "closely; unreviewed mistakes stay in the labels as agreement.",
    "The districts of the pilot are not the country: their mix of families, settlements and officers' "
    "practice differs, so the challenger's metrics say nothing about districts it has not seen.",
)


class RetrainError(ValueError):
    """Retraining cannot proceed; the message says why and what to do."""


Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass
class DecidedCases:
    """The training table: ``dataset`` for :func:`atauly.model.train.train` and, row for row, ``cases``
    with what the dataset has no place for (decision time, district, override, blind mode, the
    recommendation that was shown)."""

    dataset: Dataset
    cases: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cases)

    def take(self, idx) -> DecidedCases:
        idx = np.asarray(idx)
        return replace(
            self, dataset=self.dataset.take(idx), cases=self.cases.iloc[idx].reset_index(drop=True)
        )


def _final(app: Application):
    """The last approve/reject decision (home visits are intermediate, not labels)."""
    finals = [d for d in app.decisions if d.outcome in ("approve", "reject")]
    return (finals[-1], len(finals)) if finals else (None, 0)


def _read(db: DB, blind_only: bool) -> tuple[list[dict], list[dict], dict[str, int]]:
    """Decided applications: their snapshots and one row of facts each; and counts of what was left out."""
    apps = (
        db.execute(
            select(Application)
            .where(Application.status.in_(DECIDED_STATES))
            .options(
                selectinload(Application.recommendations),
                selectinload(Application.decisions),
                selectinload(Application.assessments),
            )
            .order_by(Application.id)
        )
        .scalars()
        .all()
    )
    open_counts = dict(
        db.execute(
            select(Application.status, func.count())
            .where(Application.status.not_in(DECIDED_STATES))
            .group_by(Application.status)
        ).all()
    )
    excluded = {f"open ({status})": int(n) for status, n in sorted(open_counts.items())}
    snapshots, rows = [], []
    not_blind = no_decision = 0
    for app in apps:
        final, n_final = _final(app)
        if final is None:
            no_decision += 1
            continue
        if blind_only and not final.blind:
            not_blind += 1
            continue
        shown = next((r for r in app.recommendations if r.id == final.recommendation_id), None)
        shown = shown or app.recommendation
        assessed = [
            a.outcome
            for a in app.assessments
            if a.officer_id == final.officer_id and a.created_at <= final.decided_at
        ]
        snapshots.append(app.snapshot)
        rows.append(
            {
                "application_id": app.id,
                "family_id": app.family_id,
                "region": app.region_kato,
                "district": app.district_kato,
                "quarter": app.quarter,
                "decided_at": final.decided_at,
                "outcome": final.outcome,
                "label": final.outcome == "approve",
                "override": bool(final.override),
                "reason_code": final.reason_code,
                "blind": bool(final.blind),
                "assessment": assessed[-1] if assessed else None,
                "decided_again": n_final > 1,
                "shown_mode": shown.mode,
                "shown_model_version": shown.model_version,
                "shown_probability": shown.probability,
                "shown_recommended": bool(shown.recommended),
                "shown_eligible_by_law": bool(shown.eligible_by_law),
            }
        )
    if no_decision:
        excluded["decided status without a decision"] = no_decision
    if not_blind:
        excluded["decided with the recommendation in view (--blind-only)"] = not_blind
    return snapshots, rows, excluded


def decided_cases(
    db: DB, *, blind_only: bool = False, actor: str = "system", progress: Progress | None = None
) -> DecidedCases:
    """The training table from the decided applications (status approved or rejected) of the database.

    Label: the officer's final decision (approve = 1, reject = 0); home visits are intermediate and never
    labels; a reopened case is left out until it is decided again (then its latest decision counts).
    Group: the family (a family never straddles cross-validation folds). ``blind_only``: only decisions
    made in blind mode (the officer's own assessment recorded before the recommendation was shown).

    Reading the snapshots is a read of personal data: it is audited (``training_data.read``) in the
    database's audit chain, with counts only.
    """
    step = progress or (lambda _label, _done, _total: None)
    step("Reading decided cases", 0, 2)
    snapshots, rows, excluded = _read(db, blind_only)
    audit.append(
        db,
        "training_data.read",
        actor=actor,
        role="system",
        object_type="training_set",
        object_id="decided_cases",
        detail={"applications": len(rows), "blind_only": blind_only, "purpose": "model retraining"},
    )
    db.commit()  # releases the database (SQLite's write lock) before the law and the features run
    cases = pd.DataFrame(rows, columns=_CASE_COLUMNS)
    notes: list[str] = []
    if not len(cases):
        return DecidedCases(_empty_dataset(), cases, notes, excluded)

    step("The law and features, as at intake", 1, 2)
    jobs = [Job(s, q, True) for s, q in zip(snapshots, cases["quarter"], strict=True)]
    fam, per, inc = _frames(jobs)
    fam, per, inc, report = validate(fam, per, inc)
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    keep = np.ones(len(cases), dtype=bool)
    if not report.ok:
        bad = report.invalid_family_ids()
        keep = ~fam["family_id"].isin(bad).to_numpy()
        reg = reg.take(keep)
        excluded["snapshot no longer passes the data contract's validator"] = int((~keep).sum())
        cases = cases.loc[keep].reset_index(drop=True)
    quarters = cases["quarter"].astype(str).to_numpy()
    tbs = tax_benefit_system()
    features, laws, audits, order = [], [], [], []
    for quarter in np.unique(quarters):
        mask = quarters == quarter
        part = reg.take(mask)
        law = compute(part, str(quarter), tbs)
        features.append(family_features(part, law, Quarter.parse(str(quarter)).start_time))
        laws.append(law)
        audits.append(audit_groups(part, law["members"].to_numpy()))
        order.append(np.flatnonzero(mask))
    back = np.argsort(np.concatenate(order), kind="stable")

    def stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(frames, ignore_index=True).iloc[back].reset_index(drop=True)

    features, law, groups = stacked(features), stacked(laws), stacked(audits)
    groups["district"] = cases["district"].to_numpy()
    law_eligible = law["eligible"].to_numpy(dtype=bool)
    changed = int((law_eligible != cases["shown_eligible_by_law"].to_numpy(dtype=bool)).sum())
    if changed:
        notes.append(
            f"the law now finds {changed} of {len(cases)} cases differently from the result recorded at "
            "intake (a newer law version or parameters); the features use today's law"
        )
    numeric = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    ds = Dataset(
        X=prepare(features, numeric, list(CATEGORICAL)),
        y=cases["label"].to_numpy(dtype=bool),
        ids=cases["application_id"].astype(str).to_numpy(),
        groups=cases["family_id"].astype(str).to_numpy(),
        audit=groups,
        kind="registry",
        target=TARGET,
        numeric=numeric,
        categorical=list(CATEGORICAL),
        period=quarters,
        rules={
            "law_as_applied": law_eligible,
            "recommendation_shown": cases["shown_recommended"].to_numpy(dtype=bool),
        },
        notes=notes,
        view="application",
    )
    return DecidedCases(ds, cases, notes, excluded)


_CASE_COLUMNS = [
    "application_id",
    "family_id",
    "region",
    "district",
    "quarter",
    "decided_at",
    "outcome",
    "label",
    "override",
    "reason_code",
    "blind",
    "assessment",
    "decided_again",
    "shown_mode",
    "shown_model_version",
    "shown_probability",
    "shown_recommended",
    "shown_eligible_by_law",
]


def _empty_dataset() -> Dataset:
    numeric = [c for c in FEATURE_NAMES if c not in CATEGORICAL]
    return Dataset(
        X=pd.DataFrame(columns=[*numeric, *CATEGORICAL]),
        y=np.zeros(0, dtype=bool),
        ids=np.zeros(0, dtype=object),
        groups=np.zeros(0, dtype=object),
        audit=pd.DataFrame(),
        kind="registry",
        target=TARGET,
        numeric=numeric,
        categorical=list(CATEGORICAL),
        period=np.zeros(0, dtype=object),
        view="application",
    )


# --- the measured selection bias -----------------------------------------------------------------------


def _share(mask) -> float | None:
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if len(mask) else None


def selection_report(cases: pd.DataFrame, excluded: dict[str, int] | None = None) -> dict:
    """What can be measured of the training data's selection bias (``cases`` of :class:`DecidedCases`)."""
    from atauly.registry.codes import district_catalogue

    follows = (cases["outcome"] == np.where(cases["shown_recommended"], "approve", "reject")).to_numpy()
    blind = cases["blind"].to_numpy(dtype=bool)
    # Blind mode: the officer's own assessment disagreed with the recommendation shown afterwards — how
    # often did the final decision then follow the recommendation? (automation bias, measured)
    assessed = cases["assessment"].isin(["approve", "reject"]).to_numpy()
    shown = np.where(cases["shown_recommended"], "approve", "reject")
    disagreed = blind & assessed & (cases["assessment"].to_numpy() != shown)
    catalogue = district_catalogue()
    overrides = cases.loc[cases["override"].astype(bool), "reason_code"].fillna("none")
    return {
        "cases": int(len(cases)),
        "approved_share": _share(cases["label"]),
        "labels_follow_shown_recommendation": _share(follows),
        "labels_follow_shown_recommendation_blind": _share(follows[blind]),
        "labels_follow_shown_recommendation_not_blind": _share(follows[~blind]),
        "labels_agree_with_law": _share(cases["label"].to_numpy(bool) == cases["shown_eligible_by_law"]),
        "overrides": int(cases["override"].astype(bool).sum()),
        "override_share": _share(cases["override"].astype(bool)),
        "overrides_by_reason": {str(k): int(v) for k, v in overrides.value_counts().items()},
        "blind_share": _share(blind),
        "blind_assessment_disagreed": int(disagreed.sum()),
        "blind_then_followed_recommendation": int((disagreed & follows).sum()),
        "law_only_share": _share(cases["shown_mode"] == "law"),
        "shown_by": {
            str(k): int(v)
            for k, v in cases["shown_model_version"].fillna("law only").value_counts().sort_index().items()
        },
        "decided_again_after_reopening": int(cases["decided_again"].astype(bool).sum()),
        "districts": {str(k): int(v) for k, v in cases["district"].value_counts().sort_index().items()},
        "regions": sorted(set(cases["region"].astype(str))),
        "districts_in_country": len(catalogue),
        "regions_in_country": len(set(catalogue.values())),
        "excluded": dict(excluded or {}),
    }


# --- the held-out comparison ------------------------------------------------------------------------


def time_split(cases: pd.DataFrame, holdout: float) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): the most recent ``holdout`` share of cases by decision time is held
    out (ties broken by application id)."""
    order = np.lexsort((cases["application_id"].to_numpy(), pd.to_datetime(cases["decided_at"]).to_numpy()))
    n_hold = min(max(int(round(holdout * len(cases))), 1), len(cases) - 1)
    return np.sort(order[: len(cases) - n_hold]), np.sort(order[len(cases) - n_hold :])


def _figures(paired: dict, part: str, corrections: dict) -> dict:
    """Point values and intervals of :data:`COMPARED` for ``part`` (first, second or difference)."""
    point, ci = paired[part], paired[f"{part}_ci"]
    sign = -1.0 if part == "difference" else None  # override rate = 1 − accuracy; its difference = −Δacc

    def override(v):
        return sign * v if sign else 1.0 - v

    lo, hi = ci["accuracy"]
    out = {
        "agreement": (point["accuracy"], ci["accuracy"]),
        "balanced_accuracy": (point["balanced_accuracy"], ci["balanced_accuracy"]),
        "roc_auc": (point["roc_auc"], ci["roc_auc"]),
        "override_rate": (override(point["accuracy"]), (override(hi), override(lo))),
        "agreement_on_corrections": (corrections[part]["accuracy"], corrections[f"{part}_ci"]["accuracy"]),
        "exclusion_error": (point["exclusion_error"], ci["exclusion_error"]),
        "inclusion_error": (point["inclusion_error"], ci["inclusion_error"]),
        "brier": (point["brier"], ci["brier"]),
    }
    return {k: {"value": _num(v), "ci": [_num(c[0]), _num(c[1])]} for k, (v, c) in out.items()}


def _num(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def compare(
    y, groups, overridden, first: tuple, second: tuple, n_boot: int = 200, seed: int = 0
) -> dict[str, dict]:
    """``first`` and ``second`` ((prob, recommended)) on the same cases, with family-bootstrap 95% intervals
    and the paired difference second − first."""
    paired = paired_bootstrap(y, first, second, groups, n_boot, seed)
    corrections = paired_bootstrap(y, first, second, groups, n_boot, seed, subset=overridden)
    return {part: _figures(paired, part, corrections) for part in ("first", "second", "difference")}


def config_for(champion: StoredModel | None, **changes) -> TrainConfig:
    """The training configuration: the champion's threshold policy and quality-gate minimums (so the two
    are compared at the same kind of operating point), else the defaults."""
    params = champion.metadata.get("params", {}) if champion is not None else {}
    keep = ("threshold", "target_exclusion", "min_roc_auc", "min_balanced_accuracy", "policy", "policy_value")
    return TrainConfig(**{k: params[k] for k in keep if k in params}, **changes)


@dataclass
class RetrainResult:
    stored: StoredModel
    champion: str | None
    comparison: dict
    selection: dict
    train_result: TrainResult
    notes: list[str]

    @property
    def ref(self) -> str:
        return f"{self.stored.name}@{self.stored.version}"

    @property
    def promote_command(self) -> str:
        return f"atauly model promote --model {self.stored.name} --version {self.stored.version}"


def retrain(
    db: DB,
    store: ModelStore,
    name: str,
    *,
    holdout: float = 0.2,
    min_cases: int = 100,
    seed: int = 0,
    blind_only: bool = False,
    config: TrainConfig | None = None,
    n_boot: int | None = None,
    n_jobs: int | None = None,
    progress: Progress | None = None,
    actor: str = "system",
) -> RetrainResult:
    """Train a challenger on the decided cases, compare it with ``name``'s champion on the same held-out
    decisions (the most recent ``holdout`` share by decision time, never used for training) and store it
    as the next version of ``name``. Never promotes. Raises :class:`RetrainError` with a clear message.

    ``config``: the training configuration (default: :func:`config_for` the champion, with ``seed`` and
    ``n_jobs``); ``n_boot``: bootstrap replicates of the comparison (default: the configuration's).
    """
    step = progress or (lambda _label, _done, _total: None)
    if not 0 < holdout < 1:
        raise RetrainError(f"--holdout must be between 0 and 1 (got {holdout})")
    if min_cases < 2:
        raise RetrainError("--min-cases must be at least 2")
    try:
        store.check_name(name)
        champion_version = store.aliases(name)["champion"]
        champion = store.load(f"{name}@{champion_version}") if champion_version else None
    except ModelStoreError as exc:
        raise RetrainError(str(exc)) from None
    if champion is not None and champion.metadata.get("kind") != "registry":
        raise RetrainError(
            f"{champion.name}@{champion.version} was trained on a table, not on the data contract: "
            "it cannot be compared on casework decisions"
        )
    champion_ref = f"{champion.name}@{champion.version}" if champion else None
    if config is None:
        config = config_for(champion, seed=seed, **({"n_jobs": n_jobs} if n_jobs else {}))
    n_boot = config.n_boot if n_boot is None else n_boot

    t0 = time.perf_counter()
    data = decided_cases(db, blind_only=blind_only, actor=actor, progress=step)
    what = "decided cases in blind mode" if blind_only else "decided cases (approved or rejected)"
    if len(data) < min_cases:
        raise RetrainError(
            f"{len(data)} {what} in the database; at least {min_cases} are needed (--min-cases). "
            "Decide more applications first."
        )
    if len(np.unique(data.dataset.y)) < 2:
        outcome = "approved" if data.dataset.y.all() else "rejected"
        raise RetrainError(
            f"all {len(data)} {what} were {outcome}: a classifier needs both approvals and rejections"
        )
    train_rows, hold_rows = time_split(data.cases, holdout)
    fit, held = data.take(train_rows), data.take(hold_rows)
    if len(np.unique(fit.dataset.y)) < 2:
        raise RetrainError(
            "the training part (all but the most recent decisions) has only one outcome; lower --holdout "
            "or decide more cases"
        )
    approvals = int(fit.dataset.y.sum())
    fewest = min(approvals, len(fit) - approvals)
    if fewest < MIN_PER_OUTCOME:
        raise RetrainError(
            f"the training part has {approvals} approvals and {len(fit) - approvals} rejections; at least "
            f"{MIN_PER_OUTCOME} of each are needed to train and calibrate. Decide more cases first."
        )
    notes = list(data.notes)
    if len(np.unique(held.dataset.y)) < 2:
        notes.append(
            "the held-out decisions have a single outcome: ROC-AUC and balanced accuracy cannot be computed"
        )

    n_train_steps = 2 + len(splits(fit.dataset, config)) * (3 if config.baselines else 2)
    total = 2 + n_train_steps + 3
    done = [2]

    def train_step(label: str) -> None:
        step(f"Training the challenger: {label}", done[0], total)
        done[0] += 1

    try:
        result = train(fit.dataset, config, train_step)
    except (ValueError, IndexError) as exc:  # a fold or calibration set with a single outcome
        raise RetrainError(
            f"training failed on {len(fit)} cases ({exc}); decide more cases, or lower --holdout"
        ) from None
    result.timings["total_seconds"] = time.perf_counter() - t0

    step("Scoring the champion and the challenger on the held-out decisions", total - 3, total)
    X = held.dataset.X
    y = held.dataset.y
    challenger_prob = result.model.predict_proba(X)[:, 1]
    challenger = (challenger_prob, challenger_prob >= result.threshold)
    shown = (None, held.cases["shown_recommended"].to_numpy(dtype=bool))
    if champion is not None:
        schema = champion.metadata["features"]
        try:
            champion_X = prepare(X, list(schema["numeric"]), list(schema["categorical"]))
        except DataError as exc:
            raise RetrainError(f"{champion_ref} expects features this code does not build: {exc}") from None
        champion_prob = champion.estimator.predict_proba(champion_X)[:, 1]
        incumbent = (champion_prob, champion_prob >= champion.threshold)
    else:
        incumbent = shown

    step("Comparing (family bootstrap)", total - 2, total)
    groups = held.dataset.groups
    overridden = held.cases["override"].to_numpy(dtype=bool)
    figures = compare(y, groups, overridden, incumbent, challenger, n_boot, config.seed)
    shown_figures = compare(y, groups, overridden, shown, shown, n_boot, config.seed)["first"]
    hold_cases, fit_cases = held.cases, fit.cases
    comparison = {
        "holdout_share": holdout,
        "held_out": int(len(held)),
        "held_out_families": int(len(np.unique(groups))),
        "held_out_positive_share": float(y.mean()),
        "held_out_overrides": int(overridden.sum()),
        "held_out_families_also_in_training": int(
            np.isin(np.unique(groups), np.unique(fit.dataset.groups)).sum()
        ),
        "held_out_decided": [str(hold_cases["decided_at"].min()), str(hold_cases["decided_at"].max())],
        "training_decided": [str(fit_cases["decided_at"].min()), str(fit_cases["decided_at"].max())],
        "training_cases": int(len(fit)),
        "champion": champion_ref,
        "champion_threshold": champion.threshold if champion else None,
        "challenger_threshold": float(result.threshold),
        "held_out_shown_by_champion": _share(hold_cases["shown_model_version"] == champion_ref)
        if champion_ref
        else None,
        "n_boot": n_boot,
        "seed": config.seed,
        "metrics": {
            key: {
                "champion": figures["first"][key] if champion else None,
                "challenger": figures["second"][key],
                "difference": figures["difference"][key] if champion else None,
                "shown": shown_figures[key],
            }
            for key, _label in COMPARED
        },
        "labels": dict(COMPARED),
    }
    if champion is None:
        notes.append(
            f"{name} has no champion: the challenger is compared with nothing but the recommendations that "
            "were shown, and it is not promoted"
        )
    selection = selection_report(fit_cases, data.excluded)
    selection["blind_only"] = blind_only
    step("Storing the challenger (not promoted)", total - 1, total)
    fit.dataset.notes = [*notes, "trained on officers' decisions from the casework database: see 'retrain'"]
    stored, _promoted = store_trained(
        fit.dataset,
        result,
        store,
        name,
        SOURCE + (" (blind mode only)" if blind_only else ""),
        extra={"cases": int(len(fit)), "held_out": int(len(held)), "blind_only": blind_only},
        sections={
            "retrain": {
                "champion": champion_ref,
                "promoted": False,
                "comparison": comparison,
                "selection": selection,
                "selection_bias": list(SELECTION_BIAS),
                "notes": notes,
            }
        },
        promote_first=False,  # a retrained challenger is never promoted here
    )
    step("Done", total, total)
    return RetrainResult(stored, champion_ref, comparison, selection, result, notes)
