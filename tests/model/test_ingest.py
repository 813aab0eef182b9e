"""Bring your own data as real exports come (issue 16): every pathology of a survey export has a fixture,
the ingestion report explains every column, a failing baseline never stops training, the threshold
policy and the relative quality gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.model import TrainConfig, load_table, train
from atauly.model.data import Dataset, read_table
from atauly.model.gate import compare, quality_gate
from atauly.model.ingest import decode, ingest, sniff_delimiter
from atauly.model.threshold import choose, max_balanced_accuracy
from atauly.model.train import train_steps
from atauly.settings import get_settings

runner = CliRunner()


def quick(**changes) -> TrainConfig:
    base = dict(
        search_mode="forest",
        search_candidates=3,
        search_trees=30,
        final_trees=60,
        forest_folds=3,
        n_boot=40,
        fairness_boot=10,
        n_jobs=1,
        min_roc_auc=None,
        policy="coverage",
    )
    return TrainConfig(**(base | changes))


def survey(n_households: int = 300, seed: int = 5) -> pd.DataFrame:
    """A household survey export with every pathology of issue 16: an all-missing column, a column missing
    in every labelled row, a constant, a row number, a text id, yes/no and да/нет mixed into numbers,
    dates, a high-cardinality category, decimal commas and "refused" codes."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, n_households)
    hh = np.repeat(np.arange(n_households), sizes)
    n = len(hh)
    income = rng.lognormal(10, 0.6, n)
    children = rng.poisson(1.5, n)
    logit = -0.8 - 3.0 * (np.log(income) - 10) + 0.6 * children
    target = rng.random(n) < 1 / (1 + np.exp(-logit))
    owns_car = rng.random(n) < 0.4
    car = np.where(owns_car, "да", "нет").astype(object)
    car[rng.random(n) < 0.1] = "1"  # numbers mixed with yes/no
    helped = np.where(rng.random(n) < 0.5, "yes", "0").astype(object)
    label = np.where(target, "да", "нет").astype(object)
    label[rng.random(n) < 0.05] = ""  # rows without a target
    skipped = np.full(n, "", dtype=object)
    skipped[label == ""] = "7"  # observed only where there is no target
    income_text = np.array([f"{v:.2f}".replace(".", ",") for v in income], dtype=object)
    income_text[rng.random(n) < 0.02] = "отказ"  # "refused": a few codes in a numeric column
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    return pd.DataFrame(
        {
            "row": np.arange(1, n + 1),
            "respondent_code": [f"R{rng.integers(10**8, 10**9)}" for _ in range(n)],
            "household": [f"hh{h}" for h in hh],
            "income": income_text,
            "children": children,
            "owns_car": car,
            "got_help": helped,
            "survey_date": start.strftime("%d.%m.%Y"),
            "village": [f"village {v}" for v in rng.integers(0, 400, n)],
            "region": rng.choice(["north", "south", "east"], n),
            "empty": "",
            "skipped": skipped,
            "wave": "2024",
            "poor": label,
        }
    )


def test_ingestion_report_explains_every_column(tmp_path):
    path = tmp_path / "survey.csv"
    survey().to_csv(path, index=False, sep=";", encoding="cp1251")
    ds = load_table(path, "poor", group="household")
    report = {r["column"]: r for r in ds.ingestion}
    assert set(report) == set(survey().columns)
    assert ds.file_format == {"format": "csv", "encoding": "cp1251", "delimiter": ";"}
    action = {c: r["action"] for c, r in report.items()}
    assert action["empty"] == "dropped" and "no observed value" in report["empty"]["reason"]
    assert action["skipped"] == "dropped"  # all-missing within the rows that have a target
    assert action["wave"] == "dropped" and "constant" in report["wave"]["reason"]
    assert action["row"] == "dropped" and "row number" in report["row"]["reason"]
    assert action["respondent_code"] == "dropped" and "identifier" in report["respondent_code"]["reason"]
    assert action["owns_car"] == "converted" and "yes/no" in report["owns_car"]["reason"]
    assert action["got_help"] == "converted" and report["got_help"]["kind"] == "numeric"
    assert action["survey_date"] == "converted" and "dates" in report["survey_date"]["reason"]
    assert action["village"] == "converted" and "high-cardinality" in report["village"]["reason"]
    assert action["income"] == "converted" and "treated as missing" in report["income"]["reason"]
    assert "отказ" in report["income"]["reason"]  # a recurring code is shown, never a one-off value
    assert action["household"] == "not a feature" and action["poor"] == "not a feature"
    assert action["region"] == "kept" and action["children"] == "kept"
    assert set(ds.numeric) == {"income", "children", "owns_car", "got_help", "survey_date"}
    assert set(ds.categorical) == {"village", "region"}
    assert ds.X["village"].nunique() == 51  # 50 levels and "(other)"
    income = ds.X["income"].to_numpy()
    assert np.nanmin(income) > 1000 and np.isnan(income).mean() < 0.05  # decimal comma read
    assert set(np.unique(ds.X["owns_car"])) == {0.0, 1.0}
    assert any("column(s) dropped" in note for note in ds.notes)


@pytest.mark.parametrize(
    "write",
    [
        lambda f, p: f.to_csv(p, index=False),
        lambda f, p: f.to_csv(p, index=False, encoding="utf-8-sig"),
        lambda f, p: f.to_csv(p, index=False, sep="\t"),
        lambda f, p: f.to_csv(p, index=False, sep=";", encoding="cp1251"),
    ],
    ids=["utf8-comma", "bom", "tab", "cp1251-semicolon"],
)
def test_csv_variants_read_the_same(tmp_path, write):
    frame = survey(60)
    path = tmp_path / "t.csv"
    write(frame, path)
    read = read_table(path)
    assert list(read.columns) == list(frame.columns)
    assert read["owns_car"].tolist() == frame["owns_car"].tolist()  # Cyrillic intact


def test_xlsx_is_read(tmp_path):
    frame = survey(60)
    path = tmp_path / "t.xlsx"
    frame.to_excel(path, index=False)
    ds = load_table(path, "poor", group="household")
    assert ds.file_format["format"] == "xlsx"
    assert "owns_car" in ds.numeric and "income" in ds.numeric


def test_decoding_and_delimiters():
    assert decode("а;б".encode("cp1251")) == ("а;б", "cp1251")
    assert decode("\ufeffa,b".encode()) == ("a,b", "utf-8-sig")
    assert sniff_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert sniff_delimiter("a|b\n1|2\n") == "|"


def test_yes_no_in_every_language_and_constant_with_missing():
    frame = pd.DataFrame(
        {
            "kk": ["иә", "жоқ"] * 30,
            "en": ["Yes", "no"] * 30,
            "mixed": ["да", "2", "нет", "0,5"] * 15,
            "once": ["x"] * 30 + [None] * 30,  # a single value and missing: kept (missingness informs)
        }
    )
    out = ingest(frame)
    assert out.numeric == ["kk", "en", "mixed"] and out.categorical == ["once"]
    assert out.frame["kk"].tolist()[:2] == [1.0, 0.0]
    assert out.frame["mixed"].tolist()[:4] == [1.0, 2.0, 0.0, 0.5]


def _dataset(X: pd.DataFrame, y: np.ndarray) -> Dataset:
    ids = np.arange(len(y)).astype(str)
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    categorical = [c for c in X.columns if c not in numeric]
    return Dataset(X, y, ids, ids, pd.DataFrame(index=X.index), "table", "y", numeric, categorical)


def test_a_failing_baseline_is_reported_and_the_forest_still_trains():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "never": np.nan})
    y = X["a"].to_numpy() * X["b"].to_numpy() + rng.normal(scale=0.3, size=n) > 0.3  # an interaction
    # Gradient boosting's binning fails on a column without an observed value ("window shape cannot be
    # larger than input array shape"), as in the issue's household survey.
    steps: list[str] = []
    ds = _dataset(X, y)
    result = train(ds, quick(), steps.append)
    # The progress bar names each step, and knows them all in advance (its length).
    assert steps == train_steps(ds, quick())
    assert any(s.startswith("search random: rung 1/") for s in steps)
    split = result.metrics["splits"]["random"]
    assert "gradient_boosting" in split["failed_baselines"]
    assert "window shape" in split["failed_baselines"]["gradient_boosting"]
    assert "failed" in split["models"]["gradient_boosting"]
    assert "vs_labels" in split["models"]["logistic_regression"]
    assert result.metrics["quality_gate"]["passed"]
    assert any("no observed value in the training part" in n for n in result.metrics["notes"])


def test_shuffled_labels_fail_the_relative_gate_and_real_ones_pass():
    rng = np.random.default_rng(1)
    n = 800
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    a, b, c = X["a"].to_numpy(), X["b"].to_numpy(), X["c"].to_numpy() == "x"
    y = a**2 + c * b + rng.normal(scale=0.5, size=n) > 1.0  # not linear: the forest's kind of signal
    good = train(_dataset(X, y), quick())
    assert good.metrics["quality_gate"]["passed"], good.metrics["quality_gate"]
    shuffled = train(_dataset(X, rng.permutation(y)), quick())
    gate = shuffled.metrics["quality_gate"]
    assert not gate["passed"] and "includes chance" in gate["reason"]


def test_a_clearly_better_rival_fails_the_gate():
    rng = np.random.default_rng(2)
    n = 3000
    y = rng.random(n) < 0.3
    good = y + rng.normal(scale=0.5, size=n)
    poor = y + rng.normal(scale=2.0, size=n)
    groups = np.arange(n)
    comparison = compare(y, groups, (poor, poor > 0.5), {"other": (good, good > 0.5)}, 100, 0)
    assert comparison["rival_clearly_better"] and comparison["best_rival"] == "other"
    headline = {"roc_auc": comparison["forest"]["roc_auc"], "balanced_accuracy": 0.6}
    gate = quality_gate(headline, {"roc_auc": (0.6, 0.7)}, comparison)
    assert not gate["passed"] and "clearly worse" in gate["reason"]
    comparison = compare(y, groups, (good, good > 0.5), {"other": (poor, poor > 0.5)}, 100, 0)
    assert not comparison["rival_clearly_better"]
    assert quality_gate(headline, {"roc_auc": (0.6, 0.7)}, comparison)["passed"]


def test_threshold_policies_on_out_of_fold_predictions():
    rng = np.random.default_rng(3)
    y = rng.random(2000) < 0.2
    p = np.clip(0.2 + 0.4 * y + rng.normal(scale=0.2, size=2000), 0, 1)
    t, text, _ = choose(y, p, "coverage")
    assert (p >= t).mean() == pytest.approx(y.mean(), abs=0.002) and "base rate" in text
    t, _, _ = choose(y, p, "budget", 100)
    assert (p >= t).sum() == 100
    t, _, _ = choose(y, p, "exclusion", 0.1)
    assert 1 - (p[y] >= t).mean() <= 0.1
    t = max_balanced_accuracy(y, p)
    grid = np.unique(p)
    best = max(((p[y] >= g).mean() + (p[~y] < g).mean()) for g in grid)
    assert (p[y] >= t).mean() + (p[~y] < t).mean() == pytest.approx(best)
    with pytest.raises(ValueError):
        choose(y, p, "budget", None)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ATAULY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ATAULY_WORKERS", "1")
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_train_on_a_raw_export_then_score_by_name(home, tmp_path):
    """The issue's user: a cp1251 semicolon export, no hand edits; the model passes the relative gate and
    `model score --model NAME` works without @v1; the report is stored beside the model and in the card."""
    frame = survey(500)
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False, sep=";", encoding="cp1251")
    r = runner.invoke(
        app,
        [
            "model",
            "train",
            "--data",
            str(path),
            "--target",
            "poor",
            "--group",
            "household",
            "--name",
            "survey",
        ],
    )
    assert r.exit_code == 0, r.output
    # The console in Russian by default: the columns' table, the verdict against the best rival, the gate.
    assert (
        "Столбцы таблицы (формат csv, кодировка cp1251" in r.output and "похож на идентификатор" in r.output
    )
    assert "Лес против лучшего соперника" in r.output and "Контроль качества пройден" in r.output
    version = home / "models" / "survey" / "v1"
    ingestion = json.loads((version / "ingestion.json").read_text(encoding="utf-8"))
    assert ingestion["format"]["encoding"] == "cp1251"
    assert {c["column"] for c in ingestion["columns"]} == set(frame.columns)
    assert pd.read_csv(version / "ingestion.csv")["action"].eq("dropped").sum() == 5
    card = (version / "model_card.md").read_text(encoding="utf-8")
    assert "Столбцы таблицы" in card and "Правило выбора порога `coverage`" in card
    assert "Выбор модели" in card and "перекрёстная подгонка" in card
    from atauly.model.card import model_card_markdown

    kk = model_card_markdown(json.loads((version / "metadata.json").read_text(encoding="utf-8")), "kk")
    assert "сәйкестендіргішке ұқсайды" in kk and "identifier-like" not in kk and "cp1251" in kk
    meta = json.loads((version / "metadata.json").read_text(encoding="utf-8"))
    assert meta["metrics"]["threshold"]["rule"] == "coverage"
    out = tmp_path / "scores.csv"
    r = runner.invoke(
        app, ["model", "score", "--model", "survey", "--data", str(path), "--id", "row", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    scores = pd.read_csv(out)
    assert len(scores) == len(frame) and scores["probability"].between(0, 1).all()
    # The stored threshold recommends about the base rate's share.
    labelled = frame["poor"].ne("")
    share = scores["recommended"][labelled.to_numpy()].mean()
    assert abs(share - frame.loc[labelled, "poor"].eq("да").mean()) < 0.12


def test_a_cross_fitted_forest_scores_fast_and_explains(tmp_path):
    """The forest-mode model (cross-fitted centred isotonic or sigmoid calibration on one forest) takes the
    fast scoring path with the same probabilities, survives the store, and its reasons work."""
    from atauly.model import STORE_STEPS, ModelStore, Recommender, train_and_store

    frame = survey(1400, seed=8)
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    ds = load_table(path, "poor", group="household")
    assert len(ds) * 0.8 >= 2000  # the training part: isotonic (centred), not sigmoid
    store = ModelStore(tmp_path / "models")
    steps: list[str] = []
    stored, result, _ = train_and_store(ds, store, "s", "table", quick(baselines=False), steps.append)
    assert steps == [*train_steps(ds, quick(baselines=False)), *STORE_STEPS]
    assert result.model.method == "isotonic"
    rec = Recommender.load(store, "s@v1")
    assert rec._forest_parts() is not None
    rows = frame.drop(columns=["poor"])
    rows.loc[rows.index[:5], "village"] = "a village never seen"  # lumped like rare ones at training
    prepared = rec.prepare(rows)
    assert set(prepared["village"].iloc[:5]) == {"(other)"}
    expected = rec.model.predict_proba(prepared)[:, 1]
    np.testing.assert_array_equal(rec.fast_probability(rows), expected)
    scored, reasons = rec.score_with_reasons(rows.iloc[:20], "en", 2)
    assert len(reasons) == 20 and all(len(r) == 2 for r in reasons)
    # Centred isotonic: the calibrated probability keeps the forest's ranking inside the data's range.
    from atauly.model.estimators import forest_of

    raw = forest_of(rec.model).predict_proba(rec.prepare(rows))[:, 1]
    inside = (raw > np.quantile(raw, 0.2)) & (raw < np.quantile(raw, 0.8))
    order = np.argsort(raw[inside])
    assert np.all(np.diff(expected[inside][order]) >= 0)
    assert len(np.unique(expected[inside])) > 0.9 * len(np.unique(raw[inside]))


def test_policy_options_are_checked(home, tmp_path):
    path = tmp_path / "s.csv"
    survey(40).to_csv(path, index=False)
    base = ["model", "train", "--data", str(path), "--target", "poor"]
    r = runner.invoke(app, [*base, "--policy", "balanced", "--budget", "5"])
    assert r.exit_code != 0 and "--budget goes with --policy budget" in r.output
    r = runner.invoke(app, [*base, "--policy", "budget"])
    assert r.exit_code != 0 and "needs a number of families" in r.output
    r = runner.invoke(app, [*base, "--policy", "lucky"])
    assert r.exit_code != 0 and "--policy must be one of" in r.output


def test_scoring_converts_numbers_as_training_did_and_refuses_text():
    from atauly.model.data import DataError, prepare

    ok = pd.DataFrame({"x": ["1,5", "да", "нет", "отказ"] + ["2"] * 96, "c": ["a"] * 100})
    X = prepare(ok, ["x"], ["c"])
    assert X["x"].tolist()[:3] == [1.5, 1.0, 0.0] and np.isnan(X["x"].iloc[3])
    bad = pd.DataFrame({"x": ["north", "south"] * 50, "c": ["a"] * 100})
    with pytest.raises(DataError, match="'x': 100 values are not numbers"):
        prepare(bad, ["x"], ["c"])


def test_a_number_reads_the_same_whatever_else_is_in_the_batch():
    """Scoring converts one value as training did: the comma rule is decided per value, not per column."""
    from atauly.model.ingest import numeric_from_text

    alone, _ = numeric_from_text(pd.Series(["1,5"]))
    mixed, _ = numeric_from_text(pd.Series(["1.5", "1,5", "1,234,567", "1.234,5", "1,234.5"]))
    assert alone[0] == 1.5 and list(mixed) == [1.5, 1.5, 1234567.0, 1234.5, 1234.5]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(50, 3000),
    strength=st.floats(0.0, 8.0),
)
def test_the_calibration_map_never_ties_what_the_forest_ranks_apart(seed, n, strength):
    """The centred isotonic map is strictly increasing on every forest probability in [0, 1] (ends at 0
    and 1 and beyond the fitted range included) and stays within [0, 1]: calibrating cannot cost
    ranking (ROC-AUC, who is in the top N)."""
    from sklearn.isotonic import IsotonicRegression

    from atauly.model.select import centred

    rng = np.random.default_rng(seed)
    raw = np.round(rng.random(n), 2)  # forest probabilities: vote shares, many repeated
    y = rng.random(n) < 1 / (1 + np.exp(-strength * (raw - 0.5)))
    if y.all() or not y.any():
        y[0] = not y[0]
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    mapped = centred(iso, raw, y)
    grid = np.linspace(0.0, 1.0, 501)
    out = mapped.predict(grid)
    assert np.all((out >= 0.0) & (out <= 1.0))
    if len(np.unique(iso.predict(raw))) >= 2:
        assert np.all(np.diff(out) > 0), "a flat stretch ties families the forest ranks apart"


def test_the_reference_forest_is_kept_unless_a_challenger_is_clearly_better():
    """The winner's curse: the best of 8 noisy CV scores beats the reference by chance. Measured search
    tables (per-fold ROC-AUCs with the paired gains of the cancer table and the survey)."""
    from atauly.model.select import pick, z_clear

    assert z_clear(7) == pytest.approx(2.45, abs=0.01)
    reference = np.array([0.990, 0.975, 0.985, 0.984])
    noise = np.array([0.0061, 0.0003, 0.0000, 0.0060])  # gain 0.0031 ± 0.0018: z ≈ 1.7
    others = [reference - 0.001 * i for i in range(1, 7)]
    best, gains, ses = pick([reference, reference + noise, *others])
    assert best == 0 and gains[1] == pytest.approx(0.0031) and 1.0 < gains[1] / ses[1] < 2.45
    clear = np.array([0.066, 0.070, 0.071, 0.065])  # the survey's leaf 10: z ≈ 26
    best, gains, ses = pick([reference, reference + noise, reference + clear, *others])
    assert best == 2 and gains[2] / ses[2] > 20
    tiny = np.array([0.0015, 0.0016, 0.0015, 0.0016])  # clear in s.e. but below MIN_GAIN
    assert pick([reference, reference + tiny])[0] == 0
    assert pick([reference, reference - clear])[0] == 0


def test_a_test_set_with_one_positive_fails_the_gate_as_unjudgeable_not_as_worse():
    # One positive family among 300 (a small scan sample's last quarter): its rank alone is the ROC-AUC,
    # and a row bootstrap keeps its rank, so "clearly worse than a rival" would be a verdict on one family.
    rng = np.random.default_rng(5)
    y = np.zeros(300, dtype=bool)
    y[7] = True
    forest, rival = rng.random(300), rng.random(300)
    forest[7], rival[7] = 0.1, 0.99
    comparison = compare(y, np.arange(300), (forest, forest > 0.5), {"other": (rival, rival > 0.5)}, 100, 0)
    headline = {"roc_auc": comparison["forest"]["roc_auc"], "balanced_accuracy": 0.5}
    gate = quality_gate(headline, {"roc_auc": (0.05, 0.2)}, comparison, test_y=y)
    assert not gate["passed"]
    assert "too few rows of one class in the test set (1 < 5)" in gate["reason"]
    assert "clearly worse" not in gate["reason"] and "chance" not in gate["reason"]
    # With enough of both classes the usual checks run.
    assert (
        "too few"
        not in quality_gate(headline, {"roc_auc": (0.6, 0.7)}, comparison, test_y=rng.random(300) < 0.3)[
            "reason"
        ]
    )
