// SPDX-License-Identifier: GPL-2.0
/*
 * The allocator's consistency checker, for the test-only interface
 * (CONFIG_OBJHEAP_TEST) only: a production module does not contain it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "alloc_internal.h"

/* ---- the consistency checker -------------------------------------- */

/*
 * Evaluates to true, after saying what is wrong, when @cond is false.
 * The checker stops at the first problem it finds.
 */
#define OH_BAD(cond, fmt, ...)						\
	({								\
		bool __bad = !(cond);					\
		if (__bad)						\
			pr_err("check: " fmt "\n", ##__VA_ARGS__);	\
		__bad;							\
	})

/* What the checker tallies while it walks. */
struct oh_check {
	unsigned long *seen;		/* free blocks of the pool walked */
	u64 block_bytes;		/* bytes in allocated blocks */
	u64 arenas;
	u64 pool_pages;			/* pools with their page */
	u64 large_held;			/* bytes held by large allocations */
	u64 nonfull[OH_NR_CLASSES];	/* pools that should be on usedpools */
	struct oh_id_cursor cursor;	/* kept from pool to pool */
};

/*
 * Whether the ids of @pool's first and last blocks name them through
 * oh_alloc_ptr_near(), with a cursor left at the pool checked before, and
 * through oh_alloc_ptr_beside() from each other.
 */
static bool oh_check_cursor(struct oh_check *c, struct oh_arena *arena,
			    struct oh_pool *pool, unsigned int bsize,
			    unsigned int nblocks)
{
	void *first = (void *)pool + OH_POOL_OVERHEAD;
	void *last = first + (nblocks - 1) * bsize;
	u32 first_id = oh_alloc_small_id(first);
	u32 last_id = oh_alloc_small_id(last);

	return oh_alloc_ptr_near(arena->owner, first_id, &c->cursor) == first &&
	       oh_alloc_ptr_near(arena->owner, last_id, &c->cursor) == last &&
	       oh_alloc_ptr_beside(arena->owner, first_id, last, last_id) ==
	       first &&
	       oh_alloc_ptr_beside(arena->owner, last_id, first, first_id) ==
	       last;
}

static int oh_check_pool(struct oh_check *c, struct oh_arena *arena,
			 struct oh_pool *pool)
{
	unsigned int idx = pool->szidx, bsize, nblocks, nfree = 0, fresh, off;
	void *bp;

	if (OH_BAD(idx < OH_NR_CLASSES, "pool %p: class %u", pool, idx) ||
	    OH_BAD(pool->arena == arena, "pool %p: arena %p, not %p", pool,
		   pool->arena, arena))
		return -EUCLEAN;
	bsize = OH_CLASS_SIZE(idx);
	nblocks = oh_pool_nblocks(bsize);
	if (OH_BAD(pool->ref >= 1 && pool->ref <= nblocks,
		   "pool %p: %u blocks in use of %u", pool, pool->ref, nblocks) ||
	    OH_BAD(oh_arena_pool(arena, pool->index) == pool,
		   "pool %p: index %u", pool, pool->index) ||
	    OH_BAD(oh_alloc_ptr(arena->owner,
				oh_alloc_small_id((void *)pool +
						  OH_POOL_OVERHEAD)) ==
		   (void *)pool + OH_POOL_OVERHEAD,
		   "pool %p: its id does not name it", pool) ||
	    OH_BAD(oh_check_cursor(c, arena, pool, bsize, nblocks),
		   "pool %p: an id cursor misnames its blocks", pool) ||
	    OH_BAD(pool->nextoffset >= OH_POOL_OVERHEAD + bsize &&
		   pool->nextoffset <= OH_POOL_OVERHEAD + nblocks * bsize &&
		   (pool->nextoffset - OH_POOL_OVERHEAD) % bsize == 0,
		   "pool %p: nextoffset %u", pool, pool->nextoffset))
		return -EUCLEAN;

	bitmap_zero(c->seen, nblocks);
	for (bp = pool->freeblock; bp; bp = *(void **)bp) {
		off = bp - (void *)pool;
		if (OH_BAD(bp > (void *)pool && off < pool->nextoffset &&
			   off >= OH_POOL_OVERHEAD &&
			   (off - OH_POOL_OVERHEAD) % bsize == 0,
			   "pool %p: free block at offset %ld", pool,
			   (long)(bp - (void *)pool)) ||
		    OH_BAD(!test_and_set_bit((off - OH_POOL_OVERHEAD) / bsize,
					     c->seen),
			   "pool %p: block at offset %u free twice", pool, off))
			return -EUCLEAN;
		nfree++;
	}
	fresh = nblocks - (pool->nextoffset - OH_POOL_OVERHEAD) / bsize;
	if (OH_BAD(pool->ref + nfree + fresh == nblocks,
		   "pool %p: %u used + %u free + %u fresh != %u blocks", pool,
		   pool->ref, nfree, fresh, nblocks))
		return -EUCLEAN;
	if (pool->freeblock)
		c->nonfull[idx]++;
	c->block_bytes += (u64)pool->ref * bsize;
	return 0;
}

static int oh_check_arena(struct oh_alloc *a, struct oh_check *c,
			  struct oh_arena *arena, unsigned int nf)
{
	unsigned int i, marked = 0, listed = 0;
	struct oh_pool *pool;
	int ret;

	if (OH_BAD(arena->owner == a, "arena %p: owner %p", arena, arena->owner) ||
	    OH_BAD(arena->nfreepools == nf, "arena %p: %u free pools, on list %u",
		   arena, arena->nfreepools, nf) ||
	    OH_BAD(arena->nextpool <= oh_nr_pools, "arena %p: nextpool %u",
		   arena, arena->nextpool))
		return -EUCLEAN;
	for (i = 0; i < arena->nextpool; i++) {
		pool = oh_arena_pool(arena, i);
		if (pool->szidx == OH_POOL_FREE) {
			if (OH_BAD(!pool->traces ||
				   pool->traces_szidx < OH_NR_CLASSES,
				   "free pool %p: words of class %u", pool,
				   pool->traces_szidx))
				return -EUCLEAN;
			marked++;
			continue;
		}
		ret = oh_check_pool(c, arena, pool);
		if (ret)
			return ret;
	}
	list_for_each_entry(pool, &arena->freepools, node) {
		if (OH_BAD(++listed <= marked,
			   "arena %p: more free pools listed than marked", arena) ||
		    OH_BAD(pool->szidx == OH_POOL_FREE && pool->arena == arena,
			   "arena %p: pool %p on its free list is in use", arena, pool))
			return -EUCLEAN;
	}
	if (OH_BAD(listed == marked, "arena %p: %u free pools listed, %u marked",
		   arena, listed, marked) ||
	    OH_BAD(nf == listed + oh_nr_pools - arena->nextpool,
		   "arena %p: %u free pools, counted %u", arena, nf,
		   listed + oh_nr_pools - arena->nextpool))
		return -EUCLEAN;
	c->arenas++;
	c->pool_pages += arena->nextpool;
	return 0;
}

static int oh_check_usedpools(struct oh_alloc *a, struct oh_check *c)
{
	struct oh_pool *pool;
	unsigned int idx;
	u64 n;

	for (idx = 0; idx < OH_NR_CLASSES; idx++) {
		n = 0;
		list_for_each_entry(pool, &a->usedpools[idx], node) {
			if (OH_BAD(++n <= c->nonfull[idx],
				   "usedpools[%u]: more pools than not full", idx) ||
			    OH_BAD(pool->szidx == idx && pool->freeblock &&
				   pool->arena->owner == a,
				   "usedpools[%u]: pool %p of class %u, %s", idx,
				   pool, pool->szidx,
				   pool->freeblock ? "not full" : "full"))
				return -EUCLEAN;
		}
		if (OH_BAD(n == c->nonfull[idx], "usedpools[%u]: %llu pools, %llu not full",
			   idx, n, c->nonfull[idx]))
			return -EUCLEAN;
	}
	return 0;
}

static int oh_check_large(struct oh_alloc *a, struct oh_check *c, u64 *bytes)
{
	struct oh_large *large;
	u64 n = 0, sum = 0;

	list_for_each_entry(large, &a->large, node) {
		if (OH_BAD(++n <= a->large_count, "more large allocations than %llu",
			   a->large_count))
			return -EUCLEAN;
		sum += large->size;
		*bytes += ALIGN(large->size, OH_ALIGN);
		c->large_held += large->held;
	}
	if (OH_BAD(n == a->large_count && sum == a->large_bytes,
		   "%llu large allocations of %llu bytes, counted %llu of %llu",
		   n, sum, a->large_count, a->large_bytes))
		return -EUCLEAN;
	return 0;
}

static int __oh_alloc_check(struct oh_alloc *a, struct oh_check *c)
{
	struct oh_arena *arena;
	u64 large_bytes = 0;
	unsigned int nf;
	int ret;

	for (nf = 0; nf <= oh_nr_pools; nf++) {
		if (OH_BAD(test_bit(nf, a->nonempty) == !list_empty(&a->arenas[nf]),
			   "arena list %u: bitmap says %d", nf,
			   test_bit(nf, a->nonempty)))
			return -EUCLEAN;
		list_for_each_entry(arena, &a->arenas[nf], node) {
			if (OH_BAD(nf < oh_nr_pools || list_is_singular(&a->arenas[nf]),
				   "more than one free arena kept"))
				return -EUCLEAN;
			ret = oh_check_arena(a, c, arena, nf);
			if (ret)
				return ret;
			cond_resched();
		}
	}
	ret = oh_check_usedpools(a, c);
	if (ret)
		return ret;
	ret = oh_check_large(a, c, &large_bytes);
	if (ret)
		return ret;
	if (OH_BAD(c->arenas == a->arenas_current &&
		   a->arenas_allocated - a->arenas_reclaimed == a->arenas_current &&
		   a->arenas_highwater >= a->arenas_current,
		   "arenas: %llu walked, %llu/%llu/%llu/%llu (cur/alloc/freed/max)",
		   c->arenas, a->arenas_current, a->arenas_allocated,
		   a->arenas_reclaimed, a->arenas_highwater) ||
	    OH_BAD(a->used == c->block_bytes + large_bytes + a->charged,
		   "bytes in use %llu, counted %llu in blocks + %llu large + %llu charged",
		   a->used, c->block_bytes, large_bytes, a->charged) ||
	    OH_BAD(a->pool_pages == c->pool_pages, "%llu pool pages, counted %llu",
		   a->pool_pages, c->pool_pages) ||
	    OH_BAD(a->held == a->fixed + c->arenas * oh_arena_bytes +
		   c->pool_pages * oh_pool_size + c->large_held + a->charged +
		   a->ids_bytes,
		   "bytes held %llu, counted %llu fixed + %llu arenas + %llu pools + %llu large + %llu charged + %llu ids",
		   a->held, a->fixed, c->arenas, c->pool_pages, c->large_held,
		   a->charged, a->ids_bytes))
		return -EUCLEAN;
	return 0;
}

/**
 * oh_alloc_check() - Check a heap's allocator for consistency.
 * @a: The heap's allocator.
 *
 * Walks every arena, pool and free list and verifies every count: the
 * arena lists and their bitmap, each arena's free pools, each pool's
 * header, free list (in bounds, on block boundaries, no block twice) and
 * block count, usedpools, the large allocations, the arena counters and
 * the bytes in use.  The first inconsistency found is logged.
 *
 * Context: The heap's lock is held.  May sleep.
 * Return: 0 when consistent, -EUCLEAN when not, -ENOMEM.
 */
int oh_alloc_check(struct oh_alloc *a)
{
	struct oh_check c = { .cursor = OH_ID_CURSOR_INIT };
	int ret;

	c.seen = bitmap_alloc(oh_pool_nblocks(OH_ALIGN), GFP_KERNEL);
	if (!c.seen)
		return -ENOMEM;
	ret = __oh_alloc_check(a, &c);
	bitmap_free(c.seen);
	return ret;
}

/**
 * oh_alloc_check_block() - Whether a block's pool serves its size.
 * @p: A block from oh_alloc() of at most %OH_SMALL_MAX bytes.
 * @size: The size it was allocated with.
 *
 * A pool's block is freed in the pool's size class (oh_free_pooled()):
 * this checks that the class is the one @size has.
 *
 * Context: The heap's lock is held.
 * Return: true when it is.
 */
bool oh_alloc_check_block(const void *p, size_t size)
{
	const struct oh_pool *pool = (const void *)((unsigned long)p &
						     oh_pool_mask);

	return size - 1 < OH_SMALL_MAX &&
	       pool->szidx == (size - 1) / OH_ALIGN;
}

/**
 * oh_alloc_check_selftest() - Check that the checker notices corruption.
 * @a: The heap's allocator, consistent.
 *
 * Allocates one block, then one at a time: counts a block too many in its
 * pool, a byte too many in use, links a free block to itself; each time
 * the checker must fail, and after the repair pass.  For the test-only
 * interface: the checker's messages reach the kernel log.
 *
 * Context: The heap's lock is held.
 * Return: 0, -EUCLEAN when the checker missed a corruption or the heap was
 * not consistent to start with, -ENOMEM.
 */
int oh_alloc_check_selftest(struct oh_alloc *a)
{
	struct oh_pool *pool;
	void **bp, *saved;
	int ret, missed = 0;

	ret = oh_alloc_check(a);
	if (ret)
		return ret;
	bp = oh_alloc(a, OH_ALIGN);
	if (!bp)
		return -ENOMEM;
	pool = (struct oh_pool *)((unsigned long)bp & oh_pool_mask);

	pool->ref++;
	missed += oh_alloc_check(a) != -EUCLEAN;
	pool->ref--;

	a->used++;
	missed += oh_alloc_check(a) != -EUCLEAN;
	a->used--;

	/* The block is allocated: make it a free block pointing to itself. */
	saved = pool->freeblock;
	*bp = bp;
	pool->freeblock = bp;
	missed += oh_alloc_check(a) != -EUCLEAN;
	pool->freeblock = saved;

	ret = oh_alloc_check(a);
	oh_free(a, bp, OH_ALIGN);
	if (!ret && missed)
		ret = -EUCLEAN;
	return ret ?: oh_alloc_check(a);
}
