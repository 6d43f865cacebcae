/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's tracepoints: /sys/kernel/tracing/events/objheap/, for perf,
 * trace-cmd and bpftrace.  A collection is traced whether or not the heap
 * asked for OBJHEAP_GC_DEBUG_STATS, which only adds a rate-limited line
 * to the kernel log.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM objheap

#if !defined(_OBJHEAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _OBJHEAP_TRACE_H

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

#endif /* _OBJHEAP_TRACE_H */

/* An out-of-tree module: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE objheap_trace
#include <trace/define_trace.h>
