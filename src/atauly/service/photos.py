"""Photos of living conditions attached to an application (Stage 2): intake through :mod:`atauly.vision`,
encrypted originals in the vision store, records of what the checks found, and the officer's confirmation
of each asset the inventory model may see.

A batch of uploaded files is all-or-nothing: if any file is refused (wrong type, too large, truncated,
a polyglot, a decompression bomb, too many photos), the answer is a 4xx naming every refused file and its
reason, and nothing is stored. Photos verify and document; they never score a family: a finding becomes a
fact only when an officer confirms it, and "declared: no vehicle — photo 3 may show a pickup (0.91)" is a
question for the officer, never a conclusion.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB

from atauly.i18n import N_, Translator
from atauly.registry.codes import DWELLING_CODES

from . import casework
from .casework import ServiceError, record
from .models import DECIDED_STATES, Application, InspectionAct, Photo, PhotoFinding, Recommendation, User
from .periodic import Periodic

#: asset → the data contract's column a family declares it in
DECLARED = {"vehicle": "vehicles_owned", "tractor": "vehicles_owned", "livestock": "livestock_heads"}
log = logging.getLogger(__name__)
NO_FILE = N_("Choose at least one photo.")
TOO_MANY = N_("at most {n} photos per application: {have} attached already, {sent} more sent")
#: Facts must not change under a recorded decision (nothing would recompute it): a correction reopens it.
DECIDED = N_(
    "The case is decided: reopen it with a correction before changing the inspection act or the findings."
)
_LOCK = threading.Lock()  # one check at a time per process (the index's file lock: across processes)
#: How far before the application a photo may have been taken and still count as current (EXIF window).
WINDOW_BEFORE = timedelta(days=90)
#: The largest upload request (every file of a batch together, with the form's overhead): the routes refuse a
#: larger body with 413 while it streams in (``max_body_size``), before anything is parsed or read.
MAX_REQUEST_BYTES = 200 * 1024 * 1024
#: Files one request may carry: the form parser refuses more before spooling them (a batch can never hold
#: more than an application may have).
MAX_REQUEST_FILES = 30


def read_upload(src: bytes | BinaryIO, limits=None) -> bytes:
    """An upload's bytes, read at most to its type's limit plus one byte (the intake then refuses it as too
    large with the sizes in words): a 150 MB image is never read whole, only a video may be that large."""
    from atauly.vision import intake

    if isinstance(src, bytes | bytearray):
        return bytes(src)
    limits = limits or intake.Limits()
    head = src.read(32)
    video = intake.sniff(head) in intake.VIDEO_KINDS
    cap = limits.max_video_bytes if video else limits.max_image_bytes
    return head + src.read(max(0, cap + 1 - len(head)))


@lru_cache(maxsize=1)
def _checker():
    from atauly.settings import get_settings
    from atauly.vision import models_dir
    from atauly.vision.check import Checker
    from atauly.vision.reuse import ReuseIndex

    index = ReuseIndex(get_settings().home / "vision" / "index")
    return Checker(models_dir(), index=index)


def _store(user: User):
    from atauly.vision.store import PhotoStore

    return PhotoStore.open(actor=user.username)


def _status_for(reasons: set[str]) -> int:
    if reasons <= {"too_large"}:
        return 413
    if reasons <= {"wrong_type"}:
        return 415
    return 422


def attach(
    db: DB, user: User, app_id: int, files: list[tuple[str, bytes | BinaryIO]], lang: str = "ru"
) -> list[Photo]:
    """Check and attach uploaded files (bytes, or open files: read only after the count is checked, each at
    most to its type's limit) to an application; returns the new photo records.

    All or nothing, the reuse index included: whatever goes wrong — a refused file, a file the checks
    crash on (it becomes a refused row), a failed commit — the photos registered by this batch are taken
    out of the index again and the blobs it newly stored are deleted; the index is saved only after the
    records are committed."""
    from atauly.vision import intake

    app = casework.load(db, user, app_id, action="photos.upload")
    if not files:
        err = ServiceError(422, "no file uploaded")
        err.problems = [{"file": "", "reason": "no_file", "message": Translator(lang)(NO_FILE)}]
        raise err
    limits = intake.Limits()
    have = (
        db.scalar(select(func.count(func.distinct(Photo.sha256))).where(Photo.application_id == app.id)) or 0
    )
    if have + len(files) > limits.max_files:
        err = casework.deny(
            db,
            user,
            "photos.upload",
            413,
            f"at most {limits.max_files} photos per application",
            object_type="application",
            object_id=app.id,
        )
        # in words for people, like a refused file's reason (the form shows it in the user's language)
        message = Translator(lang)(TOO_MANY, n=limits.max_files, have=have, sent=len(files))
        err.problems = [{"file": "", "reason": "too_many", "message": message}]
        raise err
    checker = _checker()
    with _LOCK, checker.index.lock():  # one batch at a time, across the service's processes too
        checker.index.refresh()  # what other processes registered since
        before = len(checker.index)
        stored: list[str] = []
        store = None
        try:
            checked = _check_all(checker, app, files, limits, lang)
            _refuse_if_any(db, user, app, checked)
            store = _store(user)
            made = _record(db, user, app, checked, store, stored)
            record(db, user, "photos.upload", app, detail={"photos": len(made)})
            db.commit()
        except BaseException:
            checker.index.truncate(before)
            db.rollback()
            for sha in stored:  # new blobs of a batch that was not recorded
                store.discard(sha)
            raise
        checker.index.save()
    return made


def _check_all(checker, app: Application, files, limits, lang: str) -> list[tuple[str, bytes, list[dict]]]:
    """Every file through the checks; one that the checks fail on becomes a refused row, never a 500."""
    from atauly.vision.check import MSG, Context, rejected_row

    ctx = Context(
        group=f"application-{app.id}",
        window_start=app.received_on - WINDOW_BEFORE,
        window_end=app.received_on + timedelta(days=30),
        region=app.region_kato,
        lang=lang,
        keep_derivatives=True,
    )
    checked = []
    for name, src in files:
        data = read_upload(src, limits)
        try:
            rows = checker.check_bytes(data, name[:200], ctx)
        except Exception:  # noqa: BLE001 - refused like any other bad file; the batch is rolled back
            log.exception("photo check failed on one file of application %s", app.id)
            rows = [rejected_row(name[:200], "", "error", Translator(lang)(MSG["error"]), lang)]
        checked.append((name, data, rows))
    return checked


def _refuse_if_any(db: DB, user: User, app: Application, checked) -> None:
    refused = [(name, r) for name, _, rows in checked for r in rows if r["status"] == "rejected"]
    if not refused:
        return
    err = casework.deny(
        db,
        user,
        "photos.upload",
        _status_for({r["kind"] for _, r in refused}),
        # file names may carry a family's name: the audit gets reasons and SHA-256 prefixes only
        f"{len(refused)} of {len(checked)} files refused: "
        + ", ".join(f"{r['kind']} {(r['sha256'] or '?')[:12]}" for _, r in refused),
        object_type="application",
        object_id=app.id,
    )
    err.problems = [{"file": n, "reason": r["kind"], "message": r["flags"]} for n, r in refused]
    raise err


def _record(db: DB, user: User, app: Application, checked, store, stored: list[str]) -> list[Photo]:
    """Photo records (not yet committed) for the checked rows; originals and derivatives into the store,
    the addresses of the newly stored ones appended to ``stored``."""
    now = casework.now()
    made = []
    for _name, data, rows in checked:
        for r in rows:
            existing = db.scalar(
                select(Photo).where(
                    Photo.application_id == app.id,
                    Photo.sha256 == r["sha256"],
                    Photo.frame_time == float(r["frame_time"] or 0),
                )
            )
            if existing is not None:  # the same file again: idempotent
                continue
            photo = _photo(app, user, r, now)
            db.add(photo)
            made.append(photo)
        derivative = rows[0].pop("derivative_jpeg", None) if rows and rows[0]["kind"] == "image" else None
        sha = rows[0]["sha256"] if rows else ""
        known = bool(sha) and sha in store
        if sha and not known:
            stored.append(sha)
        store.put(data, derivative=derivative)
        if known and store.meta(sha).retain_until:  # the same file as a decided case's: kept for this one too
            store.set_retention(sha, None)
    return made


def _photo(app: Application, user: User, r: dict, now: datetime) -> Photo:
    photo = Photo(
        application_id=app.id,
        sha256=r["sha256"],
        file_name=r["file"][:255],
        kind=r["kind"],
        frame_time=float(r["frame_time"] or 0),
        phash=r["phash"],
        blurred=bool(r["blurred"]),
        dark=bool(r["dark"]),
        screen_photo=bool(r["screen_photo"]),
        faces=int(r["faces"]),
        exif_time=datetime.fromisoformat(r["exif_time"]) if r["exif_time"] else None,
        gps_region=r["gps_region"] or None,
        duplicate_of=r["duplicate_of"] or None,
        flags=list(r.get("flag_codes") or []),  # reason codes and values: put in words when shown
        uploaded_by=user.id,
        created_at=now,
    )
    for item in r.get("inventory_items", []):
        photo.findings.append(
            PhotoFinding(
                asset=item.asset,
                confidence=round(item.confidence, 3),
                label=item.label[:64],
                status="pending",
            )
        )
    return photo


def apply_retention(db: DB, app: Application, decided_on: date | None = None) -> int:
    """When an application's final decision is recorded: its photos' originals are kept ``photo_retention_days``
    (settings) from the decision, then ``atauly vision purge`` deletes them. A file shared with another
    application keeps the later of the two dates. Returns how many originals got a date; a failure is logged,
    never undoes the decision (already committed)."""
    from atauly.settings import get_settings
    from atauly.vision.store import PhotoStore

    shas = set(db.scalars(select(Photo.sha256).where(Photo.application_id == app.id)))
    if not shas:
        return 0
    until = (decided_on or date.today()) + timedelta(days=get_settings().photo_retention_days)
    done = 0
    try:
        store = PhotoStore.open(actor="retention")
        for sha in sorted(shas):
            try:
                current = store.meta(sha).retain_until
            except KeyError:  # purged already, or never stored
                continue
            if current is None or date.fromisoformat(current) < until:
                store.set_retention(sha, until)
            done += 1
    except Exception:  # noqa: BLE001 - the decision stands; the dates can be set again
        log.exception("photo retention could not be set for application %s", app.id)
    return done


class PurgeThread(Periodic):
    """Deletes photo originals (and their redacted copies) past their retention date while the service
    runs: once at start, then every ``hours`` (settings ``photo_purge_hours``; 0 switches it off). The same
    deletion as ``atauly vision purge``, each written to the store's audit log; a failed round is logged
    and the next one tries again. A store that was never written to is left alone (no key is made)."""

    def __init__(self, home, hours: float, today=date.today):
        from pathlib import Path

        self.home, self.today = Path(home), today
        super().__init__(
            self._purge, hours * 3600, name="atauly-photo-purge", what="photo purge", at_start=True
        )

    def _purge(self) -> int:
        from atauly.vision.store import blobs_from_settings

        if not blobs_from_settings(self.home).in_use():  # a file store never written to: no key is made
            return 0
        from atauly.vision.store import PhotoStore

        gone = PhotoStore.open(self.home, actor="purge-schedule").purge(self.today())
        if gone:
            log.info("purged %d photo original(s) past their retention date", len(gone))
        return len(gone)


def hold_again(db: DB, app: Application) -> int:
    """A decided case reopened (the family's correction): its photos' originals are kept again until a new
    final decision dates them (a date set by the earlier decision could otherwise delete the evidence of an
    open case). Returns how many originals were held; a failure is logged, never undoes the reopening."""
    from atauly.vision.store import PhotoStore

    shas = set(db.scalars(select(Photo.sha256).where(Photo.application_id == app.id)))
    held = 0
    try:
        store = PhotoStore.open(actor="retention") if shas else None
        for sha in sorted(shas):
            try:
                dated = store.meta(sha).retain_until
            except KeyError:  # purged already, or never stored
                continue
            if dated is not None:
                store.set_retention(sha, None)
                held += 1
    except Exception:  # noqa: BLE001 - the reopening stands; the dates can be cleared again
        log.exception("photo retention could not be cleared for application %s", app.id)
    return held


def photos_of(db: DB, user: User, app_id: int) -> tuple[Application, list[Photo]]:
    app = casework.load(db, user, app_id, action="photos.read")
    photos = list(db.scalars(select(Photo).where(Photo.application_id == app.id).order_by(Photo.id)))
    return app, photos


def image(db: DB, user: User, app_id: int, photo_id: int) -> bytes:
    """The redacted derivative (faces blurred) that people see; the read is audited."""
    app = casework.load(db, user, app_id, action="photos.view")
    photo = db.get(Photo, photo_id)
    if photo is None or photo.application_id != app.id:
        raise ServiceError(404, f"photo {photo_id} not found")
    record(db, user, "photos.view", app, detail={"photo": photo_id})
    db.commit()
    try:
        return _store(user).get(photo.sha256, "derivative")
    except KeyError:
        raise ServiceError(
            404, f"photo {photo_id} has no stored image (a video keyframe or purged)"
        ) from None


def decide_finding(
    db: DB, user: User, finding_id: int, confirm: bool, app_id: int | None = None, engine=None
) -> PhotoFinding:
    """Confirm or dismiss a finding; with an ``engine``, the recommendation is then recomputed on the
    confirmed facts (:func:`recompute`)."""
    finding = db.get(PhotoFinding, finding_id) if 0 < finding_id < 2**31 else None
    photo = db.get(Photo, finding.photo_id) if finding is not None else None
    if photo is None or (app_id is not None and photo.application_id != app_id):
        raise ServiceError(404, f"finding {finding_id} not found")
    app = casework.load(db, user, photo.application_id, action="photos.finding")
    if user.role not in ("officer", "supervisor"):
        raise casework.deny(
            db,
            user,
            "photos.finding",
            403,
            "only officers confirm findings",
            object_type="application",
            object_id=app.id,
        )
    if app.status in DECIDED_STATES:
        raise casework.deny(
            db, user, "photos.finding", 409, DECIDED, object_type="application", object_id=app.id
        )
    finding.status = "confirmed" if confirm else "dismissed"
    finding.decided_by = user.id
    finding.decided_at = casework.now()
    record(db, user, "photos.finding", app, detail={"finding": finding_id, "status": finding.status})
    db.commit()
    if engine is not None:
        recompute(db, engine, user, app.id)
    return finding


def questions(app: Application, photos: list[Photo], lang: str = "ru") -> list[str]:
    """For the officer: what the photos may show that the family did not declare, in words."""
    from atauly.vision.inventory import label_text

    t = Translator(lang)
    family = (app.snapshot.get("families") or [{}])[0]
    out = []
    for number, photo in enumerate(photos, start=1):
        for f in photo.findings:
            column = DECLARED.get(f.asset)
            if f.status != "pending" or column is None:
                continue
            try:
                declared = int(float(family.get(column) or 0))
            except (TypeError, ValueError):
                declared = 0
            if declared == 0:
                out.append(
                    t(
                        N_("declared: no {asset} — photo {n} may show a {label} ({confidence:.2f})"),
                        asset=t(f.asset),
                        n=number,
                        label=label_text(f.label, lang),
                        confidence=f.confidence,
                    )
                )
    return out


# --- the home-inspection act ------------------------------------------------------------------------------


def save_act(
    db: DB,
    user: User,
    app_id: int,
    checklist: dict,
    photos_by_item: dict[str, list[int]],
    inspected_on,
    engine=None,
) -> InspectionAct:
    """Record (or replace) the act; every photo it cites must belong to the application. With an
    ``engine``, the recommendation is then recomputed on the confirmed facts (:func:`recompute`)."""
    app = casework.load(db, user, app_id, action="inspection.save")
    if user.role not in ("officer", "supervisor"):
        raise casework.deny(
            db,
            user,
            "inspection.save",
            403,
            "only officers record an inspection",
            object_type="application",
            object_id=app.id,
        )
    if app.status in DECIDED_STATES:
        raise casework.deny(
            db, user, "inspection.save", 409, DECIDED, object_type="application", object_id=app.id
        )
    own = set(db.scalars(select(Photo.id).where(Photo.application_id == app.id)))
    for item, ids in photos_by_item.items():
        stray = [i for i in ids if i not in own]
        if stray:
            raise ServiceError(
                422, f"photos.{item}: photo {stray[0]} is not attached to application {app.id}"
            )
    act = db.scalar(select(InspectionAct).where(InspectionAct.application_id == app.id))
    if act is None:
        act = InspectionAct(application_id=app.id, version=0)
        db.add(act)
    act.checklist, act.photos = checklist, {k: list(v) for k, v in photos_by_item.items() if v}
    act.officer_id, act.inspected_on, act.updated_at = user.id, inspected_on, casework.now()
    act.version = (act.version or 0) + 1
    record(db, user, "inspection.save", app, detail={"version": act.version})
    db.commit()
    if engine is not None:
        recompute(db, engine, user, app.id)
    return act


def stale(db: DB, app: Application) -> bool:
    """Whether the confirmed facts changed since the current recommendation was computed (a recompute
    failed, or is under way): a decision must wait for the recommendation on the facts."""
    rec = app.recommendation
    if rec is None:
        return False
    return (rec.facts or {}) != confirmed_facts(db, app)


def confirmed_facts(db: DB, app: Application) -> dict:
    """The application's confirmed facts now (its act, if any, and its confirmed photo findings)."""
    act = db.scalar(select(InspectionAct).where(InspectionAct.application_id == app.id))
    return facts(db, app, act)


def act_of(db: DB, user: User, app_id: int) -> tuple[Application, InspectionAct | None]:
    app = casework.load(db, user, app_id, action="inspection.read")
    return app, db.scalar(select(InspectionAct).where(InspectionAct.application_id == app.id))


def facts(db: DB, app: Application, act: InspectionAct | None) -> dict:
    """Confirmed facts in the data contract's columns (``families``; see :mod:`atauly.service.facts`):
    the counts the act records, the commission's conclusion written with it and the dwelling it describes
    (type, walls, floor, heating, water, toilet) replace the submitted values; an asset a confirmed photo finding shows makes its column at least 1 (a photo of one car does
    not say the family has only one). Nothing unconfirmed counts, and a dismissed finding lowers nothing:
    not seen in a photo is not absent."""
    family = (app.snapshot.get("families") or [{}])[0]
    out: dict = {}
    if act is not None:
        c = act.checklist
        for key in ("vehicles_owned", "livestock_heads", "dwellings_owned"):
            if c.get(key) is not None:
                out[key] = int(c[key])
        if c.get("commission_found_no_need") is not None:
            out["commission_found_no_need"] = bool(c["commission_found_no_need"])
        for key in DWELLING_CODES:  # the dwelling as the officer found it (coded; unanswered: unknown)
            if c.get(key) not in (None, ""):
                out[key] = str(c[key])
    confirmed = db.scalars(
        select(PhotoFinding.asset)
        .join(Photo, Photo.id == PhotoFinding.photo_id)
        .where(Photo.application_id == app.id, PhotoFinding.status == "confirmed")
    ).all()
    for asset in sorted(set(confirmed)):
        column = DECLARED.get(asset)
        if column is not None:
            try:
                declared = int(float(family.get(column) or 0))
            except (TypeError, ValueError):
                declared = 0
            out[column] = max(out.get(column, declared), 1)
    return out


def recompute(db: DB, engine, user: User, app_id: int) -> Recommendation | None:
    """The law and the model again when the confirmed facts of an open application differ from those its
    current recommendation was computed with: on the submitted tables with the facts applied, through the
    same engine as at intake. The new recommendation becomes the current one (the earlier ones stay, for
    the audit), and the application's version moves on, so a decision form opened before fails rather
    than deciding on the old figures. Returns the new recommendation, or None when nothing changed."""
    from sqlalchemy.orm.attributes import flag_modified

    from .facts import changes
    from .intake import recommendation_on
    from .models import DECIDED_STATES

    app, act = act_of(db, user, app_id)
    current = app.recommendation
    confirmed = facts(db, app, act)
    if app.status in DECIDED_STATES or current is None or (current.facts or {}) == confirmed:
        db.rollback()
        return None
    use_model = casework.district_setting(db, app.district_kato).model_enabled
    quarter, base = app.quarter, app.snapshot
    db.rollback()  # nothing is held (SQLite's write lock) while the law and the model run
    rec = recommendation_on(engine, base, quarter, use_model, confirmed)
    app = casework.load(db, user, app_id, action="recommendation.recompute.open")
    app.recommendations.append(rec)
    flag_modified(app, "snapshot")  # the row is written: its version moves on (stale decision forms fail)
    record(
        db,
        user,
        "recommendation.recompute",
        app,
        # column names only: the values are the family's
        detail={"facts": sorted(confirmed), "changed": sorted(changes(base, confirmed)), "mode": rec.mode},
    )
    db.commit()
    return rec
