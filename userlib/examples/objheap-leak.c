// SPDX-License-Identifier: MIT
/*
 * objheap-leak: a server with two leaks, and the hunt that finds them
 * (Documentation/troubleshooting.rst, "Hunting a leak").
 *
 * Each request makes a request object, a response, and a session and a
 * user that refer to each other (a cycle), and drops them all when it is
 * done: the cycle is the collector's to free.  Two bugs keep memory:
 *
 *  - remember() appends every response to a list published as "recent",
 *    and nothing ever trims it: a forgotten reference;
 *  - every tenth session is kept in audit[], a global array of handles,
 *    so its cycle can never be collected: a cycle kept alive by a global.
 *
 * The hunt uses what any program can: allocation tags (each creation
 * names its call site), two snapshots and their difference, then the
 * collector's object lists, referents and referrers, and an object's
 * counts.  It prints what it finds, fixes both bugs, and checks that the
 * heap is back where it started.  Exit status 0 when both leaks were
 * found and fixed.
 *
 *   objheap-leak [REQUESTS]    the hunt (1000 requests by default)
 *   objheap-leak --hold N      serve N requests, print the heap's id,
 *                              then wait for a line on stdin (to look at
 *                              the heap with objheapctl meanwhile)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libobjheap.h>

/* Types, as a program would give its classes. */
enum { T_REQUEST = 1, T_RESPONSE, T_SESSION, T_USER, T_LIST };

/* Allocation tags: one per call site, with a name for the report. */
enum { SITE_PARSE = 1, SITE_RESPOND, SITE_SESSION, SITE_USER, SITE_RECENT };
static const char *const site_names[] = {
	[SITE_PARSE] = "parse()", [SITE_RESPOND] = "respond()",
	[SITE_SESSION] = "new_session()", [SITE_USER] = "new_user()",
	[SITE_RECENT] = "main(): the recent list",
};

#define MAX_AUDIT	4096

static struct objheap *heap;
static uint64_t recent;			/* the list remember() appends to */
static uint32_t recent_len;
static uint64_t audit[MAX_AUDIT];	/* bug 2: sessions kept for audit */
static unsigned int naudit;

#define CHECK(expr)							\
	do {								\
		int __ret = (expr);					\
		if (__ret < 0) {					\
			fprintf(stderr, "objheap-leak: %s: %s\n", #expr,	\
				strerror(-__ret));			\
			exit(2);					\
		}							\
	} while (0)

static const char *site(uint64_t tag)
{
	return tag < sizeof(site_names) / sizeof(site_names[0]) &&
	       site_names[tag] ? site_names[tag] : "?";
}

static uint64_t new_obj(uint64_t tag, uint32_t type, uint32_t nslots,
			uint32_t data_len)
{
	uint64_t h;

	CHECK(objheap_new_tagged(heap, tag, type, 0, nslots, NULL, data_len,
				 NULL, &h));
	return h;
}

/* The list of recent responses: its slots grow, so it is resizable. */
static void new_recent(void)
{
	CHECK(objheap_new_tagged(heap, SITE_RECENT, T_LIST,
				 OBJHEAP_OBJ_RESIZABLE, 0, NULL, 0, NULL,
				 &recent));
	CHECK(objheap_publish_str(heap, "recent", recent));
}

/* Bug 1: the list only ever grows. */
static void remember(uint64_t resp)
{
	CHECK(objheap_resize_slots(heap, recent, recent_len + 1));
	CHECK(objheap_set_slot(heap, recent, recent_len++, resp));
}

static void serve(unsigned int requests)
{
	uint64_t req, resp, session, user;
	unsigned int i;

	for (i = 0; i < requests; i++) {
		req = new_obj(SITE_PARSE, T_REQUEST, 0, 200);
		resp = new_obj(SITE_RESPOND, T_RESPONSE, 0, 120);
		session = new_obj(SITE_SESSION, T_SESSION, 1, 64);
		user = new_obj(SITE_USER, T_USER, 1, 32);
		CHECK(objheap_set_slot(heap, session, 0, user));
		CHECK(objheap_set_slot(heap, user, 0, session));
		remember(resp);
		/* Bug 2: a handle kept in a global, with its own reference. */
		if (i % 10 == 0 && naudit < MAX_AUDIT) {
			CHECK(objheap_dup(heap, session));
			audit[naudit++] = session;
		}
		CHECK(objheap_release(heap, req));
		CHECK(objheap_release(heap, resp));
		CHECK(objheap_release(heap, session));
		CHECK(objheap_release(heap, user));
	}
}

static void print_stats(const char *title, uint32_t snap, uint32_t base)
{
	struct objheap_trace_stat *st;
	size_t n, i;

	CHECK(objheap_trace_statistics(heap, snap, base, OBJHEAP_GROUP_TAG,
				       NULL, &st, &n));
	printf("%s\n", title);
	for (i = 0; i < n && i < 5; i++)
		printf("  %-24s %+8" PRId64 " objects %+9" PRId64 " bytes   (now %" PRIu64 " objects, %" PRIu64 " bytes)\n",
		       site(st[i].tag), st[i].count_diff, st[i].bytes_diff,
		       st[i].count, st[i].bytes);
	free(st);
}

/* The tracked objects of the heap (those with slots), owned handles. */
static uint64_t *tracked_objects(uint32_t *np)
{
	uint64_t *h;

	*np = 0;
	if (objheap_gc_get_objects(heap, OBJHEAP_GC_ALL_GENERATIONS, NULL, 0,
				   np) != -EMSGSIZE && *np)
		exit(2);
	h = calloc(*np + 1, sizeof(*h));
	if (!h)
		exit(2);
	CHECK(objheap_gc_get_objects(heap, OBJHEAP_GC_ALL_GENERATIONS, h,
				     *np, np));
	return h;
}

/*
 * Who keeps the objects made at @want: among the tracked objects, the one
 * whose slots refer to most of them.  Returns it (a handle owning a
 * reference) and how many it refers to.
 */
static uint64_t biggest_holder(uint64_t want, uint32_t *held)
{
	uint32_t n, i, j, nref, best_n = 0;
	uint64_t *objs, *refs, best = 0, t, tag;
	uint32_t type;

	objs = tracked_objects(&n);
	for (i = 0; i < n; i++) {
		if (objheap_gc_get_referents(heap, objs[i], NULL, 0, &nref) !=
		    -EMSGSIZE || !nref)
			continue;
		refs = calloc(nref, sizeof(*refs));
		if (!refs)
			exit(2);
		CHECK(objheap_gc_get_referents(heap, objs[i], refs, nref, &nref));
		for (j = 0, t = 0; j < nref; j++) {
			if (objheap_trace_tag(heap, refs[j], &tag, &type, NULL) == 1 &&
			    tag == want)
				t++;
			objheap_release(heap, refs[j]);
		}
		free(refs);
		if (t > best_n) {
			best_n = t;
			best = objs[i];
		}
	}
	for (i = 0; i < n; i++)
		if (objs[i] != best)
			objheap_release(heap, objs[i]);
	free(objs);
	*held = best_n;
	return best;
}

/*
 * A traced object made at @want that the collector tracks, or 0: a
 * handle owning a reference.
 */
static uint64_t one_made_at(uint64_t want)
{
	uint64_t *objs, found = 0, tag;
	uint32_t n, i, type;

	objs = tracked_objects(&n);
	for (i = 0; i < n; i++) {
		if (!found && objheap_trace_tag(heap, objs[i], &tag, &type, NULL) == 1 &&
		    tag == want)
			found = objs[i];
		else
			objheap_release(heap, objs[i]);
	}
	free(objs);
	return found;
}

static int hunt(unsigned int requests)
{
	uint32_t before, after, held, nrefs, i;
	uint64_t holder, named, session, refs[4], cur, cur0, peak;
	struct objheap_info info;
	int found = 0;

	CHECK(objheap_trace_start(heap, 1));
	new_recent();

	serve(10);
	CHECK(objheap_gc_collect(heap, 2, NULL));
	CHECK(objheap_snapshot_take(heap, &before));
	CHECK(objheap_get_traced_memory(heap, &cur0, &peak));

	serve(requests);
	CHECK(objheap_gc_collect(heap, 2, NULL));
	CHECK(objheap_snapshot_take(heap, &after));
	CHECK(objheap_get_traced_memory(heap, &cur, &peak));
	printf("%u requests served, then a full collection: traced memory %" PRIu64 " -> %" PRIu64 " bytes\n\n",
	       requests, cur0, cur);
	print_stats("1. What grew, by call site (snapshot compared to the one before):",
		    after, before);

	/* The first leak: who refers to the responses? */
	holder = biggest_holder(SITE_RESPOND, &held);
	printf("\n2. respond() objects outlive their request.  The tracked object that refers\n"
	       "   to most of them:\n");
	if (holder) {
		uint64_t tag;
		uint32_t type;

		CHECK(objheap_trace_tag(heap, holder, &tag, &type, NULL));
		CHECK(objheap_info(heap, holder, &info));
		CHECK(objheap_lookup_str(heap, "recent", &named));
		printf("   made at %s, type %u, %u slots, %u of them respond() objects;\n"
		       "   it is the object published as \"recent\": %s\n",
		       site(tag), type, info.out_nslots, held,
		       named == holder ? "yes" : "no");
		found += named == holder && held >= requests;
		CHECK(objheap_release(heap, named));
		CHECK(objheap_release(heap, holder));
	}

	/* The second leak: cycles the collector did not free. */
	session = one_made_at(SITE_SESSION);
	printf("\n3. new_session() objects survive a full collection.  One of them:\n");
	if (session) {
		CHECK(objheap_info(heap, session, &info));
		CHECK(objheap_gc_get_referrers(heap, session, refs, 4, &nrefs));
		printf("   %u references; %u from objects of the heap (", info.out_refcnt - 1,
		       nrefs);
		for (i = 0; i < nrefs; i++) {
			uint64_t tag;
			uint32_t type;

			CHECK(objheap_trace_tag(heap, refs[i], &tag, &type, NULL));
			printf("%s%s", i ? ", " : "", site(tag));
			CHECK(objheap_release(heap, refs[i]));
		}
		/* Less the one this hunt holds through its own lookup. */
		printf("),\n   %u from handles of this program beside the hunt's own: kept by the program itself\n",
		       info.out_user_refs - 1);
		found += nrefs == 1 && info.out_user_refs - 1 == 1;
		CHECK(objheap_release(heap, session));
	}

	/* The fixes: trim the list, drop the audit handles. */
	CHECK(objheap_resize_slots(heap, recent, 0));
	recent_len = 0;
	for (i = 0; i < naudit; i++)
		CHECK(objheap_release(heap, audit[i]));
	naudit = 0;
	CHECK(objheap_gc_collect(heap, 2, NULL));
	CHECK(objheap_get_traced_memory(heap, &cur, &peak));
	printf("\n4. After trimming \"recent\" and releasing audit[]: traced memory %" PRIu64 " bytes (peak %" PRIu64 ")\n",
	       cur, peak);
	print_stats("   Compared to the first snapshot:", 0, before);
	found += cur <= cur0;
	printf("\n%s\n", found == 3 ? "both leaks found and fixed" :
	       "the hunt did not find what it should");
	return found == 3 ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned int requests = 1000;
	char line[16];
	int ret;

	if (argc == 3 && !strcmp(argv[1], "--hold"))
		requests = strtoul(argv[2], NULL, 10);
	else if (argc == 2)
		requests = strtoul(argv[1], NULL, 10);
	else if (argc != 1)
		return fprintf(stderr, "usage: objheap-leak [REQUESTS] | --hold REQUESTS\n"), 2;

	ret = objheap_open(&heap);
	if (ret) {
		fprintf(stderr, "objheap-leak: /dev/objheap: %s\n", strerror(-ret));
		return 2;
	}
	if (argc == 3) {
		CHECK(objheap_trace_start(heap, 1));
		new_recent();
		serve(requests);
		CHECK(objheap_gc_collect(heap, 2, NULL));
		printf("serving, holding; heap ready\n");
		fflush(stdout);
		ret = !fgets(line, sizeof(line), stdin);
	} else {
		ret = hunt(requests);
	}
	objheap_close(heap);
	return ret;
}
