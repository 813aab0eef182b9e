"""OpenFisca entities: a Person, and a Family with the roles of the data contract."""

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="Person",
    doc="A person registered in a family (persons table of the data contract).",
    is_person=True,
)

Family = build_entity(
    key="family",
    plural="families",
    label="Family",
    doc=(
        "A family applying for, or screened for, targeted social assistance. Social Code Art. 127: the "
        "income of all members counts, divided by their number."
    ),
    roles=[
        {"key": "applicant", "label": "Applicant", "max": 1},
        {"key": "spouse", "label": "Spouse", "max": 1},
        {"key": "child", "plural": "children", "label": "Child"},
        {"key": "other", "plural": "others", "label": "Other member"},
    ],
)

entities = [Person, Family]
