/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test-only interface of objheap, present only in modules built with
 * CONFIG_OBJHEAP_TEST=y (a production module has neither the command nor
 * the code behind it: ENOTTY).  Even there it needs CAP_SYS_ADMIN: EPERM
 * without.  Like iommufd_test.h it is shared by the module and its
 * selftests and is not part of the stable ABI.
 */
#ifndef __OBJHEAP_TEST_H
#define __OBJHEAP_TEST_H

#include <linux/types.h>
#include <linux/objheap.h>

enum {
	OBJHEAP_TEST_OP_NOP = 1,
	/* The allocator's ops, 0x100 to 0x1ff: kmod/alloc_test.c */
	OBJHEAP_TEST_OP_ALLOC_CHECK = 0x100,
	OBJHEAP_TEST_OP_ALLOC_BLOCKS = 0x101,
	OBJHEAP_TEST_OP_FREE_BLOCK = 0x102,
	OBJHEAP_TEST_OP_FREE_BLOCKS = 0x103,
	OBJHEAP_TEST_OP_ALLOC_FAIL_NTH = 0x104,
	OBJHEAP_TEST_OP_ALLOC_HELD = 0x105,
	OBJHEAP_TEST_OP_ALLOC_CHARGE = 0x106,
	OBJHEAP_TEST_OP_ALLOC_BENCH = 0x107,
	OBJHEAP_TEST_OP_ARENA_BENCH = 0x108,
	OBJHEAP_TEST_OP_ALLOC_CHECK_SELFTEST = 0x109,
	OBJHEAP_TEST_OP_ALLOC_FIRST = 0x100,
	OBJHEAP_TEST_OP_ALLOC_LAST = 0x1ff,
	/* The object layer's ops: kmod/object_test.c */
	OBJHEAP_TEST_OP_OBJECTS = 0x200,
	OBJHEAP_TEST_OP_SET_USER_REFS,
	OBJHEAP_TEST_OP_WEAK_CHAIN,
	OBJHEAP_TEST_OP_GC_STEP,
};

/* Orders in which OBJHEAP_TEST_OP_FREE_BLOCKS and _ALLOC_BENCH free. */
enum {
	OBJHEAP_TEST_LIFO = 0,
	OBJHEAP_TEST_FIFO = 1,
	OBJHEAP_TEST_RANDOM = 2,
};

/* How OBJHEAP_TEST_OP_ARENA_BENCH backs an arena. */
enum {
	OBJHEAP_TEST_BACKING_VMALLOC = 0,	/* one vmalloc() */
	OBJHEAP_TEST_BACKING_ORDER_N = 1,	/* one high-order page block */
	OBJHEAP_TEST_BACKING_PAGES = 2,		/* single pages, one by one */
	OBJHEAP_TEST_BACKING_BULK = 3,		/* alloc_pages_bulk_array() */
	OBJHEAP_TEST_NR_BACKINGS = 4,
};

/**
 * struct objheap_test_cmd - ioctl(OBJHEAP_TEST)
 * @size: sizeof(struct objheap_test_cmd)
 * @flags: Must be 0
 * @op: OBJHEAP_TEST_OP_*
 * @__reserved: Must be 0
 * @objects: OBJHEAP_TEST_OP_OBJECTS: the heap's live objects (@out_live),
 *           those the collector tracks (@out_containers), interned ones
 *           (@out_interned), the size of the calling attachment's table
 *           of handles (@out_table_capacity), and the chains of the intern
 *           and weak tables (@out_intern_chains, @out_weak_chains).
 * @alloc_blocks: OBJHEAP_TEST_OP_ALLOC_BLOCKS, below.
 * @free_block: OBJHEAP_TEST_OP_FREE_BLOCK, below.
 * @free_blocks: OBJHEAP_TEST_OP_FREE_BLOCKS, below.
 * @fail_nth: OBJHEAP_TEST_OP_ALLOC_FAIL_NTH, below.
 * @held: OBJHEAP_TEST_OP_ALLOC_HELD, below.
 * @charge: OBJHEAP_TEST_OP_ALLOC_CHARGE, below.
 * @bench: OBJHEAP_TEST_OP_ALLOC_BENCH, below.
 * @arena_bench: OBJHEAP_TEST_OP_ARENA_BENCH, below.
 * @refs: OBJHEAP_TEST_OP_SET_USER_REFS: set the references userspace holds
 *        to @handle's object to @user_refs, adjusting its count by the
 *        same amount, so that tests can reach OBJHEAP_REFCNT_MAX.
 * @chain: OBJHEAP_TEST_OP_WEAK_CHAIN: the chain of the weak table that
 *         @handle's object hashes to now (@out_chain) and the table's
 *         chains (@out_nchains, 0 before its first weak reference), so
 *         that tests can make targets share a chain.
 * @gc_step: OBJHEAP_TEST_OP_GC_STEP: run one increment of the heap's
 *           incremental collection, starting one when none runs, as the
 *           automatic collection would, and report the phase it left
 *           (@out_phase, OBJHEAP_GC_PHASE_*).  EINVAL when the heap is
 *           not in the incremental mode.
 *
 * OBJHEAP_TEST_OP_NOP does nothing: it is the null ioctl the benchmarks
 * measure the other commands against.
 *
 * The allocator's ops (the heap's allocator, driven from inside the
 * kernel; blocks allocated here are freed at the latest with the heap):
 *
 * OBJHEAP_TEST_OP_ALLOC_CHECK runs the allocator's consistency checker,
 * then checks the collector's count of objects in each generation
 * against its lists: 0, or EUCLEAN (the kernel log says what is wrong).
 *
 * OBJHEAP_TEST_OP_ALLOC_BLOCKS (@alloc_blocks) allocates @count blocks
 * with sizes drawn uniformly from [@size_min, @size_max] (by @seed),
 * fills each with a pattern and keeps it under an id; ids increase in
 * allocation order from @out_first_id.  @out_block_size is the block size
 * the last one got (0 above 512 bytes).  ENOMEM frees this call's blocks
 * again: nothing is left half-done.  EPROTO when a block is not 16-byte
 * aligned.
 *
 * OBJHEAP_TEST_OP_FREE_BLOCK (@free_block) frees the block @id;
 * OBJHEAP_TEST_OP_FREE_BLOCKS (@free_blocks) frees all in @order
 * (OBJHEAP_TEST_LIFO, _FIFO or _RANDOM by @seed).  Both check the
 * pattern first: EIO when it was overwritten.
 *
 * OBJHEAP_TEST_OP_ALLOC_FAIL_NTH (@fail_nth): the @nth raw allocation
 * (arena struct, arena page, large allocation) from now on fails; 0
 * disarms.  @out_prev is what was left of the previous setting: 0 once
 * it fired.  For kernels without fault injection.
 *
 * OBJHEAP_TEST_OP_ALLOC_HELD (@held): what all heaps hold, module-wide.
 *
 * OBJHEAP_TEST_OP_ALLOC_CHARGE (@charge): oh_charge(@bytes), or
 * oh_uncharge(@bytes) when @uncharge is 1.
 *
 * OBJHEAP_TEST_OP_ALLOC_BENCH (@bench): @rounds times, @count blocks of
 * @size bytes allocated then freed in @order, through the heap's
 * allocator and through a kmem_cache of @size bytes, alternately.  The
 * best round's nanoseconds for each.
 *
 * OBJHEAP_TEST_OP_ARENA_BENCH (@arena_bench): @count times, @size bytes
 * taken from the system and given back by @backing
 * (OBJHEAP_TEST_BACKING_*), in @pool_size pieces for the page methods:
 * total nanoseconds and failed attempts.
 *
 * OBJHEAP_TEST_OP_ALLOC_CHECK_SELFTEST breaks the heap's allocator in
 * several ways, one at a time, checks that the checker notices each and
 * repairs it: 0, or EUCLEAN when a corruption went unnoticed.
 */
struct objheap_test_cmd {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 __reserved;
	union {
		struct {
			__u32 out_live;
			__u32 out_containers;
			__u32 out_interned;
			__u32 out_table_capacity;
			__u32 out_intern_chains;
			__u32 out_weak_chains;
		} objects;
		struct {
			__aligned_u64 handle;
			__u32 user_refs;
			__u32 __reserved;
		} refs;
		struct {
			__aligned_u64 handle;
			__u32 out_chain;
			__u32 out_nchains;
		} chain;
		struct {
			__u32 out_phase;
			__u32 __reserved;
		} gc_step;
		struct {
			__u32 count;
			__u32 size_min;
			__u32 size_max;
			__u32 out_block_size;
			__aligned_u64 seed;
			__aligned_u64 out_first_id;
		} alloc_blocks;
		struct {
			__aligned_u64 id;
		} free_block;
		struct {
			__u32 order;
			__u32 out_freed;
			__aligned_u64 seed;
		} free_blocks;
		struct {
			__u32 nth;
			__u32 out_prev;
		} fail_nth;
		struct {
			__aligned_u64 out_pages;
			__aligned_u64 out_large;
		} held;
		struct {
			__aligned_u64 bytes;
			__u32 uncharge;
			__u32 __reserved;
		} charge;
		struct {
			__u32 size;
			__u32 count;
			__u32 order;
			__u32 rounds;
			__aligned_u64 seed;
			__aligned_u64 out_objheap_ns;
			__aligned_u64 out_slub_ns;
		} bench;
		struct {
			__u32 backing;
			__u32 count;
			__u32 size;
			__u32 pool_size;
			__aligned_u64 out_ns;
			__aligned_u64 out_failed;
		} arena_bench;
	};
};
#define OBJHEAP_TEST _IO(OBJHEAP_TYPE, OBJHEAP_CMD_BASE + 63)

#endif /* __OBJHEAP_TEST_H */
