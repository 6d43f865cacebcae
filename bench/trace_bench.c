// SPDX-License-Identifier: GPL-2.0
/*
 * trace_bench: what tracing allocations (DOC: Tracing allocations in the
 * uapi header) costs, measured in one VM boot:
 *
 *  - churn: N objects created through OBJHEAP_BATCH in batches of 64
 *    entries, while a steady LIVE of them stay alive.  Object i is a NEW
 *    of two slots, tagged with one of 16 call-site-like tags and of one
 *    of 2 types (32 (tag, type) pairs); a SET_SLOT makes object i - 1
 *    link to it, and a RELEASE drops the handle of object i - LIVE,
 *    which frees it (nothing else refers to it any more).  Three modes:
 *    tracing off, tracing on (sample_every 1) and tracing on with
 *    sample_every 64, each run on a fresh heap, alternated over ROUNDS
 *    rounds.  Goal: on / off <= 1.05 (median of the rounds' ratios);
 *    sampled / off for reference.  After every traced run the live
 *    counts are checked against what the run left: with sample_every 1,
 *    OBJHEAP_TRACE_CTL reports LIVE objects and 32 pairs,
 *    OBJHEAP_TRACE_ROWS each pair's count, OBJHEAP_TRACE_TAG the newest
 *    object's pair, and all of it drops to zero once the live objects
 *    are released;
 *  - memory: MEM_N small two-slot objects kept alive (MEM_N_SMALL when
 *    the heap's limit cannot hold MEM_N), on a fresh heap with tracing
 *    off and on another with tracing on: the difference of OBJHEAP_STATS
 *    out_bytes_in_use per object, goal <= 8 bytes; out_bytes_held the
 *    same way for reference;
 *  - CPython: the same churn (same N, LIVE and 32 call sites) in CPython
 *    without tracemalloc and with tracemalloc.start(1), and the memory
 *    tracemalloc takes per live object (bench/cpython_tracemalloc.py):
 *    what CPython pays for the same service, for reference.
 *
 * The trace commands and the tagged NEWs are issued as raw ioctls, so
 * that the bench does not depend on the library's functions for them.
 * Automatic collection is off on both sides, as in object_bench: only
 * allocation, reference counting and tracing are measured.
 *
 * Absolute times under TCG mean little; only the ratios are reported as
 * results.  A failure, such as a module without the trace commands
 * (ENOTTY) or without struct objheap_new's tag (E2BIG), prints a
 * "trace_bench: FAIL" line and ends its part; the other parts still run,
 * and the exit status is 1.
 *
 * Usage: trace_bench [N [ROUNDS]]; N is rounded up to a multiple of LIVE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <libobjheap.h>

#define LIVE		10240	/* live objects while churning */
#define N_CHURN		(100 * LIVE)	/* objects created per run */
#define ROUNDS		7
#define ROUNDS_MAX	31
#define BATCH		64	/* entries per OBJHEAP_BATCH */
#define SAMPLED		64	/* sample_every of the third mode */

#define NR_TAGS		16
#define NR_TYPES	2
#define NR_PAIRS	(NR_TAGS * NR_TYPES)
#define TAG_BASE	0x401000ULL	/* tags look like return addresses */
#define TAG_STEP	0x1c4ULL
#define TYPE_BASE	0x7ace0

#define MEM_N		1000000	/* objects kept alive, part 2 */
#define MEM_N_SMALL	100000	/* when MEM_N does not fit the limit */
#define MEM_PROBE	65536	/* objects made before deciding */

#define GOAL_RATIO	1.05
#define GOAL_BYTES	8.0

#define CPYTHON		"/usr/bin/python3 -S " \
			"/opt/objheap/bin/bench/cpython_tracemalloc.py"
/*
 * CPython's traced runs take about 3.5 times its plain ones, which are
 * already slower than objheap's under TCG: fewer rounds keep its part
 * near a minute.
 */
#define CPY_ROUNDS	5

/*
 * LIVE must be a multiple of the pairs' period (32), so that object i
 * and slot i % LIVE of CPython's ring have the same pair, and larger than
 * a batch, so that the object a RELEASE drops was never in the batch
 * being filled.
 */
_Static_assert(LIVE % NR_PAIRS == 0 && LIVE > BATCH, "LIVE");

static jmp_buf part_env;
static int in_part;
static struct objheap *cur_heap;	/* the part's heap, closed on failure */

static uint32_t n_churn = N_CHURN;
static int rounds = ROUNDS;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* End the part that failed; main() goes on with the next one. */
static void __attribute__((noreturn)) bail_out(void)
{
	if (in_part)
		longjmp(part_env, 1);
	exit(1);
}

static const char *hint(int err)
{
	switch (err) {
	case ENOTTY:
		return " (ENOTTY: the module lacks this command)";
	case E2BIG:
		return " (E2BIG: the module lacks a field set here, e.g. struct objheap_new's tag)";
	default:
		return "";
	}
}

/* @err: a positive or negative errno. */
static void __attribute__((noreturn)) die(const char *what, int err)
{
	err = err < 0 ? -err : err;
	fflush(stdout);
	fprintf(stderr, "trace_bench: FAIL: %s: %s%s\n", what, strerror(err),
		hint(err));
	bail_out();
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "trace_bench: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	bail_out();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[ROUNDS_MAX];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * The (tag, type) pair of object i: the tag cycles through the 16 in a
 * scrambled order, the type changes every 16 objects; period 32.
 */
static uint32_t pair_of(uint64_t i)
{
	return ((i >> 4) & 1) * NR_TAGS + ((i * 5) & (NR_TAGS - 1));
}

static uint64_t tag_of(uint32_t pair)
{
	return TAG_BASE + (pair % NR_TAGS) * TAG_STEP;
}

static uint32_t type_of(uint32_t pair)
{
	return TYPE_BASE + pair / NR_TAGS;
}

/* A fresh heap, without automatic collection, as the part's. */
static int open_heap(void)
{
	int ret;

	ret = objheap_open(&cur_heap);
	if (ret)
		die("open /dev/objheap", ret);
	ret = objheap_gc_disable(cur_heap);
	if (ret)
		die("gc disable", ret);
	return objheap_fd(cur_heap);
}

static void close_heap(void)
{
	objheap_close(cur_heap);
	cur_heap = NULL;
}

static const char *const op_names[] = {
	[OBJHEAP_TRACE_GET] = "GET",
	[OBJHEAP_TRACE_START] = "START",
	[OBJHEAP_TRACE_STOP] = "STOP",
	[OBJHEAP_TRACE_RESET_PEAK] = "RESET_PEAK",
};

/* OBJHEAP_TRACE_CTL, raw; fails the part on an error. */
static void trace_ctl(int fd, uint32_t op, uint32_t sample_every,
		      struct objheap_trace_ctl *tc)
{
	char what[64];

	*tc = (struct objheap_trace_ctl){
		.size = sizeof(*tc),
		.op = op,
		.sample_every = sample_every,
	};
	if (ioctl(fd, OBJHEAP_TRACE_CTL, tc)) {
		snprintf(what, sizeof(what), "OBJHEAP_TRACE_CTL %s",
			 op_names[op]);
		die(what, errno);
	}
}

/* ---- batches, built by hand -------------------------------------------- */

/*
 * The largest entry is a NEW: 8 bytes of entry and the 56 of struct
 * objheap_new with its tag (48 bytes before the tag was appended).
 */
#define ENTRY_MAX	(sizeof(struct objheap_batch_entry) + \
			 sizeof(struct objheap_new))

_Static_assert(offsetof(struct objheap_new, tag) == 48 &&
	       sizeof(struct objheap_new) == 56,
	       "struct objheap_new: the tag is its last field");
_Static_assert(sizeof(struct objheap_new) % 8 == 0 &&
	       sizeof(struct objheap_slot) % 8 == 0 &&
	       sizeof(struct objheap_handle_cmd) % 8 == 0,
	       "batch entries must follow each other with no gap");

struct batch {
	uint32_t count;
	uint32_t len;
	uint32_t off[BATCH];	/* each entry's offset in @buf */
	uint64_t obj[BATCH];	/* NEW entries: the object's index */
	uint64_t buf[BATCH * ENTRY_MAX / 8];
};

static struct batch bt;

static struct objheap_batch_entry *entry(uint32_t i)
{
	return (struct objheap_batch_entry *)((char *)bt.buf + bt.off[i]);
}

/* Append an entry of @cmd whose structure is @size bytes, zeroed. */
static void *batch_add(uint32_t cmd, uint32_t size)
{
	struct objheap_batch_entry *e;

	bt.off[bt.count] = bt.len;
	e = entry(bt.count++);
	memset(e, 0, sizeof(*e) + size);
	e->cmd = cmd;
	*(uint32_t *)(e + 1) = size;
	bt.len += sizeof(*e) + size;
	return e + 1;
}

static struct objheap_new *batch_new(uint64_t obj)
{
	struct objheap_new *nw = batch_add(OBJHEAP_CMD_NEW, sizeof(*nw));
	uint32_t pair = pair_of(obj);

	bt.obj[bt.count - 1] = obj;
	nw->type = type_of(pair);
	nw->nslots = 2;
	nw->tag = tag_of(pair);
	return nw;
}

static const char *cmd_name(uint32_t cmd)
{
	switch (cmd) {
	case OBJHEAP_CMD_NEW:
		return "NEW (tagged)";
	case OBJHEAP_CMD_SET_SLOT:
		return "SET_SLOT";
	case OBJHEAP_CMD_RELEASE:
		return "RELEASE";
	default:
		return "?";
	}
}

/* Run the batch; any failed entry fails the part. */
static void batch_submit(int fd)
{
	struct objheap_batch b = {
		.size = sizeof(b),
		.count = bt.count,
		.len = bt.len,
		.buf_uptr = (uintptr_t)bt.buf,
	};
	struct objheap_batch_entry *e;
	char what[96];
	uint32_t i;

	if (ioctl(fd, OBJHEAP_BATCH, &b))
		die("OBJHEAP_BATCH", errno);
	if (!b.out_failed && b.out_done == bt.count)
		return;
	for (i = 0; i < bt.count; i++) {
		e = entry(i);
		if (e->out_result) {
			snprintf(what, sizeof(what),
				 "OBJHEAP_BATCH, %s entry %u of %u",
				 cmd_name(e->cmd), i, bt.count);
			die(what, e->out_result);
		}
	}
	fail("OBJHEAP_BATCH ran %u of %u entries, %u failed, but no entry says so",
	     b.out_done, bt.count, b.out_failed);
}

static void batch_reset(void)
{
	bt.count = 0;
	bt.len = 0;
}

/* ---- 1: churn ---------------------------------------------------------- */

enum mode { M_OFF, M_ON, M_SAMPLED, NR_MODES };

static const char *const mode_names[NR_MODES] = {
	"tracing off",
	"tracing on, sample_every 1",
	"tracing on, sample_every 64",
};

static const uint32_t mode_sample[NR_MODES] = { 0, 1, SAMPLED };

/*
 * The live objects' handles, by object index modulo LIVE.  An object
 * whose NEW is in the batch being filled has no handle yet: @ring_entry
 * says which entry made it, so that later entries name it with
 * OBJHEAP_BATCH_REF(); -1 once the batch ran.
 */
static uint64_t ring[LIVE];
static int32_t ring_entry[LIVE];

static uint64_t handle_of(uint64_t obj)
{
	int32_t e = ring_entry[obj % LIVE];

	return e >= 0 ? OBJHEAP_BATCH_REF(e) : ring[obj % LIVE];
}

/* Run the batch; the objects it made get their handles. */
static void churn_flush(int fd)
{
	struct objheap_new *nw;
	uint32_t i;

	if (!bt.count)
		return;
	batch_submit(fd);
	for (i = 0; i < bt.count; i++) {
		if (entry(i)->cmd != OBJHEAP_CMD_NEW)
			continue;
		nw = (struct objheap_new *)(entry(i) + 1);
		ring[bt.obj[i] % LIVE] = nw->out_handle;
		ring_entry[bt.obj[i] % LIVE] = -1;
	}
	batch_reset();
}

/* Room for one more entry, running the batch when it is full. */
static void churn_reserve(int fd)
{
	if (bt.count == BATCH)
		churn_flush(fd);
}

/*
 * Create @n objects, each linked from the one before, dropping the
 * handle of the one LIVE before: one RELEASE (from object LIVE on), one
 * NEW and one SET_SLOT (from object 1 on) per object, streamed into
 * batches of BATCH entries.  Returns ns per object.
 */
static double churn(int fd, uint32_t n)
{
	struct objheap_handle_cmd *rel;
	struct objheap_slot *sl;
	uint64_t t0, i;

	memset(ring_entry, 0xff, sizeof(ring_entry));
	batch_reset();
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (i >= LIVE) {
			churn_reserve(fd);
			rel = batch_add(OBJHEAP_CMD_RELEASE, sizeof(*rel));
			rel->handle = handle_of(i - LIVE);
		}
		churn_reserve(fd);
		batch_new(i);
		ring_entry[i % LIVE] = bt.count - 1;
		if (i) {
			churn_reserve(fd);
			sl = batch_add(OBJHEAP_CMD_SET_SLOT, sizeof(*sl));
			sl->handle = handle_of(i - 1);
			sl->index = 0;
			sl->target = handle_of(i);
		}
	}
	churn_flush(fd);
	return (double)(now_ns() - t0) / n;
}

/* Release the live objects left by churn(), oldest first. */
static void churn_drain(int fd, uint32_t n)
{
	struct objheap_handle_cmd *rel;
	uint64_t i;

	batch_reset();
	for (i = n > LIVE ? n - LIVE : 0; i < n; i++) {
		if (bt.count == BATCH) {
			batch_submit(fd);
			batch_reset();
		}
		rel = batch_add(OBJHEAP_CMD_RELEASE, sizeof(*rel));
		rel->handle = ring[i % LIVE];
	}
	if (bt.count)
		batch_submit(fd);
	batch_reset();
}

/* The pairs objects 0 to @n - 1 used: all NR_PAIRS once @n >= NR_PAIRS. */
static uint32_t pairs_used(uint64_t n)
{
	return n < NR_PAIRS ? (uint32_t)n : NR_PAIRS;
}

/*
 * Every object was traced (sample_every 1): the rows of the live counts
 * must give each pair the live objects that have it, and the newest
 * object its own pair.
 */
static void check_rows(int fd, uint32_t n, const struct objheap_trace_ctl *tc)
{
	static struct objheap_trace_row rows[2 * NR_PAIRS];
	struct objheap_trace_rows tr;
	struct objheap_trace_tag tt;
	uint64_t expect[NR_PAIRS] = { 0 }, seen = 0, count = 0, bytes = 0;
	uint64_t i, first = n > LIVE ? n - LIVE : 0;
	uint32_t start = 0, r, p;

	for (i = first; i < n; i++)
		expect[pair_of(i)]++;
	do {
		tr = (struct objheap_trace_rows){
			.size = sizeof(tr),
			.start = start,
			.nrows = 2 * NR_PAIRS,
			.rows_uptr = (uintptr_t)rows,
		};
		if (ioctl(fd, OBJHEAP_TRACE_ROWS, &tr))
			die("OBJHEAP_TRACE_ROWS of the live counts", errno);
		if (tr.out_nrows > 2 * NR_PAIRS ||
		    (tr.out_next <= start && tr.out_next < tr.out_pairs))
			fail("OBJHEAP_TRACE_ROWS: %u rows, next %u after %u of %u pairs",
			     tr.out_nrows, tr.out_next, start, tr.out_pairs);
		for (r = 0; r < tr.out_nrows; r++) {
			for (p = 0; p < NR_PAIRS; p++)
				if (rows[r].tag == tag_of(p) &&
				    rows[r].type == type_of(p))
					break;
			if (p == NR_PAIRS || seen & (1ULL << p))
				fail("OBJHEAP_TRACE_ROWS: a row for tag %#llx, type %#x: never used or twice",
				     (unsigned long long)rows[r].tag,
				     rows[r].type);
			seen |= 1ULL << p;
			if (rows[r].count != expect[p] || rows[r].base_count ||
			    rows[r].base_bytes)
				fail("OBJHEAP_TRACE_ROWS: pair %u counts %llu live objects (base %llu), not %llu",
				     p, (unsigned long long)rows[r].count,
				     (unsigned long long)rows[r].base_count,
				     (unsigned long long)expect[p]);
			count += rows[r].count;
			bytes += rows[r].bytes;
		}
		start = tr.out_next;
	} while (start < tr.out_pairs);
	if (count != tc->out_traced_objects || bytes != tc->out_traced_bytes)
		fail("OBJHEAP_TRACE_ROWS: the rows add up to %llu objects and %llu bytes, TRACE_CTL says %llu and %llu",
		     (unsigned long long)count, (unsigned long long)bytes,
		     (unsigned long long)tc->out_traced_objects,
		     (unsigned long long)tc->out_traced_bytes);

	tt = (struct objheap_trace_tag){
		.size = sizeof(tt),
		.handle = ring[(n - 1) % LIVE],
	};
	if (ioctl(fd, OBJHEAP_TRACE_TAG, &tt))
		die("OBJHEAP_TRACE_TAG of the newest object", errno);
	p = pair_of(n - 1);
	if (!(tt.out_flags & OBJHEAP_TAG_TRACED) || tt.out_tag != tag_of(p) ||
	    tt.out_type != type_of(p))
		fail("OBJHEAP_TRACE_TAG of the newest object: flags %#x, tag %#llx, type %#x; expected traced, %#llx, %#x",
		     tt.out_flags, (unsigned long long)tt.out_tag, tt.out_type,
		     (unsigned long long)tag_of(p), type_of(p));
}

/* Sums over the runs, for the report. */
static uint64_t sampled_objects, sampled_runs;
static double bytes_per_traced;

/* What the heap's trace says after a run of @mode over @n objects. */
static void check_run(int fd, enum mode m, uint32_t n)
{
	uint32_t live = n < LIVE ? n : LIVE;
	struct objheap_trace_ctl tc;

	trace_ctl(fd, OBJHEAP_TRACE_GET, 0, &tc);
	switch (m) {
	case M_OFF:
		if (tc.out_sample_every || tc.out_traced_objects)
			fail("%s: TRACE_CTL GET says sample_every %u, %llu objects traced",
			     mode_names[m], tc.out_sample_every,
			     (unsigned long long)tc.out_traced_objects);
		break;
	case M_ON:
		if (tc.out_sample_every != 1 || tc.out_traced_objects != live ||
		    tc.out_pairs != pairs_used(n) ||
		    tc.out_peak_bytes < tc.out_traced_bytes ||
		    !tc.out_traced_bytes)
			fail("%s: TRACE_CTL GET says sample_every %u, %llu objects, %u pairs, %llu bytes (peak %llu); expected 1, %u objects, %u pairs",
			     mode_names[m], tc.out_sample_every,
			     (unsigned long long)tc.out_traced_objects,
			     tc.out_pairs,
			     (unsigned long long)tc.out_traced_bytes,
			     (unsigned long long)tc.out_peak_bytes, live,
			     pairs_used(n));
		bytes_per_traced = (double)tc.out_traced_bytes / live;
		check_rows(fd, n, &tc);
		/* Released, the objects leave the counts. */
		churn_drain(fd, n);
		trace_ctl(fd, OBJHEAP_TRACE_GET, 0, &tc);
		if (tc.out_traced_objects || tc.out_traced_bytes)
			fail("%s: %llu objects and %llu bytes still traced once all were released",
			     mode_names[m],
			     (unsigned long long)tc.out_traced_objects,
			     (unsigned long long)tc.out_traced_bytes);
		break;
	default:
		if (tc.out_sample_every != SAMPLED ||
		    tc.out_traced_objects > live ||
		    tc.out_pairs > pairs_used(n))
			fail("%s: TRACE_CTL GET says sample_every %u, %llu objects, %u pairs; expected %u, at most %u objects and %u pairs",
			     mode_names[m], tc.out_sample_every,
			     (unsigned long long)tc.out_traced_objects,
			     tc.out_pairs, SAMPLED, live, pairs_used(n));
		sampled_objects += tc.out_traced_objects;
		sampled_runs++;
		break;
	}
}

/* One run of @mode on a fresh heap: ns per object. */
static double run_mode(enum mode m, uint32_t n)
{
	struct objheap_trace_ctl tc;
	int fd = open_heap();
	double ns;

	if (m != M_OFF)
		trace_ctl(fd, OBJHEAP_TRACE_START, mode_sample[m], &tc);
	ns = churn(fd, n);
	check_run(fd, m, n);
	close_heap();
	return ns;
}

static double churn_ratio_on = -1;	/* for part 3's comparison */

/* The smallest and largest of @n values. */
static void spread(const double *v, int n, double *lo, double *hi)
{
	int i;

	*lo = *hi = v[0];
	for (i = 1; i < n; i++) {
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
}

static void bench_churn(void)
{
	static double ns[NR_MODES][ROUNDS_MAX], r_on[ROUNDS_MAX];
	static double r_sampled[ROUNDS_MAX];
	struct objheap_trace_ctl tc;
	double lo, hi;
	int r, k, m;

	/* A module without tracing says so here, before anything is timed. */
	trace_ctl(open_heap(), OBJHEAP_TRACE_GET, 0, &tc);
	close_heap();

	/* Warm up: the emulator's translations, the kernel's caches. */
	for (m = 0; m < NR_MODES; m++)
		run_mode(m, n_churn);
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < NR_MODES; k++) {
			m = (r + k) % NR_MODES;
			ns[m][r] = run_mode(m, n_churn);
		}
		r_on[r] = ns[M_ON][r] / ns[M_OFF][r];
		r_sampled[r] = ns[M_SAMPLED][r] / ns[M_OFF][r];
	}
	churn_ratio_on = median(r_on, rounds);

	printf("churn: N=%u objects created per run, %u alive at a time, through\n"
	       "batches of %d entries: per object a RELEASE of the one made %u before,\n"
	       "a NEW of two slots tagged with one of %d tags and of one of %d types,\n"
	       "a SET_SLOT linking the previous object to it; a fresh heap per run,\n"
	       "automatic gc off, modes alternated, median of %d rounds after a\n"
	       "warm-up run of each\n",
	       n_churn, LIVE, BATCH, LIVE, NR_TAGS, NR_TYPES, rounds);
	printf("  %-38s %10s\n", "mode", "ns/object");
	for (m = 0; m < NR_MODES; m++)
		printf("  %-38s %10.1f\n", mode_names[m],
		       median(ns[m], rounds));
	printf("  %-38s %10s  %-13s  %s\n", "ratio", "median", "goal",
	       "rounds' spread");
	spread(r_on, rounds, &lo, &hi);
	printf("  %-38s %10.3f  <= %-10.2f  %.3f to %.3f\n", "tracing on / off",
	       churn_ratio_on, GOAL_RATIO, lo, hi);
	spread(r_sampled, rounds, &lo, &hi);
	printf("  %-38s %10.3f  %-13s  %.3f to %.3f\n", "sample_every 64 / off",
	       median(r_sampled, rounds), "for reference", lo, hi);
	printf("  checked after each traced run: with sample_every 1, %u objects\n"
	       "  and %u pairs traced, each pair's row, the newest object's tag;\n"
	       "  none once released.  With sample_every 64, %.1f objects traced\n"
	       "  on average (%u / 64 = %.1f); %.1f bytes traced per object\n\n",
	       n_churn < LIVE ? n_churn : LIVE, pairs_used(n_churn),
	       sampled_runs ? (double)sampled_objects / sampled_runs : 0.0,
	       LIVE, LIVE / 64.0, bytes_per_traced);
}

/* ---- 2: memory per traced object --------------------------------------- */

static uint32_t mem_n = MEM_N;

/*
 * What the heap may still take: its own limit, and what is left of its
 * user's bound.
 */
static uint64_t room(const struct objheap_stats *st)
{
	uint64_t limit = st->out_limit, others;

	if (st->out_user_limit != ~0ULL) {
		others = st->out_user_bytes_held - st->out_bytes_held;
		if (st->out_user_limit - others < limit)
			limit = st->out_user_limit - others;
	}
	return limit;
}

/*
 * Create mem_n two-slot objects kept alive by their handles.  With
 * @decide, look at what the first MEM_PROBE took and fall back to
 * MEM_N_SMALL when MEM_N would not fit with room for the trace.
 */
static void mem_fill(int fd, int decide)
{
	struct objheap_stats st0, st;
	uint32_t done, j, k;
	double per, need;
	int ret;

	ret = objheap_stats(cur_heap, &st0, NULL, 0);
	if (ret)
		die("OBJHEAP_STATS", ret);
	for (done = 0; done < mem_n; done += k) {
		k = mem_n - done < BATCH ? mem_n - done : BATCH;
		batch_reset();
		for (j = 0; j < k; j++)
			batch_new(done + j);
		batch_submit(fd);
		if (!decide || done + k != MEM_PROBE)
			continue;
		ret = objheap_stats(cur_heap, &st, NULL, 0);
		if (ret)
			die("OBJHEAP_STATS", ret);
		/* Twice the goal's bytes per object, and a tenth, spare. */
		per = (double)(st.out_bytes_held - st0.out_bytes_held) /
		      MEM_PROBE + 2 * GOAL_BYTES;
		need = (st0.out_bytes_held + per * MEM_N) * 1.1;
		if (need > room(&st)) {
			printf("  (%u objects would need about %.0f MiB, the heap may hold %llu MiB: %u instead)\n",
			       MEM_N, need / (1 << 20),
			       (unsigned long long)room(&st) >> 20, MEM_N_SMALL);
			mem_n = MEM_N_SMALL;
		}
	}
	batch_reset();
}

static void bench_memory(void)
{
	struct objheap_stats off, on;
	struct objheap_trace_ctl tc;
	int fd, ret;

	printf("memory per traced object: two-slot objects kept alive, made through\n"
	       "batches of %d tagged NEWs on a fresh heap with tracing off, and on\n"
	       "another with tracing on (sample_every 1); OBJHEAP_STATS after\n",
	       BATCH);

	fd = open_heap();
	trace_ctl(fd, OBJHEAP_TRACE_GET, 0, &tc);
	mem_fill(fd, 1);
	ret = objheap_stats(cur_heap, &off, NULL, 0);
	if (ret)
		die("OBJHEAP_STATS", ret);
	close_heap();

	fd = open_heap();
	trace_ctl(fd, OBJHEAP_TRACE_START, 1, &tc);
	mem_fill(fd, 0);
	ret = objheap_stats(cur_heap, &on, NULL, 0);
	if (ret)
		die("OBJHEAP_STATS", ret);
	trace_ctl(fd, OBJHEAP_TRACE_GET, 0, &tc);
	close_heap();

	printf("  N=%u objects, heap limit %llu MiB\n", mem_n,
	       (unsigned long long)off.out_limit >> 20);
	printf("  %-24s %14s %14s %10s  %s\n", "OBJHEAP_STATS", "tracing off",
	       "tracing on", "B/object", "goal");
	printf("  %-24s %14llu %14llu %10.2f  <= %.0f\n", "out_bytes_in_use",
	       (unsigned long long)off.out_bytes_in_use,
	       (unsigned long long)on.out_bytes_in_use,
	       ((double)on.out_bytes_in_use - off.out_bytes_in_use) / mem_n,
	       GOAL_BYTES);
	printf("  %-24s %14llu %14llu %10.2f  for reference\n",
	       "out_bytes_held", (unsigned long long)off.out_bytes_held,
	       (unsigned long long)on.out_bytes_held,
	       ((double)on.out_bytes_held - off.out_bytes_held) / mem_n);
	printf("  %-24s %14llu %14llu %10.2f  for reference\n",
	       "  of which charged", (unsigned long long)off.out_bytes_charged,
	       (unsigned long long)on.out_bytes_charged,
	       ((double)on.out_bytes_charged - off.out_bytes_charged) / mem_n);
	printf("  (B/object: (tracing on - tracing off) / N; in use with tracing off\n"
	       "  is %.1f B/object; the trace counts %.1f B per object it traces)\n\n",
	       (double)off.out_bytes_in_use / mem_n,
	       (double)tc.out_traced_bytes / mem_n);
	if (tc.out_traced_objects != mem_n || tc.out_pairs != pairs_used(mem_n))
		fail("memory: TRACE_CTL GET says %llu objects and %u pairs traced, not %u and %u",
		     (unsigned long long)tc.out_traced_objects, tc.out_pairs,
		     mem_n, pairs_used(mem_n));
}

/* ---- 3: CPython's tracemalloc on the same churn ------------------------ */

enum cpy_key {
	C_N, C_LIVE, C_ROUNDS, C_PLAIN, C_TRACED, C_RATIO, C_MEM_LIVE,
	C_TRACED_LIVE, C_KEEP_N, C_MEM_KEEP, NR_CPY
};

static const char *const cpy_names[NR_CPY] = {
	"n", "live", "rounds", "plain", "traced", "ratio", "mem_live",
	"traced_live", "keep_n", "mem_keep",
};

/* Run cpython_tracemalloc.py; 0 when it gave every figure. */
static int cpython_run(double *val)
{
	char cmd[256], name[32];
	unsigned int got = 0;
	double v;
	FILE *p;
	int i;

	snprintf(cmd, sizeof(cmd), CPYTHON " %u %u %d %u", n_churn, LIVE,
		 rounds < CPY_ROUNDS ? rounds : CPY_ROUNDS, mem_n);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fscanf(p, "%31s %lf", name, &v) == 2) {
		for (i = 0; i < NR_CPY; i++) {
			if (!strcmp(name, cpy_names[i])) {
				val[i] = v;
				got |= 1U << i;
			}
		}
	}
	if (pclose(p) || got != (1U << NR_CPY) - 1)
		return -1;
	return 0;
}

static int bench_cpython(void)
{
	double v[NR_CPY];

	if (cpython_run(v)) {
		fflush(stdout);
		fprintf(stderr, "trace_bench: FAIL: CPython reference: %s failed or gave no figures\n",
			CPYTHON);
		return -1;
	}
	printf("CPython 3.11, the same churn (bench/cpython_tracemalloc.py): N=%.0f\n"
	       "objects, %.0f alive at a time, made at %d call sites (%d tracebacks),\n"
	       "gc disabled, modes alternated, median of %.0f rounds\n",
	       v[C_N], v[C_LIVE], NR_PAIRS, NR_PAIRS, v[C_ROUNDS]);
	printf("  %-38s %10s\n", "mode", "ns/object");
	printf("  %-38s %10.1f\n", "no tracemalloc", v[C_PLAIN]);
	printf("  %-38s %10.1f\n", "tracemalloc.start(1)", v[C_TRACED]);
	printf("  %-38s %10s  %s\n", "ratio", "median", "goal");
	printf("  %-38s %10.3f  for reference\n", "tracemalloc / none",
	       v[C_RATIO]);
	if (churn_ratio_on > 0)
		printf("  %-38s %10.3f  (above)\n", "objheap: tracing on / off",
		       churn_ratio_on);
	printf("  %-38s %10s\n", "tracemalloc's memory", "B/object");
	printf("  %-38s %10.1f  for reference\n", "per live object, churning",
	       v[C_MEM_LIVE]);
	printf("  %-38s %10.1f  for reference\n", "per object kept alive",
	       v[C_MEM_KEEP]);
	printf("  (get_tracemalloc_memory(): at the end of a traced churn over the\n"
	       "  live objects, and its growth over %.0f objects kept alive; it traces\n"
	       "  %.1f B per object)\n\n", v[C_KEEP_N], v[C_TRACED_LIVE]);
	return 0;
}

/* ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static int failed;

	if (argc > 1) {
		n_churn = strtoul(argv[1], NULL, 0);
		n_churn = (n_churn + LIVE - 1) / LIVE * LIVE;
		if (!n_churn)
			n_churn = LIVE;
	}
	if (argc > 2) {
		rounds = atoi(argv[2]);
		if (rounds < 1 || rounds > ROUNDS_MAX) {
			fprintf(stderr, "usage: trace_bench [N [ROUNDS (1 to %d)]]\n",
				ROUNDS_MAX);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	printf("objheap allocation tracing, one VM boot\n\n");

	in_part = 1;
	if (!setjmp(part_env))
		bench_churn();
	else
		failed = 1;
	close_heap();
	if (!setjmp(part_env))
		bench_memory();
	else
		failed = 1;
	close_heap();
	in_part = 0;

	if (bench_cpython())
		failed = 1;

	if (failed)
		printf("trace_bench: FAIL: see the lines above\n");
	return failed;
}
