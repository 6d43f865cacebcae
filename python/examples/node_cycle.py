# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Node objects that refer to each other: a cycle only gc.collect() frees.

A Node is an objheap object with one slot (`other`) and its name as the
payload.
"""
import gc
import weakref


class Node:
    __slots__ = ("name", "other", "__weakref__")

    def __init__(self, name):
        self.name = name
        self.other = None


def with_cpython():
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    try:
        a, b = Node("a"), Node("b")
        a.other = b
        b.other = a
        seen = [f"a.other is {a.other.name}",
                f"a.other.other is a: {a.other.other is a}"]
        rb = weakref.ref(b)
        del a, b
        seen += [f"alive after del: {rb() is not None}",
                 f"gc.collect() found {gc.collect()}",
                 f"freed: {rb() is None}"]
        return seen
    finally:
        if enabled:
            gc.enable()


def with_objheap(h):
    a, b = h.new(1, b"a"), h.new(1, b"b")
    a[0] = b
    b[0] = a
    seen = [f"a.other is {bytes(a[0]).decode()}",
            f"a.other.other is a: {a[0][0] is a}"]
    rb = h.weakref(b)
    del a, b
    seen += [f"alive after del: {rb() is not None}",
             f"gc.collect() found {h.gc.collect()}",
             f"freed: {rb() is None}"]
    return seen


if __name__ == "__main__":
    import sys
    from _compare import main
    main(sys.modules[__name__])
