import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.law.compute import compute
from atauly.plans.documents import assistance_plan, social_contract, to_docx, to_pdf, write_family_documents
from atauly.plans.family import FamilyNotPlannable, family_plan
from atauly.plans.people import build_population
from atauly.registry import write_registry
from factories import family, person, quarter_incomes, registry

Q = "2025Q3"


def _families():
    return [
        # conditional: two able-bodied adults, low wage, three children
        family(
            "POOR",
            [
                person("applicant", "F", "1990-03-01", "not_working", education="general_secondary"),
                person(
                    "spouse",
                    "M",
                    "1988-05-01",
                    "employee",
                    incomes=quarter_incomes("wages", 60_000),
                    education="technical_vocational",
                ),
                person("child", "F", "2015-01-01"),
                person("child", "M", "2018-01-01"),
                person("child", "M", "2020-01-01"),
            ],
            district_kato="610100000",
            settlement_type="rural",
        ),
        # unconditional: a single pensioner
        family(
            "PENS",
            [person("applicant", "F", "1950-01-01", "pensioner", incomes=quarter_incomes("pension", 30_000))],
            district_kato="610100000",
        ),
        # not entitled: well off
        family(
            "RICH",
            [person("applicant", "M", "1980-01-01", "employee", incomes=quarter_incomes("wages", 900_000))],
            district_kato="610200000",
        ),
        # conditional, young graduate
        family(
            "YOUNG",
            [
                person("applicant", "M", "1999-01-01", "registered_unemployed", education="higher"),
                person("spouse", "F", "2000-01-01", "caring_child_under_3", education="general_secondary"),
                person("child", "F", "2024-01-01"),
            ],
            district_kato="610200000",
        ),
    ]


@pytest.fixture(scope="module")
def reg():
    return registry(_families())


def test_population_is_the_laws_conditional_families(reg, catalog):
    law = compute(reg, Q)
    kinds = dict(zip(law["family_id"], law["asp_type"], strict=True))
    assert kinds["POOR"] == "conditional" and kinds["PENS"] == "unconditional" and kinds["RICH"] == ""
    pop = build_population(reg, law)
    assert set(pop.families["family_id"]) == {k for k, v in kinds.items() if v == "conditional"}
    poor = pop.families.set_index("family_id").loc["POOR"]
    assert poor["need_kzt"] > 0 and poor["children"] == 3 and not poor["priority"]
    able = pop.persons.set_index("person_id")["able_bodied"]
    assert able["POOR-1"] and able["POOR-2"] and not able["POOR-3"]


def test_family_plan_recommends_eligible_measures(reg, catalog):
    fp = family_plan(reg, Q, "YOUNG", catalog, specialist="A. Specialist")
    by_role = {m.role: m for m in fp.members}
    young = by_role["applicant"]
    assert "youth_practice" in {o.measure for o in young.options}  # 26, higher education, unemployed
    assert "silver_age" not in {o.measure for o in young.options}
    carer = by_role["spouse"]
    assert "childcare_place" in {o.measure for o in carer.options}
    assert fp.expected_per_capita_after > fp.per_capita_income
    assert 0 <= fp.exit_probability <= 1
    months = [s.month for s in fp.steps]
    assert months == sorted(months) and months[0] == "2025-07"
    assert fp.monitoring and fp.source == "family recommendation"


def test_family_plan_follows_a_district_plan(reg, catalog):
    assignments = pd.DataFrame(
        {
            "family_id": ["POOR"],
            "person_id": ["POOR-1"],
            "measure": ["job_placement"],
            "start_month": ["2025-09"],
        }
    )
    fp = family_plan(reg, Q, "POOR", catalog, assignments)
    assert fp.source == "district plan"
    assert [(m.person_id, m.recommended.measure, m.start_month) for m in fp.assigned] == [
        ("POOR-1", "job_placement", "2025-09")
    ]


@pytest.mark.parametrize(
    "fid, match", [("PENS", "unconditional"), ("RICH", "not entitled"), ("NOPE", "not in the registry")]
)
def test_no_social_contract_outside_conditional_asp(reg, catalog, fid, match):
    with pytest.raises(FamilyNotPlannable, match=match):
        family_plan(reg, Q, fid, catalog)


def _docx_text(path):
    import docx

    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


@pytest.mark.parametrize("lang, title, drafted", [
    ("kk", "Отбасына көмектің жеке жоспары", "Жүйе жобасы"),
    ("ru", "Индивидуальный план помощи семье", "Проект системы"),
])  # fmt: skip
def test_documents_in_kazakh_and_russian_drafted_and_approved(reg, catalog, tmp_path, lang, title, drafted):
    fp = family_plan(reg, Q, "POOR", catalog, specialist="Aigerim Test")
    paths = write_family_documents(fp, lang, tmp_path)
    assert sorted(p.suffix for p in paths) == [".docx", ".docx", ".pdf", ".pdf"]
    for p in paths:
        if p.suffix == ".pdf":
            assert p.read_bytes().startswith(b"%PDF") and p.stat().st_size > 5_000
    text = _docx_text(next(p for p in paths if p.name.startswith("plan-") and p.suffix == ".docx"))
    assert title in text and drafted in text and "Aigerim Test" in text
    assert "POOR" in text
    contract = _docx_text(
        next(p for p in paths if p.name.startswith("social-contract") and p.suffix == ".docx")
    )
    assert ("Әлеуметтік келісімшарт" if lang == "kk" else "Социальный контракт") in contract
    # the IIN is masked
    iins = reg.persons["iin"].astype(str)
    assert not any(i in text for i in iins)


def test_pdf_and_docx_say_the_same(reg, catalog, tmp_path):
    fp = family_plan(reg, Q, "POOR", catalog)
    doc = social_contract(fp, "ru")
    pdf = to_pdf(doc, compress=False)
    assert pdf.startswith(b"%PDF")
    text = _docx_text(to_docx(doc, tmp_path / "c.docx"))
    for section in doc.sections:
        assert section.heading in text
    assert assistance_plan(fp, "en").title == "Individual assistance plan for the family"


def test_cli_national_and_family(reg, tmp_path):
    write_registry(reg, tmp_path / "reg")
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "plans",
            "national",
            "--registry",
            str(tmp_path / "reg"),
            "--quarter",
            Q,
            "--out",
            str(tmp_path / "plan"),
            "--places-scale",
            "500",
            "--budget-scale",
            "500",
        ],
    )
    assert r.exit_code == 0, r.output
    a = pd.read_parquet(tmp_path / "plan" / "assignments.parquet")
    assert set(a["family_id"]) <= {"POOR", "YOUNG"} and len(a) > 0
    for name in ("capacity", "districts", "regions", "budget", "targets"):
        assert (tmp_path / "plan" / f"{name}.parquet").exists()
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["families_in_scope"] == 2
    xlsx = pd.read_excel(io.BytesIO((tmp_path / "plan" / "plan.xlsx").read_bytes()), sheet_name=None)
    assert {"summary", "measures", "districts"} <= set(xlsx)
    assert not any("POOR" in str(v) for df in xlsx.values() for v in df.to_numpy().ravel())  # aggregates only
    r = runner.invoke(
        app,
        [
            "plans",
            "family",
            "--registry",
            str(tmp_path / "reg"),
            "--quarter",
            Q,
            "--family",
            "POOR",
            "--lang",
            "kk",
            "--out",
            str(tmp_path / "fam"),
            "--plan",
            str(tmp_path / "plan"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (
        len(list((tmp_path / "fam").glob("*.pdf"))) == 2 and len(list((tmp_path / "fam").glob("*.docx"))) == 2
    )


def test_cli_explains_an_impossible_plan(reg, tmp_path):
    write_registry(reg, tmp_path / "reg")
    r = CliRunner().invoke(
        app,
        [
            "plans",
            "national",
            "--registry",
            str(tmp_path / "reg"),
            "--quarter",
            Q,
            "--out",
            str(tmp_path / "plan"),
            "--places-scale",
            "0",
        ],
    )
    assert r.exit_code == 1
    assert "No plan can be made" in r.output and "no places" in r.output
    assert not (tmp_path / "plan" / "assignments.parquet").exists()
    r = CliRunner().invoke(
        app,
        [
            "plans",
            "national",
            "--registry",
            str(tmp_path / "reg"),
            "--quarter",
            Q,
            "--out",
            str(tmp_path / "plan"),
            "--places-scale",
            "500",
        ],
    )
    assert r.exit_code == 1 and "cannot pay for a single measure" in r.output
    r = CliRunner().invoke(
        app,
        [
            "plans",
            "family",
            "--registry",
            str(tmp_path / "reg"),
            "--quarter",
            Q,
            "--family",
            "RICH",
            "--out",
            str(tmp_path / "f"),
        ],
    )
    assert r.exit_code == 1 and "not entitled" in r.output


def test_cli_with_the_laws_result_reads_only_conditional_families_and_plans_the_same(reg, tmp_path):
    write_registry(reg, tmp_path / "reg")
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "law",
            "compute",
            "--registry",
            str(tmp_path / "reg"),
            "--quarter",
            Q,
            "--out",
            str(tmp_path / "law.parquet"),
        ],
    )
    assert r.exit_code == 0, r.output
    common = [
        "plans",
        "national",
        "--registry",
        str(tmp_path / "reg"),
        "--quarter",
        Q,
        "--places-scale",
        "500",
        "--budget-scale",
        "500",
    ]
    assert runner.invoke(app, [*common, "--out", str(tmp_path / "a")]).exit_code == 0
    r = runner.invoke(app, [*common, "--out", str(tmp_path / "b"), "--law", str(tmp_path / "law.parquet")])
    assert r.exit_code == 0, r.output
    a, b = (pd.read_parquet(tmp_path / d / "assignments.parquet") for d in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)
    ca, cb = (pd.read_parquet(tmp_path / d / "capacity.parquet") for d in ("a", "b"))
    pd.testing.assert_frame_equal(ca, cb)  # places scale on all families, not only the ones read
    r = runner.invoke(
        app,
        [
            *common,
            "--out",
            str(tmp_path / "c"),
            "--law",
            str(tmp_path / "law.parquet"),
            "--quarter",
            "2025Q4",
        ],
    )
    assert r.exit_code != 0 and "2025Q3" in r.output


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_family_docx_is_what_python_docx_writes(reg, catalog, tmp_path, lang):
    """The family's two Word files, written without python-docx, are python-docx's part by part."""
    from .test_writers import same_docx_as_python_docx

    plan = family_plan(reg, Q, "POOR", catalog, specialist="Aigerim Test")
    for doc in (assistance_plan(plan, lang), social_contract(plan, lang)):
        same_docx_as_python_docx(doc, tmp_path)


def _pdf_without_time(data: bytes) -> bytes:
    import re

    return re.sub(rb"/CreationDate \(D:\d+Z?\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", data)


_RUN_FORKED = """
import sys
from pathlib import Path
marks = Path(sys.argv.pop(1))
from atauly.plans import pdfworker, writers
real = pdfworker.start

def start():  # what the command's fork gave
    worker = real()
    (marks / "forked").write_text("yes" if worker is not None else "no")
    return worker

pdfworker.start = start
if (marks / "break").exists():
    def broken(doc, *args, **kwargs):  # in the forked child, which writes the PDFs
        raise RuntimeError("fonts unreadable")
    writers.to_pdf = broken
from atauly.cli.main import app
sys.argv = ["atauly", *sys.argv[1:]]
app()
"""


def _family_in_a_fresh_process(reg, tmp_path, lang, out, broken=False):
    """``atauly plans family`` run as the command runs (a fresh process: its fork never depends on the
    threads this test process has); asserts that it forked its PDFs' process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import atauly

    if not (tmp_path / "reg").exists():
        write_registry(reg, tmp_path / "reg")
    marks = tmp_path / f"marks-{out.name}"
    marks.mkdir()
    if broken:
        (marks / "break").touch()
    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    args = ["plans", "family", "--registry", str(tmp_path / "reg"), "--quarter", Q, "--family", "POOR"]
    args += ["--lang", lang, "--out", str(out), "--specialist", "Aigerim Test"]
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_FORKED, str(marks), *args], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert (marks / "forked").read_text() == "yes", proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_documents_are_the_same_written_by_the_pdf_process(reg, tmp_path, lang, monkeypatch):
    """``atauly plans family`` writes the PDFs in a forked process (issue 19): the same files as in one."""
    import zipfile

    from atauly.plans import pdfworker

    there = tmp_path / "there"
    proc = _family_in_a_fresh_process(reg, tmp_path, lang, there)
    assert proc.returncode == 0, proc.stderr[-3000:]
    monkeypatch.setattr(pdfworker, "start", lambda: None)  # the same command, the PDFs written in it
    args = ["plans", "family", "--registry", str(tmp_path / "reg"), "--quarter", Q, "--family", "POOR"]
    args += ["--lang", lang, "--out", str(tmp_path / "here"), "--specialist", "Aigerim Test"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    here = sorted((tmp_path / "here").iterdir())
    assert [p.name for p in here] == sorted(p.name for p in there.iterdir())
    assert len([p for p in here if p.suffix == ".pdf"]) == 2
    for a in here:
        b = there / a.name
        if a.suffix == ".pdf":
            assert _pdf_without_time(a.read_bytes()) == _pdf_without_time(b.read_bytes()), a.name
        elif a.suffix == ".docx":
            with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
                assert {n: za.read(n) for n in za.namelist()} == {n: zb.read(n) for n in zb.namelist()}
        else:
            assert a.read_bytes() == b.read_bytes(), a.name


def test_cli_family_says_when_the_pdf_process_fails_and_leaves_no_document(reg, tmp_path):
    proc = _family_in_a_fresh_process(reg, tmp_path, "ru", tmp_path / "fam", broken=True)
    assert proc.returncode == 1, proc.stderr[-3000:]
    output = " ".join((proc.stdout + proc.stderr).split())  # rich wraps long lines
    assert "the process writing the PDFs" in output and "RuntimeError: fonts unreadable" in output
    assert list((tmp_path / "fam").iterdir()) == []  # neither DOCX, nor PDF, nor plan.json


def test_cli_family_removes_a_killed_runs_temporary_files(reg, tmp_path):
    """A run killed while writing leaves hidden ``.NAME.PID.part`` files (a family's data): the next run
    into the same folder removes those of processes no longer alive."""
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "fam"
    out.mkdir()
    stale = out / f".plan-POOR-ru.pdf.{dead.pid}.part"
    stale.write_bytes(b"a family's data")
    write_registry(reg, tmp_path / "reg")
    args = ["plans", "family", "--registry", str(tmp_path / "reg"), "--quarter", Q, "--family", "POOR"]
    r = CliRunner().invoke(app, [*args, "--lang", "ru", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not stale.exists() and not [p for p in out.iterdir() if p.name.startswith(".")]


_RUN_CLI = """
import atexit, sys
from pathlib import Path
marks = Path(sys.argv.pop(1))
atexit.register(lambda: (marks / "atexit").write_text("ran"))

class Teardown:  # freed when the interpreter tears the modules down
    def __del__(self):
        (marks / "teardown").write_text("ran")

keep = Teardown()
from atauly.cli.main import app
sys.argv = ["atauly", *sys.argv[1:]]
app()
"""


@pytest.mark.parametrize("fid, code", [("POOR", 0), ("NOPE", 1)])
def test_cli_family_ends_without_the_interpreters_teardown(reg, tmp_path, fid, code):
    """A successful ``atauly plans family`` ends its process once the exit handlers have run and the output
    is flushed (issue 19: the teardown of pandas, pyarrow and OpenFisca cost ~0.2–0.3 s); a failed one
    exits as before."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import atauly

    write_registry(reg, tmp_path / "reg")
    marks = tmp_path / "marks"
    marks.mkdir()
    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    args = ["plans", "family", "--registry", str(tmp_path / "reg"), "--quarter", Q, "--family", fid]
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, str(marks), *args, "--lang", "kk", "--out", str(tmp_path / "fam")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == code, proc.stderr[-3000:]
    assert (marks / "atexit").read_text() == "ran"  # the exit handlers ran in both cases
    if code == 0:
        assert "Per-capita income" in proc.stdout and "Wrote" in proc.stderr  # the output was flushed
        assert len(list((tmp_path / "fam").glob("*.pdf"))) == 2
        assert not (marks / "teardown").exists()  # the modules were not torn down one by one
    else:
        assert (marks / "teardown").exists()


def test_cli_family_drafts_without_cyclic_garbage_collection(reg, tmp_path, monkeypatch):
    """The collector is off while one family is drafted (its passes over the objects of the imports cost
    ~0.09 s of a fresh process), and on again after the command."""
    import gc

    from atauly.plans import documents

    seen = []
    real = documents.draft_for_family

    def drafting(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "draft_for_family", drafting)
    write_registry(reg, tmp_path / "reg")
    args = ["plans", "family", "--registry", str(tmp_path / "reg"), "--quarter", Q, "--family", "POOR"]
    assert gc.isenabled()
    r = CliRunner().invoke(app, [*args, "--lang", "ru", "--out", str(tmp_path / "fam")])
    assert r.exit_code == 0, r.output
    assert seen == [False] and gc.isenabled()


def test_cli_family_turns_the_collector_back_on_when_the_pdf_process_cannot_start(reg, tmp_path, monkeypatch):
    import gc

    from atauly.plans import pdfworker

    def refused():
        raise OSError("no more processes")

    monkeypatch.setattr(pdfworker, "start", refused)
    write_registry(reg, tmp_path / "reg")
    args = ["plans", "family", "--registry", str(tmp_path / "reg"), "--quarter", Q, "--family", "POOR"]
    try:
        r = CliRunner().invoke(app, [*args, "--lang", "ru", "--out", str(tmp_path / "fam")])
        assert isinstance(r.exception, OSError)
        assert gc.isenabled()
    finally:
        gc.enable()


def test_a_fast_exit_says_an_output_it_could_not_flush(monkeypatch):
    """Ending at once (``_end_now``) exits with 120 as a normal exit does when its output cannot be flushed
    (a closed pipe), 0 otherwise."""
    import atexit
    import os
    import sys

    from atauly.cli import main

    class Ended(Exception):
        pass

    def exit_now(code):
        raise Ended(code)

    class Closed(io.StringIO):
        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: None)  # not pytest's own
    monkeypatch.setattr(os, "_exit", exit_now)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with pytest.raises(Ended) as ended:
        main._end_now()
    assert ended.value.args == (0,)
    monkeypatch.setattr(sys, "stdout", Closed())
    with pytest.raises(Ended) as ended:
        main._end_now()
    assert ended.value.args == (120,)
