"""The offers of the proactive search (issue 15): the families the scan offered a visit in the user's
district (an officer) or in a district of their scope (a supervisor, an admin, an analyst), each with why it
was chosen — the scan's reason worded in the page's language (:mod:`atauly.screening.wording`) — its
population-calibrated probability, and what became of the offer.

Identities stay masked in the list: the family's registry number and the applicant's IIN as its length only
(:func:`atauly.service.display.masked_iin`); an analyst (aggregates only) sees neither, nor the link to the
application. Each read is audited with the district and the rows shown, as the queue's is.
"""

from __future__ import annotations

from fastapi import APIRouter

from atauly.i18n import N_

from .. import casework, offers_read
from ..display import masked_iin
from ..models import Offer, ScanCandidate
from ..offers_read import NO_REPLY_AFTER, why_offered  # noqa: F401  (why_offered: the case page's)
from ..security import sees_personal_data
from .kit import Page, SignedIn, district_label, render, scope_districts

router = APIRouter(include_in_schema=False)

#: The most rows one page lists (the best-ranked first).
OFFERS_PAGE = 200
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


def _quarters(page: Page) -> list[str]:
    return offers_read.quarters(page.db, page.user)


def _state(offer: Offer | None) -> str:
    return offers_read.offer_state(offer)


def _likelihood(p: float | None) -> str | None:
    if p is None:
        return None
    return next(words for bound, words in LIKELIHOOD if p >= bound)


def _blind(page: Page, found: list[tuple[ScanCandidate, Offer | None]]) -> set[int]:
    """The applications among ``found`` whose recommendation blind mode still hides from this officer: the
    scan's reason and probability say what the law and the model would, so the list hides them as the case
    page does (``recommendation_hidden``, which does not mark anything as shown)."""
    return offers_read.blind_applications(page.db, page.user, found)


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
        found = offers_read.offered(db, user, quarter, district, OFFERS_PAGE + 1)
        more = len(found) > OFFERS_PAGE
        rows = _rows(page, found[:OFFERS_PAGE])
    offers_read.record_read(db, user, quarter, district, len(rows))
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
