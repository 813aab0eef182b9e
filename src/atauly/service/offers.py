"""Offers of assistance with consent, from the proactive scan to an application (issue 6).

1. :func:`load_scan` puts a scan's candidate lists and district figures into the service database.
2. :func:`create_offers` queues one offer per candidate family and quarter — Kazakh and Russian texts that
   say how to agree or refuse by reply, as eGov's proactive services do. The unique (quarter, family)
   constraint makes a rerun of the scan offer nothing twice.
3. :func:`send_queued` hands queued offers to a gateway (:class:`FileGateway` by default, or
   :class:`HttpGateway`). Each message carries the offer's code as its idempotency key, so a send that is
   retried after a crash is delivered once.
4. :func:`reply` records the family's answer; consent creates an application in the casework queue from
   the family's recorded data, through the same intake as any other application.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DB

from atauly.i18n import N_, Translator
from atauly.registry.iin import mask_iin

from . import audit
from .casework import ServiceError
from .intake import submit
from .models import Offer, ScanCandidate, ScanSummary, User
from .schemas import ApplicationIn
from .seed import registry_payloads, shift_to

OFFER_TEXT = N_(
    "Atauly: according to state databases your family may be entitled to targeted social assistance "
    "(ASP). To apply without visiting the akimat, reply «1 {code}». To refuse, reply «0 {code}». "
    "Replying is free and does not oblige you to anything."
)
AGREE = {"1", "yes", "да", "иә", "ия", "agree"}
REFUSE = {"0", "no", "нет", "жоқ", "refuse"}
#: Code letters without look-alikes (no 0/O, 1/I/L) so that a code typed from an SMS is read back right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GATEWAY_USER = "offers-gateway"


# --- gateways ------------------------------------------------------------------------------------


@dataclass
class Message:
    key: str  # the offer's code: the gateway's idempotency key
    recipient_iin: str  # the gateway finds the phone registered to this IIN (eGov mobile database)
    text_kk: str
    text_ru: str


class Gateway(Protocol):
    def send(self, message: Message) -> str:
        """Deliver one message (at most once per key); returns the gateway's reference."""


class FileGateway:
    """Writes each message as a JSON line to ``outbox/offers-YYYY-MM-DD.jsonl`` (the default: for pilots and
    tests; a real SMS gateway reads the same fields). IINs are masked in the file: this gateway never
    delivers, so it has no need of the number."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._keys: set[str] | None = None  # read once, then kept up to date by send()

    def _sent_keys(self) -> set[str]:
        if self._keys is not None:
            return self._keys
        keys = set()
        for path in self.directory.glob("offers-*.jsonl"):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    keys.add(json.loads(line)["key"])
        self._keys = keys
        return keys

    def send(self, message: Message) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        if message.key in self._sent_keys():
            return f"file:{message.key}"
        path = self.directory / f"offers-{date.today().isoformat()}.jsonl"
        record = {
            "key": message.key,
            "recipient": mask_iin(message.recipient_iin),
            "text_kk": message.text_kk,
            "text_ru": message.text_ru,
        }
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
        self._sent_keys().add(message.key)
        return f"file:{message.key}"


class HttpGateway:
    """POSTs each message as JSON to an SMS provider's endpoint with an ``Idempotency-Key`` header; the
    provider answers 2xx with ``{"id": ...}``. Errors raise, leaving the offer queued for the next run."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, message: Message) -> str:
        import httpx

        headers = {"Idempotency-Key": message.key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {
            "recipient_iin": message.recipient_iin,
            "text_kk": message.text_kk,
            "text_ru": message.text_ru,
        }
        r = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
        r.raise_for_status()
        return str(r.json().get("id", message.key))


# --- the scan into the database ------------------------------------------------------------------


def load_scan(db: DB, scan_dir: Path | str) -> tuple[str, int]:
    """Replace the quarter's candidate lists and district figures with this scan's. Returns
    (quarter, candidates). The reasons' codes and figures are stored when the scan has them (issue 15), so
    that the offers' page words them in the reader's language."""
    from atauly.screening import read_candidates

    scan_dir = Path(scan_dir)
    meta_path = scan_dir / "scan.json"
    if not meta_path.exists():
        raise ServiceError(422, f"--scan: {scan_dir} has no scan.json (run `atauly screen` first)")
    meta = json.loads(meta_path.read_text())
    quarter = meta["quarter"]
    cand = read_candidates(scan_dir)
    summary = _read_summary(scan_dir)
    min_probability = meta.get("offers", {}).get("min_probability") if "offer_code" in cand else None
    now = audit.utcnow()
    db.execute(delete(ScanCandidate).where(ScanCandidate.quarter == quarter))
    db.execute(delete(ScanSummary).where(ScanSummary.quarter == quarter))
    db.add_all(
        ScanCandidate(
            quarter=quarter,
            family_id=str(r.family_id),
            district_kato=str(r.district),
            region_kato=str(r.region),
            rank=int(r.rank),
            eligible_by_law=bool(r.eligible_by_law),
            probability=None if pd.isna(r.probability) else float(r.probability),
            wellbeing_level=str(r.wellbeing_level),
            reason=str(r.reason),
            monthly_amount=float(r.monthly_amount),
            offered=_optional(r, "offered", bool),
            probability_entitled=_optional(r, "probability_entitled", float),
            offer_reason=_optional(r, "offer_reason", str),
            reason_code=_code(r, "reason_code"),
            refusal_reason=_code(r, "refusal_reason"),
            offer_code=_code(r, "offer_code"),
            need_gap=_optional(r, "need_gap", float),
            capacity=_optional(r, "capacity", int),
            visit_entitled_quarter=_code(r, "visit_entitled_quarter"),
            min_probability=min_probability,
            loaded_at=now,
        )
        for r in cand.itertuples(index=False)
    )
    db.add_all(
        ScanSummary(
            quarter=quarter,
            region_kato=str(r.region),
            district_kato=str(r.district),
            families=int(r.families),
            entitled_by_law=int(r.entitled_by_law),
            receiving=int(r.receiving),
            applied=int(r.applied),
            candidates=int(r.candidates),
            candidates_monthly_amount=float(r.candidates_monthly_amount),
        )
        for r in summary.itertuples(index=False)
    )
    audit.append(
        db,
        "scan.load",
        actor="cli",
        role="admin",
        object_type="scan",
        object_id=quarter,
        detail={"candidates": len(cand), "districts": len(summary), "model": meta.get("model")},
    )
    db.commit()
    return quarter, len(cand)


def _optional(row, column: str, kind):
    """A column of issue 15's offers (absent in earlier scans, NaN where not computed) as ``kind`` or None."""
    value = getattr(row, column, None)
    return None if value is None or pd.isna(value) else kind(value)


def _code(row, column: str) -> str | None:
    """A code column of the scan (absent in earlier scans; "" where it names nothing) as text or None."""
    value = _optional(row, column, str)
    return value or None


def _read_summary(scan_dir: Path) -> pd.DataFrame:
    from atauly.registry.io import read_parquet
    from atauly.screening.columns import DISTRICT_SUMMARY_COLUMNS

    parts = sorted((scan_dir / "summary").glob("*.parquet"))
    if not parts:
        return pd.DataFrame(columns=DISTRICT_SUMMARY_COLUMNS)
    return pd.concat([read_parquet(p) for p in parts], ignore_index=True)


# --- offers --------------------------------------------------------------------------------------


def new_code(db: DB) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if db.execute(select(Offer.id).where(Offer.code == code)).first() is None:
            return code


def offer_texts(code: str) -> tuple[str, str]:
    return Translator("kk")(OFFER_TEXT, code=code), Translator("ru")(OFFER_TEXT, code=code)


def create_offers(
    db: DB, scan_dir: Path | str, per_district: int | None = None, districts: list[str] | None = None
) -> int:
    """Queue an offer for each candidate of the scan's quarter not offered yet (the ``per_district``
    best-ranked of each district when given). A scan with capacity-aware offers (issue 15) offers only
    its ``offered`` candidates (within the district's capacity and above the minimum probability);
    ``per_district`` can only lower that. Returns how many offers were created now."""
    from atauly.screening.partition import read_partition

    scan_dir = Path(scan_dir)
    meta = json.loads((scan_dir / "scan.json").read_text())
    quarter, registry = meta["quarter"], Path(meta["registry"])
    q = select(ScanCandidate).where(ScanCandidate.quarter == quarter)
    if districts:
        q = q.where(ScanCandidate.district_kato.in_(districts))
    candidates = pd.DataFrame(
        [(c.family_id, c.district_kato, c.region_kato, c.rank, c.offered) for c in db.execute(q).scalars()],
        columns=["family_id", "district", "region", "rank", "offered"],
    )
    if candidates["offered"].notna().any():  # a scan with offers within capacity: only those
        candidates = candidates[candidates["offered"].fillna(False).astype(bool)]
    if per_district is not None:
        candidates = candidates[candidates["rank"] <= per_district]
    done = set(db.execute(select(Offer.family_id).where(Offer.quarter == quarter)).scalars())
    candidates = candidates[~candidates["family_id"].isin(done)]
    created = 0
    for region, group in candidates.groupby("region", sort=True):
        reg, _ = read_partition(registry, f"part-{region}")
        rows = reg.families.reset_index(drop=True)
        position = pd.Series(range(len(rows)), index=rows["family_id"].astype(str))
        found = group[group["family_id"].isin(position.index)]
        snapshots = registry_payloads(reg, position[found["family_id"]].to_numpy())
        for c, snap in zip(found.itertuples(index=False), snapshots, strict=True):
            applicant = next((p for p in snap["persons"] if p.get("role") == "applicant"), None)
            if applicant is None:
                continue
            code = new_code(db)
            text_kk, text_ru = offer_texts(code)
            db.add(
                Offer(
                    quarter=quarter,
                    family_id=c.family_id,
                    district_kato=c.district,
                    region_kato=c.region,
                    rank=int(c.rank),
                    code=code,
                    recipient_iin=applicant["iin"],
                    snapshot=snap,
                    text_kk=text_kk,
                    text_ru=text_ru,
                    status="queued",
                    created_at=audit.utcnow(),
                )
            )
            try:
                db.flush()
            except IntegrityError:  # offered meanwhile by another run
                db.rollback()
                continue
            audit.append(
                db,
                "offer.create",
                actor="cli",
                role="admin",
                object_type="offer",
                object_id=code,
                region_kato=c.region,
                detail={"quarter": quarter, "rank": int(c.rank)},
            )
            db.commit()
            created += 1
    return created


def send_queued(db: DB, gateway: Gateway, limit: int | None = None) -> int:
    """Send queued offers, each committed as sent right after the gateway accepts it."""
    q = select(Offer).where(Offer.status == "queued").order_by(Offer.id)
    if limit:
        q = q.limit(limit)
    sent = 0
    for offer in list(db.execute(q).scalars()):
        ref = gateway.send(Message(offer.code, offer.recipient_iin, offer.text_kk, offer.text_ru))
        offer.status, offer.sent_at, offer.gateway_ref = "sent", audit.utcnow(), ref
        audit.append(
            db,
            "offer.send",
            actor="cli",
            role="admin",
            object_type="offer",
            object_id=offer.code,
            region_kato=offer.region_kato,
        )
        db.commit()
        sent += 1
    return sent


def gateway_user(db: DB) -> User:
    """The account that submits applications on a family's consent (cannot log in)."""
    user = db.execute(select(User).where(User.username == GATEWAY_USER)).scalar_one_or_none()
    if user is None:
        db.add(
            User(
                username=GATEWAY_USER,
                password_hash="!",
                role="admin",
                active=False,
                created_at=audit.utcnow(),
            )
        )
        try:
            db.commit()
        except IntegrityError:  # created meanwhile by a concurrent reply
            db.rollback()
        user = db.execute(select(User).where(User.username == GATEWAY_USER)).scalar_one()
    return user


def parse_reply(text: str) -> tuple[str, str]:
    """``"1 K7M2QX"`` → (``agree``, ``K7M2QX``). Raises ServiceError naming what is wrong."""
    parts = text.strip().split()
    if len(parts) != 2:
        raise ServiceError(422, "reply: expected an answer and a code, e.g. «1 K7M2QX»")
    word, code = parts[0].lower(), parts[1].upper()
    if word in AGREE:
        return "agree", code
    if word in REFUSE:
        return "refuse", code
    raise ServiceError(422, f"reply: unknown answer {parts[0]!r} (1 to agree, 0 to refuse)")


def reply(db: DB, engine, code: str, answer: str, today: date | None = None) -> Offer:
    """Record a family's answer. Consent creates the application (once, whatever the repeats)."""
    if answer not in ("agree", "refuse"):
        raise ServiceError(422, "answer: agree or refuse")
    offer = db.execute(select(Offer).where(Offer.code == code.upper())).scalar_one_or_none()
    if offer is None:
        raise ServiceError(404, f"code: no offer with code {code!r}")
    if offer.status in ("agreed", "refused"):
        if offer.status != ("agreed" if answer == "agree" else "refused"):
            raise ServiceError(409, f"code: this offer was already answered ({offer.status})")
        return offer
    if answer == "refuse":
        offer.status, offer.replied_at = "refused", audit.utcnow()
        audit.append(
            db,
            "offer.reply",
            actor=GATEWAY_USER,
            role="system",
            object_type="offer",
            object_id=offer.code,
            region_kato=offer.region_kato,
            detail={"answer": "refuse"},
        )
        db.commit()
        return offer
    today = today or date.today()
    snap = offer.snapshot
    # The recorded incomes are those of the quarter before the scanned one; the application is made on the
    # day of consent, so they move with it, whole quarters at a time (the officer verifies them).
    year, q = int(offer.quarter[:4]), int(offer.quarter[-1])
    scanned = {**snap, "family": {**snap["family"], "application_date": date(year, 3 * q - 2, 1).isoformat()}}
    payload = ApplicationIn.model_validate(
        {**shift_to(scanned, today), "idempotency_key": f"offer:{offer.code}"}
    )
    offer_id = offer.id
    intake = submit(db, engine, gateway_user(db), payload, source="offer", today=today)
    offer = db.get(Offer, offer_id)
    offer.status, offer.replied_at, offer.application_id = "agreed", audit.utcnow(), intake.application.id
    audit.append(
        db,
        "offer.reply",
        actor=GATEWAY_USER,
        role="system",
        object_type="offer",
        object_id=offer.code,
        region_kato=offer.region_kato,
        detail={"answer": "agree", "application": intake.application.id},
    )
    db.commit()
    return offer
