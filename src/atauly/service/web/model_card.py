"""The model card: the serving model's provenance, quality gate and figures against labels and truth."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from markupsafe import Markup

from atauly.i18n import N_

from .. import casework
from .kit import SignedIn, render

router = APIRouter(include_in_schema=False)


METRICS = {
    "accuracy": N_("Accuracy"),
    "balanced_accuracy": N_("Balanced accuracy"),
    "roc_auc": N_("ROC AUC"),
    "exclusion_error": N_("Exclusion error (entitled families refused)"),
    "inclusion_error": N_("Inclusion error (assistance to families not entitled)"),
}


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
