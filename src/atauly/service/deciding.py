"""Deciding an application: the officer's own assessment (blind mode), the decision — departing from the
recommendation or from the law needs a reason and an explanation the family can read — the family's request
to correct its data, which reopens the case, and verified values (a certificate, a visit) on which the law is
recomputed. Each change is written with its audit event in one transaction.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm.exc import StaleDataError

from atauly.registry import codes
from atauly.registry.labels import OVERRIDE_REASONS
from atauly.registry.quarter import Quarter

from . import audit
from .casework import (
    CORRECTABLE,
    DEADLINE_WORKING_DAYS,
    ServiceError,
    add_working_days,
    deny,
    district_setting,
    load,
    recommendation_hidden,
    record,
)
from .engine import canonical_hash
from .intake import recommendation_on
from .models import (
    DECIDED_STATES,
    OPEN_STATES,
    Application,
    Assessment,
    CorrectionRequest,
    Decision,
    RecommendationView,
    User,
    Verification,
)
from .schemas import CorrectionIn, DecisionIn

log = logging.getLogger(__name__)


def _may_decide(db: DB, user: User, app_id: int, action: str, *, audited: bool = True) -> Application:
    if user.role not in ("officer", "supervisor", "admin"):
        raise deny(
            db,
            user,
            action,
            403,
            "your role cannot decide applications",
            object_type="application",
            object_id=app_id,
        )
    return load(db, user, app_id, action=action + ".open", audited=audited)


def assess(db: DB, user: User, app_id: int, outcome: str) -> Application:
    """Blind mode: the officer's own assessment, recorded before the recommendation is shown."""
    app = _may_decide(db, user, app_id, "assessment.create")
    if app.status in DECIDED_STATES:
        raise ServiceError(409, f"application {app_id} is already decided")
    # Blind only if the recommendation is hidden from this officer now (blind mode, no assessment yet)
    # and they were not shown it — nor the law's result — before (blind mode switched on since).
    seen = db.execute(
        select(RecommendationView.id).where(
            RecommendationView.application_id == app.id, RecommendationView.user_id == user.id
        )
    ).first()
    blind = recommendation_hidden(db, user, app) and seen is None
    app.assessments.append(
        Assessment(
            application_id=app.id, officer_id=user.id, outcome=outcome, created_at=audit.utcnow(), blind=blind
        )
    )
    record(db, user, "assessment.create", app, detail={"outcome": outcome, "blind": blind}, commit=True)
    return app


class _Opening:
    """The officer's opening of a case to decide it (``decision.create.open``, a read of the family's
    personal data), recorded late (issue 17, officers on PostgreSQL): with the decision, in its transaction
    (two appends, one acquisition of the audit head's lock instead of two), or alone in a transaction of its
    own before anything else commits (a recompute) and when the decision is refused or fails. The trail
    shows every read as before — the same events in the same order — only the opening's time is the
    decision's (or the refusal's), not the load's."""

    def __init__(self, db: DB, user: User, app: Application) -> None:
        self.db, self.user = db, user
        self.again(app)

    def again(self, app: Application) -> None:
        """The case loaded (again) to decide it: one more opening to record."""
        self.app_id, self.region_kato, self.pending = app.id, app.region_kato, True

    def _append(self, commit: bool) -> None:
        record(
            self.db,
            self.user,
            "decision.create.open",
            object_type="application",
            object_id=self.app_id,
            region_kato=self.region_kato,
            commit=commit,
        )

    def with_decision(self, **decision) -> None:
        """The opening, then the decision's event, in the decision's transaction, which this commits."""
        self._append(commit=False)  # takes the head's lock; the decision's append rides on it
        record(self.db, self.user, "decision.create", commit=True, **decision)
        self.pending = False

    def alone(self) -> None:
        """The opening, if not recorded yet, in a transaction of its own: committed with what the session
        holds (the caller rolls back first what must not be kept)."""
        if self.pending:
            self._append(commit=True)
            self.pending = False


def decide(db: DB, user: User, app_id: int, body: DecisionIn, engine=None) -> Application:
    """Record the decision. With an ``engine``, a recommendation behind the confirmed facts is recomputed
    first (as saving the act does); if its result changed, the officer must look at it before deciding.

    The case's opening is audited with the decision, in one transaction (see :class:`_Opening`); a decision
    refused (409, 422) or failed anywhere after the case was loaded is rolled back and the opening recorded
    alone, as it was before the decision was tried."""
    app = _may_decide(db, user, app_id, "decision.create", audited=False)
    opening = _Opening(db, user, app)
    try:
        return _decide(db, user, app, body, engine, opening)
    except Exception:  # a refusal, a stale row, a lost connection: the read of the case is audited still
        if opening.pending:
            db.rollback()
            opening.alone()
        raise


def _decide(db: DB, user: User, app: Application, body: DecisionIn, engine, opening: _Opening) -> Application:
    app_id = app.id
    if app.status in DECIDED_STATES:
        raise ServiceError(409, f"application {app_id} is already decided (status {app.status}); reload it")
    if body.version != app.version:
        raise ServiceError(
            409, f"version: the application changed since the form was opened (now {app.version}); reload it"
        )
    if recommendation_hidden(db, user, app):
        raise ServiceError(409, "assessment: blind mode — record your own assessment before deciding")
    from .photos import recompute, stale

    behind = stale(db, app)  # checked again below only if a recompute changed the application
    if behind and engine is not None:
        before = app.recommendation
        seen = (before.recommended, before.eligible_by_law, round(float(before.amount_monthly), 2))
        opening.alone()  # before the recompute, which commits its own work and its events
        new = recompute(db, engine, user, app_id)
        app = _may_decide(db, user, app_id, "decision.create", audited=False)
        opening.again(app)
        if new is not None and seen != (new.recommended, new.eligible_by_law, round(new.amount_monthly, 2)):
            raise ServiceError(
                409,
                "recommendation: recomputed on the confirmed facts and its result changed; look at the new "
                f"result (GET /api/v1/applications/{app_id}) and decide again with version {app.version}",
            )
        if app.status in DECIDED_STATES:
            raise ServiceError(
                409, f"application {app_id} is already decided (status {app.status}); reload it"
            )
        behind = stale(db, app)
    if behind:
        raise ServiceError(
            409,
            "recommendation: the confirmed facts (inspection act, photo findings) changed since it was "
            "computed; confirm a finding or save the act again to recompute, then reload",
        )
    rec = app.recommendation
    recommended = "approve" if rec.recommended else "reject"
    override = body.outcome in ("approve", "reject") and body.outcome != recommended
    against_law = body.outcome in ("approve", "reject") and (body.outcome == "approve") != rec.eligible_by_law
    period = str(rec.law.get("assignment_period") or "")
    if body.outcome == "approve" and not (rec.eligible_by_law and rec.amount_monthly > 0 and period):
        # An approval states an amount and a period; the law gives none on this data. The way to assign
        # assistance is to record the verified data (the law is recomputed on it) or to send the family to
        # the commission (a home visit), whose findings are recorded the same way.
        raise ServiceError(
            422,
            "outcome: the law finds no entitlement on the data in hand, so an approval would have no amount "
            "nor period; record the verified data (the law is recomputed) or send it for a home visit",
        )
    if body.reason_code is not None and body.reason_code not in OVERRIDE_REASONS:
        raise ServiceError(
            422, f"reason_code: unknown code {body.reason_code!r}; use one of {', '.join(OVERRIDE_REASONS)}"
        )
    if (override or against_law) and not body.reason_code:
        raise ServiceError(422, "reason_code: required when the decision departs from the recommendation")
    if (override or against_law or body.reason_code == "other") and not body.comment.strip():
        raise ServiceError(
            422, "comment: required when the decision departs: an explanation the family reads in the notice"
        )
    now = audit.utcnow()
    approve = body.outcome == "approve"
    opened = db.execute(
        select(audit.AuditEvent.at)
        .where(
            audit.AuditEvent.object_type == "application",
            audit.AuditEvent.object_id == str(app.id),
            audit.AuditEvent.actor == user.username,
            audit.AuditEvent.action.like("%read%"),
        )
        .order_by(audit.AuditEvent.id)
        .limit(1)
    ).scalar_one_or_none()
    decision = Decision(
        application_id=app.id,
        recommendation_id=rec.id,
        officer_id=user.id,
        outcome=body.outcome,
        reason_code=body.reason_code,
        comment=body.comment.strip(),
        override=override,
        against_law=against_law,
        # blind: this officer's assessment came before they saw the recommendation or the law's result
        blind=any(a.officer_id == user.id and a.blind for a in app.assessments),
        amount_monthly=rec.amount_monthly if approve else 0.0,
        period=period if approve else "",
        opened_at=opened,
        decided_at=now,
    )
    app.decisions.append(decision)
    if body.outcome == "home_visit":
        app.status = "home_visit"
    else:
        app.status = "approved" if approve else "rejected"
        app.decided_at = now
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise ServiceError(409, f"application {app_id} was changed by someone else; reload it") from None
    opening.with_decision(
        obj=app,
        detail={
            "outcome": body.outcome,
            "override": override,
            "reason_code": body.reason_code,
            "model": rec.model_version,
        },
    )
    if app.status in ("approved", "rejected"):  # final: the photos' retention period starts
        _start_retention(db, app, now)
    return app


def _start_retention(db: DB, app: Application, now) -> None:
    """Date the application's photos for deletion. The decision is already committed: a failure here is
    logged (the application's number only) and never shown to the officer as an error; the photos then stay
    undated, as before a decision, until a later final decision dates them."""
    app_id = app.id
    try:
        from .photos import apply_retention

        apply_retention(db, app, now.date())
    except Exception:  # noqa: BLE001 - the decision stands; retention is bookkeeping
        db.rollback()
        log.exception("photo retention not dated for application %s", app_id)


def request_correction(db: DB, user: User, app_id: int, body: CorrectionIn) -> Application:
    """The family asks to correct the data used about it: recorded, and the case is reopened."""
    app = _may_decide(db, user, app_id, "correction.create")
    unknown = [f for f in body.fields if f not in CORRECTABLE]
    if unknown:
        raise ServiceError(422, f"fields: unknown {', '.join(unknown)}; use {', '.join(CORRECTABLE)}")
    app.corrections.append(
        CorrectionRequest(
            application_id=app.id,
            fields=list(body.fields),
            description=body.description.strip(),
            recorded_by=user.id,
            created_at=audit.utcnow(),
        )
    )
    app.status = "reopened"
    app.decided_at = None
    # The corrected case is decided within a new statutory period, counted from the request.
    app.deadline = add_working_days(date.today(), DEADLINE_WORKING_DAYS)
    db.flush()
    record(db, user, "correction.create", app, detail={"fields": list(body.fields)}, commit=True)
    from .photos import hold_again

    hold_again(db, app)  # open again: its photos are kept until the new decision
    return app


# --- verified values -----------------------------------------------------------------------------------


@dataclass
class VerifiedIncome:
    """A member's income from one source in one counted month, as verified (0: none)."""

    person_id: str
    month: str
    source: str
    amount: float


@dataclass
class MemberLeft:
    """A member who, as verified, no longer lives in the household."""

    person_id: str


def verify(
    db: DB,
    engine,
    user: User,
    app_id: int,
    change: VerifiedIncome | MemberLeft,
    note: str,
    version: int | None = None,
) -> Application:
    """Record a verified value and recompute the law (and the model) on the family's data with it.

    The declared data is kept (``Application.declared``, the first time), the snapshot becomes the verified
    data, a new recommendation is added and the verification names what changed (no amounts: those stay in
    the application's data). Only an open application; ``note`` tells the family how it was verified.
    ``version``: the application's version the value was verified on (the API's); another one fails with 409,
    as a stale decision does."""
    app = _may_decide(db, user, app_id, "verification.create")
    if app.status not in OPEN_STATES:
        raise ServiceError(409, f"application {app_id} is already decided; verified values change nothing")
    if version is not None and app.version != version:
        raise ServiceError(409, f"application {app_id} was changed by someone else (version); reload it")
    if not note.strip():
        raise ServiceError(422, "note: say how the value was verified (the family reads it in the notice)")
    version, quarter = app.version, app.quarter
    snapshot = copy.deepcopy(app.snapshot)
    detail = _apply(snapshot, change, Quarter.parse(quarter).reference_months)
    use_model = district_setting(db, app.district_kato).model_enabled
    from .photos import confirmed_facts

    confirmed = confirmed_facts(db, app)  # the act's counts, confirmed photo findings: they stay applied
    db.rollback()  # nothing is held (SQLite's write lock) while the law and the model run
    rec = recommendation_on(engine, snapshot, quarter, use_model, confirmed)
    app = db.get(Application, app_id)
    if app is None or app.version != version or app.status not in OPEN_STATES:
        raise ServiceError(409, f"application {app_id} was changed by someone else; reload it")
    now = audit.utcnow()
    if app.declared is None:
        app.declared = app.snapshot
    app.snapshot = snapshot
    app.input_hash = canonical_hash(snapshot)
    app.family_size = len(snapshot["persons"])  # the queue's filter by size follows a member who left
    app.recommendations.append(rec)
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        raise ServiceError(409, f"application {app_id} was changed by someone else; reload it") from None
    app.verifications.append(
        Verification(
            application_id=app.id,
            changes=[detail],
            note=note.strip(),
            recommendation_id=rec.id,
            recorded_by=user.id,
            created_at=now,
        )
    )
    db.flush()
    record(
        db,
        user,
        "verification.create",
        app,
        detail={"kind": detail["kind"], "eligible_by_law": rec.eligible_by_law, "model": rec.model_version},
        commit=True,
    )
    return app


def _apply(snapshot: dict, change: VerifiedIncome | MemberLeft, months: list[str]) -> dict:
    """Apply a verified value to the family's data (in place); what changed, without amounts."""
    persons = snapshot["persons"]
    person = next((p for p in persons if p["person_id"] == change.person_id), None)
    if person is None:
        raise ServiceError(422, "person_id: no such member in the family")
    if isinstance(change, MemberLeft):
        if person.get("role") == "applicant":
            raise ServiceError(422, "person_id: the applicant cannot leave the household")
        snapshot["persons"] = [p for p in persons if p is not person]
        snapshot["incomes"] = [i for i in snapshot["incomes"] if i["person_id"] != change.person_id]
        return {"kind": "member_left", "person_id": change.person_id}
    if change.month not in months:
        raise ServiceError(422, f"month: the law counts the incomes of {', '.join(months)}")
    if change.source not in codes.INCOME_SOURCES:
        raise ServiceError(422, "source: unknown income source")
    if not 0 <= change.amount <= 1e10:
        raise ServiceError(422, "amount: between 0 and 10,000,000,000 tenge")
    key = (change.person_id, change.month, change.source)
    kept = [i for i in snapshot["incomes"] if (i["person_id"], i["month"], i["source"]) != key]
    if change.amount > 0:
        kept.append(
            {
                "person_id": change.person_id,
                "month": change.month,
                "source": change.source,
                "amount_kzt": round(float(change.amount), 2),
            }
        )
    snapshot["incomes"] = kept
    return {"kind": "income", "person_id": change.person_id, "month": change.month, "source": change.source}


def verified_values(app: Application) -> list[dict]:
    """What was verified on ``app``, one row per value (the latest verification of it wins): the member (their
    number and role in the family as declared), for an income its month and source, the amount declared and
    the amount verified (KZT); for a member who left, ``declared``/``verified`` are None."""
    if not app.verifications:  # most cases: nothing to number (nor the family's tables to read)
        return []
    declared = app.declared or app.snapshot
    number = {p["person_id"]: (k, p.get("role", "")) for k, p in enumerate(declared["persons"], start=1)}

    def income(snapshot: dict, key: tuple) -> float:
        return sum(
            float(i["amount_kzt"])
            for i in snapshot.get("incomes", [])
            if (i["person_id"], i["month"], i["source"]) == key
        )

    rows: dict[tuple, dict] = {}
    for v in app.verifications:
        for c in v.changes:
            n, role = number.get(c["person_id"], (0, ""))
            row = {"kind": c["kind"], "person_id": c["person_id"], "n": n, "role": role, "at": v.created_at}
            if c["kind"] == "income":
                key = (c["person_id"], c["month"], c["source"])
                row |= {
                    "month": c["month"],
                    "source": c["source"],
                    "declared": income(declared, key),
                    "verified": income(app.snapshot, key),
                }
            else:
                key = (c["person_id"], "left")
                row |= {"month": "", "source": "", "declared": None, "verified": None}
            rows[key] = row
    return sorted(rows.values(), key=lambda r: (r["n"], r["month"], r["source"]))
