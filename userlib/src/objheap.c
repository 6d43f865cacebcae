// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap: thin wrappers around the ioctls of /dev/objheap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libobjheap.h"
#include "lib.h"

int __objheap_ioctl(struct objheap *heap, unsigned long request, void *arg)
{
	return ioctl(heap->fd, request, arg) ? -errno : 0;
}

OBJHEAP_API int objheap_open(struct objheap **heapp)
{
	struct objheap *heap;

	heap = calloc(1, sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	/* Nonblocking: objheap_dispatch() reads what is pending, no more. */
	heap->fd = open("/dev/objheap", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (heap->fd < 0) {
		int ret = -errno;

		free(heap);
		return ret;
	}
	*heapp = heap;
	return 0;
}

OBJHEAP_API void objheap_close(struct objheap *heap)
{
	if (!heap)
		return;
	close(heap->fd);
	free(heap);
}

OBJHEAP_API int objheap_fd(const struct objheap *heap)
{
	return heap->fd;
}

OBJHEAP_API int objheap_query(struct objheap *heap, uint32_t query_cmd,
			      struct objheap_query *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->query_cmd = query_cmd;
	return __objheap_ioctl(heap, OBJHEAP_QUERY, out);
}

/*
 * NEW with the whole structure, tag included: a module older than the tag
 * takes the 48 bytes as long as the tag is 0 (it insists only that what
 * it does not know is zero), so objheap_new() runs on either.
 */
static int new_cmd(struct objheap *heap, uint64_t tag, uint32_t type,
		   uint32_t flags, uint32_t nslots, const void *data,
		   uint32_t data_len, const uint64_t *slots, uint64_t *handlep)
{
	struct objheap_new cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.type = type,
		.nslots = nslots,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.slots_uptr = (uintptr_t)slots,
		.tag = tag,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_NEW, &cmd);

	if (!ret)
		*handlep = cmd.out_handle;
	return ret;
}

OBJHEAP_API int objheap_new(struct objheap *heap, uint32_t type, uint32_t flags,
			    uint32_t nslots, const void *data, uint32_t data_len,
			    const uint64_t *slots, uint64_t *handlep)
{
	return new_cmd(heap, 0, type, flags, nslots, data, data_len, slots,
		       handlep);
}

OBJHEAP_API int objheap_new_tagged(struct objheap *heap, uint64_t tag,
				   uint32_t type, uint32_t flags,
				   uint32_t nslots, const void *data,
				   uint32_t data_len, const uint64_t *slots,
				   uint64_t *handlep)
{
	return new_cmd(heap, tag, type, flags, nslots, data, data_len, slots,
		       handlep);
}

/*
 * Never inlined, so that the return address is that of a call to it: the
 * caller's site, not the site of whatever this was inlined into.
 */
OBJHEAP_API __attribute__((noinline)) int
objheap_new_here(struct objheap *heap, uint32_t type, uint32_t flags,
		 uint32_t nslots, const void *data, uint32_t data_len,
		 const uint64_t *slots, uint64_t *handlep)
{
	uint64_t site = (uintptr_t)__builtin_return_address(0);

	return new_cmd(heap, site, type, flags, nslots, data, data_len, slots,
		       handlep);
}

OBJHEAP_API int objheap_dup(struct objheap *heap, uint64_t handle)
{
	struct objheap_handle_cmd cmd = { .size = sizeof(cmd), .handle = handle };

	return __objheap_ioctl(heap, OBJHEAP_DUP, &cmd);
}

OBJHEAP_API int objheap_release(struct objheap *heap, uint64_t handle)
{
	struct objheap_handle_cmd cmd = { .size = sizeof(cmd), .handle = handle };

	return __objheap_ioctl(heap, OBJHEAP_RELEASE, &cmd);
}

OBJHEAP_API int objheap_release_forget(struct objheap *heap, uint64_t handle)
{
	struct objheap_handle_cmd cmd = {
		.size = sizeof(cmd),
		.flags = OBJHEAP_RELEASE_FORGET,
		.handle = handle,
	};

	return __objheap_ioctl(heap, OBJHEAP_RELEASE, &cmd);
}

OBJHEAP_API int objheap_set_slot(struct objheap *heap, uint64_t handle,
				 uint32_t index, uint64_t target)
{
	struct objheap_slot cmd = {
		.size = sizeof(cmd),
		.handle = handle,
		.index = index,
		.target = target,
	};

	return __objheap_ioctl(heap, OBJHEAP_SET_SLOT, &cmd);
}

OBJHEAP_API int objheap_get_slot(struct objheap *heap, uint64_t handle,
				 uint32_t index, uint64_t *targetp)
{
	struct objheap_slot cmd = {
		.size = sizeof(cmd),
		.handle = handle,
		.index = index,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_GET_SLOT, &cmd);

	if (!ret)
		*targetp = cmd.out_handle;
	return ret;
}

static int objheap_rw(struct objheap *heap, unsigned long request,
		      uint64_t handle, uint32_t offset, const void *buf,
		      uint32_t len)
{
	struct objheap_rw cmd = {
		.size = sizeof(cmd),
		.handle = handle,
		.offset = offset,
		.len = len,
		.buf_uptr = (uintptr_t)buf,
	};

	return __objheap_ioctl(heap, request, &cmd);
}

OBJHEAP_API int objheap_read(struct objheap *heap, uint64_t handle,
			     uint32_t offset, void *buf, uint32_t len)
{
	return objheap_rw(heap, OBJHEAP_READ, handle, offset, buf, len);
}

OBJHEAP_API int objheap_write(struct objheap *heap, uint64_t handle,
			      uint32_t offset, const void *buf, uint32_t len)
{
	return objheap_rw(heap, OBJHEAP_WRITE, handle, offset, buf, len);
}

OBJHEAP_API int objheap_info(struct objheap *heap, uint64_t handle,
			     struct objheap_info *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->handle = handle;
	return __objheap_ioctl(heap, OBJHEAP_INFO, out);
}

OBJHEAP_API int objheap_intern(struct objheap *heap, uint32_t type,
			       uint32_t flags, const void *data,
			       uint32_t data_len, uint64_t *handlep)
{
	struct objheap_intern cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.type = type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_INTERN, &cmd);

	if (!ret)
		*handlep = cmd.out_handle;
	return ret;
}

OBJHEAP_API int objheap_stats(struct objheap *heap, struct objheap_stats *out,
			      struct objheap_class_stats *classes,
			      uint32_t nr_classes)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->nr_classes = classes ? nr_classes : 0;
	out->classes = (uintptr_t)classes;
	return __objheap_ioctl(heap, OBJHEAP_STATS, out);
}

OBJHEAP_API int objheap_set_limit(struct objheap *heap, uint64_t limit)
{
	struct objheap_set_limit cmd = { .size = sizeof(cmd), .limit = limit };

	return __objheap_ioctl(heap, OBJHEAP_SET_LIMIT, &cmd);
}
