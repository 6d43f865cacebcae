/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The heap's allocator: the only memory the object layer uses.
 *
 * The object layer sees this interface and nothing else: no pools, no
 * arenas.  Every function that takes a struct oh_alloc must be called with
 * the heap's lock held; the allocator has no lock of its own.  The design
 * is described at the top of alloc.c and in Documentation/allocator.rst.
 */
#ifndef __OBJHEAP_ALLOC_H
#define __OBJHEAP_ALLOC_H

#include <linux/gfp.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct oh_user;
struct seq_file;

/*
 * Block ids: 32-bit names of blocks, for structures that cannot afford a
 * pointer (the collector's lists, kmod/gc.h).  Bit 31 chooses one of two
 * maps; the bits below oh_id_shift are the block's offset in 16-byte
 * units from the start of its *region*; the bits between name the region:
 * a pool (map 0, numbered by arena: the arena's number times the pools
 * per arena, plus the pool's place in it) or a large block registered
 * with oh_alloc_large_id() (map 1).  Each map is a table of the regions'
 * addresses in pages of pointers, so an id is a pointer two loads away.
 * No block has id 0: a pool's blocks start past its header, and map 1's
 * ids have bit 31.
 */
#define OH_ID_LARGE		BIT(31)
#define OH_IDMAP_LEAF_SHIFT	(PAGE_SHIFT - 3)
#define OH_IDMAP_LEAF_SIZE	BIT(OH_IDMAP_LEAF_SHIFT)

/*
 * log2(pool_size / 16), and the bits of an id below it: set by
 * oh_alloc_setup(), then read-only.
 */
extern unsigned int oh_id_shift;
extern u32 oh_id_offset_mask;

/**
 * struct oh_idmap - Region number to region address, for block ids.
 * @leaves: @nleaves pointers to leaves, arrays of OH_IDMAP_LEAF_SIZE
 *          addresses (a page), but for the last, which has @last_cap;
 *          the first @nleaves_used are allocated, the rest NULL.  NULL
 *          when there is none.
 * @nleaves: Room in @leaves; doubles when a region beyond it is needed.
 * @nleaves_used: Leaves allocated.
 * @last_cap: Addresses the last of them has room for, a power of two.
 * @numbers: The numbers in use: arenas' numbers in map 0, large blocks'
 *           in map 1.
 */
struct oh_idmap {
	void ***leaves;
	u32 nleaves;
	u32 nleaves_used;
	u32 last_cap;
	struct ida numbers;
};

/*
 * Every allocation userspace drives: charged to the memory cgroup of the
 * task that made the heap grow, silent when it fails, and never a reason
 * to invoke the OOM killer, global or the cgroup's: running out is
 * ENOMEM for the caller, not a kill (Documentation/allocator.rst, "Memory
 * bounds").  Up to PAGE_ALLOC_COSTLY_ORDER (pool pages, structs) the page
 * allocator reclaims as hard as it can first (__GFP_RETRY_MAYFAIL); a
 * kvmalloc() above a page tries once, lightly (__GFP_NORETRY), since it
 * has a vmalloc() fallback and userspace chose its size.
 */
#define OH_GFP		(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)
#define OH_GFP_LARGE	(GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN)

/* Blocks are 16-byte aligned, and size classes are 16 bytes apart. */
#define OH_ALIGN		16
/* The largest request served from pools; larger ones go to kvmalloc(). */
#define OH_SMALL_MAX		512
/* 512 / 16: classes of 16, 32, ..., 512 bytes. */
#define OH_NR_CLASSES		(OH_SMALL_MAX / OH_ALIGN)

/**
 * struct oh_alloc - One heap's allocator.
 * @usedpools: Per size class, the pools of that class that have a free
 *             block: allocation takes the first one.  Full pools are on
 *             no list.
 * @used: Bytes in use: every live allocation counts its size rounded up
 *        to %OH_ALIGN (for a small one, exactly the block it occupies),
 *        plus the bytes charged with oh_charge().
 * @held: Bytes held, the figure the limit bounds: the pages of every pool
 *        ever used (free pools of an arena included), the arena structs,
 *        each large allocation as the slab or vmalloc() rounds it, the
 *        bytes charged with oh_charge(), and the heap's fixed structures.
 *        Also charged to @user.
 * @fixed: Of @held, the heap's fixed structures.
 * @limit: The most @held may reach (see oh_alloc_set_limit()).
 * @user: The user who opened the heap (kmod/user.c).
 * @heap_id: The heap's id, for the objheap_limit tracepoint.
 * @arenas: @nr_buckets lists: list n holds the arenas with n free pools.
 *          Walking them in order of n is CPython's ``usable_arenas``
 *          order.  The last list holds at most one entirely free arena,
 *          kept against thrashing.
 * @nonempty: Bitmap of the lists of @arenas that are not empty.
 * @large: The large allocations (struct oh_large), for stats and for
 *         oh_alloc_destroy().
 * @charged: Bytes charged with oh_charge() and not yet uncharged.
 * @large_count: Large allocations live.
 * @large_bytes: Their requested bytes.
 * @arenas_allocated: Arenas ever taken from the system.
 * @arenas_reclaimed: Arenas ever given back.
 * @arenas_highwater: The most arenas held at once.
 * @arenas_current: Arenas held now.
 * @pool_pages: Pools that have their page: those in use and the free ones
 *              that were used once.
 * @kept_arenas: Arenas in the last list of @arenas, entirely free.
 * @limit_refused: Set when the heap's limit or its user's bound refused
 *                 memory; cleared by whoever acts on it
 *                 (oh_gc_collect_for_limit()).
 * @ids: The two maps of block ids: pools, and large blocks that have one.
 * @ids_bytes: Of @held, what the maps' pages and arrays take.
 * @test_fail_nth: Test builds only: when non-zero, the raw allocation
 *                 that brings it to zero fails (see alloc_test.c).
 * @test_next_id: Test builds only: the next id for @test_blocks.
 * @test_blocks: Test builds only: blocks allocated through the test-only
 *               interface, freed with the heap.
 */
struct oh_alloc {
	struct list_head usedpools[OH_NR_CLASSES];
	u64 used;
	u64 held;
	u64 fixed;
	u64 limit;
	struct oh_user *user;
	u64 heap_id;
	struct list_head *arenas;
	unsigned long *nonempty;
	struct list_head large;
	u64 charged;
	u64 large_count;
	u64 large_bytes;
	u64 arenas_allocated;
	u64 arenas_reclaimed;
	u64 arenas_highwater;
	u64 arenas_current;
	u64 pool_pages;
	u32 kept_arenas;
	bool limit_refused;
	struct oh_idmap ids[2];
	u64 ids_bytes;
	unsigned int test_fail_nth;
	u32 test_next_id;
	struct xarray test_blocks;
};

/**
 * struct oh_class_stats - One size class, as in ``sys._debugmallocstats()``.
 * @block_size: The class's block size in bytes.
 * @pools: Pools serving the class.
 * @blocks_in_use: Blocks allocated.
 * @blocks_free: Blocks of those pools not allocated.
 */
struct oh_class_stats {
	u32 block_size;
	u32 pools;
	u64 blocks_in_use;
	u64 blocks_free;
};

/**
 * struct oh_alloc_stats - A heap's allocator statistics.
 * @limit: The heap's limit.
 * @limit_max: The module-wide maximum of any heap's limit.
 * @limit_default: A new heap's limit; above it only CAP_SYS_RESOURCE may
 *                 set one.
 * @bytes_in_use: struct oh_alloc.used.
 * @bytes_held: What the limit counts (struct oh_alloc.held).
 * @bytes_pools_held: Of which the pages of pools.
 * @user_held: What the heaps of the heap's user hold together.
 * @user_limit: The bound on @user_held, U64_MAX when there is none.
 * @bytes_charged: Of which charged with oh_charge().
 * @arena_size: Bytes per arena.
 * @pool_size: Bytes per pool.
 * @arenas_allocated: Arenas ever allocated.
 * @arenas_reclaimed: Arenas ever returned to the system.
 * @arenas_highwater: The most arenas held at once.
 * @arenas_current: Arenas held now.
 * @bytes_allocated_blocks: Bytes in allocated blocks.
 * @bytes_free_blocks: Bytes in free blocks of used pools.
 * @bytes_unused_pools: Bytes in pools that serve no class, whether or not
 *                      they have their page yet.
 * @bytes_pool_headers: Bytes taken by the headers of used pools.
 * @bytes_quantization: Bytes at the end of used pools too small for a
 *                      block.
 * @large_objects: Live allocations above %OH_SMALL_MAX.
 * @large_bytes: Their requested bytes.
 * @classes: Per size class.
 *
 * The five byte counts of pools add up to @arenas_current * @arena_size.
 */
struct oh_alloc_stats {
	u64 limit;
	u64 limit_max;
	u64 limit_default;
	u64 bytes_in_use;
	u64 bytes_held;
	u64 bytes_pools_held;
	u64 user_held;
	u64 user_limit;
	u64 bytes_charged;
	u32 arena_size;
	u32 pool_size;
	u64 arenas_allocated;
	u64 arenas_reclaimed;
	u64 arenas_highwater;
	u64 arenas_current;
	u64 bytes_allocated_blocks;
	u64 bytes_free_blocks;
	u64 bytes_unused_pools;
	u64 bytes_pool_headers;
	u64 bytes_quantization;
	u64 large_objects;
	u64 large_bytes;
	struct oh_class_stats classes[OH_NR_CLASSES];
};

/**
 * oh_alloc_ptr() - The block an id names.
 * @a: The heap's allocator.
 * @id: An id from oh_alloc_small_id() or oh_alloc_large_id(), of a block
 *      still allocated.
 *
 * Return: The address the id was made from.
 */
static __always_inline void *oh_alloc_ptr(const struct oh_alloc *a, u32 id)
{
	const struct oh_idmap *m = &a->ids[id >> 31];
	u32 region = (id & ~OH_ID_LARGE) >> oh_id_shift;
	void **leaf = m->leaves[region >> OH_IDMAP_LEAF_SHIFT];

	return (u8 *)leaf[region & (OH_IDMAP_LEAF_SIZE - 1)] +
	       ((unsigned long)(id & oh_id_offset_mask) << 4);
}

/**
 * struct oh_id_cursor - The region a walk over ids looked up last.
 * @region: The region's number, with the map's bit (id >> oh_id_shift);
 *          U32_MAX before the first lookup, which no id has.
 * @base: The region's address.
 *
 * A walk over a list of objects made one after the other finds most ids
 * in the region of the one before: for those, a cursor saves the two
 * loads of the map, and most of the lookup's instructions.
 */
struct oh_id_cursor {
	u32 region;
	u8 *base;
};

#define OH_ID_CURSOR_INIT { .region = U32_MAX }

/**
 * oh_alloc_ptr_near() - oh_alloc_ptr(), through a cursor.
 * @a: The heap's allocator.
 * @id: As for oh_alloc_ptr().
 * @c: The cursor, which must not outlive the region it holds: walks that
 *     free blocks may use one only while every block still to be looked
 *     up keeps its region allocated, as a block on the list walked does.
 *
 * Return: The address the id was made from.
 */
static __always_inline void *oh_alloc_ptr_near(const struct oh_alloc *a,
					       u32 id, struct oh_id_cursor *c)
{
	u32 region = id >> oh_id_shift;

	if (unlikely(region != c->region)) {
		c->region = region;
		c->base = oh_alloc_ptr(a, id & ~oh_id_offset_mask);
	}
	return c->base + ((unsigned long)(id & oh_id_offset_mask) << 4);
}

int oh_alloc_large_id(struct oh_alloc *a, void *p, u32 *idp);
void oh_alloc_large_id_free(struct oh_alloc *a, u32 id);

int oh_alloc_setup(void);
int oh_alloc_init(struct oh_alloc *a, size_t fixed);
void oh_alloc_destroy(struct oh_alloc *a);
u64 oh_alloc_shrink(struct oh_alloc *a);
unsigned long oh_alloc_kept_pages(const struct oh_alloc *a);
void *oh_alloc(struct oh_alloc *a, size_t size);
void oh_free(struct oh_alloc *a, void *p, size_t size);
void oh_alloc_drop_trace_words(struct oh_alloc *a);
int oh_charge(struct oh_alloc *a, size_t bytes);
void oh_uncharge(struct oh_alloc *a, size_t bytes);
void *oh_array_alloc(struct oh_alloc *a, size_t n, size_t size);
void oh_array_free(struct oh_alloc *a, void *p, size_t n, size_t size);
int oh_alloc_set_limit(struct oh_alloc *a, u64 limit);
void oh_alloc_get_stats(struct oh_alloc *a, struct oh_alloc_stats *st);
void oh_alloc_show_stats(struct seq_file *m, const struct oh_alloc_stats *st);
int oh_alloc_check(struct oh_alloc *a);
int oh_alloc_check_selftest(struct oh_alloc *a);
bool oh_alloc_check_block(const void *p, size_t size);
long oh_alloc_pages_held(void);
long oh_alloc_large_held(void);

#endif /* __OBJHEAP_ALLOC_H */
