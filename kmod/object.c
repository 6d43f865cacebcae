// SPDX-License-Identifier: GPL-2.0
/*
 * Objects, handles and reference counts.
 *
 * An object is one block of the heap's allocator: a struct oh_object
 * header, then its slots, then its payload.  Userspace names it by a
 * handle, (generation << 32) | index, where index is the object's entry in
 * the table of the attachment that holds the handle, both masked with
 * that attachment's keys (kmod/attach.c).  A handle is never 0 and never
 * has bit 63 set (which OBJHEAP_BATCH_REF() uses).  When an object is
 * freed its entries' generations move on, so an old handle finds no
 * object even after the entry is reused; an entry whose generation is
 * spent is retired, never reused.
 *
 * References follow CPython: every handle returned owns one reference and
 * every non-empty slot owns one.  Unlike CPython, the kernel cannot trust
 * the owner of a reference to count right, so it keeps the references
 * each attachment owns apart, in its entry for the object, and refuses a
 * release the attachment does not own: whatever userspace does, no slot
 * can point to a freed object.
 * Counts are refused, never wrapped, at OBJHEAP_REFCNT_MAX.  Immortal
 * objects ignore reference counting altogether, as in PEP 683.
 *
 * Handing out objects and references.  A command that creates an object
 * or returns a new reference follows one rule, in the manner of iommufd's
 * object finalize/abort: the response goes to userspace first, and only a
 * response that arrived makes anything happen.
 *
 *  - A new object is built unpublished (oh_object_create()): no table
 *    entry, not tracked, no weak reference, no event can name it.  Every
 *    step that can fail runs while it is unpublished.  Then
 *    oh_respond_new() writes the handle the object is about to get and
 *    copies the response; if that fails the object is aborted
 *    (oh_object_abort()), which frees it without any of the death
 *    machinery (no finalization, no weak reference clearing, no event),
 *    since nothing could have seen it.  Only then is it published, which
 *    cannot fail.
 *
 *  - A new reference to an object that exists is checked first (the
 *    count is not full), then the response is copied, and only then is
 *    the reference counted (oh_respond_handle()): a failed copy leaves
 *    the count untouched.
 *
 *  - A command that writes several handles one by one (the list
 *    commands) cannot write them all before counting them.  It counts
 *    each reference right after writing its handle and, if a later write
 *    fails, gives the references back with oh_unref_user_undo(): each
 *    object was alive before the command, so its count falls back to
 *    what it was and nothing dies.
 *
 * Inside OBJHEAP_BATCH the response is written into the batch's kernel
 * copy, whose write-back cannot fail (kmod/batch.c).
 *
 * When a count reaches zero the object is freed along with everything
 * that only it kept alive.  That is a walk over an arbitrarily long chain,
 * so it is a loop over a work list linked through the dying containers'
 * @gc_link, with cond_resched() along the way, never recursion.  Objects
 * without slots cannot keep anything alive and are freed at once.
 *
 * An object created with OBJHEAP_OBJ_FINALIZE is not freed the first time
 * it would be: oh_finalize_object() hands it to userspace instead (PEP
 * 442), from here when its count reaches zero and from the collector
 * when it is found unreachable.
 *
 * Context: every function here runs with the heap's lock held (the
 * dispatcher takes it before any handler runs, and the entry points
 * assert it with lockdep_assert_held()), except oh_objects_init() and
 * oh_objects_destroy(), which run at open() and release(), when nothing
 * else can reach the heap.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "objheap.h"
#include "object.h"
#include "payload.h"
#include "tracing_inline.h"
#include "objheap_trace.h"

/* Objects freed between two cond_resched() calls. */
#define OH_RESCHED_EVERY 256

/*
 * Free @obj's own block, and its id if it has one of its own.  This and
 * oh_object_free_mem() are inline in every death: as calls they cost a
 * release about twenty instructions (make count).  An object whose shape
 * holds its sizes is in a pool's block, which is freed inline, in the
 * pool's size class (oh_gc_check() checks that it is its shape's).
 */
static __always_inline void oh_object_free_block(struct objheap *heap,
						 struct oh_object *obj)
{
	if (likely(obj->shape != OH_SHAPE_FAR)) {
		oh_free_pooled(&heap->alloc, obj);
		return;
	}
	if (oh_far(obj)->id & OH_ID_LARGE)
		oh_alloc_large_id_free(&heap->alloc, oh_far(obj)->id);
	oh_free(&heap->alloc, oh_object_block(obj), oh_object_bytes(obj));
}

/* Free an object's memory: its payload's pages, its body, its block. */
static __always_inline void oh_object_free_mem(struct objheap *heap,
					       struct oh_object *obj)
{
	struct oh_outline *out;

	if (unlikely(obj->flags & OH_OBJ_TRACED))
		oh_tracing_del(heap, obj);
	/* Tested here: the call alone costs a death 20 instructions. */
	if (oh_mappable(obj))
		oh_payload_free(heap, obj);
	if (oh_resizable(obj)) {
		out = oh_outline(obj);
		if (out->capacity)
			oh_free(&heap->alloc, out->body, out->capacity);
	}
	oh_object_free_block(heap, obj);
}

int oh_objects_init(struct objheap *heap)
{
	oh_intern_init(heap);
	return oh_gc_init(heap);
}

/**
 * oh_handle() - The handle of an object in an attachment that has one.
 * @att: The attachment.
 * @obj: The object, for which @att has an entry.
 *
 * Return: The handle; it owns no reference by itself.
 */
u64 oh_handle(struct oh_attach *att, const struct oh_object *obj)
{
	u32 index = oh_entry_find(att, obj);

	lockdep_assert_held(&att->heap->lock);

	if (WARN_ON_ONCE(index == OH_NO_INDEX))
		return 0;
	return oh_entry_handle(att, index);
}

/*
 * oh_lookup_entry(), inline in the commands of this file that programs run
 * most: the call cost DUP and RELEASE about 20 instructions each (make
 * count).  The object goes to *@objp and the error apart from it, so that
 * the caller does not test the pointer for an error the table never holds.
 */
static __always_inline int __oh_lookup_entry(struct objheap_ucmd *ucmd,
					     u64 handle,
					     struct oh_object **objp,
					     u32 *indexp)
{
	lockdep_assert_held(&ucmd->heap->lock);

	if (unlikely(handle & OBJHEAP_HANDLE_BATCH_BIT)) {
		handle = objheap_batch_ref(ucmd, handle);
		if (!handle)
			return -EINVAL;
	}
	*objp = oh_table_lookup(ucmd->att, handle, indexp);
	return *objp ? 0 : -ENOENT;
}

/**
 * oh_lookup_entry() - Find the object a handle of a command names.
 * @ucmd: The command, for OBJHEAP_BATCH_REF() handles inside a batch.
 * @handle: The handle.
 * @indexp: Where to put the handle's entry in the caller's attachment,
 *          or NULL.
 *
 * Return: The object (no reference is taken), ERR_PTR(-ENOENT) when the
 * handle names no live object, or ERR_PTR(-EINVAL) for a batch reference
 * that names no earlier, successful entry.
 */
struct oh_object *oh_lookup_entry(struct objheap_ucmd *ucmd, u64 handle,
				  u32 *indexp)
{
	struct oh_object *obj;
	int ret;

	ret = __oh_lookup_entry(ucmd, handle, &obj, indexp);
	return ret ? ERR_PTR(ret) : obj;
}

/**
 * oh_lookup() - oh_lookup_entry() without the entry.
 * @ucmd: The command.
 * @handle: The handle.
 *
 * Return: As oh_lookup_entry().
 */
struct oh_object *oh_lookup(struct objheap_ucmd *ucmd, u64 handle)
{
	return oh_lookup_entry(ucmd, handle, NULL);
}

/*
 * oh_object_create(), inline in OBJHEAP_NEW's creation (see below).  A
 * @plain_size the caller gives is the block of a plain object
 * (oh_new_plain_size()), and the tests for what it is not fold away.
 */
static __always_inline struct oh_object *
__oh_object_create(struct oh_attach *att, u32 type, u32 flags, u32 nslots,
		   u32 data_len, u64 tag, size_t plain_size)
{
	const bool plain = plain_size;
	struct objheap *heap = att->heap;
	struct oh_outline *out;
	struct oh_object *obj;
	struct oh_far *far;
	size_t need, size;
	void *block;
	int ret;

	lockdep_assert_held(&heap->lock);

	ret = oh_table_reserve(att);
	if (ret)
		return ERR_PTR(ret);
	/* A traced large object keeps its trace word at its block's end. */
	if (!plain && unlikely(heap->tracing.sample_every) &&
	    oh_object_size(flags, nslots, data_len) > OH_SMALL_MAX)
		flags |= OH_OBJ_TRACE_WORD;
	size = plain ? plain_size : oh_object_size(flags, nslots, data_len);
	block = __oh_alloc(&heap->alloc, size);
	if (!block)
		return ERR_PTR(-ENOMEM);
	obj = block;
	obj->flags = flags;
	if (plain ||
	    (size <= OH_SMALL_MAX && !oh_shape_far(flags, nslots, data_len, 0))) {
		obj->shape = OH_SHAPE(nslots, data_len);
	} else {
		far = block;
		obj = (struct oh_object *)(far + 1);
		obj->flags = flags;
		obj->shape = OH_SHAPE_FAR;
		far->nslots = nslots;
		far->data_len = data_len;
		far->__pad = 0;
		far->id = 0;
		if (size <= OH_SMALL_MAX)
			far->id = oh_alloc_small_id(obj);
		else if (oh_tracked(obj))
			ret = oh_alloc_large_id(&heap->alloc, obj, &far->id);
		if (ret) {
			oh_free(&heap->alloc, block, size);
			return ERR_PTR(ret);
		}
	}

	if (!plain && oh_resizable(obj)) {
		out = oh_outline(obj);
		need = nslots * sizeof(struct oh_object *) +
		       (oh_mappable(obj) ? sizeof(struct oh_pages *) :
					   data_len);
		out->capacity = round_up(need, OH_ALIGN);
		out->__pad = 0;
		out->body = NULL;
		if (out->capacity) {
			out->body = oh_alloc(&heap->alloc, out->capacity);
			if (!out->body) {
				oh_object_free_block(heap, obj);
				return ERR_PTR(-ENOMEM);
			}
		}
	}
	if (!plain && oh_mappable(obj))
		*(struct oh_pages **)oh_data(obj) = NULL;

	obj->gc_link.next = 0;
	obj->gc_link.prev = 0;
	obj->refcnt = 1;
	obj->home = 0;
	obj->type = type;
	obj->index = OH_NO_INDEX;
	obj->gc_refs = 0;
	oh_zero(plain ? obj->inline_slots : oh_slots(obj),
		nslots * sizeof(struct oh_object *));

	ret = !plain && unlikely(heap->tracing.sample_every) ?
	      oh_tracing_add(heap, obj, tag, att->id) : 0;
	if (unlikely(ret)) {
		if (oh_resizable(obj) && oh_outline(obj)->capacity)
			oh_free(&heap->alloc, oh_outline(obj)->body,
				oh_outline(obj)->capacity);
		oh_object_free_block(heap, obj);
		return ERR_PTR(ret);
	}
	return obj;
}

/**
 * oh_object_create() - Allocate an object, not yet visible to userspace.
 * @att: The attachment creating it.
 * @type: Its type tag.
 * @flags: OBJHEAP_OBJ_* flags.
 * @nslots: Its number of slots, all empty.
 * @data_len: Its payload size; the payload is not initialized (see
 *            oh_payload_init()).
 * @tag: Its allocation tag, should the heap trace it (kmod/tracing.c).
 *
 * The object has one reference, for the handle it will get in @att.  It
 * must be finished with oh_respond_new(), or undone with
 * oh_object_abort(); in between, @att must not take another entry, so
 * that the one reserved here, whose handle oh_respond_new() tells
 * before it publishes the object, stays the first free one.
 *
 * OBJHEAP_NEW has it inline (__oh_object_create()), which spares its
 * creations a call's saves and restores of registers.
 *
 * Return: The object, or an ERR_PTR(): -ENOMEM when out of memory or over
 * the heap's limit.
 */
struct oh_object *oh_object_create(struct oh_attach *att, u32 type, u32 flags,
				   u32 nslots, u32 data_len, u64 tag)
{
	return __oh_object_create(att, type, flags, nslots, data_len, tag, 0);
}

/*
 * The objheap_obj_new and objheap_obj_free events, out of line: with the
 * tracepoints inline, the compiler read their arguments before the test
 * of whether they are enabled, a dozen instructions in every creation
 * and every death (make count).
 */
static noinline void oh_trace_obj_new(struct oh_attach *att,
				      struct oh_object *obj, u64 handle)
{
	trace_objheap_obj_new(att->heap->id, att->id, handle, obj->type,
			      obj->flags & OH_OBJ_UAPI_FLAGS, oh_nslots(obj),
			      oh_payload_len(obj));
}

static noinline void oh_trace_obj_free(struct objheap *heap,
				       struct oh_object *obj)
{
	trace_objheap_obj_free(heap->id, obj->type, oh_nslots(obj),
			       oh_payload_len(obj), oh_death_reason(heap));
}

/**
 * oh_object_publish() - Give a created object its handle in @att.
 * @att: The attachment that created it, which becomes its home.
 * @obj: From oh_object_create().
 * @e: @att's first free entry, which @obj takes.
 * @index: Its index.
 * @handle: The entry's handle, which owns @obj's one reference; the
 *          response told it already.
 * @tracked: oh_tracked(@obj).
 * @plain: @obj is plain (oh_new_plain_size()), so its shape holds its
 *         sizes.
 *
 * The entry, its handle and whether the collector tracks @obj are taken
 * from the caller, not worked out again: each lookup of the entry is ten
 * instructions, and the test of @obj's shape and flags nine.
 */
static __always_inline void oh_object_publish(struct oh_attach *att,
					      struct oh_object *obj,
					      struct oh_entry *e, u32 index,
					      u64 handle, bool tracked,
					      bool plain)
{
	struct objheap *heap = att->heap;

	lockdep_assert_held(&heap->lock);

	__oh_table_take(att, e, obj, 1);
	obj->home = att->home;
	obj->index = index;
	att->refs++;
	att->created++;
	heap->nr_objects++;
	if (tracked)
		oh_gc_track(heap, obj, plain || obj->shape != OH_SHAPE_FAR);
	if (trace_objheap_obj_new_enabled())
		oh_trace_obj_new(att, obj, handle);
}

/* oh_ref(), inline where a creation fills its slots. */
static __always_inline int __oh_ref(struct objheap *heap,
				    struct oh_object *obj)
{
	if (oh_ref_full(obj))
		return -EOVERFLOW;
	if (!oh_immortal(obj)) {
		obj->refcnt++;
		oh_gc_shade(heap, obj);
	}
	return 0;
}

/**
 * oh_ref() - Take a reference for a slot (or the collector's garbage list).
 * @heap: The heap.
 * @obj: The object.
 *
 * Return: 0, or -EOVERFLOW when the count is at OBJHEAP_REFCNT_MAX.
 */
int oh_ref(struct objheap *heap, struct oh_object *obj)
{
	return __oh_ref(heap, obj);
}

/* __oh_ref_user(), inline in the commands that return handles. */
static __always_inline void oh_ref_user_entry(struct oh_attach *att, u32 index)
{
	struct oh_entry *e = oh_table_entry(&att->table, index);

	if (oh_immortal(e->obj) || WARN_ON_ONCE(oh_ref_full(e->obj)))
		return;
	e->obj->refcnt++;
	oh_gc_shade(att->heap, e->obj);
	e->refs++;
	att->refs++;
}

/**
 * __oh_ref_user() - Count a reference for a handle userspace now holds.
 * @att: The attachment holding it.
 * @index: Its entry for the object; oh_ref_full() was false for the object
 *         under the same hold of the heap's lock, so this cannot fail.
 */
void __oh_ref_user(struct oh_attach *att, u32 index)
{
	oh_ref_user_entry(att, index);
}

/**
 * oh_unref_user_undo() - Give back a user reference the running command
 *                        took on an object that was alive before it.
 * @att: The attachment the command runs in.
 * @obj: The object.
 *
 * The count falls back to what it was before the command, never to zero,
 * so nothing dies and no death machinery runs.
 */
void oh_unref_user_undo(struct oh_attach *att, struct oh_object *obj)
{
	u32 index = oh_entry_find(att, obj);
	struct oh_entry *e;

	if (oh_immortal(obj) || WARN_ON_ONCE(index == OH_NO_INDEX))
		return;
	e = oh_table_entry(&att->table, index);
	if (WARN_ON_ONCE(obj->refcnt < 2 || !e->refs))
		return;
	obj->refcnt--;
	e->refs--;
	att->refs--;
}

/*
 * oh_object_free(), inline in the walk of a death (oh_dealloc()).  With
 * @counted, the collector has counted the object's freeing already: the
 * walk took it out with oh_gc_untrack(), or a collection freeing its
 * garbage counted it (oh_object_free_counted()).
 */
static __always_inline void __oh_object_free(struct objheap *heap,
					     struct oh_object *obj,
					     bool counted)
{
	lockdep_assert_held(&heap->lock);

	if (trace_objheap_obj_free_enabled())
		oh_trace_obj_free(heap, obj);
	if (obj->flags & OH_OBJ_WEAKREFED)
		oh_weak_clear(heap, obj);
	if (oh_is_weakref(obj))
		oh_weakref_free(heap, obj);
	if (obj->flags & OBJHEAP_OBJ_INTERNED)
		oh_intern_del(heap, obj);
	else if (!counted && oh_tracked(obj))
		oh_gc_count_free(heap, obj);
	oh_handles_forget(heap, obj);
	heap->nr_objects--;
	oh_object_free_mem(heap, obj);
}

/**
 * oh_object_free() - Free an object nothing refers to.
 * @heap: The heap.
 * @obj: The object: its count is zero, it is on no list, and its slots
 *       hold nothing (or the caller has already dropped what they hold).
 *
 * Frees its memory and its handles in every attachment.  Its weak
 * references are cleared first, so that none is left pointing to freed
 * memory.
 */
void oh_object_free(struct objheap *heap, struct oh_object *obj)
{
	__oh_object_free(heap, obj, false);
}

/**
 * oh_object_free_counted() - oh_object_free() of a tracked object whose
 *                            freeing the collector has counted.
 * @heap: The heap.
 * @obj: The object, off the collector's lists, its count zero.
 *
 * A collection freeing its garbage counts each object inline, a call
 * fewer per object found.
 */
void oh_object_free_counted(struct objheap *heap, struct oh_object *obj)
{
	__oh_object_free(heap, obj, true);
}

/**
 * oh_finalize_object() - PEP 442: hand an object to userspace, once.
 * @heap: The heap.
 * @obj: An object that would be freed now: its count just reached zero,
 *       or it is in an unreachable set.
 *
 * If @obj was created with OBJHEAP_OBJ_FINALIZE and has not been handed
 * out yet, it is flagged OBJHEAP_OBJ_FINALIZED and an
 * OBJHEAP_EVENT_FINALIZE is queued to its home, the attachment that made
 * it, whose handle owns one new reference there.  If the event cannot be
 * queued (it is counted as lost), the count is full or the home is
 * leaving, @obj stays finalized but is not handed out.
 *
 * Context: The heap's lock is held; may sleep.
 * Return: true when @obj was handed out, and so has one more reference.
 */
bool oh_finalize_object(struct objheap *heap, struct oh_object *obj)
{
	struct objheap_event ev = {
		.type = OBJHEAP_EVENT_FINALIZE,
	};
	struct oh_attach *home;

	lockdep_assert_held(&heap->lock);

	if (!oh_wants_finalize(obj))
		return false;
	obj->flags |= OBJHEAP_OBJ_FINALIZED;
	home = oh_home(heap, obj);
	if (!home || home->closing)
		return false;
	if (obj->refcnt >= OBJHEAP_REFCNT_MAX) {
		oh_event_lose(home);
		return false;
	}
	ev.reason = oh_death_reason(heap);
	ev.handle = oh_entry_handle(home, obj->index);
	ev.target_type = obj->type;
	if (oh_event_queue(home, &ev))
		return false;
	__oh_ref_user(home, obj->index);
	return true;
}

/*
 * Whether @obj, whose count just reached zero, lives on: handed to
 * userspace for PEP 442 finalization, or held by its mappings.  If not, it
 * is to be freed now, and nothing can bring it back.
 */
static bool oh_spared(struct objheap *heap, struct oh_object *obj)
{
	if (oh_wants_finalize(obj) && oh_finalize_object(heap, obj))
		return true;
	return oh_mappable(obj) && oh_pages_spare(obj);
}

/*
 * Free @obj, whose count just reached zero, and everything that only it
 * kept alive.  A tracked object that dies waits in a queue, linked
 * through the @next of its gc_link (it leaves the collector's list for
 * it), until its slots are dropped: the walk is a loop, however deep the
 * graph.  An object that asked for PEP 442 finalization is handed to
 * userspace instead, once.
 */
static void oh_dealloc(struct objheap *heap, struct oh_object *obj)
{
	struct oh_alloc *a = &heap->alloc;
	struct oh_object *child, **slots, *last;
	unsigned int freed = 0;
	u32 i, n;

	if (!oh_tracked(obj)) {
		oh_object_free(heap, obj);
		return;
	}
	oh_gc_untrack(heap, obj);
	last = obj;
	while (obj) {
		slots = oh_slots(obj);
		/* Read once: the counts' stores could alias the shape. */
		n = oh_nslots(obj);
		for (i = 0; i < n; i++) {
			child = slots[i];
			if (!child || oh_immortal(child))
				continue;
			if (--child->refcnt) {
				oh_gc_dropped(&heap->gc);
				continue;
			}
			if (oh_spared(heap, child))
				continue;
			if (oh_tracked(child)) {
				oh_gc_untrack(heap, child);
				last->gc_link.next = oh_obj_id(child);
				last = child;
			} else {
				oh_object_free(heap, child);
			}
		}
		child = obj == last ? NULL : oh_obj_at(a, obj->gc_link.next);
		__oh_object_free(heap, obj, true);
		obj = child;
		if (!(++freed % OH_RESCHED_EVERY))
			cond_resched();
	}
}

/* A last reference dropped: free @obj, unless it is spared. */
static noinline void oh_unref_last(struct objheap *heap, struct oh_object *obj)
{
	if (!oh_spared(heap, obj))
		oh_dealloc(heap, obj);
}

/* oh_unref(), inline in RELEASE and SET_SLOT. */
static __always_inline void __oh_unref(struct objheap *heap,
				       struct oh_object *obj)
{
	lockdep_assert_held(&heap->lock);

	if (oh_immortal(obj))
		return;
	if (--obj->refcnt)
		oh_gc_dropped(&heap->gc);
	else
		oh_unref_last(heap, obj);
}

/**
 * oh_unref() - Drop a reference oh_ref() took.
 * @heap: The heap.
 * @obj: The object; it is freed, with what only it held, if that was the
 *       last reference.
 */
void oh_unref(struct objheap *heap, struct oh_object *obj)
{
	__oh_unref(heap, obj);
}

/*
 * Give back a reference @att owns through entry @index; with @forget
 * (OBJHEAP_RELEASE_FORGET, see the uapi header for what keeps its entry)
 * the entry goes too when it owned the last.
 */
static __always_inline int oh_release_entry(struct oh_attach *att, u32 index,
					    bool forget)
{
	struct oh_entry *e = oh_table_entry(&att->table, index);
	struct oh_object *obj = e->obj;

	lockdep_assert_held(&att->heap->lock);

	if (oh_immortal(obj))
		return 0;
	if (!e->refs)
		return -EINVAL;
	e->refs--;
	att->refs--;
	/* The reference given back still holds @obj while its entry goes. */
	if (forget && !e->refs &&
	    !(obj->home == att->home &&
	      (obj->flags & (OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_WEAKREF))))
		__oh_entry_forget(att, obj, e, index);
	__oh_unref(att->heap, obj);
	return 0;
}

/**
 * oh_unref_user() - Give back a reference an attachment owns.
 * @att: The attachment.
 * @index: Its entry for the object, which may be freed.
 *
 * Return: 0, or -EINVAL when @att owns no reference through the entry.
 */
int oh_unref_user(struct oh_attach *att, u32 index)
{
	return oh_release_entry(att, index, false);
}

/**
 * oh_object_abort() - Undo oh_object_create() and the slots filled since.
 * @heap: The heap.
 * @obj: The unpublished object.
 *
 * Nothing could see @obj, so it is freed without the death machinery:
 * it has no weak reference to clear, no finalization and no event.
 */
void oh_object_abort(struct objheap *heap, struct oh_object *obj)
{
	struct oh_object *target, **slots = oh_slots(obj);
	u32 i;

	lockdep_assert_held(&heap->lock);

	/* Each target was alive before the slot's reference: none dies. */
	for (i = 0; i < oh_nslots(obj); i++) {
		target = slots[i];
		if (target && !oh_immortal(target) &&
		    !WARN_ON_ONCE(target->refcnt < 2))
			target->refcnt--;
	}
	oh_object_free_mem(heap, obj);
}

/**
 * oh_objects_destroy() - Forget every object of a heap being freed.
 * @heap: The heap, which nothing can reach any more.
 *
 * Reference counts no longer matter and no object is freed one by one:
 * every object is a block of the heap's allocator, which frees its arenas
 * whole (oh_alloc_destroy()).  Only the tables that point to objects go
 * here.
 */
void oh_objects_destroy(struct objheap *heap)
{
	oh_intern_destroy(heap);
	oh_names_destroy(heap);
	oh_gc_destroy(heap);
}

/*
 * Fill a new object's slots from the handles at @slots_uptr, not 0; each
 * slot given owns a reference.  On failure the caller aborts @obj, which
 * gives back the references taken.
 */
static int oh_fill_slots(struct objheap_ucmd *ucmd, struct oh_object *obj,
			 u64 slots_uptr)
{
	u64 __user *uslots = u64_to_user_ptr(slots_uptr);
	struct oh_object *target;
	u64 handle;
	u32 i;
	int ret;

	for (i = 0; i < oh_nslots(obj); i++) {
		if (get_user(handle, &uslots[i]))
			return -EFAULT;
		if (!handle)
			continue;
		ret = __oh_lookup_entry(ucmd, handle, &target, NULL);
		if (ret)
			return ret;
		ret = __oh_ref(ucmd->heap, target);
		if (ret)
			return ret;
		oh_slots(obj)[i] = target;
	}
	return 0;
}

/* oh_respond_handle(), inline in DUP and GET_SLOT. */
static __always_inline int __oh_respond_handle(struct objheap_ucmd *ucmd,
					       struct oh_object *obj,
					       u64 *out_handle, size_t cmd_len)
{
	u32 index = OH_NO_INDEX;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (obj) {
		if (oh_ref_full(obj))
			return -EOVERFLOW;
		/* oh_entry_get()'s commonest case, inline. */
		if (obj->home == ucmd->att->home) {
			index = obj->index;
		} else {
			ret = oh_entry_get(ucmd->att, obj, &index);
			if (ret)
				return ret;
		}
	}
	*out_handle = obj ? oh_entry_handle(ucmd->att, index) : 0;
	ucmd->out_handle = *out_handle;
	ret = objheap_ucmd_respond(ucmd, cmd_len);
	if (!ret && obj)
		oh_ref_user_entry(ucmd->att, index);
	return ret;
}

/**
 * oh_respond_handle() - Return a new reference to an existing object.
 * @ucmd: The command.
 * @obj: The object, or NULL for no object (handle 0).
 * @out_handle: The command's out_handle field.
 * @cmd_len: The size of the command's structure.
 *
 * Writes the handle to @out_handle, remembers it for later entries of a
 * batch, and copies the structure back; only when that succeeded is the
 * handle's reference counted.  The creation rule: see the top of this
 * file.
 *
 * Return: 0; -EOVERFLOW when @obj's count is full, -ENOMEM when the
 * attachment has no entry for @obj and cannot make one, or -EFAULT, all
 * with no reference taken (the attachment may keep a new entry for @obj,
 * which holds none).
 */
int oh_respond_handle(struct objheap_ucmd *ucmd, struct oh_object *obj,
		      u64 *out_handle, size_t cmd_len)
{
	return __oh_respond_handle(ucmd, obj, out_handle, cmd_len);
}

/* Objects a list walk handles between two cond_resched() calls. */
#define OH_LIST_RESCHED_EVERY 1024

/**
 * oh_list_resched() - Reschedule now and then during a list walk.
 * @l: The walk.
 *
 * The counting and writing passes also stop, with -EINTR in @l->err,
 * when the task is killed; the undo pass must finish.
 */
void oh_list_resched(struct oh_lister *l)
{
	if (++l->resched % OH_LIST_RESCHED_EVERY)
		return;
	cond_resched();
	if (l->pass != OH_LIST_UNDO && !l->err && fatal_signal_pending(current))
		l->err = -EINTR;
}

/**
 * oh_list_add() - The next object of a list walk.
 * @l: The walk.
 * @obj: The object.
 *
 * Counts it, writes its handle with a new reference (-EOVERFLOW, -ENOMEM
 * or -EFAULT in @l->err if that fails, with no reference taken), or gives
 * back the reference the writing pass took, according to the pass.
 */
void oh_list_add(struct oh_lister *l, struct oh_object *obj)
{
	u32 index;

	if (l->err)
		return;
	switch (l->pass) {
	case OH_LIST_COUNT:
		break;
	case OH_LIST_EMIT:
		/* The creation rule: write the handle, then count it. */
		if (oh_ref_full(obj))
			l->err = -EOVERFLOW;
		else
			l->err = oh_entry_get(l->att, obj, &index);
		if (l->err)
			break;
		if (put_user(oh_entry_handle(l->att, index), &l->buf[l->n]))
			l->err = -EFAULT;
		else
			__oh_ref_user(l->att, index);
		break;
	case OH_LIST_UNDO:
		/* Each was alive before the command: none dies. */
		if (l->n < l->done)
			oh_unref_user_undo(l->att, obj);
		break;
	}
	if (!l->err)
		l->n++;
	oh_list_resched(l);
}

/**
 * oh_list_count() - Count what a list walk lists.
 * @heap: The heap.
 * @walk: The walk.
 * @arg: Its argument.
 * @countp: The count.
 *
 * Return: 0, or -EINTR when the task was killed.
 */
int oh_list_count(struct objheap *heap, oh_list_walk_fn walk, const void *arg,
		  u32 *countp)
{
	struct oh_lister l = { .heap = heap };

	lockdep_assert_held(&heap->lock);

	walk(&l, arg);
	*countp = l.n;
	return l.err;
}

/**
 * oh_list_handles() - List objects to userspace, each with a reference.
 * @ucmd: The command.
 * @walk: The walk over the objects to list.
 * @arg: Its argument.
 * @buf_uptr: The user buffer of handles.
 * @count: Handles it has room for.
 * @out_count: The command's out_count field: the objects listed.
 * @cmd_len: The size of the command's structure.
 *
 * The protocol of every list command: a first walk counts; if the list
 * does not fit, the structure goes back with the count and the command
 * fails with EMSGSIZE.  A second walk writes each object's handle and
 * takes a reference for it.  If that fails part-way (a count is full, the
 * buffer faults, the task is killed) or the structure cannot be copied
 * back, a third walk gives back every reference taken: userspace either
 * gets all the handles, each owning a reference, or none.  The heap's
 * lock is held throughout, so the three walks see the same sequence.
 *
 * Return: 0, -EMSGSIZE, -EOVERFLOW, -ENOMEM, -EFAULT or -EINTR.
 */
int oh_list_handles(struct objheap_ucmd *ucmd, oh_list_walk_fn walk,
		    const void *arg, u64 buf_uptr, u32 count, u32 *out_count,
		    size_t cmd_len)
{
	struct oh_lister l = {
		.heap = ucmd->heap,
		.att = ucmd->att,
		.buf = u64_to_user_ptr(buf_uptr),
	};
	int ret;

	ret = oh_list_count(ucmd->heap, walk, arg, out_count);
	if (ret)
		return ret;
	if (*out_count > count) {
		ret = objheap_ucmd_respond(ucmd, cmd_len);
		return ret ?: -EMSGSIZE;
	}

	l.pass = OH_LIST_EMIT;
	walk(&l, arg);
	if (!l.err) {
		l.err = objheap_ucmd_respond(ucmd, cmd_len);
		if (!l.err)
			return 0;
	}
	ret = l.err;
	l.pass = OH_LIST_UNDO;
	l.done = l.n;
	l.n = 0;
	l.err = 0;
	walk(&l, arg);
	return ret;
}

/* oh_respond_new(), inline in OBJHEAP_NEW's creation. */
static __always_inline int __oh_respond_new(struct objheap_ucmd *ucmd,
					    struct oh_object *obj,
					    u64 *out_handle, size_t cmd_len,
					    bool tracked, bool plain)
{
	struct oh_attach *att = ucmd->att;
	u32 index = att->table.free_head;
	struct oh_entry *e = oh_table_entry(&att->table, index);
	int ret;

	*out_handle = __oh_entry_handle(att, e, index);
	ucmd->out_handle = *out_handle;
	ret = objheap_ucmd_respond(ucmd, cmd_len);
	if (ret) {
		oh_object_abort(ucmd->heap, obj);
		return ret;
	}
	oh_object_publish(att, obj, e, index, *out_handle, tracked, plain);
	return 0;
}

/**
 * oh_respond_new() - Hand a created object to userspace, or abort it.
 * @ucmd: The command.
 * @obj: From oh_object_create(), with every step that can fail done.
 * @out_handle: The command's out_handle field.
 * @cmd_len: The size of the command's structure.
 *
 * Writes the handle @obj is about to get to @out_handle, remembers it for
 * later entries of a batch and copies the structure back.  Only when that
 * succeeded is @obj published, with its one reference userspace's; if it
 * failed, @obj is aborted, unseen.  The creation rule: see the top of
 * this file.
 *
 * Return: 0, or -EFAULT with @obj freed.
 */
int oh_respond_new(struct objheap_ucmd *ucmd, struct oh_object *obj,
		   u64 *out_handle, size_t cmd_len)
{
	return __oh_respond_new(ucmd, obj, out_handle, cmd_len,
				oh_tracked(obj), false);
}

/*
 * OBJHEAP_NEW's object is plain when its block is in a pool, it is neither
 * resizable nor mappable, and the heap traces nothing.  Most objects are;
 * their creation is an instance of oh_new() in which the tests for
 * anything else fold away (28 instructions of a batched creation, make
 * count).  A plain block is the header, the slots and the payload, and
 * its shape holds both sizes: no block of a pool has room for more
 * (below).  The command's flags are the uapi's (the dispatcher checked
 * them), so none asks for a trace word either.
 *
 * Return: The plain object's block size, which the creation then need not
 * work out again, or 0 for any other object.
 */
static_assert((OH_SMALL_MAX - sizeof(struct oh_object)) /
	      sizeof(struct oh_object *) < OH_SHAPE_SLOTS &&
	      OH_SMALL_MAX - sizeof(struct oh_object) < OH_SHAPE_BYTES);

static inline size_t oh_new_plain_size(const struct objheap *heap, u32 flags,
				       u32 nslots, u32 data_len)
{
	/* Both sizes were checked against their uapi bounds: no wrap. */
	size_t size = struct_size((struct oh_object *)NULL, inline_slots,
				  nslots) + data_len;

	if ((flags & (OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_MAPPABLE)) ||
	    size > OH_SMALL_MAX || heap->tracing.sample_every)
		return 0;
	return size;
}

static __always_inline int oh_new(struct objheap_ucmd *ucmd, u32 flags,
				  u32 nslots, u32 data_len, size_t plain_size)
{
	const bool plain = plain_size;
	struct objheap_new *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_object *obj;
	bool tracked;
	int ret;

	obj = __oh_object_create(ucmd->att, cmd->type, flags, nslots,
				 data_len, cmd->tag, plain_size);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (cmd->data_uptr || (!plain && oh_mappable(obj))) {
		ret = oh_payload_init(heap, obj, cmd->data_uptr);
		if (ret)
			goto err_abort;
	} else if (plain) {
		oh_zero(obj->inline_slots + nslots, data_len);
	} else {
		/* oh_payload_init()'s commonest case, inline. */
		oh_zero(oh_data(obj), oh_data_len(obj));
	}
	if (cmd->slots_uptr) {
		ret = oh_fill_slots(ucmd, obj, cmd->slots_uptr);
		if (ret)
			goto err_abort;
	}

	tracked = plain ? oh_tracked_as(flags, nslots) : oh_tracked(obj);
	ret = __oh_respond_new(ucmd, obj, &cmd->out_handle, sizeof(*cmd),
			       tracked, plain);
	if (ret)
		return ret;
	if (tracked)
		oh_gc_maybe_collect(heap);
	return 0;

err_abort:
	oh_object_abort(heap, obj);
	return ret;
}

/*
 * Any object, out of line so that the plain one's registers stay its own.
 * A failed creation changed nothing, so it may run again once a
 * collection made room (DOC: The cycle collector).  With @retry, the
 * caller's try failed with -ENOMEM already.
 */
static noinline int oh_new_any(struct objheap_ucmd *ucmd, u32 flags,
			       u32 nslots, u32 data_len, bool retry)
{
	int ret;

	if (!retry) {
		ret = oh_new(ucmd, flags, nslots, data_len, 0);
		if (ret != -ENOMEM)
			return ret;
	}
	if (!oh_gc_collect_for_limit(ucmd->heap))
		return -ENOMEM;
	return oh_new(ucmd, flags, nslots, data_len, 0);
}

int objheap_cmd_new(struct objheap_ucmd *ucmd)
{
	struct objheap_new *cmd = ucmd->cmd;
	u32 flags = cmd->flags, nslots = cmd->nslots, data_len = cmd->data_len;
	size_t plain_size;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	if (nslots > OBJHEAP_MAX_SLOTS || data_len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	ucmd->heap->alloc.limit_refused = false;
	/*
	 * The tracer's sampling, the one thing besides the command that
	 * makes an object not plain, cannot change before the creation: the
	 * lock is held.  A retry after a collection takes the general way.
	 */
	plain_size = oh_new_plain_size(ucmd->heap, flags, nslots, data_len);
	if (!plain_size)
		return oh_new_any(ucmd, flags, nslots, data_len, false);
	ret = oh_new(ucmd, flags, nslots, data_len, plain_size);
	if (unlikely(ret == -ENOMEM))
		return oh_new_any(ucmd, flags, nslots, data_len, true);
	return ret;
}

int objheap_cmd_dup(struct objheap_ucmd *ucmd)
{
	struct objheap_handle_cmd *cmd = ucmd->cmd;
	struct oh_object *obj;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	ret = __oh_lookup_entry(ucmd, cmd->handle, &obj, NULL);
	if (ret)
		return ret;
	return __oh_respond_handle(ucmd, obj, &cmd->out_handle, sizeof(*cmd));
}

int objheap_cmd_release(struct objheap_ucmd *ucmd)
{
	struct objheap_handle_cmd *cmd = ucmd->cmd;
	struct oh_object *obj;
	u32 index;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	ret = __oh_lookup_entry(ucmd, cmd->handle, &obj, &index);
	if (ret)
		return ret;
	return oh_release_entry(ucmd->att, index,
				cmd->flags & OBJHEAP_RELEASE_FORGET);
}

/*
 * The object a slot command names, in *@objp, and where its slot is, in
 * *@slotp, checked; inline (14 a SET_SLOT).
 */
static __always_inline int oh_get_slot_owner(struct objheap_ucmd *ucmd,
					     struct objheap_slot *cmd,
					     struct oh_object **objp,
					     struct oh_object ***slotp)
{
	u32 nslots;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	ret = __oh_lookup_entry(ucmd, cmd->handle, objp, NULL);
	if (ret)
		return ret;
	nslots = oh_nslots(*objp);
	if (cmd->index >= nslots)
		return -EINVAL;
	*slotp = &oh_slots(*objp)[array_index_nospec(cmd->index, nslots)];
	return 0;
}

int objheap_cmd_set_slot(struct objheap_ucmd *ucmd)
{
	struct objheap_slot *cmd = ucmd->cmd;
	struct oh_object *obj, *target = NULL, *old, **slot;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	ret = oh_get_slot_owner(ucmd, cmd, &obj, &slot);
	if (ret)
		return ret;
	if (oh_immutable(obj))
		return -EPERM;
	if (cmd->target) {
		ret = __oh_lookup_entry(ucmd, cmd->target, &target, NULL);
		if (ret)
			return ret;
		if (oh_ref_full(target))
			return -EOVERFLOW;
	}

	old = *slot;
	*slot = target;
	/*
	 * The slot's reference, as __oh_ref() takes it, once nothing can
	 * fail: the write barrier's call then keeps only @old and the heap
	 * live across it, not the slot and the command.
	 */
	if (target && !oh_immortal(target)) {
		target->refcnt++;
		oh_gc_shade(ucmd->heap, target);
	}
	/* Last: this may free @obj itself, if only @old kept it alive. */
	if (old)
		__oh_unref(ucmd->heap, old);
	return 0;
}

int objheap_cmd_get_slot(struct objheap_ucmd *ucmd)
{
	struct objheap_slot *cmd = ucmd->cmd;
	struct oh_object *obj, **slot;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->target)
		return -EINVAL;
	ret = oh_get_slot_owner(ucmd, cmd, &obj, &slot);
	if (ret)
		return ret;
	return __oh_respond_handle(ucmd, *slot, &cmd->out_handle, sizeof(*cmd));
}

/* The object a read or write names, in *@objp, with the range checked. */
static __always_inline int oh_get_range(struct objheap_ucmd *ucmd,
					struct objheap_rw *cmd,
					struct oh_object **objp)
{
	u32 end;
	int ret;

	ret = __oh_lookup_entry(ucmd, cmd->handle, objp, NULL);
	if (ret)
		return ret;
	if (check_add_overflow(cmd->offset, cmd->len, &end) ||
	    end > oh_payload_len(*objp))
		return -EINVAL;
	return 0;
}

/*
 * Copy [@cmd->offset, + @cmd->len) of @obj's payload, in pieces of
 * OBJHEAP_RW_CHUNK with the heap's lock given up in between, so that a
 * large copy holds up other commands for one piece at most.  @obj is held
 * meanwhile; each piece checks afresh that it is still within the payload
 * (a concurrent OBJHEAP_RESIZE may have shrunk it) and, for a write, that
 * the object is still mutable.
 */
static int oh_rw_chunked(struct objheap_ucmd *ucmd, struct oh_object *obj,
			 struct objheap_rw *cmd, bool to_user)
{
	struct objheap *heap = ucmd->heap;
	u32 done = 0, n;
	int ret = 0;

	/* Held across the lock's releases: a reference like any other. */
	if (!oh_immortal(obj)) {
		obj->refcnt++;
		oh_gc_shade(heap, obj);
	}
	while (done < cmd->len) {
		if (done) {
			objheap_lock_yield(heap);
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			if (cmd->offset + cmd->len > oh_payload_len(obj)) {
				ret = -EINVAL;
				break;
			}
			if (!to_user && oh_immutable(obj)) {
				ret = -EPERM;
				break;
			}
		}
		n = min(cmd->len - done, OBJHEAP_RW_CHUNK);
		ret = oh_payload_copy(obj, cmd->offset + done,
				      cmd->buf_uptr + done, n, to_user);
		if (ret)
			break;
		done += n;
	}
	if (!oh_immortal(obj))
		oh_unref(heap, obj);
	return ret;
}

/* The copy of a READ or WRITE whose range and object are checked. */
static noinline int oh_rw(struct objheap_ucmd *ucmd, struct oh_object *obj,
			  bool to_user)
{
	struct objheap_rw *cmd = ucmd->cmd;

	/* A batch holds the lock throughout (see DOC: Batches). */
	if (cmd->len > OBJHEAP_RW_CHUNK && !ucmd->batch)
		return oh_rw_chunked(ucmd, obj, cmd, to_user);
	return oh_payload_copy(obj, cmd->offset, cmd->buf_uptr, cmd->len,
			       to_user);
}

/*
 * Reads of up to this many bytes of a payload kept in the object's own
 * block are copied by oh_read_small(), inline in OBJHEAP_READ: most reads
 * of small objects' fields are this short.
 */
#define OH_READ_SMALL 64

/*
 * Copy @len bytes, at most OH_READ_SMALL, from @src to userspace.  @src is
 * in a block of the heap's own allocator, checked against the payload's
 * length under the heap's lock, so the usercopy hardening's check of the
 * kernel range (that it lies in one slab object, page or vmalloc area) is
 * left out: for a 16-byte READ that check was 133 of the 478 instructions
 * of the whole command in a batch (make count).
 *
 * Return: 0 or -EFAULT.
 */
static __always_inline int oh_read_small(u8 __user *ubuf, const u8 *src,
					 u32 len)
{
	if (!user_access_begin(ubuf, len))
		return -EFAULT;
	unsafe_copy_to_user(ubuf, src, len, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * OBJHEAP_READ and OBJHEAP_WRITE, each with @to_user known: a short read of
 * a payload in the object's own block copies here, the rest in oh_rw().
 */
static __always_inline int oh_rw_cmd(struct objheap_ucmd *ucmd, bool to_user)
{
	struct objheap_rw *cmd = ucmd->cmd;
	struct oh_object *obj;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	ret = oh_get_range(ucmd, cmd, &obj);
	if (ret)
		return ret;
	if (to_user && cmd->len <= OH_READ_SMALL && !oh_mappable(obj))
		return oh_read_small(u64_to_user_ptr(cmd->buf_uptr),
				     oh_data(obj) + cmd->offset, cmd->len);
	if (!to_user && oh_immutable(obj))
		return -EPERM;
	return oh_rw(ucmd, obj, to_user);
}

int objheap_cmd_read(struct objheap_ucmd *ucmd)
{
	return oh_rw_cmd(ucmd, true);
}

int objheap_cmd_write(struct objheap_ucmd *ucmd)
{
	return oh_rw_cmd(ucmd, false);
}

int objheap_cmd_info(struct objheap_ucmd *ucmd)
{
	struct objheap_info *cmd = ucmd->cmd;
	struct oh_object *obj;
	u32 index;

	lockdep_assert_held(&ucmd->heap->lock);

	obj = oh_lookup_entry(ucmd, cmd->handle, &index);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	cmd->out_refcnt = oh_immortal(obj) ? OBJHEAP_REFCNT_IMMORTAL : obj->refcnt;
	cmd->out_user_refs = oh_table_entry(&ucmd->att->table, index)->refs;
	cmd->out_type = obj->type;
	cmd->out_flags = obj->flags & OH_OBJ_UAPI_FLAGS;
	cmd->out_nslots = oh_nslots(obj);
	cmd->out_data_len = oh_payload_len(obj);
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}
