# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""python/examples: each shows with objheap what it shows with CPython."""
import importlib
import sys
import unittest

import objheap
from support import HeapTestCase

EXAMPLES = ["cycle_lists", "node_cycle", "refcount", "small_ints",
            "weak_none", "threshold", "generations", "trace_leak"]


class TestExamples(HeapTestCase):
    def check(self, name):
        ex = importlib.import_module(name)
        cpython = ex.with_cpython()
        with objheap.Heap() as h:
            heap = ex.with_objheap(h)
        self.assertEqual(heap, cpython)
        return heap

    def test_cycle_lists(self):
        self.assertEqual(self.check("cycle_lists"),
                         ["alive after del: True", "gc.collect() found 2",
                          "freed: True"])

    def test_node_cycle(self):
        self.check("node_cycle")

    def test_refcount(self):
        self.assertEqual(self.check("refcount"),
                         [f"references added: {n}" for n in (1, 2, 1, 0)])

    def test_small_ints(self):
        self.check("small_ints")

    def test_weak_none(self):
        self.assertEqual(self.check("weak_none"),
                         ["r() is obj: True", "after del: r() is None"])

    @unittest.skipIf(sys.version_info >= (3, 13), "CPython 3.13 changed them")
    def test_threshold(self):
        self.assertEqual(self.check("threshold"),
                         ["get_threshold(): (700, 10, 10)"])

    def test_generations(self):
        self.check("generations")

    def test_trace_leak(self):
        self.assertEqual(self.check("trace_leak"),
                         ["1. cache.append(new(RESPONSE))",
                          "2. sessions.append(new(SESSION))",
                          "3. log.append(new(LOG_LINE))"])

    def test_all_listed(self):
        import os
        from support import EXAMPLES as DIR
        found = sorted(f[:-3] for f in os.listdir(DIR)
                       if f.endswith(".py") and not f.startswith("_"))
        self.assertEqual(found, sorted(EXAMPLES))


if __name__ == "__main__":
    unittest.main()
