// SPDX-License-Identifier: GPL-2.0
/*
 * Weak references, finalizers, PEP 442 finalization and the event queue:
 * clearing order against the collector, exactly-once events, ordering and
 * loss accounting, poll()/read()/epoll wake-ups, libobjheap's dispatcher,
 * and every new command's cmd_length and errno contract.  Every test's
 * teardown closes the heap and asserts that the module holds nothing.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <linux/userfaultfd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include <libobjheap.h>

#define REC sizeof(struct objheap_event)

FIXTURE(weakref) {
	struct objheap *heap;
	int fd;
};

FIXTURE_SETUP(weakref)
{
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	/* Collections happen when a test asks for them. */
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
}

FIXTURE_TEARDOWN(weakref)
{
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

static uint64_t node(struct objheap *heap, uint32_t type, uint32_t flags,
		     uint32_t nslots)
{
	uint64_t h = 0;

	return objheap_new(heap, type, flags, nslots, NULL, 8, NULL, &h) ? 0 : h;
}

/* Read up to @n records without blocking: the count, or -errno. */
static int read_events(int fd, struct objheap_event *ev, size_t n)
{
	ssize_t len = read(fd, ev, n * REC);

	if (len < 0)
		return -errno;
	return len / REC;
}

static int collect(struct objheap *heap, uint32_t generation)
{
	return objheap_gc_collect(heap, generation, NULL);
}

static uint32_t obj_flags(struct objheap *heap, uint64_t h)
{
	struct objheap_info info;

	return objheap_info(heap, h, &info) ? 0 : info.out_flags;
}

TEST_F(weakref, get_returns_the_target_until_it_dies)
{
	uint64_t t = node(self->heap, 7, 0, 0), wr, got;

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 0, 0, &wr));
	EXPECT_EQ(1, objheap_weakref_get(self->heap, wr, &got));
	EXPECT_EQ(t, got);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	EXPECT_EQ(1, objheap_getweakrefcount(self->heap, t));
	/* It holds no reference: releasing the one handle frees the target. */
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(0, objheap_weakref_get(self->heap, wr, &got));
	EXPECT_EQ(0, got);
	EXPECT_EQ(-ENOENT, objheap_getweakrefcount(self->heap, t));
	EXPECT_LIVE(1);
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	EXPECT_LIVE(0);
}

TEST_F(weakref, a_weakref_is_an_object_without_payload)
{
	uint64_t t = node(self->heap, 7, 0, 0), box = node(self->heap, 1, 0, 1);
	uint64_t wr, got, wr2;
	struct objheap_info info;
	char byte;

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 0, 0, &wr));
	ASSERT_EQ(0, objheap_info(self->heap, wr, &info));
	EXPECT_EQ(OBJHEAP_OBJ_WEAKREF, info.out_flags);
	EXPECT_EQ(0, info.out_data_len);
	EXPECT_EQ(0, info.out_nslots);
	EXPECT_EQ(1, info.out_refcnt);
	EXPECT_EQ(-EINVAL, objheap_read(self->heap, wr, 0, &byte, 1));
	EXPECT_EQ(-EINVAL, objheap_write(self->heap, wr, 0, &byte, 1));
	/* Tracked, like CPython's: the collector must see garbage weakrefs. */
	EXPECT_EQ(1, objheap_gc_is_tracked(self->heap, wr));
	/* Held by a slot, it lives on without a handle. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, box, 0, wr));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	ASSERT_EQ(0, objheap_get_slot(self->heap, box, 0, &wr2));
	EXPECT_EQ(wr, wr2);
	EXPECT_EQ(1, objheap_weakref_get(self->heap, wr2, &got));
	EXPECT_EQ(t, got);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	/* No weak reference to a weak reference. */
	EXPECT_EQ(-EINVAL, objheap_weakref_new(self->heap, wr2, 0, 0, &got));
	ASSERT_EQ(0, objheap_release(self->heap, wr2));
	ASSERT_EQ(0, objheap_release(self->heap, box));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_LIVE(0);
}

TEST_F(weakref, callback_on_refcount_death)
{
	uint64_t t = node(self->heap, 7, 0, 0), wr;
	struct objheap_event ev[4];

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 42,
					 OBJHEAP_WEAKREF_CALLBACK, &wr));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
	EXPECT_EQ(OBJHEAP_REASON_REFCOUNT, ev[0].reason);
	EXPECT_EQ(42, ev[0].cookie);
	EXPECT_EQ(wr, ev[0].handle);
	EXPECT_EQ(7, ev[0].target_type);
	EXPECT_EQ(0, ev[0].lost);
	EXPECT_EQ(0, ev[0].generation);
	EXPECT_EQ(0, ev[0].collected);
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
}

TEST_F(weakref, weakref_without_callback_or_dead_first_queues_nothing)
{
	uint64_t t = node(self->heap, 7, 0, 0), quiet, gone;
	struct objheap_event ev[2];

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 1, 0, &quiet));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 2,
					 OBJHEAP_WEAKREF_CALLBACK, &gone));
	ASSERT_EQ(0, objheap_release(self->heap, gone));
	EXPECT_EQ(1, objheap_getweakrefcount(self->heap, t));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 2));
	ASSERT_EQ(0, objheap_release(self->heap, quiet));
	EXPECT_LIVE(0);
}

TEST_F(weakref, member_of_a_collected_cycle_is_cleared_once_and_outlived)
{
	uint64_t a = node(self->heap, 3, 0, 1), b = node(self->heap, 4, 0, 1);
	uint64_t wr, got;
	struct objheap_event ev[4];
	struct objheap_info info;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, a, 99,
					 OBJHEAP_WEAKREF_CALLBACK, &wr));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	/* A cycle: nothing died yet. */
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	EXPECT_EQ(1, objheap_weakref_get(self->heap, wr, &got));
	ASSERT_EQ(0, objheap_release(self->heap, got));

	EXPECT_EQ(2, collect(self->heap, 2));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
	EXPECT_EQ(OBJHEAP_REASON_GC, ev[0].reason);
	EXPECT_EQ(99, ev[0].cookie);
	EXPECT_EQ(3, ev[0].target_type);
	/* Exactly once, however often the collector runs again. */
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	/* The weak reference outlives its target, cleared. */
	EXPECT_LIVE(1);
	ASSERT_EQ(0, objheap_info(self->heap, wr, &info));
	EXPECT_EQ(0, objheap_weakref_get(self->heap, wr, &got));
	EXPECT_EQ(0, got);
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	EXPECT_LIVE(0);
}

TEST_F(weakref, weakrefs_to_reachable_objects_stay_valid)
{
	uint64_t a = node(self->heap, 3, 0, 1), b = node(self->heap, 4, 0, 1);
	uint64_t wa, wb, got;
	struct objheap_event ev[2];
	int i;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, a, 1,
					 OBJHEAP_WEAKREF_CALLBACK, &wa));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, b, 2,
					 OBJHEAP_WEAKREF_CALLBACK, &wb));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, collect(self->heap, i));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 2));
	EXPECT_EQ(1, objheap_weakref_get(self->heap, wb, &got));
	EXPECT_EQ(b, got);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	EXPECT_EQ(1, objheap_weakref_get(self->heap, wa, &got));
	ASSERT_EQ(0, objheap_release(self->heap, got));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_EQ(2, read_events(self->fd, ev, 2));
	ASSERT_EQ(0, objheap_release(self->heap, wa));
	ASSERT_EQ(0, objheap_release(self->heap, wb));
}

TEST_F(weakref, garbage_weakrefs_are_cleared_without_callback)
{
	uint64_t a = node(self->heap, 3, 0, 2), b = node(self->heap, 4, 0, 1);
	uint64_t wr, fin;
	struct objheap_event ev[4];

	/* a <-> b, and a holds a weak reference to b: all three garbage. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, b, 5,
					 OBJHEAP_WEAKREF_CALLBACK, &wr));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 1, wr));
	/* A finalizer is held by the heap: never garbage, it fires. */
	ASSERT_EQ(0, objheap_finalize_new(self->heap, b, 6, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	EXPECT_LIVE(4);
	EXPECT_EQ(3, collect(self->heap, 2));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZER, ev[0].type);
	EXPECT_EQ(6, ev[0].cookie);
	EXPECT_EQ(OBJHEAP_REASON_GC, ev[0].reason);
	EXPECT_LIVE(0);
}

/*
 * A garbage weak reference whose target is not unreachable itself but
 * dies because only the garbage held it: a leaf (untracked) or an object
 * of an older generation.  The weak reference is cleared with the rest of
 * the garbage, in silence, whichever of the two the collector meets
 * first (CPython's bpo-38006); a weak reference userspace holds to the
 * same target still reports the death.
 */
TEST_F(weakref, garbage_weakref_silent_when_its_target_dies_later)
{
	static const struct {
		int weakref_first;	/* the weakref precedes the cycle */
		int old_target;		/* the target is in generation 2 */
	} v[] = { { 1, 0 }, { 0, 0 }, { 1, 1 }, { 0, 1 } };
	struct objheap_event ev[4] = {};
	uint64_t t, a, b, w = 0, kept;
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		t = node(self->heap, 9, 0, v[i].old_target);
		ASSERT_NE(0, t);
		if (v[i].old_target)
			ASSERT_EQ(0, collect(self->heap, 2));
		ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 100 + i,
						 OBJHEAP_WEAKREF_CALLBACK, &kept));
		if (v[i].weakref_first)
			ASSERT_EQ(0, objheap_weakref_new(self->heap, t, i,
							 OBJHEAP_WEAKREF_CALLBACK, &w));
		a = node(self->heap, 3, 0, 2);
		b = node(self->heap, 4, 0, 2);
		if (!v[i].weakref_first)
			ASSERT_EQ(0, objheap_weakref_new(self->heap, t, i,
							 OBJHEAP_WEAKREF_CALLBACK, &w));
		/* a <-> b; a holds the weakref, b holds its target. */
		ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
		ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, a));
		ASSERT_EQ(0, objheap_set_slot(self->heap, a, 1, w));
		ASSERT_EQ(0, objheap_set_slot(self->heap, b, 1, t));
		ASSERT_EQ(0, objheap_release(self->heap, w));
		ASSERT_EQ(0, objheap_release(self->heap, t));
		ASSERT_EQ(0, objheap_release(self->heap, a));
		ASSERT_EQ(0, objheap_release(self->heap, b));

		/* a, b and w are unreachable; t dies with them. */
		EXPECT_EQ(3, collect(self->heap, 0));
		ASSERT_EQ(1, read_events(self->fd, ev, 4)) {
			TH_LOG("variant %u: events of cookies %llu, %llu", i,
			       (unsigned long long)ev[0].cookie,
			       (unsigned long long)ev[1].cookie);
		}
		EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
		EXPECT_EQ(100 + i, ev[0].cookie);
		EXPECT_EQ(kept, ev[0].handle);
		ASSERT_EQ(0, objheap_release(self->heap, kept));
		EXPECT_LIVE(0);
	}
}

/*
 * Containers of many weak references: one top object holding WR_FANOUT
 * objects of n / WR_FANOUT slots each, every slot a weak reference to
 * @target.  Returns the top object, owning the only reference, or 0.
 */
#define WR_FANOUT 16

static uint64_t weakref_container(struct objheap *heap, uint64_t target,
				  uint32_t n)
{
	uint32_t per = n / WR_FANOUT, i, j, k;
	uint64_t *w = calloc(per, sizeof(*w)), sub[WR_FANOUT], top = 0;
	struct objheap_batch_buf *b;

	if (!w || objheap_batch_alloc(&b, OBJHEAP_BATCH_MAX_COUNT))
		return 0;
	for (i = 0; i < WR_FANOUT; i++) {
		for (j = 0; j < per; j += k) {
			objheap_batch_reset(b);
			for (k = 0; k < OBJHEAP_BATCH_MAX_COUNT && j + k < per; k++)
				objheap_batch_weakref_new(b, target, j + k, 0);
			if (objheap_batch_submit(heap, b, 0))
				goto out;
			for (k = 0; k < objheap_batch_count(b); k++)
				w[j + k] = objheap_batch_handle(b, k);
		}
		if (objheap_new(heap, 2, 0, per, NULL, 0, w, &sub[i]) ||
		    objheap_release_array(heap, w, per))
			goto out;
	}
	if (objheap_new(heap, 3, 0, WR_FANOUT, NULL, 0, sub, &top) ||
	    objheap_release_array(heap, sub, WR_FANOUT))
		top = 0;
out:
	objheap_batch_free(b);
	free(w);
	return top;
}

/* Release @h and return how long it took, in ns, or -1. */
static int64_t timed_release(struct objheap *heap, uint64_t h)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (objheap_release(heap, h))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec - t0.tv_nsec;
}

/*
 * Releasing a container of n weak references to one target costs O(n):
 * each weak reference leaves its target's list without a walk.  The
 * times for n = 10^4, 10^5 and 10^6 are logged; that of 10^6 must stay
 * within twenty times the linear 100-fold of that of 10^4 (quadratic
 * would be 10^4-fold), a margin for TCG and a loaded host.
 */
TEST_F_TIMEOUT(weakref, releasing_a_million_weakrefs_to_one_target_is_linear, 900)
{
	uint32_t n = 10000;
	int64_t ns[3];
	uint64_t t, c;
	int i;

	for (i = 0; i < 3; i++, n *= 10) {
		t = node(self->heap, 1, 0, 0);
		c = weakref_container(self->heap, t, n);
		ASSERT_NE(0, c);
		ASSERT_EQ(n, objheap_getweakrefcount(self->heap, t));
		ns[i] = timed_release(self->heap, c);
		ASSERT_LT(0, ns[i]);
		TH_LOG("released %u weak references to one target in %lld us (%lld ns each)",
		       n, (long long)ns[i] / 1000, (long long)ns[i] / n);
		EXPECT_EQ(0, objheap_getweakrefcount(self->heap, t));
		ASSERT_EQ(0, objheap_release(self->heap, t));
		EXPECT_LIVE(0);
	}
	EXPECT_GT(ns[0] * 2000, ns[2]);
}

/* The weak table's chain that @handle's object hashes to, or -1. */
static int64_t weak_chain(int fd, uint64_t handle)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_WEAK_CHAIN,
		.chain = { .handle = handle },
	};

	if (ioctl(fd, OBJHEAP_TEST, &cmd) || !cmd.chain.out_nchains)
		return -1;
	return cmd.chain.out_chain;
}

/*
 * Two targets in one chain of the weak table, each with 2^15 weak
 * references, the first target's older: releasing the second one's weak
 * references must not walk past the first one's.  The second target is
 * picked, among objects created for the purpose, for the chain the test
 * interface says it hashes to: the first one's (the table keeps its 512
 * chains, with two targets).
 */
TEST_F_TIMEOUT(weakref, weakrefs_of_two_targets_in_one_chain_unlink_without_a_walk, 600)
{
	const uint32_t n = 1 << 15;
	uint64_t t, u = 0, ct, cu, *filler;
	int64_t chain;
	uint32_t nfill = 0;
	int64_t ns_t, ns_u;

	filler = calloc(1 << 20, sizeof(*filler));
	ASSERT_NE(NULL, filler);
	t = node(self->heap, 1, 0, 0);
	ct = weakref_container(self->heap, t, n);
	ASSERT_NE(0, ct);
	chain = weak_chain(self->fd, t);
	ASSERT_LE(0, chain);
	while (!u) {
		ASSERT_GT(1 << 20, nfill);
		filler[nfill] = node(self->heap, 2, 0, 0);
		ASSERT_NE(0, filler[nfill]);
		if (weak_chain(self->fd, filler[nfill]) == chain)
			u = filler[nfill];
		else
			nfill++;
	}
	ASSERT_EQ(0, objheap_release_array(self->heap, filler, nfill));
	cu = weakref_container(self->heap, u, n);
	ASSERT_NE(0, cu);
	ASSERT_EQ(chain, weak_chain(self->fd, u));
	ASSERT_EQ(chain, weak_chain(self->fd, t));

	ns_u = timed_release(self->heap, cu);
	ns_t = timed_release(self->heap, ct);
	TH_LOG("2^15 weak references released in %lld us (second target, %u fillers), %lld us (first)",
	       (long long)ns_u / 1000, nfill, (long long)ns_t / 1000);
	ASSERT_LT(0, ns_u);
	ASSERT_LT(0, ns_t);
	EXPECT_GT(ns_t * 10 + 100000000, ns_u);
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(0, objheap_release(self->heap, u));
	free(filler);
	EXPECT_LIVE(0);
}

TEST_F(weakref, getweakrefs_lists_oldest_first_with_references)
{
	uint64_t t = node(self->heap, 7, 0, 0), w[3], got[4] = { 0 }, fin;
	struct objheap_info info;
	uint32_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, objheap_weakref_new(self->heap, t, i, 0, &w[i]));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 2, &w[2]));
	EXPECT_EQ(3, objheap_getweakrefcount(self->heap, t));
	EXPECT_EQ(-EMSGSIZE, objheap_getweakrefs(self->heap, t, got, 2, &n));
	EXPECT_EQ(3, n);
	EXPECT_EQ(0, got[0]);
	ASSERT_EQ(0, objheap_getweakrefs(self->heap, t, got, 4, &n));
	ASSERT_EQ(3, n);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(w[i], got[i]);
		ASSERT_EQ(0, objheap_info(self->heap, got[i], &info));
		EXPECT_EQ(2, info.out_user_refs);
	}
	ASSERT_EQ(0, objheap_release_array(self->heap, got, 3));
	/* A list that faults takes no reference. */
	EXPECT_EQ(-EFAULT, objheap_getweakrefs(self->heap, t, (uint64_t *)8, 4, &n));
	ASSERT_EQ(0, objheap_info(self->heap, w[0], &info));
	EXPECT_EQ(1, info.out_user_refs);
	ASSERT_EQ(0, objheap_release(self->heap, w[0]));
	EXPECT_EQ(2, objheap_getweakrefcount(self->heap, t));
	/* Detached finalizers are no weak references any more. */
	EXPECT_EQ(1, objheap_finalize_detach(self->heap, w[2], NULL));
	EXPECT_EQ(1, objheap_getweakrefcount(self->heap, t));
	fin = w[2];
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, w[1]));
	EXPECT_EQ(0, objheap_getweakrefcount(self->heap, t));
	ASSERT_EQ(0, objheap_getweakrefs(self->heap, t, got, 4, &n));
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_LIVE(0);
}

TEST_F(weakref, finalizer_detach_and_alive)
{
	uint64_t t = node(self->heap, 7, 0, 0), fin, got;
	struct objheap_event ev[2];

	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 11, &fin));
	EXPECT_EQ(OBJHEAP_OBJ_WEAKREF | OBJHEAP_OBJ_FINALIZER,
		  obj_flags(self->heap, fin));
	EXPECT_EQ(1, objheap_finalize_alive(self->heap, fin));
	EXPECT_EQ(1, objheap_finalize_detach(self->heap, fin, &got));
	EXPECT_EQ(t, got);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	EXPECT_EQ(0, objheap_finalize_alive(self->heap, fin));
	EXPECT_EQ(0, objheap_finalize_detach(self->heap, fin, &got));
	EXPECT_EQ(0, got);
	/* Detached: the target's death says nothing. */
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 2));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	EXPECT_LIVE(0);
}

TEST_F(weakref, finalizer_fires_once_and_frees_itself)
{
	uint64_t t = node(self->heap, 7, 0, 0), kept, dropped;
	struct objheap_event ev[4];

	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 1, &kept));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 2, &dropped));
	/* The heap holds a finalizer: its handle may go at once. */
	ASSERT_EQ(0, objheap_release(self->heap, dropped));
	EXPECT_EQ(1, objheap_finalize_alive(self->heap, dropped));
	EXPECT_LIVE(3);
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(2, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZER, ev[0].type);
	EXPECT_EQ(1, ev[0].cookie);
	EXPECT_EQ(kept, ev[0].handle);
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZER, ev[1].type);
	EXPECT_EQ(2, ev[1].cookie);
	EXPECT_EQ(OBJHEAP_REASON_REFCOUNT, ev[1].reason);
	/* Fired: dead, and the one nobody held is gone. */
	EXPECT_EQ(0, objheap_finalize_alive(self->heap, kept));
	EXPECT_EQ(0, objheap_finalize_detach(self->heap, kept, NULL));
	EXPECT_EQ(-ENOENT, objheap_finalize_alive(self->heap, dropped));
	EXPECT_LIVE(1);
	ASSERT_EQ(0, objheap_release(self->heap, kept));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
}

#define DEATHS 100000

TEST_F_TIMEOUT(weakref, hundred_thousand_deaths_deliver_events_in_order, 600)
{
	struct objheap_batch_buf *b;
	uint64_t *targets = calloc(DEATHS, sizeof(*targets));
	struct objheap_event *ev = calloc(1024, REC);
	struct objheap_event_ctl ctl;
	uint64_t next = 0;
	int i, j, n, per = 1024;

	ASSERT_NE(NULL, targets);
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, objheap_batch_alloc(&b, 3 * per));
	/* Each: a target, a finalizer with cookie i, the finalizer released. */
	for (i = 0; i < DEATHS; i += per) {
		int cnt = DEATHS - i < per ? DEATHS - i : per;

		objheap_batch_reset(b);
		for (j = 0; j < cnt; j++) {
			int t = objheap_batch_new(b, 5, 0, 0, NULL, 0, NULL);
			int f = objheap_batch_weakref_new(b, OBJHEAP_BATCH_REF(t),
							  i + j,
							  OBJHEAP_WEAKREF_FINALIZER);

			ASSERT_LE(0, objheap_batch_release(b, OBJHEAP_BATCH_REF(f)));
		}
		ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
		for (j = 0; j < cnt; j++)
			targets[i + j] = objheap_batch_handle(b, 3 * j);
	}
	objheap_batch_free(b);
	EXPECT_LIVE(2 * DEATHS);
	ASSERT_EQ(0, objheap_release_array(self->heap, targets, DEATHS));
	EXPECT_LIVE(0);
	ASSERT_EQ(0, objheap_event_ctl(self->heap, 0, 0, &ctl));
	EXPECT_EQ(DEATHS, ctl.out_queued);
	EXPECT_EQ(0, ctl.out_lost);
	EXPECT_LT(DEATHS * REC, ctl.out_bytes);

	while ((n = read_events(self->fd, ev, 1024)) > 0) {
		for (j = 0; j < n; j++) {
			ASSERT_EQ(OBJHEAP_EVENT_FINALIZER, ev[j].type);
			ASSERT_EQ(0, ev[j].lost);
			ASSERT_EQ(next, ev[j].cookie);
			ASSERT_EQ(5, ev[j].target_type);
			next++;
		}
	}
	EXPECT_EQ(-EAGAIN, n);
	EXPECT_EQ(DEATHS, next);
	ASSERT_EQ(0, objheap_event_ctl(self->heap, 0, 0, &ctl));
	EXPECT_EQ(0, ctl.out_queued);
	EXPECT_EQ(0, ctl.out_bytes);
	free(ev);
	free(targets);
}

#define LOSS_DEATHS 500

TEST_F(weakref, a_queue_that_cannot_grow_counts_every_loss)
{
	uint64_t targets[LOSS_DEATHS], fin, next = 0, lost = 0, delivered = 0;
	struct objheap_event ev[64];
	struct objheap_event_ctl ctl;
	struct objheap_stats st;
	int i, n, lost_records = 0;
	uint64_t big;

	for (i = 0; i < LOSS_DEATHS; i++) {
		targets[i] = node(self->heap, 5, 0, 0);
		ASSERT_NE(0, targets[i]);
		ASSERT_EQ(0, objheap_finalize_new(self->heap, targets[i], i, &fin));
		ASSERT_EQ(0, objheap_release(self->heap, fin));
	}
	/* A large object: freeing it gives memory back, small blocks do not. */
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 0, NULL, 65536, NULL, &big));
	/* Not one more byte: the queue's first chunk cannot be charged. */
	ASSERT_EQ(0, objheap_stats(self->heap, &st, NULL, 0));
	ASSERT_EQ(0, objheap_set_limit(self->heap, st.out_bytes_held));
	for (i = 0; i < LOSS_DEATHS; i++) {
		if (i == LOSS_DEATHS / 2)
			ASSERT_EQ(0, objheap_release(self->heap, big));
		ASSERT_EQ(0, objheap_release(self->heap, targets[i]));
	}
	EXPECT_LIVE(0);

	while ((n = read_events(self->fd, ev, 64)) > 0) {
		for (i = 0; i < n; i++) {
			lost += ev[i].lost;
			next += ev[i].lost;
			if (ev[i].type == OBJHEAP_EVENT_LOST) {
				lost_records++;
				continue;
			}
			/* Each record's cookie says exactly what was lost. */
			ASSERT_EQ(OBJHEAP_EVENT_FINALIZER, ev[i].type);
			ASSERT_EQ(next, ev[i].cookie);
			next++;
			delivered++;
		}
	}
	EXPECT_EQ(-EAGAIN, n);
	EXPECT_LT(0, lost);
	EXPECT_LT(0, delivered);
	EXPECT_EQ(LOSS_DEATHS, delivered + lost);
	EXPECT_EQ(LOSS_DEATHS, next);
	ASSERT_EQ(0, objheap_event_ctl(self->heap, 0, 0, &ctl));
	EXPECT_EQ(lost, ctl.out_lost);
	EXPECT_GE(1, lost_records);
}

TEST_F(weakref, a_heap_closed_with_events_pending_leaks_nothing)
{
	uint64_t t, fin, keep;
	int i;

	/* Several chunks of events, live weak references, a finalizer. */
	for (i = 0; i < 1000; i++) {
		t = node(self->heap, 5, 0, 0);
		ASSERT_EQ(0, objheap_finalize_new(self->heap, t, i, &fin));
		ASSERT_EQ(0, objheap_release(self->heap, fin));
		ASSERT_EQ(0, objheap_release(self->heap, t));
	}
	keep = node(self->heap, 5, OBJHEAP_OBJ_FINALIZE, 1);
	ASSERT_EQ(0, objheap_set_slot(self->heap, keep, 0, keep));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, keep, 1, &fin));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, keep, 2,
					 OBJHEAP_WEAKREF_CALLBACK, &t));
	ASSERT_EQ(0, objheap_release(self->heap, keep));
	ASSERT_EQ(0, objheap_on_gc(self->heap, NULL, NULL));
	/* keep is handed out, not freed: nothing collected. */
	ASSERT_EQ(0, collect(self->heap, 2));
	/* The teardown closes it: kmemleak, on the debug kernel, checks. */
}

struct waiter {
	int fd;
	int use_read;
	int ret;
	short revents;
	struct objheap_event ev;
};

static void *wait_for_event(void *arg)
{
	struct waiter *w = arg;
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };

	if (w->use_read) {
		w->ret = read(w->fd, &w->ev, sizeof(w->ev));
	} else {
		w->ret = poll(&pfd, 1, 20000);
		w->revents = pfd.revents;
	}
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

TEST_F(weakref, poll_wakes_a_sleeping_reader)
{
	uint64_t t = node(self->heap, 7, 0, 0), fin;
	struct waiter w = { .fd = self->fd };
	pthread_t thread;

	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 3, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, pthread_create(&thread, NULL, wait_for_event, &w));
	sleep_ms(200);
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(1, w.ret);
	EXPECT_EQ(POLLIN, w.revents & (POLLIN | POLLERR | POLLHUP));
	EXPECT_EQ(1, objheap_dispatch(self->heap, 0));
}

TEST_F(weakref, blocking_read_sleeps_without_the_heap_lock)
{
	uint64_t t = node(self->heap, 7, 0, 0), fin;
	struct waiter w = { .fd = self->fd, .use_read = 1 };
	int flags = fcntl(self->fd, F_GETFL);
	pthread_t thread;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags & ~O_NONBLOCK));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 3, &fin));
	ASSERT_EQ(0, pthread_create(&thread, NULL, wait_for_event, &w));
	sleep_ms(200);
	/* These need the heap's lock while the reader sleeps. */
	EXPECT_EQ(1, objheap_finalize_alive(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(REC, w.ret);
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZER, w.ev.type);
	EXPECT_EQ(3, w.ev.cookie);
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags));
}

struct faulting_reader {
	int fd;
	void *buf;
	ssize_t ret;
};

static void *read_into_fault(void *arg)
{
	struct faulting_reader *r = arg;

	r->ret = read(r->fd, r->buf, REC);
	return NULL;
}

struct locker {
	struct objheap *heap;
	uint64_t h;
	volatile int done;
};

static void *info_while_reading(void *arg)
{
	struct locker *l = arg;
	struct objheap_info info;

	objheap_info(l->heap, l->h, &info);
	l->done = 1;
	return NULL;
}

/*
 * read() copies records out without the heap's lock: a reader whose
 * buffer faults and stays faulting (a userfaultfd page nobody fills yet)
 * does not stall the heap's other commands.
 */
TEST_F(weakref, read_faulting_on_its_buffer_does_not_hold_the_heap)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_zeropage zero = { .mode = 0 };
	struct faulting_reader r = { .fd = self->fd };
	uint64_t t = node(self->heap, 7, 0, 0), u = node(self->heap, 8, 0, 0);
	struct locker l = { .heap = self->heap, .h = u };
	struct pollfd pfd = { .events = POLLIN };
	uint64_t fin;
	pthread_t reader, other;
	struct uffd_msg msg;
	long page = sysconf(_SC_PAGESIZE);
	int uffd, i;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	r.buf = mmap(NULL, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r.buf);
	reg.range.start = (uintptr_t)r.buf;
	reg.range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 3, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	/* One record pending; the reader faults copying it. */
	ASSERT_EQ(0, pthread_create(&reader, NULL, read_into_fault, &r));
	pfd.fd = uffd;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* Another command on the heap, while the fault is unresolved. */
	ASSERT_EQ(0, pthread_create(&other, NULL, info_while_reading, &l));
	for (i = 0; i < 100 && !l.done; i++)
		sleep_ms(10);
	EXPECT_TRUE(l.done) {
		TH_LOG("a command waited for a reader faulting on its buffer");
	}

	zero.range.start = (uintptr_t)r.buf;
	zero.range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zero));
	ASSERT_EQ(0, pthread_join(reader, NULL));
	ASSERT_EQ(0, pthread_join(other, NULL));
	EXPECT_EQ(REC, r.ret);
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZER, ((struct objheap_event *)r.buf)->type);
	EXPECT_EQ(3, ((struct objheap_event *)r.buf)->cookie);
	ASSERT_EQ(0, objheap_release(self->heap, u));
	munmap(r.buf, page);
	close(uffd);
}

TEST_F(weakref, epoll_reports_pending_events)
{
	struct epoll_event ee = { .events = EPOLLIN };
	uint64_t t = node(self->heap, 7, 0, 0), fin;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ee));
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 3, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(1, epoll_wait(ep, &ee, 1, 1000));
	EXPECT_EQ(EPOLLIN, ee.events);
	/* Level-triggered: still ready until read. */
	EXPECT_EQ(1, epoll_wait(ep, &ee, 1, 0));
	EXPECT_EQ(1, objheap_dispatch(self->heap, 0));
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	close(ep);
}

TEST_F(weakref, read_returns_whole_records)
{
	uint64_t t = node(self->heap, 7, 0, 0), fin;
	/* Hidden from the compiler's bounds checks: it must fault. */
	void *volatile bad_buf = (void *)8;
	char buf[3 * REC];

	EXPECT_ERRNO(EINVAL, read(self->fd, buf, REC - 1));
	EXPECT_ERRNO(EAGAIN, read(self->fd, buf, REC));
	EXPECT_ERRNO(ESPIPE, lseek(self->fd, 0, SEEK_SET));
	EXPECT_ERRNO(ESPIPE, pread(self->fd, buf, REC, 0));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 1, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 2, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	/* A record and a half: one record. */
	EXPECT_EQ(REC, read(self->fd, buf, REC + REC / 2));
	EXPECT_EQ(1, ((struct objheap_event *)buf)->cookie);
	/* A faulting buffer consumes nothing. */
	EXPECT_ERRNO(EFAULT, read(self->fd, bad_buf, REC));
	EXPECT_EQ(REC, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(2, ((struct objheap_event *)buf)->cookie);
}

TEST_F(weakref, collection_events_only_when_asked)
{
	uint64_t a = node(self->heap, 1, 0, 1);
	struct objheap_event ev[4];
	struct objheap_event_ctl ctl;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_EQ(1, collect(self->heap, 0));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	a = node(self->heap, 1, 0, 1);
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_event_ctl(self->heap, OBJHEAP_EVENT_CTL_SET_MASK,
				       OBJHEAP_EVENTS_GC, &ctl));
	EXPECT_EQ(OBJHEAP_EVENTS_GC, ctl.out_mask);
	EXPECT_EQ(1, collect(self->heap, 1));
	ASSERT_EQ(2, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_GC_START, ev[0].type);
	EXPECT_EQ(1, ev[0].generation);
	EXPECT_EQ(OBJHEAP_EVENT_GC_STOP, ev[1].type);
	EXPECT_EQ(1, ev[1].generation);
	EXPECT_EQ(1, ev[1].collected);
	EXPECT_EQ(0, ev[1].uncollectable);
	EXPECT_EQ(0, ev[1].reason);
	ASSERT_EQ(0, objheap_event_ctl(self->heap, OBJHEAP_EVENT_CTL_SET_MASK, 0,
				       &ctl));
	EXPECT_EQ(0, ctl.out_mask);
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
}

struct counts {
	int death, finalize, gc_start, gc_stop;
	uint64_t last_cookie, kept;
};

static void on_death(struct objheap *heap, const struct objheap_event *ev,
		     void *arg)
{
	struct counts *c = arg;

	(void)heap;
	c->death++;
	c->last_cookie = ev->cookie;
}

static void on_gc(struct objheap *heap, const struct objheap_event *ev,
		  void *arg)
{
	struct counts *c = arg;

	(void)heap;
	if (ev->type == OBJHEAP_EVENT_GC_START)
		c->gc_start++;
	else
		c->gc_stop++;
}

/* Keep the first object handed over, release the others. */
static void on_finalize(struct objheap *heap, const struct objheap_event *ev,
			void *arg)
{
	struct counts *c = arg;

	c->finalize++;
	if (!c->kept)
		c->kept = ev->handle;
	else
		objheap_release(heap, ev->handle);
}

TEST_F(weakref, dispatch_calls_the_registered_callbacks)
{
	uint64_t a = node(self->heap, 1, 0, 1), t = node(self->heap, 2, 0, 0);
	struct counts c = { 0 };
	uint64_t wr, fin;

	ASSERT_EQ(0, objheap_on_death(self->heap, on_death, &c));
	ASSERT_EQ(0, objheap_on_gc(self->heap, on_gc, &c));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, a));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, a, 10,
					 OBJHEAP_WEAKREF_CALLBACK, &wr));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 20, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(1, collect(self->heap, 2));
	/* FINALIZER(20), GC_START, WEAKREF(10), GC_STOP. */
	EXPECT_EQ(4, objheap_dispatch(self->heap, 0));
	EXPECT_EQ(2, c.death);
	EXPECT_EQ(10, c.last_cookie);
	EXPECT_EQ(1, c.gc_start);
	EXPECT_EQ(1, c.gc_stop);
	EXPECT_EQ(0, objheap_dispatch(self->heap, 0));
	/* Unregistering gc callbacks turns the events off. */
	ASSERT_EQ(0, objheap_on_gc(self->heap, NULL, NULL));
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_EQ(0, objheap_dispatch(self->heap, 0));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	/* At most @max records per call. */
	t = node(self->heap, 2, 0, 0);
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 1, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 2, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(1, objheap_dispatch(self->heap, 1));
	EXPECT_EQ(1, objheap_dispatch(self->heap, 5));
	EXPECT_LIVE(0);
}

TEST_F(weakref, pep442_resurrects_exactly_what_userspace_keeps)
{
	uint64_t a1 = node(self->heap, 1, OBJHEAP_OBJ_FINALIZE, 1);
	uint64_t a2 = node(self->heap, 2, OBJHEAP_OBJ_FINALIZE, 1);
	uint64_t b1 = node(self->heap, 3, OBJHEAP_OBJ_FINALIZE, 1);
	uint64_t b2 = node(self->heap, 4, 0, 1);
	struct objheap_gc_gen_stats stats[OBJHEAP_GC_GENERATIONS];
	struct counts c = { 0 };
	uint64_t wr, got;

	/* Two garbage cycles: (a1 a2) and (b1 b2); b2 asks for nothing. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, a1, 0, a2));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a2, 0, a1));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b1, 0, b2));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b2, 0, b1));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, a1, 7,
					 OBJHEAP_WEAKREF_CALLBACK, &wr));
	ASSERT_EQ(0, objheap_on_death(self->heap, on_death, &c));
	ASSERT_EQ(0, objheap_on_finalize(self->heap, on_finalize, &c));
	EXPECT_EQ(OBJHEAP_OBJ_FINALIZE, obj_flags(self->heap, a1));
	ASSERT_EQ(0, objheap_release(self->heap, a1));
	ASSERT_EQ(0, objheap_release(self->heap, a2));
	ASSERT_EQ(0, objheap_release(self->heap, b1));
	ASSERT_EQ(0, objheap_release(self->heap, b2));

	/*
	 * Found, handed out, nothing freed: the weakref cleared first.  As
	 * in CPython, the objects that survive are not counted as collected.
	 */
	EXPECT_EQ(0, collect(self->heap, 2));
	EXPECT_LIVE(5);
	EXPECT_EQ(4, objheap_dispatch(self->heap, 0));
	EXPECT_EQ(1, c.death);
	EXPECT_EQ(7, c.last_cookie);
	EXPECT_EQ(3, c.finalize);
	ASSERT_EQ(a1, c.kept);
	EXPECT_EQ(OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_FINALIZED,
		  obj_flags(self->heap, a1));
	EXPECT_EQ(0, objheap_weakref_get(self->heap, wr, &got));

	/* Userspace kept a1, and so a2; (b1 b2) goes, without new events. */
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_LIVE(3);
	EXPECT_EQ(0, objheap_dispatch(self->heap, 0));
	ASSERT_EQ(0, objheap_get_slot(self->heap, a1, 0, &got));
	EXPECT_EQ(a2, got);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	/* Finalized once: dropping a1 now frees the cycle for good. */
	ASSERT_EQ(0, objheap_release(self->heap, a1));
	EXPECT_EQ(2, collect(self->heap, 2));
	EXPECT_EQ(0, objheap_dispatch(self->heap, 0));
	EXPECT_EQ(3, c.finalize);
	/* Each object counted once, by the collection that freed it. */
	ASSERT_EQ(0, objheap_gc_get_stats(self->heap, stats));
	EXPECT_EQ(4, stats[2].collected);
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	EXPECT_LIVE(0);
}

TEST_F(weakref, pep442_on_refcount_death_keeps_weakrefs)
{
	uint64_t t = node(self->heap, 9, OBJHEAP_OBJ_FINALIZE, 0), wr, got;
	struct objheap_event ev[4];

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 1,
					 OBJHEAP_WEAKREF_CALLBACK, &wr));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZE, ev[0].type);
	EXPECT_EQ(OBJHEAP_REASON_REFCOUNT, ev[0].reason);
	EXPECT_EQ(t, ev[0].handle);
	EXPECT_EQ(9, ev[0].target_type);
	EXPECT_EQ(0, ev[0].cookie);
	/* As CPython's tp_finalize from dealloc: weakrefs not cleared. */
	EXPECT_EQ(1, objheap_weakref_get(self->heap, wr, &got));
	ASSERT_EQ(0, objheap_release(self->heap, got));
	/* Userspace drops it: freed this time, the weakref cleared. */
	ASSERT_EQ(0, objheap_release(self->heap, t));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	EXPECT_LIVE(0);
}

TEST_F(weakref, batch_creates_and_calls_weakrefs)
{
	struct objheap_batch_buf *b;
	uint64_t t, wr, got;
	int it, iw, ig;

	ASSERT_EQ(0, objheap_batch_alloc(&b, 8));
	it = objheap_batch_new(b, 1, 0, 0, NULL, 0, NULL);
	iw = objheap_batch_weakref_new(b, OBJHEAP_BATCH_REF(it), 3,
				       OBJHEAP_WEAKREF_CALLBACK);
	ig = objheap_batch_weakref_get(b, OBJHEAP_BATCH_REF(iw));
	ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
	t = objheap_batch_handle(b, it);
	wr = objheap_batch_handle(b, iw);
	got = objheap_batch_handle(b, ig);
	EXPECT_EQ(t, got);
	EXPECT_EQ(OBJHEAP_OBJ_WEAKREF, obj_flags(self->heap, wr));
	objheap_batch_free(b);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(1, objheap_dispatch(self->heap, 0));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
}

TEST_F(weakref, query_reports_the_new_commands)
{
	struct objheap_query q;
	int nr;

	ASSERT_EQ(0, objheap_query(self->heap, 0, &q));
	for (nr = OBJHEAP_CMD_WEAKREF_NEW; nr <= OBJHEAP_CMD_EVENT_CTL; nr++)
		EXPECT_TRUE(q.out_cmds & (1ULL << (nr - OBJHEAP_CMD_BASE)));
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_WEAKREF_NEW, &q));
	EXPECT_EQ(sizeof(struct objheap_weakref), q.out_cmd_size);
	EXPECT_EQ(OBJHEAP_WEAKREF_CALLBACK | OBJHEAP_WEAKREF_FINALIZER,
		  q.out_cmd_flags);
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_NEW, &q));
	EXPECT_TRUE(q.out_cmd_flags & OBJHEAP_OBJ_FINALIZE);
}

TEST_F(weakref, bad_arguments)
{
	uint64_t t = node(self->heap, 1, 0, 0), wr, fin, h;
	struct objheap_weakref w = { .size = sizeof(w) };
	struct objheap_weakref_list l = { .size = sizeof(l) };
	struct objheap_event_ctl c = { .size = sizeof(c) };

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 0, 0, &wr));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 0, &fin));

	/* WEAKREF_NEW */
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, &w));
	w.handle = t + (1ULL << 32);
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, &w));
	w.handle = OBJHEAP_BATCH_REF(0);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, &w));
	w.handle = t;
	w.flags = 1U << 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, &w));
	w.flags = 0;
	w.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, &w));
	w.__reserved = 0;
	w.handle = fin;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, &w));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_WEAKREF_NEW, (void *)8));

	/* GET, DETACH, ALIVE */
	w.handle = t;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_GET, &w));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_FINALIZE_ALIVE, &w));
	w.handle = wr;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_FINALIZE_DETACH, &w));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_FINALIZE_ALIVE, &w));
	w.flags = OBJHEAP_WEAKREF_CALLBACK;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_GET, &w));
	w.flags = 0;
	w.cookie = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_GET, &w));
	w.cookie = 0;
	w.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_FINALIZE_DETACH, &w));
	w.__reserved = 0;
	w.handle = 0;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_WEAKREF_GET, &w));
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_FINALIZE_DETACH, &w));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_WEAKREF_GET, (void *)8));

	/* COUNT, LIST */
	l.handle = t;
	l.count = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_COUNT, &l));
	l.count = 0;
	l.buf_uptr = 8;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_COUNT, &l));
	l.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WEAKREF_LIST, &l));
	l.flags = 0;
	l.count = 2;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_WEAKREF_LIST, &l));
	l.handle = 0;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_WEAKREF_LIST, &l));

	/* EVENT_CTL */
	c.mask = OBJHEAP_EVENTS_GC;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_EVENT_CTL, &c));
	c.flags = OBJHEAP_EVENT_CTL_SET_MASK;
	c.mask = 1U << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_EVENT_CTL, &c));
	c.flags = 1U << 1;
	c.mask = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_EVENT_CTL, &c));

	/* NEW takes OBJHEAP_OBJ_FINALIZE, never the reported-only flags. */
	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 1, OBJHEAP_OBJ_WEAKREF, 0,
				       NULL, 0, NULL, &h));
	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 1, OBJHEAP_OBJ_FINALIZED, 0,
				       NULL, 0, NULL, &h));
	EXPECT_LIVE(3);
	ASSERT_EQ(1, objheap_finalize_detach(self->heap, fin, NULL));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	ASSERT_EQ(0, objheap_release(self->heap, t));
}

TEST_F(weakref, cmd_length)
{
	uint64_t t = node(self->heap, 1, 0, 0), wr, fin;

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 0, 0, &wr));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 0, &fin));
	/* Only sweeps that leave no reference behind when they succeed. */
	TEST_LENGTH(self->fd, objheap_weakref, OBJHEAP_WEAKREF_NEW, out_handle,
		    .handle = 0);
	TEST_LENGTH(self->fd, objheap_weakref, OBJHEAP_WEAKREF_GET, out_handle,
		    .handle = 0);
	TEST_LENGTH(self->fd, objheap_weakref_list, OBJHEAP_WEAKREF_COUNT,
		    buf_uptr, .handle = t);
	TEST_LENGTH(self->fd, objheap_weakref_list, OBJHEAP_WEAKREF_LIST,
		    buf_uptr, .handle = t);
	TEST_LENGTH(self->fd, objheap_weakref, OBJHEAP_FINALIZE_ALIVE,
		    out_handle, .handle = fin);
	TEST_LENGTH(self->fd, objheap_weakref, OBJHEAP_FINALIZE_DETACH,
		    out_handle, .handle = wr);
	TEST_LENGTH(self->fd, objheap_event_ctl, OBJHEAP_EVENT_CTL, out_bytes);
	ASSERT_EQ(1, objheap_finalize_detach(self->heap, fin, NULL));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	ASSERT_EQ(0, objheap_release(self->heap, t));
}

/*
 * The kernel's fault injection (the debug kernel), iommufd_fail_nth
 * style: the n-th allocation of the call fails, n = 1, 2, ... until the
 * call makes fewer.  A weak reference is created entirely or not at all;
 * an event whose chunk cannot be allocated is counted as lost.
 */
TEST_F(weakref, fault_injection_fail_nth)
{
	uint64_t t = node(self->heap, 7, 0, 0), wr = 0, fin;
	struct objheap_event ev[2];
	int nth_fd, ret = -1, fired = 1, failures = 0;
	unsigned int nth;

	nth_fd = fail_nth_open();
	if (nth_fd < 0)
		SKIP(return, "no /proc/thread-self/fail-nth: kernel without fault injection");
	for (nth = 1; fired && nth < 1000; nth++) {
		ASSERT_EQ(0, fail_nth_write(nth_fd, nth));
		ret = objheap_weakref_new(self->heap, t, 1,
					  OBJHEAP_WEAKREF_CALLBACK, &wr);
		fired = fail_nth_fired(nth_fd);
		ASSERT_EQ(0, fail_nth_write(nth_fd, 0));
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			failures++;
			EXPECT_EQ(0, objheap_getweakrefcount(self->heap, t));
			EXPECT_LIVE(1);
		} else if (fired) {
			/* A failure absorbed (kvmalloc's fallback, kmemleak). */
			ASSERT_EQ(0, objheap_release(self->heap, wr));
		}
	}
	ASSERT_EQ(0, ret);
	EXPECT_LE(1, failures);
	EXPECT_EQ(1, objheap_getweakrefcount(self->heap, t));

	/* The death's event needs the queue's first chunk: fail it. */
	ASSERT_EQ(0, objheap_finalize_new(self->heap, t, 2, &fin));
	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, fail_nth_write(nth_fd, 1));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	fired = fail_nth_fired(nth_fd);
	ASSERT_EQ(0, fail_nth_write(nth_fd, 0));
	ASSERT_TRUE(fired);
	/* The first event was lost; the second went into a new chunk. */
	ASSERT_EQ(1, read_events(self->fd, ev, 2));
	EXPECT_EQ(OBJHEAP_EVENT_FINALIZER, ev[0].type);
	EXPECT_EQ(1, ev[0].lost);
	EXPECT_EQ(2, ev[0].cookie);
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	EXPECT_LIVE(0);
	close(nth_fd);
}

/* The example program, where the VM installs it: it checks itself. */
TEST(weakcache_example_runs)
{
	const char *path = "/opt/objheap/bin/objheap-weakcache";
	int status;

	if (access(OBJHEAP_DEV, F_OK))
		SKIP(return, OBJHEAP_DEV " is missing: module not loaded");
	if (access(path, X_OK))
		SKIP(return, "%s is not installed", path);
	status = system(path);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
