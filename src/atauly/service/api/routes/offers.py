"""``/offers``: the SMS gateway's webhook for families' replies to proactive offers."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ... import casework
from ...deps import DBDep, EngineDep, UserDep
from ...offers import parse_reply, reply
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
