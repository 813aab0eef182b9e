"""The proactive scan: candidates by the rules, the same result on every worker setup, and a scan killed
with SIGKILL that resumes without losing or duplicating anything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.law.compute import compute
from atauly.model import ModelStore, load_applications, train_and_store
from atauly.registry.synthetic import generate
from atauly.screening import CANDIDATE_COLUMNS, ScanError, read_candidates, scan
from atauly.screening.scan import WORKER_ENV

from ..model.conftest import quick_config

REGIONS = ["790000000", "350000000", "430000000"]  # Shymkent, Karaganda, Kyzylorda


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("scan")
    registry = root / "registry"
    generate(0.01, 3, registry, REGIONS, law=compute)
    store = ModelStore(root / "models")
    ds = load_applications(registry, view="recorded")
    train_and_store(ds, store, "asp-scan", "test", quick_config(baselines=False, random_split=False))
    return registry, store


def run(setup, out, **kw):
    registry, store = setup
    return scan(registry, "2025Q3", out, store.root, "asp-scan", **kw)


def test_candidates_follow_the_rules(setup, tmp_path):
    registry, _ = setup
    run(setup, tmp_path / "s")
    cand = read_candidates(tmp_path / "s")
    assert list(cand.columns[: len(CANDIDATE_COLUMNS)]) == CANDIDATE_COLUMNS
    assert set(cand["region"]) <= set(REGIONS) and len(cand) > 0
    dec = pd.read_parquet(registry / "decisions")
    now = dec[dec["quarter"] == "2025Q3"]
    assert not set(cand["family_id"]) & set(now["family_id"])  # receiving or applying: not offered
    refused_q2 = dec[(dec["quarter"] == "2025Q2") & ~dec["officer_approved"]]
    assert not set(cand["family_id"]) & set(refused_q2["family_id"])
    for _, group in cand.groupby("district"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
    summary = pd.read_parquet(tmp_path / "s" / "summary")
    assert summary["candidates"].sum() == len(cand)
    assert (summary["entitled_by_law"] >= 0).all() and summary["families"].sum() > summary["candidates"].sum()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_same_candidates_with_one_worker_a_local_cluster_and_a_separate_scheduler(setup, tmp_path):
    run(setup, tmp_path / "one", workers=1)
    run(setup, tmp_path / "local", workers=2)
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    # Workers started by hand get the allocator settings the way the docs say: `atauly screen worker-env`.
    printed = CliRunner().invoke(app, ["screen", "worker-env"])
    assert printed.exit_code == 0, printed.output
    worker_env = dict(line.split("=", 1) for line in printed.output.split())
    assert worker_env == WORKER_ENV
    procs = [
        subprocess.Popen(
            [bin_dir / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        time.sleep(2)
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        bin_dir / "dask",
                        "worker",
                        f"tcp://127.0.0.1:{port}",
                        "--nthreads",
                        "1",
                        "--preload",
                        "atauly.screening.worker",
                        "--no-dashboard",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=dict(os.environ, **worker_env),
                )
            )
        time.sleep(3)
        run(setup, tmp_path / "remote", scheduler=f"tcp://127.0.0.1:{port}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    one = read_candidates(tmp_path / "one")
    pd.testing.assert_frame_equal(one, read_candidates(tmp_path / "local"))
    pd.testing.assert_frame_equal(one, read_candidates(tmp_path / "remote"))


def test_a_killed_scan_resumes_without_loss_or_duplicates(setup, tmp_path):
    registry, store = setup
    full = tmp_path / "full"
    run(setup, full)
    out = tmp_path / "killed"
    env = dict(os.environ, ATAULY_HOME=str(store.root.parent), ATAULY_WORKERS="1")
    cmd = [
        sys.executable,
        "-m",
        "atauly.cli.main",
        "screen",
        "--registry",
        str(registry),
        "--quarter",
        "2025Q3",
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "candidates").glob("part-*.parquet")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = list((out / "candidates").glob("part-*.parquet"))
    assert 1 <= len(done) < len(REGIONS)  # killed mid-way
    manifest = run(setup, out)
    assert manifest["resumed_from"] == len(done)
    assert len(manifest["scanned_now"]) == len(REGIONS) - len(done)
    pd.testing.assert_frame_equal(read_candidates(out), read_candidates(full))
    assert not list(out.rglob("*.tmp"))


def test_a_scan_directory_of_another_quarter_is_refused(setup, tmp_path):
    registry, store = setup
    run(setup, tmp_path / "s")
    with pytest.raises(ScanError, match="quarter"):
        scan(registry, "2025Q2", tmp_path / "s", store.root, "asp-scan")


def test_report_by_region_and_district_with_a_map(setup, tmp_path):
    from atauly.screening.report import tables
    from atauly.service.web.scan_report import write_report

    run(setup, tmp_path / "s")
    path, _ = write_report(tmp_path / "s", tmp_path / "r", consent_rate=0.4, lang="en")
    page = path.read_text()
    # The dashboard's tile map: the 20 regions labelled, each linking to its districts' list by name.
    assert page.count('data-region="') == 20 and "Karaganda Region" in page and "By district" in page
    for kato in REGIONS:
        assert f'href="#region-{kato}"' in page and f'<details id="region-{kato}">' in page
    assert "per 1,000 families" in page
    # In Kazakh and Russian through the catalogs, numbers in the language's format.
    kk = write_report(tmp_path / "s", tmp_path / "kk", consent_rate=0.4, lang="kk")[0].read_text()
    ru = write_report(tmp_path / "s", tmp_path / "ru", consent_rate=0.4, lang="ru")[0].read_text()
    assert "Проактивті іздеу" in kk and "Қарағанды облысы" in kk and 'lang="kk"' in kk
    assert "Проактивный поиск" in ru and "Карагандинская область" in ru
    assert "per 1,000 families" not in kk + ru
    region, district = tables(tmp_path / "s", 0.4)
    cand = read_candidates(tmp_path / "s")
    assert set(region["region"]) == set(REGIONS)
    assert region["candidates"].sum() == district["candidates"].sum() == len(cand)
    assert region["expected_take_up"].sum() == pytest.approx(0.4 * cand["probability"].sum())
    expected_budget = (0.4 * cand["probability"] * cand["monthly_amount"]).sum()
    assert region["additional_monthly_budget"].sum() == pytest.approx(expected_budget)
    assert (tmp_path / "r" / "by_region.csv").exists() and (tmp_path / "r" / "by_district.csv").exists()
    with pytest.raises(ValueError):
        tables(tmp_path / "s", 1.5)


def test_wellbeing_levels_from_registry_positions_equal_the_id_lookup(setup):
    from atauly.registry import load_registry
    from atauly.registry.wellbeing import levels

    registry, _ = setup
    reg, _ = load_registry(registry, "recorded")
    by_ids = levels(reg.families, reg.persons, reg.incomes)
    by_positions = levels(reg.families, reg.persons, reg.incomes, positions=reg.positions())
    pd.testing.assert_frame_equal(by_ids, by_positions)


def test_district_summaries_equal_a_groupby_and_leave_out_families_without_a_district(setup, tmp_path):
    """The summaries are integer sums by (region, district); they must equal pandas' groupby of the
    candidates and families, which leaves out a family whose district is missing."""
    import shutil

    registry, store = setup
    copy = tmp_path / "registry"
    shutil.copytree(registry, copy)
    part = sorted((copy / "recorded" / "families").glob("part-*.parquet"))[0]
    fam = pd.read_parquet(part)
    fam.loc[0, "district_kato"] = None
    fam.to_parquet(part, index=False)
    scan(copy, "2025Q3", tmp_path / "s", store.root, "asp-scan")
    summary = pd.read_parquet(tmp_path / "s" / "summary" / part.name)
    assert summary["families"].sum() == len(fam) - 1
    assert not summary["district"].isna().any()
    expected = fam.dropna(subset=["district_kato"]).groupby("district_kato").size()
    assert summary.set_index("district")["families"].to_dict() == expected.to_dict()
    cand = pd.read_parquet(tmp_path / "s" / "candidates" / part.name)
    by_district = cand.dropna(subset=["district"]).groupby("district").size()
    assert summary.set_index("district")["candidates"].loc[by_district.index].tolist() == by_district.tolist()
