# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""A weak reference gives the object, and None once it is gone."""
import weakref


class Thing:
    pass


def with_cpython():
    obj = Thing()
    r = weakref.ref(obj)
    seen = [f"r() is obj: {r() is obj}"]
    del obj
    seen.append(f"after del: r() is {r()}")
    return seen


def with_objheap(h):
    obj = h.new()
    r = h.weakref(obj)
    seen = [f"r() is obj: {r() is obj}"]
    del obj
    seen.append(f"after del: r() is {r()}")
    return seen


if __name__ == "__main__":
    import sys
    from _compare import main
    main(sys.modules[__name__])
