// SPDX-License-Identifier: GPL-2.0
/*
 * Payloads: copied, mapped, resized and sealed.
 *
 * An ordinary payload is bytes in the object's block (kmod/object.c).  A
 * mappable one (OBJHEAP_OBJ_MAPPABLE) is a struct oh_pages: an array of
 * pages of its own, which READ and WRITE copy through and mmap() maps.
 *
 * Offsets.  OBJHEAP_MAP_OFFSET gives an attachment an id for the object,
 * from the attachment's own xarray, and the offset id << OH_MAP_SHIFT:
 * every id owns a stride of OBJHEAP_MAX_SIZE bytes, so a payload's pages
 * keep their offsets whatever it is resized to.  An id lives as long as
 * the object or the attachment, whichever goes first.  mmap() looks the
 * id up in the caller's own xarray only: an offset is worth nothing in
 * another attachment.
 *
 * Locking.  mmap(), and the vm_operations that fork(), munmap() and exit()
 * call, run with the caller's mmap_lock held, and every command may fault
 * on user memory, which takes mmap_lock, while it holds the heap's lock.
 * So nothing here that runs under mmap_lock takes the heap's lock:
 * struct oh_pages has a spinlock of its own for what both sides share
 * (whether the object is alive, how many mappings it has, whether it may
 * be mapped for writing), and an xarray lock guards the ids.
 *
 * Holding the object.  A mapping must keep its object alive, but cannot
 * take a reference, which the heap's lock guards.  Instead, the mappings
 * count themselves in @maps, and the object's death is checked against
 * them under the spinlock:
 *
 *  - When the object's count reaches zero (oh_pages_spare()), mappings
 *    that exist take over: the count becomes 1, owned by the mappings
 *    (@held).  When none exists, the object is @doomed: no mapping can be
 *    made from then on, and it is freed.
 *  - The collector counts the mappings of a mapped object as one
 *    reference from outside, unless they already own one
 *    (oh_pages_gc_refs()).  Mappings made while it runs are caught before
 *    it frees anything: an unreachable object found mapped by then
 *    (oh_pages_gc_doom()) makes it give up, with nothing changed.
 *  - When the last mapping of an object they hold goes, the reference
 *    cannot be dropped right there: the object is queued on the heap's
 *    @unmapped list, which the next command on the heap (or, failing
 *    that, a work item) drains under the heap's lock.  Userspace sees the
 *    object freed by the first command after munmap() returns.
 *
 * The pages of a mapped payload never change: OBJHEAP_RESIZE of the
 * payload is EBUSY while a mapping exists, so the fault handler reads the
 * array without a lock.  Pages are freed when the object is, after its
 * last mapping went; the struct oh_pages itself, which a mapping that is
 * going away may still point to, goes with its last kref.
 */
#include <linux/compat.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "objheap.h"
#include "payload.h"

/* Each offset id owns OBJHEAP_MAX_SIZE bytes of the file's offsets. */
#define OH_MAP_SHIFT		28
#define OH_MAP_STRIDE_PAGES	(1UL << (OH_MAP_SHIFT - PAGE_SHIFT))
/* Ids a 64-bit program may hold; a 32-bit one's offsets must fit mmap2(). */
#define OH_MAP_IDS		((1U << 24) - 1)
#define OH_MAP_IDS_COMPAT	((1U << (44 - OH_MAP_SHIFT)) - 1)

/* Pages allocated between two cond_resched() calls. */
#define OH_PAGES_RESCHED	256

static_assert(OBJHEAP_MAX_SIZE == 1U << OH_MAP_SHIFT);

/**
 * struct oh_pages - A mappable payload.
 * @lock: Guards @obj, @maps, @wmaps, @readonly, @doomed, @held and
 *        @queued, which mmap() and the vm_operations use without the
 *        heap's lock.  Inner to the heap's lock.
 * @kref: Held by the object while it lives, by each mapping, and by the
 *         heap's @unmapped list while queued there.
 * @heap: The heap.
 * @obj: The object, or NULL once it is freed.
 * @pages: @nr_pages pages; changed only with the heap's lock held and no
 *         mapping.
 * @nr_pages: The payload's length rounded up to pages.
 * @maps: The VMAs that map it.
 * @wmaps: Of those, the ones that are or may become writable
 *         (VM_MAYWRITE).
 * @readonly: The object is immutable: no writable mapping.
 * @doomed: The object is being freed: no new mapping.
 * @held: The object's count includes one reference its mappings own.
 * @queued: On the heap's @unmapped list.
 * @unmapped: Its link there.
 * @link: In the heap's list of mappable payloads.
 * @offsets: Its struct oh_map_offset, one per attachment that asked.
 */
struct oh_pages {
	spinlock_t lock; /* see above */
	struct kref kref;
	struct objheap *heap;
	struct oh_object *obj;
	struct page **pages;
	u32 nr_pages;
	u32 maps;
	u32 wmaps;
	bool readonly;
	bool doomed;
	bool held;
	bool queued;
	struct llist_node unmapped;
	struct list_head link;
	struct list_head offsets;
};

/**
 * struct oh_map_offset - The offset an attachment has for a payload.
 * @link: In the payload's @offsets.
 * @att: The attachment, in whose @map_offsets it is entry @id.
 * @pg: The payload.
 * @id: Its id: the offset is @id << OH_MAP_SHIFT.
 */
struct oh_map_offset {
	struct list_head link;
	struct oh_attach *att;
	struct oh_pages *pg;
	u32 id;
};

static struct workqueue_struct *oh_payload_wq;

static u32 oh_nr_pages(u32 len)
{
	return DIV_ROUND_UP(len, PAGE_SIZE);
}

/* The bytes of the object's slots and payload, outside its header. */
static size_t oh_body_need(const struct oh_object *obj, u32 nslots,
			   u32 data_len)
{
	return nslots * sizeof(struct oh_object *) +
	       (oh_mappable(obj) ? sizeof(struct oh_pages *) : data_len);
}

static void oh_pages_release(struct kref *kref)
{
	kfree(container_of(kref, struct oh_pages, kref));
}

static void oh_pages_put(struct oh_pages *pg)
{
	kref_put(&pg->kref, oh_pages_release);
}

/* Free @pages[@from..@to), uncharged. */
static void oh_pages_free_range(struct objheap *heap, struct page **pages,
				u32 from, u32 to)
{
	u32 i;

	for (i = from; i < to; i++) {
		if (pages[i])
			put_page(pages[i]);
		if (!((i + 1) % OH_PAGES_RESCHED))
			cond_resched();
	}
	oh_uncharge(&heap->alloc, (size_t)(to - from) << PAGE_SHIFT);
}

/*
 * Fill @pages[@from..@to) with zeroed pages, charged to the heap and to
 * the caller's memory cgroup.  On failure nothing stays allocated or
 * charged.
 */
static int oh_pages_alloc_range(struct objheap *heap, struct page **pages,
				u32 from, u32 to)
{
	u32 i;
	int ret;

	ret = oh_charge(&heap->alloc, (size_t)(to - from) << PAGE_SHIFT);
	if (ret)
		return ret;
	for (i = from; i < to; i++) {
		pages[i] = alloc_page(OH_GFP | __GFP_ZERO);
		if (!pages[i]) {
			ret = -ENOMEM;
			goto err_free;
		}
		if (!((i + 1) % OH_PAGES_RESCHED)) {
			cond_resched();
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				i++;
				goto err_free;
			}
		}
	}
	return 0;

err_free:
	while (i-- > from)
		put_page(pages[i]);
	oh_uncharge(&heap->alloc, (size_t)(to - from) << PAGE_SHIFT);
	return ret;
}

static struct page **oh_page_array_alloc(struct objheap *heap, u32 n)
{
	return n ? oh_array_alloc(&heap->alloc, n, sizeof(struct page *)) :
		   NULL;
}

static void oh_page_array_free(struct objheap *heap, struct page **pages,
			       u32 n)
{
	if (n)
		oh_array_free(&heap->alloc, pages, n, sizeof(*pages));
}

/* Zero @pg's bytes from @from to the end of the page it falls in. */
static void oh_pages_zero_tail(struct oh_pages *pg, u32 from)
{
	u32 in = offset_in_page(from);

	if (in && from >> PAGE_SHIFT < pg->nr_pages)
		memzero_page(pg->pages[from >> PAGE_SHIFT], in, PAGE_SIZE - in);
}

static int oh_pages_create(struct objheap *heap, struct oh_object *obj)
{
	u32 nr = oh_nr_pages(oh_data_len(obj));
	struct oh_pages *pg;
	int ret;

	ret = oh_charge(&heap->alloc, kmalloc_size_roundup(sizeof(*pg)));
	if (ret)
		return ret;
	pg = kzalloc(sizeof(*pg), OH_GFP);
	if (!pg) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	pg->pages = oh_page_array_alloc(heap, nr);
	if (nr && !pg->pages) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = oh_pages_alloc_range(heap, pg->pages, 0, nr);
	if (ret)
		goto err_free_array;

	spin_lock_init(&pg->lock);
	kref_init(&pg->kref);
	pg->heap = heap;
	pg->obj = obj;
	pg->nr_pages = nr;
	pg->readonly = oh_immutable(obj);
	INIT_LIST_HEAD(&pg->offsets);
	list_add(&pg->link, &heap->payloads);
	*(struct oh_pages **)oh_data(obj) = pg;
	return 0;

err_free_array:
	oh_page_array_free(heap, pg->pages, nr);
err_free:
	kfree(pg);
err_uncharge:
	oh_uncharge(&heap->alloc, kmalloc_size_roundup(sizeof(*pg)));
	return ret;
}

/* Copy between pages of @pg and userspace. */
static int oh_pages_copy(struct oh_pages *pg, u32 offset, u8 __user *ubuf,
			 u32 len, bool to_user)
{
	u32 in, n;
	void *kaddr;
	unsigned long left;

	while (len) {
		in = offset_in_page(offset);
		n = min_t(u32, len, PAGE_SIZE - in);
		kaddr = kmap_local_page(pg->pages[offset >> PAGE_SHIFT]);
		if (to_user)
			left = copy_to_user(ubuf, kaddr + in, n);
		else
			left = copy_from_user(kaddr + in, ubuf, n);
		kunmap_local(kaddr);
		if (left)
			return -EFAULT;
		offset += n;
		ubuf += n;
		len -= n;
	}
	return 0;
}

/**
 * oh_payload_copy() - Copy part of a payload to or from userspace.
 * @obj: The object; [@offset, @offset + @len) is within its payload.
 * @offset: Where in the payload.
 * @buf_uptr: The user buffer.
 * @len: Bytes to copy.
 * @to_user: Which way.
 *
 * Return: 0 or -EFAULT.
 */
int oh_payload_copy(struct oh_object *obj, u32 offset, u64 buf_uptr, u32 len,
		    bool to_user)
{
	u8 __user *ubuf = u64_to_user_ptr(buf_uptr);
	unsigned long left;

	if (oh_mappable(obj))
		return oh_pages_copy(oh_pages_of(obj), offset, ubuf, len,
				     to_user);
	if (to_user)
		left = copy_to_user(ubuf, oh_data(obj) + offset, len);
	else
		left = copy_from_user(oh_data(obj) + offset, ubuf, len);
	return left ? -EFAULT : 0;
}

/**
 * oh_payload_init() - Give a new object its payload.
 * @heap: The heap.
 * @obj: From oh_object_create(), unpublished.
 * @data_uptr: The bytes to copy in, or 0 for zeroes.
 *
 * A mappable payload gets its pages here.  On failure the caller aborts
 * @obj, which frees what was made (oh_payload_free()).
 *
 * Return: 0, -ENOMEM, -EINTR or -EFAULT.
 */
int oh_payload_init(struct objheap *heap, struct oh_object *obj,
		    u64 data_uptr)
{
	int ret;

	if (oh_mappable(obj)) {
		ret = oh_pages_create(heap, obj);
		if (ret)
			return ret;
		/* A trace counted the object without its pages. */
		oh_tracing_resized(heap, obj, oh_object_footprint(obj) -
					      oh_payload_footprint(obj));
		if (!data_uptr)
			return 0;
	} else if (!data_uptr) {
		oh_zero(oh_data(obj), oh_data_len(obj));
		return 0;
	}
	return oh_payload_copy(obj, 0, data_uptr, oh_data_len(obj), false);
}

/**
 * oh_payload_footprint() - The bytes of a mappable payload's pages.
 * @obj: A mappable object.
 *
 * Return: Its pages' bytes; 0 before it has them.
 */
u64 oh_payload_footprint(struct oh_object *obj)
{
	struct oh_pages *pg = oh_pages_of(obj);

	return pg ? (u64)pg->nr_pages << PAGE_SHIFT : 0;
}

/**
 * oh_payload_free() - Free the pages of an object that is being freed.
 * @heap: The heap.
 * @obj: The object, mappable: unpublished, or dead with no mapping left
 *       (its payload is @doomed).
 *
 * Its offsets go from every attachment that had one.
 */
void oh_payload_free(struct objheap *heap, struct oh_object *obj)
{
	struct oh_map_offset *mo, *tmp;
	struct oh_pages *pg;

	lockdep_assert_held(&heap->lock);

	pg = oh_pages_of(obj);
	if (!pg)
		return;

	spin_lock(&pg->lock);
	WARN_ON_ONCE(pg->maps);
	pg->obj = NULL;
	pg->doomed = true;
	spin_unlock(&pg->lock);

	list_for_each_entry_safe(mo, tmp, &pg->offsets, link) {
		xa_erase(&mo->att->map_offsets, mo->id);
		list_del(&mo->link);
		oh_free(&heap->alloc, mo, sizeof(*mo));
	}
	oh_pages_free_range(heap, pg->pages, 0, pg->nr_pages);
	oh_page_array_free(heap, pg->pages, pg->nr_pages);
	pg->pages = NULL;
	pg->nr_pages = 0;
	list_del(&pg->link);
	oh_uncharge(&heap->alloc, kmalloc_size_roundup(sizeof(*pg)));
	*(struct oh_pages **)oh_data(obj) = NULL;
	oh_pages_put(pg);
}

/**
 * oh_pages_spare() - The count of a mappable object just reached zero.
 * @obj: The object.
 *
 * Return: true when mappings exist: they now own its one reference and it
 * lives.  false when none does: it is doomed, and no mapping will be made.
 */
bool oh_pages_spare(struct oh_object *obj)
{
	struct oh_pages *pg = oh_pages_of(obj);
	bool spared;

	spin_lock(&pg->lock);
	spared = pg->maps;
	if (spared) {
		pg->held = true;
		obj->refcnt = 1;
	} else {
		pg->doomed = true;
	}
	spin_unlock(&pg->lock);
	return spared;
}

/*
 * The references from outside the heap the collector must count for a
 * mappable object: one for its mappings, unless its count includes it.
 * A mapping made after this is caught by oh_pages_gc_doom().
 */
u32 oh_pages_gc_refs(struct oh_object *obj)
{
	struct oh_pages *pg = oh_pages_of(obj);

	return READ_ONCE(pg->maps) && !pg->held;
}

/*
 * The collector found @obj unreachable: doom it, unless it was mapped
 * meanwhile (false: the collection must not free anything).
 */
bool oh_pages_gc_doom(struct oh_object *obj)
{
	struct oh_pages *pg = oh_pages_of(obj);
	bool mapped;

	spin_lock(&pg->lock);
	mapped = pg->maps;
	if (!mapped)
		pg->doomed = true;
	spin_unlock(&pg->lock);
	return !mapped;
}

/* An object the collector doomed survives after all. */
void oh_pages_gc_keep(struct oh_object *obj)
{
	struct oh_pages *pg = oh_pages_of(obj);

	spin_lock(&pg->lock);
	pg->doomed = false;
	spin_unlock(&pg->lock);
}

/**
 * oh_payloads_drain() - Give back the references of mappings that went.
 * @heap: The heap.
 *
 * Called with the heap's lock held, by every command before it runs and
 * by the heap's work item.
 */
void oh_payloads_drain(struct objheap *heap)
{
	struct oh_pages *pg, *tmp;
	struct llist_node *list;
	struct oh_object *obj;
	bool drop;

	lockdep_assert_held(&heap->lock);

	list = llist_del_all(&heap->unmapped);
	llist_for_each_entry_safe(pg, tmp, list, unmapped) {
		spin_lock(&pg->lock);
		pg->queued = false;
		obj = pg->obj;
		drop = obj && pg->held && !pg->maps;
		if (drop)
			pg->held = false;
		spin_unlock(&pg->lock);
		/* A heap with no attachment left frees every object at once. */
		if (drop && heap->nr_attached)
			oh_unref(heap, obj);
		oh_pages_put(pg);
	}
}

static void oh_payloads_work(struct work_struct *work)
{
	struct objheap *heap = container_of(work, struct objheap,
					    unmap_work);

	objheap_lock(heap, false);
	oh_payloads_drain(heap);
	mutex_unlock(&heap->lock);
	if (refcount_dec_and_test(&heap->users))
		objheap_destroy(heap);
}

void oh_payloads_init(struct objheap *heap)
{
	INIT_LIST_HEAD(&heap->payloads);
	init_llist_head(&heap->unmapped);
	INIT_WORK(&heap->unmap_work, oh_payloads_work);
}

/**
 * oh_payloads_destroy() - Free the pages of every object of a closing heap.
 * @heap: The heap: no attachment, no mapping, nothing queued is left.
 */
void oh_payloads_destroy(struct objheap *heap)
{
	struct oh_pages *pg, *tmp;

	WARN_ON_ONCE(!llist_empty(&heap->unmapped));
	list_for_each_entry_safe(pg, tmp, &heap->payloads, link) {
		WARN_ON_ONCE(pg->maps || !list_empty(&pg->offsets));
		oh_pages_free_range(heap, pg->pages, 0, pg->nr_pages);
		oh_page_array_free(heap, pg->pages, pg->nr_pages);
		list_del(&pg->link);
		oh_uncharge(&heap->alloc, kmalloc_size_roundup(sizeof(*pg)));
		oh_pages_put(pg);
	}
}

/**
 * oh_map_offsets_release() - Forget the offsets of a leaving attachment.
 * @att: The attachment, whose file is gone, and so are its mappings.
 */
void oh_map_offsets_release(struct oh_attach *att)
{
	struct oh_map_offset *mo;
	unsigned long id;

	lockdep_assert_held(&att->heap->lock);

	xa_for_each(&att->map_offsets, id, mo) {
		xa_erase(&att->map_offsets, id);
		list_del(&mo->link);
		oh_free(&att->heap->alloc, mo, sizeof(*mo));
	}
	xa_destroy(&att->map_offsets);
}

int oh_payload_setup(void)
{
	oh_payload_wq = alloc_workqueue("objheap_unmap", WQ_UNBOUND, 0);
	return oh_payload_wq ? 0 : -ENOMEM;
}

void oh_payload_cleanup(void)
{
	destroy_workqueue(oh_payload_wq);
}

/* ---- mappings ------------------------------------------------------ */

static void oh_vm_open(struct vm_area_struct *vma)
{
	struct oh_pages *pg = vma->vm_private_data;

	kref_get(&pg->kref);
	spin_lock(&pg->lock);
	pg->maps++;
	if (vma->vm_flags & VM_MAYWRITE)
		pg->wmaps++;
	spin_unlock(&pg->lock);
}

static void oh_vm_close(struct vm_area_struct *vma)
{
	struct oh_pages *pg = vma->vm_private_data;
	struct objheap *heap = pg->heap;
	bool queue;

	spin_lock(&pg->lock);
	pg->maps--;
	if (vma->vm_flags & VM_MAYWRITE)
		pg->wmaps--;
	queue = !pg->maps && pg->held && !pg->queued;
	if (queue)
		pg->queued = true;
	spin_unlock(&pg->lock);

	if (!queue) {
		oh_pages_put(pg);
		return;
	}
	/*
	 * The mapping's kref passes to the queue.  The heap outlives the
	 * VMA's file, so it is alive to take a count for the work item.
	 */
	llist_add(&pg->unmapped, &heap->unmapped);
	refcount_inc(&heap->users);
	if (!queue_work(oh_payload_wq, &heap->unmap_work))
		refcount_dec(&heap->users);
}

static vm_fault_t oh_vm_fault(struct vm_fault *vmf)
{
	struct oh_pages *pg = vmf->vma->vm_private_data;
	unsigned long i = vmf->pgoff & (OH_MAP_STRIDE_PAGES - 1);
	u32 nr = READ_ONCE(pg->nr_pages);

	if (i >= nr)
		return VM_FAULT_SIGBUS;
	vmf->page = pg->pages[array_index_nospec(i, nr)];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct oh_vm_ops = {
	.open = oh_vm_open,
	.close = oh_vm_close,
	.fault = oh_vm_fault,
};

/**
 * objheap_fops_mmap() - Map pages of a payload (see DOC: Payloads).
 * @filp: An attachment's file.
 * @vma: The new mapping; its offset is one OBJHEAP_MAP_OFFSET gave this
 *       attachment, plus whole pages.
 *
 * Context: mmap_lock held for writing; the heap's lock is not taken.
 * Return: 0, -EINVAL (not MAP_SHARED), -ENXIO (no such offset, or past
 * the payload's pages) or -EACCES (writable, and the object immutable or
 * the attachment read-only).
 */
int objheap_fops_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct oh_attach *att = filp->private_data;
	unsigned long id = vma->vm_pgoff / OH_MAP_STRIDE_PAGES;
	unsigned long first = vma->vm_pgoff % OH_MAP_STRIDE_PAGES;
	unsigned long n = vma_pages(vma);
	bool write = vma->vm_flags & VM_WRITE;
	struct oh_map_offset *mo;
	struct oh_pages *pg = NULL;
	int ret;

	/* VM_MAYSHARE: a file open read-only loses VM_SHARED, not it. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (!id || id > OH_MAP_IDS)
		return -ENXIO;
	xa_lock(&att->map_offsets);
	mo = xa_load(&att->map_offsets, id);
	if (mo) {
		pg = mo->pg;
		kref_get(&pg->kref);
	}
	xa_unlock(&att->map_offsets);
	if (!pg)
		return -ENXIO;

	spin_lock(&pg->lock);
	ret = -ENXIO;
	if (!pg->obj || pg->doomed || first >= pg->nr_pages ||
	    n > pg->nr_pages - first)
		goto out_unlock;
	ret = -EACCES;
	if (write && (pg->readonly || oh_attach_readonly(att)))
		goto out_unlock;
	pg->maps++;
	if (write)
		pg->wmaps++;
	spin_unlock(&pg->lock);

	/* A read-only mapping stays so: it never counts in @wmaps. */
	if (!write)
		vm_flags_clear(vma, VM_MAYWRITE);
	vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_private_data = pg;
	vma->vm_ops = &oh_vm_ops;
	/*
	 * The pages are there already: map them all now rather than one
	 * fault at a time.  Their array cannot change while @maps counts
	 * this mapping.  Whatever is not mapped here faults in.
	 */
	vm_insert_pages(vma, vma->vm_start, pg->pages + first, &n);
	return 0;

out_unlock:
	spin_unlock(&pg->lock);
	oh_pages_put(pg);
	return ret;
}

/* ---- commands ------------------------------------------------------ */

int objheap_cmd_map_offset(struct objheap_ucmd *ucmd)
{
	struct objheap_map_offset *cmd = ucmd->cmd;
	struct oh_attach *att = ucmd->att;
	struct oh_map_offset *mo;
	struct oh_object *obj;
	struct oh_pages *pg;
	struct xa_limit lim;
	u32 id = 0;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	if (cmd->__reserved)
		return -EINVAL;
	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (!oh_mappable(obj))
		return -EINVAL;
	pg = oh_pages_of(obj);

	list_for_each_entry(mo, &pg->offsets, link) {
		if (mo->att == att) {
			id = mo->id;
			break;
		}
	}
	if (id)
		goto respond;

	mo = oh_alloc(&ucmd->heap->alloc, sizeof(*mo));
	if (!mo)
		return -ENOMEM;
	mo->att = att;
	mo->pg = pg;
	lim = in_compat_syscall() ? XA_LIMIT(1, OH_MAP_IDS_COMPAT) :
				    XA_LIMIT(1, OH_MAP_IDS);
	ret = xa_alloc(&att->map_offsets, &mo->id, mo, lim, OH_GFP);
	if (ret) {
		oh_free(&ucmd->heap->alloc, mo, sizeof(*mo));
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	list_add_tail(&mo->link, &pg->offsets);
	id = mo->id;

respond:
	cmd->out_offset = (u64)id << OH_MAP_SHIFT;
	cmd->out_data_len = oh_data_len(obj);
	/* An offset made for nothing stays: it is the same on the retry. */
	return objheap_ucmd_respond(ucmd, sizeof(*cmd));
}

/*
 * The size of the block a resizable object's body should move to for
 * @need bytes, or its present @capacity when it should stay.  Growth
 * leaves an eighth for the next; a move down must save a quarter.
 */
static size_t oh_body_capacity(size_t need, u32 capacity)
{
	if (need > capacity)
		return round_up(need + need / 8, OH_ALIGN);
	if (need <= capacity - capacity / 4)
		return round_up(need, OH_ALIGN);
	return capacity;
}

/*
 * Resize a mappable payload's pages to @len bytes.  Fails, with nothing
 * changed, with -EBUSY while it is mapped, or -ENOMEM or -EINTR.
 */
static int oh_pages_resize(struct objheap *heap, struct oh_object *obj,
			   u32 len)
{
	struct oh_pages *pg = oh_pages_of(obj);
	u32 old_nr = pg->nr_pages, nr = oh_nr_pages(len);
	struct page **pages = pg->pages, **old = pg->pages;
	int ret;

	if (READ_ONCE(pg->maps))
		return -EBUSY;
	if (nr != old_nr) {
		pages = oh_page_array_alloc(heap, nr);
		if (nr && !pages)
			return -ENOMEM;
		memcpy(pages, old, min(nr, old_nr) * sizeof(*pages));
		if (nr > old_nr) {
			ret = oh_pages_alloc_range(heap, pages, old_nr, nr);
			if (ret)
				goto err_free_array;
		}
	}

	spin_lock(&pg->lock);
	if (pg->maps) {
		spin_unlock(&pg->lock);
		ret = -EBUSY;
		goto err_free_pages;
	}
	pg->pages = pages;
	pg->nr_pages = nr;
	/* What a mapping stored past the end is not part of the payload. */
	oh_pages_zero_tail(pg, min(len, oh_data_len(obj)));
	spin_unlock(&pg->lock);

	if (nr != old_nr) {
		if (nr < old_nr)
			oh_pages_free_range(heap, old, nr, old_nr);
		oh_page_array_free(heap, old, old_nr);
	}
	return 0;

err_free_pages:
	if (nr > old_nr)
		oh_pages_free_range(heap, pages, old_nr, nr);
err_free_array:
	if (nr != old_nr)
		oh_page_array_free(heap, pages, nr);
	return ret;
}

int objheap_cmd_resize(struct objheap_ucmd *ucmd)
{
	struct objheap_resize *cmd = ucmd->cmd;
	struct objheap *heap = ucmd->heap;
	struct oh_object **slots, **new_slots, *target, *obj;
	u32 nslots, len, old_nslots, keep;
	struct oh_outline *out;
	size_t need, capacity, data_keep;
	void *body = NULL;
	u64 old_bytes;
	int ret;
	u32 i;

	lockdep_assert_held(&heap->lock);

	if (!cmd->flags)
		return -EINVAL;
	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	nslots = cmd->flags & OBJHEAP_RESIZE_SLOTS ? cmd->nslots : oh_nslots(obj);
	len = cmd->flags & OBJHEAP_RESIZE_DATA ? cmd->data_len : oh_data_len(obj);
	if (!oh_resizable(obj) || nslots > OBJHEAP_MAX_SLOTS ||
	    len > OBJHEAP_MAX_SIZE)
		return -EINVAL;
	if (oh_immutable(obj))
		return -EPERM;
	if (nslots == oh_nslots(obj) && len == oh_data_len(obj))
		return 0;

	old_bytes = oh_object_footprint(obj);
	out = oh_outline(obj);
	need = oh_body_need(obj, nslots, len);
	capacity = oh_body_capacity(need, out->capacity);
	if (capacity != out->capacity && capacity) {
		body = oh_alloc(&heap->alloc, capacity);
		if (!body)
			return -ENOMEM;
	}
	if (oh_mappable(obj) && len != oh_data_len(obj)) {
		ret = oh_pages_resize(heap, obj, len);
		if (ret)
			goto err_free_body;
	}

	/*
	 * Nothing fails from here.  The slots that go drop their references
	 * first, while the object is held: that may free anything, the
	 * object itself included once it is let go.
	 */
	old_nslots = oh_nslots(obj);
	if (!oh_immortal(obj))
		obj->refcnt++;
	slots = oh_slots(obj);
	for (i = nslots; i < old_nslots; i++) {
		target = slots[i];
		slots[i] = NULL;
		if (target)
			oh_unref(heap, target);
	}

	keep = min(nslots, old_nslots);
	data_keep = oh_mappable(obj) ? sizeof(struct oh_pages *) :
				       min(len, oh_data_len(obj));
	new_slots = capacity != out->capacity ? body : slots;
	if (new_slots != slots) {
		memcpy(new_slots, slots, keep * sizeof(*slots));
		memcpy(new_slots + nslots, slots + old_nslots, data_keep);
		if (out->capacity)
			oh_free(&heap->alloc, out->body, out->capacity);
		out->body = body;
		out->capacity = capacity;
	} else if (nslots != old_nslots) {
		memmove(new_slots + nslots, slots + old_nslots, data_keep);
	}
	for (i = keep; i < nslots; i++)
		new_slots[i] = NULL;
	if (!oh_mappable(obj))
		memset((u8 *)(new_slots + nslots) + data_keep, 0,
		       len - data_keep);
	/* Resizable objects keep their sizes in their struct oh_far. */
	oh_far(obj)->nslots = nslots;
	oh_far(obj)->data_len = len;
	oh_tracing_resized(heap, obj, old_bytes);

	if (!oh_immortal(obj))
		oh_unref(heap, obj);
	return 0;

err_free_body:
	if (body)
		oh_free(&heap->alloc, body, capacity);
	return ret;
}

int objheap_cmd_seal(struct objheap_ucmd *ucmd)
{
	struct objheap_seal *cmd = ucmd->cmd;
	struct oh_object *obj;
	struct oh_pages *pg;
	bool was_readonly;
	int ret;

	lockdep_assert_held(&ucmd->heap->lock);

	obj = oh_lookup(ucmd, cmd->handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (cmd->flags & OBJHEAP_SEAL_INTERN)
		return oh_intern_object(ucmd, obj, &cmd->out_handle,
					sizeof(*cmd));
	if (oh_immutable(obj))
		return 0;
	if (oh_mappable(obj)) {
		pg = oh_pages_of(obj);
		spin_lock(&pg->lock);
		was_readonly = pg->readonly;
		ret = pg->wmaps ? -EBUSY : 0;
		if (!ret)
			pg->readonly = true;
		spin_unlock(&pg->lock);
		if (ret)
			return ret;
		WARN_ON_ONCE(was_readonly);
	}
	obj->flags |= OBJHEAP_OBJ_IMMUTABLE;
	return 0;
}
