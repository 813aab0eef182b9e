"""The notice as an A4 PDF (fpdf2), with the DejaVu Sans fonts shipped with matplotlib, which have the
Kazakh letters; nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

from ..models import Application
from .context import notice_context


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def pdf_from_context(ctx: dict, compress: bool = True) -> bytes:
    """The notice as an A4 PDF (fpdf2). ``compress=False`` leaves the page streams readable (tests)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    fonts = _font_dir()

    class NoticePDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(90)
            self.cell(
                0,
                5,
                f"{ctx['title']} · № {ctx['app_id']} · {ctx['page_label']} {self.page_no()}/{{nb}}",
                align="C",
            )

    pdf = NoticePDF(format="A4", unit="mm")
    pdf.set_compression(compress)
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(ctx["title"])
    pdf.set_lang(ctx["lang"])
    pdf.set_creator("Atauly")
    pdf.set_subject(f"{ctx['authority']}; № {ctx['app_id']}")
    pdf.add_page()
    width = pdf.epw

    def text(s: str, size: float = 9.5, bold: bool = False, h: float = 4.8, indent: float = 0.0) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, h, s, new_x="LMARGIN", new_y="NEXT", align="L")

    def kv(rows, caption="") -> None:
        if caption:
            text(caption, 9.5, bold=True)
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(
            col_widths=(45, 55),
            first_row_as_headings=False,
            line_height=5,
            borders_layout="HORIZONTAL_LINES",
            padding=1,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=FontFace(emphasis="BOLD"))
                row.cell(value)
        pdf.ln(1.5)

    def grid(block) -> None:
        text(block["caption"], 9.5, bold=True)
        pdf.set_font("DejaVu", "", 8.5)
        n = len(block["columns"])
        aligns = ["RIGHT" if i in block["numeric"] else "LEFT" for i in range(n)]
        with pdf.table(
            col_widths=tuple(block["widths"]) if block.get("widths") else None,
            line_height=4.6,
            text_align=tuple(aligns),
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
            borders_layout="SINGLE_TOP_LINE",
            padding=1,
        ) as table:
            head = table.row()
            for c in block["columns"]:
                head.cell(c)
            for r in block["rows"]:
                row = table.row()
                for c in r:
                    row.cell(c)
        pdf.ln(1.5)

    # Header
    text(ctx["authority"], 10, bold=True)
    text(f"{ctx['department']} · {ctx['region']}", 9)
    pdf.ln(2)
    text(ctx["title"], 14, bold=True, h=6.5)
    pdf.ln(1)
    kv(ctx["header"])

    for number, section in enumerate(ctx["sections"], 1):
        pdf.ln(1)
        if pdf.will_page_break(20):
            pdf.add_page()
        text(f"{number}. {section['heading']}", 12, bold=True, h=6)
        pdf.ln(0.5)
        for block in section["blocks"]:
            kind = block["kind"]
            if kind == "p":
                if block.get("headline"):
                    text(block["text"], 11.5, bold=True, h=6)
                else:
                    text(block["text"], 8.5 if block.get("note") else 9.5)
                pdf.ln(1)
            elif kind == "kv":
                kv(block["rows"], block.get("caption", ""))
            elif kind == "table":
                grid(block)
            elif kind == "list":
                if block.get("caption"):
                    text(block["caption"], 9.5, bold=True)
                size, h = (8.5, 4.3) if block.get("note") else (9.5, 4.8)
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
    pdf.ln(3)
    pdf.set_text_color(90)
    text(ctx["footer"], 8)
    return bytes(pdf.output())


def render_pdf(app: Application, lang: str) -> bytes:
    """The notice as an A4 PDF with embedded DejaVu Sans (Kazakh letters included); nothing is downloaded."""
    return pdf_from_context(notice_context(app, lang))
