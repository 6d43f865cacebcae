#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chroot.sh SUITE [--refresh]: print the root of a Debian SUITE (trixie,
# sid) chroot that can build objheap against that suite's newest kernel,
# making it first if needed.
# chroot.sh SUITE run CMD...: run CMD in that chroot, with /proc mounted.
#
# Debian 12's compiler and libc are too old for the headers of newer
# kernels (they need gcc-14 and glibc 2.38), so the module is built for
# them inside a debootstrap minbase of their own suite, from the same
# mirror as the host's packages.  The chroot holds make, perl (W=1 runs
# scripts/kernel-doc), the suite's linux-headers-amd64 and what they pull
# in (the suite's gcc), and, unpacked beside it, the vmlinuz of the
# matching linux-image package, which the tests boot.  It is cached under
# $OBJHEAP_CACHE/chroot-SUITE, outside the clone, like the debug kernel.
#
# The kernel is whatever SUITE's linux-headers-amd64 depends on when the
# chroot is made; --refresh (what `make deps` passes) updates the chroot
# to the suite's newest kernel, so that "sid" stays the newest Debian has.
#
# The chroot also serves the newest debug kernel (kernel.sh debug-sid):
# with "--with-kbuild-tools" it gains what a kernel build needs and the
# suite's linux-source.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MIRROR=${OBJHEAP_MIRROR:-http://deb.debian.org/debian}
BUILD_TOOLS=(make perl xz-utils)
KBUILD_TOOLS=(gcc libc6-dev bc bison flex libelf-dev libssl-dev cpio python3)

suite=${1:?usage: chroot.sh trixie|sid [--refresh|--with-kbuild-tools|run CMD...]}
shift
case "$suite" in
trixie|sid) ;;
*) die "chroot.sh: unknown suite $suite (trixie or sid)" ;;
esac
root=$OBJHEAP_CACHE/chroot-$suite
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

# Run a command inside the chroot, in a private mount namespace so that
# its /proc (objtool reads /proc on newer kernels) goes away with it.
in_chroot() {
	$sudo unshare --mount --fork -- sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
		"$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

# The mirror may serve a snapshot of sid whose Release file has passed
# its Valid-Until date; its signature is still checked.
apt_in_chroot() {
	in_chroot apt-get -q -o APT::Install-Recommends=false \
		-o Acquire::Check-Valid-Until=false -o Dpkg::Use-Pty=0 "$@"
}

# The versioned headers package that linux-headers-amd64 depends on, and
# the matching kernel release ("7.2.13+deb14-amd64").
kernel_release() {
	in_chroot dpkg-query -W -f='${Depends}\n' linux-headers-amd64 |
		grep -o 'linux-headers-[^ ,]*-amd64' | head -n 1 |
		sed 's/^linux-headers-//'
}

# Unpack the vmlinuz of the matching image package into
# $root/boot/vmlinuz-REL; the package itself is not installed (its scripts
# would build an initramfs we do not use).  Up to 6.x Debian ships it as
# /boot/vmlinuz-REL in linux-image-REL; from 7.x linux-image-REL depends on
# linux-binary-REL, which holds it as /usr/lib/modules/REL/vmlinuz.
fetch_vmlinuz() {
	local rel=$1 pkg deb list path

	[ -r "$root/boot/vmlinuz-$rel" ] && return 0
	for pkg in "linux-image-$rel" "linux-binary-$rel" \
		   "linux-image-$rel-unsigned"; do
		rm -rf "$root/tmp/image"
		mkdir -p "$root/tmp/image"
		in_chroot sh -c "cd /tmp/image && apt-get -q \
			-o Acquire::Check-Valid-Until=false download $pkg" ||
			continue
		deb=$(ls "$root"/tmp/image/*.deb) || continue
		list=$(dpkg-deb -c "$deb")
		for path in "./boot/vmlinuz-$rel" "./usr/lib/modules/$rel/vmlinuz"; do
			grep -q " $path\$" <<<"$list" || continue
			mkdir -p "$root/boot"
			dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$path" \
				>"$root/boot/vmlinuz-$rel.tmp" || return 1
			mv "$root/boot/vmlinuz-$rel.tmp" "$root/boot/vmlinuz-$rel"
			rm -rf "$root/tmp/image"
			return 0
		done
	done
	echo "objheap: no package of $suite has /boot/vmlinuz-$rel" >&2
	return 1
}

make_chroot() {
	local tmp=$root.tmp

	command -v debootstrap >/dev/null ||
		die "debootstrap is not installed (run: make deps)"
	echo "objheap: making a $suite chroot in $root (about a minute)" >&2
	$sudo rm -rf "$tmp"
	$sudo debootstrap --variant=minbase \
		--include="$(IFS=,; echo "${BUILD_TOOLS[*]}")" \
		"$suite" "$tmp" "$MIRROR" >"$OBJHEAP_CACHE/chroot-$suite.log" 2>&1 ||
		{ tail -n 20 "$OBJHEAP_CACHE/chroot-$suite.log" >&2;
		  die "debootstrap $suite failed"; }
	$sudo mv "$tmp" "$root"
}

install_kernel() {
	local log=$OBJHEAP_CACHE/chroot-$suite.log

	echo "objheap: installing $suite's newest kernel headers and image" >&2
	{ apt_in_chroot update && apt_in_chroot install -y linux-headers-amd64 &&
	  fetch_vmlinuz "$(kernel_release)"; } >>"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "installing $suite's kernel failed (log: $log)"; }
}

mkdir -p "$OBJHEAP_CACHE"
exec 9>"$OBJHEAP_CACHE/.chroot-$suite.lock"
flock 9
if [ ! -e "$root/.ready" ]; then
	[ -d "$root" ] || make_chroot
	install_kernel
	touch "$root/.ready"
elif [ "${1:-}" = --refresh ]; then
	install_kernel
fi

case "${1:-}" in
run)	shift
	flock -u 9
	in_chroot "$@" ;;
--with-kbuild-tools)
	if [ ! -e "$root/.kbuild-tools" ]; then
		apt_in_chroot install -y "${KBUILD_TOOLS[@]}" \
			"linux-source-$(kernel_release | cut -d. -f1,2)" \
			>>"$OBJHEAP_CACHE/chroot-$suite.log" 2>&1 ||
			die "installing the kernel build tools in $root failed"
		touch "$root/.kbuild-tools"
	fi
	echo "$root" ;;
*)	echo "$root" ;;
esac
