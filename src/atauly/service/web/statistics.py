"""Statistics of the casework with charts (inline SVG, no script) and CSV downloads."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from atauly.i18n import N_
from atauly.registry import codes

from .. import casework, statistics
from ..casework import REASON_CODES, ServiceError
from .kit import Fmt, Page, SignedIn, district_label, finish, render

router = APIRouter(include_in_schema=False)


STAT_COLUMNS = {
    "applications": N_("Applications"),
    "open": N_("Open"),
    "decided": N_("Decided"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "home_visits": N_("Home visits"),
    "agreement": N_("Agreement with the recommendation"),
    "overrides": N_("Overrides"),
    "override_rate": N_("Override rate"),
    "on_time_share": N_("Decided on time"),
    "median_working_days": N_("Median working days to decide"),
    "overdue_open": N_("Open past the deadline"),
    "amount_monthly_approved": N_("Approved assistance a month"),
}
#: Shorter headers for the tables (the summary cards above them use the full labels).
STAT_SHORT = {
    "agreement": N_("Agreement"),
    "on_time_share": N_("On time"),
    "median_working_days": N_("Median days"),
    "overdue_open": N_("Overdue, open"),
    "amount_monthly_approved": N_("Approved a month"),
}
CSV_TABLES = {
    "by_district": N_("By district"),
    "by_region": N_("By region"),
    "by_model": N_("By model version"),
    "overrides_by_reason": N_("Overrides by reason"),
}


@dataclass
class Bar:
    label: str
    value: float
    text: str


def bar_chart(key: str, title: str, bars: list[Bar], maximum: float | None = None) -> dict:
    """A horizontal bar chart drawn as inline SVG (no script); the description lists every value."""
    label_w, bar_w, value_w, row_h = 210, 250, 110, 28
    top = max([maximum or 0.0, *(b.value for b in bars)]) or 1.0
    rows = []
    for k, b in enumerate(bars):
        short = b.label if len(b.label) <= 27 else b.label[:26] + "…"
        width = max(0.0, b.value) / top * bar_w
        rows.append(
            {
                "y": k * row_h,
                "label": short,
                "full": b.label,
                "width": round(width, 1),
                "text": b.text,
                "text_x": label_w + round(width, 1) + 6,
            }
        )
    return {
        "id": key,
        "title": title,
        "rows": rows,
        "label_w": label_w,
        "bar_w": bar_w,
        "row_h": row_h,
        "width": label_w + bar_w + value_w,
        "height": max(1, len(bars)) * row_h,
        "desc": "; ".join(f"{b.label}: {b.text}" for b in bars),
    }


def _scope_choices(page: Page) -> dict:
    """What the statistics filter offers: regions for analysts and admins, districts within scope."""
    user = page.user
    catalogue = casework.district_catalogue()
    if user.role == "officer":
        return {"regions": [], "districts": []}
    if user.role == "supervisor":
        katos = [d for d, r in catalogue.items() if r == user.region_kato]
        return {
            "regions": [],
            "districts": [(d, district_label(d, page.lang)) for d in katos],
        }
    return {
        "regions": [(r.kato, codes.region_name(r.kato, page.lang)) for r in codes.REGIONS],
        "districts": [],
    }


def _stat_rows(page: Page, rows: list[dict], key: str) -> list[dict]:
    out = []
    for r in rows:
        if key == "district":
            label = district_label(r["district"], page.lang)
            extra = codes.region_name(r["region"], page.lang)
        elif key == "region":
            label, extra = codes.region_name(r["region"], page.lang), ""
        else:
            label = r["model_version"] if not r["model_version"].startswith("—") else page.t("Law only")
            extra = ""
        out.append({"label": label, "extra": extra, "code": r.get(key), **r})
    return out


def _num(value) -> float:
    """A chart's bar length: suppressed cells ("<10") and withheld rates (null) draw none."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _statistics(page, region: str, district: str) -> dict:
    """The statistics of the page's user's scope (small cells suppressed), read off the write connection."""
    return statistics.compute(
        page.db,
        page.user,
        region=region or None,
        district=district or None,
        min_cell=page.request.app.state.settings.statistics_min_cell,
        read=page.request.app.state.read_sessions(),
    )


@router.get("/statistics")
def statistics_page(page: SignedIn, region: str = "", district: str = ""):
    stats = _statistics(page, region, district)
    f = Fmt(page.t)
    totals = stats["totals"]
    by_district = _stat_rows(page, stats["by_district"], "district")
    by_region = _stat_rows(page, stats["by_region"], "region")
    by_model = _stat_rows(page, stats["by_model"], "model_version")
    reasons: dict[str, int] = {}
    for r in stats["overrides_by_reason"]:
        reasons[r["reason_code"] or ""] = reasons.get(r["reason_code"] or "", 0) + _num(r["count"])
    overrides = [
        {
            "reason": REASON_CODES.get(r["reason_code"] or "", N_("No reason recorded")),
            "district": district_label(r["district"], page.lang),
            "model": r["model_version"]
            if not str(r["model_version"]).startswith("—")
            else page.t("Law only"),
            "count": r["count"],
        }
        for r in stats["overrides_by_reason"]
    ]
    # Charts by region when the scope spans regions, else by district.
    groups = by_region if len(by_region) > 1 else by_district
    t = page.t
    charts = [
        bar_chart(
            "chart-agreement",
            t("Agreement with the recommendation"),
            [Bar(g["label"], _num(g["agreement"]), f.percent(g["agreement"])) for g in groups],
            maximum=1.0,
        ),
        bar_chart(
            "chart-on-time",
            t("Decided within the statutory 15 working days"),
            [Bar(g["label"], _num(g["on_time_share"]), f.percent(g["on_time_share"])) for g in groups],
            maximum=1.0,
        ),
        bar_chart(
            "chart-reasons",
            t("Overrides by reason"),
            [
                Bar(page.tr(REASON_CODES.get(code, N_("No reason recorded"))), n, f.number(n))
                for code, n in sorted(reasons.items(), key=lambda kv: -kv[1])
            ],
        ),
        bar_chart(
            "chart-amounts",
            t("Approved assistance a month"),
            [
                Bar(g["label"], _num(g["amount_monthly_approved"]), f.money(g["amount_monthly_approved"]))
                for g in groups
            ],
        ),
    ]
    return render(
        page,
        "statistics.html",
        stats=stats,
        totals=totals,
        by_district=by_district,
        by_region=by_region,
        by_model=by_model,
        overrides=overrides,
        charts=charts,
        columns=STAT_COLUMNS,
        short={**STAT_COLUMNS, **STAT_SHORT},
        csv_tables=list(CSV_TABLES.items()),
        choices=_scope_choices(page),
        region=region,
        district=district,
        scope_query=urlencode({k: v for k, v in (("region", region), ("district", district)) if v}),
    )


@router.get("/statistics.csv")
def statistics_csv(page: SignedIn, table: str = "by_district", region: str = "", district: str = ""):
    if table not in statistics.TABLES:
        raise ServiceError(422, f"table: unknown table {table!r}; use one of {', '.join(statistics.TABLES)}")
    stats = _statistics(page, region, district)
    body = statistics.to_csv(stats, table)
    response = Response(body, media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="atauly-{table}.csv"'
    return finish(page, response)
