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

struct dentry;

/**
 * struct objheap - One heap: everything behind one open of /dev/objheap.
 * @lock: Serializes every command on this heap.  Commands may come from
 *        several threads, or from a child that inherited the file.
 * @alloc: The heap's allocator: every byte the heap holds.
 * @id: The heap's number, its directory's name in debugfs.
 * @debugfs: The heap's directory, /sys/kernel/debug/objheap/<id>/.
 */
struct objheap {
	struct mutex lock;
	struct oh_alloc alloc;
	u64 id;
	struct dentry *debugfs;
};

/**
 * struct objheap_ucmd - One ioctl in flight.
 * @heap: The heap the file refers to.
 * @ubuffer: The user's structure.
 * @user_size: The size the user says @ubuffer has.
 * @cmd: The kernel copy of the structure, already validated: its size is
 *       at least the command's minimum, bytes past the kernel's struct are
 *       zero, and no unknown flag is set.
 */
struct objheap_ucmd {
	struct objheap *heap;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int objheap_ucmd_respond(struct objheap_ucmd *ucmd, size_t cmd_len);

/* alloc_ioctl.c: the allocator's commands and debugfs file. */
int objheap_stats(struct objheap_ucmd *ucmd);
int objheap_set_limit(struct objheap_ucmd *ucmd);
void objheap_alloc_debugfs_init(struct objheap *heap);

#if IS_ENABLED(CONFIG_OBJHEAP_TEST)
int objheap_test_cmd(struct objheap_ucmd *ucmd);
int objheap_alloc_test_cmd(struct objheap_ucmd *ucmd);
#else
static inline int objheap_test_cmd(struct objheap_ucmd *ucmd)
{
	return -ENOTTY;
}
#endif

#endif /* __OBJHEAP_H */
