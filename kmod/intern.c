// SPDX-License-Identifier: GPL-2.0
/*
 * Interning: one immutable object per (type, payload), like sys.intern()
 * and CPython's caches of small integers.
 *
 * The table is a linear hash table (see parray.h) of chains singly linked
 * through the objects' @intern_next, under the heap's lock: an object
 * leaves its chain by a walk of it, about one object long.  It holds no
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

/* Where chain @i starts. */
static struct oh_object **oh_intern_chain_at(const struct oh_intern *it, u32 i)
{
	return (struct oh_object **)oh_lhash_first(&it->table, i);
}

static struct oh_object **oh_intern_chain(const struct oh_intern *it,
					  u32 hash)
{
	return oh_intern_chain_at(it, oh_lhash_index(&it->table, hash));
}

/*
 * Add a chain: the objects of chain n - 2^L with bit L of their hash set
 * move to it.  Nothing changes if the table cannot grow.
 */
static void oh_intern_split(struct objheap *heap)
{
	struct oh_intern *it = &heap->intern;
	u32 n = it->table.nchains, low = 1U << __fls(n);
	struct oh_object **from, **to, *obj;

	if (oh_lhash_grow(&heap->alloc, &it->table))
		return;
	from = oh_intern_chain_at(it, n - low);
	to = oh_intern_chain_at(it, n);
	while ((obj = *from)) {
		if (obj->hash & low) {
			*from = obj->intern_next;
			obj->intern_next = *to;
			*to = obj;
		} else {
			from = &obj->intern_next;
		}
	}
	it->table.nchains = n + 1;
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
	for (obj = *oh_intern_chain(it, hash); obj; obj = obj->intern_next)
		if (obj->hash == hash && obj->type == type &&
		    oh_data_len(obj) == data_len &&
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
		oh_intern_split(heap);
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
	struct oh_object **chain = oh_intern_chain(it, obj->hash);

	obj->intern_next = *chain;
	*chain = obj;
	it->count++;
}

/**
 * oh_intern_del() - Take a dying object out of the table.
 * @heap: The heap.
 * @obj: The object.
 */
void oh_intern_del(struct objheap *heap, struct oh_object *obj)
{
	struct oh_object **pos = oh_intern_chain(&heap->intern, obj->hash);

	lockdep_assert_held(&heap->lock);

	while (*pos != obj)
		pos = &(*pos)->intern_next;
	*pos = obj->intern_next;
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
	struct oh_intern *it = &heap->intern;
	struct oh_lhash *lh = &it->table;
	struct oh_object *obj;
	u64 n = 0;
	u32 i;

	lockdep_assert_held(&heap->lock);

	if (lh->nchains &&
	    (lh->nchains < OH_LHASH_LEAF_SIZE || lh->nchains > OH_LHASH_MAX ||
	     lh->pages.nleaves != DIV_ROUND_UP(lh->nchains,
					       OH_LHASH_LEAF_SIZE))) {
		pr_err("objheap: intern: %u chains on %u pages\n", lh->nchains,
		       lh->pages.nleaves);
		return -EUCLEAN;
	}
	for (i = 0; i < lh->nchains; i++) {
		for (obj = *oh_intern_chain_at(it, i); obj;
		     obj = obj->intern_next) {
			if (oh_lhash_index(lh, obj->hash) != i) {
				pr_err("objheap: intern: hash %#x in chain %u of %u\n",
				       obj->hash, i, lh->nchains);
				return -EUCLEAN;
			}
			n++;
		}
		if (!(i & (OH_LHASH_LEAF_SIZE - 1)))
			cond_resched();
	}
	if (n != it->count) {
		pr_err("objheap: intern: %llu objects in the chains, counted %u\n",
		       n, it->count);
		return -EUCLEAN;
	}
	return 0;
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
	if (oh_nslots(obj) || (obj->flags & (OBJHEAP_OBJ_MAPPABLE |
					  OBJHEAP_OBJ_WEAKREF |
					  OBJHEAP_OBJ_FINALIZE)))
		return -EINVAL;
	if (obj->flags & OH_OBJ_GARBAGE)
		return -EBUSY;

	found = oh_intern_find(heap, obj->type, oh_data(obj), oh_data_len(obj),
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
		oh_gc_untrack(heap, obj);
		obj->flags &= ~OH_OBJ_INC_MARKS;
	}
	obj->flags |= OBJHEAP_OBJ_INTERNED;
	obj->hash = hash;
	oh_intern_add(heap, obj);
	return 0;
}
