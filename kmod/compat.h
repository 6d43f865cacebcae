/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap builds against every kernel from the oldest Debian stable's (6.1)
 * to the newest in sid.  Where the kernel's API moved between those, the
 * difference is settled here and nowhere else: the code is written against
 * the newest kernel's names, and each shim below gives an older kernel
 * that name, with the release that changed it.  When the oldest supported
 * kernel reaches that release, the shim goes.
 *
 * A shim tests for what it replaces where the kernel lets it (a macro's
 * presence) rather than for a version number, so that a distribution
 * kernel with the change backported needs nothing.
 *
 * Changes that needed no shim, because the code now uses what every
 * supported kernel accepts:
 *
 * - 6.12 removed no_llseek().  The heap's file is opened with stream_open(),
 *   which clears FMODE_LSEEK, so lseek() gives ESPIPE without an ->llseek
 *   method on every kernel.
 */
#ifndef __OBJHEAP_COMPAT_H
#define __OBJHEAP_COMPAT_H

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/version.h>

/*
 * 6.14 renamed alloc_pages_bulk_array() to alloc_pages_bulk(), when the
 * list-filling variant went away.  Same arguments, same result; the new
 * name has always been a macro.
 */
#ifndef alloc_pages_bulk
#define alloc_pages_bulk(gfp, nr_pages, page_array) \
	alloc_pages_bulk_array(gfp, nr_pages, page_array)
#endif

/*
 * 6.14 made poll_wait() a full barrier between putting the poller on the
 * wait queue and the caller's readiness test, and removed
 * poll_does_not_wait(), which callers used to skip their own barrier.
 * Before it, the caller must order the two itself, or a record queued
 * between them could leave the poller asleep.  Some stable kernels got
 * the barrier too; an extra smp_mb() there costs a few cycles per poll.
 * poll_wait() is an inline function, not a macro, so the version decides.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
static inline void oh_poll_wait(struct file *filp, wait_queue_head_t *wq,
				poll_table *p)
{
	if (!poll_does_not_wait(p)) {
		poll_wait(filp, wq, p);
		/* Queued before the caller's test: see above. */
		smp_mb();
	}
}
#define poll_wait(filp, wq, p) oh_poll_wait(filp, wq, p)
#endif

/*
 * 6.3 made a VMA's flags writable only through vm_flags_set() and
 * vm_flags_clear(), which also take the VMA's own lock.  Before it the
 * flags were a plain field, written under mmap_lock, as ->mmap() runs.
 * Both are inline functions, so the version decides.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma,
				vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* __OBJHEAP_COMPAT_H */
