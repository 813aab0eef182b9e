"""The safeguards against automation bias: blind mode and the model switch per district, and the model
switched off for a whole region."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from sqlalchemy import select

from atauly.registry import codes

from .. import casework
from ..casework import ServiceError, deny
from ..models import Application, DistrictSetting
from .kit import Page, Posted, SignedIn, district_label, redirect, render, usernames

router = APIRouter(include_in_schema=False)


def _settings_region(page: Page, region: str) -> str:
    user = page.user
    if user.role == "supervisor":
        return user.region_kato
    if region in codes.REGION_BY_KATO:
        return region
    latest = page.db.execute(
        select(Application.region_kato).order_by(Application.id.desc()).limit(1)
    ).scalar_one_or_none()
    return latest or codes.REGIONS[0].kato


def _may_change_settings(page: Page) -> None:
    if page.user.role not in ("supervisor", "admin"):
        raise deny(
            page.db,
            page.user,
            "settings.read",
            403,
            "only supervisors and administrators change the safeguards",
            object_type="settings",
            object_id=page.user.district_kato or "*",
            region_kato=page.user.region_kato,
        )


def _districts_of(region: str) -> list[str]:
    return [d for d, r in casework.district_catalogue().items() if r == region]


@router.get("/settings")
def settings_page(page: SignedIn, region: str = ""):
    _may_change_settings(page)
    region = _settings_region(page, region)
    katos = _districts_of(region)
    stored = {
        s.district_kato: s
        for s in page.db.execute(
            select(DistrictSetting).where(DistrictSetting.district_kato.in_(katos))
        ).scalars()
    }
    names = usernames(page.db, {s.updated_by for s in stored.values() if s.updated_by})
    rows = []
    for d in katos:
        s = stored.get(d)
        rows.append(
            {
                "kato": d,
                "name": district_label(d, page.lang),
                "blind": bool(s and s.blind_mode),
                "model": not s or s.model_enabled,
                "updated_at": s.updated_at if s else None,
                "updated_by": names.get(s.updated_by, "") if s else "",
            }
        )
    return render(
        page,
        "settings.html",
        region=region,
        region_name=codes.region_name(region, page.lang),
        regions=[(r.kato, codes.region_name(r.kato, page.lang)) for r in codes.REGIONS]
        if page.user.role == "admin"
        else [],
        rows=rows,
        model_available=page.request.app.state.engine.recommender is not None,
    )


@router.post("/settings")
def settings_submit(
    page: Posted,
    region: Annotated[str, Form()] = "",
    district: Annotated[list[str] | None, Form()] = None,
    blind: Annotated[list[str] | None, Form()] = None,
    model: Annotated[list[str] | None, Form()] = None,
):
    _may_change_settings(page)
    shown = list(dict.fromkeys(district or []))
    blind_on, model_on = set(blind or []), set(model or [])
    current = {
        s.district_kato: (s.blind_mode, s.model_enabled)
        for s in page.db.execute(
            select(DistrictSetting).where(DistrictSetting.district_kato.in_(shown))
        ).scalars()
    }
    page.db.rollback()
    # Only the districts whose settings change are written (each with its audit event), grouped by the new
    # values; the form shows only districts in the user's scope, and the core refuses (and audits) others.
    changes: dict[tuple[bool, bool], list[str]] = {}
    for d in shown:
        wanted = (d in blind_on, d in model_on)
        if current.get(d, (False, True)) != wanted:
            changes.setdefault(wanted, []).append(d)
    for (blind_mode, model_enabled), districts in changes.items():
        casework.set_district_settings(
            page.db, page.user, districts, blind_mode=blind_mode, model_enabled=model_enabled
        )
    return redirect(
        page, ("/settings?" + urlencode({"region": region})) if region else "/settings", "settings"
    )


@router.post("/settings/region-model")
def region_model_submit(
    page: Posted,
    region: Annotated[str, Form()] = "",
    switch: Annotated[str, Form()] = "off",
):
    _may_change_settings(page)
    # The posted region is the one switched (a supervisor's own when none is posted); a region outside the
    # supervisor's scope is refused and audited by set_district_settings, never quietly replaced.
    region = region or (page.user.region_kato or "")
    if region not in codes.REGION_BY_KATO:
        raise ServiceError(422, f"region: unknown region {region!r}")
    casework.set_district_settings(page.db, page.user, _districts_of(region), model_enabled=switch == "on")
    return redirect(
        page, "/settings?" + urlencode({"region": region}), "model_on" if switch == "on" else "model_off"
    )
