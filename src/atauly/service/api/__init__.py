"""The JSON API under /api/v1 (OAuth2 password flow → bearer token): one router per resource in
:mod:`.routes`, assembled here in the order the OpenAPI document lists them."""

from __future__ import annotations

from fastapi import APIRouter

from .routes import applications, auth, offers, photos, plans, screening, statistics

router = APIRouter(prefix="/api/v1")
for _module in (auth, applications, photos, statistics, offers, screening, plans):
    router.include_router(_module.router)

__all__ = ["router"]
