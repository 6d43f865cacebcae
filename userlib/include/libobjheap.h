/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libobjheap: the userspace library of objheap.
 *
 * Every function returns 0 (or a non-negative value where documented) on
 * success and -errno on failure, as liburing does; errno is not used.
 * The errno values are those of the ioctls, described in
 * <linux/objheap.h> and Documentation/userspace-api.rst.
 */
#ifndef LIBOBJHEAP_H
#define LIBOBJHEAP_H

#include <stddef.h>
#include <stdint.h>
#include <linux/objheap.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An attachment of a heap: one open file description of /dev/objheap, or
 * of an attachment made by objheap_attach().  A heap may have several
 * attachments, in one process or several (see "Sharing a heap" below).
 */
struct objheap;

/*
 * objheap_open() - Open a new heap.
 * @heapp: On success, the heap.
 *
 * The file is opened O_NONBLOCK, so that objheap_dispatch() never waits;
 * poll objheap_fd() to wait for events.
 *
 * Return: 0, or -errno (-ENOENT when /dev/objheap does not exist, that is
 * when the module is not loaded).
 */
int objheap_open(struct objheap **heapp);

/*
 * objheap_close() - Close the attachment: the references its handles held
 * are dropped.  The heap, and everything in it, goes with its last
 * attachment (a copy of the descriptor kept across fork() or sent to
 * another process keeps the attachment open).  NULL is ok.
 */
void objheap_close(struct objheap *heap);

/* objheap_fd() - The heap's file descriptor, for poll(2) and friends. */
int objheap_fd(const struct objheap *heap);

/*
 * objheap_query() - What the running module supports.
 * @heap: The heap.
 * @query_cmd: 0, or a command number (OBJHEAP_CMD_*) to describe in
 *             @out->out_cmd_size and @out->out_cmd_flags.
 * @out: Filled in on success.
 *
 * Return: 0, -EOPNOTSUPP when @query_cmd is not supported, or -errno.
 */
int objheap_query(struct objheap *heap, uint32_t query_cmd,
		  struct objheap_query *out);

/*
 * Objects.  A handle (uint64_t) names an object; every handle these
 * functions return owns one reference, given back by objheap_release().
 * Handle 0 is "no object".  See Documentation/userspace-api.rst.
 */

/*
 * objheap_new() - Create an object with one reference.
 * @type: Type tag.  @flags: OBJHEAP_OBJ_IMMUTABLE, OBJHEAP_OBJ_IMMORTAL,
 * OBJHEAP_OBJ_FINALIZE, OBJHEAP_OBJ_RESIZABLE, OBJHEAP_OBJ_MAPPABLE.
 * @nslots: Slot count.  @data, @data_len: initial payload (NULL: zeros).
 * @slots: NULL, or @nslots handles to store in the slots (0: empty).
 * @handlep: On success, the new object.
 */
int objheap_new(struct objheap *heap, uint32_t type, uint32_t flags,
		uint32_t nslots, const void *data, uint32_t data_len,
		const uint64_t *slots, uint64_t *handlep);

/*
 * objheap_new_tagged() - objheap_new() with an allocation tag: while the
 * heap traces its objects (objheap_trace_start()), the object is counted
 * under the pair (@tag, @type).  The tag is any value the caller likes:
 * a call site, a type, a request.  objheap_new() gives tag 0.
 */
int objheap_new_tagged(struct objheap *heap, uint64_t tag, uint32_t type,
		       uint32_t flags, uint32_t nslots, const void *data,
		       uint32_t data_len, const uint64_t *slots,
		       uint64_t *handlep);

/*
 * objheap_new_here() - objheap_new() tagged with the caller's return
 * address: the instruction after the call, in the caller's address space.
 * addr2line(1) names the call's line from that address less one, once the
 * load address of the caller's module is taken off (dladdr(3)); a caller
 * that tail-calls it is tagged with its own caller's site.
 */
int objheap_new_here(struct objheap *heap, uint32_t type, uint32_t flags,
		     uint32_t nslots, const void *data, uint32_t data_len,
		     const uint64_t *slots, uint64_t *handlep);

/* objheap_dup() - Take one more reference to @handle's object. */
int objheap_dup(struct objheap *heap, uint64_t handle);

/* objheap_release() - Give one reference back; the last one frees. */
int objheap_release(struct objheap *heap, uint64_t handle);

/*
 * objheap_release_forget() - objheap_release(), and with the last
 * reference the caller owns through @handle, @handle itself goes
 * (OBJHEAP_RELEASE_FORGET): it names nothing afterwards, even if the
 * object lives on in a slot.
 */
int objheap_release_forget(struct objheap *heap, uint64_t handle);

/* objheap_set_slot() - Store @target (0: nothing) in slot @index. */
int objheap_set_slot(struct objheap *heap, uint64_t handle, uint32_t index,
		     uint64_t target);

/* objheap_get_slot() - A new reference to what slot @index holds, or 0. */
int objheap_get_slot(struct objheap *heap, uint64_t handle, uint32_t index,
		     uint64_t *targetp);

/* objheap_read()/objheap_write() - Copy @len payload bytes at @offset. */
int objheap_read(struct objheap *heap, uint64_t handle, uint32_t offset,
		 void *buf, uint32_t len);
int objheap_write(struct objheap *heap, uint64_t handle, uint32_t offset,
		  const void *buf, uint32_t len);

/* objheap_info() - Reference counts, type, flags, slots, payload size. */
int objheap_info(struct objheap *heap, uint64_t handle,
		 struct objheap_info *out);

/*
 * objheap_intern() - The one interned object of this type and content,
 * created on first use; @flags may be OBJHEAP_OBJ_IMMORTAL.
 */
int objheap_intern(struct objheap *heap, uint32_t type, uint32_t flags,
		   const void *data, uint32_t data_len, uint64_t *handlep);

/*
 * Payloads (Documentation/objects.rst, "Payloads"): mapped, resized and
 * sealed.  An object created with OBJHEAP_OBJ_MAPPABLE can be mapped, one
 * created with OBJHEAP_OBJ_RESIZABLE resized.
 */

/*
 * objheap_map_offset() - Where mmap() finds a mappable payload.
 * @heap: The attachment; the offset is valid in its file only.
 * @handle: An object created with OBJHEAP_OBJ_MAPPABLE.
 * @offsetp: NULL, or on success the offset of the payload's first page:
 *           a multiple of the page size, the same for as long as the
 *           object lives.
 * @lenp: NULL, or on success the payload's length now, in bytes.
 *
 * For a caller that maps part of a payload itself: mmap(2) of objheap_fd()
 * with MAP_SHARED, at the offset plus a multiple of the page size.
 *
 * Return: 0, -EINVAL when the object is not mappable, -ENOSPC when the
 * attachment has no offset left, -ENOENT, or -errno.
 */
int objheap_map_offset(struct objheap *heap, uint64_t handle,
		       uint64_t *offsetp, uint32_t *lenp);

/*
 * objheap_map() - Map a whole payload, MAP_SHARED.
 * @heap: The attachment.
 * @handle: An object created with OBJHEAP_OBJ_MAPPABLE.
 * @prot: PROT_READ, or PROT_READ | PROT_WRITE.
 * @addrp: On success, the mapping's address.
 * @lenp: On success, the payload's length in bytes: the mapping is that
 *        rounded up to the page size, and what lies past the payload's
 *        end in its last page reads as zero and is not part of it.
 *
 * The mapping sees every READ, WRITE and other mapping of the payload at
 * once, and holds the object alive: releasing the handle, closing the
 * heap or exiting frees it only once the mapping is gone too.  The
 * payload cannot be resized while it is mapped (-EBUSY).
 *
 * Return: 0, -ENXIO when the payload is empty (nothing to map) or the
 * object died meanwhile, -EINVAL when @prot is neither of the above or the
 * object is not mappable, -EACCES for PROT_WRITE on an immutable object
 * or in a read-only attachment, -ENOSPC (objheap_map_offset()), -ENOENT,
 * -ENOMEM, or -errno.
 */
int objheap_map(struct objheap *heap, uint64_t handle, int prot, void **addrp,
		size_t *lenp);

/*
 * objheap_unmap() - munmap(2) of what objheap_map() mapped.
 * @addr: The mapping's address.
 * @len: The length objheap_map() gave in *lenp; the library rounds it up
 *       to the page size.
 *
 * The object dies here if nothing else holds it.
 *
 * Return: 0, -EINVAL (@len 0, or @addr not page-aligned), or -errno.
 */
int objheap_unmap(void *addr, size_t len);

/*
 * objheap_resize() - Set the payload's length of an object created with
 * OBJHEAP_OBJ_RESIZABLE to @data_len (at most OBJHEAP_MAX_SIZE): the
 * bytes up to the smaller length are kept, new bytes are zero.  The
 * handle stays.
 *
 * objheap_resize_slots() - Set its slot count to @nslots (at most
 * OBJHEAP_MAX_SLOTS): slots past the new count drop their references,
 * which may free objects; new slots are empty.
 *
 * Return: 0, -EINVAL when the object is not resizable or a size is too
 * large, -EPERM when it is immutable (or sealed), -EBUSY when its
 * payload is mapped (objheap_resize() only), -ENOMEM, -ENOENT, or -errno;
 * on failure the object is as it was.
 */
int objheap_resize(struct objheap *heap, uint64_t handle, uint32_t data_len);
int objheap_resize_slots(struct objheap *heap, uint64_t handle,
			 uint32_t nslots);

/*
 * objheap_seal() - Make the object immutable from now on, as if created
 * with OBJHEAP_OBJ_IMMUTABLE: writes, slot stores and resizes are -EPERM,
 * a writable mapping -EACCES.  Sealing an immutable object does nothing.
 *
 * objheap_seal_intern() - Seal it and enter it into the intern table:
 * *@internedp is the interned object of its type and payload, owning one
 * new reference (the caller's reference to @handle stays).  That is the
 * object itself, now flagged OBJHEAP_OBJ_INTERNED, unless an equal one
 * was interned before, as objheap_intern() would return it.
 *
 * Return: 0; -EBUSY (objheap_seal() only) while a writable mapping of it
 * exists; -EINVAL (objheap_seal_intern() only) when it cannot be
 * interned: it has slots, is mappable, is a weak reference or was
 * created with OBJHEAP_OBJ_FINALIZE; -EBUSY (objheap_seal_intern() only)
 * while it is on the collector's garbage list; -EPERM in a read-only
 * attachment, -ENOENT, or -errno.  On failure it is not sealed.
 */
int objheap_seal(struct objheap *heap, uint64_t handle);
int objheap_seal_intern(struct objheap *heap, uint64_t handle,
			uint64_t *internedp);

/*
 * Batches: many commands in one system call.  Add entries, submit, then
 * read each entry's result and returned handle.  An entry's handle
 * argument may be OBJHEAP_BATCH_REF(i), the handle entry i returned.
 * The objheap_batch_<cmd>() functions return the new entry's index, or
 * -ENOSPC when the batch is full.
 */
struct objheap_batch_buf;

int objheap_batch_alloc(struct objheap_batch_buf **batchp, uint32_t max_entries);
void objheap_batch_free(struct objheap_batch_buf *batch);
void objheap_batch_reset(struct objheap_batch_buf *batch);
uint32_t objheap_batch_count(const struct objheap_batch_buf *batch);

int objheap_batch_new(struct objheap_batch_buf *batch, uint32_t type,
		      uint32_t flags, uint32_t nslots, const void *data,
		      uint32_t data_len, const uint64_t *slots);
/* objheap_new_tagged()'s entry: a NEW with allocation tag @tag. */
int objheap_batch_new_tagged(struct objheap_batch_buf *batch, uint64_t tag,
			     uint32_t type, uint32_t flags, uint32_t nslots,
			     const void *data, uint32_t data_len,
			     const uint64_t *slots);
int objheap_batch_dup(struct objheap_batch_buf *batch, uint64_t handle);
int objheap_batch_release(struct objheap_batch_buf *batch, uint64_t handle);
int objheap_batch_release_forget(struct objheap_batch_buf *batch,
				 uint64_t handle);
int objheap_batch_set_slot(struct objheap_batch_buf *batch, uint64_t handle,
			   uint32_t index, uint64_t target);
int objheap_batch_get_slot(struct objheap_batch_buf *batch, uint64_t handle,
			   uint32_t index);
int objheap_batch_read(struct objheap_batch_buf *batch, uint64_t handle,
		       uint32_t offset, void *buf, uint32_t len);
int objheap_batch_write(struct objheap_batch_buf *batch, uint64_t handle,
			uint32_t offset, const void *buf, uint32_t len);
int objheap_batch_info(struct objheap_batch_buf *batch, uint64_t handle);
int objheap_batch_intern(struct objheap_batch_buf *batch, uint32_t type,
			 uint32_t flags, const void *data, uint32_t data_len);
int objheap_batch_weakref_new(struct objheap_batch_buf *batch, uint64_t target,
			      uint64_t cookie, uint32_t flags);
int objheap_batch_weakref_get(struct objheap_batch_buf *batch, uint64_t wr);
int objheap_batch_resize(struct objheap_batch_buf *batch, uint64_t handle,
			 uint32_t data_len);
int objheap_batch_resize_slots(struct objheap_batch_buf *batch,
			       uint64_t handle, uint32_t nslots);
int objheap_batch_seal(struct objheap_batch_buf *batch, uint64_t handle);
/* Its handle (objheap_batch_handle()) is the interned object. */
int objheap_batch_seal_intern(struct objheap_batch_buf *batch,
			      uint64_t handle);

/*
 * objheap_batch_submit() - Run the batch's entries in one OBJHEAP_BATCH.
 * @flags: OBJHEAP_BATCH_CONTINUE to run every entry whatever the earlier
 *         ones gave; by default the first failure stops the batch.
 *
 * Return: the number of entries that failed (0: all succeeded), -EINTR
 * when a fatal signal stopped the batch part-way (the results of what ran
 * are there, as after a success), or another -errno when the batch as a
 * whole was refused and nothing ran.
 */
int objheap_batch_submit(struct objheap *heap, struct objheap_batch_buf *batch,
			 uint32_t flags);

/* After submit: entry @i's result (0 or -errno, -ECANCELED if not run). */
int objheap_batch_result(const struct objheap_batch_buf *batch, uint32_t i);

/*
 * After submit: the handle entry @i returned (NEW, DUP, GET_SLOT, INTERN,
 * WEAKREF_NEW, WEAKREF_GET, SEAL with intern), or 0.
 */
uint64_t objheap_batch_handle(const struct objheap_batch_buf *batch, uint32_t i);

/* After submit: entry @i's struct objheap_info (an INFO entry), or NULL. */
const struct objheap_info *objheap_batch_info_result(
	const struct objheap_batch_buf *batch, uint32_t i);

/*
 * objheap_stats() - The statistics of the heap's allocator.
 * @heap: The heap.
 * @out: Filled in on success (see struct objheap_stats).
 * @classes: NULL, or an array of @nr_classes elements filled per size
 *           class, in order of block size.
 * @nr_classes: Its capacity.  @out->out_nr_classes tells how many classes
 *              there are (32); only the first @nr_classes are written.
 *
 * Return: 0, -EFAULT when @classes cannot be written, or -errno.
 */
int objheap_stats(struct objheap *heap, struct objheap_stats *out,
		  struct objheap_class_stats *classes, uint32_t nr_classes);

/*
 * objheap_set_limit() - Set the heap's limit on the bytes it holds.
 * @heap: The heap.
 * @limit: Bytes; see struct objheap_stats, out_bytes_held.
 *
 * Return: 0, -EINVAL above the module-wide maximum (out_limit_max),
 * -EPERM above the default (out_limit_default) without CAP_SYS_RESOURCE,
 * or -errno.
 */
int objheap_set_limit(struct objheap *heap, uint64_t limit);

/*
 * objheap_release_array() - Release @count handles, in batches; all are
 * attempted, even after a failure.  Return: 0, or the first failure's
 * -errno (in array order).
 */
int objheap_release_array(struct objheap *heap, const uint64_t *handles,
			  uint32_t count);

/*
 * Tracing allocations, after Python's tracemalloc module (objheap(4),
 * "Tracing allocations").  While a heap traces, every object it creates
 * is counted, with its bytes (its footprint in the heap's allocator),
 * under the pair of its allocation tag (objheap_new_tagged(); 0 for
 * objheap_new() and for objects made otherwise) and its type.  Objects
 * that existed before tracing started are not traced.  The counts are the
 * heap's, shared by its attachments; a read-only attachment may read them
 * (objheap_trace_get(), objheap_trace_tag(), objheap_trace_statistics())
 * but gets -EPERM from the others.
 */

/*
 * objheap_trace_start() - Start tracing, as tracemalloc.start().
 * @sample_every: 0 or 1 to trace every object; N to trace one object in
 *                N on average (the gaps between traced objects are drawn
 *                uniformly from 1 to 2N - 1), at most 2^24.  The counts
 *                and bytes are then those of the traced objects: multiply
 *                by N for an estimate, whose relative error for a pair of
 *                n objects is about sqrt(N / n).
 *
 * Return: 0, -EBUSY when the heap traces already, -EINVAL when
 * @sample_every is too large, -EPERM (read-only), -ENOMEM, or -errno.
 */
int objheap_trace_start(struct objheap *heap, uint32_t sample_every);

/*
 * objheap_trace_stop() - Stop tracing, as tracemalloc.stop(): the counts
 * and every snapshot are dropped.  Stopping a heap that does not trace
 * does nothing.  Return: 0, -EPERM (read-only), or -errno.
 */
int objheap_trace_stop(struct objheap *heap);

/*
 * objheap_trace_reset_peak() - Make the peak the bytes traced now, as
 * tracemalloc.reset_peak().  Return: 0, -EPERM (read-only), or -errno.
 */
int objheap_trace_reset_peak(struct objheap *heap);

/*
 * objheap_trace_get() - The totals: *@out as OBJHEAP_TRACE_CTL reports
 * them (traced bytes and objects, the peak, the pairs, the sampling
 * period and the snapshots held; all 0 when the heap does not trace).
 */
int objheap_trace_get(struct objheap *heap, struct objheap_trace_ctl *out);

/*
 * objheap_get_traced_memory() - tracemalloc.get_traced_memory(): the bytes
 * of the traced objects alive, and the most they have been since tracing
 * started or the peak was reset.  Either pointer may be NULL.  Both are 0
 * when the heap does not trace.
 */
int objheap_get_traced_memory(struct objheap *heap, uint64_t *current,
			      uint64_t *peak);

/*
 * objheap_trace_tag() - tracemalloc.get_object_traceback(): the pair the
 * object of @handle is counted under.  @tagp, @typep, @attachp: NULL, or
 * on success its tag (OBJHEAP_TAG_OTHER when the heap's pairs were full),
 * its type and the id of the attachment that created it (0 past the
 * pairs' bound), all 0 when it is not traced.
 *
 * Return: 1 when the object is traced, 0 when it is not (made before
 * tracing started, sampled out, or the heap does not trace), -ENOENT, or
 * -errno.
 */
int objheap_trace_tag(struct objheap *heap, uint64_t handle, uint64_t *tagp,
		      uint32_t *typep, uint32_t *attachp);

/*
 * objheap_snapshot_take() - Keep the counts of every pair as they are now,
 * in the kernel, as tracemalloc.take_snapshot(); *@idp (if not NULL) is
 * the snapshot's id, 1 to OBJHEAP_TRACE_SNAPSHOTS_MAX.  Snapshots belong
 * to the heap and go when tracing stops.
 *
 * objheap_snapshot_drop() - Drop snapshot @id.
 *
 * Return: 0, -ENODATA when the heap does not trace, -ENOSPC (take) when
 * it holds OBJHEAP_TRACE_SNAPSHOTS_MAX snapshots, -ENOENT (drop) when it
 * has no snapshot @id, -EPERM (read-only), -ENOMEM, or -errno.
 */
int objheap_snapshot_take(struct objheap *heap, uint32_t *idp);
int objheap_snapshot_drop(struct objheap *heap, uint32_t id);

/* What objheap_trace_statistics() adds up: tracemalloc's key_type. */
/* The fields a grouping leaves out are reported as 0. */
enum objheap_group {
	OBJHEAP_GROUP_PAIR,		/* one row per (tag, type) */
	OBJHEAP_GROUP_TAG,		/* one row per tag */
	OBJHEAP_GROUP_TYPE,		/* one row per type */
	OBJHEAP_GROUP_ATTACHMENT,	/* one row per creating attachment */
	OBJHEAP_GROUP_ORIGIN,		/* one per (tag, type, attachment) */
};

/*
 * Which tags objheap_trace_statistics() looks at: only the @ntags tags of
 * @tags, or, with @exclude, every tag but those.
 */
struct objheap_trace_filter {
	const uint64_t *tags;
	size_t ntags;
	int exclude;
};

/*
 * One row of objheap_trace_statistics(): a pair, tag or type, with the
 * traced objects and bytes of the snapshot read, and their change since
 * the base (the figure in the snapshot less the figure in the base; with
 * no base, the figures themselves).
 */
struct objheap_trace_stat {
	uint64_t tag;
	uint32_t type;
	uint32_t attachment;
	uint64_t count, bytes;
	int64_t count_diff, bytes_diff;
};

/*
 * objheap_trace_statistics() - Snapshot.statistics() and
 * Snapshot.compare_to() of tracemalloc.
 * @snapshot: The snapshot to read, or 0 for the counts now.
 * @base: 0, or an older snapshot to compare with.
 * @group: How to add the pairs up.
 * @filter: NULL for every tag, or which tags to look at (before grouping).
 * @statsp: On success, an array of *@np rows allocated with malloc(3),
 *          for the caller to free(3); NULL when there is none.
 * @np: On success, the number of rows.
 *
 * Reads every row of the pairs with OBJHEAP_TRACE_ROWS, filters them,
 * groups them, drops the rows whose figures, and the base's, are all 0,
 * and sorts the rest: by |bytes_diff| then bytes, largest first (without
 * a base, by bytes), ties by tag, type, then attachment, smallest first.
 *
 * Return: 0, -ENODATA when the heap does not trace, -ENOENT when
 * @snapshot or @base is no snapshot, -EINVAL for a bad @group or a filter
 * with tags but no array, -ENOMEM, or -errno.
 */
int objheap_trace_statistics(struct objheap *heap, uint32_t snapshot,
			     uint32_t base, enum objheap_group group,
			     const struct objheap_trace_filter *filter,
			     struct objheap_trace_stat **statsp, size_t *np);

/*
 * The cycle collector, after Python's gc module (Documentation/gc.rst).
 */

/*
 * objheap_gc_collect() - Collect generations 0 to @generation (2: all).
 * @out: NULL, or the full result (collected, uncollectable, elapsed ns).
 *
 * Return: the unreachable objects freed (or saved), or -errno.
 */
int objheap_gc_collect(struct objheap *heap, uint32_t generation,
		       struct objheap_gc_collect *out);

/* Automatic collection on and off; isenabled returns 1 or 0. */
int objheap_gc_enable(struct objheap *heap);
int objheap_gc_disable(struct objheap *heap);
int objheap_gc_isenabled(struct objheap *heap);

/* The three generations' thresholds (default 700, 10, 10) and counts. */
int objheap_gc_get_threshold(struct objheap *heap,
			     uint32_t threshold[OBJHEAP_GC_GENERATIONS]);
int objheap_gc_set_threshold(struct objheap *heap,
			     const uint32_t threshold[OBJHEAP_GC_GENERATIONS]);
int objheap_gc_get_count(struct objheap *heap,
			 uint32_t count[OBJHEAP_GC_GENERATIONS]);
int objheap_gc_get_stats(struct objheap *heap,
			 struct objheap_gc_gen_stats stats[OBJHEAP_GC_GENERATIONS]);

/*
 * objheap_gc_get_info() - Everything OBJHEAP_GC_GET_STATS reports: the
 * generations' statistics, the collections and the longest, and the
 * collections run at the limit and for the shrinker, with what the heap
 * gave back for it.
 */
int objheap_gc_get_info(struct objheap *heap, struct objheap_gc_stats *out);

/*
 * objheap_gc_set_mode() - OBJHEAP_GC_STOP_THE_WORLD, or
 * OBJHEAP_GC_INCREMENTAL with @budget of work per increment (0: the
 * default).  objheap_gc_get_mode() fills @out with the mode, the budget,
 * the phase and the increments' figures.
 */
int objheap_gc_set_mode(struct objheap *heap, uint32_t mode, uint32_t budget);
int objheap_gc_get_mode(struct objheap *heap, struct objheap_gc_mode *out);

/*
 * The permanent generation: freeze moves every tracked object there,
 * unfreeze moves them back to the oldest; get_freeze_count returns how
 * many it holds.
 */
int objheap_gc_freeze(struct objheap *heap);
int objheap_gc_unfreeze(struct objheap *heap);
int objheap_gc_get_freeze_count(struct objheap *heap);

/*
 * Lists: up to @count handles, each owning a reference, are written to
 * @handles and *@countp is set to how many; when @count is too small
 * nothing is written, the return is -EMSGSIZE and *@countp is the number
 * needed.  get_objects takes a generation or OBJHEAP_GC_ALL_GENERATIONS.
 */
int objheap_gc_get_objects(struct objheap *heap, uint32_t generation,
			   uint64_t *handles, uint32_t count, uint32_t *countp);
int objheap_gc_get_referrers(struct objheap *heap, uint64_t handle,
			     uint64_t *handles, uint32_t count, uint32_t *countp);
int objheap_gc_get_referents(struct objheap *heap, uint64_t handle,
			     uint64_t *handles, uint32_t count, uint32_t *countp);
int objheap_gc_get_garbage(struct objheap *heap, uint64_t *handles,
			   uint32_t count, uint32_t *countp);

/* objheap_gc_is_tracked() - 1 if the collector tracks it, 0 if not. */
int objheap_gc_is_tracked(struct objheap *heap, uint64_t handle);

/* OBJHEAP_GC_DEBUG_STATS and OBJHEAP_GC_DEBUG_SAVEALL; get returns them. */
int objheap_gc_set_debug(struct objheap *heap, uint32_t flags);
int objheap_gc_get_debug(struct objheap *heap);

/* Give back the garbage list's references (what SAVEALL kept). */
int objheap_gc_clear_garbage(struct objheap *heap);

/*
 * Weak references, finalizers and events (Documentation/weakref.rst).
 */

/*
 * objheap_weakref_new() - A weak reference to @target, as weakref.ref().
 * @cookie: Carried by its event; may be a pointer cast to uint64_t.
 * @flags: OBJHEAP_WEAKREF_CALLBACK for an OBJHEAP_EVENT_WEAKREF when it
 *         is cleared (objheap_on_death()); 0 for none.
 * @wrp: The new weak reference, an object owning one reference.
 */
int objheap_weakref_new(struct objheap *heap, uint64_t target, uint64_t cookie,
			uint32_t flags, uint64_t *wrp);

/*
 * objheap_weakref_get() - Call the weak reference: *@targetp is its target
 * with a new reference, or 0 once dead.  Return: 1 alive, 0 dead, -errno.
 */
int objheap_weakref_get(struct objheap *heap, uint64_t wr, uint64_t *targetp);

/* objheap_getweakrefcount() - @target's weak references, or -errno. */
int objheap_getweakrefcount(struct objheap *heap, uint64_t target);

/*
 * objheap_getweakrefs() - @target's weak references, oldest first, each
 * owning a reference; -EMSGSIZE and the count needed in *@countp when
 * @count is too small.
 */
int objheap_getweakrefs(struct objheap *heap, uint64_t target,
			uint64_t *handles, uint32_t count, uint32_t *countp);

/*
 * objheap_finalize_new() - A finalizer on @target, as weakref.finalize():
 * when @target dies, an OBJHEAP_EVENT_FINALIZER with @cookie, once.  The
 * heap keeps it alive until then: *@finp may be released at once.
 */
int objheap_finalize_new(struct objheap *heap, uint64_t target, uint64_t cookie,
			 uint64_t *finp);

/*
 * objheap_finalize_detach() - Unregister it.  Return: 1 when it was alive
 * (*@targetp, if not NULL, gets the target with a new reference; with
 * @targetp NULL that reference is released), 0 when it was dead, -errno.
 */
int objheap_finalize_detach(struct objheap *heap, uint64_t fin,
			    uint64_t *targetp);

/* objheap_finalize_alive() - 1 until it fires or is detached, then 0. */
int objheap_finalize_alive(struct objheap *heap, uint64_t fin);

/* objheap_event_ctl() - OBJHEAP_EVENT_CTL: optional events, queue state. */
int objheap_event_ctl(struct objheap *heap, uint32_t flags, uint32_t mask,
		      struct objheap_event_ctl *out);

/* A callback of objheap_dispatch(); @ev is valid during the call only. */
typedef void (*objheap_event_fn)(struct objheap *heap,
				 const struct objheap_event *ev, void *arg);
/* Called with the number of events lost before the next record. */
typedef void (*objheap_lost_fn)(struct objheap *heap, uint64_t lost, void *arg);

/*
 * Registration, one callback per kind (NULL unregisters):
 * objheap_on_death() for OBJHEAP_EVENT_WEAKREF and _FINALIZER,
 * objheap_on_finalize() for OBJHEAP_EVENT_FINALIZE (PEP 442: the callback
 * owns the reference ev->handle carries), objheap_on_gc() for _GC_START
 * and _GC_STOP (it also turns OBJHEAP_EVENTS_GC on or off),
 * objheap_on_lost() for losses.
 */
int objheap_on_death(struct objheap *heap, objheap_event_fn fn, void *arg);
int objheap_on_finalize(struct objheap *heap, objheap_event_fn fn, void *arg);
int objheap_on_gc(struct objheap *heap, objheap_event_fn fn, void *arg);
int objheap_on_lost(struct objheap *heap, objheap_lost_fn fn, void *arg);

/*
 * Registration for shared heaps (see "Sharing a heap" below), one callback
 * per kind as above: objheap_on_received() for OBJHEAP_EVENT_RECEIVED
 * (ev->handle owns one reference of this attachment, which the callback
 * owns; with no callback registered the dispatcher releases it; ev->cookie
 * is the sender's cookie, ev->generation the sender's attachment id,
 * ev->target_type the object's type tag), objheap_on_detached() for
 * OBJHEAP_EVENT_DETACHED (ev->generation is the id of the attachment that
 * went, ev->collected the references it held through handles, ev->cookie
 * the pid of the process that made it).
 */
int objheap_on_received(struct objheap *heap, objheap_event_fn fn, void *arg);
int objheap_on_detached(struct objheap *heap, objheap_event_fn fn, void *arg);

/*
 * objheap_dispatch() - Read pending records, without blocking, and call
 * the registered callbacks in order.  @max: at most this many records,
 * 0 for all that are pending.  Call it when objheap_fd() polls readable.
 *
 * Return: the records read (0 when none was pending), or -errno.
 */
int objheap_dispatch(struct objheap *heap, unsigned int max);

/*
 * Sharing a heap (Documentation/sharing.rst).  Every attachment has its
 * own handles: a handle of one attachment is -ENOENT in every other.  An
 * object reaches another attachment by objheap_send() or under a
 * published name.  A read-only attachment gets -EPERM from anything that
 * would create objects, write payloads or slots, publish or unpublish.
 */

/*
 * objheap_attach() - Make a new attachment of @heap's heap.
 * @flags: 0, or OBJHEAP_ATTACH_READONLY (required when @heap is itself
 *         read-only: rights only narrow).
 * @fdp: On success, its file descriptor, O_CLOEXEC: hand it to another
 *       process with objheap_send_fd(), then close it.
 * @idp: NULL, or on success its id, unique in the heap for the heap's
 *       life (what objheap_send() and the DETACHED event name).
 *
 * The new attachment has no handles.  Use objheap_from_fd() to work with
 * it in this process.
 *
 * Return: 0, -ENOSPC when the heap has OBJHEAP_ATTACH_MAX attachments,
 * -EMFILE, -ENOMEM, -EPERM (a writable attachment asked of a read-only
 * one), or -errno.
 */
int objheap_attach(struct objheap *heap, uint32_t flags, int *fdp,
		   uint32_t *idp);

/*
 * objheap_from_fd() - A library heap for an attachment's descriptor, as
 * objheap_attach() made it or objheap_recv_fd() received it.
 * @fd: The descriptor.  On success the heap owns it (objheap_close()
 *      closes it) and its open file description is made O_NONBLOCK, as
 *      objheap_open() makes its own, so that objheap_dispatch() never
 *      waits; every copy of the descriptor shares that flag.
 * @heapp: On success, the heap.
 *
 * Return: 0, -ENOTTY when @fd is not an objheap file (it fails
 * OBJHEAP_QUERY), -EBADF, -ENOMEM, or -errno; on failure @fd is left open
 * and unchanged.
 */
int objheap_from_fd(int fd, struct objheap **heapp);

/*
 * objheap_attach_info() - Describe attachment @id of the heap, 0 for the
 * caller's own: its id, flags, creator's pid, handles, references, the
 * objects it created, and the heap's number of attachments.
 *
 * Return: 0, -ESRCH when no attachment of the heap has @id (any more), or
 * -errno.
 */
int objheap_attach_info(struct objheap *heap, uint32_t id,
			struct objheap_attach_info *out);

/*
 * objheap_send() - Send @handle's object to attachment @to: @to gets an
 * OBJHEAP_EVENT_RECEIVED carrying @cookie and a handle of its own that
 * owns one new reference (objheap_on_received()).  The caller's reference
 * is unchanged.
 *
 * Return: 0, -ESRCH when @to is no attachment of the heap (or has gone),
 * -EINVAL when it is the caller's own, -ENOENT, -EOVERFLOW, -ENOMEM when
 * @to's queue cannot take the record (nothing sent), or -errno.
 */
int objheap_send(struct objheap *heap, uint64_t handle, uint32_t to,
		 uint64_t cookie);

/*
 * Named roots.  A name is 1 to OBJHEAP_NAME_MAX bytes, any bytes; the
 * _str() variants take a C string (its terminating NUL is not part of the
 * name).
 *
 * objheap_publish() - The heap holds one reference to @handle's object
 * under the name, until objheap_unpublish(), whatever becomes of the
 * attachment that published it.  -EEXIST when the name is taken, -ENOSPC
 * at OBJHEAP_NAMES_MAX names, -EOVERFLOW, -ENOMEM, -EPERM (read-only).
 *
 * objheap_lookup() - *@handlep is the object published under the name,
 * owning one new reference of this attachment.  -ENOENT when nothing is.
 *
 * objheap_unpublish() - Drop the name and the heap's reference, which may
 * free the object.  -ENOENT when nothing is published under it, -EPERM
 * (read-only).
 *
 * All: -EINVAL when the name is empty or longer than OBJHEAP_NAME_MAX.
 */
int objheap_publish(struct objheap *heap, const void *name, uint32_t name_len,
		    uint64_t handle);
int objheap_lookup(struct objheap *heap, const void *name, uint32_t name_len,
		   uint64_t *handlep);
int objheap_unpublish(struct objheap *heap, const void *name,
		      uint32_t name_len);
int objheap_publish_str(struct objheap *heap, const char *name,
			uint64_t handle);
int objheap_lookup_str(struct objheap *heap, const char *name,
		       uint64_t *handlep);
int objheap_unpublish_str(struct objheap *heap, const char *name);

/*
 * objheap_send_fd() - Send descriptor @fd (an attachment, say) over the
 * connected unix socket @sock, with SCM_RIGHTS and one byte of data.  The
 * caller's @fd stays open: close it once sent, or the attachment outlives
 * the process it was meant for.  SIGPIPE is not raised.
 *
 * objheap_recv_fd() - Receive one descriptor that objheap_send_fd() sent
 * on @sock, O_CLOEXEC, into *@fdp; blocks as @sock does.
 *
 * On a stream socket each call moves one byte besides the descriptor:
 * keep other traffic off the socket, or use SOCK_SEQPACKET.
 *
 * Return: 0 or -errno.  objheap_recv_fd(): -ECONNRESET when the peer
 * closed the socket with nothing sent, -ENOMSG when a byte came without a
 * descriptor, -EMSGSIZE when more than one came (none is kept open).
 */
int objheap_send_fd(int sock, int fd);
int objheap_recv_fd(int sock, int *fdp);

#ifdef __cplusplus
}
#endif

#endif /* LIBOBJHEAP_H */
