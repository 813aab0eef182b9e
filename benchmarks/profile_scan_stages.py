"""Where one partition's scan time goes, stage by stage (the same calls as ``scan_partition``).

    PYTHONPATH=src .venv/bin/python benchmarks/profile_scan_stages.py --registry DIR --store DIR/models \
        [--model asp-scan] [--partitions part-610000000,part-750000000] [--repeat 2]

Prints one line per partition and repeat: read, validate, law, features, model, well-being, status,
earlier visits, then the whole ``scan_partition`` (ranking and writing included) into a temporary directory. Compare
numbers only within one run: the machine may be shared.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from atauly.law.compute import compute
from atauly.law.system import tax_benefit_system
from atauly.model import ModelStore
from atauly.registry import Registry, validate
from atauly.registry.io import read_parquet
from atauly.registry.wellbeing import levels

scan_module = importlib.import_module("atauly.screening.partition")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", type=Path, required=True)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--model", default="asp-scan")
    ap.add_argument("--quarter", default="2025Q3")
    ap.add_argument("--partitions", default="part-610000000,part-750000000")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    name, version = ModelStore(args.store).resolve(args.model)
    model = f"{name}@{version}"
    rec = scan_module.cached_recommender(str(args.store), model)
    tax_benefit_system()  # built once per process, as in a worker
    start = pd.Period(args.quarter, freq="Q").start_time
    work = Path(tempfile.mkdtemp(prefix="atauly-scan-stages-"))
    try:
        for part in args.partitions.split(","):
            for _ in range(args.repeat):
                t: dict[str, float] = {}
                t0 = time.perf_counter()
                base = args.registry / "recorded"
                tables = [
                    read_parquet(base / n / f"{part}.parquet") for n in ("families", "persons", "incomes")
                ]
                t["read"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                fam, per, inc, report = validate(*tables)
                reg = Registry(fam, per, inc, report.person_family, report.income_person)
                t["validate"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                law = compute(reg, args.quarter)
                t["law"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                X = rec.features_of(reg, law, start)
                t["features"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                rec.score(X)
                t["model"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                levels(fam, per, inc, positions=reg.positions())
                t["wellbeing"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                dec = scan_module._decisions(args.registry, part)
                scan_module._status(dec, args.quarter, fam["family_id"])
                t["status"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                scan_module._visit_history(args.registry, part, args.quarter, fam["family_id"], dec)
                t["visit history"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                job = scan_module.ScanJob(
                    str(args.registry), part, args.quarter, str(args.store), model, str(work)
                )
                scan_module.scan_partition(job)
                whole = time.perf_counter() - t0
                stages = " ".join(f"{k} {v:.2f}" for k, v in t.items())
                print(
                    f"{part} {len(fam):,} families: {stages} | sum {sum(t.values()):.2f} | scan_partition {whole:.2f}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
