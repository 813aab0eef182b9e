"""Wilson intervals: inside [0, 1], around the estimate, never zero-width for a group without errors."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from atauly.registry.intervals import wilson_interval


@given(st.integers(1, 10_000), st.data())
def test_wilson_interval_contains_the_estimate(n, data):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n)
    assert 0 <= low <= k / n <= high <= 1
    assert high - low > 0  # also for k = 0 or k = n, where a percentile bootstrap collapses


def test_wilson_known_values_and_empty_groups():
    low, high = wilson_interval(0, 10)
    assert low == 0 and abs(high - 0.2775) < 1e-3  # the textbook value for 0/10
    low, high = wilson_interval(np.array([5, 0]), np.array([10, 0]))
    assert abs(low[0] - 0.2366) < 1e-3 and abs(high[0] - 0.7634) < 1e-3
    assert np.isnan(low[1]) and np.isnan(high[1])
