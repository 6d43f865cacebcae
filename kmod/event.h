/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's event queue: what read() and poll() on a heap's file see.
 */
#ifndef __OBJHEAP_EVENT_H
#define __OBJHEAP_EVENT_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/objheap.h>

struct objheap;
struct oh_attach;
struct objheap_ucmd;

/**
 * struct oh_events - One attachment's event queue.
 * @chunks: The records, in chunks of OH_EVENT_CHUNK_RECORDS, oldest first.
 * @wait: Readers and pollers wait here for @ready.
 * @read_lock: Serializes readers, which copy records out without the
 *             heap's lock (see kmod/event.c).
 * @ready: Records a read would return now: those queued, plus one for a
 *         pending loss.  Written under the heap's lock, read without it.
 * @queued: Records in @chunks.
 * @pending_lost: Events lost since the last record was queued.
 * @lost_total: Events lost since the attachment was made.
 * @bytes: Bytes of @chunks, charged to the heap.
 * @mask: OBJHEAP_EVENTS_* bits.
 */
struct oh_events {
	struct list_head chunks;
	wait_queue_head_t wait;
	struct mutex read_lock; /* see above */
	u64 ready;
	u64 queued;
	u64 pending_lost;
	u64 lost_total;
	u64 bytes;
	u32 mask;
};

void oh_events_init(struct oh_attach *att);
void oh_events_destroy(struct oh_attach *att);
int oh_event_queue(struct oh_attach *att, struct objheap_event *ev);
int oh_event_deliver(struct oh_attach *att, struct objheap_event *ev);
void oh_event_lose(struct oh_attach *att);
ssize_t oh_events_read(struct oh_attach *att, char __user *buf, size_t n);
bool oh_events_ready(struct oh_attach *att);

int objheap_cmd_event_ctl(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_EVENT_H */
