"""The model card: the serving model's provenance, quality gate and figures against labels and truth."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter
from markupsafe import Markup

from atauly.i18n import N_
from atauly.model.wording import Words

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


#: Cards said in a language, by (model directory, language): the metadata of a stored version never changes.
_CARDS: dict[tuple[Path, str], Markup] = {}


def _card_html(stored, lang: str) -> Markup | None:
    """The model card in the page's language, said from the stored metadata (the card written at training
    may be in another language); None when the model store holds no card for the version."""
    key = (stored.path, lang)
    if key not in _CARDS:
        if not (stored.path / "model_card.md").exists():
            return None
        from markdown_it import MarkdownIt

        from atauly.model.card import model_card_markdown, scrolling_tables

        text = model_card_markdown(stored.metadata, lang)
        # Raw HTML off: nothing in the card becomes markup but the Markdown itself (as in model.report).
        body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
        _CARDS[key] = Markup(scrolling_tables(body, "table-scroll"))
    return _CARDS[key]


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
    words = Words(page.lang)
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
            # the training's sentences in the reader's language, from their stored codes (model.phrases)
            "gate_reason": words.said(gate, "reason"),
            "split": words.said(split, "description"),
            "test_rows": split.get("test_rows"),
            "training_periods": metrics.get("training_periods", []),
            "test_periods": metrics.get("test_periods", []),
            "features": len(meta.get("features", {}).get("numeric", []))
            + len(meta.get("features", {}).get("categorical", [])),
            "figures": figures,
            "card": _card_html(stored, page.lang),
        },
        district_off=district_off,
    )
