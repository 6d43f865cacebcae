// SPDX-License-Identifier: GPL-2.0
/*
 * table_bench: whether a heap's commands slow down as its table of
 * handles grows, measured in one VM boot.
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
 * The heap needs about 65 bytes per object, and a table that doubles by
 * copying needs both copies at once; the bench raises the heap's limit to
 * 100 bytes per object (1 GiB at most) and the module's per-user bound
 * (it runs as root in the VM), and puts the bound back at the end.  N shrinks to what the VM's memory
 * allows, and the output says so.
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

int main(int argc, char **argv)
{
	unsigned long long user_limit = 0, mem_kib = 0;
	uint32_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : N_DEFAULT;
	uint32_t *lat, *grow, ngrow = 0, i;
	uint32_t med, p999, max = 0, gmed, gp999, gmax = 0, first, last;
	uint32_t top[5] = { 0 }, top_at[5] = { 0 }, k, j, tenth;
	uint32_t slow = 0, gslow = 0;	/* NEWs above SLOW_NS */
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
	lat = malloc((size_t)n * sizeof(*lat));
	grow = malloc(((size_t)n / LEAF + 1) * sizeof(*grow));
	if (!lat || !grow) {
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
	ret = objheap_open(&heap);
	if (!ret)
		ret = objheap_set_limit(heap, limit);
	if (ret) {
		printf("table_bench: FAIL: a heap with a limit of %llu bytes: %s\n",
		       (unsigned long long)limit, strerror(-ret));
		status = 1;
		goto out;
	}
	objheap_gc_disable(heap);

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
		lat[i] = t > UINT32_MAX ? UINT32_MAX : t;
		if (lat[i] > max)
			max = lat[i];
		if (lat[i] > SLOW_NS) {
			slow++;
			gslow += !(i % LEAF);
		}
		/* The five slowest, slowest first. */
		for (k = 0; k < 5 && lat[i] <= top[k]; k++)
			;
		if (k < 5) {
			for (j = 4; j > k; j--) {
				top[j] = top[j - 1];
				top_at[j] = top_at[j - 1];
			}
			top[k] = lat[i];
			top_at[k] = i;
		}
		if (!(i % LEAF)) {
			grow[ngrow++] = lat[i];
			if (lat[i] > gmax)
				gmax = lat[i];
		}
	}
	if (!status) {
		med = quantile(lat, n, 0.5);
		p999 = quantile(lat, n, 0.999);
		/* Before grow[] is sorted: its first and last tenths. */
		tenth = ngrow / 10 ? ngrow / 10 : 1;
		first = quantile(grow, tenth, 0.5);
		last = quantile(grow + ngrow - tenth, tenth, 0.5);
		gmed = quantile(grow, ngrow, 0.5);
		gp999 = quantile(grow, ngrow, 0.999);
		printf("table_bench: %u single NEWs (no slots, no payload), each kept by\n"
		       "its own handle: the table of handles grows to %u entries, a page\n"
		       "of %u entries at a time\n", n, n, LEAF);
		printf("  %-44s %10s %10s %10s\n", "ns per NEW", "median",
		       "99.9th", "max");
		printf("  %-44s %10u %10u %10u\n", "all", med, p999, max);
		printf("  %-44s %10u %10u %10u\n",
		       "those that grew the table (every 256th)", gmed, gp999,
		       gmax);
		printf("  %-44s %10s  %s\n", "ratio", "", "goal");
		printf("  %-44s %10.2f  1.0\n",
		       "growing NEW, median: last tenth / first", (double)last / first);
		printf("  %-44s %10.2f  for reference\n",
		       "median growing NEW / median NEW", (double)gmed / med);
		printf("  %-44s %10.2f  <= %.0f\n",
		       "slowest growing NEW / median NEW", (double)gmax / med,
		       GOAL);
		printf("  NEWs above 1 ms: %u of %u, %u of the %u that grew the table\n",
		       slow, n, gslow, ngrow);
		printf("  the five slowest NEWs (ns, NEW number):");
		for (k = 0; k < 5; k++)
			printf(" %u at %u%s", top[k], top_at[k],
			       top_at[k] % LEAF ? "" : " (grew)");
		printf("\n");
	}
	objheap_close(heap);
	printf("\n");
out:
	if (write_u64(USER_LIMIT, user_limit))
		printf("table_bench: could not put %s back to %llu\n",
		       USER_LIMIT, user_limit);
	free(lat);
	free(grow);
	return status;
}
