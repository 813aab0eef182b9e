"""A stored model ready to score families and explain its recommendations.

Used by ``atauly model score``, the demo, the casework service and the national scan: the same feature
code (:mod:`atauly.model.features`), the same checks (:func:`atauly.model.data.prepare`) and the same
explanation for one family or six million.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atauly.registry import Registry

from .data import prepare
from .explain import PathContributions, Reason, top_reasons
from .features import family_features
from .metrics import threshold_for_budget
from .store import ModelStore, StoredModel
from .train import forest_of


class Recommender:
    def __init__(self, stored: StoredModel) -> None:
        self.stored = stored
        self.model = stored.estimator
        schema = stored.metadata["features"]
        self.numeric: list[str] = list(schema["numeric"])
        self.categorical: list[str] = list(schema["categorical"])
        self.threshold = stored.threshold
        self._pipeline = forest_of(self.model)
        self._contributions: PathContributions | None = None

    @classmethod
    def load(cls, store: ModelStore, ref: str) -> Recommender:
        return cls(store.load(ref))

    @property
    def name(self) -> str:
        return f"{self.stored.name}@{self.stored.version}"

    @property
    def kind(self) -> str:
        return self.stored.metadata.get("kind", "table")

    def set_jobs(self, n_jobs: int) -> None:
        """Threads for the forest: 1 for a single family (no pool start-up), all cores for batches."""
        self._pipeline.named_steps["forest"].n_jobs = n_jobs

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        return prepare(frame, self.numeric, self.categorical)

    def probability(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]

    def score(self, frame: pd.DataFrame, budget: int | None = None) -> pd.DataFrame:
        """``probability`` and ``recommended`` (at the model's threshold, or the ``budget`` best)."""
        X = self.prepare(frame)
        prob = self.probability(X)
        threshold = self.threshold if budget is None else threshold_for_budget(prob, budget)
        return pd.DataFrame({"probability": prob, "recommended": (prob >= threshold).astype(int)})

    def features_of(self, registry: Registry, law: pd.DataFrame, reference_date) -> pd.DataFrame:
        if self.kind != "registry":
            raise ValueError(
                f"{self.name} was trained on a table, not on the data contract; score it with --data FILE"
            )
        return family_features(registry, law, reference_date)

    def reasons(self, frame: pd.DataFrame, lang: str = "ru", top: int = 3) -> list[list[Reason]]:
        """The top reasons of each row, as sentences in ``lang``."""
        X = self.prepare(frame)
        prep = self._pipeline.named_steps["prep"]
        Xt = prep.transform(X)
        names = list(prep.get_feature_names_out())
        if self._contributions is None:
            self._contributions = PathContributions(self._pipeline.named_steps["forest"], len(names))
        contributions = self._contributions(Xt)
        return [
            top_reasons(X.iloc[i], contributions[i], names, lang, top, self.kind == "registry")
            for i in range(len(X))
        ]
