# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Weak references, finalizers and events, against Python's weakref."""
import asyncio
import selectors
import sys
import unittest

import objheap
from support import HeapTestCase


class TestWeakRef(HeapTestCase):
    def test_ref(self):
        h = self.h
        obj = h.new()
        r = h.weakref(obj)
        self.assertIsInstance(r, objheap.WeakRef)
        self.assertIs(r(), obj)
        self.assertIsNone(r.__callback__)
        self.assertTrue(r.flags & objheap.OBJ_WEAKREF)
        del obj
        self.assertIsNone(r())
        with self.assertRaises(TypeError):
            r(1)

    def test_ref_of_ref(self):
        r = self.h.weakref(self.h.new())
        with self.assertRaises(TypeError):
            self.h.weakref(r)
        with self.assertRaises(TypeError):
            self.h.weakref(self.h.new(), callback=5)

    def test_ref_in_slot(self):
        h = self.h
        obj = h.new()
        c = h.new(1)
        c[0] = h.weakref(obj)
        self.assertIsInstance(c[0], objheap.WeakRef)
        self.assertIs(c[0](), obj)
        del obj
        self.assertIsNone(c[0]())

    def test_callback(self):
        h = self.h
        seen = []
        obj = h.new()
        r = h.weakref(obj, seen.append)
        self.assertIsNotNone(r.__callback__)
        del obj
        self.assertEqual(seen, [])      # callbacks run in dispatch()
        self.assertEqual(h.dispatch(), 1)
        self.assertEqual(len(seen), 1)
        self.assertIs(seen[0], r)
        self.assertIsNone(r.__callback__)
        self.assertEqual(h.dispatch(), 0)

    def test_callback_dead_ref(self):
        h = self.h
        seen = []
        obj = h.new()
        h.weakref(obj, seen.append)     # dropped at once: no callback
        del obj
        h.dispatch()
        self.assertEqual(seen, [])

    def test_callback_by_collection(self):
        h = self.h
        seen = []
        a, b = h.new(1), h.new(1)
        a[0], b[0] = b, a
        r = h.weakref(a, lambda wr: seen.append(wr() is None))
        del a, b
        h.gc.collect()                  # collect() dispatches
        self.assertEqual(seen, [True])
        del r

    def test_getweakrefs(self):
        h = self.h
        obj = h.new()
        self.assertEqual(h.getweakrefcount(obj), 0)
        r1, r2 = h.weakref(obj), h.weakref(obj)
        self.assertEqual(h.getweakrefcount(obj), 2)
        refs = h.getweakrefs(obj)
        self.assertEqual(len(refs), 2)
        self.assertIs(refs[0], r1)
        self.assertIs(refs[1], r2)
        del r1, refs
        self.assertEqual(h.getweakrefcount(obj), 1)

    def test_finalize(self):
        h = self.h
        seen = []
        obj = h.new()
        f = h.finalize(obj, seen.append, "done")
        self.assertTrue(f.alive)
        self.assertFalse(f.atexit)
        peek = f.peek()
        self.assertIs(peek[0], obj)
        self.assertEqual(peek[2], ("done",))
        del peek
        self.assertEqual(h.getweakrefcount(obj), 1)
        del obj
        self.assertFalse(f.alive)
        h.dispatch()
        self.assertEqual(seen, ["done"])
        self.assertIsNone(f.peek())
        self.assertIsNone(f.detach())
        self.assertIsNone(f())
        self.assertIn("dead", repr(f))

    def test_finalize_without_holding_it(self):
        h = self.h
        seen = []
        obj = h.new()
        h.finalize(obj, seen.append, 1)     # the heap keeps it
        del obj
        h.dispatch()
        self.assertEqual(seen, [1])

    def test_finalize_detach_and_call(self):
        h = self.h
        seen = []
        obj = h.new()
        f = h.finalize(obj, seen.append, "x", )
        info = f.detach()
        self.assertIs(info[0], obj)
        self.assertEqual(info[1:], (seen.append, ("x",), {}))
        self.assertFalse(f.alive)
        del obj, info
        h.dispatch()
        self.assertEqual(seen, [])
        obj = h.new()
        f = h.finalize(obj, lambda a, k=0: seen.append((a, k)) or 42, "a", k=1)
        self.assertEqual(f(), 42)
        self.assertEqual(f(), None)
        self.assertEqual(seen, [("a", 1)])
        with self.assertRaises(TypeError):
            h.finalize(obj, None)

    def test_finalize_dropped_with_heap(self):
        h = objheap.Heap()
        seen = []
        f = h.finalize(h.new(1), seen.append, 1)
        h.close()
        self.assertFalse(f.alive)
        self.assertEqual(seen, [])

    def test_pep442(self):
        h = self.h
        kept = []
        h.on_finalize = kept.append
        obj = h.new(0, b"phoenix", finalize=True)
        r = h.weakref(obj)
        del obj
        h.dispatch()
        self.assertEqual(len(kept), 1)
        self.assertEqual(bytes(kept[0]), b"phoenix")
        self.assertTrue(kept[0].flags & objheap.OBJ_FINALIZED)
        self.assertTrue(h.gc.is_finalized(kept[0]))
        self.assertIs(r(), kept[0])     # not cleared: it came back
        kept.clear()                    # now it goes, without a second event
        h.dispatch()
        self.assertEqual(kept, [])
        self.assertIsNone(r())
        h.on_finalize = None
        h.new(0, finalize=True)         # given back by dispatch()
        h.dispatch()

    def test_selectors(self):
        h = self.h
        seen = []
        obj = h.new()
        r = h.weakref(obj, seen.append)
        with selectors.DefaultSelector() as sel:
            sel.register(h.fileno(), selectors.EVENT_READ, h.dispatch)
            self.assertEqual(sel.select(0), [])
            del obj
            ready = sel.select(10)
            self.assertEqual(len(ready), 1)
            ready[0][0].data()
        self.assertEqual(seen, [r])

    def test_asyncio(self):
        h = self.h

        async def main():
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            obj = h.new(1)
            r = h.weakref(obj, fut.set_result)
            loop.add_reader(h.fileno(), h.dispatch)
            try:
                del obj
                got = await asyncio.wait_for(fut, 30)
            finally:
                loop.remove_reader(h.fileno())
            self.assertIs(got, r)
            self.assertIsNone(r())
        asyncio.run(main())

    def test_asyncio_gc_callbacks(self):
        h = self.h

        async def main():
            loop = asyncio.get_running_loop()
            phases = []
            done = loop.create_future()

            def cb(phase, info):
                phases.append(phase)
                if phase == "stop" and not done.done():
                    done.set_result(info["collected"])
            h.gc.callbacks.append(cb)
            h.gc.set_threshold(5)
            loop.add_reader(h.fileno(), h.dispatch)
            try:
                a, b = h.new(1), h.new(1)
                a[0], b[0] = b, a
                del a, b
                # An automatic collection: tracked objects kept alive.
                keep = [h.new(1) for _ in range(10)]
                collected = await asyncio.wait_for(done, 30)
            finally:
                loop.remove_reader(h.fileno())
            self.assertEqual(phases[:2], ["start", "stop"])
            self.assertGreaterEqual(collected, 2)
        asyncio.run(main())

    def test_callback_may_close_heap(self):
        h = objheap.Heap()
        obj = h.new()
        r = h.weakref(obj, lambda wr: h.close())
        r2 = h.weakref(obj, lambda wr: None)
        del obj
        h.dispatch()
        self.assertTrue(h.closed)
        self.assertIsNone(r())
        del r, r2

    def test_unraisable_callback(self):
        h = self.h
        seen = []
        obj = h.new()
        r = h.weakref(obj, lambda wr: 1 / 0)
        hook, sys.unraisablehook = sys.unraisablehook, seen.append
        try:
            del obj
            h.dispatch()
        finally:
            sys.unraisablehook = hook
        self.assertEqual(len(seen), 1)
        self.assertIsInstance(seen[0].exc_value, ZeroDivisionError)
        del r


if __name__ == "__main__":
    unittest.main()
