# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Heap.gc against Python's gc module."""
import unittest

import objheap
from support import HeapTestCase


class TestGC(HeapTestCase):
    def cycle(self):
        a, b = self.h.new(1), self.h.new(1)
        a[0], b[0] = b, a
        return a, b

    def test_collect(self):
        g = self.h.gc
        a, b = self.cycle()
        r = self.h.weakref(a)
        del a, b
        self.assertIsNotNone(r())
        self.assertEqual(g.collect(), 2)
        self.assertIsNone(r())
        self.assertEqual(g.collect(), 0)
        self.cycle()
        self.assertEqual(g.collect(0), 2)
        for bad in (-1, 3, "2"):
            with self.assertRaises(ValueError):
                g.collect(bad)

    def test_enable_threshold_count(self):
        g = self.h.gc
        self.assertTrue(g.isenabled())
        g.disable()
        self.assertFalse(g.isenabled())
        g.enable()
        self.assertTrue(g.isenabled())
        self.assertEqual(g.get_threshold(), (700, 10, 10))
        g.set_threshold(100)
        self.assertEqual(g.get_threshold(), (100, 10, 10))
        g.set_threshold(800, 20, 30)
        self.assertEqual(g.get_threshold(), (800, 20, 30))
        g.collect()
        self.assertEqual(g.get_count()[0], 0)
        keep = [self.h.new(1) for _ in range(5)]
        self.assertEqual(g.get_count()[0], 5)
        self.h.new_many(5)       # no slots: not tracked
        self.assertEqual(g.get_count()[0], 5)
        g.collect(0)
        self.assertEqual(g.get_count(), (0, 1, 0))
        del keep

    def test_automatic_collection(self):
        g = self.h.gc
        g.set_threshold(10)
        self.cycle()
        # The count is tracked objects made less those freed: keep them.
        keep = [self.h.new(1) for _ in range(20)]
        self.assertGreater(g.get_stats()[0]["collections"], 0)
        g.disable()
        before = g.get_stats()[0]["collections"]
        keep += [self.h.new(1) for _ in range(30)]
        self.assertEqual(g.get_stats()[0]["collections"], before)
        del keep

    def test_get_stats(self):
        g = self.h.gc
        self.cycle()
        g.collect()
        stats = g.get_stats()
        self.assertEqual(len(stats), 3)
        self.assertEqual(set(stats[2]), {"collections", "collected",
                                         "uncollectable"})
        self.assertEqual(stats[2]["collections"], 1)
        self.assertEqual(stats[2]["collected"], 2)
        self.assertEqual(stats[2]["uncollectable"], 0)

    def test_freeze(self):
        g = self.h.gc
        a, b = self.cycle()
        g.freeze()
        self.assertEqual(g.get_freeze_count(), 2)
        self.assertFalse(any(o is a for o in g.get_objects()))
        r = self.h.weakref(a)
        del a, b
        g.collect()
        self.assertIsNotNone(r())       # frozen objects are never collected
        g.unfreeze()
        self.assertEqual(g.get_freeze_count(), 0)
        self.assertEqual(g.collect(), 2)
        self.assertIsNone(r())

    def test_get_objects_and_is_tracked(self):
        g = self.h.gc
        x = self.h.new(1)
        leaf = self.h.new()
        self.assertTrue(g.is_tracked(x))
        self.assertFalse(g.is_tracked(leaf))
        self.assertFalse(g.is_tracked(self.h.int(3)))
        self.assertTrue(any(o is x for o in g.get_objects()))
        self.assertTrue(any(o is x for o in g.get_objects(0)))
        self.assertFalse(any(o is leaf for o in g.get_objects()))
        with self.assertRaises(ValueError):
            g.get_objects(3)
        with self.assertRaises(ValueError):
            g.get_objects(-1)
        many = self.h.new_many(300, 1)      # more than one list buffer
        self.assertGreaterEqual(len(g.get_objects(0)), 301)
        del many

    def test_referrers_referents(self):
        g = self.h.gc
        t = self.h.new()
        a, b = self.h.new(2), self.h.new(1)
        a[0] = a[1] = t
        b[0] = t
        refs = g.get_referrers(t)
        self.assertEqual(len(refs), 2)
        self.assertTrue(any(r is a for r in refs) and any(r is b for r in refs))
        self.assertEqual(len(g.get_referrers(t, t)), 2)
        self.assertEqual(g.get_referents(a), [t, t])
        self.assertEqual(g.get_referents(a, b), [t, t, t])
        self.assertEqual(g.get_referents(t), [])

    def test_debug_and_garbage(self):
        g = self.h.gc
        self.assertEqual(g.get_debug(), 0)
        g.set_debug(g.DEBUG_SAVEALL)
        self.assertEqual(g.get_debug(), g.DEBUG_SAVEALL)
        a, b = self.cycle()
        r = self.h.weakref(a)
        del a, b
        self.assertEqual(g.collect(), 2)
        self.assertIsNone(r())          # cleared before they were saved
        garbage = g.garbage
        self.assertEqual(len(garbage), 2)
        self.assertIs(garbage[0][0], garbage[1])
        self.assertIs(garbage[1][0], garbage[0])
        g.set_debug(0)
        garbage.clear()                 # and the list's references go
        self.assertEqual(g.garbage, [])
        self.assertEqual(g.collect(), 2)
        with self.assertRaises(OSError) as cm:
            g.set_debug(1 << 10)
        self.assertEqual(cm.exception.errno, 22)

    def test_mode(self):
        g = self.h.gc
        m = g.get_mode()
        self.assertEqual(m["mode"], objheap.GC_STOP_THE_WORLD)
        self.assertEqual(m["phase"], 0)
        g.set_mode(objheap.GC_INCREMENTAL, 64)
        m = g.get_mode()
        self.assertEqual((m["mode"], m["budget"]), (objheap.GC_INCREMENTAL, 64))
        # A full collection still finds every cycle, in increments.
        for _ in range(50):
            self.cycle()
        self.assertEqual(g.collect(), 100)
        self.assertEqual(g.get_mode()["phase"], 0)
        with self.assertRaises(OSError) as cm:
            g.set_mode(2)
        self.assertEqual(cm.exception.errno, 22)
        g.set_mode(objheap.GC_STOP_THE_WORLD)
        self.assertEqual(g.get_mode()["mode"], objheap.GC_STOP_THE_WORLD)

    def test_callbacks(self):
        g = self.h.gc
        seen = []
        self.assertIsInstance(g.callbacks, list)
        g.callbacks.append(lambda phase, info: seen.append((phase, info)))
        self.cycle()
        self.assertEqual(g.collect(1), 2)   # and dispatches, as CPython
        self.assertEqual([p for p, _ in seen], ["start", "stop"])
        self.assertEqual(seen[0][1], {"generation": 1, "collected": 0,
                                      "uncollectable": 0})
        self.assertEqual(seen[1][1]["collected"], 2)
        self.assertEqual(seen[1][1]["generation"], 1)
        g.callbacks.clear()
        seen.clear()
        g.collect()
        self.assertEqual(seen, [])
        self.assertEqual(self.h.event_state()["mask"], 0)

    def test_callback_errors_do_not_stop_dispatch(self):
        g = self.h.gc
        seen = []

        def bad(phase, info):
            raise RuntimeError("callback fails")
        g.callbacks.extend([bad, lambda p, i: seen.append(p)])
        import sys
        hook, sys.unraisablehook = sys.unraisablehook, lambda u: seen.append("E")
        try:
            g.collect()
        finally:
            sys.unraisablehook = hook
        self.assertEqual(seen, ["E", "start", "E", "stop"])

    def test_gc_of_closed_heap(self):
        g = self.h.gc
        self.h.close()
        with self.assertRaises(objheap.ClosedHeapError):
            g.get_count()


if __name__ == "__main__":
    unittest.main()
