// SPDX-License-Identifier: GPL-2.0
/*
 * objheap: a managed object heap behind /dev/objheap.
 *
 * Every open of /dev/objheap creates one heap and its first attachment;
 * OBJHEAP_ATTACH makes more, each a file of its own (kmod/attach.c).  The
 * heap goes, with everything in it, when the last of its attachments'
 * files is released.  Userspace drives a heap only through the ioctls of
 * uapi/linux/objheap.h and never sees a kernel address.
 *
 * This file holds the device and the ioctl dispatcher.  The dispatcher
 * follows iommufd: each command has an entry in objheap_ioctl_ops[] that
 * records its structure's size, the minimum size userspace may pass (the
 * end of the structure's first version) and the flags it accepts.  The
 * user's structure is copied once, with copy_struct_from_user(), and each
 * handler sees only a validated kernel copy.
 *
 * OBJHEAP_BATCH, which runs many of these commands in one call, is in
 * kmod/batch.c.
 *
 * An attachment's file is also where its events are read (kmod/event.c):
 * read() returns whole records and poll() reports them pending.
 *
 * Lock order:
 *   oh_attach->events.read_lock (read())
 *     objheap->lock
 *       oh_attach->events.wait.lock (wake_up() on queueing an event)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "objheap.h"
#include "objheap_test.h"
#include "shrink.h"
#include "user.h"

#define __IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, _test, _batch, _wr, \
		   _bytes_at, _slots_at)				\
	[_IOC_NR(_ioctl) - OBJHEAP_CMD_BASE] = {			\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union ucmd_buffer) <	\
					  sizeof(_struct)),		\
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.flags = _flags,					\
		.test_only = _test,					\
		.batchable = _batch,					\
		.writes = _wr,						\
		.bytes_at = _bytes_at,					\
		.slots_at = _slots_at,					\
		.execute = _fn,						\
	}
/* The _W variants change the heap: a read-only attachment gets EPERM. */
#define IOCTL_OP(_ioctl, _fn, _struct, _last, _flags) \
	__IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, false, false, false, 0, 0)
#define IOCTL_OP_W(_ioctl, _fn, _struct, _last, _flags) \
	__IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, false, false, true, 0, 0)
#define IOCTL_BATCH_OP(_ioctl, _fn, _struct, _last, _flags) \
	__IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, false, true, false, 0, 0)
#define IOCTL_BATCH_OP_W(_ioctl, _fn, _struct, _last, _flags) \
	__IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, false, true, true, 0, 0)
/*
 * Where a batchable command keeps a u32 of what its entry costs a batch's
 * budget: a field of the structure's first version, so that the batch's
 * plan can read it from any entry it accepted.
 */
#define IOCTL_PRICE_AT(_struct, _last, _field)				\
	(offsetof(_struct, _field) +					\
	 BUILD_BUG_ON_ZERO(offsetofend(_struct, _field) >		\
			   offsetofend(_struct, _last)))
/* A batchable command that copies _bytes bytes and _slots slots. */
#define IOCTL_BATCH_OP_PRICED(_ioctl, _fn, _struct, _last, _flags, _wr,	\
			      _bytes, _slots)				\
	__IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, false, true, _wr,	\
		   IOCTL_PRICE_AT(_struct, _last, _bytes),		\
		   IOCTL_PRICE_AT(_struct, _last, _slots))
/* One that copies _bytes bytes and no slot. */
#define IOCTL_BATCH_OP_BYTES(_ioctl, _fn, _struct, _last, _flags, _wr,	\
			     _bytes)					\
	__IOCTL_OP(_ioctl, _fn, _struct, _last, _flags, false, true, _wr,	\
		   IOCTL_PRICE_AT(_struct, _last, _bytes), 0)
/* A production build has no handler, so not even a stub is linked in. */
#define IOCTL_TEST_OP(_ioctl, _fn, _struct, _last, _flags)		\
	__IOCTL_OP(_ioctl, IS_ENABLED(CONFIG_OBJHEAP_TEST) ? _fn : NULL,	\
		   _struct, _last, _flags, true, false, true, 0, 0)

static int objheap_query(struct objheap_ucmd *ucmd);

static const struct objheap_ioctl_op objheap_ioctl_ops[] = {
	IOCTL_OP(OBJHEAP_QUERY, objheap_query, struct objheap_query,
		 out_cmd_flags, 0),
	IOCTL_OP(OBJHEAP_STATS, objheap_stats, struct objheap_stats,
		 out_large_bytes, 0),
	IOCTL_OP_W(OBJHEAP_SET_LIMIT, objheap_set_limit, struct objheap_set_limit,
		   limit, 0),
	IOCTL_BATCH_OP_PRICED(OBJHEAP_NEW, objheap_cmd_new, struct objheap_new,
			      out_handle, OBJHEAP_OBJ_IMMUTABLE |
			      OBJHEAP_OBJ_IMMORTAL | OBJHEAP_OBJ_FINALIZE |
			      OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_MAPPABLE,
			      true, data_len, nslots),
	IOCTL_BATCH_OP(OBJHEAP_DUP, objheap_cmd_dup, struct objheap_handle_cmd,
		       out_handle, 0),
	IOCTL_BATCH_OP(OBJHEAP_RELEASE, objheap_cmd_release,
		       struct objheap_handle_cmd, out_handle,
		       OBJHEAP_RELEASE_FORGET),
	IOCTL_BATCH_OP_W(OBJHEAP_SET_SLOT, objheap_cmd_set_slot,
			 struct objheap_slot, out_handle, 0),
	IOCTL_BATCH_OP(OBJHEAP_GET_SLOT, objheap_cmd_get_slot,
		       struct objheap_slot, out_handle, 0),
	IOCTL_BATCH_OP_BYTES(OBJHEAP_READ, objheap_cmd_read, struct objheap_rw,
			     buf_uptr, 0, false, len),
	IOCTL_BATCH_OP_BYTES(OBJHEAP_WRITE, objheap_cmd_write,
			     struct objheap_rw, buf_uptr, 0, true, len),
	IOCTL_BATCH_OP(OBJHEAP_INFO, objheap_cmd_info, struct objheap_info,
		       out_data_len, 0),
	IOCTL_BATCH_OP_BYTES(OBJHEAP_INTERN, objheap_cmd_intern,
			     struct objheap_intern, out_handle,
			     OBJHEAP_OBJ_IMMORTAL, true, data_len),
	IOCTL_OP(OBJHEAP_BATCH, objheap_batch, struct objheap_batch,
		 out_failed, OBJHEAP_BATCH_CONTINUE),
	IOCTL_OP(OBJHEAP_GC_COLLECT, objheap_cmd_gc_collect,
		 struct objheap_gc_collect, out_elapsed_ns, 0),
	IOCTL_OP_W(OBJHEAP_GC_ENABLE, objheap_cmd_gc_enable,
		   struct objheap_gc_value, out_value, 0),
	IOCTL_OP_W(OBJHEAP_GC_DISABLE, objheap_cmd_gc_disable,
		   struct objheap_gc_value, out_value, 0),
	IOCTL_OP(OBJHEAP_GC_ISENABLED, objheap_cmd_gc_isenabled,
		 struct objheap_gc_value, out_value, 0),
	IOCTL_OP(OBJHEAP_GC_GET_THRESHOLD, objheap_cmd_gc_get_threshold,
		 struct objheap_gc_threshold, __reserved2, 0),
	IOCTL_OP_W(OBJHEAP_GC_SET_THRESHOLD, objheap_cmd_gc_set_threshold,
		   struct objheap_gc_threshold, __reserved2, 0),
	IOCTL_OP(OBJHEAP_GC_GET_COUNT, objheap_cmd_gc_get_count,
		 struct objheap_gc_count, __reserved, 0),
	IOCTL_OP(OBJHEAP_GC_GET_STATS, objheap_cmd_gc_get_stats,
		 struct objheap_gc_stats, out_gen, 0),
	IOCTL_OP_W(OBJHEAP_GC_FREEZE, objheap_cmd_gc_freeze,
		   struct objheap_gc_value, out_value, 0),
	IOCTL_OP_W(OBJHEAP_GC_UNFREEZE, objheap_cmd_gc_unfreeze,
		   struct objheap_gc_value, out_value, 0),
	IOCTL_OP(OBJHEAP_GC_GET_FREEZE_COUNT, objheap_cmd_gc_get_freeze_count,
		 struct objheap_gc_value, out_value, 0),
	IOCTL_OP(OBJHEAP_GC_GET_OBJECTS, objheap_cmd_gc_get_objects,
		 struct objheap_gc_list, __reserved, 0),
	IOCTL_OP(OBJHEAP_GC_GET_REFERRERS, objheap_cmd_gc_get_referrers,
		 struct objheap_gc_list, __reserved, 0),
	IOCTL_OP(OBJHEAP_GC_GET_REFERENTS, objheap_cmd_gc_get_referents,
		 struct objheap_gc_list, __reserved, 0),
	IOCTL_OP(OBJHEAP_GC_IS_TRACKED, objheap_cmd_gc_is_tracked,
		 struct objheap_gc_object, __reserved, 0),
	IOCTL_OP_W(OBJHEAP_GC_SET_DEBUG, objheap_cmd_gc_set_debug,
		   struct objheap_gc_value, out_value, 0),
	IOCTL_OP(OBJHEAP_GC_GET_DEBUG, objheap_cmd_gc_get_debug,
		 struct objheap_gc_value, out_value, 0),
	IOCTL_OP(OBJHEAP_GC_GET_GARBAGE, objheap_cmd_gc_get_garbage,
		 struct objheap_gc_list, __reserved, 0),
	IOCTL_OP_W(OBJHEAP_GC_CLEAR_GARBAGE, objheap_cmd_gc_clear_garbage,
		   struct objheap_gc_value, out_value, 0),
	IOCTL_BATCH_OP_W(OBJHEAP_WEAKREF_NEW, objheap_cmd_weakref_new,
			 struct objheap_weakref, out_handle,
			 OBJHEAP_WEAKREF_CALLBACK | OBJHEAP_WEAKREF_FINALIZER),
	IOCTL_BATCH_OP(OBJHEAP_WEAKREF_GET, objheap_cmd_weakref_get,
		       struct objheap_weakref, out_handle, 0),
	IOCTL_OP(OBJHEAP_WEAKREF_COUNT, objheap_cmd_weakref_count,
		 struct objheap_weakref_list, buf_uptr, 0),
	IOCTL_OP(OBJHEAP_WEAKREF_LIST, objheap_cmd_weakref_list,
		 struct objheap_weakref_list, buf_uptr, 0),
	IOCTL_OP_W(OBJHEAP_FINALIZE_DETACH, objheap_cmd_finalize_detach,
		   struct objheap_weakref, out_handle, 0),
	IOCTL_OP(OBJHEAP_FINALIZE_ALIVE, objheap_cmd_finalize_alive,
		 struct objheap_weakref, out_handle, 0),
	IOCTL_OP(OBJHEAP_EVENT_CTL, objheap_cmd_event_ctl,
		 struct objheap_event_ctl, out_bytes, OBJHEAP_EVENT_CTL_SET_MASK),
	IOCTL_OP(OBJHEAP_ATTACH, objheap_cmd_attach, struct objheap_attach,
		 out_id, OBJHEAP_ATTACH_READONLY),
	IOCTL_OP(OBJHEAP_ATTACH_INFO, objheap_cmd_attach_info,
		 struct objheap_attach_info, out_created, 0),
	IOCTL_OP(OBJHEAP_SEND, objheap_cmd_send, struct objheap_send,
		 __reserved, 0),
	IOCTL_OP_W(OBJHEAP_PUBLISH, objheap_cmd_publish, struct objheap_name,
		   out_handle, 0),
	IOCTL_OP(OBJHEAP_LOOKUP, objheap_cmd_lookup, struct objheap_name,
		 out_handle, 0),
	IOCTL_OP_W(OBJHEAP_UNPUBLISH, objheap_cmd_unpublish,
		   struct objheap_name, out_handle, 0),
	IOCTL_TEST_OP(OBJHEAP_TEST, objheap_test_cmd, struct objheap_test_cmd,
		      __reserved, 0),
	IOCTL_BATCH_OP_PRICED(OBJHEAP_RESIZE, objheap_cmd_resize,
			      struct objheap_resize, data_len,
			      OBJHEAP_RESIZE_SLOTS | OBJHEAP_RESIZE_DATA,
			      true, data_len, nslots),
	IOCTL_BATCH_OP_W(OBJHEAP_SEAL, objheap_cmd_seal, struct objheap_seal,
			 out_handle, OBJHEAP_SEAL_INTERN),
	IOCTL_OP(OBJHEAP_MAP_OFFSET, objheap_cmd_map_offset,
		 struct objheap_map_offset, __reserved, 0),
	/* Only OBJHEAP_TRACE_GET may come from a read-only attachment. */
	IOCTL_OP(OBJHEAP_TRACE_CTL, objheap_cmd_trace_ctl,
		 struct objheap_trace_ctl, __reserved, 0),
	IOCTL_OP_W(OBJHEAP_TRACE_SNAPSHOT, objheap_cmd_trace_snapshot,
		   struct objheap_trace_snapshot, out_id, OBJHEAP_SNAPSHOT_DROP),
	IOCTL_OP(OBJHEAP_TRACE_ROWS, objheap_cmd_trace_rows,
		 struct objheap_trace_rows, __reserved, 0),
	IOCTL_OP(OBJHEAP_TRACE_TAG, objheap_cmd_trace_tag,
		 struct objheap_trace_tag, out_flags, 0),
	IOCTL_OP_W(OBJHEAP_GC_SET_MODE, objheap_cmd_gc_set_mode,
		   struct objheap_gc_mode, out_longest_increment_ns, 0),
	IOCTL_OP(OBJHEAP_GC_GET_MODE, objheap_cmd_gc_get_mode,
		 struct objheap_gc_mode, out_longest_increment_ns, 0),
};

static bool objheap_op_supported(const struct objheap_ioctl_op *op)
{
	return op->execute && (!op->test_only || IS_ENABLED(CONFIG_OBJHEAP_TEST));
}

/**
 * objheap_find_op() - Find a command's entry in the dispatch table.
 * @cmd: The full ioctl number.
 *
 * Return: The entry, or NULL when this module does not support @cmd.
 */
const struct objheap_ioctl_op *objheap_find_op(unsigned int cmd)
{
	const struct objheap_ioctl_op *op;
	unsigned int nr = _IOC_NR(cmd);

	if (nr < OBJHEAP_CMD_BASE ||
	    nr - OBJHEAP_CMD_BASE >= ARRAY_SIZE(objheap_ioctl_ops))
		return NULL;
	op = &objheap_ioctl_ops[nr - OBJHEAP_CMD_BASE];
	if (op->ioctl_num != cmd || !objheap_op_supported(op))
		return NULL;
	return op;
}

/**
 * __objheap_ucmd_respond() - objheap_ucmd_respond() outside a batch.
 * @ucmd: The command in flight, a single ioctl.
 * @cmd_len: The size of the kernel's structure.
 *
 * Copies no more than userspace passed in, so an older, shorter structure
 * gets the fields it knows of.  The kernel copy was fully initialized by
 * copy_struct_from_user(), so no uninitialized byte leaves the kernel.
 *
 * Return: 0, or -EFAULT.
 */
int __objheap_ucmd_respond(struct objheap_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int objheap_query(struct objheap_ucmd *ucmd)
{
	struct objheap_query *cmd = ucmd->cmd;
	const struct objheap_ioctl_op *op;
	unsigned int i;

	cmd->out_cmd_size = 0;
	cmd->out_cmd_flags = 0;
	if (cmd->query_cmd) {
		if (cmd->query_cmd > _IOC_NRMASK)
			return -EOPNOTSUPP;
		op = objheap_find_op(_IO(OBJHEAP_TYPE, cmd->query_cmd));
		if (!op)
			return -EOPNOTSUPP;
		cmd->out_cmd_size = op->size;
		cmd->out_cmd_flags = op->flags;
	}

	cmd->out_version = OBJHEAP_API_VERSION;
	cmd->out_cmds = 0;
	for (i = 0; i < ARRAY_SIZE(objheap_ioctl_ops); i++)
		if (objheap_op_supported(&objheap_ioctl_ops[i]))
			cmd->out_cmds |= BIT_ULL(i);
	cmd->out_features = 0;
	if (IS_ENABLED(CONFIG_OBJHEAP_TEST))
		cmd->out_features |= OBJHEAP_FEATURE_TEST;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

static long objheap_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	struct oh_attach *att = filp->private_data;
	struct objheap_ucmd ucmd = {
		.heap = att->heap,
		.att = att,
		.ubuffer = (void __user *)arg,
	};
	const struct objheap_ioctl_op *op;
	union ucmd_buffer buf;
	int ret;

	op = objheap_find_op(cmd);
	if (!op)
		return -ENOTTY;

	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		return ret;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	if (buf.hdr.flags & ~op->flags)
		return -EINVAL;
	if (!objheap_op_permitted(op, &ucmd))
		return -EPERM;

	ret = objheap_lock(ucmd.heap, true);
	if (ret)
		return ret;
	/* What munmap() let go of is let go before the command looks. */
	if (unlikely(!llist_empty(&ucmd.heap->unmapped)))
		oh_payloads_drain(ucmd.heap);
	ret = op->execute(&ucmd);
	mutex_unlock(&ucmd.heap->lock);
	return ret;
}

/**
 * objheap_lock() - Take the heap's lock, counted as a waiter meanwhile.
 * @heap: The heap.
 * @killable: Give up with -EINTR when the task is killed.
 *
 * Return: 0 with the lock held, or -EINTR.
 */
int objheap_lock(struct objheap *heap, bool killable)
{
	int ret = 0;

	if (mutex_trylock(&heap->lock))
		return 0;
	atomic_inc(&heap->lock_waiters);
	if (killable)
		ret = mutex_lock_killable(&heap->lock);
	else
		mutex_lock(&heap->lock);
	atomic_dec(&heap->lock_waiters);
	return ret;
}

/* How long objheap_lock_yield() waits for a waiter to take the lock. */
#define OH_YIELD_NS	NSEC_PER_MSEC

/**
 * objheap_lock_yield() - Let the commands waiting for the heap's lock run.
 * @heap: The heap, whose lock the caller holds and takes back.
 *
 * A long command that gives up the lock now and then (a READ in pieces,
 * an attachment's cleanup) would otherwise mostly take it straight back:
 * a mutex favours the task that is running.  When a task waits, the lock
 * stays free until one has it, or for OH_YIELD_NS at most.
 */
void objheap_lock_yield(struct objheap *heap)
{
	u64 deadline;

	mutex_unlock(&heap->lock);
	if (atomic_read(&heap->lock_waiters)) {
		deadline = ktime_get_ns() + OH_YIELD_NS;
		while (atomic_read(&heap->lock_waiters) &&
		       !mutex_is_locked(&heap->lock) &&
		       ktime_get_ns() < deadline)
			cpu_relax();
	}
	cond_resched();
	objheap_lock(heap, false);
}

/* /sys/kernel/debug/objheap/, with a directory per heap named by its id. */
static struct dentry *objheap_debugfs_root;
static atomic64_t objheap_next_id = ATOMIC64_INIT(0);

static void objheap_debugfs_init(struct objheap *heap)
{
	char name[24];

	heap->id = atomic64_inc_return(&objheap_next_id);
	snprintf(name, sizeof(name), "%llu", heap->id);
	heap->debugfs = debugfs_create_dir(name, objheap_debugfs_root);
	objheap_alloc_debugfs_init(heap);
}

static int objheap_fops_open(struct inode *inode, struct file *filp)
{
	struct oh_attach *att;
	struct objheap *heap;
	int ret;

	heap = kzalloc(sizeof(*heap), OH_GFP);
	if (!heap)
		return -ENOMEM;
	mutex_init(&heap->lock);
	refcount_set(&heap->users, 1);
	xa_init_flags(&heap->attachments, XA_FLAGS_ALLOC1);
	xa_init_flags(&heap->homes, XA_FLAGS_ALLOC1);
	oh_payloads_init(heap);
	ret = oh_alloc_init(&heap->alloc, kmalloc_size_roundup(sizeof(*heap)) +
			    kmalloc_size_roundup(sizeof(*att)) +
			    OH_GC_HEADS_SIZE);
	if (ret)
		goto err_free_heap;
	ret = oh_objects_init(heap);
	if (ret)
		goto err_destroy_alloc;
	ret = oh_shrink_heap_init(heap);
	if (ret)
		goto err_destroy_gc;
	att = oh_attach_new(heap, 0, false);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto err_shrink_destroy;
	}
	att->announced = true;

	objheap_debugfs_init(heap);
	heap->alloc.heap_id = heap->id;
	objheap_register(heap);
	oh_shrink_heap_add(heap);
	filp->private_data = att;
	return stream_open(inode, filp);

err_shrink_destroy:
	oh_shrink_heap_destroy(heap);
err_destroy_gc:
	oh_gc_destroy(heap);
err_destroy_alloc:
	oh_alloc_destroy(&heap->alloc);
err_free_heap:
	xa_destroy(&heap->attachments);
	xa_destroy(&heap->homes);
	mutex_destroy(&heap->lock);
	kfree(heap);
	return ret;
}

/**
 * objheap_destroy() - Free a heap whose last attachment was released.
 * @heap: The heap.
 *
 * Context: Process context, without the heap's lock.
 */
void objheap_destroy(struct objheap *heap)
{
	oh_shrink_heap_destroy(heap);
	objheap_unregister(heap);
	debugfs_remove_recursive(heap->debugfs);
	oh_objects_destroy(heap);
	oh_tracing_destroy(heap);
	oh_weak_destroy(heap);
	oh_holders_destroy(heap);
	oh_payloads_destroy(heap);
	xa_destroy(&heap->attachments);
	xa_destroy(&heap->homes);
	oh_alloc_destroy(&heap->alloc);
	mutex_destroy(&heap->lock);
	kfree(heap);
}

static int objheap_fops_release(struct inode *inode, struct file *filp)
{
	oh_attach_release(filp->private_data);
	return 0;
}

/*
 * Whole records only, as many as fit in @count.  The heap's lock is taken
 * to dequeue, never held while waiting for events or while copying them
 * out (oh_events_read()).
 */
static ssize_t objheap_fops_read(struct file *filp, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct oh_attach *att = filp->private_data;
	size_t n = count / sizeof(struct objheap_event);
	ssize_t ret;

	if (!n)
		return -EINVAL;
	for (;;) {
		ret = oh_events_read(att, buf, n);
		if (ret)
			return ret;
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(att->events.wait,
					       oh_events_ready(att));
		if (ret)
			return ret;
	}
}

static __poll_t objheap_fops_poll(struct file *filp, poll_table *wait)
{
	struct oh_attach *att = filp->private_data;

	/*
	 * Our entry on the wait queue is ordered before the readiness test
	 * below, against the producer's update before its wq_has_sleeper():
	 * either we see the record, or the producer sees us and wakes us.
	 * poll_wait() is the barrier (compat.h gives older kernels one).
	 */
	poll_wait(filp, &att->events.wait, wait);
	return oh_events_ready(att) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* Which heap a file is, for /proc/PID/fdinfo and objheapctl show. */
static void objheap_fops_show_fdinfo(struct seq_file *m, struct file *filp)
{
	struct oh_attach *att = filp->private_data;

	seq_printf(m, "objheap-heap:\t%llu\n", att->heap->id);
	seq_printf(m, "objheap-attachment:\t%u\n", att->id);
}

const struct file_operations objheap_fops = {
	.owner = THIS_MODULE,
	.open = objheap_fops_open,
	.release = objheap_fops_release,
	.read = objheap_fops_read,
	.poll = objheap_fops_poll,
	.mmap = objheap_fops_mmap,
	.unlocked_ioctl = objheap_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = objheap_fops_show_fdinfo,
};

/*
 * Any user may open a heap: like a pipe or a memfd, what a heap holds is
 * charged to the opener's memory cgroup (GFP_KERNEL_ACCOUNT) and bounded
 * by the heap's limit and by the bound on all heaps of the opener's user
 * (kmod/user.c).
 */
static struct miscdevice objheap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "objheap",
	.fops = &objheap_fops,
	.mode = 0666,
};

static int __init objheap_init(void)
{
	int ret;

	ret = oh_alloc_setup();
	if (ret)
		return ret;
	ret = oh_payload_setup();
	if (ret)
		return ret;
	oh_user_setup();
	ret = oh_shrink_setup();
	if (ret)
		goto err_payload_cleanup;
	objheap_debugfs_root = debugfs_create_dir("objheap", NULL);
	ret = objheap_proc_init();
	if (ret)
		goto err_remove_debugfs;
	ret = misc_register(&objheap_misc);
	if (ret)
		goto err_remove_proc;
	pr_info("version %s ready, uapi version %d%s\n", OBJHEAP_VERSION,
		OBJHEAP_API_VERSION,
		IS_ENABLED(CONFIG_OBJHEAP_TEST) ? ", test interface built in" : "");
	return 0;

err_remove_proc:
	objheap_proc_exit();
err_remove_debugfs:
	debugfs_remove_recursive(objheap_debugfs_root);
	oh_shrink_cleanup();
err_payload_cleanup:
	oh_payload_cleanup();
	return ret;
}

static void __exit objheap_exit(void)
{
	misc_deregister(&objheap_misc);
	/* A worker may still hold a heap whose files are all closed. */
	oh_shrink_cleanup();
	objheap_proc_exit();
	debugfs_remove_recursive(objheap_debugfs_root);
	oh_payload_cleanup();
	oh_user_cleanup();
}

module_init(objheap_init);
module_exit(objheap_exit);

MODULE_DESCRIPTION("Managed object heap with reference counting and a cycle collector");
MODULE_LICENSE("GPL");
MODULE_VERSION(OBJHEAP_VERSION);
