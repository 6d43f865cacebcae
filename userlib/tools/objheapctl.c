// SPDX-License-Identifier: MIT
/*
 * objheapctl: command-line view of objheap.
 *
 *   objheapctl query     the running kernel, the module's version, its
 *                        uapi version, commands and features
 *   objheapctl stats     the allocator's statistics of a new heap, like
 *                        CPython's sys._debugmallocstats(); with the
 *                        test-only interface, after a sample workload
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

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
	fprintf(stderr, "usage: objheapctl query|stats\n");
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
	return usage_error();
}
