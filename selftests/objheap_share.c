// SPDX-License-Identifier: GPL-2.0
/*
 * Sharing a heap (DOC: Sharing a heap in <linux/objheap.h>): attachments
 * and their ids, handles that never cross attachments, OBJHEAP_SEND,
 * named roots, read-only attachments, what goes when an attachment's
 * file is closed or its process killed, fork(), publish/lookup races,
 * and the new commands' cmd_length and errno contract.
 *
 * The new commands are called through the small raw helpers below, on
 * file descriptors: libobjheap wraps only the heap it opens itself.
 * Every test's teardown closes the attachments the test left open, then
 * the heap, and asserts that the module holds nothing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"
#include "objheap_raw.h"
#include <libobjheap.h>

#define REC sizeof(struct objheap_event)
#define MAX_ATT 16

FIXTURE(share) {
	struct objheap *heap;
	int fd;			/* attachment A: the heap's first */
	uint32_t id;		/* A's id */
	int att[MAX_ATT];	/* attachments the test made, -1 once closed */
	int natt;
	pid_t child[MAX_ATT];	/* children the test forked, 0 once reaped */
	int nchild;
};

FIXTURE_SETUP(share)
{
	struct objheap_attach_info ai = { .size = sizeof(ai) };
	int i;

	for (i = 0; i < MAX_ATT; i++)
		self->att[i] = -1;
	OPEN_TEST_HEAP_OR_SKIP(self->heap, self->fd);
	/* Collections happen when a test asks for them. */
	ASSERT_EQ(0, objheap_gc_disable(self->heap));
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_ATTACH_INFO, &ai));
	self->id = ai.out_id;
}

FIXTURE_TEARDOWN(share)
{
	int i;

	/* A test that failed half-way leaves no child holding the heap. */
	for (i = 0; i < self->nchild; i++) {
		if (self->child[i] > 0) {
			kill(self->child[i], SIGKILL);
			waitpid(self->child[i], NULL, 0);
		}
	}
	for (i = 0; i < self->natt; i++)
		if (self->att[i] >= 0)
			close(self->att[i]);
	if (self->heap && objheap_has_test_interface(self->fd))
		CHECK_AND_CLOSE_HEAP(self->heap);
}

/* ---- raw helpers: 0 (or a documented value) on success, -errno ---- */

/* OBJHEAP_ATTACH from @fd: the new file, made non-blocking, or -errno. */
static int attach(int fd, uint32_t flags, uint32_t *idp)
{
	struct objheap_attach a = { .size = sizeof(a), .flags = flags };
	int ret = xioctl(fd, OBJHEAP_ATTACH, &a), fl;

	if (ret)
		return ret;
	fl = fcntl(a.out_fd, F_GETFL);
	if (fl < 0 || fcntl(a.out_fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	if (idp)
		*idp = a.out_id;
	return a.out_fd;
}

/* An attachment closed by the teardown, if the test does not close it. */
static int track(FIXTURE_DATA(share) *self, int fd)
{
	if (fd >= 0 && self->natt < MAX_ATT)
		self->att[self->natt++] = fd;
	return fd;
}

static void untrack_close(FIXTURE_DATA(share) *self, int fd)
{
	int i;

	for (i = 0; i < self->natt; i++)
		if (self->att[i] == fd)
			self->att[i] = -1;
	close(fd);
}

/* fork(), the child recorded for the teardown. */
static pid_t fork_child(FIXTURE_DATA(share) *self)
{
	pid_t pid = fork();

	if (pid > 0 && self->nchild < MAX_ATT)
		self->child[self->nchild++] = pid;
	return pid;
}

/* waitpid() on a child of fork_child(): its status, or -1. */
static int reap(FIXTURE_DATA(share) *self, pid_t pid)
{
	int status, i;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	for (i = 0; i < self->nchild; i++)
		if (self->child[i] == pid)
			self->child[i] = 0;
	return status;
}

static int attach_info(int fd, uint32_t id, struct objheap_attach_info *ai)
{
	*ai = (struct objheap_attach_info){ .size = sizeof(*ai), .id = id };
	return xioctl(fd, OBJHEAP_ATTACH_INFO, ai);
}

static int send_obj(int fd, uint64_t h, uint64_t cookie, uint32_t to)
{
	struct objheap_send s = {
		.size = sizeof(s), .handle = h, .cookie = cookie, .to = to,
	};

	return xioctl(fd, OBJHEAP_SEND, &s);
}

static int name_cmd(int fd, unsigned long nr, const void *name, uint32_t len,
		    uint64_t h, uint64_t *outp)
{
	struct objheap_name n = {
		.size = sizeof(n), .name_uptr = (uintptr_t)name,
		.name_len = len, .handle = h,
	};
	int ret = xioctl(fd, nr, &n);

	if (!ret && outp)
		*outp = n.out_handle;
	return ret;
}

static int publish(int fd, const char *name, uint64_t h)
{
	return name_cmd(fd, OBJHEAP_PUBLISH, name, strlen(name), h, NULL);
}

static int lookup(int fd, const char *name, uint64_t *hp)
{
	return name_cmd(fd, OBJHEAP_LOOKUP, name, strlen(name), 0, hp);
}

static int unpublish(int fd, const char *name)
{
	return name_cmd(fd, OBJHEAP_UNPUBLISH, name, strlen(name), 0, NULL);
}

/* A new object of @type with @nslots empty slots and 8 zero bytes, or 0. */
static uint64_t node(int fd, uint32_t type, uint32_t flags, uint32_t nslots)
{
	uint64_t h = 0;

	return obj_new(fd, type, flags, nslots, NULL, 8, NULL, &h) ? 0 : h;
}

static int obj_dup(int fd, uint64_t h)
{
	return handle_cmd(fd, OBJHEAP_DUP, h);
}

/* The references @fd's attachment holds through @h, or ~0 on error. */
static uint32_t user_refs(int fd, uint64_t h)
{
	struct objheap_info info;

	return obj_info(fd, h, &info) ? ~0U : info.out_user_refs;
}

static int set_slot(int fd, uint64_t h, uint32_t index, uint64_t target)
{
	struct objheap_slot s = {
		.size = sizeof(s), .handle = h, .index = index, .target = target,
	};

	return xioctl(fd, OBJHEAP_SET_SLOT, &s);
}

static int get_slot(int fd, uint64_t h, uint32_t index, uint64_t *outp)
{
	struct objheap_slot s = { .size = sizeof(s), .handle = h, .index = index };
	int ret = xioctl(fd, OBJHEAP_GET_SLOT, &s);

	if (!ret)
		*outp = s.out_handle;
	return ret;
}

static int obj_rw(int fd, unsigned long nr, uint64_t h, uint32_t offset,
		  void *buf, uint32_t len)
{
	struct objheap_rw rw = {
		.size = sizeof(rw), .handle = h, .offset = offset, .len = len,
		.buf_uptr = (uintptr_t)buf,
	};

	return xioctl(fd, nr, &rw);
}

static int weakref_new(int fd, uint64_t target, uint64_t cookie,
		       uint32_t flags, uint64_t *wp)
{
	struct objheap_weakref w = {
		.size = sizeof(w), .flags = flags, .handle = target,
		.cookie = cookie,
	};
	int ret = xioctl(fd, OBJHEAP_WEAKREF_NEW, &w);

	if (!ret)
		*wp = w.out_handle;
	return ret;
}

/* WEAKREF_GET, FINALIZE_DETACH, FINALIZE_ALIVE: out_alive, or -errno. */
static int weakref_cmd(int fd, unsigned long nr, uint64_t w, uint64_t *outp)
{
	struct objheap_weakref c = { .size = sizeof(c), .handle = w };
	int ret = xioctl(fd, nr, &c);

	if (ret)
		return ret;
	if (outp)
		*outp = c.out_handle;
	return c.out_alive;
}

/* WEAKREF_COUNT: the count, or -errno. */
static int weakref_count(int fd, uint64_t target)
{
	struct objheap_weakref_list l = { .size = sizeof(l), .handle = target };
	int ret = xioctl(fd, OBJHEAP_WEAKREF_COUNT, &l);

	return ret ? ret : (int)l.out_count;
}

static int gc_list(int fd, unsigned long nr, uint64_t h, uint64_t *buf,
		   uint32_t count)
{
	struct objheap_gc_list l = {
		.size = sizeof(l), .handle = h, .count = count,
		.buf_uptr = (uintptr_t)buf,
	};

	return xioctl(fd, nr, &l);
}

static int weakref_list(int fd, uint64_t h, uint64_t *buf, uint32_t count)
{
	struct objheap_weakref_list l = {
		.size = sizeof(l), .handle = h, .count = count,
		.buf_uptr = (uintptr_t)buf,
	};

	return xioctl(fd, OBJHEAP_WEAKREF_LIST, &l);
}

/* GC_COLLECT: out_collected, or -errno. */
static int64_t collect(int fd, uint32_t generation)
{
	struct objheap_gc_collect c = { .size = sizeof(c), .generation = generation };
	int ret = xioctl(fd, OBJHEAP_GC_COLLECT, &c);

	return ret ? ret : (int64_t)c.out_collected;
}

static int gc_value(int fd, unsigned long nr, uint32_t value, uint32_t *outp)
{
	struct objheap_gc_value v = { .size = sizeof(v), .value = value };
	int ret = xioctl(fd, nr, &v);

	if (!ret && outp)
		*outp = v.out_value;
	return ret;
}

/* Read the records pending on a non-blocking @fd: how many, or -errno. */
static int read_events(int fd, struct objheap_event *ev, size_t n)
{
	ssize_t len = read(fd, ev, n * REC);

	if (len < 0)
		return -errno;
	return len / REC;
}

/*
 * Read records into @ev (room for @max) until @want of them are of @type,
 * or @ms milliseconds have passed: the records read, or -errno.
 */
static int wait_events(int fd, struct objheap_event *ev, int max,
		       uint32_t type, int want, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int got = 0, seen = 0, ret, i;

	for (;;) {
		ret = read_events(fd, ev + got, max - got);
		if (ret < 0 && ret != -EAGAIN)
			return ret;
		for (i = got; ret > 0 && i < got + ret; i++)
			seen += ev[i].type == type;
		if (ret > 0)
			got += ret;
		if (seen >= want || got == max || ms <= 0)
			return got;
		poll(&p, 1, 100);
		ms -= 100;
	}
}

/* ---- a raw batch builder, for attachments other than A ---- */

struct rbatch {
	uint8_t *buf;
	uint32_t len, count;
	uint32_t off[OBJHEAP_BATCH_MAX_COUNT];
};

static struct rbatch *rb_alloc(void)
{
	struct rbatch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->buf = calloc(1, OBJHEAP_BATCH_MAX_LEN);
	if (!b->buf) {
		free(b);
		return NULL;
	}
	return b;
}

static void rb_free(struct rbatch *b)
{
	if (b)
		free(b->buf);
	free(b);
}

static void rb_reset(struct rbatch *b)
{
	memset(b->buf, 0, b->len);
	b->len = 0;
	b->count = 0;
}

/* Append an entry of command @nr whose structure is @cmd: its index. */
static int rb_add(struct rbatch *b, uint32_t nr, const void *cmd, uint32_t size)
{
	struct objheap_batch_entry *e = (void *)(b->buf + b->len);
	uint32_t step = (sizeof(*e) + size + 7) & ~7U;

	if (b->count == OBJHEAP_BATCH_MAX_COUNT ||
	    b->len + step > OBJHEAP_BATCH_MAX_LEN)
		return -ENOSPC;
	e->cmd = nr;
	e->out_result = 12345;
	memcpy(e + 1, cmd, size);
	b->off[b->count] = b->len;
	b->len += step;
	return b->count++;
}

static int rb_new(struct rbatch *b, uint32_t type, uint32_t nslots)
{
	struct objheap_new n = {
		.size = sizeof(n), .type = type, .nslots = nslots, .data_len = 8,
	};

	return rb_add(b, OBJHEAP_CMD_NEW, &n, sizeof(n));
}

static int rb_slot(struct rbatch *b, uint32_t nr, uint64_t h, uint32_t index,
		   uint64_t target)
{
	struct objheap_slot s = {
		.size = sizeof(s), .handle = h, .index = index, .target = target,
	};

	return rb_add(b, nr, &s, sizeof(s));
}

static int rb_info(struct rbatch *b, uint64_t h)
{
	struct objheap_info i = { .size = sizeof(i), .handle = h };

	return rb_add(b, OBJHEAP_CMD_INFO, &i, sizeof(i));
}

/* Submit: 0 or -errno of the ioctl; @res gets out_done and out_failed. */
static int rb_submit(int fd, struct rbatch *b, uint32_t flags,
		     struct objheap_batch *res)
{
	*res = (struct objheap_batch){
		.size = sizeof(*res), .flags = flags, .count = b->count,
		.len = b->len, .buf_uptr = (uintptr_t)b->buf,
	};
	return xioctl(fd, OBJHEAP_BATCH, res);
}

static struct objheap_batch_entry *rb_entry(struct rbatch *b, uint32_t i)
{
	return (void *)(b->buf + b->off[i]);
}

static int32_t rb_result(struct rbatch *b, uint32_t i)
{
	return rb_entry(b, i)->out_result;
}

/* The handle entry @i returned (NEW, GET_SLOT, DUP), or 0. */
static uint64_t rb_handle(struct rbatch *b, uint32_t i)
{
	struct objheap_batch_entry *e = rb_entry(b, i);

	switch (e->cmd) {
	case OBJHEAP_CMD_NEW:
		return ((struct objheap_new *)(e + 1))->out_handle;
	case OBJHEAP_CMD_GET_SLOT:
		return ((struct objheap_slot *)(e + 1))->out_handle;
	case OBJHEAP_CMD_DUP:
		return ((struct objheap_handle_cmd *)(e + 1))->out_handle;
	}
	return 0;
}

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

/* ---- 1. attachments and their ids ---- */

TEST_F(share, attach_returns_a_new_attachment_that_attach_info_describes)
{
	struct objheap_attach a = { .size = sizeof(a) };
	struct objheap_attach_info ai, bi;
	uint32_t cid, did;
	uint64_t h, x, y;
	int b, c, d;

	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	b = track(self, a.out_fd);
	ASSERT_LE(0, b);
	EXPECT_NE(self->fd, b);
	EXPECT_NE(0, a.out_id);
	EXPECT_NE(self->id, a.out_id);
	/* O_RDWR | O_CLOEXEC, as documented. */
	EXPECT_EQ(O_RDWR, fcntl(b, F_GETFL) & O_ACCMODE);
	EXPECT_TRUE(fcntl(b, F_GETFD) & FD_CLOEXEC);

	/* A working attachment of the same heap: new, info, release. */
	ASSERT_EQ(0, obj_new(b, 4, 0, 1, "bbbbbbbb", 8, NULL, &h));
	EXPECT_EQ(1, refcnt(b, h));
	EXPECT_EQ(1, user_refs(b, h));
	EXPECT_LIVE(1);

	/* Its own view, and A's view of it. */
	ASSERT_EQ(0, attach_info(b, 0, &bi));
	EXPECT_EQ(a.out_id, bi.out_id);
	EXPECT_EQ(0, bi.out_flags);
	EXPECT_EQ(2, bi.out_attached);
	EXPECT_EQ(getpid(), bi.out_pid);
	EXPECT_EQ(1, bi.out_handles);
	EXPECT_EQ(1, bi.out_refs);
	EXPECT_EQ(1, bi.out_created);
	ASSERT_EQ(0, attach_info(self->fd, a.out_id, &ai));
	EXPECT_EQ(a.out_id, ai.out_id);
	EXPECT_EQ(0, ai.out_flags);
	EXPECT_EQ(2, ai.out_attached);
	EXPECT_EQ(getpid(), ai.out_pid);
	EXPECT_EQ(1, ai.out_handles);
	EXPECT_EQ(1, ai.out_refs);
	EXPECT_EQ(1, ai.out_created);

	/* A: two objects, three references; seen alike from B. */
	x = node(self->fd, 1, 0, 0);
	y = node(self->fd, 2, 0, 0);
	ASSERT_NE(0, x);
	ASSERT_NE(0, y);
	ASSERT_EQ(0, obj_dup(self->fd, y));
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(self->id, ai.out_id);
	EXPECT_EQ(0, ai.out_flags);
	EXPECT_EQ(2, ai.out_attached);
	EXPECT_EQ(getpid(), ai.out_pid);
	EXPECT_EQ(2, ai.out_handles);
	EXPECT_EQ(3, ai.out_refs);
	EXPECT_EQ(2, ai.out_created);
	ASSERT_EQ(0, attach_info(b, self->id, &bi));
	EXPECT_EQ(self->id, bi.out_id);
	EXPECT_EQ(2, bi.out_handles);
	EXPECT_EQ(3, bi.out_refs);
	EXPECT_EQ(2, bi.out_created);
	EXPECT_EQ(getpid(), bi.out_pid);

	/* A third attachment counts; ids are never reused. */
	c = attach(self->fd, 0, &cid);
	ASSERT_LE(0, c);
	EXPECT_NE(self->id, cid);
	EXPECT_NE(a.out_id, cid);
	ASSERT_EQ(0, attach_info(b, 0, &bi));
	EXPECT_EQ(3, bi.out_attached);
	close(c);
	EXPECT_EQ(-ESRCH, attach_info(self->fd, cid, &ai));
	EXPECT_EQ(-ESRCH, attach_info(b, cid, &ai));
	ASSERT_EQ(0, attach_info(b, 0, &bi));
	EXPECT_EQ(2, bi.out_attached);
	d = track(self, attach(b, 0, &did));
	ASSERT_LE(0, d);
	EXPECT_NE(cid, did);
	EXPECT_NE(self->id, did);
	EXPECT_NE(a.out_id, did);
	/* Made by B's process: its pid too, and no handles. */
	ASSERT_EQ(0, attach_info(self->fd, did, &ai));
	EXPECT_EQ(getpid(), ai.out_pid);
	EXPECT_EQ(0, ai.out_handles);
	EXPECT_EQ(0, ai.out_refs);
	EXPECT_EQ(0, ai.out_created);
	EXPECT_EQ(3, ai.out_attached);

	/* Ids that never existed. */
	EXPECT_EQ(-ESRCH, attach_info(self->fd, 0x7fffffff, &ai));
	EXPECT_EQ(-ESRCH, attach_info(self->fd, 0xffffffff, &ai));
	EXPECT_EQ(-ESRCH, attach_info(b, cid + did + a.out_id + self->id, &ai));

	ASSERT_EQ(0, obj_release(b, h));
	ASSERT_EQ(0, obj_release(self->fd, x));
	ASSERT_EQ(0, obj_release(self->fd, y));
	ASSERT_EQ(0, obj_release(self->fd, y));
	EXPECT_LIVE(0);
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(0, ai.out_handles);
	EXPECT_EQ(0, ai.out_refs);
	EXPECT_EQ(2, ai.out_created);
}

/* ---- 2. handles never cross attachments ---- */

enum {
	X_DUP, X_RELEASE, X_SET_SLOT, X_GET_SLOT, X_READ, X_WRITE, X_INFO,
	X_WEAKREF_NEW, X_WEAKREF_GET, X_WEAKREF_COUNT, X_WEAKREF_LIST,
	X_REFERRERS, X_REFERENTS, X_IS_TRACKED, X_FINALIZE_DETACH,
	X_FINALIZE_ALIVE, X_SEND, X_PUBLISH, X_NEW_SLOT, X_NR,
};

static const char *const x_names[X_NR] = {
	"DUP", "RELEASE", "SET_SLOT", "GET_SLOT", "READ", "WRITE", "INFO",
	"WEAKREF_NEW", "WEAKREF_GET", "WEAKREF_COUNT", "WEAKREF_LIST",
	"GC_GET_REFERRERS", "GC_GET_REFERENTS", "GC_IS_TRACKED",
	"FINALIZE_DETACH", "FINALIZE_ALIVE", "SEND", "PUBLISH",
	"NEW with a slot",
};

/* A helper's result as 0 or -errno. */
static int min0(int ret)
{
	return ret < 0 ? ret : 0;
}

/* Command @x in @fd with @h as its handle argument: 0 or -errno. */
static int handle_command(int fd, int x, uint64_t h, uint32_t to)
{
	struct objheap_gc_object t = { .size = sizeof(t), .handle = h };
	uint64_t out, buf[16];
	char byte = 0;

	switch (x) {
	case X_DUP:
		return obj_dup(fd, h);
	case X_RELEASE:
		return obj_release(fd, h);
	case X_SET_SLOT:
		return set_slot(fd, h, 0, 0);
	case X_GET_SLOT:
		return get_slot(fd, h, 0, &out);
	case X_READ:
		return obj_rw(fd, OBJHEAP_READ, h, 0, &byte, 1);
	case X_WRITE:
		return obj_rw(fd, OBJHEAP_WRITE, h, 0, &byte, 1);
	case X_INFO: {
		struct objheap_info info;

		return obj_info(fd, h, &info);
	}
	case X_WEAKREF_NEW:
		return weakref_new(fd, h, 0, OBJHEAP_WEAKREF_CALLBACK, &out);
	case X_WEAKREF_GET:
		return min0(weakref_cmd(fd, OBJHEAP_WEAKREF_GET, h, &out));
	case X_WEAKREF_COUNT:
		return min0(weakref_count(fd, h));
	case X_WEAKREF_LIST:
		return weakref_list(fd, h, buf, 16);
	case X_REFERRERS:
		return gc_list(fd, OBJHEAP_GC_GET_REFERRERS, h, buf, 16);
	case X_REFERENTS:
		return gc_list(fd, OBJHEAP_GC_GET_REFERENTS, h, buf, 16);
	case X_IS_TRACKED:
		return xioctl(fd, OBJHEAP_GC_IS_TRACKED, &t);
	case X_FINALIZE_DETACH:
		return min0(weakref_cmd(fd, OBJHEAP_FINALIZE_DETACH, h, &out));
	case X_FINALIZE_ALIVE:
		return min0(weakref_cmd(fd, OBJHEAP_FINALIZE_ALIVE, h, NULL));
	case X_SEND:
		return send_obj(fd, h, 1, to);
	case X_PUBLISH:
		return publish(fd, "crossed", h);
	case X_NEW_SLOT:
		return obj_new(fd, 1, 0, 1, NULL, 0, &h, &out);
	}
	return -EINVAL;
}

TEST_F(share, handles_of_one_attachment_are_enoent_in_another)
{
	uint64_t c, t, w, f, hb, got, hs[4];
	struct objheap_event ev[4];
	int b, i, x, ret, tried = 0;

	c = node(self->fd, 1, 0, 2);
	t = node(self->fd, 2, 0, 0);
	ASSERT_NE(0, c);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, set_slot(self->fd, c, 0, t));
	ASSERT_EQ(0, weakref_new(self->fd, t, 1, OBJHEAP_WEAKREF_CALLBACK, &w));
	ASSERT_EQ(0, weakref_new(self->fd, t, 2, OBJHEAP_WEAKREF_FINALIZER, &f));
	hs[0] = c;
	hs[1] = t;
	hs[2] = w;
	hs[3] = f;
	b = track(self, attach(self->fd, 0, NULL));
	ASSERT_LE(0, b);

	/* B holds no handle at all: every one of A's is ENOENT there. */
	for (i = 0; i < 4; i++) {
		for (x = 0; x < X_NR; x++) {
			ret = handle_command(b, x, hs[i], self->id);
			EXPECT_EQ(-ENOENT, ret) {
				TH_LOG("%s in B of A's handle %#llx gave %d",
				       x_names[x], (unsigned long long)hs[i], ret);
			}
		}
	}

	/* With B's own object: A's handles as SET_SLOT's target. */
	hb = node(b, 3, 0, 1);
	ASSERT_NE(0, hb);
	for (i = 0; i < 4; i++) {
		/* A value B itself has given names B's object, not A's. */
		if (hs[i] == hb)
			continue;
		tried++;
		EXPECT_EQ(-ENOENT, set_slot(b, hb, 0, hs[i])) {
			TH_LOG("SET_SLOT in B with A's target %#llx",
			       (unsigned long long)hs[i]);
		}
		EXPECT_EQ(-ENOENT, handle_command(b, X_NEW_SLOT, hs[i], 0));
	}
	EXPECT_LE(3, tried);
	ASSERT_EQ(0, get_slot(b, hb, 0, &got));
	EXPECT_EQ(0, got);
	EXPECT_EQ(1, refcnt(b, hb));

	/* Nothing happened to A's objects. */
	EXPECT_EQ(1, refcnt(self->fd, c));
	EXPECT_EQ(1, user_refs(self->fd, c));
	EXPECT_EQ(2, refcnt(self->fd, t));
	EXPECT_EQ(2, weakref_count(self->fd, t));
	EXPECT_EQ(1, weakref_cmd(self->fd, OBJHEAP_FINALIZE_ALIVE, f, NULL));
	EXPECT_EQ(1, refcnt(self->fd, w));
	EXPECT_EQ(-ENOENT, lookup(self->fd, "crossed", &got));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));
	EXPECT_LIVE(5);

	ASSERT_EQ(0, obj_release(b, hb));
	ASSERT_EQ(1, weakref_cmd(self->fd, OBJHEAP_FINALIZE_DETACH, f, &got));
	ASSERT_EQ(t, got);
	ASSERT_EQ(0, obj_release(self->fd, got));
	ASSERT_EQ(0, obj_release(self->fd, f));
	ASSERT_EQ(0, obj_release(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, t));
	ASSERT_EQ(0, obj_release(self->fd, c));
	EXPECT_LIVE(0);
}

/*
 * Each attachment masks its handles with keys of its own: even when both
 * hold a thousand objects, no handle of A names anything in B, nor one of
 * B anything in A, and one object has different handles in the two.
 */
TEST_F(share, handles_of_two_busy_attachments_never_meet)
{
	const uint32_t n = 1000;
	uint64_t *ha, *hb, got;
	struct objheap_event ev;
	struct objheap_info info;
	uint32_t i, bid;
	int b;

	ha = calloc(n, sizeof(*ha));
	hb = calloc(n, sizeof(*hb));
	ASSERT_NE(NULL, ha);
	ASSERT_NE(NULL, hb);
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, obj_new(self->fd, 1, 0, 0, NULL, 8, NULL, &ha[i]));
		ASSERT_EQ(0, obj_new(b, 2, 0, 0, NULL, 8, NULL, &hb[i]));
	}
	for (i = 0; i < n; i++) {
		EXPECT_EQ(-ENOENT, obj_info(b, ha[i], &info));
		EXPECT_EQ(-ENOENT, obj_info(self->fd, hb[i], &info));
	}

	/* One object, two handles. */
	ASSERT_EQ(0, send_obj(self->fd, ha[0], 5, bid));
	ASSERT_EQ(1, read_events(b, &ev, 1));
	got = ev.handle;
	EXPECT_NE(ha[0], got);
	ASSERT_EQ(0, obj_info(b, got, &info));
	EXPECT_EQ(1, info.out_type);
	EXPECT_EQ(-ENOENT, obj_info(self->fd, got, &info));
	ASSERT_EQ(0, obj_release(b, got));

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, obj_release(self->fd, ha[i]));
		ASSERT_EQ(0, obj_release(b, hb[i]));
	}
	EXPECT_LIVE(0);
	free(ha);
	free(hb);
}

/* ---- 3. sending ---- */

TEST_F(share, sent_object_arrives_with_a_reference_of_the_receiver)
{
	struct objheap_event ev[4];
	struct objheap_info info;
	uint64_t o, w, hb, got;
	uint32_t bid;
	char data[8];
	int b;

	o = node(self->fd, 77, 0, 0);
	ASSERT_NE(0, o);
	ASSERT_EQ(0, obj_rw(self->fd, OBJHEAP_WRITE, o, 0, "payload", 8));
	ASSERT_EQ(0, weakref_new(self->fd, o, 5, OBJHEAP_WEAKREF_CALLBACK, &w));
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);

	ASSERT_EQ(0, send_obj(self->fd, o, 0xc00c1e5ULL << 20, bid));
	/* The sender's reference is unchanged; B holds one more. */
	EXPECT_EQ(1, user_refs(self->fd, o));
	EXPECT_EQ(2, refcnt(self->fd, o));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	ASSERT_EQ(1, read_events(b, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	EXPECT_EQ(0, ev[0].reason);
	EXPECT_EQ(0, ev[0].lost);
	EXPECT_EQ(0xc00c1e5ULL << 20, ev[0].cookie);
	EXPECT_EQ(77, ev[0].target_type);
	EXPECT_EQ(self->id, ev[0].generation);
	EXPECT_EQ(0, ev[0].collected);
	EXPECT_EQ(0, ev[0].uncollectable);
	EXPECT_EQ(0, ev[0].duration_ns);
	hb = ev[0].handle;
	ASSERT_NE(0, hb);
	ASSERT_EQ(0, obj_info(b, hb, &info));
	EXPECT_EQ(1, info.out_user_refs);
	EXPECT_EQ(2, info.out_refcnt);
	EXPECT_EQ(77, info.out_type);
	ASSERT_EQ(0, obj_rw(b, OBJHEAP_READ, hb, 0, data, 8));
	EXPECT_EQ(0, memcmp(data, "payload", 8));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));

	/*
	 * A lets go: B's reference keeps it, and A's handle still names it,
	 * holding nothing, for as long as it lives.
	 */
	ASSERT_EQ(0, obj_release(self->fd, o));
	ASSERT_EQ(0, obj_info(self->fd, o, &info));
	EXPECT_EQ(0, info.out_user_refs);
	EXPECT_EQ(-EINVAL, obj_release(self->fd, o));
	EXPECT_EQ(1, refcnt(b, hb));
	EXPECT_EQ(1, weakref_cmd(self->fd, OBJHEAP_WEAKREF_GET, w, &got));
	EXPECT_EQ(o, got);
	ASSERT_EQ(0, obj_release(self->fd, got));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	EXPECT_LIVE(2);

	/* B's release frees it: A's weak reference reports the death. */
	ASSERT_EQ(0, obj_release(b, hb));
	EXPECT_EQ(-ENOENT, obj_release(b, hb));
	EXPECT_EQ(-ENOENT, obj_info(self->fd, o, &info));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
	EXPECT_EQ(OBJHEAP_REASON_REFCOUNT, ev[0].reason);
	EXPECT_EQ(5, ev[0].cookie);
	EXPECT_EQ(w, ev[0].handle);
	EXPECT_EQ(77, ev[0].target_type);
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));
	EXPECT_EQ(0, weakref_cmd(self->fd, OBJHEAP_WEAKREF_GET, w, &got));
	EXPECT_EQ(0, got);
	ASSERT_EQ(0, obj_release(self->fd, w));
	EXPECT_LIVE(0);
}

TEST_F(share, send_to_self_unknown_or_closed_attachment_fails)
{
	struct objheap_event ev[4];
	uint32_t bid, cid;
	uint64_t o;
	int b, c, n;

	o = node(self->fd, 1, 0, 0);
	ASSERT_NE(0, o);
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);
	c = attach(self->fd, 0, &cid);
	ASSERT_LE(0, c);

	EXPECT_EQ(-EINVAL, send_obj(self->fd, o, 1, self->id));
	EXPECT_EQ(-ESRCH, send_obj(self->fd, o, 1, 0x7fffffff));
	EXPECT_EQ(-ESRCH, send_obj(self->fd, o, 1, bid + cid + self->id));
	close(c);
	/* C's going is reported to A and B alike. */
	ASSERT_EQ(1, wait_events(self->fd, ev, 4, OBJHEAP_EVENT_DETACHED, 1, 5000));
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(cid, ev[0].generation);
	ASSERT_EQ(1, wait_events(b, ev, 4, OBJHEAP_EVENT_DETACHED, 1, 5000));
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(cid, ev[0].generation);
	EXPECT_EQ(-ESRCH, send_obj(self->fd, o, 1, cid));
	/* Nothing sent: no reference taken, nothing queued. */
	EXPECT_EQ(1, refcnt(self->fd, o));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));

	/* B too may not send to itself, nor to C; it may send back. */
	ASSERT_EQ(0, send_obj(self->fd, o, 2, bid));
	ASSERT_EQ(1, read_events(b, ev, 4));
	ASSERT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	EXPECT_EQ(-EINVAL, send_obj(b, ev[0].handle, 3, bid));
	EXPECT_EQ(-ESRCH, send_obj(b, ev[0].handle, 3, cid));
	ASSERT_EQ(0, send_obj(b, ev[0].handle, 4, self->id));
	ASSERT_EQ(0, obj_release(b, ev[0].handle));
	/* A gets a second reference of its own, on the same handle. */
	n = read_events(self->fd, ev, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	EXPECT_EQ(o, ev[0].handle);
	EXPECT_EQ(4, ev[0].cookie);
	EXPECT_EQ(bid, ev[0].generation);
	EXPECT_EQ(2, user_refs(self->fd, o));
	EXPECT_EQ(2, refcnt(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, o));
	EXPECT_LIVE(0);
}

/* ---- 4. named roots ---- */

TEST_F(share, publish_lookup_and_unpublish_a_name)
{
	uint64_t o, p, hb, got, w;
	struct objheap_event ev[4];
	struct objheap_info info;
	int b;

	o = node(self->fd, 11, 0, 0);
	p = node(self->fd, 12, 0, 0);
	ASSERT_NE(0, o);
	ASSERT_NE(0, p);
	b = track(self, attach(self->fd, 0, NULL));
	ASSERT_LE(0, b);

	EXPECT_EQ(-ENOENT, lookup(b, "root", &got));
	ASSERT_EQ(0, publish(self->fd, "root", o));
	/* The heap holds one reference; the publisher's is unchanged. */
	EXPECT_EQ(2, refcnt(self->fd, o));
	EXPECT_EQ(1, user_refs(self->fd, o));
	/* Taken, whatever the object. */
	EXPECT_EQ(-EEXIST, publish(self->fd, "root", p));
	EXPECT_EQ(-EEXIST, publish(self->fd, "root", o));
	EXPECT_EQ(2, refcnt(self->fd, o));
	EXPECT_EQ(1, refcnt(self->fd, p));

	/* Any attachment may look it up: a reference of its own. */
	ASSERT_EQ(0, lookup(b, "root", &hb));
	ASSERT_NE(0, hb);
	EXPECT_EQ(1, user_refs(b, hb));
	EXPECT_EQ(3, refcnt(b, hb));
	ASSERT_EQ(0, obj_info(b, hb, &info));
	EXPECT_EQ(11, info.out_type);
	ASSERT_EQ(0, lookup(b, "root", &got));
	EXPECT_EQ(hb, got);
	EXPECT_EQ(2, user_refs(b, hb));
	ASSERT_EQ(0, obj_release(b, got));
	ASSERT_EQ(0, lookup(self->fd, "root", &got));
	EXPECT_EQ(o, got);
	EXPECT_EQ(2, user_refs(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, got));

	/* Unknown names. */
	EXPECT_EQ(-ENOENT, lookup(b, "roo", &got));
	EXPECT_EQ(-ENOENT, lookup(b, "root2", &got));
	EXPECT_EQ(-ENOENT, unpublish(b, "Root"));

	/* A second name for the same object, another for p. */
	ASSERT_EQ(0, publish(b, "alias", hb));
	ASSERT_EQ(0, publish(self->fd, "p", p));
	EXPECT_EQ(4, refcnt(self->fd, o));

	/* Unpublish drops the heap's reference, and only that. */
	ASSERT_EQ(0, unpublish(b, "root"));
	EXPECT_EQ(3, refcnt(self->fd, o));
	EXPECT_EQ(-ENOENT, lookup(self->fd, "root", &got));
	EXPECT_EQ(-ENOENT, unpublish(self->fd, "root"));
	ASSERT_EQ(0, unpublish(self->fd, "alias"));
	EXPECT_EQ(2, refcnt(self->fd, o));
	/* The name is free again. */
	ASSERT_EQ(0, publish(self->fd, "root", p));
	EXPECT_EQ(3, refcnt(self->fd, p));

	/*
	 * An object only a name holds lives on; unpublishing it frees it,
	 * which a callback weak reference in B reports.
	 */
	ASSERT_EQ(0, obj_release(b, hb));
	ASSERT_EQ(0, lookup(b, "p", &got));
	ASSERT_EQ(0, weakref_new(b, got, 66, OBJHEAP_WEAKREF_CALLBACK, &w));
	ASSERT_EQ(0, obj_release(b, got));
	ASSERT_EQ(0, obj_release(self->fd, p));
	EXPECT_LIVE(3);
	ASSERT_EQ(0, unpublish(self->fd, "p"));
	EXPECT_LIVE(3);
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));
	ASSERT_EQ(0, unpublish(self->fd, "root"));
	EXPECT_LIVE(2);
	ASSERT_EQ(1, read_events(b, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
	EXPECT_EQ(66, ev[0].cookie);
	EXPECT_EQ(12, ev[0].target_type);
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	ASSERT_EQ(0, obj_release(b, w));
	EXPECT_EQ(1, refcnt(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, o));
	EXPECT_LIVE(0);
}

TEST_F(share, published_object_outlives_its_publisher)
{
	uint64_t ho, got, w, hp, slot;
	struct objheap_event ev[8];
	struct objheap_info info;
	char data[8];
	uint32_t p_id;
	int p, n;

	p = attach(self->fd, 0, &p_id);
	ASSERT_LE(0, p);
	/* P: an object holding another, published, then let go. */
	ASSERT_EQ(0, obj_new(p, 21, 0, 1, "kept....", 8, NULL, &hp));
	slot = node(p, 22, 0, 0);
	ASSERT_NE(0, slot);
	ASSERT_EQ(0, set_slot(p, hp, 0, slot));
	ASSERT_EQ(0, obj_release(p, slot));
	ASSERT_EQ(0, publish(p, "keep", hp));
	/* A watches it with a weak reference, holding no strong one. */
	ASSERT_EQ(0, lookup(self->fd, "keep", &ho));
	ASSERT_EQ(0, weakref_new(self->fd, ho, 8, OBJHEAP_WEAKREF_CALLBACK, &w));
	ASSERT_EQ(0, obj_release(self->fd, ho));
	ASSERT_EQ(0, obj_release(p, hp));
	close(p);

	n = wait_events(self->fd, ev, 8, OBJHEAP_EVENT_DETACHED, 1, 5000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(p_id, ev[0].generation);
	EXPECT_EQ(getpid(), ev[0].cookie);
	EXPECT_EQ(0, ev[0].collected);

	/* Publisher gone: the object and what it holds are intact. */
	EXPECT_LIVE(3);
	ASSERT_EQ(0, lookup(self->fd, "keep", &ho));
	ASSERT_EQ(0, obj_info(self->fd, ho, &info));
	EXPECT_EQ(21, info.out_type);
	EXPECT_EQ(2, info.out_refcnt);
	EXPECT_EQ(1, info.out_user_refs);
	ASSERT_EQ(0, obj_rw(self->fd, OBJHEAP_READ, ho, 0, data, 8));
	EXPECT_EQ(0, memcmp(data, "kept....", 8));
	ASSERT_EQ(0, get_slot(self->fd, ho, 0, &got));
	EXPECT_EQ(1, user_refs(self->fd, got));
	EXPECT_EQ(2, refcnt(self->fd, got));
	ASSERT_EQ(0, obj_release(self->fd, got));
	ASSERT_EQ(0, obj_release(self->fd, ho));

	/* Unpublished, nobody holds it: freed with what it held. */
	ASSERT_EQ(0, unpublish(self->fd, "keep"));
	EXPECT_LIVE(1);
	n = read_events(self->fd, ev, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_WEAKREF, ev[0].type);
	EXPECT_EQ(8, ev[0].cookie);
	EXPECT_EQ(21, ev[0].target_type);
	EXPECT_EQ(OBJHEAP_REASON_REFCOUNT, ev[0].reason);
	ASSERT_EQ(0, obj_release(self->fd, w));
	EXPECT_LIVE(0);
}

TEST_F(share, name_lengths_and_handle_fields_are_checked)
{
	char longname[OBJHEAP_NAME_MAX + 1];
	const char ab[3] = { 'a', 0, 'b' }, ac[3] = { 'a', 0, 'c' };
	uint64_t o, p, got;
	struct objheap_info info;

	o = node(self->fd, 31, 0, 0);
	p = node(self->fd, 32, 0, 0);
	ASSERT_NE(0, o);
	ASSERT_NE(0, p);
	memset(longname, 'n', sizeof(longname));

	/* Length 0, and one past OBJHEAP_NAME_MAX. */
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_PUBLISH, "x", 0, o, NULL));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_LOOKUP, "x", 0, 0, &got));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_UNPUBLISH, "x", 0, 0, NULL));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_PUBLISH, longname,
				    OBJHEAP_NAME_MAX + 1, o, NULL));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_LOOKUP, longname,
				    OBJHEAP_NAME_MAX + 1, 0, &got));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_UNPUBLISH, longname,
				    OBJHEAP_NAME_MAX + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_PUBLISH, longname,
				    0xffffffff, o, NULL));
	EXPECT_EQ(1, refcnt(self->fd, o));

	/* OBJHEAP_NAME_MAX bytes is a name. */
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_PUBLISH, longname,
			      OBJHEAP_NAME_MAX, o, NULL));
	EXPECT_EQ(-ENOENT, name_cmd(self->fd, OBJHEAP_LOOKUP, longname,
				    OBJHEAP_NAME_MAX - 1, 0, &got));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_LOOKUP, longname,
			      OBJHEAP_NAME_MAX, 0, &got));
	EXPECT_EQ(o, got);
	ASSERT_EQ(0, obj_release(self->fd, got));

	/* LOOKUP and UNPUBLISH take no handle. */
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_LOOKUP, longname,
				    OBJHEAP_NAME_MAX, o, &got));
	EXPECT_EQ(-EINVAL, name_cmd(self->fd, OBJHEAP_UNPUBLISH, longname,
				    OBJHEAP_NAME_MAX, o, NULL));
	EXPECT_EQ(2, refcnt(self->fd, o));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_UNPUBLISH, longname,
			      OBJHEAP_NAME_MAX, 0, NULL));
	EXPECT_EQ(1, refcnt(self->fd, o));

	/* Any bytes: NUL included, and no terminator implied. */
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_PUBLISH, ab, 3, o, NULL));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_PUBLISH, ac, 3, p, NULL));
	EXPECT_EQ(-ENOENT, name_cmd(self->fd, OBJHEAP_LOOKUP, "a", 1, 0, &got));
	EXPECT_EQ(-ENOENT, name_cmd(self->fd, OBJHEAP_LOOKUP, ab, 2, 0, &got));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_LOOKUP, ac, 3, 0, &got));
	ASSERT_EQ(0, obj_info(self->fd, got, &info));
	EXPECT_EQ(32, info.out_type);
	ASSERT_EQ(0, obj_release(self->fd, got));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_UNPUBLISH, ab, 3, 0, NULL));
	ASSERT_EQ(0, name_cmd(self->fd, OBJHEAP_UNPUBLISH, ac, 3, 0, NULL));

	/* A handle that names no live object, a name that cannot be read. */
	EXPECT_EQ(-ENOENT, publish(self->fd, "zero", 0));
	EXPECT_EQ(-ENOENT, publish(self->fd, "dead", o | 0xffff));
	EXPECT_EQ(-EFAULT, name_cmd(self->fd, OBJHEAP_PUBLISH, (void *)8, 4, o, NULL));
	EXPECT_EQ(-EFAULT, name_cmd(self->fd, OBJHEAP_LOOKUP, (void *)8, 4, 0, &got));
	EXPECT_EQ(1, refcnt(self->fd, o));
	EXPECT_EQ(1, refcnt(self->fd, p));
	ASSERT_EQ(0, obj_release(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, p));
	EXPECT_LIVE(0);
}

/* ---- 5. read-only attachments ---- */

TEST_F(share, readonly_attachment_reads_but_never_changes_the_heap)
{
	struct objheap_gc_threshold th = { .size = sizeof(th) }, th2;
	struct objheap_set_limit lim = { .size = sizeof(lim) };
	struct objheap_intern in = { .size = sizeof(in), .type = 1, .data_len = 4,
				     .data_uptr = (uintptr_t)"abcd" };
	struct objheap_attach att = { .size = sizeof(att) };
	struct objheap_attach_info ai;
	struct objheap_event ev[4];
	struct objheap_batch res;
	struct objheap_stats st;
	uint64_t t, w, f, o, ho, ht, hw, hf, got, slots[3];
	uint32_t rid, r2id, v;
	struct rbatch *b;
	char data[8];
	int r, r2, i, live;

	t = node(self->fd, 41, 0, 0);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, weakref_new(self->fd, t, 1, 0, &w));
	ASSERT_EQ(0, weakref_new(self->fd, t, 2, OBJHEAP_WEAKREF_FINALIZER, &f));
	slots[0] = t;
	slots[1] = w;
	slots[2] = f;
	ASSERT_EQ(0, obj_new(self->fd, 40, 0, 3, "readonly", 8, slots, &o));
	ASSERT_EQ(0, publish(self->fd, "ro", o));
	ASSERT_EQ(0, xioctl(self->fd, OBJHEAP_GC_GET_THRESHOLD, &th));
	ASSERT_EQ(0, heap_stats(self->fd, &st));

	r = track(self, attach(self->fd, OBJHEAP_ATTACH_READONLY, &rid));
	ASSERT_LE(0, r);
	ASSERT_EQ(0, attach_info(self->fd, rid, &ai));
	EXPECT_EQ(OBJHEAP_ATTACH_READONLY, ai.out_flags);
	ASSERT_EQ(0, attach_info(r, 0, &ai));
	EXPECT_EQ(OBJHEAP_ATTACH_READONLY, ai.out_flags);
	EXPECT_EQ(rid, ai.out_id);

	/* What it may do: look up, follow slots, read, count, call. */
	ASSERT_EQ(0, lookup(r, "ro", &ho));
	ASSERT_EQ(0, get_slot(r, ho, 0, &ht));
	ASSERT_EQ(0, get_slot(r, ho, 1, &hw));
	ASSERT_EQ(0, get_slot(r, ho, 2, &hf));
	ASSERT_EQ(0, obj_rw(r, OBJHEAP_READ, ho, 0, data, 8));
	EXPECT_EQ(0, memcmp(data, "readonly", 8));
	EXPECT_EQ(3, refcnt(r, ho));
	EXPECT_EQ(1, user_refs(r, ho));
	ASSERT_EQ(0, obj_dup(r, ho));
	EXPECT_EQ(2, user_refs(r, ho));
	ASSERT_EQ(0, obj_release(r, ho));
	EXPECT_EQ(1, user_refs(r, ho));
	EXPECT_EQ(1, weakref_cmd(r, OBJHEAP_WEAKREF_GET, hw, &got));
	EXPECT_EQ(ht, got);
	ASSERT_EQ(0, obj_release(r, got));
	EXPECT_LE(0, collect(r, 2));
	live = objheap_test_objects(self->fd).objects.out_live;
	EXPECT_EQ(4, live);

	/* What it may not: every command that changes the heap. */
	EXPECT_EQ(-EPERM, obj_new(r, 1, 0, 0, NULL, 8, NULL, &got));
	EXPECT_EQ(-EPERM, obj_new(r, 1, 0, 1, NULL, 0, &ht, &got));
	EXPECT_EQ(-EPERM, obj_rw(r, OBJHEAP_WRITE, ho, 0, "XXXXXXXX", 8));
	EXPECT_EQ(-EPERM, set_slot(r, ho, 0, 0));
	EXPECT_EQ(-EPERM, set_slot(r, ho, 1, ht));
	EXPECT_ERRNO(EPERM, ioctl(r, OBJHEAP_INTERN, &in));
	EXPECT_EQ(-EPERM, weakref_new(r, ht, 3, 0, &got));
	EXPECT_EQ(-EPERM, weakref_new(r, ht, 3, OBJHEAP_WEAKREF_FINALIZER, &got));
	EXPECT_EQ(-EPERM, weakref_cmd(r, OBJHEAP_FINALIZE_DETACH, hf, &got));
	lim.limit = st.out_limit;
	EXPECT_ERRNO(EPERM, ioctl(r, OBJHEAP_SET_LIMIT, &lim));
	EXPECT_EQ(-EPERM, gc_value(r, OBJHEAP_GC_ENABLE, 0, NULL));
	EXPECT_EQ(-EPERM, gc_value(r, OBJHEAP_GC_DISABLE, 0, NULL));
	th2 = (struct objheap_gc_threshold){ .size = sizeof(th2) };
	for (i = 0; i < OBJHEAP_GC_GENERATIONS; i++)
		th2.threshold[i] = th.out_threshold[i] + 1;
	EXPECT_ERRNO(EPERM, ioctl(r, OBJHEAP_GC_SET_THRESHOLD, &th2));
	EXPECT_EQ(-EPERM, gc_value(r, OBJHEAP_GC_FREEZE, 0, NULL));
	EXPECT_EQ(-EPERM, gc_value(r, OBJHEAP_GC_UNFREEZE, 0, NULL));
	EXPECT_EQ(-EPERM, gc_value(r, OBJHEAP_GC_SET_DEBUG,
				   OBJHEAP_GC_DEBUG_SAVEALL, NULL));
	EXPECT_EQ(-EPERM, gc_value(r, OBJHEAP_GC_CLEAR_GARBAGE, 0, NULL));
	EXPECT_EQ(-EPERM, publish(r, "ro2", ho));
	EXPECT_EQ(-EPERM, unpublish(r, "ro"));
	EXPECT_ERRNO(EPERM, ioctl(r, OBJHEAP_ATTACH, &att));

	/* In a batch, the entry fails with -EPERM and the batch runs. */
	b = rb_alloc();
	ASSERT_NE(NULL, b);
	rb_info(b, ho);
	rb_new(b, 1, 0);
	rb_slot(b, OBJHEAP_CMD_GET_SLOT, ho, 0, 0);
	ASSERT_EQ(0, rb_submit(r, b, OBJHEAP_BATCH_CONTINUE, &res));
	EXPECT_EQ(3, res.out_done);
	EXPECT_EQ(1, res.out_failed);
	EXPECT_EQ(0, rb_result(b, 0));
	EXPECT_EQ(-EPERM, rb_result(b, 1));
	EXPECT_EQ(0, rb_handle(b, 1));
	EXPECT_EQ(0, rb_result(b, 2));
	EXPECT_EQ(ht, rb_handle(b, 2));
	ASSERT_EQ(0, obj_release(r, ht));
	/* Without CONTINUE it stops there. */
	rb_reset(b);
	rb_new(b, 1, 0);
	rb_info(b, ho);
	ASSERT_EQ(0, rb_submit(r, b, 0, &res));
	EXPECT_EQ(1, res.out_done);
	EXPECT_EQ(1, res.out_failed);
	EXPECT_EQ(-EPERM, rb_result(b, 0));
	EXPECT_EQ(-ECANCELED, rb_result(b, 1));
	rb_free(b);

	/* Nothing changed. */
	EXPECT_EQ(live, objheap_test_objects(self->fd).objects.out_live);
	ASSERT_EQ(0, attach_info(self->fd, rid, &ai));
	EXPECT_EQ(0, ai.out_created);
	ASSERT_EQ(0, obj_rw(self->fd, OBJHEAP_READ, o, 0, data, 8));
	EXPECT_EQ(0, memcmp(data, "readonly", 8));
	ASSERT_EQ(0, get_slot(self->fd, o, 0, &got));
	EXPECT_EQ(t, got);
	ASSERT_EQ(0, obj_release(self->fd, got));
	ASSERT_EQ(0, get_slot(self->fd, o, 1, &got));
	EXPECT_EQ(w, got);
	ASSERT_EQ(0, obj_release(self->fd, got));
	EXPECT_EQ(1, weakref_cmd(self->fd, OBJHEAP_FINALIZE_ALIVE, f, NULL));
	EXPECT_EQ(2, weakref_count(self->fd, t));
	EXPECT_EQ(-ENOENT, lookup(self->fd, "ro2", &got));
	ASSERT_EQ(0, lookup(self->fd, "ro", &got));
	ASSERT_EQ(0, obj_release(self->fd, got));
	EXPECT_EQ(0, objheap_gc_isenabled(self->heap));
	th2 = (struct objheap_gc_threshold){ .size = sizeof(th2) };
	ASSERT_EQ(0, xioctl(self->fd, OBJHEAP_GC_GET_THRESHOLD, &th2));
	EXPECT_EQ(0, memcmp(th.out_threshold, th2.out_threshold,
			    sizeof(th.out_threshold)));
	ASSERT_EQ(0, gc_value(self->fd, OBJHEAP_GC_GET_DEBUG, 0, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, gc_value(self->fd, OBJHEAP_GC_GET_FREEZE_COUNT, 0, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, heap_stats(self->fd, &st));
	EXPECT_EQ(lim.limit, st.out_limit);
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(2, ai.out_attached);

	/* It sends, and makes read-only attachments. */
	ASSERT_EQ(0, send_obj(r, ho, 9, self->id));
	ASSERT_EQ(1, read_events(self->fd, ev, 4));
	EXPECT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	EXPECT_EQ(o, ev[0].handle);
	EXPECT_EQ(rid, ev[0].generation);
	ASSERT_EQ(0, obj_release(self->fd, o));
	r2 = track(self, attach(r, OBJHEAP_ATTACH_READONLY, &r2id));
	ASSERT_LE(0, r2);
	ASSERT_EQ(0, attach_info(r2, 0, &ai));
	EXPECT_EQ(OBJHEAP_ATTACH_READONLY, ai.out_flags);
	EXPECT_EQ(3, ai.out_attached);
	EXPECT_EQ(-EPERM, obj_new(r2, 1, 0, 0, NULL, 8, NULL, &got));
	EXPECT_EQ(-EPERM, attach(r2, 0, NULL));

	ASSERT_EQ(0, obj_release(r, hf));
	ASSERT_EQ(0, obj_release(r, hw));
	ASSERT_EQ(0, obj_release(r, ht));
	ASSERT_EQ(0, obj_release(r, ho));
	ASSERT_EQ(0, unpublish(self->fd, "ro"));
	ASSERT_EQ(0, obj_release(self->fd, o));
	ASSERT_EQ(1, weakref_cmd(self->fd, OBJHEAP_FINALIZE_DETACH, f, &got));
	ASSERT_EQ(0, obj_release(self->fd, got));
	ASSERT_EQ(0, obj_release(self->fd, f));
	ASSERT_EQ(0, obj_release(self->fd, w));
	ASSERT_EQ(0, obj_release(self->fd, t));
	EXPECT_LIVE(0);
}

/* ---- 6. a killed process's attachment ---- */

/* Whether @pid sleeps (state S) in the kernel, as /proc/PID/stat says. */
static int sleeping(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

/*
 * A reader blocked in read() is woken by records and killed before it
 * runs again: it must die, not find the records ready, give up the copy
 * for the signal and wait again, for ever.  Both run on one CPU, and the
 * parent is SCHED_FIFO while it queues the records and kills, so that
 * the reader cannot run in between.
 */
TEST_F_TIMEOUT(share, a_reader_killed_as_records_arrive_dies, 60)
{
	struct objheap_event_ctl ctl = {
		.size = sizeof(ctl), .flags = OBJHEAP_EVENT_CTL_SET_MASK,
		.mask = OBJHEAP_EVENTS_GC,
	};
	struct sched_param fifo = { .sched_priority = 10 }, other = { 0 };
	struct objheap_event ev;
	cpu_set_t cpu0;
	int c, i, status = -1;
	pid_t pid;

	if (geteuid())
		TEST_SKIP("SCHED_FIFO needs root");
	c = track(self, attach(self->fd, 0, NULL));
	ASSERT_LE(0, c);
	ASSERT_EQ(0, xioctl(c, OBJHEAP_EVENT_CTL, &ctl));
	ASSERT_EQ(0, fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK));
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpu0), &cpu0));

	pid = fork_child(self);
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(read(c, &ev, REC) < 0 ? 2 : 3);
	for (i = 0; i < 200 && !sleeping(pid); i++)
		usleep(10000);
	ASSERT_TRUE(sleeping(pid));
	usleep(50000);

	ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO, &fifo));
	/* GC_START and GC_STOP for c: the reader is woken, not yet run. */
	EXPECT_EQ(0, collect(self->fd, 0));
	EXPECT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &other));

	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	ASSERT_GT(500, i) TH_LOG("the killed reader is still running after 5 s");
	for (i = 0; i < self->nchild; i++)
		if (self->child[i] == pid)
			self->child[i] = 0;
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

#define LIST_SLOTS	64
#define CHILD_BATCHES	25
#define CHILD_GETS	(CHILD_BATCHES * OBJHEAP_BATCH_MAX_COUNT)	/* 102400 */
#define CHILD_PLAIN	50
#define CHILD_PAIRS	100

static int send_fd(int sock, int fd, uint32_t id)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &id, .iov_len = sizeof(id) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == sizeof(id) ? 0 : -1;
}

/* The descriptor sent with send_fd(), or -1; *@idp its id. */
static int recv_fd(int sock, uint32_t *idp)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = idp, .iov_len = sizeof(*idp) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != sizeof(*idp))
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * The child of the test below: it receives attachment R, makes its own
 * attachment C from it (so that C is the child's: its pid), lets R go,
 * and in C takes 1 + CHILD_GETS references to the published list and
 * its leaves, creates CHILD_PLAIN objects and CHILD_PAIRS cycles of two
 * that also hold leaf 0, and reports C's id.  Then it waits to be killed.
 */
static void referencing_child(int sock, int inherited)
{
	struct objheap_attach_info ai;
	struct objheap_batch res;
	uint64_t list, leaf0;
	uint32_t rid, cid;
	struct rbatch *b;
	int r, c, i, k;

	close(inherited);
	b = rb_alloc();
	CHECK(b);
	r = recv_fd(sock, &rid);
	CHECK(r >= 0);
	CHECK(!attach_info(r, 0, &ai) && ai.out_id == rid);
	c = attach(r, 0, &cid);
	CHECK(c >= 0);
	close(r);
	CHECK(!lookup(c, "list", &list));
	for (k = 0; k < CHILD_BATCHES; k++) {
		rb_reset(b);
		for (i = 0; i < (int)OBJHEAP_BATCH_MAX_COUNT; i++)
			CHECK(rb_slot(b, OBJHEAP_CMD_GET_SLOT, list,
				      i % LIST_SLOTS, 0) == i);
		CHECK(!rb_submit(c, b, 0, &res));
		CHECK(res.out_done == OBJHEAP_BATCH_MAX_COUNT && !res.out_failed);
	}
	leaf0 = rb_handle(b, 0);
	CHECK(leaf0);
	rb_reset(b);
	for (i = 0; i < CHILD_PLAIN; i++)
		rb_new(b, 3, 0);
	for (i = 0; i < CHILD_PAIRS; i++) {
		int x = rb_new(b, 4, 2), y = rb_new(b, 5, 1);

		rb_slot(b, OBJHEAP_CMD_SET_SLOT, OBJHEAP_BATCH_REF(x), 0,
			OBJHEAP_BATCH_REF(y));
		rb_slot(b, OBJHEAP_CMD_SET_SLOT, OBJHEAP_BATCH_REF(y), 0,
			OBJHEAP_BATCH_REF(x));
		rb_slot(b, OBJHEAP_CMD_SET_SLOT, OBJHEAP_BATCH_REF(x), 1, leaf0);
	}
	CHECK(!rb_submit(c, b, 0, &res));
	CHECK(res.out_done == b->count && !res.out_failed);
	CHECK(write(sock, &cid, sizeof(cid)) == sizeof(cid));
	for (;;)
		pause();
}

TEST_F_TIMEOUT(share, killed_process_drops_its_references_and_leaves_cycles_to_the_collector, 300)
{
	const uint64_t child_refs = 1 + CHILD_GETS + CHILD_PLAIN + 2 * CHILD_PAIRS;
	const uint32_t per_leaf = CHILD_GETS / LIST_SLOTS;
	struct objheap_batch_buf *batch;
	struct objheap_attach_info ai;
	struct objheap_event ev[8];
	uint64_t list, leaves[LIST_SLOTS], bytes0;
	uint32_t rid, cid, live0, i;
	int sv[2], r, n, status;
	pid_t pid;

	/* The parent's: 64 leaves, a list of them, published. */
	ASSERT_EQ(0, objheap_batch_alloc(&batch, LIST_SLOTS));
	for (i = 0; i < LIST_SLOTS; i++)
		ASSERT_LE(0, objheap_batch_new(batch, 2, 0, 0, NULL, 8, NULL));
	ASSERT_EQ(0, objheap_batch_submit(self->heap, batch, 0));
	for (i = 0; i < LIST_SLOTS; i++)
		leaves[i] = objheap_batch_handle(batch, i);
	objheap_batch_free(batch);
	ASSERT_EQ(0, obj_new(self->fd, 1, 0, LIST_SLOTS, NULL, 0, leaves, &list));
	ASSERT_EQ(0, publish(self->fd, "list", list));
	live0 = LIST_SLOTS + 1;
	EXPECT_LIVE(live0);
	bytes0 = object_bytes(self->fd);
	ASSERT_NE(~0ULL, bytes0);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork_child(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		referencing_child(sv[1], self->fd);
	}
	close(sv[1]);
	r = attach(self->fd, 0, &rid);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, attach_info(self->fd, rid, &ai));
	EXPECT_EQ(getpid(), ai.out_pid);
	ASSERT_EQ(0, send_fd(sv[0], r, rid));
	close(r);
	ASSERT_EQ(sizeof(cid), read(sv[0], &cid, sizeof(cid)));

	/* R, made here, went first, holding nothing. */
	n = wait_events(self->fd, ev, 8, OBJHEAP_EVENT_DETACHED, 1, 5000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(rid, ev[0].generation);
	EXPECT_EQ(getpid(), ev[0].cookie);
	EXPECT_EQ(0, ev[0].collected);
	EXPECT_EQ(-ESRCH, attach_info(self->fd, rid, &ai));

	/* C, the child's, as it stands. */
	ASSERT_EQ(0, attach_info(self->fd, cid, &ai));
	EXPECT_EQ(pid, ai.out_pid);
	EXPECT_EQ(0, ai.out_flags);
	EXPECT_EQ(2, ai.out_attached);
	EXPECT_EQ(child_refs, ai.out_refs);
	EXPECT_EQ(1 + LIST_SLOTS + CHILD_PLAIN + 2 * CHILD_PAIRS, ai.out_handles);
	EXPECT_EQ(CHILD_PLAIN + 2 * CHILD_PAIRS, ai.out_created);
	EXPECT_EQ(3, refcnt(self->fd, list));
	EXPECT_EQ(2 + per_leaf + CHILD_PAIRS, refcnt(self->fd, leaves[0]));
	EXPECT_EQ(2 + per_leaf, refcnt(self->fd, leaves[1]));
	EXPECT_EQ(2 + per_leaf, refcnt(self->fd, leaves[LIST_SLOTS - 1]));
	EXPECT_LIVE(live0 + CHILD_PLAIN + 2 * CHILD_PAIRS);

	ASSERT_EQ(0, kill(pid, SIGKILL));
	status = reap(self, pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));

	n = wait_events(self->fd, ev, 8, OBJHEAP_EVENT_DETACHED, 1, 10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(cid, ev[0].generation);
	EXPECT_EQ(pid, ev[0].cookie);
	EXPECT_EQ(child_refs, ev[0].collected);
	EXPECT_EQ(0, ev[0].handle);
	EXPECT_EQ(0, ev[0].reason);
	EXPECT_EQ(0, ev[0].lost);
	EXPECT_EQ(-ESRCH, attach_info(self->fd, cid, &ai));
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(1, ai.out_attached);
	EXPECT_EQ(1 + LIST_SLOTS, ai.out_handles);
	EXPECT_EQ(1 + LIST_SLOTS, ai.out_refs);

	/* What the parent holds is intact; the plain objects went. */
	EXPECT_EQ(2, refcnt(self->fd, list));
	EXPECT_EQ(1, user_refs(self->fd, list));
	for (i = 1; i < LIST_SLOTS; i++) {
		EXPECT_EQ(2, refcnt(self->fd, leaves[i])) {
			TH_LOG("leaf %u", i);
		}
	}
	/* Leaf 0 is still held by the cycles, which only a collection finds. */
	EXPECT_EQ(2 + CHILD_PAIRS, refcnt(self->fd, leaves[0]));
	EXPECT_LIVE(live0 + 2 * CHILD_PAIRS);
	EXPECT_EQ(2 * CHILD_PAIRS, collect(self->fd, 2));
	EXPECT_EQ(2, refcnt(self->fd, leaves[0]));
	EXPECT_EQ(1, user_refs(self->fd, leaves[0]));
	EXPECT_LIVE(live0);
	EXPECT_EQ(bytes0, object_bytes(self->fd));
	EXPECT_EQ(0, collect(self->fd, 2));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 8));

	close(sv[0]);
	ASSERT_EQ(0, unpublish(self->fd, "list"));
	ASSERT_EQ(0, obj_release(self->fd, list));
	ASSERT_EQ(0, objheap_release_array(self->heap, leaves, LIST_SLOTS));
	EXPECT_LIVE(0);
}

/* ---- 7. a closed attachment's weak references and finalizers ---- */

TEST_F(share, closed_attachment_weakrefs_and_finalizers_fire_no_events)
{
	struct objheap_event ev[8];
	uint64_t t, tc, w, f, fz, hold, hh, hfz, got;
	uint32_t bid, cid;
	int b, c, n;

	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);
	c = attach(self->fd, 0, &cid);
	ASSERT_LE(0, c);
	t = node(self->fd, 51, 0, 0);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, send_obj(self->fd, t, 1, cid));
	ASSERT_EQ(1, read_events(c, ev, 8));
	tc = ev[0].handle;

	/*
	 * C: a callback weak reference and a finalizer on t, both kept
	 * alive past C by an object it sends to A; and an object asking
	 * for PEP 442 finalization, sent to B.
	 */
	ASSERT_EQ(0, weakref_new(c, tc, 11, OBJHEAP_WEAKREF_CALLBACK, &w));
	ASSERT_EQ(0, weakref_new(c, tc, 12, OBJHEAP_WEAKREF_FINALIZER, &f));
	hold = node(c, 52, 0, 2);
	ASSERT_NE(0, hold);
	ASSERT_EQ(0, set_slot(c, hold, 0, w));
	ASSERT_EQ(0, set_slot(c, hold, 1, f));
	ASSERT_EQ(0, send_obj(c, hold, 2, self->id));
	fz = node(c, 53, OBJHEAP_OBJ_FINALIZE, 0);
	ASSERT_NE(0, fz);
	ASSERT_EQ(0, send_obj(c, fz, 3, bid));
	EXPECT_EQ(2, weakref_count(self->fd, t));
	EXPECT_EQ(1, weakref_cmd(c, OBJHEAP_FINALIZE_ALIVE, f, NULL));
	ASSERT_EQ(1, read_events(self->fd, ev, 8));
	ASSERT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	hh = ev[0].handle;
	ASSERT_EQ(1, read_events(b, ev, 8));
	ASSERT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	hfz = ev[0].handle;
	EXPECT_LIVE(5);

	close(c);
	/* Each of the others gets one DETACHED; C held five references. */
	n = wait_events(self->fd, ev, 8, OBJHEAP_EVENT_DETACHED, 1, 5000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(cid, ev[0].generation);
	EXPECT_EQ(5, ev[0].collected);
	n = wait_events(b, ev, 8, OBJHEAP_EVENT_DETACHED, 1, 5000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[0].type);
	EXPECT_EQ(cid, ev[0].generation);
	EXPECT_LIVE(5);

	/* The finalizer was detached; the weak reference lives, uncleared. */
	ASSERT_EQ(0, get_slot(self->fd, hh, 1, &got));
	EXPECT_EQ(0, weakref_cmd(self->fd, OBJHEAP_FINALIZE_ALIVE, got, NULL));
	ASSERT_EQ(0, obj_release(self->fd, got));
	EXPECT_EQ(1, weakref_count(self->fd, t));

	/* t dies: the weak reference is cleared in silence. */
	ASSERT_EQ(0, obj_release(self->fd, t));
	ASSERT_EQ(0, get_slot(self->fd, hh, 0, &got));
	EXPECT_EQ(0, weakref_cmd(self->fd, OBJHEAP_WEAKREF_GET, got, NULL));
	ASSERT_EQ(0, obj_release(self->fd, got));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 8));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 8));
	EXPECT_LIVE(4);

	/* fz is freed, not handed out, when B lets it go. */
	EXPECT_EQ(1, refcnt(b, hfz));
	ASSERT_EQ(0, obj_release(b, hfz));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 8));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 8));
	EXPECT_LIVE(3);
	ASSERT_EQ(0, obj_release(self->fd, hh));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 8));
	EXPECT_LIVE(0);
}

/* ---- 8. fork() shares attachments ---- */

TEST_F(share, forked_child_shares_the_attachment_and_its_handles)
{
	struct { uint64_t h; uint32_t id, pid; } rep;
	struct objheap_attach_info ai;
	struct objheap_event ev[4];
	struct objheap_info info;
	int fds[2], status;
	char data[8];
	uint64_t p;
	pid_t pid;

	ASSERT_EQ(0, obj_new(self->fd, 61, 0, 0, "parent..", 8, NULL, &p));
	ASSERT_EQ(0, pipe(fds));
	pid = fork_child(self);
	ASSERT_LE(0, pid);
	if (!pid) {
		struct objheap_attach_info cai;
		char buf[8];

		close(fds[0]);
		/* The parent's handle works here, with its reference. */
		CHECK(!obj_rw(self->fd, OBJHEAP_READ, p, 0, buf, 8));
		CHECK(!memcmp(buf, "parent..", 8));
		CHECK(user_refs(self->fd, p) == 1);
		CHECK(!obj_new(self->fd, 62, 0, 0, "child...", 8, NULL, &rep.h));
		CHECK(!attach_info(self->fd, 0, &cai));
		rep.id = cai.out_id;
		rep.pid = cai.out_pid;
		CHECK(cai.out_attached == 1);
		CHECK(write(fds[1], &rep, sizeof(rep)) == sizeof(rep));
		_exit(0);
	}
	close(fds[1]);
	ASSERT_EQ(sizeof(rep), read(fds[0], &rep, sizeof(rep)));
	close(fds[0]);
	status = reap(self, pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The same attachment, still the one this process made. */
	EXPECT_EQ(self->id, rep.id);
	EXPECT_EQ(getpid(), rep.pid);
	/* The child's handle works here; its exit dropped nothing. */
	ASSERT_EQ(0, obj_info(self->fd, rep.h, &info));
	EXPECT_EQ(62, info.out_type);
	EXPECT_EQ(1, info.out_refcnt);
	EXPECT_EQ(1, info.out_user_refs);
	ASSERT_EQ(0, obj_rw(self->fd, OBJHEAP_READ, rep.h, 0, data, 8));
	EXPECT_EQ(0, memcmp(data, "child...", 8));
	EXPECT_EQ(1, refcnt(self->fd, p));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 4));
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(1, ai.out_attached);
	EXPECT_EQ(2, ai.out_handles);
	EXPECT_EQ(2, ai.out_refs);
	EXPECT_EQ(2, ai.out_created);
	ASSERT_EQ(0, obj_release(self->fd, rep.h));
	ASSERT_EQ(0, obj_release(self->fd, p));
	EXPECT_LIVE(0);
}

/* ---- 9. publish, lookup and unpublish racing ---- */

#define RACERS		4
#define RACE_NAMES	3
#define RACE_ITERS	400

static const char *const race_names[RACE_NAMES] = { "r0", "r1", "r2" };

struct race_report {
	uint32_t published, unpublished, looked_up, own;
};

/*
 * One racer, in its own attachment @fd: publishes its one object under,
 * unpublishes and looks up the names at random, checking every result
 * and each object it gets; reports its counts on @out once @go closes.
 */
static void racer(int fd, int idx, int go, int out)
{
	struct race_report rep = { 0 };
	__u64 seed = 0x5ca1ab1e + idx;
	uint64_t o, h, r;
	struct objheap_info info;
	const char *name;
	char c;
	int i, ret;

	CHECK(!obj_new(fd, 100 + idx, 0, 0, NULL, 8, NULL, &o));
	CHECK(read(go, &c, 1) == 0);
	for (i = 0; i < RACE_ITERS; i++) {
		r = splitmix64(&seed);
		name = race_names[(r >> 8) % RACE_NAMES];
		switch (r % 3) {
		case 0:
			ret = publish(fd, name, o);
			CHECK(!ret || ret == -EEXIST);
			rep.published += !ret;
			break;
		case 1:
			ret = unpublish(fd, name);
			CHECK(!ret || ret == -ENOENT);
			rep.unpublished += !ret;
			break;
		default:
			ret = lookup(fd, name, &h);
			CHECK(!ret || ret == -ENOENT);
			if (ret)
				break;
			CHECK(!obj_info(fd, h, &info));
			CHECK(info.out_type >= 100 && info.out_type < 100 + RACERS);
			/* One handle per object: its own object is o. */
			CHECK((h == o) == (info.out_type == 100U + idx));
			CHECK(info.out_user_refs == 1U + (h == o));
			CHECK(info.out_refcnt >= info.out_user_refs);
			CHECK(!obj_release(fd, h));
			rep.looked_up++;
			rep.own += h == o;
			break;
		}
	}
	CHECK(user_refs(fd, o) == 1);
	CHECK(write(out, &rep, sizeof(rep)) == sizeof(rep));
	_exit(0);
}

TEST_F_TIMEOUT(share, racing_publish_lookup_unpublish_keep_names_and_counts_consistent, 300)
{
	struct race_report rep, sum = { 0 };
	uint64_t bytes0, found[RACE_NAMES];
	struct objheap_event ev[2 * RACERS];
	struct objheap_info info;
	uint32_t ids[RACERS], nfound = 0, distinct = 0, k;
	int out[2], go[2], i, j, n, fd, status, seen[RACERS] = { 0 };
	pid_t pids[RACERS];

	bytes0 = object_bytes(self->fd);
	ASSERT_NE(~0ULL, bytes0);
	ASSERT_EQ(0, pipe(out));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < RACERS; i++) {
		fd = attach(self->fd, 0, &ids[i]);
		ASSERT_LE(0, fd);
		pids[i] = fork_child(self);
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			close(out[0]);
			close(go[1]);
			close(self->fd);
			racer(fd, i, go[0], out[1]);
		}
		/* The attachment is the child's alone. */
		close(fd);
	}
	close(out[1]);
	close(go[0]);
	close(go[1]);
	for (i = 0; i < RACERS; i++) {
		ASSERT_EQ(sizeof(rep), read(out[0], &rep, sizeof(rep)));
		sum.published += rep.published;
		sum.unpublished += rep.unpublished;
		sum.looked_up += rep.looked_up;
		sum.own += rep.own;
	}
	close(out[0]);
	for (i = 0; i < RACERS; i++) {
		status = reap(self, pids[i]);
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
			TH_LOG("racer %d: status %#x", i, status);
		}
	}
	TH_LOG("%u publishes, %u unpublishes, %u lookups (%u of the racer's own)",
	       sum.published, sum.unpublished, sum.looked_up, sum.own);
	EXPECT_LT(0, sum.published);
	EXPECT_LT(0, sum.looked_up);

	/* Each racer's attachment went, made here, holding its object. */
	n = wait_events(self->fd, ev, 2 * RACERS, OBJHEAP_EVENT_DETACHED,
			RACERS, 10000);
	ASSERT_EQ(RACERS, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[i].type);
		EXPECT_EQ(getpid(), ev[i].cookie);
		EXPECT_EQ(1, ev[i].collected);
		for (j = 0; j < RACERS; j++)
			seen[j] += ev[i].generation == ids[j];
	}
	for (j = 0; j < RACERS; j++)
		EXPECT_EQ(1, seen[j]);

	/* The names left are the publishes not undone. */
	for (i = 0; i < RACE_NAMES; i++) {
		found[i] = 0;
		n = lookup(self->fd, race_names[i], &found[i]);
		EXPECT_TRUE(!n || n == -ENOENT);
		nfound += !n;
	}
	EXPECT_EQ(sum.published - sum.unpublished, nfound);
	/* Each object: one reference per name and per lookup of it here. */
	for (i = 0; i < RACE_NAMES; i++) {
		if (!found[i])
			continue;
		for (j = 0, k = 0; j < RACE_NAMES; j++)
			k += found[j] == found[i];
		for (j = 0; j < i && found[j] != found[i]; j++)
			;
		distinct += j == i;
		ASSERT_EQ(0, obj_info(self->fd, found[i], &info));
		EXPECT_EQ(k, info.out_user_refs);
		EXPECT_EQ(2 * k, info.out_refcnt);
		EXPECT_LE(100, info.out_type);
		EXPECT_GT(100 + RACERS, info.out_type);
	}
	/* Nothing else lives: the unpublished objects went with their racers. */
	EXPECT_LIVE(distinct);

	for (i = 0; i < RACE_NAMES; i++) {
		if (!found[i])
			continue;
		ASSERT_EQ(0, unpublish(self->fd, race_names[i]));
		ASSERT_EQ(0, obj_release(self->fd, found[i]));
	}
	EXPECT_LIVE(0);
	EXPECT_EQ(bytes0, object_bytes(self->fd));
	EXPECT_EQ(-EAGAIN, read_events(self->fd, ev, 2 * RACERS));
}

/* ---- 10. the new commands' structures ---- */

TEST_F(share, cmd_length)
{
	struct {
		struct objheap_attach cmd;
		uint8_t extra;
	} a;
	struct objheap_attach_info ai;
	struct objheap_event ev[4];
	uint64_t o, dead;
	uint32_t bid;
	int b;

	o = node(self->fd, 1, 0, 0);
	dead = node(self->fd, 1, 0, 0);
	ASSERT_NE(0, o);
	ASSERT_EQ(0, obj_release(self->fd, dead));
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);
	ASSERT_EQ(0, publish(self->fd, "len", o));

	TEST_LENGTH(self->fd, objheap_attach_info, OBJHEAP_ATTACH_INFO, out_created);
	TEST_LENGTH(self->fd, objheap_attach_info, OBJHEAP_ATTACH_INFO, out_created,
		    .id = bid);
	TEST_LENGTH(self->fd, objheap_attach_info, OBJHEAP_ATTACH_INFO, out_created,
		    .id = 0x7fffffff);
	TEST_LENGTH(self->fd, objheap_send, OBJHEAP_SEND, __reserved,
		    .handle = dead, .to = bid);
	TEST_LENGTH(self->fd, objheap_name, OBJHEAP_PUBLISH, out_handle,
		    .name_uptr = (uintptr_t)"len", .name_len = 3, .handle = dead);
	TEST_LENGTH(self->fd, objheap_name, OBJHEAP_LOOKUP, out_handle,
		    .name_uptr = (uintptr_t)"nope", .name_len = 4);
	TEST_LENGTH(self->fd, objheap_name, OBJHEAP_UNPUBLISH, out_handle,
		    .name_uptr = (uintptr_t)"nope", .name_len = 4);
	/* A lookup that succeeds, both times: two references. */
	TEST_LENGTH(self->fd, objheap_name, OBJHEAP_LOOKUP, out_handle,
		    .name_uptr = (uintptr_t)"len", .name_len = 3);
	EXPECT_EQ(3, user_refs(self->fd, o));
	/* A name and three handle references. */
	EXPECT_EQ(4, refcnt(self->fd, o));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));

	/* OBJHEAP_ATTACH by hand: its successes are descriptors to close. */
	memset(&a, 0, sizeof(a));
	a.cmd.size = sizeof(a.cmd) - 1;
	a.extra = UINT8_MAX;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	a.cmd.size = sizeof(a.cmd) + 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(2, ai.out_attached);
	a.extra = 0;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	track(self, a.cmd.out_fd);
	a.cmd = (struct objheap_attach){ .size = sizeof(a.cmd) };
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	track(self, a.cmd.out_fd);
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(4, ai.out_attached);

	ASSERT_EQ(0, unpublish(self->fd, "len"));
	ASSERT_EQ(0, obj_release(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, o));
	ASSERT_EQ(0, obj_release(self->fd, o));
	EXPECT_LIVE(0);
}

TEST_F(share, new_commands_refuse_unknown_flags_and_reserved_fields)
{
	struct objheap_attach a = { .size = sizeof(a) };
	struct objheap_attach_info ai = { .size = sizeof(ai) };
	struct objheap_send sd = { .size = sizeof(sd) };
	struct objheap_name nm = { .size = sizeof(nm) };
	struct {
		struct objheap_batch_entry e;
		struct objheap_send send;
	} bs;
	struct {
		struct objheap_batch_entry e;
		struct objheap_name name;
	} bn;
	struct objheap_batch ba = { .size = sizeof(ba), .count = 1 };
	struct objheap_event ev[4];
	struct objheap_query q;
	uint64_t o, got;
	uint32_t bid;
	int b, nr;

	o = node(self->fd, 1, 0, 0);
	ASSERT_NE(0, o);
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);

	/* ATTACH */
	a.flags = 1U << 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	a.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_ATTACH, &a));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_ATTACH, (void *)8));

	/* ATTACH_INFO */
	ai.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_ATTACH_INFO, &ai));
	ai.flags = 0;
	ai.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_ATTACH_INFO, &ai));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_ATTACH_INFO, (void *)8));
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(2, ai.out_attached);

	/* SEND */
	sd.handle = o;
	sd.to = bid;
	sd.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SEND, &sd));
	sd.flags = 0;
	sd.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SEND, &sd));
	sd.__reserved = 0;
	sd.handle = OBJHEAP_BATCH_REF(0);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_SEND, &sd));
	sd.handle = 0;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, OBJHEAP_SEND, &sd));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_SEND, (void *)8));
	EXPECT_EQ(-EAGAIN, read_events(b, ev, 4));
	EXPECT_EQ(1, refcnt(self->fd, o));

	/* PUBLISH, LOOKUP, UNPUBLISH */
	nm.name_uptr = (uintptr_t)"flags";
	nm.name_len = 5;
	nm.handle = o;
	nm.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_PUBLISH, &nm));
	nm.flags = 0;
	nm.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_PUBLISH, &nm));
	nm.__reserved = 0;
	nm.handle = OBJHEAP_BATCH_REF(0);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_PUBLISH, &nm));
	nm.handle = o;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_PUBLISH, &nm));
	nm.handle = 0;
	nm.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_LOOKUP, &nm));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_UNPUBLISH, &nm));
	nm.flags = 0;
	nm.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_LOOKUP, &nm));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_UNPUBLISH, &nm));
	nm.__reserved = 0;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_LOOKUP, (void *)8));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_UNPUBLISH, (void *)8));
	EXPECT_EQ(2, refcnt(self->fd, o));

	/* None of them may be batched: the batch is refused whole. */
	memset(&bs, 0, sizeof(bs));
	bs.e.cmd = OBJHEAP_CMD_SEND;
	bs.send = (struct objheap_send){ .size = sizeof(bs.send), .handle = o,
					 .to = bid };
	ba.len = sizeof(bs);
	ba.buf_uptr = (uintptr_t)&bs;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_BATCH, &ba));
	memset(&bn, 0, sizeof(bn));
	bn.name = (struct objheap_name){ .size = sizeof(bn.name),
					 .name_uptr = (uintptr_t)"flags",
					 .name_len = 5 };
	ba.len = sizeof(bn);
	ba.buf_uptr = (uintptr_t)&bn;
	for (nr = OBJHEAP_CMD_ATTACH; nr <= OBJHEAP_CMD_UNPUBLISH; nr++) {
		bn.e.cmd = nr;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_BATCH, &ba));
	}
	EXPECT_EQ(2, refcnt(self->fd, o));
	EXPECT_EQ(1, user_refs(self->fd, o));
	ASSERT_EQ(0, attach_info(self->fd, 0, &ai));
	EXPECT_EQ(2, ai.out_attached);

	/* OBJHEAP_QUERY reports them, with their sizes and flags. */
	ASSERT_EQ(0, objheap_query(self->heap, 0, &q));
	EXPECT_EQ(OBJHEAP_API_VERSION, q.out_version);
	for (nr = OBJHEAP_CMD_ATTACH; nr <= OBJHEAP_CMD_UNPUBLISH; nr++)
		EXPECT_TRUE(q.out_cmds & (1ULL << (nr - OBJHEAP_CMD_BASE)));
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_ATTACH, &q));
	EXPECT_EQ(sizeof(struct objheap_attach), q.out_cmd_size);
	EXPECT_EQ(OBJHEAP_ATTACH_READONLY, q.out_cmd_flags);
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_ATTACH_INFO, &q));
	EXPECT_EQ(sizeof(struct objheap_attach_info), q.out_cmd_size);
	EXPECT_EQ(0, q.out_cmd_flags);
	ASSERT_EQ(0, objheap_query(self->heap, OBJHEAP_CMD_SEND, &q));
	EXPECT_EQ(sizeof(struct objheap_send), q.out_cmd_size);
	EXPECT_EQ(0, q.out_cmd_flags);
	for (nr = OBJHEAP_CMD_PUBLISH; nr <= OBJHEAP_CMD_UNPUBLISH; nr++) {
		ASSERT_EQ(0, objheap_query(self->heap, nr, &q));
		EXPECT_EQ(sizeof(struct objheap_name), q.out_cmd_size);
		EXPECT_EQ(0, q.out_cmd_flags);
	}

	ASSERT_EQ(0, lookup(b, "flags", &got));
	ASSERT_EQ(0, obj_release(b, got));
	ASSERT_EQ(0, unpublish(self->fd, "flags"));
	ASSERT_EQ(0, obj_release(self->fd, o));
	EXPECT_LIVE(0);
}

/* ---- 11. the heap lives while any attachment does ---- */

TEST_F(share, heap_lives_while_any_attachment_lives_and_goes_with_the_last)
{
	struct objheap_test_cmd cmd = { .size = sizeof(cmd) };
	static char big[4096];
	struct objheap_attach_info ai;
	struct objheap_event ev[4];
	uint64_t o, t, hb, ht, h;
	char data[8];
	uint32_t bid;
	int b, probe, n;

	memset(big, 0x5a, sizeof(big));
	b = track(self, attach(self->fd, 0, &bid));
	ASSERT_LE(0, b);
	ASSERT_EQ(0, obj_new(self->fd, 71, 0, 1, big, sizeof(big), NULL, &o));
	t = node(self->fd, 72, 0, 0);
	ASSERT_NE(0, t);
	ASSERT_EQ(0, obj_rw(self->fd, OBJHEAP_WRITE, t, 0, "survive!", 8));
	ASSERT_EQ(0, set_slot(self->fd, o, 0, t));
	ASSERT_EQ(0, obj_release(self->fd, t));
	ASSERT_EQ(0, send_obj(self->fd, o, 7, bid));
	ASSERT_EQ(0, publish(self->fd, "named", o));

	/* The first attachment, the one open() made, goes. */
	objheap_close(self->heap);
	self->heap = NULL;
	n = wait_events(b, ev, 4, OBJHEAP_EVENT_DETACHED, 1, 5000);
	ASSERT_EQ(2, n);
	EXPECT_EQ(OBJHEAP_EVENT_RECEIVED, ev[0].type);
	hb = ev[0].handle;
	EXPECT_EQ(OBJHEAP_EVENT_DETACHED, ev[1].type);
	EXPECT_EQ(self->id, ev[1].generation);
	EXPECT_EQ(getpid(), ev[1].cookie);
	EXPECT_EQ(1, ev[1].collected);
	EXPECT_EQ(-ESRCH, attach_info(b, self->id, &ai));
	ASSERT_EQ(0, attach_info(b, 0, &ai));
	EXPECT_EQ(1, ai.out_attached);

	/* B still works, the objects intact. */
	EXPECT_EQ(2, refcnt(b, hb));
	ASSERT_EQ(0, obj_rw(b, OBJHEAP_READ, hb, 4000, data, 8));
	EXPECT_EQ(0, memcmp(data, big, 8));
	ASSERT_EQ(0, get_slot(b, hb, 0, &ht));
	EXPECT_EQ(2, refcnt(b, ht));
	ASSERT_EQ(0, obj_rw(b, OBJHEAP_READ, ht, 0, data, 8));
	EXPECT_EQ(0, memcmp(data, "survive!", 8));
	ASSERT_EQ(0, lookup(b, "named", &h));
	EXPECT_EQ(hb, h);
	ASSERT_EQ(0, obj_release(b, h));
	ASSERT_EQ(0, obj_new(b, 73, 0, 1, NULL, 8, &ht, &h));
	EXPECT_EQ(0, collect(b, 2));
	EXPECT_EQ(3, objheap_test_objects(b).objects.out_live);
	cmd.op = OBJHEAP_TEST_OP_ALLOC_CHECK;
	EXPECT_EQ(0, ioctl(b, OBJHEAP_TEST, &cmd));

	/* Its memory is still held... */
	probe = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, probe);
	cmd.op = OBJHEAP_TEST_OP_ALLOC_HELD;
	ASSERT_EQ(0, ioctl(probe, OBJHEAP_TEST, &cmd));
	EXPECT_LT(0, cmd.held.out_pages);
	EXPECT_LT(0, cmd.held.out_large);
	close(probe);

	/* ...until the last attachment goes, with everything in it. */
	untrack_close(self, b);
	probe = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, probe);
	ASSERT_EQ(0, ioctl(probe, OBJHEAP_TEST, &cmd));
	EXPECT_EQ(0, cmd.held.out_pages);
	EXPECT_EQ(0, cmd.held.out_large);
	close(probe);
}

/*
 * Attachments come and go in three children while the parent allocates:
 * an attachment's memory (its table, its queue, itself) leaves the
 * heap's counts while other attachments' commands change them, and the
 * heap's checker must find the counts exact afterwards.  (The counts were
 * once given back without the heap's lock.)
 */
TEST_F(share, attachments_come_and_go_while_others_allocate)
{
	const int rounds = 150, children = 3;
	struct objheap_stats st;
	uint64_t h;
	pid_t pid[3];
	int i, k;

	for (k = 0; k < children; k++) {
		pid[k] = fork_child(self);
		ASSERT_LE(0, pid[k]);
		if (pid[k])
			continue;
		for (i = 0; i < rounds; i++) {
			int b = attach(self->fd, 0, NULL);
			uint64_t o;

			if (b < 0)
				_exit(1);
			if (obj_new(b, 5, 0, 0, NULL, 24, NULL, &o) ||
			    send_obj(b, o, i, 1))
				_exit(2);
			close(b);
		}
		_exit(0);
	}
	for (i = 0; i < rounds * 20; i++) {
		ASSERT_EQ(0, obj_new(self->fd, 6, 0, 0, NULL, 100 + i % 400,
				     NULL, &h));
		ASSERT_EQ(0, obj_release(self->fd, h));
	}
	for (k = 0; k < children; k++)
		ASSERT_EQ(0, reap(self, pid[k]));
	/* What the children sent is in A's queue, each with a reference. */
	ASSERT_EQ(0, heap_stats(self->fd, &st));
	EXPECT_LIVE(children * rounds);
	for (;;) {
		struct objheap_event ev[16];
		int n = read_events(self->fd, ev, 16), j;

		if (n <= 0)
			break;
		for (j = 0; j < n; j++)
			if (ev[j].type == OBJHEAP_EVENT_RECEIVED)
				ASSERT_EQ(0, obj_release(self->fd, ev[j].handle));
	}
	EXPECT_LIVE(0);
}

/*
 * An object's death frees its entry in its home attachment, which it
 * names by a number: the first few numbers are looked up in an array of
 * the heap's, the rest in an xarray.  Twelve attachments, each making an
 * object that dies at once, cover both; a number given up and taken
 * again names the new attachment.
 */
TEST_F(share, every_home_number_finds_its_attachment_at_a_death)
{
	struct objheap_attach_info ai;
	uint32_t ids[12], id;
	int fds[12], i, b;
	uint64_t o;

	for (i = 0; i < 12; i++) {
		fds[i] = track(self, attach(self->fd, 0, &ids[i]));
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, obj_new(fds[i], 1, 0, 0, NULL, 8, NULL, &o));
		ASSERT_EQ(0, attach_info(self->fd, ids[i], &ai));
		EXPECT_EQ(1, ai.out_handles);
		ASSERT_EQ(0, obj_release(fds[i], o));
		ASSERT_EQ(0, attach_info(self->fd, ids[i], &ai));
		EXPECT_EQ(0, ai.out_handles) {
			TH_LOG("attachment %d kept the dead object's entry", i);
		}
		EXPECT_EQ(-ENOENT, obj_release(fds[i], o));
	}
	/* The numbers of the third and the tenth are taken again. */
	untrack_close(self, fds[2]);
	untrack_close(self, fds[9]);
	for (i = 0; i < 2; i++) {
		b = track(self, attach(self->fd, 0, &id));
		ASSERT_LE(0, b);
		ASSERT_EQ(0, obj_new(b, 1, 0, 0, NULL, 8, NULL, &o));
		ASSERT_EQ(0, obj_release(b, o));
		ASSERT_EQ(0, attach_info(self->fd, id, &ai));
		EXPECT_EQ(0, ai.out_handles);
		EXPECT_EQ(-ENOENT, obj_release(b, o));
	}
	EXPECT_LIVE(0);
}

/*
 * The example program, where the VM installs it next to the selftests'
 * directory: a producer and eight workers, some killed, and its own
 * consistency check, which decides its exit status.
 */
TEST(example_program_ends_consistent)
{
	char exe[512], path[sizeof(exe) + 32], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int status;
	pid_t pid;

	ASSERT_LT(0, n);
	exe[n] = 0;
	slash = strrchr(exe, '/');
	ASSERT_NE(NULL, slash);
	*slash = 0;
	snprintf(path, sizeof(path), "%s/../objheap-share", exe);
	if (access(path, X_OK))
		SKIP(return, "no %s", path);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execl(path, path, "-w", "8", "-s", "4242", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
