"""Score the photo checks against inspectors' checklists: the pilot tool (``atauly vision evaluate``).

The labels file has one row per photo: ``file`` and, for any item the inspector recorded, 1/0 (yes/no;
empty: not recorded): the assets of :data:`atauly.vision.inventory.ASSET_CLASSES` (``vehicle``,
``tractor``, ``livestock``, ``appliances``, ``electronics``, ``furniture``, ``dwelling_yurt`` …) and the
flags ``blurred``, ``dark``, ``screen_photo``, ``reused``. Each item gets precision and recall with
Wilson 95 % intervals (small pilots have wide ones: they are shown, not hidden), at the inventory's
confidence threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from atauly.registry.intervals import wilson_interval

from .inventory import ASSET_CLASSES

FLAGS = ("blurred", "dark", "screen_photo", "reused")
TRUE = {"1", "true", "yes", "да", "иә"}
FALSE = {"0", "false", "no", "нет", "жоқ"}


def read_labels(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "file" not in df.columns:
        raise ValueError(f"{path}: a column 'file' is required")
    items = [c for c in df.columns if c in ASSET_CLASSES or c in FLAGS]
    if not items:
        raise ValueError(f"{path}: no item columns; expected some of {', '.join([*ASSET_CLASSES, *FLAGS])}")
    out = pd.DataFrame({"file": df["file"]})
    for c in items:
        v = df[c].str.strip().str.lower()
        bad = ~v.isin(TRUE | FALSE | {""})
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{path}: row {i + 2}, column {c}: {df[c].iloc[i]!r} is not 1/0 (yes/no)")
        out[c] = v.map(lambda x: True if x in TRUE else (False if x in FALSE else None))
    return out


def predictions(checks: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """The check's answers per file: each asset at ``threshold`` confidence, and the flags."""
    out = pd.DataFrame({"file": checks["file"]})
    inv = checks.get("inventory", pd.Series([""] * len(checks))).fillna("")
    for asset in ASSET_CLASSES:
        conf = inv.str.extract(rf"(?:^|; ){asset} ([0-9.]+)", expand=False).astype(float).fillna(0.0)
        out[asset] = conf >= threshold
    for f in ("blurred", "dark", "screen_photo"):
        out[f] = checks[f].astype(str).str.lower().eq("true")
    out["reused"] = checks["duplicate_of"].fillna("").astype(str).ne("")
    return out


def evaluate(checks: pd.DataFrame, labels: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    pred = predictions(checks[checks.get("status", "ok") != "rejected"], threshold)
    joined = labels.merge(pred, on="file", suffixes=("_true", "_pred"))
    rows = []
    for item in [c for c in labels.columns if c != "file"]:
        sub = joined[joined[f"{item}_true"].notna()]
        y = sub[f"{item}_true"].astype(bool).to_numpy()
        p = sub[f"{item}_pred"].astype(bool).to_numpy()
        tp, fp, fn = int((y & p).sum()), int((~y & p).sum()), int((y & ~p).sum())
        plo, phi = wilson_interval(np.array([tp]), np.array([max(tp + fp, 1)]))
        rlo, rhi = wilson_interval(np.array([tp]), np.array([max(tp + fn, 1)]))
        rows.append(
            {
                "item": item,
                "photos": len(sub),
                "present": int(y.sum()),
                "flagged": int(p.sum()),
                "precision": tp / (tp + fp) if tp + fp else np.nan,
                "precision_ci": f"{float(plo[0]):.2f}–{float(phi[0]):.2f}" if tp + fp else "",
                "recall": tp / (tp + fn) if tp + fn else np.nan,
                "recall_ci": f"{float(rlo[0]):.2f}–{float(rhi[0]):.2f}" if tp + fn else "",
            }
        )
    return pd.DataFrame(rows)
