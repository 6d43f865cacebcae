/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's weak references and finalizers.
 */
#ifndef __OBJHEAP_WEAKREF_H
#define __OBJHEAP_WEAKREF_H

#include <linux/list.h>
#include <linux/types.h>

struct objheap;
struct objheap_ucmd;
struct oh_object;

/**
 * struct oh_weak - The heap's weak table: target to its weak references.
 * @buckets: @nbuckets chains of struct oh_weakref, hashed by target, each
 *           target's oldest weak reference only; NULL before the first
 *           weak reference.
 * @nbuckets: A power of two.
 * @count: Weak references not cleared.
 * @ntargets: Objects with weak references not cleared (entries in
 *            @buckets).
 */
struct oh_weak {
	struct hlist_head *buckets;
	u32 nbuckets;
	u32 count;
	u32 ntargets;
};

void oh_weak_destroy(struct objheap *heap);
void oh_weak_clear(struct objheap *heap, struct oh_object *target);
void oh_weakref_free(struct objheap *heap, struct oh_object *wobj);
void oh_weakref_clear(struct objheap *heap, struct oh_object *wobj);
void oh_finalizer_detach(struct objheap *heap, struct oh_object *wobj);

int objheap_cmd_weakref_new(struct objheap_ucmd *ucmd);
int objheap_cmd_weakref_get(struct objheap_ucmd *ucmd);
int objheap_cmd_weakref_count(struct objheap_ucmd *ucmd);
int objheap_cmd_weakref_list(struct objheap_ucmd *ucmd);
int objheap_cmd_finalize_detach(struct objheap_ucmd *ucmd);
int objheap_cmd_finalize_alive(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_WEAKREF_H */
