// SPDX-License-Identifier: GPL-2.0
/*
 * The test-only interface (CONFIG_OBJHEAP_TEST): lets the selftests and
 * benchmarks drive the module's internals from inside the kernel.
 */
#include <linux/capability.h>

#include "objheap.h"
#include "objheap_test.h"

/*
 * Even in a test build, only CAP_SYS_ADMIN reaches the test-only ops: they
 * drive the module's internals directly, below the checks the real
 * commands make.
 */
int objheap_test_cmd(struct objheap_ucmd *ucmd)
{
	struct objheap_test_cmd *cmd = ucmd->cmd;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd->__reserved)
		return -EINVAL;

	switch (cmd->op) {
	case OBJHEAP_TEST_OP_NOP:
		return 0;
	case OBJHEAP_TEST_OP_OBJECTS:
	case OBJHEAP_TEST_OP_SET_USER_REFS:
	case OBJHEAP_TEST_OP_WEAK_CHAIN:
	case OBJHEAP_TEST_OP_GC_STEP:
		return oh_object_test_cmd(ucmd);
	case OBJHEAP_TEST_OP_ALLOC_FIRST ... OBJHEAP_TEST_OP_ALLOC_LAST:
		return objheap_alloc_test_cmd(ucmd);
	}
	return -EOPNOTSUPP;
}
