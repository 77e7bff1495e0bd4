# shellcheck shell=bash disable=SC2034 # (sourced by run.sh; variables are shared)
# Builds the project for arm64, runs the guest helper's build hook and
# assembles the two initramfs images of one run under $RUN_DIR.

ARM64_BUILD=build-arm64

# Sets PROJECT_BIN (dir with the arm64 binaries) and DAEMON (path or "").
build_project() {
	local sysroot key
	PROJECT_BIN=
	DAEMON=
	if [ -n "${E2E_DAEMON:-}" ]; then
		[ -x "$E2E_DAEMON" ] || die "E2E_DAEMON=$E2E_DAEMON is not executable"
		log "E2E_DAEMON: using $E2E_DAEMON instead of building the project"
		DAEMON=$E2E_DAEMON
		return 0
	fi
	if [ "${E2E_NO_DAEMON:-0}" = 1 ]; then
		log "E2E_NO_DAEMON=1: not building the project; backend scenarios will SKIP"
		return 0
	fi
	key=$(cache_key "$REPO/tools/make-sysroot.sh")
	sysroot=$CACHE/sysroot/$key
	SYSROOT_DIR=$sysroot
	if [ ! -e "$sysroot/.complete" ]; then
		log "arm64 sysroot: tools/make-sysroot.sh"
		"$REPO/tools/make-sysroot.sh" "$sysroot" >&2 || die "make-sysroot.sh failed"
	fi
	log "project: cross-building for arm64 (BUILD=$ARM64_BUILD)"
	# pkg-config drops -L for what it thinks are system directories, and the
	# cross linker does not look into the sysroot: name them explicitly.
	make -C "$REPO" -j"$JOBS" CROSS_COMPILE="$CROSS" SYSROOT="$sysroot" \
		LDFLAGS="-L$sysroot/usr/lib/aarch64-linux-gnu -L$sysroot/lib/aarch64-linux-gnu" \
		BUILD="$ARM64_BUILD" all >"$RUN_DIR/project-build.log" 2>&1 ||
		{ tail -n 40 "$RUN_DIR/project-build.log" >&2; die "arm64 build of the project failed (log: $RUN_DIR/project-build.log)"; }
	PROJECT_BIN=$REPO/$ARM64_BUILD
	DAEMON=$PROJECT_BIN/xen-rpmb-backend
	if [ ! -x "$DAEMON" ]; then
		log "WARNING: $ARM64_BUILD/xen-rpmb-backend was not built (no backend/main.c yet?):"
		log "WARNING: the backend scenarios will be reported as SKIP"
		DAEMON=
	fi
}

# Optional hook owned by the guest-side helper: builds the guest program
# and module against our guest kernel tree and puts what the domU needs
# into OUT (copied to /guest/ in the domU; OUT/run.sh is the entry point).
# Sets GUEST_OUT ("" if there is no hook).
build_guest_program() {
	local hook=${E2E_GUEST_BUILD:-$E2E_DIR/guest/build.sh}
	GUEST_OUT=
	if [ ! -f "$hook" ]; then
		log "no $hook: the domU gets no guest program (guest-program scenarios SKIP)"
		return 0
	fi
	GUEST_OUT=$RUN_DIR/guest-out
	rm -rf "$GUEST_OUT"
	mkdir -p "$GUEST_OUT"
	log "guest program: running $hook"
	GUEST_KDIR=$GUEST_KDIR CROSS_COMPILE=$CROSS OUT=$GUEST_OUT ARCH=arm64 \
		REPO=$REPO SYSROOT=$SYSROOT_DIR \
		bash "$hook" >"$RUN_DIR/guest-build.log" 2>&1 ||
		{ tail -n 40 "$RUN_DIR/guest-build.log" >&2; die "$hook failed (log: $RUN_DIR/guest-build.log)"; }
	[ -f "$GUEST_OUT/run.sh" ] ||
		log "WARNING: $hook put no run.sh into OUT"
}

# Helpers that dom0's scenarios run, built against trixie's Xen 4.20
# headers and libxenctrl.so.4.20 (XEN420_SYSROOT). The cross toolchain's
# glibc is Debian 12's, older than trixie's that libxenctrl was linked
# with: the symbols those libraries need from libc are checked at run
# time in dom0 (trixie's libc), not at link time.
build_dom0_helpers() {
	local out=$RUN_DIR/dom0-helpers lib=$XEN420_SYSROOT/usr/lib/aarch64-linux-gnu
	mkdir -p "$out"
	"${CROSS}gcc" -std=gnu11 -O2 -Wall -Wextra -Werror \
		-isystem "$XEN420_SYSROOT/usr/include" \
		-o "$out/domain-destroy-raw" "$E2E_DIR/dom0/domain-destroy-raw.c" \
		-L"$lib" -Wl,-rpath-link,"$lib" -Wl,--allow-shlib-undefined -lxenctrl ||
		die "cannot build dom0/domain-destroy-raw.c"
	# The worker's own handle-opening code (backend/xen-handles.c), built
	# as the daemon is (Debian 12's stable Xen libraries), for the
	# worker-privileges scenario.
	if [ -n "${SYSROOT_DIR:-}" ]; then
		lib=$SYSROOT_DIR/usr/lib/aarch64-linux-gnu
		"${CROSS}gcc" -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE \
			-I"$REPO/backend" -I"$REPO/include" \
			-isystem "$SYSROOT_DIR/usr/include" \
			-isystem "$SYSROOT_DIR/usr/include/aarch64-linux-gnu" \
			-o "$out/restrict-check" "$E2E_DIR/dom0/restrict-check.c" \
			"$REPO/backend/xen-handles.c" \
			-L"$lib" -Wl,-rpath-link,"$lib" -Wl,--allow-shlib-undefined \
			-lxendevicemodel -lxenforeignmemory -lxengnttab ||
			die "cannot build dom0/restrict-check.c"
	fi
	DOM0_HELPERS=$out
}

# copy_needed_libs SRC DST FILE...: copies from root SRC into root DST
# the shared libraries (and the ELF interpreter) that the ELF files need,
# transitively.
copy_needed_libs() {
	local src=$1 dst=$2 todo lib path d done_libs=" "
	shift 2
	todo=$(for f in "$@"; do ${CROSS}readelf -d "$f" 2>/dev/null |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done)
	mkdir -p "$dst/usr/lib/aarch64-linux-gnu" "$dst/lib"
	cp -L "$src/usr/lib/ld-linux-aarch64.so.1" "$dst/lib/"
	while [ -n "$todo" ]; do
		set -- $todo
		lib=$1
		shift
		todo="$*"
		case "$done_libs" in *" $lib "*) continue ;; esac
		done_libs="$done_libs$lib "
		path=
		for d in usr/lib/aarch64-linux-gnu lib/aarch64-linux-gnu; do
			[ -e "$src/$d/$lib" ] && { path=$src/$d/$lib; break; }
		done
		[ -n "$path" ] || continue	# check_needed_libs reports it
		cp -L "$path" "$dst/usr/lib/aarch64-linux-gnu/$lib"
		todo="$todo $(${CROSS}readelf -d "$path" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
	done
}

assemble_domu_initrd() {
	local root=$RUN_DIR/domu-root
	rm -rf "$root"
	cp -a "$DOMU_BASE" "$root"
	install -m 0755 "$E2E_DIR/domu/init" "$root/init"
	mkdir -p "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
	cp -a "$GUEST_MODROOT/lib/modules/." "$root/lib/modules/"
	if [ -n "$GUEST_OUT" ]; then
		mkdir -p "$root/guest"
		cp -a "$GUEST_OUT/." "$root/guest/"
	fi
	make_cpio "$root" "$RUN_DIR/domu-initrd.gz"
}

# The driver domain (scenario driver-domain): the guest kernel (it has
# evtchn, gntdev, privcmd and xenfs built in), busybox, the daemon, the
# xenstore tools and their trixie libraries. "" without a daemon.
assemble_dd_initrd() {
	local root=$RUN_DIR/dd-root
	DD_INITRD=
	[ -n "$DAEMON" ] || return 0
	rm -rf "$root"
	cp -a "$DOMU_BASE" "$root"
	install -m 0755 "$E2E_DIR/dd/init" "$root/init"
	mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/usr/sbin" \
		"$root/usr/bin"
	install -m 0755 "$DAEMON" "$root/usr/sbin/xen-rpmb-backend"
	cp -a "$DOM0_BASE"/usr/bin/xenstore* "$root/usr/bin/"
	printf '%s\n' "$BACKEND_ARGS" >"$root/backend-args"
	copy_needed_libs "$DOM0_BASE" "$root" "$root/usr/sbin/xen-rpmb-backend" \
		"$root/usr/bin/xenstore"
	check_needed_libs "$root" usr/sbin usr/bin ||
		die "driver domain root lacks libraries"
	make_cpio "$root" "$RUN_DIR/dd-initrd.gz"
	DD_INITRD=$RUN_DIR/dd-initrd.gz
}

assemble_dom0_initrd() {
	local root=$RUN_DIR/dom0-root f
	rm -rf "$root"
	cp -a "$DOM0_BASE" "$root"
	install -m 0755 "$E2E_DIR/dom0/init" "$root/init"
	# xl complains on every call without it; dom0 has a fixed dom0_mem.
	mkdir -p "$root/etc/xen/examples"
	echo 'autoballoon = "off"' >"$root/etc/xen/xl.conf"
	# The project's example guest configs, verbatim: the scenarios create
	# their guests from these, overriding only kernel, ramdisk, name,
	# extra, memory and vcpus on xl's command line.
	cp "$REPO"/xl-config/*.cfg "$root/etc/xen/examples/"
	mkdir -p "$root/e2e/domu" "$root/e2e/dd" "$root/proc" "$root/sys" \
		"$root/dev" "$root/tmp" "$root/run" "$root/usr/local/sbin" \
		"$root/usr/local/bin" "$root/usr/sbin" "$root/usr/lib/e2e-modules"
	cp "$DOM0_MODDIR"/*.ko "$root/usr/lib/e2e-modules/"
	install -m 0644 "$E2E_DIR/scenarios.sh" "$root/e2e/scenarios.sh"
	install -m 0755 "$DOM0_HELPERS"/* "$root/usr/local/sbin/"
	cp "$GUEST_KERNEL" "$root/e2e/domu/Image"
	cp "$RUN_DIR/domu-initrd.gz" "$root/e2e/domu/initrd.gz"
	[ -n "$DD_INITRD" ] && cp "$DD_INITRD" "$root/e2e/dd/initrd.gz"
	[ -n "$GUEST_OUT" ] && [ -f "$GUEST_OUT/run.sh" ] && touch "$root/e2e/domu/has-guest-program"
	if [ -n "$DAEMON" ]; then
		install -m 0755 "$DAEMON" "$root/usr/sbin/xen-rpmb-backend"
		# The project's other arm64 programs (rpmb-image, ...) too.
		[ -n "$PROJECT_BIN" ] && for f in "$PROJECT_BIN"/*; do
			[ -f "$f" ] && [ -x "$f" ] && [ "$f" != "$DAEMON" ] &&
				install -m 0755 "$f" "$root/usr/local/bin/"
		done
		printf '%s\n' "$BACKEND_ARGS" >"$root/e2e/backend-args"
	fi
	# shellcheck disable=SC2086 # one name per line
	[ -n "${E2E_ONLY:-}" ] && printf '%s\n' $E2E_ONLY >"$root/e2e/only"
	[ "${E2E_VERBOSE:-0}" = 1 ] && touch "$root/e2e/verbose"
	check_needed_libs "$root" usr/lib/xen-4.20/bin usr/bin usr/sbin usr/local/bin \
		usr/local/sbin ||
		die "dom0 root lacks libraries (add their packages to DOM0_PKGS in lib/rootfs.sh)"
	make_cpio "$root" "$RUN_DIR/dom0-initrd.gz"
}
