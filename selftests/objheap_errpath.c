// SPDX-License-Identifier: GPL-2.0
/*
 * Error paths that must leave the heap exactly as it was: creating
 * commands whose response cannot be written back (the creation rule of
 * Documentation/objects.rst).  Every test's teardown runs the allocator's
 * checker and asserts that the closed heap leaves nothing.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include <libobjheap.h>

#define PAGE 4096UL

FIXTURE(errpath) {
	struct objheap *heap;
	int fd;
	/* Two pages: structures that become read-only, then a guard page. */
	uint8_t *page;
};

FIXTURE_SETUP(errpath)
{
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	/* Collections happen when a test asks for them. */
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
	self->page = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	ASSERT_EQ(0, mprotect(self->page + PAGE, PAGE, PROT_NONE));
}

FIXTURE_TEARDOWN(errpath)
{
	if (self->page && self->page != MAP_FAILED)
		munmap(self->page, 2 * PAGE);
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

/*
 * @len bytes of @cmd at the start of the fixture's first page, which is
 * then made read-only: a structure the kernel can read but not write.
 */
static void *read_only_copy(FIXTURE_DATA(errpath) *self, const void *cmd,
			    size_t len)
{
	if (mprotect(self->page, PAGE, PROT_READ | PROT_WRITE))
		return NULL;
	memset(self->page, 0, PAGE);
	memcpy(self->page, cmd, len);
	if (mprotect(self->page, PAGE, PROT_READ))
		return NULL;
	return self->page;
}

/* The ioctl on a read-only copy of @cmd; -errno, or 0. */
#define IOCTL_READ_ONLY(_ioctl, cmd)					\
	(ioctl(self->fd, _ioctl, read_only_copy(self, &(cmd), sizeof(cmd))) ? \
	 -errno : 0)

/* What a failed command must not change. */
struct heap_state {
	uint32_t live;
	uint32_t containers;
	uint32_t interned;
	uint32_t gen0_count;
	uint64_t bytes_in_use;
	uint64_t queued;
	uint64_t lost;
};

static void heap_state(struct objheap *heap, struct heap_state *st)
{
	struct objheap_test_cmd t = objheap_test_objects(objheap_fd(heap));
	struct objheap_gc_count count = { .size = sizeof(count) };
	struct objheap_event_ctl ev = { .size = sizeof(ev) };
	struct objheap_stats s;

	memset(st, 0xff, sizeof(*st));
	st->live = t.objects.out_live;
	st->containers = t.objects.out_containers;
	st->interned = t.objects.out_interned;
	if (!ioctl(objheap_fd(heap), OBJHEAP_GC_GET_COUNT, &count))
		st->gen0_count = count.out_count[0];
	if (!objheap_stats(heap, &s, NULL, 0))
		st->bytes_in_use = s.out_bytes_in_use;
	if (!ioctl(objheap_fd(heap), OBJHEAP_EVENT_CTL, &ev)) {
		st->queued = ev.out_queued;
		st->lost = ev.out_lost;
	}
}

#define EXPECT_HEAP_STATE(before)					\
	do {								\
		struct heap_state __now;				\
									\
		heap_state(self->heap, &__now);				\
		EXPECT_EQ((before).live, __now.live);			\
		EXPECT_EQ((before).containers, __now.containers);	\
		EXPECT_EQ((before).interned, __now.interned);		\
		EXPECT_EQ((before).gen0_count, __now.gen0_count);	\
		EXPECT_EQ((before).bytes_in_use, __now.bytes_in_use);	\
		EXPECT_EQ((before).queued, __now.queued);		\
		EXPECT_EQ((before).lost, __now.lost);			\
	} while (0)

static uint64_t node(struct objheap *heap, uint32_t flags, uint32_t nslots)
{
	uint64_t h = 0;

	return objheap_new(heap, 7, flags, nslots, NULL, 8, NULL, &h) ? 0 : h;
}

/* An object's count and user references, as one number to compare. */
static uint64_t refs(struct objheap *heap, uint64_t h)
{
	struct objheap_info info;

	if (objheap_info(heap, h, &info))
		return 0;
	return (uint64_t)info.out_refcnt << 32 | info.out_user_refs;
}

static int read_events(int fd)
{
	struct objheap_event ev[4];
	ssize_t len = read(fd, ev, sizeof(ev));

	return len < 0 ? -errno : (int)(len / sizeof(ev[0]));
}

TEST_F(errpath, new_with_unwritable_response_creates_nothing)
{
	static const uint32_t flags[] = {
		OBJHEAP_OBJ_FINALIZE, 0, OBJHEAP_OBJ_IMMORTAL,
		OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_FINALIZE,
	};
	uint64_t t = node(self->heap, 0, 0), slots[2];
	struct heap_state before;
	uint64_t t_refs = refs(self->heap, t);
	unsigned int i, nslots;

	slots[0] = t;
	slots[1] = t;
	heap_state(self->heap, &before);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		for (nslots = 0; nslots <= 2; nslots += 2) {
			struct objheap_new cmd = {
				.size = sizeof(cmd),
				.flags = flags[i],
				.type = 9,
				.nslots = nslots,
				.data_len = 16,
				.slots_uptr = nslots ? (uintptr_t)slots : 0,
			};

			EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_NEW, cmd));
			EXPECT_HEAP_STATE(before);
			EXPECT_EQ(t_refs, refs(self->heap, t));
		}
	}
	/* No object waits to be finalized, and no collection finds one. */
	EXPECT_EQ(-EAGAIN, read_events(self->fd));
	EXPECT_EQ(0, objheap_gc_collect(self->heap, 2, NULL));
	EXPECT_EQ(-EAGAIN, read_events(self->fd));
	EXPECT_HEAP_STATE(before);
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_LIVE(0);
}

TEST_F(errpath, reference_commands_with_unwritable_response_change_nothing)
{
	uint64_t a = node(self->heap, 0, 2), b = node(self->heap, 0, 0);
	uint64_t fin, wr, word, other, list[4];
	struct heap_state before;
	uint64_t a_refs, b_refs, wr_refs, fin_refs;

	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 1, b));
	ASSERT_EQ(0, objheap_weakref_new(self->heap, b, 1, 0, &wr));
	ASSERT_EQ(0, objheap_finalize_new(self->heap, b, 2, &fin));
	ASSERT_EQ(0, objheap_intern(self->heap, 3, 0, "word", 4, &word));
	/* The intern table exists; INTERN below does not have to grow it. */
	ASSERT_EQ(0, objheap_intern(self->heap, 3, 0, "other", 5, &other));
	a_refs = refs(self->heap, a);
	b_refs = refs(self->heap, b);
	wr_refs = refs(self->heap, wr);
	fin_refs = refs(self->heap, fin);
	heap_state(self->heap, &before);

	{
		struct objheap_handle_cmd cmd = { .size = sizeof(cmd), .handle = b };

		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_DUP, cmd));
	}
	{
		struct objheap_slot cmd = { .size = sizeof(cmd), .handle = a };

		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_GET_SLOT, cmd));
	}
	{
		struct objheap_intern cmd = {
			.size = sizeof(cmd), .type = 3, .data_len = 4,
			.data_uptr = (uintptr_t)"word",
		};

		/* The existing object, then a new one. */
		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_INTERN, cmd));
		cmd.data_uptr = (uintptr_t)"fern";
		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_INTERN, cmd));
	}
	{
		struct objheap_weakref cmd = { .size = sizeof(cmd), .handle = wr };

		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_WEAKREF_GET, cmd));
		cmd.handle = fin;
		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_FINALIZE_DETACH, cmd));
		EXPECT_EQ(1, objheap_finalize_alive(self->heap, fin));
	}
	{
		struct objheap_gc_list cmd = {
			.size = sizeof(cmd),
			.generation = OBJHEAP_GC_ALL_GENERATIONS,
			.count = 4,
			.buf_uptr = (uintptr_t)list,
		};

		/* The handles are written, the structure is not. */
		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_GC_GET_OBJECTS, cmd));
		cmd.generation = 0;
		cmd.handle = a;
		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_GC_GET_REFERENTS, cmd));
		/* The structure is written, the second handle is not. */
		ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ | PROT_WRITE));
		cmd.buf_uptr = (uintptr_t)(self->page + PAGE - 8);
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_GC_GET_REFERENTS, &cmd));
	}
	{
		struct objheap_weakref_list cmd = {
			.size = sizeof(cmd), .handle = b, .count = 4,
			.buf_uptr = (uintptr_t)list,
		};

		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_WEAKREF_LIST, cmd));
		ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ | PROT_WRITE));
		cmd.buf_uptr = (uintptr_t)(self->page + PAGE - 8);
		EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_WEAKREF_LIST, &cmd));
	}
	EXPECT_HEAP_STATE(before);
	EXPECT_EQ(a_refs, refs(self->heap, a));
	EXPECT_EQ(b_refs, refs(self->heap, b));
	EXPECT_EQ(wr_refs, refs(self->heap, wr));
	EXPECT_EQ(fin_refs, refs(self->heap, fin));
	EXPECT_EQ(0x100000001ULL, refs(self->heap, word));
	EXPECT_EQ(2, objheap_getweakrefcount(self->heap, b));

	ASSERT_EQ(0, objheap_release(self->heap, fin));
	ASSERT_EQ(0, objheap_release(self->heap, wr));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	ASSERT_EQ(0, objheap_release(self->heap, word));
	ASSERT_EQ(0, objheap_release(self->heap, other));
	/* b's death fired the finalizer, nothing else. */
	EXPECT_EQ(1, read_events(self->fd));
	EXPECT_LIVE(0);
}

TEST_F(errpath, weakref_new_with_unwritable_response_leaves_no_weakref)
{
	static const uint32_t flags[] = {
		0, OBJHEAP_WEAKREF_CALLBACK, OBJHEAP_WEAKREF_FINALIZER,
		OBJHEAP_WEAKREF_CALLBACK | OBJHEAP_WEAKREF_FINALIZER,
	};
	uint64_t t = node(self->heap, 0, 0), keep;
	struct heap_state before;
	unsigned int i;

	/* The weak table exists: WEAKREF_NEW below does not have to grow it. */
	ASSERT_EQ(0, objheap_weakref_new(self->heap, t, 0, 0, &keep));
	ASSERT_EQ(0, objheap_release(self->heap, keep));
	heap_state(self->heap, &before);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct objheap_weakref cmd = {
			.size = sizeof(cmd),
			.flags = flags[i],
			.handle = t,
			.cookie = 100 + i,
		};

		EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_WEAKREF_NEW, cmd));
		EXPECT_EQ(0, objheap_getweakrefcount(self->heap, t));
		EXPECT_HEAP_STATE(before);
	}
	/* The target's death has no weak reference to clear. */
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_EQ(-EAGAIN, read_events(self->fd));
	EXPECT_LIVE(0);
}

TEST_HARNESS_MAIN
