"""Benchmark: `atauly registry generate` (default: the whole country, scale 1.0) — time and peak memory.

Runs the real command in a subprocess, then, as the baseline measured in the same run, reads back the
generated truth/ and recorded/ tables with pandas (the I/O floor). Prints seconds, peak RSS of the
generator (all its worker processes together are bounded by the largest one plus the parent; the figure
is the largest single process) and the ratio to the baseline; exits 1 when over the targets.

    .venv/bin/python benchmarks/bench_registry_generate.py [--scale 1.0] [--target-seconds 180] [--target-gb 8]
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target-seconds", type=float, default=180.0)
    ap.add_argument("--target-gb", type=float, default=8.0)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="atauly-gen-"))
    out = work / "registry"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "atauly.cli.main",
        "registry",
        "generate",
        "--scale",
        str(args.scale),
        "--seed",
        str(args.seed),
        "--out",
        str(out),
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        return 2
    print(proc.stdout.strip().splitlines()[-1])
    t = time.perf_counter()
    rows = 0
    for layer in ("truth", "recorded"):
        for table in ("families", "persons", "incomes"):
            rows += len(pd.read_parquet(out / layer / table))
    baseline = time.perf_counter() - t
    ok = elapsed <= args.target_seconds and peak_gb <= args.target_gb
    print(f"baseline (read back truth/ and recorded/, {rows:,} rows): {baseline:.1f}s")
    print(
        f"registry generate --scale {args.scale}: {elapsed:.1f}s, peak RSS of one process {peak_gb:.1f} GB; "
        f"ratio to baseline {elapsed / baseline:.1f}x; targets {args.target_seconds:.0f}s and {args.target_gb:.0f} GB: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
