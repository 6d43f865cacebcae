// SPDX-License-Identifier: GPL-2.0
/*
 * The cycle collector: graph shapes in the manner of
 * tools/testing/selftests/net/af_unix/scm_rights.c, random graphs checked
 * against a userspace model, the generations' thresholds, and the gc
 * module's API.  Every test's teardown closes the heap and asserts that
 * the module holds nothing any more.
 */
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
static int build_ring(struct objheap *heap, uint32_t n)
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
	if (!ret)
		ret = objheap_release(heap, first);
	objheap_batch_free(b);
	return ret;
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
TEST_F_TIMEOUT(gc, a_killed_collection_stops_and_leaves_the_heap_as_it_was, 900)
{
	const uint32_t n = 1000000;
	struct objheap_gc_gen_stats stats[OBJHEAP_GC_GENERATIONS];
	struct objheap_event ev[4];
	unsigned int delay_us;
	int p[2], status;
	ssize_t len = 0;
	uint32_t count;
	pid_t pid;
	char c;

	ASSERT_EQ(0, build_ring(self->heap, n));
	ASSERT_EQ(0, objheap_event_ctl(self->heap, OBJHEAP_EVENT_CTL_SET_MASK,
				       OBJHEAP_EVENTS_GC, NULL));
	for (delay_us = 5000; delay_us < 2000000 && len <= 0; delay_us *= 2) {
		ASSERT_EQ(0, pipe(p));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			close(p[0]);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			objheap_gc_collect(self->heap, 2, NULL);
			_exit(0);
		}
		close(p[1]);
		ASSERT_EQ(1, read(p[0], &c, 1));
		close(p[0]);
		usleep(delay_us);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		/* No event: killed before it took the lock; wait longer. */
		len = read(self->fd, ev, sizeof(ev));
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
 * creations, says when each generation is collected.
 */
struct gc_model {
	uint32_t count[3], threshold[3], size[3];
	uint64_t collections[3], pending, total;
	uint64_t held_back;	/* full collections the long-lived rule stopped */
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

static void model_new(struct gc_model *m)
{
	int i;

	m->count[0]++;
	m->size[0]++;
	if (!m->threshold[0] || m->count[0] <= m->threshold[0])
		return;
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

TEST_F_TIMEOUT(gc, thresholds_trigger_collections_where_the_model_says, 300)
{
	struct gc_model m = { .threshold = { 7, 3, 2 } };
	struct objheap_gc_gen_stats st[3];
	uint32_t count[3], t[3];
	static uint64_t keep[3000];
	int i, g;

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
	}
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, st));
	for (g = 0; g < 3; g++) {
		EXPECT_EQ(m.collections[g], st[g].collections);
		EXPECT_EQ(0, st[g].collected);
	}
	/* The run went through full collections and the long-lived rule. */
	EXPECT_LT(0, m.collections[2]);
	EXPECT_LT(0, m.held_back);
	EXPECT_EQ(0, objheap_release_array(self->heap, keep, 3000));
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

TEST_HARNESS_MAIN
