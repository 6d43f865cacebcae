// SPDX-License-Identifier: GPL-2.0
/*
 * objheap_count: a qemu TCG plugin that counts, between two markers a
 * benchmark executes, the instructions the guest ran and the memory
 * accesses they made, the kernel's apart from userspace's.  Unlike time
 * under TCG, these counts do not depend on how busy the host is, so a
 * command's cost can be compared from one boot to the next, and its
 * memory touches counted (Documentation/testing.rst, "Counting").
 *
 * The markers are seven-byte NOPs with a displacement no compiler emits
 * (bench/bench_count.h): OBJHEAP_COUNT_START snapshots the counters,
 * OBJHEAP_COUNT_STOP prints what they gained since, numbered in order,
 * through qemu's log (-d plugin -D FILE):
 *
 *   objheap-count: N kinsn K kmem M uinsn U umem V
 *
 * With the argument profile=on, each translation block of the kernel's
 * also has a counter of its own, and each stop adds a line for every block
 * that ran at least a thousandth of the kernel's instructions since the
 * start, which count.sh attributes to functions through the guest's
 * /proc/kallsyms:
 *
 *   objheap-prof: N VADDR INSNS
 *
 * The counters are plain words updated inline by the translated code,
 * which is exact with one vCPU only: the plugin refuses to run with more.
 * An instruction counts when its translation block starts, so a block
 * cut short by an exception counts whole; on the scale of a benchmark's
 * thousands of commands that is noise.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "../bench_count.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { KINSN, KMEM, UINSN, UMEM, NR_COUNTS };

static uint64_t counts[NR_COUNTS];
static uint64_t start[NR_COUNTS];
static unsigned int nr_stops;

/* The kernel's blocks, by address, when profiling: open addressing. */
struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t start;
};

#define NR_BLOCKS	(1u << 20)

static bool profile;
static struct block *blocks;
/*
 * The slots of @blocks in use, in the order they were taken: a start and
 * a stop walk these, not the whole table, so that each costs the host
 * little and the guest's clock, which runs on while they do, does not
 * bring a timer interrupt into every short count.
 */
static unsigned int *used;
static unsigned int nr_blocks;

static struct block *block_of(uint64_t vaddr)
{
	uint64_t h = vaddr * 0x9e3779b97f4a7c15ull;
	unsigned int i = h >> 44;

	for (;; i = (i + 1) & (NR_BLOCKS - 1)) {
		if (blocks[i].vaddr == vaddr)
			return &blocks[i];
		if (!blocks[i].vaddr)
			break;
	}
	/* Full (three quarters): the block goes uncounted. */
	if (nr_blocks >= NR_BLOCKS / 4 * 3)
		return NULL;
	used[nr_blocks++] = i;
	blocks[i].vaddr = vaddr;
	return &blocks[i];
}

static void on_start(unsigned int vcpu, void *udata)
{
	unsigned int k;

	memcpy(start, counts, sizeof(start));
	for (k = 0; profile && k < nr_blocks; k++)
		blocks[used[k]].start = blocks[used[k]].insns;
}

static void report_blocks(void)
{
	uint64_t least = (counts[KINSN] - start[KINSN]) / 1000, n;
	unsigned int i, k;
	char line[96];

	for (k = 0; k < nr_blocks; k++) {
		i = used[k];
		n = blocks[i].insns - blocks[i].start;
		if (!n || n < least)
			continue;
		snprintf(line, sizeof(line), "objheap-prof: %u %" PRIx64
			 " %" PRIu64 "\n", nr_stops, blocks[i].vaddr, n);
		qemu_plugin_outs(line);
	}
}

static void on_stop(unsigned int vcpu, void *udata)
{
	char line[160];

	if (profile)
		report_blocks();
	snprintf(line, sizeof(line),
		 "objheap-count: %u kinsn %" PRIu64 " kmem %" PRIu64
		 " uinsn %" PRIu64 " umem %" PRIu64 "\n", nr_stops++,
		 counts[KINSN] - start[KINSN], counts[KMEM] - start[KMEM],
		 counts[UINSN] - start[UINSN], counts[UMEM] - start[UMEM]);
	qemu_plugin_outs(line);
}

/* Which marker @insn is, if any: 0, or its displacement. */
static uint32_t marker(const struct qemu_plugin_insn *insn)
{
	static const uint8_t nopl[] = { 0x0f, 0x1f, 0x80 };
	const uint8_t *b = qemu_plugin_insn_data(insn);
	uint32_t disp;

	if (qemu_plugin_insn_size(insn) != OBJHEAP_COUNT_MARK_LEN ||
	    memcmp(b, nopl, sizeof(nopl)))
		return 0;
	memcpy(&disp, b + sizeof(nopl), sizeof(disp));
	return disp == OBJHEAP_COUNT_START || disp == OBJHEAP_COUNT_STOP ?
	       disp : 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	/* The upper half of the address space is the kernel's. */
	int kernel = qemu_plugin_tb_vaddr(tb) >> 63;
	uint64_t *insns = &counts[kernel ? KINSN : UINSN];
	uint64_t *mem = &counts[kernel ? KMEM : UMEM];
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	struct block *b;

	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 insns, n);
	if (profile && kernel) {
		b = block_of(qemu_plugin_tb_vaddr(tb));
		if (b)
			qemu_plugin_register_vcpu_tb_exec_inline(tb,
					QEMU_PLUGIN_INLINE_ADD_U64, &b->insns, n);
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		qemu_plugin_register_vcpu_mem_inline(insn, QEMU_PLUGIN_MEM_RW,
						     QEMU_PLUGIN_INLINE_ADD_U64,
						     mem, 1);
		switch (marker(insn)) {
		case OBJHEAP_COUNT_START:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start,
						QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		case OBJHEAP_COUNT_STOP:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop,
						QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		}
	}
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	int i;

	if (info->system_emulation && info->system.max_vcpus != 1) {
		fprintf(stderr, "objheap_count: needs one vCPU (-smp 1)\n");
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "profile=", 8) ||
		    !qemu_plugin_bool_parse("profile", argv[i] + 8, &profile)) {
			fprintf(stderr, "objheap_count: unknown argument %s\n",
				argv[i]);
			return -1;
		}
	}
	if (profile) {
		blocks = calloc(NR_BLOCKS, sizeof(*blocks));
		used = calloc(NR_BLOCKS, sizeof(*used));
		if (!blocks || !used)
			return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
