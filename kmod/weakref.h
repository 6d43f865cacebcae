/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's weak references and finalizers.
 */
#ifndef __OBJHEAP_WEAKREF_H
#define __OBJHEAP_WEAKREF_H

#include <linux/list.h>
#include <linux/types.h>

#include "parray.h"

struct objheap;
struct objheap_ucmd;
struct oh_object;

/**
 * struct oh_weak - The heap's weak table: target to its weak references.
 * @table: Chains of struct oh_weakref, hashed by target, each target's
 *         oldest weak reference only; no chains before the first weak
 *         reference.
 * @count: Weak references not cleared.
 * @ntargets: Objects with weak references not cleared (entries in
 *            @table).
 */
struct oh_weak {
	struct oh_lhash table;
	u32 count;
	u32 ntargets;
};

void oh_weak_destroy(struct objheap *heap);
int oh_weak_check(struct objheap *heap);
u32 oh_weak_chain_index(struct objheap *heap, const struct oh_object *target);
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
