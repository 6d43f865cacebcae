# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Objects as proxies: slots, payloads, identity, counts, errors."""
import errno
import gc
import os
import subprocess
import sys
import unittest

import objheap
from support import HeapTestCase


class TestObjects(HeapTestCase):
    def test_new_and_slots(self):
        h = self.h
        a = h.new(2, b"hello", 7)
        self.assertIsInstance(a, objheap.Object)
        self.assertEqual(len(a), 2)
        self.assertEqual(a.type, 7)
        self.assertEqual(a.nbytes, 5)
        self.assertEqual(bytes(a), b"hello")
        self.assertIsNone(a[0])
        b = h.new()
        a[0] = b
        self.assertIs(a[0], b)
        self.assertIs(a[-2], b)
        self.assertEqual(list(a), [b, None])
        a[0] = None
        self.assertIsNone(a[0])
        self.assertIs(a.heap, h)
        self.assertIn("objheap.Object", repr(a))

    def test_identity(self):
        h = self.h
        a = h.new(1)
        a[0] = h.new()
        x = a[0]
        self.assertIs(a[0], x)
        self.assertEqual(h.id(x), x.handle)
        self.assertEqual(h.id(a[0]), h.id(x))
        xid = h.id(x)
        del x
        # A new proxy, the same handle: the object's identity.
        self.assertEqual(h.id(a[0]), xid)

    def test_keywords_and_slots_at_creation(self):
        h = self.h
        t = h.new()
        a = h.new(slots=[t, None, t], data=b"ab", size=4, type=3,
                  immutable=True)
        self.assertEqual(len(a), 3)
        self.assertIs(a[0], t)
        self.assertIs(a[2], t)
        self.assertEqual(bytes(a), b"ab\0\0")
        self.assertTrue(a.flags & objheap.OBJ_IMMUTABLE)
        self.assertEqual(h.getrefcount(t), 3)
        b = h.new(4, slots=[t])
        self.assertEqual(len(b), 4)
        with self.assertRaises(ValueError):
            h.new(1, slots=[t, t])
        with self.assertRaises(TypeError):
            h.new(0, "text")
        with self.assertRaises(TypeError):
            h.new(0, bogus=1)
        with self.assertRaises(TypeError):
            h.new(0, nslots=1)
        with self.assertRaises(ValueError):
            h.new(-1)
        with self.assertRaises(ValueError):
            h.new(objheap.MAX_SLOTS + 1)
        with self.assertRaises(ValueError):
            h.new(0, b"abc", size=2)

    def test_getrefcount(self):
        h = self.h
        x = h.new()
        self.assertEqual(h.getrefcount(x), 1)
        c = h.new(2)
        c[0] = x
        c[1] = x
        self.assertEqual(h.getrefcount(x), 3)
        c[1] = None
        self.assertEqual(h.getrefcount(x), 2)
        del c
        self.assertEqual(h.getrefcount(x), 1)
        info = h.info(x)
        self.assertEqual((info.refcnt, info.user_refs, info.nslots, info.nbytes),
                         (1, 1, 0, 0))

    def test_intern_and_int(self):
        h = self.h
        a = h.intern(b"spam")
        self.assertIs(h.intern(b"spam"), a)
        self.assertIsNot(h.intern(b"spam", type=1), a)
        self.assertTrue(a.flags & objheap.OBJ_INTERNED)
        self.assertTrue(a.flags & objheap.OBJ_IMMUTABLE)
        with self.assertRaises(PermissionError):
            a.write(b"x")
        i = h.int(42)
        self.assertEqual(int(i), 42)
        self.assertEqual(int(h.int(-5)), -5)
        self.assertEqual(int(h.int(10 ** 12)), 10 ** 12)
        self.assertEqual(h.getrefcount(i), objheap.REFCNT_IMMORTAL)
        self.assertNotEqual(h.getrefcount(h.int(1000)), objheap.REFCNT_IMMORTAL)
        self.assertIs(h.int(256), h.int(256))
        self.assertIsNot(h.int(257), h.int(257))
        with self.assertRaises(TypeError):
            int(h.new(0, b"12345678"))

    def test_read_write(self):
        h = self.h
        a = h.new(0, size=8)
        self.assertEqual(a.read(), bytes(8))
        self.assertEqual(a.write(b"abc", 2), 3)
        self.assertEqual(a.read(2, 3), b"abc")
        self.assertEqual(a.read(2), b"abc\0\0\0")
        self.assertEqual(a.read(offset=5, size=-1), b"\0\0\0")
        with self.assertRaises(OSError) as cm:
            a.read(4, 8)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(OSError) as cm:
            a.write(b"123456789")
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_snapshot_buffer(self):
        a = self.h.new(0, b"abcd")
        m = memoryview(a)
        self.assertTrue(m.readonly)
        self.assertEqual(m.tobytes(), b"abcd")
        with self.assertRaises(TypeError):
            m[0] = 1
        m.release()
        import io
        with self.assertRaises((BufferError, TypeError)):
            io.BytesIO(b"x").readinto(a)    # asks for a writable buffer

    def test_mapping_buffer(self):
        h = self.h
        a = h.new(0, size=4096 + 10, mappable=True, resizable=True)
        with memoryview(a) as m:
            self.assertFalse(m.readonly)
            self.assertEqual(len(m), 4106)
            m[0:4] = b"abcd"
            m[-1:] = b"z"
            self.assertEqual(a.read(0, 4), b"abcd")
            a.write(b"XY", 4)
            self.assertEqual(bytes(m[4:6]), b"XY")
            m2 = memoryview(a)      # the same mapping, twice exported
            with self.assertRaises(BufferError):
                a.resize(10)
            with self.assertRaises(BufferError):
                a.seal()
            m2.release()
        a.resize(10)                # no export left: unmapped
        self.assertEqual(a.nbytes, 10)
        self.assertEqual(bytes(memoryview(a)), b"abcdXY" + bytes(3) + b"\0")
        a.seal()
        with memoryview(a) as m:
            self.assertTrue(m.readonly)
        empty = h.new(0, mappable=True)
        self.assertEqual(len(memoryview(empty)), 0)

    def test_resize_append_seal(self):
        h = self.h
        a = h.new(0, b"ab", resizable=True)
        x = h.new()
        a.append(x)
        a.append(None)
        self.assertEqual(len(a), 2)
        self.assertIs(a[0], x)
        a.resize_slots(1)
        self.assertEqual(len(a), 1)
        a.resize(4)
        self.assertEqual(bytes(a), b"ab\0\0")
        a.seal()
        self.assertTrue(a.flags & objheap.OBJ_IMMUTABLE)
        with self.assertRaises(PermissionError) as cm:
            a.append(x)
        self.assertEqual(cm.exception.errno, errno.EPERM)
        with self.assertRaises(PermissionError):
            a[0] = None
        with self.assertRaises(PermissionError):
            a.resize(8)
        with self.assertRaises(TypeError):
            h.new(1).append(x)
        with self.assertRaises(OSError) as cm:
            h.new(0, b"x").resize(3)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        s = h.new(0, b"word")
        i = s.seal_intern()
        self.assertIs(i, s)
        self.assertIs(h.new(0, b"word").seal_intern(), s)
        self.assertIs(h.intern(b"word"), s)
        with self.assertRaises(OSError) as cm:
            h.new(1).seal_intern()
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_slot_errors(self):
        h = self.h
        a = h.new(2)
        with self.assertRaises(IndexError):
            a[2]
        with self.assertRaises(IndexError):
            a[-3]
        with self.assertRaises(IndexError):
            a[2] = None
        with self.assertRaises(TypeError):
            a["x"]
        with self.assertRaises(TypeError):
            a[0] = 5
        with self.assertRaises(TypeError):
            del a[0]
        r = h.new(0, resizable=True)
        with self.assertRaises(IndexError):
            r[0]
        with self.assertRaises(IndexError):
            r[0] = None
        frozen = h.new(1, immutable=True)
        with self.assertRaises(PermissionError) as cm:
            frozen[0] = a
        self.assertEqual(cm.exception.errno, errno.EPERM)

    def test_other_heap(self):
        with objheap.Heap() as other:
            o = other.new()
            a = self.h.new(1)
            with self.assertRaises(ValueError):
                a[0] = o
            with self.assertRaises(ValueError):
                self.h.getrefcount(o)
            with self.assertRaises(ValueError):
                self.h.new(1, slots=[o])

    def test_new_many(self):
        h = self.h
        before = self.refs()
        objs = h.new_many(3000, 1, b"xy", 5)
        self.assertEqual(len(objs), 3000)
        self.assertEqual(len(set(map(id, objs))), 3000)
        self.assertTrue(all(len(o) == 1 and o.type == 5 for o in objs))
        self.assertEqual(bytes(objs[-1]), b"xy")
        self.assertEqual(h.new_many(0), [])
        del objs
        self.assertEqual(self.refs(), before)

    def test_heap_memory_error(self):
        h = self.h
        keep = h.new(0, size=1 << 16)
        h.set_limit(h.stats()["bytes_held"])
        with self.assertRaises(objheap.HeapMemoryError) as cm:
            h.new(0, size=1 << 22)
        self.assertEqual(cm.exception.errno, errno.ENOMEM)
        self.assertIsInstance(cm.exception, MemoryError)
        with self.assertRaises(MemoryError):
            h.new_many(10, size=1 << 22)
        del keep
        with self.assertRaises(OSError) as cm:
            h.set_limit(h.stats()["limit_max"] + 1)
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_stats_and_query(self):
        s = self.h.stats()
        self.assertGreater(s["limit"], 0)
        self.assertEqual(self.h.query()["version"], objheap.API_VERSION)
        self.assertIn("queued", self.h.event_state())

    def test_closed_heap(self):
        h = objheap.Heap()
        a = h.new(1)
        w = h.weakref(a)
        m = h.new(0, size=16, mappable=True)
        view = memoryview(m)
        view[0:2] = b"ok"
        self.assertFalse(h.closed)
        h.close()
        self.assertTrue(h.closed)
        h.close()  # twice is fine
        for f in (lambda: a[0], lambda: len(a), lambda: bytes(a),
                  lambda: h.new(), lambda: h.getrefcount(a), lambda: h.fileno(),
                  lambda: h.gc.collect(), lambda: h.dispatch(),
                  lambda: a.write(b""), lambda: h.lookup("x")):
            with self.assertRaises(objheap.ClosedHeapError):
                f()
        self.assertIsNone(w())          # dead, as its target
        self.assertIn("closed", repr(a))
        self.assertEqual(bytes(view[0:2]), b"ok")  # the mapping lives on
        view.release()
        with self.assertRaises(objheap.ClosedHeapError):
            with h:
                pass
        del a, w, m

    def test_context_manager(self):
        with objheap.Heap() as h:
            self.assertFalse(h.closed)
            a = h.new()
        self.assertTrue(h.closed)
        with self.assertRaises(ValueError):
            a.read()

    def test_refcounts_after_many_proxies(self):
        """10^4 proxies made and dropped: every count is back where it was.

        One reference lost or kept per proxy would show 10^4 times; more
        proxies prove nothing more, and took 140 s on the debug kernel.
        """
        h = self.h
        holder = h.new(1)
        holder[0] = h.new(0, b"x")
        # Once first, so that the heap's tables have grown to what the
        # loops need (they are not shrunk back: objects.rst).
        p = holder[0]
        q = h.new(1)
        del p, q
        base = (self.refs(), h.stats()["bytes_in_use"],
                h.getrefcount(holder[0]))
        for _ in range(10000):
            p = holder[0]       # a new proxy each time: one reference
            del p
        for _ in range(1000):
            p = h.new(1)
            del p
        objs = [holder[0] for _ in range(1000)]
        self.assertEqual(len(set(map(id, objs))), 1)
        del objs
        self.assertEqual((self.refs(), h.stats()["bytes_in_use"],
                          h.getrefcount(holder[0])), base)


class TestDevMode(unittest.TestCase):
    """Under python3 -X dev: a proxy outliving its heap is no crash."""

    def run_dev(self, code):
        env = dict(os.environ)
        pkg = os.path.dirname(os.path.dirname(objheap.__file__))
        env["PYTHONPATH"] = os.pathsep.join([pkg] + sys.path)
        return subprocess.run([sys.executable, "-X", "dev", "-c", code],
                              env=env, capture_output=True, text=True,
                              timeout=300, cwd="/")

    @unittest.skipUnless(os.path.exists("/dev/objheap") or
                         os.environ.get("OBJHEAP_FAKE") == "1",
                         "no /dev/objheap")
    def test_proxy_outlives_heap(self):
        code = """if 1:
            import gc, objheap
            h = objheap.Heap()
            a = h.new(2, b"data")
            a[0] = h.new()
            w = h.weakref(a, lambda r: None)
            m = h.new(0, size=64, mappable=True)
            view = memoryview(m)
            h.close()
            try:
                a[0]
            except objheap.ClosedHeapError:
                pass
            else:
                raise SystemExit(3)
            del h
            gc.collect()
            assert w() is None
            print(repr(a), view[0])
            # a, w, m and view stay until the interpreter goes.
            keep = [a, w, m, view]
            unclosed = objheap.Heap()
            orphan = unclosed.new(1)
            del unclosed
        """
        r = self.run_dev(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Fatal Python error", r.stderr)
        self.assertIn("heap closed", r.stdout)


if __name__ == "__main__":
    unittest.main()
