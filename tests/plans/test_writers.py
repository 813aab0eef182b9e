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


def _docx_parts(path) -> dict[str, bytes]:
    """The DOCX's parts, XML canonicalised (whitespace between elements ignored); [Content_Types].xml as its
    sorted entries (the order of a set of declarations means nothing)."""
    import zipfile

    from lxml import etree

    parser = etree.XMLParser(remove_blank_text=True)
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data = z.read(name)
            if name == "[Content_Types].xml":
                data = b"\n".join(sorted(etree.tostring(e, method="c14n") for e in etree.fromstring(data)))
            elif name.endswith((".xml", ".rels")):
                data = etree.tostring(etree.fromstring(data, parser), method="c14n")
            out[name] = data
    return out


def same_docx_as_python_docx(doc: Document, tmp_path) -> None:
    """``to_docx`` writes what python-docx writes for ``doc`` (the reference writer), part by part."""
    from atauly.plans import writers

    fast, reference = tmp_path / f"{doc.name}-fast.docx", tmp_path / f"{doc.name}-reference.docx"
    writers.to_docx(doc, fast)
    writers._to_docx_python_docx(doc, reference)
    a, b = _docx_parts(fast), _docx_parts(reference)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.text(
            st.characters(min_codepoint=0x9, max_codepoint=0x4FF, exclude_categories=("Cs",)), max_size=12
        ),
        min_size=3,
        max_size=3,
    )
)
def test_the_docx_is_what_python_docx_writes(texts):
    """Any text XML can hold — tabs, line breaks, leading spaces, & < >, empty cells, Kazakh letters —
    is written as python-docx writes it; text it cannot hold is refused as python-docx refuses it."""
    import tempfile
    from pathlib import Path

    import pytest

    a, b, c = texts
    doc = Document(
        "edge",
        f"Жоспар {a}",
        "kk",
        [("Отбасы", b), ("", c)],
        [
            Section(a, [Block("p", b), Block("list", rows=[c, "  екі\tүш\r\nтөрт "])]),
            Section("Кесте", [Block("table", rows=[[a, b, ""], ["1", c, "<&>"]], columns=["A", c, ""])]),
            Section("Қол", [Block("sign", rows=[(a, "____")])]),
        ],
        f"Atauly {c}",
    )
    with tempfile.TemporaryDirectory() as tmp:
        if any(ch < " " and ch not in "\t\r\n" for ch in a + b + c):
            with pytest.raises(ValueError):
                from atauly.plans.writers import to_docx

                to_docx(doc, Path(tmp) / "refused.docx")
            return
        same_docx_as_python_docx(doc, Path(tmp))
