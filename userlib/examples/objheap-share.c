// SPDX-License-Identifier: MIT
/*
 * objheap-share: one heap, shared by a producer and forked workers.
 *
 * The producer builds a graph (a ring of nodes, each with one more edge
 * to a random node, all held by a root object) and publishes the root
 * under a name.  For each worker it forks, makes a new attachment of the
 * heap and passes the attachment's descriptor over a unix socket
 * (SCM_RIGHTS), then closes its own copy: from then on the attachment is
 * the worker's alone.  Some workers, chosen at random, are killed with
 * SIGKILL after a random delay.
 *
 * A worker looks the graph up by name, walks it checking every node,
 * adds one object that holds the root and one node (a cycle through the
 * root) in a slot of the root reserved for it, sends that object to the
 * producer with OBJHEAP_SEND, and exits without cleaning up: closing the
 * attachment drops what it held.
 *
 * The producer waits until every attachment it made has gone
 * (OBJHEAP_EVENT_DETACHED) and every worker is reaped, checks the graph
 * and what the workers added, then unpublishes the root, releases its
 * handle and runs a full collection: the cycles the workers made must go
 * with the rest, and OBJHEAP_STATS must show no object left.
 *
 * Usage: objheap-share [-w WORKERS] [-s SEED] [-n NODES]
 * Exits 0 only when all of that holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libobjheap.h>

enum { TYPE_ROOT = 1, TYPE_NODE = 2, TYPE_ADDED = 3 };
enum { NODE_NEXT, NODE_OTHER, NODE_SLOTS };	/* a node's slots */
enum { ADDED_ROOT, ADDED_NODE, ADDED_SLOTS };	/* an added object's */

#define GRAPH_NAME "objheap-share/graph"
#define ROOT_MAGIC 0x6f626a6865617031ULL
#define ROUNDS 3		/* walks of the graph per worker */
#define WAIT_SECONDS 30		/* for every worker to detach */
#define HELD_AT_EXIT 3		/* references a finished worker exits with */

/* The root's payload; slots 0..nodes-1 hold the nodes, then one per worker. */
struct root_data {
	uint64_t magic;
	uint64_t seed;
	uint32_t nodes;
	uint32_t workers;
	uint32_t producer_id;	/* the producer's attachment, for SEND */
	uint32_t __pad;
};

struct node_data {
	uint64_t index;
	uint64_t value;
};

struct added_data {
	uint32_t worker;
	uint32_t pid;
	uint64_t sum;		/* of the values the worker read */
};

struct worker {
	pid_t pid;
	uint32_t id;		/* its attachment */
	int attached;		/* an attachment was made and sent for it */
	int detached;		/* DETACHED events seen for it */
	int received;		/* objects it sent that arrived */
	uint64_t dropped;	/* references dropped when it detached */
	int status;		/* from waitpid(), once reaped */
	int reaped;
};

static struct worker *workers;
static unsigned int nworkers, nodes;
static uint64_t seed;
static unsigned int unknown_events, lost_events, bad_received;

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The value node @k carries: anyone who knows the seed can check it. */
static uint64_t node_value(uint64_t k)
{
	uint64_t s = seed ^ (k * 0x2545f4914f6cdd1dULL);

	return splitmix64(&s);
}

#define CHECK(call)							\
	do {								\
		int __ret = (call);					\
		if (__ret < 0) {					\
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,	\
				__LINE__, #call, strerror(-__ret));	\
			return 1;					\
		}							\
	} while (0)

/*
 * Check node @k, reached as @node: its payload and its ring successor.
 * Returns 0, 1 for a wrong graph, or -errno.
 */
static int check_node(struct objheap *heap, uint64_t node, uint64_t k)
{
	struct node_data d, nd;
	uint64_t next;
	int ret;

	ret = objheap_read(heap, node, 0, &d, sizeof(d));
	if (ret)
		return ret;
	if (d.index != k || d.value != node_value(k))
		return 1;
	ret = objheap_get_slot(heap, node, NODE_NEXT, &next);
	if (ret)
		return ret;
	ret = next ? objheap_read(heap, next, 0, &nd, sizeof(nd)) : 1;
	if (next)
		objheap_release(heap, next);
	if (ret)
		return ret;
	return nd.index != (k + 1) % nodes;
}

/*
 * A worker: receive the attachment, walk the graph, add an object to it,
 * send that object to the producer, exit.  Returns the exit status.
 */
static int worker_main(unsigned int i, int sock)
{
	struct added_data add = { .worker = i, .pid = (uint32_t)getpid() };
	uint64_t root, node, obj, slots[ADDED_SLOTS];
	struct root_data rd;
	struct objheap *heap;
	unsigned int round, k;
	int fd, ret;

	CHECK(objheap_recv_fd(sock, &fd));
	close(sock);
	CHECK(objheap_from_fd(fd, &heap));
	CHECK(objheap_lookup_str(heap, GRAPH_NAME, &root));
	CHECK(objheap_read(heap, root, 0, &rd, sizeof(rd)));
	if (rd.magic != ROOT_MAGIC || rd.nodes != nodes || rd.seed != seed) {
		fprintf(stderr, "worker %u: not the graph expected\n", i);
		return 2;
	}

	for (round = 0; round < ROUNDS; round++) {
		for (k = 0; k < nodes; k++) {
			CHECK(objheap_get_slot(heap, root, k, &node));
			ret = check_node(heap, node, k);
			CHECK(objheap_release(heap, node));
			CHECK(ret);
			if (ret) {
				fprintf(stderr, "worker %u: node %u is wrong\n", i, k);
				return 2;
			}
			add.sum += node_value(k);
		}
	}

	/* Add an object holding the root: a cycle made by this process. */
	CHECK(objheap_get_slot(heap, root, i % nodes, &node));
	slots[ADDED_ROOT] = root;
	slots[ADDED_NODE] = node;
	CHECK(objheap_new(heap, TYPE_ADDED, 0, ADDED_SLOTS, &add, sizeof(add),
			  slots, &obj));
	CHECK(objheap_set_slot(heap, root, nodes + i, obj));
	CHECK(objheap_send(heap, obj, rd.producer_id, i));

	/*
	 * Leave root, node and obj held (HELD_AT_EXIT): when this process
	 * exits, the attachment's last descriptor closes and the heap drops
	 * them.
	 */
	return 0;
}

static struct worker *worker_by_id(uint32_t id)
{
	unsigned int i;

	for (i = 0; i < nworkers; i++)
		if (workers[i].pid && workers[i].id == id)
			return &workers[i];
	return NULL;
}

static void on_detached(struct objheap *heap, const struct objheap_event *ev,
			void *arg)
{
	struct worker *w = worker_by_id(ev->generation);

	(void)heap;
	(void)arg;
	if (!w) {
		unknown_events++;
		return;
	}
	w->detached++;
	w->dropped += ev->collected;
}

static void on_received(struct objheap *heap, const struct objheap_event *ev,
			void *arg)
{
	struct worker *w = worker_by_id(ev->generation);
	struct added_data add;

	(void)arg;
	if (!w || ev->target_type != TYPE_ADDED || ev->cookie != (uint64_t)(w - workers) ||
	    objheap_read(heap, ev->handle, 0, &add, sizeof(add)) ||
	    add.worker != ev->cookie)
		bad_received++;
	else
		w->received++;
	/* The event's reference is ours: the root's slot keeps the object. */
	objheap_release(heap, ev->handle);
}

static void on_lost(struct objheap *heap, uint64_t lost, void *arg)
{
	(void)heap;
	(void)arg;
	lost_events += lost;
}

/* Build the graph; *@rootp holds the root, the nodes are held by it. */
static int build_graph(struct objheap *heap, uint32_t producer_id,
		       uint64_t *rootp)
{
	struct root_data rd = {
		.magic = ROOT_MAGIC,
		.seed = seed,
		.nodes = nodes,
		.workers = nworkers,
		.producer_id = producer_id,
	};
	uint64_t *node, rng = seed, root;
	struct node_data d;
	unsigned int k;

	node = calloc(nodes, sizeof(*node));
	if (!node)
		return 1;
	CHECK(objheap_new(heap, TYPE_ROOT, 0, nodes + nworkers, &rd, sizeof(rd),
			  NULL, &root));
	for (k = 0; k < nodes; k++) {
		d.index = k;
		d.value = node_value(k);
		CHECK(objheap_new(heap, TYPE_NODE, 0, NODE_SLOTS, &d, sizeof(d),
				  NULL, &node[k]));
		CHECK(objheap_set_slot(heap, root, k, node[k]));
	}
	for (k = 0; k < nodes; k++) {
		CHECK(objheap_set_slot(heap, node[k], NODE_NEXT, node[(k + 1) % nodes]));
		CHECK(objheap_set_slot(heap, node[k], NODE_OTHER,
				       node[splitmix64(&rng) % nodes]));
	}
	CHECK(objheap_release_array(heap, node, nodes));
	free(node);
	*rootp = root;
	return 0;
}

/* Fork worker @i and hand it a new attachment.  Returns 0 or 1. */
static int start_worker(struct objheap *heap, unsigned int i)
{
	struct worker *w = &workers[i];
	int sv[2], fd, ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		perror("socketpair");
		return 1;
	}
	fflush(NULL);	/* nothing buffered may be written twice */
	w->pid = fork();
	if (w->pid < 0) {
		perror("fork");
		w->pid = 0;
		close(sv[0]);
		close(sv[1]);
		return 1;
	}
	if (!w->pid) {
		/* Not the producer's attachment: only the one sent. */
		objheap_close(heap);
		close(sv[0]);
		ret = worker_main(i, sv[1]);
		fflush(NULL);
		_exit(ret);
	}
	close(sv[1]);
	/* Made after the fork: no other worker inherits a copy. */
	ret = objheap_attach(heap, 0, &fd, &w->id);
	if (!ret) {
		ret = objheap_send_fd(sv[0], fd);
		/* Sent or not, it is the worker's: closing ours detaches it
		 * when the worker goes (or now, if it never got it). */
		close(fd);
	}
	close(sv[0]);
	if (ret) {
		fprintf(stderr, "worker %u: attach or send: %s\n", i, strerror(-ret));
		kill(w->pid, SIGKILL);
		return 1;
	}
	w->attached = 1;
	return 0;
}

static void reap(int flags)
{
	unsigned int i;
	int status;

	for (i = 0; i < nworkers; i++) {
		if (!workers[i].pid || workers[i].reaped)
			continue;
		if (waitpid(workers[i].pid, &status, flags) == workers[i].pid) {
			workers[i].status = status;
			workers[i].reaped = 1;
		}
	}
}

static int all_done(void)
{
	unsigned int i;

	for (i = 0; i < nworkers; i++)
		if (workers[i].pid && (!workers[i].reaped ||
				       (workers[i].attached && !workers[i].detached)))
			return 0;
	return 1;
}

/* Check the graph and what the workers added.  Returns the problems. */
static unsigned int check_graph(struct objheap *heap, uint64_t root,
				unsigned int *addedp)
{
	unsigned int k, i, bad = 0, added = 0;
	uint64_t sum = 0;
	struct added_data add;
	struct objheap_info info;
	uint64_t node, obj;
	int finished;

	for (k = 0; k < nodes; k++) {
		if (objheap_get_slot(heap, root, k, &node) || !node) {
			bad++;
			continue;
		}
		bad += check_node(heap, node, k) != 0;
		objheap_release(heap, node);
	}
	if (bad)
		fprintf(stderr, "objheap-share: %u nodes are wrong\n", bad);
	for (k = 0; k < nodes; k++)
		sum += node_value(k);
	sum *= ROUNDS;
	for (i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		finished = w->reaped && WIFEXITED(w->status) && !WEXITSTATUS(w->status);
		if (objheap_get_slot(heap, root, nodes + i, &obj)) {
			bad++;
			continue;
		}
		if (!obj) {
			/* Only a worker killed before it added may leave none. */
			if (finished) {
				fprintf(stderr, "worker %u finished but added nothing\n", i);
				bad++;
			}
			continue;
		}
		added++;
		if (objheap_info(heap, obj, &info) || info.out_type != TYPE_ADDED ||
		    info.out_nslots != ADDED_SLOTS ||
		    objheap_read(heap, obj, 0, &add, sizeof(add)) || add.worker != i ||
		    add.pid != (uint32_t)w->pid || add.sum != sum) {
			fprintf(stderr, "worker %u: its object is wrong\n", i);
			bad++;
		}
		objheap_release(heap, obj);
		if (finished && w->received != 1) {
			fprintf(stderr, "worker %u: %d objects received, not 1\n", i,
				w->received);
			bad++;
		}
	}
	*addedp = added;
	return bad;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-w WORKERS] [-s SEED] [-n NODES]\n"
		"  -w  forked workers, 1 to %u (default 8)\n"
		"  -s  seed of the graph and of the kills (default: the time)\n"
		"  -n  nodes of the graph (default 1000)\n",
		argv0, OBJHEAP_ATTACH_MAX - 1);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int i, finished = 0, killed = 0, failed = 0, added = 0;
	unsigned int detached = 0, received = 0, bad = 0;
	uint64_t root, rng, dropped = 0;
	struct objheap_attach_info self;
	struct objheap_stats st;
	struct timespec start, now;
	struct objheap *heap;
	uint32_t tracked = 0;
	int opt, collected;

	nworkers = 8;
	nodes = 1000;
	seed = (uint64_t)time(NULL);
	while ((opt = getopt(argc, argv, "w:s:n:")) != -1) {
		switch (opt) {
		case 'w':
			nworkers = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			nodes = strtoul(optarg, NULL, 0);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (!nworkers || nworkers >= OBJHEAP_ATTACH_MAX || !nodes ||
	    nodes + nworkers > OBJHEAP_MAX_SLOTS)
		usage(argv[0]);
	workers = calloc(nworkers, sizeof(*workers));
	if (!workers)
		return 1;
	rng = seed;

	CHECK(objheap_open(&heap));
	CHECK(objheap_attach_info(heap, 0, &self));
	CHECK(objheap_on_detached(heap, on_detached, NULL));
	CHECK(objheap_on_received(heap, on_received, NULL));
	CHECK(objheap_on_lost(heap, on_lost, NULL));
	if (build_graph(heap, self.out_id, &root))
		return 1;
	CHECK(objheap_publish_str(heap, GRAPH_NAME, root));

	/* Start the workers; kill about one in four at a random moment. */
	for (i = 0; i < nworkers; i++) {
		if (start_worker(heap, i)) {
			failed++;
			continue;
		}
		if (splitmix64(&rng) % 4 == 0) {
			usleep(splitmix64(&rng) % 5000);
			kill(workers[i].pid, SIGKILL);
		}
	}

	/* Every attachment made must report its going, every worker end. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = objheap_fd(heap), .events = POLLIN };

		CHECK(objheap_dispatch(heap, 0));
		reap(WNOHANG);
		if (all_done())
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > WAIT_SECONDS) {
			fprintf(stderr, "objheap-share: gave up waiting after %d s\n",
				WAIT_SECONDS);
			break;
		}
		poll(&pfd, 1, 50);
	}

	for (i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		if (!w->pid)
			continue;
		if (!w->reaped) {
			kill(w->pid, SIGKILL);
			failed++;
		} else if (WIFSIGNALED(w->status) && WTERMSIG(w->status) == SIGKILL) {
			killed++;
		} else if (WIFEXITED(w->status) && !WEXITSTATUS(w->status)) {
			finished++;
		} else {
			fprintf(stderr, "worker %u failed (status 0x%x)\n", i, w->status);
			failed++;
		}
		if (w->detached != w->attached) {
			fprintf(stderr, "worker %u: %d DETACHED events, not %d\n", i,
				w->detached, w->attached);
			bad++;
		}
		/* What it exited holding was dropped for it, no more, no less. */
		if (w->reaped && WIFEXITED(w->status) && !WEXITSTATUS(w->status) &&
		    w->dropped != HELD_AT_EXIT) {
			fprintf(stderr, "worker %u: %" PRIu64 " references dropped at exit, not %d\n",
				i, w->dropped, HELD_AT_EXIT);
			bad++;
		}
		detached += w->detached;
		received += w->received;
		dropped += w->dropped;
	}
	reap(0);

	bad += check_graph(heap, root, &added);
	CHECK(objheap_attach_info(heap, 0, &self));
	if (self.out_attached != 1) {
		fprintf(stderr, "objheap-share: %u attachments left, not 1\n",
			self.out_attached);
		bad++;
	}

	/* Let it all go: the workers' cycles through the root included. */
	CHECK(objheap_unpublish_str(heap, GRAPH_NAME));
	if (objheap_lookup_str(heap, GRAPH_NAME, &(uint64_t){ 0 }) != -ENOENT)
		bad++;
	CHECK(objheap_release(heap, root));
	collected = objheap_gc_collect(heap, 2, NULL);
	CHECK(collected);
	CHECK(objheap_dispatch(heap, 0));
	CHECK(objheap_stats(heap, &st, NULL, 0));
	objheap_gc_get_objects(heap, OBJHEAP_GC_ALL_GENERATIONS, NULL, 0, &tracked);
	CHECK(objheap_attach_info(heap, 0, &self));
	if (st.out_bytes_in_use != st.out_bytes_charged || st.out_large_objects ||
	    tracked || self.out_refs) {
		fprintf(stderr, "objheap-share: left behind: %" PRIu64 " bytes of objects, "
			"%" PRIu64 " large, %u tracked, %" PRIu64 " references\n",
			(uint64_t)(st.out_bytes_in_use - st.out_bytes_charged),
			(uint64_t)st.out_large_objects, tracked,
			(uint64_t)self.out_refs);
		bad++;
	}
	bad += unknown_events + lost_events + bad_received;

	printf("objheap-share: seed %" PRIu64 ", %u workers: %u finished, %u killed, %u failed\n",
	       seed, nworkers, finished, killed, failed);
	printf("  %u DETACHED events (%" PRIu64 " references dropped with them), "
	       "%u objects received, %u added to the graph\n",
	       detached, dropped, received, added);
	printf("  unpublished, released, collected %d objects: "
	       "%" PRIu64 " bytes of objects left, %u tracked\n", collected,
	       (uint64_t)(st.out_bytes_in_use - st.out_bytes_charged), tracked);
	if (unknown_events || lost_events || bad_received)
		printf("  %u events of unknown attachments, %u lost, %u bad objects received\n",
		       unknown_events, lost_events, bad_received);
	printf("objheap-share: %s\n", bad || failed ? "INCONSISTENT" : "consistent");
	objheap_close(heap);
	free(workers);
	return bad || failed ? 1 : 0;
}
