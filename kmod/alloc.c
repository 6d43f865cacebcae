// SPDX-License-Identifier: GPL-2.0
/*
 * objheap's allocator: CPython's obmalloc, one instance per heap.
 *
 * Every byte of a heap's objects comes from here.  The layers, from the
 * bottom up (Documentation/allocator.rst tells why each is what it is):
 *
 * raw layer
 *	Memory from the kernel, always GFP_KERNEL_ACCOUNT so that it is
 *	charged to the memory cgroup of the task that made the heap grow,
 *	and __GFP_NOWARN because userspace decides how much it asks for.
 *	Arenas are built from it, and so are the large allocations: a
 *	request above OH_SMALL_MAX bytes is a kvmalloc() with a small
 *	header (struct oh_large) that links it into the heap's list, so
 *	that oh_alloc_destroy() finds it.
 *
 * arena
 *	arena_size bytes (256 KiB) made of arena_size / pool_size separate
 *	pool-sized page blocks (64 single pages by default), not of one
 *	contiguous high-order allocation: an order-6 allocation is what a
 *	long-running kernel's fragmented memory refuses first, while single
 *	pages are always there, cost less to get (measured in
 *	allocator.rst) and stay in the direct map (no vmalloc space, no
 *	TLB cost).  The arena itself is a small kmalloc'd struct oh_arena
 *	with the page pointers.  It hands out its pools first from the pools
 *	returned to it, then from the never-used ones in order (a bump
 *	index), so that a fresh arena's untouched pages stay untouched.
 *
 * pool
 *	pool_size bytes (one page) serving one size class.  struct oh_pool
 *	sits at its start, so that a block's pool is its address masked
 *	with oh_pool_mask: the pool blocks are naturally aligned, as every
 *	buddy allocation is.  Free blocks form an intrusive singly-linked
 *	list through their first word; blocks never used yet are carved
 *	from the end of the used part (nextoffset) only when the free list
 *	runs out, as CPython does, so a fresh pool is never walked.
 *
 * block
 *	16 to 512 bytes in 32 classes 16 bytes apart: class i holds blocks
 *	of (i + 1) * 16 bytes, and a request of n bytes goes to class
 *	(n - 1) / 16.  Blocks are 16-byte aligned because the pool header
 *	is a multiple of 16 bytes.
 *
 * Per heap (struct oh_alloc), usedpools[i] lists the pools of class i
 * that have a free block, so that allocation is: first pool of the list,
 * pop its free list, done.  A pool that fills leaves the list; one that
 * was full and gets a block back returns to its head; one whose last
 * block is freed goes back to its arena.
 *
 * Arenas are filed in oh_nr_pools + 1 lists by their number of free
 * pools, with a bitmap of the non-empty lists.  A new pool comes from the
 * arena with the fewest free pools but at least one (find_next_bit() from
 * 1): CPython's usable_arenas order, which lets nearly empty arenas
 * drain.  An arena whose pools are all free is given back to the system,
 * except for one kept (in the last list) against thrashing; it is used
 * only when no other arena has a free pool.
 *
 * The limit: struct oh_alloc.used counts every live allocation at its
 * size rounded up to OH_ALIGN (for a small one, exactly its block) plus
 * what oh_charge() charged.  An allocation that would take it past the
 * limit fails before anything is allocated.  The allocator's own
 * metadata (pool headers, arena structs, free pools) is charged to the
 * memory cgroup but not counted against the limit.
 *
 * Context: every function taking a struct oh_alloc runs under the heap's
 * mutex (struct objheap.lock), which serializes everything below; the
 * allocator has no lock of its own and may sleep.  The module-wide page
 * and large-allocation counters are atomics.
 *
 * Lock order:
 *	objheap->lock
 *	  (page allocator, slab, vmalloc)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "alloc.h"

static unsigned int arena_size = SZ_256K;
module_param(arena_size, uint, 0444);
MODULE_PARM_DESC(arena_size, "Bytes per arena, a multiple of pool_size (default 256 KiB)");

static unsigned int pool_size = PAGE_SIZE;
module_param(pool_size, uint, 0444);
MODULE_PARM_DESC(pool_size, "Bytes per pool, a power of two from PAGE_SIZE to 32 KiB (default PAGE_SIZE)");

static unsigned long long heap_limit = SZ_256M;
module_param(heap_limit, ullong, 0644);
MODULE_PARM_DESC(heap_limit, "Default limit of a new heap's bytes in use (default 256 MiB)");

static unsigned long long heap_limit_max = SZ_1G;
module_param(heap_limit_max, ullong, 0644);
MODULE_PARM_DESC(heap_limit_max, "The most any heap's limit may be set to (default 1 GiB)");

/*
 * Pools of order 0 to 3: PAGE_ALLOC_COSTLY_ORDER is the largest order
 * the page allocator tries hard to satisfy, so 32 KiB pools on 4 KiB
 * pages.
 */
#define OH_POOL_ORDER_MAX	PAGE_ALLOC_COSTLY_ORDER
/*
 * At most 512 pools per arena (2 MiB with 4 KiB pools): the per-heap
 * array of arena lists (one per possible free-pool count) stays within
 * two pages.
 */
#define OH_NR_POOLS_MAX		512

/* Derived from the parameters by oh_alloc_setup(), then read-only. */
static unsigned int oh_pool_order __read_mostly;
static unsigned int oh_nr_pools __read_mostly;
static unsigned long oh_pool_mask __read_mostly;

/* What all heaps hold, for the "a closed heap returns every page" test. */
static atomic_long_t oh_pages_held = ATOMIC_LONG_INIT(0);
static atomic_long_t oh_large_held = ATOMIC_LONG_INIT(0);

#define OH_GFP			(GFP_KERNEL_ACCOUNT | __GFP_NOWARN)

#define OH_CLASS_SIZE(idx)	(((idx) + 1) * OH_ALIGN)
/* szidx of a pool that is free: it serves no class. */
#define OH_POOL_FREE		UINT_MAX

/**
 * struct oh_pool - The header at the start of every pool.
 * @freeblock: The next block to hand out: the head of the free list or,
 *             when that is empty, the next never-used block.  NULL when
 *             the pool is full.
 * @ref: Blocks allocated.
 * @nextoffset: Offset of the first block never handed out.
 * @maxnextoffset: The largest offset a block may start at.
 * @szidx: Size class, or %OH_POOL_FREE.
 * @node: In usedpools[@szidx] while in use and not full; in the arena's
 *        freepools while free.
 * @arena: The arena the pool belongs to.
 */
struct oh_pool {
	void *freeblock;
	unsigned int ref;
	unsigned int nextoffset;
	unsigned int maxnextoffset;
	unsigned int szidx;
	struct list_head node;
	struct oh_arena *arena;
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
 * @pages: The pools' pages, each of order oh_pool_order.
 */
struct oh_arena {
	struct list_head node;
	struct list_head freepools;
	unsigned int nfreepools;
	unsigned int nextpool;
	struct oh_alloc *owner;
	struct page *pages[];
};

/**
 * struct oh_large - The header in front of an allocation above
 * %OH_SMALL_MAX bytes.
 * @node: In the heap's large list.
 * @size: The size requested.
 */
struct oh_large {
	struct list_head node;
	size_t size;
};

/* 32 bytes: kvmalloc() memory is at least 16-byte aligned here (see
 * oh_alloc_large()), so the caller's part is too.
 */
#define OH_LARGE_HDR		ALIGN(sizeof(struct oh_large), OH_ALIGN)

static unsigned int oh_pool_nblocks(unsigned int bsize)
{
	return (pool_size - OH_POOL_OVERHEAD) / bsize;
}

static struct oh_pool *oh_arena_pool(struct oh_arena *arena, unsigned int i)
{
	return page_address(arena->pages[i]);
}

/**
 * oh_alloc_setup() - Check the module parameters and derive constants.
 *
 * Context: Module init, before any heap exists.
 * Return: 0, or -EINVAL when arena_size or pool_size is unusable.
 */
int oh_alloc_setup(void)
{
	if (!is_power_of_2(pool_size) || pool_size < PAGE_SIZE ||
	    pool_size > PAGE_SIZE << OH_POOL_ORDER_MAX) {
		pr_err("pool_size %u: not a power of two from %lu to %lu\n",
		       pool_size, PAGE_SIZE, PAGE_SIZE << OH_POOL_ORDER_MAX);
		return -EINVAL;
	}
	if (!arena_size || arena_size % pool_size ||
	    arena_size / pool_size > OH_NR_POOLS_MAX) {
		pr_err("arena_size %u: not 1 to %u times pool_size\n",
		       arena_size, OH_NR_POOLS_MAX);
		return -EINVAL;
	}
	oh_pool_order = ilog2(pool_size >> PAGE_SHIFT);
	oh_nr_pools = arena_size / pool_size;
	oh_pool_mask = ~((unsigned long)pool_size - 1);
	return 0;
}

/* ---- raw layer ---------------------------------------------------- */

/* Test builds: fail the raw allocation that brings test_fail_nth to 0. */
static bool oh_raw_should_fail(struct oh_alloc *a)
{
	return IS_ENABLED(CONFIG_OBJHEAP_TEST) && a->test_fail_nth &&
	       !--a->test_fail_nth;
}

static void oh_arena_free_pages(struct oh_arena *arena, unsigned int nr)
{
	while (nr--)
		__free_pages(arena->pages[nr], oh_pool_order);
}

/* Take a new arena from the system; it is on no list yet. */
static struct oh_arena *oh_arena_alloc(struct oh_alloc *a)
{
	struct oh_arena *arena;
	unsigned int i;

	if (oh_raw_should_fail(a))
		return NULL;
	arena = kmalloc(struct_size(arena, pages, oh_nr_pools), OH_GFP);
	if (!arena)
		return NULL;
	/*
	 * One page block at a time: alloc_pages_bulk_array() would take
	 * one call, but in 6.1 it does not support __GFP_ACCOUNT and
	 * falls back to a single page per call anyway.
	 */
	for (i = 0; i < oh_nr_pools; i++) {
		arena->pages[i] = oh_raw_should_fail(a) ? NULL :
				  alloc_pages(OH_GFP, oh_pool_order);
		if (!arena->pages[i])
			goto err_free_pages;
	}
	INIT_LIST_HEAD(&arena->freepools);
	arena->nfreepools = oh_nr_pools;
	arena->nextpool = 0;
	arena->owner = a;

	atomic_long_add(oh_nr_pools << oh_pool_order, &oh_pages_held);
	a->arenas_allocated++;
	a->arenas_current++;
	a->arenas_highwater = max(a->arenas_highwater, a->arenas_current);
	return arena;

err_free_pages:
	oh_arena_free_pages(arena, i);
	kfree(arena);
	return NULL;
}

/* Give an arena back to the system; it is on no list any more. */
static void oh_arena_free(struct oh_alloc *a, struct oh_arena *arena)
{
	oh_arena_free_pages(arena, oh_nr_pools);
	kfree(arena);
	atomic_long_sub(oh_nr_pools << oh_pool_order, &oh_pages_held);
	a->arenas_current--;
	a->arenas_reclaimed++;
}

/* ---- arenas, in usable_arenas order ------------------------------- */

static void oh_arena_file(struct oh_alloc *a, struct oh_arena *arena,
			  unsigned int nfreepools)
{
	arena->nfreepools = nfreepools;
	list_add(&arena->node, &a->arenas[nfreepools]);
	__set_bit(nfreepools, a->nonempty);
}

static void oh_arena_unfile(struct oh_alloc *a, struct oh_arena *arena)
{
	list_del(&arena->node);
	if (list_empty(&a->arenas[arena->nfreepools]))
		__clear_bit(arena->nfreepools, a->nonempty);
}

/*
 * Take a free pool from the arena with the fewest free pools, or from a
 * new arena when none has one.
 */
static struct oh_pool *oh_pool_take(struct oh_alloc *a)
{
	struct oh_arena *arena;
	struct oh_pool *pool;
	unsigned long nf;

	nf = find_next_bit(a->nonempty, oh_nr_pools + 1, 1);
	if (nf > oh_nr_pools) {
		arena = oh_arena_alloc(a);
		if (!arena)
			return NULL;
	} else {
		arena = list_first_entry(&a->arenas[nf], struct oh_arena, node);
		oh_arena_unfile(a, arena);
	}

	if (!list_empty(&arena->freepools)) {
		pool = list_first_entry(&arena->freepools, struct oh_pool, node);
		list_del(&pool->node);
	} else {
		pool = oh_arena_pool(arena, arena->nextpool++);
		pool->arena = arena;
	}
	oh_arena_file(a, arena, arena->nfreepools - 1);
	return pool;
}

/*
 * Return an empty pool, on no list, to its arena.  The arena moves to
 * the list of its new free-pool count; if it is now entirely free and
 * another free arena is already kept, it goes back to the system.
 */
static void oh_pool_release(struct oh_alloc *a, struct oh_pool *pool)
{
	struct oh_arena *arena = pool->arena;
	unsigned int nf = arena->nfreepools + 1;

	pool->szidx = OH_POOL_FREE;
	list_add(&pool->node, &arena->freepools);
	oh_arena_unfile(a, arena);
	if (nf == oh_nr_pools && test_bit(oh_nr_pools, a->nonempty)) {
		oh_arena_free(a, arena);
		return;
	}
	oh_arena_file(a, arena, nf);
}

/* ---- pools and blocks --------------------------------------------- */

/* Set up a free pool for class @idx and put it at the head of usedpools. */
static noinline struct oh_pool *oh_pool_new(struct oh_alloc *a,
					    unsigned int idx)
{
	unsigned int bsize = OH_CLASS_SIZE(idx);
	struct oh_pool *pool;
	void **bp;

	pool = oh_pool_take(a);
	if (!pool)
		return NULL;
	pool->szidx = idx;
	pool->ref = 0;
	bp = (void *)pool + OH_POOL_OVERHEAD;
	*bp = NULL;
	pool->freeblock = bp;
	pool->nextoffset = OH_POOL_OVERHEAD + bsize;
	pool->maxnextoffset = pool_size - bsize;
	list_add(&pool->node, &a->usedpools[idx]);
	return pool;
}

/*
 * The free list of @pool just ran out: hand out the next never-used
 * block, or take the pool off usedpools when there is none.
 */
static __always_inline void oh_pool_extend(struct oh_pool *pool,
					   unsigned int bsize)
{
	void **bp;

	if (likely(pool->nextoffset <= pool->maxnextoffset)) {
		bp = (void *)pool + pool->nextoffset;
		*bp = NULL;
		pool->freeblock = bp;
		pool->nextoffset += bsize;
		return;
	}
	list_del(&pool->node);
}

static __always_inline void *oh_alloc_small(struct oh_alloc *a,
					    unsigned int idx)
{
	unsigned int bsize = OH_CLASS_SIZE(idx);
	struct list_head *head = &a->usedpools[idx];
	struct oh_pool *pool;
	void **bp;

	if (unlikely(a->used + bsize > a->limit))
		return NULL;
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

/* The pool was full and got a block back. */
static noinline void oh_pool_unfull(struct oh_alloc *a, struct oh_pool *pool)
{
	if (--pool->ref) {
		list_add(&pool->node, &a->usedpools[pool->szidx]);
		return;
	}
	oh_pool_release(a, pool);
}

/* The pool's last block was freed. */
static noinline void oh_pool_empty(struct oh_alloc *a, struct oh_pool *pool)
{
	list_del(&pool->node);
	oh_pool_release(a, pool);
}

static __always_inline void oh_free_small(struct oh_alloc *a, void *p,
					  unsigned int idx)
{
	struct oh_pool *pool = (struct oh_pool *)((unsigned long)p & oh_pool_mask);
	void *last = pool->freeblock;

	/* A sized free with the wrong size would corrupt the pool. */
	if (WARN_ON_ONCE(pool->szidx != idx))
		return;
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

/* ---- large allocations -------------------------------------------- */

static noinline void *oh_alloc_large(struct oh_alloc *a, size_t size)
{
	struct oh_large *large;
	u64 charge;

	if (!size)
		return oh_alloc_small(a, 0);
	/* Also keeps ALIGN() from overflowing. */
	if (size > a->limit)
		return NULL;
	charge = ALIGN(size, OH_ALIGN);
	if (a->used + charge > a->limit)
		return NULL;
	if (oh_raw_should_fail(a))
		return NULL;
	/*
	 * Above OH_SMALL_MAX + OH_LARGE_HDR bytes kmalloc() uses its
	 * power-of-two caches, naturally aligned even with slab debugging
	 * (create_boot_cache()), and vmalloc() is page aligned.
	 */
	large = kvmalloc(OH_LARGE_HDR + size, OH_GFP);
	if (!large)
		return NULL;
	large->size = size;
	list_add(&large->node, &a->large);
	a->used += charge;
	a->large_count++;
	a->large_bytes += size;
	atomic_long_inc(&oh_large_held);
	return (void *)large + OH_LARGE_HDR;
}

static void oh_large_free(struct oh_large *large)
{
	list_del(&large->node);
	kvfree(large);
	atomic_long_dec(&oh_large_held);
}

static noinline void oh_free_large(struct oh_alloc *a, void *p, size_t size)
{
	struct oh_large *large = p - OH_LARGE_HDR;

	if (!size) {
		oh_free_small(a, p, 0);
		return;
	}
	if (WARN_ON_ONCE(large->size != size))
		return;
	a->used -= ALIGN(size, OH_ALIGN);
	a->large_count--;
	a->large_bytes -= size;
	oh_large_free(large);
}

/* ---- the interface ------------------------------------------------ */

/**
 * oh_alloc() - Allocate a block for a heap.
 * @a: The heap's allocator.
 * @size: Bytes wanted (0 is served as 1).
 *
 * Up to %OH_SMALL_MAX bytes the block comes from a pool of the size
 * class; above, from kvmalloc().  Either way it counts
 * ALIGN(@size, %OH_ALIGN) bytes against the heap's limit.
 *
 * Context: The heap's lock is held.  May sleep.
 * Return: 16-byte aligned memory, not zeroed, or NULL when the limit
 * would be exceeded or memory is short; then nothing changed.
 */
void *oh_alloc(struct oh_alloc *a, size_t size)
{
	if (likely(size - 1 < OH_SMALL_MAX))
		return oh_alloc_small(a, (size - 1) / OH_ALIGN);
	return oh_alloc_large(a, size);
}

/**
 * oh_free() - Free a block allocated by oh_alloc().
 * @a: The heap's allocator.
 * @p: The block, or NULL (then nothing happens).
 * @size: Exactly the size that was passed to oh_alloc().
 *
 * Context: The heap's lock is held.
 */
void oh_free(struct oh_alloc *a, void *p, size_t size)
{
	if (unlikely(!p))
		return;
	if (likely(size - 1 < OH_SMALL_MAX))
		oh_free_small(a, p, (size - 1) / OH_ALIGN);
	else
		oh_free_large(a, p, size);
}

/**
 * oh_charge() - Count memory held outside the allocator against the limit.
 * @a: The heap's allocator.
 * @bytes: Bytes the heap now holds besides its allocations.
 *
 * Context: The heap's lock is held.
 * Return: 0, or -ENOMEM if the limit would be exceeded (nothing charged).
 */
int oh_charge(struct oh_alloc *a, size_t bytes)
{
	if (bytes > a->limit || a->used + bytes > a->limit)
		return -ENOMEM;
	a->used += bytes;
	a->charged += bytes;
	return 0;
}

/**
 * oh_uncharge() - Undo oh_charge().
 * @a: The heap's allocator.
 * @bytes: Bytes charged before.
 *
 * Context: The heap's lock is held.
 */
void oh_uncharge(struct oh_alloc *a, size_t bytes)
{
	if (WARN_ON_ONCE(bytes > a->charged))
		bytes = a->charged;
	a->used -= bytes;
	a->charged -= bytes;
}

/**
 * oh_alloc_set_limit() - Set a heap's limit.
 * @a: The heap's allocator.
 * @limit: The most bytes in use (see struct oh_alloc.used).
 *
 * A limit below what is in use is accepted: allocations fail until
 * enough is freed.
 *
 * Context: The heap's lock is held.
 * Return: 0, or -EINVAL above the module parameter heap_limit_max.
 */
int oh_alloc_set_limit(struct oh_alloc *a, u64 limit)
{
	if (limit > READ_ONCE(heap_limit_max))
		return -EINVAL;
	a->limit = limit;
	return 0;
}

/**
 * oh_alloc_init() - Set up a heap's allocator, empty.
 * @a: The allocator, embedded in the heap.
 *
 * The limit starts at the module parameter heap_limit (at most
 * heap_limit_max).
 *
 * Context: Process context; the heap is not visible yet.
 * Return: 0 or -ENOMEM.
 */
int oh_alloc_init(struct oh_alloc *a)
{
	unsigned int i, nr_lists = oh_nr_pools + 1;

	memset(a, 0, sizeof(*a));
	a->arenas = kmalloc_array(nr_lists, sizeof(*a->arenas), GFP_KERNEL_ACCOUNT);
	if (!a->arenas)
		return -ENOMEM;
	a->nonempty = bitmap_zalloc(nr_lists, GFP_KERNEL_ACCOUNT);
	if (!a->nonempty)
		goto err_free_arenas;

	for (i = 0; i < OH_NR_CLASSES; i++)
		INIT_LIST_HEAD(&a->usedpools[i]);
	for (i = 0; i < nr_lists; i++)
		INIT_LIST_HEAD(&a->arenas[i]);
	INIT_LIST_HEAD(&a->large);
	a->limit = min(READ_ONCE(heap_limit), READ_ONCE(heap_limit_max));
	xa_init_flags(&a->test_blocks, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	return 0;

err_free_arenas:
	kfree(a->arenas);
	return -ENOMEM;
}

/**
 * oh_alloc_destroy() - Give everything a heap holds back to the system.
 * @a: The heap's allocator.
 *
 * Frees every arena and every large allocation, whether or not blocks
 * are still allocated in them.
 *
 * Context: Process context; nobody else can reach the heap any more.
 */
void oh_alloc_destroy(struct oh_alloc *a)
{
	struct oh_arena *arena, *next_arena;
	struct oh_large *large, *next_large;
	unsigned int nf;

	/* Test blocks live in the arenas freed below: only the index goes. */
	xa_destroy(&a->test_blocks);
	for (nf = 0; nf <= oh_nr_pools; nf++) {
		list_for_each_entry_safe(arena, next_arena, &a->arenas[nf], node) {
			list_del(&arena->node);
			oh_arena_free(a, arena);
			cond_resched();
		}
	}
	list_for_each_entry_safe(large, next_large, &a->large, node) {
		oh_large_free(large);
		cond_resched();
	}
	bitmap_free(a->nonempty);
	kfree(a->arenas);
}

/* ---- statistics --------------------------------------------------- */

static void oh_stats_add_pool(struct oh_alloc_stats *st, struct oh_pool *pool)
{
	struct oh_class_stats *cs = &st->classes[pool->szidx];
	unsigned int bsize = cs->block_size;
	unsigned int nblocks = oh_pool_nblocks(bsize);

	cs->pools++;
	cs->blocks_in_use += pool->ref;
	cs->blocks_free += nblocks - pool->ref;
	st->bytes_allocated_blocks += (u64)pool->ref * bsize;
	st->bytes_free_blocks += (u64)(nblocks - pool->ref) * bsize;
	st->bytes_pool_headers += OH_POOL_OVERHEAD;
	st->bytes_quantization += pool_size - OH_POOL_OVERHEAD - nblocks * bsize;
}

/**
 * oh_alloc_get_stats() - A heap's allocator statistics.
 * @a: The heap's allocator.
 * @st: Filled in.
 *
 * Walks every arena and pool, as ``sys._debugmallocstats()`` does.
 *
 * Context: The heap's lock is held.  May sleep.
 */
void oh_alloc_get_stats(struct oh_alloc *a, struct oh_alloc_stats *st)
{
	struct oh_arena *arena;
	struct oh_pool *pool;
	unsigned int nf, i;

	memset(st, 0, sizeof(*st));
	st->limit = a->limit;
	st->limit_max = READ_ONCE(heap_limit_max);
	st->bytes_in_use = a->used;
	st->bytes_charged = a->charged;
	st->arena_size = arena_size;
	st->pool_size = pool_size;
	st->arenas_allocated = a->arenas_allocated;
	st->arenas_reclaimed = a->arenas_reclaimed;
	st->arenas_highwater = a->arenas_highwater;
	st->arenas_current = a->arenas_current;
	st->large_objects = a->large_count;
	st->large_bytes = a->large_bytes;
	for (i = 0; i < OH_NR_CLASSES; i++)
		st->classes[i].block_size = OH_CLASS_SIZE(i);

	for (nf = 0; nf <= oh_nr_pools; nf++) {
		list_for_each_entry(arena, &a->arenas[nf], node) {
			st->bytes_unused_pools += (u64)arena->nfreepools * pool_size;
			for (i = 0; i < arena->nextpool; i++) {
				pool = oh_arena_pool(arena, i);
				if (pool->szidx != OH_POOL_FREE)
					oh_stats_add_pool(st, pool);
			}
			cond_resched();
		}
	}
}

static void oh_show_line(struct seq_file *m, const char *what, u64 value)
{
	seq_printf(m, "%-35s= %20llu\n", what, value);
}

/**
 * oh_alloc_show_stats() - Print statistics like ``sys._debugmallocstats()``.
 * @m: The debugfs file.
 * @st: From oh_alloc_get_stats().
 *
 * Context: Process context.
 */
void oh_alloc_show_stats(struct seq_file *m, const struct oh_alloc_stats *st)
{
	const struct oh_class_stats *cs;
	char line[64];
	unsigned int i;

	seq_printf(m, "Small block threshold = %d, in %d size classes.\n\n",
		   OH_SMALL_MAX, OH_NR_CLASSES);
	seq_puts(m, "class   size   num pools   blocks in use  avail blocks\n"
		    "-----   ----   ---------   -------------  ------------\n");
	for (i = 0; i < OH_NR_CLASSES; i++) {
		cs = &st->classes[i];
		if (!cs->pools)
			continue;
		seq_printf(m, "%5u %6u %11u %15llu %13llu\n", i, cs->block_size,
			   cs->pools, cs->blocks_in_use, cs->blocks_free);
	}
	seq_puts(m, "\n");
	oh_show_line(m, "# arenas allocated total", st->arenas_allocated);
	oh_show_line(m, "# arenas reclaimed", st->arenas_reclaimed);
	oh_show_line(m, "# arenas highwater mark", st->arenas_highwater);
	oh_show_line(m, "# arenas allocated current", st->arenas_current);
	snprintf(line, sizeof(line), "%llu arenas * %u bytes/arena",
		 st->arenas_current, st->arena_size);
	oh_show_line(m, line, st->arenas_current * st->arena_size);
	seq_puts(m, "\n");
	oh_show_line(m, "# bytes in allocated blocks", st->bytes_allocated_blocks);
	oh_show_line(m, "# bytes in available blocks", st->bytes_free_blocks);
	snprintf(line, sizeof(line), "%llu unused pools * %u bytes",
		 st->bytes_unused_pools / st->pool_size, st->pool_size);
	oh_show_line(m, line, st->bytes_unused_pools);
	oh_show_line(m, "# bytes lost to pool headers", st->bytes_pool_headers);
	oh_show_line(m, "# bytes lost to quantization", st->bytes_quantization);
	oh_show_line(m, "Total", st->bytes_allocated_blocks +
		     st->bytes_free_blocks + st->bytes_unused_pools +
		     st->bytes_pool_headers + st->bytes_quantization);
	seq_puts(m, "\n");
	oh_show_line(m, "# large objects", st->large_objects);
	oh_show_line(m, "# bytes in large objects", st->large_bytes);
	oh_show_line(m, "# bytes charged outside allocator", st->bytes_charged);
	oh_show_line(m, "# bytes in use (limited)", st->bytes_in_use);
	oh_show_line(m, "# limit", st->limit);
}

/**
 * oh_alloc_pages_held() - Pages held in arenas by all heaps.
 *
 * Context: Any.
 * Return: The number of pages.
 */
long oh_alloc_pages_held(void)
{
	return atomic_long_read(&oh_pages_held);
}

/**
 * oh_alloc_large_held() - Large allocations held by all heaps.
 *
 * Context: Any.
 * Return: The number of allocations.
 */
long oh_alloc_large_held(void)
{
	return atomic_long_read(&oh_large_held);
}

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
	u64 nonfull[OH_NR_CLASSES];	/* pools that should be on usedpools */
};

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
	    OH_BAD(pool->maxnextoffset == pool_size - bsize,
		   "pool %p: maxnextoffset %u", pool, pool->maxnextoffset) ||
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

static int oh_check_large(struct oh_alloc *a, u64 *bytes)
{
	struct oh_large *large;
	u64 n = 0, sum = 0;

	list_for_each_entry(large, &a->large, node) {
		if (OH_BAD(++n <= a->large_count, "more large allocations than %llu",
			   a->large_count))
			return -EUCLEAN;
		sum += large->size;
		*bytes += ALIGN(large->size, OH_ALIGN);
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
	ret = oh_check_large(a, &large_bytes);
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
		   a->used, c->block_bytes, large_bytes, a->charged))
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
	struct oh_check c = {};
	int ret;

	c.seen = bitmap_alloc(oh_pool_nblocks(OH_ALIGN), GFP_KERNEL);
	if (!c.seen)
		return -ENOMEM;
	ret = __oh_alloc_check(a, &c);
	bitmap_free(c.seen);
	return ret;
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
