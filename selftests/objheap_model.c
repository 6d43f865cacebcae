// SPDX-License-Identifier: GPL-2.0
/*
 * A model-based random tester.  A userspace model of one heap (objects,
 * slots, payloads, flags, the references userspace holds, interning, weak
 * references, finalizers, PEP 442 finalization, the event queue, the
 * collector's generations, thresholds and freezing) runs beside the
 * module.  A seeded generator issues random commands, single or batched,
 * mostly valid and sometimes not; every command's result and outputs are
 * compared with what the model predicts, and after every collection (and
 * every OBJHEAP_MODEL_CHECK_EVERY commands, and at the end) the whole
 * heap is compared: each live object's counts, flags, payload and slots,
 * the weak references' targets, the generations' lists, the collector's
 * counts and statistics, the garbage list, the events queued, and that
 * the handles of dead objects give ENOENT.
 *
 * The model follows the kernel's documented rules, and where the rules
 * leave an order open (which of two dying objects goes first in a
 * cascade), the order of kmod/object.c: a cascade frees objects without
 * slots at once and queues those with slots, in slot order.  Events are
 * compared as a multiset between two checks, since the order of the
 * objects on the collector's lists is not part of the ABI.
 *
 * Environment: OBJHEAP_SEED (first seed; default from the clock),
 * OBJHEAP_SEEDS (seeds to run, each on a new heap), OBJHEAP_OPS
 * (commands per seed), OBJHEAP_VERBOSE=1 (print every command).  A
 * divergence prints its seed and command number and the line to replay
 * it with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"

typedef unsigned long long u64;
typedef long long s64;
typedef unsigned int u32;
typedef unsigned char u8;

/* The model keeps objects small; the kernel's limits are tested elsewhere. */
#define M_MAX_SLOTS	4
#define M_MAX_DATA	48
/* Above this many live objects the generator prefers to let go. */
#define M_LIVE_SOFT	192
#define M_DEAD_RING	64
#define OBJHEAP_MODEL_CHECK_EVERY	1000

enum { GEN_NONE = -1, GEN_PERM = 3, GEN_GARBAGE = 4, GEN_DYING = 5 };

struct mobj {
	u64 handle;
	u32 type, flags, nslots, data_len;
	int slots[M_MAX_SLOTS];
	u8 data[M_MAX_DATA];
	u32 user_refs;	/* 1 forever for an immortal object */
	u32 slot_refs;	/* slots of live objects holding it */
	u32 tmp_refs;	/* the collector's hold while emptying it */
	bool alive, hold, callback, young, unreach;
	int gen;		/* GEN_*, or 0..2 */
	int target;		/* weak reference: its target, or -1 */
	u64 cookie;
	int live_idx;
	s64 gc_refs;
};

struct mev {
	u32 type, reason;
	u64 cookie, handle;
	u32 target_type, generation;
	u64 collected;
};

struct model {
	int fd;
	u64 seed, op, rng;
	bool verbose, failed;

	struct mobj *o;
	int n, cap;
	int *live;
	int nlive;
	/*
	 * Handle -> the object it names, newest first: an open-addressing
	 * table, since handle values are masked and say nothing of the
	 * kernel's table.
	 */
	u64 *hkeys;
	int *hvals;
	u32 hcap, hused;
	u64 dead[M_DEAD_RING];
	unsigned int ndead;

	u32 count[3], th[3];
	u64 ll_pending, ll_total;
	u64 st_coll[3], st_found[3];
	bool enabled, collecting;
	u32 debug, evmask;
	bool collected_this_op;

	struct mev *ev;
	int nev, evcap;

	/* The batch being replayed: handles its entries returned. */
	u64 *bout;
	u32 bcur;
	bool in_batch;

	u64 ops_total, checks, collections;
};

static struct model M;

/* What the runs compared, over all seeds: events by type. */
static u64 events_seen[OBJHEAP_EVENT_GC_STOP + 1];

static void diverge(const char *fmt, ...)
{
	va_list ap;

	if (M.failed)
		return;
	M.failed = true;
	printf("# objheap_model: DIVERGENCE seed %llu command %llu: ",
	       M.seed, M.op);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n# replay: OBJHEAP_SEED=%llu OBJHEAP_SEEDS=1 OBJHEAP_OPS=%llu OBJHEAP_VERBOSE=1 ./objheap_model\n",
	       M.seed, M.op + 1);
	fflush(stdout);
}

#define TRACE(fmt, ...)							\
	do {								\
		if (M.verbose)						\
			printf("# [%llu] " fmt "\n", M.op, ##__VA_ARGS__); \
	} while (0)

static u64 rnd(void)
{
	return splitmix64(&M.rng);
}

static u32 rn(u32 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return rn(100) < percent;
}

static int xioctl(unsigned long req, void *arg)
{
	return ioctl(M.fd, req, arg) ? -errno : 0;
}

/* ---- The model's objects ---- */

static bool m_immortal(const struct mobj *o)
{
	return o->flags & OBJHEAP_OBJ_IMMORTAL;
}

static bool m_is_weakref(const struct mobj *o)
{
	return o->flags & OBJHEAP_OBJ_WEAKREF;
}

static bool m_tracked(const struct mobj *o)
{
	return (o->nslots || m_is_weakref(o)) && !m_immortal(o);
}

static bool m_wants_finalize(const struct mobj *o)
{
	return (o->flags & (OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_FINALIZED)) ==
	       OBJHEAP_OBJ_FINALIZE;
}

static u32 m_refcnt(const struct mobj *o)
{
	return o->user_refs + o->slot_refs + o->tmp_refs + o->hold +
	       (o->gen == GEN_GARBAGE);
}

/* The slot of @handle in the handle table, or the empty slot for it. */
static u32 m_hslot(u64 handle)
{
	u32 i = (u32)(handle * 0x9e3779b97f4a7c15ULL >> 32) & (M.hcap - 1);

	while (M.hkeys[i] && M.hkeys[i] != handle)
		i = (i + 1) & (M.hcap - 1);
	return i;
}

/* The object @handle last named, or -1. */
static int m_hfind(u64 handle)
{
	u32 i;

	if (!M.hcap || !handle)
		return -1;
	i = m_hslot(handle);
	return M.hkeys[i] ? M.hvals[i] : -1;
}

static void m_hput(u64 handle, int id)
{
	u64 *okeys = M.hkeys;
	int *ovals = M.hvals;
	u32 ocap = M.hcap, i;

	if ((M.hused + 1) * 2 > M.hcap) {
		M.hcap = M.hcap ? M.hcap * 2 : 4096;
		M.hkeys = calloc(M.hcap, sizeof(*M.hkeys));
		M.hvals = calloc(M.hcap, sizeof(*M.hvals));
		for (i = 0; i < ocap; i++) {
			if (okeys[i]) {
				u32 j = m_hslot(okeys[i]);

				M.hkeys[j] = okeys[i];
				M.hvals[j] = ovals[i];
			}
		}
		free(okeys);
		free(ovals);
	}
	i = m_hslot(handle);
	if (!M.hkeys[i])
		M.hused++;
	M.hkeys[i] = handle;
	M.hvals[i] = id;
}

static int m_new_obj(u64 handle)
{
	struct mobj *o;
	int id, i, old;

	if (M.n == M.cap) {
		M.cap = M.cap ? M.cap * 2 : 1024;
		M.o = realloc(M.o, M.cap * sizeof(*M.o));
		M.live = realloc(M.live, M.cap * sizeof(*M.live));
	}
	if (!handle || (handle & OBJHEAP_HANDLE_BATCH_BIT))
		diverge("the kernel returned handle %#llx", handle);
	old = m_hfind(handle);
	if (old >= 0)
		diverge("handle %#llx, once object %d's (%s), came back for a new object",
			handle, old, M.o[old].alive ? "alive" : "dead");
	id = M.n++;
	o = &M.o[id];
	memset(o, 0, sizeof(*o));
	o->handle = handle;
	o->alive = true;
	o->user_refs = 1;
	o->gen = GEN_NONE;
	o->target = -1;
	for (i = 0; i < M_MAX_SLOTS; i++)
		o->slots[i] = -1;
	o->live_idx = M.nlive;
	M.live[M.nlive++] = id;
	m_hput(handle, id);
	return id;
}

static void m_track(struct mobj *o)
{
	if (m_tracked(o)) {
		o->gen = 0;
		M.count[0]++;
	}
}

/* Resolve a handle exactly as oh_lookup() does: 0, -EINVAL or -ENOENT. */
static int m_get(u64 handle, int *id)
{
	int k;

	if (handle & OBJHEAP_HANDLE_BATCH_BIT) {
		u64 i = handle & ~OBJHEAP_HANDLE_BATCH_BIT;

		if (!M.in_batch || i >= M.bcur || !M.bout[i])
			return -EINVAL;
		handle = M.bout[i];
	}
	k = m_hfind(handle);
	if (k < 0 || !M.o[k].alive)
		return -ENOENT;
	*id = k;
	return 0;
}

static void m_event(u32 type, const struct mobj *w, const struct mobj *t)
{
	struct mev *e;

	if (M.nev == M.evcap) {
		M.evcap = M.evcap ? M.evcap * 2 : 256;
		M.ev = realloc(M.ev, M.evcap * sizeof(*M.ev));
	}
	e = &M.ev[M.nev++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	if (type == OBJHEAP_EVENT_GC_START || type == OBJHEAP_EVENT_GC_STOP)
		return;
	e->reason = M.collecting ? OBJHEAP_REASON_GC : OBJHEAP_REASON_REFCOUNT;
	e->target_type = t->type;
	if (w) {
		e->cookie = w->cookie;
		e->handle = w->handle;
	} else {
		e->handle = t->handle;
	}
}

static void m_unref_check(int id);

/* PEP 442: hand @id out once, with a new reference. */
static bool m_finalize(int id)
{
	struct mobj *o = &M.o[id];

	if (!m_wants_finalize(o))
		return false;
	o->flags |= OBJHEAP_OBJ_FINALIZED;
	m_event(OBJHEAP_EVENT_FINALIZE, NULL, o);
	o->user_refs++;
	return true;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The live weak references to @t, oldest first; returns how many. */
static int m_weakrefs_of(int t, int *out, int max)
{
	int i, n = 0;

	for (i = 0; i < M.nlive; i++) {
		struct mobj *w = &M.o[M.live[i]];

		if (m_is_weakref(w) && w->target == t && n < max)
			out[n++] = M.live[i];
	}
	qsort(out, n, sizeof(int), cmp_int);
	return n;
}

/* oh_weak_clear(): @t dies; clear its weak references, fire them. */
static void m_weak_clear(int t)
{
	int *ws = malloc((M.nlive + 1) * sizeof(int)), n, i;

	n = m_weakrefs_of(t, ws, M.nlive + 1);
	for (i = 0; i < n; i++) {
		struct mobj *w = &M.o[ws[i]];

		w->target = -1;
		if (w->flags & OBJHEAP_OBJ_FINALIZER) {
			m_event(OBJHEAP_EVENT_FINALIZER, w, &M.o[t]);
			w->hold = false;
			m_unref_check(ws[i]);
		} else if (w->callback && !w->unreach) {
			m_event(OBJHEAP_EVENT_WEAKREF, w, &M.o[t]);
		}
	}
	free(ws);
}

static void m_free_obj(int id)
{
	struct mobj *o = &M.o[id];
	int last;

	m_weak_clear(id);
	if (m_is_weakref(o))
		o->target = -1;
	if (!(o->flags & OBJHEAP_OBJ_INTERNED) && m_tracked(o) && M.count[0])
		M.count[0]--;
	o->alive = false;
	o->gen = GEN_NONE;
	last = M.live[--M.nlive];
	M.live[o->live_idx] = last;
	M.o[last].live_idx = o->live_idx;
	M.dead[M.ndead++ % M_DEAD_RING] = o->handle;
}

/* oh_dealloc(): the same order, so that the same weak references fire. */
static void m_dealloc(int id)
{
	int *q, head = 0, tail = 0, i;

	if (!m_tracked(&M.o[id])) {
		m_free_obj(id);
		return;
	}
	q = malloc((M.nlive + 1) * sizeof(int));
	M.o[id].gen = GEN_DYING;
	q[tail++] = id;
	while (head < tail) {
		struct mobj *o = &M.o[q[head++]];

		for (i = 0; i < (int)o->nslots; i++) {
			int c = o->slots[i];
			struct mobj *co;

			if (c < 0)
				continue;
			co = &M.o[c];
			if (m_immortal(co))
				continue;
			co->slot_refs--;
			if (m_refcnt(co) || (m_wants_finalize(co) && m_finalize(c)))
				continue;
			if (m_tracked(co)) {
				co->gen = GEN_DYING;
				q[tail++] = c;
			} else {
				m_free_obj(c);
			}
		}
		m_free_obj(o - M.o);
	}
	free(q);
}

static void m_unref_check(int id)
{
	struct mobj *o = &M.o[id];

	if (m_immortal(o) || m_refcnt(o))
		return;
	if (m_wants_finalize(o) && m_finalize(id))
		return;
	m_dealloc(id);
}

static void m_ref_user(int id)
{
	if (!m_immortal(&M.o[id]))
		M.o[id].user_refs++;
}

/* ---- The collector ---- */

static void m_collect(u32 g, u64 *found_out)
{
	int *ys, *u, ny = 0, nu = 0, i, j, k, *stack, sp = 0;
	int old = g + 1 < 3 ? (int)g + 1 : 2;
	u64 survivors = 0;
	bool handed = false;

	M.collected_this_op = true;
	M.collections++;
	M.collecting = true;
	if (M.evmask & OBJHEAP_EVENTS_GC) {
		m_event(OBJHEAP_EVENT_GC_START, NULL, NULL);
		M.ev[M.nev - 1].generation = g;
	}
	if (g + 1 < 3)
		M.count[g + 1]++;
	for (i = 0; i <= (int)g; i++)
		M.count[i] = 0;

	ys = malloc((M.nlive + 1) * sizeof(int));
	u = malloc((M.nlive + 1) * sizeof(int));
	stack = malloc((M.nlive * (M_MAX_SLOTS + 1) + 1) * sizeof(int));
	for (i = 0; i < M.nlive; i++) {
		struct mobj *o = &M.o[M.live[i]];

		if (o->gen >= 0 && o->gen <= (int)g) {
			o->young = true;
			o->gc_refs = m_refcnt(o);
			ys[ny++] = M.live[i];
		}
	}
	for (i = 0; i < ny; i++) {
		struct mobj *o = &M.o[ys[i]];

		for (j = 0; j < (int)o->nslots; j++)
			if (o->slots[j] >= 0 && M.o[o->slots[j]].young)
				M.o[o->slots[j]].gc_refs--;
	}
	/* Reachable: referred to from outside, or from something reachable. */
	for (i = 0; i < ny; i++) {
		M.o[ys[i]].unreach = true;
		if (M.o[ys[i]].gc_refs < 0)
			diverge("model: negative gc_refs");
	}
	for (i = 0; i < ny; i++)
		if (M.o[ys[i]].gc_refs > 0) {
			M.o[ys[i]].unreach = false;
			stack[sp++] = ys[i];
		}
	while (sp) {
		struct mobj *o = &M.o[stack[--sp]];

		for (j = 0; j < (int)o->nslots; j++) {
			k = o->slots[j];
			if (k >= 0 && M.o[k].young && M.o[k].unreach) {
				M.o[k].unreach = false;
				stack[sp++] = k;
			}
		}
	}
	for (i = 0; i < ny; i++) {
		struct mobj *o = &M.o[ys[i]];

		if (o->unreach) {
			u[nu++] = ys[i];
		} else {
			o->gen = old;
			o->young = false;
			survivors++;
		}
	}
	if ((int)g < 2) {
		if (g == 1)
			M.ll_pending += survivors;
	} else {
		M.ll_pending = 0;
		M.ll_total = survivors;
	}

	/*
	 * Weak references that are garbage themselves are cleared, silently,
	 * before any weak reference to the garbage (bpo-38006); they stay
	 * cleared if PEP 442 keeps the set alive.
	 */
	for (i = 0; i < nu; i++)
		if (m_is_weakref(&M.o[u[i]]))
			M.o[u[i]].target = -1;
	for (i = 0; i < nu; i++)
		m_weak_clear(u[i]);
	for (i = 0; i < nu; i++)
		if (m_finalize(u[i]))
			handed = true;
	if (handed) {
		for (i = 0; i < nu; i++) {
			M.o[u[i]].unreach = M.o[u[i]].young = false;
			M.o[u[i]].gen = old;
		}
	} else if (M.debug & OBJHEAP_GC_DEBUG_SAVEALL) {
		for (i = 0; i < nu; i++) {
			M.o[u[i]].unreach = M.o[u[i]].young = false;
			M.o[u[i]].gen = GEN_GARBAGE;
		}
	} else {
		for (i = 0; i < nu; i++) {
			struct mobj *o = &M.o[u[i]];

			if (!o->alive)
				continue;	/* freed by an earlier one */
			o->unreach = o->young = false;
			o->gen = GEN_NONE;
			o->tmp_refs++;
			for (j = 0; j < (int)o->nslots; j++) {
				k = o->slots[j];
				if (k < 0)
					continue;
				o->slots[j] = -1;
				M.o[k].slot_refs--;
				m_unref_check(k);
			}
			o->tmp_refs--;
			/*
			 * Still held by an unreachable object not yet
			 * emptied: that one frees it when it is.
			 */
			if (m_refcnt(o))
				o->gen = GEN_DYING;
			else
				m_free_obj(u[i]);
		}
		for (i = 0; i < nu; i++) {
			if (M.o[u[i]].alive) {
				diverge("model: unreachable object %#llx outlived its collection",
					M.o[u[i]].handle);
				M.o[u[i]].gen = 2;
			}
		}
	}
	/*
	 * A set kept alive for PEP 442 finalization is not collected (as in
	 * CPython): the collection that later frees it counts it.
	 */
	if (handed)
		nu = 0;
	M.st_coll[g]++;
	M.st_found[g] += nu;
	if (M.evmask & OBJHEAP_EVENTS_GC) {
		m_event(OBJHEAP_EVENT_GC_STOP, NULL, NULL);
		M.ev[M.nev - 1].generation = g;
		M.ev[M.nev - 1].collected = nu;
	}
	M.collecting = false;
	if (found_out)
		*found_out = nu;
	free(ys);
	free(u);
	free(stack);
}

static void m_maybe_collect(void)
{
	int i;

	if (!M.enabled || M.collecting || !M.th[0] || M.count[0] <= M.th[0])
		return;
	for (i = 2; i >= 0; i--) {
		if (M.count[i] <= M.th[i])
			continue;
		if (i == 2 && M.ll_pending < M.ll_total / 4)
			continue;
		m_collect(i, NULL);
		return;
	}
}

/* ---- The batchable commands, predicted ---- */

/*
 * Each takes the structure as it was submitted (@c) and as the kernel
 * left it (@k), applies the command to the model and returns the result
 * the kernel should have given; outputs are compared here.
 */
static int m_cmd_new(struct objheap_new *c, struct objheap_new *k)
{
	int ids[M_MAX_SLOTS], ret, id, i;
	const u64 *hs = (const u64 *)(uintptr_t)c->slots_uptr;
	struct mobj *o;

	if (c->__reserved || c->nslots > OBJHEAP_MAX_SLOTS ||
	    c->data_len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	for (i = 0; hs && i < (int)c->nslots; i++) {
		ids[i] = -1;
		ret = hs[i] ? m_get(hs[i], &ids[i]) : 0;
		if (ret)
			return ret;
	}
	if (M.failed)
		return 0;
	id = m_new_obj(k->out_handle);
	o = &M.o[id];
	o->type = c->type;
	o->flags = c->flags;
	o->nslots = c->nslots;
	o->data_len = c->data_len;
	if (c->data_uptr)
		memcpy(o->data, (void *)(uintptr_t)c->data_uptr, c->data_len);
	for (i = 0; hs && i < (int)c->nslots; i++) {
		o->slots[i] = ids[i];
		if (ids[i] >= 0)
			M.o[ids[i]].slot_refs++;
	}
	m_track(o);
	if (m_tracked(o))
		m_maybe_collect();
	return 0;
}

static int m_cmd_dup(struct objheap_handle_cmd *c, struct objheap_handle_cmd *k)
{
	int id, ret = m_get(c->handle, &id);

	if (ret)
		return ret;
	m_ref_user(id);
	if (k->out_handle != M.o[id].handle)
		diverge("DUP returned %#llx, not %#llx", k->out_handle,
			M.o[id].handle);
	return 0;
}

static int m_cmd_release(struct objheap_handle_cmd *c)
{
	int id, ret = m_get(c->handle, &id);

	if (ret)
		return ret;
	if (m_immortal(&M.o[id]))
		return 0;
	if (!M.o[id].user_refs)
		return -EINVAL;
	M.o[id].user_refs--;
	m_unref_check(id);
	return 0;
}

static int m_slot_owner(struct objheap_slot *c, int *id)
{
	int ret;

	if (c->__reserved)
		return -EINVAL;
	ret = m_get(c->handle, id);
	if (ret)
		return ret;
	return c->index >= M.o[*id].nslots ? -EINVAL : 0;
}

static int m_cmd_set_slot(struct objheap_slot *c)
{
	int id, t = -1, old, ret = m_slot_owner(c, &id);

	if (ret)
		return ret;
	if (M.o[id].flags & OBJHEAP_OBJ_IMMUTABLE)
		return -EPERM;
	ret = c->target ? m_get(c->target, &t) : 0;
	if (ret)
		return ret;
	if (t >= 0)
		M.o[t].slot_refs++;
	old = M.o[id].slots[c->index];
	M.o[id].slots[c->index] = t;
	if (old >= 0) {
		M.o[old].slot_refs--;
		m_unref_check(old);
	}
	return 0;
}

static int m_cmd_get_slot(struct objheap_slot *c, struct objheap_slot *k)
{
	int id, t, ret;

	if (c->target)
		return -EINVAL;
	ret = m_slot_owner(c, &id);
	if (ret)
		return ret;
	t = M.o[id].slots[c->index];
	if (t >= 0)
		m_ref_user(t);
	if (k->out_handle != (t >= 0 ? M.o[t].handle : 0))
		diverge("GET_SLOT %#llx[%u] gave %#llx, not %#llx",
			M.o[id].handle, c->index, k->out_handle,
			t >= 0 ? M.o[t].handle : 0);
	return 0;
}

static int m_rw_range(struct objheap_rw *c, int *id)
{
	int ret = m_get(c->handle, id);
	u64 len;

	if (ret)
		return ret;
	len = m_is_weakref(&M.o[*id]) ? 0 : M.o[*id].data_len;
	return (u64)c->offset + c->len > len ? -EINVAL : 0;
}

static int m_cmd_read(struct objheap_rw *c)
{
	int id, ret = m_rw_range(c, &id);

	if (ret)
		return ret;
	if (memcmp((void *)(uintptr_t)c->buf_uptr, M.o[id].data + c->offset, c->len))
		diverge("READ of %#llx [%u, +%u) differs from the model",
			M.o[id].handle, c->offset, c->len);
	return 0;
}

static int m_cmd_write(struct objheap_rw *c)
{
	int id, ret = m_rw_range(c, &id);

	if (ret)
		return ret;
	if (M.o[id].flags & OBJHEAP_OBJ_IMMUTABLE)
		return -EPERM;
	memcpy(M.o[id].data + c->offset, (void *)(uintptr_t)c->buf_uptr, c->len);
	return 0;
}

static void m_check_info(int id, const struct objheap_info *k)
{
	const struct mobj *o = &M.o[id];
	u32 refcnt = m_immortal(o) ? OBJHEAP_REFCNT_IMMORTAL : m_refcnt(o);

	if (k->out_refcnt != refcnt || k->out_user_refs != o->user_refs ||
	    k->out_type != o->type || k->out_flags != o->flags ||
	    k->out_nslots != o->nslots ||
	    k->out_data_len != (m_is_weakref(o) ? 0 : o->data_len))
		diverge("INFO %#llx: refcnt %u user %u type %u flags %#x nslots %u len %u; model: %u %u %u %#x %u %u",
			o->handle, k->out_refcnt, k->out_user_refs, k->out_type,
			k->out_flags, k->out_nslots, k->out_data_len, refcnt,
			o->user_refs, o->type, o->flags, o->nslots,
			m_is_weakref(o) ? 0 : o->data_len);
}

static int m_cmd_info(struct objheap_info *c, struct objheap_info *k)
{
	int id, ret = m_get(c->handle, &id);

	if (ret)
		return ret;
	m_check_info(id, k);
	return 0;
}

static int m_cmd_intern(struct objheap_intern *c, struct objheap_intern *k)
{
	const void *data = (const void *)(uintptr_t)c->data_uptr;
	int i, id;
	struct mobj *o;

	if (c->data_len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	for (i = 0; i < M.nlive; i++) {
		o = &M.o[M.live[i]];
		if ((o->flags & OBJHEAP_OBJ_INTERNED) && o->type == c->type &&
		    o->data_len == c->data_len && !memcmp(o->data, data, c->data_len)) {
			m_ref_user(M.live[i]);
			if (k->out_handle != o->handle)
				diverge("INTERN gave %#llx, not the interned %#llx",
					k->out_handle, o->handle);
			return 0;
		}
	}
	id = m_new_obj(k->out_handle);
	o = &M.o[id];
	o->type = c->type;
	o->flags = c->flags | OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_INTERNED;
	o->data_len = c->data_len;
	memcpy(o->data, data, c->data_len);
	return 0;
}

static int m_cmd_weakref_new(struct objheap_weakref *c, struct objheap_weakref *k)
{
	int t, id, ret;
	struct mobj *w;

	if (c->__reserved)
		return -EINVAL;
	ret = m_get(c->handle, &t);
	if (ret)
		return ret;
	if (m_is_weakref(&M.o[t]))
		return -EINVAL;
	id = m_new_obj(k->out_handle);
	w = &M.o[id];
	w->flags = OBJHEAP_OBJ_WEAKREF;
	if (c->flags & OBJHEAP_WEAKREF_FINALIZER) {
		w->flags |= OBJHEAP_OBJ_FINALIZER;
		w->hold = true;
	}
	w->callback = c->flags & OBJHEAP_WEAKREF_CALLBACK;
	w->cookie = c->cookie;
	w->target = t;
	m_track(w);
	m_maybe_collect();
	return 0;
}

static int m_get_weakref(struct objheap_weakref *c, bool finalizer, int *id)
{
	int ret;

	if (c->__reserved || c->cookie)
		return -EINVAL;
	ret = m_get(c->handle, id);
	if (ret)
		return ret;
	if (!m_is_weakref(&M.o[*id]) ||
	    (finalizer && !(M.o[*id].flags & OBJHEAP_OBJ_FINALIZER)))
		return -EINVAL;
	return 0;
}

static void m_check_target(int w, struct objheap_weakref *k, bool handle)
{
	int t = M.o[w].target;

	if (k->out_alive != (t >= 0) ||
	    (handle && k->out_handle != (t >= 0 ? M.o[t].handle : 0)))
		diverge("weak reference %#llx: alive %u handle %#llx; model %d %#llx",
			M.o[w].handle, k->out_alive, k->out_handle, t >= 0,
			t >= 0 ? M.o[t].handle : 0);
}

static int m_cmd_weakref_get(struct objheap_weakref *c, struct objheap_weakref *k)
{
	int w, ret = m_get_weakref(c, false, &w);

	if (ret)
		return ret;
	m_check_target(w, k, true);
	if (M.o[w].target >= 0)
		m_ref_user(M.o[w].target);
	return 0;
}

/* Run one batchable (or not) command through the model. */
static int m_exec(u32 nr, void *c, void *k)
{
	switch (nr) {
	case OBJHEAP_CMD_NEW:
		return m_cmd_new(c, k);
	case OBJHEAP_CMD_DUP:
		return m_cmd_dup(c, k);
	case OBJHEAP_CMD_RELEASE:
		return m_cmd_release(c);
	case OBJHEAP_CMD_SET_SLOT:
		return m_cmd_set_slot(c);
	case OBJHEAP_CMD_GET_SLOT:
		return m_cmd_get_slot(c, k);
	case OBJHEAP_CMD_READ:
		return m_cmd_read(k);
	case OBJHEAP_CMD_WRITE:
		return m_cmd_write(c);
	case OBJHEAP_CMD_INFO:
		return m_cmd_info(c, k);
	case OBJHEAP_CMD_INTERN:
		return m_cmd_intern(c, k);
	case OBJHEAP_CMD_WEAKREF_NEW:
		return m_cmd_weakref_new(c, k);
	case OBJHEAP_CMD_WEAKREF_GET:
		return m_cmd_weakref_get(c, k);
	}
	diverge("model: command %#x is not batchable", nr);
	return -EINVAL;
}

static const char *cmd_name(u32 nr)
{
	static const char *const names[] = {
		"QUERY", "STATS", "SET_LIMIT", "NEW", "DUP", "RELEASE",
		"SET_SLOT", "GET_SLOT", "READ", "WRITE", "INFO", "INTERN",
		"BATCH", "GC_COLLECT", "GC_ENABLE", "GC_DISABLE",
		"GC_ISENABLED", "GC_GET_THRESHOLD", "GC_SET_THRESHOLD",
		"GC_GET_COUNT", "GC_GET_STATS", "GC_FREEZE", "GC_UNFREEZE",
		"GC_GET_FREEZE_COUNT", "GC_GET_OBJECTS", "GC_GET_REFERRERS",
		"GC_GET_REFERENTS", "GC_IS_TRACKED", "GC_SET_DEBUG",
		"GC_GET_DEBUG", "GC_GET_GARBAGE", "GC_CLEAR_GARBAGE",
		"WEAKREF_NEW", "WEAKREF_GET", "WEAKREF_COUNT", "WEAKREF_LIST",
		"FINALIZE_DETACH", "FINALIZE_ALIVE", "EVENT_CTL",
	};

	nr -= OBJHEAP_CMD_BASE;
	return nr < ARRAY_SIZE(names) ? names[nr] : "?";
}

/* ---- Batches ---- */

#define BATCH_BUF	(256 * 1024)

struct batch {
	u8 buf[BATCH_BUF];
	u8 orig[BATCH_BUF];
	u32 off[OBJHEAP_BATCH_MAX_COUNT];
	u32 len, count;
};

static struct batch B;

static void batch_reset(struct batch *b)
{
	b->len = 0;
	b->count = 0;
}

static void *batch_add(struct batch *b, u32 nr, u32 size)
{
	struct objheap_batch_entry *e;
	u32 start = (b->len + 7) & ~7U;

	if (b->count == OBJHEAP_BATCH_MAX_COUNT ||
	    start + sizeof(*e) + size > BATCH_BUF)
		return NULL;
	memset(b->buf + b->len, 0, start - b->len);
	e = (void *)(b->buf + start);
	e->cmd = nr;
	e->out_result = 0x5a5a5a5a;
	memset(e + 1, 0, size);
	*(u32 *)(e + 1) = size;
	b->off[b->count++] = start;
	b->len = start + sizeof(*e) + size;
	return e + 1;
}

static struct objheap_batch_entry *batch_entry(struct batch *b, u8 *buf,
					       u32 i)
{
	return (void *)(buf + b->off[i]);
}

static int batch_submit(struct batch *b, u32 flags, struct objheap_batch *cmd)
{
	*cmd = (struct objheap_batch){
		.size = sizeof(*cmd),
		.flags = flags,
		.count = b->count,
		.len = b->len,
		.buf_uptr = (uintptr_t)b->buf,
	};
	memcpy(b->orig, b->buf, b->len);
	return xioctl(OBJHEAP_BATCH, cmd);
}

/*
 * Replay a batch the kernel ran through the model, entry by entry, with
 * the kernel's own out_handles for the objects it created.
 */
static void m_batch(struct batch *b, u32 flags, struct objheap_batch *k, int kret)
{
	u64 bout[OBJHEAP_BATCH_MAX_COUNT];
	u32 i, done = 0, failed = 0;

	if (kret) {
		diverge("BATCH of %u entries failed: %d", b->count, kret);
		return;
	}
	M.in_batch = true;
	M.bout = bout;
	for (i = 0; i < b->count && !M.failed; i++) {
		struct objheap_batch_entry *ce = batch_entry(b, b->orig, i);
		struct objheap_batch_entry *ke = batch_entry(b, b->buf, i);
		int exp;

		M.bcur = i;
		bout[i] = 0;
		if (failed && !(flags & OBJHEAP_BATCH_CONTINUE)) {
			exp = -ECANCELED;
		} else {
			exp = m_exec(ce->cmd, ce + 1, ke + 1);
			done++;
			if (exp)
				failed++;
		}
		TRACE("  entry %u %s handle %#llx -> %d", i, cmd_name(ce->cmd),
		      ((struct objheap_handle_cmd *)(ce + 1))->handle, ke->out_result);
		if (ke->out_result != exp) {
			diverge("BATCH entry %u (%s) gave %d, model %d", i,
				cmd_name(ce->cmd), ke->out_result, exp);
			break;
		}
		if (!exp) {
			switch (ce->cmd) {
			case OBJHEAP_CMD_NEW:
				bout[i] = ((struct objheap_new *)(ke + 1))->out_handle;
				break;
			case OBJHEAP_CMD_DUP:
				bout[i] = ((struct objheap_handle_cmd *)(ke + 1))->out_handle;
				break;
			case OBJHEAP_CMD_GET_SLOT:
				bout[i] = ((struct objheap_slot *)(ke + 1))->out_handle;
				break;
			case OBJHEAP_CMD_INTERN:
				bout[i] = ((struct objheap_intern *)(ke + 1))->out_handle;
				break;
			case OBJHEAP_CMD_WEAKREF_NEW:
			case OBJHEAP_CMD_WEAKREF_GET:
				bout[i] = ((struct objheap_weakref *)(ke + 1))->out_handle;
				break;
			}
		}
	}
	M.in_batch = false;
	if (!M.failed && (k->out_done != done || k->out_failed != failed))
		diverge("BATCH done %u failed %u, model %u %u", k->out_done,
			k->out_failed, done, failed);
}

/* ---- The whole-heap comparison ---- */

static u8 rdbuf[OBJHEAP_BATCH_MAX_COUNT][M_MAX_DATA];

static void release_handles(const u64 *hs, u32 n)
{
	struct objheap_batch cmd;
	u32 i, j;
	int ret;

	for (i = 0; i < n; ) {
		batch_reset(&B);
		for (j = 0; i < n && j < 1024; i++) {
			struct objheap_handle_cmd *c;

			if (!hs[i])
				continue;
			c = batch_add(&B, OBJHEAP_CMD_RELEASE, sizeof(*c));
			c->handle = hs[i];
			j++;
		}
		if (!B.count)
			break;
		ret = batch_submit(&B, OBJHEAP_BATCH_CONTINUE, &cmd);
		if (ret || cmd.out_failed)
			diverge("releasing the comparison's handles: %d, %u failed",
				ret, cmd.out_failed);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Compare a list command's handles, as a set, with the model's. */
static void check_list(const char *what, unsigned long req, struct objheap_gc_list *c,
		       u64 *exp, u32 nexp)
{
	u32 room = nexp + 16;
	u64 *got = malloc(room * sizeof(*got));
	u64 *sorted = malloc(room * sizeof(*got));
	int ret;

	c->size = sizeof(*c);
	c->count = room;
	c->buf_uptr = (uintptr_t)got;
	ret = xioctl(req, c);
	if (ret) {
		diverge("%s: %d, %u handles, model %u", what, ret, c->out_count, nexp);
		goto out;
	}
	if (c->out_count != nexp) {
		diverge("%s: %u handles, model %u", what, c->out_count, nexp);
	} else {
		memcpy(sorted, got, nexp * sizeof(*got));
		qsort(sorted, nexp, sizeof(*sorted), cmp_u64);
		qsort(exp, nexp, sizeof(*exp), cmp_u64);
		if (memcmp(sorted, exp, nexp * sizeof(*exp)))
			diverge("%s: handles differ from the model", what);
	}
	release_handles(got, c->out_count);
out:
	free(got);
	free(sorted);
}

static int cmp_ev(const void *pa, const void *pb)
{
	const struct mev *x = pa, *y = pb;
	u64 a[] = { x->type, x->reason, x->cookie, x->handle, x->target_type,
		    x->generation, x->collected };
	u64 b[] = { y->type, y->reason, y->cookie, y->handle, y->target_type,
		    y->generation, y->collected };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(a); i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static void check_events(void)
{
	struct objheap_event_ctl ctl = { .size = sizeof(ctl) };
	struct objheap_event recs[64];
	struct mev *got;
	int ngot = 0, cap = M.nev + 64, i;
	ssize_t r;

	if (xioctl(OBJHEAP_EVENT_CTL, &ctl) || ctl.out_queued != M.nev ||
	    ctl.out_lost || ctl.out_mask != M.evmask) {
		diverge("EVENT_CTL: queued %llu lost %llu mask %u; model %d 0 %u",
			ctl.out_queued, ctl.out_lost,
			ctl.out_mask, M.nev, M.evmask);
		return;
	}
	got = malloc(cap * sizeof(*got));
	for (;;) {
		r = read(M.fd, recs, sizeof(recs));
		if (r < 0) {
			if (errno != EAGAIN)
				diverge("read(): %d", -errno);
			break;
		}
		if (r % sizeof(recs[0])) {
			diverge("read() returned %zd bytes", r);
			break;
		}
		for (i = 0; i < (int)(r / sizeof(recs[0])); i++) {
			struct objheap_event *e = &recs[i];

			if (ngot == cap) {
				diverge("more events than the model queued");
				goto out;
			}
			if (e->lost || e->uncollectable)
				diverge("event lost %llu uncollectable %llu",
					e->lost, e->uncollectable);
			got[ngot++] = (struct mev){
				.type = e->type, .reason = e->reason,
				.cookie = e->cookie, .handle = e->handle,
				.target_type = e->target_type,
				.generation = e->generation,
				.collected = e->collected,
			};
		}
	}
	if (ngot != M.nev) {
		diverge("read %d events, model queued %d", ngot, M.nev);
		goto out;
	}
	for (i = 0; i < ngot; i++)
		if (got[i].type <= OBJHEAP_EVENT_GC_STOP)
			events_seen[got[i].type]++;
	qsort(got, ngot, sizeof(*got), cmp_ev);
	qsort(M.ev, M.nev, sizeof(*M.ev), cmp_ev);
	for (i = 0; i < ngot; i++)
		if (cmp_ev(&got[i], &M.ev[i])) {
			diverge("event type %u reason %u handle %#llx cookie %llu differs from the model's type %u reason %u handle %#llx cookie %llu",
				got[i].type, got[i].reason,
				got[i].handle, got[i].cookie, M.ev[i].type,
				M.ev[i].reason, M.ev[i].handle, M.ev[i].cookie);
			break;
		}
out:
	M.nev = 0;
	free(got);
}

/*
 * Every live object: INFO and its payload in a first pass, then what its
 * slots and weak reference hold, whose handles take references (which
 * the first pass must not see), given back at the end.
 */
static void check_objects(void)
{
	struct objheap_batch cmd;
	u64 *taken = malloc((M.nlive * (M_MAX_SLOTS + 1) + 1) * sizeof(u64));
	int *who = malloc(OBJHEAP_BATCH_MAX_COUNT * sizeof(int));
	u32 ntaken = 0, e;
	int li, s, ret, pass;

	for (pass = 0; pass < 2; pass++) {
		li = 0;
		while (li < M.nlive && !M.failed) {
			batch_reset(&B);
			for (; li < M.nlive && B.count + M_MAX_SLOTS + 3 < OBJHEAP_BATCH_MAX_COUNT; li++) {
				int id = M.live[li];
				struct mobj *o = &M.o[id];

				if (!pass) {
					struct objheap_info *in = batch_add(&B, OBJHEAP_CMD_INFO, sizeof(*in));

					in->handle = o->handle;
					who[B.count - 1] = id;
				}
				if (!pass && !m_is_weakref(o) && o->data_len) {
					struct objheap_rw *rw = batch_add(&B, OBJHEAP_CMD_READ, sizeof(*rw));

					rw->handle = o->handle;
					rw->len = o->data_len;
					rw->buf_uptr = (uintptr_t)rdbuf[B.count - 1];
					who[B.count - 1] = id;
				}
				for (s = 0; pass && s < (int)o->nslots; s++) {
					struct objheap_slot *sl = batch_add(&B, OBJHEAP_CMD_GET_SLOT, sizeof(*sl));

					sl->handle = o->handle;
					sl->index = s;
					who[B.count - 1] = id;
				}
				if (pass && m_is_weakref(o)) {
					struct objheap_weakref *wr = batch_add(&B, OBJHEAP_CMD_WEAKREF_GET, sizeof(*wr));

					wr->handle = o->handle;
					who[B.count - 1] = id;
				}
			}
			if (!B.count)
				break;
			ret = batch_submit(&B, OBJHEAP_BATCH_CONTINUE, &cmd);
			if (ret) {
				diverge("check: BATCH: %d", ret);
				break;
			}
			for (e = 0; e < B.count && !M.failed; e++) {
				struct objheap_batch_entry *ke = batch_entry(&B, B.buf, e);
				struct mobj *o = &M.o[who[e]];
				void *kc = ke + 1;

				if (ke->out_result) {
					diverge("check: %s of live %#llx: %d",
						cmd_name(ke->cmd), o->handle, ke->out_result);
					break;
				}
				switch (ke->cmd) {
				case OBJHEAP_CMD_INFO:
					m_check_info(who[e], kc);
					break;
				case OBJHEAP_CMD_READ:
					if (memcmp(rdbuf[e], o->data, o->data_len))
						diverge("check: payload of %#llx differs", o->handle);
					break;
				case OBJHEAP_CMD_GET_SLOT: {
					struct objheap_slot *sl = kc;
					int t = o->slots[sl->index];

					if (sl->out_handle != (t >= 0 ? M.o[t].handle : 0))
						diverge("check: slot %u of %#llx holds %#llx, model %#llx",
							sl->index, o->handle, sl->out_handle,
							t >= 0 ? M.o[t].handle : 0);
					taken[ntaken++] = sl->out_handle;
					break;
				}
				case OBJHEAP_CMD_WEAKREF_GET:
					m_check_target(who[e], kc, true);
					taken[ntaken++] = ((struct objheap_weakref *)kc)->out_handle;
					break;
				}
			}
		}
	}
	release_handles(taken, ntaken);
	free(taken);
	free(who);
}

static void check_heap(void)
{
	struct objheap_test_cmd t = { .size = sizeof(t), .op = OBJHEAP_TEST_OP_OBJECTS };
	struct objheap_gc_count cnt = { .size = sizeof(cnt) };
	struct objheap_gc_stats st = { .size = sizeof(st) };
	struct objheap_gc_value v = { .size = sizeof(v) };
	struct objheap_gc_list l;
	u32 tracked = 0, interned = 0, n;
	u64 *exp = malloc((M.nlive + 1) * sizeof(u64));
	int i, g;

	M.checks++;
	for (i = 0; i < M.nlive; i++) {
		struct mobj *o = &M.o[M.live[i]];

		tracked += m_tracked(o);
		interned += !!(o->flags & OBJHEAP_OBJ_INTERNED);
	}
	if (xioctl(OBJHEAP_TEST, &t) || t.objects.out_live != (u32)M.nlive ||
	    t.objects.out_containers != tracked || t.objects.out_interned != interned)
		diverge("live %u tracked %u interned %u; model %d %u %u",
			t.objects.out_live, t.objects.out_containers,
			t.objects.out_interned, M.nlive, tracked, interned);
	check_objects();

	for (g = 0; g <= GEN_GARBAGE && !M.failed; g++) {
		char what[48];

		n = 0;
		for (i = 0; i < M.nlive; i++)
			if (M.o[M.live[i]].gen == g)
				exp[n++] = M.o[M.live[i]].handle;
		if (g == GEN_PERM) {
			v = (struct objheap_gc_value){ .size = sizeof(v) };
			if (xioctl(OBJHEAP_GC_GET_FREEZE_COUNT, &v) || v.out_value != n)
				diverge("freeze count %u, model %u", v.out_value, n);
			continue;
		}
		l = (struct objheap_gc_list){ .generation = g };
		snprintf(what, sizeof(what), "GC_GET_OBJECTS(%d)", g);
		if (g == GEN_GARBAGE) {
			l.generation = 0;
			snprintf(what, sizeof(what), "GC_GET_GARBAGE");
			check_list(what, OBJHEAP_GC_GET_GARBAGE, &l, exp, n);
		} else {
			check_list(what, OBJHEAP_GC_GET_OBJECTS, &l, exp, n);
		}
	}

	if (xioctl(OBJHEAP_GC_GET_COUNT, &cnt) || cnt.out_count[0] != M.count[0] ||
	    cnt.out_count[1] != M.count[1] || cnt.out_count[2] != M.count[2])
		diverge("GC counts %u %u %u, model %u %u %u", cnt.out_count[0],
			cnt.out_count[1], cnt.out_count[2], M.count[0], M.count[1],
			M.count[2]);
	if (xioctl(OBJHEAP_GC_GET_STATS, &st))
		diverge("GC_GET_STATS failed");
	for (g = 0; g < 3; g++)
		if (st.out_gen[g].collections != M.st_coll[g] ||
		    st.out_gen[g].collected != M.st_found[g] ||
		    st.out_gen[g].uncollectable)
			diverge("GC stats of generation %d: %llu collections, %llu collected; model %llu %llu",
				g,
				st.out_gen[g].collections,
				st.out_gen[g].collected, M.st_coll[g], M.st_found[g]);
	check_events();

	/* Dead handles name nothing, whatever reused their entries. */
	for (i = 0; i < M_DEAD_RING && i < (int)M.ndead; i++) {
		struct objheap_info in = { .size = sizeof(in), .handle = M.dead[i] };
		int ret = xioctl(OBJHEAP_INFO, &in);

		if (ret != -ENOENT)
			diverge("INFO of dead handle %#llx: %d", M.dead[i], ret);
	}
	free(exp);
}

/* ---- The generator ---- */

static int pick_live(void)
{
	return M.nlive ? M.live[rn(M.nlive)] : -1;
}

/* A live object whose reference userspace may give back. */
static int pick_held(void)
{
	int i, id;

	for (i = 0; i < 8; i++) {
		id = pick_live();
		if (id >= 0 && (M.o[id].user_refs || m_immortal(&M.o[id])))
			return id;
	}
	return -1;
}

/* Mostly live objects' handles, sometimes anything else. */
static u64 pick_handle(bool in_batch, u32 nentries)
{
	u32 r = rn(100);
	int id;

	id = pick_live();
	if (r < 80 && id >= 0)
		return M.o[id].handle;
	if (r < 86 && M.ndead)
		return M.dead[rn(M.ndead < M_DEAD_RING ? M.ndead : M_DEAD_RING)];
	if (r < 90)
		return 0;
	if (r < 94 || !in_batch)
		return chance(50) ? rnd() & ~OBJHEAP_HANDLE_BATCH_BIT :
				    OBJHEAP_BATCH_REF(rn(4));
	return OBJHEAP_BATCH_REF(rn(nentries + 1));
}

static u64 pick_valid_or_any(bool in_batch, u32 nentries)
{
	int id = pick_live();

	if (id >= 0 && chance(90))
		return M.o[id].handle;
	return pick_handle(in_batch, nentries);
}

static u8 payloads[8][M_MAX_DATA];
static u64 slotbufs[OBJHEAP_BATCH_MAX_COUNT][M_MAX_SLOTS];
static u8 databufs[OBJHEAP_BATCH_MAX_COUNT][M_MAX_DATA];

/* Fill one batchable command; @i is its entry number in a batch. */
static u32 gen_batchable(void *buf, u32 i, bool in_batch)
{
	u32 r = rn(100), k;
	u32 nr;

	if (M.nlive > M_LIVE_SOFT && r < 50)
		r = 20 + rn(10);	/* RELEASE */
	if (r < 20) {
		struct objheap_new *c = buf;
		int j;

		nr = OBJHEAP_CMD_NEW;
		c->size = sizeof(*c);
		c->type = rn(4);
		c->flags = (chance(10) ? OBJHEAP_OBJ_IMMUTABLE : 0) |
			   (chance(3) && M.nlive < 4 * M_LIVE_SOFT ? OBJHEAP_OBJ_IMMORTAL : 0) |
			   (chance(15) ? OBJHEAP_OBJ_FINALIZE : 0);
		c->nslots = chance(25) ? 0 : 1 + rn(M_MAX_SLOTS);
		c->data_len = chance(30) ? 0 : rn(M_MAX_DATA + 1);
		if (chance(70)) {
			for (k = 0; k < c->data_len; k++)
				databufs[i][k] = rnd();
			c->data_uptr = (uintptr_t)databufs[i];
		}
		if (c->nslots && chance(60)) {
			for (j = 0; j < (int)c->nslots; j++)
				slotbufs[i][j] = chance(30) ? 0 :
						 pick_valid_or_any(in_batch, i);
			c->slots_uptr = (uintptr_t)slotbufs[i];
		}
		if (chance(1))
			c->__reserved = 1;
		if (chance(1))
			c->nslots = OBJHEAP_MAX_SLOTS + 1;
	} else if (r < 27) {
		struct objheap_handle_cmd *c = buf;
		int id = pick_held();

		nr = OBJHEAP_CMD_DUP;
		c->size = sizeof(*c);
		c->handle = id >= 0 && chance(90) ? M.o[id].handle : pick_handle(in_batch, i);
	} else if (r < 42) {
		struct objheap_handle_cmd *c = buf;
		int id = pick_held();

		nr = OBJHEAP_CMD_RELEASE;
		c->size = sizeof(*c);
		c->handle = id >= 0 && chance(95) ? M.o[id].handle : pick_handle(in_batch, i);
	} else if (r < 60) {
		struct objheap_slot *c = buf;
		int id = pick_live();

		nr = OBJHEAP_CMD_SET_SLOT;
		c->size = sizeof(*c);
		c->handle = pick_valid_or_any(in_batch, i);
		c->index = id >= 0 && M.o[id].nslots ? rn(M.o[id].nslots + 1) : rn(3);
		if (id >= 0 && chance(70)) {
			c->handle = M.o[id].handle;
			if (M.o[id].nslots)
				c->index = rn(M.o[id].nslots);
		}
		c->target = chance(20) ? 0 : pick_valid_or_any(in_batch, i);
		if (chance(1))
			c->__reserved = 1;
	} else if (r < 68) {
		struct objheap_slot *c = buf;
		int id = pick_live();

		nr = OBJHEAP_CMD_GET_SLOT;
		c->size = sizeof(*c);
		c->handle = id >= 0 ? M.o[id].handle : pick_handle(in_batch, i);
		c->index = id >= 0 && M.o[id].nslots && chance(90) ?
			   rn(M.o[id].nslots) : rn(5);
		if (chance(2))
			c->target = 1;
	} else if (r < 76) {
		struct objheap_rw *c = buf;
		int id = pick_live();
		u32 len = id >= 0 ? M.o[id].data_len : 8;

		nr = chance(50) ? OBJHEAP_CMD_READ : OBJHEAP_CMD_WRITE;
		c->size = sizeof(*c);
		c->handle = id >= 0 && chance(95) ? M.o[id].handle : pick_handle(in_batch, i);
		c->offset = rn(len + 2);
		c->len = rn(len + 2);
		if (c->offset + c->len > M_MAX_DATA)
			c->len = 0;
		if (chance(1))
			c->offset = UINT32_MAX;
		for (k = 0; k < M_MAX_DATA; k++)
			databufs[i][k] = rnd();
		c->buf_uptr = (uintptr_t)databufs[i];
	} else if (r < 80) {
		struct objheap_info *c = buf;

		nr = OBJHEAP_CMD_INFO;
		c->size = sizeof(*c);
		c->handle = pick_handle(in_batch, i);
	} else if (r < 88) {
		struct objheap_intern *c = buf;

		nr = OBJHEAP_CMD_INTERN;
		c->size = sizeof(*c);
		c->type = rn(3);
		/* Immortal objects never go: only so many of them. */
		c->flags = chance(10) && M.nlive < 4 * M_LIVE_SOFT ? OBJHEAP_OBJ_IMMORTAL : 0;
		c->data_len = rn(M_MAX_DATA + 1);
		c->data_uptr = (uintptr_t)payloads[rn(8)];
		if (chance(50))
			c->data_len = rn(9);
	} else if (r < 95) {
		struct objheap_weakref *c = buf;

		nr = OBJHEAP_CMD_WEAKREF_NEW;
		c->size = sizeof(*c);
		c->handle = pick_valid_or_any(in_batch, i);
		c->flags = rn(4);
		c->cookie = rnd();
		if (chance(1))
			c->__reserved = 1;
	} else {
		struct objheap_weakref *c = buf;

		nr = OBJHEAP_CMD_WEAKREF_GET;
		c->size = sizeof(*c);
		c->handle = pick_valid_or_any(in_batch, i);
		if (chance(2))
			c->cookie = 1;
	}
	return nr;
}

static u32 batchable_size(u32 nr)
{
	switch (nr) {
	case OBJHEAP_CMD_NEW: return sizeof(struct objheap_new);
	case OBJHEAP_CMD_DUP: case OBJHEAP_CMD_RELEASE:
		return sizeof(struct objheap_handle_cmd);
	case OBJHEAP_CMD_SET_SLOT: case OBJHEAP_CMD_GET_SLOT:
		return sizeof(struct objheap_slot);
	case OBJHEAP_CMD_READ: case OBJHEAP_CMD_WRITE:
		return sizeof(struct objheap_rw);
	case OBJHEAP_CMD_INFO: return sizeof(struct objheap_info);
	case OBJHEAP_CMD_INTERN: return sizeof(struct objheap_intern);
	}
	return sizeof(struct objheap_weakref);
}

/* Outputs of a failed command must be untouched: fill them with this. */
#define SENTINEL 0xa5

static void poison_outputs(u32 nr, void *c)
{
	switch (nr) {
	case OBJHEAP_CMD_NEW:
		memset(&((struct objheap_new *)c)->out_handle, SENTINEL, 8);
		break;
	case OBJHEAP_CMD_DUP:
		memset(&((struct objheap_handle_cmd *)c)->out_handle, SENTINEL, 8);
		break;
	case OBJHEAP_CMD_GET_SLOT:
		memset(&((struct objheap_slot *)c)->out_handle, SENTINEL, 8);
		break;
	case OBJHEAP_CMD_INTERN:
		memset(&((struct objheap_intern *)c)->out_handle, SENTINEL, 8);
		break;
	case OBJHEAP_CMD_WEAKREF_NEW:
	case OBJHEAP_CMD_WEAKREF_GET:
		memset(&((struct objheap_weakref *)c)->out_handle, SENTINEL, 8);
		break;
	}
}

static void op_single_batchable(void)
{
	union {
		struct objheap_new new;
		struct objheap_weakref wr;
		u8 raw[64];
	} c, k;
	u32 nr, size;
	unsigned long req;
	int ret, exp;

	memset(&c, 0, sizeof(c));
	nr = gen_batchable(&c, 0, false);
	size = batchable_size(nr);
	poison_outputs(nr, &c);
	if (chance(1))
		c.new.flags |= 1U << 30;	/* unknown to every command */
	memcpy(&k, &c, sizeof(c));
	req = _IO(OBJHEAP_TYPE, nr);
	ret = xioctl(req, &k);
	TRACE("%s handle %#llx -> %d", cmd_name(nr), k.wr.handle, ret);
	if (c.new.flags & (1U << 30))
		exp = -EINVAL;
	else
		exp = m_exec(nr, &c, &k);
	if (ret != exp)
		diverge("%s gave %d, model %d", cmd_name(nr), ret, exp);
	else if (ret && memcmp(&c, &k, size))
		diverge("%s failed with %d but wrote its structure", cmd_name(nr), ret);
}

static void op_batch(void)
{
	struct objheap_batch k;
	u32 n = 1 + rn(12), i, flags = chance(50) ? OBJHEAP_BATCH_CONTINUE : 0;
	u8 tmp[64];
	int ret;

	batch_reset(&B);
	for (i = 0; i < n; i++) {
		u32 nr;
		void *e;

		memset(tmp, 0, sizeof(tmp));
		nr = gen_batchable(tmp, i, true);
		e = batch_add(&B, nr, batchable_size(nr));
		memcpy(e, tmp, batchable_size(nr));
	}
	ret = batch_submit(&B, flags, &k);
	TRACE("BATCH of %u flags %u -> %d done %u failed %u", n, flags, ret,
	      k.out_done, k.out_failed);
	m_batch(&B, flags, &k, ret);
}

static void op_collect(void)
{
	struct objheap_gc_collect c = { .size = sizeof(c), .generation = rn(3) };
	u64 found;
	int ret;

	if (chance(2))
		c.generation = 3 + rn(5);
	ret = xioctl(OBJHEAP_GC_COLLECT, &c);
	TRACE("GC_COLLECT(%u) -> %d collected %llu", c.generation, ret,
	      c.out_collected);
	if (c.generation > 2) {
		if (ret != -EINVAL)
			diverge("GC_COLLECT(%u) gave %d", c.generation, ret);
		return;
	}
	m_collect(c.generation, &found);
	if (ret || c.out_collected != found || c.out_uncollectable)
		diverge("GC_COLLECT(%u): %d, collected %llu, model %llu",
			c.generation, ret, c.out_collected, found);
}

static void op_gc_settings(void)
{
	struct objheap_gc_threshold th = { .size = sizeof(th) };
	struct objheap_gc_value v = { .size = sizeof(v) };
	struct objheap_event_ctl ec = { .size = sizeof(ec) };
	u32 r = rn(12), exp_v;
	int ret, i;

	switch (r) {
	case 0: case 1:
		/* Small thresholds: automatic collections, often. */
		th.threshold[0] = chance(10) ? 0 : (chance(50) ? 1 + rn(20) : 20 + rn(200));
		th.threshold[1] = rn(6);
		th.threshold[2] = rn(6);
		ret = xioctl(OBJHEAP_GC_SET_THRESHOLD, &th);
		TRACE("GC_SET_THRESHOLD %u %u %u -> %d", th.threshold[0],
		      th.threshold[1], th.threshold[2], ret);
		if (ret)
			diverge("GC_SET_THRESHOLD: %d", ret);
		memcpy(M.th, th.threshold, sizeof(M.th));
		th = (struct objheap_gc_threshold){ .size = sizeof(th) };
		ret = xioctl(OBJHEAP_GC_GET_THRESHOLD, &th);
		for (i = 0; i < 3; i++)
			if (ret || th.out_threshold[i] != M.th[i])
				diverge("GC_GET_THRESHOLD: %d, %u", ret, th.out_threshold[i]);
		return;
	case 2:
		M.enabled = chance(70);
		ret = xioctl(M.enabled ? OBJHEAP_GC_ENABLE : OBJHEAP_GC_DISABLE, &v);
		TRACE("GC enable %d -> %d", M.enabled, ret);
		if (ret)
			diverge("GC_ENABLE/DISABLE: %d", ret);
		return;
	case 3:
		ret = xioctl(OBJHEAP_GC_FREEZE, &v);
		TRACE("GC_FREEZE -> %d", ret);
		if (ret)
			diverge("GC_FREEZE: %d", ret);
		for (i = 0; i < M.nlive; i++)
			if (M.o[M.live[i]].gen >= 0 && M.o[M.live[i]].gen <= 2)
				M.o[M.live[i]].gen = GEN_PERM;
		M.count[0] = 0;
		return;
	case 4: case 5:
		ret = xioctl(OBJHEAP_GC_UNFREEZE, &v);
		TRACE("GC_UNFREEZE -> %d", ret);
		if (ret)
			diverge("GC_UNFREEZE: %d", ret);
		for (i = 0; i < M.nlive; i++)
			if (M.o[M.live[i]].gen == GEN_PERM)
				M.o[M.live[i]].gen = 2;
		return;
	case 6:
		v.value = chance(50) ? OBJHEAP_GC_DEBUG_SAVEALL : 0;
		ret = xioctl(OBJHEAP_GC_SET_DEBUG, &v);
		TRACE("GC_SET_DEBUG %u -> %d", v.value, ret);
		if (ret)
			diverge("GC_SET_DEBUG: %d", ret);
		M.debug = v.value;
		v = (struct objheap_gc_value){ .size = sizeof(v) };
		if (xioctl(OBJHEAP_GC_GET_DEBUG, &v) || v.out_value != M.debug)
			diverge("GC_GET_DEBUG: %u", v.out_value);
		return;
	case 7:
		ret = xioctl(OBJHEAP_GC_CLEAR_GARBAGE, &v);
		TRACE("GC_CLEAR_GARBAGE -> %d", ret);
		if (ret)
			diverge("GC_CLEAR_GARBAGE: %d", ret);
		for (i = 0; i < M.nlive; ) {
			int id = M.live[i];

			if (M.o[id].gen == GEN_GARBAGE) {
				M.o[id].gen = 2;
				m_unref_check(id);
				i = 0;	/* the live list may have changed */
				continue;
			}
			i++;
		}
		return;
	case 8:
		ec.flags = OBJHEAP_EVENT_CTL_SET_MASK;
		ec.mask = chance(50) ? OBJHEAP_EVENTS_GC : 0;
		ret = xioctl(OBJHEAP_EVENT_CTL, &ec);
		TRACE("EVENT_CTL mask %u -> %d", ec.mask, ret);
		if (ret || ec.out_mask != ec.mask)
			diverge("EVENT_CTL: %d", ret);
		M.evmask = ec.mask;
		return;
	default:
		v.value = chance(3) ? 1 : 0;
		exp_v = v.value ? -EINVAL : 0;
		ret = xioctl(OBJHEAP_GC_ISENABLED, &v);
		if (ret != (int)exp_v || (!ret && v.out_value != M.enabled))
			diverge("GC_ISENABLED: %d %u", ret, v.out_value);
		return;
	}
}

static void op_weak_lists(void)
{
	struct objheap_weakref_list l = { .size = sizeof(l) };
	struct objheap_weakref f = { .size = sizeof(f) };
	int t = pick_live(), n = 0, i, ret, w, exp;
	static int *ws;
	static u64 *got;

	if (t < 0)
		return;
	ws = realloc(ws, (M.nlive + 2) * sizeof(*ws));
	got = realloc(got, (M.nlive + 2) * sizeof(*got));
	n = m_weakrefs_of(t, ws, M.nlive + 2);
	l.handle = M.o[t].handle;
	switch (rn(4)) {
	case 0:
		ret = xioctl(OBJHEAP_WEAKREF_COUNT, &l);
		TRACE("WEAKREF_COUNT %#llx -> %d %u", l.handle, ret, l.out_count);
		if (ret || l.out_count != (u32)n)
			diverge("WEAKREF_COUNT of %#llx: %d, %u, model %d",
				l.handle, ret, l.out_count, n);
		return;
	case 1:
		l.count = chance(20) && n ? n - 1 : n + rn(2);
		l.buf_uptr = (uintptr_t)got;
		ret = xioctl(OBJHEAP_WEAKREF_LIST, &l);
		TRACE("WEAKREF_LIST %#llx count %u -> %d %u", l.handle,
		      l.count, ret, l.out_count);
		exp = (u32)n > l.count ? -EMSGSIZE : 0;
		if (ret != exp || l.out_count != (u32)n) {
			diverge("WEAKREF_LIST of %#llx: %d, %u, model %d %d",
				l.handle, ret, l.out_count, exp, n);
			return;
		}
		if (ret)
			return;
		for (i = 0; i < n; i++) {
			if (got[i] != M.o[ws[i]].handle)
				diverge("WEAKREF_LIST[%d] is %#llx, model %#llx",
					i, got[i], M.o[ws[i]].handle);
			m_ref_user(ws[i]);
		}
		return;
	default:
		w = pick_live();
		f.handle = w >= 0 && chance(90) ? M.o[w].handle : pick_handle(false, 0);
		/* Prefer finalizers. */
		for (i = 0; i < 8; i++) {
			int c = pick_live();

			if (c >= 0 && (M.o[c].flags & OBJHEAP_OBJ_FINALIZER)) {
				f.handle = M.o[c].handle;
				break;
			}
		}
		memset(&f.out_handle, SENTINEL, 8);
		if (chance(50)) {
			ret = xioctl(OBJHEAP_FINALIZE_ALIVE, &f);
			TRACE("FINALIZE_ALIVE %#llx -> %d %u", f.handle, ret, f.out_alive);
			exp = m_get_weakref(&f, true, &w);
			if (ret != exp)
				diverge("FINALIZE_ALIVE of %#llx: %d, model %d",
					f.handle, ret, exp);
			else if (!ret)
				m_check_target(w, &f, false);
			return;
		}
		ret = xioctl(OBJHEAP_FINALIZE_DETACH, &f);
		TRACE("FINALIZE_DETACH %#llx -> %d %u", f.handle, ret, f.out_alive);
		exp = m_get_weakref(&f, true, &w);
		if (ret != exp) {
			diverge("FINALIZE_DETACH of %#llx: %d, model %d",
				f.handle, ret, exp);
			return;
		}
		if (ret)
			return;
		m_check_target(w, &f, true);
		if (M.o[w].target >= 0) {
			m_ref_user(M.o[w].target);
			M.o[w].target = -1;
			M.o[w].hold = false;
			m_unref_check(w);
		}
		return;
	}
}

static void op_graph_lists(void)
{
	struct objheap_gc_list l = { .size = sizeof(l) };
	struct objheap_gc_object tr = { .size = sizeof(tr) };
	static u64 *exp;
	u32 n = 0, i, j;
	int t = pick_live(), ret;

	if (t < 0)
		return;
	exp = realloc(exp, (M.nlive + M_MAX_SLOTS) * sizeof(*exp));
	l.handle = M.o[t].handle;
	switch (rn(3)) {
	case 0:
		for (i = 0; i < (u32)M.nlive; i++) {
			struct mobj *o = &M.o[M.live[i]];

			if (o->gen < 0 || o->gen > GEN_GARBAGE)
				continue;
			for (j = 0; j < o->nslots; j++)
				if (o->slots[j] == t) {
					exp[n++] = o->handle;
					break;
				}
		}
		TRACE("GC_GET_REFERRERS %#llx", l.handle);
		check_list("GC_GET_REFERRERS", OBJHEAP_GC_GET_REFERRERS, &l, exp, n);
		return;
	case 1:
		for (j = 0; j < M.o[t].nslots; j++)
			if (M.o[t].slots[j] >= 0)
				exp[n++] = M.o[M.o[t].slots[j]].handle;
		TRACE("GC_GET_REFERENTS %#llx", l.handle);
		check_list("GC_GET_REFERENTS", OBJHEAP_GC_GET_REFERENTS, &l, exp, n);
		return;
	default:
		tr.handle = l.handle;
		ret = xioctl(OBJHEAP_GC_IS_TRACKED, &tr);
		if (ret || tr.out_tracked != m_tracked(&M.o[t]))
			diverge("GC_IS_TRACKED of %#llx: %d %u", tr.handle,
				ret, tr.out_tracked);
		return;
	}
}

static void run_one_op(void)
{
	u32 r = rn(1000);

	M.collected_this_op = false;
	if (r < 600)
		op_single_batchable();
	else if (r < 800)
		op_batch();
	else if (r < 850)
		op_collect();
	else if (r < 920)
		op_gc_settings();
	else if (r < 960)
		op_weak_lists();
	else if (r < 990)
		op_graph_lists();
	else
		check_events();
	if (!M.failed && (M.collected_this_op || !(M.op % OBJHEAP_MODEL_CHECK_EVERY)))
		check_heap();
}

static u64 env_u64(const char *name, u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static void model_reset(int fd, u64 seed)
{
	int i;

	free(M.o);
	free(M.live);
	free(M.hkeys);
	free(M.hvals);
	free(M.ev);
	memset(&M, 0, sizeof(M));
	M.fd = fd;
	M.seed = seed;
	M.rng = seed;
	M.enabled = true;
	M.th[0] = 700;
	M.th[1] = 10;
	M.th[2] = 10;
	M.verbose = env_u64("OBJHEAP_VERBOSE", 0);
	for (i = 0; i < 8; i++) {
		int k;

		for (k = 0; k < M_MAX_DATA; k++)
			payloads[i][k] = (i & 1) ? k : rn(3);
	}
}

/*
 * One seed on a fresh heap: @ops commands, a last comparison, then the
 * allocator's checker.  Returns false on a divergence.
 */
static bool run_seed(u64 seed, u64 ops, u64 *ops_run,
		     u64 *checks, u64 *collections)
{
	struct objheap_test_cmd t = { .size = sizeof(t), .op = OBJHEAP_TEST_OP_ALLOC_CHECK };
	int fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	bool ok;

	if (fd < 0)
		return false;
	model_reset(fd, seed);
	for (M.op = 0; M.op < ops && !M.failed; M.op++)
		run_one_op();
	if (!M.failed)
		check_heap();
	if (ioctl(fd, OBJHEAP_TEST, &t))
		diverge("the allocator's checker failed: %d", -errno);
	ok = !M.failed;
	*ops_run += M.op;
	*checks += M.checks;
	*collections += M.collections;
	close(fd);
	return ok;
}

/* How much to run: the environment, else a bounded amount for make check. */
static void model_params(u64 *seed, u64 *seeds, u64 *ops)
{
	*seed = env_u64("OBJHEAP_SEED", time(NULL) * 1000);
	*seeds = env_u64("OBJHEAP_SEEDS", 20);
	*ops = env_u64("OBJHEAP_OPS", 8000);
}

FIXTURE(model) {
	int fd;
};

FIXTURE_SETUP(model)
{
	SETUP_OPEN_HEAP_OR_SKIP(self->fd);
	if (!objheap_has_test_interface(self->fd))
		SETUP_SKIP("the module has no test interface");
}

FIXTURE_TEARDOWN(model)
{
	close(self->fd);
}

/* make stress runs 10^7 commands here: hours are allowed, the VM bounds it. */
TEST_F_TIMEOUT(model, random_commands_match_the_model, 4 * 3600)
{
	u64 seed, seeds, ops, s, ops_run = 0, checks = 0, collections = 0;
	unsigned int divergences = 0;
	struct timespec t0, t1;
	double secs;

	model_params(&seed, &seeds, &ops);
	printf("# seeds %llu to %llu, %llu commands each\n",
	       seed, seed + seeds - 1, ops);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (s = 0; s < seeds; s++)
		if (!run_seed(seed + s, ops, &ops_run, &checks, &collections))
			divergences++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# objheap_model: %llu seeds, %llu commands, %llu collections, %llu comparisons, %u divergences, %.1f s, %.0f commands/s\n",
	       seeds, ops_run, collections, checks, divergences, secs,
	       secs > 0 ? ops_run / secs : 0.0);
	printf("# events compared: %llu weakref, %llu finalizer, %llu finalize, %llu gc start, %llu gc stop\n",
	       events_seen[OBJHEAP_EVENT_WEAKREF], events_seen[OBJHEAP_EVENT_FINALIZER],
	       events_seen[OBJHEAP_EVENT_FINALIZE], events_seen[OBJHEAP_EVENT_GC_START],
	       events_seen[OBJHEAP_EVENT_GC_STOP]);
	EXPECT_EQ(0, divergences);
}

TEST_HARNESS_MAIN
