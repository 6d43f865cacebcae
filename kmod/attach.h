/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's attachments: the processes sharing a heap, each with its own
 * handles, references and event queue.
 */
#ifndef __OBJHEAP_ATTACH_H
#define __OBJHEAP_ATTACH_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/nospec.h>
#include <linux/rbtree.h>
#include <linux/rhashtable-types.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <asm/page.h>

#include "event.h"
#include "parray.h"

struct objheap;
struct objheap_ucmd;
struct oh_object;
struct pid;

/**
 * struct oh_entry - One entry of an attachment's table of handles.
 * @obj: The object, or NULL while the entry is free.
 * @gen: The generation: bumped each time the entry is freed, so that old
 *       handles to it never match again.
 * @refs: In use: the references the attachment holds through the handle.
 *        Free: the next free entry, or OH_NO_INDEX.
 */
struct oh_entry {
	struct oh_object *obj;
	u32 gen;
	u32 refs;
};

/* A table's entries are a paged array (see parray.h): they never move. */
#define OH_LEAF_SHIFT	(PAGE_SHIFT - 4)
#define OH_LEAF_SIZE	BIT(OH_LEAF_SHIFT)

/**
 * struct oh_table - An attachment's table: handle to object.
 * @pages: The entries, OH_LEAF_SIZE to a page.
 * @capacity: Entries allocated: a multiple of OH_LEAF_SIZE.
 * @inited: Entries initialized, the first ones: each is in use, free, or
 *          retired.  Those from @inited to @capacity have never been
 *          written, and are set up a few at a time as the free list runs
 *          out, so that no command initializes a whole page of them.
 * @free_head: The first free entry, or OH_NO_INDEX.
 * @nr_used: Entries in use.
 */
struct oh_table {
	struct oh_parray pages;
	u32 capacity;
	u32 inited;
	u32 free_head;
	u32 nr_used;
};

/* Entry @index of @t, below its capacity. */
static inline struct oh_entry *oh_table_entry(const struct oh_table *t,
					      u32 index)
{
	struct oh_entry *leaf = oh_parray_leaf(&t->pages,
					       index >> OH_LEAF_SHIFT);

	return &leaf[index & (OH_LEAF_SIZE - 1)];
}

/**
 * struct oh_attach - One attachment of a heap: one file.
 * @heap: The heap.
 * @table: Its handles.
 * @events: Its event queue.
 * @pid: The process that made it.
 * @id: Its number, unique in the heap for the heap's life.
 * @home: Its number among the heap's attachments of the moment, 1 to
 *        OBJHEAP_ATTACH_MAX, reused after it goes: what the objects it is
 *        the home of record in their @home.
 * @flags: OBJHEAP_ATTACH_* flags.
 * @gen_key: XORed into the generation of its handles; bit 31 clear.
 * @index_key: XORed into the index of its handles.
 * @charged: Its own memory is charged to the heap (not the opener's).
 * @announced: Userspace got its file: its going will be told.
 * @closing: Its file is gone: it takes no new handle and no event.
 * @refs: References it holds through handles.
 * @created: Objects it created.
 * @map_offsets: Its offsets for mmap(): id to struct oh_map_offset
 *               (kmod/payload.c).
 * @batch_mem: Memory its batches reuse, or NULL (kmod/batch.c).
 * @batch_mem_size: The size of @batch_mem.
 */
struct oh_attach {
	struct objheap *heap;
	struct oh_table table;
	struct oh_events events;
	struct pid *pid;
	u32 id;
	u16 home;
	u32 flags;
	u32 gen_key;
	u32 index_key;
	bool charged;
	bool announced;
	bool closing;
	u64 refs;
	u64 created;
	struct xarray map_offsets;
	void *batch_mem;
	size_t batch_mem_size;
};

/**
 * struct oh_names - The heap's published names.
 * @root: struct oh_name nodes, ordered by length, then bytes.
 * @count: Names published.
 */
struct oh_names {
	struct rb_root root;
	u32 count;
};

static inline bool oh_attach_readonly(const struct oh_attach *att)
{
	return att->flags & OBJHEAP_ATTACH_READONLY;
}

/* The handle of entry @e, at @index, of @att (see oh_entry_handle()). */
static inline u64 __oh_entry_handle(const struct oh_attach *att,
				    const struct oh_entry *e, u32 index)
{
	return (u64)(e->gen ^ att->gen_key) << 32 | (index ^ att->index_key);
}

struct oh_attach *oh_attach_new(struct objheap *heap, u32 flags, bool charge);
void oh_attach_release(struct oh_attach *att);
void oh_attach_destroy(struct oh_attach *att);
void oh_holders_destroy(struct objheap *heap);

u32 oh_entry_find(struct oh_attach *att, const struct oh_object *obj);
int oh_entry_get(struct oh_attach *att, struct oh_object *obj, u32 *indexp);
void oh_entry_forget(struct oh_attach *att, struct oh_object *obj, u32 index);
int __oh_table_reserve(struct oh_attach *att);

/**
 * oh_table_reserve() - Make sure @att has a free entry.
 * @att: The attachment.
 *
 * Afterwards @att->table.free_head names the entry oh_table_take() will
 * give.
 *
 * Return: 0, or -ENOMEM with the table as it was.
 */
static inline int oh_table_reserve(struct oh_attach *att)
{
	if (att->table.free_head != OH_NO_INDEX)
		return 0;
	return __oh_table_reserve(att);
}

/**
 * __oh_table_take() - Give the first free entry, already looked up, to @obj.
 * @att: The attachment, with an entry reserved.
 * @e: The entry @att->table.free_head names.
 * @obj: The object; the caller records the entry in it.
 * @refs: The references the entry owns; the caller counts them in @att.
 */
static __always_inline void __oh_table_take(struct oh_attach *att,
					    struct oh_entry *e,
					    struct oh_object *obj, u32 refs)
{
	struct oh_table *t = &att->table;

	t->free_head = e->refs;
	e->obj = obj;
	e->refs = refs;
	t->nr_used++;
}

/**
 * oh_table_take() - Give the first free entry to @obj.
 * @att: The attachment, with an entry reserved.
 * @obj: The object; the caller records the entry in it.
 * @refs: The references the entry owns; the caller counts them in @att.
 *
 * Return: The entry's index, whose handle oh_entry_handle() gives.
 */
static inline u32 oh_table_take(struct oh_attach *att, struct oh_object *obj,
				u32 refs)
{
	u32 index = att->table.free_head;

	__oh_table_take(att, oh_table_entry(&att->table, index), obj, refs);
	return index;
}

/* Generations run from 1 to OH_GEN_MAX: bit 63 of a handle stays clear. */
#define OH_GEN_MAX (U32_MAX >> 1)

/*
 * The generation after @gen in @att's table.  One generation, @gen_key,
 * is skipped: its handles would have no generation bits (see
 * oh_entry_handle()), and a handle is never 0.
 */
static inline u32 oh_gen_next(const struct oh_attach *att, u32 gen)
{
	if (++gen == att->gen_key)
		gen++;
	return gen;
}

/**
 * __oh_table_put() - Free an entry of @att.
 * @att: The attachment.
 * @e: The entry, in use.
 * @index: Its index.
 *
 * The references the entry owned leave @att's count; an entry whose
 * generation is spent is retired rather than freed.  Inline: every death
 * with a handle frees an entry.
 */
static __always_inline void __oh_table_put(struct oh_attach *att,
					   struct oh_entry *e, u32 index)
{
	struct oh_table *t = &att->table;
	u32 gen = oh_gen_next(att, e->gen);

	att->refs -= e->refs;
	e->obj = NULL;
	e->refs = OH_NO_INDEX;
	t->nr_used--;
	if (gen <= OH_GEN_MAX) {
		e->gen = gen;
		e->refs = t->free_head;
		t->free_head = index;
	}
}

/* __oh_table_put() of entry @index. */
static __always_inline void oh_table_put(struct oh_attach *att, u32 index)
{
	__oh_table_put(att, oh_table_entry(&att->table, index), index);
}

/**
 * oh_entry_handle() - The handle of an entry in use.
 * @att: The attachment.
 * @index: The entry.
 *
 * The generation and the index are each masked with the attachment's own
 * random keys, so a handle's value tells nothing of other attachments,
 * and a handle of one attachment names nothing in another but by a
 * chance of about 2^-31 times the share of the 2^32 indices in use there.
 * The generation's key has bit 31 clear, so bit 63 of a handle stays
 * clear.
 *
 * Return: The handle; it owns no reference by itself.
 */
static inline u64 oh_entry_handle(const struct oh_attach *att, u32 index)
{
	return __oh_entry_handle(att, oh_table_entry(&att->table, index),
				 index);
}

/**
 * oh_table_lookup() - The object a handle of @att names.
 * @att: The attachment.
 * @handle: The handle, from userspace.
 * @indexp: Where to put the handle's entry, or NULL.
 *
 * Inline: every command that names an object asks it, most of them once.
 *
 * Return: The object, or NULL when the handle names none.
 */
static inline struct oh_object *oh_table_lookup(struct oh_attach *att,
						u64 handle, u32 *indexp)
{
	struct oh_table *t = &att->table;
	u32 index = lower_32_bits(handle) ^ att->index_key;
	struct oh_entry *e;

	if (index >= t->inited)
		return NULL;
	index = array_index_nospec(index, t->inited);
	e = oh_table_entry(t, index);
	if (e->gen != (upper_32_bits(handle) ^ att->gen_key))
		return NULL;
	if (indexp)
		*indexp = index;
	return e->obj;
}

void oh_holders_del(struct oh_attach *att, struct oh_object *obj);
void oh_holders_forget(struct objheap *heap, struct oh_object *obj);

void oh_names_destroy(struct objheap *heap);

int objheap_cmd_attach(struct objheap_ucmd *ucmd);
int objheap_cmd_attach_info(struct objheap_ucmd *ucmd);
int objheap_cmd_send(struct objheap_ucmd *ucmd);
int objheap_cmd_publish(struct objheap_ucmd *ucmd);
int objheap_cmd_lookup(struct objheap_ucmd *ucmd);
int objheap_cmd_unpublish(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_ATTACH_H */
