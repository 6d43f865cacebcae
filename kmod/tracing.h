/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracing allocations: tracemalloc for a heap (kmod/tracing.c).
 */
#ifndef __OBJHEAP_TRACING_H
#define __OBJHEAP_TRACING_H

#include <linux/types.h>
#include <linux/objheap.h>

struct objheap;
struct objheap_ucmd;
struct oh_object;

/**
 * struct oh_trace_pair - The traced objects of one origin: a tag, a type
 *                        and the attachment that created them.
 * @tag: The allocation tag.
 * @type: The objects' type.
 * @attach: The id of the attachment that created them.
 * @next: The next pair of its hash chain, plus one; 0 ends it.
 * @count: Traced objects alive.
 * @bytes: Their footprint.
 */
struct oh_trace_pair {
	u64 tag;
	u32 type;
	u32 attach;
	u32 next;
	u64 count;
	u64 bytes;
};

/* A pair's figures as a snapshot keeps them. */
struct oh_trace_counts {
	u64 count;
	u64 bytes;
};

/**
 * struct oh_trace_snap - A snapshot: every pair's figures at one moment.
 * @counts: @npairs figures, by pair index; NULL for a free slot.
 * @npairs: The pairs that existed then.
 */
struct oh_trace_snap {
	struct oh_trace_counts *counts;
	u32 npairs;
};

/**
 * struct oh_tracing - One heap's tracer.
 * @pairs: @npairs pairs in an array of @cap, indexed by the number the
 *         objects' trace words hold.
 * @buckets: @cap hash chains of @pairs (first index plus one, 0: empty).
 * @snaps: The snapshots; snapshot id n is @snaps[n - 1].
 * @npairs: Pairs in use.
 * @cap: Room in @pairs and @buckets: 0 or a power of two.
 * @epoch: Stamped in every trace word written since tracing last
 *         started; a word with another epoch is stale.  0 never is one.
 * @sample_every: The sampling period; 0 when the heap does not trace.
 * @countdown: Objects to create before the next traced one, this one
 *             included.
 * @rng: The state of the sampling's generator (oh_trace_next_gap()).
 * @nsnaps: Snapshots held.
 * @bytes: The footprint of the traced objects alive (their number is
 *         the sum of the pairs' counts).
 * @peak: The most @bytes has been since tracing started or the peak was
 *        reset.
 */
struct oh_tracing {
	struct oh_trace_pair *pairs;
	u32 *buckets;
	struct oh_trace_snap snaps[OBJHEAP_TRACE_SNAPSHOTS_MAX];
	u32 npairs;
	u32 cap;
	u32 epoch;
	u32 sample_every;
	u32 countdown;
	u32 nsnaps;
	u64 rng;
	u64 bytes;
	u64 peak;
};

/* oh_tracing_add() and oh_tracing_del() are in tracing_inline.h. */
void oh_tracing_resized(struct objheap *heap, struct oh_object *obj,
			u64 old_bytes);
void oh_tracing_destroy(struct objheap *heap);

/*
 * The handlers of the tracing commands; uapi/linux/objheap.h documents
 * each.  Context: the heap's lock held, by the dispatcher.
 */
int objheap_cmd_trace_ctl(struct objheap_ucmd *ucmd);
int objheap_cmd_trace_snapshot(struct objheap_ucmd *ucmd);
int objheap_cmd_trace_rows(struct objheap_ucmd *ucmd);
int objheap_cmd_trace_tag(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_TRACING_H */
