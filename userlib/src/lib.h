/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* libobjheap internals. */
#ifndef LIBOBJHEAP_LIB_H
#define LIBOBJHEAP_LIB_H

/* The library is built with -fvisibility=hidden; this marks its API. */
#define OBJHEAP_API __attribute__((visibility("default")))

struct objheap;

/* ioctl(2) on the heap's file, returning 0 or -errno. */
int __objheap_ioctl(struct objheap *heap, unsigned long request, void *arg);

#endif /* LIBOBJHEAP_LIB_H */
