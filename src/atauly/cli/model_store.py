"""``atauly model list|promote|rollback|card``: the versioned model store, and loading a stored model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import check_lang, console, fail, get_settings, rich_table

ModelOpt = Annotated[str, typer.Option("--model", help="Model NAME (its champion) or NAME@vN.")]
NameOpt = Annotated[str, typer.Option("--name", help="Name to store the model under.")]


def store():
    from atauly.model import ModelStore

    return ModelStore(get_settings().models_dir)


def load_model(ref: str):
    from atauly.model import ModelStoreError, Recommender

    try:
        return Recommender.load(store(), ref)
    except ModelStoreError as exc:
        fail(str(exc))


def list_cmd() -> None:
    """Stored models and versions; the champion of each name is marked."""
    import pandas as pd

    rows = store().listing()
    if not rows:
        console.print(
            f"No models in {get_settings().models_dir}. Train one with: atauly model train --registry DIR"
        )
        return
    df = pd.DataFrame(rows)
    df["champion"] = df["champion"].map({True: "★", False: ""})
    console.print(rich_table(df.round(4), title=f"Models in {get_settings().models_dir}"))


def promote_cmd(
    model: Annotated[str, typer.Option("--model", help="Model NAME.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Version to promote, e.g. v2 (default: the latest).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if it failed the quality gate.")
    ] = False,
) -> None:
    """Make a version the champion (the one `--model NAME` uses); the previous one can be rolled back to."""
    from atauly.model import ModelStoreError

    try:
        v = store().promote(model, version, force)
    except ModelStoreError as exc:
        fail(str(exc))
    console.print(f"{model.partition('@')[0]}@{v} is the champion.")  # --model may be NAME@vN


def rollback_cmd(model: Annotated[str, typer.Option("--model", help="Model NAME.")]) -> None:
    """Return the champion to the previous one."""
    from atauly.model import ModelStoreError

    try:
        v = store().rollback(model)
    except ModelStoreError as exc:
        fail(str(exc))
    console.print(f"Rolled back: {model}@{v} is the champion again.")


def _stored_metadata(model: str) -> tuple[str, str, dict]:
    """(name, version, metadata) of a stored model named ``NAME`` or ``NAME@vN``; a clear failure if none."""
    from atauly.model import ModelStoreError

    try:
        name, version = store().resolve(model)
        return name, version, store().metadata(name, version)
    except ModelStoreError as exc:
        fail(str(exc))


def card_cmd(
    model: ModelOpt,
    html: Annotated[
        bool,
        typer.Option(
            "--html", help="Print the path of the HTML card written at training instead of the Markdown."
        ),
    ] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language of the card: ru, kk or en.")] = "ru",
) -> None:
    """Print a model's card (Markdown, in --lang, from its stored metadata) or the path of its HTML version."""
    from atauly.model.card import model_card_markdown

    check_lang(lang)
    name, version, meta = _stored_metadata(model)
    path = store().root / name / version / "model_card.html"
    if html:
        if not path.exists():
            fail(f"{name}@{version} has no model card")
        console.print(str(path), markup=False, highlight=False)
        return
    console.print(model_card_markdown(meta, lang), markup=False, highlight=False)


def report_cmd(
    model: ModelOpt,
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html, model_card.md and .html.")],
    lang: Annotated[str, typer.Option("--lang", help="Language: ru, kk or en.")] = "ru",
) -> None:
    """Write a stored model's report and card again in --lang, from its metadata (the model is unchanged)."""
    from atauly.model import report_documents
    from atauly.model.wording import Words

    check_lang(lang)
    name, version, meta = _stored_metadata(model)
    w = Words(lang)
    out.mkdir(parents=True, exist_ok=True)
    for filename, text in report_documents(meta, name, version, lang).items():
        (out / filename).write_text(text, encoding="utf-8")
    console.print(w.t("Report: {path}", path=out / "report.html"), markup=False, highlight=False)
    console.print(w.t("Model card: {path}", path=out / "model_card.md"), markup=False, highlight=False)
