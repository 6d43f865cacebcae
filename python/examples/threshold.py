# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""The collector's thresholds: (700, 10, 10), as CPython's (up to 3.12)."""
import gc


def with_cpython():
    return [f"get_threshold(): {gc.get_threshold()}"]


def with_objheap(h):
    return [f"get_threshold(): {h.gc.get_threshold()}"]


if __name__ == "__main__":
    import sys
    from _compare import main
    main(sys.modules[__name__])
