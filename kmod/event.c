// SPDX-License-Identifier: GPL-2.0
/*
 * The event queue.
 *
 * What happens to objects is decided by the kernel, but what must follow
 * a death (closing a file, evicting a cache entry, running a finalizer)
 * is userspace's business, so the kernel tells it through the files of
 * the heap's attachments, each with a queue of its own.  Every death a
 * weak reference asked to hear of, every PEP 442 finalization, every
 * object sent to an attachment, every attachment gone and, when asked
 * for, the start and end of every collection become a fixed-size struct
 * objheap_event that read() returns, oldest first, to the attachment
 * concerned.  poll() reports EPOLLIN while a record is pending.
 *
 * Records are queued in chunks of about a page, allocated as the queue
 * grows and freed as read() drains them.  Their memory is charged against
 * the heap's limit with oh_charge(): a heap cannot grow without bound
 * because nobody reads its file.  Producers never fail because of the
 * queue: an event that cannot be queued is *lost*, and counted.  The
 * count of losses since the last record queued travels in the next
 * record's @lost, and when read() drains the queue with losses still
 * unreported it appends an OBJHEAP_EVENT_LOST record: the records read
 * plus the losses reported always add up to the events that happened, in
 * order.
 *
 * Locking: records are queued by commands, under the heap's lock.  read()
 * never sleeps with that lock: it waits on @wait for @ready, which
 * producers update with WRITE_ONCE() under the lock and poll() and the
 * waiters read without it; and it copies records to userspace, which may
 * fault and sleep for as long as userspace likes (userfaultfd, FUSE), from
 * a kernel buffer after dropping the lock.  Readers are serialized by
 * @read_lock instead, so the records one of them copied are still at the
 * head of the queue when it comes back, under the heap's lock, to consume
 * them; producers only ever append.  The order is @read_lock, then
 * heap->lock, then the wait queue's spinlock (inside wake_up()).
 */
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "objheap.h"

/* Records a read() moves per round: 512 bytes of stack. */
#define OH_EVENT_READ_BATCH 8

/* A chunk is one page: its header, then as many records as fit. */
#define OH_EVENT_CHUNK_HEADER	32
#define OH_EVENT_CHUNK_RECORDS	\
	((PAGE_SIZE - OH_EVENT_CHUNK_HEADER) / sizeof(struct objheap_event))

/**
 * struct oh_event_chunk - Records, in the order they were queued.
 * @link: In the queue's list of chunks.
 * @head: The next record to read.
 * @tail: The next free record; @head == @tail when all are read.
 * @recs: The records.
 */
struct oh_event_chunk {
	struct list_head link;
	u32 head;
	u32 tail;
	struct objheap_event recs[OH_EVENT_CHUNK_RECORDS];
};

/**
 * oh_events_init() - Set up a new attachment's empty queue.
 * @att: The attachment being made.
 *
 * Context: Process context, before the attachment is visible.
 */
void oh_events_init(struct oh_attach *att)
{
	struct oh_events *q = &att->events;

	BUILD_BUG_ON(offsetof(struct oh_event_chunk, recs) > OH_EVENT_CHUNK_HEADER);
	INIT_LIST_HEAD(&q->chunks);
	init_waitqueue_head(&q->wait);
	mutex_init(&q->read_lock);
}

static void oh_event_chunk_free(struct oh_attach *att, struct oh_event_chunk *c)
{
	list_del(&c->link);
	kfree(c);
	att->events.bytes -= sizeof(*c);
	oh_uncharge(&att->heap->alloc, sizeof(*c));
}

/**
 * oh_events_destroy() - Discard what a closed attachment's queue holds.
 * @att: The attachment, which nothing can reach any more.
 *
 * Context: Process context, from the file's release(), with the heap's
 * lock held: the chunks' memory leaves the heap's counts.
 */
void oh_events_destroy(struct oh_attach *att)
{
	struct oh_event_chunk *c, *tmp;

	list_for_each_entry_safe(c, tmp, &att->events.chunks, link) {
		oh_event_chunk_free(att, c);
		cond_resched();
	}
	mutex_destroy(&att->events.read_lock);
}

/* Publish the new state to poll() and to sleeping readers. */
static void oh_events_update(struct oh_events *q)
{
	WRITE_ONCE(q->ready, q->queued + !!q->pending_lost);
	/* Pairs with the barrier of set_current_state() in the waiters. */
	if (wq_has_sleeper(&q->wait))
		wake_up_interruptible_poll(&q->wait, EPOLLIN | EPOLLRDNORM);
}

/**
 * oh_events_ready() - Whether a read would return a record now.
 * @att: The attachment.
 *
 * Context: Any; the heap's lock need not be held.
 * Return: true when a record is pending.
 */
bool oh_events_ready(struct oh_attach *att)
{
	return READ_ONCE(att->events.ready) != 0;
}

/**
 * oh_event_lose() - Count an event that could not be delivered.
 * @att: The attachment.
 *
 * Context: The heap's lock is held.
 */
void oh_event_lose(struct oh_attach *att)
{
	struct oh_events *q = &att->events;

	lockdep_assert_held(&att->heap->lock);

	q->pending_lost++;
	q->lost_total++;
	WRITE_ONCE(att->heap->events_lost, att->heap->events_lost + 1);
	oh_events_update(q);
}

static struct oh_event_chunk *oh_event_chunk_new(struct oh_attach *att)
{
	struct oh_event_chunk *c;

	if (oh_charge(&att->heap->alloc, sizeof(*c)))
		return NULL;
	c = kmalloc(sizeof(*c), OH_GFP);
	if (!c) {
		oh_uncharge(&att->heap->alloc, sizeof(*c));
		return NULL;
	}
	c->head = 0;
	c->tail = 0;
	list_add_tail(&c->link, &att->events.chunks);
	att->events.bytes += sizeof(*c);
	return c;
}

/* Append @ev, or fail with -ENOMEM when the queue cannot grow. */
static int oh_event_append(struct oh_attach *att, struct objheap_event *ev)
{
	struct oh_events *q = &att->events;
	struct oh_event_chunk *c = NULL;

	if (!list_empty(&q->chunks))
		c = list_last_entry(&q->chunks, struct oh_event_chunk, link);
	if (!c || c->tail == OH_EVENT_CHUNK_RECORDS) {
		c = oh_event_chunk_new(att);
		if (!c)
			return -ENOMEM;
	}
	ev->lost = q->pending_lost;
	q->pending_lost = 0;
	c->recs[c->tail++] = *ev;
	q->queued++;
	oh_events_update(q);
	return 0;
}

/**
 * oh_event_queue() - Queue a record.
 * @att: The attachment whose queue it goes to.
 * @ev: The record, zeroed and then filled but for @ev->lost, which this
 *      sets.
 *
 * An attachment whose file is gone takes no record, and counts none
 * lost: nobody will read it.
 *
 * Context: The heap's lock is held; may sleep to allocate.
 * Return: 0; -ESRCH when @att is closing; -ENOMEM when the queue could
 * not grow: the event is then counted as lost.
 */
int oh_event_queue(struct oh_attach *att, struct objheap_event *ev)
{
	int ret;

	lockdep_assert_held(&att->heap->lock);

	if (att->closing)
		return -ESRCH;
	ret = oh_event_append(att, ev);
	if (ret)
		oh_event_lose(att);
	return ret;
}

/**
 * oh_event_deliver() - Queue a record that must not be lost.
 * @att: The attachment whose queue it goes to.
 * @ev: As for oh_event_queue().
 *
 * For a record that carries a reference (OBJHEAP_EVENT_RECEIVED): when it
 * cannot be queued, the command that would send it fails instead.
 *
 * Context: The heap's lock is held; may sleep to allocate.
 * Return: 0; -ESRCH when @att is closing; -ENOMEM, with nothing counted.
 */
int oh_event_deliver(struct oh_attach *att, struct objheap_event *ev)
{
	lockdep_assert_held(&att->heap->lock);

	if (att->closing)
		return -ESRCH;
	return oh_event_append(att, ev);
}

/*
 * Copy up to @n records from the head of the queue to @kbuf, without
 * consuming them; the caller holds @read_lock, so they stay at the head.
 * With the queue empty and losses pending, the OBJHEAP_EVENT_LOST record
 * instead, taking the losses over (*@lost, to give back with
 * oh_events_unpeek_lost() if the copy to userspace fails).  Returns the
 * records copied.
 */
static size_t oh_events_peek(struct oh_attach *att, struct objheap_event *kbuf,
			     size_t n, u64 *lost)
{
	struct oh_events *q = &att->events;
	struct oh_event_chunk *c;
	size_t done = 0, k;

	*lost = 0;
	list_for_each_entry(c, &q->chunks, link) {
		k = min_t(size_t, n - done, c->tail - c->head);
		memcpy(&kbuf[done], &c->recs[c->head], k * sizeof(*kbuf));
		done += k;
		if (done == n)
			break;
	}
	if (!done && q->pending_lost) {
		memset(kbuf, 0, sizeof(*kbuf));
		kbuf->type = OBJHEAP_EVENT_LOST;
		kbuf->lost = q->pending_lost;
		*lost = q->pending_lost;
		q->pending_lost = 0;
		oh_events_update(q);
		done = 1;
	}
	return done;
}

/*
 * The LOST record of @lost events could not be copied: report them again,
 * in order.  Records queued meanwhile come after those losses, so the
 * first of them carries them; otherwise they are pending again.
 */
static void oh_events_unpeek_lost(struct oh_attach *att, u64 lost)
{
	struct oh_events *q = &att->events;
	struct oh_event_chunk *c;

	c = list_first_entry_or_null(&q->chunks, struct oh_event_chunk, link);
	if (c && c->head < c->tail)
		c->recs[c->head].lost += lost;
	else
		q->pending_lost += lost;
	oh_events_update(q);
}

/* Consume the @n records at the head of the queue, which were peeked. */
static void oh_events_consume(struct oh_attach *att, size_t n)
{
	struct oh_events *q = &att->events;
	struct oh_event_chunk *c;
	size_t k;

	while (n) {
		c = list_first_entry(&q->chunks, struct oh_event_chunk, link);
		k = min_t(size_t, n, c->tail - c->head);
		c->head += k;
		q->queued -= k;
		n -= k;
		if (c->head == c->tail)
			oh_event_chunk_free(att, c);
	}
	oh_events_update(q);
}

/**
 * oh_events_read() - Move pending records to a user buffer.
 * @att: The attachment.
 * @buf: Room for @n records.
 * @n: At least 1.
 *
 * Records are copied to userspace OH_EVENT_READ_BATCH at a time, through
 * a buffer on the stack, with the heap's lock dropped; only records
 * copied successfully leave the queue.  Nothing is allocated, so a read
 * never fails for want of memory.  A fatal signal stops the copy between
 * two rounds.
 *
 * Context: Process context; takes the queue's @read_lock and, briefly,
 * the heap's lock.  Neither is held on return.
 * Return: The bytes copied, 0 when nothing is pending, or -EFAULT (not
 * even the first record could be copied) or -EINTR (a signal while
 * waiting for a lock, or the task is being killed) when nothing was
 * copied.
 */
ssize_t oh_events_read(struct oh_attach *att, char __user *buf, size_t n)
{
	const size_t rec = sizeof(struct objheap_event);
	struct oh_events *q = &att->events;
	struct objheap_event kbuf[OH_EVENT_READ_BATCH];
	size_t done = 0, k;
	ssize_t ret;
	u64 lost;

	ret = mutex_lock_interruptible(&q->read_lock);
	if (ret)
		return ret;
	while (done < n) {
		/*
		 * Not 0: a caller that waits for records would find them
		 * ready and come straight back, killed, for ever.
		 */
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = mutex_lock_interruptible(&att->heap->lock);
		if (ret)
			break;
		k = oh_events_peek(att, kbuf,
				   min_t(size_t, n - done, ARRAY_SIZE(kbuf)),
				   &lost);
		mutex_unlock(&att->heap->lock);
		if (!k)
			break;
		if (copy_to_user(buf + done * rec, kbuf, k * rec)) {
			if (lost) {
				mutex_lock(&att->heap->lock);
				oh_events_unpeek_lost(att, lost);
				mutex_unlock(&att->heap->lock);
			}
			ret = -EFAULT;
			break;
		}
		done += k;
		if (lost)
			break;	/* a LOST record is the last */
		/* Uninterruptible: the records are copied, they must go. */
		mutex_lock(&att->heap->lock);
		oh_events_consume(att, k);
		mutex_unlock(&att->heap->lock);
	}
	mutex_unlock(&q->read_lock);
	return done ? done * rec : ret;
}

/**
 * objheap_cmd_event_ctl() - OBJHEAP_EVENT_CTL.
 * @ucmd: The command.
 *
 * Context: The heap's lock is held.
 * Return: 0, -EINVAL or -EFAULT.
 */
int objheap_cmd_event_ctl(struct objheap_ucmd *ucmd)
{
	struct objheap_event_ctl *cmd = ucmd->cmd;
	struct oh_events *q = &ucmd->att->events;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->flags & OBJHEAP_EVENT_CTL_SET_MASK) {
		if (cmd->mask & ~OBJHEAP_EVENTS_GC)
			return -EINVAL;
		q->mask = cmd->mask;
	} else if (cmd->mask) {
		return -EINVAL;
	}
	cmd->out_mask = q->mask;
	cmd->out_queued = q->queued;
	cmd->out_lost = q->lost_total;
	cmd->out_bytes = q->bytes;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}
