// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A stand-in for libobjheap, for testing the Python binding on a machine
 * that cannot load the module (scripts/host-tests.sh): the library's API
 * over a userspace model of heaps, in one process.  It follows the rules
 * of uapi/linux/objheap.h closely enough for the binding's tests (handles
 * as identities, counts, slots, payloads and mappings, interning,
 * batches, weak references, finalizers and PEP 442, events and their
 * file descriptor, CPython's collector with generations and thresholds,
 * attachments, sending, names, limits, tracing allocations), not its
 * costs or its corners.  It is never shipped: the real library is what
 * the binding links.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libobjheap.h"

#define API __attribute__((visibility("default")))
#define MAXATT 16
#define NGEN 3
enum { G_NONE = -1, G_PERM = 3, G_GARBAGE = 4 };

struct fheap;
struct fatt;

struct fobj {
	struct fheap *heap;
	uint32_t type, flags, nslots, len;
	struct fobj **slots;
	unsigned char *data;
	int memfd;
	size_t cap;		/* mappable: bytes of the memfd */
	uint32_t refcnt;
	uint32_t urefs[MAXATT];
	uint32_t ent[MAXATT];	/* entry index + 1 per attachment */
	int creator;
	int gen;
	long gc_refs;
	int mark;
	int maps, wmaps;
	/* weak references */
	struct fobj *target;
	uint64_t cookie;
	int wr_cb, wr_att, fin_alive;
	uint64_t tword;		/* trace word: epoch << 32 | pair; 0: untraced */
	struct fobj *next, *prev;	/* every live object, in creation order */
};

struct ent {
	struct fobj *o;
	uint32_t gen;
};

struct fatt {
	struct fheap *heap;
	int slot;		/* index in heap->atts */
	int fd, wfd;		/* a pipe: readable while events are queued */
	dev_t dev;
	ino_t ino;
	int nwraps;
	uint32_t id;
	int readonly;
	struct ent *ents;
	uint32_t nents, capents;
	struct objheap_event *q;
	size_t nq, capq;
	uint32_t mask;
	uint64_t lost;
	uint64_t created;
};

struct name {
	unsigned char buf[OBJHEAP_NAME_MAX];
	uint32_t len;
	struct fobj *o;
	struct name *next;
};

/*
 * The tracer of DOC: Tracing allocations, as kmod/tracing.c keeps it:
 * pairs keep their index while the heap traces, an object's trace word
 * holds the tracer's epoch and its pair's index, and a snapshot copies
 * the figures by index.  An object's footprint is cost(), what the fake
 * charges for it.
 */
struct fpair {
	uint64_t tag;
	uint32_t type, attach;
	uint64_t count, bytes;
};

struct fsnap {
	int used;
	uint32_t npairs;	/* the pairs that existed then */
	uint64_t *fig;		/* count and bytes of each */
};

struct ftrace {
	uint32_t sample_every;	/* 0: the heap does not trace */
	uint32_t countdown;	/* objects until the next traced one */
	uint32_t epoch;
	uint32_t npairs, cap, nsnaps;
	struct fpair *pairs;
	struct fsnap snaps[OBJHEAP_TRACE_SNAPSHOTS_MAX];
	uint64_t objects, bytes, peak;
	uint64_t rng;
};

struct fheap {
	struct fatt *atts[MAXATT];
	int natts;
	uint32_t next_id;
	struct fobj head;	/* list of live objects */
	uint32_t threshold[NGEN], count[NGEN];
	struct objheap_gc_gen_stats stats[NGEN];
	int enabled, collecting;
	uint32_t debug;
	/*
	 * The collector's mode: recorded, not acted on.  The stand-in
	 * collects in one go either way, which is what an incremental
	 * heap's full collection amounts to when it runs to its end.
	 */
	uint32_t mode, budget;
	uint64_t limit, bytes;
	struct name *names;
	struct ftrace tr;
};

struct handler {
	objheap_event_fn fn;
	void *arg;
};

struct objheap {
	struct fatt *att;
	int fd;
	struct handler on_death, on_finalize, on_gc, on_received, on_detached;
	objheap_lost_fn on_lost;
	void *on_lost_arg;
};


/* ------------------------------------------------------------- basics */

static size_t cost(uint32_t nslots, uint32_t len)
{
	return 64 + (size_t)nslots * 8 + len;
}

/* ------------------------------------------------------------ tracing */

/* A number below @span: xorshift64, the same sequence every run. */
static uint32_t trace_random(struct ftrace *t, uint32_t span)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return (uint32_t)(((t->rng >> 32) * span) >> 32);
}

/* Whether the next object is traced: gaps uniform in [1, 2N - 1]. */
static int trace_sampled(struct ftrace *t)
{
	if (--t->countdown)
		return 0;
	t->countdown = 1 + trace_random(t, 2 * t->sample_every - 1);
	return 1;
}

/* The index of pair (@tag, @type, @attach), made if new; -ENOMEM. */
static int64_t trace_pair(struct ftrace *t, uint64_t tag, uint32_t type,
			  uint32_t attach)
{
	uint32_t i;

again:
	for (i = 0; i < t->npairs; i++)
		if (t->pairs[i].tag == tag && t->pairs[i].type == type &&
		    t->pairs[i].attach == attach)
			return i;
	/* The last pair is kept for whatever comes past the bound. */
	if (t->npairs >= OBJHEAP_TRACE_PAIRS_MAX - 1 &&
	    (tag != OBJHEAP_TAG_OTHER || type || attach)) {
		tag = OBJHEAP_TAG_OTHER;
		type = 0;
		attach = 0;
		goto again;
	}
	if (t->npairs == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		struct fpair *p = realloc(t->pairs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->pairs = p;
		t->cap = cap;
	}
	t->pairs[t->npairs].tag = tag;
	t->pairs[t->npairs].type = type;
	t->pairs[t->npairs].attach = attach;
	t->pairs[t->npairs].count = 0;
	t->pairs[t->npairs].bytes = 0;
	return t->npairs++;
}

static void trace_count(struct ftrace *t, uint32_t pair, int64_t objects,
			int64_t bytes)
{
	t->pairs[pair].count += objects;
	t->pairs[pair].bytes += bytes;
	t->objects += objects;
	t->bytes += bytes;
	if (t->bytes > t->peak)
		t->peak = t->bytes;
}

/*
 * Trace new object @o, made by attachment @attach under @tag, if the heap
 * traces and samples it.
 */
static int trace_add(struct fheap *hp, struct fobj *o, uint64_t tag,
		     uint32_t attach)
{
	struct ftrace *t = &hp->tr;
	int64_t pair;

	o->tword = 0;
	if (!t->sample_every || !trace_sampled(t))
		return 0;
	pair = trace_pair(t, tag, o->type, attach);
	if (pair < 0)
		return (int)pair;
	o->tword = (uint64_t)t->epoch << 32 | (uint32_t)pair;
	trace_count(t, (uint32_t)pair, 1, (int64_t)cost(o->nslots, o->len));
	return 0;
}

/* The pair @o is traced under, or -1 (a word of an earlier start is stale). */
static int64_t trace_pair_of(struct fheap *hp, struct fobj *o)
{
	if (!hp->tr.sample_every || !o->tword ||
	    (uint32_t)(o->tword >> 32) != hp->tr.epoch)
		return -1;
	return (uint32_t)o->tword;
}

static void trace_del(struct fheap *hp, struct fobj *o)
{
	int64_t pair = trace_pair_of(hp, o);

	if (pair >= 0)
		trace_count(&hp->tr, (uint32_t)pair, -1,
			    -(int64_t)cost(o->nslots, o->len));
	o->tword = 0;
}

/* @o's footprint was @old bytes before a resize. */
static void trace_resized(struct fheap *hp, struct fobj *o, size_t old)
{
	int64_t pair = trace_pair_of(hp, o);

	if (pair >= 0)
		trace_count(&hp->tr, (uint32_t)pair, 0,
			    (int64_t)cost(o->nslots, o->len) - (int64_t)old);
}

static void trace_stop(struct ftrace *t)
{
	int i;

	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX; i++) {
		free(t->snaps[i].fig);
		memset(&t->snaps[i], 0, sizeof(t->snaps[i]));
	}
	free(t->pairs);
	t->pairs = NULL;
	t->npairs = t->cap = t->nsnaps = 0;
	t->sample_every = 0;
	t->objects = t->bytes = t->peak = 0;
}

static void signal_fd(struct fatt *a)
{
	char c = 1, buf[64];

	if (a->nq) {
		if (write(a->wfd, &c, 1) < 0)
			return;
	} else {
		while (read(a->fd, buf, sizeof(buf)) > 0)
			;
	}
}

static void queue(struct fatt *a, struct objheap_event *ev)
{
	if (a->nq == a->capq) {
		size_t cap = a->capq ? a->capq * 2 : 16;
		struct objheap_event *q = realloc(a->q, cap * sizeof(*q));

		if (!q) {
			a->lost++;
			return;
		}
		a->q = q;
		a->capq = cap;
	}
	a->q[a->nq++] = *ev;
	signal_fd(a);
}

static struct fobj *lookup(struct fatt *a, uint64_t h)
{
	uint32_t idx = (uint32_t)h, gen = (uint32_t)(h >> 32);

	if (!h || (h >> 63) || !idx || idx > a->nents)
		return NULL;
	if (a->ents[idx - 1].gen != gen || !a->ents[idx - 1].o)
		return NULL;
	return a->ents[idx - 1].o;
}

static uint64_t handle_of(struct fatt *a, struct fobj *o)
{
	uint32_t i = o->ent[a->slot];

	if (!i) {
		for (i = 0; i < a->nents && a->ents[i].o; i++)
			;
		if (i == a->capents) {
			uint32_t cap = a->capents ? a->capents * 2 : 64;
			struct ent *e = realloc(a->ents, cap * sizeof(*e));

			memset(e + a->capents, 0, (cap - a->capents) * sizeof(*e));
			a->ents = e;
			a->capents = cap;
		}
		if (i == a->nents)
			a->nents++;
		a->ents[i].o = o;
		a->ents[i].gen++;
		i++;
		o->ent[a->slot] = i;
	}
	return ((uint64_t)a->ents[i - 1].gen << 32) | i;
}

static uint64_t give(struct fatt *a, struct fobj *o)
{
	uint64_t h = handle_of(a, o);

	if (!(o->flags & OBJHEAP_OBJ_IMMORTAL)) {
		o->urefs[a->slot]++;
		o->refcnt++;
	}
	return h;
}

static void die(struct fobj *o, int reason);

static void decref(struct fobj *o, int reason)
{
	if (o->flags & OBJHEAP_OBJ_IMMORTAL)
		return;
	if (--o->refcnt == 0 && !o->maps)
		die(o, reason);
}

static int tracked(struct fobj *o)
{
	return !(o->flags & OBJHEAP_OBJ_IMMORTAL) &&
	       (o->nslots || (o->flags & OBJHEAP_OBJ_WEAKREF) ||
		(o->flags & OBJHEAP_OBJ_RESIZABLE));
}

static void event_to(struct fatt *a, uint32_t type, int reason,
		     struct fobj *wr, struct fobj *target)
{
	struct objheap_event ev = {
		.type = type, .reason = reason, .cookie = wr->cookie,
		.handle = handle_of(a, wr), .target_type = target->type,
	};

	queue(a, &ev);
}

/* Clear @o's weak references, queueing their events. */
static void clear_weakrefs(struct fobj *o, int reason, int silent_unreachable)
{
	struct fheap *hp = o->heap;
	struct fobj *w, *n;

	for (w = hp->head.next; w != &hp->head; w = n) {
		n = w->next;
		if (w->target != o)
			continue;
		w->target = NULL;
		if (silent_unreachable && w->mark == 2)
			continue;
		if (w->flags & OBJHEAP_OBJ_FINALIZER) {
			if (w->fin_alive && hp->atts[w->wr_att])
				event_to(hp->atts[w->wr_att], OBJHEAP_EVENT_FINALIZER,
					 reason, w, o);
			if (w->fin_alive) {
				w->fin_alive = 0;
				decref(w, reason);
			}
		} else if (w->wr_cb && hp->atts[w->wr_att]) {
			event_to(hp->atts[w->wr_att], OBJHEAP_EVENT_WEAKREF, reason, w, o);
		}
	}
}

static void unlink_obj(struct fobj *o)
{
	o->prev->next = o->next;
	o->next->prev = o->prev;
}

static void free_obj(struct fobj *o)
{
	struct fheap *hp = o->heap;
	int i;

	for (i = 0; i < MAXATT; i++) {
		struct fatt *a = hp->atts[i];

		if (a && o->ent[i])
			a->ents[o->ent[i] - 1].o = NULL;
	}
	if (tracked(o) && o->gen == 0 && hp->count[0])
		hp->count[0]--;
	trace_del(hp, o);
	hp->bytes -= cost(o->nslots, o->len);
	unlink_obj(o);
	if (o->memfd >= 0) {
		munmap(o->data, o->cap);
		close(o->memfd);
	} else {
		free(o->data);
	}
	free(o->slots);
	free(o);
}

static void die(struct fobj *o, int reason)
{
	uint32_t i;

	if ((o->flags & OBJHEAP_OBJ_FINALIZE) && !(o->flags & OBJHEAP_OBJ_FINALIZED)) {
		struct fatt *a = o->heap->atts[o->creator];

		o->flags |= OBJHEAP_OBJ_FINALIZED;
		if (a) {
			struct objheap_event ev = {
				.type = OBJHEAP_EVENT_FINALIZE, .reason = reason,
				.target_type = o->type,
			};

			ev.handle = give(a, o);
			queue(a, &ev);
			return;
		}
	}
	clear_weakrefs(o, reason, 0);
	o->refcnt = 1;	/* held while its slots go */
	for (i = 0; i < o->nslots; i++) {
		struct fobj *t = o->slots[i];

		o->slots[i] = NULL;
		if (t)
			decref(t, reason);
	}
	free_obj(o);
}

static struct fobj *new_obj(struct fatt *a, uint32_t type, uint32_t flags,
			    uint32_t nslots, uint32_t len, uint64_t tag,
			    int *err)
{
	struct fheap *hp = a->heap;
	struct fobj *o;

	if (hp->bytes + cost(nslots, len) > hp->limit) {
		*err = -ENOMEM;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	o->heap = hp;
	o->type = type;
	o->flags = flags;
	o->nslots = nslots;
	o->len = len;
	o->slots = calloc(nslots ? nslots : 1, sizeof(*o->slots));
	o->memfd = -1;
	if (flags & OBJHEAP_OBJ_MAPPABLE) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);

		o->cap = len ? (len + page - 1) & ~(page - 1) : page;
		o->memfd = memfd_create("fakeheap", 0);
		if (ftruncate(o->memfd, (off_t)o->cap)) {
			*err = -ENOMEM;
			return NULL;
		}
		o->data = mmap(NULL, o->cap, PROT_READ | PROT_WRITE, MAP_SHARED,
			       o->memfd, 0);
	} else {
		o->data = calloc(len ? len : 1, 1);
	}
	o->creator = a->slot;
	o->gen = tracked(o) ? 0 : G_NONE;
	o->next = &hp->head;
	o->prev = hp->head.prev;
	hp->head.prev->next = o;
	hp->head.prev = o;
	hp->bytes += cost(nslots, len);
	/* As the kernel: ENOMEM rather than an object that goes untraced. */
	*err = trace_add(hp, o, tag, a->id);
	if (*err) {
		free_obj(o);
		return NULL;
	}
	a->created++;
	return o;
}

static int objheap_gc_collect_gen(struct fheap *hp, uint32_t g,
				  struct objheap_gc_collect *out);

static void maybe_collect(struct fheap *hp, struct fobj *o)
{
	int g;

	if (!tracked(o))
		return;
	hp->count[0]++;
	if (!hp->enabled || !hp->threshold[0] || hp->collecting ||
	    hp->count[0] <= hp->threshold[0])
		return;
	for (g = NGEN - 1; g > 0; g--)
		if (hp->count[g] > hp->threshold[g])
			break;
	objheap_gc_collect_gen(hp, (uint32_t)g, NULL);
}

/* ------------------------------------------------------------ opening */

static struct fatt *atts_all[1024];
static unsigned int natts_all;

static struct fatt *new_att(struct fheap *hp, int readonly)
{
	struct fatt *a;
	int i;

	for (i = 0; i < MAXATT && hp->atts[i]; i++)
		;
	if (i == MAXATT)
		return NULL;
	a = calloc(1, sizeof(*a));
	a->heap = hp;
	a->slot = i;
	{
		int p[2];
		struct stat st;

		if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) {
			free(a);
			return NULL;
		}
		a->fd = p[0];
		a->wfd = p[1];
		fstat(a->fd, &st);
		a->dev = st.st_dev;
		a->ino = st.st_ino;
	}
	a->id = ++hp->next_id;
	a->readonly = readonly;
	hp->atts[i] = a;
	hp->natts++;
	atts_all[natts_all++ % 1024] = a;
	return a;
}

static struct objheap *wrap(struct fatt *a, int fd)
{
	struct objheap *heap = calloc(1, sizeof(*heap));

	heap->att = a;
	heap->fd = fd;
	a->nwraps++;
	return heap;
}

API int objheap_open(struct objheap **heapp)
{
	struct fheap *hp;

	if (getenv("OBJHEAP_FAKE_ABSENT"))
		return -ENOENT;
	hp = calloc(1, sizeof(*hp));
	hp->head.next = hp->head.prev = &hp->head;
	hp->threshold[0] = 700;
	hp->threshold[1] = hp->threshold[2] = 10;
	hp->enabled = 1;
	hp->budget = OBJHEAP_GC_BUDGET_DEFAULT;
	hp->limit = 256ULL << 20;
	hp->tr.rng = 0x9E3779B97F4A7C15ULL;
	{
		struct fatt *a = new_att(hp, 0);

		*heapp = wrap(a, a->fd);
	}
	return 0;
}

static void free_heap(struct fheap *hp)
{
	struct name *n;

	while (hp->head.next != &hp->head) {
		struct fobj *o = hp->head.next;

		free_obj(o);
	}
	while ((n = hp->names)) {
		hp->names = n->next;
		free(n);
	}
	trace_stop(&hp->tr);
	free(hp);
}

API void objheap_close(struct objheap *heap)
{
	struct fatt *a;
	struct fheap *hp;
	struct fobj *o, *n;
	uint64_t refs = 0;
	int i;

	if (!heap)
		return;
	a = heap->att;
	hp = a->heap;
	close(heap->fd);
	if (--a->nwraps) {
		free(heap);
		return;
	}
	close(a->wfd);
	for (i = 0; i < 1024; i++)
		if (atts_all[i] == a)
			atts_all[i] = NULL;
	if (hp->natts == 1) {
		hp->atts[a->slot] = NULL;
		free(a->ents);
		free(a->q);
		free(a);
		free_heap(hp);
		free(heap);
		return;
	}
	/* Its weak references say nothing any more; its finalizers go. */
	for (o = hp->head.next; o != &hp->head; o = o->next) {
		if ((o->flags & OBJHEAP_OBJ_WEAKREF) && o->wr_att == a->slot) {
			o->wr_cb = 0;
			if (o->fin_alive) {
				o->fin_alive = 0;
				o->target = NULL;
				/* The heap's hold becomes one of ours, dropped below. */
				o->urefs[a->slot]++;
			}
		}
	}
	{
		struct fobj **v = NULL;
		size_t nv = 0, k;

		for (o = hp->head.next; o != &hp->head; o = o->next) {
			if (o->flags & OBJHEAP_OBJ_IMMORTAL) {
				o->ent[a->slot] = 0;
				continue;
			}
			if (o->urefs[a->slot] || o->ent[a->slot]) {
				v = realloc(v, (nv + 1) * sizeof(*v));
				v[nv++] = o;
				o->refcnt++;	/* held through the walk */
			}
		}
		for (k = 0; k < nv; k++) {
			uint32_t u = v[k]->urefs[a->slot];

			v[k]->urefs[a->slot] = 0;
			v[k]->ent[a->slot] = 0;
			refs += u;
			while (u--)
				decref(v[k], OBJHEAP_REASON_REFCOUNT);
		}
		for (k = 0; k < nv; k++)
			decref(v[k], OBJHEAP_REASON_REFCOUNT);
		free(v);
	}
	(void)n;
	hp->atts[a->slot] = NULL;
	hp->natts--;
	for (i = 0; i < MAXATT; i++) {
		struct objheap_event ev = {
			.type = OBJHEAP_EVENT_DETACHED, .generation = a->id,
			.cookie = (uint64_t)getpid(), .collected = refs,
		};

		if (hp->atts[i])
			queue(hp->atts[i], &ev);
	}
	free(a->ents);
	free(a->q);
	free(a);
	free(heap);
}

API int objheap_fd(const struct objheap *heap)
{
	return heap->fd;
}

API int objheap_query(struct objheap *heap, uint32_t query_cmd,
		      struct objheap_query *out)
{
	(void)heap;
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->query_cmd = query_cmd;
	out->out_version = OBJHEAP_API_VERSION;
	out->out_cmds = (1ULL << 52) - 1;
	return 0;
}

/* ------------------------------------------------------------ objects */

#define ATT (heap->att)
#define HP (heap->att->heap)

static int do_new(struct fatt *a, uint64_t tag, uint32_t type, uint32_t flags,
		  uint32_t nslots, const void *data, uint32_t len,
		  const uint64_t *slots, uint64_t *hp_out)
{
	uint32_t ok = OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_IMMORTAL |
		      OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_RESIZABLE |
		      OBJHEAP_OBJ_MAPPABLE;
	struct fobj *o, *t;
	uint32_t i;
	int err = 0;

	if (flags & ~ok || nslots > OBJHEAP_MAX_SLOTS || len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	if (a->readonly)
		return -EPERM;
	for (i = 0; slots && i < nslots; i++)
		if (slots[i] && !lookup(a, slots[i]))
			return -ENOENT;
	o = new_obj(a, type, flags, nslots, len, tag, &err);
	if (!o)
		return err;
	if (data)
		memcpy(o->data, data, len);
	for (i = 0; slots && i < nslots; i++) {
		t = slots[i] ? lookup(a, slots[i]) : NULL;
		if (t && !(t->flags & OBJHEAP_OBJ_IMMORTAL))
			t->refcnt++;
		o->slots[i] = t;
	}
	*hp_out = give(a, o);
	maybe_collect(a->heap, o);
	return 0;
}

API int objheap_new(struct objheap *heap, uint32_t type, uint32_t flags,
		    uint32_t nslots, const void *data, uint32_t data_len,
		    const uint64_t *slots, uint64_t *handlep)
{
	return do_new(ATT, 0, type, flags, nslots, data, data_len, slots,
		      handlep);
}

API int objheap_dup(struct objheap *heap, uint64_t handle)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	give(ATT, o);
	return 0;
}

API int objheap_release(struct objheap *heap, uint64_t handle)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	if (o->flags & OBJHEAP_OBJ_IMMORTAL)
		return 0;
	if (!o->urefs[ATT->slot])
		return -EINVAL;
	o->urefs[ATT->slot]--;
	decref(o, OBJHEAP_REASON_REFCOUNT);
	return 0;
}

API int objheap_set_slot(struct objheap *heap, uint64_t handle, uint32_t index,
			 uint64_t target)
{
	struct fobj *o = lookup(ATT, handle), *t = NULL, *old;

	if (!o)
		return -ENOENT;
	if (ATT->readonly)
		return -EPERM;
	if (index >= o->nslots)
		return -EINVAL;
	if (o->flags & OBJHEAP_OBJ_IMMUTABLE)
		return -EPERM;
	if (target && !(t = lookup(ATT, target)))
		return -ENOENT;
	if (t && !(t->flags & OBJHEAP_OBJ_IMMORTAL))
		t->refcnt++;
	old = o->slots[index];
	o->slots[index] = t;
	if (old)
		decref(old, OBJHEAP_REASON_REFCOUNT);
	return 0;
}

API int objheap_get_slot(struct objheap *heap, uint64_t handle, uint32_t index,
			 uint64_t *targetp)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	if (index >= o->nslots)
		return -EINVAL;
	*targetp = o->slots[index] ? give(ATT, o->slots[index]) : 0;
	return 0;
}

static uint32_t data_len(struct fobj *o)
{
	return (o->flags & OBJHEAP_OBJ_WEAKREF) ? 0 : o->len;
}

API int objheap_read(struct objheap *heap, uint64_t handle, uint32_t offset,
		     void *buf, uint32_t len)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	if ((uint64_t)offset + len > data_len(o))
		return -EINVAL;
	memcpy(buf, o->data + offset, len);
	return 0;
}

API int objheap_write(struct objheap *heap, uint64_t handle, uint32_t offset,
		      const void *buf, uint32_t len)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	if (ATT->readonly)
		return -EPERM;
	if ((uint64_t)offset + len > data_len(o))
		return -EINVAL;
	if (o->flags & OBJHEAP_OBJ_IMMUTABLE)
		return -EPERM;
	memcpy(o->data + offset, buf, len);
	return 0;
}

API int objheap_info(struct objheap *heap, uint64_t handle,
		     struct objheap_info *out)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->handle = handle;
	out->out_refcnt = (o->flags & OBJHEAP_OBJ_IMMORTAL) ?
			  OBJHEAP_REFCNT_IMMORTAL : o->refcnt;
	out->out_user_refs = o->urefs[ATT->slot];
	out->out_type = o->type;
	out->out_flags = o->flags;
	out->out_nslots = o->nslots;
	out->out_data_len = data_len(o);
	return 0;
}

static struct fobj *find_interned(struct fheap *hp, uint32_t type,
				  const void *data, uint32_t len,
				  struct fobj *not)
{
	struct fobj *o;

	for (o = hp->head.next; o != &hp->head; o = o->next)
		if (o != not && (o->flags & OBJHEAP_OBJ_INTERNED) && o->type == type &&
		    o->len == len && !memcmp(o->data, data, len))
			return o;
	return NULL;
}

API int objheap_intern(struct objheap *heap, uint32_t type, uint32_t flags,
		       const void *data, uint32_t data_len, uint64_t *handlep)
{
	struct fobj *o;
	int err = 0;

	if (flags & ~OBJHEAP_OBJ_IMMORTAL || data_len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	if (ATT->readonly)
		return -EPERM;
	o = find_interned(HP, type, data, data_len, NULL);
	if (!o) {
		o = new_obj(ATT, type, flags | OBJHEAP_OBJ_IMMUTABLE |
			    OBJHEAP_OBJ_INTERNED, 0, data_len, 0, &err);
		if (!o)
			return err;
		memcpy(o->data, data, data_len);
	}
	*handlep = give(ATT, o);
	return 0;
}

/* ----------------------------------------------------------- payloads */

struct mapping {
	void *addr;
	size_t len;
	int writable;
	struct fobj *o;
	struct mapping *next;
};
static struct mapping *mappings;

API int objheap_map_offset(struct objheap *heap, uint64_t handle,
			   uint64_t *offsetp, uint32_t *lenp)
{
	struct fobj *o = lookup(ATT, handle);

	if (!o)
		return -ENOENT;
	if (!(o->flags & OBJHEAP_OBJ_MAPPABLE))
		return -EINVAL;
	if (offsetp)
		*offsetp = 0;
	if (lenp)
		*lenp = o->len;
	return 0;
}

API int objheap_map(struct objheap *heap, uint64_t handle, int prot,
		    void **addrp, size_t *lenp)
{
	struct fobj *o = lookup(ATT, handle);
	struct mapping *m;
	void *addr;

	if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE))
		return -EINVAL;
	if (!o)
		return -ENOENT;
	if (!(o->flags & OBJHEAP_OBJ_MAPPABLE))
		return -EINVAL;
	if (!o->len)
		return -ENXIO;
	if ((prot & PROT_WRITE) &&
	    ((o->flags & OBJHEAP_OBJ_IMMUTABLE) || ATT->readonly))
		return -EACCES;
	addr = mmap(NULL, o->cap, prot, MAP_SHARED, o->memfd, 0);
	if (addr == MAP_FAILED)
		return -errno;
	m = calloc(1, sizeof(*m));
	m->addr = addr;
	m->len = o->cap;
	m->writable = !!(prot & PROT_WRITE);
	m->o = o;
	m->next = mappings;
	mappings = m;
	o->maps++;
	o->wmaps += m->writable;
	*addrp = addr;
	*lenp = o->len;
	return 0;
}

API int objheap_unmap(void *addr, size_t len)
{
	struct mapping **pm, *m;

	if (!len)
		return -EINVAL;
	for (pm = &mappings; (m = *pm); pm = &m->next) {
		if (m->addr != addr)
			continue;
		*pm = m->next;
		munmap(m->addr, m->len);
		m->o->maps--;
		m->o->wmaps -= m->writable;
		if (!m->o->maps && !m->o->refcnt && !(m->o->flags & OBJHEAP_OBJ_IMMORTAL))
			die(m->o, OBJHEAP_REASON_REFCOUNT);
		free(m);
		return 0;
	}
	return -EINVAL;
}

static int do_resize(struct objheap *heap, uint64_t handle, int slots, uint32_t n)
{
	struct fobj *o = lookup(ATT, handle);
	size_t old;
	uint32_t i;

	if (!o)
		return -ENOENT;
	if (ATT->readonly)
		return -EPERM;
	if (!(o->flags & OBJHEAP_OBJ_RESIZABLE) ||
	    n > (slots ? OBJHEAP_MAX_SLOTS : OBJHEAP_MAX_SIZE))
		return -EINVAL;
	if (o->flags & OBJHEAP_OBJ_IMMUTABLE)
		return -EPERM;
	old = cost(o->nslots, o->len);
	if (slots) {
		struct fobj **s;

		for (i = n; i < o->nslots; i++) {
			struct fobj *t = o->slots[i];

			o->slots[i] = NULL;
			if (t)
				decref(t, OBJHEAP_REASON_REFCOUNT);
		}
		s = realloc(o->slots, (n ? n : 1) * sizeof(*s));
		for (i = o->nslots; i < n; i++)
			s[i] = NULL;
		o->slots = s;
		HP->bytes += (size_t)n * 8;
		HP->bytes -= (size_t)o->nslots * 8;
		o->nslots = n;
		trace_resized(HP, o, old);
		return 0;
	}
	if (o->maps)
		return -EBUSY;
	if (o->memfd >= 0) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t cap = n ? (n + page - 1) & ~(page - 1) : page;

		munmap(o->data, o->cap);
		if (ftruncate(o->memfd, (off_t)cap))
			return -ENOMEM;
		o->data = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED,
			       o->memfd, 0);
		if (n > o->len)
			memset(o->data + o->len, 0, cap - o->len);
		o->cap = cap;
	} else {
		o->data = realloc(o->data, n ? n : 1);
		if (n > o->len)
			memset(o->data + o->len, 0, n - o->len);
	}
	HP->bytes += n;
	HP->bytes -= o->len;
	o->len = n;
	trace_resized(HP, o, old);
	return 0;
}

API int objheap_resize(struct objheap *heap, uint64_t handle, uint32_t data_len)
{
	return do_resize(heap, handle, 0, data_len);
}

API int objheap_resize_slots(struct objheap *heap, uint64_t handle, uint32_t nslots)
{
	return do_resize(heap, handle, 1, nslots);
}

static int do_seal(struct objheap *heap, uint64_t handle, int intern,
		   uint64_t *out)
{
	struct fobj *o = lookup(ATT, handle), *i;

	if (!o)
		return -ENOENT;
	if (ATT->readonly)
		return -EPERM;
	if (o->wmaps)
		return -EBUSY;
	if (intern && (o->nslots || (o->flags & (OBJHEAP_OBJ_MAPPABLE |
	    OBJHEAP_OBJ_WEAKREF | OBJHEAP_OBJ_FINALIZE))))
		return -EINVAL;
	o->flags |= OBJHEAP_OBJ_IMMUTABLE;
	if (!intern)
		return 0;
	i = (o->flags & OBJHEAP_OBJ_INTERNED) ? o :
	    find_interned(HP, o->type, o->data, o->len, o);
	if (!i) {
		o->flags |= OBJHEAP_OBJ_INTERNED;
		i = o;
	}
	*out = give(ATT, i);
	return 0;
}

API int objheap_seal(struct objheap *heap, uint64_t handle)
{
	return do_seal(heap, handle, 0, NULL);
}

API int objheap_seal_intern(struct objheap *heap, uint64_t handle,
			    uint64_t *internedp)
{
	return do_seal(heap, handle, 1, internedp);
}

/* ------------------------------------------------------------ batches */

struct bentry {
	uint32_t cmd;
	int result;
	uint64_t handle, target, cookie, out;
	uint32_t type, flags, nslots, len, index, offset;
	const void *data;
	void *buf;
	const uint64_t *slots;
	struct objheap_info info;
};

struct objheap_batch_buf {
	uint32_t max, count;
	struct bentry *e;
};

API int objheap_batch_alloc(struct objheap_batch_buf **batchp, uint32_t max)
{
	struct objheap_batch_buf *b;

	if (!max || max > OBJHEAP_BATCH_MAX_COUNT)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	b->max = max;
	b->e = calloc(max, sizeof(*b->e));
	*batchp = b;
	return 0;
}

API void objheap_batch_free(struct objheap_batch_buf *b)
{
	if (b) {
		free(b->e);
		free(b);
	}
}

API void objheap_batch_reset(struct objheap_batch_buf *b)
{
	b->count = 0;
}

API uint32_t objheap_batch_count(const struct objheap_batch_buf *b)
{
	return b->count;
}

static struct bentry *badd(struct objheap_batch_buf *b, uint32_t cmd)
{
	struct bentry *e;

	if (b->count == b->max)
		return NULL;
	e = &b->e[b->count++];
	memset(e, 0, sizeof(*e));
	e->cmd = cmd;
	return e;
}

#define BADD(cmd) struct bentry *e = badd(b, cmd); if (!e) return -ENOSPC

API int objheap_batch_new(struct objheap_batch_buf *b, uint32_t type,
			  uint32_t flags, uint32_t nslots, const void *data,
			  uint32_t data_len, const uint64_t *slots)
{
	BADD(OBJHEAP_CMD_NEW);
	e->type = type, e->flags = flags, e->nslots = nslots;
	e->data = data, e->len = data_len, e->slots = slots;
	return b->count - 1;
}

#define BH(name, CMD) \
API int objheap_batch_##name(struct objheap_batch_buf *b, uint64_t handle) \
{ \
	BADD(CMD); \
	e->handle = handle; \
	return b->count - 1; \
}
BH(dup, OBJHEAP_CMD_DUP)
BH(release, OBJHEAP_CMD_RELEASE)
BH(info, OBJHEAP_CMD_INFO)
BH(weakref_get, OBJHEAP_CMD_WEAKREF_GET)
BH(seal, OBJHEAP_CMD_SEAL)

API int objheap_batch_seal_intern(struct objheap_batch_buf *b, uint64_t handle)
{
	BADD(OBJHEAP_CMD_SEAL);
	e->handle = handle;
	e->flags = 1;
	return b->count - 1;
}

API int objheap_batch_set_slot(struct objheap_batch_buf *b, uint64_t handle,
			       uint32_t index, uint64_t target)
{
	BADD(OBJHEAP_CMD_SET_SLOT);
	e->handle = handle, e->index = index, e->target = target;
	return b->count - 1;
}

API int objheap_batch_get_slot(struct objheap_batch_buf *b, uint64_t handle,
			       uint32_t index)
{
	BADD(OBJHEAP_CMD_GET_SLOT);
	e->handle = handle, e->index = index;
	return b->count - 1;
}

API int objheap_batch_read(struct objheap_batch_buf *b, uint64_t handle,
			   uint32_t offset, void *buf, uint32_t len)
{
	BADD(OBJHEAP_CMD_READ);
	e->handle = handle, e->offset = offset, e->buf = buf, e->len = len;
	return b->count - 1;
}

API int objheap_batch_write(struct objheap_batch_buf *b, uint64_t handle,
			    uint32_t offset, const void *buf, uint32_t len)
{
	BADD(OBJHEAP_CMD_WRITE);
	e->handle = handle, e->offset = offset, e->data = buf, e->len = len;
	return b->count - 1;
}

API int objheap_batch_intern(struct objheap_batch_buf *b, uint32_t type,
			     uint32_t flags, const void *data, uint32_t data_len)
{
	BADD(OBJHEAP_CMD_INTERN);
	e->type = type, e->flags = flags, e->data = data, e->len = data_len;
	return b->count - 1;
}

API int objheap_batch_weakref_new(struct objheap_batch_buf *b, uint64_t target,
				  uint64_t cookie, uint32_t flags)
{
	BADD(OBJHEAP_CMD_WEAKREF_NEW);
	e->handle = target, e->cookie = cookie, e->flags = flags;
	return b->count - 1;
}

API int objheap_batch_resize(struct objheap_batch_buf *b, uint64_t handle,
			     uint32_t data_len)
{
	BADD(OBJHEAP_CMD_RESIZE);
	e->handle = handle, e->len = data_len;
	return b->count - 1;
}

API int objheap_batch_resize_slots(struct objheap_batch_buf *b,
				   uint64_t handle, uint32_t nslots)
{
	BADD(OBJHEAP_CMD_RESIZE);
	e->handle = handle, e->nslots = nslots, e->flags = 1;
	return b->count - 1;
}

static int resolve(struct objheap_batch_buf *b, uint32_t i, uint64_t *h)
{
	uint32_t j;

	if (!(*h & OBJHEAP_HANDLE_BATCH_BIT))
		return 0;
	j = (uint32_t)*h;
	if (j >= i || b->e[j].result || !b->e[j].out)
		return -EINVAL;
	*h = b->e[j].out;
	return 0;
}

API int objheap_batch_submit(struct objheap *heap, struct objheap_batch_buf *b,
			     uint32_t flags)
{
	uint32_t i, failed = 0, stop = 0;

	if (!b->count)
		return -EINVAL;
	for (i = 0; i < b->count; i++) {
		struct bentry *e = &b->e[i];
		int r;

		e->out = 0;
		if (stop) {
			e->result = -ECANCELED;
			continue;
		}
		r = resolve(b, i, &e->handle) ?: resolve(b, i, &e->target);
		if (!r) {
			switch (e->cmd) {
			case OBJHEAP_CMD_NEW:
				r = do_new(ATT, 0, e->type, e->flags, e->nslots,
					   e->data, e->len, e->slots, &e->out);
				break;
			case OBJHEAP_CMD_DUP:
				r = objheap_dup(heap, e->handle);
				if (!r)
					e->out = e->handle;
				break;
			case OBJHEAP_CMD_RELEASE:
				r = objheap_release(heap, e->handle);
				break;
			case OBJHEAP_CMD_SET_SLOT:
				r = objheap_set_slot(heap, e->handle, e->index, e->target);
				break;
			case OBJHEAP_CMD_GET_SLOT:
				r = objheap_get_slot(heap, e->handle, e->index, &e->out);
				break;
			case OBJHEAP_CMD_READ:
				r = objheap_read(heap, e->handle, e->offset, e->buf, e->len);
				break;
			case OBJHEAP_CMD_WRITE:
				r = objheap_write(heap, e->handle, e->offset, e->data, e->len);
				break;
			case OBJHEAP_CMD_INFO:
				r = objheap_info(heap, e->handle, &e->info);
				break;
			case OBJHEAP_CMD_INTERN:
				r = objheap_intern(heap, e->type, e->flags, e->data, e->len,
						   &e->out);
				break;
			case OBJHEAP_CMD_WEAKREF_NEW:
				r = objheap_weakref_new(heap, e->handle, e->cookie, e->flags,
							&e->out);
				break;
			case OBJHEAP_CMD_WEAKREF_GET:
				r = objheap_weakref_get(heap, e->handle, &e->out);
				r = r < 0 ? r : 0;
				break;
			case OBJHEAP_CMD_RESIZE:
				r = e->flags ? objheap_resize_slots(heap, e->handle, e->nslots) :
					       objheap_resize(heap, e->handle, e->len);
				break;
			case OBJHEAP_CMD_SEAL:
				r = e->flags ? objheap_seal_intern(heap, e->handle, &e->out) :
					       objheap_seal(heap, e->handle);
				break;
			default:
				r = -EINVAL;
			}
		}
		e->result = r;
		if (r) {
			e->out = 0;
			failed++;
			if (!(flags & OBJHEAP_BATCH_CONTINUE))
				stop = 1;
		}
	}
	return (int)failed;
}

API int objheap_batch_result(const struct objheap_batch_buf *b, uint32_t i)
{
	return i < b->count ? b->e[i].result : -EINVAL;
}

API uint64_t objheap_batch_handle(const struct objheap_batch_buf *b, uint32_t i)
{
	return i < b->count && !b->e[i].result ? b->e[i].out : 0;
}

API const struct objheap_info *objheap_batch_info_result(
	const struct objheap_batch_buf *b, uint32_t i)
{
	if (i >= b->count || b->e[i].cmd != OBJHEAP_CMD_INFO || b->e[i].result)
		return NULL;
	return &b->e[i].info;
}

API int objheap_stats(struct objheap *heap, struct objheap_stats *out,
		      struct objheap_class_stats *classes, uint32_t nr_classes)
{
	(void)classes;
	(void)nr_classes;
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->out_nr_classes = 32;
	out->out_limit = HP->limit;
	out->out_limit_max = 1ULL << 40;
	out->out_limit_default = 256ULL << 20;
	out->out_bytes_in_use = HP->bytes;
	out->out_bytes_held = HP->bytes;
	return 0;
}

API int objheap_set_limit(struct objheap *heap, uint64_t limit)
{
	if (ATT->readonly)
		return -EPERM;
	if (limit > (1ULL << 40))
		return -EINVAL;
	if (limit > (256ULL << 20))
		return -EPERM;
	HP->limit = limit;
	return 0;
}

API int objheap_release_array(struct objheap *heap, const uint64_t *handles,
			      uint32_t count)
{
	int first = 0, r;
	uint32_t i;

	for (i = 0; i < count; i++) {
		r = objheap_release(heap, handles[i]);
		if (r && !first)
			first = r;
	}
	return first;
}

/* ---------------------------------------------------------- collector */

static void gc_event(struct fheap *hp, uint32_t type, uint32_t g,
		     uint64_t collected)
{
	int i;

	for (i = 0; i < MAXATT; i++) {
		struct objheap_event ev = {
			.type = type, .generation = g, .collected = collected,
		};

		if (hp->atts[i] && (hp->atts[i]->mask & OBJHEAP_EVENTS_GC))
			queue(hp->atts[i], &ev);
	}
}

static int objheap_gc_collect_gen(struct fheap *hp, uint32_t g,
				  struct objheap_gc_collect *out)
{
	struct fobj *o, *n;
	uint64_t nunreach = 0, handed = 0;
	uint32_t i;
	int changed, a;

	if (g >= NGEN)
		return -EINVAL;
	hp->collecting = 1;
	gc_event(hp, OBJHEAP_EVENT_GC_START, g, 0);
	/* 1-2: gc_refs, less what young objects' slots hold. */
	for (o = hp->head.next; o != &hp->head; o = o->next) {
		o->mark = 0;
		if (o->gen >= 0 && o->gen <= (int)g) {
			o->mark = 1;
			o->gc_refs = o->refcnt + (o->maps ? 1 : 0);
		}
	}
	for (o = hp->head.next; o != &hp->head; o = o->next)
		if (o->mark)
			for (i = 0; i < o->nslots; i++)
				if (o->slots[i] && o->slots[i]->mark)
					o->slots[i]->gc_refs--;
	/* 3: what the outside reaches is reachable (mark 3). */
	for (o = hp->head.next; o != &hp->head; o = o->next)
		if (o->mark == 1 && o->gc_refs > 0)
			o->mark = 3;
	do {
		changed = 0;
		for (o = hp->head.next; o != &hp->head; o = o->next)
			if (o->mark == 3)
				for (i = 0; i < o->nslots; i++)
					if (o->slots[i] && o->slots[i]->mark == 1) {
						o->slots[i]->mark = 3;
						changed = 1;
					}
	} while (changed);
	for (o = hp->head.next; o != &hp->head; o = o->next) {
		if (o->mark == 1) {
			o->mark = 2;	/* unreachable */
			nunreach++;
		} else if (o->mark == 3) {
			o->mark = 0;
			if (g < NGEN - 1)
				o->gen = (int)g + 1;
		}
	}
	/* 5: weak references to the unreachable, before anything goes. */
	for (o = hp->head.next; o != &hp->head; o = o->next)
		if ((o->flags & OBJHEAP_OBJ_WEAKREF) && o->mark == 2 && o->target &&
		    o->target->mark != 2)
			o->target = NULL;
	for (o = hp->head.next; o != &hp->head; o = o->next)
		if (o->mark == 2)
			clear_weakrefs(o, OBJHEAP_REASON_GC, 1);
	/* 6: PEP 442. */
	for (o = hp->head.next; o != &hp->head; o = o->next) {
		if (o->mark == 2 && (o->flags & OBJHEAP_OBJ_FINALIZE) &&
		    !(o->flags & OBJHEAP_OBJ_FINALIZED)) {
			struct fatt *at = hp->atts[o->creator];

			o->flags |= OBJHEAP_OBJ_FINALIZED;
			if (at) {
				struct objheap_event ev = {
					.type = OBJHEAP_EVENT_FINALIZE,
					.reason = OBJHEAP_REASON_GC,
					.target_type = o->type,
				};

				ev.handle = give(at, o);
				queue(at, &ev);
			}
			handed++;
		}
	}
	if (handed) {
		for (o = hp->head.next; o != &hp->head; o = o->next)
			if (o->mark == 2) {
				o->mark = 0;
				o->gen = g < NGEN - 1 ? (int)g + 1 : (int)g;
			}
		nunreach = 0;
	} else if (hp->debug & OBJHEAP_GC_DEBUG_SAVEALL) {
		for (o = hp->head.next; o != &hp->head; o = o->next)
			if (o->mark == 2) {
				o->mark = 0;
				o->gen = G_GARBAGE;
				o->refcnt++;
			}
	} else {
		/* 7: hold each, empty its slots, let go. */
		for (o = hp->head.next; o != &hp->head; o = o->next)
			if (o->mark == 2)
				o->refcnt++;
		for (o = hp->head.next; o != &hp->head; o = o->next) {
			if (o->mark != 2)
				continue;
			for (i = 0; i < o->nslots; i++) {
				struct fobj *t = o->slots[i];

				o->slots[i] = NULL;
				if (t && t->mark != 2)
					decref(t, OBJHEAP_REASON_GC);
				else if (t)
					t->refcnt--;
			}
		}
		for (o = hp->head.next; o != &hp->head; o = n) {
			n = o->next;
			if (o->mark == 2) {
				/* Its holders are gone; what is left is ours. */
				o->refcnt = 0;
				for (a = 0; a < MAXATT; a++)
					o->urefs[a] = 0;
				clear_weakrefs(o, OBJHEAP_REASON_GC, 1);
				free_obj(o);
			}
		}
	}
	for (i = 0; i <= g; i++)
		hp->count[i] = 0;
	if (g + 1 < NGEN)
		hp->count[g + 1]++;
	hp->stats[g].collections++;
	hp->stats[g].collected += nunreach;
	hp->collecting = 0;
	gc_event(hp, OBJHEAP_EVENT_GC_STOP, g, nunreach);
	if (out) {
		memset(out, 0, sizeof(*out));
		out->out_collected = nunreach;
	}
	return (int)nunreach;
}

API int objheap_gc_collect(struct objheap *heap, uint32_t generation,
			   struct objheap_gc_collect *out)
{
	return objheap_gc_collect_gen(HP, generation, out);
}

#define RO_CHECK() do { if (ATT->readonly) return -EPERM; } while (0)

API int objheap_gc_enable(struct objheap *heap)
{
	RO_CHECK();
	HP->enabled = 1;
	return 0;
}

API int objheap_gc_disable(struct objheap *heap)
{
	RO_CHECK();
	HP->enabled = 0;
	return 0;
}

API int objheap_gc_isenabled(struct objheap *heap)
{
	return HP->enabled;
}

API int objheap_gc_get_threshold(struct objheap *heap, uint32_t t[NGEN])
{
	memcpy(t, HP->threshold, sizeof(HP->threshold));
	return 0;
}

API int objheap_gc_set_threshold(struct objheap *heap, const uint32_t t[NGEN])
{
	RO_CHECK();
	memcpy(HP->threshold, t, sizeof(HP->threshold));
	return 0;
}

API int objheap_gc_get_count(struct objheap *heap, uint32_t c[NGEN])
{
	memcpy(c, HP->count, sizeof(HP->count));
	return 0;
}

API int objheap_gc_get_stats(struct objheap *heap,
			     struct objheap_gc_gen_stats s[NGEN])
{
	memcpy(s, HP->stats, sizeof(HP->stats));
	return 0;
}

API int objheap_gc_freeze(struct objheap *heap)
{
	struct fobj *o;

	RO_CHECK();
	for (o = HP->head.next; o != &HP->head; o = o->next)
		if (o->gen >= 0 && o->gen < NGEN)
			o->gen = G_PERM;
	HP->count[0] = 0;
	return 0;
}

API int objheap_gc_unfreeze(struct objheap *heap)
{
	struct fobj *o;

	RO_CHECK();
	for (o = HP->head.next; o != &HP->head; o = o->next)
		if (o->gen == G_PERM)
			o->gen = NGEN - 1;
	return 0;
}

API int objheap_gc_get_freeze_count(struct objheap *heap)
{
	struct fobj *o;
	int n = 0;

	for (o = HP->head.next; o != &HP->head; o = o->next)
		n += o->gen == G_PERM;
	return n;
}

static int give_list(struct objheap *heap, struct fobj **v, uint32_t n,
		     uint64_t *handles, uint32_t count, uint32_t *countp)
{
	uint32_t i;

	*countp = n;
	if (n > count)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		handles[i] = give(ATT, v[i]);
	return 0;
}

static int collect_list(struct objheap *heap, int kind, uint64_t handle,
			uint32_t gen, uint64_t *handles, uint32_t count,
			uint32_t *countp)
{
	struct fobj *o, *t = NULL, **v;
	uint32_t n = 0, cap = 16, i;
	int ret;

	if (kind == 1 || kind == 2 || kind == 4) {
		t = lookup(ATT, handle);
		if (!t)
			return -ENOENT;
	}
	if (kind == 0 && gen != OBJHEAP_GC_ALL_GENERATIONS && gen >= NGEN)
		return -EINVAL;
	if (kind == 4 && (t->flags & OBJHEAP_OBJ_WEAKREF))
		return -EINVAL;
	v = malloc(cap * sizeof(*v));
#define PUSH(x) do { if (n == cap) v = realloc(v, (cap *= 2) * sizeof(*v)); v[n++] = (x); } while (0)
	if (kind == 2) {
		for (i = 0; i < t->nslots; i++)
			if (t->slots[i])
				PUSH(t->slots[i]);
	} else {
		for (o = HP->head.next; o != &HP->head; o = o->next) {
			switch (kind) {
			case 0:
				if (gen == OBJHEAP_GC_ALL_GENERATIONS ?
				    (o->gen >= 0 && o->gen < NGEN) : o->gen == (int)gen)
					PUSH(o);
				break;
			case 1:
				if (o->gen < 0)
					break;
				for (i = 0; i < o->nslots; i++)
					if (o->slots[i] == t) {
						PUSH(o);
						break;
					}
				break;
			case 3:
				if (o->gen == G_GARBAGE)
					PUSH(o);
				break;
			case 4:
				if ((o->flags & OBJHEAP_OBJ_WEAKREF) && o->target == t)
					PUSH(o);
				break;
			}
		}
	}
#undef PUSH
	ret = give_list(heap, v, n, handles, count, countp);
	free(v);
	return ret;
}

API int objheap_gc_get_objects(struct objheap *heap, uint32_t generation,
			       uint64_t *handles, uint32_t count, uint32_t *countp)
{
	return collect_list(heap, 0, 0, generation, handles, count, countp);
}

API int objheap_gc_get_referrers(struct objheap *heap, uint64_t handle,
				 uint64_t *handles, uint32_t count, uint32_t *countp)
{
	return collect_list(heap, 1, handle, 0, handles, count, countp);
}

API int objheap_gc_get_referents(struct objheap *heap, uint64_t handle,
				 uint64_t *handles, uint32_t count, uint32_t *countp)
{
	return collect_list(heap, 2, handle, 0, handles, count, countp);
}

API int objheap_gc_get_garbage(struct objheap *heap, uint64_t *handles,
			       uint32_t count, uint32_t *countp)
{
	return collect_list(heap, 3, 0, 0, handles, count, countp);
}

API int objheap_getweakrefs(struct objheap *heap, uint64_t target,
			    uint64_t *handles, uint32_t count, uint32_t *countp)
{
	return collect_list(heap, 4, target, 0, handles, count, countp);
}

API int objheap_getweakrefcount(struct objheap *heap, uint64_t target)
{
	uint64_t dummy;
	uint32_t n;
	int ret = collect_list(heap, 4, target, 0, &dummy, 0, &n);

	return ret == -EMSGSIZE || !ret ? (int)n : ret;
}

API int objheap_gc_is_tracked(struct objheap *heap, uint64_t handle)
{
	struct fobj *o = lookup(ATT, handle);

	return o ? o->gen >= 0 : -ENOENT;
}

API int objheap_gc_set_debug(struct objheap *heap, uint32_t flags)
{
	RO_CHECK();
	if (flags & ~(OBJHEAP_GC_DEBUG_STATS | OBJHEAP_GC_DEBUG_SAVEALL))
		return -EINVAL;
	HP->debug = flags;
	return 0;
}

API int objheap_gc_get_debug(struct objheap *heap)
{
	return (int)HP->debug;
}

API int objheap_gc_set_mode(struct objheap *heap, uint32_t mode,
			    uint32_t budget)
{
	RO_CHECK();
	if (mode > OBJHEAP_GC_INCREMENTAL || budget > OBJHEAP_GC_BUDGET_MAX)
		return -EINVAL;
	HP->mode = mode;
	HP->budget = budget ?: OBJHEAP_GC_BUDGET_DEFAULT;
	return 0;
}

API int objheap_gc_get_mode(struct objheap *heap, struct objheap_gc_mode *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->out_mode = HP->mode;
	out->out_budget = HP->budget;
	return 0;
}

API int objheap_gc_clear_garbage(struct objheap *heap)
{
	struct fobj *o, **v = NULL;
	size_t n = 0, i;

	RO_CHECK();
	for (o = HP->head.next; o != &HP->head; o = o->next)
		if (o->gen == G_GARBAGE) {
			v = realloc(v, (n + 1) * sizeof(*v));
			v[n++] = o;
			o->gen = NGEN - 1;
		}
	/* Give back the list's references, one each. */
	for (i = 0; i < n; i++)
		decref(v[i], OBJHEAP_REASON_REFCOUNT);
	free(v);
	return 0;
}

/* ---------------------------------------------------- weak references */

API int objheap_weakref_new(struct objheap *heap, uint64_t target,
			    uint64_t cookie, uint32_t flags, uint64_t *wrp)
{
	struct fobj *t = lookup(ATT, target), *w;
	int err = 0;

	if (!t)
		return -ENOENT;
	if (ATT->readonly)
		return -EPERM;
	if (flags & ~(OBJHEAP_WEAKREF_CALLBACK | OBJHEAP_WEAKREF_FINALIZER) ||
	    (t->flags & OBJHEAP_OBJ_WEAKREF))
		return -EINVAL;
	w = new_obj(ATT, 0, OBJHEAP_OBJ_WEAKREF |
		    ((flags & OBJHEAP_WEAKREF_FINALIZER) ? OBJHEAP_OBJ_FINALIZER : 0),
		    0, 0, 0, &err);
	if (!w)
		return err;
	w->target = t;
	w->cookie = cookie;
	w->wr_cb = !!(flags & OBJHEAP_WEAKREF_CALLBACK);
	w->wr_att = ATT->slot;
	if (flags & OBJHEAP_WEAKREF_FINALIZER) {
		w->fin_alive = 1;
		w->refcnt++;	/* the heap's hold */
	}
	*wrp = give(ATT, w);
	maybe_collect(HP, w);
	return 0;
}

API int objheap_weakref_get(struct objheap *heap, uint64_t wr, uint64_t *targetp)
{
	struct fobj *w = lookup(ATT, wr);

	if (!w)
		return -ENOENT;
	if (!(w->flags & OBJHEAP_OBJ_WEAKREF))
		return -EINVAL;
	*targetp = w->target ? give(ATT, w->target) : 0;
	return !!w->target;
}

API int objheap_finalize_new(struct objheap *heap, uint64_t target,
			     uint64_t cookie, uint64_t *finp)
{
	return objheap_weakref_new(heap, target, cookie,
				   OBJHEAP_WEAKREF_FINALIZER, finp);
}

API int objheap_finalize_detach(struct objheap *heap, uint64_t fin,
				uint64_t *targetp)
{
	struct fobj *w = lookup(ATT, fin);
	uint64_t t = 0;

	if (!w)
		return -ENOENT;
	if (!(w->flags & OBJHEAP_OBJ_FINALIZER))
		return -EINVAL;
	if (ATT->readonly)
		return -EPERM;
	if (!w->fin_alive) {
		if (targetp)
			*targetp = 0;
		return 0;
	}
	w->fin_alive = 0;
	if (w->target)
		t = give(ATT, w->target);
	w->target = NULL;
	decref(w, OBJHEAP_REASON_REFCOUNT);
	if (targetp)
		*targetp = t;
	else if (t)
		objheap_release(heap, t);
	return 1;
}

API int objheap_finalize_alive(struct objheap *heap, uint64_t fin)
{
	struct fobj *w = lookup(ATT, fin);

	if (!w)
		return -ENOENT;
	if (!(w->flags & OBJHEAP_OBJ_FINALIZER))
		return -EINVAL;
	return w->fin_alive;
}

/* ------------------------------------------------------------- events */

API int objheap_event_ctl(struct objheap *heap, uint32_t flags, uint32_t mask,
			  struct objheap_event_ctl *out)
{
	if (flags & OBJHEAP_EVENT_CTL_SET_MASK) {
		if (mask & ~OBJHEAP_EVENTS_GC)
			return -EINVAL;
		ATT->mask = mask;
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		out->out_mask = ATT->mask;
		out->out_queued = ATT->nq;
		out->out_lost = ATT->lost;
		out->out_bytes = ATT->nq * sizeof(struct objheap_event);
	}
	return 0;
}

#define ON(name) \
API int objheap_on_##name(struct objheap *heap, objheap_event_fn fn, void *arg) \
{ \
	heap->on_##name.fn = fn; \
	heap->on_##name.arg = arg; \
	return 0; \
}
ON(death)
ON(finalize)
ON(received)
ON(detached)

API int objheap_on_gc(struct objheap *heap, objheap_event_fn fn, void *arg)
{
	objheap_event_ctl(heap, OBJHEAP_EVENT_CTL_SET_MASK,
			  fn ? OBJHEAP_EVENTS_GC : 0, NULL);
	heap->on_gc.fn = fn;
	heap->on_gc.arg = arg;
	return 0;
}

API int objheap_on_lost(struct objheap *heap, objheap_lost_fn fn, void *arg)
{
	heap->on_lost = fn;
	heap->on_lost_arg = arg;
	return 0;
}

API int objheap_dispatch(struct objheap *heap, unsigned int max)
{
	unsigned int done = 0;

	while (ATT->nq && (!max || done < max)) {
		struct objheap_event ev = ATT->q[0];
		struct handler *h = NULL;

		memmove(ATT->q, ATT->q + 1, (ATT->nq - 1) * sizeof(ev));
		ATT->nq--;
		signal_fd(ATT);
		done++;
		switch (ev.type) {
		case OBJHEAP_EVENT_WEAKREF:
		case OBJHEAP_EVENT_FINALIZER:
			h = &heap->on_death;
			break;
		case OBJHEAP_EVENT_FINALIZE:
			h = &heap->on_finalize;
			if (!h->fn) {
				objheap_release(heap, ev.handle);
				continue;
			}
			break;
		case OBJHEAP_EVENT_GC_START:
		case OBJHEAP_EVENT_GC_STOP:
			h = &heap->on_gc;
			break;
		case OBJHEAP_EVENT_RECEIVED:
			h = &heap->on_received;
			if (!h->fn) {
				objheap_release(heap, ev.handle);
				continue;
			}
			break;
		case OBJHEAP_EVENT_DETACHED:
			h = &heap->on_detached;
			break;
		}
		if (h && h->fn)
			h->fn(heap, &ev, h->arg);
	}
	return (int)done;
}

/* ------------------------------------------------------------ sharing */

API int objheap_attach(struct objheap *heap, uint32_t flags, int *fdp,
		       uint32_t *idp)
{
	struct fatt *a;

	if (flags & ~OBJHEAP_ATTACH_READONLY)
		return -EINVAL;
	if (ATT->readonly && !(flags & OBJHEAP_ATTACH_READONLY))
		return -EPERM;
	a = new_att(HP, !!(flags & OBJHEAP_ATTACH_READONLY));
	if (!a)
		return -ENOSPC;
	*fdp = a->fd;
	if (idp)
		*idp = a->id;
	return 0;
}

API int objheap_from_fd(int fd, struct objheap **heapp)
{
	struct stat st;
	int i;

	if (fd < 0 || fstat(fd, &st))
		return -EBADF;
	for (i = 0; i < 1024; i++)
		if (atts_all[i] && atts_all[i]->ino == st.st_ino) {
			*heapp = wrap(atts_all[i], fd);
			return 0;
		}
	return -ENOTTY;
}

API int objheap_attach_info(struct objheap *heap, uint32_t id,
			    struct objheap_attach_info *out)
{
	struct fatt *a = NULL;
	struct fobj *o;
	int i;

	for (i = 0; i < MAXATT; i++)
		if (HP->atts[i] && (id ? HP->atts[i]->id == id : HP->atts[i] == ATT))
			a = HP->atts[i];
	if (!a)
		return -ESRCH;
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->out_id = a->id;
	out->out_flags = a->readonly ? OBJHEAP_ATTACH_READONLY : 0;
	out->out_attached = (uint32_t)HP->natts;
	out->out_pid = (uint32_t)getpid();
	out->out_created = a->created;
	for (o = HP->head.next; o != &HP->head; o = o->next) {
		out->out_handles += !!o->ent[a->slot];
		out->out_refs += o->urefs[a->slot];
	}
	return 0;
}

API int objheap_send(struct objheap *heap, uint64_t handle, uint32_t to,
		     uint64_t cookie)
{
	struct fobj *o = lookup(ATT, handle);
	struct fatt *a = NULL;
	int i;

	if (!o)
		return -ENOENT;
	if (to == ATT->id)
		return -EINVAL;
	for (i = 0; i < MAXATT; i++)
		if (HP->atts[i] && HP->atts[i]->id == to)
			a = HP->atts[i];
	if (!a)
		return -ESRCH;
	{
		struct objheap_event ev = {
			.type = OBJHEAP_EVENT_RECEIVED, .cookie = cookie,
			.generation = ATT->id, .target_type = o->type,
		};

		ev.handle = give(a, o);
		queue(a, &ev);
	}
	return 0;
}

static struct name **find_name(struct fheap *hp, const void *name, uint32_t len)
{
	struct name **pn;

	for (pn = &hp->names; *pn; pn = &(*pn)->next)
		if ((*pn)->len == len && !memcmp((*pn)->buf, name, len))
			return pn;
	return pn;
}

API int objheap_publish(struct objheap *heap, const void *name,
			uint32_t name_len, uint64_t handle)
{
	struct fobj *o;
	struct name **pn, *n;

	if (!name_len || name_len > OBJHEAP_NAME_MAX)
		return -EINVAL;
	if (ATT->readonly)
		return -EPERM;
	o = lookup(ATT, handle);
	if (!o)
		return -ENOENT;
	pn = find_name(HP, name, name_len);
	if (*pn)
		return -EEXIST;
	n = calloc(1, sizeof(*n));
	memcpy(n->buf, name, name_len);
	n->len = name_len;
	n->o = o;
	if (!(o->flags & OBJHEAP_OBJ_IMMORTAL))
		o->refcnt++;
	*pn = n;
	return 0;
}

API int objheap_lookup(struct objheap *heap, const void *name,
		       uint32_t name_len, uint64_t *handlep)
{
	struct name **pn;

	if (!name_len || name_len > OBJHEAP_NAME_MAX)
		return -EINVAL;
	pn = find_name(HP, name, name_len);
	if (!*pn)
		return -ENOENT;
	*handlep = give(ATT, (*pn)->o);
	return 0;
}

API int objheap_unpublish(struct objheap *heap, const void *name,
			  uint32_t name_len)
{
	struct name **pn, *n;

	if (!name_len || name_len > OBJHEAP_NAME_MAX)
		return -EINVAL;
	if (ATT->readonly)
		return -EPERM;
	pn = find_name(HP, name, name_len);
	if (!*pn)
		return -ENOENT;
	n = *pn;
	*pn = n->next;
	decref(n->o, OBJHEAP_REASON_REFCOUNT);
	free(n);
	return 0;
}

API int objheap_publish_str(struct objheap *heap, const char *name, uint64_t h)
{
	return objheap_publish(heap, name, (uint32_t)strlen(name), h);
}

API int objheap_lookup_str(struct objheap *heap, const char *name, uint64_t *h)
{
	return objheap_lookup(heap, name, (uint32_t)strlen(name), h);
}

API int objheap_unpublish_str(struct objheap *heap, const char *name)
{
	return objheap_unpublish(heap, name, (uint32_t)strlen(name));
}

API int objheap_send_fd(int sock, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;

	memset(&ctl, 0, sizeof(ctl));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

API int objheap_recv_fd(int sock, int *fdp)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return -errno;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return n ? -ENOMSG : -ECONNRESET;
	memcpy(fdp, CMSG_DATA(cmsg), sizeof(int));
	return 0;
}

/* --------------------------------------------------------- raw ioctls */

/*
 * libobjheap has no functions for tracing yet, so the binding issues
 * OBJHEAP_TRACE_* itself, and OBJHEAP_NEW with a tag (alone or in an
 * OBJHEAP_BATCH), as ioctls on the heap's descriptor.  The extension
 * links this archive statically and keeps its symbols to itself, so its
 * calls of ioctl() come here: on the descriptor of a fake attachment the
 * model answers, on any other the kernel does.  The checks follow
 * kmod/main.c's dispatcher and kmod/tracing.c, in their order.
 */
int ioctl(int fd, unsigned long request, ...);

static struct fatt *att_of_fd(int fd)
{
	struct stat st;
	int i;

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	for (i = 0; i < 1024; i++)
		if (atts_all[i] && atts_all[i]->ino == st.st_ino &&
		    atts_all[i]->dev == st.st_dev)
			return atts_all[i];
	return NULL;
}

#define NEW_MIN (offsetof(struct objheap_new, out_handle) + sizeof(__u64))

static int cmd_new(struct fatt *a, struct objheap_new *c)
{
	uint64_t tag = c->size >= sizeof(*c) ? c->tag : 0, handle = 0;
	int ret;

	if (c->size < NEW_MIN)
		return -EINVAL;
	ret = do_new(a, tag, c->type, c->flags, c->nslots,
		     (const void *)(uintptr_t)c->data_uptr, c->data_len,
		     (const uint64_t *)(uintptr_t)c->slots_uptr, &handle);
	if (!ret)
		c->out_handle = handle;
	return ret;
}

/* A batch of NEW entries only: the one kind the binding builds itself. */
static int cmd_batch(struct fatt *a, struct objheap_batch *b)
{
	unsigned char *buf = (unsigned char *)(uintptr_t)b->buf_uptr;
	uint32_t i, off = 0, stop = 0;

	if (b->size < sizeof(*b) || b->flags & ~OBJHEAP_BATCH_CONTINUE ||
	    !b->count || b->count > OBJHEAP_BATCH_MAX_COUNT ||
	    b->len > OBJHEAP_BATCH_MAX_LEN)
		return -EINVAL;
	for (i = 0; i < b->count; i++) {
		struct objheap_batch_entry *e = (void *)(buf + off);
		struct objheap_new *c = (void *)(e + 1);

		if (off + sizeof(*e) + NEW_MIN > b->len ||
		    e->cmd != OBJHEAP_CMD_NEW || c->size < NEW_MIN ||
		    off + sizeof(*e) + c->size > b->len)
			return -EINVAL;
		off += (sizeof(*e) + c->size + 7) & ~7U;
	}
	if (off != b->len)
		return -EINVAL;
	b->out_done = b->out_failed = 0;
	for (i = 0, off = 0; i < b->count; i++) {
		struct objheap_batch_entry *e = (void *)(buf + off);
		struct objheap_new *c = (void *)(e + 1);

		off += (sizeof(*e) + c->size + 7) & ~7U;
		c->out_handle = 0;
		if (stop) {
			e->out_result = -ECANCELED;
			continue;
		}
		e->out_result = cmd_new(a, c);
		b->out_done++;
		if (e->out_result) {
			c->out_handle = 0;
			b->out_failed++;
			if (!(b->flags & OBJHEAP_BATCH_CONTINUE))
				stop = 1;
		}
	}
	return 0;
}

static int cmd_trace_ctl(struct fatt *a, struct objheap_trace_ctl *c)
{
	struct ftrace *t = &a->heap->tr;

	if (c->size < sizeof(*c) || c->flags || c->__reserved ||
	    (c->op != OBJHEAP_TRACE_START && c->sample_every))
		return -EINVAL;
	if (c->op != OBJHEAP_TRACE_GET && a->readonly)
		return -EPERM;
	switch (c->op) {
	case OBJHEAP_TRACE_GET:
		break;
	case OBJHEAP_TRACE_START:
		if (c->sample_every > (1U << 24))
			return -EINVAL;
		if (t->sample_every)
			return -EBUSY;
		/* The words objects kept from the last start go stale. */
		if (!++t->epoch)
			t->epoch = 1;
		t->sample_every = c->sample_every > 1 ? c->sample_every : 1;
		t->countdown = 1;
		if (t->sample_every > 1)
			t->countdown = 1 + trace_random(t,
						2 * t->sample_every - 1);
		break;
	case OBJHEAP_TRACE_STOP:
		trace_stop(t);
		break;
	case OBJHEAP_TRACE_RESET_PEAK:
		t->peak = t->bytes;
		break;
	default:
		return -EINVAL;
	}
	c->out_traced_bytes = t->bytes;
	c->out_peak_bytes = t->peak;
	c->out_traced_objects = t->objects;
	c->out_pairs = t->npairs;
	c->out_sample_every = t->sample_every;
	c->out_snapshots = t->nsnaps;
	return 0;
}

static struct fsnap *snap_find(struct ftrace *t, uint32_t id)
{
	if (!id || id > OBJHEAP_TRACE_SNAPSHOTS_MAX || !t->snaps[id - 1].used)
		return NULL;
	return &t->snaps[id - 1];
}

static int cmd_trace_snapshot(struct fatt *a, struct objheap_trace_snapshot *c)
{
	struct ftrace *t = &a->heap->tr;
	struct fsnap *s = NULL;
	uint32_t i;

	if (c->size < sizeof(*c) || c->flags & ~OBJHEAP_SNAPSHOT_DROP)
		return -EINVAL;
	if (a->readonly)
		return -EPERM;
	if (!(c->flags & OBJHEAP_SNAPSHOT_DROP) && c->id)
		return -EINVAL;
	if (!t->sample_every)
		return -ENODATA;
	if (c->flags & OBJHEAP_SNAPSHOT_DROP) {
		s = snap_find(t, c->id);
		if (!s)
			return -ENOENT;
		free(s->fig);
		memset(s, 0, sizeof(*s));
		t->nsnaps--;
		return 0;
	}
	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX && !s; i++)
		if (!t->snaps[i].used)
			s = &t->snaps[i];
	if (!s)
		return -ENOSPC;
	s->fig = malloc((t->npairs ? t->npairs : 1) * 2 * sizeof(*s->fig));
	if (!s->fig)
		return -ENOMEM;
	for (i = 0; i < t->npairs; i++) {
		s->fig[2 * i] = t->pairs[i].count;
		s->fig[2 * i + 1] = t->pairs[i].bytes;
	}
	s->npairs = t->npairs;
	s->used = 1;
	t->nsnaps++;
	c->out_id = (uint32_t)(s - t->snaps) + 1;
	return 0;
}

/* Pair @i's figures in @s, or now when @s is NULL. */
static void figures(struct ftrace *t, struct fsnap *s, uint32_t i,
		    __u64 *count, __u64 *bytes)
{
	if (!s) {
		*count = t->pairs[i].count;
		*bytes = t->pairs[i].bytes;
	} else if (i < s->npairs) {
		*count = s->fig[2 * i];
		*bytes = s->fig[2 * i + 1];
	} else {
		*count = *bytes = 0;
	}
}

static int cmd_trace_rows(struct fatt *a, struct objheap_trace_rows *c)
{
	struct ftrace *t = &a->heap->tr;
	struct objheap_trace_row *rows = (void *)(uintptr_t)c->rows_uptr;
	struct fsnap *snap = NULL, *base = NULL;
	uint32_t i, n = 0;

	if (c->size < sizeof(*c) || c->flags || c->__reserved || !c->nrows ||
	    c->nrows > OBJHEAP_TRACE_ROWS_MAX)
		return -EINVAL;
	if (!t->sample_every)
		return -ENODATA;
	if (c->snapshot && !(snap = snap_find(t, c->snapshot)))
		return -ENOENT;
	if (c->base && !(base = snap_find(t, c->base)))
		return -ENOENT;
	for (i = c->start; i < t->npairs && n < c->nrows; i++) {
		struct objheap_trace_row r = { 0 };

		figures(t, snap, i, &r.count, &r.bytes);
		if (base)
			figures(t, base, i, &r.base_count, &r.base_bytes);
		if (!(r.count | r.bytes | r.base_count | r.base_bytes))
			continue;
		r.tag = t->pairs[i].tag;
		r.type = t->pairs[i].type;
		r.attachment = t->pairs[i].attach;
		rows[n++] = r;
	}
	c->out_nrows = n;
	c->out_next = i > c->start ? i : c->start;
	c->out_pairs = t->npairs;
	return 0;
}

static int cmd_trace_tag(struct fatt *a, struct objheap_trace_tag *c)
{
	struct fobj *o;
	int64_t pair;

	if (c->size < sizeof(*c) || c->flags)
		return -EINVAL;
	o = lookup(a, c->handle);
	if (!o)
		return -ENOENT;
	pair = trace_pair_of(a->heap, o);
	c->out_tag = 0;
	c->out_type = 0;
	c->out_flags = 0;
	c->out_attachment = 0;
	c->__reserved = 0;
	if (pair >= 0) {
		c->out_tag = a->heap->tr.pairs[pair].tag;
		c->out_type = a->heap->tr.pairs[pair].type;
		c->out_attachment = a->heap->tr.pairs[pair].attach;
		c->out_flags = OBJHEAP_TAG_TRACED;
	}
	return 0;
}

int ioctl(int fd, unsigned long request, ...)
{
	struct fatt *a;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	a = att_of_fd(fd);
	if (!a)
		return (int)syscall(SYS_ioctl, fd, request, arg);
	switch (request) {
	case OBJHEAP_NEW:
		ret = cmd_new(a, arg);
		break;
	case OBJHEAP_BATCH:
		ret = cmd_batch(a, arg);
		break;
	case OBJHEAP_TRACE_CTL:
		ret = cmd_trace_ctl(a, arg);
		break;
	case OBJHEAP_TRACE_SNAPSHOT:
		ret = cmd_trace_snapshot(a, arg);
		break;
	case OBJHEAP_TRACE_ROWS:
		ret = cmd_trace_rows(a, arg);
		break;
	case OBJHEAP_TRACE_TAG:
		ret = cmd_trace_tag(a, arg);
		break;
	default:
		/* The model answers only what the binding asks this way. */
		ret = -ENOTTY;
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}
