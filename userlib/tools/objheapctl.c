// SPDX-License-Identifier: MIT
/*
 * objheapctl: command-line view of objheap.
 *
 *   objheapctl query     the module's uapi version, commands and features
 */
#include <stdio.h>
#include <string.h>

#include <libobjheap.h>

static const char *const cmd_names[] = {
	[OBJHEAP_CMD_QUERY - OBJHEAP_CMD_BASE] = "query",
	[63] = "test",
};

static int do_query(struct objheap *heap)
{
	struct objheap_query q, c;
	unsigned int i;
	int ret;

	ret = objheap_query(heap, 0, &q);
	if (ret)
		return ret;
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
		       i < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[i] ?
		       cmd_names[i] : "?", c.out_cmd_size, c.out_cmd_flags);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct objheap *heap;
	int ret;

	if (argc != 2 || strcmp(argv[1], "query")) {
		fprintf(stderr, "usage: objheapctl query\n");
		return 2;
	}
	ret = objheap_open(&heap);
	if (!ret)
		ret = do_query(heap);
	objheap_close(heap);
	if (ret) {
		fprintf(stderr, "objheapctl: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
