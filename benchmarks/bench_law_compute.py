"""Benchmark: `atauly law compute` on a national-size registry (default 1M families, ≈3.2M persons).

Generates a random (uncalibrated) registry that follows the data contract, writes it as Parquet, then
times the real command end to end (read, validate, apply the law, write) in a subprocess. The baseline,
measured in the same run, is the I/O floor: reading the same Parquet tables and summing incomes by
family with pandas. Prints seconds and the ratio to the baseline; exits 1 when over the target.

    .venv/bin/python benchmarks/bench_law_compute.py [--families 1000000] [--target 60]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from atauly.registry.codes import REGIONS
from atauly.registry.iin import make_iins

MONTHS = ("2025-04", "2025-05", "2025-06")


def generate(n_families: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sizes = np.clip(rng.poisson(2.2, n_families) + 1, 1, 10)
    fam_ids = np.char.add("F", np.arange(n_families).astype(str))
    region = np.array([r.kato for r in REGIONS])[rng.integers(0, len(REGIONS), n_families)]
    applied = np.where(
        rng.random(n_families) < 0.3,
        (np.datetime64("2025-07-01") + rng.integers(0, 92, n_families)).astype(str),
        "",
    )
    families = pd.DataFrame(
        {
            "family_id": fam_ids,
            "region_kato": region,
            "application_date": applied,
            "dwellings_owned": rng.binomial(2, 0.4, n_families),
            "vehicles_owned": rng.binomial(1, 0.25, n_families),
        }
    )
    n = int(sizes.sum())
    fam_of = np.repeat(np.arange(n_families), sizes)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    pos = np.arange(n) - np.repeat(first, sizes)
    role = np.where(pos == 0, "applicant", np.where(pos == 1, "spouse", "child"))
    adult = pos < 2
    born = np.where(
        adult,
        np.datetime64("1950-01-01") + rng.integers(0, 365 * 50, n),
        np.datetime64("2008-01-01") + rng.integers(0, 365 * 17, n),
    ).astype("datetime64[D]")
    head_born = born[first][fam_of]
    born = np.where(~adult & (born <= head_born), head_born + 365 * 18, born)  # children younger than parents
    sex = np.where(rng.random(n) < 0.5, "M", "F")
    statuses = np.array(
        [
            "employee",
            "self_employed",
            "registered_unemployed",
            "not_working",
            "pensioner",
            "caring_child_under_3",
        ]
    )
    status = np.where(adult, statuses[rng.integers(0, len(statuses), n)], "not_working")
    persons = pd.DataFrame(
        {
            "person_id": np.char.add("P", np.arange(n).astype(str)),
            "family_id": fam_ids[fam_of],
            "iin": make_iins(born, sex, np.arange(n) % 10000),
            "role": role,
            "sex": sex,
            "birth_date": born,
            "disability_group": rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3], n),
            "employment_status": status,
        }
    )
    # IINs must be unique: the serial is the person's index mod 10,000, so a collision needs the same birth
    # date and sex and index ≡ mod 10,000; de-duplicate any that remain.
    dup = persons["iin"].duplicated(keep="first").to_numpy()
    while dup.any():
        idx = np.flatnonzero(dup)
        persons.loc[idx, "iin"] = make_iins(born[idx], sex[idx], rng.integers(0, 10000, len(idx)))
        dup = persons["iin"].duplicated(keep="first").to_numpy()
    earner = np.flatnonzero(adult & np.isin(status, ["employee", "self_employed", "pensioner"]))
    source = np.where(
        status[earner] == "pensioner",
        "pension",
        np.where(status[earner] == "employee", "wages", "self_employment"),
    )
    amount = np.round(rng.lognormal(11.2, 0.7, len(earner)), 0)
    incomes = pd.DataFrame(
        {
            "person_id": np.tile(persons["person_id"].to_numpy()[earner], 3),
            "month": np.repeat(MONTHS, len(earner)),
            "source": np.tile(source, 3),
            "amount_kzt": np.tile(amount, 3),
        }
    )
    return families, persons, incomes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", type=int, default=1_000_000)
    ap.add_argument("--target", type=float, default=60.0, help="seconds allowed for law compute")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="atauly-bench-"))
    reg = work / "registry"
    reg.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    families, persons, incomes = generate(args.families)
    for name, df in (("families", families), ("persons", persons), ("incomes", incomes)):
        df.to_parquet(reg / f"{name}.parquet", index=False)
    print(
        f"generated {len(families):,} families, {len(persons):,} persons, {len(incomes):,} income rows "
        f"in {time.perf_counter() - t:.1f}s -> {reg}"
    )
    del families, persons, incomes

    t = time.perf_counter()
    fam = pd.read_parquet(reg / "families.parquet")
    per = pd.read_parquet(reg / "persons.parquet")
    inc = pd.read_parquet(reg / "incomes.parquet")
    totals = (
        inc.merge(per[["person_id", "family_id"]], on="person_id").groupby("family_id")["amount_kzt"].sum()
    )
    _ = fam["family_id"].map(totals).fillna(0)
    baseline = time.perf_counter() - t
    del fam, per, inc, totals
    print(f"baseline (read Parquet + pandas income sum by family): {baseline:.1f}s")

    out = work / "result.parquet"
    cmd = [
        sys.executable,
        "-m",
        "atauly.cli.main",
        "law",
        "compute",
        "--registry",
        str(reg),
        "--quarter",
        "2025Q3",
        "--out",
        str(out),
    ]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
    elapsed = time.perf_counter() - t
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        return 2
    rows = len(pd.read_parquet(out, columns=["family_id"]))
    print(proc.stdout[-2500:])
    print(
        f"law compute: {elapsed:.1f}s for {rows:,} families ({rows / elapsed:,.0f} families/s), "
        f"peak RSS {peak_gb:.1f} GB; ratio to baseline {elapsed / baseline:.1f}x; target {args.target:.0f}s: "
        f"{'PASS' if elapsed <= args.target else 'FAIL'}"
    )
    return 0 if elapsed <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
