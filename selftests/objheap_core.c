// SPDX-License-Identifier: GPL-2.0
/*
 * The device and the conventions every command follows: QUERY, the size
 * handshake, unknown commands and flags, bad pointers, module lifetime.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "objheap_utils.h"

FIXTURE(objheap) {
	int fd;
};

FIXTURE_SETUP(objheap)
{
	SETUP_OPEN_HEAP_OR_SKIP(self->fd);
}

FIXTURE_TEARDOWN(objheap)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(objheap, query_reports_version_and_commands)
{
	struct objheap_query q = { .size = sizeof(q) };

	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_QUERY, &q));
	EXPECT_EQ(OBJHEAP_API_VERSION, q.out_version);
	EXPECT_TRUE(q.out_cmds & (1ULL << (OBJHEAP_CMD_QUERY - OBJHEAP_CMD_BASE)));
	EXPECT_EQ(0, q.out_cmd_size);
	EXPECT_EQ(0, q.out_cmd_flags);
}

/*
 * What a bug report needs first: objheapctl query names the running kernel
 * and the module's version, which is the package's (dkms.conf).
 */
TEST_F(objheap, objheapctl_query_names_kernel_and_module)
{
	char line[256], want[256];
	struct utsname uts;
	FILE *p;

	p = popen("objheapctl query 2>&1", "r");
	ASSERT_NE(NULL, p);
	if (!fgets(line, sizeof(line), p) || strncmp(line, "kernel:", 7)) {
		pclose(p);
		SKIP(return, "objheapctl is not on PATH");
	}
	ASSERT_EQ(0, uname(&uts));
	snprintf(want, sizeof(want), "kernel:       %s\n", uts.release);
	EXPECT_STREQ(want, line);
	ASSERT_NE(NULL, fgets(line, sizeof(line), p));
	snprintf(want, sizeof(want), "module:       objheap %s\n",
		 OBJHEAP_VERSION);
	EXPECT_STREQ(want, line);
	EXPECT_EQ(0, pclose(p));
}

TEST_F(objheap, query_describes_a_command)
{
	struct objheap_query q = { .size = sizeof(q),
				   .query_cmd = OBJHEAP_CMD_QUERY };

	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_QUERY, &q));
	EXPECT_EQ(sizeof(struct objheap_query), q.out_cmd_size);
	EXPECT_EQ(0, q.out_cmd_flags);
}

TEST_F(objheap, query_unsupported_command_is_eopnotsupp)
{
	struct objheap_query q = { .size = sizeof(q) };

	q.query_cmd = OBJHEAP_CMD_BASE + 62;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, OBJHEAP_QUERY, &q));
	q.query_cmd = OBJHEAP_CMD_BASE - 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, OBJHEAP_QUERY, &q));
	q.query_cmd = 0x1000 + OBJHEAP_CMD_QUERY;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, OBJHEAP_QUERY, &q));
}

TEST_F(objheap, cmd_length)
{
	TEST_LENGTH(self->fd, objheap_query, OBJHEAP_QUERY, out_cmd_flags);
	/*
	 * The payload commands with no object: ENOENT at both exact sizes.
	 * objheap_payload.c sweeps them again on live objects.
	 */
	TEST_LENGTH(self->fd, objheap_resize, OBJHEAP_RESIZE, data_len,
		    .flags = OBJHEAP_RESIZE_DATA);
	TEST_LENGTH(self->fd, objheap_seal, OBJHEAP_SEAL, out_handle);
	TEST_LENGTH(self->fd, objheap_map_offset, OBJHEAP_MAP_OFFSET,
		    __reserved);
	if (objheap_has_test_interface(self->fd))
		TEST_LENGTH(self->fd, objheap_test_cmd, OBJHEAP_TEST, __reserved,
			    .op = OBJHEAP_TEST_OP_NOP);
}

TEST_F(objheap, unknown_ioctl_is_enotty)
{
	struct objheap_query q = { .size = sizeof(q) };

	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(OBJHEAP_TYPE, OBJHEAP_CMD_BASE - 1), &q));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(OBJHEAP_TYPE, OBJHEAP_CMD_BASE + 62), &q));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(OBJHEAP_TYPE + 1, OBJHEAP_CMD_QUERY), &q));
	/* The number must match exactly: no direction or size bits. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IOWR(OBJHEAP_TYPE, OBJHEAP_CMD_QUERY,
						   struct objheap_query), &q));
}

TEST_F(objheap, unknown_flags_are_einval)
{
	struct objheap_query q = { .size = sizeof(q) };
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		q.flags = 1U << bit;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_QUERY, &q));
	}
}

TEST_F(objheap, short_size_is_einval)
{
	struct objheap_query q = { .size = 0 };

	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_QUERY, &q));
	q.size = 8;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, OBJHEAP_QUERY, &q));
}

TEST_F(objheap, bad_pointers_are_efault)
{
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_QUERY, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_QUERY, (void *)8));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_QUERY, (void *)-4096L));
}

/*
 * Pointer fields are 64 bits for every program, and the kernel uses all
 * of them: a bit above the program's address space makes an address
 * nobody mapped, EFAULT, never one the kernel silently truncates.  For a
 * 32-bit program (compat_ptr_ioctl) that is bit 32; for a 64-bit one,
 * bit 63, a non-canonical address.
 */
TEST_F(objheap, pointer_bits_above_the_address_space_are_efault)
{
	uint64_t high = sizeof(void *) == 4 ? 1ULL << 32 : 1ULL << 63;
	char buf[8] = "objheap";
	struct objheap_new new = {
		.size = sizeof(new),
		.data_len = sizeof(buf),
		.data_uptr = (uintptr_t)buf | high,
	};
	struct objheap_rw rw = { .size = sizeof(rw), .len = sizeof(buf) };
	struct objheap_handle_cmd release = { .size = sizeof(release) };

	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_NEW, &new));
	new.data_uptr = (uintptr_t)buf;
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_NEW, &new));
	rw.handle = new.out_handle;
	rw.buf_uptr = (uintptr_t)buf | high;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, OBJHEAP_READ, &rw));
	rw.buf_uptr = (uintptr_t)buf;
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(0, ioctl(self->fd, OBJHEAP_READ, &rw));
	EXPECT_STREQ("objheap", buf);
	release.handle = new.out_handle;
	EXPECT_EQ(0, ioctl(self->fd, OBJHEAP_RELEASE, &release));
}

TEST_F(objheap, huge_size_with_zero_tail_is_accepted)
{
	static struct {
		struct objheap_query q;
		char tail[65536];
	} big;

	big.q.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, OBJHEAP_QUERY, &big));
	EXPECT_EQ(OBJHEAP_API_VERSION, big.q.out_version);
	big.tail[sizeof(big.tail) - 1] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, OBJHEAP_QUERY, &big));
}

TEST(module_is_pinned_while_a_heap_is_open)
{
	int fd;

	OPEN_HEAP_OR_SKIP(fd);
	EXPECT_NE(0, syscall(__NR_delete_module, "objheap", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	close(fd);
}

TEST(heaps_are_separate_opens)
{
	struct objheap_query q = { .size = sizeof(q) };
	int a, b;

	OPEN_HEAP_OR_SKIP(a);
	b = open(OBJHEAP_DEV, O_RDWR);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, ioctl(a, OBJHEAP_QUERY, &q));
	close(a);
	/* Closing one heap leaves the other usable. */
	EXPECT_EQ(0, ioctl(b, OBJHEAP_QUERY, &q));
	close(b);
}

TEST_HARNESS_MAIN
