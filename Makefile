# SPDX-License-Identifier: GPL-2.0
#
# objheap: the module is built by kbuild (see Kbuild and kmod/Kbuild); this
# Makefile wraps it and builds libobjheap, the selftests and the examples.
#
#   make            module, library, selftests, examples
#   make run        build, boot Debian's kernel in qemu, run the demo
#   make check      the selftests on Debian 12's 6.1, trixie's 6.12, sid's
#                   newest kernel and a debug 6.1
#   make check-debug-newest
#                   the selftests on a debug build of sid's newest kernel
#   make stress     10^7 commands of the model tester, a long fuzz run
#   make bench      benchmarks, in one VM boot of Debian's kernel
#   make count      instructions and memory accesses per command, counted
#                   by a qemu plugin (scripts/vm/count.sh)
#   make shell      a shell in the VM with the module loaded
#   make deps       install what all of the above needs (Debian 12)
#   make man        the manual pages, into build/man
#   make install    module, library, header, pkg-config file, objheapctl,
#                   manual pages, Python binding
#   make python     the Python binding, into build/python (PYTHONPATH)
#   make wheel      the Python binding as a wheel, into build/python-dist

# One version for the module, the library and the DKMS package.
VERSION		:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
SOVERSION	:= 0

KDIR		?= $(shell scripts/kdir.sh)
# The kernel that run, bench and shell boot: stock, trixie, sid, debug or
# debug-sid (scripts/vm/kernel.sh).
KERNEL		?= stock
PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
BINDIR		?= $(PREFIX)/bin
DESTDIR		?=

# The kselftest harness comes from Debian's linux-source-6.1, unpacked
# once per machine by the VM tooling; point KSFT_DIR elsewhere to use
# another kernel tree's tools/testing/selftests.
KSFT_DIR	?= $(shell scripts/vm/kernel.sh ksft)

CC		?= cc
CFLAGS		?= -O2 -g
WARNFLAGS	:= -Wall -Wextra -Werror
BUILD		:= build
UAPI_CFLAGS	:= -Iuapi

LIB_SRCS	:= $(wildcard userlib/src/*.c)
LIB_OBJS	:= $(LIB_SRCS:userlib/src/%.c=$(BUILD)/userlib/%.o)
LIB_PIC_OBJS	:= $(LIB_SRCS:userlib/src/%.c=$(BUILD)/userlib/%.pic.o)
LIB_HDRS	:= userlib/include/libobjheap.h uapi/linux/objheap.h
# A 64-bit off_t everywhere, so that a 32-bit library's mmap() is mmap64():
# a payload's offset (OBJHEAP_MAP_OFFSET) may pass 4 GiB.
LIB_CFLAGS	:= -std=gnu11 $(WARNFLAGS) $(UAPI_CFLAGS) -Iuserlib/include \
		   -D_FILE_OFFSET_BITS=64 -fvisibility=hidden $(CFLAGS)
LIB_A		:= $(BUILD)/userlib/libobjheap.a
# The same objects built -fPIC, for the Python extension to link statically.
LIB_PIC_A	:= $(BUILD)/userlib/libobjheap-pic.a
LIB_SO		:= $(BUILD)/userlib/libobjheap.so.$(VERSION)
LIB_SONAME	:= libobjheap.so.$(SOVERSION)
LIB_PC		:= $(BUILD)/userlib/libobjheap.pc

EXAMPLES	:= $(patsubst userlib/examples/%.c,$(BUILD)/examples/%,\
		     $(wildcard userlib/examples/*.c))
TOOLS		:= $(patsubst userlib/tools/%.c,$(BUILD)/tools/%,\
		     $(wildcard userlib/tools/*.c))
SELFTESTS	:= $(patsubst selftests/%.c,$(BUILD)/selftests/%,\
		     $(wildcard selftests/*.c))
SELFTEST_HDRS	:= $(wildcard selftests/*.h) kmod/objheap_test.h
BENCHES		:= $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

# The selftests again as 32-bit programs, on a 32-bit libobjheap, to run
# the 64-bit kernel's compat ioctl path (Debian: gcc-multilib).  They sit
# next to the others as NAME-m32, so the VM runs them too.
LIB32_OBJS	:= $(LIB_SRCS:userlib/src/%.c=$(BUILD)/userlib32/%.o)
LIB32_A		:= $(BUILD)/userlib32/libobjheap.a
SELFTESTS32	:= $(SELFTESTS:%=%-m32)

# Programs that run in the VM are static: the initramfs has no libc.
PROG_CFLAGS	:= -std=gnu11 $(WARNFLAGS) $(UAPI_CFLAGS) -Iuserlib/include \
		   $(CFLAGS) -static -pthread

# The harness's EXPECT_*() compare whatever they are given, signed or not
# (the kernel builds its selftests with -Wall alone): sign-compare is the
# one -Wextra warning the selftests do without.
SELFTEST_CFLAGS	= -isystem $(KSFT_DIR) -Ikmod -Wno-sign-compare \
		  -DOBJHEAP_VERSION='"$(VERSION)"'

.PHONY: FORCE all module lib examples tools selftests selftests32 benches deps run \
	check check-debug-newest stress bench count shell man python python-fake wheel \
	install install-lib install-tools install-man install-python \
	modules_install checkpatch clean

all: module lib examples tools selftests benches

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib: $(LIB_A) $(LIB_PIC_A) $(LIB_SO) $(LIB_PC) $(BUILD)/uapi-c90.o

# The uapi header must stand alone and compile as C90.
$(BUILD)/uapi-c90.o: uapi/linux/objheap.h
	@mkdir -p $(@D)
	echo '#include <linux/objheap.h>' | \
		$(CC) -std=c90 -Wall -Wextra -Werror $(UAPI_CFLAGS) \
		-x c -c -o $@ -

$(BUILD)/userlib/%.o: userlib/src/%.c $(LIB_HDRS) userlib/src/*.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(BUILD)/userlib/%.pic.o: userlib/src/%.c $(LIB_HDRS) userlib/src/*.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -fPIC -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(LIB_PIC_A): $(LIB_PIC_OBJS)
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_PIC_OBJS) userlib/src/libobjheap.map
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=userlib/src/libobjheap.map -o $@ $(LIB_PIC_OBJS)
	ln -sf libobjheap.so.$(VERSION) $(BUILD)/userlib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILD)/userlib/libobjheap.so

# The .pc file names the install paths, so it is made again whenever they
# change: `make` then `make install PREFIX=/usr` installs one that says /usr.
PC_VARS		:= $(PREFIX):$(LIBDIR):$(INCLUDEDIR):$(VERSION)
$(BUILD)/userlib/pc-vars: FORCE
	@mkdir -p $(@D)
	@echo '$(PC_VARS)' | cmp -s - $@ || echo '$(PC_VARS)' >$@

$(LIB_PC): userlib/libobjheap.pc.in $(BUILD)/userlib/pc-vars
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $< >$@

examples: $(EXAMPLES)
tools: $(TOOLS)
selftests: $(SELFTESTS)

$(BUILD)/examples/%: userlib/examples/%.c $(LIB_A) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LIB_A)

$(BUILD)/tools/%: userlib/tools/%.c $(LIB_A) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -o $@ $< $(LIB_A)

$(BUILD)/selftests/%: selftests/%.c $(LIB_A) $(LIB_HDRS) $(SELFTEST_HDRS)
	@mkdir -p $(@D)
	@test -r "$(KSFT_DIR)/kselftest_harness.h" || \
		{ echo "no kselftest_harness.h in KSFT_DIR=$(KSFT_DIR)"; exit 1; }
	$(CC) $(PROG_CFLAGS) $(SELFTEST_CFLAGS) -o $@ $< $(LIB_A) -lm

selftests32: $(SELFTESTS32) $(BUILD)/uapi-layout.ok

$(BUILD)/userlib32/%.o: userlib/src/%.c $(LIB_HDRS) userlib/src/*.h
	@mkdir -p $(@D)
	$(CC) -m32 $(LIB_CFLAGS) -c -o $@ $<

$(LIB32_A): $(LIB32_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/selftests/%-m32: selftests/%.c $(LIB32_A) $(LIB_HDRS) $(SELFTEST_HDRS)
	@mkdir -p $(@D)
	$(CC) -m32 $(PROG_CFLAGS) $(SELFTEST_CFLAGS) -o $@ $< $(LIB32_A) -lm

# The uapi (and the test interface) must lay out every structure the same
# for 32-bit and 64-bit programs, with no implicit padding.
$(BUILD)/uapi-layout.ok: uapi/linux/objheap.h kmod/objheap_test.h \
		scripts/uapi-layout.sh
	scripts/uapi-layout.sh $(BUILD)
	touch $@

# Whether $(CC) links static 32-bit programs.
cc_m32 = $(shell echo 'int main(void) { return 0; }' | \
	   $(CC) -m32 -static -x c -o /dev/null - 2>/dev/null && echo y)

benches: $(BENCHES)

# The Python binding (python/), built by Debian's setuptools against
# Debian's interpreter: the one the VM packs.  setup.py decides what is
# out of date.  The wheel needs python3-wheel.
PYTHON		?= /usr/bin/python3
PY_BUILD	:= $(CURDIR)/$(BUILD)/python
PY_SETUP	:= cd python && OBJHEAP_PIC_LIB=$(CURDIR)/$(LIB_PIC_A) \
		   OBJHEAP_PY_CFLAGS="$(CFLAGS)" $(PYTHON) setup.py -q
# Where `make install` puts it: the directory of $(PREFIX) that the
# interpreter searches (Debian: /usr/local/lib/python3.X/dist-packages
# for /usr/local, /usr/lib/python3/dist-packages for /usr).
PYTHON_SITEDIR	?= $(shell $(PYTHON) python/sitedir.py $(PREFIX) 2>/dev/null)

python: $(LIB_PIC_A)
	$(PY_SETUP) build --build-base=$(CURDIR)/$(BUILD)/python-build \
		--build-lib=$(PY_BUILD)

# The binding over a stand-in for the library (python/tests/fake), for
# scripts/host-tests.sh on a machine without the module: build/python-fake.
FAKE_A		:= $(BUILD)/fake/libobjheap-fake.a

$(FAKE_A): python/tests/fake/fakeheap.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -fPIC -c -o $(BUILD)/fake/fakeheap.o $<
	$(AR) rcs $@ $(BUILD)/fake/fakeheap.o

python-fake: $(FAKE_A)
	cd python && OBJHEAP_PIC_LIB=$(CURDIR)/$(FAKE_A) OBJHEAP_PY_CFLAGS="-O1 -g" \
		$(PYTHON) setup.py -q build --build-base=$(CURDIR)/$(BUILD)/python-fake-build \
		--build-lib=$(CURDIR)/$(BUILD)/python-fake

wheel: $(LIB_PIC_A)
	$(PY_SETUP) egg_info --egg-base=$(CURDIR)/$(BUILD)/python-build \
		build --build-base=$(CURDIR)/$(BUILD)/python-build \
		bdist_wheel --dist-dir=$(CURDIR)/$(BUILD)/python-dist \
		--bdist-dir=$(CURDIR)/$(BUILD)/python-build/wheel
	@ls $(BUILD)/python-dist/*.whl

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(LIB_A) $(LIB_HDRS) \
		   $(SELFTEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -Ikmod -o $@ $< $(LIB_A) -lm

# The manual pages: objheapctl(1), libobjheap(3) and a page (or a .so link)
# per function, objheap(4).  The bulk of objheap(4) is made from the
# kernel-doc comments of the uapi header and the module_param()s of kmod/
# (scripts/gen-man.py), so that it says what they say.
PYTHON		?= python3
MAN_DIR		:= $(BUILD)/man
MAN_SRCS	:= $(wildcard man/man1/*.1 man/man3/*.3) man/man4/objheap.4.in

man: $(MAN_DIR)/.stamp

$(MAN_DIR)/.stamp: $(MAN_SRCS) uapi/linux/objheap.h $(wildcard kmod/*.c) \
		scripts/gen-man.py dkms.conf
	$(PYTHON) scripts/gen-man.py --version $(VERSION) --out $(MAN_DIR)
	touch $@

deps:
	scripts/vm/deps.sh

run: lib examples tools
	scripts/vm/deps.sh --if-missing
	scripts/vm/vm.sh run $(KERNEL)

check:
	scripts/vm/deps.sh --if-missing
	$(MAKE) lib examples tools selftests python $(if $(cc_m32),selftests32)
	scripts/vm/check.sh

check-debug-newest:
	scripts/vm/deps.sh --if-missing
	$(MAKE) lib examples tools selftests python $(if $(cc_m32),selftests32)
	OBJHEAP_KERNELS=debug-sid scripts/vm/check.sh

# The generated tests at length, on Debian's kernel: run_tests.sh reads
# OBJHEAP_STRESS from the kernel command line.  STRESS_ARGS may add
# variables for the tests, e.g. STRESS_ARGS=OBJHEAP_SEED=42.
STRESS_TIMEOUT	?= 14400
STRESS_ARGS	?=

stress:
	scripts/vm/deps.sh --if-missing
	$(MAKE) lib examples tools selftests python
	OBJHEAP_KERNELS=stock VM_TIMEOUT=$(STRESS_TIMEOUT) \
		OBJHEAP_VM_APPEND="OBJHEAP_STRESS=1 $(STRESS_ARGS)" scripts/vm/check.sh

bench: lib examples tools benches python
	scripts/vm/deps.sh --if-missing
	scripts/vm/vm.sh bench $(KERNEL)

count: lib examples tools benches python
	scripts/vm/deps.sh --if-missing
	scripts/vm/count.sh $(KERNEL)

shell: lib examples tools selftests python
	scripts/vm/deps.sh --if-missing
	scripts/vm/vm.sh shell $(KERNEL)

install: modules_install install-lib install-tools install-man install-python

install-tools: tools
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) modules_install

install-lib: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libobjheap.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libobjheap.so
	install -m 644 userlib/include/libobjheap.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 uapi/linux/objheap.h $(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 644 $(LIB_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/

install-man: man
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man4
	install -m 644 $(MAN_DIR)/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN_DIR)/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 $(MAN_DIR)/man4/*.4 $(DESTDIR)$(MANDIR)/man4/

# The built package, copied where the interpreter finds it.
install-python: python
	@test -n "$(PYTHON_SITEDIR)" || { echo "no site directory for $(PREFIX)"; exit 1; }
	install -d $(DESTDIR)$(PYTHON_SITEDIR)/objheap
	install -m 644 $(BUILD)/python/objheap/*.py $(DESTDIR)$(PYTHON_SITEDIR)/objheap/
	install -m 755 $(BUILD)/python/objheap/*.so $(DESTDIR)$(PYTHON_SITEDIR)/objheap/

checkpatch:
	scripts/vm/checkpatch.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf $(BUILD)
