// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * objheap._objheap: the C half of the Python binding of libobjheap.
 *
 * A Heap is one attachment (struct objheap).  Every object of the heap
 * that Python code holds is a proxy (objheap.Object, or objheap.WeakRef
 * for the heap's weak references) that owns exactly one reference of the
 * kernel, given back when the proxy is deallocated.  The Heap keeps a
 * table of its live proxies by handle value, which holds no reference:
 * the same handle always gives the same proxy while that proxy lives, so
 * that `a is b` means "same object" (Documentation/python.rst).
 *
 * Everything runs with the GIL held, as CPython's own gc does; nothing
 * here blocks for long but a collection, which the kernel bounds.
 *
 * Python code may run whenever a Python object is allocated or released
 * (a collection of CPython's, a weakref callback): it may close the heap
 * under our feet.  Every method that uses the library takes the heap
 * "busy" first; close() while busy only marks the heap closed, and the
 * library's heap (and the table) go when the last busy caller leaves.
 *
 * Tracing allocations (DOC: Tracing allocations) has no functions in
 * libobjheap yet: its commands, and OBJHEAP_NEW with a tag, are issued
 * here as ioctls on the library heap's descriptor (raw_ioctl()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libobjheap.h>

/* The type tag of Heap.int()'s integers: 8 bytes, little-endian. */
#define OH_INT_TYPE 0x696e74U
/* Entries of a heap's batch buffer: lists are adopted this many at once. */
#define OH_BATCH 1024U
/* Rows asked of OBJHEAP_TRACE_ROWS at once. */
#define OH_TRACE_ROWS 1024U

typedef struct HeapObject HeapObject;
typedef struct ProxyObject ProxyObject;

/* Handle value -> live proxy, open addressing; 0 is never a handle. */
#define TABLE_TOMB (1ULL << 63)	/* bit 63 is never set in a handle */

struct ptable {
	uint64_t *keys;
	ProxyObject **vals;
	size_t cap;		/* a power of two, or 0 */
	size_t used;		/* live entries */
	size_t filled;		/* live entries and tombstones */
};

struct HeapObject {
	PyObject_HEAD
	struct objheap *lib;	/* NULL once really closed */
	int closed;		/* close() was called: every use raises */
	int inherited;		/* in a child after fork(): not ours */
	int busy;		/* callers using lib right now */
	int dispatching;
	struct ptable table;
	struct objheap_batch_buf *batch;
	uint64_t next_cookie;
	unsigned long long events_lost;
	PyObject *gc_callbacks;	/* a list, see GC.callbacks */
	PyObject *finalizers;	/* cookie -> finalize, see objheap.finalize */
	PyObject *on_received;
	PyObject *on_detached;
	PyObject *on_finalize;
	PyObject *on_lost;
	PyObject *received;	/* (obj, cookie, sender) when no on_received */
	PyObject *weakreflist;
	HeapObject *next_heap;	/* every heap, for fork() */
	HeapObject *prev_heap;
	/* Tracing allocations: see trace_tag(). */
	int tracing;		/* trace_start() here: tag what we make */
	unsigned long trace_gen;	/* trace_start()s and trace_stop()s */
	uint64_t tag_base;	/* this attachment's id, in a tag's high half */
	PyObject *site_ids;	/* (filename, lineno) -> site id */
	PyObject *sites;	/* site id -> (filename, lineno); [0] is None */
};

struct ProxyObject {
	PyObject_HEAD
	HeapObject *heap;	/* strong; NULL while half made */
	uint64_t handle;
	uint32_t type;
	uint32_t oflags;	/* OBJHEAP_OBJ_* known at creation */
	uint32_t nslots;	/* valid unless OBJHEAP_OBJ_RESIZABLE */
	uint32_t nbytes;	/* likewise */
	void *map;		/* a mapping of the payload, while exported */
	size_t map_len;
	Py_ssize_t exports;
	PyObject *weakreflist;
};

typedef struct {
	ProxyObject base;
	PyObject *callback;
	uint64_t cookie;
} WeakRefObject;

static PyTypeObject HeapType;
static PyTypeObject ObjectType;
static PyTypeObject WeakRefType;
static PyTypeObject ObjectInfoType;
static PyTypeObject AttachInfoType;

static PyObject *ClosedHeapError;
static PyObject *HeapMemoryError;
static HeapObject *all_heaps;
/* The objheap package's directory and a separator: its frames are no site. */
static PyObject *package_prefix;

#define Proxy_Check(o) PyObject_TypeCheck(o, &ObjectType)

/* ---------------------------------------------------------------- errors */

/* Raise the exception for -errno @ret of the library (ret < 0). */
static PyObject *oh_error(int ret)
{
	int err = -ret;

	if (err == ENOMEM) {
		PyObject *args = Py_BuildValue("(is)", err, strerror(err));

		if (args) {
			PyErr_SetObject(HeapMemoryError, args);
			Py_DECREF(args);
		}
		return NULL;
	}
	errno = err;
	return PyErr_SetFromErrno(PyExc_OSError);
}

/*
 * The same for a command on objects that proxies hold: a proxy owns a
 * reference, so its handle can be gone (ENOENT) only when something else
 * gave that reference back behind the binding's back.
 */
static PyObject *obj_error(int ret)
{
	if (ret == -ENOENT) {
		PyErr_SetString(PyExc_ReferenceError,
				"the objheap object no longer exists");
		return NULL;
	}
	return oh_error(ret);
}

static int heap_usable(HeapObject *h)
{
	if (h->inherited) {
		PyErr_SetString(ClosedHeapError,
				"objheap heap inherited across fork(): its references "
				"belong to the parent (pass an attachment instead)");
		return 0;
	}
	if (h->closed || !h->lib) {
		PyErr_SetString(ClosedHeapError, "operation on a closed objheap heap");
		return 0;
	}
	return 1;
}

static void heap_really_close(HeapObject *h);

static int heap_enter(HeapObject *h)
{
	if (!heap_usable(h))
		return 0;
	h->busy++;
	return 1;
}

static void heap_leave(HeapObject *h)
{
	if (--h->busy == 0 && h->closed && h->lib)
		heap_really_close(h);
}

/* ------------------------------------------------------------ the table */

static size_t table_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 17) & (cap - 1);
}

static ProxyObject *table_get(HeapObject *h, uint64_t key)
{
	struct ptable *t = &h->table;
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = table_slot(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == key)
			return t->vals[i];
		if (!t->keys[i])
			return NULL;
	}
}

static int table_resize(struct ptable *t, size_t cap)
{
	uint64_t *keys = PyMem_Calloc(cap, sizeof(*keys));
	ProxyObject **vals = PyMem_Calloc(cap, sizeof(*vals));
	size_t i, j;

	if (!keys || !vals) {
		PyMem_Free(keys);
		PyMem_Free(vals);
		PyErr_NoMemory();
		return -1;
	}
	for (i = 0; i < t->cap; i++) {
		if (!t->keys[i] || t->keys[i] == TABLE_TOMB)
			continue;
		for (j = table_slot(t->keys[i], cap); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = t->keys[i];
		vals[j] = t->vals[i];
	}
	PyMem_Free(t->keys);
	PyMem_Free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->cap = cap;
	t->filled = t->used;
	return 0;
}

/* Add @p under @key, which is not in the table. */
static int table_put(HeapObject *h, uint64_t key, ProxyObject *p)
{
	struct ptable *t = &h->table;
	size_t i;

	if ((t->filled + 1) * 4 > t->cap * 3) {
		size_t cap = t->cap ? t->cap : 64;

		while ((t->used + 1) * 2 > cap)
			cap *= 2;
		if (table_resize(t, cap))
			return -1;
	}
	for (i = table_slot(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (!t->keys[i] || t->keys[i] == TABLE_TOMB)
			break;
	}
	if (!t->keys[i])
		t->filled++;
	t->keys[i] = key;
	t->vals[i] = p;
	t->used++;
	return 0;
}

static void table_del(HeapObject *h, uint64_t key, ProxyObject *p)
{
	struct ptable *t = &h->table;
	size_t i;

	if (!t->cap)
		return;
	for (i = table_slot(key, t->cap); t->keys[i]; i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == key && t->vals[i] == p) {
			t->keys[i] = TABLE_TOMB;
			t->vals[i] = NULL;
			t->used--;
			return;
		}
	}
}

static void table_free(struct ptable *t)
{
	PyMem_Free(t->keys);
	PyMem_Free(t->vals);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------- proxies */

/*
 * A new proxy for @handle, which owns one reference, and which has no
 * proxy yet.  On failure the caller still owns the reference.
 */
static PyObject *proxy_new(HeapObject *h, uint64_t handle, uint32_t type,
			   uint32_t oflags, uint32_t nslots, uint32_t nbytes)
{
	ProxyObject *p;

	if (oflags & OBJHEAP_OBJ_WEAKREF) {
		WeakRefObject *w = PyObject_GC_New(WeakRefObject, &WeakRefType);

		if (!w)
			return NULL;
		w->callback = NULL;
		w->cookie = 0;
		p = &w->base;
	} else {
		p = PyObject_New(ProxyObject, &ObjectType);
		if (!p)
			return NULL;
	}
	p->heap = NULL;
	p->handle = 0;
	p->type = type;
	p->oflags = oflags;
	p->nslots = nslots;
	p->nbytes = nbytes;
	p->map = NULL;
	p->map_len = 0;
	p->exports = 0;
	p->weakreflist = NULL;
	if (table_put(h, handle, p)) {
		Py_DECREF(p);
		return NULL;
	}
	p->handle = handle;
	Py_INCREF(h);
	p->heap = h;
	if (oflags & OBJHEAP_OBJ_WEAKREF)
		PyObject_GC_Track(p);
	return (PyObject *)p;
}

static void proxy_forget(ProxyObject *p)
{
	HeapObject *h = p->heap;

	if (p->map) {
		objheap_unmap(p->map, p->map_len);
		p->map = NULL;
	}
	if (!h)
		return;
	table_del(h, p->handle, p);
	if (h->lib && !h->closed && !h->inherited)
		objheap_release(h->lib, p->handle);
	p->heap = NULL;
	Py_DECREF(h);
}

static void proxy_dealloc(ProxyObject *p)
{
	if (p->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)p);
	proxy_forget(p);
	Py_TYPE(p)->tp_free((PyObject *)p);
}

/* @ret the library's, @handle owning one reference: adopt it or drop it. */
static PyObject *adopt(HeapObject *h, uint64_t handle,
		       const struct objheap_info *info)
{
	struct objheap_info in;
	PyObject *p;
	int ret;

	if (!handle)
		Py_RETURN_NONE;
	p = (PyObject *)table_get(h, handle);
	if (p) {
		Py_INCREF(p);
		objheap_release(h->lib, handle);
		return p;
	}
	if (!info) {
		ret = objheap_info(h->lib, handle, &in);
		if (ret) {
			objheap_release(h->lib, handle);
			return oh_error(ret);
		}
		info = &in;
	}
	p = proxy_new(h, handle, info->out_type, info->out_flags,
		      info->out_nslots, info->out_data_len);
	if (!p)
		objheap_release(h->lib, handle);
	return p;
}

static int heap_batch(HeapObject *h)
{
	int ret;

	if (h->batch) {
		objheap_batch_reset(h->batch);
		return 0;
	}
	ret = objheap_batch_alloc(&h->batch, OH_BATCH);
	if (ret) {
		oh_error(ret);
		return -1;
	}
	return 0;
}

/* Give back @n references in one batch (or a few); errors are ignored. */
static void release_many(HeapObject *h, const uint64_t *handles, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		if (heap_batch(h)) {
			PyErr_Clear();
			for (; i < n; i++)
				objheap_release(h->lib, handles[i]);
			return;
		}
		for (k = 0; k < OH_BATCH && i + k < n; k++)
			objheap_batch_release(h->batch, handles[i + k]);
		objheap_batch_submit(h->lib, h->batch, OBJHEAP_BATCH_CONTINUE);
	}
}

struct mini_info {
	int ok;
	uint32_t type, flags, nslots, nbytes;
};

/*
 * Proxies for @n handles, each owning one reference: a list, in order.
 * One batch of INFO per OH_BATCH handles for those without a proxy (all
 * are asked, the table may change meanwhile), one of RELEASE for the
 * references the existing proxies did not need.
 */
static PyObject *adopt_many(HeapObject *h, const uint64_t *handles, size_t n)
{
	struct mini_info *mi = NULL;
	uint64_t *extra = NULL;
	PyObject *list;
	size_t i, j, k, nextra = 0;

	list = PyList_New((Py_ssize_t)n);
	if (!list)
		goto fail_all;
	if (!n)
		return list;
	mi = PyMem_Malloc(sizeof(*mi) * (n < OH_BATCH ? n : OH_BATCH));
	extra = PyMem_Malloc(sizeof(*extra) * n);
	if (!mi || !extra) {
		PyErr_NoMemory();
		goto fail_all;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < OH_BATCH ? n - i : OH_BATCH;
		if (heap_batch(h))
			goto fail_from;
		for (j = 0; j < k; j++)
			objheap_batch_info(h->batch, handles[i + j]);
		if (objheap_batch_submit(h->lib, h->batch, OBJHEAP_BATCH_CONTINUE) < 0) {
			memset(mi, 0, sizeof(*mi) * k);
		} else {
			for (j = 0; j < k; j++) {
				const struct objheap_info *in =
					objheap_batch_info_result(h->batch, j);

				mi[j].ok = in != NULL;
				if (in) {
					mi[j].type = in->out_type;
					mi[j].flags = in->out_flags;
					mi[j].nslots = in->out_nslots;
					mi[j].nbytes = in->out_data_len;
				}
			}
		}
		for (j = 0; j < k; j++) {
			uint64_t hd = handles[i + j];
			PyObject *p = (PyObject *)table_get(h, hd);

			if (p) {
				Py_INCREF(p);
				extra[nextra++] = hd;
			} else if (mi[j].ok) {
				p = proxy_new(h, hd, mi[j].type, mi[j].flags,
					      mi[j].nslots, mi[j].nbytes);
			} else {
				struct objheap_info in;
				int ret = objheap_info(h->lib, hd, &in);

				if (ret)
					oh_error(ret);
				else
					p = proxy_new(h, hd, in.out_type, in.out_flags,
						      in.out_nslots, in.out_data_len);
			}
			if (!p) {
				i += j;
				goto fail_from;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)(i + j), p);
		}
	}
	release_many(h, extra, nextra);
	PyMem_Free(extra);
	PyMem_Free(mi);
	return list;

fail_all:
	i = 0;
fail_from:
	/* Handles i.. own their references still; so do the extras. */
	if (extra) {
		memcpy(extra + nextra, handles + i, sizeof(*extra) * (n - i));
		release_many(h, extra, nextra + n - i);
	} else {
		release_many(h, handles + i, n - i);
	}
	PyMem_Free(extra);
	PyMem_Free(mi);
	Py_XDECREF(list);
	return NULL;
}

/*
 * Run GET_SLOT (@wr false) or WEAKREF_GET (@wr true) with an INFO of its
 * result in one batch, and adopt what it returned.  *@retp gets the
 * command's own result when it failed (the exception is then not set).
 */
static PyObject *fetch(HeapObject *h, uint64_t handle, uint32_t index, int wr,
		       int *retp)
{
	struct objheap_info in;
	const struct objheap_info *inp;
	uint64_t target;
	int ret;

	*retp = 0;
	if (heap_batch(h))
		return NULL;
	if (wr)
		objheap_batch_weakref_get(h->batch, handle);
	else
		objheap_batch_get_slot(h->batch, handle, index);
	objheap_batch_info(h->batch, OBJHEAP_BATCH_REF(0));
	ret = objheap_batch_submit(h->lib, h->batch, 0);
	if (ret < 0)
		return oh_error(ret);
	ret = objheap_batch_result(h->batch, 0);
	if (ret) {
		*retp = ret;
		return NULL;
	}
	target = objheap_batch_handle(h->batch, 0);
	inp = objheap_batch_info_result(h->batch, 1);
	if (inp) {
		in = *inp;
		inp = &in;
	}
	return adopt(h, target, inp);
}

/* -------------------------------------------------------- argument help */

/*
 * Fill @out[0..n-1] with the arguments named @names (borrowed, NULL when
 * not given): the first @npos may be positional.
 */
static int parse_args(const char *fname, PyObject *const *args,
		      Py_ssize_t nargs, PyObject *kwnames,
		      const char *const *names, int npos, int n,
		      PyObject **out)
{
	Py_ssize_t i, nkw;
	int j;

	for (j = 0; j < n; j++)
		out[j] = NULL;
	if (nargs > npos) {
		PyErr_Format(PyExc_TypeError,
			     "%s() takes at most %d positional arguments (%zd given)",
			     fname, npos, nargs);
		return -1;
	}
	for (i = 0; i < nargs; i++)
		out[i] = args[i];
	nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (i = 0; i < nkw; i++) {
		PyObject *kw = PyTuple_GET_ITEM(kwnames, i);

		for (j = 0; j < n; j++)
			if (!PyUnicode_CompareWithASCIIString(kw, names[j]))
				break;
		if (j == n) {
			PyErr_Format(PyExc_TypeError,
				     "%s() got an unexpected keyword argument '%U'",
				     fname, kw);
			return -1;
		}
		if (out[j]) {
			PyErr_Format(PyExc_TypeError,
				     "%s() got multiple values for argument '%s'",
				     fname, names[j]);
			return -1;
		}
		out[j] = args[nargs + i];
	}
	return 0;
}

/* @o as a u32 (@dflt when NULL or None). */
static int as_u32(PyObject *o, const char *what, uint32_t dflt, uint32_t *out)
{
	long long v;
	PyObject *idx;
	int ovf;

	if (!o || o == Py_None) {
		*out = dflt;
		return 0;
	}
	idx = PyNumber_Index(o);
	if (!idx)
		return -1;
	v = PyLong_AsLongLongAndOverflow(idx, &ovf);
	Py_DECREF(idx);
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (ovf < 0 || v < 0) {
		PyErr_Format(PyExc_ValueError, "%s must not be negative", what);
		return -1;
	}
	if (ovf > 0 || v > (long long)UINT32_MAX) {
		PyErr_Format(PyExc_OverflowError, "%s does not fit 32 bits", what);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int as_u64(PyObject *o, const char *what, uint64_t *out)
{
	unsigned long long u;
	long long v;
	PyObject *idx = PyNumber_Index(o);
	int ovf;

	if (!idx)
		return -1;
	v = PyLong_AsLongLongAndOverflow(idx, &ovf);
	if (v == -1 && PyErr_Occurred())
		goto fail;
	if (ovf < 0 || (!ovf && v < 0)) {
		PyErr_Format(PyExc_ValueError, "%s must not be negative", what);
		goto fail;
	}
	if (ovf) {
		u = PyLong_AsUnsignedLongLong(idx);
		if (u == (unsigned long long)-1 && PyErr_Occurred())
			goto fail;
	} else {
		u = (unsigned long long)v;
	}
	Py_DECREF(idx);
	*out = u;
	return 0;
fail:
	Py_DECREF(idx);
	return -1;
}

/* A negative int: "all" for read()'s size. */
static int is_negative(PyObject *o)
{
	long long v;
	int ovf;

	if (!o || !PyLong_Check(o))
		return 0;
	v = PyLong_AsLongLongAndOverflow(o, &ovf);
	if (v == -1 && PyErr_Occurred()) {
		PyErr_Clear();
		return 0;
	}
	return ovf < 0 || v < 0;
}

static int as_bool(PyObject *o, int *out)
{
	int v;

	if (!o) {
		*out = 0;
		return 0;
	}
	v = PyObject_IsTrue(o);
	if (v < 0)
		return -1;
	*out = v;
	return 0;
}

/* @o must be a proxy of heap @h. */
static ProxyObject *as_proxy(HeapObject *h, PyObject *o)
{
	ProxyObject *p;

	if (!Proxy_Check(o)) {
		PyErr_Format(PyExc_TypeError, "expected an objheap.Object, not %.100s",
			     Py_TYPE(o)->tp_name);
		return NULL;
	}
	p = (ProxyObject *)o;
	if (p->heap != h) {
		if (!p->heap)
			PyErr_SetString(PyExc_ReferenceError,
					"the objheap object no longer exists");
		else
			PyErr_SetString(PyExc_ValueError,
					"the object belongs to another objheap heap");
		return NULL;
	}
	return p;
}

/* A name: str (UTF-8) or bytes-like; the caller releases @buf. */
static int get_name(PyObject *o, Py_buffer *buf)
{
	if (PyUnicode_Check(o)) {
		Py_ssize_t len;
		const char *s = PyUnicode_AsUTF8AndSize(o, &len);

		if (!s)
			return -1;
		return PyBuffer_FillInfo(buf, o, (void *)s, len, 1, PyBUF_SIMPLE);
	}
	return PyObject_GetBuffer(o, buf, PyBUF_SIMPLE);
}

/* A file descriptor from an int or an object with fileno(). */
static int as_fd(PyObject *o)
{
	int fd = PyObject_AsFileDescriptor(o);

	return fd;
}

/* ------------------------------------------------------------- the Heap */

static void heap_link(HeapObject *h)
{
	h->next_heap = all_heaps;
	h->prev_heap = NULL;
	if (all_heaps)
		all_heaps->prev_heap = h;
	all_heaps = h;
}

static void heap_unlink(HeapObject *h)
{
	if (h->prev_heap)
		h->prev_heap->next_heap = h->next_heap;
	else if (all_heaps == h)
		all_heaps = h->next_heap;
	if (h->next_heap)
		h->next_heap->prev_heap = h->prev_heap;
	h->next_heap = h->prev_heap = NULL;
}

static void on_death(struct objheap *lib, const struct objheap_event *ev, void *arg);
static void on_finalize(struct objheap *lib, const struct objheap_event *ev, void *arg);
static void on_gc(struct objheap *lib, const struct objheap_event *ev, void *arg);
static void on_received(struct objheap *lib, const struct objheap_event *ev, void *arg);
static void on_detached(struct objheap *lib, const struct objheap_event *ev, void *arg);
static void on_lost(struct objheap *lib, uint64_t lost, void *arg);

static PyObject *heap_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "fd", NULL };
	HeapObject *h;
	int fd = -1, ret;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|i:Heap", kwlist, &fd))
		return NULL;
	h = (HeapObject *)type->tp_alloc(type, 0);
	if (!h)
		return NULL;
	h->next_cookie = 1;
	h->gc_callbacks = PyList_New(0);
	h->finalizers = PyDict_New();
	h->received = PyList_New(0);
	h->site_ids = PyDict_New();
	h->sites = PyList_New(1);
	if (h->sites) {
		Py_INCREF(Py_None);
		PyList_SET_ITEM(h->sites, 0, Py_None);
	}
	if (!h->gc_callbacks || !h->finalizers || !h->received ||
	    !h->site_ids || !h->sites) {
		Py_DECREF(h);
		return NULL;
	}
	Py_INCREF(Py_None);
	h->on_received = Py_None;
	Py_INCREF(Py_None);
	h->on_detached = Py_None;
	Py_INCREF(Py_None);
	h->on_finalize = Py_None;
	Py_INCREF(Py_None);
	h->on_lost = Py_None;
	if (fd < 0)
		ret = objheap_open(&h->lib);
	else
		ret = objheap_from_fd(fd, &h->lib);
	if (ret) {
		h->lib = NULL;
		h->closed = 1;
		Py_DECREF(h);
		return oh_error(ret);
	}
	objheap_on_death(h->lib, on_death, h);
	objheap_on_finalize(h->lib, on_finalize, h);
	objheap_on_received(h->lib, on_received, h);
	objheap_on_detached(h->lib, on_detached, h);
	objheap_on_lost(h->lib, on_lost, h);
	heap_link(h);
	return (PyObject *)h;
}

static void heap_really_close(HeapObject *h)
{
	/* The proxies stay, inert; table_del() finds an empty table. */
	table_free(&h->table);
	objheap_batch_free(h->batch);
	h->batch = NULL;
	objheap_close(h->lib);
	h->lib = NULL;
}

static void heap_clear_registries(HeapObject *h)
{
	/* Pending finalizers never run: the heap freed their targets. */
	if (h->finalizers)
		PyDict_Clear(h->finalizers);
	if (h->received)
		PyList_SetSlice(h->received, 0, PY_SSIZE_T_MAX, NULL);
}

static PyObject *heap_close(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	if (!h->lib || h->closed) {
		h->closed = 1;
		Py_RETURN_NONE;
	}
	h->closed = 1;
	if (!h->busy)
		heap_really_close(h);
	heap_clear_registries(h);
	Py_RETURN_NONE;
}

static int heap_traverse(HeapObject *h, visitproc visit, void *arg)
{
	Py_VISIT(h->gc_callbacks);
	Py_VISIT(h->finalizers);
	Py_VISIT(h->on_received);
	Py_VISIT(h->on_detached);
	Py_VISIT(h->on_finalize);
	Py_VISIT(h->on_lost);
	Py_VISIT(h->received);
	Py_VISIT(h->site_ids);
	Py_VISIT(h->sites);
	return 0;
}

static int heap_clear(HeapObject *h)
{
	Py_CLEAR(h->gc_callbacks);
	Py_CLEAR(h->finalizers);
	Py_CLEAR(h->on_received);
	Py_CLEAR(h->on_detached);
	Py_CLEAR(h->on_finalize);
	Py_CLEAR(h->on_lost);
	Py_CLEAR(h->received);
	Py_CLEAR(h->site_ids);
	Py_CLEAR(h->sites);
	return 0;
}

/* An unclosed heap warns, as an unclosed file does, and is closed. */
static void heap_finalize(PyObject *self)
{
	HeapObject *h = (HeapObject *)self;
	PyObject *type, *value, *tb;

	if (!h->lib || h->closed)
		return;
	PyErr_Fetch(&type, &value, &tb);
	if (!h->inherited &&
	    PyErr_ResourceWarning(self, 1, "unclosed objheap heap %R", self))
		PyErr_WriteUnraisable(self);
	h->closed = 1;
	if (!h->busy)
		heap_really_close(h);
	PyErr_Restore(type, value, tb);
}

static void heap_dealloc(HeapObject *h)
{
	if (PyObject_CallFinalizerFromDealloc((PyObject *)h) < 0)
		return;
	PyObject_GC_UnTrack(h);
	if (h->weakreflist)
		PyObject_ClearWeakRefs((PyObject *)h);
	if (h->lib) {
		h->closed = 1;
		heap_really_close(h);
	}
	heap_unlink(h);
	heap_clear(h);
	Py_TYPE(h)->tp_free((PyObject *)h);
}

static PyObject *heap_repr(HeapObject *h)
{
	if (!h->lib || h->closed)
		return PyUnicode_FromFormat("<%s closed>", Py_TYPE(h)->tp_name);
	return PyUnicode_FromFormat("<%s fd=%d>", Py_TYPE(h)->tp_name,
				    objheap_fd(h->lib));
}

static PyObject *heap_fileno(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	if (!heap_usable(h))
		return NULL;
	return PyLong_FromLong(objheap_fd(h->lib));
}

static PyObject *heap_get_closed(HeapObject *h, void *Py_UNUSED(c))
{
	return PyBool_FromLong(!h->lib || h->closed || h->inherited);
}

static PyObject *heap_get_events_lost(HeapObject *h, void *Py_UNUSED(c))
{
	return PyLong_FromUnsignedLongLong(h->events_lost);
}

static PyObject *heap_enter_ctx(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	if (!heap_usable(h))
		return NULL;
	Py_INCREF(h);
	return (PyObject *)h;
}

static PyObject *heap_exit_ctx(HeapObject *h, PyObject *Py_UNUSED(args))
{
	return heap_close(h, NULL);
}

/* Called in the child after fork(): every heap's references are the parent's. */
static PyObject *mod_after_fork_child(PyObject *Py_UNUSED(m),
				      PyObject *Py_UNUSED(ignored))
{
	HeapObject *h;

	for (h = all_heaps; h; h = h->next_heap)
		h->inherited = 1;
	Py_RETURN_NONE;
}

/* The payload of new(): data given and the size asked. */
struct payload {
	Py_buffer view;
	int have_view;
	void *tmp;
	const void *data;
	uint32_t len;
};

static int payload_get(PyObject *data, PyObject *size, struct payload *pl)
{
	uint32_t want;

	memset(pl, 0, sizeof(*pl));
	if (data && data != Py_None) {
		if (PyUnicode_Check(data)) {
			PyErr_SetString(PyExc_TypeError,
					"data must be bytes-like, not str (encode it)");
			return -1;
		}
		if (PyObject_GetBuffer(data, &pl->view, PyBUF_SIMPLE))
			return -1;
		pl->have_view = 1;
		if ((size_t)pl->view.len > OBJHEAP_MAX_SIZE) {
			PyErr_SetString(PyExc_ValueError, "data is larger than objheap.MAX_SIZE");
			goto fail;
		}
		pl->data = pl->view.len ? pl->view.buf : NULL;
		pl->len = (uint32_t)pl->view.len;
	}
	if (as_u32(size, "size", pl->len, &want))
		goto fail;
	if (want < pl->len) {
		PyErr_SetString(PyExc_ValueError, "size is smaller than the data");
		goto fail;
	}
	if (want > pl->len && pl->len) {
		pl->tmp = PyMem_Calloc(1, want);
		if (!pl->tmp) {
			PyErr_NoMemory();
			goto fail;
		}
		memcpy(pl->tmp, pl->data, pl->len);
		pl->data = pl->tmp;
	}
	pl->len = want;
	return 0;
fail:
	if (pl->have_view)
		PyBuffer_Release(&pl->view);
	pl->have_view = 0;
	return -1;
}

static void payload_put(struct payload *pl)
{
	if (pl->have_view)
		PyBuffer_Release(&pl->view);
	PyMem_Free(pl->tmp);
}

/* The flags of new(): immutable, immortal, resizable, mappable, finalize. */
static int new_flags(PyObject *const *o, uint32_t *flags)
{
	static const uint32_t bits[] = {
		OBJHEAP_OBJ_IMMUTABLE, OBJHEAP_OBJ_IMMORTAL,
		OBJHEAP_OBJ_RESIZABLE, OBJHEAP_OBJ_MAPPABLE,
		OBJHEAP_OBJ_FINALIZE,
	};
	unsigned int i;
	int v;

	*flags = 0;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (as_bool(o[i], &v))
			return -1;
		if (v)
			*flags |= bits[i];
	}
	return 0;
}

/* The slots= of new(): handles of this heap's proxies, or 0 for None. */
static uint64_t *slot_handles(HeapObject *h, PyObject *slots, uint32_t *nslots,
			      int nslots_given)
{
	PyObject *seq = PySequence_Fast(slots, "slots must be a sequence");
	uint64_t *out;
	Py_ssize_t i, n;

	if (!seq)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	if (!nslots_given) {
		if ((size_t)n > OBJHEAP_MAX_SLOTS) {
			Py_DECREF(seq);
			PyErr_SetString(PyExc_ValueError, "more slots than objheap.MAX_SLOTS");
			return NULL;
		}
		*nslots = (uint32_t)n;
	} else if ((size_t)n > *nslots) {
		Py_DECREF(seq);
		PyErr_SetString(PyExc_ValueError, "more slots given than nslots");
		return NULL;
	}
	out = PyMem_Calloc(*nslots ? *nslots : 1, sizeof(*out));
	if (!out) {
		Py_DECREF(seq);
		PyErr_NoMemory();
		return NULL;
	}
	for (i = 0; i < n; i++) {
		PyObject *o = PySequence_Fast_GET_ITEM(seq, i);
		ProxyObject *p;

		if (o == Py_None)
			continue;
		p = as_proxy(h, o);
		if (!p) {
			PyMem_Free(out);
			Py_DECREF(seq);
			return NULL;
		}
		out[i] = p->handle;
	}
	Py_DECREF(seq);
	return out;
}

static const char *const new_names[] = {
	"nslots", "data", "type", "immutable", "immortal", "resizable",
	"mappable", "finalize", "slots", "size",
};
#define NEW_NARGS 10

struct new_args {
	uint32_t nslots, type, flags;
	struct payload pl;
	uint64_t *slots;
};

static int new_parse(HeapObject *h, const char *fname, PyObject **o,
		     struct new_args *a)
{
	a->slots = NULL;
	if (as_u32(o[0], "nslots", 0, &a->nslots) ||
	    as_u32(o[2], "type", 0, &a->type) || new_flags(o + 3, &a->flags))
		return -1;
	if (a->nslots > OBJHEAP_MAX_SLOTS) {
		PyErr_Format(PyExc_ValueError, "%s(): nslots above objheap.MAX_SLOTS",
			     fname);
		return -1;
	}
	if (o[8] && o[8] != Py_None) {
		a->slots = slot_handles(h, o[8], &a->nslots, o[0] && o[0] != Py_None);
		if (!a->slots)
			return -1;
	}
	if (payload_get(o[1], o[9], &a->pl)) {
		PyMem_Free(a->slots);
		return -1;
	}
	return 0;
}

static void new_done(struct new_args *a)
{
	payload_put(&a->pl);
	PyMem_Free(a->slots);
}

/* ------------------------------------------------- allocation sites */

/* An ioctl libobjheap has no function for yet; 0 or -errno. */
static int raw_ioctl(HeapObject *h, unsigned long request, void *arg)
{
	return ioctl(objheap_fd(h->lib), request, arg) ? -errno : 0;
}

/* Whether code of @filename is the objheap package's own. */
static int in_package(PyObject *filename)
{
	return package_prefix && PyUnicode_Check(filename) &&
	       PyUnicode_Tailmatch(filename, package_prefix, 0, PY_SSIZE_T_MAX,
				   -1) == 1;
}

/*
 * The site id of (@filename, @lineno), given one if new: its index in
 * h->sites.  -1 with an exception.
 */
static Py_ssize_t site_id(HeapObject *h, PyObject *filename, int lineno)
{
	PyObject *key, *id;
	Py_ssize_t n;

	key = Py_BuildValue("(Oi)", filename, lineno);
	if (!key)
		return -1;
	id = PyDict_GetItemWithError(h->site_ids, key);
	if (id) {
		n = PyLong_AsSsize_t(id);
		Py_DECREF(key);
		return n;
	}
	n = PyErr_Occurred() ? -1 : PyList_GET_SIZE(h->sites);
	if (n >= 0) {
		id = PyLong_FromSsize_t(n);
		if (!id || PyList_Append(h->sites, key)) {
			n = -1;
		} else if (PyDict_SetItem(h->site_ids, key, id)) {
			PyList_SetSlice(h->sites, n, n + 1, NULL);
			n = -1;
		}
		Py_XDECREF(id);
	}
	Py_DECREF(key);
	return n;
}

/*
 * The allocation tag of an object the heap makes now (DOC: Tracing
 * allocations).  While this binding traces: the site of the innermost
 * Python frame outside the objheap package, the line that asked for the
 * object, as tracemalloc's one-frame traceback; its id in the low half,
 * the attachment's id in the high half, so that the tags of another
 * attachment, with its own ids, are told from ours.  0 when this binding
 * does not trace (no frame is looked at then) or no frame is found.
 * -1 with an exception.
 */
static int trace_tag(HeapObject *h, uint64_t *tagp)
{
	PyFrameObject *f, *back;
	PyCodeObject *code = NULL;
	Py_ssize_t id;
	int lineno = 0;

	*tagp = 0;
	if (!h->tracing)
		return 0;
	f = PyEval_GetFrame();
	Py_XINCREF(f);
	while (f) {
		code = PyFrame_GetCode(f);
		if (!in_package(code->co_filename)) {
			lineno = PyFrame_GetLineNumber(f);
			Py_DECREF(f);
			break;
		}
		Py_CLEAR(code);
		back = PyFrame_GetBack(f);
		Py_DECREF(f);
		f = back;
	}
	if (!code)
		return 0;
	id = site_id(h, code->co_filename, lineno);
	Py_DECREF(code);
	if (id < 0)
		return -1;
	if ((size_t)id <= UINT32_MAX)
		*tagp = h->tag_base | (uint64_t)id;
	return 0;
}

/* OBJHEAP_NEW with a tag: objheap_new() always gives 0. */
static int new_tagged(HeapObject *h, const struct new_args *a, uint64_t tag,
		      uint64_t *handlep)
{
	struct objheap_new cmd = {
		.size = sizeof(cmd),
		.flags = a->flags,
		.type = a->type,
		.nslots = a->nslots,
		.data_len = a->pl.len,
		.data_uptr = (uintptr_t)a->pl.data,
		.slots_uptr = (uintptr_t)a->slots,
		.tag = tag,
	};
	int ret = raw_ioctl(h, OBJHEAP_NEW, &cmd);

	if (!ret)
		*handlep = cmd.out_handle;
	return ret;
}

/*
 * An entry of OBJHEAP_BATCH for a tagged NEW: libobjheap's batch has no
 * room for the tag, so new_many() writes the entries itself when it
 * has one.  The header and the structure, 8-byte aligned, back to back.
 */
struct tagged_new {
	struct objheap_batch_entry entry;
	struct objheap_new cmd;
};
_Static_assert(sizeof(struct tagged_new) % 8 == 0 &&
	       offsetof(struct tagged_new, cmd) ==
	       sizeof(struct objheap_batch_entry), "batch entry layout");

/*
 * @k objects of @a in one batch, into @hs: 0, or -errno with those made
 * given back.  With @tag, through @tb (@k entries); else libobjheap's.
 */
static int new_batch(HeapObject *h, const struct new_args *a, uint64_t tag,
		     struct tagged_new *tb, uint32_t k, uint64_t *hs)
{
	struct objheap_batch b = {
		.size = sizeof(b),
		.count = k,
		.len = k * (uint32_t)sizeof(*tb),
		.buf_uptr = (uintptr_t)tb,
	};
	uint32_t j, made = 0;
	int ret, first = 0;

	if (!tag) {
		if (heap_batch(h))
			return 1;
		for (j = 0; j < k; j++)
			objheap_batch_new(h->batch, a->type, a->flags, a->nslots,
					  a->pl.data, a->pl.len, a->slots);
		ret = objheap_batch_submit(h->lib, h->batch, 0);
		for (j = 0; j < k; j++) {
			uint64_t hd = objheap_batch_handle(h->batch, j);

			if (hd)
				hs[made++] = hd;
			else if (!first && ret > 0)
				first = objheap_batch_result(h->batch, j);
		}
		if (ret > 0)
			ret = first ? first : -EIO;
	} else {
		for (j = 0; j < k; j++) {
			memset(&tb[j], 0, sizeof(tb[j]));
			tb[j].entry.cmd = OBJHEAP_CMD_NEW;
			tb[j].cmd.size = sizeof(tb[j].cmd);
			tb[j].cmd.flags = a->flags;
			tb[j].cmd.type = a->type;
			tb[j].cmd.nslots = a->nslots;
			tb[j].cmd.data_len = a->pl.len;
			tb[j].cmd.data_uptr = (uintptr_t)a->pl.data;
			tb[j].cmd.slots_uptr = (uintptr_t)a->slots;
			tb[j].cmd.tag = tag;
		}
		/* EINTR: the entries that ran stand, with their results. */
		ret = raw_ioctl(h, OBJHEAP_BATCH, &b);
		if (ret && ret != -EINTR)
			return ret;
		for (j = 0; j < k; j++) {
			if (!tb[j].entry.out_result && tb[j].cmd.out_handle)
				hs[made++] = tb[j].cmd.out_handle;
			else if (!first)
				first = tb[j].entry.out_result ?: -EIO;
		}
		if (!ret)
			ret = first;
	}
	if (ret)
		release_many(h, hs, made);
	return ret;
}

/*
 * Heap.new(nslots=0, data=b"", type=0, *, immutable=False, immortal=False,
 * resizable=False, mappable=False, finalize=False, slots=None, size=None)
 */
static PyObject *heap_new(HeapObject *h, PyObject *const *args,
			  Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *o[NEW_NARGS], *p;
	struct new_args a;
	uint64_t handle, tag;
	int ret;

	if (parse_args("new", args, nargs, kwnames, new_names, 3, NEW_NARGS, o))
		return NULL;
	if (!heap_enter(h))
		return NULL;
	p = NULL;
	if (new_parse(h, "new", o, &a))
		goto out;
	if (trace_tag(h, &tag))
		goto done;
	if (tag)
		ret = new_tagged(h, &a, tag, &handle);
	else
		ret = objheap_new(h->lib, a.type, a.flags, a.nslots, a.pl.data,
				  a.pl.len, a.slots, &handle);
	if (ret) {
		obj_error(ret);
	} else {
		p = proxy_new(h, handle, a.type, a.flags, a.nslots, a.pl.len);
		if (!p)
			objheap_release(h->lib, handle);
	}
done:
	new_done(&a);
out:
	heap_leave(h);
	return p;
}

/* Heap.new_many(count, nslots=0, data=b"", type=0, ...): in batches. */
static PyObject *heap_new_many(HeapObject *h, PyObject *const *args,
			       Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = {
		"count", "nslots", "data", "type", "immutable", "immortal",
		"resizable", "mappable", "finalize", "slots", "size",
	};
	PyObject *o[NEW_NARGS + 1], *list = NULL;
	struct tagged_new *tb = NULL;
	uint64_t *hs = NULL, tag;
	struct new_args a;
	uint32_t count, i, k, j;
	int ret;

	if (parse_args("new_many", args, nargs, kwnames, names, 4, NEW_NARGS + 1, o))
		return NULL;
	if (!o[0]) {
		PyErr_SetString(PyExc_TypeError, "new_many() missing argument 'count'");
		return NULL;
	}
	if (as_u32(o[0], "count", 0, &count))
		return NULL;
	if (!heap_enter(h))
		return NULL;
	if (new_parse(h, "new_many", o + 1, &a))
		goto out;
	list = PyList_New(count);
	if (!list || trace_tag(h, &tag))
		goto fail;
	hs = PyMem_Malloc(sizeof(*hs) * OH_BATCH);
	if (tag && count)
		tb = PyMem_Malloc(sizeof(*tb) * OH_BATCH);
	if (!hs || (tag && count && !tb)) {
		PyErr_NoMemory();
		goto fail;
	}
	for (i = 0; i < count; i += k) {
		k = count - i < OH_BATCH ? count - i : OH_BATCH;
		ret = new_batch(h, &a, tag, tb, k, hs);
		if (ret) {
			if (ret < 0)
				obj_error(ret);
			goto fail;
		}
		for (j = 0; j < k; j++) {
			PyObject *p = proxy_new(h, hs[j], a.type, a.flags, a.nslots,
						a.pl.len);

			if (!p) {
				release_many(h, hs + j, k - j);
				goto fail;
			}
			PyList_SET_ITEM(list, i + j, p);
		}
	}
	goto done;
fail:
	Py_CLEAR(list);
done:
	PyMem_Free(tb);
	PyMem_Free(hs);
	new_done(&a);
out:
	heap_leave(h);
	return list;
}

/* Heap.intern(data, type=0, immortal=False) */
static PyObject *heap_intern(HeapObject *h, PyObject *const *args,
			     Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "data", "type", "immortal" };
	PyObject *o[3], *p = NULL;
	struct payload pl;
	uint64_t handle;
	uint32_t type;
	int immortal, ret;

	if (parse_args("intern", args, nargs, kwnames, names, 3, 3, o))
		return NULL;
	if (!o[0]) {
		PyErr_SetString(PyExc_TypeError, "intern() missing argument 'data'");
		return NULL;
	}
	if (as_u32(o[1], "type", 0, &type) || as_bool(o[2], &immortal))
		return NULL;
	if (payload_get(o[0], NULL, &pl))
		return NULL;
	if (!heap_enter(h))
		goto out;
	ret = objheap_intern(h->lib, type, immortal ? OBJHEAP_OBJ_IMMORTAL : 0,
			     pl.data, pl.len, &handle);
	if (ret) {
		oh_error(ret);
	} else {
		struct objheap_info in = {
			.out_type = type,
			.out_flags = OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_INTERNED,
			.out_data_len = pl.len,
		};

		p = adopt(h, handle, &in);
	}
	heap_leave(h);
out:
	payload_put(&pl);
	return p;
}

static PyObject *heap_id(HeapObject *h, PyObject *o)
{
	ProxyObject *p;

	if (!heap_usable(h))
		return NULL;
	p = as_proxy(h, o);
	return p ? PyLong_FromUnsignedLongLong(p->handle) : NULL;
}

/* INFO of proxy @o of heap @h into @in; -1 with an exception. */
static int proxy_info(HeapObject *h, PyObject *o, struct objheap_info *in)
{
	ProxyObject *p;
	int ret;

	if (!heap_usable(h))
		return -1;
	p = as_proxy(h, o);
	if (!p)
		return -1;
	ret = objheap_info(h->lib, p->handle, in);
	if (ret) {
		obj_error(ret);
		return -1;
	}
	return 0;
}

static PyObject *heap_getrefcount(HeapObject *h, PyObject *o)
{
	struct objheap_info in;

	if (proxy_info(h, o, &in))
		return NULL;
	return PyLong_FromUnsignedLong(in.out_refcnt);
}

static PyObject *heap_info(HeapObject *h, PyObject *o)
{
	struct objheap_info in;
	PyObject *r;

	if (proxy_info(h, o, &in))
		return NULL;
	r = PyStructSequence_New(&ObjectInfoType);
	if (!r)
		return NULL;
	PyStructSequence_SET_ITEM(r, 0, PyLong_FromUnsignedLong(in.out_refcnt));
	PyStructSequence_SET_ITEM(r, 1, PyLong_FromUnsignedLong(in.out_user_refs));
	PyStructSequence_SET_ITEM(r, 2, PyLong_FromUnsignedLong(in.out_type));
	PyStructSequence_SET_ITEM(r, 3, PyLong_FromUnsignedLong(in.out_flags));
	PyStructSequence_SET_ITEM(r, 4, PyLong_FromUnsignedLong(in.out_nslots));
	PyStructSequence_SET_ITEM(r, 5, PyLong_FromUnsignedLong(in.out_data_len));
	if (PyErr_Occurred()) {
		Py_DECREF(r);
		return NULL;
	}
	return r;
}

/* Heap.weakref(obj, callback=None) */
static PyObject *heap_weakref(HeapObject *h, PyObject *const *args,
			      Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "obj", "callback" };
	PyObject *o[2], *r = NULL;
	WeakRefObject *w;
	ProxyObject *p;
	uint64_t wr, cookie = 0;
	int ret;

	if (parse_args("weakref", args, nargs, kwnames, names, 2, 2, o))
		return NULL;
	if (!o[0]) {
		PyErr_SetString(PyExc_TypeError, "weakref() missing argument 'obj'");
		return NULL;
	}
	if (o[1] == Py_None)
		o[1] = NULL;
	if (o[1] && !PyCallable_Check(o[1])) {
		PyErr_SetString(PyExc_TypeError, "callback must be callable or None");
		return NULL;
	}
	if (!heap_enter(h))
		return NULL;
	p = as_proxy(h, o[0]);
	if (!p)
		goto out;
	if (p->oflags & OBJHEAP_OBJ_WEAKREF) {
		PyErr_Format(PyExc_TypeError, "cannot create weak reference to '%s' object",
			     Py_TYPE(p)->tp_name);
		goto out;
	}
	if (o[1])
		cookie = h->next_cookie++;
	ret = objheap_weakref_new(h->lib, p->handle, cookie,
				  o[1] ? OBJHEAP_WEAKREF_CALLBACK : 0, &wr);
	if (ret) {
		if (ret == -EINVAL)
			PyErr_Format(PyExc_TypeError,
				     "cannot create weak reference to this object");
		else
			obj_error(ret);
		goto out;
	}
	r = proxy_new(h, wr, 0, OBJHEAP_OBJ_WEAKREF, 0, 0);
	if (!r) {
		objheap_release(h->lib, wr);
		goto out;
	}
	w = (WeakRefObject *)r;
	Py_XINCREF(o[1]);
	w->callback = o[1];
	w->cookie = cookie;
out:
	heap_leave(h);
	return r;
}

/* Heap._finalize_new(obj, cookie): a finalizer, as a WeakRef. */
static PyObject *heap_finalize_new(HeapObject *h, PyObject *const *args,
				   Py_ssize_t nargs)
{
	ProxyObject *p;
	PyObject *r = NULL;
	uint64_t cookie, fin;
	int ret;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "_finalize_new(obj, cookie)");
		return NULL;
	}
	if (as_u64(args[1], "cookie", &cookie) || !heap_enter(h))
		return NULL;
	p = as_proxy(h, args[0]);
	if (!p)
		goto out;
	if (p->oflags & OBJHEAP_OBJ_WEAKREF) {
		PyErr_Format(PyExc_TypeError, "cannot create weak reference to '%s' object",
			     Py_TYPE(p)->tp_name);
		goto out;
	}
	ret = objheap_finalize_new(h->lib, p->handle, cookie, &fin);
	if (ret) {
		obj_error(ret);
		goto out;
	}
	r = proxy_new(h, fin, 0, OBJHEAP_OBJ_WEAKREF | OBJHEAP_OBJ_FINALIZER, 0, 0);
	if (!r)
		objheap_release(h->lib, fin);
out:
	heap_leave(h);
	return r;
}

static PyObject *heap_finalize_detach(HeapObject *h, PyObject *o)
{
	PyObject *r = NULL;
	ProxyObject *p;
	uint64_t target = 0;
	int ret;

	if (!heap_enter(h))
		return NULL;
	p = as_proxy(h, o);
	if (p) {
		ret = objheap_finalize_detach(h->lib, p->handle, &target);
		if (ret < 0)
			obj_error(ret);
		else
			r = adopt(h, ret ? target : 0, NULL);
	}
	heap_leave(h);
	return r;
}

static PyObject *heap_finalize_alive(HeapObject *h, PyObject *o)
{
	ProxyObject *p;
	int ret;

	if (!h->lib || h->closed || h->inherited)
		Py_RETURN_FALSE;
	p = as_proxy(h, o);
	if (!p)
		return NULL;
	ret = objheap_finalize_alive(h->lib, p->handle);
	if (ret < 0)
		return obj_error(ret);
	return PyBool_FromLong(ret);
}

static PyObject *heap_getweakrefcount(HeapObject *h, PyObject *o)
{
	ProxyObject *p;
	int ret;

	if (!heap_usable(h))
		return NULL;
	p = as_proxy(h, o);
	if (!p)
		return NULL;
	ret = objheap_getweakrefcount(h->lib, p->handle);
	if (ret < 0)
		return obj_error(ret);
	return PyLong_FromLong(ret);
}

/* The list commands. */
enum list_kind { L_OBJECTS, L_REFERRERS, L_REFERENTS, L_GARBAGE, L_WEAKREFS };

static int list_call(HeapObject *h, enum list_kind kind, uint64_t handle,
		     uint32_t gen, uint64_t *buf, uint32_t count, uint32_t *n)
{
	switch (kind) {
	case L_OBJECTS:
		return objheap_gc_get_objects(h->lib, gen, buf, count, n);
	case L_REFERRERS:
		return objheap_gc_get_referrers(h->lib, handle, buf, count, n);
	case L_REFERENTS:
		return objheap_gc_get_referents(h->lib, handle, buf, count, n);
	case L_GARBAGE:
		return objheap_gc_get_garbage(h->lib, buf, count, n);
	case L_WEAKREFS:
		return objheap_getweakrefs(h->lib, handle, buf, count, n);
	}
	return -EINVAL;
}

static PyObject *list_of(HeapObject *h, enum list_kind kind, uint64_t handle,
			 uint32_t gen)
{
	uint32_t cap = 64, n = 0;
	uint64_t *buf = NULL;
	PyObject *r;
	int ret;

	for (;;) {
		uint64_t *nb = PyMem_Realloc(buf, sizeof(*buf) * cap);

		if (!nb) {
			PyMem_Free(buf);
			return PyErr_NoMemory();
		}
		buf = nb;
		ret = list_call(h, kind, handle, gen, buf, cap, &n);
		if (ret != -EMSGSIZE)
			break;
		if (n > UINT32_MAX / 2) {
			ret = -ENOMEM;
			break;
		}
		cap = n + n / 8 + 16;
	}
	if (ret) {
		PyMem_Free(buf);
		return obj_error(ret);
	}
	r = adopt_many(h, buf, n);
	PyMem_Free(buf);
	return r;
}

static PyObject *heap_list_proxy(HeapObject *h, PyObject *o, enum list_kind kind)
{
	ProxyObject *p;
	PyObject *r = NULL;

	if (!heap_enter(h))
		return NULL;
	p = as_proxy(h, o);
	if (p)
		r = list_of(h, kind, p->handle, 0);
	heap_leave(h);
	return r;
}

static PyObject *heap_getweakrefs(HeapObject *h, PyObject *o)
{
	return heap_list_proxy(h, o, L_WEAKREFS);
}

static PyObject *heap_gc_get_referrers(HeapObject *h, PyObject *o)
{
	return heap_list_proxy(h, o, L_REFERRERS);
}

static PyObject *heap_gc_get_referents(HeapObject *h, PyObject *o)
{
	return heap_list_proxy(h, o, L_REFERENTS);
}

static PyObject *heap_gc_get_objects(HeapObject *h, PyObject *o)
{
	uint32_t gen;
	PyObject *r;

	if (as_u32(o, "generation", OBJHEAP_GC_ALL_GENERATIONS, &gen))
		return NULL;
	if (!heap_enter(h))
		return NULL;
	r = list_of(h, L_OBJECTS, 0, gen);
	heap_leave(h);
	return r;
}

static PyObject *heap_gc_get_garbage(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	PyObject *r;

	if (!heap_enter(h))
		return NULL;
	r = list_of(h, L_GARBAGE, 0, 0);
	heap_leave(h);
	return r;
}

/* ------------------------------------------------------ the collector */

static PyObject *heap_gc_collect(HeapObject *h, PyObject *o)
{
	struct objheap_gc_collect out;
	uint32_t gen;
	int ret;

	if (as_u32(o, "generation", 2, &gen) || !heap_usable(h))
		return NULL;
	ret = objheap_gc_collect(h->lib, gen, &out);
	if (ret < 0)
		return oh_error(ret);
	return Py_BuildValue("(KKK)", (unsigned long long)out.out_collected,
			     (unsigned long long)out.out_uncollectable,
			     (unsigned long long)out.out_elapsed_ns);
}

enum gc_op {
	GC_ENABLE, GC_DISABLE, GC_ISENABLED, GC_FREEZE, GC_UNFREEZE,
	GC_FREEZE_COUNT, GC_GET_DEBUG, GC_CLEAR_GARBAGE,
};

static PyObject *gc_op(HeapObject *h, enum gc_op op)
{
	int ret = 0;

	if (!heap_usable(h))
		return NULL;
	switch (op) {
	case GC_ENABLE:
		ret = objheap_gc_enable(h->lib);
		break;
	case GC_DISABLE:
		ret = objheap_gc_disable(h->lib);
		break;
	case GC_ISENABLED:
		ret = objheap_gc_isenabled(h->lib);
		return ret < 0 ? oh_error(ret) : PyBool_FromLong(ret);
	case GC_FREEZE:
		ret = objheap_gc_freeze(h->lib);
		break;
	case GC_UNFREEZE:
		ret = objheap_gc_unfreeze(h->lib);
		break;
	case GC_FREEZE_COUNT:
		ret = objheap_gc_get_freeze_count(h->lib);
		return ret < 0 ? oh_error(ret) : PyLong_FromLong(ret);
	case GC_GET_DEBUG:
		ret = objheap_gc_get_debug(h->lib);
		return ret < 0 ? oh_error(ret) : PyLong_FromLong(ret);
	case GC_CLEAR_GARBAGE:
		ret = objheap_gc_clear_garbage(h->lib);
		break;
	}
	if (ret < 0)
		return oh_error(ret);
	Py_RETURN_NONE;
}

#define GC_OP(name, op) \
static PyObject *heap_gc_##name(HeapObject *h, PyObject *Py_UNUSED(ignored)) \
{ \
	return gc_op(h, op); \
}
GC_OP(enable, GC_ENABLE)
GC_OP(disable, GC_DISABLE)
GC_OP(isenabled, GC_ISENABLED)
GC_OP(freeze, GC_FREEZE)
GC_OP(unfreeze, GC_UNFREEZE)
GC_OP(get_freeze_count, GC_FREEZE_COUNT)
GC_OP(get_debug, GC_GET_DEBUG)
GC_OP(clear_garbage, GC_CLEAR_GARBAGE)

static PyObject *heap_gc_set_debug(HeapObject *h, PyObject *o)
{
	uint32_t flags;
	int ret;

	if (as_u32(o, "flags", 0, &flags) || !heap_usable(h))
		return NULL;
	ret = objheap_gc_set_debug(h->lib, flags);
	if (ret < 0)
		return oh_error(ret);
	Py_RETURN_NONE;
}

/* Heap._gc_set_mode(mode, budget). */
static PyObject *heap_gc_set_mode(HeapObject *h, PyObject *const *args,
				  Py_ssize_t nargs)
{
	uint32_t mode, budget;
	int ret;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "_gc_set_mode(mode, budget)");
		return NULL;
	}
	if (as_u32(args[0], "mode", 0, &mode) ||
	    as_u32(args[1], "budget", 0, &budget) || !heap_usable(h))
		return NULL;
	ret = objheap_gc_set_mode(h->lib, mode, budget);
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

/* Heap._gc_get_mode(): OBJHEAP_GC_GET_MODE's figures, as a dict. */
static PyObject *heap_gc_get_mode(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_gc_mode m;
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_gc_get_mode(h->lib, &m);
	if (ret)
		return oh_error(ret);
	return Py_BuildValue("{sksksksKsKsKsK}",
			     "mode", (unsigned long)m.out_mode,
			     "budget", (unsigned long)m.out_budget,
			     "phase", (unsigned long)m.out_phase,
			     "increments", (unsigned long long)m.out_increments,
			     "cycles", (unsigned long long)m.out_cycles,
			     "aborted", (unsigned long long)m.out_aborted,
			     "longest_increment_ns",
			     (unsigned long long)m.out_longest_increment_ns);
}

static PyObject *u32_triple(const uint32_t v[3])
{
	return Py_BuildValue("(kkk)", (unsigned long)v[0], (unsigned long)v[1],
			     (unsigned long)v[2]);
}

static PyObject *heap_gc_get_threshold(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	uint32_t t[OBJHEAP_GC_GENERATIONS];
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_gc_get_threshold(h->lib, t);
	return ret ? oh_error(ret) : u32_triple(t);
}

static PyObject *heap_gc_set_threshold(HeapObject *h, PyObject *const *args,
				       Py_ssize_t nargs)
{
	uint32_t t[OBJHEAP_GC_GENERATIONS];
	int ret;

	if (nargs != 3) {
		PyErr_SetString(PyExc_TypeError, "_gc_set_threshold(t0, t1, t2)");
		return NULL;
	}
	if (as_u32(args[0], "threshold0", 0, &t[0]) ||
	    as_u32(args[1], "threshold1", 0, &t[1]) ||
	    as_u32(args[2], "threshold2", 0, &t[2]) || !heap_usable(h))
		return NULL;
	ret = objheap_gc_set_threshold(h->lib, t);
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

static PyObject *heap_gc_get_count(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	uint32_t c[OBJHEAP_GC_GENERATIONS];
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_gc_get_count(h->lib, c);
	return ret ? oh_error(ret) : u32_triple(c);
}

static PyObject *heap_gc_get_stats(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_gc_gen_stats st[OBJHEAP_GC_GENERATIONS];
	PyObject *list;
	int ret, i;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_gc_get_stats(h->lib, st);
	if (ret)
		return oh_error(ret);
	list = PyList_New(OBJHEAP_GC_GENERATIONS);
	if (!list)
		return NULL;
	for (i = 0; i < OBJHEAP_GC_GENERATIONS; i++) {
		PyObject *d = Py_BuildValue("{sKsKsK}",
			"collections", (unsigned long long)st[i].collections,
			"collected", (unsigned long long)st[i].collected,
			"uncollectable", (unsigned long long)st[i].uncollectable);

		if (!d) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, d);
	}
	return list;
}

static PyObject *heap_gc_is_tracked(HeapObject *h, PyObject *o)
{
	ProxyObject *p;
	int ret;

	if (!heap_usable(h))
		return NULL;
	p = as_proxy(h, o);
	if (!p)
		return NULL;
	ret = objheap_gc_is_tracked(h->lib, p->handle);
	return ret < 0 ? obj_error(ret) : PyBool_FromLong(ret);
}

/* Heap._gc_events(on): OBJHEAP_EVENTS_GC, for GC.callbacks. */
static PyObject *heap_gc_events(HeapObject *h, PyObject *o)
{
	int on = PyObject_IsTrue(o), ret;

	if (on < 0 || !heap_usable(h))
		return NULL;
	ret = objheap_on_gc(h->lib, on ? on_gc : NULL, on ? h : NULL);
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

/* --------------------------------------------------- the heap's state */

static PyObject *heap_stats(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_stats s;
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_stats(h->lib, &s, NULL, 0);
	if (ret)
		return oh_error(ret);
#define F(x) #x, (unsigned long long)s.out_##x
	return Py_BuildValue("{sKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsKsK}",
			     F(limit), F(limit_max), F(bytes_in_use),
			     F(bytes_charged), F(arenas_allocated),
			     F(arenas_reclaimed), F(arenas_highwater),
			     F(arenas_current), F(bytes_allocated_blocks),
			     F(bytes_free_blocks), F(large_objects),
			     F(large_bytes), F(bytes_held), F(bytes_pools_held),
			     F(limit_default), F(user_bytes_held),
			     F(user_limit), F(nr_classes));
#undef F
}

static PyObject *heap_set_limit(HeapObject *h, PyObject *o)
{
	uint64_t limit;
	int ret;

	if (as_u64(o, "limit", &limit) || !heap_usable(h))
		return NULL;
	ret = objheap_set_limit(h->lib, limit);
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

static PyObject *heap_query(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_query q;
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_query(h->lib, 0, &q);
	if (ret)
		return oh_error(ret);
	return Py_BuildValue("{sksKsK}", "version", (unsigned long)q.out_version,
			     "cmds", (unsigned long long)q.out_cmds,
			     "features", (unsigned long long)q.out_features);
}

static PyObject *heap_event_state(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_event_ctl c;
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = objheap_event_ctl(h->lib, 0, 0, &c);
	if (ret)
		return oh_error(ret);
	return Py_BuildValue("{sksKsKsK}", "mask", (unsigned long)c.out_mask,
			     "queued", (unsigned long long)c.out_queued,
			     "lost", (unsigned long long)c.out_lost,
			     "bytes", (unsigned long long)c.out_bytes);
}

/* ------------------------------------------------ tracing allocations */

/* OBJHEAP_TRACE_CTL: @op, then the totals in @c. */
static int trace_ctl(HeapObject *h, uint32_t op, uint32_t sample_every,
		     struct objheap_trace_ctl *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->op = op;
	c->sample_every = sample_every;
	ret = raw_ioctl(h, OBJHEAP_TRACE_CTL, c);
	/* Another attachment may have stopped it: then we tag nothing. */
	if (!ret && !c->out_sample_every && h->tracing) {
		h->tracing = 0;
		h->trace_gen++;
	}
	return ret;
}

/* Heap.trace_start(sample_every=1) */
static PyObject *heap_trace_start(HeapObject *h, PyObject *const *args,
				  Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "sample_every" };
	struct objheap_attach_info in;
	struct objheap_trace_ctl c;
	uint32_t every;
	PyObject *o;
	int ret;

	if (parse_args("trace_start", args, nargs, kwnames, names, 1, 1, &o) ||
	    as_u32(o, "sample_every", 1, &every) || !heap_usable(h))
		return NULL;
	if (!every) {
		PyErr_SetString(PyExc_ValueError,
				"sample_every must be at least 1");
		return NULL;
	}
	ret = objheap_attach_info(h->lib, 0, &in);
	if (!ret)
		ret = trace_ctl(h, OBJHEAP_TRACE_START, every, &c);
	if (ret)
		return oh_error(ret);
	h->tag_base = (uint64_t)in.out_id << 32;
	h->tracing = 1;
	h->trace_gen++;
	Py_RETURN_NONE;
}

/* The ops that return nothing but may fail: stop, reset the peak. */
static PyObject *trace_op(HeapObject *h, uint32_t op)
{
	struct objheap_trace_ctl c;
	int ret;

	if (!heap_usable(h))
		return NULL;
	/* After STOP, trace_ctl() sees the heap untraced and stops tagging. */
	ret = trace_ctl(h, op, 0, &c);
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

static PyObject *heap_trace_stop(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	return trace_op(h, OBJHEAP_TRACE_STOP);
}

static PyObject *heap_reset_peak(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	return trace_op(h, OBJHEAP_TRACE_RESET_PEAK);
}

/* OBJHEAP_TRACE_GET into @c; -1 with an exception. */
static int trace_get(HeapObject *h, struct objheap_trace_ctl *c)
{
	int ret;

	if (!heap_usable(h))
		return -1;
	ret = trace_ctl(h, OBJHEAP_TRACE_GET, 0, c);
	if (ret) {
		oh_error(ret);
		return -1;
	}
	return 0;
}

static PyObject *heap_is_tracing(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_trace_ctl c;

	if (trace_get(h, &c))
		return NULL;
	return PyBool_FromLong(c.out_sample_every != 0);
}

static PyObject *heap_get_traced_memory(HeapObject *h,
					PyObject *Py_UNUSED(ignored))
{
	struct objheap_trace_ctl c;

	if (trace_get(h, &c))
		return NULL;
	return Py_BuildValue("(KK)", (unsigned long long)c.out_traced_bytes,
			     (unsigned long long)c.out_peak_bytes);
}

static PyObject *heap_get_trace_sample_every(HeapObject *h,
					     PyObject *Py_UNUSED(ignored))
{
	struct objheap_trace_ctl c;

	if (trace_get(h, &c))
		return NULL;
	return PyLong_FromUnsignedLong(c.out_sample_every);
}

static PyObject *heap_trace_info(HeapObject *h, PyObject *Py_UNUSED(ignored))
{
	struct objheap_trace_ctl c;

	if (trace_get(h, &c))
		return NULL;
#define F(x) #x, (unsigned long long)c.out_##x
	return Py_BuildValue("{sKsKsKsKsKsK}", F(traced_bytes), F(peak_bytes),
			     F(traced_objects), F(pairs), F(sample_every),
			     F(snapshots));
#undef F
}

/* Heap._trace_snapshot(): a new snapshot's id. */
static PyObject *heap_trace_snapshot(HeapObject *h,
				     PyObject *Py_UNUSED(ignored))
{
	struct objheap_trace_snapshot c = { .size = sizeof(c) };
	int ret;

	if (!heap_usable(h))
		return NULL;
	ret = raw_ioctl(h, OBJHEAP_TRACE_SNAPSHOT, &c);
	if (ret)
		return oh_error(ret);
	return PyLong_FromUnsignedLong(c.out_id);
}

/* Heap._trace_snapshot_drop(id) */
static PyObject *heap_trace_snapshot_drop(HeapObject *h, PyObject *o)
{
	struct objheap_trace_snapshot c = {
		.size = sizeof(c),
		.flags = OBJHEAP_SNAPSHOT_DROP,
	};
	int ret;

	if (as_u32(o, "id", 0, &c.id) || !heap_usable(h))
		return NULL;
	ret = raw_ioctl(h, OBJHEAP_TRACE_SNAPSHOT, &c);
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

/*
 * Heap._trace_rows(snapshot=0, base=0): every row of OBJHEAP_TRACE_ROWS,
 * page after page, as (tag, type, count, bytes, base_count, base_bytes).
 */
static PyObject *heap_trace_rows(HeapObject *h, PyObject *const *args,
				 Py_ssize_t nargs)
{
	struct objheap_trace_row *rows = NULL;
	struct objheap_trace_rows c;
	uint32_t snap = 0, base = 0, start = 0, i;
	PyObject *list = NULL;
	int ret;

	if (nargs > 2) {
		PyErr_SetString(PyExc_TypeError,
				"_trace_rows(snapshot=0, base=0)");
		return NULL;
	}
	if ((nargs > 0 && as_u32(args[0], "snapshot", 0, &snap)) ||
	    (nargs > 1 && as_u32(args[1], "base", 0, &base)) || !heap_usable(h))
		return NULL;
	rows = PyMem_Malloc(sizeof(*rows) * OH_TRACE_ROWS);
	list = rows ? PyList_New(0) : PyErr_NoMemory();
	if (!list)
		goto fail;
	for (;;) {
		memset(&c, 0, sizeof(c));
		c.size = sizeof(c);
		c.snapshot = snap;
		c.base = base;
		c.start = start;
		c.nrows = OH_TRACE_ROWS;
		c.rows_uptr = (uintptr_t)rows;
		ret = raw_ioctl(h, OBJHEAP_TRACE_ROWS, &c);
		if (ret) {
			oh_error(ret);
			goto fail;
		}
		for (i = 0; i < c.out_nrows && i < OH_TRACE_ROWS; i++) {
			const struct objheap_trace_row *r = &rows[i];
			PyObject *t;

			t = Py_BuildValue("(KkKKKK)", (unsigned long long)r->tag,
					  (unsigned long)r->type,
					  (unsigned long long)r->count,
					  (unsigned long long)r->bytes,
					  (unsigned long long)r->base_count,
					  (unsigned long long)r->base_bytes);

			if (!t || PyList_Append(list, t)) {
				Py_XDECREF(t);
				goto fail;
			}
			Py_DECREF(t);
		}
		/* Pairs keep their place: going on from out_next misses none. */
		if (c.out_next >= c.out_pairs || c.out_next <= start)
			break;
		start = c.out_next;
	}
	PyMem_Free(rows);
	return list;
fail:
	PyMem_Free(rows);
	Py_XDECREF(list);
	return NULL;
}

/* Heap._trace_tag(obj): (tag, type) of a traced object, else None. */
static PyObject *heap_trace_tag(HeapObject *h, PyObject *o)
{
	struct objheap_trace_tag c = { .size = sizeof(c) };
	ProxyObject *p;
	int ret;

	if (!heap_usable(h))
		return NULL;
	p = as_proxy(h, o);
	if (!p)
		return NULL;
	c.handle = p->handle;
	ret = raw_ioctl(h, OBJHEAP_TRACE_TAG, &c);
	if (ret)
		return obj_error(ret);
	if (!(c.out_flags & OBJHEAP_TAG_TRACED))
		Py_RETURN_NONE;
	return Py_BuildValue("(Kk)", (unsigned long long)c.out_tag,
			     (unsigned long)c.out_type);
}

static PyObject *heap_get_trace_generation(HeapObject *h, void *Py_UNUSED(c))
{
	return PyLong_FromUnsignedLong(h->trace_gen);
}

static PyObject *heap_get_tag_base(HeapObject *h, void *Py_UNUSED(c))
{
	return PyLong_FromUnsignedLongLong(h->tag_base);
}

/* _objheap._set_package_dir(prefix): frames of files under it are no site. */
static PyObject *mod_set_package_dir(PyObject *Py_UNUSED(m), PyObject *o)
{
	if (!PyUnicode_Check(o)) {
		PyErr_SetString(PyExc_TypeError, "_set_package_dir(str)");
		return NULL;
	}
	Py_INCREF(o);
	Py_XSETREF(package_prefix, o);
	Py_RETURN_NONE;
}

/* ------------------------------------------------------------- sharing */

static PyObject *heap_attach(HeapObject *h, PyObject *o)
{
	uint32_t flags, id;
	int fd, ret;

	if (as_u32(o, "flags", 0, &flags) || !heap_usable(h))
		return NULL;
	ret = objheap_attach(h->lib, flags, &fd, &id);
	if (ret)
		return oh_error(ret);
	return Py_BuildValue("(ik)", fd, (unsigned long)id);
}

static PyObject *heap_attach_info(HeapObject *h, PyObject *const *args,
				  Py_ssize_t nargs)
{
	struct objheap_attach_info in;
	uint32_t id = 0;
	PyObject *r;
	int ret;

	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "attach_info(id=0)");
		return NULL;
	}
	if ((nargs && as_u32(args[0], "id", 0, &id)) || !heap_usable(h))
		return NULL;
	ret = objheap_attach_info(h->lib, id, &in);
	if (ret)
		return oh_error(ret);
	r = PyStructSequence_New(&AttachInfoType);
	if (!r)
		return NULL;
	PyStructSequence_SET_ITEM(r, 0, PyLong_FromUnsignedLong(in.out_id));
	PyStructSequence_SET_ITEM(r, 1, PyLong_FromUnsignedLong(in.out_flags));
	PyStructSequence_SET_ITEM(r, 2, PyLong_FromUnsignedLong(in.out_attached));
	PyStructSequence_SET_ITEM(r, 3, PyLong_FromUnsignedLong(in.out_pid));
	PyStructSequence_SET_ITEM(r, 4, PyLong_FromUnsignedLongLong(in.out_handles));
	PyStructSequence_SET_ITEM(r, 5, PyLong_FromUnsignedLongLong(in.out_refs));
	PyStructSequence_SET_ITEM(r, 6, PyLong_FromUnsignedLongLong(in.out_created));
	if (PyErr_Occurred()) {
		Py_DECREF(r);
		return NULL;
	}
	return r;
}

/* Heap.send(obj, to, cookie=0) */
static PyObject *heap_send(HeapObject *h, PyObject *const *args,
			   Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "obj", "to", "cookie" };
	PyObject *o[3];
	ProxyObject *p;
	uint64_t cookie = 0;
	uint32_t to;
	int ret;

	if (parse_args("send", args, nargs, kwnames, names, 3, 3, o))
		return NULL;
	if (!o[0] || !o[1]) {
		PyErr_SetString(PyExc_TypeError, "send() needs obj and to");
		return NULL;
	}
	if (as_u32(o[1], "to", 0, &to) || (o[2] && as_u64(o[2], "cookie", &cookie)))
		return NULL;
	if (!heap_usable(h))
		return NULL;
	p = as_proxy(h, o[0]);
	if (!p)
		return NULL;
	ret = objheap_send(h->lib, p->handle, to, cookie);
	if (ret)
		return obj_error(ret);
	Py_RETURN_NONE;
}

static PyObject *heap_publish(HeapObject *h, PyObject *const *args,
			      Py_ssize_t nargs)
{
	Py_buffer name;
	ProxyObject *p;
	int ret;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "publish(name, obj)");
		return NULL;
	}
	if (!heap_usable(h))
		return NULL;
	p = as_proxy(h, args[1]);
	if (!p || get_name(args[0], &name))
		return NULL;
	ret = objheap_publish(h->lib, name.buf, (uint32_t)name.len, p->handle);
	PyBuffer_Release(&name);
	if (ret)
		return ret == -EINVAL ? oh_error(ret) : obj_error(ret);
	Py_RETURN_NONE;
}

static PyObject *heap_lookup(HeapObject *h, PyObject *o)
{
	Py_buffer name;
	PyObject *r = NULL;
	uint64_t handle;
	int ret;

	if (!heap_enter(h))
		return NULL;
	if (get_name(o, &name))
		goto out;
	ret = name.len > OBJHEAP_NAME_MAX ? -EINVAL :
	      objheap_lookup(h->lib, name.buf, (uint32_t)name.len, &handle);
	PyBuffer_Release(&name);
	if (ret == -ENOENT)
		PyErr_SetObject(PyExc_KeyError, o);
	else if (ret)
		oh_error(ret);
	else
		r = adopt(h, handle, NULL);
out:
	heap_leave(h);
	return r;
}

static PyObject *heap_unpublish(HeapObject *h, PyObject *o)
{
	Py_buffer name;
	int ret;

	if (!heap_usable(h) || get_name(o, &name))
		return NULL;
	ret = name.len > OBJHEAP_NAME_MAX ? -EINVAL :
	      objheap_unpublish(h->lib, name.buf, (uint32_t)name.len);
	PyBuffer_Release(&name);
	if (ret == -ENOENT) {
		PyErr_SetObject(PyExc_KeyError, o);
		return NULL;
	}
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

/* -------------------------------------------------------------- events */

static void call_unraisable(PyObject *fn, PyObject *args)
{
	PyObject *r = PyObject_Call(fn, args, NULL);

	if (!r)
		PyErr_WriteUnraisable(fn);
	Py_XDECREF(r);
}

static void on_death(struct objheap *lib, const struct objheap_event *ev,
		     void *arg)
{
	HeapObject *h = arg;
	PyObject *key, *fin, *r;

	(void)lib;
	if (ev->type == OBJHEAP_EVENT_WEAKREF) {
		ProxyObject *p = table_get(h, ev->handle);
		WeakRefObject *w;
		PyObject *cb;

		if (!p || Py_TYPE(p) != &WeakRefType)
			return;
		w = (WeakRefObject *)p;
		if (!w->callback || w->cookie != ev->cookie)
			return;
		/* As CPython: the callback is called once, then dropped. */
		cb = w->callback;
		w->callback = NULL;
		Py_INCREF(p);
		r = PyObject_CallOneArg(cb, (PyObject *)p);
		if (!r)
			PyErr_WriteUnraisable(cb);
		Py_XDECREF(r);
		Py_DECREF(cb);
		Py_DECREF(p);
		return;
	}
	/* A finalizer fired: objheap.finalize's registry knows its cookie. */
	if (!h->finalizers)
		return;
	key = PyLong_FromUnsignedLongLong(ev->cookie);
	if (!key) {
		PyErr_WriteUnraisable((PyObject *)h);
		return;
	}
	fin = PyDict_GetItemWithError(h->finalizers, key);
	if (fin) {
		Py_INCREF(fin);
		if (PyDict_DelItem(h->finalizers, key))
			PyErr_Clear();
		r = PyObject_CallMethod(fin, "_fire", NULL);
		if (!r)
			PyErr_WriteUnraisable(fin);
		Py_XDECREF(r);
		Py_DECREF(fin);
	} else if (PyErr_Occurred()) {
		PyErr_WriteUnraisable((PyObject *)h);
	}
	Py_DECREF(key);
}

/* PEP 442: the object comes back with a reference, once. */
static void on_finalize(struct objheap *lib, const struct objheap_event *ev,
			void *arg)
{
	HeapObject *h = arg;
	PyObject *obj, *args;

	if (!h->on_finalize || h->on_finalize == Py_None) {
		objheap_release(lib, ev->handle);
		return;
	}
	obj = adopt(h, ev->handle, NULL);
	if (!obj) {
		PyErr_WriteUnraisable((PyObject *)h);
		return;
	}
	args = PyTuple_Pack(1, obj);
	if (args) {
		PyObject *fn = h->on_finalize;

		Py_INCREF(fn);
		call_unraisable(fn, args);
		Py_DECREF(fn);
		Py_DECREF(args);
	} else {
		PyErr_WriteUnraisable((PyObject *)h);
	}
	Py_DECREF(obj);
}

static void on_gc(struct objheap *lib, const struct objheap_event *ev, void *arg)
{
	HeapObject *h = arg;
	PyObject *cbs, *info, *args;
	Py_ssize_t i;

	(void)lib;
	if (!h->gc_callbacks || !PyList_Check(h->gc_callbacks) ||
	    !PyList_GET_SIZE(h->gc_callbacks))
		return;
	/* As CPython's gc.callbacks: ("start"|"stop", info). */
	info = Py_BuildValue("{sksKsK}", "generation", (unsigned long)ev->generation,
			     "collected", (unsigned long long)ev->collected,
			     "uncollectable", (unsigned long long)ev->uncollectable);
	args = info ? Py_BuildValue("(sO)", ev->type == OBJHEAP_EVENT_GC_START ?
				    "start" : "stop", info) : NULL;
	cbs = args ? PyList_GetSlice(h->gc_callbacks, 0, PY_SSIZE_T_MAX) : NULL;
	if (!cbs) {
		PyErr_WriteUnraisable((PyObject *)h);
	} else {
		for (i = 0; i < PyList_GET_SIZE(cbs); i++)
			call_unraisable(PyList_GET_ITEM(cbs, i), args);
	}
	Py_XDECREF(cbs);
	Py_XDECREF(args);
	Py_XDECREF(info);
}

static void on_received(struct objheap *lib, const struct objheap_event *ev,
			void *arg)
{
	HeapObject *h = arg;
	PyObject *obj, *t;

	(void)lib;
	obj = adopt(h, ev->handle, NULL);
	if (!obj) {
		PyErr_WriteUnraisable((PyObject *)h);
		return;
	}
	t = Py_BuildValue("(OKk)", obj, (unsigned long long)ev->cookie,
			  (unsigned long)ev->generation);
	Py_DECREF(obj);
	if (!t) {
		PyErr_WriteUnraisable((PyObject *)h);
		return;
	}
	if (h->on_received && h->on_received != Py_None) {
		PyObject *fn = h->on_received;

		Py_INCREF(fn);
		call_unraisable(fn, t);
		Py_DECREF(fn);
	} else if (h->received && PyList_Append(h->received, t)) {
		PyErr_WriteUnraisable((PyObject *)h);
	}
	Py_DECREF(t);
}

static void on_detached(struct objheap *lib, const struct objheap_event *ev,
			void *arg)
{
	HeapObject *h = arg;
	PyObject *t, *fn = h->on_detached;

	(void)lib;
	if (!fn || fn == Py_None)
		return;
	t = Py_BuildValue("(kKK)", (unsigned long)ev->generation,
			  (unsigned long long)ev->cookie,
			  (unsigned long long)ev->collected);
	if (!t) {
		PyErr_WriteUnraisable((PyObject *)h);
		return;
	}
	Py_INCREF(fn);
	call_unraisable(fn, t);
	Py_DECREF(fn);
	Py_DECREF(t);
}

static void on_lost(struct objheap *lib, uint64_t lost, void *arg)
{
	HeapObject *h = arg;
	PyObject *t, *fn = h->on_lost;

	(void)lib;
	h->events_lost += lost;
	if (!fn || fn == Py_None)
		return;
	t = Py_BuildValue("(K)", (unsigned long long)lost);
	if (!t) {
		PyErr_WriteUnraisable((PyObject *)h);
		return;
	}
	Py_INCREF(fn);
	call_unraisable(fn, t);
	Py_DECREF(fn);
	Py_DECREF(t);
}

/* Heap.dispatch(max=0): run the callbacks of the pending events. */
static PyObject *heap_dispatch(HeapObject *h, PyObject *const *args,
			       Py_ssize_t nargs)
{
	uint32_t max = 0;
	int ret;

	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "dispatch(max=0)");
		return NULL;
	}
	if (nargs && as_u32(args[0], "max", 0, &max))
		return NULL;
	if (!heap_enter(h))
		return NULL;
	if (h->dispatching) {
		/* A callback's own dispatch(): the outer one goes on. */
		heap_leave(h);
		return PyLong_FromLong(0);
	}
	h->dispatching = 1;
	ret = objheap_dispatch(h->lib, max);
	h->dispatching = 0;
	heap_leave(h);
	if (ret < 0)
		return oh_error(ret);
	return PyLong_FromLong(ret);
}

/* ------------------------------------------------------------- Object */

static int proxy_usable(ProxyObject *p)
{
	if (!p->heap) {
		PyErr_SetString(PyExc_ReferenceError, "the objheap object no longer exists");
		return 0;
	}
	return heap_usable(p->heap);
}

static int proxy_enter(ProxyObject *p)
{
	return proxy_usable(p) && heap_enter(p->heap);
}

/* The slot count and payload size, cached unless the object is resizable. */
static int proxy_sizes(ProxyObject *p, uint32_t *nslots, uint32_t *nbytes)
{
	struct objheap_info in;
	int ret;

	if (!(p->oflags & OBJHEAP_OBJ_RESIZABLE)) {
		*nslots = p->nslots;
		*nbytes = p->nbytes;
		return 0;
	}
	ret = objheap_info(p->heap->lib, p->handle, &in);
	if (ret) {
		obj_error(ret);
		return -1;
	}
	*nslots = in.out_nslots;
	*nbytes = in.out_data_len;
	return 0;
}

static Py_ssize_t proxy_len(ProxyObject *p)
{
	uint32_t n, b;

	if (!proxy_usable(p) || proxy_sizes(p, &n, &b))
		return -1;
	return n;
}

/* A slot index, negative ones from the end, checked where the count is known. */
static int slot_index(ProxyObject *p, PyObject *key, uint32_t *index)
{
	Py_ssize_t i;
	uint32_t n, b;

	if (!PyIndex_Check(key)) {
		PyErr_Format(PyExc_TypeError, "slot indices must be integers, not %.100s",
			     Py_TYPE(key)->tp_name);
		return -1;
	}
	i = PyNumber_AsSsize_t(key, PyExc_IndexError);
	if (i == -1 && PyErr_Occurred())
		return -1;
	if (i < 0 || !(p->oflags & OBJHEAP_OBJ_RESIZABLE)) {
		if (proxy_sizes(p, &n, &b))
			return -1;
		if (i < 0)
			i += n;
		if (i < 0 || i >= (Py_ssize_t)n) {
			PyErr_SetString(PyExc_IndexError, "slot index out of range");
			return -1;
		}
	}
	if (i > (Py_ssize_t)UINT32_MAX) {
		PyErr_SetString(PyExc_IndexError, "slot index out of range");
		return -1;
	}
	*index = (uint32_t)i;
	return 0;
}

static PyObject *proxy_getitem(ProxyObject *p, PyObject *key)
{
	HeapObject *h;
	PyObject *r = NULL;
	uint32_t index;
	int ret;

	if (!proxy_enter(p))
		return NULL;
	h = p->heap;
	if (!slot_index(p, key, &index)) {
		r = fetch(h, p->handle, index, 0, &ret);
		if (!r && ret == -EINVAL)
			PyErr_SetString(PyExc_IndexError, "slot index out of range");
		else if (!r && ret)
			obj_error(ret);
	}
	heap_leave(h);
	return r;
}

static int proxy_setitem(ProxyObject *p, PyObject *key, PyObject *v)
{
	HeapObject *h;
	ProxyObject *t = NULL;
	uint32_t index;
	int ret, r = -1;

	if (!v) {
		PyErr_SetString(PyExc_TypeError,
				"objheap slots cannot be deleted: assign None to empty one");
		return -1;
	}
	if (!proxy_enter(p))
		return -1;
	h = p->heap;
	if (v != Py_None && !(t = as_proxy(h, v)))
		goto out;
	if (slot_index(p, key, &index))
		goto out;
	ret = objheap_set_slot(h->lib, p->handle, index, t ? t->handle : 0);
	if (ret == -EINVAL)
		PyErr_SetString(PyExc_IndexError, "slot index out of range");
	else if (ret)
		obj_error(ret);
	else
		r = 0;
out:
	heap_leave(h);
	return r;
}

static PyObject *proxy_item(ProxyObject *p, Py_ssize_t i)
{
	PyObject *key = PyLong_FromSsize_t(i), *r;

	if (!key)
		return NULL;
	r = proxy_getitem(p, key);
	Py_DECREF(key);
	return r;
}

/* Object.append(obj): one more slot, holding obj (resizable objects). */
static PyObject *proxy_append(ProxyObject *p, PyObject *v)
{
	HeapObject *h;
	ProxyObject *t = NULL;
	uint32_t n, b;
	PyObject *r = NULL;
	int ret;

	if (!proxy_enter(p))
		return NULL;
	h = p->heap;
	if (v != Py_None && !(t = as_proxy(h, v)))
		goto out;
	if (!(p->oflags & OBJHEAP_OBJ_RESIZABLE)) {
		PyErr_SetString(PyExc_TypeError,
				"append() needs an object made with resizable=True");
		goto out;
	}
	if (proxy_sizes(p, &n, &b) || heap_batch(h))
		goto out;
	objheap_batch_resize_slots(h->batch, p->handle, n + 1);
	objheap_batch_set_slot(h->batch, p->handle, n, t ? t->handle : 0);
	ret = objheap_batch_submit(h->lib, h->batch, 0);
	if (ret > 0)
		ret = objheap_batch_result(h->batch, 0) ?: objheap_batch_result(h->batch, 1);
	if (ret) {
		obj_error(ret);
		goto out;
	}
	Py_INCREF(Py_None);
	r = Py_None;
out:
	heap_leave(h);
	return r;
}

/* Object.read(offset=0, size=-1) */
static PyObject *proxy_read(ProxyObject *p, PyObject *const *args,
			    Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "offset", "size" };
	PyObject *o[2], *r = NULL;
	uint32_t off, len, n, b;
	int ret;

	if (parse_args("read", args, nargs, kwnames, names, 2, 2, o) ||
	    as_u32(o[0], "offset", 0, &off))
		return NULL;
	if (!proxy_enter(p))
		return NULL;
	if (proxy_sizes(p, &n, &b))
		goto out;
	if (is_negative(o[1]))
		len = off < b ? b - off : 0;
	else if (as_u32(o[1], "size", off < b ? b - off : 0, &len))
		goto out;
	r = PyBytes_FromStringAndSize(NULL, len);
	if (!r)
		goto out;
	if (len) {
		ret = objheap_read(p->heap->lib, p->handle, off, PyBytes_AS_STRING(r), len);
		if (ret) {
			Py_CLEAR(r);
			obj_error(ret);
		}
	} else if (off > b) {
		Py_CLEAR(r);
		oh_error(-EINVAL);
	}
out:
	heap_leave(p->heap);
	return r;
}

static PyObject *proxy_bytes(ProxyObject *p, PyObject *Py_UNUSED(ignored))
{
	return proxy_read(p, NULL, 0, NULL);
}

/* Object.write(data, offset=0) */
static PyObject *proxy_write(ProxyObject *p, PyObject *const *args,
			     Py_ssize_t nargs, PyObject *kwnames)
{
	static const char *const names[] = { "data", "offset" };
	PyObject *o[2];
	Py_buffer buf;
	uint32_t off;
	int ret;

	if (parse_args("write", args, nargs, kwnames, names, 2, 2, o))
		return NULL;
	if (!o[0]) {
		PyErr_SetString(PyExc_TypeError, "write() missing argument 'data'");
		return NULL;
	}
	if (as_u32(o[1], "offset", 0, &off) || !proxy_usable(p))
		return NULL;
	if (PyObject_GetBuffer(o[0], &buf, PyBUF_SIMPLE))
		return NULL;
	if ((size_t)buf.len > UINT32_MAX)
		ret = -EINVAL;
	else
		ret = objheap_write(p->heap->lib, p->handle, off, buf.buf,
				    (uint32_t)buf.len);
	PyBuffer_Release(&buf);
	if (ret)
		return obj_error(ret);
	return PyLong_FromSsize_t(buf.len);
}

static PyObject *proxy_resize_common(ProxyObject *p, PyObject *o, int slots)
{
	uint32_t n;
	int ret;

	if (as_u32(o, slots ? "nslots" : "size", 0, &n) || !proxy_usable(p))
		return NULL;
	if (!slots && p->exports) {
		PyErr_SetString(PyExc_BufferError,
				"Existing exports of data: object cannot be re-sized");
		return NULL;
	}
	ret = slots ? objheap_resize_slots(p->heap->lib, p->handle, n) :
		      objheap_resize(p->heap->lib, p->handle, n);
	if (ret)
		return obj_error(ret);
	Py_RETURN_NONE;
}

static PyObject *proxy_resize(ProxyObject *p, PyObject *o)
{
	return proxy_resize_common(p, o, 0);
}

static PyObject *proxy_resize_slots(ProxyObject *p, PyObject *o)
{
	return proxy_resize_common(p, o, 1);
}

static PyObject *proxy_seal(ProxyObject *p, PyObject *Py_UNUSED(ignored))
{
	int ret;

	if (!proxy_usable(p))
		return NULL;
	if (p->exports && p->map && !(p->oflags & OBJHEAP_OBJ_IMMUTABLE)) {
		PyErr_SetString(PyExc_BufferError,
				"Existing writable exports of data: object cannot be sealed");
		return NULL;
	}
	ret = objheap_seal(p->heap->lib, p->handle);
	if (ret)
		return obj_error(ret);
	Py_RETURN_NONE;
}

static PyObject *proxy_seal_intern(ProxyObject *p, PyObject *Py_UNUSED(ignored))
{
	HeapObject *h;
	PyObject *r = NULL;
	uint64_t interned;
	int ret;

	if (!proxy_enter(p))
		return NULL;
	h = p->heap;
	ret = objheap_seal_intern(h->lib, p->handle, &interned);
	if (ret)
		obj_error(ret);
	else
		r = adopt(h, interned, NULL);
	heap_leave(h);
	return r;
}

static PyObject *proxy_get_handle(ProxyObject *p, void *Py_UNUSED(c))
{
	return PyLong_FromUnsignedLongLong(p->handle);
}

static PyObject *proxy_get_heap(ProxyObject *p, void *Py_UNUSED(c))
{
	PyObject *h = p->heap ? (PyObject *)p->heap : Py_None;

	Py_INCREF(h);
	return h;
}

static PyObject *proxy_get_type(ProxyObject *p, void *Py_UNUSED(c))
{
	return PyLong_FromUnsignedLong(p->type);
}

static PyObject *proxy_get_flags(ProxyObject *p, void *Py_UNUSED(c))
{
	struct objheap_info in;
	int ret;

	if (!proxy_usable(p))
		return NULL;
	ret = objheap_info(p->heap->lib, p->handle, &in);
	return ret ? obj_error(ret) : PyLong_FromUnsignedLong(in.out_flags);
}

static PyObject *proxy_get_nbytes(ProxyObject *p, void *Py_UNUSED(c))
{
	uint32_t n, b;

	if (!proxy_usable(p) || proxy_sizes(p, &n, &b))
		return NULL;
	return PyLong_FromUnsignedLong(b);
}

static PyObject *proxy_repr(ProxyObject *p)
{
	if (!p->heap || !p->heap->lib || p->heap->closed)
		return PyUnicode_FromFormat("<%s %#llx, heap closed>",
					    Py_TYPE(p)->tp_name,
					    (unsigned long long)p->handle);
	return PyUnicode_FromFormat("<%s %#llx type=%lu>", Py_TYPE(p)->tp_name,
				    (unsigned long long)p->handle,
				    (unsigned long)p->type);
}

/* int(obj) of Heap.int()'s objects. */
static PyObject *proxy_int(ProxyObject *p)
{
	unsigned char b[8];
	long long v = 0;
	int ret, i;

	if (p->type != OH_INT_TYPE || p->nbytes != 8 ||
	    (p->oflags & OBJHEAP_OBJ_RESIZABLE)) {
		PyErr_Format(PyExc_TypeError,
			     "int() needs an object of objheap.INT_TYPE, not type %lu",
			     (unsigned long)p->type);
		return NULL;
	}
	if (!proxy_usable(p))
		return NULL;
	ret = objheap_read(p->heap->lib, p->handle, 0, b, sizeof(b));
	if (ret)
		return obj_error(ret);
	for (i = 7; i >= 0; i--)
		v = (long long)((unsigned long long)v << 8 | b[i]);
	return PyLong_FromLongLong(v);
}

/* The buffer protocol: the mapping of a mappable payload, else a copy. */
static int proxy_getbuffer(ProxyObject *p, Py_buffer *view, int flags)
{
	static char empty[1];
	HeapObject *h;
	size_t len;
	void *addr;
	int ret, ro;

	if (!proxy_usable(p)) {
		view->obj = NULL;
		return -1;
	}
	h = p->heap;
	if (!(p->oflags & OBJHEAP_OBJ_MAPPABLE)) {
		PyObject *copy;

		if (flags & PyBUF_WRITABLE) {
			PyErr_SetString(PyExc_BufferError,
					"only a mappable objheap object gives a writable buffer");
			view->obj = NULL;
			return -1;
		}
		copy = proxy_read(p, NULL, 0, NULL);
		if (!copy) {
			view->obj = NULL;
			return -1;
		}
		if (PyBuffer_FillInfo(view, (PyObject *)p, PyBytes_AS_STRING(copy),
				      PyBytes_GET_SIZE(copy), 1, flags)) {
			Py_DECREF(copy);
			return -1;
		}
		view->internal = copy;
		return 0;
	}
	if (!p->map) {
		ro = 0;
		ret = objheap_map(h->lib, p->handle, PROT_READ | PROT_WRITE, &addr, &len);
		if (ret == -EACCES || ret == -EPERM) {
			ro = 1;
			ret = objheap_map(h->lib, p->handle, PROT_READ, &addr, &len);
		}
		if (ret == -ENXIO) {
			/* An empty payload: nothing to map. */
			return PyBuffer_FillInfo(view, (PyObject *)p, empty, 0, 0, flags);
		}
		if (ret) {
			obj_error(ret);
			view->obj = NULL;
			return -1;
		}
		p->map = addr;
		p->map_len = len;
		p->exports = 0;
		if (ro)
			p->oflags |= OBJHEAP_OBJ_IMMUTABLE;
		else
			p->oflags &= ~OBJHEAP_OBJ_IMMUTABLE;
	}
	ro = !!(p->oflags & OBJHEAP_OBJ_IMMUTABLE);
	if (PyBuffer_FillInfo(view, (PyObject *)p, p->map, (Py_ssize_t)p->map_len,
			      ro, flags)) {
		if (!p->exports) {
			objheap_unmap(p->map, p->map_len);
			p->map = NULL;
		}
		return -1;
	}
	p->exports++;
	return 0;
}

static void proxy_releasebuffer(ProxyObject *p, Py_buffer *view)
{
	if (view->internal) {
		Py_DECREF((PyObject *)view->internal);
		view->internal = NULL;
		return;
	}
	if (!view->len || view->buf != p->map)
		return;
	if (--p->exports == 0) {
		objheap_unmap(p->map, p->map_len);
		p->map = NULL;
	}
}

/* ----------------------------------------------------------- WeakRef */

static PyObject *weakref_call(WeakRefObject *w, PyObject *args, PyObject *kw)
{
	ProxyObject *p = &w->base;
	HeapObject *h;
	PyObject *r;
	int ret;

	if (PyTuple_GET_SIZE(args) || (kw && PyDict_GET_SIZE(kw))) {
		PyErr_SetString(PyExc_TypeError, "a WeakRef is called with no arguments");
		return NULL;
	}
	/* A weak reference of a closed heap is dead, as its target is. */
	if (!p->heap || !p->heap->lib || p->heap->closed || p->heap->inherited)
		Py_RETURN_NONE;
	h = p->heap;
	if (!heap_enter(h))
		return NULL;
	r = fetch(h, p->handle, 0, 1, &ret);
	if (!r && ret)
		obj_error(ret);
	heap_leave(h);
	return r;
}

static int weakref_traverse(WeakRefObject *w, visitproc visit, void *arg)
{
	Py_VISIT(w->callback);
	return 0;
}

static int weakref_clear(WeakRefObject *w)
{
	Py_CLEAR(w->callback);
	return 0;
}

static void weakref_dealloc(WeakRefObject *w)
{
	PyObject_GC_UnTrack(w);
	Py_CLEAR(w->callback);
	proxy_dealloc(&w->base);
}

static PyObject *weakref_get_callback(WeakRefObject *w, void *Py_UNUSED(c))
{
	PyObject *cb = w->callback ? w->callback : Py_None;

	Py_INCREF(cb);
	return cb;
}

/* ------------------------------------------------------ module funcs */

static PyObject *mod_send_fd(PyObject *Py_UNUSED(m), PyObject *const *args,
			     Py_ssize_t nargs)
{
	int sock, fd, ret;

	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "send_fd(sock, fd)");
		return NULL;
	}
	sock = as_fd(args[0]);
	if (sock < 0)
		return NULL;
	fd = as_fd(args[1]);
	if (fd < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	ret = objheap_send_fd(sock, fd);
	Py_END_ALLOW_THREADS
	if (ret)
		return oh_error(ret);
	Py_RETURN_NONE;
}

static PyObject *mod_recv_fd(PyObject *Py_UNUSED(m), PyObject *o)
{
	int sock = as_fd(o), fd, ret;

	if (sock < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	ret = objheap_recv_fd(sock, &fd);
	Py_END_ALLOW_THREADS
	if (ret)
		return oh_error(ret);
	return PyLong_FromLong(fd);
}

/* What a call costs CPython alone, for make bench: nothing at all. */
static PyObject *mod_nop(PyObject *Py_UNUSED(m), PyObject *const *Py_UNUSED(args),
			 Py_ssize_t Py_UNUSED(nargs))
{
	Py_RETURN_NONE;
}

/* ------------------------------------------------------------ tables */

#define FASTCALL(f) (PyCFunction)(void (*)(void))(f)

static PyMethodDef heap_methods[] = {
	{ "close", (PyCFunction)heap_close, METH_NOARGS,
	  "close()\n--\n\nClose the heap: its references go, every proxy of it "
	  "raises ClosedHeapError from now on." },
	{ "fileno", (PyCFunction)heap_fileno, METH_NOARGS,
	  "fileno()\n--\n\nThe heap's file descriptor: readable when events are pending." },
	{ "__enter__", (PyCFunction)heap_enter_ctx, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)heap_exit_ctx, METH_VARARGS, NULL },
	{ "new", FASTCALL(heap_new), METH_FASTCALL | METH_KEYWORDS,
	  "new(nslots=0, data=b'', type=0, *, immutable=False, immortal=False, "
	  "resizable=False, mappable=False, finalize=False, slots=None, size=None)\n--\n\n"
	  "A new object of the heap." },
	{ "new_many", FASTCALL(heap_new_many), METH_FASTCALL | METH_KEYWORDS,
	  "new_many(count, nslots=0, data=b'', type=0, **flags)\n--\n\n"
	  "count new objects alike, made in batches: a list." },
	{ "intern", FASTCALL(heap_intern), METH_FASTCALL | METH_KEYWORDS,
	  "intern(data, type=0, immortal=False)\n--\n\n"
	  "The one immutable object of this type and payload, as sys.intern()." },
	{ "id", (PyCFunction)heap_id, METH_O,
	  "id(obj)\n--\n\nThe object's handle: its identity in this attachment." },
	{ "getrefcount", (PyCFunction)heap_getrefcount, METH_O,
	  "getrefcount(obj)\n--\n\nThe object's reference count in the kernel, as "
	  "sys.getrefcount(); 2**32-1 for an immortal one." },
	{ "info", (PyCFunction)heap_info, METH_O,
	  "info(obj)\n--\n\nOBJHEAP_INFO: an ObjectInfo." },
	{ "weakref", FASTCALL(heap_weakref), METH_FASTCALL | METH_KEYWORDS,
	  "weakref(obj, callback=None)\n--\n\nA weak reference, as weakref.ref()." },
	{ "getweakrefcount", (PyCFunction)heap_getweakrefcount, METH_O,
	  "getweakrefcount(obj)\n--\n\nAs weakref.getweakrefcount()." },
	{ "getweakrefs", (PyCFunction)heap_getweakrefs, METH_O,
	  "getweakrefs(obj)\n--\n\nAs weakref.getweakrefs(): oldest first." },
	{ "dispatch", FASTCALL(heap_dispatch), METH_FASTCALL,
	  "dispatch(max=0)\n--\n\nRun the callbacks of the pending events, without "
	  "waiting; returns how many events were read." },
	{ "stats", (PyCFunction)heap_stats, METH_NOARGS,
	  "stats()\n--\n\nThe allocator's statistics (OBJHEAP_STATS) as a dict." },
	{ "set_limit", (PyCFunction)heap_set_limit, METH_O,
	  "set_limit(nbytes)\n--\n\nThe heap's limit on the bytes it holds." },
	{ "query", (PyCFunction)heap_query, METH_NOARGS,
	  "query()\n--\n\nWhat the running module supports (OBJHEAP_QUERY)." },
	{ "event_state", (PyCFunction)heap_event_state, METH_NOARGS,
	  "event_state()\n--\n\nThe event queue: mask, queued, lost, bytes." },
	{ "attach_info", FASTCALL(heap_attach_info), METH_FASTCALL,
	  "attach_info(id=0)\n--\n\nAn attachment of the heap (0: this one): AttachInfo." },
	{ "send", FASTCALL(heap_send), METH_FASTCALL | METH_KEYWORDS,
	  "send(obj, to, cookie=0)\n--\n\nSend obj to attachment id `to`." },
	{ "publish", FASTCALL(heap_publish), METH_FASTCALL,
	  "publish(name, obj)\n--\n\nThe heap holds obj under name (str or bytes)." },
	{ "lookup", (PyCFunction)heap_lookup, METH_O,
	  "lookup(name)\n--\n\nThe object published under name; KeyError if none." },
	{ "unpublish", (PyCFunction)heap_unpublish, METH_O,
	  "unpublish(name)\n--\n\nDrop the name; KeyError if none." },
	{ "trace_start", FASTCALL(heap_trace_start), METH_FASTCALL | METH_KEYWORDS,
	  "trace_start(sample_every=1)\n--\n\nStart tracing the heap's allocations "
	  "(OBJHEAP_TRACE_CTL), one object in sample_every; objects this Heap makes "
	  "from now on are tagged with the Python line that asked for them." },
	{ "trace_stop", (PyCFunction)heap_trace_stop, METH_NOARGS,
	  "trace_stop()\n--\n\nStop tracing: the counts and every snapshot go." },
	{ "is_tracing", (PyCFunction)heap_is_tracing, METH_NOARGS,
	  "is_tracing()\n--\n\nWhether the heap traces (whoever started it)." },
	{ "get_traced_memory", (PyCFunction)heap_get_traced_memory, METH_NOARGS,
	  "get_traced_memory()\n--\n\n(current, peak): bytes of the traced objects "
	  "alive, and the most since start or reset_peak()." },
	{ "reset_peak", (PyCFunction)heap_reset_peak, METH_NOARGS,
	  "reset_peak()\n--\n\nMake the peak the traced bytes now." },
	{ "get_trace_sample_every", (PyCFunction)heap_get_trace_sample_every,
	  METH_NOARGS,
	  "get_trace_sample_every()\n--\n\nThe sampling period; 0 when not tracing." },
	{ "trace_info", (PyCFunction)heap_trace_info, METH_NOARGS,
	  "trace_info()\n--\n\nOBJHEAP_TRACE_GET as a dict: traced_bytes, "
	  "peak_bytes, traced_objects, pairs, sample_every, snapshots." },
	{ "_trace_snapshot", (PyCFunction)heap_trace_snapshot, METH_NOARGS, NULL },
	{ "_trace_snapshot_drop", (PyCFunction)heap_trace_snapshot_drop, METH_O, NULL },
	{ "_trace_rows", FASTCALL(heap_trace_rows), METH_FASTCALL, NULL },
	{ "_trace_tag", (PyCFunction)heap_trace_tag, METH_O, NULL },
	{ "_attach", (PyCFunction)heap_attach, METH_O, NULL },
	{ "_finalize_new", FASTCALL(heap_finalize_new), METH_FASTCALL, NULL },
	{ "_finalize_detach", (PyCFunction)heap_finalize_detach, METH_O, NULL },
	{ "_finalize_alive", (PyCFunction)heap_finalize_alive, METH_O, NULL },
	{ "_gc_collect", (PyCFunction)heap_gc_collect, METH_O, NULL },
	{ "_gc_enable", (PyCFunction)heap_gc_enable, METH_NOARGS, NULL },
	{ "_gc_disable", (PyCFunction)heap_gc_disable, METH_NOARGS, NULL },
	{ "_gc_isenabled", (PyCFunction)heap_gc_isenabled, METH_NOARGS, NULL },
	{ "_gc_get_threshold", (PyCFunction)heap_gc_get_threshold, METH_NOARGS, NULL },
	{ "_gc_set_threshold", FASTCALL(heap_gc_set_threshold), METH_FASTCALL, NULL },
	{ "_gc_get_count", (PyCFunction)heap_gc_get_count, METH_NOARGS, NULL },
	{ "_gc_get_stats", (PyCFunction)heap_gc_get_stats, METH_NOARGS, NULL },
	{ "_gc_set_mode", FASTCALL(heap_gc_set_mode), METH_FASTCALL, NULL },
	{ "_gc_get_mode", (PyCFunction)heap_gc_get_mode, METH_NOARGS, NULL },
	{ "_gc_freeze", (PyCFunction)heap_gc_freeze, METH_NOARGS, NULL },
	{ "_gc_unfreeze", (PyCFunction)heap_gc_unfreeze, METH_NOARGS, NULL },
	{ "_gc_get_freeze_count", (PyCFunction)heap_gc_get_freeze_count, METH_NOARGS, NULL },
	{ "_gc_get_objects", (PyCFunction)heap_gc_get_objects, METH_O, NULL },
	{ "_gc_get_referrers", (PyCFunction)heap_gc_get_referrers, METH_O, NULL },
	{ "_gc_get_referents", (PyCFunction)heap_gc_get_referents, METH_O, NULL },
	{ "_gc_is_tracked", (PyCFunction)heap_gc_is_tracked, METH_O, NULL },
	{ "_gc_set_debug", (PyCFunction)heap_gc_set_debug, METH_O, NULL },
	{ "_gc_get_debug", (PyCFunction)heap_gc_get_debug, METH_NOARGS, NULL },
	{ "_gc_get_garbage", (PyCFunction)heap_gc_get_garbage, METH_NOARGS, NULL },
	{ "_gc_clear_garbage", (PyCFunction)heap_gc_clear_garbage, METH_NOARGS, NULL },
	{ "_gc_events", (PyCFunction)heap_gc_events, METH_O, NULL },
	{ 0 }
};

static PyMemberDef heap_members[] = {
	{ "on_received", T_OBJECT, offsetof(HeapObject, on_received), 0,
	  "Called as on_received(obj, cookie, sender) for each object sent to "
	  "this attachment; None: they queue in `received`." },
	{ "on_detached", T_OBJECT, offsetof(HeapObject, on_detached), 0,
	  "Called as on_detached(id, pid, refs) when another attachment goes." },
	{ "on_finalize", T_OBJECT, offsetof(HeapObject, on_finalize), 0,
	  "Called as on_finalize(obj) for objects made with finalize=True "
	  "(PEP 442); None: they are given back." },
	{ "on_lost", T_OBJECT, offsetof(HeapObject, on_lost), 0,
	  "Called as on_lost(n) when n events were lost." },
	{ "received", T_OBJECT, offsetof(HeapObject, received), READONLY,
	  "(obj, cookie, sender) of the objects received with no on_received." },
	{ "_gc_callbacks", T_OBJECT, offsetof(HeapObject, gc_callbacks), 0, NULL },
	{ "_finalizers", T_OBJECT, offsetof(HeapObject, finalizers), READONLY, NULL },
	{ "_trace_sites", T_OBJECT, offsetof(HeapObject, sites), READONLY, NULL },
	{ NULL }
};

static PyGetSetDef heap_getset[] = {
	{ "closed", (getter)heap_get_closed, NULL, "True once closed.", NULL },
	{ "events_lost", (getter)heap_get_events_lost, NULL,
	  "Events the queue lost, as reported so far.", NULL },
	{ "_trace_generation", (getter)heap_get_trace_generation, NULL, NULL, NULL },
	{ "_trace_tag_base", (getter)heap_get_tag_base, NULL, NULL, NULL },
	{ NULL }
};

static PyTypeObject HeapType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "objheap._objheap.Heap",
	.tp_basicsize = sizeof(HeapObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "Heap(fd=-1): a heap of /dev/objheap, or the attachment of fd.",
	.tp_new = heap_tp_new,
	.tp_dealloc = (destructor)heap_dealloc,
	.tp_finalize = heap_finalize,
	.tp_traverse = (traverseproc)heap_traverse,
	.tp_clear = (inquiry)heap_clear,
	.tp_repr = (reprfunc)heap_repr,
	.tp_methods = heap_methods,
	.tp_members = heap_members,
	.tp_getset = heap_getset,
	.tp_weaklistoffset = offsetof(HeapObject, weakreflist),
};

static PyMethodDef proxy_methods[] = {
	{ "read", FASTCALL(proxy_read), METH_FASTCALL | METH_KEYWORDS,
	  "read(offset=0, size=-1)\n--\n\nA copy of payload bytes." },
	{ "write", FASTCALL(proxy_write), METH_FASTCALL | METH_KEYWORDS,
	  "write(data, offset=0)\n--\n\nCopy data into the payload." },
	{ "append", (PyCFunction)proxy_append, METH_O,
	  "append(obj)\n--\n\nOne more slot holding obj (resizable objects)." },
	{ "resize", (PyCFunction)proxy_resize, METH_O,
	  "resize(size)\n--\n\nThe payload's new size (resizable objects)." },
	{ "resize_slots", (PyCFunction)proxy_resize_slots, METH_O,
	  "resize_slots(nslots)\n--\n\nThe new slot count (resizable objects)." },
	{ "seal", (PyCFunction)proxy_seal, METH_NOARGS,
	  "seal()\n--\n\nMake the object immutable from now on." },
	{ "seal_intern", (PyCFunction)proxy_seal_intern, METH_NOARGS,
	  "seal_intern()\n--\n\nSeal it and intern it: the interned object." },
	{ "__bytes__", (PyCFunction)proxy_bytes, METH_NOARGS, NULL },
	{ 0 }
};

static PyGetSetDef proxy_getset[] = {
	{ "handle", (getter)proxy_get_handle, NULL, "The handle value.", NULL },
	{ "heap", (getter)proxy_get_heap, NULL, "The heap.", NULL },
	{ "type", (getter)proxy_get_type, NULL, "The type tag.", NULL },
	{ "flags", (getter)proxy_get_flags, NULL, "OBJ_* flags, now.", NULL },
	{ "nbytes", (getter)proxy_get_nbytes, NULL, "The payload's size.", NULL },
	{ NULL }
};

static PySequenceMethods proxy_as_sequence = {
	.sq_length = (lenfunc)proxy_len,
	.sq_item = (ssizeargfunc)proxy_item,
};

static PyMappingMethods proxy_as_mapping = {
	.mp_length = (lenfunc)proxy_len,
	.mp_subscript = (binaryfunc)proxy_getitem,
	.mp_ass_subscript = (objobjargproc)proxy_setitem,
};

static PyNumberMethods proxy_as_number = {
	.nb_int = (unaryfunc)proxy_int,
};

static PyBufferProcs proxy_as_buffer = {
	.bf_getbuffer = (getbufferproc)proxy_getbuffer,
	.bf_releasebuffer = (releasebufferproc)proxy_releasebuffer,
};

static PyTypeObject ObjectType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "objheap.Object",
	.tp_basicsize = sizeof(ProxyObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "An object of a heap: slots by index, the payload as a buffer.",
	.tp_dealloc = (destructor)proxy_dealloc,
	.tp_repr = (reprfunc)proxy_repr,
	.tp_methods = proxy_methods,
	.tp_getset = proxy_getset,
	.tp_as_sequence = &proxy_as_sequence,
	.tp_as_mapping = &proxy_as_mapping,
	.tp_as_number = &proxy_as_number,
	.tp_as_buffer = &proxy_as_buffer,
	.tp_weaklistoffset = offsetof(ProxyObject, weakreflist),
};

static PyGetSetDef weakref_getset[] = {
	{ "__callback__", (getter)weakref_get_callback, NULL,
	  "The callback, until it was called.", NULL },
	{ NULL }
};

static PyTypeObject WeakRefType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "objheap.WeakRef",
	.tp_basicsize = sizeof(WeakRefObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "A weak reference of a heap, as weakref.ref: call it.",
	.tp_base = &ObjectType,
	.tp_dealloc = (destructor)weakref_dealloc,
	.tp_traverse = (traverseproc)weakref_traverse,
	.tp_clear = (inquiry)weakref_clear,
	.tp_call = (ternaryfunc)weakref_call,
	.tp_getset = weakref_getset,
	.tp_free = PyObject_GC_Del,
};

static PyStructSequence_Field objectinfo_fields[] = {
	{ "refcnt", "every reference: handles, slots, names" },
	{ "user_refs", "the references this attachment holds" },
	{ "type", "the type tag" },
	{ "flags", "OBJ_* flags" },
	{ "nslots", "the slot count" },
	{ "nbytes", "the payload's size" },
	{ NULL, NULL }
};

static PyStructSequence_Desc objectinfo_desc = {
	"objheap.ObjectInfo", "What OBJHEAP_INFO reports of an object.",
	objectinfo_fields, 6,
};

static PyStructSequence_Field attachinfo_fields[] = {
	{ "id", "the attachment's id" },
	{ "flags", "ATTACH_* flags" },
	{ "attached", "the heap's attachments" },
	{ "pid", "the pid of the process that made it" },
	{ "handles", "objects it has a handle for" },
	{ "refs", "references it holds through handles" },
	{ "created", "objects it created" },
	{ NULL, NULL }
};

static PyStructSequence_Desc attachinfo_desc = {
	"objheap.AttachInfo", "What OBJHEAP_ATTACH_INFO reports.",
	attachinfo_fields, 7,
};

static PyMethodDef module_methods[] = {
	{ "send_fd", FASTCALL(mod_send_fd), METH_FASTCALL,
	  "send_fd(sock, fd)\n--\n\nSend fd over the unix socket sock (SCM_RIGHTS)." },
	{ "recv_fd", (PyCFunction)mod_recv_fd, METH_O,
	  "recv_fd(sock)\n--\n\nReceive one descriptor send_fd() sent: an int." },
	{ "_after_fork_child", (PyCFunction)mod_after_fork_child, METH_NOARGS, NULL },
	{ "_set_package_dir", (PyCFunction)mod_set_package_dir, METH_O, NULL },
	{ "_nop", FASTCALL(mod_nop), METH_FASTCALL, NULL },
	{ 0 }
};

static struct PyModuleDef objheap_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "objheap._objheap",
	.m_doc = "The C half of objheap: see the objheap package.",
	.m_size = -1,
	.m_methods = module_methods,
};

static int add_int(PyObject *m, const char *name, unsigned long long v)
{
	PyObject *o = PyLong_FromUnsignedLongLong(v);
	int ret;

	if (!o)
		return -1;
	ret = PyModule_AddObject(m, name, o);
	if (ret)
		Py_DECREF(o);
	return ret;
}

static int add_type(PyObject *m, const char *name, PyTypeObject *t)
{
	Py_INCREF(t);
	if (PyModule_AddObject(m, name, (PyObject *)t)) {
		Py_DECREF(t);
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC PyInit__objheap(void)
{
	static const struct { const char *name; unsigned long long v; } ints[] = {
		{ "OBJ_IMMUTABLE", OBJHEAP_OBJ_IMMUTABLE },
		{ "OBJ_IMMORTAL", OBJHEAP_OBJ_IMMORTAL },
		{ "OBJ_INTERNED", OBJHEAP_OBJ_INTERNED },
		{ "OBJ_WEAKREF", OBJHEAP_OBJ_WEAKREF },
		{ "OBJ_FINALIZER", OBJHEAP_OBJ_FINALIZER },
		{ "OBJ_FINALIZE", OBJHEAP_OBJ_FINALIZE },
		{ "OBJ_FINALIZED", OBJHEAP_OBJ_FINALIZED },
		{ "OBJ_RESIZABLE", OBJHEAP_OBJ_RESIZABLE },
		{ "OBJ_MAPPABLE", OBJHEAP_OBJ_MAPPABLE },
		{ "ATTACH_READONLY", OBJHEAP_ATTACH_READONLY },
		{ "MAX_SLOTS", OBJHEAP_MAX_SLOTS },
		{ "MAX_SIZE", OBJHEAP_MAX_SIZE },
		{ "NAME_MAX", OBJHEAP_NAME_MAX },
		{ "REFCNT_IMMORTAL", OBJHEAP_REFCNT_IMMORTAL },
		{ "GC_DEBUG_STATS", OBJHEAP_GC_DEBUG_STATS },
		{ "GC_DEBUG_SAVEALL", OBJHEAP_GC_DEBUG_SAVEALL },
		{ "GC_STOP_THE_WORLD", OBJHEAP_GC_STOP_THE_WORLD },
		{ "GC_INCREMENTAL", OBJHEAP_GC_INCREMENTAL },
		{ "INT_TYPE", OH_INT_TYPE },
		{ "API_VERSION", OBJHEAP_API_VERSION },
		{ "TAG_OTHER", OBJHEAP_TAG_OTHER },
		{ "TRACE_SNAPSHOTS_MAX", OBJHEAP_TRACE_SNAPSHOTS_MAX },
	};
	PyObject *m, *bases;
	unsigned int i;

	if (!ObjectInfoType.tp_name &&
	    PyStructSequence_InitType2(&ObjectInfoType, &objectinfo_desc))
		return NULL;
	if (!AttachInfoType.tp_name &&
	    PyStructSequence_InitType2(&AttachInfoType, &attachinfo_desc))
		return NULL;
	if (PyType_Ready(&HeapType) || PyType_Ready(&ObjectType) ||
	    PyType_Ready(&WeakRefType))
		return NULL;
	m = PyModule_Create(&objheap_module);
	if (!m)
		return NULL;
	ClosedHeapError = PyErr_NewExceptionWithDoc(
		"objheap.ClosedHeapError",
		"The heap was closed (or inherited across fork()): its objects are gone.",
		PyExc_ValueError, NULL);
	bases = PyTuple_Pack(2, PyExc_OSError, PyExc_MemoryError);
	HeapMemoryError = bases ? PyErr_NewExceptionWithDoc(
		"objheap.HeapMemoryError",
		"ENOMEM: the heap's limit, or the user's bound, would be passed.",
		bases, NULL) : NULL;
	Py_XDECREF(bases);
	if (!ClosedHeapError || !HeapMemoryError)
		goto fail;
	Py_INCREF(ClosedHeapError);
	Py_INCREF(HeapMemoryError);
	if (PyModule_AddObject(m, "ClosedHeapError", ClosedHeapError) ||
	    PyModule_AddObject(m, "HeapMemoryError", HeapMemoryError) ||
	    add_type(m, "Heap", &HeapType) || add_type(m, "Object", &ObjectType) ||
	    add_type(m, "WeakRef", &WeakRefType) ||
	    add_type(m, "ObjectInfo", &ObjectInfoType) ||
	    add_type(m, "AttachInfo", &AttachInfoType))
		goto fail;
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (add_int(m, ints[i].name, ints[i].v))
			goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
