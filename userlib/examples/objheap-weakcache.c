// SPDX-License-Identifier: MIT
/*
 * objheap-weakcache: a weak-value cache, Python's WeakValueDictionary, on
 * objheap, driven by an epoll loop.
 *
 * The cache maps names to objects of the heap without keeping them alive:
 * each entry holds a weak reference whose cookie is the entry itself.
 * When a value dies, by its last release or because the collector frees
 * the cycle it was part of, the kernel queues an event on the heap's
 * file; the loop sees the file readable, objheap_dispatch() calls the
 * death callback, and the callback evicts the entry.  Collection events
 * are printed as gc.callbacks would see them.
 *
 * Exits 0 when every value dropped was evicted, exactly once, and the
 * value kept is still cached.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <libobjheap.h>

enum { TYPE_DOC = 1 };

struct entry {
	const char *name;
	uint64_t wr;		/* the weak reference, 0 once evicted */
	int evictions;
};

static struct entry cache[] = {
	{ .name = "alpha" }, { .name = "beta" }, { .name = "gamma" },
	{ .name = "delta" }, { .name = "epsilon" },
};
#define NENTRIES (sizeof(cache) / sizeof(cache[0]))

static unsigned int live_entries;

#define CHECK(call)							\
	do {								\
		int __ret = (call);					\
		if (__ret < 0) {					\
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,	\
				__LINE__, #call, strerror(-__ret));	\
			return 1;					\
		}							\
	} while (0)

static int cache_put(struct objheap *heap, struct entry *e, uint64_t value)
{
	return objheap_weakref_new(heap, value, (uintptr_t)e,
				   OBJHEAP_WEAKREF_CALLBACK, &e->wr);
}

/* The cached value with a new reference, or 0 when it is gone. */
static uint64_t cache_get(struct objheap *heap, const char *name)
{
	uint64_t value = 0;
	unsigned int i;

	for (i = 0; i < NENTRIES; i++)
		if (cache[i].wr && !strcmp(cache[i].name, name))
			objheap_weakref_get(heap, cache[i].wr, &value);
	return value;
}

static void on_death(struct objheap *heap, const struct objheap_event *ev,
		     void *arg)
{
	struct entry *e = (struct entry *)(uintptr_t)ev->cookie;

	(void)arg;
	printf("evict %-8s (%s, weakref %#" PRIx64 ")\n", e->name,
	       ev->reason == OBJHEAP_REASON_GC ? "collected" : "released",
	       (uint64_t)ev->handle);
	objheap_release(heap, e->wr);
	e->wr = 0;
	e->evictions++;
	live_entries--;
}

static void on_gc(struct objheap *heap, const struct objheap_event *ev,
		  void *arg)
{
	(void)heap;
	(void)arg;
	if (ev->type == OBJHEAP_EVENT_GC_START)
		printf("gc: generation %u starts\n", ev->generation);
	else
		printf("gc: generation %u: %" PRIu64 " collected\n",
		       ev->generation, (uint64_t)ev->collected);
}

static void on_lost(struct objheap *heap, uint64_t lost, void *arg)
{
	(void)heap;
	(void)arg;
	fprintf(stderr, "%" PRIu64 " events lost\n", lost);
}

/* Wait for events and dispatch them until @want entries are left. */
static int run_loop(struct objheap *heap, int ep, unsigned int want)
{
	struct epoll_event ee;
	int n;

	while (live_entries > want) {
		n = epoll_wait(ep, &ee, 1, 2000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "no event: %u entries, %u wanted\n",
				live_entries, want);
			return -ETIMEDOUT;
		}
		n = objheap_dispatch(heap, 0);
		if (n < 0)
			return n;
	}
	return 0;
}

int main(void)
{
	struct epoll_event ee = { .events = EPOLLIN };
	uint64_t values[NENTRIES], kept;
	struct objheap *heap;
	unsigned int i;
	int ep;

	CHECK(objheap_open(&heap));
	CHECK(objheap_on_death(heap, on_death, NULL));
	CHECK(objheap_on_gc(heap, on_gc, NULL));
	CHECK(objheap_on_lost(heap, on_lost, NULL));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, objheap_fd(heap), &ee)) {
		perror("epoll");
		return 1;
	}

	for (i = 0; i < NENTRIES; i++) {
		CHECK(objheap_new(heap, TYPE_DOC, 0, 1, cache[i].name,
				  strlen(cache[i].name), NULL, &values[i]));
		CHECK(cache_put(heap, &cache[i], values[i]));
		live_entries++;
	}
	/* gamma and delta refer to each other: a cycle. */
	CHECK(objheap_set_slot(heap, values[2], 0, values[3]));
	CHECK(objheap_set_slot(heap, values[3], 0, values[2]));

	/* Drop alpha and beta: their last reference goes at once. */
	CHECK(objheap_release(heap, values[0]));
	CHECK(objheap_release(heap, values[1]));
	CHECK(run_loop(heap, ep, NENTRIES - 2));

	/* Drop the cycle: only the collector can free it. */
	CHECK(objheap_release(heap, values[2]));
	CHECK(objheap_release(heap, values[3]));
	kept = cache_get(heap, "gamma");
	printf("gamma is %s before the collection\n", kept ? "cached" : "gone");
	if (kept)
		CHECK(objheap_release(heap, kept));
	CHECK(objheap_gc_collect(heap, 2, NULL));
	CHECK(run_loop(heap, ep, NENTRIES - 4));

	kept = cache_get(heap, "epsilon");
	printf("epsilon is %s\n", kept ? "still cached" : "gone");
	for (i = 0; i < NENTRIES - 1; i++)
		if (cache[i].evictions != 1)
			return 1;
	if (!kept || kept != values[4] || cache[4].evictions)
		return 1;
	CHECK(objheap_release(heap, kept));
	CHECK(objheap_release(heap, values[4]));
	CHECK(run_loop(heap, ep, 0));
	close(ep);
	objheap_close(heap);
	printf("weakcache: ok\n");
	return 0;
}
