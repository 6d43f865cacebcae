// SPDX-License-Identifier: GPL-2.0
/*
 * python_bench: what the Python binding (python/) adds to the C library,
 * in the same VM boot.  A Python-level h.new() + del (one NEW, one
 * RELEASE through the binding) against objheap_new() + objheap_release()
 * from C, with CPython's own cost of calling a C function that does
 * nothing (objheap._objheap._nop, same arguments) set apart.
 *
 * Goal: Python <= 1.5 x C + CPython's call, that is
 * (Python - call) / C <= 1.5: the binding makes no hidden round trips.
 * Also h.new_many() + del, per object, against the same C pair.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libobjheap.h>

#define N_OPS 100000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "python_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static double c_new_release(struct objheap *heap, int n)
{
	uint64_t t0 = now_ns(), h;
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = objheap_new(heap, 1, 0, 2, NULL, 0, NULL, &h);
		if (ret)
			die("new", ret);
		ret = objheap_release(heap, h);
		if (ret)
			die("release", ret);
	}
	return (double)(now_ns() - t0) / n;
}

int main(void)
{
	double c, best = 0, py = -1, call = -1, batch = -1;
	struct objheap *heap;
	char cmd[256];
	FILE *p;
	int ret, i;

	ret = objheap_open(&heap);
	if (ret)
		die("open", ret);
	objheap_gc_disable(heap);
	c_new_release(heap, N_OPS);	/* warm up */
	for (i = 0; i < 3; i++) {
		c = c_new_release(heap, N_OPS);
		if (!i || c < best)
			best = c;
	}
	objheap_close(heap);

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -S "
		 "/opt/objheap/bin/bench/python_objects.py %d", N_OPS);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%lf %lf %lf", &py, &call, &batch) != 3)
		py = call = batch = -1;
	if (p)
		pclose(p);

	printf("the Python binding against the C library, %d operations, one VM boot\n",
	       N_OPS);
	printf("  %-40s %10s\n", "operation", "ns/op");
	printf("  %-40s %10.1f\n", "C: objheap_new() + objheap_release()", best);
	printf("  %-40s %10.1f\n", "Python: call of a no-op C function", call);
	printf("  %-40s %10.1f\n", "Python: h.new() + del", py);
	printf("  %-40s %10.1f\n", "Python: h.new_many() + del, per object", batch);
	if (py < 0) {
		printf("  (the Python side did not run)\n");
		return 1;
	}
	printf("  binding overhead: (Python - call) / C = %.2f (goal <= 1.50)\n",
	       (py - call) / best);
	printf("  new_many per object / C pair = %.2f\n\n", batch / best);
	return 0;
}
