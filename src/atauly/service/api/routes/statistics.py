"""``/statistics``: the casework's figures for the user's scope."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ... import statistics
from ...deps import DBDep, UserDep
from ..common import ERRORS, released

router = APIRouter(tags=["statistics"])


@router.get("/statistics", responses=ERRORS)
def get_statistics(
    request: Request, db: DBDep, user: UserDep, region: str | None = None, district: str | None = None
) -> dict:
    """Agreement, overrides, processing time, approvals and amounts, by district, region and model.
    For analysts, counts from 1 to 9 show as ``"<10"`` and the rates of such small groups are null."""
    min_cell = request.app.state.settings.statistics_min_cell
    read = request.app.state.read_sessions()
    out = statistics.compute(db, user, region=region, district=district, min_cell=min_cell, read=read)
    return released(db, out)
