"""Batch computation of the ASP law over a registry: one row per family."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from openfisca_core.periods import period as make_period

from atauly.registry import REGION_BY_KATO, REGIONS, Registry
from atauly.registry.quarter import Quarter

from .simulation import build_simulation, law_inputs
from .system import tax_benefit_system

#: Output columns of ``atauly law compute`` (a contract: add freely, never rename).
RESULT_COLUMNS = [
    "family_id",
    "region_kato",
    "quarter",
    "application_month",
    "members",
    "counted_income_quarter",
    "per_capita_income",
    "subsistence_minimum",
    "subsistence_minimum_source",
    "poverty_line",
    "eligible",
    "refusal_reason",
    "asp_type",
    "asp_monthly_amount",
    "child_supplement_monthly",
    "assignment_period",
    "assignment_months",
    "quarter_total",
]

_VARIABLES = {
    "members": "members",
    "counted_income_quarter": "counted_income_quarter",
    "per_capita_income": "per_capita_income",
    "subsistence_minimum": "subsistence_minimum_reference",
    "subsistence_minimum_source": "subsistence_minimum_source",
    "poverty_line": "poverty_line",
    "eligible": "asp_eligible",
    "refusal_reason": "refusal_reason",
    "asp_type": "asp_type",
    "asp_monthly_amount": "asp_monthly_amount",
    "child_supplement_monthly": "child_supplement_monthly",
    "assignment_months": "asp_assignment_months",
    "quarter_total": "asp_quarter_total",
}


class MissingIncomeError(ValueError):
    """No income row at all for the months the law counts: computing would count every income as 0."""


@dataclass(frozen=True)
class IncomeCoverage:
    """What the registry holds of the incomes the law counts for a quarter (Art. 127 p.2: the three
    months of the quarter before the application quarter)."""

    quarter: str
    months: tuple[str, ...]  # the counted months
    families: int
    rows: int  # income rows in the counted months
    families_without_income: int  # families with no income row in the counted months
    months_held: tuple[str, ...]  # every month the registry holds income rows for
    informal_rows: int  # rows of source "informal" (in any month)

    @property
    def none(self) -> bool:
        return self.families > 0 and self.rows == 0

    def error(self) -> str:
        held = (
            f"the registry holds incomes for {self.months_held[0]} to {self.months_held[-1]}"
            if self.months_held
            else "the registry holds no income rows at all"
        )
        return (
            f"no income row for {self.months[0]} to {self.months[-1]}, the quarter whose income ASP "
            f"{self.quarter} counts (Social Code Art. 127 p.2), so every family's income would count as 0; "
            f"{held}. Compute the quarter after the one the incomes cover, or add that quarter's incomes."
        )

    def warning(self) -> str | None:
        if not self.families_without_income or self.none:
            return None
        share = self.families_without_income / self.families
        return (
            f"{self.families_without_income:,} of {self.families:,} families ({share:.1%}) have no income row "
            f"for {self.months[0]} to {self.months[-1]}: their income counts as 0 ₸. Check that their incomes "
            "were exported (a family with no income at all is possible, a large share usually is not)."
        )

    def informal_warning(self) -> str | None:
        if not self.informal_rows:
            return None
        return (
            f"{self.informal_rows:,} income row(s) of source 'informal' in a recorded view: state databases do "
            "not record informal earnings; these rows are counted as income. Check the export."
        )


def income_coverage(registry: Registry, quarter: Quarter | str) -> IncomeCoverage:
    """The income rows of ``registry`` that the law counts for ``quarter``, and the families without any."""
    quarter = Quarter.parse(quarter)
    months = tuple(quarter.reference_months)
    inc = registry.incomes
    person_family, income_person = registry.positions()
    in_months = inc["month"].isin(months).to_numpy(dtype=bool, na_value=False) & (income_person >= 0)
    with_income = np.zeros(len(registry.families), dtype=bool)
    with_income[person_family[income_person[in_months]]] = True
    held = sorted(pd.unique(inc["month"].dropna().astype(str)))
    informal = int((inc["source"] == "informal").sum()) if len(inc) else 0
    return IncomeCoverage(
        quarter=str(quarter),
        months=months,
        families=len(registry.families),
        rows=int(in_months.sum()),
        families_without_income=int((~with_income).sum()),
        months_held=tuple(held),
        informal_rows=informal,
    )


def check_income_coverage(
    registry: Registry, quarter: Quarter | str, recorded: bool, allow_missing: bool = False
) -> list[str]:
    """Warnings on the incomes the law counts for ``quarter`` (families without any; informal earnings in a
    recorded view). No income row at all raises :class:`MissingIncomeError`, or, with ``allow_missing``,
    is the first warning."""
    return coverage_warnings(income_coverage(registry, quarter), recorded, allow_missing)


def coverage_warnings(coverage: IncomeCoverage, recorded: bool, allow_missing: bool = False) -> list[str]:
    """:func:`check_income_coverage` on a coverage already counted (e.g. summed over a registry's parts)."""
    warnings = []
    if coverage.none:
        if not allow_missing:
            raise MissingIncomeError(coverage.error())
        warnings.append(coverage.error())
    if coverage.warning():
        warnings.append(coverage.warning())
    if recorded and coverage.informal_warning():
        warnings.append(coverage.informal_warning())
    return warnings


def application_months(families: pd.DataFrame, quarter: Quarter) -> pd.Series:
    """The month each family is computed for: its application month when inside the quarter, else the
    quarter's first month (proactive scan of families that have not applied in that quarter)."""
    applied = pd.to_datetime(families["application_date"], errors="coerce").dt.strftime("%Y-%m")
    return applied.where(applied.isin(quarter.months), quarter.first_month)


def _application_months(families: pd.DataFrame, quarter: Quarter) -> np.ndarray:
    """:func:`application_months` as an array; for a few families with typed dates, without pandas'
    date parsing and formatting (the same months: a date's ``YYYY-MM``, a missing one the first month)."""
    dates = families["application_date"]
    if len(families) <= SMALL_FRAME and isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":
        applied = dates.to_numpy().astype("datetime64[M]").astype(str).tolist()
        inside = set(quarter.months)
        return np.array([m if m in inside else quarter.first_month for m in applied], dtype=object)
    return application_months(families, quarter).to_numpy()


def compute(
    registry: Registry,
    quarter: Quarter | str,
    tbs=None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Apply the law to every family of a (validated) registry for a quarter.

    Families are computed in groups by application month (at most three simulations). ``progress`` is
    called with the number of families finished after each group.
    """
    quarter = Quarter.parse(quarter)
    tbs = tbs or tax_benefit_system()
    months = _application_months(registry.families, quarter)
    groups = sorted(pd.unique(months))  # (a hash of the few month strings, not a sort of every family's)
    frames = []
    # Families grouped by month are copied: only the columns the law reads.
    inputs = registry if len(groups) == 1 else law_inputs(registry)
    for month in groups:
        part = registry if len(groups) == 1 else inputs.take(months == month)
        frames.append(_compute_month(part, str(month), quarter, tbs))
        if progress:
            progress(len(part.families))
    if not frames:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    if len(frames) == 1:
        return frames[0]
    # Back to the registry's order: rows were grouped by month, each group in registry order.
    order = np.argsort(np.argsort(months, kind="stable"), kind="stable")
    return pd.concat(frames, ignore_index=True).iloc[order].reset_index(drop=True)


#: Up to this many families, the result frame is put together from numpy arrays in one construction
#: (:func:`_small_frame`): for the casework engine's batches of a few applications, pandas' per-column
#: operations were most of the law's cost. Larger computations keep their Arrow text columns.
SMALL_FRAME = 64


#: The money columns of the result, rounded to the tiyn.
_MONEY_COLUMNS = (
    "counted_income_quarter",
    "per_capita_income",
    "subsistence_minimum",
    "poverty_line",
    "asp_monthly_amount",
    "child_supplement_monthly",
    "quarter_total",
)


def _compute_month(registry: Registry, month: str, quarter: Quarter, tbs) -> pd.DataFrame:
    sim = build_simulation(registry, month, tbs)
    if len(registry.families) <= SMALL_FRAME:
        return _small_frame(registry, sim, month, quarter)
    # Text columns stay Arrow strings (no round trip through millions of Python objects).
    out = {
        "family_id": _text(registry.families["family_id"]),
        "region_kato": _text(registry.families["region_kato"]),
    }
    out.update(_calculated(sim, month, _enum_text))
    df = pd.DataFrame(out)
    df.insert(2, "quarter", str(quarter))
    df.insert(3, "application_month", month)
    for col in _MONEY_COLUMNS:
        df[col] = np.round(df[col].astype(np.float64), 2)
    df["refusal_reason"] = df["refusal_reason"].where(df["refusal_reason"] != "none", "")
    df["asp_type"] = df["asp_type"].where(df["asp_type"] != "none", "")
    last = quarter.last_month
    df["assignment_period"] = np.where(df["eligible"], f"{month}/{last}", "")
    return df[RESULT_COLUMNS]


def _calculated(sim, month: str, decode) -> dict[str, object]:
    """Each result variable calculated for ``month`` (the period parsed once, not by every calculate), an
    enumeration's values turned into text by ``decode``."""
    period = make_period(month)
    out: dict[str, object] = {}
    for column, variable in _VARIABLES.items():
        values = sim.calculate(variable, period)
        out[column] = decode(values) if hasattr(values, "decode_to_str") else values
    return out


def _small_frame(registry: Registry, sim, month: str, quarter: Quarter) -> pd.DataFrame:
    """:func:`_compute_month`'s frame for a few families, the same values and dtypes (tested): each
    column finished as a numpy array, then one frame built from them."""
    fam = registry.families
    n = len(fam)
    out: dict[str, object] = {
        "family_id": _small_text(fam["family_id"]),
        "region_kato": _small_text(fam["region_kato"]),
        "quarter": np.full(n, str(quarter), dtype=object),
        "application_month": np.full(n, month, dtype=object),
    }
    out.update(_calculated(sim, month, _enum_names))
    for col in _MONEY_COLUMNS:
        out[col] = np.round(np.asarray(out[col]).astype(np.float64), 2)
    for col in ("refusal_reason", "asp_type"):
        out[col] = np.where(out[col] != "none", out[col], "").astype(object)
    last = quarter.last_month
    out["assignment_period"] = np.where(out["eligible"], f"{month}/{last}", "").astype(object)
    return pd.DataFrame({col: out[col] for col in RESULT_COLUMNS})


def _small_text(column: pd.Series) -> np.ndarray:
    """A text column as Python strings, for the frame to infer its text dtype from; a column with
    missing values goes through :func:`_text`."""
    if isinstance(column.dtype, pd.StringDtype) and not column.hasnans:
        return np.array(column.tolist(), dtype=object)
    return _text(column)


def _enum_names(values) -> np.ndarray:
    """An OpenFisca enum array's names (as :func:`_enum_text` decodes them), as Python strings."""
    names = {item.index: item.name for item in values.possible_values}
    table = np.array([names.get(i) for i in range(max(names) + 1)], dtype=object)
    return table[np.asarray(values.view(np.ndarray), dtype=np.intp)]


def _enum_text(values) -> pd.Series:
    """An OpenFisca enum array as text, as ``decode_to_str`` names it: decoded by Arrow from the enum's
    indices (a dictionary array), without a numpy array of strings that pandas would copy value by
    value into its Arrow text column."""
    items = list(values.possible_values)
    names = [None] * (max(item.index for item in items) + 1)
    for item in items:
        names[item.index] = item.name
    indices = pa.array(np.asarray(values.view(np.ndarray), dtype=np.int32))
    decoded = pa.DictionaryArray.from_arrays(indices, pa.array(names, type=pa.large_string()))
    return decoded.cast(pa.large_string()).to_pandas()


def _text(column: pd.Series) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """A text column as the result frame would infer it from ``column.to_numpy()``."""
    if isinstance(column.dtype, pd.StringDtype) and not column.hasnans:
        return column.astype(str).array
    return column.to_numpy()


def by_region(result: pd.DataFrame) -> pd.DataFrame:
    """Families, families entitled, persons entitled and monthly budget (ASP + child supplement) by
    region, in KATO order with English names, and a national total row (``region_kato`` = ``total``)."""
    entitled = result["eligible"].astype(bool)
    r = result.assign(
        persons=result["members"].where(entitled, 0),
        budget=(result["asp_monthly_amount"] + result["child_supplement_monthly"]).where(entitled, 0),
    )
    g = r.groupby("region_kato").agg(
        families=("family_id", "size"),
        entitled=("eligible", "sum"),
        persons_entitled=("persons", "sum"),
        monthly_budget=("budget", "sum"),
    )
    g = g.reindex([reg.kato for reg in REGIONS if reg.kato in g.index])
    g.insert(0, "region", [REGION_BY_KATO[k].name_en for k in g.index])
    total = pd.DataFrame(
        [{"region": "Kazakhstan (total)", **g.drop(columns="region").sum().to_dict()}], index=["total"]
    )
    g = pd.concat([g, total])
    g.index.name = "region_kato"
    g = g.reset_index()
    for col in ("families", "entitled", "persons_entitled"):
        g[col] = g[col].astype(int)
    g["monthly_budget"] = g["monthly_budget"].astype(float).round(2)
    return g
