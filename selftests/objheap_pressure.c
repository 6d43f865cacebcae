// SPDX-License-Identifier: GPL-2.0
/*
 * Collections that memory asks for: before an object creation fails at
 * the heap's limit, and when the kernel's reclaim asks objheap's shrinker
 * (drop_caches for all of it at once, then a memory cgroup over its
 * memory.high).  Each checks what was collected and given back against
 * what the test made, and that a heap with automatic collection off is
 * left alone.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include <libobjheap.h>

#define KIB		1024ULL
#define MIB		(1024 * KIB)
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_PRESSURE	CG_ROOT "/objheap-pressure"
/* A first threshold no test reaches: only memory starts a collection. */
#define NEVER		1000000000U

FIXTURE(pressure) {
	struct objheap *heap;
	int fd;
};

FIXTURE_SETUP(pressure)
{
	uint32_t t[OBJHEAP_GC_GENERATIONS] = { NEVER, 10, 10 };

	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, t));
}

FIXTURE_TEARDOWN(pressure)
{
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

static struct objheap_gc_stats info(struct objheap *heap)
{
	struct objheap_gc_stats st;

	if (objheap_gc_get_info(heap, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

static uint64_t held(struct objheap *heap)
{
	struct objheap_stats st;

	return objheap_stats(heap, &st, NULL, 0) ? ~0ULL : st.out_bytes_held;
}

/*
 * A ring of two objects with 200-byte payloads (a 256-byte block each),
 * nothing else holding it: garbage.  0, or the errno of the command that
 * failed.
 */
static int garbage_pair(struct objheap *heap)
{
	uint64_t a, b;
	int ret;

	ret = objheap_new(heap, 1, 0, 1, NULL, 200, NULL, &a);
	if (ret)
		return ret;
	ret = objheap_new(heap, 1, 0, 1, NULL, 200, &a, &b);
	if (!ret)
		ret = objheap_set_slot(heap, a, 0, b);
	objheap_release(heap, a);
	if (!ret)
		objheap_release(heap, b);
	return ret;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Reclaim everything reclaimable: every shrinker, every memory cgroup. */
static int drop_slab(void)
{
	return write_file("/proc/sys/vm/drop_caches", "2");
}

/*
 * Wait up to @ms for the shrinker's worker to have gone through @heap
 * (@pressure_freed or @pressure_collections above @before's); the
 * statistics then.
 */
static struct objheap_gc_stats wait_for_worker(struct objheap *heap,
					       const struct objheap_gc_stats *before,
					       unsigned int ms)
{
	uint64_t end = now_ms() + ms;
	struct objheap_gc_stats st;

	for (;;) {
		st = info(heap);
		if (st.out_pressure_freed != before->out_pressure_freed ||
		    st.out_pressure_collections !=
		    before->out_pressure_collections || now_ms() > end)
			return st;
		usleep(20000);
	}
}

/* ---- at the limit ---- */

#define LIMIT	(1 * MIB)

TEST_F(pressure, creation_at_the_limit_collects_garbage_first)
{
	struct objheap_gc_stats st;
	int i, made = 0;

	ASSERT_EQ(0, objheap_set_limit(self->heap, LIMIT));
	/* Four times what the limit holds, dropped as it is made. */
	for (i = 0; i < 4 * LIMIT / 512; i++) {
		ASSERT_EQ(0, garbage_pair(self->heap));
		made += 2;
	}
	st = info(self->heap);
	TH_LOG("%d objects made under a %llu KiB limit: %llu collections at the limit, %llu collected",
	       made, LIMIT / KIB, st.out_limit_collections,
	       st.out_gen[2].collected);
	EXPECT_LE(3, st.out_limit_collections);
	EXPECT_EQ(st.out_limit_collections, st.out_gen[2].collections);
	/* Everything collected but what the last collection left. */
	EXPECT_EQ(made, st.out_gen[2].collected +
		  objheap_test_objects(self->fd).objects.out_live);
	EXPECT_EQ(0, st.out_pressure_collections);
	EXPECT_GE(LIMIT, held(self->heap));
}

TEST_F(pressure, limit_collects_only_when_automatic_collection_is_on)
{
	struct objheap_gc_stats st;
	uint32_t t[OBJHEAP_GC_GENERATIONS] = { 0, 10, 10 };
	int i, ret = 0;

	ASSERT_EQ(0, objheap_set_limit(self->heap, LIMIT));
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
	for (i = 0; i < 4 * LIMIT / 512 && !ret; i++)
		ret = garbage_pair(self->heap);
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_EQ(0, info(self->heap).out_limit_collections);

	/* A threshold of 0 for generation 0 is off too. */
	ASSERT_EQ(0, objheap_gc_enable(self->heap));
	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, t));
	EXPECT_EQ(-ENOMEM, garbage_pair(self->heap));
	EXPECT_EQ(0, info(self->heap).out_limit_collections);

	/* On again: the next creation finds the room. */
	t[0] = NEVER;
	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, t));
	EXPECT_EQ(0, garbage_pair(self->heap));
	st = info(self->heap);
	EXPECT_EQ(1, st.out_limit_collections);
	EXPECT_LT(100, st.out_gen[2].collected);
}

TEST_F(pressure, a_full_heap_without_garbage_collects_once)
{
	static uint64_t h[LIMIT / 64];
	uint64_t extra;
	size_t n;
	int ret = 0;

	ASSERT_EQ(0, objheap_set_limit(self->heap, LIMIT));
	for (n = 0; n < ARRAY_SIZE(h); n++) {
		ret = objheap_new(self->heap, 1, 0, 1, NULL, 16, NULL, &h[n]);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOMEM, ret);
	/* No reference was dropped: nothing can be garbage. */
	EXPECT_EQ(0, info(self->heap).out_limit_collections);

	/* One was: one collection, which finds nothing... */
	ASSERT_EQ(0, objheap_dup(self->heap, h[0]));
	ASSERT_EQ(0, objheap_release(self->heap, h[0]));
	EXPECT_EQ(-ENOMEM, objheap_new(self->heap, 1, 0, 1, NULL, 16, NULL,
				       &extra));
	EXPECT_EQ(1, info(self->heap).out_limit_collections);
	/* ... and is not run again until another one drops. */
	EXPECT_EQ(-ENOMEM, objheap_new(self->heap, 1, 0, 1, NULL, 16, NULL,
				       &extra));
	EXPECT_EQ(-ENOMEM, objheap_new(self->heap, 1, 0, 1, NULL, 16, NULL,
				       &extra));
	EXPECT_EQ(1, info(self->heap).out_limit_collections);
	EXPECT_EQ(n, objheap_test_objects(self->fd).objects.out_live);
}

/* ---- the shrinker ---- */

#define GARBAGE_PAIRS	4096

TEST_F(pressure, shrinker_collects_garbage_and_returns_the_kept_arena)
{
	struct objheap_gc_stats before, st;
	uint64_t h0, h1;
	int i;

	if (geteuid())
		TEST_SKIP("drop_caches needs root");
	/* Live objects, which stay, and 2 MiB of garbage. */
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 8, NULL, &h0));
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 8, &h0, &h1));
	for (i = 0; i < GARBAGE_PAIRS; i++)
		ASSERT_EQ(0, garbage_pair(self->heap));
	ASSERT_EQ(2 + 2 * GARBAGE_PAIRS,
		  objheap_test_objects(self->fd).objects.out_live);
	before = info(self->heap);

	ASSERT_EQ(0, drop_slab());
	st = wait_for_worker(self->heap, &before, 10000);
	TH_LOG("shrinker: %llu collections, %llu bytes given back, %llu collected",
	       st.out_pressure_collections, st.out_pressure_freed,
	       st.out_gen[2].collected);
	EXPECT_EQ(1, st.out_pressure_collections);
	EXPECT_EQ(2 * GARBAGE_PAIRS, st.out_gen[2].collected);
	EXPECT_EQ(2, objheap_test_objects(self->fd).objects.out_live);
	/*
	 * 8192 blocks of 256 bytes, in eight arenas of 256 KiB: all went
	 * but the one the live objects are in, the kept one too.
	 */
	EXPECT_LE(7 * 256 * KIB, st.out_pressure_freed);
	EXPECT_EQ(0, st.out_limit_collections);

	/* Nothing dropped since: the next pass has nothing to collect. */
	before = st;
	ASSERT_EQ(0, drop_slab());
	usleep(300000);
	st = info(self->heap);
	EXPECT_EQ(1, st.out_pressure_collections);
	EXPECT_EQ(before.out_gen[2].collections, st.out_gen[2].collections);
	ASSERT_EQ(0, objheap_release(self->heap, h1));
	ASSERT_EQ(0, objheap_release(self->heap, h0));
}

TEST_F(pressure, shrinker_leaves_the_garbage_of_a_disabled_collector)
{
	struct objheap_gc_stats before, st;
	struct objheap_stats as;
	int i;

	if (geteuid())
		TEST_SKIP("drop_caches needs root");
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
	for (i = 0; i < GARBAGE_PAIRS; i++)
		ASSERT_EQ(0, garbage_pair(self->heap));
	before = info(self->heap);
	ASSERT_EQ(0, drop_slab());
	usleep(300000);
	st = info(self->heap);
	EXPECT_EQ(0, st.out_pressure_collections);
	EXPECT_EQ(0, st.out_gen[2].collections);
	EXPECT_EQ(2 * GARBAGE_PAIRS,
		  objheap_test_objects(self->fd).objects.out_live);

	/* Collected by hand, the arenas go but one, which the shrinker takes. */
	ASSERT_EQ(2 * GARBAGE_PAIRS, objheap_gc_collect(self->heap, 2, NULL));
	ASSERT_EQ(0, objheap_stats(self->heap, &as, NULL, 0));
	EXPECT_EQ(1, as.out_arenas_current);
	before = info(self->heap);
	ASSERT_EQ(0, drop_slab());
	st = wait_for_worker(self->heap, &before, 10000);
	EXPECT_EQ(0, st.out_pressure_collections);
	EXPECT_LT(before.out_pressure_freed, st.out_pressure_freed);
	ASSERT_EQ(0, objheap_stats(self->heap, &as, NULL, 0));
	EXPECT_EQ(0, as.out_arenas_current);
}

/*
 * The memory cgroup test's child: garbage made in a heap until its cgroup
 * is over memory.high for a while; the exit status says what happened:
 * 0 when the shrinker collected, else the line that failed.
 */
static int make_garbage_over_high(void)
{
	uint32_t t[OBJHEAP_GC_GENERATIONS] = { NEVER, 10, 10 };
	struct objheap_gc_stats st;
	struct objheap *heap;
	int i, made;

	if (objheap_open(&heap) || objheap_gc_set_threshold(heap, t))
		return __LINE__;
	/* 32 MiB of garbage against a memory.high of 16 MiB. */
	for (made = 0; made < 32 * MIB / 512; made++) {
		if (garbage_pair(heap))
			return __LINE__;
		if (objheap_gc_get_info(heap, &st))
			return __LINE__;
		if (st.out_pressure_collections)
			break;
	}
	/* The worker may finish after the reclaim that queued it. */
	for (i = 0; i < 500 && !st.out_pressure_collections; i++) {
		usleep(20000);
		if (objheap_gc_get_info(heap, &st))
			return __LINE__;
	}
	printf("# %d pairs made: %llu shrinker collections, %llu collected, %llu bytes given back\n",
	       made, st.out_pressure_collections, st.out_gen[2].collected,
	       st.out_pressure_freed);
	if (!st.out_pressure_collections || !st.out_gen[2].collected)
		return __LINE__;
	objheap_close(heap);
	return 0;
}

TEST_F_TIMEOUT(pressure, memory_cgroup_over_high_collects_its_heaps, 300)
{
	char pid[32];
	pid_t kid;
	int status;

	if (geteuid())
		TEST_SKIP("needs root for a memory cgroup");
	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
		TEST_SKIP("no cgroup2 in this kernel");
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
		TEST_SKIP("no memory controller in this kernel");
	ASSERT_TRUE(!mkdir(CG_PRESSURE, 0755) || errno == EEXIST);
	ASSERT_EQ(0, write_file(CG_PRESSURE "/memory.high", "16M"));

	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(CG_PRESSURE "/cgroup.procs", pid))
			_exit(1);
		fflush(stdout);
		_exit(make_garbage_over_high());
	}
	ASSERT_EQ(kid, waitpid(kid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	rmdir(CG_PRESSURE);
}

TEST_HARNESS_MAIN
