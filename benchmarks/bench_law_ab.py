"""A/B benchmark of the law's vectorised path: ``compute()`` on one registry with two source trees.

Times :func:`atauly.law.compute.compute` (the function ``atauly.screening`` calls in bulk) in fresh
processes, alternating the baseline tree and this one, and prints the best CPU time of each and their
ratio. CPU time (not wall time) so that other work on a shared machine does not decide the result.

    .venv/bin/python benchmarks/bench_law_ab.py --registry /tmp/r --baseline-src /work/main/src \\
        [--quarter 2025Q3] [--rounds 3] [--repeat 7]

Make the registry with e.g. ``atauly registry generate --scale 0.05 --seed 1 --region 610000000 --out /tmp/r``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

_CHILD = """
import sys, time
from atauly.registry import load_registry
from atauly.law.compute import compute
reg, _ = load_registry(sys.argv[1], "recorded")
compute(reg, sys.argv[2])  # warm: the tax-benefit system, parameters, calendar tables
best = min(
    (lambda t0: (compute(reg, sys.argv[2]), time.process_time() - t0)[1])(time.process_time())
    for _ in range(int(sys.argv[3]))
)
print(f"{best:.4f} {len(reg.families)}")
"""


def run(src: Path, registry: Path, quarter: str, repeat: int) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(registry), quarter, str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", type=Path, required=True)
    ap.add_argument("--baseline-src", type=Path, required=True, help="src/ of the baseline tree")
    ap.add_argument("--quarter", default="2025Q3")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    here = Path(__file__).resolve().parents[1] / "src"
    base, new, families = [], [], 0
    for _ in range(args.rounds):
        b, families = run(args.baseline_src, args.registry, args.quarter, args.repeat)
        n, _ = run(here, args.registry, args.quarter, args.repeat)
        base.append(b)
        new.append(n)
    print(f"families: {families:,}; quarter {args.quarter}; best CPU seconds of {args.rounds}×{args.repeat}")
    print(f"  baseline ({args.baseline_src}): {min(base):.3f} s")
    print(f"  this tree ({here}): {min(new):.3f} s")
    print(f"  ratio this/baseline: {min(new) / min(base):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
