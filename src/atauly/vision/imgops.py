"""Image resizing shared by the checks: one fast way to scale a photo down.

OpenCV's area interpolation (the right filter for shrinking) is fast only for whole-number factors; at a
factor like 1008 → 320 it takes ~3 ms on a 1 MP colour photo and ~2 ms for a 32×32 thumbnail of a grey one.
Halving first (a whole-number factor: ~0.2 ms), as long as the image is at least twice the target, then
one area resize for the rest gives the same picture within a grey level or two at a fraction of the cost.
"""

from __future__ import annotations

import cv2
import numpy as np


def shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img`` scaled to ``size`` = (width, height) by area averaging (halving first while it is at least
    twice as large); an image already of that size is returned as it is. Never used to enlarge."""
    w, h = size
    while img.shape[1] >= 2 * w and img.shape[0] >= 2 * h and min(img.shape[:2]) >= 2:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (img.shape[1], img.shape[0]) == (w, h):
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
