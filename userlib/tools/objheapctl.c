// SPDX-License-Identifier: MIT
/*
 * objheapctl: command-line view of objheap.
 *
 *   objheapctl query     the running kernel, the module's version, its
 *                        uapi version, commands and features
 *   objheapctl stats     the allocator's statistics of a new heap, like
 *                        CPython's sys._debugmallocstats(); with the
 *                        test-only interface, after a sample workload
 *   objheapctl top       every heap the caller may see, from /proc/objheap,
 *                        refreshed in place like slabtop
 *   objheapctl show HEAP one heap: its /proc/objheap line, then through a
 *                        copy of a descriptor of it, the collector and the
 *                        allocator's table
 *   objheapctl record HEAP
 *                        the heap's /proc/objheap line every interval, as
 *                        a CSV file and an SVG graph
 *
 * query and stats open /dev/objheap, which creates a heap for them; top,
 * show and record create none.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libobjheap.h>
#include "../../kmod/objheap_test.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const cmd_names[] = {
	[OBJHEAP_CMD_QUERY - OBJHEAP_CMD_BASE] = "query",
	[OBJHEAP_CMD_STATS - OBJHEAP_CMD_BASE] = "stats",
	[OBJHEAP_CMD_SET_LIMIT - OBJHEAP_CMD_BASE] = "set_limit",
	[OBJHEAP_CMD_NEW - OBJHEAP_CMD_BASE] = "new",
	[OBJHEAP_CMD_DUP - OBJHEAP_CMD_BASE] = "dup",
	[OBJHEAP_CMD_RELEASE - OBJHEAP_CMD_BASE] = "release",
	[OBJHEAP_CMD_SET_SLOT - OBJHEAP_CMD_BASE] = "set_slot",
	[OBJHEAP_CMD_GET_SLOT - OBJHEAP_CMD_BASE] = "get_slot",
	[OBJHEAP_CMD_READ - OBJHEAP_CMD_BASE] = "read",
	[OBJHEAP_CMD_WRITE - OBJHEAP_CMD_BASE] = "write",
	[OBJHEAP_CMD_INFO - OBJHEAP_CMD_BASE] = "info",
	[OBJHEAP_CMD_INTERN - OBJHEAP_CMD_BASE] = "intern",
	[OBJHEAP_CMD_BATCH - OBJHEAP_CMD_BASE] = "batch",
	[OBJHEAP_CMD_GC_COLLECT - OBJHEAP_CMD_BASE] = "gc_collect",
	[OBJHEAP_CMD_GC_ENABLE - OBJHEAP_CMD_BASE] = "gc_enable",
	[OBJHEAP_CMD_GC_DISABLE - OBJHEAP_CMD_BASE] = "gc_disable",
	[OBJHEAP_CMD_GC_ISENABLED - OBJHEAP_CMD_BASE] = "gc_isenabled",
	[OBJHEAP_CMD_GC_GET_THRESHOLD - OBJHEAP_CMD_BASE] = "gc_get_threshold",
	[OBJHEAP_CMD_GC_SET_THRESHOLD - OBJHEAP_CMD_BASE] = "gc_set_threshold",
	[OBJHEAP_CMD_GC_GET_COUNT - OBJHEAP_CMD_BASE] = "gc_get_count",
	[OBJHEAP_CMD_GC_GET_STATS - OBJHEAP_CMD_BASE] = "gc_get_stats",
	[OBJHEAP_CMD_GC_FREEZE - OBJHEAP_CMD_BASE] = "gc_freeze",
	[OBJHEAP_CMD_GC_UNFREEZE - OBJHEAP_CMD_BASE] = "gc_unfreeze",
	[OBJHEAP_CMD_GC_GET_FREEZE_COUNT - OBJHEAP_CMD_BASE] = "gc_get_freeze_count",
	[OBJHEAP_CMD_GC_GET_OBJECTS - OBJHEAP_CMD_BASE] = "gc_get_objects",
	[OBJHEAP_CMD_GC_GET_REFERRERS - OBJHEAP_CMD_BASE] = "gc_get_referrers",
	[OBJHEAP_CMD_GC_GET_REFERENTS - OBJHEAP_CMD_BASE] = "gc_get_referents",
	[OBJHEAP_CMD_GC_IS_TRACKED - OBJHEAP_CMD_BASE] = "gc_is_tracked",
	[OBJHEAP_CMD_GC_SET_DEBUG - OBJHEAP_CMD_BASE] = "gc_set_debug",
	[OBJHEAP_CMD_GC_GET_DEBUG - OBJHEAP_CMD_BASE] = "gc_get_debug",
	[OBJHEAP_CMD_GC_GET_GARBAGE - OBJHEAP_CMD_BASE] = "gc_get_garbage",
	[OBJHEAP_CMD_GC_CLEAR_GARBAGE - OBJHEAP_CMD_BASE] = "gc_clear_garbage",
	[OBJHEAP_CMD_WEAKREF_NEW - OBJHEAP_CMD_BASE] = "weakref_new",
	[OBJHEAP_CMD_WEAKREF_GET - OBJHEAP_CMD_BASE] = "weakref_get",
	[OBJHEAP_CMD_WEAKREF_COUNT - OBJHEAP_CMD_BASE] = "weakref_count",
	[OBJHEAP_CMD_WEAKREF_LIST - OBJHEAP_CMD_BASE] = "weakref_list",
	[OBJHEAP_CMD_FINALIZE_DETACH - OBJHEAP_CMD_BASE] = "finalize_detach",
	[OBJHEAP_CMD_FINALIZE_ALIVE - OBJHEAP_CMD_BASE] = "finalize_alive",
	[OBJHEAP_CMD_EVENT_CTL - OBJHEAP_CMD_BASE] = "event_ctl",
	[OBJHEAP_CMD_ATTACH - OBJHEAP_CMD_BASE] = "attach",
	[OBJHEAP_CMD_ATTACH_INFO - OBJHEAP_CMD_BASE] = "attach_info",
	[OBJHEAP_CMD_SEND - OBJHEAP_CMD_BASE] = "send",
	[OBJHEAP_CMD_PUBLISH - OBJHEAP_CMD_BASE] = "publish",
	[OBJHEAP_CMD_LOOKUP - OBJHEAP_CMD_BASE] = "lookup",
	[OBJHEAP_CMD_UNPUBLISH - OBJHEAP_CMD_BASE] = "unpublish",
	[OBJHEAP_CMD_RESIZE - OBJHEAP_CMD_BASE] = "resize",
	[OBJHEAP_CMD_SEAL - OBJHEAP_CMD_BASE] = "seal",
	[OBJHEAP_CMD_MAP_OFFSET - OBJHEAP_CMD_BASE] = "map_offset",
	[OBJHEAP_CMD_TRACE_CTL - OBJHEAP_CMD_BASE] = "trace_ctl",
	[OBJHEAP_CMD_TRACE_SNAPSHOT - OBJHEAP_CMD_BASE] = "trace_snapshot",
	[OBJHEAP_CMD_TRACE_ROWS - OBJHEAP_CMD_BASE] = "trace_rows",
	[OBJHEAP_CMD_TRACE_TAG - OBJHEAP_CMD_BASE] = "trace_tag",
	[OBJHEAP_CMD_GC_SET_MODE - OBJHEAP_CMD_BASE] = "gc_set_mode",
	[OBJHEAP_CMD_GC_GET_MODE - OBJHEAP_CMD_BASE] = "gc_get_mode",
	[63] = "test",
};

/* The loaded module's version, from sysfs; "unknown" when unreadable. */
static void module_version(char *buf, size_t len)
{
	FILE *f = fopen("/sys/module/objheap/version", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int do_query(struct objheap *heap)
{
	struct objheap_query q, c;
	struct utsname uts;
	char version[64];
	unsigned int i;
	int ret;

	ret = objheap_query(heap, 0, &q);
	if (ret)
		return ret;
	module_version(version, sizeof(version));
	printf("kernel:       %s\n", uname(&uts) ? "unknown" : uts.release);
	printf("module:       objheap %s\n", version);
	printf("uapi version: %u\n", q.out_version);
	printf("features:     %#llx%s\n", (unsigned long long)q.out_features,
	       q.out_features & OBJHEAP_FEATURE_TEST ? " (test interface)" : "");
	printf("%-4s %-10s %6s %10s\n", "nr", "command", "size", "flags");
	for (i = 0; i < 64; i++) {
		if (!(q.out_cmds & (1ULL << i)))
			continue;
		ret = objheap_query(heap, OBJHEAP_CMD_BASE + i, &c);
		if (ret)
			return ret;
		printf("%#4x %-10s %6u %#10x\n", OBJHEAP_CMD_BASE + i,
		       i < ARRAY_SIZE(cmd_names) && cmd_names[i] ?
		       cmd_names[i] : "?", c.out_cmd_size, c.out_cmd_flags);
	}
	return 0;
}

static int test_op(struct objheap *heap, struct objheap_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(objheap_fd(heap), OBJHEAP_TEST, cmd) ? -errno : 0;
}

/*
 * With the test-only interface: 3000 blocks of 1 to 600 bytes, then every
 * third one freed, so that the table shows used and free blocks, a few
 * large objects and some arenas.
 */
static int sample_workload(struct objheap *heap)
{
	struct objheap_test_cmd cmd = {
		.op = OBJHEAP_TEST_OP_ALLOC_BLOCKS,
		.alloc_blocks = { .count = 3000, .size_min = 1, .size_max = 600,
				  .seed = 1 },
	};
	uint64_t first, id;
	int ret;

	ret = test_op(heap, &cmd);
	if (ret)
		return ret;
	first = cmd.alloc_blocks.out_first_id;
	for (id = first; id < first + 3000; id += 3) {
		cmd = (struct objheap_test_cmd){
			.op = OBJHEAP_TEST_OP_FREE_BLOCK, .free_block = { .id = id },
		};
		ret = test_op(heap, &cmd);
		if (ret)
			return ret;
	}
	return 0;
}

static void print_line(const char *what, unsigned long long value)
{
	printf("%-35s= %20llu\n", what, value);
}

/*
 * print_alloc_stats() - The allocator's table of the heap behind @fd, in
 * the shape of CPython's sys._debugmallocstats(), then its memory and
 * limits.  Only OBJHEAP_STATS, which changes nothing, is issued on @fd,
 * so that show can use it on a descriptor taken from another process.
 *
 * Return: 0 or -errno.
 */
static int print_alloc_stats(int fd)
{
	struct objheap_class_stats cs[64];
	struct objheap_stats st = {
		.size = sizeof(st),
		.nr_classes = 64,
		.classes = (uintptr_t)cs,
	};
	unsigned int i, nr;
	char line[64];

	if (ioctl(fd, OBJHEAP_STATS, &st))
		return -errno;
	nr = st.out_nr_classes < 64 ? st.out_nr_classes : 64;

	printf("Small block threshold = %u, in %u size classes.\n\n",
	       nr ? cs[nr - 1].block_size : 0, st.out_nr_classes);
	printf("class   size   num pools   blocks in use  avail blocks\n"
	       "-----   ----   ---------   -------------  ------------\n");
	for (i = 0; i < nr; i++)
		if (cs[i].pools)
			printf("%5u %6u %11u %15llu %13llu\n", i, cs[i].block_size,
			       cs[i].pools, (unsigned long long)cs[i].blocks_in_use,
			       (unsigned long long)cs[i].blocks_free);
	printf("\n");
	print_line("# arenas allocated total", st.out_arenas_allocated);
	print_line("# arenas reclaimed", st.out_arenas_reclaimed);
	print_line("# arenas highwater mark", st.out_arenas_highwater);
	print_line("# arenas allocated current", st.out_arenas_current);
	snprintf(line, sizeof(line), "%llu arenas * %u bytes/arena",
		 (unsigned long long)st.out_arenas_current, st.out_arena_size);
	print_line(line, st.out_arenas_current * st.out_arena_size);
	printf("\n");
	print_line("# bytes in allocated blocks", st.out_bytes_allocated_blocks);
	print_line("# bytes in available blocks", st.out_bytes_free_blocks);
	snprintf(line, sizeof(line), "%llu unused pools * %u bytes",
		 st.out_pool_size ? (unsigned long long)(st.out_bytes_unused_pools /
							 st.out_pool_size) : 0ULL,
		 st.out_pool_size);
	print_line(line, st.out_bytes_unused_pools);
	print_line("# bytes lost to pool headers", st.out_bytes_pool_headers);
	print_line("# bytes lost to quantization", st.out_bytes_quantization);
	print_line("Total", st.out_bytes_allocated_blocks + st.out_bytes_free_blocks +
		   st.out_bytes_unused_pools + st.out_bytes_pool_headers +
		   st.out_bytes_quantization);
	printf("\n");
	print_line("# large objects", st.out_large_objects);
	print_line("# bytes in large objects", st.out_large_bytes);
	print_line("# bytes charged outside allocator", st.out_bytes_charged);
	print_line("# bytes in use", st.out_bytes_in_use);
	print_line("# bytes in pool pages held", st.out_bytes_pools_held);
	print_line("# bytes held (limited)", st.out_bytes_held);
	print_line("# limit", st.out_limit);
	print_line("# limit default (module)", st.out_limit_default);
	print_line("# limit maximum (module)", st.out_limit_max);
	print_line("# bytes held by the user's heaps", st.out_user_bytes_held);
	print_line("# user limit (module)", st.out_user_limit);
	return 0;
}

static int do_stats(struct objheap *heap)
{
	struct objheap_query q;
	int ret;

	ret = objheap_query(heap, 0, &q);
	if (ret)
		return ret;
	if (q.out_features & OBJHEAP_FEATURE_TEST) {
		ret = sample_workload(heap);
		if (ret)
			return ret;
		printf("A new heap after a sample workload (test-only interface):\n"
		       "3000 blocks of 1 to 600 bytes, every third freed.\n\n");
	} else {
		printf("A new heap (no test-only interface for a sample workload).\n\n");
	}
	return print_alloc_stats(objheap_fd(heap));
}

/*
 * Text helpers shared by top, show and record.
 */

/*
 * parse_ull() - A decimal unsigned number that is all of @s: no sign, no
 * blanks, no overflow.
 *
 * Return: 0, or -1 when @s is anything else.
 */
static int parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/*
 * parse_duration() - A duration of the command line, in seconds: a plain
 * number of seconds ("2", "0.5") or one followed by "s", "ms" or "m"
 * ("10s", "500ms", "2m").
 *
 * Return: 0, or -1 unless it is at least 1 ms and at most a year.
 */
static int parse_duration(const char *s, double *secs)
{
	const char *p = s;
	double scale;

	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.')
		p++;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s || (p == s + 1 && *s == '.'))
		return -1;
	if (!*p || !strcmp(p, "s"))
		scale = 1;
	else if (!strcmp(p, "ms"))
		scale = 0.001;
	else if (!strcmp(p, "m"))
		scale = 60;
	else
		return -1;
	*secs = strtod(s, NULL) * scale;
	return *secs >= 0.001 && *secs <= 366 * 86400.0 ? 0 : -1;
}

/*
 * human_size() - @bytes for a person: below 1024 as is, else in K, M, G,
 * T or P (powers of 1024) with one decimal, "16.0M".
 */
static const char *human_size(char *buf, size_t len, unsigned long long bytes)
{
	static const char units[] = "KMGTPE";
	double v = bytes;
	unsigned int u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu", bytes);
		return buf;
	}
	v /= 1024;
	while (v >= 1023.95 && u < sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

/*
 * unescape_octal() - Undo the kernel's \ooo escapes of a /proc field
 * (space, tab, newline and backslash in comm) into @out, @len bytes with
 * the NUL; a backslash not followed by three octal digits stays as is.
 */
static void unescape_octal(char *out, size_t len, const char *in)
{
	size_t n = 0;

	while (*in && n + 1 < len) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' &&
		    in[2] >= '0' && in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
			char c = (in[1] - '0') << 6 | (in[2] - '0') << 3 | (in[3] - '0');

			in += 4;
			if (c)
				out[n++] = c;
			continue;
		}
		out[n++] = *in++;
	}
	out[n] = '\0';
}

/*
 * escape_text() - @in for one line of output, into @out (@len bytes with
 * the NUL, cut short if need be): control characters, DEL, backslash and
 * the characters of @also are written as \ooo, the kernel's escape, so
 * that the text stays on one line and, with @also " ", in one field.
 */
static const char *escape_text(char *out, size_t len, const char *in,
			       const char *also)
{
	size_t n = 0;

	for (; *in; in++) {
		unsigned char c = *in;

		if (c < 0x20 || c == 0x7f || c == '\\' || strchr(also, c)) {
			if (n + 5 > len)
				break;
			n += snprintf(out + n, len - n, "\\%03o", c);
		} else {
			if (n + 2 > len)
				break;
			out[n++] = c;
		}
	}
	out[n] = '\0';
	return out;
}

/*
 * /proc/objheap, the module's table of the heaps the reader may see:
 *
 *	objheap heaps VERSION
 *	id pid uid cgroup attach objects in_use held limit gen0 ... comm
 *	7 412 1000 2745 2 31608 2483200 16775168 16777216 ... python3
 *
 * Columns are found by the names of the second line, never by position:
 * a later version may add some anywhere.  Every value is a decimal
 * unsigned number but comm's, which has \ooo escapes.
 */

#define PROC_OBJHEAP	"/proc/objheap"

/*
 * struct heap_row - One heap, one line of /proc/objheap.
 * @comm: The opener's command name, unescaped.
 *
 * The other members are the columns of the same names: the heap's id,
 * the opener's pid (0: gone or not visible), uid and cgroup id, the
 * attachments, live objects, bytes in use, held and the limit on them,
 * the objects the collector tracks in each generation (format 2 on;
 * format 1 had gc.get_count()'s counts under the same names), its
 * collections and longest pause, and the events lost by the attachments'
 * queues.
 */
struct heap_row {
	unsigned long long id;
	unsigned long long pid;
	unsigned long long uid;
	unsigned long long cgroup;
	unsigned long long attach;
	unsigned long long objects;
	unsigned long long in_use;
	unsigned long long held;
	unsigned long long limit;
	unsigned long long gen0;
	unsigned long long gen1;
	unsigned long long gen2;
	unsigned long long collections;
	unsigned long long longest_ns;
	unsigned long long lost;
	char comm[64];
};

#define HEAP_COL(name) { #name, offsetof(struct heap_row, name) }

/* The numeric columns objheapctl needs, by name; and comm. */
static const struct heap_col {
	const char *name;
	size_t offset;
} heap_cols[] = {
	HEAP_COL(id), HEAP_COL(pid), HEAP_COL(uid), HEAP_COL(cgroup),
	HEAP_COL(attach), HEAP_COL(objects), HEAP_COL(in_use), HEAP_COL(held),
	HEAP_COL(limit), HEAP_COL(gen0), HEAP_COL(gen1), HEAP_COL(gen2),
	HEAP_COL(collections), HEAP_COL(longest_ns), HEAP_COL(lost),
};

#define COL_COMM	(-2)
#define COL_UNKNOWN	(-1)

static unsigned long long *row_field(struct heap_row *row, size_t offset)
{
	return (unsigned long long *)((char *)row + offset);
}

static unsigned long long row_value(const struct heap_row *row, size_t offset)
{
	return *(const unsigned long long *)((const char *)row + offset);
}

/*
 * struct heap_table - What one read of /proc/objheap found.
 * @version: The format's version, from the first line.
 * @nr: Rows in @rows.
 * @rows: One per heap, in the file's order.
 */
struct heap_table {
	unsigned int version;
	size_t nr;
	struct heap_row *rows;
};

static void heap_table_free(struct heap_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->nr = 0;
}

/* /proc/objheap, or the file $OBJHEAP_PROC names (for tests). */
static const char *proc_path(void)
{
	const char *path = getenv("OBJHEAP_PROC");

	return path && *path ? path : PROC_OBJHEAP;
}

/*
 * read_whole() - All of file @path, NUL-terminated, in *@bufp (to free).
 *
 * Return: 0 or -errno.
 */
static int read_whole(const char *path, char **bufp)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nbuf;
	int fd, ret = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	for (;;) {
		if (cap - len < 2) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				ret = -ENOMEM;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : 0;
			break;
		}
		len += n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*bufp = buf;
	return 0;
}

/*
 * split_fields() - Cut @line at each space, in place, into at most @max
 * fields.
 *
 * Return: the number of fields, or @max + 1 when there are more.
 */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		fields[n++] = line;
		line = strchr(line, ' ');
		if (!line)
			return n;
		*line++ = '\0';
	}
}

#define HEAP_MAX_COLS	256

/*
 * parse_heap_table() - Parse the text of /proc/objheap, @buf (cut up in
 * place), from file @path, into @t.  A problem is printed on stderr.
 *
 * Return: 0, or -1 when the text is not the table objheapctl knows.
 */
static int parse_heap_table(char *buf, const char *path, struct heap_table *t)
{
	int map[HEAP_MAX_COLS], found[ARRAY_SIZE(heap_cols)] = { 0 };
	char *fields[HEAP_MAX_COLS], *line, *next;
	size_t ncols = 0, n, i, j, lineno = 0, cap = 0;
	int comm_found = 0, end;
	struct heap_row *rows;

	memset(t, 0, sizeof(*t));
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (lineno == 1) {
			end = 0;
			if (sscanf(line, "objheap heaps %u%n", &t->version, &end) != 1 ||
			    line[end] || !t->version) {
				fprintf(stderr, "objheapctl: %s: not the objheap heaps table\n",
					path);
				return -1;
			}
			continue;
		}
		if (lineno == 2) {
			ncols = split_fields(line, fields, HEAP_MAX_COLS);
			if (ncols > HEAP_MAX_COLS) {
				fprintf(stderr, "objheapctl: %s: too many columns\n", path);
				return -1;
			}
			for (i = 0; i < ncols; i++) {
				map[i] = COL_UNKNOWN;
				if (!strcmp(fields[i], "comm") && !comm_found++) {
					map[i] = COL_COMM;
					continue;
				}
				for (j = 0; j < ARRAY_SIZE(heap_cols); j++)
					if (!strcmp(fields[i], heap_cols[j].name) && !found[j]++)
						map[i] = j;
			}
			for (j = 0; j < ARRAY_SIZE(heap_cols); j++)
				if (!found[j])
					break;
			if (j < ARRAY_SIZE(heap_cols) || !comm_found) {
				fprintf(stderr,
					"objheapctl: %s: no column %s (format version %u)\n",
					path, j < ARRAY_SIZE(heap_cols) ?
					heap_cols[j].name : "comm", t->version);
				return -1;
			}
			continue;
		}
		if (!*line)
			continue;
		n = split_fields(line, fields, ncols);
		if (n != ncols) {
			fprintf(stderr, "objheapctl: %s:%zu: %s columns than the %zu named\n",
				path, lineno, n > ncols ? "more" : "fewer", ncols);
			goto bad;
		}
		if (t->nr == cap) {
			cap = cap ? 2 * cap : 16;
			rows = realloc(t->rows, cap * sizeof(*rows));
			if (!rows) {
				fprintf(stderr, "objheapctl: %s\n", strerror(ENOMEM));
				goto bad;
			}
			t->rows = rows;
		}
		rows = &t->rows[t->nr];
		memset(rows, 0, sizeof(*rows));
		for (i = 0; i < ncols; i++) {
			if (map[i] == COL_COMM) {
				unescape_octal(rows->comm, sizeof(rows->comm), fields[i]);
				continue;
			}
			if (map[i] < 0)
				continue;
			if (parse_ull(fields[i], row_field(rows, heap_cols[map[i]].offset))) {
				fprintf(stderr, "objheapctl: %s:%zu: %s is not a number: %s\n",
					path, lineno, heap_cols[map[i]].name, fields[i]);
				goto bad;
			}
		}
		t->nr++;
	}
	if (lineno < 2) {
		fprintf(stderr, "objheapctl: %s: not the objheap heaps table\n", path);
		goto bad;
	}
	return 0;
bad:
	heap_table_free(t);
	return -1;
}

/*
 * heap_table_read() - Read /proc/objheap (or $OBJHEAP_PROC) into @t.
 * @quiet_enoent: Return -ENOENT without a word when the file is missing.
 *
 * Return: 0, -ENOENT (see @quiet_enoent), or -1 once the problem has been
 * printed.
 */
static int heap_table_read(struct heap_table *t, bool quiet_enoent)
{
	const char *path = proc_path();
	char *buf = NULL;
	int ret;

	ret = read_whole(path, &buf);
	if (ret == -ENOENT && quiet_enoent)
		return ret;
	if (ret) {
		fprintf(stderr, "objheapctl: %s: %s%s\n", path, strerror(-ret),
			ret == -ENOENT ? " (is the objheap module loaded?)" : "");
		return -1;
	}
	ret = parse_heap_table(buf, path, t);
	free(buf);
	return ret;
}

/*
 * Names of users and cgroups, for display.  Both are looked up once and
 * remembered: a heap's uid and cgroup id do not change.
 */

struct name_cache {
	unsigned long long key;
	char *name;		/* NULL: looked for, not found */
};

struct name_cache_set {
	size_t nr;
	size_t cap;
	struct name_cache *e;
};

static struct name_cache *name_cache_find(struct name_cache_set *s,
					  unsigned long long key)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->e[i].key == key)
			return &s->e[i];
	return NULL;
}

static void name_cache_add(struct name_cache_set *s, unsigned long long key,
			   const char *name)
{
	struct name_cache *e;

	if (s->nr == s->cap) {
		e = realloc(s->e, (s->cap ? 2 * s->cap : 16) * sizeof(*e));
		if (!e)
			return;
		s->e = e;
		s->cap = s->cap ? 2 * s->cap : 16;
	}
	s->e[s->nr].key = key;
	s->e[s->nr].name = name ? strdup(name) : NULL;
	s->nr++;
}

static struct name_cache_set user_names, cgroup_names;

/*
 * user_name() - The name of @uid, from /etc/passwd, or NULL.
 *
 * fgetpwent() rather than getpwuid(): objheapctl is linked statically
 * (it runs in the test VM's initramfs, which has no libc), and there
 * getpwuid() would need glibc's shared NSS modules at run time.
 */
static const char *user_name(unsigned long long uid)
{
	struct name_cache *e = name_cache_find(&user_names, uid);
	struct passwd *pw = NULL;
	FILE *f;

	if (e)
		return e->name;
	f = fopen("/etc/passwd", "re");
	while (f && (pw = fgetpwent(f)))
		if (pw->pw_uid == uid)
			break;
	name_cache_add(&user_names, uid, pw ? pw->pw_name : NULL);
	if (f)
		fclose(f);
	e = name_cache_find(&user_names, uid);
	return e ? e->name : NULL;
}

/* The cgroup v2 hierarchy: /sys/fs/cgroup, or its "unified" part. */
static const char *cgroup_root(void)
{
	static const char *const roots[] = {
		"/sys/fs/cgroup", "/sys/fs/cgroup/unified",
	};
	struct statfs sfs;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roots); i++)
		if (!statfs(roots[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

/* What the walk of the hierarchy looks for, and where it stands. */
static const char *cgroup_walk_root;
static unsigned long long *cgroup_walk_ids;
static size_t cgroup_walk_nr;

static int cgroup_walk_one(const char *path, const struct stat *st, int type,
			   struct FTW *ftw)
{
	const char *rel;
	size_t i;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	for (i = 0; i < cgroup_walk_nr; i++) {
		if (cgroup_walk_ids[i] != st->st_ino)
			continue;
		rel = path + strlen(cgroup_walk_root);
		name_cache_add(&cgroup_names, cgroup_walk_ids[i], *rel ? rel : "/");
		cgroup_walk_ids[i] = cgroup_walk_ids[--cgroup_walk_nr];
		break;
	}
	return cgroup_walk_nr ? 0 : 1;
}

/*
 * cgroup_resolve() - Find the paths of the cgroup ids of @t's heaps not
 * looked for yet, in one walk of the hierarchy: a cgroup's id is the
 * inode number of its directory.
 */
static void cgroup_resolve(const struct heap_table *t)
{
	unsigned long long ids[64];
	size_t i, j;

	cgroup_walk_nr = 0;
	for (i = 0; i < t->nr && cgroup_walk_nr < ARRAY_SIZE(ids); i++) {
		if (name_cache_find(&cgroup_names, t->rows[i].cgroup))
			continue;
		for (j = 0; j < cgroup_walk_nr; j++)
			if (ids[j] == t->rows[i].cgroup)
				break;
		if (j == cgroup_walk_nr)
			ids[cgroup_walk_nr++] = t->rows[i].cgroup;
	}
	if (!cgroup_walk_nr)
		return;
	cgroup_walk_ids = ids;
	cgroup_walk_root = cgroup_root();
	if (cgroup_walk_root)
		nftw(cgroup_walk_root, cgroup_walk_one, 32, FTW_PHYS | FTW_MOUNT);
	/* What the walk did not find is not looked for again. */
	for (i = 0; i < cgroup_walk_nr; i++)
		name_cache_add(&cgroup_names, ids[i], NULL);
	cgroup_walk_nr = 0;
}

/* The path of cgroup @id below the hierarchy's root, or NULL. */
static const char *cgroup_name(unsigned long long id)
{
	struct name_cache *e = name_cache_find(&cgroup_names, id);

	return e ? e->name : NULL;
}

/*
 * Signals: top and record stop on SIGINT and SIGTERM (and top on SIGHUP
 * and SIGQUIT), and top leaves the terminal as it found it, whatever of
 * these stops it.
 */

/* Lock-free atomics, which a signal handler may set (C11 7.14.1.1). */
static atomic_int stop_signal;
static atomic_int winch_signal;

/* The terminal's settings before top changed them; valid when saved. */
static struct termios term_saved;
static atomic_int term_is_raw;

static void term_restore(void)
{
	if (term_is_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &term_saved);
		term_is_raw = 0;
	}
}

/* Keys one at a time, not echoed; signals (^C, ^Z) still work. */
static int term_raw(void)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &term_saved))
		return -1;
	raw = term_saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return -1;
	term_is_raw = 1;
	return 0;
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	winch_signal = 1;
}

static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };

	/* No SA_RESTART: a signal must end the wait it arrives in. */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * ^Z: give the shell its terminal back and stop; once continued, take it
 * again and draw anew.
 */
static void on_tstp(int sig)
{
	int saved_errno = errno;
	bool was_raw = term_is_raw;
	struct termios raw;
	sigset_t set;

	if (was_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
		term_is_raw = 0;
	}
	set_handler(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* Continued: the mask is back to blocking @sig when this returns. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	set_handler(sig, on_tstp);
	if (was_raw) {
		raw = term_saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw))
			term_is_raw = 1;
	}
	winch_signal = 1;
	errno = saved_errno;
}

/*
 * objheapctl top: every heap the reader may see, one line each.
 */

/*
 * struct top_key - An order of top's lines.
 * @name: Its name for -s.
 * @key: The key that picks it on the terminal.
 * @offset: The member of struct heap_row it sorts by.
 * @ascending: Smallest first (ids); otherwise largest first.
 */
static const struct top_key {
	const char *name;
	char key;
	size_t offset;
	bool ascending;
} top_keys[] = {
	{ "id", 'i', offsetof(struct heap_row, id), true },
	{ "pid", 0, offsetof(struct heap_row, pid), true },
	{ "objects", 'o', offsetof(struct heap_row, objects), false },
	{ "in_use", 'u', offsetof(struct heap_row, in_use), false },
	{ "held", 'h', offsetof(struct heap_row, held), false },
	{ "limit", 0, offsetof(struct heap_row, limit), false },
	{ "coll", 'c', offsetof(struct heap_row, collections), false },
	{ "pause", 'p', offsetof(struct heap_row, longest_ns), false },
	{ "lost", 'l', offsetof(struct heap_row, lost), false },
};

/*
 * struct top_opts - What top was asked.
 * @sort: The order of the lines.
 * @interval: Seconds between refreshes (-d).
 * @count: Refreshes before exiting (-n), 0 for no bound.
 * @plain: Plain output (-o, or stdout is no terminal).
 * @human: Sizes in K, M, G and pauses in ms (always on a terminal; -H).
 */
struct top_opts {
	const struct top_key *sort;
	double interval;
	unsigned long count;
	bool plain;
	bool human;
};

static const struct top_key *top_sort_key;

static int top_compare(const void *a, const void *b)
{
	const struct heap_row *ra = a, *rb = b;
	unsigned long long va, vb;

	va = row_value(ra, top_sort_key->offset);
	vb = row_value(rb, top_sort_key->offset);
	if (va != vb)
		return (va < vb) == top_sort_key->ascending ? -1 : 1;
	/* Ties in id order, so that the output is the same every time. */
	return ra->id < rb->id ? -1 : ra->id > rb->id;
}

static void top_sort(struct heap_table *t, const struct top_key *key)
{
	top_sort_key = key;
	if (t->nr)
		qsort(t->rows, t->nr, sizeof(t->rows[0]), top_compare);
}

/* A number as top shows it: raw, or with -H (and on a terminal) in K/M/G. */
static const char *top_size(char *buf, size_t len, unsigned long long v,
			    bool human)
{
	if (human)
		return human_size(buf, len, v);
	snprintf(buf, len, "%llu", v);
	return buf;
}

static const char *top_pause(char *buf, size_t len, unsigned long long ns,
			     bool human)
{
	if (human)
		snprintf(buf, len, "%.1f", ns / 1e6);
	else
		snprintf(buf, len, "%llu", ns);
	return buf;
}

/*
 * The columns' widths; sizes and pauses are wider in raw numbers.  A
 * value wider than its column still has a blank before the next one.
 */
#define TOP_CGROUP_W	16
#define TOP_HEADER	"%5s %7s %-8s %-16s %3s %8s %*s %*s %*s %5s %4s %4s %5s %*s %4s %s"

static void top_header(char *buf, size_t len, bool human)
{
	int sw = human ? 7 : 10, pw = human ? 8 : 10;

	snprintf(buf, len, TOP_HEADER, "ID", "PID", "USER", "CGROUP", "ATT",
		 "OBJECTS", sw, "IN_USE", sw, "HELD", sw, "LIMIT", "GEN0", "GEN1",
		 "GEN2", "COLL", pw, "MAXPAUSE", "LOST", "COMMAND");
}

/*
 * top_row() - Format one heap's line into @buf.  In plain output the
 * user and cgroup are whole, with blanks escaped, so that every column
 * but the last (the command, which may hold spaces) is one field.
 */
static void top_row(char *buf, size_t len, const struct heap_row *r, bool human,
		    bool plain)
{
	char user[64], cg[PATH_MAX], comm[sizeof(r->comm) * 4];
	char in_use[24], held[24], limit[24], pause[24];
	int sw = human ? 7 : 10, pw = human ? 8 : 10;
	const char *name;
	size_t n;

	name = user_name(r->uid);
	if (name)
		escape_text(user, sizeof(user), name, " ");
	else
		snprintf(user, sizeof(user), "%llu", r->uid);
	name = cgroup_name(r->cgroup);
	if (name)
		escape_text(cg, sizeof(cg), name, " ");
	else
		snprintf(cg, sizeof(cg), "%llu", r->cgroup);
	/* On a terminal a long path keeps its end, the cgroup's own name. */
	n = strlen(cg);
	if (!plain && n > TOP_CGROUP_W) {
		memmove(cg + 2, cg + n - (TOP_CGROUP_W - 2), TOP_CGROUP_W - 1);
		cg[0] = '.';
		cg[1] = '.';
	}
	escape_text(comm, sizeof(comm), r->comm, "");
	snprintf(buf, len,
		 "%5llu %7llu %-8s %-16s %3llu %8llu %*s %*s %*s %5llu %4llu %4llu %5llu %*s %4llu %s",
		 r->id, r->pid, user, cg, r->attach, r->objects,
		 sw, top_size(in_use, sizeof(in_use), r->in_use, human),
		 sw, top_size(held, sizeof(held), r->held, human),
		 sw, top_size(limit, sizeof(limit), r->limit, human),
		 r->gen0, r->gen1, r->gen2, r->collections,
		 pw, top_pause(pause, sizeof(pause), r->longest_ns, human), r->lost, comm);
}

/* The first line of top, totals of every heap listed: raw in plain output. */
static void top_totals(char *buf, size_t len, const struct heap_table *t,
		       bool human)
{
	unsigned long long in_use = 0, held = 0, objects = 0;
	char a[24], b[24];
	size_t i;

	for (i = 0; i < t->nr; i++) {
		in_use += t->rows[i].in_use;
		held += t->rows[i].held;
		objects += t->rows[i].objects;
	}
	snprintf(buf, len, "heaps %zu in_use %s held %s objects %llu", t->nr,
		 top_size(a, sizeof(a), in_use, human),
		 top_size(b, sizeof(b), held, human), objects);
}

/* One snapshot in plain output: the totals, the column names, the rows. */
static void top_print_plain(const struct heap_table *t, bool human)
{
	char line[PATH_MAX + 512];
	size_t i;

	top_totals(line, sizeof(line), t, false);
	printf("%s\n", line);
	top_header(line, sizeof(line), human);
	printf("%s\n", line);
	for (i = 0; i < t->nr; i++) {
		top_row(line, sizeof(line), &t->rows[i], human, true);
		printf("%s\n", line);
	}
}

/* Write @s cut at @width columns (bytes), then clear to the line's end. */
static void term_line(const char *s, unsigned int width)
{
	size_t n = strlen(s);

	fwrite(s, 1, n < width ? n : width, stdout);
	fputs("\033[K\n", stdout);
}

/* One frame on the terminal, drawn over the last. */
static void top_draw(const struct heap_table *t, const struct top_opts *o,
		     bool keys)
{
	unsigned int width = 80, height = 24, shown, i;
	char line[PATH_MAX + 512], when[16];
	struct winsize ws;
	time_t now = time(NULL);

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col && ws.ws_row) {
		width = ws.ws_col;
		height = ws.ws_row;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	fputs("\033[H", stdout);
	snprintf(line, sizeof(line), "objheapctl top - %s, every %gs, by %s%s", when,
		 o->interval, o->sort->name,
		 keys ? " (q: quit; h u o p c l i: sort)" : "");
	term_line(line, width);
	top_totals(line, sizeof(line), t, true);
	term_line(line, width);
	term_line("", width);
	top_header(line, sizeof(line), true);
	fputs("\033[7m", stdout);
	term_line(line, width);
	fputs("\033[m", stdout);
	/* Four lines above, one left free below for the cursor. */
	shown = height > 5 ? height - 5 : 0;
	if (t->nr > shown && shown)
		shown--;
	for (i = 0; i < t->nr && i < shown; i++) {
		top_row(line, sizeof(line), &t->rows[i], true, false);
		term_line(line, width);
	}
	if (i < t->nr) {
		snprintf(line, sizeof(line), "... %zu more", t->nr - i);
		term_line(line, width);
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

/*
 * top_wait() - Wait @secs seconds for a key on stdin, when @keys.
 *
 * Return: 0 when the time is up, the key, -1 on SIGINT, SIGTERM or
 * SIGHUP, or 'R' when the window changed size (draw again).
 */
static int top_wait(double secs, bool keys)
{
	struct timespec now, end;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	long long ms;
	char c;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)secs;
	end.tv_nsec += (long)((secs - (time_t)secs) * 1e9);
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	for (;;) {
		if (stop_signal)
			return -1;
		if (winch_signal) {
			winch_signal = 0;
			return 'R';
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000LL +
		     (end.tv_nsec - now.tv_nsec + 999999) / 1000000;
		if (ms <= 0)
			return 0;
		n = poll(&pfd, keys ? 1 : 0, ms > INT_MAX ? INT_MAX : (int)ms);
		if (n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pfd.revents & POLLIN))
			keys = false;	/* stdin is gone: no more keys */
		if (n > 0 && (pfd.revents & POLLIN)) {
			n = read(STDIN_FILENO, &c, 1);
			if (n == 1)
				return (unsigned char)c;
			if (n == 0)
				keys = false;
		}
	}
}

/* Refresh in place until q, a signal or -n; the terminal is restored. */
static int top_terminal(const struct top_opts *opts)
{
	struct top_opts o = *opts;
	struct heap_table t = { 0 };
	unsigned long refreshes = 0;
	bool keys, reread = true;
	int ret = 0, key;
	size_t i;

	keys = isatty(STDIN_FILENO) && !term_raw();
	set_handler(SIGINT, on_stop_signal);
	set_handler(SIGTERM, on_stop_signal);
	set_handler(SIGHUP, on_stop_signal);
	set_handler(SIGQUIT, on_stop_signal);
	set_handler(SIGWINCH, on_winch);
	if (keys)
		set_handler(SIGTSTP, on_tstp);
	fputs("\033[H\033[2J", stdout);
	for (;;) {
		if (reread) {
			heap_table_free(&t);
			if (heap_table_read(&t, false)) {
				ret = 1;
				break;
			}
			cgroup_resolve(&t);
			refreshes++;
		}
		top_sort(&t, o.sort);
		top_draw(&t, &o, keys);
		if (o.count && refreshes >= o.count)
			break;
		key = top_wait(o.interval, keys);
		if (key < 0 || key == 'q' || key == 'Q')
			break;
		reread = !key;
		for (i = 0; i < ARRAY_SIZE(top_keys); i++)
			if (key && key == top_keys[i].key)
				o.sort = &top_keys[i];
	}
	term_restore();
	heap_table_free(&t);
	fflush(stdout);
	return ret;
}

/* Print @count snapshots (default one) without escapes, for scripts. */
static int top_plain(const struct top_opts *o)
{
	unsigned long count = o->count ? o->count : 1, i;
	struct heap_table t;
	struct timespec ts;

	for (i = 0; i < count; i++) {
		if (i) {
			ts.tv_sec = (time_t)o->interval;
			ts.tv_nsec = (long)((o->interval - ts.tv_sec) * 1e9);
			fflush(stdout);
			nanosleep(&ts, NULL);
			printf("\n");
		}
		if (heap_table_read(&t, false))
			return 1;
		cgroup_resolve(&t);
		top_sort(&t, o->sort);
		top_print_plain(&t, o->human);
		heap_table_free(&t);
	}
	return fflush(stdout) ? 1 : 0;
}

static int top_usage(const char *why)
{
	fprintf(stderr, "objheapctl top: %s\n"
		"usage: objheapctl top [-o] [-H] [-s KEY] [-d SECONDS] [-n COUNT]\n"
		"KEY: id pid objects in_use held limit coll pause lost\n", why);
	return 2;
}

static int do_top(int argc, char **argv)
{
	struct top_opts o = { .interval = 2 };
	unsigned long long n;
	char why[128];
	size_t i;
	int c;

	o.sort = &top_keys[4];	/* held */
	opterr = 0;
	while ((c = getopt(argc, argv, "+oHs:d:n:")) != -1) {
		switch (c) {
		case 'o':
			o.plain = true;
			break;
		case 'H':
			o.human = true;
			break;
		case 's':
			for (i = 0; i < ARRAY_SIZE(top_keys); i++)
				if (!strcmp(optarg, top_keys[i].name))
					break;
			if (i == ARRAY_SIZE(top_keys)) {
				snprintf(why, sizeof(why), "no sort key %s", optarg);
				return top_usage(why);
			}
			o.sort = &top_keys[i];
			break;
		case 'd':
			if (parse_duration(optarg, &o.interval))
				return top_usage("-d: a duration, such as 2, 0.5 or 500ms");
			break;
		case 'n':
			if (parse_ull(optarg, &n) || !n || n > ULONG_MAX)
				return top_usage("-n: a count of 1 or more");
			o.count = n;
			break;
		default:
			snprintf(why, sizeof(why), "bad option -%c", optopt);
			return top_usage(why);
		}
	}
	if (optind != argc)
		return top_usage("too many arguments");
	if (!o.plain && !isatty(STDOUT_FILENO))
		o.plain = true;
	return o.plain ? top_plain(&o) : top_terminal(&o);
}

/*
 * objheapctl show HEAP: one heap in full.  The /proc/objheap line first;
 * then, through a copy of a descriptor of the heap taken from a process
 * that holds one (pidfd_getfd(), which needs the right to ptrace it),
 * what only the heap's own commands tell: its holder's attachment, the
 * collector per generation and the allocator's table.  Only commands
 * that change nothing are issued on that descriptor, and its file's
 * flags are left alone (objheap_from_fd() would make it O_NONBLOCK for
 * every process sharing it).
 */

/* The generic syscall table's numbers, x86_64 and i386 included. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd	438
#endif

static struct heap_row *heap_table_find(struct heap_table *t,
					unsigned long long id)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->rows[i].id == id)
			return &t->rows[i];
	return NULL;
}

/* The value of fdinfo key @key ("objheap-heap:") in @text, or -1. */
static int fdinfo_value(const char *text, const char *key,
			unsigned long long *v)
{
	size_t klen = strlen(key);
	char num[24];
	size_t n;

	for (; text; text = strchr(text, '\n')) {
		if (*text == '\n')
			text++;
		if (strncmp(text, key, klen))
			continue;
		text += klen;
		text += strspn(text, " \t");
		n = strspn(text, "0123456789");
		if (!n || n >= sizeof(num))
			return -1;
		memcpy(num, text, n);
		num[n] = '\0';
		return parse_ull(num, v);
	}
	return -1;
}

/*
 * fdinfo_heap() - Which heap, and which attachment of it, descriptor
 * @fd of process @pid ("self" for objheapctl) is.
 *
 * Return: 0, or -errno (-ENOENT: not an objheap file).
 */
static int fdinfo_heap(const char *pid, int fd, unsigned long long *heap,
		       unsigned long long *att)
{
	char path[64], *text;
	int ret;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%d", pid, fd);
	ret = read_whole(path, &text);
	if (ret)
		return ret;
	if (fdinfo_value(text, "objheap-heap:", heap))
		ret = -ENOENT;
	else if (fdinfo_value(text, "objheap-attachment:", att))
		*att = 0;
	free(text);
	return ret;
}

/*
 * struct heap_grab - The search for a descriptor of a heap.
 * @id: The heap.
 * @fd: objheapctl's copy of the descriptor, once found; -1 until then.
 * @pid: The process it was copied from.
 * @holder_fd: Its number there.
 * @att: Its attachment's id (from fdinfo).
 * @err: The last reason a copy could not be taken (-errno), 0 if none.
 * @err_pid: The process @err is about.
 * @unreadable: Some process's descriptors could not be listed (EACCES):
 *              it may hold the heap.
 * @seen: Descriptors of the heap found, copied or not.
 */
struct heap_grab {
	unsigned long long id;
	int fd;
	pid_t pid;
	int holder_fd;
	unsigned long long att;
	int err;
	pid_t err_pid;
	bool unreadable;
	unsigned int seen;
};

/* Take a copy of descriptor @fd of process @pid, if it is still the heap. */
static bool grab_fd(struct heap_grab *g, pid_t pid, int fd,
		    unsigned long long att)
{
	unsigned long long heap, att2;
	int pidfd, copy;

	g->seen++;
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		if (errno != ESRCH) {	/* ESRCH: it has just exited */
			g->err = -errno;
			g->err_pid = pid;
		}
		return false;
	}
	copy = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0) {
		if (errno != EBADF && errno != ESRCH) {	/* closed, exited */
			g->err = -errno;
			g->err_pid = pid;
		}
		close(pidfd);
		return false;
	}
	close(pidfd);
	/* The number may have been closed and reused since fdinfo was read. */
	if (fdinfo_heap("self", copy, &heap, &att2) || heap != g->id) {
		close(copy);
		return false;
	}
	g->fd = copy;
	g->pid = pid;
	g->holder_fd = fd;
	g->att = att2 ? att2 : att;
	return true;
}

/* Look through the descriptors of process @pid for the heap. */
static bool grab_from_pid(struct heap_grab *g, pid_t pid)
{
	unsigned long long heap, att;
	char path[64], spid[24];
	struct dirent *de;
	unsigned long long fd;
	DIR *dir;
	int ret;

	snprintf(spid, sizeof(spid), "%d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%s/fdinfo", spid);
	dir = opendir(path);
	if (!dir) {
		if (errno == EACCES || errno == EPERM)
			g->unreadable = true;
		return false;
	}
	while ((de = readdir(dir))) {
		if (parse_ull(de->d_name, &fd) || fd > INT_MAX)
			continue;
		ret = fdinfo_heap(spid, (int)fd, &heap, &att);
		if (ret == -EACCES || ret == -EPERM)
			g->unreadable = true;
		if (ret || heap != g->id)
			continue;
		if (grab_fd(g, pid, (int)fd, att))
			break;
	}
	closedir(dir);
	return g->fd >= 0;
}

/*
 * grab_heap() - A copy of a descriptor of heap @g->id: from @owner (the
 * heap's creator, 0 when unknown) first, else from any process.
 */
static bool grab_heap(struct heap_grab *g, pid_t owner)
{
	unsigned long long pid;
	struct dirent *de;
	DIR *dir;

	if (owner > 0 && grab_from_pid(g, owner))
		return true;
	dir = opendir("/proc");
	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		if (parse_ull(de->d_name, &pid) || !pid || pid > INT_MAX ||
		    (pid_t)pid == owner || (pid_t)pid == getpid())
			continue;
		if (grab_from_pid(g, (pid_t)pid))
			break;
	}
	closedir(dir);
	return g->fd >= 0;
}

/* Why no descriptor of the heap could be had, on stderr. */
static void grab_failed(const struct heap_grab *g)
{
	static const char ptrace_rights[] =
		"objheapctl: show needs the right to ptrace a process holding the heap:\n"
		"objheapctl: root, or the same user with kernel.yama.ptrace_scope 0\n";

	fprintf(stderr, "objheapctl: heap %llu: ", g->id);
	if (g->err == -ENOSYS) {
		fprintf(stderr, "pidfd_getfd(): %s (Linux 5.6 or later has it)\n",
			strerror(ENOSYS));
	} else if (g->err) {
		fprintf(stderr, "no copy of pid %d's descriptor: %s\n",
			(int)g->err_pid, strerror(-g->err));
		if (g->err == -EPERM)
			fputs(ptrace_rights, stderr);
	} else if (g->unreadable) {
		fprintf(stderr, "none of the processes it could look into holds it\n");
		fputs(ptrace_rights, stderr);
	} else {
		fprintf(stderr, "no process has a descriptor of it%s\n",
			" (a mapping, or a descriptor in flight, may hold it)");
	}
}

/* A size as "16775168 (16.0M)": the raw number first, for scripts. */
static void show_size(const char *key, unsigned long long v)
{
	char buf[24];

	printf("%-15s%llu (%s)\n", key, v, human_size(buf, sizeof(buf), v));
}

/* The heap's /proc/objheap line, a key and a value a line. */
static void show_row(const struct heap_row *r)
{
	char text[PATH_MAX];
	const char *name;

	printf("%-15s%llu\n", "heap:", r->id);
	printf("%-15s%s\n", "command:", escape_text(text, sizeof(text), r->comm, ""));
	printf("%-15s%llu%s\n", "pid:", r->pid,
	       r->pid ? "" : " (exited, or not in this pid namespace)");
	name = user_name(r->uid);
	if (name)
		printf("%-15s%llu (%s)\n", "uid:", r->uid,
		       escape_text(text, sizeof(text), name, ""));
	else
		printf("%-15s%llu\n", "uid:", r->uid);
	name = cgroup_name(r->cgroup);
	if (name)
		printf("%-15s%llu (%s)\n", "cgroup:", r->cgroup,
		       escape_text(text, sizeof(text), name, ""));
	else
		printf("%-15s%llu\n", "cgroup:", r->cgroup);
	printf("%-15s%llu\n", "attachments:", r->attach);
	printf("%-15s%llu\n", "objects:", r->objects);
	show_size("in_use:", r->in_use);
	show_size("held:", r->held);
	show_size("limit:", r->limit);
	printf("%-15s%llu %llu %llu\n", "tracked:", r->gen0, r->gen1, r->gen2);
	printf("%-15s%llu\n", "collections:", r->collections);
	printf("%-15s%llu ns (%.1f ms)\n", "longest_pause:", r->longest_ns,
	       r->longest_ns / 1e6);
	printf("%-15s%llu\n", "lost:", r->lost);
}

/* One tag of show's table: the figures of its pairs added up. */
struct tag_total {
	unsigned long long tag, count, bytes;
};

static int tag_cmp(const void *a, const void *b)
{
	const struct tag_total *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return 0;
}

static int tag_bytes_cmp(const void *a, const void *b)
{
	const struct tag_total *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return tag_cmp(a, b);
}

#define SHOW_TAGS	10

/*
 * show_top_tags() - The heap's allocation tags that hold the most bytes,
 * when the heap traces its allocations (Documentation/troubleshooting.rst,
 * "Tracing allocations"); read-only commands on @fd.  A heap that does
 * not trace gets one line that says so.
 */
static void show_top_tags(int fd)
{
	struct objheap_trace_ctl ctl = { .size = sizeof(ctl) };
	struct objheap_trace_row rows[256];
	struct objheap_trace_rows cmd;
	struct tag_total *tags = NULL, *grown;
	size_t n = 0, cap = 0, i, j;
	uint32_t start = 0;

	if (ioctl(fd, OBJHEAP_TRACE_CTL, &ctl)) {
		printf("allocation tracing: %s\n\n", errno == ENOTTY ?
		       "not in this module" : strerror(errno));
		return;
	}
	if (!ctl.out_sample_every) {
		printf("allocation tracing: off\n\n");
		return;
	}
	do {
		memset(&cmd, 0, sizeof(cmd));
		cmd.size = sizeof(cmd);
		cmd.start = start;
		cmd.nrows = sizeof(rows) / sizeof(rows[0]);
		cmd.rows_uptr = (uintptr_t)rows;
		if (ioctl(fd, OBJHEAP_TRACE_ROWS, &cmd))
			goto out;
		if (n + cmd.out_nrows > cap) {
			cap = 2 * (n + cmd.out_nrows);
			grown = realloc(tags, cap * sizeof(*tags));
			if (!grown)
				goto out;
			tags = grown;
		}
		for (i = 0; i < cmd.out_nrows; i++) {
			tags[n].tag = rows[i].tag;
			tags[n].count = rows[i].count;
			tags[n++].bytes = rows[i].bytes;
		}
		start = cmd.out_next;
	} while (cmd.out_nrows && start < cmd.out_pairs);

	/* Pairs of one tag, of several types, become one row. */
	if (n)
		qsort(tags, n, sizeof(*tags), tag_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (j && tags[j - 1].tag == tags[i].tag) {
			tags[j - 1].count += tags[i].count;
			tags[j - 1].bytes += tags[i].bytes;
		} else {
			tags[j++] = tags[i];
		}
	}
	n = j;
	if (n)
		qsort(tags, n, sizeof(*tags), tag_bytes_cmp);
	if (ctl.out_sample_every > 1)
		printf("allocation tracing: one object in %u (multiply by it for estimates)\n",
		       ctl.out_sample_every);
	else
		printf("allocation tracing: every object\n");
	printf("%llu bytes traced in %llu objects, peak %llu bytes; %u pairs\n",
	       (unsigned long long)ctl.out_traced_bytes,
	       (unsigned long long)ctl.out_traced_objects,
	       (unsigned long long)ctl.out_peak_bytes, ctl.out_pairs);
	printf("\n%-20s %12s %14s\n", "tag", "objects", "bytes");
	for (i = 0; i < n && i < SHOW_TAGS; i++)
		printf("%#-20llx %12llu %14llu\n", tags[i].tag, tags[i].count,
		       tags[i].bytes);
	if (n > SHOW_TAGS)
		printf("(%zu tags more)\n", n - SHOW_TAGS);
	printf("\n");
	free(tags);
	return;
out:
	printf("allocation tracing: %s\n\n", strerror(errno ? errno : ENOMEM));
	free(tags);
}

/*
 * show_heap_fd() - What the heap's own commands tell, through @g's copy
 * of a descriptor: the holder's attachment, the collector per generation,
 * the heap's top allocation tags, the allocator's table.
 *
 * Return: 0 or -errno.
 */
static int show_heap_fd(const struct heap_grab *g)
{
	struct objheap_attach_info ai = { .size = sizeof(ai) };
	struct objheap_gc_threshold th = { .size = sizeof(th) };
	struct objheap_gc_count cnt = { .size = sizeof(cnt) };
	struct objheap_gc_stats gs = { .size = sizeof(gs) };
	unsigned int i;

	printf("%-15spid %d fd %d attachment %llu\n", "holder:", (int)g->pid,
	       g->holder_fd, g->att);
	if (ioctl(g->fd, OBJHEAP_ATTACH_INFO, &ai) ||
	    ioctl(g->fd, OBJHEAP_GC_GET_THRESHOLD, &th) ||
	    ioctl(g->fd, OBJHEAP_GC_GET_COUNT, &cnt) ||
	    ioctl(g->fd, OBJHEAP_GC_GET_STATS, &gs))
		return -errno;
	printf("%-15s%u made by pid %u%s: %llu handles, %llu references, %llu created\n",
	       "attachment:", ai.out_id, ai.out_pid,
	       ai.out_flags & OBJHEAP_ATTACH_READONLY ? ", read-only" : "",
	       (unsigned long long)ai.out_handles, (unsigned long long)ai.out_refs,
	       (unsigned long long)ai.out_created);
	printf("\n%-10s %10s %10s %12s %12s %14s\n", "generation", "count",
	       "threshold", "collections", "collected", "uncollectable");
	for (i = 0; i < OBJHEAP_GC_GENERATIONS; i++)
		printf("%-10u %10u %10u %12llu %12llu %14llu\n", i, cnt.out_count[i],
		       th.out_threshold[i],
		       (unsigned long long)gs.out_gen[i].collections,
		       (unsigned long long)gs.out_gen[i].collected,
		       (unsigned long long)gs.out_gen[i].uncollectable);
	printf("\n");
	show_top_tags(g->fd);
	return print_alloc_stats(g->fd);
}

static int do_show(int argc, char **argv)
{
	struct heap_grab g = { .fd = -1 };
	struct heap_table t;
	struct heap_row *r;
	int ret;

	if (argc != 2 || parse_ull(argv[1], &g.id)) {
		fprintf(stderr, "usage: objheapctl show HEAP\n"
			"HEAP: a heap's id, as objheapctl top shows it\n");
		return 2;
	}
	if (heap_table_read(&t, false))
		return 1;
	r = heap_table_find(&t, g.id);
	if (!r) {
		fprintf(stderr, "objheapctl: heap %llu: not found (or not yours)\n", g.id);
		heap_table_free(&t);
		return 1;
	}
	cgroup_resolve(&t);
	show_row(r);
	printf("\n");
	fflush(stdout);
	ret = grab_heap(&g, r->pid <= INT_MAX ? (pid_t)r->pid : 0);
	heap_table_free(&t);
	if (!ret) {
		grab_failed(&g);
		return 1;
	}
	ret = show_heap_fd(&g);
	close(g.fd);
	if (ret) {
		fprintf(stderr, "objheapctl: heap %llu: %s\n", g.id, strerror(-ret));
		return 1;
	}
	return fflush(stdout) ? 1 : 0;
}

/*
 * objheapctl record HEAP: the heap's line of /proc/objheap every
 * interval, written out as PREFIX.csv and a graph, PREFIX.svg.
 */

/* The columns recorded, in the CSV's order after time_s. */
enum {
	REC_IN_USE, REC_HELD, REC_LIMIT, REC_OBJECTS, REC_GEN0, REC_GEN1,
	REC_GEN2, REC_COLLECTIONS, REC_LONGEST_NS, REC_LOST, REC_NR
};

static const struct heap_col rec_cols[REC_NR] = {
	HEAP_COL(in_use), HEAP_COL(held), HEAP_COL(limit), HEAP_COL(objects),
	HEAP_COL(gen0), HEAP_COL(gen1), HEAP_COL(gen2), HEAP_COL(collections),
	HEAP_COL(longest_ns), HEAP_COL(lost),
};

/* More would take hundreds of megabytes, and no graph could show them. */
#define REC_MAX_SAMPLES	1000000

/* struct rec_sample - One sample: @t seconds after the first; @v the columns. */
struct rec_sample {
	double t;
	unsigned long long v[REC_NR];
};

/*
 * struct recording - What record gathered.
 * @id: The heap.
 * @comm: Its creator's command name, unescaped.
 * @started: When the first sample was taken (wall clock).
 * @interval: Seconds asked between samples.
 * @nr: Samples in @s.
 * @s: The samples, oldest first.
 */
struct recording {
	unsigned long long id;
	char comm[sizeof(((struct heap_row *)0)->comm)];
	time_t started;
	double interval;
	size_t nr;
	struct rec_sample *s;
};

static int rec_write_csv(const struct recording *rec, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i, j;

	if (!f)
		return -errno;
	fputs("time_s", f);
	for (j = 0; j < REC_NR; j++)
		fprintf(f, ",%s", rec_cols[j].name);
	fputc('\n', f);
	for (i = 0; i < rec->nr; i++) {
		fprintf(f, "%.3f", rec->s[i].t);
		for (j = 0; j < REC_NR; j++)
			fprintf(f, ",%llu", rec->s[i].v[j]);
		fputc('\n', f);
	}
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/*
 * utf8_len() - The length of the valid UTF-8 sequence at @s that XML 1.0
 * allows, or 0 when it is not one (a lone byte of another encoding).
 */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates, past U+10FFFF, U+FFFE and U+FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90) ||
	    (s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe))
		return 0;
	return n;
}

/*
 * svg_text() - @s as XML character data or attribute value: the five
 * markup characters as entities; control characters, backslash and bytes
 * that are not UTF-8 as \ooo, as top shows them.
 */
static void svg_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		n = utf8_len(p);
		if (n > 1) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		switch (*p) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if (!n || *p < 0x20 || *p == 0x7f || *p == '\\')
				fprintf(f, "\\%03o", *p);
			else
				fputc(*p, f);
		}
		p++;
	}
}

/* The graph's geometry: four panels, one above the other. */
#define SVG_W		960
#define SVG_LEFT	90
#define SVG_RIGHT	80
#define SVG_TOP		56
#define SVG_LEGEND	24
#define SVG_PLOT_H	140
#define SVG_PANEL	(SVG_LEGEND + SVG_PLOT_H + 30)
#define SVG_H		(SVG_TOP + 4 * SVG_PANEL + 24)
#define SVG_PLOT_W	(SVG_W - SVG_LEFT - SVG_RIGHT)

/*
 * nice_step() - A round step between ticks for about @ticks of them up to
 * @max (> 0): 1, 2 or 5 times a power of ten; for bytes, a power of two.
 */
static double nice_step(double max, int ticks, bool bytes)
{
	double raw = max / ticks, base = 1;

	if (bytes) {
		while (base < raw)
			base *= 2;
		return base;
	}
	while (base * 10 <= raw)
		base *= 10;
	while (base > raw)
		base /= 10;
	if (raw <= base)
		return base;
	if (raw <= 2 * base)
		return 2 * base;
	if (raw <= 5 * base)
		return 5 * base;
	return 10 * base;
}

/* The top of an axis from 0 that holds @max: a whole number of steps. */
static double axis_top(double max, double step)
{
	double n = (double)(unsigned long long)(max / step);

	if (n * step < max)
		n++;
	return n ? n * step : step;
}

/*
 * struct svg_panel - One panel's place and scale.
 * @top: Its plot's top edge.
 * @ymax: The value at that edge (the bottom is 0).
 * @tmax: The time at the right edge (the left is 0).
 */
struct svg_panel {
	double top;
	double ymax;
	double tmax;
};

static double svg_x(const struct svg_panel *p, double t)
{
	return SVG_LEFT + t / p->tmax * SVG_PLOT_W;
}

static double svg_y(const struct svg_panel *p, double v)
{
	return p->top + SVG_PLOT_H - v / p->ymax * SVG_PLOT_H;
}

/* A thin grey grid line. */
static void svg_rule(FILE *f, double x1, double y1, double x2, double y2)
{
	fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n",
		x1, y1, x2, y2);
}

/* Text at (@x, @y), its @anchor "start", "middle" or "end" there. */
static void svg_label(FILE *f, double x, double y, const char *anchor,
		      const char *text)
{
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='%s'>%s</text>\n",
		x, y, anchor, text);
}

/*
 * svg_axes() - A panel's frame, its time grid and its value ticks.
 * @step: Between value ticks.
 * @bytes: Value labels in K, M, G.
 * @right: Only the labels of a second scale, on the right-hand side.
 * @tlabels: Label the time ticks (the bottom panel).
 */
static void svg_axes(FILE *f, const struct svg_panel *p, double step,
		     bool bytes, bool right, bool tlabels)
{
	double v, t, tstep = nice_step(p->tmax, 8, false), x, y;
	char label[32];

	if (!right) {
		fprintf(f, "<rect x='%d' y='%.1f' width='%d' height='%d' %s/>\n",
			SVG_LEFT, p->top, SVG_PLOT_W, SVG_PLOT_H,
			"fill='none' stroke='#888'");
		for (t = 0; t <= p->tmax * 1.000000001; t += tstep) {
			x = svg_x(p, t);
			svg_rule(f, x, p->top, x, p->top + SVG_PLOT_H);
			snprintf(label, sizeof(label), "%g", t);
			if (tlabels)
				svg_label(f, x, p->top + SVG_PLOT_H + 14, "middle", label);
		}
	}
	for (v = 0; v <= p->ymax * 1.000000001; v += step) {
		y = svg_y(p, v);
		if (bytes)
			human_size(label, sizeof(label), (unsigned long long)v);
		else
			snprintf(label, sizeof(label), step >= 1 ? "%.0f" : "%g", v);
		if (right) {
			svg_label(f, SVG_LEFT + SVG_PLOT_W + 6, y + 4, "start", label);
			continue;
		}
		svg_rule(f, SVG_LEFT, y, SVG_LEFT + SVG_PLOT_W, y);
		svg_label(f, SVG_LEFT - 6, y + 4, "end", label);
	}
}

/* One column of the samples as a line; @scale divides its values. */
static void svg_line(FILE *f, const struct recording *rec,
		     const struct svg_panel *p, int col, double scale,
		     const char *color, bool dashed)
{
	size_t i;

	fprintf(f, "<polyline id='series-%s' fill='none' stroke='%s' stroke-width='1.5'%s points='",
		rec_cols[col].name, color, dashed ? " stroke-dasharray='6,4'" : "");
	for (i = 0; i < rec->nr; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", svg_x(p, rec->s[i].t),
			svg_y(p, rec->s[i].v[col] / scale));
	fputs("'/>\n", f);
}

/*
 * svg_legend() - The panel's name, then an entry per series: a short
 * stroke of its colour and its label.  @x is where the next one goes.
 */
static void svg_legend(FILE *f, const struct svg_panel *p, double *x,
		       const char *color, bool dashed, const char *label)
{
	double y = p->top - 8;

	if (!color) {
		fprintf(f, "<text x='%.1f' y='%.1f' font-weight='bold'>%s</text>\n",
			*x, y, label);
		*x += 7.5 * strlen(label) + 16;
		return;
	}
	fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'%s%s/>\n",
		*x, y - 4, *x + 18, y - 4, color, " stroke-width='3'",
		dashed ? " stroke-dasharray='4,3'" : "");
	svg_label(f, *x + 22, y, "start", label);
	*x += 22 + 6.5 * strlen(label) + 16;
}

static unsigned long long rec_max(const struct recording *rec, int col)
{
	unsigned long long max = 0;
	size_t i;

	for (i = 0; i < rec->nr; i++)
		if (rec->s[i].v[col] > max)
			max = rec->s[i].v[col];
	return max;
}

/* Collections in each interval, as bars: one filled outline of steps. */
static void svg_bars(FILE *f, const struct recording *rec,
		     const struct svg_panel *p)
{
	unsigned long long d;
	double y;
	size_t i;

	fprintf(f, "<polyline id='series-collections' fill='#bbb' stroke='#888' points='%.1f,%.1f",
		svg_x(p, 0), svg_y(p, 0));
	for (i = 1; i < rec->nr; i++) {
		d = rec->s[i].v[REC_COLLECTIONS] - rec->s[i - 1].v[REC_COLLECTIONS];
		if (rec->s[i].v[REC_COLLECTIONS] < rec->s[i - 1].v[REC_COLLECTIONS])
			d = 0;
		y = svg_y(p, d);
		fprintf(f, " %.1f,%.1f %.1f,%.1f", svg_x(p, rec->s[i - 1].t), y,
			svg_x(p, rec->s[i].t), y);
	}
	fprintf(f, " %.1f,%.1f'/>\n", svg_x(p, rec->s[rec->nr - 1].t), svg_y(p, 0));
}

/* The largest number of collections in one interval. */
static unsigned long long rec_max_bar(const struct recording *rec)
{
	unsigned long long max = 0, a, b;
	size_t i;

	for (i = 1; i < rec->nr; i++) {
		a = rec->s[i - 1].v[REC_COLLECTIONS];
		b = rec->s[i].v[REC_COLLECTIONS];
		if (b > a && b - a > max)
			max = b - a;
	}
	return max;
}

/*
 * rec_write_svg() - The graph: bytes (in use, held, the limit), objects,
 * the collector's counts, and collections per interval with the longest
 * pause so far, over one time axis.  Every series is a polyline whose id
 * is "series-" and the CSV column's name.
 */
static int rec_write_svg(const struct recording *rec, const char *path)
{
	unsigned long long held_max, limit_max;
	double tmax = rec->s[rec->nr - 1].t, x, step, ms_max, ms_step;
	struct svg_panel p = { .tmax = tmax > 0 ? tmax : 1 };
	bool limit_fits;
	char when[32], label[96], size[24];
	FILE *f;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&rec->started));
	fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
		"<svg xmlns='http://www.w3.org/2000/svg' version='1.1' width='%d' height='%d' viewBox='0 0 %d %d'>\n",
		SVG_W, SVG_H, SVG_W, SVG_H);
	fprintf(f, "<title>objheap heap %llu (", rec->id);
	svg_text(f, rec->comm);
	fprintf(f, "): %.3f s to %.3f s</title>\n", 0.0, tmax);
	fprintf(f, "<rect width='%d' height='%d' fill='white'/>\n", SVG_W, SVG_H);
	fputs("<g font-family='sans-serif' font-size='11' fill='#222'>\n", f);
	fprintf(f, "<text x='%d' y='22' font-size='15' font-weight='bold'>heap %llu (",
		SVG_LEFT, rec->id);
	svg_text(f, rec->comm);
	fprintf(f, "): %.3f s to %.3f s</text>\n", 0.0, tmax);
	snprintf(label, sizeof(label), "%zu samples, every %.3f s asked, from %s; %s",
		 rec->nr, rec->interval, when, "time in seconds");
	svg_label(f, SVG_LEFT, 40, "start", label);

	/* Bytes: in use and held; the limit if it is within twice held. */
	p.top = SVG_TOP + SVG_LEGEND;
	held_max = rec_max(rec, REC_HELD);
	if (rec_max(rec, REC_IN_USE) > held_max)
		held_max = rec_max(rec, REC_IN_USE);
	limit_max = rec_max(rec, REC_LIMIT);
	limit_fits = limit_max <= 2 * held_max;
	x = SVG_LEFT;
	svg_legend(f, &p, &x, NULL, false, "bytes");
	svg_legend(f, &p, &x, "#1f77b4", false, "in_use");
	svg_legend(f, &p, &x, "#ff7f0e", false, "held");
	if (limit_fits) {
		svg_legend(f, &p, &x, "#d62728", true, "limit");
	} else {
		snprintf(label, sizeof(label), "limit %s, off the scale",
			 human_size(size, sizeof(size), limit_max));
		svg_legend(f, &p, &x, "#d62728", true, label);
	}
	if (limit_fits && limit_max > held_max)
		held_max = limit_max;
	step = nice_step(held_max ? held_max : 1, 4, true);
	p.ymax = axis_top(held_max ? held_max : 1, step);
	svg_axes(f, &p, step, true, false, false);
	svg_line(f, rec, &p, REC_IN_USE, 1, "#1f77b4", false);
	svg_line(f, rec, &p, REC_HELD, 1, "#ff7f0e", false);
	if (limit_fits)
		svg_line(f, rec, &p, REC_LIMIT, 1, "#d62728", true);

	/* Objects. */
	p.top += SVG_PANEL;
	x = SVG_LEFT;
	svg_legend(f, &p, &x, NULL, false, "objects");
	svg_legend(f, &p, &x, "#2ca02c", false, "objects");
	step = nice_step(rec_max(rec, REC_OBJECTS) ? rec_max(rec, REC_OBJECTS) : 1, 4, false);
	p.ymax = axis_top(rec_max(rec, REC_OBJECTS), step);
	svg_axes(f, &p, step, false, false, false);
	svg_line(f, rec, &p, REC_OBJECTS, 1, "#2ca02c", false);

	/* The objects the collector tracks, by generation. */
	p.top += SVG_PANEL;
	x = SVG_LEFT;
	svg_legend(f, &p, &x, NULL, false, "tracked");
	svg_legend(f, &p, &x, "#9467bd", false, "gen0");
	svg_legend(f, &p, &x, "#8c564b", false, "gen1");
	svg_legend(f, &p, &x, "#e377c2", false, "gen2");
	held_max = rec_max(rec, REC_GEN0);
	if (rec_max(rec, REC_GEN1) > held_max)
		held_max = rec_max(rec, REC_GEN1);
	if (rec_max(rec, REC_GEN2) > held_max)
		held_max = rec_max(rec, REC_GEN2);
	step = nice_step(held_max ? held_max : 1, 4, false);
	p.ymax = axis_top(held_max, step);
	svg_axes(f, &p, step, false, false, false);
	svg_line(f, rec, &p, REC_GEN0, 1, "#9467bd", false);
	svg_line(f, rec, &p, REC_GEN1, 1, "#8c564b", false);
	svg_line(f, rec, &p, REC_GEN2, 1, "#e377c2", false);

	/* Collections per interval (left axis), longest pause in ms (right). */
	p.top += SVG_PANEL;
	x = SVG_LEFT;
	svg_legend(f, &p, &x, NULL, false, "pauses");
	svg_legend(f, &p, &x, "#888", false, "collections per interval");
	svg_legend(f, &p, &x, "#17becf", false, "longest pause so far, ms (right)");
	if (rec->s[rec->nr - 1].v[REC_LOST]) {
		snprintf(label, sizeof(label), "events lost: %llu",
			 rec->s[rec->nr - 1].v[REC_LOST]);
		svg_legend(f, &p, &x, NULL, false, label);
	}
	step = nice_step(rec_max_bar(rec) ? rec_max_bar(rec) : 1, 4, false);
	if (step < 1)
		step = 1;
	p.ymax = axis_top(rec_max_bar(rec), step);
	svg_axes(f, &p, step, false, false, true);
	svg_bars(f, rec, &p);
	ms_max = rec_max(rec, REC_LONGEST_NS) / 1e6;
	ms_step = nice_step(ms_max > 0 ? ms_max : 1, 4, false);
	p.ymax = axis_top(ms_max, ms_step);
	svg_axes(f, &p, ms_step, false, true, false);
	svg_line(f, rec, &p, REC_LONGEST_NS, 1e6, "#17becf", false);
	fputs("</g>\n</svg>\n", f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

/* Sleep until @ts on the monotonic clock, or a stopping signal. */
static void sleep_until(const struct timespec *ts)
{
	while (!stop_signal &&
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ts, NULL) == EINTR)
		;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) + (a->tv_nsec - b->tv_nsec) / 1e9;
}

static int record_usage(const char *why)
{
	fprintf(stderr, "objheapctl record: %s\n"
		"usage: objheapctl record HEAP [--for DURATION] [--interval DURATION] [-o PREFIX]\n"
		"DURATION: seconds, or a number and s, ms or m: 10s, 500ms, 2m\n", why);
	return 2;
}

/*
 * rec_sample() - Take sample @k of @rec->id from /proc/objheap.
 *
 * Return: 0, -ENOENT when the heap (or the file) is gone, or -1 once a
 * problem has been printed.
 */
static int rec_sample(struct recording *rec, const struct timespec *first)
{
	struct timespec now;
	struct heap_table t;
	struct heap_row *r;
	struct rec_sample *s;
	size_t j;
	int ret;

	ret = heap_table_read(&t, rec->nr > 0);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &now);
	r = heap_table_find(&t, rec->id);
	if (!r) {
		heap_table_free(&t);
		return -ENOENT;
	}
	s = &rec->s[rec->nr++];
	s->t = rec->nr > 1 ? ts_diff(&now, first) : 0;
	for (j = 0; j < REC_NR; j++)
		s->v[j] = row_value(r, rec_cols[j].offset);
	if (rec->nr == 1)
		memcpy(rec->comm, r->comm, sizeof(rec->comm));
	heap_table_free(&t);
	return 0;
}

static int do_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "for", required_argument, NULL, 'f' },
		{ "interval", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct recording rec = { .interval = 0.2 };
	char *prefix = NULL, *csv = NULL, *svg = NULL, why[128], base[32];
	struct timespec first, next;
	double duration = 10, offset;
	size_t count, k;
	int c, ret, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_duration(optarg, &duration))
				return record_usage("--for: not a duration of 1ms or more");
			break;
		case 'i':
			if (parse_duration(optarg, &rec.interval))
				return record_usage("--interval: not a duration of 1ms or more");
			break;
		case 'o':
			if (!*optarg)
				return record_usage("-o: an empty prefix");
			prefix = optarg;
			break;
		default:
			snprintf(why, sizeof(why), "bad option %s", argv[optind - 1]);
			return record_usage(why);
		}
	}
	if (optind != argc - 1 || parse_ull(argv[optind], &rec.id))
		return record_usage("one heap id is needed");
	if (rec.interval > duration)
		return record_usage("--interval is longer than --for: fewer than two samples");
	if (duration / rec.interval >= REC_MAX_SAMPLES)
		return record_usage("more than a million samples: a longer --interval, please");
	count = (size_t)(duration / rec.interval * 1.000000001) + 1;

	if (!prefix) {
		snprintf(base, sizeof(base), "objheap-%llu", rec.id);
		prefix = base;
	}
	csv = malloc(strlen(prefix) + 5);
	svg = malloc(strlen(prefix) + 5);
	rec.s = calloc(count, sizeof(*rec.s));
	if (!csv || !svg || !rec.s) {
		fprintf(stderr, "objheapctl: %s\n", strerror(ENOMEM));
		status = 1;
		goto out;
	}
	sprintf(csv, "%s.csv", prefix);
	sprintf(svg, "%s.svg", prefix);
	set_handler(SIGINT, on_stop_signal);
	set_handler(SIGTERM, on_stop_signal);

	clock_gettime(CLOCK_MONOTONIC, &first);
	rec.started = time(NULL);
	for (k = 0; k < count && !stop_signal; k++) {
		if (k) {
			offset = k * rec.interval;
			next = first;
			next.tv_sec += (time_t)offset;
			next.tv_nsec += (long)((offset - (time_t)offset) * 1e9);
			if (next.tv_nsec >= 1000000000) {
				next.tv_sec++;
				next.tv_nsec -= 1000000000;
			}
			sleep_until(&next);
			if (stop_signal)
				break;
		}
		ret = rec_sample(&rec, &first);
		if (ret == -ENOENT && !rec.nr) {
			fprintf(stderr, "objheapctl: heap %llu: not found (or not yours)\n",
				rec.id);
			status = 1;
			goto out;
		}
		if (ret == -ENOENT) {
			fprintf(stderr, "objheapctl: heap %llu is gone after %.3f s\n",
				rec.id, rec.s[rec.nr - 1].t);
			break;
		}
		if (ret) {
			status = 1;
			if (!rec.nr)
				goto out;
			break;
		}
	}
	if (stop_signal)
		fprintf(stderr, "objheapctl: stopped by a signal after %zu sample%s\n",
			rec.nr, rec.nr == 1 ? "" : "s");

	ret = rec_write_csv(&rec, csv);
	if (ret) {
		fprintf(stderr, "objheapctl: %s: %s\n", csv, strerror(-ret));
		status = 1;
		goto out;
	}
	ret = rec_write_svg(&rec, svg);
	if (ret) {
		fprintf(stderr, "objheapctl: %s: %s\n", svg, strerror(-ret));
		status = 1;
		goto out;
	}
	fprintf(stderr, "objheapctl: %zu sample%s of heap %llu over %.3f s: %s, %s\n",
		rec.nr, rec.nr == 1 ? "" : "s", rec.id, rec.s[rec.nr - 1].t, csv, svg);
	if (rec.nr < 2) {
		fprintf(stderr, "objheapctl: heap %llu: fewer than two samples\n", rec.id);
		status = 1;
	}
out:
	free(rec.s);
	free(csv);
	free(svg);
	return status;
}

/*
 * with_new_heap() - Run @fn, query or stats, on a heap opened for it.
 *
 * Return: the exit status: 0, or 1 with a message when the heap cannot
 * be opened or a command on it fails.
 */
static int with_new_heap(int (*fn)(struct objheap *heap))
{
	struct objheap *heap = NULL;
	int ret;

	ret = objheap_open(&heap);
	if (!ret)
		ret = fn(heap);
	objheap_close(heap);
	if (ret) {
		fprintf(stderr, "objheapctl: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}

static int usage_error(void)
{
	fprintf(stderr,
		"usage: objheapctl query\n"
		"       objheapctl stats\n"
		"       objheapctl top [-o] [-H] [-s KEY] [-d SECONDS] [-n COUNT]\n"
		"       objheapctl show HEAP\n"
		"       objheapctl record HEAP [--for DURATION] [--interval DURATION] [-o PREFIX]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error();
	if (!strcmp(argv[1], "query"))
		return argc == 2 ? with_new_heap(do_query) : usage_error();
	if (!strcmp(argv[1], "stats"))
		return argc == 2 ? with_new_heap(do_stats) : usage_error();
	if (!strcmp(argv[1], "top"))
		return do_top(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return do_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "record"))
		return do_record(argc - 1, argv + 1);
	return usage_error();
}
