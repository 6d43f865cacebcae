# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the VM tooling; sourced, not run.
#
# Everything expensive (the unpacked linux-source tree, the debug kernel)
# is cached per machine outside the clone, under $OBJHEAP_CACHE.

OBJHEAP_CACHE=${OBJHEAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/objheap}
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$VM_DIR/../.." && pwd)

die() { echo "objheap: $*" >&2; exit 1; }

# Version of Debian's linux-source-6.1 package, which names the cache entries.
src_version() {
	dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
		die "linux-source-6.1 is not installed (run: make deps)"
}

# Print the path of the unpacked linux-source tree, unpacking it once.
src_tree() {
	local ver dir tarball=/usr/src/linux-source-6.1.tar.xz
	ver=$(src_version) || exit 1
	dir=$OBJHEAP_CACHE/linux-source-$ver
	if [ ! -e "$dir/.unpacked" ]; then
		[ -r "$tarball" ] || die "$tarball missing (run: make deps)"
		mkdir -p "$OBJHEAP_CACHE"
		(
			flock 9
			if [ ! -e "$dir/.unpacked" ]; then
				echo "objheap: unpacking $tarball into $dir" >&2
				rm -rf "$dir.tmp" "$dir"
				mkdir -p "$dir.tmp"
				tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1
				touch "$dir.tmp/.unpacked"
				mv "$dir.tmp" "$dir"
			fi
		) 9>"$OBJHEAP_CACHE/.src.lock" || exit 1
	fi
	echo "$dir"
}

# The newest linux-headers-*-amd64 under ROOT (default /) with a matching
# ROOT/boot/vmlinuz-*.  Prints "VMLINUZ KDIR", KDIR as seen from ROOT.
newest_kernel() {
	local root=${1:-} h rel
	for h in $(ls -d "$root"/usr/src/linux-headers-*-amd64 2>/dev/null | sort -rV); do
		rel=${h#"$root"/usr/src/linux-headers-}
		if [ -r "$root/boot/vmlinuz-$rel" ]; then
			echo "$root/boot/vmlinuz-$rel /usr/src/linux-headers-$rel"
			return 0
		fi
	done
	return 1
}

# Debian's stock kernel: the host's own linux-image-amd64 and headers.
stock_kernel() {
	newest_kernel
}
