// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap batches: a buffer of OBJHEAP_BATCH entries, each a struct
 * objheap_batch_entry followed by the command's own structure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libobjheap.h"
#include "lib.h"

/* Room for the largest structure a batch entry may carry. */
union batch_cmd {
	struct objheap_new new;
	struct objheap_handle_cmd handle;
	struct objheap_slot slot;
	struct objheap_rw rw;
	struct objheap_info info;
	struct objheap_intern intern;
	struct objheap_weakref weakref;
	struct objheap_resize resize;
	struct objheap_seal seal;
};

#define ENTRY_MAX (sizeof(struct objheap_batch_entry) + sizeof(union batch_cmd))
#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

struct objheap_batch_buf {
	uint32_t max;
	uint32_t count;
	uint32_t len;
	uint32_t *offsets;
	uint64_t *buf;
};

OBJHEAP_API int objheap_batch_alloc(struct objheap_batch_buf **batchp,
				    uint32_t max_entries)
{
	struct objheap_batch_buf *b;

	if (!max_entries || max_entries > OBJHEAP_BATCH_MAX_COUNT)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->max = max_entries;
	b->offsets = calloc(max_entries, sizeof(*b->offsets));
	b->buf = calloc(max_entries, ALIGN8(ENTRY_MAX));
	if (!b->offsets || !b->buf) {
		objheap_batch_free(b);
		return -ENOMEM;
	}
	*batchp = b;
	return 0;
}

OBJHEAP_API void objheap_batch_free(struct objheap_batch_buf *b)
{
	if (!b)
		return;
	free(b->offsets);
	free(b->buf);
	free(b);
}

OBJHEAP_API void objheap_batch_reset(struct objheap_batch_buf *b)
{
	b->count = 0;
	b->len = 0;
}

OBJHEAP_API uint32_t objheap_batch_count(const struct objheap_batch_buf *b)
{
	return b->count;
}

static struct objheap_batch_entry *batch_entry(const struct objheap_batch_buf *b,
					       uint32_t i)
{
	return (struct objheap_batch_entry *)((char *)b->buf + b->offsets[i]);
}

/* Append an entry for @cmd whose structure is @size bytes, zeroed. */
static void *batch_add(struct objheap_batch_buf *b, uint32_t cmd, uint32_t size)
{
	struct objheap_batch_entry *entry;
	uint32_t *ustruct;

	if (b->count == b->max)
		return NULL;
	b->offsets[b->count] = b->len;
	entry = batch_entry(b, b->count);
	entry->cmd = cmd;
	entry->out_result = 0;
	ustruct = (uint32_t *)(entry + 1);
	memset(ustruct, 0, size);
	ustruct[0] = size;
	b->len += ALIGN8(sizeof(*entry) + size);
	b->count++;
	return ustruct;
}

#define BATCH_ADD(b, cmd, type) \
	((type *)batch_add(b, cmd, sizeof(type)))

static int batch_new_cmd(struct objheap_batch_buf *b, uint64_t tag,
			 uint32_t type, uint32_t flags, uint32_t nslots,
			 const void *data, uint32_t data_len,
			 const uint64_t *slots)
{
	struct objheap_new *cmd = BATCH_ADD(b, OBJHEAP_CMD_NEW, struct objheap_new);

	if (!cmd)
		return -ENOSPC;
	cmd->flags = flags;
	cmd->type = type;
	cmd->nslots = nslots;
	cmd->data_len = data_len;
	cmd->data_uptr = (uintptr_t)data;
	cmd->slots_uptr = (uintptr_t)slots;
	cmd->tag = tag;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_new(struct objheap_batch_buf *b, uint32_t type,
				  uint32_t flags, uint32_t nslots,
				  const void *data, uint32_t data_len,
				  const uint64_t *slots)
{
	return batch_new_cmd(b, 0, type, flags, nslots, data, data_len, slots);
}

OBJHEAP_API int objheap_batch_new_tagged(struct objheap_batch_buf *b,
					 uint64_t tag, uint32_t type,
					 uint32_t flags, uint32_t nslots,
					 const void *data, uint32_t data_len,
					 const uint64_t *slots)
{
	return batch_new_cmd(b, tag, type, flags, nslots, data, data_len,
			     slots);
}

static int batch_handle_cmd(struct objheap_batch_buf *b, uint32_t nr,
			    uint64_t handle, uint32_t flags)
{
	struct objheap_handle_cmd *cmd = BATCH_ADD(b, nr, struct objheap_handle_cmd);

	if (!cmd)
		return -ENOSPC;
	cmd->flags = flags;
	cmd->handle = handle;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_dup(struct objheap_batch_buf *b, uint64_t handle)
{
	return batch_handle_cmd(b, OBJHEAP_CMD_DUP, handle, 0);
}

OBJHEAP_API int objheap_batch_release(struct objheap_batch_buf *b,
				      uint64_t handle)
{
	return batch_handle_cmd(b, OBJHEAP_CMD_RELEASE, handle, 0);
}

OBJHEAP_API int objheap_batch_release_forget(struct objheap_batch_buf *b,
					     uint64_t handle)
{
	return batch_handle_cmd(b, OBJHEAP_CMD_RELEASE, handle,
				OBJHEAP_RELEASE_FORGET);
}

OBJHEAP_API int objheap_batch_weakref_new(struct objheap_batch_buf *b,
					  uint64_t target, uint64_t cookie,
					  uint32_t flags)
{
	struct objheap_weakref *cmd = BATCH_ADD(b, OBJHEAP_CMD_WEAKREF_NEW,
						struct objheap_weakref);

	if (!cmd)
		return -ENOSPC;
	cmd->flags = flags;
	cmd->handle = target;
	cmd->cookie = cookie;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_weakref_get(struct objheap_batch_buf *b,
					  uint64_t wr)
{
	struct objheap_weakref *cmd = BATCH_ADD(b, OBJHEAP_CMD_WEAKREF_GET,
						struct objheap_weakref);

	if (!cmd)
		return -ENOSPC;
	cmd->handle = wr;
	return b->count - 1;
}

static int batch_slot_cmd(struct objheap_batch_buf *b, uint32_t nr,
			  uint64_t handle, uint32_t index, uint64_t target)
{
	struct objheap_slot *cmd = BATCH_ADD(b, nr, struct objheap_slot);

	if (!cmd)
		return -ENOSPC;
	cmd->handle = handle;
	cmd->index = index;
	cmd->target = target;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_set_slot(struct objheap_batch_buf *b,
				       uint64_t handle, uint32_t index,
				       uint64_t target)
{
	return batch_slot_cmd(b, OBJHEAP_CMD_SET_SLOT, handle, index, target);
}

OBJHEAP_API int objheap_batch_get_slot(struct objheap_batch_buf *b,
				       uint64_t handle, uint32_t index)
{
	return batch_slot_cmd(b, OBJHEAP_CMD_GET_SLOT, handle, index, 0);
}

static int batch_rw_cmd(struct objheap_batch_buf *b, uint32_t nr,
			uint64_t handle, uint32_t offset, const void *buf,
			uint32_t len)
{
	struct objheap_rw *cmd = BATCH_ADD(b, nr, struct objheap_rw);

	if (!cmd)
		return -ENOSPC;
	cmd->handle = handle;
	cmd->offset = offset;
	cmd->len = len;
	cmd->buf_uptr = (uintptr_t)buf;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_read(struct objheap_batch_buf *b, uint64_t handle,
				   uint32_t offset, void *buf, uint32_t len)
{
	return batch_rw_cmd(b, OBJHEAP_CMD_READ, handle, offset, buf, len);
}

OBJHEAP_API int objheap_batch_write(struct objheap_batch_buf *b,
				    uint64_t handle, uint32_t offset,
				    const void *buf, uint32_t len)
{
	return batch_rw_cmd(b, OBJHEAP_CMD_WRITE, handle, offset, buf, len);
}

OBJHEAP_API int objheap_batch_info(struct objheap_batch_buf *b, uint64_t handle)
{
	struct objheap_info *cmd = BATCH_ADD(b, OBJHEAP_CMD_INFO, struct objheap_info);

	if (!cmd)
		return -ENOSPC;
	cmd->handle = handle;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_intern(struct objheap_batch_buf *b, uint32_t type,
				     uint32_t flags, const void *data,
				     uint32_t data_len)
{
	struct objheap_intern *cmd = BATCH_ADD(b, OBJHEAP_CMD_INTERN,
					       struct objheap_intern);

	if (!cmd)
		return -ENOSPC;
	cmd->flags = flags;
	cmd->type = type;
	cmd->data_len = data_len;
	cmd->data_uptr = (uintptr_t)data;
	return b->count - 1;
}

static int batch_resize_cmd(struct objheap_batch_buf *b, uint64_t handle,
			    uint32_t flags, uint32_t nslots, uint32_t data_len)
{
	struct objheap_resize *cmd = BATCH_ADD(b, OBJHEAP_CMD_RESIZE,
					       struct objheap_resize);

	if (!cmd)
		return -ENOSPC;
	cmd->flags = flags;
	cmd->handle = handle;
	cmd->nslots = nslots;
	cmd->data_len = data_len;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_resize(struct objheap_batch_buf *b,
				     uint64_t handle, uint32_t data_len)
{
	return batch_resize_cmd(b, handle, OBJHEAP_RESIZE_DATA, 0, data_len);
}

OBJHEAP_API int objheap_batch_resize_slots(struct objheap_batch_buf *b,
					   uint64_t handle, uint32_t nslots)
{
	return batch_resize_cmd(b, handle, OBJHEAP_RESIZE_SLOTS, nslots, 0);
}

static int batch_seal_cmd(struct objheap_batch_buf *b, uint64_t handle,
			  uint32_t flags)
{
	struct objheap_seal *cmd = BATCH_ADD(b, OBJHEAP_CMD_SEAL,
					     struct objheap_seal);

	if (!cmd)
		return -ENOSPC;
	cmd->flags = flags;
	cmd->handle = handle;
	return b->count - 1;
}

OBJHEAP_API int objheap_batch_seal(struct objheap_batch_buf *b, uint64_t handle)
{
	return batch_seal_cmd(b, handle, 0);
}

OBJHEAP_API int objheap_batch_seal_intern(struct objheap_batch_buf *b,
					  uint64_t handle)
{
	return batch_seal_cmd(b, handle, OBJHEAP_SEAL_INTERN);
}

OBJHEAP_API int objheap_batch_submit(struct objheap *heap,
				     struct objheap_batch_buf *b, uint32_t flags)
{
	struct objheap_batch cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.count = b->count,
		.len = b->len,
		.buf_uptr = (uintptr_t)b->buf,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_BATCH, &cmd);

	return ret ? ret : (int)cmd.out_failed;
}

OBJHEAP_API int objheap_batch_result(const struct objheap_batch_buf *b,
				     uint32_t i)
{
	return i < b->count ? batch_entry(b, i)->out_result : -EINVAL;
}

OBJHEAP_API uint64_t objheap_batch_handle(const struct objheap_batch_buf *b,
					  uint32_t i)
{
	struct objheap_batch_entry *entry;
	union batch_cmd *cmd;

	if (i >= b->count)
		return 0;
	entry = batch_entry(b, i);
	if (entry->out_result)
		return 0;
	cmd = (union batch_cmd *)(entry + 1);
	switch (entry->cmd) {
	case OBJHEAP_CMD_NEW:
		return cmd->new.out_handle;
	case OBJHEAP_CMD_DUP:
		return cmd->handle.out_handle;
	case OBJHEAP_CMD_GET_SLOT:
		return cmd->slot.out_handle;
	case OBJHEAP_CMD_INTERN:
		return cmd->intern.out_handle;
	case OBJHEAP_CMD_WEAKREF_NEW:
	case OBJHEAP_CMD_WEAKREF_GET:
		return cmd->weakref.out_handle;
	case OBJHEAP_CMD_SEAL:
		/* Not written without OBJHEAP_SEAL_INTERN: still 0. */
		return cmd->seal.out_handle;
	}
	return 0;
}

OBJHEAP_API const struct objheap_info *
objheap_batch_info_result(const struct objheap_batch_buf *b, uint32_t i)
{
	struct objheap_batch_entry *entry;

	if (i >= b->count)
		return NULL;
	entry = batch_entry(b, i);
	if (entry->cmd != OBJHEAP_CMD_INFO || entry->out_result)
		return NULL;
	return (const struct objheap_info *)(entry + 1);
}
