from __future__ import annotations

import numpy as np
import pytest

from atauly.vision import synthetic


@pytest.fixture(scope="session")
def vision_home(tmp_path_factory):
    return tmp_path_factory.mktemp("vision-home")


@pytest.fixture(scope="session")
def models_dir(vision_home):
    """The ONNX model, converted once per test session from the packaged weights (ATAULY_HOME layout)."""
    return vision_home / "models" / "vision"


@pytest.fixture
def home(vision_home, monkeypatch):
    """ATAULY_HOME set to the session's home (the converted model is shared by the tests)."""
    from atauly.settings import get_settings

    monkeypatch.setenv("ATAULY_HOME", str(vision_home))
    get_settings.cache_clear()
    yield vision_home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def classifier(models_dir):
    from atauly.vision.inventory import Classifier

    return Classifier(models_dir)


@pytest.fixture(scope="session")
def bases() -> list[tuple[str, np.ndarray]]:
    return synthetic.base_photos(24, side=256)
