"""Stage 1: the Random Forest eligibility recommender — features, training, evaluation, explanations,
the versioned model store and model cards (docs/model.md).

The model recommends; the law decides; the officer rules.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .card import model_card_html, model_card_markdown
from .data import DataError, Dataset, load_applications, load_table
from .ingest import report_frame
from .phrases import record
from .recommender import Recommender
from .report import report_html
from .store import ModelStore, ModelStoreError, StoredModel, TamperedModelError
from .train import TrainConfig, TrainResult, train

__all__ = [
    "DataError",
    "Dataset",
    "ModelStore",
    "ModelStoreError",
    "Recommender",
    "STORE_STEPS",
    "StoredModel",
    "TamperedModelError",
    "TrainConfig",
    "TrainResult",
    "code_version",
    "report_documents",
    "load_applications",
    "load_table",
    "store_trained",
    "train",
    "train_and_store",
]


def code_version() -> str:
    from atauly import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def report_documents(meta: dict, name: str, version: str, lang: str = "ru") -> dict[str, str]:
    """A stored model's report and card as files ({file name: text}) in ``lang``, from its metadata:
    written at training, and again in another language by ``atauly model report``."""
    from .wording import Words

    words = Words(lang)
    card = model_card_markdown(meta, words.lang)
    return {
        "report.html": report_html(meta, words.lang),
        "model_card.md": card,
        "model_card.html": model_card_html(
            card, words.t("Model card: {model}", model=name + "@" + version), words.lang
        ),
    }


def train_and_store(
    ds: Dataset,
    store: ModelStore,
    name: str,
    source: str,
    config: TrainConfig | None = None,
    progress=None,
    extra: dict | None = None,
    lang: str | None = None,
) -> tuple[StoredModel, TrainResult, bool]:
    """Train, then store the model with its metadata, metrics, report and model card.

    The first version of a name that passes the quality gate becomes its champion; later versions are
    promoted only by an explicit ``atauly model promote``. Returns (stored, result, promoted).
    """
    store.check_name(name)
    config = config or TrainConfig()
    t0 = time.perf_counter()
    result = train(ds, config, progress)
    result.timings["total_seconds"] = time.perf_counter() - t0
    stored, promoted = store_trained(ds, result, store, name, source, extra, progress=progress, lang=lang)
    return stored, result, promoted


#: The steps :func:`store_trained` reports to ``progress`` after training's (a progress bar's last ones).
STORE_STEPS = ("store the model", "report and card")


def store_trained(
    ds: Dataset,
    result: TrainResult,
    store: ModelStore,
    name: str,
    source: str,
    extra: dict | None = None,
    sections: dict | None = None,
    promote_first: bool = True,
    progress=None,
    lang: str | None = None,
) -> tuple[StoredModel, bool]:
    """Store a trained model as the next version of ``name`` with its metadata, report and card.

    ``extra`` goes into the metadata's ``training`` block; ``sections`` are further top-level blocks
    (``retrain``: the comparison with the champion, rendered in the report and the card). With
    ``promote_first`` the first version of a name that passes the quality gate becomes its champion;
    without it nothing is ever promoted here (a retrained challenger waits for ``atauly model promote``).
    The report and the card are written in ``lang`` (ru, kk or en; default: the locale setting); ``atauly
    model card --lang`` and the service's model page say the card again in any of them from the metadata.
    ``progress(step_name)`` hears each of :data:`STORE_STEPS` start. Returns (stored, promoted).
    """
    store.check_name(name)
    meta = {
        "kind": ds.kind,
        "view": ds.view,
        "target": ds.target,
        "features": {"numeric": ds.numeric, "categorical": ds.categorical},
        "threshold": result.threshold,
        "params": result.params,
        "metrics": result.metrics,
        "quality_gate": result.metrics["quality_gate"],
        "timings": result.timings,
        "code_version": code_version(),
        "training": {
            "source": str(source),
            "source_code": record(source),
            "rows": len(ds),
            "positive_share": float(ds.y.mean()),
            "data_sha256": ds.fingerprint(),
            **(extra or {}),
        },
        **(sections or {}),
    }

    step = progress or (lambda _name: None)

    def render(final: dict) -> dict[str, str]:
        step(STORE_STEPS[1])
        files = {
            "metrics.json": json.dumps(result.metrics, indent=2, default=str),
            **report_documents(final, name, final["version"], lang),
        }
        if ds.ingestion:  # every column of a user's table: kept, converted or dropped, and why
            files["ingestion.json"] = json.dumps(
                {"format": ds.file_format, "columns": ds.ingestion}, indent=2, ensure_ascii=False, default=str
            )
            files["ingestion.csv"] = report_frame(ds.ingestion).to_csv(index=False)
        return files

    step(STORE_STEPS[0])
    stored = store.save(name, result.model, meta, render)
    promoted = False
    if promote_first and store.aliases(name)["champion"] is None and result.metrics["quality_gate"]["passed"]:
        store.promote(name, stored.version)
        promoted = True
    return stored, promoted
