"""The API's JSON: pydantic models, separate from the ORM (atauly.service.models).

An application is one family in the data contract (docs/data-contract.md): the family row, its persons,
their incomes. Types and codes are checked here (errors name the field); the contract's own validator
then checks what JSON types cannot (IIN checksums, one applicant, district codes, references).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from atauly.registry import codes

from .models import OUTCOMES

Role = Literal["applicant", "spouse", "child", "other"]
Sex = Literal["M", "F"]
Settlement = Literal["urban", "rural"]
Employment = Literal[codes.EMPLOYMENT_STATUSES]  # type: ignore[valid-type]
Education = Literal[codes.EDUCATION_LEVELS]  # type: ignore[valid-type]
Source = Literal[codes.INCOME_SOURCES]  # type: ignore[valid-type]
DwellingType = Literal[codes.DWELLING_CODES["dwelling_type"]]  # type: ignore[valid-type]
WallMaterial = Literal[codes.DWELLING_CODES["wall_material"]]  # type: ignore[valid-type]
FloorMaterial = Literal[codes.DWELLING_CODES["floor_material"]]  # type: ignore[valid-type]
Heating = Literal[codes.DWELLING_CODES["heating"]]  # type: ignore[valid-type]
Water = Literal[codes.DWELLING_CODES["water"]]  # type: ignore[valid-type]
Sanitation = Literal[codes.DWELLING_CODES["sanitation"]]  # type: ignore[valid-type]
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (a lone surrogate such as \\ud800 is not)") from None
    return value


#: Free text stored as is: PostgreSQL's text cannot hold NUL, and no database (nor JSON) a lone
#: surrogate, so both are refused here on every database.
Text = Annotated[str, AfterValidator(_no_nul)]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: A moment, stored in UTC without a zone: sent with its zone (``+00:00``).
UTCDatetime = Annotated[datetime, AfterValidator(_utc)]

ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
KATO = Field(pattern=r"^[0-9]{9}$", description="KATO code, 9 digits.")


class Strict(BaseModel):
    # NaN and Infinity are no amounts: refused (422) in every number of every request
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FamilyIn(Strict):
    family_id: str = ID
    region_kato: str = KATO
    district_kato: str = KATO
    settlement_type: Settlement | None = None
    application_date: date | None = Field(
        default=None, description="Date the family applied; default today. Sets the quarter and the deadline."
    )
    dwellings_owned: int = Field(default=0, ge=0, le=100)
    vehicles_owned: int = Field(default=0, ge=0, le=100)
    land_ha: float = Field(default=0.0, ge=0, le=1e6)
    livestock_heads: int = Field(default=0, ge=0, le=1_000_000)
    nonmortgage_loan_balance: float = Field(default=0.0, ge=0, le=1e12)
    refused_commission_survey: bool = False
    commission_found_no_need: bool = False
    social_contract_breach_date: date | None = None
    false_information: bool = False
    # the dwelling as a home-inspection act records it (optional; empty: unknown)
    dwelling_type: DwellingType | None = None
    wall_material: WallMaterial | None = None
    floor_material: FloorMaterial | None = None
    heating: Heating | None = None
    water: Water | None = None
    sanitation: Sanitation | None = None


class PersonIn(Strict):
    person_id: str = ID
    iin: str = Field(pattern=r"^[0-9]{12}$", description="IIN, 12 digits (checksum verified).")
    role: Role
    sex: Sex
    birth_date: date
    disability_group: int = Field(default=0, ge=0, le=3)
    employment_status: Employment | None = "not_working"
    education: Education | None = None
    long_term_illness: bool = False
    employment_measures_refusal_date: date | None = None


class IncomeIn(Strict):
    person_id: str = ID
    month: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    source: Source
    amount_kzt: float = Field(ge=0, le=1e10, description="KZT received in that month.")


class ApplicationIn(Strict):
    """A new application. ``idempotency_key`` (or the ``Idempotency-Key`` header) makes a repeated
    submission return the first one; without either, the content itself is the key."""

    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=128)
    family: FamilyIn
    persons: list[PersonIn] = Field(min_length=1, max_length=40)
    incomes: list[IncomeIn] = Field(default_factory=list, max_length=2000)
    language: Literal["ru", "kk", "en"] = Field(
        default="ru",
        description="The family's language: the decision notice is written in it (Russian when not given). "
        "Not part of the family's data: it does not change the content key of an idempotent submission.",
    )


class Reason(BaseModel):
    feature: str
    contribution: float
    text: str
    restates_law: bool = Field(
        default=False,
        description="The reason restates the law (its result, or an input its test reads one for one); "
        "false: what the model adds beyond the law's verdict.",
    )


class RecommendationOut(BaseModel):
    mode: Literal["model", "law"]
    eligible_by_law: bool
    amount_monthly: float
    law: dict
    model_version: str | None
    probability: float | None
    threshold: float | None
    recommended_decision: Literal["approve", "reject"]
    reasons: list[Reason]
    input_hash: str
    created_at: UTCDatetime
    #: confirmed facts (inspection act, confirmed photo findings) applied to the submitted tables before the
    #: law and the model ran (counts, the commission's conclusion, the dwelling's codes); empty when computed
    #: on the tables as submitted
    facts: dict[str, bool | int | str] = {}


class DecisionOut(BaseModel):
    outcome: Outcome
    reason_code: str | None
    comment: str
    override: bool
    against_law: bool
    blind: bool
    amount_monthly: float
    period: str
    officer: str
    decided_at: UTCDatetime


class VerifiedValueOut(BaseModel):
    kind: Literal["income", "member_left"]
    person_id: str
    month: str = Field(description="YYYY-MM; empty for a member who left.")
    source: str = Field(description="The income source; empty for a member who left.")
    declared: float | None = Field(description="KZT the family declared (null for a member who left).")
    verified: float | None = Field(description="KZT as verified (null for a member who left).")
    at: UTCDatetime


class ApplicationOut(BaseModel):
    id: int
    family_id: str
    region_kato: str
    district_kato: str
    quarter: str
    status: str
    received_on: date
    deadline: date
    version: int
    language: str = "ru"
    """The family's language, the notice's by default."""
    recommendation: RecommendationOut | None
    """Hidden (null) in blind mode until the officer has recorded an assessment."""
    decisions: list[DecisionOut]
    snapshot: dict
    """The family's data the law was computed on: once a value is verified, the verified data."""
    assigned_to: str | None = None
    """The username of the officer the application is assigned to (null: nobody)."""
    verified: list[VerifiedValueOut] = []
    """Values an officer verified, each beside what the family declared (POST …/verifications)."""


class DecisionIn(Strict):
    outcome: Outcome
    reason_code: Text | None = Field(default=None, max_length=32)
    comment: Text = Field(default="", max_length=2000)
    version: int = Field(
        ge=0,
        le=2**31 - 1,
        description="The application's `version` the decision was made on: a stale form fails with 409.",
    )


class AssessmentIn(Strict):
    outcome: Outcome


class CorrectionIn(Strict):
    fields: list[Text] = Field(min_length=1, max_length=20)
    description: Text = Field(min_length=1, max_length=2000)


class VerificationIn(Strict):
    """A value an officer verified: a member's income from one source in one counted month (``income``;
    0 for none), or a member who no longer lives in the household (``member_left``). The law and the model
    are recomputed on the family's data with it; the declared value is kept."""

    kind: Literal["income", "member_left"]
    person_id: str = ID
    month: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="YYYY-MM, one of the months the law counts (income only).",
    )
    source: Source | None = Field(default=None, description="Income source (income only).")
    amount_kzt: float | None = Field(
        default=None, ge=0, le=1e10, description="KZT as verified (income only)."
    )
    note: Text = Field(
        min_length=1,
        max_length=2000,
        description="How it was verified (a certificate, a visit), in words the family understands: the "
        "notice quotes it.",
    )
    version: int = Field(
        ge=0,
        le=2**31 - 1,
        description="The application's `version` the value was verified on: a stale one fails with 409.",
    )

    @model_validator(mode="after")
    def _income_has_its_fields(self) -> VerificationIn:
        income = (self.month, self.source, self.amount_kzt)
        if self.kind == "income" and any(v is None for v in income):
            raise ValueError("an income needs month, source and amount_kzt")
        if self.kind == "member_left" and any(v is not None for v in income):
            raise ValueError("a member who left takes no month, source or amount_kzt")
        if not self.note.strip():
            raise ValueError("note: say how the value was verified")
        return self


class AssignmentIn(Strict):
    officer: Text | None = Field(
        default=None,
        max_length=64,
        description="Username of an active officer of the application's district; null takes the "
        "assignment back.",
    )


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str = Field(description="For POST /api/v1/auth/refresh; valid once, for session_hours.")


class Problem(BaseModel):
    detail: str | list
