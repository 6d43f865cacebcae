// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libobjheap: tracing allocations, after CPython's tracemalloc.  The
 * kernel counts objects and bytes per (tag, type) pair and keeps
 * snapshots of those counts; grouping, filtering and sorting the rows it
 * hands out are done here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libobjheap.h"
#include "lib.h"

static int trace_ctl(struct objheap *heap, uint32_t op, uint32_t sample_every,
		     struct objheap_trace_ctl *out)
{
	struct objheap_trace_ctl cmd = {
		.size = sizeof(cmd),
		.op = op,
		.sample_every = sample_every,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_TRACE_CTL, &cmd);

	if (!ret && out)
		*out = cmd;
	return ret;
}

OBJHEAP_API int objheap_trace_start(struct objheap *heap, uint32_t sample_every)
{
	return trace_ctl(heap, OBJHEAP_TRACE_START, sample_every, NULL);
}

OBJHEAP_API int objheap_trace_stop(struct objheap *heap)
{
	return trace_ctl(heap, OBJHEAP_TRACE_STOP, 0, NULL);
}

OBJHEAP_API int objheap_trace_reset_peak(struct objheap *heap)
{
	return trace_ctl(heap, OBJHEAP_TRACE_RESET_PEAK, 0, NULL);
}

OBJHEAP_API int objheap_trace_get(struct objheap *heap,
				  struct objheap_trace_ctl *out)
{
	if (!out)
		return -EINVAL;
	return trace_ctl(heap, OBJHEAP_TRACE_GET, 0, out);
}

OBJHEAP_API int objheap_get_traced_memory(struct objheap *heap,
					  uint64_t *current, uint64_t *peak)
{
	struct objheap_trace_ctl ctl;
	int ret = trace_ctl(heap, OBJHEAP_TRACE_GET, 0, &ctl);

	if (ret)
		return ret;
	if (current)
		*current = ctl.out_traced_bytes;
	if (peak)
		*peak = ctl.out_peak_bytes;
	return 0;
}

OBJHEAP_API int objheap_trace_tag(struct objheap *heap, uint64_t handle,
				  uint64_t *tagp, uint32_t *typep,
				  uint32_t *attachp)
{
	struct objheap_trace_tag cmd = {
		.size = sizeof(cmd),
		.handle = handle,
	};
	int ret = __objheap_ioctl(heap, OBJHEAP_TRACE_TAG, &cmd);

	if (ret)
		return ret;
	if (tagp)
		*tagp = cmd.out_tag;
	if (typep)
		*typep = cmd.out_type;
	if (attachp)
		*attachp = cmd.out_attachment;
	return !!(cmd.out_flags & OBJHEAP_TAG_TRACED);
}

OBJHEAP_API int objheap_snapshot_take(struct objheap *heap, uint32_t *idp)
{
	struct objheap_trace_snapshot cmd = { .size = sizeof(cmd) };
	int ret = __objheap_ioctl(heap, OBJHEAP_TRACE_SNAPSHOT, &cmd);

	if (!ret && idp)
		*idp = cmd.out_id;
	return ret;
}

OBJHEAP_API int objheap_snapshot_drop(struct objheap *heap, uint32_t id)
{
	struct objheap_trace_snapshot cmd = {
		.size = sizeof(cmd),
		.flags = OBJHEAP_SNAPSHOT_DROP,
		.id = id,
	};

	return __objheap_ioctl(heap, OBJHEAP_TRACE_SNAPSHOT, &cmd);
}

/* ---- statistics ------------------------------------------------------ */

/* A growing array of the rows read, already keyed as grouped. */
struct row_vec {
	struct objheap_trace_row *v;
	size_t n, cap;
};

static int row_push(struct row_vec *rv, const struct objheap_trace_row *row)
{
	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 256;
		struct objheap_trace_row *v;

		if (cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(rv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	rv->v[rv->n++] = *row;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_key(const void *a, const void *b)
{
	const struct objheap_trace_row *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->attachment < y->attachment ? -1 :
	       x->attachment > y->attachment;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/*
 * tracemalloc's order: the largest change first, then the largest size,
 * and the key to break ties so that the order is total.  Without a base
 * the change is the size itself, so this is by size alone.
 */
static int cmp_stat(const void *a, const void *b)
{
	const struct objheap_trace_stat *x = a, *y = b;
	uint64_t dx = magnitude(x->bytes_diff), dy = magnitude(y->bytes_diff);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->attachment < y->attachment ? -1 :
	       x->attachment > y->attachment;
}

/* Whether rows of @tag pass @filter, whose tags are @sorted. */
static int tag_passes(const struct objheap_trace_filter *filter,
		      const uint64_t *sorted, uint64_t tag)
{
	int listed;

	if (!filter)
		return 1;
	listed = filter->ntags &&
		 bsearch(&tag, sorted, filter->ntags, sizeof(*sorted), cmp_u64);
	return filter->exclude ? !listed : listed;
}

/*
 * Read every row of @snapshot (beside @base) into @rv, filtered and keyed
 * for @group.  The pairs keep their indexes while the heap traces, so
 * going on from out_next reads each pair once, however the counts change
 * between two calls.
 */
static int read_rows(struct objheap *heap, uint32_t snapshot, uint32_t base,
		     enum objheap_group group,
		     const struct objheap_trace_filter *filter,
		     const uint64_t *sorted, struct row_vec *rv)
{
	struct objheap_trace_row *buf;
	uint32_t start = 0, i;
	int ret;

	buf = malloc(OBJHEAP_TRACE_ROWS_MAX * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct objheap_trace_rows cmd = {
			.size = sizeof(cmd),
			.snapshot = snapshot,
			.base = base,
			.start = start,
			.nrows = OBJHEAP_TRACE_ROWS_MAX,
			.rows_uptr = (uintptr_t)buf,
		};

		ret = __objheap_ioctl(heap, OBJHEAP_TRACE_ROWS, &cmd);
		if (ret)
			break;
		if (cmd.out_nrows > OBJHEAP_TRACE_ROWS_MAX) {
			ret = -EIO;
			break;
		}
		for (i = 0; i < cmd.out_nrows; i++) {
			struct objheap_trace_row row = buf[i];

			if (!tag_passes(filter, sorted, row.tag))
				continue;
			switch (group) {
			case OBJHEAP_GROUP_PAIR:
				row.attachment = 0;
				break;
			case OBJHEAP_GROUP_TAG:
				row.type = 0;
				row.attachment = 0;
				break;
			case OBJHEAP_GROUP_TYPE:
				row.tag = 0;
				row.attachment = 0;
				break;
			case OBJHEAP_GROUP_ATTACHMENT:
				row.tag = 0;
				row.type = 0;
				break;
			case OBJHEAP_GROUP_ORIGIN:
				break;
			}
			ret = row_push(rv, &row);
			if (ret)
				goto out;
		}
		if (cmd.out_next >= cmd.out_pairs)
			break;
		/* A module that does not move on would loop for ever. */
		if (cmd.out_next <= start) {
			ret = -EIO;
			break;
		}
		start = cmd.out_next;
	}
out:
	free(buf);
	return ret;
}

OBJHEAP_API int objheap_trace_statistics(struct objheap *heap,
					 uint32_t snapshot, uint32_t base,
					 enum objheap_group group,
					 const struct objheap_trace_filter *filter,
					 struct objheap_trace_stat **statsp,
					 size_t *np)
{
	struct objheap_trace_stat *stats = NULL;
	struct row_vec rv = { 0 };
	uint64_t *sorted = NULL;
	size_t i, n = 0;
	int ret;

	if (!statsp || !np)
		return -EINVAL;
	if (group != OBJHEAP_GROUP_PAIR && group != OBJHEAP_GROUP_TAG &&
	    group != OBJHEAP_GROUP_TYPE && group != OBJHEAP_GROUP_ATTACHMENT &&
	    group != OBJHEAP_GROUP_ORIGIN)
		return -EINVAL;
	if (filter && filter->ntags) {
		if (!filter->tags || filter->ntags > SIZE_MAX / sizeof(*sorted))
			return -EINVAL;
		sorted = malloc(filter->ntags * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, filter->tags, filter->ntags * sizeof(*sorted));
		qsort(sorted, filter->ntags, sizeof(*sorted), cmp_u64);
	}

	ret = read_rows(heap, snapshot, base, group, filter, sorted, &rv);
	if (ret)
		goto out;

	/* Add up the rows of one key, now next to each other. */
	if (rv.n)
		qsort(rv.v, rv.n, sizeof(*rv.v), cmp_key);
	if (rv.n) {
		stats = malloc(rv.n * sizeof(*stats));
		if (!stats) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < rv.n;) {
		const struct objheap_trace_row *first = &rv.v[i];
		uint64_t count = 0, bytes = 0, base_count = 0, base_bytes = 0;

		for (; i < rv.n && !cmp_key(first, &rv.v[i]); i++) {
			count += rv.v[i].count;
			bytes += rv.v[i].bytes;
			base_count += rv.v[i].base_count;
			base_bytes += rv.v[i].base_bytes;
		}
		if (!count && !bytes && !base_count && !base_bytes)
			continue;
		stats[n++] = (struct objheap_trace_stat){
			.tag = first->tag,
			.type = first->type,
			.attachment = first->attachment,
			.count = count,
			.bytes = bytes,
			.count_diff = (int64_t)(count - base_count),
			.bytes_diff = (int64_t)(bytes - base_bytes),
		};
	}
	if (n) {
		qsort(stats, n, sizeof(*stats), cmp_stat);
	} else {
		free(stats);
		stats = NULL;
	}
	*statsp = stats;
	*np = n;
out:
	free(rv.v);
	free(sorted);
	return ret;
}
