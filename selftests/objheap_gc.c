// SPDX-License-Identifier: GPL-2.0
/*
 * The cycle collector: graph shapes in the manner of
 * tools/testing/selftests/net/af_unix/scm_rights.c, random graphs checked
 * against a userspace model, the generations' thresholds, and the gc
 * module's API.  Every test's teardown closes the heap and asserts that
 * the module holds nothing any more.
 */
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include <libobjheap.h>

FIXTURE(gc) {
	struct objheap *heap;
	int fd;
};

FIXTURE_SETUP(gc)
{
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	/* The shapes are collected by hand; the threshold tests enable it. */
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
}

FIXTURE_TEARDOWN(gc)
{
	/* Closing frees everything, cycles and all: nothing may be held. */
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

static uint64_t node(struct objheap *heap, uint32_t nslots)
{
	uint64_t h = 0;

	return objheap_new(heap, 1, 0, nslots, NULL, 8, NULL, &h) ? 0 : h;
}

static int link_to(struct objheap *heap, uint64_t from, uint32_t slot,
		   uint64_t to)
{
	return objheap_set_slot(heap, from, slot, to);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int collect(struct objheap *heap, uint32_t generation)
{
	return objheap_gc_collect(heap, generation, NULL);
}

TEST_F(gc, self_reference)
{
	uint64_t a = node(self->heap, 1);

	ASSERT_EQ(0, link_to(self->heap, a, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(1);
	EXPECT_EQ(1, collect(self->heap, 0));
	EXPECT_LIVE(0);
}

TEST_F(gc, pair)
{
	uint64_t a = node(self->heap, 1), b = node(self->heap, 1);

	ASSERT_EQ(0, link_to(self->heap, a, 0, b));
	ASSERT_EQ(0, link_to(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, triangle)
{
	uint64_t n[3];
	int i;

	for (i = 0; i < 3; i++)
		n[i] = node(self->heap, 1);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, link_to(self->heap, n[i], 0, n[(i + 1) % 3]));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, objheap_release(self->heap, n[i]));
	EXPECT_LIVE(3);
	EXPECT_EQ(3, collect(self->heap, 0));
	EXPECT_LIVE(0);
}

/* Two cycles, (a b) and (c d), and an edge b -> c between them. */
static void cross_edge(struct __test_metadata *_metadata, struct objheap *heap,
		       uint64_t n[4])
{
	int i;

	for (i = 0; i < 4; i++)
		n[i] = node(heap, 2);
	ASSERT_EQ(0, link_to(heap, n[0], 0, n[1]));
	ASSERT_EQ(0, link_to(heap, n[1], 0, n[0]));
	ASSERT_EQ(0, link_to(heap, n[2], 0, n[3]));
	ASSERT_EQ(0, link_to(heap, n[3], 0, n[2]));
	ASSERT_EQ(0, link_to(heap, n[1], 1, n[2]));
}

TEST_F(gc, cross_edge)
{
	uint64_t n[4];
	int i;

	cross_edge(_metadata, self->heap, n);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, objheap_release(self->heap, n[i]));
	EXPECT_EQ(4, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, cross_edge_keeps_the_cycle_it_points_to)
{
	uint64_t n[4];
	int i;

	cross_edge(_metadata, self->heap, n);
	/* Hold c: (c d) survives, (a b) does not, although b points to c. */
	for (i = 0; i < 4; i++)
		if (i != 2)
			ASSERT_EQ(0, objheap_release(self->heap, n[i]));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(2);
	EXPECT_EQ(-ENOENT, objheap_gc_is_tracked(self->heap, n[0]));
	ASSERT_EQ(0, objheap_release(self->heap, n[2]));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, backtrack_from_reachable_member)
{
	uint64_t n[4];
	int i;

	/* Hold d: the walk reaches c from d after passing over a, b and c. */
	cross_edge(_metadata, self->heap, n);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, objheap_release(self->heap, n[i]));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(2);
}

TEST_F(gc, cycle_kept_alive_by_one_handle)
{
	uint64_t a = node(self->heap, 1), b = node(self->heap, 1);

	ASSERT_EQ(0, link_to(self->heap, a, 0, b));
	ASSERT_EQ(0, link_to(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_LIVE(2);
	ASSERT_EQ(0, objheap_release(self->heap, b));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, cycle_kept_alive_from_an_older_generation)
{
	uint64_t o = node(self->heap, 2), o2 = node(self->heap, 1);
	uint64_t a, b;

	/* An unreachable pair (o o2) grown old... */
	ASSERT_EQ(0, link_to(self->heap, o, 0, o2));
	ASSERT_EQ(0, link_to(self->heap, o2, 0, o));
	EXPECT_EQ(0, collect(self->heap, 1));
	/* ...refers to a young unreachable pair (a b). */
	a = node(self->heap, 1);
	b = node(self->heap, 1);
	ASSERT_EQ(0, link_to(self->heap, a, 0, b));
	ASSERT_EQ(0, link_to(self->heap, b, 0, a));
	ASSERT_EQ(0, link_to(self->heap, o, 1, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	ASSERT_EQ(0, objheap_release(self->heap, o));
	ASSERT_EQ(0, objheap_release(self->heap, o2));
	/* Young collections see only references from outside: all stay. */
	EXPECT_EQ(0, collect(self->heap, 0));
	EXPECT_EQ(0, collect(self->heap, 0));
	EXPECT_LIVE(4);
	/* Generation 1 now holds (a b), generation 2 (o o2): a full one frees all. */
	EXPECT_EQ(4, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, cycle_hanging_off_a_frozen_object)
{
	uint64_t f = node(self->heap, 2), a, b;

	ASSERT_EQ(0, link_to(self->heap, f, 0, f));
	ASSERT_EQ(0, objheap_gc_freeze(self->heap));
	EXPECT_EQ(1, objheap_gc_get_freeze_count(self->heap));
	a = node(self->heap, 1);
	b = node(self->heap, 1);
	ASSERT_EQ(0, link_to(self->heap, a, 0, b));
	ASSERT_EQ(0, link_to(self->heap, b, 0, a));
	ASSERT_EQ(0, link_to(self->heap, f, 1, a));
	ASSERT_EQ(0, objheap_release(self->heap, f));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	/* The frozen object is never examined: it keeps (a b) alive. */
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_LIVE(3);
	EXPECT_EQ(1, objheap_gc_is_tracked(self->heap, f));
	ASSERT_EQ(0, objheap_gc_unfreeze(self->heap));
	EXPECT_EQ(0, objheap_gc_get_freeze_count(self->heap));
	EXPECT_EQ(3, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

/* Build a ring of @n two-slot objects through batches; no handle kept. */
/*
 * A ring of @n two-slot objects, built in batches.  With @held, its first
 * object's handle is kept there and the ring lives on; without, the ring
 * is garbage.
 */
static int build_ring_held(struct objheap *heap, uint32_t n, uint64_t *held)
{
	enum { PER = 1024 };
	static uint64_t slots[PER][2];
	struct objheap_batch_buf *b;
	uint64_t first = 0, prev = 0;
	uint32_t done = 0, i, k;
	int ret, last = -1;

	ret = objheap_batch_alloc(&b, 2 * PER + 2);
	if (ret)
		return ret;
	/* The first object; the ring is closed through its second slot. */
	ret = objheap_new(heap, 1, 0, 2, NULL, 0, NULL, &first);
	prev = first;
	done = 1;
	while (!ret && done < n) {
		k = n - done < PER ? n - done : PER;
		objheap_batch_reset(b);
		for (i = 0; i < k; i++) {
			slots[i][0] = i ? OBJHEAP_BATCH_REF(last) : prev;
			last = objheap_batch_new(b, 1, 0, 2, NULL, 0, slots[i]);
			if (slots[i][0] != first)
				objheap_batch_release(b, slots[i][0]);
		}
		ret = objheap_batch_submit(heap, b, 0);
		if (ret > 0)
			ret = -EIO;
		prev = objheap_batch_handle(b, last);
		done += k;
	}
	if (!ret)
		ret = objheap_set_slot(heap, first, 1, prev);
	if (!ret && prev != first)
		ret = objheap_release(heap, prev);
	if (!ret && held)
		*held = first;
	else if (!ret)
		ret = objheap_release(heap, first);
	objheap_batch_free(b);
	return ret;
}

static int build_ring(struct objheap *heap, uint32_t n)
{
	return build_ring_held(heap, n, NULL);
}

TEST_F_TIMEOUT(gc, million_object_ring, 900)
{
	ASSERT_EQ(0, build_ring(self->heap, 1000000));
	EXPECT_LIVE(1000000);
	EXPECT_EQ(1000000, collect(self->heap, 0));
	EXPECT_LIVE(0);
}

/*
 * A collection whose task is killed stops while it still marks, and
 * leaves the heap as it was.  A child sharing the heap collects a
 * garbage ring of 10^6 objects and is killed meanwhile (after a delay
 * that grows until the collection is seen to have started): no
 * collection is counted, the ring is still there and tracked, the
 * GC_START is followed by a GC_STOP reporting 0, and the next collection
 * frees the ring whole.
 */
/*
 * Have a child collect @generation on @heap (the test's attachment) and
 * kill it @delay_us after it starts; then read the events that came of
 * it into @ev: 0 bytes when it was killed before it took the heap.
 */
static ssize_t collect_killed(struct __test_metadata *_metadata,
			      struct objheap *heap, uint32_t generation,
			      unsigned int delay_us, struct objheap_event *ev,
			      size_t size)
{
	int p[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		objheap_gc_collect(heap, generation, NULL);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	usleep(delay_us);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	return read(objheap_fd(heap), ev, size);
}

TEST_F_TIMEOUT(gc, a_killed_collection_stops_and_leaves_the_heap_as_it_was, 900)
{
	const uint32_t n = 1000000;
	struct objheap_gc_gen_stats stats[OBJHEAP_GC_GENERATIONS];
	struct objheap_event ev[4];
	unsigned int delay_us;
	ssize_t len = 0;
	uint32_t count;

	ASSERT_EQ(0, build_ring(self->heap, n));
	ASSERT_EQ(0, objheap_event_ctl(self->heap, OBJHEAP_EVENT_CTL_SET_MASK,
				       OBJHEAP_EVENTS_GC, NULL));
	for (delay_us = 5000; delay_us < 2000000 && len <= 0; delay_us *= 2) {
		/* No event: killed before it took the lock; wait longer. */
		len = collect_killed(_metadata, self->heap, 2, delay_us, ev,
				     sizeof(ev));
	}
	TH_LOG("killed %u us after the child's start", delay_us / 2);
	ASSERT_EQ(2 * sizeof(ev[0]), len);
	EXPECT_EQ(OBJHEAP_EVENT_GC_START, ev[0].type);
	EXPECT_EQ(OBJHEAP_EVENT_GC_STOP, ev[1].type);
	EXPECT_EQ(0, ev[1].collected);
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, stats));
	EXPECT_EQ(0, stats[2].collections);
	EXPECT_LIVE(n);
	EXPECT_EQ(-EMSGSIZE, objheap_gc_get_objects(self->heap, 2, NULL, 0, &count));
	EXPECT_EQ(n, count);
	EXPECT_EQ(n, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

/* How many objects generation @gen holds, or -1. */
static int64_t gen_objects(struct objheap *heap, uint32_t gen)
{
	uint32_t count = 0;
	int ret = objheap_gc_get_objects(heap, gen, NULL, 0, &count);

	return ret && ret != -EMSGSIZE ? -1 : count;
}

/*
 * Survivors move to the next generation as the walk of phase 3 leaves
 * them, and a collection that stops puts them back: kill collections of
 * generation 0 at later and later points, each stopping somewhere in
 * phases 1 to 4, until one ends.  After each that stopped, every object
 * is in generation 0 still, the counts match the lists (the checker),
 * and the next collection still finds exactly the garbage.
 */
TEST_F_TIMEOUT(gc, killed_collections_leave_survivors_where_they_were, 900)
{
	const uint32_t n = 50000;
	struct objheap_event ev[4];
	unsigned int delay_us, stopped = 0;
	struct objheap_test_cmd check = {
		.size = sizeof(check),
		.op = OBJHEAP_TEST_OP_ALLOC_CHECK,
	};
	uint64_t held;
	ssize_t len;

	ASSERT_EQ(0, objheap_gc_disable(self->heap));
	ASSERT_EQ(0, build_ring_held(self->heap, n, &held));
	ASSERT_EQ(0, build_ring(self->heap, n));
	ASSERT_EQ(2 * n, gen_objects(self->heap, 0));
	ASSERT_EQ(0, objheap_event_ctl(self->heap, OBJHEAP_EVENT_CTL_SET_MASK,
				       OBJHEAP_EVENTS_GC, NULL));
	for (delay_us = 1000; delay_us < 20000000; delay_us += delay_us / 4) {
		len = collect_killed(_metadata, self->heap, 0, delay_us, ev,
				     sizeof(ev));
		/* Killed before it took the lock: wait longer. */
		if (len <= 0)
			continue;
		ASSERT_EQ(2 * sizeof(ev[0]), len);
		ASSERT_EQ(OBJHEAP_EVENT_GC_STOP, ev[1].type);
		EXPECT_EQ(0, ioctl(self->fd, OBJHEAP_TEST, &check));
		if (ev[1].collected)
			break;
		stopped++;
		EXPECT_LIVE(2 * n);
		EXPECT_EQ(2 * n, gen_objects(self->heap, 0));
		EXPECT_EQ(0, gen_objects(self->heap, 1));
	}
	TH_LOG("%u collections stopped, the last after %u us", stopped,
	       delay_us);
	EXPECT_LT(0, stopped);
	EXPECT_EQ(n, ev[1].collected);
	EXPECT_LIVE(n);
	EXPECT_EQ(0, gen_objects(self->heap, 0));
	EXPECT_EQ(n, gen_objects(self->heap, 1));
	EXPECT_EQ(0, objheap_release(self->heap, held));
	EXPECT_EQ(n, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, small_rings)
{
	static const uint32_t sizes[] = { 1, 2, 3, 1000, 1025, 5000 };
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_EQ(0, build_ring(self->heap, sizes[i]));
		EXPECT_LIVE(sizes[i]);
		EXPECT_EQ(sizes[i], (uint32_t)collect(self->heap, 2));
		EXPECT_LIVE(0);
	}
}

/*
 * A pair (c1 c2) with a chain of @n objects hanging off c2, each link
 * holding the next.  Freeing the pair frees the chain by reference
 * counting, inside the collection.
 */
static int cycle_then_chain(struct objheap *heap, uint32_t n, uint64_t *c1p)
{
	uint64_t c1 = node(heap, 1), c2 = node(heap, 2), tail;
	int ret;

	ret = link_to(heap, c1, 0, c2) ?: link_to(heap, c2, 0, c1);
	tail = c2;
	while (!ret && n--) {
		uint64_t next = node(heap, 1);

		ret = next ? link_to(heap, tail, tail == c2 ? 1 : 0, next) : -ENOMEM;
		if (!ret && tail != c2)
			ret = objheap_release(heap, tail);
		tail = next;
	}
	if (!ret && tail != c2)
		ret = objheap_release(heap, tail);
	if (!ret)
		ret = objheap_release(heap, c2);
	*c1p = c1;
	return ret;
}

/*
 * Build @n one-slot objects, each holding the one before, the first
 * holding @base (which this gives the handle of back), through batches;
 * *headp is the last one's handle.
 */
static int build_chain_on(struct objheap *heap, uint64_t base, uint32_t n,
			  uint64_t *headp)
{
	enum { PER = 1024 };
	static uint64_t slots[PER];
	struct objheap_batch_buf *b;
	uint64_t prev = base;
	uint32_t done = 0, i, k;
	int ret, last = -1;

	ret = objheap_batch_alloc(&b, 2 * PER);
	while (!ret && done < n) {
		k = n - done < PER ? n - done : PER;
		objheap_batch_reset(b);
		for (i = 0; i < k; i++) {
			slots[i] = i ? OBJHEAP_BATCH_REF(last) : prev;
			last = objheap_batch_new(b, 1, 0, 1, NULL, 0,
						 slots[i] ? &slots[i] : NULL);
			if (slots[i])
				objheap_batch_release(b, slots[i]);
		}
		ret = objheap_batch_submit(heap, b, 0);
		if (ret > 0)
			ret = -EIO;
		prev = objheap_batch_handle(b, last);
		done += k;
	}
	objheap_batch_free(b);
	*headp = prev;
	return ret;
}

TEST_F_TIMEOUT(gc, million_long_chain_ending_in_a_cycle, 900)
{
	enum { N = 1000000 };
	uint64_t head, c1, c2;

	/* head -> ... -> c1 <-> c2: hold the head, then let it go. */
	c1 = node(self->heap, 1);
	c2 = node(self->heap, 1);
	ASSERT_EQ(0, link_to(self->heap, c1, 0, c2));
	ASSERT_EQ(0, link_to(self->heap, c2, 0, c1));
	ASSERT_EQ(0, objheap_release(self->heap, c2));
	ASSERT_EQ(0, build_chain_on(self->heap, c1, N, &head));
	EXPECT_LIVE(N + 2);
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_LIVE(N + 2);
	ASSERT_EQ(0, objheap_release(self->heap, head));
	/* Reference counting frees the chain; the cycle needs the collector. */
	EXPECT_LIVE(2);
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F_TIMEOUT(gc, garbage_cycle_holding_a_long_chain, 900)
{
	uint64_t c1;

	ASSERT_EQ(0, cycle_then_chain(self->heap, 200000, &c1));
	ASSERT_EQ(0, objheap_release(self->heap, c1));
	EXPECT_LIVE(200002);
	/*
	 * All are unreachable; emptying c2's slot frees the whole chain by
	 * reference counting, from under the collector's list.
	 */
	EXPECT_EQ(200002, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

/*
 * Random graphs: the kernel must free exactly what a userspace model of
 * reachability says is unreachable.
 */
#define RG_N 3000
#define RG_SLOTS 3

struct rg {
	uint64_t h[RG_N];
	int edge[RG_N][RG_SLOTS];	/* -1: empty */
	char root[RG_N], reached[RG_N];
	int stack[RG_N];
};

static uint32_t rg_model(struct rg *g)
{
	uint32_t n = 0;
	int i, j, sp = 0;

	memset(g->reached, 0, sizeof(g->reached));
	for (i = 0; i < RG_N; i++)
		if (g->root[i]) {
			g->reached[i] = 1;
			g->stack[sp++] = i;
		}
	while (sp) {
		i = g->stack[--sp];
		n++;
		for (j = 0; j < RG_SLOTS; j++) {
			int t = g->edge[i][j];

			if (t >= 0 && !g->reached[t]) {
				g->reached[t] = 1;
				g->stack[sp++] = t;
			}
		}
	}
	return n;
}

TEST_F_TIMEOUT(gc, random_graphs_match_a_reachability_model, 600)
{
	static struct rg g;
	unsigned int seed;
	uint32_t reachable, before;
	int i, j;

	for (seed = 1; seed <= 6; seed++) {
		srand(seed);
		for (i = 0; i < RG_N; i++) {
			g.h[i] = node(self->heap, RG_SLOTS);
			ASSERT_NE(0, g.h[i]);
		}
		for (i = 0; i < RG_N; i++) {
			for (j = 0; j < RG_SLOTS; j++) {
				/* Sparse for odd seeds, denser for even ones. */
				g.edge[i][j] = rand() % (seed % 2 ? 4 : 2) ? -1 : rand() % RG_N;
				if (g.edge[i][j] >= 0)
					ASSERT_EQ(0, link_to(self->heap, g.h[i], j,
							     g.h[g.edge[i][j]]));
			}
			g.root[i] = rand() % 100 < (int)(seed % 3) + 1;
		}
		for (i = 0; i < RG_N; i++)
			if (!g.root[i])
				ASSERT_EQ(0, objheap_release(self->heap, g.h[i]));
		reachable = rg_model(&g);
		/*
		 * Reference counting has freed what no cycle held; the
		 * collector must find exactly the rest.
		 */
		before = objheap_test_objects(self->fd).objects.out_live;
		ASSERT_LE(reachable, before);
		EXPECT_EQ(before - reachable,
			  (uint32_t)collect(self->heap, seed % 3));
		EXPECT_LIVE(reachable);
		/* What is reachable is intact: every edge still there. */
		for (i = 0; i < RG_N; i++) {
			if (!g.reached[i])
				continue;
			for (j = 0; j < RG_SLOTS; j++) {
				uint64_t got;

				ASSERT_EQ(0, objheap_get_slot(self->heap, g.h[i], j, &got));
				ASSERT_EQ(g.edge[i][j] < 0 ? 0 : g.h[g.edge[i][j]], got);
				if (got)
					ASSERT_EQ(0, objheap_release(self->heap, got));
			}
		}
		for (i = 0; i < RG_N; i++)
			if (g.root[i])
				ASSERT_EQ(0, objheap_release(self->heap, g.h[i]));
		collect(self->heap, 2);
		EXPECT_LIVE(0);
	}
}

/*
 * Automatic collections.  A model of CPython's rules, fed the same
 * creations, says when each generation is collected.  In the incremental
 * mode it also follows the collection of the oldest generation through
 * its phases, increment by increment, for objects of one empty slot
 * (each costs 1 unit of work to COUNT, 2 to SUBTRACT and to WALK).
 */
struct gc_model {
	uint32_t count[3], threshold[3], size[3];
	uint64_t collections[3], pending, total;
	uint64_t held_back;	/* full collections the long-lived rule stopped */
	/* The incremental mode: its budget, phase and what is left of it. */
	uint32_t budget, phase, left, examined, since;
};

static void model_collect(struct gc_model *m, int g)
{
	int i;

	if (g + 1 < 3)
		m->count[g + 1]++;
	for (i = 0; i <= g; i++)
		m->count[i] = 0;
	for (i = 0; i < g; i++) {
		m->size[g] += m->size[i];
		m->size[i] = 0;
	}
	m->collections[g]++;
	if (g + 1 < 3) {
		if (g == 1)
			m->pending += m->size[g];
		m->size[g + 1] += m->size[g];
		m->size[g] = 0;
	} else {
		m->pending = 0;
		m->total = m->size[g];
	}
}

static void model_inc_step(struct gc_model *m)
{
	static const uint32_t cost[] = { 0, 1, 2, 2 };
	uint32_t work = 0;

	m->since = 0;
	while (work < m->budget && m->phase) {
		while (work < m->budget && m->left) {
			work += cost[m->phase];
			m->left--;
		}
		if (m->left)
			break;
		if (m->phase == OBJHEAP_GC_PHASE_WALK) {
			/* Nothing dies here: no sweep. */
			m->phase = OBJHEAP_GC_PHASE_IDLE;
			m->collections[2]++;
			m->total = m->examined;
			break;
		}
		m->phase++;
		m->left = m->examined;
	}
}

static void model_new_incremental(struct gc_model *m)
{
	if (!m->phase && m->count[2] > m->threshold[2]) {
		if (m->pending < m->total / 4) {
			m->held_back++;
		} else {
			m->phase = OBJHEAP_GC_PHASE_COUNT;
			m->left = m->examined = m->size[2];
			m->count[2] = 0;
			m->pending = 0;
		}
	}
	model_collect(m, m->count[1] > m->threshold[1]);
	if (m->phase)
		model_inc_step(m);
}

static void model_new(struct gc_model *m)
{
	int i;

	m->count[0]++;
	m->size[0]++;
	if (!m->threshold[0])
		return;
	if (m->count[0] <= m->threshold[0]) {
		/* Between young collections, an increment each quarter. */
		if (m->phase && ++m->since > m->threshold[0] / 4)
			model_inc_step(m);
		return;
	}
	if (m->budget) {
		model_new_incremental(m);
		return;
	}
	for (i = 2; i >= 0; i--) {
		if (m->count[i] <= m->threshold[i])
			continue;
		if (i == 2 && m->pending < m->total / 4) {
			m->held_back++;
			continue;
		}
		model_collect(m, i);
		return;
	}
}

/*
 * One run of 3000 creations on a new heap, collecting its oldest
 * generation incrementally with @budget, or stopping the world with 0.
 */
static void thresholds_run(struct __test_metadata *_metadata,
			   FIXTURE_DATA(gc) *self, uint32_t budget)
{
	struct gc_model m = { .threshold = { 7, 3, 2 }, .budget = budget };
	struct objheap_gc_mode mode;
	struct objheap_gc_gen_stats st[3];
	uint32_t count[3], t[3];
	static uint64_t keep[3000];
	int i, g;

	objheap_close(self->heap);
	ASSERT_EQ(0, objheap_open(&self->heap));
	self->fd = objheap_fd(self->heap);
	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, budget ? OBJHEAP_GC_INCREMENTAL :
					 OBJHEAP_GC_STOP_THE_WORLD, budget));
	ASSERT_EQ(0, objheap_gc_get_threshold(self->heap, t));
	EXPECT_EQ(700, t[0]);
	EXPECT_EQ(10, t[1]);
	EXPECT_EQ(10, t[2]);
	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, m.threshold));
	ASSERT_EQ(0, objheap_gc_enable(self->heap));
	for (i = 0; i < 3000; i++) {
		/* Everything stays reachable: only the bookkeeping differs. */
		keep[i] = node(self->heap, 1);
		ASSERT_NE(0, keep[i]);
		model_new(&m);
		ASSERT_EQ(0, objheap_gc_get_count(self->heap, count));
		for (g = 0; g < 3; g++)
			ASSERT_EQ(m.count[g], count[g]);
		if (m.budget) {
			ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &mode));
			ASSERT_EQ(m.phase, mode.out_phase);
		}
	}
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	for (g = 0; g < 3; g++) {
		EXPECT_EQ(m.collections[g], st[g].collections);
		EXPECT_EQ(0, st[g].collected);
	}
	/*
	 * The run went through full collections and the long-lived rule (a
	 * slow incremental one lets promotions pile up while it runs).
	 */
	TH_LOG("budget %u: %llu full collections, %llu held back", budget,
	       (unsigned long long)m.collections[2],
	       (unsigned long long)m.held_back);
	EXPECT_LT(0, m.collections[2]);
	if (!budget || budget >= 4096)
		EXPECT_LT(0, m.held_back);
	EXPECT_EQ(0, objheap_release_array(self->heap, keep, 3000));
}

TEST_F_TIMEOUT(gc, thresholds_trigger_collections_where_the_model_says, 300)
{
	struct objheap_gc_mode mode;

	ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &mode));
	thresholds_run(_metadata, self, 0);
	/* The budget run_tests.sh gives, else a small and a large one. */
	if (mode.out_mode == OBJHEAP_GC_INCREMENTAL)
		thresholds_run(_metadata, self, mode.out_budget);
	else
		thresholds_run(_metadata, self, 64);
	thresholds_run(_metadata, self, 1 << 20);
}

TEST_F(gc, default_threshold_collects_on_the_701st_object)
{
	struct objheap_gc_gen_stats st[3];
	static uint64_t keep[701];
	uint32_t count[3];
	int i;

	ASSERT_EQ(0, objheap_gc_enable(self->heap));
	EXPECT_EQ(1, objheap_gc_isenabled(self->heap));
	for (i = 0; i < 700; i++)
		keep[i] = node(self->heap, 1);
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	EXPECT_EQ(0, st[0].collections);
	ASSERT_EQ(0, objheap_gc_get_count(self->heap, count));
	EXPECT_EQ(700, count[0]);
	keep[700] = node(self->heap, 1);
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	EXPECT_EQ(1, st[0].collections);
	ASSERT_EQ(0, objheap_gc_get_count(self->heap, count));
	EXPECT_EQ(0, count[0]);
	EXPECT_EQ(1, count[1]);
	/* Objects without slots are not tracked: they do not count. */
	for (i = 0; i < 1000; i++) {
		uint64_t leaf = node(self->heap, 0);

		ASSERT_EQ(0, objheap_release(self->heap, leaf));
	}
	ASSERT_EQ(0, objheap_gc_get_count(self->heap, count));
	EXPECT_EQ(0, count[0]);
	/* Freeing a tracked object counts down. */
	ASSERT_EQ(0, objheap_release(self->heap, keep[700]));
	ASSERT_EQ(0, objheap_release(self->heap, keep[699]));
	keep[699] = node(self->heap, 1);
	ASSERT_EQ(0, objheap_gc_get_count(self->heap, count));
	EXPECT_EQ(1, count[0]);
	EXPECT_EQ(0, objheap_release_array(self->heap, keep, 700));
}

TEST_F(gc, automatic_collection_frees_garbage_cycles)
{
	struct objheap_gc_gen_stats st[3];
	int i;

	ASSERT_EQ(0, objheap_gc_enable(self->heap));
	for (i = 0; i < 5000; i++) {
		uint64_t a = node(self->heap, 1);

		ASSERT_EQ(0, link_to(self->heap, a, 0, a));
		ASSERT_EQ(0, objheap_release(self->heap, a));
	}
	/*
	 * Collections at the 701st, 1402nd, ... creation, each inside that
	 * NEW: the newest object still has its handle and survives.
	 */
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	EXPECT_EQ(7, st[0].collections);
	EXPECT_EQ(0, st[1].collections);
	EXPECT_EQ(7 * 700, st[0].collected);
	EXPECT_LIVE(5000 - 7 * 700);
}

/*
 * A weak reference is a tracked object: creating one counts in generation
 * 0 and may run the collection that is due, as OBJHEAP_NEW does (and as
 * creating a weakref.ref may in CPython).
 */
TEST_F(gc, weakref_new_may_run_an_automatic_collection)
{
	const uint32_t thr[OBJHEAP_GC_GENERATIONS] = { 2, 10, 10 };
	uint64_t a, b, t = node(self->heap, 0), w;

	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, thr));
	ASSERT_EQ(0, objheap_gc_enable(self->heap));
	a = node(self->heap, 1);
	b = node(self->heap, 1);
	ASSERT_EQ(0, link_to(self->heap, a, 0, b));
	ASSERT_EQ(0, link_to(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	EXPECT_LIVE(3);
	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 0, 0, &w));
	EXPECT_LIVE(2);
	ASSERT_EQ(0, objheap_release(self->heap, w));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_LIVE(0);
}

TEST_F(gc, disable_stops_automatic_collections)
{
	struct objheap_gc_gen_stats st[3];
	uint32_t count[3], t[3] = { 0, 10, 10 };
	int i;

	EXPECT_EQ(0, objheap_gc_isenabled(self->heap));
	for (i = 0; i < 2000; i++) {
		uint64_t a = node(self->heap, 1);

		ASSERT_EQ(0, link_to(self->heap, a, 0, a));
		ASSERT_EQ(0, objheap_release(self->heap, a));
	}
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	EXPECT_EQ(0, st[0].collections);
	ASSERT_EQ(0, objheap_gc_get_count(self->heap, count));
	EXPECT_EQ(2000, count[0]);
	EXPECT_LIVE(2000);
	/* A threshold of 0 also stops them. */
	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, t));
	ASSERT_EQ(0, objheap_gc_enable(self->heap));
	ASSERT_NE(0, node(self->heap, 1));
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	EXPECT_EQ(0, st[0].collections);
	/* Back to 700: the next tracked creation collects. */
	t[0] = 700;
	ASSERT_EQ(0, objheap_gc_set_threshold(self->heap, t));
	ASSERT_NE(0, node(self->heap, 1));
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	EXPECT_EQ(1, st[0].collections);
	EXPECT_EQ(2000, st[0].collected);
	EXPECT_LIVE(2);
}

TEST_F(gc, freeze_excludes_objects)
{
	uint64_t all[16];
	uint32_t n;
	int i;

	for (i = 0; i < 10; i++) {
		uint64_t a = node(self->heap, 1);

		ASSERT_EQ(0, link_to(self->heap, a, 0, a));
		ASSERT_EQ(0, objheap_release(self->heap, a));
	}
	ASSERT_EQ(0, objheap_gc_freeze(self->heap));
	EXPECT_EQ(10, objheap_gc_get_freeze_count(self->heap));
	ASSERT_EQ(0, objheap_gc_get_objects(self->heap, OBJHEAP_GC_ALL_GENERATIONS,
					    all, 16, &n));
	EXPECT_EQ(0, n);
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_LIVE(10);
	ASSERT_EQ(0, objheap_gc_unfreeze(self->heap));
	ASSERT_EQ(0, objheap_gc_get_objects(self->heap, 2, all, 16, &n));
	EXPECT_EQ(10, n);
	ASSERT_EQ(0, objheap_release_array(self->heap, all, n));
	/* Young collections leave the oldest generation alone. */
	EXPECT_EQ(0, collect(self->heap, 1));
	EXPECT_EQ(10, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, stats_add_up)
{
	struct objheap_gc_gen_stats st[3];
	struct objheap_gc_collect res;
	uint64_t total = 0, t0, wall;
	int round, i;

	for (round = 0; round < 9; round++) {
		for (i = 0; i <= round; i++) {
			uint64_t a = node(self->heap, 1), b = node(self->heap, 1);

			ASSERT_EQ(0, link_to(self->heap, a, 0, b));
			ASSERT_EQ(0, link_to(self->heap, b, 0, a));
			ASSERT_EQ(0, objheap_release(self->heap, a));
			ASSERT_EQ(0, objheap_release(self->heap, b));
		}
		t0 = now_ns();
		ASSERT_EQ(2 * (round + 1),
			  objheap_gc_collect(self->heap, round % 3, &res));
		wall = now_ns() - t0;
		EXPECT_EQ(2 * (round + 1), res.out_collected);
		EXPECT_EQ(0, res.out_uncollectable);
		/* Same clock (a coarse one may say 0): never more than wall. */
		EXPECT_GE(wall, res.out_elapsed_ns);
		total += 2 * (round + 1);
	}
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(3, st[i].collections);
		EXPECT_EQ(0, st[i].uncollectable);
	}
	EXPECT_EQ(total, st[0].collected + st[1].collected + st[2].collected);
	/* round 0, 3, 6 collected generation 0: 2 + 8 + 14 objects. */
	EXPECT_EQ(24, st[0].collected);
}

TEST_F(gc, survivors_move_up_one_generation)
{
	uint64_t a = node(self->heap, 1), got[4];
	uint32_t n;

	ASSERT_EQ(0, objheap_gc_get_objects(self->heap, 0, got, 4, &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(a, got[0]);
	ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
	for (int g = 0; g < 3; g++) {
		collect(self->heap, g);
		ASSERT_EQ(0, objheap_gc_get_objects(self->heap, g, got, 4, &n));
		EXPECT_EQ(g == 2 ? 1 : 0, n);
		ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
		if (g < 2) {
			ASSERT_EQ(0, objheap_gc_get_objects(self->heap, g + 1, got, 4, &n));
			EXPECT_EQ(1, n);
			ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
		}
	}
	EXPECT_EQ(0, objheap_info(self->heap, a, &(struct objheap_info){}));
}

TEST_F(gc, referrers_and_referents_agree_with_the_graph)
{
	uint64_t a = node(self->heap, 1), b = node(self->heap, 4);
	uint64_t c = node(self->heap, 2), d = node(self->heap, 0);
	uint64_t got[8], small[1] = { 0x5a5a };
	struct objheap_info info;
	uint32_t n;

	ASSERT_EQ(0, link_to(self->heap, a, 0, b));
	ASSERT_EQ(0, link_to(self->heap, c, 1, b));
	ASSERT_EQ(0, link_to(self->heap, b, 0, a));
	ASSERT_EQ(0, link_to(self->heap, b, 1, a));
	ASSERT_EQ(0, link_to(self->heap, b, 3, d));

	ASSERT_EQ(0, objheap_gc_get_referents(self->heap, b, got, 8, &n));
	ASSERT_EQ(3, n);
	EXPECT_EQ(a, got[0]);
	EXPECT_EQ(a, got[1]);
	EXPECT_EQ(d, got[2]);
	/* Each handle in the list owns a reference. */
	ASSERT_EQ(0, objheap_info(self->heap, a, &info));
	EXPECT_EQ(5, info.out_refcnt);
	ASSERT_EQ(0, objheap_release_array(self->heap, got, n));

	ASSERT_EQ(0, objheap_gc_get_referrers(self->heap, b, got, 8, &n));
	ASSERT_EQ(2, n);
	EXPECT_TRUE((got[0] == a && got[1] == c) || (got[0] == c && got[1] == a));
	ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
	ASSERT_EQ(0, objheap_gc_get_referrers(self->heap, d, got, 8, &n));
	ASSERT_EQ(1, n);
	EXPECT_EQ(b, got[0]);
	ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
	ASSERT_EQ(0, objheap_gc_get_referents(self->heap, d, got, 8, &n));
	EXPECT_EQ(0, n);

	/* Too small: the count needed, nothing written, no reference taken. */
	EXPECT_EQ(-EMSGSIZE, objheap_gc_get_referents(self->heap, b, small, 1, &n));
	EXPECT_EQ(3, n);
	EXPECT_EQ(0x5a5a, small[0]);
	ASSERT_EQ(0, objheap_info(self->heap, a, &info));
	EXPECT_EQ(3, info.out_refcnt);
	/* A list that faults part-way takes no reference either. */
	EXPECT_EQ(-EFAULT, objheap_gc_get_referents(self->heap, b, (uint64_t *)8,
						    8, &n));
	ASSERT_EQ(0, objheap_info(self->heap, a, &info));
	EXPECT_EQ(3, info.out_refcnt);
	EXPECT_EQ(-ENOENT, objheap_gc_get_referrers(self->heap, d + 1000, got, 8, &n));
}

static uint32_t refcnt(struct objheap *heap, uint64_t h)
{
	struct objheap_info info;

	return objheap_info(heap, h, &info) ? 0 : info.out_refcnt;
}

static int set_user_refs(int fd, uint64_t h, uint32_t refs)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_SET_USER_REFS,
		.refs = { .handle = h, .user_refs = refs },
	};

	return ioctl(fd, OBJHEAP_TEST, &cmd) ? -errno : 0;
}

/*
 * A list naming an object whose count is full fails with EOVERFLOW, as
 * any command that would take a reference past OBJHEAP_REFCNT_MAX, and
 * gives back the references it took for the objects listed before it.
 */
TEST_F(gc, lists_refuse_a_full_count_with_eoverflow_and_take_nothing)
{
	uint64_t a = node(self->heap, 3), y = node(self->heap, 1);
	uint64_t full = node(self->heap, 1), z = node(self->heap, 0);
	uint64_t got[8];
	uint32_t n = 0;

	/* a holds y, full and z; full holds z too. */
	ASSERT_EQ(0, link_to(self->heap, a, 0, y));
	ASSERT_EQ(0, link_to(self->heap, a, 1, full));
	ASSERT_EQ(0, link_to(self->heap, a, 2, z));
	ASSERT_EQ(0, link_to(self->heap, full, 0, z));
	ASSERT_EQ(0, set_user_refs(self->fd, full, OBJHEAP_REFCNT_MAX - 1));
	ASSERT_EQ(OBJHEAP_REFCNT_MAX, refcnt(self->heap, full));

	EXPECT_EQ(-EOVERFLOW, objheap_gc_get_referents(self->heap, a, got, 8, &n));
	EXPECT_EQ(-EOVERFLOW, objheap_gc_get_referrers(self->heap, z, got, 8, &n));
	EXPECT_EQ(-EOVERFLOW, objheap_gc_get_objects(self->heap,
						     OBJHEAP_GC_ALL_GENERATIONS,
						     got, 8, &n));
	EXPECT_EQ(-EOVERFLOW, objheap_gc_get_objects(self->heap, 0, got, 8, &n));
	/* Nothing taken: a and y, listed before full, have their counts. */
	EXPECT_EQ(1, refcnt(self->heap, a));
	EXPECT_EQ(2, refcnt(self->heap, y));
	EXPECT_EQ(OBJHEAP_REFCNT_MAX, refcnt(self->heap, full));

	ASSERT_EQ(0, set_user_refs(self->fd, full, 1));
	ASSERT_EQ(0, objheap_gc_get_referents(self->heap, a, got, 8, &n));
	ASSERT_EQ(3, n);
	ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, y));
	ASSERT_EQ(0, objheap_release(self->heap, full));
	ASSERT_EQ(0, objheap_release(self->heap, z));
	EXPECT_LIVE(0);
}

/*
 * objheap_release_array() releases in batches of OBJHEAP_BATCH_MAX_COUNT:
 * a failure in one batch stops none of the others, and the first failure
 * is the one returned.
 */
TEST_F(gc, release_array_releases_every_batch_and_returns_the_first_error)
{
	uint32_t n = OBJHEAP_BATCH_MAX_COUNT + 10, i;
	uint64_t *h = calloc(n, sizeof(*h)), gone = node(self->heap, 0);
	uint64_t holder = node(self->heap, 1), held = node(self->heap, 0);

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, objheap_release(self->heap, gone));
	ASSERT_EQ(0, link_to(self->heap, holder, 0, held));
	ASSERT_EQ(0, objheap_release(self->heap, held));
	for (i = 1; i < n - 1; i++) {
		h[i] = node(self->heap, 0);
		ASSERT_NE(0, h[i]);
	}
	/* ENOENT in the first batch, EINVAL (not owned) in the second. */
	h[0] = gone;
	h[n - 1] = held;
	EXPECT_EQ(-ENOENT, objheap_release_array(self->heap, h, n));
	EXPECT_LIVE(2);
	ASSERT_EQ(0, objheap_release(self->heap, holder));
	EXPECT_LIVE(0);
	free(h);
}

TEST_F(gc, saveall_keeps_the_garbage_listable)
{
	uint64_t got[16];
	uint32_t n;
	int i;

	ASSERT_EQ(0, objheap_gc_set_debug(self->heap, OBJHEAP_GC_DEBUG_SAVEALL));
	EXPECT_EQ(OBJHEAP_GC_DEBUG_SAVEALL, objheap_gc_get_debug(self->heap));
	for (i = 0; i < 3; i++) {
		uint64_t a = node(self->heap, 1), b = node(self->heap, 1);

		ASSERT_EQ(0, link_to(self->heap, a, 0, b));
		ASSERT_EQ(0, link_to(self->heap, b, 0, a));
		ASSERT_EQ(0, objheap_release(self->heap, a));
		ASSERT_EQ(0, objheap_release(self->heap, b));
	}
	EXPECT_EQ(6, collect(self->heap, 2));
	EXPECT_LIVE(6);
	ASSERT_EQ(0, objheap_gc_get_garbage(self->heap, got, 16, &n));
	ASSERT_EQ(6, n);
	for (i = 0; i < 6; i++) {
		struct objheap_info info;

		ASSERT_EQ(0, objheap_info(self->heap, got[i], &info));
		/* Its partner's slot, the garbage list, our handle. */
		EXPECT_EQ(3, info.out_refcnt);
		EXPECT_EQ(1, objheap_gc_is_tracked(self->heap, got[i]));
	}
	ASSERT_EQ(0, objheap_release_array(self->heap, got, n));
	/* Saved garbage is not examined again. */
	EXPECT_EQ(0, collect(self->heap, 2));
	ASSERT_EQ(0, objheap_gc_clear_garbage(self->heap));
	ASSERT_EQ(0, objheap_gc_get_garbage(self->heap, got, 16, &n));
	EXPECT_EQ(0, n);
	EXPECT_LIVE(6);
	ASSERT_EQ(0, objheap_gc_set_debug(self->heap, 0));
	EXPECT_EQ(6, collect(self->heap, 2));
	EXPECT_LIVE(0);
}

TEST_F(gc, debug_stats_logs_each_collection)
{
	char line[512];
	int kmsg, found = 0;
	ssize_t len;

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg < 0)
		SKIP(return, "no /dev/kmsg");
	lseek(kmsg, 0, SEEK_END);
	ASSERT_EQ(0, objheap_gc_set_debug(self->heap, OBJHEAP_GC_DEBUG_STATS));
	ASSERT_EQ(0, collect(self->heap, 1));
	while ((len = read(kmsg, line, sizeof(line) - 1)) > 0) {
		line[len] = 0;
		if (strstr(line, "gc: generation 1: 0 unreachable"))
			found++;
	}
	close(kmsg);
	EXPECT_EQ(1, found);
	EXPECT_EQ(-EINVAL, objheap_gc_set_debug(self->heap, 2));
	EXPECT_EQ(-EINVAL, objheap_gc_set_debug(self->heap, 1U << 31));
}

TEST_F(gc, only_objects_with_slots_that_can_die_are_tracked)
{
	uint64_t leaf = node(self->heap, 0), box = node(self->heap, 1), imm, in;

	ASSERT_EQ(0, objheap_new(self->heap, 1, OBJHEAP_OBJ_IMMORTAL, 1, NULL, 0,
				 NULL, &imm));
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "x", 1, &in));
	EXPECT_EQ(0, objheap_gc_is_tracked(self->heap, leaf));
	EXPECT_EQ(1, objheap_gc_is_tracked(self->heap, box));
	EXPECT_EQ(0, objheap_gc_is_tracked(self->heap, imm));
	EXPECT_EQ(0, objheap_gc_is_tracked(self->heap, in));
	EXPECT_EQ(-ENOENT, objheap_gc_is_tracked(self->heap, 0));
	/* An immortal holding a cycle keeps it reachable. */
	ASSERT_EQ(0, link_to(self->heap, imm, 0, box));
	ASSERT_EQ(0, link_to(self->heap, box, 0, box));
	ASSERT_EQ(0, objheap_release(self->heap, box));
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_LIVE(4);
}

TEST_F(gc, bad_arguments)
{
	struct objheap_gc_collect col = { .size = sizeof(col), .generation = 3 };
	struct objheap_gc_value val = { .size = sizeof(val), .value = 1 };
	struct objheap_gc_threshold thr = { .size = sizeof(thr) };
	struct objheap_gc_list lst = { .size = sizeof(lst) };
	struct objheap_gc_object obj = { .size = sizeof(obj) };
	uint64_t h = node(self->heap, 1);

	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_COLLECT, &col));
	col.generation = 0xffffffff;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_COLLECT, &col));
	col.generation = 0;
	col.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_COLLECT, &col));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_ENABLE, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_DISABLE, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_ISENABLED, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_FREEZE, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_UNFREEZE, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_FREEZE_COUNT, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_DEBUG, &val));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_CLEAR_GARBAGE, &val));
	thr.threshold[1] = 5;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_THRESHOLD, &thr));
	thr.out_threshold[0] = 5;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_SET_THRESHOLD, &thr));
	thr.out_threshold[0] = 0;
	thr.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_SET_THRESHOLD, &thr));
	lst.generation = 3;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_OBJECTS, &lst));
	lst.generation = 0;
	lst.handle = h;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_OBJECTS, &lst));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_GARBAGE, &lst));
	lst.generation = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_REFERENTS, &lst));
	lst.generation = 0;
	lst.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_REFERRERS, &lst));
	lst.__reserved = 0;
	lst.handle = 0;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_GC_GET_REFERRERS, &lst));
	obj.handle = h;
	obj.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_IS_TRACKED, &obj));
	EXPECT_LIVE(1);
}

TEST_F(gc, cmd_length)
{
	uint64_t h = node(self->heap, 1);

	TEST_LENGTH(self->fd, objheap_gc_collect, OBJHEAP_GC_COLLECT, out_elapsed_ns);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_ENABLE, out_value);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_DISABLE, out_value);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_ISENABLED, out_value);
	TEST_LENGTH(self->fd, objheap_gc_threshold, OBJHEAP_GC_GET_THRESHOLD,
		    __reserved2);
	TEST_LENGTH(self->fd, objheap_gc_threshold, OBJHEAP_GC_SET_THRESHOLD,
		    __reserved2, .threshold = { 700, 10, 10 });
	TEST_LENGTH(self->fd, objheap_gc_count, OBJHEAP_GC_GET_COUNT, __reserved);
	TEST_LENGTH(self->fd, objheap_gc_stats, OBJHEAP_GC_GET_STATS, out_gen);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_FREEZE, out_value);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_UNFREEZE, out_value);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_GET_FREEZE_COUNT, out_value);
	TEST_LENGTH(self->fd, objheap_gc_list, OBJHEAP_GC_GET_OBJECTS, __reserved);
	TEST_LENGTH(self->fd, objheap_gc_list, OBJHEAP_GC_GET_REFERRERS, __reserved,
		    .handle = h);
	TEST_LENGTH(self->fd, objheap_gc_list, OBJHEAP_GC_GET_REFERENTS, __reserved,
		    .handle = h);
	TEST_LENGTH(self->fd, objheap_gc_object, OBJHEAP_GC_IS_TRACKED, __reserved,
		    .handle = h);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_SET_DEBUG, out_value);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_GET_DEBUG, out_value);
	TEST_LENGTH(self->fd, objheap_gc_list, OBJHEAP_GC_GET_GARBAGE, __reserved);
	TEST_LENGTH(self->fd, objheap_gc_value, OBJHEAP_GC_CLEAR_GARBAGE, out_value);
}

/* ---- the incremental mode ------------------------------------------ */

/* One increment through the test interface; the phase it left, or -errno. */
static int gc_step(int fd)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_GC_STEP,
	};

	return ioctl(fd, OBJHEAP_TEST, &cmd) ? -errno : (int)cmd.gc_step.out_phase;
}

/*
 * Up to @k increments: 1 when the collection ended within them, else 0;
 * or -errno.
 */
static int gc_steps(int fd, int k)
{
	int i, phase;

	for (i = 0; i < k; i++) {
		phase = gc_step(fd);
		if (phase <= 0)
			return phase < 0 ? phase : 1;
	}
	return 0;
}

/* Increments until the collection ends; how many, or -errno. */
static int gc_steps_to_idle(int fd)
{
	int n = 0, phase;

	do {
		phase = gc_step(fd);
		if (phase < 0)
			return phase;
		n++;
	} while (phase != OBJHEAP_GC_PHASE_IDLE && n < 10000000);
	return n;
}

static uint64_t id_node(struct objheap *heap, uint32_t nslots, uint64_t id)
{
	uint64_t h = 0;

	return objheap_new(heap, 1, 0, nslots, &id, sizeof(id), NULL, &h) ? 0 : h;
}

/* The id in @h's payload, or ~0. */
static uint64_t read_id(struct objheap *heap, uint64_t h)
{
	uint64_t id;

	return objheap_read(heap, h, 0, &id, sizeof(id)) ? ~0ULL : id;
}

static uint32_t gc_phase(struct objheap *heap)
{
	struct objheap_gc_mode m;

	return objheap_gc_get_mode(heap, &m) ? ~0U : m.out_phase;
}

TEST_F(gc, mode_is_set_and_read_back)
{
	struct objheap_gc_mode m = { .size = sizeof(m) };

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_STOP_THE_WORLD, 0));
	ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &m));
	EXPECT_EQ(OBJHEAP_GC_STOP_THE_WORLD, m.out_mode);
	EXPECT_EQ(OBJHEAP_GC_BUDGET_DEFAULT, m.out_budget);
	EXPECT_EQ(OBJHEAP_GC_PHASE_IDLE, m.out_phase);
	/* An increment needs the incremental mode. */
	EXPECT_EQ(-EINVAL, gc_step(self->fd));

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 100));
	ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &m));
	EXPECT_EQ(OBJHEAP_GC_INCREMENTAL, m.out_mode);
	EXPECT_EQ(100, m.out_budget);
	EXPECT_EQ(-EINVAL, objheap_gc_set_mode(self->heap, 2, 0));
	EXPECT_EQ(-EINVAL, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL,
					       OBJHEAP_GC_BUDGET_MAX + 1));
	EXPECT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL,
					 OBJHEAP_GC_BUDGET_MAX));
	/* The failed calls changed nothing. */
	ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &m));
	EXPECT_EQ(OBJHEAP_GC_BUDGET_MAX, m.out_budget);

	m = (struct objheap_gc_mode){ .size = sizeof(m), .mode = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_MODE, &m));
	m = (struct objheap_gc_mode){ .size = sizeof(m), .budget = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_MODE, &m));
	m = (struct objheap_gc_mode){ .size = sizeof(m), .__reserved = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_GET_MODE, &m));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_SET_MODE, &m));
	m = (struct objheap_gc_mode){ .size = sizeof(m), .out_phase = 1 };
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GC_SET_MODE, &m));
	TEST_LENGTH(self->fd, objheap_gc_mode, OBJHEAP_GC_SET_MODE,
		    out_longest_increment_ns);
	TEST_LENGTH(self->fd, objheap_gc_mode, OBJHEAP_GC_GET_MODE,
		    out_longest_increment_ns);
}

/* A ring of @n objects, held by the handle *@first to one of them. */
static int held_ring(struct objheap *heap, uint32_t n, uint64_t *first)
{
	uint64_t prev, h;
	uint32_t i;
	int ret;

	*first = prev = id_node(heap, 1, 0);
	if (!prev)
		return -ENOMEM;
	for (i = 1; i < n; i++) {
		h = id_node(heap, 1, i);
		if (!h)
			return -ENOMEM;
		ret = link_to(heap, prev, 0, h);
		if (!ret && prev != *first)
			ret = objheap_release(heap, prev);
		if (ret)
			return ret;
		prev = h;
	}
	ret = link_to(heap, prev, 0, *first);
	if (!ret && prev != *first)
		ret = objheap_release(heap, prev);
	return ret;
}

/* Garbage in the oldest generation: a ring of @n, held through collect(1). */
static int old_ring(struct objheap *heap, uint32_t n)
{
	uint64_t first;
	int ret;

	ret = held_ring(heap, n, &first);
	if (!ret)
		ret = collect(heap, 1);
	return ret ?: objheap_release(heap, first);
}

/*
 * The collection a program asks for, incremental or not, finds all the
 * garbage of every generation, as a stop-the-world one does; the
 * incremental one gives the lock up between increments and says so.
 */
TEST_F(gc, an_incremental_collect_finds_every_generation)
{
	struct objheap_gc_collect res = { 0 };
	struct objheap_gc_mode m;
	uint64_t keep;
	int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, objheap_gc_set_mode(self->heap, i ? OBJHEAP_GC_INCREMENTAL :
						 OBJHEAP_GC_STOP_THE_WORLD, 16));
		keep = node(self->heap, 1);
		ASSERT_EQ(0, link_to(self->heap, keep, 0, keep));
		ASSERT_EQ(0, old_ring(self->heap, 500));
		ASSERT_EQ(0, build_ring(self->heap, 300));
		EXPECT_LIVE(801);
		EXPECT_EQ(800, objheap_gc_collect(self->heap, 2, &res));
		EXPECT_EQ(800, res.out_collected);
		EXPECT_LIVE(1);
		ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &m));
		EXPECT_EQ(OBJHEAP_GC_PHASE_IDLE, m.out_phase);
		if (i) {
			/* 801 objects, about 3 work units each, 16 a turn. */
			EXPECT_LE(100, m.out_increments);
			EXPECT_EQ(1, m.out_cycles);
			EXPECT_EQ(0, m.out_aborted);
		}
		ASSERT_EQ(0, objheap_release(self->heap, keep));
		EXPECT_EQ(1, collect(self->heap, 2));
		EXPECT_LIVE(0);
	}
}

/* Three objects made in the order @order names ("bxa": b, x, then a). */
static void make_in_order(struct objheap *heap, const char *order,
			  uint64_t *a, uint64_t *b, uint64_t *x)
{
	for (; *order; order++) {
		if (*order == 'a')
			*a = id_node(heap, 1, 1);
		else if (*order == 'b')
			*b = id_node(heap, 1, 2);
		else
			*x = id_node(heap, 1, 100);
	}
}

/*
 * The lost object of incremental collectors: the only reference to X
 * moves from an object the collection has not walked yet (A) to one it
 * has (B), and the collection must not free X.  The walk goes in the
 * order the objects were made; the move is made after every possible
 * increment, for the orders where X and B are walked before A (the race)
 * and one where A goes first.  The write barrier shades X when the
 * program takes a handle to it and when B's slot takes it.  A collection
 * without it takes X for garbage while B refers to it, and frees Y, which
 * only X refers to.
 */
TEST_F(gc, a_reference_moved_during_a_collection_is_never_lost)
{
	static const char *const orders[] = { "bxa", "xba", "axb" };
	uint64_t a, b, x, y, got, got2, fill[4];
	int order, k, i, phase, cases = 0;
	bool ended;

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 1));
	for (order = 0; order < 3; order++) {
		ended = false;
		for (k = 0; !ended; k++) {
			a = b = x = 0;
			make_in_order(self->heap, orders[order], &a, &b, &x);
			ASSERT_NE(0, a);
			ASSERT_NE(0, b);
			ASSERT_NE(0, x);
			y = id_node(self->heap, 1, 101);
			ASSERT_NE(0, y);
			ASSERT_EQ(0, link_to(self->heap, x, 0, y));
			ASSERT_EQ(0, objheap_release(self->heap, y));
			/* Garbage for the collection to find around them. */
			for (i = 0; i < 4; i++) {
				fill[i] = id_node(self->heap, 1, 10 + i);
				ASSERT_EQ(0, link_to(self->heap, fill[i], 0, fill[i]));
			}
			ASSERT_EQ(0, link_to(self->heap, a, 0, x));
			ASSERT_EQ(0, objheap_release(self->heap, x));
			ASSERT_EQ(0, collect(self->heap, 1));
			ASSERT_EQ(0, objheap_release_array(self->heap, fill, 4));
			EXPECT_LIVE(8);

			phase = gc_steps(self->fd, k);
			ASSERT_LE(0, phase);
			ended = phase;
			/* The move. */
			ASSERT_EQ(0, objheap_get_slot(self->heap, a, 0, &x));
			ASSERT_EQ(0, link_to(self->heap, b, 0, x));
			ASSERT_EQ(0, link_to(self->heap, a, 0, 0));
			ASSERT_EQ(0, objheap_release(self->heap, x));
			if (!ended)
				ASSERT_LT(0, gc_steps_to_idle(self->fd));
			cases++;

			/* X lives, in B's slot, with Y; the four rings went. */
			EXPECT_LIVE(4);
			ASSERT_EQ(0, objheap_get_slot(self->heap, b, 0, &got));
			ASSERT_NE(0, got);
			EXPECT_EQ(100, read_id(self->heap, got));
			ASSERT_EQ(0, objheap_get_slot(self->heap, got, 0, &got2));
			ASSERT_NE(0, got2) TH_LOG("order %s, after %d increments",
						  orders[order], k);
			EXPECT_EQ(101, read_id(self->heap, got2));
			ASSERT_EQ(0, objheap_test_check(self->fd));
			ASSERT_EQ(0, objheap_release(self->heap, got2));
			ASSERT_EQ(0, objheap_release(self->heap, got));
			ASSERT_EQ(0, objheap_release(self->heap, a));
			ASSERT_EQ(0, objheap_release(self->heap, b));
			EXPECT_LIVE(0);
		}
	}
	/* Eight objects, three phases and a sweep: many places to move. */
	TH_LOG("%d moves, one after each increment", cases);
	EXPECT_LE(60, cases);
}

/*
 * A weak reference read during a collection gives a strong one: its
 * target, garbage when the collection started, must survive it.
 */
TEST_F(gc, a_weakref_read_during_a_collection_keeps_its_target)
{
	uint64_t x, y, wr, got;
	int k, phase, cases = 0;
	bool ended = false, swept;

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 1));
	for (k = 0; !ended; k++) {
		x = id_node(self->heap, 1, 7);
		y = id_node(self->heap, 1, 8);
		ASSERT_EQ(0, link_to(self->heap, x, 0, y));
		ASSERT_EQ(0, link_to(self->heap, y, 0, x));
		ASSERT_EQ(0, objheap_weakref_new(self->heap, x, 0, 0, &wr));
		ASSERT_EQ(0, collect(self->heap, 1));
		ASSERT_EQ(0, objheap_release(self->heap, y));
		ASSERT_EQ(0, objheap_release(self->heap, x));
		phase = gc_steps(self->fd, k);
		ASSERT_LE(0, phase);
		ended = phase;
		/* Once the sweep starts, the weak reference is cleared. */
		swept = ended || gc_phase(self->heap) == OBJHEAP_GC_PHASE_SWEEP;
		ASSERT_LE(0, objheap_weakref_get(self->heap, wr, &got));
		if (!ended)
			ASSERT_LT(0, gc_steps_to_idle(self->fd));
		cases++;
		if (!swept) {
			/* Read before the walk ended: the pair lives. */
			ASSERT_NE(0, got);
			EXPECT_EQ(7, read_id(self->heap, got));
			EXPECT_LIVE(3);
			ASSERT_EQ(0, objheap_release(self->heap, got));
			EXPECT_EQ(2, collect(self->heap, 2));
		} else {
			/* The pair was found first: the weak reference is clear. */
			EXPECT_EQ(0, got);
		}
		ASSERT_LE(0, objheap_weakref_get(self->heap, wr, &got));
		EXPECT_EQ(0, got);
		ASSERT_EQ(0, objheap_release(self->heap, wr));
		EXPECT_LIVE(0);
	}
	EXPECT_LE(8, cases);
}

/*
 * The commands that need every object on its generation's list give a
 * collection in progress up (or finish its sweep): nothing is lost, the
 * heap's counts stay right, and the next collection starts afresh.
 */
TEST_F(gc, list_commands_and_freeze_give_a_collection_up)
{
	struct objheap_gc_mode m;
	uint32_t count, i;
	uint64_t keep;
	int which;

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 4));
	for (which = 0; which < 4; which++) {
		keep = node(self->heap, 1);
		ASSERT_EQ(0, link_to(self->heap, keep, 0, keep));
		ASSERT_EQ(0, collect(self->heap, 1));
		ASSERT_EQ(0, old_ring(self->heap, 100));
		/* Well into the collection: counting or walking. */
		for (i = 0; i < 20 + 70 * (which & 1); i++)
			ASSERT_LT(0, gc_step(self->fd));
		switch (which) {
		case 0:
		case 1:
			EXPECT_EQ(-EMSGSIZE, objheap_gc_get_objects(self->heap, 2, NULL,
								    0, &count));
			EXPECT_EQ(101, count);
			break;
		case 2:
			ASSERT_EQ(0, objheap_gc_freeze(self->heap));
			EXPECT_EQ(101, objheap_gc_get_freeze_count(self->heap));
			ASSERT_EQ(0, objheap_gc_unfreeze(self->heap));
			break;
		case 3:
			ASSERT_EQ(0, objheap_gc_set_mode(self->heap,
							 OBJHEAP_GC_STOP_THE_WORLD, 0));
			break;
		}
		ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &m));
		EXPECT_EQ(OBJHEAP_GC_PHASE_IDLE, m.out_phase);
		EXPECT_EQ(which + 1, m.out_aborted);
		ASSERT_EQ(0, objheap_test_check(self->fd));
		EXPECT_LIVE(101);
		ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 4));
		ASSERT_EQ(0, objheap_release(self->heap, keep));
		EXPECT_EQ(101, collect(self->heap, 2));
		EXPECT_LIVE(0);
	}
}

/*
 * A mode switch while the collection frees its garbage frees the rest at
 * once: the collection is not given up.
 */
TEST_F(gc, stopping_the_world_mid_sweep_frees_the_rest)
{
	struct objheap_gc_mode m;
	int n = 0;

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 8));
	ASSERT_EQ(0, old_ring(self->heap, 300));
	EXPECT_LIVE(300);
	while (gc_phase(self->heap) != OBJHEAP_GC_PHASE_SWEEP && n++ < 100000)
		ASSERT_LT(0, gc_step(self->fd));
	/* A ring goes a piece at a time, not all with its first object. */
	ASSERT_EQ(OBJHEAP_GC_PHASE_SWEEP, gc_step(self->fd));
	EXPECT_GT(300, objheap_test_objects(self->fd).objects.out_live);
	EXPECT_LT(250, objheap_test_objects(self->fd).objects.out_live);
	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_STOP_THE_WORLD, 0));
	EXPECT_LIVE(0);
	ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &m));
	EXPECT_EQ(1, m.out_cycles);
	EXPECT_EQ(0, m.out_aborted);
}

struct watcher {
	struct objheap *heap;
	volatile int stop;
	uint64_t commands, mid_collection;
};

static void *watch_collection(void *arg)
{
	struct watcher *w = arg;
	uint32_t phase;

	while (!w->stop) {
		phase = gc_phase(w->heap);
		w->commands++;
		if (phase != OBJHEAP_GC_PHASE_IDLE && phase != ~0U)
			w->mid_collection++;
	}
	return NULL;
}

/*
 * A long OBJHEAP_GC_COLLECT in the incremental mode lets another thread's
 * commands run between its increments: the other thread sees the
 * collection in every phase it reaches, many times.  (A stop-the-world
 * collection holds the lock throughout: the same thread would never see
 * one in progress.)
 */
TEST_F_TIMEOUT(gc, commands_run_between_the_increments_of_a_collect, 300)
{
	struct watcher w = { .heap = self->heap };
	uint64_t keep;
	pthread_t t;

	ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL, 256));
	ASSERT_EQ(0, held_ring(self->heap, 20000, &keep));
	ASSERT_EQ(0, collect(self->heap, 1));
	ASSERT_EQ(0, objheap_release(self->heap, keep));
	ASSERT_EQ(0, pthread_create(&t, NULL, watch_collection, &w));
	/* Until the watcher runs: then the collection starts under it. */
	while (!w.commands)
		usleep(1000);
	EXPECT_EQ(20000, collect(self->heap, 2));
	w.stop = 1;
	pthread_join(t, NULL);
	TH_LOG("the other thread ran %llu commands, %llu of them mid-collection",
	       (unsigned long long)w.commands,
	       (unsigned long long)w.mid_collection);
	EXPECT_LT(10, w.mid_collection);
	EXPECT_LIVE(0);
}

/*
 * A program that keeps rewiring its graph while a collection runs, in
 * small increments, against a model of what it can reach: whatever it
 * can reach the kernel must keep, and a full collection must leave no
 * more.  Each seed draws its budget, so increments end at every point.
 */
#define RM_MAX 4096	/* objects created per seed */
#define RM_ROOTS 48	/* handles held, at most */

struct rm_model {
	int slot[RM_MAX][2];	/* ids, -1 for none */
	uint64_t handle[RM_MAX];	/* the handle, while held */
	int refs[RM_MAX];	/* references held through it */
	int n;
	uint64_t rnd;
};

static uint32_t rm_rand(struct rm_model *m, uint32_t n)
{
	m->rnd ^= m->rnd << 13;
	m->rnd ^= m->rnd >> 7;
	m->rnd ^= m->rnd << 17;
	return m->rnd % n;
}

/* A held object at random, or -1. */
static int rm_root(struct rm_model *m)
{
	int i, k = 0, pick;

	for (i = 0; i < m->n; i++)
		k += m->refs[i] > 0;
	if (!k)
		return -1;
	pick = rm_rand(m, k);
	for (i = 0; i < m->n; i++)
		if (m->refs[i] > 0 && !pick--)
			return i;
	return -1;
}

/* Mark what the program reaches in @seen; returns how many. */
static int rm_reach(const struct rm_model *m, bool *seen, int *queue)
{
	int i, head = 0, tail = 0, s, t;

	memset(seen, 0, m->n * sizeof(*seen));
	for (i = 0; i < m->n; i++) {
		if (m->refs[i] > 0) {
			seen[i] = true;
			queue[tail++] = i;
		}
	}
	while (head < tail) {
		i = queue[head++];
		for (s = 0; s < 2; s++) {
			t = m->slot[i][s];
			if (t >= 0 && !seen[t]) {
				seen[t] = true;
				queue[tail++] = t;
			}
		}
	}
	return tail;
}

/*
 * Walk the kernel's graph from the held handles, as the model has it:
 * every reachable object is there, with its id and its slots.  Returns
 * 0 or the id of the first object found wrong, plus one.
 */
static int rm_verify(struct objheap *heap, const struct rm_model *m, bool *seen,
		     int *queue, uint64_t *h)
{
	int i, head = 0, tail = 0, s, t, bad = 0;
	uint64_t got;

	memset(seen, 0, m->n * sizeof(*seen));
	for (i = 0; i < m->n; i++) {
		h[i] = 0;
		if (m->refs[i] > 0) {
			seen[i] = true;
			queue[tail++] = i;
			h[i] = m->handle[i];
		}
	}
	while (head < tail && !bad) {
		i = queue[head++];
		if (read_id(heap, h[i]) != (uint64_t)i) {
			bad = i + 1;
			break;
		}
		for (s = 0; s < 2; s++) {
			t = m->slot[i][s];
			if (objheap_get_slot(heap, h[i], s, &got) ||
			    !got != (t < 0)) {
				bad = i + 1;
				break;
			}
			if (t < 0)
				continue;
			if (!seen[t]) {
				seen[t] = true;
				queue[tail++] = t;
				h[t] = got;
			} else if (objheap_release(heap, got)) {
				bad = i + 1;
			}
		}
	}
	/* Give back what the walk took: one handle per object not held. */
	for (i = 0; i < m->n; i++)
		if (seen[i] && m->refs[i] <= 0 && h[i])
			objheap_release(heap, h[i]);
	return bad;
}

TEST_F_TIMEOUT(gc, a_rewiring_program_never_loses_what_it_reaches, 600)
{
	static const uint32_t budgets[] = { 1, 2, 3, 5, 8, 16, 64, 512 };
	static struct rm_model m;
	static bool seen[RM_MAX];
	static int queue[RM_MAX];
	static uint64_t h[RM_MAX];
	uint64_t seed, seeds = 24, ops = 1500, op, slots[2];
	int i, s, t, live, reach, ended = 0, full = 0, bad;
	struct objheap_gc_mode mode;
	uint32_t r;

	seed = getenv("OBJHEAP_SEED") ? strtoull(getenv("OBJHEAP_SEED"), NULL, 0) :
					(uint64_t)time(NULL);
	TH_LOG("seeds %llu to %llu", (unsigned long long)seed,
	       (unsigned long long)(seed + seeds - 1));
	for (; seeds--; seed++) {
		memset(&m, 0, sizeof(m));
		m.rnd = seed * 0x9e3779b97f4a7c15ULL + 1;
		ASSERT_EQ(0, objheap_gc_set_mode(self->heap, OBJHEAP_GC_INCREMENTAL,
						 budgets[seed % 8]));
		for (op = 0; op < ops && m.n < RM_MAX; op++) {
			r = rm_rand(&m, 100);
			i = rm_root(&m);
			if (r < 25) {
				int before = gc_phase(self->heap), after;

				/* Young objects too, now and then. */
				if (r < 3)
					ASSERT_LE(0, collect(self->heap, 1));
				after = gc_step(self->fd);
				ASSERT_LE(0, after);
				if (before != OBJHEAP_GC_PHASE_IDLE &&
				    after == OBJHEAP_GC_PHASE_IDLE) {
					ended++;
					bad = rm_verify(self->heap, &m, seen, queue, h);
					ASSERT_EQ(0, bad) TH_LOG("seed %llu op %llu: object %d",
						(unsigned long long)seed,
						(unsigned long long)op, bad - 1);
				}
				continue;
			}
			if (r < 45 && i >= 0) {
				/* A slot of a held object takes a held one, or none. */
				s = rm_rand(&m, 2);
				t = rm_rand(&m, 4) ? rm_root(&m) : -1;
				ASSERT_EQ(0, link_to(self->heap, m.handle[i], s,
						     t < 0 ? 0 : m.handle[t]));
				m.slot[i][s] = t;
			} else if (r < 60 && i >= 0) {
				/* Take a handle to what a slot holds. */
				s = rm_rand(&m, 2);
				t = m.slot[i][s];
				ASSERT_EQ(0, objheap_get_slot(self->heap, m.handle[i], s,
							      slots));
				ASSERT_EQ(t < 0, !slots[0]);
				if (t >= 0) {
					if (m.refs[t] <= 0)
						m.handle[t] = slots[0];
					ASSERT_EQ(m.handle[t], slots[0]);
					m.refs[t]++;
				}
			} else if (r < 80 && i >= 0) {
				ASSERT_EQ(0, objheap_release(self->heap, m.handle[i]));
				m.refs[i]--;
			} else {
				int held = 0;

				for (t = 0; t < m.n; t++)
					held += m.refs[t] > 0;
				if (held >= RM_ROOTS)
					continue;
				i = m.n++;
				for (s = 0; s < 2; s++) {
					t = rm_rand(&m, 3) ? rm_root(&m) : -1;
					m.slot[i][s] = t;
					slots[s] = t < 0 ? 0 : m.handle[t];
				}
				ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 2, &(uint64_t){ i },
							 8, slots, &m.handle[i]));
				m.refs[i] = 1;
			}
		}
		/* Whatever the collection did, a full one leaves what is reached. */
		ASSERT_EQ(0, rm_verify(self->heap, &m, seen, queue, h));
		ASSERT_LE(0, collect(self->heap, 2));
		reach = rm_reach(&m, seen, queue);
		live = objheap_test_objects(self->fd).objects.out_live;
		ASSERT_EQ(reach, live) TH_LOG("seed %llu", (unsigned long long)seed);
		ASSERT_EQ(0, rm_verify(self->heap, &m, seen, queue, h));
		ASSERT_EQ(0, objheap_test_check(self->fd));
		full++;
		for (i = 0; i < m.n; i++)
			while (m.refs[i]-- > 0)
				ASSERT_EQ(0, objheap_release(self->heap, m.handle[i]));
		ASSERT_LE(0, collect(self->heap, 2));
		EXPECT_LIVE(0);
	}
	ASSERT_EQ(0, objheap_gc_get_mode(self->heap, &mode));
	TH_LOG("%d collections ended mid-program, checked; %llu increments",
	       ended, (unsigned long long)mode.out_increments);
	EXPECT_LT(24, ended);
	EXPECT_EQ(24, full);
}


TEST_HARNESS_MAIN
