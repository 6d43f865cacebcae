// SPDX-License-Identifier: GPL-2.0
/*
 * Published names: objects the heap itself holds under a name, for any of
 * its attachments to look up (OBJHEAP_PUBLISH, _LOOKUP, _UNPUBLISH).
 *
 * A name is up to OBJHEAP_NAME_MAX arbitrary bytes.  The names live in a
 * red-black tree ordered by length, then bytes, so each command costs
 * O(log n) comparisons of at most OBJHEAP_NAME_MAX bytes and no command
 * ever rehashes.  Each name holds one reference to its object, counted
 * in the object's @refcnt like a slot's: to the collector it comes from
 * outside the heap's graph, so published objects are roots.  A name's
 * node is charged to the heap's limit.
 *
 * Context: the heap's lock is held, except in oh_names_destroy().
 */
#include <linux/rbtree.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "objheap.h"

/**
 * struct oh_name - One published name.
 * @node: In the heap's tree.
 * @obj: The object, held by one reference.
 * @len: Bytes in @name.
 * @name: The name.
 */
struct oh_name {
	struct rb_node node;
	struct oh_object *obj;
	u32 len;
	u8 name[];
};

static size_t oh_name_size(u32 len)
{
	return struct_size((struct oh_name *)NULL, name, len);
}

static int oh_name_cmp(const u8 *name, u32 len, const struct oh_name *n)
{
	if (len != n->len)
		return len < n->len ? -1 : 1;
	return memcmp(name, n->name, len);
}

/*
 * The node named @name, or NULL; *@linkp and *@parentp tell where it
 * would be inserted.
 */
static struct oh_name *oh_name_find(struct objheap *heap, const u8 *name,
				    u32 len, struct rb_node ***linkp,
				    struct rb_node **parentp)
{
	struct rb_node **link = &heap->names.root.rb_node, *parent = NULL;
	struct oh_name *n;
	int cmp;

	while (*link) {
		parent = *link;
		n = rb_entry(parent, struct oh_name, node);
		cmp = oh_name_cmp(name, len, n);
		if (!cmp)
			return n;
		link = cmp < 0 ? &parent->rb_left : &parent->rb_right;
	}
	if (linkp) {
		*linkp = link;
		*parentp = parent;
	}
	return NULL;
}

/* Check a command's name and copy it to @buf. */
static int oh_name_copy(const struct objheap_name *cmd, u8 *buf)
{
	if (cmd->__reserved || !cmd->name_len ||
	    cmd->name_len > OBJHEAP_NAME_MAX)
		return -EINVAL;
	if (copy_from_user(buf, u64_to_user_ptr(cmd->name_uptr), cmd->name_len))
		return -EFAULT;
	return 0;
}

static void oh_name_free(struct objheap *heap, struct oh_name *n)
{
	oh_uncharge(&heap->alloc, oh_name_size(n->len));
	kfree(n);
}

int objheap_cmd_publish(struct objheap_ucmd *ucmd)
{
	struct objheap_name *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct rb_node **link, *parent;
	u8 name[OBJHEAP_NAME_MAX];
	struct oh_object *obj;
	struct oh_name *n;
	int ret;

	lockdep_assert_held(&heap->lock);

	if (cmd->out_handle)
		return -EINVAL;
	ret = oh_name_copy(cmd, name);
	if (ret)
		return ret;
	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (oh_name_find(heap, name, cmd->name_len, &link, &parent))
		return -EEXIST;
	if (heap->names.count >= OBJHEAP_NAMES_MAX)
		return -ENOSPC;
	if (oh_ref_full(obj))
		return -EOVERFLOW;

	ret = oh_charge(&heap->alloc, oh_name_size(cmd->name_len));
	if (ret)
		return ret;
	n = kmalloc(oh_name_size(cmd->name_len), OH_GFP);
	if (!n) {
		oh_uncharge(&heap->alloc, oh_name_size(cmd->name_len));
		return -ENOMEM;
	}
	n->len = cmd->name_len;
	memcpy(n->name, name, n->len);
	n->obj = obj;
	oh_ref(heap, obj);	/* cannot fail: the count was not full, above */
	rb_link_node(&n->node, parent, link);
	rb_insert_color(&n->node, &heap->names.root);
	heap->names.count++;
	return 0;
}

int objheap_cmd_lookup(struct objheap_ucmd *ucmd)
{
	struct objheap_name *cmd = ucmd->cmd;
	u8 name[OBJHEAP_NAME_MAX];
	struct oh_name *n;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->handle || cmd->out_handle)
		return -EINVAL;
	ret = oh_name_copy(cmd, name);
	if (ret)
		return ret;
	n = oh_name_find(ucmd->heap, name, cmd->name_len, NULL, NULL);
	if (!n)
		return -ENOENT;
	return oh_respond_handle(ucmd, n->obj, &cmd->out_handle, sizeof(*cmd));
}

int objheap_cmd_unpublish(struct objheap_ucmd *ucmd)
{
	struct objheap_name *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	u8 name[OBJHEAP_NAME_MAX];
	struct oh_object *obj;
	struct oh_name *n;
	int ret;

	lockdep_assert_held(&heap->lock);

	if (cmd->handle || cmd->out_handle)
		return -EINVAL;
	ret = oh_name_copy(cmd, name);
	if (ret)
		return ret;
	n = oh_name_find(heap, name, cmd->name_len, NULL, NULL);
	if (!n)
		return -ENOENT;
	obj = n->obj;
	rb_erase(&n->node, &heap->names.root);
	heap->names.count--;
	oh_name_free(heap, n);
	oh_unref(heap, obj);	/* may free it */
	return 0;
}

/**
 * oh_names_destroy() - Free the names of a heap being freed.
 * @heap: The heap, whose objects go with it.
 *
 * Context: Process context, without the heap's lock.
 */
void oh_names_destroy(struct objheap *heap)
{
	struct oh_name *n, *tmp;

	rbtree_postorder_for_each_entry_safe(n, tmp, &heap->names.root, node) {
		oh_name_free(heap, n);
		cond_resched();
	}
	heap->names.root = RB_ROOT;
	heap->names.count = 0;
}
