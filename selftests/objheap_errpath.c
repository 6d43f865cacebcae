// SPDX-License-Identifier: GPL-2.0
/*
 * Error paths that must leave the heap exactly as it was: creating
 * commands whose response cannot be written back (the creation rule of
 * Documentation/objects.rst), batches whose buffer or structure cannot be
 * written back, batch layouts whose sizes would wrap, the batch's work
 * budget, and a batch killed part-way.  Every test's teardown runs the
 * allocator's checker and asserts that the closed heap leaves nothing.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

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

/* A hand-built batch: two NEWs, a DUP of @t and a NEW, 40 or 64 bytes each. */
struct creating_batch {
	struct objheap_batch_entry e0;
	struct objheap_new new0;
	struct objheap_batch_entry e1;
	struct objheap_new new1;
	struct objheap_batch_entry e2;
	struct objheap_handle_cmd dup;
	struct objheap_batch_entry e3;
	struct objheap_new new3;
};

static void creating_batch(struct creating_batch *b, uint64_t t)
{
	memset(b, 0, sizeof(*b));
	b->e0.cmd = OBJHEAP_CMD_NEW;
	b->new0 = (struct objheap_new){
		.size = sizeof(b->new0), .type = 1, .nslots = 1,
		.flags = OBJHEAP_OBJ_FINALIZE,
	};
	b->e1.cmd = OBJHEAP_CMD_NEW;
	b->new1 = (struct objheap_new){ .size = sizeof(b->new1), .type = 2 };
	b->e2.cmd = OBJHEAP_CMD_DUP;
	b->dup = (struct objheap_handle_cmd){ .size = sizeof(b->dup), .handle = t };
	b->e3.cmd = OBJHEAP_CMD_NEW;
	b->new3 = (struct objheap_new){
		.size = sizeof(b->new3), .type = 3, .data_len = 8,
	};
}

TEST_F(errpath, batch_that_cannot_be_written_back_runs_nothing)
{
	uint64_t t = node(self->heap, 0, 0);
	uint64_t t_refs = refs(self->heap, t);
	struct objheap_batch cmd = {
		.size = sizeof(cmd),
		.count = 4,
		.len = sizeof(struct creating_batch),
	};
	struct creating_batch *rb, local;
	struct heap_state before;

	heap_state(self->heap, &before);

	/* The entries in a read-only page. */
	creating_batch(&local, t);
	rb = read_only_copy(self, &local, sizeof(local));
	ASSERT_NE(NULL, rb);
	cmd.buf_uptr = (uintptr_t)rb;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_BATCH, &cmd));
	EXPECT_HEAP_STATE(before);
	EXPECT_EQ(t_refs, refs(self->heap, t));

	/* Writable entries, a read-only struct objheap_batch. */
	cmd.buf_uptr = (uintptr_t)&local;
	EXPECT_EQ(-EFAULT, IOCTL_READ_ONLY(OBJHEAP_BATCH, cmd));
	EXPECT_HEAP_STATE(before);
	EXPECT_EQ(t_refs, refs(self->heap, t));
	EXPECT_EQ(0, local.new0.out_handle);

	/* Entries that run into the guard page. */
	ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ | PROT_WRITE));
	rb = (struct creating_batch *)(self->page + PAGE - 64);
	memcpy(rb, &local, 64);
	cmd.buf_uptr = (uintptr_t)rb;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_BATCH, &cmd));
	EXPECT_HEAP_STATE(before);

	/* Writable, the same batch runs and every handle reaches userspace. */
	cmd.buf_uptr = (uintptr_t)&local;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_BATCH, &cmd));
	EXPECT_EQ(4, cmd.out_done);
	EXPECT_EQ(0, cmd.out_failed);
	EXPECT_LIVE(before.live + 3);
	EXPECT_EQ(t, local.dup.out_handle);
	ASSERT_EQ(0, objheap_release(self->heap, local.new0.out_handle));
	ASSERT_EQ(0, objheap_release(self->heap, local.new1.out_handle));
	ASSERT_EQ(0, objheap_release(self->heap, local.new3.out_handle));
	ASSERT_EQ(0, objheap_release(self->heap, local.dup.out_handle));
	/* new0 asked for finalization: it is handed out once, then freed. */
	EXPECT_EQ(1, read_events(self->fd));
	EXPECT_LIVE(before.live + 1);
	ASSERT_EQ(0, objheap_release(self->heap, local.new0.out_handle));
	ASSERT_EQ(0, objheap_release(self->heap, t));
	EXPECT_LIVE(0);
}

/* A batch of one DUP and one INFO entry, sizes set by the test. */
struct two_entries {
	struct objheap_batch_entry e0;
	struct objheap_handle_cmd dup;
	struct objheap_batch_entry e1;
	struct objheap_info info;
};

static int submit(int fd, void *buf, uint32_t count, uint32_t len,
		  struct objheap_batch *cmd)
{
	*cmd = (struct objheap_batch){
		.size = sizeof(*cmd),
		.count = count,
		.len = len,
		.buf_uptr = (uintptr_t)buf,
	};
	return ioctl(fd, OBJHEAP_BATCH, cmd) ? -errno : 0;
}

TEST_F(errpath, batch_sizes_that_would_wrap_are_refused)
{
	/* Sizes whose sum with an entry's offset passes 2^32. */
	static const uint32_t sizes[] = {
		0xffffffffU, 0xfffffff8U, 0xfffffff0U, 0xffffffe8U,
		0x80000000U, 0xffffffffU - 8,
	};
	uint64_t h = node(self->heap, 0, 0), h_refs = refs(self->heap, h);
	struct objheap_batch res;
	struct two_entries b;
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&b, 0, sizeof(b));
		b.e0.cmd = OBJHEAP_CMD_DUP;
		b.dup = (struct objheap_handle_cmd){ .size = sizeof(b.dup), .handle = h };
		b.e1.cmd = OBJHEAP_CMD_INFO;
		b.info = (struct objheap_info){ .size = sizeof(b.info), .handle = h };

		b.dup.size = sizes[i];
		EXPECT_EQ(-EINVAL, submit(self->fd, &b, 2, sizeof(b), &res));
		EXPECT_EQ(-EINVAL, submit(self->fd, &b, 1, sizeof(b), &res));
		b.dup.size = sizeof(b.dup);
		b.info.size = sizes[i];
		EXPECT_EQ(-EINVAL, submit(self->fd, &b, 2, sizeof(b), &res));
		EXPECT_EQ(0, b.e0.out_result);
		EXPECT_EQ(0, b.dup.out_handle);
	}
	EXPECT_EQ(h_refs, refs(self->heap, h));

	/* The same layout with true sizes runs. */
	b.info.size = sizeof(b.info);
	ASSERT_EQ(0, submit(self->fd, &b, 2, sizeof(b), &res));
	EXPECT_EQ(2, res.out_done);
	EXPECT_EQ(h, b.dup.out_handle);
	ASSERT_EQ(0, objheap_release(self->heap, h));
	ASSERT_EQ(0, objheap_release(self->heap, h));
}

/* A batch of @count READ or WRITE entries of @len bytes each. */
static void *rw_batch(uint32_t nr, uint32_t count, uint64_t h, uint32_t len,
		      void *buf, uint32_t *blen)
{
	const uint32_t step = sizeof(struct objheap_batch_entry) +
			      sizeof(struct objheap_rw);
	uint8_t *b = calloc(count, step);
	uint32_t i;

	if (!b)
		return NULL;
	for (i = 0; i < count; i++) {
		struct objheap_batch_entry *e = (void *)(b + i * step);
		struct objheap_rw *rw = (void *)(e + 1);

		e->cmd = nr;
		e->out_result = 12345;
		*rw = (struct objheap_rw){
			.size = sizeof(*rw), .handle = h, .len = len,
			.buf_uptr = (uintptr_t)buf,
		};
	}
	*blen = count * step;
	return b;
}

static int rw_results(const uint8_t *b, uint32_t count, int32_t expected)
{
	const uint32_t step = sizeof(struct objheap_batch_entry) +
			      sizeof(struct objheap_rw);
	uint32_t i;

	for (i = 0; i < count; i++) {
		const struct objheap_batch_entry *e = (const void *)(b + i * step);

		if (e->out_result != expected)
			return -1;
	}
	return 0;
}

TEST_F_TIMEOUT(errpath, batch_work_is_bounded, 300)
{
	const uint32_t mib = 1U << 20;
	const uint32_t fit = OBJHEAP_BATCH_MAX_BYTES / mib;
	uint64_t h, big[2] = { 0, 0 };
	struct objheap_batch res;
	uint8_t *payload, *buf;
	struct heap_state before;
	uint32_t len;
	void *b;

	payload = malloc(mib);
	buf = calloc(1, mib);
	ASSERT_NE(NULL, payload);
	ASSERT_NE(NULL, buf);
	memset(payload, 0xab, mib);
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 0, payload, mib, NULL, &h));

	/* One READ of a MiB too many: refused before any entry runs. */
	b = rw_batch(OBJHEAP_CMD_READ, fit + 1, h, mib, buf, &len);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(-EINVAL, submit(self->fd, b, fit + 1, len, &res));
	EXPECT_EQ(0, rw_results(b, fit + 1, 12345));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[mib - 1]);
	free(b);
	/* Exactly the budget runs. */
	b = rw_batch(OBJHEAP_CMD_READ, fit, h, mib, buf, &len);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(0, submit(self->fd, b, fit, len, &res));
	EXPECT_EQ(fit, res.out_done);
	EXPECT_EQ(0, rw_results(b, fit, 0));
	EXPECT_EQ(0xab, buf[mib - 1]);
	free(b);
	/* WRITE counts the same. */
	b = rw_batch(OBJHEAP_CMD_WRITE, fit + 1, h, mib, buf, &len);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(-EINVAL, submit(self->fd, b, fit + 1, len, &res));
	EXPECT_EQ(0, rw_results(b, fit + 1, 12345));
	free(b);

	/*
	 * NEW counts its payload and its slot array: two of the largest
	 * objects with every slot pass the budget.  The limit is low, so
	 * that a kernel without the budget fails them without allocating.
	 */
	ASSERT_EQ(0, objheap_set_limit(self->heap, 16 * mib));
	heap_state(self->heap, &before);
	{
		struct {
			struct objheap_batch_entry e0;
			struct objheap_new n0;
			struct objheap_batch_entry e1;
			struct objheap_new n1;
		} nb;

		memset(&nb, 0, sizeof(nb));
		nb.e0.cmd = OBJHEAP_CMD_NEW;
		nb.n0 = (struct objheap_new){
			.size = sizeof(nb.n0), .nslots = OBJHEAP_MAX_SLOTS,
			.data_len = OBJHEAP_MAX_SIZE,
		};
		nb.e1 = nb.e0;
		nb.n1 = nb.n0;
		EXPECT_EQ(-EINVAL, submit(self->fd, &nb, 2, sizeof(nb), &res));
		EXPECT_EQ(0, nb.e0.out_result);
		/* One of them alone fits the budget (and fails on the limit). */
		EXPECT_EQ(0, submit(self->fd, &nb, 1, sizeof(nb.e0) + sizeof(nb.n0),
				    &res));
		EXPECT_EQ(-ENOMEM, nb.e0.out_result);
		big[0] = nb.n0.out_handle;
	}
	EXPECT_EQ(0, big[0]);
	EXPECT_HEAP_STATE(before);

	/*
	 * INTERN counts its payload and RESIZE its new size: three of the
	 * largest pass the budget, two fit it.  Either runs, or fails on the
	 * limit, entry by entry, in a kernel that does not count them.
	 */
	{
		struct {
			struct objheap_batch_entry e;
			struct objheap_intern in;
		} ib[3];
		struct {
			struct objheap_batch_entry e;
			struct objheap_resize rs;
		} rb[3];
		int i;

		memset(ib, 0, sizeof(ib));
		memset(rb, 0, sizeof(rb));
		for (i = 0; i < 3; i++) {
			ib[i].e.cmd = OBJHEAP_CMD_INTERN;
			ib[i].e.out_result = 12345;
			ib[i].in = (struct objheap_intern){
				.size = sizeof(ib[i].in),
				.data_len = OBJHEAP_MAX_SIZE,
				.data_uptr = (uintptr_t)payload,
			};
			rb[i].e.cmd = OBJHEAP_CMD_RESIZE;
			rb[i].e.out_result = 12345;
			rb[i].rs = (struct objheap_resize){
				.size = sizeof(rb[i].rs),
				.flags = OBJHEAP_RESIZE_DATA,
				.handle = h,
				.data_len = OBJHEAP_MAX_SIZE,
			};
		}
		EXPECT_EQ(-EINVAL, submit(self->fd, ib, 3, sizeof(ib), &res));
		for (i = 0; i < 3; i++)
			EXPECT_EQ(12345, ib[i].e.out_result);
		EXPECT_EQ(-EINVAL, submit(self->fd, rb, 3, sizeof(rb), &res));
		for (i = 0; i < 3; i++)
			EXPECT_EQ(12345, rb[i].e.out_result);
		/* Two fit; h is not resizable, so each entry fails alone. */
		EXPECT_EQ(0, submit(self->fd, rb, 2, sizeof(rb[0]) * 2, &res));
		EXPECT_EQ(1, res.out_done);
		EXPECT_EQ(-EINVAL, rb[0].e.out_result);
	}
	EXPECT_HEAP_STATE(before);
	ASSERT_EQ(0, objheap_release(self->heap, h));
	free(payload);
	free(buf);
}

/*
 * A batch of READs that a parent kills while it runs.  Entry 0 copies 8
 * bytes into memory the parent watches; the others copy 128 KiB each,
 * within the batch's budget, into private memory.
 */
#define KILL_ENTRIES	4096
#define KILL_CHUNK	(128U << 10)

struct kill_rw_entry {
	struct objheap_batch_entry e;
	struct objheap_rw rw;
};

struct kill_shared {
	struct objheap_batch cmd;
	uint64_t flag;
	struct kill_rw_entry entries[KILL_ENTRIES];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One kill: the entries that ran (-1 on error) and the time to reap. */
static int kill_one_batch(int fd, uint64_t h, struct kill_shared *sh,
			  uint8_t *scratch, double *reap_s)
{
	volatile uint64_t *flag = &sh->flag;
	double start;
	int i, status;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < KILL_ENTRIES; i++) {
		sh->entries[i].e.cmd = OBJHEAP_CMD_READ;
		sh->entries[i].e.out_result = 12345;
		sh->entries[i].rw = (struct objheap_rw){
			.size = sizeof(struct objheap_rw), .handle = h,
			.len = i ? KILL_CHUNK : 8,
			.buf_uptr = i ? (uintptr_t)scratch : (uintptr_t)&sh->flag,
		};
	}
	sh->cmd = (struct objheap_batch){
		.size = sizeof(sh->cmd),
		.count = KILL_ENTRIES,
		.len = sizeof(sh->entries),
		.buf_uptr = (uintptr_t)sh->entries,
	};
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		ioctl(fd, OBJHEAP_BATCH, &sh->cmd);
		_exit(0);
	}
	start = now_s();
	while (!*flag && now_s() - start < 30)
		;
	kill(pid, SIGKILL);
	start = now_s();
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
		return -1;
	*reap_s = now_s() - start;
	return *flag ? (int)sh->cmd.out_done : -1;
}

TEST_F_TIMEOUT(errpath, killed_batch_stops_between_entries, 300)
{
	struct kill_shared *sh;
	uint8_t *scratch, *payload;
	double reap_s = 0;
	int done = -1, attempt, i;
	uint64_t h;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	scratch = malloc(KILL_CHUNK);
	payload = calloc(1, KILL_CHUNK);
	ASSERT_NE(NULL, scratch);
	ASSERT_NE(NULL, payload);
	memset(scratch, 0, KILL_CHUNK);
	memset(payload, 0x5a, 8);
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 0, payload, KILL_CHUNK, NULL,
				 &h));

	/* Should the kill land after the last entry, try again. */
	for (attempt = 0; attempt < 3; attempt++) {
		done = kill_one_batch(self->fd, h, sh, scratch, &reap_s);
		ASSERT_LE(0, done);
		TH_LOG("attempt %d: %d of %d entries ran, reaped in %.3f s",
		       attempt, done, KILL_ENTRIES, reap_s);
		if (done < KILL_ENTRIES)
			break;
	}
	/* Stopped between two entries: what ran stands, the rest cancelled. */
	EXPECT_LT(done, KILL_ENTRIES);
	EXPECT_LE(1, done);
	EXPECT_LT(reap_s, 5.0);
	EXPECT_EQ(0, sh->cmd.out_failed);
	for (i = 0; i < KILL_ENTRIES; i++) {
		if (sh->entries[i].e.out_result != (i < done ? 0 : -ECANCELED)) {
			EXPECT_EQ(i < done ? 0 : -ECANCELED,
				  sh->entries[i].e.out_result);
			TH_LOG("entry %d", i);
			break;
		}
	}
	/* The heap goes on: the object is intact and the checker happy. */
	EXPECT_EQ(0x100000001ULL, refs(self->heap, h));
	EXPECT_LIVE(1);
	ASSERT_EQ(0, objheap_release(self->heap, h));
	munmap(sh, sizeof(*sh));
	free(scratch);
	free(payload);
}

TEST_HARNESS_MAIN
