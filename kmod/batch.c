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
 * A batch goes through four steps.  Whatever userspace can get wrong
 * fails in the first two, before any entry runs:
 *
 *  1. Pin.  The pages of the entries' buffer and of the batch's own
 *     structure are pinned for writing.  A buffer that is read-only or
 *     not mapped fails here, with EFAULT.  Pinned pages stay put, so the
 *     write-back of step 4 cannot fail: a batch that ran always reports
 *     what it did, and every handle its entries returned reaches
 *     userspace with its reference.  (Were the buffer unmapped while the
 *     batch runs, the results would land in pages only the pin still
 *     holds, exactly as if it had been unmapped just after the call.)
 *
 *  2. Copy and plan.  The buffer is copied once into kernel memory and
 *     checked there: each entry is a batchable command whose structure
 *     is at least its minimum size and ends inside the buffer, and the
 *     entries fill the buffer exactly.  A size userspace gives is compared
 *     with the bytes left before it is added to an offset, so none can
 *     wrap one.  Where each entry's structure lies, its size and its
 *     command go into a plan, and step 3 runs the plan: nothing of the
 *     layout is read again.  The plan also adds up the payload bytes the
 *     entries would copy (struct objheap_batch's kernel-doc says which);
 *     over OBJHEAP_BATCH_MAX_BYTES the batch is refused, so the work of a
 *     batch is bounded, not only its number of entries.
 *
 *  3. Run.  The entries run in order, on the kernel copy.  Between two
 *     entries the batch reschedules now and then, and a fatal signal
 *     stops it: the entries left are cancelled as after a failure and the
 *     call returns -EINTR.  Each entry leaves the heap consistent, so a
 *     batch stopped between two entries does too.
 *
 *  4. Write back.  The whole buffer, outputs and results, then out_done
 *     and out_failed, go back through the pinned pages.
 *
 * An entry that creates an object or returns a reference follows the
 * creation rule of kmod/object.c: its response is written before the
 * object is published or the reference counted.  Inside a batch that
 * write goes to the kernel copy, which step 4 cannot fail to deliver.
 *
 * Context: every function here runs with the heap's lock held; the
 * dispatcher takes it before objheap_batch() runs.
 */
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "objheap.h"

/*
 * A batch's memory, its plan and its kernel copy, of up to this many bytes
 * stays with the attachment for its next batch (objheap_batch_mem()).
 */
#define OBJHEAP_BATCH_KEEP SZ_16K

/* The plan's offsets, u32, have room for a buffer and then some. */
static_assert((u64)OBJHEAP_BATCH_MAX_LEN * 2 <= U32_MAX);

/* Batch entries run between two cond_resched() calls. */
#define OBJHEAP_BATCH_RESCHED_EVERY 64

/*
 * Page pointers kept inline: the batch's own structure, or a buffer of a
 * few dozen entries, spans at most two pages.
 */
#define OBJHEAP_UPIN_INLINE 2

/**
 * struct objheap_upin - A user range whose pages are pinned for writing.
 * @pages: @npages pages, @inline_pages when they fit there.
 * @inline_pages: Room for small ranges.
 * @npages: Pages pinned.
 * @offset: Where the range starts in its first page.
 * @len: Bytes in the range.
 */
struct objheap_upin {
	struct page **pages;
	struct page *inline_pages[OBJHEAP_UPIN_INLINE];
	unsigned int npages;
	unsigned int offset;
	size_t len;
};

/*
 * Pin the @len bytes at @uptr for writing.  Return: 0, -EFAULT when a page
 * of the range is not mapped writable, -ENOMEM, or -EINTR on a fatal
 * signal.
 */
static int objheap_upin(struct objheap_upin *p, u64 uptr, size_t len)
{
	unsigned long start = uptr;
	size_t offset = offset_in_page(start), last;
	int n;

	if (start != uptr || !len || check_add_overflow(offset, len - 1, &last))
		return -EFAULT;
	p->offset = offset;
	p->len = len;
	p->npages = last / PAGE_SIZE + 1;
	p->pages = p->inline_pages;
	if (p->npages > OBJHEAP_UPIN_INLINE) {
		p->pages = kvmalloc_array(p->npages, sizeof(*p->pages),
					  OH_GFP_LARGE);
		if (!p->pages)
			return -ENOMEM;
	}
	n = pin_user_pages_fast(start & PAGE_MASK, p->npages, FOLL_WRITE,
				p->pages);
	if (n == p->npages)
		return 0;
	if (n > 0)
		unpin_user_pages(p->pages, n);
	if (p->pages != p->inline_pages)
		kvfree(p->pages);
	return n == -ENOMEM || n == -EINTR ? n : -EFAULT;
}

/* Unpin, marking the pages dirty if they were written. */
static void objheap_unpin(struct objheap_upin *p, bool written)
{
	unpin_user_pages_dirty_lock(p->pages, p->npages, written);
	if (p->pages != p->inline_pages)
		kvfree(p->pages);
}

/* Copy the pinned range into @dst. */
static void objheap_upin_read(const struct objheap_upin *p, void *dst)
{
	size_t off = p->offset, done = 0, n;
	unsigned int i;

	for (i = 0; done < p->len; i++, off = 0) {
		n = min_t(size_t, PAGE_SIZE - off, p->len - done);
		memcpy_from_page(dst + done, p->pages[i], off, n);
		done += n;
	}
}

/* Copy @src over the pinned range; this cannot fail. */
static void objheap_upin_write(const struct objheap_upin *p, const void *src)
{
	size_t off = p->offset, done = 0, n;
	unsigned int i;

	for (i = 0; done < p->len; i++, off = 0) {
		n = min_t(size_t, PAGE_SIZE - off, p->len - done);
		memcpy_to_page(p->pages[i], off, src + done, n);
		done += n;
	}
}

/*
 * Give @buf the kernel's view of an entry's structure of @size bytes at
 * @ustruct, as copy_struct_from_user() would: fields past @size zero.
 */
static void objheap_batch_load(union ucmd_buffer *buf,
			       const struct objheap_ioctl_op *op,
			       const void *ustruct, u32 size)
{
	memset(buf, 0, op->size);
	memcpy(buf, ustruct, min(size, op->size));
}

/*
 * The payload bytes the entry whose structure is at @ustruct would copy or
 * clear, which the batch's budget counts: a new object's payload and slot
 * array, an interned payload, a read or a write, and the new size of a
 * resized object (the most a move of its slots and payload copies and
 * clears).  The other batchable commands do a bounded amount of work
 * each.  @op's fields of the price end within its first version (see
 * IOCTL_PRICE_AT()), which the entry was checked to hold: they are read
 * with no check of its size.  An entry's structure starts 8-byte aligned.
 */
static_assert(sizeof(struct objheap_batch_entry) % sizeof(u64) == 0 &&
	      sizeof(struct objheap_batch_step) % sizeof(u64) == 0);

static __always_inline u64 objheap_batch_cost(const struct objheap_ioctl_op *op,
					      const void *ustruct)
{
	u64 cost = *(const u32 *)(ustruct + op->bytes_at);

	if (op->slots_at)
		cost += (u64)*(const u32 *)(ustruct + op->slots_at) *
			sizeof(u64);
	return cost;
}

/*
 * Check the layout of the kernel copy @buf of @len bytes and record in
 * @ctx where each of its @count entries is.  Return: 0, or -EINVAL.
 */
static int objheap_batch_plan(struct objheap_batch_ctx *ctx, const void *buf,
			      u32 len, u32 count)
{
	const u32 head = sizeof(struct objheap_batch_entry) +
			 sizeof(struct objheap_cmd_header);
	/*
	 * Batches mostly repeat a command or two: the commands seen last,
	 * by their number's low bits, spare the entries a lookup each.  An
	 * empty slot holds the number of the slot after it: a command is
	 * only ever compared in the slot of its own low bits, so no entry's
	 * command, whatever it is, matches an empty slot (and its NULL op).
	 */
	struct {
		const struct objheap_ioctl_op *op;
		u32 cmd;
	} seen[4] = {
		{ .cmd = 1 }, { .cmd = 2 }, { .cmd = 3 }, { .cmd = 4 },
	}, *c;
	struct objheap_batch_step *steps = ctx->steps;
	const struct objheap_batch_entry *entry;
	const struct objheap_ioctl_op *op;
	u32 off = 0, end = 0, body, size, i;
	u64 bytes = 0;

	/*
	 * @off is at most @len + 7 and @len at most OBJHEAP_BATCH_MAX_LEN
	 * (see the static_assert() above), so @off + @head cannot wrap; a
	 * structure's size, any u32, is added only once it is known to fit
	 * in what is left of @len.
	 */
	for (i = 0; i < count; i++) {
		/* The entry, then its structure's size and flags. */
		if (off + head > len)
			return -EINVAL;
		entry = buf + off;
		c = &seen[entry->cmd % ARRAY_SIZE(seen)];
		if (unlikely(c->cmd != entry->cmd)) {
			if (entry->cmd > _IOC_NRMASK)
				return -EINVAL;
			op = objheap_find_op(_IO(OBJHEAP_TYPE, entry->cmd));
			if (!op || !op->batchable)
				return -EINVAL;
			c->op = op;
			c->cmd = entry->cmd;
		}
		op = c->op;
		body = off + sizeof(*entry);
		size = ((const struct objheap_cmd_header *)(buf + body))->size;
		if (size < op->min_size || size > len - body)
			return -EINVAL;
		end = body + size;
		/*
		 * @bytes is at most OBJHEAP_BATCH_MAX_BYTES before the sum and
		 * a cost is below 2^36: this cannot wrap.
		 */
		if (op->bytes_at) {
			bytes += objheap_batch_cost(op, buf + body);
			if (bytes > OBJHEAP_BATCH_MAX_BYTES)
				return -EINVAL;
		}
		steps[i].op = op;
		steps[i].off = body;
		steps[i].size = size;
		off = ALIGN(end, sizeof(u64));
	}
	return end == len ? 0 : -EINVAL;
}

/*
 * Run an entry whose structure is not of the kernel's size as
 * copy_struct_from_user() and the dispatcher would have: zero-extended, or
 * with its trailing bytes zero, in @ucmd's batch's buffer.  Out of line:
 * libobjheap sends the kernel's size, and the registers this takes would
 * be spilled around every entry's call.
 */
static noinline int objheap_batch_run_resized(struct objheap_ucmd *ucmd,
					      const struct objheap_batch_step *step,
					      void *ustruct, bool readonly)
{
	union ucmd_buffer *buf = &ucmd->batch->buf;
	const struct objheap_ioctl_op *op = step->op;
	u32 size = step->size;
	int ret;

	if (size > op->size &&
	    memchr_inv(ustruct + op->size, 0, size - op->size))
		return -E2BIG;
	objheap_batch_load(buf, op, ustruct, size);
	if (buf->hdr.flags & ~op->flags)
		return -EINVAL;
	if (op->writes && readonly)
		return -EPERM;

	ucmd->cmd = buf;
	ucmd->out_handle = 0;
	ret = op->execute(ucmd);
	if (!ret)
		memcpy(ustruct, buf, min(size, op->size));
	return ret;
}

/*
 * Run one entry, whose structure of @step->size bytes is at @ustruct in
 * the kernel's copy of the batch, exactly as the dispatcher would have:
 * flags known, and refused if it writes and the attachment is @readonly.
 * An entry of exactly the kernel's size (what libobjheap sends) runs in
 * place: handlers write their outputs only when they succeed.
 */
static __always_inline int
objheap_batch_run_entry(struct objheap_ucmd *ucmd,
			const struct objheap_batch_step *step, void *ustruct,
			bool readonly)
{
	const struct objheap_ioctl_op *op = step->op;
	struct objheap_cmd_header *hdr = ustruct;

	if (unlikely(step->size != op->size))
		return objheap_batch_run_resized(ucmd, step, ustruct, readonly);
	if (hdr->flags & ~op->flags)
		return -EINVAL;
	/* objheap_op_permitted(), with the attachment's flag read once. */
	if (op->writes && readonly)
		return -EPERM;

	ucmd->cmd = hdr;
	ucmd->out_handle = 0;
	return op->execute(ucmd);
}

/* Where the result of @step's entry goes, in the kernel copy @buf. */
static inline s32 *objheap_batch_result(void *buf,
					const struct objheap_batch_step *step)
{
	struct objheap_batch_entry *entry = buf + step->off - sizeof(*entry);

	return &entry->out_result;
}

/*
 * Run the plan on the kernel copy @buf: the entries in order until one
 * fails (unless OBJHEAP_BATCH_CONTINUE) or a fatal signal is pending, then
 * cancel those left.  The counts are kept in locals and stored once: an
 * entry's handler may be anything, so the compiler would otherwise store
 * and load them around every call.
 *
 * Return: 0, or -EINTR when a fatal signal stopped the batch between two
 * entries.
 */
static int objheap_batch_run(struct objheap_ucmd *ucmd,
			     struct objheap_batch_ctx *ctx, void *buf)
{
	struct objheap_batch *cmd = ucmd->cmd;
	/*
	 * An entry's command has no user structure of its own: the batch
	 * writes back the whole buffer (objheap_ucmd_respond() copies
	 * nothing inside a batch, and nothing else reads @ubuffer or
	 * @user_size).
	 */
	struct objheap_ucmd sub = {
		.heap = ucmd->heap,
		.att = ucmd->att,
		.batch = ctx,
	};
	bool stop = !(cmd->flags & OBJHEAP_BATCH_CONTINUE);
	bool readonly = oh_attach_readonly(ucmd->att);
	struct objheap_batch_step *steps = ctx->steps, *step;
	u32 count = cmd->count, failed = 0, i;
	int ret = 0, result;

	for (i = 0; i < count; i++) {
		if (unlikely(fatal_signal_pending(current))) {
			ret = -EINTR;
			break;
		}
		step = &steps[i];
		ctx->cur = i;
		result = objheap_batch_run_entry(&sub, step, buf + step->off,
						 readonly);
		*objheap_batch_result(buf, step) = result;
		if (likely(!result)) {
			step->out_handle = sub.out_handle;
		} else {
			step->out_handle = 0;
			failed++;
			if (stop) {
				i++;
				break;
			}
		}
		if (!((i + 1) % OBJHEAP_BATCH_RESCHED_EVERY))
			cond_resched();
	}
	cmd->out_done = i;
	cmd->out_failed = failed;
	for (; i < count; i++)
		*objheap_batch_result(buf, &steps[i]) = -ECANCELED;
	return ret;
}

/*
 * @size bytes for a batch of @att: the memory @att keeps for its batches,
 * grown to a power of two, when @size is at most OBJHEAP_BATCH_KEEP.  The
 * slab's memory comes zeroed (init_on_alloc, on in Debian's kernels),
 * which a batch's, wholly overwritten before it is read, does not need:
 * zeroing afresh for each batch took 8 to 12 instructions an entry in
 * batches of 64 (make count).  What a batch leaves there is never read by
 * the next one, and stays with the attachment that wrote it.  Two batches
 * of one attachment never share it: a batch holds the heap's lock from
 * this call to its write-back, and no batchable command gives it up (a
 * large READ or WRITE gives it up only outside a batch).
 */
static void *objheap_batch_mem(struct oh_attach *att, size_t size)
{
	void *mem;

	if (size > OBJHEAP_BATCH_KEEP)
		return kvmalloc(size, OH_GFP_LARGE);
	if (size <= att->batch_mem_size)
		return att->batch_mem;
	size = roundup_pow_of_two(max_t(size_t, size, SZ_1K));
	mem = kmalloc(size, OH_GFP_LARGE);
	if (!mem)
		return NULL;
	kfree(att->batch_mem);
	att->batch_mem = mem;
	att->batch_mem_size = size;
	return mem;
}

static void objheap_batch_mem_free(struct oh_attach *att, void *mem)
{
	if (mem != att->batch_mem)
		kvfree(mem);
}

/**
 * objheap_batch() - OBJHEAP_BATCH.
 * @ucmd: The command.
 *
 * Context: The heap's lock is held.
 * Return: 0; -EINTR when a fatal signal stopped the batch, whose results
 * are written back all the same; or, before any entry runs, -EINVAL,
 * -EFAULT or -ENOMEM (see struct objheap_batch).
 */
int objheap_batch(struct objheap_ucmd *ucmd)
{
	struct objheap_batch *cmd = ucmd->cmd;
	struct objheap_upin ucmd_pin, buf_pin;
	struct objheap_batch_ctx ctx = {};
	bool written = false;
	size_t plan_size;
	void *buf;
	int ret;

	if (!cmd->count || cmd->count > OBJHEAP_BATCH_MAX_COUNT ||
	    !cmd->len || cmd->len > OBJHEAP_BATCH_MAX_LEN)
		return -EINVAL;
	/* The plan, then the kernel copy: both bounded, this cannot wrap. */
	plan_size = array_size(cmd->count, sizeof(*ctx.steps));
	ctx.steps = objheap_batch_mem(ucmd->att, plan_size + cmd->len);
	if (!ctx.steps)
		return -ENOMEM;
	buf = (void *)ctx.steps + plan_size;

	ret = objheap_upin(&ucmd_pin, (unsigned long)ucmd->ubuffer,
			   min_t(size_t, ucmd->user_size, sizeof(*cmd)));
	if (ret)
		goto out_free;
	ret = objheap_upin(&buf_pin, cmd->buf_uptr, cmd->len);
	if (ret)
		goto out_unpin_ucmd;
	objheap_upin_read(&buf_pin, buf);
	ret = objheap_batch_plan(&ctx, buf, cmd->len, cmd->count);
	if (ret)
		goto out_unpin_buf;

	ret = objheap_batch_run(ucmd, &ctx, buf);
	objheap_upin_write(&buf_pin, buf);
	objheap_upin_write(&ucmd_pin, cmd);
	written = true;
out_unpin_buf:
	objheap_unpin(&buf_pin, written);
out_unpin_ucmd:
	objheap_unpin(&ucmd_pin, written);
out_free:
	objheap_batch_mem_free(ucmd->att, ctx.steps);
	return ret;
}
