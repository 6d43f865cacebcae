#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""count-report.py COUNT_LOG OUT_LOG [PROFILE_OUT]: the table of make count.

COUNT_LOG is qemu's log with the plugin's lines (objheap-count:, and with
profiling objheap-prof:); OUT_LOG the VM's output, with the benchmark's
labels (objheap-count-label: N OPS TEXT) and the guest's text symbols
(objheap-ksym: ADDR TYPE NAME [MODULE]).  Prints, per operation, the
kernel's and userspace's instructions and the kernel's memory accesses;
with PROFILE_OUT, writes there each operation's kernel functions, by
instructions per operation.
"""
import bisect
import sys
from collections import defaultdict


def main():
    counts, prof = {}, defaultdict(list)
    with open(sys.argv[1], errors='replace') as f:
        for line in f:
            w = line.split()
            if line.startswith('objheap-count: '):
                counts[int(w[1])] = dict(zip(w[2::2], map(int, w[3::2])))
            elif line.startswith('objheap-prof: '):
                prof[int(w[1])].append((int(w[2], 16), int(w[3])))
    labels, syms = {}, []
    with open(sys.argv[2], errors='replace') as f:
        for line in f:
            if line.startswith('objheap-count-label: '):
                _, n, ops, text = line.rstrip('\n').split(' ', 3)
                labels[int(n)] = (int(ops), text)
            elif line.startswith('objheap-ksym: '):
                w = line.split()
                name = w[3] + (' ' + w[4] if len(w) > 4 else '')
                syms.append((int(w[1], 16), name))
    if not counts or sorted(counts) != sorted(labels):
        sys.exit('objheap: %d counts for %d labels (see the VM logs)' %
                 (len(counts), len(labels)))

    null = [counts[n]['kinsn'] / labels[n][0] for n in labels
            if labels[n][1].endswith('null ioctl')]
    null = null[0] if null else 0
    # Labels given more than once are one row each of their median (the
    # lower one of an even number), their 99th percentile (from 100 of
    # them) and their largest, by kernel instructions.
    groups = defaultdict(list)
    for n in sorted(labels):
        groups[labels[n][1]].append(n)
    print('objheap commands, counted by qemu (one vCPU), per operation')
    print('  %-44s %11s %7s %9s %9s' %
          ('command', 'kernel insn', '/null', 'kern mem', 'user insn'))

    picked = []

    def row(text, n):
        picked.append((n, text))
        ops, c = labels[n][0], counts[n]
        print('  %-44s %11.0f %7.3f %9.0f %9.0f' %
              (text, c['kinsn'] / ops, c['kinsn'] / ops / null if null else 0,
               c['kmem'] / ops, c['uinsn'] / ops))

    for text, ns in groups.items():
        if text.startswith('warm-up'):
            continue
        if len(ns) == 1:
            row(text, ns[0])
            continue
        ns = sorted(ns, key=lambda n: counts[n]['kinsn'] / labels[n][0])
        row('%s, median of %d' % (text, len(ns)), ns[(len(ns) - 1) // 2])
        if len(ns) >= 100:
            row('%s, 99th percentile' % text, ns[len(ns) * 99 // 100])
        row('%s, largest' % text, ns[-1])
    print('  (a null ioctl: %.0f kernel instructions)' % null)

    if len(sys.argv) < 4 or not prof:
        return
    syms.sort()
    addrs = [a for a, _ in syms]
    with open(sys.argv[3], 'w') as out:
        for n, text in picked:
            ops = labels[n][0]
            if n not in prof:
                continue
            funcs = defaultdict(int)
            for vaddr, insns in prof[n]:
                i = bisect.bisect_right(addrs, vaddr) - 1
                funcs[syms[i][1] if i >= 0 else hex(vaddr)] += insns
            total = counts[n]['kinsn']
            out.write('%s: %.0f kernel instructions per operation\n' %
                      (text, total / ops))
            for name, insns in sorted(funcs.items(), key=lambda x: -x[1]):
                out.write('  %8.1f  %5.1f%%  %s\n' %
                          (insns / ops, 100.0 * insns / total, name))
            out.write('\n')


if __name__ == '__main__':
    main()
