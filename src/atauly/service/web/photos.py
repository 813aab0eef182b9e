"""The photos of an application: the phone-friendly upload form (``<input type=file accept=image/*
capture>``, no app needed), the checks' flags in words, the redacted images, and the officer's questions
("declared: no vehicle — photo 2 may show a pickup truck (0.91)") with confirm and dismiss buttons.

Every read and write goes through :mod:`atauly.service.photos` (scope, audit, all-or-nothing intake)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from atauly.i18n import N_

from .. import photos as service_photos
from ..casework import ServiceError
from .kit import FLASH, Page, Posted, SignedIn, finish, redirect, render

router = APIRouter(include_in_schema=False)
FLASH.setdefault(
    "photos_added", N_("The photos are checked and attached. Faces are blurred in what anyone sees.")
)


def _view(page: Page, app_id: int, status: int = 200, problems: list[dict] | None = None):
    from atauly.vision.check import flag_text
    from atauly.vision.inventory import label_text

    app, photos = service_photos.photos_of(page.db, page.user, app_id)
    items = [
        {
            "number": n,
            "id": p.id,
            "file": p.file_name,
            "kind": p.kind,
            "frame_time": p.frame_time,
            "flags": [flag_text(f, page.lang) for f in p.flags or []],
            "duplicate_of": p.duplicate_of,
            "findings": [
                {
                    "id": f.id,
                    "asset": f.asset,
                    "label": label_text(f.label, page.lang),
                    "confidence": f.confidence,
                    "status": f.status,
                }
                for f in p.findings
            ],
        }
        for n, p in enumerate(photos, start=1)
    ]
    questions = service_photos.questions(app, photos, page.lang)
    return render(
        page,
        "photos.html",
        status,
        canonical=f"/applications/{app_id}/photos",
        app_id=app_id,
        family_id=app.family_id,
        photos=items,
        questions=questions,
        problems=problems or [],
    )


@router.get("/applications/{app_id}/photos")
def photos_page(app_id: int, page: SignedIn):
    return _view(page, app_id)


@router.post(
    "/applications/{app_id}/photos",
    max_body_size=service_photos.MAX_REQUEST_BYTES,
    form_limits={"max_files": service_photos.MAX_REQUEST_FILES},
)
def photos_upload(app_id: int, page: Posted, files: Annotated[list[UploadFile], File()] = None):  # noqa: B006
    # the files are read by the service, after the count is checked, each at most to its type's limit
    payload = [(f.filename or "upload", f.file) for f in (files or []) if f.filename]
    try:
        made = service_photos.attach(page.db, page.user, app_id, payload, page.lang)
    except ServiceError as exc:
        if exc.status == 403 or exc.status == 404:
            raise
        # the refusal's own words (a refused file, too many photos…); "choose a photo" only for an empty batch
        if exc.problems:
            problems = exc.problems
        else:
            problems = [{"file": "", "message": page.tr(exc.message)}]
        return _view(page, app_id, exc.status, problems)
    return redirect(page, f"/applications/{app_id}/photos", "photos_added" if made else None)


@router.post("/applications/{app_id}/photos/findings/{finding_id}")
def finding_submit(app_id: int, finding_id: int, page: Posted, decision: Annotated[str, Form()] = ""):
    if decision not in ("confirm", "dismiss"):
        raise ServiceError(422, "decision: confirm or dismiss")
    try:
        service_photos.decide_finding(
            page.db,
            page.user,
            finding_id,
            decision == "confirm",
            app_id=app_id,
            engine=page.request.app.state.engine,
        )
    except ServiceError as exc:
        if exc.status != 409:
            raise
        return _view(page, app_id, 409, [{"file": "", "message": page.tr(exc.message)}])
    return redirect(page, f"/applications/{app_id}/photos")


@router.get("/applications/{app_id}/photos/{photo_id}/image")
def photo_image(app_id: int, photo_id: int, page: SignedIn):
    data = service_photos.image(page.db, page.user, app_id, photo_id)
    return finish(page, Response(data, media_type="image/jpeg"))
