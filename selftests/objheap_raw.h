/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw commands for the selftests that exercise the ABI itself, without
 * libobjheap in between: each returns 0 (or what it documents) on
 * success and -errno on failure.
 */
#ifndef __OBJHEAP_RAW_H
#define __OBJHEAP_RAW_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/objheap.h>

static inline int xioctl(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) ? -errno : 0;
}

static inline int obj_new(int fd, uint32_t type, uint32_t flags,
			  uint32_t nslots, const void *data, uint32_t len,
			  const uint64_t *slots, uint64_t *hp)
{
	struct objheap_new n = {
		.size = sizeof(n), .flags = flags, .type = type,
		.nslots = nslots, .data_len = len,
		.data_uptr = (uintptr_t)data, .slots_uptr = (uintptr_t)slots,
	};
	int ret = xioctl(fd, OBJHEAP_NEW, &n);

	if (!ret)
		*hp = n.out_handle;
	return ret;
}

/* OBJHEAP_DUP or OBJHEAP_RELEASE. */
static inline int handle_cmd(int fd, unsigned long nr, uint64_t h)
{
	struct objheap_handle_cmd c = { .size = sizeof(c), .handle = h };

	return xioctl(fd, nr, &c);
}

static inline int obj_release(int fd, uint64_t h)
{
	return handle_cmd(fd, OBJHEAP_RELEASE, h);
}

static inline int obj_info(int fd, uint64_t h, struct objheap_info *info)
{
	*info = (struct objheap_info){ .size = sizeof(*info), .handle = h };
	return xioctl(fd, OBJHEAP_INFO, info);
}

/* The object's count of all references, or 0 when INFO fails. */
static inline uint32_t refcnt(int fd, uint64_t h)
{
	struct objheap_info info;

	return obj_info(fd, h, &info) ? 0 : info.out_refcnt;
}

static inline int heap_stats(int fd, struct objheap_stats *st)
{
	*st = (struct objheap_stats){ .size = sizeof(*st) };
	return xioctl(fd, OBJHEAP_STATS, st);
}

/*
 * The bytes the heap's live allocations take, without its own tables
 * (which may keep what they grew to), or ~0 on error.
 */
static inline uint64_t object_bytes(int fd)
{
	struct objheap_stats st;

	if (heap_stats(fd, &st))
		return ~0ULL;
	return st.out_bytes_in_use - st.out_bytes_charged;
}

#endif /* __OBJHEAP_RAW_H */
