# SPDX-License-Identifier: GPL-2.0
#
# The CPython side of bench/gc_bench.c: for each shape and N, build N
# unreachable objects of two slots (a ring, N/2 two-object cycles, or a
# random graph whose slots point anywhere), drop them, then time
# gc.collect().  Reference counting frees a random graph's acyclic part at
# once, so the time is per object the collector found.  Prints
# "shape N found ns-per-found-object" lines.
import gc
import random
import sys
import time


class Node:
    __slots__ = ("a", "b")


def build(shape, n, rng):
    nodes = [Node() for _ in range(n)]
    if shape == "ring":
        for i in range(n):
            nodes[i].a = nodes[(i + 1) % n]
            nodes[i].b = None
    elif shape == "pairs":
        for i in range(0, n, 2):
            nodes[i].a = nodes[i + 1]
            nodes[i + 1].a = nodes[i]
            nodes[i].b = nodes[i + 1].b = None
    else:
        for node in nodes:
            node.a = nodes[rng.randrange(n)]
            node.b = nodes[rng.randrange(n)]


def main():
    gc.disable()
    rng = random.Random(1)
    build("ring", 10000, rng)  # warm up, as the objheap side does
    gc.collect()
    for arg in sys.argv[1:]:
        shape, n = arg.split(":")
        n = int(n)
        gc.collect()
        build(shape, n, rng)
        t0 = time.perf_counter_ns()
        found = gc.collect()
        ns = (time.perf_counter_ns() - t0) / max(found, 1)
        print(f"{shape} {n} {found} {ns:.1f}", flush=True)


main()
