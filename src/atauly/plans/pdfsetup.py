"""The PDF set-up that the family documents (:mod:`atauly.plans.writers`) and the home-inspection act
(:mod:`atauly.service.inspection`) share: A4 pages and margins, the DejaVu fonts, the metadata (title,
language, creator, the title shown in the viewer's window) and tagging for assistive technology.

Here, in ``plans``, because the service may import ``plans`` and not the other way round
(tests/test_import_layers.py).

**Fonts.** DejaVu Sans (Cyrillic and the Kazakh letters) comes with matplotlib's ``mpl-data``; it is found
without importing matplotlib. The full font holds ~6,000 glyphs and large layout tables (kerning, GSUB,
GPOS, MATH) that fpdf2 parses and subsets anew for every document; a *reduced* copy — Latin, Cyrillic,
punctuation, currency (₸), arrows, mathematical signs, geometric shapes; outlines and metrics only — is
made once with fontTools and kept in the user's cache directory (``$XDG_CACHE_HOME/atauly/fonts``, keyed
by the source font and the subset's definition), so that one family's documents in a fresh process do not
pay for the whole font. A document whose text uses a character the reduced font lacks is laid out again
with the full font (:func:`render`), so nothing is ever printed as a blank box; where the cache cannot be
written the full font is used. The parsed fonts are kept for the process: each document gets a copy with
its own glyph subset (:func:`add_fonts`).

**Tagging** (as far as fpdf2 2.8 allows, as the decision notice does): the catalogue's ``/MarkInfo
<</Marked true>>``, ``/Lang``, ``DisplayDocTitle``, and a structure tree in reading order whose elements
(``H1``, ``H2``, ``P``, ``L``, ``Table``; ``Figure`` with alternative text for images) wrap their text as
marked content; page footers are ``Artifact``. A table is one ``Table`` element without ``TR``/``TD``
children, a list one ``L`` without ``LI``; an element that runs onto the next page continues there.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import io
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

#: The fonts of every document (fpdf2 style → DejaVu file in :func:`font_dir`).
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"

#: The characters the reduced fonts keep (code-point ranges, both ends included).
REDUCED_RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 supplement, Latin extended A and B
    (0x02B0, 0x02FF),  # spacing modifier letters
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic and its supplement (Kazakh: Ә Ғ Қ Ң Ө Ұ Ү Һ І)
    (0x2000, 0x206F),  # general punctuation (– — « » • … ‰)
    (0x20A0, 0x20C0),  # currency signs (₸ ₽ €)
    (0x2100, 0x214F),  # letterlike symbols (№)
    (0x2190, 0x21FF),  # arrows (→)
    (0x2200, 0x22FF),  # mathematical operators (≤ ≥ ± ×)
    (0x25A0, 0x25FF),  # geometric shapes (■ ●)
    (0x2610, 0x2612),  # ballot boxes (☐ ☑ ☒)
    (0x2713, 0x2718),  # check marks and crosses (✓ ✗)
    (0xFFFD, 0xFFFD),  # replacement character
)
#: Tables fpdf2 does not use (it sets text without shaping): left out of the reduced fonts.
_DROPPED_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "MATH", "FFTM", "hdmx", "VDMX", "LTSH")
_SUBSET_VERSION = "2"

_FONTS: dict[tuple[str, bool], tuple[object, bytes]] = {}  # (style, reduced) → (parsed font, file bytes)
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


def font_dir() -> Path:
    """The directory of matplotlib's DejaVu fonts, found without importing matplotlib (a tenth of a second)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the DejaVu fonts come with matplotlib: install it (pip install matplotlib)")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "atauly" / "fonts"


def _reduced_path(source: Path) -> Path | None:
    """The reduced copy of ``source`` in the cache, made when missing; None when it cannot be made or written."""
    try:
        from fontTools import version as ft_version

        st = source.stat()
        key = hashlib.sha256(
            f"{source.name}|{st.st_size}|{st.st_mtime_ns}|{ft_version}|{_SUBSET_VERSION}|{REDUCED_RANGES}".encode()
        ).hexdigest()[:16]
        target = cache_dir() / f"{source.stem}-{key}.ttf"
        if target.exists():
            return target
        data = _reduce(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)  # atomic: a concurrent process sees the whole file or none
        finally:
            if os.path.exists(tmp):  # a failed write (disk full) leaves no half file behind
                os.unlink(tmp)
        return target
    except Exception as exc:  # noqa: BLE001 — any failure (no home directory, a fontTools error) falls back
        # to the full font: a document is never refused for its cache.
        log.warning("reduced font not cached (%s): the full font is used", type(exc).__name__)
        return None


def _reduce(source: Path) -> bytes:
    from fontTools import subset, ttLib

    font = ttLib.TTFont(str(source), recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += list(_DROPPED_TABLES)
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.glyph_names = True  # kept in "post": fontTools would otherwise rebuild them from the cmap
    options.recalc_timestamp = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for lo, hi in REDUCED_RANGES for c in range(lo, hi + 1)])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _parsed_font(style: str, reduced: bool) -> tuple[object, bytes]:
    """DejaVu in ``style`` (reduced or full) parsed by fpdf2 the first time it is asked for in this process,
    and the font file's bytes."""
    with _LOCK:
        if (style, reduced) not in _FONTS:
            from fpdf import FPDF

            path = font_dir() / FONT_FILES[style]
            if reduced:
                path = _reduced_path(path) or path
            scratch = FPDF()
            scratch.add_font(FAMILY, style, str(path))
            _FONTS[(style, reduced)] = (scratch.fonts[f"{FAMILY.lower()}{style}"], path.read_bytes())
        return _FONTS[(style, reduced)]


def add_fonts(pdf, reduced: bool = True) -> None:
    """DejaVu regular and bold in ``pdf`` without parsing them again: a copy of the font parsed once per
    process with this document's own glyph subset, descriptor and font-file object, which fpdf2 changes when
    it writes the PDF (so two documents never share them)."""
    from fontTools import ttLib
    from fpdf.fonts import SubsetMap

    for style in FONT_FILES:
        parsed, data = _parsed_font(style, reduced)
        font = copy.copy(parsed)
        font.i = len(pdf.fonts) + 1
        font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
        font.subset = SubsetMap(font)
        font.desc = copy.copy(parsed.desc)  # the writer numbers it and attaches the embedded subset
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        pdf.fonts[font.fontkey] = font


def missing_glyphs(pdf) -> list[int]:
    """The code points laid out in ``pdf`` that its fonts lack."""
    return sorted({c for font in pdf.fonts.values() for c in getattr(font, "missing_glyphs", [])})


def _pdf_class():
    from fpdf import FPDF

    class TaggedPDF(FPDF):
        """FPDF with marked content that survives a page break (closed before it, reopened after) and an
        ``Artifact`` footer ``footer_text · page/pages``. A part in another language than the document's
        (``part_lang`` ≠ ``doc_lang``: the decision notice in two languages) marks its content with its own
        ``/Lang``."""

        footer_text = ""
        footer_separator = " · "
        doc_lang: str | None = None
        part_lang: str | None = None
        _open: str | None = None

        def begin_tag(self, kind: str) -> None:
            self.end_tag()
            mcid = self.struct_builder.next_mcid_for_page(self.page)
            self._add_marked_content(struct_type=f"/{kind}", mcid=mcid)
            own = self.part_lang and self.part_lang != self.doc_lang
            lang = f" /Lang ({self.part_lang})" if own else ""
            self._out(f"/{kind} <</MCID {mcid}{lang}>> BDC")
            self._open = kind

        def end_tag(self) -> None:
            if self._open is not None:
                self._out("EMC")
                self._open = None

        def add_page(self, *args, **kwargs) -> None:
            kind = self._open
            self.end_tag()
            super().add_page(*args, **kwargs)
            if kind is not None:
                self.begin_tag(kind)

        def footer(self) -> None:
            if not self.footer_text:
                return
            self._out("/Artifact BMC")
            self.set_y(-12)
            self.set_font(FAMILY, "", 7.5)
            self.set_text_color(90)
            self.cell(0, 5, f"{self.footer_text}{self.footer_separator}{self.page_no()}/{{nb}}", align="C")
            self.set_text_color(0)
            self._out("EMC")

    return TaggedPDF


class Tag:
    """``with Tag(pdf, "P"): ...``: what is drawn inside is one structure element of that kind."""

    def __init__(self, pdf, kind: str) -> None:
        self.pdf, self.kind = pdf, kind

    def __enter__(self):
        self.pdf.begin_tag(self.kind)
        return self.pdf

    def __exit__(self, *exc) -> None:
        self.pdf.end_tag()


def new_pdf(
    title: str,
    lang: str,
    footer: str = "",
    subject: str = "",
    compress: bool = True,
    reduced: bool = True,
):
    """A tagged A4 document (16/14/16 mm margins, automatic page breaks) with the fonts, its title and
    language in the metadata, the title shown in the viewer's window, and ``footer`` on every page."""
    from fpdf.prefs import ViewerPreferences

    pdf = _pdf_class()(format="A4", unit="mm")
    pdf.footer_text = footer
    pdf.set_compression(compress)
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(True, margin=16)
    add_fonts(pdf, reduced)
    pdf.set_title(title)
    pdf.set_lang(lang)
    pdf.doc_lang = pdf.part_lang = lang
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_creator("Atauly")
    if subject:
        pdf.set_subject(subject)
    return pdf


def render(layout: Callable[[bool], object]) -> bytes:
    """The PDF that ``layout(reduced)`` lays out (a document from :func:`new_pdf`), as bytes: with the reduced
    fonts, or laid out again with the full fonts when its text needs a character they lack."""
    pdf = layout(True)
    if missing_glyphs(pdf):
        pdf = layout(False)
    return bytes(pdf.output())
