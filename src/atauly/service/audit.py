"""The audit trail: an append-only hash chain of events.

Every read of personal data and every write appends an event in the same transaction as the change it
records. Each event's hash is the SHA-256 of its canonical content, which includes the previous event's
hash, so editing an event breaks its own hash and deleting one breaks the link of the next;
:func:`verify` names the first event that does not check out. Events hold no personal data: ids, codes
and outcomes only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def event_hash(ev: AuditEvent) -> str:
    content = {
        "id": ev.id,
        "at": ev.at.isoformat(timespec="microseconds"),
        "actor": ev.actor,
        "role": ev.role,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "outcome": ev.outcome,
        "region_kato": ev.region_kato,
        "detail": ev.detail,
        "prev_hash": ev.prev_hash,
    }
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def append(
    db: Session,
    action: str,
    *,
    actor: str = "system",
    role: str = "system",
    object_type: str = "",
    object_id: object = "",
    outcome: str = "ok",
    region_kato: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain within ``db``'s transaction (the caller commits).

    The head row is updated first: that takes its row lock (PostgreSQL) or the write lock (SQLite) until
    commit, so concurrent appends line up one after another and the chain stays linear.
    """
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=AuditHead.last_id))
    head = db.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    ev = AuditEvent(
        id=head.last_id + 1,
        at=utcnow(),
        actor=actor[:64],
        role=role,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        outcome=outcome,
        region_kato=region_kato,
        detail=detail or {},
        prev_hash=head.hash,
    )
    ev.hash = event_hash(ev)
    db.add(ev)
    head.last_id, head.hash = ev.id, ev.hash
    db.flush()
    return ev


@dataclass
class Verification:
    ok: bool
    checked: int
    first_bad: int | None = None
    problem: str = ""


def verify(db: Session, batch: int = 5000) -> Verification:
    """Walk the chain from the start; the first event whose hash or link is wrong is named."""
    prev, expected_id, checked = GENESIS, 1, 0
    last = 0
    while True:
        events = (
            db.execute(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch))
            .scalars()
            .all()
        )
        if not events:
            break
        for ev in events:
            if ev.id != expected_id:
                return Verification(
                    False,
                    checked,
                    expected_id,
                    f"event {expected_id} is missing (deleted); the chain resumes at {ev.id}",
                )
            if ev.prev_hash != prev:
                if (
                    event_hash(ev) == ev.hash and ev.id > 1
                ):  # this one is intact: the one before was rewritten
                    return Verification(
                        False,
                        checked - 1,
                        ev.id - 1,
                        f"event {ev.id - 1} was edited and re-hashed (event {ev.id} no longer links to it)",
                    )
                return Verification(
                    False, checked, ev.id, f"event {ev.id} was edited (its link does not match)"
                )
            if event_hash(ev) != ev.hash:
                return Verification(
                    False, checked, ev.id, f"event {ev.id} was edited (its hash does not match)"
                )
            prev, expected_id, checked = ev.hash, ev.id + 1, checked + 1
        last = events[-1].id
        db.expunge_all()
    head = db.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if head.last_id != checked or head.hash != prev:
        return Verification(
            False,
            checked,
            checked + 1,
            f"events after {checked} are missing (the chain's head is event {head.last_id})",
        )
    return Verification(True, checked)
