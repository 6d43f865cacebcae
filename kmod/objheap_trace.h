/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's tracepoints: /sys/kernel/tracing/events/objheap/, for perf,
 * trace-cmd and bpftrace (Documentation/troubleshooting.rst).  A
 * collection is traced whether or not the heap asked for
 * OBJHEAP_GC_DEBUG_STATS, which only adds a rate-limited line to the
 * kernel log.  Like every tracepoint, these cost a patched-out branch
 * until someone enables them.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM objheap

#if !defined(_OBJHEAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _OBJHEAP_TRACE_H

#include <linux/objheap.h>
#include <linux/tracepoint.h>

/*
 * objheap_gc_start - A collection of generations 0 to @generation begins.
 * @heap: The heap's id, its directory's name in debugfs.
 */
TRACE_EVENT(objheap_gc_start,
	TP_PROTO(u64 heap, u32 generation),
	TP_ARGS(heap, generation),
	TP_STRUCT__entry(
		__field(u64, heap)
		__field(u32, generation)
	),
	TP_fast_assign(
		__entry->heap = heap;
		__entry->generation = generation;
	),
	TP_printk("heap=%llu generation=%u", __entry->heap, __entry->generation)
);

/*
 * objheap_gc_done - The collection ended: what it found unreachable, what
 * survived into the next generation, and how long it took.
 */
TRACE_EVENT(objheap_gc_done,
	TP_PROTO(u64 heap, u32 generation, u64 unreachable, u64 survived,
		 u64 elapsed_ns),
	TP_ARGS(heap, generation, unreachable, survived, elapsed_ns),
	TP_STRUCT__entry(
		__field(u64, heap)
		__field(u32, generation)
		__field(u64, unreachable)
		__field(u64, survived)
		__field(u64, elapsed_ns)
	),
	TP_fast_assign(
		__entry->heap = heap;
		__entry->generation = generation;
		__entry->unreachable = unreachable;
		__entry->survived = survived;
		__entry->elapsed_ns = elapsed_ns;
	),
	TP_printk("heap=%llu generation=%u unreachable=%llu survived=%llu elapsed_ns=%llu",
		  __entry->heap, __entry->generation, __entry->unreachable,
		  __entry->survived, __entry->elapsed_ns)
);

/*
 * objheap_obj_new - An object was created and given its first handle.
 * @heap: The heap's id.
 * @attachment: The id of the attachment that created it.
 * @handle: The handle it returned, as that attachment sees it.
 * @type: The type userspace gave.
 * @flags: Its OBJHEAP_OBJ_* flags.
 * @nslots: Its slots.
 * @data_len: Its payload's bytes.
 */
TRACE_EVENT(objheap_obj_new,
	TP_PROTO(u64 heap, u32 attachment, u64 handle, u32 type, u32 flags,
		 u32 nslots, u32 data_len),
	TP_ARGS(heap, attachment, handle, type, flags, nslots, data_len),
	TP_STRUCT__entry(
		__field(u64, heap)
		__field(u64, handle)
		__field(u32, attachment)
		__field(u32, type)
		__field(u32, flags)
		__field(u32, nslots)
		__field(u32, data_len)
	),
	TP_fast_assign(
		__entry->heap = heap;
		__entry->handle = handle;
		__entry->attachment = attachment;
		__entry->type = type;
		__entry->flags = flags;
		__entry->nslots = nslots;
		__entry->data_len = data_len;
	),
	TP_printk("heap=%llu attachment=%u handle=0x%llx type=%u flags=0x%x nslots=%u data_len=%u",
		  __entry->heap, __entry->attachment, __entry->handle,
		  __entry->type, __entry->flags, __entry->nslots,
		  __entry->data_len)
);

/*
 * objheap_obj_free - An object died, for @reason (OBJHEAP_REASON_*): its
 * count reached zero, or a collection found it unreachable.
 */
TRACE_EVENT(objheap_obj_free,
	TP_PROTO(u64 heap, u32 type, u32 nslots, u32 data_len, u32 reason),
	TP_ARGS(heap, type, nslots, data_len, reason),
	TP_STRUCT__entry(
		__field(u64, heap)
		__field(u32, type)
		__field(u32, nslots)
		__field(u32, data_len)
		__field(u32, reason)
	),
	TP_fast_assign(
		__entry->heap = heap;
		__entry->type = type;
		__entry->nslots = nslots;
		__entry->data_len = data_len;
		__entry->reason = reason;
	),
	TP_printk("heap=%llu type=%u nslots=%u data_len=%u reason=%s",
		  __entry->heap, __entry->type, __entry->nslots,
		  __entry->data_len,
		  __entry->reason == OBJHEAP_REASON_GC ? "gc" : "refcount")
);

/*
 * objheap_limit - The heap was refused @bytes more: by its own limit, or
 * (@user true) by the bound on all heaps of its user.
 * @held: What the heap held then.
 * @limit: The heap's limit.
 */
TRACE_EVENT(objheap_limit,
	TP_PROTO(u64 heap, u64 bytes, u64 held, u64 limit, bool user),
	TP_ARGS(heap, bytes, held, limit, user),
	TP_STRUCT__entry(
		__field(u64, heap)
		__field(u64, bytes)
		__field(u64, held)
		__field(u64, limit)
		__field(bool, user)
	),
	TP_fast_assign(
		__entry->heap = heap;
		__entry->bytes = bytes;
		__entry->held = held;
		__entry->limit = limit;
		__entry->user = user;
	),
	TP_printk("heap=%llu bytes=%llu held=%llu limit=%llu bound=%s",
		  __entry->heap, __entry->bytes, __entry->held, __entry->limit,
		  __entry->user ? "user" : "heap")
);

/*
 * objheap_shrink - The shrinker's worker went through a heap.
 * @freed: The bytes the heap gave back.
 * @collect: Whether it ran a full collection.
 * @collected: The objects that collection freed.
 */
TRACE_EVENT(objheap_shrink,
	TP_PROTO(u64 heap, u64 freed, bool collect, u64 collected),
	TP_ARGS(heap, freed, collect, collected),
	TP_STRUCT__entry(
		__field(u64, heap)
		__field(u64, freed)
		__field(u64, collected)
		__field(bool, collect)
	),
	TP_fast_assign(
		__entry->heap = heap;
		__entry->freed = freed;
		__entry->collected = collected;
		__entry->collect = collect;
	),
	TP_printk("heap=%llu freed=%llu collection=%s collected=%llu",
		  __entry->heap, __entry->freed,
		  __entry->collect ? "yes" : "no", __entry->collected)
);

#endif /* _OBJHEAP_TRACE_H */

/* An out-of-tree module: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE objheap_trace
#include <trace/define_trace.h>
