# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Sharing a heap: attachments, sending, names, other processes."""
import errno
import multiprocessing
import os
import socket
import unittest

import objheap
from support import FAKE, HeapTestCase


def child_main(att, parent_id, conn):
    """In another process: open the attachment, publish and send."""
    try:
        with objheap.Heap(att) as h:
            obj = h.new(1, b"from the child", 9)
            h.publish("child", obj)
            h.send(obj, parent_id, cookie=7)
            conn.send(("ok", h.attachment_id))
    except BaseException as e:  # report, whatever it is
        conn.send(("error", repr(e)))
        raise


class TestShare(HeapTestCase):
    def test_attach_in_process(self):
        h = self.h
        att = h.attach()
        self.assertIsInstance(att, objheap.Attachment)
        self.assertEqual(h.attach_info(att.id).id, att.id)
        with objheap.Heap(att) as other:
            self.assertTrue(att.closed)     # the heap owns the descriptor
            self.assertEqual(other.attachment_id, att.id)
            self.assertEqual(h.attach_info().attached, 2)
            obj = other.new(0, b"hi")
            other.send(obj, h.attachment_id, cookie=3)
            got, cookie, sender = h.receive(timeout=10)
            self.assertEqual(bytes(got), b"hi")
            self.assertEqual((cookie, sender), (3, att.id))
            self.assertIs(got.heap, h)
        self.assertEqual(h.attach_info().attached, 1)

    def test_receive_callback_and_detached(self):
        h = self.h
        got, gone = [], []
        h.on_received = lambda obj, cookie, sender: got.append((obj, cookie))
        h.on_detached = lambda id, pid, refs: gone.append((id, pid, refs))
        other = objheap.Heap(h.attach())
        oid = other.attachment_id
        x = other.new()
        other.send(x, h.attachment_id)
        other.close()
        h.dispatch()
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0][1], 0)
        self.assertEqual(gone[0][0], oid)
        self.assertEqual(gone[0][1], os.getpid())
        with self.assertRaises(TimeoutError):
            h.on_received = None
            h.receive(timeout=0.05)

    def test_send_errors(self):
        h = self.h
        obj = h.new()
        with self.assertRaises(OSError) as cm:
            h.send(obj, h.attachment_id)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(ProcessLookupError):
            h.send(obj, 999999)
        with self.assertRaises(ProcessLookupError):
            h.attach_info(999999)

    def test_names(self):
        h = self.h
        obj = h.new(0, b"v")
        h.publish("name", obj)
        h.publish(b"\0bytes", obj)
        self.assertEqual(h.getrefcount(obj), 3)
        self.assertIs(h.lookup("name"), obj)
        self.assertIs(h.lookup(b"\0bytes"), obj)
        with self.assertRaises(FileExistsError):
            h.publish("name", obj)
        with self.assertRaises(KeyError):
            h.lookup("nothing")
        with self.assertRaises(KeyError):
            h.unpublish("nothing")
        for bad in ("", "x" * (objheap.NAME_MAX + 1)):
            with self.assertRaises(OSError) as cm:
                h.publish(bad, obj)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        h.unpublish("name")
        h.unpublish(b"\0bytes")
        self.assertEqual(h.getrefcount(obj), 1)
        r = h.weakref(obj)
        h.publish("kept", obj)
        del obj
        self.assertIsNotNone(r())       # a published object is held
        with objheap.Heap(h.attach()) as other:
            self.assertEqual(bytes(other.lookup("kept")), b"v")
        h.unpublish("kept")
        self.assertIsNone(r())

    def test_readonly(self):
        h = self.h
        m = h.new(0, size=64, mappable=True)
        h.publish("m", m)
        with objheap.Heap(h.attach(readonly=True)) as ro:
            with self.assertRaises(PermissionError):
                ro.new()
            with self.assertRaises(PermissionError):
                ro.publish("x", ro.lookup("m"))
            rm = ro.lookup("m")
            with self.assertRaises(PermissionError):
                rm.write(b"x")
            with memoryview(rm) as view:
                self.assertTrue(view.readonly)
            with self.assertRaises(PermissionError):
                ro.attach()
            ro.attach(readonly=True).close()

    def test_fd_passing(self):
        h = self.h
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with a, b:
            att = h.attach()
            objheap.send_fd(a, att)
            att.close()
            with objheap.Heap.from_fd(objheap.recv_fd(b)) as other:
                other.publish("passed", other.new(0, b"p"))
        self.assertEqual(bytes(h.lookup("passed")), b"p")

    def test_inherited_across_fork(self):
        h = self.h
        obj = h.new()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                try:
                    obj[0]
                    code = 1
                except objheap.ClosedHeapError:
                    pass
                if not h.closed:
                    code = 2
                del obj
            finally:
                os.write(w, bytes([code]))
                os._exit(0)
        os.close(w)
        os.waitpid(pid, 0)
        self.assertEqual(os.read(r, 1), b"\0")
        os.close(r)
        self.assertEqual(h.getrefcount(obj), 1)     # the child gave nothing back

    def _processes(self, method):
        h = self.h
        ctx = multiprocessing.get_context(method)
        att = h.attach()
        mine, theirs = ctx.Pipe()
        p = ctx.Process(target=child_main, args=(att, h.attachment_id, theirs))
        p.start()
        att.close()
        theirs.close()
        self.assertTrue(mine.poll(120), "the child said nothing")
        status, child_id = mine.recv()
        self.assertEqual(status, "ok", child_id)
        p.join(120)
        self.assertEqual(p.exitcode, 0)
        obj = h.lookup("child")
        self.assertEqual(bytes(obj), b"from the child")
        got, cookie, sender = h.receive(timeout=30)
        self.assertIs(got, obj)         # one object: one proxy
        self.assertEqual((cookie, sender, got.type), (7, child_id, 9))

    @unittest.skipIf(FAKE, "the stand-in library has no other processes")
    def test_multiprocessing_fork(self):
        self._processes("fork")

    @unittest.skipIf(FAKE, "the stand-in library has no other processes")
    def test_multiprocessing_spawn(self):
        self._processes("spawn")


if __name__ == "__main__":
    unittest.main()
