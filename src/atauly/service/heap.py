"""A serving process's heap, set aside from the cyclic garbage collector once it has started.

Everything a server's process builds at start-up (the libraries, the app and its routes, the law's
tax-benefit system, the model's forest) lives as long as the process. CPython's cyclic collector walks
all of it again at every full collection: under load the server's process made one every few seconds,
each pausing every request in flight for 60–140 ms (measured with a ``gc.callbacks`` probe during
``benchmarks/bench_service.py``'s 20 clients: 11 full collections of the serving process in 30 s,
1.0 s in all, the longest 142 ms; the engine's child 7, the longest 62 ms). :func:`settle` collects once
and moves what is alive into the permanent generation (``gc.freeze``), which the collector never walks
again, and makes young collections rarer: objects still in flight at a young collection (20 requests'
worth under load) are promoted and later make the full collections that walk them.

Only processes that serve call it (``atauly serve``'s process or its workers, the engine's child or its
shared process), and ``benchmarks/bench_service.py``'s client for its own pauses: a frozen object is never
collected as part of a reference cycle, which is right for what a server keeps to its end (a few objects
replaced later, such as a pool's connection or a restarted engine's executor, stay as a small leak) and
wrong for a test process that builds many apps. Python 3.13 changed the collector (incremental): measure
again there before relying on the threshold.
"""

from __future__ import annotations

import gc

#: Net allocations of container objects between two young-generation collections (CPython's default: 700).
#: With 20 requests in flight, 700 let the young collection promote live requests' objects every few
#: milliseconds; 20,000 brought the young collections of a 30 s run from ~1,500 to ~10 (0.27 s → 0.06 s).
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Collect, freeze what is alive (it stays for the process's life) and make young collections rarer."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
