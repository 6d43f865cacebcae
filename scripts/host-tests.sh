#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# host-tests.sh: the checks that need no VM, as TAP lines ("ok N name",
# "not ok N name"), for check.sh to count under [host].  They run on a
# scratch copy of the tree, so the clone's build/ is left alone.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
n=0 failed=0

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=1
	fi
}

# Installed files name the prefix they were installed with, even when the
# library was first built for another one.
install_matches_prefix() {
	local tree=$scratch/tree dest=$scratch/dest pc

	mkdir -p "$tree" &&
	(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$tree") &&
	make -s -C "$tree" lib >/dev/null &&
	make -s -C "$tree" install-lib PREFIX=/usr DESTDIR="$dest" >/dev/null ||
		return 1
	pc=$dest/usr/lib/pkgconfig/libobjheap.pc
	grep -qx 'prefix=/usr' "$pc" && grep -qx 'libdir=/usr/lib' "$pc" &&
		grep -qx 'includedir=/usr/include' "$pc" &&
		[ -e "$dest/usr/lib/libobjheap.so.0" ] &&
		[ -e "$dest/usr/include/linux/objheap.h" ]
}

echo "1..1"
install_matches_prefix
result $? install.pc_matches_prefix
exit $failed
