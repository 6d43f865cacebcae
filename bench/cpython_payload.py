# SPDX-License-Identifier: GPL-2.0
#
# The CPython side of bench/payload_bench.c: N appends of 8 bytes to one
# bytearray (b += x) and N list.append() of one 8-byte bytes object, each
# into a new empty container; print "bytearray NS" and "list NS", the
# nanoseconds per append, best of 3 runs after a warm-up.  gc is disabled,
# as on the objheap side; freeing the container is not timed there
# either.
import gc
import sys
import time


def bytearray_iadd(n):
    x = b"\x01" * 8
    b = bytearray()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        b += x
    ns = (time.perf_counter_ns() - t0) / n
    assert len(b) == 8 * n
    return ns


def list_append(n):
    x = b"\x01" * 8
    lst = []
    t0 = time.perf_counter_ns()
    for _ in range(n):
        lst.append(x)
    ns = (time.perf_counter_ns() - t0) / n
    assert len(lst) == n
    return ns


def main():
    n = int(sys.argv[1])
    gc.disable()
    for fn, name in ((bytearray_iadd, "bytearray"), (list_append, "list")):
        fn(max(n // 10, 1))  # warm up the allocator
        best = min(fn(n) for _ in range(3))
        print(f"{name} {best:.1f}", flush=True)


main()
