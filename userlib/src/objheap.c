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

struct objheap {
	int fd;
};

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
	heap->fd = open("/dev/objheap", O_RDWR | O_CLOEXEC);
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
