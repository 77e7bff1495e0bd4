# xen-rpmb: a virtio-rpmb backend for Xen, with a hypervisor-agnostic core.
#
#   make                       build daemon, tools, library (objects in $(BUILD))
#   make check                 unit tests, then each fuzzer for FUZZ_SECONDS
#   make check SAN=1           the same under AddressSanitizer + UBSan
#   make bench                 benchmarks (prints figures)
#   make fuzz                  build the libFuzzer targets (clang)
#   make e2e                   boot real Xen under QEMU and test end to end
#   make install               DESTDIR, PREFIX, SYSCONFDIR honoured
#   make CROSS_COMPILE=aarch64-linux-gnu- SYSROOT=DIR
#                              cross-build against an arm64 sysroot made by
#                              tools/make-sysroot.sh

VERSION := 0.1.0

CROSS_COMPILE ?=
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
PKG_CONFIG ?= pkg-config
CLANG ?= clang

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DESTDIR ?=

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
else
BUILD ?= build
SAN_FLAGS :=
endif

# A cross build finds its libraries in an extracted arm64 sysroot, because
# Debian's libxen-dev cannot be installed for two architectures at once.
SYSROOT ?=
ifneq ($(SYSROOT),)
SYSROOT_TRIPLET ?= aarch64-linux-gnu
# Passed on the command line: make 4.3 does not export to $(shell).
PKG_ENV := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	   PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(SYSROOT_TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig
SYSROOT_CFLAGS := -isystem $(SYSROOT)/usr/include/$(SYSROOT_TRIPLET)
SYSROOT_LDFLAGS := -Wl,-rpath-link,$(SYSROOT)/usr/lib/$(SYSROOT_TRIPLET) \
		   -Wl,-rpath-link,$(SYSROOT)/lib/$(SYSROOT_TRIPLET)
endif

CFLAGS ?= -O2 -g
WARN_FLAGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	      -Wmissing-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 $(WARN_FLAGS) -D_GNU_SOURCE -Iinclude \
	       -DXEN_RPMB_VERSION='"$(VERSION)"' -MMD -MP $(SAN_FLAGS) $(SYSROOT_CFLAGS)

COMMON_PKGS := libcrypto sqlite3
XEN_PKGS := xenstore xenevtchn xengnttab xendevicemodel xenforeignmemory \
	    xentoollog
SANDBOX_PKGS := libseccomp
TEST_PKGS := cmocka

pkg_cflags = $(shell $(PKG_ENV) $(PKG_CONFIG) --cflags $(1))
pkg_libs = $(shell $(PKG_ENV) $(PKG_CONFIG) --libs $(1))

ALL_CFLAGS = $(BASE_CFLAGS) $(call pkg_cflags,$(COMMON_PKGS)) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(SYSROOT_LDFLAGS) $(LDFLAGS)
COMMON_LIBS = $(call pkg_libs,$(COMMON_PKGS))
XEN_LIBS = $(call pkg_libs,$(XEN_PKGS))
SANDBOX_LIBS = $(call pkg_libs,$(SANDBOX_PKGS))
TEST_LIBS = $(call pkg_libs,$(TEST_PKGS))

COMMON_SRCS := $(sort $(wildcard common/*.c))
# The daemon's parts that call Xen's libraries; the rest of backend/ is
# testable, and linked by tests, without them.
BACKEND_XEN_SRCS := $(addprefix backend/,devices.c guests.c ioreq.c \
		      supervisor.c worker.c xen-handles.c xen-mem.c xs-key.c)
BACKEND_SRCS := $(sort $(filter-out backend/main.c $(BACKEND_XEN_SRCS),$(wildcard backend/*.c)))
TOOL_SRCS := $(sort $(wildcard tools/*.c))
# Client models and frame helpers: tests and the in-guest rpmb-guest
# share them, so they need nothing but OpenSSL.
CLIENTLIB_SRCS := $(sort tests/lib/rpmb-clients.c $(wildcard tests/lib/rc-*.c))
TESTLIB_SRCS := $(sort $(filter-out $(CLIENTLIB_SRCS),$(wildcard tests/lib/*.c)))
TEST_SRCS := $(sort $(wildcard tests/test-*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench-*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/libxenrpmb-common.a
LIBBACKEND := $(BUILD)/libxenrpmb-backend.a
LIBBACKEND_XEN := $(BUILD)/libxenrpmb-backend-xen.a
LIBTEST := $(BUILD)/libxenrpmb-test.a
LIBCLIENTS := $(BUILD)/libxenrpmb-clients.a
DAEMON := $(BUILD)/xen-rpmb-backend
# rpmb-guest-load.c is part of rpmb-guest, not a tool of its own.
TOOLS := $(patsubst tools/%.c,$(BUILD)/%,$(filter-out tools/rpmb-guest-load.c,$(TOOL_SRCS)))
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
BENCHES := $(patsubst tests/%.c,$(BUILD)/tests/%,$(BENCH_SRCS))

FUZZ_BUILD := $(BUILD)/fuzz
FUZZERS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60
FUZZ ?= 1

.PHONY: all check unit-tests bench fuzz fuzz-run e2e install install-unit clean \
	tests benches
.DELETE_ON_ERROR:
# Keep test and tool objects: removing them only costs rebuilds.
.SECONDARY:

all: $(LIBCOMMON) $(if $(wildcard backend/main.c),$(DAEMON)) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter backend/% tests/%,$<),$(call pkg_cflags,$(XEN_PKGS) $(SANDBOX_PKGS))) \
		$(if $(filter tests/% tools/rpmb-guest%,$<),-Itests/lib) \
		$(if $(filter tests/%,$<),-Ibackend -Icommon) \
		$(if $(filter tests/%,$<),$(call pkg_cflags,$(TEST_PKGS))) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBBACKEND): $(call obj,$(BACKEND_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBBACKEND_XEN): $(call obj,$(BACKEND_XEN_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBTEST): $(call obj,$(TESTLIB_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBCLIENTS): $(call obj,$(CLIENTLIB_SRCS))
	@rm -f $@
	$(AR) rcs $@ $^

$(DAEMON): $(call obj,backend/main.c) $(LIBBACKEND_XEN) $(LIBBACKEND) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(XEN_LIBS) $(SANDBOX_LIBS) $(COMMON_LIBS) -lpthread

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(COMMON_LIBS) -lpthread

# The guest-side test program drives devices with the client models.
$(BUILD)/rpmb-guest: $(BUILD)/obj/tools/rpmb-guest.o \
		$(BUILD)/obj/tools/rpmb-guest-load.o $(LIBCLIENTS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(COMMON_LIBS) -lpthread

# Every test may use the test helpers, the backend's Xen-independent parts
# and the shared code; the linker keeps only what each one needs. No test
# links Xen's libraries.
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIBTEST) $(LIBCLIENTS) $(LIBBACKEND) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS) $(SANDBOX_LIBS) $(COMMON_LIBS) -lpthread

tests: $(TESTS) $(TOOLS)
benches: $(BENCHES)

unit-tests: tests
	@BUILD=$(BUILD) tests/run-tests.sh $(TESTS) $(sort $(wildcard tests/test-*.sh))

check: unit-tests
ifeq ($(FUZZ),1)
	@$(MAKE) --no-print-directory fuzz-run
endif

bench: $(BENCHES) $(TOOLS)
	@set -e; for b in $(BENCHES); do sync; echo "== $$b"; BUILD=$(BUILD) $$b; done

# libFuzzer targets: the shared code rebuilt with clang and coverage
# instrumentation, always under ASan + UBSan.
FUZZ_CFLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
fuzz:
	@$(MAKE) --no-print-directory CC=$(CLANG) SAN=0 BUILD=$(FUZZ_BUILD)/lib \
		CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_BUILD)/lib/libxenrpmb-common.a \
		$(FUZZ_BUILD)/lib/libxenrpmb-test.a $(FUZZ_BUILD)/lib/libxenrpmb-clients.a
	@$(MAKE) --no-print-directory $(FUZZERS)

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_BUILD)/lib/libxenrpmb-common.a
	@mkdir -p $(dir $@)
	$(CLANG) $(BASE_CFLAGS) -Itests/lib -MF $@.d $(call pkg_cflags,$(COMMON_PKGS)) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -O1 -g -o $@ $< \
		$(FUZZ_BUILD)/lib/libxenrpmb-test.a \
		$(FUZZ_BUILD)/lib/libxenrpmb-clients.a \
		$(FUZZ_BUILD)/lib/libxenrpmb-common.a $(COMMON_LIBS)

fuzz-run: fuzz
	@tests/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZERS)

# The end-to-end test cross-builds the project itself; variables given
# to this make (SAN=1, BUILD=...) must not leak into that build.
e2e:
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SAN -u BUILD bash tests/e2e/run.sh

install: all install-unit
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/xen
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(filter-out $(BUILD)/rpmb-guest,$(TOOLS)) $(DESTDIR)$(BINDIR)/
	$(if $(wildcard backend/*.8),install -m 0644 $(wildcard backend/*.8) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(wildcard tools/*.1),install -d $(DESTDIR)$(MANDIR)/man1 && install -m 0644 $(wildcard tools/*.1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(wildcard backend/xen-rpmb-backend.conf),test -e $(DESTDIR)$(SYSCONFDIR)/xen/xen-rpmb-backend.conf || install -m 0644 backend/xen-rpmb-backend.conf $(DESTDIR)$(SYSCONFDIR)/xen/)

# The unit and the workers' user (systemd-sysusers creates it).
install-unit:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		backend/xen-rpmb-backend.service > $(DESTDIR)$(SYSTEMDUNITDIR)/xen-rpmb-backend.service
	install -m 0644 backend/xen-rpmb.sysusers $(DESTDIR)$(SYSUSERSDIR)/xen-rpmb.conf

clean:
	rm -rf build build-san build-arm64 $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
