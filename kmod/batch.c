// SPDX-License-Identifier: GPL-2.0
/*
 * OBJHEAP_BATCH: many commands in one system call.
 *
 * One ioctl costs about as much as creating and destroying a small
 * object, so userspace sends its commands in batches: a buffer of
 * entries, each a struct objheap_batch_entry followed by the command's
 * own structure, run under one acquisition of the heap's lock through the
 * very handlers of the single ioctls.
 *
 * Context: every function here runs with the heap's lock held; the
 * dispatcher takes it before objheap_batch() runs.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "objheap.h"

/**
 * struct objheap_batch_ctx - The state of an OBJHEAP_BATCH in progress.
 * @out_handles: The handle each entry returned so far, or 0.
 * @cur: The entry running.
 */
struct objheap_batch_ctx {
	u64 *out_handles;
	u32 cur;
};

/* Batch entries run between two cond_resched() calls. */
#define OBJHEAP_BATCH_RESCHED_EVERY 64

/**
 * objheap_batch_ref() - Resolve OBJHEAP_BATCH_REF(i) inside a batch.
 * @ucmd: The command holding the reference.
 * @ref: The reference.
 *
 * Return: The handle entry i returned, or 0 when @ref is not a reference
 * to an earlier entry of the running batch that returned one.
 */
u64 objheap_batch_ref(struct objheap_ucmd *ucmd, u64 ref)
{
	struct objheap_batch_ctx *ctx = ucmd->batch;
	u64 i = ref & ~OBJHEAP_HANDLE_BATCH_BIT;

	if (!ctx || i >= ctx->cur)
		return 0;
	return ctx->out_handles[i];
}

/*
 * Check the layout of a batch's entries before any of them runs: each is
 * a batchable command whose structure is at least its minimum size and
 * lies within the buffer, and the entries fill the buffer exactly.
 */
static int objheap_batch_check(const void *buf, u32 len, u32 count)
{
	const struct objheap_batch_entry *entry;
	const struct objheap_ioctl_op *op;
	size_t off = 0, end = 0;
	u32 i, size;

	for (i = 0; i < count; i++) {
		if (off + sizeof(*entry) + sizeof(struct objheap_cmd_header) > len)
			return -EINVAL;
		entry = buf + off;
		op = objheap_find_op(_IO(OBJHEAP_TYPE, entry->cmd & _IOC_NRMASK));
		if (entry->cmd > _IOC_NRMASK || !op || !op->batchable)
			return -EINVAL;
		size = *(const u32 *)(entry + 1);
		end = off + sizeof(*entry) + size;
		if (size < op->min_size || end > len)
			return -EINVAL;
		off = ALIGN(end, sizeof(u64));
	}
	return end == len ? 0 : -EINVAL;
}

/*
 * Run one entry, whose structure of @size bytes is at @ustruct in the
 * kernel's copy of the batch, exactly as copy_struct_from_user() and the
 * dispatcher would have: zero-extended, trailing bytes zero, flags known.
 * An entry of exactly the kernel's size (what libobjheap sends) runs in
 * place: handlers write their outputs only when they succeed.
 */
static int objheap_batch_run(struct objheap_ucmd *ucmd,
			     const struct objheap_ioctl_op *op,
			     void *ustruct, u32 size)
{
	struct objheap_cmd_header *hdr = ustruct;
	union ucmd_buffer buf;
	int ret;

	if (size != op->size) {
		if (size > op->size &&
		    memchr_inv(ustruct + op->size, 0, size - op->size))
			return -E2BIG;
		memset(&buf, 0, op->size);
		memcpy(&buf, ustruct, min(size, op->size));
		hdr = &buf.hdr;
	}
	if (hdr->flags & ~op->flags)
		return -EINVAL;

	ucmd->cmd = hdr;
	ucmd->user_size = size;
	ucmd->out_handle = 0;
	ret = op->execute(ucmd);
	if (!ret && hdr == &buf.hdr)
		memcpy(ustruct, &buf, min(size, op->size));
	return ret;
}

/**
 * objheap_batch() - OBJHEAP_BATCH.
 * @ucmd: The command.
 *
 * Context: The heap's lock is held.
 * Return: 0, or -EINVAL, -EFAULT or -ENOMEM (see struct objheap_batch).
 */
int objheap_batch(struct objheap_ucmd *ucmd)
{
	struct objheap_batch *cmd = ucmd->cmd;
	const struct objheap_ioctl_op *op;
	struct objheap_batch_entry *entry;
	struct objheap_batch_ctx ctx = {};
	struct objheap_ucmd sub = {
		.heap = ucmd->heap,
		.batch = &ctx,
	};
	size_t off = 0;
	void *buf;
	u32 size;
	int ret;

	if (!cmd->count || cmd->count > OBJHEAP_BATCH_MAX_COUNT ||
	    cmd->len > OBJHEAP_BATCH_MAX_LEN)
		return -EINVAL;
	buf = kvmalloc(cmd->len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	ctx.out_handles = kvmalloc_array(cmd->count, sizeof(u64),
					 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	ret = -ENOMEM;
	if (!buf || !ctx.out_handles)
		goto out_free;
	ret = -EFAULT;
	if (copy_from_user(buf, u64_to_user_ptr(cmd->buf_uptr), cmd->len))
		goto out_free;
	ret = objheap_batch_check(buf, cmd->len, cmd->count);
	if (ret)
		goto out_free;

	cmd->out_done = 0;
	cmd->out_failed = 0;
	for (ctx.cur = 0; ctx.cur < cmd->count; ctx.cur++) {
		entry = buf + off;
		size = *(u32 *)(entry + 1);
		off = ALIGN(off + sizeof(*entry) + size, sizeof(u64));
		if (cmd->out_failed && !(cmd->flags & OBJHEAP_BATCH_CONTINUE)) {
			entry->out_result = -ECANCELED;
			ctx.out_handles[ctx.cur] = 0;
			continue;
		}
		op = objheap_find_op(_IO(OBJHEAP_TYPE, entry->cmd));
		entry->out_result = objheap_batch_run(&sub, op, entry + 1, size);
		ctx.out_handles[ctx.cur] = entry->out_result ? 0 : sub.out_handle;
		cmd->out_done++;
		if (entry->out_result)
			cmd->out_failed++;
		if (!(ctx.cur % OBJHEAP_BATCH_RESCHED_EVERY))
			cond_resched();
	}

	ret = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(cmd->buf_uptr), buf, cmd->len))
		goto out_free;
	ret = objheap_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kvfree(ctx.out_handles);
	kvfree(buf);
	return ret;
}
