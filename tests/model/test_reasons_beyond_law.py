"""Reasons that say what the law does not (issue 20): which features restate the law, and the extra reasons
beyond the law that top_reasons adds when the law's own features fill the top."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from atauly.model.explain import RESTATES_LAW, restates_law, top_reasons
from atauly.model.features import FEATURE_NAMES, FEATURES

NAMES = list(FEATURE_NAMES)


def _row() -> pd.Series:
    values = {f.name: (1.0 if f.kind == "numeric" else "none") for f in FEATURES}
    values["settlement_type"] = "rural"
    return pd.Series(values)


def test_the_law_restating_features_are_the_laws_result_and_its_inputs():
    assert RESTATES_LAW <= set(FEATURE_NAMES)
    for name in (
        "law_eligible",
        "law_refusal_reason",
        "income_to_line",
        "members",
        "wages_pc",
        "vehicles_owned",
    ):
        assert restates_law(name)
    for name in (
        "children",
        "single_parent",
        "employees",
        "record_age_quarters",
        "settlement_type",
        "land_ha",
    ):
        assert not restates_law(name)


def test_the_top_is_kept_and_reasons_beyond_the_law_follow():
    contributions = np.zeros(len(NAMES))
    # the law's own features have the largest contributions, as they do for a trained forest
    for k, name in enumerate(("law_eligible", "income_to_line", "law_amount_per_member", "wages_pc")):
        contributions[NAMES.index(name)] = 0.2 - 0.03 * k
    contributions[NAMES.index("single_parent")] = 0.01
    contributions[NAMES.index("employees")] = -0.02
    contributions[NAMES.index("record_age_quarters")] = 0.005
    contributions[NAMES.index("members")] = 0.015  # restates the law: not an extra
    plain = top_reasons(_row(), contributions, NAMES, "ru", top=3)
    assert [r.feature for r in plain] == ["law_eligible", "income_to_line", "law_amount_per_member"]
    more = top_reasons(_row(), contributions, NAMES, "kk", top=3, beyond_law=2)
    assert [r.feature for r in more] == [*(r.feature for r in plain), "employees", "single_parent"]
    assert more[-1].text and more[-2].contribution == -0.02
    # another table than the registry's has no law: no extras
    assert len(top_reasons(_row(), contributions, NAMES, "en", top=3, contract=False, beyond_law=2)) == 3


@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=len(NAMES), max_size=len(NAMES)), st.integers(0, 6)
)
def test_extras_never_restate_the_law_nor_repeat_the_top(values, top):
    contributions = np.array(values)
    out = top_reasons(_row(), contributions, NAMES, "en", top=top, beyond_law=3)
    features = [r.feature for r in out]
    assert len(features) == len(set(features))
    plain = [r.feature for r in top_reasons(_row(), contributions, NAMES, "en", top=top)]
    assert features[: len(plain)] == plain
    extras = features[len(plain) :]
    assert len(extras) <= 3 and not any(restates_law(f) for f in extras)
    # the extras are the largest of the rest that go beyond the law
    rest = [
        n
        for n in np.array(NAMES)[np.argsort(-np.abs(contributions), kind="stable")][top:]
        if not restates_law(n) and contributions[NAMES.index(n)] != 0
    ]
    assert extras == rest[:3]
