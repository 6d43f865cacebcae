/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libobjheap: the userspace library of objheap.
 *
 * Every function returns 0 (or a non-negative value where documented) on
 * success and -errno on failure, as liburing does; errno is not used.
 * The errno values are those of the ioctls, described in
 * <linux/objheap.h> and Documentation/userspace-api.rst.
 */
#ifndef LIBOBJHEAP_H
#define LIBOBJHEAP_H

#include <stdint.h>
#include <linux/objheap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An open heap: one open file description of /dev/objheap. */
struct objheap;

/*
 * objheap_open() - Open a new heap.
 * @heapp: On success, the heap.
 *
 * Return: 0, or -errno (-ENOENT when /dev/objheap does not exist, that is
 * when the module is not loaded).
 */
int objheap_open(struct objheap **heapp);

/* objheap_close() - Close a heap: everything in it is freed.  NULL is ok. */
void objheap_close(struct objheap *heap);

/* objheap_fd() - The heap's file descriptor, for poll(2) and friends. */
int objheap_fd(const struct objheap *heap);

/*
 * objheap_query() - What the running module supports.
 * @heap: The heap.
 * @query_cmd: 0, or a command number (OBJHEAP_CMD_*) to describe in
 *             @out->out_cmd_size and @out->out_cmd_flags.
 * @out: Filled in on success.
 *
 * Return: 0, -EOPNOTSUPP when @query_cmd is not supported, or -errno.
 */
int objheap_query(struct objheap *heap, uint32_t query_cmd,
		  struct objheap_query *out);

/*
 * objheap_stats() - The statistics of the heap's allocator.
 * @heap: The heap.
 * @out: Filled in on success (see struct objheap_stats).
 * @classes: NULL, or an array of @nr_classes elements filled per size
 *           class, in order of block size.
 * @nr_classes: Its capacity.  @out->out_nr_classes tells how many classes
 *              there are (32); only the first @nr_classes are written.
 *
 * Return: 0, -EFAULT when @classes cannot be written, or -errno.
 */
int objheap_stats(struct objheap *heap, struct objheap_stats *out,
		  struct objheap_class_stats *classes, uint32_t nr_classes);

/*
 * objheap_set_limit() - Set the heap's limit on bytes in use.
 * @heap: The heap.
 * @limit: Bytes; see struct objheap_stats, out_bytes_in_use.
 *
 * Return: 0, -EINVAL above the module-wide maximum (out_limit_max), or
 * -errno.
 */
int objheap_set_limit(struct objheap *heap, uint64_t limit);

#ifdef __cplusplus
}
#endif

#endif /* LIBOBJHEAP_H */
