# SPDX-License-Identifier: GPL-2.0
#
# The CPython side of bench/pause_bench.c: LIVE objects of two slots held
# in a chain, then ROUNDS rings of four, each held in a window of WINDOW
# rings and dropped when it leaves it, with the collector on (its default
# thresholds).  Prints the slowest ring's creation in ms, the collector's
# total time in ms (gc.callbacks), the peak resident memory in MiB and
# the objects collected.
import gc
import resource
import sys
import time


class Node:
    __slots__ = ("a", "b")


def main():
    live, rounds, window = (int(x) for x in sys.argv[1:4])
    gc.disable()
    head = None
    for _ in range(live):
        n = Node()
        n.a, n.b = head, None
        head = n
    gc.collect()
    spent = [0, 0]
    collected = [0]

    def callback(phase, info):
        if phase == "start":
            spent[1] = time.perf_counter_ns()
        else:
            spent[0] += time.perf_counter_ns() - spent[1]
            collected[0] += info["collected"]

    gc.callbacks.append(callback)
    gc.enable()
    ring = [None] * window
    slowest = 0
    for i in range(rounds):
        t0 = time.perf_counter_ns()
        a, b, c, d = Node(), Node(), Node(), Node()
        a.a, b.a, c.a, d.a = d, a, b, c
        a.b = b.b = c.b = d.b = None
        ring[i % window] = a
        t = time.perf_counter_ns() - t0
        slowest = max(slowest, t)
    gc.disable()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{slowest / 1e6:.2f} {spent[0] / 1e6:.1f} {peak:.1f} {collected[0]}")


main()
