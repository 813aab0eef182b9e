"""Perceptual hash (64-bit DCT pHash) and the hash of the mirrored image, from one transform.

The hash is the sign pattern of the 8×8 lowest DCT frequencies of a 32×32 grey thumbnail against their
median (as in ``imagehash.phash``). Mirroring an image left-right multiplies the DCT coefficient of
horizontal frequency ``u`` by ``(-1)**u``, so the mirrored image's hash comes from the same coefficients:
a reused photo that was flipped is found without decoding it twice.
"""

from __future__ import annotations

import cv2
import numpy as np

_SIGN = np.where(np.arange(8) % 2 == 0, 1.0, -1.0)[None, :]  # (-1)**u over columns
_BITS = (np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)


def _dct_low(rgb_or_grey: np.ndarray) -> np.ndarray:
    g = rgb_or_grey if rgb_or_grey.ndim == 2 else cv2.cvtColor(rgb_or_grey, cv2.COLOR_RGB2GRAY)
    # the direct area resize, as every hash in an index was made (halving first would move a few hashes by
    # a bit or two: measured, 2 of 69 unrelated photos then matched by features at the hash limit)
    small = cv2.resize(g, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    return cv2.dct(small)[:8, :8].astype(np.float64)


def _pack(bits: np.ndarray) -> int:
    return int(np.bitwise_or.reduce(np.where(bits.ravel(), _BITS, np.uint64(0))))


def phash_pair(rgb: np.ndarray) -> tuple[int, int]:
    """(hash, hash of the mirrored image) as unsigned 64-bit integers, of an RGB or a grey image."""
    low = _dct_low(rgb)
    med = np.median(low)
    mirrored = low * _SIGN
    return _pack(low > med), _pack(mirrored > np.median(mirrored))


def phash(rgb: np.ndarray) -> int:
    return phash_pair(rgb)[0]


def to_hex(h: int) -> str:
    return f"{h:016x}"


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()
