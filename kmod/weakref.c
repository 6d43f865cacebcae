// SPDX-License-Identifier: GPL-2.0
/*
 * Weak references, finalizers and PEP 442 finalization.
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
 * carries OH_OBJ_WEAKREFED in its flags, and its weak references are
 * found in the heap's weak table, a power-of-two array of lists hashed by
 * the target's table index and linked through the weak references
 * themselves, in order of creation.  The table doubles when it holds as
 * many weak references as lists (if doubling fails the lists just get
 * longer); its memory is charged against the heap's limit, and each weak
 * reference is a block of the heap's allocator.
 *
 * The kernel never follows a pointer to a freed target, because a target
 * clears its weak references before it is freed:
 *
 *  - when its count reaches zero, oh_object_free() calls oh_weak_clear();
 *  - when the collector finds an unreachable set, gc_handle_weakrefs()
 *    clears the weak references of every object of the set before any of
 *    them is freed, as CPython's handle_weakrefs(); weak references that
 *    are themselves in the set are cleared without an event.
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
 * Context: every function here runs with the heap's lock held.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "objheap.h"

/* A page of lists to start with; at most 2^24 lists (384 MiB of them). */
#define OH_WEAK_MIN_BUCKETS (PAGE_SIZE / sizeof(struct list_head))
#define OH_WEAK_MAX_BUCKETS BIT(24)

/* Weak references handled between two cond_resched() calls. */
#define OH_WEAK_RESCHED_EVERY 1024

/**
 * struct oh_weakref - The hidden payload of a weak reference.
 * @link: In its target's list of the weak table, while not cleared.
 * @target: The target, or NULL once cleared (or detached).
 * @cookie: What its events carry.
 */
struct oh_weakref {
	struct list_head link;
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
	return (struct oh_object *)((u8 *)wr - offsetof(struct oh_object, slots));
}

static bool oh_is_finalizer(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_FINALIZER;
}

static struct list_head *oh_weak_bucket(struct oh_weak *w,
					const struct oh_object *target)
{
	return &w->buckets[hash_32(target->index, ilog2(w->nbuckets))];
}

static void oh_weak_resched(unsigned long *n)
{
	if (!(++*n % OH_WEAK_RESCHED_EVERY))
		cond_resched();
}

static int oh_weak_resize(struct objheap *heap, u32 nbuckets)
{
	struct oh_weak *w = &heap->weak;
	struct list_head *old = w->buckets, *new;
	u32 i, old_nbuckets = w->nbuckets;
	unsigned long resched = 0;
	struct oh_weakref *wr, *tmp;

	if (oh_charge(&heap->alloc, nbuckets * sizeof(*new)))
		return -ENOMEM;
	new = kvmalloc_array(nbuckets, sizeof(*new),
			     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!new) {
		oh_uncharge(&heap->alloc, nbuckets * sizeof(*new));
		return -ENOMEM;
	}
	for (i = 0; i < nbuckets; i++)
		INIT_LIST_HEAD(&new[i]);
	w->buckets = new;
	w->nbuckets = nbuckets;

	/* In list order: a target's weak references stay oldest first. */
	for (i = 0; i < old_nbuckets; i++) {
		list_for_each_entry_safe(wr, tmp, &old[i], link) {
			list_move_tail(&wr->link, oh_weak_bucket(w, wr->target));
			oh_weak_resched(&resched);
		}
	}
	kvfree(old);
	oh_uncharge(&heap->alloc, old_nbuckets * sizeof(*old));
	return 0;
}

/* Make room for one more weak reference: only the first table can fail. */
static int oh_weak_reserve(struct objheap *heap)
{
	struct oh_weak *w = &heap->weak;

	if (!w->buckets)
		return oh_weak_resize(heap, OH_WEAK_MIN_BUCKETS);
	if (w->count >= w->nbuckets && w->nbuckets < OH_WEAK_MAX_BUCKETS)
		oh_weak_resize(heap, w->nbuckets * 2);
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

	kvfree(w->buckets);
	oh_uncharge(&heap->alloc, w->nbuckets * sizeof(*w->buckets));
	w->buckets = NULL;
	w->nbuckets = 0;
}

static void oh_weak_link(struct objheap *heap, struct oh_weakref *wr,
			 struct oh_object *target)
{
	wr->target = target;
	list_add_tail(&wr->link, oh_weak_bucket(&heap->weak, target));
	target->flags |= OH_OBJ_WEAKREFED;
	heap->weak.count++;
}

/* Whether @target still has a weak reference in the table. */
static bool oh_weak_any(struct objheap *heap, const struct oh_object *target)
{
	struct oh_weakref *wr;

	list_for_each_entry(wr, oh_weak_bucket(&heap->weak, target), link)
		if (wr->target == target)
			return true;
	return false;
}

/* Take @wr, not yet cleared, out of the table. */
static void oh_weak_unlink(struct objheap *heap, struct oh_weakref *wr)
{
	struct oh_object *target = wr->target;

	list_del_init(&wr->link);
	wr->target = NULL;
	heap->weak.count--;
	if (!oh_weak_any(heap, target))
		target->flags &= ~OH_OBJ_WEAKREFED;
}

/* The reason an event gives for a death happening now. */
static u32 oh_death_reason(struct objheap *heap)
{
	return heap->gc.collecting ? OBJHEAP_REASON_GC : OBJHEAP_REASON_REFCOUNT;
}

/*
 * @wr of @wobj was just cleared because @target dies: tell userspace if it
 * asked, and let a finalizer go.
 */
static void oh_weakref_fire(struct objheap *heap, struct oh_object *wobj,
			    struct oh_weakref *wr, struct oh_object *target)
{
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
	ev.handle = oh_handle(heap, wobj);
	ev.target_type = target->type;
	oh_event_queue(heap, &ev);
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
	struct list_head *bucket = oh_weak_bucket(&heap->weak, target);
	struct oh_weakref *wr, *tmp;
	unsigned long resched = 0;

	target->flags &= ~OH_OBJ_WEAKREFED;
	list_for_each_entry_safe(wr, tmp, bucket, link) {
		if (wr->target != target)
			continue;
		list_del_init(&wr->link);
		wr->target = NULL;
		heap->weak.count--;
		/* Frees at most the finalizer @wr, never @tmp. */
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
	struct oh_weakref *wr = oh_weakref(wobj);

	if (wr->target)
		oh_weak_unlink(heap, wr);
}

/**
 * oh_finalize_object() - PEP 442: hand an object to userspace, once.
 * @heap: The heap.
 * @obj: An object that would be freed now: its count just reached zero,
 *       or it is in an unreachable set.
 *
 * If @obj was created with OBJHEAP_OBJ_FINALIZE and has not been handed
 * out yet, it is flagged OBJHEAP_OBJ_FINALIZED and an
 * OBJHEAP_EVENT_FINALIZE is queued whose handle owns one new reference.
 * If the event cannot be queued (it is counted as lost) or the count is
 * full, @obj stays finalized but is not handed out.
 *
 * Context: The heap's lock is held; may sleep.
 * Return: true when @obj was handed out, and so has one more reference.
 */
bool oh_finalize_object(struct objheap *heap, struct oh_object *obj)
{
	struct objheap_event ev = {
		.type = OBJHEAP_EVENT_FINALIZE,
	};

	if (!oh_wants_finalize(obj))
		return false;
	obj->flags |= OBJHEAP_OBJ_FINALIZED;
	if (obj->refcnt >= OBJHEAP_REFCNT_MAX) {
		oh_event_lose(heap);
		return false;
	}
	ev.reason = oh_death_reason(heap);
	ev.handle = oh_handle(heap, obj);
	ev.target_type = obj->type;
	if (oh_event_queue(heap, &ev))
		return false;
	obj->refcnt++;
	obj->user_refs++;
	return true;
}

int objheap_cmd_weakref_new(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_object *target, *wobj;
	struct oh_weakref *wr;
	u32 flags = OBJHEAP_OBJ_WEAKREF;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	target = oh_get(ucmd, cmd->handle);
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
	wobj = oh_object_create(heap, 0, flags, 0, sizeof(*wr));
	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	wr = oh_weakref(wobj);
	INIT_LIST_HEAD(&wr->link);
	wr->target = NULL;
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
	wobj = oh_get(ucmd, cmd->handle);
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

	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	return oh_weakref_respond_target(ucmd, wobj);
}

int objheap_cmd_finalize_alive(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref *cmd = ucmd->cmd;
	struct oh_object *wobj = oh_get_weakref(ucmd, true);

	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	cmd->out_alive = !!oh_weakref(wobj)->target;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_finalize_detach(struct objheap_ucmd *ucmd)
{
	struct oh_object *wobj = oh_get_weakref(ucmd, true);
	struct oh_weakref *wr;
	int ret;

	if (IS_ERR(wobj))
		return PTR_ERR(wobj);
	wr = oh_weakref(wobj);
	ret = oh_weakref_respond_target(ucmd, wobj);
	if (ret || !wr->target)
		return ret;
	oh_weak_unlink(ucmd->heap, wr);
	oh_unref(ucmd->heap, wobj);	/* the heap's hold; may free it */
	return 0;
}

/* The target a list command names, with its fields checked. */
static struct oh_object *oh_get_weakref_target(struct objheap_ucmd *ucmd,
					       bool list)
{
	struct objheap_weakref_list *cmd = ucmd->cmd;

	if (!list && (cmd->count || cmd->buf_uptr))
		return ERR_PTR(-EINVAL);
	return oh_get(ucmd, cmd->handle);
}

static u32 oh_weak_count(struct objheap *heap, struct oh_object *target)
{
	unsigned long resched = 0;
	struct oh_weakref *wr;
	u32 n = 0;

	if (!(target->flags & OH_OBJ_WEAKREFED))
		return 0;
	list_for_each_entry(wr, oh_weak_bucket(&heap->weak, target), link) {
		if (wr->target == target)
			n++;
		oh_weak_resched(&resched);
	}
	return n;
}

int objheap_cmd_weakref_count(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref_list *cmd = ucmd->cmd;
	struct oh_object *target = oh_get_weakref_target(ucmd, false);

	if (IS_ERR(target))
		return PTR_ERR(target);
	cmd->out_count = oh_weak_count(ucmd->heap, target);
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

/* Give back the references the first @n handles of a list took. */
static void oh_weak_list_undo(struct objheap *heap, struct oh_object *target,
			      u32 n)
{
	struct oh_weakref *wr;

	list_for_each_entry(wr, oh_weak_bucket(&heap->weak, target), link) {
		if (!n)
			break;
		if (wr->target != target)
			continue;
		oh_unref_user_undo(oh_weakref_obj(wr));
		n--;
	}
}

int objheap_cmd_weakref_list(struct objheap_ucmd *ucmd)
{
	struct objheap_weakref_list *cmd = ucmd->cmd;
	struct oh_object *target = oh_get_weakref_target(ucmd, true);
	u64 __user *buf = u64_to_user_ptr(cmd->buf_uptr);
	struct objheap *heap = ucmd->heap;
	unsigned long resched = 0;
	struct oh_object *wobj;
	struct oh_weakref *wr;
	u32 n = 0;
	int ret;

	if (IS_ERR(target))
		return PTR_ERR(target);
	cmd->out_count = oh_weak_count(heap, target);
	if (cmd->out_count > cmd->count) {
		ret = objheap_ucmd_respond(ucmd, sizeof(*cmd));
		return ret ?: -EMSGSIZE;
	}
	if (!cmd->out_count)
		return objheap_ucmd_respond(ucmd, sizeof(*cmd));

	list_for_each_entry(wr, oh_weak_bucket(&heap->weak, target), link) {
		if (wr->target != target)
			continue;
		/* The handle first, then its reference: see kmod/object.c. */
		wobj = oh_weakref_obj(wr);
		ret = -EOVERFLOW;
		if (oh_ref_full(wobj))
			goto err_undo;
		ret = -EFAULT;
		if (put_user(oh_handle(heap, wobj), &buf[n]))
			goto err_undo;
		__oh_ref_user(wobj);
		n++;
		oh_weak_resched(&resched);
	}
	ret = objheap_ucmd_respond(ucmd, sizeof(*cmd));
	if (!ret)
		return 0;
err_undo:
	oh_weak_list_undo(heap, target, n);
	return ret;
}
