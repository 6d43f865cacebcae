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
 * child held.  The heap's allocator statistics are shown along the way.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libobjheap.h>

enum { TYPE_WORD = 1, TYPE_NODE = 2, TYPE_TEXT = 3 };
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

	if (share(heap))
		return 1;

	for (i = 0, j = 0; i < NWORDS; i++)
		j += !objheap_release(heap, word[i]);
	printf("released %u word references; closing the heap frees the rest\n", j);
	objheap_close(heap);
	return 0;
}
