#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every objheap benchmark in turn inside one VM boot, so that each
# ratio compares figures measured side by side on the same machine.
# OBJHEAP_ONLY=bench1,bench2 on the kernel command line runs only those.
only=$(echo "${OBJHEAP_ONLY:-}" | tr , ' ')
cd /opt/objheap/bin/bench || exit 1
for b in *; do
	[ -x "$b" ] && [ "$b" != run_bench.sh ] && [ "${b%.py}" = "$b" ] || continue
	case " ${only:-$b} " in
	*" $b "*) ;;
	*) continue ;;
	esac
	echo "objheap-vm: bench $b begin"
	"./$b"
	echo "objheap-vm: bench $b exit $?"
done
# make count: the kernel's text symbols, to name the profiled blocks.
if [ -n "${OBJHEAP_COUNT:-}" ]; then
	awk '$2 ~ /^[tT]$/ { print "objheap-ksym: " $0 }' /proc/kallsyms
fi
