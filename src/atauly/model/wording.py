"""Words and numbers of the model report and the model card in Kazakh, Russian or English (issue 20).

Every sentence goes through the message catalogs (atauly.po); numbers are formatted for the language with
Babel (ru/kk: a decimal comma and a space between thousands), periods are written as people write them
(registry.quarter: «IV квартал 2026 г.», «2026 ж. IV тоқсан»), and the names the training stored in English
(models, splits, groups) are said by their codes. The training's sentences (the threshold policy, the quality
gate's reasons, the verdict of the comparison, a split's description) are stored as codes with their figures
(model.phrases) and worded here from the catalogs (:data:`CODED`); those of models stored before the codes
existed are matched against the English patterns the training wrote then (:data:`_STORED`).
"""

from __future__ import annotations

import math
import re

from babel.numbers import format_decimal

from atauly.i18n import DEFAULT_LANGUAGE, N_, Translator
from atauly.registry.codes import REGION_BY_KATO, region_name
from atauly.registry.quarter import plain_periods

#: The models and rules compared (their keys in metrics.json).
MODELS = {
    "random_forest": N_("random forest"),
    "logistic_regression": N_("logistic regression"),
    "gradient_boosting": N_("gradient boosting"),
    "law_as_applied": N_("law as applied"),
    "law_on_recorded_data": N_("law on recorded data"),
    "model": N_("model"),
    "officer (system)": N_("officer (the system)"),
    "law only": N_("law only"),
}
SPLITS = {"time": N_("Time split"), "random": N_("Random split")}
#: The labels a model learns, named for a reader; a column of the user's own data keeps its name.
TARGETS = {
    "officer_approved": N_("the officer's decision (assistance granted)"),
    "verified_entitled": N_("entitlement verified in the verification sample"),
}
#: The metrics' column headings (short: they head a table of figures).
METRICS = {
    "accuracy": N_("accuracy"),
    "balanced_accuracy": N_("balanced acc."),
    "precision": N_("precision"),
    "recall": N_("recall"),
    "f1": N_("F1"),
    "roc_auc": N_("ROC-AUC"),
    "pr_auc": N_("PR-AUC"),
    "brier": N_("Brier"),
    "exclusion_error": N_("exclusion err."),
    "inclusion_error": N_("inclusion err."),
    "selection_rate": N_("selected"),
    "coverage_poorest_quintile": N_("poorest 20% covered"),
    "cgh_poorest_quintile": N_("CGH (poorest 20%)"),
}
#: The columns of the fairness audit and the population's groups.
COLUMNS = {
    "region": N_("region"),
    "settlement": N_("settlement"),
    "settlement_type": N_("settlement"),
    "sex_of_head": N_("sex of the head"),
    "disability_in_family": N_("disability in the family"),
    "family_size": N_("family size"),
}
#: Group values that are codes.
VALUES = {
    "urban": N_("urban"),
    "rural": N_("rural"),
    "M": N_("man"),
    "F": N_("woman"),
    "yes": N_("yes"),
    "no": N_("no"),
    "all": N_("all families"),
}
#: The figures of a retrained challenger beside the champion (model.challenger.COMPARED).
COMPARED = {
    "agreement": N_("agreement with officers (accuracy)"),
    "balanced_accuracy": N_("balanced accuracy"),
    "roc_auc": N_("ROC-AUC"),
    "override_rate": N_("override rate it would have caused"),
    "agreement_on_corrections": N_("agreement on the officers' corrections (overridden cases)"),
    "exclusion_error": N_("exclusion error (against decisions)"),
    "inclusion_error": N_("inclusion error (against decisions)"),
    "brier": N_("Brier score"),
}
#: Why decided cases were left out of retraining (service.decided_cases).
EXCLUDED = {
    "decided status without a decision": N_("decided status without a decision"),
    "decided with the recommendation in view (--blind-only)": N_(
        "decided with the recommendation in view (--blind-only)"
    ),
    "snapshot no longer passes the data contract's validator": N_(
        "snapshot no longer passes the data contract's validator"
    ),
}
REFERENCES = {
    "vs_labels": N_("against the labels (officer decisions)"),
    "vs_truth": N_("against true need (synthetic truth)"),
}

_NUMBER = re.compile(r"(?<![\w.])([+−-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)(?![\w])")


class Words:
    """A report's language: ``w = Words('kk'); w.t('…')``, ``w.x(0.8125)`` → ``0,813``."""

    def __init__(self, lang: str | None = None) -> None:
        if lang is None:
            from atauly.settings import get_settings

            lang = get_settings().lang or DEFAULT_LANGUAGE
        self.t = Translator(lang)
        self.lang = self.t.lang

    # -- numbers --------------------------------------------------------------------------------------
    def x(self, value, decimals: int = 3, signed: bool = False) -> str:
        """A figure to a fixed number of places (``0,812``; signed ``+0,013``); a dash when missing."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        value = float(value) + 0.0  # no "-0.000"
        text = format_decimal(abs(value), format="#,##0." + "0" * decimals, locale=self.t.locale)
        if round(value, decimals) == 0:
            return text
        minus = "-" if self.lang == "en" else "−"
        return (minus if value < 0 else "+" if signed else "") + text

    def n(self, value) -> str:
        """A count with the language's grouping (``12 345``)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return self.t.number(int(value))

    def pct(self, share, decimals: int = 1) -> str:
        """A share as a percentage (``12,5%``)."""
        if share is None or (isinstance(share, float) and math.isnan(share)):
            return "–"
        text = format_decimal(abs(share) * 100, format="#,##0." + "#" * decimals, locale=self.t.locale)
        minus = "-" if self.lang == "en" else "−"
        return f"{minus if share < 0 and text.strip('0,.') else ''}{text}%"

    def ci(self, value, lo=None, hi=None, signed: bool = False) -> str:
        """``0,812 [0,790; 0,833]``: a figure and its interval (a semicolon between the ends in ru/kk,
        where the comma is the decimal sign)."""
        text = self.x(value, signed=signed)
        if value is None or lo is None or hi is None:
            return text
        if any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
            return text
        sep = ", " if self.lang == "en" else "; "
        return f"{text} [{self.x(lo, signed=signed)}{sep}{self.x(hi, signed=signed)}]"

    def numbers_in(self, text: str) -> str:
        """``text`` with the plain numbers in it (``0.812``, ``+0.013``, ``12.5%``, ``1,234``) written for
        the language, and its period codes in words."""
        if self.lang != "en":

            def one(m: re.Match) -> str:
                sign, whole, frac, percent = m.groups()
                digits = whole.replace(",", "")
                dec = len(frac) - 1 if frac else 0
                value = float(digits + (frac or ""))
                body = format_decimal(
                    value, format="#,##0" + ("." + "0" * dec if dec else ""), locale=self.t.locale
                )
                sign = {"-": "−"}.get(sign, sign)
                return sign + body + percent

            text = _NUMBER.sub(one, text)
        return plain_periods(text, self.lang)

    def period(self, code) -> str:
        return plain_periods(str(code), self.lang)

    def periods(self, codes) -> str:
        return ", ".join(self.period(c) for c in codes) or "–"

    # -- names ----------------------------------------------------------------------------------------
    def model(self, name: str) -> str:
        return self.t(MODELS[name]) if name in MODELS else str(name).replace("_", " ")

    def split(self, name: str) -> str:
        return self.t(SPLITS[name]) if name in SPLITS else str(name).title()

    def metric(self, name: str) -> str:
        return self.t(METRICS[name]) if name in METRICS else name

    def column(self, name: str) -> str:
        return self.t(COLUMNS[name]) if name in COLUMNS else str(name).replace("_", " ")

    def reference(self, key: str) -> str:
        return self.t(REFERENCES[key]) if key in REFERENCES else key.replace("_", " ")

    def group(self, column: str, value) -> str:
        """A group of the fairness audit as readers call it: a region by its name, codes in words."""
        text = str(value)
        if column == "region" and text in REGION_BY_KATO:
            return region_name(text, self.lang)
        if text in VALUES:
            return self.t(VALUES[text])
        return text

    # -- texts the training stored ---------------------------------------------------------------------
    def target(self, name: str) -> str:
        """The label a model learns, in words (``officer_approved`` → the officer's decision); another column's
        name is returned as it is."""
        return self.t(TARGETS[name]) if name in TARGETS else name

    def said(self, record: dict, key: str, default: str = "") -> str:
        """``record[key]`` in the language: from its code (``record[key + "_code"]``, see
        :mod:`atauly.model.phrases`) when the training stored one, else from the English of an older model."""
        return self.stored(record.get(key, default), record.get(key + "_code"))

    def stored(self, text: str, code: dict | list | None = None) -> str:
        """A sentence the training stored (a split's description, the threshold policy, the gate's reason,
        the comparison's verdict, how it calibrated, the data's source) in the language.

        With ``code`` (a record of :mod:`atauly.model.phrases`, or a list of them for a reason made of
        several checks) it is worded from the catalogs with its figures formatted for the language. Without
        one — a model stored before the codes existed — the English is matched against the patterns the
        training wrote and said again with its figures; a text matching none is looked up in the catalogs
        as it is (and shown in English when no catalog has it)."""
        if code:
            worded = self.phrases(code)
            if worded is not None:
                return worded
        if not text:
            return text
        whole = self._matched(str(text))  # a note that holds "; " itself
        if whole is not None:
            return whole
        parts = [self._one(p) for p in _split_reasons(str(text))]
        return "; ".join(parts)

    def phrases(self, code: dict | list) -> str | None:
        """One record or a list of them in words (joined by "; "), or ``None`` when a code is unknown (a
        newer version stored it: the caller falls back on the English)."""
        items = code if isinstance(code, list) else [code]
        out = [self._phrase(item) for item in items]
        return None if any(x is None for x in out) else "; ".join(out)

    def _phrase(self, item) -> str | None:
        if not isinstance(item, dict) or item.get("code") not in CODED:
            return None
        message, kinds = CODED[item["code"]]
        if item["code"] == "truth.equal_coverage" and item.get("lo") is None:
            message = N_(
                "at equal coverage on {where}, the model's exclusion error minus the law's is {value}"
            )
        fields = {}
        for name, kind in kinds.items():
            value = item.get(name)
            if kind == "phrase" and value is None and name + "_text" in item:
                fields[name] = self.stored(item[name + "_text"])
                continue
            formatted = self._coded_field(value, kind)
            if formatted is None:
                return None
            fields[name] = formatted
        return self.t(message, **fields)

    def _coded_field(self, value, kind: str) -> str | None:
        if kind == "phrase":
            return self.phrases(value) if value else None
        if value is None:
            return self.t(N_("n/a")) if kind in ("x", "sx") else "–"
        if kind == "x":
            return self.x(value)
        if kind == "sx":
            return self.x(value, signed=True)
        if kind == "pct":
            return self.pct(value)
        if kind == "n":
            return self.n(value)
        if kind == "given":  # a floor as the user gave it (0.6, not 0.600)
            return self.numbers_in(str(value))
        if kind == "period":
            return self.period(value)
        if kind == "model":
            return self.model(value)
        if kind == "where":
            return self.t(WHERE[value]) if value in WHERE else str(value)
        return str(value)

    def _one(self, text: str) -> str:
        said = self._matched(text)
        return said if said is not None else self.numbers_in(self.t(text))

    def _matched(self, text: str) -> str | None:
        """``text`` said again when one of the stored sentences' patterns matches it whole, else None."""
        for pattern, message, kinds in _STORED:
            m = pattern.fullmatch(text)
            if m:
                fields = {k: self._field(v, kinds.get(k, "num")) for k, v in m.groupdict().items()}
                return self.t(message, **fields)
        return None

    def _field(self, value: str | None, kind: str) -> str:
        if value is None:
            return "" if kind == "raw" else "–"
        if value == "n/a":
            return self.t(N_("n/a"))
        if kind == "raw":
            return value
        if kind == "model":
            return self.model(value)
        if kind == "text":
            return self.stored(value)
        if kind == "where":
            return self.t(_WHERE.get(value, value))
        return self.numbers_in(value)


def _split_reasons(text: str) -> list[str]:
    """The gate's reason is its checks joined by '; ' (a verdict after ': ' is kept whole)."""
    out: list[str] = []
    for part in text.split("; "):
        if out and out[-1].endswith("against the truth:"):
            out[-1] += " " + part
        else:
            out.append(part)
    return out


_N = r"[+−-]?[\d,]+(?:\.\d+)?%?"
_WHERE = {
    "out-of-fold predictions": N_("out-of-fold predictions"),
    "the calibration set": N_("the calibration set"),
    "the verification sample": N_("the verification sample"),
    "all families (synthetic truth)": N_("all families (synthetic truth)"),
}
_W = "(?P<where>out-of-fold predictions|the calibration set)"

#: Where a figure was measured, by the code the training stores (model.phrases).
WHERE = {
    "oof": N_("out-of-fold predictions"),
    "calibration": N_("the calibration set"),
    "verification": N_("the verification sample"),
    "synthetic": N_("all families (synthetic truth)"),
}
_SIGNED_CI = {"d": "sx", "lo": "sx", "hi": "sx"}
#: What each code of model.phrases says (the message and the kinds of its parameters: x a figure, sx a
#: signed one, pct a share, n a count, given a number as the user gave it, period a quarter, model and
#: where names by code, phrase a nested record, raw as stored).
CODED: dict[str, tuple[str, dict[str, str]]] = {
    "source.registry": (N_("registry {path}"), {"path": "raw"}),
    "source.table": (N_("table {path}"), {"path": "raw"}),
    "source.casework": (N_("casework database: decided applications"), {}),
    "source.casework_blind": (N_("casework database: decided applications (blind mode only)"), {}),
    "split.time": (N_("tested on {test}, trained on the quarters before it"), {"test": "period"}),
    "split.time_grouped": (
        N_(
            "tested on {test}, trained on the quarters before it; held out of training: the families new "
            "then and {share} of the returning ones"
        ),
        {"test": "period", "share": "pct"},
    ),
    "split.random": (N_("{share} of the families held out at random"), {"share": "pct"}),
    "policy.fixed": (N_("fixed threshold on the calibrated probability"), {}),
    "policy.exclusion": (
        N_("the highest threshold with an exclusion error of at most {share} on {where}"),
        {"share": "pct", "where": "where"},
    ),
    "policy.base_rate": (
        N_("recommends {share} of the families (the base rate) on {where}"),
        {"share": "pct", "where": "where"},
    ),
    "policy.coverage": (
        N_("recommends {share} of the families (a given share) on {where}"),
        {"share": "pct", "where": "where"},
    ),
    "policy.budget": (
        N_("recommends {n} of {total} families (a budget) on {where}"),
        {"n": "n", "total": "n", "where": "where"},
    ),
    "policy.balanced": (N_("the maximum balanced accuracy on {where}"), {"where": "where"}),
    "calibration.crossfit": (N_("cross-fitted on {n} grouped folds ({method})"), {"n": "n", "method": "raw"}),
    "calibration.holdout": (N_("on {share} of the training families held out"), {"share": "pct"}),
    "gate.chance_not_excluded": (
        N_("the ROC-AUC interval [{lo}; {hi}] includes chance (0.5)"),
        {"lo": "x", "hi": "x"},
    ),
    "gate.better_than_chance": (
        N_("better than chance (ROC-AUC {auc}, 95% interval [{lo}; {hi}])"),
        {"auc": "x", "lo": "x", "hi": "x"},
    ),
    "gate.too_few_in_test": (
        N_("too few rows of one class in the test set ({n} < {floor}) to judge the model's ranking"),
        {"n": "n", "floor": "n"},
    ),
    "gate.not_above_chance": (N_("ROC-AUC {auc} is not above chance (0.5)"), {"auc": "x"}),
    "gate.worse_than_rival": (
        N_("clearly worse than a rival on the same data: {verdict}"),
        {"verdict": "phrase"},
    ),
    "gate.not_worse_than_rival": (N_("not clearly worse than the best rival, the {name}"), {"name": "model"}),
    "gate.auc_below_floor": (N_("ROC-AUC {auc} is below the floor {floor}"), {"auc": "x", "floor": "given"}),
    "gate.auc_floor_met": (N_("ROC-AUC of at least {floor}"), {"floor": "given"}),
    "gate.balanced_below_floor": (
        N_("balanced accuracy {value} is below the floor {floor}"),
        {"value": "x", "floor": "given"},
    ),
    "gate.worse_than_law": (
        N_("worse than the law on the same data against true need: {why}"),
        {"why": "phrase"},
    ),
    "truth.equal_coverage": (
        N_(
            "at equal coverage on {where}, the model's exclusion error minus the law's is {value} [{lo}; {hi}]"
        ),
        {"where": "where", "value": "sx", "lo": "sx", "hi": "sx"},
    ),
    "truth.not_assessed": (N_("no true need is known: not assessed"), {}),
    "compare.rival_better": (
        N_(
            "the {name} is better than the forest: ROC-AUC {a} against {b} (difference {d}, 95% interval [{lo}; {hi}])"
        ),
        {"name": "model", "a": "x", "b": "x", **_SIGNED_CI},
    ),
    "compare.rival_slightly_better": (
        N_(
            "the {name} ranks slightly better than the forest (ROC-AUC {d}, 95% interval [{lo}; {hi}]): not clearly better"
        ),
        {"name": "model", **_SIGNED_CI},
    ),
    "compare.forest_as_good": (
        N_(
            "the forest ranks at least as well as the best rival, the {name} (ROC-AUC difference rival − forest {d}, 95% interval [{lo}; {hi}])"
        ),
        {"name": "model", **_SIGNED_CI},
    ),
}


def _p(regex: str) -> re.Pattern:
    return re.compile(regex.replace("{N}", _N))


#: (pattern of the stored English, the message that says it, kinds of fields other than numbers).
_STORED: list[tuple[re.Pattern, str, dict]] = [
    # where the training data came from (pipeline.load_training_data, service.retrain)
    (_p(r"registry (?P<path>.+)"), N_("registry {path}"), {"path": "raw"}),
    (_p(r"table (?P<path>.+)"), N_("table {path}"), {"path": "raw"}),
    (
        _p(r"casework database: decided applications \(blind mode only\)"),
        N_("casework database: decided applications (blind mode only)"),
        {},
    ),
    (_p(r"casework database: decided applications"), N_("casework database: decided applications"), {}),
    # split descriptions (train.splits)
    (
        _p(r"train before (?P<before>\S+), test on (?P<test>\S+)"),
        N_("tested on {test}, trained on the quarters before it"),
        {},
    ),
    (
        _p(r"(?P<share>{N}) of groups held out at random"),
        N_("{share} of the families held out at random"),
        {},
    ),
    # threshold policies (threshold.choose, train.choose_threshold)
    (
        _p(r"fixed threshold on the calibrated probability"),
        N_("fixed threshold on the calibrated probability"),
        {},
    ),
    (
        _p(r"highest threshold with exclusion error ≤ (?P<share>{N}) on " + _W),
        N_("the highest threshold with an exclusion error of at most {share} on {where}"),
        {"where": "where"},
    ),
    (
        _p(r"recommends (?P<share>{N}) of the families \(the base rate\) on " + _W),
        N_("recommends {share} of the families (the base rate) on {where}"),
        {"where": "where"},
    ),
    (
        _p(r"recommends (?P<share>{N}) of the families \(a given share\) on " + _W),
        N_("recommends {share} of the families (a given share) on {where}"),
        {"where": "where"},
    ),
    (
        _p(r"recommends (?P<n>{N}) of (?P<total>{N}) families \(a budget\) on " + _W),
        N_("recommends {n} of {total} families (a budget) on {where}"),
        {"where": "where"},
    ),
    (
        _p(r"maximum balanced accuracy on " + _W),
        N_("the maximum balanced accuracy on {where}"),
        {"where": "where"},
    ),
    # how the forest was calibrated (train._fit_split)
    (
        _p(r"cross-fitted on (?P<n>\d+) grouped folds \((?P<method>\w+)\)"),
        N_("cross-fitted on {n} grouped folds ({method})"),
        {"method": "where"},
    ),
    (
        _p(r"held-out (?P<share>{N}) of the training groups"),
        N_("on {share} of the training families held out"),
        {},
    ),
    (_p(r"on held-out families"), N_("on held-out families"), {}),
    # why a column of a user's table was kept, converted or dropped (model.ingest, model.data)
    (_p(r"true/false as 1/0"), N_("true/false as 1/0"), {}),
    (_p(r"dates as days since 1970-01-01"), N_("dates as days since 1 January 1970"), {}),
    (_p(r"numbers"), N_("numbers"), {}),
    (_p(r"numbers \(read from text\)"), N_("numbers (read from text)"), {}),
    (_p(r"text categories"), N_("text categories"), {}),
    (_p(r"no observed value"), N_("no observed value"), {}),
    (_p(r"yes/no as 1/0"), N_("yes/no as 1/0"), {}),
    (_p(r"yes/no strings mixed into numbers as 1/0"), N_("yes/no strings mixed into numbers as 1/0"), {}),
    (
        _p(r"commas read as decimal commas, or as thousands in 1,234,567 and 1,234\.5"),
        N_("commas read as decimal commas, or as thousands separators as in 1,234,567 and 1,234.5"),
        {},
    ),
    (
        _p(r"identifier-like: (?P<n>{N}) distinct values in (?P<rows>{N}) rows"),
        N_("like an identifier: {n} distinct values in {rows} rows"),
        {},
    ),
    (
        _p(r"identifier-like: a distinct, ordered whole number in every row \(a row number\)"),
        N_("like an identifier: a distinct, ordered whole number in every row (a row number)"),
        {},
    ),
    (
        _p(r"identifier-like: a distinct whole number in every row and an identifier's name"),
        N_("like an identifier: a distinct whole number in every row and an identifier's name"),
        {},
    ),
    (_p(r"constant: a single value in every row"), N_("constant: a single value in every row"), {}),
    (
        _p(r"a single value besides missing \(only its missingness informs\)"),
        N_("a single value besides missing (only its missingness informs)"),
        {},
    ),
    (
        _p(
            r"high-cardinality category: (?P<levels>{N}) levels, the (?P<kept>\d+) most frequent kept, the rest as '\(other\)'"
        ),
        N_("a category with many levels: {levels}; the {kept} most frequent kept, the rest as '(other)'"),
        {},
    ),
    (_p(r"(?P<n>{N}) yes/no values as 1/0"), N_("{n} yes/no values as 1/0"), {}),
    (
        _p(r"(?P<n>{N}) non-numeric values(?P<codes> \(.*\))? treated as missing"),
        N_("{n} non-numeric values{codes} treated as missing"),
        {"codes": "raw"},
    ),
    (_p(r"target"), N_("the target"), {}),
    # notes of the training data (model.data, model.verified, model.select): said on the console by
    # `atauly model train` and stored with the metrics, so the report says them too. Some hold "; " and are
    # matched whole before a text is split into a gate's checks (Words.stored).
    (
        _p(r"(?P<n>{N}) rows without a target value were left out of training"),
        N_("{n} rows without a target value were left out of training"),
        {},
    ),
    (
        _p(
            r"column (?P<column>'.*') looks like a protected attribute or an identifier and is used as a "
            r"feature; pass it to --audit \(fairness only\) or --drop"
        ),
        N_(
            "column {column} looks like a protected attribute or an identifier and is used as a feature; pass "
            "it to --audit (fairness only) or --drop"
        ),
        {"column": "raw"},
    ),
    (
        _p(
            r"the verification sample holds (?P<found>{N}) entitled families that did not apply \(fewer than "
            r"(?P<needed>{N})\): too few to train the scan's model on it; trained on officers' decisions instead "
            r"\(not calibrated on the population; --labels verified forces it\)"
        ),
        N_(
            "the verification sample holds {found} entitled families that did not apply (fewer than {needed}): "
            "too few to train the scan's model on it; trained on officers' decisions instead (not calibrated "
            "on the population; --labels verified forces it)"
        ),
        {},
    ),
    (
        _p(r"(?P<n>{N}) verified families that applied that quarter left out"),
        N_("{n} verified families that applied that quarter left out"),
        {},
    ),
    (
        _p(
            r"labels: the verification sample \((?P<rows>{N}) verified family-quarters, (?P<quarters>{N}) "
            r"quarters, (?P<entitled>{N}) entitled\), features from today's recorded view under each row's "
            r"quarter's law"
        ),
        N_(
            "labels: the verification sample ({rows} verified family-quarters, {quarters} quarters, {entitled} "
            "entitled), features from today's recorded view under each row's quarter's law"
        ),
        {},
    ),
    (
        _p(
            r"sample design: (?P<random>{N}) drawn at random, the rest from the stratum where records show "
            r"income below the line \(drawn on records alone: P\(entitled \| records\) stays unbiased\)"
        ),
        N_(
            "sample design: {random} drawn at random, the rest from the stratum where records show income below "
            "the line (drawn on records alone: P(entitled | records) stays unbiased)"
        ),
        {},
    ),
    # notes of a retrained challenger (service.retrain, service.decided_cases)
    (
        _p(r"the held-out decisions have a single outcome: ROC-AUC and balanced accuracy cannot be computed"),
        N_("the held-out decisions have a single outcome: ROC-AUC and balanced accuracy cannot be computed"),
        {},
    ),
    (
        _p(
            r"(?P<name>\S+) has no champion: the challenger is compared with nothing but the recommendations that "
            r"were shown, and it is not promoted"
        ),
        N_(
            "{name} has no champion: the challenger is compared only with the recommendations that were shown, "
            "and it is not promoted"
        ),
        {"name": "raw"},
    ),
    (
        _p(
            r"the law now finds (?P<changed>{N}) of (?P<cases>{N}) cases differently from the result recorded at "
            r"intake \(a newer law version or parameters\)"
        ),
        N_(
            "the law now decides {changed} of {cases} cases differently from the result recorded at intake (a newer "
            "version of the law or of its parameters)"
        ),
        {},
    ),
    (_p(r"the features use today's law"), N_("the features use today's law"), {}),
    # the quality gate (gate.quality_gate, population.gate_check, evaluation.with_truth_check)
    (
        _p(r"ROC-AUC interval \[(?P<lo>{N}), (?P<hi>{N})\] includes chance \(0\.5\)"),
        N_("the ROC-AUC interval [{lo}; {hi}] includes chance (0.5)"),
        {},
    ),
    (
        _p(r"better than chance \(ROC-AUC (?P<auc>{N}), 95% interval \[(?P<lo>{N}), (?P<hi>{N})\]\)"),
        N_("better than chance (ROC-AUC {auc}, 95% interval [{lo}; {hi}])"),
        {},
    ),
    (
        _p(r"ROC-AUC (?P<auc>{N}) is not above chance \(0\.5\)"),
        N_("ROC-AUC {auc} is not above chance (0.5)"),
        {},
    ),
    (
        _p(r"clearly worse than a rival on the same data: (?P<verdict>.+)"),
        N_("clearly worse than a rival on the same data: {verdict}"),
        {"verdict": "text"},
    ),
    (
        _p(r"not clearly worse than the best rival, (?P<name>\w+)"),
        N_("not clearly worse than the best rival, the {name}"),
        {"name": "model"},
    ),
    (_p(r"ROC-AUC (?P<auc>{N}) < (?P<floor>{N})"), N_("ROC-AUC {auc} is below the floor {floor}"), {}),
    (_p(r"ROC-AUC ≥ (?P<floor>{N})"), N_("ROC-AUC of at least {floor}"), {}),
    (
        _p(r"balanced accuracy (?P<value>{N}) < (?P<floor>{N})"),
        N_("balanced accuracy {value} is below the floor {floor}"),
        {},
    ),
    (
        _p(r"worse than the law on the same data against the truth: (?P<why>.+)"),
        N_("worse than the law on the same data against true need: {why}"),
        {"why": "text"},
    ),
    (
        _p(
            r"at equal coverage on (?P<where>the verification sample|all families \(synthetic truth\)), the "
            r"model's exclusion error minus the law's is (?P<value>{N}|n/a)(?: \[(?P<lo>{N}), (?P<hi>{N})\])?"
        ),
        N_(
            "at equal coverage on {where}, the model's exclusion error minus the law's is {value} [{lo}; {hi}]"
        ),
        {"where": "where"},
    ),
    (_p(r"no truth layer: not assessed"), N_("no true need is known: not assessed"), {}),
    # the forest beside its best rival (gate.compare)
    (
        _p(
            r"(?P<name>\w+) is better than the forest: ROC-AUC (?P<a>{N}) vs (?P<b>{N}) \(difference (?P<d>{N}), "
            r"95% interval \[(?P<lo>{N}), (?P<hi>{N})\]\)"
        ),
        N_(
            "the {name} is better than the forest: ROC-AUC {a} against {b} (difference {d}, 95% interval [{lo}; {hi}])"
        ),
        {"name": "model"},
    ),
    (
        _p(
            r"(?P<name>\w+) ranks slightly better than the forest \(ROC-AUC (?P<d>{N}), 95% interval "
            r"\[(?P<lo>{N}), (?P<hi>{N})\]\): not clearly better"
        ),
        N_(
            "the {name} ranks slightly better than the forest (ROC-AUC {d}, 95% interval [{lo}; {hi}]): not clearly better"
        ),
        {"name": "model"},
    ),
    (
        _p(
            r"the forest ranks at least as well as the best rival, (?P<name>\w+) \(ROC-AUC difference rival − "
            r"forest (?P<d>{N}), 95% interval \[(?P<lo>{N}), (?P<hi>{N})\]\)"
        ),
        N_(
            "the forest ranks at least as well as the best rival, the {name} (ROC-AUC difference rival − forest {d}, 95% interval [{lo}; {hi}])"
        ),
        {"name": "model"},
    ),
]
