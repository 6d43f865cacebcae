#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every objheap selftest in turn, each under a timeout, with markers
# around its TAP output that scripts/vm/check.sh reads on the host.
# NAME-m32 is the 32-bit build of NAME: it runs where the kernel runs
# 32-bit programs (IA32 emulation, which registers abi.vsyscall32) and
# reports one skip elsewhere.
timeout=${OBJHEAP_TEST_TIMEOUT:-300}

# How long the generated tests run (objheap_model, objheap_fuzz): a
# bounded amount by default; about ten times less on the debug kernel,
# which KASAN and the rest make about ten times slower; and, under make
# stress (OBJHEAP_STRESS=1 on the kernel command line, which reaches us
# as environment), 10^7 model commands and a long fuzz run, alone.
#
# make check draws its seeds from a fixed base (checked beforehand for 200
# model seeds and 20 fuzz seeds), so that a run is reproducible and a
# landing cannot fail on a new seed; make stress and a hand-run program
# draw them from the clock, to find what the fixed ones do not.
# OBJHEAP_ONLY=prog1,prog2 on the kernel command line runs only those;
# OBJHEAP_REPEAT=N runs the whole list N times, to catch what fails rarely.
repeat=${OBJHEAP_REPEAT:-1}
only=$(echo "${OBJHEAP_ONLY:-}" | tr , ' ')
if [ -z "${OBJHEAP_STRESS:-}" ]; then
	export OBJHEAP_SEED=${OBJHEAP_SEED:-4242000}
fi
if [ -n "${OBJHEAP_STRESS:-}" ]; then
	export OBJHEAP_SEEDS=${OBJHEAP_SEEDS:-100}
	export OBJHEAP_OPS=${OBJHEAP_OPS:-100000}
	export OBJHEAP_FUZZ_SEEDS=${OBJHEAP_FUZZ_SEEDS:-100}
	export OBJHEAP_FUZZ_ITERS=${OBJHEAP_FUZZ_ITERS:-20000}
	timeout=${OBJHEAP_TEST_TIMEOUT:-14400}
	only="objheap_model objheap_fuzz"
elif grep -q kasan /proc/cmdline; then
	# Its slowest programs take about four minutes.
	timeout=${OBJHEAP_TEST_TIMEOUT:-900}
	export OBJHEAP_SEEDS=${OBJHEAP_SEEDS:-6}
	export OBJHEAP_OPS=${OBJHEAP_OPS:-800}
	export OBJHEAP_FUZZ_SEEDS=${OBJHEAP_FUZZ_SEEDS:-4}
	export OBJHEAP_FUZZ_ITERS=${OBJHEAP_FUZZ_ITERS:-1000}
fi

# The processes of session $1, but zombies, which hold no file: the
# harness puts each test in a process group of its own, in the session
# run_one() starts.
session_pids() {
	local d

	for d in /proc/[0-9]*; do
		case "$(cut -d' ' -f3,6 "$d/stat" 2>/dev/null)" in
		"Z $1") ;;
		*" $1") echo "${d#/proc/}" ;;
		esac
	done
}

# Where each process of session $1 is: its state, and its kernel stack
# when it is in the kernel; then every CPU's backtrace, on the console.
# For a program that did not finish in time.
dump_session() {
	local p

	for p in $(session_pids "$1"); do
		echo "# objheap-vm: pid $p $(cut -d' ' -f2,3 /proc/$p/stat 2>/dev/null)" \
			"wchan $(cat /proc/$p/wchan 2>/dev/null)"
		sed 's/^/# objheap-vm:   /' /proc/$p/stack 2>/dev/null
	done
	echo l >/proc/sysrq-trigger 2>/dev/null
}

# Kill what is left of session $1, and wait (10 s at most) until it is
# gone: a test left behind would keep its heaps, and the module, busy.
kill_session() {
	local n=0 pids

	while [ $n -lt 100 ]; do
		pids=$(session_pids "$1")
		[ -n "$pids" ] || return 0
		kill -KILL $pids 2>/dev/null
		sleep 0.1
		n=$((n + 1))
	done
}

# Run a test program in a session of its own and, if it is still running
# after $timeout seconds, say where its processes are and kill them all.
# Returns the program's status, 124 after a timeout as timeout(1).
run_one() {
	local pid watchdog rc

	setsid "$1" &
	pid=$!
	(sleep "$timeout" && touch /tmp/timed-out.$pid &&
	 dump_session "$pid" && kill_session "$pid") 2>/dev/null &
	watchdog=$!
	wait $pid
	rc=$?
	kill $watchdog 2>/dev/null
	kill_session "$pid"
	if [ -e /tmp/timed-out.$pid ]; then
		echo "# objheap-vm: $1 killed after $timeout s"
		rc=124
	fi
	return $rc
}

# Each program's time, on the guest's clock, goes to the log as a TAP
# comment; check.sh names the slowest.
cd /opt/objheap/bin/selftests || exit 1
for round in $(seq "$repeat"); do
	[ "$repeat" = 1 ] || echo "# objheap-vm: round $round of $repeat"
	for t in *; do
		[ -x "$t" ] || continue
		case " ${only:-$t} " in
		*" $t "*) ;;
		*) continue ;;
		esac
		echo "objheap-vm: test $t begin"
		case "$t" in
		*-m32)	if [ ! -e /proc/sys/abi/vsyscall32 ]; then
				printf '1..1\n#  RUN ia32.runs\n'
				echo 'ok 1 # SKIP no IA32 emulation in this kernel'
				echo "objheap-vm: test $t exit 4"
				continue
			fi ;;
		esac
		start=$(date +%s)
		run_one "./$t"
		rc=$?
		echo "# objheap-vm: $t took $(($(date +%s) - start)) s"
		echo "objheap-vm: test $t exit $rc"
		# The collector's programs again, with every heap incremental.
		case "$t" in
		objheap_gc|objheap_weakref|objheap_pressure)
			echo "objheap-vm: test $t+incremental begin"
			start=$(date +%s)
			OBJHEAP_GC_MODE=incremental run_one "./$t"
			rc=$?
			echo "# objheap-vm: $t+incremental took $(($(date +%s) - start)) s"
			echo "objheap-vm: test $t+incremental exit $rc" ;;
		esac
	done
done
