// SPDX-License-Identifier: GPL-2.0
/*
 * objheap's allocator: CPython's obmalloc, one instance per heap.
 *
 * Every byte of a heap's objects comes from here.  The layers, from the
 * bottom up (Documentation/allocator.rst tells why each is what it is):
 *
 * raw layer
 *	Memory from the kernel, always OH_GFP or OH_GFP_LARGE (alloc.h):
 *	charged to the memory cgroup of the task that made the heap grow,
 *	silent on failure because userspace decides how much it asks for,
 *	and never invoking the OOM killer.
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
 *	index), and a never-used pool gets its page only then: an arena is
 *	an address book of 64 pools, not 256 KiB, and a heap with one small
 *	object holds one page of pools.
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
 * The limit bounds what a heap holds, not what it uses: struct
 * oh_alloc.held counts every pool page the heap has (the free pools of
 * its arenas too), the arena structs, each large allocation at the size
 * the slab or vmalloc() really takes for it, what oh_charge() charged
 * (tables, queues) and the heap's fixed structures.  Whatever would
 * take it past the limit fails before anything is allocated, and
 * every byte of it is also charged to the heap's user (kmod/user.c),
 * whose heaps together are bounded too.  struct oh_alloc.used, what
 * the live allocations use, is reported beside it.
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
#include <linux/capability.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "alloc_internal.h"
#include "user.h"
#include "objheap_trace.h"

static unsigned int arena_size = SZ_256K;
module_param(arena_size, uint, 0444);
MODULE_PARM_DESC(arena_size, "Bytes per arena, a multiple of pool_size (default 256 KiB)");

static unsigned int pool_size = PAGE_SIZE;
module_param(pool_size, uint, 0444);
MODULE_PARM_DESC(pool_size, "Bytes per pool, a power of two from PAGE_SIZE to 32 KiB (default PAGE_SIZE)");

static unsigned long long heap_limit = SZ_256M;
module_param(heap_limit, ullong, 0644);
MODULE_PARM_DESC(heap_limit, "Default limit of a new heap's bytes held; above it, CAP_SYS_RESOURCE is needed (default 256 MiB)");

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
unsigned int oh_pool_size __read_mostly;
unsigned int oh_pool_order __read_mostly;
unsigned int oh_nr_pools __read_mostly;
unsigned long oh_pool_mask __read_mostly;
size_t oh_arena_bytes __read_mostly;
unsigned int oh_id_shift __read_mostly;
u32 oh_id_offset_mask __read_mostly;

/* DIV_ROUND_UP(2^32, block size) per class (oh_alloc_trace_word()). */
u32 oh_class_recip[OH_NR_CLASSES] __read_mostly;

/* What all heaps hold, for the "a closed heap returns every page" test. */
static atomic_long_t oh_pages_held = ATOMIC_LONG_INIT(0);
static atomic_long_t oh_large_held = ATOMIC_LONG_INIT(0);

/**
 * oh_alloc_setup() - Check the module parameters and derive constants.
 *
 * Context: Module init, before any heap exists.
 * Return: 0, or -EINVAL when arena_size or pool_size is unusable.
 */
int oh_alloc_setup(void)
{
	unsigned int i;

	BUILD_BUG_ON(OH_POOL_OVERHEAD != 48);
	if (!is_power_of_2(pool_size) || pool_size < PAGE_SIZE ||
	    pool_size > PAGE_SIZE << OH_POOL_ORDER_MAX ||
	    pool_size > OH_POOL_SIZE_MAX) {
		pr_err("pool_size %u: not a power of two from %lu to %lu\n",
		       pool_size, PAGE_SIZE,
		       min(PAGE_SIZE << OH_POOL_ORDER_MAX, OH_POOL_SIZE_MAX));
		return -EINVAL;
	}
	if (!arena_size || arena_size % pool_size ||
	    arena_size / pool_size > OH_NR_POOLS_MAX) {
		pr_err("arena_size %u: not 1 to %u times pool_size\n",
		       arena_size, OH_NR_POOLS_MAX);
		return -EINVAL;
	}
	oh_pool_size = pool_size;
	oh_pool_order = ilog2(pool_size >> PAGE_SHIFT);
	oh_nr_pools = arena_size / pool_size;
	oh_pool_mask = ~((unsigned long)pool_size - 1);
	oh_id_shift = ilog2(pool_size / OH_ALIGN);
	oh_id_offset_mask = BIT(oh_id_shift) - 1;
	oh_arena_bytes = kmalloc_size_roundup(struct_size((struct oh_arena *)NULL,
							  pages, oh_nr_pools));
	for (i = 0; i < OH_NR_CLASSES; i++)
		oh_class_recip[i] = DIV_ROUND_UP_ULL(1ULL << 32, OH_CLASS_SIZE(i));
	return 0;
}

/* ---- raw layer ---------------------------------------------------- */

/* Test builds: fail the raw allocation that brings test_fail_nth to 0. */
static bool oh_raw_should_fail(struct oh_alloc *a)
{
	return IS_ENABLED(CONFIG_OBJHEAP_TEST) && a->test_fail_nth &&
	       !--a->test_fail_nth;
}

/*
 * Count @bytes more held by the heap, within its limit and its user's
 * bound, before taking them from the system: -ENOMEM past either, and
 * then nothing was counted.
 */
static int oh_hold(struct oh_alloc *a, size_t bytes)
{
	if (bytes > a->limit || a->held + bytes > a->limit) {
		trace_objheap_limit(a->heap_id, bytes, a->held, a->limit, false);
		a->limit_refused = true;
		return -ENOMEM;
	}
	if (oh_user_charge(a->user, bytes)) {
		trace_objheap_limit(a->heap_id, bytes, a->held, a->limit, true);
		a->limit_refused = true;
		return -ENOMEM;
	}
	a->held += bytes;
	return 0;
}

/* The heap gave @bytes back to the system. */
static void oh_unhold(struct oh_alloc *a, size_t bytes)
{
	a->held -= bytes;
	oh_user_uncharge(a->user, bytes);
}

/* ---- block ids ---------------------------------------------------- */

static int oh_ids_hold(struct oh_alloc *a, size_t bytes)
{
	if (oh_hold(a, bytes))
		return -ENOMEM;
	a->ids_bytes += bytes;
	return 0;
}

static void oh_ids_unhold(struct oh_alloc *a, size_t bytes)
{
	oh_unhold(a, bytes);
	a->ids_bytes -= bytes;
}

/* The regions a map can name: 2^31 ids, 2^oh_id_shift per region. */
static u32 oh_idmap_regions(void)
{
	return 1U << (31 - oh_id_shift);
}

static void oh_idmap_set(struct oh_idmap *m, u32 region, void *p)
{
	m->leaves[region >> OH_IDMAP_LEAF_SHIFT]
		 [region & (OH_IDMAP_LEAF_SIZE - 1)] = p;
}

/*
 * Give leaf @leaf of @m room for @cap regions, keeping what it holds.
 * Only the last leaf grows: the ones before it are full.
 */
static int oh_idmap_leaf(struct oh_alloc *a, struct oh_idmap *m, u32 leaf,
			 u32 cap)
{
	u32 old = leaf < m->nleaves_used ? m->last_cap : 0;
	void **p;

	if (oh_ids_hold(a, cap * sizeof(*p)))
		return -ENOMEM;
	p = oh_raw_should_fail(a) ? NULL : kcalloc(cap, sizeof(*p), OH_GFP);
	if (!p) {
		oh_ids_unhold(a, cap * sizeof(*p));
		return -ENOMEM;
	}
	if (old) {
		memcpy(p, m->leaves[leaf], old * sizeof(*p));
		kfree(m->leaves[leaf]);
		oh_ids_unhold(a, old * sizeof(*p));
	}
	m->leaves[leaf] = p;
	m->nleaves_used = leaf + 1;
	m->last_cap = cap;
	return 0;
}

/*
 * Make room in @m for regions up to @last: room in @m->leaves, which
 * doubles (it is a page of pointers for 2^18 regions, 1 GiB of 4 KiB
 * pools), and leaves, of which the last starts small and doubles up to
 * OH_IDMAP_LEAF_SIZE, so that a small heap's maps take a few hundred
 * bytes.  What is made stays until the heap goes, counted as held.
 */
static int oh_idmap_reserve(struct oh_alloc *a, struct oh_idmap *m, u32 last)
{
	u32 leaf = last >> OH_IDMAP_LEAF_SHIFT, n, cap, need;
	void ***leaves;
	int ret;

	if (leaf >= m->nleaves) {
		n = max_t(u32, roundup_pow_of_two(leaf + 1), 8);
		if (oh_ids_hold(a, n * sizeof(*leaves)))
			return -ENOMEM;
		leaves = oh_raw_should_fail(a) ? NULL :
			 kvcalloc(n, sizeof(*leaves), OH_GFP);
		if (!leaves) {
			oh_ids_unhold(a, n * sizeof(*leaves));
			return -ENOMEM;
		}
		if (m->nleaves)
			memcpy(leaves, m->leaves,
			       m->nleaves * sizeof(*leaves));
		kvfree(m->leaves);
		oh_ids_unhold(a, m->nleaves * sizeof(*leaves));
		m->leaves = leaves;
		m->nleaves = n;
	}
	/* The leaves before @leaf are full: the last of them grows first. */
	if (m->nleaves_used && m->nleaves_used - 1 < leaf &&
	    m->last_cap < OH_IDMAP_LEAF_SIZE) {
		ret = oh_idmap_leaf(a, m, m->nleaves_used - 1,
				    OH_IDMAP_LEAF_SIZE);
		if (ret)
			return ret;
	}
	while (m->nleaves_used < leaf) {
		ret = oh_idmap_leaf(a, m, m->nleaves_used, OH_IDMAP_LEAF_SIZE);
		if (ret)
			return ret;
	}
	need = (last & (OH_IDMAP_LEAF_SIZE - 1)) + 1;
	if (leaf + 1 < m->nleaves_used ||
	    (leaf + 1 == m->nleaves_used && need <= m->last_cap))
		return 0;
	cap = max_t(u32, roundup_pow_of_two(need), 8);
	if (leaf + 1 == m->nleaves_used)
		cap = max(cap, 2 * m->last_cap);
	return oh_idmap_leaf(a, m, leaf, min_t(u32, cap, OH_IDMAP_LEAF_SIZE));
}

static void oh_idmap_destroy(struct oh_alloc *a, struct oh_idmap *m)
{
	u32 i;

	for (i = 0; i < m->nleaves_used; i++) {
		kfree(m->leaves[i]);
		oh_ids_unhold(a, (i + 1 < m->nleaves_used ? OH_IDMAP_LEAF_SIZE :
				  m->last_cap) * sizeof(void *));
	}
	kvfree(m->leaves);
	oh_ids_unhold(a, m->nleaves * sizeof(*m->leaves));
	ida_destroy(&m->numbers);
}

/**
 * oh_alloc_large_id() - Give a place in a large block an id.
 * @a: The heap's allocator.
 * @p: A 16-byte aligned address in a block above %OH_SMALL_MAX bytes.
 * @idp: Its id, for oh_alloc_ptr().
 *
 * Context: The heap's lock is held.  May sleep.
 * Return: 0, or -ENOMEM (the heap's limit, or no memory or number left).
 */
int oh_alloc_large_id(struct oh_alloc *a, void *p, u32 *idp)
{
	struct oh_idmap *m = &a->ids[1];
	int region, ret;

	region = oh_raw_should_fail(a) ? -ENOMEM :
		 ida_alloc_max(&m->numbers, oh_idmap_regions() - 1, OH_GFP);
	if (region < 0)
		return -ENOMEM;
	ret = oh_idmap_reserve(a, m, region);
	if (ret) {
		ida_free(&m->numbers, region);
		return ret;
	}
	oh_idmap_set(m, region, p);
	*idp = OH_ID_LARGE | (u32)region << oh_id_shift;
	return 0;
}

/**
 * oh_alloc_large_id_free() - Forget an id from oh_alloc_large_id().
 * @a: The heap's allocator.
 * @id: The id.
 */
void oh_alloc_large_id_free(struct oh_alloc *a, u32 id)
{
	ida_free(&a->ids[1].numbers, (id & ~OH_ID_LARGE) >> oh_id_shift);
}

/*
 * Give the page of pool @i (one page block per pool: alloc_pages_bulk()
 * would not account it in 6.1) to @arena; it is counted as held first.
 */
static int oh_pool_back(struct oh_alloc *a, struct oh_arena *arena,
			unsigned int i)
{
	if (oh_hold(a, pool_size))
		return -ENOMEM;
	arena->pages[i] = oh_raw_should_fail(a) ? NULL :
			  alloc_pages(OH_GFP, oh_pool_order);
	if (!arena->pages[i]) {
		oh_unhold(a, pool_size);
		return -ENOMEM;
	}
	a->pool_pages++;
	atomic_long_add(1 << oh_pool_order, &oh_pages_held);
	oh_idmap_set(&a->ids[0], (arena->id_base >> oh_id_shift) + i,
		     page_address(arena->pages[i]));
	return 0;
}

/* Free the pages of the first @nr pools of @arena, those it has. */
static void oh_arena_free_pages(struct oh_alloc *a, struct oh_arena *arena,
				unsigned int nr)
{
	while (nr--) {
		__free_pages(arena->pages[nr], oh_pool_order);
		oh_unhold(a, pool_size);
		a->pool_pages--;
		atomic_long_sub(1 << oh_pool_order, &oh_pages_held);
	}
}

/*
 * Take a new arena from the system; it is on no list yet.  Its pools
 * have no page yet: oh_pool_take() gives each its page when it is first
 * used.
 */
static struct oh_arena *oh_arena_alloc(struct oh_alloc *a)
{
	struct oh_idmap *m = &a->ids[0];
	struct oh_arena *arena;
	int no;

	if (oh_hold(a, oh_arena_bytes))
		return NULL;
	arena = oh_raw_should_fail(a) ? NULL :
		kmalloc(struct_size(arena, pages, oh_nr_pools), OH_GFP);
	if (!arena)
		goto err_unhold;
	no = oh_raw_should_fail(a) ? -ENOMEM :
	     ida_alloc_max(&m->numbers,
			   oh_idmap_regions() / oh_nr_pools - 1, OH_GFP);
	if (no < 0)
		goto err_free;
	if (oh_idmap_reserve(a, m, (no + 1) * oh_nr_pools - 1))
		goto err_free_number;
	arena->id_base = (u32)no * oh_nr_pools << oh_id_shift;
	INIT_LIST_HEAD(&arena->freepools);
	arena->nfreepools = oh_nr_pools;
	arena->nextpool = 0;
	arena->owner = a;

	a->arenas_allocated++;
	a->arenas_current++;
	a->arenas_highwater = max(a->arenas_highwater, a->arenas_current);
	return arena;

err_free_number:
	ida_free(&m->numbers, no);
err_free:
	kfree(arena);
err_unhold:
	oh_unhold(a, oh_arena_bytes);
	return NULL;
}

/* Give an arena back to the system; it is on no list any more. */
static void oh_pool_drop_traces(struct oh_alloc *a, struct oh_pool *pool);

static void oh_arena_free(struct oh_alloc *a, struct oh_arena *arena)
{
	unsigned int i;

	/* Only a heap's destruction frees an arena with pools in use. */
	for (i = 0; i < arena->nextpool; i++)
		if (arena->pages[i])
			oh_pool_drop_traces(a, oh_arena_pool(arena, i));
	oh_arena_free_pages(a, arena, arena->nextpool);
	ida_free(&a->ids[0].numbers,
		 (arena->id_base >> oh_id_shift) / oh_nr_pools);
	kfree(arena);
	oh_unhold(a, oh_arena_bytes);
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
	/* Read without the lock by the shrinker (oh_alloc_kept_pages()). */
	if (nfreepools == oh_nr_pools)
		WRITE_ONCE(a->kept_arenas, a->kept_arenas + 1);
}

static void oh_arena_unfile(struct oh_alloc *a, struct oh_arena *arena)
{
	if (arena->nfreepools == oh_nr_pools)
		WRITE_ONCE(a->kept_arenas, a->kept_arenas - 1);
	list_del(&arena->node);
	if (list_empty(&a->arenas[arena->nfreepools]))
		__clear_bit(arena->nfreepools, a->nonempty);
}

/*
 * An arena with a free pool that still has its page, or NULL.  For when
 * the heap cannot take one more page: walks every arena, but only on
 * the way to ENOMEM.
 */
static struct oh_arena *oh_arena_with_free_page(struct oh_alloc *a)
{
	struct oh_arena *arena;
	unsigned int nf;

	for (nf = 1; nf <= oh_nr_pools; nf++)
		list_for_each_entry(arena, &a->arenas[nf], node)
			if (!list_empty(&arena->freepools))
				return arena;
	return NULL;
}

/*
 * Take a free pool from the arena with the fewest free pools, or from a
 * new arena when none has one.  A pool never used before gets its page
 * now; when that fails (at the limit, or out of memory), a free pool
 * that has its page is taken from any arena, and only without one does
 * the heap run out.  A new arena that got no page is given back.
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
		if (oh_pool_back(a, arena, 0)) {
			oh_arena_free(a, arena);
			return NULL;
		}
	} else {
		arena = list_first_entry(&a->arenas[nf], struct oh_arena, node);
		if (list_empty(&arena->freepools) &&
		    oh_pool_back(a, arena, arena->nextpool)) {
			arena = oh_arena_with_free_page(a);
			if (!arena)
				return NULL;
		}
		oh_arena_unfile(a, arena);
	}

	if (!list_empty(&arena->freepools)) {
		pool = list_first_entry(&arena->freepools, struct oh_pool, node);
		list_del(&pool->node);
	} else {
		pool = oh_arena_pool(arena, arena->nextpool);
		pool->index = arena->nextpool++;
		pool->arena = arena;
		pool->traces = NULL;
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

	/* Its words are zero or stale: a pool of the class can have them. */
	pool->traces_szidx = pool->szidx;
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
noinline struct oh_pool *oh_pool_new(struct oh_alloc *a, unsigned int idx)
{
	unsigned int bsize = OH_CLASS_SIZE(idx);
	struct oh_pool *pool;
	void **bp;

	pool = oh_pool_take(a);
	if (!pool)
		return NULL;
	if (pool->traces && pool->traces_szidx != idx)
		oh_pool_drop_traces(a, pool);
	pool->szidx = idx;
	pool->ref = 0;
	bp = (void *)pool + OH_POOL_OVERHEAD;
	*bp = NULL;
	pool->freeblock = bp;
	pool->nextoffset = OH_POOL_OVERHEAD + bsize;
	list_add(&pool->node, &a->usedpools[idx]);
	return pool;
}

/* The pool has given its last block: it leaves usedpools. */
noinline void oh_pool_full(struct oh_pool *pool)
{
	list_del(&pool->node);
}

/* The pool was full and got a block back. */
noinline void oh_pool_unfull(struct oh_alloc *a, struct oh_pool *pool)
{
	if (--pool->ref) {
		list_add(&pool->node, &a->usedpools[pool->szidx]);
		return;
	}
	oh_pool_release(a, pool);
}

/* The pool's last block was freed. */
noinline void oh_pool_empty(struct oh_alloc *a, struct oh_pool *pool)
{
	list_del(&pool->node);
	oh_pool_release(a, pool);
}

/* ---- large allocations -------------------------------------------- */

/*
 * What kvmalloc(@bytes) takes at most: the slab's bucket or the page
 * allocator's power of two while kmalloc() may serve it, whole pages
 * from vmalloc() above that.
 */
static size_t oh_large_footprint(size_t bytes)
{
	if (bytes > KMALLOC_MAX_SIZE)
		return PAGE_ALIGN(bytes);
	return kmalloc_size_roundup(bytes);
}

static noinline void *oh_alloc_large(struct oh_alloc *a, size_t size)
{
	struct oh_large *large;
	size_t held;

	if (!size)
		return oh_alloc_small(a, 0);
	/* Also keeps the sums below from overflowing. */
	if (size > a->limit) {
		trace_objheap_limit(a->heap_id, size, a->held, a->limit, false);
		return NULL;
	}
	held = oh_large_footprint(OH_LARGE_HDR + size);
	if (oh_hold(a, held))
		return NULL;
	/*
	 * Above OH_SMALL_MAX + OH_LARGE_HDR bytes kmalloc() uses its
	 * power-of-two caches, naturally aligned even with slab debugging
	 * (create_boot_cache()), and vmalloc() is page aligned.
	 */
	large = oh_raw_should_fail(a) ? NULL :
		kvmalloc(OH_LARGE_HDR + size, OH_GFP_LARGE);
	if (!large) {
		oh_unhold(a, held);
		return NULL;
	}
	/* vmalloc() took whole pages only: hold no more than that. */
	if (is_vmalloc_addr(large)) {
		oh_unhold(a, held - PAGE_ALIGN(OH_LARGE_HDR + size));
		held = PAGE_ALIGN(OH_LARGE_HDR + size);
	}
	large->size = size;
	large->held = held;
	list_add(&large->node, &a->large);
	a->used += ALIGN(size, OH_ALIGN);
	a->large_count++;
	a->large_bytes += size;
	atomic_long_inc(&oh_large_held);
	return (void *)large + OH_LARGE_HDR;
}

static void oh_large_free(struct oh_alloc *a, struct oh_large *large)
{
	list_del(&large->node);
	oh_unhold(a, large->held);
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
	oh_large_free(a, large);
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
 * Return: 16-byte aligned memory, not zeroed, or NULL when the heap's
 * limit or its user's bound would be exceeded or memory is short; then
 * nothing changed.
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

/* ---- a word per block for the heap's traces ------------------------- */

static size_t oh_pool_traces_bytes(unsigned int idx)
{
	return kmalloc_size_roundup(oh_pool_nblocks(OH_CLASS_SIZE(idx)) *
				    sizeof(u32));
}

/* Free @pool's trace words, if it has them; the pool may be free. */
static void oh_pool_drop_traces(struct oh_alloc *a, struct oh_pool *pool)
{
	if (!pool->traces)
		return;
	oh_uncharge(a, oh_pool_traces_bytes(pool->szidx == OH_POOL_FREE ?
					    pool->traces_szidx : pool->szidx));
	kfree(pool->traces);
	pool->traces = NULL;
}

/**
 * oh_pool_get_traces() - Give a pool its trace words (oh_alloc_trace_word()).
 * @a: The heap's allocator.
 * @pool: A pool in use, without words.
 *
 * The words of a pool are charged to the heap like its other memory; new
 * ones are zero.  A pool keeps them while it is free, for the next time it
 * serves their class (struct oh_pool).
 *
 * Context: The heap's lock is held.  May sleep.
 * Return: 0, or -ENOMEM (the heap's limit, or no memory).
 */
int oh_pool_get_traces(struct oh_alloc *a, struct oh_pool *pool)
{
	size_t bytes = oh_pool_traces_bytes(pool->szidx);

	if (oh_charge(a, bytes))
		return -ENOMEM;
	pool->traces = oh_raw_should_fail(a) ? NULL : kzalloc(bytes, OH_GFP);
	if (!pool->traces) {
		oh_uncharge(a, bytes);
		return -ENOMEM;
	}
	return 0;
}

/**
 * oh_alloc_drop_trace_words() - Free the trace words of every pool.
 * @a: The heap's allocator.
 *
 * Context: The heap's lock is held.  Walks every arena.
 */
void oh_alloc_drop_trace_words(struct oh_alloc *a)
{
	struct oh_arena *arena;
	unsigned int nf, i;

	for (nf = 0; nf <= oh_nr_pools; nf++) {
		list_for_each_entry(arena, &a->arenas[nf], node) {
			for (i = 0; i < arena->nextpool; i++)
				if (arena->pages[i])
					oh_pool_drop_traces(a, oh_arena_pool(arena, i));
			cond_resched();
		}
	}
}

/**
 * oh_charge() - Count memory held outside the allocator against the limit.
 * @a: The heap's allocator.
 * @bytes: Bytes the heap now holds besides its allocations.
 *
 * Context: The heap's lock is held.
 * Return: 0, or -ENOMEM if the heap's limit or its user's bound would be
 * exceeded (nothing charged).
 */
int oh_charge(struct oh_alloc *a, size_t bytes)
{
	if (oh_hold(a, bytes))
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
	oh_unhold(a, bytes);
	a->used -= bytes;
	a->charged -= bytes;
}

/**
 * oh_array_alloc() - Allocate one of the heap's own arrays, charged to it.
 * @a: The heap's allocator.
 * @n: Elements.
 * @size: Bytes each.
 *
 * For the heap's tables (the pages and nodes of its paged arrays, and
 * the page pointers of mappable payloads): the bytes are charged against
 * the heap's limit first, then allocated with kvmalloc(), so that a big
 * array may be only virtually contiguous.
 *
 * Context: The heap's lock is held, or the heap is not visible.
 * Return: The array, not initialized, or NULL with nothing charged.
 */
void *oh_array_alloc(struct oh_alloc *a, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (check_mul_overflow(n, size, &bytes) || oh_charge(a, bytes))
		return NULL;
	p = kvmalloc(bytes, OH_GFP_LARGE);
	if (!p)
		oh_uncharge(a, bytes);
	return p;
}

/**
 * oh_array_free() - Free what oh_array_alloc() gave, and its charge.
 * @a: The heap's allocator.
 * @p: The array, or NULL (with @n 0).
 * @n: Its elements, as allocated.
 * @size: Bytes each.
 */
void oh_array_free(struct oh_alloc *a, void *p, size_t n, size_t size)
{
	kvfree(p);
	oh_uncharge(a, n * size);
}

/**
 * oh_alloc_set_limit() - Set a heap's limit.
 * @a: The heap's allocator.
 * @limit: The most bytes held (see struct oh_alloc.held).
 *
 * A limit below what is held is accepted: allocations that need more
 * memory fail until enough is freed.
 *
 * Context: The heap's lock is held.
 * Return: 0, -EINVAL above the module parameter heap_limit_max, -EPERM
 * above the module parameter heap_limit without CAP_SYS_RESOURCE.
 */
int oh_alloc_set_limit(struct oh_alloc *a, u64 limit)
{
	if (limit > READ_ONCE(heap_limit_max))
		return -EINVAL;
	if (limit > READ_ONCE(heap_limit) && !capable(CAP_SYS_RESOURCE))
		return -EPERM;
	a->limit = limit;
	return 0;
}

/**
 * oh_alloc_init() - Set up a heap's allocator, empty.
 * @a: The allocator, embedded in the heap.
 * @fixed: Bytes of the heap's own structure, held while it is open.
 *
 * The limit starts at the module parameter heap_limit (at most
 * heap_limit_max).  The heap is charged to the current task's user.
 *
 * Context: Process context; the heap is not visible yet.
 * Return: 0, or -ENOMEM when out of memory or past the user's bound.
 */
int oh_alloc_init(struct oh_alloc *a, size_t fixed)
{
	unsigned int i, nr_lists = oh_nr_pools + 1;

	memset(a, 0, sizeof(*a));
	a->limit = min(READ_ONCE(heap_limit), READ_ONCE(heap_limit_max));
	a->user = oh_user_get_current();
	if (!a->user)
		return -ENOMEM;
	fixed += kmalloc_size_roundup(nr_lists * sizeof(*a->arenas)) +
		 kmalloc_size_roundup(BITS_TO_LONGS(nr_lists) * sizeof(long));
	if (oh_hold(a, fixed))
		goto err_put_user;
	a->fixed = fixed;
	a->arenas = kmalloc_array(nr_lists, sizeof(*a->arenas), OH_GFP);
	if (!a->arenas)
		goto err_unhold;
	a->nonempty = bitmap_zalloc(nr_lists, OH_GFP);
	if (!a->nonempty)
		goto err_free_arenas;

	for (i = 0; i < OH_NR_CLASSES; i++)
		INIT_LIST_HEAD(&a->usedpools[i]);
	for (i = 0; i < nr_lists; i++)
		INIT_LIST_HEAD(&a->arenas[i]);
	INIT_LIST_HEAD(&a->large);
	ida_init(&a->ids[0].numbers);
	ida_init(&a->ids[1].numbers);
	xa_init_flags(&a->test_blocks, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	return 0;

err_free_arenas:
	kfree(a->arenas);
err_unhold:
	oh_unhold(a, fixed);
err_put_user:
	oh_user_put(a->user);
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
		oh_large_free(a, large);
		cond_resched();
	}
	oh_idmap_destroy(a, &a->ids[0]);
	oh_idmap_destroy(a, &a->ids[1]);
	bitmap_free(a->nonempty);
	kfree(a->arenas);
	/* The fixed part, and whatever the heap's users left charged. */
	oh_unhold(a, a->held);
	oh_user_put(a->user);
}

/**
 * oh_alloc_shrink() - Give back the entirely free arenas the heap keeps.
 * @a: The heap's allocator.
 *
 * What the heap keeps against thrashing is the first thing to go when
 * the system or the heap's memory cgroup runs short (kmod/shrink.c).
 *
 * Context: The heap's lock is held.
 * Return: The bytes the heap no longer holds.
 */
u64 oh_alloc_shrink(struct oh_alloc *a)
{
	struct list_head *kept = &a->arenas[oh_nr_pools];
	struct oh_arena *arena, *next;
	u64 held = a->held;

	list_for_each_entry_safe(arena, next, kept, node) {
		oh_arena_unfile(a, arena);
		oh_arena_free(a, arena);
	}
	return held - a->held;
}

/**
 * oh_alloc_kept_pages() - The most oh_alloc_shrink() could free now.
 * @a: The heap's allocator.
 *
 * Context: Any; read without the heap's lock, so only an estimate.
 * Return: In pages.
 */
unsigned long oh_alloc_kept_pages(const struct oh_alloc *a)
{
	return (unsigned long)READ_ONCE(a->kept_arenas) *
	       (oh_nr_pools << oh_pool_order);
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
	st->limit_default = READ_ONCE(heap_limit);
	st->bytes_in_use = a->used;
	st->bytes_held = a->held;
	st->bytes_pools_held = a->pool_pages * pool_size;
	st->user_held = oh_user_held(a->user);
	st->user_limit = oh_user_bound(a->user);
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
	oh_show_line(m, "# bytes in use", st->bytes_in_use);
	oh_show_line(m, "# bytes in pool pages held", st->bytes_pools_held);
	oh_show_line(m, "# bytes held (limited)", st->bytes_held);
	oh_show_line(m, "# limit", st->limit);
	oh_show_line(m, "# bytes held by the user's heaps", st->user_held);
	oh_show_line(m, "# user limit", st->user_limit);
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
