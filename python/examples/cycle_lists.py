# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Two lists that append each other survive del; gc.collect() frees them.

CPython's lists are objheap objects made resizable=True: append() adds a
slot holding the other one.  A weak reference tells whether they live.
"""
import gc
import weakref


class List(list):
    """A list that can be weakly referenced (a plain list cannot)."""


def with_cpython():
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    try:
        a, b = List(), List()
        a.append(b)
        b.append(a)
        ra = weakref.ref(a)
        del a, b
        survived = ra() is not None
        found = gc.collect()
        return [f"alive after del: {survived}", f"gc.collect() found {found}",
                f"freed: {ra() is None}"]
    finally:
        if enabled:
            gc.enable()


def with_objheap(h):
    a, b = h.new(resizable=True), h.new(resizable=True)
    a.append(b)
    b.append(a)
    ra = h.weakref(a)
    del a, b
    survived = ra() is not None
    found = h.gc.collect()
    return [f"alive after del: {survived}", f"gc.collect() found {found}",
            f"freed: {ra() is None}"]


if __name__ == "__main__":
    import sys
    from _compare import main
    main(sys.modules[__name__])
