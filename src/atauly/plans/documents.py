"""The family's individual assistance plan and social contract, in Kazakh or Russian (English for review):
a PDF (fpdf2, the DejaVu fonts matplotlib ships, as the decision notice uses) and an editable Word file
(python-docx). Both say they were drafted by the system and leave the approval to a named specialist.

One document model (title, header rows, sections of paragraphs, key-value rows and tables) feeds both
writers, so the PDF and the DOCX never say different things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from atauly import __version__
from atauly.i18n import N_, Translator
from atauly.registry.codes import region_name

from .family import FamilyPlan


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


#: The same wording as the decision notice's (the catalogs hold it once).
EMPLOYMENT_LABELS = {
    "employee": N_("employee"),
    "self_employed": N_("self-employed or entrepreneur"),
    "registered_unemployed": N_("registered as unemployed"),
    "not_working": N_("not working"),
    "student_full_time": N_("full-time student"),
    "pensioner": N_("pensioner"),
    "caring_child_under_3": N_("caring for a child under 3"),
    "caring_disabled": N_("caring for a person with a disability"),
    "caring_elderly": N_("caring for an elderly person"),
    "maternity_leave": N_("maternity leave"),
}
ROLE_LABELS = {
    "applicant": N_("applicant"),
    "spouse": N_("spouse"),
    "child": N_("child"),
    "other": N_("other"),
}
SOURCE_LABELS = {"republican_budget": N_("republican budget"), "local_budget": N_("local budget")}
STATUS_LABELS = {"confirmed": N_("confirmed in the act"), "to_verify": N_("to verify")}


def _status(t: Translator, status: str) -> str:
    return t(STATUS_LABELS.get(status, status))


def _role(t: Translator, role: str) -> str:
    return t(ROLE_LABELS.get(role, role))


def _common_header(plan: FamilyPlan, t: Translator) -> list[tuple[str, str]]:
    rows = [
        (t("Family"), plan.family_id),
        (t("Region"), region_name(plan.region_kato, t.lang)),
        (t("District (KATO)"), plan.district),
        (t("Members"), t.number(plan.members_count)),
        (t("Quarter of assistance"), plan.quarter),
        (t("Drafted on"), t.date(plan.drafted_on)),
    ]
    return rows


def _approval(plan: FamilyPlan, t: Translator) -> Section:
    who = plan.specialist or "________________________________"
    return Section(
        t("Approval"),
        [
            Block(
                "p",
                t(
                    "Drafted by the Atauly system (version {version}) from the registry and the law; it becomes "
                    "valid only when a specialist of the district employment and social protection department "
                    "has checked it, changed what is needed, and approved it by signing.",
                    version=__version__,
                ),
            ),
            Block(
                "sign",
                rows=[
                    (t("Approved by the specialist (name)"), who),
                    (t("Signature and date"), "______________________    ____.____.________"),
                    (
                        t("Family member (applicant), signature and date"),
                        "______________________    ____.____.________",
                    ),
                ],
            ),
        ],
    )


def assistance_plan(plan: FamilyPlan, lang: str) -> Document:
    t = Translator(lang)
    income = [
        (t("Per-capita income now"), t.money(plan.per_capita_income, 2)),
        (t("Poverty line"), t.money(plan.poverty_line, 2)),
        (t("ASP a month"), t.money(plan.asp_monthly_amount, 2)),
        (t("Expected gain in family income after the plan, a month"), t.money(plan.expected_gain_kzt)),
        (t("Expected per-capita income after the plan"), t.money(plan.expected_per_capita_after)),
        (t("Probability of leaving poverty (model, uncertain)"), t.percent(plan.exit_probability)),
    ]
    member_rows = []
    for m in plan.members:
        rec = m.recommended
        member_rows.append(
            [
                _role(t, m.role),
                t.number(m.age),
                m.iin_masked,
                t(EMPLOYMENT_LABELS.get(m.employment_status, m.employment_status)),
                t(rec.label) if rec else t("no measure this time"),
                t.date(f"{m.start_month}-01") if rec and m.start_month else "—",
            ]
        )
    options = []
    for m in plan.members:
        for o in m.options:
            options.append(
                [
                    _role(t, m.role),
                    t(o.label) + (" ✓" if m.recommended is o else ""),
                    f"{t.money(o.expected_gain_kzt)} ± {t.money(o.gain_sd_kzt)}",
                    t.percent(o.exit_probability_alone),
                    f"{t.number(o.cost_mrp)} {t('MRP')} ({t.money(o.cost_kzt)})",
                    _status(t, o.status),
                ]
            )
    steps = [
        [
            t.date(f"{s.month}-01"),
            t(s.what, **{k: (t(v) if isinstance(v, str) else v) for k, v in s.fields.items()}),
            t(s.responsible) if s.responsible else "",
        ]
        for s in plan.steps
    ]
    sections = [
        Section(
            t("The family's income and the goal"),
            [
                Block("kv", rows=income),
                Block(
                    "p",
                    t(
                        "Goal: per-capita income above the poverty line by the end of the plan, through work or a business "
                        "of the family's able-bodied members. Effects are estimates from studies of similar programmes and "
                        "from outcomes recorded in Kazakhstan; they are uncertain."
                    ),
                ),
            ],
        ),
        Section(
            t("Members and the measure for each"),
            [
                Block(
                    "table",
                    columns=[t("Member"), t("Age"), t("IIN"), t("Status"), t("Support measure"), t("Start")],
                    rows=member_rows,
                )
            ],
        ),
        Section(
            t("Measures each member may take"),
            [
                Block(
                    "table",
                    columns=[
                        t("Member"),
                        t("Support measure"),
                        t("Expected gain a month"),
                        t("Exit chance alone"),
                        t("Cost"),
                        t("Parameters"),
                    ],
                    rows=options or [["—"] * 6],
                )
            ],
        ),
        Section(
            t("Steps month by month"),
            [Block("table", columns=[t("Month"), t("Step"), t("Responsible")], rows=steps)],
        ),
        Section(
            t("Monitoring and exit"),
            [
                Block(
                    "list",
                    rows=[
                        t(
                            "Monitoring visits: {dates}",
                            dates=", ".join(t.date(f"{d}-01") for d in plan.monitoring),
                        )
                    ],
                ),
                Block(
                    "list",
                    rows=[
                        t(
                            "Exit: per-capita income above the poverty line for the quarter the law counts; the family then leaves ASP and may keep support measures already started."
                        ),
                        t(
                            "If a step cannot be done for a valid reason (illness, care), the plan is changed with the specialist; it is not a breach."
                        ),
                    ],
                ),
            ],
        ),
        _approval(plan, t),
    ]
    return Document(
        name=f"plan-{plan.family_id}-{lang}",
        title=t("Individual assistance plan for the family"),
        lang=lang,
        header=_common_header(plan, t),
        sections=sections,
        footer=t(
            "Drafted by the system; valid when approved by a specialist. Atauly {version}.",
            version=__version__,
        ),
    )


def social_contract(plan: FamilyPlan, lang: str) -> Document:
    t = Translator(lang)
    duties_family = [
        t("Take part in the measures of the individual assistance plan and attend the appointments."),
        t("Report any change in income, employment or family composition within 10 working days."),
        t("Allow the monitoring visits on the dates in the plan."),
    ]
    duties_state = [
        t("Pay the assistance assigned by law for the period of the contract."),
        t("Provide the measures of the plan: places, payments and support named in it."),
        t(
            "Accompany the family: a specialist who can be contacted and who reviews the plan with the family."
        ),
    ]
    measures = [
        [
            _role(t, m.role),
            t(m.recommended.label),
            t.date(f"{m.start_month}-01") if m.start_month else "—",
            t.number(m.recommended.months),
            t(m.recommended.responsible_body),
        ]
        for m in plan.assigned
    ]
    sections = [
        Section(
            t("Parties"),
            [
                Block(
                    "p",
                    t(
                        "The district department of employment and social protection and the family named above agree on "
                        "conditional social assistance (Social Code of the Republic of Kazakhstan, Art. 122) and the "
                        "individual assistance plan attached."
                    ),
                )
            ],
        ),
        Section(
            t("Term"),
            [
                Block(
                    "p",
                    t(
                        "{months} months from {start}.",
                        months=plan.plan_months,
                        start=t.date(plan.steps[0].month + "-01"),
                    ),
                )
            ],
        ),
        Section(t("The family undertakes to"), [Block("list", rows=duties_family)]),
        Section(t("The department undertakes to"), [Block("list", rows=duties_state)]),
        Section(
            t("Measures agreed"),
            [
                Block(
                    "table",
                    columns=[t("Member"), t("Support measure"), t("Start"), t("Months"), t("Responsible")],
                    rows=measures or [["—"] * 5],
                )
            ],
        ),
        Section(
            t("Termination"),
            [
                Block(
                    "p",
                    t(
                        "Refusing the measures without a valid reason, or a breach of this contract through the family's "
                        "fault, ends the assistance (Social Code Art. 128); the family is told in writing and may appeal."
                    ),
                )
            ],
        ),
        _approval(plan, t),
    ]
    return Document(
        name=f"social-contract-{plan.family_id}-{lang}",
        title=t("Social contract"),
        lang=lang,
        header=_common_header(plan, t),
        sections=sections,
        footer=t(
            "Drafted by the system; valid when approved by a specialist. Atauly {version}.",
            version=__version__,
        ),
    )


# --- writers ---------------------------------------------------------------------------------------------


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


def write_family_documents(plan: FamilyPlan, lang: str, out: Path) -> list[Path]:
    """The plan and the social contract as PDF and DOCX in ``out``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in (assistance_plan(plan, lang), social_contract(plan, lang)):
        pdf_path = out / f"{doc.name}.pdf"
        pdf_path.write_bytes(to_pdf(doc))
        written.append(pdf_path)
        written.append(to_docx(doc, out / f"{doc.name}.docx"))
    return written
