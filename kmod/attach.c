// SPDX-License-Identifier: GPL-2.0
/*
 * Attachments: several processes on one heap.
 *
 * Each file of a heap is an attachment (struct oh_attach): the open of
 * /dev/objheap that made the heap, and every file OBJHEAP_ATTACH made
 * since.  Objects, the collector, the weak and intern tables and the limit
 * belong to the heap; handles, the references held through them and the
 * event queue belong to the attachment.
 *
 * Handles.  An attachment's table maps a handle, (generation << 32) |
 * index, to an object and to the references the attachment holds through
 * that handle.  An attachment has at most one entry per object, made when
 * the object first reaches it and kept until the object dies or the
 * attachment goes, so that a handle is the object's identity within its
 * attachment.  Objects reachable only through slots have no entry at all.
 *
 * Finding an object's entry in a given attachment must be cheap, since
 * every command returning a handle does it.  The object records one entry
 * itself: @home is the id of an attachment holding a handle to it and
 * @index that handle's entry, normally the attachment that created it.
 * The entries of every other attachment are recorded in the heap's
 * @holders hash, object to a sorted array of (attachment, index), and the
 * object is flagged OH_OBJ_SHARED while it has any.  A heap with one
 * attachment never touches @holders.  When the object dies, each of its
 * entries is freed, so no handle ever names freed memory; when an
 * attachment goes, it takes its entries out of the objects' records.
 *
 * Every object an attachment created has that attachment as its home for
 * as long as both live (home changes only when the home's entry goes), so
 * the events of an object's death go to its home: the attachment that
 * made the weak reference, the finalizer or the PEP 442 object.
 *
 * Leaving.  When an attachment's file is released, the attachment drops
 * every reference it held, disarms the weak references and finalizers it
 * made and unflags the PEP 442 objects it made, then tells every other
 * attachment with an OBJHEAP_EVENT_DETACHED.  That is a walk over its
 * table, which may be large; every OH_DETACH_BATCH entries it gives up
 * the heap's lock, so that the other attachments' commands are not held
 * up for long.  While it is closing, it takes no new handle and no event.
 * The last attachment skips all of this: the heap goes with it, every
 * object at once.
 *
 * Lifetime.  Each attachment holds a count on its heap (@users), dropped
 * after its last use of the heap's lock; the heap is freed at zero.
 *
 * Context: the heap's lock is held by every function here, except where
 * a comment says otherwise.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>
#include <linux/slab.h>

#include "objheap.h"

/* A table grows a page of entries at a time, up to 2^30 entries. */
#define OH_TABLE_MAX BIT(30)
static_assert(sizeof(struct oh_entry) == 16);

/* Entries a leaving attachment drops between two yields of the lock. */
#define OH_DETACH_BATCH 256

/**
 * struct oh_holder - One attachment's entry for an object, not its home.
 * @att: The attachment.
 * @index: The entry in its table.
 */
struct oh_holder {
	struct oh_attach *att;
	u32 index;
};

/**
 * struct oh_holders - The entries of an OH_OBJ_SHARED object.
 * @node: In the heap's @holders.
 * @obj: The object, the key.
 * @rcu: For freeing: the hash's own walks may still see it.
 * @nr: Entries in @h.
 * @cap: Room in @h.
 * @h: Sorted by attachment id.
 */
struct oh_holders {
	struct rhash_head node;
	struct oh_object *obj;
	struct rcu_head rcu;
	u32 nr;
	u32 cap;
	struct oh_holder h[];
};

static const struct rhashtable_params oh_holders_params = {
	.key_len = sizeof(struct oh_object *),
	.key_offset = offsetof(struct oh_holders, obj),
	.head_offset = offsetof(struct oh_holders, node),
	.automatic_shrinking = true,
};

static size_t oh_holders_size(u32 cap)
{
	return struct_size((struct oh_holders *)NULL, h, cap);
}

/* ---- one attachment's table --------------------------------------- */

/*
 * Entries set up at a time when the free list runs out: enough that the
 * call is rare, few enough that the command adding a page to the table
 * costs about one allocation more than the others, not the setting up
 * of OH_LEAF_SIZE entries.
 */
#define OH_TABLE_STEP	16
static_assert(OH_LEAF_SIZE % OH_TABLE_STEP == 0);

/**
 * __oh_table_reserve() - Make free entries when the free list is empty.
 * @att: The attachment.
 *
 * The next OH_TABLE_STEP entries never used are set up and made the free
 * list; a leaf is added first when every entry allocated is set up.
 *
 * Return: 0, or -ENOMEM with the table as it was.
 */
int __oh_table_reserve(struct oh_attach *att)
{
	struct oh_table *t = &att->table;
	u32 first = t->inited, gen = oh_gen_next(att, 0), i;
	struct oh_entry *e;

	if (first == t->capacity) {
		if (t->capacity >= OH_TABLE_MAX ||
		    oh_parray_grow(&att->heap->alloc, &t->pages))
			return -ENOMEM;
		t->capacity += OH_LEAF_SIZE;
	}
	/* The step never crosses a leaf: one lookup. */
	e = oh_table_entry(t, first);
	for (i = 0; i < OH_TABLE_STEP; i++) {
		e[i].obj = NULL;
		e[i].gen = gen;
		e[i].refs = first + i + 1;
	}
	e[OH_TABLE_STEP - 1].refs = OH_NO_INDEX;
	t->inited = first + OH_TABLE_STEP;
	t->free_head = first;
	return 0;
}

/* ---- the entries of other attachments ------------------------------ */

static struct oh_holders *__oh_holders_find(struct objheap *heap,
					    const struct oh_object *obj)
{
	return rhashtable_lookup_fast(&heap->holders, &obj, oh_holders_params);
}

/*
 * The flag is tested inline: every death asks, and calling the lookup
 * cost about 20 instructions even for an object no other attachment
 * holds.
 */
static __always_inline struct oh_holders *
oh_holders_find(struct objheap *heap, const struct oh_object *obj)
{
	if (!(obj->flags & OH_OBJ_SHARED))
		return NULL;
	return __oh_holders_find(heap, obj);
}

/* Where @att's entry is, or would go, in @hs: a binary search by id. */
static u32 oh_holders_pos(const struct oh_holders *hs,
			  const struct oh_attach *att)
{
	u32 lo = 0, hi = hs->nr, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (hs->h[mid].att->id < att->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void oh_holders_free(struct objheap *heap, struct oh_holders *hs)
{
	oh_uncharge(&heap->alloc, oh_holders_size(hs->cap));
	kfree_rcu(hs, rcu);
}

/*
 * Record that @att's entry @index is for @obj, which has a home that is
 * not @att.  Return: 0 or -ENOMEM, with nothing changed.
 */
static int oh_holders_add(struct oh_attach *att, struct oh_object *obj,
			  u32 index)
{
	struct objheap *heap = att->heap;
	struct oh_holders *hs, *new;
	u32 pos, cap;
	int ret;

	if (!heap->holders_ready) {
		ret = rhashtable_init(&heap->holders, &oh_holders_params);
		if (ret)
			return ret;
		heap->holders_ready = true;
	}
	hs = oh_holders_find(heap, obj);
	if (hs && hs->nr < hs->cap) {
		pos = oh_holders_pos(hs, att);
		memmove(&hs->h[pos + 1], &hs->h[pos],
			(hs->nr - pos) * sizeof(hs->h[0]));
		hs->h[pos] = (struct oh_holder){ att, index };
		hs->nr++;
		return 0;
	}

	cap = hs ? hs->cap * 2 : 2;
	ret = oh_charge(&heap->alloc, oh_holders_size(cap));
	if (ret)
		return ret;
	new = kmalloc(oh_holders_size(cap), OH_GFP);
	if (!new) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	new->obj = obj;
	new->cap = cap;
	new->nr = 0;
	pos = 0;
	if (hs) {
		pos = oh_holders_pos(hs, att);
		memcpy(new->h, hs->h, pos * sizeof(hs->h[0]));
		memcpy(&new->h[pos + 1], &hs->h[pos],
		       (hs->nr - pos) * sizeof(hs->h[0]));
		new->nr = hs->nr;
	}
	new->h[pos] = (struct oh_holder){ att, index };
	new->nr++;

	if (hs) {
		ret = rhashtable_replace_fast(&heap->holders, &hs->node,
					      &new->node, oh_holders_params);
		if (WARN_ON_ONCE(ret))
			goto err_free;
		oh_holders_free(heap, hs);
	} else {
		ret = rhashtable_insert_fast(&heap->holders, &new->node,
					     oh_holders_params);
		if (ret) {
			ret = -ENOMEM;
			goto err_free;
		}
		obj->flags |= OH_OBJ_SHARED;
	}
	return 0;

err_free:
	kfree(new);
err_uncharge:
	oh_uncharge(&heap->alloc, oh_holders_size(cap));
	return ret;
}

/**
 * oh_holders_del() - Take an attachment's entry out of an object's record.
 * @att: The attachment, which is not @obj's home.
 * @obj: The object; its record goes when it is left empty.
 *
 * Out of line from __oh_entry_forget(), whose commonest case, an object's
 * home entry, then saves and restores no registers for it.
 */
noinline void oh_holders_del(struct oh_attach *att, struct oh_object *obj)
{
	struct objheap *heap = att->heap;
	struct oh_holders *hs = oh_holders_find(heap, obj);
	u32 pos;

	if (WARN_ON_ONCE(!hs))
		return;
	pos = oh_holders_pos(hs, att);
	if (WARN_ON_ONCE(pos >= hs->nr || hs->h[pos].att != att))
		return;
	hs->nr--;
	memmove(&hs->h[pos], &hs->h[pos + 1], (hs->nr - pos) * sizeof(hs->h[0]));
	if (hs->nr)
		return;
	rhashtable_remove_fast(&heap->holders, &hs->node, oh_holders_params);
	obj->flags &= ~OH_OBJ_SHARED;
	oh_holders_free(heap, hs);
}

static void oh_holders_free_one(void *ptr, void *arg)
{
	kfree(ptr);
}

/**
 * oh_holders_destroy() - Free the holders hash of a heap being freed.
 * @heap: The heap, which nothing can reach any more.
 *
 * Context: Process context, without the heap's lock.
 */
void oh_holders_destroy(struct objheap *heap)
{
	if (heap->holders_ready)
		rhashtable_free_and_destroy(&heap->holders, oh_holders_free_one,
					    NULL);
}

/* ---- finding and making entries ------------------------------------ */

/* Give @att a number, by which objects it makes name it as their home. */
static int oh_home_add(struct objheap *heap, struct oh_attach *att)
{
	u32 home;
	int ret;

	ret = xa_alloc(&heap->homes, &home, att,
		       XA_LIMIT(1, OBJHEAP_ATTACH_MAX), OH_GFP);
	if (ret < 0)
		return ret;
	att->home = home;
	if (home < OH_HOMES_CACHED)
		heap->home_cache[home] = att;
	return 0;
}

static void oh_home_del(struct objheap *heap, struct oh_attach *att)
{
	xa_erase(&heap->homes, att->home);
	if (att->home < OH_HOMES_CACHED)
		heap->home_cache[att->home] = NULL;
}

/**
 * oh_entry_find() - An attachment's entry for an object.
 * @att: The attachment.
 * @obj: The object.
 *
 * Return: The entry's index, or OH_NO_INDEX when @att has none for @obj.
 */
u32 oh_entry_find(struct oh_attach *att, const struct oh_object *obj)
{
	struct oh_holders *hs;
	u32 pos;

	if (obj->home == att->home)
		return obj->index;
	hs = oh_holders_find(att->heap, obj);
	if (!hs)
		return OH_NO_INDEX;
	pos = oh_holders_pos(hs, att);
	if (pos < hs->nr && hs->h[pos].att == att)
		return hs->h[pos].index;
	return OH_NO_INDEX;
}

/**
 * oh_entry_get() - An attachment's entry for an object, made if need be.
 * @att: The attachment; not closing.
 * @obj: A live object.
 * @indexp: The entry's index.
 *
 * A new entry holds no reference: the caller counts what it hands out.
 *
 * Return: 0, or -ENOMEM with nothing changed but the table's capacity.
 */
int oh_entry_get(struct oh_attach *att, struct oh_object *obj, u32 *indexp)
{
	u32 index = oh_entry_find(att, obj);
	int ret;

	if (index != OH_NO_INDEX)
		goto out;
	if (WARN_ON_ONCE(att->closing))
		return -ESRCH;
	ret = oh_table_reserve(att);
	if (ret)
		return ret;
	if (!obj->home) {
		index = oh_table_take(att, obj, 0);
		obj->home = att->home;
		obj->index = index;
		goto out;
	}
	ret = oh_holders_add(att, obj, att->table.free_head);
	if (ret)
		return ret;
	index = oh_table_take(att, obj, 0);
out:
	*indexp = index;
	return 0;
}

/**
 * oh_entry_forget() - __oh_entry_forget() of entry @index.
 * @att: The attachment.
 * @obj: The object, which lives on.
 * @index: @att's entry for @obj, which owns no reference.
 */
void oh_entry_forget(struct oh_attach *att, struct oh_object *obj, u32 index)
{
	__oh_entry_forget(att, obj, oh_table_entry(&att->table, index), index);
}

/**
 * oh_holders_forget() - Free the entries other attachments have for an
 *                       object that dies.
 * @heap: The heap.
 * @obj: The object, flagged OH_OBJ_SHARED.
 */
void oh_holders_forget(struct objheap *heap, struct oh_object *obj)
{
	struct oh_holders *hs = __oh_holders_find(heap, obj);
	u32 i;

	if (!hs)
		return;
	for (i = 0; i < hs->nr; i++)
		oh_table_put(hs->h[i].att, hs->h[i].index);
	rhashtable_remove_fast(&heap->holders, &hs->node, oh_holders_params);
	obj->flags &= ~OH_OBJ_SHARED;
	oh_holders_free(heap, hs);
}

/* ---- making and releasing attachments ------------------------------ */

/**
 * oh_attach_new() - Make an attachment of @heap.
 * @heap: The heap.
 * @flags: OBJHEAP_ATTACH_* flags.
 * @charge: Charge it to the heap; the opener's is part of the heap's
 *          fixed size instead.
 *
 * The caller gives it a count on the heap (@users), which
 * oh_attach_release() gives back.
 *
 * Context: The heap's lock is held, or the heap is not visible yet.
 * Return: The attachment, or ERR_PTR(-ENOSPC or -ENOMEM).
 */
struct oh_attach *oh_attach_new(struct objheap *heap, u32 flags, bool charge)
{
	struct oh_attach *att;
	int ret;

	if (heap->nr_attached >= OBJHEAP_ATTACH_MAX)
		return ERR_PTR(-ENOSPC);
	if (charge) {
		ret = oh_charge(&heap->alloc, sizeof(*att));
		if (ret)
			return ERR_PTR(ret);
	}
	att = kzalloc(sizeof(*att), OH_GFP);
	if (!att) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	att->heap = heap;
	att->flags = flags;
	att->charged = charge;
	att->table.free_head = OH_NO_INDEX;
	att->gen_key = get_random_u32() & OH_GEN_MAX;
	att->index_key = get_random_u32();
	xa_init_flags(&att->map_offsets, XA_FLAGS_ALLOC1);
	ret = oh_home_add(heap, att);
	if (ret < 0)
		goto err_free;
	ret = xa_alloc_cyclic(&heap->attachments, &att->id, att,
			      XA_LIMIT(1, U32_MAX), &heap->next_id, OH_GFP);
	if (ret < 0)
		goto err_erase_home;
	oh_events_init(att);
	att->pid = get_task_pid(current, PIDTYPE_TGID);
	heap->nr_attached++;
	return att;

err_erase_home:
	oh_home_del(heap, att);
err_free:
	kfree(att);
err_uncharge:
	if (charge)
		oh_uncharge(&heap->alloc, sizeof(*att));
	return ERR_PTR(ret);
}

/*
 * Free what @att holds of its own; the heap stays.  Its memory leaves the
 * heap's counts, so the heap's lock is held.
 */
static void oh_attach_free(struct oh_attach *att)
{
	struct objheap *heap = att->heap;

	lockdep_assert_held(&heap->lock);

	oh_map_offsets_release(att);
	oh_events_destroy(att);
	oh_parray_free(&heap->alloc, &att->table.pages);
	put_pid(att->pid);
	kfree(att->batch_mem);
	if (att->charged)
		oh_uncharge(&heap->alloc, sizeof(*att));
	kfree(att);
}

/*
 * @att, which is leaving, made @obj and is its home: what @obj would tell
 * @att at its death is told to nobody now.  A finalizer is detached: the
 * heap's hold on it is dropped, which may free it.
 */
static void oh_attach_disarm(struct oh_attach *att, struct oh_object *obj)
{
	struct objheap *heap = att->heap;

	obj->flags &= ~OH_OBJ_WR_CALLBACK;
	if (oh_wants_finalize(obj))
		obj->flags |= OBJHEAP_OBJ_FINALIZED;
	if (oh_is_weakref(obj))
		oh_finalizer_detach(heap, obj);
}

/*
 * Drop every reference @att holds and free its entries, giving up the
 * heap's lock now and then.  Objects may die meanwhile, from other
 * attachments' commands, and free their entries here too: each entry is
 * read afresh under the lock.  Return: the references dropped.
 */
static u64 oh_attach_drop_all(struct oh_attach *att)
{
	struct objheap *heap = att->heap;
	struct oh_table *t = &att->table;
	struct oh_object *obj;
	u64 dropped = 0;
	u32 i, refs;

	for (i = 0; i < t->inited; i++) {
		if (i && !(i % OH_DETACH_BATCH))
			objheap_lock_yield(heap);
		obj = oh_table_entry(t, i)->obj;
		if (!obj)
			continue;
		refs = oh_table_entry(t, i)->refs;
		dropped += refs;
		/* The disarming may free @obj, a finalizer: hold it. */
		if (!oh_immortal(obj))
			obj->refcnt++;
		if (obj->home == att->home)
			oh_attach_disarm(att, obj);
		oh_entry_forget(att, obj, i);
		if (!oh_immortal(obj)) {
			obj->refcnt -= refs;
			oh_unref(heap, obj);
		}
	}
	return dropped;
}

/* Tell every other attachment that @att went, with @dropped references. */
static void oh_attach_announce(struct oh_attach *att, u64 dropped)
{
	struct objheap_event ev;
	struct oh_attach *other;
	unsigned long id;

	xa_for_each(&att->heap->attachments, id, other) {
		if (other == att || other->closing)
			continue;
		ev = (struct objheap_event){
			.type = OBJHEAP_EVENT_DETACHED,
			.generation = att->id,
			.collected = dropped,
			.cookie = pid_nr_ns(att->pid, ns_of_pid(other->pid)),
		};
		oh_event_queue(other, &ev);
	}
}

/**
 * oh_attach_release() - An attachment's file is released.
 * @att: The attachment.
 *
 * Its references are dropped and the other attachments told, unless it is
 * the heap's last, in which case the heap goes with it.
 *
 * Context: Process context, without the heap's lock.
 */
void oh_attach_release(struct oh_attach *att)
{
	struct objheap *heap = att->heap;
	bool last;
	u64 dropped;

	objheap_lock(heap, false);
	att->closing = true;
	oh_payloads_drain(heap);
	last = heap->nr_attached == 1;
	if (!last) {
		dropped = oh_attach_drop_all(att);
		if (att->announced)
			oh_attach_announce(att, dropped);
	}
	xa_erase(&heap->attachments, att->id);
	oh_home_del(heap, att);
	heap->nr_attached--;
	/* Its memory is given back to the heap's counts: under the lock. */
	oh_attach_free(att);
	mutex_unlock(&heap->lock);

	/*
	 * No mapping is left when the last attachment goes, and what the
	 * unmap work would drain was drained above: a pending run need not
	 * hold the heap, so the last close frees it at once.
	 */
	if (last && cancel_work_sync(&heap->unmap_work))
		refcount_dec(&heap->users);
	/* Nor need the shrinker's worker, for a heap that goes now. */
	if (last && cancel_work_sync(&heap->shrink_work))
		refcount_dec(&heap->users);
	if (refcount_dec_and_test(&heap->users))
		objheap_destroy(heap);
}

/* ---- commands ------------------------------------------------------ */

int objheap_cmd_attach(struct objheap_ucmd *ucmd)
{
	struct objheap_attach *cmd = ucmd->cmd;
	struct oh_attach *att;
	struct file *file;
	int fd, ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (oh_attach_readonly(ucmd->att) &&
	    !(cmd->flags & OBJHEAP_ATTACH_READONLY))
		return -EPERM;

	att = oh_attach_new(ucmd->heap, cmd->flags, true);
	if (IS_ERR(att))
		return PTR_ERR(att);
	refcount_inc(&ucmd->heap->users);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_release;
	}
	file = anon_inode_getfile("[objheap]", &objheap_fops, att,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_put_fd;
	}
	stream_open(file_inode(file), file);

	cmd->out_fd = fd;
	cmd->out_id = att->id;
	ret = objheap_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		/* The release runs later, without our lock, and is silent. */
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	att->announced = true;
	fd_install(fd, file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_release:
	/* Never seen: it holds nothing and nobody is told. */
	xa_erase(&ucmd->heap->attachments, att->id);
	oh_home_del(ucmd->heap, att);
	ucmd->heap->nr_attached--;
	refcount_dec(&ucmd->heap->users);
	oh_attach_free(att);
	return ret;
}

int objheap_cmd_attach_info(struct objheap_ucmd *ucmd)
{
	struct objheap_attach_info *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_attach *att = ucmd->att;

	lockdep_assert_held(&heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	if (cmd->id) {
		att = xa_load(&heap->attachments, cmd->id);
		if (!att || att->closing || !att->announced)
			return -ESRCH;
	}
	cmd->out_id = att->id;
	cmd->out_flags = att->flags;
	cmd->out_attached = heap->nr_attached;
	cmd->out_pid = pid_vnr(att->pid);
	cmd->out_handles = att->table.nr_used;
	cmd->out_refs = att->refs;
	cmd->out_created = att->created;
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

int objheap_cmd_send(struct objheap_ucmd *ucmd)
{
	struct objheap_send *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct objheap_event ev = {
		.type = OBJHEAP_EVENT_RECEIVED,
	};
	struct oh_object *obj;
	struct oh_attach *to;
	bool fresh;
	u32 index;
	int ret;

	lockdep_assert_held(&heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (cmd->to == ucmd->att->id)
		return -EINVAL;
	to = cmd->to ? xa_load(&heap->attachments, cmd->to) : NULL;
	if (!to || to->closing || !to->announced)
		return -ESRCH;
	if (oh_ref_full(obj))
		return -EOVERFLOW;

	fresh = oh_entry_find(to, obj) == OH_NO_INDEX;
	ret = oh_entry_get(to, obj, &index);
	if (ret)
		return ret;
	ev.cookie = cmd->cookie;
	ev.handle = oh_entry_handle(to, index);
	ev.target_type = obj->type;
	ev.generation = ucmd->att->id;
	ret = oh_event_deliver(to, &ev);
	if (ret) {
		/* Nothing was sent: @to does not even see the object. */
		if (fresh)
			oh_entry_forget(to, obj, index);
		return ret;
	}
	__oh_ref_user(to, index);
	return 0;
}
