"""``/screening``: the proactive scan's figures for the user's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...deps import DBDep, UserDep
from ..common import ERRORS, released

router = APIRouter(tags=["screening"])


@router.get("/screening", responses=ERRORS)
def get_screening(
    db: DBDep,
    user: UserDep,
    quarter: Annotated[str | None, Query(pattern=r"^[0-9]{4}Q[1-4]$")] = None,
    consent_rate: Annotated[float, Query(ge=0, le=1)] = 0.5,
) -> dict:
    """The proactive scan's figures for your scope: by region and district, entitled by law, receiving,
    applied, candidates, expected take-up, additional monthly budget, and offers sent, agreed, refused."""
    from ...dashboard import scan_dashboard  # the screening room (Dask) loads on first use

    return released(db, scan_dashboard(db, user, quarter, consent_rate))
