#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh [--if-missing]: install from Debian's packages everything that
# building, booting and testing objheap needs.  Idempotent; uses sudo only
# when not root.  With --if-missing it returns at once when every package
# is already installed (what make run/check/bench call).
set -euo pipefail

PACKAGES=(
	# compiler, make, libc for static test programs
	build-essential
	# the 32-bit selftests (make selftests32), for the compat ioctl path
	gcc-multilib
	# the kernel the VM boots and the headers the module builds against
	linux-image-amd64 linux-headers-amd64
	# the VM and its initramfs
	qemu-system-x86 busybox-static cpio gzip
	# kselftest harness, checkpatch.pl and the debug kernel's source
	linux-source-6.1 xz-utils perl
	# building the debug kernel
	bc bison flex libelf-dev libssl-dev dwarves kmod
	# CPython in the VM, the baseline of the benchmarks; the Python
	# binding is built with Debian's setuptools (a wheel with python3-wheel)
	python3.11 python3-dev python3-setuptools python3-wheel
	# chroots of newer suites, whose toolchains build for newer kernels
	debootstrap
	# the manual pages: scripts/gen-man.py makes objheap(4), groff checks
	# every page (scripts/host-tests.sh)
	python3 groff-base
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done

if [ "${1:-}" = --if-missing ] && [ ${#missing[@]} = 0 ]; then
	exit 0
fi

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
if [ ${#missing[@]} != 0 ]; then
	echo "objheap: installing ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
		--no-install-recommends "${PACKAGES[@]}"
fi
# The debian packages pin linux-image-amd64 and linux-headers-amd64 to the
# same ABI, so the stock kernel and its headers always match.
"$(dirname "$0")/kernel.sh" stock >/dev/null
# make deps also prepares what is cached per machine: the unpacked
# linux-source (kselftest harness, checkpatch.pl), the debug kernel, and
# the trixie and sid chroots, brought up to their suites' newest kernels.
# The tests make whatever is missing on first use.
if [ "${1:-}" != --if-missing ]; then
	"$(dirname "$0")/kernel.sh" debug >/dev/null
	for suite in trixie sid; do
		"$(dirname "$0")/chroot.sh" "$suite" --refresh >/dev/null
	done
fi
