"""Stage 2: photo and video evidence — checked, private, and useful to the officer.

Photos verify and document facts (assets, dwelling, authenticity) that an officer confirms; they never
score a family alone. Sub-modules: ``intake`` (type by content, limits, safe decoding, re-encoding,
EXIF), ``privacy`` (faces and people blurred), ``quality`` (blur, darkness, moiré), ``phash`` and
``reuse`` (the reuse index), ``effnet``/``torchfile``/``inventory`` (EfficientNet-Lite0 in ONNX Runtime
mapped to assets), ``video`` (keyframes), ``geo`` (GPS → region), ``check`` (the pipeline and its CSV),
``store`` (encrypted content-addressed originals with retention), ``evaluate`` (the pilot's scoring).
"""

from __future__ import annotations

from pathlib import Path


def models_dir() -> Path:
    """Where the converted ONNX model is cached: ``ATAULY_HOME/models/vision``."""
    from atauly.settings import get_settings

    return get_settings().models_dir / "vision"
