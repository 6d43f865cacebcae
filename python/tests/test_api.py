# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""The module itself: what needs no heap (these run on any machine)."""
import errno
import inspect
import multiprocessing
import os
import pickle
import socket
import unittest

import objheap
from support import FAKE, HAVE_DEVICE


class TestModule(unittest.TestCase):
    def test_import(self):
        self.assertTrue(objheap._objheap.__file__.endswith(".so"))
        for name in objheap.__all__:
            self.assertTrue(hasattr(objheap, name), name)

    def test_heap_api(self):
        for name in ("new", "new_many", "intern", "int", "id", "getrefcount",
                     "info", "weakref", "finalize", "getweakrefcount",
                     "getweakrefs", "dispatch", "fileno", "close",
                     "__enter__", "__exit__", "attach", "attach_info",
                     "send", "receive", "publish", "lookup", "unpublish",
                     "stats", "set_limit", "query", "from_fd"):
            self.assertTrue(callable(getattr(objheap.Heap, name)), name)

    def test_gc_api(self):
        for name in ("collect", "enable", "disable", "isenabled",
                     "get_threshold", "set_threshold", "get_count",
                     "get_stats", "freeze", "unfreeze", "get_freeze_count",
                     "get_objects", "get_referrers", "get_referents",
                     "is_tracked", "set_debug", "get_debug", "set_mode",
                     "get_mode"):
            self.assertTrue(callable(getattr(objheap.GC, name)), name)
        self.assertIsInstance(objheap.GC.garbage, property)
        import gc
        self.assertEqual(objheap.GC.DEBUG_STATS, gc.DEBUG_STATS)
        self.assertEqual(objheap.GC.DEBUG_SAVEALL, gc.DEBUG_SAVEALL)
        self.assertEqual(objheap.GC.DEBUG_LEAK, gc.DEBUG_LEAK)

    def test_object_api(self):
        for name in ("read", "write", "append", "resize", "resize_slots",
                     "seal", "seal_intern", "__bytes__", "__len__",
                     "__getitem__", "__setitem__", "__int__"):
            self.assertTrue(hasattr(objheap.Object, name), name)
        self.assertTrue(issubclass(objheap.WeakRef, objheap.Object))
        self.assertTrue(callable(objheap.WeakRef))
        with self.assertRaises(TypeError):
            objheap.Object()
        with self.assertRaises(TypeError):
            class Sub(objheap.Object):
                pass

    def test_finalize_api(self):
        for name in ("detach", "peek", "alive", "atexit", "__call__"):
            self.assertTrue(hasattr(objheap.finalize, name), name)
        params = inspect.signature(objheap.finalize).parameters
        self.assertEqual(list(params)[:3], ["heap", "obj", "func"])

    def test_exceptions(self):
        self.assertTrue(issubclass(objheap.ClosedHeapError, ValueError))
        self.assertTrue(issubclass(objheap.HeapMemoryError, OSError))
        self.assertTrue(issubclass(objheap.HeapMemoryError, MemoryError))
        e = objheap.HeapMemoryError(errno.ENOMEM, "x")
        self.assertEqual(e.errno, errno.ENOMEM)

    def test_constants(self):
        self.assertEqual(objheap.MAX_SLOTS, 1 << 16)
        self.assertEqual(objheap.MAX_SIZE, 1 << 28)
        self.assertEqual(objheap.REFCNT_IMMORTAL, 2 ** 32 - 1)
        self.assertEqual(list(objheap.SMALL_INTS), list(range(-5, 257)))

    def test_docstrings(self):
        self.assertIn("nslots=0", str(inspect.signature(objheap.Heap.new)))
        self.assertIn("callback=None",
                      str(inspect.signature(objheap.Heap.weakref)))
        self.assertTrue(objheap.__doc__)

    @unittest.skipIf(HAVE_DEVICE and not FAKE, "/dev/objheap exists")
    def test_no_device_is_enoent(self):
        env = os.environ.get("OBJHEAP_FAKE_ABSENT")
        os.environ["OBJHEAP_FAKE_ABSENT"] = "1"
        try:
            with self.assertRaises(FileNotFoundError) as cm:
                objheap.Heap()
        finally:
            if env is None:
                del os.environ["OBJHEAP_FAKE_ABSENT"]
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_from_fd_errors(self):
        with self.assertRaises(OSError) as cm:
            objheap.Heap.from_fd(-1)
        self.assertEqual(cm.exception.errno, errno.EBADF)
        r, w = os.pipe()
        try:
            with self.assertRaises(OSError) as cm:
                objheap.Heap.from_fd(r)
            self.assertEqual(cm.exception.errno, errno.ENOTTY)
            os.fstat(r)  # still the caller's
        finally:
            os.close(r)
            os.close(w)
        with self.assertRaises(TypeError):
            objheap.Heap(3)

    def test_send_recv_fd(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        r, w = os.pipe()
        try:
            objheap.send_fd(a, w)
            fd = objheap.recv_fd(b)
            self.assertNotEqual(fd, w)
            os.write(fd, b"x")
            os.close(fd)
            self.assertEqual(os.read(r, 1), b"x")
            a.close()
            with self.assertRaises(ConnectionResetError):
                objheap.recv_fd(b)
        finally:
            for s in (a, b):
                s.close()
            os.close(r)
            os.close(w)

    def test_attachment_object(self):
        r, w = os.pipe()
        os.close(w)
        att = objheap.Attachment(r, 5, True)
        self.assertEqual(att.fileno(), r)
        self.assertIn("readonly", repr(att))
        att.close()
        self.assertTrue(att.closed)
        with self.assertRaises(ValueError):
            att.fileno()

    def test_attachment_through_multiprocessing(self):
        # An Attachment passed to a spawned process arrives as a copy of
        # its descriptor: shown here with a pipe's.
        r, w = os.pipe()
        att = objheap.Attachment(w, 7)
        ctx = multiprocessing.get_context("spawn")
        p = ctx.Process(target=_write_through, args=(att,))
        p.start()
        att.close()
        p.join(120)
        self.assertEqual(p.exitcode, 0)
        self.assertEqual(os.read(r, 16), b"7 ok")
        os.close(r)

    @unittest.skipUnless(HAVE_DEVICE, "no /dev/objheap")
    def test_heap_not_picklable(self):
        with objheap.Heap() as h:
            with self.assertRaises(TypeError):
                pickle.dumps(h)
            with self.assertRaises(TypeError):
                pickle.dumps(h.new())


def _write_through(att):
    fd = att.detach()
    os.write(fd, f"{att.id} ok".encode())
    os.close(fd)


if __name__ == "__main__":
    unittest.main()
