"""Money to the tiyn: the one rounding rule of the law and exact arithmetic for the boundary decisions.

OpenFisca's ``float`` variables are float32, which holds whole tenge exactly only up to 16,777,216 ₸ and
tiyn not at all (50,000,001 ₸ reads as 50,000,000; 111,592.00 as 111,592.01). The law's amounts are
therefore :class:`Money` variables: float64 KZT whose values always lie on the tiyn grid, and every
formula that decides or pays converts them to **integer tiyn** (int64), computes exactly, and converts back.

The rounding rule (the only one): an amount of money is rounded **half up to the tiyn** (0.005 ₸ → 0.01 ₸);
the poverty line, a share of a subsistence minimum or median, is rounded half up to the whole tenge.
Per-capita income is such an amount: counted income ÷ members ÷ 3, rounded half up to the tiyn, and the
comparison with the line and the gap use that printed figure, so every figure can be checked from the
figures printed before it.
"""

from __future__ import annotations

import numpy as np
from openfisca_core.variables import Variable

#: tiyn in a tenge
TIYN = 100
#: shares (0.7, 0.35, 1.5 …) are taken to this many decimal places, exactly, before multiplying
_SHARE_SCALE = 1_000_000


class Money(Variable):
    """A KZT amount held as float64 (OpenFisca's float is float32), always a whole number of tiyn."""

    value_type = float
    unit = "currency-KZT"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dtype = np.float64


def to_tiyn(kzt) -> np.ndarray:
    """KZT amounts (float) as integer tiyn, rounded half up (amounts are never negative)."""
    x = np.asarray(kzt, dtype=np.float64) * TIYN
    # The grid value k/100 times 100 lies within a few ulps of k; the nudge keeps a printed x.xx5 (a value
    # just below its decimal in binary) rounding up, as it reads.
    return np.floor(x + 0.5 + 1e-7).astype(np.int64)


def to_kzt(tiyn) -> np.ndarray:
    """Integer tiyn as float64 KZT (the nearest double to the decimal amount)."""
    return np.asarray(tiyn, dtype=np.int64) / TIYN


def divide_half_up(numerator, denominator) -> np.ndarray:
    """Integer division rounded half up, for non-negative numerators and positive denominators."""
    num = np.asarray(numerator, dtype=np.int64)
    den = np.asarray(denominator, dtype=np.int64)
    return (2 * num + den) // (2 * den)


def share_tiyn(share, amount_tiyn, unit: int = 1) -> np.ndarray:
    """``share × amount`` exactly, rounded half up to ``unit`` tiyn (1: the tiyn; 100: the whole tenge).

    The share is read to six decimal places (the law's shares have at most two); the product is formed in
    integers, so 0.7 × 29,695 = 20,786.5 rounds to 20,787, not to the 20,786 that binary 0.7 would give.
    """
    micro = int(round(float(share) * _SHARE_SCALE))
    product = micro * np.asarray(amount_tiyn, dtype=np.int64)
    return divide_half_up(product, _SHARE_SCALE * unit) * unit


def round_half_up(x, decimals: int = 0) -> np.ndarray:
    """Round non-negative KZT amounts half up to ``decimals`` places (2: the tiyn; 0: the tenge)."""
    unit = TIYN // 10**decimals
    return to_kzt(divide_half_up(to_tiyn(x), unit) * unit)
