/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracer's work for each object (kmod/tracing.c), inline in the
 * object layer: every creation and every death of a traced object goes
 * through it, and under TCG a call and its return cost about as much as
 * the work itself.  What is rare stays out of line in tracing.c: a new
 * pair, a pair behind another on its hash chain, a pool's first words, a
 * large object's word, the sampling's next gap.
 *
 * Context: the heap's lock is held.
 */
#ifndef __OBJHEAP_TRACING_INLINE_H
#define __OBJHEAP_TRACING_INLINE_H

#include <linux/hash.h>
#include <linux/log2.h>

#include "alloc_internal.h"
#include "objheap.h"

/*
 * A small object's word is 32 bits: the low 16 bits of the epoch, then
 * the pair.  Pair indexes fit 16 bits (OBJHEAP_TRACE_PAIRS_MAX).  A
 * large object's word is 64 bits, at the end of its block: the whole
 * epoch, then the pair.  0 is no trace.
 */
#define OH_TRACE_SHORT(epoch)	((epoch) & 0xffff)

int oh_tracing_add_slow(struct objheap *heap, struct oh_object *obj, u64 tag,
			u32 attach);
void oh_trace_next_gap(struct oh_tracing *t);

static inline u32 oh_trace_hash(u64 tag, u32 type, u32 attach, u32 cap)
{
	return hash_64(tag ^ (((u64)attach << 32 | type) * GOLDEN_RATIO_64),
		       ilog2(cap));
}

static inline bool oh_trace_is(const struct oh_trace_pair *p, u64 tag,
			       u32 type, u32 attach)
{
	return p->tag == tag && p->type == type && p->attach == attach;
}

/* Count @objects more (0 or 1) of @pair, and @bytes: the peak may rise. */
static inline void oh_trace_count(struct oh_tracing *t, u32 pair, u32 objects,
				  s64 bytes)
{
	struct oh_trace_pair *p = &t->pairs[pair];

	p->count += objects;
	p->bytes += bytes;
	t->bytes += bytes;
	if (t->bytes > t->peak)
		t->peak = t->bytes;
}

/* An object of @pair, of @bytes, dies: the peak stays. */
static inline void oh_trace_uncount(struct oh_tracing *t, u32 pair, u64 bytes)
{
	struct oh_trace_pair *p = &t->pairs[pair];

	p->count--;
	p->bytes -= bytes;
	t->bytes -= bytes;
}

/* The word at the end of a large object's block (OH_OBJ_TRACE_WORD). */
static inline u64 *oh_trace_long_word(struct oh_object *obj)
{
	return (u64 *)((u8 *)oh_object_block(obj) + oh_object_bytes(obj) -
			sizeof(u64));
}

/*
 * The pair @obj is traced under in this epoch, or -1; with @clear, its
 * word is cleared, for an object that dies.
 */
static __always_inline s64 oh_trace_read(struct objheap *heap,
					 struct oh_object *obj, bool clear)
{
	struct oh_tracing *t = &heap->tracing;
	s64 pair = -1;
	u64 *lw;
	u32 *sw;

	if (!(obj->flags & OH_OBJ_TRACED) || !t->sample_every)
		return -1;
	if (unlikely(obj->flags & OH_OBJ_TRACE_WORD)) {
		lw = oh_trace_long_word(obj);
		if (*lw >> 32 == t->epoch) {
			pair = (u32)*lw;
			if (clear)
				*lw = 0;
		}
		return pair;
	}
	/* NULL once oh_alloc_drop_trace_words() took the pool's words. */
	sw = oh_alloc_trace_word(&heap->alloc, oh_object_block(obj),
				 false);
	if (likely(sw) && *sw >> 16 == OH_TRACE_SHORT(t->epoch)) {
		pair = *sw & 0xffff;
		if (clear)
			*sw = 0;
	}
	return pair;
}

/* Whether the next object is one the sampling traces. */
static __always_inline bool oh_trace_sampled(struct oh_tracing *t)
{
	if (likely(t->sample_every == 1))
		return true;
	if (--t->countdown)
		return false;
	oh_trace_next_gap(t);
	return true;
}

/**
 * oh_tracing_add() - Trace a new object of a heap that traces.
 * @heap: The heap.
 * @obj: The object, created but not published; its block and outline
 *       are final, a mappable payload's pages come later (and count
 *       through oh_tracing_resized()).
 * @tag: The allocation tag its creator gave.
 * @attach: The id of the attachment that creates it.
 *
 * An object the sampling leaves out needs no word: the word of its
 * block, if its pool has words, was cleared when the last traced object
 * there died, or is of an earlier epoch.
 *
 * Return: 0, or -ENOMEM when the trace cannot be kept: then the caller
 * frees @obj, which is not counted.
 */
static __always_inline int oh_tracing_add(struct objheap *heap,
					  struct oh_object *obj, u64 tag,
					  u32 attach)
{
	struct oh_tracing *t = &heap->tracing;
	u32 i, *sw;

	if (!oh_trace_sampled(t))
		return 0;
	/* Mostly, the pair heads its chain and the pool has its words. */
	if (unlikely(!t->cap || (obj->flags & OH_OBJ_TRACE_WORD)))
		return oh_tracing_add_slow(heap, obj, tag, attach);
	i = t->buckets[oh_trace_hash(tag, obj->type, attach, t->cap)];
	if (unlikely(!i || !oh_trace_is(&t->pairs[i - 1], tag, obj->type,
					attach)))
		return oh_tracing_add_slow(heap, obj, tag, attach);
	sw = oh_alloc_trace_word(&heap->alloc, oh_object_block(obj),
				 false);
	if (unlikely(!sw))
		return oh_tracing_add_slow(heap, obj, tag, attach);
	*sw = OH_TRACE_SHORT(t->epoch) << 16 | (i - 1);
	obj->flags |= OH_OBJ_TRACED;
	oh_trace_count(t, i - 1, 1, oh_object_footprint(obj));
	return 0;
}

/**
 * oh_tracing_del() - Forget an object that is being freed.
 * @heap: The heap.
 * @obj: The object, whole still, flagged OH_OBJ_TRACED.
 */
static __always_inline void oh_tracing_del(struct objheap *heap,
					   struct oh_object *obj)
{
	s64 pair = oh_trace_read(heap, obj, true);

	if (pair >= 0)
		oh_trace_uncount(&heap->tracing, pair,
				 oh_object_footprint(obj));
}

#endif /* __OBJHEAP_TRACING_INLINE_H */
