"""Applications for the demo, the tests and the load benchmarks, taken from a generated registry.

Each payload is one family exactly as it applied (the registry's ``applications/`` snapshots: what the
family declared), in the API's JSON. ``shift_to`` moves a payload to another quarter — the application
date and every income month by the same number of months — so that a demo queue can sit in the current
quarter with deadlines still ahead.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.model.data import application_registry
from atauly.registry import Registry
from atauly.registry.quarter import Quarter

from .schemas import FamilyIn, IncomeIn, PersonIn


def _clean(row: dict, fields) -> dict:
    out = {}
    for name in fields:
        if name not in row:
            continue
        v = row[name]
        if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, pd.Timestamp):
            v = v.date().isoformat()
        elif isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and name not in ("land_ha", "nonmortgage_loan_balance", "amount_kzt"):
            v = int(v)
        out[name] = v
    return out


def registry_payloads(reg: Registry, rows) -> list[dict]:
    """API payloads (without idempotency keys) of the families at positions ``rows`` of a registry."""
    person_family, income_person = reg.positions()
    fam_fields = list(FamilyIn.model_fields)
    per_fields = list(PersonIn.model_fields)
    inc_fields = list(IncomeIn.model_fields)
    rows = [int(r) for r in rows]
    wanted = set(rows)
    persons_of: dict[int, list[int]] = {}
    for i, f in enumerate(person_family):
        if int(f) in wanted:
            persons_of.setdefault(int(f), []).append(i)
    person_rows = {i for members in persons_of.values() for i in members}
    incomes_of: dict[int, list[int]] = {}
    for j, p in enumerate(income_person):
        if int(p) in person_rows:
            incomes_of.setdefault(int(p), []).append(j)
    out = []
    for r in rows:
        members = persons_of.get(r, [])
        out.append(
            {
                "family": _clean(reg.families.iloc[r].to_dict(), fam_fields),
                "persons": [_clean(reg.persons.iloc[i].to_dict(), per_fields) for i in members],
                "incomes": [
                    _clean(reg.incomes.iloc[j].to_dict(), inc_fields)
                    for i in members
                    for j in incomes_of.get(i, [])
                ],
            }
        )
    return out


def payloads(directory: Path | str, quarter: str | None = None, limit: int | None = None) -> list[dict]:
    """Application payloads (API JSON) from a generated registry's snapshots; the latest quarter by
    default. Each carries the registry's application id as its idempotency key."""
    reg, dec = application_registry(Path(directory))
    quarters = dec["quarter"].astype(str)
    quarter = quarter or quarters.max()
    rows = np.flatnonzero((quarters == quarter).to_numpy())
    if limit is not None:
        rows = rows[:limit]
    return [
        {"idempotency_key": f"seed-{dec['application_id'].iloc[r]}", **payload}
        for r, payload in zip(rows, registry_payloads(reg, rows), strict=True)
    ]


def shift_to(payload: dict, day: date) -> dict:
    """The same application made on ``day``: income months move with it, whole quarters at a time, so the
    law sees the same quarter-before-application income."""
    applied = date.fromisoformat(payload["family"]["application_date"])
    months = 3 * (Quarter.of(day) - Quarter.of(applied))
    family = {**payload["family"], "application_date": day.isoformat()}
    incomes = [{**i, "month": str(pd.Period(i["month"], freq="M") + months)} for i in payload["incomes"]]
    key = payload.get("idempotency_key")
    return {
        **payload,
        "idempotency_key": f"{key}@{day.isoformat()}" if key else None,
        "family": family,
        "incomes": incomes,
    }
