"""Confirmed facts and the application's tables with them applied.

A confirmed fact is what a person established about the family's living conditions: a count in the
home-inspection act (vehicles, livestock, dwellings), the district commission's conclusion recorded with
it, the dwelling the act describes (type, walls, floor, heating, water, toilet: coded), or an asset that a
photo may show and an officer confirmed. A photo's score is never a fact.

Facts are values of the data contract's family columns (``registry/schema.py``), so the law (its asset
rules: ``dwellings_owned``, ``vehicles_owned``; the commission's conclusion, Art. 128 p.3) and Stage 1's
features (``model/features.py``: the same columns plus ``livestock_heads``, and the dwelling's columns
where a model was trained on data that has them) take them through the same
functions as everything else: :func:`with_facts` gives the tables the engine recomputes on. No second
implementation of any rule or feature.

This module is pure (no database): :mod:`atauly.service.photos` gathers the facts, :mod:`casework` (the law's
trace) and :mod:`decided_cases` (retraining on officers' decisions) apply them.
"""

from __future__ import annotations

import copy

from atauly.registry.codes import DWELLING_CODES

#: The family columns a confirmed fact may set, with their type: the act's counts and the commission's
#: conclusion (the law and Stage 1 use them), and the dwelling as the act records it (coded, the data
#: contract's optional columns ``registry.codes.DWELLING_CODES``: Stage 1 features where a model was
#: trained with them; the law has no rule on them).
COLUMNS: dict[str, type] = {
    "dwellings_owned": int,
    "vehicles_owned": int,
    "livestock_heads": int,
    "commission_found_no_need": bool,
    **dict.fromkeys(DWELLING_CODES, str),
}


def _typed(column: str, value):
    """A fact's value in its column's type; a coded column's missing value stays missing (unknown)."""
    kind = COLUMNS[column]
    if kind is str:
        return None if value is None or value == "" or value != value else str(value)
    return kind(value or 0)


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
            row[column] = _typed(column, value)
    return out


def changes(snapshot: dict, facts: dict | None) -> dict[str, tuple]:
    """``{column: (as submitted, as confirmed)}`` for the facts that differ from the submitted tables."""
    family = (snapshot.get("families") or [{}])[0]
    out = {}
    for column, value in (facts or {}).items():
        before, after = _typed(column, family.get(column)), _typed(column, value)
        if before != after:
            out[column] = (before, after)
    return out
