// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only operations on the object layer (CONFIG_OBJHEAP_TEST).
 */
#include "objheap.h"
#include "objheap_test.h"

static int oh_test_set_user_refs(struct objheap_ucmd *ucmd,
				 struct objheap_test_cmd *cmd)
{
	struct oh_attach *att = ucmd->att;
	struct oh_object *obj;
	struct oh_entry *e;
	u32 other_refs;

	if (cmd->refs.__reserved)
		return -EINVAL;
	obj = oh_lookup(ucmd, cmd->refs.handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (oh_immortal(obj))
		return -EINVAL;
	e = oh_table_entry(&att->table, oh_entry_find(att, obj));
	other_refs = obj->refcnt - e->refs;
	if (!cmd->refs.user_refs ||
	    cmd->refs.user_refs > OBJHEAP_REFCNT_MAX - other_refs)
		return -EINVAL;
	att->refs += (u64)cmd->refs.user_refs - e->refs;
	e->refs = cmd->refs.user_refs;
	obj->refcnt = other_refs + e->refs;
	oh_gc_shade(ucmd->heap, obj);
	return 0;
}

int oh_object_test_cmd(struct objheap_ucmd *ucmd)
{
	struct objheap_test_cmd *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;

	switch (cmd->op) {
	case OBJHEAP_TEST_OP_OBJECTS:
		cmd->objects.out_live = heap->nr_objects;
		cmd->objects.out_containers = oh_gc_nr_tracked(heap);
		cmd->objects.out_interned = heap->intern.count;
		cmd->objects.out_table_capacity = ucmd->att->table.capacity;
		cmd->objects.out_intern_chains = heap->intern.table.nchains;
		cmd->objects.out_weak_chains = heap->weak.table.nchains;
		return objheap_ucmd_respond(ucmd, sizeof(*cmd));
	case OBJHEAP_TEST_OP_SET_USER_REFS:
		return oh_test_set_user_refs(ucmd, cmd);
	case OBJHEAP_TEST_OP_WEAK_CHAIN: {
		struct oh_object *obj = oh_lookup(ucmd, cmd->chain.handle);

		if (IS_ERR(obj))
			return PTR_ERR(obj);
		cmd->chain.out_nchains = heap->weak.table.nchains;
		cmd->chain.out_chain = oh_weak_chain_index(heap, obj);
		return objheap_ucmd_respond(ucmd, sizeof(*cmd));
	}
	case OBJHEAP_TEST_OP_GC_STEP: {
		int ret;

		if (cmd->gc_step.out_phase || cmd->gc_step.__reserved)
			return -EINVAL;
		ret = oh_gc_test_step(heap);
		if (ret < 0)
			return ret;
		cmd->gc_step.out_phase = ret;
		return objheap_ucmd_respond(ucmd, sizeof(*cmd));
	}
	}
	return -EOPNOTSUPP;
}
