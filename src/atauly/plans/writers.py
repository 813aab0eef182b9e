"""The document model (title, header rows, sections of paragraphs, key-value rows and tables) and its two
writers: a PDF (fpdf2, the DejaVu fonts matplotlib ships, as the decision notice uses) and an editable Word
file (python-docx). One model feeds both, so the PDF and the DOCX never say different things."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .pdfsetup import FAMILY, Tag, new_pdf, render


@dataclass
class Block:
    kind: str  # "p", "kv", "table", "list", "sign"
    text: str = ""
    rows: list = field(default_factory=list)
    columns: list = field(default_factory=list)


@dataclass
class Section:
    heading: str
    blocks: list[Block]


@dataclass
class Document:
    name: str  # file stem
    title: str
    lang: str
    header: list[tuple[str, str]]
    sections: list[Section]
    footer: str


def to_pdf(doc: Document, compress: bool = True) -> bytes:
    """The document as a tagged PDF (the set-up shared with the home-inspection act:
    :mod:`atauly.plans.pdfsetup`). Text is wrapped here, word by word with the font's widths, and set line by
    line with ``cell``: fpdf2's ``multi_cell`` and ``table`` re-measure the whole line for every character
    added (quadratic in the line's length), which made one family's two documents take most of a second."""
    return render(lambda reduced: _layout(doc, compress, reduced))


def _layout(doc: Document, compress: bool, reduced: bool):
    pdf = new_pdf(doc.title, doc.lang, footer=doc.footer, compress=compress, reduced=reduced)
    pdf.add_page()
    width = pdf.epw

    def lines_of(s: str, w: float, x: float, h: float) -> None:
        for line in wrap(pdf, s, w):
            pdf.set_x(x)
            pdf.cell(w, h, line, new_x="LMARGIN", new_y="NEXT")

    def text(s: str, size: float = 9.5, bold: bool = False, h: float = 4.8) -> None:
        pdf.set_font(FAMILY, "B" if bold else "", size)
        lines_of(s, width, pdf.l_margin, h)

    def kv(rows) -> None:
        with Tag(pdf, "Table"):
            table(pdf, [[str(a), str(b)] for a, b in rows], None, 9, 5, "HORIZONTAL_LINES", bold_first=True)
        pdf.ln(1.5)

    with Tag(pdf, "H1"):
        text(doc.title, 14, bold=True, h=6.5)
    pdf.ln(1)
    kv(doc.header)
    for number, section in enumerate(doc.sections, 1):
        if pdf.will_page_break(20):
            pdf.add_page()
        with Tag(pdf, "H2"):
            text(f"{number}. {section.heading}", 11.5, bold=True, h=6)
        for block in section.blocks:
            if block.kind == "p":
                with Tag(pdf, "P"):
                    text(block.text)
                pdf.ln(1)
            elif block.kind in ("kv", "sign"):
                kv(block.rows)
            elif block.kind == "list":
                with Tag(pdf, "L"):
                    for item in block.rows:
                        pdf.set_font(FAMILY, "", 9.5)
                        if pdf.will_page_break(4.8):
                            pdf.add_page()
                        pdf.set_x(pdf.l_margin + 2)
                        pdf.cell(4, 4.8, "•")
                        lines_of(item, width - 6, pdf.l_margin + 6, 4.8)
                pdf.ln(1)
            elif block.kind == "table":
                rows = [[str(c) for c in r] for r in block.rows]
                with Tag(pdf, "Table"):
                    table(pdf, rows, [str(c) for c in block.columns], 8, 4.4, "SINGLE_TOP_LINE")
                pdf.ln(1.5)
    return pdf


def wrap(pdf, text: str, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` in the current font: greedy, at spaces, a word wider than
    the line cut where it must; explicit line breaks kept."""
    out: list[str] = []
    measure = _measure(pdf)
    space = measure(" ")
    for paragraph in str(text).split("\n"):
        line, line_w = "", 0.0
        for word in paragraph.split(" "):
            w = measure(word)
            if line and line_w + space + w <= width:
                line, line_w = f"{line} {word}", line_w + space + w
                continue
            if line:
                out.append(line)
            while w > width and len(word) > 1:  # a word wider than the line: cut it
                lo, hi = 1, len(word) - 1
                while lo < hi:  # the longest prefix that fits (at least one character)
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if measure(word[:mid]) <= width else (lo, mid - 1)
                out.append(word[:lo])
                word = word[lo:]
                w = measure(word)
            line, line_w = word, w
        out.append(line)
    return out


def _measure(pdf):
    """``get_string_width`` in the current font and size, remembered per word for the document (table cells
    and labels repeat the same words; fpdf2 measures each character anew)."""
    cache = pdf.__dict__.setdefault("_atauly_widths", {})
    key = (pdf.font_family, pdf.font_style, pdf.font_size_pt)
    widths = cache.setdefault(key, {})

    def measure(s: str) -> float:
        w = widths.get(s)
        if w is None:
            w = widths[s] = pdf.get_string_width(s)
        return w

    return measure


def table(
    pdf,
    rows: list[list[str]],
    columns: list[str] | None,
    size: float,
    line_height: float,
    borders: str,
    bold_first: bool = False,
    padding: float = 1.0,
) -> None:
    """Rows of equal-width columns; a row that would cross the page's end starts a new page (with the
    heading row again). ``borders``: ``SINGLE_TOP_LINE`` (a rule under the heading) or
    ``HORIZONTAL_LINES`` (a rule between rows)."""
    n = len(columns) if columns else (len(rows[0]) if rows else 0)
    if not n:
        return
    col_w = pdf.epw / n
    inner = col_w - 2 * padding

    def draw(cells: list[str], heading: bool) -> None:
        styles = ["B" if heading or (bold_first and k == 0) else "" for k in range(n)]
        wrapped = []
        for k, c in enumerate(cells):
            pdf.set_font(FAMILY, styles[k], size)
            wrapped.append(wrap(pdf, c, inner))
        h = max(len(w) for w in wrapped) * line_height + 2 * padding
        if pdf.will_page_break(h):
            pdf.add_page()
            if columns and not heading:
                draw(columns, True)
        x0, y0 = pdf.l_margin, pdf.get_y()
        if heading:
            pdf.set_fill_color(235, 235, 235)
            pdf.rect(x0, y0, pdf.epw, h, style="F")
        for k, lines in enumerate(wrapped):
            pdf.set_font(FAMILY, styles[k], size)
            for i, line in enumerate(lines):
                pdf.set_xy(x0 + k * col_w + padding, y0 + padding + i * line_height)
                pdf.cell(inner, line_height, line)
        pdf.set_draw_color(0)
        pdf.set_line_width(0.2)
        if heading and borders == "SINGLE_TOP_LINE":
            pdf.line(x0, y0 + h, x0 + pdf.epw, y0 + h)
        elif borders == "HORIZONTAL_LINES":
            pdf.line(x0, y0 + h, x0 + pdf.epw, y0 + h)
        pdf.set_xy(x0, y0 + h)

    if columns:
        draw(columns, True)
    for r in rows:
        draw(list(r) + [""] * (n - len(r)), False)


def to_docx(doc: Document, path: Path) -> Path:
    """The document as an editable Word file. Styles are set by their ids, found once per document:
    python-docx's lookup by name searches the whole styles part for the default style at every paragraph
    (a tenth of a second for one family's two documents)."""
    import docx
    from docx.shared import Pt

    d = docx.Document()
    styles = d.styles
    ids = {name: styles[name].style_id for name in ("Heading 1", "Heading 2", "List Bullet", "Table Grid")}
    style = styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10)
    d.core_properties.title = doc.title
    d.core_properties.language = doc.lang
    d.core_properties.author = "Atauly (draft)"

    def paragraph(text: str, style_name: str | None = None):
        p = d.add_paragraph(text)
        if style_name is not None:
            p._p.style = ids[style_name]
        return p

    def table(columns, rows, header=True):
        n = len(columns) if columns else len(rows[0]) if rows else 2
        tb = d.add_table(rows=0, cols=n)
        tb._tbl.tblStyle_val = ids["Table Grid"]
        if header and columns:
            cells = tb.add_row().cells
            for c, v in zip(cells, columns, strict=True):
                c.text = str(v)
                for run in c.paragraphs[0].runs:
                    run.bold = True
        for r in rows:
            cells = tb.add_row().cells
            for c, v in zip(cells, r, strict=True):
                c.text = str(v)

    paragraph(doc.title, "Heading 1")
    table([], doc.header, header=False)
    for number, section in enumerate(doc.sections, 1):
        paragraph(f"{number}. {section.heading}", "Heading 2")
        for block in section.blocks:
            if block.kind == "p":
                paragraph(block.text)
            elif block.kind in ("kv", "sign"):
                table([], block.rows, header=False)
            elif block.kind == "list":
                for item in block.rows:
                    paragraph(item, "List Bullet")
            elif block.kind == "table":
                table(block.columns, block.rows)
    p = d.add_paragraph(doc.footer)
    p.runs[0].italic = True
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path
