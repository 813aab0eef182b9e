"""Why the forest recommends what it does: path contributions, turned into sentences in kk, ru and en.

A random forest's probability is the mean over trees of the leaf's share of positives. Following each
row's path from the root, every split moves the share by (child − parent); crediting that move to the
split's feature gives contributions that add up exactly to the forest's probability minus the mean root
share (Saabas' path contributions, the method of ``treeinterpreter``). It is computed here with one sparse
product over the forest's decision paths, so one family takes a few milliseconds — well within the
casework latency target — where exact TreeSHAP would need a heavy dependency and more time.

Contributions add up on the forest's raw probability. The calibrated probability shown to officers is a
non-decreasing map of it (isotonic or sigmoid), so a reason that raises the raw probability never lowers
the calibrated one — but on a flat stretch of an isotonic map it may not move it either: the reasons
explain the forest's score, not the calibrated number itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from atauly.i18n import N_, Translator
from atauly.registry.labels import DWELLING_ITEMS, label

#: Up to this many rows, trees are asked one by one (fast for a single family; joblib for more).
SMALL_BATCH = 256
#: Entries of the root-to-leaf paths :class:`PathContributions` keeps for a few rows (8 bytes each).
PATHS_LIMIT = 4_000_000


class PathContributions:
    """Precomputed per forest: a (nodes × features) matrix of value changes, credited to split features."""

    def __init__(self, forest, n_features: int) -> None:
        blocks, base = [], []
        for est in forest.estimators_:
            tree = est.tree_
            value = tree.value[:, 0, :]
            share = (
                value[:, 1] / np.maximum(value.sum(axis=1), 1e-12)
                if value.shape[1] > 1
                else np.zeros(len(value))
            )
            parent = np.full(tree.node_count, -1)
            left, right = tree.children_left, tree.children_right
            inner = left >= 0
            parent[left[inner]] = np.flatnonzero(inner)
            parent[right[inner]] = np.flatnonzero(inner)
            rows = np.flatnonzero(parent >= 0)
            delta = share[rows] - share[parent[rows]]
            cols = tree.feature[parent[rows]]
            blocks.append(sp.csr_matrix((delta, (rows, cols)), shape=(tree.node_count, n_features)))
            base.append(share[0])
        self.matrix = sp.vstack(blocks).tocsr() / len(blocks)
        self.bias = float(np.mean(base))
        self.forest = forest
        self._paths: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _leaf_paths(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The nodes from the root down to each leaf (as ``decision_path`` visits them), numbered as the
        rows of :attr:`matrix` (each tree's nodes after the previous trees'): one flat array, and each
        leaf's start and end in it (indexed by that number). None when they would take more than
        :data:`PATHS_LIMIT` entries (a very deep forest: its decision paths are asked for instead)."""
        if self._paths is None:
            flats, starts, ends, offset, used = [], [], [], 0, 0
            for est in self.forest.estimators_:
                tree = est.tree_
                n = tree.node_count
                left, right = tree.children_left, tree.children_right
                parent = np.full(n, -1, dtype=np.int64)
                inner = np.flatnonzero(left >= 0)
                parent[left[inner]] = inner
                parent[right[inner]] = inner
                depth = np.zeros(n, dtype=np.int64)
                level, d = np.array([0]), 0
                while len(level):  # level by level from the root
                    depth[level] = d
                    level = np.concatenate([left[level], right[level]])
                    level, d = level[level >= 0], d + 1
                leaves = np.flatnonzero(left < 0)
                used += int((depth[leaves] + 1).sum())
                if used > PATHS_LIMIT:
                    self._paths = ()
                    return None
                # Each leaf's ancestors, leaf first, padded with -1 after the root; reversed: root first.
                up = np.full((len(leaves), int(depth.max()) + 1), -1, dtype=np.int64)
                up[:, 0] = leaves
                for k in range(1, up.shape[1]):
                    prev = up[:, k - 1]
                    up[:, k] = np.where(prev >= 0, parent[np.maximum(prev, 0)], -1)
                down = up[:, ::-1]
                flat = down[down >= 0] + offset
                length = depth[leaves] + 1
                start = np.zeros(n, dtype=np.int64)
                start[leaves] = used - int(length.sum()) + np.cumsum(length) - length
                end = np.zeros(n, dtype=np.int64)
                end[leaves] = start[leaves] + length
                flats.append(flat)
                starts.append(start)
                ends.append(end)
                offset += n
            self._paths = (np.concatenate(flats), np.concatenate(starts), np.concatenate(ends))
        return self._paths or None

    def of_float32(self, X32: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for a few rows already in the forest's float32 layout (C-contiguous): each
        tree's leaf (``apply``) stands for its decision path, and the indicator rows are put together
        from the paths precomputed per leaf — the same rows, in the same order, as ``decision_path``
        stacked tree by tree, so the product (and every contribution) is the same to the bit, without
        a sparse matrix per tree."""
        paths = self._leaf_paths()
        if paths is None:
            return self(X32)
        flat, start, end = paths
        offsets = np.cumsum([0] + [est.tree_.node_count for est in self.forest.estimators_[:-1]])
        # (rows × trees) leaves, numbered as the matrix's rows; row by row, tree by tree
        leaves = np.stack([est.tree_.apply(X32) for est in self.forest.estimators_], axis=1) + offsets
        first, length = start[leaves.ravel()], end[leaves.ravel()] - start[leaves.ravel()]
        within = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
        indices = flat[np.repeat(first, length) + within]
        indptr = np.concatenate([[0], np.cumsum(length.reshape(leaves.shape).sum(axis=1))])
        indicator = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(X32), self.matrix.shape[0])
        )
        return np.asarray((indicator @ self.matrix).todense())

    def __call__(self, Xt) -> np.ndarray:
        """Contributions (rows × features) of transformed rows ``Xt``; their row sums plus ``bias`` are
        the forest's probabilities."""
        if len(Xt) <= SMALL_BATCH:
            # A few rows (one application): ask each tree directly, without a thread pool per call.
            X32 = np.ascontiguousarray(Xt, dtype=np.float32)
            indicator = sp.hstack(
                [est.tree_.decision_path(X32) for est in self.forest.estimators_], format="csr"
            )
        else:
            indicator, _ = self.forest.decision_path(Xt)
        return np.asarray((indicator @ self.matrix).todense())


@dataclass
class Reason:
    feature: str
    value: object
    contribution: float  # on the forest's probability; > 0 speaks for entitlement
    text: str

    @property
    def line(self) -> str:
        return f"{'+' if self.contribution > 0 else '−'} {self.text}"


COUNT_TEXT = {
    "members": N_("Members of the family: {n}"),
    "children": N_("Children under 18: {n}"),
    "children_1_6": N_("Children aged 1–6: {n}"),
    "elderly": N_("Members of pension age: {n}"),
    "working_age": N_("Members of working age: {n}"),
    "disabled": N_("Members with a disability: {n}"),
    "disabled_severe": N_("Members with disability group I or II: {n}"),
    "long_term_ill": N_("Members with a long-term illness: {n}"),
    "employees": N_("Members in formal employment: {n}"),
    "self_employed": N_("Self-employed members: {n}"),
    "registered_unemployed": N_("Members registered as unemployed: {n}"),
    "not_working": N_("Working-age members without work: {n}"),
    "carers": N_("Members caring for a child or a relative: {n}"),
    "students": N_("Full-time students: {n}"),
    "adults_low_education": N_("Adults with at most basic secondary education: {n}"),
    "adults_higher_education": N_("Adults with higher education: {n}"),
    "dwellings_owned": N_("Dwellings owned: {n}"),
    "vehicles_owned": N_("Motor vehicles on record: {n}"),
    "livestock_heads": N_("Livestock heads: {n}"),
    "record_age_quarters": N_("Age of the oldest record, quarters: {n}"),
}
MONEY_TEXT = {
    "wages_pc": N_("Formal wages per member a month: {money}"),
    "self_employment_pc": N_("Self-employment income per member a month: {money}"),
    "informal_pc": N_("Declared informal earnings per member a month: {money}"),
    "pension_pc": N_("Pensions per member a month: {money}"),
    "child_benefits_pc": N_("Child benefits per member a month: {money}"),
    "disability_benefits_pc": N_("Disability benefits per member a month: {money}"),
    "alimony_pc": N_("Alimony per member a month: {money}"),
    "farm_pc": N_("Income from livestock and land per member a month: {money}"),
    "other_income_pc": N_("Other income per member a month: {money}"),
    "loans_pc": N_("Loans received per member a month: {money}"),
    "loan_balance_pc": N_("Outstanding loans per member: {money}"),
    "law_amount_per_member": N_("The law's assistance per member a month: {money}"),
}


def reason_text(feature: str, value, t: Translator, contract: bool = True) -> str:
    """One sentence about a feature's value, in the translator's language. ``contract``: the feature is
    one of Atauly's own (:data:`atauly.model.features.FEATURES`); other tables get "name: value"."""
    missing = value is None or (isinstance(value, float) and np.isnan(value))
    if missing:
        return t("{feature}: not known", feature=feature)
    if not contract:
        shown = t.number(float(value), 2) if isinstance(value, int | float | np.number) else str(value)
        return t("{feature}: {value}", feature=feature, value=shown)
    if feature == "income_to_line":
        gap = abs(1 - float(value))
        if value < 1:
            return t("Per-capita income is {pct} below the poverty line", pct=t.percent(gap))
        return t("Per-capita income is {pct} above the poverty line", pct=t.percent(gap))
    if feature == "law_eligible":
        if value >= 0.5:
            return t("The law on the data in hand finds the family entitled")
        return t("The law on the data in hand finds the family not entitled")
    if feature == "law_refusal_reason":
        if str(value) == "none":
            return t("The law finds no ground for refusal")
        return t("The law's ground for refusal: {reason}", reason=label("refusal_short", str(value), t.lang))
    if feature == "single_parent":
        return t("A single parent raises the children") if value >= 0.5 else t("Not a single-parent family")
    if feature == "commission_found_no_need":
        if value >= 0.5:
            return t("The commission's visit found no need")
        return t("The commission did not conclude that there is no need")
    if feature == "settlement_type":
        return t("Lives in a rural area") if value == "rural" else t("Lives in a town or city")
    if feature in DWELLING_ITEMS:
        question, answers = DWELLING_ITEMS[feature]
        answer = answers.get(str(value))
        return t("{feature}: {value}", feature=t(question), value=t(answer) if answer else str(value))
    if feature == "land_ha":
        return t("Land, hectares: {x}", x=t.number(float(value), 1))
    if feature in COUNT_TEXT:
        return t(COUNT_TEXT[feature], n=t.number(float(value)))
    if feature in MONEY_TEXT:
        return t(MONEY_TEXT[feature], money=t.money(float(value)))
    shown = t.number(float(value), 2) if isinstance(value, int | float | np.number) else str(value)
    return t("{feature}: {value}", feature=feature, value=shown)


#: Features of Atauly's registry model that restate the law: its result on the same data (entitled, the
#: ground for refusal, the income against the line, the amount) and the inputs its test reads one for one —
#: the members it counts, the incomes it counts (by source), the asset rules (dwellings, vehicles) and the
#: commission's finding (Art. 128 p.3). A reason on one of them tells the officer what the law's own result
#: beside it already says. The others (the family's composition, work, education, land and livestock, loans
#: outstanding, the records' age, the settlement) are what the model adds beyond the law's verdict.
RESTATES_LAW = frozenset(
    {
        "law_eligible",
        "law_refusal_reason",
        "income_to_line",
        "law_amount_per_member",
        "members",
        "wages_pc",
        "self_employment_pc",
        "informal_pc",
        "pension_pc",
        "child_benefits_pc",
        "disability_benefits_pc",
        "alimony_pc",
        "farm_pc",
        "other_income_pc",
        "loans_pc",
        "dwellings_owned",
        "vehicles_owned",
        "commission_found_no_need",
    }
)


def restates_law(feature: str) -> bool:
    """Whether a reason on ``feature`` restates the law (:data:`RESTATES_LAW`)."""
    return feature in RESTATES_LAW


def top_reasons(
    features: pd.Series,
    contributions: np.ndarray,
    names: list[str],
    lang: str | Translator = "ru",
    top: int = 3,
    contract: bool = True,
    beyond_law: int = 0,
) -> list[Reason]:
    """The ``top`` features with the largest contributions (either sign), as sentences; then, for Atauly's
    own features (``contract``), up to ``beyond_law`` more: the largest among those that do not restate the
    law (:func:`restates_law`) and are not already there — the law's own features usually fill the top."""
    t = lang if isinstance(lang, Translator) else Translator(lang)
    out = []
    for i in chosen_reasons(contributions, names, top, contract, beyond_law):
        name = names[i]
        value = features[name]
        out.append(Reason(name, value, float(contributions[i]), reason_text(name, value, t, contract)))
    return out


def chosen_reasons(
    contributions: np.ndarray, names: list[str], top: int, contract: bool = True, beyond_law: int = 0
) -> list[int]:
    """The positions of :func:`top_reasons`' features, in its order."""
    ranked = np.argsort(-np.abs(contributions), kind="stable")
    chosen = [i for i in ranked[:top] if contributions[i] != 0]
    if contract and beyond_law > 0:
        extra = [i for i in ranked[top:] if contributions[i] != 0 and not restates_law(names[i])][:beyond_law]
        chosen += extra
    return chosen


def plain_value(value):
    """A feature's value as a JSON value (what a coded reason stores): numpy scalars as Python ones, a missing
    value as ``None`` (worded "not known", as NaN is)."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def coded_reasons(stored: dict | None, lang: str) -> list[dict]:
    """A recommendation's stored reasons in ``lang``, the largest first as stored: ``{"feature",
    "contribution", "text"}`` each, the text starting with its sign (:attr:`Reason.line`).

    The casework engine stores each reason as its feature, value and contribution (``{"contract": bool,
    "codes": [...]}``) and they are worded here, when shown, in the reader's language; a recommendation
    stored before that holds the sentences themselves, per language (``{"kk": [...], "ru": [...], …}``)."""
    if not stored:
        return []
    if "codes" not in stored:
        return list(stored.get(lang, []))
    from atauly.i18n import LANGUAGES

    if lang not in LANGUAGES:
        return []
    t = Translator(lang)
    contract = bool(stored.get("contract", True))
    out = []
    for r in stored["codes"]:
        text = reason_text(r["feature"], r["value"], t, contract)
        reason = Reason(r["feature"], r["value"], r["contribution"], text)
        out.append({"feature": r["feature"], "contribution": r["contribution"], "text": reason.line})
    return out
