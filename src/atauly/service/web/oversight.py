"""Supervisors' and analysts' pages: trends by week and quarter with each officer's workload (``/trends``),
the national dashboard with a map of the 20 regions (``/dashboard``), and the statistics as an
Excel-ready file (``/statistics/export.csv``). The figures come from :mod:`atauly.service.trends` and
:mod:`atauly.service.statistics` (aggregated and, for analysts, suppressed there).

The map is a tile-grid cartogram: one equal tile per region, placed roughly where the region lies (no
boundary geometry ships with the project); the tiles' areas say nothing, their colour and printed value
say the rate per 1,000 families.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from atauly.i18n import N_, Translator
from atauly.registry import codes
from atauly.registry.labels import OVERRIDE_REASONS

from .. import casework, statistics, trends
from ..casework import ServiceError
from .charts import Bar, bar_chart
from .kit import Fmt, Page, SignedIn, district_label, finish, render
from .statistics import STAT_COLUMNS

router = APIRouter(include_in_schema=False)

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
#: How many of the latest periods the charts show (the tables show them all).
CHART_PERIODS = {"week": 13, "quarter": 8}


# --- periods ---------------------------------------------------------------------------------------------


def period_label(key: str, t: Translator) -> str:
    """``2026Q4`` → «IV квартал 2026 г.», «2026 ж. IV тоқсан», "Q4 2026"; a week (its Monday's ISO date)
    → «неделя с 30.11.2026», «30.11.2026 күні басталған апта», "week of 30 Nov 2026"."""
    if "Q" in key:
        year, quarter = key.split("Q")
        if t.lang == "en":  # English writes the quarter's number first, in Arabic figures
            return f"Q{int(quarter)} {year}"
        return t("{roman} quarter {year}", roman=ROMAN[int(quarter)], year=year)
    return t("week of {date}", date=t.date(key))


# --- the scope filter ------------------------------------------------------------------------------------


def _regions(page: Page) -> list[tuple[str, str]]:
    """The regions an analyst or an admin may choose (others see one region at most)."""
    if page.user.role not in ("analyst", "admin"):
        return []
    return [(r.kato, codes.region_name(r.kato, page.lang)) for r in codes.REGIONS]


def _districts_of(region: str | None, lang: str) -> list[tuple[str, str]]:
    if not region:
        return []
    return [(d, district_label(d, lang)) for d, r in casework.district_catalogue().items() if r == region]


def _area_label(area: str, lang: str) -> str:
    return codes.region_name(area, lang) if area.endswith("0000000") else district_label(area, lang)


def _num(value) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _settings(page: Page):
    return page.request.app.state.settings


# --- /trends -----------------------------------------------------------------------------------------------


@router.get("/trends")
def trends_page(page: SignedIn, period: str = "week", region: str = "", district: str = ""):
    if period not in trends.PERIODS:
        raise ServiceError(422, f"period: use one of {', '.join(trends.PERIODS)}")
    min_cell = _settings(page).statistics_min_cell
    data = trends.trends(page.db, page.user, period, region or None, district or None, min_cell)
    who = None
    if page.user.role != "officer":
        who = trends.officers(page.db, page.user, region or None, district or None, min_cell)
    f, t = Fmt(page.t), page.t
    rows = [{**r, "label": period_label(r["period"], page.t)} for r in data["rows"]]
    latest = rows[-CHART_PERIODS[period] :]
    title = t("Decisions by week") if period == "week" else t("Decisions by quarter")
    charts = [
        bar_chart(
            "chart-applications",
            t("Applications by week") if period == "week" else t("Applications by quarter"),
            [Bar(r["label"], _num(r["applications"]), f.number(r["applications"])) for r in latest],
        ),
        bar_chart(
            "chart-decisions",
            title,
            [
                Bar(
                    r["label"],
                    _num(r["decided"]),
                    t("{n} (approved {a})", n=f.number(r["decided"]), a=f.number(r["approved"])),
                )
                for r in latest
            ],
        ),
        bar_chart(
            "chart-agreement-trend",
            t("Agreement with the recommendation"),
            [Bar(r["label"], _num(r["agreement"]), f.percent(r["agreement"])) for r in latest],
            maximum=1.0,
        ),
        bar_chart(
            "chart-overrides-trend",
            t("Overrides"),
            [Bar(r["label"], _num(r["overrides"]), f.number(r["overrides"])) for r in latest],
        ),
    ]
    scope_region = data["scope"]["region"]
    query = {k: v for k, v in (("region", region), ("district", district)) if v}
    return render(
        page,
        "trends.html",
        period=period,
        rows=rows,
        totals=data["totals"],
        officers=who,
        charts=charts,
        min_cell=data["min_cell"],
        regions=_regions(page),
        districts=_districts_of(scope_region, page.lang) if page.user.role != "officer" else [],
        region=region,
        district=district,
        scope_name=_scope_name(page, scope_region, data["scope"]["district"]),
        period_links=[
            (p, label, f"/trends?{urlencode({**query, 'period': p})}")
            for p, label in (("week", N_("By week")), ("quarter", N_("By quarter")))
        ],
        export_query=urlencode(query),
    )


def _scope_name(page: Page, region: str | None, district: str | None) -> str:
    if district:
        return district_label(district, page.lang)
    if region:
        return codes.region_name(region, page.lang)
    return page.t("Kazakhstan")


# --- /dashboard --------------------------------------------------------------------------------------------

#: (column, row) of each region's tile, west to east and north to south (roughly).
TILES = {
    "270000000": (0, 0),  # West Kazakhstan
    "390000000": (2, 0),  # Kostanay
    "590000000": (3, 0),  # North Kazakhstan
    "550000000": (4, 0),  # Pavlodar
    "230000000": (0, 1),  # Atyrau
    "150000000": (1, 1),  # Aktobe
    "110000000": (3, 1),  # Akmola
    "710000000": (4, 1),  # Astana
    "100000000": (5, 1),  # Abai
    "630000000": (6, 1),  # East Kazakhstan
    "470000000": (0, 2),  # Mangystau
    "620000000": (2, 2),  # Ulytau
    "350000000": (3, 2),  # Karaganda
    "330000000": (5, 2),  # Zhetisu
    "430000000": (1, 3),  # Kyzylorda
    "610000000": (2, 3),  # Turkestan
    "310000000": (3, 3),  # Zhambyl
    "190000000": (4, 3),  # Almaty Region
    "790000000": (2, 4),  # Shymkent
    "750000000": (4, 4),  # Almaty city
}
TILE_W, TILE_H, TILE_GAP = 156, 96, 6
#: Sequential blues, light to dark; text on the last two is white (contrast ≥ 4.5:1 either way).
SHADES = ("#e7f0fa", "#bcd4ee", "#7fa9d9", "#2f6fb3", "#0b4a8b")
NO_DATA = "#f2f4f7"


def _bins(values: list[float]) -> list[float]:
    """Upper bounds of five equal classes from 0 to the largest value, at two significant digits."""
    top = max(values, default=0.0)
    if top <= 0:
        return []
    step = top / len(SHADES)
    return [step * (k + 1) for k in range(len(SHADES))]


def _shade(value, bins: list[float]) -> tuple[str, bool]:
    if not isinstance(value, int | float) or not bins:
        return NO_DATA, False
    for k, upper in enumerate(bins):
        if value <= upper + 1e-9:
            return SHADES[k], k >= 3
    return SHADES[-1], True


def _tile_lines(name: str) -> list[str]:
    from .charts import wrap

    return wrap(name, 19, 3)


RECIPIENTS_LABEL = N_("{region}: {value} recipients per 1,000 families")


def region_map(
    rows: list[dict],
    lang: str,
    f: Fmt,
    t: Translator,
    key: str = "recipients_per_1000",
    label: str = RECIPIENTS_LABEL,
    decimals: int = 1,
) -> dict:
    """The tile map: each region a link to its districts, its name and its ``key`` per 1,000 families
    (rows keyed by ``area``, the region's code; ``label`` a message with {region} and {value})."""
    by_area = {r["area"]: r for r in rows}
    values = [float(r[key]) for r in rows if isinstance(r.get(key), int | float)]
    bins = _bins(values)
    tiles = []
    for kato, (col, row) in TILES.items():
        r = by_area.get(kato, {})
        value = r.get(key)
        fill, dark = _shade(value, bins)
        name = codes.region_name(kato, lang)
        x, y = col * (TILE_W + TILE_GAP), row * (TILE_H + TILE_GAP)
        lines = _tile_lines(name)
        text = f.number(value, decimals) if value is not None else "—"
        tiles.append(
            {
                "kato": kato,
                "name": name,
                "x": x,
                "y": y,
                "fill": fill,
                "dark": dark,
                "lines": [{"y": y + 22 + 17 * k, "text": s} for k, s in enumerate(lines)],
                "value": text,
                "value_y": y + TILE_H - 14,
                "label": t(label, region=name, value=text),
            }
        )
    legend = []
    lower = 0.0
    for k, upper in enumerate(bins):
        legend.append({"fill": SHADES[k], "text": f"{f.number(lower, 1)}–{f.number(upper, 1)}"})
        lower = upper
    return {
        "tiles": tiles,
        "width": 7 * TILE_W + 6 * TILE_GAP,
        "height": 5 * TILE_H + 4 * TILE_GAP,
        "tile_w": TILE_W,
        "tile_h": TILE_H,
        "legend": legend,
        "no_data": NO_DATA,
    }


@router.get("/dashboard")
def dashboard_page(page: SignedIn, region: str = ""):
    min_cell = _settings(page).statistics_min_cell
    data = trends.national(page.db, page.user, region or None, min_cell)
    f, t = Fmt(page.t), page.t
    rows = [
        {**r, "label": _area_label(r["area"], page.lang), "href": f"/dashboard?region={r['area']}"}
        for r in data["rows"]
    ]
    rows.sort(key=lambda r: r["label"])
    level = data["level"]
    chart = bar_chart(
        "chart-recipients-rate",
        t("Recipients per 1,000 families"),
        [
            Bar(r["label"], _num(r["recipients_per_1000"]), f.number(r["recipients_per_1000"], 1))
            for r in rows
        ],
    )
    return render(
        page,
        "dashboard.html",
        level=level,
        rows=rows,
        totals=data["totals"],
        families_quarter=data["families_quarter"],
        quarter_label=period_label(data["families_quarter"], page.t) if data["families_quarter"] else "",
        min_cell=data["min_cell"],
        map=region_map(data["rows"], page.lang, f, page.t) if level == "region" else None,
        chart=chart,
        region=data["scope"]["region"],
        region_name=codes.region_name(data["scope"]["region"], page.lang) if data["scope"]["region"] else "",
        can_go_up=page.user.role in ("analyst", "admin") and level == "district",
    )


# --- /statistics/export.csv --------------------------------------------------------------------------------

EXPORT_TABLES = {
    "by_district": N_("By district"),
    "by_region": N_("By region"),
    "by_model": N_("By model version"),
    "overrides_by_reason": N_("Overrides by reason"),
    "trends_week": N_("By week"),
    "trends_quarter": N_("By quarter"),
    "officers": N_("By officer"),
    "regions": N_("Regions per 1,000 families"),
}
PERCENT = {"agreement", "override_rate", "on_time_share", "departure_share"}
MONEY = {"amount_monthly_approved", "budget_per_1000"}
ONE_DECIMAL = {"median_working_days", "median_days", "per_1000", "recipients_per_1000"}
HEADERS = {
    **STAT_COLUMNS,
    "district": N_("District"),
    "region": N_("Region"),
    "model_version": N_("Model version"),
    "reason_code": N_("Reason"),
    "count": N_("Overrides"),
    "period": N_("Period"),
    "officer": N_("Officer"),
    "median_days": N_("Median calendar days to decide"),
    "departure_share": N_("Share departing from the recommendation"),
    "families": N_("Families in the registry"),
    "per_1000": N_("Applications per 1,000 families"),
    "recipients_per_1000": N_("Recipients per 1,000 families"),
    "budget_per_1000": N_("Approved assistance a month per 1,000 families"),
    "area": N_("Region or district"),
}
EXPORT_COLUMNS = {
    "trends": ["period", "applications", "decided", "approved", "rejected", "overrides", "agreement"],
    "officers": ["officer", "decided", "approved", "rejected", "overrides", "departure_share", "median_days"],
    "regions": [
        "area",
        "families",
        "applications",
        "per_1000",
        "decided",
        "approved",
        "recipients_per_1000",
        "amount_monthly_approved",
        "budget_per_1000",
        "overrides",
        "agreement",
    ],
}


def excel_number(value, decimals: int, lang: str) -> str:
    """A number as Excel reads it in the locale: no grouping, a decimal comma in ru and kk (a point in
    en); a suppressed cell's text (``<10``, ``x``) as it is; nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    text = f"{value:.{decimals}f}" if decimals else str(round(value))
    return text.replace(".", ",") if lang in ("ru", "kk") else text


def _cell(key: str, value, page: Page) -> str:
    lang = page.lang
    if key == "district":
        return district_label(value, lang) if value else ""
    if key == "region":
        return codes.region_name(value, lang) if value else ""
    if key == "area":
        return _area_label(value, lang)
    if key == "period":
        return period_label(value, page.t)
    if key == "model_version":
        return page.t("Law only") if str(value).startswith("—") else str(value)
    if key == "reason_code":
        return page.tr(OVERRIDE_REASONS.get(value or "", N_("No reason recorded")))
    if key == "officer":
        return str(value)
    if key in PERCENT:
        return excel_number(value * 100 if isinstance(value, float) else value, 1, lang)
    if key in MONEY:
        return excel_number(value, 2, lang)
    if key in ONE_DECIMAL:
        return excel_number(value, 1, lang)
    return excel_number(value, 0, lang)


def _header(key: str, page: Page) -> str:
    text = page.tr(HEADERS.get(key, key))
    if key in PERCENT:
        return f"{text}, %"
    if key in MONEY:
        return f"{text}, ₸"
    return text


def to_excel_csv(rows: list[dict], columns: list[str], page: Page) -> str:
    """UTF-8 with a byte-order mark (so Excel reads Cyrillic), ``;`` between cells, localised headers, names
    instead of codes, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([_header(c, page) for c in columns])
    for row in rows:
        writer.writerow([_cell(c, row.get(c), page) for c in columns])
    return "\ufeff" + buf.getvalue()


@router.get("/statistics/export.csv")
def statistics_export(page: SignedIn, table: str = "by_district", region: str = "", district: str = ""):
    if table not in EXPORT_TABLES:
        raise ServiceError(422, f"table: unknown table {table!r}; use one of {', '.join(EXPORT_TABLES)}")
    settings = _settings(page)
    min_cell = settings.statistics_min_cell
    if table in statistics.TABLES:
        stats = statistics.compute(
            page.db,
            page.user,
            region=region or None,
            district=district or None,
            min_cell=min_cell,
            read=page.request.app.state.read_sessions(),
        )
        rows, columns = stats[table], statistics.TABLES[table]
    elif table.startswith("trends_"):
        data = trends.trends(
            page.db, page.user, table.removeprefix("trends_"), region or None, district or None, min_cell
        )
        rows, columns = data["rows"], EXPORT_COLUMNS["trends"]
    elif table == "officers":
        data = trends.officers(page.db, page.user, region or None, district or None, min_cell)
        rows, columns = data["rows"], EXPORT_COLUMNS["officers"]
    else:
        data = trends.national(page.db, page.user, region or None, min_cell)
        rows, columns = data["rows"], EXPORT_COLUMNS["regions"]
    body = to_excel_csv(rows, columns, page)
    response = Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8")
    name = f"atauly-{table}-{page.lang}-{date.today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return finish(page, response)
