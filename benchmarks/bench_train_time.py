"""Benchmark: the time of ``atauly model train --data fair.csv --target связь`` as a user runs it (issue 16:
"training a few thousand rows takes seconds"), against a baseline revision in the same run.

    .venv/bin/python benchmarks/bench_train_time.py [--runs 3] [--baseline REV] [--jobs N] [--out FILE.json]

The table is bench_byod's ``fair`` (statsmodels' Fair survey, 6,366 rows, written as a Ministry export:
Windows-1251, ';', да/нет). Each run is a fresh process of the whole command (imports, reading, training,
storing the model with its report and card) in an empty ``ATAULY_HOME``; its CPU time (user + sys of the
process and its children, from ``getrusage``) and wall time are kept. With ``--baseline REV`` the same
command is run from that revision's ``src/`` (``git archive``), the runs interleaved (baseline,
candidate, baseline, …) so both see the same load; the medians and their ratio (candidate / baseline)
are printed with the load average. On a shared machine the CPU time is the figure to compare: wall time
grows with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_byod import fair_table  # noqa: E402


def run_once(src: Path, csv: Path, home: Path, jobs: int) -> dict:
    """One ``atauly model train`` in a fresh process; its CPU (user + sys) and wall seconds."""
    env = dict(os.environ, PYTHONPATH=str(src), ATAULY_HOME=str(home), ATAULY_WORKERS=str(jobs))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from atauly.cli.main import app; app()", "model", "train", "--data", str(csv)]
        + ["--target", "связь"],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: the quality gate failed (the time still counts)
        raise SystemExit(f"{src}: exit {done.returncode}\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu": cpu, "wall": wall, "exit": done.returncode}


def baseline_src(rev: str, directory: Path) -> Path:
    """``src/`` of revision ``rev`` unpacked under ``directory``."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    return directory / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", help="a git revision to compare with, in the same run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="ATAULY_WORKERS")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv, _ = fair_table(tmp)
        sources = {"candidate": ROOT / "src"}
        if args.baseline:
            (tmp / "base").mkdir()
            sources = {"baseline": baseline_src(args.baseline, tmp / "base"), **sources}
        runs: dict[str, list[dict]] = {name: [] for name in sources}
        load = [os.getloadavg()[0]]
        for i in range(args.runs):
            for name, src in sources.items():
                with tempfile.TemporaryDirectory(dir=tmp) as home:
                    r = run_once(src, csv, Path(home), args.jobs)
                runs[name].append(r)
                load.append(os.getloadavg()[0])
                print(
                    f"run {i + 1} {name}: {r['cpu']:.2f} CPU s, {r['wall']:.2f} s wall, load {load[-1]:.2f}"
                )
    summary = {
        name: {
            "cpu_median": statistics.median(r["cpu"] for r in rs),
            "wall_median": statistics.median(r["wall"] for r in rs),
            "runs": rs,
        }
        for name, rs in runs.items()
    }
    summary["load_average"] = load
    summary["jobs"] = args.jobs
    if "baseline" in summary:
        for key in ("cpu", "wall"):
            ratios = [
                c[key] / b[key] for b, c in zip(runs["baseline"], runs["candidate"], strict=True) if b[key]
            ]
            summary[f"{key}_ratio_median"] = statistics.median(ratios)
    for name in runs:
        print(
            f"{name}: median {summary[name]['cpu_median']:.2f} CPU s, {summary[name]['wall_median']:.2f} s wall"
        )
    if "baseline" in summary:
        print(
            f"candidate / baseline (median of paired runs): CPU {summary['cpu_ratio_median']:.3f}, wall "
            f"{summary['wall_ratio_median']:.3f}; load {min(load):.2f}–{max(load):.2f}"
        )
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
