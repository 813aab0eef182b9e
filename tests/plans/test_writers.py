"""One family's documents fast: the fonts parsed once per process, Φ without scipy for a few values."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr as scipy_ndtr

from atauly.plans import normal, pdfsetup
from atauly.plans.writers import Block, Document, Section, to_pdf


def _doc(name: str, text: str) -> Document:
    return Document(
        name, "Әлеуметтік келісімшарт", "kk", [("Отбасы", "R61F1")], [Section("1", [Block("p", text)])], "—"
    )


def _same_pdf(a: bytes, b: bytes) -> bool:
    strip = re.compile(rb"/CreationDate \(D:\d+Z?\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]")  # the time and its hash
    return strip.sub(b"", a) == strip.sub(b"", b)


def test_fonts_are_parsed_once_and_each_pdf_embeds_its_own_subset(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(pdfsetup, "_FONTS", {})
    b = _doc("b", "Қазақ тілі, русский язык")
    first = to_pdf(b, compress=False)  # parses the (reduced) fonts
    parsed = {key: font for key, (font, _) in pdfsetup._FONTS.items()}
    assert set(parsed) == {(style, True) for style in pdfsetup.FONT_FILES}
    glyphs = parsed[("", True)].ttfont["maxp"].numGlyphs
    to_pdf(_doc("a", "Ѣѣ Ꙗ ӘәҒғҚқ " * 20), compress=False)  # another document, other letters
    again = to_pdf(b, compress=False)
    assert {k: f for k, (f, _) in pdfsetup._FONTS.items() if k[1]} == parsed  # not parsed again
    assert parsed[("", True)].ttfont["maxp"].numGlyphs == glyphs  # the parsed font is never subset in place
    assert _same_pdf(first, again)  # b's PDF does not carry a's letters
    assert b"FontFile2" in again


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=50))
def test_phi_without_scipy_is_scipys_ndtr(values):
    x = np.array(values, dtype=float)
    ours, theirs = normal.ndtr(x), scipy_ndtr(x)
    assert ours.shape == x.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)


def test_phi_of_large_arrays_is_scipys():
    x = np.linspace(-9, 9, normal.SMALL + 1)
    np.testing.assert_array_equal(normal.ndtr(x), scipy_ndtr(x))
    np.testing.assert_allclose(normal.ndtr(x[: normal.SMALL]), scipy_ndtr(x[: normal.SMALL]), rtol=1e-9)
