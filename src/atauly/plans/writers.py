"""The document model (title, header rows, sections of paragraphs, key-value rows and tables) and its two
writers: a PDF (fpdf2, the DejaVu fonts matplotlib ships, as the decision notice uses) and an editable Word
file (python-docx's template and XML, written without importing python-docx: :func:`to_docx`). One model
feeds both, so the PDF and the DOCX never say different things."""

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
    """The document as an editable Word file: python-docx's own blank document (its template, found without
    importing python-docx) with the body, the default font and the title, language and author written as
    python-docx writes them (``tests/plans/test_writers.py`` checks that the XML is the same). Importing
    python-docx and building the document through its element classes took ~0.15 s of one family's two
    documents in a fresh process; text that XML cannot hold is left to python-docx (which refuses it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    template = _docx_template()
    if template is None or not _xml_safe(doc) or len(doc.title) > 255:  # python-docx refuses longer titles
        return _to_docx_python_docx(doc, path)
    import zipfile

    parts = dict(template.parts)
    parts["word/document.xml"] = template.document.replace(
        "<w:body>", "<w:body>" + _docx_body(doc, template), 1
    )
    parts["word/styles.xml"] = template.styles
    parts["docProps/core.xml"] = _core_xml(template.core, doc)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


class _Template:
    """python-docx's blank document, read once per process: its parts, the document and core properties as
    text, the styles with the documents' default font (DejaVu Sans 10 pt), the ids of the styles used and
    the width between the margins (twips)."""

    def __init__(self, source: Path) -> None:
        import re
        import zipfile

        with zipfile.ZipFile(source) as z:
            self.parts = {name: z.read(name) for name in z.namelist()}
        self.document = _compact(self.parts["word/document.xml"].decode("utf-8"))
        self.core = _compact(self.parts["docProps/core.xml"].decode("utf-8"))
        styles = _compact(self.parts["word/styles.xml"].decode("utf-8"))
        self.ids = {}
        for name in ("heading 1", "heading 2", "List Bullet", "Table Grid"):
            m = re.search(r'w:styleId="([^"]+)"><w:name w:val="' + re.escape(name) + '"/>', styles, re.I)
            if m is None:
                raise ValueError(f"style {name!r} not in the template")
            self.ids[name.lower()] = m.group(1)
        normal = re.search(r'(<w:style [^>]*w:styleId="Normal">)(.*?)(</w:style>)', styles, re.S)
        if normal is None or "<w:rPr>" in normal.group(2):
            raise ValueError("the template's Normal style is not the one expected")
        font = '<w:rPr><w:rFonts w:ascii="DejaVu Sans" w:hAnsi="DejaVu Sans"/><w:sz w:val="20"/></w:rPr>'
        self.styles = styles[: normal.end(2)] + font + styles[normal.end(2) :]
        size = re.search(r'<w:pgSz w:w="(\d+)"', self.document)
        margins = re.search(r'<w:pgMar [^>]*w:right="(\d+)"[^>]*w:left="(\d+)"', self.document)
        emu = 635  # per twip
        self.width_emu = (int(size.group(1)) - int(margins.group(1)) - int(margins.group(2))) * emu


def _compact(xml: str) -> str:
    """The XML without the whitespace between elements (python-docx parses its template so)."""
    import re

    return re.sub(r">\s+<", "><", xml.strip())


_TEMPLATE: list = []


def _docx_template() -> _Template | None:
    if not _TEMPLATE:
        import importlib.util

        spec = importlib.util.find_spec("docx")
        found = None
        if spec is not None and spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations))) / "templates" / "default.docx"
            try:
                found = _Template(source)
            except (OSError, KeyError, ValueError, AttributeError):
                found = None  # another python-docx: write through it
        _TEMPLATE.append(found)
    return _TEMPLATE[0]


def _xml_safe(doc: Document) -> bool:
    """Whether every text of ``doc`` can be written in XML 1.0 (no control characters but tab, newline and
    carriage return; no surrogates)."""
    import re

    bad = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
    texts = [doc.title, doc.footer, *(str(v) for row in doc.header for v in row)]
    for section in doc.sections:
        texts.append(section.heading)
        for block in section.blocks:
            texts.append(block.text)
            texts += [str(c) for c in block.columns]
            texts += [
                str(v) for row in block.rows for v in (row if isinstance(row, (list, tuple)) else [row])
            ]
    return not any(bad.search(str(text)) for text in texts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run(text: str, props: str = "") -> str:
    """A ``w:r`` as python-docx writes ``run.text = text``: tabs as ``w:tab``, line breaks as ``w:br``,
    ``xml:space="preserve"`` on a text with leading or trailing white space."""
    import re

    out = [f"<w:r>{props}"]
    for piece in re.split(r"(\t|\r|\n)", text):
        if piece == "\t":
            out.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            out.append("<w:br/>")
        elif piece:
            space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
            out.append(f"<w:t{space}>{_escape(piece)}</w:t>")
    return "<w:r/>" if len(out) == 1 and not props else "".join(out) + "</w:r>"


def _walk(doc: Document, paragraph, table, styles: tuple[str, str, str]) -> None:
    """The document's title, header and sections in order, through a writer's ``paragraph(text, style)``
    and ``table(columns, rows, header)``; ``styles``: the writer's names of heading 1, heading 2 and
    the bullet list (both DOCX writers walk the document so, and must agree)."""
    heading1, heading2, bullet = styles
    paragraph(doc.title, heading1)
    table([], doc.header, header=False)
    for number, section in enumerate(doc.sections, 1):
        paragraph(f"{number}. {section.heading}", heading2)
        for block in section.blocks:
            if block.kind == "p":
                paragraph(block.text)
            elif block.kind in ("kv", "sign"):
                table([], block.rows, header=False)
            elif block.kind == "list":
                for item in block.rows:
                    paragraph(item, bullet)
            elif block.kind == "table":
                table(block.columns, block.rows)


def _docx_body(doc: Document, template: _Template) -> str:
    ids = template.ids
    out: list[str] = []

    def paragraph(text: str, style: str | None = None, props: str = "") -> None:
        pstyle = f'<w:pPr><w:pStyle w:val="{ids[style]}"/></w:pPr>' if style else ""
        out.append(f"<w:p>{pstyle}{_run(text, props) if text else ''}</w:p>")

    def table(columns, rows, header=True) -> None:
        n = len(columns) if columns else len(rows[0]) if rows else 2
        width = round((template.width_emu // n) / 635) if n else 0
        cell = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr><w:p>'
        out.append(
            f'<w:tbl><w:tblPr><w:tblStyle w:val="{ids["table grid"]}"/><w:tblW w:type="auto" w:w="0"/>'
            '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" '
            'w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>'
            + f'<w:gridCol w:w="{width}"/>' * n
            + "</w:tblGrid>"
        )
        if header and columns:
            out.append(
                "<w:tr>"
                + "".join(f"{cell}{_run(str(v), '<w:rPr><w:b/></w:rPr>')}</w:p></w:tc>" for v in columns)
                + "</w:tr>"
            )
        for r in rows:
            values = list(r)
            if len(values) != n:
                raise ValueError(f"a row of {len(values)} cells in a table of {n} columns")
            out.append("<w:tr>" + "".join(f"{cell}{_run(str(v))}</w:p></w:tc>" for v in values) + "</w:tr>")
        out.append("</w:tbl>")

    _walk(doc, paragraph, table, ("heading 1", "heading 2", "list bullet"))
    paragraph(doc.footer, props="<w:rPr><w:i/></w:rPr>")
    return "".join(out)


def _core_xml(core: str, doc: Document) -> str:
    """The template's core properties with the title, the author and the language set."""
    import re

    def put(xml: str, tag: str, value: str) -> str:
        element = f"<{tag}>{_escape(value).replace(chr(13), '&#13;')}</{tag}>"  # a bare CR would read as LF
        found = re.search(rf"<{tag}/>|<{tag}>.*?</{tag}>", xml, re.S)
        if found:
            return xml[: found.start()] + element + xml[found.end() :]
        return xml.replace("</cp:coreProperties>", element + "</cp:coreProperties>")

    core = put(core, "dc:title", doc.title)
    core = put(core, "dc:language", doc.lang)
    return put(core, "dc:creator", "Atauly (draft)")


def _to_docx_python_docx(doc: Document, path: Path) -> Path:
    """The same document through python-docx (the reference :func:`to_docx` is checked against). Styles are
    set by their ids, found once per document: python-docx's lookup by name searches the whole styles part
    for the default style at every paragraph."""
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

    _walk(doc, paragraph, table, ("Heading 1", "Heading 2", "List Bullet"))
    p = d.add_paragraph(doc.footer)
    p.runs[0].italic = True
    d.save(str(path))
    return path
