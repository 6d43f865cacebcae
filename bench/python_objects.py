# SPDX-License-Identifier: GPL-2.0
#
# The Python side of bench/python_bench.c: what objheap's Python binding
# costs per operation.  Prints, in ns: h.new() + del (one NEW, one
# RELEASE), a call of a C function that does nothing with the same
# arguments (CPython's own call overhead), and h.new_many() + del of the
# list, per object.  CPython's gc is disabled, and so is the heap's
# automatic collection, as on the C side.
import gc
import sys
import time

sys.path.insert(0, "/opt/objheap/python")
import objheap  # noqa: E402


def per_op(fn, n):
    t0 = time.perf_counter_ns()
    fn(n)
    return (time.perf_counter_ns() - t0) / n


def main():
    n = int(sys.argv[1])
    gc.disable()
    with objheap.Heap() as h:
        h.gc.disable()
        new, nop, many = h.new, objheap._objheap._nop, h.new_many

        def new_del(n):
            for _ in range(n):
                o = new(2, None, 1)
                del o

        def nop_del(n):
            for _ in range(n):
                o = nop(2, None, 1)
                del o

        def many_del(n):
            objs = many(n, 2, None, 1)
            del objs

        new_del(n)  # warm up: the handle table, the allocator
        py = min(per_op(new_del, n) for _ in range(3))
        call = min(per_op(nop_del, n) for _ in range(3))
        batch = min(per_op(many_del, n) for _ in range(3))
    print(f"{py:.1f} {call:.1f} {batch:.1f}")


main()
