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

# Partial device trees for xl's device_tree=: what libxl 4.18 would add
# for the first generic virtio device, under /passthrough (see
# xl-virtio-rpmb.sh). Phandles 65000 (GIC) and 65001 (IOMMU) are libxl's
# GUEST_PHANDLE_GIC and GUEST_PHANDLE_IOMMU.
partial_dts() {
	local grant=$1
	cat <<-EOF
	/dts-v1/;
	/ {
		#address-cells = <2>;
		#size-cells = <2>;
		passthrough {
			compatible = "simple-bus";
			ranges;
			#address-cells = <2>;
			#size-cells = <2>;
	EOF
	if [ "$grant" = 1 ]; then
		cat <<-EOF
			xen_iommu {
				compatible = "xen,grant-dma";
				#iommu-cells = <1>;
				phandle = <65001>;
			};
		EOF
	fi
	cat <<-EOF
			virtio@2000000 {
				compatible = "virtio,mmio";
				reg = <0x0 0x2000000 0x0 0x200>;
				interrupt-parent = <65000>;
				/* SPI 33, cpumask 0xf, edge rising: libxl's set_interrupt() */
				interrupts = <0x0 0x1 0xf01>;
				dma-coherent;
	EOF
	[ "$grant" = 1 ] && printf '\t\t\tiommus = <65001 0>;\n'
	printf '\t\t};\n\t};\n};\n'
}

make_partial_dtbs() {
	local dir=$1
	mkdir -p "$dir"
	partial_dts 1 >"$RUN_DIR/virtio-rpmb-grant.dts"
	partial_dts 0 >"$RUN_DIR/virtio-rpmb-foreign.dts"
	dtc -q -I dts -O dtb -o "$dir/virtio-rpmb-grant.dtb" "$RUN_DIR/virtio-rpmb-grant.dts"
	dtc -q -I dts -O dtb -o "$dir/virtio-rpmb-foreign.dtb" "$RUN_DIR/virtio-rpmb-foreign.dts"
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

assemble_dom0_initrd() {
	local root=$RUN_DIR/dom0-root f
	rm -rf "$root"
	cp -a "$DOM0_BASE" "$root"
	install -m 0755 "$E2E_DIR/dom0/init" "$root/init"
	# xl complains on every call without it; dom0 has a fixed dom0_mem.
	mkdir -p "$root/etc/xen"
	echo 'autoballoon = "off"' >"$root/etc/xen/xl.conf"
	mkdir -p "$root/lib/e2e-modules" "$root/e2e/domu" "$root/proc" "$root/sys" \
		"$root/dev" "$root/tmp" "$root/run" "$root/usr/local/sbin" \
		"$root/usr/local/bin" "$root/usr/sbin"
	cp "$DOM0_MODDIR"/*.ko "$root/lib/e2e-modules/"
	install -m 0644 "$E2E_DIR/scenarios.sh" "$root/e2e/scenarios.sh"
	install -m 0755 "$E2E_DIR/xl-virtio-rpmb.sh" "$root/usr/local/sbin/xl-virtio-rpmb"
	make_partial_dtbs "$root/usr/local/share/xl-virtio-rpmb"
	cp "$GUEST_KERNEL" "$root/e2e/domu/Image"
	cp "$RUN_DIR/domu-initrd.gz" "$root/e2e/domu/initrd.gz"
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
	check_needed_libs "$root" usr/lib/xen-4.17/bin usr/bin usr/sbin usr/local/bin ||
		die "dom0 root lacks libraries (add their packages to DOM0_PKGS in lib/rootfs.sh)"
	make_cpio "$root" "$RUN_DIR/dom0-initrd.gz"
}
