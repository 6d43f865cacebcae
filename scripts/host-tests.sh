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

# The Python binding builds in the scratch tree (make python), and its
# suite runs there: against the real library, where every test that needs
# /dev/objheap skips (the host cannot load the module) and the rest checks
# the module, its API and Heap()'s ENOENT; and against the stand-in library
# of python/tests/fake, where every test but the multi-process ones runs.
# A failing suite's report is printed as comments.
python_suite() {
	local build=$1 out

	out=$(cd "$scratch/tree/python" && PYTHONPATH="$scratch/tree/build/$build" \
		"${@:2}" /usr/bin/python3 -X dev tests/tap.py 2>&1) && return 0
	echo "$out" | grep -E '^(not ok|# )' | sed 's/^/# /' | head -60
	return 1
}

python_builds() {
	[ -d "$scratch/tree" ] || return 1
	make -s -C "$scratch/tree" python python-fake >/dev/null 2>&1
}

python_installs() {
	local dest=$scratch/pydest

	make -s -C "$scratch/tree" install-python PREFIX=/usr DESTDIR="$dest" \
		>/dev/null 2>&1 &&
	ls "$dest"/usr/lib/python3/dist-packages/objheap/_objheap*.so >/dev/null &&
	PYTHONPATH=$dest/usr/lib/python3/dist-packages /usr/bin/python3 -c \
		'import objheap, sys; sys.exit(not objheap.__file__.startswith(sys.argv[1]))' \
		"$dest"
}

python_wheel() {
	make -s -C "$scratch/tree" wheel >/dev/null 2>&1 &&
	ls "$scratch"/tree/build/python-dist/objheap-*.whl >/dev/null
}

echo "1..6"
install_matches_prefix
result $? install.pc_matches_prefix
python_builds
result $? python.builds
python_suite python env -u OBJHEAP_FAKE
result $? python.suite_without_device
python_suite python-fake env OBJHEAP_FAKE=1
result $? python.suite_on_stand_in_library
python_installs
result $? python.install_into_site_packages
python_wheel
result $? python.wheel
exit $failed
