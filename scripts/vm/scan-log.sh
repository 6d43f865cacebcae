#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-log.sh LOG...: fail, printing the offending lines, when a kernel log
# shows any sign of a kernel bug: oopses, warnings, sanitizer, lockdep and
# kmemleak reports, list corruption, refcount saturation, lockups, stalls.
bad='BUG:|WARNING:|Oops|general protection fault|KASAN|UBSAN|kmemleak|'
bad+='list_add corruption|list_del corruption|refcount_t:|'
bad+='possible circular locking|possible recursive locking|'
bad+='inconsistent lock state|lock held when returning|'
bad+='suspicious RCU usage|soft lockup|hard LOCKUP|rcu.*detected stall|'
bad+='blocked for more than|Call Trace:|Kernel panic'
# kmemleak's own start-up lines are not findings.
benign='kmemleak: Kernel memory leak detector initialized|'
benign+='kmemleak: Automatic memory scanning thread started'

status=0
for log in "$@"; do
	hits=$(grep -aE "$bad" "$log" | grep -avE "$benign")
	if [ -n "$hits" ]; then
		echo "objheap: the kernel log $log shows:" >&2
		# The whole report, not only its first line.
		grep -aE -A12 "$bad" "$log" | grep -avE "$benign" | head -200 >&2
		status=1
	fi
done
exit $status
