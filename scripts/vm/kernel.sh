#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh stock|debug: print "VMLINUZ KDIR" for a kernel the tests boot.
# kernel.sh ksft: print the kselftest directory of the unpacked linux-source.
#
# stock: Debian's linux-image-amd64 and its matching headers.
# debug: a small 6.1 built from Debian's linux-source-6.1 as tinyconfig plus
#        scripts/vm/debug.config (KASAN, UBSAN, lockdep, kmemleak, fault
#        injection, KUnit).  Built once per machine (about 4 minutes on two
#        cores) and cached under $OBJHEAP_CACHE, keyed by the source version
#        and the fragment's contents, so editing the fragment rebuilds it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build_debug() {
	local src=$1 out=$2 frag=$VM_DIR/debug.config opt missing=0

	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	echo "objheap: building the debug kernel in $out (about 4 minutes)" >&2
	log=$out.tmp/build.log
	if ! { make -C "$src" O="$out.tmp" tinyconfig &&
	       "$src/scripts/kconfig/merge_config.sh" -m -O "$out.tmp" \
			"$out.tmp/.config" "$frag" &&
	       make -C "$src" O="$out.tmp" olddefconfig; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "configuring the debug kernel failed (log: $log)"
	fi
	# merge_config only warns when a value does not stick: insist.
	while read -r opt; do
		case "$opt" in
		CONFIG_*=*) grep -qxF "$opt" "$out.tmp/.config" || {
			echo "objheap: debug config lost $opt" >&2; missing=1; } ;;
		"# CONFIG_"*" is not set") grep -qxF "$opt" "$out.tmp/.config" ||
			grep -q "^${opt#\# }" "$out.tmp/.config" || true ;;
		esac
	done <"$frag"
	[ $missing = 0 ] || die "debug.config does not apply to $src"
	if ! make -C "$src" O="$out.tmp" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "building the debug kernel failed (log: $log)"
	fi
	mv "$out.tmp" "$out"
}

debug_kernel() {
	local src ver key out
	src=$(src_tree)
	ver=$(src_version)
	key=$(cat "$VM_DIR/debug.config" | sha256sum | cut -c1-12)
	out=$OBJHEAP_CACHE/debug-$ver-$key
	if [ ! -r "$out/arch/x86/boot/bzImage" ]; then
		(
			flock 9
			[ -r "$out/arch/x86/boot/bzImage" ] || build_debug "$src" "$out"
		) 9>"$OBJHEAP_CACHE/.debug.lock"
	fi
	echo "$out/arch/x86/boot/bzImage $out"
}

case "${1:-}" in
ksft)	echo "$(src_tree)/tools/testing/selftests" ;;
stock)	stock_kernel || die "no linux-headers-*-amd64 with a matching /boot/vmlinuz (run: make deps)" ;;
debug)	debug_kernel ;;
*)	die "usage: $0 stock|debug|ksft" ;;
esac
