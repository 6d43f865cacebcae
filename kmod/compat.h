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

/*
 * 6.14 renamed alloc_pages_bulk_array() to alloc_pages_bulk(), when the
 * list-filling variant went away.  Same arguments, same result; the new
 * name has always been a macro.
 */
#ifndef alloc_pages_bulk
#define alloc_pages_bulk(gfp, nr_pages, page_array) \
	alloc_pages_bulk_array(gfp, nr_pages, page_array)
#endif

#endif /* __OBJHEAP_COMPAT_H */
