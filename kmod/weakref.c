// SPDX-License-Identifier: GPL-2.0
/*
 * Weak references and finalizers (weakref.ref and weakref.finalize).
 * PEP 442 finalization, part of an object's death, is in object.c.
 *
 * A weak reference is an object of the heap like any other (it has a
 * handle, a reference count, and may sit in slots), flagged
 * OBJHEAP_OBJ_WEAKREF, with no slots; its payload, hidden from userspace,
 * is a struct oh_weakref holding a pointer to its target that counts no
 * reference.  As in CPython, weak references are tracked by the collector:
 * that is how a collection tells a weak reference that is itself garbage
 * (cleared without a callback) from one that is not.
 *
 * The targets are not made any bigger: a target with weak references only
 * carries OH_OBJ_WEAKREFED in its flags.  Its weak references form a ring,
 * oldest first, linked through the weak references themselves; the
 * oldest one also sits in a chain of the heap's weak table, a linear hash
 * table (see parray.h) hashed by the target's address, one entry per
 * target.  So finding a target's weak references costs one short chain
 * walk, and a weak reference leaves its ring in O(1), with no walk at
 * all: when the oldest goes, the next oldest takes its place in the
 * chain.  Past one target per chain, each new target adds a chain (if
 * that fails the chains just get longer); the table's memory is charged
 * against the heap's limit, and each weak reference is a block of the
 * heap's allocator.
 *
 * The kernel never follows a pointer to a freed target, because a target
 * clears its weak references before it is freed:
 *
 *  - when its count reaches zero, oh_object_free() calls oh_weak_clear();
 *  - when the collector finds an unreachable set, gc_handle_weakrefs()
 *    clears the weak references of every object of the set before any of
 *    them is freed, as CPython's handle_weakrefs(); weak references that
 *    are themselves in the set are cleared without an event, whatever
 *    their target (oh_weakref_clear()).
 *
 * A weak reference that dies first leaves the table (oh_weakref_free()).
 * A finalizer is a weak reference with one more reference, the heap's
 * hold, dropped when it fires or is detached: Python's weakref.finalize
 * keeps itself alive in a registry the same way.
 *
 * Weak references cannot target weak references.  Besides being useless,
 * that bounds the work of a death: a finalizer freed while its target's
 * weak references are cleared has none of its own, so nothing here
 * recurses.
 *
 * Context: every function here but oh_weak_destroy() (at release(), when
 * nothing else can reach the heap) runs with the heap's lock held; the
 * entry points assert it with lockdep_assert_held().
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "objheap.h"

/* Weak references handled between two cond_resched() calls. */
#define OH_WEAK_RESCHED_EVERY 1024

/**
 * struct oh_weakref - The hidden payload of a weak reference.
 * @chain: The oldest weak reference of a target only: in the weak table's
 *         chain of its target.  Unhashed otherwise.
 * @ring: In the ring of its target's weak references, oldest first, while
 *        not cleared; empty (alone) once cleared.
 * @target: The target, or NULL once cleared (or detached).
 * @cookie: What its events carry.
 */
struct oh_weakref {
	struct hlist_node chain;
	struct list_head ring;
	struct oh_object *target;
	u64 cookie;
};

static struct oh_weakref *oh_weakref(struct oh_object *wobj)
{
	return (struct oh_weakref *)oh_data(wobj);
}

/* The weak reference whose payload @wr is (it has no slots). */
static struct oh_object *oh_weakref_obj(struct oh_weakref *wr)
{
	return (struct oh_object *)((u8 *)wr - offsetof(struct oh_object, inline_slots));
}

static bool oh_is_finalizer(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_FINALIZER;
}

static u32 oh_weak_hash(const struct oh_object *target)
{
	return hash_ptr(target, 32);
}

static struct hlist_head *oh_weak_bucket(struct oh_weak *w,
					 const struct oh_object *target)
{
	return oh_lhash_chain(&w->table, oh_weak_hash(target));
}

static u32 oh_weak_node_hash(const struct hlist_node *node)
{
	return oh_weak_hash(hlist_entry(node, struct oh_weakref, chain)->target);
}

/* The oldest weak reference of @target, or NULL if it has none. */
static struct oh_weakref *oh_weak_first(struct objheap *heap,
					const struct oh_object *target)
{
	struct oh_weakref *wr;

	if (!(target->flags & OH_OBJ_WEAKREFED))
		return NULL;
	hlist_for_each_entry(wr, oh_weak_bucket(&heap->weak, target), chain)
		if (wr->target == target)
			return wr;
	WARN_ON_ONCE(1);
	return NULL;
}

/*
 * The weak reference after @wr in its ring, or NULL back at @first: with
 * @first a target's oldest, "for (wr = first; wr; wr = oh_weak_next(wr,
 * first))" visits its weak references oldest first.
 */
static struct oh_weakref *oh_weak_next(struct oh_weakref *wr,
				       struct oh_weakref *first)
{
	wr = list_next_entry(wr, ring);
	return wr == first ? NULL : wr;
}

static void oh_weak_resched(unsigned long *n)
{
	if (!(++*n % OH_WEAK_RESCHED_EVERY))
		cond_resched();
}

#ifdef CONFIG_OBJHEAP_TEST
/**
 * oh_weak_chain_index() - The chain of the weak table @target hashes to.
 * @heap: The heap, whose lock is held.
 * @target: An object.
 *
 * Return: The chain's index, or 0 while the table has no chains.
 */
u32 oh_weak_chain_index(struct objheap *heap, const struct oh_object *target)
{
	const struct oh_lhash *lh = &heap->weak.table;

	lockdep_assert_held(&heap->lock);

	return lh->nchains ? oh_lhash_index(lh, oh_weak_hash(target)) : 0;
}

/**
 * oh_weak_check() - Check the weak table's chains (test builds).
 * @heap: The heap, whose lock is held.
 *
 * Return: 0, or -EUCLEAN (and a line in the kernel log).
 */
int oh_weak_check(struct objheap *heap)
{
	lockdep_assert_held(&heap->lock);

	return oh_lhash_check(&heap->weak.table, oh_weak_node_hash,
			      heap->weak.ntargets);
}
#endif

/* Make room for one more target: only the first table can fail. */
static int oh_weak_reserve(struct objheap *heap)
{
	struct oh_weak *w = &heap->weak;

	if (!w->table.nchains)
		return oh_lhash_init(&heap->alloc, &w->table);
	if (w->ntargets >= w->table.nchains)
		oh_lhash_split(&heap->alloc, &w->table, oh_weak_node_hash);
	return 0;
}

/**
 * oh_weak_destroy() - Free a closing heap's weak table.
 * @heap: The heap, whose objects are already freed.
 *
 * Context: Process context, from the file's release().
 */
void oh_weak_destroy(struct objheap *heap)
{
	struct oh_weak *w = &heap->weak;

	oh_lhash_destroy(&heap->alloc, &w->table);
}

/* Make @wr the newest weak reference of @target. */
static void oh_weak_link(struct objheap *heap, struct oh_weakref *wr,
			 struct oh_object *target)
{
	struct oh_weakref *first = oh_weak_first(heap, target);

	wr->target = target;
	INIT_HLIST_NODE(&wr->chain);
	if (first) {
		list_add_tail(&wr->ring, &first->ring);
	} else {
		INIT_LIST_HEAD(&wr->ring);
		hlist_add_head(&wr->chain, oh_weak_bucket(&heap->weak, target));
		target->flags |= OH_OBJ_WEAKREFED;
		heap->weak.ntargets++;
	}
	heap->weak.count++;
}

/* Take @wr, not yet cleared, out of its target's ring: O(1). */
static void oh_weak_unlink(struct objheap *heap, struct oh_weakref *wr)
{
	struct oh_weakref *next;

	if (!hlist_unhashed(&wr->chain)) {
		if (list_empty(&wr->ring)) {
			/* The last one: the target has none left. */
			wr->target->flags &= ~OH_OBJ_WEAKREFED;
			heap->weak.ntargets--;
		} else {
			/* The oldest: the next oldest takes its place. */
			next = list_next_entry(wr, ring);
			hlist_add_before(&next->chain, &wr->chain);
		}
		hlist_del_init(&wr->chain);
	}
	list_del_init(&wr->ring);
	wr->target = NULL;
	heap->weak.count--;
}

/*
 * @wr of @wobj was just cleared because @target dies: tell userspace if it
 * asked, and let a finalizer go.
 */
static void oh_weakref_fire(struct objheap *heap, struct oh_object *wobj,
			    struct oh_weakref *wr, struct oh_object *target)
{
	struct oh_attach *home = oh_home(heap, wobj);
	struct objheap_event ev = {};

	if (oh_is_finalizer(wobj)) {
		ev.type = OBJHEAP_EVENT_FINALIZER;
	} else {
		/* Garbage weak references are cleared in silence. */
		if (!(wobj->flags & OH_OBJ_WR_CALLBACK) ||
		    (wobj->flags & OH_OBJ_UNREACHABLE))
			return;
		ev.type = OBJHEAP_EVENT_WEAKREF;
	}
	ev.reason = oh_death_reason(heap);
	ev.cookie = wr->cookie;
	ev.target_type = target->type;
	/* To the attachment that made it; one that left disarmed it. */
	if (home) {
		ev.handle = oh_entry_handle(home, wobj->index);
		oh_event_queue(home, &ev);
	}
	/* The heap's hold: this may free @wobj, which has no weakrefs. */
	if (oh_is_finalizer(wobj))
		oh_unref(heap, wobj);
}

/**
 * oh_weak_clear() - Clear the weak references of a dying object.
 * @heap: The heap.
 * @target: An object flagged OH_OBJ_WEAKREFED that is about to be freed,
 *          or is part of an unreachable set the collector found.
 *
 * Each weak reference is cleared, then queues its event if it has one;
 * a finalizer also loses the heap's hold.
 *
 * Context: The heap's lock is held; may sleep.
 */
void oh_weak_clear(struct objheap *heap, struct oh_object *target)
{
	struct oh_weakref *first, *wr;
	unsigned long resched = 0;
	LIST_HEAD(ring);

	lockdep_assert_held(&heap->lock);
	first = oh_weak_first(heap, target);
	if (!first)
		return;
	/* Take the whole ring out of the table, with a head to pop it from. */
	hlist_del_init(&first->chain);
	heap->weak.ntargets--;
	target->flags &= ~OH_OBJ_WEAKREFED;
	list_add_tail(&ring, &first->ring);
	while (!list_empty(&ring)) {
		wr = list_first_entry(&ring, struct oh_weakref, ring);
		list_del_init(&wr->ring);
		wr->target = NULL;
		heap->weak.count--;
		/* Frees at most the finalizer @wr, already off the ring. */
		oh_weakref_fire(heap, oh_weakref_obj(wr), wr, target);
		oh_weak_resched(&resched);
	}
}

/**
 * oh_weakref_free() - A weak reference is being freed.
 * @heap: The heap.
 * @wobj: The weak reference, whose count reached zero.
 *
 * Context: The heap's lock is held.
 */
void oh_weakref_free(struct objheap *heap, struct oh_object *wobj)
{
	lockdep_assert_held(&heap->lock);

	oh_weakref_clear(heap, wobj);
}

/**
 * oh_weakref_clear() - Clear a weak reference without an event.
 * @heap: The heap.
 * @wobj: A weak reference: one being freed, or one the collector found
 *        to be garbage itself (CPython clears those before anything of
 *        the garbage is freed, bpo-38006).
 *
 * Context: The heap's lock is held.
 */
void oh_weakref_clear(struct objheap *heap, struct oh_object *wobj)
{
	struct oh_weakref *wr = oh_weakref(wobj);

	lockdep_assert_held(&heap->lock);
	if (wr->target)
		oh_weak_unlink(heap, wr);
}

/**
 * oh_finalizer_detach() - Detach a finalizer that has not fired.
 * @heap: The heap.
 * @wobj: A weak reference; nothing happens unless it is a finalizer
 *        whose target lives.
 *
 * Its target is forgotten and the heap's hold dropped, which may free it.
 *
 * Context: The heap's lock is held.
 */
void oh_finalizer_detach(struct objheap *heap, struct oh_object *wobj)
{
	struct oh_weakref *wr = oh_weakref(wobj);

	lockdep_assert_held(&heap->lock);
	if (!oh_is_finalizer(wobj) || !wr->target)
		return;
	oh_weak_unlink(heap, wr);
	oh_unref(heap, wobj);
}

int objheap_cmd_weakref_new(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_object *target, *wobj;
	struct oh_weakref *wr;
	u32 flags = OBJHEAP_OBJ_WEAKREF;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	target = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(target))
		return PTR_ERR(target);
	if (oh_is_weakref(target))
		return -EINVAL;
	ret = oh_weak_reserve(heap);
	if (ret)
		return ret;

	if (cmd->flags & OBJHEAP_WEAKREF_FINALIZER)
		flags |= OBJHEAP_OBJ_FINALIZER;
	if (cmd->flags & OBJHEAP_WEAKREF_CALLBACK)
		flags |= OH_OBJ_WR_CALLBACK;
	wobj = oh_object_create(ucmd->att, 0, flags, 0, sizeof(*wr), 0);
	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	wr = oh_weakref(wobj);
	wr->cookie = cmd->cookie;
	if (oh_is_finalizer(wobj))
		wobj->refcnt++;		/* the heap's hold */

	/*
	 * The creation rule (kmod/object.c): only a weak reference whose
	 * handle reached userspace enters the weak table; on a failed copy
	 * it was never linked and is freed unseen.
	 */
	ret = oh_respond_new(ucmd, wobj, &cmd->out_handle, sizeof(*cmd));
	if (ret)
		return ret;
	oh_weak_link(heap, wr, target);
	oh_gc_maybe_collect(heap);
	return 0;
}

/* The weak reference a command names; a finalizer if @finalizer. */
static struct oh_object *oh_get_weakref(struct objheap_ucmd *ucmd,
					bool finalizer)
{
	struct objheap_weakref *cmd = ucmd->cmd;
	struct oh_object *wobj;

	if (cmd->__reserved || cmd->cookie)
		return ERR_PTR(-EINVAL);
	wobj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(wobj))
		return wobj;
	if (!oh_is_weakref(wobj) || (finalizer && !oh_is_finalizer(wobj)))
		return ERR_PTR(-EINVAL);
	return wobj;
}

/* Return the target of @wobj, with a new reference, or 0. */
static int oh_weakref_respond_target(struct objheap_ucmd *ucmd,
				     struct oh_object *wobj)
{
	struct objheap_weakref *cmd = ucmd->cmd;
	struct oh_object *target = oh_weakref(wobj)->target;

	/* Refused before any output field is written. */
	if (target && oh_ref_full(target))
		return -EOVERFLOW;
	cmd->out_alive = !!target;
	return oh_respond_handle(ucmd, target, &cmd->out_handle, sizeof(*cmd));
}

int objheap_cmd_weakref_get(struct objheap_ucmd *ucmd)
{
	struct oh_object *wobj = oh_get_weakref(ucmd, false);

	lockdep_assert_held(&ucmd->heap->lock);

	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	return oh_weakref_respond_target(ucmd, wobj);
}

int objheap_cmd_finalize_alive(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref *cmd = ucmd->cmd;
	struct oh_object *wobj = oh_get_weakref(ucmd, true);

	lockdep_assert_held(&ucmd->heap->lock);

	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	cmd->out_alive = !!oh_weakref(wobj)->target;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_finalize_detach(struct objheap_ucmd *ucmd)
{
	struct oh_object *wobj = oh_get_weakref(ucmd, true);
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	ret = oh_weakref_respond_target(ucmd, wobj);
	if (ret)
		return ret;
	oh_finalizer_detach(ucmd->heap, wobj);
	return 0;
}

/* The target a list command names, with its fields checked. */
static struct oh_object *oh_get_weakref_target(struct objheap_ucmd *ucmd,
					       bool list)
{
	struct objheap_weakref_list *cmd = ucmd->cmd;

	if (!list && (cmd->count || cmd->buf_uptr))
		return ERR_PTR(-EINVAL);
	return oh_lookup(ucmd, cmd->handle);
}

/* The list walk over the weak references of @arg, a target, oldest first. */
static void oh_weak_walk(struct oh_lister *l, const void *arg)
{
	struct oh_weakref *wr, *first = oh_weak_first(l->heap, arg);

	for (wr = first; wr && !oh_list_stopped(l); wr = oh_weak_next(wr, first))
		oh_list_add(l, oh_weakref_obj(wr));
}

int objheap_cmd_weakref_count(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref_list *cmd = ucmd->cmd;
	struct oh_object *target = oh_get_weakref_target(ucmd, false);

	lockdep_assert_held(&ucmd->heap->lock);

	if (IS_ERR(target))
		return PTR_ERR(target);
	return oh_list_count(ucmd->heap, oh_weak_walk, target, &cmd->out_count) ?:
	       objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_weakref_list(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref_list *cmd = ucmd->cmd;
	struct oh_object *target = oh_get_weakref_target(ucmd, true);

	lockdep_assert_held(&ucmd->heap->lock);

	if (IS_ERR(target))
		return PTR_ERR(target);
	return oh_list_handles(ucmd, oh_weak_walk, target, cmd->buf_uptr,
			       cmd->count, &cmd->out_count, sizeof(*cmd));
}
