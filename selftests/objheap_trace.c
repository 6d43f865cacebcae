// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing allocations (DOC: Tracing allocations in <linux/objheap.h>),
 * through libobjheap where it has a function and through raw ioctls
 * where the ABI itself is tested: starting and stopping, which objects
 * are traced and under which (tag, type) pair, the counts and bytes
 * against a model of random creations and releases (singly and in
 * batches, by the collector too), the peak, snapshots and their diffs,
 * the library's grouping, filters and order, sampling, resizing, the
 * read-only attachment, the errnos and the size handshake of the new
 * commands and of NEW's tag, pagination past OBJHEAP_TRACE_ROWS_MAX pairs
 * and the OBJHEAP_TAG_OTHER bucket past OBJHEAP_TRACE_PAIRS_MAX.
 *
 * Bytes.  An object's bytes are its footprint in the heap's allocator.
 * For a plain object (neither resizable nor mappable) whose block is at
 * most 512 bytes, that is exactly its block, foot() below: a 32-byte
 * header, 8 bytes per slot and the payload, rounded up to 16; its trace
 * lives in an array of its pool, not in the block.  Every test that
 * asserts bytes exactly uses such objects; for the others (resizable,
 * mappable, large, weak references) only bounds are asserted.
 * footprint_formula_matches_the_allocator checks foot() against
 * OBJHEAP_STATS with tracing off, so that a failure of the other tests is
 * not a wrong formula.
 *
 * Where the header leaves a behaviour open, the test that relies on an
 * assumption says so in a comment that starts with "Assumed".
 *
 * Every test's teardown closes the attachments it made, then the heap,
 * and asserts that the module holds nothing: tracing's own memory (the
 * pools' arrays, the pairs, the snapshots) goes with the heap too.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include "objheap_raw.h"
#include <libobjheap.h>

#define MAX_ATT		4

/* The block of a plain object of at most 512 bytes: see above. */
static uint64_t foot(uint32_t nslots, uint32_t len)
{
	return (32 + 8 * (uint64_t)nslots + len + 15) & ~15ULL;
}

FIXTURE(trace) {
	struct objheap *heap;
	int fd;
	/* Other attachments, closed before the heap's own. */
	struct objheap *att[MAX_ATT];
};

FIXTURE_SETUP(trace)
{
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	/* Collections happen when a test asks for them. */
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
}

FIXTURE_TEARDOWN(trace)
{
	int i;

	for (i = 0; i < MAX_ATT; i++)
		objheap_close(self->att[i]);
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

/* ---- raw helpers: 0 (or a documented value) on success, -errno ---- */

static int tctl(int fd, uint32_t op, uint32_t every,
		struct objheap_trace_ctl *out)
{
	struct objheap_trace_ctl c = {
		.size = sizeof(c), .op = op, .sample_every = every,
	};
	int ret = xioctl(fd, OBJHEAP_TRACE_CTL, &c);

	if (!ret && out)
		*out = c;
	return ret;
}

/* TRACE_CTL GET; every field ~0 when it fails, so that checks fail. */
static struct objheap_trace_ctl tget(int fd)
{
	struct objheap_trace_ctl c;

	if (tctl(fd, OBJHEAP_TRACE_GET, 0, &c))
		memset(&c, 0xff, sizeof(c));
	return c;
}

static int snap_take(int fd, uint32_t *idp)
{
	struct objheap_trace_snapshot s = { .size = sizeof(s) };
	int ret = xioctl(fd, OBJHEAP_TRACE_SNAPSHOT, &s);

	if (!ret && idp)
		*idp = s.out_id;
	return ret;
}

static int snap_drop(int fd, uint32_t id)
{
	struct objheap_trace_snapshot s = {
		.size = sizeof(s), .flags = OBJHEAP_SNAPSHOT_DROP, .id = id,
	};

	return xioctl(fd, OBJHEAP_TRACE_SNAPSHOT, &s);
}

/* TRACE_TAG: its out_flags, or -errno; the pair in *@tagp and *@typep. */
static int ttag(int fd, uint64_t h, uint64_t *tagp, uint32_t *typep)
{
	struct objheap_trace_tag t = { .size = sizeof(t), .handle = h };
	int ret = xioctl(fd, OBJHEAP_TRACE_TAG, &t);

	if (ret)
		return ret;
	if (tagp)
		*tagp = t.out_tag;
	if (typep)
		*typep = t.out_type;
	return t.out_flags;
}

/* NEW with a tag, payload of zeros and empty slots. */
static int new_tagged(int fd, uint64_t tag, uint32_t type, uint32_t flags,
		      uint32_t nslots, uint32_t len, uint64_t *hp)
{
	struct objheap_new n = {
		.size = sizeof(n), .flags = flags, .type = type,
		.nslots = nslots, .data_len = len, .tag = tag,
	};
	int ret = xioctl(fd, OBJHEAP_NEW, &n);

	if (!ret)
		*hp = n.out_handle;
	return ret;
}

/* A new plain object, or 0. */
static uint64_t tnode(int fd, uint64_t tag, uint32_t type, uint32_t nslots,
		      uint32_t len)
{
	uint64_t h = 0;

	return new_tagged(fd, tag, type, 0, nslots, len, &h) ? 0 : h;
}

/* Every row of TRACE_ROWS, read @nrows at a time. */
struct rowset {
	struct objheap_trace_row *v;
	size_t n;
	uint32_t pairs;		/* out_pairs of the last call */
	unsigned int calls;
};

static int read_rows(int fd, uint32_t snapshot, uint32_t base, uint32_t nrows,
		     struct rowset *rs)
{
	struct objheap_trace_row *buf = calloc(nrows, sizeof(*buf));
	uint32_t start = 0;
	int ret = 0;

	memset(rs, 0, sizeof(*rs));
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct objheap_trace_rows r = {
			.size = sizeof(r), .snapshot = snapshot, .base = base,
			.start = start, .nrows = nrows,
			.rows_uptr = (uintptr_t)buf,
		};
		struct objheap_trace_row *v;

		ret = xioctl(fd, OBJHEAP_TRACE_ROWS, &r);
		if (ret)
			break;
		rs->calls++;
		rs->pairs = r.out_pairs;
		/* Too many rows, or no progress: a broken answer. */
		if (r.out_nrows > nrows ||
		    (r.out_next < r.out_pairs && r.out_next <= start)) {
			ret = -EPROTO;
			break;
		}
		v = realloc(rs->v, (rs->n + r.out_nrows + 1) * sizeof(*v));
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		rs->v = v;
		memcpy(rs->v + rs->n, buf, r.out_nrows * sizeof(*buf));
		rs->n += r.out_nrows;
		if (r.out_next >= r.out_pairs)
			break;
		start = r.out_next;
	}
	free(buf);
	return ret;
}

static const struct objheap_trace_row *find_row(const struct rowset *rs,
						uint64_t tag, uint32_t type)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].tag == tag && rs->v[i].type == type)
			return &rs->v[i];
	return NULL;
}

/* The live row of one pair: its count and bytes, 0 when there is none. */
static void pair_now(int fd, uint64_t tag, uint32_t type, uint64_t *countp,
		     uint64_t *bytesp)
{
	const struct objheap_trace_row *row;
	struct rowset rs;

	*countp = *bytesp = ~0ULL;
	if (read_rows(fd, 0, 0, OBJHEAP_TRACE_ROWS_MAX, &rs))
		return;
	row = find_row(&rs, tag, type);
	*countp = row ? row->count : 0;
	*bytesp = row ? row->bytes : 0;
	free(rs.v);
}

static const struct objheap_trace_stat *
find_stat(const struct objheap_trace_stat *st, size_t n, uint64_t tag,
	  uint32_t type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (st[i].tag == tag && st[i].type == type)
			return &st[i];
	return NULL;
}

static uint64_t mag(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/*
 * The order objheap_trace_statistics() promises: |bytes_diff| then bytes
 * descending, then tag, type and attachment ascending; and no key twice.
 */
static void expect_sorted(struct __test_metadata *_metadata,
			  const struct objheap_trace_stat *st, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		const struct objheap_trace_stat *a = &st[i - 1], *b = &st[i];
		int ok;

		if (mag(a->bytes_diff) != mag(b->bytes_diff))
			ok = mag(a->bytes_diff) > mag(b->bytes_diff);
		else if (a->bytes != b->bytes)
			ok = a->bytes > b->bytes;
		else if (a->tag != b->tag)
			ok = a->tag < b->tag;
		else if (a->type != b->type)
			ok = a->type < b->type;
		else
			ok = a->attachment < b->attachment;
		if (!ok)
			TH_LOG("rows %zu and %zu out of order", i - 1, i);
		EXPECT_TRUE(ok);
	}
}

/* One expected row of a statistics call. */
struct want {
	uint64_t tag;
	uint32_t type;
	uint64_t count, bytes;
	int64_t count_diff, bytes_diff;
};

/* The rows, exactly these, in this order. */
static void expect_stats(struct __test_metadata *_metadata,
			 const struct objheap_trace_stat *st, size_t n,
			 const struct want *w, size_t nw)
{
	size_t i;

	EXPECT_EQ(nw, n);
	for (i = 0; i < n && i < nw; i++) {
		if (w[i].tag == st[i].tag && w[i].type == st[i].type &&
		    w[i].count == st[i].count && w[i].bytes == st[i].bytes &&
		    w[i].count_diff == st[i].count_diff &&
		    w[i].bytes_diff == st[i].bytes_diff)
			continue;
		TH_LOG("row %zu: tag %" PRIu64 " type %u count %" PRIu64
		       " bytes %" PRIu64 " diffs %" PRId64 " %" PRId64
		       ", expected tag %" PRIu64 " type %u count %" PRIu64
		       " bytes %" PRIu64 " diffs %" PRId64 " %" PRId64,
		       i, st[i].tag, st[i].type, st[i].count, st[i].bytes,
		       st[i].count_diff, st[i].bytes_diff, w[i].tag, w[i].type,
		       w[i].count, w[i].bytes, w[i].count_diff,
		       w[i].bytes_diff);
		EXPECT_TRUE(0);
	}
}

/* objheap_trace_statistics(), asserted to succeed; the caller frees. */
static struct objheap_trace_stat *stats_of(struct __test_metadata *_metadata,
					   struct objheap *heap, uint32_t snap,
					   uint32_t base, enum objheap_group g,
					   const struct objheap_trace_filter *f,
					   size_t *np)
{
	struct objheap_trace_stat *st = NULL;

	*np = ~(size_t)0;
	ASSERT_EQ(0, objheap_trace_statistics(heap, snap, base, g, f, &st, np));
	expect_sorted(_metadata, st, *np);
	return st;
}

/* ==== 1. switching tracing on and off ==== */

TEST_F(trace, totals_are_zero_until_started_and_after_stopped)
{
	struct objheap_trace_ctl c;
	uint64_t old, h, h0, tag;
	uint32_t type;

	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_peak_bytes);
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_EQ(0, c.out_pairs);
	EXPECT_EQ(0, c.out_sample_every);
	EXPECT_EQ(0, c.out_snapshots);

	old = tnode(self->fd, 5, 1, 0, 8);
	ASSERT_NE(0, old);
	/* Not tracing: the object is untraced, and TAG says so with zeros. */
	tag = 1;
	type = 1;
	EXPECT_EQ(0, ttag(self->fd, old, &tag, &type));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(0, type);
	/* Stopping and resetting a heap that does not trace do nothing. */
	EXPECT_EQ(0, objheap_trace_stop(self->heap));
	EXPECT_EQ(0, objheap_trace_reset_peak(self->heap));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_sample_every);

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, objheap_trace_get(self->heap, &c));
	EXPECT_EQ(1, c.out_sample_every);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_peak_bytes);
	EXPECT_EQ(0, c.out_traced_objects);
	/* Assumed: a pair is counted once an object is, not before. */
	EXPECT_EQ(0, c.out_pairs);
	EXPECT_EQ(0, c.out_snapshots);
	EXPECT_EQ(-EBUSY, objheap_trace_start(self->heap, 1));
	EXPECT_EQ(-EBUSY, objheap_trace_start(self->heap, 8));
	EXPECT_EQ(1, tget(self->fd).out_sample_every);

	/* What existed before is never traced. */
	EXPECT_EQ(0, objheap_trace_tag(self->heap, old, &tag, &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(0, type);

	ASSERT_EQ(0, objheap_new_tagged(self->heap, 0x1234567890abcdefULL, 77,
					0, 1, "twenty bytes here!!", 20, NULL,
					&h));
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h, &tag, &type, NULL));
	EXPECT_EQ(0x1234567890abcdefULL, tag);
	EXPECT_EQ(77, type);
	EXPECT_EQ(OBJHEAP_TAG_TRACED, ttag(self->fd, h, NULL, NULL));
	/* objheap_new(): tag 0, and the object's own type. */
	ASSERT_EQ(0, objheap_new(self->heap, 78, 0, 0, NULL, 100, NULL, &h0));
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h0, &tag, &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(78, type);

	c = tget(self->fd);
	EXPECT_EQ(2, c.out_traced_objects);
	EXPECT_EQ(foot(1, 20) + foot(0, 100), c.out_traced_bytes);
	EXPECT_EQ(foot(1, 20) + foot(0, 100), c.out_peak_bytes);
	EXPECT_EQ(2, c.out_pairs);
	/* Releasing an untraced object changes nothing. */
	ASSERT_EQ(0, objheap_release(self->heap, old));
	c = tget(self->fd);
	EXPECT_EQ(2, c.out_traced_objects);
	EXPECT_EQ(foot(1, 20) + foot(0, 100), c.out_traced_bytes);

	/* Stopping drops everything; the objects live on, untraced. */
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_peak_bytes);
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_EQ(0, c.out_pairs);
	EXPECT_EQ(0, c.out_sample_every);
	EXPECT_EQ(0, objheap_trace_tag(self->heap, h, &tag, &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(0, type);
	EXPECT_EQ(0, objheap_trace_stop(self->heap));
	/* Freed after the stop: just freed. */
	ASSERT_EQ(0, objheap_release(self->heap, h));
	ASSERT_EQ(0, objheap_release(self->heap, h0));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_LIVE(0);
}

TEST_F(trace, a_new_start_counts_from_zero_and_ignores_older_objects)
{
	struct objheap_trace_ctl c;
	uint64_t a, b, cur, peak;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	a = tnode(self->fd, 1, 1, 0, 64);
	ASSERT_NE(0, a);
	ASSERT_EQ(OBJHEAP_TAG_TRACED, ttag(self->fd, a, NULL, NULL));
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	/* Traced in the first run, not in this one. */
	EXPECT_EQ(0, ttag(self->fd, a, NULL, NULL));
	b = tnode(self->fd, 2, 1, 0, 16);
	ASSERT_NE(0, b);
	c = tget(self->fd);
	EXPECT_EQ(1, c.out_traced_objects);
	EXPECT_EQ(foot(0, 16), c.out_traced_bytes);
	EXPECT_EQ(1, c.out_pairs);
	/* Its release is no traced object's: the totals never go below. */
	ASSERT_EQ(0, objheap_release(self->heap, a));
	c = tget(self->fd);
	EXPECT_EQ(1, c.out_traced_objects);
	EXPECT_EQ(foot(0, 16), c.out_traced_bytes);
	ASSERT_EQ(0, objheap_release(self->heap, b));
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(0, cur);
	EXPECT_EQ(foot(0, 16), peak);
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);
	EXPECT_LIVE(0);
}

/* foot() is what the allocator counts, with tracing off. */
/*
 * A small object's trace word keeps only 16 bits of the tracer's epoch:
 * 65536 starts later it would pass for live again if the kernel did not
 * drop every pool's words before the short epoch comes round.  An object
 * traced once must stay untraced through every later start, and a new
 * object must still be traced after the wrap.
 */
TEST_F_TIMEOUT(trace, old_words_stay_stale_when_the_epoch_wraps, 300)
{
	struct objheap_trace_ctl c;
	uint64_t old, h, tag;
	uint32_t type;
	unsigned int i;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, objheap_new_tagged(self->heap, 77, 3, 0, 0, NULL, 8, NULL,
					&old));
	ASSERT_EQ(1, objheap_trace_tag(self->heap, old, &tag, &type, NULL));
	for (i = 0; i < 65536 + 4; i++) {
		ASSERT_EQ(0, objheap_trace_stop(self->heap));
		ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
		ASSERT_EQ(0, objheap_trace_tag(self->heap, old, &tag, &type, NULL))
			TH_LOG("start %u: an object of the first epoch is traced", i);
	}
	ASSERT_EQ(0, objheap_new_tagged(self->heap, 78, 3, 0, 0, NULL, 8, NULL,
					&h));
	ASSERT_EQ(1, objheap_trace_tag(self->heap, h, &tag, &type, NULL));
	EXPECT_EQ(78, tag);
	ASSERT_EQ(0, objheap_release(self->heap, old));
	ASSERT_EQ(0, objheap_trace_get(self->heap, &c));
	EXPECT_EQ(1, c.out_traced_objects);
	ASSERT_EQ(0, objheap_release(self->heap, h));
	ASSERT_EQ(0, objheap_trace_get(self->heap, &c));
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_EQ(0, c.out_traced_bytes);
}

TEST_F(trace, footprint_formula_matches_the_allocator)
{
	static const uint32_t shapes[][2] = {
		{ 0, 0 }, { 0, 1 }, { 0, 16 }, { 1, 0 }, { 4, 400 },
		{ 2, 47 }, { 0, 464 }, { 8, 400 }, { 3, 123 },
	};
	uint64_t before, h;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		before = object_bytes(self->fd);
		ASSERT_EQ(0, new_tagged(self->fd, 0, 1, 0, shapes[i][0],
					shapes[i][1], &h));
		EXPECT_EQ(foot(shapes[i][0], shapes[i][1]),
			  object_bytes(self->fd) - before);
		ASSERT_EQ(0, obj_release(self->fd, h));
	}
}

/* OBJHEAP_STATS out_bytes_charged, or ~0 on error. */
static uint64_t charged(int fd)
{
	struct objheap_stats st;

	return heap_stats(fd, &st) ? ~0ULL : st.out_bytes_charged;
}

/*
 * The words beside small blocks: a pool that empties keeps its words for
 * the next objects of its class, which find them clear, and a stop gives
 * all of them back, live objects' included.  Before, a pool dropped its
 * words when it emptied and got new ones when it filled again (a slab
 * allocation and its zeroing every 63 objects of a churn), and a stop
 * left them to the pools that still held objects.
 */
TEST_F(trace, pools_keep_their_words_until_the_tracing_stops)
{
	/*
	 * 64 pairs of 44 bytes.  A pool of 48-byte blocks has 84, whose
	 * words take the slab's 512-byte bucket; one of 144-byte blocks
	 * has 28, in 128 bytes.
	 */
	enum { N = 500, TABLE = 64 * 44, W48 = 512, W144 = 128 };
	static uint64_t h[N];
	uint64_t base, tag;
	struct objheap_trace_ctl c;
	uint32_t type;
	unsigned int i;

	if (sysconf(_SC_PAGESIZE) != 4096)
		SKIP(return, "the figures are those of 4 KiB pools");
	/* The handle table grows to N entries before the measures. */
	for (i = 0; i < N; i++)
		ASSERT_NE(0, h[i] = tnode(self->fd, 0, 1, 2, 0));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	base = charged(self->fd);
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));

	/* 500 two-slot objects: 6 pools of 48-byte blocks get words. */
	for (i = 0; i < N; i++)
		ASSERT_NE(0, h[i] = tnode(self->fd, 1, 1, 2, 0));
	EXPECT_EQ(base + TABLE + 6 * W48, charged(self->fd));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	EXPECT_EQ(base + TABLE + 6 * W48, charged(self->fd));
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);

	/* The same pools again, another tag: their words serve as kept. */
	for (i = 0; i < N; i++)
		ASSERT_NE(0, h[i] = tnode(self->fd, 2, 1, 2, 0));
	EXPECT_EQ(base + TABLE + 6 * W48, charged(self->fd));
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	c = tget(self->fd);
	EXPECT_EQ(N / 2, c.out_traced_objects);
	EXPECT_EQ(N / 2 * foot(2, 0), c.out_traced_bytes);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[1], &tag, &type, NULL));
	EXPECT_EQ(2, tag);

	/* Another class in the emptied pools: words of its own size. */
	for (i = 1; i < N; i += 2)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	for (i = 0; i < N; i++)
		ASSERT_NE(0, h[i] = tnode(self->fd, 3, 1, 0, 100));
	EXPECT_EQ(base + TABLE + 18 * W144, charged(self->fd));
	c = tget(self->fd);
	EXPECT_EQ(N, c.out_traced_objects);
	EXPECT_EQ(N * foot(0, 100), c.out_traced_bytes);

	/* A stop gives all of it back, the live objects' words too. */
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	EXPECT_EQ(base, charged(self->fd));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	EXPECT_EQ(base, charged(self->fd));
}

/* ==== 2. the counts against a model ==== */

#define M_TAGS		50
#define M_TYPES		5
#define M_PAIRS		(M_TAGS * M_TYPES)
#define M_OPS		20000
#define M_BATCH		32
#define M_CHECK_EVERY	5000

struct mobj {
	uint64_t h;
	uint32_t pair;
	uint32_t bytes;
};

/* A batch entry not yet submitted: a NEW, or a RELEASE of @obj. */
struct mpending {
	int is_new;
	struct mobj obj;
};

struct model {
	__u64 rng;
	uint64_t tags[M_TAGS];
	uint32_t types[M_TYPES];
	uint64_t count[M_PAIRS], bytes[M_PAIRS];
	uint64_t total, objects, peak;
	struct mobj *live;
	size_t nlive, cap;
	struct objheap_batch_buf *batch;
	struct mpending pend[M_BATCH];
	unsigned int npend;
};

static uint32_t m_rn(struct model *m, uint32_t n)
{
	return splitmix64(&m->rng) % n;
}

static void m_add(struct model *m, const struct mobj *o)
{
	m->count[o->pair]++;
	m->bytes[o->pair] += o->bytes;
	m->objects++;
	m->total += o->bytes;
	if (m->total > m->peak)
		m->peak = m->total;
}

static void m_sub(struct model *m, const struct mobj *o)
{
	m->count[o->pair]--;
	m->bytes[o->pair] -= o->bytes;
	m->objects--;
	m->total -= o->bytes;
}

static int m_keep(struct model *m, const struct mobj *o)
{
	if (m->nlive == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct mobj *v = realloc(m->live, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->live = v;
		m->cap = cap;
	}
	m->live[m->nlive++] = *o;
	return 0;
}

/* Take a random live object out of the list. */
static struct mobj m_take(struct model *m)
{
	size_t i = m_rn(m, m->nlive);
	struct mobj o = m->live[i];

	m->live[i] = m->live[--m->nlive];
	return o;
}

/*
 * Submit the pending entries; the model follows them in their order, as
 * the kernel runs them, so that its peak is the kernel's.
 */
static void m_flush(struct __test_metadata *_metadata, struct objheap *heap,
		    struct model *m)
{
	unsigned int i;

	if (!m->npend)
		return;
	ASSERT_EQ(0, objheap_batch_submit(heap, m->batch, 0));
	for (i = 0; i < m->npend; i++) {
		struct mpending *p = &m->pend[i];

		ASSERT_EQ(0, objheap_batch_result(m->batch, i));
		if (p->is_new) {
			p->obj.h = objheap_batch_handle(m->batch, i);
			ASSERT_NE(0, p->obj.h);
			m_add(m, &p->obj);
			ASSERT_EQ(0, m_keep(m, &p->obj));
		} else {
			m_sub(m, &p->obj);
		}
	}
	objheap_batch_reset(m->batch);
	m->npend = 0;
}

static void m_init(struct model *m, uint64_t seed)
{
	static const uint32_t types[M_TYPES] = {
		0, 1, 7, 0x80000000U, 0xffffffffU,
	};
	unsigned int i, j;

	m->rng = seed;
	memcpy(m->types, types, sizeof(types));
	m->tags[0] = 0;
	m->tags[1] = 1;
	m->tags[2] = 1ULL << 63;
	/* The largest tag that is not OBJHEAP_TAG_OTHER. */
	m->tags[3] = OBJHEAP_TAG_OTHER - 1;
	for (i = 4; i < M_TAGS; i++) {
		do {
			m->tags[i] = splitmix64(&m->rng);
			for (j = 0; j < i && m->tags[j] != m->tags[i]; j++)
				;
		} while (j < i || m->tags[i] == OBJHEAP_TAG_OTHER);
	}
}

/* The heap's statistics, grouped three ways, and its totals: the model's. */
static void m_compare(struct __test_metadata *_metadata, struct objheap *heap,
		      struct model *m)
{
	uint64_t tcount[M_TAGS] = { 0 }, tbytes[M_TAGS] = { 0 };
	uint64_t ycount[M_TYPES] = { 0 }, ybytes[M_TYPES] = { 0 };
	const struct objheap_trace_stat *s;
	struct objheap_trace_stat *st;
	struct objheap_trace_ctl c;
	size_t n, want = 0;
	unsigned int p, i;
	uint64_t cur, peak;

	st = stats_of(_metadata, heap, 0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	for (p = 0; p < M_PAIRS; p++) {
		uint64_t tag = m->tags[p / M_TYPES];
		uint32_t type = m->types[p % M_TYPES];

		tcount[p / M_TYPES] += m->count[p];
		tbytes[p / M_TYPES] += m->bytes[p];
		ycount[p % M_TYPES] += m->count[p];
		ybytes[p % M_TYPES] += m->bytes[p];
		if (!m->count[p])
			continue;
		want++;
		s = find_stat(st, n, tag, type);
		EXPECT_NE(NULL, s);
		if (!s)
			continue;
		EXPECT_EQ(m->count[p], s->count);
		EXPECT_EQ(m->bytes[p], s->bytes);
		/* Without a base, the change is the figure itself. */
		EXPECT_EQ((int64_t)m->count[p], s->count_diff);
		EXPECT_EQ((int64_t)m->bytes[p], s->bytes_diff);
		if (m->count[p] != s->count || m->bytes[p] != s->bytes)
			TH_LOG("pair (%#" PRIx64 ", %u)", tag, type);
	}
	/* And nothing else. */
	EXPECT_EQ(want, n);
	free(st);

	st = stats_of(_metadata, heap, 0, 0, OBJHEAP_GROUP_TAG, NULL, &n);
	for (i = 0, want = 0; i < M_TAGS; i++) {
		if (!tcount[i])
			continue;
		want++;
		s = find_stat(st, n, m->tags[i], 0);
		EXPECT_NE(NULL, s);
		if (!s)
			continue;
		EXPECT_EQ(tcount[i], s->count);
		EXPECT_EQ(tbytes[i], s->bytes);
	}
	EXPECT_EQ(want, n);
	free(st);

	st = stats_of(_metadata, heap, 0, 0, OBJHEAP_GROUP_TYPE, NULL, &n);
	for (i = 0, want = 0; i < M_TYPES; i++) {
		if (!ycount[i])
			continue;
		want++;
		s = find_stat(st, n, 0, m->types[i]);
		EXPECT_NE(NULL, s);
		if (!s)
			continue;
		EXPECT_EQ(ycount[i], s->count);
		EXPECT_EQ(ybytes[i], s->bytes);
	}
	EXPECT_EQ(want, n);
	free(st);

	ASSERT_EQ(0, objheap_get_traced_memory(heap, &cur, &peak));
	EXPECT_EQ(m->total, cur);
	EXPECT_EQ(m->peak, peak);
	ASSERT_EQ(0, objheap_trace_get(heap, &c));
	EXPECT_EQ(m->objects, c.out_traced_objects);
	EXPECT_EQ(m->total, c.out_traced_bytes);
}

static void m_run(struct __test_metadata *_metadata, struct objheap *heap,
		  uint64_t seed)
{
	static uint8_t data[400];
	struct model *m = calloc(1, sizeof(*m));
	struct objheap_trace_stat *st;
	unsigned int op, i;
	size_t n;

	ASSERT_NE(NULL, m);
	m_init(m, seed);
	for (i = 0; i < sizeof(data); i++)
		data[i] = i;
	ASSERT_EQ(0, objheap_batch_alloc(&m->batch, M_BATCH));
	ASSERT_EQ(0, objheap_trace_start(heap, 1));

	for (op = 0; op < M_OPS && _metadata->passed; op++) {
		int in_batch = m_rn(m, 4) == 0;
		struct mobj o;

		if (m_rn(m, 100) < 55 || !m->nlive) {
			uint32_t nslots = m_rn(m, 5), len = m_rn(m, 401);
			uint32_t flags = m_rn(m, 8) ? 0 : OBJHEAP_OBJ_IMMUTABLE;
			const void *src = m_rn(m, 2) ? data : NULL;
			uint32_t t = m_rn(m, M_TAGS), y = m_rn(m, M_TYPES);

			o.pair = t * M_TYPES + y;
			o.bytes = foot(nslots, len);
			if (in_batch) {
				ASSERT_EQ(m->npend,
					  objheap_batch_new_tagged(m->batch,
						m->tags[t], m->types[y], flags,
						nslots, src, len, NULL));
				m->pend[m->npend].is_new = 1;
				m->pend[m->npend++].obj = o;
			} else {
				ASSERT_EQ(0, objheap_new_tagged(heap,
						m->tags[t], m->types[y], flags,
						nslots, src, len, NULL, &o.h));
				m_add(m, &o);
				ASSERT_EQ(0, m_keep(m, &o));
			}
		} else {
			o = m_take(m);
			if (in_batch) {
				ASSERT_EQ(m->npend,
					  objheap_batch_release(m->batch, o.h));
				m->pend[m->npend].is_new = 0;
				m->pend[m->npend++].obj = o;
			} else {
				ASSERT_EQ(0, objheap_release(heap, o.h));
				m_sub(m, &o);
			}
		}
		if (m->npend == M_BATCH || (m->npend && !m_rn(m, 20)))
			m_flush(_metadata, heap, m);
		if (op % M_CHECK_EVERY == M_CHECK_EVERY - 1) {
			m_flush(_metadata, heap, m);
			m_compare(_metadata, heap, m);
		}
	}
	m_flush(_metadata, heap, m);
	m_compare(_metadata, heap, m);
	if (!_metadata->passed)
		TH_LOG("seed %#" PRIx64 ", operation %u", seed, op);

	/* Everything released: no row left, the peak stays. */
	for (i = 0; i < m->nlive; i++)
		ASSERT_EQ(0, objheap_release(heap, m->live[i].h));
	for (i = 0; i < m->nlive; i++)
		m_sub(m, &m->live[i]);
	m->nlive = 0;
	m_compare(_metadata, heap, m);
	st = stats_of(_metadata, heap, 0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	EXPECT_EQ(0, n);
	EXPECT_EQ(NULL, st);
	free(st);
	ASSERT_EQ(0, objheap_trace_stop(heap));
	objheap_batch_free(m->batch);
	free(m->live);
	free(m);
}

TEST_F_TIMEOUT(trace, random_creations_and_releases_match_the_model, 600)
{
	static const uint64_t seeds[] = {
		0x7472616365ULL, 0x6d616c6c6f63ULL, 0x736e617073686f74ULL,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(seeds) && _metadata->passed; i++)
		m_run(_metadata, self->heap, seeds[i]);
	EXPECT_LIVE(0);
}

/* Unreachable cycles the collector frees leave the counts as they go. */
TEST_F(trace, objects_the_collector_frees_leave_the_counts)
{
	uint64_t h[4], keep[10], want_bytes = 0, cycle_bytes = 0;
	uint64_t cycle_count[5] = { 0 }, cycle_sum[5] = { 0 };
	const struct objheap_trace_stat *s;
	struct objheap_trace_stat *st;
	__u64 rng = 42;
	uint64_t freed = 0;
	unsigned int i, j, k;
	size_t n;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	for (i = 0; i < 10; i++) {
		keep[i] = tnode(self->fd, 200, 3, 0, 10 * i);
		ASSERT_NE(0, keep[i]);
		want_bytes += foot(0, 10 * i);
	}
	for (i = 0; i < 30; i++) {
		unsigned int size = 2 + splitmix64(&rng) % 3;
		unsigned int t = splitmix64(&rng) % 5;

		for (j = 0; j < size; j++) {
			uint32_t len = splitmix64(&rng) % 100;

			h[j] = tnode(self->fd, 100 + t, 4, 1, len);
			ASSERT_NE(0, h[j]);
			cycle_count[t]++;
			cycle_sum[t] += foot(1, len);
			cycle_bytes += foot(1, len);
		}
		for (j = 0; j < size; j++)
			ASSERT_EQ(0, objheap_set_slot(self->heap, h[j], 0,
						      h[(j + 1) % size]));
		for (j = 0; j < size; j++)
			ASSERT_EQ(0, objheap_release(self->heap, h[j]));
		freed += size;
	}
	/* Unreachable, not freed yet: still counted. */
	st = stats_of(_metadata, self->heap,
		      0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	for (k = 0; k < 5; k++) {
		s = find_stat(st, n, 100 + k, 4);
		if (!cycle_count[k]) {
			EXPECT_EQ(NULL, s);
			continue;
		}
		ASSERT_NE(NULL, s);
		EXPECT_EQ(cycle_count[k], s->count);
		EXPECT_EQ(cycle_sum[k], s->bytes);
	}
	free(st);
	EXPECT_EQ(want_bytes + cycle_bytes, tget(self->fd).out_traced_bytes);

	EXPECT_EQ(freed, objheap_gc_collect(self->heap, 2, NULL));
	st = stats_of(_metadata, self->heap,
		      0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 200, 3, 10, want_bytes, 10, want_bytes },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	EXPECT_EQ(10, tget(self->fd).out_traced_objects);
	EXPECT_EQ(want_bytes, tget(self->fd).out_traced_bytes);
	EXPECT_EQ(want_bytes + cycle_bytes, tget(self->fd).out_peak_bytes);
	ASSERT_EQ(0, objheap_release_array(self->heap, keep, 10));
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);
	EXPECT_LIVE(0);
}

/* ==== 3. the peak ==== */

TEST_F(trace, peak_stays_until_reset_then_follows_the_bytes)
{
	uint64_t h[10], more, cur, peak;
	const uint64_t f = foot(0, 448);	/* 496 */
	unsigned int i;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	for (i = 0; i < 10; i++) {
		h[i] = tnode(self->fd, 9, 9, 0, 448);
		ASSERT_NE(0, h[i]);
	}
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(10 * f, cur);
	EXPECT_EQ(10 * f, peak);
	for (i = 0; i < 7; i++)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(3 * f, cur);
	EXPECT_EQ(10 * f, peak);

	ASSERT_EQ(0, objheap_trace_reset_peak(self->heap));
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(3 * f, cur);
	EXPECT_EQ(3 * f, peak);
	/* Either pointer may be NULL. */
	cur = 0;
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, NULL));
	EXPECT_EQ(3 * f, cur);
	peak = 0;
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, NULL, &peak));
	EXPECT_EQ(3 * f, peak);

	more = tnode(self->fd, 9, 9, 0, 448);
	ASSERT_NE(0, more);
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(4 * f, cur);
	EXPECT_EQ(4 * f, peak);
	ASSERT_EQ(0, obj_release(self->fd, more));
	for (i = 7; i < 10; i++)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(0, cur);
	EXPECT_EQ(4 * f, peak);
	ASSERT_EQ(0, objheap_trace_reset_peak(self->heap));
	ASSERT_EQ(0, objheap_get_traced_memory(self->heap, &cur, &peak));
	EXPECT_EQ(0, cur);
	EXPECT_EQ(0, peak);
	EXPECT_LIVE(0);
}

/* ==== 4. snapshots ==== */

/* @n objects of one pair, their handles in @h. */
static void make_n(struct __test_metadata *_metadata, int fd, uint64_t *h,
		   unsigned int n, uint64_t tag, uint32_t type, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		h[i] = tnode(fd, tag, type, 0, len);
		ASSERT_NE(0, h[i]);
	}
}

TEST_F(trace, snapshots_diff_exactly_and_never_change)
{
	/* The blocks of the four pairs' objects. */
	const int64_t A = foot(0, 16), B = foot(0, 100), C = foot(0, 0),
		      D = foot(0, 200);
	uint64_t a[3], b[6], c[1], d[5];
	struct objheap_trace_stat *st;
	uint32_t s1, s2;
	size_t n;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	make_n(_metadata, self->fd, a, 3, 1, 1, 16);	/* A each */
	make_n(_metadata, self->fd, b, 2, 2, 1, 100);	/* B each */
	make_n(_metadata, self->fd, c, 1, 3, 2, 0);	/* C */
	ASSERT_EQ(0, objheap_snapshot_take(self->heap, &s1));
	EXPECT_LE(1, s1);
	EXPECT_GE(OBJHEAP_TRACE_SNAPSHOTS_MAX, s1);

	ASSERT_EQ(0, obj_release(self->fd, a[0]));
	ASSERT_EQ(0, obj_release(self->fd, a[1]));
	make_n(_metadata, self->fd, b + 2, 4, 2, 1, 100);
	make_n(_metadata, self->fd, d, 5, 4, 3, 200);	/* D each */
	ASSERT_EQ(0, obj_release(self->fd, c[0]));
	ASSERT_EQ(0, objheap_snapshot_take(self->heap, &s2));
	EXPECT_NE(s1, s2);
	EXPECT_EQ(2, tget(self->fd).out_snapshots);

	/* compare_to(s2, s1), by pair and by type. */
	st = stats_of(_metadata, self->heap,
		      s2, s1, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 4, 3, 5, 5 * D, 5, 5 * D },
			{ 2, 1, 6, 6 * B, 4, 4 * B },
			{ 1, 1, 1, A, -2, -(2 * A) },
			{ 3, 2, 0, 0, -1, -(C) },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	st = stats_of(_metadata, self->heap,
		      s2, s1, OBJHEAP_GROUP_TYPE, NULL, &n);
	{
		const struct want w[] = {
			{ 0, 3, 5, 5 * D, 5, 5 * D },
			{ 0, 1, 7, 6 * B + A, 2, 4 * B - 2 * A },
			{ 0, 2, 0, 0, -1, -(C) },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	/* The other way round: the base may be the newer one. */
	st = stats_of(_metadata, self->heap,
		      s1, s2, OBJHEAP_GROUP_TAG, NULL, &n);
	{
		const struct want w[] = {
			{ 4, 0, 0, 0, -5, -(5 * D) },
			{ 2, 0, 2, 2 * B, -4, -(4 * B) },
			{ 1, 0, 3, 3 * A, 2, 2 * A },
			{ 3, 0, 1, C, 1, C },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);

	/* The live counts move on; the snapshots stay as taken. */
	ASSERT_EQ(0, objheap_release_array(self->heap, d, 5));
	st = stats_of(_metadata, self->heap,
		      0, s1, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		/* (4, 3) is 0 now and was 0 then: no row. */
		const struct want w[] = {
			{ 2, 1, 6, 6 * B, 4, 4 * B },
			{ 1, 1, 1, A, -2, -(2 * A) },
			{ 3, 2, 0, 0, -1, -(C) },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	st = stats_of(_metadata, self->heap,
		      s1, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 2, 1, 2, 2 * B, 2, 2 * B },
			{ 1, 1, 3, 3 * A, 3, 3 * A },
			{ 3, 2, 1, C, 1, C },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	st = stats_of(_metadata, self->heap,
		      s2, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 4, 3, 5, 5 * D, 5, 5 * D },
			{ 2, 1, 6, 6 * B, 6, 6 * B },
			{ 1, 1, 1, A, 1, A },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);

	/* A dropped snapshot is gone, as base and as snapshot. */
	ASSERT_EQ(0, objheap_snapshot_drop(self->heap, s1));
	EXPECT_EQ(1, tget(self->fd).out_snapshots);
	st = NULL;
	EXPECT_EQ(-ENOENT, objheap_trace_statistics(self->heap, s2, s1,
			OBJHEAP_GROUP_PAIR, NULL, &st, &n));
	EXPECT_EQ(-ENOENT, objheap_trace_statistics(self->heap, s1, 0,
			OBJHEAP_GROUP_PAIR, NULL, &st, &n));
	EXPECT_EQ(-ENOENT, objheap_snapshot_drop(self->heap, s1));
	EXPECT_EQ(NULL, st);

	ASSERT_EQ(0, objheap_release(self->heap, a[2]));
	ASSERT_EQ(0, objheap_release_array(self->heap, b, 6));
	EXPECT_LIVE(0);
}

/* Equal changes and sizes are ordered by tag, then type. */
TEST_F(trace, statistics_break_ties_by_tag_then_type)
{
	const int64_t A = foot(0, 16);
	uint64_t h[8];
	struct objheap_trace_stat *st;
	uint32_t s1;
	size_t n;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	make_n(_metadata, self->fd, h, 2, 1, 1, 16);	/* A each */
	ASSERT_EQ(0, objheap_snapshot_take(self->heap, &s1));
	make_n(_metadata, self->fd, h + 2, 1, 1, 1, 16);
	make_n(_metadata, self->fd, h + 3, 1, 3, 1, 16);
	make_n(_metadata, self->fd, h + 4, 1, 2, 5, 16);
	make_n(_metadata, self->fd, h + 5, 1, 2, 4, 16);

	st = stats_of(_metadata, self->heap,
		      0, s1, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 1, 1, 3, 3 * A, 1, A },
			{ 2, 4, 1, A, 1, A },
			{ 2, 5, 1, A, 1, A },
			{ 3, 1, 1, A, 1, A },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	st = stats_of(_metadata, self->heap,
		      0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 1, 1, 3, 3 * A, 3, 3 * A },
			{ 2, 4, 1, A, 1, A },
			{ 2, 5, 1, A, 1, A },
			{ 3, 1, 1, A, 1, A },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	ASSERT_EQ(0, objheap_release_array(self->heap, h, 6));
}

TEST_F(trace, snapshot_bounds_and_ids)
{
	uint32_t ids[OBJHEAP_TRACE_SNAPSHOTS_MAX], id, again;
	struct objheap_trace_snapshot s;
	struct rowset rs;
	unsigned int i, j;

	/* Not tracing: nothing to keep. */
	EXPECT_EQ(-ENODATA, objheap_snapshot_take(self->heap, &id));
	EXPECT_EQ(-ENODATA, objheap_snapshot_drop(self->heap, 1));

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX; i++) {
		ASSERT_EQ(0, objheap_snapshot_take(self->heap, &ids[i]));
		EXPECT_LE(1, ids[i]);
		EXPECT_GE(OBJHEAP_TRACE_SNAPSHOTS_MAX, ids[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(ids[j], ids[i]);
	}
	EXPECT_EQ(OBJHEAP_TRACE_SNAPSHOTS_MAX, tget(self->fd).out_snapshots);
	EXPECT_EQ(-ENOSPC, objheap_snapshot_take(self->heap, &id));
	EXPECT_EQ(OBJHEAP_TRACE_SNAPSHOTS_MAX, tget(self->fd).out_snapshots);

	/* Dropping one makes room for one. */
	ASSERT_EQ(0, objheap_snapshot_drop(self->heap, ids[5]));
	EXPECT_EQ(-ENOENT, objheap_snapshot_drop(self->heap, ids[5]));
	EXPECT_EQ(-ENOENT, read_rows(self->fd, ids[5], 0, 16, &rs));
	EXPECT_EQ(-ENOENT, read_rows(self->fd, 0, ids[5], 16, &rs));
	EXPECT_EQ(OBJHEAP_TRACE_SNAPSHOTS_MAX - 1,
		  tget(self->fd).out_snapshots);
	ASSERT_EQ(0, objheap_snapshot_take(self->heap, &again));
	EXPECT_LE(1, again);
	EXPECT_GE(OBJHEAP_TRACE_SNAPSHOTS_MAX, again);
	for (j = 0; j < OBJHEAP_TRACE_SNAPSHOTS_MAX; j++)
		if (j != 5)
			EXPECT_NE(ids[j], again);
	ids[5] = again;
	EXPECT_EQ(-ENOSPC, objheap_snapshot_take(self->heap, &id));

	/* An id without OBJHEAP_SNAPSHOT_DROP, and unknown flags. */
	s = (struct objheap_trace_snapshot){ .size = sizeof(s), .id = ids[0] };
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_SNAPSHOT, &s));
	for (i = 1; i < 32; i++) {
		s = (struct objheap_trace_snapshot){
			.size = sizeof(s), .flags = 1U << i,
		};
		EXPECT_ERRNO(EINVAL,
			     ioctl(self->fd, OBJHEAP_TRACE_SNAPSHOT, &s));
		s.flags |= OBJHEAP_SNAPSHOT_DROP;
		s.id = ids[0];
		EXPECT_ERRNO(EINVAL,
			     ioctl(self->fd, OBJHEAP_TRACE_SNAPSHOT, &s));
	}
	EXPECT_EQ(OBJHEAP_TRACE_SNAPSHOTS_MAX, tget(self->fd).out_snapshots);

	/* Stopping drops them all; a new run has room for as many. */
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	EXPECT_EQ(0, tget(self->fd).out_snapshots);
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	EXPECT_EQ(0, tget(self->fd).out_snapshots);
	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX; i++)
		EXPECT_EQ(-ENOENT, read_rows(self->fd, ids[i], 0, 16, &rs));
	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX; i++)
		ASSERT_EQ(0, objheap_snapshot_take(self->heap, &ids[i]));
	EXPECT_EQ(-ENOSPC, objheap_snapshot_take(self->heap, &id));
	for (i = 0; i < OBJHEAP_TRACE_SNAPSHOTS_MAX; i++)
		EXPECT_EQ(0, objheap_snapshot_drop(self->heap, ids[i]));
	EXPECT_EQ(0, tget(self->fd).out_snapshots);
}

/* ==== 5. filters ==== */

TEST_F(trace, filters_include_or_exclude_tags_before_grouping)
{
	static const uint64_t tags[] = { 10, 20, 30 };
	/* Unsorted, and one tag no object has. */
	const uint64_t inc[] = { 30, 999, 10 };
	struct objheap_trace_filter f;
	struct objheap_trace_stat *st;
	uint64_t h[12];
	unsigned int i;
	size_t n;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	/* Tag t: (t, 1) once with 16 bytes, (t, 2) twice with t bytes. */
	for (i = 0; i < 3; i++) {
		h[4 * i] = tnode(self->fd, tags[i], 1, 0, 16);
		h[4 * i + 1] = tnode(self->fd, tags[i], 2, 0, tags[i]);
		h[4 * i + 2] = tnode(self->fd, tags[i], 2, 0, tags[i]);
		h[4 * i + 3] = 0;
		ASSERT_NE(0, h[4 * i]);
		ASSERT_NE(0, h[4 * i + 1]);
		ASSERT_NE(0, h[4 * i + 2]);
	}

	f = (struct objheap_trace_filter){ .tags = inc, .ntags = 3 };
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_PAIR, &f, &n);
	{
		const struct want w[] = {
			{ 30, 2, 2, 2 * foot(0, 30), 2, 2 * foot(0, 30) },
			{ 10, 2, 2, 2 * foot(0, 10), 2, 2 * foot(0, 10) },
			{ 10, 1, 1, foot(0, 16), 1, foot(0, 16) },
			{ 30, 1, 1, foot(0, 16), 1, foot(0, 16) },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);

	/* By type: only the included tags add up. */
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_TYPE, &f, &n);
	{
		const uint64_t b2 = 2 * foot(0, 10) + 2 * foot(0, 30);
		const struct want w[] = {
			{ 0, 2, 4, b2, 4, b2 },
			{ 0, 1, 2, 2 * foot(0, 16), 2, 2 * foot(0, 16) },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);

	f = (struct objheap_trace_filter){ .tags = inc, .ntags = 1,
					   .exclude = 1 };
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_TAG, &f, &n);
	{
		const uint64_t b10 = foot(0, 16) + 2 * foot(0, 10);
		const uint64_t b20 = foot(0, 16) + 2 * foot(0, 20);
		const struct want w[] = {
			{ 20, 0, 3, b20, 3, b20 },
			{ 10, 0, 3, b10, 3, b10 },
		};

		/* 30 left out. */
		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);

	/* No tag to include: nothing; none to exclude: everything. */
	f = (struct objheap_trace_filter){ .tags = inc, .ntags = 0 };
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_PAIR, &f, &n);
	EXPECT_EQ(0, n);
	EXPECT_EQ(NULL, st);
	f.exclude = 1;
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_PAIR, &f, &n);
	EXPECT_EQ(6, n);
	free(st);
	/* Tags without their array; a group that does not exist. */
	f = (struct objheap_trace_filter){ .tags = NULL, .ntags = 2 };
	EXPECT_EQ(-EINVAL, objheap_trace_statistics(self->heap, 0, 0,
			OBJHEAP_GROUP_PAIR, &f, &st, &n));
	EXPECT_EQ(-EINVAL, objheap_trace_statistics(self->heap, 0, 0,
			(enum objheap_group)(OBJHEAP_GROUP_ORIGIN + 1), NULL,
			&st, &n));
	EXPECT_EQ(-EINVAL, objheap_trace_statistics(self->heap, 0, 0,
			OBJHEAP_GROUP_PAIR, NULL, NULL, &n));
	EXPECT_EQ(-EINVAL, objheap_trace_statistics(self->heap, 0, 0,
			OBJHEAP_GROUP_PAIR, NULL, &st, NULL));

	for (i = 0; i < 12; i++)
		if (h[i])
			ASSERT_EQ(0, obj_release(self->fd, h[i]));
	EXPECT_LIVE(0);
}

/* ==== 6. sampling ==== */

#define S_PERIOD	16
#define S_OBJECTS	200000
#define S_SCAN		20000

static void new_many(struct __test_metadata *_metadata, struct objheap *heap,
		     uint64_t *h, unsigned int count, uint64_t tag,
		     uint32_t type, uint32_t len)
{
	struct objheap_batch_buf *b;
	unsigned int done, i, n;

	ASSERT_EQ(0, objheap_batch_alloc(&b, OBJHEAP_BATCH_MAX_COUNT));
	for (done = 0; done < count; done += n) {
		n = count - done < OBJHEAP_BATCH_MAX_COUNT ?
		    count - done : OBJHEAP_BATCH_MAX_COUNT;
		objheap_batch_reset(b);
		for (i = 0; i < n; i++)
			ASSERT_LE(0, objheap_batch_new_tagged(b, tag, type, 0,
							      0, NULL, len,
							      NULL));
		ASSERT_EQ(0, objheap_batch_submit(heap, b, 0));
		for (i = 0; i < n; i++)
			h[done + i] = objheap_batch_handle(b, i);
	}
	objheap_batch_free(b);
}

TEST_F_TIMEOUT(trace, sampling_traces_one_object_in_n, 600)
{
	uint64_t *h = calloc(S_OBJECTS, sizeof(*h)), est, count, bytes;
	long last = -1, gap, max_gap = 0;
	struct objheap_trace_ctl c;
	unsigned int i, traced;
	uint64_t tag;
	uint32_t type;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, objheap_trace_start(self->heap, S_PERIOD));
	c = tget(self->fd);
	EXPECT_EQ(S_PERIOD, c.out_sample_every);
	new_many(_metadata, self->heap, h, S_OBJECTS, 0xabc, 9, 8);

	c = tget(self->fd);
	count = c.out_traced_objects;
	EXPECT_EQ(count * foot(0, 8), c.out_traced_bytes);
	pair_now(self->fd, 0xabc, 9, &count, &bytes);
	EXPECT_EQ(c.out_traced_objects, count);
	EXPECT_EQ(count * foot(0, 8), bytes);
	/*
	 * The estimate, N times the traced count, within 6 % of the truth.
	 * Gaps uniform in [1, 2N - 1] have mean N and variance
	 * ((2N - 1)^2 - 1) / 12 = 80 for N = 16, so the count of n objects
	 * has a standard deviation of sqrt(n * 80 / N^3) = 62.5 for
	 * n = 2 * 10^5 (0.5 %); even independent draws with probability
	 * 1/N would give sqrt(n / N) = 112 (0.9 %, the header's
	 * sqrt(N / count)).  6 % is more than 6 of the latter: a failure is
	 * the sampling being wrong, not bad luck.
	 */
	est = S_PERIOD * count;
	TH_LOG("%" PRIu64 " of %u objects traced: estimate %" PRIu64,
	       count, S_OBJECTS, est);
	EXPECT_LE((uint64_t)S_OBJECTS * 94 / 100, est);
	EXPECT_GE((uint64_t)S_OBJECTS * 106 / 100, est);

	/* Between two traced objects, never more than 2N - 1. */
	for (i = 0, traced = 0; i < S_SCAN; i++) {
		int flags = ttag(self->fd, h[i], &tag, &type);

		ASSERT_LE(0, flags);
		if (!(flags & OBJHEAP_TAG_TRACED)) {
			EXPECT_EQ(0, tag);
			EXPECT_EQ(0, type);
			continue;
		}
		EXPECT_EQ(0xabc, tag);
		EXPECT_EQ(9, type);
		traced++;
		if (last >= 0) {
			gap = (long)i - last;
			if (gap > max_gap)
				max_gap = gap;
		}
		last = i;
	}
	TH_LOG("%u of the first %u traced, longest gap %ld", traced, S_SCAN,
	       max_gap);
	EXPECT_GE(2 * S_PERIOD - 1, max_gap);
	EXPECT_LT(0, traced);

	ASSERT_EQ(0, objheap_release_array(self->heap, h, S_OBJECTS));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_EQ(0, c.out_traced_bytes);

	/* Started again with 1, and with 0: every object. */
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	EXPECT_EQ(1, tget(self->fd).out_sample_every);
	new_many(_metadata, self->heap, h, 1000, 0xdef, 2, 8);
	for (i = 0; i < 1000; i++)
		EXPECT_EQ(OBJHEAP_TAG_TRACED, ttag(self->fd, h[i], NULL, NULL));
	EXPECT_EQ(1000, tget(self->fd).out_traced_objects);
	ASSERT_EQ(0, objheap_release_array(self->heap, h, 1000));
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	ASSERT_EQ(0, objheap_trace_start(self->heap, 0));
	new_many(_metadata, self->heap, h, 1000, 0xdef, 2, 8);
	EXPECT_EQ(1000, tget(self->fd).out_traced_objects);
	EXPECT_EQ(1000 * foot(0, 8), tget(self->fd).out_traced_bytes);
	ASSERT_EQ(0, objheap_release_array(self->heap, h, 1000));
	free(h);
	EXPECT_LIVE(0);
}

/* ==== 7. bytes that are not one block ==== */

TEST_F(trace, resizing_moves_the_bytes_of_traced_objects_only)
{
	uint64_t old, r, m, big, count, bytes, b0, b1, b2;
	size_t page = sysconf(_SC_PAGESIZE);
	struct objheap_trace_ctl c;

	/* Created before the start: resizing it moves nothing traced. */
	ASSERT_EQ(0, new_tagged(self->fd, 0, 1, OBJHEAP_OBJ_RESIZABLE, 0, 8,
				&old));
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, objheap_resize(self->heap, old, 5000));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_traced_objects);
	ASSERT_EQ(0, objheap_release(self->heap, old));

	ASSERT_EQ(0, new_tagged(self->fd, 7, 1, OBJHEAP_OBJ_RESIZABLE, 0, 8,
				&r));
	pair_now(self->fd, 7, 1, &count, &b0);
	EXPECT_EQ(1, count);
	/* Its header block, and at least its payload somewhere. */
	EXPECT_LE(48 + 8, b0);
	EXPECT_EQ(b0, tget(self->fd).out_traced_bytes);

	ASSERT_EQ(0, objheap_resize(self->heap, r, 1008));
	pair_now(self->fd, 7, 1, &count, &b1);
	EXPECT_EQ(1, count);
	EXPECT_LE(b0 + 1000, b1);
	c = tget(self->fd);
	EXPECT_EQ(b1, c.out_traced_bytes);
	/* The change is applied at once: the old block and the new never
	 * count together. */
	EXPECT_EQ(b1, c.out_peak_bytes);
	EXPECT_EQ(1, c.out_traced_objects);

	/*
	 * Back to 8 bytes: the outline block may keep some room (see DOC:
	 * Payloads), so only the bounds are certain.
	 */
	ASSERT_EQ(0, objheap_resize(self->heap, r, 8));
	pair_now(self->fd, 7, 1, &count, &b2);
	EXPECT_EQ(1, count);
	EXPECT_GE(b1, b2);
	EXPECT_LE(48 + 8, b2);
	c = tget(self->fd);
	EXPECT_EQ(b2, c.out_traced_bytes);
	EXPECT_EQ(b1, c.out_peak_bytes);
	ASSERT_EQ(0, objheap_release(self->heap, r));
	pair_now(self->fd, 7, 1, &count, &bytes);
	EXPECT_EQ(0, count);
	EXPECT_EQ(0, bytes);

	/* A mappable payload: its pages. */
	ASSERT_EQ(0, new_tagged(self->fd, 8, 1, OBJHEAP_OBJ_MAPPABLE, 0, 10000,
				&m));
	pair_now(self->fd, 8, 1, &count, &bytes);
	EXPECT_EQ(1, count);
	EXPECT_LE((10000 + page - 1) / page * page, bytes);
	EXPECT_EQ(bytes, tget(self->fd).out_traced_bytes);
	ASSERT_EQ(0, objheap_release(self->heap, m));

	/*
	 * A large object: its block, and the trace at the end of it; the
	 * rounding of the two together is the kernel's.
	 */
	ASSERT_EQ(0, new_tagged(self->fd, 9, 1, 0, 0, 1000, &big));
	pair_now(self->fd, 9, 1, &count, &bytes);
	EXPECT_EQ(1, count);
	EXPECT_LE(48 + 1000 + 8, bytes);
	EXPECT_GE(foot(0, 1000) + 16, bytes);
	ASSERT_EQ(0, objheap_release(self->heap, big));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_bytes);
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_LIVE(0);
}

/* Interned objects and weak references: tag 0, their own type. */
TEST_F(trace, other_creating_commands_trace_with_tag_zero)
{
	uint64_t t, in, wr, tag, count, bytes;
	uint32_t type;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	t = tnode(self->fd, 5, 6, 0, 0);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, objheap_intern(self->heap, 33, 0, "interned value", 14,
				    &in));
	EXPECT_EQ(1, objheap_trace_tag(self->heap, in, &tag, &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(33, type);
	pair_now(self->fd, 0, 33, &count, &bytes);
	EXPECT_EQ(1, count);
	EXPECT_EQ(foot(0, 14), bytes);

	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 1, 0, &wr));
	EXPECT_EQ(1, objheap_trace_tag(self->heap, wr, &tag, &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(0, type);
	pair_now(self->fd, 0, 0, &count, &bytes);
	EXPECT_EQ(1, count);
	/* The weak reference's payload is the kernel's own: a bound. */
	EXPECT_LE(48, bytes);
	EXPECT_EQ(3, tget(self->fd).out_traced_objects);

	ASSERT_EQ(0, objheap_release(self->heap, wr));
	ASSERT_EQ(0, objheap_release(self->heap, in));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);
	EXPECT_EQ(0, tget(self->fd).out_traced_bytes);
	EXPECT_LIVE(0);
}

/* Batches: tagged and untagged NEW entries, and a NEW of the old size. */
TEST_F(trace, batch_entries_carry_their_tags)
{
	const uint32_t old_size = offsetofend(struct objheap_new, out_handle);
	struct objheap_batch_entry *e1, *e2;
	struct objheap_new *n1, *n2;
	struct objheap_batch_buf *b;
	struct objheap_batch bc;
	uint64_t h[3], tag, slots[1], raw[16];
	uint32_t type;
	int i;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, objheap_batch_alloc(&b, 8));
	ASSERT_EQ(0, objheap_batch_new_tagged(b, 0xfeed, 3, 0, 0, NULL, 8,
					      NULL));
	ASSERT_EQ(1, objheap_batch_new(b, 4, 0, 0, NULL, 8, NULL));
	slots[0] = OBJHEAP_BATCH_REF(0);
	ASSERT_EQ(2, objheap_batch_new_tagged(b, 0xbeef, 5, 0, 1, NULL, 0,
					      slots));
	ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
	for (i = 0; i < 3; i++)
		h[i] = objheap_batch_handle(b, i);
	objheap_batch_free(b);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[0], &tag, &type, NULL));
	EXPECT_EQ(0xfeed, tag);
	EXPECT_EQ(3, type);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[1], &tag, &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(4, type);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[2], &tag, &type, NULL));
	EXPECT_EQ(0xbeef, tag);
	EXPECT_EQ(5, type);
	EXPECT_EQ(foot(0, 8) * 2 + foot(1, 0), tget(self->fd).out_traced_bytes);

	/*
	 * By hand: an entry whose structure ends before the tag, so that the
	 * bytes where its tag would be are the next entry's header (a
	 * command number, not zero), then an entry with the tag.  The first
	 * object gets tag 0.
	 */
	ASSERT_EQ(48, old_size);
	memset(raw, 0, sizeof(raw));
	e1 = (struct objheap_batch_entry *)raw;
	n1 = (struct objheap_new *)(e1 + 1);
	e2 = (struct objheap_batch_entry *)((char *)raw + sizeof(*e1) +
					    old_size);
	n2 = (struct objheap_new *)(e2 + 1);
	e1->cmd = OBJHEAP_CMD_NEW;
	n1->size = old_size;
	n1->type = 11;
	e2->cmd = OBJHEAP_CMD_NEW;
	n2->size = sizeof(*n2);
	n2->type = 12;
	n2->tag = 0x5a5a;
	bc = (struct objheap_batch){
		.size = sizeof(bc), .count = 2,
		.len = (char *)(n2 + 1) - (char *)raw,
		.buf_uptr = (uintptr_t)raw,
	};
	ASSERT_GE(sizeof(raw), bc.len);
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_BATCH, &bc));
	ASSERT_EQ(2, bc.out_done);
	ASSERT_EQ(0, e1->out_result);
	ASSERT_EQ(0, e2->out_result);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, n1->out_handle, &tag,
				       &type, NULL));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(11, type);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, n2->out_handle, &tag,
				       &type, NULL));
	EXPECT_EQ(0x5a5a, tag);
	EXPECT_EQ(12, type);

	ASSERT_EQ(0, objheap_release(self->heap, n1->out_handle));
	ASSERT_EQ(0, objheap_release(self->heap, n2->out_handle));
	ASSERT_EQ(0, objheap_release_array(self->heap, h, 3));
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);
	EXPECT_LIVE(0);
}

/*
 * Callers of objheap_new_here() that make no tail call, so that the call
 * site is theirs, and that the compiler neither clones nor merges: the
 * return address must lie in the function whose address is taken.
 */
#ifdef __clang__
#define SITE_FN __attribute__((noinline))
#else
#define SITE_FN __attribute__((noinline, noclone))
#endif

static SITE_FN int new_here_a(struct objheap *heap, uint64_t *hp)
{
	int ret = objheap_new_here(heap, 1, 0, 0, NULL, 8, NULL, hp);

	return ret ? ret : (*hp ? 0 : -EIO);
}

static SITE_FN int new_here_b(struct objheap *heap, uint64_t *hp)
{
	int ret = objheap_new_here(heap, 2, 0, 0, NULL, 16, NULL, hp);

	return ret ? ret : (*hp ? 0 : -EIO);
}

TEST_F(trace, new_here_tags_with_the_call_site)
{
	uint64_t h[4], tag[4];
	uintptr_t a = (uintptr_t)new_here_a, b = (uintptr_t)new_here_b;
	int i;

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, new_here_a(self->heap, &h[0]));
	ASSERT_EQ(0, new_here_a(self->heap, &h[1]));
	ASSERT_EQ(0, new_here_b(self->heap, &h[2]));
	ASSERT_EQ(0, new_here_b(self->heap, &h[3]));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, objheap_trace_tag(self->heap, h[i], &tag[i],
					       NULL, NULL));
	/* One site, one tag; two sites, two. */
	EXPECT_EQ(tag[0], tag[1]);
	EXPECT_EQ(tag[2], tag[3]);
	EXPECT_NE(tag[0], tag[2]);
	/* A return address inside the caller. */
	EXPECT_LT(a, tag[0]);
	EXPECT_GT(a + 256, tag[0]);
	EXPECT_LT(b, tag[2]);
	EXPECT_GT(b + 256, tag[2]);
	ASSERT_EQ(0, objheap_release_array(self->heap, h, 4));
	EXPECT_LIVE(0);
}

/* ==== 8. the counts are the heap's; a read-only attachment reads them ==== */

TEST_F(trace, attachments_share_the_counts_and_readonly_ones_only_read)
{
	struct objheap *rw, *ro;
	struct objheap_trace_ctl c, cr;
	struct objheap_trace_stat *st;
	uint64_t h, hb, hr, tag;
	uint32_t s1, s2, type;
	struct rowset rs;
	int fd, rfd;
	size_t n;

	ASSERT_EQ(0, objheap_attach(self->heap, 0, &fd, NULL));
	ASSERT_EQ(0, objheap_from_fd(fd, &self->att[0]));
	rw = self->att[0];
	ASSERT_EQ(0, objheap_attach(self->heap, OBJHEAP_ATTACH_READONLY, &fd,
				    NULL));
	ASSERT_EQ(0, objheap_from_fd(fd, &self->att[1]));
	ro = self->att[1];
	rfd = objheap_fd(ro);

	/* Not tracing: read-only may not start it. */
	EXPECT_EQ(-EPERM, objheap_trace_start(ro, 1));
	EXPECT_EQ(0, tget(self->fd).out_sample_every);
	EXPECT_EQ(-EPERM, objheap_trace_stop(ro));
	EXPECT_EQ(-EPERM, objheap_trace_reset_peak(ro));

	/* Started by one attachment, stopped by another: the heap's. */
	ASSERT_EQ(0, objheap_trace_start(rw, 1));
	EXPECT_EQ(1, tget(self->fd).out_sample_every);
	h = tnode(self->fd, 1, 1, 0, 16);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, objheap_new_tagged(rw, 2, 1, 0, 0, NULL, 32, NULL, &hb));
	c = tget(self->fd);
	EXPECT_EQ(2, c.out_traced_objects);
	EXPECT_EQ(foot(0, 16) + foot(0, 32), c.out_traced_bytes);
	ASSERT_EQ(0, objheap_snapshot_take(rw, &s1));

	/* Read-only: EPERM for what changes the counts... */
	EXPECT_EQ(-EPERM, objheap_trace_start(ro, 1));
	EXPECT_EQ(-EPERM, objheap_trace_stop(ro));
	EXPECT_EQ(-EPERM, objheap_trace_reset_peak(ro));
	EXPECT_EQ(-EPERM, objheap_snapshot_take(ro, &s2));
	EXPECT_EQ(-EPERM, objheap_snapshot_drop(ro, s1));
	EXPECT_EQ(1, tget(self->fd).out_snapshots);
	EXPECT_EQ(1, tget(self->fd).out_sample_every);

	/* ... and the rest works, on the same counts. */
	ASSERT_EQ(0, objheap_trace_get(ro, &cr));
	EXPECT_EQ(c.out_traced_objects, cr.out_traced_objects);
	EXPECT_EQ(c.out_traced_bytes, cr.out_traced_bytes);
	EXPECT_EQ(c.out_peak_bytes, cr.out_peak_bytes);
	EXPECT_EQ(2, cr.out_pairs);
	EXPECT_EQ(1, cr.out_sample_every);
	EXPECT_EQ(1, cr.out_snapshots);
	ASSERT_EQ(0, read_rows(rfd, 0, 0, 16, &rs));
	EXPECT_EQ(2, rs.n);
	EXPECT_NE(NULL, find_row(&rs, 1, 1));
	free(rs.v);
	st = stats_of(_metadata, ro, s1, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	{
		const struct want w[] = {
			{ 2, 1, 1, foot(0, 32), 1, foot(0, 32) },
			{ 1, 1, 1, foot(0, 16), 1, foot(0, 16) },
		};

		expect_stats(_metadata, st, n, w, ARRAY_SIZE(w));
	}
	free(st);
	ASSERT_EQ(0, objheap_publish_str(self->heap, "traced", h));
	ASSERT_EQ(0, objheap_lookup_str(ro, "traced", &hr));
	EXPECT_EQ(1, objheap_trace_tag(ro, hr, &tag, &type, NULL));
	EXPECT_EQ(1, tag);
	EXPECT_EQ(1, type);
	/* A handle of another attachment is none of its own. */
	EXPECT_EQ(-ENOENT, objheap_trace_tag(ro, hb, &tag, &type, NULL));
	ASSERT_EQ(0, objheap_release(ro, hr));
	ASSERT_EQ(0, objheap_unpublish_str(self->heap, "traced"));

	/* A snapshot taken by one attachment is dropped by another. */
	ASSERT_EQ(0, objheap_snapshot_drop(self->heap, s1));
	EXPECT_EQ(0, tget(rfd).out_snapshots);

	ASSERT_EQ(0, objheap_release(rw, hb));
	ASSERT_EQ(0, objheap_release(self->heap, h));
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);
	ASSERT_EQ(0, objheap_trace_stop(rw));
	EXPECT_EQ(0, tget(rfd).out_sample_every);
	EXPECT_LIVE(0);
}

/* The row of (@tag, @type) made by attachment @att, or NULL. */
static const struct objheap_trace_row *find_origin(const struct rowset *rs,
						   uint64_t tag, uint32_t type,
						   uint32_t att)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].tag == tag && rs->v[i].type == type &&
		    rs->v[i].attachment == att)
			return &rs->v[i];
	return NULL;
}

TEST_F(trace, pairs_tell_the_creating_attachments_apart)
{
	struct objheap_attach_info info = { 0 };
	struct objheap_trace_stat *st;
	struct objheap_trace_tag raw;
	uint32_t me, other, att, type;
	uint64_t h1, h2, h3, hr, tag;
	struct objheap *rw;
	struct rowset rs;
	int fd;
	size_t n;

	ASSERT_EQ(0, objheap_attach_info(self->heap, 0, &info));
	me = info.out_id;
	ASSERT_EQ(0, objheap_attach(self->heap, 0, &fd, &other));
	ASSERT_EQ(0, objheap_from_fd(fd, &self->att[0]));
	rw = self->att[0];
	ASSERT_NE(me, other);
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));

	/* One tag and type, from both attachments: two pairs. */
	ASSERT_EQ(0, objheap_new_tagged(self->heap, 7, 3, 0, 0, NULL, 16, NULL,
					&h1));
	ASSERT_EQ(0, objheap_new_tagged(self->heap, 7, 3, 0, 0, NULL, 16, NULL,
					&h2));
	ASSERT_EQ(0, objheap_new_tagged(rw, 7, 3, 0, 0, NULL, 32, NULL, &h3));
	ASSERT_EQ(0, read_rows(self->fd, 0, 0, 16, &rs));
	EXPECT_EQ(2, rs.n);
	EXPECT_EQ(2, rs.pairs);
	ASSERT_NE(NULL, find_origin(&rs, 7, 3, me));
	EXPECT_EQ(2, find_origin(&rs, 7, 3, me)->count);
	EXPECT_EQ(2 * foot(0, 16), find_origin(&rs, 7, 3, me)->bytes);
	ASSERT_NE(NULL, find_origin(&rs, 7, 3, other));
	EXPECT_EQ(1, find_origin(&rs, 7, 3, other)->count);
	EXPECT_EQ(foot(0, 32), find_origin(&rs, 7, 3, other)->bytes);
	free(rs.v);

	/* An object's creator, whoever asks: here through another handle. */
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h1, &tag, &type, &att));
	EXPECT_EQ(7, tag);
	EXPECT_EQ(3, type);
	EXPECT_EQ(me, att);
	ASSERT_EQ(0, objheap_publish_str(rw, "made-by-rw", h3));
	ASSERT_EQ(0, objheap_lookup_str(self->heap, "made-by-rw", &hr));
	EXPECT_EQ(1, objheap_trace_tag(self->heap, hr, &tag, &type, &att));
	EXPECT_EQ(other, att);
	ASSERT_EQ(0, objheap_unpublish_str(rw, "made-by-rw"));
	/* A command of the size before attachments were told still works. */
	memset(&raw, 0xa5, sizeof(raw));
	raw.size = offsetof(struct objheap_trace_tag, out_attachment);
	raw.flags = 0;
	raw.handle = hr;
	ASSERT_EQ(0, xioctl(self->fd, OBJHEAP_TRACE_TAG, &raw));
	EXPECT_EQ(OBJHEAP_TAG_TRACED, raw.out_flags);
	EXPECT_EQ(7, raw.out_tag);
	EXPECT_EQ(0xa5a5a5a5, raw.out_attachment);
	ASSERT_EQ(0, objheap_release(self->heap, hr));

	/* Grouped by pair, the attachments add up; by attachment, apart. */
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_PAIR, NULL,
		      &n);
	ASSERT_EQ(1, n);
	EXPECT_EQ(7, st[0].tag);
	EXPECT_EQ(3, st[0].type);
	EXPECT_EQ(0, st[0].attachment);
	EXPECT_EQ(3, st[0].count);
	EXPECT_EQ(2 * foot(0, 16) + foot(0, 32), st[0].bytes);
	free(st);
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_ATTACHMENT,
		      NULL, &n);
	ASSERT_EQ(2, n);
	/* Sorted by bytes: the two 16-byte objects come first. */
	EXPECT_EQ(me, st[0].attachment);
	EXPECT_EQ(0, st[0].tag);
	EXPECT_EQ(0, st[0].type);
	EXPECT_EQ(2, st[0].count);
	EXPECT_EQ(other, st[1].attachment);
	EXPECT_EQ(1, st[1].count);
	free(st);
	st = stats_of(_metadata, self->heap, 0, 0, OBJHEAP_GROUP_ORIGIN, NULL,
		      &n);
	ASSERT_EQ(2, n);
	EXPECT_EQ(7, st[0].tag);
	EXPECT_EQ(3, st[0].type);
	EXPECT_EQ(me, st[0].attachment);
	EXPECT_EQ(7, st[1].tag);
	EXPECT_EQ(other, st[1].attachment);
	free(st);

	/* The pair outlives its attachment, and its objects die anywhere. */
	objheap_close(self->att[0]);
	self->att[0] = NULL;
	ASSERT_EQ(0, read_rows(self->fd, 0, 0, 16, &rs));
	EXPECT_EQ(1, rs.n);
	EXPECT_NE(NULL, find_origin(&rs, 7, 3, me));
	free(rs.v);
	ASSERT_EQ(0, objheap_release(self->heap, h1));
	ASSERT_EQ(0, objheap_release(self->heap, h2));
	EXPECT_EQ(0, tget(self->fd).out_traced_objects);
	ASSERT_EQ(0, objheap_trace_stop(self->heap));
	EXPECT_LIVE(0);
}

/* ==== 9. the ABI: errnos, sizes, QUERY ==== */

TEST_F(trace, commands_refuse_bad_fields)
{
	struct objheap_trace_rows r;
	struct objheap_trace_ctl c;
	struct objheap_trace_tag t;
	struct objheap_trace_row rows[4];
	uint64_t h, dead;
	unsigned int i;

	h = tnode(self->fd, 1, 1, 0, 0);
	dead = tnode(self->fd, 1, 1, 0, 0);
	ASSERT_NE(0, h);
	ASSERT_NE(0, dead);
	ASSERT_EQ(0, obj_release(self->fd, dead));

	/* Not tracing: no rows, no snapshots; TAG answers "untraced". */
	r = (struct objheap_trace_rows){
		.size = sizeof(r), .nrows = 4, .rows_uptr = (uintptr_t)rows,
	};
	EXPECT_ERRNO(ENODATA, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	EXPECT_EQ(-ENODATA, snap_take(self->fd, NULL));
	EXPECT_EQ(-ENODATA, snap_drop(self->fd, 1));
	EXPECT_EQ(0, ttag(self->fd, h, NULL, NULL));

	/* TRACE_CTL: op, flags, reserved, the sampling period's bound. */
	EXPECT_EQ(-EINVAL, tctl(self->fd, 4, 0, NULL));
	EXPECT_EQ(-EINVAL, tctl(self->fd, ~0U, 0, NULL));
	for (i = 0; i < 32; i++) {
		c = (struct objheap_trace_ctl){
			.size = sizeof(c), .flags = 1U << i,
			.op = OBJHEAP_TRACE_GET,
		};
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_CTL, &c));
		c.op = OBJHEAP_TRACE_START;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_CTL, &c));
	}
	c = (struct objheap_trace_ctl){
		.size = sizeof(c), .op = OBJHEAP_TRACE_START, .__reserved = 1,
	};
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_CTL, &c));
	c.op = OBJHEAP_TRACE_GET;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_CTL, &c));
	EXPECT_EQ(-EINVAL, objheap_trace_start(self->heap, (1U << 24) + 1));
	EXPECT_EQ(-EINVAL, objheap_trace_start(self->heap, ~0U));
	EXPECT_EQ(0, tget(self->fd).out_sample_every);
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_TRACE_CTL, NULL));
	/* The largest period is taken. */
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1U << 24));
	EXPECT_EQ(1U << 24, tget(self->fd).out_sample_every);
	ASSERT_EQ(0, objheap_trace_stop(self->heap));

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, obj_release(self->fd, h));
	h = tnode(self->fd, 1, 1, 0, 0);
	ASSERT_NE(0, h);

	/* TRACE_ROWS: nrows, flags, reserved, snapshots, the buffer. */
	r = (struct objheap_trace_rows){
		.size = sizeof(r), .nrows = 4, .rows_uptr = (uintptr_t)rows,
	};
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	EXPECT_EQ(1, r.out_nrows);
	EXPECT_EQ(1, r.out_pairs);
	EXPECT_EQ(1, r.out_next);
	EXPECT_EQ(1, rows[0].tag);
	EXPECT_EQ(1, rows[0].type);
	EXPECT_EQ(1, rows[0].count);
	EXPECT_EQ(foot(0, 0), rows[0].bytes);
	EXPECT_EQ(0, rows[0].base_count);
	EXPECT_EQ(0, rows[0].base_bytes);
	r.nrows = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	r.nrows = OBJHEAP_TRACE_ROWS_MAX + 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	r.nrows = 4;
	r.snapshot = 3;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	r.snapshot = 0;
	r.base = 3;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	r.base = 0;
	r.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	r.__reserved = 0;
	for (i = 0; i < 32; i++) {
		r.flags = 1U << i;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	}
	r.flags = 0;
	r.rows_uptr = 0;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));
	r.rows_uptr = (uintptr_t)rows;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_TRACE_ROWS, &r));

	/* TRACE_TAG: handles, flags. */
	EXPECT_EQ(-ENOENT, ttag(self->fd, dead, NULL, NULL));
	EXPECT_EQ(-ENOENT, ttag(self->fd, 0, NULL, NULL));
	EXPECT_EQ(-ENOENT, objheap_trace_tag(self->heap, dead, NULL, NULL, NULL));
	for (i = 0; i < 32; i++) {
		t = (struct objheap_trace_tag){
			.size = sizeof(t), .flags = 1U << i, .handle = h,
		};
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_TRACE_TAG, &t));
	}
	EXPECT_EQ(OBJHEAP_TAG_TRACED, ttag(self->fd, h, NULL, NULL));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

TEST_F(trace, cmd_length)
{
	struct objheap_trace_row rows[4];
	struct objheap_new n;
	uint64_t h, dead, tag, count, bytes;
	uint32_t type;

	h = tnode(self->fd, 1, 1, 0, 0);
	dead = tnode(self->fd, 1, 1, 0, 0);
	ASSERT_NE(0, h);
	ASSERT_NE(0, dead);
	ASSERT_EQ(0, obj_release(self->fd, dead));

	/* Not tracing. */
	TEST_LENGTH(self->fd, objheap_trace_ctl, OBJHEAP_TRACE_CTL, __reserved,
		    .op = OBJHEAP_TRACE_GET);
	TEST_LENGTH(self->fd, objheap_trace_ctl, OBJHEAP_TRACE_CTL, __reserved,
		    .op = OBJHEAP_TRACE_STOP);
	TEST_LENGTH(self->fd, objheap_trace_snapshot, OBJHEAP_TRACE_SNAPSHOT,
		    out_id);
	TEST_LENGTH(self->fd, objheap_trace_rows, OBJHEAP_TRACE_ROWS,
		    __reserved, .nrows = 4, .rows_uptr = (uintptr_t)rows);
	TEST_LENGTH(self->fd, objheap_trace_tag, OBJHEAP_TRACE_TAG, out_flags,
		    .handle = h);

	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	/* Calls that succeed, both times. */
	TEST_LENGTH(self->fd, objheap_trace_ctl, OBJHEAP_TRACE_CTL, __reserved,
		    .op = OBJHEAP_TRACE_GET);
	TEST_LENGTH(self->fd, objheap_trace_ctl, OBJHEAP_TRACE_CTL, __reserved,
		    .op = OBJHEAP_TRACE_RESET_PEAK);
	TEST_LENGTH(self->fd, objheap_trace_snapshot, OBJHEAP_TRACE_SNAPSHOT,
		    out_id);
	EXPECT_EQ(2, tget(self->fd).out_snapshots);
	TEST_LENGTH(self->fd, objheap_trace_rows, OBJHEAP_TRACE_ROWS,
		    __reserved, .nrows = 4, .rows_uptr = (uintptr_t)rows);
	TEST_LENGTH(self->fd, objheap_trace_tag, OBJHEAP_TRACE_TAG, out_flags,
		    .handle = h);
	/* Calls that fail, both times alike. */
	TEST_LENGTH(self->fd, objheap_trace_ctl, OBJHEAP_TRACE_CTL, __reserved,
		    .op = OBJHEAP_TRACE_START);
	TEST_LENGTH(self->fd, objheap_trace_snapshot, OBJHEAP_TRACE_SNAPSHOT,
		    out_id, .flags = OBJHEAP_SNAPSHOT_DROP, .id = 17);
	TEST_LENGTH(self->fd, objheap_trace_rows, OBJHEAP_TRACE_ROWS,
		    __reserved, .nrows = 0, .rows_uptr = (uintptr_t)rows);
	TEST_LENGTH(self->fd, objheap_trace_tag, OBJHEAP_TRACE_TAG, out_flags,
		    .handle = dead);
	EXPECT_EQ(2, tget(self->fd).out_snapshots);
	EXPECT_EQ(1, tget(self->fd).out_sample_every);

	/*
	 * NEW: the first version ends at out_handle; the sweep's two
	 * successes create two objects with tag 0x77, which the heap frees
	 * when the teardown closes it.
	 */
	TEST_LENGTH(self->fd, objheap_new, OBJHEAP_NEW, out_handle,
		    .type = 5, .data_len = 8, .tag = 0x77);
	pair_now(self->fd, 0x77, 5, &count, &bytes);
	EXPECT_EQ(2, count);
	EXPECT_EQ(2 * foot(0, 8), bytes);
	/* The first version's size: what lies past it is not read. */
	n = (struct objheap_new){
		.size = offsetofend(struct objheap_new, out_handle),
		.type = 6, .tag = 0x5555,
	};
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_NEW, &n));
	EXPECT_EQ(OBJHEAP_TAG_TRACED,
		  ttag(self->fd, n.out_handle, &tag, &type));
	EXPECT_EQ(0, tag);
	EXPECT_EQ(6, type);
	/* The whole structure, and the tag 0 objheap_new() passes. */
	n = (struct objheap_new){ .size = sizeof(n), .type = 6, .tag = 0x5555 };
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_NEW, &n));
	EXPECT_EQ(OBJHEAP_TAG_TRACED,
		  ttag(self->fd, n.out_handle, &tag, &type));
	EXPECT_EQ(0x5555, tag);
	pair_now(self->fd, 0, 6, &count, &bytes);
	EXPECT_EQ(1, count);
	pair_now(self->fd, 0x5555, 6, &count, &bytes);
	EXPECT_EQ(1, count);
	ASSERT_EQ(0, obj_release(self->fd, h));
}

TEST_F(trace, query_reports_the_trace_commands)
{
	static const struct { uint32_t cmd, size, flags; } want[] = {
		{ OBJHEAP_CMD_TRACE_CTL, sizeof(struct objheap_trace_ctl), 0 },
		{ OBJHEAP_CMD_TRACE_SNAPSHOT,
		  sizeof(struct objheap_trace_snapshot),
		  OBJHEAP_SNAPSHOT_DROP },
		{ OBJHEAP_CMD_TRACE_ROWS,
		  sizeof(struct objheap_trace_rows), 0 },
		{ OBJHEAP_CMD_TRACE_TAG, sizeof(struct objheap_trace_tag), 0 },
		{ OBJHEAP_CMD_NEW, sizeof(struct objheap_new),
		  OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_IMMORTAL |
		  OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_RESIZABLE |
		  OBJHEAP_OBJ_MAPPABLE },
	};
	struct objheap_query q;
	unsigned int i;

	ASSERT_EQ(0, objheap_query(self->heap, 0, &q));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		EXPECT_TRUE(q.out_cmds & (1ULL << (want[i].cmd -
						   OBJHEAP_CMD_BASE)));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ASSERT_EQ(0, objheap_query(self->heap, want[i].cmd, &q));
		EXPECT_EQ(want[i].size, q.out_cmd_size);
		EXPECT_EQ(want[i].flags, q.out_cmd_flags);
	}
	/* NEW's first version, and the one with the tag. */
	EXPECT_EQ(48, offsetofend(struct objheap_new, out_handle));
	EXPECT_EQ(56, sizeof(struct objheap_new));
}

/* ==== 10. many pairs ==== */

#define P_PAIRS		5000
#define P_NROWS		1000

TEST_F_TIMEOUT(trace, rows_are_read_in_pages_each_pair_once, 300)
{
	uint64_t *h = calloc(P_PAIRS, sizeof(*h));
	uint8_t *seen = calloc(P_PAIRS, 1);
	struct objheap_batch_buf *b;
	struct objheap_trace_stat *st;
	unsigned int i, done, k;
	struct rowset rs;
	size_t n;

	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, objheap_batch_alloc(&b, OBJHEAP_BATCH_MAX_COUNT));
	for (done = 0; done < P_PAIRS; done += k) {
		k = P_PAIRS - done < OBJHEAP_BATCH_MAX_COUNT ?
		    P_PAIRS - done : OBJHEAP_BATCH_MAX_COUNT;
		objheap_batch_reset(b);
		for (i = 0; i < k; i++)
			ASSERT_LE(0, objheap_batch_new_tagged(b, 1 + done + i,
						3, 0, 0, NULL, 8, NULL));
		ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
		for (i = 0; i < k; i++)
			h[done + i] = objheap_batch_handle(b, i);
	}
	objheap_batch_free(b);
	EXPECT_EQ(P_PAIRS, tget(self->fd).out_pairs);

	ASSERT_EQ(0, read_rows(self->fd, 0, 0, P_NROWS, &rs));
	EXPECT_EQ(P_PAIRS, rs.pairs);
	EXPECT_EQ(P_PAIRS, rs.n);
	EXPECT_LE(P_PAIRS / P_NROWS, rs.calls);
	for (i = 0; i < rs.n; i++) {
		uint64_t tag = rs.v[i].tag;

		ASSERT_LE(1, tag);
		ASSERT_GE(P_PAIRS, tag);
		EXPECT_EQ(0, seen[tag - 1]);
		seen[tag - 1] = 1;
		EXPECT_EQ(3, rs.v[i].type);
		EXPECT_EQ(1, rs.v[i].count);
		EXPECT_EQ(foot(0, 8), rs.v[i].bytes);
	}
	free(rs.v);

	/*
	 * Every other object released: half the rows, while the pairs keep
	 * their places (and their number).
	 */
	for (i = 0; i < P_PAIRS; i += 2)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	memset(seen, 0, P_PAIRS);
	ASSERT_EQ(0, read_rows(self->fd, 0, 0, P_NROWS, &rs));
	EXPECT_EQ(P_PAIRS, rs.pairs);
	EXPECT_EQ(P_PAIRS / 2, rs.n);
	for (i = 0; i < rs.n; i++) {
		uint64_t tag = rs.v[i].tag;

		ASSERT_LE(1, tag);
		ASSERT_GE(P_PAIRS, tag);
		/* Tags 2, 4, ...: the objects of odd indexes. */
		EXPECT_EQ(0, tag % 2);
		EXPECT_EQ(0, seen[tag - 1]);
		seen[tag - 1] = 1;
	}
	free(rs.v);
	/* One row at a time, too. */
	ASSERT_EQ(0, read_rows(self->fd, 0, 0, 1, &rs));
	EXPECT_EQ(P_PAIRS / 2, rs.n);
	EXPECT_LE(P_PAIRS / 2, rs.calls);
	free(rs.v);
	st = stats_of(_metadata, self->heap,
		      0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	EXPECT_EQ(P_PAIRS / 2, n);
	/* All of one size: by tag. */
	for (i = 0; i < n; i++)
		EXPECT_EQ(2 * (i + 1), st[i].tag);
	free(st);

	for (i = 1; i < P_PAIRS; i += 2)
		ASSERT_EQ(0, obj_release(self->fd, h[i]));
	EXPECT_EQ(P_PAIRS, tget(self->fd).out_pairs);
	free(seen);
	free(h);
	EXPECT_LIVE(0);
}

/*
 * Past OBJHEAP_TRACE_PAIRS_MAX pairs.  Assumed: whether the OTHER bucket
 * takes one of the OBJHEAP_TRACE_PAIRS_MAX places is open, so the pair
 * that would be the last one is not asserted either way; the pairs
 * before it are their own, those after it OTHER's.
 */
/* Pairs that are all their own, then pairs past them, the first open. */
#define O_FIRST		(OBJHEAP_TRACE_PAIRS_MAX - 1)
#define O_EXTRA		4

TEST_F_TIMEOUT(trace, pairs_past_the_bound_count_under_other, 600)
{
	const unsigned int total = O_FIRST + O_EXTRA;
	uint64_t *h = calloc(total + 1, sizeof(*h)), tag, extra_tag;
	uint8_t *seen = calloc(O_FIRST + 1, 1);
	unsigned int i, done, k, other, seen_other, seen_open;
	const struct objheap_trace_stat *s;
	struct objheap_trace_stat *st;
	struct objheap_batch_buf *b;
	struct objheap_trace_ctl c;
	uint32_t type;
	size_t n;

	ASSERT_NE(NULL, h);
	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, objheap_trace_start(self->heap, 1));
	ASSERT_EQ(0, objheap_batch_alloc(&b, OBJHEAP_BATCH_MAX_COUNT));
	/* Tags 1 ... O_FIRST with type 1, then the extras with type 2. */
	for (done = 0; done < total; done += k) {
		k = total - done < OBJHEAP_BATCH_MAX_COUNT ?
		    total - done : OBJHEAP_BATCH_MAX_COUNT;
		objheap_batch_reset(b);
		for (i = 0; i < k; i++) {
			unsigned int j = done + i;

			ASSERT_LE(0, objheap_batch_new_tagged(b,
				j < O_FIRST ? 1 + j : 1000000 + j - O_FIRST,
				j < O_FIRST ? 1 : 2, 0, 0, NULL, 0, NULL));
		}
		ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
		for (i = 0; i < k; i++)
			h[done + i] = objheap_batch_handle(b, i);
	}
	objheap_batch_free(b);
	/* A pair that exists goes on counting as itself. */
	h[total] = tnode(self->fd, 1, 1, 0, 0);
	ASSERT_NE(0, h[total]);

	c = tget(self->fd);
	EXPECT_EQ(total + 1, c.out_traced_objects);
	EXPECT_EQ((uint64_t)(total + 1) * foot(0, 0), c.out_traced_bytes);
	EXPECT_LE(OBJHEAP_TRACE_PAIRS_MAX, c.out_pairs);
	EXPECT_GE(OBJHEAP_TRACE_PAIRS_MAX + 1, c.out_pairs);

	/* The extras after the open one: OTHER, type 0. */
	for (i = O_FIRST + 1; i < total; i++) {
		EXPECT_EQ(1, objheap_trace_tag(self->heap, h[i], &tag, &type, NULL));
		EXPECT_EQ(OBJHEAP_TAG_OTHER, tag);
		EXPECT_EQ(0, type);
	}
	/* The open one: its own pair, or OTHER. */
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[O_FIRST], &extra_tag,
				       &type, NULL));
	if (extra_tag == OBJHEAP_TAG_OTHER) {
		EXPECT_EQ(0, type);
		other = O_EXTRA;
	} else {
		EXPECT_EQ(1000000, extra_tag);
		EXPECT_EQ(2, type);
		other = O_EXTRA - 1;
	}
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[0], &tag, &type, NULL));
	EXPECT_EQ(1, tag);
	EXPECT_EQ(1, type);
	EXPECT_EQ(1, objheap_trace_tag(self->heap, h[O_FIRST - 1], &tag,
				       &type, NULL));
	EXPECT_EQ(O_FIRST, tag);

	/* Every row: each first pair once, OTHER, maybe the open one. */
	st = stats_of(_metadata, self->heap,
		      0, 0, OBJHEAP_GROUP_PAIR, NULL, &n);
	EXPECT_EQ(O_FIRST + 1 + (other == O_EXTRA - 1), n);
	for (i = 0, seen_other = 0, seen_open = 0; i < n; i++) {
		s = &st[i];
		if (s->tag == OBJHEAP_TAG_OTHER) {
			EXPECT_EQ(0, s->type);
			EXPECT_EQ(other, s->count);
			EXPECT_EQ(other * foot(0, 0), s->bytes);
			seen_other++;
		} else if (s->tag == 1000000) {
			EXPECT_EQ(2, s->type);
			EXPECT_EQ(1, s->count);
			seen_open++;
		} else {
			ASSERT_LE(1, s->tag);
			ASSERT_GE(O_FIRST, s->tag);
			EXPECT_EQ(1, s->type);
			EXPECT_EQ(s->tag == 1 ? 2 : 1, s->count);
			EXPECT_EQ(s->count * foot(0, 0), s->bytes);
			EXPECT_EQ(0, seen[s->tag]);
			seen[s->tag] = 1;
		}
		if (!_metadata->passed) {
			TH_LOG("row %u: tag %#" PRIx64 " type %u", i, s->tag,
			       s->type);
			break;
		}
	}
	EXPECT_EQ(1, seen_other);
	EXPECT_EQ(other == O_EXTRA - 1, seen_open);
	free(st);
	free(seen);

	ASSERT_EQ(0, objheap_release_array(self->heap, h, total + 1));
	c = tget(self->fd);
	EXPECT_EQ(0, c.out_traced_objects);
	EXPECT_EQ(0, c.out_traced_bytes);
	free(h);
	EXPECT_LIVE(0);
}

TEST_HARNESS_MAIN
