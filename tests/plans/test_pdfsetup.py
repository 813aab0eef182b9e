"""One PDF set-up for the family documents and the home-inspection act (atauly.plans.pdfsetup): the same
fonts, metadata (title, language, creator, title in the window) and tagging (structure tree, marked content,
artifact footers); reduced fonts cached on disk, the full font whenever a character is missing."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atauly.i18n import Translator
from atauly.plans import pdfsetup
from atauly.plans.writers import Block, Document, Section, to_pdf

MARKED = re.compile(rb"/(H1|H2|P|L|Table) <</MCID \d+>> BDC")


def _utf16(text: str) -> bytes:
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def _family_doc(text: str = "Қазақ тілі ₸ → ≤ 30 АЕК ✓") -> Document:
    return Document(
        "doc",
        "Әлеуметтік келісімшарт",
        "kk",
        [("Отбасы", "R61F1")],
        [
            Section(
                "Шаралар",
                [
                    Block("p", text),
                    Block("list", rows=["бір", "екі"]),
                    Block("table", rows=[["1", "2"]], columns=["A", "B"]),
                ],
            )
        ],
        "Жоба",
    )


def _act_ctx(lang: str = "kk", photos=()) -> dict:
    return {
        "t": Translator(lang),
        "summary": [("Өтініш", "№ 1")],
        "answers": [{"question": "Тұрғын үй", "answer": "киіз үй"}],
        "by_item": [],
        "facts": [],
        "photos": list(photos),
    }


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _tagged(pdf: bytes, title: str, lang: str) -> None:
    assert pdf.startswith(b"%PDF")
    assert b"/StructTreeRoot" in pdf and b"/Marked true" in pdf
    assert f"/Lang ({lang})".encode() in pdf
    assert b"/Title " + _utf16(title) in pdf
    assert b"/DisplayDocTitle true" in pdf and b"/Creator (Atauly)" in pdf
    assert b"/Artifact BMC" in pdf  # the footer is not read out
    assert pdf.count(b"BDC") == pdf.count(b"EMC") - pdf.count(b"BMC")  # every element closed


def test_a_family_document_is_tagged():
    pdf = to_pdf(_family_doc(), compress=False)
    _tagged(pdf, "Әлеуметтік келісімшарт", "kk")
    assert MARKED.findall(pdf) == [b"H1", b"Table", b"H2", b"P", b"L", b"Table"]  # the reading order


def test_the_inspection_act_is_tagged_with_the_same_set_up():
    from atauly.service import inspection

    photo = {"id": 5, "number": 1, "flags": [], "findings": []}
    act = inspection.pdf(_act_ctx("kk", [photo]), {5: _jpeg()}, compress=False)
    title = Translator("kk")("Home inspection act")
    _tagged(act, title, "kk")
    kinds = MARKED.findall(act)
    assert kinds[0] == b"H1" and b"H2" in kinds and b"L" in kinds
    assert b"/S /Figure" in act and b"/Alt " + _utf16(Translator("kk")("Photo {n}", n=1)) in act
    family = to_pdf(_family_doc(), compress=False)
    fonts = re.compile(rb"/BaseFont /([A-Z]{6}\+[\w-]+)")
    strip = {name.split(b"+")[1] for name in fonts.findall(family)}
    assert strip == {name.split(b"+")[1] for name in fonts.findall(act)}  # the same fonts


def test_the_act_in_russian_says_so():
    from atauly.service import inspection

    act = inspection.pdf(_act_ctx("ru"), {}, compress=False)
    _tagged(act, Translator("ru")("Home inspection act"), "ru")


def test_the_reduced_fonts_are_made_once_and_cached(tmp_path):
    path = pdfsetup._reduced_path(pdfsetup.font_dir() / "DejaVuSans.ttf")
    assert path is not None and path.is_relative_to(tmp_path / "cache")
    made = path.stat().st_mtime_ns
    assert pdfsetup._reduced_path(pdfsetup.font_dir() / "DejaVuSans.ttf") == path
    assert path.stat().st_mtime_ns == made  # not made again
    assert path.stat().st_size < (pdfsetup.font_dir() / "DejaVuSans.ttf").stat().st_size / 2


def test_an_unwritable_cache_falls_back_to_the_full_font(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(pdfsetup, "_FONTS", {})
    assert pdfsetup._reduced_path(pdfsetup.font_dir() / "DejaVuSans.ttf") is None
    pdf = to_pdf(_family_doc(), compress=False)
    assert b"FontFile2" in pdf


def _in_reduced_ranges(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in pdfsetup.REDUCED_RANGES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=("Cs", "Cc")), max_size=30
    )
)
def test_the_reduced_fonts_keep_every_character_of_their_ranges(text):
    """The reduced fonts lack what the full ones lack, plus only characters outside their ranges; and
    :func:`render` lays the text out again in the full fonts exactly when the reduced ones lack one."""
    from atauly.plans import writers

    doc = _family_doc(text)
    reduced = set(pdfsetup.missing_glyphs(writers._layout(doc, True, reduced=True)))
    full = set(pdfsetup.missing_glyphs(writers._layout(doc, True, reduced=False)))
    assert full <= reduced
    assert not any(_in_reduced_ranges(c) for c in reduced - full)
    calls = []

    def layout(small: bool):
        calls.append(small)
        return writers._layout(doc, True, small)

    assert pdfsetup.render(layout).startswith(b"%PDF")
    assert calls == ([True, False] if reduced else [True])


def test_a_character_outside_the_reduced_fonts_is_not_lost():
    from atauly.plans import writers

    doc = _family_doc("Ꙗ")  # U+A656, Cyrillic extended-B: in DejaVu, not in the reduced copy
    assert 0xA656 in pdfsetup.missing_glyphs(writers._layout(doc, True, reduced=True))
    assert not pdfsetup.missing_glyphs(writers._layout(doc, True, reduced=False))
    pdf = to_pdf(doc, compress=False)
    assert b"/Marked true" in pdf


def test_a_cache_that_cannot_be_found_falls_back_to_the_full_font(monkeypatch, tmp_path):
    """No home directory (a container's arbitrary user id: Path.home raises RuntimeError) and no
    XDG_CACHE_HOME: the document is still made, with the full font."""
    from pathlib import Path

    from atauly.plans import pdfsetup

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert pdfsetup._reduced_path(pdfsetup.font_dir() / "DejaVuSans.ttf") is None
    doc = pdfsetup.new_pdf("t", "ru")
    doc.add_page()
    assert doc.output()
