"""Training and evaluation as whole jobs: options checked, data loaded, the model trained and stored.

What ``atauly model train`` and ``atauly model evaluate`` do, as library functions the CLI calls once
(it parses the options and prints; everything else is here). Options are checked against one declared
set of constraints (:mod:`atauly.registry.params`) and the rules that tie options together; a bad
combination raises :class:`~atauly.registry.params.ParamError` naming the options as the command spells them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.i18n import LANGUAGES
from atauly.registry.params import Interval, Options, ParamError, validate_params

from .data import Dataset, load_applications, load_table
from .phrases import Phrase
from .store import ModelStore, StoredModel
from .threshold import POLICIES
from .threshold import check as check_policy
from .train import TrainConfig, TrainResult

VIEWS = ("application", "recorded")
LABELS = ("verified", "decisions")
SEARCHES = ("forest", "grid")
#: ROC-AUC floor of the quality gate for a model trained on a registry (none for a table: the gate is
#: then relative — better than chance, not clearly worse than the baselines).
REGISTRY_MIN_ROC_AUC = 0.75

#: What each option of ``atauly model train`` accepts (None: may be left out).
TRAIN_CONSTRAINTS = {
    "threshold": [Interval(float, 0, 1, "neither"), None],
    "target_exclusion": [Interval(float, 0, 1, "left"), None],
    "view": [Options(VIEWS)],
    "policy": [Options(POLICIES), None],
    "search": [Options(SEARCHES), None],
}
_TRAIN_MESSAGES = {
    "threshold": "--threshold must be between 0 and 1",
    "target_exclusion": "--target-exclusion must be in [0, 1)",
    "view": "--view must be application or recorded",
    "policy": "--policy must be one of " + ", ".join(POLICIES),
    "search": "--search must be forest or grid",
}


@dataclass
class TrainRequest:
    """The options of one training job: a registry (synthetic or ministry) or a user's table."""

    registry: Path | None = None
    data: Path | None = None
    target: str | None = None
    group: str | None = None
    id_column: str | None = None
    drop: list[str] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    name: str = "asp"
    threshold: float | None = None
    target_exclusion: float | None = None
    seed: int = 0
    baselines: bool = True
    min_roc_auc: float | None = None
    policy: str | None = None
    coverage: float | None = None
    budget: int | None = None
    search: str | None = None
    view: str = "application"
    labels: str | None = None
    n_jobs: int | None = None
    #: The language of the report and the model card (ru, kk or en; default: the locale setting).
    lang: str | None = None

    def checked(self) -> TrainRequest:
        """The same request with its defaults filled in, or :class:`ParamError` naming the options."""
        self._check_sources()
        validate_params(vars(self), TRAIN_CONSTRAINTS, flag="--{}", messages=_TRAIN_MESSAGES)
        if self.data is not None and self.view != "application":
            raise ParamError("--view applies to --registry only")
        if self.labels is not None and (self.labels not in LABELS or self.view != "recorded"):
            raise ParamError("--labels is verified or decisions, with --registry DIR --view recorded")
        policy = self.policy or self._default_policy()
        value = self._policy_value(policy)
        try:
            check_policy(policy, value)
        except ValueError as exc:
            raise ParamError(f"--policy {policy}: {exc}") from None
        search = self.search or ("forest" if self.data is not None else "grid")
        min_roc_auc = self.min_roc_auc
        if min_roc_auc is None and self.data is None:
            min_roc_auc = REGISTRY_MIN_ROC_AUC
        return replace(self, policy=policy, search=search, min_roc_auc=min_roc_auc)

    def _check_sources(self) -> None:
        if (self.registry is None) == (self.data is None):
            raise ParamError("give either --registry DIR or --data FILE --target COLUMN")
        if self.data is not None and not self.target:
            raise ParamError("--data needs --target COLUMN")
        if self.registry is not None and (
            self.target or self.group or self.id_column or self.drop or self.audit
        ):
            raise ParamError("--target, --group, --id, --drop and --audit apply to --data only")
        if self.threshold is not None and self.target_exclusion is not None:
            raise ParamError("give --threshold or --target-exclusion, not both")

    def _default_policy(self) -> str:
        if self.target_exclusion is not None:
            return "exclusion"
        return "fixed" if self.threshold is not None or self.data is None else "coverage"

    def _policy_value(self, policy: str) -> float | None:
        given = {
            "fixed": ("--threshold", self.threshold),
            "exclusion": ("--target-exclusion", self.target_exclusion),
            "coverage": ("--coverage", self.coverage),
            "budget": ("--budget", self.budget),
        }
        for needs, (option, value) in given.items():
            if value is not None and policy != needs:
                raise ParamError(f"{option} goes with --policy {needs}, not --policy {policy}")
        return given[policy][1] if policy in given else None

    def config(self) -> TrainConfig:
        """The training configuration of a :meth:`checked` request."""
        return TrainConfig(
            threshold=self.threshold,
            target_exclusion=self.target_exclusion,
            seed=self.seed,
            baselines=self.baselines,
            min_roc_auc=self.min_roc_auc,
            n_jobs=self.n_jobs or TrainConfig().n_jobs,
            search_mode=self.search or "grid",
            policy=self.policy,
            policy_value=self._policy_value(self.policy) if self.policy else None,
        )


@dataclass
class TrainHooks:
    """What the caller is told while a job runs (each may be left out)."""

    loading: Callable[[int, int], None] | None = None  # (rows done, rows in all) while the data loads
    loaded: Callable[[Dataset, int], None] | None = None  # the data, and the number of training steps
    step: Callable[[str], None] | None = None  # a training step starts
    note: Callable[[str], None] | None = None  # something the user should know


@dataclass
class TrainOutcome:
    stored: StoredModel
    result: TrainResult
    promoted: bool
    dataset: Dataset


def registry_labels(registry: Path, view: str, labels: str | None) -> tuple[str | None, str | None]:
    """The labels to learn from (and a note when the choice was not the one asked for): with --view
    recorded, the verification sample when it holds enough entitled families, else officers' decisions."""
    from .verified import MIN_VERIFIED_ENTITLED, has_verification, verified_entitled

    if labels is not None or view != "recorded":
        return labels, None
    if not has_verification(registry):
        return "decisions", None
    found = verified_entitled(registry)
    if found >= MIN_VERIFIED_ENTITLED:
        return "verified", None
    return "decisions", (
        f"the verification sample holds {found} entitled families that did not apply (fewer than "
        f"{MIN_VERIFIED_ENTITLED}): too few to train the scan's model on it; trained on officers' decisions "
        "instead (not calibrated on the population; --labels verified forces it)"
    )


def load_training_data(request: TrainRequest, hooks: TrainHooks) -> tuple[Dataset, str, dict]:
    """The dataset of a checked request, with its source's description and metadata."""
    from .verified import load_verified

    if request.registry is None:
        ds = load_table(
            request.data, request.target, request.group, request.id_column, request.drop, request.audit
        )
        extra = {"data": str(request.data), "group": request.group, "id": request.id_column}
        return ds, Phrase("source.table", f"table {request.data.name}", path=request.data.name), extra
    labels, note = registry_labels(request.registry, request.view, request.labels)
    if note and hooks.note:
        hooks.note(note)
    if labels == "verified":
        ds = load_verified(request.registry, progress=hooks.loading)
    else:
        ds = load_applications(request.registry, view=request.view, progress=hooks.loading)
    extra: dict = {"registry": str(request.registry)}
    if ds.scan_amounts:
        extra["scan_amounts"] = ds.scan_amounts
    return ds, Phrase("source.registry", f"registry {request.registry}", path=str(request.registry)), extra


def train_request(request: TrainRequest, store: ModelStore, hooks: TrainHooks | None = None) -> TrainOutcome:
    """Check the request, load its data, train, evaluate against the baselines and store the model with
    its report and card (the first version of a name that passes the quality gate becomes champion)."""
    from . import STORE_STEPS, train_and_store
    from .train import train_steps

    hooks = hooks or TrainHooks()
    request = request.checked()
    config = request.config()
    store.check_name(request.name)
    ds, source, extra = load_training_data(request, hooks)
    if hooks.loaded:
        hooks.loaded(ds, len(train_steps(ds, config)) + len(STORE_STEPS))
    stored, result, promoted = train_and_store(
        ds, store, request.name, source, config, hooks.step, extra, lang=request.lang
    )
    return TrainOutcome(stored, result, promoted, ds)


# --- evaluation -------------------------------------------------------------------------------------


def registry_evaluation_data(
    rec, registry: Path, quarter: str | None, note=None
) -> tuple[Dataset, list[str]]:
    """The applications of a registry a stored model was not trained on (or of ``quarter``), and the
    quarters chosen."""
    if rec.kind != "registry":
        raise ParamError(f"{rec.name} was trained on a table; evaluate it with --data FILE --target COLUMN")
    ds = load_applications(registry, view=rec.stored.metadata.get("view", "application"))
    trained_on = set(rec.stored.metadata.get("metrics", {}).get("training_periods", []))
    if quarter:
        chosen = {quarter}
        if quarter in trained_on and note:
            note(f"{rec.name} was trained on {quarter}: these metrics are optimistic")
    else:
        chosen = set(ds.period) - trained_on
        if not chosen:
            raise ParamError(
                f"{rec.name} was trained on every quarter of this registry "
                f"({', '.join(sorted(trained_on))}); name one with --quarter to evaluate on it anyway"
            )
    keep = np.flatnonzero(np.isin(ds.period, sorted(chosen)))
    if not len(keep):
        raise ParamError(f"no applications in {quarter} (quarters: {', '.join(sorted(set(ds.period)))})")
    return ds.take(keep), sorted(chosen)


def table_evaluation_data(rec, data: Path, target: str | None, group: str | None, note=None) -> Dataset:
    """A labelled table prepared with the stored model's own columns (rows without a target left out)."""
    from .data import parse_target, read_table

    if not target:
        raise ParamError("--data needs --target COLUMN")
    frame = read_table(data)
    for role, col in (("target", target), ("group", group)):
        if col and col not in frame:
            raise ParamError(f"{role} column {col!r} not in {data.name}")
    labels, known = parse_target(frame[target], target)
    if not known.all() and note:
        note(f"{int((~known).sum()):,} rows without a target value left out")
    frame = frame.loc[known].reset_index(drop=True)
    rows = np.arange(len(frame)).astype(str)
    groups = frame[group].astype(str).to_numpy() if group else rows
    return Dataset(
        rec.prepare(frame),
        labels[known],
        rows,
        groups,
        pd.DataFrame(index=range(len(frame))),
        "table",
        target,
        rec.numeric,
        rec.categorical,
    )


def evaluate_stored(
    rec,
    registry: Path | None = None,
    data: Path | None = None,
    target: str | None = None,
    group: str | None = None,
    quarter: str | None = None,
    note: Callable[[str], None] | None = None,
) -> tuple[dict, Dataset, list[str] | None]:
    """Metrics of a stored model (a :class:`~atauly.model.recommender.Recommender`) on labelled data it
    was not trained on: a registry's other quarters, or a table. Returns (result, the data used, the
    quarters chosen — None for a table). ``note`` hears what the user should know."""
    from .evaluation import evaluate_model

    if (registry is None) == (data is None):
        raise ParamError("give either --registry DIR or --data FILE --target COLUMN")
    chosen = None
    if registry is not None:
        ds, chosen = registry_evaluation_data(rec, registry, quarter, note)
    else:
        ds = table_evaluation_data(rec, data, target, group, note)
    return evaluate_model(rec.model, rec.threshold, ds), ds, chosen


# --- scoring ----------------------------------------------------------------------------------------


def manifest_quarter(directory: Path) -> str | None:
    """The quarter a generated registry was made for (its manifest.json), or None without one."""
    import json

    manifest = Path(directory) / "manifest.json"
    return json.loads(manifest.read_text())["quarter"] if manifest.exists() else None


def registry_features(rec, reg, quarter: str, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the law's result, the model's features) for every family of a validated registry."""
    from atauly.law.compute import compute
    from atauly.registry.quarter import Quarter

    law = compute(reg, quarter, progress=progress) if progress else compute(reg, quarter)
    return law, rec.features_of(reg, law, Quarter.parse(quarter).start_time)


#: What ``atauly model score`` and ``recommend`` accept.
SCORE_CONSTRAINTS = {
    "lang": [Options(LANGUAGES)],
    "budget": [Interval(int, 0, None), None],
    "reasons": [Interval(int, 0, None)],
}
_SCORE_MESSAGES = {
    "lang": "--lang must be one of " + ", ".join(LANGUAGES),
    "budget": "--budget must be a number of families ≥ 0",
    "reasons": "--reasons must be ≥ 0",
}


def check_score_options(**options) -> None:
    """Raise :class:`ParamError` for a scoring option out of :data:`SCORE_CONSTRAINTS`."""
    validate_params(options, SCORE_CONSTRAINTS, flag="--{}", messages=_SCORE_MESSAGES)


def score_rows(
    rec, frame: pd.DataFrame, ids, id_column: str, budget=None, reasons=0, lang="ru"
) -> pd.DataFrame:
    """The id column, probability and recommended (0/1) of each row; with ``reasons`` > 0 also
    ``reason_1…`` in ``lang`` (one pass over the trees gives both)."""
    check_score_options(budget=budget, reasons=reasons, lang=lang)
    if reasons:
        scored, all_reasons = rec.score_with_reasons(frame, lang, reasons, budget)
        for k in range(reasons):
            scored[f"reason_{k + 1}"] = [r[k].line if len(r) > k else "" for r in all_reasons]
    else:
        scored = rec.score(frame, budget)
    scored.insert(0, id_column, ids)
    return scored


@dataclass
class FamilyRecommendation:
    """One family: the law's explanation and the model's recommendation with its reasons."""

    explanation: str
    probability: float
    recommended: bool
    threshold: float
    reasons: list


def recommend_family(
    rec, reg, family: str, quarter: str, lang: str = "ru", reasons: int = 5
) -> FamilyRecommendation:
    """The law's result and the model's recommendation for ``family`` of a validated registry."""
    from atauly.law.explain import explain

    if rec.kind != "registry":
        raise ParamError(f"{rec.name} was trained on a table, not on the data contract")
    mask = (reg.families["family_id"] == family).to_numpy()
    if not mask.any():
        raise ParamError(f"family {family!r} not found")
    one = reg.take(mask)
    _law, frame = registry_features(rec, one, quarter)
    rec.set_jobs(1)
    scored = rec.score(frame)
    return FamilyRecommendation(
        explain(one, family, quarter, lang).text(),
        float(scored["probability"].iloc[0]),
        bool(scored["recommended"].iloc[0]),
        rec.threshold,
        rec.reasons(frame, lang, reasons)[0],
    )
