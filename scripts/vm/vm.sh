#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh MODE [KERNEL]: build the module for a kernel (stock, trixie, sid,
# debug, debug-sid: see kernel.sh), pack an initramfs and boot that kernel
# in qemu (TCG) with the module loaded.
#
#   run    the demo from userlib/examples, with the production module
#   check  every selftest (used by check.sh, which reads the results)
#   bench  the benchmarks
#   shell  an interactive shell on the console
#
# The VM's output (serial port 2) is written to build/vm/KERNEL-MODE/out.log
# and, for run and bench, to stdout; the kernel console (serial port 1) to
# console.log beside it.  A VM that does not finish within $VM_TIMEOUT
# seconds is killed: nothing here can hang.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: vm.sh run|check|bench|shell [stock|trixie|sid|debug|debug-sid]}
kernel=${2:-stock}
build=$TOP_DIR/build
VM_MEM=${VM_MEM:-2048}
# A stock kernel runs the suite in a few minutes; a debug kernel, with
# KASAN and the fail-nth loops in 64 and 32 bits, in about half an hour.
case "$kernel" in
debug*)	VM_TIMEOUT=${VM_TIMEOUT:-3600} ;;
*)	VM_TIMEOUT=${VM_TIMEOUT:-1500} ;;
esac

kernel_line=$("$VM_DIR/kernel.sh" "$kernel") || exit 1
read -r vmlinuz kdir suite <<<"$kernel_line"

# The module, built out of the clone's kmod/ so that several kernels and
# variants can coexist.  Warnings at W=1 are errors here.  A kernel newer
# than the host's toolchain is built for in its suite's chroot, from a
# copy of the sources there, and the result copied back.
build_module() {
	local out=$1 variant=$2 test=n src=$1 root=

	[ "$variant" = test ] && test=y
	rm -rf "$out"
	mkdir -p "$out"
	if [ "$suite" != - ]; then
		root=$("$VM_DIR/chroot.sh" "$suite")
		src=/tmp/objheap-$kernel-$variant
		rm -rf "$root$src"
		mkdir -p "$root$src"
	fi
	cp -a "$TOP_DIR/Kbuild" "$TOP_DIR/dkms.conf" "$TOP_DIR/kmod" \
		"$TOP_DIR/uapi" "$root$src/"
	if [ "$suite" = - ]; then
		make -s -C "$kdir" M="$out" W=1 KCFLAGS=-Werror \
			CONFIG_OBJHEAP_TEST=$test modules >&2
	else
		"$VM_DIR/chroot.sh" "$suite" run make -s -C "$kdir" M="$src" \
			W=1 KCFLAGS=-Werror CONFIG_OBJHEAP_TEST=$test modules >&2
		mkdir -p "$out/kmod"
		cp "$root$src/kmod/objheap.ko" "$out/kmod/objheap.ko"
	fi
}

# Debian's CPython, the baseline of the benchmarks: the interpreter, the
# shared libraries it needs and the standard library without its tests.
pack_python() {
	local root=$1 lib

	[ -x /usr/bin/python3.11 ] || die "python3.11 is missing (run: make deps)"
	mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/lib64"
	cp /usr/bin/python3.11 "$root/usr/bin/python3"
	for lib in $(ldd /usr/bin/python3.11 | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	tar -C /usr/lib -cf - --exclude=test --exclude=idlelib \
		--exclude=tkinter --exclude=ensurepip --exclude=lib2to3 \
		--exclude=__pycache__ --exclude=site-packages \
		--exclude=dist-packages python3.11 | tar -C "$root/usr/lib" -xf -
}

# The Python binding (make python), its tests and examples, and the
# interpreter to run them: /opt/objheap/python; the suite runs as the
# selftest program objheap_python.
pack_python_binding() {
	local root=$1 dest=$1/opt/objheap/python

	[ -d "$build/python/objheap" ] || die "no Python binding in build/python (run: make python)"
	mkdir -p "$dest/tests" "$dest/examples"
	cp -a "$build/python/objheap" "$dest/"
	cp "$TOP_DIR"/python/tests/*.py "$dest/tests/"
	cp "$TOP_DIR"/python/examples/*.py "$dest/examples/"
	pack_python "$root"
}

pack_initramfs() {
	local root=$1 ko=$2 out=$3

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
	mkdir -p "$root/opt/objheap/bin/selftests"
	cp /bin/busybox "$root/bin/busybox"
	cp "$VM_DIR/init" "$root/init"
	cp "$ko" "$root/lib/modules/objheap.ko"
	cp "$TOP_DIR/selftests/run_tests.sh" "$root/opt/objheap/bin/"
	cp "$build"/examples/* "$build"/tools/* "$root/opt/objheap/bin/" 2>/dev/null || true
	case "$mode" in
	check|shell)
		cp "$build"/selftests/* "$root/opt/objheap/bin/selftests/"
		cp "$TOP_DIR/python/tests/objheap_python.sh" \
			"$root/opt/objheap/bin/selftests/objheap_python"
		pack_python_binding "$root" ;;
	bench)
		mkdir -p "$root/opt/objheap/bin/bench"
		cp "$TOP_DIR/bench/run_bench.sh" "$TOP_DIR"/bench/*.py \
			"$build"/bench/* "$root/opt/objheap/bin/bench/"
		pack_python_binding "$root" ;;
	esac
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
}

variant=test
[ "$mode" = run ] && variant=prod
kbuild=$build/kmod-$kernel-$variant
build_module "$kbuild" "$variant"

logs=$build/vm/$kernel-$mode
initrd=$build/vm/$kernel-$mode.cpio.gz
pack_initramfs "$build/vm/$kernel-$mode.root" "$kbuild/kmod/objheap.ko" "$initrd"
mkdir -p "$logs"

append="console=ttyS0 panic=-1 ohmode=$mode"
# Debug kernel: every KASAN report, not only the first; SLUB's own
# consistency checks and red zones on top of KASAN.
case "$kernel" in
debug*)	append="$append kasan_multi_shot slub_debug=FZ" ;;
esac
# Extra parameters, e.g. variables for the tests (make stress): the
# kernel passes parameters it does not know to /init as environment.
append="$append ${OBJHEAP_VM_APPEND:-}"

qemu=(qemu-system-x86_64 -m "$VM_MEM" -smp "${VM_SMP:-2}" -no-reboot -display none
      -kernel "$vmlinuz" -initrd "$initrd" -append "$append")
# The newer kernels' vCPUs take turns on one host thread: with a thread
# each, qemu 7.2 has let one of them run the breakpoint of a patch of the
# kernel's text after the patch had ended: twice an "Oops: int3" and once
# a hang, in three CI runs on these kernels (Documentation/testing.rst).
case "$kernel" in
trixie | sid | debug-sid) qemu+=(-accel tcg,thread=single) ;;
esac
# Extra options for qemu, split on blanks (count.sh's plugin).
if [ -n "${OBJHEAP_VM_QEMU_ARGS:-}" ]; then
	read -r -a extra <<<"$OBJHEAP_VM_QEMU_ARGS"
	qemu+=("${extra[@]}")
fi

if [ "$mode" = shell ]; then
	exec "${qemu[@]}" -nographic -serial mon:stdio -serial null
fi

# Both serial ports are written to files by qemu itself.  A pipe would
# not do: with qemu 7.2, once a pipe on its stdout has been full (its
# reader starved of CPU on a busy machine), the second port's output
# stops for good, and every program in the guest that writes to it
# blocks, without a word on the console.  Run and bench follow the
# file as it grows; the tty's carriage returns go at the end.
out_log=$logs/out.log
: >"$out_log"
set +e
timeout --kill-after=10 "$VM_TIMEOUT" "${qemu[@]}" -monitor none \
	-serial "file:$logs/console.log" -serial "file:$out_log" </dev/null &
qemu_pid=$!
# Started in the background, qemu ignores the terminal's ^C: pass it on.
trap 'kill "$qemu_pid" 2>/dev/null' INT TERM
if [ "$mode" != check ]; then
	tail -n +1 -f --pid=$qemu_pid "$out_log" | tr -d '\r' &
fi
wait $qemu_pid
rc=$?
# The follower stops once it has read what qemu wrote last.
wait
trap - INT TERM
sed -i 's/\r//g' "$out_log"
set -e

status=0
if [ "$rc" != 0 ]; then
	echo "objheap: qemu exited with $rc (124: no end within $VM_TIMEOUT s)" >&2
	status=1
fi
for marker in "insmod ok" "rmmod ok" "done"; do
	if ! grep -q "^objheap-vm: $marker" "$logs/out.log"; then
		echo "objheap: the VM never said \"$marker\" (see $logs)" >&2
		status=1
	fi
done
"$VM_DIR/scan-log.sh" "$logs/console.log" || status=1
exit $status
