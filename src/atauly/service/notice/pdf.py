"""The notice as an A4 PDF (fpdf2), with the DejaVu Sans fonts shipped with matplotlib, which have the
Kazakh letters; nothing is downloaded.

The PDF is tagged for assistive technology as far as fpdf2 allows (2.8: a structure tree of marked content,
no API for tagging text): its catalogue has ``/MarkInfo <</Marked true>>``, the document language
(``/Lang``), the title shown in the window (``DisplayDocTitle``), and a structure tree whose elements
follow the reading order — ``H1`` for the title, ``H2`` for each section, ``P`` for paragraphs and key–value
rows, ``L`` for lists and ``Table`` for tables — each wrapping its text as marked content (``BDC``/``EMC``
with an ``MCID``). The page footers are marked ``Artifact`` (not read). Limits, documented in
docs/service.md: a table is one ``Table`` element without ``TR``/``TH``/``TD`` children, and a list one ``L``
without ``LI``; an element that runs onto the next page continues as a new element of the same kind there.
In a notice in two languages each part's marked content carries its own ``/Lang``.
"""

from __future__ import annotations

from ..models import Application
from .context import notice_context


def pdf_from_contexts(contexts: list[dict], compress: bool = True) -> bytes:
    """The notice in each language given, one after the other (each from a new page), as one A4 PDF."""
    writer = _Writer(contexts[0], compress)
    for k, ctx in enumerate(contexts):
        writer.part(ctx, new_page=k > 0)
    return writer.finish()


def pdf_from_context(ctx: dict, compress: bool = True) -> bytes:
    """The notice as an A4 PDF (fpdf2). ``compress=False`` leaves the page streams readable (tests)."""
    return pdf_from_contexts([ctx], compress)


def render_pdf(app: Application, lang: str) -> bytes:
    """The notice as an A4 PDF with embedded DejaVu Sans (Kazakh letters included); nothing is downloaded."""
    return pdf_from_context(notice_context(app, lang))


class _Writer:
    """Lays out the notice's contexts on A4 pages: per part a header, numbered sections of blocks, a footer."""

    def __init__(self, ctx: dict, compress: bool) -> None:
        from atauly.plans.pdfsetup import new_pdf

        self.ctx = ctx
        # The shared tagged set-up (plans.pdfsetup): fonts, margins, title, language, viewer and footer;
        # the full fonts (a notice carries any name a family has), page numbers after the part's label.
        pdf = self.pdf = new_pdf(
            f"{ctx['title']} — № {ctx['app_id']}",
            ctx["lang"],
            subject=f"{ctx['authority']}; № {ctx['app_id']}",
            compress=compress,
            reduced=False,
        )
        pdf.footer_separator = " "
        self.width = pdf.epw

    def tag(self, kind: str):
        from atauly.plans.pdfsetup import Tag

        return Tag(self.pdf, kind)

    def part(self, ctx: dict, new_page: bool) -> None:
        self.ctx = ctx
        self.pdf.part_lang = ctx["lang"]
        self.pdf.footer_text = f"{ctx['title']} · № {ctx['app_id']} · {ctx['page_label']}"
        if new_page or self.pdf.page == 0:
            self.pdf.add_page()
        self.header()
        for number, section in enumerate(ctx["sections"], 1):
            self.section(number, section)
        self.pdf.ln(3)
        self.pdf.set_text_color(90)
        with self.tag("P"):
            self.text(ctx["footer"], 8)
        self.pdf.set_text_color(0)

    def text(
        self, s: str, size: float = 9.5, bold: bool = False, h: float = 4.8, indent: float = 0.0
    ) -> None:
        pdf = self.pdf
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(self.width - indent, h, s, new_x="LMARGIN", new_y="NEXT", align="L")

    def kv(self, rows, caption: str = "") -> None:
        from fpdf.fonts import FontFace

        if caption:
            with self.tag("P"):
                self.text(caption, 9.5, bold=True)
        self.pdf.set_font("DejaVu", "", 9)
        with (
            self.tag("Table"),
            self.pdf.table(
                col_widths=(45, 55),
                first_row_as_headings=False,
                line_height=5,
                borders_layout="HORIZONTAL_LINES",
                padding=1,
            ) as table,
        ):
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(emphasis="BOLD"))
                row.cell(value)
        self.pdf.ln(1.5)

    def grid(self, block: dict) -> None:
        from fpdf.fonts import FontFace

        with self.tag("P"):
            self.text(block["caption"], 9.5, bold=True)
        self.pdf.set_font("DejaVu", "", 8.5)
        n = len(block["columns"])
        aligns = ["RIGHT" if i in block["numeric"] else "LEFT" for i in range(n)]
        with (
            self.tag("Table"),
            self.pdf.table(
                col_widths=tuple(block["widths"]) if block.get("widths") else None,
                line_height=4.6,
                text_align=tuple(aligns),
                headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                borders_layout="SINGLE_TOP_LINE",
                padding=1,
            ) as table,
        ):
            head = table.row()
            for c in block["columns"]:
                head.cell(c)
            for r in block["rows"]:
                row = table.row()
                for c in r:
                    row.cell(c)
        self.pdf.ln(1.5)

    def bullets(self, block: dict) -> None:
        pdf, width = self.pdf, self.width
        if block.get("caption"):
            with self.tag("P"):
                self.text(block["caption"], 9.5, bold=True)
        size, h = (8.5, 4.3) if block.get("note") else (9.5, 4.8)
        with self.tag("L"):
            for item in block["items"]:
                pdf.set_font("DejaVu", "", size)
                if item.startswith("– "):  # a sub-item: indented, its own dash
                    pdf.set_x(pdf.l_margin + 8)
                    pdf.multi_cell(width - 8, h, item, new_x="LMARGIN", new_y="NEXT", align="L")
                    continue
                pdf.set_x(pdf.l_margin + 2)
                pdf.cell(4, h, "•")
                pdf.multi_cell(width - 6, h, item, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)

    def paragraph(self, block: dict) -> None:
        with self.tag("P"):
            if block.get("headline"):
                self.text(block["text"], 11.5, bold=True, h=6)
            else:
                self.text(block["text"], 8.5 if block.get("note") else 9.5)
        self.pdf.ln(1)

    def header(self) -> None:
        ctx = self.ctx
        with self.tag("P"):
            self.text(ctx["authority"], 10, bold=True)
            self.text(f"{ctx['department']} · {ctx['region']}", 9)
        self.pdf.ln(2)
        with self.tag("H1"):
            self.text(ctx["title"], 14, bold=True, h=6.5)
        self.pdf.ln(1)
        self.kv(ctx["header"])

    def section(self, number: int, section: dict) -> None:
        pdf = self.pdf
        pdf.ln(1)
        if pdf.will_page_break(20):
            pdf.add_page()
        with self.tag("H2"):
            self.text(f"{number}. {section['heading']}", 12, bold=True, h=6)
        pdf.ln(0.5)
        for block in section["blocks"]:
            kind = block["kind"]
            if kind == "p":
                self.paragraph(block)
            elif kind == "kv":
                self.kv(block["rows"], block.get("caption", ""))
            elif kind == "table":
                self.grid(block)
            elif kind == "list":
                self.bullets(block)

    def finish(self) -> bytes:
        return bytes(self.pdf.output())
