"""Small populations for the planner's tests, built directly (no law run) so that properties run fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atauly.plans.catalog import load_catalog
from atauly.plans.people import Population

STATUSES = ["not_working", "registered_unemployed", "self_employed", "caring_child_under_3", "employee"]
EDUCATION = ["none", "basic_secondary", "general_secondary", "technical_vocational", "higher"]


def make_population(
    n_families: int = 40, seed: int = 0, districts: int = 3, region: str = "610000000"
) -> Population:
    rng = np.random.default_rng(seed)
    members = rng.integers(2, 7, n_families)
    line = 39_346.0
    pci = line * rng.uniform(0.3, 0.99, n_families)
    district = np.array([f"{region[:2]}{k + 1:02d}00000" for k in range(districts)])[
        rng.integers(0, districts, n_families)
    ]
    fam = pd.DataFrame(
        {
            "family_id": [f"F{i}" for i in range(n_families)],
            "region_kato": region,
            "district": district,
            "settlement_type": np.where(rng.random(n_families) < 0.5, "urban", "rural"),
            "members": members,
            "per_capita_income": pci,
            "poverty_line": line,
            "application_month": "2025-07",
        }
    )
    fam["need_kzt"] = (line - pci) * members + 0.01 * members
    adults = rng.integers(1, 3, n_families)
    rows = []
    for f in range(n_families):
        for k in range(adults[f]):
            rows.append(
                {
                    "person_id": f"F{f}-{k}",
                    "family_id": f"F{f}",
                    "fam": f,
                    "role": "applicant" if k == 0 else "spouse",
                    "sex": "F" if rng.random() < 0.5 else "M",
                    "age": int(rng.integers(18, 62)),
                    "education": EDUCATION[rng.integers(0, len(EDUCATION))],
                    "employment_status": STATUSES[rng.integers(0, len(STATUSES))],
                    "disability_group": int(rng.random() < 0.1) * 3,
                    "long_term_illness": False,
                    "able_bodied": True,
                    "carer": False,
                    "born": True,
                }
            )
    per = pd.DataFrame(rows)
    fam["children"] = rng.integers(0, 6, n_families)
    fam["disabled_member"] = (
        per.groupby("fam")["disability_group"].max().reindex(range(n_families)).fillna(0).to_numpy() > 0
    )
    fam["priority"] = fam["disabled_member"] | (fam["children"] >= 4)
    district_families = pd.Series(4000, index=pd.unique(fam["district"]))
    region_families = pd.Series(4000 * districts, index=[region])
    return Population(fam, per, district_families, region_families)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog("2025-07-01")
