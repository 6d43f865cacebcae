/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's payloads: copies in pieces, mappable pages, resizing and
 * sealing (kmod/payload.c).
 */
#ifndef __OBJHEAP_PAYLOAD_H
#define __OBJHEAP_PAYLOAD_H

#include <linux/types.h>

struct file;
struct objheap;
struct objheap_ucmd;
struct oh_attach;
struct oh_object;
struct vm_area_struct;

int oh_payload_init(struct objheap *heap, struct oh_object *obj,
		    u64 data_uptr);
void oh_payload_free(struct objheap *heap, struct oh_object *obj);
u64 oh_payload_footprint(struct oh_object *obj);
int oh_payload_copy(struct oh_object *obj, u32 offset, u64 buf_uptr, u32 len,
		    bool to_user);

bool oh_pages_spare(struct oh_object *obj);
u32 oh_pages_gc_refs(struct oh_object *obj);
bool oh_pages_gc_doom(struct oh_object *obj);
void oh_pages_gc_keep(struct oh_object *obj);

void oh_payloads_init(struct objheap *heap);
void oh_payloads_drain(struct objheap *heap);
void oh_payloads_destroy(struct objheap *heap);
void oh_map_offsets_release(struct oh_attach *att);
int oh_payload_setup(void);
void oh_payload_cleanup(void);

int objheap_fops_mmap(struct file *filp, struct vm_area_struct *vma);

int objheap_cmd_resize(struct objheap_ucmd *ucmd);
int objheap_cmd_seal(struct objheap_ucmd *ucmd);
int objheap_cmd_map_offset(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_PAYLOAD_H */
