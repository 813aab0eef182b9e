"""From the LP's fractional solution to whole places: tie bands, lottery order, rounding and repair."""

from __future__ import annotations

import math

import numpy as np


def tie_bins(value: np.ndarray, band: float) -> np.ndarray:
    """Bands of near-equal values: equal bin ⇔ values within a factor (1 + band) (on a log grid)."""
    if band <= 0:
        return -np.arange(len(value), dtype=np.int64)  # no ties: value order
    return np.floor(np.log(np.maximum(value, 1e-12)) / math.log1p(band)).astype(np.int64)


def repair(pr, x, order_key, cap_index, cap_places, bud_index, bud_budget, n_persons):
    """Round the LP solution: accept pairs in order (LP value, then tie band and lottery), while the member
    is free and places and budget remain; then a fill pass over the pairs left, in value order."""
    n = len(pr)
    xr = np.round(x, 6)
    first = np.lexsort((order_key[1], -order_key[0], -xr))  # LP value desc, tie band desc, lottery
    fill = np.lexsort((order_key[1], -order_key[0]))
    # The loop runs over Python lists (numbers as Python ints and floats, the same values in the same
    # arithmetic): indexing numpy arrays one element at a time costs several times more.
    person = pr["person"].to_numpy().tolist()
    cost = pr["cost_mrp"].to_numpy(dtype=float).tolist()
    cap_index, bud_index = np.asarray(cap_index).tolist(), np.asarray(bud_index).tolist()
    taken = [False] * n_persons
    places = cap_places.astype(np.int64).tolist()
    budget = bud_budget.astype(float).tolist()
    xs = xr.tolist()
    chosen = np.zeros(n, dtype=bool)
    for idx_order, min_x in ((first.tolist(), 1e-6), (fill.tolist(), -1.0)):
        for i in idx_order:
            if xs[i] < min_x:
                break
            p = person[i]
            if taken[p]:
                continue
            c, b = cap_index[i], bud_index[i]
            if places[c] <= 0 or budget[b] < cost[i] - 1e-9:
                continue
            taken[p] = True
            places[c] -= 1
            budget[b] -= cost[i]
            chosen[i] = True
    return chosen
