// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap: payloads that are mapped, resized and sealed.
 */

/*
 * A mapping's offset is 64 bits wide even in a 32-bit program (a 32-bit
 * attachment's offsets reach 2^44): mmap() must take a 64-bit off_t, that
 * is be glibc's mmap64(), whose mmap2 system call carries it in pages.
 * The Makefile builds the library so; this keeps any other build right.
 */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "libobjheap.h"
#include "lib.h"

static_assert(sizeof(off_t) == 8, "libobjheap needs a 64-bit off_t");

/* @len rounded up to the page size, or 0 when that does not fit. */
static size_t map_len(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (len > SIZE_MAX - (page - 1))
		return 0;
	return (len + page - 1) & ~(page - 1);
}

OBJHEAP_API int objheap_map_offset(struct objheap *heap, uint64_t handle,
				   uint64_t *offsetp, uint32_t *lenp)
{
	struct objheap_map_offset cmd = {
		.size = sizeof(cmd),
		.handle = handle,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_MAP_OFFSET, &cmd);

	if (ret)
		return ret;
	if (offsetp)
		*offsetp = cmd.out_offset;
	if (lenp)
		*lenp = cmd.out_data_len;
	return 0;
}

OBJHEAP_API int objheap_map(struct objheap *heap, uint64_t handle, int prot,
			    void **addrp, size_t *lenp)
{
	uint64_t offset;
	uint32_t len;
	void *addr;
	int ret;

	if (prot != PROT_READ && prot != (PROT_READ | PROT_WRITE))
		return -EINVAL;
	ret = objheap_map_offset(heap, handle, &offset, &len);
	if (ret)
		return ret;
	/*
	 * mmap() of no bytes is EINVAL before the module is asked; any page
	 * of an empty payload passes its end, which the module refuses with
	 * ENXIO.  Give that answer without the system call.
	 */
	if (!len)
		return -ENXIO;
	if (offset > (uint64_t)INT64_MAX)
		return -EOVERFLOW;
	addr = mmap(NULL, map_len(len), prot, MAP_SHARED, heap->fd,
		    (off_t)offset);
	if (addr == MAP_FAILED)
		return -errno;
	*addrp = addr;
	*lenp = len;
	return 0;
}

OBJHEAP_API int objheap_unmap(void *addr, size_t len)
{
	size_t maplen = map_len(len);

	if (!maplen)
		return -EINVAL;
	return munmap(addr, maplen) ? -errno : 0;
}

static int resize(struct objheap *heap, uint64_t handle, uint32_t flags,
		  uint32_t nslots, uint32_t data_len)
{
	struct objheap_resize cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.handle = handle,
		.nslots = nslots,
		.data_len = data_len,
	};

	return __objheap_ioctl(heap, OBJHEAP_RESIZE, &cmd);
}

OBJHEAP_API int objheap_resize(struct objheap *heap, uint64_t handle,
			       uint32_t data_len)
{
	return resize(heap, handle, OBJHEAP_RESIZE_DATA, 0, data_len);
}

OBJHEAP_API int objheap_resize_slots(struct objheap *heap, uint64_t handle,
				     uint32_t nslots)
{
	return resize(heap, handle, OBJHEAP_RESIZE_SLOTS, nslots, 0);
}

OBJHEAP_API int objheap_seal(struct objheap *heap, uint64_t handle)
{
	struct objheap_seal cmd = { .size = sizeof(cmd), .handle = handle };

	return __objheap_ioctl(heap, OBJHEAP_SEAL, &cmd);
}

OBJHEAP_API int objheap_seal_intern(struct objheap *heap, uint64_t handle,
				    uint64_t *internedp)
{
	struct objheap_seal cmd = {
		.size = sizeof(cmd),
		.flags = OBJHEAP_SEAL_INTERN,
		.handle = handle,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_SEAL, &cmd);

	if (!ret)
		*internedp = cmd.out_handle;
	return ret;
}
