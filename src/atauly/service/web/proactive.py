"""The offers of the proactive search (issue 15): the families the scan offered a visit in the user's
district (an officer) or in a district of their scope (a supervisor, an admin, an analyst), each with why it
was chosen — the scan's reason worded in the page's language (:mod:`atauly.screening.wording`) — its
population-calibrated probability, and what became of the offer.

Identities stay masked in the list: the family's registry number and the applicant's IIN as its length only
(:func:`atauly.service.display.masked_iin`); an analyst (aggregates only) sees neither, nor the link to the
application. Each read is audited with the district and the rows shown, as the queue's is.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from sqlalchemy import and_, or_, select

from atauly.i18n import N_
from atauly.screening.wording import offer_reason_text, reason_text

from .. import audit, casework
from ..display import masked_iin
from ..models import Application, Offer, ScanCandidate
from ..security import sees_personal_data
from .kit import Page, SignedIn, district_label, render, scope_districts

router = APIRouter(include_in_schema=False)

#: The most rows one page lists (the best-ranked first).
OFFERS_PAGE = 200
#: A sent offer without an answer after this long is shown as "no reply".
NO_REPLY_AFTER = timedelta(days=30)
#: The offer's state, in words.
OFFER_STATES = {
    "pending": N_("Not queued yet"),
    "queued": N_("Queued"),
    "sent": N_("Sent"),
    "agreed": N_("Agreed"),
    "refused": N_("Refused"),
    "no_reply": N_("No reply"),
}
#: The population-calibrated probability in words, by its lower bound (the first that it reaches).
LIKELIHOOD = (
    (0.75, N_("very likely entitled")),
    (0.5, N_("likely entitled")),
    (0.0, N_("uncertain")),
)
NO_REASON = N_("Not recorded in this language (a scan loaded before the reasons' codes)")
#: Blind mode: what the list says instead of the scan's verdict on an application not yet assessed.
HIDDEN = N_("Shown after your own assessment of the application (independent assessment mode)")


def _scope(q, user):
    if user.role == "officer":
        return q.where(ScanCandidate.district_kato == user.district_kato)
    if user.role == "supervisor":
        return q.where(ScanCandidate.region_kato == user.region_kato)
    return q  # an admin, an analyst: the whole country


def _quarters(page: Page) -> list[str]:
    q = _scope(select(ScanCandidate.quarter).distinct(), page.user)
    return sorted(page.db.execute(q).scalars(), reverse=True)


def _state(offer: Offer | None) -> str:
    if offer is None:
        return "pending"
    if offer.status == "sent" and offer.sent_at and audit.utcnow() - offer.sent_at > NO_REPLY_AFTER:
        return "no_reply"
    return offer.status


def _likelihood(p: float | None) -> str | None:
    if p is None:
        return None
    return next(words for bound, words in LIKELIHOOD if p >= bound)


def why_offered(c: ScanCandidate, lang: str) -> tuple[str, str]:
    """The scan's reason and its offer's reason in ``lang``: worded from the codes, or, for a candidate
    loaded without them, the stored English on an English page and "" on another."""
    if c.reason_code:
        return reason_text(c, lang), offer_reason_text(c, lang, c.min_probability or 0.5)
    if lang == "en":
        return c.reason or "", c.offer_reason or ""
    return "", ""


def _blind(page: Page, found: list[tuple[ScanCandidate, Offer | None]]) -> set[int]:
    """The applications among ``found`` whose recommendation blind mode still hides from this officer: the
    scan's reason and probability say what the law and the model would, so the list hides them as the case
    page does (``recommendation_hidden``, which does not mark anything as shown)."""
    ids = [o.application_id for _c, o in found if o is not None and o.application_id is not None]
    if page.user.role != "officer" or not ids:
        return set()
    apps = page.db.scalars(select(Application).where(Application.id.in_(ids))).all()
    return {a.id for a in apps if casework.recommendation_hidden(page.db, page.user, a)}


def _rows(page: Page, found: list[tuple[ScanCandidate, Offer | None]]) -> list[dict]:
    personal = sees_personal_data(page.user)
    blind = _blind(page, found)
    rows = []
    for c, offer in found:
        hidden = offer is not None and offer.application_id in blind
        reason, offer_reason = ("", "") if hidden else why_offered(c, page.lang)
        state = _state(offer)
        rows.append(
            {
                "family_id": c.family_id if personal else None,
                "iin": masked_iin(offer.recipient_iin, page.t) if personal and offer is not None else None,
                "district": district_label(c.district_kato, page.lang),
                "rank": c.rank,
                "probability": None if hidden else c.probability_entitled,
                "likelihood": None if hidden else _likelihood(c.probability_entitled),
                "hidden": hidden,
                "reason": page.tr(HIDDEN) if hidden else (reason or page.tr(NO_REASON)),
                "offer_reason": offer_reason,
                "coded": bool(reason),
                "state": state,
                "state_label": OFFER_STATES[state],
                "application": offer.application_id if personal and offer is not None else None,
            }
        )
    return rows


@router.get("/offers")
def offers_page(page: SignedIn, quarter: str | None = None, district: str | None = None):
    """The offers of the proactive search in the user's scope, the best-ranked first."""
    user, db = page.user, page.db
    if user.role == "officer":
        district = user.district_kato
    catalogue = casework.district_catalogue()
    if district not in catalogue or not (
        user.role in ("admin", "analyst") or casework.in_scope(user, district, catalogue[district])
    ):
        district = None
    quarters = _quarters(page)
    quarter = quarter if quarter in quarters else (quarters[0] if quarters else None)
    rows: list[dict] = []
    more = False
    if quarter is not None:
        q = (
            _scope(select(ScanCandidate, Offer), user)
            .outerjoin(
                Offer,
                and_(Offer.quarter == ScanCandidate.quarter, Offer.family_id == ScanCandidate.family_id),
            )
            .where(ScanCandidate.quarter == quarter)
            .where(or_(ScanCandidate.offered.is_(True), Offer.id.is_not(None)))
        )
        if district:
            q = q.where(ScanCandidate.district_kato == district)
        # Ranks are per district: with one district its order; across districts each district's first,
        # then their seconds… so a capped list shows the best-ranked families of every district.
        order = (
            (ScanCandidate.district_kato, ScanCandidate.rank)
            if district
            else (
                ScanCandidate.rank,
                ScanCandidate.district_kato,
            )
        )
        q = q.order_by(*order, ScanCandidate.id).limit(OFFERS_PAGE + 1)
        found = [(c, o) for c, o in db.execute(q).all()]
        more = len(found) > OFFERS_PAGE
        rows = _rows(page, found[:OFFERS_PAGE])
    casework.record(
        db,
        user,
        "offers.read",
        object_type="offers",
        object_id=district or user.district_kato or user.region_kato or "*",
        region_kato=user.region_kato,
        detail={"quarter": quarter, "district": district, "shown": len(rows)},
    )
    db.commit()
    counts = {state: sum(r["state"] == state for r in rows) for state in OFFER_STATES}
    return render(
        page,
        "offers.html",
        rows=rows,
        more=more,
        page_size=OFFERS_PAGE,
        quarter=quarter,
        quarters=quarters,
        district=district,
        districts=scope_districts(page),
        counts=[(OFFER_STATES[s], n) for s, n in counts.items() if n],
        personal=sees_personal_data(user),
    )
