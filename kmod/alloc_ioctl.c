// SPDX-License-Identifier: GPL-2.0
/*
 * The allocator as userspace sees it: OBJHEAP_STATS, OBJHEAP_SET_LIMIT and
 * the per-heap debugfs file /sys/kernel/debug/objheap/<id>/stats.  The
 * allocator itself (alloc.c) knows nothing of heaps or ioctls; this file
 * takes the heap's lock around it.
 */
#include <linux/debugfs.h>
#include <linux/objheap.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "objheap.h"

/*
 * Statistics of @heap, in a buffer the caller kfree()s, or NULL.
 * Context: the heap's lock held.
 */
static struct oh_alloc_stats *objheap_get_alloc_stats(struct objheap *heap)
{
	struct oh_alloc_stats *st;

	/* About 1 KiB: too much for the stack. */
	st = kmalloc(sizeof(*st), OH_GFP);
	if (!st)
		return NULL;
	oh_alloc_get_stats(&heap->alloc, st);
	return st;
}

static int objheap_copy_class_stats(struct objheap_stats *cmd,
				    const struct oh_alloc_stats *st)
{
	struct objheap_class_stats __user *uclasses = u64_to_user_ptr(cmd->classes);
	struct objheap_class_stats uc;
	unsigned int i, n = min_t(u32, cmd->nr_classes, OH_NR_CLASSES);

	for (i = 0; i < n; i++) {
		uc = (struct objheap_class_stats){
			.block_size = st->classes[i].block_size,
			.pools = st->classes[i].pools,
			.blocks_in_use = st->classes[i].blocks_in_use,
			.blocks_free = st->classes[i].blocks_free,
		};
		if (copy_to_user(&uclasses[i], &uc, sizeof(uc)))
			return -EFAULT;
	}
	return 0;
}

/**
 * objheap_stats() - OBJHEAP_STATS: the heap's allocator statistics.
 * @ucmd: The command; its structure is a struct objheap_stats.
 *
 * Context: Process context; takes the heap's lock.
 * Return: 0, -EFAULT or -ENOMEM.
 */
int objheap_stats(struct objheap_ucmd *ucmd)
{
	struct objheap_stats *cmd = ucmd->cmd;
	struct oh_alloc_stats *st;
	int ret;

	st = objheap_get_alloc_stats(ucmd->heap);
	if (!st)
		return -ENOMEM;
	ret = objheap_copy_class_stats(cmd, st);
	if (ret)
		goto out_free_stats;

	cmd->out_nr_classes = OH_NR_CLASSES;
	cmd->out_limit = st->limit;
	cmd->out_limit_max = st->limit_max;
	cmd->out_bytes_in_use = st->bytes_in_use;
	cmd->out_bytes_charged = st->bytes_charged;
	cmd->out_arena_size = st->arena_size;
	cmd->out_pool_size = st->pool_size;
	cmd->out_arenas_allocated = st->arenas_allocated;
	cmd->out_arenas_reclaimed = st->arenas_reclaimed;
	cmd->out_arenas_highwater = st->arenas_highwater;
	cmd->out_arenas_current = st->arenas_current;
	cmd->out_bytes_allocated_blocks = st->bytes_allocated_blocks;
	cmd->out_bytes_free_blocks = st->bytes_free_blocks;
	cmd->out_bytes_unused_pools = st->bytes_unused_pools;
	cmd->out_bytes_pool_headers = st->bytes_pool_headers;
	cmd->out_bytes_quantization = st->bytes_quantization;
	cmd->out_large_objects = st->large_objects;
	cmd->out_large_bytes = st->large_bytes;
	cmd->out_bytes_held = st->bytes_held;
	cmd->out_bytes_pools_held = st->bytes_pools_held;
	cmd->out_limit_default = st->limit_default;
	cmd->out_user_bytes_held = st->user_held;
	cmd->out_user_limit = st->user_limit;
	ret = objheap_ucmd_respond(ucmd, sizeof(*cmd));

out_free_stats:
	kfree(st);
	return ret;
}

/**
 * objheap_set_limit() - OBJHEAP_SET_LIMIT: set the heap's limit.
 * @ucmd: The command; its structure is a struct objheap_set_limit.
 *
 * Context: Process context, the heap's lock held (by the dispatcher).
 * Return: 0, -EINVAL above the module-wide maximum, -EPERM above the
 * default limit without CAP_SYS_RESOURCE.
 */
int objheap_set_limit(struct objheap_ucmd *ucmd)
{
	struct objheap_set_limit *cmd = ucmd->cmd;

	return oh_alloc_set_limit(&ucmd->heap->alloc, cmd->limit);
}

static int objheap_alloc_stats_show(struct seq_file *m, void *unused)
{
	struct objheap *heap = m->private;
	struct oh_alloc_stats *st;

	int ret;

	/*
	 * A reader waits for the heap's lock as a command does: a kill, or
	 * any signal, interrupts the wait (a collection of a big heap may
	 * hold the lock for a while).
	 */
	ret = mutex_lock_interruptible(&heap->lock);
	if (ret)
		return ret;
	st = objheap_get_alloc_stats(heap);
	mutex_unlock(&heap->lock);
	if (!st)
		return -ENOMEM;
	oh_alloc_show_stats(m, st);
	kfree(st);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(objheap_alloc_stats);

/**
 * objheap_alloc_debugfs_init() - Create the heap's allocator stats file.
 * @heap: The heap, whose debugfs directory exists.
 *
 * The file goes with the directory, which debugfs_remove_recursive()
 * removes, waiting for readers, before the heap is freed.
 *
 * Context: Process context, at open.
 */
void objheap_alloc_debugfs_init(struct objheap *heap)
{
	debugfs_create_file("stats", 0400, heap->debugfs, heap,
			    &objheap_alloc_stats_fops);
}
