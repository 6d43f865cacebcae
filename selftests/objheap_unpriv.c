// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged user can do to the machine through /dev/objheap,
 * and the bounds that stop it (Documentation/allocator.rst, "Memory
 * bounds").
 *
 * The program starts as root, which sets the module parameters a test
 * needs and plays the other user; each attack runs in a child that drops
 * to uid/gid 1000 with no supplementary groups and no capabilities, and
 * reports back through its exit status (0, or the line that failed) and,
 * where it must, a pipe.  Memory is measured twice: by the heaps'
 * statistics and, independently of them, by what a memory cgroup is
 * charged or, for many heaps at once, by the fall of MemFree.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "libobjheap.h"
#include "objheap_utils.h"

#define ATTACKER_UID	1000
#define PARAM_DIR	"/sys/module/objheap/parameters/"
#define MIB		(1024ULL * 1024)

/* ---- helpers, usable from any process; -errno or 0 ---- */

/* Leave root for good: uid and gid 1000, no groups, no capabilities. */
static int drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(ATTACKER_UID, ATTACKER_UID, ATTACKER_UID) ||
	    setresuid(ATTACKER_UID, ATTACKER_UID, ATTACKER_UID))
		return -errno;
	/* A uid change from 0 clears every capability set. */
	return geteuid() == ATTACKER_UID && !setresuid(0, 0, 0) ? -EPERM : 0;
}

static int param_read(const char *name, unsigned long long *val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", val) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

static int param_write(const char *name, unsigned long long val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%llu\n", val) < 0;
	ret |= fclose(f);
	return ret ? -EIO : 0;
}

#define CG_ROOT		"/sys/fs/cgroup"

/*
 * A memory cgroup at @dir whose memory.max is @max bytes (0: unbounded),
 * or -errno (no memory controller: -ENOENT).
 */
static int memcg_create(const char *dir, unsigned long long max)
{
	char path[128], text[32] = "max";
	struct stat sb;

	if (stat(CG_ROOT "/cgroup.controllers", &sb) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
		return -errno;
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+memory"))
		return -ENOENT;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	if (max)
		snprintf(text, sizeof(text), "%llu", max);
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	return write_file(path, text);
}

/* What the memory cgroup at @dir is charged, in bytes; 0 if unknown. */
static unsigned long long memcg_current(const char *dir)
{
	unsigned long long bytes = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &bytes) != 1)
		bytes = 0;
	fclose(f);
	return bytes;
}

/* MemFree from /proc/meminfo, in bytes. */
static unsigned long long mem_free(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * How far MemFree fell from @before to @after; 0 if it rose, which other
 * memory being freed meanwhile can make it do (the bound is an upper one).
 */
static unsigned long long mem_fell(unsigned long long before,
				   unsigned long long after)
{
	return before > after ? before - after : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int heap_stats(struct objheap *heap, struct objheap_stats *st)
{
	return objheap_stats(heap, st, NULL, 0);
}

static int raw_set_limit(struct objheap *heap, uint64_t limit)
{
	struct objheap_set_limit cmd = { .size = sizeof(cmd), .limit = limit };

	return ioctl(objheap_fd(heap), OBJHEAP_SET_LIMIT, &cmd) ? -errno : 0;
}

/* Fill @heap with objects of @data_len bytes until an error: the errno. */
static int fill(struct objheap *heap, uint32_t data_len, uint64_t *handles,
		size_t max, size_t *count)
{
	int ret = 0;

	for (*count = 0; *count < max; (*count)++) {
		ret = objheap_new(heap, 1, 0, 0, NULL, data_len, NULL,
				  &handles[*count]);
		if (ret)
			break;
	}
	return ret;
}

/*
 * Run @fn(@arg) in a child as the attacker, in the memory cgroup at @memcg
 * unless it is NULL; its exit status: 0 when all held, else the source
 * line that failed, or 1000 + signal.
 */
static int run_as_attacker_in(const char *memcg, int (*fn)(void *), void *arg,
			      pid_t *pidp)
{
	char path[128], pid_text[32];
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (!pid) {
		if (memcg) {
			snprintf(path, sizeof(path), "%s/cgroup.procs", memcg);
			snprintf(pid_text, sizeof(pid_text), "%d", getpid());
			if (write_file(path, pid_text))
				_exit(1);
		}
		if (drop_privileges())
			_exit(1);
		_exit(fn(arg));
	}
	if (pidp) {
		*pidp = pid;
		return 0;
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static int run_as_attacker(int (*fn)(void *), void *arg, pid_t *pidp)
{
	return run_as_attacker_in(NULL, fn, arg, pidp);
}

/* In a child: fail with the current line when @cond is false. */
#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: %s failed (errno %d)\n",	\
			       __FILE__, __LINE__, #cond, errno);	\
			fflush(stdout);					\
			return __LINE__ % 250 + 2;			\
		}							\
	} while (0)

FIXTURE(unpriv) {
	unsigned long long heap_limit, user_limit;
};

FIXTURE_SETUP(unpriv)
{
	int fd;

	if (geteuid())
		SETUP_SKIP("must start as root to play both users");
	fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SETUP_SKIP(OBJHEAP_DEV " is missing: module not loaded");
	close(fd);
	ASSERT_EQ(0, param_read("heap_limit", &self->heap_limit));
	/* A module without a per-user bound has no such parameter. */
	if (param_read("user_limit", &self->user_limit))
		self->user_limit = 0;
}

FIXTURE_TEARDOWN(unpriv)
{
	if (self->user_limit)
		EXPECT_EQ(0, param_write("user_limit", self->user_limit));
}

/* ---- one object does not pin an arena ---- */

#define SMALL_HEAPS	200

static int one_object_per_heap(void *arg)
{
	unsigned long long before, after;
	struct objheap *heaps[SMALL_HEAPS];
	struct objheap_stats st;
	uint64_t h;
	int i;

	(void)arg;
	before = mem_free();
	for (i = 0; i < SMALL_HEAPS; i++) {
		CHECK(!objheap_open(&heaps[i]));
		CHECK(!objheap_new(heaps[i], 1, 0, 0, NULL, 16, NULL, &h));
	}
	after = mem_free();
	CHECK(!heap_stats(heaps[0], &st));
	printf("# one 16-byte object: %llu bytes in use, %llu held; %llu KiB of MemFree per heap\n",
	       (unsigned long long)st.out_bytes_in_use,
	       (unsigned long long)st.out_bytes_held,
	       mem_fell(before, after) / SMALL_HEAPS / 1024);
	CHECK(st.out_bytes_held >= st.out_bytes_in_use);
	CHECK(st.out_bytes_held <= 20480);
	CHECK(st.out_bytes_pools_held == 4096);
	/*
	 * Everything the heap costs the machine, its file and debugfs
	 * entries too: 3 to 13 KiB per heap measured on Debian's 6.1, 28 to
	 * 64 KiB on the debug kernel (KASAN shadow, kmemleak, red zones: 64
	 * when its table of handles took two pages), 250 KiB when a heap
	 * took a whole arena.
	 */
	CHECK(mem_fell(before, after) <= SMALL_HEAPS * 65536ULL);
	for (i = 0; i < SMALL_HEAPS; i++)
		objheap_close(heaps[i]);
	return 0;
}

TEST_F(unpriv, one_object_holds_a_few_pages_not_an_arena)
{
	EXPECT_EQ(0, run_as_attacker(one_object_per_heap, NULL, NULL));
}

/* ---- the heap's limit bounds what it holds, fragmented or not ---- */

#define FRAG_LIMIT	(16 * MIB)
#define FRAG_MAX	(FRAG_LIMIT / 64)
#define CG_MEASURE	CG_ROOT "/objheap-measure"

/*
 * @arg is the memory cgroup the child runs in, or NULL.  The cgroup's
 * charge is what the heap really costs; MemFree also moves with whatever
 * else the machine does (per-cpu page lists, which kernels since 6.7
 * size by themselves, hold megabytes), so it is only the fallback.
 */
static int fragmented_heap(void *arg)
{
	unsigned long long before, after, cg_before = 0, cg_after = 0;
	struct objheap_class_stats classes[32];
	const char *memcg = arg;
	uint32_t per_pool = 0, i;
	struct objheap_stats st;
	struct objheap *heap;
	uint64_t *handles;
	size_t n, m;

	handles = calloc(2 * FRAG_MAX, sizeof(*handles));
	CHECK(handles);
	/*
	 * Fault the array in before the first measure: with transparent
	 * huge pages (Debian's default is "always"), the first store into
	 * it may bring a 2 MiB page, charged to this child, not the heap.
	 */
	for (i = 0; i < 2 * FRAG_MAX; i += 4096 / sizeof(*handles))
		((volatile uint64_t *)handles)[i] = 0;
	if (memcg)
		cg_before = memcg_current(memcg);
	before = mem_free();
	CHECK(!objheap_open(&heap));
	CHECK(!raw_set_limit(heap, FRAG_LIMIT));
	/* Objects of nearly 512 bytes, a few per pool, until the limit. */
	CHECK(fill(heap, 440, handles, FRAG_MAX, &n) == -ENOMEM);
	CHECK(!objheap_stats(heap, &st, classes, 32));
	for (i = 0; i < 32; i++)
		if (classes[i].blocks_in_use)
			per_pool = (st.out_pool_size - 48) / classes[i].block_size;
	CHECK(per_pool > 1);
	/* Keep one object per pool: every page stays pinned. */
	for (i = 0; i < n; i++)
		if (i % per_pool)
			CHECK(!objheap_release(heap, handles[i]));
	/* Then fill with objects of another class. */
	CHECK(fill(heap, 200, handles + n, FRAG_MAX, &m) == -ENOMEM);
	CHECK(!heap_stats(heap, &st));
	after = mem_free();
	if (memcg)
		cg_after = memcg_current(memcg);
	printf("# limit %llu MiB: %zu + %zu objects, %llu KiB in use, %llu KiB held; memory cgroup charged %llu KiB more, MemFree fell %llu KiB\n",
	       FRAG_LIMIT / MIB, n, m,
	       (unsigned long long)st.out_bytes_in_use / 1024,
	       (unsigned long long)st.out_bytes_held / 1024,
	       mem_fell(cg_after, cg_before) / 1024,
	       mem_fell(before, after) / 1024);
	CHECK(st.out_bytes_held <= FRAG_LIMIT);
	CHECK(st.out_bytes_held >= FRAG_LIMIT - 64 * 1024);
	if (memcg) {
		/*
		 * Pools, handle table and the child's own pages: the heap's
		 * pages are charged to this user, and nothing much beside.
		 * The charge is counted ahead in batches (64 pages per CPU
		 * on 6.1), so it may lag what the heap holds by as much.
		 */
		CHECK(cg_before && cg_after);
		CHECK(cg_after - cg_before + MIB >= st.out_bytes_held);
		CHECK(cg_after - cg_before <= FRAG_LIMIT + 2 * MIB);
	} else {
		CHECK(mem_fell(before, after) <= FRAG_LIMIT + 4 * MIB);
	}
	objheap_close(heap);
	free(handles);
	return 0;
}

TEST_F_TIMEOUT(unpriv, heap_limit_bounds_held_memory_when_fragmented, 120)
{
	char *memcg = CG_MEASURE;
	int ret = memcg_create(memcg, 0);

	if (ret && ret != -ENOENT && ret != -ENODEV)
		ASSERT_EQ(0, ret);
	if (ret) {
		TH_LOG("no memory cgroup: measured by MemFree alone");
		memcg = NULL;
	}
	EXPECT_EQ(0, run_as_attacker_in(memcg, fragmented_heap, memcg, NULL));
	if (!ret)
		rmdir(CG_MEASURE);
}

/* ---- the per-user bound, across heaps ---- */

#define USER_BOUND	(48 * MIB)
#define USER_HEAPS	8
#define PER_HEAP	(16 * MIB)
#define BIG_OBJ		(64 * 1024)

struct user_fill {
	int ready_fd;	/* -1, or: write a byte at the bound, then wait */
	uint64_t held;
};

static int fill_user_bound(void *arg)
{
	struct user_fill *uf = arg;
	unsigned long long before, after, held = 0;
	struct objheap *heaps[USER_HEAPS];
	uint64_t handles[2 * PER_HEAP / BIG_OBJ];
	struct objheap_stats st;
	int i, opened = 0, ret;
	size_t n, total = 0;

	before = mem_free();
	for (i = 0; i < USER_HEAPS; i++) {
		ret = objheap_open(&heaps[i]);
		/* Opening a heap holds memory too: past the bound, ENOMEM. */
		if (ret == -ENOMEM)
			break;
		CHECK(!ret);
		opened++;
		CHECK(!raw_set_limit(heaps[i], PER_HEAP));
		CHECK(fill(heaps[i], BIG_OBJ, handles, 2 * PER_HEAP / BIG_OBJ, &n) == -ENOMEM);
		total += n;
		CHECK(!heap_stats(heaps[i], &st));
		held += st.out_bytes_held;
	}
	after = mem_free();
	CHECK(!heap_stats(heaps[0], &st));
	printf("# %d heaps of %llu MiB, %zu objects of %d KiB: %llu MiB held (user: %llu MiB of %llu MiB); MemFree fell %llu MiB\n",
	       opened, PER_HEAP / MIB, total, BIG_OBJ / 1024, held / MIB,
	       (unsigned long long)st.out_user_bytes_held / MIB,
	       (unsigned long long)st.out_user_limit / MIB,
	       mem_fell(before, after) / MIB);
	CHECK(st.out_user_limit == USER_BOUND);
	CHECK(st.out_user_bytes_held == held);
	CHECK(held <= USER_BOUND);
	CHECK(mem_fell(before, after) <= USER_BOUND + 6 * MIB);
	if (uf && uf->ready_fd >= 0) {
		CHECK(write(uf->ready_fd, "r", 1) == 1);
		pause();
	}
	for (i = 0; i < opened; i++)
		objheap_close(heaps[i]);
	return 0;
}

TEST_F_TIMEOUT(unpriv, user_bound_holds_across_heaps, 120)
{
	/* A module without the bound fails the test rather than skip it. */
	if (self->user_limit)
		ASSERT_EQ(0, param_write("user_limit", USER_BOUND));
	EXPECT_EQ(0, run_as_attacker(fill_user_bound, NULL, NULL));
}

TEST_F_TIMEOUT(unpriv, another_users_heap_works_while_the_attacker_is_at_its_bound, 120)
{
	struct user_fill uf = { .ready_fd = -1 };
	uint64_t handles[256];
	struct objheap *heap;
	int pipefd[2], status;
	size_t n;
	pid_t pid = 0;
	char c;

	if (self->user_limit)
		ASSERT_EQ(0, param_write("user_limit", USER_BOUND));
	ASSERT_EQ(0, pipe(pipefd));
	uf.ready_fd = pipefd[1];
	ASSERT_EQ(0, run_as_attacker(fill_user_bound, &uf, &pid));
	close(pipefd[1]);
	/* Without the bound the attacker may fail on its own: then no byte. */
	ASSERT_EQ(1, read(pipefd[0], &c, 1));

	/* Root's heap: 256 objects of 64 KiB, 16 MiB. */
	ASSERT_EQ(0, objheap_open(&heap));
	EXPECT_EQ(0, fill(heap, BIG_OBJ, handles, 256, &n));
	EXPECT_EQ(256, n);
	EXPECT_EQ(0, objheap_gc_collect(heap, 2, NULL));
	objheap_close(heap);

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
}

/* ---- a full memory cgroup is ENOMEM, not the cgroup's OOM killer ---- */

#define CG_DIR		CG_ROOT "/objheap-unpriv"
#define CG_MAX		(32 * MIB)

static long long memcg_oom_kills(void)
{
	long long kills = -1, n;
	char line[128];
	FILE *f = fopen(CG_DIR "/memory.events", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %lld", &n) == 1)
			kills = n;
	fclose(f);
	return kills;
}

static int fill_memcg(void *arg)
{
	uint64_t handles[2048];
	struct objheap_stats st;
	struct objheap *heap;
	size_t n, i;
	int ret;

	(void)arg;
	CHECK(!objheap_open(&heap));
	/* Objects of 60 KiB: what the cgroup holds, not the heap's limit. */
	ret = fill(heap, 60 * 1024, handles, 2048, &n);
	/* Room again before anything else is charged, such as this pipe. */
	for (i = n > 64 ? n - 64 : 0; i < n; i++)
		objheap_release(heap, handles[i]);
	CHECK(!heap_stats(heap, &st));
	printf("# memory.max %llu MiB: %zu objects of 60 KiB, then %d; %llu MiB held at the end\n",
	       CG_MAX / MIB, n, ret, (unsigned long long)st.out_bytes_held / MIB);
	CHECK(ret == -ENOMEM);
	CHECK(n < 2048);
	objheap_close(heap);
	return 0;
}

TEST_F_TIMEOUT(unpriv, full_memory_cgroup_is_enomem_not_a_kill, 120)
{
	char pid[32];
	int ret, status;
	pid_t child;

	ret = memcg_create(CG_DIR, CG_MAX);
	if (ret == -ENOENT || ret == -ENODEV)
		SKIP(return, "no cgroup2 memory controller in this kernel");
	ASSERT_EQ(0, ret);
	/* Lift the per-user bound out of the way: the cgroup is the bound. */
	if (self->user_limit)
		ASSERT_EQ(0, param_write("user_limit", 1ULL << 40));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(CG_DIR "/cgroup.procs", pid) || drop_privileges())
			_exit(1);
		_exit(fill_memcg(NULL));
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the attacker %s %d", WIFEXITED(status) ? "exited with" :
		       "was killed by signal", WIFEXITED(status) ?
		       WEXITSTATUS(status) : WTERMSIG(status));
	EXPECT_EQ(0, memcg_oom_kills());
	rmdir(CG_DIR);
}

/* ---- SET_LIMIT above the default needs CAP_SYS_RESOURCE ---- */

static int raise_limit(void *arg)
{
	unsigned long long dflt = *(unsigned long long *)arg;
	struct objheap_stats st;
	struct objheap *heap;

	CHECK(!objheap_open(&heap));
	CHECK(raw_set_limit(heap, dflt + 1) == -EPERM);
	CHECK(raw_set_limit(heap, UINT64_MAX) == -EINVAL);
	CHECK(!heap_stats(heap, &st));
	CHECK(st.out_limit == dflt);
	CHECK(st.out_limit_default == dflt);
	CHECK(!raw_set_limit(heap, dflt / 2));
	CHECK(!raw_set_limit(heap, dflt));
	objheap_close(heap);
	return 0;
}

TEST_F(unpriv, set_limit_above_the_default_is_eperm)
{
	struct objheap *heap;

	EXPECT_EQ(0, run_as_attacker(raise_limit, &self->heap_limit, NULL));
	/* Root may. */
	ASSERT_EQ(0, objheap_open(&heap));
	EXPECT_EQ(0, raw_set_limit(heap, self->heap_limit + 4096));
	objheap_close(heap);
}

/* ---- the test-only interface ---- */

static int test_nop(void *arg)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd), .op = OBJHEAP_TEST_OP_NOP,
	};
	int fd = open(OBJHEAP_DEV, O_RDWR), with_test = *(int *)arg;

	CHECK(fd >= 0);
	CHECK(ioctl(fd, OBJHEAP_TEST, &cmd) == -1);
	CHECK(errno == (with_test ? EPERM : ENOTTY));
	close(fd);
	return 0;
}

TEST_F(unpriv, test_interface_is_not_reachable)
{
	int fd = open(OBJHEAP_DEV, O_RDWR), with_test;

	ASSERT_LE(0, fd);
	with_test = objheap_has_test_interface(fd);
	close(fd);
	EXPECT_EQ(0, run_as_attacker(test_nop, &with_test, NULL));
}

/* Sizes drawn from [0, 2^32 - 1]: 2^32 of them, once a division by 0. */
TEST_F(unpriv, test_interface_full_size_range)
{
	struct objheap_test_cmd cmd = {
		.size = sizeof(cmd), .op = OBJHEAP_TEST_OP_ALLOC_BLOCKS,
		.alloc_blocks = { .count = 4, .size_min = 0,
				  .size_max = UINT32_MAX, .seed = 1 },
	};
	int fd = open(OBJHEAP_DEV, O_RDWR);

	ASSERT_LE(0, fd);
	if (!objheap_has_test_interface(fd)) {
		close(fd);
		SKIP(return, "the module has no test-only interface");
	}
	/* Sizes near 4 GiB pass any limit: ENOMEM, nothing left. */
	EXPECT_ERRNO(ENOMEM, ioctl(fd, OBJHEAP_TEST, &cmd));
	cmd.op = OBJHEAP_TEST_OP_ALLOC_CHECK;
	EXPECT_EQ(0, ioctl(fd, OBJHEAP_TEST, &cmd));
	close(fd);
}

/* ---- DEBUG_STATS does not flood the kernel log ---- */

#define COLLECTIONS	10000

static int collect_loudly(void *arg)
{
	double *elapsed = arg, start = now();
	struct objheap *heap;
	uint64_t h;
	int i;

	CHECK(!objheap_open(&heap));
	CHECK(!objheap_new(heap, 1, 0, 2, NULL, 0, NULL, &h));
	CHECK(!objheap_gc_set_debug(heap, OBJHEAP_GC_DEBUG_STATS));
	for (i = 0; i < COLLECTIONS; i++)
		CHECK(objheap_gc_collect(heap, 0, NULL) >= 0);
	objheap_close(heap);
	*elapsed = now() - start;
	printf("# %d collections in %.1f s\n", COLLECTIONS, *elapsed);
	return 0;
}

TEST_F_TIMEOUT(unpriv, debug_stats_does_not_flood_the_log, 300)
{
	double start, elapsed;
	int fd, lines = 0, bound;
	char rec[2048];
	ssize_t len;

	/* Root reads the log; dmesg_restrict keeps the attacker out. */
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, lseek(fd, 0, SEEK_END));
	start = now();
	EXPECT_EQ(0, run_as_attacker(collect_loudly, &elapsed, NULL));
	elapsed = now() - start;
	while ((len = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (len < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			break;
		}
		rec[len] = 0;
		lines += !!strstr(rec, "objheap");
	}
	close(fd);
	/* printk_ratelimit's default: 10 lines per 5 s, plus "suppressed". */
	bound = 2 * 10 * ((int)(elapsed / 5) + 2);
	TH_LOG("%d objheap lines in the log for %d collections in %.1f s (at most %d)",
	       lines, COLLECTIONS, elapsed, bound);
	EXPECT_GE(bound, lines);
}

static const char *tracefs_events(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing/events",
		"/sys/kernel/debug/tracing/events",
	};
	struct stat sb;
	unsigned int i;

	if (stat(dirs[0], &sb))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	for (i = 0; i < 2; i++)
		if (!stat(dirs[i], &sb))
			return dirs[i];
	return NULL;
}

/* Collections are traced, for perf and trace-cmd. */
TEST_F(unpriv, collections_are_traced)
{
	const char *events = tracefs_events();
	char path[256], line[512];
	struct objheap *heap;
	int found = 0;
	FILE *f;

	if (!events)
		SKIP(return, "no tracefs in this kernel");
	snprintf(path, sizeof(path), "%s/objheap/objheap_gc_done/enable", events);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f) TH_LOG("no %s", path);
	fputs("1\n", f);
	ASSERT_EQ(0, fclose(f));
	ASSERT_EQ(0, objheap_open(&heap));
	EXPECT_LE(0, objheap_gc_collect(heap, 2, NULL));
	objheap_close(heap);

	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("0\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/../trace", events);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		found += strstr(line, "objheap_gc_done: heap=") &&
			 strstr(line, "generation=2");
	fclose(f);
	EXPECT_LE(1, found);
}

/* ---- kill -9 of an attacker in a long command ---- */

#define READ_OBJ	(8 * MIB)
/* As many 8 MiB reads as one batch may copy (OBJHEAP_BATCH_MAX_BYTES). */
#define READS_PER_BATCH	(OBJHEAP_BATCH_MAX_BYTES / READ_OBJ)

/*
 * A batch of @count reads of one 8 MiB object: the heap's lock is held
 * for all of it (25 s for 4096 reads on Debian's 6.1 under TCG).  Writes a byte to
 * @ready_fd just before it submits.
 */
static int read_batch(struct objheap *heap, uint32_t count, int ready_fd)
{
	struct objheap_batch_buf *b;
	uint32_t i;
	uint64_t h;
	char *buf;

	buf = malloc(READ_OBJ);
	CHECK(buf);
	CHECK(!objheap_new(heap, 1, 0, 0, NULL, READ_OBJ, NULL, &h));
	CHECK(!objheap_batch_alloc(&b, count));
	for (i = 0; i < count; i++)
		CHECK(objheap_batch_read(b, h, 0, buf, READ_OBJ) == (int)i);
	CHECK(write(ready_fd, "r", 1) == 1);
	/* Batch after batch, until killed: the lock is hardly ever free. */
	for (;;)
		objheap_batch_submit(heap, b, 0);
}

static int hold_the_lock(void *arg)
{
	struct objheap *heap;

	CHECK(!objheap_open(&heap));
	return read_batch(heap, READS_PER_BATCH, *(int *)arg);
}

/* The newest heap's debugfs stats file. */
static int newest_stats_file(char *path, size_t size)
{
	unsigned long long id, max = 0;
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/debug/objheap");

	if (!d)
		return -ENOENT;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "%llu", &id) == 1 && id > max)
			max = id;
	closedir(d);
	snprintf(path, size, "/sys/kernel/debug/objheap/%llu/stats", max);
	return max ? 0 : -ENOENT;
}

/*
 * A debugfs reader waits for a busy heap's lock killably: kill -9 ends it
 * at once, not when the command holding the lock is done.
 */
TEST_F_TIMEOUT(unpriv, debugfs_reader_waiting_for_a_busy_heap_is_killable, 300)
{
	double killed, ended;
	int pipefd[2], status, fd;
	pid_t holder, reader;
	char path[128], c;

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(0, run_as_attacker(hold_the_lock, &pipefd[1], &holder));
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	usleep(200000);
	if (newest_stats_file(path, sizeof(path))) {
		kill(holder, SIGKILL);
		waitpid(holder, &status, 0);
		SKIP(return, "no objheap directory in debugfs");
	}
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		char buf[4096];

		/* Almost always waiting for the lock the holder has. */
		for (;;) {
			fd = open(path, O_RDONLY);
			if (fd < 0)
				_exit(2);
			if (read(fd, buf, sizeof(buf)) < 0)
				_exit(3);
			close(fd);
		}
	}
	usleep(300000);
	/* Both still there: the holder in its batches, the reader reading. */
	ASSERT_EQ(0, waitpid(reader, &status, WNOHANG));
	killed = now();
	ASSERT_EQ(0, kill(reader, SIGKILL));
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	ended = now();
	TH_LOG("reader killed after %.3f s", ended - killed);
	EXPECT_GT(1.0, ended - killed);
	EXPECT_TRUE(WIFSIGNALED(status));
	kill(holder, SIGKILL);
	ASSERT_EQ(holder, waitpid(holder, &status, 0));
}

enum long_cmd { BATCH_OF_READS, BIG_COLLECTION, CLOSE_BIG_HEAP };

struct attack {
	enum long_cmd what;
	int ready_fd;
};

#define BIG_HEAP	1000000

/*
 * A heap of @count objects of one slot each, in batches, each pointing at
 * the next one of its batch; userspace keeps every handle, so that a full
 * collection walks them all and finds them alive.
 */
static int build_big_heap(struct objheap *heap, uint32_t count)
{
	struct objheap_batch_buf *b;
	uint32_t done, i, n;

	if (objheap_batch_alloc(&b, OBJHEAP_BATCH_MAX_COUNT))
		return -ENOMEM;
	for (done = 0; done < count; done += n) {
		n = count - done < 2048 ? count - done : 2048;
		objheap_batch_reset(b);
		for (i = 0; i < n; i++)
			objheap_batch_new(b, 1, 0, 1, NULL, 0, NULL);
		for (i = 0; i + 1 < n; i++)
			objheap_batch_set_slot(b, OBJHEAP_BATCH_REF(i), 0,
					       OBJHEAP_BATCH_REF(i + 1));
		if (objheap_batch_submit(heap, b, 0)) {
			objheap_batch_free(b);
			return -ENOMEM;
		}
	}
	objheap_batch_free(b);
	return 0;
}

static int long_command(void *arg)
{
	struct attack *at = arg;
	struct objheap_gc_collect gc;
	struct objheap_stats st;
	struct objheap *heap;

	CHECK(!objheap_open(&heap));
	switch (at->what) {
	case BATCH_OF_READS:
		return read_batch(heap, READS_PER_BATCH, at->ready_fd);
	case BIG_COLLECTION:
		CHECK(!objheap_gc_disable(heap));
		CHECK(!build_big_heap(heap, BIG_HEAP));
		CHECK(objheap_gc_collect(heap, 2, &gc) == 0);
		printf("# a full collection of %d live objects: %.3f s\n",
		       BIG_HEAP, gc.out_elapsed_ns / 1e9);
		fflush(stdout);
		CHECK(write(at->ready_fd, "r", 1) == 1);
		for (;;)
			objheap_gc_collect(heap, 2, NULL);
	case CLOSE_BIG_HEAP:
		CHECK(!objheap_gc_disable(heap));
		CHECK(!build_big_heap(heap, BIG_HEAP));
		CHECK(!heap_stats(heap, &st));
		printf("# %d objects, %llu MiB in use\n", BIG_HEAP,
		       (unsigned long long)st.out_bytes_in_use / MIB);
		fflush(stdout);
		CHECK(write(at->ready_fd, "r", 1) == 1);
		pause();
	}
	return 0;
}

FIXTURE(kill9) {
};

FIXTURE_VARIANT(kill9) {
	enum long_cmd what;
};

/*
 * Batches of 64 reads of 8 MiB, back to back: before a batch stopped on a
 * fatal signal, one of 4096 such reads took 25.4 s to die on Debian's
 * 6.1 under TCG.
 */
FIXTURE_VARIANT_ADD(kill9, batch_of_reads) { .what = BATCH_OF_READS };
FIXTURE_VARIANT_ADD(kill9, collection_of_a_big_heap) { .what = BIG_COLLECTION };
FIXTURE_VARIANT_ADD(kill9, close_of_a_big_heap) { .what = CLOSE_BIG_HEAP };

FIXTURE_SETUP(kill9)
{
	if (geteuid())
		SETUP_SKIP("must start as root to drop to uid 1000");
}

FIXTURE_TEARDOWN(kill9)
{
}

/*
 * What closing a heap of BIG_HEAP objects costs in this boot, in seconds:
 * the exit of a process that holds one frees it all, killed or not.
 */
static double close_big_heap(void)
{
	struct objheap *heap;
	double start;

	if (objheap_open(&heap))
		return -1;
	if (objheap_gc_disable(heap) || build_big_heap(heap, BIG_HEAP)) {
		objheap_close(heap);
		return -1;
	}
	start = now();
	objheap_close(heap);
	return now() - start;
}

/*
 * The attacker signals that its long command is about to start; 0.2 s
 * later it is killed, and its end is awaited.  The close variant kills a
 * process whose exit closes a heap of 10^6 objects.
 *
 * Freeing the memory of a big heap is part of any exit that closes it,
 * and is not cut short; a killed collection also puts its objects back
 * first.  So the bound is a second past twice what a plain close of such
 * a heap takes in this boot, measured first.  On Debian's 6.1 under TCG
 * the kill took 0.03 to 0.08 s; on the debug kernel plain closes took
 * 0.63 to 0.91 s and kills 0.89 to 1.5 s, most of it in the frees.  The
 * command itself must stop.
 */
TEST_F_TIMEOUT(kill9, ends_within_a_second, 300)
{
	struct attack at = { .what = variant->what };
	double killed, ended, close_s = 0;
	int pipefd[2], status;
	pid_t pid = 0;
	char c;

	if (variant->what != BATCH_OF_READS) {
		close_s = close_big_heap();
		ASSERT_LE(0, close_s);
		TH_LOG("a plain close of %d objects: %.3f s", BIG_HEAP, close_s);
	}
	ASSERT_EQ(0, pipe(pipefd));
	at.ready_fd = pipefd[1];
	ASSERT_EQ(0, run_as_attacker(long_command, &at, &pid));
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	usleep(200000);
	/* Still in its command: the kill must cut it short. */
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	killed = now();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ended = now();
	TH_LOG("killed after %.3f s", ended - killed);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_GT(1.0 + 2 * close_s, ended - killed);
}

TEST_HARNESS_MAIN
