#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every objheap selftest in turn, each under a timeout, with markers
# around its TAP output that scripts/vm/check.sh reads on the host.
# NAME-m32 is the 32-bit build of NAME: it runs where the kernel runs
# 32-bit programs (IA32 emulation, which registers abi.vsyscall32) and
# reports one skip elsewhere.
timeout=${OBJHEAP_TEST_TIMEOUT:-900}
cd /opt/objheap/bin/selftests || exit 1
for t in *; do
	[ -x "$t" ] || continue
	echo "objheap-vm: test $t begin"
	case "$t" in
	*-m32)	if [ ! -e /proc/sys/abi/vsyscall32 ]; then
			printf '1..1\n#  RUN ia32.runs\n'
			echo 'ok 1 # SKIP no IA32 emulation in this kernel'
			echo "objheap-vm: test $t exit 4"
			continue
		fi ;;
	esac
	timeout "$timeout" "./$t"
	echo "objheap-vm: test $t exit $?"
done
