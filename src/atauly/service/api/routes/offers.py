"""``/offers``: the proactive search's offers in the user's scope (what the offers page lists), and the SMS
gateway's webhook for families' replies to them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ... import casework, offers_read
from ...deps import DBDep, EngineDep, UserDep
from ...offers import parse_reply, reply
from ...security import sees_personal_data
from ..common import ERRORS, released

router = APIRouter(tags=["offers"])


class ReplyIn(BaseModel):
    text: str = Field(
        min_length=1, max_length=160, description="The family's reply as received: «1 CODE» or «0 CODE»."
    )


class OfferOut(BaseModel):
    code: str
    status: str
    application_id: int | None


@router.post("/offers/replies", response_model=OfferOut, responses=ERRORS)
def post_offer_reply(body: ReplyIn, db: DBDep, engine: EngineDep, user: UserDep) -> OfferOut:
    """The SMS gateway's webhook (an admin account): a family's reply to an offer. Consent creates the
    application; repeats change nothing."""
    if user.role != "admin":
        raise casework.deny(db, user, "offer.reply", 403, "only the gateway's (admin) account posts replies")
    answer, code = parse_reply(body.text)
    offer = reply(db, engine, code, answer)
    return released(db, OfferOut(code=offer.code, status=offer.status, application_id=offer.application_id))


class OfferItem(BaseModel):
    quarter: str
    family_id: str | None = Field(description="The registry's family number; null for an analyst.")
    district_kato: str
    region_kato: str
    rank: int = Field(description="The family's rank in its district (1: the first to visit).")
    probability_entitled: float | None = Field(
        description="The population-calibrated probability that the family is truly entitled; null when the "
        "scan's model was not calibrated on the population, and in blind mode (see hidden)."
    )
    hidden: bool = Field(
        description="Blind mode: the family applied and you have not yet recorded your assessment of the "
        "application; the scan's reasons and probability, which say what the law and the model would, are "
        "null until you have (as the application's recommendation is)."
    )
    reason: str | None = Field(
        description="Why the scan chose the family, in the language asked for; null when hidden, and for a "
        "scan loaded without the reasons' codes in another language than English."
    )
    offer_reason: str | None = Field(description="Why the offer was made (capacity, probability); as reason.")
    state: Literal[offers_read.STATES] = Field(  # type: ignore[valid-type]
        description="pending (not queued yet), queued, sent, agreed, refused, or no_reply (sent over 30 "
        "days ago without an answer)."
    )
    application_id: int | None = Field(
        description="The application made when the family agreed; null before, and for an analyst."
    )


@router.get("/offers", response_model=list[OfferItem], responses=ERRORS)
def list_offers(
    db: DBDep,
    user: UserDep,
    quarter: Annotated[
        str | None, Query(pattern=r"^[0-9]{4}Q[1-4]$", description="Default: the latest scanned.")
    ] = None,
    district: Annotated[
        str | None, Query(pattern=r"^[0-9]{9}$", description="Within your scope; another names nothing.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    lang: Literal["ru", "kk", "en"] = "ru",
) -> list[OfferItem]:
    """The proactive search's offers in your scope, as the offers page lists them: an officer their
    district's, a supervisor their region's, an admin and an analyst the country's (an analyst without the
    family's number nor the application), the best-ranked first (across districts each district's first,
    then their seconds…), with why each family was chosen. In blind mode the reasons and probability of an
    application you have not yet assessed are null (``hidden``)."""
    scanned = offers_read.quarters(db, user)
    quarter = quarter or (scanned[0] if scanned else None)
    found = [] if quarter is None else offers_read.offered(db, user, quarter, district, limit, offset)
    blind = offers_read.blind_applications(db, user, found)
    personal = sees_personal_data(user)
    items = []
    for c, offer in found:
        hidden = offer is not None and offer.application_id in blind
        reason, offer_reason = ("", "") if hidden else offers_read.why_offered(c, lang)
        items.append(
            OfferItem(
                quarter=c.quarter,
                family_id=c.family_id if personal else None,
                district_kato=c.district_kato,
                region_kato=c.region_kato,
                rank=c.rank,
                probability_entitled=None if hidden else c.probability_entitled,
                hidden=hidden,
                reason=reason or None,
                offer_reason=offer_reason or None,
                state=offers_read.offer_state(offer),
                application_id=offer.application_id if personal and offer is not None else None,
            )
        )
    offers_read.record_read(db, user, quarter, district, len(items), offset=offset, api=True)
    db.commit()
    return released(db, items)
