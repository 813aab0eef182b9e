"""Periods in the command's output as people write them (issue 20): `atauly law explain` and the demo's step 5
print «III квартал 2025 г.», «2025 ж. сәуір–маусым», never 2025Q3 nor 2025-04…2025-06."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atauly.cli import main
from atauly.cli.common import console
from atauly.i18n import Translator

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "atauly" / "registry" / "sample"
#: A quarter code, or a month code that is not the start of a date (2022-12-29 stays: it is a date).
CODE = re.compile(r"\b\d{4}Q[1-4]\b|\b\d{4}-(0[1-9]|1[0-2])\b(?!-\d)")
WORDS = {
    "ru": ("III квартал 2025 г.", "апрель–июнь 2025 г.", "Период назначения: июль–сентябрь 2025 г."),
    "kk": ("2025 ж. III тоқсан", "2025 ж. сәуір–маусым", "Тағайындау кезеңі: 2025 ж. шілде–қыркүйек"),
}


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_law_explain_writes_periods_in_words(lang):
    args = ["law", "explain", "--registry", str(SAMPLE), "--family", "F01", "--quarter", "2025Q3"]
    r = CliRunner().invoke(main.app, [*args, "--lang", lang] if lang != "ru" else args)  # ru: the default
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # the console wraps long lines
    assert not CODE.search(text), CODE.search(text).group(0)
    for words in WORDS[lang]:
        assert words in text
    # OpenFisca's own log keeps its period codes (it is a technical trace)
    r = CliRunner().invoke(main.app, [*args, "--openfisca-trace"])
    assert "poverty_line<2025-07>" in r.output


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_demos_trace_writes_periods_in_words(lang):
    with console.capture() as captured:
        main._demo_trace(SAMPLE, "F01", "2025Q3", Translator(lang))
    text = " ".join(captured.get().split())
    assert not CODE.search(text), CODE.search(text).group(0)
    for words in WORDS[lang]:
        assert words in text
