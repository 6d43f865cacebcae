# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Small integers are cached: the same object for the same value.

CPython keeps one object for each int from -5 to 256; Heap.int() interns
those immortal (OBJHEAP_INTERN with OBJHEAP_OBJ_IMMORTAL), and makes a
new object for any other value.
"""
VALUES = ["0", "1", "256", "257", "-5", "-6", "1000"]


def with_cpython():
    # int(text) computes each value at run time, as a program would.
    return [f"{v}: same object: {int(v) is int(v)}" for v in VALUES]


def with_objheap(h):
    seen = []
    for v in VALUES:
        a, b = h.int(int(v)), h.int(int(v))
        seen.append(f"{v}: same object: {a is b}")
    return seen


if __name__ == "__main__":
    import sys
    from _compare import main
    main(sys.modules[__name__])
