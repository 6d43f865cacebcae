// SPDX-License-Identifier: GPL-2.0
/*
 * The cycle collector.
 *
 * Reference counting frees an object when nothing refers to it, but a
 * group of objects that refer to each other keeps itself alive after the
 * last outside reference goes.  This is CPython's collector (Modules/
 * gcmodule.c), run over the heap's slots; net/unix/garbage.c is the
 * kernel's own collector of the same kind, for file descriptors in flight.
 *
 * Which objects: every object that has slots and is not immortal is
 * tracked, on the list of its generation, linked through its gc_link.
 * Objects without slots cannot be part of a cycle.  Immortal objects are
 * never freed, so what they refer to is reachable anyway.
 *
 * A collection of generation g examines generations 0 to g (the "young"
 * objects; the older generations and untracked objects count as outside):
 *
 *  1. update_refs: each young object's gc_refs is set to its reference
 *     count, which counts every handle and every slot holding it.
 *  2. subtract_refs: for each slot of each young object that holds a young
 *     object, that object's gc_refs drops by one.  What is left is the
 *     references from outside: handles, older objects, immortal objects.
 *  3. move_unreachable: an object with gc_refs > 0 is reachable, and so is
 *     everything it refers to; objects seen with gc_refs == 0 move to an
 *     "unreachable" list, tentatively, and come back if a reachable object
 *     refers to them later in the walk.  One pass over a list that grows
 *     at its tail: linear, and no recursion.
 *  4. The reachable young objects move one generation up, each as the
 *     walk of phase 3 leaves it.
 *  5. handle_weakrefs: the weak references to unreachable objects are
 *     cleared, before anything is freed, and queue their events; those
 *     that are garbage themselves are cleared in silence (kmod/weakref.c).
 *  6. PEP 442: the unreachable objects created with OBJHEAP_OBJ_FINALIZE
 *     and not yet finalized are handed to userspace, each with a new
 *     reference in an OBJHEAP_EVENT_FINALIZE.  If any was, the whole
 *     unreachable set survives this collection, in the generation the
 *     survivors went to: userspace has not run its finalizers yet, and
 *     whatever they keep must find the objects it reaches intact.  The
 *     next collection of that generation frees what userspace dropped;
 *     finalized objects are not handed out again.
 *  7. Otherwise the unreachable ones are freed: each in turn has its slots
 *     emptied, which frees the objects whose last references they were,
 *     itself in the end.  With OBJHEAP_GC_DEBUG_SAVEALL they are kept
 *     instead, each with one more reference, on the garbage list.
 *
 * Nothing is allocated: the lists are intrusive and gc_refs lives in the
 * object, so a collection cannot fail halfway; its events are queued or,
 * failing that, counted as lost.  OH_OBJ_COLLECTING marks
 * the young objects and OH_OBJ_UNREACHABLE the tentatively unreachable
 * ones, as CPython's bits in _gc_prev and _gc_next do.
 *
 * When: as in CPython, generation 0's count is tracked objects created
 * minus those freed; when OBJHEAP_NEW or OBJHEAP_WEAKREF_NEW makes it
 * pass its threshold (700) a collection runs, of the oldest generation
 * whose count passed its threshold (10 collections of the generation
 * below), in the allocating call.  A full collection also needs the objects that reached the
 * oldest generation since the last one to be more than a quarter of those
 * it then held, which keeps the cost of full collections linear overall.
 *
 * The heap's lock is held throughout (every command holds it), so other
 * commands on the heap wait, as CPython's threads wait for the GIL; other
 * heaps do not.  Every phase calls cond_resched() every
 * OH_GC_RESCHED_EVERY objects, so a collection of millions of objects
 * causes neither soft lockups nor RCU stalls; Documentation/gc.rst gives
 * the measured pauses.  Phases 1 to 4 only mark and move survivors, so
 * they also stop when the task is killed, and gc_unmark() puts the heap
 * back as it was; phases 5 to 7 free, and always finish.
 *
 * Context: every function here but oh_gc_init() (at open(), before the
 * heap is visible) runs with the heap's lock held; the entry points
 * assert it with lockdep_assert_held().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "objheap.h"
#include "payload.h"
#include "objheap_trace.h"

/* Every mark of either collector, which no object keeps past its end. */
#define OH_OBJ_GC_MARKS (OH_OBJ_COLLECTING | OH_OBJ_UNREACHABLE | \
			 OH_OBJ_INC_MARKS)

/* Objects handled between two cond_resched() calls. */
#define OH_GC_RESCHED_EVERY 1024

/* CPython's default thresholds. */
static const u32 oh_gc_default_threshold[OH_GC_GENS] = { 700, 10, 10 };

static bool gc_is_young(const struct oh_object *obj)
{
	return obj->flags & OH_OBJ_COLLECTING;
}

static bool gc_is_tentatively_unreachable(const struct oh_object *obj)
{
	return obj->flags & OH_OBJ_UNREACHABLE;
}

static void gc_resched(unsigned long *n)
{
	if (!(++*n % OH_GC_RESCHED_EVERY))
		cond_resched();
}

/*
 * gc_resched() in a loop that may stop: whether the task was killed.
 * Checked as often as the loop reschedules, so a long walk ends soon
 * after a fatal signal.
 */
static bool gc_resched_killed(unsigned long *n)
{
	if (++*n % OH_GC_RESCHED_EVERY)
		return false;
	cond_resched();
	return fatal_signal_pending(current);
}

/*
 * Heads 16 bytes apart, so that each has an id of its own (ids count
 * 16-byte units), in one allocation of OH_GC_HEADS_SIZE bytes: a power
 * of two, which kmalloc() aligns to its size.  It is none of the pools'
 * blocks, so that a heap with no object holds no pool.
 */
static_assert(GC_NR_HEADS * OH_ALIGN <= OH_GC_HEADS_SIZE);
static_assert(GC_HEAD_GEN0 == 0);
static_assert((OH_GC_HEADS_SIZE & (OH_GC_HEADS_SIZE - 1)) == 0);

static struct oh_alloc *gc_alloc(struct oh_gc *gc)
{
	return &container_of(gc, struct objheap, gc)->alloc;
}

/* The node @id names (oh_gc_link_at()). */
static struct oh_link *gc_link_at(struct oh_gc *gc, u32 id)
{
	return oh_gc_link_at(container_of(gc, struct objheap, gc), id);
}

static struct oh_alloc *gc_inc_alloc(struct oh_gc_inc *inc)
{
	return gc_alloc(container_of(inc, struct oh_gc, inc));
}

/* Keep @due with the settings it follows (struct oh_gc). */
static void gc_set_due(struct oh_gc *gc)
{
	gc->due = oh_gc_automatic(gc) ? gc->gens[0].threshold : U32_MAX;
}

/**
 * oh_gc_init() - Set a new heap's collector up.
 * @heap: The heap.
 *
 * The heads of its lists are counted in the heap's fixed part
 * (oh_alloc_init()).
 *
 * Return: 0, or -ENOMEM when the heads of its lists cannot be had.
 */
int oh_gc_init(struct objheap *heap)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	u32 base;
	int i;

	gc->heads = kzalloc(OH_GC_HEADS_SIZE, OH_GFP);
	if (!gc->heads)
		return -ENOMEM;
	if (oh_alloc_large_id(a, gc->heads, &base)) {
		kfree(gc->heads);
		gc->heads = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < GC_NR_HEADS; i++)
		oh_idlist_init(a, base + i);
	for (i = 0; i < OH_GC_GENS; i++) {
		gc->gens[i].objects = base + GC_HEAD_GEN0 + i;
		gc->gens[i].threshold = oh_gc_default_threshold[i];
	}
	gc->permanent = base + GC_HEAD_PERMANENT;
	gc->garbage = base + GC_HEAD_GARBAGE;
	gc->found = base + GC_HEAD_FOUND;
	gc->cleared = base + GC_HEAD_CLEARED;
	gc->inc.todo = base + GC_HEAD_INC_TODO;
	gc->inc.cursor = gc->inc.todo;
	gc->inc.unreachable = base + GC_HEAD_INC_UNREACHABLE;
	gc->inc.cleared = base + GC_HEAD_INC_CLEARED;
	gc->inc.budget = OBJHEAP_GC_BUDGET_DEFAULT;
	gc->enabled = true;
	gc_set_due(gc);
	return 0;
}

/**
 * oh_gc_destroy() - Free what a heap's collector holds of its own.
 * @heap: The heap, being freed.
 */
void oh_gc_destroy(struct objheap *heap)
{
	kfree(heap->gc.heads);
	heap->gc.heads = NULL;
}

/* ---- the objects of each generation -------------------------------- */

/*
 * An object leaves the count of its generation (or of the frozen ones);
 * the saved garbage is in none.  Called with the object on its list still
 * or just taken off it; the list is the caller's business.
 */
static void gc_count_out(struct oh_gc *gc, const struct oh_object *obj)
{
	if (!(obj->flags & OH_OBJ_GARBAGE))
		WRITE_ONCE(gc->tracked[oh_gc_gen(obj)],
			   gc->tracked[oh_gc_gen(obj)] - 1);
}

/* An object joins generation @gen's count, or OH_GC_OUTSIDE's. */
static void gc_count_in(struct oh_gc *gc, struct oh_object *obj,
			unsigned int gen)
{
	obj->flags = (obj->flags & ~OH_OBJ_GEN) | gen << OH_OBJ_GEN_SHIFT;
	if (!(obj->flags & OH_OBJ_GARBAGE))
		WRITE_ONCE(gc->tracked[gen], gc->tracked[gen] + 1);
}

/* An object now counts in generation @gen (or OH_GC_OUTSIDE). */
static void gc_set_gen(struct oh_gc *gc, struct oh_object *obj,
		       unsigned int gen)
{
	if (oh_gc_gen(obj) != gen) {
		gc_count_out(gc, obj);
		gc_count_in(gc, obj, gen);
	}
}

#if IS_ENABLED(CONFIG_OBJHEAP_TEST)
/* Count @head's objects into *@n; each must count in generation @gen. */
static int gc_check_list(struct oh_gc *gc, u32 head, unsigned int gen,
			 u64 *n)
{
	struct oh_alloc *a = gc_alloc(gc);
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	oh_idlist_for_each_obj(a, id, obj, head) {
		if (oh_obj_id(obj) != id ||
		    oh_obj_at(a, obj->gc_link.next)->gc_link.prev != id) {
			pr_err("gc: an object's links are wrong\n");
			return -EUCLEAN;
		}
		if (oh_gc_gen(obj) != gen) {
			pr_err("gc: an object of generation %u on the list of %u\n",
			       oh_gc_gen(obj), gen);
			return -EUCLEAN;
		}
		/* Its death frees its block in its pool's class. */
		if (obj->shape != OH_SHAPE_FAR &&
		    !oh_alloc_check_block(obj, oh_object_bytes(obj))) {
			pr_err("gc: an object's shape is not its pool's\n");
			return -EUCLEAN;
		}
		(*n)++;
		gc_resched(&resched);
	}
	return 0;
}

/*
 * The incremental collection's objects COUNT has not reached yet: the
 * younger ones a full collection took count in their generation still.
 */
static int gc_check_todo(struct oh_gc *gc, u64 *n)
{
	struct oh_alloc *a = gc_alloc(gc);
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	oh_idlist_for_each_obj(a, id, obj, gc->inc.todo) {
		if (oh_gc_gen(obj) >= OH_GC_GENS ||
		    (gc->inc.phase != OBJHEAP_GC_PHASE_COUNT &&
		     oh_gc_gen(obj) != OH_GC_GENS - 1)) {
			pr_err("gc: an object of generation %u in the incremental collection\n",
			       oh_gc_gen(obj));
			return -EUCLEAN;
		}
		n[oh_gc_gen(obj)]++;
		gc_resched(&resched);
	}
	return 0;
}

/**
 * oh_gc_check() - Check the collector's counts of objects against its lists.
 * @heap: The heap.
 *
 * For the test-only interface, with the allocator's checker.
 *
 * Context: The heap's lock is held.
 * Return: 0, or -EUCLEAN (and a line in the kernel log) when a count or an
 * object's generation is wrong.
 */
int oh_gc_check(struct objheap *heap)
{
	u64 n[OH_GC_OUTSIDE + 1] = {}, garbage = 0;
	struct oh_gc *gc = &heap->gc;
	int i, ret;

	lockdep_assert_held(&heap->lock);

	for (i = 0; i < OH_GC_GENS; i++) {
		ret = gc_check_list(gc, gc->gens[i].objects, i, &n[i]);
		if (ret)
			return ret;
	}
	ret = gc_check_list(gc, gc->permanent, OH_GC_OUTSIDE,
			    &n[OH_GC_OUTSIDE]) ?:
	      gc_check_list(gc, gc->garbage, OH_GC_OUTSIDE, &garbage) ?:
	      gc_check_todo(gc, n) ?:
	      gc_check_list(gc, gc->inc.unreachable, OH_GC_GENS - 1,
			    &n[OH_GC_GENS - 1]) ?:
	      gc_check_list(gc, gc->inc.cleared, OH_GC_GENS - 1,
			    &n[OH_GC_GENS - 1]);
	if (ret)
		return ret;
	for (i = 0; i <= OH_GC_OUTSIDE; i++) {
		if (n[i] != gc->tracked[i]) {
			pr_err("gc: %llu objects in generation %d, counted %llu\n",
			       n[i], i, gc->tracked[i]);
			return -EUCLEAN;
		}
	}
	return 0;
}
#endif

/**
 * oh_gc_unlink() - Take a tracked object off the collector's list it is on.
 * @heap: The heap.
 * @obj: The object, which is to be freed or interned.
 *
 * An incremental collection walks its list from a cursor it keeps between
 * increments: the cursor moves on when its object leaves.
 */
static void oh_gc_unlink(struct objheap *heap, struct oh_object *obj)
{
	struct oh_gc_inc *inc = &heap->gc.inc;
	struct oh_link *l = &obj->gc_link;

	if (unlikely(inc->phase != OBJHEAP_GC_PHASE_IDLE) &&
	    inc->cursor == oh_obj_id(obj))
		inc->cursor = l->next;
	/* oh_idlist_del(), with a neighbour that is a head found directly. */
	gc_link_at(&heap->gc, l->prev)->next = l->next;
	gc_link_at(&heap->gc, l->next)->prev = l->prev;
	l->next = 0;
	l->prev = 0;
}

/* oh_gc_count_free(), inline where a collection frees its garbage. */
static __always_inline void gc_count_free(struct objheap *heap,
					  struct oh_object *obj)
{
	lockdep_assert_held(&heap->lock);

	gc_count_out(&heap->gc, obj);
	if (heap->gc.gens[0].count)
		heap->gc.gens[0].count--;
	/* Reference counting freed it before the collection could. */
	if (unlikely(obj->flags & OH_OBJ_INC_UNREACHABLE) &&
	    heap->gc.inc.phase == OBJHEAP_GC_PHASE_WALK)
		heap->gc.inc.found--;
}

/**
 * oh_gc_count_free() - Count the freeing of a tracked object.
 * @heap: The heap.
 * @obj: The object, which has left its list, or is leaving the collector.
 *
 * Generation 0's count is creations minus frees of tracked objects; the
 * object leaves its generation's number of objects.
 */
void oh_gc_count_free(struct objheap *heap, struct oh_object *obj)
{
	gc_count_free(heap, obj);
}

/**
 * __oh_gc_untrack() - oh_gc_untrack(), during an incremental collection.
 * @heap: The heap.
 * @obj: As for oh_gc_untrack().
 *
 * oh_gc_unlink() and oh_gc_count_free() in one call, for what they do
 * about a collection in progress.
 */
void __oh_gc_untrack(struct objheap *heap, struct oh_object *obj)
{
	oh_gc_unlink(heap, obj);
	gc_count_free(heap, obj);
}

static unsigned long gc_list_size(struct oh_gc *gc, u32 head)
{
	struct oh_alloc *a = gc_alloc(gc);
	unsigned long n = 0, resched = 0;
	u32 id;

	for (id = oh_idlist_first(a, head); id != head;
	     id = oh_link_at(a, id)->next) {
		n++;
		gc_resched(&resched);
	}
	return n;
}

/**
 * oh_gc_nr_tracked() - How many objects the collector tracks.
 * @heap: The heap.
 *
 * Return: The objects of every generation, the permanent one and the
 * garbage list.
 */
u32 oh_gc_nr_tracked(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;
	unsigned long n;
	int i;

	lockdep_assert_held(&heap->lock);

	n = gc_list_size(gc, gc->permanent) + gc_list_size(gc, gc->garbage) +
	    gc_list_size(gc, gc->inc.todo) +
	    gc_list_size(gc, gc->inc.unreachable) +
	    gc_list_size(gc, gc->inc.cleared);
	for (i = 0; i < OH_GC_GENS; i++)
		n += gc_list_size(gc, gc->gens[i].objects);
	return n;
}

/* Phase 1: gc_refs starts as the reference count.  0, or -EINTR. */
static int gc_update_refs(const struct oh_alloc *a, u32 young)
{
	struct oh_id_cursor c = OH_ID_CURSOR_INIT;
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	oh_idlist_for_each_obj_near(a, &c, id, obj, young) {
		obj->gc_refs = obj->refcnt;
		/* Mappings are references from outside (kmod/payload.c). */
		if (unlikely(oh_mappable(obj)))
			obj->gc_refs += oh_pages_gc_refs(obj);
		obj->flags |= OH_OBJ_COLLECTING;
		if (gc_resched_killed(&resched))
			return -EINTR;
	}
	return 0;
}

/*
 * Phase 2: take away the references young objects hold to each other.
 * 0, or -EINTR.
 */
static int gc_subtract_refs(const struct oh_alloc *a, u32 young)
{
	struct oh_id_cursor c = OH_ID_CURSOR_INIT;
	unsigned long resched = 0;
	struct oh_object *obj, *target, **slots;
	u32 i, n, id;

	oh_idlist_for_each_obj_near(a, &c, id, obj, young) {
		slots = oh_slots(obj);
		/* Read once: the stores could alias the object's shape. */
		n = oh_nslots(obj);
		for (i = 0; i < n; i++) {
			target = slots[i];
			if (target && gc_is_young(target))
				target->gc_refs--;
		}
		if (gc_resched_killed(&resched))
			return -EINTR;
	}
	return 0;
}

/*
 * Phase 3, for one reachable object: what it refers to is reachable too.
 * A target already moved to @unreachable comes back to the tail of
 * @young, where the walk will reach it; a target not yet seen gets
 * gc_refs 1, so that the walk keeps it when it gets there.  Returns how
 * many came back.
 */
static unsigned long gc_visit_reachable(const struct oh_alloc *a,
					struct oh_object *obj, u32 young)
{
	struct oh_object *target, **slots = oh_slots(obj);
	unsigned long rescued = 0;
	u32 i, n = oh_nslots(obj);

	for (i = 0; i < n; i++) {
		target = slots[i];
		if (!target || !gc_is_young(target))
			continue;
		if (gc_is_tentatively_unreachable(target)) {
			target->flags &= ~OH_OBJ_UNREACHABLE;
			oh_idlist_move_tail(a, oh_obj_id(target),
					    &target->gc_link, young);
			target->gc_refs = 1;
			rescued++;
		} else if (!target->gc_refs) {
			target->gc_refs = 1;
		}
	}
	return rescued;
}

/*
 * Phase 3: split @young into what is reachable from outside (stays) and
 * what is not (moves to @unreachable).  Phase 4 is done in the same walk:
 * an object the walk leaves as reachable is an ordinary object again, of
 * generation @gen; gc_unmark() takes it back if the collection stops.
 * *@found is how many are unreachable, *@survived how many are not;
 * *@flags_seen collects the flags of every object ever moved to
 * @unreachable, so that the weak reference and finalization passes run
 * only when an object may need them.  0, or -EINTR with every object on
 * one of the two lists.
 */
static int gc_move_unreachable(struct oh_gc *gc, unsigned int gen, u32 young,
			       u32 unreachable, u32 *flags_seen,
			       unsigned long *found, unsigned long *survived)
{
	const struct oh_alloc *a = gc_alloc(gc);
	struct oh_link *uhead = oh_link_at(a, unreachable);
	/*
	 * What an object moving aside needs, known from the walk: the node
	 * before @pos, the last one kept (everything before @pos on @young
	 * stays there), and the last node of @unreachable, unless a visit
	 * may have taken it back.  The move costs one id lookup, not four.
	 */
	struct oh_link *before = oh_link_at(a, young), *ulast = NULL;
	u32 pos = before->next, next;
	unsigned long resched = 0, moved = 0, kept = 0, rescued;
	/* Survivors by the generation they leave, counted out at the end. */
	unsigned long from[OH_GC_OUTSIDE + 1] = {};
	struct oh_id_cursor c = OH_ID_CURSOR_INIT;
	struct oh_object *obj;
	unsigned int i;
	int ret = 0;

	while (pos != young) {
		obj = oh_alloc_ptr_near(a, pos, &c);
		if (obj->gc_refs) {
			rescued = gc_visit_reachable(a, obj, young);
			if (rescued) {
				moved -= rescued;
				ulast = NULL;
			}
			/*
			 * No longer young: a slot that refers to it from now
			 * on has nothing to do, as it is reachable already.
			 * Young objects are in a generation, never garbage.
			 */
			from[oh_gc_gen(obj)]++;
			obj->flags = (obj->flags & ~(OH_OBJ_COLLECTING | OH_OBJ_GEN)) |
				     gen << OH_OBJ_GEN_SHIFT;
			kept++;
			before = &obj->gc_link;
			/* Read after the visit: it may have appended to @young. */
			pos = obj->gc_link.next;
		} else {
			next = obj->gc_link.next;
			obj->flags |= OH_OBJ_UNREACHABLE;
			*flags_seen |= obj->flags;
			/* oh_idlist_move_tail(), with the neighbours known. */
			before->next = next;
			oh_link_at(a, next)->prev = obj->gc_link.prev;
			if (!ulast)
				ulast = oh_link_at(a, uhead->prev);
			obj->gc_link.next = unreachable;
			obj->gc_link.prev = uhead->prev;
			ulast->next = pos;
			uhead->prev = pos;
			ulast = &obj->gc_link;
			moved++;
			pos = next;
		}
		if (gc_resched_killed(&resched)) {
			ret = -EINTR;
			break;
		}
	}
	/* What gc_set_gen() would have done for each, at once. */
	for (i = 0; i < ARRAY_SIZE(from); i++)
		WRITE_ONCE(gc->tracked[i], gc->tracked[i] - from[i]);
	WRITE_ONCE(gc->tracked[gen], gc->tracked[gen] + kept);
	*found = moved;
	*survived = kept;
	return ret;
}

/*
 * Undo phases 1 to 4 for a collection that stops: every object back in
 * @young, unmarked.  This walk must finish, whatever signal is pending.
 */
static void gc_unmark(struct oh_gc *gc, unsigned int gen, u32 young,
		      u32 unreachable)
{
	struct oh_alloc *a = gc_alloc(gc);
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	oh_idlist_splice_tail_init(a, unreachable, young);
	oh_idlist_for_each_obj(a, id, obj, young) {
		obj->flags &= ~(OH_OBJ_COLLECTING | OH_OBJ_UNREACHABLE);
		gc_set_gen(gc, obj, gen);
		gc_resched(&resched);
	}
}

/*
 * Phases 1 to 4, which change nothing but the collector's marks, gc_refs
 * and the survivors' generation, and so may stop when the task is
 * killed.  @gen is the generation collected, @target the one survivors
 * go to.  0, or -EINTR after gc_unmark() has put everything back in
 * @young, generation @gen.
 */
static int gc_mark(struct oh_gc *gc, unsigned int gen, unsigned int target,
		   u32 young, u32 unreachable, u32 *flags_seen,
		   unsigned long *found, unsigned long *survived)
{
	struct oh_alloc *a = gc_alloc(gc);
	int ret;

	ret = gc_update_refs(a, young) ?: gc_subtract_refs(a, young) ?:
	      gc_move_unreachable(gc, target, young, unreachable, flags_seen,
				  found, survived);
	if (ret)
		gc_unmark(gc, gen, young, unreachable);
	return ret;
}

/*
 * After phase 4: no mapping may be made of an unreachable
 * mappable object from now on, and none may have been made since phase 1
 * counted its mappings (kmod/payload.c).  Returns false, with every such
 * object mappable again, when one was.
 */
static bool gc_doom_mapped(const struct oh_alloc *a, u32 unreachable)
{
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	oh_idlist_for_each_obj(a, id, obj, unreachable) {
		if (oh_mappable(obj) && !oh_pages_gc_doom(obj))
			goto undo;
		gc_resched(&resched);
	}
	return true;

undo:
	/* Those before @obj were doomed: they are mappable again. */
	for (id = obj->gc_link.prev; id != unreachable;
	     id = obj->gc_link.prev) {
		obj = oh_obj_at(a, id);
		if (oh_mappable(obj))
			oh_pages_gc_keep(obj);
		gc_resched(&resched);
	}
	return false;
}

/*
 * Phase 5 (handle_weakrefs): clear the weak references that are garbage
 * themselves, in silence, and the weak references to the garbage, which
 * queue their events.  Both before anything is freed: a garbage weak
 * reference whose target is not garbage (an object without slots, or of
 * an older generation) would otherwise still be linked when phase 7
 * frees its target, and report a death nothing can observe (CPython's
 * bpo-38006).
 */
static void gc_handle_weakrefs(struct objheap *heap, u32 unreachable)
{
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	/* Only finalizers, never on @unreachable, may be freed meanwhile. */
	oh_idlist_for_each_obj(&heap->alloc, id, obj, unreachable) {
		if (oh_is_weakref(obj))
			oh_weakref_clear(heap, obj);
		if (obj->flags & OH_OBJ_WEAKREFED)
			oh_weak_clear(heap, obj);
		gc_resched(&resched);
	}
}

/* Phase 6: PEP 442.  Returns whether an object was handed out. */
static bool gc_finalize_garbage(struct objheap *heap, u32 unreachable)
{
	unsigned long resched = 0;
	struct oh_object *obj;
	bool handed = false;
	u32 id;

	oh_idlist_for_each_obj(&heap->alloc, id, obj, unreachable) {
		if (oh_finalize_object(heap, obj))
			handed = true;
		gc_resched(&resched);
	}
	return handed;
}

/*
 * Phase 6, when objects were handed out: the set survives, in @old, the
 * list of generation @gen.
 */
static void gc_resurrect(struct oh_gc *gc, unsigned int gen, u32 unreachable,
			 u32 old)
{
	struct oh_alloc *a = gc_alloc(gc);
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	oh_idlist_for_each_obj(a, id, obj, unreachable) {
		obj->flags &= ~OH_OBJ_GC_MARKS;
		gc_set_gen(gc, obj, gen);
		if (oh_mappable(obj))
			oh_pages_gc_keep(obj);
		gc_resched(&resched);
	}
	oh_idlist_splice_tail_init(a, unreachable, old);
}

/* Phase 7, with SAVEALL: keep the garbage, each with a reference. */
static void gc_save_garbage(struct objheap *heap, u32 unreachable)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	while ((id = oh_idlist_first(a, unreachable)) != unreachable) {
		obj = oh_obj_at(a, id);
		obj->flags &= ~OH_OBJ_GC_MARKS;
		if (oh_mappable(obj))
			oh_pages_gc_keep(obj);
		if (oh_ref(heap, obj)) {
			/* Its count is full: it survives, in the oldest. */
			gc_set_gen(gc, obj, OH_GC_GENS - 1);
			oh_idlist_move_tail(a, id, &obj->gc_link,
					    gc->gens[OH_GC_GENS - 1].objects);
			continue;
		}
		gc_count_out(gc, obj);
		obj->flags |= OH_OBJ_GARBAGE;
		gc_count_in(gc, obj, OH_GC_OUTSIDE);
		oh_idlist_move_tail(a, id, &obj->gc_link, gc->garbage);
		gc_resched(&resched);
	}
}

/*
 * Empty the slots of @obj, garbage: a reference to an object with @mark,
 * garbage whose own turn comes, is only counted down; any other is
 * dropped, which frees what only the garbage held.
 */
static void gc_empty_slots(struct objheap *heap, struct oh_object *obj,
			   u32 mark)
{
	struct oh_object *target, **slots = oh_slots(obj);
	u32 i, n = oh_nslots(obj);

	for (i = 0; i < n; i++) {
		target = slots[i];
		if (!target)
			continue;
		slots[i] = NULL;
		if (target->flags & mark)
			target->refcnt--;
		else
			oh_unref(heap, target);
	}
}

/*
 * Phase 7 in increments: free the garbage, objects of @unreachable until
 * @budget is spent (objects plus slots); returns the work done.  @mark is
 * the flag every object still on @unreachable has.  Each object is held
 * while its slots are emptied, which frees what only the garbage held
 * outside the collection, then let go of.  With its slots empty, letting
 * go frees nothing but the object itself, unless an unreachable object
 * not yet emptied still refers to it: then it waits on @cleared until
 * that one is.
 */
static unsigned long gc_delete_some(struct objheap *heap, u32 unreachable,
				    u32 cleared, unsigned long budget, u32 mark)
{
	struct oh_alloc *a = &heap->alloc;
	unsigned long resched = 0, work = 0;
	struct oh_object *obj;
	u32 id;

	while (work < budget &&
	       (id = oh_idlist_first(a, unreachable)) != unreachable) {
		obj = oh_obj_at(a, id);
		obj->flags &= ~OH_OBJ_GC_MARKS;
		oh_idlist_del(a, &obj->gc_link);
		obj->refcnt++;
		/*
		 * Garbage not reached yet is freed in its turn, not here: a
		 * chain of garbage would otherwise go in one piece, however
		 * small @budget.
		 */
		gc_empty_slots(heap, obj, mark);
		work += 1 + oh_nslots(obj);
		if (--obj->refcnt) {
			oh_idlist_add_tail(a, id, &obj->gc_link, cleared);
		} else {
			gc_count_free(heap, obj);
			oh_object_free_counted(heap, obj);
		}
		gc_resched(&resched);
	}
	return work;
}

/* After phase 7: nothing outside referred to the garbage, all must be gone. */
static void gc_garbage_gone(struct objheap *heap, u32 cleared)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_object *obj;
	u32 id;

	if (WARN_ON_ONCE(!oh_idlist_empty(a, cleared))) {
		oh_idlist_for_each_obj(a, id, obj, cleared)
			gc_set_gen(&heap->gc, obj, OH_GC_GENS - 1);
		oh_idlist_splice_tail_init(a, cleared,
					   heap->gc.gens[OH_GC_GENS - 1].objects);
	}
}

/*
 * Phase 7 of a collection that runs to its end: free all of @unreachable,
 * in two walks.  The marking showed that only objects of @unreachable
 * refer to objects of @unreachable, so nothing needs to wait for its
 * count to reach zero.  The first walk empties every slot: a reference
 * to an object outside the set is dropped, which frees whatever only the
 * garbage held; one to an object of the set is only counted down, as
 * that object goes anyway.  The second walk frees each object, whose
 * count is then zero.  No object is freed before every slot that could
 * refer to it has been emptied.  An object still counted at the end was
 * held from outside after all, which the marking rules out: it is kept
 * in the oldest generation, with a warning, as gc_garbage_gone() does.
 */
static void gc_delete_garbage(struct objheap *heap, u32 unreachable)
{
	struct oh_id_cursor c = OH_ID_CURSOR_INIT;
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	struct oh_object *obj;
	unsigned long resched = 0;
	u32 id, next;

	/*
	 * Each id looked up is of an object still on @unreachable, whose
	 * block keeps its region allocated: the cursor can only hold a
	 * region freed by now when no id left names it.
	 */
	oh_idlist_for_each_obj_near(a, &c, id, obj, unreachable) {
		gc_empty_slots(heap, obj, OH_OBJ_UNREACHABLE);
		gc_resched(&resched);
	}

	/* The list is left behind as its objects go. */
	c.region = U32_MAX;
	id = oh_idlist_first(a, unreachable);
	oh_idlist_init(a, unreachable);
	for (; id != unreachable; id = next) {
		obj = oh_alloc_ptr_near(a, id, &c);
		next = obj->gc_link.next;
		obj->gc_link.next = 0;
		obj->gc_link.prev = 0;
		obj->flags &= ~OH_OBJ_GC_MARKS;
		if (WARN_ON_ONCE(obj->refcnt)) {
			gc_set_gen(gc, obj, OH_GC_GENS - 1);
			oh_idlist_add_tail(a, id, &obj->gc_link,
					   gc->gens[OH_GC_GENS - 1].objects);
			continue;
		}
		gc_count_free(heap, obj);
		oh_object_free_counted(heap, obj);
		gc_resched(&resched);
	}
}

/* Queue OBJHEAP_EVENT_GC_START or _GC_STOP, if userspace asked for them. */
static void gc_event(struct objheap *heap, u32 type, u32 generation,
		     u64 collected, u64 elapsed)
{
	struct objheap_event ev;
	struct oh_attach *att;
	unsigned long id;

	xa_for_each(&heap->attachments, id, att) {
		if (!(att->events.mask & OBJHEAP_EVENTS_GC))
			continue;
		ev = (struct objheap_event){
			.type = type,
			.generation = generation,
			.collected = collected,
			.duration_ns = elapsed,
		};
		oh_event_queue(att, &ev);
	}
}

/**
 * oh_gc_collect() - Collect generations 0 to @generation.
 * @heap: The heap.
 * @generation: 0, 1 or 2.
 * @out: NULL, or the command to report the results in.
 *
 * A fatal signal stops the collection while it is still only marking:
 * nothing is freed, the generations' counts and statistics are as before,
 * and the objects of the younger generations it examined stay in
 * generation @generation, where it had gathered them.  Its
 * OBJHEAP_EVENT_GC_STOP then reports 0 collected.  Once it frees, it
 * finishes.
 *
 * Return: 0, or -EINTR when it stopped.
 */
static int oh_gc_collect(struct objheap *heap, u32 generation,
			 struct objheap_gc_collect *out)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	u32 young = gc->gens[generation].objects, old, unreachable = gc->found;
	unsigned long survivors = 0, found = 0, collected = 0;
	u64 start = ktime_get_ns(), elapsed;
	u32 i, target, flags_seen = 0;
	bool resurrected = false;
	int ret;

	lockdep_assert_held(&heap->lock);

	gc->collecting = true;
	trace_objheap_gc_start(heap->id, generation);
	gc_event(heap, OBJHEAP_EVENT_GC_START, generation, 0, 0);
	/* The younger generations' objects count as theirs until phase 4. */
	for (i = 0; i < generation; i++)
		oh_idlist_splice_tail_init(a, gc->gens[i].objects, young);
	target = min_t(u32, generation + 1, OH_GC_GENS - 1);
	old = generation + 1 < OH_GC_GENS ? gc->gens[target].objects : young;

	ret = gc_mark(gc, generation, target, young, unreachable, &flags_seen,
		      &found, &survivors);
	if (!ret && (flags_seen & OBJHEAP_OBJ_MAPPABLE) &&
	    !gc_doom_mapped(a, unreachable)) {
		/*
		 * An unreachable object was mapped meanwhile: give up, with
		 * nothing changed.  The next collection counts the mapping
		 * from the start.
		 */
		gc_unmark(gc, generation, young, unreachable);
		elapsed = ktime_get_ns() - start;
		goto out;
	}
	if (ret) {
		elapsed = ktime_get_ns() - start;
		goto out;
	}

	/* From here on the collection frees: it cannot stop. */
	if (generation + 1 < OH_GC_GENS)
		gc->gens[generation + 1].count++;
	for (i = 0; i <= generation; i++)
		gc->gens[i].count = 0;
	if (young != old) {
		if (generation == OH_GC_GENS - 2)
			gc->long_lived_pending += survivors;
		oh_idlist_splice_tail_init(a, young, old);
	} else {
		gc->long_lived_pending = 0;
		gc->long_lived_total = survivors;
	}

	if (flags_seen & (OH_OBJ_WEAKREFED | OBJHEAP_OBJ_WEAKREF))
		gc_handle_weakrefs(heap, unreachable);
	collected = found;
	if ((flags_seen & OBJHEAP_OBJ_FINALIZE) &&
	    gc_finalize_garbage(heap, unreachable)) {
		/* As CPython, what survives is not counted as collected. */
		gc_resurrect(gc, target, unreachable, old);
		collected = 0;
		resurrected = true;
	} else if (gc->debug & OBJHEAP_GC_DEBUG_SAVEALL) {
		gc_save_garbage(heap, unreachable);
	} else {
		gc_delete_garbage(heap, unreachable);
	}

	/*
	 * A full collection found all there was: what freeing the garbage
	 * dropped from the objects that survive does not make new garbage.
	 * A set kept for its finalizers is garbage still, for the next one.
	 */
	if (generation == OH_GC_GENS - 1 && !resurrected)
		WRITE_ONCE(gc->dropped, false);
	elapsed = ktime_get_ns() - start;
	gc->gens[generation].stats.collections++;
	gc->gens[generation].stats.collected += collected;
	/* Read without the lock by /proc/objheap. */
	WRITE_ONCE(gc->collections, gc->collections + 1);
	if (elapsed > gc->longest_ns)
		WRITE_ONCE(gc->longest_ns, elapsed);
	gc->total_ns += elapsed;
	trace_objheap_gc_done(heap->id, generation, found, survivors, elapsed);
	/* Any user may ask for it: a bounded number of lines in the log. */
	if (gc->debug & OBJHEAP_GC_DEBUG_STATS)
		pr_info_ratelimited("heap %llu: gc: generation %u: %lu unreachable, %lu survived, %llu ns\n",
				    heap->id, generation, found, survivors, elapsed);
	if (out) {
		out->out_collected = collected;
		out->out_uncollectable = 0;
		out->out_elapsed_ns = elapsed;
	}
out:
	gc_event(heap, OBJHEAP_EVENT_GC_STOP, generation, collected, elapsed);
	gc->collecting = false;
	return ret;
}

/* ---- the incremental mode ------------------------------------------ */

/*
 * The write barrier's slow side: @obj, examined by an incremental
 * collection (OH_OBJ_INC), gets a new reference.  While the collection
 * counts, the reference may come from an object whose slots are already
 * subtracted, and so count for nothing: the object is shaded, which makes
 * it reachable whatever its count says.  While the collection walks, a
 * shaded object found unreachable so far goes back to be walked, with
 * what it refers to.  Then nothing reachable is ever lost: see
 * Documentation/gc.rst for the argument.
 */
void oh_gc_inc_shade(struct objheap *heap, struct oh_object *obj)
{
	struct oh_gc_inc *inc = &heap->gc.inc;

	switch (inc->phase) {
	case OBJHEAP_GC_PHASE_WALK:
		if (obj->flags & OH_OBJ_INC_UNREACHABLE) {
			obj->flags &= ~OH_OBJ_INC_UNREACHABLE;
			oh_idlist_move_tail(&heap->alloc, oh_obj_id(obj),
					    &obj->gc_link, inc->todo);
			inc->found--;
		}
		fallthrough;
	case OBJHEAP_GC_PHASE_COUNT:
	case OBJHEAP_GC_PHASE_SUBTRACT:
		obj->flags |= OH_OBJ_INC_SHADED;
		break;
	default:
		/* None runs, or it sweeps garbage, which nothing can reach. */
		break;
	}
}

/*
 * Start an incremental collection of the oldest generation: its objects
 * as they are now are the ones examined, and with @young those of the
 * younger generations too, which join the oldest as COUNT reaches them
 * (a full collection's survivors end there anyway).  What joins the
 * generation meanwhile waits for the next collection, as does any
 * garbage made from now on.
 */
static void gc_inc_start(struct objheap *heap, bool young)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	struct oh_gc_inc *inc = &gc->inc;
	int i;

	oh_idlist_splice_init(a, gc->gens[OH_GC_GENS - 1].objects, inc->todo);
	for (i = 0; young && i < OH_GC_GENS - 1; i++) {
		oh_idlist_splice_tail_init(a, gc->gens[i].objects, inc->todo);
		gc->gens[i].count = 0;
	}
	inc->cursor = oh_idlist_first(a, inc->todo);
	inc->phase = OBJHEAP_GC_PHASE_COUNT;
	inc->found = 0;
	inc->survivors = 0;
	inc->work_ns = 0;
	inc->flags_seen = 0;
	inc->gave_up = false;
	inc->full = young;
	inc->seq++;
	gc->gens[OH_GC_GENS - 1].count = 0;
	gc->long_lived_pending = 0;
	WRITE_ONCE(gc->dropped, false);
	trace_objheap_gc_start(heap->id, OH_GC_GENS - 1);
	gc_event(heap, OBJHEAP_EVENT_GC_START, OH_GC_GENS - 1, 0, 0);
}

/*
 * COUNT: each object's count is its references, as in phase 1, and it
 * counts in the oldest generation from now on.
 */
static unsigned long gc_inc_count(struct oh_gc *gc, unsigned long budget)
{
	unsigned long work = 0, resched = 0;
	struct oh_alloc *a = gc_alloc(gc);
	struct oh_gc_inc *inc = &gc->inc;
	struct oh_object *obj;

	while (work < budget && inc->cursor != inc->todo) {
		obj = oh_obj_at(a, inc->cursor);
		gc_set_gen(gc, obj, OH_GC_GENS - 1);
		obj->gc_refs = obj->refcnt;
		if (unlikely(oh_mappable(obj)))
			obj->gc_refs += oh_pages_gc_refs(obj);
		obj->flags = (obj->flags & ~OH_OBJ_INC_MARKS) | OH_OBJ_INC;
		inc->cursor = obj->gc_link.next;
		work++;
		gc_resched(&resched);
	}
	return work;
}

/*
 * SUBTRACT: as phase 2, the references examined objects hold to each
 * other come off.  A count never goes below zero: one that would was
 * given references since it was taken, and is shaded.
 */
static unsigned long gc_inc_subtract(struct oh_gc_inc *inc,
				     unsigned long budget)
{
	struct oh_alloc *a = gc_inc_alloc(inc);
	struct oh_object *obj, *target, **slots;
	unsigned long work = 0, resched = 0;
	u32 i, n;

	while (work < budget && inc->cursor != inc->todo) {
		obj = oh_obj_at(a, inc->cursor);
		slots = oh_slots(obj);
		n = oh_nslots(obj);
		for (i = 0; i < n; i++) {
			target = slots[i];
			if (target && (target->flags & OH_OBJ_INC) &&
			    target->gc_refs)
				target->gc_refs--;
		}
		work += 1 + n;
		inc->cursor = obj->gc_link.next;
		gc_resched(&resched);
	}
	return work;
}

/*
 * WALK, for one reachable object: what it refers to is reachable too.  A
 * target found unreachable goes back to be walked; one not walked yet is
 * shaded, so that the walk keeps it.
 */
static void gc_inc_visit(struct oh_gc_inc *inc, struct oh_object *obj)
{
	struct oh_object *target, **slots = oh_slots(obj);
	u32 i, n = oh_nslots(obj);

	for (i = 0; i < n; i++) {
		target = slots[i];
		if (!target || !(target->flags & OH_OBJ_INC))
			continue;
		if (target->flags & OH_OBJ_INC_UNREACHABLE) {
			target->flags &= ~OH_OBJ_INC_UNREACHABLE;
			oh_idlist_move_tail(gc_inc_alloc(inc), oh_obj_id(target),
					    &target->gc_link, inc->todo);
			inc->found--;
		}
		target->flags |= OH_OBJ_INC_SHADED;
	}
}

/*
 * WALK: phase 3 from the cursor on: an object with references from
 * outside (or shaded) is reachable and stays, the others go to the
 * unreachable list until a reachable one refers to them, which brings
 * them back to the tail, ahead of the cursor.
 */
static unsigned long gc_inc_walk(struct oh_gc_inc *inc, unsigned long budget)
{
	struct oh_alloc *a = gc_inc_alloc(inc);
	unsigned long work = 0, resched = 0;
	struct oh_object *obj;
	u32 id;

	while (work < budget && inc->cursor != inc->todo) {
		id = inc->cursor;
		obj = oh_obj_at(a, id);
		work += 1 + oh_nslots(obj);
		if (obj->gc_refs || (obj->flags & OH_OBJ_INC_SHADED)) {
			gc_inc_visit(inc, obj);
			/* Read after the visit: it may have appended to @todo. */
			inc->cursor = obj->gc_link.next;
			/* Not less those freed since: for the long-lived rule. */
			inc->survivors++;
		} else {
			inc->cursor = obj->gc_link.next;
			obj->flags |= OH_OBJ_INC_UNREACHABLE;
			inc->flags_seen |= obj->flags;
			oh_idlist_move_tail(a, id, &obj->gc_link,
					    inc->unreachable);
			inc->found++;
		}
		gc_resched(&resched);
	}
	return work;
}

/*
 * Give the collection up, unless it is sweeping: every object it examined
 * goes back to the oldest generation.  No event: the caller says.
 */
static void gc_inc_give_up(struct objheap *heap)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	struct oh_gc_inc *inc = &gc->inc;
	u32 old = gc->gens[OH_GC_GENS - 1].objects, id;
	unsigned long resched = 0;
	struct oh_object *obj;

	oh_idlist_for_each_obj(a, id, obj, inc->unreachable) {
		obj->flags &= ~OH_OBJ_INC_UNREACHABLE;
		gc_resched(&resched);
	}
	/* Younger objects COUNT did not reach yet join the oldest now. */
	if (inc->phase == OBJHEAP_GC_PHASE_COUNT) {
		for (; inc->cursor != inc->todo; inc->cursor = obj->gc_link.next) {
			obj = oh_obj_at(a, inc->cursor);
			gc_set_gen(gc, obj, OH_GC_GENS - 1);
			gc_resched(&resched);
		}
	}
	oh_idlist_splice_tail_init(a, inc->todo, old);
	oh_idlist_splice_tail_init(a, inc->unreachable, old);
	inc->cursor = inc->todo;
	inc->found = 0;
	inc->aborted++;
	inc->gave_up = true;
	inc->phase = OBJHEAP_GC_PHASE_IDLE;
	/* Whatever garbage there was is still there. */
	WRITE_ONCE(gc->dropped, true);
}

/*
 * The walk is over: what is on @unreachable is garbage.  From here on as
 * in a collection that stops the world (phases 5 to 7), except that the
 * garbage is freed by the increments that follow (SWEEP).  This step's
 * work is the passes over the garbage that weak references, finalizers
 * and mappings need, when it has any of them.
 */
static void gc_inc_finish(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;
	struct oh_gc_inc *inc = &gc->inc;
	u32 old = gc->gens[OH_GC_GENS - 1].objects, id;
	struct oh_alloc *a = &heap->alloc;
	unsigned long resched = 0;
	struct oh_object *obj;
	u64 collected;

	if ((inc->flags_seen & OBJHEAP_OBJ_MAPPABLE) &&
	    !gc_doom_mapped(a, inc->unreachable)) {
		gc_inc_give_up(heap);
		return;
	}
	/*
	 * What is found is final: PEP 442's references below resurrect the
	 * whole set, and nothing else can reach it.  The barrier stops.
	 */
	inc->phase = OBJHEAP_GC_PHASE_SWEEP;

	oh_idlist_splice_tail_init(a, inc->todo, old);
	gc->long_lived_total = inc->survivors;

	if (inc->flags_seen & (OH_OBJ_WEAKREFED | OBJHEAP_OBJ_WEAKREF)) {
		/* Garbage weak references are cleared in silence. */
		oh_idlist_for_each_obj(a, id, obj, inc->unreachable) {
			obj->flags |= OH_OBJ_UNREACHABLE;
			gc_resched(&resched);
		}
		gc_handle_weakrefs(heap, inc->unreachable);
	}
	collected = inc->found;
	if ((inc->flags_seen & OBJHEAP_OBJ_FINALIZE) &&
	    gc_finalize_garbage(heap, inc->unreachable)) {
		gc_resurrect(gc, OH_GC_GENS - 1, inc->unreachable, old);
		collected = 0;
		WRITE_ONCE(gc->dropped, true);
	} else if (gc->debug & OBJHEAP_GC_DEBUG_SAVEALL) {
		gc_save_garbage(heap, inc->unreachable);
	}
	inc->found = collected;
	gc->gens[OH_GC_GENS - 1].stats.collections++;
	gc->gens[OH_GC_GENS - 1].stats.collected += collected;
	inc->collected += collected;
	inc->phase = oh_idlist_empty(a, inc->unreachable) ?
		     OBJHEAP_GC_PHASE_IDLE : OBJHEAP_GC_PHASE_SWEEP;
}

/* SWEEP: free garbage; the collection ends with the last of it. */
static unsigned long gc_inc_sweep(struct objheap *heap, unsigned long budget)
{
	struct oh_gc_inc *inc = &heap->gc.inc;
	unsigned long work;

	work = gc_delete_some(heap, inc->unreachable, inc->cleared, budget,
			      OH_OBJ_INC_UNREACHABLE);
	if (oh_idlist_empty(&heap->alloc, inc->unreachable)) {
		gc_garbage_gone(heap, inc->cleared);
		inc->phase = OBJHEAP_GC_PHASE_IDLE;
	}
	return work;
}

/* The collection ended, given up or not: say so. */
static void gc_inc_ended(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;
	struct oh_gc_inc *inc = &gc->inc;

	if (!inc->gave_up) {
		inc->cycles++;
		inc->done_seq = inc->seq;
		/* Read without the lock by /proc/objheap. */
		WRITE_ONCE(gc->collections, gc->collections + 1);
	}
	trace_objheap_gc_done(heap->id, OH_GC_GENS - 1, inc->found,
			      inc->survivors, inc->work_ns);
	if (gc->debug & OBJHEAP_GC_DEBUG_STATS)
		pr_info_ratelimited("heap %llu: gc: generation %u, incremental: %llu unreachable, %llu survived, %llu ns of work\n",
				    heap->id, OH_GC_GENS - 1, inc->found,
				    inc->survivors, inc->work_ns);
	gc_event(heap, OBJHEAP_EVENT_GC_STOP, OH_GC_GENS - 1, inc->found,
		 inc->work_ns);
}

/*
 * One increment: the running collection's next @inc->budget of work, as
 * many phases as that reaches.  Phases end when their list is empty, not
 * when the budget is spent, so that each increment starts where the last
 * left off whatever the commands between them did.
 */
static void gc_inc_step(struct objheap *heap)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_gc *gc = &heap->gc;
	struct oh_gc_inc *inc = &gc->inc;
	unsigned long work = 0, budget = inc->budget;
	u64 start = ktime_get_ns(), elapsed;

	inc->since = 0;
	gc->collecting = true;
	while (work < budget && inc->phase != OBJHEAP_GC_PHASE_IDLE) {
		switch (inc->phase) {
		case OBJHEAP_GC_PHASE_COUNT:
			work += gc_inc_count(gc, budget - work);
			if (inc->cursor == inc->todo) {
				inc->cursor = oh_idlist_first(a, inc->todo);
				inc->phase = OBJHEAP_GC_PHASE_SUBTRACT;
			}
			break;
		case OBJHEAP_GC_PHASE_SUBTRACT:
			work += gc_inc_subtract(inc, budget - work);
			if (inc->cursor == inc->todo) {
				inc->cursor = oh_idlist_first(a, inc->todo);
				inc->phase = OBJHEAP_GC_PHASE_WALK;
			}
			break;
		case OBJHEAP_GC_PHASE_WALK:
			work += gc_inc_walk(inc, budget - work);
			if (inc->cursor == inc->todo)
				gc_inc_finish(heap);
			break;
		case OBJHEAP_GC_PHASE_SWEEP:
			work += gc_inc_sweep(heap, budget - work);
			break;
		}
	}
	gc->collecting = false;
	elapsed = ktime_get_ns() - start;
	inc->work_ns += elapsed;
	gc->total_ns += elapsed;
	inc->increments++;
	if (elapsed > inc->longest_ns)
		inc->longest_ns = elapsed;
	if (elapsed > gc->longest_ns)
		WRITE_ONCE(gc->longest_ns, elapsed);
	if (inc->phase == OBJHEAP_GC_PHASE_IDLE)
		gc_inc_ended(heap);
}

/*
 * Stop the running collection now, for a command that needs every
 * generation's objects on its list: the garbage it is sweeping is freed
 * first; one that had not reached it is given up.
 */
static void gc_inc_settle(struct objheap *heap)
{
	struct oh_gc_inc *inc = &heap->gc.inc;

	switch (inc->phase) {
	case OBJHEAP_GC_PHASE_IDLE:
		return;
	case OBJHEAP_GC_PHASE_SWEEP:
		heap->gc.collecting = true;
		gc_delete_some(heap, inc->unreachable, inc->cleared,
			       ULONG_MAX, OH_OBJ_INC_UNREACHABLE);
		gc_garbage_gone(heap, inc->cleared);
		heap->gc.collecting = false;
		inc->phase = OBJHEAP_GC_PHASE_IDLE;
		break;
	default:
		gc_inc_give_up(heap);
		break;
	}
	gc_inc_ended(heap);
}

/*
 * A full collection in the incremental mode: the collection running, if
 * any, ends, then one of every generation runs, giving up the heap's lock
 * between increments so that other commands wait one increment at most.
 * Its figures go to @out, if any.  0, also when that collection was given
 * up; or -EINTR when the task is killed: the collection running is then
 * given up, as a stop-the-world one is (unless it was freeing garbage:
 * that ends first).
 */
static int gc_inc_collect(struct objheap *heap, struct objheap_gc_collect *out)
{
	struct oh_gc_inc *inc = &heap->gc.inc;
	u64 collected = inc->collected, want = inc->seq + 1, work = 0;
	u64 start;

	if (inc->phase != OBJHEAP_GC_PHASE_IDLE)
		want++;
	while (inc->done_seq < want) {
		start = ktime_get_ns();
		if (inc->phase == OBJHEAP_GC_PHASE_IDLE)
			gc_inc_start(heap, inc->seq + 1 == want);
		/* An automatic one started while the lock was given up. */
		if (inc->seq == want && !inc->full)
			want++;
		gc_inc_step(heap);
		work += ktime_get_ns() - start;
		if (inc->done_seq >= want)
			break;
		/*
		 * Given up (a garbage object was mapped meanwhile, or another
		 * command needed the lists): as a stop-the-world collection
		 * that gives up, this one ends with what it had.
		 */
		if (inc->phase == OBJHEAP_GC_PHASE_IDLE && inc->gave_up &&
		    inc->seq >= want)
			break;
		if (fatal_signal_pending(current)) {
			gc_inc_settle(heap);
			return -EINTR;
		}
		objheap_lock_yield(heap);
		/* Switched to stop-the-world meanwhile: finish that way. */
		if (!inc->on) {
			struct objheap_gc_collect res = {};
			int ret = oh_gc_collect(heap, OH_GC_GENS - 1, &res);

			if (out) {
				out->out_collected += res.out_collected;
				out->out_elapsed_ns += work + res.out_elapsed_ns;
			}
			return ret;
		}
	}
	if (out) {
		out->out_collected += inc->collected - collected;
		out->out_elapsed_ns += work;
	}
	return 0;
}

#if IS_ENABLED(CONFIG_OBJHEAP_TEST)
/**
 * oh_gc_test_step() - One increment, for the test-only interface.
 * @heap: The heap.
 *
 * Context: The heap's lock is held.
 * Return: The phase the increment left, or -EINVAL when the heap does
 * not collect incrementally.
 */
int oh_gc_test_step(struct objheap *heap)
{
	struct oh_gc_inc *inc = &heap->gc.inc;

	lockdep_assert_held(&heap->lock);

	if (!inc->on)
		return -EINVAL;
	if (inc->phase == OBJHEAP_GC_PHASE_IDLE)
		gc_inc_start(heap, false);
	gc_inc_step(heap);
	return inc->phase;
}
#endif

/*
 * The incremental mode's automatic collection: the young collection that
 * is due, then an increment of the oldest generation's collection if one
 * runs; one starts when a full collection would be due.
 */
static void gc_inc_maybe_collect(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;
	const struct oh_gc_gen *oldest = &gc->gens[OH_GC_GENS - 1];

	if (gc->inc.phase == OBJHEAP_GC_PHASE_IDLE &&
	    oldest->count > oldest->threshold &&
	    gc->long_lived_pending >= gc->long_lived_total / 4)
		gc_inc_start(heap, false);
	if (oh_gc_collect(heap, gc->gens[1].count > gc->gens[1].threshold,
			  NULL))
		return;
	if (gc->inc.phase != OBJHEAP_GC_PHASE_IDLE)
		gc_inc_step(heap);
}

/* oh_gc_maybe_collect()'s work, when its inline test found some may be due. */
void __oh_gc_maybe_collect(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;
	int i;

	lockdep_assert_held(&heap->lock);

	if (!gc->enabled || gc->collecting || !gc->gens[0].threshold)
		return;
	if (gc->gens[0].count <= gc->gens[0].threshold) {
		/*
		 * A collection in progress also takes an increment each
		 * quarter of generation 0's threshold: it ends in a quarter
		 * of the creations, for a quarter of the garbage.
		 */
		if (gc->inc.phase != OBJHEAP_GC_PHASE_IDLE &&
		    ++gc->inc.since > gc->gens[0].threshold / 4)
			gc_inc_step(heap);
		return;
	}
	if (gc->inc.on) {
		gc_inc_maybe_collect(heap);
		return;
	}
	for (i = OH_GC_GENS - 1; i >= 0; i--) {
		if (gc->gens[i].count <= gc->gens[i].threshold)
			continue;
		/* The long-lived rule: see the comment at the top. */
		if (i == OH_GC_GENS - 1 &&
		    gc->long_lived_pending < gc->long_lived_total / 4)
			continue;
		/* Killed, it stops; the command that ran it has succeeded. */
		oh_gc_collect(heap, i, NULL);
		return;
	}
}

/**
 * oh_gc_collect_for_limit() - Collect before an allocation fails at the
 *                             heap's limit, if that could help.
 * @heap: The heap, whose command just failed with -ENOMEM.
 *
 * Only when the heap's limit or its user's bound refused memory (not the
 * system), the collector is enabled, and a reference was dropped since
 * the last full collection: a heap that stays at its limit with no
 * garbage pays for one futile collection, not one per command.
 *
 * Return: Whether the collection freed something: the command may then
 * be tried once more.
 */
bool oh_gc_collect_for_limit(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;
	u64 used = heap->alloc.used;

	lockdep_assert_held(&heap->lock);

	if (!heap->alloc.limit_refused)
		return false;
	heap->alloc.limit_refused = false;
	if (!oh_gc_automatic(gc) || gc->collecting)
		return false;
	/* Whatever the mode: the command waits for memory now. */
	gc_inc_settle(heap);
	if (!gc->dropped)
		return heap->alloc.used < used;
	if (oh_gc_collect(heap, OH_GC_GENS - 1, NULL))
		return false;
	gc->limit_collections++;
	return heap->alloc.used < used;
}

/**
 * oh_gc_collect_for_pressure() - The shrinker's full collection.
 * @heap: The heap; the caller checked that its collector is enabled and
 *        not running.
 *
 * Context: A worker (kmod/shrink.c), with the heap's lock held.
 * Return: The objects it collected.
 */
u64 oh_gc_collect_for_pressure(struct objheap *heap)
{
	struct objheap_gc_collect res = {};

	lockdep_assert_held(&heap->lock);

	/*
	 * A worker has no signal to stop it: it runs to the end.  In the
	 * incremental mode, the heap's commands run between its increments.
	 */
	if (heap->gc.inc.on)
		gc_inc_collect(heap, &res);
	else
		oh_gc_collect(heap, OH_GC_GENS - 1, &res);
	heap->gc.pressure_collections++;
	WRITE_ONCE(heap->gc.pressure_after,
		   ktime_get_ns() + 9 * res.out_elapsed_ns);
	return res.out_collected;
}

int objheap_cmd_gc_collect(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_collect *cmd = ucmd->cmd;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	if (cmd->generation >= OH_GC_GENS)
		return -EINVAL;
	if (ucmd->heap->gc.inc.on && cmd->generation == OH_GC_GENS - 1) {
		cmd->out_collected = 0;
		cmd->out_uncollectable = 0;
		cmd->out_elapsed_ns = 0;
		ret = gc_inc_collect(ucmd->heap, cmd);
	} else {
		ret = oh_gc_collect(ucmd->heap, cmd->generation, cmd);
	}
	return ret ?: objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

/* The commands on struct objheap_gc_value that take no value. */
static int gc_value_cmd(struct objheap_ucmd *ucmd, u32 out_value)
{
	struct objheap_gc_value *cmd = ucmd->cmd;

	cmd->out_value = out_value;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

#define GC_NO_VALUE(ucmd)						\
	(((struct objheap_gc_value *)(ucmd)->cmd)->value ? -EINVAL : 0)

int objheap_cmd_gc_enable(struct objheap_ucmd *ucmd)
{
	int ret = GC_NO_VALUE(ucmd);

	lockdep_assert_held(&ucmd->heap->lock);

	if (ret)
		return ret;
	ucmd->heap->gc.enabled = true;
	gc_set_due(&ucmd->heap->gc);
	return 0;
}

int objheap_cmd_gc_disable(struct objheap_ucmd *ucmd)
{
	int ret = GC_NO_VALUE(ucmd);

	lockdep_assert_held(&ucmd->heap->lock);

	if (ret)
		return ret;
	ucmd->heap->gc.enabled = false;
	gc_set_due(&ucmd->heap->gc);
	return 0;
}

int objheap_cmd_gc_isenabled(struct objheap_ucmd *ucmd)
{
	lockdep_assert_held(&ucmd->heap->lock);

	return GC_NO_VALUE(ucmd) ?: gc_value_cmd(ucmd, ucmd->heap->gc.enabled);
}

int objheap_cmd_gc_get_threshold(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_threshold *cmd = ucmd->cmd;
	int i;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved || cmd->__reserved2 ||
	    memchr_inv(cmd->threshold, 0, sizeof(cmd->threshold)))
		return -EINVAL;
	for (i = 0; i < OH_GC_GENS; i++)
		cmd->out_threshold[i] = ucmd->heap->gc.gens[i].threshold;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_gc_set_threshold(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_threshold *cmd = ucmd->cmd;
	int i;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved || cmd->__reserved2 ||
	    memchr_inv(cmd->out_threshold, 0, sizeof(cmd->out_threshold)))
		return -EINVAL;
	for (i = 0; i < OH_GC_GENS; i++)
		ucmd->heap->gc.gens[i].threshold = cmd->threshold[i];
	gc_set_due(&ucmd->heap->gc);
	return 0;
}

int objheap_cmd_gc_get_count(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_count *cmd = ucmd->cmd;
	int i;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	for (i = 0; i < OH_GC_GENS; i++)
		cmd->out_count[i] = ucmd->heap->gc.gens[i].count;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_gc_get_stats(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_stats *cmd = ucmd->cmd;
	struct oh_gc *gc = &ucmd->heap->gc;
	int i;

	lockdep_assert_held(&ucmd->heap->lock);

	for (i = 0; i < OH_GC_GENS; i++)
		cmd->out_gen[i] = ucmd->heap->gc.gens[i].stats;
	cmd->out_collections = gc->collections;
	cmd->out_longest_ns = gc->longest_ns;
	cmd->out_limit_collections = gc->limit_collections;
	cmd->out_pressure_collections = gc->pressure_collections;
	cmd->out_pressure_freed = gc->pressure_freed;
	cmd->out_total_ns = gc->total_ns;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * Move every object of @from to @to, generation @gen (FREEZE, UNFREEZE):
 * one at a time, since each changes its count.  -EINTR when the task is
 * killed, with the objects moved so far moved.
 */
static int gc_move_all(struct oh_gc *gc, u32 from, u32 to, unsigned int gen)
{
	struct oh_alloc *a = gc_alloc(gc);
	unsigned long resched = 0;
	struct oh_object *obj;
	u32 id;

	while ((id = oh_idlist_first(a, from)) != from) {
		obj = oh_obj_at(a, id);
		gc_set_gen(gc, obj, gen);
		oh_idlist_move_tail(a, id, &obj->gc_link, to);
		if (gc_resched_killed(&resched))
			return -EINTR;
	}
	return 0;
}

int objheap_cmd_gc_freeze(struct objheap_ucmd *ucmd)
{
	struct oh_gc *gc = &ucmd->heap->gc;
	int ret = GC_NO_VALUE(ucmd), i;

	lockdep_assert_held(&ucmd->heap->lock);

	if (ret)
		return ret;
	gc_inc_settle(ucmd->heap);
	gc->gens[0].count = 0;
	for (i = 0; i < OH_GC_GENS; i++) {
		ret = gc_move_all(gc, gc->gens[i].objects, gc->permanent,
				  OH_GC_OUTSIDE);
		if (ret)
			return ret;
	}
	return 0;
}

int objheap_cmd_gc_unfreeze(struct objheap_ucmd *ucmd)
{
	struct oh_gc *gc = &ucmd->heap->gc;
	int ret = GC_NO_VALUE(ucmd);

	lockdep_assert_held(&ucmd->heap->lock);

	if (ret)
		return ret;
	gc_inc_settle(ucmd->heap);
	return gc_move_all(gc, gc->permanent, gc->gens[OH_GC_GENS - 1].objects,
			   OH_GC_GENS - 1);
}

int objheap_cmd_gc_get_freeze_count(struct objheap_ucmd *ucmd)
{
	lockdep_assert_held(&ucmd->heap->lock);

	return GC_NO_VALUE(ucmd) ?:
	       gc_value_cmd(ucmd, ucmd->heap->gc.tracked[OH_GC_OUTSIDE]);
}

int objheap_cmd_gc_set_debug(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_value *cmd = ucmd->cmd;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->value & ~(OBJHEAP_GC_DEBUG_STATS | OBJHEAP_GC_DEBUG_SAVEALL))
		return -EINVAL;
	ucmd->heap->gc.debug = cmd->value;
	return 0;
}

int objheap_cmd_gc_get_debug(struct objheap_ucmd *ucmd)
{
	lockdep_assert_held(&ucmd->heap->lock);

	return GC_NO_VALUE(ucmd) ?: gc_value_cmd(ucmd, ucmd->heap->gc.debug);
}

int objheap_cmd_gc_clear_garbage(struct objheap_ucmd *ucmd)
{
	struct oh_alloc *a = &ucmd->heap->alloc;
	struct oh_gc *gc = &ucmd->heap->gc;
	unsigned long resched = 0;
	struct oh_object *obj;
	int ret = GC_NO_VALUE(ucmd);
	u32 id;

	lockdep_assert_held(&ucmd->heap->lock);

	if (ret)
		return ret;
	/* Giving back one reference may free others on the list. */
	while ((id = oh_idlist_first(a, gc->garbage)) != gc->garbage) {
		obj = oh_obj_at(a, id);
		obj->flags &= ~OH_OBJ_GARBAGE;
		gc_count_in(gc, obj, OH_GC_GENS - 1);
		oh_idlist_move_tail(a, id, &obj->gc_link,
				    gc->gens[OH_GC_GENS - 1].objects);
		oh_unref(ucmd->heap, obj);
		/* Killed: what is left stays on the list, held as before. */
		if (gc_resched_killed(&resched))
			return -EINTR;
	}
	return 0;
}

int objheap_cmd_gc_is_tracked(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_object *cmd = ucmd->cmd;
	struct oh_object *obj;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	cmd->out_tracked = oh_tracked(obj);
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * The list commands: walks over their sequences of objects, run by
 * oh_list_handles() (kmod/object.c), which counts, writes the handles and
 * gives back the references if writing fails.
 */
static void gc_walk_list(struct oh_lister *l, u32 head)
{
	struct oh_object *obj;
	u32 id;

	oh_idlist_for_each_obj(&l->heap->alloc, id, obj, head) {
		if (oh_list_stopped(l))
			return;
		oh_list_add(l, obj);
	}
}

/* @arg: the command's generation, or OBJHEAP_GC_ALL_GENERATIONS. */
static void gc_walk_objects(struct oh_lister *l, const void *arg)
{
	const u32 *generation = arg;
	struct oh_gc *gc = &l->heap->gc;
	int i;

	for (i = 0; i < OH_GC_GENS; i++)
		if (*generation == OBJHEAP_GC_ALL_GENERATIONS ||
		    *generation == i)
			gc_walk_list(l, gc->gens[i].objects);
}

static void gc_walk_garbage(struct oh_lister *l, const void *unused)
{
	gc_walk_list(l, l->heap->gc.garbage);
}

/* @arg: the object whose slots are listed. */
static void gc_walk_referents(struct oh_lister *l, const void *arg)
{
	const struct oh_object *obj = arg;
	struct oh_object **slots = oh_slots(obj);
	u32 i;

	for (i = 0; i < oh_nslots(obj); i++)
		if (slots[i])
			oh_list_add(l, slots[i]);
}

static void gc_walk_referrers_in(struct oh_lister *l, u32 head,
				 const struct oh_object *target)
{
	struct oh_object *obj, **slots;
	u32 i, id;

	oh_idlist_for_each_obj(&l->heap->alloc, id, obj, head) {
		if (oh_list_stopped(l))
			return;
		slots = oh_slots(obj);
		for (i = 0; i < oh_nslots(obj); i++) {
			if (slots[i] == target) {
				oh_list_add(l, obj);
				break;
			}
		}
		oh_list_resched(l);
	}
}

/* @arg: the object whose referrers are listed. */
static void gc_walk_referrers(struct oh_lister *l, const void *arg)
{
	struct oh_gc *gc = &l->heap->gc;
	int i;

	for (i = 0; i < OH_GC_GENS; i++)
		gc_walk_referrers_in(l, gc->gens[i].objects, arg);
	gc_walk_referrers_in(l, gc->permanent, arg);
	gc_walk_referrers_in(l, gc->garbage, arg);
}

static int gc_list_cmd(struct objheap_ucmd *ucmd, oh_list_walk_fn walk,
		       const void *arg)
{
	struct objheap_gc_list *cmd = ucmd->cmd;

	/* The objects a collection in progress holds are on no generation. */
	if (walk == gc_walk_objects || walk == gc_walk_referrers)
		gc_inc_settle(ucmd->heap);

	return oh_list_handles(ucmd, walk, arg, cmd->buf_uptr, cmd->count,
			       &cmd->out_count, sizeof(*cmd));
}

/* Check a list command's fields; @handle_ok and @gen_ok say which it uses. */
static int gc_list_check(struct objheap_gc_list *cmd, bool handle_ok,
			 bool gen_ok)
{
	if (cmd->__reserved || (!handle_ok && cmd->handle) ||
	    (!gen_ok && cmd->generation))
		return -EINVAL;
	if (gen_ok && cmd->generation >= OH_GC_GENS &&
	    cmd->generation != OBJHEAP_GC_ALL_GENERATIONS)
		return -EINVAL;
	return 0;
}

int objheap_cmd_gc_get_objects(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_list *cmd = ucmd->cmd;

	lockdep_assert_held(&ucmd->heap->lock);

	return gc_list_check(cmd, false, true) ?:
	       gc_list_cmd(ucmd, gc_walk_objects, &cmd->generation);
}

int objheap_cmd_gc_get_garbage(struct objheap_ucmd *ucmd)
{
	lockdep_assert_held(&ucmd->heap->lock);

	return gc_list_check(ucmd->cmd, false, false) ?:
	       gc_list_cmd(ucmd, gc_walk_garbage, NULL);
}

static int gc_object_list_cmd(struct objheap_ucmd *ucmd, oh_list_walk_fn walk)
{
	struct objheap_gc_list *cmd = ucmd->cmd;
	struct oh_object *obj;
	int ret;

	ret = gc_list_check(cmd, true, false);
	if (ret)
		return ret;
	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	return gc_list_cmd(ucmd, walk, obj);
}

int objheap_cmd_gc_get_referrers(struct objheap_ucmd *ucmd)
{
	lockdep_assert_held(&ucmd->heap->lock);

	return gc_object_list_cmd(ucmd, gc_walk_referrers);
}

int objheap_cmd_gc_get_referents(struct objheap_ucmd *ucmd)
{
	lockdep_assert_held(&ucmd->heap->lock);

	return gc_object_list_cmd(ucmd, gc_walk_referents);
}

int objheap_cmd_gc_set_mode(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_mode *cmd = ucmd->cmd;
	struct oh_gc_inc *inc = &ucmd->heap->gc.inc;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved || cmd->out_mode || cmd->out_budget ||
	    cmd->out_phase)
		return -EINVAL;
	if (cmd->mode != OBJHEAP_GC_STOP_THE_WORLD &&
	    cmd->mode != OBJHEAP_GC_INCREMENTAL)
		return -EINVAL;
	if (cmd->budget > OBJHEAP_GC_BUDGET_MAX)
		return -EINVAL;
	if (cmd->mode == OBJHEAP_GC_STOP_THE_WORLD)
		gc_inc_settle(ucmd->heap);
	inc->on = cmd->mode == OBJHEAP_GC_INCREMENTAL;
	inc->budget = cmd->budget ?: OBJHEAP_GC_BUDGET_DEFAULT;
	return 0;
}

int objheap_cmd_gc_get_mode(struct objheap_ucmd *ucmd)
{
	struct objheap_gc_mode *cmd = ucmd->cmd;
	struct oh_gc_inc *inc = &ucmd->heap->gc.inc;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->mode || cmd->budget || cmd->__reserved)
		return -EINVAL;
	cmd->out_mode = inc->on ? OBJHEAP_GC_INCREMENTAL :
				  OBJHEAP_GC_STOP_THE_WORLD;
	cmd->out_budget = inc->budget;
	cmd->out_phase = inc->phase;
	cmd->out_increments = inc->increments;
	cmd->out_cycles = inc->cycles;
	cmd->out_aborted = inc->aborted;
	cmd->out_longest_increment_ns = inc->longest_ns;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}
