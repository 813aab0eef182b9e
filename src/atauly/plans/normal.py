"""The standard normal distribution function Φ, without importing ``scipy.special`` for small arrays.

One family's plan computes Φ for a handful of (member, measure) pairs; importing ``scipy.special`` for them
costs ~0.3 s of the second a family's plan and documents may take. Arrays up to ``SMALL`` values are computed
with :func:`math.erfc` (correctly rounded to a few ulp, like scipy's ``ndtr``); larger ones (a national plan)
with scipy's vectorised ``ndtr``.
"""

from __future__ import annotations

import math

import numpy as np

SMALL = 2048
_SQRT_HALF = math.sqrt(0.5)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x * _SQRT_HALF)


_phi_array = np.frompyfunc(_phi, 1, 1)


def ndtr(x) -> np.ndarray:
    """Φ(x) elementwise, as ``scipy.special.ndtr`` (NaN stays NaN, ±inf gives 1 or 0)."""
    x = np.asarray(x, dtype=float)
    if x.size <= SMALL:
        return np.asarray(_phi_array(x), dtype=float)
    from scipy.special import ndtr as scipy_ndtr

    return scipy_ndtr(x)
