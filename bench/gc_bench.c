// SPDX-License-Identifier: GPL-2.0
/*
 * gc_bench: what objheap's cycle collector costs, as ratios against
 * baselines measured in the same VM boot:
 *
 *  - a full collection of unreachable rings, two-object cycles and random
 *    graphs of N two-slot objects, against CPython's gc.collect() over
 *    the same shapes (bench/cpython_gc.py), the two sides taking turns:
 *    goal <= 0.5 per object, the median of three rounds;
 *  - a generation-0 collection with 10^6 old objects, against one with
 *    none: goal <= 1.1 (young collections cost what is young);
 *  - the longest pause of an automatic collection (the slowest
 *    OBJHEAP_NEW) while a heap of 10^6 live objects churns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libobjheap.h>
#include "bench_chain.h"

#define PER 1024
#define NR_SHAPES 3

static const char *const shapes[NR_SHAPES] = { "ring", "pairs", "random" };
static const uint32_t sizes[] = { 10000, 100000, 1000000 };
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "gc_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void submit(struct objheap *heap, struct objheap_batch_buf *b)
{
	int ret = objheap_batch_submit(heap, b, 0);
	uint32_t i;

	if (ret < 0)
		die("batch", ret);
	for (i = 0; ret && i < objheap_batch_count(b); i++) {
		if (objheap_batch_result(b, i)) {
			fprintf(stderr, "gc_bench: batch entry %u of %u failed\n",
				i, objheap_batch_count(b));
			die("batch", objheap_batch_result(b, i));
		}
	}
}

/* Create @n two-slot objects; their handles go to @h. */
static void create(struct objheap *heap, struct objheap_batch_buf *b,
		   uint64_t *h, uint32_t n)
{
	uint32_t i, j, k;

	for (i = 0; i < n; i += k) {
		k = n - i < PER ? n - i : PER;
		objheap_batch_reset(b);
		for (j = 0; j < k; j++)
			objheap_batch_new(b, 1, 0, 2, NULL, 0, NULL);
		submit(heap, b);
		for (j = 0; j < k; j++)
			h[i + j] = objheap_batch_handle(b, j);
	}
}

/* Set slot @slot of h[i] to h[to[i]] for every i, then drop every handle. */
static void link_and_drop(struct objheap *heap, struct objheap_batch_buf *b,
			  uint64_t *h, uint32_t n, const uint32_t *to_a,
			  const uint32_t *to_b)
{
	uint32_t i, j, k;

	for (i = 0; i < n; i += k) {
		k = n - i < PER / 2 ? n - i : PER / 2;
		objheap_batch_reset(b);
		for (j = i; j < i + k; j++) {
			objheap_batch_set_slot(b, h[j], 0, h[to_a[j]]);
			if (to_b)
				objheap_batch_set_slot(b, h[j], 1, h[to_b[j]]);
		}
		submit(heap, b);
	}
	if (objheap_release_array(heap, h, n))
		die("release", -EIO);
}

/* Build @shape over @n objects, unreachable; return the collection's ns. */
static uint64_t collect_shape(struct objheap *heap, struct objheap_batch_buf *b,
			      int shape, uint32_t n, uint32_t *found)
{
	static uint64_t h[1000000];
	static uint32_t to_a[1000000], to_b[1000000];
	uint64_t t0;
	uint32_t i;
	int ret;

	for (i = 0; i < n; i++) {
		switch (shape) {
		case 0:
			to_a[i] = (i + 1) % n;
			break;
		case 1:
			to_a[i] = i ^ 1;
			break;
		default:
			to_a[i] = rand() % n;
			to_b[i] = rand() % n;
			break;
		}
	}
	create(heap, b, h, n);
	link_and_drop(heap, b, h, n, to_a, shape == 2 ? to_b : NULL);
	t0 = now_ns();
	ret = objheap_gc_collect(heap, 2, NULL);
	t0 = now_ns() - t0;
	if (ret < 0)
		die("collect", ret);
	*found = ret;
	return t0;
}

/*
 * CPython's gc.collect() over @shape of @n objects, in a process of its
 * own: its ns per object found, into *@ns and *@found.  Returns false
 * if the run gave nothing.
 */
static bool run_cpython(const char *shape, uint32_t n, uint32_t *found,
			double *ns)
{
	char cmd[256], got[16];
	unsigned int got_n;
	bool ok;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -S /opt/objheap/bin/bench/cpython_gc.py %s:%u",
		 shape, n);
	p = popen(cmd, "r");
	if (!p)
		return false;
	ok = fscanf(p, "%15s %u %u %lf", got, &got_n, found, ns) == 4 &&
	     got_n == n && !strcmp(got, shape);
	pclose(p);
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A heap of its own for a measurement, with room for 10^6 objects. */
static struct objheap *open_heap(void)
{
	struct objheap *heap;
	int ret;

	ret = objheap_open(&heap);
	if (ret)
		die("open", ret);
	/* 10^6 two-slot objects and the table take more than the default. */
	ret = objheap_set_limit(heap, 1ULL << 30);
	if (ret)
		die("limit", ret);
	objheap_gc_disable(heap);
	return heap;
}

/*
 * One shape and size: ROUNDS rounds, each CPython's collection then
 * objheap's, one after the other, so that both sides of a ratio run under
 * the same load of the host (under TCG, its load moves times by a factor
 * of two or three within minutes).  Each side starts afresh every round,
 * CPython in a new process and objheap in a new heap, so that neither
 * builds its graph in memory an earlier one left scattered.  Prints the
 * median of each side's ns per object found, and the median ratio with
 * the lowest and highest.
 */
#define ROUNDS 3

static void compare_shape(struct objheap_batch_buf *b, int s, uint32_t n)
{
	struct objheap *heap;
	double ours[ROUNDS], theirs[ROUNDS], ratio[ROUNDS];
	uint32_t found = 0, cpy_found = 0;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		if (!run_cpython(shapes[s], n, &cpy_found, &theirs[r]) ||
		    theirs[r] <= 0)
			die("CPython's run", -EIO);
		heap = open_heap();
		ours[r] = collect_shape(heap, b, s, n, &found);
		objheap_close(heap);
		ours[r] = found ? ours[r] / found : 0;
		ratio[r] = ours[r] / theirs[r];
	}
	qsort(ours, ROUNDS, sizeof(double), cmp_double);
	qsort(theirs, ROUNDS, sizeof(double), cmp_double);
	qsort(ratio, ROUNDS, sizeof(double), cmp_double);
	printf("  %-7s %8u %9u %13.1f %9u %13.1f %7.2f %5.2f-%.2f\n",
	       shapes[s], n, found, ours[ROUNDS / 2], cpy_found,
	       theirs[ROUNDS / 2], ratio[ROUNDS / 2], ratio[0],
	       ratio[ROUNDS - 1]);
}

/* Collect generation 0 @reps times over @young garbage pairs; best ns. */
static uint64_t young_collection(struct objheap *heap, struct objheap_batch_buf *b,
				 uint32_t young, int reps)
{
	static uint64_t h[2000];
	static uint32_t to[2000];
	uint64_t best = ~0ULL, t0;
	uint32_t i;
	int r, ret;

	for (i = 0; i < young; i++)
		to[i] = i ^ 1;
	for (r = 0; r < reps; r++) {
		create(heap, b, h, young);
		link_and_drop(heap, b, h, young, to, NULL);
		t0 = now_ns();
		ret = objheap_gc_collect(heap, 0, NULL);
		t0 = now_ns() - t0;
		if (ret != (int)young)
			die("young collection", ret < 0 ? ret : -EIO);
		if (t0 < best)
			best = t0;
	}
	return best;
}

/* 10^6 live objects, made old: a chain held by its head. */
static uint64_t build_old(struct objheap *heap, struct objheap_batch_buf *b,
			  uint32_t n)
{
	uint64_t head = bench_chain(heap, b, n);

	if (!head)
		die("chain", -ENOMEM);
	objheap_gc_collect(heap, 1, NULL);
	objheap_gc_collect(heap, 2, NULL);
	return head;
}

/*
 * Churn: create and drop self-referencing objects with automatic
 * collection on, one OBJHEAP_NEW at a time, and time each.
 */
static void churn(struct objheap *heap, uint32_t n)
{
	struct objheap_gc_gen_stats before[3], after[3];
	uint64_t worst = 0, total = 0, t0, t, h;
	uint32_t i;
	int g;

	objheap_gc_get_stats(heap, before);
	objheap_gc_enable(heap);
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (objheap_new(heap, 1, 0, 1, NULL, 0, NULL, &h))
			die("churn", -ENOMEM);
		t = now_ns() - t0;
		total += t;
		if (t > worst)
			worst = t;
		/* Every fourth one is kept: the old generations grow. */
		if (objheap_set_slot(heap, h, 0, i % 4 ? h : 0) ||
		    (i % 4 && objheap_release(heap, h)))
			die("churn", -EIO);
	}
	objheap_gc_disable(heap);
	objheap_gc_get_stats(heap, after);
	printf("  churn: %u creations over 10^6 live objects, automatic collection on\n", n);
	printf("    mean OBJHEAP_NEW %.1f us, longest %.1f ms; collections by generation:",
	       total / 1000.0 / n, worst / 1e6);
	for (g = 0; g < 3; g++)
		printf(" %llu", (unsigned long long)(after[g].collections -
						     before[g].collections));
	printf("\n");
}

int main(void)
{
	struct objheap_batch_buf *b;
	struct objheap *heap;
	uint64_t with_none, with_old;
	uint32_t found;
	unsigned int s, z;
	int ret;

	srand(1);
	ret = objheap_batch_alloc(&b, PER);
	if (ret)
		die("batch", ret);
	heap = open_heap();

	/* Warm up: the emulator translates the collector's code once. */
	collect_shape(heap, b, 0, 10000, &found);
	printf("full collection of unreachable two-slot objects, one VM boot,\n"
	       "CPython and objheap one after the other, %d rounds (medians)\n",
	       ROUNDS);
	printf("  %-7s %8s %9s %13s %9s %13s %7s %9s\n", "shape", "N", "found",
	       "objheap ns/o", "CPy found", "CPython ns/o", "ratio", "range");
	for (s = 0; s < NR_SHAPES; s++)
		for (z = 0; z < NR_SIZES; z++)
			compare_shape(b, s, sizes[z]);
	printf("  goal: ratio <= 0.50\n\n");

	with_none = young_collection(heap, b, 1400, 20);
	build_old(heap, b, 1000000);
	with_old = young_collection(heap, b, 1400, 20);
	printf("generation-0 collection of 1400 young objects (best of 20)\n");
	printf("  no old objects: %.1f us, 10^6 old objects: %.1f us, ratio %.2f (goal <= 1.10)\n\n",
	       with_none / 1e3, with_old / 1e3, (double)with_old / with_none);

	churn(heap, 1000000);
	objheap_batch_free(b);
	objheap_close(heap);
	return 0;
}
