// SPDX-License-Identifier: GPL-2.0
/*
 * Watching heaps from outside: /proc/objheap, the fdinfo of a heap's file,
 * the tracepoints and objheapctl (Documentation/troubleshooting.rst).
 *
 * /proc/objheap is read the way its users must read it: columns are found
 * by the names on its second line, never by position.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "libobjheap.h"
#include "objheap_utils.h"

#define PROC_HEAPS	"/proc/objheap"
#define ATTACKER_UID	1000
#define MAX_COLS	32

/* One heap's line of /proc/objheap, by column name. */
struct heap_line {
	int ncols;
	char names[MAX_COLS][24];
	char values[MAX_COLS][64];
};

/*
 * The line of heap @id in /proc/objheap as this process sees it: 1 when
 * found, 0 when not listed, -errno when the file cannot be read or its
 * first two lines are not what objheap(4) says.
 */
static int read_heap_line(unsigned long long id, struct heap_line *out)
{
	char line[1024], *tok, *save;
	char names[MAX_COLS][24];
	int ncols = 0, version, found = 0, i;
	FILE *f = fopen(PROC_HEAPS, "r");

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f) ||
	    sscanf(line, "objheap heaps %d", &version) != 1 || version < 1 ||
	    !fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EPROTO;
	}
	for (tok = strtok_r(line, "\n ", &save); tok && ncols < MAX_COLS;
	     tok = strtok_r(NULL, "\n ", &save))
		snprintf(names[ncols++], sizeof(names[0]), "%s", tok);
	while (!found && fgets(line, sizeof(line), f)) {
		i = 0;
		for (tok = strtok_r(line, "\n ", &save); tok && i < ncols;
		     tok = strtok_r(NULL, "\n ", &save), i++) {
			snprintf(out->values[i], sizeof(out->values[0]), "%s", tok);
			memcpy(out->names[i], names[i], sizeof(names[0]));
		}
		out->ncols = i;
		found = i == ncols && strtoull(out->values[0], NULL, 10) == id &&
			!strcmp(names[0], "id");
	}
	fclose(f);
	return found;
}

static const char *col(const struct heap_line *l, const char *name)
{
	int i;

	for (i = 0; i < l->ncols; i++)
		if (!strcmp(l->names[i], name))
			return l->values[i];
	return "";
}

static unsigned long long num(const struct heap_line *l, const char *name)
{
	const char *v = col(l, name);

	return *v ? strtoull(v, NULL, 10) : ~0ULL;
}

/* A value of "key:\tvalue" in /proc/self/fdinfo/@fd, or ~0 when absent. */
static unsigned long long fdinfo_value(int fd, const char *key)
{
	unsigned long long v = ~0ULL;
	char path[64], line[256];
	size_t len = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = strtoull(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static unsigned long long heap_id(struct objheap *heap)
{
	return fdinfo_value(objheap_fd(heap), "objheap-heap");
}

static int drop_privileges(void)
{
	if (setgroups(0, NULL) ||
	    setresgid(ATTACKER_UID, ATTACKER_UID, ATTACKER_UID) ||
	    setresuid(ATTACKER_UID, ATTACKER_UID, ATTACKER_UID))
		return -errno;
	return 0;
}

FIXTURE(observe) {
	struct objheap *heap;
	unsigned long long id;
};

FIXTURE_SETUP(observe)
{
	int fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		SETUP_SKIP(OBJHEAP_DEV " is missing: module not loaded");
	close(fd);
	ASSERT_EQ(0, objheap_open(&self->heap));
	self->id = heap_id(self->heap);
	ASSERT_NE(~0ULL, self->id);
}

FIXTURE_TEARDOWN(observe)
{
	objheap_close(self->heap);
}

/* Each open of the device is a heap of its own, with an id of its own. */
TEST_F(observe, fdinfo_names_heap_and_attachment)
{
	struct objheap_attach_info ai;
	struct objheap *other;

	ASSERT_EQ(0, objheap_attach_info(self->heap, 0, &ai));
	EXPECT_EQ(ai.out_id, fdinfo_value(objheap_fd(self->heap), "objheap-attachment"));
	ASSERT_EQ(0, objheap_open(&other));
	EXPECT_NE(self->id, heap_id(other));
	EXPECT_LT(self->id, heap_id(other));
	objheap_close(other);
}

/* The objects of generation @gen, as OBJHEAP_GC_GET_OBJECTS counts them. */
static long long gen_size(struct objheap *heap, uint32_t gen)
{
	uint32_t n = 0;
	int ret = objheap_gc_get_objects(heap, gen, NULL, 0, &n);

	return ret == 0 || ret == -EMSGSIZE ? (long long)n : ret;
}

/*
 * The generation columns against the collector's own lists, and exact
 * figures, through collections that move objects up, a cycle collected,
 * freeze and unfreeze, and objects freed from an old generation.  The
 * columns were gc.get_count()'s counts before format 2: after the first
 * collection, gen1 said 1 (one collection of generation 0), not 50.
 */
TEST_F(observe, proc_generations_count_the_tracked_objects)
{
	uint64_t h[100], cyc[2];
	struct heap_line l;
	unsigned int i, g;

#define EXPECT_GENS(g0, g1, g2, frozen)					\
	do {								\
		ASSERT_EQ(1, read_heap_line(self->id, &l));		\
		EXPECT_EQ(g0, num(&l, "gen0"));				\
		EXPECT_EQ(g1, num(&l, "gen1"));				\
		EXPECT_EQ(g2, num(&l, "gen2"));				\
		EXPECT_EQ(frozen, num(&l, "frozen"));			\
		for (g = 0; g < 3; g++)					\
			EXPECT_EQ(gen_size(self->heap, g),		\
				  (long long)num(&l, g == 0 ? "gen0" :	\
						 g == 1 ? "gen1" : "gen2")); \
		EXPECT_EQ(objheap_gc_get_freeze_count(self->heap),	\
			  (int)num(&l, "frozen"));			\
	} while (0)

	ASSERT_EQ(0, objheap_gc_disable(self->heap));
	EXPECT_GENS(0, 0, 0, 0);
	/* Objects with slots are tracked; one without is not. */
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 2, NULL, 0, NULL,
					 &h[i]));
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 0, NULL, 8, NULL, &h[99]));
	EXPECT_GENS(50, 0, 0, 0);
	ASSERT_EQ(0, objheap_gc_collect(self->heap, 0, NULL));
	EXPECT_GENS(0, 50, 0, 0);
	for (i = 50; i < 70; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 2, NULL, 0, NULL,
					 &h[i]));
	EXPECT_GENS(20, 50, 0, 0);
	ASSERT_EQ(0, objheap_gc_collect(self->heap, 1, NULL));
	EXPECT_GENS(0, 0, 70, 0);

	/* A cycle left to the collector, and ten more in generation 0. */
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 0, NULL, &cyc[0]));
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 0, &cyc[0],
				 &cyc[1]));
	ASSERT_EQ(0, objheap_set_slot(self->heap, cyc[0], 0, cyc[1]));
	ASSERT_EQ(0, objheap_release(self->heap, cyc[0]));
	ASSERT_EQ(0, objheap_release(self->heap, cyc[1]));
	for (i = 70; i < 80; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 2, NULL, 0, NULL,
					 &h[i]));
	EXPECT_GENS(12, 0, 70, 0);
	/* It returns what it collected: the cycle. */
	ASSERT_EQ(2, objheap_gc_collect(self->heap, 2, NULL));
	EXPECT_GENS(0, 0, 80, 0);

	/* Freed from the oldest generation. */
	for (i = 0; i < 30; i++)
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
	EXPECT_GENS(0, 0, 50, 0);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 2, NULL, 0, NULL,
					 &h[i]));
	ASSERT_EQ(0, objheap_gc_freeze(self->heap));
	EXPECT_GENS(0, 0, 0, 55);
	/* Frozen objects freed, then the rest back in the oldest. */
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
	EXPECT_GENS(0, 0, 0, 50);
	ASSERT_EQ(0, objheap_gc_unfreeze(self->heap));
	EXPECT_GENS(0, 0, 50, 0);
	for (i = 30; i < 80; i++)
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
	EXPECT_GENS(0, 0, 0, 0);
#undef EXPECT_GENS
}

/* The heap's line says what the heap's own commands say. */
TEST_F(observe, proc_line_matches_the_heap)
{
	char cgroup[512], path[600], comm[16];
	struct objheap_stats st;
	struct heap_line l;
	uint64_t h, slots[2];
	struct stat sb;
	FILE *f;
	int i;

	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 7, 0, 0, NULL, 24, NULL, &h));
	ASSERT_EQ(0, objheap_new(self->heap, 7, 0, 0, NULL, 4000, NULL, &h));
	slots[0] = h;
	slots[1] = h;
	ASSERT_EQ(0, objheap_new(self->heap, 8, 0, 2, NULL, 0, slots, &h));
	ASSERT_EQ(0, objheap_stats(self->heap, &st, NULL, 0));
	ASSERT_EQ(1, read_heap_line(self->id, &l));

	EXPECT_EQ(getpid(), num(&l, "pid"));
	EXPECT_EQ(geteuid(), num(&l, "uid"));
	EXPECT_EQ(1, num(&l, "attach"));
	EXPECT_EQ(102, num(&l, "objects"));
	EXPECT_EQ(st.out_bytes_in_use, num(&l, "in_use"));
	EXPECT_EQ(st.out_bytes_held, num(&l, "held"));
	EXPECT_EQ(st.out_limit, num(&l, "limit"));
	/* The one tracked object, counted as gc.get_count() counts it. */
	EXPECT_EQ(1, num(&l, "gen0"));
	EXPECT_EQ(0, num(&l, "collections"));
	EXPECT_EQ(0, num(&l, "lost"));
	ASSERT_EQ(0, prctl(PR_GET_NAME, comm));
	EXPECT_STREQ(comm, col(&l, "comm"));

	/* The cgroup column is the inode number of the cgroup's directory. */
	f = fopen("/proc/self/cgroup", "r");
	if (!f) {
		/* A kernel without cgroups gives every heap cgroup 0. */
		EXPECT_EQ(0, num(&l, "cgroup"));
		return;
	}
	cgroup[0] = 0;
	while (fgets(cgroup, sizeof(cgroup), f))
		if (!strncmp(cgroup, "0::", 3))
			break;
	fclose(f);
	cgroup[strcspn(cgroup, "\n")] = 0;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s", cgroup + 3);
	if (strncmp(cgroup, "0::", 3) || stat("/sys/fs/cgroup/cgroup.controllers", &sb))
		TH_LOG("no cgroup2 mounted at /sys/fs/cgroup: cgroup id not checked");
	else if (!stat(path, &sb))
		EXPECT_EQ(sb.st_ino, num(&l, "cgroup"));
}

/* Attachments and collections show as they happen. */
TEST_F(observe, proc_follows_attachments_and_collections)
{
	struct objheap_gc_collect out = { 0 };
	struct heap_line l;
	uint64_t a, b;
	int fd;

	ASSERT_EQ(0, objheap_attach(self->heap, 0, &fd, NULL));
	ASSERT_EQ(1, read_heap_line(self->id, &l));
	EXPECT_EQ(2, num(&l, "attach"));
	close(fd);
	ASSERT_EQ(1, read_heap_line(self->id, &l));
	EXPECT_EQ(1, num(&l, "attach"));

	/* A cycle, dropped, then found by two collections. */
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 0, NULL, &a));
	ASSERT_EQ(0, objheap_new(self->heap, 1, 0, 1, NULL, 0, &a, &b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	ASSERT_EQ(1, read_heap_line(self->id, &l));
	EXPECT_EQ(2, num(&l, "objects"));
	ASSERT_EQ(2, objheap_gc_collect(self->heap, 2, &out));
	ASSERT_EQ(0, objheap_gc_collect(self->heap, 0, NULL));
	ASSERT_EQ(1, read_heap_line(self->id, &l));
	EXPECT_EQ(0, num(&l, "objects"));
	EXPECT_EQ(2, num(&l, "collections"));
	/*
	 * At least the full collection's duration; not necessarily above 0,
	 * since a kernel whose clock ticks by jiffies (the debug kernel)
	 * may time a short collection at 0 ns.
	 */
	EXPECT_LE(out.out_elapsed_ns, num(&l, "longest_ns"));
}

/* A closed heap leaves the list. */
TEST_F(observe, closed_heap_leaves_the_list)
{
	struct objheap *other;
	struct heap_line l;
	unsigned long long id;

	ASSERT_EQ(0, objheap_open(&other));
	id = heap_id(other);
	ASSERT_EQ(1, read_heap_line(id, &l));
	objheap_close(other);
	EXPECT_EQ(0, read_heap_line(id, &l));
	EXPECT_EQ(1, read_heap_line(self->id, &l));
}

/*
 * A heap outlives its opener when another process holds an attachment:
 * its pid reads 0 then, and the command name is escaped where it has a
 * space or a backslash.
 */
TEST_F(observe, owner_gone_and_odd_command_names)
{
	struct heap_line l;
	unsigned long long id;
	int sv[2], fd, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fd = -1;
		if (prctl(PR_SET_NAME, "odd name\\x"))
			_exit(1);
		fd = open(OBJHEAP_DEV, O_RDWR | O_CLOEXEC);
		_exit(fd < 0 || objheap_send_fd(sv[1], fd) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(0, objheap_recv_fd(sv[0], &fd));
	id = fdinfo_value(fd, "objheap-heap");
	ASSERT_EQ(1, read_heap_line(id, &l));
	EXPECT_EQ(0, num(&l, "pid"));
	EXPECT_STREQ("odd\\040name\\134x", col(&l, "comm"));
	close(fd);
	close(sv[0]);
	close(sv[1]);
	EXPECT_EQ(0, read_heap_line(id, &l));
}

/*
 * A user sees the heaps they opened and no one else's; root sees them
 * all.  Who sees what is settled when the file is opened.
 */
TEST_F(observe, users_see_their_own_heaps_root_sees_all)
{
	int to_child[2], to_parent[2], status;
	unsigned long long child_id = 0;
	struct heap_line l;
	char verdict = 0;
	pid_t pid;

	if (geteuid())
		TEST_SKIP("must start as root to play two users");
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct objheap *mine;
		unsigned long long id;
		char go, ok;

		if (drop_privileges() || objheap_open(&mine))
			_exit(1);
		id = heap_id(mine);
		/* Own heap listed, with its uid; root's heap not. */
		ok = read_heap_line(id, &l) == 1 && num(&l, "uid") == ATTACKER_UID &&
		     read_heap_line(self->id, &l) == 0;
		if (write(to_parent[1], &id, sizeof(id)) != sizeof(id) ||
		    write(to_parent[1], &ok, 1) != 1 ||
		    read(to_child[0], &go, 1) != 1)
			_exit(2);
		objheap_close(mine);
		_exit(0);
	}
	ASSERT_EQ(sizeof(child_id), read(to_parent[0], &child_id, sizeof(child_id)));
	ASSERT_EQ(1, read(to_parent[0], &verdict, 1));
	EXPECT_EQ(1, verdict);
	/* Root sees the other user's heap. */
	ASSERT_EQ(1, read_heap_line(child_id, &l));
	EXPECT_EQ(ATTACKER_UID, num(&l, "uid"));
	EXPECT_EQ(pid, num(&l, "pid"));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
}

/* ---- tracepoints, read through tracefs ---- */

#define TRACEFS		"/sys/kernel/tracing"

static int tracefs_write(const char *file, const char *text)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ret = -errno;
	close(fd);
	return ret;
}

/* Lines of the trace buffer with @event and @heap's id, and @extra. */
static int trace_count(const char *event, unsigned long long heap,
		       const char *extra)
{
	char line[1024], needle[64];
	int n = 0;
	FILE *f = fopen(TRACEFS "/trace", "r");

	if (!f)
		return -errno;
	snprintf(needle, sizeof(needle), "heap=%llu ", heap);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, event) && strstr(line, needle) &&
		    (!extra || strstr(line, extra)))
			n++;
	fclose(f);
	return n;
}

static const char *const events[] = {
	"objheap_obj_new", "objheap_obj_free", "objheap_limit",
	"objheap_gc_start", "objheap_gc_done", "objheap_shrink",
};

static int trace_events(int on)
{
	char file[128];
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(file, sizeof(file), "events/objheap/%s/enable", events[i]);
		ret = tracefs_write(file, on ? "1" : "0");
		if (ret)
			return ret;
	}
	return 0;
}

TEST_F(observe, tracepoints_fire)
{
	uint64_t h[5], a, b, big;
	struct stat sb;
	int i;

	if (stat(TRACEFS "/trace", &sb) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		TEST_SKIP("no tracefs: %s", strerror(errno));
	if (stat(TRACEFS "/events/objheap", &sb))
		TEST_SKIP("no objheap events in tracefs (kernel without tracing?)");
	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, trace_events(1));

	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 42, 0, 0, NULL, 8, NULL, &h[i]));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, objheap_release(self->heap, h[i]));
	ASSERT_EQ(0, objheap_new(self->heap, 43, 0, 1, NULL, 0, NULL, &a));
	ASSERT_EQ(0, objheap_new(self->heap, 43, 0, 1, NULL, 0, &a, &b));
	ASSERT_EQ(0, objheap_set_slot(self->heap, a, 0, b));
	ASSERT_EQ(0, objheap_release(self->heap, a));
	ASSERT_EQ(0, objheap_release(self->heap, b));
	ASSERT_EQ(2, objheap_gc_collect(self->heap, 2, NULL));
	ASSERT_EQ(0, objheap_set_limit(self->heap, 64 * 1024));
	/* Within the limit, beyond what it leaves. */
	EXPECT_EQ(-ENOMEM, objheap_new(self->heap, 44, 0, 0, NULL, 60 * 1024,
				       NULL, &big));
	/*
	 * The shrinker takes the arena the heap keeps, now entirely free,
	 * with no collection: none could find anything.
	 */
	ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "2"));
	for (i = 0; i < 250 && !trace_count("objheap_shrink:", self->id, NULL);
	     i++)
		usleep(20000);
	ASSERT_EQ(0, trace_events(0));

	EXPECT_EQ(5, trace_count("objheap_obj_new:", self->id, "type=42 "));
	EXPECT_EQ(5, trace_count("objheap_obj_free:", self->id, "reason=refcount"));
	EXPECT_EQ(2, trace_count("objheap_obj_new:", self->id, "type=43 "));
	EXPECT_EQ(2, trace_count("objheap_obj_free:", self->id, "reason=gc"));
	EXPECT_EQ(1, trace_count("objheap_gc_start:", self->id, "generation=2"));
	EXPECT_EQ(1, trace_count("objheap_gc_done:", self->id, "unreachable=2 "));
	EXPECT_EQ(1, trace_count("objheap_limit:", self->id, "bound=heap"));
	EXPECT_EQ(0, trace_count("objheap_obj_new:", self->id, "type=44 "));
	EXPECT_EQ(1, trace_count("objheap_shrink:", self->id, "collection=no "));
	ASSERT_EQ(0, tracefs_write("trace", ""));
}

/* ---- objheapctl against the real module ---- */

/* Run @cmd; its output in @out (NUL-terminated), its exit status. */
static int run_cmd(const char *cmd, char *out, size_t len)
{
	size_t n = 0, r;
	FILE *p = popen(cmd, "r");
	int status;

	if (!p)
		return -1;
	while (n + 1 < len && (r = fread(out + n, 1, len - n - 1, p)) > 0)
		n += r;
	out[n] = 0;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Field @name of the row of top -o whose ID is @id, by the header's names. */
static long long top_field(char *out, unsigned long long id, const char *name)
{
	char *line, *save, *tok, *tsave, *names[32];
	int ncols = 0, i;

	line = strtok_r(out, "\n", &save);		/* totals */
	line = line ? strtok_r(NULL, "\n", &save) : NULL;	/* names */
	if (!line)
		return -1;
	for (tok = strtok_r(line, " ", &tsave); tok && ncols < 32;
	     tok = strtok_r(NULL, " ", &tsave))
		names[ncols++] = tok;
	while ((line = strtok_r(NULL, "\n", &save))) {
		char *vals[32];
		int n = 0;

		for (tok = strtok_r(line, " ", &tsave); tok && n < 32;
		     tok = strtok_r(NULL, " ", &tsave))
			vals[n++] = tok;
		if (n < ncols || strtoull(vals[0], NULL, 10) != id)
			continue;
		for (i = 0; i < ncols; i++)
			if (!strcmp(names[i], name))
				return strtoll(vals[i], NULL, 10);
	}
	return -1;
}

TEST_F(observe, objheapctl_top_show_and_record_find_the_heap)
{
	char cmd[256], *out, *p;
	uint64_t h;
	FILE *csv;
	int i, rows;

	out = malloc(1 << 16);
	ASSERT_NE(NULL, out);
	for (i = 0; i < 33; i++)
		ASSERT_EQ(0, objheap_new(self->heap, 5, 0, 0, NULL, 16, NULL, &h));
	if (run_cmd("objheapctl top -o -s id 2>&1", out, 1 << 16) == 127) {
		free(out);
		TEST_SKIP("objheapctl is not on PATH");
	}
	ASSERT_EQ(0, strncmp(out, "heaps ", 6));
	EXPECT_EQ(33, top_field(out, self->id, "OBJECTS"));
	ASSERT_EQ(0, run_cmd("objheapctl top -o -s id 2>&1", out, 1 << 16));
	EXPECT_EQ(getpid(), top_field(out, self->id, "PID"));

	/* show copies a descriptor of the heap from this very process. */
	snprintf(cmd, sizeof(cmd), "objheapctl show %llu 2>&1", self->id);
	EXPECT_EQ(0, run_cmd(cmd, out, 1 << 16)) TH_LOG("%s", out);
	p = strstr(out, "\nobjects:");
	ASSERT_NE(NULL, p);
	EXPECT_EQ(33, strtoll(p + strlen("\nobjects:"), NULL, 10));
	EXPECT_NE(NULL, strstr(out, "\nholder:"));

	/* record: a second of samples, each with the heap's 33 objects. */
	snprintf(cmd, sizeof(cmd),
		 "objheapctl record %llu --for 1s --interval 200ms -o /tmp/objheap-rec-%d 2>&1",
		 self->id, getpid());
	EXPECT_EQ(0, run_cmd(cmd, out, 1 << 16)) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "/tmp/objheap-rec-%d.csv", getpid());
	csv = fopen(cmd, "r");
	ASSERT_NE(NULL, csv);
	ASSERT_NE(NULL, fgets(out, 4096, csv));
	EXPECT_EQ(0, strncmp(out, "time_s,in_use,held,limit,objects,", 33));
	for (rows = 0; fgets(out, 4096, csv); rows++) {
		char *f = out;

		for (i = 0; i < 4 && f; i++) {
			f = strchr(f, ',');
			f = f ? f + 1 : NULL;
		}
		ASSERT_NE(NULL, f);
		EXPECT_EQ(33, strtoll(f, NULL, 10));
	}
	fclose(csv);
	EXPECT_LE(4, rows);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "/tmp/objheap-rec-%d.svg", getpid());
	EXPECT_EQ(0, access(cmd, R_OK));
	unlink(cmd);
	free(out);
}

/* ---- the leak hunt of Documentation/troubleshooting.rst ---- */

#define LEAK_PROG	"/opt/objheap/bin/objheap-leak"

TEST(leak_example_finds_both_leaks)
{
	char *out;
	int status;

	if (access(LEAK_PROG, X_OK))
		TEST_SKIP(LEAK_PROG " is not installed");
	out = malloc(1 << 16);
	ASSERT_NE(NULL, out);
	status = run_cmd(LEAK_PROG " 300 2>&1", out, 1 << 16);
	printf("%s", out);
	EXPECT_EQ(0, status);
	EXPECT_NE(NULL, strstr(out, "both leaks found and fixed"));
	free(out);
}

/* objheapctl on the held heap: 200 responses, 20 audited cycles, the list. */
TEST(leak_example_seen_by_objheapctl)
{
	int to_child[2], from_child[2], status, fd;
	unsigned long long id = 0;
	char path[64], line[256], *out;
	pid_t pid;
	FILE *f;

	if (access(LEAK_PROG, X_OK))
		TEST_SKIP(LEAK_PROG " is not installed");
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(from_child));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Dies with the test, whatever assertion ends it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[0]);
		close(to_child[1]);
		close(from_child[0]);
		close(from_child[1]);
		execl(LEAK_PROG, "objheap-leak", "--hold", "200", NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	f = fdopen(from_child[0], "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	ASSERT_EQ(0, strncmp(line, "serving, holding", 16));

	fclose(f);
	/* Its heap's id, from the fdinfo of the descriptor that has one. */
	for (fd = 0; fd < 64 && !id; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			sscanf(line, "objheap-heap: %llu", &id);
		fclose(f);
	}
	ASSERT_NE(0, id);

	out = malloc(1 << 16);
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, run_cmd("objheapctl top -o -s id 2>&1", out, 1 << 16));
	printf("# $ objheapctl top -o\n%s", out);
	EXPECT_EQ(241, top_field(out, id, "OBJECTS"));
	snprintf(line, sizeof(line), "objheapctl show %llu 2>&1", id);
	EXPECT_EQ(0, run_cmd(line, out, 1 << 16));
	printf("# $ %s\n%s", line, out);
	EXPECT_NE(NULL, strstr(out, "\nobjects:       241\n"));
	/* Its tags: respond() (0x2) holds the most, 200 objects. */
	EXPECT_NE(NULL, strstr(out, "allocation tracing: every object\n"));
	EXPECT_NE(NULL, strstr(out, "\n0x2                           200 "))
		TH_LOG("%s", out);
	free(out);

	ASSERT_EQ(1, write(to_child[1], "\n", 1));
	close(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
