// SPDX-License-Identifier: MIT
/*
 * objheap-demo: a five-minute tour of libobjheap, and what `make run`
 * shows.
 *
 * It interns the words of a sentence (one object per distinct word), then
 * builds a linked list of nodes in batches, each node holding a word and
 * the next node, walks it, and drops it with a single release: the
 * kernel frees the whole list, and the words' reference counts fall back.
 * Then it makes pairs of objects that hold each other, which reference
 * counting cannot free, and lets the cycle collector find them, with a
 * weak reference on one of them whose callback, and the collection's
 * start and stop, arrive through the heap's event queue.  Last, two
 * processes share the heap: a forked child is handed a read-only
 * attachment over a unix socket, looks up a published object and reads
 * it, and exits still holding it; the parent sees the heap drop what the
 * child held.  Then payloads: a 4 MiB object is mapped and read in place,
 * and outlives its last handle for as long as it is mapped; a resizable
 * object grows word by word and is sealed.  The heap's allocator
 * statistics are shown along the way.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libobjheap.h>

enum { TYPE_WORD = 1, TYPE_NODE = 2, TYPE_TEXT = 3, TYPE_BLOB = 4 };
enum { NODE_WORD, NODE_NEXT, NODE_SLOTS };	/* a node's slots */

#define NODES (40 * BATCH)
#define CYCLES 1000
#define BATCH 256

static const char *const words[] = {
	"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

#define CHECK(call)							\
	do {								\
		int __ret = (call);					\
		if (__ret < 0) {					\
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,	\
				__LINE__, #call, strerror(-__ret));	\
			return 1;					\
		}							\
	} while (0)

/* Bytes the heap's objects and tables hold, and its arenas. */
static void show_memory(struct objheap *heap, const char *when)
{
	struct objheap_stats st;

	if (objheap_stats(heap, &st, NULL, 0))
		return;
	printf("  [%s: %llu bytes in use, %llu held, %llu arenas of %u KiB, %llu large objects]\n",
	       when, (unsigned long long)st.out_bytes_in_use,
	       (unsigned long long)st.out_bytes_held,
	       (unsigned long long)st.out_arenas_current, st.out_arena_size / 1024,
	       (unsigned long long)st.out_large_objects);
}

/* How many objects the collector tracks, from the size a list would need. */
static unsigned int tracked(struct objheap *heap)
{
	uint32_t n = 0;

	objheap_gc_get_objects(heap, OBJHEAP_GC_ALL_GENERATIONS, NULL, 0, &n);
	return n;
}

/* The event queue's callbacks: what objheap_dispatch() calls. */
static void on_death(struct objheap *heap, const struct objheap_event *ev,
		     void *arg)
{
	(void)heap;
	(void)arg;
	printf("  event: weak reference \"%s\" cleared, its target (type %u) %s\n",
	       (const char *)(uintptr_t)ev->cookie, ev->target_type,
	       ev->reason == OBJHEAP_REASON_GC ? "was collected" : "was released");
}

static void on_gc(struct objheap *heap, const struct objheap_event *ev,
		  void *arg)
{
	(void)heap;
	(void)arg;
	if (ev->type == OBJHEAP_EVENT_GC_START)
		printf("  event: collection of generation %u starts\n", ev->generation);
	else
		printf("  event: collection of generation %u: %llu collected\n",
		       ev->generation, (unsigned long long)ev->collected);
}

static unsigned int refs(struct objheap *heap, uint64_t h)
{
	struct objheap_info info;

	return objheap_info(heap, h, &info) ? 0 : info.out_refcnt;
}

static const char greeting[] = "hello from the parent";

static void on_detached(struct objheap *heap, const struct objheap_event *ev,
			void *arg)
{
	(void)heap;
	(void)arg;
	printf("  event: attachment %u detached; the heap dropped the %llu reference(s) it held\n",
	       ev->generation, (unsigned long long)ev->collected);
}

/* The child of section 6, on the attachment it is sent; its exit status. */
static int share_child(int sock)
{
	struct objheap_attach_info self;
	char buf[sizeof(greeting)];
	struct objheap *heap;
	uint64_t obj;
	int fd, ret;

	CHECK(objheap_recv_fd(sock, &fd));
	CHECK(objheap_from_fd(fd, &heap));
	CHECK(objheap_attach_info(heap, 0, &self));
	CHECK(objheap_lookup_str(heap, "greeting", &obj));
	CHECK(objheap_read(heap, obj, 0, buf, sizeof(buf)));
	buf[sizeof(buf) - 1] = 0;
	printf("  child: on attachment %u%s, looked up \"greeting\": \"%s\"\n",
	       self.out_id,
	       self.out_flags & OBJHEAP_ATTACH_READONLY ? " (read-only)" : "", buf);
	ret = objheap_write(heap, obj, 0, "J", 1);
	printf("  child: writing to it gives %s; exiting without releasing it\n",
	       ret == -EPERM ? "EPERM" : ret ? strerror(-ret) : "success (WRONG)");
	/* No objheap_close(): exiting closes the attachment all the same. */
	return 0;
}

/*
 * 6. Two processes, one heap: publish an object, fork, hand the child a
 * new read-only attachment over a unix socket (SCM_RIGHTS).  The child
 * looks the object up by name and reads it; when it exits, the heap
 * drops its reference and queues OBJHEAP_EVENT_DETACHED for the parent.
 */
static int share(struct objheap *heap)
{
	struct pollfd pfd = { .fd = objheap_fd(heap), .events = POLLIN };
	int sv[2], fd, status;
	uint64_t obj;
	uint32_t id;
	pid_t pid;

	CHECK(objheap_new(heap, TYPE_TEXT, 0, 0, greeting, sizeof(greeting),
			  NULL, &obj));
	CHECK(objheap_publish_str(heap, "greeting", obj));
	CHECK(objheap_on_detached(heap, on_detached, NULL));
	printf("two processes: published \"greeting\", forked a child and sent it a read-only attachment\n");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		CHECK(-errno);
	fflush(stdout);		/* or the child writes it out again */
	pid = fork();
	if (pid < 0)
		CHECK(-errno);
	if (!pid) {
		/* The parent's attachment is not the child's to use. */
		objheap_close(heap);
		close(sv[0]);
		status = share_child(sv[1]);
		fflush(stdout);
		_exit(status);
	}
	close(sv[1]);
	/* Made after the fork, so that the child gets it only by the socket. */
	CHECK(objheap_attach(heap, OBJHEAP_ATTACH_READONLY, &fd, &id));
	CHECK(objheap_send_fd(sv[0], fd));
	close(fd);		/* the child's now: it detaches when the child exits */
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid)
		CHECK(-errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		CHECK(-ECHILD);
	poll(&pfd, 1, 1000);
	CHECK(objheap_dispatch(heap, 0));
	printf("\"greeting\" is held %u times again (the name and the parent); unpublished and released, it is gone\n",
	       refs(heap, obj));
	CHECK(objheap_unpublish_str(heap, "greeting"));
	CHECK(objheap_release(heap, obj));
	return 0;
}

/* -errno as the demo prints it: EPERM, EACCES, or the message. */
static const char *err_name(int ret)
{
	switch (ret) {
	case 0:
		return "success (WRONG)";
	case -EPERM:
		return "EPERM";
	case -EACCES:
		return "EACCES";
	}
	return strerror(-ret);
}

#define BLOB_LEN (4U << 20)
#define MIB (1ULL << 20)

/* The mappable object's bytes: they differ from one page to the next. */
static uint8_t blob_byte(uint32_t i)
{
	return (uint8_t)(i ^ (i >> 12));
}

/* What the heap holds (its limit counts this), or 0. */
static unsigned long long held(struct objheap *heap)
{
	struct objheap_stats st;

	return objheap_stats(heap, &st, NULL, 0) ? 0 : st.out_bytes_held;
}

/*
 * 7. A mappable payload: filled by WRITE, mapped read-only and read in
 * place, not copied.  WRITEs show through the mapping at once, and the
 * mapping keeps the object alive after its handle's last reference is
 * released: a weak reference and the heap's byte count show it, until
 * munmap() lets it go.
 */
static int payload_map(struct objheap *heap)
{
	struct pollfd pfd = { .fd = objheap_fd(heap), .events = POLLIN };
	unsigned long long before, while_mapped, after;
	struct objheap_info info;
	uint64_t blob, wr, target, sum = 0;
	uint32_t i, wrong = 0;
	const uint8_t *map;
	uint8_t *buf;
	void *addr;
	size_t len;
	int ret;

	buf = malloc(BLOB_LEN);
	if (!buf)
		CHECK(-ENOMEM);
	for (i = 0; i < BLOB_LEN; i++)
		buf[i] = blob_byte(i);
	before = held(heap);
	ret = objheap_new(heap, TYPE_BLOB, OBJHEAP_OBJ_MAPPABLE, 0, NULL,
			  BLOB_LEN, NULL, &blob);
	if (!ret)
		ret = objheap_write(heap, blob, 0, buf, BLOB_LEN);
	free(buf);
	CHECK(ret);
	CHECK(objheap_info(heap, blob, &info));
	printf("a mappable object of %u MiB, filled by one WRITE (done in %u KiB pieces): refcount %u%s\n",
	       info.out_data_len >> 20, OBJHEAP_RW_CHUNK >> 10, info.out_refcnt,
	       info.out_flags & OBJHEAP_OBJ_MAPPABLE ? ", flagged mappable" : "");

	CHECK(objheap_map(heap, blob, PROT_READ, &addr, &len));
	map = addr;
	for (i = 0; i < len; i++) {
		wrong += map[i] != blob_byte(i);
		sum += map[i];
	}
	printf("mapped it read-only and summed its %zu bytes in place: %llu, %s\n",
	       len, (unsigned long long)sum,
	       wrong ? "some bytes WRONG" : "every byte as written");
	ret = mprotect(addr, len, PROT_READ | PROT_WRITE) ? -errno : 0;
	printf("  making the mapping writable with mprotect() gives %s\n",
	       err_name(ret));
	CHECK(objheap_write(heap, blob, MIB, "objheap", 7));
	printf("  a WRITE of \"objheap\" at 1 MiB shows through the mapping at once: \"%.7s\"\n",
	       (const char *)map + MIB);

	CHECK(objheap_weakref_new(heap, blob, (uintptr_t)"mapped payload",
				  OBJHEAP_WEAKREF_CALLBACK, &wr));
	CHECK(objheap_info(heap, blob, &info));
	CHECK(objheap_release(heap, blob));
	CHECK(objheap_weakref_get(heap, wr, &target));
	if (target)
		CHECK(objheap_release(heap, target));
	while_mapped = held(heap);
	printf("released its handle, owner of %u reference, while mapped: the weak reference %s,\n"
	       "  and the heap holds %llu MiB more than before the object\n",
	       info.out_user_refs,
	       target ? "still gives the object" : "gives nothing (WRONG)",
	       while_mapped > before ? (while_mapped - before) / MIB : 0);

	CHECK(objheap_unmap(addr, len));
	printf("unmapped it:\n");
	poll(&pfd, 1, 1000);
	CHECK(objheap_dispatch(heap, 0));
	CHECK(objheap_weakref_get(heap, wr, &target));
	after = held(heap);
	printf("the weak reference now gives %s; the heap gave back %llu MiB\n",
	       target ? "its target (WRONG)" : "nothing (0)",
	       after < while_mapped ? (while_mapped - after) / MIB : 0);
	if (target)
		CHECK(objheap_release(heap, target));
	CHECK(objheap_release(heap, wr));
	return 0;
}

/*
 * 8. A resizable object grows in place, word by word, under one handle,
 * and is sealed: immutable from then on.  Another, spelled like an
 * interned word and sealed with OBJHEAP_SEAL_INTERN, turns out to be
 * that word.
 */
static int payload_resize(struct objheap *heap, uint64_t fox)
{
	static const char *const more[] = { "quick", "brown", "fox" };
	uint32_t sizes[4], len = 3;
	struct objheap_info info;
	uint64_t text, word, interned;
	char buf[64];
	unsigned int i;
	int ret;

	CHECK(objheap_new(heap, TYPE_TEXT, OBJHEAP_OBJ_RESIZABLE, 0, "the", len,
			  NULL, &text));
	sizes[0] = len;
	for (i = 0; i < 3; i++) {
		uint32_t n = strlen(more[i]);

		CHECK(objheap_resize(heap, text, len + 1 + n));
		CHECK(objheap_write(heap, text, len, " ", 1));
		CHECK(objheap_write(heap, text, len + 1, more[i], n));
		len += 1 + n;
		CHECK(objheap_info(heap, text, &info));
		sizes[i + 1] = info.out_data_len;
	}
	CHECK(objheap_read(heap, text, 0, buf, len));
	printf("a resizable object grows in place, word by word: %u, %u, %u and %u bytes, \"%.*s\"\n",
	       sizes[0], sizes[1], sizes[2], sizes[3], (int)len, buf);

	CHECK(objheap_seal(heap, text));
	CHECK(objheap_info(heap, text, &info));
	printf("sealed it: %s; writing gives %s, resizing gives %s\n",
	       info.out_flags & OBJHEAP_OBJ_IMMUTABLE ? "immutable" : "MUTABLE",
	       err_name(objheap_write(heap, text, 0, "T", 1)),
	       err_name(objheap_resize(heap, text, 0)));
	CHECK(objheap_release(heap, text));

	CHECK(objheap_new(heap, TYPE_WORD, OBJHEAP_OBJ_RESIZABLE, 0, "fo", 2,
			  NULL, &word));
	ret = objheap_resize(heap, word, 3);
	if (!ret)
		ret = objheap_write(heap, word, 2, "x", 1);
	if (!ret)
		ret = objheap_seal_intern(heap, word, &interned);
	if (ret)
		objheap_release(heap, word);
	CHECK(ret);
	printf("\"fo\" grown to \"fox\" and sealed with OBJHEAP_SEAL_INTERN is the interned word (%s)\n",
	       interned == fox ? "same handle" : "DIFFERENT");
	CHECK(objheap_release(heap, interned));
	CHECK(objheap_release(heap, word));
	return 0;
}

int main(void)
{
	static uint64_t slots[BATCH][NODE_SLOTS];
	uint64_t word[NWORDS], head = 0, node, next;
	struct objheap_gc_collect collected;
	uint64_t watch;
	struct objheap_batch_buf *batch;
	struct objheap_query q;
	struct objheap *heap;
	unsigned int i, j, n, walked;
	int last, ret;

	CHECK(objheap_open(&heap));
	CHECK(objheap_query(heap, 0, &q));
	printf("objheap: uapi version %u, %d commands\n", q.out_version,
	       __builtin_popcountll(q.out_cmds));
	show_memory(heap, "a new heap");

	/* 1. Interning: equal words are one object. */
	for (i = 0; i < NWORDS; i++)
		CHECK(objheap_intern(heap, TYPE_WORD, 0, words[i],
				     strlen(words[i]), &word[i]));
	printf("interned %zu words: \"the\" is one object (%s), held %u times\n",
	       NWORDS, word[0] == word[6] ? "same handle" : "DIFFERENT",
	       refs(heap, word[0]));

	/*
	 * 2. A list of NODES nodes, built back to front in batches: each
	 * node's slots hold a word and the node after it.  A node's handle
	 * is released as soon as the node before it holds it.
	 */
	CHECK(objheap_batch_alloc(&batch, 2 * BATCH));
	for (n = 0; n < NODES; n += BATCH) {
		objheap_batch_reset(batch);
		last = -1;
		for (i = 0; i < BATCH; i++) {
			slots[i][NODE_WORD] = word[(n + i) % NWORDS];
			slots[i][NODE_NEXT] = last < 0 ? head : OBJHEAP_BATCH_REF(last);
			last = objheap_batch_new(batch, TYPE_NODE, 0, NODE_SLOTS,
						 &n, sizeof(n), slots[i]);
			if (slots[i][NODE_NEXT])
				objheap_batch_release(batch, slots[i][NODE_NEXT]);
		}
		ret = objheap_batch_submit(heap, batch, 0);
		CHECK(ret > 0 ? -EIO : ret);
		head = objheap_batch_handle(batch, last);
	}
	objheap_batch_free(batch);
	printf("built a list of %u nodes in %u batches; \"the\" is now held %u times\n",
	       NODES, NODES / BATCH, refs(heap, word[0]));
	show_memory(heap, "with the list");

	/* 3. Walk it: each get_slot returns a new reference. */
	walked = 0;
	CHECK(objheap_dup(heap, head));
	for (node = head; node; node = next) {
		CHECK(objheap_get_slot(heap, node, NODE_NEXT, &next));
		CHECK(objheap_release(heap, node));
		walked++;
	}
	printf("walked %u nodes\n", walked);

	/* 4. One release frees the whole list, without recursion. */
	CHECK(objheap_release(heap, head));
	printf("released the head: \"the\" is held %u times again, the list is gone (%s)\n",
	       refs(heap, word[0]),
	       objheap_info(heap, head, &(struct objheap_info){}) == -ENOENT ?
	       "its handle is now ENOENT" : "STILL THERE");

	show_memory(heap, "after the release");

	/*
	 * 5. Cycles: pairs that hold each other outlive their handles.  A
	 * weak reference watches the first one.
	 */
	CHECK(objheap_gc_disable(heap));
	CHECK(objheap_on_death(heap, on_death, NULL));
	CHECK(objheap_on_gc(heap, on_gc, NULL));
	for (i = 0; i < CYCLES; i++) {
		uint64_t a, b;

		CHECK(objheap_new(heap, TYPE_NODE, 0, NODE_SLOTS, NULL, 0, NULL, &a));
		CHECK(objheap_new(heap, TYPE_NODE, 0, NODE_SLOTS, NULL, 0, NULL, &b));
		CHECK(objheap_set_slot(heap, a, NODE_NEXT, b));
		CHECK(objheap_set_slot(heap, b, NODE_NEXT, a));
		if (!i)
			CHECK(objheap_weakref_new(heap, a, (uintptr_t)"first cycle",
						  OBJHEAP_WEAKREF_CALLBACK, &watch));
		CHECK(objheap_release(heap, a));
		CHECK(objheap_release(heap, b));
	}
	printf("made %d two-object cycles and dropped every handle: the collector tracks %u objects\n"
	       "  (the cycles' and the weak reference, itself an object)\n",
	       CYCLES, tracked(heap));
	show_memory(heap, "with the cycles");
	CHECK(objheap_gc_collect(heap, 2, &collected));
	printf("gc.collect(): %llu unreachable objects freed in %llu us; %u tracked now\n",
	       (unsigned long long)collected.out_collected,
	       (unsigned long long)collected.out_elapsed_ns / 1000, tracked(heap));
	show_memory(heap, "after the collection");
	CHECK(objheap_dispatch(heap, 0));
	CHECK(objheap_weakref_get(heap, watch, &next));
	printf("the weak reference now gives %s\n", next ? "its target" : "nothing (0)");
	CHECK(objheap_release(heap, watch));

	if (share(heap) || payload_map(heap) ||
	    payload_resize(heap, word[3]))
		return 1;

	for (i = 0, j = 0; i < NWORDS; i++)
		j += !objheap_release(heap, word[i]);
	printf("released %u word references; closing the heap frees the rest\n", j);
	objheap_close(heap);
	return 0;
}
