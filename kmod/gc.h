/* SPDX-License-Identifier: GPL-2.0 */
/*
 * objheap's cycle collector: CPython's generational algorithm over the
 * heap's slots.
 */
#ifndef __OBJHEAP_GC_H
#define __OBJHEAP_GC_H

#include <linux/types.h>
#include <linux/objheap.h>

struct objheap;
struct objheap_ucmd;
struct oh_object;
struct oh_link;

#define OH_GC_GENS OBJHEAP_GC_GENERATIONS
/* The OH_OBJ_GEN of objects in no generation: frozen, or saved garbage. */
#define OH_GC_OUTSIDE OH_GC_GENS
/* The bytes that hold the heads of the collector's lists (oh_gc_init()). */
#define OH_GC_HEADS_SIZE 256

/*
 * The collector's lists, each with its head in struct oh_gc's @heads, in
 * this order: the young generation's first.  The heads' ids follow one
 * another from the young generation's (oh_gc_link_at()).
 */
enum {
	GC_HEAD_GEN0,
	GC_HEAD_PERMANENT = GC_HEAD_GEN0 + OH_GC_GENS,
	GC_HEAD_GARBAGE,
	GC_HEAD_FOUND,
	GC_HEAD_CLEARED,
	GC_HEAD_INC_TODO,
	GC_HEAD_INC_UNREACHABLE,
	GC_HEAD_INC_CLEARED,
	GC_NR_HEADS,
};

/**
 * struct oh_gc_gen - One generation.
 * @objects: The head of its tracked objects' list (kmod/idlist.h),
 *           through their gc_link.
 * @count: Generation 0: tracked objects created minus those freed since
 *         its last collection.  Older ones: collections of the generation
 *         below since their last collection.
 * @threshold: A collection is due when @count passes it.
 * @stats: What its collections did, for OBJHEAP_GC_GET_STATS.
 */
struct oh_gc_gen {
	u32 objects;
	u32 count;
	u32 threshold;
	struct objheap_gc_gen_stats stats;
};

/**
 * struct oh_gc_inc - The incremental collection of the oldest generation.
 * Its lists are id lists (kmod/idlist.h) whose heads are in struct oh_gc's
 * @heads, named by their ids here.
 * @todo: The objects examined: the whole generation as it was when the
 *        collection started (with a full one, the younger ones too), less
 *        those WALK found unreachable so far and those freed since.
 * @cursor: In @todo, the next object the current phase handles (@todo
 *          itself when it has handled them all): those before it are
 *          done.  oh_gc_unlink() moves it on when its object goes.
 * @unreachable: WALK: the objects found unreachable so far, each flagged
 *               OH_OBJ_INC_UNREACHABLE; SWEEP: the garbage left to free.
 * @cleared: SWEEP: garbage whose slots are emptied, waiting for the
 *           garbage that still refers to it.
 * @found: Objects on @unreachable.
 * @survivors: Objects found reachable (some may have died since).
 * @work_ns: The time the current collection's increments took so far.
 * @collected: Objects the incremental collections freed, in all.
 * @seq: The number of the current (or last) collection, from 1.
 * @done_seq: The number of the last one that ran to its end.
 * @increments: Increments run.
 * @cycles: Collections that ran to their end.
 * @aborted: Collections given up.
 * @longest_ns: The longest increment.
 * @since: Tracked objects created since the last increment.
 * @budget: The work of one increment: objects handled plus slots read.
 * @flags_seen: The flags of every object found unreachable, or-ed.
 * @phase: OBJHEAP_GC_PHASE_*.
 * @gave_up: The current (or last) collection was given up.
 * @full: The current (or last) collection took the younger generations.
 * @on: The heap collects its oldest generation incrementally.
 */
struct oh_gc_inc {
	u32 todo;
	u32 cursor;
	u32 unreachable;
	u32 cleared;
	u64 found;
	u64 survivors;
	u64 work_ns;
	u64 collected;
	u64 seq;
	u64 done_seq;
	u64 increments;
	u64 cycles;
	u64 aborted;
	u64 longest_ns;
	u32 since;
	u32 budget;
	u32 flags_seen;
	u8 phase;
	bool gave_up;
	bool full;
	bool on;
};

/**
 * struct oh_gc - One heap's collector.
 * @heads: The heads of the collector's lists, in one block of the heap's
 *         allocator, since an id list's head must have an id (see
 *         oh_gc_init()); the lists below name them by their ids.
 * @gens: The three generations, youngest first.
 * @permanent: Frozen objects: tracked, never collected.
 * @garbage: With OBJHEAP_GC_DEBUG_SAVEALL, the unreachable objects found,
 *           each holding one extra reference.
 * @found: A collection that stops the world: its unreachable objects.
 * @cleared: Its garbage whose slots are emptied (see gc_delete_some()).
 * @due: The count of generation 0 past which a creation looks for a
 *       collection to run: its threshold while the collector runs by
 *       itself (oh_gc_automatic()), U32_MAX, which no count passes, while
 *       it does not.  Set with what it follows (gc_set_due()).
 * @tracked: Tracked objects by generation (the object's OH_OBJ_GEN bits),
 *           and at [OH_GC_OUTSIDE] the frozen ones; those on @garbage are
 *           in none.  Read without the lock by /proc/objheap.
 * @long_lived_total: Objects in the oldest generation after the last full
 *                    collection.
 * @long_lived_pending: Objects that reached the oldest generation since.
 * @collections: Collections that ran to the end, of any generation.
 * @longest_ns: The longest of them (or of the increments), in nanoseconds.
 * @total_ns: The time all collections and increments took.
 * @limit_collections: Full collections run because an allocation met
 *                     the heap's limit (oh_gc_collect_for_limit()).
 * @pressure_collections: Full collections run for the shrinker.
 * @pressure_freed: Bytes the heap gave back for the shrinker.
 * @pressure_after: No collection for the shrinker before this time
 *                  (ktime_get_ns()): nine times the last one's duration
 *                  after it ended, so that they take at most a tenth of
 *                  a CPU however long the pressure lasts.  Read without
 *                  the lock by the shrinker.
 * @inc: The incremental mode's state.
 * @debug: OBJHEAP_GC_DEBUG_* flags.
 * @enabled: Whether the collector may run by itself: when creating a
 *           tracked object, at the limit, or for the shrinker.
 * @collecting: A collection is running.
 * @dropped: A reference was dropped and its object lived on since the
 *           last full collection: only then can there be garbage for
 *           one to find.  Read without the lock by the shrinker.
 */
struct oh_gc {
	struct oh_link *heads;
	struct oh_gc_gen gens[OH_GC_GENS];
	u32 permanent;
	u32 garbage;
	u32 found;
	u32 cleared;
	u32 due;
	u64 tracked[OH_GC_OUTSIDE + 1];
	u64 long_lived_total;
	u64 long_lived_pending;
	u64 collections;
	u64 longest_ns;
	u64 total_ns;
	u64 limit_collections;
	u64 pressure_collections;
	u64 pressure_freed;
	u64 pressure_after;
	struct oh_gc_inc inc;
	u32 debug;
	bool enabled;
	bool collecting;
	bool dropped;
};

/*
 * Whether the collector may run by itself: neither disabled nor given a
 * threshold of 0 for generation 0.
 */
static inline bool oh_gc_automatic(const struct oh_gc *gc)
{
	return gc->enabled && gc->gens[0].threshold;
}

/*
 * A reference went and its object lives on: it may be garbage now, which
 * only a full collection can tell.
 */
static inline void oh_gc_dropped(struct oh_gc *gc)
{
	if (!gc->dropped)
		WRITE_ONCE(gc->dropped, true);
}

int oh_gc_init(struct objheap *heap);
void oh_gc_destroy(struct objheap *heap);
void oh_gc_count_free(struct objheap *heap, struct oh_object *obj);
void __oh_gc_untrack(struct objheap *heap, struct oh_object *obj);
int oh_gc_check(struct objheap *heap);
void __oh_gc_maybe_collect(struct objheap *heap);
u32 oh_gc_nr_tracked(struct objheap *heap);
bool oh_gc_collect_for_limit(struct objheap *heap);
u64 oh_gc_collect_for_pressure(struct objheap *heap);
int oh_gc_test_step(struct objheap *heap);

/*
 * The handlers of the collector's commands; uapi/linux/objheap.h
 * documents each command.  Context: the heap's lock held, by the
 * dispatcher.  Return: 0 or a negative errno.
 */
int objheap_cmd_gc_collect(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_enable(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_disable(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_isenabled(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_threshold(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_set_threshold(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_count(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_stats(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_freeze(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_unfreeze(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_freeze_count(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_objects(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_referrers(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_referents(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_is_tracked(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_set_debug(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_debug(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_garbage(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_clear_garbage(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_set_mode(struct objheap_ucmd *ucmd);
int objheap_cmd_gc_get_mode(struct objheap_ucmd *ucmd);

#endif /* __OBJHEAP_GC_H */
