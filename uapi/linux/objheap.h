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

#endif /* _UAPI_LINUX_OBJHEAP_H */
