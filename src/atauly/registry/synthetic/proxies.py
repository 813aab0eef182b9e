"""How much of a family's consumption the records can predict: the proxy R² of the calibration (issue 14).

The regressors are what state databases show of a family (recorded income per member, composition, work,
education, assets, settlement); the target is the truth's log consumption per adult equivalent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io import Registry
from ..quarter import Quarter

PROXY_STATUSES = ("employee", "self_employed", "not_working", "registered_unemployed", "pensioner")


def record_proxies(reg: Registry, quarter: str) -> pd.DataFrame:
    """One row per family of the recorded view: log recorded income per member, composition, recorded
    work, education, assets and settlement — the regressors of the proxy R² (issue 14)."""
    n_fam = len(reg.families)
    pf = reg.person_family
    per = reg.persons
    ref = pd.Timestamp(Quarter.parse(quarter).start)
    age = (ref - pd.to_datetime(per["birth_date"])).dt.days.to_numpy() / 365.25
    size = np.maximum(np.bincount(pf, minlength=n_fam), 1)
    src = reg.incomes["source"].to_numpy(dtype=object)
    money = (
        np.bincount(
            pf[reg.income_person],
            weights=reg.incomes["amount_kzt"].to_numpy(dtype=float) * (src != "loans"),
            minlength=n_fam,
        )
        / 3
    )

    def count(mask) -> np.ndarray:
        return np.bincount(pf, weights=np.asarray(mask, dtype=float), minlength=n_fam)

    status = per["employment_status"].to_numpy(dtype=object)
    edu = per["education"].to_numpy(dtype=object)
    fam = reg.families
    pc = money / size
    out = {
        # Log income per member, floored (5,000 ₸), with an indicator for families the records show
        # without income: log(0) is not a number a regression can use.
        "log_income_pc": np.log(np.maximum(pc, 5_000.0)),
        "no_recorded_income": (pc < 5_000.0).astype(float),
        "members": size,
        "children": count(age < 18),
        "elderly": count(age >= 63),
        "disabled": count(per["disability_group"].to_numpy() > 0),
        "low_education": count((age >= 18) & np.isin(edu, ["none", "primary", "basic_secondary"])),
        "higher_education": count((age >= 18) & (edu == "higher")),
        **{f"n_{s}": count(status == s) for s in PROXY_STATUSES},
        "dwellings": fam["dwellings_owned"].to_numpy(dtype=float),
        "vehicles": fam["vehicles_owned"].to_numpy(dtype=float),
        "land_ha": fam["land_ha"].to_numpy(dtype=float),
        "livestock": np.log1p(fam["livestock_heads"].to_numpy(dtype=float)),
        "urban": (fam["settlement_type"].to_numpy() == "urban").astype(float),
    }
    return pd.DataFrame(out)


def proxy_r2(X: pd.DataFrame, y: np.ndarray, region: np.ndarray) -> float:
    """R² of an OLS of ``y`` on the proxies and region dummies (a proxy-means-test regression)."""
    dummies = pd.get_dummies(pd.Series(region), drop_first=True).to_numpy(dtype=float)
    A = np.column_stack([np.ones(len(y)), X.to_numpy(dtype=float), dummies])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    return float(1 - resid.var() / y.var())
