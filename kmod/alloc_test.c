// SPDX-License-Identifier: GPL-2.0
/*
 * The allocator's part of the test-only interface (CONFIG_OBJHEAP_TEST):
 * the OBJHEAP_TEST_OP_ALLOC_* ops of objheap_test.h, which let the
 * selftests and benchmarks drive a heap's allocator from inside the
 * kernel.
 *
 * Test blocks are kept in the allocator's test_blocks xarray under ids
 * that increase in allocation order.  Each starts with its size (every
 * block has at least 16 bytes), followed up to that size by a pattern
 * derived from its id, checked when it is freed.  oh_alloc_destroy()
 * drops the xarray with the arenas, so a closed heap leaks nothing.
 */
#include <linux/prandom.h>
#include <linux/ktime.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "objheap.h"
#include "objheap_test.h"

/* Large enough for any test, small enough for a kvmalloc'd index array. */
#define OH_TEST_MAX_COUNT	BIT(20)
#define OH_TEST_MAX_ROUNDS	100

static u8 oh_test_pattern(unsigned long id, size_t i)
{
	return (u8)(id * 131 + i);
}

static void oh_test_fill(void *p, unsigned long id, size_t size)
{
	size_t i;

	*(u64 *)p = size;
	for (i = sizeof(u64); i < size; i++)
		((u8 *)p)[i] = oh_test_pattern(id, i);
}

/* Whether the block's pattern is intact; its size in @size. */
static bool oh_test_verify(void *p, unsigned long id, size_t *size)
{
	size_t i;

	*size = *(u64 *)p;
	for (i = sizeof(u64); i < *size; i++)
		if (((u8 *)p)[i] != oh_test_pattern(id, i))
			return false;
	return true;
}

static int oh_test_free_one(struct oh_alloc *a, unsigned long id)
{
	void *p = xa_erase(&a->test_blocks, id);
	size_t size;

	if (!p)
		return -ENOENT;
	if (!oh_test_verify(p, id, &size)) {
		pr_err("test block %lu was overwritten\n", id);
		return -EIO;
	}
	oh_free(a, p, size);
	return 0;
}

static int oh_test_alloc_one(struct oh_alloc *a, size_t size, u32 *id,
			     u32 *block_size)
{
	struct xa_limit limit = XA_LIMIT(1, U32_MAX);
	void *p;
	int ret;

	p = oh_alloc(a, size);
	if (!p)
		return -ENOMEM;
	if (!IS_ALIGNED((unsigned long)p, OH_ALIGN)) {
		oh_free(a, p, size);
		return -EPROTO;
	}
	ret = xa_alloc_cyclic(&a->test_blocks, id, p, limit, &a->test_next_id,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		oh_free(a, p, size);
		return ret;
	}
	oh_test_fill(p, *id, size);
	*block_size = size <= OH_SMALL_MAX ? ALIGN(max_t(size_t, size, 1), OH_ALIGN) : 0;
	return 0;
}

static int oh_test_alloc_blocks(struct oh_alloc *a, struct objheap_test_cmd *cmd)
{
	u32 min = cmd->alloc_blocks.size_min, max = cmd->alloc_blocks.size_max;
	u32 i, id, first = 0, block_size = 0;
	/* [0, U32_MAX] has 2^32 sizes: a u32 span would be 0, a division by 0. */
	u64 span = (u64)max - min + 1;
	struct rnd_state rnd;
	size_t size;
	int ret = 0;

	if (!cmd->alloc_blocks.count || cmd->alloc_blocks.count > OH_TEST_MAX_COUNT ||
	    min > max)
		return -EINVAL;
	prandom_seed_state(&rnd, cmd->alloc_blocks.seed);
	for (i = 0; i < cmd->alloc_blocks.count; i++) {
		size = min + prandom_u32_state(&rnd) % span;
		ret = oh_test_alloc_one(a, size, &id, &block_size);
		if (ret)
			break;
		if (!i)
			first = id;
		cond_resched();
	}
	if (ret) {
		/* Undo this call: ids first ... id, cyclic but increasing. */
		while (i--)
			WARN_ON_ONCE(oh_test_free_one(a, first + i));
		return ret;
	}
	cmd->alloc_blocks.out_first_id = first;
	cmd->alloc_blocks.out_block_size = block_size;
	return 0;
}

/* Fill @perm with 0 .. n - 1 in @order. */
static int oh_test_order(u32 *perm, u32 n, u32 order, u64 seed)
{
	struct rnd_state rnd;
	u32 i, j;

	for (i = 0; i < n; i++)
		perm[i] = order == OBJHEAP_TEST_LIFO ? n - 1 - i : i;
	if (order == OBJHEAP_TEST_RANDOM) {
		prandom_seed_state(&rnd, seed);
		for (i = n; i > 1; i--) {
			j = prandom_u32_state(&rnd) % i;
			swap(perm[i - 1], perm[j]);
		}
	} else if (order != OBJHEAP_TEST_LIFO && order != OBJHEAP_TEST_FIFO) {
		return -EOPNOTSUPP;
	}
	return 0;
}

static int oh_test_free_blocks(struct oh_alloc *a, struct objheap_test_cmd *cmd)
{
	unsigned long id, *ids;
	u32 n = 0, i, *perm;
	void *p;
	int ret;

	xa_for_each(&a->test_blocks, id, p)
		n++;
	if (!n) {
		cmd->free_blocks.out_freed = 0;
		return 0;
	}
	ids = kvmalloc_array(n, sizeof(*ids), GFP_KERNEL_ACCOUNT);
	perm = kvmalloc_array(n, sizeof(*perm), GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!ids || !perm)
		goto out_free_arrays;
	i = 0;
	xa_for_each(&a->test_blocks, id, p)
		ids[i++] = id;
	ret = oh_test_order(perm, n, cmd->free_blocks.order, cmd->free_blocks.seed);
	if (ret)
		goto out_free_arrays;
	for (i = 0; i < n; i++) {
		ret = oh_test_free_one(a, ids[perm[i]]);
		if (ret)
			break;
		cond_resched();
	}
	cmd->free_blocks.out_freed = i;

out_free_arrays:
	kvfree(perm);
	kvfree(ids);
	return ret;
}

/*
 * Allocate n blocks, free them in @perm's order; the time in @ns.  The
 * clock is ktime_get_ns(): the loop may sleep in the page allocator and
 * wake on another CPU, where local_clock() would not compare.
 */
static int oh_bench_objheap(struct oh_alloc *a, void **ptrs, const u32 *perm,
			    u32 n, size_t size, u64 *ns)
{
	u64 start = ktime_get_ns();
	u32 i;

	for (i = 0; i < n; i++) {
		ptrs[i] = oh_alloc(a, size);
		if (unlikely(!ptrs[i]))
			goto err_free;
	}
	for (i = 0; i < n; i++)
		oh_free(a, ptrs[perm[i]], size);
	*ns = ktime_get_ns() - start;
	return 0;

err_free:
	while (i--)
		oh_free(a, ptrs[i], size);
	return -ENOMEM;
}

static int oh_bench_slub(struct kmem_cache *cache, void **ptrs,
			 const u32 *perm, u32 n, u64 *ns)
{
	u64 start = ktime_get_ns();
	u32 i;

	for (i = 0; i < n; i++) {
		ptrs[i] = kmem_cache_alloc(cache, GFP_KERNEL | __GFP_NOWARN);
		if (unlikely(!ptrs[i]))
			goto err_free;
	}
	for (i = 0; i < n; i++)
		kmem_cache_free(cache, ptrs[perm[i]]);
	*ns = ktime_get_ns() - start;
	return 0;

err_free:
	while (i--)
		kmem_cache_free(cache, ptrs[i]);
	return -ENOMEM;
}

static int oh_test_bench(struct objheap *heap, struct objheap_test_cmd *cmd)
{
	u32 n = cmd->bench.count, size = cmd->bench.size, r;
	u64 best_oh = U64_MAX, best_slub = U64_MAX, t;
	struct kmem_cache *cache;
	void **ptrs;
	u32 *perm;
	int ret;

	if (!size || size > OH_SMALL_MAX || !n || n > OH_TEST_MAX_COUNT ||
	    !cmd->bench.rounds || cmd->bench.rounds > OH_TEST_MAX_ROUNDS)
		return -EINVAL;
	ptrs = kvmalloc_array(n, sizeof(*ptrs), GFP_KERNEL_ACCOUNT);
	perm = kvmalloc_array(n, sizeof(*perm), GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!ptrs || !perm)
		goto out_free_arrays;
	ret = oh_test_order(perm, n, cmd->bench.order, cmd->bench.seed);
	if (ret)
		goto out_free_arrays;
	/* The SLUB baseline: a cache of exactly that size, no flags. */
	cache = kmem_cache_create("objheap_bench", size, 0, 0, NULL);
	ret = -ENOMEM;
	if (!cache)
		goto out_free_arrays;

	for (r = 0; r < cmd->bench.rounds; r++) {
		ret = oh_bench_objheap(&heap->alloc, ptrs, perm, n, size, &t);
		if (ret)
			break;
		best_oh = min(best_oh, t);
		ret = oh_bench_slub(cache, ptrs, perm, n, &t);
		if (ret)
			break;
		best_slub = min(best_slub, t);
		cond_resched();
	}
	kmem_cache_destroy(cache);
	cmd->bench.out_objheap_ns = best_oh;
	cmd->bench.out_slub_ns = best_slub;

out_free_arrays:
	kvfree(perm);
	kvfree(ptrs);
	return ret;
}

/* One arena's worth of memory, taken and given back by @backing. */
static bool oh_arena_bench_one(u32 backing, u32 size, u32 pool_size,
			       struct page **pages)
{
	unsigned int i, nr = size / pool_size, order = get_order(pool_size);
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NOWARN;
	struct page *page;
	void *p;

	switch (backing) {
	case OBJHEAP_TEST_BACKING_VMALLOC:
		p = __vmalloc(size, gfp);
		vfree(p);
		return p;
	case OBJHEAP_TEST_BACKING_ORDER_N:
		/* As a real user would: no retrying, no OOM killer. */
		page = alloc_pages(gfp | __GFP_NORETRY, get_order(size));
		if (page)
			__free_pages(page, get_order(size));
		return page;
	case OBJHEAP_TEST_BACKING_PAGES:
		for (i = 0; i < nr; i++) {
			pages[i] = alloc_pages(gfp, order);
			if (!pages[i])
				break;
		}
		break;
	default:
		/* Not accounted: the bulk allocator would refuse. */
		memset(pages, 0, nr * sizeof(*pages));
		i = order ? 0 : alloc_pages_bulk(GFP_KERNEL | __GFP_NOWARN,
						 nr, pages);
		break;
	}
	nr = i;
	while (i--)
		__free_pages(pages[i], order);
	return nr == size / pool_size;
}

static int oh_test_arena_bench(struct objheap_test_cmd *cmd)
{
	u32 size = cmd->arena_bench.size, psize = cmd->arena_bench.pool_size, i;
	struct page **pages;
	u64 start, failed = 0;

	if (cmd->arena_bench.backing >= OBJHEAP_TEST_NR_BACKINGS ||
	    !cmd->arena_bench.count || cmd->arena_bench.count > OH_TEST_MAX_COUNT ||
	    psize < PAGE_SIZE || !is_power_of_2(psize) || !size || size % psize ||
	    size > SZ_16M)
		return -EINVAL;
	pages = kvmalloc_array(size / psize, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	start = ktime_get_ns();
	for (i = 0; i < cmd->arena_bench.count; i++) {
		failed += !oh_arena_bench_one(cmd->arena_bench.backing, size,
					      psize, pages);
		cond_resched();
	}
	cmd->arena_bench.out_ns = ktime_get_ns() - start;
	cmd->arena_bench.out_failed = failed;
	kvfree(pages);
	return 0;
}

static int oh_test_locked(struct objheap *heap, struct objheap_test_cmd *cmd)
{
	struct oh_alloc *a = &heap->alloc;

	switch (cmd->op) {
	case OBJHEAP_TEST_OP_ALLOC_CHECK:
		return oh_alloc_check(a) ?: oh_gc_check(heap) ?:
		       oh_intern_check(heap) ?: oh_weak_check(heap);
	case OBJHEAP_TEST_OP_ALLOC_BLOCKS:
		return oh_test_alloc_blocks(a, cmd);
	case OBJHEAP_TEST_OP_FREE_BLOCK:
		if (cmd->free_block.id > U32_MAX)
			return -ENOENT;
		return oh_test_free_one(a, cmd->free_block.id);
	case OBJHEAP_TEST_OP_FREE_BLOCKS:
		return oh_test_free_blocks(a, cmd);
	case OBJHEAP_TEST_OP_ALLOC_FAIL_NTH:
		cmd->fail_nth.out_prev = a->test_fail_nth;
		a->test_fail_nth = cmd->fail_nth.nth;
		return 0;
	case OBJHEAP_TEST_OP_ALLOC_CHARGE:
		if (cmd->charge.__reserved || cmd->charge.uncharge > 1)
			return -EINVAL;
		if (cmd->charge.bytes > SIZE_MAX)
			return -ENOMEM;
		if (!cmd->charge.uncharge)
			return oh_charge(a, cmd->charge.bytes);
		if (cmd->charge.bytes > a->charged)
			return -EINVAL;
		oh_uncharge(a, cmd->charge.bytes);
		return 0;
	case OBJHEAP_TEST_OP_ALLOC_CHECK_SELFTEST:
		return oh_alloc_check_selftest(a);
	}
	return -EOPNOTSUPP;
}

/**
 * objheap_alloc_test_cmd() - The allocator's test-only ops.
 * @ucmd: An OBJHEAP_TEST command with an OBJHEAP_TEST_OP_ALLOC_* op.
 *
 * Context: Process context; takes the heap's lock where the op needs it.
 * Return: 0 or -errno, as objheap_test.h describes per op.
 */
int objheap_alloc_test_cmd(struct objheap_ucmd *ucmd)
{
	struct objheap_test_cmd *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	int ret;

	switch (cmd->op) {
	case OBJHEAP_TEST_OP_ALLOC_HELD:
		cmd->held.out_pages = oh_alloc_pages_held();
		cmd->held.out_large = oh_alloc_large_held();
		ret = 0;
		break;
	case OBJHEAP_TEST_OP_ALLOC_BENCH:
		ret = oh_test_bench(heap, cmd);
		break;
	case OBJHEAP_TEST_OP_ARENA_BENCH:
		ret = oh_test_arena_bench(cmd);
		break;
	default:
		ret = oh_test_locked(heap, cmd);
		break;
	}
	if (ret)
		return ret;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}
