"""Build small registries for tests from compact specs (always through the real validator)."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd

from atauly.registry import Registry
from atauly.registry.iin import make_iin
from atauly.registry.validate import validate

_serial = itertools.count(1000)
_used: set[str] = set()


def _new_iin(born: str, sex: str) -> str:
    while True:
        iin = make_iin(dt.date.fromisoformat(born), sex, next(_serial) % 9000)
        if iin not in _used:
            _used.add(iin)
            return iin


def person(
    role="applicant", sex="F", born="1985-01-01", status="not_working", disability=0, incomes=None, **extra
):
    return {
        "role": role,
        "sex": sex,
        "birth_date": born,
        "employment_status": status,
        "disability_group": disability,
        "incomes": incomes or {},
        **extra,
    }


def family(fid, people, region="610000000", applied="", **extra):
    return {"family_id": fid, "region_kato": region, "application_date": applied, "people": people, **extra}


def tables(families: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    fam_rows, per_rows, inc_rows = [], [], []
    for f in families:
        f = dict(f)
        people = f.pop("people")
        fam_rows.append(f)
        for k, p in enumerate(people, start=1):
            p = dict(p)
            incomes = p.pop("incomes")
            pid = p.pop("person_id", f"{f['family_id']}-{k}")
            iin = p.pop("iin", None) or _new_iin(p["birth_date"], p["sex"])
            per_rows.append(
                {"person_id": pid, "family_id": p.pop("family_id", f["family_id"]), "iin": iin, **p}
            )
            for (source, month), amount in incomes.items():
                inc_rows.append({"person_id": pid, "month": month, "source": source, "amount_kzt": amount})
    inc = pd.DataFrame(inc_rows, columns=["person_id", "month", "source", "amount_kzt"])
    return pd.DataFrame(fam_rows), pd.DataFrame(per_rows), inc


def registry(families: list[dict]) -> Registry:
    fam, per, inc, report = validate(*tables(families))
    assert report.ok, report.summary()
    return Registry(fam, per, inc)


def quarter_incomes(source: str, monthly: float, months=("2025-04", "2025-05", "2025-06")) -> dict:
    return {(source, m): monthly for m in months}
