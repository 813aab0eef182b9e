import pandas as pd
import pytest
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.vision.evaluate import evaluate, read_labels


def _checks():
    return pd.DataFrame(
        {
            "file": ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"],
            "status": ["ok", "ok", "ok", "ok", "rejected"],
            "inventory": [
                "vehicle 0.91 (pickup truck)",
                "vehicle 0.30 (minivan)",
                "",
                "livestock 0.70 (ox)",
                "",
            ],
            "blurred": ["true", "false", "false", "true", ""],
            "dark": ["false"] * 4 + [""],
            "screen_photo": ["false"] * 4 + [""],
            "duplicate_of": ["", "x/a.jpg", "", "", ""],
        }
    )


def test_precision_and_recall_against_checklists(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "file,vehicle,livestock,blurred,reused\na.jpg,1,0,да,0\nb.jpg,1,,0,1\nc.jpg,0,0,0,0\nd.jpg,0,1,1,\n"
    )
    table = evaluate(_checks(), read_labels(labels)).set_index("item")
    # vehicle: a found (0.91), b missed (0.30 under the 0.5 threshold)
    assert table.loc["vehicle", "precision"] == 1.0 and table.loc["vehicle", "recall"] == 0.5
    assert table.loc["livestock", "photos"] == 3 and table.loc["livestock", "recall"] == 1.0
    assert table.loc["blurred", "precision"] == 1.0 and table.loc["reused", "recall"] == 1.0
    assert table.loc["vehicle", "recall_ci"].startswith("0.")


def test_bad_labels_are_refused_with_the_cell(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,vehicle\na.jpg,maybe\n")
    with pytest.raises(ValueError, match="row 2, column vehicle"):
        read_labels(labels)
    labels.write_text("photo,vehicle\na.jpg,1\n")
    with pytest.raises(ValueError, match="'file'"):
        read_labels(labels)


def test_evaluate_command(tmp_path):
    checks, labels = tmp_path / "checks.csv", tmp_path / "labels.csv"
    _checks().to_csv(checks, index=False)
    labels.write_text("file,vehicle\na.jpg,1\nb.jpg,0\n")
    r = CliRunner().invoke(
        app,
        [
            "vision",
            "evaluate",
            "--labels",
            str(labels),
            "--checks",
            str(checks),
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert pd.read_csv(tmp_path / "s.csv").loc[0, "precision"] == 1.0
