/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The heap's allocator: the only memory the object layer uses.
 *
 * The object layer sees this interface and nothing else: no pools, no
 * arenas.  Every function must be called with the heap's lock held; the
 * allocator has no lock of its own.
 */
#ifndef __OBJHEAP_ALLOC_H
#define __OBJHEAP_ALLOC_H

#include <linux/types.h>

/**
 * struct oh_alloc - One heap's allocator.
 * @limit: The most bytes the heap may hold (see oh_alloc_set_limit()).
 * @used: Bytes held now: allocations plus charges.
 */
struct oh_alloc {
	u64 limit;
	u64 used;
};

int oh_alloc_init(struct oh_alloc *a);
void oh_alloc_destroy(struct oh_alloc *a);
void *oh_alloc(struct oh_alloc *a, size_t size);
void oh_free(struct oh_alloc *a, void *p, size_t size);
int oh_charge(struct oh_alloc *a, size_t bytes);
void oh_uncharge(struct oh_alloc *a, size_t bytes);
int oh_alloc_set_limit(struct oh_alloc *a, u64 limit);

#endif /* __OBJHEAP_ALLOC_H */
