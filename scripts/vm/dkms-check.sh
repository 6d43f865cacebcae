#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh stock|trixie|sid: what a user of that Debian release does
# to install objheap, done for real against that release's newest kernel:
# install dkms, put the tree in /usr/src/objheap-VERSION, then dkms add,
# build, install (checking the installed module's version and vermagic)
# and remove --all.  stock runs on the host, the others in their suite's
# chroot (chroot.sh).  Not part of make check: it installs dkms, which
# pulls in a compiler toolchain and dpkg-dev.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:?usage: dkms-check.sh stock|trixie|sid}
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP_DIR/dkms.conf")
read -r _ kdir suite <<<"$("$VM_DIR/kernel.sh" "$kernel")"
rel=${kdir#/usr/src/linux-headers-}

if [ "$suite" = - ]; then
	root=
	run=(sh -c)
else
	root=$("$VM_DIR/chroot.sh" "$suite")
	run=("$VM_DIR/chroot.sh" "$suite" run sh -c)
fi

"${run[@]}" "command -v dkms >/dev/null || apt-get -q \
	-o APT::Install-Recommends=false -o Acquire::Check-Valid-Until=false \
	install -y dkms >/dev/null"
rm -rf "$root/usr/src/objheap-$version"
mkdir -p "$root/usr/src/objheap-$version"
(cd "$TOP_DIR" && git ls-files -z | xargs -0 cp --parents -t "$root/usr/src/objheap-$version")
"${run[@]}" "
	set -e
	dkms remove objheap/$version --all >/dev/null 2>&1 || true
	dkms add objheap/$version
	dkms build objheap/$version -k $rel
	dkms install objheap/$version -k $rel
	ko=\$(ls /lib/modules/$rel/updates/dkms/objheap.ko*)
	modinfo -F version \$ko | grep -qx '$version'
	modinfo -F vermagic \$ko | grep -q '^$rel '
	echo \"objheap: dkms installed \$ko, version $version, for $rel\"
	dkms remove objheap/$version --all
	! ls /lib/modules/$rel/updates/dkms/objheap.ko* 2>/dev/null
"
rm -rf "$root/usr/src/objheap-$version"
echo "objheap: dkms add, build, install and remove work for $kernel ($rel)"
