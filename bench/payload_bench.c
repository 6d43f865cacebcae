// SPDX-License-Identifier: GPL-2.0
/*
 * payload_bench: what reaching and growing a payload costs, as ratios
 * against baselines measured in the same VM boot:
 *
 *  - reading a 1 MiB payload (an OBJHEAP_OBJ_MAPPABLE object), summed as
 *    64-bit words, in four ways: a pass over a mapping made once;
 *    OBJHEAP_READ of the whole into a buffer, then a pass over the buffer;
 *    read() of 1 MiB from a pipe a child process fills, then a pass; and
 *    mmap(), a pass and munmap() each time (again with MAP_POPULATE, for
 *    reference).  The methods alternate in runs of a few repetitions and
 *    the median of ROUNDS rounds is reported.  Goals: OBJHEAP_READ costs
 *    at least ten passes over the mapping (READ / mapped pass >= 10), and
 *    mapping a payload to read it once costs no more than copying it out
 *    (mmap + pass + munmap / READ + pass <= 1.0); the pipe is for
 *    reference;
 *  - growing one OBJHEAP_OBJ_RESIZABLE object by 8 bytes 10^6 times, each
 *    append an OBJHEAP_RESIZE to len + 8 and an OBJHEAP_WRITE of 8 bytes
 *    at the old end, in batches of 64 such pairs (and 10^5 times with one
 *    ioctl per command, the per-call figure), against CPython doing 10^6
 *    bytearray += of 8 bytes and 10^6 list.append
 *    (bench/cpython_payload.py): for reference, no goal.
 *
 * Absolute times under TCG mean little; only the ratios are reported as
 * results, and nothing is asserted on time.  Every command is checked
 * and every byte read or appended is verified.  A failure, such as a
 * module without these commands (ENOTTY) or flags (EINVAL from
 * OBJHEAP_NEW), prints a "payload_bench: FAIL" line and ends its part;
 * the other part still runs, and the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libobjheap.h>

#define PAYLOAD		(1U << 20)	/* bytes read, measurement 1 */
#define ROUNDS		11
#define REPS_MAPPED	64	/* passes over the mapping per run */
#define REPS_OTHER	16	/* repetitions of each other method per run */

#define N_APPEND	1000000	/* batched appends, measurement 2 */
#define N_SINGLE	100000	/* appends with one ioctl per command */
#define N_WARM		10000
#define APPEND_RUNS	3	/* best of, as cpython_payload.py */
#define BATCH		64	/* RESIZE + WRITE pairs per batch */

#define GOAL_READ	10.0
#define GOAL_MMAP	1.00

#define TYPE_BENCH	0x5bed

static pid_t child;
static int in_child;
static jmp_buf part_env;
static int in_part;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * End the part that failed: the child is killed and reaped, and main()
 * goes on with the next part; a child itself only exits.
 */
static void __attribute__((noreturn)) bail_out(void)
{
	if (in_child)
		_exit(1);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = 0;
	}
	if (in_part)
		longjmp(part_env, 1);
	exit(1);
}

static const char *hint(int err)
{
	switch (err) {
	case ENOTTY:
		return " (ENOTTY: the module lacks this command)";
	case ENODEV:
		return " (ENODEV: the module does not map payloads)";
	default:
		return "";
	}
}

/* @err: a positive or negative errno. */
static void __attribute__((noreturn)) die(const char *what, int err)
{
	err = err < 0 ? -err : err;
	fflush(stdout);
	fprintf(stderr, "payload_bench%s: FAIL: %s: %s%s\n",
		in_child ? " (child)" : "", what, strerror(err), hint(err));
	bail_out();
}

static void __attribute__((noreturn)) fail(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "payload_bench%s: FAIL: %s\n",
		in_child ? " (child)" : "", what);
	bail_out();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * One pass over @len bytes, as 64-bit words.  Every method reads its
 * bytes with this same code; the empty asm keeps the compiler from
 * taking a call for a pure function and skipping passes.
 */
static uint64_t __attribute__((noinline)) pass(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	uint64_t sum = 0;
	size_t i;

	__asm__ volatile("" : : "r"(buf) : "memory");
	for (i = 0; i < len / sizeof(*w); i++)
		sum += w[i];
	return sum;
}

/* ---- 1: reading a 1 MiB payload ------------------------------------ */

enum method { M_MAPPED, M_READ, M_PIPE, M_MMAP, M_POPULATE, NR_METHODS };

static const char *const method_names[NR_METHODS] = {
	"pass over the mapping",
	"OBJHEAP_READ + pass",
	"pipe read() + pass",
	"mmap + pass + munmap",
	"mmap MAP_POPULATE + pass + munmap",
};

struct reader {
	int fd;			/* the heap's */
	uint64_t handle;
	off_t offset;		/* OBJHEAP_MAP_OFFSET's */
	const void *map;	/* the mapping made once */
	void *buf;		/* OBJHEAP_READ's buffer */
	void *pbuf;		/* the pipe's */
	int go, data;		/* to and from the child */
	uint64_t expect;	/* pass() of the payload */
};

/* fork(), the child dying with its parent. */
static pid_t fork_child(void)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid) {
		child = pid;
		return pid;
	}
	in_child = 1;
	child = 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	return 0;
}

/* The child: write the payload's bytes to @data for each byte on @go. */
static void __attribute__((noreturn)) pipe_child(int go, int data,
						 const char *src)
{
	size_t done;
	ssize_t len;
	char c;

	for (;;) {
		len = read(go, &c, 1);
		if (!len)
			_exit(0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			die("read from the parent", errno);
		}
		for (done = 0; done < PAYLOAD; done += len) {
			len = write(data, src + done, PAYLOAD - done);
			if (len < 0) {
				if (errno != EINTR)
					die("write to the pipe", errno);
				len = 0;
			}
		}
	}
}

static void read_pipe(int fd, char *buf)
{
	size_t done;
	ssize_t len;

	for (done = 0; done < PAYLOAD; done += len) {
		len = read(fd, buf + done, PAYLOAD - done);
		if (len <= 0) {
			if (len < 0 && errno == EINTR) {
				len = 0;
				continue;
			}
			die("read() from the pipe (did the child fail?)",
			    len ? errno : EPIPE);
		}
	}
}

/* @reps repetitions of @m: ns per repetition; OBJHEAP_READ's in @read_ns. */
static double run_method(const struct reader *rd, enum method m, int reps,
			 double *read_ns)
{
	struct objheap_rw rw = {
		.size = sizeof(rw),
		.handle = rd->handle,
		.len = PAYLOAD,
		.buf_uptr = (uintptr_t)rd->buf,
	};
	uint64_t t0, t1, in_read = 0, sum;
	char msg[96];
	void *p;
	int i;

	t0 = now_ns();
	for (i = 0; i < reps; i++) {
		switch (m) {
		case M_MAPPED:
			sum = pass(rd->map, PAYLOAD);
			break;
		case M_READ:
			t1 = now_ns();
			if (ioctl(rd->fd, OBJHEAP_READ, &rw))
				die("OBJHEAP_READ of 1 MiB", errno);
			in_read += now_ns() - t1;
			sum = pass(rd->buf, PAYLOAD);
			break;
		case M_PIPE:
			if (write(rd->go, "", 1) != 1)
				die("write to the pipe's child", errno);
			read_pipe(rd->data, rd->pbuf);
			sum = pass(rd->pbuf, PAYLOAD);
			break;
		default:
			p = mmap(NULL, PAYLOAD, PROT_READ, MAP_SHARED |
				 (m == M_POPULATE ? MAP_POPULATE : 0),
				 rd->fd, rd->offset);
			if (p == MAP_FAILED)
				die("mmap() of the payload", errno);
			sum = pass(p, PAYLOAD);
			if (munmap(p, PAYLOAD))
				die("munmap() of the payload", errno);
			break;
		}
		if (sum != rd->expect) {
			snprintf(msg, sizeof(msg),
				 "%s: the bytes read are not the payload",
				 method_names[m]);
			fail(msg);
		}
	}
	t0 = now_ns() - t0;
	if (read_ns)
		*read_ns = (double)in_read / reps;
	return (double)t0 / reps;
}

static void bench_read(struct objheap *heap)
{
	double ns[NR_METHODS][ROUNDS], read_ns[ROUNDS], r_read[ROUNDS];
	double r_readpass[ROUNDS], r_mmap[ROUNDS], r_pipe[ROUNDS];
	double r_populate[ROUNDS], dummy;
	struct objheap_map_offset mo = { .size = sizeof(mo) };
	struct reader rd = { .fd = objheap_fd(heap) };
	int go[2], data[2], pipe_size, r, k, m, ret, status;
	uint64_t *src;
	void *map;
	uint32_t i;

	src = aligned_alloc(4096, PAYLOAD);
	rd.buf = aligned_alloc(4096, PAYLOAD);
	rd.pbuf = aligned_alloc(4096, PAYLOAD);
	if (!src || !rd.buf || !rd.pbuf)
		die("malloc", ENOMEM);
	for (i = 0; i < PAYLOAD / sizeof(*src); i++)
		src[i] = (i + 1) * 0x9e3779b97f4a7c15ULL;
	memset(rd.buf, 0, PAYLOAD);
	memset(rd.pbuf, 0, PAYLOAD);
	rd.expect = pass(src, PAYLOAD);

	/* The child first: it holds no mapping and no heap. */
	if (pipe(go) || pipe(data))
		die("pipe", errno);
	/* A pipe of 1 MiB where allowed: one write() and one read(). */
	fcntl(data[0], F_SETPIPE_SZ, PAYLOAD);
	pipe_size = fcntl(data[0], F_GETPIPE_SZ);
	if (!fork_child()) {
		close(rd.fd);
		close(go[1]);
		close(data[0]);
		pipe_child(go[0], data[1], (const char *)src);
	}
	close(go[0]);
	close(data[1]);
	rd.go = go[1];
	rd.data = data[0];

	ret = objheap_new(heap, TYPE_BENCH, OBJHEAP_OBJ_MAPPABLE, 0, src,
			  PAYLOAD, NULL, &rd.handle);
	if (ret)
		die("OBJHEAP_NEW of a 1 MiB object with OBJHEAP_OBJ_MAPPABLE",
		    ret);
	mo.handle = rd.handle;
	if (ioctl(rd.fd, OBJHEAP_MAP_OFFSET, &mo))
		die("OBJHEAP_MAP_OFFSET", errno);
	if (mo.out_data_len != PAYLOAD ||
	    mo.out_offset % sysconf(_SC_PAGESIZE))
		fail("OBJHEAP_MAP_OFFSET: a wrong length or an unaligned offset");
	rd.offset = mo.out_offset;
	map = mmap(NULL, PAYLOAD, PROT_READ, MAP_SHARED, rd.fd, rd.offset);
	if (map == MAP_FAILED)
		die("mmap() of the payload", errno);
	rd.map = map;

	/* Warm up: fault the mapping in, let the emulator translate. */
	for (m = 0; m < NR_METHODS; m++)
		run_method(&rd, m, 2, &dummy);

	for (r = 0; r < ROUNDS; r++) {
		for (k = 0; k < NR_METHODS; k++) {
			m = (r + k) % NR_METHODS;
			ns[m][r] = run_method(&rd, m, m == M_MAPPED ?
					      REPS_MAPPED : REPS_OTHER,
					      &dummy);
			if (m == M_READ)
				read_ns[r] = dummy;
		}
		r_read[r] = read_ns[r] / ns[M_MAPPED][r];
		r_readpass[r] = ns[M_READ][r] / ns[M_MAPPED][r];
		r_mmap[r] = ns[M_MMAP][r] / ns[M_READ][r];
		r_pipe[r] = ns[M_PIPE][r] / ns[M_MAPPED][r];
		r_populate[r] = ns[M_POPULATE][r] / ns[M_READ][r];
	}

	/* The child reads EOF and exits. */
	close(rd.go);
	if (waitpid(child, &status, 0) < 0)
		die("waitpid", errno);
	child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the pipe's child failed");
	close(rd.data);
	if (munmap(map, PAYLOAD))
		die("munmap() of the payload", errno);
	ret = objheap_release(heap, rd.handle);
	if (ret)
		die("release", ret);
	free(src);
	free(rd.buf);
	free(rd.pbuf);

	printf("reading a 1 MiB payload (OBJHEAP_OBJ_MAPPABLE), summed as 64-bit words;\n"
	       "runs of %d repetitions (the pass over the mapping: %d), methods\n"
	       "alternated, median of %d rounds; the pipe holds %d KiB\n",
	       REPS_OTHER, REPS_MAPPED, ROUNDS,
	       pipe_size > 0 ? pipe_size >> 10 : -1);
	printf("  %-38s %10s\n", "method", "us/MiB");
	for (m = 0; m < NR_METHODS; m++) {
		printf("  %-38s %10.1f\n", method_names[m],
		       median(ns[m], ROUNDS) / 1e3);
		if (m == M_READ)
			printf("  %-38s %10.1f\n", "  of which OBJHEAP_READ",
			       median(read_ns, ROUNDS) / 1e3);
	}
	printf("  %-38s %10s  %s\n", "ratio", "median", "goal");
	printf("  %-38s %10.2f  >= %.1f\n", "READ / mapped pass",
	       median(r_read, ROUNDS), GOAL_READ);
	printf("  %-38s %10.2f  <= %.2f\n", "mmap+pass+munmap / READ+pass",
	       median(r_mmap, ROUNDS), GOAL_MMAP);
	printf("  %-38s %10.2f  for reference\n", "READ+pass / mapped pass",
	       median(r_readpass, ROUNDS));
	printf("  %-38s %10.2f  for reference\n", "pipe+pass / mapped pass",
	       median(r_pipe, ROUNDS));
	printf("  %-38s %10.2f  for reference\n",
	       "mmap POPULATE+pass+munmap / READ+pass",
	       median(r_populate, ROUNDS));
	printf("  (READ: the OBJHEAP_READ alone; READ+pass: with the pass over its buffer)\n\n");
}

/* ---- 2: appends to a resizable object ------------------------------ */

/* One append as two entries of a batch: RESIZE, then WRITE at the old end. */
struct append_pair {
	struct objheap_batch_entry resize_entry;
	struct objheap_resize resize;
	struct objheap_batch_entry write_entry;
	struct objheap_rw write;
};

_Static_assert(sizeof(struct append_pair) == 72,
	       "batch entries must follow each other with no gap");

static uint64_t new_resizable(struct objheap *heap)
{
	uint64_t h;
	int ret;

	ret = objheap_new(heap, TYPE_BENCH, OBJHEAP_OBJ_RESIZABLE, 0, NULL, 0,
			  NULL, &h);
	if (ret)
		die("OBJHEAP_NEW of an empty object with OBJHEAP_OBJ_RESIZABLE",
		    ret);
	return h;
}

/* Append i (from 0) wrote i + 1 at 8 * i: check, then release. */
static void check_and_release(struct objheap *heap, uint64_t h, uint32_t n,
			      const char *how)
{
	struct objheap_info info;
	char msg[128];
	uint64_t *back;
	uint32_t i;
	int ret;

	ret = objheap_info(heap, h, &info);
	if (ret)
		die("OBJHEAP_INFO of the grown object", ret);
	back = malloc((size_t)n * 8);
	if (!back)
		die("malloc", ENOMEM);
	if (info.out_data_len != n * 8) {
		snprintf(msg, sizeof(msg),
			 "%s: %u appends left %u bytes, not %u", how, n,
			 info.out_data_len, n * 8);
		fail(msg);
	}
	ret = objheap_read(heap, h, 0, back, n * 8);
	if (ret)
		die("OBJHEAP_READ of the grown object", ret);
	for (i = 0; i < n; i++) {
		if (back[i] != i + 1ULL) {
			snprintf(msg, sizeof(msg),
				 "%s: append %u is not in the payload", how, i);
			fail(msg);
		}
	}
	free(back);
	ret = objheap_release(heap, h);
	if (ret)
		die("release", ret);
}

/* @n appends, one OBJHEAP_RESIZE and one OBJHEAP_WRITE each: ns/append. */
static double append_single(struct objheap *heap, uint32_t n)
{
	struct objheap_resize rs = {
		.size = sizeof(rs),
		.flags = OBJHEAP_RESIZE_DATA,
	};
	struct objheap_rw rw = { .size = sizeof(rw), .len = 8 };
	int fd = objheap_fd(heap);
	uint64_t val, t0;
	uint32_t i;

	rs.handle = rw.handle = new_resizable(heap);
	rw.buf_uptr = (uintptr_t)&val;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		rs.data_len = (i + 1) * 8;
		if (ioctl(fd, OBJHEAP_RESIZE, &rs))
			die("OBJHEAP_RESIZE (data) to len + 8", errno);
		val = i + 1;
		rw.offset = i * 8;
		if (ioctl(fd, OBJHEAP_WRITE, &rw))
			die("OBJHEAP_WRITE of 8 bytes at the old end", errno);
	}
	t0 = now_ns() - t0;
	check_and_release(heap, rs.handle, n, "one ioctl per command");
	return (double)t0 / n;
}

/* A batch that ran with a failure: report the first failed entry. */
static void __attribute__((noreturn))
batch_failed(const struct append_pair *pairs, uint32_t k, uint32_t first)
{
	char msg[128];
	uint32_t j;

	for (j = 0; j < k; j++) {
		if (pairs[j].resize_entry.out_result ||
		    pairs[j].write_entry.out_result)
			break;
	}
	if (j == k)
		fail("OBJHEAP_BATCH says an entry failed, but none did");
	if (pairs[j].resize_entry.out_result) {
		snprintf(msg, sizeof(msg),
			 "OBJHEAP_BATCH, RESIZE entry of append %u", first + j);
		die(msg, pairs[j].resize_entry.out_result);
	}
	snprintf(msg, sizeof(msg),
		 "OBJHEAP_BATCH, WRITE entry of append %u", first + j);
	die(msg, pairs[j].write_entry.out_result);
}

/* @n appends in batches of BATCH (RESIZE, WRITE) pairs: ns/append. */
static double append_batched(struct objheap *heap, uint32_t n)
{
	static struct append_pair pairs[BATCH];
	static uint64_t vals[BATCH];
	struct objheap_batch b = {
		.size = sizeof(b),
		.buf_uptr = (uintptr_t)pairs,
	};
	int fd = objheap_fd(heap);
	uint32_t done, j, k;
	uint64_t h, t0;

	h = new_resizable(heap);
	memset(pairs, 0, sizeof(pairs));
	for (j = 0; j < BATCH; j++) {
		pairs[j].resize_entry.cmd = OBJHEAP_CMD_RESIZE;
		pairs[j].resize.size = sizeof(pairs[j].resize);
		pairs[j].resize.flags = OBJHEAP_RESIZE_DATA;
		pairs[j].resize.handle = h;
		pairs[j].write_entry.cmd = OBJHEAP_CMD_WRITE;
		pairs[j].write.size = sizeof(pairs[j].write);
		pairs[j].write.handle = h;
		pairs[j].write.len = 8;
		pairs[j].write.buf_uptr = (uintptr_t)&vals[j];
	}
	t0 = now_ns();
	for (done = 0; done < n; done += k) {
		k = n - done < BATCH ? n - done : BATCH;
		for (j = 0; j < k; j++) {
			pairs[j].resize_entry.out_result = 0;
			pairs[j].resize.data_len = (done + j + 1) * 8;
			pairs[j].write_entry.out_result = 0;
			pairs[j].write.offset = (done + j) * 8;
			vals[j] = done + j + 1;
		}
		b.count = 2 * k;
		b.len = k * sizeof(*pairs);
		if (ioctl(fd, OBJHEAP_BATCH, &b))
			die("OBJHEAP_BATCH of RESIZE + WRITE pairs", errno);
		if (b.out_failed || b.out_done != 2 * k)
			batch_failed(pairs, k, done);
	}
	t0 = now_ns() - t0;
	check_and_release(heap, h, n, "batches");
	return (double)t0 / n;
}

/* CPython's ns per append into @ba (bytearray +=) and @li (list.append). */
static int cpython_appends(uint32_t n, double *ba, double *li)
{
	char cmd[256], name[32];
	int got = 0;
	double ns;
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -S /opt/objheap/bin/bench/cpython_payload.py %u",
		 n);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fscanf(p, "%31s %lf", name, &ns) == 2) {
		if (!strcmp(name, "bytearray")) {
			*ba = ns;
			got |= 1;
		} else if (!strcmp(name, "list")) {
			*li = ns;
			got |= 2;
		}
	}
	if (pclose(p) || got != 3)
		return -1;
	return 0;
}

static double best(double (*fn)(struct objheap *, uint32_t),
		   struct objheap *heap, uint32_t n)
{
	double ns, min = 0;
	int i;

	for (i = 0; i < APPEND_RUNS; i++) {
		ns = fn(heap, n);
		if (!i || ns < min)
			min = ns;
	}
	return min;
}

static void bench_append(struct objheap *heap)
{
	double single, batched, ba = 0, li = 0;
	int have_cpy;

	/*
	 * Warm up, one ioctl per command first: a module without
	 * OBJHEAP_RESIZE says ENOTTY there, rather than EINVAL for a batch.
	 */
	append_single(heap, N_WARM);
	append_batched(heap, N_WARM);
	single = best(append_single, heap, N_SINGLE);
	batched = best(append_batched, heap, N_APPEND);
	have_cpy = !cpython_appends(N_APPEND, &ba, &li);
	if (!have_cpy)
		fprintf(stderr,
			"payload_bench: no CPython figures (cpython_payload.py failed)\n");

	printf("appending 8 bytes at a time to one OBJHEAP_OBJ_RESIZABLE object: an\n"
	       "OBJHEAP_RESIZE to len + 8 and an OBJHEAP_WRITE of 8 bytes at the old end,\n"
	       "against CPython appending to a bytearray (+= 8 bytes) and a list\n"
	       "(.append of one bytes object); best of %d runs after a warm-up\n",
	       APPEND_RUNS);
	printf("  %-38s %8s %10s\n", "method", "N", "ns/append");
	printf("  %-38s %8u %10.1f\n", "objheap, batches of 64 RESIZE + WRITE",
	       N_APPEND, batched);
	printf("  %-38s %8u %10.1f  (%.1f ns/ioctl)\n",
	       "objheap, one ioctl per command", N_SINGLE, single, single / 2);
	if (have_cpy) {
		printf("  %-38s %8u %10.1f\n", "CPython bytearray +=", N_APPEND,
		       ba);
		printf("  %-38s %8u %10.1f\n", "CPython list.append", N_APPEND,
		       li);
	}
	printf("  %-47s %10s  %s\n", "ratio", "", "goal");
	if (have_cpy) {
		printf("  %-47s %10.2f  for reference\n",
		       "objheap batched / bytearray +=", batched / ba);
		printf("  %-47s %10.2f  for reference\n",
		       "objheap batched / list.append", batched / li);
	} else {
		printf("  objheap batched / CPython: no figure (no CPython)\n");
	}
	printf("\n");
}

int main(void)
{
	static struct objheap *heap;
	static int failed;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	ret = objheap_open(&heap);
	if (ret)
		die("open /dev/objheap", ret);
	/* Nothing here is tracked; off as in the other benches anyway. */
	ret = objheap_gc_disable(heap);
	if (ret)
		die("gc disable", ret);
	printf("objheap payloads, one VM boot\n\n");

	in_part = 1;
	if (!setjmp(part_env))
		bench_read(heap);
	else
		failed = 1;
	if (!setjmp(part_env))
		bench_append(heap);
	else
		failed = 1;
	in_part = 0;

	objheap_close(heap);
	if (failed)
		printf("payload_bench: FAIL: see the lines above\n");
	return failed;
}
