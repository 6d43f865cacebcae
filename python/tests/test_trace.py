# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""Tracing allocations: tracemalloc's API over a heap's tracer.

Sizes are the kernel's footprints, which the stand-in library models
differently: the tests compare figures with each other (the statistics
with get_traced_memory(), a diff with a snapshot's average), never with
a number of bytes of their own.
"""
import errno
import sys
import tracemalloc
import unittest

import objheap
from support import HeapTestCase


def here():
    """The (filename, line) of the caller: a site, as the binding sees it.
    Called after a semicolon on the line that makes objects, it names
    their site."""
    f = sys._getframe(1)
    return objheap.Site(f.f_code.co_filename, f.f_lineno)


def by_site(stats):
    return {s.site: s for s in stats}


class TestTraceFormat(unittest.TestCase):
    """What needs no heap: the text and the order are tracemalloc's."""

    SIZES = [0, 1, 99, 100, 1023, 1536, 10 * 1024 - 1, 10 * 1024,
             99 * 1024, 100 * 1024, 5 << 20, 3 << 30, 7 << 40, 1 << 55]

    def test_api(self):
        for name in ("trace_start", "trace_stop", "is_tracing",
                     "get_traced_memory", "reset_peak",
                     "get_trace_sample_every", "trace_info", "take_snapshot",
                     "statistics", "get_object_site"):
            self.assertTrue(callable(getattr(objheap.Heap, name)), name)
        for name in ("statistics", "compare_to", "close", "__enter__",
                     "__exit__"):
            self.assertTrue(callable(getattr(objheap.Snapshot, name)), name)
        self.assertEqual(objheap.TRACE_SNAPSHOTS_MAX, 16)

    def test_site(self):
        site = objheap.Site("a.py", 12)
        self.assertEqual(site, ("a.py", 12))
        self.assertEqual(str(site), "a.py:12")
        self.assertEqual(str(objheap.Site("a.py", 0)), "a.py")

    def test_statistic_text(self):
        tb = tracemalloc.Traceback((("a.py", 12),))
        site = objheap.Site("a.py", 12)
        for size in self.SIZES:
            for count in (0, 1, 3):
                self.assertEqual(str(objheap.Statistic(site, size, count)),
                                 str(tracemalloc.Statistic(tb, size, count)))
                for diff in (0, size, -size, 1000, -3 << 20):
                    ours = objheap.StatisticDiff(site, size, diff, count, -2)
                    theirs = tracemalloc.StatisticDiff(tb, size, diff,
                                                       count, -2)
                    self.assertEqual(str(ours), str(theirs))
        self.assertEqual(str(objheap.Statistic(site, 1536, 3)),
                         "a.py:12: size=1536 B, count=3, average=512 B")
        self.assertEqual(str(objheap.Statistic(0x696E74, 72, 1)),
                         "type 0x696e74: size=72 B, count=1, average=72 B")

    def test_order(self):
        """Statistics and diffs sort as tracemalloc sorts its own."""
        rows = [("a.py", 1, 100, 2, 50, 1), ("a.py", 2, 100, 3, 150, 3),
                ("b.py", 1, 100, 2, 100, 2), ("a.py", 3, 300, 1, 0, 0),
                ("b.py", 9, 0, 0, 300, 4), ("c.py", 4, 100, 2, 50, 1)]
        ours = [objheap.Statistic(objheap.Site(f, n), size, count)
                for f, n, size, count, _, _ in rows]
        theirs = [tracemalloc.Statistic(tracemalloc.Traceback(((f, n),)),
                                        size, count)
                  for f, n, size, count, _, _ in rows]
        ours.sort(key=objheap.Statistic._sort_key, reverse=True)
        theirs.sort(key=tracemalloc.Statistic._sort_key, reverse=True)
        self.assertEqual([str(s) for s in ours], [str(s) for s in theirs])
        ours = [objheap.StatisticDiff(objheap.Site(f, n), size, size - old,
                                      count, count - oldc)
                for f, n, size, count, old, oldc in rows]
        theirs = [tracemalloc.StatisticDiff(
                      tracemalloc.Traceback(((f, n),)), size, size - old,
                      count, count - oldc)
                  for f, n, size, count, old, oldc in rows]
        ours.sort(key=objheap.StatisticDiff._sort_key, reverse=True)
        theirs.sort(key=tracemalloc.StatisticDiff._sort_key, reverse=True)
        self.assertEqual([str(s) for s in ours], [str(s) for s in theirs])


class TestTrace(HeapTestCase):
    def start(self, sample_every=1):
        self.h.trace_start(sample_every)
        self.addCleanup(lambda: self.h.closed or self.h.trace_stop())

    def test_start_stop(self):
        h = self.h
        self.assertFalse(h.is_tracing())
        self.assertEqual(h.get_traced_memory(), (0, 0))
        self.assertEqual(h.get_trace_sample_every(), 0)
        self.start()
        self.assertTrue(h.is_tracing())
        self.assertEqual(h.get_trace_sample_every(), 1)
        with self.assertRaises(OSError) as cm:
            h.trace_start()
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        h.trace_stop()
        self.assertFalse(h.is_tracing())
        h.trace_stop()     # stopping a heap that does not trace: nothing
        with self.assertRaises(ValueError):
            h.trace_start(0)

    def test_traced_memory(self):
        h = self.h
        self.start()
        self.assertEqual(h.get_traced_memory(), (0, 0))
        objs = [h.new(0, b"x" * 100) for _ in range(10)]
        current, peak = h.get_traced_memory()
        self.assertGreaterEqual(current, 10 * 100)
        self.assertEqual(peak, current)
        stats = h.statistics()
        self.assertEqual(sum(s.size for s in stats), current)
        self.assertEqual(sum(s.count for s in stats), 10)
        info = h.trace_info()
        self.assertEqual(info["traced_objects"], 10)
        self.assertEqual(info["traced_bytes"], current)
        self.assertEqual(info["sample_every"], 1)
        del objs

    def test_peak(self):
        h = self.h
        self.start()
        objs = [h.new(0, b"p" * 64) for _ in range(20)]
        high, peak = h.get_traced_memory()
        self.assertEqual(peak, high)
        del objs[10:]
        current, peak = h.get_traced_memory()
        self.assertEqual(current * 2, high)
        self.assertEqual(peak, high)
        h.reset_peak()
        self.assertEqual(h.get_traced_memory(), (current, current))
        objs.append(h.new(0, b"p" * 64))
        self.assertEqual(h.get_traced_memory()[1], current + high // 20)
        objs.clear()
        self.assertEqual(h.get_traced_memory(), (0, current + high // 20))

    def test_sites(self):
        h = self.h
        self.start()
        a = [h.new(0, b"a") for _ in range(3)]; site_a = here()
        b = [h.new(1) for _ in range(5)]; site_b = here()
        self.assertNotEqual(site_a, site_b)
        stats = by_site(h.statistics())
        self.assertEqual(set(stats), {site_a, site_b})
        self.assertEqual(stats[site_a].count, 3)
        self.assertEqual(stats[site_b].count, 5)
        self.assertEqual(h.get_object_site(a[0]), site_a)
        self.assertEqual(h.get_object_site(b[4]), site_b)
        self.assertEqual(h.get_object_site(a[1]),
                         (site_a.filename, site_a.lineno))
        self.assertEqual(str(h.get_object_site(b[0])),
                         f"{site_b.filename}:{site_b.lineno}")
        self.assertRegex(str(stats[site_b]),
                         r"^.+:\d+: size=\d+(\.\d)? [KM]?i?B, count=5, "
                         r"average=\d+(\.\d)? [KM]?i?B$")

    def test_sites_of_helpers(self):
        """new_many() (one batch per 1024) and Heap.int(), a method of the
        package: the site is the line that called them."""
        h = self.h
        self.start()
        many = h.new_many(2500, 1); site_many = here()
        big = h.int(1 << 40); site_int = here()
        small = h.int(7)      # interned: made by INTERN, with no tag
        stats = by_site(h.statistics())
        self.assertEqual(stats[site_many].count, 2500)
        self.assertEqual(h.get_object_site(many[2499]), site_many)
        self.assertEqual(stats[site_int].count, 1)
        self.assertEqual(h.get_object_site(big), site_int)
        self.assertEqual(str(h.get_object_site(small)), "<unknown>")
        self.assertEqual(sum(s.count for s in stats.values()), 2502)

    def test_key_types(self):
        h = self.h
        self.start()
        a = [h.new(0, b"a" * 10, 7) for _ in range(4)]; site_a = here()
        b = [h.new(2, type=9) for _ in range(6)]; site_b = here()
        c = [h.new(0, b"c" * 10, 7) for _ in range(2)]; site_c = here()
        current = h.get_traced_memory()[0]
        for key_type in ("lineno", "filename", "type"):
            stats = h.statistics(key_type)
            self.assertEqual(sum(s.size for s in stats), current, key_type)
            self.assertEqual(sum(s.count for s in stats), 12, key_type)
        files = h.statistics("filename")
        self.assertEqual(len(files), 1)
        self.assertEqual(files[0].site, (site_a.filename, 0))
        self.assertEqual(str(files[0].site), site_a.filename)
        types = by_site(h.statistics("type"))
        self.assertEqual({t: s.count for t, s in types.items()}, {7: 6, 9: 6})
        lines = by_site(h.statistics("lineno"))
        self.assertEqual(types[7].size,
                         lines[site_a].size + lines[site_c].size)
        self.assertEqual(types[9].size, lines[site_b].size)
        with self.assertRaises(ValueError):
            h.statistics("traceback")
        del a, b, c

    def test_compare_to(self):
        h = self.h
        self.start()
        old = [h.new(0, b"o" * 32) for _ in range(10)]; site_old = here()
        s1 = h.take_snapshot()
        self.addCleanup(s1.close)
        new = [h.new(3) for _ in range(7)]; site_new = here()
        del old[:4]
        s2 = h.take_snapshot()
        self.addCleanup(s2.close)
        before = by_site(s1.statistics())[site_old]
        self.assertEqual(before.count, 10)
        diffs = s2.compare_to(s1)
        keys = [d._sort_key() for d in diffs]
        self.assertEqual(keys, sorted(keys, reverse=True))
        d = by_site(diffs)
        self.assertEqual(set(d), {site_old, site_new})
        self.assertEqual((d[site_new].count, d[site_new].count_diff), (7, 7))
        self.assertEqual(d[site_new].size_diff, d[site_new].size)
        self.assertEqual((d[site_old].count, d[site_old].count_diff), (6, -4))
        self.assertEqual(d[site_old].size_diff, -4 * (before.size // 10))
        self.assertEqual(d[site_old].size, 6 * (before.size // 10))
        self.assertEqual(d[site_old].size_diff * 10, -4 * before.size)
        # The same from the rows the snapshots read, once they are closed.
        s2.statistics()
        s1.close()
        s2.close()
        self.assertTrue(s1.closed and s2.closed)
        self.assertEqual(s2.compare_to(s1), diffs)
        with h.take_snapshot() as s3:   # open against closed: the same
            self.assertEqual(s3.compare_to(s1), diffs)
            unread = h.take_snapshot()
            unread.close()
            with self.assertRaises(ValueError):
                s3.compare_to(unread)
        files = s2.compare_to(s1, "filename")
        self.assertEqual(len(files), 1)
        self.assertEqual(files[0].count_diff, 3)
        self.assertEqual(files[0].size_diff,
                         d[site_new].size_diff + d[site_old].size_diff)
        with self.assertRaises(ValueError):
            s2.compare_to(s1, "traceback")
        del new

    def test_snapshot_is_of_its_moment(self):
        h = self.h
        self.start()
        a = [h.new() for _ in range(3)]; site = here()
        with h.take_snapshot() as snap:
            self.assertEqual(snap.sample_every, 1)
            self.assertEqual(h.trace_info()["snapshots"], 1)
            a.extend(h.new() for _ in range(5))
            del a[:2]
            # Read after the changes, the rows are still those of then.
            self.assertEqual(by_site(snap.statistics())[site].count, 3)
            self.assertEqual(by_site(h.statistics())[site].count, 1)
        self.assertTrue(snap.closed)
        self.assertEqual(h.trace_info()["snapshots"], 0)
        self.assertEqual(by_site(snap.statistics())[site].count, 3)  # kept
        snap.close()

    def test_untraced(self):
        h = self.h
        before = h.new()
        self.start()
        self.assertIsNone(h.get_object_site(before))
        after = h.new(); site = here()
        self.assertEqual(h.get_object_site(after), site)
        self.assertEqual(sum(s.count for s in h.statistics()), 1)
        h.trace_stop()
        self.assertIsNone(h.get_object_site(after))
        # A new start counts only what it sees made.
        h.trace_start()
        self.assertIsNone(h.get_object_site(after))
        self.assertEqual(h.statistics(), [])
        self.assertEqual(h.get_traced_memory(), (0, 0))
        h.trace_stop()
        later = h.new()     # not tracing: no tag, no frame looked at
        h.trace_start()
        self.assertIsNone(h.get_object_site(later))

    def test_stop_drops_snapshots(self):
        h = self.h
        self.start()
        keep = [h.new() for _ in range(2)]
        snap = h.take_snapshot()
        h.trace_stop()
        self.assertTrue(snap.closed)
        self.assertEqual(h.trace_info()["snapshots"], 0)
        with self.assertRaises(ValueError):
            snap.statistics()
        snap.close()
        # A new start may give the same id: the old snapshot is not it.
        h.trace_start()
        other = h.take_snapshot()
        del snap
        self.assertEqual(h.trace_info()["snapshots"], 1)
        self.assertEqual(other.statistics(), [])
        other.close()
        self.assertEqual(h.trace_info()["snapshots"], 0)
        del keep

    def test_errors(self):
        h = self.h
        for call in (h.take_snapshot, h.statistics):
            with self.assertRaises(OSError) as cm:
                call()
            self.assertEqual(cm.exception.errno, errno.ENODATA)
        self.start()
        with self.assertRaises(FileNotFoundError):
            h._trace_snapshot_drop(5)
        with self.assertRaises(FileNotFoundError):
            h._trace_rows(5, 0)
        snaps = [h.take_snapshot() for _ in range(objheap.TRACE_SNAPSHOTS_MAX)]
        self.assertEqual(sorted(s.id for s in snaps),
                         list(range(1, objheap.TRACE_SNAPSHOTS_MAX + 1)))
        with self.assertRaises(OSError) as cm:
            h.take_snapshot()
        self.assertEqual(cm.exception.errno, errno.ENOSPC)
        snaps.pop().close()
        snaps.append(h.take_snapshot())
        del snaps[:4]       # deallocation gives them back
        self.assertEqual(h.trace_info()["snapshots"],
                         objheap.TRACE_SNAPSHOTS_MAX - 4)
        other = objheap.Heap()
        self.addCleanup(other.close)
        with self.assertRaises(ValueError):
            snaps[0].compare_to(objheap.Snapshot(other, 1, 0, 1))

    def test_closed_heap(self):
        h = objheap.Heap()
        h.trace_start()
        snap = h.take_snapshot()
        h.close()
        self.assertTrue(snap.closed)
        snap.close()
        with self.assertRaises(objheap.ClosedHeapError):
            h.trace_stop()

    def test_resize_moves_bytes(self):
        h = self.h
        self.start()
        o = h.new(0, resizable=True); site = here()
        before = h.get_traced_memory()[0]
        o.resize(4096)
        after = h.get_traced_memory()[0]
        self.assertGreaterEqual(after - before, 4096)
        stat = by_site(h.statistics())[site]
        self.assertEqual((stat.count, stat.size), (1, after))
        o.resize(0)
        self.assertLess(h.get_traced_memory()[0], after)

    def test_many_pairs(self):
        """More pairs than one OBJHEAP_TRACE_ROWS call reads."""
        h = self.h
        self.start()
        objs = [h.new(0, b"", t) for t in range(1500)]
        types = h.statistics("type")
        self.assertEqual(len(types), 1500)
        self.assertEqual({s.site for s in types}, set(range(1500)))
        self.assertEqual(len(h.statistics()), 1)
        self.assertEqual(h.trace_info()["pairs"], 1500)
        del objs

    def test_other_attachment(self):
        """The tracer is the heap's; the sites are each Heap's own."""
        h = self.h
        other = objheap.Heap(h.attach())
        self.addCleanup(other.close)
        other.trace_start()
        self.addCleanup(lambda: other.closed or other.trace_stop())
        self.assertTrue(h.is_tracing())
        with self.assertRaises(OSError) as cm:
            h.trace_start()
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        mine = h.new()      # this Heap does not trace: no site
        theirs = [other.new() for _ in range(2)]; site = here()
        self.assertEqual(str(h.get_object_site(mine)), "<unknown>")
        self.assertEqual(other.get_object_site(theirs[0]), site)
        seen = by_site(other.statistics())
        self.assertEqual(seen[site].count, 2)
        self.assertEqual(seen[objheap.Site("<unknown>", 0)].count, 1)
        seen = h.statistics()
        self.assertEqual(len(seen), 2)
        foreign = [s for s in seen if s.site.filename.startswith("tag 0x")]
        self.assertEqual([s.count for s in foreign], [2])
        other.trace_stop()
        self.assertFalse(h.is_tracing())

    def test_sampling(self):
        h = self.h
        self.start(8)
        self.assertEqual(h.get_trace_sample_every(), 8)
        objs = h.new_many(20000); site = here()
        with h.take_snapshot() as snap:
            self.assertEqual(snap.sample_every, 8)
            stat = by_site(snap.statistics())[site]
        # Each object is traced with probability 1/8: n = 20000 objects
        # give about 2500 traced, and the estimate 8 * count has a
        # relative error of about sqrt(N / n) = sqrt(8 / 20000) = 2 %
        # (DOC: Tracing allocations; uniform gaps make it smaller still),
        # so 10 % is 5 standard deviations: a failure here is a bug.
        self.assertAlmostEqual(8 * stat.count, 20000, delta=2000)
        self.assertEqual(h.trace_info()["traced_objects"], stat.count)
        del objs


if __name__ == "__main__":
    unittest.main()
