// SPDX-License-Identifier: GPL-2.0
/*
 * Interning: one immutable object per (type, payload), like sys.intern()
 * and CPython's caches of small integers.
 *
 * The table is a linear hash table (see parray.h) of chains linked
 * through the objects' @intern_link, under the heap's lock.  It holds no
 * reference: when an interned object is freed it leaves its chain
 * (oh_object_free() calls oh_intern_del()).  Past one object per chain,
 * each new object adds a chain, splitting one; if that fails for lack of
 * memory the chains just get longer.  Its memory counts against the heap's
 * limit.
 */
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "objheap.h"
#include "object.h"

/* Payloads up to this size are looked up from the stack. */
#define OH_INTERN_STACK_BYTES 128

static u32 oh_intern_hash(const struct oh_intern *it, u32 type,
			  const void *data, u32 data_len)
{
	return jhash(data, data_len, jhash_2words(type, data_len, it->seed));
}

static u32 oh_intern_node_hash(const struct hlist_node *node)
{
	return hlist_entry(node, struct oh_object, intern_link)->hash;
}

/**
 * oh_intern_init() - Seed a new heap's intern table.
 * @heap: The heap.
 */
void oh_intern_init(struct objheap *heap)
{
	heap->intern.seed = get_random_u32();
}

/**
 * oh_intern_find() - Look an interned object up.
 * @heap: The heap.
 * @type: The type tag.
 * @data: The payload.
 * @data_len: Its size.
 * @hashp: Set to the hash of (@type, @data), for oh_intern_add().
 *
 * Return: The object, without a new reference, or NULL.
 */
struct oh_object *oh_intern_find(struct objheap *heap, u32 type,
				 const void *data, u32 data_len, u32 *hashp)
{
	struct oh_intern *it = &heap->intern;
	u32 hash = oh_intern_hash(it, type, data, data_len);
	struct oh_object *obj;

	lockdep_assert_held(&heap->lock);

	*hashp = hash;
	if (!it->table.nchains)
		return NULL;
	hlist_for_each_entry(obj, oh_lhash_chain(&it->table, hash), intern_link)
		if (obj->hash == hash && obj->type == type &&
		    obj->data_len == data_len &&
		    !memcmp(oh_data(obj), data, data_len))
			return obj;
	return NULL;
}

/**
 * oh_intern_reserve() - Make room in the table for one more object.
 * @heap: The heap.
 *
 * Allocates the table's first chains, or adds a chain to a table that
 * holds as many objects as chains.  A table that cannot grow just keeps
 * longer chains, and one that grew for an object that is then not created
 * stays as it is.
 *
 * Return: 0, or -ENOMEM when the table's first chains cannot be had.
 */
static int oh_intern_reserve(struct objheap *heap)
{
	struct oh_intern *it = &heap->intern;

	lockdep_assert_held(&heap->lock);

	if (!it->table.nchains)
		return oh_lhash_init(&heap->alloc, &it->table);
	/* Failing to split only makes the chains longer. */
	if (it->count >= it->table.nchains)
		oh_lhash_split(&heap->alloc, &it->table, oh_intern_node_hash);
	return 0;
}

/**
 * oh_intern_add() - Enter an object, with its @hash set, in the table.
 * @heap: The heap, whose table oh_intern_reserve() made room in.
 * @obj: An object with no slots, flagged OBJHEAP_OBJ_INTERNED.
 */
static void oh_intern_add(struct objheap *heap, struct oh_object *obj)
{
	struct oh_intern *it = &heap->intern;

	hlist_add_head(&obj->intern_link, oh_lhash_chain(&it->table, obj->hash));
	it->count++;
}

/**
 * oh_intern_del() - Take a dying object out of the table.
 * @heap: The heap.
 * @obj: The object.
 */
void oh_intern_del(struct objheap *heap, struct oh_object *obj)
{
	lockdep_assert_held(&heap->lock);

	hlist_del(&obj->intern_link);
	heap->intern.count--;
}

/**
 * oh_intern_destroy() - Free the table of a closing heap.
 * @heap: The heap; its objects are already freed.
 */
void oh_intern_destroy(struct objheap *heap)
{
	struct oh_intern *it = &heap->intern;

	oh_lhash_destroy(&heap->alloc, &it->table);
	it->count = 0;
}

#ifdef CONFIG_OBJHEAP_TEST
/**
 * oh_intern_check() - Check the intern table's chains (test builds).
 * @heap: The heap, whose lock is held.
 *
 * Return: 0, or -EUCLEAN (and a line in the kernel log).
 */
int oh_intern_check(struct objheap *heap)
{
	lockdep_assert_held(&heap->lock);

	return oh_lhash_check(&heap->intern.table, oh_intern_node_hash,
			      heap->intern.count);
}
#endif

/*
 * Create the interned object for @cmd and @data, whose hash is @hash, and
 * hand it to userspace: by the creation rule of kmod/object.c, it enters
 * the table only once the response has been copied.
 */
static int oh_intern_new(struct objheap_ucmd *ucmd, const void *data,
			 u32 hash)
{
	struct objheap_intern *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_object *obj;
	int ret;

	ret = oh_intern_reserve(heap);
	if (ret)
		return ret;
	obj = oh_object_create(ucmd->att, cmd->type,
			       cmd->flags | OBJHEAP_OBJ_IMMUTABLE |
			       OBJHEAP_OBJ_INTERNED, 0, cmd->data_len, 0);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	memcpy(oh_data(obj), data, cmd->data_len);
	obj->hash = hash;
	ret = oh_respond_new(ucmd, obj, &cmd->out_handle, sizeof(*cmd));
	if (ret)
		return ret;
	oh_intern_add(heap, obj);
	return 0;
}

int objheap_cmd_intern(struct objheap_ucmd *ucmd)
{
	struct objheap_intern *cmd = ucmd->cmd;
	u8 stack[OH_INTERN_STACK_BYTES];
	struct oh_object *obj;
	void *data = stack;
	u32 hash;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->data_len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	if (cmd->data_len > sizeof(stack)) {
		data = kvmalloc(cmd->data_len, OH_GFP_LARGE);
		if (!data)
			return -ENOMEM;
	}
	ret = -EFAULT;
	if (copy_from_user(data, u64_to_user_ptr(cmd->data_uptr), cmd->data_len))
		goto out_free;

	obj = oh_intern_find(ucmd->heap, cmd->type, data, cmd->data_len, &hash);
	if (obj)
		ret = oh_respond_handle(ucmd, obj, &cmd->out_handle,
					sizeof(*cmd));
	else
		ret = oh_intern_new(ucmd, data, hash);
out_free:
	if (data != stack)
		kvfree(data);
	return ret;
}

/**
 * oh_intern_object() - OBJHEAP_SEAL with OBJHEAP_SEAL_INTERN.
 * @ucmd: The command.
 * @obj: The object to seal and intern.
 * @out_handle: The command's out_handle field.
 * @cmd_len: The size of the command's structure.
 *
 * Hands userspace the interned object equal to @obj, which is @obj itself
 * when none was interned before; @obj is sealed either way.  Its hash is
 * computed here, now that its payload can no longer change.  Nothing
 * changes unless the response was copied.
 *
 * Return: 0; -EINVAL when @obj cannot be interned; -EBUSY while it is on
 * the collector's garbage list; or what oh_respond_handle() and
 * oh_intern_reserve() return.
 */
int oh_intern_object(struct objheap_ucmd *ucmd, struct oh_object *obj,
		     u64 *out_handle, size_t cmd_len)
{
	struct objheap *heap = ucmd->heap;
	struct oh_object *found;
	u32 hash;
	int ret;

	lockdep_assert_held(&heap->lock);

	if (obj->flags & OBJHEAP_OBJ_INTERNED)
		return oh_respond_handle(ucmd, obj, out_handle, cmd_len);
	if (obj->nslots || (obj->flags & (OBJHEAP_OBJ_MAPPABLE |
					  OBJHEAP_OBJ_WEAKREF |
					  OBJHEAP_OBJ_FINALIZE)))
		return -EINVAL;
	if (obj->flags & OH_OBJ_GARBAGE)
		return -EBUSY;

	found = oh_intern_find(heap, obj->type, oh_data(obj), obj->data_len,
			       &hash);
	if (!found) {
		ret = oh_intern_reserve(heap);
		if (ret)
			return ret;
	}
	ret = oh_respond_handle(ucmd, found ?: obj, out_handle, cmd_len);
	if (ret)
		return ret;
	obj->flags |= OBJHEAP_OBJ_IMMUTABLE;
	if (found)
		return 0;

	/* A resizable object leaves the collector: interned ones are not. */
	if (oh_tracked(obj)) {
		oh_gc_unlink(heap, obj);
		oh_gc_count_free(heap, obj);
		obj->flags &= ~OH_OBJ_INC_MARKS;
	}
	obj->flags |= OBJHEAP_OBJ_INTERNED;
	obj->hash = hash;
	oh_intern_add(heap, obj);
	return 0;
}
