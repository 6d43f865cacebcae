# SPDX-License-Identifier: GPL-2.0
#
# The CPython side of bench/object_bench.c: build N linked objects of two
# slots, each holding the previous one, then drop them all; print the
# nanoseconds per object.  gc is disabled so that only allocation and
# reference counting are measured, as on the objheap side.
import gc
import sys
import time


class Node:
    __slots__ = ("a", "b")


def build_and_drop(n):
    t0 = time.perf_counter_ns()
    prev = None
    for _ in range(n):
        node = Node()
        node.a = prev
        node.b = None
        prev = node
    node = prev = None
    return (time.perf_counter_ns() - t0) / n


def main():
    n = int(sys.argv[1])
    gc.disable()
    build_and_drop(n)  # warm up the allocator's arenas
    best = min(build_and_drop(n) for _ in range(3))
    print(f"{best:.1f}")


main()
