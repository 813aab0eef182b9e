"""The engine process shared by ``atauly serve --workers N``: the same outcomes and errors as in process, the
batches of several workers merged, and a killed engine answered 503 (then served again), never 500."""

from __future__ import annotations

import copy
import os
import signal
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from atauly.service.app import create_app, load_recommender
from atauly.service.casework import quarter_of
from atauly.service.engine import EngineUnavailable, InvalidApplication, RecommendationEngine
from atauly.service.engine_shared import EngineServer, RemoteEngine, SharedEngine
from atauly.service.intake import snapshot_of
from atauly.service.schemas import ApplicationIn
from atauly.settings import Settings

from .conftest import DISTRICT, REGION, in_district, token_headers


def _inputs(payload: dict) -> tuple[dict, str]:
    app = ApplicationIn.model_validate(payload)
    return snapshot_of(app), quarter_of(app.family.application_date)


class CountingEngine(RecommendationEngine):
    """Records the size of every batch it computes."""

    def __init__(self, recommender) -> None:
        super().__init__(recommender)
        self.batches: list[int] = []

    def run_batch(self, jobs):
        self.batches.append(len(jobs))
        super().run_batch(jobs)


@pytest.fixture(scope="module")
def served(svc_home, tmp_path_factory):
    """An engine server in a thread of this process, on a socket of its own."""
    path = str(tmp_path_factory.mktemp("sock") / "engine.sock")
    engine = CountingEngine(load_recommender(Settings(home=svc_home)))
    ready = threading.Event()
    server = EngineServer(engine, path)
    threading.Thread(target=server.serve_forever, args=(ready,), daemon=True).start()
    assert ready.wait(60)
    return path, engine, server


def test_the_shared_engine_gives_the_in_process_outcomes_and_errors(
    served, svc_home, svc_engine, svc_payloads
):
    path, _, _ = served
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    worker = RecommendationEngine(
        load_recommender(Settings(home=svc_home)), process=True, remote=RemoteEngine(path)
    )
    try:
        assert worker._pool is None  # no child of its own
        inputs = [_inputs(p) for p in svc_payloads[:6]]
        bad = copy.deepcopy(svc_payloads[6])
        iin = bad["persons"][0]["iin"]
        bad["persons"][0]["iin"] = iin[:-1] + str((int(iin[-1]) + 1) % 10)  # checksum fails
        with ThreadPoolExecutor(len(inputs) + 1) as pool:
            got = [pool.submit(worker.recommend, s, q) for s, q in inputs]
            refused = pool.submit(worker.recommend, *_inputs(bad))
            outcomes = [f.result(timeout=120) for f in got]
            with pytest.raises(InvalidApplication) as exc:
                refused.result(timeout=120)
        with pytest.raises(InvalidApplication) as alone:
            svc_engine.recommend(*_inputs(bad))
        assert exc.value.problems == alone.value.problems
        assert exc.value.problems[0]["loc"] == ["body", "persons", 0, "iin"]
        for (snapshot, quarter), outcome in zip(inputs, outcomes, strict=True):
            assert outcome == svc_engine.recommend(snapshot, quarter)
        assert outcomes[0].mode == "model" and outcomes[0].reasons["codes"]
        # without the model (an administrator's switch) too
        assert worker.recommend(*inputs[0], use_model=False) == svc_engine.recommend(
            *inputs[0], use_model=False
        )
    finally:
        worker.close()


def test_batches_of_several_workers_are_computed_together(served, svc_home, svc_payloads):
    """Two workers' batches that arrive while the engine is busy are merged into one batch."""
    path, engine, server = served
    workers = [RecommendationEngine(None, remote=RemoteEngine(path)) for _ in range(2)]
    inputs = [_inputs(p) for p in svc_payloads[:16]]
    gate = threading.Event()
    original = engine.run_batch

    def slow_first(jobs):  # the engine busy with one batch while both workers send theirs
        gate.wait(30)
        original(jobs)

    try:
        engine.batches.clear()
        engine.run_batch = slow_first
        with ThreadPoolExecutor(len(inputs) + 1) as pool:
            first = pool.submit(workers[0].recommend, *inputs[0])
            deadline = time.monotonic() + 30
            while server._waiting.qsize() and time.monotonic() < deadline:  # the first batch taken
                time.sleep(0.01)
            time.sleep(0.2)
            rest = [pool.submit(workers[k % 2].recommend, s, q) for k, (s, q) in enumerate(inputs[1:])]
            time.sleep(1.0)  # both workers' batches waiting in the engine
            gate.set()
            first.result(timeout=120)
            [f.result(timeout=120) for f in rest]
    finally:
        engine.run_batch = original
        for w in workers:
            w.close()
    assert engine.batches[0] == 1
    assert max(engine.batches[1:]) > (len(inputs) - 1) / 2  # more than one worker's share in a batch
    assert sum(engine.batches) == len(inputs)


def test_an_unreachable_engine_is_unavailable_not_an_error(tmp_path, svc_payloads):
    worker = RecommendationEngine(None, remote=RemoteEngine(str(tmp_path / "nobody.sock")))
    with pytest.raises(EngineUnavailable):
        worker.recommend(*_inputs(svc_payloads[0]), timeout=30)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_killed_shared_engine_gives_503_then_serves_again(svc_home, settings, svc_payloads):
    """The real engine process (as ``atauly serve --workers N`` starts it): killed with SIGKILL, a submission
    is answered 503 with Retry-After; the process is started again and the next submission is recorded."""
    shared = SharedEngine(svc_home, settings.service_model).start(timeout=300)
    try:
        assert stat.S_IMODE(os.stat(shared.directory).st_mode) == 0o700
        app = create_app(settings.model_copy(update={"service_engine_socket": shared.path}))
        assert app.state.engine.remote is not None
        with TestClient(app) as client:
            _users(app)
            headers = token_headers(client, "officer1")
            payloads = in_district(svc_payloads, DISTRICT)
            r = client.post("/api/v1/applications", json=payloads[0], headers=headers)
            assert r.status_code == 201, r.text
            # Ctrl-C reaches the whole process group: the engine waits for the server to stop it.
            os.kill(shared.pid, signal.SIGINT)
            time.sleep(1.0)
            assert shared._process.is_alive() and shared.restarts == 0
            os.kill(shared.pid, signal.SIGKILL)
            r = client.post("/api/v1/applications", json=payloads[1], headers=headers)
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"]
            deadline = time.monotonic() + 60
            while not shared.restarts and time.monotonic() < deadline:  # the server saw it end
                time.sleep(0.1)
            assert shared.restarts == 1
            shared.wait_ready(300)
            r = client.post("/api/v1/applications", json=payloads[1], headers=headers)
            assert r.status_code == 201, r.text
        app.state.db_engine.dispose()
        app.state.read_engine.dispose()
    finally:
        shared.stop()
    assert not Path(shared.directory).exists()


def _users(app) -> None:
    from atauly.service.users import create_user

    from .conftest import PASSWORD

    with app.state.sessions() as db:
        create_user(db, "officer1", PASSWORD, "officer", DISTRICT, None)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_serve_with_workers_starts_one_shared_engine_for_them(settings, monkeypatch):
    """``atauly serve --workers 2`` starts the engine process before the workers, tells them its socket
    through the environment, and stops it (its private directory removed) when the workers end; with
    ``ATAULY_SERVICE_ENGINE_SHARED=false`` each worker keeps a child of its own."""
    import uvicorn
    from typer.testing import CliRunner

    from atauly.cli.main import app as cli
    from atauly.service.engine_shared import ping
    from atauly.settings import get_settings

    seen: list[dict] = []

    def run(target, **options):
        path = os.environ.get("ATAULY_SERVICE_ENGINE_SOCKET")
        seen.append({"workers": options.get("workers"), "path": path, "up": bool(path) and ping(path)})

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setenv("ATAULY_HOME", str(settings.home))
    monkeypatch.setenv("ATAULY_DATABASE_URL", settings.database)
    monkeypatch.delenv("ATAULY_SERVICE_ENGINE_SOCKET", raising=False)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["serve", "--workers", "2"])
        assert out.exit_code == 0, out.output
        monkeypatch.delenv("ATAULY_SERVICE_ENGINE_SOCKET", raising=False)
        monkeypatch.setenv("ATAULY_SERVICE_ENGINE_SHARED", "false")
        get_settings.cache_clear()
        out = CliRunner().invoke(cli, ["serve", "--workers", "2"])
        assert out.exit_code == 0, out.output
    finally:
        get_settings.cache_clear()
    assert seen[0]["workers"] == 2 and seen[0]["up"], seen
    assert not Path(seen[0]["path"]).parent.exists()
    assert seen[1] == {"workers": 2, "path": None, "up": False}


def test_an_answer_of_another_shape_is_unavailable_not_an_error(tmp_path, svc_payloads):
    """An engine process of another version (an outcome with other fields) or out of step: 503, not 500,
    and the worker's batching thread lives on."""
    import socket

    from atauly.service.engine_shared import receive, send

    path = str(tmp_path / "odd.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def odd_engine() -> None:
        conn, _ = listener.accept()
        with conn:
            message = receive(conn)
            send(conn, {"id": message["id"], "results": [{"ok": True, "outcome": {"bogus": 1}}]})
            message = receive(conn)
            send(conn, {"id": message["id"] + 7, "results": []})

    threading.Thread(target=odd_engine, daemon=True).start()
    worker = RecommendationEngine(None, remote=RemoteEngine(path))
    try:
        for _ in range(2):
            with pytest.raises(EngineUnavailable):
                worker.recommend(*_inputs(svc_payloads[0]), timeout=30)
        assert worker._thread.is_alive()
    finally:
        worker.close()
        listener.close()


def test_an_engine_that_keeps_ending_at_start_is_restarted_ever_more_slowly():
    """An engine that ran a while is started again at once; one that ends soon after its start (it cannot
    load) waits 0.5 s, then twice as long each time, at most a minute — not twice a second forever."""
    from atauly.service.engine_shared import QUICK_END_S, RESTART_DELAY_MAX_S, restart_delay

    assert restart_delay(0.0, lived=QUICK_END_S + 1) == 0.0
    delays, delay = [], 0.0
    for _ in range(10):
        delay = restart_delay(delay, lived=2.0)
        delays.append(delay)
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays[-1] == RESTART_DELAY_MAX_S and delays == sorted(delays)
    assert restart_delay(RESTART_DELAY_MAX_S, lived=QUICK_END_S * 10) == 0.0  # ran a while: anew


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_worker_with_the_shared_engine_knows_the_model_without_loading_it(settings, tmp_path):
    """Issue 17: the engine process scores; a worker's pages show the model's name and metadata only, so
    the forest (≈ 25 MB a worker) is not loaded in each worker — and the model page is the same."""
    from atauly.model.store import ModelStore, TamperedModelError
    from atauly.service.users import create_user

    from .conftest import PASSWORD
    from .test_web import sign_in

    worker = create_app(settings.model_copy(update={"service_engine_socket": str(tmp_path / "e.sock")}))
    alone = create_app(settings)
    try:
        model = worker.state.engine.recommender
        assert model.stored.estimator is None and not hasattr(model, "score_with_codes")
        assert model.name == alone.state.engine.recommender.name
        assert model.threshold == alone.state.engine.recommender.threshold
        with worker.state.sessions() as db:
            create_user(db, "analyst", PASSWORD, "analyst", None, None)
        pages = [sign_in(app, "analyst").get("/model?lang=en") for app in (worker, alone)]
        assert pages[0].status_code == 200 and f"Model card: {model.name}" in pages[0].text
        assert pages[0].text.split("<main", 1)[1] == pages[1].text.split("<main", 1)[1]
    finally:
        for app in (worker, alone):
            app.state.db_engine.dispose()
            app.state.read_engine.dispose()
    # described as loading checks it: a metadata file changed after it was stored is refused
    store = ModelStore(settings.models_dir)
    stored = store.describe(settings.service_model)
    copy_root = tmp_path / "models"
    import shutil

    shutil.copytree(store.root, copy_root)
    meta = copy_root / stored.name / stored.version / "metadata.json"
    meta.write_text(meta.read_text().replace('"threshold"', '"threshold" ', 1))
    with pytest.raises(TamperedModelError):
        ModelStore(copy_root).describe(settings.service_model)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_worker_claims_no_model_whose_artifact_the_engine_refuses(settings, tmp_path):
    """A model.skops changed after it was stored (its metadata and index intact): the engine's loading
    refuses it and scores with the law alone, so a worker of the shared engine describes no model either —
    its model page shows no card, its safeguards page says no model is in service."""
    import shutil

    from atauly.model.store import ModelStore, TamperedModelError
    from atauly.service.users import create_user

    from .conftest import PASSWORD
    from .test_web import sign_in

    home = tmp_path / "home"
    shutil.copytree(settings.models_dir, home / "models")
    # another home for its models only: the database and the audit key stay the test's
    corrupted = settings.model_copy(
        update={"home": home, "audit_key_file": settings.audit_key_file or settings.home / "audit.key"}
    )
    stored = ModelStore(corrupted.models_dir).describe(corrupted.service_model)
    artifact = stored.path / "model.skops"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte, same size: no deserialisation needed to tell
    artifact.write_bytes(bytes(data))
    store = ModelStore(corrupted.models_dir)
    with pytest.raises(TamperedModelError):
        store.describe(corrupted.service_model)
    with pytest.raises(TamperedModelError):
        store.load(corrupted.service_model)
    assert load_recommender(corrupted) is None  # what the shared engine process scores with
    worker = create_app(corrupted.model_copy(update={"service_engine_socket": str(tmp_path / "e.sock")}))
    try:
        assert worker.state.engine.recommender is None
        with worker.state.sessions() as db:
            create_user(db, "analyst", PASSWORD, "analyst", None, None)
            create_user(db, "supervisor", PASSWORD, "supervisor", None, REGION)
        card = sign_in(worker, "analyst").get("/model?lang=en")
        assert card.status_code == 200 and "Law only" in card.text and "Model card:" not in card.text
        assert stored.name not in card.text.split("<main", 1)[1]
        safeguards = sign_in(worker, "supervisor").get("/settings?lang=en")
        assert safeguards.status_code == 200
        assert "No model is in service: the law alone recommends everywhere." in safeguards.text
    finally:
        worker.state.db_engine.dispose()
        worker.state.read_engine.dispose()


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_socket_directories_of_a_killed_server_are_removed_at_the_next_start(tmp_path, monkeypatch):
    """A server killed with SIGKILL leaves its socket's directory; the next start removes it — only one
    whose owner process is gone: a live server's, one naming no owner, or anything else stays."""
    import tempfile

    from atauly.service import engine_shared

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / "atauly-engine-dead1234"
    live = tmp_path / "atauly-engine-live1234"
    unknown = tmp_path / "atauly-engine-none1234"
    other = tmp_path / "something-else"
    for d in (dead, live, unknown, other):
        d.mkdir()
        (d / "engine.sock").write_text("")
    (dead / engine_shared.OWNER).write_text(str(_dead_pid()))
    (live / engine_shared.OWNER).write_text(str(os.getppid()))
    (other / engine_shared.OWNER).write_text(str(_dead_pid()))
    shared = SharedEngine(tmp_path, "asp-demo")  # makes its directory; starts nothing
    try:
        assert not dead.exists()
        assert live.exists() and unknown.exists() and other.exists()
        mine = Path(shared.directory)
        assert mine.parent == tmp_path and (mine / engine_shared.OWNER).read_text() == str(os.getpid())
        assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    finally:
        shared.stop()
    assert not Path(shared.directory).exists()


def test_a_socket_directory_whose_owner_holds_its_lock_is_never_removed(tmp_path, monkeypatch):
    """``kill(pid, 0)`` sees this PID namespace only: a server in another container sharing ``/tmp``
    names a process that looks gone here. What decides is the lock a serving process holds on its owner
    file: while it is held the directory stays, whatever the file names; once its process is killed
    (SIGKILL: nothing cleaned up) the kernel drops the lock and the next start removes the directory."""
    import subprocess
    import sys
    import tempfile

    from atauly.service import engine_shared

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shared = SharedEngine(tmp_path, "asp-demo")  # makes its directory; starts nothing
    other = tmp_path / "atauly-engine-other123"
    other.mkdir()
    (other / engine_shared.OWNER).write_text(str(_dead_pid()))
    holder = subprocess.Popen(  # another server: holds the lock on its owner file until killed
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print('held', "
            "flush=True); sys.stdin.read()",
            str(other / engine_shared.OWNER),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = Path(shared.directory)
        (mine / engine_shared.OWNER).write_text(str(_dead_pid()))  # as a pid of another namespace looks
        assert engine_shared.clean_stale(str(tmp_path)) == []
        assert mine.exists() and other.exists()
        holder.kill()
        holder.wait()
        assert engine_shared.clean_stale(str(tmp_path)) == [str(other)]
        assert mine.exists() and not other.exists()
    finally:
        holder.kill()
        holder.wait()
        holder.stdin.close()
        holder.stdout.close()
        shared.stop()
    assert not Path(shared.directory).exists()


def test_a_temporary_directory_too_long_for_a_socket_falls_back_to_a_short_one(tmp_path, monkeypatch):
    import tempfile

    from atauly.service import engine_shared

    long_dir = tmp_path / ("x" * 60) / ("y" * 60)
    long_dir.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(long_dir))
    shared = SharedEngine(tmp_path, "asp-demo")
    try:
        assert len(os.fsencode(shared.path)) <= engine_shared.MAX_SOCKET_PATH
        assert Path(shared.directory).parent == Path(engine_shared.SHORT_DIRECTORY)
    finally:
        shared.stop()
    monkeypatch.setattr(engine_shared, "SHORT_DIRECTORY", str(long_dir))  # neither will do: said clearly
    with pytest.raises(RuntimeError, match="too long a path for a Unix socket"):
        SharedEngine(tmp_path, "asp-demo")
