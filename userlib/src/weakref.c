// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap: weak references, finalizers, and the event queue with its
 * dispatcher.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "libobjheap.h"
#include "lib.h"

/* Records read per read(2) by objheap_dispatch(). */
#define DISPATCH_BATCH 32

static int weakref_cmd(struct objheap *heap, unsigned long request,
		       struct objheap_weakref *cmd)
{
	cmd->size = sizeof(*cmd);
	return __objheap_ioctl(heap, request, cmd);
}

OBJHEAP_API int objheap_weakref_new(struct objheap *heap, uint64_t target,
				    uint64_t cookie, uint32_t flags,
				    uint64_t *wrp)
{
	struct objheap_weakref cmd = {
		.flags = flags,
		.handle = target,
		.cookie = cookie,
	};
	int ret = weakref_cmd(heap, OBJHEAP_WEAKREF_NEW, &cmd);

	if (!ret)
		*wrp = cmd.out_handle;
	return ret;
}

OBJHEAP_API int objheap_weakref_get(struct objheap *heap, uint64_t wr,
				    uint64_t *targetp)
{
	struct objheap_weakref cmd = { .handle = wr };
	int ret = weakref_cmd(heap, OBJHEAP_WEAKREF_GET, &cmd);

	if (ret)
		return ret;
	*targetp = cmd.out_handle;
	return cmd.out_alive;
}

OBJHEAP_API int objheap_getweakrefcount(struct objheap *heap, uint64_t target)
{
	struct objheap_weakref_list cmd = {
		.size = sizeof(cmd),
		.handle = target,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_WEAKREF_COUNT, &cmd);

	return ret ? ret : (int)(cmd.out_count & INT32_MAX);
}

OBJHEAP_API int objheap_getweakrefs(struct objheap *heap, uint64_t target,
				    uint64_t *handles, uint32_t count,
				    uint32_t *countp)
{
	struct objheap_weakref_list cmd = {
		.size = sizeof(cmd),
		.handle = target,
		.count = count,
		.buf_uptr = (uintptr_t)handles,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_WEAKREF_LIST, &cmd);

	if (!ret || ret == -EMSGSIZE)
		*countp = cmd.out_count;
	return ret;
}

OBJHEAP_API int objheap_finalize_new(struct objheap *heap, uint64_t target,
				     uint64_t cookie, uint64_t *finp)
{
	return objheap_weakref_new(heap, target, cookie,
				   OBJHEAP_WEAKREF_FINALIZER, finp);
}

OBJHEAP_API int objheap_finalize_detach(struct objheap *heap, uint64_t fin,
					uint64_t *targetp)
{
	struct objheap_weakref cmd = { .handle = fin };
	int ret = weakref_cmd(heap, OBJHEAP_FINALIZE_DETACH, &cmd);

	if (ret)
		return ret;
	if (targetp)
		*targetp = cmd.out_handle;
	else if (cmd.out_handle)
		objheap_release(heap, cmd.out_handle);
	return cmd.out_alive;
}

OBJHEAP_API int objheap_finalize_alive(struct objheap *heap, uint64_t fin)
{
	struct objheap_weakref cmd = { .handle = fin };
	int ret = weakref_cmd(heap, OBJHEAP_FINALIZE_ALIVE, &cmd);

	return ret ? ret : (int)cmd.out_alive;
}

OBJHEAP_API int objheap_event_ctl(struct objheap *heap, uint32_t flags,
				  uint32_t mask, struct objheap_event_ctl *out)
{
	struct objheap_event_ctl cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.mask = mask,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_EVENT_CTL, &cmd);

	if (!ret && out)
		*out = cmd;
	return ret;
}

OBJHEAP_API int objheap_on_death(struct objheap *heap, objheap_event_fn fn,
				 void *arg)
{
	heap->on_death.fn = fn;
	heap->on_death.arg = arg;
	return 0;
}

OBJHEAP_API int objheap_on_finalize(struct objheap *heap, objheap_event_fn fn,
				    void *arg)
{
	heap->on_finalize.fn = fn;
	heap->on_finalize.arg = arg;
	return 0;
}

OBJHEAP_API int objheap_on_gc(struct objheap *heap, objheap_event_fn fn,
			      void *arg)
{
	struct objheap_event_ctl ctl;
	int ret;

	ret = objheap_event_ctl(heap, 0, 0, &ctl);
	if (ret)
		return ret;
	ctl.out_mask &= ~OBJHEAP_EVENTS_GC;
	if (fn)
		ctl.out_mask |= OBJHEAP_EVENTS_GC;
	ret = objheap_event_ctl(heap, OBJHEAP_EVENT_CTL_SET_MASK, ctl.out_mask,
				NULL);
	if (ret)
		return ret;
	heap->on_gc.fn = fn;
	heap->on_gc.arg = arg;
	return 0;
}

OBJHEAP_API int objheap_on_lost(struct objheap *heap, objheap_lost_fn fn,
				void *arg)
{
	heap->on_lost = fn;
	heap->on_lost_arg = arg;
	return 0;
}

static void dispatch_one(struct objheap *heap, const struct objheap_event *ev)
{
	const struct objheap_handler *h = NULL;

	if (ev->lost && heap->on_lost)
		heap->on_lost(heap, ev->lost, heap->on_lost_arg);
	switch (ev->type) {
	case OBJHEAP_EVENT_WEAKREF:
	case OBJHEAP_EVENT_FINALIZER:
		h = &heap->on_death;
		break;
	case OBJHEAP_EVENT_FINALIZE:
		h = &heap->on_finalize;
		/* Nobody to own the reference: give it back. */
		if (!h->fn) {
			objheap_release(heap, ev->handle);
			return;
		}
		break;
	case OBJHEAP_EVENT_GC_START:
	case OBJHEAP_EVENT_GC_STOP:
		h = &heap->on_gc;
		break;
	case OBJHEAP_EVENT_RECEIVED:
		h = &heap->on_received;
		/* Nobody to own the reference: give it back. */
		if (!h->fn) {
			objheap_release(heap, ev->handle);
			return;
		}
		break;
	case OBJHEAP_EVENT_DETACHED:
		h = &heap->on_detached;
		break;
	}
	if (h && h->fn)
		h->fn(heap, ev, h->arg);
}

OBJHEAP_API int objheap_dispatch(struct objheap *heap, unsigned int max)
{
	struct objheap_event recs[DISPATCH_BATCH];
	unsigned int done = 0, want, n, i;
	ssize_t len;

	for (;;) {
		want = DISPATCH_BATCH;
		if (max && max - done < want)
			want = max - done;
		if (!want)
			break;
		len = read(heap->fd, recs, want * sizeof(recs[0]));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return done ? (int)done : -errno;
		}
		n = len / sizeof(recs[0]);
		for (i = 0; i < n; i++)
			dispatch_one(heap, &recs[i]);
		done += n;
		if (n < want)
			break;
	}
	return done > INT32_MAX ? INT32_MAX : (int)done;
}
