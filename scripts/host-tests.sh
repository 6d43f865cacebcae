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
tree=$scratch/tree dest=$scratch/dest
man=$dest/usr/share/man
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

# Say why a check failed, as a TAP comment.
diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# Installed files name the prefix they were installed with, even when the
# library was first built for another one.
install_matches_prefix() {
	local pc

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

# The manual pages are made from a clean tree and installed under
# $(MANDIR), which follows PREFIX.
install_man() {
	make -s -C "$tree" install-man PREFIX=/usr DESTDIR="$dest" >/dev/null ||
		return 1
	[ -f "$man/man1/objheapctl.1" ] && [ -f "$man/man3/libobjheap.3" ] &&
		[ -f "$man/man4/objheap.4" ]
}

# make install installs the manual pages too (a dry run: the module's
# build and modules_install are not run).
install_includes_man() {
	local out

	out=$(make -n -C "$tree" install PREFIX=/usr DESTDIR="$dest" MAKE=: 2>&1)
	grep -q "install .* $man/man4/" <<<"$out"
}

# Every page, and every .so link, renders without one groff warning.
man_renders_cleanly() {
	local page out ret=0

	[ -d "$man" ] || return 1
	for page in "$man"/man?/*; do
		out=$(cd "$man" && groff -ww -man -Tutf8 -z \
			"${page#"$man"/}" 2>&1) || { diag "$page: groff failed"; ret=1; }
		[ -z "$out" ] || { diag "$out"; ret=1; }
	done
	return $ret
}

# No rendered line is wider than an 80-column terminal (groff warns of
# nothing that overflows in .nf and .EX blocks).
man_fits_80_columns() {
	local page wide ret=0

	[ -d "$man" ] || return 1
	for page in "$man"/man?/*; do
		wide=$(cd "$man" && groff -man -Tutf8 -P-cbou "${page#"$man"/}" \
			2>/dev/null | awk 'length > 80 { print substr($0, 1, 100) }')
		[ -z "$wide" ] || { diag "${page#"$man"/}: $wide"; ret=1; }
	done
	return $ret
}

# objheap(4) has an entry for every ioctl the uapi header defines: its
# name alone on a line, as the tag of the entry that describes it.
man_objheap4_every_ioctl() {
	local text ioctls ioctl ret=0

	text=$(groff -man -Tutf8 -P-cbou "$man/man4/objheap.4" 2>/dev/null) &&
		[ -n "$text" ] || return 1
	ioctls=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' \
		"$top/uapi/linux/objheap.h" |
		sed -nE 's/^#define\s+(OBJHEAP_\w+)\s+_IO\(.*/\1/p')
	[ -n "$ioctls" ] || { diag "no ioctl found in the header"; return 1; }
	for ioctl in $ioctls; do
		grep -qxE "[[:space:]]+$ioctl" <<<"$text" ||
			{ diag "objheap(4) has no entry for $ioctl"; ret=1; }
	done
	return $ret
}

# Every function libobjheap exports has a page, or a .so link to the page
# of its family, whose NAME section names it.
man_every_symbol_has_page() {
	local sym ret=0

	for sym in $(sed -n 's/^[[:space:]]*\(objheap_[a-z0-9_]*\);/\1/p' \
			"$top/userlib/src/libobjheap.map"); do
		if [ ! -f "$man/man3/$sym.3" ]; then
			diag "no page for $sym"
			ret=1
		elif ! (cd "$man" && groff -man -Tutf8 -P-cbou "man3/$sym.3") \
				2>/dev/null | sed -n '/^NAME/,/^[A-Z]/p' |
				grep -qw "$sym"; then
			diag "man3/$sym.3 does not name $sym"
			ret=1
		fi
	done
	return $ret
}

# And the pages document no function that is not exported.
man_names_are_exported() {
	local page name ret=0

	for page in "$man"/man3/*.3; do
		name=$(basename "$page" .3)
		[ "$name" = libobjheap ] && continue
		grep -qE "^[[:space:]]+$name;" "$top/userlib/src/libobjheap.map" ||
			{ diag "$name(3) is no exported function"; ret=1; }
	done
	return $ret
}

# objheapctl(1) shows every subcommand objheapctl.c takes in its SYNOPSIS
# and describes it, and no other.
man_objheapctl_subcommands() {
	local text subs documented sub ret=0

	text=$(groff -man -Tutf8 -P-cbou "$man/man1/objheapctl.1" 2>/dev/null) &&
		[ -n "$text" ] || return 1
	subs=$(grep -o 'strcmp(argv\[1\], "[a-z-]*")' \
		"$top/userlib/tools/objheapctl.c" | cut -d'"' -f2 | sort -u)
	documented=$(sed -n '/^SYNOPSIS/,/^[A-Z]/s/^ *objheapctl \([a-z-]*\)$/\1/p' \
		<<<"$text" | sort -u)
	[ -n "$subs" ] || { diag "no subcommand found in objheapctl.c"; return 1; }
	[ "$subs" = "$documented" ] || {
		diag "objheapctl.c has $(echo $subs)," \
			"objheapctl(1) $(echo $documented)"
		ret=1
	}
	for sub in $subs; do
		grep -qE "^[[:space:]]+$sub([[:space:]]{2,}|$)" <<<"$text" ||
			{ diag "objheapctl(1) does not describe $sub"; ret=1; }
	done
	return $ret
}

# The complete programs of the pages' EXAMPLES compile, warning-free.
man_examples_compile() {
	local page src ret=0

	for page in "$man"/man?/*; do
		grep -q '^\.SH EXAMPLES' "$page" || continue
		src=$scratch/$(basename "$page").c
		awk '/^\.SH EXAMPLES/ { e = 1; next } /^\.SH/ { e = 0 }
		     e && /^\.EX/ { c = 1; next } e && /^\.EE/ { c = 0; next }
		     c' "$page" |
			sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e 's/\\&//g' \
			    -e 's/\\(dq/"/g' >"$src"
		grep -q '^main(' "$src" || continue
		${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -I"$top/uapi" \
			-I"$top/userlib/include" -fsyntax-only "$src" 2>&1 |
			sed 's/^/# /'
		[ "${PIPESTATUS[0]}" = 0 ] || ret=1
	done
	return $ret
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

echo "1..15"
install_matches_prefix
result $? install.pc_matches_prefix
install_man
result $? install.man_pages
install_includes_man
result $? install.install_includes_man
man_renders_cleanly
result $? man.renders_without_warnings
man_fits_80_columns
result $? man.fits_80_columns
man_objheap4_every_ioctl
result $? man.objheap4_has_every_ioctl
man_every_symbol_has_page
result $? man.every_exported_function_has_a_page
man_names_are_exported
result $? man.pages_name_only_exported_functions
man_objheapctl_subcommands
result $? man.objheapctl1_has_every_subcommand
man_examples_compile
result $? man.examples_compile
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
