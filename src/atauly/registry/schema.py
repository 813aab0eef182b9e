"""The data contract: tables, columns, types, units and codes (documented in docs/data-contract.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import codes


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "int", "float", "bool", "date", "month", "category"
    description: str
    required: bool = True  # the column must be present
    nullable: bool = False  # empty values allowed
    allowed: tuple[str, ...] | None = None  # for category columns
    minimum: float | None = None
    unit: str = ""
    default: object = None  # value used when an optional column is absent
    sensitive: bool = False  # never shown in clear in reports or logs


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


FAMILIES = Table(
    "families",
    ("family_id",),
    "One row per family (household registered together).",
    (
        Column("family_id", "str", "Family identifier, unique."),
        Column(
            "region_kato",
            "category",
            "KATO code of the region (9 digits).",
            allowed=tuple(r.kato for r in codes.REGIONS),
        ),
        Column(
            "district_kato",
            "str",
            "KATO code of the district (9 digits, region prefix).",
            required=False,
            nullable=True,
        ),
        Column(
            "settlement_type",
            "category",
            "urban or rural.",
            required=False,
            nullable=True,
            allowed=codes.SETTLEMENT_TYPES,
        ),
        Column(
            "application_date",
            "date",
            "Date of the ASP application; empty when the family has not applied.",
            required=False,
            nullable=True,
        ),
        Column(
            "dwellings_owned",
            "int",
            "Dwellings owned by family members.",
            required=False,
            minimum=0,
            default=0,
        ),
        Column(
            "vehicles_owned",
            "int",
            "Motor vehicles owned by family members.",
            required=False,
            minimum=0,
            default=0,
        ),
        Column(
            "land_ha",
            "float",
            "Land plots owned or used, hectares.",
            required=False,
            minimum=0,
            default=0.0,
            unit="ha",
        ),
        Column(
            "livestock_heads",
            "int",
            "Livestock heads (cattle-equivalent count).",
            required=False,
            minimum=0,
            default=0,
        ),
        Column(
            "nonmortgage_loan_balance",
            "float",
            "Outstanding non-mortgage loans and microcredits.",
            required=False,
            minimum=0,
            default=0.0,
            unit="KZT",
            sensitive=True,
        ),
        Column(
            "refused_commission_survey",
            "bool",
            "Applicant refused the commission's survey (Art. 128 p.2).",
            required=False,
            default=False,
        ),
        Column(
            "commission_found_no_need",
            "bool",
            "The commission concluded there is no need (Art. 128 p.3).",
            required=False,
            default=False,
        ),
        Column(
            "social_contract_breach_date",
            "date",
            "Date a social contract was terminated through the recipient's fault (Art. 128 p.5).",
            required=False,
            nullable=True,
        ),
        Column(
            "false_information",
            "bool",
            "Knowingly false information or documents (Art. 128 p.6).",
            required=False,
            default=False,
        ),
        *(
            Column(name, "category", why, required=False, nullable=True, allowed=codes.DWELLING_CODES[name])
            for name, why in (
                ("dwelling_type", "Dwelling type, as the home-inspection act records it (empty: unknown)."),
                ("wall_material", "Walls of the dwelling, from the home-inspection act (empty: unknown)."),
                ("floor_material", "Floor of the dwelling, from the home-inspection act (empty: unknown)."),
                ("heating", "Heating of the dwelling, from the home-inspection act (empty: unknown)."),
                ("water", "Water supply, from the home-inspection act (empty: unknown)."),
                ("sanitation", "Toilet, from the home-inspection act (empty: unknown)."),
            )
        ),
    ),
)

PERSONS = Table(
    "persons",
    ("person_id",),
    "One row per person; each person belongs to exactly one family.",
    (
        Column("person_id", "str", "Person identifier, unique."),
        Column("family_id", "str", "The family the person belongs to (families.family_id)."),
        Column("iin", "str", "IIN (ЖСН), 12 digits, checked fully.", sensitive=True),
        Column("role", "category", "Role in the family.", allowed=codes.ROLES),
        Column("sex", "category", "M or F.", allowed=codes.SEXES),
        Column("birth_date", "date", "Date of birth.", sensitive=True),
        Column(
            "disability_group",
            "int",
            "Disability group 1, 2 or 3; 0 for none.",
            required=False,
            minimum=0,
            default=0,
        ),
        Column(
            "employment_status",
            "category",
            "Main employment status.",
            required=False,
            nullable=True,
            allowed=codes.EMPLOYMENT_STATUSES,
            default="not_working",
        ),
        Column(
            "education",
            "category",
            "Highest education completed.",
            required=False,
            nullable=True,
            allowed=codes.EDUCATION_LEVELS,
        ),
        Column(
            "long_term_illness",
            "bool",
            "Illness with expected temporary incapacity over 2 months.",
            required=False,
            default=False,
        ),
        Column(
            "employment_measures_refusal_date",
            "date",
            "Date the person refused employment-promotion measures (Art. 128 p.4).",
            required=False,
            nullable=True,
        ),
    ),
)

INCOMES = Table(
    "incomes",
    ("person_id", "month", "source"),
    "Long table of money received: one row per person, month and source (several rows are summed).",
    (
        Column("person_id", "str", "The person who received it (persons.person_id)."),
        Column("month", "month", "Calendar month, YYYY-MM."),
        Column("source", "category", "Income source.", allowed=codes.INCOME_SOURCES),
        Column(
            "amount_kzt",
            "float",
            "Amount received in that month.",
            minimum=0,
            unit="KZT per month",
            sensitive=True,
        ),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (FAMILIES, PERSONS, INCOMES)}


def with_defaults(table: Table, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every optional column of ``table`` present (its default, or empty), in contract order
    first; extra columns are kept after them."""
    out = df.copy()
    for col in table.columns:
        if col.name not in out.columns:
            if col.kind == "date":
                out[col.name] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
            else:
                out[col.name] = col.default
    extra = [c for c in out.columns if c not in table.names]
    return out[table.names + extra]
