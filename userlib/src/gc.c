// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap: the cycle collector, after Python's gc module.
 */
#include <errno.h>
#include <string.h>

#include "libobjheap.h"
#include "lib.h"

OBJHEAP_API int objheap_gc_collect(struct objheap *heap, uint32_t generation,
				   struct objheap_gc_collect *out)
{
	struct objheap_gc_collect cmd = {
		.size = sizeof(cmd),
		.generation = generation,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_COLLECT, &cmd);

	if (ret)
		return ret;
	if (out)
		*out = cmd;
	return cmd.out_collected > INT32_MAX ? INT32_MAX : (int)cmd.out_collected;
}

/* A command on struct objheap_gc_value: its out_value, or -errno. */
static int gc_value(struct objheap *heap, unsigned long request, uint32_t value)
{
	struct objheap_gc_value cmd = { .size = sizeof(cmd), .value = value };
	int ret = __objheap_ioctl(heap, request, &cmd);

	return ret ? ret : (int)(cmd.out_value & INT32_MAX);
}

OBJHEAP_API int objheap_gc_enable(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_ENABLE, 0);
}

OBJHEAP_API int objheap_gc_disable(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_DISABLE, 0);
}

OBJHEAP_API int objheap_gc_isenabled(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_ISENABLED, 0);
}

OBJHEAP_API int objheap_gc_freeze(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_FREEZE, 0);
}

OBJHEAP_API int objheap_gc_unfreeze(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_UNFREEZE, 0);
}

OBJHEAP_API int objheap_gc_get_freeze_count(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_GET_FREEZE_COUNT, 0);
}

OBJHEAP_API int objheap_gc_set_debug(struct objheap *heap, uint32_t flags)
{
	return gc_value(heap, OBJHEAP_GC_SET_DEBUG, flags);
}

OBJHEAP_API int objheap_gc_get_debug(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_GET_DEBUG, 0);
}

OBJHEAP_API int objheap_gc_clear_garbage(struct objheap *heap)
{
	return gc_value(heap, OBJHEAP_GC_CLEAR_GARBAGE, 0);
}

OBJHEAP_API int objheap_gc_get_threshold(struct objheap *heap,
					 uint32_t threshold[OBJHEAP_GC_GENERATIONS])
{
	struct objheap_gc_threshold cmd = { .size = sizeof(cmd) };
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_GET_THRESHOLD, &cmd);

	if (!ret)
		memcpy(threshold, cmd.out_threshold, sizeof(cmd.out_threshold));
	return ret;
}

OBJHEAP_API int objheap_gc_set_threshold(struct objheap *heap,
					 const uint32_t threshold[OBJHEAP_GC_GENERATIONS])
{
	struct objheap_gc_threshold cmd = { .size = sizeof(cmd) };

	memcpy(cmd.threshold, threshold, sizeof(cmd.threshold));
	return __objheap_ioctl(heap, OBJHEAP_GC_SET_THRESHOLD, &cmd);
}

OBJHEAP_API int objheap_gc_get_count(struct objheap *heap,
				     uint32_t count[OBJHEAP_GC_GENERATIONS])
{
	struct objheap_gc_count cmd = { .size = sizeof(cmd) };
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_GET_COUNT, &cmd);

	if (!ret)
		memcpy(count, cmd.out_count, sizeof(cmd.out_count));
	return ret;
}

OBJHEAP_API int objheap_gc_get_stats(struct objheap *heap,
				     struct objheap_gc_gen_stats stats[OBJHEAP_GC_GENERATIONS])
{
	struct objheap_gc_stats cmd = { .size = sizeof(cmd) };
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_GET_STATS, &cmd);

	if (!ret)
		memcpy(stats, cmd.out_gen, sizeof(cmd.out_gen));
	return ret;
}

OBJHEAP_API int objheap_gc_get_info(struct objheap *heap,
				    struct objheap_gc_stats *out)
{
	struct objheap_gc_stats cmd = { .size = sizeof(cmd) };
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_GET_STATS, &cmd);

	if (!ret)
		*out = cmd;
	return ret;
}

OBJHEAP_API int objheap_gc_set_mode(struct objheap *heap, uint32_t mode,
				    uint32_t budget)
{
	struct objheap_gc_mode cmd = {
		.size = sizeof(cmd),
		.mode = mode,
		.budget = budget,
	};

	return __objheap_ioctl(heap, OBJHEAP_GC_SET_MODE, &cmd);
}

OBJHEAP_API int objheap_gc_get_mode(struct objheap *heap,
				    struct objheap_gc_mode *out)
{
	struct objheap_gc_mode cmd = { .size = sizeof(cmd) };
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_GET_MODE, &cmd);

	if (!ret)
		*out = cmd;
	return ret;
}

static int gc_list(struct objheap *heap, unsigned long request, uint64_t handle,
		   uint32_t generation, uint64_t *handles, uint32_t count,
		   uint32_t *countp)
{
	struct objheap_gc_list cmd = {
		.size = sizeof(cmd),
		.handle = handle,
		.generation = generation,
		.count = count,
		.buf_uptr = (uintptr_t)handles,
	};
	int ret = __objheap_ioctl(heap, request, &cmd);

	if (!ret || ret == -EMSGSIZE)
		*countp = cmd.out_count;
	return ret;
}

OBJHEAP_API int objheap_gc_get_objects(struct objheap *heap, uint32_t generation,
				       uint64_t *handles, uint32_t count,
				       uint32_t *countp)
{
	return gc_list(heap, OBJHEAP_GC_GET_OBJECTS, 0, generation, handles,
		       count, countp);
}

OBJHEAP_API int objheap_gc_get_referrers(struct objheap *heap, uint64_t handle,
					 uint64_t *handles, uint32_t count,
					 uint32_t *countp)
{
	return gc_list(heap, OBJHEAP_GC_GET_REFERRERS, handle, 0, handles,
		       count, countp);
}

OBJHEAP_API int objheap_gc_get_referents(struct objheap *heap, uint64_t handle,
					 uint64_t *handles, uint32_t count,
					 uint32_t *countp)
{
	return gc_list(heap, OBJHEAP_GC_GET_REFERENTS, handle, 0, handles,
		       count, countp);
}

OBJHEAP_API int objheap_gc_get_garbage(struct objheap *heap, uint64_t *handles,
				       uint32_t count, uint32_t *countp)
{
	return gc_list(heap, OBJHEAP_GC_GET_GARBAGE, 0, 0, handles, count,
		       countp);
}

OBJHEAP_API int objheap_gc_is_tracked(struct objheap *heap, uint64_t handle)
{
	struct objheap_gc_object cmd = { .size = sizeof(cmd), .handle = handle };
	int ret = __objheap_ioctl(heap, OBJHEAP_GC_IS_TRACKED, &cmd);

	return ret ? ret : (int)cmd.out_tracked;
}

/*
 * Every batch is submitted, whatever the earlier ones gave: one bad
 * handle must not leak the references of the others.
 */
OBJHEAP_API int objheap_release_array(struct objheap *heap,
				      const uint64_t *handles, uint32_t count)
{
	struct objheap_batch_buf *b;
	int ret, first = 0;
	uint32_t i, j, n;

	ret = objheap_batch_alloc(&b, count < OBJHEAP_BATCH_MAX_COUNT ?
				  (count ? count : 1) : OBJHEAP_BATCH_MAX_COUNT);
	if (ret)
		return ret;
	for (i = 0; i < count; i += n) {
		objheap_batch_reset(b);
		for (n = 0; n < OBJHEAP_BATCH_MAX_COUNT && i + n < count; n++)
			objheap_batch_release(b, handles[i + n]);
		ret = objheap_batch_submit(heap, b, OBJHEAP_BATCH_CONTINUE);
		if (ret < 0 && !first)
			first = ret;
		/* ret > 0: that many entries failed; find the first. */
		for (j = 0; ret > 0 && !first && j < n; j++)
			first = objheap_batch_result(b, j);
	}
	objheap_batch_free(b);
	return first;
}
