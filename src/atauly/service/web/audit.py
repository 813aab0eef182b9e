"""The audit trail for supervisors (their region) and administrators, with a check of the hash chain."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from sqlalchemy import func, select

from atauly.registry import codes
from atauly.registry.labels import USER_ROLES

from .. import audit
from ..casework import deny, record
from ..models import AuditEvent
from .audit_labels import action_label, detail_line, object_label, technical
from .kit import SignedIn, render

router = APIRouter(include_in_schema=False)


AUDIT_PAGE = 50


@router.get("/audit")
def audit_page(page: SignedIn, action: str = "", outcome: str = "", offset: int = 0, verify: str = ""):
    user, db = page.user, page.db
    _may_read(page)
    scope = [AuditEvent.region_kato == user.region_kato] if user.role == "supervisor" else []
    actions = sorted(db.execute(select(AuditEvent.action).where(*scope).distinct()).scalars())
    action = action if action in actions else ""
    outcome = outcome if outcome in ("ok", "denied") else ""
    filters = list(scope)
    if action:
        filters.append(AuditEvent.action == action)
    if outcome:
        filters.append(AuditEvent.outcome == outcome)
    offset = max(0, offset)
    events = list(
        db.execute(
            select(AuditEvent)
            .where(*filters)
            .order_by(AuditEvent.id.desc())
            .limit(AUDIT_PAGE + 1)
            .offset(offset)
        ).scalars()
    )
    total = db.execute(select(func.count(AuditEvent.id)).where(*filters)).scalar_one()
    rows = [_row(e, page) for e in events[:AUDIT_PAGE]]
    check = _check(db) if verify else None
    record(
        db,
        user,
        "audit.read",
        object_type="audit",
        object_id=user.region_kato or "*",
        region_kato=user.region_kato,
        detail={"offset": offset, "action": action, "outcome": outcome, "verify": bool(verify)},
    )
    db.commit()
    query = {k: v for k, v in (("action", action), ("outcome", outcome)) if v}
    return render(
        page,
        "audit.html",
        rows=rows,
        actions=[(a, action_label(a, page.t)) for a in actions],
        action=action,
        outcome=outcome,
        offset=offset,
        page_size=AUDIT_PAGE,
        more=len(events) > AUDIT_PAGE,
        total=total,
        check=check,
        query=urlencode(query),
    )


def _may_read(page) -> None:
    user = page.user
    if user.role not in ("supervisor", "admin"):
        raise deny(
            page.db,
            user,
            "audit.read",
            403,
            "only supervisors and administrators see the audit trail",
            object_type="audit",
            object_id="*",
            region_kato=user.region_kato,
        )


def _row(e: AuditEvent, page) -> dict:
    lang = page.lang
    return {
        "id": e.id,
        "at": e.at,
        "actor": e.actor,
        "role": USER_ROLES.get(e.role, e.role),
        "action": e.action,
        "action_label": action_label(e.action, page.t),
        "object": object_label(e.object_type, e.object_id, page.t),
        "outcome": e.outcome,
        "region": codes.region_name(e.region_kato, lang) if e.region_kato else "",
        "detail": detail_line(e.detail, page.t),
        "technical": technical(e.detail),
        "hash": e.hash,
    }


def _check(db) -> dict:
    """The whole chain verified now (the page's "check the chain" button)."""
    result = audit.verify(db)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad": result.first_bad,
        "problem": result.problem,
    }
