# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""An object that survives a collection moves to an older generation.

A new container is in generation 0; collect(0) moves the survivors to
generation 1, collect(1) to generation 2, where they stay.
"""
import gc


def where(get_objects, x):
    return [g for g in range(3) if any(o is x for o in get_objects(g))]


def with_cpython():
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    try:
        x = []
        seen = [f"new: generation {where(gc.get_objects, x)}"]
        gc.collect(0)
        seen.append(f"after collect(0): generation {where(gc.get_objects, x)}")
        gc.collect(1)
        seen.append(f"after collect(1): generation {where(gc.get_objects, x)}")
        gc.collect(2)
        seen.append(f"after collect(2): generation {where(gc.get_objects, x)}")
        return seen
    finally:
        if enabled:
            gc.enable()


def with_objheap(h):
    get = h.gc.get_objects
    x = h.new(1)
    seen = [f"new: generation {where(get, x)}"]
    h.gc.collect(0)
    seen.append(f"after collect(0): generation {where(get, x)}")
    h.gc.collect(1)
    seen.append(f"after collect(1): generation {where(get, x)}")
    h.gc.collect(2)
    seen.append(f"after collect(2): generation {where(get, x)}")
    return seen


if __name__ == "__main__":
    import sys
    from _compare import main
    main(sys.modules[__name__])
