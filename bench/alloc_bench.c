// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_bench: the heap's allocator against SLUB, in one VM boot.
 *
 * Through the test-only interface, the kernel runs the same loop through
 * objheap's allocator and through a kmem_cache of the same size: n
 * allocations of one size, then n frees in LIFO or random order; the
 * best of several rounds, the two alternating.  An op is one allocation
 * or one free.  Then the cost of backing one arena each way (the choice
 * Documentation/allocator.rst argues).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <libobjheap.h>
#include "objheap_test.h"

#define N	20000
#define ROUNDS	7
#define ARENAS	300

static int test_op(struct objheap *heap, struct objheap_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(objheap_fd(heap), OBJHEAP_TEST, cmd) ? -errno : 0;
}

static int bench_alloc(struct objheap *heap)
{
	static const unsigned int sizes[] = { 16, 64, 256, 512 };
	static const struct { unsigned int order; const char *name; } orders[] = {
		{ OBJHEAP_TEST_LIFO, "lifo" }, { OBJHEAP_TEST_RANDOM, "random" },
	};
	struct objheap_test_cmd cmd;
	double oh, slub;
	unsigned int s, o;
	int ret;

	printf("objheap allocator vs SLUB kmem_cache: %d allocations then %d frees,\n"
	       "best of %d rounds, ns per op (one allocation or one free)\n\n",
	       N, N, ROUNDS);
	printf("%5s %-7s %14s %12s %7s\n", "size", "order", "objheap ns/op",
	       "slub ns/op", "ratio");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
			memset(&cmd, 0, sizeof(cmd));
			cmd.op = OBJHEAP_TEST_OP_ALLOC_BENCH;
			cmd.bench.size = sizes[s];
			cmd.bench.count = N;
			cmd.bench.order = orders[o].order;
			cmd.bench.rounds = ROUNDS;
			cmd.bench.seed = 42;
			ret = test_op(heap, &cmd);
			if (ret)
				return ret;
			oh = (double)cmd.bench.out_objheap_ns / (2.0 * N);
			slub = (double)cmd.bench.out_slub_ns / (2.0 * N);
			printf("%5u %-7s %14.1f %12.1f %7.2f\n", sizes[s],
			       orders[o].name, oh, slub, oh / slub);
		}
	}
	return 0;
}

static int bench_backing(struct objheap *heap)
{
	static const char *const names[OBJHEAP_TEST_NR_BACKINGS] = {
		[OBJHEAP_TEST_BACKING_VMALLOC] = "vmalloc, one area",
		[OBJHEAP_TEST_BACKING_ORDER_N] = "alloc_pages, one order-N block",
		[OBJHEAP_TEST_BACKING_PAGES] = "alloc_pages, pool by pool (chosen)",
		[OBJHEAP_TEST_BACKING_BULK] = "alloc_pages_bulk_array, unaccounted",
	};
	struct objheap_test_cmd cmd;
	struct objheap_stats st;
	unsigned int b;
	int ret;

	ret = objheap_stats(heap, &st, NULL, 0);
	if (ret)
		return ret;
	printf("\nBacking one %u-byte arena of %u-byte pools: taken and given back,\n"
	       "%d times, GFP_KERNEL_ACCOUNT | __GFP_NOWARN\n\n",
	       st.out_arena_size, st.out_pool_size, ARENAS);
	printf("%-38s %12s %8s\n", "method", "us/arena", "failed");
	for (b = 0; b < OBJHEAP_TEST_NR_BACKINGS; b++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.op = OBJHEAP_TEST_OP_ARENA_BENCH;
		cmd.arena_bench.backing = b;
		cmd.arena_bench.count = ARENAS;
		cmd.arena_bench.size = st.out_arena_size;
		cmd.arena_bench.pool_size = st.out_pool_size;
		ret = test_op(heap, &cmd);
		if (ret)
			return ret;
		printf("%-38s %12.1f %8llu\n", names[b],
		       cmd.arena_bench.out_ns / 1000.0 / ARENAS,
		       (unsigned long long)cmd.arena_bench.out_failed);
	}
	return 0;
}

int main(void)
{
	struct objheap_query q;
	struct objheap *heap;
	int ret;

	ret = objheap_open(&heap);
	if (ret) {
		fprintf(stderr, "alloc_bench: open: %s\n", strerror(-ret));
		return 1;
	}
	ret = objheap_query(heap, 0, &q);
	if (!ret && !(q.out_features & OBJHEAP_FEATURE_TEST)) {
		printf("alloc_bench: no test-only interface: skipped\n");
		objheap_close(heap);
		return 4;
	}
	if (!ret)
		ret = bench_alloc(heap);
	if (!ret)
		ret = bench_backing(heap);
	objheap_close(heap);
	if (ret) {
		fprintf(stderr, "alloc_bench: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
