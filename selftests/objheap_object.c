// SPDX-License-Identifier: GPL-2.0
/*
 * Objects, handles and reference counts; interning; batches.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include <libobjheap.h>

FIXTURE(obj) {
	struct objheap *heap;
	int fd;
};

FIXTURE_SETUP(obj)
{
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
}

FIXTURE_TEARDOWN(obj)
{
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

static uint64_t new_obj(struct objheap *heap, uint32_t nslots, uint32_t len)
{
	uint64_t h = 0;

	if (objheap_new(heap, 7, 0, nslots, NULL, len, NULL, &h))
		return 0;
	return h;
}

static uint32_t refcnt(struct objheap *heap, uint64_t h)
{
	struct objheap_info info;

	if (objheap_info(heap, h, &info))
		return 0;
	return info.out_refcnt;
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

TEST_F(obj, new_object_has_one_reference)
{
	struct objheap_info info;
	char data[5] = "abcd";
	uint64_t h;

	ASSERT_EQ(0, objheap_new(self->heap, 42, 0, 3, data, sizeof(data),
				 NULL, &h));
	EXPECT_NE(0, h);
	EXPECT_EQ(0, h & OBJHEAP_HANDLE_BATCH_BIT);
	ASSERT_EQ(0, objheap_info(self->heap, h, &info));
	EXPECT_EQ(1, info.out_refcnt);
	EXPECT_EQ(1, info.out_user_refs);
	EXPECT_EQ(42, info.out_type);
	EXPECT_EQ(0, info.out_flags);
	EXPECT_EQ(3, info.out_nslots);
	EXPECT_EQ(sizeof(data), info.out_data_len);
	EXPECT_LIVE(1);
	EXPECT_EQ(1, objheap_test_objects(self->fd).objects.out_containers);
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_LIVE(0);
	EXPECT_EQ(0, objheap_test_objects(self->fd).objects.out_containers);
}

TEST_F(obj, dup_and_release_count_references)
{
	uint64_t h = new_obj(self->heap, 0, 8);

	ASSERT_NE(0, h);
	ASSERT_EQ(0, objheap_dup(self->heap, h));
	ASSERT_EQ(0, objheap_dup(self->heap, h));
	EXPECT_EQ(3, refcnt(self->heap, h));
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_EQ(1, refcnt(self->heap, h));
	EXPECT_LIVE(1);
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_LIVE(0);
	EXPECT_EQ(-ENOENT, objheap_release(self->heap, h));
	EXPECT_EQ(-ENOENT, objheap_dup(self->heap, h));
}

TEST_F(obj, stale_handle_never_finds_the_reused_entry)
{
	uint64_t a = new_obj(self->heap, 0, 8), b;
	struct objheap_info info;

	ASSERT_NE(0, a);
	ASSERT_EQ(0, objheap_release(self->heap, a));
	b = new_obj(self->heap, 1, 16);
	ASSERT_NE(0, b);
	/* Same table entry, another generation. */
	EXPECT_EQ((uint32_t)a, (uint32_t)b);
	EXPECT_NE(a, b);
	EXPECT_EQ(-ENOENT, objheap_info(self->heap, a, &info));
	EXPECT_EQ(-ENOENT, objheap_release(self->heap, a));
	EXPECT_EQ(-ENOENT, objheap_set_slot(self->heap, b, 0, a));
	EXPECT_EQ(1, refcnt(self->heap, b));
	EXPECT_EQ(0, objheap_release(self->heap, b));
	EXPECT_LIVE(0);
}

/*
 * The release that frees an object frees its entry, whatever the object:
 * its handle names nothing and the next object takes the entry in another
 * generation, the tables check, and an object that dies with it, held
 * only by its slot, loses its borrowed handle too.  An object a slot
 * still holds keeps its handle, borrowed, with no reference.
 */
TEST_F(obj, a_freeing_release_frees_the_entry_of_every_kind)
{
	static const struct { uint32_t flags, nslots, len; } kinds[] = {
		{ 0, 2, 16 }, { 0, 0, 8 }, { OBJHEAP_OBJ_IMMUTABLE, 1, 0 },
		{ OBJHEAP_OBJ_RESIZABLE, 2, 16 }, { 0, 1, 4000 },
		{ OBJHEAP_OBJ_MAPPABLE, 0, 100 },
	};
	uint64_t h, child, next, holder;
	struct objheap_info info;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		uint64_t slots[2] = { 0 };

		child = new_obj(self->heap, 0, 8);
		ASSERT_NE(0, child);
		slots[0] = child;
		/* An immutable object's slots are given at creation. */
		ASSERT_EQ(0, objheap_new(self->heap, 7, kinds[i].flags,
					 kinds[i].nslots, NULL, kinds[i].len,
					 kinds[i].nslots ? slots : NULL, &h));
		if (kinds[i].nslots) {
			ASSERT_EQ(0, objheap_release(self->heap, child));
			EXPECT_EQ(1, refcnt(self->heap, child));
		}
		ASSERT_EQ(0, objheap_dup(self->heap, h));
		ASSERT_EQ(0, objheap_release(self->heap, h));
		EXPECT_EQ(1, refcnt(self->heap, h));
		ASSERT_EQ(0, objheap_release(self->heap, h));

		EXPECT_EQ(-ENOENT, objheap_info(self->heap, h, &info));
		EXPECT_EQ(-ENOENT, objheap_release(self->heap, h));
		if (kinds[i].nslots) {
			EXPECT_EQ(-ENOENT, objheap_info(self->heap, child,
							&info));
		} else {
			ASSERT_EQ(0, objheap_release(self->heap, child));
		}
		EXPECT_EQ(0, objheap_test_check(self->fd));
		EXPECT_LIVE(0);
		next = new_obj(self->heap, 0, 8);
		ASSERT_NE(0, next);
		EXPECT_NE(h, next);
		EXPECT_NE(child, next);
		EXPECT_EQ(-ENOENT, objheap_info(self->heap, h, &info));
		ASSERT_EQ(0, objheap_release(self->heap, next));
	}

	/* A slot's hold: the handle stays, borrowed. */
	holder = new_obj(self->heap, 1, 0);
	h = new_obj(self->heap, 2, 16);
	ASSERT_EQ(0, objheap_set_slot(self->heap, holder, 0, h));
	ASSERT_EQ(0, objheap_release(self->heap, h));
	ASSERT_EQ(0, objheap_info(self->heap, h, &info));
	EXPECT_EQ(1, info.out_refcnt);
	EXPECT_EQ(0, info.out_user_refs);
	EXPECT_EQ(-EINVAL, objheap_release(self->heap, h));
	ASSERT_EQ(0, objheap_release(self->heap, holder));
	EXPECT_EQ(-ENOENT, objheap_info(self->heap, h, &info));
	EXPECT_EQ(0, objheap_test_check(self->fd));
	EXPECT_LIVE(0);
}

TEST_F(obj, bad_handles_are_enoent)
{
	static const uint64_t bad[] = {
		0, 1, 0xffffffff, 0x200000000ULL, 0x7fffffff00000000ULL,
		0x7fffffffffffffffULL, 0xffffffffffffffffULL,
	};
	struct objheap_info info;
	unsigned int i;

	ASSERT_NE(0, new_obj(self->heap, 0, 0));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Bit 63 outside a batch is a batch reference: EINVAL. */
		int want = bad[i] >> 63 ? -EINVAL : -ENOENT;

		EXPECT_EQ(want, objheap_info(self->heap, bad[i], &info));
		EXPECT_EQ(want, objheap_dup(self->heap, bad[i]));
		EXPECT_EQ(want, objheap_release(self->heap, bad[i]));
	}
	EXPECT_LIVE(1);
}

TEST_F(obj, release_userspace_does_not_own_is_einval)
{
	uint64_t a = new_obj(self->heap, 1, 0), b = new_obj(self->heap, 0, 0);
	struct objheap_info info;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	/* b lives on in a's slot, but userspace owns nothing of it. */
	EXPECT_EQ(-EINVAL, objheap_release(self->heap, b));
	ASSERT_EQ(0, objheap_info(self->heap, b, &info));
	EXPECT_EQ(1, info.out_refcnt);
	EXPECT_EQ(0, info.out_user_refs);
	EXPECT_LIVE(2);
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, 0));
	EXPECT_EQ(-ENOENT, objheap_info(self->heap, b, &info));
	EXPECT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(0);
}

TEST_F(obj, slots_hold_and_replace_references)
{
	uint64_t a = new_obj(self->heap, 2, 0), b = new_obj(self->heap, 0, 0);
	uint64_t c = new_obj(self->heap, 0, 0), got = 1;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	EXPECT_EQ(2, refcnt(self->heap, b));
	ASSERT_EQ(0, objheap_get_slot(self->heap, a, 0, &got));
	EXPECT_EQ(b, got);
	EXPECT_EQ(3, refcnt(self->heap, b));
	ASSERT_EQ(0, objheap_release(self->heap, got));

	/* Replacing drops the old target's reference. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, c));
	EXPECT_EQ(1, refcnt(self->heap, b));
	EXPECT_EQ(2, refcnt(self->heap, c));
	/* Storing the same target again changes nothing. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, c));
	EXPECT_EQ(2, refcnt(self->heap, c));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, 0));
	EXPECT_EQ(1, refcnt(self->heap, c));

	ASSERT_EQ(0, objheap_get_slot(self->heap, a, 1, &got));
	EXPECT_EQ(0, got);
	EXPECT_EQ(-EINVAL, objheap_get_slot(self->heap, a, 2, &got));
	EXPECT_EQ(-EINVAL, objheap_set_slot(self->heap, a, 2, b));
	EXPECT_EQ(-EINVAL, objheap_set_slot(self->heap, b, 0, c));
	EXPECT_EQ(-EINVAL, objheap_set_slot(self->heap, a, 0xffffffff, b));

	EXPECT_EQ(0, objheap_release(self->heap, a));
	EXPECT_EQ(0, objheap_release(self->heap, b));
	EXPECT_EQ(0, objheap_release(self->heap, c));
	EXPECT_LIVE(0);
}

TEST_F(obj, slot_keeps_target_alive)
{
	uint64_t a = new_obj(self->heap, 1, 0), b = new_obj(self->heap, 0, 4);
	uint32_t v = 0x5eed, r = 0;
	uint64_t got;

	ASSERT_EQ(0, objheap_write(self->heap, b, 0, &v, sizeof(v)));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	EXPECT_LIVE(2);
	ASSERT_EQ(0, objheap_get_slot(self->heap, a, 0, &got));
	EXPECT_EQ(b, got);
	ASSERT_EQ(0, objheap_read(self->heap, got, 0, &r, sizeof(r)));
	EXPECT_EQ(v, r);
	ASSERT_EQ(0, objheap_release(self->heap, got));
	/* The last reference to a takes b with it. */
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(0);
}

TEST_F(obj, shared_target_dies_with_its_last_referrer)
{
	uint64_t a = new_obj(self->heap, 1, 0), b = new_obj(self->heap, 1, 0);
	uint64_t c = new_obj(self->heap, 0, 0);

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, c));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, c));
	ASSERT_EQ(0, objheap_release(self->heap, c));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(2);
	EXPECT_EQ(1, refcnt(self->heap, c));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	EXPECT_LIVE(0);
}

TEST_F(obj, cycle_outlives_its_handles)
{
	uint64_t a = new_obj(self->heap, 1, 0), b = new_obj(self->heap, 1, 0);
	uint64_t s = new_obj(self->heap, 1, 0);

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_set_slot(self->heap, s, 0, s));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	ASSERT_EQ(0, objheap_release(self->heap, s));
	/* Reference counting cannot free cycles: closing the heap does. */
	EXPECT_LIVE(3);
	EXPECT_EQ(1, refcnt(self->heap, s));
}

TEST_F(obj, breaking_a_cycle_through_a_borrowed_handle_frees_it)
{
	uint64_t a = new_obj(self->heap, 1, 0), b = new_obj(self->heap, 1, 0);

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, b, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	/* a is still alive: emptying its slot frees b, which frees a. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, 0));
	EXPECT_LIVE(0);
}

/*
 * A chain of 10^6 objects, each holding the previous one, built in
 * batches and freed by one release: on a 16 KiB kernel stack this only
 * works without recursion.
 */
#define CHAIN_LEN 1000000
#define CHAIN_PER_BATCH 2048

/*
 * Build a chain of @len objects of @nslots slots, each holding the one
 * made before it in slot 0, and return a handle to the last.  With
 * @forget, the handles to the others go as they are released.
 */
static int build_chain_of(struct objheap *heap, uint32_t nslots, uint32_t len,
			  bool forget, uint64_t *headp)
{
	static uint64_t prev_slot[CHAIN_PER_BATCH];
	static uint64_t prev_slot2[CHAIN_PER_BATCH][2];
	struct objheap_batch_buf *b;
	uint64_t prev = 0;
	uint32_t done = 0, i, n;
	int ret;

	ret = objheap_batch_alloc(&b, 2 * CHAIN_PER_BATCH);
	if (ret)
		return ret;
	while (done < len) {
		n = len - done < CHAIN_PER_BATCH ? len - done : CHAIN_PER_BATCH;
		objheap_batch_reset(b);
		for (i = 0; i < n; i++) {
			prev_slot[i] = i ? OBJHEAP_BATCH_REF(2 * (i - 1)) : prev;
			prev_slot2[i][0] = prev_slot[i];
			objheap_batch_new(b, 1, 0, nslots, NULL, 0,
					  prev_slot[i] ? prev_slot2[i] : NULL);
			if (forget)
				objheap_batch_release_forget(b, prev_slot[i]);
			else
				objheap_batch_release(b, prev_slot[i]);
		}
		/* Entry 1 releases 0 on the first batch: skip it there. */
		ret = objheap_batch_submit(heap, b, OBJHEAP_BATCH_CONTINUE);
		if (ret < 0)
			break;
		for (i = 0; i < 2 * n; i++) {
			if (objheap_batch_result(b, i) &&
			    !(done == 0 && i == 1)) {
				ret = objheap_batch_result(b, i);
				goto out;
			}
		}
		prev = objheap_batch_handle(b, 2 * (n - 1));
		done += n;
		ret = 0;
	}
out:
	objheap_batch_free(b);
	*headp = prev;
	return ret;
}

static int build_chain(struct objheap *heap, uint32_t len, uint64_t *headp)
{
	return build_chain_of(heap, 1, len, false, headp);
}

static int heap_stats(struct objheap *heap, struct objheap_stats *st)
{
	memset(st, 0, sizeof(*st));
	return objheap_stats(heap, st, NULL, 0);
}

/*
 * Where the bytes of an object go (Documentation/objects.rst): a list of
 * 10^6 two-slot objects held by one handle costs 48 bytes of blocks per
 * object, the 32-byte header and two 8-byte slots, as CPython's two-slot
 * object with its GC head.  Held, it costs its share of its pool (whose
 * header and end too small for a block are the pool's overhead, as in
 * CPython's pools), and less than half a byte more for the arenas'
 * structures and the map of block ids.  No handle entry is left for the
 * objects only slots refer to, since the chain is built with
 * OBJHEAP_RELEASE_FORGET; with plain releases each keeps one, 16 bytes.
 */
TEST_F_TIMEOUT(obj, a_two_slot_object_in_a_list_costs_48_bytes, 600)
{
	struct objheap_stats before, after;
	double in_use, held, pool_share;
	uint64_t head, first;
	uint32_t per_pool;

	/* The handle table's first page, made before the measure. */
	first = new_obj(self->heap, 0, 0);
	ASSERT_NE(0, first);
	ASSERT_EQ(0, heap_stats(self->heap, &before));
	ASSERT_EQ(0, build_chain_of(self->heap, 2, CHAIN_LEN, true, &head));
	EXPECT_LIVE(CHAIN_LEN + 1);
	ASSERT_EQ(0, heap_stats(self->heap, &after));
	in_use = (double)(after.out_bytes_in_use - before.out_bytes_in_use) /
		 CHAIN_LEN;
	held = (double)(after.out_bytes_held - before.out_bytes_held) /
	       CHAIN_LEN;
	/* A pool's header is 48 bytes. */
	per_pool = (after.out_pool_size - 48) / 48;
	pool_share = (double)after.out_pool_size / per_pool;
	TH_LOG("per object: %.2f bytes in use, %.2f held, of which %.2f its pool's share (pool size %u)",
	       in_use, held, pool_share, after.out_pool_size);
	EXPECT_EQ(48 * (uint64_t)CHAIN_LEN,
		  after.out_bytes_in_use - before.out_bytes_in_use);
	EXPECT_GT(pool_share + 0.5, held);
	ASSERT_EQ(0, objheap_release(self->heap, head));
	ASSERT_EQ(0, objheap_release(self->heap, first));
	EXPECT_LIVE(0);
}

/*
 * Objects too large for a pool get their ids from the map of large
 * blocks (kmod/alloc.c): a ring of 1500 of them with 100 slots each
 * fills that map past its first leaf of 512.  The collector walks them
 * by id, the checker at teardown checks every link, and the ring dies
 * whole.
 */
TEST_F(obj, large_tracked_objects_link_by_id_past_a_leaf)
{
	enum { N = 1500 };
	static uint64_t h[N];
	struct objheap_gc_collect res;
	unsigned int i;

	for (i = 0; i < N; i++)
		ASSERT_NE(0, h[i] = new_obj(self->heap, 100, 0));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, objheap_set_slot(self->heap, h[i], 99,
					      h[(i + 1) % N]));
	/* Every other one goes first: holes in the map. */
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, objheap_release_forget(self->heap, h[i]));
	ASSERT_EQ(0, objheap_gc_collect(self->heap, 2, &res));
	EXPECT_EQ(0, res.out_collected);
	EXPECT_LIVE(N);
	for (i = 1; i < N; i += 2)
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
	EXPECT_LIVE(N);
	EXPECT_EQ(N, objheap_gc_collect(self->heap, 2, &res));
	EXPECT_EQ(N, res.out_collected);
	EXPECT_LIVE(0);
	/* The numbers freed serve again. */
	for (i = 0; i < N; i++)
		ASSERT_NE(0, h[i] = new_obj(self->heap, 100, 0));
	ASSERT_EQ(0, objheap_release_array(self->heap, h, N));
	EXPECT_LIVE(0);
}

/* A handle released with OBJHEAP_RELEASE_FORGET names nothing after. */
TEST_F(obj, a_forgotten_handle_goes_and_its_object_stays)
{
	struct objheap_info info;
	uint64_t a, b, b2 = 0, b3 = 0;

	a = new_obj(self->heap, 1, 0);
	b = new_obj(self->heap, 0, 8);
	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));

	/* A reference left: the handle stays. */
	ASSERT_EQ(0, objheap_dup(self->heap, b));
	ASSERT_EQ(0, objheap_release_forget(self->heap, b));
	EXPECT_EQ(2, refcnt(self->heap, b));

	/* The last: it goes, the object lives on in a's slot. */
	ASSERT_EQ(0, objheap_release_forget(self->heap, b));
	EXPECT_EQ(-ENOENT, objheap_info(self->heap, b, &info));
	EXPECT_EQ(-ENOENT, objheap_release(self->heap, b));
	EXPECT_EQ(-ENOENT, objheap_dup(self->heap, b));
	EXPECT_LIVE(2);

	/* Got again, it is a new handle; without the flag it stays. */
	ASSERT_EQ(0, objheap_get_slot(self->heap, a, 0, &b2));
	EXPECT_NE(0, b2);
	EXPECT_NE(b, b2);
	EXPECT_EQ(2, refcnt(self->heap, b2));
	ASSERT_EQ(0, objheap_release(self->heap, b2));
	EXPECT_EQ(1, refcnt(self->heap, b2));
	ASSERT_EQ(0, objheap_get_slot(self->heap, a, 0, &b3));
	EXPECT_EQ(b2, b3);
	ASSERT_EQ(0, objheap_release_forget(self->heap, b3));
	EXPECT_EQ(-ENOENT, objheap_info(self->heap, b3, &info));

	/* A forgotten last reference frees as a release does. */
	ASSERT_EQ(0, objheap_release_forget(self->heap, a));
	EXPECT_LIVE(0);
}

/*
 * What keeps its entry: an immortal object, and one whose events go to
 * the attachment that made it (PEP 442 finalization).  A handle owning
 * no reference cannot be released, forgotten or not.
 */
TEST_F(obj, a_forget_keeps_what_must_stay)
{
	uint64_t holder, fin = 0, imm = 0, plain;

	holder = new_obj(self->heap, 1, 0);
	ASSERT_NE(0, holder);
	ASSERT_EQ(0, objheap_new(self->heap, 7, OBJHEAP_OBJ_FINALIZE, 0, NULL,
				 0, NULL, &fin));
	ASSERT_EQ(0, objheap_set_slot(self->heap, holder, 0, fin));
	ASSERT_EQ(0, objheap_release_forget(self->heap, fin));
	EXPECT_EQ(1, refcnt(self->heap, fin));

	ASSERT_EQ(0, objheap_new(self->heap, 7, OBJHEAP_OBJ_IMMORTAL, 0, NULL,
				 0, NULL, &imm));
	ASSERT_EQ(0, objheap_release_forget(self->heap, imm));
	EXPECT_EQ(0, objheap_release_forget(self->heap, imm));
	EXPECT_EQ(0, objheap_dup(self->heap, imm));

	plain = new_obj(self->heap, 0, 0);
	ASSERT_NE(0, plain);
	ASSERT_EQ(0, objheap_set_slot(self->heap, holder, 0, plain));
	ASSERT_EQ(0, objheap_release(self->heap, plain));
	EXPECT_EQ(-EINVAL, objheap_release_forget(self->heap, plain));
	EXPECT_EQ(1, refcnt(self->heap, plain));
	ASSERT_EQ(0, objheap_release(self->heap, holder));
}

/* Only OBJHEAP_RELEASE takes the flag, and no other bit. */
TEST_F(obj, release_flags_are_checked)
{
	struct objheap_handle_cmd cmd = { .size = sizeof(cmd) };
	uint64_t h = new_obj(self->heap, 0, 0);

	ASSERT_NE(0, h);
	cmd.handle = h;
	cmd.flags = OBJHEAP_RELEASE_FORGET;
	EXPECT_EQ(-1, ioctl(self->fd, OBJHEAP_DUP, &cmd));
	EXPECT_EQ(EINVAL, errno);
	cmd.flags = OBJHEAP_RELEASE_FORGET << 1;
	EXPECT_EQ(-1, ioctl(self->fd, OBJHEAP_RELEASE, &cmd));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, refcnt(self->heap, h));
	cmd.flags = OBJHEAP_RELEASE_FORGET;
	EXPECT_EQ(0, ioctl(self->fd, OBJHEAP_RELEASE, &cmd));
	EXPECT_LIVE(0);
}

TEST_F_TIMEOUT(obj, million_long_chain_freed_by_one_release, 600)
{
	uint64_t head;

	ASSERT_EQ(0, build_chain(self->heap, CHAIN_LEN, &head));
	EXPECT_LIVE(CHAIN_LEN);
	EXPECT_EQ(1, refcnt(self->heap, head));
	ASSERT_EQ(0, objheap_release(self->heap, head));
	EXPECT_LIVE(0);
}

TEST_F_TIMEOUT(obj, million_long_chain_freed_by_close, 600)
{
	uint64_t head;

	ASSERT_EQ(0, build_chain(self->heap, CHAIN_LEN, &head));
	EXPECT_LIVE(CHAIN_LEN);
	/* The fixture's teardown closes the heap with the chain alive. */
}

TEST_F(obj, immutable_objects_refuse_changes)
{
	const char data[] = "frozen";
	uint64_t t = new_obj(self->heap, 0, 0), slots[2] = { 0, 0 }, h, got;
	struct objheap_info info;
	char buf[sizeof(data)];

	slots[1] = t;
	ASSERT_EQ(0, objheap_new(self->heap, 3, OBJHEAP_OBJ_IMMUTABLE, 2, data,
				 sizeof(data), slots, &h));
	EXPECT_EQ(2, refcnt(self->heap, t));
	ASSERT_EQ(0, objheap_info(self->heap, h, &info));
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE, info.out_flags);
	EXPECT_EQ(-EPERM, objheap_write(self->heap, h, 0, "x", 1));
	EXPECT_EQ(-EPERM, objheap_set_slot(self->heap, h, 0, t));
	EXPECT_EQ(-EPERM, objheap_set_slot(self->heap, h, 1, 0));
	ASSERT_EQ(0, objheap_read(self->heap, h, 0, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, data, sizeof(data)));
	ASSERT_EQ(0, objheap_get_slot(self->heap, h, 1, &got));
	EXPECT_EQ(t, got);
	EXPECT_EQ(0, objheap_release(self->heap, got));
	EXPECT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_LIVE(0);
}

TEST_F(obj, immortal_objects_ignore_reference_counting)
{
	struct objheap_info info;
	uint64_t h, a = new_obj(self->heap, 1, 0);
	int i;

	ASSERT_EQ(0, objheap_new(self->heap, 1, OBJHEAP_OBJ_IMMORTAL, 1, NULL,
				 8, NULL, &h));
	ASSERT_EQ(0, objheap_info(self->heap, h, &info));
	EXPECT_EQ(OBJHEAP_REFCNT_IMMORTAL, info.out_refcnt);
	EXPECT_EQ(OBJHEAP_OBJ_IMMORTAL, info.out_flags);
	for (i = 0; i < 10; i++)
		EXPECT_EQ(0, objheap_release(self->heap, h));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, h));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, 0));
	ASSERT_EQ(0, objheap_dup(self->heap, h));
	ASSERT_EQ(0, objheap_info(self->heap, h, &info));
	EXPECT_EQ(OBJHEAP_REFCNT_IMMORTAL, info.out_refcnt);
	/* An immortal holding a mortal keeps it alive. */
	ASSERT_EQ(0, objheap_set_slot(self->heap, h, 0, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(2);
}

TEST_F(obj, heap_closes_with_live_objects_cycles_and_immortals)
{
	struct objheap *other;
	uint64_t a, b, c;
	int i;

	ASSERT_EQ(0, objheap_open(&other));
	for (i = 0; i < 1000; i++) {
		a = new_obj(other, 2, 100);
		b = new_obj(other, 1, 1000);
		ASSERT_EQ(0, objheap_new(other, 9, OBJHEAP_OBJ_IMMORTAL, 1, NULL,
					 3000, NULL, &c));
		ASSERT_EQ(0, objheap_set_slot(other, a, 0, b));
		ASSERT_EQ(0, objheap_set_slot(other, b, 0, a));
		ASSERT_EQ(0, objheap_set_slot(other, a, 1, c));
		ASSERT_EQ(0, objheap_set_slot(other, c, 0, a));
		if (i % 2)
			ASSERT_EQ(0, objheap_release(other, a));
	}
	ASSERT_EQ(3000, objheap_test_objects(objheap_fd(other)).objects.out_live);
	objheap_close(other);
	/* Nothing of it may remain: kmemleak and rmmod check the rest. */
	EXPECT_LIVE(0);
}

TEST_F(obj, interning_returns_one_object_per_type_and_content)
{
	uint64_t a, b, c, d;
	struct objheap_info info;

	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "spam", 4, &a));
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "spam", 4, &b));
	ASSERT_EQ(0, objheap_intern(self->heap, 2, 0, "spam", 4, &c));
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "spam!", 5, &d));
	EXPECT_EQ(a, b);
	EXPECT_NE(a, c);
	EXPECT_NE(a, d);
	EXPECT_EQ(2, refcnt(self->heap, a));
	ASSERT_EQ(0, objheap_info(self->heap, a, &info));
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_INTERNED, info.out_flags);
	EXPECT_EQ(0, info.out_nslots);
	EXPECT_EQ(-EPERM, objheap_write(self->heap, a, 0, "x", 1));
	EXPECT_EQ(3, objheap_test_objects(self->fd).objects.out_interned);
	/* An object made by NEW with the same content is not interned. */
	ASSERT_EQ(0, objheap_new(self->heap, 1, OBJHEAP_OBJ_IMMUTABLE, 0,
				 "spam", 4, NULL, &d));
	EXPECT_NE(a, d);
	EXPECT_LIVE(4);
}

TEST_F(obj, interned_objects_die_with_their_last_reference)
{
	uint64_t a, b;

	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "eggs", 4, &a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(0);
	EXPECT_EQ(0, objheap_test_objects(self->fd).objects.out_interned);
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "eggs", 4, &b));
	EXPECT_NE(a, b);
	EXPECT_EQ(1, refcnt(self->heap, b));
	EXPECT_EQ(1, objheap_test_objects(self->fd).objects.out_interned);
}

TEST_F(obj, immortal_interned_objects_stay)
{
	uint64_t a, b;

	ASSERT_EQ(0, objheap_intern(self->heap, 1, OBJHEAP_OBJ_IMMORTAL, "1", 1, &a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, "1", 1, &b));
	EXPECT_EQ(a, b);
	EXPECT_EQ(OBJHEAP_REFCNT_IMMORTAL, refcnt(self->heap, a));
}

TEST_F(obj, intern_table_grows_and_empties)
{
	enum { N = 5000 };
	static uint64_t h[N];
	char key[32];
	uint64_t again;
	int i;

	for (i = 0; i < N; i++) {
		int len = snprintf(key, sizeof(key), "key-%d", i);

		ASSERT_EQ(0, objheap_intern(self->heap, 5, 0, key, len, &h[i]));
	}
	EXPECT_EQ(N, objheap_test_objects(self->fd).objects.out_interned);
	for (i = 0; i < N; i++) {
		int len = snprintf(key, sizeof(key), "key-%d", i);

		ASSERT_EQ(0, objheap_intern(self->heap, 5, 0, key, len, &again));
		ASSERT_EQ(h[i], again);
		ASSERT_EQ(0, objheap_release(self->heap, again));
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
	}
	EXPECT_EQ(0, objheap_test_objects(self->fd).objects.out_interned);
	EXPECT_LIVE(0);
}

/*
 * The intern and weak tables add a chain at a time past a page of them
 * (512 with 4 KiB pages), splitting one: every entry stays where lookups
 * find it, through the first splits, the first page added, the chains'
 * count doubling (1024, 2048) and deaths in between.  The test
 * interface's checker walks every chain at each step.
 */
TEST_F(obj, intern_and_weak_tables_split_one_chain_at_a_time)
{
	enum { N = 2600 };
	static uint64_t h[N], t[N], w[N];
	static const uint32_t steps[] = { 511, 512, 513, 1023, 1024, 1025,
					  2048, N };
	uint32_t i, k, from = 0;
	uint64_t key, again;

	for (k = 0; k < ARRAY_SIZE(steps); k++) {
		for (i = from; i < steps[k]; i++) {
			key = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
			ASSERT_EQ(0, objheap_intern(self->heap, 5, 0, &key,
						    sizeof(key), &h[i]));
			t[i] = new_obj(self->heap, 0, 0);
			ASSERT_EQ(0, objheap_weakref_new(self->heap, t[i], i, 0,
							 &w[i]));
		}
		from = steps[k];
		ASSERT_EQ(0, objheap_test_check(self->fd));
		for (i = 0; i < from; i++) {
			key = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
			ASSERT_EQ(0, objheap_intern(self->heap, 5, 0, &key,
						    sizeof(key), &again));
			ASSERT_EQ(h[i], again);
			ASSERT_EQ(0, objheap_release(self->heap, again));
			ASSERT_EQ(1, objheap_getweakrefcount(self->heap, t[i]));
		}
	}
	EXPECT_EQ(N, objheap_test_objects(self->fd).objects.out_interned);
	/* Every third dies: each leaves its chain, the rest stay found. */
	for (i = 0; i < N; i += 3) {
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
		ASSERT_EQ(0, objheap_release(self->heap, t[i]));
		ASSERT_EQ(0, objheap_weakref_get(self->heap, w[i], &again));
		ASSERT_EQ(0, again);
	}
	ASSERT_EQ(0, objheap_test_check(self->fd));
	for (i = 0; i < N; i++) {
		key = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		ASSERT_EQ(0, objheap_intern(self->heap, 5, 0, &key, sizeof(key),
					    &again));
		if (!(i % 3)) {
			h[i] = again;
			continue;
		}
		ASSERT_EQ(h[i], again);
		ASSERT_EQ(0, objheap_release(self->heap, again));
		ASSERT_EQ(1, objheap_getweakrefcount(self->heap, t[i]));
	}
	ASSERT_EQ(0, objheap_test_check(self->fd));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
		ASSERT_EQ(0, objheap_release(self->heap, w[i]));
		if (i % 3) {
			ASSERT_EQ(0, objheap_release(self->heap, t[i]));
		}
	}
	EXPECT_EQ(0, objheap_test_objects(self->fd).objects.out_interned);
	ASSERT_EQ(0, objheap_test_check(self->fd));
	EXPECT_LIVE(0);
}

TEST_F(obj, intern_of_large_payload)
{
	size_t len = 100000;
	char *data = malloc(len);
	uint64_t a, b;

	ASSERT_NE(NULL, data);
	memset(data, 'x', len);
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, data, len, &a));
	data[len - 1] = 'y';
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, data, len, &b));
	EXPECT_NE(a, b);
	data[len - 1] = 'x';
	ASSERT_EQ(0, objheap_intern(self->heap, 1, 0, data, len, &b));
	EXPECT_EQ(a, b);
	EXPECT_EQ(-EFAULT, objheap_intern(self->heap, 1, 0, NULL, len, &b));
	EXPECT_EQ(-EINVAL, objheap_intern(self->heap, 1, 0, data,
					  OBJHEAP_MAX_SIZE + 1, &b));
	free(data);
	EXPECT_LIVE(2);
}

TEST_F(obj, reference_counts_saturate_instead_of_wrapping)
{
	uint64_t a = new_obj(self->heap, 1, 0), t = new_obj(self->heap, 0, 0);
	uint64_t got;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, t));
	ASSERT_EQ(0, set_user_refs(self->fd, t, OBJHEAP_REFCNT_MAX - 1));
	EXPECT_EQ(OBJHEAP_REFCNT_MAX, refcnt(self->heap, t));
	EXPECT_EQ(-EOVERFLOW, objheap_dup(self->heap, t));
	EXPECT_EQ(-EOVERFLOW, objheap_get_slot(self->heap, a, 0, &got));
	EXPECT_EQ(-EOVERFLOW, objheap_set_slot(self->heap, a, 0, t));
	EXPECT_EQ(-EOVERFLOW, objheap_new(self->heap, 0, 0, 1, NULL, 0, &t, &got));
	EXPECT_EQ(OBJHEAP_REFCNT_MAX, refcnt(self->heap, t));
	EXPECT_LIVE(2);
	ASSERT_EQ(0, set_user_refs(self->fd, t, 1));
	EXPECT_EQ(2, refcnt(self->heap, t));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_LIVE(0);
}

TEST_F(obj, payload_starts_zeroed)
{
	static const uint32_t sizes[] = { 1, 15, 16, 100, 460, 464, 500, 4096, 70000 };
	unsigned char *buf = malloc(70000), *junk = malloc(70000);
	unsigned int i, j;
	uint64_t h;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, junk);
	memset(junk, 0xa5, 70000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* Dirty a block of this size, free it, then reuse it. */
		ASSERT_EQ(0, objheap_new(self->heap, 0, 0, 0, junk, sizes[i],
					 NULL, &h));
		ASSERT_EQ(0, objheap_release(self->heap, h));
		ASSERT_EQ(0, objheap_new(self->heap, 0, 0, 0, NULL, sizes[i],
					 NULL, &h));
		memset(buf, 0x5a, sizes[i]);
		ASSERT_EQ(0, objheap_read(self->heap, h, 0, buf, sizes[i]));
		for (j = 0; j < sizes[i]; j++)
			ASSERT_EQ(0, buf[j]);
		ASSERT_EQ(0, objheap_release(self->heap, h));
	}
	free(buf);
	free(junk);
	EXPECT_LIVE(0);
}

/*
 * Objects either side of where OBJHEAP_NEW's plain creation ends (a shape
 * that holds the sizes, in a block of a pool, neither resizable nor
 * mappable) come out whole: sizes as asked, every slot empty, the payload
 * zero in a reused block, a slot given at creation held, and the heap's
 * checkers content.
 */
TEST_F(obj, objects_either_side_of_the_plain_shape_are_whole)
{
	static const struct { uint32_t flags, nslots, len; } shapes[] = {
		{ 0, 0, 0 }, { 0, 0, 1 }, { 0, 2, 16 }, { 0, 2, 21 },
		{ 0, 126, 0 }, { 0, 127, 0 }, { 0, 0, 480 }, { 0, 0, 481 },
		{ 0, 60, 0 }, { 0, 61, 0 }, { 0, 10, 400 }, { 0, 10, 401 },
		{ 0, 1, 510 }, { 0, 1, 511 },
		{ OBJHEAP_OBJ_RESIZABLE, 2, 16 },
		{ OBJHEAP_OBJ_IMMUTABLE, 2, 16 },
	};
	unsigned char junk[600], buf[600];
	uint64_t h, target, got, given[128] = { 0 };
	struct objheap_info info;
	unsigned int i, j;

	memset(junk, 0xa5, sizeof(junk));
	target = new_obj(self->heap, 0, 0);
	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		uint32_t flags = shapes[i].flags, n = shapes[i].nslots;
		uint32_t len = shapes[i].len;

		/* Dirty a block of this size, free it, then reuse it. */
		ASSERT_EQ(0, objheap_new(self->heap, 0, 0, n, junk, len, NULL,
					 &h));
		ASSERT_EQ(0, objheap_release(self->heap, h));
		ASSERT_EQ(0, objheap_new(self->heap, 3, flags, n, NULL, len,
					 NULL, &h));
		ASSERT_EQ(0, objheap_info(self->heap, h, &info));
		EXPECT_EQ(n, info.out_nslots);
		EXPECT_EQ(len, info.out_data_len);
		EXPECT_EQ(flags, info.out_flags);
		for (j = 0; j < n; j++) {
			ASSERT_EQ(0, objheap_get_slot(self->heap, h, j, &got));
			EXPECT_EQ(0, got);
		}
		memset(buf, 0x5a, sizeof(buf));
		if (len)
			ASSERT_EQ(0, objheap_read(self->heap, h, 0, buf, len));
		for (j = 0; j < len; j++)
			ASSERT_EQ(0, buf[j]);
		EXPECT_EQ(0, objheap_test_check(self->fd));
		ASSERT_EQ(0, objheap_release(self->heap, h));

		/* The last slot given at creation holds its target. */
		if (!n)
			continue;
		given[n - 1] = target;
		ASSERT_EQ(0, objheap_new(self->heap, 3, flags, n, NULL, len,
					 given, &h));
		given[n - 1] = 0;
		EXPECT_EQ(2, refcnt(self->heap, target));
		ASSERT_EQ(0, objheap_get_slot(self->heap, h, n - 1, &got));
		EXPECT_NE(0, got);
		ASSERT_EQ(0, objheap_release(self->heap, got));
		EXPECT_EQ(0, objheap_test_check(self->fd));
		ASSERT_EQ(0, objheap_release(self->heap, h));
		EXPECT_EQ(1, refcnt(self->heap, target));
	}
	ASSERT_EQ(0, objheap_release(self->heap, target));
	EXPECT_LIVE(0);
}

TEST_F(obj, info_writes_every_output_field)
{
	struct objheap_info info;
	uint64_t h = new_obj(self->heap, 2, 10);

	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	info.handle = h;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_INFO, &info));
	EXPECT_EQ(1, info.out_refcnt);
	EXPECT_EQ(1, info.out_user_refs);
	EXPECT_EQ(7, info.out_type);
	EXPECT_EQ(0, info.out_flags);
	EXPECT_EQ(2, info.out_nslots);
	EXPECT_EQ(10, info.out_data_len);
}

TEST_F(obj, payload_ranges_are_checked)
{
	uint64_t h = new_obj(self->heap, 0, 64);
	char buf[128] = { 0 };
	void *unmapped;

	EXPECT_EQ(0, objheap_write(self->heap, h, 0, buf, 64));
	EXPECT_EQ(0, objheap_read(self->heap, h, 63, buf, 1));
	EXPECT_EQ(0, objheap_read(self->heap, h, 64, buf, 0));
	EXPECT_EQ(-EINVAL, objheap_read(self->heap, h, 0, buf, 65));
	EXPECT_EQ(-EINVAL, objheap_read(self->heap, h, 64, buf, 1));
	EXPECT_EQ(-EINVAL, objheap_write(self->heap, h, 65, buf, 0));
	EXPECT_EQ(-EINVAL, objheap_read(self->heap, h, 0xffffffff, buf, 2));
	EXPECT_EQ(-EINVAL, objheap_write(self->heap, h, 2, buf, 0xffffffff));
	EXPECT_EQ(-EFAULT, objheap_read(self->heap, h, 0, NULL, 8));
	EXPECT_EQ(-EFAULT, objheap_write(self->heap, h, 0, NULL, 8));
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-EFAULT, objheap_read(self->heap, h, 0, unmapped, 8));
	EXPECT_EQ(-EFAULT, objheap_write(self->heap, h, 0, unmapped, 8));
	munmap(unmapped, 4096);
	EXPECT_LIVE(1);
}

/*
 * Reads of up to 64 bytes take a path of their own in the kernel: every
 * offset and length of a 96-byte payload gives the payload's bytes and
 * nothing past them, and a read into a buffer that runs into an
 * unmapped page is EFAULT.
 */
TEST_F(obj, short_reads_copy_exactly_their_range)
{
	enum { LEN = 96 };
	unsigned char data[LEN], out[LEN + 8];
	uint32_t off, n;
	uint64_t h;
	char *pages;

	/*
	 * Every place a payload can be: after no slots or after some, in
	 * the object's block or (resizable) a block of its own, its sizes in
	 * the header or (130 slots, resizable) before it, in pages.
	 */
	static const struct {
		uint32_t flags, nslots;
	} kinds[] = {
		{ 0, 0 }, { 0, 3 }, { 0, 130 },
		{ OBJHEAP_OBJ_RESIZABLE, 0 }, { OBJHEAP_OBJ_RESIZABLE, 3 },
		{ OBJHEAP_OBJ_MAPPABLE, 0 }, { OBJHEAP_OBJ_MAPPABLE, 3 },
	};
	unsigned int k;

	for (off = 0; off < LEN; off++)
		data[off] = 0x5a ^ (off * 7);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		ASSERT_EQ(0, objheap_new(self->heap, 0, kinds[k].flags,
					 kinds[k].nslots, data, LEN, NULL, &h));
		for (off = 0; off <= LEN; off++) {
			for (n = 0; off + n <= LEN && n <= 72; n++) {
				memset(out, 0xee, sizeof(out));
				ASSERT_EQ(0, objheap_read(self->heap, h, off,
							  out + 1, n));
				ASSERT_EQ(0xee, out[0]);
				ASSERT_EQ(0, memcmp(out + 1, data + off, n));
				ASSERT_EQ(0xee, out[n + 1]);
			}
		}
		EXPECT_EQ(-EINVAL, objheap_read(self->heap, h, LEN - 4, out, 8));
		EXPECT_EQ(0, objheap_release(self->heap, h));
	}
	ASSERT_EQ(0, objheap_new(self->heap, 0, 0, 0, data, LEN, NULL, &h));
	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + 4096, 4096, PROT_NONE));
	EXPECT_EQ(-EFAULT, objheap_read(self->heap, h, 0, pages + 4088, 16));
	EXPECT_EQ(-EFAULT, objheap_read(self->heap, h, 0, pages + 4095, 2));
	EXPECT_EQ(0, objheap_read(self->heap, h, 0, pages + 4088, 8));
	EXPECT_EQ(0, memcmp(pages + 4088, data, 8));
	munmap(pages, 8192);
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_LIVE(0);
}

TEST_F(obj, sizes_past_the_maximum_are_einval)
{
	uint64_t h;

	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 0, 0, OBJHEAP_MAX_SLOTS + 1,
				       NULL, 0, NULL, &h));
	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 0, 0, 0xffffffff,
				       NULL, 0, NULL, &h));
	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 0, 0, 0, NULL,
				       OBJHEAP_MAX_SIZE + 1, NULL, &h));
	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 0, 0, 0, NULL,
				       0xffffffff, NULL, &h));
	EXPECT_LIVE(0);
}

TEST_F(obj, largest_objects_are_allowed)
{
	uint64_t h;

	ASSERT_EQ(0, objheap_new(self->heap, 0, 0, OBJHEAP_MAX_SLOTS, NULL, 0,
				 NULL, &h));
	EXPECT_EQ(0, objheap_set_slot(self->heap, h, OBJHEAP_MAX_SLOTS - 1, h));
	EXPECT_EQ(0, objheap_set_slot(self->heap, h, OBJHEAP_MAX_SLOTS - 1, 0));
	EXPECT_EQ(0, objheap_release(self->heap, h));
	EXPECT_LIVE(0);
}

TEST_F(obj, bad_creation_arguments_leave_the_heap_unchanged)
{
	uint64_t t = new_obj(self->heap, 0, 0), slots[3], h;
	void *unmapped;

	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-EFAULT, objheap_new(self->heap, 0, 0, 0, unmapped, 16,
				       NULL, &h));
	EXPECT_EQ(-EFAULT, objheap_new(self->heap, 0, 0, 2, NULL, 0,
				       unmapped, &h));
	/* A bad handle after a good one: the good one's reference is undone. */
	slots[0] = t;
	slots[1] = t;
	slots[2] = t + 1;
	EXPECT_EQ(-ENOENT, objheap_new(self->heap, 0, 0, 3, NULL, 0, slots, &h));
	slots[2] = OBJHEAP_BATCH_REF(0);
	EXPECT_EQ(-EINVAL, objheap_new(self->heap, 0, 0, 3, NULL, 0, slots, &h));
	EXPECT_EQ(1, refcnt(self->heap, t));
	munmap(unmapped, 4096);
	EXPECT_LIVE(1);
}

TEST_F(obj, cmd_length)
{
	uint64_t h = new_obj(self->heap, 1, 8);
	char buf[8];

	TEST_LENGTH(self->fd, objheap_new, OBJHEAP_NEW, out_handle);
	TEST_LENGTH(self->fd, objheap_handle_cmd, OBJHEAP_DUP, out_handle,
		    .handle = h);
	/* Index 0xffff is past the table: ENOENT both times. */
	TEST_LENGTH(self->fd, objheap_handle_cmd, OBJHEAP_RELEASE, out_handle,
		    .handle = h | 0xffff);
	TEST_LENGTH(self->fd, objheap_slot, OBJHEAP_SET_SLOT, out_handle,
		    .handle = h);
	TEST_LENGTH(self->fd, objheap_slot, OBJHEAP_GET_SLOT, out_handle,
		    .handle = h);
	TEST_LENGTH(self->fd, objheap_rw, OBJHEAP_READ, buf_uptr,
		    .handle = h, .len = 8, .buf_uptr = (uintptr_t)buf);
	TEST_LENGTH(self->fd, objheap_rw, OBJHEAP_WRITE, buf_uptr,
		    .handle = h, .len = 8, .buf_uptr = (uintptr_t)buf);
	TEST_LENGTH(self->fd, objheap_info, OBJHEAP_INFO, out_data_len,
		    .handle = h);
	TEST_LENGTH(self->fd, objheap_intern, OBJHEAP_INTERN, out_handle,
		    .data_len = 8, .data_uptr = (uintptr_t)buf);
	TEST_LENGTH(self->fd, objheap_batch, OBJHEAP_BATCH, out_failed);
}

TEST_F(obj, unknown_flags_and_reserved_fields_are_einval)
{
	uint64_t h = new_obj(self->heap, 1, 8);
	struct objheap_new n = { .size = sizeof(n) };
	struct objheap_handle_cmd hc = { .size = sizeof(hc), .handle = h };
	struct objheap_slot sl = { .size = sizeof(sl), .handle = h };
	struct objheap_rw rw = { .size = sizeof(rw), .handle = h };
	struct objheap_info in = { .size = sizeof(in), .handle = h };
	struct objheap_intern it = { .size = sizeof(it) };
	struct objheap_batch ba = { .size = sizeof(ba) };

	n.flags = OBJHEAP_OBJ_INTERNED;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_NEW, &n));
	n.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_NEW, &n));
	n.flags = 0;
	n.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_NEW, &n));
	hc.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_DUP, &hc));
	hc.flags = 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_RELEASE, &hc));
	sl.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SET_SLOT, &sl));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GET_SLOT, &sl));
	sl.flags = 0;
	sl.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SET_SLOT, &sl));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GET_SLOT, &sl));
	sl.__reserved = 0;
	sl.target = h;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_GET_SLOT, &sl));
	rw.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_READ, &rw));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_WRITE, &rw));
	in.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_INFO, &in));
	it.flags = OBJHEAP_OBJ_IMMUTABLE;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_INTERN, &it));
	ba.flags = 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_BATCH, &ba));
	EXPECT_EQ(1, refcnt(self->heap, h));
	EXPECT_LIVE(1);
}

TEST_F(obj, null_and_unmapped_argument_is_efault)
{
	static const unsigned long cmds[] = {
		OBJHEAP_NEW, OBJHEAP_DUP, OBJHEAP_RELEASE, OBJHEAP_SET_SLOT,
		OBJHEAP_GET_SLOT, OBJHEAP_READ, OBJHEAP_WRITE, OBJHEAP_INFO,
		OBJHEAP_INTERN, OBJHEAP_BATCH,
	};
	unsigned int i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, cmds[i], NULL));
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, cmds[i], (void *)-4096L));
	}
}

TEST_F(obj, batch_runs_commands_and_refers_to_earlier_results)
{
	struct objheap_batch_buf *b;
	const struct objheap_info *info;
	uint64_t a, c;
	int e_new_a, e_new_b, e_info, e_get;

	ASSERT_EQ(0, objheap_batch_alloc(&b, 16));
	e_new_a = objheap_batch_new(b, 1, 0, 1, NULL, 4, NULL);
	e_new_b = objheap_batch_new(b, 2, 0, 0, NULL, 4, NULL);
	objheap_batch_set_slot(b, OBJHEAP_BATCH_REF(e_new_a), 0,
			       OBJHEAP_BATCH_REF(e_new_b));
	objheap_batch_release(b, OBJHEAP_BATCH_REF(e_new_b));
	e_get = objheap_batch_get_slot(b, OBJHEAP_BATCH_REF(e_new_a), 0);
	e_info = objheap_batch_info(b, OBJHEAP_BATCH_REF(e_get));
	objheap_batch_write(b, OBJHEAP_BATCH_REF(e_get), 0, "abcd", 4);
	ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
	for (int i = 0; i < (int)objheap_batch_count(b); i++)
		EXPECT_EQ(0, objheap_batch_result(b, i));
	a = objheap_batch_handle(b, e_new_a);
	c = objheap_batch_handle(b, e_get);
	EXPECT_EQ(objheap_batch_handle(b, e_new_b), c);
	info = objheap_batch_info_result(b, e_info);
	ASSERT_NE(NULL, info);
	EXPECT_EQ(2, info->out_type);
	EXPECT_EQ(2, info->out_refcnt);
	EXPECT_EQ(1, info->out_user_refs);
	EXPECT_EQ(2, refcnt(self->heap, c));
	objheap_batch_free(b);
	EXPECT_LIVE(2);
	EXPECT_EQ(0, objheap_release(self->heap, c));
	EXPECT_EQ(0, objheap_release(self->heap, a));
	EXPECT_LIVE(0);
}

TEST_F(obj, batch_stops_at_the_first_failure_unless_told_to_continue)
{
	struct objheap_batch_buf *b;
	uint64_t stale = new_obj(self->heap, 0, 0);

	ASSERT_EQ(0, objheap_release(self->heap, stale));
	ASSERT_EQ(0, objheap_batch_alloc(&b, 4));
	objheap_batch_new(b, 1, 0, 0, NULL, 0, NULL);
	objheap_batch_dup(b, stale);
	objheap_batch_new(b, 1, 0, 0, NULL, 0, NULL);
	objheap_batch_release(b, OBJHEAP_BATCH_REF(1));
	EXPECT_EQ(1, objheap_batch_submit(self->heap, b, 0));
	EXPECT_EQ(0, objheap_batch_result(b, 0));
	EXPECT_EQ(-ENOENT, objheap_batch_result(b, 1));
	EXPECT_EQ(-ECANCELED, objheap_batch_result(b, 2));
	EXPECT_EQ(-ECANCELED, objheap_batch_result(b, 3));
	EXPECT_LIVE(1);

	/* Same entries, run to the end: a reference to a failed entry is EINVAL. */
	EXPECT_EQ(2, objheap_batch_submit(self->heap, b, OBJHEAP_BATCH_CONTINUE));
	EXPECT_EQ(0, objheap_batch_result(b, 0));
	EXPECT_EQ(-ENOENT, objheap_batch_result(b, 1));
	EXPECT_EQ(0, objheap_batch_result(b, 2));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 3));
	EXPECT_LIVE(3);
	objheap_batch_free(b);
}

TEST_F(obj, batch_reference_must_name_an_earlier_entry)
{
	struct objheap_batch_buf *b;

	ASSERT_EQ(0, objheap_batch_alloc(&b, 4));
	objheap_batch_dup(b, OBJHEAP_BATCH_REF(0));
	objheap_batch_new(b, 1, 0, 0, NULL, 0, NULL);
	objheap_batch_dup(b, OBJHEAP_BATCH_REF(2));
	objheap_batch_dup(b, OBJHEAP_BATCH_REF(7));
	EXPECT_EQ(3, objheap_batch_submit(self->heap, b, OBJHEAP_BATCH_CONTINUE));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 0));
	EXPECT_EQ(0, objheap_batch_result(b, 1));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 2));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 3));
	objheap_batch_free(b);
	EXPECT_LIVE(1);
}

/*
 * An entry that succeeded without returning an object (GET_SLOT of an
 * empty slot, out_handle 0) cannot be referred to: EINVAL, never a
 * silent "no object".
 */
TEST_F(obj, batch_reference_to_an_entry_that_returned_no_object)
{
	struct objheap_batch_buf *b;
	uint64_t box;

	ASSERT_EQ(0, objheap_batch_alloc(&b, 4));
	objheap_batch_new(b, 1, 0, 1, NULL, 0, NULL);
	objheap_batch_get_slot(b, OBJHEAP_BATCH_REF(0), 0);
	objheap_batch_set_slot(b, OBJHEAP_BATCH_REF(0), 0, OBJHEAP_BATCH_REF(1));
	objheap_batch_dup(b, OBJHEAP_BATCH_REF(1));
	EXPECT_EQ(2, objheap_batch_submit(self->heap, b, OBJHEAP_BATCH_CONTINUE));
	EXPECT_EQ(0, objheap_batch_result(b, 1));
	EXPECT_EQ(0, objheap_batch_handle(b, 1));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 2));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 3));
	box = objheap_batch_handle(b, 0);
	objheap_batch_free(b);
	EXPECT_LIVE(1);
	ASSERT_EQ(0, objheap_release(self->heap, box));
	EXPECT_LIVE(0);
}

/* A hand-built batch buffer, to send what libobjheap never would. */
struct raw_batch {
	struct objheap_batch_entry e0;
	struct objheap_handle_cmd c0;
	struct objheap_batch_entry e1;
	struct objheap_info c1;
	uint64_t tail[2];
};

static int raw_batch(int fd, void *buf, uint32_t count, uint32_t len,
		     struct objheap_batch *out)
{
	*out = (struct objheap_batch){
		.size = sizeof(*out),
		.count = count,
		.len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	return ioctl(fd, OBJHEAP_BATCH, out) ? -errno : 0;
}

TEST_F(obj, malformed_batches_are_refused_before_anything_runs)
{
	/*
	 * Numbers of no command: the last four land in each of the four
	 * slots of the plan's cache of commands seen, as do 1 to 4.
	 */
	static const uint32_t no_cmd[] = {
		0, 1, 2, 3, 4, 0x7f, 0xff, 0x100, 0x80000000,
		0xfffffffc, 0xfffffffd, 0xfffffffe, 0xffffffff,
	};
	uint64_t h = new_obj(self->heap, 0, 0);
	size_t len = offsetof(struct raw_batch, tail);
	struct objheap_batch res;
	struct raw_batch rb;
	unsigned int i;

	memset(&rb, 0, sizeof(rb));
	rb.e0.cmd = OBJHEAP_CMD_DUP;
	rb.c0 = (struct objheap_handle_cmd){ .size = sizeof(rb.c0), .handle = h };
	rb.e1.cmd = OBJHEAP_CMD_INFO;
	rb.c1 = (struct objheap_info){ .size = sizeof(rb.c1), .handle = h };

	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 0, len, &res));
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, OBJHEAP_BATCH_MAX_COUNT + 1,
				     len, &res));
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, OBJHEAP_BATCH_MAX_LEN + 1,
				     &res));
	/* The entries must fill the buffer exactly. */
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len - 8, &res));
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len + 8, &res));
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 3, len, &res));
	EXPECT_EQ(-EFAULT, raw_batch(self->fd, NULL, 2, len, &res));
	rb.e1.cmd = OBJHEAP_CMD_QUERY;
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len, &res));
	rb.e1.cmd = OBJHEAP_CMD_BATCH;
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len, &res));
	rb.e1.cmd = 0x1000 + OBJHEAP_CMD_INFO;
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len, &res));
	/* First in a batch, and after an entry whose command it caches. */
	for (i = 0; i < ARRAY_SIZE(no_cmd); i++) {
		rb.e0.cmd = no_cmd[i];
		EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len, &res));
		rb.e0.cmd = OBJHEAP_CMD_DUP;
		rb.e1.cmd = no_cmd[i];
		EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len, &res));
	}
	rb.e1.cmd = OBJHEAP_CMD_INFO;
	rb.c1.size = 8;
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, 2, len, &res));
	rb.c1.size = sizeof(rb.c1);
	EXPECT_EQ(1, refcnt(self->heap, h));

	ASSERT_EQ(0, raw_batch(self->fd, &rb, 2, len, &res));
	EXPECT_EQ(2, res.out_done);
	EXPECT_EQ(0, res.out_failed);
	EXPECT_EQ(h, rb.c0.out_handle);
	EXPECT_EQ(2, rb.c1.out_refcnt);
	EXPECT_LIVE(1);
}

TEST_F(obj, batch_entries_follow_the_size_rules)
{
	uint64_t h = new_obj(self->heap, 0, 0);
	struct objheap_batch res;
	struct raw_batch rb;

	/* An INFO entry 16 bytes longer than the kernel's structure. */
	memset(&rb, 0, sizeof(rb));
	rb.e0.cmd = OBJHEAP_CMD_DUP;
	rb.c0 = (struct objheap_handle_cmd){ .size = sizeof(rb.c0), .handle = h };
	rb.e1.cmd = OBJHEAP_CMD_INFO;
	rb.c1 = (struct objheap_info){ .size = sizeof(rb.c1) + 16, .handle = h };
	ASSERT_EQ(0, raw_batch(self->fd, &rb, 2, sizeof(rb), &res));
	EXPECT_EQ(0, rb.e1.out_result);
	EXPECT_EQ(2, rb.c1.out_refcnt);
	rb.tail[1] = 1;
	rb.c1.flags = 0;
	ASSERT_EQ(0, raw_batch(self->fd, &rb, 2, sizeof(rb), &res));
	EXPECT_EQ(-E2BIG, rb.e1.out_result);
	rb.tail[1] = 0;
	rb.c1.flags = 4;
	ASSERT_EQ(0, raw_batch(self->fd, &rb, 2, sizeof(rb), &res));
	EXPECT_EQ(-EINVAL, rb.e1.out_result);
	EXPECT_EQ(1, res.out_failed);
	EXPECT_EQ(4, refcnt(self->heap, h));
}

/*
 * The kernel keeps a batch's memory for the attachment's next batch.  A
 * batch never sees what an earlier one left there: not its entries past
 * its own buffer's end, nor the handles its entries returned.
 */
TEST_F(obj, batch_sees_nothing_of_the_batch_before)
{
	enum { N = 64, BIG = OBJHEAP_BATCH_MAX_COUNT };
	uint64_t h = new_obj(self->heap, 0, 0);
	struct objheap_batch_buf *b;
	struct objheap_batch res;
	struct raw_batch rb;
	int i;

	ASSERT_EQ(0, objheap_batch_alloc(&b, BIG));
	for (i = 0; i < N; i++)
		ASSERT_EQ(i, objheap_batch_dup(b, h));
	ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
	EXPECT_EQ(N + 1, refcnt(self->heap, h));

	/* Two entries and a count of 64: the 62 others are not there. */
	memset(&rb, 0, sizeof(rb));
	rb.e0.cmd = OBJHEAP_CMD_DUP;
	rb.c0 = (struct objheap_handle_cmd){ .size = sizeof(rb.c0), .handle = h };
	rb.e1.cmd = OBJHEAP_CMD_INFO;
	rb.c1 = (struct objheap_info){ .size = sizeof(rb.c1), .handle = h };
	EXPECT_EQ(-EINVAL, raw_batch(self->fd, &rb, N,
				     offsetof(struct raw_batch, tail), &res));
	EXPECT_EQ(N + 1, refcnt(self->heap, h));

	/* Entry 1 of the last batch returned @h; here it is this DUP. */
	objheap_batch_reset(b);
	objheap_batch_dup(b, OBJHEAP_BATCH_REF(1));
	objheap_batch_dup(b, h);
	EXPECT_EQ(1, objheap_batch_submit(self->heap, b, OBJHEAP_BATCH_CONTINUE));
	EXPECT_EQ(-EINVAL, objheap_batch_result(b, 0));
	EXPECT_EQ(0, objheap_batch_result(b, 1));
	EXPECT_EQ(N + 2, refcnt(self->heap, h));

	/* Past what the kernel keeps, then back under it. */
	objheap_batch_reset(b);
	for (i = 0; i < BIG; i++)
		ASSERT_EQ(i, i <= N ? objheap_batch_release(b, h) :
				      objheap_batch_info(b, h));
	ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
	EXPECT_EQ(1, objheap_batch_info_result(b, BIG - 1)->out_refcnt);
	EXPECT_EQ(1, refcnt(self->heap, h));
	ASSERT_EQ(0, raw_batch(self->fd, &rb, 2,
			       offsetof(struct raw_batch, tail), &res));
	EXPECT_EQ(2, res.out_done);
	EXPECT_EQ(0, res.out_failed);
	EXPECT_EQ(h, rb.c0.out_handle);
	EXPECT_EQ(2, rb.c1.out_refcnt);
	objheap_batch_free(b);
	EXPECT_LIVE(1);
}

/* Several threads on one heap, each building and dropping small graphs. */
struct hammer {
	struct objheap *heap;
	uint64_t root;
	int iterations;
	int errors;
};

static void *hammer_thread(void *arg)
{
	struct hammer *hm = arg;
	uint64_t a, b, got;
	int i;

	for (i = 0; i < hm->iterations; i++) {
		if (objheap_new(hm->heap, 1, 0, 2, NULL, 16, NULL, &a) ||
		    objheap_new(hm->heap, 2, 0, 0, NULL, 8, NULL, &b) ||
		    objheap_set_slot(hm->heap, a, 0, b) ||
		    objheap_set_slot(hm->heap, a, 1, hm->root) ||
		    objheap_dup(hm->heap, hm->root) ||
		    objheap_get_slot(hm->heap, a, 0, &got) || got != b ||
		    objheap_release(hm->heap, got) ||
		    objheap_release(hm->heap, b) ||
		    objheap_release(hm->heap, hm->root) ||
		    /* Keep every eighth one alive, hung off the root. */
		    (i % 8 == 0 &&
		     objheap_set_slot(hm->heap, hm->root, 0, a)) ||
		    objheap_release(hm->heap, a))
			hm->errors++;
	}
	return NULL;
}

TEST_F_TIMEOUT(obj, threads_hammer_one_heap, 300)
{
	enum { THREADS = 4, ITER = 5000 };
	struct hammer hm = { .heap = self->heap, .iterations = ITER };
	struct hammer per[THREADS];
	pthread_t t[THREADS];
	uint64_t last;
	int i;

	hm.root = new_obj(self->heap, 1, 0);
	ASSERT_NE(0, hm.root);
	for (i = 0; i < THREADS; i++) {
		per[i] = hm;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_thread, &per[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, per[i].errors);
	}
	/* The root holds the last a stored, which holds its b and the root. */
	EXPECT_LIVE(3);
	EXPECT_EQ(2, refcnt(self->heap, hm.root));
	ASSERT_EQ(0, objheap_get_slot(self->heap, hm.root, 0, &last));
	EXPECT_EQ(2, refcnt(self->heap, last));
	ASSERT_EQ(0, objheap_set_slot(self->heap, last, 1, 0));
	ASSERT_EQ(0, objheap_release(self->heap, last));
	ASSERT_EQ(0, objheap_release(self->heap, hm.root));
	EXPECT_LIVE(0);
}

TEST_F(obj, forked_child_shares_the_heap)
{
	uint64_t parent_obj = new_obj(self->heap, 0, 0), child_obj = 0;
	int pipefd[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t h = 0;

		if (objheap_new(self->heap, 11, 0, 1, NULL, 0, NULL, &h) ||
		    objheap_set_slot(self->heap, h, 0, parent_obj) ||
		    objheap_release(self->heap, parent_obj))
			h = 0;
		if (write(pipefd[1], &h, sizeof(h)) != sizeof(h))
			_exit(2);
		_exit(h ? 0 : 1);
	}
	ASSERT_EQ(sizeof(child_obj), read(pipefd[0], &child_obj, sizeof(child_obj)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_NE(0, child_obj);
	EXPECT_EQ(1, refcnt(self->heap, child_obj));
	EXPECT_EQ(1, refcnt(self->heap, parent_obj));
	EXPECT_LIVE(2);
	ASSERT_EQ(0, objheap_release(self->heap, child_obj));
	EXPECT_LIVE(0);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * Every allocation an object command makes, failed in turn, as
 * iommufd_fail_nth does: n = 1, 2, ... until the command no longer
 * reaches an n-th allocation.  On the debug kernel the kernel's own fault
 * injection fails any allocation (/proc/thread-self/fail-nth, armed by
 * the VM's /init); on any kernel the allocator's test op fails its raw
 * allocations (arenas, pages, large objects).  Each failure must be
 * ENOMEM with the heap as it was: the same live objects, the targets'
 * counts unchanged, the objects' bytes returned (a table that grew may
 * stay grown), and the allocator's checker happy.
 */
enum fail_op { FAIL_NEW_LARGE, FAIL_NEW_TABLE_GROWS, FAIL_INTERN, FAIL_BATCH,
	       NR_FAIL_OPS };

#define FAIL_BATCH_LEN 16

struct fail_state {
	uint32_t live;
	uint64_t object_bytes;	/* bytes in use, less the heap's tables */
	uint64_t charged;
	uint32_t refs[2];
};

static void fail_snapshot(struct objheap *heap, const uint64_t t[2],
			  struct fail_state *st)
{
	struct objheap_stats s;

	st->live = objheap_test_objects(objheap_fd(heap)).objects.out_live;
	if (objheap_stats(heap, &s, NULL, 0))
		memset(&s, 0xff, sizeof(s));
	st->object_bytes = s.out_bytes_in_use - s.out_bytes_charged;
	st->charged = s.out_bytes_charged;
	st->refs[0] = refcnt(heap, t[0]);
	st->refs[1] = refcnt(heap, t[1]);
}

/* A fresh heap with two targets; for FAIL_NEW_TABLE_GROWS a full table. */
static struct objheap *fail_prepare(enum fail_op op, uint64_t t[2])
{
	struct objheap_test_cmd cmd;
	struct objheap *heap;
	uint32_t i, cap;

	if (objheap_open(&heap))
		return NULL;
	t[0] = new_obj(heap, 1, 8);
	t[1] = new_obj(heap, 0, 8);
	if (op == FAIL_NEW_TABLE_GROWS) {
		cmd = objheap_test_objects(objheap_fd(heap));
		cap = cmd.objects.out_table_capacity;
		for (i = 2; i < cap; i++)
			new_obj(heap, 0, 0);
	}
	return heap;
}

static int fail_run(enum fail_op op, struct objheap *heap, const uint64_t t[2],
		    int arm_fd, unsigned int nth, uint32_t *created,
		    uint32_t *fired)
{
	/*
	 * Above 512 bytes, so a large object; within a page, so kvmalloc()
	 * has no vmalloc() fallback to absorb an injected failure.
	 */
	static char payload[3000];
	struct objheap_batch_buf *b = NULL;
	uint64_t h;
	int ret, i;

	*created = 0;
	*fired = 0;
	if (op == FAIL_BATCH) {
		/* Small objects, then large ones (above 512 bytes). */
		if (objheap_batch_alloc(&b, FAIL_BATCH_LEN))
			return -EIO;
		for (i = 0; i < FAIL_BATCH_LEN; i++)
			objheap_batch_new(b, 1, 0, 2, NULL, 100 * i, t);
	}
	if (arm_fd >= 0)
		fail_nth_write(arm_fd, nth);
	switch (op) {
	case FAIL_NEW_LARGE:
		ret = objheap_new(heap, 1, 0, 2, payload, sizeof(payload), t, &h);
		break;
	case FAIL_NEW_TABLE_GROWS:
		ret = objheap_new(heap, 1, 0, 2, NULL, 8, t, &h);
		break;
	case FAIL_INTERN:
		ret = objheap_intern(heap, 1, 0, payload, 1000, &h);
		break;
	default:
		ret = objheap_batch_submit(heap, b, 0);
		break;
	}
	/* Whether the failure was injected, read before disarming. */
	if (arm_fd >= 0) {
		*fired = fail_nth_fired(arm_fd);
		fail_nth_write(arm_fd, 0);
	}
	if (op == FAIL_BATCH && ret >= 0) {
		for (i = 0; i < FAIL_BATCH_LEN && !objheap_batch_result(b, i); i++)
			(*created)++;
		ret = ret ? objheap_batch_result(b, i) : 0;
	} else if (!ret) {
		*created = 1;
	}
	objheap_batch_free(b);
	return ret;
}

/*
 * Run @op on a fresh heap with its @nth allocation failed, and check that
 * a failed command unwound.  Return: the command's result; *@fired tells
 * whether the failure was injected at all.
 */
static int fail_once(struct __test_metadata *_metadata, enum fail_op op,
		     int nth_fd, unsigned int nth, uint32_t *fired)
{
	struct fail_state before, after;
	struct objheap *heap;
	uint32_t created;
	uint64_t t[2];
	int ret;

	heap = fail_prepare(op, t);
	if (!heap)
		return -EIO;
	fail_snapshot(heap, t, &before);
	if (nth_fd >= 0) {
		ret = fail_run(op, heap, t, nth_fd, nth, &created, fired);
	} else {
		uint32_t left = 1;

		if (raw_fail_nth(objheap_fd(heap), nth, NULL))
			ret = -EIO;
		else
			ret = fail_run(op, heap, t, -1, 0, &created, fired);
		if (raw_fail_nth(objheap_fd(heap), 0, &left))
			ret = -EIO;
		*fired = !left;
	}
	fail_snapshot(heap, t, &after);
	if (ret == -ENOMEM) {
		EXPECT_TRUE(*fired);
		/* A batch keeps what succeeded before its failing entry: each
		 * object it made holds one reference to each target. */
		EXPECT_EQ(before.live + created, after.live);
		EXPECT_EQ(before.refs[0] + created, after.refs[0]);
		EXPECT_EQ(before.refs[1] + created, after.refs[1]);
		if (!created)
			EXPECT_EQ(before.object_bytes, after.object_bytes);
		EXPECT_LE(before.charged, after.charged);
	}
	CHECK_AND_CLOSE_HEAP(heap);
	return ret;
}

/*
 * Fail each allocation of @op in turn, from the first until the command
 * makes no more; *@failures counts those that failed the command rather
 * than being absorbed (by a fallback, or by the debug kernel's own
 * allocations: kmemleak's records, KASAN's stack depot, new slabs while
 * KASAN quarantines freed objects).  Those of the debug kernel come and
 * go from one run to the next, moving the command's own by a place or
 * two, so a place where a failure was absorbed is tried again, up to
 * FAIL_TRIES times; and so is a place the run did not reach, since a run
 * without one of them makes one allocation fewer, and ending there would
 * leave the command's last allocation untried.
 */
#define FAIL_TRIES	4

static void fail_each(struct __test_metadata *_metadata, enum fail_op op,
		      int nth_fd, uint32_t *failures)
{
	unsigned int nth, try;
	uint32_t fired = 0;
	int ret = 0;

	*failures = 0;
	for (nth = 1; nth < 10000; nth++) {
		for (try = 0; try < FAIL_TRIES; try++) {
			ret = fail_once(_metadata, op, nth_fd, nth, &fired);
			if (ret)
				break;
		}
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			(*failures)++;
		} else if (!fired) {
			break;
		}
	}
	TH_LOG("op %d: %u failures in %u places", op, *failures, nth - 1);
	ASSERT_EQ(0, ret);
	ASSERT_FALSE(fired);
}

TEST_F_TIMEOUT(obj, commands_unwind_every_failed_raw_allocation, 300)
{
	uint32_t failures[NR_FAIL_OPS];
	int op;

	for (op = 0; op < NR_FAIL_OPS; op++)
		fail_each(_metadata, op, -1, &failures[op]);
	/* Each needs at least its first arena page or large allocation. */
	EXPECT_LE(1, failures[FAIL_NEW_LARGE]);
	EXPECT_LE(1, failures[FAIL_BATCH]);
}

/* Twenty minutes of the guest's clock: the debug kernel under TCG. */
TEST_F_TIMEOUT(obj, commands_unwind_every_failed_kernel_allocation, 1200)
{
	uint32_t failures[NR_FAIL_OPS];
	int op, nth_fd;

	nth_fd = fail_nth_open();
	if (nth_fd < 0)
		TEST_SKIP("no /proc/thread-self/fail-nth: kernel without fault injection");
	for (op = 0; op < NR_FAIL_OPS; op++)
		fail_each(_metadata, op, nth_fd, &failures[op]);
	close(nth_fd);
	/*
	 * The large object; the table's new node and page; the intern's
	 * copy, its table's top, node and page, and its object; the batch's
	 * buffers and objects.
	 */
	EXPECT_LE(1, failures[FAIL_NEW_LARGE]);
	EXPECT_LE(2, failures[FAIL_NEW_TABLE_GROWS]);
	EXPECT_LE(5, failures[FAIL_INTERN]);
	EXPECT_LE(3, failures[FAIL_BATCH]);
}

TEST_F(obj, table_growth_over_the_limit_fails_cleanly)
{
	struct objheap_stats st;
	uint32_t cap, i;
	uint64_t t = new_obj(self->heap, 0, 0), h;

	cap = objheap_test_objects(self->fd).objects.out_table_capacity;
	for (i = 1; i < cap; i++)
		ASSERT_NE(0, new_obj(self->heap, 1, 0));
	ASSERT_EQ(0, objheap_stats(self->heap, &st, NULL, 0));
	/* Room for one more object in its pool, not for the table's doubling. */
	ASSERT_EQ(0, objheap_set_limit(self->heap, st.out_bytes_held + 256));
	EXPECT_EQ(-ENOMEM, objheap_new(self->heap, 1, 0, 1, NULL, 0, &t, &h));
	EXPECT_LIVE(cap);
	EXPECT_EQ(cap, objheap_test_objects(self->fd).objects.out_table_capacity);
	EXPECT_EQ(1, refcnt(self->heap, t));
	ASSERT_EQ(0, objheap_stats(self->heap, &st, NULL, 0));
	EXPECT_GE(st.out_limit, st.out_bytes_in_use);
	/* With room, the same creation grows the table. */
	ASSERT_EQ(0, objheap_set_limit(self->heap, 256ULL << 20));
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 0, &t, &h));
	EXPECT_EQ(2 * cap, objheap_test_objects(self->fd).objects.out_table_capacity);
	EXPECT_EQ(2, refcnt(self->heap, t));
	EXPECT_LIVE(cap + 1);
}

TEST_HARNESS_MAIN
