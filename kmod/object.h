/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's objects, their table of handles and their reference counts.
 */
#ifndef __OBJHEAP_OBJECT_H
#define __OBJHEAP_OBJECT_H

#include <linux/align.h>
#include <linux/list.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/objheap.h>

#include "alloc_internal.h"
#include "idlist.h"
#include "parray.h"

struct objheap;
struct objheap_ucmd;
struct oh_attach;

struct oh_pages;

/**
 * struct oh_object - The header of every object, followed by its slots and
 *                    its payload, all in one block of the heap's allocator.
 *
 * A resizable object (OBJHEAP_OBJ_RESIZABLE) has a struct oh_outline after
 * its header instead, which points to its slots and payload in a block of
 * their own: the header never moves, since slots, handle tables and weak
 * references point to it.  A mappable object (OBJHEAP_OBJ_MAPPABLE) has,
 * in place of its payload's bytes, a pointer to the struct oh_pages that
 * holds them (kmod/payload.c).  oh_slots() and oh_data() find either.
 *
 * Most objects keep their shape, slot count and payload length, in
 * @shape.  The others, resizable ones, those with more slots or bytes
 * than @shape holds and those in large blocks, have OH_SHAPE_FAR there
 * and a struct oh_far in front of the header, at the start of their
 * block: oh_nslots() and oh_data_len() read either.
 *
 * @gc_link: Tracked objects only (oh_tracked()): the collector's list the
 *           object is on, or the queue of objects being freed; linked
 *           through block ids (kmod/idlist.h), so the object's id names
 *           it, and it comes first.
 * @intern_next: Interned objects only: the next object of their chain of
 *               the intern table.  Interned objects are never tracked, so
 *               never use @gc_link.
 * @refcnt: References from handles, slots and published names.  Zero
 *          only while the object is being freed.
 * @type: The type tag userspace gave.
 * @flags: OBJHEAP_OBJ_* flags, and the kernel's own above them.
 * @gc_refs: The collector's scratch count.
 * @hash: Interned objects only: the hash of their type and payload.
 * @index: Its entry in the table of its home attachment.
 * @home: Its home attachment's number (struct oh_attach's @home), or 0
 *        (see kmod/attach.c).
 * @shape: OH_SHAPE(slots, payload bytes), or OH_SHAPE_FAR.
 * @inline_slots: References to other objects of the heap, or NULL; use
 *                oh_slots().
 */
struct oh_object {
	union {
		struct oh_link gc_link;
		struct oh_object *intern_next;
	};
	u32 refcnt;
	u32 type;
	u32 flags;
	union {
		u32 gc_refs;
		u32 hash;
	};
	u32 index;
	u16 home;
	u16 shape;
	struct oh_object *inline_slots[];
};

/* Two slots of a list stay within CPython's 48 bytes (objects.rst). */
static_assert(sizeof(struct oh_object) == 32);
static_assert(offsetof(struct oh_object, gc_link) == 0);

/*
 * @shape: the slot count in the low 7 bits, the payload's length in the
 * 9 above, for objects with fewer than OH_SHAPE_SLOTS slots and fewer
 * than OH_SHAPE_BYTES bytes, as every object whose payload is in a small
 * block has.  No such shape is OH_SHAPE_FAR.
 */
#define OH_SHAPE_SLOTS		127U
#define OH_SHAPE_BYTES		511U
#define OH_SHAPE(nslots, len)	((u16)((nslots) | (len) << 7))
#define OH_SHAPE_FAR		U16_MAX

/**
 * struct oh_far - The sizes of an object whose @shape cannot hold them,
 *                 in the 16 bytes before its header.
 * @nslots: Number of slots.
 * @data_len: Payload bytes.
 * @id: The object's id (oh_obj_id()), made when it was: its place in its
 *      pool, or for a tracked object in a large block an id of its own
 *      (oh_alloc_large_id()); 0 for one created untracked there, which
 *      never becomes tracked.
 * @__pad: Zero; keeps the header 16-byte aligned.
 */
struct oh_far {
	u32 nslots;
	u32 data_len;
	u32 id;
	u32 __pad;
};

/*
 * Whether an object of these flags and sizes, whose header, slots and
 * payload (or what stands for them) take @size bytes, has a struct oh_far:
 * when @shape cannot hold its sizes, or they can change (resizable), or
 * it is too large for a pool (its id comes from oh_alloc_large_id()).
 */
static inline bool oh_shape_far(u32 flags, u32 nslots, u32 data_len,
				size_t size)
{
	return (flags & OBJHEAP_OBJ_RESIZABLE) || nslots >= OH_SHAPE_SLOTS ||
	       data_len >= OH_SHAPE_BYTES || size > OH_SMALL_MAX;
}

static inline struct oh_far *oh_far(const struct oh_object *obj)
{
	return (struct oh_far *)obj - 1;
}

static inline u32 oh_nslots(const struct oh_object *obj)
{
	if (likely(obj->shape != OH_SHAPE_FAR))
		return obj->shape & OH_SHAPE_SLOTS;
	return oh_far(obj)->nslots;
}

static inline u32 oh_data_len(const struct oh_object *obj)
{
	if (likely(obj->shape != OH_SHAPE_FAR))
		return obj->shape >> 7;
	return oh_far(obj)->data_len;
}

/*
 * The id of a tracked object (what its neighbours' @gc_link hold), or of
 * an object in a pool.
 */
static __always_inline u32 oh_obj_id(const struct oh_object *obj)
{
	if (likely(obj->shape != OH_SHAPE_FAR))
		return oh_alloc_small_id(obj);
	return oh_far(obj)->id;
}

static __always_inline struct oh_object *oh_obj_at(const struct oh_alloc *a,
						   u32 id)
{
	return oh_alloc_ptr(a, id);
}

/* Walk the objects on id list @head: @obj, whose id is @id. */
#define oh_idlist_for_each_obj(a, id, obj, head)			\
	for ((id) = oh_idlist_first(a, head);				\
	     (id) != (head) && ((obj) = oh_obj_at(a, id), true);	\
	     (id) = (obj)->gc_link.next)

/*
 * oh_idlist_for_each_obj(), looking ids up through cursor @c: for the
 * collector's long walks (see oh_alloc_ptr_near() for when it may free).
 */
#define oh_idlist_for_each_obj_near(a, c, id, obj, head)		\
	for ((id) = oh_idlist_first(a, head);				\
	     (id) != (head) &&						\
	     ((obj) = oh_alloc_ptr_near(a, id, c), true);		\
	     (id) = (obj)->gc_link.next)

/* The start of an object's block, where oh_alloc() put it. */
static inline void *oh_object_block(struct oh_object *obj)
{
	return obj->shape == OH_SHAPE_FAR ? (void *)oh_far(obj) : (void *)obj;
}

/**
 * struct oh_outline - Where a resizable object's slots and payload are.
 * @body: Its slots, then its payload (or its struct oh_pages pointer), in
 *        a block of @capacity bytes of the heap's allocator; NULL when
 *        @capacity is 0.
 * @capacity: The size of @body's block: room for growth beyond the
 *            object's slots and payload (see kmod/payload.c).
 * @__pad: Zero.
 */
struct oh_outline {
	void *body;
	u32 capacity;
	u32 __pad;
};

/**
 * struct oh_intern - The intern table: (type, payload) to object.
 * @table: Chains of objects through their @intern_link, by @hash; no
 *         chains before the first intern.
 * @count: Interned objects alive.
 * @seed: The heap's own seed of the hash, so that no user can choose
 *        payloads that share a chain in every heap.
 */
struct oh_intern {
	struct oh_lhash table;
	u32 count;
	u32 seed;
};

/*
 * The collector's marks, in @flags above the uapi's OBJHEAP_OBJ_* bits
 * (see kmod/gc.c).  OBJHEAP_INFO reports only the uapi's.
 */
#define OH_OBJ_UAPI_FLAGS	(OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_IMMORTAL | \
				 OBJHEAP_OBJ_INTERNED | OBJHEAP_OBJ_WEAKREF | \
				 OBJHEAP_OBJ_FINALIZER | OBJHEAP_OBJ_FINALIZE | \
				 OBJHEAP_OBJ_FINALIZED | OBJHEAP_OBJ_RESIZABLE | \
				 OBJHEAP_OBJ_MAPPABLE)
#define OH_OBJ_COLLECTING	BIT(16)	/* in the generations collected */
#define OH_OBJ_UNREACHABLE	BIT(17)	/* tentatively unreachable */
#define OH_OBJ_GARBAGE		BIT(18)	/* on the garbage list, held by it */
/* The weak references' marks (see kmod/weakref.c). */
#define OH_OBJ_WEAKREFED	BIT(19)	/* a target with weakrefs in the table */
#define OH_OBJ_WR_CALLBACK	BIT(20)	/* a weakref that queues an event */
/* Attachments other than @home hold handles to it (see kmod/attach.c). */
#define OH_OBJ_SHARED		BIT(21)
/* Its block ends with its trace word (see kmod/tracing.c). */
#define OH_OBJ_TRACE_WORD	BIT(22)
/* It was traced, and is still unless its word is stale (kmod/tracing.c). */
#define OH_OBJ_TRACED		BIT(23)
/*
 * A tracked object's generation, OH_GC_OUTSIDE in the permanent one or on
 * the garbage list; what the collector's counts go by (kmod/gc.c).
 */
#define OH_OBJ_GEN_SHIFT	24
#define OH_OBJ_GEN		(3U << OH_OBJ_GEN_SHIFT)
/*
 * The incremental collector's marks (see kmod/gc.c): examined by the
 * running or a past incremental collection (the mark outlives it: only a
 * running one reads it), given a reference since, found unreachable.
 */
#define OH_OBJ_INC		BIT(26)
#define OH_OBJ_INC_SHADED	BIT(27)
#define OH_OBJ_INC_UNREACHABLE	BIT(28)
#define OH_OBJ_INC_MARKS	(OH_OBJ_INC | OH_OBJ_INC_SHADED | \
				 OH_OBJ_INC_UNREACHABLE)

void oh_gc_inc_shade(struct objheap *heap, struct oh_object *obj);

/*
 * The write barrier: @obj gets a new reference (a slot, a handle, a
 * name), which an incremental collection in progress must see.  Called
 * for every reference taken, before or after the count goes up.
 */
static inline void oh_gc_shade(struct objheap *heap, struct oh_object *obj)
{
	if (unlikely(obj->flags & OH_OBJ_INC))
		oh_gc_inc_shade(heap, obj);
}

static inline bool oh_immortal(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_IMMORTAL;
}

static inline bool oh_immutable(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_IMMUTABLE;
}

/* Whether @obj's count is at OBJHEAP_REFCNT_MAX: no reference can be added. */
static inline bool oh_ref_full(const struct oh_object *obj)
{
	return !oh_immortal(obj) && obj->refcnt >= OBJHEAP_REFCNT_MAX;
}

static inline bool oh_is_weakref(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_WEAKREF;
}

/* Whether @obj asked for PEP 442 finalization and has not had it yet. */
static inline bool oh_wants_finalize(const struct oh_object *obj)
{
	return (obj->flags & (OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_FINALIZED)) ==
	       OBJHEAP_OBJ_FINALIZE;
}

static inline bool oh_resizable(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_RESIZABLE;
}

static inline bool oh_mappable(const struct oh_object *obj)
{
	return obj->flags & OBJHEAP_OBJ_MAPPABLE;
}

/*
 * Whether the collector tracks @obj: it can die and has slots, or is a
 * weak reference (which the collector must know to be garbage or not),
 * or is resizable (so that a change of its slot count never moves it
 * between lists), unless it is interned.  Tracked objects use @gc_link.
 * oh_tracked_as() says it of an object with @flags and @nslots slots.
 */
static inline bool oh_tracked_as(u32 flags, u32 nslots)
{
	return (nslots ||
		(flags & (OBJHEAP_OBJ_WEAKREF | OBJHEAP_OBJ_RESIZABLE))) &&
	       !(flags & (OBJHEAP_OBJ_IMMORTAL | OBJHEAP_OBJ_INTERNED));
}

static inline bool oh_tracked(const struct oh_object *obj)
{
	return oh_tracked_as(obj->flags, oh_nslots(obj));
}

static inline struct oh_outline *oh_outline(struct oh_object *obj)
{
	return (struct oh_outline *)obj->inline_slots;
}

/* The object's slots, wherever they are. */
static inline struct oh_object **oh_slots(const struct oh_object *obj)
{
	if (oh_resizable(obj))
		return ((const struct oh_outline *)obj->inline_slots)->body;
	return (struct oh_object **)obj->inline_slots;
}

/* The payload's bytes; for a mappable object, where its pages are named. */
static inline u8 *oh_data(struct oh_object *obj)
{
	return (u8 *)(oh_slots(obj) + oh_nslots(obj));
}

/*
 * Zero @len bytes at @p, which is 8-byte aligned: a new object's slots, or
 * its payload.  Up to four words are stored inline; a call to memset()
 * ran about twenty instructions to clear two (make count).
 */
static __always_inline void oh_zero(void *p, size_t len)
{
	u64 *w = p;

	switch (len) {
	case 4 * sizeof(u64):
		w[3] = 0;
		fallthrough;
	case 3 * sizeof(u64):
		w[2] = 0;
		fallthrough;
	case 2 * sizeof(u64):
		w[1] = 0;
		fallthrough;
	case sizeof(u64):
		w[0] = 0;
		fallthrough;
	case 0:
		break;
	default:
		memset(p, 0, len);
	}
}

static inline struct oh_pages *oh_pages_of(struct oh_object *obj)
{
	return *(struct oh_pages **)oh_data(obj);
}

/* The payload userspace sees: a weak reference's is the kernel's own. */
static inline u32 oh_payload_len(const struct oh_object *obj)
{
	return oh_is_weakref(obj) ? 0 : oh_data_len(obj);
}

/*
 * The size of an object's block: its struct oh_far if it has one, its
 * header, then its slots and payload or what stands for them (see struct
 * oh_object), then its trace word if it has one there.
 */
static inline size_t oh_object_size(u32 flags, u32 nslots, u32 data_len)
{
	size_t size;

	if (flags & OBJHEAP_OBJ_RESIZABLE)
		size = sizeof(struct oh_object) + sizeof(struct oh_outline);
	else
		size = struct_size((struct oh_object *)NULL, inline_slots,
				   nslots) +
		       (flags & OBJHEAP_OBJ_MAPPABLE ? sizeof(struct oh_pages *) :
						       data_len);
	if (oh_shape_far(flags, nslots, data_len, size))
		size += sizeof(struct oh_far);
	if (flags & OH_OBJ_TRACE_WORD)
		size = ALIGN(size, sizeof(u64)) + sizeof(u64);
	return size;
}

/*
 * The size oh_object_size() gave @obj's block.  A shape that holds the
 * sizes is an object that is not resizable, in a small block, without a
 * trace word (only a large block has one) or a struct oh_far: its block
 * is its header, its slots and its payload (a pointer, if mappable).
 * Every death asks, and oh_object_size()'s general case took 30
 * instructions of it.
 */
static inline size_t oh_object_bytes(const struct oh_object *obj)
{
	u32 shape = obj->shape;

	if (likely(shape != OH_SHAPE_FAR))
		return sizeof(struct oh_object) +
		       (shape & OH_SHAPE_SLOTS) * sizeof(struct oh_object *) +
		       (obj->flags & OBJHEAP_OBJ_MAPPABLE ?
			sizeof(struct oh_pages *) : shape >> 7);
	return oh_object_size(obj->flags, oh_far(obj)->nslots,
			      oh_far(obj)->data_len);
}

u64 oh_payload_footprint(struct oh_object *obj);

/**
 * oh_object_footprint() - What an object takes from the heap's allocator.
 * @obj: The object.
 *
 * Its block, a resizable object's body and a mappable payload's pages:
 * the bytes a trace counts (kmod/tracing.c), inline on the path of every
 * traced creation and death.
 *
 * Return: Bytes.
 */
static inline u64 oh_object_footprint(struct oh_object *obj)
{
	u64 bytes = ALIGN(oh_object_bytes(obj), OH_ALIGN);

	if (oh_resizable(obj))
		bytes += oh_outline(obj)->capacity;
	if (oh_mappable(obj))
		bytes += oh_payload_footprint(obj);
	return bytes;
}

int oh_objects_init(struct objheap *heap);
void oh_objects_destroy(struct objheap *heap);

struct oh_object *oh_object_create(struct oh_attach *att, u32 type, u32 flags,
				   u32 nslots, u32 data_len, u64 tag);
void oh_object_abort(struct objheap *heap, struct oh_object *obj);
void oh_object_free(struct objheap *heap, struct oh_object *obj);
void oh_object_free_counted(struct objheap *heap, struct oh_object *obj);
u64 oh_handle(struct oh_attach *att, const struct oh_object *obj);
struct oh_object *oh_lookup_entry(struct objheap_ucmd *ucmd, u64 handle,
				  u32 *indexp);
struct oh_object *oh_lookup(struct objheap_ucmd *ucmd, u64 handle);
int oh_ref(struct objheap *heap, struct oh_object *obj);
void oh_unref(struct objheap *heap, struct oh_object *obj);
void __oh_ref_user(struct oh_attach *att, u32 index);
int oh_unref_user(struct oh_attach *att, u32 index);
bool oh_finalize_object(struct objheap *heap, struct oh_object *obj);
void oh_unref_user_undo(struct oh_attach *att, struct oh_object *obj);
int oh_respond_handle(struct objheap_ucmd *ucmd, struct oh_object *obj,
		      u64 *out_handle, size_t cmd_len);
int oh_respond_new(struct objheap_ucmd *ucmd, struct oh_object *obj,
		   u64 *out_handle, size_t cmd_len);

/*
 * Listing objects to userspace (the collector's list commands,
 * OBJHEAP_WEAKREF_LIST): see oh_list_handles() in kmod/object.c.
 */
enum oh_list_pass { OH_LIST_COUNT, OH_LIST_EMIT, OH_LIST_UNDO };

/**
 * struct oh_lister - One pass of a walk over the objects a command lists.
 * @heap: The heap.
 * @att: The attachment the handles are written for.
 * @pass: Counting, writing handles, or giving back what writing took.
 * @buf: OH_LIST_EMIT: where the handles go.
 * @n: Objects seen so far in this pass.
 * @done: OH_LIST_UNDO: how many of them had a reference taken.
 * @err: The error that stopped the pass, or 0.
 * @resched: Objects handled since the walk began, for cond_resched().
 */
struct oh_lister {
	struct objheap *heap;
	struct oh_attach *att;
	enum oh_list_pass pass;
	u64 __user *buf;
	u32 n;
	u32 done;
	int err;
	unsigned long resched;
};

/*
 * A walk calls oh_list_add() for each object of its sequence, always in
 * the same order, and oh_list_resched() when it passes over others; it
 * may stop as soon as oh_list_stopped().
 */
typedef void (*oh_list_walk_fn)(struct oh_lister *l, const void *arg);

static inline bool oh_list_stopped(const struct oh_lister *l)
{
	return l->err;
}

void oh_list_resched(struct oh_lister *l);
void oh_list_add(struct oh_lister *l, struct oh_object *obj);
int oh_list_count(struct objheap *heap, oh_list_walk_fn walk, const void *arg,
		  u32 *countp);
int oh_list_handles(struct objheap_ucmd *ucmd, oh_list_walk_fn walk,
		    const void *arg, u64 buf_uptr, u32 count, u32 *out_count,
		    size_t cmd_len);

void oh_intern_del(struct objheap *heap, struct oh_object *obj);
struct oh_object *oh_intern_find(struct objheap *heap, u32 type,
				 const void *data, u32 data_len, u32 *hashp);
void oh_intern_init(struct objheap *heap);
int oh_intern_check(struct objheap *heap);
void oh_intern_destroy(struct objheap *heap);
int oh_intern_object(struct objheap_ucmd *ucmd, struct oh_object *obj,
		     u64 *out_handle, size_t cmd_len);

/*
 * The handlers of the object commands; uapi/linux/objheap.h documents
 * each command.  Context: the heap's lock held, by the dispatcher.
 * Return: 0 or a negative errno, as the command's documentation says.
 */
int objheap_cmd_new(struct objheap_ucmd *ucmd);
int objheap_cmd_dup(struct objheap_ucmd *ucmd);
int objheap_cmd_release(struct objheap_ucmd *ucmd);
int objheap_cmd_set_slot(struct objheap_ucmd *ucmd);
int objheap_cmd_get_slot(struct objheap_ucmd *ucmd);
int objheap_cmd_read(struct objheap_ucmd *ucmd);
int objheap_cmd_write(struct objheap_ucmd *ucmd);
int objheap_cmd_info(struct objheap_ucmd *ucmd);
int objheap_cmd_intern(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_OBJECT_H */
