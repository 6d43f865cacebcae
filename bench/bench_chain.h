/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A large live graph for the collector's benchmarks: @n two-slot objects
 * in a chain, each holding the one made before it, held by the handle of
 * the last.  Made in batches of 256 creations through @b, which must have
 * room for 512 entries.  Returns the head's handle, or 0 when a batch
 * failed.
 */
#ifndef __OBJHEAP_BENCH_CHAIN_H
#define __OBJHEAP_BENCH_CHAIN_H

#include <libobjheap.h>

static inline uint64_t bench_chain(struct objheap *heap,
				   struct objheap_batch_buf *b, uint32_t n)
{
	static uint64_t slot[256][2];
	uint64_t head = 0;
	uint32_t done, i, k;
	int last = -1;

	for (done = 0; done < n; done += k) {
		k = n - done < 256 ? n - done : 256;
		objheap_batch_reset(b);
		for (i = 0; i < k; i++) {
			slot[i][0] = i ? OBJHEAP_BATCH_REF(last) : head;
			last = objheap_batch_new(b, 1, 0, 2, NULL, 0,
						 slot[i][0] ? slot[i] : NULL);
			if (slot[i][0])
				objheap_batch_release(b, slot[i][0]);
		}
		if (objheap_batch_submit(heap, b, 0))
			return 0;
		head = objheap_batch_handle(b, last);
	}
	return head;
}

#endif /* __OBJHEAP_BENCH_CHAIN_H */
