"""A serving process sets its start-up heap aside from the cyclic collector (atauly.service.heap); test
processes never do (their apps come and go)."""

from __future__ import annotations

import subprocess
import sys

from atauly.service import heap


def test_settle_freezes_what_is_alive_and_makes_young_collections_rarer():
    code = (
        "import gc; from atauly.service import heap; "
        "before = gc.get_freeze_count(); heap.settle(); "
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, young = (int(x) for x in out.stdout.split())
    assert before == 0 and after > 1000  # the interpreter's and the package's objects
    assert young == heap.YOUNG_THRESHOLD


def test_serve_settles_the_heap_after_the_app_is_built_and_before_it_serves(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    import atauly.service.app as app_module
    from atauly.cli.main import app as cli
    from atauly.settings import get_settings

    steps: list[str] = []
    monkeypatch.setattr(app_module, "create_app", lambda settings: steps.append("app") or "the app")
    monkeypatch.setattr(heap, "settle", lambda: steps.append("settle"))
    monkeypatch.setattr(uvicorn, "run", lambda target, **_options: steps.append(f"run {target}"))
    monkeypatch.setenv("ATAULY_HOME", str(tmp_path))
    monkeypatch.delenv("ATAULY_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    assert steps == ["app", "settle", "run the app"]


def test_each_worker_of_serve_settles_after_building_its_app(monkeypatch):
    import atauly.service.app as app_module

    steps: list[str] = []
    monkeypatch.setattr(app_module, "create_app", lambda: steps.append("app") or "the app")
    monkeypatch.setattr(heap, "settle", lambda: steps.append("settle"))
    assert app_module.create_served_app() == "the app"
    assert steps == ["app", "settle"]


def test_the_shared_engine_process_settles_once_the_law_and_model_are_loaded(monkeypatch, tmp_path):
    from atauly.service import engine as engine_module
    from atauly.service import engine_shared

    steps: list[str] = []

    class Server:
        def __init__(self, engine, path):
            steps.append(f"server {path}")

        def serve_forever(self):
            steps.append("serve")

    monkeypatch.setattr(engine_module, "load_recommender", lambda settings: steps.append("model"))
    monkeypatch.setattr(engine_shared, "RecommendationEngine", lambda model: steps.append("engine"))
    monkeypatch.setattr(engine_shared, "EngineServer", Server)
    monkeypatch.setattr(engine_shared, "exit_with", lambda parent: None)
    monkeypatch.setattr(engine_shared.signal, "signal", lambda *_args: None)
    monkeypatch.setattr(heap, "settle", lambda: steps.append("settle"))
    engine_shared.engine_main("sock", 1, str(tmp_path), "asp-demo")
    assert steps == ["model", "engine", "settle", "server sock", "serve"]
