"""The casework service's records (SQLAlchemy 2 ORM). The schema itself is created by Alembic migrations
(``atauly/service/migrations``); these classes must match them (a test compares the two).

Personal data lives in one place only: ``applications.snapshot`` (the family's tables in the data
contract). Every other table refers to it by id, so an analyst's aggregate query never touches it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("officer", "supervisor", "analyst", "admin")
OUTCOMES = ("approve", "reject", "home_visit")
#: Application states: ``new`` and ``reopened`` and ``home_visit`` wait in the queue; the others are decided.
OPEN_STATES = ("new", "home_visit", "reopened")
DECIDED_STATES = ("approved", "rejected")


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: How the notice names the officer who decided (the username when unset) and their position.
    full_name: Mapped[str | None] = mapped_column(String(128))
    position: Mapped[str | None] = mapped_column(String(128))
    region_kato: Mapped[str | None] = mapped_column(String(9))
    district_kato: Mapped[str | None] = mapped_column(String(9))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class LoginLimit(Base):
    """Failed sign-ins counted in a window, and the lock they lead to (:mod:`.limits`), shared by every
    worker process. One row per client address, per (user, source) pair and per user from unrecognised
    sources; the key is a hash, so no address is stored in clear."""

    __tablename__ = "login_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # "address", "source" (user × source), "untrusted"
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # not for "address"
    failures: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(DateTime)  # start of the counting window
    until: Mapped[datetime | None] = mapped_column(DateTime)  # refused until then


class LoginTrust(Base):
    """A source (client address or device cookie, hashed) from which a user has signed in successfully:
    the lock-out that strangers can cause does not apply to it (:mod:`.limits`)."""

    __tablename__ = "login_trust"
    __table_args__ = (UniqueConstraint("user_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(64))
    last_success: Mapped[datetime] = mapped_column(DateTime)


class Session(Base):
    """A login: a web session (cookie, with a CSRF token) or an API bearer token. Only a hash is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # "web", "api" (access token) or "refresh"
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")


_QUEUE_ORDER = ("deadline", "id", "status", "assigned_to", "quarter")


class Application(Base):
    __tablename__ = "applications"
    #: Statistics read these columns of every application without the row itself (its snapshot is large).
    __table_args__ = (
        Index(
            "ix_applications_statistics", "region_kato", "district_kato", "status", "received_on", "deadline"
        ),
        # The queue: a district's (region's) applications in deadline order with what it filters on, so a
        # page reads only its rows (migration 0012_service_idx)
        Index("ix_applications_queue_district", "district_kato", *_QUEUE_ORDER),
        Index("ix_applications_queue_region", "region_kato", *_QUEUE_ORDER),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    region_kato: Mapped[str] = mapped_column(String(9), index=True)
    district_kato: Mapped[str] = mapped_column(String(9), index=True)
    quarter: Mapped[str] = mapped_column(String(6))
    snapshot: Mapped[dict] = mapped_column(JSON)  # {"families": [...], "persons": [...], "incomes": [...]}
    input_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # "api", "web", "offer"
    #: The family's language (ru, kk or en): the notice is written in it unless another is asked for.
    language: Mapped[str] = mapped_column(String(2), default="ru", server_default="ru")
    received_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The officer a supervisor assigned the case to (None: anyone of the district may take it).
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Members in the family as declared (a fact for the queue's filter; the snapshot is not read there).
    family_size: Mapped[int | None] = mapped_column(Integer)
    #: The family's data as declared, kept when an officer records verified values (``snapshot`` then holds
    #: the verified data the law was recomputed on); None while nothing was verified.
    declared: Mapped[dict | None] = mapped_column(JSON)

    __mapper_args__ = {"version_id_col": version}  # a stale decision form fails instead of overwriting

    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="application", order_by="Recommendation.id"
    )
    decisions: Mapped[list[Decision]] = relationship(back_populates="application", order_by="Decision.id")
    assessments: Mapped[list[Assessment]] = relationship(order_by="Assessment.id")
    corrections: Mapped[list[CorrectionRequest]] = relationship(order_by="CorrectionRequest.id")
    verifications: Mapped[list[Verification]] = relationship(order_by="Verification.id")

    @property
    def recommendation(self) -> Recommendation | None:
        return self.recommendations[-1] if self.recommendations else None

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


class Recommendation(Base):
    """What the law and the model said, with everything needed to reproduce it."""

    __tablename__ = "recommendations"
    #: Statistics read the latest recommendation's model and decision without the row (the law's JSON).
    __table_args__ = (
        Index("ix_recommendations_statistics", "application_id", "id", "model_version", "recommended"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    input_hash: Mapped[str] = mapped_column(String(64))
    law: Mapped[dict] = mapped_column(JSON)  # the law's result row (atauly.law.compute columns)
    law_version: Mapped[str] = mapped_column(String(32))
    eligible_by_law: Mapped[bool] = mapped_column(Boolean)
    amount_monthly: Mapped[float] = mapped_column(Float)  # by law, KZT per month (0 when not eligible)
    mode: Mapped[str] = mapped_column(String(8))  # "model" or "law" (model switched off or unavailable)
    model_version: Mapped[str | None] = mapped_column(String(96), index=True)
    probability: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    recommended: Mapped[bool] = mapped_column(Boolean)  # the recommended decision: approve if true
    reasons: Mapped[dict] = mapped_column(JSON)  # {"ru": [{"feature", "contribution", "text"}], "kk": …}
    trace: Mapped[dict] = mapped_column(JSON)  # {"ru": [lines…]}, filled per language when first shown
    #: Confirmed facts (an officer's inspection act, assets a photo shows that an officer confirmed) applied
    #: to the application's tables before the law and the model ran: {data contract column: value}; None for
    #: a recommendation on the tables as submitted.
    facts: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    application: Mapped[Application] = relationship(back_populates="recommendations")


class Assessment(Base):
    """Blind mode: the officer's own assessment, recorded before the recommendation is shown."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: Truly blind: the district was in blind mode and this officer had not been shown the recommendation
    #: nor the law's result of this application before (None: recorded before this was kept).
    blind: Mapped[bool | None] = mapped_column(Boolean)


class RecommendationView(Base):
    """The first time a user was shown an application's recommendation (or the law's result): a decision
    is recorded as blind only when the officer's assessment came before it."""

    __tablename__ = "recommendation_views"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_statistics", "application_id", "outcome", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    override: Mapped[bool] = mapped_column(Boolean)  # disagrees with the recommended decision
    against_law: Mapped[bool] = mapped_column(Boolean)  # approves what the law refuses, or the reverse
    blind: Mapped[bool] = mapped_column(Boolean)  # an assessment was recorded before the recommendation
    amount_monthly: Mapped[float] = mapped_column(Float)
    period: Mapped[str] = mapped_column(String(16), default="")
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the case was first opened
    decided_at: Mapped[datetime] = mapped_column(DateTime)

    application: Mapped[Application] = relationship(back_populates="decisions")
    recommendation: Mapped[Recommendation] = relationship()
    officer: Mapped[User] = relationship()


class CorrectionRequest(Base):
    """The family asks for a correction of the data used about it; recording one reopens the case."""

    __tablename__ = "correction_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    fields: Mapped[list] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Verification(Base):
    """Values an officer verified (a certificate, a visit), the law recomputed on them. ``changes`` names what
    was verified — ``{"kind": "income", "person_id", "month", "source"}`` or ``{"kind": "member_left",
    "person_id"}``, never an amount (the amounts stay in the application's ``declared`` and ``snapshot``) —
    and ``note`` says, for the family, how it was verified."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    changes: Mapped[list] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DistrictSetting(Base):
    """Per-district safeguards: blind mode, and the model switch (off: the law alone recommends)."""

    __tablename__ = "district_settings"

    district_kato: Mapped[str] = mapped_column(String(9), primary_key=True)
    blind_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    model_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """Append-only: each event's hash covers its content and the previous event's hash."""

    __tablename__ = "audit_events"
    # an object's events in order (the first time an officer opened a case: 0013_audit_object_idx)
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))  # "ok" or "denied"
    region_kato: Mapped[str | None] = mapped_column(String(9))
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: The audit key the hash was keyed with (HMAC-SHA256); None: plain SHA-256 (events before keys).
    key_id: Mapped[str | None] = mapped_column(String(32))


class AuditHead(Base):
    """One row: the chain's last event. Locking it serialises appends so the chain stays linear."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# --- The proactive scan's results and its offers (issue 6) ------------------------------------------


class ScanCandidate(Base):
    """A family the scan found entitled (or likely) and not receiving, for one quarter; replaced as a
    whole when the quarter is loaded again."""

    __tablename__ = "scan_candidates"
    __table_args__ = (UniqueConstraint("quarter", "family_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)
    family_id: Mapped[str] = mapped_column(String(64))
    district_kato: Mapped[str] = mapped_column(String(9), index=True)
    region_kato: Mapped[str] = mapped_column(String(9))
    rank: Mapped[int] = mapped_column(Integer)
    eligible_by_law: Mapped[bool] = mapped_column(Boolean)
    probability: Mapped[float | None] = mapped_column(Float)
    wellbeing_level: Mapped[str] = mapped_column(String(1))
    reason: Mapped[str] = mapped_column(Text)  # 0014_scan_reason_text: of any length
    monthly_amount: Mapped[float] = mapped_column(Float)
    # Issue 15 (0006_scan_offered): within the district's capacity and above the minimum probability; None
    # for a scan without capacity-aware offers (then any candidate may be offered).
    offered: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    probability_entitled: Mapped[float | None] = mapped_column(Float, nullable=True)
    offer_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 0015_scan_reason_codes: the codes the English reasons are made of and the figures they name, worded in
    # the reader's language by screening.wording; None for a scan without them (its English is all there is).
    reason_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    offer_code: Mapped[str | None] = mapped_column(String(24), nullable=True)
    need_gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visit_entitled_quarter: Mapped[str | None] = mapped_column(String(6), nullable=True)
    min_probability: Mapped[float | None] = mapped_column(Float, nullable=True)  # the scan's (scan.json)
    loaded_at: Mapped[datetime] = mapped_column(DateTime)


class ScanSummary(Base):
    """The scan's figures by district (the report's table), for the service's dashboard."""

    __tablename__ = "scan_summary"
    __table_args__ = (UniqueConstraint("quarter", "district_kato"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)
    region_kato: Mapped[str] = mapped_column(String(9))
    district_kato: Mapped[str] = mapped_column(String(9))
    families: Mapped[int] = mapped_column(Integer)
    entitled_by_law: Mapped[int] = mapped_column(Integer)
    receiving: Mapped[int] = mapped_column(Integer)
    applied: Mapped[int] = mapped_column(Integer)
    candidates: Mapped[int] = mapped_column(Integer)
    candidates_monthly_amount: Mapped[float] = mapped_column(Float)


class Offer(Base):
    """An offer of assistance to a candidate family, with consent: one per family and quarter, so a rerun
    of the scan offers nothing twice. The outbox is the offers in state ``queued``."""

    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("quarter", "family_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)
    family_id: Mapped[str] = mapped_column(String(64))
    district_kato: Mapped[str] = mapped_column(String(9), index=True)
    region_kato: Mapped[str] = mapped_column(String(9))
    rank: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    recipient_iin: Mapped[str] = mapped_column(String(12))  # the applicant: the gateway finds the phone
    snapshot: Mapped[dict] = mapped_column(JSON)  # the family's recorded data, for the application
    text_kk: Mapped[str] = mapped_column(Text)
    text_ru: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)  # queued, sent, agreed, refused
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    gateway_ref: Mapped[str | None] = mapped_column(String(128))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))


class Photo(Base):
    """A photo (or a video keyframe) attached to an application, as checked by :mod:`atauly.vision`: the
    original is encrypted in the vision store under ``sha256``; here only what the checks found. GPS is
    never stored (only the region it fell in)."""

    __tablename__ = "photos"
    __table_args__ = (UniqueConstraint("application_id", "sha256", "frame_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # "image" or "keyframe"
    frame_time: Mapped[float] = mapped_column(Float, default=0.0)
    phash: Mapped[str] = mapped_column(String(16))
    blurred: Mapped[bool] = mapped_column(Boolean)
    dark: Mapped[bool] = mapped_column(Boolean)
    screen_photo: Mapped[bool] = mapped_column(Boolean)
    faces: Mapped[int] = mapped_column(Integer)
    exif_time: Mapped[datetime | None] = mapped_column(DateTime)
    gps_region: Mapped[str | None] = mapped_column(String(16))
    duplicate_of: Mapped[str | None] = mapped_column(String(255))
    flags: Mapped[list] = mapped_column(JSON)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    findings: Mapped[list[PhotoFinding]] = relationship(order_by="PhotoFinding.id")


class PhotoFinding(Base):
    """An asset the inventory model may see in a photo; a person confirms or dismisses it. Only confirmed
    findings become facts."""

    __tablename__ = "photo_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), index=True)
    asset: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, confirmed, dismissed
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class InspectionAct(Base):
    """The digital home-inspection act (акт обследования материально-бытовых условий): the officer's
    checklist with the photos attached per item. One per application; a new version replaces the answers
    (every save is audited)."""

    __tablename__ = "inspection_acts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    checklist: Mapped[dict] = mapped_column(JSON)
    photos: Mapped[dict] = mapped_column(JSON)  # checklist item → [photo ids]
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inspected_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


# --- Stage 3: exit plans (issue 19) -------------------------------------------------------------------------


class FamilyPlan(Base):
    """A family's individual assistance plan and social contract: drafted by the system from the application's
    snapshot (``atauly.plans``), edited and approved by a named specialist. One per application."""

    __tablename__ = "family_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    family_id: Mapped[str] = mapped_column(String(64), index=True)
    region_kato: Mapped[str] = mapped_column(String(9), index=True)
    district_kato: Mapped[str] = mapped_column(String(9), index=True)
    quarter: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(12), index=True)  # "draft" or "approved"
    plan: Mapped[dict] = mapped_column(JSON)  # atauly.plans.family.plan_as_dict, with the specialist's edits
    members: Mapped[int] = mapped_column(Integer)
    poverty_line: Mapped[float] = mapped_column(Float)
    per_capita_income: Mapped[float] = mapped_column(Float)
    specialist_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    steps: Mapped[list[PlanStep]] = relationship(back_populates="family_plan", order_by="PlanStep.id")


class PlanStep(Base):
    """One member's measure in an approved plan, with its outcomes as they are recorded (monitoring)."""

    __tablename__ = "plan_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("family_plans.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(64))
    measure: Mapped[str] = mapped_column(String(32), index=True)
    start_month: Mapped[str] = mapped_column(String(7))
    end_month: Mapped[str] = mapped_column(String(7))
    expected_gain: Mapped[float] = mapped_column(Float)
    started: Mapped[bool | None] = mapped_column(Boolean)
    completed: Mapped[bool | None] = mapped_column(Boolean)
    employed: Mapped[bool | None] = mapped_column(Boolean)
    income_after: Mapped[float | None] = mapped_column(Float)  # the family's monthly income, KZT
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    family_plan: Mapped[FamilyPlan] = relationship(back_populates="steps")


class DistrictPlan(Base):
    """A district's row of a published national plan (``atauly plans publish``): aggregates only."""

    __tablename__ = "district_plans"
    __table_args__ = (UniqueConstraint("quarter", "district_kato"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)
    region_kato: Mapped[str] = mapped_column(String(9), index=True)
    district_kato: Mapped[str] = mapped_column(String(9))
    conditional_families: Mapped[int] = mapped_column(Integer)
    families_planned: Mapped[int] = mapped_column(Integer)
    persons_planned: Mapped[int] = mapped_column(Integer)
    budget_kzt: Mapped[float] = mapped_column(Float)
    expected_exits: Mapped[float] = mapped_column(Float)
    measures: Mapped[dict] = mapped_column(JSON)  # {measure: {"places": n, "used": n}}
    loaded_at: Mapped[datetime] = mapped_column(DateTime)
