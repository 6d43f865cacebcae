#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the default kernel build tree: the running kernel's when its
# headers are installed, else the newest Debian linux-headers-*-amd64
# that has a matching /boot/vmlinuz-* (the kernel the VM boots).
. "$(dirname "$0")/vm/lib.sh"

build=/lib/modules/$(uname -r)/build
if [ -d "$build" ]; then
	echo "$build"
elif kernel=$(stock_kernel); then
	echo "${kernel#* }"
else
	echo "objheap: no kernel build tree; install linux-headers-$(uname -r) or run make deps" >&2
	echo /nonexistent
fi
