"""Benchmark: the proactive scan (`atauly screen`) of a whole registry, against a naive baseline.

    .venv/bin/python benchmarks/bench_screen.py --registry DIR --store DIR/models [--model asp-scan]
        [--workers 2] [--baseline-regions 3] [--coverage]

1. The scan of every partition on a Dask LocalCluster of ``--workers`` processes: wall time and the
   peak RSS of the largest worker process.
2. The naive baseline, in the same run, on the first ``--baseline-regions`` regions (the whole country
   would not fit in memory this way): one process, the whole frame through pandas — read and validate,
   the law, the features, ``predict_proba`` — against the scan of the same regions in one process.
3. The model's floor: node visits per family (trees × mean path length, measured) × time per visit
   (measured on the same forest), per core.
4. With ``--coverage`` and a ``truth/`` view: the share of truly entitled, non-receiving families the
   scan finds, and the share of candidates not in need.

Prints a JSON summary (also to ``--out``), with the peak resident memory of all the scan's processes
together (sampled every 0.2 s). Target (issue 6): the whole country in ≤ 60 s, ≤ 8 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from atauly.law.compute import compute
from atauly.model import ModelStore, Recommender
from atauly.model.features import family_features
from atauly.registry import Registry
from atauly.registry.validate import validate
from atauly.screening import partitions, read_candidates, scan


class _PeakMemory:
    """Samples the resident memory of this process and all its descendants (the Dask workers) every
    0.2 s; ``peak`` is the largest sum seen — what the machine must hold at once."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            total = 0
            for proc in (me, *me.children(recursive=True)):
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True, help="Model store (ATAULY_HOME/models).")
    ap.add_argument("--model", default="asp-scan")
    ap.add_argument("--quarter", default="2025Q3")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline-regions", type=int, default=3)
    ap.add_argument("--coverage", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atauly-bench-screen-"))
    summary: dict = {"workers": args.workers}
    parts = partitions(args.registry)

    # 1. The whole registry on Dask.
    sampler = _PeakMemory()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with sampler:
        scan(args.registry, args.quarter, work / "scan", args.store, args.model, workers=args.workers)
    summary["scan_seconds"] = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary["scan_worker_cpu_seconds"] = {
        "user": after.ru_utime - before.ru_utime,
        "system": after.ru_stime - before.ru_stime,
    }
    summary["peak_rss_gb_all_processes"] = sampler.peak / 1024**3
    candidates = read_candidates(work / "scan")
    summary["partitions"] = len(parts)
    summary["candidates"] = len(candidates)
    summary["families"] = int(pd.read_parquet(work / "scan" / "summary")["families"].sum())
    print(f"scan: {summary['scan_seconds']:.1f} s for {summary['families']:,} families", file=sys.stderr)

    # 2. Naive baseline vs the scan on the same regions, both in one process.
    some = parts[: args.baseline_regions]
    rec = Recommender.load(ModelStore(args.store), args.model)
    rec.set_jobs(1)
    t0 = time.perf_counter()
    tables = [
        pd.concat(
            [pd.read_parquet(args.registry / "recorded" / name / f"{p}.parquet") for p in some],
            ignore_index=True,
        )
        for name in ("families", "persons", "incomes")
    ]
    fam, per, inc, _report = validate(*tables)
    reg = Registry(fam, per, inc)
    law = compute(reg, args.quarter)
    X = family_features(reg, law, pd.Period(args.quarter, freq="Q").start_time)
    rec.model.predict_proba(rec.prepare(X))
    naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    from atauly.screening.partition import ScanJob, scan_partition

    one = work / "one"
    for p in some:
        scan_partition(ScanJob(str(args.registry), p, args.quarter, str(args.store), rec.name, str(one)))
    ours = time.perf_counter() - t0
    summary["baseline"] = {
        "regions": some,
        "families": len(fam),
        "naive_seconds": naive,
        "scan_one_process_seconds": ours,
        "ratio_naive_over_scan": naive / ours,
    }
    print(summary["baseline"], file=sys.stderr)

    # 3. The model's floor: node visits per family × time per visit.
    forest = rec._pipeline.named_steps["forest"]
    Xt = rec._pipeline.named_steps["prep"].transform(rec.prepare(X.iloc[:200_000]))
    indicator, _ = forest.decision_path(Xt)
    visits = indicator.nnz / Xt.shape[0]
    t0 = time.perf_counter()
    forest.apply(Xt)
    per_visit = (time.perf_counter() - t0) / (Xt.shape[0] * visits)
    summary["floor"] = {
        "node_visits_per_family": visits,
        "ns_per_visit": per_visit * 1e9,
        "model_floor_seconds_whole_registry": summary["families"] * visits * per_visit / args.workers,
    }
    print(summary["floor"], file=sys.stderr)

    # 4. Coverage against the synthetic truth.
    if args.coverage and (args.registry / "truth").is_dir():
        dec = pd.read_parquet(
            args.registry / "decisions", columns=["family_id", "quarter", "officer_approved"]
        )
        receiving = set(dec.loc[(dec["quarter"] == args.quarter) & dec["officer_approved"], "family_id"])
        chosen = set(candidates["family_id"])
        truly = set()
        for p in parts:
            sub = args.registry / "truth"
            tabs = [pd.read_parquet(sub / n / f"{p}.parquet") for n in ("families", "persons", "incomes")]
            f, pe, i, _ = validate(*tabs)
            res = compute(Registry(f, pe, i), args.quarter)
            truly |= set(res.loc[res["eligible"], "family_id"])
        needy_open = truly - receiving
        needy_total = len(needy_open)
        found_needy = len(needy_open & chosen)
        cand_needy = len(chosen & truly)
        summary["coverage"] = {
            "truly_entitled_not_receiving": needy_total,
            "found_share": found_needy / max(needy_total, 1),
            "candidates_not_in_need_share": 1 - cand_needy / max(len(chosen), 1),
        }
        print(summary["coverage"], file=sys.stderr)

    summary["peak_rss_gb_largest_child"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    summary["peak_rss_gb_this_process"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    text = json.dumps(summary, indent=2, default=str)
    print(text)
    if args.out:
        args.out.write_text(text)
    shutil.rmtree(work, ignore_errors=True)
    ok = summary["scan_seconds"] <= 60 and summary["peak_rss_gb_all_processes"] <= 8
    print("target met" if ok else "target NOT met (≤ 60 s, ≤ 8 GB)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
