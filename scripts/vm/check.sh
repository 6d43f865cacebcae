#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: run every selftest in a VM on each kernel of $OBJHEAP_KERNELS
# (default: Debian 12's stock 6.1, trixie's 6.12, sid's newest, then the
# debug 6.1; see kernel.sh for the list), print each test's TAP line and
# close with "N passed, N failed, N skipped".
#
# A kernel's run also fails, as one more failure, when the module does not
# load or unload, when the VM does not finish, when a test program dies
# without reporting all its tests, or when the kernel log shows a splat
# (scan-log.sh).  Skips are counted apart, never as passes.  Exits 1 when
# anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kernels=${OBJHEAP_KERNELS:-stock trixie sid debug}
total_pass=0 total_fail=0 total_skip=0
# Every failure and its diagnostics, repeated at the end so that the last
# lines of a long log (all a CI report may keep) say what failed.
recap=$(mktemp)
vmerr=$(mktemp)
trap 'rm -f "$recap" "$vmerr"' EXIT

# Read one VM's out.log; print TAP lines prefixed with the kernel's name
# and, last, "pass fail skip".
parse_results() {
	awk -v k="$1" '
	function fail_extra(msg) { printf "[%s] not ok - %s\n", k, msg; fail++ }
	/^objheap-vm: test .* begin$/ { prog = $3; plan = -1; seen = 0; bad = 0; name = ""; next }
	/^objheap-vm: test .* exit / {
		code = $5
		if (plan >= 0 && seen != plan)
			fail_extra(prog ": reported " seen " of " plan " tests")
		else if (code != 0 && code != 4 && !bad)
			fail_extra(prog ": exited with " code)
		else if (plan < 0)
			fail_extra(prog ": printed no TAP plan")
		next
	}
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; next }
	/^#  RUN / { name = $3; next }
	/^ok [0-9]+ # SKIP/ { seen++; skip++; sub(/^ok [0-9]+ # SKIP */, "");
		printf "[%s] ok %s.%s # SKIP %s\n", k, prog, name, $0; next }
	/^ok [0-9]+ / { seen++; pass++; printf "[%s] ok %s.%s\n", k, prog, $3; next }
	/^not ok [0-9]+ / { seen++; fail++; bad = 1
		printf "[%s] not ok %s.%s\n", k, prog, ($4 == "#" ? name : $4); next }
	/^objheap-vm: insmod failed/ { fail_extra("insmod objheap.ko") }
	/^objheap-vm: rmmod failed/ { fail_extra("rmmod objheap") }
	END { printf "%d %d %d\n", pass, fail, skip }
	' "$2"
}

# The checks that need no VM come first, under [host].
if [ "${OBJHEAP_HOST_TESTS:-1}" = 1 ]; then
	host_out=$("$TOP_DIR/scripts/host-tests.sh" 2>&1)
	pass=$(grep -c '^ok ' <<<"$host_out")
	fail=$(grep -c '^not ok ' <<<"$host_out")
	sed -n 's/^\(not \)\{0,1\}ok [0-9]* /[host] &/p' <<<"$host_out" |
		sed 's/ok [0-9]* /ok /'
	grep -q '^1\.\.' <<<"$host_out" || { echo "$host_out"; fail=$((fail + 1)); }
	grep '^not ok' <<<"$host_out" | sed 's/^/[host] /' >>"$recap"
	echo "objheap: [host] $pass passed, $fail failed"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
fi

for k in $kernels; do
	start=$SECONDS
	out=$TOP_DIR/build/vm/$k-check/out.log
	rm -f "$out"
	mkdir -p "$(dirname "$out")"
	if kernel_line=$("$VM_DIR/kernel.sh" "$k"); then
		echo "objheap: [$k] building and booting ${kernel_line%% *}"
		# Kept to say in the recap why a run was not clean.
		"$VM_DIR/vm.sh" check "$k" 2>"$vmerr"
		vm_status=$?
		cat "$vmerr" >&2
	else
		: >"$vmerr"
		vm_status=1
	fi
	[ -e "$out" ] || : >"$out"
	release=$(sed -n 's/^objheap-vm: kernel \([^ ]*\) .*/\1/p' "$out")
	results=$(parse_results "$k" "$out")
	grep -v '^[0-9]* [0-9]* [0-9]*$' <<<"$results"
	grep '^\[.*\] not ok' <<<"$results" >>"$recap"
	read -r pass fail skip < <(tail -n 1 <<<"$results")
	if [ $vm_status != 0 ]; then
		echo "[$k] not ok - VM run clean (insmod, rmmod, finished, kernel log: see above)" |
			tee -a "$recap"
		grep -A 14 '^objheap: ' "$vmerr" | head -n 16 |
			sed "s/^/[$k] /" >>"$recap"
		fail=$((fail + 1))
		# A failing test's own diagnostics, for the CI log.
		grep -E '^# ' "$out" | grep -vE '^# +(RUN|OK) |^# Starting|^# Totals' | tail -40
	fi
	if [ "$fail" != 0 ]; then
		grep -E '^# ' "$out" | grep -E 'FAIL|Expected|ASSERT|fail' |
			head -60 | sed "s/^/[$k] /"
		grep -E '^# ' "$out" |
			grep -E 'FAIL |Expected|ASSERT|terminated|DIVERGENCE|undocumented' |
			grep -v ' 0 undocumented' | head -20 | sed "s/^/[$k] /" >>"$recap"
		# A program run_tests.sh had to kill, and where it was.
		grep -E '^# objheap-vm: ' "$out" | grep -v ' took [0-9]* s$' |
			head -n 20 | sed "s/^/[$k] /" >>"$recap"
	fi
	echo "objheap: [$k] ${release:-no kernel booted}: $pass passed, $fail failed, $skip skipped in $((SECONDS - start)) s"
	slowest=$(sed -n 's/^# objheap-vm: \(.*\) took \([0-9]*\) s$/\2 s \1/p' "$out" |
		sort -rn | head -n 5 | paste -sd, - | sed 's/,/, /g')
	[ -z "$slowest" ] || echo "objheap: [$k] slowest programs: $slowest"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
done

if [ -s "$recap" ]; then
	echo "objheap: what failed, again:"
	tail -n 40 "$recap"
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail = 0 ]
