// SPDX-License-Identifier: GPL-2.0
/*
 * Giving memory back under pressure: objheap's shrinker.
 *
 * A heap holds two kinds of memory that nobody uses: the entirely free
 * arena its allocator keeps against thrashing, and the garbage cycles
 * its collector has not found yet.  When the system, or the memory
 * cgroup a heap is charged to, runs short, reclaim asks the shrinkers;
 * objheap's answers with those two.
 *
 * Every heap has a struct oh_shrink_node on a memory-cgroup-aware
 * list_lru from its open to its destruction.  The node is allocated in
 * the opener's context with __GFP_ACCOUNT, so the list_lru files it under
 * the opener's memory cgroup, the one the heap's memory is charged to,
 * and a reclaim of that cgroup (memory.high, memory.max) reaches the
 * heap.
 *
 * count_objects() adds up, without taking any heap's lock, what each heap
 * of the cgroup could give: its kept arenas' pages, and, when a reference
 * was dropped since its last full collection (struct oh_gc, @dropped),
 * its collector may run by itself, and its last collection for the
 * shrinker ended long enough ago (@pressure_after), the pages its objects
 * use (an upper bound of its garbage).  Until objheap collects in bounded
 * increments, the worker runs a full collection, with the heap's lock
 * held throughout, as gc.collect() does; the spacing bounds their cost to
 * a tenth of a CPU per heap however long the pressure lasts.
 * scan_objects() takes the heaps with something to give off the list,
 * each with a reference on the heap, and hands each to its work item:
 * reclaim runs in the context of whoever allocates, which may hold locks
 * a heap's lock nests in, so the heap's lock is taken and the collection
 * run by a worker.  The worker collects, gives back the kept arenas, puts
 * the heap back on the list and drops the reference.  So scan_objects()
 * frees nothing itself and reports 0 freed; the kernel then asks again
 * only while the counts stay up, and a heap goes off the count once its
 * full collection ran and it kept no arena.
 *
 * What a heap gave back is in its OBJHEAP_GC_GET_STATS
 * (@out_pressure_collections, @out_pressure_freed) and in the
 * objheap_shrink tracepoint.
 *
 * Lifetime: a heap is freed once its @users count falls to 0
 * (objheap_destroy()), and its first step takes the node off the list
 * under the list's lock.  scan_objects() takes a node off the list only
 * with a reference on the heap (refcount_inc_not_zero()), under the same
 * lock, and that reference goes to the work item: a queued work item
 * always holds one, so the worker, in process context, drops the last
 * one when the heap's attachments are gone meanwhile, never reclaim.
 *
 * Lock order:
 *	objheap->lock (the worker)
 *	  the list_lru's lock (putting the node back)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/list_lru.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "objheap.h"
#include "objheap_trace.h"
#include "shrink.h"

/**
 * struct oh_shrink_node - A heap's entry on the shrinker's list.
 * @lru: On oh_shrink_lru, or on a scan's private list, or on none while
 *       the worker has it.
 * @heap: The heap.
 */
struct oh_shrink_node {
	struct list_head lru;
	struct objheap *heap;
};

static struct list_lru oh_shrink_lru;
static struct kmem_cache *oh_shrink_cache;
static struct workqueue_struct *oh_shrink_wq;
/* Set once the list is ready for the shrinker, which may run before. */
static bool oh_shrink_ready;

/*
 * 6.7 gave shrinkers their own allocation (shrinker_alloc()); before, the
 * caller owns the structure and registers it.  A list_lru is bound to its
 * shrinker's id, which registration assigns on 6.1: there the shrinker
 * runs before the list exists, and counts nothing until it does.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
static struct shrinker oh_shrinker_struct;
static struct shrinker *oh_shrinker = &oh_shrinker_struct;
#else
static struct shrinker *oh_shrinker;
#endif

/* 6.8 named the form of list_lru_add() that finds the memory cgroup. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define list_lru_add_obj list_lru_add
#define list_lru_del_obj list_lru_del
#endif

/*
 * 6.13 stopped passing the list's lock to the walk's callback, which
 * objheap never drops.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define OH_LRU_CB_ARGS	struct list_head *item, struct list_lru_one *list, \
			spinlock_t *lock, void *arg
#else
#define OH_LRU_CB_ARGS	struct list_head *item, struct list_lru_one *list, \
			void *arg
#endif

/*
 * Whether the shrinker may have @heap collected now: it may hold garbage,
 * its collector may run by itself, and the last such collection was long
 * enough ago (struct oh_gc, @pressure_after).  Read without the heap's
 * lock by the count, under it by the worker.
 */
static bool oh_shrink_may_collect(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;

	return READ_ONCE(gc->dropped) && READ_ONCE(gc->enabled) &&
	       READ_ONCE(gc->gens[0].threshold) &&
	       ktime_get_ns() >= READ_ONCE(gc->pressure_after);
}

/*
 * What @heap could give back, in pages; read without its lock, so an
 * estimate.  Its garbage is bounded by what its objects use.
 */
static unsigned long oh_shrink_estimate(struct objheap *heap)
{
	unsigned long pages = oh_alloc_kept_pages(&heap->alloc);

	if (oh_shrink_may_collect(heap))
		pages += READ_ONCE(heap->alloc.used) >> PAGE_SHIFT;
	return pages;
}

static enum lru_status oh_shrink_count_one(OH_LRU_CB_ARGS)
{
	struct oh_shrink_node *node = list_entry(item, typeof(*node), lru);
	unsigned long *pages = arg;

	*pages += oh_shrink_estimate(node->heap);
	return LRU_SKIP;
}

static unsigned long oh_shrink_count(struct shrinker *shrinker,
				     struct shrink_control *sc)
{
	unsigned long pages = 0, nr = ULONG_MAX;

	/* Pairs with the release in oh_shrink_setup(): the list is set up. */
	if (!smp_load_acquire(&oh_shrink_ready))
		return 0;
	list_lru_walk_one(&oh_shrink_lru, sc->nid, sc->memcg,
			  oh_shrink_count_one, &pages, &nr);
	return pages ?: SHRINK_EMPTY;
}

static enum lru_status oh_shrink_isolate(OH_LRU_CB_ARGS)
{
	struct oh_shrink_node *node = list_entry(item, typeof(*node), lru);
	struct list_head *taken = arg;

	if (!oh_shrink_estimate(node->heap))
		return LRU_ROTATE;
	/* 0: the heap is on its way to objheap_destroy(). */
	if (!refcount_inc_not_zero(&node->heap->users))
		return LRU_SKIP;
	list_lru_isolate_move(list, item, taken);
	return LRU_REMOVED;
}

static unsigned long oh_shrink_scan(struct shrinker *shrinker,
				    struct shrink_control *sc)
{
	struct oh_shrink_node *node, *next;
	LIST_HEAD(taken);

	list_lru_shrink_walk(&oh_shrink_lru, sc, oh_shrink_isolate, &taken);
	list_for_each_entry_safe(node, next, &taken, lru) {
		list_del_init(&node->lru);
		/* Queued already: that work holds a reference, so not ours. */
		if (!queue_work(oh_shrink_wq, &node->heap->shrink_work))
			refcount_dec(&node->heap->users);
	}
	/* What the workers free is not known yet. */
	return 0;
}

/*
 * The worker: collect, give back the kept arenas, and put the heap back
 * on the list, with the reference the scan took.
 */
static void oh_shrink_work(struct work_struct *work)
{
	struct objheap *heap = container_of(work, struct objheap, shrink_work);
	u64 held, freed, collected = 0;
	bool collect;

	objheap_lock(heap, false);
	/* Without attachments, the heap is about to go. */
	if (heap->nr_attached) {
		held = heap->alloc.held;
		collect = oh_shrink_may_collect(heap) && !heap->gc.collecting;
		if (collect)
			collected = oh_gc_collect_for_pressure(heap);
		oh_alloc_shrink(&heap->alloc);
		freed = held - min(held, heap->alloc.held);
		heap->gc.pressure_freed += freed;
		trace_objheap_shrink(heap->id, freed, collect, collected);
	}
	list_lru_add_obj(&oh_shrink_lru, &heap->shrink->lru);
	mutex_unlock(&heap->lock);
	if (refcount_dec_and_test(&heap->users))
		objheap_destroy(heap);
}

/**
 * oh_shrink_heap_init() - Give a new heap what the shrinker needs.
 * @heap: The heap, being opened by the current task.
 *
 * Context: Process context, the opener's.
 * Return: 0, or -ENOMEM.
 */
int oh_shrink_heap_init(struct objheap *heap)
{
	struct oh_shrink_node *node;

	/* Filed under the opener's memory cgroup (__GFP_ACCOUNT). */
	node = kmem_cache_alloc_lru(oh_shrink_cache, &oh_shrink_lru,
				    GFP_KERNEL_ACCOUNT);
	if (!node)
		return -ENOMEM;
	INIT_LIST_HEAD(&node->lru);
	node->heap = heap;
	heap->shrink = node;
	INIT_WORK(&heap->shrink_work, oh_shrink_work);
	return 0;
}

/**
 * oh_shrink_heap_add() - Put a heap that is ready on the shrinker's list.
 * @heap: The heap.
 */
void oh_shrink_heap_add(struct objheap *heap)
{
	list_lru_add_obj(&oh_shrink_lru, &heap->shrink->lru);
}

/**
 * oh_shrink_heap_destroy() - Take a heap off the shrinker's list for good.
 * @heap: The heap, whose @users fell to 0: no work item is queued.
 *
 * Context: Process context.
 */
void oh_shrink_heap_destroy(struct objheap *heap)
{
	if (!heap->shrink)
		return;
	list_lru_del_obj(&oh_shrink_lru, &heap->shrink->lru);
	kmem_cache_free(oh_shrink_cache, heap->shrink);
	heap->shrink = NULL;
}

/**
 * oh_shrink_setup() - Register the shrinker, at module load.
 * Return: 0, or -ENOMEM.
 */
int oh_shrink_setup(void)
{
	unsigned int flags = SHRINKER_MEMCG_AWARE | SHRINKER_NUMA_AWARE;
	int ret = -ENOMEM;

	oh_shrink_cache = KMEM_CACHE(oh_shrink_node, SLAB_ACCOUNT);
	if (!oh_shrink_cache)
		return -ENOMEM;
	/* Reclaim may wait for it: it must make progress then. */
	oh_shrink_wq = alloc_workqueue("objheap_shrink",
				       WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!oh_shrink_wq)
		goto err_cache;

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
	oh_shrinker->count_objects = oh_shrink_count;
	oh_shrinker->scan_objects = oh_shrink_scan;
	oh_shrinker->seeks = DEFAULT_SEEKS;
	oh_shrinker->flags = flags;
	ret = register_shrinker(oh_shrinker, "objheap");
	if (ret)
		goto err_wq;
	ret = list_lru_init_memcg(&oh_shrink_lru, oh_shrinker);
	if (ret) {
		unregister_shrinker(oh_shrinker);
		goto err_wq;
	}
#else
	oh_shrinker = shrinker_alloc(flags, "objheap");
	if (!oh_shrinker)
		goto err_wq;
	ret = list_lru_init_memcg(&oh_shrink_lru, oh_shrinker);
	if (ret) {
		shrinker_free(oh_shrinker);
		goto err_wq;
	}
	oh_shrinker->count_objects = oh_shrink_count;
	oh_shrinker->scan_objects = oh_shrink_scan;
	oh_shrinker->seeks = DEFAULT_SEEKS;
	shrinker_register(oh_shrinker);
#endif
	/* The list is initialised before oh_shrink_count() may read it. */
	smp_store_release(&oh_shrink_ready, true);
	return 0;

err_wq:
	destroy_workqueue(oh_shrink_wq);
err_cache:
	kmem_cache_destroy(oh_shrink_cache);
	return ret;
}

/**
 * oh_shrink_cleanup() - Unregister the shrinker, at module unload.
 *
 * Every heap is gone, and with it every node: a worker may still be
 * finishing, which destroying the workqueue waits for.
 */
void oh_shrink_cleanup(void)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
	unregister_shrinker(oh_shrinker);
#else
	shrinker_free(oh_shrinker);
#endif
	destroy_workqueue(oh_shrink_wq);
	list_lru_destroy(&oh_shrink_lru);
	kmem_cache_destroy(oh_shrink_cache);
}
