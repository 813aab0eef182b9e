"""``/applications/{id}/photos`` and ``/applications/{id}/inspection-act``: photos and short videos of living conditions (Stage 2) — upload (checked,
faces blurred, originals encrypted), list with the checks' flags and the assets the photos may show, the
redacted image, and the officer's confirmation or dismissal of each finding."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ... import photos as service_photos
from ...casework import ServiceError
from ...deps import DBDep, EngineDep, UserDep
from ...models import Photo
from ..common import ERRORS, released

router = APIRouter(tags=["photos"])


class FindingOut(BaseModel):
    id: int
    asset: str
    confidence: float
    label: str  # the ImageNet class behind it, as the model names it
    status: str
    label_text: str = ""  # that class in the reader's language (a generic label for a class not curated)


def finding_out(f, lang: str = "ru") -> FindingOut:
    from atauly.vision.inventory import label_text

    return FindingOut(
        id=f.id,
        asset=f.asset,
        confidence=f.confidence,
        label=f.label,
        status=f.status,
        label_text=label_text(f.label, lang),
    )


class PhotoOut(BaseModel):
    id: int
    file_name: str
    sha256: str
    kind: str
    frame_time: float
    phash: str
    blurred: bool
    dark: bool
    screen_photo: bool
    faces: int
    exif_time: datetime | None
    gps_region: str | None
    duplicate_of: str | None
    flags: list[str]
    findings: list[FindingOut]


class PhotosOut(BaseModel):
    photos: list[PhotoOut]
    questions: list[str]  # "declared: no vehicle — photo 3 may show a pickup (0.91)"


class FindingIn(BaseModel):
    decision: Literal["confirm", "dismiss"]


def photo_out(p: Photo, lang: str = "ru") -> PhotoOut:
    from atauly.vision.check import flag_text

    return PhotoOut(
        id=p.id,
        file_name=p.file_name,
        sha256=p.sha256,
        kind=p.kind,
        frame_time=p.frame_time,
        phash=p.phash,
        blurred=p.blurred,
        dark=p.dark,
        screen_photo=p.screen_photo,
        faces=p.faces,
        exif_time=p.exif_time,
        gps_region=p.gps_region,
        duplicate_of=p.duplicate_of,
        flags=[flag_text(f, lang) for f in p.flags or []],  # in the reader's language
        findings=[finding_out(f, lang) for f in p.findings],
    )


@router.post(
    "/applications/{app_id}/photos",
    status_code=201,
    response_model=list[PhotoOut],
    responses={413: {}, 415: {}, **ERRORS},
    max_body_size=service_photos.MAX_REQUEST_BYTES,
    form_limits={"max_files": service_photos.MAX_REQUEST_FILES},
)
def upload_photos(
    app_id: int,
    db: DBDep,
    user: UserDep,
    files: Annotated[list[UploadFile], File(description="JPEG, PNG, HEIC or a short video")],
    lang: str = "ru",
):
    """Attach photos (or short videos: their keyframes are checked) to an application. All or nothing: a
    refused file (wrong type, too large, truncated, polyglot, decompression bomb) refuses the batch with a
    4xx naming it and its reason, and nothing is stored."""
    payload = [(f.filename or "upload", f.file) for f in files]  # read by the service, after its checks
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    made = service_photos.attach(db, user, app_id, payload, lang)
    return released(db, [photo_out(p, lang) for p in made])


@router.get("/applications/{app_id}/photos", response_model=PhotosOut, responses=ERRORS)
def list_photos(app_id: int, db: DBDep, user: UserDep, lang: str = "ru"):
    lang = lang if lang in ("ru", "kk", "en") else "ru"
    app, photos = service_photos.photos_of(db, user, app_id)
    out = PhotosOut(
        photos=[photo_out(p, lang) for p in photos], questions=service_photos.questions(app, photos, lang)
    )
    return released(db, out)


@router.get(
    "/applications/{app_id}/photos/{photo_id}/image",
    responses={200: {"content": {"image/jpeg": {}}}, **ERRORS},
)
def photo_image(app_id: int, photo_id: int, db: DBDep, user: UserDep):
    """The redacted photo (faces and people blurred, no metadata); every view is audited."""
    data = service_photos.image(db, user, app_id, photo_id)
    return released(db, Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"}))


@router.post("/photo-findings/{finding_id}", response_model=FindingOut, responses=ERRORS)
def decide_finding(
    finding_id: int, body: FindingIn, db: DBDep, engine: EngineDep, user: UserDep, lang: str = "ru"
):
    """Confirm (it becomes a fact of the case) or dismiss an asset a photo may show. When the confirmed
    facts change, the law and the model are computed again on them (the application's recommendation)."""
    if not 0 < finding_id < 2**31:
        raise ServiceError(404, f"finding {finding_id} not found")
    f = service_photos.decide_finding(db, user, finding_id, body.decision == "confirm", engine=engine)
    return released(db, finding_out(f, lang if lang in ("ru", "kk", "en") else "ru"))


# --- the home-inspection act ------------------------------------------------------------------------------


class Checklist(BaseModel):
    """The items officers fill in (акт обследования материально-бытовых условий)."""

    dwelling_type: Literal["house", "apartment", "yurt", "dormitory", "rented_room", "other"]
    dwelling_tenure: Literal["owned", "rented", "relatives", "public", "other"] | None = None
    wall_material: Literal["brick", "concrete", "wood", "adobe", "felt", "other"] | None = None
    roof_material: Literal["metal", "slate", "tile", "reed_or_straw", "felt", "other"] | None = None
    floor_material: Literal["finished", "wood", "earth", "other"] | None = None
    rooms: int | None = Field(default=None, ge=0, le=50)
    heating: Literal["central", "gas", "electric", "stove_coal", "stove_wood_or_dung", "none"] | None = None
    water: Literal["piped_inside", "piped_yard", "well", "delivered", "none"] | None = None
    sanitation: Literal["indoor", "outdoor", "none"] | None = None
    appliances: list[
        Literal[
            "refrigerator",
            "washing_machine",
            "television",
            "computer",
            "stove",
            "microwave",
            "vacuum_cleaner",
            "air_conditioner",
        ]
    ] = []
    vehicles_owned: int | None = Field(default=None, ge=0, le=50)
    livestock_heads: int | None = Field(default=None, ge=0, le=100_000)
    dwellings_owned: int | None = Field(default=None, ge=0, le=50)
    #: the district commission's conclusion from this survey (Art. 128 p.3): a person's finding the law uses
    commission_found_no_need: bool | None = None
    notes: str = Field(default="", max_length=2000)


class InspectionActIn(BaseModel):
    inspected_on: date
    checklist: Checklist
    photos: dict[
        Literal[
            "dwelling", "materials", "heating", "water", "sanitation", "appliances", "livestock", "vehicles"
        ],
        list[int],
    ] = {}


class InspectionActOut(InspectionActIn):
    version: int
    updated_at: datetime
    facts: dict[str, bool | int | str]  # confirmed facts in the data contract's columns (dwelling: codes)


def _act_out(db, app, act) -> InspectionActOut | None:
    if act is None:
        return None
    return InspectionActOut(
        inspected_on=act.inspected_on,
        checklist=Checklist(**act.checklist),
        photos=act.photos,
        version=act.version,
        updated_at=act.updated_at,
        facts=service_photos.facts(db, app, act),
    )


@router.put("/applications/{app_id}/inspection-act", response_model=InspectionActOut, responses=ERRORS)
def put_inspection_act(app_id: int, body: InspectionActIn, db: DBDep, engine: EngineDep, user: UserDep):
    """Record the home-inspection act (a new save replaces the answers; each save is audited). Photos
    cited per item must be attached to the application. Its counts (vehicles, livestock, dwellings), the
    commission's conclusion and the dwelling's coded answers (type, walls, floor, heating, water, toilet)
    are confirmed facts: the law and the model are computed again on them."""
    act = service_photos.save_act(
        db, user, app_id, body.checklist.model_dump(), body.photos, body.inspected_on, engine=engine
    )
    app, act = service_photos.act_of(db, user, app_id)
    return released(db, _act_out(db, app, act))


@router.get("/applications/{app_id}/inspection-act", response_model=InspectionActOut | None, responses=ERRORS)
def get_inspection_act(app_id: int, db: DBDep, user: UserDep):
    app, act = service_photos.act_of(db, user, app_id)
    return released(db, _act_out(db, app, act))
