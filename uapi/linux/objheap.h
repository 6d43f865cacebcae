/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * objheap: a managed object heap behind /dev/objheap.
 *
 * Each open of /dev/objheap is one heap.  This header is the whole ABI:
 * it is self-contained and compiles with -std=c90.
 */
#ifndef _UAPI_LINUX_OBJHEAP_H
#define _UAPI_LINUX_OBJHEAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define OBJHEAP_TYPE 0xB8

/**
 * DOC: General ioctl format
 *
 * The ioctl interface follows a general format to allow for extensibility.
 * Each ioctl is passed a structure pointer as the argument providing the
 * size of the structure in the first u32.  The kernel checks that any
 * structure space beyond what it understands is 0.  This allows userspace
 * to use the backward compatible portion while consistently using the
 * newer, larger, structures.
 *
 * ioctls use a standard meaning for common errnos:
 *
 *  - ENOTTY: The ioctl number itself is not supported at all
 *  - E2BIG: The ioctl number is supported, but the provided structure has
 *    non-zero in a part the kernel does not understand.
 *  - EOPNOTSUPP: The ioctl number is supported, and the structure is
 *    understood, however a known field has a value the kernel does not
 *    understand or support.
 *  - EINVAL: Everything about the ioctl was understood, but a field is not
 *    correct: the size is smaller than the first version of the structure,
 *    a flag is unknown to the command, a reserved field is not zero, or a
 *    value is out of range.
 *  - ENOENT: A provided handle does not refer to a live object of this
 *    heap.
 *  - EFAULT: A user pointer (the argument itself or one inside the
 *    structure) could not be accessed.
 *  - ENOMEM: Out of memory, or the heap's byte limit would be exceeded.
 *    The heap is left exactly as it was before the call.
 *
 * Every structure starts with ``__u32 size; __u32 flags;``.  Fields that
 * userspace fills are named plainly; fields the kernel fills are named
 * ``out_*``.  Handles and user pointers are ``__aligned_u64``.  Reserved
 * fields must be zero.  Output fields are written only when the ioctl
 * returns 0.
 *
 * New functionality is added with new commands, new flags and new fields
 * at the end of a structure, never by changing an existing field.
 * OBJHEAP_QUERY tells userspace what the running module supports.
 */
enum {
	OBJHEAP_CMD_BASE = 0x80,
	OBJHEAP_CMD_QUERY = OBJHEAP_CMD_BASE,
	OBJHEAP_CMD_STATS = OBJHEAP_CMD_BASE + 1,
	OBJHEAP_CMD_SET_LIMIT = OBJHEAP_CMD_BASE + 2,
};

/* The version of this header's ABI, reported by OBJHEAP_QUERY. */
#define OBJHEAP_API_VERSION 1

/**
 * enum objheap_features - Optional features, reported by OBJHEAP_QUERY
 * @OBJHEAP_FEATURE_TEST: The module was built with its test-only
 *                        interface (never in a production build).
 */
enum objheap_features {
	OBJHEAP_FEATURE_TEST = 1 << 0,
};

/**
 * struct objheap_query - ioctl(OBJHEAP_QUERY)
 * @size: sizeof(struct objheap_query)
 * @flags: Must be 0
 * @query_cmd: 0, or the ioctl number (``_IOC_NR``) of a command to describe
 *             in @out_cmd_size and @out_cmd_flags.  EOPNOTSUPP if the
 *             command is not supported.
 * @out_version: OBJHEAP_API_VERSION of the running module
 * @out_cmds: Bit n set when command ``OBJHEAP_CMD_BASE + n`` is supported
 * @out_features: OBJHEAP_FEATURE_* bits
 * @out_cmd_size: The size of @query_cmd's structure this module knows;
 *                0 when @query_cmd is 0
 * @out_cmd_flags: The flags @query_cmd accepts; 0 when @query_cmd is 0
 *
 * Reports what the running module supports, so that userspace can adapt
 * to an older or newer kernel without guessing from errno values.
 */
struct objheap_query {
	__u32 size;
	__u32 flags;
	__u32 query_cmd;
	__u32 out_version;
	__aligned_u64 out_cmds;
	__aligned_u64 out_features;
	__u32 out_cmd_size;
	__u32 out_cmd_flags;
};
#define OBJHEAP_QUERY _IO(OBJHEAP_TYPE, OBJHEAP_CMD_QUERY)

/**
 * struct objheap_class_stats - One size class of the heap's allocator
 * @block_size: Bytes per block of the class (16, 32, ..., 512)
 * @pools: Pools serving the class
 * @blocks_in_use: Blocks allocated
 * @blocks_free: Blocks of those pools that are not allocated
 *
 * An element of the array OBJHEAP_STATS fills, indexed by class.
 */
struct objheap_class_stats {
	__u32 block_size;
	__u32 pools;
	__aligned_u64 blocks_in_use;
	__aligned_u64 blocks_free;
};

/**
 * struct objheap_stats - ioctl(OBJHEAP_STATS)
 * @size: sizeof(struct objheap_stats)
 * @flags: Must be 0
 * @nr_classes: Capacity of the @classes array, in elements; may be 0
 * @out_nr_classes: The number of size classes.  When @nr_classes is
 *                  smaller, only @nr_classes elements were written: call
 *                  again with this many.
 * @classes: User pointer to an array of struct objheap_class_stats,
 *           filled in class order (block sizes 16, 32, ...)
 * @out_limit: The heap's limit on @out_bytes_in_use
 * @out_limit_max: The most any heap's limit may be set to (module-wide)
 * @out_bytes_in_use: What the limit counts: every live allocation at its
 *                    size rounded up to 16 bytes, plus @out_bytes_charged
 * @out_bytes_charged: Bytes of the heap's own structures (handle tables,
 *                     queues) counted against the limit
 * @out_arena_size: Bytes per arena
 * @out_pool_size: Bytes per pool
 * @out_arenas_allocated: Arenas ever taken from the system
 * @out_arenas_reclaimed: Arenas ever returned to the system
 * @out_arenas_highwater: The most arenas the heap held at once
 * @out_arenas_current: Arenas held now
 * @out_bytes_allocated_blocks: Bytes in allocated blocks
 * @out_bytes_free_blocks: Bytes in free blocks of pools in use
 * @out_bytes_unused_pools: Bytes in the arenas' free pools
 * @out_bytes_pool_headers: Bytes taken by the headers of pools in use
 * @out_bytes_quantization: Bytes at the end of pools in use too small
 *                          for one more block
 * @out_large_objects: Live allocations above 512 bytes (not in arenas)
 * @out_large_bytes: Their bytes
 *
 * The statistics of the heap's allocator, in the shape of CPython's
 * ``sys._debugmallocstats()``.  The five ``out_bytes_*`` counts of pools
 * add up to @out_arenas_current * @out_arena_size.
 */
struct objheap_stats {
	__u32 size;
	__u32 flags;
	__u32 nr_classes;
	__u32 out_nr_classes;
	__aligned_u64 classes;
	__aligned_u64 out_limit;
	__aligned_u64 out_limit_max;
	__aligned_u64 out_bytes_in_use;
	__aligned_u64 out_bytes_charged;
	__u32 out_arena_size;
	__u32 out_pool_size;
	__aligned_u64 out_arenas_allocated;
	__aligned_u64 out_arenas_reclaimed;
	__aligned_u64 out_arenas_highwater;
	__aligned_u64 out_arenas_current;
	__aligned_u64 out_bytes_allocated_blocks;
	__aligned_u64 out_bytes_free_blocks;
	__aligned_u64 out_bytes_unused_pools;
	__aligned_u64 out_bytes_pool_headers;
	__aligned_u64 out_bytes_quantization;
	__aligned_u64 out_large_objects;
	__aligned_u64 out_large_bytes;
};
#define OBJHEAP_STATS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_STATS)

/**
 * struct objheap_set_limit - ioctl(OBJHEAP_SET_LIMIT)
 * @size: sizeof(struct objheap_set_limit)
 * @flags: Must be 0
 * @limit: The heap's new limit on bytes in use (see struct objheap_stats,
 *         @out_bytes_in_use).  EINVAL above the module-wide maximum
 *         (@out_limit_max).  A limit below what is in use is accepted:
 *         allocations fail with ENOMEM until enough is freed.
 *
 * A new heap's limit is the module parameter ``heap_limit``.
 */
struct objheap_set_limit {
	__u32 size;
	__u32 flags;
	__aligned_u64 limit;
};
#define OBJHEAP_SET_LIMIT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_SET_LIMIT)

#endif /* _UAPI_LINUX_OBJHEAP_H */
