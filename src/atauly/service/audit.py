"""The audit trail: an append-only, keyed hash chain of events, anchored outside the database.

Every read of personal data and every write appends an event in the same transaction as the change it
records. Each event's hash is an HMAC-SHA256 of its canonical content, which includes the previous event's
hash, under a key kept outside the database (:class:`AuditKeys`: ``ATAULY_AUDIT_KEY`` or a key file under
``ATAULY_HOME``). Editing an event breaks its own hash, deleting one breaks the link of the next, and
someone who can write the database but has not the key cannot re-hash the rest after an edit. The chain's
head is anchored periodically in a checkpoint file (a keyed line per anchor, :func:`checkpoint`), so that
cutting the tail and moving the head back is detected too. :func:`verify` names the first event that does
not check out. Events hold no personal data: ids, codes and outcomes only.

Events written before keys existed (``key_id`` null) keep their plain SHA-256; they are protected by the
first keyed event, whose keyed hash covers its link to them. No unkeyed event may follow a keyed one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead
from .periodic import Periodic

GENESIS = "0" * 64
log = logging.getLogger(__name__)


# --- keys ------------------------------------------------------------------------------------------------


@dataclass
class AuditKeys:
    """The audit chain's keys, by id; the last one signs new events (older ones still verify).

    Rotation: add a key (``atauly audit rotate-key`` appends one to the key file; with ``ATAULY_AUDIT_KEY``
    append ``,ID:HEX``) and restart the service; keep the old keys, or events signed with them no longer
    verify.
    """

    keys: dict[str, bytes]
    current: str
    checkpoint_dir: Path | None = None
    source: str = ""

    @classmethod
    def parse(cls, text: str, sep: str) -> tuple[dict[str, bytes], str]:
        keys, current = {}, ""
        for item in text.replace("\n", sep).split(sep):
            item = item.strip()
            if not item or item.startswith("#"):
                continue
            kid, _, hexkey = item.partition(":" if sep == "," else " ")
            kid, hexkey = kid.strip(), hexkey.strip()
            key = bytes.fromhex(hexkey)
            if not kid or len(kid) > 32 or len(key) < 16:
                raise ValueError("an audit key is `ID HEX` (ID up to 32 characters, at least 16 bytes)")
            keys[kid] = key
            current = kid
        if not keys:
            raise ValueError("no audit key found")
        return keys, current

    @classmethod
    def load(cls, settings) -> AuditKeys:
        """From ``settings.audit_key``, else the key file (created with one new key when missing)."""
        checkpoints = settings.audit_checkpoint_dir or settings.home / "audit-checkpoints"
        if settings.audit_key:
            keys, current = cls.parse(settings.audit_key, ",")
            return cls(keys, current, checkpoints, "ATAULY_AUDIT_KEY")
        path = Path(settings.audit_key_file or settings.home / "audit.key")
        if not path.exists():
            add_key_file(path)
        keys, current = cls.parse(path.read_text(), "\n")
        return cls(keys, current, checkpoints, str(path))

    def mac(self, key_id: str, raw: bytes) -> str:
        return hmac.new(self.keys[key_id], raw, hashlib.sha256).hexdigest()


def add_key_file(path: Path) -> str:
    """Append a new random key to the key file (created with mode 600); returns its id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text().split() if path.exists() else []
    kid = f"k{datetime.now(UTC):%Y%m%d%H%M%S}"
    while kid in existing:
        kid += "x"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(f"{kid} {secrets.token_hex(32)}\n")
    os.chmod(path, 0o600)
    return kid


def keys_of(db: Session) -> AuditKeys:
    keys = db.info.get("audit_keys")
    if keys is None:
        from atauly.settings import get_settings

        keys = db.info["audit_keys"] = AuditKeys.load(get_settings())
    return keys


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def event_hash(ev: AuditEvent, keys: AuditKeys | None = None) -> str:
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
    if ev.key_id is not None:
        content["key_id"] = ev.key_id
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    if ev.key_id is None:
        return hashlib.sha256(raw.encode()).hexdigest()
    if keys is None or ev.key_id not in keys.keys:
        raise KeyError(ev.key_id)
    return keys.mac(ev.key_id, raw.encode())


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
    commit: bool = False,
) -> AuditEvent:
    """Append one event to the chain within ``db``'s transaction (the caller commits, unless ``commit``).

    The head row is locked and read in one statement first (``UPDATE … RETURNING``): that takes its row
    lock (PostgreSQL) or the write lock (SQLite) until commit, so concurrent appends line up one after
    another and the chain stays linear. The event and the new head are written with plain SQL statements,
    not through the ORM's unit of work (which cost more than the rest of an append): the event returned is
    not added to the session. On PostgreSQL both go in one statement (the event's INSERT in a WITH clause
    of the head's UPDATE), so the lock is held for one round trip fewer.

    ``commit=True``: the append is the transaction's last change and commits it. On PostgreSQL the event,
    the new head and the COMMIT go to the server in one round trip (libpq's pipeline): the head's row lock
    is released by the server as soon as the event is written, without waiting for this thread to get the
    result back, take the interpreter lock again and send the COMMIT — in a busy worker each of those
    waits was paid by every other writer queued on the lock (issue 17, officers on PostgreSQL).
    """
    entry = {
        "action": action,
        "actor": actor,
        "role": role,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "region_kato": region_kato,
        "detail": detail,
    }
    return append_many(db, [entry], commit=commit)[0]


def append_many(db: Session, entries: list[dict], commit: bool = False) -> list[AuditEvent]:
    """Append several events one after another, as that many :func:`append` calls would (the same ids,
    links and hashes; each entry holds :func:`append`'s keyword arguments), taking the head's lock once.
    On PostgreSQL with ``commit`` all the events, the new head and the COMMIT go in one round trip, so a
    group of applications recorded together (:func:`atauly.service.intake.finish_many`) holds the head's
    lock — which every audited request waits for — for two round trips however many events it writes."""
    db.flush()  # the transaction's pending changes first, as before (the events record them)
    head = db.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(last_id=_HEAD.c.last_id)
        .returning(_HEAD.c.last_id, _HEAD.c.hash)
    ).one()
    keys = keys_of(db)
    events, last_id, prev_hash = [], head.last_id, head.hash
    for entry in entries:
        ev = _event(keys, last_id + 1, prev_hash, entry)
        events.append(ev)
        last_id, prev_hash = ev.id, ev.hash
    postgresql = db.get_bind().dialect.name == "postgresql"
    if postgresql and commit and _commits_alone(db):
        _write_and_commit(db, events)
    else:
        rows = [{c.name: getattr(ev, c.name) for c in _EVENTS.columns} for ev in events]
        new_head = update(_HEAD).where(_HEAD.c.id == 1).values(last_id=last_id, hash=prev_hash)
        if postgresql and len(rows) == 1:
            # One round trip for both while the head's row lock is held: every concurrent append waits for
            # it, and in a busy worker each trip also waits for the interpreter lock (GIL) to come back.
            db.execute(new_head.add_cte(insert(_EVENTS).values(rows[0]).cte("event")))
        else:  # SQLite has no INSERT in a WITH clause (and its write lock is per database anyway)
            db.execute(insert(_EVENTS), rows)
            db.execute(new_head)
    loaded = db.identity_map.get(db.identity_key(AuditHead, 1))
    if loaded is not None:  # a head read earlier in this session is stale now
        db.expire(loaded)
    if commit:
        db.commit()  # on PostgreSQL the connection is idle already: SQLAlchemy's side only, nothing is sent
    return events


#: What an event records besides its action, and the default of each (:func:`append`'s keywords).
_FIELDS = {
    "actor": "system",
    "role": "system",
    "object_type": "",
    "object_id": "",
    "outcome": "ok",
    "region_kato": None,
    "detail": None,
}


def _event(keys: AuditKeys, event_id: int, prev_hash: str, entry: dict) -> AuditEvent:
    """The event of ``entry`` (its action and :data:`_FIELDS`) with this id after ``prev_hash``, hashed under
    the current key."""
    unknown = entry.keys() - _FIELDS.keys() - {"action"}
    if unknown:
        raise TypeError(f"audit event: unknown fields {sorted(unknown)}")
    f = {**_FIELDS, **entry}
    ev = AuditEvent(
        id=event_id,
        key_id=keys.current,
        at=utcnow(),
        actor=f["actor"][:64],
        role=f["role"],
        action=entry["action"],
        object_type=f["object_type"],
        object_id=str(f["object_id"])[:64],
        outcome=f["outcome"],
        region_kato=f["region_kato"],
        detail=f["detail"] or {},
        prev_hash=prev_hash,
    )
    ev.hash = event_hash(ev, keys)
    return ev


def _commits_alone(db: Session) -> bool:
    """Whether ``db.commit()`` would commit the database's transaction, so that a COMMIT sent on the
    connection directly means the same: not inside a savepoint (``begin_nested``: the session releases it
    and commits through SQLAlchemy; a raw COMMIT would leave the session with a savepoint the server has
    forgotten), and not a session joined to a transaction its caller began on a connection (the session
    does not commit that one; a raw COMMIT would). There the append takes the ordinary path, as on SQLite."""
    return isinstance(db.get_bind(), Engine) and not db.in_nested_transaction()


def _write_and_commit(db: Session, events: list[AuditEvent]) -> None:
    """PostgreSQL: the events, each moving the head, and the COMMIT in one pipeline (one round trip). An
    error (the transaction is then rolled back by the server or by the caller) goes through SQLAlchemy's
    own handling of a failed statement: raised as SQLAlchemy's error, and a lost connection (the dialect's
    ``is_disconnect``) invalidated with the pool's older ones, so the caller's rollback does not fail again
    on the dead connection and hide the first error."""
    if db.new or db.dirty or db.deleted:  # the append must be the last change: nothing may follow the COMMIT
        raise RuntimeError("audit.append(commit=True): the session has changes after the append's flush")
    from psycopg.types.json import Json

    conn = db.connection()
    raw = conn.connection.dbapi_connection
    sql = _pg_append_sql()
    params: dict = {}
    try:
        with raw.pipeline():
            for ev in events:
                params = {c.name: getattr(ev, c.name) for c in _EVENTS.columns}
                params["detail"] = Json(params["detail"])
                raw.execute(sql, params)
            raw.commit()
    except BaseException as err:  # noqa: BLE001 — as SQLAlchemy's own execute: handled there, re-raised
        # (a private method, but the one every statement's error goes through: handle_error events,
        # hide_parameters, invalidation on disconnect; tests pin what it does here)
        conn._handle_dbapi_exception(err, sql, params, None, None)


_PG_APPEND_SQL: str | None = None


def _pg_append_sql() -> str:
    """The event's INSERT in a WITH clause of the head's UPDATE, as psycopg's SQL (named parameters)."""
    global _PG_APPEND_SQL
    if _PG_APPEND_SQL is None:
        cols = [c.name for c in _EVENTS.columns]
        _PG_APPEND_SQL = (
            f"WITH event AS (INSERT INTO {_EVENTS.name} ({', '.join(cols)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in cols)})) "
            f"UPDATE {_HEAD.name} SET last_id = %(id)s, hash = %(hash)s WHERE {_HEAD.name}.id = 1"
        )
    return _PG_APPEND_SQL


_HEAD = AuditHead.__table__
_EVENTS = AuditEvent.__table__


# --- anchoring the head outside the database ----------------------------------------------------------


def checkpoint_file(db: Session) -> Path | None:
    """This database's checkpoint file (one per database, named after its URL without the password)."""
    keys = keys_of(db)
    if keys.checkpoint_dir is None:
        return None
    url = db.get_bind().url.render_as_string(hide_password=True)
    return Path(keys.checkpoint_dir) / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.jsonl"


def _checkpoint_mac(keys: AuditKeys, key_id: str, line: dict) -> str:
    return keys.mac(key_id, f"{line['at']}|{line['last_id']}|{line['hash']}".encode())


def checkpoint(db: Session) -> dict | None:
    """Anchor the chain's current head: append a keyed line (time, last event id, its hash) to the
    checkpoint file, unless the head has not moved since the last line. Returns the line written."""
    path = checkpoint_file(db)
    if path is None:
        return None
    head = db.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    db.rollback()
    if head is None or head.last_id == 0:
        return None
    lines = read_checkpoints(path)
    if lines and lines[-1].get("last_id") == head.last_id and lines[-1].get("hash") == head.hash:
        return None
    keys = keys_of(db)
    line = {"at": utcnow().isoformat(timespec="seconds"), "last_id": head.last_id, "hash": head.hash}
    line["key_id"] = keys.current
    line["mac"] = _checkpoint_mac(keys, keys.current, line)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:  # one short write in append mode: lines of several processes never mix
        f.write(json.dumps(line, sort_keys=True) + "\n")
    return line


def read_checkpoints(path: Path | None) -> list[dict]:
    if path is None or not path.exists():
        return []
    out = []
    for raw in path.read_text().splitlines():
        try:
            out.append(json.loads(raw))
        except ValueError:
            out.append({"broken": raw[:80]})
    return out


class CheckpointThread(Periodic):
    """Anchors the head every ``seconds`` while the service runs (each worker process runs one; a line is
    written only when the head moved)."""

    def __init__(self, sessions, seconds: float):
        self.sessions = sessions
        super().__init__(
            self._anchor, seconds, name="atauly-audit-anchor", what="anchoring the audit chain's head"
        )

    def _anchor(self) -> None:
        with self.sessions() as db:
            checkpoint(db)


# --- verification -----------------------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    checked: int
    first_bad: int | None = None
    problem: str = ""
    anchors: int = 0
    keyed: int = 0
    notes: list[str] = field(default_factory=list)


def verify(db: Session, batch: int = 5000) -> Verification:
    """Walk the chain from the start; the first event whose hash or link is wrong is named. Then the head
    and the checkpoints: a checkpoint past the last event, or naming a different hash, means the tail was
    cut or rewritten."""
    keys = keys_of(db)
    anchors = read_checkpoints(checkpoint_file(db))
    failed = _check_anchor_lines(keys, anchors)
    if failed:
        return failed
    walk = _Walk(wanted={line["last_id"] for line in anchors})
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
            failed = walk.step(ev, keys)
            if failed:
                return failed
        last = events[-1].id
        db.expunge_all()
    head = db.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    db.rollback()
    return _check_tail(walk, head, anchors)


def _check_anchor_lines(keys: AuditKeys, anchors: list[dict]) -> Verification | None:
    """Every checkpoint line must be intact and signed with a known key."""
    for n, line in enumerate(anchors, 1):
        kid = line.get("key_id")
        if (
            "broken" in line
            or kid not in keys.keys
            or not hmac.compare_digest(str(line.get("mac", "")), _checkpoint_mac(keys, kid, line))
        ):
            return Verification(
                False, 0, None, f"checkpoint line {n} was altered or signed with an unknown key"
            )
    return None


@dataclass
class _Walk:
    """Where the walk along the chain stands: the last hash, the events checked and keyed so far, and the
    hashes of the events the checkpoints name."""

    wanted: set[int]
    prev: str = GENESIS
    checked: int = 0
    keyed: int = 0
    seen: dict[int, str] = field(default_factory=dict)

    def step(self, ev: AuditEvent, keys: AuditKeys) -> Verification | None:
        """Check the next event; the failure, or None (and the walk moves on)."""
        checked, expected_id = self.checked, self.checked + 1
        if ev.id != expected_id:
            return Verification(
                False,
                checked,
                expected_id,
                f"event {expected_id} is missing (deleted); the chain resumes at {ev.id}",
            )
        if ev.key_id is None and self.keyed:
            return Verification(
                False, checked, ev.id, f"event {ev.id} was edited (unkeyed after keyed events)"
            )
        try:
            own = event_hash(ev, keys)
        except KeyError:
            return Verification(
                False, checked, ev.id, f"event {ev.id} names an unknown audit key {ev.key_id!r}"
            )
        if ev.prev_hash != self.prev:
            if own == ev.hash and ev.id > 1:  # this one is intact: the one before was rewritten
                return Verification(
                    False,
                    checked - 1,
                    ev.id - 1,
                    f"event {ev.id - 1} was edited and re-hashed (event {ev.id} no longer links to it)",
                )
            return Verification(False, checked, ev.id, f"event {ev.id} was edited (its link does not match)")
        if own != ev.hash:
            return Verification(False, checked, ev.id, f"event {ev.id} was edited (its hash does not match)")
        if ev.id in self.wanted:
            self.seen[ev.id] = ev.hash
        self.keyed += ev.key_id is not None
        self.prev, self.checked = ev.hash, checked + 1
        return None


def _check_tail(walk: _Walk, head: AuditHead, anchors: list[dict]) -> Verification:
    """The head and the checkpoints against the walked chain: a cut or rewritten tail shows here."""
    checked = walk.checked
    if head.last_id != checked or head.hash != walk.prev:
        return Verification(
            False,
            checked,
            checked + 1,
            f"events after {checked} are missing (the chain's head is event {head.last_id})",
        )
    for line in anchors:
        at, last_id = line["at"], line["last_id"]
        if last_id > checked:
            return Verification(
                False,
                checked,
                checked + 1,
                f"events after {checked} are missing: the checkpoint of {at} anchored event {last_id}",
            )
        if walk.seen.get(last_id) != line["hash"]:
            return Verification(
                False,
                checked,
                last_id,
                f"event {last_id} is not the one the checkpoint of {at} anchored (the chain was rewritten "
                "up to it)",
            )
    if checked and not walk.keyed and not anchors:
        # Nothing outside the database vouches for a chain of plain SHA-256 hashes: anyone who can write the
        # database could have rewritten every event without a key.
        return Verification(
            False,
            checked,
            None,
            "no event is keyed and there is no checkpoint: the chain cannot be told from one rewritten "
            "without the key (on a database you trust, `atauly audit checkpoint` anchors it)",
        )
    notes = [] if anchors else ["no checkpoint yet: truncation of the tail cannot be detected"]
    return Verification(True, checked, anchors=len(anchors), keyed=walk.keyed, notes=notes)
