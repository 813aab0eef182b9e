"""Training on a small generated registry and on a bring-your-own-data table; the quality gate;
explanations in three languages; the model store (tamper check, promote, rollback)."""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pytest

from atauly.model import (
    ModelStoreError,
    Recommender,
    TamperedModelError,
    load_applications,
    load_table,
    train_and_store,
)
from atauly.model.data import DataError, parse_target
from atauly.model.estimators import forest_of
from atauly.model.train import splits

from .conftest import byod_frame, quick_config


@pytest.fixture(scope="module")
def trained(applications, tmp_path_factory):
    from atauly.model import ModelStore

    store = ModelStore(tmp_path_factory.mktemp("store") / "models")
    stored, result, promoted = train_and_store(applications, store, "asp", "test registry", quick_config())
    return store, stored, result, promoted


def test_registry_training_reports_everything(trained, applications):
    store, stored, result, promoted = trained
    m = result.metrics
    assert m["primary_split"] == "time" and set(m["splits"]) == {"time", "random"}
    time_split = m["splits"]["time"]
    assert set(time_split["models"]) == {
        "random_forest",
        "logistic_regression",
        "gradient_boosting",
        "law_as_applied",
        "law_on_recorded_data",
    }
    rf = time_split["models"]["random_forest"]
    assert {"vs_labels", "vs_labels_ci", "vs_truth", "vs_truth_ci"} <= set(rf)
    # Officer decisions follow the law on the snapshot with a few % of errors: the model learns that.
    assert rf["vs_labels"]["accuracy"] > 0.9
    assert rf["vs_labels"]["roc_auc"] > 0.9
    lo, hi = rf["vs_labels_ci"]["accuracy"]
    assert lo <= rf["vs_labels"]["accuracy"] <= hi
    assert m["quality_gate"]["passed"] and promoted
    assert set(m["fairness"]["vs_truth"]) == {
        "region",
        "settlement",
        "sex_of_head",
        "disability_in_family",
        "family_size",
    }
    assert any(r["chosen"] for r in m["search"])
    for name in (
        "model.skops",
        "metadata.json",
        "metrics.json",
        "report.html",
        "model_card.md",
        "model_card.html",
    ):
        assert (stored.path / name).exists(), name
    card = (stored.path / "model_card.md").read_text()  # in the locale's language (ru by default)
    assert "Только рекомендательный характер" in card and "ошибка исключения" in card
    assert "пол главы семьи" in card
    meta = json.loads((stored.path / "metadata.json").read_text())
    assert meta["training"]["data_sha256"] == applications.fingerprint()
    assert len(meta["sha256"]) == 64 and meta["code_version"]


def test_time_split_trains_on_earlier_quarters_and_groups_never_straddle(applications):
    parts = splits(applications, quick_config())
    train, test, _ = parts["time"]
    assert max(applications.period[train]) < min(applications.period[test])
    # The plain time split tests on families that applied in training quarters: the metrics say so.
    last = applications.period == max(applications.period)
    earlier = set(applications.groups[~last])
    returning = np.isin(applications.groups, list(earlier))
    assert returning[last].mean() > 0.5
    # Grouped by family too (issue 14): no test family was seen in training; the families new in the
    # latest quarter are all tested, a share of the returning ones too, and families absent from the
    # latest quarter all stay in training.
    train, test, _ = splits(applications, quick_config(grouped_time_split=True))["time"]
    assert max(applications.period[train]) < min(applications.period[test])
    assert not set(applications.groups[train]) & set(applications.groups[test])
    assert set(applications.groups[last & ~returning]) <= set(applications.groups[test])
    assert 0 < returning[test].sum() < returning[last].sum()
    only_earlier = ~np.isin(applications.groups, list(set(applications.groups[last])))
    assert set(applications.groups[only_earlier]) <= set(applications.groups[train])
    train, test, _ = parts["random"]
    assert not set(applications.groups[train]) & set(applications.groups[test])


def test_no_protected_attribute_is_a_feature(applications):
    banned = {"sex", "sex_of_head", "region_kato", "district_kato", "iin", "birth_date", "age", "region"}
    assert not banned & set(applications.X.columns)


def test_shuffled_labels_fail_the_quality_gate(applications, store):
    rng = np.random.default_rng(0)
    shuffled = applications.take(np.arange(len(applications)))
    shuffled.y = rng.permutation(shuffled.y)
    shuffled.rules = {}
    stored, result, promoted = train_and_store(
        shuffled, store, "shuffled", "shuffled labels", quick_config(baselines=False)
    )
    assert not result.metrics["quality_gate"]["passed"]
    assert not promoted and store.aliases("shuffled")["champion"] is None
    with pytest.raises(ModelStoreError, match="quality gate"):
        store.promote("shuffled")


def test_reasons_in_three_languages_add_up(trained, applications):
    store, stored, _, _ = trained
    rec = Recommender.load(store, "asp")
    frame = applications.X.iloc[:5]
    texts = {}
    for lang in ("ru", "kk", "en"):
        reasons = rec.reasons(frame, lang, top=3)
        assert len(reasons) == 5 and all(1 <= len(r) <= 3 for r in reasons)
        texts[lang] = [r.text for r in reasons[0]]
    assert texts["ru"] != texts["en"] and texts["kk"] != texts["en"] and texts["kk"] != texts["ru"]
    # Path contributions add up to the forest's raw probability.
    pipe = forest_of(rec.model)
    Xt = pipe.named_steps["prep"].transform(rec.prepare(frame))
    raw = pipe.named_steps["forest"].predict_proba(Xt)[:, 1]
    contrib = rec._contributions(Xt)
    np.testing.assert_allclose(rec._contributions.bias + contrib.sum(axis=1), raw, atol=1e-9)


def test_store_refuses_a_modified_file_and_promotes_and_rolls_back(trained, applications):
    store, stored, _, _ = trained
    second, _, promoted = train_and_store(
        applications, store, "asp", "again", quick_config(baselines=False, random_split=False)
    )
    assert not promoted and store.aliases("asp")["champion"] == "v1"  # later versions need promote
    assert store.promote("asp", second.version) == "v2"
    assert store.resolve("asp") == ("asp", "v2")
    assert store.rollback("asp") == "v1"
    with pytest.raises(ModelStoreError, match="no previous champion"):
        store.rollback("asp")
    meta_path = second.path / "metadata.json"
    original_meta = meta_path.read_text()
    meta_path.write_text(json.dumps(dict(json.loads(original_meta), threshold=0.01)))
    with pytest.raises(TamperedModelError, match="metadata.json"):
        store.load("asp@v2")
    with pytest.raises(TamperedModelError, match="metadata.json"):
        store.describe("asp@v2")
    meta_path.write_text(original_meta)
    assert store.load("asp@v2").version == "v2"
    assert store.describe("asp@v2").metadata == store.load("asp@v2").metadata
    with pytest.raises(ModelStoreError, match="two versions"):
        store.promote("asp@v1", "v2")
    assert store.promote("asp@v1") == "v1"  # NAME@vN is honoured
    artifact = second.path / "model.skops"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(TamperedModelError, match="modified"):
        store.load("asp@v2")
    with pytest.raises(TamperedModelError, match="model.skops was modified"):  # described as loaded
        store.describe("asp@v2")
    with pytest.raises(ModelStoreError, match="no version"):
        store.load("asp@v9")
    with pytest.raises(ModelStoreError, match="invalid model name"):
        store.load("../etc")


def test_bring_your_own_data(tmp_path, store):
    frame = byod_frame()
    path = tmp_path / "loans.csv"
    frame.to_csv(path, index=False)
    ds = load_table(path, "needy", group="household", id_column="row_id", drop=["leak"], audit=["sex"])
    assert set(ds.categorical) == {"region", "job"} and set(ds.numeric) == {"income", "children"}
    assert "leak" not in ds.X.columns and "sex" not in ds.X.columns  # dropped; audit only
    assert ds.X["income"].isna().any() and ds.X["job"].isna().any()
    stored, result, promoted = train_and_store(ds, store, "loans", "table", quick_config())
    m = result.metrics
    assert m["primary_split"] == "random"
    assert set(m["splits"]["random"]["models"]) == {
        "random_forest",
        "logistic_regression",
        "gradient_boosting",
    }
    assert m["splits"]["random"]["models"]["random_forest"]["vs_labels"]["roc_auc"] > 0.6
    assert "sex" in m["fairness"]["vs_labels"]
    rec = Recommender.load(store, "loans")
    scored = rec.score(frame.drop(columns=["needy"]))
    assert scored["probability"].between(0, 1).all() and set(scored["recommended"]) <= {0, 1}
    assert rec.reasons(frame.iloc[:2], "en")[0][0].text.split(":")[0] in {
        "income",
        "region",
        "job",
        "children",
    }


def test_bad_tables_get_clear_errors(tmp_path):
    frame = byod_frame(50)
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="'nope'"):
        load_table(path, "nope")
    with pytest.raises(DataError, match="must be 0/1"):
        load_table(path, "region")
    frame.assign(needy="no").to_csv(path, index=False)
    with pytest.raises(DataError, match="single class"):
        load_table(path, "needy")
    with pytest.raises(DataError, match="not found"):
        load_table(tmp_path / "missing.csv", "needy")
    labels, known = parse_target(__import__("pandas").Series(["Yes", "no", "TRUE", "0", None]), "t")
    assert labels.tolist()[:4] == [True, False, True, False] and known.tolist() == [True] * 4 + [False]


def test_fast_single_family_path_equals_the_calibrated_model(trained, applications):
    store, _, _, _ = trained
    rec = Recommender.load(store, "asp")
    frame = applications.X.iloc[:40]
    expected = rec.model.predict_proba(rec.prepare(frame))[:, 1]
    fast = rec.score(frame)["probability"].to_numpy()  # ≤ SMALL_BATCH rows: per-tree path
    np.testing.assert_allclose(fast, expected, atol=1e-9)
    scored, reasons = rec.score_with_reasons(frame.iloc[:1], "en")
    assert scored["probability"].iloc[0] == pytest.approx(expected[0]) and reasons[0]


def test_fast_batch_path_equals_the_calibrated_model_bit_for_bit(trained, applications, tmp_path, store):
    """Batches are scored without the pipeline's frames (the national scan's path): the probabilities must
    be exactly the calibrated model's, with unknown categories and missing values too."""
    trained_store, _, _, _ = trained
    rec = Recommender.load(trained_store, "asp")
    assert rec._forest_parts() is not None  # the Ministry's random forest takes the fast path
    frame = applications.X.iloc[:3000].copy()
    column = rec.categorical[0]
    frame[column] = frame[column].astype(object)
    frame.iloc[::7, frame.columns.get_loc(column)] = "never-seen-in-training"
    frame.iloc[::11, frame.columns.get_loc(column)] = None
    frame.iloc[::13, frame.columns.get_loc(rec.numeric[1])] = np.nan
    expected = rec.model.predict_proba(rec.prepare(frame))[:, 1]
    np.testing.assert_array_equal(rec.fast_probability(frame), expected)
    np.testing.assert_array_equal(rec.score(frame)["probability"].to_numpy(), expected)
    # The scan's path (issue 15): the forest's raw score and the probability from one pass, either size.
    from atauly.model.estimators import forest_of

    for rows in (frame, frame.iloc[:20]):
        raw, prob = rec.raw_and_probability(rows)
        np.testing.assert_allclose(
            raw, forest_of(rec.model).predict_proba(rec.prepare(rows))[:, 1], atol=1e-12
        )
        np.testing.assert_allclose(prob, expected[: len(rows)], atol=1e-9)
    # A model trained with missing categories (they become a category of the encoder) and a table schema.
    table = byod_frame()
    path = tmp_path / "loans.csv"
    table.to_csv(path, index=False)
    ds = load_table(path, "needy", group="household", id_column="row_id", drop=["leak"], audit=["sex"])
    stored, _, _ = train_and_store(ds, store, "loans", "table", quick_config(baselines=False))
    loans = Recommender.load(store, "loans")
    rows = table.drop(columns=["needy"]).iloc[:900]
    expected = loans.model.predict_proba(loans.prepare(rows))[:, 1]
    assert loans._forest_parts() is not None
    np.testing.assert_array_equal(loans.fast_probability(rows), expected)


def test_features_of_one_application_equal_its_row_in_the_batch(small_registry):
    """No training/serving skew: an application's features do not depend on the rest of the batch."""
    import pandas as pd

    from atauly.model.data import application_registry, law_from_decisions
    from atauly.model.features import family_features

    snapshots, dec = application_registry(small_registry)
    law = law_from_decisions(dec)
    start = pd.Timestamp("2023-10-01")
    batch = family_features(snapshots, law, start)
    for i in (0, len(dec) // 2, len(dec) - 1):
        mask = np.zeros(len(dec), dtype=bool)
        mask[i] = True
        alone = family_features(snapshots.take(mask), law.iloc[[i]].reset_index(drop=True), start)
        pd.testing.assert_frame_equal(alone.reset_index(drop=True), batch.iloc[[i]].reset_index(drop=True))
    assert batch["wages_pc"].max() > 10_000  # monthly amounts, not diluted over the history's months


def test_store_refuses_types_it_does_not_trust(store, monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    import atauly.model.store as store_module

    model = FunctionTransformer(json.dumps)  # a function reference skops calls untrusted
    store.save("odd", model, {"quality_gate": {"passed": True}, "threshold": 0.5})
    with pytest.raises(TamperedModelError, match="does not trust"):
        store.load("odd")
    store.save("plain", LogisticRegression(), {"quality_gate": {"passed": True}, "threshold": 0.5})
    assert store.load("plain").version == "v1"
    monkeypatch.setattr(store_module, "TRUSTED_TYPES", frozenset())
    assert store.load("plain").version == "v1"  # nothing untrusted in a plain sklearn model


def test_a_failed_model_is_used_only_when_named(store):
    from sklearn.linear_model import LogisticRegression

    store.save("m", LogisticRegression(), {"quality_gate": {"passed": False}, "threshold": 0.5})
    with pytest.raises(ModelStoreError, match="no version that passed"):
        store.resolve("m")
    assert store.resolve("m@v1") == ("m", "v1")
    store.save("m", LogisticRegression(), {"quality_gate": {"passed": True}, "threshold": 0.5})
    assert store.resolve("m") == ("m", "v2")
    with pytest.raises(ModelStoreError, match="invalid model name"):
        store.resolve("m\n")


def test_a_ministry_layout_without_truth_or_recorded_view(small_registry, tmp_path, store):
    """Only applications/ and the officer's decision: the law is run on the snapshots, no truth."""
    import shutil

    import pandas as pd

    export = tmp_path / "ministry"
    shutil.copytree(small_registry / "applications", export / "applications")
    dec = pd.read_parquet(small_registry / "decisions")
    dec[["application_id", "family_id", "quarter", "officer_approved"]].to_parquet(
        export / "decisions.parquet"
    )
    ds = load_applications(export)
    assert ds.truth is None and "law_on_recorded_data" in ds.rules and "law_as_applied" in ds.rules
    assert any("no law columns" in n for n in ds.notes) and any("true_eligible" in n for n in ds.notes)
    full = load_applications(small_registry, law_on_recorded=False)
    # The law run here agrees with the law recorded at generation.
    assert (ds.rules["law_as_applied"] == full.rules["law_as_applied"]).mean() > 0.999
    stored, result, _ = train_and_store(ds, store, "ministry", "export", quick_config(baselines=False))
    assert "vs_truth" not in result.metrics["splits"]["time"]["models"]["random_forest"]
    assert result.metrics["matched_operating_point"] is None
    pd.DataFrame({"application_id": ["x"]}).to_parquet(export / "decisions.parquet")
    with pytest.raises(DataError, match="officer_approved"):
        load_applications(export)


def test_recorded_view_features_have_no_declaration_and_no_visit(small_registry):
    ds = load_applications(small_registry, view="recorded")
    assert ds.view == "recorded"
    assert (ds.X["informal_pc"] == 0).all() and (ds.X["commission_found_no_need"] == 0).all()


def test_population_figures_beside_the_applicant_ones(trained):
    # Issue 14: coverage of the truly entitled and leakage over every family of the test quarter, by
    # region, urban/rural and sex of the head, with Wilson intervals; the model vs the law on the same data
    # at equal coverage; the quality gate's check against the truth.
    store, stored, result, promoted = trained
    pop = result.metrics["population"]
    assert pop["quarter"] == result.metrics["test_periods"][-1]
    assert pop["families"] > pop["applications"] > 0
    assert 0.35 < pop["takeup_among_entitled"] < 0.8
    paths = pop["paths"]
    assert {"officer (system)", "model", "law_as_applied"} <= set(paths)
    groups = {r["group"] for r in paths["model"]}
    assert groups == {"all", "region", "settlement", "sex_of_head"}
    national = paths["officer (system)"][0]
    # Most truly entitled families are missed by the system as a whole (many never apply), far more than
    # among applicants.
    applicant_exclusion = result.metrics["splits"]["time"]["models"]["law_as_applied"]["vs_truth"][
        "exclusion_error"
    ]
    assert national["exclusion_error"] > applicant_exclusion
    lo, hi = national["coverage_ci"]
    assert lo < national["coverage"] < hi
    ec = pop["equal_coverage"]
    assert ec["model"]["selected"] == ec["law"]["selected"] == ec["selected"]
    assert "truth_check" in result.metrics["quality_gate"]
    card = (stored.path / "model_card.md").read_text(encoding="utf-8")
    assert "По всему населению" in card and "при равном охвате" in card
    assert "По всему населению" in (stored.path / "report.html").read_text(encoding="utf-8")


def test_a_future_quarter_drawn_with_a_fresh_seed(trained, tmp_path):
    # Issue 14: the stored model on a later quarter of a world drawn with another seed (all families new):
    # the population figures are those of that quarter.
    from atauly.law.compute import compute
    from atauly.model.evaluation import evaluate_model
    from atauly.registry.synthetic import SyntheticParams, generate

    store, stored, result, promoted = trained
    out = tmp_path / "future"
    generate(0.02, 99, out, regions=["790000000"], params=SyntheticParams(quarter="2025Q4"), law=compute)
    ds = load_applications(out)
    assert max(ds.period) == "2025Q4"
    evaluation = evaluate_model(result.model, result.threshold, ds, n_boot=20)
    pop = evaluation["population"]
    assert pop["quarter"] == "2025Q4" and pop["families"] > pop["applications"] > 0
    assert {"officer (system)", "model", "law_as_applied"} <= set(pop["paths"])


# -- issue 20: the report and the card in kk/ru/en -----------------------------------------------------
def _english_sentences() -> list[str]:
    """The model room's English sentences: each literal part (of at least three words) of the msgids that
    atauly.po holds for the report and the card."""
    from atauly.i18n.catalogs import extracted

    parts = set()
    for msgid in extracted("atauly"):
        for part in re.split(r"\{\w*\}|\*\*|`", msgid):
            part = part.strip(" .,;:()—-")
            if len(part.split()) >= 3:
                parts.add(part)
    return sorted(parts)


def _text(html_page: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", html_page)))


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_report_and_the_card_say_no_english_sentence(trained, lang):
    from atauly.i18n import Translator
    from atauly.model.card import model_card_markdown
    from atauly.model.report import report_html
    from atauly.registry.quarter import Quarter

    _store, stored, result, _promoted = trained
    meta = stored.metadata
    card = model_card_markdown(meta, lang)
    page = report_html(meta, lang)
    assert f'<html lang="{lang}">' in page
    english = _english_sentences()
    assert len(english) > 100  # the catalog's sentences, not an empty list
    for text in (card, _text(page)):
        left = [s for s in english if s in text]
        assert not left, left[:5]
    # Numbers per locale: counts grouped with the locale's space, figures with a decimal comma, periods
    # in words; no figure with a decimal point in the card's tables.
    t = Translator(lang)
    assert t.number(meta["training"]["rows"]) in card and "\xa0" in t.number(meta["training"]["rows"])
    value = meta["metrics"]["threshold"]["value"]
    assert f"{value:.3f}".replace(".", ",") in card
    test_quarter = result.metrics["test_periods"][-1]
    assert Quarter.parse(test_quarter).label(lang) in card and test_quarter not in card
    tables = [line for line in card.splitlines() if line.startswith("| ")]
    assert tables and not [line for line in tables if re.search(r"\d\.\d{3}", line)]
    # The label is named in words, not by its column (the phone screenshot showed `officer_approved`).
    assert meta["target"] == "officer_approved"
    assert "officer_approved" not in card and "officer_approved" not in _text(page)


def test_the_report_in_english_reads_as_before(trained):
    from atauly.model.report import report_html

    page = report_html(trained[1].metadata, "en")
    assert "Over the whole population" in page and "Fairness by sex of the head" in page
    assert re.search(r"\d\.\d{3}\s\[\d\.\d{3}, \d\.\d{3}\]", page)  # a figure and its interval
