/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's paged arrays and the hash tables built on them: tables that
 * grow a page at a time and whose elements never move, so that no command
 * copies or rehashes a whole table.
 */
#ifndef __OBJHEAP_PARRAY_H
#define __OBJHEAP_PARRAY_H

#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/types.h>
#include <asm/page.h>

struct oh_alloc;

/*
 * A paged array is a radix of two levels over its leaves, the pages that
 * hold the elements: a top array of pointers to mid nodes, each of which
 * points to up to OH_MID_SIZE leaves.  The top doubles (8192 pointers at
 * most, for 2^22 leaves), and so does a mid node while it is the last one
 * and not full, from one pointer to a page of them: a small table costs
 * its leaf and two words, and adding a leaf copies at most a page.
 */
#define OH_MID_SHIFT	(PAGE_SHIFT - 3)
#define OH_MID_SIZE	BIT(OH_MID_SHIFT)
#define OH_PARRAY_MAX	BIT(22)

/* No element: the end of a free list, an entry not found. */
#define OH_NO_INDEX	U32_MAX

/**
 * struct oh_parray - A paged array.
 * @top: @ntop pointers to mid nodes, those that cover @nleaves allocated.
 * @ntop: Room in @top: 0 or a power of two.
 * @nleaves: Leaves allocated, of PAGE_SIZE bytes each.
 */
struct oh_parray {
	void ***top;
	u32 ntop;
	u32 nleaves;
};

/* Leaf @leaf of @p, below @p->nleaves. */
static inline void *oh_parray_leaf(const struct oh_parray *p, u32 leaf)
{
	return p->top[leaf >> OH_MID_SHIFT][leaf & (OH_MID_SIZE - 1)];
}

int oh_parray_grow(struct oh_alloc *a, struct oh_parray *p);
void oh_parray_free(struct oh_alloc *a, struct oh_parray *p);

/*
 * A linear hash table (Litwin's): hash chains in a paged array, a page of
 * chains to start with, then one chain more at a time, made by splitting
 * the one chain whose entries it shares the low bits with.  With 2^L <= n
 * < 2^(L + 1) chains, a hash's chain is its low L + 1 bits, less 2^L if
 * that chain does not exist yet; adding chain n moves to it the entries of
 * chain n - 2^L whose bit L is set.  Each step moves one chain's entries,
 * so the table never rehashes as a whole.
 */
#define OH_LHASH_LEAF_SHIFT	(PAGE_SHIFT - 3)
#define OH_LHASH_LEAF_SIZE	BIT(OH_LHASH_LEAF_SHIFT)
#define OH_LHASH_MAX		BIT(24)

/*
 * A chain's head: an hlist, or, for a user whose entries have room for one
 * pointer only (the intern table's objects), the first entry of a singly
 * linked chain that user keeps itself (oh_lhash_first(), oh_lhash_grow()).
 * Either is NULL when the chain is empty.
 */
union oh_lhash_head {
	struct hlist_head hlist;
	void *first;
};

/**
 * struct oh_lhash - A linear hash table of hlist chains.
 * @pages: The chains, OH_LHASH_LEAF_SIZE to a page.
 * @nchains: Chains in use: 0 before the first page, then from
 *           OH_LHASH_LEAF_SIZE to OH_LHASH_MAX.
 */
struct oh_lhash {
	struct oh_parray pages;
	u32 nchains;
};

/* Chain @i of @lh: below @lh->nchains, or the one oh_lhash_grow() adds. */
static inline struct hlist_head *oh_lhash_at(const struct oh_lhash *lh, u32 i)
{
	union oh_lhash_head *leaf = oh_parray_leaf(&lh->pages,
						   i >> OH_LHASH_LEAF_SHIFT);

	return &leaf[i & (OH_LHASH_LEAF_SIZE - 1)].hlist;
}

/*
 * The first entry of singly linked chain @i of @lh: below @lh->nchains,
 * or the one oh_lhash_grow() adds.
 */
static inline void **oh_lhash_first(const struct oh_lhash *lh, u32 i)
{
	union oh_lhash_head *leaf = oh_parray_leaf(&lh->pages,
						   i >> OH_LHASH_LEAF_SHIFT);

	return &leaf[i & (OH_LHASH_LEAF_SIZE - 1)].first;
}

/* The index of the chain of @hash in @lh, which has chains. */
static inline u32 oh_lhash_index(const struct oh_lhash *lh, u32 hash)
{
	u32 low = 1U << __fls(lh->nchains);
	u32 i = hash & (2 * low - 1);

	return i < lh->nchains ? i : i - low;
}

/* The chain of @hash in @lh, which has chains. */
static inline struct hlist_head *oh_lhash_chain(const struct oh_lhash *lh,
						u32 hash)
{
	return oh_lhash_at(lh, oh_lhash_index(lh, hash));
}

int oh_lhash_init(struct oh_alloc *a, struct oh_lhash *lh);
int oh_lhash_grow(struct oh_alloc *a, struct oh_lhash *lh);
void oh_lhash_split(struct oh_alloc *a, struct oh_lhash *lh,
		    u32 (*hash)(const struct hlist_node *node));
void oh_lhash_destroy(struct oh_alloc *a, struct oh_lhash *lh);
int oh_lhash_check(const struct oh_lhash *lh,
		   u32 (*hash)(const struct hlist_node *node), u64 count);

#endif /* __OBJHEAP_PARRAY_H */
