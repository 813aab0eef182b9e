"""The photo pipeline: intake → redaction → quality → EXIF checks → hash → features → inventory → reuse.

One row per image or video keyframe, the columns of the command contract first (``file``, ``sha256``,
``phash``, ``blurred``, ``dark``, ``screen_photo``, ``faces``, ``exif_time``, ``gps_region``,
``duplicate_of``, ``inventory``, ``flags``) and then the measurements behind them. A refused file gets a
row with ``status = rejected`` and the reason in ``flags``; it never stops the run.

Privacy: faces and people are blurred on the working image *before* the quality measures, the features
and the inventory are computed, and only that redacted image is ever written as a derivative. The pHash
is taken from the unredacted pixels (64 bits say nothing about a face, and a hash must not change with
what the detector happened to find). GPS is used for the region check and then dropped: only the region
code is kept. Missing EXIF is normal (messengers strip it) and never raises a flag.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import cv2
import numpy as np

from atauly.i18n import N_, Translator

from . import geo, intake, phash, privacy, quality
from .intake import IntakeError, Limits
from .reuse import ReuseIndex, index_hashes

COLUMNS = [
    "file",
    "sha256",
    "phash",
    "blurred",
    "dark",
    "screen_photo",
    "faces",
    "exif_time",
    "gps_region",
    "duplicate_of",
    "inventory",
    "flags",
    # measurements behind the contract's columns
    "status",
    "kind",
    "frame_time",
    "width",
    "height",
    "persons",
    "sharpness",
    "brightness",
    "moire",
    "duplicate_distance",
    "duplicate_similarity",
    "top_classes",
    "ms",
]

# Reasons in words (catalog vision.po); {fields} are filled in by the translator.
MSG = {
    "blurred": N_("blurred (sharpness {value:.0f} below {limit:.0f})"),
    "dark": N_("too dark (mean brightness {value:.0f} of 255)"),
    "screen_photo": N_("may be a photo of a screen or a printout (moiré {value:.1f}): please look"),
    "exif_early": N_("taken {taken}, before the application window ({start} – {end})"),
    "exif_late": N_("taken {taken}, after the application window ({start} – {end})"),
    "gps_region": N_("GPS position in another region ({found}) than the declared one ({declared})"),
    "gps_outside": N_("GPS position outside Kazakhstan"),
    "reuse": N_("same or near-same photo as {ref} ({how})"),
    "faces": N_("{n} face(s) or person(s) blurred"),
    "rejected": N_("refused: {reason}"),
    "too_many": N_("more than {n} files"),
    "file_too_large": N_("the file is {size} MB; at most {limit} MB"),
    "error": N_("the file could not be checked"),
}

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp"}
VIDEO_EXT = {".mp4", ".mov", ".m4v", ".3gp", ".webm", ".mkv", ".avi"}


@dataclass
class Context:
    """What the checks compare a photo with: the application's window, its region, its group in the index."""

    group: str = ""
    window_start: date | None = None
    window_end: date | None = None
    region: str | None = None  # declared KATO region code
    lang: str = "ru"
    derivatives: Path | None = None  # where to write redacted re-encoded JPEGs (None: nowhere)
    limits: Limits = field(default_factory=Limits)
    store: object | None = None  # an atauly.vision.store.PhotoStore: originals encrypted, derivatives beside
    keep_derivatives: bool = False  # put the redacted JPEG in each image row (key ``derivative_jpeg``)


@dataclass
class PhotoResult:
    row: dict
    redacted: np.ndarray | None = None
    features: np.ndarray | None = None
    probs: np.ndarray | None = None
    derivative: bytes | None = None  # the redacted JPEG, when the context keeps or stores one


class Checker:
    """Holds the models and the reuse index; ``check_file`` / ``check_bytes`` return rows."""

    def __init__(
        self, models_dir: Path, index: ReuseIndex | None = None, inventory: bool = True, threads: int = 1
    ):
        self.index = index if index is not None else ReuseIndex(None)
        privacy.load_models()  # here, once: not in the first photo's time
        self.classifier = None
        if inventory:
            from .inventory import Classifier

            self.classifier = Classifier(models_dir, threads=threads)

    # -- one image -----------------------------------------------------------------------------------
    def check_image(
        self, rgb: np.ndarray, exif: intake.Exif, name: str, sha: str, ctx: Context, kind: str = "image"
    ) -> PhotoResult:
        import time

        t0 = time.perf_counter()
        t = Translator(ctx.lang)
        flags: list[dict] = []  # reason codes and their values: translated below, and again at each render
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)  # the hashes' input, converted once
        h, hm = phash.phash_pair(grey)
        redacted, boxes = privacy.redact(rgb)
        n_faces = sum(b.kind == "face" for b in boxes)
        n_persons = sum(b.kind == "person" for b in boxes)
        q = quality.assess(redacted)
        if q.blurred:
            flags.append(
                {"code": "blurred", "value": float(q.sharpness), "limit": float(quality.BLUR_THRESHOLD)}
            )
        if q.dark:
            flags.append({"code": "dark", "value": float(q.brightness)})
        if q.screen_photo:
            flags.append({"code": "screen_photo", "value": float(q.moire)})
        exif_time, gps_region = _exif_checks(exif, ctx, flags)
        probs = feats = None
        inventory = top = ""
        items = []
        if self.classifier is not None:
            from .inventory import format_inventory

            probs, feats = self.classifier.run(redacted)
            items = self.classifier.inventory(probs)
            inventory = format_inventory(items)
            top = "; ".join(f"{n} {p:.2f}" for n, p in self.classifier.top(probs, 3))
        duplicate_of, dist, sim = self._reuse(grey, h, hm, feats, name, sha, ctx, flags)
        if boxes:
            flags.append({"code": "faces", "n": len(boxes)})
        derivative = None
        if ctx.derivatives is not None or (
            kind == "image" and (ctx.store is not None or ctx.keep_derivatives)
        ):
            derivative = intake.encode_jpeg(_fit(redacted, ctx.limits.derivative_side))  # encoded once
        if ctx.derivatives is not None:
            ctx.derivatives.mkdir(parents=True, exist_ok=True)
            out = ctx.derivatives / (
                f"{sha[:16]}" + (f"-{name.split('#t=')[1]}" if "#t=" in name else "") + ".jpg"
            )
            out.write_bytes(derivative)
        row = {
            "file": name,
            "sha256": sha,
            "phash": phash.to_hex(h),
            "blurred": q.blurred,
            "dark": q.dark,
            "screen_photo": q.screen_photo,
            "faces": n_faces,
            "exif_time": exif_time,
            "gps_region": gps_region,
            "duplicate_of": duplicate_of,
            "inventory": inventory,
            "flags": "; ".join(flag_text(f, t) for f in flags),
            "flag_codes": flags,  # not a CSV column: the service stores these and translates them when shown
            "status": "ok",
            "kind": kind,
            "frame_time": "",
            "width": rgb.shape[1],
            "height": rgb.shape[0],
            "persons": n_persons,
            "sharpness": round(q.sharpness, 1),
            "brightness": round(q.brightness, 1),
            "moire": round(q.moire, 2),
            "duplicate_distance": dist,
            "duplicate_similarity": sim,
            "top_classes": top,
            "ms": round((time.perf_counter() - t0) * 1000, 1),
            "inventory_items": items,  # not a CSV column: the detections themselves, for the service
        }
        return PhotoResult(row, redacted, feats, probs, derivative)

    def _reuse(self, grey, h, hm, feats, name: str, sha: str, ctx: Context, flags: list[dict]):
        """Look the photo up in the reuse index (a flag when found), then register it; returns
        ``(duplicate_of, hash distance, feature similarity)`` as the CSV writes them."""
        ref = f"{ctx.group}/{name}" if ctx.group else name
        again = self.index.has(
            ref, sha
        )  # the same file checked again: neither its own duplicate nor added twice
        match = self.index.query(h, hm, feats, exclude_ref=ref if again else None)
        own_video = match is not None and "#t=" in name and match.ref.startswith(ref.split("#t=")[0] + "#t=")
        duplicate_of = dist = sim = ""
        if match is not None and not own_video:
            duplicate_of, dist = match.ref, str(match.distance)
            known = match.cosine == match.cosine
            sim = f"{match.cosine:.2f}" if known else ""
            flags.append(
                {
                    "code": "reuse",
                    "ref": match.ref,
                    "distance": int(match.distance),
                    "mirrored": bool(match.mirrored),
                    "cosine": float(match.cosine) if known else None,
                }
            )
        if not again:
            self.index.add(index_hashes(grey, whole=h), feats, ref, ctx.group, sha)
        return duplicate_of, dist, sim

    # -- one file ------------------------------------------------------------------------------------
    def check_bytes(self, data: bytes, name: str, ctx: Context) -> list[dict]:
        sha = hashlib.sha256(data).hexdigest()
        kind = intake.sniff(data[:32])
        try:
            if kind in intake.VIDEO_KINDS:
                from .video import keyframes

                rows = []
                for kf in keyframes(data, ctx.limits):
                    r = self.check_image(
                        kf.rgb, intake.Exif(), f"{name}#t={kf.time:.1f}", sha, ctx, kind="keyframe"
                    )
                    r.row["frame_time"] = f"{kf.time:.1f}"
                    rows.append(r.row)
                if ctx.store is not None:
                    ctx.store.put(data)
                return rows
            dec = intake.open_image(data, ctx.limits)
            r = self.check_image(dec.rgb, dec.exif, name, sha, ctx)
            r.row["width"], r.row["height"] = dec.width, dec.height
            if ctx.store is not None or ctx.keep_derivatives:
                derivative = r.derivative
                if ctx.keep_derivatives:
                    r.row["derivative_jpeg"] = derivative
                if ctx.store is not None:  # only a file that passed every intake check is kept
                    ctx.store.put(data, derivative=derivative)
            return [r.row]
        except IntakeError as exc:
            return [rejected_row(name, sha, exc.reason, exc.translated(Translator(ctx.lang)), ctx.lang)]

    def check_file(self, path: Path, ctx: Context, name: str | None = None) -> list[dict]:
        name = name or path.name
        size = path.stat().st_size
        cap = max(ctx.limits.max_image_bytes, ctx.limits.max_video_bytes)
        if size > cap:  # never read a huge file into memory
            msg = Translator(ctx.lang)(MSG["file_too_large"], size=round(size / 2**20), limit=cap // 2**20)
            return [rejected_row(name, "", "too_large", msg, ctx.lang)]
        return self.check_bytes(path.read_bytes(), name, ctx)


def _exif_checks(exif: intake.Exif, ctx: Context, flags: list[dict]) -> tuple[str, str]:
    """The capture time against the application's window and the GPS region against the declared one
    (flags appended); returns ``(exif_time, gps_region)``. The GPS position is dropped afterwards."""
    exif_time = ""
    if exif.time is not None:
        exif_time = exif.time.isoformat(timespec="seconds")
        d = exif.time.date()
        fmt = {
            "start": ctx.window_start.isoformat() if ctx.window_start else "",
            "end": ctx.window_end.isoformat() if ctx.window_end else "",
            "taken": d.isoformat(),
        }
        if ctx.window_start and d < ctx.window_start:
            flags.append({"code": "exif_early", **fmt})
        elif ctx.window_end and d > ctx.window_end:
            flags.append({"code": "exif_late", **fmt})
    gps_region = ""
    if exif.lat is not None and exif.lon is not None:
        gps_region = geo.region_of(exif.lat, exif.lon)
        if gps_region == geo.OUTSIDE:
            flags.append({"code": "gps_outside"})
        elif gps_region and ctx.region and gps_region != ctx.region:
            flags.append({"code": "gps_region", "found": gps_region, "declared": ctx.region})
    exif.lat = exif.lon = None  # GPS kept only for the check
    return exif_time, gps_region


def _fit(img: np.ndarray, side: int) -> np.ndarray:
    if max(img.shape[:2]) <= side:
        return img
    import cv2

    s = side / max(img.shape[:2])
    return cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)


def rejected_row(name: str, sha: str, reason: str, message: str, lang: str) -> dict:
    t = Translator(lang)
    row = {c: "" for c in COLUMNS}
    row.update(
        file=name, sha256=sha, status="rejected", kind=reason, flags=t(MSG["rejected"], reason=t(message))
    )
    return row


def flag_text(flag: dict | str, t: Translator | str) -> str:
    """A flag in words in ``t``'s language: a reason code with its values (what the service stores), or a
    string already in words (records written before codes were stored) as it is."""
    if isinstance(flag, str):
        return flag
    t = t if isinstance(t, Translator) else Translator(t)
    fields = {k: v for k, v in flag.items() if k != "code"}
    code = flag.get("code", "")
    if code in ("exif_early", "exif_late"):
        for k in ("start", "end", "taken"):
            fields[k] = _d(t, date.fromisoformat(fields[k]) if fields.get(k) else None)
    elif code == "gps_region":
        fields = {k: _region(str(fields.get(k, "")), t.lang) for k in ("found", "declared")}
    elif code == "reuse":
        from .reuse import Match

        cos = fields.get("cosine")
        how = Match(
            0,
            "",
            "",
            int(fields.get("distance", 0)),
            bool(fields.get("mirrored")),
            float("nan") if cos is None else cos,
        )
        fields = {"ref": fields.get("ref", ""), "how": how.reason(t)}
    if code not in MSG:
        return code
    try:
        return t(MSG[code], **fields)
    except (KeyError, ValueError, TypeError):  # a record from another version: the code, never a crash
        return code


def _d(t: Translator, d: date | None) -> str:
    return t.date(d) if d else "…"


def _region(kato: str, lang: str) -> str:
    from atauly.registry.codes import region_name

    try:
        return region_name(kato, lang)
    except Exception:  # noqa: BLE001
        return kato


def list_media(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` (sorted; type is decided by content, not by extension)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def check_folder(
    folder: Path,
    out: Path,
    models_dir: Path,
    index_dir: Path | None = None,
    ctx: Context | None = None,
    max_files: int = 10_000,
    inventory: bool = True,
    progress: Iterable | None = None,
) -> list[dict]:
    """Check every file in ``folder``, register it in the reuse index, write the CSV; returns the rows."""
    ctx = ctx or Context(group=folder.name)
    index = ReuseIndex(index_dir)
    with index.lock():  # the service may share the index: it waits while the folder is checked
        index.refresh()
        rows = _check_files(folder, index, models_dir, ctx, max_files, inventory, progress)
        index.save()
    write_csv(rows, out)
    return rows


def _check_files(folder, index, models_dir, ctx, max_files, inventory, progress) -> list[dict]:
    checker = Checker(models_dir, index=index, inventory=inventory)
    rows: list[dict] = []
    files = list_media(folder)
    t = Translator(ctx.lang)
    for i, path in enumerate(files):
        name = str(path.relative_to(folder))
        if i >= max_files:
            rows.append(rejected_row(name, "", "too_many", t(MSG["too_many"], n=max_files), ctx.lang))
            continue
        try:
            rows += checker.check_file(path, ctx, name)
        except Exception:  # noqa: BLE001 - one bad file never stops the run
            rows.append(rejected_row(name, "", "error", t(MSG["error"]), ctx.lang))
        if progress is not None:
            progress(i + 1, len(files))
    return rows


def write_csv(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: (str(v).lower() if isinstance(v, bool | np.bool_) else v) for k, v in r.items()})


def parse_date(value: str | None) -> date | None:
    return datetime.strptime(value, "%Y-%m-%d").date() if value else None
