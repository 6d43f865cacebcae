# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""A leak found by comparing two snapshots, as tracemalloc finds one.

A server keeps each response in a cache that nothing prunes, a session
that nothing closes and a log line: three lists that only grow.  A
snapshot before some requests and one after, compared, name the lines
that grew, the biggest first: in CPython with tracemalloc, in a heap
with Heap.trace_start() and Heap.take_snapshot().  Run it to see the
three biggest differences of each.
"""
import functools
import linecache
import tracemalloc

RESPONSE = bytes(4096)
SESSION = bytes(512)
LOG_LINE = bytes(64)
REQUESTS = 200


def serve(new, cache, sessions, log, requests):
    """Handle requests; new(data) makes an object holding a copy of data."""
    for _ in range(requests):
        cache.append(new(RESPONSE))     # never pruned: the leak
        sessions.append(new(SESSION))   # never closed
        log.append(new(LOG_LINE))       # small, but it adds up


def source(filename, lineno):
    """The statement at filename:lineno, without its comment."""
    return linecache.getline(filename, lineno).split("#")[0].strip()


def cpython_diffs():
    """tracemalloc's diffs over REQUESTS requests, this file's lines only."""
    cache, sessions, log = [], [], []
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        serve(bytearray, cache, sessions, log, REQUESTS)
        after = tracemalloc.take_snapshot()
    finally:
        if not tracing:
            tracemalloc.stop()
    mine = [tracemalloc.Filter(True, __file__)]
    return after.filter_traces(mine).compare_to(before.filter_traces(mine),
                                                "lineno")


def objheap_diffs(h):
    """The heap's diffs over REQUESTS requests."""
    cache, sessions, log = [], [], []
    # A C callable, as bytearray is: the site is the line that calls it.
    new = functools.partial(h.new, 0)
    h.trace_start()
    try:
        with h.take_snapshot() as before:
            serve(new, cache, sessions, log, REQUESTS)
            with h.take_snapshot() as after:
                return after.compare_to(before)
    finally:
        h.trace_stop()


def with_cpython():
    frames = [d.traceback[0] for d in cpython_diffs()[:3]]
    return [f"{n}. {source(f.filename, f.lineno)}"
            for n, f in enumerate(frames, 1)]


def with_objheap(h):
    return [f"{n}. {source(*d.site)}"
            for n, d in enumerate(objheap_diffs(h)[:3], 1)]


if __name__ == "__main__":
    import sys

    import objheap
    from _compare import main

    print("tracemalloc, the three biggest differences:")
    for d in cpython_diffs()[:3]:
        print(f"  {d}")
    with objheap.Heap() as h:
        print("objheap:")
        for d in objheap_diffs(h)[:3]:
            print(f"  {d}")
    print()
    main(sys.modules[__name__])
