/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * objheap: a managed object heap behind /dev/objheap.
 *
 * Each open of /dev/objheap makes one heap, which other processes may
 * share (see DOC: Sharing a heap).  This header is the whole ABI:
 * it is self-contained and compiles with -std=c90.
 */
#ifndef _UAPI_LINUX_OBJHEAP_H
#define _UAPI_LINUX_OBJHEAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define OBJHEAP_TYPE 0xB8

/**
 * DOC: General ioctl format
 *
 * Every command takes a pointer to one structure whose first field,
 * ``size``, says how many bytes of it the caller passes.  The module
 * copies what it knows of the structure and insists that anything past
 * that is zero, so a program built against a newer header runs on an
 * older module as long as it leaves the new fields zero, and a program
 * built against an older header keeps working on a newer module, which
 * treats the fields it did not pass as zero.
 *
 * The errnos mean the same for every command; each structure's comment
 * adds what is particular to it:
 *
 *  - ENOTTY: No such command in this module (see OBJHEAP_QUERY).
 *  - E2BIG: The command exists, but a byte past the end of the structure
 *    as this module knows it is not zero: the caller asks for something
 *    newer than the module.
 *  - EOPNOTSUPP: The structure is understood, but a field holds a value
 *    this module cannot honour.
 *  - EINVAL: A field is wrong: ``size`` below the structure's first
 *    version, a flag the command does not take, a reserved field that is
 *    not zero, or a value out of range.
 *  - ENOENT: A provided handle does not refer to a live object of this
 *    heap.
 *  - EFAULT: A user pointer (the argument itself or one inside the
 *    structure) could not be accessed.  A command that creates an object
 *    or returns handles then created and counted nothing (see DOC:
 *    Objects and handles).
 *  - ENOMEM: Out of memory, the heap's byte limit would be exceeded, or
 *    the heaps of the user who opened this one would together pass the
 *    per-user bound (module parameter ``user_limit``).  Objects, reference
 *    counts, slots, weak references and events are as they were before
 *    the call.  Only the heap's own tables (of handles, weak references,
 *    interned objects) may have grown on the way, and free pool pages it
 *    took may stay held; both are kept for later commands (see DOC:
 *    Objects and handles).  A heap's allocations never invoke the OOM
 *    killer, in a memory cgroup or not: running out is always ENOMEM.
 *  - EPERM: The object is immutable and the command would change it;
 *    the caller's attachment is read-only and the command is one that
 *    DOC: Sharing a heap lists as refused;
 *    OBJHEAP_SET_LIMIT above the default limit without CAP_SYS_RESOURCE.
 *  - EOVERFLOW: A reference count would pass OBJHEAP_REFCNT_MAX.  Counts
 *    saturate: the reference is refused, the count never wraps.
 *  - EMSGSIZE: A list does not fit the buffer userspace gave.  Unlike
 *    other errors, the structure is copied back, with the count the list
 *    needs; nothing else happened.
 *  - EINTR: The calling task was killed (a fatal signal; the task never
 *    sees the errno, but a process sharing the heap sees its effect).
 *    Any command gives it when killed while waiting for the heap's lock,
 *    having done nothing.  Long commands check while they walk, and stop
 *    where the heap is consistent: OBJHEAP_GC_COLLECT while it is still
 *    marking (nothing freed, see struct objheap_gc_collect), the list
 *    commands (OBJHEAP_GC_GET_OBJECTS, _GET_REFERRERS, _GET_REFERENTS,
 *    _GET_GARBAGE, OBJHEAP_WEAKREF_LIST; no reference taken),
 *    OBJHEAP_WEAKREF_COUNT (nothing done), OBJHEAP_GC_CLEAR_GARBAGE (the
 *    objects not yet given back stay on the garbage list),
 *    OBJHEAP_GC_FREEZE and _UNFREEZE (the objects moved so far stay
 *    moved: they go one at a time).  Work that frees (the objects a
 *    release or a collection frees, the weak references a death clears,
 *    close()) always finishes.  OBJHEAP_BATCH stops between two entries; unlike
 *    other errors, its structure and buffer are then written back, with
 *    the results of the entries that ran.
 *
 * Every structure starts with ``__u32 size; __u32 flags;``.  Fields that
 * userspace fills are named plainly; fields the kernel fills are named
 * ``out_*``.  Handles and user pointers are ``__aligned_u64``.  Reserved
 * fields must be zero.  Output fields are written only when the ioctl
 * returns 0.
 *
 * New functionality is added with new commands, new flags and new fields
 * at the end of a structure, never by changing an existing field.
 * OBJHEAP_QUERY tells userspace what the running module supports.
 */
enum {
	OBJHEAP_CMD_BASE = 0x80,
	OBJHEAP_CMD_QUERY = OBJHEAP_CMD_BASE,
	OBJHEAP_CMD_STATS = OBJHEAP_CMD_BASE + 1,
	OBJHEAP_CMD_SET_LIMIT = OBJHEAP_CMD_BASE + 2,
	OBJHEAP_CMD_NEW = OBJHEAP_CMD_BASE + 3,
	OBJHEAP_CMD_DUP = OBJHEAP_CMD_BASE + 4,
	OBJHEAP_CMD_RELEASE = OBJHEAP_CMD_BASE + 5,
	OBJHEAP_CMD_SET_SLOT = OBJHEAP_CMD_BASE + 6,
	OBJHEAP_CMD_GET_SLOT = OBJHEAP_CMD_BASE + 7,
	OBJHEAP_CMD_READ = OBJHEAP_CMD_BASE + 8,
	OBJHEAP_CMD_WRITE = OBJHEAP_CMD_BASE + 9,
	OBJHEAP_CMD_INFO = OBJHEAP_CMD_BASE + 10,
	OBJHEAP_CMD_INTERN = OBJHEAP_CMD_BASE + 11,
	OBJHEAP_CMD_BATCH = OBJHEAP_CMD_BASE + 12,
	OBJHEAP_CMD_GC_COLLECT = OBJHEAP_CMD_BASE + 13,
	OBJHEAP_CMD_GC_ENABLE = OBJHEAP_CMD_BASE + 14,
	OBJHEAP_CMD_GC_DISABLE = OBJHEAP_CMD_BASE + 15,
	OBJHEAP_CMD_GC_ISENABLED = OBJHEAP_CMD_BASE + 16,
	OBJHEAP_CMD_GC_GET_THRESHOLD = OBJHEAP_CMD_BASE + 17,
	OBJHEAP_CMD_GC_SET_THRESHOLD = OBJHEAP_CMD_BASE + 18,
	OBJHEAP_CMD_GC_GET_COUNT = OBJHEAP_CMD_BASE + 19,
	OBJHEAP_CMD_GC_GET_STATS = OBJHEAP_CMD_BASE + 20,
	OBJHEAP_CMD_GC_FREEZE = OBJHEAP_CMD_BASE + 21,
	OBJHEAP_CMD_GC_UNFREEZE = OBJHEAP_CMD_BASE + 22,
	OBJHEAP_CMD_GC_GET_FREEZE_COUNT = OBJHEAP_CMD_BASE + 23,
	OBJHEAP_CMD_GC_GET_OBJECTS = OBJHEAP_CMD_BASE + 24,
	OBJHEAP_CMD_GC_GET_REFERRERS = OBJHEAP_CMD_BASE + 25,
	OBJHEAP_CMD_GC_GET_REFERENTS = OBJHEAP_CMD_BASE + 26,
	OBJHEAP_CMD_GC_IS_TRACKED = OBJHEAP_CMD_BASE + 27,
	OBJHEAP_CMD_GC_SET_DEBUG = OBJHEAP_CMD_BASE + 28,
	OBJHEAP_CMD_GC_GET_DEBUG = OBJHEAP_CMD_BASE + 29,
	OBJHEAP_CMD_GC_GET_GARBAGE = OBJHEAP_CMD_BASE + 30,
	OBJHEAP_CMD_GC_CLEAR_GARBAGE = OBJHEAP_CMD_BASE + 31,
	OBJHEAP_CMD_WEAKREF_NEW = OBJHEAP_CMD_BASE + 32,
	OBJHEAP_CMD_WEAKREF_GET = OBJHEAP_CMD_BASE + 33,
	OBJHEAP_CMD_WEAKREF_COUNT = OBJHEAP_CMD_BASE + 34,
	OBJHEAP_CMD_WEAKREF_LIST = OBJHEAP_CMD_BASE + 35,
	OBJHEAP_CMD_FINALIZE_DETACH = OBJHEAP_CMD_BASE + 36,
	OBJHEAP_CMD_FINALIZE_ALIVE = OBJHEAP_CMD_BASE + 37,
	OBJHEAP_CMD_EVENT_CTL = OBJHEAP_CMD_BASE + 38,
	OBJHEAP_CMD_ATTACH = OBJHEAP_CMD_BASE + 39,
	OBJHEAP_CMD_ATTACH_INFO = OBJHEAP_CMD_BASE + 40,
	OBJHEAP_CMD_SEND = OBJHEAP_CMD_BASE + 41,
	OBJHEAP_CMD_PUBLISH = OBJHEAP_CMD_BASE + 42,
	OBJHEAP_CMD_LOOKUP = OBJHEAP_CMD_BASE + 43,
	OBJHEAP_CMD_UNPUBLISH = OBJHEAP_CMD_BASE + 44,
	OBJHEAP_CMD_RESIZE = OBJHEAP_CMD_BASE + 45,
	OBJHEAP_CMD_SEAL = OBJHEAP_CMD_BASE + 46,
	OBJHEAP_CMD_MAP_OFFSET = OBJHEAP_CMD_BASE + 47,
	OBJHEAP_CMD_TRACE_CTL = OBJHEAP_CMD_BASE + 48,
	OBJHEAP_CMD_TRACE_SNAPSHOT = OBJHEAP_CMD_BASE + 49,
	OBJHEAP_CMD_TRACE_ROWS = OBJHEAP_CMD_BASE + 50,
	OBJHEAP_CMD_TRACE_TAG = OBJHEAP_CMD_BASE + 51,
	OBJHEAP_CMD_GC_SET_MODE = OBJHEAP_CMD_BASE + 52,
	OBJHEAP_CMD_GC_GET_MODE = OBJHEAP_CMD_BASE + 53,
};

/* The version of this header's ABI, reported by OBJHEAP_QUERY. */
#define OBJHEAP_API_VERSION 1

/**
 * enum objheap_features - Optional features, reported by OBJHEAP_QUERY
 * @OBJHEAP_FEATURE_TEST: The module was built with its test-only
 *                        interface (never in a production build).
 */
enum objheap_features {
	OBJHEAP_FEATURE_TEST = 1 << 0,
};

/**
 * struct objheap_query - ioctl(OBJHEAP_QUERY)
 * @size: sizeof(struct objheap_query)
 * @flags: Must be 0
 * @query_cmd: 0, or the ioctl number (``_IOC_NR``) of a command to describe
 *             in @out_cmd_size and @out_cmd_flags.  EOPNOTSUPP if the
 *             command is not supported.
 * @out_version: OBJHEAP_API_VERSION of the running module
 * @out_cmds: Bit n set when command ``OBJHEAP_CMD_BASE + n`` is supported
 * @out_features: OBJHEAP_FEATURE_* bits
 * @out_cmd_size: The size of @query_cmd's structure this module knows;
 *                0 when @query_cmd is 0
 * @out_cmd_flags: The flags @query_cmd accepts; 0 when @query_cmd is 0
 *
 * Reports what the running module supports, so that userspace can adapt
 * to an older or newer kernel without guessing from errno values.
 */
struct objheap_query {
	__u32 size;
	__u32 flags;
	__u32 query_cmd;
	__u32 out_version;
	__aligned_u64 out_cmds;
	__aligned_u64 out_features;
	__u32 out_cmd_size;
	__u32 out_cmd_flags;
};
#define OBJHEAP_QUERY _IO(OBJHEAP_TYPE, OBJHEAP_CMD_QUERY)

/**
 * struct objheap_class_stats - One size class of the heap's allocator
 * @block_size: Bytes per block of the class (16, 32, ..., 512)
 * @pools: Pools serving the class
 * @blocks_in_use: Blocks allocated
 * @blocks_free: Blocks of those pools that are not allocated
 *
 * An element of the array OBJHEAP_STATS fills, indexed by class.
 */
struct objheap_class_stats {
	__u32 block_size;
	__u32 pools;
	__aligned_u64 blocks_in_use;
	__aligned_u64 blocks_free;
};

/**
 * struct objheap_stats - ioctl(OBJHEAP_STATS)
 * @size: sizeof(struct objheap_stats)
 * @flags: Must be 0
 * @nr_classes: Capacity of the @classes array, in elements; may be 0
 * @out_nr_classes: The number of size classes.  When @nr_classes is
 *                  smaller, only @nr_classes elements were written: call
 *                  again with this many.
 * @classes: User pointer to an array of struct objheap_class_stats,
 *           filled in class order (block sizes 16, 32, ...)
 * @out_limit: The heap's limit on @out_bytes_held
 * @out_limit_max: The most any heap's limit may be set to (module-wide)
 * @out_bytes_in_use: What the heap uses: every live allocation at its
 *                    size rounded up to 16 bytes, plus @out_bytes_charged
 * @out_bytes_charged: Bytes of the heap's own structures (handle tables,
 *                     hash tables, queues), in use and held alike
 * @out_arena_size: Bytes per arena
 * @out_pool_size: Bytes per pool
 * @out_arenas_allocated: Arenas ever taken from the system
 * @out_arenas_reclaimed: Arenas ever returned to the system
 * @out_arenas_highwater: The most arenas the heap held at once
 * @out_arenas_current: Arenas held now
 * @out_bytes_allocated_blocks: Bytes in allocated blocks
 * @out_bytes_free_blocks: Bytes in free blocks of pools in use
 * @out_bytes_unused_pools: Bytes in the arenas' free pools, whether or not
 *                          they have their memory yet (a pool gets its
 *                          page when it is first used)
 * @out_bytes_pool_headers: Bytes taken by the headers of pools in use
 * @out_bytes_quantization: Bytes at the end of pools in use too small
 *                          for one more block
 * @out_large_objects: Live allocations above 512 bytes (not in arenas)
 * @out_large_bytes: Their bytes
 * @out_bytes_held: What the limit counts: the memory the heap holds,
 *                  whether in use or not.  The pages of every pool that
 *                  was ever used (free pools included), the arenas'
 *                  bookkeeping, each large allocation as the kernel
 *                  rounds it, @out_bytes_charged, and the heap's fixed
 *                  structures.  Always at least @out_bytes_in_use.
 * @out_bytes_pools_held: Of @out_bytes_held, the pages of pools
 * @out_limit_default: A new heap's limit (module parameter ``heap_limit``);
 *                     setting a limit above it needs CAP_SYS_RESOURCE
 * @out_user_bytes_held: What all heaps opened by this heap's user hold
 *                       together (this one included)
 * @out_user_limit: The bound on @out_user_bytes_held (module parameter
 *                  ``user_limit``), or ``(__u64)-1`` when the heap was
 *                  opened with CAP_SYS_RESOURCE and is not bounded
 *
 * The statistics of the heap's allocator, in the shape of CPython's
 * ``sys._debugmallocstats()``.  The five ``out_bytes_*`` counts of pools
 * add up to @out_arenas_current * @out_arena_size.
 *
 * The fields from @out_bytes_held on were added later: a structure that
 * ends at @out_large_bytes (its first version) is accepted and gets the
 * fields it has.
 */
struct objheap_stats {
	__u32 size;
	__u32 flags;
	__u32 nr_classes;
	__u32 out_nr_classes;
	__aligned_u64 classes;
	__aligned_u64 out_limit;
	__aligned_u64 out_limit_max;
	__aligned_u64 out_bytes_in_use;
	__aligned_u64 out_bytes_charged;
	__u32 out_arena_size;
	__u32 out_pool_size;
	__aligned_u64 out_arenas_allocated;
	__aligned_u64 out_arenas_reclaimed;
	__aligned_u64 out_arenas_highwater;
	__aligned_u64 out_arenas_current;
	__aligned_u64 out_bytes_allocated_blocks;
	__aligned_u64 out_bytes_free_blocks;
	__aligned_u64 out_bytes_unused_pools;
	__aligned_u64 out_bytes_pool_headers;
	__aligned_u64 out_bytes_quantization;
	__aligned_u64 out_large_objects;
	__aligned_u64 out_large_bytes;
	__aligned_u64 out_bytes_held;
	__aligned_u64 out_bytes_pools_held;
	__aligned_u64 out_limit_default;
	__aligned_u64 out_user_bytes_held;
	__aligned_u64 out_user_limit;
};
#define OBJHEAP_STATS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_STATS)

/**
 * struct objheap_set_limit - ioctl(OBJHEAP_SET_LIMIT)
 * @size: sizeof(struct objheap_set_limit)
 * @flags: Must be 0
 * @limit: The heap's new limit on the bytes it holds (see struct
 *         objheap_stats, @out_bytes_held).  EINVAL above the module-wide
 *         maximum (@out_limit_max); EPERM above a new heap's limit
 *         (@out_limit_default) unless the caller has CAP_SYS_RESOURCE.
 *         A limit below what is held is accepted: allocations that need
 *         more memory fail with ENOMEM until enough is freed.
 *
 * A new heap's limit is the module parameter ``heap_limit``.  Whatever
 * the heap's limit, the heaps of one user together hold at most the
 * module parameter ``user_limit`` (see struct objheap_stats,
 * @out_user_limit): past it, ENOMEM.
 */
struct objheap_set_limit {
	__u32 size;
	__u32 flags;
	__aligned_u64 limit;
};
#define OBJHEAP_SET_LIMIT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_SET_LIMIT)

/**
 * DOC: Objects and handles
 *
 * An object has a type tag (a u32 chosen by userspace), flags, a number
 * of reference slots and a data payload.  A slot holds a reference to an
 * object of the same heap, or nothing; the slots are the graph the cycle
 * collector traverses.
 *
 * Userspace reaches an object only through its handle: a non-zero u64
 * made of an index into the attachment's table of handles (see DOC:
 * Sharing a heap) and a generation, each masked with a random key of the
 * attachment, so that handle values look random.  A handle whose object
 * has been freed gives ENOENT, even when its table index has been
 * reused.  Handle 0 is "no object" (an empty slot).
 *
 * Every handle the kernel returns owns one reference, like a PyObject *
 * held by C code: OBJHEAP_NEW, OBJHEAP_DUP, OBJHEAP_GET_SLOT and
 * OBJHEAP_INTERN each return one, and OBJHEAP_RELEASE gives one back.  The
 * value of a handle is the object's identity, so the same value may be
 * returned several times, each time with one more reference.  The kernel
 * counts the references userspace holds apart from those held by slots,
 * and refuses with EINVAL a release userspace does not own.  An object is
 * freed when no handle and no slot refers to it any more; freeing it drops
 * what its slots held, iteratively, however long the chain.
 *
 * A handle becomes userspace's only once the structure carrying it has
 * been written back.  When a command that creates an object or returns
 * handles (NEW, DUP, GET_SLOT, INTERN, WEAKREF_NEW, WEAKREF_GET,
 * FINALIZE_DETACH, WEAKREF_LIST, the collector's lists) fails, for any
 * reason and EFAULT included, no object was created, no reference count
 * changed, no weak reference was made and no event was queued: the
 * object was never visible, so nothing of its death (finalization, weak
 * references cleared, events) happens either.  The one trace such a
 * failure may leave is capacity: the heap's object table, intern table
 * and weak table grow before the steps that may fail and are not shrunk
 * back.  Their memory is in @out_bytes_charged of OBJHEAP_STATS.
 */

/* Bit 63 is never set in a handle; see OBJHEAP_BATCH_REF(). */
#define OBJHEAP_HANDLE_BATCH_BIT (1ULL << 63)

/* The most slots an object may have, and the largest payload. */
#define OBJHEAP_MAX_SLOTS (1U << 16)
#define OBJHEAP_MAX_SIZE (1U << 28)

/* The largest reference count; OBJHEAP_INFO reports immortals as ~0U. */
#define OBJHEAP_REFCNT_MAX 0x7fffffffU
#define OBJHEAP_REFCNT_IMMORTAL 0xffffffffU

/**
 * enum objheap_object_flags - Flags of an object
 * @OBJHEAP_OBJ_IMMUTABLE: Payload and slots are fixed at creation:
 *                         OBJHEAP_WRITE and OBJHEAP_SET_SLOT give EPERM.
 * @OBJHEAP_OBJ_IMMORTAL: Reference counting is a no-op (as PEP 683):
 *                        the object lives until the heap goes.
 * @OBJHEAP_OBJ_INTERNED: Set by OBJHEAP_INTERN on the objects it creates;
 *                        reported by OBJHEAP_INFO, never accepted as input.
 * @OBJHEAP_OBJ_WEAKREF: A weak reference (OBJHEAP_WEAKREF_NEW); reported
 *                       only.
 * @OBJHEAP_OBJ_FINALIZER: A weak reference made with
 *                         OBJHEAP_WEAKREF_FINALIZER; reported only.
 * @OBJHEAP_OBJ_FINALIZE: Accepted by OBJHEAP_NEW: PEP 442 finalization.
 *                        The object is handed to userspace once, with an
 *                        OBJHEAP_EVENT_FINALIZE event, when it would
 *                        otherwise be freed (see DOC: Weak references).
 * @OBJHEAP_OBJ_FINALIZED: Its OBJHEAP_EVENT_FINALIZE was queued (or lost);
 *                         it will not be handed out again.  Reported only.
 * @OBJHEAP_OBJ_RESIZABLE: Accepted by OBJHEAP_NEW: the slots and payload
 *                         live apart from the object's header, so that
 *                         OBJHEAP_RESIZE can change their sizes (see DOC:
 *                         Payloads).
 * @OBJHEAP_OBJ_MAPPABLE: Accepted by OBJHEAP_NEW: the payload is whole
 *                        pages of its own, which mmap() can map (see
 *                        DOC: Payloads).
 */
enum objheap_object_flags {
	OBJHEAP_OBJ_IMMUTABLE = 1 << 0,
	OBJHEAP_OBJ_IMMORTAL = 1 << 1,
	OBJHEAP_OBJ_INTERNED = 1 << 2,
	OBJHEAP_OBJ_WEAKREF = 1 << 3,
	OBJHEAP_OBJ_FINALIZER = 1 << 4,
	OBJHEAP_OBJ_FINALIZE = 1 << 5,
	OBJHEAP_OBJ_FINALIZED = 1 << 6,
	OBJHEAP_OBJ_RESIZABLE = 1 << 7,
	OBJHEAP_OBJ_MAPPABLE = 1 << 8,
};

/**
 * struct objheap_new - ioctl(OBJHEAP_NEW)
 * @size: sizeof(struct objheap_new)
 * @flags: OBJHEAP_OBJ_IMMUTABLE, OBJHEAP_OBJ_IMMORTAL,
 *         OBJHEAP_OBJ_FINALIZE, OBJHEAP_OBJ_RESIZABLE and
 *         OBJHEAP_OBJ_MAPPABLE
 * @type: The object's type tag, any value
 * @nslots: Number of reference slots, at most OBJHEAP_MAX_SLOTS
 * @data_len: Payload size in bytes, at most OBJHEAP_MAX_SIZE
 * @__reserved: Must be 0
 * @data_uptr: 0 for a zero-filled payload, or @data_len bytes to copy in
 * @slots_uptr: 0 for empty slots, or @nslots handles (0 for an empty slot)
 *              whose objects the new object's slots will reference
 * @out_handle: The new object's handle, owning its one reference
 * @tag: The allocation tag the object is traced under while the heap
 *       traces its objects (see DOC: Tracing allocations); any value.
 *       Absent (a structure that ends before it) means 0.
 *
 * Creates an object with reference count 1.  An immutable object can only
 * be given its payload and slots here.  Fails with ENOENT when a handle in
 * @slots_uptr is not a live object, with ENOMEM when the heap's limit
 * would be exceeded, and with EFAULT when @data_uptr, @slots_uptr or the
 * structure itself (to write @out_handle) cannot be accessed; nothing is
 * created then, and an object asked with OBJHEAP_OBJ_FINALIZE is not
 * finalized either.
 */
struct objheap_new {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 nslots;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
	__aligned_u64 slots_uptr;
	__aligned_u64 out_handle;
	__aligned_u64 tag;
};
#define OBJHEAP_NEW _IO(OBJHEAP_TYPE, OBJHEAP_CMD_NEW)

/**
 * struct objheap_handle_cmd - ioctl(OBJHEAP_DUP) and ioctl(OBJHEAP_RELEASE)
 * @size: sizeof(struct objheap_handle_cmd)
 * @flags: OBJHEAP_DUP: must be 0.  OBJHEAP_RELEASE: 0 or
 *         OBJHEAP_RELEASE_FORGET.
 * @handle: The object
 * @out_handle: OBJHEAP_DUP: the same handle, owning one more reference.
 *              OBJHEAP_RELEASE: not written.
 *
 * OBJHEAP_DUP adds a reference (EOVERFLOW at OBJHEAP_REFCNT_MAX).
 * OBJHEAP_RELEASE gives one back (EINVAL if userspace holds none) and
 * frees the object if it was the last.
 *
 * A handle outlives the references it owns: while its object lives, it
 * names it (a borrowed handle), and the attachment gets the same value
 * for it again, at the price of an entry in the attachment's table for
 * every object it ever had a handle to.  With OBJHEAP_RELEASE_FORGET, a
 * release that gives back the last reference the attachment owns through
 * @handle frees its entry as well: @handle names nothing from then on
 * (ENOENT, as for a freed object), and a handle to the object got later
 * (from a slot, a name, a list) is a new value.  That is how a structure
 * built through handles and then held only by its slots costs no entry
 * per object (Documentation/objects.rst).  The flag changes nothing for
 * an immortal object, nor for an object whose home is this attachment
 * (the one that created it) when it still needs one: created with
 * OBJHEAP_OBJ_FINALIZE, or a weak reference or finalizer, whose events
 * go to their home.
 */
struct objheap_handle_cmd {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__aligned_u64 out_handle;
};
#define OBJHEAP_DUP _IO(OBJHEAP_TYPE, OBJHEAP_CMD_DUP)
#define OBJHEAP_RELEASE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_RELEASE)
#define OBJHEAP_RELEASE_FORGET (1U << 0)

/**
 * struct objheap_slot - ioctl(OBJHEAP_SET_SLOT) and ioctl(OBJHEAP_GET_SLOT)
 * @size: sizeof(struct objheap_slot)
 * @flags: Must be 0
 * @handle: The object whose slot is meant
 * @index: The slot, below the object's slot count (EINVAL otherwise)
 * @__reserved: Must be 0
 * @target: OBJHEAP_SET_SLOT: the object to store, or 0 to empty the slot.
 *          The slot takes a reference to it and drops the one it held.
 * @out_handle: OBJHEAP_GET_SLOT: the object in the slot, as a handle
 *              owning a new reference, or 0 for an empty slot.
 */
struct objheap_slot {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 index;
	__u32 __reserved;
	__aligned_u64 target;
	__aligned_u64 out_handle;
};
#define OBJHEAP_SET_SLOT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_SET_SLOT)
#define OBJHEAP_GET_SLOT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GET_SLOT)

/**
 * struct objheap_rw - ioctl(OBJHEAP_READ) and ioctl(OBJHEAP_WRITE)
 * @size: sizeof(struct objheap_rw)
 * @flags: Must be 0
 * @handle: The object
 * @offset: Where in the payload
 * @len: How many bytes; @offset + @len must not pass the payload's end
 *       (EINVAL)
 * @buf_uptr: The user buffer of @len bytes
 *
 * Copies between the payload and @buf_uptr.  OBJHEAP_WRITE on an
 * immutable object is EPERM.  If @buf_uptr faults (EFAULT), a write may
 * have changed part of the range.
 *
 * Outside a batch, a copy of more than OBJHEAP_RW_CHUNK bytes is done in
 * pieces of that size, and the heap's lock is given up between pieces, so
 * that other commands on the heap wait for one piece at most.  Each piece
 * is atomic against other commands, the whole is not: a concurrent
 * OBJHEAP_WRITE over the same range may show in some pieces of a READ
 * and not in others.  The object stays alive for the whole copy, but a
 * concurrent OBJHEAP_RESIZE may shrink its payload: a piece that would
 * then pass the end fails the command with EINVAL, after the pieces
 * before it were copied.  A mapping of the payload (see DOC: Payloads) is
 * not ordered against READ and WRITE at all, as with read() and mmap()
 * of one file.
 */
struct objheap_rw {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 offset;
	__u32 len;
	__aligned_u64 buf_uptr;
};
#define OBJHEAP_RW_CHUNK (64U << 10)
#define OBJHEAP_READ _IO(OBJHEAP_TYPE, OBJHEAP_CMD_READ)
#define OBJHEAP_WRITE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_WRITE)

/**
 * struct objheap_info - ioctl(OBJHEAP_INFO)
 * @size: sizeof(struct objheap_info)
 * @flags: Must be 0
 * @handle: The object
 * @out_refcnt: All references: every attachment's handles, slots and
 *              published names; OBJHEAP_REFCNT_IMMORTAL for an immortal
 *              object
 * @out_user_refs: The references the caller's attachment holds through
 *                 its handle
 * @out_type: The type tag
 * @out_flags: OBJHEAP_OBJ_* flags
 * @out_nslots: Number of slots
 * @out_data_len: Payload size
 */
struct objheap_info {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 out_refcnt;
	__u32 out_user_refs;
	__u32 out_type;
	__u32 out_flags;
	__u32 out_nslots;
	__u32 out_data_len;
};
#define OBJHEAP_INFO _IO(OBJHEAP_TYPE, OBJHEAP_CMD_INFO)

/**
 * struct objheap_intern - ioctl(OBJHEAP_INTERN)
 * @size: sizeof(struct objheap_intern)
 * @flags: OBJHEAP_OBJ_IMMORTAL: create the object immortal (as CPython's
 *         small integers); ignored when the object already exists
 * @type: The type tag
 * @data_len: Payload size, at most OBJHEAP_MAX_SIZE
 * @data_uptr: The payload
 * @out_handle: The object, owning one new reference
 *
 * Returns the existing interned object of this type and content, or
 * creates one: immutable, no slots, flagged OBJHEAP_OBJ_INTERNED.  As
 * sys.intern(), the table does not keep objects alive: when the last
 * reference to an interned object goes, so does its entry.
 */
struct objheap_intern {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__aligned_u64 out_handle;
};
#define OBJHEAP_INTERN _IO(OBJHEAP_TYPE, OBJHEAP_CMD_INTERN)

/**
 * DOC: Batches
 *
 * OBJHEAP_BATCH runs a sequence of commands in one system call, under one
 * acquisition of the heap's lock.  Its buffer holds @count entries, each a
 * struct objheap_batch_entry followed at once by the command's own
 * structure (starting with its size, validated exactly as for the single
 * ioctl); the next entry starts at the next multiple of 8 bytes.
 *
 * Only NEW, DUP, RELEASE, SET_SLOT, GET_SLOT, READ, WRITE, INFO, INTERN,
 * WEAKREF_NEW, WEAKREF_GET, RESIZE and SEAL may be batched.  A batch
 * holds the heap's lock from its first entry to its last: its READ and
 * WRITE entries are not split into pieces (OBJHEAP_RW_CHUNK), and its
 * byte bound OBJHEAP_BATCH_MAX_BYTES bounds how long it holds the lock.
 * A handle argument may be OBJHEAP_BATCH_REF(i): the out_handle of entry
 * i of the same batch, which must come earlier, have succeeded and have
 * returned an object (EINVAL otherwise).  An entry that succeeded with
 * out_handle 0 (GET_SLOT of an empty slot, WEAKREF_GET of a dead target)
 * cannot be referred to: a reference always names an object, never "no
 * object".
 *
 * Each entry gets its own result.  Unless OBJHEAP_BATCH_CONTINUE is set,
 * the first failing entry stops the batch and the entries after it get
 * -ECANCELED.
 *
 * Before any entry runs, the kernel pins the pages of the buffer and of
 * the struct objheap_batch for writing, copies the buffer once and checks
 * the layout of every entry and the batch's work budget on that copy; the
 * entries then run from the copy, so changing the buffer during the call
 * changes nothing.  The ioctl fails as a whole only at that stage, with
 * nothing run (see struct objheap_batch for the errnos).  Once entries
 * have run, the whole buffer, outputs and results, and @out_done and
 * @out_failed are always written back: the pinned pages cannot fault, so
 * every handle an entry returned reaches userspace with its reference.
 */
#define OBJHEAP_BATCH_REF(i) (OBJHEAP_HANDLE_BATCH_BIT | (__u64)(__u32)(i))

/* The most entries, and bytes, one batch may hold. */
#define OBJHEAP_BATCH_MAX_COUNT 4096U
#define OBJHEAP_BATCH_MAX_LEN (1U << 20)
/*
 * The most payload bytes one batch's entries may name together (see
 * struct objheap_batch): twice OBJHEAP_MAX_SIZE, so that any one entry
 * fits.
 */
#define OBJHEAP_BATCH_MAX_BYTES (512ULL << 20)

/**
 * struct objheap_batch_entry - One entry of a batch
 * @cmd: The command: OBJHEAP_CMD_NEW ... OBJHEAP_CMD_INTERN,
 *       OBJHEAP_CMD_WEAKREF_NEW, OBJHEAP_CMD_WEAKREF_GET,
 *       OBJHEAP_CMD_RESIZE or OBJHEAP_CMD_SEAL
 * @out_result: 0, or the negative errno the command failed with
 */
struct objheap_batch_entry {
	__u32 cmd;
	__s32 out_result;
};

/**
 * enum objheap_batch_flags - Flags of OBJHEAP_BATCH
 * @OBJHEAP_BATCH_CONTINUE: Run every entry, whatever the earlier ones gave.
 */
enum objheap_batch_flags {
	OBJHEAP_BATCH_CONTINUE = 1 << 0,
};

/**
 * struct objheap_batch - ioctl(OBJHEAP_BATCH)
 * @size: sizeof(struct objheap_batch)
 * @flags: OBJHEAP_BATCH_*
 * @count: Number of entries, 1 to OBJHEAP_BATCH_MAX_COUNT
 * @len: Bytes at @buf_uptr, at most OBJHEAP_BATCH_MAX_LEN
 * @buf_uptr: The entries
 * @out_done: Entries that ran
 * @out_failed: Entries that ran and failed
 *
 * The work budget: the payload bytes the entries name, data_len plus 8
 * bytes per slot for NEW and RESIZE (the sizes it asks for), data_len for
 * INTERN and len for READ and WRITE, added over every entry (whether it
 * runs or not), must not pass OBJHEAP_BATCH_MAX_BYTES.
 *
 * Fails before any entry runs, with the buffer and this structure
 * untouched, with EINVAL when @count or @len is out of range, an entry's
 * command cannot be batched, an entry's structure is below its minimum
 * size or runs past the buffer (sizes and offsets are checked for
 * overflow), the entries do not fill the buffer exactly, or the batch
 * passes the work budget; with EFAULT when the buffer or this structure
 * cannot be pinned for writing (a page not mapped, read-only, or of a
 * device mapping); with ENOMEM.
 *
 * Otherwise returns 0, or EINTR when a fatal signal stopped the batch
 * between two entries: the entries that ran stand and report their
 * results, those left report -ECANCELED, and everything is written back
 * as on success.  The heap is consistent between any two entries.
 */
struct objheap_batch {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 len;
	__aligned_u64 buf_uptr;
	__u32 out_done;
	__u32 out_failed;
};
#define OBJHEAP_BATCH _IO(OBJHEAP_TYPE, OBJHEAP_CMD_BATCH)

/**
 * DOC: The cycle collector
 *
 * Reference counting cannot free cycles; the collector does, with
 * CPython's algorithm over the heap's slots.  Objects that have slots and
 * are not immortal are tracked, in generation 0 at first; a collection of
 * generation g examines generations 0 to g, frees what no handle and no
 * object outside them can reach, and moves the survivors to generation
 * g + 1.  Automatic collections run when generation 0's count passes its
 * threshold, as in CPython, in the command that created the tracked
 * object that made it pass: OBJHEAP_NEW of an object with slots, or
 * OBJHEAP_WEAKREF_NEW (weak references are tracked, as CPython tracks
 * weakref.ref objects and may collect when one is allocated).  They run
 * once the command has succeeded and do not change its result.
 *
 * By default a collection of the oldest generation runs in one go, in
 * that command.  With OBJHEAP_GC_SET_MODE's OBJHEAP_GC_INCREMENTAL it
 * runs in increments of bounded work instead, one after each young
 * collection, and commands run between them: an automatic collection
 * then takes at most a young collection and an increment.  A write
 * barrier in every command that takes a reference keeps it from freeing
 * anything a program can reach; garbage made while it runs goes at the
 * next one.  Documentation/gc.rst gives the design and the argument.
 *
 * Two more automatic collections, which CPython has not, are full ones,
 * and run only when a reference was dropped, leaving its object alive,
 * since the last full collection (without such a drop there can be no
 * garbage):
 *
 *  - At the limit.  When OBJHEAP_NEW (alone or in a batch) fails with
 *    ENOMEM because the heap's limit or its user's bound refused memory,
 *    the heap collects, and tries the creation once more if that freed
 *    anything.  A heap at its limit with no garbage pays for one futile
 *    collection, not one per command.
 *  - Under memory pressure.  When the system, or the memory cgroup the
 *    heap's opener was in, is short of memory, the kernel's reclaim asks
 *    objheap's shrinker, which has a worker collect such heaps and give
 *    back the free arena each keeps (the worker takes the heap's lock as
 *    a command would).
 *
 * Neither runs while automatic collection is off (OBJHEAP_GC_DISABLE, or
 * a threshold of 0 for generation 0).  OBJHEAP_GC_GET_STATS counts both,
 * and what the shrinker made the heap give back.
 *
 * The commands below mirror Python's gc module.
 *
 * Lists (OBJHEAP_GC_GET_OBJECTS, _GET_REFERRERS, _GET_REFERENTS,
 * _GET_GARBAGE) are written to a user buffer of @count handles; each
 * handle written owns one reference, as every handle the kernel returns.
 * When @count is too small the command fails with EMSGSIZE and sets
 * @out_count to the number needed.  When a listed object's count is at
 * OBJHEAP_REFCNT_MAX it fails with EOVERFLOW, and when the buffer cannot
 * be written with EFAULT; either way it takes no reference, whatever it
 * had written before.
 */

#define OBJHEAP_GC_GENERATIONS 3

/**
 * enum objheap_gc_debug - Debug flags of the collector, as gc.set_debug()
 * @OBJHEAP_GC_DEBUG_STATS: A kernel log line for each collection,
 *                          rate-limited; every collection is also
 *                          traced (tracepoint objheap:objheap_gc_done).
 * @OBJHEAP_GC_DEBUG_SAVEALL: Unreachable objects are not freed but kept,
 *                            each with one reference, on the garbage list
 *                            (OBJHEAP_GC_GET_GARBAGE, _CLEAR_GARBAGE).
 */
enum objheap_gc_debug {
	OBJHEAP_GC_DEBUG_STATS = 1 << 0,
	OBJHEAP_GC_DEBUG_SAVEALL = 1 << 5,
};

/**
 * struct objheap_gc_collect - ioctl(OBJHEAP_GC_COLLECT)
 * @size: sizeof(struct objheap_gc_collect)
 * @flags: Must be 0
 * @generation: Collect generations 0 to @generation (0, 1 or 2; 2 is a
 *              full collection)
 * @__reserved: Must be 0
 * @out_collected: Unreachable objects freed (or saved with
 *                 OBJHEAP_GC_DEBUG_SAVEALL).  An unreachable set kept
 *                 alive for PEP 442 finalization is not counted (as in
 *                 CPython); the collection that frees it counts it.
 * @out_uncollectable: Unreachable objects that could not be freed
 * @out_elapsed_ns: The collection's duration
 *
 * Runs whether or not automatic collection is enabled.  EINTR when the
 * task is killed while the collection still marks: nothing is freed, the
 * counts and statistics are unchanged, the younger generations' objects
 * examined are left in @generation, and the OBJHEAP_EVENT_GC_STOP that
 * follows the GC_START reports 0 collected.  Once it frees, it finishes.
 *
 * In the incremental mode, a full collection ends the collection running,
 * if any, then runs one of every generation, giving the heap's lock up
 * between increments; @out_elapsed_ns is then the collector's time, not
 * the call's.  Killed, it gives the running collection up as above.
 */
struct objheap_gc_collect {
	__u32 size;
	__u32 flags;
	__u32 generation;
	__u32 __reserved;
	__aligned_u64 out_collected;
	__aligned_u64 out_uncollectable;
	__aligned_u64 out_elapsed_ns;
};
#define OBJHEAP_GC_COLLECT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_COLLECT)

/**
 * struct objheap_gc_value - One value in or out of the collector
 * @size: sizeof(struct objheap_gc_value)
 * @flags: Must be 0
 * @value: OBJHEAP_GC_SET_DEBUG: OBJHEAP_GC_DEBUG_* flags (others EINVAL).
 *         Must be 0 for the other commands.
 * @out_value: OBJHEAP_GC_ISENABLED: 1 or 0.  OBJHEAP_GC_GET_DEBUG: the
 *             debug flags.  OBJHEAP_GC_GET_FREEZE_COUNT: the objects in
 *             the permanent generation.  Others: not written.
 *
 * Used by OBJHEAP_GC_ENABLE and _DISABLE (automatic collection),
 * _ISENABLED, _FREEZE (move every tracked object to the permanent
 * generation, which is never collected; unlike CPython's, it walks the
 * objects it moves, which keeps the count of each generation exact),
 * _UNFREEZE (move them back to the oldest generation, the same way),
 * _GET_FREEZE_COUNT, _SET_DEBUG, _GET_DEBUG and
 * _CLEAR_GARBAGE (give back the references the garbage list holds; what
 * is unreachable then goes at the next collection).
 */
struct objheap_gc_value {
	__u32 size;
	__u32 flags;
	__u32 value;
	__u32 out_value;
};
#define OBJHEAP_GC_ENABLE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_ENABLE)
#define OBJHEAP_GC_DISABLE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_DISABLE)
#define OBJHEAP_GC_ISENABLED _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_ISENABLED)
#define OBJHEAP_GC_FREEZE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_FREEZE)
#define OBJHEAP_GC_UNFREEZE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_UNFREEZE)
#define OBJHEAP_GC_GET_FREEZE_COUNT \
	_IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_FREEZE_COUNT)
#define OBJHEAP_GC_SET_DEBUG _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_SET_DEBUG)
#define OBJHEAP_GC_GET_DEBUG _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_DEBUG)
#define OBJHEAP_GC_CLEAR_GARBAGE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_CLEAR_GARBAGE)

/**
 * struct objheap_gc_threshold - ioctl(OBJHEAP_GC_GET_THRESHOLD) and
 *                               ioctl(OBJHEAP_GC_SET_THRESHOLD)
 * @size: sizeof(struct objheap_gc_threshold)
 * @flags: Must be 0
 * @threshold: SET: the thresholds of the three generations (default 700,
 *             10, 10); a threshold 0 for generation 0 stops automatic
 *             collection.  GET: must be 0.
 * @__reserved: Must be 0
 * @out_threshold: GET: the thresholds.  SET: not written.
 * @__reserved2: Must be 0
 */
struct objheap_gc_threshold {
	__u32 size;
	__u32 flags;
	__u32 threshold[OBJHEAP_GC_GENERATIONS];
	__u32 __reserved;
	__u32 out_threshold[OBJHEAP_GC_GENERATIONS];
	__u32 __reserved2;
};
#define OBJHEAP_GC_GET_THRESHOLD _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_THRESHOLD)
#define OBJHEAP_GC_SET_THRESHOLD _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_SET_THRESHOLD)

/**
 * struct objheap_gc_count - ioctl(OBJHEAP_GC_GET_COUNT)
 * @size: sizeof(struct objheap_gc_count)
 * @flags: Must be 0
 * @out_count: Generation 0: tracked objects created minus tracked objects
 *             freed since its last collection.  Generations 1 and 2: the
 *             collections of the generation below since their last one.
 * @__reserved: Must be 0
 */
struct objheap_gc_count {
	__u32 size;
	__u32 flags;
	__u32 out_count[OBJHEAP_GC_GENERATIONS];
	__u32 __reserved;
};
#define OBJHEAP_GC_GET_COUNT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_COUNT)

/**
 * struct objheap_gc_gen_stats - What the collections of one generation did
 * @collections: Collections of this generation (and the younger ones)
 * @collected: Unreachable objects they freed (or saved)
 * @uncollectable: Unreachable objects they could not free
 */
struct objheap_gc_gen_stats {
	__aligned_u64 collections;
	__aligned_u64 collected;
	__aligned_u64 uncollectable;
};

/**
 * struct objheap_gc_stats - ioctl(OBJHEAP_GC_GET_STATS)
 * @size: sizeof(struct objheap_gc_stats)
 * @flags: Must be 0
 * @out_gen: Per generation, as gc.get_stats()
 * @out_collections: Collections that ran to the end, of any generation
 * @out_longest_ns: The longest of them, in nanoseconds (or of the
 *                  increments of an incremental one): the longest pause
 *                  the collector imposed on the heap's commands
 * @out_limit_collections: Full collections run because creating an object
 *                         met the heap's limit (or its user's bound) while
 *                         garbage could exist (the creation is tried once
 *                         more when it freed anything; see DOC: The cycle
 *                         collector)
 * @out_pressure_collections: Full collections run because the system or
 *                            the heap's memory cgroup was short of memory
 *                            (the shrinker)
 * @out_pressure_freed: Bytes the heap gave back for the shrinker: what
 *                      those collections freed and the free arenas it
 *                      kept
 * @out_total_ns: The time all collections took, in nanoseconds: every
 *                collection that stops the world and every increment of
 *                an incremental one
 *
 * A structure that ends at @out_gen, its first version, is accepted and
 * gets the figures it has room for.
 */
struct objheap_gc_stats {
	__u32 size;
	__u32 flags;
	struct objheap_gc_gen_stats out_gen[OBJHEAP_GC_GENERATIONS];
	__aligned_u64 out_collections;
	__aligned_u64 out_longest_ns;
	__aligned_u64 out_limit_collections;
	__aligned_u64 out_pressure_collections;
	__aligned_u64 out_pressure_freed;
	__aligned_u64 out_total_ns;
};
#define OBJHEAP_GC_GET_STATS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_STATS)

/**
 * struct objheap_gc_list - ioctl(OBJHEAP_GC_GET_OBJECTS),
 *     ioctl(OBJHEAP_GC_GET_REFERRERS), ioctl(OBJHEAP_GC_GET_REFERENTS) and
 *     ioctl(OBJHEAP_GC_GET_GARBAGE)
 * @size: sizeof(struct objheap_gc_list)
 * @flags: Must be 0
 * @handle: GET_REFERRERS: the tracked objects with a slot holding this
 *          object, each once.  GET_REFERENTS: what this object's slots
 *          hold, in slot order, duplicates included.  Otherwise must be 0.
 * @generation: GET_OBJECTS: the tracked objects of generation 0, 1 or 2,
 *              or of all three with OBJHEAP_GC_ALL_GENERATIONS (frozen
 *              objects are in none).  Otherwise must be 0.
 * @count: Handles @buf_uptr has room for
 * @buf_uptr: The handles are written here, each owning one reference
 * @out_count: Handles written, or needed (EMSGSIZE)
 * @__reserved: Must be 0
 */
struct objheap_gc_list {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 generation;
	__u32 count;
	__aligned_u64 buf_uptr;
	__u32 out_count;
	__u32 __reserved;
};
#define OBJHEAP_GC_ALL_GENERATIONS 0xffffffffU
#define OBJHEAP_GC_GET_OBJECTS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_OBJECTS)
#define OBJHEAP_GC_GET_REFERRERS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_REFERRERS)
#define OBJHEAP_GC_GET_REFERENTS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_REFERENTS)
#define OBJHEAP_GC_GET_GARBAGE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_GARBAGE)

/**
 * struct objheap_gc_object - ioctl(OBJHEAP_GC_IS_TRACKED)
 * @size: sizeof(struct objheap_gc_object)
 * @flags: Must be 0
 * @handle: The object
 * @out_tracked: 1 when the collector tracks it (it has slots, is a weak
 *               reference or is resizable, and is neither immortal nor
 *               interned), else 0
 * @__reserved: Must be 0
 */
struct objheap_gc_object {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 out_tracked;
	__u32 __reserved;
};
#define OBJHEAP_GC_IS_TRACKED _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_IS_TRACKED)

/**
 * enum objheap_gc_mode_value - How a heap collects its oldest generation
 * @OBJHEAP_GC_STOP_THE_WORLD: In one command, as CPython 3.12 does (the
 *                             default).
 * @OBJHEAP_GC_INCREMENTAL: In increments of bounded work, one after each
 *                          young collection, while the heap's commands
 *                          run between them; the younger generations are
 *                          collected as before.  Documentation/gc.rst
 *                          tells how.
 */
enum objheap_gc_mode_value {
	OBJHEAP_GC_STOP_THE_WORLD = 0,
	OBJHEAP_GC_INCREMENTAL = 1,
};

/**
 * enum objheap_gc_phase - Where an incremental collection is
 * @OBJHEAP_GC_PHASE_IDLE: None is running.
 * @OBJHEAP_GC_PHASE_COUNT: Taking each object's reference count.
 * @OBJHEAP_GC_PHASE_SUBTRACT: Taking away the references the examined
 *                             objects hold to each other.
 * @OBJHEAP_GC_PHASE_WALK: Following the references of what is reachable.
 * @OBJHEAP_GC_PHASE_SWEEP: Freeing the garbage found.
 */
enum objheap_gc_phase {
	OBJHEAP_GC_PHASE_IDLE = 0,
	OBJHEAP_GC_PHASE_COUNT = 1,
	OBJHEAP_GC_PHASE_SUBTRACT = 2,
	OBJHEAP_GC_PHASE_WALK = 3,
	OBJHEAP_GC_PHASE_SWEEP = 4,
};

/* The budget of an increment when none is set, and the largest one. */
#define OBJHEAP_GC_BUDGET_DEFAULT 32768
#define OBJHEAP_GC_BUDGET_MAX (1U << 24)

/**
 * struct objheap_gc_mode - ioctl(OBJHEAP_GC_SET_MODE) and
 *                          ioctl(OBJHEAP_GC_GET_MODE)
 * @size: sizeof(struct objheap_gc_mode)
 * @flags: Must be 0
 * @mode: SET_MODE: an OBJHEAP_GC_* mode value (others EINVAL).  GET_MODE:
 *        must be 0.
 * @budget: SET_MODE: the work of one increment, in objects examined plus
 *          slots followed; 0 for OBJHEAP_GC_BUDGET_DEFAULT, at most
 *          OBJHEAP_GC_BUDGET_MAX (else EINVAL).  GET_MODE: must be 0.
 * @out_mode: GET_MODE: the mode
 * @out_budget: GET_MODE: the budget
 * @out_phase: GET_MODE: an OBJHEAP_GC_PHASE_* value
 * @__reserved: Must be 0
 * @out_increments: GET_MODE: increments run since the heap was opened
 * @out_cycles: GET_MODE: incremental collections that ran to their end
 * @out_aborted: GET_MODE: incremental collections given up: by a command
 *               that needs every generation's objects on its list
 *               (FREEZE, UNFREEZE, GET_OBJECTS, GET_REFERRERS, SET_MODE
 *               back to stop-the-world, a collection at the heap's
 *               limit), or because an object found unreachable was
 *               mapped meanwhile
 * @out_longest_increment_ns: GET_MODE: the longest increment
 *
 * Switching to stop-the-world gives up a collection in progress (the
 * garbage it was freeing is freed first).  The mode is the heap's, for
 * every attachment; a read-only attachment may read it, not set it.
 */
struct objheap_gc_mode {
	__u32 size;
	__u32 flags;
	__u32 mode;
	__u32 budget;
	__u32 out_mode;
	__u32 out_budget;
	__u32 out_phase;
	__u32 __reserved;
	__aligned_u64 out_increments;
	__aligned_u64 out_cycles;
	__aligned_u64 out_aborted;
	__aligned_u64 out_longest_increment_ns;
};
#define OBJHEAP_GC_SET_MODE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_SET_MODE)
#define OBJHEAP_GC_GET_MODE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_GC_GET_MODE)

/**
 * DOC: Weak references
 *
 * A weak reference is an object of the heap, flagged OBJHEAP_OBJ_WEAKREF,
 * with no slots and no payload: it can be held, duplicated, released and
 * stored in slots like any object, but it does not keep its target alive.
 * OBJHEAP_WEAKREF_GET returns a new reference to the target while it
 * lives, and handle 0 once it is dead.  A weak reference cannot target
 * another weak reference (EINVAL).
 *
 * A target's weak references are cleared when it dies: when its count
 * reaches zero, or, for an unreachable set found by the collector, before
 * any object of the set is freed (CPython's handle_weakrefs()).  A weak
 * reference made with OBJHEAP_WEAKREF_CALLBACK then queues an
 * OBJHEAP_EVENT_WEAKREF carrying its cookie, unless it is itself part of
 * the unreachable set: like CPython, garbage weak references are cleared
 * without a callback, before anything is freed, even when their target
 * is not garbage itself but dies because only the garbage held it.  A
 * weak reference that dies before its target queues nothing.
 *
 * A finalizer (OBJHEAP_WEAKREF_FINALIZER, as Python's weakref.finalize)
 * is a weak reference the heap itself keeps alive until it fires or is
 * detached, so userspace may release its handle at once.  When its target
 * dies it queues one OBJHEAP_EVENT_FINALIZER and is dead.  It cannot
 * resurrect: the event carries no reference to the target.
 * OBJHEAP_FINALIZE_DETACH and OBJHEAP_FINALIZE_ALIVE are its detach() and
 * alive.
 *
 * PEP 442: an object created with OBJHEAP_OBJ_FINALIZE is handed to
 * userspace once, instead of being freed, with an OBJHEAP_EVENT_FINALIZE
 * whose handle owns one new reference.  On a count reaching zero the
 * object alone survives (its weak references are not cleared, as in
 * CPython).  In a collection, after the weak references to the
 * unreachable set are cleared, every object of the set flagged
 * OBJHEAP_OBJ_FINALIZE and not yet OBJHEAP_OBJ_FINALIZED is handed out,
 * and then the whole set survives that collection, moved to the next
 * older generation.  What userspace keeps stays alive; what it drops is
 * freed by a later collection, without a second event.
 */

/**
 * enum objheap_weakref_flags - Flags of OBJHEAP_WEAKREF_NEW
 * @OBJHEAP_WEAKREF_CALLBACK: Queue OBJHEAP_EVENT_WEAKREF when cleared.
 * @OBJHEAP_WEAKREF_FINALIZER: Make a finalizer: the heap holds it until it
 *                             fires (OBJHEAP_EVENT_FINALIZER) or is
 *                             detached.
 */
enum objheap_weakref_flags {
	OBJHEAP_WEAKREF_CALLBACK = 1 << 0,
	OBJHEAP_WEAKREF_FINALIZER = 1 << 1,
};

/**
 * struct objheap_weakref - ioctl(OBJHEAP_WEAKREF_NEW),
 *     ioctl(OBJHEAP_WEAKREF_GET), ioctl(OBJHEAP_FINALIZE_DETACH) and
 *     ioctl(OBJHEAP_FINALIZE_ALIVE)
 * @size: sizeof(struct objheap_weakref)
 * @flags: NEW: OBJHEAP_WEAKREF_*.  Others: must be 0.
 * @handle: NEW: the target, an object that is not a weak reference.
 *          Others: the weak reference (a finalizer for DETACH and ALIVE,
 *          EINVAL otherwise).
 * @cookie: NEW: any value, carried by the events the weak reference
 *          queues.  Others: must be 0.
 * @__reserved: Must be 0
 * @out_alive: GET, ALIVE: 1 while the target lives and, for a finalizer,
 *             it has neither fired nor been detached; else 0.  DETACH: 1
 *             when this call detached it, 0 when it was already dead.
 *             NEW: not written.
 * @out_handle: NEW: the new weak reference, owning one reference.  GET:
 *              the target, owning a new reference, or 0 once it is dead.
 *              DETACH: the target, owning a new reference, when @out_alive
 *              is 1, else 0.  ALIVE: not written.
 */
struct objheap_weakref {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__aligned_u64 cookie;
	__u32 __reserved;
	__u32 out_alive;
	__aligned_u64 out_handle;
};
#define OBJHEAP_WEAKREF_NEW _IO(OBJHEAP_TYPE, OBJHEAP_CMD_WEAKREF_NEW)
#define OBJHEAP_WEAKREF_GET _IO(OBJHEAP_TYPE, OBJHEAP_CMD_WEAKREF_GET)
#define OBJHEAP_FINALIZE_DETACH _IO(OBJHEAP_TYPE, OBJHEAP_CMD_FINALIZE_DETACH)
#define OBJHEAP_FINALIZE_ALIVE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_FINALIZE_ALIVE)

/**
 * struct objheap_weakref_list - ioctl(OBJHEAP_WEAKREF_COUNT) and
 *                               ioctl(OBJHEAP_WEAKREF_LIST)
 * @size: sizeof(struct objheap_weakref_list)
 * @flags: Must be 0
 * @handle: The target
 * @count: LIST: handles @buf_uptr has room for.  COUNT: must be 0.
 * @out_count: The target's weak references that are not cleared
 *             (finalizers included), as weakref.getweakrefcount(); LIST:
 *             handles written, or needed (EMSGSIZE).
 * @buf_uptr: LIST: the weak references' handles are written here, oldest
 *            first, each owning one reference.  COUNT: must be 0.
 */
struct objheap_weakref_list {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 count;
	__u32 out_count;
	__aligned_u64 buf_uptr;
};
#define OBJHEAP_WEAKREF_COUNT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_WEAKREF_COUNT)
#define OBJHEAP_WEAKREF_LIST _IO(OBJHEAP_TYPE, OBJHEAP_CMD_WEAKREF_LIST)

/**
 * DOC: The event queue
 *
 * Deaths, objects sent, attachments gone and, when asked for,
 * collections are reported through each attachment's file, to the
 * attachment concerned: read() returns whole struct objheap_event
 * records, oldest first, as many as fit in the buffer (EINVAL when not
 * even one fits); with nothing pending it blocks, or fails with EAGAIN
 * on an O_NONBLOCK file.  A buffer that faults is EFAULT and takes nothing from the queue
 * (records copied before the fault are returned); neither waiting nor
 * copying holds the heap's lock, so other commands on the heap go on.
 * A blocking read() interrupted by a signal fails with EINTR (or is
 * restarted, as the signal's SA_RESTART says).  poll(), select() and
 * epoll report EPOLLIN while a record is pending.  Besides mmap() of
 * payloads (see DOC: Payloads), the file has no other file operations:
 * lseek() is ESPIPE and write() EINVAL.
 *
 * The queue's memory counts against the heap's limit.  When an event
 * cannot be queued it is lost, never silently: the next record queued
 * says in @lost how many were lost just before it, and when the queue
 * runs dry after a loss, read() returns an OBJHEAP_EVENT_LOST record.
 * Closing an attachment discards what is pending in its queue; a
 * reference a pending OBJHEAP_EVENT_RECEIVED or _FINALIZE carries is
 * then dropped with the attachment's others.
 */

/**
 * enum objheap_event_type - What a record reports
 * @OBJHEAP_EVENT_LOST: Only @lost is meaningful: that many events were
 *                      lost after the previous record.
 * @OBJHEAP_EVENT_WEAKREF: A weak reference made with
 *                         OBJHEAP_WEAKREF_CALLBACK was cleared.
 * @OBJHEAP_EVENT_FINALIZER: A finalizer fired.
 * @OBJHEAP_EVENT_FINALIZE: PEP 442: @handle is the object, owning one new
 *                          reference.
 * @OBJHEAP_EVENT_GC_START: A collection of @generation starts.
 * @OBJHEAP_EVENT_GC_STOP: It ended: @generation, @collected,
 *                         @uncollectable and @duration_ns as
 *                         OBJHEAP_GC_COLLECT reports them.
 * @OBJHEAP_EVENT_RECEIVED: Another attachment sent an object with
 *                          OBJHEAP_SEND: @handle is the object, owning one
 *                          new reference of this attachment.
 * @OBJHEAP_EVENT_DETACHED: Another attachment of the heap went away; what
 *                          it held was dropped (see DOC: Sharing a heap).
 */
enum objheap_event_type {
	OBJHEAP_EVENT_LOST = 0,
	OBJHEAP_EVENT_WEAKREF = 1,
	OBJHEAP_EVENT_FINALIZER = 2,
	OBJHEAP_EVENT_FINALIZE = 3,
	OBJHEAP_EVENT_GC_START = 4,
	OBJHEAP_EVENT_GC_STOP = 5,
	OBJHEAP_EVENT_RECEIVED = 6,
	OBJHEAP_EVENT_DETACHED = 7,
};

/**
 * enum objheap_event_reason - Why an object died
 * @OBJHEAP_REASON_REFCOUNT: Its reference count reached zero outside a
 *                           collection.
 * @OBJHEAP_REASON_GC: During a collection: it was unreachable, or only
 *                     unreachable objects held it.
 */
enum objheap_event_reason {
	OBJHEAP_REASON_REFCOUNT = 1,
	OBJHEAP_REASON_GC = 2,
};

/**
 * struct objheap_event - One record read() returns
 * @type: OBJHEAP_EVENT_*
 * @reason: WEAKREF, FINALIZER, FINALIZE: OBJHEAP_REASON_*.  Others: 0.
 * @lost: Events lost between the previous record and this one
 * @cookie: WEAKREF, FINALIZER: the cookie given at creation.  RECEIVED:
 *          the cookie the sender gave.  DETACHED: the pid of the process
 *          that made the attachment that went (the opener, or the caller
 *          of OBJHEAP_ATTACH), in the pid namespace of the process that
 *          made the receiving attachment; 0 when that namespace cannot
 *          see it.
 *          Others: 0.
 * @handle: WEAKREF, FINALIZER: the weak reference's handle, owning no
 *          reference (it names nothing once that is freed, as a finalizer
 *          is when it fires unless userspace holds it).  FINALIZE,
 *          RECEIVED: the object, owning one reference.  Others: 0.
 * @target_type: WEAKREF, FINALIZER, FINALIZE: the type tag of the object
 *               that died.  RECEIVED: the type tag of the object sent.
 *               Others: 0.
 * @generation: GC_START, GC_STOP: the generation collected.  RECEIVED:
 *              the sender's attachment id.  DETACHED: the id of the
 *              attachment that went.  Others: 0.
 * @collected: GC_STOP: unreachable objects freed (or saved), as
 *             @out_collected of OBJHEAP_GC_COLLECT.  DETACHED: the
 *             references the attachment held through handles, all
 *             dropped.  Others: 0.
 * @uncollectable: GC_STOP: unreachable objects that could not be freed.
 *                 Others: 0.
 * @duration_ns: GC_STOP: the collection's duration.  Others: 0.
 */
struct objheap_event {
	__u32 type;
	__u32 reason;
	__aligned_u64 lost;
	__aligned_u64 cookie;
	__aligned_u64 handle;
	__u32 target_type;
	__u32 generation;
	__aligned_u64 collected;
	__aligned_u64 uncollectable;
	__aligned_u64 duration_ns;
};

/**
 * enum objheap_event_mask - Optional events, OBJHEAP_EVENT_CTL's @mask
 * @OBJHEAP_EVENTS_GC: OBJHEAP_EVENT_GC_START and _GC_STOP for every
 *                     collection, as Python's gc.callbacks.
 */
enum objheap_event_mask {
	OBJHEAP_EVENTS_GC = 1 << 0,
};

/**
 * enum objheap_event_ctl_flags - Flags of OBJHEAP_EVENT_CTL
 * @OBJHEAP_EVENT_CTL_SET_MASK: Set the optional events to @mask.
 */
enum objheap_event_ctl_flags {
	OBJHEAP_EVENT_CTL_SET_MASK = 1 << 0,
};

/**
 * struct objheap_event_ctl - ioctl(OBJHEAP_EVENT_CTL)
 * @size: sizeof(struct objheap_event_ctl)
 * @flags: OBJHEAP_EVENT_CTL_SET_MASK, or 0 to only read the state
 * @mask: With OBJHEAP_EVENT_CTL_SET_MASK, OBJHEAP_EVENTS_* bits (others
 *        EINVAL).  Otherwise must be 0.
 * @out_mask: The optional events enabled, after the call
 * @out_queued: Records pending in the queue
 * @out_lost: Events lost since the attachment was made
 * @out_bytes: Bytes the queue holds, counted against the heap's limit
 */
struct objheap_event_ctl {
	__u32 size;
	__u32 flags;
	__u32 mask;
	__u32 out_mask;
	__aligned_u64 out_queued;
	__aligned_u64 out_lost;
	__aligned_u64 out_bytes;
};
#define OBJHEAP_EVENT_CTL _IO(OBJHEAP_TYPE, OBJHEAP_CMD_EVENT_CTL)

/**
 * DOC: Sharing a heap
 *
 * A heap may be used by several processes at once.  Each use is an
 * *attachment*: a file of its own with its own handles, its own
 * references and its own event queue.  open("/dev/objheap") makes a heap
 * and its first attachment; OBJHEAP_ATTACH makes another and returns its
 * file descriptor, which the process hands to another one (SCM_RIGHTS
 * over a unix socket, or inheritance across fork() and exec()).  There is
 * no name by which a process could reach a heap it was not given.  A
 * process that forks shares its attachments with the child, as it shares
 * any open file: the two then hold the same handles and references.
 *
 * Handles belong to their attachment.  Each attachment numbers its
 * handles itself, with keys of its own (see DOC: Objects and handles),
 * so a handle's value says nothing about any other attachment, and a
 * handle of one attachment is ENOENT in every other: it could name an
 * object there only by a chance below 2^-31 per handle tried, as for any
 * guessed value.
 * Within its attachment a handle names its object from the moment the
 * attachment is given it until the object dies, as in a heap of one
 * attachment.
 *
 * An object reaches another attachment only by being passed: sent with
 * OBJHEAP_SEND, which queues an OBJHEAP_EVENT_RECEIVED in the other
 * attachment carrying a handle of its own that owns one reference, or
 * published under a name (OBJHEAP_PUBLISH) that any attachment of the
 * heap may look up (OBJHEAP_LOOKUP).  A published object is held by the
 * heap itself until OBJHEAP_UNPUBLISH, so it outlives the attachment
 * that published it.
 *
 * An attachment made with OBJHEAP_ATTACH_READONLY may look objects up,
 * follow slots, read payloads, take and give back its own references,
 * send and receive, and read the heap's state.  It may not create
 * objects, write payloads, set slots, publish or unpublish names, change
 * the heap's limit or the collector's settings, clear its garbage list
 * or detach finalizers: OBJHEAP_NEW, _WRITE, _SET_SLOT, _INTERN,
 * _WEAKREF_NEW, _FINALIZE_DETACH, _SET_LIMIT, _GC_ENABLE, _GC_DISABLE,
 * _GC_SET_THRESHOLD, _GC_FREEZE, _GC_UNFREEZE, _GC_SET_DEBUG,
 * _GC_CLEAR_GARBAGE, _PUBLISH, _UNPUBLISH, _RESIZE and _SEAL give it
 * EPERM, alone or as an entry of a batch, and it maps payloads only
 * without PROT_WRITE.  Its own attachments must be read-only too
 * (OBJHEAP_ATTACH without OBJHEAP_ATTACH_READONLY is EPERM): rights only
 * narrow as they are passed on.
 *
 * When an attachment's file is closed for the last time (close(), exit,
 * SIGKILL, the OOM killer), the heap drops every reference the
 * attachment held through handles.  Its weak references stop queueing
 * events and its finalizers are detached, neither firing; objects it
 * created with OBJHEAP_OBJ_FINALIZE will not be handed out again.  What
 * only it held is freed at once, with the usual weak-reference events in
 * the other attachments; cycles it leaves behind are found by the next
 * collection, since the collector's roots are every attachment's
 * references and the published names.  Each remaining attachment then
 * gets one OBJHEAP_EVENT_DETACHED.  The heap's lock is given up now and
 * then during this cleanup, so the other attachments keep working.  The
 * heap itself goes with its last attachment.
 *
 * The collector's settings, statistics and limit are the heap's, shared
 * by all its attachments; OBJHEAP_EVENTS_GC is asked for by each
 * attachment for its own queue.  The list commands return handles of
 * the calling attachment.
 */

/* The most attachments a heap may have at once. */
#define OBJHEAP_ATTACH_MAX 1024

/**
 * enum objheap_attach_flags - Flags of OBJHEAP_ATTACH
 * @OBJHEAP_ATTACH_READONLY: The new attachment is read-only.  A read-only
 *                           attachment must give this flag (else EPERM).
 */
enum objheap_attach_flags {
	OBJHEAP_ATTACH_READONLY = 1 << 0,
};

/**
 * struct objheap_attach - ioctl(OBJHEAP_ATTACH)
 * @size: sizeof(struct objheap_attach)
 * @flags: OBJHEAP_ATTACH_*
 * @out_fd: The new attachment's file descriptor, opened O_RDWR |
 *          O_CLOEXEC (clear FD_CLOEXEC to keep it across exec())
 * @out_id: The new attachment's id, unique in its heap for the heap's
 *          life.  Ids start at 1 (the opener's attachment); 0 is never
 *          an id.
 *
 * Makes a new attachment of the caller's heap, with no handles.  Its
 * memory, as that of its table and queue, is in @out_bytes_charged of
 * OBJHEAP_STATS.  Fails
 * with ENOSPC when the heap has OBJHEAP_ATTACH_MAX attachments, EMFILE
 * when the process has no free descriptor, ENOMEM (the attachment counts
 * against the heap's limit), and EPERM as above.  When copying the
 * structure back fails (EFAULT) no descriptor is left open.
 */
struct objheap_attach {
	__u32 size;
	__u32 flags;
	__u32 out_fd;
	__u32 out_id;
};
#define OBJHEAP_ATTACH _IO(OBJHEAP_TYPE, OBJHEAP_CMD_ATTACH)

/**
 * struct objheap_attach_info - ioctl(OBJHEAP_ATTACH_INFO)
 * @size: sizeof(struct objheap_attach_info)
 * @flags: Must be 0
 * @id: The attachment to describe, or 0 for the caller's own
 * @out_id: Its id
 * @out_flags: OBJHEAP_ATTACH_* flags it was made with
 * @out_attached: The heap's attachments, the caller's included
 * @out_pid: The pid of the process that made it, as the caller's
 *           pid namespace sees it (0 when it cannot)
 * @__reserved: Must be 0
 * @out_handles: Objects it has a handle for
 * @out_refs: References it holds through handles, those carried by
 *            records still in its queue included
 * @out_created: Objects it has created (NEW, INTERN of a new value,
 *               WEAKREF_NEW)
 *
 * Fails with ESRCH when no attachment of the caller's heap has @id (it
 * never existed or has gone).
 */
struct objheap_attach_info {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 out_id;
	__u32 out_flags;
	__u32 out_attached;
	__u32 out_pid;
	__u32 __reserved;
	__aligned_u64 out_handles;
	__aligned_u64 out_refs;
	__aligned_u64 out_created;
};
#define OBJHEAP_ATTACH_INFO _IO(OBJHEAP_TYPE, OBJHEAP_CMD_ATTACH_INFO)

/**
 * struct objheap_send - ioctl(OBJHEAP_SEND)
 * @size: sizeof(struct objheap_send)
 * @flags: Must be 0
 * @handle: The object to send, a handle of the caller
 * @cookie: Passed to the receiver in its event
 * @to: The id of the attachment to send to (not the caller's own)
 * @__reserved: Must be 0
 *
 * Queues an OBJHEAP_EVENT_RECEIVED in attachment @to whose handle owns
 * one new reference of @to.  The caller's own reference is unchanged.
 * Fails with ESRCH when @to names no attachment of the heap (or has
 * gone), EINVAL when it is the caller's own, EOVERFLOW when the object's
 * count is full, ENOMEM when @to's queue cannot take the record: then
 * nothing was sent.  Nothing is counted lost.
 */
struct objheap_send {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__aligned_u64 cookie;
	__u32 to;
	__u32 __reserved;
};
#define OBJHEAP_SEND _IO(OBJHEAP_TYPE, OBJHEAP_CMD_SEND)

/* A name's longest length, and the most names a heap may hold. */
#define OBJHEAP_NAME_MAX 256
#define OBJHEAP_NAMES_MAX 65536

/**
 * struct objheap_name - ioctl(OBJHEAP_PUBLISH), (OBJHEAP_LOOKUP) and
 *                       (OBJHEAP_UNPUBLISH)
 * @size: sizeof(struct objheap_name)
 * @flags: Must be 0
 * @name_uptr: The name: any bytes, 1 to OBJHEAP_NAME_MAX of them
 * @name_len: Its length
 * @__reserved: Must be 0
 * @handle: PUBLISH: the object to publish.  Others: must be 0.
 * @out_handle: LOOKUP: the object published under the name, owning one
 *              new reference.  Others: 0.
 *
 * PUBLISH makes the heap hold one reference to the object under the name
 * (the caller's own is unchanged); EEXIST when the name is taken, ENOSPC
 * when the heap holds OBJHEAP_NAMES_MAX names, EOVERFLOW when the
 * object's count is full, ENOMEM.  LOOKUP and UNPUBLISH give ENOENT for
 * a name nothing is published under; UNPUBLISH drops the heap's
 * reference, which may free the object.  A name's memory counts against
 * the heap's limit, in @out_bytes_charged of OBJHEAP_STATS.  PUBLISH and
 * UNPUBLISH give EPERM in a read-only attachment.
 */
struct objheap_name {
	__u32 size;
	__u32 flags;
	__aligned_u64 name_uptr;
	__u32 name_len;
	__u32 __reserved;
	__aligned_u64 handle;
	__aligned_u64 out_handle;
};
#define OBJHEAP_PUBLISH _IO(OBJHEAP_TYPE, OBJHEAP_CMD_PUBLISH)
#define OBJHEAP_LOOKUP _IO(OBJHEAP_TYPE, OBJHEAP_CMD_LOOKUP)
#define OBJHEAP_UNPUBLISH _IO(OBJHEAP_TYPE, OBJHEAP_CMD_UNPUBLISH)

/**
 * DOC: Payloads
 *
 * An object's payload is reached in three ways: copied with OBJHEAP_READ
 * and OBJHEAP_WRITE, mapped into the caller's address space, and, for a
 * resizable object, grown and shrunk in place.
 *
 * Mapping.  An object created with OBJHEAP_OBJ_MAPPABLE keeps its payload
 * in pages of its own (the pages, rounded up from its length, and an
 * array of pointers to them count against the heap's limit and are
 * charged to the memory cgroup of the task that created or grew it).
 * OBJHEAP_MAP_OFFSET gives the caller's attachment an offset for it, and
 * mmap() of the attachment's file at that offset, plus a multiple of the
 * page size, maps pages of the payload:
 *
 *  - Only MAP_SHARED: mappings, READ and WRITE of every attachment and
 *    process see the same bytes.  MAP_PRIVATE is EINVAL.
 *  - An offset is the attachment's own: another attachment's offsets, an
 *    offset of a dead object and a range that passes the payload's last
 *    page are ENXIO.  Bytes of the last page past the payload's end read
 *    as zero; what is stored there is not part of the payload and is
 *    cleared when OBJHEAP_RESIZE extends the payload over it.
 *  - PROT_WRITE is EACCES on an immutable (or sealed) object and in a
 *    read-only attachment.  A mapping made without PROT_WRITE never
 *    becomes writable: mprotect() to add it is EACCES.  mremap() cannot
 *    grow a mapping (EFAULT).
 *  - A mapping holds the object alive: the object is freed when every
 *    reference and every mapping is gone, whatever the order of
 *    OBJHEAP_RELEASE, munmap(), close() and exit().  Mappings are not
 *    counted in OBJHEAP_INFO's out_refcnt until they are all that holds
 *    the object; from then until the last of them goes, their hold shows
 *    there as one reference.  The first command on the heap after the
 *    last munmap() sees the object freed.  fork() copies
 *    mappings as usual; each copy holds the object too.  A mapped object
 *    with slots is a root for the collector: what it refers to stays.
 *  - An offset stays valid as long as the object lives, even after the
 *    attachment gave back its references; the attachment may map the
 *    object again with it, which takes a new hold.  When no mapping and
 *    no reference is left the object dies, and so does its offset.
 *
 * Resizing.  OBJHEAP_RESIZE changes the slot count or payload length of
 * an object created with OBJHEAP_OBJ_RESIZABLE.  Its handle stays.  Its
 * slots and payload live in a block of their own, which moves only when
 * the new size no longer fits, or when a smaller block would save at
 * least a quarter of it; growing leaves an eighth of room for the next
 * growth, as CPython's lists do.  A mappable payload grows and shrinks by
 * pages instead, and cannot change while it is mapped.
 *
 * Sealing.  OBJHEAP_SEAL makes an object immutable from then on, as if it
 * had been created with OBJHEAP_OBJ_IMMUTABLE, and can enter it into the
 * intern table.
 */

/**
 * enum objheap_resize_flags - What OBJHEAP_RESIZE changes
 * @OBJHEAP_RESIZE_SLOTS: The slot count, to @nslots.  Slots past the new
 *                        count drop their references (which may free
 *                        objects); new slots are empty.
 * @OBJHEAP_RESIZE_DATA: The payload's length, to @data_len.  The payload
 *                       is kept up to the smaller length; new bytes are
 *                       zero.
 */
enum objheap_resize_flags {
	OBJHEAP_RESIZE_SLOTS = 1 << 0,
	OBJHEAP_RESIZE_DATA = 1 << 1,
};

/**
 * struct objheap_resize - ioctl(OBJHEAP_RESIZE)
 * @size: sizeof(struct objheap_resize)
 * @flags: OBJHEAP_RESIZE_SLOTS, OBJHEAP_RESIZE_DATA, or both; at least one
 * @handle: The object
 * @nslots: The new slot count, at most OBJHEAP_MAX_SLOTS
 * @data_len: The new payload length, at most OBJHEAP_MAX_SIZE
 *
 * Fails with EINVAL when no flag is given or the object was not created
 * with OBJHEAP_OBJ_RESIZABLE, EPERM when it is immutable, EBUSY when the
 * payload would change while a mapping of it exists, and ENOMEM; the
 * object is then exactly as it was.  Changing only the slots of a mapped
 * object is allowed.
 */
struct objheap_resize {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__u32 nslots;
	__u32 data_len;
};
#define OBJHEAP_RESIZE _IO(OBJHEAP_TYPE, OBJHEAP_CMD_RESIZE)

/**
 * enum objheap_seal_flags - Flags of OBJHEAP_SEAL
 * @OBJHEAP_SEAL_INTERN: Also intern the sealed object: see
 *                       struct objheap_seal.
 */
enum objheap_seal_flags {
	OBJHEAP_SEAL_INTERN = 1 << 0,
};

/**
 * struct objheap_seal - ioctl(OBJHEAP_SEAL)
 * @size: sizeof(struct objheap_seal)
 * @flags: OBJHEAP_SEAL_*
 * @handle: The object
 * @out_handle: With OBJHEAP_SEAL_INTERN: the interned object of the same
 *              type and payload, owning one new reference.  That is the
 *              object itself, now flagged OBJHEAP_OBJ_INTERNED, unless an
 *              equal object was interned before.  Not written otherwise.
 *
 * Makes the object immutable: OBJHEAP_WRITE, OBJHEAP_SET_SLOT and
 * OBJHEAP_RESIZE give EPERM from then on, and mmap() with PROT_WRITE
 * EACCES.  Sealing an immutable object changes nothing.  Fails with EBUSY
 * while a mapping made with PROT_WRITE exists, and, with
 * OBJHEAP_SEAL_INTERN, with EINVAL when the object cannot be interned
 * (it has slots, is mappable, is a weak reference or was created with
 * OBJHEAP_OBJ_FINALIZE) and with EBUSY while it is on the collector's
 * garbage list (OBJHEAP_GC_DEBUG_SAVEALL); the object is then not sealed
 * either.
 */
struct objheap_seal {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__aligned_u64 out_handle;
};
#define OBJHEAP_SEAL _IO(OBJHEAP_TYPE, OBJHEAP_CMD_SEAL)

/**
 * struct objheap_map_offset - ioctl(OBJHEAP_MAP_OFFSET)
 * @size: sizeof(struct objheap_map_offset)
 * @flags: Must be 0
 * @handle: The object, created with OBJHEAP_OBJ_MAPPABLE (EINVAL
 *          otherwise)
 * @out_offset: The offset to give mmap() for the payload's first page: a
 *              multiple of the page size, the same each time the
 *              attachment asks while the object lives
 * @out_data_len: The payload's length now
 * @__reserved: Must be 0
 *
 * Fails with ENOSPC when the attachment has no offset left: a program
 * of 64 bits may hold offsets for 2^24 live objects at once, a program of
 * 32 bits for 65535 (so that its offsets fit the off_t of mmap()).
 */
struct objheap_map_offset {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__aligned_u64 out_offset;
	__u32 out_data_len;
	__u32 __reserved;
};
#define OBJHEAP_MAP_OFFSET _IO(OBJHEAP_TYPE, OBJHEAP_CMD_MAP_OFFSET)

/**
 * DOC: Tracing allocations
 *
 * What tracemalloc is to CPython: while a heap traces, every object it
 * creates records the allocation tag its creator gave in struct
 * objheap_new's @tag (objects made by other commands get tag 0) and the
 * attachment that created it, and the heap counts objects and bytes per
 * pair of tag and type, kept apart for each attachment (the processes
 * sharing a heap are told apart; a "pair" is thus a triple).  The tag is
 * userspace's to choose: a call site, a type, a request.  Bytes are an
 * object's footprint: its block, the block of a resizable object's slots
 * and payload, and a mappable payload's pages; RESIZE moves them.
 *
 * OBJHEAP_TRACE_CTL starts and stops tracing, resets the peak and reports
 * the totals.  Objects that already exist when tracing starts are not
 * traced, as with tracemalloc.start().  With a sampling period N above 1,
 * an object is traced with probability 1/N (the gaps between traced
 * objects are drawn uniformly from 1 to 2N - 1), and every count and
 * byte figure is that of the traced objects only: multiply by N for an
 * estimate, whose relative error for a pair of n objects is about
 * sqrt(N / n).
 *
 * A trace costs a 32-bit word per block of each pool of the heap's
 * allocator that has held a traced object since tracing started (a pool
 * that empties keeps its words for the next objects of its size; 8
 * bytes at the end of the block of a traced object above 512 bytes),
 * plus 44 bytes per pair.  A heap
 * counts at most OBJHEAP_TRACE_PAIRS_MAX pairs, the last kept for
 * OBJHEAP_TAG_OTHER with type and attachment 0: once the others are
 * taken, objects of a new pair are counted under it.  All of it is
 * charged to the heap's limit, and creating an object fails with ENOMEM
 * rather than go untraced.
 *
 * OBJHEAP_TRACE_SNAPSHOT keeps the counts of every pair as they are, in
 * the kernel (at most OBJHEAP_TRACE_SNAPSHOTS_MAX at once), and
 * OBJHEAP_TRACE_ROWS reads them, or the live counts, optionally beside
 * those of an earlier snapshot: the rows of a compare_to().  Sorting,
 * grouping by tag, type or attachment, and filters are libobjheap's.
 * OBJHEAP_TRACE_TAG tells the pair of one object.  Stopping drops the
 * counts and the snapshots, and gives back the memory of the pools'
 * words.
 */

#define OBJHEAP_TRACE_PAIRS_MAX		65536
#define OBJHEAP_TRACE_SNAPSHOTS_MAX	16
#define OBJHEAP_TAG_OTHER		(~0ULL)

/**
 * enum objheap_trace_op - What OBJHEAP_TRACE_CTL does
 * @OBJHEAP_TRACE_GET: Report only.
 * @OBJHEAP_TRACE_START: Start tracing, with sampling period
 *                       @sample_every (0 and 1: every object); EBUSY if
 *                       the heap traces already.
 * @OBJHEAP_TRACE_STOP: Stop tracing: the counts, the snapshots and the
 *                      pools' words are dropped.  Stopping a heap that
 *                      does not trace does nothing.
 * @OBJHEAP_TRACE_RESET_PEAK: Make the peak the bytes traced now.
 */
enum objheap_trace_op {
	OBJHEAP_TRACE_GET = 0,
	OBJHEAP_TRACE_START = 1,
	OBJHEAP_TRACE_STOP = 2,
	OBJHEAP_TRACE_RESET_PEAK = 3,
};

/**
 * struct objheap_trace_ctl - ioctl(OBJHEAP_TRACE_CTL)
 * @size: sizeof(struct objheap_trace_ctl)
 * @flags: Must be 0
 * @op: An enum objheap_trace_op
 * @sample_every: OBJHEAP_TRACE_START: the sampling period, at most
 *                2^24; 0 otherwise
 * @out_traced_bytes: Bytes of the traced objects alive, after @op
 * @out_peak_bytes: The most @out_traced_bytes has been since tracing
 *                  started or the peak was reset
 * @out_traced_objects: Traced objects alive
 * @out_pairs: Pairs counted since tracing started
 * @out_sample_every: The sampling period, 0 when the heap does not trace
 * @out_snapshots: Snapshots held
 * @__reserved: Must be 0
 *
 * A read-only attachment may only use OBJHEAP_TRACE_GET (EPERM).
 */
struct objheap_trace_ctl {
	__u32 size;
	__u32 flags;
	__u32 op;
	__u32 sample_every;
	__aligned_u64 out_traced_bytes;
	__aligned_u64 out_peak_bytes;
	__aligned_u64 out_traced_objects;
	__u32 out_pairs;
	__u32 out_sample_every;
	__u32 out_snapshots;
	__u32 __reserved;
};
#define OBJHEAP_TRACE_CTL _IO(OBJHEAP_TYPE, OBJHEAP_CMD_TRACE_CTL)

/**
 * enum objheap_trace_snapshot_flags - Flags of OBJHEAP_TRACE_SNAPSHOT
 * @OBJHEAP_SNAPSHOT_DROP: Drop snapshot @id instead of taking one.
 */
enum objheap_trace_snapshot_flags {
	OBJHEAP_SNAPSHOT_DROP = 1 << 0,
};

/**
 * struct objheap_trace_snapshot - ioctl(OBJHEAP_TRACE_SNAPSHOT)
 * @size: sizeof(struct objheap_trace_snapshot)
 * @flags: 0 to take a snapshot, or OBJHEAP_SNAPSHOT_DROP
 * @id: OBJHEAP_SNAPSHOT_DROP: the snapshot to drop; 0 otherwise
 * @out_id: The new snapshot's id, from 1 to OBJHEAP_TRACE_SNAPSHOTS_MAX
 *
 * Fails with ENODATA when the heap does not trace, ENOSPC when it holds
 * OBJHEAP_TRACE_SNAPSHOTS_MAX snapshots, ENOENT when there is no
 * snapshot @id, and ENOMEM.  Snapshots belong to the heap, not to the
 * attachment that took them.
 */
struct objheap_trace_snapshot {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 out_id;
};
#define OBJHEAP_TRACE_SNAPSHOT _IO(OBJHEAP_TYPE, OBJHEAP_CMD_TRACE_SNAPSHOT)

/**
 * struct objheap_trace_row - One pair of OBJHEAP_TRACE_ROWS
 * @tag: The allocation tag
 * @type: The objects' type
 * @attachment: The attachment that created the objects
 *              (struct objheap_attach_info's @out_id); 0 in the pair of
 *              OBJHEAP_TAG_OTHER
 * @count: Traced objects alive of the pair, in the snapshot read (or now)
 * @bytes: Their bytes
 * @base_count: The same in the base snapshot; 0 without one
 * @base_bytes: The same in the base snapshot; 0 without one
 */
struct objheap_trace_row {
	__aligned_u64 tag;
	__u32 type;
	__u32 attachment;
	__aligned_u64 count;
	__aligned_u64 bytes;
	__aligned_u64 base_count;
	__aligned_u64 base_bytes;
};

/**
 * struct objheap_trace_rows - ioctl(OBJHEAP_TRACE_ROWS)
 * @size: sizeof(struct objheap_trace_rows)
 * @flags: Must be 0
 * @snapshot: The snapshot to read, or 0 for the counts now
 * @base: A snapshot to read beside it, or 0
 * @start: The first pair to look at: 0, then the last call's @out_next
 * @nrows: Room in @rows_uptr, in rows; at most 4096
 * @rows_uptr: An array of @nrows struct objheap_trace_row
 * @out_nrows: Rows written
 * @out_next: Where the next call starts; @out_pairs when all were read
 * @out_pairs: Pairs the heap counts
 * @__reserved: Must be 0
 *
 * Writes one row per pair with a non-zero figure, in no particular order.
 * Pairs keep their place while the heap traces, so a reader that goes on
 * from @out_next misses none.  Fails with ENODATA when the heap does not
 * trace, ENOENT when @snapshot or @base is no snapshot, EINVAL when
 * @nrows is 0 or too big, EFAULT.
 */
struct objheap_trace_rows {
	__u32 size;
	__u32 flags;
	__u32 snapshot;
	__u32 base;
	__u32 start;
	__u32 nrows;
	__aligned_u64 rows_uptr;
	__u32 out_nrows;
	__u32 out_next;
	__u32 out_pairs;
	__u32 __reserved;
};
#define OBJHEAP_TRACE_ROWS _IO(OBJHEAP_TYPE, OBJHEAP_CMD_TRACE_ROWS)

#define OBJHEAP_TRACE_ROWS_MAX	4096

/**
 * enum objheap_trace_tag_flags - What OBJHEAP_TRACE_TAG found
 * @OBJHEAP_TAG_TRACED: The object is traced: @out_tag, @out_type and
 *                      @out_attachment are its pair.  Without it, all
 *                      three are 0.
 */
enum objheap_trace_tag_flags {
	OBJHEAP_TAG_TRACED = 1 << 0,
};

/**
 * struct objheap_trace_tag - ioctl(OBJHEAP_TRACE_TAG)
 * @size: sizeof(struct objheap_trace_tag)
 * @flags: Must be 0
 * @handle: The object
 * @out_tag: Its allocation tag (OBJHEAP_TAG_OTHER past the pairs' bound)
 * @out_type: Its type
 * @out_flags: OBJHEAP_TAG_TRACED, or 0 when it is not traced (created
 *             before tracing started, sampled out, or the heap does not
 *             trace)
 * @out_attachment: The id of the attachment that created it (0 past the
 *                  pairs' bound); a command of 32 bytes, as before
 *                  attachments were recorded, is not told
 * @__reserved: Written 0
 *
 * What tracemalloc.get_object_traceback() is to CPython.
 */
struct objheap_trace_tag {
	__u32 size;
	__u32 flags;
	__aligned_u64 handle;
	__aligned_u64 out_tag;
	__u32 out_type;
	__u32 out_flags;
	__u32 out_attachment;
	__u32 __reserved;
};
#define OBJHEAP_TRACE_TAG _IO(OBJHEAP_TYPE, OBJHEAP_CMD_TRACE_TAG)

#endif /* _UAPI_LINUX_OBJHEAP_H */
