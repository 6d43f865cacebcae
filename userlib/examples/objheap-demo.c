// SPDX-License-Identifier: MIT
/*
 * objheap-demo: what `make run` shows.  Opens a heap and reports what the
 * module supports.
 */
#include <stdio.h>
#include <string.h>

#include <libobjheap.h>

int main(void)
{
	struct objheap_query q;
	struct objheap *heap;
	int ret;

	ret = objheap_open(&heap);
	if (ret) {
		fprintf(stderr, "objheap_open: %s\n", strerror(-ret));
		return 1;
	}
	ret = objheap_query(heap, 0, &q);
	if (ret) {
		fprintf(stderr, "objheap_query: %s\n", strerror(-ret));
		objheap_close(heap);
		return 1;
	}
	printf("objheap uapi version %u, commands %#llx, features %#llx\n",
	       q.out_version, (unsigned long long)q.out_cmds,
	       (unsigned long long)q.out_features);
	objheap_close(heap);
	return 0;
}
