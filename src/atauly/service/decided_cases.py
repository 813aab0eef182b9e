"""The training table of retraining: the decided cases of the casework database, each snapshot made into
the data contract exactly as at intake, and what can be measured of the table's selection bias.

The stored snapshot of each application becomes a one-family slice of the data contract (ids made unique
per application by :func:`atauly.service.engine.frames`, as at intake), is validated by the contract's
validator, the law (:func:`atauly.law.compute.compute`) runs for the application's quarter, and
:func:`atauly.model.features.family_features` builds the features with the quarter's first day as the
reference date. There is no second implementation of a feature, so no training/serving skew.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import selectinload

from atauly.law.compute import compute
from atauly.law.system import tax_benefit_system
from atauly.model.data import Dataset, prepare
from atauly.model.features import CATEGORICAL, FEATURE_NAMES, audit_groups, family_features, feature_columns
from atauly.registry import Registry
from atauly.registry.quarter import Quarter
from atauly.registry.validate import validate

from . import audit
from .engine import Job, frames
from .facts import with_facts
from .models import DECIDED_STATES, Application

#: The label: the officer's final decision (approve = 1, reject = 0).
TARGET = "officer_approved"

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
        # the tables the decision was made on: with the confirmed facts its recommendation used
        snapshots.append(with_facts(app.snapshot, shown.facts))
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
    reg, cases = _validated(snapshots, cases, excluded)
    quarters = cases["quarter"].astype(str).to_numpy()
    features, law, groups = _law_and_features(reg, quarters)
    groups["district"] = cases["district"].to_numpy()
    law_eligible = law["eligible"].to_numpy(dtype=bool)
    changed = int((law_eligible != cases["shown_eligible_by_law"].to_numpy(dtype=bool)).sum())
    if changed:
        notes.append(
            f"the law now finds {changed} of {len(cases)} cases differently from the result recorded at "
            "intake (a newer law version or parameters); the features use today's law"
        )
    numeric, categorical = feature_columns(features)  # the act's dwelling columns only where present
    ds = Dataset(
        X=prepare(features, numeric, categorical),
        y=cases["label"].to_numpy(dtype=bool),
        ids=cases["application_id"].astype(str).to_numpy(),
        groups=cases["family_id"].astype(str).to_numpy(),
        audit=groups,
        kind="registry",
        target=TARGET,
        numeric=numeric,
        categorical=categorical,
        period=quarters,
        rules={
            "law_as_applied": law_eligible,
            "recommendation_shown": cases["shown_recommended"].to_numpy(dtype=bool),
        },
        notes=notes,
        view="application",
    )
    return DecidedCases(ds, cases, notes, excluded)


def _validated(snapshots: list[dict], cases: pd.DataFrame, excluded: dict[str, int]):
    """The snapshots as one registry, made exactly as at intake (:func:`atauly.service.engine.frames`) and
    validated; cases whose snapshot no longer passes the validator are left out (and counted)."""
    jobs = [Job(s, q, True) for s, q in zip(snapshots, cases["quarter"], strict=True)]
    fam, per, inc = frames(jobs)
    fam, per, inc, report = validate(fam, per, inc)
    reg = Registry(fam, per, inc, report.person_family, report.income_person)
    if not report.ok:
        bad = report.invalid_family_ids()
        keep = ~fam["family_id"].isin(bad).to_numpy()
        reg = reg.take(keep)
        excluded["snapshot no longer passes the data contract's validator"] = int((~keep).sum())
        cases = cases.loc[keep].reset_index(drop=True)
    return reg, cases


def _law_and_features(reg: Registry, quarters: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(features, the law's result, audit groups) of each case, the law run for the case's quarter."""
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

    return stacked(features), stacked(laws), stacked(audits)


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


def share(mask) -> float | None:
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
        "approved_share": share(cases["label"]),
        "labels_follow_shown_recommendation": share(follows),
        "labels_follow_shown_recommendation_blind": share(follows[blind]),
        "labels_follow_shown_recommendation_not_blind": share(follows[~blind]),
        "labels_agree_with_law": share(cases["label"].to_numpy(bool) == cases["shown_eligible_by_law"]),
        "overrides": int(cases["override"].astype(bool).sum()),
        "override_share": share(cases["override"].astype(bool)),
        "overrides_by_reason": {str(k): int(v) for k, v in overrides.value_counts().items()},
        "blind_share": share(blind),
        "blind_assessment_disagreed": int(disagreed.sum()),
        "blind_then_followed_recommendation": int((disagreed & follows).sum()),
        "law_only_share": share(cases["shown_mode"] == "law"),
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
