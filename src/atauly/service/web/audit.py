"""The audit trail for supervisors (their region) and administrators, with a check of the hash chain."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter
from sqlalchemy import func, select

from atauly.registry import codes

from .. import audit
from ..casework import deny, record
from ..models import AuditEvent
from .kit import ROLE_LABELS, SignedIn, render

router = APIRouter(include_in_schema=False)


AUDIT_PAGE = 50


@router.get("/audit")
def audit_page(page: SignedIn, action: str = "", outcome: str = "", offset: int = 0, verify: str = ""):
    user, db = page.user, page.db
    if user.role not in ("supervisor", "admin"):
        raise deny(
            db,
            user,
            "audit.read",
            403,
            "only supervisors and administrators see the audit trail",
            object_type="audit",
            object_id="*",
            region_kato=user.region_kato,
        )
    scope = [AuditEvent.region_kato == user.region_kato] if user.role == "supervisor" else []
    actions = sorted(db.execute(select(AuditEvent.action).where(*scope).distinct()).scalars())
    filters = list(scope)
    if action in actions:
        filters.append(AuditEvent.action == action)
    else:
        action = ""
    if outcome in ("ok", "denied"):
        filters.append(AuditEvent.outcome == outcome)
    else:
        outcome = ""
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
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "role": ROLE_LABELS.get(e.role, e.role),
            "action": e.action,
            "object": f"{e.object_type} {e.object_id}".strip(),
            "outcome": e.outcome,
            "region": codes.region_name(e.region_kato, page.lang) if e.region_kato else "",
            "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else "",
            "hash": e.hash,
        }
        for e in events[:AUDIT_PAGE]
    ]
    check = None
    if verify:
        result = audit.verify(db)
        check = {
            "ok": result.ok,
            "checked": result.checked,
            "first_bad": result.first_bad,
            "problem": result.problem,
        }
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
        actions=actions,
        action=action,
        outcome=outcome,
        offset=offset,
        page_size=AUDIT_PAGE,
        more=len(events) > AUDIT_PAGE,
        total=total,
        check=check,
        query=urlencode(query),
    )
