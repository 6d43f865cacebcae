# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
"""objheap: a kernel object heap that feels like Python's gc and weakref.

    import objheap

    with objheap.Heap() as h:
        a = h.new(1)              # an object with one slot
        b = h.new(1)
        a[0] = b                  # slots hold references
        b[0] = a
        r = h.weakref(a)
        del a, b                  # a cycle: it survives
        h.gc.collect()            # 2, as gc.collect()
        r()                       # None

Documentation/python.rst describes the API against gc, weakref, sys and
tracemalloc.
"""
import collections
import errno
import itertools
import os
import select
import time
import weakref as _weakref

from . import _objheap
from ._objheap import (API_VERSION, ATTACH_READONLY, GC_DEBUG_SAVEALL,
                       GC_DEBUG_STATS, GC_INCREMENTAL, GC_STOP_THE_WORLD,
                       INT_TYPE, MAX_SIZE, MAX_SLOTS,
                       NAME_MAX, OBJ_FINALIZE, OBJ_FINALIZED, OBJ_FINALIZER,
                       OBJ_IMMORTAL, OBJ_IMMUTABLE, OBJ_INTERNED,
                       OBJ_MAPPABLE, OBJ_RESIZABLE, OBJ_WEAKREF,
                       REFCNT_IMMORTAL, TAG_OTHER, TRACE_SNAPSHOTS_MAX,
                       AttachInfo, ClosedHeapError, HeapMemoryError, Object,
                       ObjectInfo, WeakRef, recv_fd)

__all__ = [
    "Heap", "Object", "WeakRef", "GC", "finalize", "Attachment",
    "ObjectInfo", "AttachInfo", "ClosedHeapError", "HeapMemoryError",
    "send_fd", "recv_fd", "SMALL_INTS",
    "Site", "Snapshot", "Statistic", "StatisticDiff", "TRACE_SNAPSHOTS_MAX",
    "API_VERSION", "ATTACH_READONLY", "GC_DEBUG_SAVEALL", "GC_DEBUG_STATS",
    "GC_INCREMENTAL", "GC_STOP_THE_WORLD",
    "INT_TYPE", "MAX_SIZE", "MAX_SLOTS", "NAME_MAX", "OBJ_FINALIZE",
    "OBJ_FINALIZED", "OBJ_FINALIZER", "OBJ_IMMORTAL", "OBJ_IMMUTABLE",
    "OBJ_INTERNED", "OBJ_MAPPABLE", "OBJ_RESIZABLE", "OBJ_WEAKREF",
    "REFCNT_IMMORTAL",
]

# The integers Heap.int() interns immortal, as CPython caches its small ints.
SMALL_INTS = range(-5, 257)

# A heap's references do not survive fork(): in the child, its heaps raise
# ClosedHeapError and their proxies give nothing back (the parent owns
# those references).  Pass an attachment to the child instead.
os.register_at_fork(after_in_child=_objheap._after_fork_child)

# An object's site is the innermost frame outside this package: Heap.int()
# and the like are not where an object comes from, their caller is.
_objheap._set_package_dir(os.path.join(os.path.dirname(__file__), ""))


def _live(ref):
    heap = ref()
    if heap is None:
        raise ClosedHeapError("operation on a closed objheap heap")
    return heap


class _CallbackList(list):
    """GC.callbacks: a list that asks the kernel for collection events
    (OBJHEAP_EVENTS_GC) exactly while it is not empty."""

    __slots__ = ("_heap", "_on")

    def __init__(self, heap):
        super().__init__()
        self._heap = _weakref.ref(heap)
        self._on = False

    def _sync(self):
        on = bool(self)
        heap = self._heap()
        if on != self._on and heap is not None and not heap.closed:
            heap._gc_events(on)
            self._on = on

    def _wrap(name):
        def method(self, *args):
            try:
                return getattr(list, name)(self, *args)
            finally:
                self._sync()
        method.__name__ = name
        return method

    for _name in ("append", "extend", "insert", "remove", "pop", "clear",
                  "__setitem__", "__delitem__", "__iadd__", "__imul__"):
        locals()[_name] = _wrap(_name)
    del _name, _wrap


class _Garbage(list):
    """GC.garbage: a snapshot of the garbage list (OBJHEAP_GC_GET_GARBAGE).
    clear() and `del garbage[:]` also give its references back
    (OBJHEAP_GC_CLEAR_GARBAGE), as clearing gc.garbage does."""

    __slots__ = ("_heap",)

    def __init__(self, heap, items):
        super().__init__(items)
        self._heap = _weakref.ref(heap)

    def clear(self):
        super().clear()
        _live(self._heap)._gc_clear_garbage()

    def __delitem__(self, key):
        super().__delitem__(key)
        if isinstance(key, slice) and not self:
            _live(self._heap)._gc_clear_garbage()


class GC:
    """A heap's cycle collector, with the functions of Python's gc module.

    Heap.gc is one; the functions take and return objheap objects.
    """

    DEBUG_STATS = GC_DEBUG_STATS
    DEBUG_COLLECTABLE = 2
    DEBUG_UNCOLLECTABLE = 4
    DEBUG_SAVEALL = GC_DEBUG_SAVEALL
    DEBUG_LEAK = 2 | 4 | GC_DEBUG_SAVEALL

    __slots__ = ("_heap", "callbacks")

    def __init__(self, heap):
        self._heap = _weakref.ref(heap)
        self.callbacks = _CallbackList(heap)

    def __repr__(self):
        return f"<objheap.GC of {self._heap()!r}>"

    @staticmethod
    def _generation(generation, what):
        if not isinstance(generation, int):
            raise TypeError(f"{what} must be an int")
        if generation < 0:
            raise ValueError(f"{what} parameter cannot be negative")
        if generation > 2:
            raise ValueError(f"{what} parameter must be less than the "
                             "number of available generations (3)")
        return generation

    def collect(self, generation=2):
        """Collect generations 0 to `generation`; then run the callbacks
        of the events it caused (Heap.dispatch()), as CPython runs them
        inside gc.collect().  Returns the unreachable objects found."""
        if not isinstance(generation, int) or not 0 <= generation <= 2:
            raise ValueError("invalid generation")
        heap = _live(self._heap)
        collected, _, _ = heap._gc_collect(generation)
        heap.dispatch()
        return collected

    def enable(self):
        _live(self._heap)._gc_enable()

    def disable(self):
        _live(self._heap)._gc_disable()

    def isenabled(self):
        return _live(self._heap)._gc_isenabled()

    def get_threshold(self):
        return _live(self._heap)._gc_get_threshold()

    def set_threshold(self, threshold0, threshold1=None, threshold2=None):
        heap = _live(self._heap)
        t = list(heap._gc_get_threshold())
        for i, v in enumerate((threshold0, threshold1, threshold2)):
            if v is not None:
                t[i] = v
        heap._gc_set_threshold(*t)

    def get_count(self):
        return _live(self._heap)._gc_get_count()

    def get_stats(self):
        return _live(self._heap)._gc_get_stats()

    def freeze(self):
        _live(self._heap)._gc_freeze()

    def unfreeze(self):
        _live(self._heap)._gc_unfreeze()

    def get_freeze_count(self):
        return _live(self._heap)._gc_get_freeze_count()

    def get_objects(self, generation=None):
        if generation is not None:
            self._generation(generation, "generation")
        return _live(self._heap)._gc_get_objects(generation)

    def get_referrers(self, *objs):
        heap = _live(self._heap)
        seen, out = set(), []
        for o in objs:
            for r in heap._gc_get_referrers(o):
                if id(r) not in seen:
                    seen.add(id(r))
                    out.append(r)
        return out

    def get_referents(self, *objs):
        heap = _live(self._heap)
        out = []
        for o in objs:
            out.extend(heap._gc_get_referents(o))
        return out

    def is_tracked(self, obj):
        return _live(self._heap)._gc_is_tracked(obj)

    def is_finalized(self, obj):
        return bool(obj.flags & OBJ_FINALIZED)

    def set_debug(self, flags):
        _live(self._heap)._gc_set_debug(flags)

    def get_debug(self):
        return _live(self._heap)._gc_get_debug()

    def set_mode(self, mode, budget=0):
        """GC_STOP_THE_WORLD (the default), or GC_INCREMENTAL: the oldest
        generation is collected in increments of at most `budget` units
        of work (0: the kernel's default), with the heap's commands run
        between them (Documentation/gc.rst).  Not in Python's gc."""
        _live(self._heap)._gc_set_mode(mode, budget)

    def get_mode(self):
        """A dict: mode, budget, phase (0 when no collection runs), and
        the increments, incremental collections ended and given up, and
        the longest increment in ns, since the heap was opened."""
        return _live(self._heap)._gc_get_mode()

    @property
    def garbage(self):
        heap = _live(self._heap)
        return _Garbage(heap, heap._gc_get_garbage())


class finalize:
    """As weakref.finalize: func(*args, **kwargs) is called once, by
    Heap.dispatch(), when obj dies, unless detached first.

    There is no atexit hook: a finalizer whose heap is closed never runs
    (the heap's objects go with it, without events).
    """

    __slots__ = ("_heap", "_fin", "_key", "_func", "_args", "_kwargs",
                 "__weakref__")
    _counter = itertools.count(1 << 62)

    def __init__(self, heap, obj, func, /, *args, **kwargs):
        if not callable(func):
            raise TypeError("func must be callable")
        key = next(self._counter)
        self._fin = heap._finalize_new(obj, key)
        self._heap = _weakref.ref(heap)
        self._key = key
        self._func, self._args, self._kwargs = func, args, kwargs or {}
        heap._finalizers[key] = self

    atexit = property(lambda self: False,
                      doc="Always False: no finalizer runs at exit.")

    def _forget(self):
        heap = self._heap()
        if heap is not None and heap._finalizers is not None:
            heap._finalizers.pop(self._key, None)
        info = (self._func, self._args, self._kwargs)
        self._fin = self._func = self._args = self._kwargs = None
        return info

    def _fire(self):
        if self._fin is None:
            return
        func, args, kwargs = self._forget()
        func(*args, **kwargs)

    @property
    def alive(self):
        heap = self._heap()
        if self._fin is None or heap is None:
            return False
        return heap._finalize_alive(self._fin)

    def detach(self):
        """Unregister: (obj, func, args, kwargs) if it was alive, else None."""
        heap = self._heap()
        if self._fin is None or heap is None or heap.closed:
            return None
        obj = heap._finalize_detach(self._fin)
        if obj is None:
            return None  # fired; its event is on its way
        func, args, kwargs = self._forget()
        return (obj, func, args, kwargs)

    def peek(self):
        """(obj, func, args, kwargs) if alive, else None."""
        heap = self._heap()
        if self._fin is None or heap is None or heap.closed:
            return None
        obj = self._fin()
        if obj is None or not heap._finalize_alive(self._fin):
            return None
        return (obj, self._func, self._args, self._kwargs)

    def __call__(self, _=None):
        """If alive, detach and return func(*args, **kwargs); else None."""
        info = self.detach()
        if info:
            obj, func, args, kwargs = info
            del obj
            return func(*args, **(kwargs or {}))
        return None

    def __repr__(self):
        state = "alive" if self.alive else "dead"
        return f"<objheap.finalize object at {id(self):#x}; {state}>"


def _rebuild_attachment(df, id, readonly):
    return Attachment(df.detach(), id, readonly)


def _reduce_attachment(att):
    from multiprocessing import reduction
    return _rebuild_attachment, (reduction.DupFd(att.fileno()), att.id,
                                 att.readonly)


_reducer_registered = False


class Attachment:
    """An attachment of a heap not yet opened: its file descriptor.

    Heap.attach() makes one; objheap.Heap(attachment) opens it, in this
    process or another.  It can be passed to a multiprocessing.Process as
    an argument, or through a multiprocessing connection, like a socket:
    the descriptor is duplicated into the other process.  Close it once
    given away, or the attachment outlives the process it was meant for.
    """

    __slots__ = ("_fd", "id", "readonly", "__weakref__")

    def __init__(self, fd, id=None, readonly=False):
        global _reducer_registered
        self._fd = fd
        self.id = id
        self.readonly = readonly
        if not _reducer_registered:
            from multiprocessing import reduction
            reduction.register(Attachment, _reduce_attachment)
            _reducer_registered = True

    def fileno(self):
        if self._fd < 0:
            raise ValueError("the attachment was closed or detached")
        return self._fd

    @property
    def closed(self):
        return self._fd < 0

    def detach(self):
        """Give up the descriptor, without closing it: returns it."""
        fd = self.fileno()
        self._fd = -1
        return fd

    def close(self):
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        return (f"<objheap.Attachment id={self.id} fd={self._fd}"
                f"{' readonly' if self.readonly else ''}>")


def send_fd(sock, fd):
    """Send a descriptor, or an Attachment's, over a connected unix socket
    (objheap_send_fd()); the sender keeps its own copy."""
    if isinstance(fd, Attachment):
        fd = fd.fileno()
    _objheap.send_fd(sock, fd)


# ---------------------------------------------------- tracing allocations

class Site(collections.namedtuple("Site", "filename lineno")):
    """Where objects come from: the file and line of the innermost Python
    frame outside objheap that made them, tracemalloc's Frame.  A tuple;
    str() is "filename:lineno", or the filename alone when lineno is 0:
    the sites of key_type "filename", "<unknown>" (objects made without a
    site: interned, weak references, made while this Heap did not trace),
    "<other>" (past the kernel's bound on pairs) and "tag 0x..." (objects
    another attachment made, with its own tags)."""

    __slots__ = ()

    def __str__(self):
        if self.lineno:
            return f"{self.filename}:{self.lineno}"
        return self.filename


_UNKNOWN = Site("<unknown>", 0)
_OTHER = Site("<other>", 0)
_KEY_TYPES = ("lineno", "filename", "type")


def _format_size(size, sign=False):
    """A byte count as tracemalloc prints it: at most 4 digits and a binary
    unit, one decimal below 100 of a unit above the byte."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if unit != "B" and abs(size) < 100:
            return f"{size:+.1f} {unit}" if sign else f"{size:.1f} {unit}"
        if abs(size) < 10 * 1024 or unit == "TiB":
            return f"{size:+.0f} {unit}" if sign else f"{size:.0f} {unit}"
        size /= 1024


def _format_site(site):
    return f"type {site:#x}" if isinstance(site, int) else str(site)


class Statistic:
    """The traced objects of one site (or file, or type): tracemalloc's
    Statistic, with `site` for its traceback.  `size` and `count` are the
    traced figures: with sampling, multiply by the snapshot's
    sample_every for an estimate."""

    __slots__ = ("site", "size", "count")

    def __init__(self, site, size, count):
        self.site = site
        self.size = size
        self.count = count

    def _key(self):
        return (self.site, self.size, self.count)

    def __eq__(self, other):
        if not isinstance(other, Statistic):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def _sort_key(self):
        return (self.size, self.count, self.site)

    def __str__(self):
        text = (f"{_format_site(self.site)}: size={_format_size(self.size)}, "
                f"count={self.count}")
        if self.count:
            text += f", average={_format_size(self.size / self.count)}"
        return text

    def __repr__(self):
        return (f"<objheap.Statistic site={self.site!r} size={self.size} "
                f"count={self.count}>")


class StatisticDiff:
    """One site's figures in a snapshot and their change since an older
    one: tracemalloc's StatisticDiff, with `site` for its traceback."""

    __slots__ = ("site", "size", "size_diff", "count", "count_diff")

    def __init__(self, site, size, size_diff, count, count_diff):
        self.site = site
        self.size = size
        self.size_diff = size_diff
        self.count = count
        self.count_diff = count_diff

    def _key(self):
        return (self.site, self.size, self.size_diff, self.count,
                self.count_diff)

    def __eq__(self, other):
        if not isinstance(other, StatisticDiff):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def _sort_key(self):
        return (abs(self.size_diff), self.size, abs(self.count_diff),
                self.count, self.site)

    def __str__(self):
        text = (f"{_format_site(self.site)}: size={_format_size(self.size)} "
                f"({_format_size(self.size_diff, True)}), "
                f"count={self.count} ({self.count_diff:+d})")
        if self.count:
            text += f", average={_format_size(self.size / self.count)}"
        return text

    def __repr__(self):
        return (f"<objheap.StatisticDiff site={self.site!r} "
                f"size={self.size} ({self.size_diff:+d}) "
                f"count={self.count} ({self.count_diff:+d})>")


class Snapshot:
    """The traced objects of a heap at one moment: tracemalloc's Snapshot.

    Heap.take_snapshot() makes one.  The kernel keeps its figures
    (OBJHEAP_TRACE_SNAPSHOT, at most TRACE_SNAPSHOTS_MAX per heap); they
    are read the first time statistics() needs them and kept.  close(),
    the end of a with block or the snapshot's deallocation gives the
    kernel's copy back; trace_stop() drops it anyway.  `sample_every` is
    the sampling period it was taken with.
    """

    __slots__ = ("heap", "id", "sample_every", "_gen", "_rows", "_closed",
                 "__weakref__")

    def __init__(self, heap, id, generation, sample_every):
        self.heap = heap
        self.id = id
        self.sample_every = sample_every
        self._gen = generation
        self._rows = None
        self._closed = False

    @property
    def closed(self):
        """True once closed, or once its heap stopped tracing or closed."""
        heap = self.heap
        return (self._closed or heap.closed or
                heap._trace_generation != self._gen)

    def _check(self):
        if self._closed:
            raise ValueError("the snapshot is closed")
        if self.heap._trace_generation != self._gen:
            raise ValueError("the heap stopped tracing since the snapshot "
                             "was taken: the snapshot is gone")

    def _read(self):
        if self._rows is None:
            self._check()
            self._rows = self.heap._trace_rows(self.id, 0)
        return self._rows

    def statistics(self, key_type="lineno"):
        """[Statistic] per key, biggest first: key_type "lineno" (per
        site), "filename" (the sites of a file together) or "type" (per
        object type; `site` is the type tag)."""
        _check_key_type(key_type)
        return self.heap._group(self._read(), key_type)

    def compare_to(self, old_snapshot, key_type="lineno"):
        """[StatisticDiff] of this snapshot against an older one of the
        same heap, biggest change first."""
        if not isinstance(old_snapshot, Snapshot):
            raise TypeError("compare_to() takes an objheap.Snapshot")
        if old_snapshot.heap is not self.heap:
            raise ValueError("the snapshots are of different heaps")
        _check_key_type(key_type)
        if not self.closed and not old_snapshot.closed:
            # The kernel sets the older figures beside these itself.
            rows = self.heap._trace_rows(self.id, old_snapshot.id)
        else:
            # One is closed: from the rows each read while open.
            for snap in (old_snapshot, self):
                if snap._rows is None and snap.closed:
                    raise ValueError("a snapshot closed before its "
                                     "statistics were read cannot be "
                                     "compared")
                snap._read()
            pairs = {}
            for tag, type, count, size, _, _ in old_snapshot._rows:
                pairs[tag, type] = [0, 0, count, size]
            for tag, type, count, size, _, _ in self._rows:
                pairs.setdefault((tag, type), [0, 0, 0, 0])[:2] = count, size
            rows = [(tag, type, *fig) for (tag, type), fig in pairs.items()]
        return self.heap._group(rows, key_type, diff=True)

    def close(self):
        """Give the kernel's copy back; closing twice is fine."""
        if self._closed:
            return
        self._closed = True
        heap = self.heap
        if heap.closed or heap._trace_generation != self._gen:
            return
        try:
            heap._trace_snapshot_drop(self.id)
        except OSError as e:
            # Dropped already: another attachment stopped tracing.
            if e.errno not in (errno.ENOENT, errno.ENODATA):
                raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        state = " closed" if self.closed else ""
        return f"<objheap.Snapshot id={self.id} of {self.heap!r}{state}>"


def _check_key_type(key_type):
    if key_type not in _KEY_TYPES:
        raise ValueError(f"unknown key_type: {key_type!r}")


class Heap(_objheap.Heap):
    """A heap of /dev/objheap: Heap() opens a new one; Heap(attachment)
    opens an attachment that Heap.attach() made (here or in another
    process); Heap.from_fd(fd) adopts an attachment's descriptor.

    A context manager: leaving the block closes it.  Heap.gc is its
    collector, with the functions of Python's gc module.
    """

    def __new__(cls, attachment=None):
        if attachment is None:
            return super().__new__(cls)
        if isinstance(attachment, Attachment):
            self = super().__new__(cls, attachment.fileno())
            attachment.detach()  # the heap owns the descriptor now
            return self
        raise TypeError("Heap() takes an objheap.Attachment or nothing; "
                        "use Heap.from_fd(fd) for a descriptor")

    def __init__(self, attachment=None):
        self.gc = GC(self)
        self._gc_callbacks = self.gc.callbacks

    @classmethod
    def from_fd(cls, fd):
        """Adopt `fd`, an attachment's descriptor: the heap owns it from
        now on (on failure it stays the caller's)."""
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError("fd must be an int")
        if fd < 0:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        self = _objheap.Heap.__new__(cls, fd)
        self.__init__()
        return self

    def __reduce__(self):
        raise TypeError("an objheap.Heap cannot be pickled: pass "
                        "Heap.attach() to the other process")

    def finalize(self, obj, func, /, *args, **kwargs):
        """As weakref.finalize(obj, func, *args, **kwargs)."""
        return finalize(self, obj, func, *args, **kwargs)

    def int(self, value):
        """An int object (type INT_TYPE, 8 bytes): those of SMALL_INTS
        are interned immortal, the same object every time, as CPython's
        small ints; others are new immutable objects."""
        data = value.to_bytes(8, "little", signed=True)
        if value in SMALL_INTS:
            return self.intern(data, INT_TYPE, immortal=True)
        return self.new(0, data, INT_TYPE, immutable=True)

    def attach(self, readonly=False):
        """A new attachment of this heap, for another process."""
        fd, id = self._attach(ATTACH_READONLY if readonly else 0)
        return Attachment(fd, id, readonly)

    @property
    def attachment_id(self):
        return self.attach_info().id

    # Tracing allocations: trace_start(), trace_stop(), is_tracing(),
    # get_traced_memory(), reset_peak(), get_trace_sample_every() and
    # trace_info() are the C half's.

    def take_snapshot(self):
        """A Snapshot of the traced objects now (tracemalloc's
        take_snapshot()); OSError ENODATA when the heap does not trace,
        ENOSPC past TRACE_SNAPSHOTS_MAX open snapshots."""
        id = self._trace_snapshot()
        try:
            every = self.get_trace_sample_every()
        except BaseException:
            self._trace_snapshot_drop(id)
            raise
        return Snapshot(self, id, self._trace_generation, every)

    def statistics(self, key_type="lineno"):
        """Snapshot.statistics() of the figures now, with no snapshot."""
        _check_key_type(key_type)
        return self._group(self._trace_rows(0, 0), key_type)

    def get_object_site(self, obj):
        """The Site that made obj (tracemalloc's get_object_traceback()),
        or None when obj is not traced: made before tracing started,
        sampled out, or the heap does not trace."""
        t = self._trace_tag(obj)
        return None if t is None else self._site(t[0])

    def _site(self, tag):
        """The Site of an allocation tag: this Heap's tags carry its
        attachment id in their high half and a site id in their low."""
        if not tag:
            return _UNKNOWN
        if tag == TAG_OTHER:
            return _OTHER
        sites = self._trace_sites
        index = tag & 0xFFFFFFFF
        if tag >> 32 == self._trace_tag_base >> 32 and 0 < index < len(sites):
            return Site(*sites[index])
        return Site(f"tag {tag:#x}", 0)

    def _group(self, rows, key_type, diff=False):
        """Statistic (or StatisticDiff) per key of rows of
        OBJHEAP_TRACE_ROWS, in tracemalloc's order."""
        groups = {}
        sites = {}
        for tag, type, count, size, base_count, base_size in rows:
            if key_type == "type":
                key = type
            else:
                key = sites.get(tag)
                if key is None:
                    key = sites[tag] = self._site(tag)
                if key_type == "filename":
                    key = Site(key.filename, 0)
            fig = groups.get(key)
            if fig is None:
                groups[key] = [count, size, base_count, base_size]
            else:
                fig[0] += count
                fig[1] += size
                fig[2] += base_count
                fig[3] += base_size
        if diff:
            stats = [StatisticDiff(key, size, size - base_size, count,
                                   count - base_count)
                     for key, (count, size, base_count, base_size)
                     in groups.items()]
            stats.sort(key=StatisticDiff._sort_key, reverse=True)
        else:
            stats = [Statistic(key, size, count)
                     for key, (count, size, _, _) in groups.items()]
            stats.sort(key=Statistic._sort_key, reverse=True)
        return stats

    def receive(self, timeout=None):
        """The next object sent to this attachment: (obj, cookie, sender).
        Waits up to `timeout` seconds (None: for ever), dispatching
        events meanwhile; TimeoutError when none came."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.dispatch()
            if self.received:
                return self.received.pop(0)
            left = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("nothing was sent to this attachment")
            select.select([self.fileno()], [], [], left)
