// SPDX-License-Identifier: GPL-2.0
/*
 * object_bench: what objheap's object commands cost, as ratios against
 * baselines measured in the same VM boot:
 *
 *  - each command, one ioctl per operation, against a null ioctl on the
 *    same device (OBJHEAP_TEST_OP_NOP): goal <= 1.5;
 *  - the same commands in batches of 64, per operation, against the null
 *    ioctl: goal <= 0.25;
 *  - building and dropping N linked two-slot objects through batches,
 *    against CPython doing the same (bench/cpython_objects.py).
 *
 * Absolute times under TCG mean little; only the ratios are reported as
 * results.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <libobjheap.h>
#include "bench_count.h"
#include "objheap_test.h"

#define N_OPS 100000
#define BATCH 64

static uint64_t handles[N_OPS];
static unsigned int nr_counted;

/*
 * Name what ran between the last count_start() and count_stop(), for
 * make count, which reads the plugin's figures beside these lines.
 */
static void counted(const char *how, const char *what, unsigned int ops)
{
	printf("objheap-count-label: %u %u %s, %s\n", nr_counted++, ops, how,
	       what);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "object_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static double bench_null(int fd, int n)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_NOP,
	};
	uint64_t t0 = now_ns();
	int i;

	count_start();
	for (i = 0; i < n; i++)
		if (ioctl(fd, OBJHEAP_TEST, &cmd))
			die("null ioctl", -errno);
	count_stop();
	return (double)(now_ns() - t0) / n;
}

/*
 * The last rows say where a creation's time goes: an entry the kernel
 * refuses on its flags costs the way in and out of a command and nothing
 * else; a bare object (no slot, no byte) is not on the collector's
 * lists, so set beside the two-slot one it prices the list link.
 */
enum op { OP_NEW, OP_RELEASE, OP_DUP_RELEASE, OP_SET_SLOT, OP_READ,
	  OP_NEW_BARE, OP_RELEASE_BARE, OP_REFUSED,
	  OP_NEW_GC, OP_RELEASE_GC, NR_OPS };

static const char *const op_names[NR_OPS] = {
	"new (2 slots, 16 B)", "release", "dup + release (each)",
	"set slot", "read 16 B", "new, bare (untracked)", "release, bare",
	"refused (EINVAL)", "new, automatic gc on", "release, gc on",
};

/* A flag no command knows: the entry is refused before any work. */
#define FLAG_UNKNOWN (1u << 31)

/* One ioctl per operation; returns ns per operation. */
static double bench_single(struct objheap *heap, enum op op, uint64_t a,
			   uint64_t b, uint64_t c)
{
	char buf[16];
	uint64_t t0 = now_ns();
	int i, ret = 0;

	count_start();
	for (i = 0; i < N_OPS && !ret; i++) {
		switch (op) {
		case OP_NEW:
		case OP_NEW_GC:
			ret = objheap_new(heap, 1, 0, 2, NULL, 16, NULL, &handles[i]);
			break;
		case OP_NEW_BARE:
			ret = objheap_new(heap, 1, 0, 0, NULL, 0, NULL, &handles[i]);
			break;
		case OP_REFUSED:
			ret = objheap_new(heap, 1, FLAG_UNKNOWN, 0, NULL, 0, NULL,
					  &handles[i]);
			ret = ret == -EINVAL ? 0 : -EPROTO;
			break;
		case OP_RELEASE:
		case OP_RELEASE_BARE:
		case OP_RELEASE_GC:
			ret = objheap_release(heap, handles[i]);
			break;
		case OP_DUP_RELEASE:
			ret = objheap_dup(heap, a) ?: objheap_release(heap, a);
			break;
		case OP_SET_SLOT:
			ret = objheap_set_slot(heap, a, 0, i & 1 ? b : c);
			break;
		case OP_READ:
			ret = objheap_read(heap, b, 0, buf, sizeof(buf));
			break;
		default:
			break;
		}
	}
	count_stop();
	if (ret)
		die(op_names[op], ret);
	return (double)(now_ns() - t0) / (op == OP_DUP_RELEASE ? 2 * N_OPS : N_OPS);
}

/* The same, BATCH operations per OBJHEAP_BATCH. */
static double bench_batched(struct objheap *heap, struct objheap_batch_buf *bb,
			    enum op op, uint64_t a, uint64_t b, uint64_t c)
{
	static char buf[16];
	uint64_t t0 = now_ns();
	int i, j, ret, per = op == OP_DUP_RELEASE ? 2 : 1;

	count_start();
	for (i = 0; i < N_OPS; i += BATCH) {
		objheap_batch_reset(bb);
		for (j = i; j < i + BATCH; j++) {
			switch (op) {
			case OP_NEW:
			case OP_NEW_GC:
				objheap_batch_new(bb, 1, 0, 2, NULL, 16, NULL);
				break;
			case OP_NEW_BARE:
				objheap_batch_new(bb, 1, 0, 0, NULL, 0, NULL);
				break;
			case OP_REFUSED:
				objheap_batch_new(bb, 1, FLAG_UNKNOWN, 0, NULL, 0,
						  NULL);
				break;
			case OP_RELEASE:
			case OP_RELEASE_BARE:
			case OP_RELEASE_GC:
				objheap_batch_release(bb, handles[j]);
				break;
			case OP_DUP_RELEASE:
				objheap_batch_dup(bb, a);
				objheap_batch_release(bb, a);
				break;
			case OP_SET_SLOT:
				objheap_batch_set_slot(bb, a, 0, j & 1 ? b : c);
				break;
			case OP_READ:
				objheap_batch_read(bb, b, 0, buf, sizeof(buf));
				break;
			default:
				break;
			}
		}
		if (op == OP_REFUSED) {
			ret = objheap_batch_submit(heap, bb,
						   OBJHEAP_BATCH_CONTINUE);
			if (ret != BATCH ||
			    objheap_batch_result(bb, BATCH - 1) != -EINVAL)
				die(op_names[op], ret < 0 ? ret : -EPROTO);
			continue;
		}
		ret = objheap_batch_submit(heap, bb, 0);
		if (ret)
			die(op_names[op], ret < 0 ? ret : objheap_batch_result(bb, 0));
		if (op == OP_NEW || op == OP_NEW_BARE || op == OP_NEW_GC)
			for (j = 0; j < BATCH; j++)
				handles[i + j] = objheap_batch_handle(bb, j);
	}
	count_stop();
	return (double)(now_ns() - t0) / (per * (N_OPS / BATCH * BATCH));
}

/*
 * Entries the kernel refuses, in batches of @size: what a batch costs
 * apart from its commands' work, per entry; set against the batch size
 * it splits into a part per batch and a part per entry.
 */
static double bench_refused(struct objheap *heap, uint32_t size)
{
	struct objheap_batch_buf *bb;
	uint32_t i, j, n = N_OPS / size * size;
	uint64_t t0;
	int ret;

	ret = objheap_batch_alloc(&bb, size);
	if (ret)
		die("batch", ret);
	for (j = 0; j < size; j++)
		objheap_batch_new(bb, 1, FLAG_UNKNOWN, 0, NULL, 0, NULL);
	t0 = now_ns();
	count_start();
	for (i = 0; i < n; i += size) {
		ret = objheap_batch_submit(heap, bb, OBJHEAP_BATCH_CONTINUE);
		if (ret != (int)size)
			die("refused", ret < 0 ? ret : -EPROTO);
	}
	count_stop();
	t0 = now_ns() - t0;
	objheap_batch_free(bb);
	return (double)t0 / n;
}

/*
 * Build N objects of two slots, each holding the previous one, through
 * batches of 2 * BATCH entries (new, release the previous; with @forget,
 * OBJHEAP_RELEASE_FORGET, so that no handle entry stays per object), then
 * drop the whole chain with one release.
 */
static double bench_chain(struct objheap *heap, struct objheap_batch_buf *bb,
			  uint32_t n, bool forget)
{
	static uint64_t slots[BATCH][2];
	uint64_t t0 = now_ns(), prev = 0;
	uint32_t done = 0, i, k;
	int ret, last = -1;

	count_start();
	while (done < n) {
		k = n - done < BATCH ? n - done : BATCH;
		objheap_batch_reset(bb);
		for (i = 0; i < k; i++) {
			slots[i][0] = i ? OBJHEAP_BATCH_REF(last) : prev;
			last = objheap_batch_new(bb, 1, 0, 2, NULL, 0, slots[i]);
			if (slots[i][0] && forget)
				objheap_batch_release_forget(bb, slots[i][0]);
			else if (slots[i][0])
				objheap_batch_release(bb, slots[i][0]);
		}
		ret = objheap_batch_submit(heap, bb, 0);
		if (ret)
			die("chain", ret < 0 ? ret : -EIO);
		prev = objheap_batch_handle(bb, last);
		done += k;
	}
	ret = objheap_release(heap, prev);
	count_stop();
	if (ret)
		die("chain release", ret);
	return (double)(now_ns() - t0) / n;
}

/*
 * For make count: a full collection of @n unreachable two-slot objects,
 * each slot to an object drawn at random (gc_bench's random graph), and
 * the build and drop of a chain of @n with OBJHEAP_RELEASE_FORGET; each
 * counted per object.
 */
static void count_graphs(struct objheap *heap, struct objheap_batch_buf *bb,
			 uint32_t n)
{
	uint64_t *h = calloc(n, sizeof(*h));
	uint32_t i, j, k;
	int ret;

	if (!h)
		die("graph", -ENOMEM);
	srand(1);
	for (i = 0; i < n; i += k) {
		k = n - i < 2 * BATCH ? n - i : 2 * BATCH;
		objheap_batch_reset(bb);
		for (j = 0; j < k; j++)
			objheap_batch_new(bb, 1, 0, 2, NULL, 0, NULL);
		if (objheap_batch_submit(heap, bb, 0))
			die("graph", -EIO);
		for (j = 0; j < k; j++)
			h[i + j] = objheap_batch_handle(bb, j);
	}
	for (i = 0; i < n; i += k) {
		k = n - i < BATCH ? n - i : BATCH;
		objheap_batch_reset(bb);
		for (j = i; j < i + k; j++) {
			objheap_batch_set_slot(bb, h[j], 0, h[rand() % n]);
			objheap_batch_set_slot(bb, h[j], 1, h[rand() % n]);
		}
		if (objheap_batch_submit(heap, bb, 0))
			die("graph", -EIO);
	}
	if (objheap_release_array(heap, h, n))
		die("graph", -EIO);
	free(h);
	count_start();
	ret = objheap_gc_collect(heap, 2, NULL);
	count_stop();
	/* Objects no slot refers to went with their handles. */
	if (ret <= 0)
		die("graph collection", ret < 0 ? ret : -EPROTO);
	counted("full collection", "random graph, per object found", ret);

	bench_chain(heap, bb, n, true);
	counted("build and drop", "a chain, with forget, per object", n);
}

static struct objheap_test_cmd test_objects(struct objheap *heap)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_OBJECTS,
	};

	if (ioctl(objheap_fd(heap), OBJHEAP_TEST, &cmd))
		die("test objects", -errno);
	return cmd;
}

/* Pages a table of @n entries takes, @per to a page. */
static uint32_t pages_of(uint32_t n, uint32_t per)
{
	return (n + per - 1) / per;
}

/*
 * For make count: single commands in a fresh heap, each counted alone
 * under its command's label, which make count prints as a median, a
 * 99th percentile and a largest (item 4 of issue 11: the slowest command
 * within twice the median).  NEWs from the table of handles' ninth page
 * to its thirteenth; INTERNs of distinct payloads and WEAKREF_NEWs to
 * distinct targets from the 1024th to the 2048th, over which their hash
 * tables add two pages of chains each.  The commands that add a page to
 * their table are counted apart, known from the test interface's sizes
 * before and after.
 */
#define GROWTH_FROM	(8 * 256)
#define GROWTH_TO	(12 * 256)
#define HASH_FROM	1024
#define HASH_TO		2048
/* Entries of the table of handles, and chains, to a page. */
#define TABLE_PER_PAGE	256
#define CHAINS_PER_PAGE	512

enum grow_cmd { GROW_NEW, GROW_INTERN, GROW_WEAKREF };

static const char *const grow_names[][2] = {
	[GROW_NEW] = { "new", "new adding a table page" },
	[GROW_INTERN] = { "intern", "intern adding a page of chains" },
	[GROW_WEAKREF] = { "weakref new", "weakref new adding a page" },
};

/* The pages of the table @cmd grows, from the test interface. */
static uint32_t grow_pages(struct objheap *heap, enum grow_cmd cmd)
{
	struct objheap_test_cmd t = test_objects(heap);

	switch (cmd) {
	case GROW_NEW:
		return pages_of(t.objects.out_table_capacity, TABLE_PER_PAGE);
	case GROW_INTERN:
		return pages_of(t.objects.out_intern_chains, CHAINS_PER_PAGE);
	default:
		return pages_of(t.objects.out_weak_chains, CHAINS_PER_PAGE);
	}
}

static void count_growing(struct objheap *heap, enum grow_cmd cmd,
			  uint32_t from, uint32_t to)
{
	uint32_t i, pages;
	uint64_t h, w;
	int ret;

	for (i = 0; i < to; i++) {
		bool count = i >= from;
		uint64_t key = i;

		if (cmd == GROW_WEAKREF &&
		    objheap_new(heap, 1, 0, 0, NULL, 0, NULL, &h))
			die("new", -ENOMEM);
		pages = grow_pages(heap, cmd);
		if (count)
			count_start();
		switch (cmd) {
		case GROW_NEW:
			ret = objheap_new(heap, 1, 0, 2, NULL, 16, NULL, &h);
			break;
		case GROW_INTERN:
			ret = objheap_intern(heap, 1, 0, &key, sizeof(key), &h);
			break;
		default:
			ret = objheap_weakref_new(heap, h, i, 0, &w);
			break;
		}
		if (count)
			count_stop();
		if (ret)
			die(grow_names[cmd][0], ret);
		if (count)
			counted("alone",
				grow_names[cmd][grow_pages(heap, cmd) != pages],
				1);
	}
}

#define HANDLES_ASIDE	136

static void count_table_growth(void)
{
	struct objheap *heap;
	uint32_t i;
	uint64_t h;
	int ret;

	ret = objheap_open(&heap);
	if (ret)
		die("open", ret);
	objheap_gc_disable(heap);
	count_growing(heap, GROW_NEW, GROWTH_FROM, GROWTH_TO);
	/*
	 * INTERN and WEAKREF_NEW take a handle each: this many more keeps
	 * the commands that add a page of chains from also adding a page
	 * of handles, or setting up free entries, in the same command.
	 */
	for (i = 0; i < HANDLES_ASIDE; i++)
		if (objheap_new(heap, 1, 0, 0, NULL, 0, NULL, &h))
			die("new", -ENOMEM);
	count_growing(heap, GROW_INTERN, HASH_FROM, HASH_TO);
	count_growing(heap, GROW_WEAKREF, HASH_FROM, HASH_TO);
	objheap_close(heap);
}

static double cpython_chain(uint32_t n)
{
	char cmd[256];
	double ns = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -S /opt/objheap/bin/bench/cpython_objects.py %u", n);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%lf", &ns) != 1)
		ns = -1;
	if (p)
		pclose(p);
	return ns;
}

int main(void)
{
	static const uint32_t chain_n[] = { 10000, 100000, 1000000 };
	static const uint32_t sweep[] = { 1, 8, 64, 512 };
	double null_ns, single[NR_OPS], batched[NR_OPS];
	struct objheap_batch_buf *bb;
	struct objheap *heap;
	uint64_t a, b, c;
	unsigned int i;
	int ret;

	ret = objheap_open(&heap);
	if (ret)
		die("open", ret);
	ret = objheap_batch_alloc(&bb, 2 * BATCH);
	if (ret)
		die("batch", ret);
	if (objheap_new(heap, 1, 0, 2, NULL, 16, NULL, &a) ||
	    objheap_new(heap, 1, 0, 2, NULL, 16, NULL, &b) ||
	    objheap_new(heap, 1, 0, 2, NULL, 16, NULL, &c))
		die("setup", -ENOMEM);

	/* Warm up: grow the handle table and the allocator once. */
	bench_single(heap, OP_NEW, a, b, c);
	counted("warm-up", op_names[OP_NEW], N_OPS);
	bench_single(heap, OP_RELEASE, a, b, c);
	counted("warm-up", op_names[OP_RELEASE], N_OPS);

	/*
	 * The commands alone first: with automatic collection on, every
	 * 701st tracked OBJHEAP_NEW also runs a generation-0 collection over
	 * the young objects, as CPython's allocations do; measured apart.
	 */
	null_ns = bench_null(objheap_fd(heap), N_OPS);
	counted("one ioctl each", "null ioctl", N_OPS);
	objheap_gc_disable(heap);
	for (i = 0; i < NR_OPS; i++) {
		if (i == OP_NEW_GC)
			objheap_gc_enable(heap);
		single[i] = bench_single(heap, i, a, b, c);
		counted("one ioctl each", op_names[i],
			i == OP_DUP_RELEASE ? 2 * N_OPS : N_OPS);
	}
	objheap_gc_disable(heap);
	for (i = 0; i < NR_OPS; i++) {
		if (i == OP_NEW_GC)
			objheap_gc_enable(heap);
		batched[i] = bench_batched(heap, bb, i, a, b, c);
		counted("batch-64", op_names[i], (i == OP_DUP_RELEASE ? 2 : 1) *
			(N_OPS / BATCH * BATCH));
	}

	printf("objheap object commands, %d operations each, one VM boot\n", N_OPS);
	printf("  %-24s %9s %9s %16s %9s\n", "command", "ns/op", "/null",
	       "batch-64 ns/op", "/null");
	printf("  %-24s %9.1f %9.2f\n", "null ioctl", null_ns, 1.0);
	for (i = 0; i < NR_OPS; i++)
		printf("  %-24s %9.1f %9.2f %16.1f %9.3f\n", op_names[i],
		       single[i], single[i] / null_ns, batched[i],
		       batched[i] / null_ns);
	printf("  goals: single <= 1.50 x null, batched <= 0.250 x null\n\n");

	printf("entries refused on their flags, by batch size (the batch alone)\n");
	printf("  %-10s %9s %9s\n", "entries", "ns/entry", "/null");
	for (i = 0; i < sizeof(sweep) / sizeof(sweep[0]); i++) {
		char what[32];
		double ns = bench_refused(heap, sweep[i]);

		snprintf(what, sizeof(what), "%u entries", sweep[i]);
		counted("refused, batches of", what, N_OPS / sweep[i] * sweep[i]);
		printf("  %-10u %9.1f %9.3f\n", sweep[i], ns, ns / null_ns);
	}
	printf("\n");

	/* make count wants the commands only, and two graphs. */
	if (getenv("OBJHEAP_COUNT")) {
		objheap_gc_disable(heap);
		count_graphs(heap, bb, 100000);
		count_table_growth();
		objheap_batch_free(bb);
		objheap_close(heap);
		return 0;
	}

	/* CPython's side runs with gc.disable(): so does this one. */
	objheap_gc_disable(heap);
	printf("build and drop N linked two-slot objects, automatic gc off on both sides\n"
	       "(objheap: batches of %d)\n", BATCH);
	printf("  %-10s %14s %14s %9s %14s %9s\n", "N", "CPython ns/obj",
	       "objheap ns/obj", "ratio", "forget ns/obj", "ratio");
	for (i = 0; i < sizeof(chain_n) / sizeof(chain_n[0]); i++) {
		double o = bench_chain(heap, bb, chain_n[i], false);
		double f = bench_chain(heap, bb, chain_n[i], true);
		double p = cpython_chain(chain_n[i]);

		printf("  %-10u %14.1f %14.1f %9.2f %14.1f %9.2f\n", chain_n[i],
		       p, o, p > 0 ? o / p : 0, f, p > 0 ? f / p : 0);
	}
	printf("  goal: ratio <= 1.00 at every N (forget: with OBJHEAP_RELEASE_FORGET)\n");
	objheap_batch_free(bb);
	objheap_close(heap);
	return 0;
}
