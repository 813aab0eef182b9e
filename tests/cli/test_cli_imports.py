"""The ``atauly`` command starts cheaply (issue 19): its modules import the heavy libraries (pandas, the law's
OpenFisca, the models, the service, the PDF writers) inside the commands that use them, never at start; and
one family's plan (``atauly plans family``) loads neither the models nor the optimiser nor the service.

Each check runs a fresh interpreter (``sys.modules`` here already holds whatever other tests imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import atauly

#: Top-level packages that ``import atauly.cli.main`` (and so every ``--help``) must not load.
NOT_AT_START = (
    "sklearn",
    "dask",
    "distributed",
    "openfisca_core",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "matplotlib",
    "scipy",
    "pandas",
    "pyarrow",
    "fpdf",
    "docx",
    "pydantic_settings",
    "skops",
)

#: What one family's plan and documents never need (they need pandas, OpenFisca, fpdf and docx).
NOT_FOR_ONE_FAMILY = (
    "sklearn",
    "dask",
    "distributed",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "matplotlib",
    "scipy",
    "highspy",
    "skops",
)


def _loaded(code: str) -> set[str]:
    """The top-level packages in ``sys.modules`` after ``code`` ran in a fresh interpreter."""
    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    code += "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _loaded("import atauly.cli.main")
    assert "typer" in loaded and "atauly" in loaded  # the probe sees what was imported
    assert not loaded & set(NOT_AT_START), sorted(loaded & set(NOT_AT_START))


def test_every_help_works_without_loading_a_heavy_library():
    """``atauly --help`` and every group's and command's ``--help`` exit 0, in one process that then still
    holds none of the heavy libraries."""
    code = """
import typer
from typer.testing import CliRunner
from atauly.cli.main import app

runner = CliRunner()
paths = [[]]

def walk(cmd, path):
    for name, sub in getattr(cmd, "commands", {}).items():
        paths.append(path + [name])
        walk(sub, path + [name])

walk(typer.main.get_command(app), [])
for path in paths:
    r = runner.invoke(app, path + ["--help"])
    assert r.exit_code == 0 and "Usage" in r.output, (path, r.exit_code, r.output[-500:])
print(len(paths))
"""
    loaded = _loaded(code)
    assert not loaded & set(NOT_AT_START), sorted(loaded & set(NOT_AT_START))


def test_one_family_path_loads_neither_models_nor_optimiser_nor_service():
    code = (
        "import atauly.cli.main, atauly.cli.plans\n"
        "import atauly.plans.documents, atauly.plans.read, atauly.plans.family, atauly.law.compute\n"
        "from atauly.plans.catalog import plan_catalog\n"
        "plan_catalog('2025Q3')\n"
    )
    loaded = _loaded(code)
    assert {"pandas", "openfisca_core"} <= loaded  # what it does need was imported
    assert not loaded & set(NOT_FOR_ONE_FAMILY), sorted(loaded & set(NOT_FOR_ONE_FAMILY))


def test_one_familys_documents_load_no_spreadsheet_optimiser_or_matplotlib(tmp_path):
    """Writing the documents (PDF with the shared set-up, DOCX) loads neither openpyxl (the akimat's
    spreadsheet) nor the optimiser nor the report nor python-docx, and finds the fonts without importing
    matplotlib."""
    code = f"""
import os
os.environ["XDG_CACHE_HOME"] = {str(tmp_path)!r}
from atauly.plans.writers import Block, Document, Section, to_docx, to_pdf
doc = Document("d", "Жоспар", "kk", [("Отбасы", "F1")], [Section("1", [Block("p", "Қазақ тілі ₸")])], "—")
assert to_pdf(doc).startswith(b"%PDF")
to_docx(doc, {str(tmp_path / "d.docx")!r})
import sys
mine = sorted(m for m in sys.modules if m.startswith("atauly.plans."))
print("MINE", ",".join(mine))
"""
    loaded = _loaded(code)
    assert "fpdf" in loaded
    assert "docx" not in loaded  # the Word file is written from python-docx's template without importing it
    assert not loaded & {"openpyxl", "matplotlib", "scipy", "highspy", "sklearn"}, sorted(
        loaded & {"openpyxl", "matplotlib", "scipy", "highspy", "sklearn"}
    )
    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    mine = next(line for line in out.stdout.splitlines() if line.startswith("MINE")).split(" ", 1)[1]
    assert "atauly.plans.optimise" not in mine.split(",") and "atauly.plans.report" not in mine.split(",")
    assert (tmp_path / "atauly" / "fonts").is_dir()  # the reduced fonts were cached there


def test_a_command_loads_only_its_own_group():
    """``atauly plans …`` imports the plans' CLI module and builds its commands, not the other groups'
    (their modules and options cost ~50 ms of every fresh process); ``--help`` of the whole CLI lists them
    all."""
    code = """
import sys
from typer.testing import CliRunner
from atauly.cli.main import app

r = CliRunner().invoke(app, ["plans", "measures", "--help"])
assert r.exit_code == 0 and "Usage" in r.output, r.output
print("GROUPS", ",".join(sorted(m for m in sys.modules if m.startswith("atauly.cli."))))
r = CliRunner().invoke(app, ["--help"])
assert r.exit_code == 0, r.output
print("ALL", ",".join(sorted(m for m in sys.modules if m.startswith("atauly.cli."))))
"""
    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if line.startswith(("GROUPS", "ALL")))
    groups = set(lines["GROUPS"].split(","))
    assert "atauly.cli.plans" in groups
    others = {f"atauly.cli.{m}" for m in ("law", "model", "registry", "screen", "vision")}
    assert not groups & others, sorted(groups & others)
    assert others <= set(lines["ALL"].split(","))
