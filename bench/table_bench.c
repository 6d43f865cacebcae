// SPDX-License-Identifier: GPL-2.0
/*
 * table_bench: whether a heap's commands slow down as its tables grow:
 * the table of handles, the intern table and the weak table, measured in
 * one VM boot.
 *
 * One heap gets N objects (10^7 by default) through single OBJHEAP_NEW
 * ioctls, no slots and no payload, each kept by its own handle, so the
 * table of handles grows to N entries.  Every NEW is timed on its own.
 * The table grows by a page of 256 entries, at NEW number 0, 256, 512...
 * (the heap is new and nothing is released); those NEWs are reported
 * apart: their median and how it changes from the first tenth of the run
 * to the last (goal: not at all, 1.0 within the noise), and the slowest
 * of them against the median NEW (goal, issue 11: 2).  The five slowest
 * NEWs of all are listed with their numbers: a table that doubles by
 * copying shows there, at the powers of two; otherwise they are the
 * emulator's and the host's (timer interrupts, the vCPU's thread
 * preempted), which no code in the module can remove.
 *
 * Then, on a new heap each, N / 10 single INTERNs of distinct 8-byte
 * payloads (the intern table grows to N / 10 objects), and N / 10 single
 * WEAKREF_NEWs, each to its own target made before (the weak table grows
 * to N / 10 targets).  Each is timed, and the five slowest listed: a
 * table that doubles and rehashes shows at the powers of two.  Both
 * commands also take an entry of the table of handles.
 *
 * The heap needs about 65 bytes per object, and a table that doubles by
 * copying needs both copies at once; the bench raises the heap's limit to
 * 100 bytes per object (1 GiB at most) and the module's per-user bound
 * (it runs as root in the VM), and puts the bound back at the end.  N
 * shrinks to what the VM's memory allows, and the output says so.
 *
 * Last, as many null ioctls (OBJHEAP_TEST_OP_NOP) as NEWs, each timed:
 * the commands above 1 ms that no table explains are to be compared with
 * the null ioctls above 1 ms, which do no work at all.
 *
 * Absolute times under TCG mean little; only the ratios are results.
 *
 * Usage: table_bench [N]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <libobjheap.h>
#include "objheap_test.h"

#define N_DEFAULT	10000000u
#define LEAF		256u	/* entries added at a time */
#define GOAL		2.0
#define SLOW_NS		1000000u
#define USER_LIMIT	"/sys/module/objheap/parameters/user_limit"
#define PER_OBJECT	80u	/* bytes the VM must have per object */
/* The heap's limit per object: room for a table that doubles by copying. */
#define LIMIT_PER_OBJECT 100u
#define LIMIT_MAX	(1ULL << 30)	/* the module's default heap_limit_max */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile of @v's @n values, sorted in place. */
static uint32_t quantile(uint32_t *v, size_t n, double q)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[(size_t)(q * (n - 1))];
}

static int read_u64(const char *path, unsigned long long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int write_u64(const char *path, unsigned long long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -errno;
	ok = fprintf(f, "%llu\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

/* Latencies of one command, one at a time. */
struct series {
	uint32_t *lat;
	uint32_t n, max, slow;	/* slow: above SLOW_NS */
	uint64_t sum;
	uint32_t top[5], top_at[5];	/* the five slowest, slowest first */
};

static void series_add(struct series *s, uint64_t t)
{
	uint32_t v = t > UINT32_MAX ? UINT32_MAX : t, k, j;

	s->lat[s->n++] = v;
	s->sum += v;
	if (v > s->max)
		s->max = v;
	s->slow += v > SLOW_NS;
	for (k = 0; k < 5 && v <= s->top[k]; k++)
		;
	if (k < 5) {
		for (j = 4; j > k; j--) {
			s->top[j] = s->top[j - 1];
			s->top_at[j] = s->top_at[j - 1];
		}
		s->top[k] = v;
		s->top_at[k] = s->n - 1;
	}
}

/* Print @s's figures; sorts its latencies. */
static void series_print(struct series *s, const char *what, uint32_t leaf)
{
	uint32_t med = quantile(s->lat, s->n, 0.5), k;

	printf("  %-44s %10u %10u %10u\n", what, med,
	       quantile(s->lat, s->n, 0.999), s->max);
	printf("  %-44s %10.0f  for reference\n", "  mean",
	       (double)s->sum / s->n);
	printf("  %-44s %10.2f  <= %.0f\n", "  slowest / median",
	       (double)s->max / med, GOAL);
	printf("    above 1 ms: %u of %u; the five slowest (ns, number):",
	       s->slow, s->n);
	for (k = 0; k < 5; k++)
		printf(" %u at %u%s", s->top[k], s->top_at[k],
		       leaf && !(s->top_at[k] % leaf) ? " (grew)" : "");
	printf("\n");
}

static struct objheap *bench_heap(uint64_t limit)
{
	struct objheap *heap;
	int ret;

	ret = objheap_open(&heap);
	if (!ret) {
		ret = objheap_set_limit(heap, limit);
		if (ret)
			objheap_close(heap);
	}
	if (ret) {
		printf("table_bench: FAIL: a heap with a limit of %llu bytes: %s\n",
		       (unsigned long long)limit, strerror(-ret));
		return NULL;
	}
	objheap_gc_disable(heap);
	return heap;
}

/* @n null ioctls, timed one by one. */
static int bench_null(struct series *s, uint32_t n)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_NOP,
	};
	struct objheap *heap;
	uint64_t t0, t;
	uint32_t i;

	if (objheap_open(&heap))
		return 1;
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (ioctl(objheap_fd(heap), OBJHEAP_TEST, &cmd)) {
			printf("table_bench: FAIL: null ioctl: %s\n",
			       strerror(errno));
			objheap_close(heap);
			return 1;
		}
		t = now_ns() - t0;
		series_add(s, t);
	}
	objheap_close(heap);
	return 0;
}

/* @n single INTERNs of distinct payloads on a new heap. */
static int bench_intern(struct series *s, uint32_t n, uint64_t limit)
{
	struct objheap *heap = bench_heap(limit);
	uint64_t key, h, t0, t;
	uint32_t i;
	int ret = 0;

	if (!heap)
		return 1;
	for (i = 0; i < n; i++) {
		key = i;
		t0 = now_ns();
		ret = objheap_intern(heap, 1, 0, &key, sizeof(key), &h);
		t = now_ns() - t0;
		if (ret) {
			printf("table_bench: FAIL: INTERN number %u: %s\n", i,
			       strerror(-ret));
			break;
		}
		series_add(s, t);
	}
	objheap_close(heap);
	return !!ret;
}

/* @n single WEAKREF_NEWs, each to a target of its own, on a new heap. */
static int bench_weakref(struct series *s, uint32_t n, uint64_t limit)
{
	struct objheap *heap = bench_heap(limit);
	uint64_t *targets = malloc((size_t)n * sizeof(*targets)), w, t0, t;
	uint32_t i;
	int ret = 0;

	if (!heap || !targets) {
		printf("table_bench: FAIL: no heap or no memory for %u targets\n", n);
		ret = 1;
		goto out;
	}
	for (i = 0; i < n && !ret; i++)
		ret = objheap_new(heap, 1, 0, 0, NULL, 0, NULL, &targets[i]);
	for (i = 0; i < n && !ret; i++) {
		t0 = now_ns();
		ret = objheap_weakref_new(heap, targets[i], i, 0, &w);
		t = now_ns() - t0;
		if (!ret)
			series_add(s, t);
	}
	if (ret)
		printf("table_bench: FAIL: %u targets and weak references: %s\n",
		       n, strerror(-ret));
out:
	if (heap)
		objheap_close(heap);
	free(targets);
	return !!ret;
}

int main(int argc, char **argv)
{
	unsigned long long user_limit = 0, mem_kib = 0;
	uint32_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : N_DEFAULT;
	uint32_t *grow, ngrow = 0, i, gmed, gp999, gmax = 0, first, last;
	uint32_t tenth, gslow = 0, med;
	struct series all = { 0 }, intern = { 0 }, weak = { 0 }, null = { 0 };
	struct objheap *heap;
	uint64_t h, t0, t, limit;
	char line[256];
	FILE *f;
	int ret, status = 0;

	/* Room: half of the VM's memory at most. */
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &mem_kib) == 1)
			break;
	if (f)
		fclose(f);
	if (mem_kib && (unsigned long long)n * PER_OBJECT > mem_kib * 512) {
		n = mem_kib * 512 / PER_OBJECT / LEAF * LEAF;
		printf("table_bench: N lowered to %u: the VM has %llu MiB\n", n,
		       mem_kib / 1024);
	}
	all.lat = malloc((size_t)n * sizeof(*all.lat));
	intern.lat = malloc((size_t)(n / 10 + 1) * sizeof(*intern.lat));
	weak.lat = malloc((size_t)(n / 10 + 1) * sizeof(*weak.lat));
	null.lat = malloc((size_t)n * sizeof(*null.lat));
	grow = malloc(((size_t)n / LEAF + 1) * sizeof(*grow));
	if (!all.lat || !intern.lat || !weak.lat || !null.lat || !grow) {
		printf("table_bench: FAIL: no memory for %u latencies\n", n);
		return 1;
	}
	if (read_u64(USER_LIMIT, &user_limit) ||
	    write_u64(USER_LIMIT, 2 * LIMIT_MAX)) {
		printf("table_bench: FAIL: cannot raise %s (root needed)\n",
		       USER_LIMIT);
		return 1;
	}
	limit = (uint64_t)n * LIMIT_PER_OBJECT;
	if (limit > LIMIT_MAX)
		limit = LIMIT_MAX;
	heap = bench_heap(limit);
	if (!heap) {
		status = 1;
		goto out;
	}

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		ret = objheap_new(heap, 1, 0, 0, NULL, 0, NULL, &h);
		t = now_ns() - t0;
		if (ret) {
			printf("table_bench: FAIL: NEW number %u: %s\n", i,
			       strerror(-ret));
			status = 1;
			break;
		}
		series_add(&all, t);
		if (!(i % LEAF)) {
			grow[ngrow++] = all.lat[i];
			if (all.lat[i] > gmax)
				gmax = all.lat[i];
			gslow += all.lat[i] > SLOW_NS;
		}
	}
	objheap_close(heap);
	if (!status) {
		/* Before grow[] is sorted: its first and last tenths. */
		tenth = ngrow / 10 ? ngrow / 10 : 1;
		first = quantile(grow, tenth, 0.5);
		last = quantile(grow + ngrow - tenth, tenth, 0.5);
		gmed = quantile(grow, ngrow, 0.5);
		gp999 = quantile(grow, ngrow, 0.999);
		printf("table_bench: %u single NEWs (no slots, no payload), each kept by\n"
		       "its own handle: the table of handles grows to %u entries, a page\n"
		       "of %u entries at a time\n", n, n, LEAF);
		printf("  %-44s %10s %10s %10s\n", "ns per command", "median",
		       "99.9th", "max");
		series_print(&all, "NEW, all", LEAF);
		med = quantile(all.lat, all.n, 0.5);
		printf("  %-44s %10u %10u %10u\n",
		       "NEW, those that grew the table (every 256th)", gmed,
		       gp999, gmax);
		printf("  %-44s %10.2f  1.0\n",
		       "  median: last tenth / first", (double)last / first);
		printf("  %-44s %10.2f  for reference\n",
		       "  median / median NEW", (double)gmed / med);
		printf("    above 1 ms: %u of the %u that grew the table\n",
		       gslow, ngrow);
	}

	if (!status)
		status = bench_intern(&intern, n / 10, limit);
	if (!status)
		status = bench_weakref(&weak, n / 10, limit);
	if (!status) {
		printf("then, on a new heap each, %u single INTERNs of distinct payloads\n"
		       "and %u single WEAKREF_NEWs to as many targets:\n",
		       n / 10, n / 10);
		series_print(&intern, "INTERN", 0);
		series_print(&weak, "WEAKREF_NEW", 0);
	}
	if (!status)
		status = bench_null(&null, n);
	if (!status) {
		printf("and %u null ioctls, which do no work, for the emulator's own delays:\n",
		       n);
		series_print(&null, "null ioctl", 0);
	}
	printf("\n");
out:
	if (write_u64(USER_LIMIT, user_limit))
		printf("table_bench: could not put %s back to %llu\n",
		       USER_LIMIT, user_limit);
	free(all.lat);
	free(intern.lat);
	free(weak.lat);
	free(null.lat);
	free(grow);
	return status;
}
