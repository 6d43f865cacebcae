// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer over every command and the heap's file operations.  Random
 * ioctl numbers (every command, unknown numbers, wrong encodings), sizes
 * (0, short, exact, longer with a zero or a non-zero tail, past the end
 * of the mapping), structures filled field by field with interesting and
 * random values (live, stale, random and batch handles; NULL, unmapped,
 * read-only, kernel and half-mapped pointers; lengths and counts at and
 * around the limits), then sometimes corrupted byte by byte; random
 * batches; read(), write(), poll() and lseek() on the file; and mmap()
 * of payloads at the offsets OBJHEAP_MAP_OFFSET gave and at others, with
 * mprotect(), mremap() and munmap() of what was mapped.
 *
 * Each errno must be one uapi/linux/objheap.h documents for the command:
 * the table below is built from the header's comments (the general ioctl
 * format, then each structure's).  A batch that runs must give each entry
 * 0, -ECANCELED, or an errno of that entry's command.  Every few thousand
 * calls the heap is checked (the allocator's checker, a full collection,
 * the collector's lists against the object count, the allocator's
 * statistics identity), closed, and the module must then hold nothing.
 *
 * Environment: OBJHEAP_SEED (default from the clock), OBJHEAP_FUZZ_SEEDS
 * (heaps, one seed each), OBJHEAP_FUZZ_ITERS (calls per seed).
 */
#define _GNU_SOURCE
/* Offsets are 64 bits wide, in a 32-bit program too (mmap2's pgoff). */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define NR_CMDS		(OBJHEAP_CMD_GC_GET_MODE - OBJHEAP_CMD_BASE + 1)
#define CMD(nr)		((nr) - OBJHEAP_CMD_BASE)
#define ARENA_SIZE	(256 * 1024)
#define POOL		64
#define FUZZ_LIMIT	(64ULL << 20)
#define MAPS		8

/* The errnos of the general ioctl format, as bits. */
enum {
	A_E2BIG = 1 << 0, A_EINVAL = 1 << 1, A_EFAULT = 1 << 2,
	A_ENOENT = 1 << 3, A_ENOMEM = 1 << 4, A_EPERM = 1 << 5,
	A_EOVERFLOW = 1 << 6, A_EMSGSIZE = 1 << 7, A_EOPNOTSUPP = 1 << 8,
	A_ECANCELED = 1 << 9, A_ESRCH = 1 << 10, A_EEXIST = 1 << 11,
	A_ENOSPC = 1 << 12, A_EMFILE = 1 << 13, A_EBUSY = 1 << 14,
	A_ENODATA = 1 << 15,
};

static u32 errno_bit(int e)
{
	switch (e) {
	case E2BIG: return A_E2BIG;
	case EINVAL: return A_EINVAL;
	case EFAULT: return A_EFAULT;
	case ENOENT: return A_ENOENT;
	case ENOMEM: return A_ENOMEM;
	case EPERM: return A_EPERM;
	case EOVERFLOW: return A_EOVERFLOW;
	case EMSGSIZE: return A_EMSGSIZE;
	case EOPNOTSUPP: return A_EOPNOTSUPP;
	case ECANCELED: return A_ECANCELED;
	case ESRCH: return A_ESRCH;
	case EEXIST: return A_EEXIST;
	case ENOSPC: return A_ENOSPC;
	case EMFILE: return A_EMFILE;
	case EBUSY: return A_EBUSY;
	case ENODATA: return A_ENODATA;
	}
	return 0;
}

/*
 * Every command: E2BIG, EINVAL and EFAULT (DOC: General ioctl format).
 * Then ENOENT where a handle is read, ENOMEM where the heap allocates,
 * EPERM where an immutable object would change, EOVERFLOW where a
 * reference is taken, EMSGSIZE for lists, EOPNOTSUPP for QUERY; ESRCH,
 * EEXIST, ENOSPC and EMFILE where DOC: Sharing a heap's commands say;
 * EBUSY where DOC: Payloads' commands say (RESIZE of a mapped payload,
 * SEAL of an object mapped with PROT_WRITE), ENOSPC for MAP_OFFSET.
 * SEAL takes a reference with OBJHEAP_SEAL_INTERN (EOVERFLOW) and may
 * grow the intern table (ENOMEM); it is never EPERM in the fuzzer's
 * attachment, which is not read-only, since sealing an immutable object
 * changes nothing.  DOC: Tracing allocations: TRACE_CTL is EBUSY when
 * starting twice and ENOMEM when starting; TRACE_SNAPSHOT ENODATA when
 * the heap does not trace, ENOSPC when full, ENOENT for an unknown id,
 * ENOMEM; TRACE_ROWS ENODATA and ENOENT; TRACE_TAG ENOENT.
 */
#define BASIC (A_E2BIG | A_EINVAL | A_EFAULT)
static const u32 allowed[NR_CMDS] = {
	[CMD(OBJHEAP_CMD_QUERY)] = BASIC | A_EOPNOTSUPP,
	[CMD(OBJHEAP_CMD_STATS)] = BASIC,
	[CMD(OBJHEAP_CMD_SET_LIMIT)] = BASIC,
	[CMD(OBJHEAP_CMD_NEW)] = BASIC | A_ENOENT | A_ENOMEM | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_DUP)] = BASIC | A_ENOENT | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_RELEASE)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_SET_SLOT)] = BASIC | A_ENOENT | A_EPERM | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_GET_SLOT)] = BASIC | A_ENOENT | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_READ)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_WRITE)] = BASIC | A_ENOENT | A_EPERM,
	[CMD(OBJHEAP_CMD_INFO)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_INTERN)] = BASIC | A_ENOMEM | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_BATCH)] = BASIC | A_ENOMEM,
	[CMD(OBJHEAP_CMD_GC_COLLECT)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_ENABLE)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_DISABLE)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_ISENABLED)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_THRESHOLD)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_SET_THRESHOLD)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_COUNT)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_STATS)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_FREEZE)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_UNFREEZE)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_FREEZE_COUNT)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_OBJECTS)] = BASIC | A_EMSGSIZE | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_GC_GET_REFERRERS)] = BASIC | A_ENOENT | A_EMSGSIZE | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_GC_GET_REFERENTS)] = BASIC | A_ENOENT | A_EMSGSIZE | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_GC_IS_TRACKED)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_GC_SET_DEBUG)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_DEBUG)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_GARBAGE)] = BASIC | A_EMSGSIZE | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_GC_CLEAR_GARBAGE)] = BASIC,
	[CMD(OBJHEAP_CMD_WEAKREF_NEW)] = BASIC | A_ENOENT | A_ENOMEM,
	[CMD(OBJHEAP_CMD_WEAKREF_GET)] = BASIC | A_ENOENT | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_WEAKREF_COUNT)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_WEAKREF_LIST)] = BASIC | A_ENOENT | A_EMSGSIZE | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_FINALIZE_DETACH)] = BASIC | A_ENOENT | A_EOVERFLOW,
	[CMD(OBJHEAP_CMD_FINALIZE_ALIVE)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_EVENT_CTL)] = BASIC,
	[CMD(OBJHEAP_CMD_ATTACH)] = BASIC | A_EPERM | A_ENOSPC | A_EMFILE | A_ENOMEM,
	[CMD(OBJHEAP_CMD_ATTACH_INFO)] = BASIC | A_ESRCH,
	[CMD(OBJHEAP_CMD_SEND)] = BASIC | A_ENOENT | A_ESRCH | A_EOVERFLOW | A_ENOMEM,
	[CMD(OBJHEAP_CMD_PUBLISH)] = BASIC | A_ENOENT | A_EEXIST | A_ENOSPC |
				       A_EOVERFLOW | A_ENOMEM,
	[CMD(OBJHEAP_CMD_LOOKUP)] = BASIC | A_ENOENT | A_EOVERFLOW | A_ENOMEM,
	[CMD(OBJHEAP_CMD_UNPUBLISH)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_RESIZE)] = BASIC | A_ENOENT | A_EPERM | A_EBUSY |
				    A_ENOMEM,
	[CMD(OBJHEAP_CMD_SEAL)] = BASIC | A_ENOENT | A_EBUSY | A_EOVERFLOW |
				  A_ENOMEM,
	[CMD(OBJHEAP_CMD_MAP_OFFSET)] = BASIC | A_ENOENT | A_ENOSPC | A_ENOMEM,
	[CMD(OBJHEAP_CMD_TRACE_CTL)] = BASIC | A_EBUSY | A_ENOMEM,
	[CMD(OBJHEAP_CMD_TRACE_SNAPSHOT)] = BASIC | A_ENODATA | A_ENOSPC |
					    A_ENOENT | A_ENOMEM,
	[CMD(OBJHEAP_CMD_TRACE_ROWS)] = BASIC | A_ENODATA | A_ENOENT,
	[CMD(OBJHEAP_CMD_TRACE_TAG)] = BASIC | A_ENOENT,
	[CMD(OBJHEAP_CMD_GC_SET_MODE)] = BASIC,
	[CMD(OBJHEAP_CMD_GC_GET_MODE)] = BASIC,
};

/* What a field of a structure holds, for the generator. */
enum kind {
	K_END, K_HANDLE, K_UPTR, K_SLOTS_UPTR, K_LEN, K_COUNT, K_FLAGS,
	K_RES, K_OUT, K_U32, K_GEN, K_CMDNR, K_LIMIT, K_U64, K_NAMELEN,
	K_TAG, K_TRACE_OP, K_PERIOD, K_SNAPSHOT, K_ROWS_UPTR,
};

struct field {
	u32 off, size;
	enum kind kind;
};

struct cmd_desc {
	const char *name;
	u32 size;
	u32 flags;		/* the flags the header documents */
	bool batchable;
	struct field f[8];
};

#define FLD(s, m, k) { offsetof(struct s, m), sizeof(((struct s *)0)->m), k }

static const struct cmd_desc cmds[NR_CMDS] = {
	[CMD(OBJHEAP_CMD_QUERY)] = { "QUERY", sizeof(struct objheap_query), 0, false,
		{ FLD(objheap_query, query_cmd, K_CMDNR), FLD(objheap_query, out_version, K_OUT),
		  FLD(objheap_query, out_cmds, K_OUT) } },
	[CMD(OBJHEAP_CMD_STATS)] = { "STATS", sizeof(struct objheap_stats), 0, false,
		{ FLD(objheap_stats, nr_classes, K_COUNT), FLD(objheap_stats, classes, K_UPTR),
		  FLD(objheap_stats, out_limit, K_OUT) } },
	[CMD(OBJHEAP_CMD_SET_LIMIT)] = { "SET_LIMIT", sizeof(struct objheap_set_limit), 0, false,
		{ FLD(objheap_set_limit, limit, K_LIMIT) } },
	[CMD(OBJHEAP_CMD_NEW)] = { "NEW", sizeof(struct objheap_new),
		OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_IMMORTAL | OBJHEAP_OBJ_FINALIZE |
		OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_MAPPABLE, true,
		{ FLD(objheap_new, type, K_U32), FLD(objheap_new, nslots, K_COUNT),
		  FLD(objheap_new, data_len, K_LEN), FLD(objheap_new, __reserved, K_RES),
		  FLD(objheap_new, data_uptr, K_UPTR), FLD(objheap_new, slots_uptr, K_SLOTS_UPTR),
		  FLD(objheap_new, out_handle, K_OUT), FLD(objheap_new, tag, K_TAG) } },
	[CMD(OBJHEAP_CMD_DUP)] = { "DUP", sizeof(struct objheap_handle_cmd), 0, true,
		{ FLD(objheap_handle_cmd, handle, K_HANDLE),
		  FLD(objheap_handle_cmd, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_RELEASE)] = { "RELEASE", sizeof(struct objheap_handle_cmd),
		OBJHEAP_RELEASE_FORGET, true,
		{ FLD(objheap_handle_cmd, handle, K_HANDLE),
		  FLD(objheap_handle_cmd, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_SET_SLOT)] = { "SET_SLOT", sizeof(struct objheap_slot), 0, true,
		{ FLD(objheap_slot, handle, K_HANDLE), FLD(objheap_slot, index, K_COUNT),
		  FLD(objheap_slot, __reserved, K_RES), FLD(objheap_slot, target, K_HANDLE),
		  FLD(objheap_slot, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_GET_SLOT)] = { "GET_SLOT", sizeof(struct objheap_slot), 0, true,
		{ FLD(objheap_slot, handle, K_HANDLE), FLD(objheap_slot, index, K_COUNT),
		  FLD(objheap_slot, __reserved, K_RES), FLD(objheap_slot, target, K_RES),
		  FLD(objheap_slot, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_READ)] = { "READ", sizeof(struct objheap_rw), 0, true,
		{ FLD(objheap_rw, handle, K_HANDLE), FLD(objheap_rw, offset, K_LEN),
		  FLD(objheap_rw, len, K_LEN), FLD(objheap_rw, buf_uptr, K_UPTR) } },
	[CMD(OBJHEAP_CMD_WRITE)] = { "WRITE", sizeof(struct objheap_rw), 0, true,
		{ FLD(objheap_rw, handle, K_HANDLE), FLD(objheap_rw, offset, K_LEN),
		  FLD(objheap_rw, len, K_LEN), FLD(objheap_rw, buf_uptr, K_UPTR) } },
	[CMD(OBJHEAP_CMD_INFO)] = { "INFO", sizeof(struct objheap_info), 0, true,
		{ FLD(objheap_info, handle, K_HANDLE), FLD(objheap_info, out_refcnt, K_OUT) } },
	[CMD(OBJHEAP_CMD_INTERN)] = { "INTERN", sizeof(struct objheap_intern),
		OBJHEAP_OBJ_IMMORTAL, true,
		{ FLD(objheap_intern, type, K_U32), FLD(objheap_intern, data_len, K_LEN),
		  FLD(objheap_intern, data_uptr, K_UPTR), FLD(objheap_intern, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_BATCH)] = { "BATCH", sizeof(struct objheap_batch),
		OBJHEAP_BATCH_CONTINUE, false,
		{ FLD(objheap_batch, count, K_COUNT), FLD(objheap_batch, len, K_LEN),
		  FLD(objheap_batch, buf_uptr, K_UPTR), FLD(objheap_batch, out_done, K_OUT) } },
	[CMD(OBJHEAP_CMD_GC_COLLECT)] = { "GC_COLLECT", sizeof(struct objheap_gc_collect), 0, false,
		{ FLD(objheap_gc_collect, generation, K_GEN),
		  FLD(objheap_gc_collect, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_ENABLE)] = { "GC_ENABLE", sizeof(struct objheap_gc_value), 0, false,
		{ FLD(objheap_gc_value, value, K_RES), FLD(objheap_gc_value, out_value, K_OUT) } },
	[CMD(OBJHEAP_CMD_GC_DISABLE)] = { "GC_DISABLE", sizeof(struct objheap_gc_value), 0, false,
		{ FLD(objheap_gc_value, value, K_RES), FLD(objheap_gc_value, out_value, K_OUT) } },
	[CMD(OBJHEAP_CMD_GC_ISENABLED)] = { "GC_ISENABLED", sizeof(struct objheap_gc_value), 0,
		false, { FLD(objheap_gc_value, value, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_THRESHOLD)] = { "GC_GET_THRESHOLD",
		sizeof(struct objheap_gc_threshold), 0, false,
		{ FLD(objheap_gc_threshold, threshold[0], K_RES),
		  FLD(objheap_gc_threshold, __reserved, K_RES),
		  FLD(objheap_gc_threshold, out_threshold[1], K_OUT) } },
	[CMD(OBJHEAP_CMD_GC_SET_THRESHOLD)] = { "GC_SET_THRESHOLD",
		sizeof(struct objheap_gc_threshold), 0, false,
		{ FLD(objheap_gc_threshold, threshold[0], K_U32),
		  FLD(objheap_gc_threshold, threshold[1], K_U32),
		  FLD(objheap_gc_threshold, threshold[2], K_U32),
		  FLD(objheap_gc_threshold, __reserved2, K_RES),
		  FLD(objheap_gc_threshold, out_threshold[0], K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_COUNT)] = { "GC_GET_COUNT", sizeof(struct objheap_gc_count), 0,
		false, { FLD(objheap_gc_count, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_STATS)] = { "GC_GET_STATS", sizeof(struct objheap_gc_stats), 0,
		false, { } },
	[CMD(OBJHEAP_CMD_GC_FREEZE)] = { "GC_FREEZE", sizeof(struct objheap_gc_value), 0, false,
		{ FLD(objheap_gc_value, value, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_UNFREEZE)] = { "GC_UNFREEZE", sizeof(struct objheap_gc_value), 0,
		false, { FLD(objheap_gc_value, value, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_FREEZE_COUNT)] = { "GC_GET_FREEZE_COUNT",
		sizeof(struct objheap_gc_value), 0, false, { FLD(objheap_gc_value, value, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_OBJECTS)] = { "GC_GET_OBJECTS", sizeof(struct objheap_gc_list), 0,
		false, { FLD(objheap_gc_list, handle, K_RES), FLD(objheap_gc_list, generation, K_GEN),
			 FLD(objheap_gc_list, count, K_COUNT), FLD(objheap_gc_list, buf_uptr, K_UPTR),
			 FLD(objheap_gc_list, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_REFERRERS)] = { "GC_GET_REFERRERS", sizeof(struct objheap_gc_list),
		0, false, { FLD(objheap_gc_list, handle, K_HANDLE),
			    FLD(objheap_gc_list, generation, K_RES),
			    FLD(objheap_gc_list, count, K_COUNT),
			    FLD(objheap_gc_list, buf_uptr, K_UPTR) } },
	[CMD(OBJHEAP_CMD_GC_GET_REFERENTS)] = { "GC_GET_REFERENTS", sizeof(struct objheap_gc_list),
		0, false, { FLD(objheap_gc_list, handle, K_HANDLE),
			    FLD(objheap_gc_list, generation, K_RES),
			    FLD(objheap_gc_list, count, K_COUNT),
			    FLD(objheap_gc_list, buf_uptr, K_UPTR) } },
	[CMD(OBJHEAP_CMD_GC_IS_TRACKED)] = { "GC_IS_TRACKED", sizeof(struct objheap_gc_object), 0,
		false, { FLD(objheap_gc_object, handle, K_HANDLE),
			 FLD(objheap_gc_object, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_SET_DEBUG)] = { "GC_SET_DEBUG", sizeof(struct objheap_gc_value), 0,
		false, { FLD(objheap_gc_value, value, K_U32) } },
	[CMD(OBJHEAP_CMD_GC_GET_DEBUG)] = { "GC_GET_DEBUG", sizeof(struct objheap_gc_value), 0,
		false, { FLD(objheap_gc_value, value, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_GARBAGE)] = { "GC_GET_GARBAGE", sizeof(struct objheap_gc_list), 0,
		false, { FLD(objheap_gc_list, handle, K_RES), FLD(objheap_gc_list, generation, K_RES),
			 FLD(objheap_gc_list, count, K_COUNT),
			 FLD(objheap_gc_list, buf_uptr, K_UPTR) } },
	[CMD(OBJHEAP_CMD_GC_CLEAR_GARBAGE)] = { "GC_CLEAR_GARBAGE", sizeof(struct objheap_gc_value),
		0, false, { FLD(objheap_gc_value, value, K_RES) } },
	[CMD(OBJHEAP_CMD_WEAKREF_NEW)] = { "WEAKREF_NEW", sizeof(struct objheap_weakref),
		OBJHEAP_WEAKREF_CALLBACK | OBJHEAP_WEAKREF_FINALIZER, true,
		{ FLD(objheap_weakref, handle, K_HANDLE), FLD(objheap_weakref, cookie, K_U64),
		  FLD(objheap_weakref, __reserved, K_RES), FLD(objheap_weakref, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_WEAKREF_GET)] = { "WEAKREF_GET", sizeof(struct objheap_weakref), 0, true,
		{ FLD(objheap_weakref, handle, K_HANDLE), FLD(objheap_weakref, cookie, K_RES),
		  FLD(objheap_weakref, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_WEAKREF_COUNT)] = { "WEAKREF_COUNT", sizeof(struct objheap_weakref_list),
		0, false, { FLD(objheap_weakref_list, handle, K_HANDLE),
			    FLD(objheap_weakref_list, count, K_RES),
			    FLD(objheap_weakref_list, buf_uptr, K_RES) } },
	[CMD(OBJHEAP_CMD_WEAKREF_LIST)] = { "WEAKREF_LIST", sizeof(struct objheap_weakref_list), 0,
		false, { FLD(objheap_weakref_list, handle, K_HANDLE),
			 FLD(objheap_weakref_list, count, K_COUNT),
			 FLD(objheap_weakref_list, buf_uptr, K_UPTR) } },
	[CMD(OBJHEAP_CMD_FINALIZE_DETACH)] = { "FINALIZE_DETACH", sizeof(struct objheap_weakref), 0,
		false, { FLD(objheap_weakref, handle, K_HANDLE), FLD(objheap_weakref, cookie, K_RES),
			 FLD(objheap_weakref, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_FINALIZE_ALIVE)] = { "FINALIZE_ALIVE", sizeof(struct objheap_weakref), 0,
		false, { FLD(objheap_weakref, handle, K_HANDLE), FLD(objheap_weakref, cookie, K_RES),
			 FLD(objheap_weakref, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_EVENT_CTL)] = { "EVENT_CTL", sizeof(struct objheap_event_ctl),
		OBJHEAP_EVENT_CTL_SET_MASK, false,
		{ FLD(objheap_event_ctl, mask, K_U32), FLD(objheap_event_ctl, out_queued, K_OUT) } },
	[CMD(OBJHEAP_CMD_ATTACH)] = { "ATTACH", sizeof(struct objheap_attach),
		OBJHEAP_ATTACH_READONLY, false, { FLD(objheap_attach, out_fd, K_OUT) } },
	[CMD(OBJHEAP_CMD_ATTACH_INFO)] = { "ATTACH_INFO", sizeof(struct objheap_attach_info), 0,
		false, { FLD(objheap_attach_info, id, K_U32),
			 FLD(objheap_attach_info, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_SEND)] = { "SEND", sizeof(struct objheap_send), 0, false,
		{ FLD(objheap_send, handle, K_HANDLE), FLD(objheap_send, cookie, K_U64),
		  FLD(objheap_send, to, K_U32), FLD(objheap_send, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_PUBLISH)] = { "PUBLISH", sizeof(struct objheap_name), 0, false,
		{ FLD(objheap_name, name_len, K_NAMELEN), FLD(objheap_name, name_uptr, K_UPTR),
		  FLD(objheap_name, handle, K_HANDLE), FLD(objheap_name, __reserved, K_RES),
		  FLD(objheap_name, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_LOOKUP)] = { "LOOKUP", sizeof(struct objheap_name), 0, false,
		{ FLD(objheap_name, name_len, K_NAMELEN), FLD(objheap_name, name_uptr, K_UPTR),
		  FLD(objheap_name, handle, K_RES), FLD(objheap_name, __reserved, K_RES),
		  FLD(objheap_name, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_UNPUBLISH)] = { "UNPUBLISH", sizeof(struct objheap_name), 0, false,
		{ FLD(objheap_name, name_len, K_NAMELEN), FLD(objheap_name, name_uptr, K_UPTR),
		  FLD(objheap_name, handle, K_RES), FLD(objheap_name, __reserved, K_RES),
		  FLD(objheap_name, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_RESIZE)] = { "RESIZE", sizeof(struct objheap_resize),
		OBJHEAP_RESIZE_SLOTS | OBJHEAP_RESIZE_DATA, true,
		{ FLD(objheap_resize, handle, K_HANDLE), FLD(objheap_resize, nslots, K_COUNT),
		  FLD(objheap_resize, data_len, K_LEN) } },
	[CMD(OBJHEAP_CMD_SEAL)] = { "SEAL", sizeof(struct objheap_seal), OBJHEAP_SEAL_INTERN, true,
		{ FLD(objheap_seal, handle, K_HANDLE), FLD(objheap_seal, out_handle, K_OUT) } },
	[CMD(OBJHEAP_CMD_MAP_OFFSET)] = { "MAP_OFFSET", sizeof(struct objheap_map_offset), 0,
		false, { FLD(objheap_map_offset, handle, K_HANDLE),
			 FLD(objheap_map_offset, out_offset, K_OUT),
			 FLD(objheap_map_offset, out_data_len, K_OUT),
			 FLD(objheap_map_offset, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_TRACE_CTL)] = { "TRACE_CTL", sizeof(struct objheap_trace_ctl), 0,
		false, { FLD(objheap_trace_ctl, op, K_TRACE_OP),
			 FLD(objheap_trace_ctl, sample_every, K_PERIOD),
			 FLD(objheap_trace_ctl, out_traced_bytes, K_OUT),
			 FLD(objheap_trace_ctl, out_pairs, K_OUT),
			 FLD(objheap_trace_ctl, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_TRACE_SNAPSHOT)] = { "TRACE_SNAPSHOT",
		sizeof(struct objheap_trace_snapshot), OBJHEAP_SNAPSHOT_DROP, false,
		{ FLD(objheap_trace_snapshot, id, K_SNAPSHOT),
		  FLD(objheap_trace_snapshot, out_id, K_OUT) } },
	[CMD(OBJHEAP_CMD_TRACE_ROWS)] = { "TRACE_ROWS", sizeof(struct objheap_trace_rows), 0,
		false, { FLD(objheap_trace_rows, snapshot, K_SNAPSHOT),
			 FLD(objheap_trace_rows, base, K_SNAPSHOT),
			 FLD(objheap_trace_rows, start, K_COUNT),
			 FLD(objheap_trace_rows, nrows, K_COUNT),
			 FLD(objheap_trace_rows, rows_uptr, K_ROWS_UPTR),
			 FLD(objheap_trace_rows, out_next, K_OUT),
			 FLD(objheap_trace_rows, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_TRACE_TAG)] = { "TRACE_TAG", sizeof(struct objheap_trace_tag), 0,
		false, { FLD(objheap_trace_tag, handle, K_HANDLE),
			 FLD(objheap_trace_tag, out_tag, K_OUT),
			 FLD(objheap_trace_tag, out_flags, K_OUT) } },
	/* Small budgets half the time: collections of many increments. */
	[CMD(OBJHEAP_CMD_GC_SET_MODE)] = { "GC_SET_MODE", sizeof(struct objheap_gc_mode), 0,
		false, { FLD(objheap_gc_mode, mode, K_GEN),
			 FLD(objheap_gc_mode, budget, K_U32),
			 FLD(objheap_gc_mode, out_phase, K_RES),
			 FLD(objheap_gc_mode, __reserved, K_RES) } },
	[CMD(OBJHEAP_CMD_GC_GET_MODE)] = { "GC_GET_MODE", sizeof(struct objheap_gc_mode), 0,
		false, { FLD(objheap_gc_mode, mode, K_RES),
			 FLD(objheap_gc_mode, budget, K_RES) } },
};

/*
 * Where a returned handle lies, for the commands that return one; @s is
 * the structure, for SEAL, which returns one only with
 * OBJHEAP_SEAL_INTERN.
 */
static int out_handle_off(u32 cmd, const u8 *s)
{
	u32 flags;

	switch (cmd) {
	case OBJHEAP_CMD_SEAL:
		memcpy(&flags, s + 4, 4);
		if (!(flags & OBJHEAP_SEAL_INTERN))
			return -1;
		return offsetof(struct objheap_seal, out_handle);
	case OBJHEAP_CMD_NEW: return offsetof(struct objheap_new, out_handle);
	case OBJHEAP_CMD_DUP: return offsetof(struct objheap_handle_cmd, out_handle);
	case OBJHEAP_CMD_GET_SLOT: return offsetof(struct objheap_slot, out_handle);
	case OBJHEAP_CMD_INTERN: return offsetof(struct objheap_intern, out_handle);
	case OBJHEAP_CMD_WEAKREF_NEW:
	case OBJHEAP_CMD_WEAKREF_GET:
	case OBJHEAP_CMD_FINALIZE_DETACH:
		return offsetof(struct objheap_weakref, out_handle);
	case OBJHEAP_CMD_LOOKUP: return offsetof(struct objheap_name, out_handle);
	}
	return -1;
}

struct fuzz {
	int fd;
	u64 seed, iter, rng;
	u8 *arena;		/* ARENA_SIZE bytes, then a PROT_NONE page */
	u8 *ro;			/* one read-only page */
	u64 pool[POOL];		/* handles the kernel returned */
	u64 stale[POOL];	/* handles released once, maybe dead */
	unsigned int npool, nstale;
	u64 offs[POOL];		/* offsets OBJHEAP_MAP_OFFSET gave */
	unsigned int noffs;
	struct fmap { u8 *p; size_t len; int prot; } maps[MAPS];
	unsigned int nmaps;
	u64 calls, bad, batches, entries;
	u64 by_errno[140];
};

static struct fuzz F;

static u64 rnd(void)
{
	return splitmix64(&F.rng);
}

static u32 rn(u32 n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return rn(100) < percent;
}

static void report(const char *what, int err, u32 allowed_bits)
{
	F.bad++;
	if (F.bad > 20)
		return;
	printf("# objheap_fuzz: seed %llu call %llu: %s gave errno %d (%s), which the header does not document for it (documented mask %#x)\n",
	       F.seed, F.iter, what, err, strerror(err), allowed_bits);
	printf("# replay: OBJHEAP_SEED=%llu OBJHEAP_FUZZ_SEEDS=1 OBJHEAP_FUZZ_ITERS=%llu ./objheap_fuzz\n",
	       F.seed, F.iter + 1);
}

static void pool_add(u64 h)
{
	if (!h)
		return;
	if (F.npool < POOL)
		F.pool[F.npool++] = h;
	else
		F.pool[rn(POOL)] = h;
}

static void offset_add(u64 off)
{
	if (F.noffs < POOL)
		F.offs[F.noffs++] = off;
	else
		F.offs[rn(POOL)] = off;
}

static u64 pick_handle(void)
{
	u32 r = rn(100);

	if (r < 65 && F.npool)
		return F.pool[rn(F.npool)];
	if (r < 75 && F.nstale)
		return F.stale[rn(F.nstale)];
	if (r < 82)
		return 0;
	if (r < 90)
		return OBJHEAP_BATCH_REF(rn(8));
	if (r < 95)
		return rnd() & ~OBJHEAP_HANDLE_BATCH_BIT;
	return rnd();
}

/* Some room in the arena, @len bytes, sometimes ending at the guard page. */
static u8 *arena_at(u32 len)
{
	if (len > ARENA_SIZE)
		len = ARENA_SIZE;
	if (chance(15))
		return F.arena + ARENA_SIZE - len;
	return F.arena + rn(ARENA_SIZE - len + 1);
}

static u64 pick_uptr(u32 len, bool handles)
{
	u32 r = rn(100), i;
	u8 *p;

	if (r < 70) {
		p = arena_at(len);
		if (handles) {
			u64 *h = (u64 *)((uintptr_t)p & ~7UL);

			for (i = 0; i < 16 && (u8 *)(h + i + 1) <= F.arena + ARENA_SIZE; i++)
				h[i] = chance(20) ? 0 : pick_handle();
		}
		return (uintptr_t)p;
	}
	if (r < 78)
		return 0;
	if (r < 84)
		return (uintptr_t)F.arena + ARENA_SIZE;	/* the guard page */
	if (r < 90)
		return (uintptr_t)F.ro + rn(4096);
	if (r < 94)
		return 0xffff888000000000ULL + rn(1 << 20);
	if (r < 97)
		return 0xffffffff81000000ULL;
	return rnd();
}

static u32 pick_len(void)
{
	static const u32 lens[] = {
		0, 1, 7, 8, 16, 31, 48, 64, 512, 513, 4096, 65536,
		OBJHEAP_MAX_SLOTS, OBJHEAP_MAX_SLOTS + 1, OBJHEAP_BATCH_MAX_LEN,
		OBJHEAP_BATCH_MAX_LEN + 1, UINT32_MAX, UINT32_MAX - 7,
	};

	if (chance(50))
		return rn(128);
	/* A full-size payload (256 MiB) only rarely: it takes a while. */
	if (chance(2))
		return chance(50) ? OBJHEAP_MAX_SIZE : OBJHEAP_MAX_SIZE + 1;
	return lens[rn(ARRAY_SIZE(lens))];
}

static u32 pick_count(void)
{
	static const u32 counts[] = {
		0, 1, 2, 3, 16, 4096, 4097, 65536, UINT32_MAX,
	};

	return chance(60) ? rn(8) : counts[rn(ARRAY_SIZE(counts))];
}

static void put(u8 *s, const struct field *f, u64 v)
{
	if (f->size == 8)
		memcpy(s + f->off, &v, 8);
	else
		memcpy(s + f->off, &v, 4);	/* little endian: the low half */
}

/* Fill @s, a structure of command @nr, field by field. */
static void fill_struct(u8 *s, u32 nr, u32 size)
{
	const struct cmd_desc *d = &cmds[CMD(nr)];
	const struct field *f;
	u32 flags, len = 0;

	memset(s, 0, size);
	if (chance(3)) {
		u32 i;

		for (i = 0; i < size; i++)
			s[i] = rnd();
	}
	flags = chance(70) ? 0 : chance(70) ? d->flags & rnd() : rnd();
	memcpy(s + 4, &flags, 4);
	for (f = d->f; f < d->f + ARRAY_SIZE(d->f) && f->size; f++) {
		switch (f->kind) {
		case K_HANDLE:
			put(s, f, pick_handle());
			break;
		case K_UPTR:
			put(s, f, pick_uptr(len ? len : 64, false));
			break;
		case K_SLOTS_UPTR:
			put(s, f, pick_uptr(len ? len * 8 : 64, true));
			break;
		case K_LEN:
			len = pick_len();
			put(s, f, len);
			break;
		case K_COUNT:
			len = pick_count();
			put(s, f, len);
			break;
		case K_NAMELEN:
			/* A few short names, so that they meet again. */
			len = chance(90) ? 1 + rn(2) : pick_len();
			put(s, f, len);
			break;
		case K_RES:
			put(s, f, chance(95) ? 0 : rnd());
			break;
		case K_OUT:
			put(s, f, chance(90) ? 0 : rnd());
			break;
		case K_U32:
			put(s, f, chance(50) ? rn(16) : rnd());
			break;
		case K_U64:
			put(s, f, rnd());
			break;
		case K_GEN:
			put(s, f, chance(80) ? rn(3) : chance(50) ?
				  OBJHEAP_GC_ALL_GENERATIONS : rnd());
			break;
		case K_CMDNR:
			put(s, f, chance(50) ? 0 : chance(70) ?
				  OBJHEAP_CMD_BASE + rn(72) : rnd());
			break;
		case K_LIMIT:
			put(s, f, chance(80) ? (u64)rn(FUZZ_LIMIT) :
				  chance(50) ? UINT64_MAX : (1ULL << 30) + rn(2));
			break;
		case K_TAG:
			/* A few tags, so that pairs meet again; OTHER's too. */
			put(s, f, chance(70) ? rn(8) : chance(50) ?
				  OBJHEAP_TAG_OTHER : rnd());
			break;
		case K_TRACE_OP:
			put(s, f, chance(90) ? rn(4) : rnd());
			break;
		case K_PERIOD:
			put(s, f, chance(60) ? rn(4) : chance(70) ? rn(64) :
				  chance(50) ? (1U << 24) + rn(2) : rnd());
			break;
		case K_SNAPSHOT:
			put(s, f, chance(90) ? rn(OBJHEAP_TRACE_SNAPSHOTS_MAX + 2) :
				  rnd());
			break;
		case K_ROWS_UPTR:
			/* Room for the rows asked for (len is nrows). */
			put(s, f, pick_uptr(len <= OBJHEAP_TRACE_ROWS_MAX ?
					    len * sizeof(struct objheap_trace_row) :
					    64, false));
			break;
		default:
			break;
		}
	}
	/* Corrupt a byte or two, sometimes. */
	if (chance(8))
		s[rn(size)] ^= 1 << rn(8);
	if (chance(3))
		s[rn(size)] = rnd();
	/* A kernel log line per collection would flood the console. */
	if (nr == OBJHEAP_CMD_GC_SET_DEBUG)
		((struct objheap_gc_value *)s)->value &= ~OBJHEAP_GC_DEBUG_STATS;
}

/* The size field: mostly exact, sometimes short or long. */
static u32 pick_size(u32 size)
{
	u32 r = rn(100);

	if (r < 75)
		return size;
	if (r < 80)
		return 0;
	if (r < 87)
		return rn(size);
	if (r < 95)
		return size + 1 + rn(64);
	if (r < 98)
		return size + 4096 + rn(ARENA_SIZE);
	return rnd();
}

/* Build a batch of random entries at @buf; returns its length. */
static u32 build_batch(u8 *buf, u32 room, u32 *count)
{
	static const u32 batchable[] = {
		OBJHEAP_CMD_NEW, OBJHEAP_CMD_DUP, OBJHEAP_CMD_RELEASE,
		OBJHEAP_CMD_SET_SLOT, OBJHEAP_CMD_GET_SLOT, OBJHEAP_CMD_READ,
		OBJHEAP_CMD_WRITE, OBJHEAP_CMD_INFO, OBJHEAP_CMD_INTERN,
		OBJHEAP_CMD_WEAKREF_NEW, OBJHEAP_CMD_WEAKREF_GET,
		OBJHEAP_CMD_RESIZE, OBJHEAP_CMD_SEAL,
	};
	/* Numbers of no command, the plan's cache's four slots among them. */
	static const u32 no_cmd[] = {
		0, 1, 4, 0x7f, 0xff, 0x100, 0x80000000, UINT32_MAX - 3,
		UINT32_MAX - 2, UINT32_MAX - 1, UINT32_MAX,
	};
	u32 n = 1 + rn(16), i, off = 0, end = 0;

	for (i = 0; i < n; i++) {
		struct objheap_batch_entry *e;
		u32 nr = chance(97) ? batchable[rn(ARRAY_SIZE(batchable))] :
			 chance(50) ? OBJHEAP_CMD_BASE + rn(48) :
			 chance(80) ? no_cmd[rn(ARRAY_SIZE(no_cmd))] : (u32)rnd();
		u32 size = nr - OBJHEAP_CMD_BASE < NR_CMDS ? cmds[CMD(nr)].size : 16;

		if (chance(10))
			size = pick_size(size) & 0xff;
		if (off + sizeof(*e) + size + 64 > room)
			break;
		e = (void *)(buf + off);
		e->cmd = nr;
		e->out_result = 0x7777;
		if (nr - OBJHEAP_CMD_BASE < NR_CMDS && size >= 8) {
			u8 tmp[256];

			fill_struct(tmp, nr, cmds[CMD(nr)].size);
			memset(e + 1, 0, size);
			memcpy(e + 1, tmp, size < cmds[CMD(nr)].size ? size : cmds[CMD(nr)].size);
		}
		*(u32 *)(e + 1) = size;
		end = off + sizeof(*e) + size;
		off = (end + 7) & ~7U;
	}
	*count = i;
	return end;
}

/* Check a batch that ran: every entry's result must be documented. */
static void check_batch(u8 *buf, u32 count, u32 len)
{
	u32 i, off = 0;

	for (i = 0; i < count; i++) {
		struct objheap_batch_entry *e = (void *)(buf + off);
		u8 *s = (u8 *)(e + 1);
		u32 size = *(u32 *)s;
		u32 bits;

		F.entries++;
		if (e->out_result > 0 || e->cmd - OBJHEAP_CMD_BASE >= NR_CMDS) {
			report("BATCH entry (result or command)", e->out_result, 0);
			return;
		}
		bits = allowed[CMD(e->cmd)] | A_ECANCELED;
		if (e->out_result && !(errno_bit(-e->out_result) & bits))
			report(cmds[CMD(e->cmd)].name, -e->out_result, bits);
		if (!e->out_result && out_handle_off(e->cmd, s) >= 0)
			pool_add(*(u64 *)(s + out_handle_off(e->cmd, s)));
		off = (off + sizeof(*e) + size + 7) & ~7U;
		if (off > len)
			break;
	}
}

static void fuzz_ioctl(void)
{
	u32 r = rn(100), nr, size, bits, want;
	unsigned long req;
	u8 *arg;
	u8 s[512];
	int ret, err;
	bool known = true;

	nr = OBJHEAP_CMD_BASE + rn(NR_CMDS);
	req = _IO(OBJHEAP_TYPE, nr);
	if (r < 4) {
		/* A number the module does not know, or the test interface's. */
		nr = rn(256);
		if (nr == OBJHEAP_CMD_BASE + 63)
			nr = 0;
		req = _IO(OBJHEAP_TYPE, nr);
		known = nr >= OBJHEAP_CMD_BASE && nr - OBJHEAP_CMD_BASE < NR_CMDS;
	} else if (r < 6) {
		/* A known number, encoded otherwise. */
		req = _IOWR(OBJHEAP_TYPE, nr, struct objheap_query);
		known = false;
	} else if (r < 7) {
		req = rnd() & 0xffffffff;
		if (_IOC_TYPE(req) == OBJHEAP_TYPE)
			req ^= 1 << _IOC_TYPESHIFT;
		known = false;
	}
	want = known ? cmds[CMD(nr)].size : 64;
	size = known ? pick_size(want) : want;
	if (known)
		fill_struct(s, nr, want);
	else
		memset(s, 0, sizeof(s));
	memcpy(s, &size, 4);

	if (known && nr == OBJHEAP_CMD_BATCH && chance(85)) {
		struct objheap_batch *b = (void *)s;
		u8 *buf = F.arena + ARENA_SIZE / 2;

		b->len = build_batch(buf, ARENA_SIZE / 2, &b->count);
		b->buf_uptr = (uintptr_t)buf;
		b->flags = chance(50) ? OBJHEAP_BATCH_CONTINUE : 0;
	}

	/* Where the structure lies. */
	r = rn(100);
	if (r < 85) {
		arg = chance(20) ? F.arena + ARENA_SIZE - want :
		      F.arena + (rn(ARENA_SIZE / 2 - 1024) & ~7U);
		memcpy(arg, s, want);
		if (size > want && size - want < 128 && arg + size <= F.arena + ARENA_SIZE)
			memset(arg + want, chance(70) ? 0 : 0x11, size - want);
	} else if (r < 89) {
		arg = NULL;
	} else if (r < 93) {
		arg = F.arena + ARENA_SIZE;
	} else if (r < 96) {
		arg = (u8 *)(uintptr_t)0xffff888000000000ULL;
	} else {
		mprotect(F.ro, 4096, PROT_READ | PROT_WRITE);
		arg = F.ro + 4096 - want;
		memcpy(arg, s, want);
		mprotect(F.ro, 4096, PROT_READ);
	}

	ret = ioctl(F.fd, req, arg);
	err = ret ? errno : 0;
	F.calls++;
	F.by_errno[err < 140 ? err : 0]++;
	if (!known) {
		if (!ret || err != ENOTTY)
			report("an unknown ioctl number", err, 0);
		return;
	}
	bits = allowed[CMD(nr)];
	if (ret && !(errno_bit(err) & bits))
		report(cmds[CMD(nr)].name, err, bits);
	if (ret || arg < F.arena || arg >= F.arena + ARENA_SIZE)
		return;
	if (nr == OBJHEAP_CMD_ATTACH)
		close(((struct objheap_attach *)arg)->out_fd);
	if (out_handle_off(nr, arg) >= 0)
		pool_add(*(u64 *)(arg + out_handle_off(nr, arg)));
	if (nr == OBJHEAP_CMD_MAP_OFFSET) {
		u64 off;

		memcpy(&off, arg + offsetof(struct objheap_map_offset,
					    out_offset), 8);
		offset_add(off);
	}
	if (nr == OBJHEAP_CMD_RELEASE && F.nstale < POOL)
		F.stale[F.nstale++] = *(u64 *)(arg + 8);
	if (nr == OBJHEAP_CMD_BATCH) {
		struct objheap_batch *b = (void *)arg;

		F.batches++;
		check_batch((u8 *)(uintptr_t)b->buf_uptr, b->count, b->len);
	}
}

static void unmap_one(unsigned int i)
{
	if (munmap(F.maps[i].p, F.maps[i].len))
		report("munmap()", errno, 0);
	F.maps[i] = F.maps[--F.nmaps];
}

/*
 * mmap() of the heap's file (DOC: Payloads): at an offset the attachment
 * was given, plus a few pages, or at another; of a length that fits or
 * not; shared or private; readable, writable or neither.  It may give
 * EINVAL (MAP_PRIVATE, and mmap()'s own for a zero length or an offset
 * that is not a page multiple), ENXIO (an offset not given, of a dead
 * object, a range past the payload), EACCES (PROT_WRITE on an immutable
 * or sealed object) and ENOMEM.  What maps is touched, kept a while, then
 * unmapped; a kept mapping is also mprotect()ed, which may give EACCES
 * and must for a mapping made without PROT_WRITE, and grown with
 * mremap(), which must fail with EFAULT.
 */
static void fuzz_mmap(void)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
	};
	size_t page = 4096, len;
	u32 r = rn(100), i;
	int prot, flags;
	u64 off;
	u8 *p;

	if (F.nmaps && r < 15) {
		unmap_one(rn(F.nmaps));
		return;
	}
	if (F.nmaps && r < 25) {
		i = rn(F.nmaps);
		prot = PROT_READ | PROT_WRITE;
		if (!mprotect(F.maps[i].p, F.maps[i].len, prot)) {
			if (!(F.maps[i].prot & PROT_WRITE))
				report("mprotect() to write a mapping made without PROT_WRITE",
				       0, 0);
			F.maps[i].prot = PROT_READ | PROT_WRITE;
		} else if (errno != EACCES) {
			report("mprotect()", errno, 0);
		}
		return;
	}
	if (F.nmaps && r < 30) {
		i = rn(F.nmaps);
		p = mremap(F.maps[i].p, F.maps[i].len, F.maps[i].len + page,
			   chance(50) ? MREMAP_MAYMOVE : 0);
		if (p != MAP_FAILED) {
			report("mremap() that grows a mapping", 0, 0);
			F.maps[i].p = p;
			F.maps[i].len += page;
		} else if (errno != EFAULT) {
			report("mremap()", errno, 0);
		}
		return;
	}

	r = rn(100);
	if (r < 60 && F.noffs)
		off = F.offs[rn(F.noffs)] + rn(4) * page;
	else if (r < 70 && F.noffs)
		off = F.offs[rn(F.noffs)] + 1 + rn(page - 1);
	else if (r < 80)
		off = 0;
	else
		off = (rnd() & ((1ULL << 40) - 1)) & ~(u64)(page - 1);
	r = rn(100);
	len = r < 70 ? (1 + rn(4)) * page : r < 80 ? 0 : 1 + rn(3 * page);
	prot = prots[rn(ARRAY_SIZE(prots))];
	flags = chance(90) ? MAP_SHARED : MAP_PRIVATE;
	p = mmap(NULL, len, prot, flags, F.fd, (off_t)off);
	if (p == MAP_FAILED) {
		if (errno != EINVAL && errno != ENXIO && errno != EACCES &&
		    errno != ENOMEM)
			report("mmap()", errno, 0);
		if (errno == EINVAL && flags == MAP_SHARED && len &&
		    !(off & (page - 1)))
			report("mmap() of a shared mapping", EINVAL, 0);
		return;
	}
	if (flags == MAP_PRIVATE)
		report("mmap() with MAP_PRIVATE", 0, 0);
	/* Every page of the range is the payload's: touch the last one. */
	len = (len + page - 1) & ~(page - 1);
	if (prot & PROT_READ)
		(void)*(volatile u8 *)(p + len - 1);
	if (prot & PROT_WRITE)
		p[len - page] = rnd();
	if (F.nmaps == MAPS)
		unmap_one(rn(MAPS));
	F.maps[F.nmaps++] = (struct fmap){ .p = p, .len = len, .prot = prot };
}

/* read(), write(), poll(), mmap(), lseek() on the heap's file. */
static void fuzz_file(void)
{
	struct pollfd pfd = { .fd = F.fd, .events = POLLIN };
	static const size_t sizes[] = {
		0, 1, sizeof(struct objheap_event) - 1, sizeof(struct objheap_event),
		2 * sizeof(struct objheap_event) + 3, 4096,
	};
	size_t len = sizes[rn(ARRAY_SIZE(sizes))];
	void *buf = F.arena + ARENA_SIZE - 4096;
	ssize_t r;

	switch (rn(6)) {
	case 0:
	case 1:
		if (chance(20))
			buf = chance(50) ? NULL : (void *)F.ro;
		else if (chance(10))
			buf = F.arena + ARENA_SIZE - sizeof(struct objheap_event) / 2;
		r = read(F.fd, buf, len);
		/* DOC: The event queue: EINVAL when no record fits, EAGAIN. */
		if (r < 0 && errno != EINVAL && errno != EAGAIN && errno != EFAULT)
			report("read()", errno, 0);
		if (r >= 0 && r % sizeof(struct objheap_event))
			report("read() of part of a record", 0, 0);
		if (r < 0 && errno == EINVAL && len >= sizeof(struct objheap_event))
			report("read() with room for a record", EINVAL, 0);
		break;
	case 2:
		if (poll(&pfd, 1, 0) < 0)
			report("poll()", errno, 0);
		break;
	case 3:
		/* No write operation: the VFS says EINVAL. */
		if (write(F.fd, F.arena, len) >= 0 || errno != EINVAL)
			report("write()", errno, 0);
		break;
	case 4:
		fuzz_mmap();
		break;
	default:
		/* "The file cannot seek": ESPIPE. */
		if (lseek(F.fd, rn(100), rn(3)) >= 0 || errno != ESPIPE)
			report("lseek()", errno, 0);
		break;
	}
}

/*
 * The heap is sane: the allocator's checker passes, a full collection
 * works, the collector's lists account for every tracked object, and the
 * allocator's byte counts add up as the header says.
 */
static void sanity_check(void)
{
	struct objheap_test_cmd t = { .size = sizeof(t), .op = OBJHEAP_TEST_OP_ALLOC_CHECK };
	struct objheap_gc_collect gc = { .size = sizeof(gc), .generation = 2 };
	struct objheap_gc_value v = { .size = sizeof(v) };
	struct objheap_stats st = { .size = sizeof(st) };
	struct objheap_gc_list l = { .size = sizeof(l) };
	u64 *buf = (u64 *)F.arena;
	u32 listed = 0;

	if (ioctl(F.fd, OBJHEAP_TEST, &t))
		report("the allocator's checker", errno, 0);
	if (ioctl(F.fd, OBJHEAP_GC_COLLECT, &gc))
		report("a full collection", errno, 0);
	l.generation = OBJHEAP_GC_ALL_GENERATIONS;
	l.count = ARENA_SIZE / 8;
	l.buf_uptr = (uintptr_t)buf;
	if (ioctl(F.fd, OBJHEAP_GC_GET_OBJECTS, &l))
		report("GC_GET_OBJECTS in the sanity check", errno, 0);
	listed += l.out_count;
	l = (struct objheap_gc_list){ .size = sizeof(l), .count = ARENA_SIZE / 8,
				      .buf_uptr = (uintptr_t)buf };
	if (ioctl(F.fd, OBJHEAP_GC_GET_GARBAGE, &l))
		report("GC_GET_GARBAGE in the sanity check", errno, 0);
	listed += l.out_count;
	if (ioctl(F.fd, OBJHEAP_GC_GET_FREEZE_COUNT, &v))
		report("GC_GET_FREEZE_COUNT in the sanity check", errno, 0);
	listed += v.out_value;
	t = (struct objheap_test_cmd){ .size = sizeof(t), .op = OBJHEAP_TEST_OP_OBJECTS };
	if (ioctl(F.fd, OBJHEAP_TEST, &t) || t.objects.out_containers != listed ||
	    t.objects.out_live < listed) {
		F.bad++;
		printf("# objheap_fuzz: seed %llu: %u tracked, %u on the collector's lists, %u live\n",
		       F.seed, t.objects.out_containers, listed, t.objects.out_live);
	}
	if (ioctl(F.fd, OBJHEAP_STATS, &st) ||
	    st.out_bytes_allocated_blocks + st.out_bytes_free_blocks +
	    st.out_bytes_unused_pools + st.out_bytes_pool_headers +
	    st.out_bytes_quantization != st.out_arenas_current * st.out_arena_size) {
		F.bad++;
		printf("# objheap_fuzz: seed %llu: the allocator's statistics do not add up\n",
		       F.seed);
	}
}

static int open_heap(void)
{
	struct objheap_set_limit sl = { .size = sizeof(sl), .limit = FUZZ_LIMIT };

	F.fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (F.fd < 0)
		return -errno;
	F.npool = 0;
	F.nstale = 0;
	F.noffs = 0;
	F.nmaps = 0;
	/* Keep what one heap can take well inside the VM's memory. */
	return ioctl(F.fd, OBJHEAP_SET_LIMIT, &sl) ? -errno : 0;
}

static void close_heap_and_check(void)
{
	struct objheap_test_cmd t = { .size = sizeof(t), .op = OBJHEAP_TEST_OP_ALLOC_HELD };
	int probe;

	sanity_check();
	/* A mapping would keep the heap alive. */
	while (F.nmaps)
		unmap_one(F.nmaps - 1);
	close(F.fd);
	probe = open(OBJHEAP_DEV, O_RDWR);
	if (probe < 0 || ioctl(probe, OBJHEAP_TEST, &t) || t.held.out_pages ||
	    t.held.out_large) {
		F.bad++;
		printf("# objheap_fuzz: seed %llu: after close the module holds %llu pages, %llu large\n",
		       F.seed, (u64)t.held.out_pages, (u64)t.held.out_large);
	}
	if (probe >= 0)
		close(probe);
}

static u64 env_u64(const char *name, u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

FIXTURE(fuzz) {
	int fd;
};

FIXTURE_SETUP(fuzz)
{
	SETUP_OPEN_HEAP_OR_SKIP(self->fd);
	if (!objheap_has_test_interface(self->fd))
		SETUP_SKIP("the module has no test interface");
	close(self->fd);
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, every_errno_is_documented_and_the_heap_stays_sane, 4 * 3600)
{
	u64 seed = env_u64("OBJHEAP_SEED", (u64)time(NULL) * 1000 + 500);
	u64 seeds = env_u64("OBJHEAP_FUZZ_SEEDS", 16);
	u64 iters = env_u64("OBJHEAP_FUZZ_ITERS", 8000), s;
	struct timespec t0, t1;
	double secs;
	u8 *map;
	int e;

	map = mmap(NULL, ARENA_SIZE + 2 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	F.arena = map;
	ASSERT_EQ(0, mprotect(map + ARENA_SIZE, 4096, PROT_NONE));
	F.ro = map + ARENA_SIZE + 4096;
	ASSERT_EQ(0, mprotect(F.ro, 4096, PROT_READ));

	printf("# seeds %llu to %llu, %llu calls each\n", seed, seed + seeds - 1, iters);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (s = 0; s < seeds; s++) {
		F.seed = seed + s;
		F.rng = F.seed;
		ASSERT_EQ(0, open_heap());
		for (F.iter = 0; F.iter < iters; F.iter++) {
			if (chance(3))
				fuzz_file();
			else
				fuzz_ioctl();
		}
		close_heap_and_check();
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# objheap_fuzz: %llu seeds, %llu ioctls (%llu batches, %llu entries), %llu undocumented errnos or insane heaps, %.1f s, %.0f calls/s\n",
	       seeds, F.calls, F.batches, F.entries, F.bad, secs,
	       secs > 0 ? seeds * iters / secs : 0.0);
	printf("# errnos seen:");
	for (e = 0; e < 140; e++)
		if (F.by_errno[e])
			printf(" %s %llu", e ? strerror(e) : "success", F.by_errno[e]);
	printf("\n");
	munmap(map, ARENA_SIZE + 2 * 4096);
	EXPECT_EQ(0, F.bad);
}

TEST_HARNESS_MAIN
