"""The home-inspection act (акт обследования материально-бытовых условий) as people read it: its items,
the answers' codes in words, and everything its printable page shows (the checklist, the photos with their
flags, the officer's confirmed facts). The API (``api/routes/photos.py``) validates the same codes; the act
is recorded through :mod:`atauly.service.photos`."""

from __future__ import annotations

from atauly.i18n import N_
from atauly.registry.labels import DWELLING_ITEMS

#: checklist item → (its question, {code: answer in words}); numbers and free text have no codes.
ITEMS: dict[str, tuple[str, dict[str, str]]] = {
    "dwelling_type": DWELLING_ITEMS["dwelling_type"],
    "dwelling_tenure": (
        N_("The family lives there as"),
        {
            "owned": N_("owners"),
            "rented": N_("tenants"),
            "relatives": N_("guests of relatives"),
            "public": N_("tenants of public housing"),
            "other": N_("other"),
        },
    ),
    "wall_material": DWELLING_ITEMS["wall_material"],
    "roof_material": (
        N_("Roof"),
        {
            "metal": N_("metal"),
            "slate": N_("slate"),
            "tile": N_("tile"),
            "reed_or_straw": N_("reed or straw"),
            "felt": N_("felt"),
            "other": N_("other"),
        },
    ),
    "floor_material": DWELLING_ITEMS["floor_material"],
    "rooms": (N_("Rooms"), {}),
    "heating": DWELLING_ITEMS["heating"],
    "water": DWELLING_ITEMS["water"],
    "sanitation": DWELLING_ITEMS["sanitation"],
    "appliances": (
        N_("Appliances"),
        {
            "refrigerator": N_("refrigerator"),
            "washing_machine": N_("washing machine"),
            "television": N_("television"),
            "computer": N_("computer"),
            "stove": N_("cooker"),
            "microwave": N_("microwave oven"),
            "vacuum_cleaner": N_("vacuum cleaner"),
            "air_conditioner": N_("air conditioner"),
        },
    ),
    "vehicles_owned": (N_("Motor vehicles"), {}),
    "livestock_heads": (N_("Livestock, heads"), {}),
    "dwellings_owned": (N_("Dwellings owned"), {}),
    "commission_found_no_need": (
        N_("Conclusion of the district commission"),
        {"true": N_("no need found"), "false": N_("need confirmed")},
    ),
    "notes": (N_("Notes"), {}),
}
#: the act's sections photos are attached to, in words
PHOTO_ITEMS: dict[str, str] = {
    "dwelling": N_("Dwelling"),
    "materials": N_("Materials"),
    "heating": N_("Heating"),
    "water": N_("Water"),
    "sanitation": N_("Toilet"),
    "appliances": N_("Appliances"),
    "livestock": N_("Livestock, heads"),
    "vehicles": N_("Motor vehicles"),
}
NOT_RECORDED = N_("not recorded")
#: a confirmed fact's column, in words
FACTS: dict[str, str] = {
    "dwellings_owned": N_("Dwellings owned"),
    "vehicles_owned": N_("Motor vehicles"),
    "livestock_heads": N_("Livestock, heads"),
    "commission_found_no_need": N_("Conclusion of the district commission"),
}


def answers(checklist: dict, t) -> list[dict]:
    """The checklist's answers in words, in the act's order; unanswered items are left out."""
    out = []
    for item, (question, codes) in ITEMS.items():
        value = checklist.get(item)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            text = t(codes[str(value).lower()])
        elif isinstance(value, list):
            text = ", ".join(t(codes.get(v, v)) for v in value)
        elif codes:
            text = t(codes.get(value, value))
        else:
            text = t.number(value) if isinstance(value, int) else str(value)
        out.append({"item": item, "question": t(question), "answer": text})
    return out


def fact_lines(snapshot: dict, facts: dict, t) -> list[dict]:
    """Each confirmed fact with the value as submitted beside it (in words for the commission's
    conclusion)."""
    family = (snapshot.get("families") or [{}])[0]
    codes = ITEMS["commission_found_no_need"][1]
    out = []
    for column, value in facts.items():
        before = family.get(column)
        if isinstance(value, bool):
            shown = t(codes[str(value).lower()])
            # a submitted False is "need confirmed"; only an absent value is "not recorded" (read as False)
            was = t(NOT_RECORDED) if before is None else t(codes[str(bool(before)).lower()])
            changed = bool(before) != value
        elif isinstance(value, str):  # a coded fact (the dwelling): in words; absent when submitted
            words = ITEMS[column][1] if column in ITEMS else {}
            shown = t(words[value]) if value in words else value
            was = t(words[before]) if before in words else (t(NOT_RECORDED) if not before else str(before))
            changed = before != value
        else:
            shown, was = t.number(value), t.number(int(before or 0))
            changed = int(before or 0) != int(value)
        out.append(
            {
                "fact": t(FACTS[column])
                if column in FACTS
                else t(ITEMS[column][0])
                if column in ITEMS
                else column,
                "value": shown,
                "declared": was,
                "changed": changed,
            }
        )
    return out


def pdf(ctx: dict, images: dict[int, bytes], compress: bool = True) -> bytes:
    """The act as an A4 PDF, tagged for assistive technology, with the set-up the family documents use
    (:mod:`atauly.plans.pdfsetup`: the DejaVu fonts, Kazakh letters included; title and language in the
    metadata; ``H1``/``H2``/``P``/``L`` elements, each photo a ``Figure`` with its alternative text, the
    page footer an artifact): the same sections as the page, the redacted photos as thumbnails. ``ctx``
    holds the page's plain values and ``t``; ``images`` the redacted JPEG of each photo id (faces and
    people blurred)."""
    from atauly.plans.pdfsetup import render

    return render(lambda reduced: _layout(ctx, images, compress, reduced))


def _layout(ctx: dict, images: dict[int, bytes], compress: bool, reduced: bool):

    from atauly.plans.pdfsetup import FAMILY, Tag, new_pdf

    t = ctx["t"]
    title = t(N_("Home inspection act"))
    doc = new_pdf(title, t.lang, footer=title, compress=compress, reduced=reduced)
    doc.add_page()

    def line(text: str, size: float = 9.5, bold: bool = False) -> None:
        doc.set_font(FAMILY, "B" if bold else "", size)
        doc.multi_cell(doc.epw, 5, text, new_x="LMARGIN", new_y="NEXT")

    def heading(text: str) -> None:
        with Tag(doc, "H2"):
            line(text, 11, True)

    def items(lines: list[str]) -> None:
        if not lines:
            return
        with Tag(doc, "L"):
            for text in lines:
                line(text)

    with Tag(doc, "H1"):
        line(title, 14, True)
    items([f"{label}: {value}" for label, value in ctx["summary"]])
    doc.ln(2)
    heading(t(N_("Living conditions")))
    if not ctx["answers"]:
        with Tag(doc, "P"):
            line(t(N_("No inspection act is recorded yet.")))
    items(
        [f"{a['question']}: {a['answer']}" for a in ctx["answers"]]
        + [f"{b['item']}: " + ", ".join(t(N_("photo {n}"), n=n) for n in b["photos"]) for b in ctx["by_item"]]
    )
    doc.ln(2)
    heading(t(N_("Confirmed facts")))
    if not ctx["facts"]:
        with Tag(doc, "P"):
            line(t(N_("No facts confirmed yet. A photo's finding counts only once an officer confirms it.")))
    items(
        [
            f"{f['fact']}: {t(N_('As submitted'))} {f['declared']} → {t(N_('As confirmed'))} {f['value']}"
            for f in ctx["facts"]
        ]
    )
    doc.ln(2)
    heading(t(N_("Attached photos")))
    if not ctx["photos"]:
        with Tag(doc, "P"):
            line(t(N_("No photos yet.")))
    _photos(doc, ctx, images)
    doc.ln(4)
    heading(t(N_("Signatures")))
    with Tag(doc, "P"):
        line(
            f"{t(N_('Officer'))}: ______________________    "
            f"{t(N_('Member of the family'))}: ______________________"
        )
    return doc


def _photos(doc, ctx: dict, images: dict[int, bytes]) -> None:
    """Each photo of the act: its redacted thumbnail (a ``Figure`` with alternative text) beside its
    remarks and findings."""
    import io

    from atauly.plans.pdfsetup import FAMILY, Tag

    t = ctx["t"]
    for p in ctx["photos"]:
        if doc.get_y() > doc.h - 70:
            doc.add_page()
        y = doc.get_y()
        name = t(N_("Photo {n}"), n=p["number"])
        data = images.get(p["id"])
        if data:
            doc.image(io.BytesIO(data), x=doc.l_margin, y=y, w=50, alt_text=name)
        notes = p["flags"] or [t(N_("No remarks."))]
        notes += [
            f"{f['asset']}: {f['label']} ({f['confidence']:.2f}) — {f['status_text']}" for f in p["findings"]
        ]
        with Tag(doc, "P"):
            doc.set_xy(doc.l_margin + 55, y)
            doc.set_font(FAMILY, "B", 9.5)
            doc.multi_cell(doc.epw - 55, 5, name, new_x="LMARGIN", new_y="NEXT")
            doc.set_font(FAMILY, "", 9)
            for note in notes:
                doc.set_x(doc.l_margin + 55)
                doc.multi_cell(doc.epw - 55, 4.5, note, new_x="LMARGIN", new_y="NEXT")
        doc.set_y(max(doc.get_y(), y + (40 if data else 0)) + 3)
