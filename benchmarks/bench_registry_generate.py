"""Benchmark: `atauly registry generate` (default: the whole country, scale 1.0) and, with --calibrate,
`atauly registry calibrate` on it — time, CPU seconds and peak memory.

Runs the real commands in subprocesses, then, as the baseline measured in the same run, reads back the
generated truth/ and recorded/ tables with pandas (the I/O floor). Prints wall seconds, CPU seconds
(user + sys of the command and its worker processes: on a shared machine wall time is inflated, CPU time
much less), peak RSS (the largest single process: all worker processes together are bounded by the
largest one times the workers, plus the parent) and the ratio to the baseline; exits 1 when over the
targets (wall seconds and GB, for each command measured).

    .venv/bin/python benchmarks/bench_registry_generate.py [--scale 1.0] [--target-seconds 180] [--target-gb 8]
    .venv/bin/python benchmarks/bench_registry_generate.py --registry DIR --calibrate [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

#: Runs the CLI, then writes its own and its children's peak RSS (kB) to stderr's last line.
_RUN = (
    "import resource, sys\n"
    "from atauly.cli.main import app\n"
    "try:\n"
    "    app(sys.argv[1:])\n"
    "finally:\n"
    "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "    print(f'PEAK_KB {max(own, kids)}', file=sys.stderr)\n"
)


def _run(args: list[str]) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """The CLI with ``args``: the process, wall seconds, CPU seconds (its tree), peak RSS in GB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _RUN, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peaks = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK_KB ")]
    peak_gb = int(peaks[-1]) / 1024**2 if peaks else float("nan")
    return proc, wall, cpu, peak_gb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target-seconds", type=float, default=180.0)
    ap.add_argument("--target-gb", type=float, default=8.0)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--registry", type=Path, default=None, help="An already generated registry: skip generating."
    )
    ap.add_argument("--calibrate", action="store_true", help="Also measure `registry calibrate`.")
    ap.add_argument("--workers", type=int, default=None, help="Calibration's processes (default: its own).")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="atauly-gen-"))
    ok = True
    measured: list[tuple[str, float, float, float]] = []
    if args.registry is None:
        out = work / "registry"
        shutil.rmtree(out, ignore_errors=True)
        proc, wall, cpu, peak = _run(
            ["registry", "generate", "--scale", str(args.scale), "--seed", str(args.seed), "--out", str(out)]
        )
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 2
        print(proc.stdout.strip().splitlines()[-1])
        measured.append((f"registry generate --scale {args.scale}", wall, cpu, peak))
    else:
        out = args.registry
    if args.calibrate:
        cal = ["registry", "calibrate", "--registry", str(out), "--out", str(work / "calibration")]
        if args.workers:
            cal += ["--workers", str(args.workers)]
        proc, wall, cpu, peak = _run(cal)
        if proc.returncode not in (0, 1):  # 1: a headline target out of tolerance (still measured)
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 2
        verdict = "headline targets within tolerance" if proc.returncode == 0 else "a headline target off"
        measured.append((f"registry calibrate ({verdict})", wall, cpu, peak))
    t = time.perf_counter()
    rows = 0
    for layer in ("truth", "recorded"):
        for table in ("families", "persons", "incomes"):
            rows += len(pd.read_parquet(out / layer / table))
    baseline = time.perf_counter() - t
    print(f"baseline (read back truth/ and recorded/, {rows:,} rows): {baseline:.1f}s")
    for name, wall, cpu, peak in measured:
        passed = wall <= args.target_seconds and peak <= args.target_gb
        ok = ok and passed
        print(
            f"{name}: {wall:.1f}s wall, {cpu:.1f} CPU-s, peak RSS of one process {peak:.2f} GB; "
            f"ratio to baseline {wall / baseline:.1f}x; targets {args.target_seconds:.0f}s and "
            f"{args.target_gb:.0f} GB: {'PASS' if passed else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
