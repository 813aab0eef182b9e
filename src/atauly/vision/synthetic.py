"""Generated test images for every flag: near copies, blur, darkness, moiré, edited EXIF, bad files.

Base photos are the sample images that ship inside scikit-image (no download) and non-overlapping tiles
of its larger ones. Each generator is deterministic for a seed. Used by the tests, by the benchmark
(precision and recall of each flag) and by ``atauly vision evaluate`` dry runs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image

# images bundled with scikit-image (no pooch download), colour or grey
_SAMPLES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "camera",
    "coins",
    "brick",
    "grass",
    "gravel",
    "moon",
    "page",
    "text",
    "clock",
    "colorwheel",
    "logo",
    "microaneurysms",
    "cell",
)


def sample(name: str) -> np.ndarray:
    from skimage import data

    a = getattr(data, name)()
    if a.dtype != np.uint8:
        a = (255 * (a.astype(float) - a.min()) / max(1e-9, float(a.max() - a.min()))).astype(np.uint8)
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    return np.ascontiguousarray(a[..., :3])


def base_photos(n: int = 40, side: int = 320, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """``n`` distinct base photos: whole sample images, then non-overlapping tiles of the large ones."""
    out: list[tuple[str, np.ndarray]] = []
    for name in _SAMPLES:
        try:
            a = sample(name)
        except Exception:  # noqa: BLE001 - a sample missing from this scikit-image version
            continue
        if min(a.shape[:2]) < 200:
            continue
        out.append((name, cv2.resize(a, (side, side), interpolation=cv2.INTER_AREA)))
    # tiles of large images (not of the retina: a fundus photo is left-right symmetric, so its tiles are
    # near-mirror copies of each other)
    for name in (
        "hubble_deep_field",
        "astronaut",
        "coffee",
        "rocket",
        "immunohistochemistry",
        "camera",
        "brick",
        "gravel",
        "chelsea",
    ):
        a = sample(name)
        h, w = a.shape[:2]
        t = min(h, w) // 2
        for i, (y, x) in enumerate(((0, 0), (0, w - t), (h - t, 0), (h - t, w - t))):
            out.append(
                (
                    f"{name}-tile{i}",
                    cv2.resize(a[y : y + t, x : x + t], (side, side), interpolation=cv2.INTER_AREA),
                )
            )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(out))
    return [out[i] for i in order[:n]]


def _jpeg(a: np.ndarray, q: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=q)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def crop(a: np.ndarray, frac: float) -> np.ndarray:
    h, w = a.shape[:2]
    dy, dx = int(h * frac / 2), int(w * frac / 2)
    return np.ascontiguousarray(a[dy : h - dy, dx : w - dx])


def rotate(a: np.ndarray, degrees: float) -> np.ndarray:
    h, w = a.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(a, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def resize(a: np.ndarray, s: float) -> np.ndarray:
    return cv2.resize(a, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)


def brightness(a: np.ndarray, delta: int) -> np.ndarray:
    return np.clip(a.astype(np.int16) + delta, 0, 255).astype(np.uint8)


# near-copy transforms a family might apply to reuse someone else's photo
NEAR_COPIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "jpeg40": lambda a: _jpeg(a, 40),
    "resize50": lambda a: resize(a, 0.5),
    "resize150": lambda a: resize(a, 1.5),
    "crop10": lambda a: crop(a, 0.10),
    "crop20": lambda a: crop(a, 0.20),
    "rotate5": lambda a: rotate(a, 5),
    "rotate-3": lambda a: rotate(a, -3),
    "mirror": lambda a: np.ascontiguousarray(a[:, ::-1]),
    "mirror_crop10": lambda a: crop(np.ascontiguousarray(a[:, ::-1]), 0.10),
    "brighter": lambda a: brightness(a, 25),
    "darker_jpeg": lambda a: _jpeg(brightness(a, -25), 60),
}


def blurred(a: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    return cv2.GaussianBlur(a, (0, 0), sigma)


def dark(a: np.ndarray, factor: float = 0.15) -> np.ndarray:
    return (a.astype(np.float32) * factor).astype(np.uint8)


def moire(a: np.ndarray, seed: int = 0) -> np.ndarray:
    """A photographed screen: the picture seen through a fine pixel grid that beats with the sensor."""
    rng = np.random.default_rng(seed)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    f = rng.uniform(0.18, 0.32)  # cycles per pixel
    th = rng.uniform(0.15, 1.4)
    grid = 0.5 + 0.5 * np.sin(2 * np.pi * f * (xx * np.cos(th) + yy * np.sin(th)))
    grid2 = 0.5 + 0.5 * np.sin(2 * np.pi * f * 1.07 * (-xx * np.sin(th) + yy * np.cos(th)))
    pattern = 0.7 + 0.3 * grid * grid2
    out = a.astype(np.float32) * pattern[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg_bytes(a: np.ndarray, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    kw = {"exif": exif.tobytes()} if exif is not None else {}
    Image.fromarray(a).save(buf, format="JPEG", quality=quality, **kw)
    return buf.getvalue()


def exif_with(time: str | None = None, lat: float | None = None, lon: float | None = None) -> Image.Exif:
    """EXIF with a capture time (``YYYY:MM:DD HH:MM:SS``) and a GPS position, as a camera writes them."""
    ex = Image.Exif()
    if time:
        ex[306] = time
        ex.get_ifd(0x8769)[36867] = time
    if lat is not None and lon is not None:

        def dms(v: float):
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = round(((v - d) * 60 - m) * 60, 4)
            from PIL.TiffImagePlugin import IFDRational

            return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(int(s * 10000), 10000))

        gps = ex.get_ifd(0x8825)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = dms(lon)
    return ex


def bad_files(good_jpeg: bytes) -> dict[str, bytes]:
    """Files that must be refused, by the reason they must be refused for."""
    return {
        "truncated.jpg": good_jpeg[: len(good_jpeg) // 3],
        "polyglot_zip.jpg": good_jpeg + b"PK\x03\x04" + b"\x00" * 64,
        "polyglot_html.jpg": good_jpeg[:2] + b"\xff\xfe\x00\x20<script>alert(1)</script>" + good_jpeg[2:],
        "wrong_type.jpg": b"%PDF-1.7\n" + b"0" * 1000,
        "empty.jpg": b"",
        "decompression_bomb.png": png_bomb(),
    }


@lru_cache(maxsize=2)
def png_bomb(side: int = 12_000) -> bytes:
    """A valid grey PNG of ``side``×``side`` zeros: ~140 KB on disk, 144 MP (144 MB) once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    idat = b"".join(comp.compress(row * 500) for _ in range(side // 500)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def video_bytes(
    scenes: list[np.ndarray], seconds_each: float = 2.0, fps: int = 15, gop: int = 15, size=(640, 360)
) -> bytes:
    """An H.264 MP4 showing each scene in turn (a slow pan inside each), as a phone would record it."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "ultrafast", "crf": "28"}
        n = int(seconds_each * fps)
        for scene in scenes:
            big = cv2.resize(scene, (size[0] + 40, size[1] + 40), interpolation=cv2.INTER_AREA)
            for i in range(n):
                dx = int(40 * i / max(1, n - 1))
                frame = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(big[20 : 20 + size[1], dx : dx + size[0]]), format="rgb24"
                )
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()
