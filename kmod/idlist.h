/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Circular doubly linked lists through 32-bit block ids (alloc.h): the
 * collector's lists of objects, at half the bytes of a struct list_head
 * in every object.
 *
 * A node is a struct oh_link at the address an id names: an object's
 * @gc_link, at the start of its header, or a list's head, one of the
 * collector's heads (struct oh_gc's @heads), which are blocks of the heap
 * too.  Every operation names nodes by id and finds them through the
 * heap's allocator, so it takes that; an operation on a node the caller
 * holds a pointer to takes the pointer as well, to spare a lookup.
 * Otherwise these are the operations of <linux/list.h>, with the same
 * names and meanings.
 */
#ifndef __OBJHEAP_IDLIST_H
#define __OBJHEAP_IDLIST_H

#include <linux/types.h>

#include "alloc.h"

/**
 * struct oh_link - A node of an id list.
 * @next: The next node's id.
 * @prev: The previous node's id.
 */
struct oh_link {
	u32 next;
	u32 prev;
};

static __always_inline struct oh_link *oh_link_at(const struct oh_alloc *a,
						  u32 id)
{
	return oh_alloc_ptr(a, id);
}

static inline void oh_idlist_init(const struct oh_alloc *a, u32 head)
{
	struct oh_link *h = oh_link_at(a, head);

	h->next = head;
	h->prev = head;
}

static inline bool oh_idlist_empty(const struct oh_alloc *a, u32 head)
{
	return oh_link_at(a, head)->next == head;
}

static inline u32 oh_idlist_first(const struct oh_alloc *a, u32 head)
{
	return oh_link_at(a, head)->next;
}

/* The head is looked up once: an id's lookup is about 18 instructions. */
static inline void oh_idlist_add(const struct oh_alloc *a, u32 id,
				 struct oh_link *l, u32 head)
{
	struct oh_link *h = oh_link_at(a, head);
	u32 next = h->next;

	l->next = next;
	l->prev = head;
	oh_link_at(a, next)->prev = id;
	h->next = id;
}

/* oh_idlist_add_tail() with the head's node @h already known. */
static inline void __oh_idlist_add_tail(const struct oh_alloc *a, u32 id,
					struct oh_link *l, u32 head,
					struct oh_link *h)
{
	u32 prev = h->prev;

	l->next = head;
	l->prev = prev;
	oh_link_at(a, prev)->next = id;
	h->prev = id;
}

static inline void oh_idlist_add_tail(const struct oh_alloc *a, u32 id,
				      struct oh_link *l, u32 head)
{
	__oh_idlist_add_tail(a, id, l, head, oh_link_at(a, head));
}

/* Unlink @l; its ids become 0, which names no node. */
static inline void oh_idlist_del(const struct oh_alloc *a, struct oh_link *l)
{
	oh_link_at(a, l->prev)->next = l->next;
	oh_link_at(a, l->next)->prev = l->prev;
	l->next = 0;
	l->prev = 0;
}

static inline void oh_idlist_move_tail(const struct oh_alloc *a, u32 id,
				       struct oh_link *l, u32 head)
{
	oh_idlist_del(a, l);
	oh_idlist_add_tail(a, id, l, head);
}

/* Move every node of @from before @at (to the tail of the list @at heads). */
static inline void oh_idlist_splice_tail_init(const struct oh_alloc *a,
					      u32 from, u32 at)
{
	struct oh_link *f = oh_link_at(a, from), *t;
	u32 first = f->next, last = f->prev;

	if (first == from)
		return;
	t = oh_link_at(a, at);
	oh_link_at(a, t->prev)->next = first;
	oh_link_at(a, first)->prev = t->prev;
	oh_link_at(a, last)->next = at;
	t->prev = last;
	f->next = from;
	f->prev = from;
}

/* Move every node of @from after @at (to the head of the list @at heads). */
static inline void oh_idlist_splice_init(const struct oh_alloc *a, u32 from,
					 u32 at)
{
	struct oh_link *f = oh_link_at(a, from), *t;
	u32 first = f->next, last = f->prev;

	if (first == from)
		return;
	t = oh_link_at(a, at);
	oh_link_at(a, t->next)->prev = last;
	oh_link_at(a, last)->next = t->next;
	oh_link_at(a, first)->prev = at;
	t->next = first;
	f->next = from;
	f->prev = from;
}

#endif /* __OBJHEAP_IDLIST_H */
