// SPDX-License-Identifier: GPL-2.0
/*
 * Payloads (DOC: Payloads in <linux/objheap.h>): mapping a mappable
 * object's payload (coherence with READ and WRITE, across mappings and
 * fork(), the lifetime a mapping gives the object and its heap, the
 * protections, the offsets and ranges and their errnos), OBJHEAP_RESIZE
 * (size classes, slots, the block rules seen through OBJHEAP_STATS),
 * OBJHEAP_SEAL and OBJHEAP_SEAL_INTERN, a large READ in pieces beside
 * small commands, batches of RESIZE and SEAL, a storm of mappings with
 * killed children for kmemleak, and the new commands' cmd_length and
 * errno contract.
 *
 * Everything is called through the raw helpers below, with ioctl() and
 * mmap() on file descriptors.  Every mapping a test makes through
 * pmap() is recorded, so that the teardown unmaps what a failed test
 * left, kills the children it left, closes its other attachments, then
 * closes the heap and asserts that the module holds nothing.
 *
 * Where the header leaves a behaviour open, the test that relies on an
 * assumption says so in a comment that starts with "Assumed".
 */
#define _GNU_SOURCE
/* Offsets are 64 bits wide, in a 32-bit program too (mmap2's pgoff). */
#define _FILE_OFFSET_BITS 64
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include "objheap_raw.h"
#include <libobjheap.h>

#define MAX_MAPS	64
#define MAX_ATT		8
#define MAX_KIDS	16

FIXTURE(payload) {
	struct objheap *heap;
	int fd;
	size_t page;
	struct { void *p; size_t len; } map[MAX_MAPS];
	int att[MAX_ATT];	/* attachments the test made, -1 once closed */
	int natt;
	pid_t kid[MAX_KIDS];	/* children the test forked, 0 once reaped */
	int nkid;
};

FIXTURE_SETUP(payload)
{
	int i;

	for (i = 0; i < MAX_ATT; i++)
		self->att[i] = -1;
	self->page = sysconf(_SC_PAGESIZE);
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	/* Collections happen when a test asks for them. */
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
}

FIXTURE_TEARDOWN(payload)
{
	int i;

	for (i = 0; i < self->nkid; i++) {
		if (self->kid[i] > 0) {
			kill(self->kid[i], SIGKILL);
			waitpid(self->kid[i], NULL, 0);
		}
	}
	for (i = 0; i < MAX_MAPS; i++)
		if (self->map[i].p)
			munmap(self->map[i].p, self->map[i].len);
	for (i = 0; i < self->natt; i++)
		if (self->att[i] >= 0)
			close(self->att[i]);
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

/* ---- raw helpers: 0 (or a documented value) on success, -errno ---- */

/* A new object of type 7 with @flags and @len zero bytes, or 0. */
static uint64_t node(int fd, uint32_t flags, uint32_t nslots, uint32_t len)
{
	uint64_t h = 0;

	return obj_new(fd, 7, flags, nslots, NULL, len, NULL, &h) ? 0 : h;
}

/* Its flags, or ~0 when INFO fails. */
static uint32_t oflags(int fd, uint64_t h)
{
	struct objheap_info info;

	return obj_info(fd, h, &info) ? ~0U : info.out_flags;
}

/* Its payload's length, or ~0 when INFO fails. */
static uint32_t data_len(int fd, uint64_t h)
{
	struct objheap_info info;

	return obj_info(fd, h, &info) ? ~0U : info.out_data_len;
}

/* Its slot count, or ~0 when INFO fails. */
static uint32_t nslots(int fd, uint64_t h)
{
	struct objheap_info info;

	return obj_info(fd, h, &info) ? ~0U : info.out_nslots;
}

static int obj_rw(int fd, unsigned long nr, uint64_t h, uint32_t offset,
		  const void *buf, uint32_t len)
{
	struct objheap_rw rw = {
		.size = sizeof(rw), .handle = h, .offset = offset, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};

	return xioctl(fd, nr, &rw);
}

static int obj_read(int fd, uint64_t h, uint32_t offset, void *buf,
		    uint32_t len)
{
	return obj_rw(fd, OBJHEAP_READ, h, offset, buf, len);
}

static int obj_write(int fd, uint64_t h, uint32_t offset, const void *buf,
		     uint32_t len)
{
	return obj_rw(fd, OBJHEAP_WRITE, h, offset, buf, len);
}

static int set_slot(int fd, uint64_t h, uint32_t index, uint64_t target)
{
	struct objheap_slot s = {
		.size = sizeof(s), .handle = h, .index = index,
		.target = target,
	};

	return xioctl(fd, OBJHEAP_SET_SLOT, &s);
}

static int get_slot(int fd, uint64_t h, uint32_t index, uint64_t *outp)
{
	struct objheap_slot s = {
		.size = sizeof(s), .handle = h, .index = index,
	};
	int ret = xioctl(fd, OBJHEAP_GET_SLOT, &s);

	if (!ret)
		*outp = s.out_handle;
	return ret;
}

/* What slot @index holds, the reference GET_SLOT took given back; ~0. */
static uint64_t slot_of(int fd, uint64_t h, uint32_t index)
{
	uint64_t got;

	if (get_slot(fd, h, index, &got))
		return ~0ULL;
	if (got && obj_release(fd, got))
		return ~0ULL;
	return got;
}

static int weakref_new(int fd, uint64_t target, uint64_t *wp)
{
	struct objheap_weakref w = { .size = sizeof(w), .handle = target };
	int ret = xioctl(fd, OBJHEAP_WEAKREF_NEW, &w);

	if (!ret)
		*wp = w.out_handle;
	return ret;
}

/* WEAKREF_GET: out_alive, or -errno; *@outp the target (a reference). */
static int weak_get(int fd, uint64_t w, uint64_t *outp)
{
	struct objheap_weakref c = { .size = sizeof(c), .handle = w };
	int ret = xioctl(fd, OBJHEAP_WEAKREF_GET, &c);

	if (ret)
		return ret;
	*outp = c.out_handle;
	return c.out_alive;
}

/*
 * 1 while weak reference @w's target lives, 0 once it is dead, or -errno.
 * The reference WEAKREF_GET returns is given back at once.
 */
static int alive(int fd, uint64_t w)
{
	uint64_t got = 0;
	int ret = weak_get(fd, w, &got);

	if (ret < 0)
		return ret;
	if (got && obj_release(fd, got))
		return -EIO;
	return ret;
}

static int map_offset(int fd, uint64_t h, uint64_t *offp, uint32_t *lenp)
{
	struct objheap_map_offset m = { .size = sizeof(m), .handle = h };
	int ret = xioctl(fd, OBJHEAP_MAP_OFFSET, &m);

	if (ret)
		return ret;
	if (offp)
		*offp = m.out_offset;
	if (lenp)
		*lenp = m.out_data_len;
	return 0;
}

/* The offset of @h in @fd's attachment, or ~0 on error. */
static uint64_t offset_of(int fd, uint64_t h)
{
	uint64_t off;

	return map_offset(fd, h, &off, NULL) ? ~0ULL : off;
}

static int resize(int fd, uint64_t h, uint32_t flags, uint32_t ns,
		  uint32_t len)
{
	struct objheap_resize r = {
		.size = sizeof(r), .flags = flags, .handle = h, .nslots = ns,
		.data_len = len,
	};

	return xioctl(fd, OBJHEAP_RESIZE, &r);
}

static int resize_data(int fd, uint64_t h, uint32_t len)
{
	return resize(fd, h, OBJHEAP_RESIZE_DATA, 0, len);
}

static int seal(int fd, uint64_t h, uint32_t flags, uint64_t *outp)
{
	struct objheap_seal s = {
		.size = sizeof(s), .flags = flags, .handle = h,
		.out_handle = outp ? *outp : 0,
	};
	int ret = xioctl(fd, OBJHEAP_SEAL, &s);

	if (!ret && outp)
		*outp = s.out_handle;
	return ret;
}

static uint32_t live(int fd)
{
	return objheap_test_objects(fd).objects.out_live;
}

/* Pages and large allocations all heaps hold, module-wide; ~0 on error. */
static uint64_t module_held(int fd)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd), .op = OBJHEAP_TEST_OP_ALLOC_HELD,
	};

	if (ioctl(fd, OBJHEAP_TEST, &cmd))
		return ~0ULL;
	return cmd.held.out_pages + cmd.held.out_large;
}

/* OBJHEAP_ATTACH from @fd: the new file, or -errno. */
static int attach(int fd, uint32_t flags, uint32_t *idp)
{
	struct objheap_attach a = { .size = sizeof(a), .flags = flags };
	int ret = xioctl(fd, OBJHEAP_ATTACH, &a);

	if (ret)
		return ret;
	if (idp)
		*idp = a.out_id;
	return a.out_fd;
}

/* An attachment closed by the teardown, if the test does not close it. */
static int track(FIXTURE_DATA(payload) *self, int fd)
{
	if (fd >= 0 && self->natt < MAX_ATT)
		self->att[self->natt++] = fd;
	return fd;
}

static void untrack_close(FIXTURE_DATA(payload) *self, int fd)
{
	int i;

	for (i = 0; i < self->natt; i++)
		if (self->att[i] == fd)
			self->att[i] = -1;
	close(fd);
}

static int name_cmd(int fd, unsigned long nr, const char *name, uint64_t h,
		    uint64_t *outp)
{
	struct objheap_name n = {
		.size = sizeof(n), .name_uptr = (uintptr_t)name,
		.name_len = strlen(name), .handle = h,
	};
	int ret = xioctl(fd, nr, &n);

	if (!ret && outp)
		*outp = n.out_handle;
	return ret;
}

static int send_obj(int fd, uint64_t h, uint32_t to)
{
	struct objheap_send s = { .size = sizeof(s), .handle = h, .to = to };

	return xioctl(fd, OBJHEAP_SEND, &s);
}

/*
 * The handle of the next RECEIVED record on @fd, past the records of
 * other types (DETACHED, when other attachments go), or 0.
 */
static uint64_t receive(int fd)
{
	struct objheap_event ev;

	do {
		if (read(fd, &ev, sizeof(ev)) != sizeof(ev))
			return 0;
	} while (ev.type != OBJHEAP_EVENT_RECEIVED);
	return ev.handle;
}

/* fork(), the child recorded for the teardown. */
static pid_t fork_kid(FIXTURE_DATA(payload) *self)
{
	pid_t pid;

	int i;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid <= 0)
		return pid;
	for (i = 0; i < self->nkid && self->kid[i]; i++)
		;
	if (i < MAX_KIDS) {
		self->kid[i] = pid;
		if (i == self->nkid)
			self->nkid++;
	}
	return pid;
}

/* waitpid() on a child of fork_kid(): its status, or -1. */
static int reap(FIXTURE_DATA(payload) *self, pid_t pid)
{
	int status, i;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	for (i = 0; i < self->nkid; i++)
		if (self->kid[i] == pid)
			self->kid[i] = 0;
	return status;
}

#define EXPECT_EXITED_0(status)						\
	do {								\
		int __st = (status);					\
									\
		EXPECT_TRUE(WIFEXITED(__st));				\
		EXPECT_EQ(0, WEXITSTATUS(__st));			\
	} while (0)

/* In a child: exit with the current line when @cond is false. */
#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: %s failed (errno %d)\n",	\
			       __FILE__, __LINE__, #cond, errno);	\
			fflush(stdout);					\
			_exit(__LINE__ % 250 + 2);			\
		}							\
	} while (0)

/* ---- mappings ---- */

/*
 * mmap(MAP_SHARED) of attachment @fd at @off: the mapping, recorded for
 * the teardown, or MAP_FAILED with errno set.
 */
static void *pmap(FIXTURE_DATA(payload) *self, int fd, size_t len, int prot,
		  uint64_t off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);
	int i;

	if (p == MAP_FAILED)
		return p;
	for (i = 0; i < MAX_MAPS; i++) {
		if (!self->map[i].p) {
			self->map[i].p = p;
			self->map[i].len = len;
			break;
		}
	}
	return p;
}

/* munmap() of a mapping pmap() made: 0 or -errno. */
static int punmap(FIXTURE_DATA(payload) *self, void *p)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++) {
		if (self->map[i].p == p) {
			self->map[i].p = NULL;
			return munmap(p, self->map[i].len) ? -errno : 0;
		}
	}
	return -ENOENT;
}

/* mmap() must fail with @err (the mapping is undone if it did not). */
#define EXPECT_MAP_ERRNO(err, fd, len, prot, flags, off)		\
	do {								\
		void *__p = mmap(NULL, (len), (prot), (flags), (fd),	\
				 (off_t)(off));				\
		int __e = errno;					\
									\
		EXPECT_EQ(MAP_FAILED, __p);				\
		if (__p != MAP_FAILED)					\
			munmap(__p, (len));				\
		else							\
			EXPECT_EQ((err), __e);				\
	} while (0)

static size_t pages(FIXTURE_DATA(payload) *self, size_t len)
{
	return (len + self->page - 1) / self->page;
}

/* ---- payload patterns ---- */

/* Byte @i of pattern @seed: never zero, so that zero fill stands out. */
static uint8_t pat(uint32_t i, uint32_t seed)
{
	return 1 + (i * 7 + (i >> 12) * 13 + seed * 31) % 251;
}

/* Pattern @seed's bytes @from to @from + @len, into @buf. */
static void fill(void *buf, uint32_t from, uint32_t len, uint32_t seed)
{
	uint8_t *b = buf;
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = pat(from + i, seed);
}

/* The first byte of @buf that is not pattern @seed from @from, or -1. */
static long mismatch(const volatile void *buf, uint32_t from, uint32_t len,
		     uint32_t seed)
{
	const volatile uint8_t *b = buf;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (b[i] != pat(from + i, seed))
			return i;
	return -1;
}

/* The first byte of @buf that is not zero, or -1. */
static long nonzero(const volatile void *buf, size_t len)
{
	const volatile uint8_t *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return i;
	return -1;
}

/* A new object with @flags whose @len bytes are pattern @seed, or 0. */
static uint64_t pattern_obj(int fd, uint32_t flags, uint32_t len,
			    uint32_t seed)
{
	uint8_t *buf = malloc(len ? len : 1);
	uint64_t h = 0;

	if (!buf)
		return 0;
	fill(buf, 0, len, seed);
	if (obj_new(fd, 7, flags, 0, buf, len, NULL, &h))
		h = 0;
	free(buf);
	return h;
}

/* Whether @h's payload, read whole, is pattern @seed: -1, or where not. */
static long read_mismatch(int fd, uint64_t h, uint32_t len, uint32_t seed)
{
	uint8_t *buf = malloc(len ? len : 1);
	long ret;

	if (!buf)
		return -2;
	ret = obj_read(fd, h, 0, buf, len) ? -3 : mismatch(buf, 0, len, seed);
	free(buf);
	return ret;
}

/* ---- a raw batch builder ---- */

struct rbatch {
	uint8_t buf[4096] __attribute__((aligned(8)));
	uint32_t len, count;
	uint32_t off[64];
};

/* Append an entry of command @nr whose structure is @cmd: its index. */
static int rb_add(struct rbatch *b, uint32_t nr, const void *cmd,
		  uint32_t size)
{
	struct objheap_batch_entry *e = (void *)(b->buf + b->len);
	uint32_t step = (sizeof(*e) + size + 7) & ~7U;

	if (b->count == 64 || b->len + step > sizeof(b->buf))
		return -ENOSPC;
	e->cmd = nr;
	e->out_result = 12345;
	memcpy(e + 1, cmd, size);
	b->off[b->count] = b->len;
	b->len += step;
	return b->count++;
}

static int rb_submit(int fd, struct rbatch *b, uint32_t flags,
		     struct objheap_batch *res)
{
	*res = (struct objheap_batch){
		.size = sizeof(*res), .flags = flags, .count = b->count,
		.len = b->len, .buf_uptr = (uintptr_t)b->buf,
	};
	return xioctl(fd, OBJHEAP_BATCH, res);
}

static int32_t rb_result(struct rbatch *b, uint32_t i)
{
	return ((struct objheap_batch_entry *)(b->buf + b->off[i]))->out_result;
}

/* Entry @i's structure, as the kernel wrote it back. */
static void *rb_cmd(struct rbatch *b, uint32_t i)
{
	return b->buf + b->off[i] + sizeof(struct objheap_batch_entry);
}

static int rb_new(struct rbatch *b, uint32_t flags, uint32_t ns,
		  const void *data, uint32_t len)
{
	struct objheap_new n = {
		.size = sizeof(n), .flags = flags, .type = 9, .nslots = ns,
		.data_len = len, .data_uptr = (uintptr_t)data,
	};

	return rb_add(b, OBJHEAP_CMD_NEW, &n, sizeof(n));
}

static int rb_resize(struct rbatch *b, uint64_t h, uint32_t flags,
		     uint32_t ns, uint32_t len)
{
	struct objheap_resize r = {
		.size = sizeof(r), .flags = flags, .handle = h, .nslots = ns,
		.data_len = len,
	};

	return rb_add(b, OBJHEAP_CMD_RESIZE, &r, sizeof(r));
}

static int rb_seal(struct rbatch *b, uint64_t h, uint32_t flags)
{
	struct objheap_seal s = {
		.size = sizeof(s), .flags = flags, .handle = h,
	};

	return rb_add(b, OBJHEAP_CMD_SEAL, &s, sizeof(s));
}

static int rb_rw(struct rbatch *b, uint32_t nr, uint64_t h, uint32_t offset,
		 const void *buf, uint32_t len)
{
	struct objheap_rw rw = {
		.size = sizeof(rw), .handle = h, .offset = offset, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};

	return rb_add(b, nr, &rw, sizeof(rw));
}

static int rb_info(struct rbatch *b, uint64_t h)
{
	struct objheap_info i = { .size = sizeof(i), .handle = h };

	return rb_add(b, OBJHEAP_CMD_INFO, &i, sizeof(i));
}

static int rb_release(struct rbatch *b, uint64_t h)
{
	struct objheap_handle_cmd c = { .size = sizeof(c), .handle = h };

	return rb_add(b, OBJHEAP_CMD_RELEASE, &c, sizeof(c));
}

/* ==== 1. offsets ==== */

TEST_F(payload, map_offset_is_a_stable_page_multiple_with_the_length)
{
	uint32_t len1 = 3 * self->page + 5, len2 = 1, l;
	uint64_t a, b, oa, ob, o;
	size_t na, nb;

	a = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len1, 1);
	b = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len2, 2);
	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE, oflags(self->fd, a));

	ASSERT_EQ(0, map_offset(self->fd, a, &oa, &l));
	EXPECT_EQ(len1, l);
	EXPECT_EQ(0, oa % self->page);
	ASSERT_EQ(0, map_offset(self->fd, a, &o, &l));
	EXPECT_EQ(oa, o);
	EXPECT_EQ(len1, l);
	ASSERT_EQ(0, map_offset(self->fd, b, &ob, &l));
	EXPECT_EQ(len2, l);
	EXPECT_EQ(0, ob % self->page);
	/*
	 * offset + k pages maps page k of the payload: two live objects'
	 * ranges of pages cannot meet.
	 */
	na = pages(self, len1);
	nb = pages(self, len2);
	EXPECT_FALSE(ob >= oa && ob < oa + na * self->page);
	EXPECT_FALSE(oa >= ob && oa < ob + nb * self->page);
	/* Asking again after other commands changes nothing. */
	ASSERT_EQ(0, obj_write(self->fd, a, 0, "x", 1));
	EXPECT_EQ(oa, offset_of(self->fd, a));
	EXPECT_EQ(ob, offset_of(self->fd, b));

	/* MAP_OFFSET takes no reference. */
	EXPECT_EQ(1, refcnt(self->fd, a));
	ASSERT_EQ(0, obj_release(self->fd, a));
	ASSERT_EQ(0, obj_release(self->fd, b));
	EXPECT_LIVE(0);
}

TEST_F(payload, map_offset_errors)
{
	struct objheap_map_offset m = { .size = sizeof(m) };
	uint64_t plain = node(self->fd, 0, 0, 64);
	uint64_t rsz = node(self->fd, OBJHEAP_OBJ_RESIZABLE, 0, 64);
	uint64_t map = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, 64);
	uint64_t dead = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, 64), w;
	struct {
		struct objheap_batch_entry e;
		struct objheap_map_offset m;
	} bm;
	struct objheap_batch ba = { .size = sizeof(ba), .count = 1 };

	ASSERT_NE(0, plain);
	ASSERT_NE(0, rsz);
	ASSERT_NE(0, map);
	ASSERT_NE(0, dead);
	ASSERT_EQ(0, weakref_new(self->fd, map, &w));
	ASSERT_EQ(0, obj_release(self->fd, dead));

	/* Not created with OBJHEAP_OBJ_MAPPABLE: EINVAL. */
	EXPECT_EQ(-EINVAL, map_offset(self->fd, plain, NULL, NULL));
	EXPECT_EQ(-EINVAL, map_offset(self->fd, rsz, NULL, NULL));
	EXPECT_EQ(-EINVAL, map_offset(self->fd, w, NULL, NULL));
	/* No live object: ENOENT. */
	EXPECT_EQ(-ENOENT, map_offset(self->fd, dead, NULL, NULL));
	EXPECT_EQ(-ENOENT, map_offset(self->fd, 0, NULL, NULL));
	EXPECT_EQ(-ENOENT, map_offset(self->fd, map ^ 0x10000, NULL, NULL));
	/* A batch reference outside a batch. */
	EXPECT_EQ(-EINVAL, map_offset(self->fd, OBJHEAP_BATCH_REF(0), NULL,
				      NULL));
	/* Flags and the reserved field. */
	m.handle = map;
	m.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_MAP_OFFSET, &m));
	m.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_MAP_OFFSET, &m));
	m.flags = 0;
	m.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_MAP_OFFSET, &m));
	m.__reserved = 0;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_MAP_OFFSET, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_MAP_OFFSET,
				   (void *)-4096L));
	/* MAP_OFFSET cannot be batched: the batch is refused whole. */
	memset(&bm, 0, sizeof(bm));
	bm.e.cmd = OBJHEAP_CMD_MAP_OFFSET;
	bm.m = (struct objheap_map_offset){ .size = sizeof(bm.m),
					    .handle = map };
	ba.len = sizeof(bm);
	ba.buf_uptr = (uintptr_t)&bm;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_BATCH, &ba));
	EXPECT_EQ(0, bm.m.out_offset);

	ASSERT_EQ(0, xioctl(self->fd, OBJHEAP_MAP_OFFSET, &m));
	EXPECT_EQ(64, m.out_data_len);
	EXPECT_EQ(1, refcnt(self->fd, map));
	ASSERT_EQ(0, obj_release(self->fd, map));
	EXPECT_EQ(0, alive(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, plain));
	ASSERT_EQ(0, obj_release(self->fd, rsz));
	EXPECT_LIVE(0);
}

/*
 * In an attachment that was never given an offset every offset is ENXIO,
 * another attachment's offsets included; the offset of a dead object is
 * ENXIO too.
 */
TEST_F(payload, offsets_never_given_dead_or_of_another_attachment_are_enxio)
{
	uint32_t len = 2 * self->page, bid;
	uint64_t a, hb, oa, ob, dead, od;
	uint8_t *p;
	int b, c;

	a = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len, 3);
	ASSERT_NE(0, a);
	/* The heap's own attachment before its first MAP_OFFSET. */
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 0);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 self->page);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 1ULL << 28);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 1ULL << 36);

	/* Attachment B looks the object up and gets an offset of its own. */
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_PUBLISH, "pl", a, NULL));
	ASSERT_EQ(0, name_cmd(b, OBJHEAP_LOOKUP, "pl", 0, &hb));
	ASSERT_EQ(0, map_offset(b, hb, &ob, NULL));
	/* ... which the heap's own attachment, with none yet, cannot use. */
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 ob);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED, ob);

	/* Now the other way: A's offset in C, which has none. */
	ASSERT_EQ(0, map_offset(self->fd, a, &oa, NULL));
	c = track(self, attach(self->fd, 0, NULL));
	ASSERT_LE(0, c);
	EXPECT_MAP_ERRNO(ENXIO, c, self->page, PROT_READ, MAP_SHARED, oa);
	EXPECT_MAP_ERRNO(ENXIO, c, self->page, PROT_READ, MAP_SHARED, ob);

	/* Each attachment maps the object with its own offset. */
	p = pmap(self, b, len, PROT_READ, ob);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, len, 3));
	ASSERT_EQ(0, punmap(self, p));
	p = pmap(self, self->fd, len, PROT_READ, oa);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, len, 3));
	ASSERT_EQ(0, punmap(self, p));

	/* A dead object's offset. */
	dead = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, len);
	ASSERT_NE(0, dead);
	ASSERT_EQ(0, map_offset(self->fd, dead, &od, NULL));
	ASSERT_EQ(0, obj_release(self->fd, dead));
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 od);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED, od);
	EXPECT_EQ(-ENOENT, map_offset(self->fd, dead, NULL, NULL));
	/* The live one's offset still maps. */
	p = pmap(self, self->fd, self->page, PROT_READ, oa);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, self->page, 3));
	ASSERT_EQ(0, punmap(self, p));

	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_UNPUBLISH, "pl", 0, NULL));
	ASSERT_EQ(0, obj_release(b, hb));
	ASSERT_EQ(0, obj_release(self->fd, a));
	EXPECT_LIVE(0);
}

/*
 * Payloads of one page less a byte, one page, one page and a byte and
 * three pages: page k maps at offset + k pages for every k below the
 * page count; at k = the page count, and for any range that passes the
 * last page, ENXIO.  The last page's bytes past the payload read zero.
 */
TEST_F(payload, ranges_at_and_past_every_boundary)
{
	const uint32_t lens[] = {
		self->page - 1, self->page, self->page + 1, 3 * self->page,
		self->page / 2,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		uint32_t len = lens[i], l;
		size_t n = pages(self, len), k;
		uint64_t h, off;
		uint8_t *p;

		h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len, 10 + i);
		ASSERT_NE(0, h);
		ASSERT_EQ(0, map_offset(self->fd, h, &off, &l));
		EXPECT_EQ(len, l);
		for (k = 0; k < n; k++) {
			uint32_t from = k * self->page;
			uint32_t in = len - from < self->page ? len - from :
								 self->page;

			p = pmap(self, self->fd, self->page, PROT_READ,
				 off + k * self->page);
			ASSERT_NE(MAP_FAILED, p);
			EXPECT_EQ(-1, mismatch(p, from, in, 10 + i));
			EXPECT_EQ(-1, nonzero(p + in, self->page - in));
			ASSERT_EQ(0, punmap(self, p));
		}
		/* The page after the last one. */
		EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ,
				 MAP_SHARED, off + n * self->page);
		EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page,
				 PROT_READ | PROT_WRITE, MAP_SHARED,
				 off + n * self->page);
		/* Whole, and one page longer. */
		p = pmap(self, self->fd, n * self->page, PROT_READ, off);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, mismatch(p, 0, len, 10 + i));
		EXPECT_EQ(-1, nonzero(p + len, n * self->page - len));
		ASSERT_EQ(0, punmap(self, p));
		/* A length that is not a page multiple is rounded up. */
		p = pmap(self, self->fd, len, PROT_READ, off);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, mismatch(p, 0, len, 10 + i));
		ASSERT_EQ(0, punmap(self, p));
		EXPECT_MAP_ERRNO(ENXIO, self->fd, (n + 1) * self->page,
				 PROT_READ, MAP_SHARED, off);
		/* The last page and the one after it. */
		EXPECT_MAP_ERRNO(ENXIO, self->fd, 2 * self->page, PROT_READ,
				 MAP_SHARED, off + (n - 1) * self->page);
		/* All the pages, from the second one. */
		EXPECT_MAP_ERRNO(ENXIO, self->fd, n * self->page, PROT_READ,
				 MAP_SHARED, off + self->page);
		/* An offset that is not a page multiple (mmap() itself). */
		EXPECT_MAP_ERRNO(EINVAL, self->fd, self->page, PROT_READ,
				 MAP_SHARED, off + 1);
		ASSERT_EQ(0, obj_release(self->fd, h));
	}
	EXPECT_LIVE(0);
}

TEST_F(payload, zero_length_payload_maps_nothing)
{
	uint64_t h = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, 0), off;
	uint32_t l = 1;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, &l));
	EXPECT_EQ(0, l);
	EXPECT_EQ(0, off % self->page);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 off);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ | PROT_WRITE,
			 MAP_SHARED, off);
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

TEST_F(payload, map_private_is_einval)
{
	uint64_t h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, 100, 4), off;
	uint64_t w;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, weakref_new(self->fd, h, &w));
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	EXPECT_MAP_ERRNO(EINVAL, self->fd, self->page, PROT_READ, MAP_PRIVATE,
			 off);
	EXPECT_MAP_ERRNO(EINVAL, self->fd, self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE, off);
	/* A refused mapping took no hold: the object goes with its handle. */
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_EQ(0, alive(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, w));
	EXPECT_LIVE(0);
}

/* ==== 2. coherence ==== */

TEST_F(payload, write_read_and_stores_meet_in_one_process)
{
	uint32_t len = 2 * self->page + 100;
	size_t n = pages(self, len);
	uint64_t h = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, len), off;
	uint8_t *buf = malloc(len), *p, *q, *p1;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, n * self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	/* A new payload is zero, through the mapping too. */
	EXPECT_EQ(-1, nonzero(p, n * self->page));

	/* WRITE, then read through the mapping. */
	fill(buf, 0, len, 20);
	ASSERT_EQ(0, obj_write(self->fd, h, 0, buf, len));
	EXPECT_EQ(-1, mismatch(p, 0, len, 20));
	EXPECT_EQ(-1, nonzero(p + len, n * self->page - len));
	/* A few bytes across a page boundary. */
	ASSERT_EQ(0, obj_write(self->fd, h, self->page - 3, "ABCDEF", 6));
	EXPECT_EQ(0, memcmp(p + self->page - 3, "ABCDEF", 6));

	/* Store through the mapping, then READ. */
	fill(p, 0, len, 21);
	memset(buf, 0, len);
	ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, len));
	EXPECT_EQ(-1, mismatch(buf, 0, len, 21));
	p[len - 1] = 0xee;
	ASSERT_EQ(0, obj_read(self->fd, h, len - 1, buf, 1));
	EXPECT_EQ(0xee, buf[0]);

	/* A second mapping of the whole, and one of the middle page. */
	q = pmap(self, self->fd, n * self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_NE(p, q);
	p1 = pmap(self, self->fd, self->page, PROT_READ, off + self->page);
	ASSERT_NE(MAP_FAILED, p1);
	EXPECT_EQ(0, memcmp(p, q, len));
	EXPECT_EQ(0, memcmp(p + self->page, p1, self->page));
	fill(q, 0, len, 22);
	EXPECT_EQ(-1, mismatch(p, 0, len, 22));
	EXPECT_EQ(-1, mismatch(p1, self->page, self->page, 22));
	p[self->page + 7] = 0;
	EXPECT_EQ(0, q[self->page + 7]);
	EXPECT_EQ(0, p1[7]);
	ASSERT_EQ(0, obj_read(self->fd, h, self->page + 7, buf, 1));
	EXPECT_EQ(0, buf[0]);

	/* The mappings go; the object stays with its handle. */
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, punmap(self, q));
	ASSERT_EQ(0, punmap(self, p1));
	EXPECT_EQ(1, refcnt(self->fd, h));
	EXPECT_LIVE(1);
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
	free(buf);
}

/*
 * A child writes through the mapping it inherited, another maps the
 * payload itself with the attachment it inherited: the parent sees both
 * through its mapping and through READ.
 */
TEST_F(payload, forked_children_store_through_inherited_and_own_mappings)
{
	uint32_t len = 3 * self->page;
	uint64_t h = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, len), off;
	uint8_t *p;
	pid_t pid;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, len, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);

	pid = fork_kid(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		fill(p, 0, len, 30);
		_exit(0);
	}
	EXPECT_EXITED_0(reap(self, pid));
	EXPECT_EQ(-1, mismatch(p, 0, len, 30));
	EXPECT_EQ(-1, read_mismatch(self->fd, h, len, 30));

	pid = fork_kid(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *c;

		/* The same attachment: the same offset. */
		CHECK(offset_of(self->fd, h) == off);
		c = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, off);
		CHECK(c != MAP_FAILED);
		CHECK(mismatch(c, 0, len, 30) == -1);
		fill(c, 0, len, 31);
		CHECK(mismatch(p, 0, len, 31) == -1);
		CHECK(!munmap(c, len));
		_exit(0);
	}
	EXPECT_EXITED_0(reap(self, pid));
	EXPECT_EQ(-1, mismatch(p, 0, len, 31));
	EXPECT_EQ(-1, read_mismatch(self->fd, h, len, 31));

	/* And the parent's WRITE reaches a child's mapping. */
	p[len - 1] = 0;
	pid = fork_kid(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		volatile uint8_t *last = p + len - 1;
		int i;

		for (i = 0; i < 10000 && *last != 0x42; i++)
			usleep(1000);
		CHECK(*last == 0x42);
		_exit(0);
	}
	ASSERT_EQ(0, obj_write(self->fd, h, len - 1, "\x42", 1));
	EXPECT_EXITED_0(reap(self, pid));

	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

/* ==== 3. lifetime ==== */

TEST_F(payload, mapping_keeps_the_object_after_its_handles_go)
{
	uint32_t len = 100;
	uint64_t h, h2, w, off, got;
	uint8_t *p, *q, buf[100];

	h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len, 40);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, weakref_new(self->fd, h, &w));
	ASSERT_EQ(0, handle_cmd(self->fd, OBJHEAP_DUP, h));
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);

	/* Every reference given back: the mapping holds it. */
	ASSERT_EQ(0, obj_release(self->fd, h));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_EQ(-EINVAL, obj_release(self->fd, h));
	EXPECT_EQ(1, alive(self->fd, w));
	EXPECT_LIVE(2);
	EXPECT_EQ(-1, mismatch(p, 0, len, 40));
	p[0] = 0x77;
	/* The weak reference hands it out again, with its payload. */
	ASSERT_EQ(1, weak_get(self->fd, w, &got));
	ASSERT_EQ(h, got);
	/* The mappings' hold, and the new handle's reference. */
	EXPECT_EQ(2, refcnt(self->fd, got));
	ASSERT_EQ(0, obj_read(self->fd, got, 0, buf, len));
	EXPECT_EQ(0x77, buf[0]);
	EXPECT_EQ(-1, mismatch(buf + 1, 1, len - 1, 40));
	ASSERT_EQ(0, obj_release(self->fd, got));
	EXPECT_EQ(1, alive(self->fd, w));

	/*
	 * The offset stays valid while the object lives, without a
	 * reference: it maps it again, with a hold of its own.
	 */
	EXPECT_EQ(off, offset_of(self->fd, h));
	q = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0x77, q[0]);
	ASSERT_EQ(0, punmap(self, p));
	EXPECT_EQ(1, alive(self->fd, w));
	EXPECT_EQ(0x77, q[0]);
	EXPECT_EQ(-1, mismatch(q + 1, 1, len - 1, 40));

	/* The last mapping goes: so does the object, and its offset. */
	ASSERT_EQ(0, punmap(self, q));
	EXPECT_EQ(0, alive(self->fd, w));
	EXPECT_LIVE(1);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 off);
	EXPECT_EQ(-ENOENT, map_offset(self->fd, h, NULL, NULL));

	/* The other order: unmapped first, then released. */
	h2 = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len, 41);
	ASSERT_NE(0, h2);
	ASSERT_EQ(0, obj_release(self->fd, w));
	ASSERT_EQ(0, weakref_new(self->fd, h2, &w));
	p = pmap(self, self->fd, self->page, PROT_READ,
		 offset_of(self->fd, h2));
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, punmap(self, p));
	EXPECT_EQ(1, alive(self->fd, w));
	EXPECT_EQ(-1, read_mismatch(self->fd, h2, len, 41));
	ASSERT_EQ(0, obj_release(self->fd, h2));
	EXPECT_EQ(0, alive(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, w));
	EXPECT_LIVE(0);
}

/*
 * An object held only through a slot of another object, whose handle
 * the attachment gave back, keeps its offset; and a mapped object with
 * slots is a root for the collector.
 */
TEST_F(payload, mapped_object_with_slots_is_a_collector_root)
{
	uint64_t m, t, wm, wt, off;
	uint8_t *p;

	m = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 2, 64);
	t = node(self->fd, 0, 0, 8);
	ASSERT_NE(0, m);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, weakref_new(self->fd, m, &wm));
	ASSERT_EQ(0, weakref_new(self->fd, t, &wt));
	/* m holds itself (a cycle) and t. */
	ASSERT_EQ(0, set_slot(self->fd, m, 0, m));
	ASSERT_EQ(0, set_slot(self->fd, m, 1, t));
	ASSERT_EQ(0, obj_release(self->fd, t));
	ASSERT_EQ(0, map_offset(self->fd, m, &off, NULL));
	p = pmap(self, self->fd, self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, obj_release(self->fd, m));

	/* Unreachable but mapped: a collection frees nothing. */
	EXPECT_EQ(0, objheap_gc_collect(self->heap, 2, NULL));
	EXPECT_EQ(1, alive(self->fd, wm));
	EXPECT_EQ(1, alive(self->fd, wt));
	p[3] = 3;
	/* Unmapped, it is a garbage cycle: the next collection frees it. */
	ASSERT_EQ(0, punmap(self, p));
	EXPECT_EQ(1, alive(self->fd, wm));
	EXPECT_LE(1, objheap_gc_collect(self->heap, 2, NULL));
	EXPECT_EQ(0, alive(self->fd, wm));
	EXPECT_EQ(0, alive(self->fd, wt));
	ASSERT_EQ(0, obj_release(self->fd, wm));
	ASSERT_EQ(0, obj_release(self->fd, wt));
	EXPECT_LIVE(0);
}

/*
 * A heap whose only file descriptor is closed lives while a mapping of
 * one of its objects does (the mapping holds the file, and the object):
 * the mapping reads and stores as before, and munmap() then frees the
 * object and the heap.  What all heaps hold, module-wide, tells: more
 * than before the heap was opened while it lives, as much once it is
 * gone.
 */
TEST_F(payload, heap_lives_while_mapped_after_close)
{
	uint32_t len = self->page + 10;
	uint64_t before, h, off;
	uint8_t *p;
	pid_t pid;
	int fd, i;

	before = module_held(self->fd);
	ASSERT_NE(~0ULL, before);
	fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	h = pattern_obj(fd, OBJHEAP_OBJ_MAPPABLE, len, 50);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(fd, h, &off, NULL));
	p = pmap(self, fd, 2 * self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_LT(before, module_held(self->fd));

	close(fd);
	EXPECT_LT(before, module_held(self->fd));
	EXPECT_EQ(-1, mismatch(p, 0, len, 50));
	EXPECT_EQ(-1, nonzero(p + len, 2 * self->page - len));
	fill(p, 0, len, 51);
	EXPECT_EQ(-1, mismatch(p, 0, len, 51));

	/* A child's copy of the mapping works too, after the parent's goes. */
	pid = fork_kid(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		usleep(100 * 1000);
		CHECK(mismatch(p, 0, len, 51) == -1);
		fill(p, 0, len, 52);
		_exit(0);
	}
	ASSERT_EQ(0, punmap(self, p));
	EXPECT_EXITED_0(reap(self, pid));
	/*
	 * The last mapping went with the child.  Assumed: the heap may be
	 * freed a little later (from a work item) when no attachment is left
	 * to do it: give it two seconds.
	 */
	for (i = 0; i < 200 && module_held(self->fd) != before; i++)
		usleep(10 * 1000);
	EXPECT_EQ(before, module_held(self->fd));
}

/*
 * A forked child's copy of a mapping holds the object after the parent
 * unmapped it and released its handle; the object dies only once both
 * are unmapped.
 */
TEST_F(payload, mapping_in_a_child_outlives_the_parents)
{
	uint32_t len = 3 * self->page - 1;
	int to_kid[2], to_parent[2];
	uint64_t h, w, off;
	uint8_t *p;
	char c;
	pid_t pid;

	h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len, 60);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, weakref_new(self->fd, h, &w));
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, len, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(to_kid));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork_kid(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		close(to_kid[1]);
		close(to_parent[0]);
		CHECK(read(to_kid[0], &c, 1) == 1);
		/* The parent has let go of everything. */
		CHECK(mismatch(p, 0, len, 60) == -1);
		fill(p, 0, len, 61);
		CHECK(mismatch(p, 0, len, 61) == -1);
		CHECK(!munmap(p, len));
		CHECK(write(to_parent[1], "u", 1) == 1);
		CHECK(read(to_kid[0], &c, 1) == 1);
		_exit(0);
	}
	close(to_kid[0]);
	close(to_parent[1]);
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, obj_release(self->fd, h));
	/* The child's mapping holds it. */
	EXPECT_EQ(1, alive(self->fd, w));
	ASSERT_EQ(1, write(to_kid[1], "g", 1));
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	/* The child unmapped, and is still there: the object is not. */
	EXPECT_EQ(0, alive(self->fd, w));
	ASSERT_EQ(1, write(to_kid[1], "x", 1));
	EXPECT_EXITED_0(reap(self, pid));
	ASSERT_EQ(0, obj_release(self->fd, w));
	EXPECT_LIVE(0);
	close(to_kid[1]);
	close(to_parent[0]);
}

/* ==== 4. protections ==== */

TEST_F(payload, immutable_object_maps_only_for_reading)
{
	uint32_t len = self->page + 1;
	uint64_t h, off;
	uint8_t *p;

	h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_IMMUTABLE,
			len, 70);
	ASSERT_NE(0, h);
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_IMMUTABLE,
		  oflags(self->fd, h));
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	EXPECT_MAP_ERRNO(EACCES, self->fd, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED, off);
	EXPECT_MAP_ERRNO(EACCES, self->fd, self->page, PROT_WRITE, MAP_SHARED,
			 off + self->page);
	p = pmap(self, self->fd, len, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, len, 70));
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(p, 2 * self->page, PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mismatch(p, 0, len, 70));
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

/*
 * A mapping made without PROT_WRITE never becomes writable, even of a
 * mutable object.  Assumed (the header is silent; it is what mmap()
 * does for any shared file mapping): one made with PROT_WRITE may drop
 * it and take it back.
 */
TEST_F(payload, read_only_mapping_never_becomes_writable)
{
	uint64_t h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, 200, 71), off;
	uint8_t *p, *q;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, mprotect(p, self->page, PROT_NONE));
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, mprotect(p, self->page, PROT_READ));
	EXPECT_EQ(-1, mismatch(p, 0, 200, 71));

	q = pmap(self, self->fd, self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, mprotect(q, self->page, PROT_READ));
	EXPECT_EQ(0, mprotect(q, self->page, PROT_READ | PROT_WRITE));
	q[0] = 0;
	EXPECT_EQ(0, p[0]);
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, punmap(self, q));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

/*
 * mremap() cannot grow a mapping (EFAULT), moving or not; it may shrink
 * one, and what is left still maps the payload.
 */
TEST_F(payload, mremap_cannot_grow_a_mapping)
{
	uint32_t len = 3 * self->page;
	uint64_t h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, len, 72), off;
	uint8_t *p;
	void *r;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, 2 * self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	r = mremap(p, 2 * self->page, 3 * self->page, 0);
	EXPECT_EQ(MAP_FAILED, r);
	EXPECT_EQ(EFAULT, errno);
	r = mremap(p, 2 * self->page, 3 * self->page, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, r);
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, mismatch(p, 0, 2 * self->page, 72));
	/* Shrinking is unmapping a part. */
	r = mremap(p, 2 * self->page, self->page, 0);
	EXPECT_EQ(p, r);
	EXPECT_EQ(-1, mismatch(p, 0, self->page, 72));
	/* The teardown's length covers the page already gone. */
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

TEST_F(payload, sealed_object_maps_only_for_reading)
{
	uint64_t h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, 300, 73), off;
	uint8_t *p;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	ASSERT_EQ(0, seal(self->fd, h, 0, NULL));
	EXPECT_MAP_ERRNO(EACCES, self->fd, self->page, PROT_READ | PROT_WRITE,
			 MAP_SHARED, off);
	EXPECT_MAP_ERRNO(EACCES, self->fd, self->page, PROT_WRITE, MAP_SHARED,
			 off);
	p = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, 300, 73));
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

/*
 * A read-only attachment maps only without PROT_WRITE, and RESIZE and
 * SEAL are EPERM in it, alone and in a batch.  Its mapping holds the
 * object after it is closed.
 */
TEST_F(payload, read_only_attachment_maps_for_reading_only)
{
	uint32_t len = 2 * self->page + 1, rid;
	uint64_t h, hr, w, oa, orr, got = 0;
	struct objheap_batch res;
	struct rbatch *b;
	uint8_t *p, tail;
	int r;

	h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_RESIZABLE,
			len, 74);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, weakref_new(self->fd, h, &w));
	ASSERT_EQ(0, map_offset(self->fd, h, &oa, NULL));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_PUBLISH, "ro", h, NULL));
	r = track(self, attach(self->fd, OBJHEAP_ATTACH_READONLY, &rid));
	ASSERT_LE(0, r);
	ASSERT_EQ(0, name_cmd(r, OBJHEAP_LOOKUP, "ro", 0, &hr));
	/* A's offset is not R's. */
	EXPECT_MAP_ERRNO(ENXIO, r, self->page, PROT_READ, MAP_SHARED, oa);

	/* RESIZE and SEAL: EPERM, alone and as entries of a batch. */
	EXPECT_EQ(-EPERM, resize_data(r, hr, 10));
	EXPECT_EQ(-EPERM, resize(r, hr, OBJHEAP_RESIZE_SLOTS, 1, 0));
	EXPECT_EQ(-EPERM, seal(r, hr, 0, NULL));
	EXPECT_EQ(-EPERM, seal(r, hr, OBJHEAP_SEAL_INTERN, &got));
	b = calloc(1, sizeof(*b));
	ASSERT_NE(NULL, b);
	rb_resize(b, hr, OBJHEAP_RESIZE_DATA, 0, 10);
	rb_seal(b, hr, 0);
	rb_info(b, hr);
	ASSERT_EQ(0, rb_submit(r, b, OBJHEAP_BATCH_CONTINUE, &res));
	EXPECT_EQ(3, res.out_done);
	EXPECT_EQ(2, res.out_failed);
	EXPECT_EQ(-EPERM, rb_result(b, 0));
	EXPECT_EQ(-EPERM, rb_result(b, 1));
	EXPECT_EQ(0, rb_result(b, 2));
	EXPECT_EQ(len, ((struct objheap_info *)rb_cmd(b, 2))->out_data_len);
	free(b);
	/* Nothing changed. */
	EXPECT_EQ(len, data_len(self->fd, h));
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_RESIZABLE,
		  oflags(self->fd, h));
	/* Still writable from A: the same byte again. */
	tail = pat(0, 74);
	EXPECT_EQ(0, obj_write(self->fd, h, 0, &tail, 1));

	/* MAP_OFFSET works; mmap() only without PROT_WRITE. */
	ASSERT_EQ(0, map_offset(r, hr, &orr, NULL));
	EXPECT_MAP_ERRNO(EACCES, r, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 orr);
	EXPECT_MAP_ERRNO(EACCES, r, self->page, PROT_WRITE, MAP_SHARED, orr);
	p = pmap(self, r, len, PROT_READ, orr);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, len, 74));
	EXPECT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* A's WRITE shows in R's mapping. */
	ASSERT_EQ(0, obj_write(self->fd, h, len - 1, "\x99", 1));
	EXPECT_EQ(0x99, p[len - 1]);

	/*
	 * R's descriptor closed, A's reference and the name gone: R's
	 * mapping holds the object (and R's file).
	 */
	untrack_close(self, r);
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_UNPUBLISH, "ro", 0, NULL));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_EQ(1, alive(self->fd, w));
	EXPECT_EQ(-1, mismatch(p, 0, len - 1, 74));
	ASSERT_EQ(0, punmap(self, p));
	EXPECT_EQ(0, alive(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, w));
	EXPECT_LIVE(0);
}

/* ==== 5. resize ==== */

TEST_F(payload, payload_grows_and_shrinks_across_size_classes)
{
	static const uint32_t sizes[] = {
		16, 500, 600, 4096, 100 << 10, 1 << 20, 100 << 10, 4096, 600,
		500, 16, 1 << 20, 0, 600, 16,
	};
	uint8_t *buf = malloc(1 << 20);
	uint64_t h, t, slots[2];
	uint32_t cur = sizes[0], i;

	ASSERT_NE(NULL, buf);
	t = node(self->fd, 0, 0, 8);
	ASSERT_NE(0, t);
	slots[0] = t;
	slots[1] = 0;
	fill(buf, 0, cur, 0);
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_RESIZABLE, 2, buf, cur,
			     slots, &h));
	EXPECT_EQ(OBJHEAP_OBJ_RESIZABLE, oflags(self->fd, h));
	for (i = 1; i < ARRAY_SIZE(sizes); i++) {
		uint32_t next = sizes[i], keep = cur < next ? cur : next;

		ASSERT_EQ(0, resize_data(self->fd, h, next));
		EXPECT_EQ(next, data_len(self->fd, h));
		EXPECT_EQ(2, nslots(self->fd, h));
		memset(buf, 0xa5, next);
		ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, next));
		/* Kept up to the smaller length, new bytes zero. */
		EXPECT_EQ(-1, mismatch(buf, 0, keep, i - 1));
		EXPECT_EQ(-1, nonzero(buf + keep, next - keep));
		EXPECT_EQ(-EINVAL, obj_read(self->fd, h, next, buf, 1));
		fill(buf, 0, next, i);
		ASSERT_EQ(0, obj_write(self->fd, h, 0, buf, next));
		cur = next;
		if (!_metadata->passed) {
			TH_LOG("resize %u: %u -> %u bytes", i, sizes[i - 1],
			       next);
			break;
		}
	}
	/* The slots were kept through it all. */
	EXPECT_EQ(t, slot_of(self->fd, h, 0));
	EXPECT_EQ(0, slot_of(self->fd, h, 1));
	EXPECT_EQ(2, refcnt(self->fd, t));
	/* The same length again changes nothing. */
	ASSERT_EQ(0, resize_data(self->fd, h, cur));
	EXPECT_EQ(-1, read_mismatch(self->fd, h, cur, i - 1));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_EQ(1, refcnt(self->fd, t));
	ASSERT_EQ(0, obj_release(self->fd, t));
	EXPECT_LIVE(0);
	free(buf);
}

/*
 * Slots past the new count drop their references: a target also held
 * elsewhere loses one, a target only the slot held dies.  New slots are
 * empty.
 */
TEST_F(payload, resizing_the_slots_drops_references_and_adds_empty_slots)
{
	uint64_t h, t[4], w3, slots[4], got;
	int i;

	for (i = 0; i < 4; i++) {
		t[i] = node(self->fd, 0, 0, 8);
		ASSERT_NE(0, t[i]);
		slots[i] = t[i];
	}
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_RESIZABLE, 4, "data", 4,
			     slots, &h));
	ASSERT_EQ(0, weakref_new(self->fd, t[3], &w3));
	/* t[3] is held by slot 3 alone; t[2] by slot 2 and its handle. */
	ASSERT_EQ(0, obj_release(self->fd, t[3]));
	EXPECT_EQ(2, refcnt(self->fd, t[2]));
	EXPECT_EQ(1, refcnt(self->fd, t[3]));

	ASSERT_EQ(0, resize(self->fd, h, OBJHEAP_RESIZE_SLOTS, 2, 0));
	EXPECT_EQ(2, nslots(self->fd, h));
	EXPECT_EQ(1, refcnt(self->fd, t[2]));
	EXPECT_EQ(0, alive(self->fd, w3));
	EXPECT_EQ(-EINVAL, get_slot(self->fd, h, 2, &got));
	EXPECT_EQ(-EINVAL, set_slot(self->fd, h, 2, t[0]));
	/* The payload is untouched by a slots-only resize. */
	EXPECT_EQ(4, data_len(self->fd, h));
	EXPECT_EQ(t[0], slot_of(self->fd, h, 0));
	EXPECT_EQ(t[1], slot_of(self->fd, h, 1));

	/* Growing: the old slots kept, the new ones empty. */
	ASSERT_EQ(0, resize(self->fd, h, OBJHEAP_RESIZE_SLOTS, 6, 0));
	EXPECT_EQ(6, nslots(self->fd, h));
	EXPECT_EQ(t[0], slot_of(self->fd, h, 0));
	EXPECT_EQ(t[1], slot_of(self->fd, h, 1));
	for (i = 2; i < 6; i++)
		EXPECT_EQ(0, slot_of(self->fd, h, i));
	EXPECT_EQ(2, refcnt(self->fd, t[0]));
	ASSERT_EQ(0, set_slot(self->fd, h, 5, t[2]));
	EXPECT_EQ(2, refcnt(self->fd, t[2]));

	/* Both at once; to zero slots. */
	ASSERT_EQ(0, resize(self->fd, h,
			    OBJHEAP_RESIZE_SLOTS | OBJHEAP_RESIZE_DATA, 0,
			    1000));
	EXPECT_EQ(0, nslots(self->fd, h));
	EXPECT_EQ(1000, data_len(self->fd, h));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, refcnt(self->fd, t[i]));
	{
		uint8_t buf[1000];

		ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, 1000));
		EXPECT_EQ(0, memcmp(buf, "data", 4));
		EXPECT_EQ(-1, nonzero(buf + 4, 996));
	}
	/* A collection sees what the slots hold now: nothing. */
	EXPECT_EQ(0, objheap_gc_collect(self->heap, 2, NULL));
	ASSERT_EQ(0, obj_release(self->fd, h));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, obj_release(self->fd, t[i]));
	ASSERT_EQ(0, obj_release(self->fd, w3));
	EXPECT_LIVE(0);
}

TEST_F(payload, resize_errors_leave_the_object_as_it_was)
{
	struct objheap_resize r = { .size = sizeof(r) };
	uint64_t plain = node(self->fd, 0, 1, 16);
	uint64_t rsz = pattern_obj(self->fd, OBJHEAP_OBJ_RESIZABLE, 40, 80);
	uint64_t imm, dead, got;
	struct objheap_stats st;

	ASSERT_NE(0, plain);
	ASSERT_NE(0, rsz);
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_RESIZABLE |
			     OBJHEAP_OBJ_IMMUTABLE, 1, "imm", 3, NULL, &imm));
	dead = node(self->fd, OBJHEAP_OBJ_RESIZABLE, 0, 8);
	ASSERT_NE(0, dead);
	ASSERT_EQ(0, obj_release(self->fd, dead));

	/* Not resizable. */
	EXPECT_EQ(-EINVAL, resize_data(self->fd, plain, 32));
	EXPECT_EQ(-EINVAL, resize(self->fd, plain, OBJHEAP_RESIZE_SLOTS, 2, 0));
	EXPECT_EQ(16, data_len(self->fd, plain));
	EXPECT_EQ(1, nslots(self->fd, plain));
	/* No flag, or an unknown one. */
	EXPECT_EQ(-EINVAL, resize(self->fd, rsz, 0, 3, 50));
	EXPECT_EQ(-EINVAL, resize(self->fd, rsz, 1U << 2, 3, 50));
	EXPECT_EQ(-EINVAL, resize(self->fd, rsz, OBJHEAP_RESIZE_DATA | 1U << 31,
				  0, 50));
	/* Past the maxima. */
	EXPECT_EQ(-EINVAL, resize(self->fd, rsz, OBJHEAP_RESIZE_SLOTS,
				  OBJHEAP_MAX_SLOTS + 1, 0));
	EXPECT_EQ(-EINVAL, resize(self->fd, rsz, OBJHEAP_RESIZE_SLOTS,
				  UINT32_MAX, 0));
	EXPECT_EQ(-EINVAL, resize_data(self->fd, rsz, OBJHEAP_MAX_SIZE + 1));
	EXPECT_EQ(-EINVAL, resize_data(self->fd, rsz, UINT32_MAX));
	/* Immutable. */
	EXPECT_EQ(-EPERM, resize_data(self->fd, imm, 10));
	EXPECT_EQ(-EPERM, resize(self->fd, imm, OBJHEAP_RESIZE_SLOTS, 0, 0));
	EXPECT_EQ(3, data_len(self->fd, imm));
	EXPECT_EQ(1, nslots(self->fd, imm));
	/* No such object. */
	EXPECT_EQ(-ENOENT, resize_data(self->fd, dead, 10));
	EXPECT_EQ(-ENOENT, resize_data(self->fd, 0, 10));
	EXPECT_EQ(-EINVAL, resize_data(self->fd, OBJHEAP_BATCH_REF(0), 10));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_RESIZE, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_RESIZE, (void *)-4096L));
	r.handle = rsz;
	r.flags = OBJHEAP_RESIZE_DATA;
	r.data_len = 1;
	r.size = offsetof(struct objheap_resize, data_len);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_RESIZE, &r));

	/* Over the heap's limit: ENOMEM, and nothing changed. */
	ASSERT_EQ(0, heap_stats(self->fd, &st));
	ASSERT_EQ(0, objheap_set_limit(self->heap, st.out_bytes_held + 4096));
	EXPECT_EQ(-ENOMEM, resize(self->fd, rsz, OBJHEAP_RESIZE_DATA |
				  OBJHEAP_RESIZE_SLOTS, 5, 4 << 20));
	ASSERT_EQ(0, objheap_set_limit(self->heap, st.out_limit));

	EXPECT_EQ(40, data_len(self->fd, rsz));
	EXPECT_EQ(0, nslots(self->fd, rsz));
	EXPECT_EQ(-1, read_mismatch(self->fd, rsz, 40, 80));
	EXPECT_EQ(-EINVAL, get_slot(self->fd, rsz, 0, &got));
	ASSERT_EQ(0, obj_release(self->fd, plain));
	ASSERT_EQ(0, obj_release(self->fd, rsz));
	ASSERT_EQ(0, obj_release(self->fd, imm));
	EXPECT_LIVE(0);
}

/*
 * A mappable payload cannot change while a mapping of it exists (EBUSY,
 * a read-only mapping as much as a writable one); its slots can.  Once
 * unmapped it grows and shrinks by pages, its offset stays, and what was
 * stored past its end in the last page is cleared when it grows over it.
 */
TEST_F(payload, mappable_payload_resizes_only_unmapped)
{
	const uint32_t flags = OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_RESIZABLE;
	uint32_t len = 100, big = 3 * self->page + 1, l;
	uint64_t h, off, t;
	uint8_t *p, *buf = malloc(big);

	ASSERT_NE(NULL, buf);
	t = node(self->fd, 0, 0, 8);
	ASSERT_NE(0, t);
	h = pattern_obj(self->fd, flags, len, 90);
	ASSERT_NE(0, h);
	EXPECT_EQ(flags, oflags(self->fd, h));
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));

	p = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EBUSY, resize_data(self->fd, h, 200));
	EXPECT_EQ(-EBUSY, resize_data(self->fd, h, 50));
	/* With the slots: refused whole. */
	EXPECT_EQ(-EBUSY, resize(self->fd, h, OBJHEAP_RESIZE_SLOTS |
				 OBJHEAP_RESIZE_DATA, 3, 200));
	EXPECT_EQ(0, nslots(self->fd, h));
	/* The slots alone may change. */
	ASSERT_EQ(0, resize(self->fd, h, OBJHEAP_RESIZE_SLOTS, 2, 0));
	EXPECT_EQ(2, nslots(self->fd, h));
	ASSERT_EQ(0, set_slot(self->fd, h, 1, t));
	EXPECT_EQ(len, data_len(self->fd, h));
	EXPECT_EQ(-1, mismatch(p, 0, len, 90));
	ASSERT_EQ(0, punmap(self, p));

	/* A store past the end, in the last page: not part of the payload. */
	p = pmap(self, self->fd, self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EBUSY, resize_data(self->fd, h, 300));
	memset(p + len, 0xcc, 200);
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, resize_data(self->fd, h, 300));
	ASSERT_EQ(0, map_offset(self->fd, h, NULL, &l));
	EXPECT_EQ(300, l);
	EXPECT_EQ(off, offset_of(self->fd, h));
	ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, 300));
	EXPECT_EQ(-1, mismatch(buf, 0, len, 90));
	EXPECT_EQ(-1, nonzero(buf + len, 300 - len));

	/* Grown by pages: the new pages map, zero, the old bytes kept. */
	fill(buf, 0, 300, 91);
	ASSERT_EQ(0, obj_write(self->fd, h, 0, buf, 300));
	ASSERT_EQ(0, resize_data(self->fd, h, big));
	EXPECT_EQ(big, data_len(self->fd, h));
	p = pmap(self, self->fd, 4 * self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, 300, 91));
	EXPECT_EQ(-1, nonzero(p + 300, 4 * self->page - 300));
	fill(p, 0, big, 92);
	ASSERT_EQ(0, punmap(self, p));
	EXPECT_MAP_ERRNO(ENXIO, self->fd, 5 * self->page, PROT_READ,
			 MAP_SHARED, off);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 off + 4 * self->page);

	/* Shrunk: the pages past it go, its last page reads zero past it. */
	ASSERT_EQ(0, resize_data(self->fd, h, 10));
	EXPECT_MAP_ERRNO(ENXIO, self->fd, 2 * self->page, PROT_READ,
			 MAP_SHARED, off);
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 off + self->page);
	p = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mismatch(p, 0, 10, 92));
	EXPECT_EQ(-1, nonzero(p + 10, self->page - 10));
	ASSERT_EQ(0, punmap(self, p));
	/* To nothing: nothing to map, but the offset stays. */
	ASSERT_EQ(0, resize_data(self->fd, h, 0));
	EXPECT_MAP_ERRNO(ENXIO, self->fd, self->page, PROT_READ, MAP_SHARED,
			 off);
	ASSERT_EQ(0, resize_data(self->fd, h, 1));
	EXPECT_EQ(off, offset_of(self->fd, h));
	p = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, nonzero(p, self->page));
	ASSERT_EQ(0, punmap(self, p));

	EXPECT_EQ(t, slot_of(self->fd, h, 1));
	ASSERT_EQ(0, obj_release(self->fd, h));
	ASSERT_EQ(0, obj_release(self->fd, t));
	EXPECT_LIVE(0);
	free(buf);
}

/*
 * The block rules of DOC: Payloads, seen through out_bytes_in_use (every
 * live allocation at its size rounded up to 16 bytes): the slots and
 * payload of a resizable object live in a block of their own, which
 * moves only when the new size does not fit or when a smaller block
 * would save at least a quarter of it, and growing leaves an eighth of
 * room.  With no slots the block is the payload's bytes.
 *
 * Assumed: creation and shrinking allocate the size asked for (rounded
 * up to 16), only growth adds its eighth.  A 1000-byte payload then has
 * a block of 1008 bytes (1136 were creation to add an eighth: 1125
 * rounded up; the figures below hold either way):
 *
 *  - to 900 bytes: a block of 912 would save 96 < 1008 / 4 = 252 (or
 *    224 < 284): the block stays, the bytes in use do not change;
 *  - then to 700: a block of 704 saves 304 >= 252 (or 432 >= 284): the
 *    block moves, the bytes in use fall by 304 (or 432), at least 200.
 *
 * Growth, from a 16-byte payload (a block of 16, or 32 with an eighth):
 *
 *  - to 4000 bytes: the block moves to at least 4000 + 4000 / 8 = 4500
 *    bytes, so the bytes in use grow by at least 4500 - 32 = 4468, and
 *    by less than 4000 + 4000 / 4 (the room is an eighth, not a quarter);
 *  - then to 4480 (< 4500): it fits, the bytes in use do not change;
 *  - then to 2800: a block of 2800 saves more than a quarter of one of
 *    4500 or more: the bytes in use fall.
 *
 * The content is kept each time.
 */
TEST_F(payload, block_moves_only_to_fit_or_to_save_a_quarter)
{
	uint64_t h, a, b, c;
	uint8_t buf[4480];

	h = pattern_obj(self->fd, OBJHEAP_OBJ_RESIZABLE, 1000, 100);
	ASSERT_NE(0, h);
	a = object_bytes(self->fd);
	ASSERT_NE(~0ULL, a);
	ASSERT_EQ(0, resize_data(self->fd, h, 900));
	b = object_bytes(self->fd);
	EXPECT_EQ(a, b);
	ASSERT_EQ(0, resize_data(self->fd, h, 700));
	c = object_bytes(self->fd);
	EXPECT_GT(b, c);
	EXPECT_LE(200, b - c);
	printf("# 1000 bytes: %llu in use; 900: %llu; 700: %llu\n",
	       (unsigned long long)a, (unsigned long long)b,
	       (unsigned long long)c);
	EXPECT_EQ(-1, read_mismatch(self->fd, h, 700, 100));
	ASSERT_EQ(0, obj_release(self->fd, h));

	h = pattern_obj(self->fd, OBJHEAP_OBJ_RESIZABLE, 16, 101);
	ASSERT_NE(0, h);
	a = object_bytes(self->fd);
	ASSERT_EQ(0, resize_data(self->fd, h, 4000));
	b = object_bytes(self->fd);
	EXPECT_LE(a + 4000 + 4000 / 8 - 32, b);
	EXPECT_GT(a + 4000 + 4000 / 4, b);
	ASSERT_EQ(0, resize_data(self->fd, h, 4480));
	c = object_bytes(self->fd);
	EXPECT_EQ(b, c);
	printf("# 16 bytes: %llu in use; 4000: %llu; 4480: %llu\n",
	       (unsigned long long)a, (unsigned long long)b,
	       (unsigned long long)c);
	ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, 4480));
	EXPECT_EQ(-1, mismatch(buf, 0, 16, 101));
	EXPECT_EQ(-1, nonzero(buf + 16, 4480 - 16));
	ASSERT_EQ(0, resize_data(self->fd, h, 2800));
	EXPECT_GT(c, object_bytes(self->fd));
	EXPECT_EQ(-1, read_mismatch(self->fd, h, 16, 101));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

/* ==== 6. seal ==== */

TEST_F(payload, seal_makes_the_object_immutable)
{
	uint64_t h, t, imm, out = 0x1234, slots[2];
	struct objheap_seal s = { .size = sizeof(s) };
	uint8_t buf[8];

	t = node(self->fd, 0, 0, 8);
	ASSERT_NE(0, t);
	slots[0] = t;
	slots[1] = 0;
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_RESIZABLE, 2, "sealme!",
			     8, slots, &h));
	ASSERT_EQ(0, set_slot(self->fd, h, 1, t));
	ASSERT_EQ(0, seal(self->fd, h, 0, &out));
	/* out_handle is not written without OBJHEAP_SEAL_INTERN. */
	EXPECT_EQ(0x1234, out);
	EXPECT_EQ(OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_IMMUTABLE,
		  oflags(self->fd, h));
	EXPECT_EQ(-EPERM, obj_write(self->fd, h, 0, "x", 1));
	EXPECT_EQ(-EPERM, set_slot(self->fd, h, 0, 0));
	EXPECT_EQ(-EPERM, set_slot(self->fd, h, 1, h));
	EXPECT_EQ(-EPERM, resize_data(self->fd, h, 4));
	EXPECT_EQ(-EPERM, resize(self->fd, h, OBJHEAP_RESIZE_SLOTS, 0, 0));
	/* Reading, slots included, works as before. */
	ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, 8));
	EXPECT_EQ(0, memcmp(buf, "sealme!", 8));
	EXPECT_EQ(t, slot_of(self->fd, h, 0));
	EXPECT_EQ(t, slot_of(self->fd, h, 1));
	EXPECT_EQ(3, refcnt(self->fd, t));
	EXPECT_EQ(1, refcnt(self->fd, h));
	/* Sealing again, or an object made immutable, changes nothing. */
	EXPECT_EQ(0, seal(self->fd, h, 0, NULL));
	EXPECT_EQ(OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_IMMUTABLE,
		  oflags(self->fd, h));
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_IMMUTABLE, 0, "i", 1,
			     NULL, &imm));
	EXPECT_EQ(0, seal(self->fd, imm, 0, NULL));
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE, oflags(self->fd, imm));

	/* Errors. */
	s.handle = t;
	s.flags = 1U << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SEAL, &s));
	s.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SEAL, &s));
	EXPECT_EQ(0, oflags(self->fd, t));
	EXPECT_EQ(-ENOENT, seal(self->fd, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, seal(self->fd, OBJHEAP_BATCH_REF(0), 0, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_SEAL, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_SEAL, (void *)-4096L));

	ASSERT_EQ(0, obj_release(self->fd, h));
	ASSERT_EQ(0, obj_release(self->fd, imm));
	EXPECT_EQ(1, refcnt(self->fd, t));
	ASSERT_EQ(0, obj_release(self->fd, t));
	EXPECT_LIVE(0);
}

/*
 * SEAL is EBUSY while a mapping made with PROT_WRITE exists, even one
 * mprotect()ed down to PROT_READ since; a PROT_READ mapping does not
 * stop it.
 */
TEST_F(payload, seal_waits_for_writable_mappings_only)
{
	uint64_t h = pattern_obj(self->fd, OBJHEAP_OBJ_MAPPABLE, 64, 110), off;
	uint8_t *r, *w;

	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	w = pmap(self, self->fd, self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, w);
	EXPECT_EQ(-EBUSY, seal(self->fd, h, 0, NULL));
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE, oflags(self->fd, h));
	/* Not sealed: it takes writes still. */
	ASSERT_EQ(0, obj_write(self->fd, h, 0, "w", 1));
	EXPECT_EQ('w', w[0]);
	w[1] = 'x';
	ASSERT_EQ(0, mprotect(w, self->page, PROT_READ));
	EXPECT_EQ(-EBUSY, seal(self->fd, h, 0, NULL));
	/* A PROT_WRITE only mapping counts too. */
	r = pmap(self, self->fd, self->page, PROT_READ, off);
	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, punmap(self, w));
	w = pmap(self, self->fd, self->page, PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, w);
	EXPECT_EQ(-EBUSY, seal(self->fd, h, 0, NULL));
	ASSERT_EQ(0, punmap(self, w));

	/* Only the PROT_READ mapping is left: sealing works. */
	ASSERT_EQ(0, seal(self->fd, h, 0, NULL));
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_IMMUTABLE,
		  oflags(self->fd, h));
	EXPECT_EQ(-EPERM, obj_write(self->fd, h, 0, "y", 1));
	EXPECT_EQ('w', r[0]);
	EXPECT_EQ('x', r[1]);
	EXPECT_EQ(-1, mismatch(r + 2, 2, 62, 110));
	EXPECT_EQ(0, seal(self->fd, h, 0, NULL));
	ASSERT_EQ(0, punmap(self, r));
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

TEST_F(payload, seal_intern_returns_the_object_or_the_earlier_equal_one)
{
	uint64_t a, a2, b, i, out, again;
	struct objheap_intern in = {
		.size = sizeof(in), .type = 7, .data_len = 5,
		.data_uptr = (uintptr_t)"hello",
	};

	/* New content: the object itself, now interned. */
	ASSERT_EQ(0, obj_new(self->fd, 7, 0, 0, "hello", 5, NULL, &a));
	ASSERT_EQ(0, seal(self->fd, a, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(a, out);
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_INTERNED,
		  oflags(self->fd, a));
	EXPECT_EQ(2, refcnt(self->fd, a));
	EXPECT_EQ(1, objheap_test_objects(self->fd).objects.out_interned);
	EXPECT_EQ(-EPERM, obj_write(self->fd, a, 0, "j", 1));
	/* INTERN of the same type and bytes finds it. */
	ASSERT_EQ(0, xioctl(self->fd, OBJHEAP_INTERN, &in));
	EXPECT_EQ(a, in.out_handle);
	EXPECT_EQ(3, refcnt(self->fd, a));
	/* Sealing it again with the flag gives itself again. */
	ASSERT_EQ(0, seal(self->fd, a, OBJHEAP_SEAL_INTERN, &again));
	EXPECT_EQ(a, again);
	EXPECT_EQ(4, refcnt(self->fd, a));

	/* An equal object sealed later gets the interned one. */
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_RESIZABLE, 0, "hello", 5,
			     NULL, &a2));
	ASSERT_EQ(0, seal(self->fd, a2, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(a, out);
	EXPECT_EQ(5, refcnt(self->fd, a));
	/* a2 is sealed all the same, and not interned. */
	EXPECT_EQ(OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_IMMUTABLE,
		  oflags(self->fd, a2));
	EXPECT_EQ(1, refcnt(self->fd, a2));
	EXPECT_EQ(-EPERM, resize_data(self->fd, a2, 1));
	EXPECT_EQ(1, objheap_test_objects(self->fd).objects.out_interned);

	/* One made by OBJHEAP_INTERN first is found the same way. */
	in.type = 8;
	ASSERT_EQ(0, xioctl(self->fd, OBJHEAP_INTERN, &in));
	i = in.out_handle;
	EXPECT_NE(a, i);
	ASSERT_EQ(0, obj_new(self->fd, 8, 0, 0, "hello", 5, NULL, &b));
	ASSERT_EQ(0, seal(self->fd, b, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(i, out);
	EXPECT_EQ(2, refcnt(self->fd, i));
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE, oflags(self->fd, b));
	EXPECT_EQ(2, objheap_test_objects(self->fd).objects.out_interned);

	while (refcnt(self->fd, a) > 0)
		ASSERT_EQ(0, obj_release(self->fd, a));
	ASSERT_EQ(0, obj_release(self->fd, a2));
	ASSERT_EQ(0, obj_release(self->fd, i));
	ASSERT_EQ(0, obj_release(self->fd, i));
	ASSERT_EQ(0, obj_release(self->fd, b));
	EXPECT_LIVE(0);
	EXPECT_EQ(0, objheap_test_objects(self->fd).objects.out_interned);
}

/*
 * OBJHEAP_SEAL_INTERN of an object that cannot be interned is EINVAL, and
 * the object is not sealed either: slots (even empty ones), mappable, a
 * weak reference, OBJHEAP_OBJ_FINALIZE.
 */
TEST_F(payload, seal_intern_refuses_what_cannot_be_interned)
{
	uint64_t slots, map, fin, t, w, out = 0x55;

	slots = node(self->fd, 0, 1, 8);
	map = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, 8);
	t = node(self->fd, 0, 0, 8);
	ASSERT_NE(0, slots);
	ASSERT_NE(0, map);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, obj_new(self->fd, 7, OBJHEAP_OBJ_FINALIZE, 0, NULL, 8,
			     NULL, &fin));
	ASSERT_EQ(0, weakref_new(self->fd, t, &w));

	EXPECT_EQ(-EINVAL, seal(self->fd, slots, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(-EINVAL, seal(self->fd, map, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(-EINVAL, seal(self->fd, fin, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(-EINVAL, seal(self->fd, w, OBJHEAP_SEAL_INTERN, &out));
	EXPECT_EQ(0x55, out);
	EXPECT_EQ(0, oflags(self->fd, slots));
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE, oflags(self->fd, map));
	EXPECT_EQ(OBJHEAP_OBJ_FINALIZE, oflags(self->fd, fin));
	EXPECT_EQ(0, obj_write(self->fd, slots, 0, "s", 1));
	EXPECT_EQ(0, set_slot(self->fd, slots, 0, t));
	EXPECT_EQ(0, obj_write(self->fd, map, 0, "m", 1));
	EXPECT_EQ(0, obj_write(self->fd, fin, 0, "f", 1));
	EXPECT_EQ(0, objheap_test_objects(self->fd).objects.out_interned);
	EXPECT_EQ(1, refcnt(self->fd, slots));
	EXPECT_EQ(1, refcnt(self->fd, map));

	/* Without the flag they seal. */
	EXPECT_EQ(0, seal(self->fd, slots, 0, NULL));
	EXPECT_EQ(0, seal(self->fd, map, 0, NULL));
	EXPECT_EQ(-EPERM, set_slot(self->fd, slots, 0, 0));
	EXPECT_EQ(-EPERM, obj_write(self->fd, map, 0, "m", 1));

	ASSERT_EQ(0, obj_release(self->fd, slots));
	ASSERT_EQ(0, obj_release(self->fd, map));
	ASSERT_EQ(0, obj_release(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, t));
	/* The finalizable object is handed out once: then it goes. */
	ASSERT_EQ(0, obj_release(self->fd, fin));
	{
		struct objheap_event ev;
		int fl = fcntl(self->fd, F_GETFL);

		ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
		ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
		EXPECT_EQ(OBJHEAP_EVENT_FINALIZE, ev.type);
		EXPECT_EQ(fin, ev.handle);
		ASSERT_EQ(0, obj_release(self->fd, ev.handle));
	}
	EXPECT_LIVE(0);
}

/* ==== 7. batches ==== */

TEST_F(payload, batches_resize_and_seal)
{
	static char data[16] = "batched payload";
	struct objheap_batch res;
	const struct objheap_info *info;
	uint8_t tail[100];
	uint64_t h, first;
	struct rbatch *b = calloc(1, sizeof(*b));
	int i;

	ASSERT_NE(NULL, b);
	memset(tail, 0x3c, sizeof(tail));
	/* NEW, grow, write into the new bytes, seal, then try to change. */
	rb_new(b, OBJHEAP_OBJ_RESIZABLE, 1, data, 16);			/* 0 */
	rb_resize(b, OBJHEAP_BATCH_REF(0), OBJHEAP_RESIZE_DATA |
		  OBJHEAP_RESIZE_SLOTS, 3, 600);			/* 1 */
	rb_rw(b, OBJHEAP_CMD_WRITE, OBJHEAP_BATCH_REF(0), 500, tail, 100);
	rb_seal(b, OBJHEAP_BATCH_REF(0), 0);				/* 3 */
	rb_rw(b, OBJHEAP_CMD_WRITE, OBJHEAP_BATCH_REF(0), 0, tail, 1);	/* 4 */
	rb_resize(b, OBJHEAP_BATCH_REF(0), OBJHEAP_RESIZE_DATA, 0, 10);	/* 5 */
	rb_info(b, OBJHEAP_BATCH_REF(0));				/* 6 */
	/* SEAL and RESIZE return no object: referring to them is EINVAL. */
	rb_info(b, OBJHEAP_BATCH_REF(3));				/* 7 */
	rb_info(b, OBJHEAP_BATCH_REF(1));				/* 8 */
	ASSERT_EQ(0, rb_submit(self->fd, b, OBJHEAP_BATCH_CONTINUE, &res));
	EXPECT_EQ(9, res.out_done);
	EXPECT_EQ(4, res.out_failed);
	EXPECT_EQ(0, rb_result(b, 0));
	EXPECT_EQ(0, rb_result(b, 1));
	EXPECT_EQ(0, rb_result(b, 2));
	EXPECT_EQ(0, rb_result(b, 3));
	EXPECT_EQ(-EPERM, rb_result(b, 4));
	EXPECT_EQ(-EPERM, rb_result(b, 5));
	EXPECT_EQ(0, rb_result(b, 6));
	EXPECT_EQ(-EINVAL, rb_result(b, 7));
	EXPECT_EQ(-EINVAL, rb_result(b, 8));
	h = ((struct objheap_new *)rb_cmd(b, 0))->out_handle;
	info = rb_cmd(b, 6);
	EXPECT_EQ(600, info->out_data_len);
	EXPECT_EQ(3, info->out_nslots);
	EXPECT_EQ(OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_IMMUTABLE,
		  info->out_flags);
	{
		uint8_t buf[600];

		ASSERT_EQ(0, obj_read(self->fd, h, 0, buf, 600));
		EXPECT_EQ(0, memcmp(buf, data, 16));
		EXPECT_EQ(-1, nonzero(buf + 16, 500 - 16));
		EXPECT_EQ(0, memcmp(buf + 500, tail, 100));
	}

	/* Without CONTINUE the first EPERM stops it. */
	memset(b, 0, sizeof(*b));
	rb_resize(b, h, OBJHEAP_RESIZE_DATA, 0, 16);
	rb_info(b, h);
	ASSERT_EQ(0, rb_submit(self->fd, b, 0, &res));
	EXPECT_EQ(1, res.out_done);
	EXPECT_EQ(-EPERM, rb_result(b, 0));
	EXPECT_EQ(-ECANCELED, rb_result(b, 1));
	EXPECT_EQ(600, data_len(self->fd, h));
	first = h;

	/* SEAL_INTERN's out_handle can be referred to. */
	memset(b, 0, sizeof(*b));
	rb_new(b, 0, 0, "interned", 8);					/* 0 */
	rb_seal(b, OBJHEAP_BATCH_REF(0), OBJHEAP_SEAL_INTERN);		/* 1 */
	rb_info(b, OBJHEAP_BATCH_REF(1));				/* 2 */
	rb_new(b, 0, 0, "interned", 8);					/* 3 */
	rb_seal(b, OBJHEAP_BATCH_REF(3), OBJHEAP_SEAL_INTERN);		/* 4 */
	rb_release(b, OBJHEAP_BATCH_REF(3));				/* 5 */
	rb_seal(b, OBJHEAP_BATCH_REF(0), OBJHEAP_SEAL_INTERN | 4);	/* 6 */
	ASSERT_EQ(0, rb_submit(self->fd, b, OBJHEAP_BATCH_CONTINUE, &res));
	EXPECT_EQ(7, res.out_done);
	EXPECT_EQ(1, res.out_failed);
	for (i = 0; i < 6; i++)
		EXPECT_EQ(0, rb_result(b, i));
	EXPECT_EQ(-EINVAL, rb_result(b, 6));
	h = ((struct objheap_new *)rb_cmd(b, 0))->out_handle;
	EXPECT_EQ(h, ((struct objheap_seal *)rb_cmd(b, 1))->out_handle);
	EXPECT_EQ(h, ((struct objheap_seal *)rb_cmd(b, 4))->out_handle);
	info = rb_cmd(b, 2);
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_INTERNED,
		  info->out_flags);
	/* NEW's, SEAL's and the second SEAL's references. */
	EXPECT_EQ(3, refcnt(self->fd, h));
	EXPECT_LIVE(2);
	free(b);
	while (refcnt(self->fd, h) > 0)
		ASSERT_EQ(0, obj_release(self->fd, h));
	ASSERT_EQ(0, obj_release(self->fd, first));
	EXPECT_LIVE(0);
}

/* A mapped object in a batch: RESIZE of its payload is EBUSY, SEAL too. */
TEST_F(payload, batch_entries_see_the_mappings)
{
	const uint32_t flags = OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_RESIZABLE;
	uint64_t h = node(self->fd, flags, 0, 64), off;
	struct objheap_batch res;
	struct rbatch *b = calloc(1, sizeof(*b));
	uint8_t *p;

	ASSERT_NE(NULL, b);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, map_offset(self->fd, h, &off, NULL));
	p = pmap(self, self->fd, self->page, PROT_READ | PROT_WRITE, off);
	ASSERT_NE(MAP_FAILED, p);
	rb_resize(b, h, OBJHEAP_RESIZE_DATA, 0, 128);
	rb_resize(b, h, OBJHEAP_RESIZE_SLOTS, 2, 0);
	rb_seal(b, h, 0);
	ASSERT_EQ(0, rb_submit(self->fd, b, OBJHEAP_BATCH_CONTINUE, &res));
	EXPECT_EQ(-EBUSY, rb_result(b, 0));
	EXPECT_EQ(0, rb_result(b, 1));
	EXPECT_EQ(-EBUSY, rb_result(b, 2));
	EXPECT_EQ(64, data_len(self->fd, h));
	EXPECT_EQ(2, nslots(self->fd, h));
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_RESIZABLE,
		  oflags(self->fd, h));
	ASSERT_EQ(0, punmap(self, p));
	ASSERT_EQ(0, rb_submit(self->fd, b, OBJHEAP_BATCH_CONTINUE, &res));
	EXPECT_EQ(0, res.out_failed);
	EXPECT_EQ(128, data_len(self->fd, h));
	EXPECT_EQ(OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_RESIZABLE |
		  OBJHEAP_OBJ_IMMUTABLE, oflags(self->fd, h));
	free(b);
	ASSERT_EQ(0, obj_release(self->fd, h));
	EXPECT_LIVE(0);
}

/* ==== 8. a large READ beside small commands ==== */

#define BIG_LEN		(64U << 20)
#define BIG_MIN_READS	3
#define BIG_MAX_READS	16

struct big_read {
	int fd;
	uint64_t h;
	volatile uint8_t *buf;
	atomic_int reads_done;
	atomic_int finished;
	atomic_int inside;	/* small commands done inside a READ */
	int errors;
	double read_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * READ the whole payload again and again into a zeroed buffer, at least
 * BIG_MIN_READS times, and on until a small command was seen inside one.
 */
static void *big_reader(void *arg)
{
	struct big_read *br = arg;
	int n;

	for (n = 0; n < BIG_MAX_READS; n++) {
		double t0;

		if (n >= BIG_MIN_READS && atomic_load(&br->inside))
			break;
		/* The first byte first: see the test below. */
		br->buf[0] = 0;
		atomic_thread_fence(memory_order_seq_cst);
		memset((void *)(br->buf + 1), 0, BIG_LEN - 1);
		atomic_thread_fence(memory_order_seq_cst);
		t0 = now_ms();
		if (obj_read(br->fd, br->h, 0, (void *)br->buf, BIG_LEN))
			br->errors++;
		br->read_ms += now_ms() - t0;
		atomic_fetch_add(&br->reads_done, 1);
		if (mismatch(br->buf, 0, BIG_LEN, 120) != -1)
			br->errors++;
	}
	atomic_store(&br->finished, 1);
	return NULL;
}

/*
 * A READ of 64 MiB is copied in OBJHEAP_RW_CHUNK pieces and gives up the
 * heap's lock between them, so small commands of another thread on the
 * same heap go on during it.  The reader copies the payload, whose bytes
 * are never zero, into a buffer it zeroes first byte first: once the
 * main thread has seen the last byte still zero and then the first byte
 * set, a READ is under way past its first piece.  An OBJHEAP_INFO
 * started then, which returns while the last byte is still zero and no
 * READ has ended, ran inside that READ: had the READ held the heap's
 * lock for the whole copy, the INFO could only have returned after the
 * last piece.  The READ is repeated until that happened (a few times at
 * least, BIG_MAX_READS at most).  Assumed: the pieces are copied in
 * order, the last one last.  The longest latency of a small command is
 * printed, not asserted.
 */
TEST_F_TIMEOUT(payload, small_commands_run_during_a_large_read, 600)
{
	struct big_read br = { .fd = self->fd };
	double max_ms = 0, max_in_ms = 0, t0, dt;
	unsigned long infos = 0, during = 0;
	struct objheap_info info;
	uint8_t *data;
	pthread_t t;
	uint64_t small;

	data = malloc(BIG_LEN);
	ASSERT_NE(NULL, data);
	fill(data, 0, BIG_LEN, 120);
	ASSERT_EQ(0, obj_new(self->fd, 7, 0, 0, data, BIG_LEN, NULL, &br.h));
	small = node(self->fd, 0, 0, 8);
	ASSERT_NE(0, small);
	/* The buffer is touched before: no page fault under the lock. */
	memset(data, 0, BIG_LEN);
	br.buf = data;
	ASSERT_EQ(0, pthread_create(&t, NULL, big_reader, &br));
	while (!atomic_load(&br.finished)) {
		int done = atomic_load(&br.reads_done);
		bool in_read = !br.buf[BIG_LEN - 1];

		/* The last byte, then the first: in that order. */
		in_read = br.buf[0] && in_read;
		t0 = now_ms();
		if (obj_info(self->fd, small, &info))
			break;
		dt = now_ms() - t0;
		infos++;
		if (dt > max_ms)
			max_ms = dt;
		if (!in_read)
			continue;
		during++;
		if (dt > max_in_ms)
			max_in_ms = dt;
		if (!br.buf[BIG_LEN - 1] &&
		    atomic_load(&br.reads_done) == done)
			atomic_fetch_add(&br.inside, 1);
	}
	pthread_join(t, NULL);
	printf("# %d READs of %u MiB, %.1f ms each; %lu INFO, %lu started "
	       "during a READ, %d of them done inside it; longest INFO "
	       "%.3f ms (%.3f ms during a READ)\n",
	       atomic_load(&br.reads_done), BIG_LEN >> 20,
	       br.read_ms / (atomic_load(&br.reads_done) ?: 1), infos, during,
	       atomic_load(&br.inside), max_ms, max_in_ms);
	EXPECT_EQ(0, br.errors);
	EXPECT_LE(BIG_MIN_READS, atomic_load(&br.reads_done));
	EXPECT_EQ(1, refcnt(self->fd, small));
	EXPECT_LT(0, atomic_load(&br.inside));
	ASSERT_EQ(0, obj_release(self->fd, br.h));
	ASSERT_EQ(0, obj_release(self->fd, small));
	EXPECT_LIVE(0);
	free(data);
}

/* ==== 9. a storm of mappings, for kmemleak ==== */

#define STORM_ROUNDS	10
#define STORM_OBJS	24
#define STORM_KIDS	4

/*
 * A child of the storm: maps some of the objects itself, in the shared
 * attachment or in one of its own (the object sent there), stores through
 * what it maps and what it inherited, says so, then waits to be killed or
 * exits with its mappings.
 */
static void storm_kid(FIXTURE_DATA(payload) *self, uint64_t *h,
		      uint32_t *len, uint8_t **p, __u64 seed, int ready,
		      bool wait_for_kill)
{
	uint32_t cid;
	int c, i;

	/* Blocking: receive() waits for what was just sent. */
	c = attach(self->fd, 0, &cid);
	CHECK(c >= 0);
	for (i = 0; i < STORM_OBJS; i++) {
		uint64_t r = splitmix64(&seed), hc, off;
		size_t maplen = pages(self, len[i]) * self->page;
		uint8_t *m;
		int ret;

		/*
		 * The parent may have let the object go already: ENOENT for
		 * its handle, ENXIO for its offset.
		 */
		if (p[i] && r % 3 == 0)
			p[i][len[i] - 1] = (uint8_t)r | 1;
		if (r % 4 == 1) {
			ret = map_offset(self->fd, h[i], &off, NULL);
			CHECK(!ret || ret == -ENOENT);
			if (ret)
				continue;
			m = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
				 MAP_SHARED, self->fd, off);
			CHECK(m != MAP_FAILED || errno == ENXIO);
			if (m != MAP_FAILED)
				m[0] = 1;
		} else if (r % 4 == 2) {
			ret = send_obj(self->fd, h[i], cid);
			CHECK(!ret || ret == -ENOENT);
			if (ret)
				continue;
			/* Sent, it lives: with the reference c got. */
			hc = receive(c);
			CHECK(hc);
			CHECK(!map_offset(c, hc, &off, NULL));
			m = mmap(NULL, maplen, PROT_READ, MAP_SHARED, c, off);
			CHECK(m != MAP_FAILED);
			/* Pattern bytes and the kids' stores: never 0. */
			CHECK(*(volatile uint8_t *)m != 0);
			if (r & 16)
				CHECK(!obj_release(c, hc));
		}
	}
	CHECK(write(ready, "R", 1) == 1);
	if (!wait_for_kill)
		_exit(0);
	for (;;)
		pause();
}

/* A storm child said it is ready: it mapped what it meant to. */
static void storm_wait(struct __test_metadata *_metadata, int fd)
{
	char c = 0;

	ASSERT_EQ(1, read(fd, &c, 1));
	ASSERT_EQ('R', c);
}

/* Reaped: killed, or exited without a failed CHECK. */
static void storm_reap(struct __test_metadata *_metadata,
		       FIXTURE_DATA(payload) *self, pid_t pid)
{
	int status = reap(self, pid);

	ASSERT_NE(-1, status);
	if (WIFEXITED(status)) {
		EXPECT_EQ(0, WEXITSTATUS(status));
	} else {
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
	}
}

TEST_F_TIMEOUT(payload, mapping_storm_with_killed_children, 600)
{
	uint64_t h[STORM_OBJS], off;
	__u64 seed = 0x570a4;
	uint32_t len[STORM_OBJS];
	uint8_t *p[STORM_OBJS], *q[STORM_OBJS];
	static uint8_t data[4 * 65536];
	int round, i, k;

	for (round = 0; round < STORM_ROUNDS; round++) {
		pid_t kid[STORM_KIDS];
		int ready[STORM_KIDS][2];
		bool killme[STORM_KIDS];

		for (i = 0; i < STORM_OBJS; i++) {
			uint64_t r = splitmix64(&seed);
			uint32_t flags = OBJHEAP_OBJ_MAPPABLE;

			len[i] = 1 + r % (4 * self->page);
			if (r & (1 << 20))
				flags |= OBJHEAP_OBJ_RESIZABLE;
			fill(data, 0, len[i], round);
			ASSERT_EQ(0, obj_new(self->fd, 7, flags, r >> 40 & 1,
					     data, len[i], NULL, &h[i]));
			ASSERT_EQ(0, map_offset(self->fd, h[i], &off, NULL));
			p[i] = q[i] = NULL;
			if (r % 5) {
				p[i] = mmap(NULL, len[i], PROT_READ |
					    PROT_WRITE, MAP_SHARED, self->fd,
					    off);
				ASSERT_NE(MAP_FAILED, p[i]);
				ASSERT_EQ(pat(0, round), p[i][0]);
			}
			if (r % 7 == 0) {
				q[i] = mmap(NULL, self->page, PROT_READ,
					    MAP_SHARED, self->fd, off);
				ASSERT_NE(MAP_FAILED, q[i]);
			}
		}
		for (k = 0; k < STORM_KIDS; k++) {
			ASSERT_EQ(0, pipe(ready[k]));
			killme[k] = splitmix64(&seed) % 4 != 0;
			kid[k] = fork_kid(self);
			ASSERT_LE(0, kid[k]);
			if (!kid[k]) {
				close(ready[k][0]);
				storm_kid(self, h, len, p,
					  seed + k * 7919, ready[k][1],
					  killme[k]);
			}
			close(ready[k][1]);
		}
		/* Let go of everything in some order, killing on the way. */
		for (i = 0; i < STORM_OBJS; i++) {
			uint64_t r = splitmix64(&seed);
			int j = (i * 7 + round) % STORM_OBJS;

			k = r % (2 * STORM_KIDS);
			if (k < STORM_KIDS && kid[k]) {
				/* Killed ready, or in the middle of it all. */
				if (r & 8 || !killme[k])
					storm_wait(_metadata, ready[k][0]);
				if (killme[k])
					kill(kid[k], SIGKILL);
				storm_reap(_metadata, self, kid[k]);
				kid[k] = 0;
			}
			if (r & 16) {
				ASSERT_EQ(0, obj_release(self->fd, h[j]));
				if (p[j])
					munmap(p[j], len[j]);
			} else {
				if (p[j])
					munmap(p[j], len[j]);
				ASSERT_EQ(0, obj_release(self->fd, h[j]));
			}
			if (q[j])
				munmap(q[j], self->page);
		}
		for (k = 0; k < STORM_KIDS; k++) {
			if (kid[k]) {
				storm_wait(_metadata, ready[k][0]);
				if (killme[k])
					kill(kid[k], SIGKILL);
				storm_reap(_metadata, self, kid[k]);
			}
			close(ready[k][0]);
		}
		/* Everything unmapped, released or killed: nothing lives. */
		ASSERT_NE(~0ULL, object_bytes(self->fd));
		ASSERT_EQ(0, live(self->fd));
	}
}

/* ==== 10. offsets are bounded per attachment ==== */

/*
 * A 32-bit program may hold offsets for 65535 live objects at once
 * (ENOSPC for the next one), a 64-bit one for 2^24: 65536 must work
 * there.  An offset freed with its object can be given again.
 */
TEST_F_TIMEOUT(payload, offsets_are_bounded_per_attachment, 300)
{
	const uint32_t n = 65536;
	struct objheap_batch_buf *b;
	uint64_t *h = calloc(n, sizeof(*h)), extra;
	uint32_t i, done = 0, given = 0;
	int ret = 0;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, objheap_batch_alloc(&b, OBJHEAP_BATCH_MAX_COUNT));
	while (done < n) {
		uint32_t m = n - done < OBJHEAP_BATCH_MAX_COUNT ?
			     n - done : OBJHEAP_BATCH_MAX_COUNT;

		objheap_batch_reset(b);
		for (i = 0; i < m; i++)
			objheap_batch_new(b, 7, OBJHEAP_OBJ_MAPPABLE, 0, NULL,
					  0, NULL);
		ASSERT_EQ(0, objheap_batch_submit(self->heap, b, 0));
		for (i = 0; i < m; i++)
			h[done + i] = objheap_batch_handle(b, i);
		done += m;
	}
	objheap_batch_free(b);
	for (i = 0; i < n; i++) {
		ret = map_offset(self->fd, h[i], NULL, NULL);
		if (ret)
			break;
		given++;
	}
	if (sizeof(void *) == 4) {
		EXPECT_EQ(65535, given);
		EXPECT_EQ(-ENOSPC, ret);
		/* One object goes with its offset: another can have one. */
		ASSERT_EQ(0, obj_release(self->fd, h[0]));
		h[0] = 0;
		EXPECT_EQ(0, map_offset(self->fd, h[n - 1], NULL, NULL));
		extra = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, 0);
		ASSERT_NE(0, extra);
		EXPECT_EQ(-ENOSPC, map_offset(self->fd, extra, NULL, NULL));
		ASSERT_EQ(0, obj_release(self->fd, extra));
	} else {
		EXPECT_EQ(n, given);
		EXPECT_EQ(0, ret);
	}
	EXPECT_EQ(0, objheap_release_array(self->heap, h[0] ? h : h + 1,
					   h[0] ? n : n - 1));
	EXPECT_LIVE(0);
	free(h);
}

/* ==== 11. the new commands' size handshake and QUERY ==== */

TEST_F(payload, cmd_length)
{
	uint64_t rsz = node(self->fd, OBJHEAP_OBJ_RESIZABLE, 0, 8);
	uint64_t map = node(self->fd, OBJHEAP_OBJ_MAPPABLE, 0, 8);
	uint64_t plain = node(self->fd, 0, 0, 8);
	uint64_t dead = node(self->fd, 0, 0, 8), off;

	ASSERT_NE(0, rsz);
	ASSERT_NE(0, map);
	ASSERT_NE(0, plain);
	ASSERT_NE(0, dead);
	ASSERT_EQ(0, obj_release(self->fd, dead));

	/* Calls that succeed, both times. */
	TEST_LENGTH(self->fd, objheap_resize, OBJHEAP_RESIZE, data_len,
		    .flags = OBJHEAP_RESIZE_DATA, .handle = rsz,
		    .data_len = 24);
	TEST_LENGTH(self->fd, objheap_seal, OBJHEAP_SEAL, out_handle,
		    .handle = plain);
	TEST_LENGTH(self->fd, objheap_map_offset, OBJHEAP_MAP_OFFSET,
		    __reserved, .handle = map);
	/* Calls that fail, both times alike. */
	TEST_LENGTH(self->fd, objheap_resize, OBJHEAP_RESIZE, data_len,
		    .flags = OBJHEAP_RESIZE_DATA, .handle = dead,
		    .data_len = 24);
	TEST_LENGTH(self->fd, objheap_resize, OBJHEAP_RESIZE, data_len,
		    .flags = OBJHEAP_RESIZE_DATA, .handle = plain,
		    .data_len = 24);
	TEST_LENGTH(self->fd, objheap_seal, OBJHEAP_SEAL, out_handle,
		    .handle = dead);
	TEST_LENGTH(self->fd, objheap_map_offset, OBJHEAP_MAP_OFFSET,
		    __reserved, .handle = plain);

	/* What the successes did. */
	EXPECT_EQ(24, data_len(self->fd, rsz));
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE, oflags(self->fd, plain));
	EXPECT_EQ(1, refcnt(self->fd, plain));
	ASSERT_EQ(0, map_offset(self->fd, map, &off, NULL));
	EXPECT_EQ(0, off % self->page);
	ASSERT_EQ(0, obj_release(self->fd, rsz));
	ASSERT_EQ(0, obj_release(self->fd, map));
	ASSERT_EQ(0, obj_release(self->fd, plain));
	EXPECT_LIVE(0);
}

TEST_F(payload, query_reports_the_new_commands_and_flags)
{
	struct objheap_query q;
	int nr;

	ASSERT_EQ(0, objheap_query(self->heap, 0, &q));
	for (nr = OBJHEAP_CMD_RESIZE; nr <= OBJHEAP_CMD_MAP_OFFSET; nr++)
		EXPECT_TRUE(q.out_cmds & (1ULL << (nr - OBJHEAP_CMD_BASE)));
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_RESIZE, &q));
	EXPECT_EQ(sizeof(struct objheap_resize), q.out_cmd_size);
	EXPECT_EQ(OBJHEAP_RESIZE_SLOTS | OBJHEAP_RESIZE_DATA, q.out_cmd_flags);
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_SEAL, &q));
	EXPECT_EQ(sizeof(struct objheap_seal), q.out_cmd_size);
	EXPECT_EQ(OBJHEAP_SEAL_INTERN, q.out_cmd_flags);
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_MAP_OFFSET, &q));
	EXPECT_EQ(sizeof(struct objheap_map_offset), q.out_cmd_size);
	EXPECT_EQ(0, q.out_cmd_flags);
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_NEW, &q));
	EXPECT_EQ(OBJHEAP_OBJ_IMMUTABLE | OBJHEAP_OBJ_IMMORTAL |
		  OBJHEAP_OBJ_FINALIZE | OBJHEAP_OBJ_RESIZABLE |
		  OBJHEAP_OBJ_MAPPABLE, q.out_cmd_flags);
}

/* NEW takes the two new flags, alone and together, and reports them. */
TEST_F(payload, new_takes_the_payload_flags)
{
	static const uint32_t flags[] = {
		OBJHEAP_OBJ_RESIZABLE, OBJHEAP_OBJ_MAPPABLE,
		OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_MAPPABLE,
		OBJHEAP_OBJ_MAPPABLE | OBJHEAP_OBJ_IMMUTABLE,
		OBJHEAP_OBJ_RESIZABLE | OBJHEAP_OBJ_IMMUTABLE,
	};
	uint64_t h;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		h = pattern_obj(self->fd, flags[i], 5000, 130 + i);
		ASSERT_NE(0, h);
		EXPECT_EQ(flags[i], oflags(self->fd, h));
		EXPECT_EQ(5000, data_len(self->fd, h));
		EXPECT_EQ(-1, read_mismatch(self->fd, h, 5000, 130 + i));
		ASSERT_EQ(0, obj_release(self->fd, h));
	}
	/* The next bit is still unknown. */
	EXPECT_EQ(-EINVAL, obj_new(self->fd, 7, 1U << 9, 0, NULL, 0, NULL, &h));
	EXPECT_LIVE(0);
}

TEST_HARNESS_MAIN
