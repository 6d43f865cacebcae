// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing allocations: what tracemalloc is to CPython, for one heap.
 *
 * Userspace names the place an object comes from with a 64-bit tag in
 * OBJHEAP_NEW; the heap counts its live objects and their bytes per
 * pair, which despite its name is a triple: the tag, the type, and the
 * attachment that created them (so that the processes sharing a heap
 * are told apart).  A stack walk, what makes tracemalloc cost its 3x,
 * is replaced by a number the caller already has.
 *
 * Each traced object has one trace word: the tracer's epoch in the high
 * half, the index of its pair in the low half.  The word of a small
 * object, 32 bits, lives in an array beside its pool
 * (oh_alloc_trace_word()), which the pool keeps, zero or stale, while it
 * is free; that of an object above OH_SMALL_MAX bytes, 64 bits, at the
 * end of its own block (OH_OBJ_TRACE_WORD).  Tracing costs the object's
 * header nothing.  Every traced object clears its word when it dies.  A
 * stop frees the pools' arrays; the words of large objects still alive
 * stay as they are, and the next start begins a new epoch, which makes
 * them stale at once.  What runs for every object is inline in the object
 * layer (tracing_inline.h).
 *
 * A pair keeps its index while the heap traces, so the trace word of an
 * object finds its pair with no lookup, and a snapshot is an array of
 * figures by index that OBJHEAP_TRACE_ROWS can set beside another.  A new
 * pair is found through a hash of all three.  The last of the
 * OBJHEAP_TRACE_PAIRS_MAX pairs a heap may count is kept for
 * (OBJHEAP_TAG_OTHER, type 0, attachment 0), which takes every new pair
 * once the others are used up: the arrays never pass
 * OBJHEAP_TRACE_PAIRS_MAX, a power of two.  Pairs and snapshots are
 * charged to the heap's limit.
 *
 * Context: everything here runs under the heap's lock.
 */
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "alloc_internal.h"
#include "objheap.h"
#include "tracing.h"
#include "tracing_inline.h"

#define OH_TRACE_PAIRS_MIN	64
#define OH_TRACE_SAMPLE_MAX	BIT(24)

/* What tracing the pair arrays of @cap pairs costs the heap. */
static size_t oh_trace_table_bytes(u32 cap)
{
	return cap * (sizeof(struct oh_trace_pair) + sizeof(u32));
}

/* ---- the trace word ------------------------------------------------ */

/*
 * Mark @obj traced under @pair.  OH_OBJ_TRACED tells the objects that may
 * have a live word from the others without a look at any word; a traced
 * object above OH_SMALL_MAX bytes always has its word in its block.
 * Return: 0, or -ENOMEM when its pool cannot get its words.
 */
static int oh_trace_mark(struct objheap *heap, struct oh_object *obj, u32 pair)
{
	struct oh_tracing *t = &heap->tracing;
	u32 *sw;

	if (obj->flags & OH_OBJ_TRACE_WORD) {
		*oh_trace_long_word(obj) = (u64)t->epoch << 32 | pair;
	} else {
		sw = oh_alloc_trace_word(&heap->alloc, oh_object_block(obj),
					 true);
		if (!sw)
			return -ENOMEM;
		*sw = OH_TRACE_SHORT(t->epoch) << 16 | pair;
	}
	obj->flags |= OH_OBJ_TRACED;
	return 0;
}

/* ---- pairs --------------------------------------------------------- */

static void oh_trace_link(struct oh_tracing *t, u32 i)
{
	struct oh_trace_pair *p = &t->pairs[i];
	u32 *head = &t->buckets[oh_trace_hash(p->tag, p->type, p->attach,
					      t->cap)];

	p->next = *head;
	*head = i + 1;
}

/*
 * Double the room for pairs: a copy of fewer than OBJHEAP_TRACE_PAIRS_MAX
 * pairs, once per doubling.  Nothing changes on failure.
 */
static int oh_trace_grow(struct objheap *heap)
{
	struct oh_tracing *t = &heap->tracing;
	u32 cap = t->cap ? t->cap * 2 : OH_TRACE_PAIRS_MIN;
	struct oh_trace_pair *pairs;
	u32 *buckets, i;

	if (oh_charge(&heap->alloc, oh_trace_table_bytes(cap)))
		return -ENOMEM;
	pairs = kvmalloc_array(cap, sizeof(*pairs), OH_GFP_LARGE);
	buckets = kvcalloc(cap, sizeof(*buckets), OH_GFP_LARGE);
	if (!pairs || !buckets) {
		kvfree(pairs);
		kvfree(buckets);
		oh_uncharge(&heap->alloc, oh_trace_table_bytes(cap));
		return -ENOMEM;
	}
	if (t->npairs)
		memcpy(pairs, t->pairs, t->npairs * sizeof(*pairs));
	kvfree(t->pairs);
	kvfree(t->buckets);
	oh_uncharge(&heap->alloc, oh_trace_table_bytes(t->cap));
	t->pairs = pairs;
	t->buckets = buckets;
	t->cap = cap;
	for (i = 0; i < t->npairs; i++)
		oh_trace_link(t, i);
	return 0;
}

/* The index of pair (@tag, @type, @attach), made if new. */
static int oh_trace_pair(struct objheap *heap, u64 tag, u32 type, u32 attach,
			 u32 *indexp)
{
	struct oh_tracing *t = &heap->tracing;
	struct oh_trace_pair *p;
	u32 i;
	int ret;

again:
	if (t->cap) {
		for (i = t->buckets[oh_trace_hash(tag, type, attach, t->cap)];
		     i; i = p->next) {
			p = &t->pairs[i - 1];
			if (oh_trace_is(p, tag, type, attach)) {
				*indexp = i - 1;
				return 0;
			}
		}
	}
	/* At the bound, what is new goes to the pair kept for it. */
	if (t->npairs >= OBJHEAP_TRACE_PAIRS_MAX - 1 &&
	    (tag != OBJHEAP_TAG_OTHER || type || attach)) {
		tag = OBJHEAP_TAG_OTHER;
		type = 0;
		attach = 0;
		goto again;
	}
	if (t->npairs == t->cap) {
		ret = oh_trace_grow(heap);
		if (ret)
			return ret;
	}
	i = t->npairs++;
	p = &t->pairs[i];
	p->tag = tag;
	p->type = type;
	p->attach = attach;
	p->count = 0;
	p->bytes = 0;
	oh_trace_link(t, i);
	*indexp = i;
	return 0;
}

/* ---- objects ------------------------------------------------------- */

/*
 * Draw the gap to the next traced object (oh_trace_sampled()), uniform in
 * [1, 2N - 1]: one object in N on average.  The draws come from
 * xorshift64*, seeded at each start: which objects a heap samples is no
 * secret worth a call to the kernel's generator each time, which costs
 * more than the rest of the sampling under TCG.
 */
void oh_trace_next_gap(struct oh_tracing *t)
{
	u64 x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	t->countdown = 1 + (u32)((((x * 0x2545f4914f6cdd1dULL) >> 32) *
				  (2 * t->sample_every - 1)) >> 32);
}

/*
 * oh_tracing_add() when its pair is not the first of its hash chain, or
 * new, when the object's pool has no words yet, or for a large object.
 * Same return.
 */
int oh_tracing_add_slow(struct objheap *heap, struct oh_object *obj, u64 tag,
			u32 attach)
{
	u32 pair;
	int ret;

	ret = oh_trace_pair(heap, tag, obj->type, attach, &pair);
	if (!ret)
		ret = oh_trace_mark(heap, obj, pair);
	if (ret)
		return ret;
	oh_trace_count(&heap->tracing, pair, 1, oh_object_footprint(obj));
	return 0;
}

/**
 * oh_tracing_resized() - An object's footprint changed.
 * @heap: The heap.
 * @obj: The object, as it is now.
 * @old_bytes: Its oh_object_footprint() before.
 */
void oh_tracing_resized(struct objheap *heap, struct oh_object *obj,
			u64 old_bytes)
{
	s64 pair = oh_trace_read(heap, obj, false);

	if (pair >= 0)
		oh_trace_count(&heap->tracing, pair, 0,
			       (s64)oh_object_footprint(obj) - (s64)old_bytes);
}

/* ---- snapshots ----------------------------------------------------- */

static void oh_trace_snap_free(struct objheap *heap, struct oh_trace_snap *s)
{
	if (!s->counts)
		return;
	oh_uncharge(&heap->alloc, s->npairs * sizeof(*s->counts));
	kvfree(s->counts);
	s->counts = NULL;
	s->npairs = 0;
	heap->tracing.nsnaps--;
}

static int oh_trace_snap_take(struct objheap *heap, u32 *idp)
{
	struct oh_tracing *t = &heap->tracing;
	struct oh_trace_snap *s = NULL;
	size_t bytes;
	u32 i;

	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX && !s; i++)
		if (!t->snaps[i].counts)
			s = &t->snaps[i];
	if (!s)
		return -ENOSPC;
	/* An empty snapshot still takes one element: counts marks it used. */
	bytes = max_t(u32, t->npairs, 1) * sizeof(*s->counts);
	if (oh_charge(&heap->alloc, bytes))
		return -ENOMEM;
	s->counts = kvmalloc(bytes, OH_GFP_LARGE);
	if (!s->counts) {
		oh_uncharge(&heap->alloc, bytes);
		return -ENOMEM;
	}
	s->npairs = max_t(u32, t->npairs, 1);
	s->counts[0].count = 0;
	s->counts[0].bytes = 0;
	for (i = 0; i < t->npairs; i++) {
		s->counts[i].count = t->pairs[i].count;
		s->counts[i].bytes = t->pairs[i].bytes;
	}
	t->nsnaps++;
	*idp = s - t->snaps + 1;
	return 0;
}

static struct oh_trace_snap *oh_trace_snap_find(struct oh_tracing *t, u32 id)
{
	if (!id || id > OBJHEAP_TRACE_SNAPSHOTS_MAX || !t->snaps[id - 1].counts)
		return NULL;
	return &t->snaps[id - 1];
}

/* ---- start and stop ------------------------------------------------ */

/* Drop the counts, the snapshots and the pairs; the words stay. */
static void oh_tracing_stop(struct objheap *heap)
{
	struct oh_tracing *t = &heap->tracing;
	u32 i;

	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX; i++)
		oh_trace_snap_free(heap, &t->snaps[i]);
	if (t->cap)
		oh_uncharge(&heap->alloc, oh_trace_table_bytes(t->cap));
	kvfree(t->pairs);
	kvfree(t->buckets);
	t->pairs = NULL;
	t->buckets = NULL;
	t->npairs = 0;
	t->cap = 0;
	t->sample_every = 0;
	t->bytes = 0;
	t->peak = 0;
}

/**
 * oh_tracing_destroy() - Free the tracer of a heap being freed.
 * @heap: The heap, its objects freed.
 */
void oh_tracing_destroy(struct objheap *heap)
{
	oh_tracing_stop(heap);
}

static int oh_tracing_start(struct objheap *heap, u32 sample_every)
{
	struct oh_tracing *t = &heap->tracing;

	if (sample_every > OH_TRACE_SAMPLE_MAX)
		return -EINVAL;
	if (t->sample_every)
		return -EBUSY;
	/*
	 * Words of earlier epochs, left on live objects, go stale; before
	 * the short epoch of small objects' words comes round again, they
	 * all go.
	 */
	t->epoch++;
	if (!OH_TRACE_SHORT(t->epoch)) {
		oh_alloc_drop_trace_words(&heap->alloc);
		t->epoch++;
	}
	t->sample_every = max(sample_every, 1U);
	if (t->sample_every > 1) {
		t->rng = get_random_u64() | 1;
		oh_trace_next_gap(t);
	}
	return 0;
}

/* ---- commands ------------------------------------------------------ */

int objheap_cmd_trace_ctl(struct objheap_ucmd *ucmd)
{
	struct objheap_trace_ctl *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_tracing *t = &heap->tracing;
	int ret = 0;
	u32 i;

	if (cmd->__reserved || (cmd->op != OBJHEAP_TRACE_START &&
				cmd->sample_every))
		return -EINVAL;
	if (cmd->op != OBJHEAP_TRACE_GET && oh_attach_readonly(ucmd->att))
		return -EPERM;
	switch (cmd->op) {
	case OBJHEAP_TRACE_GET:
		break;
	case OBJHEAP_TRACE_START:
		ret = oh_tracing_start(heap, cmd->sample_every);
		break;
	case OBJHEAP_TRACE_STOP:
		if (!t->sample_every)
			break;
		oh_tracing_stop(heap);
		/* The words of every pool go too: their memory comes back. */
		oh_alloc_drop_trace_words(&heap->alloc);
		break;
	case OBJHEAP_TRACE_RESET_PEAK:
		t->peak = t->bytes;
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		return ret;
	cmd->out_traced_bytes = t->bytes;
	cmd->out_peak_bytes = t->peak;
	cmd->out_traced_objects = 0;
	for (i = 0; i < t->npairs; i++)
		cmd->out_traced_objects += t->pairs[i].count;
	cmd->out_pairs = t->npairs;
	cmd->out_sample_every = t->sample_every;
	cmd->out_snapshots = t->nsnaps;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_trace_snapshot(struct objheap_ucmd *ucmd)
{
	struct objheap_trace_snapshot *cmd = ucmd->cmd;
	struct oh_tracing *t = &ucmd->heap->tracing;
	struct oh_trace_snap *s;
	int ret;

	if (!(cmd->flags & OBJHEAP_SNAPSHOT_DROP) && cmd->id)
		return -EINVAL;
	if (!t->sample_every)
		return -ENODATA;
	if (cmd->flags & OBJHEAP_SNAPSHOT_DROP) {
		s = oh_trace_snap_find(t, cmd->id);
		if (!s)
			return -ENOENT;
		oh_trace_snap_free(ucmd->heap, s);
		return 0;
	}
	ret = oh_trace_snap_take(ucmd->heap, &cmd->out_id);
	if (ret)
		return ret;
	ret = objheap_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret)
		oh_trace_snap_free(ucmd->heap, &t->snaps[cmd->out_id - 1]);
	return ret;
}

/* Pair @i's figures in @s, or now when @s is NULL. */
static void oh_trace_figures(struct oh_tracing *t, struct oh_trace_snap *s,
			     u32 i, u64 *count, u64 *bytes)
{
	if (!s) {
		*count = t->pairs[i].count;
		*bytes = t->pairs[i].bytes;
	} else if (i < s->npairs) {
		*count = s->counts[i].count;
		*bytes = s->counts[i].bytes;
	} else {
		*count = 0;
		*bytes = 0;
	}
}

int objheap_cmd_trace_rows(struct objheap_ucmd *ucmd)
{
	struct objheap_trace_rows *cmd = ucmd->cmd;
	struct oh_tracing *t = &ucmd->heap->tracing;
	struct objheap_trace_row __user *urows;
	struct oh_trace_snap *snap = NULL, *base = NULL;
	struct objheap_trace_row row = {};
	u32 i, n = 0;

	if (cmd->__reserved || !cmd->nrows ||
	    cmd->nrows > OBJHEAP_TRACE_ROWS_MAX)
		return -EINVAL;
	if (!t->sample_every)
		return -ENODATA;
	if (cmd->snapshot) {
		snap = oh_trace_snap_find(t, cmd->snapshot);
		if (!snap)
			return -ENOENT;
	}
	if (cmd->base) {
		base = oh_trace_snap_find(t, cmd->base);
		if (!base)
			return -ENOENT;
	}
	urows = u64_to_user_ptr(cmd->rows_uptr);
	for (i = cmd->start; i < t->npairs && n < cmd->nrows; i++) {
		oh_trace_figures(t, snap, i, &row.count, &row.bytes);
		row.base_count = 0;
		row.base_bytes = 0;
		if (base)
			oh_trace_figures(t, base, i, &row.base_count,
					 &row.base_bytes);
		if (!(row.count | row.bytes | row.base_count | row.base_bytes))
			continue;
		row.tag = t->pairs[i].tag;
		row.type = t->pairs[i].type;
		row.attachment = t->pairs[i].attach;
		if (copy_to_user(&urows[n], &row, sizeof(row)))
			return -EFAULT;
		n++;
	}
	cmd->out_nrows = n;
	cmd->out_next = max(i, cmd->start);
	cmd->out_pairs = t->npairs;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_trace_tag(struct objheap_ucmd *ucmd)
{
	struct objheap_trace_tag *cmd = ucmd->cmd;
	struct oh_trace_pair *p;
	struct oh_object *obj;
	s64 pair;

	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	pair = oh_trace_read(ucmd->heap, obj, false);
	cmd->out_tag = 0;
	cmd->out_type = 0;
	cmd->out_flags = 0;
	cmd->out_attachment = 0;
	cmd->__reserved = 0;
	if (pair >= 0) {
		p = &ucmd->heap->tracing.pairs[pair];
		cmd->out_tag = p->tag;
		cmd->out_type = p->type;
		cmd->out_attachment = p->attach;
		cmd->out_flags = OBJHEAP_TAG_TRACED;
	}
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}
