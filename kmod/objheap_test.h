/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test-only interface of objheap, present only in modules built with
 * CONFIG_OBJHEAP_TEST=y.  Like iommufd_test.h it is shared by the module
 * and its selftests and is not part of the stable ABI.
 */
#ifndef __OBJHEAP_TEST_H
#define __OBJHEAP_TEST_H

#include <linux/types.h>
#include <linux/objheap.h>

enum {
	OBJHEAP_TEST_OP_NOP = 1,
	OBJHEAP_TEST_OP_OBJECTS = 0x200,
	OBJHEAP_TEST_OP_SET_USER_REFS,
};

/**
 * struct objheap_test_cmd - ioctl(OBJHEAP_TEST)
 * @size: sizeof(struct objheap_test_cmd)
 * @flags: Must be 0
 * @op: OBJHEAP_TEST_OP_*
 * @__reserved: Must be 0
 * @objects: OBJHEAP_TEST_OP_OBJECTS: the heap's live objects (@out_live),
 *           those with slots (@out_containers), interned ones
 *           (@out_interned), and the object table's size
 *           (@out_table_capacity).
 * @refs: OBJHEAP_TEST_OP_SET_USER_REFS: set the references userspace holds
 *        to @handle's object to @user_refs, adjusting its count by the
 *        same amount, so that tests can reach OBJHEAP_REFCNT_MAX.
 *
 * OBJHEAP_TEST_OP_NOP does nothing: it is the null ioctl the benchmarks
 * measure the other commands against.
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
		} objects;
		struct {
			__aligned_u64 handle;
			__u32 user_refs;
			__u32 __reserved;
		} refs;
	};
};
#define OBJHEAP_TEST _IO(OBJHEAP_TYPE, OBJHEAP_CMD_BASE + 63)

#endif /* __OBJHEAP_TEST_H */
