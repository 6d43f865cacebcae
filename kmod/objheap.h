/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap internals shared by the module's files.  Nothing here is ABI:
 * userspace sees only uapi/linux/objheap.h.
 */
#ifndef __OBJHEAP_H
#define __OBJHEAP_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "alloc.h"
#include "event.h"
#include "gc.h"
#include "object.h"
#include "weakref.h"

struct dentry;

/**
 * struct objheap - One heap: everything behind one open of /dev/objheap.
 * @lock: Serializes every command on this heap.  Commands may come from
 *        several threads, or from a child that inherited the file.
 * @alloc: The heap's allocator: every byte the heap holds.
 * @table: Handle to object.
 * @gc: The cycle collector.
 * @intern: The intern table.
 * @weak: The weak table: target to weak references.
 * @events: The event queue, read through the heap's file.
 * @id: The heap's number, its directory's name in debugfs.
 * @debugfs: The heap's directory, /sys/kernel/debug/objheap/<id>/.
 */
struct objheap {
	struct mutex lock; /* see above */
	struct oh_alloc alloc;
	struct oh_table table;
	struct oh_gc gc;
	struct oh_intern intern;
	struct oh_weak weak;
	struct oh_events events;
	u64 id;
	struct dentry *debugfs;
};

/* The reason an event gives for a death happening now (OBJHEAP_REASON_*). */
static inline u32 oh_death_reason(const struct objheap *heap)
{
	return heap->gc.collecting ? OBJHEAP_REASON_GC : OBJHEAP_REASON_REFCOUNT;
}

/**
 * struct objheap_batch_ctx - The state of an OBJHEAP_BATCH in progress.
 * @out_handles: The handle each entry returned so far, or 0.
 * @cur: The entry running.
 */
struct objheap_batch_ctx {
	u64 *out_handles;
	u32 cur;
};

/**
 * struct objheap_ucmd - One ioctl in flight.
 * @heap: The heap the file refers to.
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
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
	struct objheap_batch_ctx *batch;
	u64 out_handle;
};

int objheap_ucmd_respond(struct objheap_ucmd *ucmd, size_t cmd_len);
u64 objheap_batch_ref(struct objheap_ucmd *ucmd, u64 ref);

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
