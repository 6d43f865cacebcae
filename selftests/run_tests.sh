#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every objheap selftest in turn, each under a timeout, with markers
# around its TAP output that scripts/vm/check.sh reads on the host.
timeout=${OBJHEAP_TEST_TIMEOUT:-900}
cd /opt/objheap/bin/selftests || exit 1
for t in *; do
	[ -x "$t" ] || continue
	echo "objheap-vm: test $t begin"
	timeout "$timeout" "./$t"
	echo "objheap-vm: test $t exit $?"
done
