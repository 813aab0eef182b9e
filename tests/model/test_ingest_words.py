"""Every reason the ingestion of a user's table writes (why a column was kept, converted or dropped) is said in
Russian and Kazakh: the stored English is matched against model.wording's patterns, and a reason none of them
matches would reach the console, the report and the card in English (issue 20: "a single value besides
missing" did)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from atauly.model.ingest import ingest
from atauly.model.wording import Words

#: English words a Russian or Kazakh reason may keep: the values "true"/"false" as they appear in a table.
KEPT = {"true", "false"}


def _every_kind_of_column(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "text_num": [f"{x:.2f}" for x in rng.normal(size=n)],
            "comma": [f"{x:.2f}".replace(".", ",") for x in rng.normal(size=n)],
            "mixed": [("да" if i % 7 == 0 else str(i % 13)) for i in range(n)],
            "odd": [("?" if i % 9 == 0 else str(i % 11)) for i in range(n)],
            "flag": rng.integers(0, 2, size=n).astype(bool),
            "empty": [None] * n,
            "const": ["a"] * n,
            "one_value": ["a" if i % 2 else None for i in range(n)],
            "row": np.arange(n),
            "client_id": rng.permutation(n) + 1000,
            "code": [f"X{i}" for i in range(n)],
            "many": [f"c{i % 150}" for i in range(n)],
            "cat": [["a", "b", "c"][i % 3] for i in range(n)],
            "yes": [["yes", "no"][i % 2] for i in range(n)],
        }
    )


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_ingestion_reason_is_said_in_the_language(lang):
    report = [r if isinstance(r, dict) else r.as_dict() for r in ingest(_every_kind_of_column()).report]
    reasons = {r["reason"] for r in report}
    assert len(reasons) >= 10, reasons  # the table exercises most of the rules
    w = Words(lang)
    for reason in reasons:
        said = w.stored(reason)
        english = [x for x in re.findall(r"[A-Za-z]{3,}", said) if x.lower() not in KEPT]
        assert not english, (reason, said)
