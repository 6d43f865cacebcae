#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# count.sh [KERNEL]: run object_bench in the VM under the counting plugin
# (bench/count/objheap_count.c) and print, per command, the instructions
# the guest ran and the memory accesses it made, the kernel's apart from
# userspace's; and write, per command, the kernel functions that ran
# them, a profile (build/vm/KERNEL-bench/profile.txt).  Counts do not move with the host's load as times under TCG
# do, so two builds of the module can be compared in separate boots.
#
# The plugin builds against qemu's plugin header, which no binary package
# ships: it comes from the source package of the qemu installed, fetched
# once through apt's deb-src entries for the mirrors already configured,
# and cached under $OBJHEAP_CACHE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:-stock}
build=$TOP_DIR/build

# Print the directory holding qemu-plugin.h, fetching it once.
plugin_header() {
	local ver dir tmp
	ver=$(dpkg-query -W -f='${source:Version}' qemu-system-x86) ||
		die "qemu-system-x86 is not installed (run: make deps)"
	dir=$OBJHEAP_CACHE/qemu-plugin-$ver
	if [ ! -e "$dir/qemu-plugin.h" ]; then
		tmp=$(mktemp -d)
		mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/src"
		# The configured mirrors, as sources.
		[ -r /etc/apt/sources.list ] &&
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$tmp/parts/deb.list"
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			sed 's/^Types:.*/Types: deb-src/' "$f" >"$tmp/parts/$(basename "$f")"
		done
		for f in /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			sed -n 's/^deb /deb-src /p' "$f" >"$tmp/parts/$(basename "$f")"
		done
		local apt=(-o Dir::Etc::SourceList=/dev/null
			   -o Dir::Etc::SourceParts="$tmp/parts"
			   -o Dir::State::Lists="$tmp/lists")
		echo "objheap: fetching qemu $ver's source for its plugin header" >&2
		apt-get -qq "${apt[@]}" update >&2
		(cd "$tmp/src" && apt-get -qq "${apt[@]}" source --download-only \
			"qemu=$ver" >&2 2>/dev/null)
		mkdir -p "$dir"
		tar -xJf "$tmp"/src/qemu_*.orig.tar.xz -O --wildcards \
			'*/include/qemu/qemu-plugin.h' >"$dir/qemu-plugin.h.tmp"
		mv "$dir/qemu-plugin.h.tmp" "$dir/qemu-plugin.h"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

hdr=$(plugin_header)
mkdir -p "$build/count"
plugin=$build/count/objheap_count.so
gcc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC \
	-I"$hdr" -o "$plugin" "$TOP_DIR/bench/count/objheap_count.c"

logs=$build/vm/$kernel-bench
mkdir -p "$logs"
rm -f "$logs/count.log"
# One vCPU: the plugin's counters are exact only there.
VM_SMP=1 \
OBJHEAP_VM_QEMU_ARGS="-plugin $plugin,profile=on -d plugin -D $logs/count.log" \
OBJHEAP_VM_APPEND="OBJHEAP_ONLY=object_bench OBJHEAP_COUNT=1" \
	"$VM_DIR/vm.sh" bench "$kernel" >/dev/null

"$VM_DIR/count-report.py" "$logs/count.log" "$logs/out.log" "$logs/profile.txt"
echo "objheap: each command's kernel functions: $logs/profile.txt"
