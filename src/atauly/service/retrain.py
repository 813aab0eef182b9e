"""Learning from officers' corrections: a training set from the decided cases of the casework database, a
challenger trained on it, and a comparison with the champion on the same held-out decisions.

Nothing here promotes a model: the challenger is stored as the next version of the champion's name, with
the comparison and the measured selection bias in its metadata, report and card, and waits for an explicit
``atauly model promote``.

The training table (:mod:`atauly.service.decided_cases`) is built exactly as the service builds a
recommendation at intake, so there is no training/serving skew; the comparison's statistics are in
:mod:`atauly.model.challenger`.

Selection bias (docs/model.md, "Learning from officers' corrections"): only families who applied are in
the data; labels are officers' decisions, not true need, made after seeing the model's recommendation
(except in blind mode), so a model trained on them partly learns its own past output back; overrides are
the informative corrections; the pilot's districts are not the country. :func:`selection_report` measures
what can be measured of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session as DB

from atauly.i18n import N_
from atauly.model import ModelStore, ModelStoreError, StoredModel, TrainConfig, TrainResult, store_trained
from atauly.model.challenger import COMPARED, compare, config_for, time_split
from atauly.model.data import DataError, prepare
from atauly.model.phrases import Phrase
from atauly.model.train import splits, train
from atauly.registry.params import Interval, ParamError, validate_params

from .decided_cases import DecidedCases, Progress, decided_cases, selection_report, share

SOURCE = "casework database: decided applications"
#: Fewest approvals and fewest rejections the training part needs: below this the grid search's folds or
#: the calibration set can hold a single outcome, and training fails.
MIN_PER_OUTCOME = 10

#: What the training data is and is not (stored in the challenger's metadata; the card prints it).
SELECTION_BIAS = (
    N_(
        "Only families who applied are in the data. Families who never applied — the ones the proactive scan "
        "looks for — are absent, so the model learns nothing about them."
    ),
    N_(
        "Labels are officers' decisions, not true need: their errors and the law's blind spots (undeclared "
        "income, stale records) are in the labels."
    ),
    N_(
        "Decisions were made after seeing the model's recommendation (except in blind mode). A model trained on "
        "decisions it influenced learns its own past output back, errors included (automation bias, feedback "
        "loop). The higher the share of labels that simply follow the recommendation shown, the more the "
        "challenger imitates the model that made it. Blind-mode decisions are less contaminated "
        "(--blind-only trains on them alone)."
    ),
    N_(
        "On held-out decisions the champion has a built-in advantage when officers followed its own "
        "recommendations: agreement with them partly measures that officers agreed with the champion."
    ),
    N_(
        "Overrides are the informative corrections, but a case is only corrected if an officer looked at it "
        "closely; unreviewed mistakes stay in the labels as agreement."
    ),
    N_(
        "The districts of the pilot are not the country: their mix of families, settlements and officers' "
        "practice differs, so the challenger's metrics say nothing about districts it has not seen."
    ),
)


#: The note a challenger's dataset carries (said in the card's language by model.wording).
FROM_DATABASE = N_("trained on officers' decisions from the casework database: see 'retrain'")


class RetrainError(ValueError):
    """Retraining cannot proceed; the message says why and what to do."""


# --- the held-out comparison ------------------------------------------------------------------------


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


#: What retraining accepts (the command line checks the same before it opens the database).
RETRAIN_CONSTRAINTS = {
    "holdout": [Interval(float, 0, 1, "neither")],
    "min_cases": [Interval(int, 2, None)],
}


def check_retrain_options(**options) -> None:
    """Raise :class:`RetrainError` for an option out of :data:`RETRAIN_CONSTRAINTS` (``--holdout`` …)."""
    try:
        validate_params(options, RETRAIN_CONSTRAINTS, flag="--{}")
    except ParamError as exc:
        raise RetrainError(str(exc)) from None


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
    lang: str | None = None,
) -> RetrainResult:
    """Train a challenger on the decided cases, compare it with ``name``'s champion on the same held-out
    decisions (the most recent ``holdout`` share by decision time, never used for training) and store it
    as the next version of ``name``. Never promotes. Raises :class:`RetrainError` with a clear message.

    ``config``: the training configuration (default: :func:`config_for` the champion, with ``seed`` and
    ``n_jobs``); ``n_boot``: bootstrap replicates of the comparison (default: the configuration's);
    ``lang``: the language of the challenger's report and card (default: the locale setting).
    """
    step = progress or (lambda _label, _done, _total: None)
    check_retrain_options(holdout=holdout, min_cases=min_cases)
    champion = _champion(store, name)
    champion_ref = f"{champion.name}@{champion.version}" if champion else None
    if config is None:
        config = config_for(champion, seed=seed, **({"n_jobs": n_jobs} if n_jobs else {}))
    n_boot = config.n_boot if n_boot is None else n_boot

    t0 = time.perf_counter()
    data = decided_cases(db, blind_only=blind_only, actor=actor, progress=step)
    fit, held = _split(data, holdout, min_cases, blind_only)
    notes = list(data.notes)
    if len(np.unique(held.dataset.y)) < 2:
        notes.append(
            "the held-out decisions have a single outcome: ROC-AUC and balanced accuracy cannot be computed"
        )
    total = 2 + 2 + len(splits(fit.dataset, config)) * (3 if config.baselines else 2) + 3
    result = _train_challenger(fit, config, step, total)
    result.timings["total_seconds"] = time.perf_counter() - t0

    step("Scoring the champion and the challenger on the held-out decisions", total - 3, total)
    incumbent, challenger, shown = _held_out_predictions(held, result, champion)
    step("Comparing (family bootstrap)", total - 2, total)
    predictions = (incumbent, challenger, shown)
    comparison = _comparison(held, fit, predictions, result.threshold, champion, holdout, n_boot, config.seed)
    if champion is None:
        notes.append(
            f"{name} has no champion: the challenger is compared with nothing but the recommendations that "
            "were shown, and it is not promoted"
        )
    selection = selection_report(fit.cases, data.excluded)
    selection["blind_only"] = blind_only
    step("Storing the challenger (not promoted)", total - 1, total)
    stored = _store_challenger(
        store, name, fit, held, result, champion_ref, comparison, selection, notes, lang
    )
    step("Done", total, total)
    return RetrainResult(stored, champion_ref, comparison, selection, result, notes)


def _champion(store: ModelStore, name: str) -> StoredModel | None:
    """``name``'s champion (None when it has none), if it can be compared on casework decisions."""
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
    return champion


def _split(data: DecidedCases, holdout: float, min_cases: int, blind_only: bool):
    """(training part, held-out part) by decision time, or :class:`RetrainError` when either cannot serve."""
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
    return fit, held


def _train_challenger(fit: DecidedCases, config: TrainConfig, step: Progress, total: int) -> TrainResult:
    done = [2]

    def train_step(label: str) -> None:
        step(f"Training the challenger: {label}", done[0], total)
        done[0] += 1

    try:
        return train(fit.dataset, config, train_step)
    except (ValueError, IndexError) as exc:  # a fold or calibration set with a single outcome
        raise RetrainError(
            f"training failed on {len(fit)} cases ({exc}); decide more cases, or lower --holdout"
        ) from None


def _held_out_predictions(held: DecidedCases, result: TrainResult, champion: StoredModel | None):
    """(champion, challenger, shown) as (probability, recommended) on the held-out cases; without a
    champion, the recommendations that were shown stand in for it."""
    X = held.dataset.X
    challenger_prob = result.model.predict_proba(X)[:, 1]
    challenger = (challenger_prob, challenger_prob >= result.threshold)
    shown = (None, held.cases["shown_recommended"].to_numpy(dtype=bool))
    if champion is None:
        return shown, challenger, shown
    schema = champion.metadata["features"]
    try:
        champion_X = prepare(X, list(schema["numeric"]), list(schema["categorical"]))
    except DataError as exc:
        raise RetrainError(
            f"{champion.name}@{champion.version} expects features this code does not build: {exc}"
        ) from None
    champion_prob = champion.estimator.predict_proba(champion_X)[:, 1]
    return (champion_prob, champion_prob >= champion.threshold), challenger, shown


def _comparison(held, fit, predictions, threshold, champion, holdout: float, n_boot: int, seed: int) -> dict:
    """The held-out comparison stored with the challenger (figures with family-bootstrap intervals)."""
    incumbent, challenger, shown = predictions
    champion_ref = f"{champion.name}@{champion.version}" if champion else None
    y, groups = held.dataset.y, held.dataset.groups
    overridden = held.cases["override"].to_numpy(dtype=bool)
    figures = compare(y, groups, overridden, incumbent, challenger, n_boot, seed)
    shown_figures = compare(y, groups, overridden, shown, shown, n_boot, seed)["first"]
    hold_cases, fit_cases = held.cases, fit.cases
    return {
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
        "challenger_threshold": float(threshold),
        "held_out_shown_by_champion": share(hold_cases["shown_model_version"] == champion_ref)
        if champion_ref
        else None,
        "n_boot": n_boot,
        "seed": seed,
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


def _store_challenger(store, name, fit, held, result, champion_ref, comparison, selection, notes, lang=None):
    blind_only = selection["blind_only"]
    fit.dataset.notes = [*notes, FROM_DATABASE]
    stored, _promoted = store_trained(
        fit.dataset,
        result,
        store,
        name,
        Phrase(
            "source.casework_blind" if blind_only else "source.casework",
            SOURCE + (" (blind mode only)" if blind_only else ""),
        ),
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
        lang=lang,
    )
    return stored


# --- from the casework database --------------------------------------------------------------------


def open_casework_database(url: str):
    """(engine, the URL without its password) of the casework database, or :class:`RetrainError` saying
    why there is none to read."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from .db import make_engine

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise RetrainError("ATAULY_DATABASE_URL is not a database URL") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).exists():
            raise RetrainError(
                f"no casework database: {path or 'an in-memory SQLite database'} does not exist. Set "
                "ATAULY_DATABASE_URL, or ATAULY_HOME to the directory whose atauly.db the service uses."
            )
    try:
        engine = make_engine(url)
        if not inspect(engine).has_table("applications"):
            raise RetrainError(f"{shown} has no casework tables (the service creates them when it starts)")
    except SQLAlchemyError as exc:
        raise RetrainError(
            f"cannot open the casework database {shown}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        ) from None
    return engine, shown


def retrain_from_database(
    url: str, store: ModelStore, name: str, *, connected: Callable[[str], None] | None = None, **options
) -> RetrainResult:
    """:func:`retrain` on the casework database at ``url`` (``connected`` hears its URL, password hidden,
    once it is open). Raises :class:`RetrainError` for anything that stops it, database errors included."""
    from sqlalchemy.exc import SQLAlchemyError

    from .db import session_factory

    check_retrain_options(**{k: options[k] for k in ("holdout", "min_cases") if k in options})
    try:
        store.check_name(name)
    except ModelStoreError as exc:
        raise RetrainError(str(exc)) from None
    engine, shown = open_casework_database(url)
    if connected:
        connected(shown)
    try:
        with session_factory(engine)() as db:
            return retrain(db, store, name, **options)
    except SQLAlchemyError as exc:
        raise RetrainError(f"cannot read the casework database {shown}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()
