/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by objheap's selftests, on top of kselftest_harness.h.
 */
#ifndef __OBJHEAP_UTILS_H
#define __OBJHEAP_UTILS_H

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/objheap.h>
#include "objheap_test.h"

#ifndef offsetofend
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))
#endif

#define OBJHEAP_DEV "/dev/objheap"

/* Write @text to the file at @path (sysfs, procfs, cgroupfs): 0 or -errno. */
static inline int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * SKIP() from a FIXTURE_SETUP.  The 6.1 harness still runs the test body
 * after its setup skipped (later kernels check _metadata->skip there), so
 * leave the setup through the harness's own jump buffer, as a failed
 * ASSERT does: neither body nor teardown runs, and the test is a SKIP.
 */
#define SETUP_SKIP(fmt, ...) SKIP(longjmp(_metadata->env, 1), fmt, ##__VA_ARGS__)

/* SKIP() from a test body. */
#define TEST_SKIP(fmt, ...) SKIP(return, fmt, ##__VA_ARGS__)

/*
 * The collector's mode the test programs run their heaps in: with
 * OBJHEAP_GC_MODE=incremental in the environment (run_tests.sh runs the
 * collector's programs a second time so), every heap the fixtures open
 * collects its oldest generation incrementally, with OBJHEAP_GC_BUDGET of
 * work per increment (default 64, so that a collection spans many
 * increments and the commands between them).  0, or -errno.
 */
static inline int objheap_test_gc_mode(int fd)
{
	const char *mode = getenv("OBJHEAP_GC_MODE");
	const char *budget = getenv("OBJHEAP_GC_BUDGET");
	struct objheap_gc_mode cmd = {
		.size = sizeof(cmd),
		.mode = OBJHEAP_GC_INCREMENTAL,
		.budget = budget ? strtoul(budget, NULL, 0) : 64,
	};

	if (!mode || strcmp(mode, "incremental"))
		return 0;
	return ioctl(fd, OBJHEAP_GC_SET_MODE, &cmd) ? -errno : 0;
}

static inline int objheap_test_gc_incremental(void)
{
	const char *mode = getenv("OBJHEAP_GC_MODE");

	return mode && !strcmp(mode, "incremental");
}

#define __OPEN_HEAP_OR_SKIP(fd, skip)					\
	do {								\
		(fd) = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);		\
		if ((fd) < 0 && errno == ENOENT)			\
			skip(OBJHEAP_DEV " is missing: module not loaded"); \
		ASSERT_LE(0, (fd));					\
		ASSERT_EQ(0, objheap_test_gc_mode(fd));			\
	} while (0)

/* Open a heap, or SKIP the test when the module is not loaded. */
#define OPEN_HEAP_OR_SKIP(fd) __OPEN_HEAP_OR_SKIP(fd, TEST_SKIP)
#define SETUP_OPEN_HEAP_OR_SKIP(fd) __OPEN_HEAP_OR_SKIP(fd, SETUP_SKIP)

#define EXPECT_ERRNO(expected, cmd)					\
	({								\
		ASSERT_EQ(-1, cmd);					\
		EXPECT_EQ(expected, errno);				\
	})

/* Whether the module was built with its test-only interface. */
static inline int objheap_has_test_interface(int fd)
{
	struct objheap_query q = { .size = sizeof(q) };

	if (ioctl(fd, OBJHEAP_QUERY, &q))
		return 0;
	return !!(q.out_features & OBJHEAP_FEATURE_TEST);
}

/*
 * The cmd_length sweep of iommufd's selftests, for one command: one byte
 * short of the first version is EINVAL, a non-zero byte past the kernel's
 * structure is E2BIG, and a zero byte past it behaves as the exact size.
 * The structure is otherwise what @init leaves, so the exact-size call
 * may succeed or fail; the longer call must do the same.
 */
#define TEST_LENGTH(fd, _struct, _ioctl, _last, init...)		\
	{								\
		size_t __min_size = offsetofend(struct _struct, _last);	\
		struct {						\
			struct _struct cmd;				\
			uint8_t extra;					\
		} __buf;							\
		int __rc, __old_errno;					\
									\
		memset(&__buf, 0, sizeof(__buf));				\
		__buf.cmd = (struct _struct){ init };			\
		__buf.cmd.size = __min_size - 1;				\
		__buf.extra = UINT8_MAX;					\
		EXPECT_ERRNO(EINVAL, ioctl(fd, _ioctl, &__buf));		\
		__buf.cmd.size = sizeof(struct _struct) + 1;		\
		EXPECT_ERRNO(E2BIG, ioctl(fd, _ioctl, &__buf));		\
		__buf.cmd = (struct _struct){ init };			\
		__buf.cmd.size = sizeof(struct _struct);			\
		__rc = ioctl(fd, _ioctl, &__buf);				\
		__old_errno = errno;					\
		__buf.cmd = (struct _struct){ init };			\
		__buf.cmd.size = sizeof(struct _struct) + 1;		\
		__buf.extra = 0;						\
		if (__rc) {						\
			EXPECT_ERRNO(__old_errno, ioctl(fd, _ioctl, &__buf)); \
		} else {						\
			EXPECT_EQ(0, ioctl(fd, _ioctl, &__buf));		\
		}							\
	}

/* The heap's objects, through the test interface; out_live is ~0 on error. */
static inline struct objheap_test_cmd objheap_test_objects(int fd)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_OBJECTS,
	};

	if (ioctl(fd, OBJHEAP_TEST, &cmd))
		cmd.objects.out_live = -1;
	return cmd;
}

/* The heap's checkers (allocator, collector, tables): 0 or -errno. */
static inline int objheap_test_check(int fd)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_ALLOC_CHECK,
	};

	return ioctl(fd, OBJHEAP_TEST, &cmd) ? -errno : 0;
}

#define EXPECT_LIVE(n)							\
	EXPECT_EQ((uint32_t)(n), objheap_test_objects(self->fd).objects.out_live)

/*
 * The kernel's fault injection (debug kernel): write n to fail-nth right
 * before a system call to fail its n-th allocation; it reads 0 once the
 * failure has fired.
 */
static inline int fail_nth_open(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
}

static inline int fail_nth_write(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

static inline int fail_nth_fired(int fd)
{
	char buf[16] = "";

	return pread(fd, buf, sizeof(buf) - 1, 0) > 0 && buf[0] == '0';
}

/*
 * The module's own fail-nth (every kernel, through the test interface):
 * fail the heap's @nth raw allocation from now on, 0 to disarm; *@prev
 * gets how many were still to go.
 */
static inline int raw_fail_nth(int fd, uint32_t nth, uint32_t *prev)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = OBJHEAP_TEST_OP_ALLOC_FAIL_NTH,
		.fail_nth = { .nth = nth },
	};

	if (ioctl(fd, OBJHEAP_TEST, &cmd))
		return -errno;
	if (prev)
		*prev = cmd.fail_nth.out_prev;
	return 0;
}

/* splitmix64: the generated tests' random numbers, from one u64 state. */
static inline __u64 splitmix64(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The start of every object test, in its FIXTURE_SETUP: a heap through
 * libobjheap, skipping when the module is missing or was built without
 * its test interface.
 */
#define OPEN_TEST_HEAP_OR_SKIP(heap, fd)				\
	do {								\
		int __ret = objheap_open(&(heap));			\
									\
		if (__ret == -ENOENT)					\
			SETUP_SKIP(OBJHEAP_DEV " is missing: module not loaded"); \
		ASSERT_EQ(0, __ret);					\
		(fd) = objheap_fd(heap);				\
		ASSERT_EQ(0, objheap_test_gc_mode(fd));			\
		if (!objheap_has_test_interface(fd))			\
			SETUP_SKIP("the module has no test interface"); \
	} while (0)

/*
 * The end of every object test: the allocator's checker passes on the
 * heap, and once it is closed the module holds no page and no large
 * allocation any more (tests run one at a time, so no other heap is open).
 */
#define CHECK_AND_CLOSE_HEAP(heap)					\
	do {								\
		struct objheap_test_cmd __cmd = {			\
			.size = sizeof(__cmd),				\
			.op = OBJHEAP_TEST_OP_ALLOC_CHECK,		\
		};							\
		int __fd = objheap_fd(heap), __probe;			\
									\
		EXPECT_EQ(0, ioctl(__fd, OBJHEAP_TEST, &__cmd));	\
		objheap_close(heap);					\
		__probe = open(OBJHEAP_DEV, O_RDWR);			\
		ASSERT_LE(0, __probe);					\
		__cmd.op = OBJHEAP_TEST_OP_ALLOC_HELD;			\
		ASSERT_EQ(0, ioctl(__probe, OBJHEAP_TEST, &__cmd));	\
		EXPECT_EQ(0, __cmd.held.out_pages);			\
		EXPECT_EQ(0, __cmd.held.out_large);			\
		close(__probe);						\
	} while (0)

#endif /* __OBJHEAP_UTILS_H */
