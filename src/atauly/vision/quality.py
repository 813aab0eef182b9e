"""Quality flags an officer can read: blurred, too dark, a photo of a screen or a printout (moiré).

Each measure is computed on a grey image of fixed size so that thresholds do not depend on the camera:
- sharpness: variance of the Laplacian on at most 512 px (a sharp photo gives hundreds, a σ=4 blur under 5);
- darkness: mean brightness on 0–255;
- moiré: a photo of a screen or a print carries a fine periodic pattern (the pixel grid or the halftone
  beating against the camera's sensor) that shows as isolated, sharp peaks in the mid and high
  frequencies of the spectrum; natural scenes have smooth 1/f spectra. The score is the strongest peak's
  height above its neighbourhood, in log units. Published screen-photo detectors reach ~82 % on unseen
  data, so this flag asks for a look; it never decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BLUR_THRESHOLD = 25.0
DARK_MEAN = 45.0
MOIRE_THRESHOLD = 2.2


@dataclass
class Quality:
    sharpness: float
    brightness: float
    moire: float

    @property
    def blurred(self) -> bool:
        return self.sharpness < BLUR_THRESHOLD

    @property
    def dark(self) -> bool:
        return self.brightness < DARK_MEAN

    @property
    def screen_photo(self) -> bool:
        return self.moire > MOIRE_THRESHOLD


def _grey(rgb: np.ndarray, side: int) -> np.ndarray:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = g.shape
    s = side / max(h, w)
    if s >= 1.0:  # never upscale: that would blur a small photo and call it blurred
        return g
    return cv2.resize(g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


_WINDOW: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _window_and_band(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The Hann window of a ``size``² patch and the spectrum cells that are searched for a peak (the mid and
    high frequencies, off the axes where JPEG blocks and image borders put their own lines); cached."""
    got = _WINDOW.get(size)
    if got is None:
        win = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
        yy, xx = np.mgrid[:size, :size]
        r = np.hypot(yy - size / 2, xx - size / 2) / (size / 2)
        band = (r > 0.25) & (r < 0.95)
        axis = (np.abs(yy - size // 2) <= 2) | (np.abs(xx - size // 2) <= 2)
        got = _WINDOW[size] = (win, np.flatnonzero(band & ~axis))
    return got


def moire_score(grey: np.ndarray) -> float:
    """Height of the strongest isolated mid/high-frequency spectral peak above its neighbourhood (log)."""
    h, w = grey.shape
    if min(h, w) < 64:
        return 0.0
    # central square patch at native resolution of the working image (no resampling that would blur the grid)
    size = min(h, w, 512) // 2 * 2
    y0, x0 = (h - size) // 2, (w - size) // 2
    patch = grey[y0 : y0 + size, x0 : x0 + size].astype(np.float32)
    win, sel = _window_and_band(size)
    if not sel.size:
        return 0.0
    patch = (patch - patch.mean()) * win
    # OpenCV's FFT (single precision, ~8× numpy's here), magnitude, then centred like np.fft.fftshift
    re, im = cv2.split(cv2.dft(patch, flags=cv2.DFT_COMPLEX_OUTPUT))
    spec = np.fft.fftshift(np.log1p(cv2.magnitude(re, im)))
    resid = spec - cv2.blur(spec, (9, 9))
    return float(resid.ravel()[sel].max())


def assess(rgb: np.ndarray) -> Quality:
    grey = _grey(rgb, 512)
    return Quality(
        sharpness=sharpness(grey),
        brightness=float(grey.mean()),
        moire=moire_score(grey),
    )
