"""`atauly model …` as users and scripts call it (the verbs and columns are contracts)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.settings import get_settings

from .conftest import byod_frame

runner = CliRunner()
#: The bring-your-own-data fixture's columns: target, households, row ids, and a leak to drop.
BYOD = ("--target", "needy", "--group", "household", "--id", "row_id", "--drop", "leak")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ATAULY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ATAULY_WORKERS", "1")
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def test_train_score_evaluate_recommend_on_a_registry(home, small_registry, tmp_path):
    r = invoke("model", "train", "--registry", small_registry, "--name", "asp", "--lang", "kk")
    assert r.exit_code == 0, r.output
    # The console in --lang (issue 16): the verdict, the rule's name and the figures' decimal comma.
    assert "asp@v1 — чемпион." in r.output and "дерекқор деректеріндегі заң" in r.output
    assert "Сапа бақылауынан өтті." in r.output and "law_on_recorded_data" not in r.output
    stored_card = (home / "models" / "asp" / "v1" / "model_card.md").read_text(encoding="utf-8")
    assert stored_card.startswith("# Модель картасы: asp@v1")  # written in --lang
    out = tmp_path / "scores.csv"
    r = invoke(
        "model",
        "score",
        "--model",
        "asp",
        "--data",
        small_registry,
        "--out",
        out,
        "--reasons",
        "2",
        "--lang",
        "kk",
    )
    assert r.exit_code == 0, r.output
    scores = pd.read_csv(out)
    assert list(scores.columns[:3]) == ["family_id", "probability", "recommended"]
    assert scores["probability"].between(0, 1).all() and set(scores["recommended"]) <= {0, 1}
    assert scores["reason_1"].str.len().gt(0).all()
    r = invoke("model", "score", "--model", "asp", "--data", small_registry, "--out", out, "--budget", "25")
    assert r.exit_code == 0, r.output
    assert pd.read_csv(out)["recommended"].sum() >= 25
    r = invoke(
        "model",
        "evaluate",
        "--model",
        "asp",
        "--registry",
        small_registry,
        "--quarter",
        "2025Q3",
        "--out",
        tmp_path / "ev",
    )
    assert r.exit_code == 0, r.output
    evaluation = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert evaluation["model"]["vs_labels"]["accuracy"] > 0.9 and "vs_truth" in evaluation["model"]
    family = scores["family_id"].iloc[0]
    r = invoke(
        "model",
        "recommend",
        "--model",
        "asp",
        "--registry",
        small_registry,
        "--family",
        family,
        "--lang",
        "en",
    )
    assert r.exit_code == 0, r.output
    assert "Probability of entitlement" in r.output and "the officer decides" in r.output
    r = invoke("model", "list")
    assert r.exit_code == 0 and "asp" in r.output and "★" in r.output
    r = invoke("model", "card", "--model", "asp")
    assert r.exit_code == 0 and "Карточка модели: asp@v1" in r.output  # ru by default
    r = invoke("model", "card", "--model", "asp", "--lang", "en")
    assert r.exit_code == 0 and "Model card: asp@v1" in r.output
    r = invoke("model", "card", "--model", "asp", "--lang", "xx")
    assert r.exit_code == 2 and "--lang" in r.output
    r = invoke("model", "report", "--model", "asp", "--lang", "kk", "--out", tmp_path / "kk")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "kk" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="kk">' in page and "Әділдік" in page
    assert "Модель картасы: asp@v1" in (tmp_path / "kk" / "model_card.md").read_text(encoding="utf-8")


def test_bring_your_own_data_through_the_cli(home, tmp_path):
    data = tmp_path / "loans.parquet"
    byod_frame().to_parquet(data)
    r = invoke(
        "model",
        "train",
        "--data",
        data,
        *BYOD,
        "--audit",
        "sex",
        "--name",
        "loans",
    )
    assert r.exit_code == 0, r.output
    # The console in Russian by default (issue 16): the dataset line, the table, the threshold, the gate.
    for words in (
        "признаков: числовых — 2, категориальных — 2",
        "случайный лес",
        "Порог 0,",
        "Контроль качества пройден",
    ):
        assert words in r.output, words
    assert not re.search(r"Quality gate|Threshold|rows, \d", r.output)
    out = tmp_path / "s.csv"
    r = invoke("model", "score", "--model", "loans", "--data", data, "--id", "row_id", "--out", out)
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(out).columns) == ["row_id", "probability", "recommended"]
    r = invoke("model", "evaluate", "--model", "loans", "--data", data, "--target", "needy")
    assert r.exit_code == 0, r.output
    # A table without a feature column the model needs: a clear error naming it.
    byod_frame().drop(columns=["income"]).to_csv(tmp_path / "bad.csv", index=False)
    r = invoke(
        "model", "score", "--model", "loans", "--data", tmp_path / "bad.csv", "--id", "row_id", "--out", out
    )
    assert r.exit_code != 0 and "income" in r.output


def test_quality_gate_failure_exits_1_and_tampering_is_refused(home, tmp_path):
    frame = byod_frame()
    frame["needy"] = frame["needy"].sample(frac=1, random_state=1).to_numpy()  # shuffled labels
    data = tmp_path / "shuffled.csv"
    frame.to_csv(data, index=False)
    r = invoke(
        "model",
        "train",
        "--data",
        data,
        *BYOD,
        "--name",
        "noise",
        "--no-baselines",
    )
    assert r.exit_code == 1 and "Контроль качества не пройден" in r.output  # ru by default
    r = invoke("model", "promote", "--model", "noise")
    assert r.exit_code != 0 and "quality gate" in r.output
    r = invoke("model", "promote", "--model", "noise", "--force")
    assert r.exit_code == 0
    artifact = home / "models" / "noise" / "v1" / "model.skops"
    artifact.write_bytes(artifact.read_bytes() + b"x")
    r = invoke(
        "model", "score", "--model", "noise", "--data", data, "--id", "row_id", "--out", tmp_path / "o.csv"
    )
    assert r.exit_code != 0 and "modified" in r.output
    r = invoke("model", "train", "--data", data, "--name", "x")
    assert r.exit_code != 0 and "--target" in r.output


def test_train_speaks_kazakh_with_lang_kk(home, tmp_path):
    data = tmp_path / "loans.csv"
    byod_frame(300).to_csv(data, index=False)
    r = invoke("model", "train", "--data", data, *BYOD, "--name", "kk", "--lang", "kk")
    assert r.exit_code == 0, r.output
    for words in (
        "Кесте бағандары",
        "кездейсоқ орман",
        "Шекті мән 0,",
        "Сапа бақылауынан өтті.",
        "kk@v1 — чемпион.",
    ):
        assert words in r.output, words
    assert not re.search(r"Quality gate|Threshold|Columns of|Контроль качества", r.output)


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_training_step_is_said_in_the_language(lang):
    import numpy as np

    from atauly.cli.model_retrain import retrain_step_words
    from atauly.cli.model_train import step_words
    from atauly.model import STORE_STEPS, TrainConfig
    from atauly.model.train import train_steps
    from atauly.model.wording import Words

    class Quarters:  # a data set with two quarters: a time split and a random split
        period = np.array(["2025Q1", "2025Q2"])

    w = Words(lang)
    names = [
        *train_steps(Quarters, TrainConfig(search_mode="forest")),
        *train_steps(Quarters, TrainConfig(search_mode="grid")),
        *STORE_STEPS,
    ]
    for name in names:
        said = step_words(name, w)
        assert not re.search(r"[A-Za-z]", said), (name, said)
        assert not re.search(r"[A-Za-z]", retrain_step_words(f"Training the challenger: {name}", w))
    for name in ("Reading decided cases", "Comparing (family bootstrap)", "Done"):
        assert not re.search(r"[A-Za-z]", retrain_step_words(name, w))
