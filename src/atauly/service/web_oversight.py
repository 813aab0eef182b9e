"""Pages of oversight: statistics with charts and CSV, the model card, the audit trail, and the safeguards
against automation bias (blind mode and the model switch per district, the model off for a whole region).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import func, select

from atauly.i18n import N_
from atauly.registry import codes

from . import audit, casework, statistics
from .casework import REASON_CODES, ServiceError, deny, record
from .models import Application, AuditEvent, DistrictSetting
from .web import ROLE_LABELS, Fmt, Page, Posted, SignedIn, district_label, finish, redirect, render, usernames

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50

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
METRICS = {
    "accuracy": N_("Accuracy"),
    "balanced_accuracy": N_("Balanced accuracy"),
    "roc_auc": N_("ROC AUC"),
    "exclusion_error": N_("Exclusion error (entitled families refused)"),
    "inclusion_error": N_("Inclusion error (assistance to families not entitled)"),
}


# --- statistics -----------------------------------------------------------------------------------


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


# --- the model card -------------------------------------------------------------------------------


def _card_html(path: Path) -> Markup | None:
    card = path / "model_card.md"
    if not card.exists():
        return None
    from markdown_it import MarkdownIt

    # Raw HTML off: nothing in the card becomes markup but the Markdown itself (as in model.report).
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(card.read_text(encoding="utf-8"))
    return Markup(body)


@router.get("/model")
def model_page(page: SignedIn):
    recommender = page.request.app.state.engine.recommender
    district_off = False
    if page.user.district_kato:
        district_off = not casework.district_setting(page.db, page.user.district_kato).model_enabled
    if recommender is None:
        return render(page, "model.html", model=None, district_off=district_off)
    stored = recommender.stored
    meta = stored.metadata
    metrics = meta.get("metrics", {})
    split = metrics.get("splits", {}).get(metrics.get("primary_split", ""), {})
    models = split.get("models", {})
    forest, law = models.get("random_forest", {}), models.get("law_on_recorded_data", {})
    figures = [
        {
            "label": label,
            "ratio": key == "roc_auc",
            "labels": forest.get("vs_labels", {}).get(key),
            "truth": forest.get("vs_truth", {}).get(key),
            "law_truth": law.get("vs_truth", {}).get(key),
        }
        for key, label in METRICS.items()
    ]
    gate = meta.get("quality_gate") or metrics.get("quality_gate") or {}
    training = meta.get("training", {})
    created = meta.get("created")
    return render(
        page,
        "model.html",
        model={
            "name": recommender.name,
            "created": datetime.fromisoformat(created).astimezone(UTC).replace(tzinfo=None)
            if created
            else None,
            "code_version": meta.get("code_version"),
            "sha256": meta.get("sha256"),
            "data_sha256": training.get("data_sha256"),
            "rows": training.get("rows"),
            "positive_share": training.get("positive_share"),
            "threshold": recommender.threshold,
            "gate_passed": bool(gate.get("passed")),
            "gate_reason": gate.get("reason", ""),
            "split": split.get("description", ""),
            "test_rows": split.get("test_rows"),
            "training_periods": metrics.get("training_periods", []),
            "test_periods": metrics.get("test_periods", []),
            "features": len(meta.get("features", {}).get("numeric", []))
            + len(meta.get("features", {}).get("categorical", [])),
            "figures": figures,
            "card": _card_html(stored.path),
        },
        district_off=district_off,
    )


# --- the audit trail ------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(page: SignedIn, action: str = "", outcome: str = "", offset: int = 0, verify: str = ""):
    user, db = page.user, page.db
    if user.role not in ("supervisor", "admin"):
        raise deny(
            db,
            user,
            "audit.read",
            403,
            "only supervisors and administrators see the audit trail",
            object_type="audit",
            object_id="*",
            region_kato=user.region_kato,
        )
    scope = [AuditEvent.region_kato == user.region_kato] if user.role == "supervisor" else []
    actions = sorted(db.execute(select(AuditEvent.action).where(*scope).distinct()).scalars())
    filters = list(scope)
    if action in actions:
        filters.append(AuditEvent.action == action)
    else:
        action = ""
    if outcome in ("ok", "denied"):
        filters.append(AuditEvent.outcome == outcome)
    else:
        outcome = ""
    offset = max(0, offset)
    events = list(
        db.execute(
            select(AuditEvent)
            .where(*filters)
            .order_by(AuditEvent.id.desc())
            .limit(AUDIT_PAGE + 1)
            .offset(offset)
        ).scalars()
    )
    total = db.execute(select(func.count(AuditEvent.id)).where(*filters)).scalar_one()
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "role": ROLE_LABELS.get(e.role, e.role),
            "action": e.action,
            "object": f"{e.object_type} {e.object_id}".strip(),
            "outcome": e.outcome,
            "region": codes.region_name(e.region_kato, page.lang) if e.region_kato else "",
            "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else "",
            "hash": e.hash,
        }
        for e in events[:AUDIT_PAGE]
    ]
    check = None
    if verify:
        result = audit.verify(db)
        check = {
            "ok": result.ok,
            "checked": result.checked,
            "first_bad": result.first_bad,
            "problem": result.problem,
        }
    record(
        db,
        user,
        "audit.read",
        object_type="audit",
        object_id=user.region_kato or "*",
        region_kato=user.region_kato,
        detail={"offset": offset, "action": action, "outcome": outcome, "verify": bool(verify)},
    )
    db.commit()
    query = {k: v for k, v in (("action", action), ("outcome", outcome)) if v}
    return render(
        page,
        "audit.html",
        rows=rows,
        actions=actions,
        action=action,
        outcome=outcome,
        offset=offset,
        page_size=AUDIT_PAGE,
        more=len(events) > AUDIT_PAGE,
        total=total,
        check=check,
        query=urlencode(query),
    )


# --- safeguards: blind mode and the model switch ----------------------------------------------------


def _settings_region(page: Page, region: str) -> str:
    user = page.user
    if user.role == "supervisor":
        return user.region_kato
    if region in codes.REGION_BY_KATO:
        return region
    latest = page.db.execute(
        select(Application.region_kato).order_by(Application.id.desc()).limit(1)
    ).scalar_one_or_none()
    return latest or codes.REGIONS[0].kato


def _may_change_settings(page: Page) -> None:
    if page.user.role not in ("supervisor", "admin"):
        raise deny(
            page.db,
            page.user,
            "settings.read",
            403,
            "only supervisors and administrators change the safeguards",
            object_type="settings",
            object_id=page.user.district_kato or "*",
            region_kato=page.user.region_kato,
        )


def _districts_of(region: str) -> list[str]:
    return [d for d, r in casework.district_catalogue().items() if r == region]


@router.get("/settings")
def settings_page(page: SignedIn, region: str = ""):
    _may_change_settings(page)
    region = _settings_region(page, region)
    katos = _districts_of(region)
    stored = {
        s.district_kato: s
        for s in page.db.execute(
            select(DistrictSetting).where(DistrictSetting.district_kato.in_(katos))
        ).scalars()
    }
    names = usernames(page.db, {s.updated_by for s in stored.values() if s.updated_by})
    rows = []
    for d in katos:
        s = stored.get(d)
        rows.append(
            {
                "kato": d,
                "name": district_label(d, page.lang),
                "blind": bool(s and s.blind_mode),
                "model": not s or s.model_enabled,
                "updated_at": s.updated_at if s else None,
                "updated_by": names.get(s.updated_by, "") if s else "",
            }
        )
    return render(
        page,
        "settings.html",
        region=region,
        region_name=codes.region_name(region, page.lang),
        regions=[(r.kato, codes.region_name(r.kato, page.lang)) for r in codes.REGIONS]
        if page.user.role == "admin"
        else [],
        rows=rows,
        model_available=page.request.app.state.engine.recommender is not None,
    )


@router.post("/settings")
def settings_submit(
    page: Posted,
    region: Annotated[str, Form()] = "",
    district: Annotated[list[str] | None, Form()] = None,
    blind: Annotated[list[str] | None, Form()] = None,
    model: Annotated[list[str] | None, Form()] = None,
):
    _may_change_settings(page)
    shown = list(dict.fromkeys(district or []))
    blind_on, model_on = set(blind or []), set(model or [])
    current = {
        s.district_kato: (s.blind_mode, s.model_enabled)
        for s in page.db.execute(
            select(DistrictSetting).where(DistrictSetting.district_kato.in_(shown))
        ).scalars()
    }
    page.db.rollback()
    # Only the districts whose settings change are written (each with its audit event), grouped by the new
    # values; the form shows only districts in the user's scope, and the core refuses (and audits) others.
    changes: dict[tuple[bool, bool], list[str]] = {}
    for d in shown:
        wanted = (d in blind_on, d in model_on)
        if current.get(d, (False, True)) != wanted:
            changes.setdefault(wanted, []).append(d)
    for (blind_mode, model_enabled), districts in changes.items():
        casework.set_district_settings(
            page.db, page.user, districts, blind_mode=blind_mode, model_enabled=model_enabled
        )
    return redirect(
        page, ("/settings?" + urlencode({"region": region})) if region else "/settings", "settings"
    )


@router.post("/settings/region-model")
def region_model_submit(
    page: Posted,
    region: Annotated[str, Form()] = "",
    switch: Annotated[str, Form()] = "off",
):
    _may_change_settings(page)
    # The posted region is the one switched (a supervisor's own when none is posted); a region outside the
    # supervisor's scope is refused and audited by set_district_settings, never quietly replaced.
    region = region or (page.user.region_kato or "")
    if region not in codes.REGION_BY_KATO:
        raise ServiceError(422, f"region: unknown region {region!r}")
    casework.set_district_settings(page.db, page.user, _districts_of(region), model_enabled=switch == "on")
    return redirect(
        page, "/settings?" + urlencode({"region": region}), "model_on" if switch == "on" else "model_off"
    )
