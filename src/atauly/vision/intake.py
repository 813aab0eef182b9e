"""Intake of an uploaded file: type by content, size and pixel limits, safe decoding, re-encoding, EXIF.

Nothing a family uploads is kept or shown as it came: an image is decoded (with a pixel limit checked from
the header *before* decoding, so a decompression bomb is refused without allocating it), turned upright
from its EXIF orientation, and re-encoded as a plain JPEG without metadata. What the file *says* it is
(its name, its extension, a browser's content type) is never trusted: the first bytes decide. Files that
hide another format inside an image (a ZIP, a PDF, HTML or a script — "polyglots") are refused.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image, ImageOps

from atauly.i18n import N_

try:  # HEIC/HEIF from phones; optional at import so that a missing wheel only refuses HEIC files
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIF = False

# PIL's own bomb guard warns at MAX_IMAGE_PIXELS and raises at twice that; ours refuses earlier and by name.
Image.MAX_IMAGE_PIXELS = None


class IntakeError(ValueError):
    """A file that is refused: a stable ``reason`` code and a message template (translated through the
    catalogs, with ``fields``) for people."""

    def __init__(self, reason: str, template: str, **fields: object):
        super().__init__(template.format(**fields) if fields else template)
        self.reason = reason
        self.template = template
        self.fields = fields

    def translated(self, t) -> str:
        return t(self.template, **self.fields)


@dataclass(frozen=True)
class Limits:
    max_image_bytes: int = 30 * 1024 * 1024
    max_video_bytes: int = 150 * 1024 * 1024
    max_pixels: int = 100_000_000  # 100 MP: above every phone camera but the 200 MP modes
    max_side: int = 20_000
    max_decoded_bytes: int = 200 * 1024 * 1024  # PNG/WebP/HEIC: decoded whole (a 48 MP RGBA: 192 MB)
    max_pixels_per_byte: float = 64.0  # PNG/WebP/HEIC above bomb_min_pixels: a flat image is no photo
    bomb_min_pixels: int = 4_000_000
    min_side: int = 32  # a strip thinner than this shows nothing (and once broke the face detector)
    max_files: int = 30  # per application (the API); the folder check takes its own --max-files
    max_video_seconds: float = 180.0  # checked on the declared duration and again on every decoded frame
    max_video_frames: int = 10_800  # frames the decoder may produce (180 s at 60 fps): bounds the work
    video_decode_seconds: float = 60.0  # wall-clock budget for decoding one video
    derivative_side: int = 2048  # longest side of the re-encoded image that people see


IMAGE_KINDS = ("jpeg", "png", "heic", "webp")
VIDEO_KINDS = ("mp4", "mov", "3gp", "webm", "avi")

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_MP4_BRANDS = {
    b"isom": "mp4",
    b"iso2": "mp4",
    b"iso4": "mp4",
    b"iso5": "mp4",
    b"iso6": "mp4",
    b"mp41": "mp4",
    b"mp42": "mp4",
    b"avc1": "mp4",
    b"M4V ": "mp4",
    b"MSNV": "mp4",
    b"dash": "mp4",
    b"qt  ": "mov",
    b"3gp4": "3gp",
    b"3gp5": "3gp",
    b"3gp6": "3gp",
    b"3g2a": "3gp",
}
# Signatures of formats that must never ride inside an image: checked after the image's end; the text ones
# also wherever text can live in the file (JPEG: the segments before the compressed scan; PNG: every chunk
# but the compressed IDAT). Not inside compressed data: there "<svg " turns up by chance about once in 700
# MB, so a few large phone photos in a thousand would be refused for nothing.
_TRAILING_FORBIDDEN = (b"PK\x03\x04", b"%PDF-", b"MZ", b"\x7fELF", b"#!", b"Rar!", b"7z\xbc\xaf")
_TEXT_FORBIDDEN = re.compile(
    rb"<\s*(script|html|svg|iframe|object|embed)\b|<\?php|javascript:", re.IGNORECASE
)


def sniff(head: bytes) -> str | None:
    """The file's kind from its first bytes (at least 32), or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "heic"
        return _MP4_BRANDS.get(brand)
    return None


def _image_end(data: bytes, kind: str) -> int:
    """Offset just past the image's own data (PNG: IEND chunk; JPEG: the last EOI marker)."""
    if kind == "png":
        pos = 8
        while pos + 12 <= len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            ctype = data[pos + 4 : pos + 8]
            pos += 12 + length
            if ctype == b"IEND":
                return pos
        return len(data)
    if kind == "jpeg":
        end = data.rfind(b"\xff\xd9")
        return end + 2 if end >= 0 else len(data)
    return len(data)


def _jpeg_scan_start(data: bytes) -> int:
    """Offset of the first start-of-scan marker (compressed data follows it); the segments before it hold
    the metadata and comments."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return i  # not a marker where one must be: everything after is searched as data
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker == 0xDA:
            return i
        elif 0xD0 <= marker <= 0xD8 or marker == 0x01:  # markers without a length
            i += 2
        else:
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return len(data)


def _text_regions(data: bytes, kind: str) -> list[bytes]:
    """The parts of the file where text can live (not compressed image data)."""
    end = _image_end(data, kind)
    if kind == "jpeg":
        scan = _jpeg_scan_start(data)
        # between the first scan and the end, only the segments a decoder reads (progressive scans' tables,
        # comments) could hold text: each is found by its marker, the entropy-coded bytes are skipped
        return [data[:scan], *_jpeg_segments_after_scan(data, scan, end), data[end:]]
    if kind == "png":
        parts, pos = [data[:8]], 8
        while pos + 12 <= min(end, len(data)):
            length = int.from_bytes(data[pos : pos + 4], "big")
            if data[pos + 4 : pos + 8] != b"IDAT":
                parts.append(data[pos : pos + 12 + length])
            pos += 12 + length
        return [*parts, data[end:]]
    return [data]


_JPEG_TEXT_SEGMENT = re.compile(rb"\xff[\xe0-\xef\xfe]")  # APPn and COM markers


def _jpeg_segments_after_scan(data: bytes, scan: int, end: int) -> list[bytes]:
    """Application and comment segments after the first scan (a progressive JPEG's later headers). In the
    compressed data a 0xFF byte is always followed by 0x00 or a restart marker, so these markers are real."""
    out = []
    for m in _JPEG_TEXT_SEGMENT.finditer(data, scan, end):
        pos = m.start()
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        out.append(data[pos : pos + 2 + length])
    return out


def check_polyglot(data: bytes, kind: str) -> None:
    """Refuse an image that carries another format (archive, document, executable, HTML or script)."""
    if any(_TEXT_FORBIDDEN.search(part) for part in _text_regions(data, kind)):
        raise IntakeError("polyglot", N_("the image contains HTML or script text"))
    trailing = data[_image_end(data, kind) :]
    if trailing.strip(b"\x00"):
        for sig in _TRAILING_FORBIDDEN:
            if sig in trailing[:4096] or trailing.lstrip(b"\x00\r\n ").startswith(sig):
                raise IntakeError(
                    "polyglot", N_("another file (archive, document or program) is appended to the image")
                )


@dataclass
class Exif:
    time: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    camera: str = ""


def _ratio(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return float("nan")


def read_exif(img: Image.Image) -> Exif:
    """Capture time (DateTimeOriginal, else DateTime) and GPS position; empty fields when absent or broken."""
    out = Exif()
    try:
        exif = img.getexif()
    except Exception:  # noqa: BLE001 - a broken EXIF block is the same as none
        return out
    if not exif:
        return out
    try:
        sub = exif.get_ifd(0x8769)
    except Exception:  # noqa: BLE001
        sub = {}
    raw = sub.get(36867) or exif.get(306)
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "ignore")
    if isinstance(raw, str):
        try:
            out.time = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            out.time = None
    make, model = exif.get(271) or "", exif.get(272) or ""
    out.camera = f"{make} {model}".strip()[:64] if isinstance(make, str) and isinstance(model, str) else ""
    try:
        gps = exif.get_ifd(0x8825)
    except Exception:  # noqa: BLE001
        gps = {}
    if gps and 2 in gps and 4 in gps:
        try:
            lat = sum(_ratio(x) / 60**i for i, x in enumerate(gps[2]))
            lon = sum(_ratio(x) / 60**i for i, x in enumerate(gps[4]))
            if str(gps.get(1, "N")).upper().startswith("S"):
                lat = -lat
            if str(gps.get(3, "E")).upper().startswith("W"):
                lon = -lon
            if np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180:
                out.lat, out.lon = float(lat), float(lon)
        except (TypeError, ValueError):
            pass
    return out


@dataclass
class Decoded:
    kind: str
    width: int  # of the original
    height: int
    rgb: np.ndarray  # upright, RGB, uint8, at most ``work_side`` on its longest side
    exif: Exif


def open_image(data: bytes, limits: Limits = Limits(), work_side: int = 1024) -> Decoded:
    """Check and decode an image file's bytes; raises :class:`IntakeError` with a reason when refused."""
    if len(data) > limits.max_image_bytes:
        raise IntakeError(
            "too_large",
            N_("the image is {size} MB; at most {limit} MB"),
            size=round(len(data) / 2**20),
            limit=limits.max_image_bytes // 2**20,
        )
    kind = sniff(data[:32])
    if kind is None:
        raise IntakeError("wrong_type", N_("not a photo (JPEG, PNG, HEIC or WebP) by its content"))
    if kind in VIDEO_KINDS:
        raise IntakeError("wrong_type", N_("a video where a photo was expected"))
    if kind == "heic" and not HEIF:
        raise IntakeError("wrong_type", N_("HEIC photos cannot be read on this server"))
    check_polyglot(data, kind)
    try:
        img = Image.open(io.BytesIO(data))
        w, h = img.size
    except Exception:  # noqa: BLE001 - any failure to parse the header is a refusal
        raise IntakeError("unreadable", N_("the image cannot be read")) from None
    if w * h > limits.max_pixels or max(w, h) > limits.max_side:
        raise IntakeError(
            "decompression_bomb",
            N_("{w}×{h} pixels is more than any camera takes ({limit} MP at most)"),
            w=w,
            h=h,
            limit=limits.max_pixels // 10**6,
        )
    if kind != "jpeg":
        _check_lossless_bomb(img, w, h, len(data), limits)
    if min(w, h) < limits.min_side:
        raise IntakeError("too_small", N_("{w}×{h} pixels is too small to show anything"), w=w, h=h)
    if getattr(img, "n_frames", 1) > 1 and kind != "heic":
        raise IntakeError("wrong_type", N_("animated images are not photos"))
    exif = read_exif(img)
    try:
        if kind == "jpeg":
            # decode at 1/2, 1/4 or 1/8 scale (DCT scaling: fast and small), the smallest whose longest side
            # is still at least 3/4 of the working size (a 4032-px photo decodes at 1/4, 1008 px)
            s = 0.75 * work_side / max(w, h)
            if s < 1:
                img.draft("RGB", (max(1, int(w * s)), max(1, int(h * s))))
        img.load()
        img = ImageOps.exif_transpose(img)
        img = img.convert("RGB")
    except Exception:  # noqa: BLE001 - truncated or corrupt data
        raise IntakeError("corrupt", N_("the image data is damaged or truncated")) from None
    if max(img.size) > work_side:
        img.thumbnail((work_side, work_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return Decoded(kind=kind, width=w, height=h, rgb=np.asarray(img, dtype=np.uint8), exif=exif)


def _check_lossless_bomb(img: Image.Image, w: int, h: int, size: int, limits: Limits) -> None:
    """PNG, WebP and HEIC are decoded whole (only JPEG decodes at a reduced scale), so under the pixel limit a
    small file can still unpack to hundreds of MB (a flat 16-bit RGBA PNG of 9990×9990 is 0.7 MB). Refused:
    a decoded size above ``max_decoded_bytes``, or more than ``max_pixels_per_byte`` pixels per byte of file
    beyond ``bomb_min_pixels`` (no photo compresses that far; a flat screenshot of a phone's size stays
    under ``bomb_min_pixels``)."""
    try:
        depth = 2 if img.mode.endswith((";16", ";16B", ";16L")) or img.mode.startswith("I;16") else 1
        decoded = w * h * len(img.getbands()) * depth
    except Exception:  # noqa: BLE001 - an unknown mode: judged by the ratio alone
        decoded = 0
    if decoded > limits.max_decoded_bytes:
        raise IntakeError(
            "decompression_bomb",
            N_("{w}×{h} pixels would unpack to {mb} MB; at most {limit} MB"),
            w=w,
            h=h,
            mb=round(decoded / 2**20),
            limit=limits.max_decoded_bytes // 2**20,
        )
    if w * h > limits.bomb_min_pixels and w * h > limits.max_pixels_per_byte * size:
        raise IntakeError(
            "decompression_bomb",
            N_("{w}×{h} pixels from a {kb} KB file: compressed too far to be a photo"),
            w=w,
            h=h,
            kb=max(1, round(size / 1024)),
        )


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """A plain JPEG of the pixels: no EXIF, no GPS, no comments, nothing but the image."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()
