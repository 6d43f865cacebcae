// SPDX-License-Identifier: GPL-2.0
/*
 * objheap's paged arrays and linear hash tables (see parray.h): the
 * handle tables of the attachments, and the intern and weak tables.
 *
 * Every page and node is charged to the heap through oh_array_alloc(),
 * so the heap's limit bounds them and fail-nth reaches each of them.
 */

#include <linux/log2.h>
#include <linux/math.h>
#include <linux/printk.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "alloc.h"
#include "parray.h"

/* The room of mid node @ti: its leaves, rounded up to a power of two. */
static u32 oh_parray_mid_room(const struct oh_parray *p, u32 ti)
{
	u32 n = min_t(u32, p->nleaves - (ti << OH_MID_SHIFT), OH_MID_SIZE);

	return roundup_pow_of_two(n);
}

/**
 * oh_parray_grow() - Add a leaf to a paged array.
 * @a: The heap's allocator, charged for the leaf and its nodes.
 * @p: The array.
 *
 * The new leaf, oh_parray_leaf(@p, @p->nleaves - 1), is not initialized.
 * Besides the leaf, this may allocate a mid node (copying the last one,
 * of at most a page of pointers) or a larger top (copying at most 8192
 * pointers): no step copies more however large @p is.
 *
 * Context: The heap's lock is held, or the heap is not visible.
 * Return: 0, or -ENOMEM with @p as it was.
 */
int oh_parray_grow(struct oh_alloc *a, struct oh_parray *p)
{
	u32 old = p->nleaves, ntop = p->ntop, room = 0;
	u32 ti = old >> OH_MID_SHIFT, mi = old & (OH_MID_SIZE - 1);
	void ***top = p->top, **mid = NULL, *leaf;

	if (old >= OH_PARRAY_MAX)
		return -ENOMEM;
	if (ti == ntop) {
		ntop = ntop ? ntop * 2 : 1;
		top = oh_array_alloc(a, ntop, sizeof(*top));
		if (!top)
			return -ENOMEM;
	}
	/* The last mid node is full at a power of two below a page. */
	if (!mi || is_power_of_2(mi)) {
		room = mi ? mi * 2 : 1;
		mid = oh_array_alloc(a, room, sizeof(*mid));
		if (!mid)
			goto fail;
	}
	leaf = oh_array_alloc(a, 1, PAGE_SIZE);
	if (!leaf)
		goto fail;

	if (top != p->top) {
		if (p->ntop)
			memcpy(top, p->top, p->ntop * sizeof(*top));
		oh_array_free(a, p->top, p->ntop, sizeof(*top));
		p->top = top;
		p->ntop = ntop;
	}
	if (mid) {
		if (mi) {
			memcpy(mid, top[ti], mi * sizeof(*mid));
			oh_array_free(a, top[ti], mi, sizeof(*mid));
		}
		top[ti] = mid;
	}
	top[ti][mi] = leaf;
	p->nleaves = old + 1;
	return 0;

fail:
	if (mid)
		oh_array_free(a, mid, room, sizeof(*mid));
	if (top != p->top)
		oh_array_free(a, top, ntop, sizeof(*top));
	return -ENOMEM;
}

/**
 * oh_parray_free() - Free every leaf and node of a paged array.
 * @a: The heap's allocator.
 * @p: The array, left empty.
 *
 * Context: Process context; the heap's lock may be held.
 */
void oh_parray_free(struct oh_alloc *a, struct oh_parray *p)
{
	u32 leaf, ti;

	for (leaf = 0; leaf < p->nleaves; leaf++) {
		oh_array_free(a, oh_parray_leaf(p, leaf), 1, PAGE_SIZE);
		if ((leaf & (OH_MID_SIZE - 1)) == OH_MID_SIZE - 1)
			cond_resched();
	}
	for (ti = 0; (ti << OH_MID_SHIFT) < p->nleaves; ti++)
		oh_array_free(a, p->top[ti], oh_parray_mid_room(p, ti),
			      sizeof(void *));
	oh_array_free(a, p->top, p->ntop, sizeof(*p->top));
	p->top = NULL;
	p->ntop = 0;
	p->nleaves = 0;
}

/* Make the chains of the last leaf of @lh empty. */
static void oh_lhash_init_leaf(struct oh_lhash *lh)
{
	union oh_lhash_head *leaf = oh_parray_leaf(&lh->pages,
						   lh->pages.nleaves - 1);
	u32 i;

	for (i = 0; i < OH_LHASH_LEAF_SIZE; i++)
		INIT_HLIST_HEAD(&leaf[i].hlist);
}

/**
 * oh_lhash_init() - Give a hash table its first page of chains.
 * @a: The heap's allocator, charged for them.
 * @lh: The table: a zeroed one, or one that has its chains already.
 *
 * Return: 0, or -ENOMEM with @lh still without chains.
 */
int oh_lhash_init(struct oh_alloc *a, struct oh_lhash *lh)
{
	if (lh->nchains)
		return 0;
	if (oh_parray_grow(a, &lh->pages))
		return -ENOMEM;
	lh->nchains = OH_LHASH_LEAF_SIZE;
	oh_lhash_init_leaf(lh);
	return 0;
}

/**
 * oh_lhash_grow() - Make room for one more chain, empty.
 * @a: The heap's allocator.
 * @lh: The table, which has chains.
 *
 * Chain @lh->nchains exists afterwards, empty, but is not counted: the
 * caller moves into it what belongs there (chain @lh->nchains - 2^L's
 * entries with bit L set), then counts it.  oh_lhash_split() does that
 * for hlist chains.  A page added here is not initialized beyond that
 * chain: each later chain is made empty when it is added, so that the
 * command adding a page does not empty OH_LHASH_LEAF_SIZE of them.
 *
 * Return: 0; -ENOMEM when a page of chains cannot be had, -ENOSPC at
 * OH_LHASH_MAX chains.
 */
int oh_lhash_grow(struct oh_alloc *a, struct oh_lhash *lh)
{
	u32 n = lh->nchains;

	if (n >= OH_LHASH_MAX)
		return -ENOSPC;
	if ((n >> OH_LHASH_LEAF_SHIFT) >= lh->pages.nleaves &&
	    oh_parray_grow(a, &lh->pages))
		return -ENOMEM;
	*oh_lhash_first(lh, n) = NULL;
	return 0;
}

/**
 * oh_lhash_split() - Add a chain to a hash table.
 * @a: The heap's allocator.
 * @lh: The table, which has chains.
 * @hash: The hash of an entry, given its node.
 *
 * Moves the entries of one chain whose new chain is the added one.  The
 * caller adds a chain for each entry it adds past one per chain, so that
 * chains stay about one entry long.  Failing to allocate a new page of
 * chains, or having OH_LHASH_MAX already, leaves @lh as it was: its
 * chains are only longer.
 */
void oh_lhash_split(struct oh_alloc *a, struct oh_lhash *lh,
		    u32 (*hash)(const struct hlist_node *node))
{
	u32 n = lh->nchains, low = 1U << __fls(n);
	struct hlist_node *node, *tmp;
	struct hlist_head *from, *to;

	if (oh_lhash_grow(a, lh))
		return;
	from = oh_lhash_at(lh, n - low);
	to = oh_lhash_at(lh, n);
	hlist_for_each_safe(node, tmp, from) {
		if (hash(node) & low) {
			hlist_del(node);
			hlist_add_head(node, to);
		}
	}
	lh->nchains = n + 1;
}

/**
 * oh_lhash_destroy() - Free a hash table's chains, which must be empty.
 * @a: The heap's allocator.
 * @lh: The table, left without chains.
 */
void oh_lhash_destroy(struct oh_alloc *a, struct oh_lhash *lh)
{
	oh_parray_free(a, &lh->pages);
	lh->nchains = 0;
}

#ifdef CONFIG_OBJHEAP_TEST
/**
 * oh_lhash_check() - Check a hash table's shape and chains (test builds).
 * @lh: The table.
 * @hash: The hash of an entry, given its node.
 * @count: The entries it should hold.
 *
 * Return: 0, or -EUCLEAN if an entry is in another chain than its hash's,
 * the entries are not @count, or the chains and pages disagree.
 */
int oh_lhash_check(const struct oh_lhash *lh,
		   u32 (*hash)(const struct hlist_node *node), u64 count)
{
	struct hlist_node *node;
	u64 n = 0;
	u32 i;

	if (lh->nchains &&
	    (lh->nchains < OH_LHASH_LEAF_SIZE || lh->nchains > OH_LHASH_MAX ||
	     lh->pages.nleaves != DIV_ROUND_UP(lh->nchains,
					       OH_LHASH_LEAF_SIZE))) {
		pr_err("objheap: %u chains on %u pages\n", lh->nchains,
		       lh->pages.nleaves);
		return -EUCLEAN;
	}
	for (i = 0; i < lh->nchains; i++) {
		hlist_for_each(node, oh_lhash_at(lh, i)) {
			if (oh_lhash_chain(lh, hash(node)) != oh_lhash_at(lh, i)) {
				pr_err("objheap: hash %#x in chain %u of %u\n",
				       hash(node), i, lh->nchains);
				return -EUCLEAN;
			}
			n++;
		}
		if (!(i & (OH_LHASH_LEAF_SIZE - 1)))
			cond_resched();
	}
	if (n != count) {
		pr_err("objheap: %llu entries in the chains, counted %llu\n",
		       n, count);
		return -EUCLEAN;
	}
	return 0;
}
#endif
