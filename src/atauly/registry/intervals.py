"""Confidence intervals for proportions that stay honest for small groups and for groups with no errors.

A percentile bootstrap gives a zero-width interval for a group where every family was covered (or none
was); the Wilson score interval does not (Wilson 1927; Brown, Cai & DasGupta, Statistical Science 2001,
recommend it over the normal approximation for small n). Used by the calibration report and by the
population-level evaluation of models (``atauly.model.population``).
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes, trials, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / trials`` (arrays or scalars); NaN where ``trials`` is 0."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = k / n
        denom = 1 + z**2 / n
        centre = (phat + z**2 / (2 * n)) / denom
        half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / denom
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        # Exact at the ends (rounding would leave the estimate a hair outside its own interval).
        low, high = (
            np.where(k <= 0, 0.0, np.minimum(low, phat)),
            np.where(k >= n, 1.0, np.maximum(high, phat)),
        )
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)
