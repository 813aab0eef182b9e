"""A stored model ready to score families and explain its recommendations.

Used by ``atauly model score``, the demo, the casework service and the national scan: the same feature
code (:mod:`atauly.model.features`), the same checks (:func:`atauly.model.data.prepare`) and the same
explanation for one family or six million.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atauly.i18n import Translator
from atauly.registry import Registry

from .data import _as_categories, prepare, prepared_columns
from .estimators import forest_of
from .explain import SMALL_BATCH, PathContributions, Reason, chosen_reasons, plain_value, top_reasons
from .features import family_feature_columns, feature_frame
from .ingest import OTHER
from .metrics import threshold_for_budget
from .store import ModelIdentity, ModelStore, StoredModel

#: Rows explained at a time: the decision paths of 10,000 rows through a forest take ~100 MB.
REASON_CHUNK = 10_000


class Recommender(ModelIdentity):
    def __init__(self, stored: StoredModel) -> None:
        self.stored = stored
        self.model = stored.estimator
        schema = stored.metadata["features"]
        self.numeric: list[str] = list(schema["numeric"])
        self.categorical: list[str] = list(schema["categorical"])
        self.threshold = stored.threshold
        self._pipeline = forest_of(self.model)
        self._contributions: PathContributions | None = None
        self._names: list[str] = []

    @classmethod
    def load(cls, store: ModelStore, ref: str) -> Recommender:
        return cls(store.load(ref))

    def set_jobs(self, n_jobs: int) -> None:
        """Threads for the forest: 1 for a single family (no pool start-up), all cores for batches.
        It changes this object's forest: give each service worker thread its own Recommender."""
        self._pipeline.named_steps["forest"].n_jobs = n_jobs

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = prepare(frame, self.numeric, self.categorical)
        for col, known in self._lumped().items():
            values = X[col]
            X[col] = values.where(values.isna() | values.isin(known), OTHER)
        return X

    def _lumped(self) -> dict[str, set]:
        """Categorical columns whose rare levels ingestion lumped into "(other)" at training: a level
        not seen in training is "(other)" at scoring too (not missing)."""
        if not hasattr(self, "_lumped_cache"):
            out = {}
            prep = getattr(self._pipeline, "named_steps", {}).get("prep")
            cat = getattr(prep, "named_transformers_", {}).get("cat") if prep is not None else None
            for col, cats in zip(self.categorical, getattr(cat, "categories_", []), strict=False):
                if OTHER in set(cats):
                    out[col] = {c for c in cats if isinstance(c, str)}
            self._lumped_cache = out
        return self._lumped_cache

    def probability(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]

    def _forest_parts(self):
        """(numeric columns, categorical columns with their categories, forest) when the model is a
        calibrated forest behind the tree preprocessor (numbers passed through, categories as ordinal
        codes with -1 for unknown and missing), else None."""
        try:  # a private class of scikit-learn: without it, the general path
            from sklearn.calibration import _CalibratedClassifier
        except ImportError:
            return None
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.frozen import FrozenEstimator
        from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

        steps = getattr(self._pipeline, "named_steps", None)
        if steps is None:
            return None
        prep, forest = steps.get("prep"), steps.get("forest")
        if not (isinstance(prep, ColumnTransformer) and isinstance(forest, RandomForestClassifier)):
            return None
        if list(steps) != ["prep", "forest"] or len(forest.classes_) != 2:
            return None
        fitted = [(name, t, cols) for name, t, cols in prep.transformers_ if name != "remainder"]
        remainder = [cols for name, _, cols in prep.transformers_ if name == "remainder"]
        if len(fitted) != 2 or any(len(cols) for cols in remainder) or prep.sparse_output_:
            return None
        (_, num, num_cols), (_, cat, cat_cols) = fitted
        identity = isinstance(num, FunctionTransformer) and num.func is None
        ordinal = (
            isinstance(cat, OrdinalEncoder)
            and cat.handle_unknown == "use_encoded_value"
            and cat.unknown_value == -1
            and cat.encoded_missing_value == -1
        )
        # Every calibrator must sit on this one forest (calibrated on held-out rows, as `calibrate` does;
        # cross-validated calibration would have a forest per fold).
        calibrated = all(
            isinstance(cc, _CalibratedClassifier)
            and cc.method in ("isotonic", "sigmoid")
            and isinstance(cc.estimator, FrozenEstimator)
            and cc.estimator.estimator is self._pipeline
            for cc in self.model.calibrated_classifiers_
        )
        if not (identity and ordinal and calibrated):
            return None
        categories = [
            [c for c in cats if isinstance(c, str)] for cats in cat.categories_
        ]  # missing values are -1 whether or not they were a category
        return list(num_cols), list(zip(cat_cols, categories, strict=True)), forest

    def fast_probability(self, frame: pd.DataFrame) -> np.ndarray | None:
        """The calibrated probability of many rows by :meth:`fast_raw` (None when the model is not a
        calibrated forest of that shape) — equal to ``probability`` bit for bit (tested)."""
        raw = self.fast_raw(frame)
        return None if raw is None else self._calibrated_exactly(raw)

    def raw_and_probability(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(the forest's raw score, the calibrated probability as :meth:`score` gives it) of a frame of
        features: one pass over the trees for many rows (the scan's population calibration, issue 15,
        maps the raw score)."""
        from .estimators import forest_of

        raw = self.fast_raw(frame) if len(frame) > SMALL_BATCH else None
        if raw is not None:
            return raw, self._calibrated_exactly(raw)
        prob = self.score(frame)["probability"].to_numpy()
        return forest_of(self.model).predict_proba(self.prepare(frame))[:, 1], prob

    def fast_raw(self, frame: pd.DataFrame) -> np.ndarray | None:
        """The forest's raw probability of many rows without the pipeline's frames and per-value
        encoding: the same checks (:func:`prepared_columns`), the forest's float32 matrix built
        directly, categories coded by one lookup per column. None when the model is not a calibrated
        forest of that shape."""
        parts = self._forest_parts()
        if parts is None:
            return None
        numeric, categorical, forest = parts
        columns = prepared_columns(frame, self.numeric, self.categorical)
        lumped = self._lumped()
        for name, categories in categorical:
            index = pd.Index(categories, dtype=object)
            codes = index.get_indexer(columns[name])  # -1: unknown
            if name in lumped:  # unseen levels are "(other)", as at training
                codes = np.where((codes < 0) & pd.notna(columns[name]), index.get_loc(OTHER), codes)
            columns[name] = codes
        order = [*numeric, *(name for name, _ in categorical)]
        # The forest reads float32 rows (the same rounding as its own cast). Filled a block of rows at a
        # time, so that the rows being written stay in the cache: 3-4× faster than column by column.
        matrix = np.empty((len(frame), len(order)), dtype=np.float32)
        for start in range(0, len(frame), 4096):
            block = matrix[start : start + 4096]
            for j, name in enumerate(order):
                block[:, j] = columns[name][start : start + 4096]
        return forest.predict_proba(matrix)[:, 1]

    def _small_layout(self):
        """(numeric columns, [(categorical column, its categories as an index)], lumped levels) when the
        model is a calibrated forest behind the tree preprocessor whose output columns are the numeric
        then the categorical ones (:meth:`_forest_parts`), else None. Computed once: a batch of the
        casework engine then skips the preprocessor's per-call checks and frames."""
        if not hasattr(self, "_small_layout_cache"):
            layout = None
            parts = self._forest_parts()
            if parts is not None:
                numeric, categorical, _ = parts
                names = list(self._pipeline.named_steps["prep"].get_feature_names_out())
                order = [*numeric, *(name for name, _ in categorical)]
                if names == order and order == [*self.numeric, *self.categorical]:
                    indexes = [(name, pd.Index(cats, dtype=object)) for name, cats in categorical]
                    layout = (numeric, indexes, self._lumped())
            self._small_layout_cache = layout
        return self._small_layout_cache

    def _small_contributions(self, frame: pd.DataFrame | dict[str, np.ndarray]):
        """(calibrated probability, path contributions, prepared columns) of a few rows, as
        :meth:`prepare` and :meth:`_contributions_of` give them (the same checks, values and arithmetic;
        tested bit for bit), without their frames: the columns are checked and coerced by
        :func:`prepared_columns`, rare levels lumped as :meth:`prepare` lumps them, coded as the ordinal
        encoder codes them and written straight into the float32 rows the trees read. ``frame`` may be
        :func:`~atauly.model.features.family_feature_columns`' arrays instead of their frame. None when
        the model is not of that shape (or the arrays need :func:`prepared_columns`' parsing)."""
        layout = self._small_layout()
        if layout is None:
            return None
        numeric, indexes, lumped = layout
        if isinstance(frame, pd.DataFrame):
            columns = prepared_columns(frame, self.numeric, self.categorical)
        else:
            columns = self._prepared_arrays(frame)
            if columns is None:
                return None
        for col, known in lumped.items():
            columns[col] = np.array(
                [v if v is None or v is pd.NA or v != v or v in known else OTHER for v in columns[col]],
                dtype=object,
            )
        n = len(columns[numeric[0]]) if numeric else len(columns[indexes[0][0]])
        X32 = np.empty((n, len(numeric) + len(indexes)), dtype=np.float32)
        for j, name in enumerate(numeric):
            X32[:, j] = columns[name]
        for j, (name, index) in enumerate(indexes, start=len(numeric)):
            X32[:, j] = index.get_indexer(columns[name])  # -1: missing or unknown, as the encoder codes them
        if self._contributions is None:
            self._names = list(self._pipeline.named_steps["prep"].get_feature_names_out())
            self._contributions = PathContributions(self._pipeline.named_steps["forest"], len(self._names))
        contributions = self._contributions.of_float32(X32)
        raw = self._contributions.bias + contributions.sum(axis=1)
        return self._calibrated(raw), contributions, columns

    def _prepared_arrays(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """What :func:`prepared_columns` makes of :func:`~atauly.model.features.feature_frame`'s frame of
        ``columns``, from the arrays: numbers as float, categories cleaned by the same function. None
        where a column is missing or a numeric one is not a numpy array of numbers (the frame's path then
        checks, parses or refuses it)."""
        if any(c not in columns for c in (*self.numeric, *self.categorical)):
            return None
        out = {}
        for col in self.numeric:
            values = columns[col]
            if not (isinstance(values, np.ndarray) and values.dtype.kind in "biuf"):
                return None
            out[col] = values.astype(float)
        for col in self.categorical:  # the frame holds them as Python objects (feature_frame)
            out[col] = _as_categories(pd.Series(columns[col], dtype=object))
        return out

    def _calibrated_exactly(self, raw: np.ndarray) -> np.ndarray:
        """The calibration of raw scores as ``CalibratedClassifierCV.predict_proba`` applies it."""
        mean = np.zeros(len(raw))
        for cc in self.model.calibrated_classifiers_:
            p = cc.calibrators[0].predict(raw)
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
            mean += p
        mean /= len(self.model.calibrated_classifiers_)
        return mean

    def _contributions_of(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated probability, path contributions) of prepared rows, in one pass over the trees."""
        prep = self._pipeline.named_steps["prep"]
        Xt = prep.transform(X)
        if self._contributions is None:
            self._names = list(prep.get_feature_names_out())
            self._contributions = PathContributions(self._pipeline.named_steps["forest"], len(self._names))
        contributions = self._contributions(Xt)
        raw = self._contributions.bias + contributions.sum(axis=1)
        return self._calibrated(raw), contributions

    def _calibrated(self, raw: np.ndarray) -> np.ndarray:
        """The calibration map applied to the forest's raw probability (as CalibratedClassifierCV does
        for a binary model: the mean over its calibrated classifiers, clipped to [0, 1])."""
        maps = [cc.calibrators[0].predict(raw) for cc in self.model.calibrated_classifiers_]
        return np.clip(np.mean(maps, axis=0), 0.0, 1.0)

    def _decide(self, prob: np.ndarray, budget: int | None) -> pd.DataFrame:
        threshold = self.threshold if budget is None else threshold_for_budget(prob, budget)
        return pd.DataFrame({"probability": prob, "recommended": (prob >= threshold).astype(int)})

    def score(self, frame: pd.DataFrame, budget: int | None = None) -> pd.DataFrame:
        """``probability`` and ``recommended`` (at the model's threshold, or the ``budget`` best)."""
        prob = self.fast_probability(frame) if len(frame) > SMALL_BATCH else None
        if prob is None:
            X = self.prepare(frame)
            prob = self._contributions_of(X)[0] if len(X) <= SMALL_BATCH else self.probability(X)
        return self._decide(prob, budget)

    def score_with_reasons(
        self, frame: pd.DataFrame, lang: str = "ru", top: int = 3, budget: int | None = None
    ) -> tuple[pd.DataFrame, list[list[Reason]]]:
        """Scores and the top reasons of each row (sentences in ``lang``), from one pass over the trees."""
        scores, reasons = self.score_in_languages(frame, (lang,), top, budget)
        return scores, reasons[lang]

    def score_in_languages(
        self,
        frame: pd.DataFrame,
        langs: tuple[str, ...],
        top: int = 3,
        budget: int | None = None,
        beyond_law: int = 0,
    ) -> tuple[pd.DataFrame, dict[str, list[list[Reason]]]]:
        """Scores and each row's top reasons in every language of ``langs``, from one pass over the trees
        (the casework service explains each application in kk, ru and en at once); ``beyond_law``: up to that
        many more reasons that do not restate the law (:func:`~atauly.model.explain.top_reasons`)."""
        X = self.prepare(frame)
        translators = {lang: Translator(lang) for lang in langs}
        contract = self.kind == "registry"
        probs: list[np.ndarray] = []
        reasons: dict[str, list[list[Reason]]] = {lang: [] for lang in langs}
        for start in range(0, len(X), REASON_CHUNK):  # bounded memory for the forest's decision paths
            part = X.iloc[start : start + REASON_CHUNK]
            prob, contributions = self._contributions_of(part)
            probs.append(prob)
            for lang, t in translators.items():
                reasons[lang] += [
                    top_reasons(part.iloc[i], contributions[i], self._names, t, top, contract, beyond_law)
                    for i in range(len(part))
                ]
        prob = np.concatenate(probs) if probs else np.zeros(0)
        return self._decide(prob, budget), reasons

    def score_with_codes(
        self, frame: pd.DataFrame, top: int = 3, budget: int | None = None, beyond_law: int = 0
    ) -> tuple[pd.DataFrame, list[dict]]:
        """Scores and each row's top reasons as :func:`score_in_languages` chooses them, unworded:
        ``{"contract": bool, "codes": [{"feature", "value", "contribution"}, …]}`` per row, worded when
        shown (:func:`~atauly.model.explain.coded_reasons`). Wording every reason in three languages for
        each application was a third of the casework engine's CPU; most are never read in two of them."""
        contract = self.kind == "registry"
        small = self._small_contributions(frame) if len(frame) <= SMALL_BATCH else None
        if small is not None:  # a batch of the casework engine: no frames, the same numbers
            return self._small_codes(small, top, budget, beyond_law)
        X = self.prepare(frame)
        probs: list[np.ndarray] = []
        reasons = []
        for start in range(0, len(X), REASON_CHUNK):  # bounded memory for the forest's decision paths
            part = X.iloc[start : start + REASON_CHUNK]
            prob, contributions = self._contributions_of(part)
            probs.append(prob)
            columns = _LazyColumns(part)
            for i in range(len(part)):
                codes = self._codes(contributions[i], columns, i, top, contract, beyond_law)
                reasons.append({"contract": contract, "codes": codes})
        prob = np.concatenate(probs) if probs else np.zeros(0)
        return self._decide(prob, budget), reasons

    def score_columns_with_codes(
        self,
        columns: dict[str, np.ndarray],
        rows,
        top: int = 3,
        budget: int | None = None,
        beyond_law: int = 0,
    ) -> tuple[pd.DataFrame, list[dict]]:
        """:meth:`score_with_codes` of rows ``rows`` (positions) of :func:`~atauly.model.features.
        family_features`' frame, given its columns (:meth:`feature_columns_of`): the same scores and
        reasons; a few rows (the casework engine's batch) without building the frames."""
        rows = np.asarray(rows, dtype=np.intp)
        if len(rows) <= SMALL_BATCH:
            small = self._small_contributions({name: values[rows] for name, values in columns.items()})
            if small is not None:
                return self._small_codes(small, top, budget, beyond_law)
        frame = feature_frame(columns).iloc[rows].reset_index(drop=True)
        return self.score_with_codes(frame, top, budget, beyond_law)

    def _small_codes(self, small, top: int, budget: int | None, beyond_law: int):
        prob, contributions, columns = small
        contract = self.kind == "registry"
        reasons = [
            {
                "contract": contract,
                "codes": self._codes(contributions[i], columns, i, top, contract, beyond_law),
            }
            for i in range(len(prob))
        ]
        return self._decide(prob, budget), reasons

    def _codes(self, contributions: np.ndarray, columns, i: int, top: int, contract: bool, beyond_law: int):
        """Row ``i``'s coded reasons (:meth:`score_with_codes`); ``columns``: the prepared values by name."""
        return [
            {
                "feature": self._names[j],
                "value": plain_value(columns[self._names[j]][i]),
                "contribution": float(contributions[j]),
            }
            for j in chosen_reasons(contributions, self._names, top, contract, beyond_law)
        ]

    def reasons(self, frame: pd.DataFrame, lang: str = "ru", top: int = 3) -> list[list[Reason]]:
        """The top reasons of each row, as sentences in ``lang``."""
        return self.score_with_reasons(frame, lang, top)[1]

    def features_of(self, registry: Registry, law: pd.DataFrame, reference_date) -> pd.DataFrame:
        return feature_frame(self.feature_columns_of(registry, law, reference_date))

    def feature_columns_of(
        self, registry: Registry, law: pd.DataFrame, reference_date
    ) -> dict[str, np.ndarray]:
        """:meth:`features_of`' columns as arrays (:func:`~atauly.model.features.family_feature_columns`)."""
        if self.kind != "registry":
            raise ValueError(
                f"{self.name} was trained on a table, not on the data contract; score it with --data FILE"
            )
        # the dwelling features this model was trained with (if any) are always there, None where unknown
        return family_feature_columns(registry, law, reference_date, include=self.categorical)


class _LazyColumns(dict):
    """A prepared frame's columns as arrays, each taken from the frame when first asked for."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__()
        self.frame = frame

    def __missing__(self, name: str) -> np.ndarray:
        self[name] = values = self.frame[name].to_numpy()
        return values
