/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Markers for the counting plugin (bench/count/objheap_count.c): seven-
 * byte NOPs, nopl DISP(%rax), whose displacement spells "OH" and says
 * start or stop.  On hardware, or under qemu without the plugin, they do
 * nothing.  make count runs object_bench under the plugin.
 */
#ifndef OBJHEAP_BENCH_COUNT_H
#define OBJHEAP_BENCH_COUNT_H

#define OBJHEAP_COUNT_START	0x4f480001
#define OBJHEAP_COUNT_STOP	0x4f480002
#define OBJHEAP_COUNT_MARK_LEN	7

#ifndef __ASSEMBLER__
#if defined(__x86_64__) || defined(__i386__)
#define __count_str(x)	#x
#define __count_mark(disp) \
	__asm__ __volatile__(".byte 0x0f, 0x1f, 0x80\n\t.long " \
			     __count_str(disp) ::: "memory")
#else
#define __count_mark(disp) do { } while (0)
#endif
/* What runs between these two is counted, as the next stop's number. */
#define count_start()	__count_mark(OBJHEAP_COUNT_START)
#define count_stop()	__count_mark(OBJHEAP_COUNT_STOP)
#endif

#endif /* OBJHEAP_BENCH_COUNT_H */
