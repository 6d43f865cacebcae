// SPDX-License-Identifier: GPL-2.0
/*
 * pause_bench: the incremental collection of the oldest generation
 * against the stop-the-world one, on the workload that made CPython take
 * its incremental collector back (3.14.5): a large live graph held while
 * cyclic garbage keeps coming, each piece living long enough to reach
 * the oldest generation before it is dropped.
 *
 * For each mode, in one VM boot and on a new heap: 10^6 live two-slot
 * objects (a chain), then @ROUNDS rings of four objects, each made by one
 * OBJHEAP_BATCH and held in a window of @WINDOW rings, the oldest let go
 * as each new one comes.  Reported: the slowest command (the longest
 * pause a command saw: automatic collections run inside the creations),
 * the collector's total time (OBJHEAP_GC_GET_STATS), and the most memory
 * the heap held (sampled every 64 rings per 10^6 live objects).  Goals, incremental against
 * stop-the-world: slowest command <= 0.10, collector time <= 1.10, peak
 * memory <= 1.10.  CPython 3.11 runs the same workload for reference
 * (bench/cpython_pause.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libobjheap.h>
#include "bench_chain.h"

#define WINDOW 20000
#define PER 512

/* The sizes, which OBJHEAP_PAUSE_LIVE and _ROUNDS may change. */
static uint32_t LIVE = 1000000, ROUNDS = 200000;

struct result {
	uint64_t slowest_ns;
	uint64_t over_1ms;
	uint64_t gc_ns;
	uint64_t gc_longest_ns;
	uint64_t peak_held;
	uint64_t collected;
	uint64_t full;
	uint64_t increments;
	double mean_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "pause_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void submit(struct objheap *heap, struct objheap_batch_buf *b)
{
	int ret = objheap_batch_submit(heap, b, 0);

	if (ret < 0)
		die("batch", ret);
	if (ret)
		die("batch entry", objheap_batch_result(b, ret - 1) ?: -EIO);
}

/* @n live objects: a chain held by its head, made old. */
static uint64_t build_live(struct objheap *heap, struct objheap_batch_buf *b,
			   uint32_t n)
{
	uint64_t head = bench_chain(heap, b, n);

	if (!head)
		die("chain", -ENOMEM);
	objheap_gc_collect(heap, 2, NULL);
	return head;
}

/* Raise a module parameter for a large run; best effort, as root. */
static void set_param(const char *name, unsigned long long value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/objheap/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%llu\n", value);
	fclose(f);
}

static uint64_t held(struct objheap *heap)
{
	struct objheap_stats st = { .size = sizeof(st) };

	return objheap_stats(heap, &st, NULL, 0) ? 0 : st.out_bytes_held;
}

static void run(uint32_t mode, struct result *r)
{
	static uint64_t window[WINDOW];
	struct objheap_gc_stats before = { 0 }, after = { 0 };
	uint64_t slot[4][2], t0, t, total = 0, h;
	struct objheap_batch_buf *b;
	struct objheap_gc_mode m;
	struct objheap *heap;
	uint32_t i, w = 0;
	int first, j, ret;

	memset(r, 0, sizeof(*r));
	memset(window, 0, sizeof(window));
	ret = objheap_open(&heap) ?: objheap_batch_alloc(&b, PER);
	if (!ret)
		ret = objheap_set_limit(heap, LIVE > 1000000 ?
					(1ULL << 30) + 256ULL * LIVE : 1ULL << 30);
	if (!ret)
		ret = objheap_gc_set_mode(heap, mode, 0);
	if (ret)
		die("open", ret);
	objheap_gc_disable(heap);
	build_live(heap, b, LIVE);
	objheap_gc_enable(heap);
	objheap_gc_get_info(heap, &before);
	r->peak_held = held(heap);

	for (i = 0; i < ROUNDS; i++) {
		/* A ring of four, each object's second slot empty. */
		objheap_batch_reset(b);
		first = objheap_batch_new(b, 1, 0, 2, NULL, 0, NULL);
		for (j = 1; j < 4; j++) {
			slot[j][0] = OBJHEAP_BATCH_REF(first + j - 1);
			slot[j][1] = 0;
			objheap_batch_new(b, 1, 0, 2, NULL, 0, slot[j]);
		}
		objheap_batch_set_slot(b, OBJHEAP_BATCH_REF(first), 0,
				       OBJHEAP_BATCH_REF(first + 3));
		for (j = 1; j < 4; j++)
			objheap_batch_release(b, OBJHEAP_BATCH_REF(first + j));
		t0 = now_ns();
		submit(heap, b);
		t = now_ns() - t0;
		h = objheap_batch_handle(b, first);
		/* The oldest ring of the window goes. */
		if (window[w]) {
			t0 = now_ns();
			ret = objheap_release(heap, window[w]);
			if (ret) {
				fprintf(stderr, "pause_bench: ring %u, mode %u\n", i, mode);
				die("release", ret);
			}
			t += now_ns() - t0;
		}
		window[w] = h;
		w = (w + 1) % WINDOW;
		total += t;
		if (t > r->slowest_ns)
			r->slowest_ns = t;
		r->over_1ms += t > 1000000;
		/*
		 * OBJHEAP_STATS walks the heap's pools: sampled less often
		 * as the heap grows, so that it costs the same share.
		 */
		if (!(i % (64 * (LIVE / 1000000 ?: 1))) && held(heap) > r->peak_held)
			r->peak_held = held(heap);
	}
	objheap_gc_get_info(heap, &after);
	if (objheap_gc_get_mode(heap, &m))
		memset(&m, 0, sizeof(m));
	r->mean_ns = (double)total / ROUNDS;
	r->gc_ns = after.out_total_ns - before.out_total_ns;
	r->gc_longest_ns = after.out_longest_ns;
	for (j = 0; j < 3; j++)
		r->collected += after.out_gen[j].collected - before.out_gen[j].collected;
	r->full = after.out_gen[2].collections - before.out_gen[2].collections;
	r->increments = m.out_increments;
	objheap_batch_free(b);
	objheap_close(heap);
}

struct cpy {
	double slowest_ms, gc_ms, peak_mib;
	unsigned long collected;
	int ok;
};

static void run_cpython(struct cpy *c)
{
	char cmd[256];
	FILE *p;

	memset(c, 0, sizeof(*c));
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -S /opt/objheap/bin/bench/cpython_pause.py %u %u %u",
		 LIVE, ROUNDS, WINDOW);
	p = popen(cmd, "r");
	if (!p)
		return;
	c->ok = fscanf(p, "%lf %lf %lf %lu", &c->slowest_ms, &c->gc_ms,
		       &c->peak_mib, &c->collected) == 4;
	pclose(p);
}

static void print(const char *name, const struct result *r)
{
	printf("  %-16s %10.2f %8llu %9.1f %12.1f %11.2f %9.1f %10llu %5llu %6llu\n",
	       name, r->slowest_ns / 1e6, (unsigned long long)r->over_1ms,
	       r->mean_ns / 1e3, r->gc_ns / 1e6, r->gc_longest_ns / 1e6,
	       r->peak_held / 1048576.0, (unsigned long long)r->collected,
	       (unsigned long long)r->full, (unsigned long long)r->increments);
}

int main(void)
{
	struct result stw, inc;
	struct cpy c;

	if (getenv("OBJHEAP_PAUSE_LIVE"))
		LIVE = strtoul(getenv("OBJHEAP_PAUSE_LIVE"), NULL, 0);
	if (getenv("OBJHEAP_PAUSE_ROUNDS"))
		ROUNDS = strtoul(getenv("OBJHEAP_PAUSE_ROUNDS"), NULL, 0);
	/* 10^7 objects need more than a heap's and a user's defaults. */
	if (LIVE > 1000000) {
		set_param("heap_limit_max", (1ULL << 30) + 256ULL * LIVE);
		set_param("user_limit", (2ULL << 30) + 256ULL * LIVE);
	}
	/* CPython at 10^7 would take most of the VM's time limit under TCG. */
	if (LIVE <= 1000000)
		run_cpython(&c);
	else
		memset(&c, 0, sizeof(c));
	/* Stop-the-world first, then incremental, then stop-the-world again. */
	run(OBJHEAP_GC_STOP_THE_WORLD, &stw);
	run(OBJHEAP_GC_INCREMENTAL, &inc);
	printf("garbage stream over %u live objects: %u rings of 4 in a window of %u, one VM boot\n",
	       LIVE, ROUNDS, WINDOW);
	printf("  %-16s %10s %8s %9s %12s %11s %9s %10s %5s %6s\n", "mode",
	       "slowest ms", ">1 ms", "mean us", "gc total ms", "gc pause ms",
	       "peak MiB", "collected", "full", "incr");
	print("stop-the-world", &stw);
	print("incremental", &inc);
	run(OBJHEAP_GC_STOP_THE_WORLD, &stw);
	print("stop-the-world", &stw);
	if (c.ok)
		printf("  %-16s %10.2f %8s %9s %12.1f %11s %9.1f %10lu (peak RSS)\n",
		       "CPython 3.11", c.slowest_ms, "", "", c.gc_ms, "",
		       c.peak_mib, c.collected);
	printf("  incremental / stop-the-world (second run): slowest command %.3f (goal <= 0.10), collector time %.2f (goal <= 1.10), peak memory %.2f (goal <= 1.10)\n",
	       (double)inc.slowest_ns / stw.slowest_ns,
	       (double)inc.gc_ns / stw.gc_ns,
	       (double)inc.peak_held / stw.peak_held);
	return 0;
}
