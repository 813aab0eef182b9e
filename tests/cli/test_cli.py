"""The `atauly` command as users and scripts call it (contracts: verbs, options, output columns)."""

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.registry import Registry, write_registry
from factories import family, person, quarter_incomes, tables

runner = CliRunner()
SAMPLE = Path(__file__).resolve().parents[2] / "src" / "atauly" / "registry" / "sample"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_compute_writes_contract_columns(tmp_path):
    out = tmp_path / "res.parquet"
    r = invoke("law", "compute", "--registry", SAMPLE, "--quarter", "2025Q3", "--out", out)
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out)
    assert len(df) == 20
    for col in (
        "family_id",
        "members",
        "counted_income_quarter",
        "per_capita_income",
        "poverty_line",
        "eligible",
        "asp_type",
        "asp_monthly_amount",
        "child_supplement_monthly",
        "refusal_reason",
    ):
        assert col in df.columns
    assert "Kazakhstan (total)" in r.output


def test_compute_views(tmp_path):
    for view in ("truth", "recorded"):
        (tmp_path / view).mkdir()
        for name in ("families", "persons", "incomes"):
            (tmp_path / view / f"{name}.csv").write_bytes((SAMPLE / f"{name}.csv").read_bytes())
    r = invoke(
        "law",
        "compute",
        "--registry",
        tmp_path,
        "--quarter",
        "2025Q3",
        "--view",
        "truth",
        "--out",
        tmp_path / "t.csv",
    )
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "t.csv")) == 20
    r = invoke(
        "law",
        "compute",
        "--registry",
        tmp_path,
        "--quarter",
        "2025Q3",
        "--view",
        "nope",
        "--out",
        tmp_path / "x.csv",
    )
    assert r.exit_code == 2 and "truth or recorded" in r.output


def _bad_registry(path: Path) -> None:
    fams = [
        family("GOOD", [person(incomes=quarter_incomes("wages", 10000))]),
        family("NEG", [person(incomes={("wages", "2025-04"): -5})]),
        family("REGION", [person()], region="123456789"),
        family("KID", [person("applicant", born="2000-01-01"), person("child", born="1990-01-01")]),
    ]
    fam, per, inc = tables(fams)
    per.loc[len(per)] = per.iloc[1].to_dict() | {
        "person_id": "LOST-1",
        "family_id": "LOST",
        "iin": "000000000000",
    }
    per.loc[len(per)] = per.iloc[1].to_dict()  # duplicate person id (in family NEG)
    write_registry(Registry(fam, per, inc), path, fmt="csv")


def test_bad_input_one_report_and_nothing_computed(tmp_path):
    _bad_registry(tmp_path / "reg")
    out = tmp_path / "res.csv"
    r = invoke("law", "compute", "--registry", tmp_path / "reg", "--quarter", "2025Q3", "--out", out)
    assert r.exit_code == 1
    assert not out.exists()
    for rule in (
        "negative",
        "unknown_region",
        "child_older_than_parent",
        "duplicate_id",
        "unknown_family",
        "iin_",
    ):
        assert rule in r.output, rule
    assert "000000000000" not in r.output


def test_skip_invalid_writes_rejects(tmp_path):
    _bad_registry(tmp_path / "reg")
    out = tmp_path / "res.csv"
    r = invoke(
        "law",
        "compute",
        "--registry",
        tmp_path / "reg",
        "--quarter",
        "2025Q3",
        "--out",
        out,
        "--skip-invalid",
    )
    assert r.exit_code == 0, r.output
    res = pd.read_csv(out)
    assert list(res["family_id"]) == ["GOOD"]
    rejects = pd.read_csv(tmp_path / "res.rejects.csv")
    assert {"NEG", "REGION", "KID", "LOST"} <= set(rejects["family_id"])
    assert list(rejects.columns) == ["table", "row_id", "family_id", "column", "value", "rule", "message"]


def test_missing_column_cannot_be_skipped(tmp_path):
    fam, per, inc = tables([family("A", [person()])])
    write_registry(Registry(fam, per.drop(columns=["sex"]), inc), tmp_path / "reg", fmt="csv")
    r = invoke(
        "law",
        "compute",
        "--registry",
        tmp_path / "reg",
        "--quarter",
        "2025Q3",
        "--out",
        tmp_path / "o.csv",
        "--skip-invalid",
    )
    text = " ".join(r.output.split())
    assert r.exit_code == 1 and "the column persons.sex is missing" in text, text
    assert not (tmp_path / "o.csv").exists()


def test_personal_data_is_masked_in_reports(tmp_path):
    fams = [
        family("A", [person(born="1981-07-03", incomes={("wages", "2025-04"): -123456})]),
        family("B", [person("applicant", born="2000-01-01"), person("child", born="1990-01-01")]),
    ]
    fam, per, inc = tables(fams)
    write_registry(Registry(fam, per, inc), tmp_path / "reg", fmt="csv")
    r = invoke(
        "law",
        "compute",
        "--registry",
        tmp_path / "reg",
        "--quarter",
        "2025Q3",
        "--out",
        tmp_path / "o.csv",
        "--skip-invalid",
    )
    rejects = (tmp_path / "o.rejects.csv").read_text()
    for secret in ("123456", "1990-01-01", "2000-01-01"):
        assert secret not in r.output and secret not in rejects
    assert "negative" in rejects and "child_older_than_parent" in rejects


def test_reform_skip_invalid_writes_rejects(tmp_path):
    _bad_registry(tmp_path / "reg")
    r = invoke(
        "law",
        "reform",
        "--registry",
        tmp_path / "reg",
        "--quarter",
        "2025Q3",
        "--poverty-line-share",
        "0.8",
        "--skip-invalid",
        "--out",
        tmp_path / "cmp.csv",
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cmp.rejects.csv").exists() and (tmp_path / "cmp.csv").exists()


def test_explain_languages():
    r = invoke("law", "explain", "--registry", SAMPLE, "--family", "F01", "--quarter", "2025Q3")
    assert r.exit_code == 0 and "Среднедушевой доход" in r.output  # Russian by default
    r = invoke(
        "law", "explain", "--registry", SAMPLE, "--family", "F01", "--quarter", "2025Q3", "--lang", "kk"
    )
    assert "Кедейлік шегі" in r.output
    r = invoke(
        "law",
        "explain",
        "--registry",
        SAMPLE,
        "--family",
        "F01",
        "--quarter",
        "2025Q3",
        "--lang",
        "en",
        "--openfisca-trace",
    )
    assert "Poverty line 39,346 ₸" in r.output and "poverty_line<2025-07>" in r.output
    r = invoke("law", "explain", "--registry", SAMPLE, "--family", "NOPE", "--quarter", "2025Q3")
    assert r.exit_code == 2 and "NOPE" in r.output


@pytest.mark.parametrize("args", [["--poverty-line-share", "0.8"], ["--set", "FILE"]])
def test_reform(tmp_path, args):
    f = tmp_path / "r.yaml"
    f.write_text("name: Eighty percent\nparameters:\n  poverty_line.share_of_subsistence_minimum: 0.8\n")
    args = [str(f) if a == "FILE" else a for a in args]
    out = tmp_path / "cmp.csv"
    r = invoke("law", "reform", "--registry", SAMPLE, "--quarter", "2025Q3", *args, "--out", out)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out)
    total = table.loc[table["region_kato"] == "total"].iloc[0]
    assert total["reform_budget_monthly"] > total["baseline_budget_monthly"]


def test_reform_errors(tmp_path):
    r = invoke("law", "reform", "--registry", SAMPLE, "--quarter", "2025Q3")
    assert r.exit_code == 2 and "--poverty-line-share" in r.output
    f = tmp_path / "r.yaml"
    f.write_text("parameters:\n  poverty_line.nope: 1\n")
    r = invoke("law", "reform", "--registry", SAMPLE, "--quarter", "2025Q3", "--set", f)
    assert r.exit_code == 2 and "unknown parameter" in r.output
    r = invoke("law", "compute", "--registry", SAMPLE, "--quarter", "2025Q9", "--out", tmp_path / "x.csv")
    assert r.exit_code == 2 and "2025Q3" in r.output


def test_registry_validate(tmp_path):
    assert invoke("registry", "validate", "--registry", SAMPLE).exit_code == 0
    _bad_registry(tmp_path / "reg")
    r = invoke("registry", "validate", "--registry", tmp_path / "reg", "--rejects", tmp_path / "p.csv")
    assert r.exit_code == 1 and (tmp_path / "p.csv").exists()


def test_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("ATAULY_HOME", str(tmp_path))
    from atauly.settings import get_settings

    get_settings.cache_clear()
    try:
        r = invoke("demo", "--no-serve")
        again = invoke("demo", "--no-serve")  # a rerun reuses everything and seeds nothing twice
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert (tmp_path / "results" / "asp-2025Q3.parquet").exists()
    assert "F20" in r.output and "Среднедушевой доход" in r.output
    # The casework pilot: users with their passwords, and a seeded queue.
    passwords = dict(
        line.split(" ", 1) for line in (tmp_path / "demo-credentials.txt").read_text().splitlines()
    )
    assert set(passwords) >= {"officer", "supervisor", "analyst", "admin"}
    assert passwords["officer"] in r.output
    assert "Подано заявлений сейчас: 36" in r.output
    assert again.exit_code == 0 and "Подано заявлений сейчас: 0, решено сейчас: 0" in again.output
    # Issue 20: 100 columns, one language (no English step texts), and it ends with where to click.
    assert max(len(line) for line in r.output.splitlines()) <= 100
    for english in ("Applications submitted", "Entitled", "Families", "Proactive scan", "reduction"):
        assert english not in r.output, english
    # Issue 15: the district's best-ranked families with why each was chosen, in the demo's language.
    assert "Почему:" in r.output
    for english in ("entitled by law", "likely entitled", "on records the law refuses", "offered:"):
        assert english not in r.output, english
    tail = r.output.strip().splitlines()[-7:]
    assert any("http://127.0.0.1:8000/login" in line for line in tail)
    assert any("/queue" in line for line in tail) and any("/dashboard" in line for line in tail)
    assert len(r.output.splitlines()) < 200
    # A missing figure is a dash, never pandas' "NaN" (the scan model of a small region has no
    # population-calibrated probability).
    assert not re.search(r"\bnan\b", r.output, flags=re.IGNORECASE)
    # That model's own probability (calibrated on applicants) is not shown as a family's chance; the list
    # says it is ordered by need instead.
    words = " ".join(r.output.split())
    assert "список упорядочен по нужде" in words
    assert "Вероятность ┃" not in r.output
