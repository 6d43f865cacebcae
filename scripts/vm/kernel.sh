#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh KERNEL: print "VMLINUZ KDIR SUITE" for a kernel the tests boot.
# SUITE is "-" when the module builds on the host against KDIR, or the
# Debian suite whose chroot (chroot.sh) builds it, KDIR being a path in
# that chroot.
# kernel.sh ksft: print the kselftest directory of the unpacked linux-source.
#
# stock:     Debian 12's linux-image-amd64 (6.1) and its matching headers.
# trixie:    Debian 13's newest kernel (6.12), from a trixie chroot.
# sid:       the newest kernel Debian has, from a sid chroot.
# debug:     a small 6.1 built from Debian's linux-source-6.1 as tinyconfig
#            plus scripts/vm/debug.config (KASAN, UBSAN, lockdep, kmemleak,
#            fault injection, KUnit).  Built once per machine (about 4
#            minutes on two cores) and cached under $OBJHEAP_CACHE, keyed by
#            the source version and the fragment's contents, so editing the
#            fragment rebuilds it.
# debug-sid: the same fragment on sid's linux-source, built in the sid
#            chroot and cached there, keyed the same way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# build_debug SRC OUT [SUITE]: configure and build the debug kernel from
# SRC into OUT, on the host or, with SUITE, in that suite's chroot (SRC
# and OUT are then paths in the chroot; $root is the chroot's root).
build_debug() {
	local src=$1 out=$2 suite=${3:-} frag=$VM_DIR/debug.config opt missing=0
	local top=${root:-} run=()

	[ -n "$suite" ] && run=("$VM_DIR/chroot.sh" "$suite" run)

	# Built in place: from 6.x on the output tree records its own path
	# (KBUILD_OUTPUT), so it cannot be renamed once built.  The marker
	# .objheap-built says the build finished.
	rm -rf "$top$out"
	mkdir -p "$top$out"
	cp "$frag" "$top$out/debug.config"
	echo "objheap: building the debug kernel in $top$out (about 4 minutes)" >&2
	log=$top$out/build.log
	if ! { "${run[@]}" make -C "$src" O="$out" tinyconfig &&
	       "${run[@]}" "$src/scripts/kconfig/merge_config.sh" -m \
			-O "$out" "$out/.config" "$out/debug.config" &&
	       "${run[@]}" make -C "$src" O="$out" olddefconfig; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "configuring the debug kernel failed (log: $log)"
	fi
	# merge_config only warns when a value does not stick: insist.
	while read -r opt; do
		case "$opt" in
		CONFIG_*=*) grep -qxF "$opt" "$top$out/.config" || {
			echo "objheap: debug config lost $opt" >&2; missing=1; } ;;
		"# CONFIG_"*" is not set") grep -qxF "$opt" "$top$out/.config" ||
			grep -q "^${opt#\# }" "$top$out/.config" || true ;;
		esac
	done <"$frag"
	[ $missing = 0 ] || die "debug.config does not apply to $src"
	if ! "${run[@]}" make -C "$src" O="$out" -j"$(nproc)" bzImage modules \
			>>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "building the debug kernel failed (log: $log)"
	fi
	touch "$top$out/.objheap-built"
}

debug_kernel() {
	local src ver key out
	src=$(src_tree)
	ver=$(src_version)
	key=$(cat "$VM_DIR/debug.config" | sha256sum | cut -c1-12)
	out=$OBJHEAP_CACHE/debug-$ver-$key
	if [ ! -e "$out/.objheap-built" ]; then
		(
			flock 9
			[ -e "$out/.objheap-built" ] || build_debug "$src" "$out"
		) 9>"$OBJHEAP_CACHE/.debug.lock"
	fi
	echo "$out/arch/x86/boot/bzImage $out -"
}

# The kernel of a suite's chroot, made on first use.
chroot_kernel() {
	local suite=$1 root kernel

	root=$("$VM_DIR/chroot.sh" "$suite") || exit 1
	kernel=$(newest_kernel "$root") ||
		die "no kernel in the $suite chroot $root (remove it and retry)"
	echo "$kernel $suite"
}

# The debug fragment on sid's linux-source, built in the sid chroot.
debug_sid_kernel() {
	local src ver key out tarball
	root=$("$VM_DIR/chroot.sh" sid --with-kbuild-tools) || exit 1
	tarball=$(ls "$root"/usr/src/linux-source-*.tar.xz | sort -V | tail -n 1)
	ver=$(basename "$tarball" .tar.xz)
	key=$(cat "$VM_DIR/debug.config" | sha256sum | cut -c1-12)
	src=/build/$ver
	out=/build/debug-$ver-$key
	if [ ! -e "$root$out/.objheap-built" ]; then
		(
			flock 9
			if [ ! -e "$root$src/.unpacked" ]; then
				echo "objheap: unpacking $tarball in the sid chroot" >&2
				rm -rf "$root$src"
				mkdir -p "$root$src"
				tar -xJf "$tarball" -C "$root$src" --strip-components=1
				touch "$root$src/.unpacked"
			fi
			[ -e "$root$out/.objheap-built" ] ||
				build_debug "$src" "$out" sid
		) 9>"$OBJHEAP_CACHE/.debug-sid.lock"
	fi
	echo "$root$out/arch/x86/boot/bzImage $out sid"
}

case "${1:-}" in
ksft)	echo "$(src_tree)/tools/testing/selftests" ;;
stock)	kernel=$(stock_kernel) ||
		die "no linux-headers-*-amd64 with a matching /boot/vmlinuz (run: make deps)"
	echo "$kernel -" ;;
trixie|sid)
	chroot_kernel "$1" ;;
debug)	debug_kernel ;;
debug-sid)
	debug_sid_kernel ;;
*)	die "usage: $0 stock|trixie|sid|debug|debug-sid|ksft" ;;
esac
