# SPDX-License-Identifier: GPL-2.0
#
# The CPython side of bench/trace_bench.c: the churn it times, in CPython,
# without tracemalloc and with tracemalloc.start(1), and the memory
# tracemalloc takes per traced object.
#
# usage: cpython_tracemalloc.py [N [LIVE [ROUNDS [KEEP]]]]
#
# Churn: N objects of a class with __slots__ = ("a", "b") are made, LIVE
# of them alive at a time; each new object is linked from the one before
# (prev.a = node) and replaces, in a ring of LIVE, the object made LIVE
# before, which nothing else holds any more and which is freed.  The
# objects come from 32 call sites (16 sites times 2 classes, as the C side
# uses 16 tags and 2 types), each its own line, so that tracemalloc with
# one frame keeps 32 tracebacks.  The loop allocates nothing but the
# objects: the ring's indices and the sites are taken from a list made
# beforehand, so that tracemalloc sees the same allocations as objheap's
# trace.  The modes alternate over ROUNDS rounds after a warm-up run of
# each; printed are the medians of the ns per object and of the ratio
# traced / plain, and, at the end of a traced churn, the memory
# tracemalloc uses (tracemalloc.get_tracemalloc_memory()) and the bytes
# it traces (get_traced_memory()) per live object.
#
# Keep: KEEP objects made and kept alive with tracemalloc on; what
# get_tracemalloc_memory() grew by, per object.
#
# Output: "name value" lines for trace_bench.c to read.  gc is disabled,
# as automatic collection is on the objheap side.
import gc
import sys
import time
import tracemalloc

NR_TAGS = 16
NR_TYPES = 2
NR_PAIRS = NR_TAGS * NR_TYPES


class NodeA:
    __slots__ = ("a", "b")


class NodeB:
    __slots__ = ("a", "b")


def make_sites():
    """One function per (site, class) pair, each on a line of its own."""
    src = "\n".join(f"def make{p}(): return Node{'AB'[p // NR_TAGS]}()"
                    for p in range(NR_PAIRS))
    ns = {"NodeA": NodeA, "NodeB": NodeB}
    exec(compile(src, "<trace_bench sites>", "exec"), ns)
    return [ns[f"make{p}"] for p in range(NR_PAIRS)]


def pair_of(i):
    """The pair of object i, as trace_bench.c's pair_of()."""
    return ((i >> 4) & 1) * NR_TAGS + ((i * 5) & (NR_TAGS - 1))


def median(v):
    s = sorted(v)
    k = len(s) // 2
    return s[k] if len(s) % 2 else (s[k - 1] + s[k]) / 2


def churn(n, live, plan, traced):
    """One run: ns per object, and tracemalloc's memory and traced bytes
    per live object at its end (0 without tracing)."""
    ring = [None] * live
    # Stands in for "no previous object", so that the loop has no test.
    prev = NodeA()
    outer = range(n // live)
    if traced:
        tracemalloc.start(1)
    t0 = time.perf_counter_ns()
    for _ in outer:
        for j, make in plan:
            node = make()      # NEW
            ring[j] = node     # RELEASE of the object made live before
            prev.a = node      # SET_SLOT: the previous object links to it
            prev = node
    ns = (time.perf_counter_ns() - t0) / n
    mem = traced_bytes = 0
    if traced:
        mem = tracemalloc.get_tracemalloc_memory() / live
        traced_bytes = tracemalloc.get_traced_memory()[0] / live
        tracemalloc.stop()
    return ns, mem, traced_bytes


def keep_alive(n, sites):
    """Growth of tracemalloc's memory per object for n objects kept."""
    keep = [None] * n
    tracemalloc.start(1)
    m0 = tracemalloc.get_tracemalloc_memory()
    for i in range(n):
        keep[i] = sites[pair_of(i)]()
    m1 = tracemalloc.get_tracemalloc_memory()
    tracemalloc.stop()
    del keep
    return (m1 - m0) / n


def main():
    args = [int(a) for a in sys.argv[1:]]
    n, live, rounds, keep = args + [1024000, 10240, 7, 1000000][len(args):]
    if live % NR_PAIRS or n % live:
        sys.exit("cpython_tracemalloc.py: LIVE must be a multiple of 32, "
                 "N a multiple of LIVE")
    gc.disable()
    sites = make_sites()
    # Object i = r * live + j has the pair of j, as live % 32 == 0.
    plan = [(j, sites[pair_of(j)]) for j in range(live)]

    plain, traced, ratio = [], [], []
    churn(n, live, plan, False)
    churn(n, live, plan, True)
    for r in range(rounds):
        res = {}
        for t in ((False, True) if r % 2 == 0 else (True, False)):
            res[t] = churn(n, live, plan, t)
        plain.append(res[False][0])
        traced.append(res[True][0])
        ratio.append(res[True][0] / res[False][0])
    _, mem_live, traced_live = res[True]

    print(f"n {n}")
    print(f"live {live}")
    print(f"rounds {rounds}")
    print(f"plain {median(plain):.1f}")
    print(f"traced {median(traced):.1f}")
    print(f"ratio {median(ratio):.3f}")
    print(f"mem_live {mem_live:.1f}")
    print(f"traced_live {traced_live:.1f}")
    print(f"keep_n {keep}")
    print(f"mem_keep {keep_alive(keep, sites):.1f}", flush=True)


main()
