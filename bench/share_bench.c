// SPDX-License-Identifier: GPL-2.0
/*
 * share_bench: what sharing a heap costs, as ratios against baselines
 * measured in the same VM boot:
 *
 *  - commands from a second attachment B (objheap_attach() of the opener
 *    A, same process), on objects B was sent, so that B's handles are
 *    entries of its own found through the heap's hash of other holders,
 *    against the same commands from A, whose entries the objects record
 *    themselves: INFO, GET_SLOT + RELEASE, and batches of 64 NEW +
 *    RELEASE.  A and B alternate; the median of the rounds' ratios B/A is
 *    reported: goal <= 1.1;
 *  - sending an object to another process (OBJHEAP_SEND; the receiver
 *    reads its OBJHEAP_EVENT_RECEIVED with a blocking read(), releases the
 *    handle and answers with 1 byte on a pipe), against the same
 *    ping-pong with 8 bytes on a pipe for the send: goal <= 2.0.  Both
 *    round trips are two wakeups of a sleeping process and end with the
 *    same 1-byte pipe leg; the sending leg adds two commands (SEND and the
 *    receiver's RELEASE) and a 48-byte record, so it may cost up to three
 *    pipe legs, which makes the round trip twice a pipe round trip;
 *  - the cleanup of a SIGKILLed attachment that held N = 10^6 references
 *    (N objects of two slots, created by the killed child): how long from
 *    kill() until OBJHEAP_EVENT_DETACHED is readable, and the longest
 *    OBJHEAP_INFO issued meanwhile by a thread on another attachment,
 *    against the longest automatic collection (OBJHEAP_EVENT_GC_STOP's
 *    duration_ns) while the same heap is filled with N tracked objects
 *    of the same shape: goal <= 1.0, the cleanup holds the heap no longer
 *    than the collector does.
 *
 * Absolute times under TCG mean little; only the ratios are reported as
 * results, and nothing is asserted on time.  Usage: share_bench [N].
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libobjheap.h>

#define N_OPS		20000	/* operations per run, measurement 1 */
#define ROUNDS		7	/* alternated runs of A and of B */
#define BATCH		64	/* NEW + RELEASE pairs per batch */
#define BALLAST		1024	/* more objects B was sent, for the hash */

#define RT_PER_ROUND	2000	/* round trips per run, measurement 2 */
#define RT_ROUNDS	5
#define RT_WARM		200

#define N_REFS		1000000	/* references of the killed attachment */
#define CREATE_BATCH	4096	/* OBJHEAP_BATCH_MAX_COUNT */
#define IDLE_MS		300	/* the probe's run with no cleanup */
#define WAIT_S		150	/* for a child, or the DETACHED event */

#define GOAL_ATTACH	1.10
#define GOAL_SEND	2.00
#define GOAL_CLEANUP	1.00

#define TYPE_BENCH	0x5bec

static pid_t children[2];
static int in_child;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Exit 1: children are killed and reaped; a child itself only exits. */
static void __attribute__((noreturn)) bail_out(void)
{
	unsigned int i;

	if (in_child)
		_exit(1);
	for (i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
	}
	exit(1);
}

/* @err: a positive or negative errno. */
static void __attribute__((noreturn)) die(const char *what, int err)
{
	fprintf(stderr, "share_bench%s: %s: %s\n", in_child ? " (child)" : "",
		what, strerror(err < 0 ? -err : err));
	bail_out();
}

static void __attribute__((noreturn)) fail(const char *what)
{
	fprintf(stderr, "share_bench%s: %s\n", in_child ? " (child)" : "",
		what);
	bail_out();
}

/* fork(), the child dying with its parent; children[slot] is the child. */
static pid_t fork_child(int slot)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid) {
		children[slot] = pid;
		return pid;
	}
	in_child = 1;
	memset(children, 0, sizeof(children));
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	return 0;
}

/* Reap children[slot]; returns its wait status. */
static int reap(int slot)
{
	int status;

	if (waitpid(children[slot], &status, 0) < 0)
		die("waitpid", errno);
	children[slot] = 0;
	return status;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[ROUNDS > RT_ROUNDS ? ROUNDS : RT_ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * Read up to @max event records from @fd, waiting up to @ms for the
 * first: the number read, or -errno (-ETIMEDOUT).
 */
static int read_events(int fd, struct objheap_event *ev, int max, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t len;
	int ret;

	for (;;) {
		len = read(fd, ev, max * sizeof(*ev));
		if (len >= 0) {
			if (len % sizeof(*ev))
				return -EIO;
			return len / sizeof(*ev);
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = poll(&p, 1, ms);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (!ret)
			return -ETIMEDOUT;
	}
}

/* A new attachment of @heap as a library heap; its id in *@idp. */
static struct objheap *attach(struct objheap *heap, uint32_t *idp)
{
	struct objheap *other;
	int fd, ret;

	ret = objheap_attach(heap, 0, &fd, idp);
	if (ret)
		die("attach", ret);
	ret = objheap_from_fd(fd, &other);
	if (ret)
		die("attach: from fd", ret);
	return other;
}

/*
 * Send each of @n handles of @from to attachment @to_id (cookie: its
 * index) and take @to's handles from its events, into @out.
 */
static void send_all(struct objheap *from, const uint64_t *h, uint32_t n,
		     struct objheap *to, uint32_t to_id, uint32_t from_id,
		     uint64_t *out)
{
	struct objheap_event ev[64];
	uint32_t i, got = 0;
	int k, j, ret;

	for (i = 0; i < n; i++) {
		ret = objheap_send(from, h[i], to_id, i);
		if (ret)
			die("send", ret);
		/* Keep the receiver's queue short. */
		while (got < n && (i + 1 == n || i + 1 - got >= 64)) {
			k = read_events(objheap_fd(to), ev, 64, 10000);
			if (k < 0)
				die("read RECEIVED", k);
			for (j = 0; j < k; j++) {
				if (ev[j].type != OBJHEAP_EVENT_RECEIVED ||
				    ev[j].generation != from_id ||
				    ev[j].cookie >= n || ev[j].lost)
					fail("an event that is not the RECEIVED sent");
				out[ev[j].cookie] = ev[j].handle;
				got++;
			}
		}
	}
}

/* ---- 1: a second attachment against the first ---------------------- */

enum op { OP_INFO, OP_GET_SLOT, OP_BATCH, NR_OPS };

static const char *const op_names[NR_OPS] = {
	"info", "get slot + release", "batch of 64 new + release",
};

/* @n operations of @op on @x (slot 0 holds an object); ns per operation. */
static double run_op(struct objheap *heap, struct objheap_batch_buf *bb,
		     enum op op, uint64_t x, int n)
{
	struct objheap_info info;
	uint64_t t0 = now_ns(), y;
	int i, j, ret = 0;

	switch (op) {
	case OP_INFO:
		for (i = 0; i < n && !ret; i++)
			ret = objheap_info(heap, x, &info);
		break;
	case OP_GET_SLOT:
		for (i = 0; i < n && !ret; i++) {
			ret = objheap_get_slot(heap, x, 0, &y);
			if (!ret)
				ret = y ? objheap_release(heap, y) : -ENOENT;
		}
		break;
	default:
		n = n / BATCH * BATCH;
		for (i = 0; i < n && !ret; i += BATCH) {
			objheap_batch_reset(bb);
			for (j = 0; j < BATCH; j++)
				objheap_batch_new(bb, TYPE_BENCH, 0, 2, NULL, 16, NULL);
			for (j = 0; j < BATCH; j++)
				objheap_batch_release(bb, OBJHEAP_BATCH_REF(j));
			ret = objheap_batch_submit(heap, bb, 0);
			if (ret > 0)
				for (j = 0; j < 2 * BATCH; j++)
					if (objheap_batch_result(bb, j)) {
						ret = objheap_batch_result(bb, j);
						break;
					}
		}
		break;
	}
	if (ret)
		die(op_names[op], ret);
	return (double)(now_ns() - t0) / n;
}

static int bench_attachments(struct objheap *a, uint32_t a_id)
{
	static uint64_t ballast[BALLAST], ballast_b[BALLAST];
	double ns_a[ROUNDS], ns_b[ROUNDS], ratio[ROUNDS];
	uint64_t x, y, x_b, slots[2];
	struct objheap_batch_buf *bb;
	struct objheap_info info;
	struct objheap *b;
	uint32_t b_id, i;
	int op, r, ret;

	ret = objheap_batch_alloc(&bb, 2 * BATCH);
	if (ret)
		die("batch", ret);
	b = attach(a, &b_id);

	/* A makes and keeps them all: A is their home. */
	ret = objheap_new(a, TYPE_BENCH, 0, 2, NULL, 16, NULL, &y);
	slots[0] = y;
	slots[1] = 0;
	ret = ret ?: objheap_new(a, TYPE_BENCH, 0, 2, NULL, 16, slots, &x);
	for (i = 0; !ret && i < BALLAST; i++)
		ret = objheap_new(a, TYPE_BENCH, 0, 2, NULL, 16, NULL, &ballast[i]);
	if (ret)
		die("setup", ret);
	/* B is sent them: its entries are in the heap's hash of holders. */
	send_all(a, ballast, BALLAST, b, b_id, a_id, ballast_b);
	send_all(a, &x, 1, b, b_id, a_id, &x_b);
	ret = objheap_info(b, x_b, &info);
	if (ret)
		die("info from B", ret);
	if (info.out_user_refs != 1 || info.out_refcnt != 2 ||
	    info.out_nslots != 2)
		fail("B's handle is not the object A sent");

	/* Warm up: B's entry for what slot 0 holds, tables, the emulator. */
	for (op = 0; op < NR_OPS; op++) {
		run_op(a, bb, op, x, N_OPS / 4);
		run_op(b, bb, op, x_b, N_OPS / 4);
	}

	printf("commands from a second attachment B of the heap against the opener A,\n"
	       "on objects A made and sent to B (%u more sent: B's entries are found\n"
	       "through the heap's hash of holders); %d operations per run,\n"
	       "A and B alternated, median of %d rounds\n",
	       BALLAST, N_OPS, ROUNDS);
	printf("  %-28s %10s %10s %8s %8s\n", "command", "A ns/op", "B ns/op",
	       "B/A", "goal");
	for (op = 0; op < NR_OPS; op++) {
		for (r = 0; r < ROUNDS; r++) {
			if (r % 2) {
				ns_b[r] = run_op(b, bb, op, x_b, N_OPS);
				ns_a[r] = run_op(a, bb, op, x, N_OPS);
			} else {
				ns_a[r] = run_op(a, bb, op, x, N_OPS);
				ns_b[r] = run_op(b, bb, op, x_b, N_OPS);
			}
			ratio[r] = ns_b[r] / ns_a[r];
		}
		printf("  %-28s %10.1f %10.1f %8.2f  <= %.2f\n", op_names[op],
		       median(ns_a, ROUNDS), median(ns_b, ROUNDS),
		       median(ratio, ROUNDS), GOAL_ATTACH);
	}
	printf("  (get slot + release and new + release count as one operation)\n\n");

	ret = objheap_release_array(a, ballast, BALLAST);
	ret = ret ?: objheap_release(a, y);
	ret = ret ?: objheap_release(a, x);
	if (ret)
		die("release", ret);
	objheap_close(b);
	objheap_batch_free(bb);
	return 0;
}

/* ---- 2: a send to another process and back, against a pipe ---------- */

/* Run @r of measurement 2: 0 for pipe round trips, 1 for sends. */
static int rt_kind(int r)
{
	if (r < 0)
		return -r - 1;			/* warm-up runs -1, -2 */
	return (r / 2 + r) % 2;			/* pipe, send; send, pipe; ... */
}

/* Q: answer every round trip P makes, in the same order. */
static int rt_child(int qfd, int ping, int pong)
{
	struct objheap_event ev;
	uint64_t buf, seq = 0;
	struct objheap *q;
	int r, i, n, fl, ret;
	ssize_t len;

	ret = objheap_from_fd(qfd, &q);
	if (ret)
		die("from fd", ret);
	/* This descriptor is Q's alone: wait for events in read() itself. */
	fl = fcntl(qfd, F_GETFL);
	if (fl < 0 || fcntl(qfd, F_SETFL, fl & ~O_NONBLOCK))
		die("fcntl", errno);
	for (r = -2; r < 2 * RT_ROUNDS; r++) {
		n = r < 0 ? RT_WARM : RT_PER_ROUND;
		for (i = 0; i < n; i++, seq++) {
			if (rt_kind(r)) {
				len = read(qfd, &ev, sizeof(ev));
				if (len != sizeof(ev))
					die("read RECEIVED", len < 0 ? errno : EIO);
				if (ev.type != OBJHEAP_EVENT_RECEIVED ||
				    ev.cookie != seq || ev.lost)
					fail("not the RECEIVED event sent");
				ret = objheap_release(q, ev.handle);
				if (ret)
					die("release", ret);
			} else {
				len = read(ping, &buf, sizeof(buf));
				if (len != sizeof(buf) || buf != seq)
					die("read ping", len < 0 ? errno : EIO);
			}
			if (write(pong, "", 1) != 1)
				die("write pong", errno);
		}
	}
	objheap_close(q);
	return 0;
}

static int bench_send(struct objheap *a)
{
	double ns_pipe[RT_ROUNDS], ns_send[RT_ROUNDS], ratio[RT_ROUNDS];
	int ping[2], pong[2], qfd, r, i, n, ret, status;
	uint64_t x, t0, seq = 0, ns;
	uint32_t q_id;
	ssize_t len;
	char c;

	ret = objheap_new(a, TYPE_BENCH, 0, 2, NULL, 16, NULL, &x);
	if (ret)
		die("new", ret);
	ret = objheap_attach(a, 0, &qfd, &q_id);
	if (ret)
		die("attach", ret);
	if (pipe(ping) || pipe(pong))
		die("pipe", errno);
	if (!fork_child(0)) {
		close(objheap_fd(a));
		close(ping[1]);
		close(pong[0]);
		_exit(rt_child(qfd, ping[0], pong[1]));
	}
	close(qfd);
	close(ping[0]);
	close(pong[1]);

	for (r = -2; r < 2 * RT_ROUNDS; r++) {
		n = r < 0 ? RT_WARM : RT_PER_ROUND;
		t0 = now_ns();
		for (i = 0; i < n; i++, seq++) {
			if (rt_kind(r))
				ret = objheap_send(a, x, q_id, seq);
			else
				ret = write(ping[1], &seq, sizeof(seq)) ==
				      sizeof(seq) ? 0 : -errno;
			if (ret)
				die(rt_kind(r) ? "send" : "write ping", ret);
			len = read(pong[0], &c, 1);
			if (len != 1)
				die("read pong (the receiver failed?)",
				    len < 0 ? errno : EPIPE);
		}
		ns = now_ns() - t0;
		if (r < 0)
			continue;
		if (rt_kind(r))
			ns_send[r / 2] = (double)ns / n;
		else
			ns_pipe[r / 2] = (double)ns / n;
		if (r % 2)
			ratio[r / 2] = ns_send[r / 2] / ns_pipe[r / 2];
	}
	status = reap(0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the receiving process failed");
	close(ping[1]);
	close(pong[0]);
	ret = objheap_release(a, x);
	if (ret)
		die("release", ret);

	printf("sending an object to another process and back, against a pipe round trip:\n"
	       "P sends to Q's attachment (OBJHEAP_SEND) or writes 8 bytes on a pipe; Q\n"
	       "reads the RECEIVED event (blocking read(), then releases the handle) or\n"
	       "the 8 bytes, and answers 1 byte on a pipe; %d round trips per run,\n"
	       "alternated, median of %d rounds\n", RT_PER_ROUND, RT_ROUNDS);
	printf("  pipe round trip %.1f us, send round trip %.1f us, ratio %.2f (goal <= %.2f)\n"
	       "  (goal: the sending leg, SEND + read + RELEASE, at most three pipe legs)\n\n",
	       median(ns_pipe, RT_ROUNDS) / 1e3, median(ns_send, RT_ROUNDS) / 1e3,
	       median(ratio, RT_ROUNDS), GOAL_SEND);
	return 0;
}

/* ---- 3: the cleanup of a killed attachment -------------------------- */

/* Create @n two-slot objects through @heap, their handles dropped. */
static void create_objects(struct objheap *heap, struct objheap_batch_buf *bb,
			   uint32_t n, void (*after)(void))
{
	uint32_t done, i, k;
	int ret;

	for (done = 0; done < n; done += k) {
		k = n - done < CREATE_BATCH ? n - done : CREATE_BATCH;
		objheap_batch_reset(bb);
		for (i = 0; i < k; i++)
			objheap_batch_new(bb, TYPE_BENCH, 0, 2, NULL, 0, NULL);
		ret = objheap_batch_submit(heap, bb, 0);
		for (i = 0; ret > 0 && i < k; i++)
			if (objheap_batch_result(bb, i))
				ret = objheap_batch_result(bb, i);
		if (ret)
			die("create", ret);
		if (after)
			after();
	}
}

/* The child: take @n references in attachment @cfd, say so, wait. */
static void __attribute__((noreturn)) holder_child(int cfd, int ready, uint32_t n)
{
	struct objheap_batch_buf *bb;
	struct objheap *c;
	int ret;

	ret = objheap_from_fd(cfd, &c) ?: objheap_batch_alloc(&bb, CREATE_BATCH);
	if (ret)
		die("setup", ret);
	create_objects(c, bb, n, NULL);
	if (write(ready, &n, sizeof(n)) != sizeof(n))
		die("write ready", errno);
	for (;;)
		pause();
}

/* The prober: OBJHEAP_INFO in a loop on attachment @heap, object @h. */
struct probe {
	struct objheap *heap;
	uint64_t h;
	pthread_t thread;
	_Atomic uint64_t from_ns;	/* count calls started from then */
	_Atomic uint64_t until_ns;	/* ... until then */
	_Atomic uint64_t calls;		/* every call */
	_Atomic int stop;
	_Atomic int exited;		/* the thread returned */
	uint64_t counted, longest;	/* read after the join */
	int err;
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	struct objheap_info info;
	uint64_t t0, t, from, until;
	int ret;

	while (!atomic_load(&p->stop)) {
		t0 = now_ns();
		ret = objheap_info(p->heap, p->h, &info);
		t = now_ns() - t0;
		if (ret) {
			p->err = ret;
			break;
		}
		atomic_fetch_add(&p->calls, 1);
		from = atomic_load(&p->from_ns);
		until = atomic_load(&p->until_ns);
		if (from && t0 >= from && t0 <= until) {
			p->counted++;
			if (t > p->longest)
				p->longest = t;
		}
	}
	atomic_store(&p->exited, 1);
	return NULL;
}

static void probe_start(struct probe *p)
{
	int ret;

	atomic_store(&p->from_ns, 0);
	atomic_store(&p->until_ns, UINT64_MAX);
	atomic_store(&p->calls, 0);
	atomic_store(&p->stop, 0);
	atomic_store(&p->exited, 0);
	p->counted = p->longest = 0;
	p->err = 0;
	ret = pthread_create(&p->thread, NULL, probe_main, p);
	if (ret)
		die("pthread_create", ret);
	/* Wait until it runs, and the emulator has translated its path. */
	while (atomic_load(&p->calls) < 1000 && !atomic_load(&p->exited))
		usleep(1000);
	if (atomic_load(&p->exited)) {
		pthread_join(p->thread, NULL);
		die("info from the probing attachment", p->err ? p->err : EIO);
	}
}

static void probe_stop(struct probe *p)
{
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	if (p->err)
		die("info from the probing attachment", p->err);
}

/* The GC_STOP events read from the opener's queue while it fills. */
static struct objheap *gc_heap;
static uint64_t gc_longest, gc_stops, gc_lost;
static uint32_t gc_longest_gen;

static void drain_gc_events(void)
{
	struct objheap_event ev[64];
	int k, j;

	while ((k = read_events(objheap_fd(gc_heap), ev, 64, 0)) > 0) {
		for (j = 0; j < k; j++) {
			gc_lost += ev[j].lost;
			if (ev[j].type != OBJHEAP_EVENT_GC_STOP)
				continue;
			gc_stops++;
			if (ev[j].duration_ns > gc_longest) {
				gc_longest = ev[j].duration_ns;
				gc_longest_gen = ev[j].generation;
			}
		}
	}
	if (k < 0 && k != -ETIMEDOUT)
		die("read GC events", k);
}

static int bench_cleanup(struct objheap *a, uint32_t a_id, uint32_t n)
{
	struct objheap_gc_gen_stats before[3], after[3];
	uint64_t t_kill, t_detached, dropped = 0, z;
	struct objheap_attach_info ai;
	struct objheap_gc_collect full;
	struct objheap_event ev[16];
	struct objheap_batch_buf *bb;
	uint64_t idle_longest, idle_counted;
	struct probe p = { 0 };
	int cfd, ready[2], ret, k, j, status, found = 0;
	uint32_t c_id, p_id, got;
	struct pollfd pfd;

	ret = objheap_batch_alloc(&bb, CREATE_BATCH);
	if (ret)
		die("batch", ret);
	/* The child's objects are counted, not collected, while it builds. */
	ret = objheap_gc_disable(a);
	if (ret)
		die("gc disable", ret);
	ret = objheap_attach(a, 0, &cfd, &c_id);
	if (ret)
		die("attach", ret);
	if (pipe(ready))
		die("pipe", errno);
	if (!fork_child(1)) {
		close(objheap_fd(a));
		close(ready[0]);
		holder_child(cfd, ready[1], n);
	}
	close(cfd);
	close(ready[1]);

	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	ret = poll(&pfd, 1, WAIT_S * 1000);
	if (ret <= 0)
		die("waiting for the child's references", ret ? errno : ETIMEDOUT);
	if (read(ready[0], &got, sizeof(got)) != sizeof(got) || got != n)
		fail("the child failed to take its references");
	close(ready[0]);
	ret = objheap_attach_info(a, c_id, &ai);
	if (ret)
		die("attach info", ret);
	if (ai.out_refs != n || ai.out_handles != n)
		fail("the child's attachment does not hold what it made");

	/* The prober's attachment, and its object: one A sends it. */
	p.heap = attach(a, &p_id);
	ret = objheap_new(a, TYPE_BENCH, 0, 2, NULL, 16, NULL, &z);
	if (ret)
		die("new", ret);
	send_all(a, &z, 1, p.heap, p_id, a_id, &p.h);

	/* The prober alone first: the longest wait with nothing to wait for. */
	probe_start(&p);
	atomic_store(&p.from_ns, now_ns());
	usleep(IDLE_MS * 1000);
	atomic_store(&p.until_ns, now_ns());
	probe_stop(&p);
	idle_longest = p.longest;
	idle_counted = p.counted;

	/* Then during the cleanup. */
	probe_start(&p);
	t_kill = now_ns();
	atomic_store(&p.from_ns, t_kill);
	if (kill(children[1], SIGKILL))
		die("kill", errno);
	while (!found) {
		k = read_events(objheap_fd(a), ev, 16, WAIT_S * 1000);
		if (k < 0)
			die("waiting for DETACHED", k);
		for (j = 0; j < k; j++) {
			if (ev[j].type == OBJHEAP_EVENT_DETACHED &&
			    ev[j].generation == c_id) {
				found = 1;
				dropped = ev[j].collected;
			}
		}
	}
	t_detached = now_ns();
	atomic_store(&p.until_ns, t_detached);
	probe_stop(&p);
	status = reap(1);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("the child ended otherwise than by the SIGKILL");
	if (dropped != n)
		fprintf(stderr, "share_bench: DETACHED says %llu references dropped, not %u\n",
			(unsigned long long)dropped, n);

	/* The baseline: the same heap filled again, automatic collection on. */
	gc_heap = a;
	drain_gc_events();
	gc_longest = gc_stops = gc_lost = 0;
	ret = objheap_event_ctl(a, OBJHEAP_EVENT_CTL_SET_MASK, OBJHEAP_EVENTS_GC,
				NULL);
	ret = ret ?: objheap_gc_get_stats(a, before);
	ret = ret ?: objheap_gc_enable(a);
	if (ret)
		die("gc setup", ret);
	create_objects(a, bb, n, drain_gc_events);
	ret = objheap_gc_disable(a) ?: objheap_gc_get_stats(a, after);
	if (ret)
		die("gc stats", ret);
	drain_gc_events();
	ret = objheap_gc_collect(a, 2, &full);
	if (ret < 0)
		die("full collection", ret);
	ret = objheap_event_ctl(a, OBJHEAP_EVENT_CTL_SET_MASK, 0, NULL);
	if (ret)
		die("event ctl", ret);

	printf("cleanup of a SIGKILLed attachment holding N = %u references (N objects\n"
	       "of two slots it created), while a thread on another attachment runs\n"
	       "OBJHEAP_INFO in a loop, against the longest automatic collection while\n"
	       "the same heap is filled with N such objects (collector on)\n", n);
	printf("  cleanup, kill() to DETACHED readable: %.1f ms (%llu references dropped)\n",
	       (t_detached - t_kill) / 1e6, (unsigned long long)dropped);
	printf("  longest INFO wait during the cleanup: %.3f ms over %llu calls\n"
	       "    (with no cleanup: %.3f ms over %llu calls in %d ms)\n",
	       p.longest / 1e6, (unsigned long long)p.counted,
	       idle_longest / 1e6, (unsigned long long)idle_counted, IDLE_MS);
	printf("  longest automatic collection: %.3f ms (generation %u) of %llu;\n"
	       "    collections by generation:",
	       gc_longest / 1e6, gc_longest_gen, (unsigned long long)gc_stops);
	for (j = 0; j < 3; j++)
		printf(" %llu", (unsigned long long)(after[j].collections -
						     before[j].collections));
	printf("\n    (an explicit full collection of the N objects: %.3f ms)\n",
	       full.out_elapsed_ns / 1e6);
	if (gc_lost)
		printf("  warning: %llu GC events were lost: the longest may be missed\n",
		       (unsigned long long)gc_lost);
	if (!p.counted || !gc_longest)
		printf("  ratio longest wait / longest pause: no figure (%s)\n\n",
		       p.counted ? "no collection" : "no INFO during the cleanup");
	else
		printf("  ratio longest wait / longest pause: %.3f (goal <= %.2f)\n\n",
		       (double)p.longest / gc_longest, GOAL_CLEANUP);

	ret = objheap_release(a, z);
	if (ret)
		die("release", ret);
	objheap_close(p.heap);
	objheap_batch_free(bb);
	return 0;
}

int main(int argc, char **argv)
{
	struct objheap_attach_info ai;
	struct objheap *a;
	unsigned long n = N_REFS;
	char *end;
	int ret;

	if (argc > 1) {
		n = strtoul(argv[1], &end, 0);
		if (*end || !n || n > 100000000) {
			fprintf(stderr, "usage: share_bench [N]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	ret = objheap_open(&a);
	if (ret)
		die("open", ret);
	/* N two-slot objects and the tables take more than the default. */
	ret = objheap_set_limit(a, 1ULL << 30);
	if (ret)
		die("limit", ret);
	ret = objheap_gc_disable(a) ?: objheap_attach_info(a, 0, &ai);
	if (ret)
		die("setup", ret);
	printf("objheap shared heaps, one VM boot\n\n");
	bench_attachments(a, ai.out_id);
	bench_send(a);
	bench_cleanup(a, ai.out_id, n);
	objheap_close(a);
	return 0;
}
