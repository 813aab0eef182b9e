"""The document model (title, header rows, sections of paragraphs, key-value rows and tables) and its two
writers: a PDF (fpdf2, the DejaVu fonts matplotlib ships, as the decision notice uses) and an editable Word
file (python-docx). One model feeds both, so the PDF and the DOCX never say different things."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


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


def _font_dir() -> Path:
    """The fonts the decision notice uses: DejaVu Sans (Cyrillic and Kazakh letters), shipped with matplotlib
    (``plans`` may not import ``service``, so the two-line lookup is repeated here)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def to_pdf(doc: Document, compress: bool = True) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    fonts = _font_dir()

    class DocPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(90)
            self.cell(0, 5, f"{doc.footer} · {self.page_no()}/{{nb}}", align="C")

    pdf = DocPDF(format="A4", unit="mm")
    pdf.set_compression(compress)
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(doc.title)
    pdf.set_lang(doc.lang)
    pdf.set_creator("Atauly")
    pdf.add_page()
    width = pdf.epw

    def text(s: str, size: float = 9.5, bold: bool = False, h: float = 4.8) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.multi_cell(width, h, s, new_x="LMARGIN", new_y="NEXT", align="L")

    def kv(rows) -> None:
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(col_widths=(50, 50), first_row_as_headings=False, line_height=5,
                       borders_layout="HORIZONTAL_LINES", padding=1) as table:  # fmt: skip
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(emphasis="BOLD"))
                row.cell(str(value))
        pdf.ln(1.5)

    text(doc.title, 14, bold=True, h=6.5)
    pdf.ln(1)
    kv(doc.header)
    for number, section in enumerate(doc.sections, 1):
        if pdf.will_page_break(20):
            pdf.add_page()
        text(f"{number}. {section.heading}", 11.5, bold=True, h=6)
        for block in section.blocks:
            if block.kind == "p":
                text(block.text)
                pdf.ln(1)
            elif block.kind in ("kv", "sign"):
                kv(block.rows)
            elif block.kind == "list":
                for item in block.rows:
                    pdf.set_font("DejaVu", "", 9.5)
                    pdf.set_x(pdf.l_margin + 2)
                    pdf.cell(4, 4.8, "•")
                    pdf.multi_cell(width - 6, 4.8, item, new_x="LMARGIN", new_y="NEXT", align="L")
                pdf.ln(1)
            elif block.kind == "table":
                pdf.set_font("DejaVu", "", 8)
                with pdf.table(line_height=4.4, headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                               borders_layout="SINGLE_TOP_LINE", padding=1) as table:  # fmt: skip
                    head = table.row()
                    for c in block.columns:
                        head.cell(c)
                    for r in block.rows:
                        row = table.row()
                        for c in r:
                            row.cell(str(c))
                pdf.ln(1.5)
    return bytes(pdf.output())


def to_docx(doc: Document, path: Path) -> Path:
    import docx
    from docx.shared import Pt

    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(10)
    d.core_properties.title = doc.title
    d.core_properties.language = doc.lang
    d.core_properties.author = "Atauly (draft)"
    d.add_heading(doc.title, level=1)

    def table(columns, rows, header=True):
        n = len(columns) if columns else len(rows[0]) if rows else 2
        tb = d.add_table(rows=0, cols=n)
        tb.style = "Table Grid"
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

    table([], doc.header, header=False)
    for number, section in enumerate(doc.sections, 1):
        d.add_heading(f"{number}. {section.heading}", level=2)
        for block in section.blocks:
            if block.kind == "p":
                d.add_paragraph(block.text)
            elif block.kind in ("kv", "sign"):
                table([], block.rows, header=False)
            elif block.kind == "list":
                for item in block.rows:
                    d.add_paragraph(item, style="List Bullet")
            elif block.kind == "table":
                table(block.columns, block.rows)
    p = d.add_paragraph(doc.footer)
    p.runs[0].italic = True
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path
