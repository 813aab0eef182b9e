"""Deciding an application: the officer's own assessment (blind mode), the decision — departing from the
recommendation or from the law needs a reason — and the family's request to correct its data, which
reopens the case. Each change is written with its audit event in one transaction.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm.exc import StaleDataError

from atauly.registry.labels import OVERRIDE_REASONS

from . import audit
from .casework import (
    CORRECTABLE,
    DEADLINE_WORKING_DAYS,
    ServiceError,
    add_working_days,
    deny,
    load,
    recommendation_hidden,
    record,
)
from .models import (
    DECIDED_STATES,
    Application,
    Assessment,
    CorrectionRequest,
    Decision,
    RecommendationView,
    User,
)
from .schemas import CorrectionIn, DecisionIn

log = logging.getLogger(__name__)


def _may_decide(db: DB, user: User, app_id: int, action: str) -> Application:
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
    return load(db, user, app_id, action=action + ".open")


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
    record(db, user, "assessment.create", app, detail={"outcome": outcome, "blind": blind})
    db.commit()
    return app


def decide(db: DB, user: User, app_id: int, body: DecisionIn) -> Application:
    app = _may_decide(db, user, app_id, "decision.create")
    if app.status in DECIDED_STATES:
        raise ServiceError(409, f"application {app_id} is already decided (status {app.status}); reload it")
    if body.version != app.version:
        raise ServiceError(
            409, f"version: the application changed since the form was opened (now {app.version}); reload it"
        )
    if recommendation_hidden(db, user, app):
        raise ServiceError(409, "assessment: blind mode — record your own assessment before deciding")
    from .photos import stale

    if stale(db, app):
        raise ServiceError(
            409,
            "recommendation: the confirmed facts (inspection act, photo findings) changed since it was "
            "computed; confirm a finding or save the act again to recompute, then reload",
        )
    rec = app.recommendation
    recommended = "approve" if rec.recommended else "reject"
    override = body.outcome in ("approve", "reject") and body.outcome != recommended
    against_law = body.outcome in ("approve", "reject") and (body.outcome == "approve") != rec.eligible_by_law
    if body.reason_code is not None and body.reason_code not in OVERRIDE_REASONS:
        raise ServiceError(
            422, f"reason_code: unknown code {body.reason_code!r}; use one of {', '.join(OVERRIDE_REASONS)}"
        )
    if (override or against_law) and not body.reason_code:
        raise ServiceError(422, "reason_code: required when the decision departs from the recommendation")
    if body.reason_code == "other" and not body.comment.strip():
        raise ServiceError(422, "comment: required with reason code 'other'")
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
        period=str(rec.law.get("assignment_period", "")) if approve else "",
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
    record(
        db,
        user,
        "decision.create",
        app,
        detail={
            "outcome": body.outcome,
            "override": override,
            "reason_code": body.reason_code,
            "model": rec.model_version,
        },
    )
    db.commit()
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
    record(db, user, "correction.create", app, detail={"fields": list(body.fields)})
    db.commit()
    from .photos import hold_again

    hold_again(db, app)  # open again: its photos are kept until the new decision
    return app
