"""Take-up: who applies for ASP, as a smooth logistic in true and perceived need (issue 14).

The world's own behaviour, importable on its own (the history draws applications with it; a simulation of
proactive offers can draw replies with it): no cut at the true line — families just above it apply too,
some far below it never do. Parameters and their sources: ``SyntheticParams`` (``takeup_*``).
"""

from __future__ import annotations

import numpy as np

from .params import SyntheticParams


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def need_gap(per_capita_income, line) -> np.ndarray:
    """True need: the gap between a family's true monthly income per member and ``line`` (70% of the
    subsistence minimum), as a share of the line, clipped to [-1, 1] (1: no income; 0: at the line)."""
    return np.clip(1 - np.asarray(per_capita_income, dtype=float) / line, -1, 1)


def takeup_probability(
    perceived_need,
    members,
    rural,
    city,
    region_shift=0.0,
    propensity=0.0,
    params: SyntheticParams | None = None,
) -> np.ndarray:
    """The chance that a family applies in a quarter (arrays broadcast together).

    ``perceived_need``: :func:`need_gap` of its true income plus its persistent error of perception
    (``perceived_need_sigma``); ``members``: family size; ``rural``: lives in a village; ``city``: lives in
    Astana or Almaty; ``region_shift``: the region's logit shift (``takeup_region_shift``, by KATO);
    ``propensity``: the family's persistent logit propensity (σ ``family_takeup_sigma``; 0 = a typical
    family). Logit = intercept + need slope × perceived need + size slope × (members − 3) − rural − city
    + region + propensity."""
    p = params or SyntheticParams()
    logit = (
        p.takeup_intercept
        + p.takeup_need * np.asarray(perceived_need, dtype=float)
        + p.takeup_size * (np.asarray(members, dtype=float) - 3)
        - p.takeup_rural * np.asarray(rural, dtype=float)
        - p.takeup_city * np.asarray(city, dtype=float)
        + region_shift
        + propensity
    )
    return _sigmoid(logit)


def reapply_probability(perceived_need, params: SyntheticParams | None = None) -> np.ndarray:
    """The chance that last quarter's recipient applies again: ``recipients_reapply`` while it feels in
    need, falling smoothly as its perceived need turns negative (not at the true line)."""
    p = params or SyntheticParams()
    return p.recipients_reapply * _sigmoid(4 + 8 * np.asarray(perceived_need, dtype=float))
