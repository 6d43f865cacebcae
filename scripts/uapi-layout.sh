#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uapi-layout.sh BUILD_DIR: check that uapi/linux/objheap.h and the test
# interface (kmod/objheap_test.h) lay out every structure the same way
# for 32-bit (i386) and 64-bit (x86_64) programs, with no hole and no
# tail padding, so that the 64-bit kernel can take a 32-bit program's
# structures as they are (compat_ptr_ioctl).  pahole (dwarves) prints the
# offset and size of every member from each build's debug information.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}/uapi-layout
mkdir -p "$out"
printf '#include <linux/objheap.h>\n#include "objheap_test.h"\n' >"$out/layout.c"
for m in 32 64; do
	${CC:-cc} -m$m -g -fno-eliminate-unused-debug-types -Iuapi -Ikmod \
		-c -o "$out/layout-m$m.o" "$out/layout.c"
	pahole "$out/layout-m$m.o" >"$out/layout-m$m.txt"
done
n=$(grep -c '^struct ' "$out/layout-m64.txt")
[ "$n" -gt 0 ] || { echo "uapi-layout: pahole printed no structure" >&2; exit 1; }
if ! diff -u "$out/layout-m64.txt" "$out/layout-m32.txt" >&2; then
	echo "uapi-layout: i386 and x86_64 lay the uapi out differently" >&2
	exit 1
fi
if grep -n 'XXX' "$out/layout-m64.txt" >&2; then
	echo "uapi-layout: implicit padding in the uapi" >&2
	exit 1
fi
echo "uapi-layout: $n structures, the same on i386 and x86_64, no padding"
