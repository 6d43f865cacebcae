/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap internals shared by the module's files.  Nothing here is ABI:
 * userspace sees only uapi/linux/objheap.h.
 */
#ifndef __OBJHEAP_H
#define __OBJHEAP_H

#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "alloc.h"
#include "attach.h"
#include "event.h"
#include "gc.h"
#include "object.h"
#include "payload.h"
#include "tracing.h"
#include "weakref.h"
#include "objheap_test.h"

struct dentry;
struct objheap_batch_ctx;
struct pid;

/* Attachment numbers whose attachment struct objheap keeps at hand. */
#define OH_HOMES_CACHED 8

/**
 * struct oh_owner - Who made a heap, for /proc/objheap (kmod/proc.c).
 * @pid: The opener's thread group, held.
 * @uid: The opener's effective uid.
 * @cgroup: The id of the opener's cgroup v2 (0 without cgroups).
 * @comm: The opener's command name.
 */
struct oh_shrink_node;

struct oh_owner {
	struct pid *pid;
	kuid_t uid;
	u64 cgroup;
	char comm[TASK_COMM_LEN];
};

/**
 * struct objheap - One heap, shared by its attachments (kmod/attach.c).
 * @lock: Serializes every command on this heap, from any attachment.
 * @lock_waiters: Tasks waiting for @lock in objheap_lock(), for
 *                objheap_lock_yield().
 * @users: The attachments not yet freed; the last one frees the heap.
 * @alloc: The heap's allocator: every byte the heap holds.
 * @gc: The cycle collector.
 * @intern: The intern table.
 * @tracing: The allocation tracer (kmod/tracing.c).
 * @weak: The weak table: target to weak references.
 * @names: The published names.
 * @attachments: Attachment id to struct oh_attach, until it is released.
 * @homes: Attachment number (struct oh_attach's @home, 1 to
 *         OBJHEAP_ATTACH_MAX) to struct oh_attach, for the same time: what
 *         an object's @home names.
 * @home_cache: The first numbers' entries of @homes (entry 0 stays
 *              NULL): every death looks its object's home up, and an
 *              xarray walk was 60 instructions of a RELEASE's 810.
 * @holders: Object to the attachments other than its home that hold a
 *           handle to it (struct oh_holders); set up on first use.
 * @holders_ready: @holders is set up.
 * @payloads: The mappable payloads of live objects (kmod/payload.c).
 * @unmapped: Payloads whose last mapping went, with a reference to drop.
 * @unmap_work: Drains @unmapped when no command comes to do it.
 * @shrink: The heap's entry on the shrinker's list (kmod/shrink.c).
 * @shrink_work: Gives memory back when the shrinker asks.
 * @next_id: The next attachment id to try.
 * @nr_attached: Attachments in @attachments.
 * @nr_objects: Objects alive.
 * @events_lost: Events its attachments could not queue, all together.
 * @id: The heap's number, its directory's name in debugfs.
 * @debugfs: The heap's directory, /sys/kernel/debug/objheap/<id>/.
 * @node: In the module's list of heaps (kmod/proc.c).
 * @owner: Who opened it.
 */
struct objheap {
	struct mutex lock; /* see above */
	atomic_t lock_waiters;
	refcount_t users;
	struct oh_alloc alloc;
	struct oh_gc gc;
	struct oh_intern intern;
	struct oh_tracing tracing;
	struct oh_weak weak;
	struct oh_names names;
	struct xarray attachments;
	struct xarray homes;
	struct oh_attach *home_cache[OH_HOMES_CACHED];
	struct rhashtable holders;
	bool holders_ready;
	struct list_head payloads;
	struct llist_head unmapped;
	struct work_struct unmap_work;
	struct oh_shrink_node *shrink;
	struct work_struct shrink_work;
	u32 next_id;
	u32 nr_attached;
	u64 nr_objects;
	u64 events_lost;
	u64 id;
	struct dentry *debugfs;
	struct list_head node;
	struct oh_owner owner;
};

/**
 * oh_home() - The attachment an object's own entry is in.
 * @heap: The heap.
 * @obj: The object.
 *
 * Return: The attachment, or NULL when the object has no home.
 */
static inline struct oh_attach *oh_home(struct objheap *heap,
					const struct oh_object *obj)
{
	if (likely(obj->home < OH_HOMES_CACHED))
		return heap->home_cache[obj->home];
	return xa_load(&heap->homes, obj->home);
}

/**
 * __oh_entry_forget() - Free an attachment's entry for a live object.
 * @att: The attachment.
 * @obj: The object, which lives on.
 * @e: @att's entry for @obj, which owns no reference.
 * @index: The entry's index.
 *
 * The entry's handle names nothing from now on; @obj forgets the entry
 * if it was its home's.  oh_entry_forget() finds the entry from @index.
 */
static __always_inline void __oh_entry_forget(struct oh_attach *att,
					      struct oh_object *obj,
					      struct oh_entry *e, u32 index)
{
	if (obj->home == att->home) {
		obj->home = 0;
		obj->index = OH_NO_INDEX;
	} else {
		oh_holders_del(att, obj);
	}
	__oh_table_put(att, e, index);
}

/**
 * oh_handles_forget() - Free every entry of an object that dies.
 * @heap: The heap.
 * @obj: The object, whose count is zero.
 *
 * Inline, in every death: as a call, with the lookup of the home, it
 * cost a death about 20 instructions.  Other attachments' entries are
 * freed out of line.
 */
static __always_inline void oh_handles_forget(struct objheap *heap,
					      struct oh_object *obj)
{
	struct oh_attach *home = oh_home(heap, obj);

	if (home) {
		oh_table_put(home, obj->index);
		obj->home = 0;
		obj->index = OH_NO_INDEX;
	}
	if (unlikely(obj->flags & OH_OBJ_SHARED))
		oh_holders_forget(heap, obj);
}

/* The generation @obj counts in (OH_OBJ_GEN). */
static inline unsigned int oh_gc_gen(const struct oh_object *obj)
{
	return (obj->flags & OH_OBJ_GEN) >> OH_OBJ_GEN_SHIFT;
}

/*
 * The collector's node @id names.  An object leaving its generation has a
 * head for a neighbour when it is the oldest or the newest there, as when
 * userspace frees in the order it created or a chain goes from its end; a
 * head is found from where the heads are, without the map's loads.
 */
static __always_inline struct oh_link *oh_gc_link_at(struct objheap *heap,
						     u32 id)
{
	struct oh_gc *gc = &heap->gc;
	u32 i = id - (gc->gens[0].objects - GC_HEAD_GEN0);

	if (i < GC_NR_HEADS)
		return (void *)gc->heads + i * OH_ALIGN;
	return oh_link_at(&heap->alloc, id);
}

/**
 * oh_gc_untrack() - Take a tracked object out of the collector for good.
 * @heap: The heap.
 * @obj: The object, on a list of the collector; it is to be freed (then
 *       its freeing is counted now) or interned.
 *
 * @obj leaves its list and its generation's count, and generation 0's
 * count of creations goes down.  Inline, in every death of a tracked
 * object; while an incremental collection is in progress, whose cursor
 * and counts may have to follow, out of line (__oh_gc_untrack()).
 */
static __always_inline void oh_gc_untrack(struct objheap *heap,
					  struct oh_object *obj)
{
	struct oh_gc *gc = &heap->gc;
	struct oh_link *l = &obj->gc_link;

	lockdep_assert_held(&heap->lock);

	if (unlikely(gc->inc.phase != OBJHEAP_GC_PHASE_IDLE)) {
		__oh_gc_untrack(heap, obj);
		return;
	}
	oh_gc_link_at(heap, l->prev)->next = l->next;
	oh_gc_link_at(heap, l->next)->prev = l->prev;
	l->next = 0;
	l->prev = 0;
	if (!(obj->flags & OH_OBJ_GARBAGE))
		WRITE_ONCE(gc->tracked[oh_gc_gen(obj)],
			   gc->tracked[oh_gc_gen(obj)] - 1);
	if (gc->gens[0].count)
		gc->gens[0].count--;
}

/**
 * oh_gc_track() - Start tracking a new object, in generation 0.
 * @heap: The heap.
 * @obj: A new object that oh_tracked() says the collector tracks.  Its
 *       flags have no generation's bits: it is in generation 0 already.
 * @small: Whether @obj's shape holds its sizes (not OH_SHAPE_FAR).
 *
 * @obj becomes the young generation's newest object and counts there.
 * Inline, in every tracked creation: as a call it was 14 instructions
 * more.  The young generation's list has the collector's first head
 * (GC_HEAD_GEN0); oh_gc_check() checks lists, generations and counts.
 */
static __always_inline void oh_gc_track(struct objheap *heap,
					struct oh_object *obj, bool small)
{
	struct oh_gc *gc = &heap->gc;
	struct oh_link *h = gc->heads, *prev;
	u32 id, tail = h->prev;

	lockdep_assert_held(&heap->lock);

	/*
	 * oh_idlist_add_tail(), with the newest object found beside @obj
	 * when it is in @obj's pool, as it mostly is.
	 */
	if (likely(small)) {
		id = oh_alloc_small_id(obj);
		prev = oh_alloc_ptr_beside(&heap->alloc, tail, obj, id);
	} else {
		id = oh_far(obj)->id;
		prev = oh_link_at(&heap->alloc, tail);
	}
	prev->next = id;
	obj->gc_link.next = gc->gens[0].objects;
	obj->gc_link.prev = tail;
	h->prev = id;
	WRITE_ONCE(gc->tracked[0], gc->tracked[0] + 1);
	gc->gens[0].count++;
}

/**
 * oh_gc_maybe_collect() - Run the collection that is due, if any.
 * @heap: The heap, which has just created a tracked object.
 *
 * Inline, in every tracked creation, is the test that none can be: no
 * incremental collection in progress, and generation 0 within @due.  As
 * a call, that cost a creation about ten instructions (make count).
 */
static __always_inline void oh_gc_maybe_collect(struct objheap *heap)
{
	struct oh_gc *gc = &heap->gc;

	if (unlikely(gc->gens[0].count > gc->due ||
		     gc->inc.phase != OBJHEAP_GC_PHASE_IDLE))
		__oh_gc_maybe_collect(heap);
}

/* The reason an event gives for a death happening now (OBJHEAP_REASON_*). */
static inline u32 oh_death_reason(const struct objheap *heap)
{
	return heap->gc.collecting ? OBJHEAP_REASON_GC : OBJHEAP_REASON_REFCOUNT;
}

/**
 * struct objheap_ucmd - One ioctl in flight.
 * @heap: The heap the file refers to.
 * @att: The attachment the file is.
 * @ubuffer: The user's structure.
 * @user_size: The size the user says @ubuffer has.
 * @cmd: The kernel copy of the structure, already validated: its size is
 *       at least the command's minimum, bytes past the kernel's struct are
 *       zero, and no unknown flag is set.  A handler writes the structure's
 *       out_* fields only on its way to success: inside a batch the
 *       structure may be the entry itself.
 * @batch: The batch this command is an entry of, or NULL.
 * @out_handle: The handle the command returned, for later batch entries.
 */
struct objheap_ucmd {
	struct objheap *heap;
	struct oh_attach *att;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
	struct objheap_batch_ctx *batch;
	u64 out_handle;
};

/* The two fields every command structure starts with. */
struct objheap_cmd_header {
	u32 size;
	u32 flags;
};

union ucmd_buffer {
	struct objheap_cmd_header hdr;
	struct objheap_query query;
	struct objheap_new new;
	struct objheap_handle_cmd handle;
	struct objheap_slot slot;
	struct objheap_rw rw;
	struct objheap_info info;
	struct objheap_intern intern;
	struct objheap_batch batch;
	struct objheap_gc_collect gc_collect;
	struct objheap_gc_value gc_value;
	struct objheap_gc_threshold gc_threshold;
	struct objheap_gc_count gc_count;
	struct objheap_gc_stats gc_stats;
	struct objheap_gc_mode gc_mode;
	struct objheap_gc_list gc_list;
	struct objheap_gc_object gc_object;
	struct objheap_stats stats;
	struct objheap_set_limit set_limit;
	struct objheap_weakref weakref;
	struct objheap_weakref_list weakref_list;
	struct objheap_event_ctl event_ctl;
	struct objheap_attach attach;
	struct objheap_attach_info attach_info;
	struct objheap_send send;
	struct objheap_name name;
	struct objheap_resize resize;
	struct objheap_seal seal;
	struct objheap_map_offset map_offset;
	struct objheap_trace_ctl trace_ctl;
	struct objheap_trace_snapshot trace_snapshot;
	struct objheap_trace_rows trace_rows;
	struct objheap_trace_tag trace_tag;
	struct objheap_test_cmd test;
};

/**
 * struct objheap_ioctl_op - One entry of the dispatch table.
 * @size: sizeof() the command's structure in this module.
 * @min_size: The smallest size userspace may pass: the end of the
 *            structure's first version.
 * @ioctl_num: The full ioctl number.
 * @flags: The flags the command accepts; others give EINVAL.
 * @test_only: Present only with CONFIG_OBJHEAP_TEST.
 * @batchable: May be an entry of OBJHEAP_BATCH.
 * @writes: Changes the heap: EPERM in a read-only attachment.
 * @bytes_at: For a batchable command whose entry copies or clears payload
 *            bytes, the offset of the u32 that says how many; else 0.
 * @slots_at: Likewise for a u32 count of slots, each a u64 of those bytes.
 *            Both fields end within @min_size, so a batch reads them with
 *            no check of the entry's size (see objheap_batch_cost()).
 * @execute: The handler.  It runs with the heap's lock held.
 */
struct objheap_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	u32 flags;
	bool test_only;
	bool batchable;
	bool writes;
	u8 bytes_at;
	u8 slots_at;
	int (*execute)(struct objheap_ucmd *ucmd);
};

extern const struct file_operations objheap_fops;
void objheap_destroy(struct objheap *heap);
int objheap_lock(struct objheap *heap, bool killable);
void objheap_lock_yield(struct objheap *heap);

const struct objheap_ioctl_op *objheap_find_op(unsigned int cmd);

/**
 * objheap_op_permitted() - Whether the caller's attachment may run @op.
 * @op: The command's entry.
 * @ucmd: The command in flight.
 *
 * Inline: a batch asks it for every entry.
 *
 * Return: false when @op changes the heap and the attachment is read-only.
 */
static inline bool objheap_op_permitted(const struct objheap_ioctl_op *op,
					const struct objheap_ucmd *ucmd)
{
	return !op->writes || !oh_attach_readonly(ucmd->att);
}

int __objheap_ucmd_respond(struct objheap_ucmd *ucmd, size_t cmd_len);

/**
 * objheap_ucmd_respond() - Copy a command's structure back to userspace.
 * @ucmd: The command in flight.
 * @cmd_len: The size of the kernel's structure.
 *
 * Inside a batch nothing is copied here: the structure is the entry in
 * the batch's kernel copy, which the batch writes back at its end through
 * pages it pinned before running anything, so that write cannot fail.
 * Inline, so that a batched entry's response is a test.
 *
 * Return: 0, or -EFAULT.
 */
static inline int objheap_ucmd_respond(struct objheap_ucmd *ucmd,
				       size_t cmd_len)
{
	if (ucmd->batch)
		return 0;
	return __objheap_ucmd_respond(ucmd, cmd_len);
}

/* batch.c: OBJHEAP_BATCH. */
int objheap_batch(struct objheap_ucmd *ucmd);

/**
 * struct objheap_batch_step - One entry of the plan.
 * @op: The entry's command.
 * @off: Where the command's structure starts in the kernel copy; the
 *       struct objheap_batch_entry is just before it.
 * @size: The structure's size, as checked.
 * @out_handle: The handle the entry returned, or 0; set by the run, for
 *              entries that ran (objheap_batch_ref() reads no other).
 */
struct objheap_batch_step {
	const struct objheap_ioctl_op *op;
	u32 off;
	u32 size;
	u64 out_handle;
};

/**
 * struct objheap_batch_ctx - An OBJHEAP_BATCH in progress.
 * @steps: The plan, one step per entry.
 * @cur: The entry running.
 * @buf: The kernel's view of an entry whose structure is not of the
 *       kernel's size.  Here rather than on each entry's stack, which the
 *       kernel may zero at every call (CONFIG_INIT_STACK_ALL_ZERO): 192
 *       bytes zeroed twice an entry, with a copy into it to read one
 *       field, were 149 of the 385 instructions of an entry refused on
 *       its flags.
 */
struct objheap_batch_ctx {
	struct objheap_batch_step *steps;
	u32 cur;
	union ucmd_buffer buf;
};

/**
 * objheap_batch_ref() - Resolve OBJHEAP_BATCH_REF(i) inside a batch.
 * @ucmd: The command holding the reference.
 * @ref: The reference.
 *
 * Inline in the handle lookups of the commonest commands, which then
 * call nothing to find an object.
 *
 * Return: The handle entry i returned, or 0 when @ref is not a reference
 * to an earlier entry of the running batch that returned one.
 */
static inline u64 objheap_batch_ref(struct objheap_ucmd *ucmd, u64 ref)
{
	struct objheap_batch_ctx *ctx = ucmd->batch;
	u64 i = ref & ~OBJHEAP_HANDLE_BATCH_BIT;

	if (!ctx || i >= ctx->cur)
		return 0;
	/* @ref is userspace's: no load past the plan, even speculated. */
	return ctx->steps[array_index_nospec(i, ctx->cur)].out_handle;
}

/* proc.c: the module's list of heaps and /proc/objheap. */
void objheap_register(struct objheap *heap);
void objheap_unregister(struct objheap *heap);
int objheap_proc_init(void);
void objheap_proc_exit(void);

/* alloc_ioctl.c: the allocator's commands and debugfs file. */
int objheap_stats(struct objheap_ucmd *ucmd);
int objheap_set_limit(struct objheap_ucmd *ucmd);
void objheap_alloc_debugfs_init(struct objheap *heap);

#if IS_ENABLED(CONFIG_OBJHEAP_TEST)
int objheap_test_cmd(struct objheap_ucmd *ucmd);
int oh_object_test_cmd(struct objheap_ucmd *ucmd);
int objheap_alloc_test_cmd(struct objheap_ucmd *ucmd);
#else
static inline int objheap_test_cmd(struct objheap_ucmd *ucmd)
{
	return -ENOTTY;
}
#endif

#endif /* __OBJHEAP_H */
