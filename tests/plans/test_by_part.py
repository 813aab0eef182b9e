"""The national plan without ``--law``, the law applied region part by region part, gives the population and
the plan of the whole registry read, validated and put through the law — and hands anything unusual (a
problem in a part, an identifier in two parts) back to the whole read, which reports it as before."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atauly.law.compute import compute, income_coverage
from atauly.plans import part_worker
from atauly.plans.by_part import population_by_parts
from atauly.plans.national import national_plan, population, population_from_files
from atauly.plans.part_worker import PartWorkerError, _Worker
from atauly.plans.read import read_law
from atauly.registry import load_registry
from atauly.registry.synthetic import generate

Q = "2025Q3"
REGIONS = ["610000000", "110000000", "750000000"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("reg") / "reg"
    generate(0.002, 7, out, regions=REGIONS, workers=1)
    reg, _ = load_registry(out, "recorded")
    return out, reg


def _same(a, b):
    pd.testing.assert_frame_equal(a.families, b.families)
    pd.testing.assert_frame_equal(a.persons, b.persons)
    for name in ("district_families", "region_families"):
        assert getattr(a, name).sort_index().to_dict() == getattr(b, name).sort_index().to_dict()


@pytest.mark.parametrize("region", [None, "610000000"])
@pytest.mark.parametrize("workers", [1, 2])
def test_by_part_gives_the_whole_registrys_population_and_plan(world, catalog, region, workers):
    out, reg = world
    parts = population_by_parts(out, "recorded", Q, catalog, region=region, workers=workers)
    assert parts is not None
    assert parts.coverage == income_coverage(reg, Q)  # the whole registry's, wherever the region
    whole = population(reg, Q, catalog, region=region)
    assert len(whole) > 10
    _same(whole, parts.population)
    a, _, _ = national_plan(None, Q, pop=whole, region=region, catalog=catalog, places_scale=50)
    b, _, _ = national_plan(None, Q, pop=parts.population, region=region, catalog=catalog, places_scale=50)
    assert len(a.assignments) > 0
    for name in ("assignments", "capacity", "districts", "regions", "budget", "targets"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_by_part_with_and_without_a_law_result_and_for_recipients(world, catalog, tmp_path):
    """The same population as ``--law`` gives, and the same restricted to some families."""
    out, reg = world
    law_path = tmp_path / "law.parquet"
    compute(reg, Q).to_parquet(law_path, index=False)
    parts = population_by_parts(out, "recorded", Q, catalog)
    _same(population_from_files(out, "recorded", read_law(law_path, True), catalog), parts.population)
    some = set(parts.population.families["family_id"].astype(str).iloc[::3])
    mine = population_by_parts(out, "recorded", Q, catalog, families=some)
    _same(population(reg, Q, catalog, families=some), mine.population)
    assert set(mine.population.families["family_id"].astype(str)) == some


def test_a_region_without_families_is_told_after_the_incomes_check(world, catalog):
    out, _ = world
    parts = population_by_parts(out, "recorded", Q, catalog, region="999")
    assert parts is not None and parts.population is None and parts.coverage.rows > 0


def _copy(world, tmp_path):
    out, _ = world
    dst = tmp_path / "reg"
    shutil.copytree(out, dst)
    return dst


@pytest.mark.parametrize("workers", [1, 2])
def test_a_problem_in_a_part_hands_over_to_the_whole_read(world, catalog, tmp_path, workers):
    dst = _copy(world, tmp_path)
    path = sorted((dst / "recorded" / "persons").iterdir())[0]
    table = pq.read_table(path)
    sex = table["sex"].to_pylist()
    sex[0] = "unknown"
    pq.write_table(table.set_column(table.schema.get_field_index("sex"), "sex", pa.array(sex)), path)
    assert population_by_parts(dst, "recorded", Q, catalog, workers=workers) is None


def test_an_id_in_two_parts_hands_over_to_the_whole_read(world, catalog, tmp_path):
    """Each part alone is valid; the whole registry is not (a person id, or an IIN, in two regions)."""
    dst = _copy(world, tmp_path)
    files = sorted((dst / "recorded" / "persons").iterdir())
    first = pq.read_table(files[0])
    for column in ("iin", "person_id"):
        path = files[1]
        saved = pq.read_table(path)
        values = saved[column].to_pylist()
        values[0] = first[column][0].as_py()
        patched = saved.set_column(saved.schema.get_field_index(column), column, pa.array(values))
        if column == "person_id":  # its incomes follow it, so that the part alone stays valid
            inc_path = dst / "recorded" / "incomes" / path.name
            inc = pq.read_table(inc_path)
            ids = [
                first[column][0].as_py() if v == saved[column][0].as_py() else v
                for v in inc[column].to_pylist()
            ]
            pq.write_table(
                inc.set_column(inc.schema.get_field_index(column), column, pa.array(ids)), inc_path
            )
        pq.write_table(patched, path)
        with pytest.raises(Exception):  # noqa: B017 - the whole read refuses it (which problem: its report)
            load_registry(dst, "recorded")
        for workers in (1, 2):
            assert population_by_parts(dst, "recorded", Q, catalog, workers=workers) is None
        pq.write_table(saved, path)


def test_a_parts_conditional_families_keep_none_of_its_incomes(world):
    """What a part keeps (its conditional families and members, no income rows) is ``take`` less the
    incomes, and holds no buffer of the part's incomes (an empty slice of them would keep them all in
    memory until the plan is done)."""
    from atauly.plans.part_work import _without_incomes

    _, reg = world
    mask = (pd.Series(range(len(reg.families))) % 3 == 0).to_numpy()
    kept, taken = _without_incomes(reg, mask), reg.take(mask)
    pd.testing.assert_frame_equal(kept.families, taken.families, check_exact=True)
    pd.testing.assert_frame_equal(kept.persons, taken.persons, check_exact=True)
    pd.testing.assert_frame_equal(kept.incomes, taken.incomes.iloc[:0].reset_index(drop=True))
    assert (kept.person_family == taken.person_family).all() and len(kept.income_person) == 0

    def held(frame):  # bytes of the Arrow buffers its columns reference (a slice references them all)
        return sum(pa.array(frame[c]).get_total_buffer_size() for c in frame.columns)

    assert held(reg.incomes.iloc[:0]) > 10_000  # what an empty slice would have kept
    assert held(kept.incomes) < 1_000


# --- the parts in worker processes (workers > 1): the same result, errors and no file left behind -----------


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The temporary folder this process and its workers use, to see what is left in it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_worker_processes_give_this_processs_result_for_a_region_and_for_recipients(world, catalog, own_tmp):
    out, _ = world
    some = None
    for region in (None, "610000000"):
        alone = population_by_parts(out, "recorded", Q, catalog, region=region, workers=1)
        some = set(alone.population.families["family_id"].astype(str).iloc[::2])
        for families in (None, some):
            a = population_by_parts(out, "recorded", Q, catalog, region=region, families=families, workers=1)
            b = population_by_parts(out, "recorded", Q, catalog, region=region, families=families, workers=2)
            assert a.coverage == b.coverage
            for name in ("families", "persons"):
                x, y = getattr(a.population, name), getattr(b.population, name)
                pd.testing.assert_frame_equal(x, y, check_exact=True)
                assert [repr(x[c].dtype) for c in x.columns] == [repr(y[c].dtype) for c in y.columns]
            for name in ("district_families", "region_families"):
                pd.testing.assert_series_equal(getattr(a.population, name), getattr(b.population, name))
    assert list(own_tmp.iterdir()) == []


def test_an_unreadable_part_fails_in_a_worker_as_in_this_process(world, catalog, tmp_path, own_tmp):
    """A part file that is not Parquet: the same exception, the same message, with or without workers; the
    workers' temporary files are removed."""
    dst = _copy(world, tmp_path)
    path = sorted((dst / "recorded" / "incomes").iterdir())[-1]
    path.write_bytes(b"not a parquet file")
    raised = {}
    for workers in (1, 2):
        with pytest.raises(Exception) as info:  # noqa: B017 - which one: compared below
            population_by_parts(dst, "recorded", Q, catalog, workers=workers)
        raised[workers] = info.value
    assert type(raised[2]) is type(raised[1]) and str(raised[2]) == str(raised[1])
    assert isinstance(raised[1], ValueError)  # pyarrow's ArrowInvalid: the CLI reports it as an error
    assert any("worker process" in note for note in raised[2].__notes__)
    assert list(own_tmp.iterdir()) == []


def test_a_worker_that_dies_is_a_clear_error(world):
    out, _ = world
    worker = _Worker({"quarter": Q, "region": None, "wanted": None, "folder": str(out)})
    worker.proc.kill()
    worker.proc.wait()
    with pytest.raises(PartWorkerError, match="ended without a result"):
        worker.receive("part-610000000.parquet")
    worker.close(stop=False)


def test_the_cli_plans_the_same_with_and_without_worker_processes(world, tmp_path, own_tmp):
    from typer.testing import CliRunner

    from atauly.cli.main import app

    out, _ = world
    base = ["plans", "national", "--registry", str(out), "--quarter", Q, "--places-scale", "50"]
    for workers in ("1", "2"):
        r = CliRunner().invoke(app, [*base, "--out", str(tmp_path / workers), "--workers", workers])
        assert r.exit_code == 0, r.output
    for name in ("assignments", "capacity", "districts", "regions", "budget", "targets", "lottery"):
        a, b = (pd.read_parquet(tmp_path / w / f"{name}.parquet") for w in ("1", "2"))
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(pd.read_parquet(tmp_path / "2" / "assignments.parquet")) > 0
    assert list(own_tmp.iterdir()) == []
    assert not list((tmp_path / "2").glob(".atauly-parts-*"))  # the workers' folder, under --out, removed


def test_a_part_leaves_no_simulation_behind(world):
    """The law's simulation refers to itself (only the cycle collector frees it and the arrays it holds): a
    finished part collects it, not the next part's allocations."""
    from openfisca_core.simulations import Simulation

    from atauly.law.simulation import Quarter
    from atauly.law.system import tax_benefit_system
    from atauly.plans.by_part import _parts
    from atauly.plans.part_work import part_result

    out, _ = world
    paths, tbs = _parts(out, "recorded")[0], tax_benefit_system()
    gc.collect()
    gc.disable()  # no automatic collection: what is left is what the part left
    try:
        part = part_result(paths, Quarter.parse(Q), None, None, tbs)
        alive = sum(isinstance(o, Simulation) for o in gc.get_objects())
    finally:
        gc.enable()
    assert part.ok and len(part.sub.families) > 0
    assert alive == 0


# --- the workers' files of personal data: under --out, removed when the command is stopped or killed ---------

_RUN_CLI = """
import sys
from atauly.cli.main import app
sys.argv = ["atauly", *sys.argv[1:]]
app()
"""


def _national_in_a_process(world, out):
    import os
    import subprocess
    import sys

    import atauly

    reg, _ = world
    src = str(Path(atauly.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    args = ["plans", "national", "--registry", str(reg), "--quarter", Q, "--out", str(out), "--workers", "2"]
    return subprocess.Popen(
        [sys.executable, "-c", _RUN_CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _when_a_worker_has_written(proc, out) -> tuple[Path, list[int]]:
    """The workers' folder under ``out`` once a part's files are in it, and the workers' pids."""
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        written = list(out.glob(".atauly-parts-*/part-*"))
        if written:
            return written[0].parent, _children(proc.pid)
        time.sleep(0.005)
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"no part's file seen under {out}: {err.decode()[-3000:]}")


def _children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(name))
    return found


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie waiting for its new parent: it has ended


two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--workers 2 needs two cores")
in_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="processes are looked at in /proc")


@two_cores
@in_proc
def test_sigterm_stops_the_command_and_removes_its_workers_files(world, tmp_path):
    out = tmp_path / "plan"
    proc = _national_in_a_process(world, out)
    folder, workers = _when_a_worker_has_written(proc, out)
    assert folder.parent == out and len(workers) == 2
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode()[-3000:]
    assert not folder.exists() and not list(out.glob(".atauly-parts-*"))
    assert all(_ended(pid) for pid in workers)


@two_cores
@in_proc
def test_the_workers_of_a_killed_command_remove_their_files_and_end(world, tmp_path):
    import time

    out = tmp_path / "plan"
    proc = _national_in_a_process(world, out)
    folder, workers = _when_a_worker_has_written(proc, out)
    proc.kill()  # no handler can run: the workers are told by the kernel
    proc.communicate(timeout=120)
    deadline = time.monotonic() + 60
    while not all(_ended(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_ended(pid) for pid in workers)
    assert not list(folder.glob("part-*"))  # each worker removed what it wrote
    part_worker.remove_stale_folders(out)  # what the next run does first
    assert not folder.exists()


def test_the_folders_of_processes_no_longer_alive_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale, own = tmp_path / f".atauly-parts-{dead.pid}-abc", tmp_path / f".atauly-parts-{os.getpid()}-def"
    for folder in (stale, own):
        folder.mkdir()
        (folder / "part-0-persons.arrow").write_bytes(b"personal data")
    part_worker.remove_stale_folders(tmp_path)
    assert not stale.exists() and (own / "part-0-persons.arrow").exists()


# --- a worker that cannot start or has ended: a clear error, nothing left running ---------------------------


def test_a_worker_failing_at_its_start_is_told_by_its_exit_status(world):
    out, _ = world
    worker = _Worker({"quarter": "not a quarter", "region": None, "wanted": None, "folder": str(out)})
    with pytest.raises(PartWorkerError, match=r"ended without a result \(exit status 1;") as info:
        worker.send({"part": 0, "paths": []})  # the worker may have ended already
        worker.receive("part-610000000.parquet")
    assert "memory" not in str(info.value)
    worker.close(stop=False)


def test_sending_to_a_worker_that_has_ended_is_a_clear_error(world):
    out, _ = world
    worker = _Worker({"quarter": Q, "region": None, "wanted": None, "folder": str(out)})
    worker.proc.kill()
    worker.proc.wait()
    with pytest.raises(PartWorkerError, match="killed by SIGKILL, perhaps out of memory"):
        worker.send({"part": 0, "paths": []})
    worker.close(stop=False)


def test_workers_started_are_closed_when_the_next_cannot_start(world, monkeypatch, own_tmp):
    from atauly.plans.by_part import _parts

    started = []
    real = subprocess.Popen

    def popen(*args, **kwargs):
        if started:
            raise OSError("no more processes")
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(part_worker.subprocess, "Popen", popen)
    out, _ = world
    parts = _parts(out, "recorded")
    with pytest.raises(OSError, match="no more processes"):
        part_worker.in_processes(parts, [1] * len(parts), 2, Q, None, None)
    assert len(started) == 1 and started[0].returncode is not None  # waited for
    assert list(own_tmp.iterdir()) == []


def test_a_worker_refuses_other_code_than_its_parents(tmp_path):
    import json

    command, env = part_worker._command()
    config = {"quarter": Q, "region": None, "wanted": None, "folder": str(tmp_path)}
    config |= {"parent": os.getpid(), "package": str(tmp_path / "atauly" / "__init__.py")}
    proc = subprocess.run(
        command, input=json.dumps(config) + "\n", capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1 and "not the parent's" in proc.stderr


def test_the_package_is_added_to_the_workers_path_only_where_it_would_not_be_found(monkeypatch, tmp_path):
    import site

    import atauly

    checkout, packages = (tmp_path / "src").resolve(), (tmp_path / "site-packages").resolve()
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(packages)])
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(tmp_path / "user"))
    monkeypatch.setattr(subprocess, "_args_from_interpreter_flags", lambda: ["-X", "dev"])
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "other"))
    monkeypatch.setattr(atauly, "__file__", str(packages / "atauly" / "__init__.py"))
    command, env = part_worker._command()
    assert env["PYTHONPATH"] == str(tmp_path / "other")  # never site-packages before the standard library
    assert command == [sys.executable, "-X", "dev", "-m", "atauly.plans.part_worker"]
    monkeypatch.setattr(atauly, "__file__", str(checkout / "atauly" / "__init__.py"))
    _, env = part_worker._command()
    assert env["PYTHONPATH"] == os.pathsep.join([str(checkout), str(tmp_path / "other")])
