// SPDX-License-Identifier: GPL-2.0
/*
 * The heap's allocator: size classes, free orders, arena reclaim, the
 * limit, failure paths, statistics and the commands that expose them.
 *
 * Most tests drive the allocator from inside the kernel through the
 * test-only interface (OBJHEAP_TEST_OP_ALLOC_*) and SKIP without it.
 * Every fixture's teardown runs the consistency checker.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"

#define NR_CLASSES 32

/* ---- helpers: each returns 0 or -errno ---- */

static int test_op(int fd, struct objheap_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, OBJHEAP_TEST, cmd) ? -errno : 0;
}

static int alloc_check(int fd)
{
	struct objheap_test_cmd cmd = { .op = OBJHEAP_TEST_OP_ALLOC_CHECK };

	return test_op(fd, &cmd);
}

/* Allocate @count test blocks of sizes in [@min, @max]. */
static int alloc_blocks(int fd, uint32_t count, uint32_t min, uint32_t max,
			uint64_t *first_id, uint32_t *block_size)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_ALLOC_BLOCKS,
		.alloc_blocks = { .count = count, .size_min = min,
				  .size_max = max, .seed = count * 7919 + max },
	};
	int ret = test_op(fd, &cmd);

	if (!ret && first_id)
		*first_id = cmd.alloc_blocks.out_first_id;
	if (!ret && block_size)
		*block_size = cmd.alloc_blocks.out_block_size;
	return ret;
}

static int alloc_one(int fd, uint32_t size, uint64_t *id)
{
	return alloc_blocks(fd, 1, size, size, id, NULL);
}

static int free_block(int fd, uint64_t id)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_FREE_BLOCK, .free_block = { .id = id },
	};

	return test_op(fd, &cmd);
}

/* Free every test block in @order; the number freed in @freed. */
static int free_blocks(int fd, uint32_t order, uint32_t *freed)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_FREE_BLOCKS,
		.free_blocks = { .order = order, .seed = 12345 },
	};
	int ret = test_op(fd, &cmd);

	if (!ret && freed)
		*freed = cmd.free_blocks.out_freed;
	return ret;
}

static int fail_nth(int fd, uint32_t nth, uint32_t *prev)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_ALLOC_FAIL_NTH, .fail_nth = { .nth = nth },
	};
	int ret = test_op(fd, &cmd);

	if (!ret && prev)
		*prev = cmd.fail_nth.out_prev;
	return ret;
}

static int charge(int fd, uint64_t bytes, int uncharge)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_ALLOC_CHARGE,
		.charge = { .bytes = bytes, .uncharge = uncharge },
	};

	return test_op(fd, &cmd);
}

static int held(int fd, uint64_t *pages, uint64_t *large)
{
	struct objheap_test_cmd cmd = { .op = OBJHEAP_TEST_OP_ALLOC_HELD };
	int ret = test_op(fd, &cmd);

	*pages = cmd.held.out_pages;
	*large = cmd.held.out_large;
	return ret;
}

static int get_stats(int fd, struct objheap_stats *st,
		     struct objheap_class_stats *classes)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->nr_classes = classes ? NR_CLASSES : 0;
	st->classes = (uintptr_t)classes;
	return ioctl(fd, OBJHEAP_STATS, st) ? -errno : 0;
}

static int set_limit(int fd, uint64_t limit)
{
	struct objheap_set_limit cmd = { .size = sizeof(cmd), .limit = limit };

	return ioctl(fd, OBJHEAP_SET_LIMIT, &cmd) ? -errno : 0;
}

/* The identities every statistics snapshot must satisfy. */
#define EXPECT_STATS_CONSISTENT(st, classes)				\
	do {								\
		uint64_t __used = 0, __free = 0;			\
		int __i;						\
									\
		for (__i = 0; __i < NR_CLASSES; __i++) {		\
			EXPECT_EQ(16 * (__i + 1), (classes)[__i].block_size); \
			__used += (classes)[__i].blocks_in_use *	\
				  (classes)[__i].block_size;		\
			__free += (classes)[__i].blocks_free *		\
				  (classes)[__i].block_size;		\
		}							\
		EXPECT_EQ(__used, (st).out_bytes_allocated_blocks);	\
		EXPECT_EQ(__free, (st).out_bytes_free_blocks);		\
		EXPECT_EQ((st).out_arenas_current * (st).out_arena_size, \
			  (st).out_bytes_allocated_blocks +		\
			  (st).out_bytes_free_blocks +			\
			  (st).out_bytes_unused_pools +			\
			  (st).out_bytes_pool_headers +			\
			  (st).out_bytes_quantization);			\
		EXPECT_EQ((st).out_arenas_allocated -			\
			  (st).out_arenas_reclaimed,			\
			  (st).out_arenas_current);			\
		EXPECT_LE((st).out_arenas_current,			\
			  (st).out_arenas_highwater);			\
		EXPECT_LE((st).out_bytes_pools_held,			\
			  (st).out_arenas_current * (st).out_arena_size); \
		EXPECT_LE((st).out_bytes_pools_held + (st).out_large_bytes + \
			  (st).out_bytes_charged, (st).out_bytes_held);	\
		EXPECT_LE((st).out_bytes_in_use, (st).out_bytes_held);	\
	} while (0)

/* Setup and teardown shared by the fixtures that need the test interface. */
#define ALLOC_FIXTURE_SETUP()						\
	do {								\
		SETUP_OPEN_HEAP_OR_SKIP(self->fd);			\
		if (!objheap_has_test_interface(self->fd))		\
			SETUP_SKIP("the module has no test-only interface"); \
	} while (0)

/* After every test, the checker; ASSERT would re-enter the teardown. */
#define ALLOC_FIXTURE_TEARDOWN()					\
	do {								\
		if (self->fd < 0)					\
			return;						\
		if (objheap_has_test_interface(self->fd)) {		\
			EXPECT_EQ(0, alloc_check(self->fd));		\
			EXPECT_EQ(0, get_stats(self->fd, &self->st,	\
					       self->classes));		\
			EXPECT_STATS_CONSISTENT(self->st, self->classes); \
		}							\
		close(self->fd);					\
	} while (0)

FIXTURE(alloc) {
	int fd;
	struct objheap_stats st;
	struct objheap_class_stats classes[NR_CLASSES];
};

FIXTURE_SETUP(alloc)
{
	ALLOC_FIXTURE_SETUP();
}

FIXTURE_TEARDOWN(alloc)
{
	ALLOC_FIXTURE_TEARDOWN();
}

TEST_F(alloc, every_size_class_at_both_ends)
{
	uint32_t c, end, size, block_size;
	uint64_t id;

	for (c = 0; c < NR_CLASSES; c++) {
		for (end = 0; end < 2; end++) {
			size = end ? 16 * (c + 1) : 16 * c + 1;
			ASSERT_EQ(0, alloc_blocks(self->fd, 1, size, size, &id,
						  &block_size));
			EXPECT_EQ(16 * (c + 1), block_size);
			ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
			EXPECT_EQ(1, self->classes[c].blocks_in_use);
			EXPECT_EQ(1, self->classes[c].pools);
			EXPECT_EQ(16 * (c + 1), self->st.out_bytes_in_use);
			EXPECT_EQ(0, self->st.out_large_objects);
			EXPECT_EQ(0, alloc_check(self->fd));
			ASSERT_EQ(0, free_block(self->fd, id));
			ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
			EXPECT_EQ(0, self->classes[c].blocks_in_use);
			EXPECT_EQ(0, self->st.out_bytes_in_use);
		}
	}
	/* 0 bytes is served as 1; 513 is the first large size. */
	ASSERT_EQ(0, alloc_blocks(self->fd, 1, 0, 0, &id, &block_size));
	EXPECT_EQ(16, block_size);
	ASSERT_EQ(0, free_block(self->fd, id));
	ASSERT_EQ(0, alloc_blocks(self->fd, 1, 513, 513, &id, &block_size));
	EXPECT_EQ(0, block_size);
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(1, self->st.out_large_objects);
	EXPECT_EQ(513, self->st.out_large_bytes);
	EXPECT_EQ(528, self->st.out_bytes_in_use);
	ASSERT_EQ(0, free_block(self->fd, id));
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_TEST, &(struct objheap_test_cmd){
		.size = sizeof(struct objheap_test_cmd),
		.op = OBJHEAP_TEST_OP_FREE_BLOCK, .free_block = { .id = id } }));
}

TEST_F(alloc, a_pool_fills_and_a_second_one_starts)
{
	uint32_t per_pool;

	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	/* 16-byte blocks after a 48-byte header. */
	per_pool = (self->st.out_pool_size - 48) / 16;
	ASSERT_EQ(0, alloc_blocks(self->fd, per_pool, 16, 16, NULL, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(1, self->classes[0].pools);
	EXPECT_EQ(per_pool, self->classes[0].blocks_in_use);
	EXPECT_EQ(0, self->classes[0].blocks_free);
	EXPECT_EQ(0, alloc_check(self->fd));
	ASSERT_EQ(0, alloc_blocks(self->fd, 1, 1, 16, NULL, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(2, self->classes[0].pools);
	EXPECT_EQ(per_pool - 1, self->classes[0].blocks_free);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_RANDOM, NULL));
}

TEST_F(alloc, mixed_sizes_small_and_large)
{
	uint32_t freed;
	int c, classes_used = 0;

	ASSERT_EQ(0, alloc_blocks(self->fd, 5000, 0, 2048, NULL, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_STATS_CONSISTENT(self->st, self->classes);
	for (c = 0; c < NR_CLASSES; c++)
		classes_used += self->classes[c].blocks_in_use > 0;
	EXPECT_EQ(NR_CLASSES, classes_used);
	EXPECT_LT(0, self->st.out_large_objects);
	EXPECT_EQ(0, alloc_check(self->fd));
	ASSERT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_RANDOM, &freed));
	EXPECT_EQ(5000, freed);
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(0, self->st.out_bytes_in_use);
	EXPECT_EQ(0, self->st.out_large_objects);
	EXPECT_EQ(0, self->st.out_bytes_allocated_blocks);
}

FIXTURE(free_order) {
	int fd;
	struct objheap_stats st;
	struct objheap_class_stats classes[NR_CLASSES];
};

FIXTURE_VARIANT(free_order) {
	uint32_t order;
};

FIXTURE_VARIANT_ADD(free_order, lifo) { .order = OBJHEAP_TEST_LIFO };
FIXTURE_VARIANT_ADD(free_order, fifo) { .order = OBJHEAP_TEST_FIFO };
FIXTURE_VARIANT_ADD(free_order, random) { .order = OBJHEAP_TEST_RANDOM };

FIXTURE_SETUP(free_order)
{
	ALLOC_FIXTURE_SETUP();
}

FIXTURE_TEARDOWN(free_order)
{
	ALLOC_FIXTURE_TEARDOWN();
}

TEST_F(free_order, heap_stays_consistent)
{
	uint32_t freed, round;

	for (round = 0; round < 3; round++) {
		/* Allocate over what the previous round left half-freed. */
		ASSERT_EQ(0, alloc_blocks(self->fd, 3000, 1, 512, NULL, NULL));
		ASSERT_EQ(0, alloc_blocks(self->fd, 300, 16, 16, NULL, NULL));
		ASSERT_EQ(0, alloc_check(self->fd));
		ASSERT_EQ(0, free_blocks(self->fd, variant->order, &freed));
		EXPECT_EQ(3300, freed);
		ASSERT_EQ(0, alloc_check(self->fd));
		ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
		EXPECT_EQ(0, self->st.out_bytes_in_use);
		EXPECT_EQ(0, self->st.out_bytes_allocated_blocks);
		EXPECT_LE(self->st.out_arenas_current, 1);
	}
}

TEST_F(alloc, filled_then_emptied_heap_reclaims_its_arenas)
{
	uint32_t per_arena, n, freed;
	uint64_t arenas;

	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	/* 256-byte blocks: 15 per 4 KiB pool, whatever the parameters. */
	per_arena = (self->st.out_arena_size / self->st.out_pool_size) *
		    ((self->st.out_pool_size - 48) / 256);
	n = 10 * per_arena + 1;
	ASSERT_EQ(0, alloc_blocks(self->fd, n, 241, 256, NULL, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	arenas = self->st.out_arenas_current;
	EXPECT_EQ(11, arenas);
	EXPECT_EQ(11, self->st.out_arenas_allocated);
	EXPECT_EQ(11, self->st.out_arenas_highwater);
	EXPECT_EQ(0, self->st.out_arenas_reclaimed);
	EXPECT_EQ((uint64_t)n, self->classes[15].blocks_in_use);

	ASSERT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_RANDOM, &freed));
	EXPECT_EQ(n, freed);
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	/* One empty arena is kept against thrashing; the rest went back. */
	EXPECT_EQ(1, self->st.out_arenas_current);
	EXPECT_EQ(10, self->st.out_arenas_reclaimed);
	EXPECT_EQ(11, self->st.out_arenas_highwater);
	EXPECT_EQ(self->st.out_arena_size, self->st.out_bytes_unused_pools);
	EXPECT_EQ(0, self->classes[15].pools);

	/* The kept arena serves the next allocation: no new one. */
	ASSERT_EQ(0, alloc_blocks(self->fd, 1, 64, 64, NULL, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(11, self->st.out_arenas_allocated);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_FIFO, NULL));
}

TEST_F(alloc, allocation_prefers_the_fullest_arena)
{
	uint32_t per_arena;
	uint64_t first, i;

	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	/* 512-byte blocks: 7 per pool, so one per pool with 7 blocks. */
	per_arena = (self->st.out_arena_size / self->st.out_pool_size) * 7;
	ASSERT_EQ(0, alloc_blocks(self->fd, 3 * per_arena, 512, 512, &first, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	ASSERT_EQ(3, self->st.out_arenas_current);
	/* Empty most of the first arena and all of the third. */
	for (i = 0; i < per_arena - 7; i++)
		ASSERT_EQ(0, free_block(self->fd, first + i));
	for (i = 2 * per_arena; i < 3 * per_arena; i++)
		ASSERT_EQ(0, free_block(self->fd, first + i));
	/* Free one pool's worth in the second arena. */
	for (i = per_arena; i < per_arena + 7; i++)
		ASSERT_EQ(0, free_block(self->fd, first + i));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(3, self->st.out_arenas_current);	/* the empty one is kept */
	/*
	 * A new pool of another class must come from the second arena (one
	 * free pool), not the first (many) nor the empty third: the first
	 * can still drain.  Check it by draining the first arena: it goes.
	 */
	ASSERT_EQ(0, alloc_blocks(self->fd, 1, 16, 16, NULL, NULL));
	for (i = per_arena - 7; i < per_arena; i++)
		ASSERT_EQ(0, free_block(self->fd, first + i));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(2, self->st.out_arenas_current);
	EXPECT_EQ(1, self->st.out_arenas_reclaimed);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_LIFO, NULL));
}

/*
 * The limit bounds what the heap holds (pages, bookkeeping, large
 * allocations as the slab rounds them, charges), not what its blocks use.
 */
TEST_F(alloc, limit_is_enforced_exactly)
{
	uint32_t i, per_pool;
	uint64_t id, held;

	/* One block: an arena's bookkeeping and one page of pools. */
	ASSERT_EQ(0, alloc_one(self->fd, 16, &id));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(self->st.out_pool_size, self->st.out_bytes_pools_held);
	held = self->st.out_bytes_held;
	ASSERT_EQ(0, set_limit(self->fd, held));
	/* The rest of that pool's blocks take nothing more (sizes 1 to 16)... */
	per_pool = (self->st.out_pool_size - 48) / 16;
	for (i = 1; i < per_pool; i++)
		ASSERT_EQ(0, alloc_blocks(self->fd, 1, 1 + i % 16, 1 + i % 16,
					  &id, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(held, self->st.out_bytes_held);
	EXPECT_EQ(per_pool * 16, self->st.out_bytes_in_use);
	/* ...and nothing that needs memory: a pool, a large block, a charge. */
	EXPECT_EQ(-ENOMEM, alloc_one(self->fd, 1, NULL));
	EXPECT_EQ(-ENOMEM, alloc_one(self->fd, 600, NULL));
	EXPECT_EQ(-ENOMEM, charge(self->fd, 1, 0));
	EXPECT_EQ(0, alloc_check(self->fd));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(held, self->st.out_bytes_held);
	EXPECT_EQ(per_pool, self->classes[0].blocks_in_use);

	/* Free one block: exactly one fits again. */
	ASSERT_EQ(0, free_block(self->fd, id));
	EXPECT_EQ(0, alloc_one(self->fd, 16, NULL));
	EXPECT_EQ(-ENOMEM, alloc_one(self->fd, 16, NULL));

	/* One page more: one pool of another class, not a large block. */
	ASSERT_EQ(0, set_limit(self->fd, held + self->st.out_pool_size));
	EXPECT_EQ(0, alloc_one(self->fd, 32, NULL));
	EXPECT_EQ(-ENOMEM, alloc_one(self->fd, 600, NULL));
	ASSERT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_LIFO, NULL));
	/* Free pools stay held: their pages are the heap's until it closes. */
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(0, self->st.out_bytes_in_use);
	held = self->st.out_bytes_held;
	EXPECT_EQ(2 * self->st.out_pool_size, self->st.out_bytes_pools_held);

	/* 600 bytes behind a 32-byte header: the slab's 1 KiB bucket. */
	ASSERT_EQ(0, set_limit(self->fd, held + 1024));
	ASSERT_EQ(0, alloc_one(self->fd, 600, &id));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(held + 1024, self->st.out_bytes_held);
	EXPECT_EQ(608, self->st.out_bytes_in_use);
	EXPECT_EQ(-ENOMEM, charge(self->fd, 1, 0));
	ASSERT_EQ(0, free_block(self->fd, id));
	/* A charge holds exactly its bytes. */
	EXPECT_EQ(0, charge(self->fd, 1024, 0));
	EXPECT_EQ(-ENOMEM, charge(self->fd, 1, 0));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(1024, self->st.out_bytes_charged);
	EXPECT_EQ(1024, self->st.out_bytes_in_use);
	EXPECT_EQ(held + 1024, self->st.out_bytes_held);
	ASSERT_EQ(0, charge(self->fd, 1024, 1));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(0, self->st.out_bytes_in_use);
	EXPECT_EQ(held, self->st.out_bytes_held);
}

/*
 * At the limit, a new pool comes from any arena's free pools that still
 * have their page, even when the arena allocation prefers has only pools
 * without one.
 */
TEST_F(alloc, at_the_limit_a_free_page_in_any_arena_serves)
{
	uint32_t per_arena, i;
	uint64_t first;

	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	/* 256-byte blocks, 15 per pool: one full arena and one more pool. */
	per_arena = (self->st.out_arena_size / self->st.out_pool_size) * 15;
	ASSERT_EQ(0, alloc_blocks(self->fd, per_arena + 15, 256, 256, &first, NULL));
	/* Empty the first arena: it is kept, all its pages free pools. */
	for (i = 0; i < per_arena; i++)
		ASSERT_EQ(0, free_block(self->fd, first + i));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	ASSERT_EQ(2, self->st.out_arenas_current);
	ASSERT_EQ(0, set_limit(self->fd, self->st.out_bytes_held));
	/* The second arena has the fewest free pools, none with a page. */
	EXPECT_EQ(0, alloc_one(self->fd, 16, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(self->st.out_limit, self->st.out_bytes_held);
	EXPECT_EQ(1, self->classes[0].pools);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_FIFO, NULL));
}

TEST_F(alloc, limit_below_use_stops_allocation_not_free)
{
	ASSERT_EQ(0, alloc_blocks(self->fd, 10, 64, 64, NULL, NULL));
	ASSERT_EQ(0, set_limit(self->fd, 0));
	EXPECT_EQ(-ENOMEM, alloc_one(self->fd, 1, NULL));
	EXPECT_EQ(-ENOMEM, alloc_blocks(self->fd, 10, 1, 4096, NULL, NULL));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, self->classes));
	EXPECT_EQ(640, self->st.out_bytes_in_use);
	EXPECT_EQ(0, self->st.out_limit);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_FIFO, NULL));
}

TEST_F(alloc, limit_above_module_maximum_is_einval)
{
	uint64_t max, limit;

	ASSERT_EQ(0, get_stats(self->fd, &self->st, NULL));
	max = self->st.out_limit_max;
	limit = self->st.out_limit;
	EXPECT_LE(limit, max);
	EXPECT_EQ(-EINVAL, set_limit(self->fd, max + 1));
	EXPECT_EQ(-EINVAL, set_limit(self->fd, UINT64_MAX));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, NULL));
	EXPECT_EQ(limit, self->st.out_limit);
	EXPECT_EQ(0, set_limit(self->fd, max));
	ASSERT_EQ(0, get_stats(self->fd, &self->st, NULL));
	EXPECT_EQ(max, self->st.out_limit);
}

/*
 * Fail the n-th raw allocation (arena struct, arena page, large
 * allocation) for n = 1, 2, ... until the call succeeds: every failure is
 * ENOMEM and leaves the heap as it was.  Works on every kernel.
 */
static void fail_each_raw_allocation(struct __test_metadata *_metadata,
				     int fd, uint32_t count, uint32_t size,
				     uint32_t *failures)
{
	struct objheap_stats before, after;
	uint32_t nth, prev;
	int ret;

	ASSERT_EQ(0, get_stats(fd, &before, NULL));
	for (nth = 1; nth < 10000; nth++) {
		ASSERT_EQ(0, fail_nth(fd, nth, NULL));
		ret = alloc_blocks(fd, count, size, size, NULL, NULL);
		ASSERT_EQ(0, fail_nth(fd, 0, &prev));
		if (!ret) {
			EXPECT_NE(0, prev);	/* it did not fire */
			break;
		}
		ASSERT_EQ(-ENOMEM, ret);
		EXPECT_EQ(0, prev);
		ASSERT_EQ(0, alloc_check(fd));
		ASSERT_EQ(0, get_stats(fd, &after, NULL));
		EXPECT_EQ(before.out_bytes_in_use, after.out_bytes_in_use);
		EXPECT_EQ(before.out_large_objects, after.out_large_objects);
		EXPECT_GE(before.out_arenas_current + 1, after.out_arenas_current);
	}
	*failures = nth - 1;
}

TEST_F(alloc, failed_raw_allocations_unwind)
{
	uint32_t failures, per_arena;

	ASSERT_EQ(0, get_stats(self->fd, &self->st, NULL));
	per_arena = self->st.out_arena_size / self->st.out_pool_size;
	/*
	 * A fresh heap: the arena struct, its number, the array of the map
	 * of pool ids and the map's first page, then the first pool's page.
	 * The array stays when a later one fails: four failures, not five.
	 */
	fail_each_raw_allocation(_metadata, self->fd, 1, 64, &failures);
	EXPECT_EQ(4, failures);
	/* A large allocation. */
	fail_each_raw_allocation(_metadata, self->fd, 1, 5000, &failures);
	EXPECT_EQ(1, failures);
	/*
	 * Many blocks, the last few needing a second arena: all or none.
	 * The pages a failed try took stay as the heap's free pools, so
	 * each try gets further than the one before.
	 */
	fail_each_raw_allocation(_metadata, self->fd, per_arena * 15, 256,
				 &failures);
	EXPECT_LE(2, failures);
	ASSERT_EQ(0, get_stats(self->fd, &self->st, NULL));
	EXPECT_EQ(2, self->st.out_arenas_current);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_RANDOM, NULL));
}

/*
 * The kernel's own fault injection (failslab and fail_page_alloc, set up
 * by the VM's /init), as iommufd_fail_nth does: in a fresh heap each time,
 * fail the n-th allocation the ioctl makes, n = 1, 2, ..., until the
 * ioctl makes fewer than n.  A failure the kernel absorbs (kmemleak's own
 * metadata, kvmalloc()'s vmalloc fallback) lets the call succeed; any
 * other must be ENOMEM with the heap consistent and nothing in use (the
 * arena kept against thrashing may stay, as after any free).
 */
static void fail_nth_kernel(struct __test_metadata *_metadata, int nth_fd,
			    uint32_t count, uint32_t size, uint32_t *failures)
{
	struct objheap_stats st;
	unsigned int nth;
	int fd, ret, fired;

	*failures = 0;
	for (nth = 1; nth < 100000; nth++) {
		fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, fail_nth_write(nth_fd, nth));
		ret = alloc_blocks(fd, count, size, size, NULL, NULL);
		fired = fail_nth_fired(nth_fd);
		ASSERT_EQ(0, fail_nth_write(nth_fd, 0));
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			ASSERT_TRUE(fired);
			(*failures)++;
			ASSERT_EQ(0, get_stats(fd, &st, NULL));
			EXPECT_EQ(0, st.out_bytes_in_use);
			EXPECT_EQ(0, st.out_large_objects);
			/* Blocks freed again may leave the one kept arena. */
			EXPECT_GE(1, st.out_arenas_current);
		}
		ASSERT_EQ(0, alloc_check(fd));
		close(fd);
		if (!fired)
			break;
	}
	ASSERT_EQ(0, ret);
}

TEST_F_TIMEOUT(alloc, fault_injection_fail_nth, 180)
{
	uint32_t failures, per_arena;
	int nth_fd;

	nth_fd = fail_nth_open();
	if (nth_fd < 0)
		SKIP(return, "no /proc/thread-self/fail-nth: kernel without fault injection");
	ASSERT_EQ(0, get_stats(self->fd, &self->st, NULL));
	per_arena = self->st.out_arena_size / self->st.out_pool_size;
	/*
	 * The first arena's bookkeeping and its first page are both points
	 * of failure, but which of them a failure reaches depends on the
	 * kernel's fault injection (the 6.1 and 7.2 debug kernels count one
	 * of them): what must hold is that each failure that fires leaves the
	 * heap empty and consistent, which fail_nth_kernel() asserts.
	 */
	fail_nth_kernel(_metadata, nth_fd, 1, 64, &failures);
	EXPECT_LE(1, failures);
	/* Large, but not above a page: kvmalloc() has no fallback there. */
	fail_nth_kernel(_metadata, nth_fd, 1, 2000, &failures);
	EXPECT_LE(1, failures);
	/*
	 * Two arenas' worth of blocks: all or nothing.  Pool pages are taken
	 * as pools are first used, so at least one arena's worth of them
	 * fail in turn (119 and 120 of the 128 pages on the 6.1 debug kernel).
	 */
	fail_nth_kernel(_metadata, nth_fd, per_arena * 15 * 2, 256, &failures);
	EXPECT_LE(per_arena, failures);
	close(nth_fd);
}

TEST_F(alloc, closed_heap_returns_every_page)
{
	uint64_t pages, large, pages_open, large_open, pages_after, large_after;
	int fd;

	ASSERT_EQ(0, held(self->fd, &pages, &large));
	fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* Left allocated on purpose: closing must free them. */
	ASSERT_EQ(0, alloc_blocks(fd, 20000, 0, 1024, NULL, NULL));
	ASSERT_EQ(0, alloc_blocks(fd, 10, 100000, 300000, NULL, NULL));
	ASSERT_EQ(0, held(self->fd, &pages_open, &large_open));
	EXPECT_LT(pages, pages_open);
	EXPECT_LT(large + 10, large_open);
	close(fd);
	ASSERT_EQ(0, held(self->fd, &pages_after, &large_after));
	EXPECT_EQ(pages, pages_after);
	EXPECT_EQ(large, large_after);
}

TEST_F(alloc, checker_notices_corruption)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_ALLOC_CHECK_SELFTEST,
	};

	ASSERT_EQ(0, alloc_blocks(self->fd, 100, 1, 64, NULL, NULL));
	EXPECT_EQ(0, test_op(self->fd, &cmd));
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_FIFO, NULL));
}

/* The per-heap debugfs file shows the class table. */
TEST_F(alloc, debugfs_stats_show_the_classes)
{
	const char *root = "/sys/kernel/debug/objheap";
	char path[300], line[256];
	struct dirent *de;
	int found = 0;
	FILE *f;
	DIR *d;

	ASSERT_EQ(0, alloc_blocks(self->fd, 123, 33, 48, NULL, NULL));
	d = opendir(root);
	if (!d)
		SKIP(return, "no %s", root);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/stats", root, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned int c, size, pools, used, avail;

			if (sscanf(line, "%u %u %u %u %u", &c, &size, &pools,
				   &used, &avail) == 5 &&
			    c == 2 && size == 48 && used == 123)
				found++;
		}
		fclose(f);
	}
	closedir(d);
	EXPECT_EQ(1, found);
	EXPECT_EQ(0, free_blocks(self->fd, OBJHEAP_TEST_LIFO, NULL));
}

/* ---- the commands' conventions; these need no test interface ---- */

FIXTURE(stats) {
	int fd;
};

FIXTURE_SETUP(stats)
{
	SETUP_OPEN_HEAP_OR_SKIP(self->fd);
}

FIXTURE_TEARDOWN(stats)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(stats, cmd_length)
{
	TEST_LENGTH(self->fd, objheap_stats, OBJHEAP_STATS, out_large_bytes);
	TEST_LENGTH(self->fd, objheap_set_limit, OBJHEAP_SET_LIMIT, limit,
		    .limit = 1 << 20);
}

TEST_F(stats, query_lists_the_commands)
{
	struct objheap_query q = { .size = sizeof(q) };

	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_QUERY, &q));
	EXPECT_TRUE(q.out_cmds & (1ULL << (OBJHEAP_CMD_STATS - OBJHEAP_CMD_BASE)));
	EXPECT_TRUE(q.out_cmds & (1ULL << (OBJHEAP_CMD_SET_LIMIT - OBJHEAP_CMD_BASE)));
	q.query_cmd = OBJHEAP_CMD_STATS;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_QUERY, &q));
	EXPECT_EQ(sizeof(struct objheap_stats), q.out_cmd_size);
	q.query_cmd = OBJHEAP_CMD_SET_LIMIT;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_QUERY, &q));
	EXPECT_EQ(sizeof(struct objheap_set_limit), q.out_cmd_size);
}

TEST_F(stats, unknown_flags_are_einval)
{
	struct objheap_set_limit sl = { .size = sizeof(sl), .limit = 1 << 20 };
	struct objheap_stats st = { .size = sizeof(st) };
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		st.flags = 1U << bit;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_STATS, &st));
		sl.flags = 1U << bit;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SET_LIMIT, &sl));
	}
}

TEST_F(stats, fresh_heap_is_empty)
{
	struct objheap_class_stats classes[NR_CLASSES];
	struct objheap_stats st;

	memset(classes, 0xff, sizeof(classes));
	ASSERT_EQ(0, get_stats(self->fd, &st, classes));
	EXPECT_EQ(NR_CLASSES, st.out_nr_classes);
	EXPECT_EQ(0, st.out_bytes_in_use);
	EXPECT_EQ(0, st.out_arenas_current);
	EXPECT_EQ(0, st.out_large_objects);
	EXPECT_EQ(262144, st.out_arena_size);
	EXPECT_EQ(4096, st.out_pool_size);
	EXPECT_LE(st.out_limit, st.out_limit_max);
	EXPECT_LT(0, st.out_limit);
	EXPECT_STATS_CONSISTENT(st, classes);
	EXPECT_EQ(0, classes[31].pools);
}

TEST_F(stats, short_class_array_is_filled_to_its_capacity)
{
	struct objheap_class_stats classes[5];
	struct objheap_stats st = { .size = sizeof(st) };

	memset(classes, 0xff, sizeof(classes));
	st.nr_classes = 4;
	st.classes = (uintptr_t)classes;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_STATS, &st));
	EXPECT_EQ(NR_CLASSES, st.out_nr_classes);
	EXPECT_EQ(16, classes[0].block_size);
	EXPECT_EQ(64, classes[3].block_size);
	EXPECT_EQ(0xffffffff, classes[4].block_size);	/* untouched */
	/* No array at all: only the count. */
	st.nr_classes = 0;
	st.classes = 0;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_STATS, &st));
	EXPECT_EQ(NR_CLASSES, st.out_nr_classes);
}

TEST_F(stats, bad_pointers_are_efault)
{
	struct objheap_stats st = { .size = sizeof(st), .nr_classes = NR_CLASSES };

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_STATS, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_SET_LIMIT, (void *)8));
	st.classes = 0;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_STATS, &st));
	st.classes = 8;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_STATS, &st));
	st.classes = (uint64_t)-4096;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_STATS, &st));
}

TEST_F(stats, set_limit_above_maximum_is_einval)
{
	struct objheap_stats st;

	ASSERT_EQ(0, get_stats(self->fd, &st, NULL));
	EXPECT_LT(0, st.out_bytes_held);	/* the heap's own structures */
	EXPECT_EQ(0, st.out_bytes_pools_held);
	EXPECT_EQ(-EINVAL, set_limit(self->fd, st.out_limit_max + 1));
	EXPECT_EQ(0, set_limit(self->fd, 12345));
	ASSERT_EQ(0, get_stats(self->fd, &st, NULL));
	EXPECT_EQ(12345, st.out_limit);
}

TEST_HARNESS_MAIN
