# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""A reference count rises with each new reference and falls back.

In CPython a container holding x is a reference (sys.getrefcount()); in
objheap a slot holding x is (Heap.getrefcount(), the kernel's count).
A Python name bound to a proxy is not: the proxy owns one reference.
"""
import sys


class Thing:
    pass


def with_cpython():
    x = Thing()
    base = sys.getrefcount(x)
    seen = []
    c1 = [x]
    seen.append(sys.getrefcount(x) - base)
    c2 = [x]
    seen.append(sys.getrefcount(x) - base)
    del c1
    seen.append(sys.getrefcount(x) - base)
    del c2
    seen.append(sys.getrefcount(x) - base)
    return [f"references added: {n}" for n in seen]


def with_objheap(h):
    x = h.new()
    base = h.getrefcount(x)
    seen = []
    c1 = h.new(1, slots=[x])
    seen.append(h.getrefcount(x) - base)
    c2 = h.new(1, slots=[x])
    seen.append(h.getrefcount(x) - base)
    del c1
    seen.append(h.getrefcount(x) - base)
    del c2
    seen.append(h.getrefcount(x) - base)
    return [f"references added: {n}" for n in seen]


if __name__ == "__main__":
    from _compare import main
    main(sys.modules[__name__])
