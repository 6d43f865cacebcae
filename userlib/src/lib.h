/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* libobjheap internals. */
#ifndef LIBOBJHEAP_LIB_H
#define LIBOBJHEAP_LIB_H

/* The library is built with -fvisibility=hidden; this marks its API. */
#define OBJHEAP_API __attribute__((visibility("default")))

#include <stdint.h>
#include "libobjheap.h"

/* The callbacks objheap_dispatch() calls. */
struct objheap_handler {
	objheap_event_fn fn;
	void *arg;
};

/*
 * An attachment of a heap.  @on_death: OBJHEAP_EVENT_WEAKREF and
 * _FINALIZER.  @on_finalize: OBJHEAP_EVENT_FINALIZE.  @on_gc: _GC_START
 * and _GC_STOP.  @on_received: _RECEIVED.  @on_detached: _DETACHED.
 */
struct objheap {
	int fd;
	struct objheap_handler on_death;
	struct objheap_handler on_finalize;
	struct objheap_handler on_gc;
	struct objheap_handler on_received;
	struct objheap_handler on_detached;
	objheap_lost_fn on_lost;
	void *on_lost_arg;
};

/* ioctl(2) on the heap's file, returning 0 or -errno. */
int __objheap_ioctl(struct objheap *heap, unsigned long request, void *arg);

#endif /* LIBOBJHEAP_LIB_H */
