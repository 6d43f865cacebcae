// SPDX-License-Identifier: GPL-2.0
/*
 * Every command against failing allocations, one table of cases run by
 * one loop, as iommufd_fail_nth does: the n-th allocation of a command
 * fails, for n = 1, 2, ... until the command no longer reaches an n-th
 * allocation.  Two sources of failure:
 *
 *  - the kernel's fault injection (the debug kernel): the n-th slab or
 *    page allocation of the system call, through /proc/thread-self/fail-nth
 *    (the VM's /init lets failslab and fail_page_alloc fail sleeping
 *    allocations);
 *  - the allocator's own (every kernel, test interface): the n-th raw
 *    allocation (arena, arena page, large object) of the heap, through
 *    OBJHEAP_TEST_OP_ALLOC_FAIL_NTH.
 *
 * Each case says what its command may do when an allocation fails:
 *
 *  FN_NO_ALLOC  it allocates nothing, so the n = 1 failure never fires;
 *  FN_ENOMEM    it fails with ENOMEM and leaves the heap as it was: the
 *               same live, tracked and interned objects, the same counts
 *               of the objects it names, the same weak references, queued
 *               and lost events and collector counts, the objects' bytes
 *               given back (tables that grew may stay grown);
 *  FN_SURVIVES  it succeeds anyway, because what it could not allocate
 *               was an event, which is then counted as lost: its verify
 *               step checks that the records read and the losses add up.
 *
 * The sharing commands run between the heap's own attachment and others
 * that setup makes (c->att[]), driven through their descriptors; fn_run()
 * closes those before the heap's own file, so that the heap goes with it.
 *
 * The payload commands (DOC: Payloads) are RESIZE of a resizable object
 * growing and shrinking, and of a mappable one growing by pages, SEAL
 * alone and with OBJHEAP_SEAL_INTERN (a new value and one interned
 * before), MAP_OFFSET, and mmap() of a mappable payload: a failed mmap()
 * must leave no hold on the object, which then dies with its handle.
 *
 * Tracing (DOC: Tracing allocations): NEW while the heap traces, in a
 * fresh heap (where it takes the pool and its array of traces), for a
 * new pair and as a large object (whose trace ends its block), and
 * starting tracing and taking a snapshot.  A NEW that fails must leave
 * the totals of OBJHEAP_TRACE_CTL and the rows as they were.
 *
 * The NEW, INTERN and BATCH commands have their own loops in
 * objheap_object.c.  After every attempt the allocator's checker passes,
 * and once the heap is closed the module holds no page and no large
 * allocation; kmemleak, on the debug kernel, sees the rest.
 */
/* Offsets are 64 bits wide, in a 32-bit program too (mmap2's pgoff). */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include <libobjheap.h>

#define FN_HANDLES	6
#define FN_LIST		16
#define FN_EVENTS	16
#define FN_MAX_NTH	1000
#define FN_ATTACH	3
/*
 * Above 512 bytes, so a large object; within a page, so that kvmalloc()
 * has no vmalloc() fallback to absorb a failure.
 */
#define FN_LARGE	1000

enum fn_kind { FN_NO_ALLOC, FN_ENOMEM, FN_SURVIVES };

#define EXPECT_LIVE_FD(fd, n)						\
	EXPECT_EQ((uint32_t)(n), objheap_test_objects(fd).objects.out_live)

/* What a case's steps share: filled by setup, used by act and verify. */
struct fn_ctx {
	struct objheap *heap;
	int fd;
	uint64_t h[FN_HANDLES];		/* the objects setup made, or 0 */
	uint64_t out;			/* a handle act got */
	uint64_t list[FN_LIST];		/* act's list of handles */
	uint32_t count;
	struct objheap_event ev[FN_EVENTS];
	int other_fd;			/* a second file act opened */
	long expect;			/* what verify expects, set by setup */
	/* Other attachments of the heap setup made (-1: none), their ids. */
	int att[FN_ATTACH];
	uint32_t att_id[FN_ATTACH];
	uint64_t att_h[FN_ATTACH];	/* a handle each holds, or 0 */
	char name[16];			/* the name the name cases publish */
	uint64_t off;			/* h[0]'s offset, for mmap() */
	void *map;			/* act mapped it; fn_run() unmaps */
	size_t map_len;
	struct objheap_trace_ctl trace;	/* the totals after setup */
};

struct fn_case {
	const char *name;
	enum fn_kind kind;
	/* Failures the kernel's fault injection must cause, at least. */
	unsigned int min_failures;
	void (*setup)(struct __test_metadata *_metadata, struct fn_ctx *c);
	/* The command under test: >= 0 or -errno. */
	int (*act)(struct fn_ctx *c);
	/* After a success, or (FN_ENOMEM) after a failure: what is special. */
	void (*verify)(struct __test_metadata *_metadata, struct fn_ctx *c,
		       int ret);
};

/* What must not change when a command fails. */
struct fn_state {
	uint32_t live, containers, interned;
	uint64_t object_bytes;		/* bytes in use less the tables' */
	uint32_t refcnt[FN_HANDLES], user_refs[FN_HANDLES];
	int weakrefs[FN_HANDLES];
	uint32_t gc_count[OBJHEAP_GC_GENERATIONS];
	uint64_t queued, lost;
};

static void fn_snapshot(struct fn_ctx *c, struct fn_state *st)
{
	struct objheap_test_cmd objs = objheap_test_objects(c->fd);
	struct objheap_event_ctl ev;
	struct objheap_info info;
	struct objheap_stats s;
	int i;

	memset(st, 0xff, sizeof(*st));
	st->live = objs.objects.out_live;
	st->containers = objs.objects.out_containers;
	st->interned = objs.objects.out_interned;
	if (!objheap_stats(c->heap, &s, NULL, 0))
		st->object_bytes = s.out_bytes_in_use - s.out_bytes_charged;
	for (i = 0; i < FN_HANDLES && c->h[i]; i++) {
		if (!objheap_info(c->heap, c->h[i], &info)) {
			st->refcnt[i] = info.out_refcnt;
			st->user_refs[i] = info.out_user_refs;
		}
		st->weakrefs[i] = objheap_getweakrefcount(c->heap, c->h[i]);
	}
	objheap_gc_get_count(c->heap, st->gc_count);
	if (!objheap_event_ctl(c->heap, 0, 0, &ev)) {
		st->queued = ev.out_queued;
		st->lost = ev.out_lost;
	}
}

static void fn_expect_unchanged(struct __test_metadata *_metadata,
				const struct fn_state *a,
				const struct fn_state *b)
{
	int i;

	EXPECT_EQ(a->live, b->live);
	EXPECT_EQ(a->containers, b->containers);
	EXPECT_EQ(a->interned, b->interned);
	EXPECT_EQ(a->object_bytes, b->object_bytes);
	for (i = 0; i < FN_HANDLES; i++) {
		EXPECT_EQ(a->refcnt[i], b->refcnt[i]);
		EXPECT_EQ(a->user_refs[i], b->user_refs[i]);
		EXPECT_EQ(a->weakrefs[i], b->weakrefs[i]);
	}
	for (i = 0; i < OBJHEAP_GC_GENERATIONS; i++)
		EXPECT_EQ(a->gc_count[i], b->gc_count[i]);
	EXPECT_EQ(a->queued, b->queued);
	EXPECT_EQ(a->lost, b->lost);
}

struct fn_result {
	unsigned int calls, failures, absorbed;
};

/*
 * Run @fc with its n-th allocation failing, n = 1, 2, ..., each time in a
 * fresh heap: with the kernel's fault injection when @nth_fd is open,
 * with the allocator's own otherwise.  The enumeration ends at the first
 * n the command does not reach, FN_SHORT_RUNS times in a row: the debug
 * kernel's own allocations (KASAN's stack depot, kmemleak's records)
 * come and go between runs, and a run without one would otherwise end it
 * before the command's last allocation was tried.
 */
#define FN_SHORT_RUNS	3

static void fn_run(struct __test_metadata *_metadata, const struct fn_case *fc,
		   int nth_fd, struct fn_result *res)
{
	struct fn_state before, after;
	unsigned int nth, short_runs = 0;
	int ret = 0, fired = 0, passed;

	memset(res, 0, sizeof(*res));
	for (nth = 1; nth < FN_MAX_NTH; nth++) {
		struct fn_ctx c = { .other_fd = -1, .name = "fn-root" };
		uint32_t left = 1;
		int i;

		for (i = 0; i < FN_ATTACH; i++)
			c.att[i] = -1;
		ASSERT_EQ(0, objheap_open(&c.heap));
		c.fd = objheap_fd(c.heap);
		/* Collections happen when a case asks for one. */
		ASSERT_EQ(0, objheap_gc_disable(c.heap));
		fc->setup(_metadata, &c);
		/* Touch the buffers: a page fault allocates too. */
		memset(c.list, 0, sizeof(c.list));
		memset(c.ev, 0, sizeof(c.ev));
		fn_snapshot(&c, &before);

		passed = _metadata->passed;
		if (nth_fd >= 0) {
			ASSERT_EQ(0, fail_nth_write(nth_fd, nth));
			ret = fc->act(&c);
			fired = fail_nth_fired(nth_fd);
			ASSERT_EQ(0, fail_nth_write(nth_fd, 0));
		} else {
			ASSERT_EQ(0, raw_fail_nth(c.fd, nth, NULL));
			ret = fc->act(&c);
			ASSERT_EQ(0, raw_fail_nth(c.fd, 0, &left));
			fired = !left;
		}
		res->calls++;

		if (fc->kind == FN_NO_ALLOC)
			EXPECT_FALSE(fired);
		if (ret < 0 && fc->kind == FN_ENOMEM) {
			EXPECT_EQ(-ENOMEM, ret);
			EXPECT_TRUE(fired);
			fn_snapshot(&c, &after);
			fn_expect_unchanged(_metadata, &before, &after);
			res->failures++;
		} else {
			EXPECT_LE(0, ret);
			if (fired)
				res->absorbed++;
		}
		if (fc->verify)
			fc->verify(_metadata, &c, ret);
		if (c.map)
			munmap(c.map, c.map_len);
		if (c.other_fd >= 0)
			close(c.other_fd);
		/* The heap goes with its last attachment: the heap's own. */
		for (i = 0; i < FN_ATTACH; i++)
			if (c.att[i] >= 0)
				close(c.att[i]);
		CHECK_AND_CLOSE_HEAP(c.heap);
		if (passed && !_metadata->passed)
			TH_LOG("%s: %s fail-nth %u: returned %d, %s",
			       fc->name, nth_fd >= 0 ? "kernel" : "raw", nth,
			       ret, fired ? "fired" : "did not fire");
		if (!_metadata->passed)
			break;
		if (fired)
			short_runs = 0;
		else if (++short_runs < FN_SHORT_RUNS)
			nth--;		/* the same place again */
		else
			break;
	}
	ASSERT_GT(FN_MAX_NTH, nth);
}

static uint64_t fn_node(struct objheap *heap, uint32_t nslots, uint32_t len)
{
	uint64_t h = 0;

	return objheap_new(heap, 7, 0, nslots, NULL, len, NULL, &h) ? 0 : h;
}

static uint32_t fn_refcnt(struct objheap *heap, uint64_t h)
{
	struct objheap_info info;

	return objheap_info(heap, h, &info) ? 0 : info.out_refcnt;
}

/*
 * Read every pending record of the attachment @fd (non-blocking) into
 * c->ev; the records, or -errno.
 */
static int fn_read_fd(struct fn_ctx *c, int fd)
{
	ssize_t len = read(fd, c->ev, sizeof(c->ev));

	if (len < 0)
		return errno == EAGAIN ? 0 : -errno;
	return len / sizeof(c->ev[0]);
}

/* The same for the heap's own attachment. */
static int fn_read_events(struct fn_ctx *c)
{
	return fn_read_fd(c, c->fd);
}

/*
 * Every event either read or counted as lost: @n records of @types (a
 * mask of 1 << type) in all, the losses included.
 */
static void fn_expect_events(struct __test_metadata *_metadata,
			     struct fn_ctx *c, unsigned int n, uint32_t types)
{
	int i, got = fn_read_events(c);
	uint64_t seen = 0;

	ASSERT_LE(0, got);
	for (i = 0; i < got; i++) {
		seen += c->ev[i].lost;
		if (c->ev[i].type == OBJHEAP_EVENT_LOST)
			continue;
		EXPECT_NE(0, types & (1u << c->ev[i].type));
		seen++;
	}
	EXPECT_EQ(n, seen);
	/* Nothing more. */
	EXPECT_EQ(0, fn_read_events(c));
}

/* ---- WEAKREF_NEW and its finalizer flavour ---------------------------- */

/* A large target: the weak reference needs the heap's first arena. */
static void setup_large_target(struct __test_metadata *_metadata,
			       struct fn_ctx *c)
{
	c->h[0] = fn_node(c->heap, 0, FN_LARGE);
	ASSERT_NE(0, c->h[0]);
}

static void setup_target(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	c->h[0] = fn_node(c->heap, 1, 8);
	ASSERT_NE(0, c->h[0]);
}

static int act_weakref_new(struct fn_ctx *c)
{
	return objheap_weakref_new(c->heap, c->h[0], 5,
				   OBJHEAP_WEAKREF_CALLBACK, &c->out);
}

static void verify_weakref_new(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	uint64_t got = 0;

	EXPECT_EQ(ret ? 0 : 1, objheap_getweakrefcount(c->heap, c->h[0]));
	if (ret)
		return;
	EXPECT_EQ(1, objheap_weakref_get(c->heap, c->out, &got));
	EXPECT_EQ(c->h[0], got);
}

static int act_finalize_new(struct fn_ctx *c)
{
	return objheap_finalize_new(c->heap, c->h[0], 6, &c->out);
}

static void verify_finalize_new(struct __test_metadata *_metadata,
				struct fn_ctx *c, int ret)
{
	EXPECT_EQ(ret ? 0 : 1, objheap_getweakrefcount(c->heap, c->h[0]));
	if (ret)
		return;
	EXPECT_EQ(1, objheap_finalize_alive(c->heap, c->out));
	/* The heap's hold and the handle's. */
	EXPECT_EQ(2, fn_refcnt(c->heap, c->out));
}

/*
 * As many targets with a weak reference each as the weak table has
 * chains (a page of them: 8 bytes each), and one more target without:
 * its first weak reference adds a chain, on a new page of chains.
 * Failing to grow only lengthens the chains.
 */
static void setup_weak_table_full(struct __test_metadata *_metadata,
				  struct fn_ctx *c)
{
	unsigned int i, n = getpagesize() / 8;
	uint64_t t, w;

	for (i = 0; i < n; i++) {
		t = fn_node(c->heap, 1, 8);
		ASSERT_NE(0, t);
		ASSERT_EQ(0, objheap_weakref_new(c->heap, t, i, 0, &w));
	}
	setup_target(_metadata, c);
}

/* ---- STATS ------------------------------------------------------------ */

static int act_stats(struct fn_ctx *c)
{
	struct objheap_stats s;
	int ret = objheap_stats(c->heap, &s, NULL, 0);

	c->expect = s.out_bytes_in_use;
	return ret;
}

static void verify_stats(struct __test_metadata *_metadata, struct fn_ctx *c,
			 int ret)
{
	if (!ret)
		EXPECT_LT(0, c->expect);
}

/* ---- INTERN of what is interned already: only its copy of the data --- */

static char fn_payload[FN_LARGE];

static void setup_interned(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	ASSERT_EQ(0, objheap_intern(c->heap, 3, 0, fn_payload, FN_LARGE,
				    &c->h[0]));
}

static int act_intern_again(struct fn_ctx *c)
{
	return objheap_intern(c->heap, 3, 0, fn_payload, FN_LARGE, &c->out);
}

static void verify_intern_again(struct __test_metadata *_metadata,
				struct fn_ctx *c, int ret)
{
	if (ret)
		return;
	EXPECT_EQ(c->h[0], c->out);
	EXPECT_EQ(2, fn_refcnt(c->heap, c->h[0]));
}

/* ---- open() of the device --------------------------------------------- */

/* The entries of directory @path, dot files aside, or -1. */
static int fn_count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int fn_heap_dirs(void)
{
	return fn_count_dir("/sys/kernel/debug/objheap");
}

static void setup_nothing(struct __test_metadata *_metadata,
			  struct fn_ctx *c)
{
	ASSERT_NE(NULL, c->heap);
	c->expect = fn_heap_dirs();
}

static int act_open(struct fn_ctx *c)
{
	c->other_fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
	return c->other_fd < 0 ? -errno : 0;
}

static void verify_open(struct __test_metadata *_metadata, struct fn_ctx *c,
			int ret)
{
	int dirs = fn_heap_dirs();

	if (c->expect < 0)
		return;
	/*
	 * A heap that failed to open leaves no debugfs directory behind; one
	 * that opened has its directory, unless debugfs could not allocate
	 * it (the heap works without).
	 */
	if (ret) {
		EXPECT_EQ(c->expect, dirs);
	} else {
		EXPECT_LE(c->expect, dirs);
		EXPECT_GE(c->expect + 1, dirs);
	}
}

/* ---- deaths: the event queue grows ----------------------------------- */

/*
 * h[0] with a weak reference that asks for its event (h[1], kept) and a
 * finalizer (released: the heap holds it).
 */
static void setup_watched(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	uint64_t fin;

	setup_target(_metadata, c);
	ASSERT_EQ(0, objheap_weakref_new(c->heap, c->h[0], 1,
					 OBJHEAP_WEAKREF_CALLBACK, &c->h[1]));
	ASSERT_EQ(0, objheap_finalize_new(c->heap, c->h[0], 2, &fin));
	ASSERT_EQ(0, objheap_release(c->heap, fin));
}

static int act_release_target(struct fn_ctx *c)
{
	return objheap_release(c->heap, c->h[0]);
}

static void verify_watched_died(struct __test_metadata *_metadata,
				struct fn_ctx *c, int ret)
{
	uint64_t got = 1;

	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, objheap_weakref_get(c->heap, c->h[1], &got));
	EXPECT_EQ(0, got);
	EXPECT_LIVE_FD(c->fd, 1);
	fn_expect_events(_metadata, c, 2, 1u << OBJHEAP_EVENT_WEAKREF |
					  1u << OBJHEAP_EVENT_FINALIZER);
}

/* PEP 442: an object that asks to be handed out once, when it dies. */
static void setup_finalizable(struct __test_metadata *_metadata,
			      struct fn_ctx *c)
{
	ASSERT_EQ(0, objheap_new(c->heap, 9, OBJHEAP_OBJ_FINALIZE, 0, NULL, 8,
				 NULL, &c->h[0]));
}

static void verify_finalized(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int ret)
{
	int got = fn_read_events(c);

	EXPECT_EQ(0, ret);
	ASSERT_EQ(1, got);
	if (c->ev[0].type == OBJHEAP_EVENT_FINALIZE) {
		/* Handed out: alive again, with the event's reference. */
		EXPECT_EQ(c->h[0], c->ev[0].handle);
		EXPECT_EQ(1, fn_refcnt(c->heap, c->h[0]));
		EXPECT_LIVE_FD(c->fd, 1);
	} else {
		/* The event was lost: the object went. */
		EXPECT_EQ(OBJHEAP_EVENT_LOST, c->ev[0].type);
		EXPECT_EQ(1, c->ev[0].lost);
		EXPECT_LIVE_FD(c->fd, 0);
	}
}

/* ---- GC_COLLECT: a collection never fails ----------------------------- */

/*
 * Two cycles, h[0] <-> a and h[2] <-> b, that only the collector can
 * free; h[0] has a finalizer, h[2] a weak reference that asks for its
 * event (h[1], kept), and the collection's own events are on: four
 * events.
 */
static void setup_cycles(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	uint64_t a = fn_node(c->heap, 1, 8), b = fn_node(c->heap, 1, 8), fin;

	c->h[0] = fn_node(c->heap, 1, 8);
	c->h[2] = fn_node(c->heap, 1, 8);
	ASSERT_EQ(0, objheap_set_slot(c->heap, c->h[0], 0, a));
	ASSERT_EQ(0, objheap_set_slot(c->heap, a, 0, c->h[0]));
	ASSERT_EQ(0, objheap_set_slot(c->heap, c->h[2], 0, b));
	ASSERT_EQ(0, objheap_set_slot(c->heap, b, 0, c->h[2]));
	ASSERT_EQ(0, objheap_finalize_new(c->heap, c->h[0], 1, &fin));
	ASSERT_EQ(0, objheap_release(c->heap, fin));
	ASSERT_EQ(0, objheap_weakref_new(c->heap, c->h[2], 2,
					 OBJHEAP_WEAKREF_CALLBACK, &c->h[1]));
	ASSERT_EQ(0, objheap_event_ctl(c->heap, OBJHEAP_EVENT_CTL_SET_MASK,
				       OBJHEAP_EVENTS_GC, NULL));
	ASSERT_EQ(0, objheap_release(c->heap, a));
	ASSERT_EQ(0, objheap_release(c->heap, b));
	ASSERT_EQ(0, objheap_release(c->heap, c->h[0]));
	ASSERT_EQ(0, objheap_release(c->heap, c->h[2]));
	c->h[0] = c->h[1];
	c->h[1] = 0;
	c->h[2] = 0;
}

/* Garbage cycles nobody watches: a collection that queues no event. */
static void setup_silent_cycles(struct __test_metadata *_metadata,
				struct fn_ctx *c)
{
	uint64_t h[4];
	int i;

	for (i = 0; i < 4; i++) {
		h[i] = fn_node(c->heap, 1, 8);
		ASSERT_NE(0, h[i]);
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, objheap_set_slot(c->heap, h[i], 0, h[i ^ 1]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, objheap_release(c->heap, h[i]));
	c->h[0] = fn_node(c->heap, 1, 8);
}

static void verify_collected_silently(struct __test_metadata *_metadata,
				      struct fn_ctx *c, int ret)
{
	EXPECT_EQ(4, ret);
	EXPECT_LIVE_FD(c->fd, 1);
	EXPECT_EQ(0, fn_read_events(c));
}

/* The same, with the heap's limit at what it uses: no event can queue. */
static void setup_cycles_at_limit(struct __test_metadata *_metadata,
				  struct fn_ctx *c)
{
	struct objheap_stats s;

	setup_cycles(_metadata, c);
	ASSERT_EQ(0, objheap_stats(c->heap, &s, NULL, 0));
	ASSERT_EQ(0, objheap_set_limit(c->heap, s.out_bytes_in_use));
}

static int act_collect(struct fn_ctx *c)
{
	return objheap_gc_collect(c->heap, OBJHEAP_GC_GENERATIONS - 1, NULL);
}

static void verify_collected(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int ret)
{
	uint64_t got = 1;

	EXPECT_EQ(4, ret);
	/* Only the weak reference is left, cleared. */
	EXPECT_LIVE_FD(c->fd, 1);
	EXPECT_EQ(0, objheap_weakref_get(c->heap, c->h[0], &got));
	EXPECT_EQ(0, got);
	fn_expect_events(_metadata, c, 4, 1u << OBJHEAP_EVENT_GC_START |
					  1u << OBJHEAP_EVENT_GC_STOP |
					  1u << OBJHEAP_EVENT_WEAKREF |
					  1u << OBJHEAP_EVENT_FINALIZER);
}

static void verify_collected_all_lost(struct __test_metadata *_metadata,
				      struct fn_ctx *c, int ret)
{
	verify_collected(_metadata, c, ret);
	/* One OBJHEAP_EVENT_LOST record for all four. */
	EXPECT_EQ(OBJHEAP_EVENT_LOST, c->ev[0].type);
	EXPECT_EQ(4, c->ev[0].lost);
}

/* ---- sharing: attachments, sends and names ---------------------------- */

/*
 * The other attachments are driven through their descriptors with raw
 * ioctls (libobjheap wraps only the heap it opened), as in
 * objheap_share.c.  An attachment's handle to an object is an entry in
 * its table (a page of entries at first, doubling); the entries of an
 * object other than its home's are listed in its "holders" record
 * (kmod/attach.c), of room for 2, then 4, ..., kept in a hash that is set
 * up on the heap's first such entry and never fails to be (it retries
 * with __GFP_NOFAIL): a failure there is absorbed.
 */

static int fn_ioctl(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) ? -errno : 0;
}

/* Attachment @i, made from the heap's file, non-blocking like it. */
static void fn_attach(struct __test_metadata *_metadata, struct fn_ctx *c,
		      int i)
{
	struct objheap_attach a = { .size = sizeof(a) };
	int fl;

	ASSERT_EQ(0, fn_ioctl(c->fd, OBJHEAP_ATTACH, &a));
	c->att[i] = a.out_fd;
	c->att_id[i] = a.out_id;
	fl = fcntl(c->att[i], F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(0, fcntl(c->att[i], F_SETFL, fl | O_NONBLOCK));
}

static int fn_att_info(int fd, uint32_t id, struct objheap_attach_info *ai)
{
	*ai = (struct objheap_attach_info){ .size = sizeof(*ai), .id = id };
	return fn_ioctl(fd, OBJHEAP_ATTACH_INFO, ai);
}

/* The references attachment @i holds, as it sees them; ~0 on error. */
static uint64_t fn_att_refs(struct fn_ctx *c, int i)
{
	struct objheap_attach_info ai;

	return fn_att_info(c->att[i], 0, &ai) ? ~0ULL : ai.out_refs;
}

/* The heap's attachments, as its own file sees them; 0 on error. */
static uint32_t fn_attached(struct fn_ctx *c)
{
	struct objheap_attach_info ai;

	return fn_att_info(c->fd, 0, &ai) ? 0 : ai.out_attached;
}

/* OBJHEAP_INFO through attachment @fd's handle @h. */
static int fn_fd_info(int fd, uint64_t h, struct objheap_info *info)
{
	*info = (struct objheap_info){ .size = sizeof(*info), .handle = h };
	return fn_ioctl(fd, OBJHEAP_INFO, info);
}

/* The references attachment @fd holds through @h; ~0 on error. */
static uint32_t fn_fd_user_refs(int fd, uint64_t h)
{
	struct objheap_info info;

	return fn_fd_info(fd, h, &info) ? ~0U : info.out_user_refs;
}

static int fn_fd_get_slot(int fd, uint64_t h, uint32_t index, uint64_t *outp)
{
	struct objheap_slot s = { .size = sizeof(s), .handle = h, .index = index };
	int ret = fn_ioctl(fd, OBJHEAP_GET_SLOT, &s);

	if (!ret)
		*outp = s.out_handle;
	return ret;
}

static int fn_fd_lookup(struct fn_ctx *c, int fd, uint64_t *outp)
{
	struct objheap_name n = {
		.size = sizeof(n), .name_uptr = (uintptr_t)c->name,
		.name_len = strlen(c->name),
	};
	int ret = fn_ioctl(fd, OBJHEAP_LOOKUP, &n);

	if (!ret)
		*outp = n.out_handle;
	return ret;
}

/* Attachment @fd's queue: records queued and events ever lost. */
static void fn_fd_queue(struct __test_metadata *_metadata, int fd,
			uint64_t *queued, uint64_t *lost)
{
	struct objheap_event_ctl ev = { .size = sizeof(ev) };

	ASSERT_EQ(0, fn_ioctl(fd, OBJHEAP_EVENT_CTL, &ev));
	*queued = ev.out_queued;
	*lost = ev.out_lost;
}

/*
 * Attachment @i takes the one record pending for it, the RECEIVED of @h
 * (a handle of the heap's own file) sent with @cookie: the handle it got.
 */
static uint64_t fn_receive(struct __test_metadata *_metadata, struct fn_ctx *c,
			   int i, uint64_t cookie)
{
	ASSERT_EQ(1, fn_read_fd(c, c->att[i]));
	ASSERT_EQ(OBJHEAP_EVENT_RECEIVED, c->ev[0].type);
	EXPECT_EQ(0, c->ev[0].lost);
	EXPECT_EQ(cookie, c->ev[0].cookie);
	EXPECT_NE(0, c->ev[0].handle);
	return c->ev[0].handle;
}

/* Send h[@k] from the heap's file to attachment @i and take it there. */
static uint64_t fn_send_take(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int k, int i)
{
	EXPECT_EQ(0, objheap_send(c->heap, c->h[k], c->att_id[i], 100 + i));
	return fn_receive(_metadata, c, i, 100 + i);
}

/* ---- ATTACH: the attachment, an id, the file and its descriptor ------ */

/* The descriptors this process has open. */
static int fn_fd_count(void)
{
	return fn_count_dir("/proc/self/fd");
}

static void setup_attach(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	setup_target(_metadata, c);
	c->expect = fn_fd_count();
	ASSERT_LT(0, c->expect);
	c->count = fn_attached(c);
	ASSERT_EQ(1, c->count);
}

static int act_attach(struct fn_ctx *c)
{
	uint32_t id = 0;
	int ret = objheap_attach(c->heap, 0, &c->other_fd, &id);

	c->out = id;
	return ret;
}

static void verify_attach(struct __test_metadata *_metadata, struct fn_ctx *c,
			  int ret)
{
	struct objheap_attach_info ai;

	if (ret) {
		/* No descriptor left open, no attachment left behind. */
		EXPECT_EQ(-1, c->other_fd);
		EXPECT_EQ(c->expect, fn_fd_count());
		EXPECT_EQ(c->count, fn_attached(c));
		return;
	}
	ASSERT_LE(0, c->other_fd);
	EXPECT_EQ(c->expect + 1, fn_fd_count());
	EXPECT_EQ(c->count + 1, fn_attached(c));
	/* The new attachment, seen from both files: empty. */
	ASSERT_EQ(0, fn_att_info(c->fd, c->out, &ai));
	EXPECT_EQ(c->out, ai.out_id);
	EXPECT_EQ(0, ai.out_handles);
	EXPECT_EQ(0, ai.out_refs);
	ASSERT_EQ(0, fn_att_info(c->other_fd, 0, &ai));
	EXPECT_EQ(c->out, ai.out_id);
	/* Closed, it is gone; the heap's file is told. */
	close(c->other_fd);
	c->other_fd = -1;
	EXPECT_EQ(c->expect, fn_fd_count());
	EXPECT_EQ(c->count, fn_attached(c));
	EXPECT_EQ(-ESRCH, fn_att_info(c->fd, c->out, &ai));
	fn_expect_events(_metadata, c, 1, 1u << OBJHEAP_EVENT_DETACHED);
	EXPECT_EQ(1, fn_refcnt(c->heap, c->h[0]));
}

/* ---- ATTACH_INFO ------------------------------------------------------ */

/* h[0] sent to attachment 0, which holds it once. */
static void setup_sent(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	setup_target(_metadata, c);
	fn_attach(_metadata, c, 0);
	c->att_h[0] = fn_send_take(_metadata, c, 0, 0);
	c->expect = fn_att_refs(c, 0);
	ASSERT_EQ(1, c->expect);
}

static int act_attach_info(struct fn_ctx *c)
{
	struct objheap_attach_info ai;
	int ret = objheap_attach_info(c->heap, c->att_id[0], &ai);

	c->out = ai.out_refs;
	c->count = ai.out_attached;
	return ret;
}

static void verify_attach_info(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	EXPECT_EQ(0, ret);
	EXPECT_EQ(1, c->out);
	EXPECT_EQ(2, c->count);
}

/* ---- SEND ------------------------------------------------------------- */

/*
 * To a new attachment, with no entry for h[0] yet: its table (a page of
 * entries), the heap's hash of holders (set up on its first use, never
 * failing), h[0]'s holders record, then the receiver's first event chunk.
 * A failure at the last leaves the receiver an entry for h[0] that holds
 * no reference: as a failed GET_SLOT may (oh_respond_handle()).
 */
static void setup_receiver(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	setup_target(_metadata, c);
	fn_attach(_metadata, c, 0);
	c->expect = fn_att_refs(c, 0);
	ASSERT_EQ(0, c->expect);
}

static int act_send(struct fn_ctx *c)
{
	return objheap_send(c->heap, c->h[0], c->att_id[0], 7);
}

/*
 * After a failure nothing reached the receiver: no record, none lost, no
 * reference.  After a success it holds one more, and takes one RECEIVED
 * record carrying it: the same handle as before, if it had one.
 */
static void verify_send(struct __test_metadata *_metadata, struct fn_ctx *c,
			int ret)
{
	struct objheap_attach_info ai;
	struct objheap_info info;
	uint64_t queued, lost, h;

	fn_fd_queue(_metadata, c->att[0], &queued, &lost);
	EXPECT_EQ(0, lost);
	if (ret) {
		EXPECT_EQ(0, queued);
		EXPECT_EQ(0, fn_read_fd(c, c->att[0]));
		EXPECT_EQ(c->expect, fn_att_refs(c, 0));
		/* Nothing was sent: a receiver new to h[0] has no entry. */
		ASSERT_EQ(0, fn_att_info(c->att[0], 0, &ai));
		EXPECT_EQ(c->att_h[0] ? 1 : 0, ai.out_handles);
		return;
	}
	EXPECT_EQ(1, queued);
	EXPECT_EQ(c->expect + 1, fn_att_refs(c, 0));
	h = fn_receive(_metadata, c, 0, 7);
	ASSERT_EQ(0, fn_att_info(c->fd, 0, &ai));
	EXPECT_EQ(ai.out_id, c->ev[0].generation);
	EXPECT_EQ(7, c->ev[0].target_type);
	if (c->att_h[0])
		EXPECT_EQ(c->att_h[0], h);
	ASSERT_EQ(0, fn_fd_info(c->att[0], h, &info));
	EXPECT_EQ(c->expect + 1, info.out_user_refs);
	/* The heap's file's reference and the receiver's. */
	EXPECT_EQ(1 + c->expect + 1, info.out_refcnt);
	EXPECT_EQ(info.out_refcnt, fn_refcnt(c->heap, c->h[0]));
}

/*
 * To an attachment that holds h[0] already (setup_sent()), its queue read
 * dry and so its chunk freed: the entry is found, only a chunk is
 * allocated.  With the first RECEIVED still queued, nothing is.
 */
static void setup_sent_queued(struct __test_metadata *_metadata,
			      struct fn_ctx *c)
{
	setup_target(_metadata, c);
	fn_attach(_metadata, c, 0);
	ASSERT_EQ(0, objheap_send(c->heap, c->h[0], c->att_id[0], 6));
}

static void verify_send_queued(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	EXPECT_EQ(0, ret);
	EXPECT_EQ(2, fn_att_refs(c, 0));
	ASSERT_EQ(2, fn_read_fd(c, c->att[0]));
	EXPECT_EQ(OBJHEAP_EVENT_RECEIVED, c->ev[0].type);
	EXPECT_EQ(6, c->ev[0].cookie);
	EXPECT_EQ(OBJHEAP_EVENT_RECEIVED, c->ev[1].type);
	EXPECT_EQ(7, c->ev[1].cookie);
	EXPECT_EQ(c->ev[0].handle, c->ev[1].handle);
	EXPECT_EQ(2, fn_fd_user_refs(c->att[0], c->ev[0].handle));
	EXPECT_EQ(3, fn_refcnt(c->heap, c->h[0]));
}

/* ---- GET_SLOT into a third holder: the holders record doubles -------- */

/*
 * h[0] -> h[1] (slot 0), both made by the heap's file, h[1]'s home.
 * Attachments 0 and 1 got h[1]: its holders record, room for 2, is full.
 * Attachment 2 got h[0] (its table made, the hash set up): its GET_SLOT
 * allocates only h[1]'s record of 4, the old one going by RCU.
 */
static void setup_holders_full(struct __test_metadata *_metadata,
			       struct fn_ctx *c)
{
	int i;

	setup_target(_metadata, c);
	c->h[1] = fn_node(c->heap, 0, 8);
	ASSERT_NE(0, c->h[1]);
	ASSERT_EQ(0, objheap_set_slot(c->heap, c->h[0], 0, c->h[1]));
	for (i = 0; i < FN_ATTACH; i++)
		fn_attach(_metadata, c, i);
	c->att_h[0] = fn_send_take(_metadata, c, 1, 0);
	c->att_h[1] = fn_send_take(_metadata, c, 1, 1);
	c->att_h[2] = fn_send_take(_metadata, c, 0, 2);
	/* The heap's file, the slot, attachments 0 and 1. */
	ASSERT_EQ(4, fn_refcnt(c->heap, c->h[1]));
	c->expect = fn_att_refs(c, 2);
	ASSERT_EQ(1, c->expect);
}

static int act_get_slot_shared(struct fn_ctx *c)
{
	return fn_fd_get_slot(c->att[2], c->att_h[2], 0, &c->out);
}

static void verify_get_slot_shared(struct __test_metadata *_metadata,
				   struct fn_ctx *c, int ret)
{
	int i;

	if (ret) {
		EXPECT_EQ(c->expect, fn_att_refs(c, 2));
	} else {
		EXPECT_NE(0, c->out);
		EXPECT_EQ(c->expect + 1, fn_att_refs(c, 2));
		EXPECT_EQ(1, fn_fd_user_refs(c->att[2], c->out));
		EXPECT_EQ(5, fn_refcnt(c->heap, c->h[1]));
	}
	/*
	 * The record, grown or not, still has the other two entries: what is
	 * sent to them again arrives under the handle they had.
	 */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(c->att_h[i], fn_send_take(_metadata, c, 1, i));
}

/* ---- PUBLISH, LOOKUP, UNPUBLISH ---------------------------------------- */

static int act_publish(struct fn_ctx *c)
{
	return objheap_publish_str(c->heap, c->name, c->h[0]);
}

/* A failure publishes nothing; a success holds one reference. */
static void verify_publish(struct __test_metadata *_metadata,
			   struct fn_ctx *c, int ret)
{
	uint64_t h = 0;

	if (ret) {
		EXPECT_EQ(-ENOENT, objheap_lookup_str(c->heap, c->name, &h));
		EXPECT_EQ(1, fn_refcnt(c->heap, c->h[0]));
		return;
	}
	EXPECT_EQ(2, fn_refcnt(c->heap, c->h[0]));
	EXPECT_EQ(0, objheap_lookup_str(c->heap, c->name, &h));
	EXPECT_EQ(c->h[0], h);
	EXPECT_EQ(3, fn_refcnt(c->heap, c->h[0]));
}

/* h[0] published by the heap's file; attachment 0, new, empty. */
static void setup_published(struct __test_metadata *_metadata,
			    struct fn_ctx *c)
{
	setup_target(_metadata, c);
	ASSERT_EQ(0, objheap_publish_str(c->heap, c->name, c->h[0]));
	fn_attach(_metadata, c, 0);
	c->expect = fn_att_refs(c, 0);
	ASSERT_EQ(0, c->expect);
}

/*
 * From attachment 0: a foreign entry, so its table, the hash of holders
 * (absorbing its failure) and h[0]'s holders record.
 */
static int act_lookup_foreign(struct fn_ctx *c)
{
	return fn_fd_lookup(c, c->att[0], &c->out);
}

static void verify_lookup_foreign(struct __test_metadata *_metadata,
				  struct fn_ctx *c, int ret)
{
	uint64_t h = 0;

	if (ret) {
		EXPECT_EQ(c->expect, fn_att_refs(c, 0));
		/* The name is still there, and found. */
		EXPECT_EQ(0, fn_fd_lookup(c, c->att[0], &h));
		EXPECT_NE(0, h);
		return;
	}
	EXPECT_NE(0, c->out);
	EXPECT_EQ(c->expect + 1, fn_att_refs(c, 0));
	EXPECT_EQ(1, fn_fd_user_refs(c->att[0], c->out));
	/* The handle, the name, attachment 0's handle. */
	EXPECT_EQ(3, fn_refcnt(c->heap, c->h[0]));
	/* Its entry is found again: the same handle. */
	EXPECT_EQ(0, fn_fd_lookup(c, c->att[0], &h));
	EXPECT_EQ(c->out, h);
}

static int act_unpublish(struct fn_ctx *c)
{
	return objheap_unpublish_str(c->heap, c->name);
}

static void verify_unpublished(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	uint64_t h = 0;

	EXPECT_EQ(0, ret);
	EXPECT_EQ(-ENOENT, objheap_lookup_str(c->heap, c->name, &h));
	EXPECT_EQ(1, fn_refcnt(c->heap, c->h[0]));
	EXPECT_LIVE_FD(c->fd, 1);
}

/* ---- close() of an attachment that holds references ------------------- */

/*
 * Attachment 0 holds h[0] twice (received, then DUP: a foreign entry)
 * and an object of its own whose slot holds h[0]: 4 references to h[0].
 * Closing it drops its 3 references, frees its object (and so the slot's
 * reference), takes its entry out of h[0]'s holders record, which goes,
 * and queues one DETACHED to the heap's file: the chunk for it is the
 * only allocation, and its failure is a loss.
 */
static void setup_holding_attachment(struct __test_metadata *_metadata,
				     struct fn_ctx *c)
{
	struct objheap_handle_cmd dup = { .size = sizeof(dup) };
	struct objheap_new n = {
		.size = sizeof(n), .type = 8, .nslots = 1, .data_len = 8,
	};
	struct objheap_slot s = { .size = sizeof(s) };

	setup_target(_metadata, c);
	fn_attach(_metadata, c, 0);
	c->att_h[0] = fn_send_take(_metadata, c, 0, 0);
	dup.handle = c->att_h[0];
	ASSERT_EQ(0, fn_ioctl(c->att[0], OBJHEAP_DUP, &dup));
	ASSERT_EQ(0, fn_ioctl(c->att[0], OBJHEAP_NEW, &n));
	s.handle = n.out_handle;
	s.target = c->att_h[0];
	ASSERT_EQ(0, fn_ioctl(c->att[0], OBJHEAP_SET_SLOT, &s));
	ASSERT_EQ(4, fn_refcnt(c->heap, c->h[0]));
	ASSERT_EQ(3, fn_att_refs(c, 0));
	EXPECT_LIVE_FD(c->fd, 2);
	ASSERT_EQ(0, fn_read_events(c));
}

static int act_close_attachment(struct fn_ctx *c)
{
	int fd = c->att[0];

	c->att[0] = -1;
	return close(fd) ? -errno : 0;
}

static void verify_attachment_closed(struct __test_metadata *_metadata,
				     struct fn_ctx *c, int ret)
{
	struct objheap_attach_info ai;

	EXPECT_EQ(0, ret);
	EXPECT_EQ(-ESRCH, fn_att_info(c->fd, c->att_id[0], &ai));
	EXPECT_EQ(1, fn_attached(c));
	/* Only the heap's file's reference is left, and its object. */
	EXPECT_EQ(1, fn_refcnt(c->heap, c->h[0]));
	EXPECT_LIVE_FD(c->fd, 1);
	/* Told, or the telling counted lost. */
	fn_expect_events(_metadata, c, 1, 1u << OBJHEAP_EVENT_DETACHED);
	if (c->ev[0].type == OBJHEAP_EVENT_DETACHED) {
		EXPECT_EQ(c->att_id[0], c->ev[0].generation);
		EXPECT_EQ(3, c->ev[0].collected);
		EXPECT_EQ(getpid(), c->ev[0].cookie);
	} else {
		EXPECT_EQ(OBJHEAP_EVENT_LOST, c->ev[0].type);
		EXPECT_EQ(1, c->ev[0].lost);
	}
}

/* ---- commands that allocate nothing ----------------------------------- */

/*
 * h[0] -> h[1] (slot 0), h[1] with a weak reference h[2] and a finalizer
 * h[3], a cycle left on the garbage list by OBJHEAP_GC_DEBUG_SAVEALL, and
 * one event queued (h[4] died, watched by the weak reference h[5]).
 */
static void setup_assorted(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	uint64_t a = fn_node(c->heap, 1, 8), b = fn_node(c->heap, 1, 8);

	setup_target(_metadata, c);
	c->h[1] = fn_node(c->heap, 1, 64);
	ASSERT_EQ(0, objheap_set_slot(c->heap, c->h[0], 0, c->h[1]));
	ASSERT_EQ(0, objheap_weakref_new(c->heap, c->h[1], 0, 0, &c->h[2]));
	ASSERT_EQ(0, objheap_finalize_new(c->heap, c->h[1], 0, &c->h[3]));
	ASSERT_EQ(0, objheap_set_slot(c->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(c->heap, b, 0, a));
	ASSERT_EQ(0, objheap_release(c->heap, a));
	ASSERT_EQ(0, objheap_release(c->heap, b));
	ASSERT_EQ(0, objheap_gc_set_debug(c->heap, OBJHEAP_GC_DEBUG_SAVEALL));
	ASSERT_EQ(2, objheap_gc_collect(c->heap, 2, NULL));
	c->h[4] = fn_node(c->heap, 0, 8);
	ASSERT_EQ(0, objheap_weakref_new(c->heap, c->h[4], 0,
					 OBJHEAP_WEAKREF_CALLBACK, &c->h[5]));
	ASSERT_EQ(0, objheap_release(c->heap, c->h[4]));
	c->h[4] = c->h[5];
	c->h[5] = 0;
}

static int act_dup(struct fn_ctx *c)
{
	return objheap_dup(c->heap, c->h[0]);
}

static int act_release(struct fn_ctx *c)
{
	return objheap_release(c->heap, c->h[2]);
}

static int act_set_slot(struct fn_ctx *c)
{
	/* Replaces h[1], which h[0] no longer holds: no death. */
	return objheap_set_slot(c->heap, c->h[0], 0, c->h[2]);
}

static int act_get_slot(struct fn_ctx *c)
{
	return objheap_get_slot(c->heap, c->h[0], 0, &c->out);
}

static int act_info(struct fn_ctx *c)
{
	struct objheap_info info;

	return objheap_info(c->heap, c->h[1], &info);
}

static int act_read_write(struct fn_ctx *c)
{
	return objheap_write(c->heap, c->h[1], 0, c->list, 64) ?:
	       objheap_read(c->heap, c->h[1], 0, c->list, 64);
}

static int act_get_objects(struct fn_ctx *c)
{
	return objheap_gc_get_objects(c->heap, OBJHEAP_GC_ALL_GENERATIONS,
				      c->list, FN_LIST, &c->count);
}

static int act_get_referrers(struct fn_ctx *c)
{
	return objheap_gc_get_referrers(c->heap, c->h[1], c->list, FN_LIST,
					&c->count);
}

static int act_get_referents(struct fn_ctx *c)
{
	return objheap_gc_get_referents(c->heap, c->h[0], c->list, FN_LIST,
					&c->count);
}

static int act_get_garbage(struct fn_ctx *c)
{
	return objheap_gc_get_garbage(c->heap, c->list, FN_LIST, &c->count);
}

static int act_clear_garbage(struct fn_ctx *c)
{
	return objheap_gc_clear_garbage(c->heap);
}

static int act_getweakrefs(struct fn_ctx *c)
{
	return objheap_getweakrefs(c->heap, c->h[1], c->list, FN_LIST,
				   &c->count);
}

static int act_weakref_get(struct fn_ctx *c)
{
	return objheap_weakref_get(c->heap, c->h[2], &c->out);
}

static int act_finalize_detach(struct fn_ctx *c)
{
	return objheap_finalize_detach(c->heap, c->h[3], NULL);
}

static int act_gc_misc(struct fn_ctx *c)
{
	uint32_t v[OBJHEAP_GC_GENERATIONS];
	struct objheap_gc_gen_stats st[OBJHEAP_GC_GENERATIONS];

	return objheap_gc_get_threshold(c->heap, v) ?:
	       objheap_gc_set_threshold(c->heap, v) ?:
	       objheap_gc_get_count(c->heap, v) ?:
	       objheap_gc_get_stats(c->heap, st) ?:
	       objheap_gc_freeze(c->heap) ?:
	       objheap_gc_unfreeze(c->heap) ?:
	       objheap_gc_is_tracked(c->heap, c->h[0]) - 1;
}

static int act_event_ctl(struct fn_ctx *c)
{
	struct objheap_event_ctl out;

	return objheap_event_ctl(c->heap, OBJHEAP_EVENT_CTL_SET_MASK,
				 OBJHEAP_EVENTS_GC, &out);
}

static int act_set_limit(struct fn_ctx *c)
{
	return objheap_set_limit(c->heap, 64 << 20);
}

static int act_read_event(struct fn_ctx *c)
{
	return fn_read_events(c) - 1;
}

/* Collecting nothing queues nothing and allocates nothing. */
static int act_collect_nothing(struct fn_ctx *c)
{
	return objheap_gc_collect(c->heap, 0, NULL);
}

static void verify_listed(struct __test_metadata *_metadata, struct fn_ctx *c,
			  int ret)
{
	EXPECT_EQ(0, ret);
	EXPECT_LT(0, c->count);
}

/* ---- payloads: RESIZE, SEAL, MAP_OFFSET, mmap() ----------------------- */

/* Byte @i of the payloads below: never zero. */
static uint8_t fn_pat(uint32_t i)
{
	return 1 + i % 251;
}

static void fn_fill(uint8_t *buf, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = fn_pat(i);
}

/*
 * Whether h[0]'s first @len bytes are the pattern and the next @zero
 * bytes zero, read with OBJHEAP_READ.
 */
static bool fn_payload_is(struct fn_ctx *c, uint32_t len, uint32_t zero)
{
	static uint8_t buf[4 * FN_LARGE];
	uint32_t i;

	if (len + zero > sizeof(buf) ||
	    objheap_read(c->heap, c->h[0], 0, buf, len + zero))
		return false;
	for (i = 0; i < len + zero; i++)
		if (buf[i] != (i < len ? fn_pat(i) : 0))
			return false;
	return true;
}

static uint32_t fn_info_field(struct fn_ctx *c, uint64_t h, int which)
{
	struct objheap_info info;

	if (objheap_info(c->heap, h, &info))
		return ~0U;
	return which == 0 ? info.out_data_len :
	       which == 1 ? info.out_nslots : info.out_flags;
}

#define FN_DATA_LEN(c, h)	fn_info_field(c, h, 0)
#define FN_NSLOTS(c, h)		fn_info_field(c, h, 1)
#define FN_FLAGS(c, h)		fn_info_field(c, h, 2)

/* What slot @index of h[0] holds (the reference given back), or ~0. */
static uint64_t fn_slot(struct fn_ctx *c, uint32_t index)
{
	uint64_t got;

	if (objheap_get_slot(c->heap, c->h[0], index, &got))
		return ~0ULL;
	if (got && objheap_release(c->heap, got))
		return ~0ULL;
	return got;
}

static int fn_resize(struct fn_ctx *c, uint32_t flags, uint32_t nslots,
		     uint32_t len)
{
	struct objheap_resize r = {
		.size = sizeof(r), .flags = flags, .handle = c->h[0],
		.nslots = nslots, .data_len = len,
	};

	return fn_ioctl(c->fd, OBJHEAP_RESIZE, &r);
}

static int fn_seal(struct fn_ctx *c, uint32_t flags)
{
	struct objheap_seal s = {
		.size = sizeof(s), .flags = flags, .handle = c->h[0],
	};
	int ret = fn_ioctl(c->fd, OBJHEAP_SEAL, &s);

	if (!ret)
		c->out = s.out_handle;
	return ret;
}

static int fn_map_offset(struct fn_ctx *c, uint64_t *offp, uint32_t *lenp)
{
	struct objheap_map_offset m = { .size = sizeof(m), .handle = c->h[0] };
	int ret = fn_ioctl(c->fd, OBJHEAP_MAP_OFFSET, &m);

	if (!ret) {
		*offp = m.out_offset;
		if (lenp)
			*lenp = m.out_data_len;
	}
	return ret;
}

/*
 * h[0]: resizable, @len bytes of the pattern and @nslots slots, slot 0
 * holding h[1] (which has its handle too) and the last slot h[2] (held
 * by that slot only).
 */
static void fn_setup_resizable(struct __test_metadata *_metadata,
			       struct fn_ctx *c, uint32_t len, uint32_t nslots)
{
	uint8_t buf[3 * FN_LARGE];
	uint64_t slots[4] = { 0 };

	ASSERT_GE(sizeof(buf), len);
	ASSERT_GE(4, nslots);
	c->h[1] = fn_node(c->heap, 0, 8);
	c->h[2] = fn_node(c->heap, 0, 8);
	ASSERT_NE(0, c->h[1]);
	ASSERT_NE(0, c->h[2]);
	slots[0] = c->h[1];
	slots[nslots - 1] = c->h[2];
	fn_fill(buf, len);
	ASSERT_EQ(0, objheap_new(c->heap, 7, OBJHEAP_OBJ_RESIZABLE, nslots,
				 buf, len, slots, &c->h[0]));
	ASSERT_EQ(0, objheap_release(c->heap, c->h[2]));
}

/* 100 bytes and two slots, grown to a large block (3000 bytes, 4 slots). */
static void setup_resizable_small(struct __test_metadata *_metadata,
				  struct fn_ctx *c)
{
	fn_setup_resizable(_metadata, c, 100, 2);
}

static int act_resize_grow(struct fn_ctx *c)
{
	return fn_resize(c, OBJHEAP_RESIZE_DATA | OBJHEAP_RESIZE_SLOTS, 4,
			 3 * FN_LARGE);
}

static void verify_resize_grow(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	if (ret) {
		/* Exactly as it was. */
		EXPECT_EQ(100, FN_DATA_LEN(c, c->h[0]));
		EXPECT_EQ(2, FN_NSLOTS(c, c->h[0]));
		EXPECT_TRUE(fn_payload_is(c, 100, 0));
		EXPECT_EQ(c->h[2], fn_slot(c, 1));
	} else {
		EXPECT_EQ(3 * FN_LARGE, FN_DATA_LEN(c, c->h[0]));
		EXPECT_EQ(4, FN_NSLOTS(c, c->h[0]));
		EXPECT_TRUE(fn_payload_is(c, 100, 3 * FN_LARGE - 100));
		EXPECT_EQ(c->h[2], fn_slot(c, 1));
		EXPECT_EQ(0, fn_slot(c, 2));
		EXPECT_EQ(0, fn_slot(c, 3));
	}
	EXPECT_EQ(c->h[1], fn_slot(c, 0));
	EXPECT_EQ(2, fn_refcnt(c->heap, c->h[1]));
	EXPECT_EQ(1, fn_refcnt(c->heap, c->h[2]));
}

/*
 * 3000 bytes and four slots, the last one the only holder of h[2],
 * shrunk to 100 bytes and one slot: a smaller block saves more than a
 * quarter, so it moves; a failure to allocate it may fail the command
 * or leave the block where it is.
 */
static void setup_resizable_large(struct __test_metadata *_metadata,
				  struct fn_ctx *c)
{
	fn_setup_resizable(_metadata, c, 3 * FN_LARGE, 4);
}

static int act_resize_shrink(struct fn_ctx *c)
{
	return fn_resize(c, OBJHEAP_RESIZE_DATA | OBJHEAP_RESIZE_SLOTS, 1,
			 100);
}

static void verify_resize_shrink(struct __test_metadata *_metadata,
				 struct fn_ctx *c, int ret)
{
	if (ret) {
		EXPECT_EQ(3 * FN_LARGE, FN_DATA_LEN(c, c->h[0]));
		EXPECT_EQ(4, FN_NSLOTS(c, c->h[0]));
		EXPECT_TRUE(fn_payload_is(c, 3 * FN_LARGE, 0));
		EXPECT_EQ(c->h[2], fn_slot(c, 3));
		EXPECT_EQ(1, fn_refcnt(c->heap, c->h[2]));
		EXPECT_LIVE_FD(c->fd, 3);
	} else {
		EXPECT_EQ(100, FN_DATA_LEN(c, c->h[0]));
		EXPECT_EQ(1, FN_NSLOTS(c, c->h[0]));
		EXPECT_TRUE(fn_payload_is(c, 100, 0));
		/* The dropped slot's target went. */
		EXPECT_EQ(0, fn_refcnt(c->heap, c->h[2]));
		EXPECT_LIVE_FD(c->fd, 2);
	}
	EXPECT_EQ(c->h[1], fn_slot(c, 0));
	EXPECT_EQ(2, fn_refcnt(c->heap, c->h[1]));
}

/* A mappable, resizable payload of 100 bytes, with its offset. */
static void setup_mappable_resizable(struct __test_metadata *_metadata,
				     struct fn_ctx *c)
{
	uint8_t buf[100];

	fn_fill(buf, sizeof(buf));
	ASSERT_EQ(0, objheap_new(c->heap, 7, OBJHEAP_OBJ_MAPPABLE |
				 OBJHEAP_OBJ_RESIZABLE, 0, buf, sizeof(buf),
				 NULL, &c->h[0]));
	ASSERT_EQ(0, fn_map_offset(c, &c->off, NULL));
}

/* Grown by pages: five more, and a byte. */
static int act_resize_pages(struct fn_ctx *c)
{
	return fn_resize(c, OBJHEAP_RESIZE_DATA, 0, 5 * getpagesize() + 1);
}

static void verify_resize_pages(struct __test_metadata *_metadata,
				struct fn_ctx *c, int ret)
{
	size_t page = getpagesize(), n = ret ? 1 : 6;
	uint32_t len = ret ? 100 : 5 * page + 1, l = 0;
	uint64_t off = 0;
	uint8_t *p;
	size_t i;

	EXPECT_EQ(len, FN_DATA_LEN(c, c->h[0]));
	ASSERT_EQ(0, fn_map_offset(c, &off, &l));
	EXPECT_EQ(c->off, off);
	EXPECT_EQ(len, l);
	/* As many pages as the payload has, no more, whole. */
	p = mmap(NULL, (n + 1) * page, PROT_READ, MAP_SHARED, c->fd, off);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, (n + 1) * page);
	p = mmap(NULL, n * page, PROT_READ, MAP_SHARED, c->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < n * page; i++)
		if (p[i] != (i < 100 ? fn_pat(i) : 0))
			break;
	EXPECT_EQ(n * page, i);
	munmap(p, n * page);
}

/* h[0]: 100 bytes of the pattern, no slots; for SEAL_INTERN, h[1]. */
static void setup_sealable(struct __test_metadata *_metadata,
			   struct fn_ctx *c)
{
	uint8_t buf[100];

	fn_fill(buf, sizeof(buf));
	ASSERT_EQ(0, objheap_new(c->heap, 7, 0, 0, buf, sizeof(buf), NULL,
				 &c->h[0]));
}

/* The same, with the same value interned before as h[1]. */
static void setup_sealable_interned(struct __test_metadata *_metadata,
				    struct fn_ctx *c)
{
	uint8_t buf[100];

	setup_sealable(_metadata, c);
	fn_fill(buf, sizeof(buf));
	ASSERT_EQ(0, objheap_intern(c->heap, 7, 0, buf, sizeof(buf),
				    &c->h[1]));
}

static int act_seal(struct fn_ctx *c)
{
	return fn_seal(c, 0);
}

static int act_seal_intern(struct fn_ctx *c)
{
	return fn_seal(c, OBJHEAP_SEAL_INTERN);
}

/* Sealed after a success, not sealed (and still writable) otherwise. */
static void verify_sealed(struct __test_metadata *_metadata,
			  struct fn_ctx *c, int ret, uint32_t flags)
{
	EXPECT_EQ(ret ? 0 : flags, FN_FLAGS(c, c->h[0]));
	EXPECT_EQ(ret ? 0 : -EPERM,
		  objheap_write(c->heap, c->h[0], 0, "\x01", 1));
}

static void verify_seal(struct __test_metadata *_metadata,
			struct fn_ctx *c, int ret)
{
	verify_sealed(_metadata, c, ret, OBJHEAP_OBJ_IMMUTABLE);
}

/* A new value: the object itself, interned, with one more reference. */
static void verify_seal_intern(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	verify_sealed(_metadata, c, ret,
		      OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_INTERNED);
	EXPECT_EQ(ret ? 0 : 1,
		  objheap_test_objects(c->fd).objects.out_interned);
	EXPECT_EQ(ret ? 1 : 2, fn_refcnt(c->heap, c->h[0]));
	if (!ret)
		EXPECT_EQ(c->h[0], c->out);
}

/* A value interned before: that object, with one more reference. */
static void verify_seal_interned(struct __test_metadata *_metadata,
				 struct fn_ctx *c, int ret)
{
	verify_sealed(_metadata, c, ret, OBJHEAP_OBJ_IMMUTABLE);
	EXPECT_EQ(1, objheap_test_objects(c->fd).objects.out_interned);
	EXPECT_EQ(ret ? 1 : 2, fn_refcnt(c->heap, c->h[1]));
	EXPECT_EQ(1, fn_refcnt(c->heap, c->h[0]));
	if (!ret)
		EXPECT_EQ(c->h[1], c->out);
}

/* A mappable payload of a page and a byte. */
static void setup_mappable(struct __test_metadata *_metadata,
			   struct fn_ctx *c)
{
	uint8_t buf[2 * 4096 + 2];
	uint32_t len = getpagesize() + 1;

	ASSERT_GE(sizeof(buf), len);
	fn_fill(buf, len);
	ASSERT_EQ(0, objheap_new(c->heap, 7, OBJHEAP_OBJ_MAPPABLE, 0, buf,
				 len, NULL, &c->h[0]));
}

static int act_map_offset(struct fn_ctx *c)
{
	return fn_map_offset(c, &c->off, NULL);
}

/* The offset, the same again; or, after a failure, one given now. */
static void verify_map_offset(struct __test_metadata *_metadata,
			      struct fn_ctx *c, int ret)
{
	uint64_t off = ~0ULL;
	uint32_t l = 0;
	uint8_t *p;

	ASSERT_EQ(0, fn_map_offset(c, &off, &l));
	EXPECT_EQ(getpagesize() + 1, l);
	EXPECT_EQ(0, off % getpagesize());
	if (!ret)
		EXPECT_EQ(c->off, off);
	p = mmap(NULL, 2 * getpagesize(), PROT_READ, MAP_SHARED, c->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(fn_pat(getpagesize()), p[getpagesize()]);
	munmap(p, 2 * getpagesize());
}

static void setup_mapped_offset(struct __test_metadata *_metadata,
				struct fn_ctx *c)
{
	setup_mappable(_metadata, c);
	ASSERT_EQ(0, fn_map_offset(c, &c->off, NULL));
}

static int act_mmap(struct fn_ctx *c)
{
	void *p = mmap(NULL, 2 * getpagesize(), PROT_READ | PROT_WRITE,
		       MAP_SHARED, c->fd, (off_t)c->off);

	if (p == MAP_FAILED)
		return -errno;
	c->map = p;
	c->map_len = 2 * getpagesize();
	return 0;
}

/*
 * A mapping that was made shows the payload and takes stores; once it
 * and the handle are gone, so is the object.  A failed mmap() took no
 * hold: the object goes with its handle.
 */
static void verify_mmap(struct __test_metadata *_metadata,
			struct fn_ctx *c, int ret)
{
	uint8_t *p = c->map, byte = 0;

	if (!ret) {
		ASSERT_NE(NULL, p);
		EXPECT_EQ(fn_pat(0), p[0]);
		EXPECT_EQ(fn_pat(getpagesize()), p[getpagesize()]);
		EXPECT_EQ(0, p[getpagesize() + 1]);
		p[1] = 0;
		EXPECT_EQ(0, objheap_read(c->heap, c->h[0], 1, &byte, 1));
		EXPECT_EQ(0, byte);
		EXPECT_EQ(0, munmap(p, c->map_len));
		c->map = NULL;
	} else {
		EXPECT_EQ(NULL, p);
	}
	EXPECT_EQ(0, objheap_release(c->heap, c->h[0]));
	EXPECT_LIVE_FD(c->fd, 0);
}

/* ---- tracing: NEW while tracing, START, SNAPSHOT ----------------------- */

#define FN_TAG		0x7ace

static void fn_trace_get(struct __test_metadata *_metadata, struct fn_ctx *c,
			 struct objheap_trace_ctl *out)
{
	ASSERT_EQ(0, objheap_trace_get(c->heap, out));
}

/* The live row of (@tag, @type): its count, 0 when there is none. */
static uint64_t fn_pair_count(struct fn_ctx *c, uint64_t tag, uint32_t type)
{
	struct objheap_trace_stat *st;
	uint64_t count = 0;
	size_t i, n;

	if (objheap_trace_statistics(c->heap, 0, 0, OBJHEAP_GROUP_PAIR, NULL,
				     &st, &n))
		return ~0ULL;
	for (i = 0; i < n; i++)
		if (st[i].tag == tag && st[i].type == type)
			count = st[i].count;
	free(st);
	return count;
}

/* A heap that traces and holds nothing yet: the first NEW takes a pool. */
static void setup_tracing(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	ASSERT_EQ(0, objheap_trace_start(c->heap, 1));
	fn_trace_get(_metadata, c, &c->trace);
}

/* One traced object of (1, 7) already: NEW of another pair. */
static void setup_tracing_one(struct __test_metadata *_metadata,
			      struct fn_ctx *c)
{
	ASSERT_EQ(0, objheap_trace_start(c->heap, 1));
	ASSERT_EQ(0, objheap_new_tagged(c->heap, 1, 7, 0, 0, NULL, 24, NULL,
					&c->h[0]));
	fn_trace_get(_metadata, c, &c->trace);
	ASSERT_EQ(1, c->trace.out_traced_objects);
}

static int act_new_traced(struct fn_ctx *c)
{
	return objheap_new_tagged(c->heap, FN_TAG, 7, 0, 0, NULL, 24, NULL,
				  &c->out);
}

static int act_new_traced_large(struct fn_ctx *c)
{
	return objheap_new_tagged(c->heap, FN_TAG, 7, 0, 0, fn_payload,
				  FN_LARGE, NULL, &c->out);
}

/*
 * A failed NEW counted nothing: the totals, the peak and the rows are as
 * setup left them.  One that succeeded counted its object under its
 * pair, at its block: a 32-byte header and 24 bytes, rounded to 64, or for
 * the large one (@large) at least its sizes, header, payload and trace.
 */
static void fn_verify_new_traced(struct __test_metadata *_metadata,
				 struct fn_ctx *c, int ret, bool large)
{
	struct objheap_trace_ctl now;
	uint64_t tag = 0;
	uint32_t type = 0;

	fn_trace_get(_metadata, c, &now);
	EXPECT_EQ(1, now.out_sample_every);
	if (ret) {
		EXPECT_EQ(c->trace.out_traced_objects, now.out_traced_objects);
		EXPECT_EQ(c->trace.out_traced_bytes, now.out_traced_bytes);
		EXPECT_EQ(c->trace.out_peak_bytes, now.out_peak_bytes);
		EXPECT_EQ(0, fn_pair_count(c, FN_TAG, 7));
		return;
	}
	EXPECT_EQ(c->trace.out_traced_objects + 1, now.out_traced_objects);
	if (large) {
		EXPECT_LE(16 + 32 + FN_LARGE + 8,
			  now.out_traced_bytes - c->trace.out_traced_bytes);
	} else {
		EXPECT_EQ(64, now.out_traced_bytes - c->trace.out_traced_bytes);
	}
	EXPECT_EQ(now.out_traced_bytes, now.out_peak_bytes);
	EXPECT_EQ(1, fn_pair_count(c, FN_TAG, 7));
	EXPECT_EQ(1, objheap_trace_tag(c->heap, c->out, &tag, &type, NULL));
	EXPECT_EQ(FN_TAG, tag);
	EXPECT_EQ(7, type);
}

static void verify_new_traced(struct __test_metadata *_metadata,
			      struct fn_ctx *c, int ret)
{
	fn_verify_new_traced(_metadata, c, ret, false);
}

static void verify_new_traced_large(struct __test_metadata *_metadata,
				    struct fn_ctx *c, int ret)
{
	fn_verify_new_traced(_metadata, c, ret, true);
}

/* Objects of several sizes before tracing starts. */
static void setup_untraced(struct __test_metadata *_metadata,
			   struct fn_ctx *c)
{
	c->h[0] = fn_node(c->heap, 0, 24);
	c->h[1] = fn_node(c->heap, 3, 200);
	c->h[2] = fn_node(c->heap, 0, FN_LARGE);
	ASSERT_NE(0, c->h[0]);
	ASSERT_NE(0, c->h[1]);
	ASSERT_NE(0, c->h[2]);
}

static int act_trace_start(struct fn_ctx *c)
{
	return objheap_trace_start(c->heap, 1);
}

/* Started or not at all; either way the objects before are untraced. */
static void verify_trace_start(struct __test_metadata *_metadata,
			       struct fn_ctx *c, int ret)
{
	struct objheap_trace_ctl now;

	fn_trace_get(_metadata, c, &now);
	EXPECT_EQ(ret ? 0 : 1, now.out_sample_every);
	EXPECT_EQ(0, now.out_traced_objects);
	EXPECT_EQ(0, objheap_trace_tag(c->heap, c->h[0], NULL, NULL, NULL));
	/* A heap that did not start may start now, one that did is busy. */
	EXPECT_EQ(ret ? 0 : -EBUSY, objheap_trace_start(c->heap, 1));
	EXPECT_EQ(0, objheap_new_tagged(c->heap, FN_TAG, 7, 0, 0, NULL, 24,
					NULL, &c->out));
	EXPECT_EQ(1, objheap_trace_tag(c->heap, c->out, NULL, NULL, NULL));
	EXPECT_EQ(0, objheap_release(c->heap, c->out));
}

static int act_snapshot(struct fn_ctx *c)
{
	uint32_t id = 0;
	int ret = objheap_snapshot_take(c->heap, &id);

	c->count = id;
	return ret;
}

/* A snapshot taken holds the counts; one that failed is not there. */
static void verify_snapshot(struct __test_metadata *_metadata,
			    struct fn_ctx *c, int ret)
{
	struct objheap_trace_stat *st = NULL;
	struct objheap_trace_ctl now;
	size_t n = 0;

	fn_trace_get(_metadata, c, &now);
	EXPECT_EQ(ret ? 0 : 1, now.out_snapshots);
	EXPECT_EQ(c->trace.out_traced_objects, now.out_traced_objects);
	if (ret)
		return;
	ASSERT_EQ(0, objheap_release(c->heap, c->h[0]));
	c->h[0] = 0;
	ASSERT_EQ(0, objheap_trace_statistics(c->heap, c->count, 0,
					      OBJHEAP_GROUP_PAIR, NULL, &st,
					      &n));
	ASSERT_EQ(1, n);
	EXPECT_EQ(1, st[0].tag);
	EXPECT_EQ(7, st[0].type);
	EXPECT_EQ(1, st[0].count);
	free(st);
	EXPECT_EQ(0, objheap_snapshot_drop(c->heap, c->count));
}

#define FN_CASE(_name, _kind, _min, _setup, _act, _verify)		\
	{ .name = _name, .kind = _kind, .min_failures = _min,	\
	  .setup = _setup, .act = _act, .verify = _verify }

static const struct fn_case fn_cases[] = {
	FN_CASE("weakref_new", FN_ENOMEM, 1, setup_large_target,
		act_weakref_new, verify_weakref_new),
	FN_CASE("finalize_new", FN_ENOMEM, 1, setup_target,
		act_finalize_new, verify_finalize_new),
	FN_CASE("weakref_new_grows_the_table", FN_ENOMEM, 0, setup_weak_table_full,
		act_weakref_new, verify_weakref_new),
	FN_CASE("stats", FN_ENOMEM, 1, setup_target, act_stats, verify_stats),
	FN_CASE("intern_interned", FN_ENOMEM, 1, setup_interned,
		act_intern_again, verify_intern_again),
	FN_CASE("open", FN_ENOMEM, 1, setup_nothing, act_open, verify_open),
	FN_CASE("attach", FN_ENOMEM, 2, setup_attach, act_attach,
		verify_attach),
	FN_CASE("attach_info", FN_NO_ALLOC, 0, setup_sent, act_attach_info,
		verify_attach_info),
	FN_CASE("send_new_entry", FN_ENOMEM, 3, setup_receiver, act_send,
		verify_send),
	FN_CASE("send_held", FN_ENOMEM, 1, setup_sent, act_send,
		verify_send),
	FN_CASE("send_queued", FN_NO_ALLOC, 0, setup_sent_queued,
		act_send, verify_send_queued),
	FN_CASE("get_slot_holders_grow", FN_ENOMEM, 1, setup_holders_full,
		act_get_slot_shared, verify_get_slot_shared),
	FN_CASE("publish", FN_ENOMEM, 1, setup_target, act_publish,
		verify_publish),
	FN_CASE("lookup_foreign", FN_ENOMEM, 1, setup_published,
		act_lookup_foreign, verify_lookup_foreign),
	FN_CASE("unpublish", FN_NO_ALLOC, 0, setup_published, act_unpublish,
		verify_unpublished),
	FN_CASE("close_attachment", FN_SURVIVES, 0, setup_holding_attachment,
		act_close_attachment, verify_attachment_closed),
	FN_CASE("release_with_events", FN_SURVIVES, 0, setup_watched,
		act_release_target, verify_watched_died),
	FN_CASE("release_pep442", FN_SURVIVES, 0, setup_finalizable,
		act_release_target, verify_finalized),
	FN_CASE("gc_collect", FN_SURVIVES, 0, setup_cycles,
		act_collect, verify_collected),
	FN_CASE("gc_collect_silent", FN_NO_ALLOC, 0, setup_silent_cycles,
		act_collect, verify_collected_silently),
	FN_CASE("gc_collect_at_limit", FN_NO_ALLOC, 0, setup_cycles_at_limit,
		act_collect, verify_collected_all_lost),
	FN_CASE("gc_collect_nothing", FN_NO_ALLOC, 0, setup_assorted,
		act_collect_nothing, NULL),
	FN_CASE("dup", FN_NO_ALLOC, 0, setup_assorted, act_dup, NULL),
	FN_CASE("release", FN_NO_ALLOC, 0, setup_assorted, act_release, NULL),
	FN_CASE("set_slot", FN_NO_ALLOC, 0, setup_assorted, act_set_slot, NULL),
	FN_CASE("get_slot", FN_NO_ALLOC, 0, setup_assorted, act_get_slot, NULL),
	FN_CASE("info", FN_NO_ALLOC, 0, setup_assorted, act_info, NULL),
	FN_CASE("read_write", FN_NO_ALLOC, 0, setup_assorted,
		act_read_write, NULL),
	FN_CASE("gc_get_objects", FN_NO_ALLOC, 0, setup_assorted,
		act_get_objects, verify_listed),
	FN_CASE("gc_get_referrers", FN_NO_ALLOC, 0, setup_assorted,
		act_get_referrers, verify_listed),
	FN_CASE("gc_get_referents", FN_NO_ALLOC, 0, setup_assorted,
		act_get_referents, verify_listed),
	FN_CASE("gc_get_garbage", FN_NO_ALLOC, 0, setup_assorted,
		act_get_garbage, verify_listed),
	FN_CASE("gc_clear_garbage", FN_NO_ALLOC, 0, setup_assorted,
		act_clear_garbage, NULL),
	FN_CASE("gc_settings", FN_NO_ALLOC, 0, setup_assorted,
		act_gc_misc, NULL),
	FN_CASE("weakref_list", FN_NO_ALLOC, 0, setup_assorted,
		act_getweakrefs, verify_listed),
	FN_CASE("weakref_get", FN_NO_ALLOC, 0, setup_assorted,
		act_weakref_get, NULL),
	FN_CASE("finalize_detach", FN_NO_ALLOC, 0, setup_assorted,
		act_finalize_detach, NULL),
	FN_CASE("event_ctl", FN_NO_ALLOC, 0, setup_assorted,
		act_event_ctl, NULL),
	FN_CASE("set_limit", FN_NO_ALLOC, 0, setup_assorted,
		act_set_limit, NULL),
	FN_CASE("file_read", FN_NO_ALLOC, 0, setup_assorted,
		act_read_event, NULL),
	FN_CASE("resize_grow", FN_ENOMEM, 1, setup_resizable_small,
		act_resize_grow, verify_resize_grow),
	FN_CASE("resize_shrink", FN_ENOMEM, 0, setup_resizable_large,
		act_resize_shrink, verify_resize_shrink),
	FN_CASE("resize_mappable", FN_ENOMEM, 1, setup_mappable_resizable,
		act_resize_pages, verify_resize_pages),
	FN_CASE("seal", FN_ENOMEM, 0, setup_sealable, act_seal, verify_seal),
	FN_CASE("seal_intern_new", FN_ENOMEM, 0, setup_sealable,
		act_seal_intern, verify_seal_intern),
	FN_CASE("seal_intern_interned", FN_ENOMEM, 0, setup_sealable_interned,
		act_seal_intern, verify_seal_interned),
	FN_CASE("map_offset", FN_ENOMEM, 0, setup_mappable, act_map_offset,
		verify_map_offset),
	FN_CASE("mmap", FN_ENOMEM, 1, setup_mapped_offset, act_mmap,
		verify_mmap),
	FN_CASE("new_traced_in_a_fresh_heap", FN_ENOMEM, 1, setup_tracing,
		act_new_traced, verify_new_traced),
	FN_CASE("new_traced_new_pair", FN_ENOMEM, 0, setup_tracing_one,
		act_new_traced, verify_new_traced),
	FN_CASE("new_traced_large", FN_ENOMEM, 1, setup_tracing_one,
		act_new_traced_large, verify_new_traced_large),
	FN_CASE("trace_start", FN_ENOMEM, 0, setup_untraced,
		act_trace_start, verify_trace_start),
	FN_CASE("trace_snapshot", FN_ENOMEM, 0, setup_tracing_one,
		act_snapshot, verify_snapshot),
};

#define FN_NR_CASES ARRAY_SIZE(fn_cases)

FIXTURE(failnth) {
	int nth_fd;
};

FIXTURE_SETUP(failnth)
{
	struct objheap *probe;
	int ret = objheap_open(&probe), test;

	self->nth_fd = -1;
	if (ret == -ENOENT)
		SETUP_SKIP(OBJHEAP_DEV " is missing: module not loaded");
	ASSERT_EQ(0, ret);
	test = objheap_has_test_interface(objheap_fd(probe));
	objheap_close(probe);
	if (!test)
		SETUP_SKIP("the module has no test interface");
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->nth_fd >= 0)
		close(self->nth_fd);
}

/* The allocator's raw allocations, on every kernel. */
TEST_F_TIMEOUT(failnth, every_command_unwinds_failed_raw_allocations, 300)
{
	unsigned int i, calls = 0, failures = 0;
	struct fn_result res;

	for (i = 0; i < FN_NR_CASES; i++) {
		fn_run(_metadata, &fn_cases[i], -1, &res);
		/* The weak reference takes the heap's first arena. */
		if (!strcmp(fn_cases[i].name, "weakref_new"))
			EXPECT_LE(2, res.failures);
		calls += res.calls;
		failures += res.failures;
	}
	TH_LOG("%zu cases, %u calls, %u failed", FN_NR_CASES, calls, failures);
}

/* Every slab and page allocation, on the debug kernel. */
/* Twenty minutes of the guest's clock: the debug kernel under TCG. */
TEST_F_TIMEOUT(failnth, every_command_unwinds_failed_kernel_allocations, 1200)
{
	struct fn_result res;
	unsigned int i;

	self->nth_fd = fail_nth_open();
	if (self->nth_fd < 0)
		TEST_SKIP("no /proc/thread-self/fail-nth: kernel without fault injection");
	for (i = 0; i < FN_NR_CASES; i++) {
		fn_run(_metadata, &fn_cases[i], self->nth_fd, &res);
		if (res.failures < fn_cases[i].min_failures)
			TH_LOG("%s: %u failures, expected at least %u",
			       fn_cases[i].name, res.failures,
			       fn_cases[i].min_failures);
		EXPECT_LE(fn_cases[i].min_failures, res.failures);
		TH_LOG("%s: %u calls, %u failed, %u absorbed a failure",
		       fn_cases[i].name, res.calls, res.failures, res.absorbed);
	}
}

TEST_HARNESS_MAIN
