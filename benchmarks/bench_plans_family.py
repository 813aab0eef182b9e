"""A/B benchmark of one family's plan and documents (``atauly plans family``) as a fresh process.

Runs ``python -m atauly.cli.main plans family --registry DIR --quarter 2025Q3 --family ID --lang kk|ru
--out DIR`` with this source tree and with a baseline tree (``--baseline-src``, e.g. ``main``'s ``src``
unpacked by ``git archive``), alternating baseline and this tree, and reports for each the median CPU time
of the run (user + system of the process and any process it forks, from ``getrusage`` of the children:
what the run costs), the CPU time of the command's own process (with the PDFs written by a forked process,
:mod:`atauly.plans.pdfworker`, the own process is the critical path and the child runs on the other
core; without it the two are the same, and equal the wall time on a quiet machine), the median wall time,
their ratio and the load average around the runs. It also times the imports the command pays (``-X
importtime`` in a separate process, the top modules listed; with the forked writer its imports, fpdf2's,
are listed too), and one family's plan and documents in a process that has already made one (the
casework service's case: imports and parameters already loaded, PDFs written in the process).

The documents of the two trees are compared: the PDFs' page content streams (the text as set, glyph by
glyph) and their ToUnicode maps, decompressed, and the DOCX files' ``word/document.xml`` text, must be the
same; a difference is printed and the exit status is 1.

    .venv/bin/python benchmarks/bench_plans_family.py --registry DIR --family ID \\
        --baseline-src /tmp/main-src [--lang kk] [--runs 5] [--json out.json]

Pick a conditional family from ``atauly law compute``'s result (``eligible`` and ``asp_type ==
"conditional"``), or let ``--law FILE`` pick the first one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

QUARTER = "2025Q3"
SRC = Path(__file__).resolve().parent.parent / "src"


def _env(src: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}


#: Runs ``atauly.cli.main`` as ``python -m`` does and, at exit, writes the CPU seconds of this process alone
#: (user + system, its children not counted) to the file named first: with the PDFs written by a forked
#: process (atauly.plans.pdfworker) the command's process is the critical path, the child runs beside it.
_OWN_CPU = """
import atexit, resource, runpy, sys
out = sys.argv.pop(1)
def _own():
    r = resource.getrusage(resource.RUSAGE_SELF)
    with open(out, "w") as fh:
        fh.write(repr(r.ru_utime + r.ru_stime))
atexit.register(_own)
runpy.run_module("atauly.cli.main", run_name="__main__", alter_sys=True)
"""


def fresh_run(src: Path, registry: Path, family: str, lang: str, out: Path) -> dict:
    """One fresh process of ``plans family``: CPU (user + system, of the process and its children), the
    CPU of the command's own process, and wall seconds."""
    own = out.parent / f"own-cpu-{out.name}"
    cmd = [sys.executable, "-c", _OWN_CPU, str(own), "plans", "family", "--registry", str(registry),
           "--quarter", QUARTER, "--family", family, "--lang", lang, "--out", str(out)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=_env(src), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{src}: plans family failed\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": cpu, "own_cpu_s": float(own.read_text()), "wall_s": wall}


_WARM = """
import sys, time
from pathlib import Path
from atauly.plans.catalog import plan_catalog
from atauly.plans.documents import draft_for_family
registry, family, lang, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
catalog = plan_catalog("2025Q3")
draft_for_family(registry, "recorded", "2025Q3", family, catalog, lang, out)  # imports, parameters, fonts
best = min(
    (lambda t0: (draft_for_family(registry, "recorded", "2025Q3", family, catalog, lang, out),
                 time.process_time() - t0)[1])(time.process_time())
    for _ in range(3)
)
print(f"{best:.4f}")
"""


def warm_run(src: Path, registry: Path, family: str, lang: str, out: Path) -> float:
    """CPU seconds of one family's plan and documents in a process that has already made one."""
    proc = subprocess.run(
        [sys.executable, "-c", _WARM, str(registry), family, lang, str(out)],
        env=_env(src), capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return float(proc.stdout.split()[-1])


def top_imports(src: Path, registry: Path, family: str, lang: str, out: Path, n: int = 12) -> list:
    """The modules imported directly by the command's process that cost most (cumulative, ms)."""
    cmd = [sys.executable, "-X", "importtime", "-m", "atauly.cli.main", "plans", "family", "--registry",
           str(registry), "--quarter", QUARTER, "--family", family, "--lang", lang, "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=_env(src), capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if m and len(m.group(3)) == 1:  # imported by the command itself, not by another module
            rows.append((int(m.group(2)) / 1000, m.group(4)))
    total = sum(ms for ms, _ in rows)
    return [(round(total, 1), "all")] + [(round(ms, 1), name) for ms, name in sorted(rows, reverse=True)[:n]]


def pdf_text_streams(path: Path) -> list[bytes]:
    """The PDF's decompressed content streams that set text or map glyphs to text (page contents and
    ToUnicode CMaps), in file order; metadata (dates, ids) and the fonts' binary data are left out."""
    data = path.read_bytes()
    out = []
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        raw = data[m.end() : end].rstrip(b"\r\n")
        try:
            body = zlib.decompress(raw)
        except zlib.error:
            body = raw
        if b"BT" in body or b"beginbfchar" in body or b"beginbfrange" in body:
            out.append(body)
    return out


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    return "\n".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))


def compare(a: Path, b: Path) -> list[str]:
    """Differences between the documents in two output directories (empty: the same)."""
    problems = []
    names = sorted(p.name for p in a.iterdir() if p.suffix in (".pdf", ".docx"))
    if names != sorted(p.name for p in b.iterdir() if p.suffix in (".pdf", ".docx")):
        return [f"different files: {names}"]
    for name in names:
        if name.endswith(".pdf") and pdf_text_streams(a / name) != pdf_text_streams(b / name):
            problems.append(f"{name}: the text set in the PDF differs")
        if name.endswith(".docx") and docx_text(a / name) != docx_text(b / name):
            problems.append(f"{name}: the DOCX text differs")
    return problems


def pick_family(law: Path) -> str:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(law, columns=["family_id", "eligible", "asp_type"])
    chosen = table.filter(
        pc.and_(pc.equal(table["eligible"], True), pc.equal(table["asp_type"], "conditional"))
    )
    if not chosen.num_rows:
        raise SystemExit(f"{law}: no family on conditional ASP")
    return str(chosen["family_id"][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--registry", type=Path, required=True)
    ap.add_argument("--family", help="family_id of a family on conditional ASP")
    ap.add_argument("--law", type=Path, help="an `atauly law compute` result: its first conditional family")
    ap.add_argument("--baseline-src", type=Path, required=True, help="the baseline's src directory")
    ap.add_argument("--lang", default="kk", choices=["kk", "ru", "en"])
    ap.add_argument("--runs", type=int, default=5, help="fresh processes of each tree (alternating)")
    ap.add_argument("--target-s", type=float, default=1.0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    family = args.family or (pick_family(args.law) if args.law else None)
    if not family:
        ap.error("give --family or --law")
    trees = {"baseline": args.baseline_src.resolve(), "this": SRC}
    with tempfile.TemporaryDirectory(prefix="bench-family-") as tmp:
        outs = {name: Path(tmp) / name for name in trees}
        for name, src in trees.items():  # a first run of each: caches (fonts, catalogs), disk
            fresh_run(src, args.registry, family, args.lang, outs[name])
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        loads = [os.getloadavg()[0]]
        for _ in range(args.runs):
            for name, src in trees.items():
                runs[name].append(fresh_run(src, args.registry, family, args.lang, outs[name]))
                loads.append(os.getloadavg()[0])
        problems = compare(outs["baseline"], outs["this"])
        result = {"registry": str(args.registry), "family": family, "lang": args.lang, "runs": args.runs,
                  "load_min": round(min(loads), 2), "load_max": round(max(loads), 2)}  # fmt: skip
        for name, src in trees.items():
            cpu = statistics.median(r["cpu_s"] for r in runs[name])
            wall = statistics.median(r["wall_s"] for r in runs[name])
            own = statistics.median(r["own_cpu_s"] for r in runs[name])
            result[name] = {
                "cpu_s_median": round(cpu, 3),
                "own_cpu_s_median": round(own, 3),
                "own_cpu_s": [round(r["own_cpu_s"], 3) for r in runs[name]],
                "wall_s_median": round(wall, 3),
                "cpu_s": [round(r["cpu_s"], 3) for r in runs[name]],
                "wall_s": [round(r["wall_s"], 3) for r in runs[name]],
                "warm_cpu_s": round(warm_run(src, args.registry, family, args.lang, Path(tmp) / "warm"), 3),
                "imports_ms": top_imports(src, args.registry, family, args.lang, Path(tmp) / "imp"),
            }
        b, t = result["baseline"], result["this"]
        result["cpu_ratio"] = round(t["cpu_s_median"] / b["cpu_s_median"], 3)
        result["wall_ratio"] = round(t["wall_s_median"] / b["wall_s_median"], 3)
        result["same_documents"] = not problems
        result["target_met_cpu"] = t["cpu_s_median"] <= args.target_s
    for name in trees:
        r = result[name]
        print(f"{name:9s} CPU median {r['cpu_s_median']:.3f} s {r['cpu_s']}  wall median {r['wall_s_median']:.3f} s"
              f"  warm (in process) {r['warm_cpu_s']:.3f} s")  # fmt: skip
        print(
            f"          the command's own process: CPU median {r['own_cpu_s_median']:.3f} s {r['own_cpu_s']}"
        )
        print("          imports (ms): " + ", ".join(f"{n} {ms:.0f}" for ms, n in r["imports_ms"]))
    print(f"ratio this/baseline: CPU {result['cpu_ratio']:.3f}, wall {result['wall_ratio']:.3f}; load average "
          f"{result['load_min']}–{result['load_max']}; documents the same: {result['same_documents']}")  # fmt: skip
    for p in problems:
        print("  " + p)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
