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

# objheapctl, built in the scratch tree, reads the heaps from stand-ins
# for /proc/objheap (OBJHEAP_PROC, scripts/testdata/): the module cannot
# be loaded here.
ctl=$tree/build/tools/objheapctl
testdata=$top/scripts/testdata

ctl_builds() {
	[ -d "$tree" ] && make -s -C "$tree" tools >/dev/null
}

# The ids of the heap lines of top -o (after the totals and the column
# names), in order, on one line.
top_ids() {
	OBJHEAP_PROC=$1 "$ctl" top -o "${@:2}" |
		awk 'NR > 2 { printf "%s%s", s, $1; s = " " } END { print "" }'
}

# top -o: the totals in bytes, the column names, a line per heap, by held
# unless -s says otherwise.  The fixture's columns are in another order
# than version 1's, with one objheapctl does not know: they are found by
# name.  Heap 8's creator has exited (pid 0) and its command has an
# escaped space, which top undoes.
ctl_top_plain() {
	local proc=$testdata/proc-objheap-v2 out ids line ret=0

	out=$(OBJHEAP_PROC=$proc "$ctl" top -o) || { diag "top -o failed"; return 1; }
	line=$(sed -n 1p <<<"$out")
	[ "$line" = "heaps 3 in_use 3387360 held 17837328 objects 121608" ] ||
		{ diag "totals: $line"; ret=1; }
	line=$(sed -n 2p <<<"$out" | tr -s ' ' | sed 's/^ //')
	[ "$line" = "ID PID USER CGROUP ATT OBJECTS IN_USE HELD LIMIT GEN0 GEN1 GEN2 COLL MAXPAUSE LOST COMMAND" ] ||
		{ diag "column names: $line"; ret=1; }
	line=$(awk '$1 == 8' <<<"$out")
	awk '{ exit !($2 == 0 && $6 == 0 && $7 == 4160 && $8 == 13584 &&
		      $9 == 268435456 && $14 == 0) }' <<<"$line" &&
		[[ "$line" == *" objheap demo" ]] || { diag "heap 8: $line"; ret=1; }
	line=$(awk '$1 == 7' <<<"$out")
	awk '{ exit !($2 == 412 && $5 == 2 && $6 == 31608 && $7 == 2483200 &&
		      $10 == 120 && $11 == 3 && $12 == 1 && $13 == 57 &&
		      $14 == 1830211 && $15 == 0 && $16 == "python3") }' <<<"$line" ||
		{ diag "heap 7: $line"; ret=1; }
	ids=$(top_ids "$proc")
	[ "$ids" = "7 12 8" ] || { diag "by held: $ids"; ret=1; }
	ids=$(top_ids "$proc" -s objects)
	[ "$ids" = "12 7 8" ] || { diag "-s objects: $ids"; ret=1; }
	ids=$(top_ids "$proc" -s id)
	[ "$ids" = "7 8 12" ] || { diag "-s id: $ids"; ret=1; }
	# Not a terminal: the same as -o, without a single escape sequence.
	[ "$(OBJHEAP_PROC=$proc "$ctl" top </dev/null)" = "$out" ] ||
		{ diag "top without -o differs"; ret=1; }
	grep -q $'\e' <<<"$out" && { diag "escape sequence in plain output"; ret=1; }
	return $ret
}

# No heap to show: the totals say so, and only the column names follow.
ctl_top_empty() {
	local proc=$scratch/proc-objheap-empty out

	sed -n 1,2p "$testdata/proc-objheap-v2" >"$proc"
	out=$(OBJHEAP_PROC=$proc "$ctl" top -o) || return 1
	[ "$(sed -n 1p <<<"$out")" = "heaps 0 in_use 0 held 0 objects 0" ] &&
		[ "$(wc -l <<<"$out")" = 2 ] || { diag "$out"; return 1; }
}

# On a terminal (a pty), top refreshes in place, changes its order on a
# key and quits on q; the terminal's settings are the same afterwards.
ctl_top_terminal() {
	OBJHEAP_PROC=$testdata/proc-objheap-v2 /usr/bin/python3 - "$ctl" <<'PY'
import os, pty, select, sys, time

pid, fd = pty.fork()
if pid == 0:
    os.execv('/bin/sh', ['sh', '-c',
             'stty -g; "$0" top -d 0.2; echo "rc=$?"; stty -g', sys.argv[1]])
out = b''


def read_until(what, secs=20):
    """Read the pty until @what has come (or, for None, its end)."""
    global out
    end = time.monotonic() + secs
    while (what is None or what not in out) and time.monotonic() < end:
        if not select.select([fd], [], [], 0.1)[0]:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        out += data
    return what is None or what in out


def fail(why):
    print('# ' + why)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(1)


if not read_until(b'\x1b[J'):
    fail('no first frame: %r' % out[-300:])
os.write(fd, b'o')
if not read_until(b'by objects'):
    fail('o did not sort by objects: %r' % out[-300:])
os.write(fd, b'q')
read_until(None)
for _ in range(100):
    if os.waitpid(pid, os.WNOHANG)[0]:
        break
    time.sleep(0.1)
else:
    fail('top did not quit on q')
lines = [l for l in out.decode(errors='replace').replace('\r', '').split('\n') if l]
if len(lines) < 3 or 'rc=0' not in lines[-2] or lines[0] != lines[-1]:
    print('# %r: settings %s, then %s' % (lines[-2:], lines[0], lines[-1]))
    sys.exit(1)
PY
}

# show: an id that /proc/objheap does not list is not found; one it lists
# is printed a key a line, and then, since no process here can hold an
# objheap descriptor, no copy of one is had: status 1.
ctl_show() {
	local proc=$testdata/proc-objheap-v2 out err ret=0

	err=$(OBJHEAP_PROC=$proc "$ctl" show 999999 2>&1 >/dev/null)
	[ $? = 1 ] && [ "$err" = "objheapctl: heap 999999: not found (or not yours)" ] ||
		{ diag "show 999999: $err"; ret=1; }
	out=$(OBJHEAP_PROC=$proc "$ctl" show 8 2>"$scratch/show.err")
	[ $? = 1 ] || { diag "show 8 did not fail"; ret=1; }
	grep -qx 'heap:          8' <<<"$out" &&
		grep -qx 'command:       objheap demo' <<<"$out" &&
		grep -q '^pid:           0 ' <<<"$out" &&
		grep -qx 'held:          13584 (13.3K)' <<<"$out" &&
		grep -qx 'limit:         268435456 (256.0M)' <<<"$out" &&
		grep -qx 'tracked:       0 0 0' <<<"$out" ||
		{ diag "show 8:" "$out"; ret=1; }
	grep -q '^objheapctl: heap 8: ' "$scratch/show.err" ||
		{ diag "show 8: $(cat "$scratch/show.err")"; ret=1; }
	"$ctl" show 2>/dev/null
	[ $? = 2 ] || { diag "show without a heap is no usage error"; ret=1; }
	"$ctl" show x7 2>/dev/null
	[ $? = 2 ] || { diag "show x7 is no usage error"; ret=1; }
	return $ret
}

# record: a stand-in rewritten by a background loop (atomically, by
# rename) while record samples it; the heap leaves it after a while, which
# ends the recording early with what it has.  The CSV has its header and a
# line per sample; the SVG parses as XML, is SVG, and has every series with
# a point per sample (the bars of collections, two per interval).
ctl_record() {
	local proc=$scratch/proc-objheap-rec out=$scratch/rec err i ret=0

	(
		for ((i = 0; i < 40; i++)); do
			{
				echo "objheap heaps 1"
				echo "id pid uid cgroup attach objects in_use held limit gen0 gen1 gen2 collections longest_ns lost comm"
				echo "8 0 0 1 1 0 4160 13584 268435456 0 0 0 0 0 0 other"
				[ $i -lt 25 ] && echo "7 412 1000 2745 2 $((1000 + i * 10)) $((40960 + i * 4096)) $((65536 + i * 4096)) 262144 $((i * 7 % 700)) $((i % 10)) 0 $((i / 3)) $((100000 + i * 1000)) 0 a&b<c>\\040\"d'"
			} >"$proc.tmp"
			mv "$proc.tmp" "$proc"
			sleep 0.02
		done
	) &
	sleep 0.1
	err=$(OBJHEAP_PROC=$proc "$ctl" record 7 --for 5s --interval 20ms -o "$out" 2>&1)
	[ $? = 0 ] || { diag "record failed: $err"; ret=1; }
	wait
	grep -q 'heap 7 is gone' <<<"$err" || { diag "not gone: $err"; ret=1; }
	[ "$(head -1 "$out.csv")" = "time_s,in_use,held,limit,objects,gen0,gen1,gen2,collections,longest_ns,lost" ] ||
		{ diag "CSV header: $(head -1 "$out.csv")"; ret=1; }
	[ "$(wc -l <"$out.csv")" -ge 3 ] || { diag "CSV: $(cat "$out.csv")"; ret=1; }
	awk -F, 'NR > 1 && !(NF == 11 && $1 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ &&
		$4 == 262144) { bad = 1 } END { exit bad }' "$out.csv" ||
		{ diag "CSV rows: $(head -5 "$out.csv")"; ret=1; }
	/usr/bin/python3 - "$out.svg" "$(($(wc -l <"$out.csv") - 1))" <<'PY' || ret=1
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
samples = int(sys.argv[2])
if root.tag != '{http://www.w3.org/2000/svg}svg':
    print('# root is %s' % root.tag)
    sys.exit(1)
title = root.find('{http://www.w3.org/2000/svg}title')
if title is None or 'a&b<c> "d\'' not in title.text:
    print('# title: %r' % (title is not None and title.text))
    sys.exit(1)
series = {e.get('id'): e for e in root.iter() if e.get('id', '').startswith('series-')}
for name in ('in_use', 'held', 'limit', 'objects', 'gen0', 'gen1', 'gen2',
             'collections', 'longest_ns'):
    e = series.get('series-' + name)
    points = e.get('points', '').split() if e is not None else []
    want = 2 * samples if name == 'collections' else samples
    if len(points) < 2 or len(points) != want:
        print('# series-%s: %d points, %d samples' % (name, len(points), samples))
        sys.exit(1)
PY
	return $ret
}

# record of a heap that does not change, for a fixed time: the samples
# come every interval (time_s 0.000, 0.100, ..., each at most 25 ms late
# on a busy machine), the series are flat,
# and the limit (1G for 1M held) is off the scale: named, not drawn.
ctl_record_static() {
	local out=$scratch/static times

	OBJHEAP_PROC=$testdata/proc-objheap-v2 "$ctl" record 12 --for 0.3 \
		--interval 100ms -o "$out" 2>/dev/null || { diag "record failed"; return 1; }
	times=$(cut -d, -f1 "$out.csv" | tr '\n' ' ')
	awk -F, 'NR == 1 { ok = $1 == "time_s"; next }
		 { d = $1 - (NR - 2) * 0.1; if (d < -0.0005 || d > 0.025) ok = 0 }
		 END { exit !(ok && NR == 5) }' "$out.csv" ||
		{ diag "times: $times"; return 1; }
	/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
		"$out.svg" || return 1
	grep -q 'limit 1.0G, off the scale' "$out.svg" && ! grep -q series-limit "$out.svg" ||
		{ diag "the limit is drawn, or not named"; return 1; }
}

# The errors: no /proc/objheap (module not loaded), an unknown heap, a
# table without a needed column, and arguments that are no usage (run in
# the scratch directory, where a record that should not have run leaves
# its files).
ctl_errors() {
	local proc=$testdata/proc-objheap-v2 missing=$scratch/no-such-file err args ret=0

	err=$(OBJHEAP_PROC=$missing "$ctl" top -o 2>&1)
	[ $? = 1 ] && [ "$err" = "objheapctl: $missing: No such file or directory (is the objheap module loaded?)" ] ||
		{ diag "top, no file: $err"; ret=1; }
	if [ ! -e /proc/objheap ]; then
		err=$(env -u OBJHEAP_PROC "$ctl" top -o 2>&1)
		[ $? = 1 ] && [ "$err" = "objheapctl: /proc/objheap: No such file or directory (is the objheap module loaded?)" ] ||
			{ diag "top, no /proc/objheap: $err"; ret=1; }
	fi
	err=$(OBJHEAP_PROC=$missing "$ctl" record 7 --for 1s -o "$scratch/none" 2>&1)
	[ $? = 1 ] && [ ! -e "$scratch/none.csv" ] || { diag "record, no file: $err"; ret=1; }
	err=$(OBJHEAP_PROC=$proc "$ctl" record 999999 --for 1s -o "$scratch/none" 2>&1)
	[ $? = 1 ] && [ "$err" = "objheapctl: heap 999999: not found (or not yours)" ] &&
		[ ! -e "$scratch/none.csv" ] || { diag "record 999999: $err"; ret=1; }
	sed '2s/longest_ns/longest/' "$proc" >"$scratch/proc-objheap-bad"
	err=$(OBJHEAP_PROC=$scratch/proc-objheap-bad "$ctl" top -o 2>&1)
	[ $? = 1 ] && grep -q 'no column longest_ns' <<<"$err" ||
		{ diag "a missing column: $err"; ret=1; }
	sed '3s/^python3 0 16775168/python3 0 16x/' "$proc" >"$scratch/proc-objheap-bad"
	err=$(OBJHEAP_PROC=$scratch/proc-objheap-bad "$ctl" top -o 2>&1)
	[ $? = 1 ] || { diag "a bad number: $err"; ret=1; }
	for args in "record 7 --for 0" "record 7 --for abc" "record 7 --for -1" \
		    "record 7 --interval 5s --for 1s" "record 7 --interval 0" \
		    "record 7 --for 10x" "record" "record x7" "record 7 8" \
		    "record 7 --bogus" "top -s bogus" "top -d 0" "top -n 0" \
		    "top extra" "show" "nosuchcommand"; do
		(cd "$scratch" && OBJHEAP_PROC=$proc "$ctl" $args >/dev/null 2>&1)
		[ $? = 2 ] || { diag "objheapctl $args: not status 2"; ret=1; }
	done
	return $ret
}

echo "1..23"
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
ctl_builds
result $? objheapctl.builds
ctl_top_plain
result $? objheapctl.top_plain_output
ctl_top_empty
result $? objheapctl.top_no_heaps
ctl_top_terminal
result $? objheapctl.top_terminal_restores_settings
ctl_show
result $? objheapctl.show_from_proc
ctl_record
result $? objheapctl.record_csv_and_svg
ctl_record_static
result $? objheapctl.record_samples_every_interval
ctl_errors
result $? objheapctl.errors
exit $failed
