"""Reading the proactive search's offers for a user (issue 15): what the offers page (``web/proactive.py``)
and the API (``GET /api/v1/offers``) both list, with the same scope, order and blind mode.

- Scope: an officer their district, a supervisor their region, an admin or an analyst the whole country; a
  district filter outside the scope names nothing.
- Rows: the quarter's candidates within their district's capacity (``offered``) or already offered; with one
  district in that district's rank order, across districts each district's first, then their seconds…
- Blind mode: for an application the officer has not yet assessed, the scan's reason and probability (which
  say what the law and the model would) are hidden, through :func:`casework.recommendation_hidden`, which
  records nothing as shown.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session as DB

from atauly.screening.wording import offer_reason_text, reason_text

from . import audit, casework
from .models import Application, Offer, ScanCandidate, User

#: A sent offer without an answer after this long is shown as "no reply".
NO_REPLY_AFTER = timedelta(days=30)
#: The offer's states, as the page and the API name them.
STATES = ("pending", "queued", "sent", "agreed", "refused", "no_reply")


def scoped(q, user: User):
    """``q`` (over :class:`ScanCandidate`) narrowed to the user's scope."""
    if user.role == "officer":
        return q.where(ScanCandidate.district_kato == user.district_kato)
    if user.role == "supervisor":
        return q.where(ScanCandidate.region_kato == user.region_kato)
    return q  # an admin, an analyst: the whole country


def quarters(db: DB, user: User) -> list[str]:
    """The scanned quarters in the user's scope, the latest first."""
    return sorted(db.execute(scoped(select(ScanCandidate.quarter).distinct(), user)).scalars(), reverse=True)


def offer_state(offer: Offer | None) -> str:
    if offer is None:
        return "pending"
    if offer.status == "sent" and offer.sent_at and audit.utcnow() - offer.sent_at > NO_REPLY_AFTER:
        return "no_reply"
    return offer.status


def why_offered(c: ScanCandidate, lang: str) -> tuple[str, str]:
    """The scan's reason and its offer's reason in ``lang``: worded from the codes, or, for a candidate
    loaded without them, the stored English on an English page and "" on another."""
    if c.reason_code:
        return reason_text(c, lang), offer_reason_text(c, lang, c.min_probability or 0.5)
    if lang == "en":
        return c.reason or "", c.offer_reason or ""
    return "", ""


def offered(
    db: DB, user: User, quarter: str, district: str | None, limit: int, offset: int = 0
) -> list[tuple[ScanCandidate, Offer | None]]:
    """The quarter's offered families in the user's scope (and ``district``), in the list's order: at most
    ``limit`` from ``offset``."""
    q = (
        scoped(select(ScanCandidate, Offer), user)
        .outerjoin(
            Offer, and_(Offer.quarter == ScanCandidate.quarter, Offer.family_id == ScanCandidate.family_id)
        )
        .where(ScanCandidate.quarter == quarter)
        .where(or_(ScanCandidate.offered.is_(True), Offer.id.is_not(None)))
    )
    if district:
        q = q.where(ScanCandidate.district_kato == district)
    # Ranks are per district: with one district its order; across districts each district's first, then
    # their seconds… so a capped list shows the best-ranked families of every district.
    order = (
        (ScanCandidate.district_kato, ScanCandidate.rank)
        if district
        else (ScanCandidate.rank, ScanCandidate.district_kato)
    )
    q = q.order_by(*order, ScanCandidate.id).offset(min(offset, casework.MAX_OFFSET)).limit(limit)
    return [(c, o) for c, o in db.execute(q).all()]


def blind_applications(db: DB, user: User, found: list[tuple[ScanCandidate, Offer | None]]) -> set[int]:
    """The applications among ``found`` whose recommendation blind mode still hides from this officer
    (``recommendation_hidden``, which marks nothing as shown)."""
    ids = [o.application_id for _c, o in found if o is not None and o.application_id is not None]
    if user.role != "officer" or not ids:
        return set()
    apps = db.scalars(select(Application).where(Application.id.in_(ids))).all()
    return {a.id for a in apps if casework.recommendation_hidden(db, user, a)}


def record_read(db: DB, user: User, quarter: str | None, district: str | None, shown: int, **detail) -> None:
    """Audit one read of the offers list (the page's or the API's: ``detail`` adds what differs)."""
    casework.record(
        db,
        user,
        "offers.read",
        object_type="offers",
        object_id=district or user.district_kato or user.region_kato or "*",
        region_kato=user.region_kato,
        detail={"quarter": quarter, "district": district, "shown": shown, **detail},
    )
