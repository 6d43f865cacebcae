/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Giving memory back under pressure (kmod/shrink.c).
 */
#ifndef __OBJHEAP_SHRINK_H
#define __OBJHEAP_SHRINK_H

struct objheap;

int oh_shrink_setup(void);
void oh_shrink_cleanup(void);
int oh_shrink_heap_init(struct objheap *heap);
void oh_shrink_heap_add(struct objheap *heap);
void oh_shrink_heap_destroy(struct objheap *heap);

#endif /* __OBJHEAP_SHRINK_H */
