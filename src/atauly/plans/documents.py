"""The family's individual assistance plan and social contract, in Kazakh or Russian (English for review),
as PDF and editable DOCX (the model and writers are in :mod:`atauly.plans.writers`). Both say they were
drafted by the system and leave the approval to a named specialist.
"""

from __future__ import annotations

import json
from pathlib import Path

from atauly import __version__
from atauly.i18n import N_, Translator
from atauly.registry.codes import region_name
from atauly.registry.labels import label_in_sentence

from .family import FamilyPlan
from .writers import Block, Document, Section, to_docx, to_pdf

SOURCE_LABELS = {"republican_budget": N_("republican budget"), "local_budget": N_("local budget")}
STATUS_LABELS = {"confirmed": N_("confirmed in the act"), "to_verify": N_("to verify")}


def _status(t: Translator, status: str) -> str:
    return t(STATUS_LABELS.get(status, status))


def _role(t: Translator, role: str) -> str:
    return label_in_sentence("member_role", role, t.lang)


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


def _document(plan: FamilyPlan, t: Translator, name: str, title: str, sections: list[Section]) -> Document:
    """A family document: the common header, the sections, and the footer saying it is a draft."""
    return Document(
        name=name,
        title=title,
        lang=t.lang,
        header=_common_header(plan, t),
        sections=sections,
        footer=t(
            "Drafted by the system; valid when approved by a specialist. Atauly {version}.",
            version=__version__,
        ),
    )


def assistance_plan(plan: FamilyPlan, lang: str) -> Document:
    t = Translator(lang)
    sections = [
        *_plan_sections(plan, t),
        Section(
            t("Steps month by month"),
            [Block("table", columns=[t("Month"), t("Step"), t("Responsible")], rows=_step_rows(plan, t))],
        ),
        _monitoring_section(plan, t),
        _approval(plan, t),
    ]
    return _document(
        plan, t, f"plan-{plan.family_id}-{lang}", t("Individual assistance plan for the family"), sections
    )


def _plan_sections(plan: FamilyPlan, t: Translator) -> list[Section]:
    """The income and the goal, each member's measure, and the measures each member may take."""
    income = [
        (t("Per-capita income now"), t.money(plan.per_capita_income, 2)),
        (t("Poverty line"), t.money(plan.poverty_line, 2)),
        (t("ASP a month"), t.money(plan.asp_monthly_amount, 2)),
        (t("Expected gain in family income after the plan, a month"), t.money(plan.expected_gain_kzt)),
        (t("Expected per-capita income after the plan"), t.money(plan.expected_per_capita_after)),
        (t("Probability of leaving poverty (model, uncertain)"), t.percent(plan.exit_probability)),
    ]
    member_rows = _member_rows(plan, t)
    options = _option_rows(plan, t)
    return [
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
    ]


def _member_rows(plan: FamilyPlan, t: Translator) -> list[list[str]]:
    member_rows = []
    for m in plan.members:
        rec = m.recommended
        member_rows.append(
            [
                _role(t, m.role),
                t.number(m.age),
                m.iin_masked,
                label_in_sentence("employment", m.employment_status, t.lang),
                t(rec.label) if rec else t("no measure this time"),
                t.date(f"{m.start_month}-01") if rec and m.start_month else "—",
            ]
        )
    return member_rows


def _option_rows(plan: FamilyPlan, t: Translator) -> list[list[str]]:
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
    return options


def _step_rows(plan: FamilyPlan, t: Translator) -> list[list[str]]:
    return [
        [
            t.date(f"{s.month}-01"),
            t(s.what, **{k: (t(v) if isinstance(v, str) else v) for k, v in s.fields.items()}),
            t(s.responsible) if s.responsible else "",
        ]
        for s in plan.steps
    ]


def _monitoring_section(plan: FamilyPlan, t: Translator) -> Section:
    return Section(
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
    )


def social_contract(plan: FamilyPlan, lang: str) -> Document:
    t = Translator(lang)
    return _document(
        plan, t, f"social-contract-{plan.family_id}-{lang}", t("Social contract"), _contract_sections(plan, t)
    )


def _agreed_rows(plan: FamilyPlan, t: Translator) -> list[list[str]]:
    return [
        [
            _role(t, m.role),
            t(m.recommended.label),
            t.date(f"{m.start_month}-01") if m.start_month else "—",
            t.number(m.recommended.months),
            t(m.recommended.responsible_body),
        ]
        for m in plan.assigned
    ]


def _contract_sections(plan: FamilyPlan, t: Translator) -> list[Section]:
    """The contract's sections: parties, term, duties, measures agreed, termination, approval."""
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
    measures = _agreed_rows(plan, t)
    return [
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


def write_family_documents(plan: FamilyPlan, lang: str, out: Path, worker=None) -> list[Path]:
    """The plan and the social contract as PDF and DOCX in ``out``; returns the paths. With ``worker`` (a
    :class:`~.pdfworker.PdfWorker` started at the command's start) the PDFs are written by that process
    while this one writes the DOCX files; the documents are the same."""
    documents = [assistance_plan(plan, lang), social_contract(plan, lang)]
    if worker is not None:
        return worker.write(documents, out, to_docx)
    from .pdfworker import remove_stale_parts

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out)  # a killed run's temporary files (the worker's path removes them too)
    written = []
    for doc in documents:
        pdf_path = out / f"{doc.name}.pdf"
        pdf_path.write_bytes(to_pdf(doc))
        written.append(pdf_path)
        written.append(to_docx(doc, out / f"{doc.name}.docx"))
    return written


def draft_for_family(
    directory: Path,
    view: str,
    quarter,
    family_id: str,
    catalog,
    lang: str,
    out: Path,
    assignments=None,
    specialist: str = "",
    worker=None,
) -> tuple[FamilyPlan, list[Path]]:
    """What ``atauly plans family`` does: read only the family from the registry ``directory``, draft its plan
    (``assignments``: a national plan's table), and write the plan and the social contract (PDF, DOCX) and
    ``plan-<family>.json`` (the plan as data) in ``out``. Returns the plan and the documents' paths.
    ``worker``: the PDFs' process (:func:`write_family_documents`)."""
    from .family import family_plan, plan_as_dict
    from .read import family_registry

    reg = family_registry(directory, view, family_id)
    fp = family_plan(reg, quarter, family_id, catalog, assignments, specialist=specialist)
    paths = write_family_documents(fp, lang, out, worker)
    (Path(out) / f"plan-{fp.family_id}.json").write_text(
        json.dumps(plan_as_dict(fp), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return fp, paths
