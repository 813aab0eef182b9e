"""Files as people have them: each bad file gives one clear message, a non-zero exit and writes nothing;
the readable variants (semicolons, Windows-1251, a byte-order mark, .xlsx) give the sample's result."""

import csv
import shutil
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


def _copy(tmp_path) -> Path:
    reg = tmp_path / "reg"
    shutil.copytree(SAMPLE, reg)
    return reg


def _compute(reg: Path, out: Path, *extra):
    return invoke("law", "compute", "--registry", reg, "--quarter", "2025Q3", "--out", out, *extra)


def _rewrite(path: Path, delimiter=",", encoding="utf-8", replace=("", "")):
    rows = list(csv.reader(path.open(encoding="utf-8")))
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(
            [[c.replace(*replace) if replace[0] else c for c in row] for row in rows]
        )


def _written(tmp_path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "reg")


@pytest.mark.parametrize(
    "case, expected",
    [
        ("empty_incomes", "incomes.csv: the file is empty"),
        ("empty_families", "families.csv: the file is empty"),
        ("header_only_families", "the table families has a header but no rows"),
        ("missing_column", "the column persons.sex is missing"),
        ("binary", "neither UTF-8 nor Windows-1251"),
        ("ragged", "persons.csv: not a readable table"),
        ("header_only_persons", "the table persons has a header but no rows"),
    ],
)
def test_bad_file_one_clear_message_nothing_written(tmp_path, case, expected):
    reg = _copy(tmp_path)
    if case == "empty_incomes":
        (reg / "incomes.csv").write_bytes(b"")
    elif case == "empty_families":
        (reg / "families.csv").write_bytes(b"")
    elif case == "header_only_families":
        header = (reg / "families.csv").read_text().splitlines()[0]
        (reg / "families.csv").write_text(header + "\n")
    elif case == "missing_column":
        per = pd.read_csv(reg / "persons.csv", dtype=str)
        per.drop(columns=["sex"]).to_csv(reg / "persons.csv", index=False)
    elif case == "ragged":
        text = (reg / "persons.csv").read_text().splitlines()
        text[3] += ",extra,fields"
        (reg / "persons.csv").write_text("\n".join(text) + "\n")
    elif case == "header_only_persons":
        header = (reg / "persons.csv").read_text().splitlines()[0]
        (reg / "persons.csv").write_text(header + "\n")
    elif case == "binary":
        (reg / "persons.csv").write_bytes(b"person_id,family_id\x00\x01\x02\x98\n")
    for args in (
        ("law", "compute", "--registry", reg, "--quarter", "2025Q3", "--out", tmp_path / "o.csv"),
        ("registry", "validate", "--registry", reg, "--rejects", tmp_path / "rejects.csv"),
    ):
        r = invoke(*args)
        assert r.exit_code != 0, r.output
        assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
        text = " ".join(r.output.split())
        assert expected in text, text
        assert text.count("Error:") == 1 and "Traceback" not in text
        assert _written(tmp_path) == []


@pytest.mark.parametrize("variant", ["semicolon", "cp1251_semicolon", "bom", "tab", "utf16_tab", "xlsx"])
def test_readable_variants_give_the_same_result(tmp_path, variant):
    reference = tmp_path / "ref.csv"
    assert _compute(SAMPLE, reference).exit_code == 0
    reg = _copy(tmp_path)
    for name in ("families", "persons", "incomes"):
        path = reg / f"{name}.csv"
        if variant == "semicolon":
            _rewrite(path, ";")
        elif variant == "cp1251_semicolon":
            # A Russian-locale Excel export: Windows-1251, semicolons, a decimal comma in amounts.
            _rewrite(path, ";", "cp1251", replace=("pensioner living", "пенсионерка живёт"))
            if name == "incomes":
                text = path.read_text(encoding="cp1251").replace(";90000\n", ";89999,50\n", 1)
                path.write_text(text, encoding="cp1251")
        elif variant == "bom":
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
        elif variant == "tab":
            _rewrite(path, "\t")
        elif variant == "utf16_tab":  # Excel's "Unicode text"
            _rewrite(path, "\t", "utf-16")
        elif variant == "xlsx":
            pd.read_csv(path, dtype=str, keep_default_na=False).to_excel(reg / f"{name}.xlsx", index=False)
            path.unlink()
    out = tmp_path / "o.csv"
    r = _compute(reg, out)
    assert r.exit_code == 0, r.output
    got, ref = pd.read_csv(out), pd.read_csv(reference)
    if variant == "cp1251_semicolon":
        # One wage of 90,000 read as 89,999.50: that family's counted income is 0.50 ₸ lower.
        diff = ref["counted_income_quarter"] - got["counted_income_quarter"]
        assert sorted(diff.round(2).unique()) == [0.0, 0.5]
    else:
        pd.testing.assert_frame_equal(got, ref)
    assert invoke("registry", "validate", "--registry", reg).exit_code == 0


def test_duplicate_family_is_not_also_a_family_without_members(tmp_path):
    reg = _copy(tmp_path)
    lines = (reg / "families.csv").read_text().splitlines()
    (reg / "families.csv").write_text("\n".join([*lines, lines[1]]) + "\n")
    r = invoke("registry", "validate", "--registry", reg, "--rejects", tmp_path / "rejects.csv")
    assert r.exit_code == 1
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert list(rejects["rule"]) == ["duplicate_id", "duplicate_id"]
    assert "empty_family" not in r.output


def test_no_income_for_the_counted_quarter_is_refused(tmp_path):
    # Incomes for 2025Q2 only: 2025Q3 counts them, 2024Q4 would count 2024Q3 (none).
    fams = [family(f"F{i}", [person(incomes=quarter_incomes("wages", 50_000))]) for i in range(3)]
    write_registry(Registry(*tables(fams)), tmp_path / "reg", fmt="csv")
    out = tmp_path / "o.csv"
    r = invoke("law", "compute", "--registry", tmp_path / "reg", "--quarter", "2024Q4", "--out", out)
    text = " ".join(r.output.split())
    assert r.exit_code == 1 and "no income row for 2024-07 to 2024-09" in text, text
    assert "2025-04 to 2025-06" in text and not out.exists()
    r = invoke(
        "law",
        "compute",
        "--registry",
        tmp_path / "reg",
        "--quarter",
        "2024Q4",
        "--out",
        out,
        "--allow-missing-incomes",
    )
    assert r.exit_code == 0 and out.exists()


def test_families_without_income_and_informal_rows_are_warned(tmp_path):
    fams = [family("A", [person(incomes=quarter_incomes("wages", 50_000))]), family("B", [person()])]
    fams.append(family("C", [person(incomes=quarter_incomes("informal", 10_000))]))
    reg = tmp_path / "reg"
    write_registry(Registry(*tables(fams)), reg / "recorded", fmt="csv")
    r = invoke("law", "compute", "--registry", reg, "--quarter", "2025Q3", "--out", tmp_path / "o.csv")
    text = " ".join(r.output.split())
    assert r.exit_code == 0, text
    assert "1 of 3 families (33.3%) have no income row for 2025-04 to 2025-06" in text
    assert "3 income row(s) of source 'informal' in a recorded view" in text
