"""Confirmed facts and the application's tables with them applied.

A confirmed fact is what a person established about the family's living conditions: a count in the
home-inspection act (vehicles, livestock, dwellings), the district commission's conclusion recorded with
it, or an asset that a photo may show and an officer confirmed. A photo's score is never a fact.

Facts are values of the data contract's family columns (``registry/schema.py``), so the law (its asset
rules: ``dwellings_owned``, ``vehicles_owned``; the commission's conclusion, Art. 128 p.3) and Stage 1's
features (``model/features.py``: the same columns plus ``livestock_heads``) take them through the same
functions as everything else: :func:`with_facts` gives the tables the engine recomputes on. No second
implementation of any rule or feature.

This module is pure (no database): :mod:`atauly.service.photos` gathers the facts, :mod:`casework` (the law's
trace) and :mod:`decided_cases` (retraining on officers' decisions) apply them.
"""

from __future__ import annotations

import copy

#: The family columns a confirmed fact may set, with their type.
COLUMNS: dict[str, type] = {
    "dwellings_owned": int,
    "vehicles_owned": int,
    "livestock_heads": int,
    "commission_found_no_need": bool,
}


def with_facts(snapshot: dict, facts: dict | None) -> dict:
    """A copy of an application's tables (``{"families": [row], "persons": …, "incomes": …}``) with the
    confirmed facts written into the family's row. Unknown columns are refused (a fact must be a column
    of the data contract); the snapshot itself is never changed."""
    if not facts:
        return snapshot
    unknown = sorted(set(facts) - set(COLUMNS))
    if unknown:
        raise ValueError(f"not a column a confirmed fact may set: {', '.join(unknown)}")
    out = copy.deepcopy(snapshot)
    for row in out["families"]:
        for column, value in facts.items():
            row[column] = COLUMNS[column](value)
    return out


def changes(snapshot: dict, facts: dict | None) -> dict[str, tuple]:
    """``{column: (as submitted, as confirmed)}`` for the facts that differ from the submitted tables."""
    family = (snapshot.get("families") or [{}])[0]
    out = {}
    for column, value in (facts or {}).items():
        before = family.get(column)
        before = COLUMNS[column](before or 0)
        if before != COLUMNS[column](value):
            out[column] = (before, COLUMNS[column](value))
    return out
