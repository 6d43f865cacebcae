# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Run one example both ways and show that objheap says what CPython says."""
import sys

import objheap


def main(example):
    cpython = example.with_cpython()
    with objheap.Heap() as h:
        heap = example.with_objheap(h)
    width = max(len(str(x)) for x in cpython + ["CPython"])
    print(f"{example.__doc__.strip().splitlines()[0]}\n")
    print(f"  {'CPython':<{width}}  objheap")
    for a, b in zip(cpython, heap):
        print(f"  {str(a):<{width}}  {b}")
    same = cpython == heap
    print("\nthe same" if same else "\nDIFFERENT")
    sys.exit(0 if same else 1)
