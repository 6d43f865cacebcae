/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocator's own structures, shared by alloc.c and, in test builds,
 * its consistency checker (alloc_check.c).  The object layer sees
 * alloc.h only, but for oh_alloc_trace_word(), which the tracer's inline
 * path (tracing_inline.h) uses at every traced creation and death.
 */
#ifndef __OBJHEAP_ALLOC_INTERNAL_H
#define __OBJHEAP_ALLOC_INTERNAL_H

#include <linux/list.h>
#include <linux/mm.h>

#include "alloc.h"

/* Derived from the module parameters by oh_alloc_setup(), then read-only. */
extern unsigned int oh_pool_size;
extern unsigned int oh_pool_order;
extern unsigned int oh_nr_pools;
extern unsigned long oh_pool_mask;
/* What one struct oh_arena takes from the slab. */
extern size_t oh_arena_bytes;
/* DIV_ROUND_UP(2^32, block size) per class. */
extern u32 oh_class_recip[];

#define OH_CLASS_SIZE(idx)	(((idx) + 1) * OH_ALIGN)
/* szidx of a pool that is free: it serves no class. */
#define OH_POOL_FREE		U16_MAX
/* The offsets of struct oh_pool are 16-bit. */
#define OH_POOL_SIZE_MAX	SZ_32K

/**
 * struct oh_pool - The header at the start of every pool.
 * @freeblock: The next block to hand out: the head of the free list or,
 *             when that is empty, the next never-used block.  NULL when
 *             the pool is full.
 * @ref: Blocks allocated.
 * @nextoffset: Offset of the first block never handed out.
 * @traces_szidx: A free pool only: the class its @traces were made for.
 * @index: The pool's place in its arena.
 * @szidx: Size class, or %OH_POOL_FREE.
 * @node: In usedpools[@szidx] while in use and not full; in the arena's
 *        freepools while free.
 * @arena: The arena the pool belongs to.
 * @traces: NULL, or one word per block for the heap's allocation traces
 *          (oh_alloc_trace_word()), from the first traced block on.  A
 *          pool that empties keeps them, zero or stale, for when it serves
 *          its class again; they go when it serves another class, when
 *          its arena goes, or when the heap stops tracing.
 */
struct oh_pool {
	void *freeblock;
	u16 ref;
	union {
		u16 nextoffset;
		u16 traces_szidx;
	};
	u16 index;
	u16 szidx;
	struct list_head node;
	struct oh_arena *arena;
	u32 *traces;
};

/* 48 bytes on 64-bit: blocks after it stay 16-byte aligned. */
#define OH_POOL_OVERHEAD	ALIGN(sizeof(struct oh_pool), OH_ALIGN)

/**
 * struct oh_arena - An arena: oh_nr_pools pools.
 * @node: In the heap's arenas[@nfreepools].
 * @freepools: Pools that were used and were returned.
 * @nfreepools: Free pools: those on @freepools and those never used.
 * @nextpool: Index of the first pool never used.
 * @owner: The heap's allocator, for the checker.
 * @id_base: The id of its first pool's offset 0: its number times
 *           oh_nr_pools, shifted by oh_id_shift.
 * @pages: The pools' pages, each of order oh_pool_order.
 */
struct oh_arena {
	struct list_head node;
	struct list_head freepools;
	unsigned int nfreepools;
	unsigned int nextpool;
	struct oh_alloc *owner;
	u32 id_base;
	struct page *pages[];
};

/**
 * struct oh_large - The header in front of an allocation above
 * %OH_SMALL_MAX bytes.
 * @node: In the heap's large list.
 * @size: The size requested.
 * @held: The bytes it holds, counted in struct oh_alloc.held.
 */
struct oh_large {
	struct list_head node;
	size_t size;
	size_t held;
};

/* 32 bytes: kvmalloc() memory is at least 16-byte aligned here (see
 * oh_alloc_large()), so the caller's part is too.
 */
#define OH_LARGE_HDR		ALIGN(sizeof(struct oh_large), OH_ALIGN)

static inline unsigned int oh_pool_nblocks(unsigned int bsize)
{
	return (oh_pool_size - OH_POOL_OVERHEAD) / bsize;
}

static inline struct oh_pool *oh_arena_pool(struct oh_arena *arena, unsigned int i)
{
	return page_address(arena->pages[i]);
}

int oh_pool_get_traces(struct oh_alloc *a, struct oh_pool *pool);

/**
 * oh_alloc_small_id() - The id of a small block, or of a place in one.
 * @p: A 16-byte aligned address in a block of at most %OH_SMALL_MAX bytes
 *     from oh_alloc().
 *
 * Return: The id oh_alloc_ptr() turns back into @p.
 */
static __always_inline u32 oh_alloc_small_id(const void *p)
{
	const struct oh_pool *pool = (const void *)((unsigned long)p &
						     oh_pool_mask);

	return pool->arena->id_base + ((u32)pool->index << oh_id_shift) +
	       (u32)(((unsigned long)p & ~oh_pool_mask) >> 4);
}

/**
 * oh_alloc_ptr_beside() - oh_alloc_ptr(), for an id often in a known pool.
 * @a: The heap's allocator.
 * @id: As for oh_alloc_ptr().
 * @p: A small block from oh_alloc().
 * @p_id: oh_alloc_small_id(@p).
 *
 * An id of @p's own pool is found from @p's address, without the map's
 * two loads; any other id through the map.  Objects made one after the
 * other share a pool: a new object's neighbour on the young list mostly
 * is in its pool.
 *
 * Return: The address @id was made from.
 */
static __always_inline void *oh_alloc_ptr_beside(const struct oh_alloc *a,
						 u32 id, const void *p,
						 u32 p_id)
{
	if (!((id ^ p_id) >> oh_id_shift))
		return (u8 *)((unsigned long)p & oh_pool_mask) +
		       ((unsigned long)(id & oh_id_offset_mask) << 4);
	return oh_alloc_ptr(a, id);
}

/**
 * oh_alloc_trace_word() - The word kept beside a small block for its trace.
 * @a: The heap's allocator.
 * @p: A live block of at most %OH_SMALL_MAX bytes from oh_alloc().
 * @create: Give the block's pool its words if it has none yet.
 *
 * What a word holds is the tracer's business (kmod/tracing.c).
 *
 * Context: The heap's lock is held.  May sleep when @create.
 * Return: The word; NULL when the pool has none and @create is false, or
 * when they cannot be had (the heap's limit, or no memory).
 */
static __always_inline u32 *oh_alloc_trace_word(struct oh_alloc *a, void *p,
						bool create)
{
	struct oh_pool *pool = (struct oh_pool *)((unsigned long)p & oh_pool_mask);

	if (unlikely(!pool->traces) &&
	    (!create || oh_pool_get_traces(a, pool)))
		return NULL;
	/*
	 * The block's index without a division, which the kernel's hot
	 * paths avoid: the offset is an exact multiple of the block size
	 * and below 2^15, so multiplying by the rounded-up reciprocal and
	 * shifting is exact.
	 */
	return &pool->traces[((u64)(p - (void *)pool - OH_POOL_OVERHEAD) *
			      oh_class_recip[pool->szidx]) >> 32];
}

struct oh_pool *oh_pool_new(struct oh_alloc *a, unsigned int idx);
void oh_pool_full(struct oh_pool *pool);
void oh_pool_unfull(struct oh_alloc *a, struct oh_pool *pool);
void oh_pool_empty(struct oh_alloc *a, struct oh_pool *pool);

/*
 * The free list of @pool just ran out: hand out the next never-used
 * block, or take the pool off usedpools when there is none.
 */
static __always_inline void oh_pool_extend(struct oh_pool *pool,
					   unsigned int bsize)
{
	void **bp;

	if (likely(pool->nextoffset <= oh_pool_size - bsize)) {
		bp = (void *)pool + pool->nextoffset;
		*bp = NULL;
		pool->freeblock = bp;
		pool->nextoffset += bsize;
		return;
	}
	oh_pool_full(pool);
}

/**
 * oh_alloc_small() - Allocate a block of a pool.
 * @a: The heap's allocator.
 * @idx: Its size class.
 *
 * Inline here for OBJHEAP_NEW (__oh_alloc()): through oh_alloc(), a
 * call that saves and restores three registers.  A new pool and a pool
 * that fills up are out of line.
 *
 * Context: The heap's lock is held.
 * Return: The block, or NULL (the heap's limit, or no memory).
 */
static __always_inline void *oh_alloc_small(struct oh_alloc *a,
					    unsigned int idx)
{
	unsigned int bsize = OH_CLASS_SIZE(idx);
	struct list_head *head = &a->usedpools[idx];
	struct oh_pool *pool;
	void **bp;

	if (likely(!list_empty(head))) {
		pool = list_first_entry(head, struct oh_pool, node);
	} else {
		pool = oh_pool_new(a, idx);
		if (unlikely(!pool))
			return NULL;
	}
	bp = pool->freeblock;
	pool->freeblock = *bp;
	pool->ref++;
	a->used += bsize;
	if (unlikely(!pool->freeblock))
		oh_pool_extend(pool, bsize);
	return bp;
}

/* oh_alloc(), with a block of a pool allocated inline. */
static __always_inline void *__oh_alloc(struct oh_alloc *a, size_t size)
{
	if (likely(size - 1 < OH_SMALL_MAX))
		return oh_alloc_small(a, (size - 1) / OH_ALIGN);
	return oh_alloc(a, size);
}

/* Free @p, a block of @pool, whose size class is @idx. */
static __always_inline void __oh_free_small(struct oh_alloc *a,
					    struct oh_pool *pool, void *p,
					    unsigned int idx)
{
	void *last = pool->freeblock;

	*(void **)p = last;
	pool->freeblock = p;
	a->used -= OH_CLASS_SIZE(idx);
	if (likely(last)) {
		if (likely(--pool->ref))
			return;
		oh_pool_empty(a, pool);
		return;
	}
	oh_pool_unfull(a, pool);
}

/**
 * oh_free_small() - Free a block of a pool.
 * @a: The heap's allocator.
 * @p: The block.
 * @idx: Its size class: what oh_free() makes of the size oh_alloc() had.
 *
 * The pool's changes of list are out of line.
 *
 * Context: The heap's lock is held.
 */
static __always_inline void oh_free_small(struct oh_alloc *a, void *p,
					  unsigned int idx)
{
	struct oh_pool *pool = (struct oh_pool *)((unsigned long)p & oh_pool_mask);

	/* A sized free with the wrong size would corrupt the pool. */
	if (WARN_ON_ONCE(pool->szidx != idx))
		return;
	__oh_free_small(a, pool, p, idx);
}

/**
 * oh_free_pooled() - Free a block known to be of a pool, whatever its size.
 * @a: The heap's allocator.
 * @p: The block, from oh_alloc() of at most %OH_SMALL_MAX bytes.
 *
 * The size class is the pool's own, as pymalloc's free takes it: inline
 * for the deaths of objects in small blocks (kmod/object.c), which then
 * need not work out their block's size from their shape.
 *
 * Context: The heap's lock is held.
 */
static __always_inline void oh_free_pooled(struct oh_alloc *a, void *p)
{
	struct oh_pool *pool = (struct oh_pool *)((unsigned long)p & oh_pool_mask);

	__oh_free_small(a, pool, p, pool->szidx);
}

#endif /* __OBJHEAP_ALLOC_INTERNAL_H */
