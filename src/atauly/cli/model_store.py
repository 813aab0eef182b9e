"""``atauly model list|promote|rollback|card``: the versioned model store, and loading a stored model."""

from __future__ import annotations

from typing import Annotated

import typer

from atauly.settings import get_settings

from .common import console, fail, rich_table

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


def card_cmd(
    model: ModelOpt,
    html: Annotated[
        bool, typer.Option("--html", help="Print the path of the HTML card instead of the Markdown.")
    ] = False,
) -> None:
    """Print a model's card (Markdown) or the path of its HTML version."""
    from atauly.model import ModelStoreError

    try:
        name, version = store().resolve(model)
    except ModelStoreError as exc:
        fail(str(exc))
    path = store().root / name / version / ("model_card.html" if html else "model_card.md")
    if not path.exists():
        fail(f"{name}@{version} has no model card")
    console.print(str(path) if html else path.read_text(encoding="utf-8"), markup=False, highlight=False)
