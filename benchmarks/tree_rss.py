"""Run a command and measure its whole process tree: wall seconds, CPU seconds (user + system of the command
and every descendant it waited for) and the peak of the tree's **summed** resident memory.

``/usr/bin/time -v`` reports the largest resident set of any *one* process, which understates a command
that runs worker processes (``atauly plans national --workers 2``: the parent and two workers are resident
together). Here ``/proc`` is sampled every ``--interval`` seconds (0.2 by default) and the RSS of the
command and all its descendants summed. Neither a bound above nor below: a page shared by several
processes (the interpreter's and libraries' code, pages a fork has not yet copied) is counted once per
process, which overstates; a peak shorter than the interval can be missed, and files in a tmpfs (memory
too, such as temporary files there) are in no process's RSS, which understates.

    .venv/bin/python benchmarks/tree_rss.py -- atauly plans national --registry DIR --quarter 2025Q3 --out P
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc/*/stat (processes that end while read are skipped)."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(name))
    return tree


TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system seconds of ``pid`` itself so far (0 once it has ended)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> dict[int, int]:
    """Bytes resident in ``root`` and each of its descendants, by pid."""
    tree = _children()
    todo, found = [root], {}
    while todo:
        pid = todo.pop()
        found[pid] = _rss(pid)
        todo.extend(tree.get(pid, ()))
    return found


def run(
    cmd: list[str], interval: float = 0.2, env: dict | None = None, quiet: bool = True, trace=None
) -> dict:
    """``cmd`` run to its end: wall and CPU seconds, the tree's peak summed RSS (GiB), the most processes
    seen at once, the load average before and after, and the exit status. ``trace``: a file to which each
    sample is written (seconds, GiB of the tree, then pid:GiB:CPU seconds of each process)."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE if quiet else None)
    peak, most, done = [0], [1], threading.Event()

    def sample() -> None:
        while not done.is_set():
            found = tree_rss(proc.pid)
            total = sum(found.values())
            peak[0], most[0] = max(peak[0], total), max(most[0], len(found))
            if trace is not None:
                each = " ".join(
                    f"{pid}:{rss / 1024**3:.2f}:{cpu_s(pid):.1f}" for pid, rss in sorted(found.items())
                )
                trace.write(f"{time.perf_counter() - start:.1f} {total / 1024**3:.3f} {each}\n")
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read() if quiet else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "rc": proc.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "user_s": round(usage.ru_utime, 1),
        "sys_s": round(usage.ru_stime, 1),
        "peak_tree_rss_gib": round(peak[0] / 1024**3, 2),
        "largest_process_rss_gib": round(usage.ru_maxrss / 1024**2, 2),  # KiB; children's largest
        "processes": most[0],
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        **({"stderr_tail": stderr.decode(errors="replace")[-1500:]} if proc.returncode else {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--trace", type=argparse.FileType("w"), help="write every sample here")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")
    result = run(cmd, args.interval, trace=args.trace)
    print(json.dumps(result), flush=True)
    sys.exit(result["rc"])


if __name__ == "__main__":
    main()
