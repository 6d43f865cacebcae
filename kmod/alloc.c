// SPDX-License-Identifier: GPL-2.0
/*
 * Placeholder allocator on kmalloc, until the obmalloc-style allocator
 * lands.  Same interface and contract.
 */
#include <linux/slab.h>
#include <linux/mm.h>

#include "alloc.h"

#define OH_DEFAULT_LIMIT (256ULL << 20)

int oh_alloc_init(struct oh_alloc *a)
{
	a->limit = OH_DEFAULT_LIMIT;
	a->used = 0;
	return 0;
}

void oh_alloc_destroy(struct oh_alloc *a)
{
	WARN_ON_ONCE(a->used);
}

int oh_charge(struct oh_alloc *a, size_t bytes)
{
	if (bytes > a->limit - a->used)
		return -ENOMEM;
	a->used += bytes;
	return 0;
}

void oh_uncharge(struct oh_alloc *a, size_t bytes)
{
	a->used -= bytes;
}

void *oh_alloc(struct oh_alloc *a, size_t size)
{
	void *p;

	if (oh_charge(a, size))
		return NULL;
	p = kvmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p)
		oh_uncharge(a, size);
	return p;
}

void oh_free(struct oh_alloc *a, void *p, size_t size)
{
	kvfree(p);
	oh_uncharge(a, size);
}

int oh_alloc_set_limit(struct oh_alloc *a, u64 limit)
{
	a->limit = limit;
	return 0;
}
